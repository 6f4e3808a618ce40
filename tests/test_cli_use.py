"""``tinynet`` from training to use: early stopping, columns, evaluate, scripting, export."""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_cli import FAST, cli, cli_error, read_rows, run_cli, write_csv

from tinynet.cli import main
from tinynet.cli.data import load_dataset, split_rows, standardizer
from tinynet.cli.stopping import EarlyStopping

ROOT = Path(__file__).resolve().parent.parent


class _Param:
    def __init__(self, value):
        self.data = np.array([value])


class _FakeNet:
    """Just what the callback touches: ``module_.parameters()``."""

    def __init__(self):
        self.params = [_Param(0.0)]
        self.module_ = self

    def parameters(self):
        return self.params


# -- early stopping -------------------------------------------------------------------------
def test_early_stopping_keeps_the_epoch_of_the_lowest_validation_loss():
    net, stop = _FakeNet(), EarlyStopping(patience=3)
    history = {"loss": [], "val_loss": []}
    losses = [3.0, 2.0, 2.5, 1.0, 1.5, 1.0, 1.7, 0.5]
    stopped_at = None
    for epoch, value in enumerate(losses, start=1):
        net.params[0].data[...] = epoch  # the weights after this epoch
        history["loss"].append(0.0)
        history["val_loss"].append(value)
        if stop(net, history):
            stopped_at = epoch
            break
    # Epoch 4 is best; 5, 6 (equal is no improvement) and 7 are not: stop after epoch 7.
    assert (stopped_at, stop.best_epoch, stop.best_loss) == (7, 4, 1.0)
    stop.restore(net)
    assert net.params[0].data[0] == 4


def test_early_stopping_ignores_missing_and_nan_validation_losses():
    net, stop = _FakeNet(), EarlyStopping(patience=2)
    assert not stop(net, {"loss": [1.0], "val_loss": [None]})
    assert not stop(net, {"loss": [1.0, 1.0], "val_loss": [None, float("nan")]})
    assert stop(net, {"loss": [1.0] * 3, "val_loss": [None, float("nan"), float("nan")]})
    assert stop.best_epoch == 0
    stop.restore(net)  # nothing to restore: the weights stay
    assert net.params[0].data[0] == 0.0


def test_train_stops_early_and_keeps_the_best_epochs_weights(tmp_path):
    model = tmp_path / "diabetes.tnn"
    result = run_cli("train", "--dataset", "diabetes", "--save", model, "--quiet")
    assert result.returncode == 0, result.stderr
    found = re.search(
        r"trained  (\d+) epochs .*the validation loss did not improve for 10 epochs; "
        r"kept epoch (\d+), the lowest validation loss",
        result.stdout,
    )
    assert found, result.stdout
    epochs, kept = map(int, found.groups())
    assert epochs - kept == 10
    # Independent truth: the same estimator trained for exactly `kept` epochs without
    # any early stopping has the saved weights.
    from tinynet.estimators import NeuralNetRegressor, load

    saved, _ = load(model)
    data = load_dataset("diabetes", {}, seed=0)
    parts = split_rows(data, 0.1, 0.2, seed=0)
    mean, scale = standardizer(data.X[parts.train])
    y_mean, y_scale = standardizer(data.y[parts.train, None])
    X, y = (data.X - mean) / scale, (data.y - y_mean[0]) / y_scale[0]
    reference = NeuralNetRegressor(
        hidden_layer_sizes=(64, 64),
        learning_rate_init=0.01,
        max_iter=kept,
        random_state=0,
        alpha=1e-4,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the max_iter ConvergenceWarning
        reference.fit(X[parts.train], y[parts.train])
    for got, want in zip(saved.coefs_, reference.coefs_):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_no_early_stopping_keeps_the_last_epoch(capsys):
    code, out, _ = cli(capsys, "train", "--dataset", "diabetes", "--no-early-stopping", *FAST)
    assert code == 0
    assert "kept" not in out and "validation loss did not improve" not in out


def test_patience_and_iterations_for_full_batch_solvers(capsys):
    code, out, _ = cli(
        capsys, "train", "--dataset", "iris", "--optimizer", "lbfgs", "--patience", "3",
        "--epochs", "100", "--quiet",
    )  # fmt: skip
    assert code == 0
    found = re.search(r"trained  (\d+) iterations .*for 3 iterations; kept iteration (\d+)", out)
    assert found and int(found[1]) - int(found[2]) == 3, out


def test_data_and_network_lines_come_before_training(capsys, monkeypatch):
    from tinynet.estimators import NeuralNetClassifier

    seen = []
    original = NeuralNetClassifier.fit

    def fit(self, *args, **kwargs):
        seen.append(capsys.readouterr().out)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(NeuralNetClassifier, "fit", fit)
    code, out, _ = cli(capsys, "train", "--samples", "100", *FAST)
    assert code == 0
    assert seen[0].startswith("data     moons") and "network  2-16-1" in seen[0]
    assert "trained" not in seen[0] and out.startswith("trained")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--patience", "5", "--no-early-stopping"], "--no-early-stopping turns off"),
        (["--patience", "5", "--validation-split", "0"], "--validation-split is 0"),
    ],
)
def test_patience_usage_errors(args, message):
    result = run_cli("train", *args)
    assert result.returncode == 2 and message in result.stderr


# -- columns --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shop_csv(tmp_path_factory):
    """An id, two number columns, a text column that matters, a noise column, a label."""
    rng = np.random.default_rng(3)
    n = 160
    size = rng.normal(size=n).round(3)
    color = rng.choice(["blue", "green", "red"], size=n)
    noise = rng.normal(size=n).round(3)
    bought = np.where(size + 2.0 * (color == "red") - (color == "blue") > 0.3, "yes", "no")
    ids = [f"c{1000 + i}" for i in range(n)]
    rows = list(zip(ids, size, color, noise, bought))
    return write_csv(
        tmp_path_factory.mktemp("shop") / "shop.csv",
        ["id", "size", "color", "noise", "bought"],
        rows,
    )


def test_id_drop_and_text_columns_reach_predict(shop_csv, tmp_path, capsys):
    model = tmp_path / "shop.tnn"
    code, out, _ = cli(
        capsys, "train", "--csv", shop_csv, "--target", "bought", "--id", "id", "--drop",
        "noise", "--save", model, "--optimizer", "lbfgs", "--hidden", "8",
    )  # fmt: skip
    assert code == 0
    assert "shop.csv: 160 rows, 2 features (4 columns after one-hot encoding)" in out
    assert "network  4-8-1" in out
    code, out, _ = cli(capsys, "predict", "--model", model, "--input", shop_csv)
    assert code == 0
    rows = read_rows(out)
    assert rows[0] == ["id", "bought", "proba_no", "proba_yes"]
    table = read_rows(open(shop_csv).read())
    assert [row[0] for row in rows[1:]] == [row[0] for row in table[1:]]
    # Independent truth: scikit-learn's one-hot encoding and the saved scaler, fed to the
    # saved estimator, give the probabilities predict wrote from the raw text.
    from sklearn.preprocessing import OneHotEncoder

    from tinynet.estimators import load

    estimator, extra = load(model)
    assert extra["categories"] == {"color": ["blue", "green", "red"]}
    sizes = np.array([[float(row[1])] for row in table[1:]])
    colors = OneHotEncoder(categories=[["blue", "green", "red"]], sparse_output=False)
    X = np.hstack([sizes, colors.fit_transform([[row[2]] for row in table[1:]])])
    X = (X - extra["scaler_mean"]) / extra["scaler_scale"]
    expected = estimator.predict_proba(X)
    got = np.array([[float(v) for v in row[2:]] for row in rows[1:]])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    labels = np.array([row[4] for row in table[1:]])
    assert np.mean(np.array([row[1] for row in rows[1:]]) == labels) > 0.9


def test_unknown_text_value_in_predict_is_named(shop_csv, tmp_path, capsys):
    model = tmp_path / "shop.tnn"
    code, _, _ = cli(
        capsys, "train", "--csv", shop_csv, "--target", "bought", "--features", "size,color",
        "--save", model, *FAST,
    )  # fmt: skip
    assert code == 0
    new = write_csv(tmp_path / "new.csv", ["size", "color"], [[0.5, "red"], [0.1, "pink"]])
    code, err = cli_error(capsys, "predict", "--model", model, "--input", new)
    assert code == 1
    assert "row 2 (line 3), column 'color': 'pink' is not one of the values" in err
    assert "'blue', 'green', 'red'" in err


def test_features_selects_columns(shop_csv, tmp_path, capsys):
    model = tmp_path / "m.tnn"
    code, out, _ = cli(
        capsys, "train", "--csv", shop_csv, "--target", "bought", "--features", "noise,size",
        "--save", model, *FAST,
    )  # fmt: skip
    assert code == 0 and "2 features, 2 classes" in out
    code, out, _ = cli(capsys, "info", model)
    assert "features            2: noise, size" in out


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_detected_or_given(tmp_path, capsys, delimiter):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 2)).round(4)
    linear_csv = write_csv(tmp_path / "linear.csv", ["a", "b", "y"], np.c_[X, X @ [2.0, -1.0]])
    text = open(linear_csv).read().replace(",", delimiter)
    other = tmp_path / "linear.txt"
    other.write_text(text)
    outputs = []
    for path, extra in ((linear_csv, []), (other, []), (other, ["--delimiter", delimiter])):
        model = tmp_path / "m.tnn"
        code, out, _ = cli(
            capsys, "train", "--csv", path, "--target", "y", "--save", model, *FAST, *extra
        )
        assert code == 0, out
        code, out, _ = cli(capsys, "predict", "--model", model, "--input", path, *extra)
        assert code == 0
        outputs.append(out)
    assert outputs[0] == outputs[1] == outputs[2]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--features", "a,y"], "--features names 'y', which is the target"),
        (["--drop", "id", "--id", "id"], "--drop names 'id', which is the --id column"),
        (["--drop", "nothere"], "column 'nothere' not found"),
        (["--features", ","], "--features needs column names"),
    ],
)
def test_column_option_errors(tmp_path, capsys, args, message):
    path = write_csv(tmp_path / "d.csv", ["id", "a", "y"], [[1, 2, 3], [2, 3, 4], [3, 4, 5]])
    code, err = cli_error(capsys, "train", "--csv", path, "--target", "y", *args)
    assert code in (1, 2) and message in err, err


def test_column_options_need_a_csv(capsys):
    code, err = cli_error(capsys, "train", "--dataset", "iris", "--drop", "x")
    assert code == 2 and "--drop goes with --csv" in err
    code, err = cli_error(capsys, "train", "--dataset", "blobs", "--features", "a,b")
    assert code == 2 and "a generated dataset takes a number of features" in err


# -- evaluate and --json --------------------------------------------------------------------
def test_evaluate_classifier_metrics_match_the_predictions(shop_csv, tmp_path):
    model = tmp_path / "shop.tnn"
    assert run_cli(
        "train", "--csv", shop_csv, "--target", "bought", "--id", "id", "--save", model, *FAST
    ).returncode == 0  # fmt: skip
    predicted = read_rows(run_cli("predict", "--model", model, "--input", shop_csv).stdout)
    result = run_cli("evaluate", model, "--csv", shop_csv, "--json", "--plot", tmp_path / "p")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # one JSON document, nothing else
    truth = np.array([row[4] for row in read_rows(open(shop_csv).read())[1:]])
    guess = np.array([row[1] for row in predicted[1:]])
    proba = np.array([[float(v) for v in row[2:]] for row in predicted[1:]])
    classes = ["no", "yes"]
    index = np.array([classes.index(label) for label in truth])
    counts = [[int(np.sum((truth == t) & (guess == g))) for g in classes] for t in classes]
    recalls = [counts[i][i] / sum(counts[i]) for i in range(2)]
    precision_yes = counts[1][1] / (counts[0][1] + counts[1][1])
    # ROC AUC as the probability that a random positive outranks a random negative.
    positive, negative = proba[index == 1, 1], proba[index == 0, 1]
    pairs = positive[:, None] - negative[None, :]
    auc = np.mean((pairs > 0) + 0.5 * (pairs == 0))
    metrics = report["metrics"]
    assert report["confusion_matrix"] == {"labels": classes, "counts": counts}
    assert metrics["accuracy"] == pytest.approx(np.mean(truth == guess), abs=1e-12)
    assert metrics["balanced_accuracy"] == pytest.approx(np.mean(recalls), abs=1e-12)
    assert metrics["log_loss"] == pytest.approx(
        -np.mean(np.log(proba[np.arange(len(index)), index])), rel=1e-9
    )
    assert metrics["roc_auc"] == pytest.approx(auc, abs=1e-12)
    assert report["per_class"]["yes"]["precision"] == pytest.approx(precision_yes, abs=1e-12)
    assert report["per_class"]["no"]["support"] == int(np.sum(truth == "no"))
    import matplotlib.image

    image = matplotlib.image.imread(report["plot"])
    assert report["plot"].endswith("confusion_matrix.png") and image.shape[0] > 100


def test_evaluate_regressor_text_report_and_plot(tmp_path, capsys):
    rng = np.random.default_rng(5)
    X = rng.uniform(-2, 2, size=(120, 2))
    y = 3 * X[:, 0] - 2 * X[:, 1] + 1 + 0.1 * rng.standard_normal(120)
    data = write_csv(tmp_path / "lin.csv", ["a", "b", "y"], np.c_[X, y].round(5))
    model = tmp_path / "lin.tnn"
    assert cli(capsys, "train", "--csv", data, "--target", "y", "--save", model, *FAST)[0] == 0
    code, out, _ = cli(capsys, "predict", "--model", model, "--input", data)
    predictions = np.array([float(row[0]) for row in read_rows(out)[1:]])
    truth = np.array([float(row[2]) for row in read_rows(open(data).read())[1:]])
    code, out, _ = cli(capsys, "evaluate", model, "--csv", data, "--plot", tmp_path / "p")
    assert code == 0
    shown = dict(re.findall(r"^(R\^2|RMSE|MAE)\s+(\S+)$", out, re.M))
    residual = truth - predictions
    r2 = 1 - np.sum(residual**2) / np.sum((truth - truth.mean()) ** 2)
    assert float(shown["R^2"]) == pytest.approx(r2, abs=1e-4)
    assert float(shown["RMSE"]) == pytest.approx(np.sqrt(np.mean(residual**2)), abs=1e-4)
    assert float(shown["MAE"]) == pytest.approx(np.mean(np.abs(residual)), abs=1e-4)
    assert (tmp_path / "p" / "predicted_vs_true.png").stat().st_size > 1000


def test_evaluate_errors(shop_csv, tmp_path, capsys):
    model = tmp_path / "shop.tnn"
    assert cli(
        capsys, "train", "--csv", shop_csv, "--target", "bought", "--id", "id", "--drop",
        "noise", "--save", model, *FAST,
    )[0] == 0  # fmt: skip
    bad = write_csv(
        tmp_path / "bad.csv",
        ["size", "color", "bought"],
        [[0.1, "red", "yes"], [1, "red", "maybe"]],
    )
    code, err = cli_error(capsys, "evaluate", model, "--csv", bad)
    assert code == 1 and "'maybe' is not a class of the model ('no', 'yes')" in err
    code, err = cli_error(capsys, "evaluate", model, "--csv", bad, "--target", "nope")
    assert code == 1 and "target column (--target) 'nope' not found" in err


def test_json_train_and_info_print_one_document(tmp_path):
    model = tmp_path / "m.tnn"
    result = run_cli(
        "train", "--dataset", "moons", "--samples", "150", "--json", "--save", model, *FAST
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["data"]["rows"] == {"train": 105, "validation": 15, "test": 30}
    assert report["network"]["layer_sizes"] == [2, 16, 1]
    assert report["training"]["kept_epoch"] <= report["training"]["epochs"] <= 40
    assert set(report["metrics"]) == {"train", "validation", "test"}
    assert report["saved"] == str(model)
    info = run_cli("info", model, "--json")
    assert info.returncode == 0
    described = json.loads(info.stdout)
    assert described["layer_sizes"] == [2, 16, 1] and described["classes"] == ["0", "1"]
    assert described["parameters"] == 2 * 16 + 16 + 16 + 1
    assert described["training"]["metrics"] == report["metrics"]


# -- resume, class weights, activations -----------------------------------------------------
def test_resume_continues_with_the_saved_optimizer_state(shop_csv, tmp_path, capsys):
    first, second = tmp_path / "first.tnn", tmp_path / "second.tnn"
    common = ["--csv", shop_csv, "--target", "bought", "--no-early-stopping", "--quiet"]
    code, _, _ = cli(
        capsys, "train", *common, "--id", "id", "--hidden", "8", "--epochs", "5",
        "--batch-size", "50", "--save", first,
    )  # fmt: skip
    assert code == 0
    code, out, _ = cli(
        capsys, "train", *common, "--resume", first, "--epochs", "3", "--batch-size", "50",
        "--save", second,
    )  # fmt: skip
    assert code == 0
    assert "resumed  " in out and "trained for 5 epochs so far" in out
    assert "trained  3 more epochs" in out
    # The same as loading the first model in Python and running three more epochs: Adam's
    # moments and step count continue (a fresh Adam would take different steps).
    from tinynet.cli.data import dataset_from_csv
    from tinynet.cli.models import load_model

    saved = load_model(first)
    data = dataset_from_csv(shop_csv, "bought", features=saved.feature_names)
    parts = split_rows(data, 0.1, 0.2, seed=0)
    X = saved.transform(data.X)
    reference = saved.estimator
    steps_before = reference._optimizer.state_dict()["state"][0]["step"]
    for _ in range(3):
        reference.partial_fit(X[parts.train], data.y[parts.train])
    resumed = load_model(second).estimator
    for got, want in zip(resumed.coefs_, reference.coefs_):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    batches = -(-len(parts.train) // 50)
    assert resumed._optimizer.state_dict()["state"][0]["step"] == steps_before + 3 * batches


def test_resume_refuses_changes_and_other_data(shop_csv, tmp_path, capsys):
    model = tmp_path / "m.tnn"
    args = ["train", "--csv", shop_csv, "--target", "bought", "--id", "id", *FAST]
    assert cli(capsys, *args, "--save", model)[0] == 0
    code, err = cli_error(capsys, *args, "--resume", model, "--hidden", "4,4")
    assert code == 2 and "--hidden cannot change a resumed model" in err
    other = write_csv(tmp_path / "o.csv", ["size", "bought"], [[1, "yes"], [2, "no"]] * 10)
    code, err = cli_error(capsys, "train", "--csv", other, "--target", "bought", "--resume", model)
    assert code == 1 and "feature column 'color', 'noise' not found" in err


def test_class_weight_raises_the_recall_of_the_weighted_class(tmp_path, capsys):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 2))
    rare = (X[:, 0] + 0.8 * rng.normal(size=300)) > 1.3  # about 10 % of the rows, overlapping
    data = write_csv(tmp_path / "rare.csv", ["a", "b", "kind"], [
        [*row.round(4), "rare" if flag else "common"] for row, flag in zip(X, rare)
    ])  # fmt: skip
    recalls = []
    for weights in ([], ["--class-weight", "rare:8"], ["--class-weight", "balanced"]):
        model = tmp_path / "m.tnn"
        code, _, _ = cli(
            capsys, "train", "--csv", data, "--target", "kind", "--hidden", "", "--optimizer",
            "lbfgs", "--save", model, "--quiet", *weights,
        )  # fmt: skip
        assert code == 0
        code, out, _ = cli(capsys, "evaluate", model, "--csv", data, "--json")
        recalls.append(json.loads(out)["per_class"]["rare"]["recall"])
    assert recalls[1] > recalls[0] + 0.2 and recalls[2] > recalls[0] + 0.2, recalls


@pytest.mark.parametrize("weights", ["nope:2", "rare:-1", "rare"])
def test_class_weight_errors(weights, tmp_path, capsys):
    data = write_csv(
        tmp_path / "d.csv", ["a", "kind"], [[i, "rare" if i % 3 else "x"] for i in range(30)]
    )
    code, err = cli_error(
        capsys, "train", "--csv", data, "--target", "kind", "--class-weight", weights
    )
    assert code == 2 and "--class-weight" in err


def test_every_estimator_activation_trains(capsys):
    from tinynet.cli import ACTIVATIONS

    for name in ACTIVATIONS:
        code, out, _ = cli(
            capsys, "train", "--samples", "60", "--activation", name, "--epochs", "3",
            "--hidden", "4", "--quiet", "--validation-split", "0",
        )  # fmt: skip
        assert code == 0 and f"network  2-4-1 {name}, adam" in out


# -- --config -------------------------------------------------------------------------------
def test_config_file_gives_options_and_the_command_line_wins(tmp_path):
    (tmp_path / "run.toml").write_text(
        'dataset = "blobs"\nsamples = 90\ncenters = 3\nhidden = [8, 4]\nactivation = "tanh"\n'
        "epochs = 50\njson = true\nearly_stopping = false\n"
    )
    result = run_cli("train", "--config", "run.toml", "--epochs", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["network"]["layer_sizes"] == [2, 8, 4, 3]
    assert report["network"]["activation"] == "tanh"
    assert report["training"]["epochs"] == 3 and report["data"]["rows"]["train"] == 63
    assert "kept" not in report["training"]["stopped"]  # early_stopping = false


def test_config_errors(tmp_path):
    (tmp_path / "bad.toml").write_text("hidden = [8,\n")
    (tmp_path / "odd.toml").write_text("colour = 'red'\n")
    result = run_cli("train", "--config", "bad.toml", cwd=tmp_path)
    assert result.returncode == 1 and "bad.toml: not valid TOML" in result.stderr
    result = run_cli("train", "--config", "odd.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert "odd.toml: 'colour' is not an option of tinynet train" in result.stderr
    result = run_cli("train", "--config", "absent.toml", cwd=tmp_path)
    assert result.returncode == 1 and "cannot read the --config file 'absent.toml'" in result.stderr


def test_an_unknown_config_key_is_a_usage_error_as_argparse_reports_them(tmp_path, capsys):
    # docs/cli.md: status 2 with argparse's usage line, and main() raises SystemExit(2).
    (tmp_path / "odd.toml").write_text("colour = 'red'\n")
    for command in ("train", "predict"):
        with pytest.raises(SystemExit) as stop:
            main([command, "--config", str(tmp_path / "odd.toml")])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(f"usage: tinynet {command}")
        assert f"tinynet {command}: error: " in err and "'colour' is not an option" in err


# -- docs/cli.md against --help -------------------------------------------------------------
def _help(capsys, *argv) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return capsys.readouterr().out


def test_docs_cli_documents_every_command_and_option(capsys):
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    top = _help(capsys)
    commands = re.findall(r"^    ([a-z]+)\b", top, re.M)
    assert {"train", "predict", "evaluate", "info", "gradcheck", "export"} <= set(commands)
    spans = re.findall(r"`([^`\n]+)`", docs)  # inline code: options are written as code

    def documented(option: str) -> bool:
        return any(re.search(rf"(?<![\w-]){option}(?![\w-])", span) for span in spans)

    missing = [option for option in ("--debug", "--version") if not documented(option)]
    for command in commands:
        if f"## `tinynet {command}`" not in docs:
            missing.append(f"section for tinynet {command}")
        for option in sorted(
            set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", _help(capsys, command)))
        ):
            if option != "--help" and not documented(option):
                missing.append(f"tinynet {command} {option}")
    assert not missing, missing


def test_an_id_column_used_as_a_feature_is_warned_about(tmp_path, capsys):
    rows = [[1000 + i, i % 7 / 7, "a" if i % 2 else "b"] for i in range(40)]
    data = write_csv(tmp_path / "w.csv", ["ID", "x", "y"], rows)
    code, _, err = cli(capsys, "train", "--csv", data, "--target", "y", *FAST)
    assert code == 0 and "feature column 'ID' looks like a row identifier" in err
    assert "pass --id ID" in err
    code, _, err = cli(capsys, "train", "--csv", data, "--target", "y", "--id", "ID", *FAST)
    assert code == 0 and "warning" not in err


def test_config_is_refused_by_commands_without_it(tmp_path):
    result = run_cli("info", "m.tnn", "--config", "x.toml", cwd=tmp_path)
    assert result.returncode == 2 and "unrecognized arguments: --config" in result.stderr
