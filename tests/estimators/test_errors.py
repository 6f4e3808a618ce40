"""Bad input is refused as scikit-learn refuses it; diverging training fails cleanly."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

ESTIMATORS = [NeuralNetClassifier, NeuralNetRegressor]
X = np.random.RandomState(0).randn(30, 3)
y = np.arange(30) % 3


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def small(cls, **params):
    params = {"max_iter": 3, "random_state": 0, **params}
    if cls is NeuralNetClassifier:
        return cls((4,), **params)
    return cls(hidden_layer_sizes=(4,), **params)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_refused(cls, value):
    bad = X.copy()
    bad[3, 1] = value
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        small(cls).fit(bad, y)
    fitted = small(cls).fit(X, y)
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        fitted.predict(bad)
    bad_y = y.astype(float)
    bad_y[0] = value
    with pytest.raises(ValueError, match="Input y contains"):
        small(cls).fit(X, bad_y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_shapes_are_checked(cls):
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        small(cls).fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        small(cls).fit(X[:, 0], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        small(cls).fit(X, y[:-1])
    fitted = small(cls).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 3 features"):
        fitted.predict(X[:, :2])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        fitted.predict(X[0])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_predicting_before_fit_raises_not_fitted(cls):
    estimator = small(cls)
    methods = ["predict", "score"] + (
        ["predict_proba", "predict_log_proba"] if cls is NeuralNetClassifier else []
    )
    for method in methods:
        with pytest.raises(NotFittedError):
            args = (X, y) if method == "score" else (X,)
            getattr(estimator, method)(*args)
    with pytest.raises(NotFittedError):
        estimator.save("never.tnn")


def test_classifier_refuses_continuous_targets():
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        small(NeuralNetClassifier).fit(X, X[:, 0])


def test_invalid_parameters_raise_when_fitting_not_when_constructing():
    estimator = NeuralNetClassifier(hidden_layer_sizes=(0,), alpha=-1, solver="newton")
    assert estimator.alpha == -1  # __init__ stores, it never validates
    with pytest.raises(InvalidParameterError, match="'alpha' parameter of NeuralNetClassifier"):
        estimator.fit(X, y)
    with pytest.raises(InvalidParameterError, match="'optimizer' parameter"):
        NeuralNetRegressor(optimizer="lion").fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be > 0"):
        NeuralNetClassifier(hidden_layer_sizes=(4, 0)).fit(X, y)
    with pytest.raises(ValueError, match="validation_data must be a tuple"):
        small(NeuralNetClassifier, validation_data=(X,)).fit(X, y)


@pytest.mark.parametrize("sizes", [(5.5,), (4.0,), (True,), (4, True)])
def test_non_integer_hidden_sizes_raise_type_error_as_scikit_learn(sizes):
    from sklearn.neural_network import MLPClassifier

    with pytest.raises(TypeError):
        MLPClassifier(hidden_layer_sizes=sizes, max_iter=1).fit(X, y)
    with pytest.raises(TypeError, match="hidden_layer_sizes must hold integers"):
        NeuralNetClassifier(hidden_layer_sizes=sizes, max_iter=1).fit(X, y)


def test_numpy_integer_hidden_sizes_are_accepted():
    clf = NeuralNetRegressor(hidden_layer_sizes=np.array([4, 3]), max_iter=2).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(3, 4), (4, 3), (3, 1)]


def test_partial_fit_rules():
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        small(NeuralNetClassifier).partial_fit(X, y)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        small(NeuralNetRegressor, early_stopping=True).partial_fit(X, y)
    lbfgs = small(NeuralNetClassifier, solver="lbfgs")
    assert not hasattr(lbfgs, "partial_fit")
    assert hasattr(lbfgs.set_params(optimizer="adam"), "partial_fit")
    clf = small(NeuralNetClassifier).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
        clf.partial_fit(X, y + 1)
    with pytest.raises(ValueError, match="X has 2 features"):
        clf.partial_fit(X[:, :2], y)


def test_warm_start_rules():
    clf = small(NeuralNetClassifier, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same"):
        clf.fit(X, y % 2)
    with pytest.raises(ValueError, match="hidden layers are \\[4\\], but hidden_layer_sizes"):
        clf.set_params(hidden_layer_sizes=(5,)).fit(X, y)
    reg = small(NeuralNetRegressor, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="fitted for 1 outputs, but y now has 2"):
        reg.fit(X, np.c_[y, y])


def test_poisson_needs_non_negative_targets():
    with pytest.raises(ValueError, match="negative which is not allowed for Poisson"):
        small(NeuralNetRegressor, loss="poisson").fit(X, y - 1.0)


def test_validation_data_with_unknown_classes_is_refused():
    with pytest.raises(ValueError, match="validation_data has classes \\[7\\]"):
        small(NeuralNetClassifier, validation_data=(X[:5], [0, 1, 2, 7, 0])).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features"):
        small(NeuralNetClassifier, validation_data=(X[:5, :2], y[:5])).fit(X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_divergence_raises_and_keeps_finite_weights(solver):
    # Huge unscaled inputs and a huge learning rate overflow the network.
    rng = np.random.RandomState(0)
    X_big = rng.randn(50, 3) * 1e200
    y_big = rng.randn(50) * 1e100
    reg = NeuralNetRegressor(
        hidden_layer_sizes=(8,), solver=solver, learning_rate_init=10.0, max_iter=20,
        random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow warnings
        with pytest.raises(ValueError, match="(?s)Training diverged.*last finite weights"):
            reg.fit(X_big, y_big)
    assert all(np.isfinite(w).all() for w in reg.coefs_ + reg.intercepts_)
    # The next fit starts afresh (a new optimizer) and works on sane data.
    assert np.isfinite(reg.set_params(learning_rate_init=1e-3).fit(X, y).loss_)


def test_lbfgs_never_accepts_non_finite_weights():
    # L-BFGS's line search rejects non-finite losses; the weights stay finite either way.
    rng = np.random.RandomState(0)
    reg = NeuralNetRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            reg.fit(rng.randn(50, 3) * 1e150, rng.randn(50) * 1e150)
        except ValueError as error:
            assert "Training diverged" in str(error)
    assert all(np.isfinite(w).all() for w in reg.coefs_ + reg.intercepts_)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_negative_sample_weights_are_refused(cls):
    # Deliberate (docs/estimators.md): scikit-learn 1.9's MLP accepts them, and a negative
    # weight makes the loss unbounded below; zero weights stay allowed.
    weights = np.ones(len(X))
    weights[0] = -1.0
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        small(cls).fit(X, y, sample_weight=weights)
    weights[0] = 0.0
    small(cls).fit(X, y, sample_weight=weights)


def test_regressor_has_no_partial_fit_with_lbfgs_like_the_classifier():
    # scikit-learn documents partial_fit for the stochastic solvers only; its MLPRegressor
    # exposes it for lbfgs anyway (a missing call in its availability check).
    assert not hasattr(small(NeuralNetRegressor, solver="lbfgs"), "partial_fit")
    assert hasattr(small(NeuralNetRegressor, solver="sgd"), "partial_fit")


def test_regressor_refuses_sparse_targets_with_scikit_learns_message():
    import scipy.sparse as sp
    from sklearn.utils import check_array

    Y = sp.csr_matrix(np.c_[X[:, 0], X[:, 1]])
    with pytest.raises(TypeError) as expected:
        check_array(Y, accept_sparse=False, input_name="y")
    for call in ("fit", "partial_fit"):
        with pytest.raises(TypeError) as got:
            getattr(small(NeuralNetRegressor), call)(X, Y)
        assert str(got.value) == str(expected.value)
