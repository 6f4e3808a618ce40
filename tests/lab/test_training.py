"""The training doctor: per-epoch gradient norms, update ratios, dead ReLUs, activation stats."""

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
from tinynet.cli import main
from tinynet.estimators import NeuralNetClassifier
from tinynet.lab import TrainingDoctor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def test_records_match_independent_measurements_during_fit(data):
    X, y = data
    doctor = TrainingDoctor(X[:50])
    seen = []

    def independent(estimator, history):
        params = dict(estimator.module_.named_parameters())
        seen.append(
            {name: (np.linalg.norm(p.grad.data), p.data.copy()) for name, p in params.items()}
        )

    clf = NeuralNetClassifier((6,), max_iter=4, batch_size=20, learning_rate_init=0.05,
                              callbacks=[doctor, independent], random_state=0)  # fmt: skip
    clf.fit(X, y)
    assert [r["epoch"] for r in doctor.records] == [1, 2, 3, 4]
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    for epoch, record in enumerate(doctor.records):
        assert list(record["grad_norm"]) == names
        for name in names:
            assert record["grad_norm"][name] == pytest.approx(seen[epoch][name][0])
            if epoch == 0:
                assert record["update_ratio"][name] is None
            else:
                before, now = seen[epoch - 1][name][1], seen[epoch][name][1]
                expected = np.linalg.norm(now - before) / np.linalg.norm(before)
                assert record["update_ratio"][name] == pytest.approx(expected)
    # The history carries the same numbers, one entry per epoch.
    for key in ("grad_norm", "update_ratio", "dead_relu", "activation_mean", "activation_std"):
        assert clf.history_[key] == [r[key] for r in doctor.records]
    # Activations of the last epoch, recomputed by hand from the fitted weights.
    (w1, b1), (w2, b2) = [(layer.weight.data, layer.bias.data) for layer in clf.module_[::2]]
    hidden = np.maximum(X[:50] @ w1.T + b1, 0)
    last = doctor.records[-1]
    assert last["activation_mean"]["1"] == pytest.approx(hidden.mean())
    assert last["activation_std"]["2"] == pytest.approx((hidden @ w2.T + b2).std())
    assert last["dead_relu"]["1"] == pytest.approx(np.mean(np.all(hidden <= 0, axis=0)))
    assert clf.module_.training is False  # the probe restored the mode the estimator left


def test_planted_dead_units_are_counted_and_flagged(tmp_path):
    net = nn.Sequential(nn.Linear(3, 8, dtype=tn.float64, rng=0), nn.ReLU(),
                        nn.Linear(8, 1, dtype=tn.float64, rng=1))  # fmt: skip
    net[0].bias.data[:5] = -1e3  # five of eight units can never fire
    doctor = TrainingDoctor(np.random.default_rng(1).normal(size=(40, 3)))
    doctor(type("Fitted", (), {"module_": net})(), {"epoch": [1]})
    assert doctor.records[0]["dead_relu"] == {"1": 5 / 8}
    assert any("62% of its ReLU units are dead" in w for w in doctor.warnings())
    assert "forward" not in net[1].__dict__  # the probe unwrapped every layer
    paths = doctor.plot(tmp_path / "doctor")
    assert [p.rsplit("/", 1)[1] for p in paths] == [
        "gradient_norms.png", "update_ratios.png", "activations.png"
    ]  # fmt: skip
    assert all((tmp_path / "doctor" / name).stat().st_size > 1000 for name in
               ("gradient_norms.png", "update_ratios.png", "activations.png"))  # fmt: skip


def test_without_a_probe_batch_only_gradients_and_updates(data):
    X, y = data
    doctor = TrainingDoctor()
    NeuralNetClassifier((4,), max_iter=2, callbacks=[doctor], random_state=0).fit(X, y)
    assert doctor.records[-1]["activation_mean"] == {} and doctor.records[-1]["dead_relu"] == {}
    assert doctor.records[-1]["update_ratio"]["0.weight"] > 0


def test_an_estimator_without_a_network_is_a_clear_error():
    with pytest.raises(AttributeError, match="module_"):
        TrainingDoctor()(object(), {})


def test_cli_train_with_doctor_writes_the_pictures(tmp_path, capsys):
    folder = tmp_path / "doctor"
    code = main(["train", "--epochs", "3", "--hidden", "8", "--quiet", "--doctor", str(folder)])
    assert code == 0
    out = capsys.readouterr().out
    assert "gradient_norms.png" in out and "activations.png" in out
    assert sorted(p.name for p in folder.iterdir()) == [
        "activations.png", "gradient_norms.png", "update_ratios.png"
    ]  # fmt: skip
