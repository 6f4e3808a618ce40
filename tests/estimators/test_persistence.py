"""estimator.save(path) / tinynet.estimators.load(path): tinynet files, no pickle."""

import os
import re
import tracemalloc
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


# -- crafted and corrupted files: refused before anything is built, one line naming the file --


@pytest.fixture(scope="module")
def saved_classifier(iris, tmp_path_factory):
    X, y = iris
    path = tmp_path_factory.mktemp("saved") / "clf.tnn"
    NeuralNetClassifier((3,), max_iter=2, random_state=0).fit(X, y).save(path)
    return path


def crafted(saved, tmp_path, change) -> str:
    state = tn.load(saved)
    change(state)
    path = tmp_path / "crafted.tnn"
    tn.save(state, path)  # a valid tinynet file (good checksum) with a crafted estimator in it
    return str(path)


def assert_refused(path, pattern):
    with pytest.raises(ValueError) as error:
        load(path)
    message = str(error.value)
    assert message.startswith(f"{path}: not a valid saved estimator: ") and "\n" not in message
    assert re.search(pattern, message), message


def test_a_declared_architecture_is_checked_before_anything_is_built(saved_classifier, tmp_path):
    def huge(state):
        state["params"]["hidden_layer_sizes"] = (4000, 4000)
        state["fitted"]["n_layers_"] = 4

    path = crafted(saved_classifier, tmp_path, huge)
    assert os.path.getsize(path) < 10_000
    tracemalloc.start()
    try:
        assert_refused(path, r"arrays .* do not match the declared architecture")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20  # building the declared network would take 128 MB


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda s: s["fitted"].__setitem__("n_outputs_", 2), r"n_outputs_ is 2 but 3 multiclass"),
        (lambda s: s["fitted"].pop("classes_"), r"a classifier needs classes_"),
        (lambda s: s["fitted"].__setitem__("classes_", {"kind": "?", "values": []}), "label kind"),
        (lambda s: s["fitted"].__setitem__("n_features_in_", "4"), "n_features_in_ must be"),
        (lambda s: s["fitted"].__setitem__("y_type_", "continuous"), "y_type_ must be one of"),
        (lambda s: s["fitted"].__setitem__("dtype", "int8"), "dtype must be float32 or float64"),
        (lambda s: s.pop("fitted"), r"lacks \['fitted'\]"),
        (lambda s: s.__setitem__("estimator", "Pickle"), "unknown estimator 'Pickle'"),
        (lambda s: s["params"].__setitem__("activation", "nope"), "activation"),
        (lambda s: s["state_dict"].__setitem__("0.weight", np.ones((3, 5))), r"shape \(3, 5\)"),
        (lambda s: s["state_dict"].__setitem__("0.bias", np.arange(3)), "floating-point array"),
        (lambda s: s["fitted"].__setitem__("out_activation_", "exp"), "out_activation_ must be"),
        (lambda s: s.__setitem__("version", "1"), "version '1' is invalid"),
        (lambda s: s.__setitem__("version", 2**40), "version 1099511627776 is invalid"),
    ],
    ids=lambda value: None if callable(value) else value[:20],
)
def test_crafted_estimator_files_get_one_line_errors(saved_classifier, tmp_path, change, pattern):
    assert_refused(crafted(saved_classifier, tmp_path, change), pattern)


def test_non_finite_weights_are_refused_unless_allowed(saved_classifier, tmp_path, iris):
    path = crafted(saved_classifier, tmp_path, lambda s: s["state_dict"]["2.weight"].fill(np.nan))
    assert_refused(path, r"2\.weight holds NaN or infinite weights; pass allow_non_finite=True")
    estimator, _ = load(path, allow_non_finite=True)
    assert np.isnan(estimator.coefs_[1]).all()


def test_every_bit_flip_in_a_saved_estimator_is_refused(saved_classifier, tmp_path):
    original = saved_classifier.read_bytes()
    path = tmp_path / "flipped.tnn"
    path.write_bytes(original)
    with open(path, "r+b") as file:
        for position in range(len(original)):  # one bit per byte, rotating: every byte hit
            file.seek(position)
            file.write(bytes([original[position] ^ (1 << position % 8)]))
            file.flush()
            with pytest.raises(ValueError):  # FormatError: the checksum, magic or version
                load(path)
            file.seek(position)
            file.write(original[position : position + 1])
    load(path)
