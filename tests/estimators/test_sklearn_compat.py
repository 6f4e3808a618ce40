"""The scikit-learn private helpers of ``tinynet.estimators._sklearn``: the installed version
is one the suite supports, and each helper still does what the estimators rely on."""

import re
import warnings
from numbers import Real
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor
from tinynet.estimators._base import BaseNeuralNet
from tinynet.estimators._sklearn import (
    SUPPORTED_VERSIONS,
    Interval,
    StrOptions,
    check_optimize_result,
    check_sample_weight,
    fit_context,
    sklearn_version,
)

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_installed_scikit_learn_is_in_the_supported_range():
    first, past = SUPPORTED_VERSIONS
    assert first <= sklearn_version() < past, (
        f"scikit-learn {sklearn_version()} is outside {SUPPORTED_VERSIONS}: check the private "
        "imports of tinynet/estimators/_sklearn.py, then widen SUPPORTED_VERSIONS"
    )


def test_the_lower_bound_is_pyprojects():
    declared = re.search(r'"scikit-learn>=(\d+)\.(\d+)', PYPROJECT.read_text(encoding="utf-8"))
    assert declared is not None
    assert (int(declared[1]), int(declared[2])) == SUPPORTED_VERSIONS[0]


def test_check_sample_weight_gives_one_float_per_sample():
    X = np.zeros((3, 2))
    np.testing.assert_array_equal(check_sample_weight(None, X, dtype=np.float64), np.ones(3))
    np.testing.assert_array_equal(check_sample_weight(2.0, X, dtype=np.float64), [2.0] * 3)
    with pytest.raises(ValueError):
        check_sample_weight(np.ones(4), X)


def test_check_optimize_result_counts_iterations_and_warns_when_not_converged():
    result = minimize(lambda v: float((v**2).sum()), np.ones(2), method="L-BFGS-B")
    assert check_optimize_result("lbfgs", result, 100) == result.nit
    stopped = minimize(
        lambda v: float(((v - 3) ** 4).sum()), np.zeros(2), method="L-BFGS-B",
        options={"maxiter": 1},
    )  # fmt: skip
    with pytest.warns(ConvergenceWarning):
        check_optimize_result("lbfgs", stopped, 1)


def test_fit_context_validates_the_parameter_constraints():
    class Toy(BaseEstimator):
        _parameter_constraints = {
            "alpha": [Interval(Real, 0, None, closed="left")],
            "kind": [StrOptions({"a", "b"})],
        }

        def __init__(self, alpha=1.0, kind="a"):
            self.alpha, self.kind = alpha, kind

        @fit_context(prefer_skip_nested_validation=True)
        def fit(self, X, y=None):
            return self

    Toy().fit(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="alpha"):
        Toy(alpha=-1.0).fit(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="kind"):
        Toy(kind="c").fit(np.zeros((2, 1)))


def test_the_base_class_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        BaseNeuralNet()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        NeuralNetRegressor(hidden_layer_sizes=(2,), max_iter=2).fit(np.eye(3), np.arange(3.0))
        NeuralNetClassifier(hidden_layer_sizes=(2,), max_iter=2).fit(np.eye(3), [0, 1, 0])
