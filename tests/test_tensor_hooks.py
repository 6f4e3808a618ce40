"""Tensor.register_hook, with PyTorch's semantics (closed-form gradients as the truth)."""

import warnings

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn, optim


def test_a_leaf_hook_sees_each_backwards_gradient_before_it_is_accumulated():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    seen = []

    def hook(grad):
        seen.append(grad.tolist())
        return grad * 10.0

    x.register_hook(hook)
    (x * x).sum().backward()  # d/dx = 2x
    (x * 3.0).sum().backward()  # d/dx = 3, accumulated after the hook
    assert seen == [[2.0, 4.0], [3.0, 3.0]]
    assert x.grad.tolist() == [50.0, 70.0]


def test_a_non_leaf_hooks_gradient_is_what_flows_on():
    x = tn.tensor([1.0, -2.0], requires_grad=True)
    y = x * 3.0
    seen = []
    y.register_hook(lambda grad: seen.append(grad.tolist()))  # None: unchanged
    y.register_hook(lambda grad: grad + 1.0)  # then replaced, in registration order
    (y * y).sum().backward()  # dL/dy = 2y = [6, -12]
    assert seen == [[6.0, -12.0]]
    assert x.grad.tolist() == [3.0 * 7.0, 3.0 * -11.0]


def test_retain_grad_sees_the_hooked_gradient_as_in_pytorch_2():
    x = tn.tensor([1.0], requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    y.register_hook(lambda grad: grad * 5.0)
    (y * 1.0).sum().backward()
    assert y.grad.tolist() == [5.0] and x.grad.tolist() == [10.0]


def test_a_hook_registered_before_an_in_place_write_sees_the_old_values_gradient():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    seen = []
    h.register_hook(lambda grad: seen.append(grad.tolist()))
    h.mul_(3.0)
    (h * h).sum().backward()  # L = 9 h0^2: dL/dh0 = 18 h0
    assert seen == [[18.0, 36.0]]


def test_removing_a_hook_and_tn_grad():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda grad: grad * 0.0)
    (gx,) = tn.grad((x * x).sum(), [x])
    assert gx.tolist() == [0.0, 0.0]
    handle.remove()
    handle.remove()  # twice is harmless
    (gx,) = tn.grad((x * x).sum(), [x])
    assert gx.tolist() == [2.0, 4.0]


def test_bad_hooks_and_tensors_are_refused_with_pytorchs_messages():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't"):
        tn.ones(2).register_hook(lambda grad: grad)
    x = tn.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="a hook must be callable"):
        x.register_hook(3)
    x.register_hook(lambda grad: grad.tolist())
    with pytest.raises(TypeError, match="must return a Tensor or None, got list"):
        (x * 2.0).sum().backward()


@pytest.mark.parametrize("registered", ["before", "after"])
def test_a_compiled_step_with_a_tensor_hook_runs_eagerly_with_eagers_results(registered):
    def make():
        net = nn.Linear(3, 2, rng=0)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x):
            loss = (net(tn.Tensor(x)) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return net, step

    (eager_net, eager_step), (net, step) = make(), make()
    compiled = tn.compile(step)
    data = [np.random.default_rng(i).standard_normal((4, 3), dtype=np.float32) for i in range(6)]
    calls = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index, x in enumerate(data):
            if index == (0 if registered == "before" else 3):
                # clipping a gradient as it is made: Python a replay would not run
                for parameter in (eager_net.weight, net.weight):
                    parameter.register_hook(lambda grad: calls.append(1) or grad.clamp(-1, 1))
            assert compiled(x).item() == eager_step(x).item()
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "tensor hook" in messages[0]
    assert len(calls) == 2 * (6 if registered == "before" else 3)
    for p, q in zip(eager_net.parameters(), net.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
