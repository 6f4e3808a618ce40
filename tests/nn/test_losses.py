"""Losses against independent references: PyTorch's documented formulas written as plain NumPy
loops, SciPy, and numbers worked out by hand; gradients by finite differences (orders 1 and 2);
stability at extreme logits; and every validation error."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

import tinynet as tn
from tinynet.nn import losses as L

LN2 = math.log(2.0)


def f64(values, requires_grad=True):
    return tn.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def strict_floating_point():
    """Every floating-point event raises, except underflow.

    Underflow (e.g. exp(-2000) -> 0) is the exact rounded result, is ignored by NumPy's
    defaults, and happens inside the core's log_softmax/softplus for far-apart logits.
    """
    return np.errstate(all="raise", under="ignore")


# -- references: PyTorch's documented definitions in plain NumPy -------------------------------
def ref_class_index(log_probs, target, weight=None, ignore_index=-100, reduction="mean", eps=0.0):
    """NLL of log-probabilities at class indices, with label smoothing, sample by sample."""
    single = log_probs.ndim == 1
    if single:
        log_probs, target = log_probs[None], np.asarray(target)[None]
    n_classes = log_probs.shape[1]
    rows = np.moveaxis(log_probs, 1, -1).reshape(-1, n_classes)
    w = np.ones(n_classes) if weight is None else np.asarray(weight, dtype=np.float64)
    losses, weights = [], []
    for row, t in zip(rows, target.reshape(-1)):
        if t == ignore_index:
            losses.append(0.0)
            weights.append(0.0)
            continue
        nll = -w[t] * row[t]
        smooth = -sum(w[c] * row[c] for c in range(n_classes))
        losses.append((1 - eps) * nll + eps / n_classes * smooth)
        weights.append(w[t])
    losses = np.array(losses).reshape(target.shape)
    if reduction == "none":
        return losses[0] if single else losses
    if reduction == "sum":
        return losses.sum()
    with np.errstate(invalid="ignore"):
        return np.float64(losses.sum()) / np.sum(weights)


def ref_cross_entropy(logits, target, weight=None, ignore_index=-100, reduction="mean", eps=0.0):
    axis = 1 if logits.ndim >= 2 else 0
    log_probs = special.log_softmax(np.asarray(logits, np.float64), axis=axis)
    return ref_class_index(log_probs, target, weight, ignore_index, reduction, eps)


def ref_probabilities(logits, probs, weight=None, reduction="mean", eps=0.0):
    axis = 1 if logits.ndim >= 2 else 0
    n_classes = logits.shape[axis]
    log_probs = special.log_softmax(np.asarray(logits, np.float64), axis=axis)
    probs = probs * (1 - eps) + eps / n_classes
    if weight is not None:
        shape = [1] * logits.ndim
        shape[axis] = n_classes
        probs = probs * np.reshape(weight, shape)
    per_sample = -(probs * log_probs).sum(axis)
    if reduction == "none":
        return per_sample
    return per_sample.sum() if reduction == "sum" else per_sample.mean()


def ref_reduce(values, reduction):
    return {"none": values, "sum": np.sum(values), "mean": np.mean(values)}[reduction]


def ref_bce(p, y, weight=1.0):
    with np.errstate(divide="ignore"):
        return -weight * (
            y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100)
        )


def ref_bce_with_logits(x, y, weight=1.0, pos_weight=1.0):
    return -weight * (pos_weight * y * special.log_expit(x) + (1 - y) * special.log_expit(-x))


def ref_huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


def value(t):
    return np.asarray(t.data, dtype=np.float64)


# -- values against the references -----------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_formulas(reduction, rng):
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    d = x - y
    cases = [
        (L.mse_loss(f64(x), y, reduction=reduction), d**2),
        (L.l1_loss(f64(x), y, reduction=reduction), np.abs(d)),
        (L.huber_loss(f64(x), y, reduction, 0.7), ref_huber(d, 0.7)),
    ]
    for got, per_element in cases:
        np.testing.assert_allclose(value(got), ref_reduce(per_element, reduction), rtol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_losses_match_formulas(reduction, rng):
    p, y = rng.uniform(0.01, 0.99, (5, 2)), rng.uniform(0, 1, (5, 2))
    w, pw = rng.uniform(0.5, 2, (5, 1)), rng.uniform(0.5, 2, (2,))
    got = L.binary_cross_entropy(f64(p), y, w, reduction=reduction)
    np.testing.assert_allclose(value(got), ref_reduce(ref_bce(p, y, w), reduction), rtol=1e-12)
    x = special.logit(p)
    got = L.binary_cross_entropy_with_logits(f64(x), y, w, reduction=reduction, pos_weight=pw)
    expected = ref_reduce(ref_bce_with_logits(x, y, w, pw), reduction)
    np.testing.assert_allclose(value(got), expected, rtol=1e-12)


CLASS_OPTIONS = [
    {},
    {"weight": [0.5, 2.0, 1.0, 3.0]},
    {"ignore_index": 1},
    {"eps": 0.3},
    {"weight": [0.5, 2.0, 1.0, 3.0], "ignore_index": 2, "eps": 0.2},
]


@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3), (2, 4, 2, 3), (4,)])
@pytest.mark.parametrize("options", CLASS_OPTIONS, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_with_class_indices(shape, options, reduction, rng):
    logits = rng.normal(size=shape) * 3
    target = rng.integers(0, 4, size=shape[:1] + shape[2:] if len(shape) > 1 else ())
    if "ignore_index" in options and target.ndim:
        target.flat[0] = options["ignore_index"]  # at least one ignored, and others kept
        target.flat[-1] = (options["ignore_index"] + 1) % 4
    weight = options.get("weight")
    ignore_index = options.get("ignore_index", -100)
    eps = options.get("eps", 0.0)
    got = L.cross_entropy(
        f64(logits),
        target,
        None if weight is None else np.array(weight),
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=eps,
    )
    expected = ref_cross_entropy(logits, target, weight, ignore_index, reduction, eps)
    np.testing.assert_allclose(value(got), expected, rtol=1e-12)
    if eps == 0:
        log_probs = special.log_softmax(logits, axis=1 if len(shape) > 1 else 0)
        got = L.nll_loss(
            f64(log_probs), target, weight, ignore_index=ignore_index, reduction=reduction
        )
        np.testing.assert_allclose(value(got), expected, rtol=1e-12)


@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3), (4,)])
@pytest.mark.parametrize("options", [{}, {"weight": [0.5, 2, 1, 3]}, {"eps": 0.25}], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_probabilities(shape, options, reduction, rng):
    logits = rng.normal(size=shape) * 3
    probs = special.softmax(rng.normal(size=shape), axis=1 if len(shape) > 1 else 0)
    weight, eps = options.get("weight"), options.get("eps", 0.0)
    got = L.cross_entropy(f64(logits), probs, weight, reduction=reduction, label_smoothing=eps)
    expected = ref_probabilities(logits, probs, weight, reduction, eps)
    np.testing.assert_allclose(value(got), expected, rtol=1e-12)


# -- numbers worked out by hand ----------------------------------------------------------------
def test_hand_worked_values():
    # Two equal logits: -log(1/2).
    assert L.cross_entropy(f64([[0.0, 0.0]]), np.array([1])).item() == pytest.approx(LN2, 1e-15)
    # p = (1/4, 3/4); targets 0 and 1 weighted 2 and 1: (2 ln 4 + ln 4/3) / (2 + 1).
    logits = f64([[0.0, math.log(3)], [0.0, math.log(3)]])
    got = L.cross_entropy(logits, np.array([0, 1]), np.array([2.0, 1.0])).item()
    assert got == pytest.approx((2 * math.log(4) + math.log(4 / 3)) / 3, rel=1e-14)
    # Label smoothing 0.5 over C = 2, target 1: 0.5 * ln(4/3) + 0.25 * (ln 4 + ln(4/3)).
    got = L.cross_entropy(logits[:1], np.array([1]), label_smoothing=0.5).item()
    assert got == pytest.approx(0.5 * math.log(4 / 3) + 0.25 * (math.log(4) + math.log(4 / 3)))
    # With weights (2, 1) the smoothing term weighs each class: 0.5*1*ln(4/3) + 0.25*(2 ln4 + ln4/3),
    # and the mean divides by weight[target] = 1.
    got = L.cross_entropy(logits[:1], np.array([1]), np.array([2.0, 1.0]), label_smoothing=0.5)
    expected = 0.5 * math.log(4 / 3) + 0.25 * (2 * math.log(4) + math.log(4 / 3))
    assert got.item() == pytest.approx(expected, rel=1e-14)
    assert L.binary_cross_entropy(f64([0.8]), f64([1.0])).item() == pytest.approx(-math.log(0.8))
    assert L.binary_cross_entropy(f64([0.0, 1.0]), f64([1.0, 0.0]), reduction="sum").item() == 200
    assert L.binary_cross_entropy_with_logits(f64([0.0]), f64([1.0])).item() == pytest.approx(LN2)
    pos = L.binary_cross_entropy_with_logits(f64([0.0]), f64([1.0]), pos_weight=f64([3.0]))
    assert pos.item() == pytest.approx(3 * LN2)
    # Huber with delta 2: d = 1 -> 0.5; d = -3 -> 2 * (3 - 1) = 4; d = 2 -> 2 (either branch).
    got = L.huber_loss(f64([1.0, -3.0, 2.0]), f64([0.0, 0.0, 0.0]), "none", 2.0)
    assert got.tolist() == [0.5, 4.0, 2.0]
    assert L.mse_loss(f64([1.0, 3.0]), f64([0.0, 0.0])).item() == 5.0
    assert L.l1_loss(f64([1.0, -3.0]), f64([0.0, 0.0])).item() == 2.0


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n(rng):
    logits = rng.normal(size=(6, 5)).astype(np.float32)
    target = rng.integers(0, 5, 6)
    x = tn.tensor(logits, requires_grad=True)
    L.cross_entropy(x, target).backward()
    expected = (special.softmax(logits.astype(np.float64), axis=1) - np.eye(5)[target]) / 6
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, expected, atol=1e-7)


def test_mean_over_nothing_is_nan_with_zero_gradient():
    x = f64([[1.0, 2.0], [3.0, -1.0]])
    with warnings.catch_warnings(), strict_floating_point():
        warnings.simplefilter("error")
        loss = L.cross_entropy(x, np.array([-100, -100]))
        assert math.isnan(loss.item())
        loss.backward()
        np.testing.assert_array_equal(x.grad.data, 0.0)
        smoothed = L.cross_entropy(x, np.array([-100, -100]), label_smoothing=0.1)
        assert math.isnan(smoothed.item())
        assert L.cross_entropy(x, np.array([-100, -100]), reduction="sum").item() == 0.0
        empty = tn.zeros(0, 3, dtype="float64")
        assert math.isnan(L.cross_entropy(empty, np.zeros(0, np.int64)).item())
        assert math.isnan(L.mse_loss(empty, empty).item())
        assert L.mse_loss(empty, empty, reduction="sum").item() == 0.0


def test_ignored_targets_get_no_gradient():
    x = f64(np.arange(12.0).reshape(4, 3) / 5)
    L.cross_entropy(x, np.array([0, 7, 2, 7]), np.array([1.0, 2.0, 3.0]), ignore_index=7).backward()
    np.testing.assert_array_equal(x.grad.data[[1, 3]], 0.0)
    assert np.all(x.grad.data[[0, 2]] != 0)


def test_nll_of_ignored_targets_never_reads_their_log_probabilities():
    # Log-probabilities may be -inf; an ignored row must not turn 0 * -inf into NaN.
    log_probs = f64([[-np.inf, 0.0], [math.log(0.25), math.log(0.75)], [-np.inf, 0.0]])
    with warnings.catch_warnings(), strict_floating_point():
        warnings.simplefilter("error")
        per_target = L.nll_loss(log_probs, np.array([-100, 0, -100]), reduction="none")
        assert per_target.tolist() == [0.0, math.log(4), 0.0]
        loss = L.nll_loss(log_probs, np.array([-100, 0, -100]), np.array([2.0, 1.0]))
        loss.backward()
    assert loss.item() == pytest.approx(math.log(4))
    np.testing.assert_array_equal(log_probs.grad.data, [[0, 0], [-1, 0], [0, 0]])


# -- gradients, first and second order (float64) -----------------------------------------------
def away_from(values, points, margin, rng):
    """``values`` pushed at least ``margin`` away from each of ``points`` (kinks)."""
    for point in points:
        close = np.abs(values - point) < margin
        values = np.where(
            close, point + margin * np.where(rng.random(values.shape) < 0.5, -2, 2), values
        )
    return values


def check_both_orders(fn, inputs):
    assert tn.gradcheck(fn, inputs)
    assert tn.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradients_of_regression_losses(reduction, rng):
    x = rng.normal(size=(3, 2))
    d = away_from(rng.normal(size=(3, 2)), [-0.8, 0.0, 0.8], 0.05, rng)
    inputs = (f64(x), f64(x - d))
    check_both_orders(lambda a, b: L.mse_loss(a, b, reduction=reduction), inputs)
    check_both_orders(lambda a, b: L.l1_loss(a, b, reduction=reduction), inputs)
    check_both_orders(lambda a, b: L.huber_loss(a, b, reduction, 0.8), inputs)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("with_weights", [False, True])
def test_gradients_of_binary_losses(reduction, with_weights, rng):
    p = f64(rng.uniform(0.05, 0.95, (3, 2)))
    x = f64(rng.normal(size=(3, 2)) * 3)
    y = f64(rng.uniform(0, 1, (3, 2)))
    w = rng.uniform(0.5, 2, (3, 1)) if with_weights else None
    pw = rng.uniform(0.5, 2, (2,)) if with_weights else None
    check_both_orders(lambda a, t: L.binary_cross_entropy(a, t, w, reduction=reduction), (p, y))
    check_both_orders(
        lambda a, t: L.binary_cross_entropy_with_logits(
            a, t, w, reduction=reduction, pos_weight=pw
        ),
        (x, y),
    )


GRADIENT_CLASS_OPTIONS = [
    {},
    {"weight": [0.5, 2.0, 3.0]},
    {"ignore_index": 1},
    {"eps": 0.3},
    {"weight": [0.5, 2.0, 3.0], "ignore_index": 2, "eps": 0.2},
]


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2)])
@pytest.mark.parametrize("options", GRADIENT_CLASS_OPTIONS, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradients_of_cross_entropy_and_nll(shape, options, reduction, rng):
    target = rng.integers(0, 3, size=shape[:1] + shape[2:])
    if "ignore_index" in options:
        target.flat[0] = options["ignore_index"]
    weight = options.get("weight")
    kwargs = {"ignore_index": options.get("ignore_index", -100), "reduction": reduction}
    x = f64(rng.normal(size=shape) * 2)
    eps = options.get("eps", 0.0)
    check_both_orders(
        lambda a: L.cross_entropy(a, target, weight, label_smoothing=eps, **kwargs), (x,)
    )
    if eps == 0:
        log_probs = f64(special.log_softmax(x.data, axis=1))
        check_both_orders(lambda a: L.nll_loss(a, target, weight, **kwargs), (log_probs,))


@pytest.mark.parametrize("options", [{}, {"weight": [0.5, 2.0, 3.0]}, {"eps": 0.3}], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradients_of_cross_entropy_with_probabilities(options, reduction, rng):
    x = f64(rng.normal(size=(2, 3, 2)))
    probs = f64(special.softmax(rng.normal(size=(2, 3, 2)), axis=1))
    weight, eps = options.get("weight"), options.get("eps", 0.0)
    check_both_orders(
        lambda a, p: L.cross_entropy(a, p, weight, reduction=reduction, label_smoothing=eps),
        (x, probs),
    )


# -- conventions at kinks, as PyTorch ----------------------------------------------------------
def derivatives(fn, x):
    """First and second derivatives of a scalar function of each element of ``x``."""
    (first,) = tn.grad(fn(x), x, create_graph=True)
    if not first.requires_grad:  # the first derivative does not depend on x at all
        return first.data, np.zeros_like(x.data)
    (second,) = tn.grad(first.sum(), x, allow_unused=True)
    return first.data, np.zeros_like(x.data) if second is None else second.data


def test_l1_derivative_at_zero_is_zero():
    x = f64([0.0, 2.0, -1.0])
    first, second = derivatives(lambda a: L.l1_loss(a, tn.zeros(3, dtype="float64")), x)
    np.testing.assert_array_equal(first, [0.0, 1 / 3, -1 / 3])
    np.testing.assert_array_equal(second, 0.0)


def test_huber_at_delta_takes_the_linear_branch():
    # PyTorch: slope d inside, delta*sign(d) from |d| = delta on; curvature 1 only for |d| < delta.
    x = f64([0.0, 0.5, 2.0, -2.0, 3.0])
    first, second = derivatives(
        lambda a: L.huber_loss(a, tn.zeros(5, dtype="float64"), "sum", 2.0), x
    )
    np.testing.assert_array_equal(first, [0.0, 0.5, 2.0, -2.0, 2.0])
    np.testing.assert_array_equal(second, [1.0, 1.0, 0.0, 0.0, 0.0])


def test_bce_with_logits_is_smooth_at_zero():
    # A composite with abs(x) gets d/dx wrong exactly here (abs'(0) = 0).
    x = f64([0.0, 0.0, 0.0])
    y = f64([0.0, 1.0, 0.25], requires_grad=False)
    first, second = derivatives(
        lambda a: L.binary_cross_entropy_with_logits(a, y, reduction="sum"), x
    )
    np.testing.assert_array_equal(first, [0.5, -0.5, 0.25])
    np.testing.assert_array_equal(second, [0.25, 0.25, 0.25])


# -- stability: extreme logits, no floating-point warnings -------------------------------------
EXTREME = np.array(
    [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [999.0, 1000.0, -1000.0], [0.0, 0.0, 0.0]]
)


def soft_target_gradient(softmax, distribution, weight, denominator):
    """d/dx of -sum_n sum_c w_c t_nc log softmax(x_n)_c / D, in closed form."""
    weighted = distribution * weight
    return (weighted.sum(axis=1, keepdims=True) * softmax - weighted) / denominator


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_exact_and_finite_for_extreme_logits(dtype, rng):
    logits = np.concatenate([EXTREME, rng.uniform(-1e3, 1e3, (8, 3))]).astype(dtype)
    target = np.concatenate([[1, 0, 0, 2], rng.integers(0, 3, 8)])
    weight = np.array([1.0, 2.0, 0.5])
    probs = special.softmax(rng.normal(size=logits.shape), axis=1)
    smoothed = 0.9 * np.eye(3)[target] + 0.1 / 3
    softmax = special.softmax(logits.astype(np.float64), axis=1)
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    atol = 1e-7 if dtype == np.float32 else 1e-16
    cases = [
        ({}, target, np.ones(3), np.eye(3)[target], len(target)),
        ({"label_smoothing": 0.1}, target, weight, smoothed, weight[target].sum()),
        ({}, probs, weight, probs, len(target)),
    ]
    with warnings.catch_warnings(), strict_floating_point():
        warnings.simplefilter("error")
        x = tn.tensor(logits, requires_grad=True)
        for kwargs, targets, w, distribution, denominator in cases:
            x.grad = None
            loss = L.cross_entropy(x, targets, w, **kwargs)
            loss.backward()
            assert loss.dtype == dtype and x.grad.dtype == dtype
            expected = -(w * distribution * special.log_softmax(logits.astype(np.float64), 1))
            np.testing.assert_allclose(loss.item(), expected.sum() / denominator, rtol=rtol)
            expected_grad = soft_target_gradient(softmax, distribution, w, denominator)
            np.testing.assert_allclose(x.grad.data, expected_grad, rtol=rtol, atol=atol)
            (first,) = tn.grad(L.cross_entropy(x, targets, w, **kwargs), x, create_graph=True)
            (second,) = tn.grad((first * first).sum(), x)
            assert np.isfinite(second.data).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_exact_and_finite_for_extreme_logits(dtype):
    x = np.array([-1000.0, -100.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 100.0, 1000.0])
    x = np.repeat(x, 3).astype(dtype)
    y = np.tile([0.0, 1.0, 0.25], 9).astype(dtype)
    pos_weight = np.array(2.5, dtype)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    expected = ref_bce_with_logits(x64, y64, pos_weight=2.5)
    expected_grad = (1 - y64) * special.expit(x64) - 2.5 * y64 * special.expit(-x64)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    with warnings.catch_warnings(), strict_floating_point():
        warnings.simplefilter("error")
        logits = tn.tensor(x, requires_grad=True)
        loss = L.binary_cross_entropy_with_logits(
            logits, y, reduction="none", pos_weight=pos_weight
        )
        loss.sum().backward()
        assert loss.dtype == dtype and logits.grad.dtype == dtype
        # Relative accuracy even where the loss is tiny (x = 30, y = 1: e^-30), down to the
        # subnormals, which hold fewer digits (e^-100 in float32).
        atol = rtol * np.finfo(dtype).smallest_normal
        np.testing.assert_allclose(value(loss), expected, rtol=rtol, atol=atol)
        np.testing.assert_allclose(logits.grad.data, expected_grad, rtol=rtol, atol=atol)


def test_bce_of_saturated_probabilities_has_no_log_of_zero():
    probs = special.expit(np.array([-1000.0, -1000.0, 1000.0, 1000.0, -200.0, 0.3]))
    target = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.5])
    with warnings.catch_warnings(), strict_floating_point():
        warnings.simplefilter("error")
        p = f64(probs)
        loss = L.binary_cross_entropy(p, target, reduction="none")
        loss.sum().backward()
        np.testing.assert_allclose(value(loss), ref_bce(probs, target), rtol=1e-14)
        assert value(loss)[[1, 2]].tolist() == [100.0, 100.0]
        # Clamped logs have zero slope; elsewhere the slope is -(t/p) + (1-t)/(1-p).
        np.testing.assert_array_equal(p.grad.data[[1, 2, 4]], 0.0)
        assert p.grad.data[0] == 1.0 and p.grad.data[3] == -1.0
        assert np.isfinite(p.grad.data).all()


# -- properties ---------------------------------------------------------------------------------
@st.composite
def class_problems(draw):
    batch = draw(st.integers(1, 6))
    n_classes = draw(st.integers(1, 5))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (batch, n_classes, *extra)
    logits = rng.normal(size=shape) * draw(st.sampled_from([0.1, 3.0, 300.0]))
    target = rng.integers(0, n_classes, size=(batch, *extra))
    ignore_index = draw(st.sampled_from([-100, 0]))
    weight = rng.uniform(0.1, 3.0, n_classes) if draw(st.booleans()) else None
    eps = draw(st.sampled_from([0.0, 0.1, 1.0]))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return logits, target, weight, ignore_index, eps, reduction


@given(class_problems())
def test_property_cross_entropy_matches_reference(problem):
    logits, target, weight, ignore_index, eps, reduction = problem
    got = L.cross_entropy(
        f64(logits, requires_grad=False),
        target,
        weight,
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=eps,
    )
    expected = ref_cross_entropy(logits, target, weight, ignore_index, reduction, eps)
    np.testing.assert_allclose(value(got), expected, rtol=1e-10, atol=1e-12)


@given(class_problems(), st.floats(-1e3, 1e3))
def test_property_shift_invariance_and_gradient_sums(problem, shift):
    logits, target, weight, ignore_index, eps, reduction = problem
    kwargs = {"ignore_index": ignore_index, "label_smoothing": eps}
    x = f64(logits)
    loss = L.cross_entropy(x, target, weight, **kwargs).sum()
    loss.backward()
    shifted = L.cross_entropy(f64(logits + shift, requires_grad=False), target, weight, **kwargs)
    np.testing.assert_allclose(value(shifted).sum(), loss.item(), rtol=1e-9, atol=1e-9)
    # Anything computed through log_softmax has gradients summing to zero over the classes.
    np.testing.assert_allclose(x.grad.data.sum(axis=1), 0.0, atol=1e-12)


@given(
    st.integers(1, 8),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.5, 5.0, 500.0]),
    st.sampled_from(["mean", "sum", "none"]),
)
def test_property_bce_with_logits_is_two_class_cross_entropy(batch, seed, scale, reduction):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=batch) * scale, rng.uniform(0, 1, batch)
    binary = L.binary_cross_entropy_with_logits(f64(x), f64(y), reduction=reduction)
    two_class = np.stack([np.zeros(batch), x], axis=1)
    probs = np.stack([1 - y, y], axis=1)
    multi = L.cross_entropy(f64(two_class), probs, reduction=reduction)
    np.testing.assert_allclose(value(binary), value(multi), rtol=1e-10, atol=1e-12)
    moderate = np.clip(x, -20, 20)
    from_probs = L.binary_cross_entropy(f64(special.expit(moderate)), y, reduction=reduction)
    from_logits = L.binary_cross_entropy_with_logits(f64(moderate), y, reduction=reduction)
    np.testing.assert_allclose(value(from_probs), value(from_logits), rtol=1e-8)


# -- dtypes and target kinds ------------------------------------------------------------------
FLOAT32_CASES = {
    "mse": lambda x: L.mse_loss(x, np.zeros((3, 2))),
    "l1": lambda x: L.l1_loss(x, np.zeros((3, 2))),
    "huber": lambda x: L.huber_loss(x, np.zeros((3, 2)), delta=0.5),
    "cross_entropy": lambda x: L.cross_entropy(x, np.array([0, 1, 1]), np.array([1.0, 2.0])),
    "cross_entropy_probs": lambda x: L.cross_entropy(x, np.full((3, 2), 0.5), label_smoothing=0.1),
    "nll": lambda x: L.nll_loss(x, np.array([0, 1, 1])),
    "bce": lambda x: L.binary_cross_entropy(x.sigmoid(), np.ones((3, 2))),
    "bce_logits": lambda x: L.binary_cross_entropy_with_logits(
        x, np.ones((3, 2)), pos_weight=np.array([1.0, 2.0])
    ),
}


@pytest.mark.parametrize("name", FLOAT32_CASES)
def test_float32_in_float32_out(name, rng):
    x = tn.tensor(rng.normal(size=(3, 2)).astype(np.float32), requires_grad=True)
    loss = FLOAT32_CASES[name](x)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


def test_targets_may_be_tensors_arrays_or_small_integers(rng):
    logits = f64(rng.normal(size=(4, 3)), requires_grad=False)
    target = np.array([2, 0, 1, 2])
    expected = L.cross_entropy(logits, target).item()
    assert L.cross_entropy(logits, tn.tensor(target)).item() == expected
    assert L.cross_entropy(logits, target.astype(np.uint8)).item() == expected
    assert L.cross_entropy(logits, target.tolist()).item() == expected
    y = rng.normal(size=(4, 3))
    assert L.mse_loss(logits, y).item() == L.mse_loss(logits, tn.tensor(y)).item()


def test_gradient_flows_to_float_targets(rng):
    x, y = f64(rng.normal(size=3)), f64(rng.normal(size=3))
    L.mse_loss(x, y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.data, -2 * (x.data - y.data))


# -- validation ---------------------------------------------------------------------------------
ELEMENTWISE = {
    "mse_loss": L.mse_loss,
    "l1_loss": L.l1_loss,
    "huber_loss": L.huber_loss,
    "binary_cross_entropy": L.binary_cross_entropy,
    "binary_cross_entropy_with_logits": L.binary_cross_entropy_with_logits,
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_losses_refuse_to_broadcast(name):
    with pytest.raises(ValueError, match=r"\(3, 1\).*\(3,\)"):
        ELEMENTWISE[name](tn.full((3,), 0.5), np.full((3, 1), 0.5))


@pytest.mark.parametrize("name", [*ELEMENTWISE, "cross_entropy", "nll_loss"])
def test_reduction_must_be_known(name):
    fn = {**ELEMENTWISE, "cross_entropy": L.cross_entropy, "nll_loss": L.nll_loss}[name]
    target = np.zeros(2, np.int64) if name in ("cross_entropy", "nll_loss") else np.zeros((2, 2))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'"):
        fn(tn.full((2, 2), 0.5), target, reduction="avg")


@pytest.mark.parametrize("fn", [L.cross_entropy, L.nll_loss])
def test_class_targets_validation(fn):
    x = tn.zeros(4, 3)
    with pytest.raises(IndexError, match=r"target 5 .*3 classes"):
        fn(x, np.array([0, 5, 1, 2]))
    with pytest.raises(IndexError, match=r"target -1 .*3 classes"):
        fn(x, np.array([0, -1, 1, 2]))
    fn(x, np.array([0, -1, 1, 2]), ignore_index=-1)  # the ignored value may be anything
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\)"):
        fn(x, np.zeros((4, 2), np.int64))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4, 3\)"):
        fn(x, np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="integers"):
        fn(x, np.zeros(4))
    with pytest.raises(ValueError, match=r"weight .*\(3,\).*\(2,\)"):
        fn(x, np.zeros(4, np.int64), np.ones(2))
    with pytest.raises(ValueError, match="class axis"):
        fn(tn.tensor(1.0), np.array(0))


def test_probability_targets_only_for_cross_entropy():
    x, probs = tn.zeros(2, 3), np.full((2, 3), 1 / 3)
    L.cross_entropy(x, probs)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        L.nll_loss(x, probs)
    with pytest.raises(ValueError, match=r"\(2, 4\).*\(2, 3\)"):
        L.cross_entropy(x, np.full((2, 4), 0.25))
    with pytest.raises(TypeError):
        L.cross_entropy(x, np.zeros((2,), bool))


def test_other_argument_checks():
    x = tn.full((2,), 0.5)
    with pytest.raises(ValueError, match="probabilities in"):
        L.binary_cross_entropy(tn.tensor([0.5, 1.5]), x)
    with pytest.raises(ValueError, match="NaN"):
        L.binary_cross_entropy(tn.tensor([0.5, float("nan")]), x)
    with pytest.raises(ValueError, match=r"weight of shape \(3,\)"):
        L.binary_cross_entropy(x, x, np.ones(3))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\)"):
        L.binary_cross_entropy_with_logits(x, x, pos_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"weight of shape \(2, 2\)"):
        L.binary_cross_entropy_with_logits(x, x, np.ones((2, 2)))  # would enlarge the loss
    with pytest.raises(ValueError, match="delta must be positive"):
        L.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match="label_smoothing"):
        L.cross_entropy(tn.zeros(1, 2), np.array([0]), label_smoothing=1.5)
    with pytest.raises(TypeError, match="floating"):
        L.mse_loss(tn.tensor([1, 2]), np.array([1, 2]))


# -- modules ------------------------------------------------------------------------------------
def test_modules_match_their_functions(rng):
    x = f64(rng.normal(size=(4, 3)), requires_grad=False)
    y = rng.uniform(0, 1, (4, 3))
    target = np.array([0, 2, 1, 1])
    weight, pos_weight = np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.0, 4.0])
    pairs = [
        (tn.nn.losses.MSELoss(reduction="sum")(x, y), L.mse_loss(x, y, reduction="sum")),
        (L.L1Loss()(x, y), L.l1_loss(x, y)),
        (L.HuberLoss("none", 0.3)(x, y), L.huber_loss(x, y, "none", 0.3)),
        (
            L.CrossEntropyLoss(weight, ignore_index=2, label_smoothing=0.1)(x, target),
            L.cross_entropy(x, target, weight, ignore_index=2, label_smoothing=0.1),
        ),
        (
            L.NLLLoss(weight, reduction="none")(x, target),
            L.nll_loss(x, target, weight, reduction="none"),
        ),
        (L.BCELoss(weight)(x.sigmoid(), y), L.binary_cross_entropy(x.sigmoid(), y, weight)),
        (
            L.BCEWithLogitsLoss(weight, pos_weight=pos_weight)(x, y),
            L.binary_cross_entropy_with_logits(x, y, weight, pos_weight=pos_weight),
        ),
    ]
    for got, expected in pairs:
        np.testing.assert_array_equal(got.data, expected.data)


def test_weights_are_buffers():
    loss = L.BCEWithLogitsLoss(np.ones(3), pos_weight=tn.tensor([1.0, 2.0, 3.0]))
    assert sorted(dict(loss.named_buffers())) == ["pos_weight", "weight"]
    assert sorted(loss.state_dict()) == ["pos_weight", "weight"]
    assert list(loss.parameters()) == []
    assert list(L.CrossEntropyLoss().state_dict()) == []
    criterion = L.CrossEntropyLoss(np.array([1.0, 1.0]))
    criterion.load_state_dict({"weight": np.array([3.0, 1.0])})
    logits = tn.tensor([[0.0, math.log(3)], [0.0, math.log(3)]])
    # Weighted mean with weights (3, 1): (3 ln 4 + ln 4/3) / 4.
    expected = (3 * math.log(4) + math.log(4 / 3)) / 4
    assert criterion(logits, np.array([0, 1])).item() == pytest.approx(expected, rel=1e-6)


def test_module_arguments_and_repr():
    assert repr(L.MSELoss()) == "MSELoss()"
    assert repr(L.HuberLoss(delta=2.0)) == "HuberLoss(delta=2.0)"
    assert repr(L.L1Loss(reduction="sum")) == "L1Loss(reduction='sum')"
    with pytest.raises(ValueError, match="reduction"):
        L.CrossEntropyLoss(reduction="average")
    with pytest.raises(ValueError, match="label_smoothing"):
        L.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ValueError, match="delta"):
        L.HuberLoss(delta=-1.0)
    # PyTorch's deprecated size_average/reduce slots are not taken positionally.
    with pytest.raises(TypeError):
        L.CrossEntropyLoss(None, None, 5)
