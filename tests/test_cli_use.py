"""``tinynet`` from training to use: early stopping, columns, evaluate, scripting, export."""

import re
import warnings

import numpy as np
import pytest
from test_cli import FAST, cli, run_cli

from tinynet.cli.data import load_dataset, split_rows, standardizer
from tinynet.cli.stopping import EarlyStopping


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
