"""scikit-learn's own estimator checks, every one of them, with no expected failures declared."""

import os
import pickle
import subprocess
import sys
import textwrap
from functools import partial

import pytest
from sklearn.utils.estimator_checks import (
    check_param_validation,
    estimator_checks_generator,
    parametrize_with_checks,
)
from threadpoolctl import threadpool_limits

from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor
from tinynet.optim.lr_scheduler import StepLR

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


# solver='newton-cg' (tinynet's addition): a newton-cg fit costs a few times an L-BFGS fit, so
# these instances run the checks that exercise fitting (the whole set would add ~30 s;
# it passes).
SECOND_ORDER = [
    NeuralNetClassifier((8,), solver="newton-cg", max_iter=30, random_state=0),
    NeuralNetRegressor(hidden_layer_sizes=(8,), solver="newton-cg", max_iter=30, random_state=0),
]
FITTING_CHECKS = {
    "check_classifiers_train",
    "check_regressors_train",
    "check_fit_idempotent",
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
    "check_classifiers_one_label_sample_weights",
    "check_fit2d_1sample",
    "check_fit2d_1feature",
    "check_non_transformer_estimators_n_iter",
}


def _check_name(check) -> str:
    return (check.func if isinstance(check, partial) else check).__name__


SECOND_ORDER_CASES = [
    (estimator, check)
    for model in SECOND_ORDER
    for estimator, check in estimator_checks_generator(model)
    # The plain variant of each (not the read-only-memmap and float32 repeats).
    if _check_name(check) in FITTING_CHECKS and not getattr(check, "keywords", None)
]


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # OpenBLAS's thread wake-ups cost more than these tiny products (L-BFGS 3x slower).
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# The optimizers added by name (and a learning-rate schedule): the fitting checks and the
# parameter validation, which the first-order loop they share with adam already passes whole.
NEW_OPTIMIZERS = [
    NeuralNetClassifier(
        (8,), optimizer="nadam", lr_scheduler=partial(StepLR, step_size=10, gamma=0.5),
        max_iter=30, learning_rate_init=0.05, random_state=0,
    ),
    NeuralNetRegressor(hidden_layer_sizes=(8,), optimizer="rprop", max_iter=30, random_state=0),
]  # fmt: skip
NEW_OPTIMIZER_CASES = [
    (estimator, check)
    for model in NEW_OPTIMIZERS
    for estimator, check in estimator_checks_generator(model)
    if _check_name(check) in FITTING_CHECKS | {"check_estimators_pickle"}
    and not getattr(check, "keywords", None)
]


@parametrize_with_checks(CHECKED)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator, check",
    SECOND_ORDER_CASES,
    ids=[f"{type(e).__name__}-newton-cg-{_check_name(c)}" for e, c in SECOND_ORDER_CASES],
)
def test_sklearn_fitting_checks_with_newton_cg(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator, check",
    NEW_OPTIMIZER_CASES,
    ids=[f"{type(e).__name__}-{e.optimizer}-{_check_name(c)}" for e, c in NEW_OPTIMIZER_CASES],
)
def test_sklearn_fitting_checks_with_the_new_optimizers(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", CHECKED + NEW_OPTIMIZERS, ids=lambda e: type(e).__name__)
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
