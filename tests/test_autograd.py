"""The engine: accumulation, graph freeing, retain_graph, no_grad, tn.grad, custom Functions."""

import gc
import sys
import threading
import weakref

import numpy as np
import pytest

import tinynet as tn
from tinynet import autograd


def f64(values, requires_grad=True):
    return tn.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def test_gradients_accumulate_across_backward_calls_until_zeroed():
    x = f64([1.0, 2.0])
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_reused_tensor_and_diamond_accumulate():
    x = f64(3.0)
    a = x * 2
    b = x * x
    (a * b + a).backward()  # d/dx (2x * x^2 + 2x) = 6x^2 + 2
    assert x.grad.item() == pytest.approx(6 * 9 + 2)


def test_second_backward_without_retain_graph_raises():
    x = f64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


@pytest.mark.parametrize("long_first", [True, False])
def test_a_node_runs_once_after_all_its_consumers_however_deep_their_paths(long_first):
    # y feeds a short path and a long one: its backward must wait for both (one call,
    # the summed gradient), whichever order the paths were built in.
    x = f64([0.5, -1.0])
    y = x.exp()
    if long_first:
        long_path = y.sin().exp().cos() * 3
        short_path = y * 2
    else:
        short_path = y * 2
        long_path = y.sin().exp().cos() * 3
    total = (long_path + short_path).sum()
    calls = []
    with autograd.register_backward_hook(lambda node, g, gs: calls.append(type(node).__name__)):
        total.backward()
    e = np.exp(x.data)
    dy = -np.sin(np.exp(np.sin(e))) * np.exp(np.sin(e)) * np.cos(e) * 3 + 2
    np.testing.assert_allclose(x.grad.data, dy * e, rtol=1e-12)
    assert calls.count("Exp") == 2 and calls[-1] == "Exp"  # y's node last, once


def test_backward_of_one_output_ignores_consumers_it_does_not_reach():
    x = f64([1.0, 2.0])
    y = x * x
    unused = y.exp()  # a consumer of y that the loss does not depend on
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    assert unused.grad_fn is not None


def test_a_node_given_no_gradient_is_still_freed():
    class Stop(tn.Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad_output):
            return None

    x = f64([1.0, 2.0])
    y = x.exp()
    Stop.apply(y).sum().backward()
    assert x.grad is None
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_retain_graph_allows_a_second_backward():
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_graph_is_freed_after_backward():
    x = f64(np.ones(1000))
    hidden = x * 2
    probe = weakref.ref(hidden)
    y = (hidden * hidden).sum()
    del hidden
    assert probe() is not None  # kept alive by the graph
    y.backward()
    gc.collect()
    assert probe() is None  # the graph let go of it


def test_no_grad_records_nothing_and_nests_with_enable_grad():
    x = f64([1.0])
    with tn.no_grad():
        assert not tn.is_grad_enabled()
        y = x * 2
        with tn.enable_grad():
            z = x * 2
    assert tn.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_as_decorator_and_set_grad_enabled():
    @tn.no_grad()
    def double(t):
        return t * 2

    assert not double(f64([1.0])).requires_grad
    assert tn.is_grad_enabled()
    with tn.set_grad_enabled(False):
        assert not (f64([1.0]) * 2).requires_grad
    assert tn.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_data():
    x = f64([1.0, 2.0])
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad
    y = (x * d).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_a_chain_of_100000_ops_needs_no_recursion():
    limit = sys.getrecursionlimit()
    x = f64(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    assert sys.getrecursionlimit() == limit
    deep = x
    for _ in range(100_000):
        deep = deep + 0.0
    del deep  # freeing an unused deep graph must not overflow the C stack either


def test_backward_errors_name_the_problem():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"shape of \(3,\).*shape of \(2,\)"):
        (x * 2).backward(gradient=np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        f64([1.0], requires_grad=False).sum().backward()


def test_backward_with_explicit_gradient():
    x = f64([1.0, 2.0])
    (x * x).backward(gradient=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 40.0])


def test_broadcast_gradients_are_reduced_to_each_input_shape():
    a = f64(np.ones((3, 1)))
    b = f64(np.arange(4.0))
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_array_equal(a.grad.data, np.full((3, 1), 6.0))
    np.testing.assert_array_equal(b.grad.data, np.full(4, 3.0))


def test_gradient_dtype_follows_the_input_dtype():
    x = tn.tensor(np.ones(3, np.float32), requires_grad=True)
    w = f64([1.0, 2.0, 3.0])
    (x * w).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64


def test_leaf_gradients_never_alias_each_other_or_the_caller():
    a, b = f64([1.0, 2.0]), f64([3.0, 4.0])
    seed = np.array([1.0, 1.0])
    (a + b).backward(gradient=seed)
    a.grad.data *= 10
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    x = f64(np.ones((2, 2)))
    x.sum().backward()
    x.grad.data[0, 0] = 5.0  # a writable array, not a broadcast view


def test_tn_grad_returns_gradients_without_touching_dot_grad():
    x = f64([1.0, 2.0])
    y = f64([3.0, 4.0])
    gx, gy = tn.grad((x * y).sum(), (x, y))
    np.testing.assert_array_equal(gx.data, [3.0, 4.0])
    np.testing.assert_array_equal(gy.data, [1.0, 2.0])
    assert x.grad is None and y.grad is None


def test_tn_grad_of_an_intermediate_tensor():
    x = f64([1.0, 2.0])
    hidden = x * 3
    (g,) = tn.grad((hidden * hidden).sum(), hidden)
    np.testing.assert_array_equal(g.data, 2 * hidden.data)


def test_tn_grad_allow_unused():
    x, unused = f64([1.0]), f64([1.0])
    with pytest.raises(RuntimeError, match="not used"):
        tn.grad((x * 2).sum(), (x, unused))
    gx, gu = tn.grad((x * 2).sum(), (x, unused), allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_higher_order_derivatives_with_create_graph():
    x = f64(0.7)
    y = x.sin() * x**3
    (d1,) = tn.grad(y, x, create_graph=True)
    (d2,) = tn.grad(d1, x, create_graph=True)
    (d3,) = tn.grad(d2, x)
    v = 0.7
    s, c = np.sin(v), np.cos(v)
    assert d1.item() == pytest.approx(c * v**3 + 3 * v**2 * s)
    assert d2.item() == pytest.approx(-s * v**3 + 6 * v**2 * c + 6 * v * s)
    assert d3.item() == pytest.approx(-c * v**3 - 9 * v**2 * s + 18 * v * c + 6 * s)


def test_backward_with_create_graph_gives_differentiable_grad():
    x = f64([2.0])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g,) = tn.grad(x.grad.sum(), x)
    assert g.item() == pytest.approx(12.0)


class Cube(tn.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x**2


def test_custom_function_first_and_second_order():
    x = f64([0.5, -1.5])
    assert tn.gradcheck(Cube.apply, (x,))
    assert tn.gradgradcheck(Cube.apply, (x,))


class NumpyCube(tn.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    @tn.once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output.data * 3 * x.data**2


def test_once_differentiable_refuses_double_backward():
    x = f64([0.5, 2.0])
    assert tn.gradcheck(NumpyCube.apply, (x,))
    with pytest.raises(RuntimeError, match="once_differentiable"):
        tn.grad(NumpyCube.apply(x).sum(), x, create_graph=True)


def test_custom_function_output_saved_and_non_tensor_arguments():
    class Scale(tn.Function):
        @staticmethod
        def forward(ctx, x, factor):
            ctx.factor = factor
            out = np.exp(x) * factor
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad_output):
            (out,) = ctx.saved_tensors
            return grad_output * out, None

    x = f64([0.1, 0.2])
    assert tn.gradcheck(lambda t: Scale.apply(t, 3.0), (x,))
    assert tn.gradgradcheck(lambda t: Scale.apply(t, 3.0), (x,))


def test_integer_and_boolean_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating"):
        tn.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        tn.Tensor(np.array([True]), requires_grad=True)


def test_requires_grad_of_non_leaf_cannot_be_switched_off():
    y = f64([1.0]) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_set_grad_enabled_as_call_and_decorator():
    @tn.set_grad_enabled(False)
    def recording():
        return tn.is_grad_enabled()

    assert recording() is False and tn.is_grad_enabled()
    tn.set_grad_enabled(False)
    try:
        assert not tn.is_grad_enabled()
    finally:
        tn.set_grad_enabled(True)
    assert tn.is_grad_enabled()


# -- the engine's hook API ------------------------------------------------------------------


def test_forward_and_backward_hooks_see_every_op_in_order_and_are_removable():
    x = tn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    forward, backward = [], []
    first = autograd.register_forward_hook(lambda ctx, out: forward.append(("first", out)))
    second = autograd.register_forward_hook(lambda ctx, out: forward.append(("second", out)))
    y = x.exp()
    first.remove()
    first.remove()  # twice is harmless
    x.exp()
    second.remove()
    x.exp()
    assert [name for name, _ in forward] == ["first", "second", "second"]
    assert forward[0][1] is y and forward[1][1] is y

    def record(node, grad_output, input_grads):
        backward.append((type(node).__name__, grad_output.data.copy(), input_grads[0].data))

    with autograd.register_backward_hook(record):
        y.sum().backward()
    assert [name for name, _, _ in backward] == ["Sum", "Exp"]
    np.testing.assert_array_equal(backward[1][1], [1.0, 1.0])
    np.testing.assert_array_equal(backward[1][2], np.exp([1.0, 2.0]))
    assert autograd.registered_hooks() == ((), ())


def test_hooks_are_per_thread():
    seen = []
    with autograd.register_forward_hook(lambda ctx, out: seen.append(threading.get_ident())):
        other = threading.Thread(target=lambda: tn.ones(2).exp())
        other.start()
        other.join()
        tn.ones(2).exp()
    assert seen == [threading.get_ident()]


def test_in_backward_is_true_only_inside_backward_formulas():
    states = []

    class Probe(tn.Function):
        @staticmethod
        def forward(ctx, x):
            states.append(autograd.in_backward())
            return x.copy()

        @staticmethod
        def backward(ctx, grad_output):
            states.append(autograd.in_backward())
            return grad_output

    Probe.apply(tn.ones(2, requires_grad=True)).sum().backward()
    assert states == [False, True] and not autograd.in_backward()


def test_a_hook_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        autograd.register_forward_hook(None)
