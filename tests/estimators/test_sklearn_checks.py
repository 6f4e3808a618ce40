"""scikit-learn's own estimator checks, every one of them, with no expected failures declared."""

import os
import pickle
import subprocess
import sys
import textwrap

import pytest
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks
from threadpoolctl import threadpool_limits

from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

# Small networks and few epochs keep the ~330 checks fast; the learning rates are high enough
# for the checks that demand a decent fit (accuracy > 0.83, R^2 > 0.5) to pass honestly.
CHECKED = [
    NeuralNetClassifier((8,), max_iter=30, learning_rate_init=0.05, random_state=0),
    NeuralNetRegressor(
        hidden_layer_sizes=(8,), max_iter=30, learning_rate_init=0.05, random_state=0
    ),
    NeuralNetClassifier((8,), solver="lbfgs", max_iter=30, random_state=0),
    NeuralNetRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0),
    # tinynet's additions go through the same checks.
    NeuralNetClassifier(
        (8, 4),
        activation=["gelu", "tanh"],
        optimizer="adamw",
        class_weight="balanced",
        max_iter=30,
        learning_rate_init=0.05,
        random_state=0,
    ),
]


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # OpenBLAS's thread wake-ups cost more than these tiny products (L-BFGS 3x slower).
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@parametrize_with_checks(CHECKED)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", CHECKED, ids=lambda e: type(e).__name__)
def test_parameter_validation(estimator):
    # sklearn's test_common check: every parameter has a constraint and bad values raise
    # InvalidParameterError from fit and partial_fit.
    check_param_validation(type(estimator).__name__, estimator)


def test_array_api_check_with_scipy_array_api_enabled():
    # parametrize_with_checks skips check_array_api_input unless SCIPY_ARRAY_API=1 was set
    # before SciPy was imported: run it, for every checked estimator, in a fresh interpreter.
    code = textwrap.dedent(
        """
        import pickle, sys, warnings
        from sklearn.utils.estimator_checks import check_array_api_input
        warnings.simplefilter("ignore")
        for estimator in pickle.loads(sys.stdin.buffer.read()):
            check_array_api_input(
                type(estimator).__name__, estimator, array_namespace="numpy",
                expect_only_array_outputs=False,
            )
        print("passed")
        """
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1", "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=pickle.dumps(CHECKED),
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == "passed"
