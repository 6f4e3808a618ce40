"""Export: tinynet.onnx against onnxruntime, `tinynet export`, safetensors, skl2onnx."""

import json

import numpy as np
import pytest
from test_cli import cli, cli_error, read_rows, run_cli, write_csv

import tinynet as tn
from tinynet import nn
from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the test extras")
pytest.importorskip("onnx", reason="onnx is in the test extras")


def run_onnx(path_or_bytes, x):
    session = ort.InferenceSession(path_or_bytes, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})


ACTIVATIONS = [
    nn.ReLU(), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.GELU(), nn.GELU("tanh"), nn.Tanh(),
    nn.Sigmoid(), nn.Softplus(), nn.Softplus(beta=2.0), nn.Softmax(), nn.LogSoftmax(),
    nn.Dropout(0.5), nn.Identity(),
]  # fmt: skip


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda m: repr(m))
def test_onnx_export_matches_tinynet_on_float32(activation, tmp_path):
    rng = np.random.default_rng(0)
    net = nn.Sequential(
        nn.Flatten(), nn.Linear(6, 8), activation, nn.Sequential(nn.Linear(8, 3))
    ).to(tn.float32)
    net.train()  # export runs eval mode whatever the module's mode
    x = rng.normal(size=(4, 2, 3)).astype(np.float32)
    path = tmp_path / "net.onnx"
    tn.onnx.export(net, x[:1], path)
    assert net.training  # left as it was
    net.eval()
    want = net(tn.tensor(x)).data
    (got,) = run_onnx(str(path), x)  # a batch size other than the example's
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_onnx_export_refuses_what_it_cannot_write(tmp_path):
    class Custom(nn.Module):
        def forward(self, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="cannot export Custom"):
        tn.onnx.export(nn.Sequential(nn.Linear(2, 2), Custom()), np.ones((1, 2)), tmp_path / "x")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("target", ["int", "str", "three", "multilabel"])
def test_estimator_export_gives_predict_proba(target, tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    y = {"int": (X[:, 0] > 0).astype(int), "str": np.where(X[:, 0] > 0, "b", "a"),
         "three": np.digitize(X[:, 1], [-0.5, 0.5]),
         "multilabel": (X[:, :2] > 0).astype(int)}[target]  # fmt: skip
    net = NeuralNetClassifier((5,), activation="silu", solver="lbfgs", max_iter=30)
    net.set_params(dtype="float32").fit(X, y)
    tn.onnx.export_estimator(net, tmp_path / "c.onnx")
    (got,) = run_onnx(str(tmp_path / "c.onnx"), X.astype(np.float32))
    np.testing.assert_allclose(got, net.predict_proba(X), rtol=1e-5, atol=1e-6)


# -- tinynet export ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def blobs_csv(tmp_path_factory):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, -3.0]
    kind = np.array(["ant", "bee", "cat"])[np.digitize(X[:, 0], [-0.4, 0.4])]
    value = X @ [1.0, 0.1, 5.0] + 0.1 * rng.normal(size=150)
    rows = [[*row.round(4), k, round(v, 4)] for row, k, v in zip(X, kind, value)]
    return write_csv(tmp_path_factory.mktemp("exp") / "d.csv", ["a", "b", "c", "kind", "v"], rows)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_cli_onnx_export_predicts_from_raw_features_as_tinynet(blobs_csv, tmp_path, task):
    target, drop = ("kind", "v") if task == "classification" else ("v", "kind")
    model = tmp_path / "m.tnn"
    result = run_cli(
        "train", "--csv", blobs_csv, "--target", target, "--drop", drop, "--dtype", "float32",
        "--hidden", "16", "--epochs", "30", "--quiet", "--save", model,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    result = run_cli("export", model, "--format", "onnx")
    assert result.returncode == 0 and result.stdout == "", result.stderr
    predicted = read_rows(run_cli("predict", "--model", model, "--input", blobs_csv).stdout)
    want = np.array([[float(v) for v in row] for row in predicted[1:]]) if task == "regression" else (
        np.array([[float(v) for v in row[1:]] for row in predicted[1:]])
    )  # fmt: skip
    table = read_rows(open(blobs_csv).read())[1:]
    raw = np.array([[float(v) for v in row[:3]] for row in table], dtype=np.float32)
    (got,) = run_onnx(str(tmp_path / "m.onnx"), raw)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-5, atol=1e-5)
    import onnx

    metadata = {p.key: json.loads(p.value) for p in onnx.load(tmp_path / "m.onnx").metadata_props}
    assert metadata["inputs"] == ["a", "b", "c"] and metadata["task"] == task


def test_cli_safetensors_are_a_pytorch_state_dict(blobs_csv, tmp_path, capsys):
    safetensors = pytest.importorskip("safetensors.numpy")
    model = tmp_path / "m.tnn"
    code, _, _ = cli(
        capsys, "train", "--csv", blobs_csv, "--target", "kind", "--drop", "v", "--hidden",
        "8,4", "--dropout", "0.1", "--epochs", "20", "--quiet", "--save", model,
    )  # fmt: skip
    assert code == 0
    code, _, err = cli(capsys, "export", model, "--format", "safetensors", "--output",
                       tmp_path / "w.safetensors")  # fmt: skip
    assert code == 0 and "w.safetensors" in err
    weights = safetensors.load_file(str(tmp_path / "w.safetensors"))
    # nn.Sequential(Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear) in PyTorch's names
    # and layouts: weight (out_features, in_features).
    assert {k: v.shape for k, v in weights.items()} == {
        "0.weight": (8, 3), "0.bias": (8,), "3.weight": (4, 8), "3.bias": (4,),
        "6.weight": (3, 4), "6.bias": (3,),
    }  # fmt: skip
    from safetensors import safe_open

    with safe_open(str(tmp_path / "w.safetensors"), "np") as file:
        info = json.loads(file.metadata()["tinynet"])
    assert info["classes"] == ["ant", "bee", "cat"] and info["layer_sizes"] == [3, 8, 4, 3]
    # A forward pass written from the PyTorch convention y = x W^T + b gives predict's numbers.
    table = read_rows(open(blobs_csv).read())[1:]
    x = np.array([[float(v) for v in row[:3]] for row in table])
    h = (x - info["scaler_mean"]) / info["scaler_scale"]
    for index in ("0", "3"):
        h = np.maximum(h @ weights[f"{index}.weight"].T + weights[f"{index}.bias"], 0)
    logits = h @ weights["6.weight"].T + weights["6.bias"]
    proba = np.exp(logits - logits.max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    code, out, _ = cli(capsys, "predict", "--model", model, "--input", blobs_csv)
    want = np.array([[float(v) for v in row[1:]] for row in read_rows(out)[1:]])
    np.testing.assert_allclose(proba, want, rtol=1e-10)


def test_export_errors(blobs_csv, tmp_path, capsys, monkeypatch):
    model = tmp_path / "m.tnn"
    code, _, _ = cli(capsys, "train", "--csv", blobs_csv, "--target", "v", "--drop", "kind",
                     "--epochs", "3", "--quiet", "--save", model)  # fmt: skip
    assert code == 0
    code, err = cli_error(capsys, "export", model, "--format", "onnx", "--output", model)
    assert code == 1 and "would overwrite the model" in err
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)  # as if not installed
    code, err = cli_error(capsys, "export", model, "--format", "onnx")
    assert code == 1 and "needs the onnx package" in err and "pip install onnx" in err
    assert "tinynet[" not in err and not (tmp_path / "m.onnx").exists()


def test_export_refuses_a_skops_file_naming_the_way_to_convert_it(tmp_path, capsys):
    skops_io = pytest.importorskip("skops.io")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(0).normal(size=(40, 3))
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier((4,), solver="lbfgs", max_iter=5))
    path = tmp_path / "p.skops"
    skops_io.dump(pipe.fit(X, X[:, 0] > 0), path)
    for fmt in ("onnx", "safetensors"):
        code, err = cli_error(capsys, "export", path, "--format", fmt)
        assert code == 1 and "is a skops file" in err and "register_skl2onnx" in err
        assert not (tmp_path / f"p.{fmt}").exists()


# -- skl2onnx ------------------------------------------------------------------------------
@pytest.mark.parametrize("zipmap", [False, True])
def test_skl2onnx_converts_a_pipeline_with_a_tinynet_classifier(zipmap):
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    assert tn.onnx.register_skl2onnx()
    rng = np.random.default_rng(3)
    X = (rng.normal(size=(90, 3)) * [1, 100, 0.01]).astype(np.float32)
    y = np.array(["low", "mid", "high"])[np.digitize(X[:, 0] + X[:, 1] / 100, [-0.5, 0.5])]
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier((8,), solver="lbfgs", max_iter=50))
    pipe.fit(X, y)
    options = {NeuralNetClassifier: {"zipmap": zipmap}}
    onx = skl2onnx.to_onnx(pipe, X[:1], options=options)
    labels, probabilities = run_onnx(onx.SerializeToString(), X)
    assert list(labels) == list(pipe.predict(X))
    if zipmap:  # one {class: probability} dict per row, as scikit-learn's converters do
        probabilities = np.array([[row[c] for c in pipe.classes_] for row in probabilities])
    np.testing.assert_allclose(probabilities, pipe.predict_proba(X), rtol=1e-5, atol=1e-5)


def test_skl2onnx_converts_a_pipeline_with_a_tinynet_regressor():
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    tn.onnx.register_skl2onnx()
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 2)).astype(np.float32)
    pipe = make_pipeline(
        StandardScaler(), NeuralNetRegressor(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=40)
    ).fit(X, X @ [2.0, -1.0])
    (got,) = run_onnx(skl2onnx.to_onnx(pipe, X[:1]).SerializeToString(), X)
    np.testing.assert_allclose(got.ravel(), pipe.predict(X), rtol=1e-5, atol=1e-5)
