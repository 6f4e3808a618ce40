"""The command line under pressure: Ctrl-C, crafted model files, special output paths, input
edges. Every failure is one line naming the option or the file; nothing is half-saved."""

import csv
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tinynet as tn
from tinynet.cli import main

ROOT = Path(__file__).resolve().parent.parent
posix_only = pytest.mark.skipif(os.name != "posix", reason="signals, FIFOs and /dev")
FAST = ("--epochs", "5", "--hidden", "4", "--quiet")


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def run_main(capsys, *args):
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as exit:  # argparse's usage errors
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str, *fragments):
    assert err.startswith("tinynet: error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, err


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    labels = np.where(X[:, 0] > 0, "pos", "neg")
    data = write_csv(folder / "train.csv", ["x", "y", "kind"], [[*r, k] for r, k in zip(X, labels)])
    code = main(["train", "--csv", str(data), "--target", "kind", "--save", str(folder / "m.tnn"),
                 *FAST])  # fmt: skip
    assert code == 0
    return folder / "m.tnn", data


# -- Ctrl-C -----------------------------------------------------------------------------------

# The installed `tinynet` script runs exactly this; a marker file says training has begun.
TRAIN_UNTIL_SIGINT = """
import os, sys
from tinynet.estimators._base import BaseNeuralNet
original = BaseNeuralNet._train_epoch
def marked(self, *args, **kwargs):
    open(os.environ["MARKER"], "a").close()
    return original(self, *args, **kwargs)
BaseNeuralNet._train_epoch = marked
from tinynet.__main__ import main
sys.exit(main())
"""


@posix_only
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_ctrl_c_while_training_exits_130_and_leaves_save_untouched(tmp_path, optimizer):
    saved = tmp_path / "model.tnn"
    tn.save({"previous": 1}, saved)
    before = saved.read_bytes()
    marker = tmp_path / "training"
    process = subprocess.Popen(
        [sys.executable, "-c", TRAIN_UNTIL_SIGINT, "train", "--dataset", "classification",
         "--samples", "4000", "--hidden", "128,128", "--epochs", "100000", "--optimizer",
         optimizer, "--save", str(saved)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**env(), "MARKER": str(marker)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), process.communicate()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert err == "tinynet: interrupted\n"
    # Only the data and network lines, printed before training starts: no report, no result.
    assert [line.split()[0] for line in out.splitlines()] == ["data", "network"]
    assert saved.read_bytes() == before and sorted(os.listdir(tmp_path)) == [
        "model.tnn",
        "training",
    ]


START_UP_SIGINT = """
import os, signal, sys
import tinynet.cli.train as train
def interrupted_load(args, *rest):
    os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT while the data loads
    raise AssertionError("SIGINT did not interrupt")
train.load_data = interrupted_load
from tinynet.__main__ import main
sys.exit(main())
"""


@posix_only
def test_ctrl_c_while_starting_up_is_one_line_without_traceback():
    done = subprocess.run(
        [sys.executable, "-c", START_UP_SIGINT, "train"],
        capture_output=True, text=True, env=env(), timeout=120,
    )  # fmt: skip
    assert done.returncode == 130 and done.stderr == "tinynet: interrupted\n", done.stderr


# What pip writes for the `tinynet` console script (its `tinynet` file, run by the interpreter).
CONSOLE_SCRIPT = """\
import re
import sys
from tinynet.__main__ import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""

# Loaded by Python before any of the command's code: a real SIGINT the moment the module
# named by $SIGINT_AT is looked for (or never, when no such import happens).
SIGINT_AT_IMPORT = """\
import os, signal, sys

class SigintAt:
    def find_spec(self, name, path=None, target=None):
        if name == os.environ.get("SIGINT_AT"):
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, SigintAt())
"""


def launch(tmp_path, how: str, sigint_at: str, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "sitecustomize.py").write_text(SIGINT_AT_IMPORT)
    script = tmp_path / "bin" / "tinynet"
    script.parent.mkdir(exist_ok=True)
    script.write_text(CONSOLE_SCRIPT)
    command = [str(script)] if how == "console script" else ["-m", "tinynet"]
    path = os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, *command, *args], capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": path, "SIGINT_AT": sigint_at}, timeout=120,
    )  # fmt: skip


@posix_only
@pytest.mark.parametrize("how", ["console script", "python -m"])
@pytest.mark.parametrize(
    "sigint_at",
    ["numpy", "tinynet.cli"],
    ids=["while the package imports NumPy", "between the package and main"],
)
def test_ctrl_c_from_the_first_instant_is_one_line(tmp_path, how, sigint_at):
    done = launch(tmp_path, how, sigint_at, "info", "model.tnn")
    assert (done.returncode, done.stderr, done.stdout) == (130, "tinynet: interrupted\n", "")


@posix_only
def test_main_takes_ctrl_c_over_from_the_start_up_guard(tmp_path):
    # Under --debug main re-raises KeyboardInterrupt: the traceback shows main handled it.
    done = launch(tmp_path, "console script", "tinynet.cli.models", "info", "m.tnn", "--debug")
    assert done.returncode != 0 and done.stderr.rstrip().endswith("KeyboardInterrupt")
    assert "tinynet: interrupted" not in done.stderr


@posix_only
def test_importing_tinynet_as_a_library_leaves_sigint_alone(tmp_path):
    probe = "import signal, tinynet\nprint(signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n"
    (tmp_path / "tinynet_user").mkdir()
    (tmp_path / "tinynet_user" / "__init__.py").write_text("import tinynet\n")
    (tmp_path / "tinynet_user" / "tool.py").write_text(probe)
    (tmp_path / "tinynet").write_text(probe)  # a user's script that happens to be named tinynet
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + str(tmp_path)}
    for command in (["-c", probe], [str(tmp_path / "tinynet")], ["-m", "tinynet_user.tool"]):
        done = subprocess.run([sys.executable, *command], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=60)  # fmt: skip
        assert done.stdout == "True\n", (command, done.stderr)


def test_ctrl_c_while_parsing_is_one_line(capsys, monkeypatch):
    import tinynet.cli as cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_build_parsers", interrupted)
    code, out, err = run_main(capsys, "info", "x.tnn")
    assert code == 130 and err == "tinynet: interrupted\n" and out == ""


def test_fit_in_python_keeps_scikit_learns_behaviour_on_ctrl_c():
    from sklearn.datasets import make_moons

    from tinynet.estimators import NeuralNetClassifier

    X, y = make_moons(100, random_state=0)
    seen = []

    def interrupt_at_epoch_3(estimator, history):
        seen.append(len(history["loss"]))
        if len(seen) == 3:
            raise KeyboardInterrupt

    clf = NeuralNetClassifier((4,), max_iter=50, callbacks=[interrupt_at_epoch_3])
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3 and clf.predict(X).shape == (100,)  # kept, usable


# -- crafted and corrupted model files --------------------------------------------------------


def rewrite(model, tmp_path, change) -> Path:
    state = tn.load(model)
    change(state)
    path = tmp_path / "crafted.tnn"
    tn.save(state, path)
    return path


CRAFTED = {
    "task missing": (lambda s: s["extra"].pop("task"), "lacks ['task']"),
    "task wrong": (lambda s: s["extra"].__setitem__("task", "regression"), "task 'regression'"),
    "labels short": (
        lambda s: s["extra"].__setitem__("class_labels", ["a"]),
        "not codes of the 1 class_labels",
    ),
    "scaler text": (lambda s: s["extra"].__setitem__("scaler_mean", "0"), "scaler_mean must be"),
    "scaler shape": (
        lambda s: s["extra"].__setitem__("scaler_scale", np.ones(5)),
        "scaler_scale must be a float array of 2 values",
    ),
    "no classes": (lambda s: s["fitted"].pop("classes_"), "a classifier needs classes_"),
    "cli version": (lambda s: s["extra"].__setitem__("tinynet_cli", "1"), "tinynet_cli must be"),
    "names": (lambda s: s["extra"].__setitem__("feature_names", ["x"]), "feature_names must be"),
    "n_outputs_": (lambda s: s["fitted"].__setitem__("n_outputs_", 3), "n_outputs_ is 3"),
    "huge network": (
        lambda s: (
            s["params"].__setitem__("hidden_layer_sizes", (10**6, 10**6)),
            s["fitted"].__setitem__("n_layers_", 4),
        ),
        "do not match the declared architecture",
    ),
}


@pytest.mark.parametrize("case", CRAFTED)
@pytest.mark.parametrize("command", ["info", "predict"])
def test_crafted_model_files_are_one_line_errors_naming_the_file(
    model_file, tmp_path, capsys, case, command
):
    model, data = model_file
    change, fragment = CRAFTED[case]
    path = rewrite(model, tmp_path, change)
    args = ["info", path] if command == "info" else ["predict", "--model", path, "--input", data]
    code, out, err = run_main(capsys, *args)
    assert code == 1 and out == ""
    assert_one_line(err, str(path), fragment)


def test_a_corrupted_model_file_is_refused_by_its_checksum(model_file, tmp_path, capsys):
    model, data = model_file
    content = bytearray(model.read_bytes())
    content[len(content) // 2] ^= 0x04
    path = tmp_path / "flipped.tnn"
    path.write_bytes(bytes(content))
    code, _, err = run_main(capsys, "predict", "--model", path, "--input", data)
    assert code == 1
    assert_one_line(err, f"{path}: checksum mismatch")


def test_non_finite_weights_need_allow_non_finite(model_file, tmp_path, capsys):
    model, data = model_file
    path = rewrite(model, tmp_path, lambda s: s["state_dict"]["0.weight"].fill(np.inf))
    code, _, err = run_main(capsys, "predict", "--model", path, "--input", data)
    assert code == 1
    assert_one_line(err, str(path), "NaN or infinite weights", "--allow-non-finite")
    code, out, _ = run_main(capsys, "predict", "--model", path, "--input", data,
                            "--allow-non-finite")  # fmt: skip
    assert code == 0 and out.startswith("kind,proba_neg,proba_pos\n")
    code, out, _ = run_main(capsys, "info", path)
    assert code == 0 and "NaN or infinite weights" in out
    path = rewrite(model, tmp_path, lambda s: s["extra"]["scaler_mean"].fill(np.nan))
    code, _, err = run_main(capsys, "predict", "--model", path, "--input", data)
    assert code == 1
    assert_one_line(err, str(path), "scaler_mean holds NaN or infinite values")


def test_info_escapes_control_characters(model_file, tmp_path, capsys):
    model, _ = model_file

    def hostile(state):
        state["extra"]["feature_names"] = ["x\x1b[2J", "y\u202e"]
        state["extra"]["class_labels"] = ["neg\r\n", "pos\x07"]
        state["extra"]["target_name"] = "kind\x1b]0;title\x07"

    code, out, err = run_main(capsys, "info", rewrite(model, tmp_path, hostile))
    assert code == 0, err
    assert not any(ord(char) < 32 and char != "\n" for char in out)
    assert "\u202e" not in out and "\x7f" not in out
    assert "x\\x1b[2J, y\\u202e" in out and "neg\\r\\n, pos\\x07" in out


# -- special output paths ---------------------------------------------------------------------


@posix_only
def test_predict_writes_to_dev_stdout(model_file):
    model, data = model_file
    done = subprocess.run(
        [sys.executable, "-m", "tinynet", "predict", "--model", str(model), "--input", str(data),
         "--output", "/dev/stdout"],
        capture_output=True, text=True, env=env(), timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("kind,proba_neg,proba_pos\n") and done.stdout.count("\n") == 61


@posix_only
def test_predict_output_through_a_symlink_and_into_a_fifo(model_file, tmp_path, capsys):
    model, data = model_file
    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    code, _, err = run_main(capsys, "predict", "--model", model, "--input", data,
                            "--output", link)  # fmt: skip
    assert code == 0, err
    assert link.is_symlink() and target.read_text().startswith("kind,")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    code, _, err = run_main(capsys, "predict", "--model", model, "--input", data,
                            "--output", fifo)  # fmt: skip
    reader.join(timeout=30)
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and received[0] == target.read_text()


@posix_only
def test_train_save_through_a_symlink(model_file, tmp_path, capsys):
    _, data = model_file
    target = tmp_path / "real.tnn"
    link = tmp_path / "link.tnn"
    link.symlink_to(target)
    code, _, err = run_main(capsys, "train", "--csv", data, "--target", "kind", "--save", link,
                            *FAST)  # fmt: skip
    assert code == 0, err
    assert link.is_symlink() and tn.load(target)["format"] == "tinynet.estimators"


# -- input edges ------------------------------------------------------------------------------


def test_a_wide_header_is_checked_in_linear_time(tmp_path, capsys):
    names = [f"c{i}" for i in range(10**5)]
    names[-1] = "c7"  # one duplicate, at the far end
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n")
    start = time.perf_counter()
    code, _, err = run_main(capsys, "train", "--csv", path, "--target", "c0", *FAST)
    # linear: well under a second; the quadratic check took minutes here (hours for 10**6)
    assert time.perf_counter() - start < 5
    assert code == 1
    assert_one_line(err, str(path), "duplicate column names in the header: c7")


def test_a_class_only_in_the_validation_split_is_one_line(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = [[*rng.normal(size=2).round(3), "a" if i % 2 else "b"] for i in range(40)]
    rows.append([0.1, 0.2, "rare"])
    data = write_csv(tmp_path / "rare.csv", ["x", "y", "k"], rows)
    outcomes = set()
    for seed in range(8):  # the lone 'rare' row lands in each split for some seed
        code, _, err = run_main(capsys, "train", "--csv", data, "--target", "k", "--seed", seed,
                                "--validation-split", "0.3", "--test-split", "0", *FAST)  # fmt: skip
        if code:
            assert_one_line(err, "rare.csv: class 'rare' has too few rows", "--validation-split")
            assert "validation_data" not in err and "ValueError" not in err
        outcomes.add(code)
    assert outcomes == {0, 1}


@pytest.mark.parametrize("cell", ["nan", "inf", "-inf", "1..5", "?"])
def test_task_auto_refuses_a_stray_non_number_in_a_numeric_target(tmp_path, capsys, cell):
    rows = [[i * 0.5, i % 3] for i in range(30)]
    rows[4][1] = cell
    data = write_csv(tmp_path / "t.csv", ["x", "y"], rows)
    code, _, err = run_main(capsys, "train", "--csv", data, "--target", "y", *FAST)
    assert code == 1
    assert_one_line(err, "t.csv: row 5 (line 6), column 'y'", repr(cell), "--task classification")
    # asked for explicitly, every value is a label
    code, out, _ = run_main(capsys, "train", "--csv", data, "--target", "y", "--task",
                            "classification", *FAST)  # fmt: skip
    assert code == 0 and "4 classes" in out


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--lr", "inf", "argument --lr: inf is not a finite number"),
        ("--alpha", "inf", "argument --alpha: inf is not a finite number"),
        ("--alpha", "-inf", "argument --alpha: -inf is not a finite number"),
        ("--noise", "inf", "argument --noise: inf is not a finite number"),
        ("--seed", "-1", "argument --seed: -1 is outside [0, 4294967295]"),
        ("--seed", str(2**32), "argument --seed: 4294967296 is outside"),
    ],
)
def test_values_training_would_reject_are_usage_errors(capsys, option, value, fragment):
    code, _, err = run_main(capsys, "train", f"{option}={value}")
    assert code == 2 and err.startswith("usage: tinynet") and fragment in err


def test_gradcheck_seed_is_checked_too(capsys):
    code, _, err = run_main(capsys, "gradcheck", "--seed", "-1")
    assert code == 2 and "argument --seed: -1 is outside" in err


@pytest.mark.parametrize("values", [(1.7e308, -1.7e308), (1.7e308, 1.7e308)])
def test_huge_feature_values_name_the_column(tmp_path, capsys, values):
    rows = [[i * 0.1, i % 2, i % 2] for i in range(30)]
    rows[3][1], rows[4][1] = values
    data = write_csv(tmp_path / "big.csv", ["a", "b", "k"], rows)
    code, _, err = run_main(capsys, "train", "--csv", data, "--target", "k", *FAST)
    assert code == 1
    assert_one_line(err, "big.csv: column 'b' holds values too large to standardize")
    assert "NaN" not in err


def test_huge_feature_values_in_predict_name_the_input_file(model_file, tmp_path, capsys):
    model, _ = model_file
    data = write_csv(tmp_path / "new.csv", ["x", "y"], [[1.0, 2.0], [1.7e308, -1.7e308]])
    code, _, err = run_main(capsys, "predict", "--model", model, "--input", data)
    assert code == 1
    assert_one_line(err, "new.csv: column 'x' holds values too large to standardize")


def test_python_warnings_are_one_line(model_file, tmp_path, capsys):
    model, data = model_file
    path = rewrite(model, tmp_path, lambda s: s["state_dict"]["0.weight"].fill(np.inf))
    code, _, err = run_main(capsys, "predict", "--model", path, "--input", data,
                            "--allow-non-finite")  # fmt: skip
    assert code == 0
    lines = err.splitlines()
    assert lines and all(line.startswith("tinynet: warning: ") for line in lines), err
    assert "RuntimeWarning" in err and ".py:" not in err


def test_error_and_warning_lines_never_carry_control_characters(capsys, monkeypatch):
    import warnings

    import tinynet.cli.models as models

    def hostile(args):
        warnings.warn("label \x1b]0;owned\x07 seen", UserWarning, stacklevel=2)
        raise RuntimeError("name\x1b[2J\u202e from a file")

    monkeypatch.setattr(models, "run_info", hostile)
    code, _, err = run_main(capsys, "info", "x.tnn")
    assert code == 1
    assert err == (
        "tinynet: warning: label \\x1b]0;owned\\x07 seen (UserWarning)\n"
        "tinynet: error: RuntimeError: name\\x1b[2J\\u202e from a file\n"
    )
