"""estimator.save(path) / tinynet.estimators.load(path): tinynet files, no pickle."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

import tinynet as tn
import tinynet.nn as nn
from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor, load
from tinynet.serialization import FormatError, read_header


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def round_trip(estimator, path, extra=None):
    estimator.save(path, extra=extra)
    return load(path)


@pytest.mark.parametrize(
    "labels",
    ["ints", "strings", "objects", "binary", "multilabel", "bools"],
)
def test_classifier_round_trip_predicts_identically(iris, tmp_path, labels):
    X, y = iris
    targets = {
        "ints": y * 10,
        "strings": np.array(["a", "bb", "ccc"])[y],
        "objects": np.array(["x", "y", "z"], dtype=object)[y],
        "binary": (y == 1).astype(int),
        "multilabel": np.stack([y == 0, y == 2], axis=1).astype(int),
        "bools": y == 2,
    }[labels]
    clf = NeuralNetClassifier((6,), activation="tanh", max_iter=20, random_state=0)
    clf.fit(X, targets)
    loaded, extra = round_trip(clf, tmp_path / "clf.tnn")
    assert extra == {} and type(loaded) is NeuralNetClassifier
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.classes_.dtype == clf.classes_.dtype
    assert loaded.get_params() == clf.get_params()
    for name in ["loss_curve_", "n_iter_", "t_", "n_layers_", "out_activation_", "best_loss_"]:
        assert getattr(loaded, name) == getattr(clf, name), name


def test_regressor_round_trip_with_extra_metadata_and_feature_names(iris, tmp_path):
    X, y = iris
    frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    reg = NeuralNetRegressor(
        loss="poisson", hidden_layer_sizes=(5, 4), dtype="float32", early_stopping=True,
        max_iter=30, random_state=0,
    ).fit(frame, X[:, 3] + 2)  # fmt: skip
    extra = {"scaler_mean": np.arange(3.0), "note": "iris", "nested": {"k": [1, 2]}}
    loaded, got = round_trip(reg, tmp_path / "reg.tnn", extra)
    np.testing.assert_array_equal(got["scaler_mean"], extra["scaler_mean"])
    assert got["note"] == "iris" and got["nested"] == {"k": [1, 2]}
    np.testing.assert_array_equal(loaded.predict(frame), reg.predict(frame))
    assert loaded.predict(frame).dtype == np.float32
    assert list(loaded.feature_names_in_) == ["a", "b", "c"]
    assert loaded.validation_scores_ == reg.validation_scores_
    assert read_header(tmp_path / "reg.tnn").metadata["estimator"] == "NeuralNetRegressor"


def test_training_resumes_exactly_after_loading(iris, tmp_path):
    X, y = iris
    clf = NeuralNetClassifier((8,), solver="sgd", learning_rate_init=0.05, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    loaded, _ = round_trip(clf, tmp_path / "clf.tnn")
    for estimator in (clf, loaded):  # the optimizer's momentum comes back too
        estimator.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_the_file_holds_data_only(iris, tmp_path):
    X, y = iris
    path = tmp_path / "clf.tnn"
    NeuralNetClassifier((4,), max_iter=2, callbacks=[print], random_state=0).fit(X, y).save(path)
    content = path.read_bytes()
    assert content.startswith(b"TINYNET\x00") and b"pickle" not in content
    state = tn.load(path)  # an ordinary tinynet file
    assert state["format"] == "tinynet.estimators" and "callbacks" not in state["params"]
    assert list(state["state_dict"]) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    loaded, _ = load(path)
    assert loaded.callbacks is None  # functions are not data: they load as the default


def test_files_that_are_not_saved_estimators_are_refused(iris, tmp_path):
    X, y = iris
    state_dict = tmp_path / "state.tnn"
    tn.save(nn.Linear(2, 2).state_dict(), state_dict)
    with pytest.raises(ValueError, match="not a saved estimator"):
        load(state_dict)
    good = tmp_path / "clf.tnn"
    NeuralNetClassifier((4,), max_iter=2, random_state=0).fit(X, y).save(good)
    cut = tmp_path / "cut.tnn"
    cut.write_bytes(good.read_bytes()[:-7])
    with pytest.raises(FormatError):
        load(cut)
    tampered = tn.load(good)
    tampered["fitted"].pop("n_features_in_")
    tn.save(tampered, tmp_path / "tampered.tnn")
    with pytest.raises(ValueError, match="not a valid saved estimator"):
        load(tmp_path / "tampered.tnn")
    tampered = tn.load(good)
    tampered["version"] = 99
    tn.save(tampered, tmp_path / "future.tnn")
    with pytest.raises(ValueError, match="version 99"):
        load(tmp_path / "future.tnn")


def test_what_cannot_be_saved_says_so(iris, tmp_path):
    X, y = iris
    custom = NeuralNetClassifier(module=lambda: nn.Linear(4, 3, dtype=np.float64), max_iter=2)
    with pytest.raises(TypeError, match="custom .*cannot be saved this way"):
        custom.fit(X, y).save(tmp_path / "custom.tnn")
    function = NeuralNetClassifier((4,), activation=tn.tanh, max_iter=2).fit(X, y)
    with pytest.raises(TypeError, match="activation=.* cannot be saved"):
        function.save(tmp_path / "function.tnn")
    with pytest.raises(TypeError, match="extra must be a dict"):
        NeuralNetClassifier((4,), max_iter=2).fit(X, y).save(tmp_path / "x.tnn", extra=[1])
