"""verbose=2: a tqdm progress bar with losses, validation score and epoch time; verbose=1
stays scikit-learn's lines."""

import re
import sys

import numpy as np
import pytest

from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

pytest.importorskip("tqdm")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    return X, (X[:, 0] > 0).astype(int)


def last_bar_state(err: str) -> str:
    return re.split(r"[\r\n]", err.strip())[-1]


def test_verbose_2_shows_a_bar_with_validation_and_time(data, capsys):
    X, y = data
    net = NeuralNetClassifier(
        (4,), max_iter=5, verbose=2, random_state=0, validation_data=(X[:20], y[:20])
    )
    with pytest.warns(Warning):  # max_iter reached
        net.fit(X[20:], y[20:])
    out, err = capsys.readouterr()
    assert out == ""  # no scikit-learn lines under the bar
    final = last_bar_state(err)
    assert "NeuralNetClassifier" in final and "5/5" in final and "epoch" in final
    history = net.history_
    assert f"loss={history['loss'][-1]:.4g}" in final
    assert f"val_loss={history['val_loss'][-1]:.4g}" in final
    assert f"val_score={history['val_score'][-1]:.4f}" in final
    assert re.search(r"time=\d+\.\d{3}s", final)
    assert not hasattr(net, "_progress")


def test_verbose_2_counts_iterations_of_lbfgs(data, capsys):
    X, y = data
    net = NeuralNetRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=4, verbose=2)
    with pytest.warns(Warning):  # max_iter reached
        net.fit(X, X[:, 0])
    out, err = capsys.readouterr()
    assert out == "" and "iteration" in last_bar_state(err)
    assert "val_loss" not in err  # no validation data: no validation columns


def test_verbose_1_stays_scikit_learns_lines(data, capsys):
    X, y = data
    with pytest.warns(Warning):
        NeuralNetClassifier((4,), max_iter=3, verbose=1).fit(X, y)
    out, err = capsys.readouterr()
    assert re.findall(r"^Iteration (\d+), loss = \d+\.\d{8}$", out, re.M) == ["1", "2", "3"]
    assert err == ""


def test_verbose_2_without_tqdm_says_what_to_install(data, monkeypatch):
    X, y = data
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match="pip install tqdm"):
        NeuralNetClassifier((4,), max_iter=3, verbose=2).fit(X, y)


def test_verbose_1_prints_scikit_learns_lines_for_lbfgs_too(data, capsys):
    X, y = data
    net = NeuralNetRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=4, verbose=1)
    with pytest.warns(Warning):  # max_iter reached
        net.fit(X, y.astype(float))
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"Iteration {i}, loss = {loss:.8f}" for i, loss in enumerate(net.loss_curve_, 1)
    ]
    assert len(lines) == net.n_iter_
