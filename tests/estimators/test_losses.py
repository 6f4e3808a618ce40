"""The estimators' one-node losses against nn.functional's losses and finite differences."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import xlogy

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.estimators._losses import batch_loss

KINDS = ["softmax", "logistic", "identity", "exp"]


def reference(kind, raw, target, weight):
    """The same loss composed from nn.functional and tinynet ops (weights as a column)."""
    column = tn.Tensor(np.broadcast_to(np.asarray(weight, float), (raw.shape[0], 1)).copy())
    if kind == "softmax":
        per_row = F.cross_entropy(raw, target, reduction="none").reshape(-1, 1)
        return (per_row * column).sum()
    if kind == "logistic":
        return F.binary_cross_entropy_with_logits(raw, target, weight=column, reduction="sum")
    if kind == "identity":
        return (F.mse_loss(raw, target, reduction="none") * column).sum() * 0.5
    constant = (xlogy(target, target) - target) * np.asarray(column.data)
    return ((raw.exp() - raw * target) * column).sum() + float(constant.sum())


def problem(kind, seed, n=7, k=3, weighted=True):
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=(n, k)) * 3
    if kind == "softmax":
        target = np.eye(k)[rng.integers(0, k, n)]
    elif kind == "logistic":
        target = rng.integers(0, 2, (n, k)).astype(float)
    elif kind == "identity":
        target = rng.normal(size=(n, k))
    else:
        target = rng.poisson(2.0, (n, k)).astype(float)
    weight = rng.uniform(0, 2, (n, 1)) if weighted else 1.0 / n
    return raw, target, weight


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("kind", KINDS)
@given(seed=st.integers(0, 2**32 - 1))
def test_value_and_gradient_equal_the_composed_losses(kind, weighted, seed):
    raw, target, weight = problem(kind, seed, weighted=weighted)
    ours_input = tn.Tensor(raw, requires_grad=True)
    theirs_input = tn.Tensor(raw, requires_grad=True)
    ours = batch_loss(kind, ours_input, target, weight)
    theirs = reference(kind, theirs_input, target, weight)
    ours.backward()
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(ours_input.grad.data, theirs_input.grad.data, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_first_and_second_derivatives_match_finite_differences(kind):
    raw, target, weight = problem(kind, 0, n=4, k=3)
    x = tn.Tensor(raw, requires_grad=True)
    assert tn.gradcheck(lambda z: batch_loss(kind, z, target, weight), [x])
    assert tn.gradgradcheck(lambda z: batch_loss(kind, z, target, weight), [x])


def test_extreme_logits_stay_finite():
    raw = tn.Tensor(np.array([[800.0, -800.0, 0.0]]), requires_grad=True)
    target = np.array([[0.0, 1.0, 0.0]])
    for kind in ("softmax", "logistic"):
        raw.grad = None
        loss = batch_loss(kind, raw, target, 1.0)
        loss.backward()
        assert np.isfinite(loss.item()) and np.isfinite(raw.grad.data).all()
    assert batch_loss("softmax", raw, target, 1.0).item() == pytest.approx(1600.0)


def test_float32_losses_stay_float32():
    for kind in KINDS:
        raw, target, weight = problem(kind, 1)
        x = tn.Tensor(raw.astype(np.float32), requires_grad=True)
        loss = batch_loss(kind, x, target.astype(np.float32), weight.astype(np.float32))
        loss.backward()
        assert loss.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(0, 40), columns=st.integers(1, 12))
def test_the_softmax_losss_shortcuts_equal_numpys_reductions_bit_for_bit(
    dtype, seed, rows, columns
):
    # The loss takes each row's maximum in column order, and the weights as the sums of
    # the weighted one-hot rows: the bits NumPy's row reductions give.
    from tinynet.ops.fused import row_max

    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(rows, columns)) * 10.0 ** rng.integers(-3, 4)).astype(dtype)
    x[rng.random(x.shape) < 0.2] = 0.0
    assert row_max(x).tobytes() == x.max(axis=1, keepdims=True).tobytes()
    one_hot = np.eye(columns, dtype=dtype)[rng.integers(0, columns, rows)]
    column = rng.uniform(0.0, 3.0, (rows, 1)).astype(dtype)
    assert (one_hot * column).sum(axis=1, keepdims=True).tobytes() == column.tobytes()
    scale = 1.0 / max(rows, 1)
    sums = (one_hot * scale).sum(axis=1, keepdims=True)
    assert sums.tobytes() == np.full((rows, 1), scale, dtype).tobytes()
