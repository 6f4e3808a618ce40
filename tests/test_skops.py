"""Whole pipelines saved safely: skops.io round trips and `tinynet predict` on a skops file."""

import copy
import pickle

import numpy as np
import pytest
from test_cli import cli, cli_error, read_rows, write_csv

from tinynet import nn
from tinynet.cli import ACTIVATIONS
from tinynet.estimators import (
    SKOPS_TRUSTED_TYPES,
    NeuralNetClassifier,
    NeuralNetRegressor,
    skops_load,
)

sio = pytest.importorskip("skops.io", reason="skops is in the test extras")
pytest.importorskip("pandas")
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3)) * [1.0, 50.0, 0.1]
    y = np.array(["ant", "bee", "cat"])[np.digitize(X[:, 0] + X[:, 1] / 50, [-0.6, 0.6])]
    return X, y


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fitted_networks_hold_only_the_trusted_types(activation, data, tmp_path):
    X, y = data
    net = NeuralNetClassifier((5, 4), activation=activation, dropout=0.1, max_iter=3)
    with pytest.warns(Warning):  # max_iter is tiny on purpose
        pipe = make_pipeline(StandardScaler(), net).fit(X, y)
    sio.dump(pipe, tmp_path / "p.skops")
    untrusted = set(sio.get_untrusted_types(file=tmp_path / "p.skops"))
    assert untrusted <= set(SKOPS_TRUSTED_TYPES), untrusted - set(SKOPS_TRUSTED_TYPES)
    loaded = skops_load(tmp_path / "p.skops")
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_regressor_pipeline_round_trip_in_float32(data, tmp_path):
    X, _ = data
    y = X @ [1.0, 0.02, 3.0]
    pipe = make_pipeline(
        StandardScaler(),
        NeuralNetRegressor(hidden_layer_sizes=(6,), solver="lbfgs", dtype="float32"),
    ).fit(X, y)
    sio.dump(pipe, tmp_path / "r.skops")
    loaded = sio.load(tmp_path / "r.skops", trusted=SKOPS_TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


@pytest.mark.parametrize("save", ["skops", "pickle", "deepcopy"])
def test_a_loaded_estimator_trains_on_with_its_optimizer_state(save, data, tmp_path):
    X, y = data
    net = NeuralNetClassifier((6,), solver="adam", max_iter=4, random_state=0)
    with pytest.warns(Warning):
        net.fit(X, y)
    if save == "skops":
        sio.dump(net, tmp_path / "n.skops")
        copy_ = skops_load(tmp_path / "n.skops")
    elif save == "pickle":
        copy_ = pickle.loads(pickle.dumps(net))
    else:
        copy_ = copy.deepcopy(net)
    # Adam's moments and step count came along: the next epochs are the same steps.
    for _ in range(2):
        net.partial_fit(X, y)
        copy_.partial_fit(X, y)
    for mine, theirs in zip(net.coefs_, copy_.coefs_):
        np.testing.assert_array_equal(mine, theirs)


def test_other_types_stay_untrusted(data, tmp_path):
    X, y = data

    class Doubler(nn.Module):
        def forward(self, x):
            return 2 * x

    net = NeuralNetClassifier(
        module=nn.Sequential(nn.Linear(3, 3), Doubler()), solver="lbfgs", max_iter=5
    )
    with pytest.warns(Warning):
        net.fit(X, y)
    sio.dump(net, tmp_path / "c.skops")
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match="Doubler"):
        skops_load(tmp_path / "c.skops")


def test_tinynet_predict_reads_a_skops_pipeline(data, tmp_path, capsys):
    import pandas as pd

    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier((8,), solver="lbfgs", max_iter=60))
    pipe.fit(frame, y)
    sio.dump(pipe, tmp_path / "p.skops")
    # Columns are taken by name: shuffle them and add one the pipeline does not use.
    csv = write_csv(tmp_path / "in.csv", ["c", "id", "a", "b"], [
        [row[2], i, row[0], row[1]] for i, row in enumerate(X)
    ])  # fmt: skip
    code, out, _ = cli(capsys, "predict", "--model", tmp_path / "p.skops", "--input", csv)
    assert code == 0
    rows = read_rows(out)
    assert rows[0] == ["prediction", "proba_ant", "proba_bee", "proba_cat"]
    assert [row[0] for row in rows[1:]] == list(pipe.predict(frame))
    got = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    np.testing.assert_allclose(got, pipe.predict_proba(frame), rtol=1e-12)


def shift(x):
    return x + 1.0


def test_tinynet_predict_refuses_untrusted_skops_files(tmp_path, capsys):
    from sklearn.preprocessing import FunctionTransformer

    X = np.arange(6.0).reshape(3, 2)
    pipe = make_pipeline(
        FunctionTransformer(shift), NeuralNetRegressor(hidden_layer_sizes=(2,), solver="lbfgs")
    )
    sio.dump(pipe.fit(X, X[:, 0]), tmp_path / "f.skops")
    csv = write_csv(tmp_path / "in.csv", ["a", "b"], X)
    code, err = cli_error(capsys, "predict", "--model", tmp_path / "f.skops", "--input", csv)
    assert code == 1 and "refused, it holds types tinynet does not trust" in err
    assert "test_skops.shift" in err and len(err.strip().splitlines()) == 1


def test_tinynet_info_describes_a_skops_pipeline(data, tmp_path, capsys):
    import json

    import pandas as pd

    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    network = NeuralNetClassifier((5, 4), solver="lbfgs", max_iter=20, dtype=np.float32)
    pipe = make_pipeline(StandardScaler(), network).fit(frame, y)
    sio.dump(pipe, tmp_path / "p.skops")
    code, out, _ = cli(capsys, "info", tmp_path / "p.skops")
    assert code == 0
    lines = dict(line.split(None, 1) for line in out.strip().splitlines())
    assert lines["model"] == "Pipeline(StandardScaler, NeuralNetClassifier)"
    assert lines["architecture"] == "3-5-4-3 (relu, dropout 0)"
    assert lines["parameters"] == str(3 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3)
    assert (lines["dtype"], lines["features"]) == ("float32", "3: a, b, c")
    assert lines["classes"] == "3: ant, bee, cat" and "skops file" in lines["file"]
    code, out, _ = cli(capsys, "info", "--json", tmp_path / "p.skops")
    document = json.loads(out)
    assert (document["format"], document["layer_sizes"]) == ("skops", [3, 5, 4, 3])
    assert document["features"] == ["a", "b", "c"] and document["classes"] == ["ant", "bee", "cat"]


def test_tinynet_info_refuses_untrusted_skops_files_in_one_line(tmp_path, capsys):
    from sklearn.preprocessing import FunctionTransformer

    X = np.arange(6.0).reshape(3, 2)
    network = NeuralNetRegressor(hidden_layer_sizes=(2,), solver="lbfgs")
    pipe = make_pipeline(FunctionTransformer(shift), network)
    sio.dump(pipe.fit(X, X[:, 0]), tmp_path / "f.skops")
    for json_flag in ([], ["--json"]):
        code, err = cli_error(capsys, "info", *json_flag, tmp_path / "f.skops")
        assert code == 1 and "refused" in err and len(err.strip().splitlines()) == 1
