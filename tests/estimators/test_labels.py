"""The classifier's target encoding equals scikit-learn's LabelBinarizer for every label type."""

import numpy as np
import pytest
from sklearn.preprocessing import LabelBinarizer

from tinynet.estimators import NeuralNetClassifier

LABELS = {
    "ints": np.array([3, 1, 2, 3, 1, 1]),
    "negative ints": np.array([-1, 5, -1, 0, 5, 0]),
    "binary ints": np.array([0, 1, 1, 0, 1, 1]),
    "binary strings": np.array(["yes", "no", "no", "yes", "no", "no"]),
    "strings": np.array(["b", "a", "c", "a", "b", "c"]),
    "objects": np.array(["b", "a", "c", "a", "b", "c"], dtype=object),
    "integral floats": np.array([3.0, 2.0, 3.0, 1.0, 1.0, 2.0]),
    "bools": np.array([True, False, True, True, False, False]),
    "one class": np.array([7, 7, 7, 7, 7, 7]),
    "column": np.array([[2], [1], [0], [2], [1], [0]]),
}


@pytest.mark.parametrize("name", list(LABELS))
def test_encoded_targets_equal_label_binarizers(name):
    y = LABELS[name]
    X = np.arange(len(y) * 2, dtype=float).reshape(len(y), 2)
    clf = NeuralNetClassifier()
    _, Y, y_checked = clf._validate_input(X, y, incremental=False, reset=True)
    expected = LabelBinarizer().fit(y_checked).transform(y_checked)
    assert Y.dtype == expected.dtype and Y.shape == expected.shape
    assert np.array_equal(Y, expected)
    assert np.array_equal(clf.classes_, np.unique(y))


def _fitted(y, **params):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(len(y), 3)) + np.unique(y, return_inverse=True)[1][:, None]
    clf = NeuralNetClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0, **params)
    with pytest.warns(Warning):  # ConvergenceWarning: three epochs only
        clf.fit(X, y)
    return clf, X


@pytest.mark.parametrize("name", ["ints", "binary strings", "strings", "objects", "bools"])
def test_predictions_follow_label_binarizers_inverse_transform(name):
    y = np.tile(LABELS[name], 5)
    clf, X = _fitted(y)
    proba = clf.predict_proba(X)
    scores = proba[:, 1] if len(clf.classes_) == 2 else proba
    expected = clf._label_binarizer.inverse_transform(scores)
    assert clf.predict(X).dtype == expected.dtype
    assert np.array_equal(clf.predict(X), expected)


@pytest.mark.parametrize("name", ["ints", "binary strings", "objects"])
@pytest.mark.parametrize("weighted", [False, True])
def test_validation_scores_equal_accuracy_score(name, weighted):
    from sklearn.metrics import accuracy_score

    y = np.tile(LABELS[name], 5)
    rng = np.random.default_rng(1)
    X_val = rng.normal(size=(12, 3))
    y_val = y[rng.permutation(len(y))[:12]]
    w_val = rng.uniform(0.1, 2.0, 12) if weighted else None
    data = (X_val, y_val, w_val) if weighted else (X_val, y_val)
    clf, _ = _fitted(y, validation_data=data)
    expected = accuracy_score(y_val, clf.predict(X_val), sample_weight=w_val)
    assert clf.validation_scores_[-1] == expected
