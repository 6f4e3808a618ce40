"""optim.ASGD against PyTorch's algorithm written out in NumPy: the trajectory, the average
``ax``, ``eta`` and ``mu``, its defaults and checks, state dicts, and convergence."""

import re

import numpy as np
import pytest

import tinynet as tn
from tinynet import optim


def reference_asgd(x, grads, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0,
                   maximize=False):  # fmt: skip
    """PyTorch's ASGD step by step in float64: the parameters, the average and eta, mu."""
    x, ax, eta, mu = x.copy(), np.zeros_like(x), lr, 1.0
    trajectory = []
    for step, grad in enumerate(grads, start=1):
        g = -grad if maximize else grad
        g = g + weight_decay * x
        x = x * (1 - lambd * eta)
        x = x - eta * g
        ax = x.copy() if mu == 1 else ax + mu * (x - ax)
        eta = lr / (1 + lambd * lr * step) ** alpha
        mu = 1 / max(1, step - t0)
        trajectory.append((x, ax, eta, mu))
    return trajectory


def gradient(x):
    return np.tanh(x) + x**2 - 0.5


X0 = np.array([0.5, -1.0, 2.0])


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"lr": 0.1, "lambd": 0.3, "alpha": 0.5, "t0": 2},
        {"lr": 0.05, "lambd": 0.0, "t0": 0, "weight_decay": 0.2},
        {"lr": 0.1, "lambd": 0.1, "t0": 3, "weight_decay": 0.1, "maximize": True},
    ],
)
def test_a_few_steps_follow_pytorchs_formulas(kwargs):
    param = tn.tensor(X0.copy(), requires_grad=True)
    opt = optim.ASGD([param], **kwargs)
    grads = []
    for _ in range(6):
        grads.append(gradient(param.data.copy()))
        param.grad = tn.tensor(grads[-1])
        opt.step()
    expected = reference_asgd(X0, grads, **kwargs)[-1]
    # The gradients were computed from our trajectory: the same one if the steps are right.
    state = opt.state[param]
    np.testing.assert_allclose(param.data, expected[0], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(state["ax"], expected[1], rtol=1e-14, atol=1e-15)
    assert state["eta"] == pytest.approx(expected[2], rel=1e-15)
    assert state["mu"] == pytest.approx(expected[3], rel=1e-15)
    assert state["step"] == 6


def test_the_average_is_the_mean_of_the_iterates_after_t0():
    # With t0 = 2, mu = 1/(t - 2) from step 3 on: ax is the running mean of the iterates from
    # step 3 on (the iterate of step 3 taken whole), Polyak-Ruppert averaging.
    param = tn.tensor(X0.copy(), requires_grad=True)
    opt = optim.ASGD([param], lr=0.1, lambd=0.0, t0=2)
    iterates = []
    for _ in range(8):
        param.grad = tn.tensor(gradient(param.data))
        opt.step()
        iterates.append(param.data.copy())
    np.testing.assert_allclose(opt.state[param]["ax"], np.mean(iterates[3:], axis=0), rtol=1e-13)
    assert opt.state[param]["eta"] == 0.1  # lambd = 0: a constant step size


def test_defaults_state_and_checks_are_pytorchs():
    param = tn.ones(2, requires_grad=True)
    opt = optim.ASGD([param])
    group = opt.param_groups[0]
    assert {k: group[k] for k in ("lr", "lambd", "alpha", "t0", "weight_decay", "maximize")} == {
        "lr": 0.01, "lambd": 1e-4, "alpha": 0.75, "t0": 1e6, "weight_decay": 0, "maximize": False
    }  # fmt: skip
    param.grad = tn.ones(2)
    opt.step()
    assert sorted(opt.state[param]) == ["ax", "eta", "mu", "step"]
    assert opt.state[param]["ax"].dtype == np.float32 and param.dtype == np.float32
    for kwargs, message in (
        ({"lr": -1}, "Invalid learning rate: -1"),
        ({"weight_decay": -0.5}, "Invalid weight_decay value: -0.5"),
    ):
        with pytest.raises(ValueError, match=re.escape(message)):
            optim.ASGD([tn.ones(1, requires_grad=True)], **kwargs)


def train(params, opt, steps):
    for _ in range(steps):
        for param in params:
            param.grad = tn.Tensor(gradient(param.data))
        opt.step()


def make(values, lr):
    params = [tn.tensor(v.copy(), requires_grad=True) for v in values]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": lr / 2}]
    return params, optim.ASGD(groups, lr=lr, lambd=0.2, t0=3)


def test_state_dict_round_trip_resumes_bit_identically():
    values = [X0.astype(np.float32), np.linspace(-1, 1, 4, dtype=np.float32)]
    params, opt = make(values, 0.1)
    train(params, opt, 5)
    saved = opt.state_dict()
    at_five = [p.data.copy() for p in params]
    train(params, opt, 5)
    fresh, resumed = make(at_five, 123.0)
    resumed.load_state_dict(saved)
    train(fresh, resumed, 5)
    for original, restored in zip(params, fresh):
        np.testing.assert_array_equal(original.data, restored.data)
        for name, value in opt.state[original].items():
            np.testing.assert_array_equal(resumed.state[restored][name], value)


def test_several_parameters_in_a_group_each_follow_the_formulas():
    first, second = tn.tensor(X0.copy(), requires_grad=True), tn.tensor(-X0, requires_grad=True)
    opt = optim.ASGD([first, second], lr=0.1, lambd=0.2, t0=1)
    grads = {id(first): [], id(second): []}
    for _ in range(4):
        for param in (first, second):
            grads[id(param)].append(gradient(param.data.copy()))
            param.grad = tn.tensor(grads[id(param)][-1])
        opt.step()
    for param, start in ((first, X0), (second, -X0)):
        x, ax, _, _ = reference_asgd(start, grads[id(param)], lr=0.1, lambd=0.2, t0=1)[-1]
        np.testing.assert_allclose(param.data, x, rtol=1e-14)
        np.testing.assert_allclose(opt.state[param]["ax"], ax, rtol=1e-14)


def test_asgd_converges_and_its_average_is_near_the_minimiser():
    target = np.array([1.0, -2.0])
    param = tn.zeros(2, dtype=tn.float64, requires_grad=True)
    opt = optim.ASGD([param], lr=0.1, t0=50)
    noise = np.random.default_rng(0).normal(0, 0.5, (400, 2))
    for step in range(400):
        param.grad = tn.tensor(param.data - target + noise[step])  # noisy gradients
        opt.step()
    average = opt.state[param]["ax"]
    assert np.abs(average - target).max() < np.abs(param.data - target).max()
    np.testing.assert_allclose(average, target, atol=0.1)
