"""Parity with scikit-learn's MLPClassifier / MLPRegressor, checked against scikit-learn itself.

The loss and its gradient are compared with scikit-learn's own ``_backprop``; whole training
runs (same random_state) are compared weight by weight: tinynet starts from scikit-learn's
initial weights, draws the same batches and follows the same rules, so SGD and L-BFGS agree
to rounding and Adam to its epsilon convention.
"""

import inspect
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

OURS = {MLPClassifier: NeuralNetClassifier, MLPRegressor: NeuralNetRegressor}


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X)[:300], y[:300]


def fit_both(sklearn_class, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = sklearn_class(**params).fit(X, y)
        ours = OURS[sklearn_class](**params).fit(X, y)
    return reference, ours


def max_weight_difference(a, b) -> float:
    pairs = list(zip(a.coefs_, b.coefs_)) + list(zip(a.intercepts_, b.intercepts_))
    return max(float(np.abs(p - q).max()) for p, q in pairs)


# -- the objective ---------------------------------------------------------------------------
def sklearn_backprop(mlp, X, Y, sample_weight):
    activations = [X] + [None] * (mlp.n_layers_ - 1)
    deltas = [None] * (mlp.n_layers_ - 1)
    coef_grads = [np.empty_like(c) for c in mlp.coefs_]
    intercept_grads = [np.empty_like(b) for b in mlp.intercepts_]
    return mlp._backprop(X, Y, sample_weight, activations, deltas, coef_grads, intercept_grads)


TARGETS = ["multiclass", "binary", "multilabel", "squared_error", "poisson"]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("target", TARGETS)
def test_loss_and_gradient_equal_scikit_learns(target, weighted):
    rng = np.random.RandomState(0)
    X = rng.randn(40, 5)
    y = {
        "multiclass": rng.randint(0, 3, 40),
        "binary": rng.randint(0, 2, 40),
        "multilabel": rng.randint(0, 2, (40, 3)),
        "squared_error": rng.randn(40),
        "poisson": rng.poisson(2.0, 40).astype(float),
    }[target]
    sample_weight = rng.uniform(0, 3, 40) if weighted else None
    params = dict(hidden_layer_sizes=(6, 4), activation="tanh", alpha=0.3, solver="lbfgs")
    params.update(max_iter=2, random_state=0)
    if target in ("squared_error", "poisson"):
        params["loss"] = target
        reference, ours = fit_both(MLPRegressor, X, y, **params)
        Y = y.reshape(-1, 1)
        Y_sklearn = Y
    else:
        reference, ours = fit_both(MLPClassifier, X, y, **params)
        Y = ours._label_binarizer.transform(y)
        Y_sklearn = Y.astype(bool)
    # Evaluate both at the same (our) weights.
    reference.coefs_ = [c.copy() for c in ours.coefs_]
    reference.intercepts_ = [b.copy() for b in ours.intercepts_]
    loss, coef_grads, intercept_grads = sklearn_backprop(reference, X, Y_sklearn, sample_weight)

    value = ours._full_batch_objective(X, ours._encode_targets(Y).astype(float), sample_weight)
    grads = [p.grad.data for p in ours.module_.parameters()]
    assert value == pytest.approx(loss, rel=1e-12, abs=1e-14)
    for ours_grad, expected in zip(grads[0::2], coef_grads):
        np.testing.assert_allclose(ours_grad.T, expected, rtol=1e-10, atol=1e-14)
    for ours_grad, expected in zip(grads[1::2], intercept_grads):
        np.testing.assert_allclose(ours_grad, expected, rtol=1e-10, atol=1e-14)


# -- whole training runs ---------------------------------------------------------------------
EXACT_RUNS = {
    "lbfgs": dict(solver="lbfgs", max_iter=25),
    "sgd": dict(solver="sgd", max_iter=40, learning_rate_init=0.05),
    "sgd-invscaling": dict(
        solver="sgd", max_iter=60, learning_rate="invscaling", learning_rate_init=0.5
    ),
    "sgd-adaptive": dict(
        solver="sgd", max_iter=300, learning_rate="adaptive", learning_rate_init=0.1
    ),
    "sgd-plain-unshuffled": dict(
        solver="sgd", max_iter=30, shuffle=False, batch_size=32, nesterovs_momentum=False
    ),
    "sgd-no-momentum": dict(solver="sgd", max_iter=30, momentum=0.0, alpha=0.01, batch_size=50),
}


@pytest.mark.parametrize("name", list(EXACT_RUNS))
def test_sgd_and_lbfgs_runs_equal_scikit_learns(iris, name):
    X, y = iris
    reference, ours = fit_both(
        MLPClassifier, X, y, hidden_layer_sizes=(10,), random_state=1, **EXACT_RUNS[name]
    )
    assert ours.n_iter_ == reference.n_iter_
    assert max_weight_difference(reference, ours) < 1e-9
    if hasattr(reference, "loss_curve_"):
        np.testing.assert_allclose(ours.loss_curve_, reference.loss_curve_, rtol=1e-10)
        assert ours.best_loss_ == pytest.approx(reference.best_loss_, rel=1e-10)
        assert ours.t_ == reference.t_
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-9)


def test_early_stopping_run_equals_scikit_learns(cancer):
    # Binary targets: scikit-learn stratifies its validation split exactly as we do.
    X, y = cancer
    reference, ours = fit_both(
        MLPClassifier,
        X,
        y,
        hidden_layer_sizes=(10,),
        solver="sgd",
        early_stopping=True,
        learning_rate_init=0.01,
        max_iter=300,
        random_state=1,
    )
    assert ours.n_iter_ == reference.n_iter_ < 300
    assert ours.validation_scores_ == reference.validation_scores_
    assert ours.best_validation_score_ == reference.best_validation_score_
    assert ours.best_loss_ is None and reference.best_loss_ is None
    # The best weights (not the last ones) are restored, as scikit-learn does.
    assert max_weight_difference(reference, ours) < 1e-9


def test_adam_run_follows_scikit_learn(iris):
    # Adam differs only in where epsilon enters (PyTorch's form): 1e-8 scale differences.
    X, y = iris
    reference, ours = fit_both(
        MLPClassifier, X, y, hidden_layer_sizes=(10,), learning_rate_init=0.01, max_iter=60,
        random_state=1,
    )  # fmt: skip
    assert ours.n_iter_ == reference.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, reference.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressor_runs_equal_scikit_learns(loss):
    rng = np.random.RandomState(0)
    X = rng.randn(120, 4)
    y = np.exp(0.5 * X[:, 0]) + rng.poisson(1.0, 120) if loss == "poisson" else X @ [1, -2, 0, 3]
    for solver in ("lbfgs", "sgd"):
        reference, ours = fit_both(
            MLPRegressor, X, y, loss=loss, hidden_layer_sizes=(8,), solver=solver,
            learning_rate_init=0.01, max_iter=30, random_state=0,
        )  # fmt: skip
        assert ours.n_iter_ == reference.n_iter_
        assert ours.out_activation_ == reference.out_activation_
        assert max_weight_difference(reference, ours) < 1e-8
        np.testing.assert_allclose(ours.predict(X), reference.predict(X), rtol=1e-8)


def test_partial_fit_and_warm_start_equal_scikit_learns(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(10,), solver="sgd", learning_rate_init=0.05, random_state=3)
    reference, ours = MLPClassifier(**params), NeuralNetClassifier(**params)
    for start in range(0, 150, 50):
        part = slice(start, start + 50)
        reference.partial_fit(X[part], y[part], classes=[0, 1, 2])
        ours.partial_fit(X[part], y[part], classes=[0, 1, 2])
    assert ours.n_iter_ == reference.n_iter_ == 1
    assert ours.t_ == reference.t_ == 150
    assert max_weight_difference(reference, ours) < 1e-12

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = MLPClassifier(warm_start=True, max_iter=5, **params).fit(X, y).fit(X, y)
        ours = NeuralNetClassifier(warm_start=True, max_iter=5, **params).fit(X, y).fit(X, y)
    assert len(ours.loss_curve_) == len(reference.loss_curve_) == 10
    assert max_weight_difference(reference, ours) < 1e-12


def test_fitted_attributes_equal_scikit_learns(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    reference, ours = fit_both(
        MLPClassifier,
        frame,
        y,
        hidden_layer_sizes=(5, 3),
        solver="sgd",
        max_iter=20,
        random_state=0,
    )
    for name in ["n_features_in_", "n_iter_", "n_layers_", "n_outputs_", "out_activation_", "t_"]:
        assert getattr(ours, name) == getattr(reference, name), name
    for name in ["classes_", "feature_names_in_"]:
        np.testing.assert_array_equal(getattr(ours, name), getattr(reference, name))
    assert ours.loss_ == pytest.approx(reference.loss_, rel=1e-10)
    assert ours.validation_scores_ is None and ours.best_validation_score_ is None
    assert [c.shape for c in ours.coefs_] == [(4, 5), (5, 3), (3, 3)]
    assert [b.shape for b in ours.intercepts_] == [(5,), (3,), (3,)]


@pytest.mark.parametrize("sklearn_class", [MLPClassifier, MLPRegressor])
def test_constructor_is_a_superset_of_scikit_learns(sklearn_class):
    theirs = inspect.signature(sklearn_class.__init__).parameters
    ours = inspect.signature(OURS[sklearn_class].__init__).parameters
    names = list(ours)
    assert names[: len(theirs)] == list(theirs)  # same order, so positional calls agree
    for name, parameter in theirs.items():
        assert ours[name].default == parameter.default, name
        assert ours[name].kind == parameter.kind, name
    extras = set(ours) - set(theirs)
    assert {"dropout", "optimizer", "module", "validation_data", "callbacks", "dtype"} <= extras


def test_verbose_prints_scikit_learns_lines(iris, capsys):
    X, y = iris
    params = dict(hidden_layer_sizes=(10,), solver="sgd", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(verbose=True, **params).fit(X, y)
        expected = capsys.readouterr().out.splitlines()
        NeuralNetClassifier(verbose=True, **params).fit(X, y)
        printed = capsys.readouterr().out.splitlines()
    assert len(printed) == len(expected) == 5
    for ours, theirs in zip(printed, expected):
        pattern = r"Iteration (\d+), loss = (\d+\.\d{8})$"
        ((ours_iteration, ours_loss),) = re.findall(pattern, ours)
        ((iteration, loss),) = re.findall(pattern, theirs)
        assert ours_iteration == iteration
        assert float(ours_loss) == pytest.approx(float(loss), abs=2e-8)


def test_stopping_messages_and_convergence_warnings(iris, capsys):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        NeuralNetClassifier((5,), max_iter=3, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        NeuralNetClassifier((5,), solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # converging runs warn nothing
        NeuralNetClassifier((5,), solver="sgd", tol=0.5, verbose=True, random_state=0).fit(X, y)
    assert (
        "Training loss did not improve more than tol=0.500000 for 10 consecutive epochs. "
        "Stopping." in capsys.readouterr().out
    )
