"""torch.func's names in tn.func: vmap, jacrev, jacfwd, jvp, grad_and_value, has_aux, pytree
arguments, against closed forms, finite differences and torch.func's documented semantics."""

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn
from tinynet.func import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp, vmap
from tinynet.gradcheck import central_differences

RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=5)
W = RNG.normal(size=3)


def numerical_jacobian(f, x: np.ndarray) -> np.ndarray:
    """Central differences of ``f`` (array -> array) at ``x``: ``output.shape + x.shape``."""
    slopes = central_differences(lambda p: f(p), x, 1e-6)
    columns = np.stack([np.asarray(s) for s in slopes], axis=-1)
    return columns.reshape(np.shape(f(x)) + x.shape)


def squared_error(w, x, y):
    return ((x * w).sum() - y) ** 2


# -- vmap ------------------------------------------------------------------------------------


def test_per_sample_gradients_equal_the_loop_and_the_closed_form():
    per_sample = vmap(grad(squared_error), in_dims=(None, 0, 0))(W, X, Y)
    closed_form = 2 * (X @ W - Y)[:, None] * X  # d/dw (x.w - y)^2 = 2 (x.w - y) x
    loop = np.stack([grad(squared_error)(W, X[i], Y[i]).data for i in range(len(X))])
    assert per_sample.shape == (5, 3)
    np.testing.assert_allclose(per_sample.data, closed_form, rtol=1e-12)
    np.testing.assert_array_equal(per_sample.data, loop)


def test_per_sample_gradients_of_a_module_through_functional_call():
    model = nn.Linear(3, 1, rng=0).double()
    params = {name: p.detach() for name, p in model.named_parameters()}

    def loss(params, x, y):
        out = nn.utils.functional_call(model, params, (x.unsqueeze(0),))
        return ((out - y) ** 2).sum()

    grads = vmap(grad(loss), in_dims=(None, 0, 0))(params, tn.tensor(X), tn.tensor(Y))
    residual = X @ model.weight.data[0] + model.bias.data[0] - Y
    np.testing.assert_allclose(grads["weight"].data, 2 * residual[:, None, None] * X[:, None])
    np.testing.assert_allclose(grads["bias"].data, 2 * residual[:, None])
    assert set(grads) == {"weight", "bias"}


def test_in_dims_out_dims_and_nested_structures():
    a = RNG.normal(size=(3, 4))
    b = RNG.normal(size=(4, 2))
    # batch along a's columns and b's rows; output batched along its last axis
    out = vmap(lambda col, row: col[:, None] * row, in_dims=(1, 0), out_dims=2)(a, b)
    np.testing.assert_allclose(out.data, np.einsum("ik,kj->ijk", a, b))
    np.testing.assert_allclose(vmap(lambda r: r.sum(), in_dims=-1)(a).data, a.sum(axis=0))
    pair = vmap(lambda p: (p[0] * 2, {"s": p[1].sum()}), in_dims=((0, 1),))((a, a.T))
    np.testing.assert_allclose(pair[0].data, 2 * a)
    np.testing.assert_allclose(pair[1]["s"].data, a.sum(axis=1))
    split = vmap(lambda r: (r, r.sum()), out_dims=(1, 0))(a)
    np.testing.assert_allclose(split[0].data, a.T)
    np.testing.assert_allclose(split[1].data, a.sum(axis=1))
    shared = vmap(lambda r, c: (r + c, c), in_dims=(0, None), out_dims=(0, None))(a, 1.0)
    np.testing.assert_allclose(shared[0].data, a + 1.0)
    assert shared[1] == 1.0
    scaled = vmap(lambda r, scale: r * scale, in_dims=0)(a, scale=3.0)  # kwargs pass whole
    np.testing.assert_allclose(scaled.data, 3 * a)


def test_vmap_composes_with_grad_outside():
    w = tn.tensor(W, requires_grad=True)
    total = vmap(lambda x, w: (x * w).sum().sin(), in_dims=(0, None))(tn.tensor(X), w).sum()
    total.backward()
    np.testing.assert_allclose(w.grad.data, (np.cos(X @ W)[:, None] * X).sum(axis=0))
    x = tn.tensor(X, requires_grad=True)  # and to the mapped input, through the slices
    vmap(lambda column: (column**3).sum(), in_dims=1)(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * X**2)


def test_per_sample_jacobians_and_hessians():
    jacobians = vmap(jacrev(lambda x: x**3))(X)
    np.testing.assert_allclose(jacobians.data, np.stack([np.diag(3 * row**2) for row in X]))
    hessians = vmap(hessian(lambda x: (x**3).sum()))(X)
    np.testing.assert_allclose(hessians.data, np.stack([np.diag(6 * row) for row in X]))


def test_nested_vmap_is_an_outer_product():
    u, v = np.arange(3.0), np.arange(4.0)
    outer = vmap(vmap(lambda a, b: a * b, in_dims=(None, 0)), in_dims=(0, None))(u, v)
    np.testing.assert_array_equal(outer.data, np.outer(u, v))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: vmap(lambda a, b: a + b)(np.ones(2), np.ones(3)), r"got sizes \[2, 3\]"),
        (
            lambda: vmap(lambda a: a, in_dims=2)(np.ones((2, 3))),
            r"Got in_dim=2 for some input, but that input is a Tensor of dimensionality 2 so "
            r"expected in_dim to satisfy -2 <= in_dim < 2",
        ),
        (
            lambda: vmap(lambda a: a)(tn.tensor(1.0)),
            r"Got in_dim=0 for some input, but that input is a Tensor of dimensionality 0",
        ),
        (lambda: vmap(lambda a, b: a, in_dims=(0, 0))(np.ones(2), 3.0), "non-Tensor arguments"),
        (lambda: vmap(lambda a: a, in_dims=(0, 0))(np.ones(2)), "not compatible with the str"),
        (lambda: vmap(lambda a: a, in_dims=[0])(np.ones(2)), "expected `in_dims` to be int"),
        (lambda: vmap(lambda a: a, in_dims=(None,))(np.ones(2)), "at least one Tensor"),
        (lambda: vmap(lambda a: a)(), "got no inputs"),
        (lambda: vmap(lambda a: 3.0)(np.ones(2)), "must only return Tensors"),
        (lambda: vmap(lambda a: a, out_dims=(0, 0))(np.ones(2)), "out_dims is not compatible"),
        (lambda: vmap(lambda a: a, out_dims="0")(np.ones(2)), "`out_dims` must be an int"),
        (
            lambda: vmap(lambda a: a, out_dims=None)(np.arange(2.0)),
            "can not return a BatchedTensor",
        ),
        (lambda: vmap(lambda a: a, chunk_size=0), r"chunk_size should be None or greater"),
    ],
)
def test_vmap_errors_are_torch_funcs(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_out_dim_out_of_range_and_bad_randomness():
    with pytest.raises(IndexError, match=r"Dimension out of range .*\[-2, 1\], but got 2"):
        vmap(lambda a: a, out_dims=2)(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(lambda a: a, randomness="sometimes")


def test_randomness_modes():
    def noisy(x):
        return x + tn.randn(2, dtype=tn.float64)

    zeros = np.zeros((3, 2))
    with pytest.raises(RuntimeError, match="called random operation while in randomness error"):
        vmap(noisy)(zeros)
    tn.manual_seed(7)
    same = vmap(noisy, randomness="same")(zeros).data
    tn.manual_seed(7)
    expected = tn.randn(2, dtype=tn.float64).data
    np.testing.assert_array_equal(same, np.stack([expected] * 3))
    tn.manual_seed(7)
    different = vmap(noisy, randomness="different")(zeros).data
    tn.manual_seed(7)
    np.testing.assert_array_equal(
        different, np.stack([tn.randn(2, dtype=tn.float64).data for _ in range(3)])
    )
    assert len({tuple(row) for row in different}) == 3
    with pytest.raises(RuntimeError, match="randomness error mode"):
        jacfwd(noisy)(np.zeros(2))


# -- jacrev, jacfwd, hessian, jvp, vjp, grad_and_value ---------------------------------------


def vector_function(x):
    return tn.stack([x[0] * x[1].sin(), (x**2).sum(), x[2].exp() / (1 + x[0] ** 2)])


@pytest.mark.parametrize("transform", [jacrev, jacfwd])
def test_jacobians_equal_finite_differences(transform):
    x = np.array([0.3, -1.2, 0.7])
    numerical = numerical_jacobian(lambda p: vector_function(tn.tensor(p)).data, x)
    np.testing.assert_allclose(transform(vector_function)(x).data, numerical, atol=1e-8)
    matrix = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(
        transform(lambda m: (m**2).sum(axis=1))(matrix).data,
        numerical_jacobian(lambda p: (p**2).sum(axis=1), matrix),
        atol=1e-8,
    )


def test_jacrev_of_several_outputs_and_argnums_and_aux():
    x, y = np.array([1.0, 2.0]), np.array([0.5, -1.0, 3.0])

    def f(x, y):
        return (x * 3, x.sum() * y), {"norm": (x**2).sum()}

    (dx_first, dy_first), (dx_second, dy_second) = jacrev(f, argnums=(0, 1), has_aux=True)(x, y)[0]
    np.testing.assert_array_equal(dx_first.data, 3 * np.eye(2))
    np.testing.assert_array_equal(dy_first.data, np.zeros((2, 3)))
    np.testing.assert_array_equal(dx_second.data, np.outer(y, np.ones(2)))
    np.testing.assert_array_equal(dy_second.data, x.sum() * np.eye(3))
    aux = jacfwd(f, has_aux=True)(x, y)[1]
    assert aux["norm"].item() == pytest.approx(5.0) and not aux["norm"].requires_grad


def test_hessian_with_a_tuple_of_argnums():
    def f(x, y):
        return (x**2 * y).sum() + (y**3).sum()

    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    (hxx, hxy), (hyx, hyy) = hessian(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(hxx.data, np.diag(2 * y))
    np.testing.assert_allclose(hxy.data, np.diag(2 * x))
    np.testing.assert_allclose(hyx.data, np.diag(2 * x))
    np.testing.assert_allclose(hyy.data, np.diag(6 * y))


def test_jvp_is_the_jacobian_times_the_tangent():
    x, v = np.array([0.3, -1.2, 0.7]), np.array([1.0, 0.5, -2.0])
    out, tangent_out = jvp(vector_function, (x,), (v,))
    np.testing.assert_allclose(out.data, vector_function(tn.tensor(x)).data)
    np.testing.assert_allclose(tangent_out.data, jacrev(vector_function)(x).data @ v, rtol=1e-12)
    both, pushed = jvp(lambda a, b: (a * b, a.sum()), (x, x), (v, np.ones(3)))
    np.testing.assert_allclose(pushed[0].data, v * x + x * 1.0)
    assert pushed[1].item() == pytest.approx(v.sum())
    assert jvp(lambda a: a * 0 + 1, (x,), (v,))[1].data.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        jvp(vector_function, x, (v,))
    with pytest.raises(RuntimeError, match="same python structure"):
        jvp(lambda a, b: a, (x, x), (v,))
    with pytest.raises(RuntimeError, match="same shape"):
        jvp(vector_function, (x,), (v[:2],))


def test_jvp_is_differentiable_again():
    def directional(x):
        return jvp(lambda t: (t**3).sum(), (x,), (tn.ones(2, dtype=tn.float64),))[1]

    # d/dx of sum(3 x^2) = 6 x
    np.testing.assert_allclose(grad(directional)(np.array([1.0, -2.0])).data, [6.0, -12.0])


def test_vjp_of_a_tuple_output_with_aux():
    x = np.array([1.0, 2.0])
    (square, total), vjp_fn, aux = vjp(lambda t: ((t * t, t.sum()), "note"), x, has_aux=True)
    (pulled,) = vjp_fn((tn.tensor([1.0, 10.0], dtype=tn.float64), tn.tensor(2.0)))
    np.testing.assert_array_equal(pulled.data, 2 * x * [1.0, 10.0] + 2.0)
    assert aux == "note"
    with pytest.raises(RuntimeError, match="pytree structure of cotangents"):
        vjp_fn(tn.ones(2))


def test_grad_and_value_order_and_aux():
    def f(x):
        loss = (x**2).sum()
        return loss, {"loss": loss}

    gradient, (value, aux) = grad_and_value(f, has_aux=True)(np.array([1.0, 3.0]))
    assert value.item() == 10.0 and aux["loss"].item() == 10.0
    np.testing.assert_array_equal(gradient.data, [2.0, 6.0])
    gradient, aux = grad(f, has_aux=True)(np.array([1.0, 3.0]))
    assert aux["loss"].item() == 10.0
    with pytest.raises(RuntimeError, match=r"should be a tuple: \(output, aux\)"):
        grad(lambda x: x.sum(), has_aux=True)(np.ones(2))


def test_functional_call_points_to_nn_utils():
    with pytest.raises(AttributeError, match="tinynet.nn.utils.functional_call"):
        tn.func.functional_call  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'jacobians'"):
        tn.func.jacobians  # noqa: B018


def test_transforms_keep_the_function_name_for_messages():
    def loss(w):
        return (w**2).sum()

    assert grad(loss).__name__ == "loss" and vmap(jacrev(loss)).__name__ == "loss"
    with pytest.raises(ValueError, match=r"vmap\(loss, in_dims=2, \.\.\.\)"):
        vmap(grad(loss), in_dims=2)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="jacrev: `chunk_size` should be greater than 0."):
        jacrev(loss, chunk_size=0)


# -- argnums and scalar outputs: torch.func's RuntimeErrors ----------------------------------


@pytest.mark.parametrize(
    ("argnums", "message"),
    [
        (2, r"Got argnum=2, but only 2 positional inputs"),
        (-3, r"Got argnum=-3, but only 2 positional inputs"),
        ((0, 5), r"Got argnum=5, but only 2 positional inputs"),
        ((), "argnums must be non-empty"),
        ((0, 0), r"argnums elements must be unique, got \(0, 0\)"),
        ([0, 1], r"argnums must be int or Tuple\[int, \.\.\.\]"),
        ((0, "1"), "argnum must be int"),
    ],
)
def test_bad_argnums_are_runtime_errors(argnums, message):
    with pytest.raises(RuntimeError, match=message):
        grad(lambda a, b: (a * b).sum(), argnums=argnums)(np.ones(2), np.ones(2))
    with pytest.raises(RuntimeError, match=message):
        jacrev(lambda a, b: a * b, argnums=argnums)(np.ones(2), np.ones(2))


def test_negative_argnums_count_from_the_end():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    np.testing.assert_array_equal(grad(lambda a, b: (a * b).sum(), argnums=-1)(x, y).data, x)


def test_grad_needs_a_0d_output_as_torch_func():
    for transform in (grad, grad_and_value, tn.func.value_and_grad):
        with pytest.raises(RuntimeError, match=r"got tensor with 1 dims \(shape \(1,\)\)"):
            transform(lambda x: (x**2).sum(axis=0, keepdims=True))(np.ones(2))
        with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a Tensor"):
            transform(lambda x: 3.0)(np.ones(2))
    # the fix the message names: a 0-d output, whose gradient is 2 x
    np.testing.assert_array_equal(grad(lambda x: (x**2).sum())(np.array([1.0, 3.0])).data, [2, 6])


def test_jacfwd_is_forward_mode_with_jacrevs_values():
    x, y = np.array([0.3, -1.2, 0.7]), np.array([2.0, 0.5])

    def f(a, b):
        return (a.sin() * b.sum(), (a**2).sum() * b, b * 0 + 1.0)

    forward = jacfwd(f, argnums=(0, 1))(x, y)
    reverse = jacrev(f, argnums=(0, 1))(x, y)
    for forward_row, reverse_row in zip(forward, reverse):
        for fwd, rev in zip(forward_row, reverse_row):
            assert fwd.shape == rev.shape and not fwd.requires_grad
            np.testing.assert_allclose(fwd.data, rev.data, rtol=1e-14, atol=0)
    np.testing.assert_array_equal(forward[2][0].data, np.zeros((2, 3)))  # independent output
    # a matrix input: the columns land on the input's axes
    m = np.arange(6.0).reshape(2, 3) / 7
    np.testing.assert_allclose(
        jacfwd(lambda p: (p.exp() * p[0]).sum(axis=0))(m).data,
        numerical_jacobian(lambda p: (np.exp(p) * p[0]).sum(axis=0), m),
        atol=1e-8,
    )
    # f runs once; its 50 x 2 Jacobian comes from 2 forward columns
    calls = []
    wide = jacfwd(lambda a: calls.append(1) or (a[:, None] * np.arange(25.0)).reshape(50))(y)
    assert wide.shape == (50, 2) and len(calls) == 1
