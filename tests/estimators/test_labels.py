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
