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


def test_two_inputs_a_replacement_is_refused_and_a_wrong_count_named():
    a, b = tn.ones(2, requires_grad=True), tn.ones(2, requires_grad=True)
    seen = []
    module = _Add()
    handle = module.register_full_backward_hook(lambda m, gi, go: seen.append(len(gi)))
    module(a, b).sum().backward()
    assert seen == [2]
    handle.remove()
    module.register_full_backward_hook(lambda m, gi, go: gi)
    with pytest.raises(NotImplementedError, match="only to a module with one Tensor input"):
        module(a, b).sum().backward()
    layer = _linear()
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        layer(tn.ones(3, 2, dtype=tn.float64, requires_grad=True)).sum().backward()
