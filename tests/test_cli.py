"""The `tinynet` command line: subprocess runs of every subcommand and error, and its helpers."""

import argparse
import csv
import io
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import tinynet as tn
from tinynet.cli import main, positive_ints
from tinynet.cli._common import CLIError, UsageError, atomic_output
from tinynet.cli.data import (
    CLASSIFICATION,
    REGRESSION,
    dataset_from_csv,
    infer_task,
    load_dataset,
    read_csv,
    split_rows,
    standardizer,
)

ROOT = Path(__file__).resolve().parent.parent
FAST = ["--epochs", "40", "--hidden", "16", "--quiet"]  # tiny training runs


def run_cli(*args, cwd=None, timeout=120):
    """``python -m tinynet ARGS`` in a subprocess, stderr not a terminal."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "tinynet", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout,
    )  # fmt: skip


def cli(capsys, *args):
    """``main(ARGS)`` in this process (faster: no interpreter start, scikit-learn loaded once)."""
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(result, *fragments):
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tinynet: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def assert_usage_error(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("usage: tinynet"), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_rows(text):
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture(scope="module")
def species_csv(tmp_path_factory):
    """Three well-separated 2-D clusters with text labels and an ignorable id column."""
    rng = np.random.default_rng(1)
    centers = {"ant": (-3.0, 0.0), "bee": (3.0, 0.0), "cat": (0.0, 4.0)}
    rows = [
        [f"r{i}", *(np.array(center) + 0.5 * rng.standard_normal(2)).round(4), label]
        for i, (label, center) in enumerate(list(centers.items()) * 40)
    ]
    return write_csv(
        tmp_path_factory.mktemp("data") / "species.csv", ["id", "x", "y", "kind"], rows
    )


@pytest.fixture(scope="module")
def trained_classifier(species_csv, tmp_path_factory):
    """A classifier trained on species.csv (without the id column), saved, with its plots."""
    folder = tmp_path_factory.mktemp("classifier")
    features = write_csv(
        folder / "train.csv", ["x", "y", "kind"],
        [row[1:] for row in csv.reader(open(species_csv))][1:],
    )  # fmt: skip
    result = run_cli(
        "train", "--csv", features, "--target", "kind", "--save", folder / "model.tnn",
        "--plot", folder / "plots", "--epochs", "60", "--hidden", "16", "--lr", "0.03",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder, result


@pytest.fixture(scope="module")
def linear_csv(tmp_path_factory):
    """y = 3 a - 2 b + 1 + small noise: a smooth regression target in its own units."""
    rng = np.random.default_rng(2)
    X = rng.uniform(-2, 2, size=(150, 2))
    y = 3 * X[:, 0] - 2 * X[:, 1] + 1 + 0.05 * rng.standard_normal(150)
    rows = np.column_stack([X, y]).round(5)
    return write_csv(tmp_path_factory.mktemp("data") / "linear.csv", ["a", "b", "y"], rows)


# -- startup and help -----------------------------------------------------------------------
def test_help_lists_subcommands_and_imports_nothing_heavy():
    code = textwrap.dedent("""
        import sys
        from tinynet.cli import main
        for argv in (["--help"], ["train", "--help"], ["gradcheck", "--help"]):
            try:
                main(argv)
            except SystemExit as exit:
                assert exit.code == 0
        heavy = ("sklearn", "matplotlib", "tqdm", "hypothesis", "pandas", "tinynet.testing")
        heavy = [m for m in heavy if m in sys.modules]
        print("HEAVY", heavy)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout
    for command in ("train", "predict", "info", "gradcheck"):
        assert command in out.stdout


def test_help_answers_quickly():
    start = time.perf_counter()
    result = run_cli("--help")
    elapsed = time.perf_counter() - start
    assert result.returncode == 0 and "usage: tinynet" in result.stdout
    # Only a sanity bound, loose for busy CI machines: the import test above is the real check.
    assert elapsed < 5.0


def test_version(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0 and capsys.readouterr().out.strip() == f"tinynet {tn.__version__}"


# -- train ----------------------------------------------------------------------------------
def test_default_run_learns_the_moons():
    result = run_cli("train")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    assert "moons: 1000 rows, 2 features, 2 classes (700 train, 100 validation, 200 test)" in (
        result.stdout
    )
    test_accuracy = float(re.search(r"^\s+test\s+([\d.]+)", result.stdout, re.M).group(1))
    assert test_accuracy > 0.95, result.stdout


def test_bare_command_is_the_default_training(monkeypatch):
    calls = []
    monkeypatch.setattr("tinynet.cli._run", lambda args: calls.append(args) or 0)
    assert main([]) == 0
    assert calls[0].command == "train" and calls[0].dataset is None and calls[0].epochs == 200


def test_train_csv_classification_reports_saves_and_plots(trained_classifier):
    folder, result = trained_classifier
    assert "train.csv: 120 rows, 2 features, 3 classes (84 train, 12 validation, 24 test)" in (
        result.stdout
    )
    assert "network  2-16-3 relu, adam (lr 0.03), float64" in result.stdout
    accuracies = dict(re.findall(r"^\s+(train|validation|test)\s+([\d.]+)$", result.stdout, re.M))
    assert set(accuracies) == {"train", "validation", "test"}
    assert float(accuracies["test"]) > 0.9  # the clusters are far apart
    assert (folder / "model.tnn").exists()
    import matplotlib.image

    for name in ("loss.png", "decision_boundary.png"):
        image = matplotlib.image.imread(folder / "plots" / name)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert not [p for p in (folder / "plots").iterdir() if p.name.endswith(".tmp")]


def test_train_dataset_loader_regression_and_generator_options(tmp_path, capsys):
    code, out, _ = cli(capsys, "train", "--dataset", "iris", *FAST)
    assert code == 0 and "iris: 150 rows, 4 features, 3 classes" in out
    code, out, _ = cli(
        capsys, "train", "--dataset", "blobs", "--samples", "120", "--centers", "4",
        "--features", "3", "--optimizer", "sgd", *FAST,
    )  # fmt: skip
    assert code == 0 and "blobs: 120 rows, 3 features, 4 classes" in out
    code, out, _ = cli(
        capsys, "train", "--dataset", "regression", "--samples", "150", "--features", "2",
        "--plot", tmp_path, "--optimizer", "adamw", "--dtype", "float32", *FAST,
    )  # fmt: skip
    assert code == 0 and "R^2" in out and "RMSE" in out and "float32" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decision_boundary.png", "loss.png"]


def test_train_csv_regression_metrics_in_target_units(linear_csv, capsys):
    code, out, _ = cli(
        capsys, "train", "--csv", linear_csv, "--target", "y", "--hidden", "",
        "--optimizer", "lbfgs",
    )  # fmt: skip
    assert code == 0 and "target 'y'" in out
    test_row = re.search(r"^\s+test\s+([-\d.e]+)\s+([-\d.e]+)$", out, re.M)
    r2, rmse = float(test_row.group(1)), float(test_row.group(2))
    assert r2 > 0.999  # a linear model (no hidden layer) of a linear target
    assert rmse < 0.1  # in y's units: y spans about 20, its noise is 0.05


def test_train_scaler_is_the_training_statistics(linear_csv, tmp_path, capsys):
    from tinynet.estimators import load

    code, _, _ = cli(
        capsys, "train", "--csv", linear_csv, "--target", "y", "--validation-split", "0",
        "--test-split", "0", "--save", tmp_path / "m.tnn", *FAST,
    )  # fmt: skip
    assert code == 0
    _, extra = load(tmp_path / "m.tnn")
    data = np.loadtxt(linear_csv, delimiter=",", skiprows=1)
    np.testing.assert_allclose(extra["scaler_mean"], data[:, :2].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(extra["scaler_scale"], data[:, :2].std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(extra["target_mean"], data[:, 2].mean(), rtol=1e-12)
    assert extra["feature_names"] == ["a", "b"] and extra["target_name"] == "y"
    assert extra["task"] == REGRESSION


# -- predict and info -----------------------------------------------------------------------
def test_predict_to_stdout_and_file_matches_the_estimator(trained_classifier, species_csv, capsys):
    from tinynet.estimators import load

    folder, _ = trained_classifier
    to_stdout = run_cli("predict", "--model", folder / "model.tnn", "--input", species_csv)
    assert to_stdout.returncode == 0, to_stdout.stderr
    rows = read_rows(to_stdout.stdout)
    assert rows[0] == ["kind", "proba_ant", "proba_bee", "proba_cat"]
    truth = [row[3] for row in csv.reader(open(species_csv))][1:]
    predicted = [row[0] for row in rows[1:]]
    assert np.mean(np.array(predicted) == np.array(truth)) > 0.95
    probabilities = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-12)
    # The CLI standardizes with the saved statistics, then asks the estimator.
    estimator, extra = load(folder / "model.tnn")
    X = np.loadtxt(species_csv, delimiter=",", skiprows=1, usecols=(1, 2))
    expected = estimator.predict_proba((X - extra["scaler_mean"]) / extra["scaler_scale"])
    np.testing.assert_allclose(probabilities, expected, rtol=1e-12)

    output = folder / "predictions.csv"
    args = ["predict", "--model", folder / "model.tnn", "--input", species_csv, "--output", output]
    code, out, err = cli(capsys, *args)
    assert code == 0 and out == "" and err == f"wrote 120 predictions to {output}\n"
    assert read_rows(output.read_text()) == rows


def test_predict_regression_in_target_units(linear_csv, tmp_path, capsys):
    model = tmp_path / "linear.tnn"
    code, _, _ = cli(
        capsys, "train", "--csv", linear_csv, "--target", "y", "--hidden", "", "--optimizer",
        "lbfgs", "--save", model,
    )  # fmt: skip
    assert code == 0
    inputs = write_csv(tmp_path / "new.csv", ["b", "a"], [[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]])
    code, out, _ = cli(capsys, "predict", "--model", model, "--input", inputs)
    assert code == 0
    rows = read_rows(out)
    assert rows[0] == ["y"]
    predicted = np.array([float(row[0]) for row in rows[1:]])
    np.testing.assert_allclose(predicted, [1.0, 5.0, 4.5], atol=0.05)  # 3a - 2b + 1


def test_info_describes_the_model(trained_classifier):
    folder, _ = trained_classifier
    result = run_cli("info", folder / "model.tnn")
    assert result.returncode == 0, result.stderr
    fields = dict(re.findall(r"^(\S[^ ]*(?: [a-z]+)?)\s{2,}(.*)$", result.stdout, re.M))
    assert fields["task"] == "classification"
    assert fields["architecture"].startswith("2-16-3 (relu")
    assert fields["features"] == "2: x, y"
    assert fields["classes"] == "3: ant, bee, cat"
    assert fields["target"] == "kind"
    assert fields["dtype"] == "float64"
    assert "tinynet format version 2" in fields["file"]
    assert fields["trained on"] == "train.csv: 84 train, 12 validation, 24 test rows"
    assert re.match(r"\d+ epochs in [\d.]+ s, final loss", fields["training"])
    assert fields["test metrics"].startswith("accuracy ")


# -- gradcheck ------------------------------------------------------------------------------
def test_gradcheck_every_op_both_orders():
    from tinynet.testing.opinfo import OPS

    result = run_cli("gradcheck")
    assert result.returncode == 0, result.stdout + result.stderr
    differentiable = [op.name for op in OPS if op.differentiable]
    table = [line.split() for line in result.stdout.splitlines()[1:] if line.endswith("pass")]
    assert sorted((row[0], row[1]) for row in table) == sorted(
        (name, order) for name in differentiable for order in ("1", "2")
    )
    summary = result.stdout.strip().splitlines()[-1]
    total = 2 * len(differentiable)
    assert summary.startswith(f"{total} of {total} checks passed")
    skipped = [op.name for op in OPS if not op.differentiable]
    assert skipped[:8] == ["lt", "le", "gt", "ge", "eq", "ne", "argmax", "argmin"]
    assert f"skipped {len(skipped)} non-differentiable: {', '.join(skipped)}" in summary


USER_FUNCTIONS = """
import tinynet as tn

class WrongCube(tn.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * x ** 2  # should be 3 x**2

def good(a, b):
    return (a * b).tanh().sum(axis=0)

def wrong(x):
    return WrongCube.apply(x)

def not_a_tensor(x):
    return 3.0
"""


def test_gradcheck_user_function(tmp_path, capsys, monkeypatch):
    (tmp_path / "userops.py").write_text(USER_FUNCTIONS)
    good = run_cli("gradcheck", "--function", "userops:good", "--inputs", "2", cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert re.search(r"^userops:good\s+1\s+\S+\s+\S+\s+pass$", good.stdout, re.M)
    assert re.search(r"^userops:good\s+2\s+\S+\s+\S+\s+pass$", good.stdout, re.M)

    code, out, _ = cli(
        capsys, "gradcheck", "--function", tmp_path / "userops.py:wrong", "--order", "1",
        "--shape", "2", "--seed", "3",
    )  # fmt: skip
    assert code == 1 and "FAILED: " in out
    row = re.search(r"wrong\s+1\s+(\S+)\s+(\S+)\s+FAIL$", out, re.M)
    x = np.random.default_rng(3).standard_normal(2)
    assert float(row.group(1)) == pytest.approx(np.max(x**2), rel=1e-2)  # |3x^2 - 2x^2|


def cli_error(capsys, *args):
    """``main(ARGS)`` in process for a failing command: (exit status, stderr)."""
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code
    return code, capsys.readouterr().err


def check_error(capsys, args, status, *fragments):
    code, err = cli_error(capsys, *args)
    assert code == status, err
    if status == 2:
        assert err.startswith("usage: tinynet"), err
    else:
        assert err.startswith("tinynet: error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, err


def test_gradcheck_takes_a_public_op_name_for_the_entries_covering_it(capsys):
    from tinynet.testing.opinfo import OPS

    code, out, _ = cli(capsys, "gradcheck", "--ops", "floor,median,tanh", "--order", "1")
    assert code == 0
    rows = {line.split()[0] for line in out.splitlines()[1:] if line.endswith("pass")}
    # An entry's own name wins ("median"); otherwise every entry covering the public name.
    assert rows == {op.name for op in OPS if "floor" in op.covers} | {"median", "tanh"}


def test_gradcheck_summary_counts_one_op_in_the_singular(capsys):
    code, out, _ = cli(capsys, "gradcheck", "--ops", "tanh", "--order", "1")
    assert code == 0
    assert out.strip().splitlines()[-1] == (
        "1 of 1 checks passed (1 op, order 1, atol 1e-05, rtol 0.001)"
    )


def test_gradcheck_option_errors(tmp_path, capsys, monkeypatch):
    (tmp_path / "userops.py").write_text(USER_FUNCTIONS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    check_error(capsys, ["gradcheck", "--ops", "nosuchop"], 2, "unknown op nosuchop")
    check_error(capsys, ["gradcheck", "--function", "no_colon"], 2, "MODULE:FUNCTION")
    check_error(capsys, ["gradcheck", "--shape", "3,x"], 2, "--shape")
    check_error(capsys, ["gradcheck", "--ops", "tanh", "--function", "userops:good"], 2)
    check_error(capsys, ["gradcheck", "--function", "no_such_module_xyz:f"], 1, "cannot import")
    check_error(capsys, ["gradcheck", "--function", "userops:missing"], 1, "no function")
    check_error(
        capsys, ["gradcheck", "--function", "userops:not_a_tensor"], 1, "must return a Tensor"
    )
    check_error(capsys, ["gradcheck", "--function", "nofile.py:f"], 1, "no such file")


# -- errors ---------------------------------------------------------------------------------
def test_errors_in_a_subprocess_exit_status_and_one_line(tmp_path):
    usage = run_cli("train", "--csv", "x.csv")
    assert usage.returncode == 2 and usage.stdout == ""
    assert usage.stderr.startswith("usage: tinynet train")
    assert "--csv needs --target" in usage.stderr
    missing = run_cli("train", "--csv", tmp_path / "absent.csv", "--target", "y")
    assert_one_line_error(missing, "absent.csv", "No such file or directory")
    corrupt = tmp_path / "corrupt.tnn"
    corrupt.write_bytes(b"TINYNET\x00" + bytes(20))
    assert_one_line_error(run_cli("info", corrupt), "corrupt.tnn", "format version 0")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["train", "--csv", "x.csv"], "--csv needs --target"),
        (["train", "--dataset", "iris", "--samples", "10"], "--samples does not apply"),
        (["train", "--dataset", "nosuch"], "invalid choice"),
        (["train", "--dataset", "iris", "--csv", "x.csv"], "not allowed with"),
        (["train", "--hidden", "64,x"], "positive integers"),
        (["train", "--dropout", "1.5"], "--dropout"),
        (["train", "--lr", "0"], "--lr"),
        (["train", "--target", "y"], "--target goes with --csv"),
        (["train", "--csv", "x.csv", "--target", "y", "--noise", "1"], "--noise applies"),
        (["train", "--validation-split", "0.5", "--test-split", "0.5"], "must be below 1"),
        (["train", "--optimizer", "lbfgs", "--dropout", "0.2"], "lbfgs cannot minimize"),
        (["train", "--optimizer", "lbfgs", "--lr", "0.1"], "lbfgs has none"),
        (["train", "--optimizer", "trust-ncg", "--lr", "0.1"], "trust-ncg has none"),
        (["train", "--optimizer", "newton-cg", "--batch-size", "8"], "newton-cg uses every"),
        (["predict", "--model", "m.tnn"], "--input"),
        (["nosuchcommand"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(capsys, args, fragment):
    check_error(capsys, args, 2, fragment)


def test_csv_errors_name_the_problem(tmp_path, capsys):
    check_error(
        capsys, ["train", "--csv", tmp_path / "absent.csv", "--target", "y"], 1,
        "cannot read", "absent.csv", "No such file or directory",
    )  # fmt: skip
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    check_error(capsys, ["train", "--csv", empty, "--target", "y"], 1, "the file is empty")
    bad = write_csv(tmp_path / "bad.csv", ["a", "b", "y"], [[1, 2, 0], [3, "oops", 1]])
    check_error(
        capsys, ["train", "--csv", bad, "--target", "y"], 1,
        "bad.csv: row 2 (line 3), column 'b': 'oops' is not a number",
    )  # fmt: skip
    check_error(
        capsys, ["train", "--csv", bad, "--target", "label"], 1,
        "target column 'label' not found", "the file has columns 'a', 'b', 'y'",
    )  # fmt: skip


def test_output_errors_leave_nothing_behind(trained_classifier, species_csv, tmp_path, capsys):
    folder, _ = trained_classifier
    model = folder / "model.tnn"
    blocked = tmp_path / "a_file"
    blocked.write_text("")
    check_error(capsys, ["train", "--save", blocked / "model.tnn"], 1, "is not a folder")
    check_error(capsys, ["train", "--save", tmp_path / "no" / "m.tnn"], 1, "does not exist")
    check_error(capsys, ["train", "--save", tmp_path], 1, "it is a directory")
    check_error(capsys, ["train", "--plot", blocked], 1, "exists and is not a directory")
    output = tmp_path / "nowhere" / "out.csv"
    args = ["predict", "--model", model, "--input", species_csv, "--output", output]
    check_error(capsys, args, 1, "does not exist")
    partial = write_csv(tmp_path / "partial.csv", ["x"], [[1.0]])
    out = tmp_path / "out.csv"
    args = ["predict", "--model", model, "--input", partial, "--output", out]
    check_error(capsys, args, 1, "feature columns 'y' not found", "the file has columns 'x'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "partial.csv"]


def test_model_file_errors(tmp_path, capsys):
    not_tinynet = tmp_path / "notes.txt"
    not_tinynet.write_text("hello")
    check_error(capsys, ["info", not_tinynet], 1, "notes.txt: not a tinynet file")
    check_error(capsys, ["predict", "--model", not_tinynet, "--input", "x.csv"], 1, "notes.txt")
    state = tmp_path / "state.tnn"
    tn.save({"weight": np.eye(2)}, state)
    check_error(capsys, ["info", state], 1, "state.tnn", "not a saved estimator")
    check_error(capsys, ["info", tmp_path / "absent.tnn"], 1, "No such file or directory")
    check_error(capsys, ["info", tmp_path], 1, "directory")


def test_debug_shows_the_traceback(tmp_path):
    result = run_cli("--debug", "info", tmp_path / "absent.tnn")
    assert result.returncode == 1 and "Traceback" in result.stderr
    assert "FileNotFoundError" in result.stderr
    with pytest.raises(CLIError) as error:
        main(["info", str(tmp_path / "absent.tnn"), "--debug"])
    assert isinstance(error.value.__cause__, FileNotFoundError)


def test_missing_matplotlib_is_a_clear_error(tmp_path):
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from tinynet.cli import main\n"
        f"sys.exit(main(['train', '--plot', {str(tmp_path / 'p')!r}, '--quiet']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert_one_line_error(result, "--plot needs matplotlib", "pip install matplotlib")
    assert not (tmp_path / "p").exists()


# -- helpers, in process --------------------------------------------------------------------
def test_positive_ints():
    assert positive_ints("64,64") == (64, 64)
    assert positive_ints(" 8 , 4 ") == (8, 4)
    assert positive_ints("") == ()
    for text in ("0", "-3", "a,b", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive integers"):
            positive_ints(text)


def test_read_csv_details(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffa , b\n\n 1, 2 \n3,4\n".encode())  # BOM, blank line, padding
    table = read_csv(str(path))
    assert table.columns == ["a", "b"] and table.rows == [["1", "2"], ["3", "4"]]
    assert table.lines == [3, 4]
    np.testing.assert_array_equal(table.numeric(["b", "a"]), [[2.0, 1.0], [4.0, 3.0]])


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "the file is empty"),
        ("a,b\n", "header row but no data rows"),
        ("a,b\n1,2\n3\n", "row 2 (line 3) has 1 fields, the header has 2"),
        ("a,a\n1,2\n", "duplicate column names in the header: a"),
        ("a,,c\n1,2,3\n", "column 2 of the header row has no name"),
        ("a,b\n1,\n", "row 1 (line 2), column 'b': empty cell"),
        ("a,b\n1,nan\n", "row 1 (line 2), column 'b': 'nan' is not a finite number"),
    ],
)
def test_read_csv_errors(tmp_path, content, message):
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(CLIError) as error:
        read_csv(str(path)).numeric(["a", "b"])
    assert message in str(error.value)


def test_read_csv_rejects_binary(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n\xff\xfe,1\n")
    with pytest.raises(CLIError, match="not a UTF-8 text file"):
        read_csv(str(path))


def test_infer_task():
    assert infer_task(["cat", "dog", "cat"]) == CLASSIFICATION
    assert infer_task(["0", "1", "1", "0"]) == CLASSIFICATION
    assert infer_task(["1.0", "2.0", "1.0", "2.0", "1.0"]) == CLASSIFICATION
    assert infer_task(["0.5", "1.5", "0.5", "1.5"]) == REGRESSION  # not integers
    assert infer_task([str(i) for i in range(30)] * 3) == REGRESSION  # too many values
    assert infer_task(["1", "2", "3", "4"]) == REGRESSION  # as many values as rows


def test_dataset_from_csv_labels(tmp_path):
    path = write_csv(tmp_path / "d.csv", ["f", "label"], [[1, "b"], [2, "a"], [3, "b"]])
    data = dataset_from_csv(str(path), "label")
    assert data.task == CLASSIFICATION and data.class_labels == ["a", "b"]
    np.testing.assert_array_equal(data.y, [1, 0, 1])
    numeric = write_csv(tmp_path / "n.csv", ["f", "k"], [[1, "10"], [2, "2.0"], [3, "10"]] * 2)
    data = dataset_from_csv(str(numeric), "k")
    assert data.class_labels == ["2", "10"]  # numeric order, integral values without ".0"
    np.testing.assert_array_equal(data.y, [1, 0, 1, 1, 0, 1])
    data = dataset_from_csv(str(numeric), "k", task="regression")
    np.testing.assert_array_equal(data.y, [10.0, 2.0, 10.0] * 2)
    one_class = write_csv(tmp_path / "c.csv", ["f", "k"], [[1, "x"], [2, "x"]])
    with pytest.raises(CLIError, match="holds one class only \\('x'\\)"):
        dataset_from_csv(str(one_class), "k")
    with pytest.raises(CLIError, match="row 1 \\(line 2\\), column 'label': 'b' is not a number"):
        dataset_from_csv(str(path), "label", task="regression")
    with pytest.raises(CLIError, match="no feature columns"):
        dataset_from_csv(str(write_csv(tmp_path / "o.csv", ["y"], [[1]])), "y")


def test_load_dataset():
    iris = load_dataset("iris", {}, seed=0)
    assert iris.X.shape == (150, 4) and iris.class_labels == ["setosa", "versicolor", "virginica"]
    assert iris.feature_names[0] == "sepal length (cm)"
    moons = load_dataset("moons", {"samples": 64, "noise": 0.0}, seed=0)
    from sklearn.datasets import make_moons

    X, y = make_moons(64, noise=0.0, random_state=0)
    np.testing.assert_array_equal(moons.X, X)
    np.testing.assert_array_equal(moons.y, y)
    many = load_dataset("classification", {"samples": 90, "features": 2, "classes": 3}, seed=0)
    assert many.X.shape == (90, 2) and many.n_classes == 3
    assert load_dataset("diabetes", {}, seed=0).task == REGRESSION
    with pytest.raises(UsageError, match="--noise does not apply to the iris dataset"):
        load_dataset("iris", {"noise": 0.1}, seed=0)


def test_split_rows_partitions_and_stratifies():
    data = load_dataset("blobs", {"samples": 200, "centers": 4}, seed=0)
    parts = split_rows(data, 0.1, 0.2, seed=0)
    joined = np.concatenate([parts.train, parts.validation, parts.test])
    np.testing.assert_array_equal(np.sort(joined), np.arange(200))
    assert (len(parts.train), len(parts.validation), len(parts.test)) == (140, 20, 40)
    np.testing.assert_array_equal(np.bincount(data.y[parts.test]), [10, 10, 10, 10])
    with pytest.raises(CLIError, match="leave 1 for training"):
        split_rows(load_dataset("moons", {"samples": 10}, seed=0), 0.5, 0.4, seed=0)


def test_standardizer():
    X = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    mean, scale = standardizer(X)
    np.testing.assert_allclose(mean, [3.0, 5.0])
    np.testing.assert_allclose(scale, [np.sqrt(8 / 3), 1.0])  # a constant column keeps scale 1


def test_atomic_output(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with atomic_output(str(target)) as file:
            file.write("half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with atomic_output(str(target)) as file:
        file.write("a\n")
    assert target.read_text() == "a\n" and list(tmp_path.iterdir()) == [target]


def test_progress_bar_shows_loss_and_validation_metric():
    from tinynet.cli.train import Progress

    progress = Progress(total=5, metric_name="accuracy", enabled=True)
    history = {"epoch": [1], "loss": [0.5], "val_loss": [0.6], "val_score": [0.75], "time": [0.1]}
    assert progress(None, history) is False  # never asks to stop
    assert progress.bar.n == 1
    assert progress.bar.postfix == "loss=0.5000, val_accuracy=0.7500"
    progress.close()
    assert Progress(total=5, metric_name="r2", enabled=False).bar is None


def test_second_order_check_matches_closed_form():
    from tinynet.cli.gradcheck import check
    from tinynet.gradcheck import vjp_function

    x = tn.tensor([0.5, -1.0], dtype="float64", requires_grad=True)
    v = tn.tensor([2.0, 3.0], dtype="float64", requires_grad=True)
    (vjp,) = vjp_function(lambda x: x.sin(), 1)(x, v)
    np.testing.assert_allclose(vjp.data, v.data * np.cos(x.data))  # v * cos(x)
    results = check("sin", lambda x: x.sin(), (x,), (1, 2), 1e-6, 1e-5, 1e-3)
    assert [(r.order, r.passed) for r in results] == [(1, True), (2, True)]
    assert all(r.max_abs_error < 1e-8 for r in results)


def test_predict_with_a_model_saved_from_python(tmp_path, capsys):
    from tinynet.estimators import NeuralNetClassifier

    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
    y = np.array(["no", "yes", "yes", "no"] * 5)
    clf = NeuralNetClassifier((8,), activation="tanh", solver="lbfgs", random_state=0).fit(X, y)
    clf.save(tmp_path / "xor.tnn")
    inputs = write_csv(tmp_path / "in.csv", ["p", "q"], X[:4])
    code, out, _ = cli(capsys, "predict", "--model", tmp_path / "xor.tnn", "--input", inputs)
    assert code == 0
    rows = read_rows(out)
    assert rows[0] == ["prediction", "proba_no", "proba_yes"]
    assert [row[0] for row in rows[1:]] == list(clf.predict(X[:4]))
    np.testing.assert_allclose(
        [[float(v) for v in row[1:]] for row in rows[1:]], clf.predict_proba(X[:4]), rtol=1e-12
    )
    wide = write_csv(tmp_path / "wide.csv", ["p", "q", "r"], [[0, 0, 0]])
    check_error(
        capsys, ["predict", "--model", tmp_path / "xor.tnn", "--input", wide], 1,
        "takes 2 features (by position", "has 3 columns",
    )  # fmt: skip
    code, out, _ = cli(capsys, "info", tmp_path / "xor.tnn")
    assert code == 0
    assert re.search(r"^classes +2: no, yes$", out, re.M)
    assert re.search(r"^features +2: \(unnamed\)$", out, re.M)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "adamw", "rmsprop", "adagrad", "lbfgs"])
def test_every_optimizer_trains(optimizer, capsys):
    dropout = "0" if optimizer == "lbfgs" else "0.1"
    batches = [] if optimizer == "lbfgs" else ["--batch-size", "32"]  # full batch: refused
    code, out, _ = cli(
        capsys, "train", "--samples", "200", "--optimizer", optimizer, "--epochs", "15",
        "--hidden", "8", *batches, "--activation", "tanh", "--dropout", dropout,
    )  # fmt: skip
    assert code == 0
    expected = optimizer if optimizer == "lbfgs" else f"{optimizer} (lr 0.01)"
    assert f"2-8-1 tanh, {expected}, float64" in out
    assert float(re.search(r"^\s+train\s+([\d.]+)$", out, re.M).group(1)) > 0.75
