"""The finite-difference error study: the V shape of error against eps, per dtype."""

import numpy as np
import pytest

import tinynet as tn
from tinynet.lab import gradcheck_sweep


def smooth(x, w):
    return (x.sin() * (x @ w).exp().sum()).sum()


def test_the_error_against_eps_is_a_v_and_float32_wants_a_larger_step():
    x = tn.randn(2, 3, dtype=tn.float64, rng=0) * 0.5
    w = tn.randn(3, dtype=tn.float64, rng=1) * 0.5
    result = gradcheck_sweep(smooth, (x, w))
    assert list(result.errors) == ["float32", "float64"]
    np.testing.assert_allclose(result.eps_values, np.logspace(-1, -12, 12))
    for name, errors in result.errors.items():
        best = errors.min()
        assert best < errors[0] / 20 and best < errors[-1] / 20, (name, errors)
    best = result.best_eps
    assert best["float32"] > best["float64"]
    assert 1e-4 <= best["float32"] <= 1e-1 and 1e-8 <= best["float64"] <= 1e-4
    # Truncation on the right arm: error ~ eps**2 for float64 (x10 in eps, x100 in error).
    f64 = result.errors["float64"]
    assert f64[0] / f64[1] == pytest.approx(100, rel=0.2)
    # Round-off on the left arm: error ~ u / eps grows as eps shrinks.
    assert f64[-1] > f64[-3] > f64[-5]


def test_sweep_table_and_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    x = tn.tensor(np.array([0.3, -0.7]), dtype=tn.float64)
    result = gradcheck_sweep(lambda x: x.tanh(), (x,), eps_values=[1e-2, 1e-4, 1e-6, 1e-8])
    text = str(result)
    assert "float32" in text and "best eps" in text and text.count("*") == 3
    figure = result.plot(tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 1000
    assert len(figure.axes[0].lines) == 4  # one curve and one best-eps marker per dtype


def test_sweep_needs_a_floating_input():
    with pytest.raises(ValueError, match="floating input"):
        gradcheck_sweep(lambda n: n, (tn.tensor(np.array([1, 2])),))
