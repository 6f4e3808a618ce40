"""Training that diverges behaves as scikit-learn's MLP: early stopping keeps the best
validation weights and warns; otherwise fit raises with scikit-learn's sentence."""

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier, MLPRegressor

from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

SKLEARN_SENTENCE = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)
DIVERGING = {"hidden_layer_sizes": (8,), "solver": "sgd", "learning_rate_init": 50.0}


@pytest.fixture(autouse=True)
def _no_overflow_noise():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow warnings
        yield


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    return X, X @ np.array([1.0, 2.0, 3.0])


def test_early_stopping_restores_the_best_weights_and_warns(data):
    X, y = data
    reg = NeuralNetRegressor(**DIVERGING, early_stopping=True, max_iter=30, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"Training diverged: the loss became .* restored"):
        reg.fit(X, y)
    assert all(np.isfinite(w).all() for w in reg.coefs_ + reg.intercepts_)
    assert np.isfinite(reg.predict(X)).all()
    assert reg.n_iter_ < 30  # it stopped at the divergence
    # scikit-learn's MLP also finishes with finite, best-validation weights
    sk = MLPRegressor(**DIVERGING, early_stopping=True, max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert np.isfinite(sk.fit(X, y).predict(X)).all()


def test_a_grid_search_over_learning_rates_scores_every_candidate(data):
    X, y = data
    search = GridSearchCV(
        NeuralNetRegressor(hidden_layer_sizes=(8,), solver="sgd", early_stopping=True,
                           max_iter=20, random_state=0),
        {"learning_rate_init": [1e-2, 50.0]}, cv=2, error_score="raise",
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_ == {"learning_rate_init": 1e-2}


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_without_early_stopping_fit_raises_with_scikit_learns_sentence(data, solver):
    X, y = data
    params = {**DIVERGING, "solver": solver, "learning_rate_init": 1e4, "max_iter": 30}
    with pytest.raises(ValueError, match=re.escape(SKLEARN_SENTENCE)) as error:
        NeuralNetRegressor(**params, random_state=0).fit(X * 1e200, y * 1e200)
    assert "Training diverged" in str(error.value)
    # the sentence is scikit-learn's own: its MLP raises it for the same run
    with pytest.raises(ValueError, match=re.escape(SKLEARN_SENTENCE)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            MLPRegressor(**params, random_state=0).fit(X * 1e200, y * 1e200)


def test_early_stopping_with_a_one_member_class_raises_as_scikit_learn():
    X = np.arange(40.0).reshape(20, 2)
    y = np.array([0] * 19 + [1])  # binary, class 1 has one member: no stratified split
    with pytest.raises(ValueError) as ours:
        NeuralNetClassifier((4,), early_stopping=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError) as theirs:
        MLPClassifier((4,), early_stopping=True, random_state=0).fit(X, y)
    # the same sentences; the class listed is each library's own encoding of label 1
    prefix = "Classes with too few members are:"
    assert str(ours.value).split(prefix)[0] == str(theirs.value).split(prefix)[0]
    assert "least populated class" in str(ours.value) and prefix in str(ours.value)
    # tinynet also stratifies multiclass splits: the same error, never a silent fallback
    y = np.array([0] * 10 + [1] * 9 + [2])
    with pytest.raises(ValueError, match="least populated class"):
        NeuralNetClassifier((4,), early_stopping=True, random_state=0).fit(X, y)
