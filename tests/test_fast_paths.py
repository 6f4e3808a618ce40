"""Each first-order NumPy fast path equals its Tensor-op version exactly.

A few hot backward formulas have two implementations: NumPy, used when no graph is being
recorded (``create_graph=False``), and Tensor ops, used when it is. Gradient checks see
each one only within a tolerance; here the two must agree to the last bit, on the same
inputs and output gradient (PyTorch's ``test_foreach_matches_forloop`` idea). The fast
path must also run no op at all (or, for the estimators' loss, not recompute the softmax)
and leave no graph behind.
"""

import numpy as np
import pytest

import tinynet as tn
from tinynet.estimators._losses import batch_loss
from tinynet.nn import functional as F
from tinynet.testing import assert_no_graph, ops_run


def _softmax_loss(raw):
    rng = np.random.default_rng(7)
    target = np.eye(raw.shape[1], dtype=raw.dtype)[rng.integers(0, raw.shape[1], raw.shape[0])]
    weight = rng.uniform(0.5, 2.0, (raw.shape[0], 1)).astype(raw.dtype)
    return batch_loss("softmax", raw, target, weight / weight.sum())


def _elementwise_loss(kind, weighted):
    def loss(raw):
        rng = np.random.default_rng(8)
        if kind == "logistic":
            target = rng.integers(0, 2, raw.shape).astype(raw.dtype)
        else:
            target = rng.poisson(2.0, raw.shape).astype(raw.dtype)
        column = rng.uniform(0.5, 2.0, (raw.shape[0], 1)).astype(raw.dtype)
        weight = column / column.sum() if weighted else 1.0 / raw.shape[0]
        return batch_loss(kind, raw, target, weight)

    return loss


# name -> (function of the inputs, input shapes, ops the fast path may run)
CASES = {
    "relu": (F.relu, [(4, 5)], []),
    "linear": (F.linear, [(4, 3), (5, 3), (5,)], []),
    "linear_3d": (F.linear, [(2, 4, 3), (5, 3), (5,)], []),
    "linear_no_bias": (lambda x, w: F.linear(x, w), [(4, 3), (5, 3)], []),
    "sum": (lambda x: x.sum(), [(4, 5)], []),
    "sum_axis": (lambda x: x.sum(axis=1), [(4, 5)], []),
    "sum_keepdims": (lambda x: x.sum(axis=0, keepdims=True), [(4, 5)], []),
    "mean": (lambda x: x.mean(), [(4, 5)], []),
    "mean_axes": (lambda x: x.mean(axis=(0, 2)), [(3, 4, 2)], []),
    "mean_middle_axis_keepdims": (lambda x: x.mean(axis=1, keepdims=True), [(3, 4, 2)], []),
    "sum_of_a_size_one_axis": (lambda x: x.sum(axis=(0, 1)), [(1, 4, 2)], []),
    "mul": (lambda a, b: a * b, [(4, 5), (4, 5)], []),
    # The engine, not the formula, sums b's gradient back to its shape, on the arrays.
    "mul_broadcast": (lambda a, b: a * b, [(4, 5), (5,)], []),
    "add_broadcast_kept_axis": (lambda a, b: a + b, [(3, 4, 5), (4, 1)], []),
    # An infinite factor: the gradient's 0 * inf is taken as 0 (np.where in both paths).
    "mul_infinite_factor": (
        lambda a: a * tn.tensor(np.array([1.0, np.inf, 2.0, np.inf, 0.5], a.dtype)),
        [(4, 5)],
        [],
    ),
    "tanh": (tn.tanh, [(4, 5)], []),
    "tanh_0d": (tn.tanh, [()], []),
    "sigmoid": (tn.sigmoid, [(4, 5)], []),
    "sigmoid_0d": (tn.sigmoid, [()], []),
    # A full reduction's gradient reaches the formula as a 0-stride view of one value.
    "tanh_of_a_full_sum": (lambda x: tn.tanh(x).sum(), [(4, 5)], []),
    "sigmoid_of_a_full_mean": (lambda x: tn.sigmoid(x).mean(), [(4, 5)], []),
    "mean_of_a_0d_tensor": (lambda x: x.mean(), [()], []),
    "log_softmax": (lambda x: F.log_softmax(x, dim=1), [(4, 5)], []),
    "log_softmax_first_axis": (lambda x: F.log_softmax(x, dim=0), [(4, 5)], []),
    # The loss's backward reuses the forward's softmax.
    "estimator_softmax_loss": (_softmax_loss, [(6, 3)], []),
    **{
        f"estimator_{kind}_loss{'_weighted' * weighted}": (
            _elementwise_loss(kind, weighted),
            [(6, 3)],
            [],
        )
        for kind in ("logistic", "identity", "exp")
        for weighted in (False, True)
    },
}


def _inputs(shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    arrays[0].flat[0] = 0.0  # relu's kink: both paths give it gradient 0
    return [tn.tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(CASES))
def test_fast_path_equals_its_tensor_op_version_exactly(name, dtype):
    fn, shapes, fast_ops = CASES[name]
    for seed in range(3):
        inputs = _inputs(shapes, dtype, seed)
        output = fn(*inputs)
        grad_output = tn.tensor(
            np.random.default_rng(100 + seed).standard_normal(output.shape).astype(dtype)
        )
        with ops_run() as ran:
            fast = tn.grad(output, inputs, grad_output, retain_graph=True)
        slow = tn.grad(output, inputs, grad_output, create_graph=True)
        assert ran == fast_ops, "the first-order path ran ops"
        assert_no_graph(*fast)
        for index, (f, s) in enumerate(zip(fast, slow)):
            assert s.grad_fn is not None or not s.requires_grad
            assert f.dtype == s.dtype == np.dtype(dtype)
            assert np.array_equal(f.data, s.data), (index, f.data - s.data)


def test_relu_fast_path_drops_non_finite_gradients_where_the_input_is_negative():
    x = tn.tensor(np.array([-1.0, 2.0, -3.0]), requires_grad=True)
    g = tn.tensor(np.array([np.inf, np.nan, np.nan]))
    (fast,) = tn.grad(x.relu(), x, g, retain_graph=True)
    (slow,) = tn.grad(x.relu(), x, g, create_graph=True)
    np.testing.assert_array_equal(fast.data, [0.0, np.nan, 0.0])
    np.testing.assert_array_equal(fast.data, slow.data)


def test_assert_no_graph_fails_on_a_recorded_result():
    x = tn.ones(2, requires_grad=True)
    assert_no_graph(x, x.detach())
    with pytest.raises(AssertionError, match="tensor 1 carries a recorded graph"):
        assert_no_graph(x, x * 2)


class _WrongShapeGradient(tn.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        return tn.ones(3, 2)  # x is (2, 3): not a broadcast of it


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_gradient_that_does_not_fit_its_input_names_the_op(create_graph):
    x = tn.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"_WrongShapeGradient.backward returned a gradient "):
        tn.grad(_WrongShapeGradient.apply(x).sum(), x, create_graph=create_graph)


@pytest.mark.parametrize(
    ("reduce", "value"), [(lambda x: x.sum(), 1.0), (lambda x: x.mean(), 1 / 6)]
)
def test_a_full_reductions_gradient_is_a_read_only_view_and_leaves_get_their_own_copy(
    reduce, value
):
    x = tn.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (grad,) = tn.grad(reduce(x), x)
    np.testing.assert_array_equal(grad.data, np.full((2, 3), value))
    assert not grad.data.flags.writeable  # as np.broadcast_to's view
    reduce(x).backward()
    x.grad.data[0, 0] = 7.0  # .grad is writable, and no other gradient sees the write
    (again,) = tn.grad(reduce(x), x)
    np.testing.assert_array_equal(again.data, np.full((2, 3), value))


def _every_bit_pattern(dtype, seed=0):
    """Floats from random bit patterns (NaNs with payloads, subnormals, infinities, signed
    zeros), every float16 pattern."""
    uint = np.dtype(f"u{np.dtype(dtype).itemsize}")
    if dtype == np.float16:
        return np.arange(1 << 16, dtype=uint).view(dtype).reshape(256, 256)
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, np.iinfo(uint).max, 200_000, dtype=uint, endpoint=True)
    special = np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf], dtype).view(uint)
    return np.concatenate([bits, special, bits[:194]]).view(dtype).reshape(200, 1001)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relus_zeros_give_the_bits_of_a_maximum_with_zero(dtype):
    from tinynet.ops.elementwise import Relu, relu_zeros

    x = _every_bit_pattern(dtype)
    uint = np.dtype(f"u{np.dtype(dtype).itemsize}")
    for view in (x, x[:, ::3], x[0], x[3:5, 7:8]):
        expected = np.maximum(view, 0)
        got = np.maximum(view, relu_zeros(view))
        assert got.dtype == expected.dtype
        assert np.array_equal(got.view(uint), expected.view(uint))
    assert relu_zeros(np.arange(3)) == 0  # integers: maximum with 0 as before
    # the result's memory layout is the scalar maximum's (later matrix products see it)
    transposed = x.T
    assert relu_zeros(transposed) == 0
    for view in (x, transposed, x[:, ::3]):
        assert Relu.forward(None, view).strides == np.maximum(view, 0).strides


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("leading", [(), (3,)], ids=["2d", "3d"])
def test_the_one_output_linear_backward_has_the_bits_of_matmul(dtype, leading):
    from tinynet.ops.linalg import linear_grad_input, rank_one_product

    rng = np.random.default_rng(4)
    tiny = np.finfo(dtype).tiny
    g = rng.standard_normal((*leading, 40, 1)).astype(dtype)
    weight = rng.standard_normal((1, 30)).astype(dtype)
    # Zeros of both signs (matmul adds each product to +0.0: -0.0 products come out +0.0),
    # products that underflow or overflow, infinities and NaN.
    g[..., :6, 0] = [0.0, -0.0, tiny, -tiny, np.finfo(dtype).max, np.inf]
    g[..., 6, 0] = np.nan
    weight[0, :5] = [-0.0, 0.0, -tiny, np.inf, -1.0]
    assert rank_one_product(g, weight)
    uint = np.dtype(f"u{np.dtype(dtype).itemsize}")
    with np.errstate(all="ignore"):
        expected = g @ weight
        got = linear_grad_input(g, weight)
        assert np.signbit(expected).any() and (g * weight == 0).any()
        assert not np.array_equal((g * weight).view(uint), expected.view(uint))
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert got.flags.c_contiguous  # as matmul's result, whatever g's strides
    if leading:
        swapped = np.ascontiguousarray(g.swapaxes(0, 1)).swapaxes(0, 1)  # g, other strides
        with np.errstate(all="ignore"):
            assert linear_grad_input(swapped, weight).strides == (swapped @ weight).strides
    assert np.array_equal(got.view(uint), expected.view(uint))
    # and through the Linear op, eagerly: its first-order path against matmul
    x = tn.tensor(rng.standard_normal((*leading, 40, 30)).astype(dtype), requires_grad=True)
    w = tn.tensor(weight, requires_grad=True)
    with np.errstate(all="ignore"):
        (grad_x,) = tn.grad(F.linear(x, w), x, tn.tensor(g))
    assert np.array_equal(grad_x.data.view(uint), expected.view(uint))


def test_other_linear_backwards_stay_matrix_products():
    from tinynet.ops.linalg import rank_one_product

    f32 = np.ones((4, 1), np.float32)
    assert not rank_one_product(f32, np.ones((2, 3), np.float32))  # two outputs
    assert not rank_one_product(f32, np.ones((1, 3)))  # mixed dtypes: matmul promotes
    assert not rank_one_product(np.ones(1, np.float32), np.ones((1, 3), np.float32))  # 1-D
    assert not rank_one_product(f32.astype(np.float16), np.ones((1, 3), np.float16))
