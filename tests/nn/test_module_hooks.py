"""Module forward hooks and pre-hooks, with PyTorch's signatures and return rules."""

import copy
import warnings

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn, optim
from tinynet.nn.module import has_hooks


def test_a_forward_hook_sees_args_and_output_and_may_replace_the_output():
    layer = nn.Linear(2, 3, rng=0)
    x = tn.tensor([[1.0, -2.0]])
    seen = []
    with layer.register_forward_hook(lambda m, args, out: seen.append((m, args, out))):
        out = layer(x)
        ((module, args, output),) = seen
        assert module is layer and args[0] is x and output is out
        with layer.register_forward_hook(lambda m, args, out: out * 2.0):
            np.testing.assert_array_equal(layer(x).data, 2.0 * layer.forward(x).data)
    np.testing.assert_array_equal(layer(x).data, layer.forward(x).data)  # both removed
    assert not has_hooks(layer)


def test_gradients_flow_through_what_a_hook_returns():
    layer = nn.Linear(2, 1, rng=0, dtype=tn.float64)
    handle = layer.register_forward_hook(lambda m, args, out: out * 3.0)
    x = tn.tensor([[1.0, -2.0], [0.5, 4.0]], dtype=tn.float64)
    layer(x).sum().backward()
    handle.remove()
    np.testing.assert_allclose(layer.weight.grad.data, 3.0 * x.data.sum(0, keepdims=True))
    np.testing.assert_allclose(layer.bias.grad.data, [6.0])


def test_pre_hooks_replace_the_arguments_as_pytorchs():
    layer = nn.Identity()
    x = tn.ones(2)
    with layer.register_forward_pre_hook(lambda m, args: args[0] + 1.0):  # one value
        assert layer(x).tolist() == [2.0, 2.0]
    with layer.register_forward_pre_hook(lambda m, args: (args[0] * 5.0,)):  # a tuple
        assert layer(x).tolist() == [5.0, 5.0]
    with layer.register_forward_pre_hook(lambda m, args: None):  # None: unchanged
        assert layer(x).tolist() == [1.0, 1.0]


def test_hooks_with_kwargs():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    module = Scale()
    pre = module.register_forward_pre_hook(
        lambda m, args, kwargs: (args, {**kwargs, "factor": 3.0}), with_kwargs=True
    )
    seen = {}
    post = module.register_forward_hook(
        lambda m, args, kwargs, out: seen.update(kwargs=kwargs), with_kwargs=True
    )
    assert module(tn.ones(1), factor=2.0).tolist() == [3.0]
    assert seen["kwargs"] == {"factor": 3.0}
    pre.remove()
    module.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
    with pytest.raises(
        RuntimeError, match=r"must return None or a tuple of \(new_args, new_kwargs\)"
    ):
        module(tn.ones(1))
    post.remove()


def test_order_prepend_and_removal():
    layer = nn.Identity()
    order = []
    first = layer.register_forward_hook(lambda m, a, o: order.append("first"))
    layer.register_forward_hook(lambda m, a, o: order.append("second"))
    layer.register_forward_hook(lambda m, a, o: order.append("front"), prepend=True)
    layer(tn.ones(1))
    assert order == ["front", "first", "second"]
    first.remove()
    first.remove()  # twice is harmless
    order.clear()
    layer(tn.ones(1))
    assert order == ["front", "second"]


def test_always_call_runs_when_forward_raises():
    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("broken")

    module = Broken()
    seen = []
    module.register_forward_hook(lambda m, a, o: seen.append(("always", o)), always_call=True)
    module.register_forward_hook(lambda m, a, o: seen.append(("plain", o)))
    with pytest.raises(ValueError, match="broken"):
        module(tn.ones(1))
    assert seen == [("always", None)]


def test_a_hook_must_be_callable():
    with pytest.raises(TypeError, match="a hook must be callable"):
        nn.Identity().register_forward_hook(3)


def test_a_copy_of_a_hooked_module_runs_its_own_copy_of_the_hooks():
    net = nn.Sequential(nn.Linear(2, 2, rng=0))
    calls = []
    handle = net[0].register_forward_hook(lambda m, a, o: calls.append(m))
    twin = copy.deepcopy(net)
    twin(tn.ones(1, 2))
    handle.remove()  # the original's, not the copy's
    twin(tn.ones(1, 2))
    net(tn.ones(1, 2))
    assert calls == [twin[0], twin[0]]
    assert has_hooks(twin[0]) and not has_hooks(net[0])


def _hooked_steps():
    def make():
        tn.manual_seed(0)
        net = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x):
            loss = (net(tn.Tensor(x)) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return net, step

    rng = np.random.default_rng(0)
    return make(), make(), [rng.standard_normal((5, 3), dtype=np.float32) for _ in range(8)]


@pytest.mark.parametrize("registered", ["before", "after"])
def test_a_compiled_step_that_calls_a_hooked_module_runs_eagerly_with_a_warning(registered):
    # The hook must see every call (PyTorch's habit: keeping activations); a replay would
    # skip it, so the function runs eagerly, also when the hook comes after its program.
    (eager_net, eager_step), (compiled_net, step), data = _hooked_steps()
    compiled = tn.compile(step)
    kept = []
    calls = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index, x in enumerate(data):
            if index == (0 if registered == "before" else 4):
                compiled_net[0].register_forward_hook(lambda m, a, out: kept.append(out))
                calls = 0
            assert compiled(x).item() == eager_step(x).item()
            calls += 1
    assert len(kept) == calls  # every call since the hook was registered
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "Linear has a hook" in messages[0]
    assert registered == "before" or not any(
        type(entry).__name__ == "Program" for entry in compiled._entries.values()
    )
    for p, q in zip(eager_net.parameters(), compiled_net.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


# -- full backward hooks ---------------------------------------------------------------------------
def _linear(rng=0):
    return nn.Linear(2, 1, rng=rng, dtype=tn.float64)


def test_a_backward_hook_sees_the_input_and_output_gradients():
    layer = _linear()
    x = tn.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((m, gi, go)))
    out = layer(x)
    np.testing.assert_array_equal(out.data, layer.forward(x).data)  # the forward is unchanged
    (out * 2.0).sum().backward()
    ((module, grad_input, grad_output),) = seen
    assert module is layer and len(grad_input) == 1 and len(grad_output) == 1
    np.testing.assert_array_equal(grad_output[0].data, np.full((3, 1), 2.0))
    np.testing.assert_array_equal(grad_input[0].data, 2.0 * np.repeat(layer.weight.data, 3, 0))
    np.testing.assert_array_equal(x.grad.data, grad_input[0].data)


def test_a_backward_hook_fires_with_none_for_an_input_that_needs_no_gradient():
    layer = _linear()
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    layer(tn.ones(3, 2, dtype=tn.float64)).sum().backward()
    assert seen == [(None,)]


def test_backward_hooks_may_replace_the_gradients_as_pytorchs():
    x = tn.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    plain, doubled, tripled = _linear(), _linear(), _linear()
    plain(x).sum().backward()
    expected_x, expected_w = x.grad.data.copy(), plain.weight.grad.data.copy()
    x.grad = None
    doubled.register_full_backward_hook(lambda m, gi, go: (gi[0] * 2.0,))
    doubled(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2.0 * expected_x)
    np.testing.assert_array_equal(doubled.weight.grad.data, expected_w)  # not an input
    x.grad = None
    tripled.register_full_backward_pre_hook(lambda m, go: (go[0] * 3.0,))
    tripled(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 3.0 * expected_x)
    np.testing.assert_array_equal(tripled.weight.grad.data, 3.0 * expected_w)


def test_backward_hooks_fire_at_each_backward_of_a_retained_graph():
    layer = _linear()
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append(go[0].data.sum()))
    loss = layer(tn.ones(3, 2, dtype=tn.float64, requires_grad=True)).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert calls == [3.0, 3.0]


class _Add(nn.Module):
    def forward(self, a, b):
        return a + b


class _Product(nn.Module):
    """``a * b * scale``: d/da = grad_output * b * scale, d/db = grad_output * a * scale."""

    def forward(self, a, b, scale=1.0):
        return a * b * scale


class _TwoOutputs(nn.Module):
    def forward(self, a):
        return a * 2.0, a * 3.0


def _vector(values, requires_grad=True, dtype=tn.float64):
    return tn.tensor(values, requires_grad=requires_grad, dtype=dtype)


_W = np.array([1.0, -2.0, 0.5])  # the weights of the loss: grad_output


def _weighted(out):
    return (out * tn.tensor(_W, dtype=out.dtype)).sum()


def test_a_backward_hook_sees_every_input_gradient_once():
    a, b = _vector([1.0, 2.0, 3.0]), _vector([4.0, -5.0, 6.0])
    seen = []
    module = _Product()
    module.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    _weighted(module(a, b, 2.0)).backward()
    ((grad_input, grad_output),) = seen
    assert len(grad_input) == 3 and grad_input[2] is None and len(grad_output) == 1
    np.testing.assert_array_equal(grad_output[0].data, _W)
    np.testing.assert_array_equal(grad_input[0].data, _W * b.data * 2.0)
    np.testing.assert_array_equal(grad_input[1].data, _W * a.data * 2.0)
    np.testing.assert_array_equal(a.grad.data, grad_input[0].data)
    np.testing.assert_array_equal(b.grad.data, grad_input[1].data)


def test_backward_hooks_replace_the_gradient_of_one_input_or_of_both():
    a, b = _vector([1.0, 2.0, 3.0]), _vector([4.0, -5.0, 6.0])
    module = _Product()
    with module.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10.0, gi[1])):
        _weighted(module(a, b)).backward()
    np.testing.assert_array_equal(a.grad.data, 10.0 * _W * b.data)
    np.testing.assert_array_equal(b.grad.data, _W * a.data)
    a.grad = b.grad = None
    replacement = (tn.ones(3, dtype=tn.float64), None)  # None: no gradient for b
    with module.register_full_backward_hook(lambda m, gi, go: replacement):
        with module.register_full_backward_hook(lambda m, gi, go: (gi[0] * 3.0, gi[0])):
            _weighted(module(a, b)).backward()  # hooks chain: the second sees the first's
    np.testing.assert_array_equal(a.grad.data, [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0, 1.0])


def test_inputs_that_need_no_gradient_get_none_and_what_a_hook_returns_there_is_ignored():
    a, b = _vector([1.0, 2.0, 3.0]), _vector([4.0, -5.0, 6.0], requires_grad=False)
    seen = []
    module = _Product()
    module.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    module.register_full_backward_hook(lambda m, gi, go: (gi[0] * 2.0, tn.ones(7), "ignored"))
    _weighted(module(a, b, 0.5)).backward()
    (grad_input,) = seen
    assert grad_input[1] is None and grad_input[2] is None
    np.testing.assert_array_equal(grad_input[0].data, _W * b.data * 0.5)
    np.testing.assert_array_equal(a.grad.data, _W * b.data)


def test_several_outputs_their_gradients_together_and_none_for_an_unused_one():
    a = _vector([1.0, 2.0, 3.0])
    module = _TwoOutputs()
    seen = []
    module.register_full_backward_pre_hook(lambda m, go: seen.append(go))
    handle = module.register_full_backward_pre_hook(lambda m, go: (go[0] * 10.0, go[1]))
    first, second = module(a)
    (_weighted(first) + 4.0 * second.sum()).backward()
    (grad_output,) = seen
    np.testing.assert_array_equal(grad_output[0].data, _W)
    np.testing.assert_array_equal(grad_output[1].data, [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(a.grad.data, 10.0 * _W * 2.0 + 4.0 * 3.0)
    handle.remove()
    a.grad = None
    seen.clear()
    _weighted(module(a)[1]).backward()
    assert len(seen) == 1 and seen[0][0] is None
    np.testing.assert_array_equal(a.grad.data, _W * 3.0)


def test_mixed_dtypes_each_gradient_in_its_inputs_dtype():
    a = _vector([1.0, 2.0, 3.0], dtype=tn.float32)
    b = _vector([4.0, -5.0, 6.0], dtype=tn.float64)
    seen = []
    module = _Product()
    module.register_full_backward_hook(lambda m, gi, go: seen.append(gi) or (gi[0], gi[1] * 2))
    _weighted(module(a, b)).backward()
    assert [g.dtype for g in seen[0]] == [tn.float32, tn.float64]
    assert a.grad.dtype == tn.float32 and b.grad.dtype == tn.float64
    np.testing.assert_array_equal(a.grad.data, (_W * b.data).astype(np.float32))
    np.testing.assert_array_equal(b.grad.data, 2.0 * _W * a.data)


def test_a_replaced_input_gradient_is_differentiable_again():
    a, b = _vector([1.0, 2.0, 3.0]), _vector([4.0, -5.0, 6.0])
    calls = []
    module = _Product()
    module.register_full_backward_hook(lambda m, gi, go: calls.append(1) or (gi[0] * 2.0, gi[1]))
    grad_a, grad_b = tn.grad(_weighted(module(a, b)), (a, b), create_graph=True)
    np.testing.assert_array_equal(grad_a.data, 2.0 * _W * b.data)
    # d/db sum(2 w b) = 2 w, d/da sum(w a) = w; the second backward passes no module output,
    # so, as in PyTorch, no hook runs in it.
    (second_b,) = tn.grad(grad_a.sum(), b, retain_graph=True)
    (second_a,) = tn.grad(grad_b.sum(), a)
    np.testing.assert_array_equal(second_b.data, 2.0 * _W)
    np.testing.assert_array_equal(second_a.data, _W)
    assert calls == [1]


def test_wrong_counts_and_shapes_are_named():
    a, b = _vector([1.0, 2.0, 3.0]), _vector([4.0, -5.0, 6.0])
    module = _Add()
    handle = module.register_full_backward_hook(lambda m, gi, go: (gi[0],))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 1, but expected 2"):
        module(a, b).sum().backward()
    handle.remove()
    handle = module.register_full_backward_hook(lambda m, gi, go: (gi[0], tn.ones(2)))
    with pytest.raises(RuntimeError, match=r"returned grad_input\[1\] of shape \(2,\)"):
        module(a, b).sum().backward()
    handle.remove()
    module.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[1].data))
    with pytest.raises(TypeError, match=r"returned a ndarray in grad_input\[1\]"):
        module(a, b).sum().backward()
    pair = _TwoOutputs()
    pair.register_full_backward_pre_hook(lambda m, go: (go[0],))
    with pytest.raises(
        RuntimeError,
        match="pre hook returned an invalid number of grad_output, got 1, but expected 2",
    ):
        sum(out.sum() for out in pair(a)).backward()
    layer = _linear()
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        layer(tn.ones(3, 2, dtype=tn.float64, requires_grad=True)).sum().backward()


def test_no_input_needing_a_gradient_a_hook_may_only_return_none():
    layer = _linear()
    layer.register_full_backward_hook(lambda m, gi, go: (None,))  # allowed
    layer(tn.ones(3, 2, dtype=tn.float64)).sum().backward()
    layer.register_full_backward_hook(lambda m, gi, go: (tn.ones(3, 2),))
    with pytest.raises(RuntimeError, match="no input requires gradient should always return None"):
        layer(tn.ones(3, 2, dtype=tn.float64)).sum().backward()


def test_a_call_without_grad_mode_runs_no_backward_machinery():
    layer = _linear()
    layer.register_full_backward_hook(lambda m, gi, go: None)
    x = tn.ones(3, 2, dtype=tn.float64, requires_grad=True)
    with tn.no_grad():
        out = layer(x)
    assert not out.requires_grad
    np.testing.assert_array_equal(out.data, layer.forward(x).data)


def test_an_in_place_write_to_one_input_in_forward_leaves_the_others_alone():
    class Shift(nn.Module):
        def forward(self, a, b):
            a.add_(1.0)  # a is the module's copy, a non-leaf: allowed, as in PyTorch
            return a * b

    a, b = _vector([1.0, 2.0, 3.0]), _vector([4.0, -5.0, 6.0])
    module = Shift()
    module.register_full_backward_hook(lambda m, gi, go: None)
    _weighted(module(a, b)).backward()
    np.testing.assert_array_equal(a.grad.data, _W * b.data)
    np.testing.assert_array_equal(b.grad.data, _W * (a.data + 1.0))
    np.testing.assert_array_equal(a.data, [1.0, 2.0, 3.0])  # the caller's tensor is untouched


def test_a_module_returning_its_input_and_one_output_twice():
    x = _vector([1.0, 2.0, 3.0])
    seen = []
    identity = nn.Identity()
    identity.register_full_backward_pre_hook(lambda m, go: seen.append("pre") or (go[0] * 2.0,))
    identity.register_full_backward_hook(lambda m, gi, go: seen.append("hook") or (gi[0] + 1.0,))
    _weighted(identity(x)).backward()
    assert seen == ["pre", "hook"]
    np.testing.assert_array_equal(x.grad.data, 2.0 * _W + 1.0)

    class Twice(nn.Module):
        def forward(self, a):
            y = a * 3.0
            return y, y

    twice, grads = Twice(), []
    twice.register_full_backward_hook(lambda m, gi, go: grads.append(go))
    first, second = twice(x)
    (_weighted(first) + second.sum()).backward()
    np.testing.assert_array_equal(grads[0][0].data, _W)
    np.testing.assert_array_equal(grads[0][1].data, [1.0, 1.0, 1.0])


def test_two_inputs_a_hook_sees_both():
    a, b = tn.ones(2, requires_grad=True), tn.ones(2, requires_grad=True)
    seen = []
    module = _Add()
    module.register_full_backward_hook(lambda m, gi, go: seen.append(len(gi)))
    module(a, b).sum().backward()
    assert seen == [2]
