"""smooth_l1_loss and kl_div against PyTorch's documented formulas (NumPy, SciPy), finite
differences at orders 1 and 2, their kinks, and their errors."""

import numpy as np
import pytest
from scipy import special, stats

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F


def f64(values, requires_grad=True):
    return tn.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def reduce(values, reduction):
    return {"none": values, "sum": np.sum(values), "mean": np.mean(values)}[reduction]


def ref_smooth_l1(d, beta):
    return np.where(np.abs(d) < beta, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)


# -- smooth_l1_loss ----------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("beta", [0.3, 1.0, 2.5])
def test_smooth_l1_matches_the_formula(reduction, beta, rng):
    x, y = rng.normal(size=(4, 3)) * 2, rng.normal(size=(4, 3))
    got = F.smooth_l1_loss(f64(x), y, reduction=reduction, beta=beta)
    expected = reduce(ref_smooth_l1(x - y, beta), reduction)
    np.testing.assert_allclose(got.data, expected, rtol=1e-13)


def test_smooth_l1_is_huber_over_beta_and_beta_zero_is_l1(rng):
    x, y = rng.normal(size=6) * 2, rng.normal(size=6)
    huber = F.huber_loss(f64(x), y, reduction="none", delta=0.7).data
    smooth = F.smooth_l1_loss(f64(x), y, reduction="none", beta=0.7).data
    np.testing.assert_allclose(smooth, huber / 0.7, rtol=1e-14)
    l1 = F.l1_loss(f64(x), y, reduction="none").data
    np.testing.assert_array_equal(F.smooth_l1_loss(f64(x), y, reduction="none", beta=0.0).data, l1)


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0])
def test_smooth_l1_passes_gradient_checks(beta, rng):
    x = f64(rng.normal(size=(3, 2)) * 2)
    y = f64(rng.normal(size=(3, 2)))

    def loss(a, b):
        return F.smooth_l1_loss(a, b, reduction="sum", beta=beta)

    assert tn.gradcheck(loss, (x, y)) and tn.gradgradcheck(loss, (x, y))


def test_smooth_l1_at_the_kink_takes_the_linear_branch():
    # PyTorch: slope sign(d) at |d| = beta (both branches agree), second derivative 0 there.
    x = f64([0.5, -0.5, 0.25])
    loss = F.smooth_l1_loss(x, np.zeros(3), reduction="sum", beta=0.5)
    (grad,) = tn.grad(loss, x, create_graph=True)
    np.testing.assert_array_equal(grad.data, [1.0, -1.0, 0.5])
    curvature = [tn.grad(grad[i], x, retain_graph=True)[0].data[i] for i in range(3)]
    np.testing.assert_array_equal(curvature, [0.0, 0.0, 2.0])  # 1 / beta inside only


def test_smooth_l1_errors():
    with pytest.raises(RuntimeError, match="beta must be non-negative"):
        F.smooth_l1_loss(f64([1.0]), [0.0], beta=-1.0)
    with pytest.raises(RuntimeError, match="beta must be non-negative"):
        nn.SmoothL1Loss(beta=-0.1)
    with pytest.raises(ValueError, match="reduction"):
        F.smooth_l1_loss(f64([1.0]), [0.0], reduction="batchmean")
    with pytest.raises(ValueError, match="target shape"):
        F.smooth_l1_loss(f64([1.0, 2.0]), [0.0])


def test_smooth_l1_module():
    module = nn.SmoothL1Loss(reduction="sum", beta=0.5)
    assert repr(module) == "SmoothL1Loss(reduction='sum', beta=0.5)"
    assert module.state_dict() == {}
    got = module(f64([1.0, 0.25]), np.zeros(2)).item()
    assert got == pytest.approx(0.75 + 0.0625, rel=1e-15)


# -- kl_div ------------------------------------------------------------------------------------
def probabilities(rng, shape):
    p = rng.uniform(0.05, 1.0, shape)
    return p / p.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
def test_kl_div_matches_scipy(reduction, rng):
    p, q = probabilities(rng, (4, 3)), probabilities(rng, (4, 3))
    pointwise = special.rel_entr(p, q)  # p log(p / q)
    expected = pointwise.sum() / 4 if reduction == "batchmean" else reduce(pointwise, reduction)
    got = F.kl_div(f64(np.log(q)), p, reduction=reduction)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-15)
    logged = F.kl_div(f64(np.log(q)), np.log(p), reduction=reduction, log_target=True)
    np.testing.assert_allclose(logged.data, expected, rtol=1e-12, atol=1e-15)


def test_batchmean_is_the_mean_kl_divergence_per_sample(rng):
    p, q = probabilities(rng, (5, 4)), probabilities(rng, (5, 4))
    per_sample = special.rel_entr(p, q).sum(axis=1)
    got = nn.KLDivLoss(reduction="batchmean")(f64(np.log(q)), f64(p)).item()
    assert got == pytest.approx(per_sample.mean(), rel=1e-12)


def test_kl_div_of_a_zero_target_is_zero_with_a_finite_input_gradient():
    # PyTorch's xlogy: 0 * log 0 = 0; the input gradient is -target = 0 there.
    q = f64(np.log([[0.5, 0.5]]))
    p = f64([[0.0, 1.0]])
    loss = F.kl_div(q, p, reduction="sum")
    assert loss.item() == pytest.approx(np.log(2.0), rel=1e-15)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad_q, grad_p = tn.grad(loss, (q, p))
    np.testing.assert_array_equal(grad_q.data, [[-0.0, -1.0]])
    # d/dp (xlogy(p, p) - p q) = log p + 1 - q where p > 0; at p = 0 xlogy's p / p is NaN,
    # as PyTorch 2's kl_div (its formula is xlogy(target, target) - target * input).
    np.testing.assert_allclose(grad_p.data, [[np.nan, 1.0 + np.log(2.0)]], rtol=1e-15)


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_passes_gradient_checks(log_target, rng):
    q = f64(np.log(probabilities(rng, (3, 2))))
    p = probabilities(rng, (3, 2))
    p = f64(np.log(p) if log_target else p)

    def loss(a, b):
        return F.kl_div(a, b, reduction="batchmean", log_target=log_target)

    assert tn.gradcheck(loss, (q, p)) and tn.gradgradcheck(loss, (q, p))


def test_kl_div_of_an_empty_batch_is_nan_and_of_a_scalar_is_the_sum():
    empty = F.kl_div(f64(np.zeros((0, 3))), np.zeros((0, 3)), reduction="batchmean")
    assert np.isnan(empty.item())
    scalar = F.kl_div(f64(np.log(0.5)), f64(0.25), reduction="batchmean")
    assert scalar.item() == pytest.approx(0.25 * (np.log(0.25) - np.log(0.5)), rel=1e-15)


def test_kl_div_errors_and_module():
    with pytest.raises(ValueError, match="reduction"):
        F.kl_div(f64([0.0]), [1.0], reduction="average")
    with pytest.raises(ValueError, match="reduction"):
        nn.KLDivLoss(reduction="average")
    with pytest.raises(ValueError, match="target shape"):
        F.kl_div(f64([0.0, 0.0]), [1.0])
    with pytest.raises(TypeError, match="floating"):
        F.kl_div(tn.tensor([0, 1]), [1.0, 0.0])
    module = nn.KLDivLoss(reduction="batchmean", log_target=True)
    assert repr(module) == "KLDivLoss(reduction='batchmean', log_target=True)"
    assert repr(nn.KLDivLoss()) == "KLDivLoss()"


# -- gaussian_nll_loss -------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_is_scipy_norm_logpdf(reduction, full, rng):
    mean, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    var = rng.uniform(0.2, 2.0, size=(4, 3))
    # -log N(y; mean, var) = 0.5 (log var + (y - mean)**2 / var) + 0.5 log(2 pi)
    pointwise = -stats.norm.logpdf(y, loc=mean, scale=np.sqrt(var))
    if not full:
        pointwise -= 0.5 * np.log(2 * np.pi)
    got = F.gaussian_nll_loss(f64(mean), y, f64(var), full, reduction=reduction)
    np.testing.assert_allclose(got.data, reduce(pointwise, reduction), rtol=1e-12)


def test_gaussian_nll_variance_shapes_and_float(rng):
    mean, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    var = rng.uniform(0.2, 2.0, size=4)
    expected = F.gaussian_nll_loss(f64(mean), y, np.repeat(var[:, None], 3, axis=1)).item()
    assert F.gaussian_nll_loss(f64(mean), y, var).item() == pytest.approx(expected, rel=1e-14)
    assert F.gaussian_nll_loss(f64(mean), y, var[:, None]).item() == pytest.approx(
        expected, rel=1e-14
    )
    same = F.gaussian_nll_loss(f64(mean), y, np.full((4, 3), 0.5)).item()
    assert nn.GaussianNLLLoss()(f64(mean), y, 0.5).item() == pytest.approx(same, rel=1e-15)
    with pytest.raises(ValueError, match="var of shape"):
        F.gaussian_nll_loss(f64(mean), y, np.ones(3))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(f64(mean), y, -np.ones(4))
    with pytest.raises(ValueError, match="does not broadcast"):
        F.gaussian_nll_loss(f64(mean), np.ones(4), np.ones(4))


def test_gaussian_nll_passes_gradient_checks(rng):
    mean, y = f64(rng.normal(size=(3, 2))), f64(rng.normal(size=(3, 2)))
    var = f64(rng.uniform(0.2, 2.0, size=(3, 1)))

    def loss(a, b, v):
        return F.gaussian_nll_loss(a, b, v, reduction="sum")

    assert tn.gradcheck(loss, (mean, y, var)) and tn.gradgradcheck(loss, (mean, y, var))


def test_gaussian_nll_clamps_var_in_value_only():
    # As PyTorch's in-place clamp under no_grad: the value uses eps, the gradient with respect
    # to var is the derivative at eps, passed on as if var were not clamped.
    var = f64([0.0, 1e-9, 0.5])
    loss = F.gaussian_nll_loss(f64([1.0, 1.0, 1.0]), np.zeros(3), var, eps=1e-3, reduction="sum")
    expected = 0.5 * (2 * (np.log(1e-3) + 1 / 1e-3) + np.log(0.5) + 2.0)
    assert loss.item() == pytest.approx(expected, rel=1e-14)
    (grad,) = tn.grad(loss, var)
    at = np.array([1e-3, 1e-3, 0.5])
    np.testing.assert_allclose(grad.data, 0.5 * (1 / at - 1 / at**2), rtol=1e-14)
    assert repr(nn.GaussianNLLLoss(full=True)) == "GaussianNLLLoss(full=True, eps=1e-06)"
