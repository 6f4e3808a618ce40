"""Exact values at non-differentiable points, by PyTorch's conventions, worked by hand;
no NaN/inf leaking from the branch ``where`` did not select; stability at large logits."""

import math

import numpy as np
import pytest
import scipy.special

import tinynet as tn
import tinynet.nn.functional as F


def tensor(values) -> tn.Tensor:
    return tn.Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def gradient(fn, *tensors):
    """The gradients of ``fn(*tensors).sum()``, as arrays."""
    grads = tn.grad(fn(*tensors).sum(), tensors, allow_unused=True)
    return [None if g is None else g.data for g in grads]


def hessian(fn, x) -> np.ndarray:
    """d2 fn(x).sum() / dx dx, row by row through create_graph."""
    (first,) = tn.grad(fn(x).sum(), x, create_graph=True)
    rows = []
    for i in range(x.numel()):
        if not first.requires_grad:
            rows.append(np.zeros(x.numel()))
            continue
        (row,) = tn.grad(first.reshape(-1)[i], x, retain_graph=True, allow_unused=True)
        rows.append(np.zeros(x.numel()) if row is None else row.data.ravel())
    return np.array(rows)


# -- activations at 0 -------------------------------------------------------------------------
def test_relu_derivative_at_zero_is_zero():
    (grad,) = gradient(tn.relu, tensor([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(grad, [0.0, 0.0, 1.0])


def test_abs_derivative_at_zero_is_zero():
    (grad,) = gradient(tn.abs, tensor([-1.5, 0.0, 2.0]))
    np.testing.assert_array_equal(grad, [-1.0, 0.0, 1.0])


def test_leaky_relu_derivative_at_zero_is_the_negative_slope():
    (grad,) = gradient(lambda x: tn.leaky_relu(x, 0.1), tensor([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(grad, [0.1, 0.1, 1.0])


def test_elu_derivative_at_zero_is_alpha():
    (grad,) = gradient(lambda x: tn.elu(x, alpha=0.7), tensor([-1.0, 0.0, 2.0]))
    np.testing.assert_allclose(grad, [0.7 * math.exp(-1.0), 0.7, 1.0], rtol=1e-15)


# -- ties ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [tn.maximum, tn.minimum], ids=["maximum", "minimum"])
def test_binary_extremum_ties_give_half_to_each_input(op):
    a, b = tensor([1.0, 2.0, 3.0]), tensor([1.0, 0.0, 3.0])
    grad_a, grad_b = gradient(op, a, b)
    wins_a = 1.0 if op is tn.maximum else 0.0
    np.testing.assert_array_equal(grad_a, [0.5, wins_a, 0.5])
    np.testing.assert_array_equal(grad_b, [0.5, 1.0 - wins_a, 0.5])


def test_binary_extremum_tie_with_a_broadcast_scalar_accumulates_halves():
    a, b = tensor([[1.0, 1.0, 2.0]]), tensor(1.0)
    grad_a, grad_b = gradient(tn.maximum, a, b)
    np.testing.assert_array_equal(grad_a, [[0.5, 0.5, 1.0]])
    assert grad_b == 1.0  # 0.5 + 0.5 + 0


@pytest.mark.parametrize("reduce", [tn.max, tn.min], ids=["max", "min"])
def test_reduction_ties_share_the_gradient_evenly(reduce):
    extreme = 3.0 if reduce is tn.max else -3.0
    x = tensor([extreme, 1.0, extreme, extreme])
    (grad,) = gradient(reduce, x)
    np.testing.assert_array_equal(grad, [1 / 3, 0.0, 1 / 3, 1 / 3])


def test_max_ties_along_an_axis_with_keepdims():
    x = tensor([[2.0, 2.0, 1.0], [1.0, 5.0, 0.0]])
    (grad,) = gradient(lambda x: tn.max(x, axis=1, keepdims=True) * tn.Tensor([[1.0], [4.0]]), x)
    np.testing.assert_array_equal(grad, [[0.5, 0.5, 0.0], [0.0, 4.0, 0.0]])


def test_max_reduction_ties_have_zero_second_derivative():
    np.testing.assert_array_equal(hessian(tn.max, tensor([2.0, 2.0])), np.zeros((2, 2)))


# -- clip, sqrt, std ----------------------------------------------------------------------------
def test_clip_passes_the_gradient_at_both_bounds():
    x = tensor([-2.0, -1.0, 0.0, 1.0, 2.0])
    (grad,) = gradient(lambda x: tn.clip(x, -1.0, 1.0), x)
    np.testing.assert_array_equal(grad, [0.0, 1.0, 1.0, 1.0, 0.0])
    (grad,) = gradient(lambda x: tn.clip(x, min=0.0), x)
    np.testing.assert_array_equal(grad, [0.0, 0.0, 1.0, 1.0, 1.0])
    (grad,) = gradient(lambda x: tn.clip(x, max=0.0), x)
    np.testing.assert_array_equal(grad, [1.0, 1.0, 1.0, 0.0, 0.0])


def test_logit_with_eps_passes_the_gradient_and_curvature_at_its_bounds_and_zero_outside():
    # PyTorch's logit_backward: 1 / (p (1 - p)) on [eps, 1 - eps], bounds included, else 0;
    # its double backward: (2p - 1) / (p (1 - p))^2 on the same closed interval.
    p = tensor([0.1, 0.2, 0.5, 0.8, 0.9])
    (grad,) = gradient(lambda p: tn.logit(p, eps=0.2), p)
    np.testing.assert_allclose(grad, [0.0, 6.25, 4.0, 6.25, 0.0], rtol=1e-14)
    curvature = np.diag(hessian(lambda p: tn.logit(p, eps=0.2), p))
    np.testing.assert_allclose(
        curvature, [0.0, -0.6 / 0.16**2, 0.0, 0.6 / 0.16**2, 0.0], rtol=1e-13
    )


def test_xlogy_at_x_zero_gives_pytorchs_log_y_and_nan_at_the_origin():
    # PyTorch: xlogy(grad, y) to x, 0 where x = 0 and y <= 0; grad * x / y to y (0 / 0 = NaN).
    with np.errstate(divide="ignore", invalid="ignore"):
        grad_x, grad_y = gradient(
            tn.xlogy, tensor([0.0, 0.0, 0.0, 2.0]), tensor([0.0, 3.0, -1.0, 4.0])
        )
    np.testing.assert_array_equal(grad_x, [0.0, math.log(3.0), 0.0, math.log(4.0)])
    np.testing.assert_array_equal(grad_y, [np.nan, 0.0, -0.0, 0.5])


def test_xlogy_second_derivatives_at_the_origin_are_pytorchs_formulas_differentiated():
    # d(grad_x)/dy = 1 / y masked to 0 at x = 0, y <= 0; d(grad_y)/dx = 1 / y = inf;
    # d(grad_y)/dy = -x / y^2 = 0 / 0 = NaN; d(grad_x)/dx = 0 (the mask is held).
    with np.errstate(divide="ignore", invalid="ignore"):
        second = hessian(_pair(tn.xlogy), tensor([0.0, 0.0]))
    np.testing.assert_array_equal(second, [[0.0, 0.0], [np.inf, np.nan]])


def test_sinc_at_zero_has_gradient_zero_and_pytorchs_held_mask_second_derivative():
    x = tensor([0.0])
    (grad,) = gradient(tn.sinc, x)
    np.testing.assert_array_equal(grad, [0.0])
    np.testing.assert_array_equal(hessian(tn.sinc, x), [[0.0]])  # true curvature: -pi**2 / 3


def test_copysign_at_zero_input_gives_no_gradient_and_other_pytorchs_zeros():
    grad_x, grad_other = gradient(tn.copysign, tensor([0.0, 2.0, -2.0]), tensor([-1.0, -0.0, 3.0]))
    np.testing.assert_array_equal(grad_x, [0.0, -1.0, -1.0])
    np.testing.assert_array_equal(grad_other, [0.0, 0.0, 0.0])  # zeros_like(other), not None
    # a broadcast other, another float dtype: a zeros .grad of its own shape and dtype
    other = tn.tensor(-0.0, dtype=tn.float32, requires_grad=True)
    result = tn.copysign(tensor([0.0, 1.0]), other)
    assert result.dtype == tn.float64 and np.signbit(result.data).all()
    result.sum().backward()
    assert other.grad is not None and other.grad.dtype == tn.float32 and other.grad.item() == 0.0


def test_sqrt_derivative_at_zero_is_infinite():
    with np.errstate(divide="ignore"):
        (grad,) = gradient(tn.sqrt, tensor([0.0, 4.0]))
    np.testing.assert_array_equal(grad, [np.inf, 0.25])


def test_std_of_equal_values_has_zero_gradient():
    # sqrt'(0) = inf times d var = 0: taken as 0, as PyTorch's std_backward does.
    for correction in (0, 1):
        (grad,) = gradient(lambda x, c=correction: tn.std(x, correction=c), tensor([2.0, 2.0]))
        np.testing.assert_array_equal(grad, [0.0, 0.0])
    (grad,) = gradient(lambda x: tn.std(x, correction=0), tensor([5.0]))
    np.testing.assert_array_equal(grad, [0.0])


# -- prod with zeros: exact, to second order -----------------------------------------------------
def test_prod_with_one_zero():
    x = tensor([0.0, 2.0, 3.0])
    (grad,) = gradient(tn.prod, x)
    np.testing.assert_array_equal(grad, [6.0, 0.0, 0.0])
    # d2/dxi dxj = product of the entries other than i and j.
    np.testing.assert_array_equal(hessian(tn.prod, x), [[0, 3, 2], [3, 0, 0], [2, 0, 0]])


def test_prod_with_two_zeros():
    x = tensor([0.0, 0.0, 3.0])
    (grad,) = gradient(tn.prod, x)
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(hessian(tn.prod, x), [[0, 3, 0], [3, 0, 0], [0, 0, 0]])


def test_prod_with_zeros_along_an_axis():
    x = tensor([[0.0, 2.0, 5.0], [3.0, 4.0, 1.0], [0.0, 0.0, 7.0]])
    (grad,) = gradient(lambda x: tn.prod(x, axis=1), x)
    np.testing.assert_array_equal(grad, [[10.0, 0.0, 0.0], [4.0, 3.0, 12.0], [0.0, 0.0, 0.0]])


def test_prod_whose_value_underflows_keeps_exact_gradients():
    x = tensor([1e-200, 1e-200])  # the product underflows to 0; each factor does not
    (grad,) = gradient(tn.prod, x)
    np.testing.assert_array_equal(grad, [1e-200, 1e-200])
    np.testing.assert_array_equal(hessian(tn.prod, x), [[0.0, 1.0], [1.0, 0.0]])


# -- pow at base 0 -----------------------------------------------------------------------------
def test_pow_exponent_gradient_at_base_zero_is_zero():
    a, b = tensor([0.0, 0.0, 2.0]), tensor([2.0, 0.0, 3.0])
    with np.errstate(divide="ignore"):
        grad_a, grad_b = gradient(tn.pow, a, b)
    # d/db a**b = a**b log a, taken as 0 at a == 0 (b >= 0); d/da a**0 = 0 even at a == 0.
    np.testing.assert_array_equal(grad_b, [0.0, 0.0, 8.0 * math.log(2.0)])
    np.testing.assert_array_equal(grad_a, [0.0, 0.0, 12.0])


@pytest.mark.parametrize(
    "exponent, first, second",
    [(0, 0.0, 0.0), (1, 1.0, 0.0), (2, 0.0, 2.0), (3, 0.0, 0.0), (0.5, np.inf, -np.inf)],
)
def test_scalar_pow_derivatives_at_zero(exponent, first, second):
    x = tensor([0.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        (grad,) = tn.grad((x**exponent).sum(), x, create_graph=True)
        assert grad.item() == first
        if second != 0.0:
            (grad2,) = tn.grad(grad.sum(), x)
            assert grad2.item() == second
        else:
            assert hessian(lambda x: x**exponent, x).item() == 0.0


def test_scalar_base_pow_gradient_at_base_zero():
    b = tensor([1.0, 2.0])
    (grad,) = gradient(lambda b: 0.0**b, b)
    np.testing.assert_array_equal(grad, [0.0, 0.0])


# -- qr where LAPACK reflects nothing -----------------------------------------------------------
@pytest.mark.parametrize("rows", [2, 3])
def test_qr_of_a_matrix_already_zero_below_the_diagonal(rows):
    # Householder QR (LAPACK's, so NumPy's and PyTorch's) skips the reflection of a column
    # already zero below the diagonal: here every one, so Q = I and R = A keep A's negative
    # diagonal, where any nearby matrix gets the other signs. qr's kinks say so.
    from tinynet.lab.kinks import kink_coordinates
    from tinynet.ops.linalg import QrQ, QrR

    a = np.zeros((rows, 2))
    a[:2] = [[-2.0, 1.0], [0.0, 3.0]]
    q, r = tn.linalg.qr(tensor(a))
    np.testing.assert_array_equal(q.data, np.eye(rows, 2))
    np.testing.assert_array_equal(r.data, a[:2])
    nudged = a.copy()
    nudged[1, 0] = 1e-9
    assert np.linalg.qr(nudged)[1][0, 0] > 0 > r.data[0, 0]
    for cls in (QrQ, QrR):
        [(point, coordinates)] = kink_coordinates(cls, [a, False])
        np.testing.assert_array_equal(coordinates, np.zeros(min(rows - 1, 2)))
        [(_, coordinates)] = kink_coordinates(cls, [nudged, False])
        np.testing.assert_allclose(coordinates[0], 1e-9, rtol=1e-12)
    # Perturbations that keep A upper triangular keep Q = I and move R as A: the gradient's
    # upper part is the gradient of R, whatever the gradient of Q.
    rng = np.random.default_rng(0)
    weights_q, weights_r = rng.normal(size=(rows, 2)), rng.normal(size=(2, 2))

    def loss(x):
        q, r = tn.linalg.qr(x)
        return tn.sum(q * weights_q) + tn.sum(r * weights_r)

    (grad,) = gradient(loss, tensor(a))
    np.testing.assert_allclose(np.triu(grad[:2]), np.triu(weights_r), rtol=1e-12, atol=1e-15)


# -- where: the unselected branch never leaks ----------------------------------------------------
WHERE_CASES = {
    "exp overflow": (lambda x: tn.where(x < 50, x.exp(), 0.0), [1000.0, 1.0], [0.0, math.e]),
    "log at 0": (lambda x: tn.where(x > 0, x.log(), 0.0), [0.0, 2.0], [0.0, 0.5]),
    "log of negative": (lambda x: tn.where(x > 0, x, x.log()), [2.0, 3.0], [1.0, 1.0]),
    "sqrt at 0": (lambda x: tn.where(x > 0, x.sqrt(), 0.0), [0.0, 4.0], [0.0, 0.25]),
    "division by 0": (lambda x: tn.where(x != 0, 1.0 / x, 0.0), [0.0, 2.0], [0.0, -0.25]),
    "pow at 0": (lambda x: tn.where(x > 0, x**0.5, 0.0), [0.0, 4.0], [0.0, 0.25]),
    # x log x (entropy): the product meets log(0) = -inf in the unselected branch.
    "x log x at 0": (
        lambda x: tn.where(x > 0, x * x.log(), 0.0),
        [0.0, 0.5],
        [0.0, math.log(0.5) + 1.0],
    ),
}


@pytest.mark.parametrize("case", WHERE_CASES, ids=list(WHERE_CASES))
def test_where_does_not_leak_from_the_unselected_branch(case):
    fn, values, expected = WHERE_CASES[case]
    x = tensor(values)
    with np.errstate(all="ignore"):  # the unselected branch may overflow in forward
        (grad,) = tn.grad(fn(x).sum(), x, create_graph=True)
        np.testing.assert_allclose(grad.data, expected, rtol=1e-15)
        if grad.requires_grad:
            (grad2,) = tn.grad(grad.sum(), x, allow_unused=True)
            assert grad2 is None or np.isfinite(grad2.data).all()


def test_where_with_negative_log_inputs_selected_away():
    x = tensor([-1.0, 2.0])
    with np.errstate(invalid="ignore"):
        (grad,) = gradient(lambda x: tn.where(x > 0, x.log(), x), x)
    np.testing.assert_array_equal(grad, [1.0, 0.5])


# -- stability at large logits -------------------------------------------------------------------
LOGITS = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1003.0], [1e3, -1e3, 0.0]])


def test_softmax_at_large_logits_is_finite_and_exact():
    x = tensor(LOGITS)
    y = tn.softmax(x, axis=1)
    np.testing.assert_allclose(y.data, scipy.special.softmax(LOGITS, axis=1), rtol=1e-14, atol=0)
    (grad,) = tn.grad((y * tn.Tensor(np.arange(9.0).reshape(3, 3))).sum(), x)
    assert np.isfinite(grad.data).all()


def test_log_softmax_at_large_logits_is_finite_and_exact():
    x = tensor(LOGITS)
    y = tn.log_softmax(x, axis=1)
    expected = scipy.special.log_softmax(LOGITS, axis=1)
    np.testing.assert_allclose(y.data, expected, rtol=1e-14, atol=0)
    (grad,) = tn.grad(y.sum(), x)
    # d/dx sum(log_softmax(x)) = 1 - n * softmax(x)
    np.testing.assert_allclose(grad.data, 1 - 3 * np.exp(expected), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_logsumexp_at_large_logits_is_finite_and_exact(axis):
    x = tensor(LOGITS)
    y = tn.logsumexp(x, axis=axis)
    expected = scipy.special.logsumexp(LOGITS, axis=axis)
    np.testing.assert_allclose(y.data, expected, rtol=1e-15, atol=0)
    (grad,) = tn.grad(y.sum(), x)
    assert np.isfinite(grad.data).all()
    softmax = np.exp(LOGITS - scipy.special.logsumexp(LOGITS, axis=axis, keepdims=True))
    np.testing.assert_allclose(grad.data, softmax, rtol=1e-12, atol=1e-300)


def test_relu_backward_drops_nan_and_inf_gradients_where_the_input_is_not_positive():
    # PyTorch's threshold_backward is a select, not a product: NaN * 0 must not appear.
    for dtype in (np.float32, np.float64):
        x = tn.tensor(np.array([-1.0, 0.0, 2.0], dtype=dtype), requires_grad=True)
        x.relu().backward(np.array([np.nan, np.inf, 3.0], dtype=dtype))
        np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 3.0])
        assert x.grad.dtype == dtype


def test_threshold_keeps_a_nan_and_passes_its_gradient_as_pytorch_does():
    # PyTorch: value where x <= threshold, else x; its backward zeroes where x <= threshold.
    x = tn.tensor([np.nan, 0.5, 1.0, 2.0], requires_grad=True)
    y = F.threshold(x, 1.0, -1.0)
    np.testing.assert_array_equal(y.data, [np.nan, -1.0, -1.0, 2.0])
    y.backward(tn.tensor([3.0, 4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 0.0, 6.0])


@pytest.mark.parametrize(
    "fn, expected",
    [
        # PyTorch's elu_backward takes the negative side where x <= 0: a NaN gets the
        # positive side's slope (scale for selu); prelu's takes weight where not x > 0.
        (F.elu, 1.0),
        (F.selu, 1.0507009873554805),
        (lambda x: F.celu(x, 2.0), 1.0),
        (lambda x: F.leaky_relu(x, 0.1), 0.1),
        (lambda x: F.prelu(x, tn.tensor([0.25], dtype=x.dtype)), 0.25),
    ],
)
def test_activations_at_a_nan_input_take_pytorchs_side(fn, expected):
    x = tn.tensor([np.nan, -1.0, 2.0], requires_grad=True)
    y = fn(x)
    assert np.isnan(y.data[0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data[0], expected, rtol=1e-6)


def test_relu_passes_the_gradient_at_a_nan_input_as_pytorch_does():
    # PyTorch's relu backward is threshold_backward(grad, result, 0): zero where
    # result <= 0. relu(nan) is nan and nan <= 0 is false, so the gradient passes; -0.0 and 0
    # are <= 0 and get none. Eager, second order and compiled replays agree.
    for dtype in (np.float32, np.float64):
        values = np.array([np.nan, -0.0, 0.0, -np.nan, 2.0, -3.0], dtype=dtype)
        incoming = np.array([5.0, 6.0, 7.0, 8.0, 9.0, 10.0], dtype=dtype)
        expected = [5.0, 0.0, 0.0, 8.0, 9.0, 0.0]
        x = tn.tensor(values, requires_grad=True)
        x.relu().backward(incoming)
        np.testing.assert_array_equal(x.grad.data, expected)
        (first,) = tn.grad((x.relu() * tn.tensor(incoming)).sum(), x, create_graph=True)
        np.testing.assert_array_equal(first.data, expected)

        @tn.compile
        def step(inputs, x=x):
            x.grad = None
            (x.relu() * inputs).sum().backward()

        for _ in range(5):  # eager, recorded, first replay, generated replays
            step(tn.tensor(incoming))
            np.testing.assert_array_equal(x.grad.data, expected)


# -- second order at the kinks (the second-order column of docs/autograd.md) -----------------------
# PyTorch's double backward differentiates each first-order rule with its masks held constant:
# a rule that is piecewise constant at the kink gives 0 there, elu's exponential side only
# counts for x < 0 (elu_double_backward masks with self < 0).
@pytest.mark.parametrize(
    "fn",
    [
        tn.relu,
        tn.abs,
        lambda x: tn.leaky_relu(x, 0.1),
        lambda x: tn.elu(x, alpha=0.7),
        lambda x: tn.clip(x, 0.0, 1.0),
        lambda x: tn.maximum(x, tn.zeros(1, dtype=tn.float64)),
        lambda x: tn.minimum(x, tn.zeros(1, dtype=tn.float64)),
    ],
    ids=["relu", "abs", "leaky_relu", "elu", "clip", "maximum", "minimum"],
)
def test_second_derivative_at_the_kink_is_zero(fn):
    np.testing.assert_array_equal(hessian(fn, tensor([0.0])), [[0.0]])


def test_elu_second_derivative_away_from_zero():
    x = tensor([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(
        np.diag(hessian(lambda x: tn.elu(x, alpha=0.7), x)), [0.7 * math.exp(-1.0), 0.0, 0.0]
    )


def test_clip_second_derivative_at_its_upper_bound_is_zero():
    np.testing.assert_array_equal(hessian(lambda x: tn.clip(x, 0.0, 1.0), tensor([1.0])), [[0.0]])


def test_sqrt_second_derivative_at_zero_is_minus_infinity():
    # d/dx 1 / (2 sqrt x) = -1 / (4 x^1.5), which tends to -inf as x -> 0+.
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(hessian(tn.sqrt, tensor([0.0])), [[-np.inf]])


def test_pow_exponent_second_derivative_at_base_zero_is_zero():
    b = tensor([2.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        second = hessian(lambda b: tn.pow(tn.zeros(1, dtype=tn.float64), b), b)
    np.testing.assert_array_equal(second, [[0.0]])


def test_max_pool_tie_second_derivative_is_zero():
    x = tensor([1.0, 1.0, 0.5, 2.0])  # a tie in the first window
    second = hessian(lambda x: F.max_pool1d(x.reshape(1, 1, 4), 2).sum(), x)
    np.testing.assert_array_equal(second, np.zeros((4, 4)))


# == issue 11: rounding, modulo and the hard activations, by PyTorch's conventions ==============
@pytest.mark.parametrize("op", [tn.floor, tn.ceil, tn.trunc, tn.round, tn.sign])
def test_piecewise_constant_ops_have_zero_gradients_even_at_their_jumps(op):
    x = tensor([-1.0, -0.5, 0.0, 0.5, 2.0, 2.5])
    (grad,) = gradient(op, x)
    np.testing.assert_array_equal(grad, np.zeros(6))
    np.testing.assert_array_equal(hessian(op, x), np.zeros((6, 6)))


def test_fmod_and_remainder_gradients_are_one_and_minus_the_quotient():
    a, b = tensor([7.0, -7.0, 5.5]), tensor([2.0, 2.0, -2.0])
    grad_a, grad_b = gradient(tn.fmod, a, b)
    np.testing.assert_array_equal(grad_a, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(grad_b, -np.trunc(a.data / b.data))
    grad_a, grad_b = gradient(tn.remainder, a, b)
    np.testing.assert_array_equal(grad_a, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(grad_b, -np.floor(a.data / b.data))


@pytest.mark.parametrize(
    "op, low, high",
    [
        (tn.hardtanh, -1.0, 1.0),
        (tn.relu6, 0.0, 6.0),
        (lambda x: tn.hardtanh(x, -2.0, 0.5), -2.0, 0.5),
    ],
)
def test_hardtanh_family_gradient_is_zero_at_the_bounds(op, low, high):
    x = tensor([low - 1, low, (low + high) / 2, high, high + 1])
    (grad,) = gradient(op, x)
    np.testing.assert_array_equal(grad, [0.0, 0.0, 1.0, 0.0, 0.0])


def test_hardsigmoid_gradient_is_a_sixth_strictly_inside_only():
    (grad,) = gradient(tn.hardsigmoid, tensor([-4.0, -3.0, 0.0, 3.0, 4.0]))
    np.testing.assert_allclose(grad, [0.0, 0.0, 1 / 6, 0.0, 0.0], rtol=1e-15)


def test_hardswish_derivatives_at_minus_three_and_three():
    # PyTorch: slope x/3 + 1/2 on the closed interval [-3, 3]; curvature 1/3 strictly inside.
    x = tensor([-4.0, -3.0, 0.0, 3.0, 4.0])
    (grad,) = gradient(tn.hardswish, x)
    np.testing.assert_allclose(grad, [0.0, -0.5, 0.5, 1.5, 1.0], rtol=1e-15)
    np.testing.assert_allclose(hessian(tn.hardswish, x), np.diag([0, 0, 1 / 3, 0, 0]), rtol=1e-15)


def test_selu_celu_and_softsign_at_zero():
    scale_alpha = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717
    (grad,) = gradient(tn.selu, tensor([0.0]))
    np.testing.assert_allclose(grad, [scale_alpha], rtol=1e-15)
    (grad,) = gradient(lambda x: tn.celu(x, 0.5), tensor([0.0]))
    np.testing.assert_array_equal(grad, [1.0])
    (grad,) = gradient(tn.softsign, tensor([0.0]))
    np.testing.assert_array_equal(grad, [1.0])


def test_hypot_and_atan2_at_the_origin_give_pytorchs_nan_and_logaddexp_ties_split():
    # PyTorch: grad * a / hypot(a, b) and grad * b / (a^2 + b^2): 0 / 0 = NaN at the origin.
    with np.errstate(divide="ignore", invalid="ignore"):
        grad_a, grad_b = gradient(tn.hypot, tensor([0.0, 3.0]), tensor([0.0, 4.0]))
        np.testing.assert_array_equal(grad_a, [np.nan, 0.6])
        np.testing.assert_array_equal(grad_b, [np.nan, 0.8])
        grad_y, grad_x = gradient(tn.atan2, tensor([0.0, 3.0]), tensor([0.0, 4.0]))
        np.testing.assert_allclose(grad_y, [np.nan, 4 / 25], rtol=1e-15)
        np.testing.assert_allclose(grad_x, [np.nan, -3 / 25], rtol=1e-15)
    grad_a, grad_b = gradient(tn.logaddexp, tensor([1.0]), tensor([1.0]))
    assert grad_a == grad_b == 0.5


@pytest.mark.parametrize("op", [tn.hypot, tn.atan2], ids=["hypot", "atan2"])
def test_hypot_and_atan2_second_derivatives_at_the_origin_are_nan_and_a_zero_gradient_stays_0(op):
    # PyTorch's first-order formulas differentiated: 1 / 0 and 0 / 0 terms, NaN everywhere.
    with np.errstate(divide="ignore", invalid="ignore"):
        second = hessian(_pair(op), tensor([0.0, 0.0]))
        assert np.isnan(second).all()
        # the branch `where` did not select passes a zero gradient: 0, tinynet's rule
        x = tensor([0.0, 0.0])
        (grad,) = gradient(lambda t: tn.where(t > 1.0, _pair(op)(t), 0.0), x)
    np.testing.assert_array_equal(grad, [0.0, 0.0])


def test_logaddexp_logsigmoid_and_expm1_are_stable():
    big = tensor([1000.0, -1000.0])
    np.testing.assert_array_equal(
        tn.logaddexp(big, big).data, [1000.0 + math.log(2), -1000.0 + math.log(2)]
    )
    (grad,) = gradient(tn.logsigmoid, big)
    np.testing.assert_array_equal(grad, [0.0, 1.0])
    assert tn.expm1(tensor([1e-20])).item() == 1e-20


# -- second order at the kinks of the issue-11 ops (the second-order column of docs/autograd.md):
# each first-order rule below is piecewise constant (or linear in x) at the kink, so with its
# masks held constant, as PyTorch's double backward holds them, the second derivative is 0.
def _pair(op):
    """``op(a, b)`` as a function of one tensor ``[a..., b...]`` (slicing is linear)."""
    return lambda x: op(x[: x.shape[0] // 2], x[x.shape[0] // 2 :])


def _weights(n):
    return tn.tensor(np.arange(1.0, n + 1.0))


_ZERO_SECOND_ORDER = {
    # x at the kinks: a / b whole for the modulo ops, the bounds, ties, zero vectors
    "floor_divide": (_pair(lambda a, b: a // b), [4.0, -3.0, 2.0, 1.5]),
    "fmod": (_pair(tn.fmod), [4.0, -3.0, 2.0, 1.5]),
    "remainder": (_pair(tn.remainder), [4.0, -3.0, 2.0, 1.5]),
    "hardtanh": (tn.hardtanh, [-1.0, 1.0]),
    "relu6": (tn.relu6, [0.0, 6.0]),
    "hardsigmoid": (tn.hardsigmoid, [-3.0, 3.0]),
    "hardswish": (tn.hardswish, [-3.0, 3.0]),
    "selu": (tn.selu, [0.0]),
    "celu": (lambda x: tn.celu(x, 0.5), [0.0]),
    "softsign": (tn.softsign, [0.0]),
    "sort": (lambda x: tn.sort(x)[0] * _weights(3), [1.0, 1.0, 0.0]),
    "topk": (lambda x: tn.topk(x, 2)[0] * _weights(2), [1.0, 1.0, 0.0]),
    "cummax": (lambda x: tn.cummax(x, 0)[0] * _weights(3), [1.0, 1.0, 0.0]),
    "cummin": (lambda x: tn.cummin(x, 0)[0] * _weights(3), [0.0, 0.0, 1.0]),
    "median": (tn.median, [1.0, 2.0, 3.0, 4.0]),
    "quantile": (lambda x: tn.quantile(x, 0.3), [1.0, 1.0, 2.0]),
    "kthvalue": (lambda x: tn.kthvalue(x, 2, 0)[0], [1.0, 1.0, 0.0]),
    "msort": (lambda x: tn.msort(x) * _weights(3), [1.0, 1.0, 0.0]),
    "mode": (lambda x: tn.mode(x, 0)[0], [1.0, 2.0, 1.0]),
    "nanmedian": (tn.nanmedian, [2.0, 2.0, 1.0, 3.0]),
    "nanmedian_dim": (lambda x: tn.nanmedian(x, 0)[0], [2.0, 2.0, 1.0, 3.0]),
    "aminmax": (lambda x: tn.stack(tn.aminmax(x)) * _weights(2), [1.0, 1.0, 2.0, 2.0]),
    "nansum": (tn.nansum, [1.0, float("nan"), 2.0]),
    "nanmean": (tn.nanmean, [1.0, float("nan"), 2.0]),
    "norm_2": (tn.norm, [0.0, 0.0]),
    "norm_1.5": (lambda x: tn.norm(x, 1.5), [0.0, 0.0]),
    "norm_3": (lambda x: tn.norm(x, 3.0), [0.0, 0.0]),
    "norm_1": (lambda x: tn.norm(x, 1.0), [0.0, 0.0]),
    "norm_0.5": (lambda x: tn.norm(x, 0.5), [0.0, 0.0]),
    # matrix norms: column (1) and row (inf) absolute sums tie
    "norm_matrix_1": (lambda x: tn.norm(x.reshape(2, 2), 1, dim=(0, 1)), [1.0, -2.0, 2.0, 1.0]),
    "norm_matrix_inf": (
        lambda x: tn.norm(x.reshape(2, 2), float("inf"), dim=(0, 1)),
        [1.0, -2.0, 2.0, 1.0],
    ),
    "normalize": (lambda x: tn.normalize(x, dim=0), [0.0, 0.0]),
    "norm_inf": (lambda x: tn.norm(x, float("inf")), [1.0, -1.0]),
    "norm_-inf": (lambda x: tn.norm(x, float("-inf")), [1.0, -1.0]),
    "gather": (lambda x: tn.gather(x, 0, tn.tensor([0, 0, 1])) * _weights(3), [1.0, 2.0]),
    "index_select": (lambda x: tn.index_select(x, 0, tn.tensor([1, 1])) * _weights(2), [1.0, 2.0]),
    "take_along_axis": (
        lambda x: tn.take_along_axis(x, tn.tensor([0, 0]), 0) * _weights(2),
        [1.0, 2.0],
    ),
    "repeat_interleave": (lambda x: tn.repeat_interleave(x, 2) * _weights(4), [1.0, 2.0]),
    "pad_reflect": (lambda x: tn.pad(x, (2, 2), mode="reflect") * _weights(7), [1.0, 2.0, 3.0]),
    "pad_replicate": (
        lambda x: tn.pad(x, (2, 2), mode="replicate") * _weights(7),
        [1.0, 2.0, 3.0],
    ),
    "pad_circular": (
        lambda x: tn.pad(x, (2, 2), mode="circular") * _weights(7),
        [1.0, 2.0, 3.0],
    ),
    "scatter": (
        lambda x: tn.scatter(tn.zeros(2, dtype=tn.float64), 0, tn.tensor([0, 0]), x) * _weights(2),
        [1.0, 2.0],
    ),
    "scatter_reduce_amax": (
        lambda x: tn.scatter_reduce(x[:1], 0, tn.tensor([0, 0]), x[1:], "amax"),
        [1.0, 1.0, 1.0],
    ),
    "scatter_reduce_amin": (
        lambda x: tn.scatter_reduce(x[:1], 0, tn.tensor([0, 0]), x[1:], "amin"),
        [1.0, 1.0, 1.0],
    ),
}


def test_scatter_repeated_indices_give_every_duplicate_grad_gather_as_pytorch():
    # PyTorch's scatter backward: src gets grad.gather(dim, index) (the overwritten values
    # too), self gets grad with the written places zeroed; the last write wins the value.
    x = tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    src = tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    index = tn.tensor([[0, 0, 2], [1, 1, 1]])
    weights = tn.tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    out = tn.scatter(x, 1, index, src)
    assert out.tolist() == [[2.0, 0.0, 3.0], [0.0, 6.0, 0.0]]
    grad_x, grad_src = gradient(lambda a, b: tn.scatter(a, 1, index, b) * weights, x, src)
    np.testing.assert_array_equal(grad_x, [[0.0, 2.0, 0.0], [4.0, 0.0, 6.0]])
    np.testing.assert_array_equal(grad_src, np.take_along_axis(weights.data, index.data, 1))


@pytest.mark.parametrize("name", sorted(_ZERO_SECOND_ORDER))
def test_issue_11_second_derivatives_at_their_kinks_are_zero(name):
    fn, values = _ZERO_SECOND_ORDER[name]
    with np.errstate(divide="ignore", invalid="ignore"):
        second = hessian(fn, tensor(values))
    np.testing.assert_array_equal(second, np.zeros((len(values), len(values))))


def test_logaddexp_at_a_tie_is_smooth_with_curvature_a_quarter():
    # d2/da2 log(e^a + e^b) = s (1 - s) with s = sigmoid(a - b) = 1/2 at a tie.
    second = hessian(_pair(tn.logaddexp), tensor([1.0, 1.0]))
    np.testing.assert_array_equal(second, [[0.25, -0.25], [-0.25, 0.25]])


def test_cumprod_with_zeros_second_derivatives_are_exact_products():
    # sum(cumprod(x)) = x0 + x0 x1 + x0 x1 x2: d2/dx0 dx1 = 1 + x2, d2/dx0 dx2 = x1, d2/dx1 dx2 = x0.
    for values in ([2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [0.0, 5.0, 0.0]):
        x0, x1, x2 = values
        expected = [[0, 1 + x2, x1], [1 + x2, 0, x0], [x1, x0, 0]]
        np.testing.assert_array_equal(hessian(lambda x: tn.cumprod(x, 0), tensor(values)), expected)


def test_scatter_reduce_prod_with_zeros_second_derivatives_are_exact_products():
    # 1 * s0 * s1 * s2: d2/dsi dsj is the product of the third source.
    def fn(src):
        return tn.scatter_reduce(tn.ones(1, dtype=tn.float64), 0, tn.tensor([0, 0, 0]), src, "prod")

    for values in ([0.0, 2.0, 3.0], [0.0, 0.0, 3.0]):
        s0, s1, s2 = values
        np.testing.assert_array_equal(
            hessian(fn, tensor(values)), [[0, s2, s1], [s2, 0, s0], [s1, s0, 0]]
        )


def test_normalize_of_a_zero_vector_divides_by_eps():
    # PyTorch: x / norm.clamp_min(eps); below eps the clamp passes no gradient to the norm.
    (grad,) = gradient(lambda x: tn.normalize(x, dim=0, eps=1e-3), tensor([0.0, 0.0]))
    np.testing.assert_array_equal(grad, [1e3, 1e3])


# == end of issue 11 ==


def test_spectral_norm_ties_share_and_nuclear_norm_at_a_zero_singular_value_is_u_vh():
    eye = tn.tensor(np.eye(2), requires_grad=True)  # singular values 1, 1: a tie for the max
    tn.norm(eye, 2, dim=(0, 1)).backward()
    np.testing.assert_allclose(eye.grad.data, 0.5 * np.eye(2), atol=1e-15)
    rank_one = tn.tensor(np.diag([1.0, 0.0]), requires_grad=True)  # U = Vh = I
    tn.norm(rank_one, "nuc", dim=(0, 1)).backward()
    np.testing.assert_allclose(rank_one.grad.data, np.eye(2), atol=1e-15)


# == issue 12 (s2J): similarities, distances, smooth L1, KL divergence ==
def test_cosine_similarity_at_a_zero_vector():
    # PyTorch clamps each norm at eps in value only; the norm's gradient at 0 is 0, so the
    # gradient is x2 / (eps |x2|) and the second derivative is 0.
    def fn(x):
        return tn.cosine_similarity(x, tn.tensor(np.array([3.0, 4.0])), dim=0, eps=1e-4)

    (grad,) = gradient(fn, tensor([0.0, 0.0]))
    np.testing.assert_allclose(grad, [3.0 / 5e-4, 4.0 / 5e-4], rtol=1e-15)
    np.testing.assert_array_equal(hessian(fn, tensor([0.0, 0.0])), np.zeros((2, 2)))


def test_pairwise_distance_at_equal_points_has_zero_derivatives():
    def fn(x):
        return tn.pairwise_distance(x[:2], x[2:], eps=0.0)

    (grad,) = gradient(fn, tensor([1.0, 2.0, 1.0, 2.0]))
    np.testing.assert_array_equal(grad, np.zeros(4))
    np.testing.assert_array_equal(hessian(fn, tensor([1.0, 2.0, 1.0, 2.0])), np.zeros((4, 4)))


def test_smooth_l1_at_beta_takes_the_linear_branch_and_beta_zero_is_l1():
    def fn(x):
        return F.smooth_l1_loss(x, tn.zeros(3, dtype=tn.float64), reduction="none", beta=0.5)

    (grad,) = gradient(fn, tensor([0.5, -0.5, 0.0]))
    np.testing.assert_array_equal(grad, [1.0, -1.0, 0.0])
    np.testing.assert_array_equal(hessian(fn, tensor([0.5, -0.5, 0.0])), np.diag([0, 0, 2.0]))
    (grad,) = gradient(lambda x: F.smooth_l1_loss(x, tn.zeros(1), beta=0.0), tensor([0.0]))
    np.testing.assert_array_equal(grad, [0.0])


def test_kl_div_at_a_zero_target_gives_pytorchs_nan_through_xlogy():
    # PyTorch 2: xlogy(t, t) - t * input. To t: xlogy(grad, t) (0 at t = 0, where t <= 0)
    # + grad * t / t (0 / 0 = NaN) - input; log(t) + 1 - input where t > 0. To input: -t.
    log_q = tn.tensor(np.log([0.5, 0.5]))

    def fn(t):
        return F.kl_div(log_q, t, reduction="sum")

    with np.errstate(divide="ignore", invalid="ignore"):
        (grad,) = gradient(fn, tensor([0.0, 1.0]))
        np.testing.assert_allclose(grad, [np.nan, 1.0 + math.log(2.0)], rtol=1e-15)
        # second order: d/dt (t / t) at 0 is 1 / 0 - 0 / 0 = NaN; 1 / t where t > 0. The
        # row of t1 has 0 at t0, a zero gradient times t0's 1 / 0 (tinynet's rule; PyTorch NaN)
        np.testing.assert_array_equal(hessian(fn, tensor([0.0, 1.0])), [[np.nan, 0.0], [0.0, 1.0]])
        log_p = tensor(np.log([0.5, 0.5]))
        (grad_input,) = gradient(lambda q: F.kl_div(q, tensor([0.0, 1.0]), reduction="sum"), log_p)
    np.testing.assert_array_equal(grad_input, [0.0, -1.0])  # -target: finite at t = 0


def test_poisson_nll_full_gives_target_pytorchs_nan_at_or_below_zero_and_0_up_to_1():
    # PyTorch: loss + (t log t - t + 0.5 log(2 pi t)).masked_fill(t <= 1, 0); the mask passes
    # 0, times log's infinite derivative at t = 0 (NaN at t < 0): NaN; on (0, 1]: 0. Above 1
    # the term's own slope log t + 1 / (2t) and curvature 1 / t - 1 / (2 t^2); -input from
    # the likelihood (input = 0, log_input=True).
    def fn(t):
        return F.poisson_nll_loss(tn.zeros(5, dtype=tn.float64), t, full=True, reduction="sum")

    values = [-1.0, 0.0, 0.5, 1.0, 2.0]
    with np.errstate(divide="ignore", invalid="ignore"):
        (grad,) = gradient(fn, tensor(values))
        second = np.diag(hessian(fn, tensor(values)))
    np.testing.assert_allclose(grad, [np.nan, np.nan, 0.0, 0.0, math.log(2.0) + 0.25], rtol=1e-15)
    np.testing.assert_allclose(second, [np.nan, np.nan, 0.0, 0.0, 0.5 - 0.125], rtol=1e-15)
    assert fn(tensor(values)).item() == pytest.approx(  # the values stay PyTorch's
        5.0 + 2 * math.log(2.0) - 2.0 + 0.5 * math.log(4 * math.pi), rel=1e-15
    )


def test_gaussian_nll_below_eps_uses_eps_in_value_and_passes_the_gradient_through():
    # PyTorch clamps a clone of var in place under no_grad: d/dvar is the derivative at eps.
    def fn(v):
        return F.gaussian_nll_loss(tn.tensor(np.ones(2)), tn.tensor(np.zeros(2)), v, eps=0.5)

    (grad,) = gradient(fn, tensor([0.0, 0.5]))
    np.testing.assert_array_equal(grad, [0.5 * 0.5 * (2.0 - 4.0)] * 2)  # mean of 0.5 (1/v - 1/v^2)
    # second derivative 0.5 (-1/v^2 + 2/v^3) at v = eps, halved by the mean
    np.testing.assert_array_equal(hessian(fn, tensor([0.0, 0.5])), np.diag([0.25 * 12.0] * 2))


# -- PyTorch's names: amax, clamp_min/max, fmax/fmin, frac, nan_to_num, cdist ------------------
def test_amax_and_amin_share_ties_evenly_over_several_dims():
    x = tensor([[1.0, 3.0], [3.0, 3.0]])
    (grad,) = gradient(lambda t: tn.amax(t, dim=(0, 1)), x)
    np.testing.assert_array_equal(grad, [[0.0, 1 / 3], [1 / 3, 1 / 3]])
    (grad,) = gradient(lambda t: t.amin(dim=1), tensor([[2.0, 2.0], [0.0, 5.0]]))
    np.testing.assert_array_equal(grad, [[0.5, 0.5], [1.0, 0.0]])
    assert not hessian(lambda t: tn.amax(t, dim=1), x).any()


@pytest.mark.parametrize(
    "op, expected",
    [
        (lambda t: tn.clamp_min(t, 0.0), [0.0, 1.0, 1.0]),
        (lambda t: t.clamp_max(0.0), [1.0, 1.0, 0.0]),
    ],
    ids=["clamp_min", "clamp_max"],
)
def test_clamp_min_and_max_pass_the_gradient_at_the_bound(op, expected):
    (grad,) = gradient(op, tensor([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(grad, expected)


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_give_a_tie_to_the_first_input_and_nan_to_the_other_side(name):
    a, b = tensor([1.0, 2.0, math.nan, 0.0]), tensor([1.0, math.nan, 3.0, 0.5])
    out = getattr(tn, name)(a, b)
    np.testing.assert_array_equal(out.data, getattr(np, name)(a.data, b.data))
    grad_a, grad_b = gradient(getattr(tn, name), a, b)
    bigger = name == "fmax"  # 0.0 vs 0.5: fmax takes b, fmin takes a
    np.testing.assert_array_equal(grad_a, [1.0, 1.0, 0.0, 0.0 if bigger else 1.0])
    np.testing.assert_array_equal(grad_b, [0.0, 0.0, 1.0, 1.0 if bigger else 0.0])


def test_frac_has_gradient_one_at_whole_numbers_and_no_curvature():
    x = tensor([-2.0, 0.0, 1.0, 1.5])
    (grad,) = gradient(tn.frac, x)
    np.testing.assert_array_equal(grad, [1.0, 1.0, 1.0, 1.0])
    assert not hessian(tn.frac, x).any()


def test_nan_to_num_passes_no_gradient_to_replaced_elements():
    x = tensor([math.nan, math.inf, -math.inf, 2.0])
    out = tn.nan_to_num(x, nan=1.0, neginf=-5.0)
    assert out.tolist() == [1.0, np.finfo(np.float64).max, -5.0, 2.0]
    (grad,) = gradient(lambda t: t.nan_to_num(), x)
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, 0.0, math.inf])
def test_cdist_gradient_at_zero_distance_is_zero(p):
    x1, x2 = tensor([[1.0, 2.0], [0.0, 0.0]]), tensor([[1.0, 2.0]])
    out = tn.cdist(x1, x2, p=p)
    assert out.data[0, 0] == 0.0
    grad1, grad2 = gradient(lambda a, b: tn.cdist(a, b, p=p)[0, 0], x1, x2)
    assert not grad1.any() and not grad2.any()
    assert not hessian(lambda a: tn.cdist(a, x2.detach(), p=p)[0], x1).any()
