"""A scikit-learn user's habits, side by side: each one runs on scikit-learn's MLP and on
tinynet's estimator and must end the same way (the same result, warnings and exception
type and message). Deliberate differences are in docs/estimators.md and tested where the
feature is (test_errors.py, test_features.py)."""

import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

pd = pytest.importorskip("pandas")

rng = np.random.RandomState(0)
X = rng.randn(30, 3)
y = np.arange(30) % 3
y_reg = X @ [1.0, -2.0, 0.5]
SMALL = {"hidden_layer_sizes": (4,), "max_iter": 3, "random_state": 0}
PAIRS = {"clf": (MLPClassifier, NeuralNetClassifier), "reg": (MLPRegressor, NeuralNetRegressor)}


def frame(a, names=("a", "b", "c")):
    return pd.DataFrame(a, columns=list(names))


HABITS = {
    # parameters: validated at fit, with scikit-learn's exception
    "alpha < 0": ("clf", lambda E: E(alpha=-1).fit(X, y)),
    "max_iter = 0": ("clf", lambda E: E(max_iter=0).fit(X, y)),
    "max_iter float": ("reg", lambda E: E(max_iter=2.0).fit(X, y_reg)),
    "validation_fraction = 1": ("clf", lambda E: E(validation_fraction=1.0).fit(X, y)),
    "momentum > 1": ("clf", lambda E: E(momentum=1.5).fit(X, y)),
    "random_state Generator": ("reg", lambda E: E(random_state=np.random.default_rng()).fit(X, y_reg)),
    "zero hidden units": ("clf", lambda E: E(hidden_layer_sizes=(4, 0)).fit(X, y)),
    "set_params unknown": ("clf", lambda E: E().set_params(foo=1)),
    "clone keeps params": ("clf", lambda E: clone(E(alpha=0.3, hidden_layer_sizes=[3])).get_params()["alpha"]),
    # fitted state
    "predict before fit": ("clf", lambda E: E().predict(X)),
    "n_iter_, t_": ("clf", lambda E: (lambda m: (m.n_iter_, m.t_))(E(**SMALL).fit(X, y))),
    "lbfgs t_": ("reg", lambda E: E(solver="lbfgs", **SMALL).fit(X, y_reg).t_),
    "no validation_scores_": ("clf", lambda E: E(**SMALL).fit(X, y).validation_scores_),
    "out_activation_ binary": ("clf", lambda E: E(**SMALL).fit(X, y == 0).out_activation_),
    "coefs_ shapes": ("clf", lambda E: [c.shape for c in E(**SMALL).fit(X, y).coefs_]),
    "warm_start counts": ("clf", lambda E: (lambda m: (m.n_iter_, m.t_, len(m.loss_curve_)))(
        E(warm_start=True, **SMALL).fit(X, y).fit(X, y))),
    "warm_start new classes": ("clf", lambda E: E(warm_start=True, **SMALL).fit(X, y).fit(X, y % 2)),
    # labels and targets
    "string labels": ("clf", lambda E: E(**SMALL).fit(X, np.array(list("abc"))[y]).classes_),
    "bool labels": ("clf", lambda E: E(**SMALL).fit(X, y == 0).predict(X).dtype),
    "continuous labels": ("clf", lambda E: E(**SMALL).fit(X, X[:, 0])),
    "y column vector": ("reg", lambda E: E(**SMALL).fit(X, y_reg[:, None]).predict(X).shape),
    "multilabel": ("clf", lambda E: E(**SMALL).fit(X, np.c_[y == 0, y == 1].astype(int)).predict(X).shape),
    "NaN in y": ("reg", lambda E: E(**SMALL).fit(X, np.r_[np.nan, y_reg[1:]])),
    "partial_fit without classes": ("clf", lambda E: E(**SMALL).partial_fit(X, y)),
    "partial_fit unseen label": ("clf", lambda E: E(**SMALL).partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y + 1)),
    "partial_fit early_stopping": ("reg", lambda E: E(early_stopping=True).partial_fit(X, y_reg)),
    # X
    "NaN in X": ("clf", lambda E: E(**SMALL).fit(np.where(X > 1, np.nan, X), y)),
    "inf in X": ("reg", lambda E: E(**SMALL).fit(np.where(X > 1, np.inf, X), y_reg)),
    "1-d X": ("clf", lambda E: E(**SMALL).fit(X[:, 0], y)),
    "empty X": ("reg", lambda E: E(**SMALL).fit(X[:0], y_reg[:0])),
    "n_features mismatch": ("clf", lambda E: E(**SMALL).fit(X, y).predict(X[:, :2])),
    "float16 X": ("clf", lambda E: E(**SMALL).fit(X.astype(np.float16), y).coefs_[0].dtype),
    "float32 X, adam": ("reg", lambda E: E(**SMALL).fit(X.astype(np.float32), y_reg).predict(X.astype(np.float32)).dtype),
    "int X": ("clf", lambda E: E(**SMALL).fit((3 * X).astype(int), y).coefs_[0].dtype),
    "sparse X": ("clf", lambda E: E(**SMALL).fit(sp.csr_matrix(X), y).predict(sp.csc_matrix(X)).shape),
    "feature_names_in_": ("clf", lambda E: list(E(**SMALL).fit(frame(X), y).feature_names_in_)),
    "other column names": ("clf", lambda E: E(**SMALL).fit(frame(X), y).predict(frame(X, "xyz"))),
    "array after a frame": ("reg", lambda E: E(**SMALL).fit(frame(X), y_reg).predict(X).shape),
    # sample weights
    "all-zero weights": ("clf", lambda E: E(**SMALL).fit(X, y, sample_weight=np.zeros(30))),
    "weights of the wrong length": ("reg", lambda E: E(**SMALL).fit(X, y_reg, sample_weight=np.ones(3))),
    # training options
    "batch_size > n": ("clf", lambda E: E(batch_size=100, **SMALL).fit(X, y).n_iter_),
    "too small a validation set": ("reg", lambda E: E(early_stopping=True, validation_fraction=0.01).fit(X, y_reg)),
    "lbfgs max_fun": ("reg", lambda E: E(solver="lbfgs", max_fun=2, hidden_layer_sizes=(4,), random_state=0).fit(X, y_reg).n_iter_),
    "lbfgs has no partial_fit": ("clf", lambda E: hasattr(E(solver="lbfgs"), "partial_fit")),
    "no set_output": ("clf", lambda E: hasattr(E(), "set_output")),
    "pickle round trip": ("clf", lambda E: (lambda m: np.array_equal(
        pickle.loads(pickle.dumps(m)).predict_proba(X), m.predict_proba(X)))(E(**SMALL).fit(X, y))),
}  # fmt: skip


def outcome(cls, habit):
    """What a user sees: the result or the error, and the warnings besides convergence."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("returns", repr(habit(cls)))
        except Exception as error:  # the exception is the outcome being compared
            message = str(error).splitlines()[0] if str(error) else ""
            # constraint sets print in hash order; the parameter named is what matters
            message = re.sub(r"(parameter of \w+) must be .*", r"\1 must be ...", message)
            # scikit-learn's MLP prints the labels (or parameters); the kind of error matters
            message = re.sub(r"(Unknown label type|Valid parameters are):.*", r"\1: ...", message)
            result = ("raises", type(error).__name__, message)
    seen = {w.category.__name__ for w in caught if not issubclass(w.category, ConvergenceWarning)}
    return re.sub(
        r"MLP(Classifier|Regressor)|NeuralNet(Classifier|Regressor)", "EST", str(result)
    ), sorted(seen)


@pytest.mark.parametrize("name", list(HABITS))
def test_habit_ends_as_in_scikit_learn(name):
    kind, habit = HABITS[name]
    sklearn_cls, tinynet_cls = PAIRS[kind]
    assert outcome(tinynet_cls, habit) == outcome(sklearn_cls, habit)
