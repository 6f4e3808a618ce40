"""``tinynet train --optimizer NAME`` for the optimizers added by name, and ``--lr-schedule``:
each trains; the report, the JSON document and the saved run name them; the learning rate of
every epoch follows the schedule's closed form; bad combinations are one clear line."""

import json
import math

import numpy as np
import pytest

from tinynet.cli import main
from tinynet.estimators import load

# 100 rows, all for training: 4 batches of 25 per epoch.
ALL_TRAIN = ["--samples", "100", "--validation-split", "0", "--test-split", "0"]
SMALL = ["--hidden", "8", "--batch-size", "25", "--activation", "tanh", "--quiet"]


def usage_error(capsys, *args) -> str:
    """stderr of a command refused as a usage error (status 2, argparse's usage line)."""
    with pytest.raises(SystemExit) as exit:
        main([str(arg) for arg in args])
    err = capsys.readouterr().err
    assert exit.value.code == 2 and err.startswith("usage: tinynet"), err
    assert "Traceback" not in err
    return err


def train_json(capsys, *args, network=SMALL):
    assert main(["train", "--json", *network, *map(str, args)]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("optimizer", ["nadam", "radam", "adamax", "adadelta", "rprop", "asgd"])
def test_every_new_optimizer_trains(optimizer, capsys):
    report = train_json(capsys, "--samples", "200", "--optimizer", optimizer, "--epochs", "15")
    assert report["network"]["optimizer"] == optimizer
    assert report["network"]["lr"] == (1.0 if optimizer == "adadelta" else 0.01)
    # A network that has learnt nothing predicts 1/2 everywhere: a log-loss of log 2.
    assert report["training"]["final_loss"] < 0.85 * math.log(2)
    assert report["metrics"]["train"]["accuracy"] > 0.75
    assert (
        main(["train", *SMALL, "--samples", "60", "--epochs", "2", "--optimizer", optimizer]) == 0
    )
    shown = capsys.readouterr().out
    assert f"tanh, {optimizer} (lr {1 if optimizer == 'adadelta' else 0.01:g}), float64" in shown


def test_help_names_the_optimizers_and_the_schedules(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in ["nadam", "radam", "adamax", "adadelta", "rprop", "asgd"]:
        assert name in text
    assert "--lr-schedule {constant,step,cosine,onecycle,plateau}" in text
    for option in ["--step-size N", "--gamma X", "--warmup FRACTION", "--lr-patience N"]:
        assert option in text


def test_step_and_cosine_follow_their_closed_forms_per_epoch(capsys, tmp_path):
    step = train_json(
        capsys, *ALL_TRAIN, "--lr", "0.1", "--epochs", "6", "--lr-schedule", "step",
        "--step-size", "2", "--gamma", "0.5", "--save", tmp_path / "step.tnn",
    )  # fmt: skip
    assert step["network"]["lr_schedule"] == {"name": "step", "step_size": 2, "gamma": 0.5}
    assert step["training"]["learning_rates"] == [0.1 * 0.5 ** (k // 2) for k in range(6)]
    _, extra = load(tmp_path / "step.tnn")  # the saved run keeps both
    assert extra["training"]["lr_schedule"] == step["network"]["lr_schedule"]
    assert extra["training"]["learning_rates"] == step["training"]["learning_rates"]
    cosine = train_json(
        capsys, *ALL_TRAIN, "--lr", "0.1", "--epochs", "5", "--lr-schedule", "cosine"
    )
    assert cosine["network"]["lr_schedule"] == {"name": "cosine"}
    np.testing.assert_allclose(
        cosine["training"]["learning_rates"],
        [0.05 * (1 + math.cos(math.pi * k / 5)) for k in range(5)],
        rtol=1e-12,
    )


def test_onecycle_steps_per_batch(capsys):
    report = train_json(
        capsys, *ALL_TRAIN, "--lr", "0.1", "--epochs", "5", "--lr-schedule", "onecycle",
        "--warmup", "0.25",
    )  # fmt: skip
    # 4 batches an epoch, 20 steps: up from 0.1/25 to 0.1 by step 4 (PyTorch's 0.25 * 20 - 1),
    # then down to 0.1/25/1e4 at step 19, cosine-shaped; an epoch starts at step 4k.
    top, start = 0.1, 0.1 / 25
    end = start / 1e4

    def closed_form(step):
        if step <= 4:
            return start + (top - start) * (1 - math.cos(math.pi * step / 4)) / 2
        return end + (top - end) * (1 + math.cos(math.pi * (step - 4) / 15)) / 2

    assert report["network"]["lr_schedule"] == {"name": "onecycle", "warmup": 0.25}
    np.testing.assert_allclose(
        report["training"]["learning_rates"], [closed_form(4 * k) for k in range(5)], rtol=1e-12
    )


def test_plateau_decays_when_the_validation_loss_stalls(capsys, tmp_path):
    report = train_json(
        capsys, "--samples", "100", "--lr", "0.5", "--epochs", "12", "--no-early-stopping",
        "--lr-schedule", "plateau", "--gamma", "0.5", "--lr-patience", "1",
        "--save", tmp_path / "m.tnn",
    )  # fmt: skip
    estimator, _ = load(tmp_path / "m.tnn")
    # PyTorch's rule (mode min, relative threshold 1e-4): after more than `patience` epochs
    # without a new best validation loss, the rate is multiplied by the factor.
    lr, best, bad, expected = 0.5, math.inf, 0, []
    for loss in estimator.history_["val_loss"]:
        expected.append(lr)
        if loss < best * (1 - 1e-4):
            best, bad = loss, 0
        else:
            bad += 1
        if bad > 1:
            lr, bad = lr * 0.5, 0
    assert report["training"]["learning_rates"] == expected
    assert expected[-1] < 0.5  # the run did stall: the test covers a decay


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--step-size", "3"], ["--step-size goes with --lr-schedule step", "schedule is constant"]),
        (["--lr-schedule", "cosine", "--gamma", "0.5"], ["--gamma goes with --lr-schedule step or plateau"]),
        (["--lr-schedule", "step", "--warmup", "0.2"], ["--warmup goes with --lr-schedule onecycle"]),
        (["--lr-patience", "2"], ["--lr-patience goes with --lr-schedule plateau"]),
        (["--lr-schedule", "onecycle", "--optimizer", "lbfgs"], ["needs a learning rate, which lbfgs does not have"]),
        (["--lr-schedule", "step", "--gamma", "1.5"], ["--gamma", "1.5 is outside (0.0, 1.0)"]),
        (["--lr-schedule", "onecycle", "--warmup", "0"], ["--warmup", "0 is outside (0.0, 1.0)"]),
        (["--optimizer", "lbfgs-b"], ["invalid choice: 'lbfgs-b'"]),
    ],
)  # fmt: skip
def test_bad_combinations_are_usage_errors(args, fragments, capsys):
    err = usage_error(capsys, "train", "--samples", "50", "--epochs", "1", *args)
    for fragment in fragments:
        assert fragment in err, err


def test_a_resumed_model_takes_no_schedule(capsys, tmp_path):
    model = tmp_path / "m.tnn"
    first = train_json(
        capsys, *ALL_TRAIN, "--epochs", "3", "--lr-schedule", "step", "--step-size", "1",
        "--gamma", "0.5", "--save", model,
    )  # fmt: skip
    assert first["training"]["learning_rates"] == [0.01, 0.005, 0.0025]
    err = usage_error(capsys, "train", "--resume", model, "--lr-schedule", "step")
    assert "cannot go with --resume" in err
    resumed = train_json(
        capsys, *ALL_TRAIN, "--epochs", "2", "--resume", model, "--quiet", network=()
    )
    # It goes on, unscheduled, at the rate the schedule ended with (the saved optimizer's).
    assert resumed["network"]["lr_schedule"] == {"name": "constant"}
    assert resumed["training"]["learning_rates"] == [0.00125, 0.00125]
