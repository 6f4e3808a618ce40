"""Optimizers against their documented algorithms (PyTorch's pseudocode), written here in
plain NumPy, plus state dicts, parameter groups, dtypes, the graph and error messages."""

import math
import pickle
import re

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
from tinynet.optim import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    NAdam,
    Optimizer,
    RAdam,
    RMSprop,
    Rprop,
)

# -- a small quadratic problem: f(x) = 0.5 x.M x - b.x over a (2, 3) parameter -----------------
_rng = np.random.default_rng(1234)
_Q = _rng.normal(size=(6, 6))
M = _Q @ _Q.T / 6 + np.eye(6)  # symmetric positive definite
B = _rng.normal(size=6)
X0 = _rng.normal(size=(2, 3))
MINIMISER = np.linalg.solve(M, B).reshape(2, 3)


def quadratic_grad(x):
    return (M @ x.reshape(-1) - B).reshape(x.shape)


# -- reference algorithms, from the documented pseudocode, in float64 --------------------------
class RefSGD:
    def __init__(self, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False):
        self.__dict__.update(locals())
        self.buf = None
        self.t = 0

    def update(self, x, grad):
        self.t += 1
        g = -grad if self.maximize else grad
        if self.weight_decay:
            g = g + self.weight_decay * x
        if self.momentum:
            if self.t > 1:
                self.buf = self.momentum * self.buf + (1 - self.dampening) * g
            else:
                self.buf = g
            g = g + self.momentum * self.buf if self.nesterov else self.buf
        return x - self.lr * g


class RefAdam:
    decoupled = False

    def __init__(
        self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False
    ):
        self.__dict__.update(locals())
        self.m = self.v = self.v_max = 0.0
        self.t = 0

    def update(self, x, grad):
        self.t += 1
        beta1, beta2 = self.betas
        g = -grad if self.maximize else grad
        if self.decoupled:
            x = x * (1 - self.lr * self.weight_decay)
        elif self.weight_decay:
            g = g + self.weight_decay * x
        self.m = beta1 * self.m + (1 - beta1) * g
        self.v = beta2 * self.v + (1 - beta2) * g**2
        m_hat = self.m / (1 - beta1**self.t)
        if self.amsgrad:
            self.v_max = np.maximum(self.v_max, self.v)
            v_hat = self.v_max / (1 - beta2**self.t)
        else:
            v_hat = self.v / (1 - beta2**self.t)
        return x - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class RefAdamW(RefAdam):
    decoupled = True

    def __init__(
        self,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        maximize=False,
    ):
        super().__init__(lr, betas, eps, weight_decay, amsgrad, maximize)


class RefRMSprop:
    def __init__(
        self,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        maximize=False,
    ):
        self.__dict__.update(locals())
        self.v = self.g_avg = self.buf = 0.0

    def update(self, x, grad):
        g = -grad if self.maximize else grad
        if self.weight_decay:
            g = g + self.weight_decay * x
        self.v = self.alpha * self.v + (1 - self.alpha) * g**2
        v_tilde = self.v
        if self.centered:
            self.g_avg = self.alpha * self.g_avg + (1 - self.alpha) * g
            v_tilde = self.v - self.g_avg**2
        if self.momentum > 0:
            self.buf = self.momentum * self.buf + g / (np.sqrt(v_tilde) + self.eps)
            return x - self.lr * self.buf
        return x - self.lr * g / (np.sqrt(v_tilde) + self.eps)


class RefAdagrad:
    def __init__(
        self,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        maximize=False,
    ):
        self.__dict__.update(locals())
        self.sum = initial_accumulator_value
        self.t = 0

    def update(self, x, grad):
        self.t += 1
        g = -grad if self.maximize else grad
        if self.weight_decay:
            g = g + self.weight_decay * x
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        self.sum = self.sum + g * g
        return x - clr * g / (np.sqrt(self.sum) + self.eps)


class RefNAdam:
    def __init__(
        self,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        maximize=False,
    ):
        self.__dict__.update(locals())
        self.m = self.v = 0.0
        self.mus = []  # mu_1 ... mu_t
        self.t = 0

    def mu(self, t):
        return self.betas[0] * (1 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def update(self, x, grad):
        self.t += 1
        t, (beta1, beta2) = self.t, self.betas
        g = -grad if self.maximize else grad
        if self.weight_decay and self.decoupled_weight_decay:
            x = x - self.lr * self.weight_decay * x
        elif self.weight_decay:
            g = g + self.weight_decay * x
        self.mus.append(self.mu(t))
        self.m = beta1 * self.m + (1 - beta1) * g
        self.v = beta2 * self.v + (1 - beta2) * g**2
        m_hat = self.mu(t + 1) * self.m / (1 - math.prod(self.mus) * self.mu(t + 1)) + (
            1 - self.mus[-1]
        ) * g / (1 - math.prod(self.mus))
        v_hat = self.v / (1 - beta2**t)
        return x - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class RefRAdam:
    def __init__(
        self,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        decoupled_weight_decay=False,
        maximize=False,
    ):
        self.__dict__.update(locals())
        self.m = self.v = 0.0
        self.t = 0

    def update(self, x, grad):
        self.t += 1
        t, (beta1, beta2) = self.t, self.betas
        g = -grad if self.maximize else grad
        if self.weight_decay and self.decoupled_weight_decay:
            x = x - self.lr * self.weight_decay * x
        elif self.weight_decay:
            g = g + self.weight_decay * x
        self.m = beta1 * self.m + (1 - beta1) * g
        self.v = beta2 * self.v + (1 - beta2) * g**2
        m_hat = self.m / (1 - beta1**t)
        rho_inf = 2 / (1 - beta2) - 1
        rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho <= 5:
            return x - self.lr * m_hat
        adaptive = np.sqrt(1 - beta2**t) / (np.sqrt(self.v) + self.eps)
        r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        return x - self.lr * m_hat * r * adaptive


class RefAdamax:
    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False):
        self.__dict__.update(locals())
        self.m = self.u = 0.0
        self.t = 0

    def update(self, x, grad):
        self.t += 1
        beta1, beta2 = self.betas
        g = -grad if self.maximize else grad
        if self.weight_decay:
            g = g + self.weight_decay * x
        self.m = beta1 * self.m + (1 - beta1) * g
        self.u = np.maximum(beta2 * self.u, np.abs(g) + self.eps)
        return x - self.lr * self.m / ((1 - beta1**self.t) * self.u)


class RefAdadelta:
    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
        self.__dict__.update(locals())
        self.v = self.u = 0.0

    def update(self, x, grad):
        g = -grad if self.maximize else grad
        if self.weight_decay:
            g = g + self.weight_decay * x
        self.v = self.rho * self.v + (1 - self.rho) * g**2
        delta = np.sqrt(self.u + self.eps) / np.sqrt(self.v + self.eps) * g
        self.u = self.rho * self.u + (1 - self.rho) * delta**2
        return x - self.lr * delta


class RefRprop:
    def __init__(self, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
        self.__dict__.update(locals())
        self.prev = 0.0
        self.size = None

    def update(self, x, grad):
        g = -grad if self.maximize else grad
        (eta_minus, eta_plus), (low, high) = self.etas, self.step_sizes
        size = np.full_like(x, self.lr) if self.size is None else self.size
        same = g * self.prev
        size = np.where(same > 0, np.minimum(size * eta_plus, high), size)
        size = np.where(same < 0, np.maximum(size * eta_minus, low), size)
        g = np.where(same < 0, 0.0, g)
        self.size, self.prev = size, g
        return x - np.sign(g) * size


REFERENCE = {
    SGD: RefSGD,
    Adam: RefAdam,
    AdamW: RefAdamW,
    RMSprop: RefRMSprop,
    Adagrad: RefAdagrad,
    NAdam: RefNAdam,
    RAdam: RefRAdam,
    Adamax: RefAdamax,
    Adadelta: RefAdadelta,
    Rprop: RefRprop,
}

CASES = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.1, momentum=0.9)),
    (SGD, dict(lr=0.1, momentum=0.9, dampening=0.3)),
    (SGD, dict(lr=0.05, momentum=0.8, nesterov=True)),
    (SGD, dict(lr=0.1, weight_decay=0.2)),
    (SGD, dict(lr=0.1, maximize=True)),
    (SGD, dict(lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1, maximize=True)),
    (SGD, dict(lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.3, maximize=True)),
    (Adam, dict(lr=0.1)),
    (Adam, dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3)),
    (Adam, dict(lr=0.1, betas=(0.9, 0.5), amsgrad=True)),
    (Adam, dict(lr=0.1, weight_decay=0.3)),
    (Adam, dict(lr=0.1, maximize=True)),
    (Adam, dict(lr=0.1, betas=(0.7, 0.5), weight_decay=0.2, amsgrad=True, maximize=True)),
    (AdamW, dict(lr=0.1)),
    (AdamW, dict(lr=0.1, weight_decay=0.5)),
    (AdamW, dict(lr=0.1, betas=(0.9, 0.5), weight_decay=0.5, amsgrad=True, maximize=True)),
    (RMSprop, dict(lr=0.01)),
    (RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-3)),
    (RMSprop, dict(lr=0.01, centered=True)),
    (RMSprop, dict(lr=0.01, momentum=0.9)),
    (RMSprop, dict(lr=0.01, alpha=0.8, centered=True, momentum=0.5, weight_decay=0.1)),
    (RMSprop, dict(lr=0.01, weight_decay=0.2, maximize=True)),
    (Adagrad, dict(lr=0.1)),
    (Adagrad, dict(lr=0.1, lr_decay=0.5)),
    (Adagrad, dict(lr=0.1, initial_accumulator_value=0.5)),
    (Adagrad, dict(lr=0.1, weight_decay=0.2, eps=1e-3)),
    (
        Adagrad,
        dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.1, maximize=True),
    ),
    (NAdam, dict(lr=0.1)),
    (NAdam, dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3, momentum_decay=0.05)),
    (NAdam, dict(lr=0.1, weight_decay=0.3, maximize=True)),
    (NAdam, dict(lr=0.1, weight_decay=0.3, decoupled_weight_decay=True)),
    (RAdam, dict(lr=0.1)),
    (RAdam, dict(lr=0.1, betas=(0.9, 0.5))),  # rho_inf = 3: never rectified
    (RAdam, dict(lr=0.1, betas=(0.8, 0.6), weight_decay=0.2, maximize=True)),
    (RAdam, dict(lr=0.1, betas=(0.9, 0.5), weight_decay=0.5, decoupled_weight_decay=True)),
    (Adamax, dict(lr=0.1)),
    (Adamax, dict(lr=0.05, betas=(0.8, 0.5), eps=1e-3)),
    (Adamax, dict(lr=0.1, weight_decay=0.3, maximize=True)),
    (Adadelta, dict()),
    (Adadelta, dict(lr=0.5, rho=0.5, eps=1e-3)),
    (Adadelta, dict(lr=1.0, weight_decay=0.3, maximize=True)),
    (Rprop, dict(lr=0.1)),
    (Rprop, dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(0.01, 0.2))),
    (Rprop, dict(lr=0.1, maximize=True)),
]


def case_id(case):
    cls, kwargs = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def run_optimizer(cls, kwargs, dtype, steps, x0=X0):
    param = tn.tensor(x0.astype(dtype), requires_grad=True)
    opt = cls([param], **kwargs)
    trajectory = []
    for _ in range(steps):
        param.grad = tn.Tensor(quadratic_grad(param.data.astype(np.float64)).astype(dtype))
        opt.step()
        trajectory.append(param.data.copy())
    return trajectory, param, opt


def run_reference(cls, kwargs, steps, x0=X0):
    ref = REFERENCE[cls](**kwargs)
    x = x0.astype(np.float64)
    trajectory = []
    for _ in range(steps):
        x = ref.update(x, quadratic_grad(x))
        trajectory.append(x)
    return trajectory


TOLERANCE = {np.float64: dict(rtol=1e-12, atol=1e-13), np.float32: dict(rtol=2e-5, atol=2e-6)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_trajectory_matches_documented_algorithm(case, dtype):
    cls, kwargs = case
    ours, param, opt = run_optimizer(cls, kwargs, dtype, steps=6)
    reference = run_reference(cls, kwargs, steps=6)
    for step, (got, want) in enumerate(zip(ours, reference), start=1):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, **TOLERANCE[dtype], err_msg=f"step {step}")
    # State keeps the parameter's dtype and shape.
    for value in opt.state[param].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == dtype and value.shape == param.shape


@pytest.mark.parametrize(
    "cls, kwargs, variant",
    [
        (Adam, dict(lr=0.1, betas=(0.9, 0.5)), dict(amsgrad=True)),
        (RMSprop, dict(lr=0.01), dict(centered=True)),
        (SGD, dict(lr=0.1, momentum=0.9), dict(nesterov=True)),
        (SGD, dict(lr=0.1, momentum=0.9), dict(dampening=0.5)),
        (Adagrad, dict(lr=0.1), dict(lr_decay=0.5)),
        (NAdam, dict(lr=0.1), dict(momentum_decay=0.1)),
        (NAdam, dict(lr=0.1, weight_decay=0.5), dict(decoupled_weight_decay=True)),
        (RAdam, dict(lr=0.1, weight_decay=0.5), dict(decoupled_weight_decay=True)),
        (Rprop, dict(lr=0.1), dict(step_sizes=(1e-6, 0.15))),
    ],
)
def test_options_change_the_trajectory(cls, kwargs, variant):
    # The cases above would pass for an option that is ignored if the problem never
    # exercised it: make sure each option makes a difference on this problem.
    plain = run_optimizer(cls, kwargs, np.float64, steps=6)[0][-1]
    varied = run_optimizer(cls, {**kwargs, **variant}, np.float64, steps=6)[0][-1]
    assert np.abs(plain - varied).max() > 1e-6


# -- worked by hand ----------------------------------------------------------------------------
def constant_grad_steps(opt, param, grad, steps):
    values = []
    for _ in range(steps):
        param.grad = tn.tensor(np.array(grad, dtype=np.float64))
        opt.step()
        values.append(param.data.tolist())
    return values


def test_sgd_first_momentum_step_uses_the_gradient_itself():
    # buf1 = g = 2 (no dampening): p = 1 - 0.1*2 = 0.8
    # buf2 = 0.9*2 + (1-0.5)*2 = 2.8: p = 0.8 - 0.28 = 0.52
    p = tn.tensor(np.array([1.0]), requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    values = constant_grad_steps(opt, p, [2.0], 2)
    np.testing.assert_allclose(values, [[0.8], [0.52]], rtol=1e-14)


def test_sgd_nesterov_by_hand():
    # step 1: buf = 2, d = 2 + 0.9*2 = 3.8, p = 1 - 0.38 = 0.62
    # step 2: buf = 0.9*2 + 2 = 3.8, d = 2 + 0.9*3.8 = 5.42, p = 0.62 - 0.542 = 0.078
    p = tn.tensor(np.array([1.0]), requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    np.testing.assert_allclose(constant_grad_steps(opt, p, [2.0], 2), [[0.62], [0.078]], rtol=1e-12)


def test_sgd_maximize_negates_the_gradient_before_weight_decay():
    # PyTorch 2.x: g = -grad + wd * p = -2 + 0.5 = -1.5, p = 1 - 0.1 * (-1.5) = 1.15
    p = tn.tensor(np.array([1.0]), requires_grad=True)
    opt = SGD([p], lr=0.1, weight_decay=0.5, maximize=True)
    np.testing.assert_allclose(constant_grad_steps(opt, p, [2.0], 1), [[1.15]], rtol=1e-14)


def test_adam_first_step_moves_by_lr():
    # m_hat = g, v_hat = g^2: p = 1 - 0.1 * 3 / (3 + 1e-8)
    p = tn.tensor(np.array([1.0]), requires_grad=True)
    opt = Adam([p], lr=0.1)
    np.testing.assert_allclose(constant_grad_steps(opt, p, [3.0], 1), [[1 - 0.3 / (3 + 1e-8)]])


def test_adamw_decay_is_decoupled_and_adam_decay_is_not():
    # Zero gradient: AdamW only shrinks p by (1 - lr*wd) = 0.95; Adam's L2 term makes
    # g = wd*p = 0.5, and its first step moves p by lr: 0.9.
    p = tn.tensor(np.array([1.0]), requires_grad=True)
    np.testing.assert_allclose(
        constant_grad_steps(AdamW([p], lr=0.1, weight_decay=0.5), p, [0.0], 1), [[0.95]]
    )
    q = tn.tensor(np.array([1.0]), requires_grad=True)
    np.testing.assert_allclose(
        constant_grad_steps(Adam([q], lr=0.1, weight_decay=0.5), q, [0.0], 1), [[0.9]], rtol=1e-7
    )


def test_adagrad_lr_decay_by_hand():
    # s1 = 4: p = 1 - 0.1 * 2/2 = 0.9; s2 = 8, clr = 0.1 / (1 + 1*1) = 0.05:
    # p = 0.9 - 0.05 * 2 / sqrt(8)
    p = tn.tensor(np.array([1.0]), requires_grad=True)
    opt = Adagrad([p], lr=0.1, lr_decay=1.0, eps=0)
    values = constant_grad_steps(opt, p, [2.0], 2)
    np.testing.assert_allclose(values, [[0.9], [0.9 - 0.1 / math.sqrt(8)]], rtol=1e-14)


def test_rmsprop_centered_by_hand():
    # alpha=0.5, g=2: v = 2, a = 1, denominator = sqrt(2 - 1) = 1: p = 1 - 0.1 * 2 = 0.8
    p = tn.tensor(np.array([1.0]), requires_grad=True)
    opt = RMSprop([p], lr=0.1, alpha=0.5, eps=0, centered=True)
    np.testing.assert_allclose(constant_grad_steps(opt, p, [2.0], 1), [[0.8]], rtol=1e-14)


# -- random hyper-parameters and gradients -----------------------------------------------------
unit = st.floats(0.0, 0.99)
HYPERPARAMETERS = {
    SGD: st.fixed_dictionaries(
        dict(
            lr=st.floats(0, 1),
            momentum=unit,
            dampening=unit,
            weight_decay=unit,
            maximize=st.booleans(),
        )
    ),
    Adam: st.fixed_dictionaries(
        dict(
            lr=st.floats(0, 1),
            betas=st.tuples(unit, unit),
            eps=st.floats(1e-8, 1e-2),
            weight_decay=unit,
            amsgrad=st.booleans(),
            maximize=st.booleans(),
        )
    ),
    RMSprop: st.fixed_dictionaries(
        dict(
            lr=st.floats(0, 1),
            alpha=unit,
            eps=st.floats(1e-8, 1e-2),
            weight_decay=unit,
            momentum=unit,
            centered=st.booleans(),
            maximize=st.booleans(),
        )
    ),
    Adagrad: st.fixed_dictionaries(
        dict(
            lr=st.floats(0, 1),
            lr_decay=unit,
            weight_decay=unit,
            initial_accumulator_value=unit,
            eps=st.floats(1e-10, 1e-2),
            maximize=st.booleans(),
        )
    ),
}
HYPERPARAMETERS[AdamW] = HYPERPARAMETERS[Adam]
HYPERPARAMETERS[NAdam] = st.fixed_dictionaries(
    dict(
        lr=st.floats(0, 1),
        betas=st.tuples(unit, unit),
        eps=st.floats(1e-8, 1e-2),
        weight_decay=unit,
        momentum_decay=st.floats(0, 0.1),
        decoupled_weight_decay=st.booleans(),
        maximize=st.booleans(),
    )
)
HYPERPARAMETERS[RAdam] = st.fixed_dictionaries(
    dict(
        lr=st.floats(0, 1),
        betas=st.tuples(unit, unit),
        eps=st.floats(1e-8, 1e-2),
        weight_decay=unit,
        decoupled_weight_decay=st.booleans(),
        maximize=st.booleans(),
    )
)
HYPERPARAMETERS[Adamax] = st.fixed_dictionaries(
    dict(
        lr=st.floats(0, 1),
        betas=st.tuples(unit, unit),
        eps=st.floats(1e-8, 1e-2),
        weight_decay=unit,
        maximize=st.booleans(),
    )
)
HYPERPARAMETERS[Adadelta] = st.fixed_dictionaries(
    dict(
        lr=st.floats(0, 2),
        rho=unit,
        eps=st.floats(1e-8, 1e-2),
        weight_decay=unit,
        maximize=st.booleans(),
    )
)
HYPERPARAMETERS[Rprop] = st.fixed_dictionaries(
    dict(
        lr=st.floats(1e-3, 1),
        etas=st.tuples(st.floats(0.05, 0.95), st.floats(1.05, 3)),
        step_sizes=st.tuples(st.floats(1e-6, 1e-3), st.floats(1, 50)),
        maximize=st.booleans(),
    )
)
ALL = [SGD, Adam, AdamW, RMSprop, Adagrad, NAdam, RAdam, Adamax, Adadelta, Rprop]


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@given(data=st.data())
def test_random_hyperparameters_and_gradients_match_reference(cls, data):
    kwargs = data.draw(HYPERPARAMETERS[cls], label="hyper-parameters")
    if cls is RMSprop and kwargs["centered"]:
        kwargs["eps"] = max(kwargs["eps"], 1e-3)  # keep sqrt(v - a^2) + eps away from 0
        # With 0 < alpha << 1, v - a^2 = g^2 alpha (1 - alpha) is below the rounding error of
        # v and a^2 themselves: any two correct evaluation orders then differ by ~1e-8 |g|
        # in sqrt(v - a^2), far beyond rtol. alpha = 0 is exact (v - a^2 = 0) and stays.
        if 0 < kwargs["alpha"] < 1e-3:
            kwargs["alpha"] = 1e-3
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    shape = (3, 2)
    gradients = rng.normal(size=(4, *shape))
    x0 = rng.normal(size=shape)
    param = tn.tensor(x0.copy(), requires_grad=True)
    opt = cls([param], **kwargs)
    ref = REFERENCE[cls](**kwargs)
    x = x0
    for grad in gradients:
        param.grad = tn.tensor(grad)
        opt.step()
        x = ref.update(x, grad)
        np.testing.assert_allclose(param.data, x, rtol=1e-9, atol=1e-9)


# -- parameter groups --------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [SGD, Adam, RMSprop], ids=lambda c: c.__name__)
def test_param_groups_use_their_own_hyperparameters(cls):
    w = tn.tensor(X0[0].copy(), requires_grad=True)
    b = tn.tensor(X0[1].copy(), requires_grad=True)
    extra = dict(momentum=0.9) if cls is not Adam else {}
    opt = cls([{"params": [w]}, {"params": b, "lr": 0.001, **extra}], lr=0.1)
    assert [group["lr"] for group in opt.param_groups] == [0.1, 0.001]
    ref_w, ref_b = REFERENCE[cls](lr=0.1), REFERENCE[cls](lr=0.001, **extra)
    xw, xb = X0[0].copy(), X0[1].copy()
    for _ in range(4):
        gw, gb = np.cos(w.data), np.sin(b.data) + 1
        w.grad, b.grad = tn.tensor(gw), tn.tensor(gb)
        opt.step()
        xw, xb = ref_w.update(xw, np.cos(xw)), ref_b.update(xb, np.sin(xb) + 1)
        np.testing.assert_allclose(w.data, xw, rtol=1e-12)
        np.testing.assert_allclose(b.data, xb, rtol=1e-12)


def test_add_param_group_fills_defaults_and_changing_lr_takes_effect():
    w = tn.tensor(np.array([1.0]), requires_grad=True)
    v = tn.tensor(np.array([1.0]), requires_grad=True)
    opt = SGD([w], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": [v], "lr": 0.2})
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[1]["lr"] == 0.2
    opt.param_groups[0]["lr"] = 0.3
    w.grad, v.grad = tn.tensor(np.array([1.0])), tn.tensor(np.array([1.0]))
    opt.step()
    np.testing.assert_allclose([w.item(), v.item()], [0.7, 0.8], rtol=1e-14)


def test_parameters_without_grad_are_skipped():
    w = tn.tensor(np.array([1.0]), requires_grad=True)
    frozen = tn.tensor(np.array([1.0]), requires_grad=True)
    opt = Adam([w, frozen], lr=0.1, weight_decay=0.1)
    w.grad = tn.tensor(np.array([1.0]))
    opt.step()
    assert frozen.item() == 1.0 and frozen not in opt.state
    assert w.item() != 1.0


# -- state dicts -------------------------------------------------------------------------------
ROUND_TRIP = [
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.01)),
    (AdamW, dict(lr=0.05)),
    (RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    (NAdam, dict(lr=0.05, weight_decay=0.01, decoupled_weight_decay=True)),
    (RAdam, dict(lr=0.05, betas=(0.9, 0.6), weight_decay=0.01)),
    (Adamax, dict(lr=0.05, weight_decay=0.01)),
    (Adadelta, dict(lr=0.5, weight_decay=0.01)),
    (Rprop, dict(lr=0.05)),
]


def make_two_groups(cls, kwargs, values):
    params = [tn.tensor(v.copy(), requires_grad=True) for v in values]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": kwargs["lr"] / 2}]
    return params, cls(groups, **kwargs)


def train(params, opt, steps):
    for _ in range(steps):
        for param in params:
            param.grad = tn.Tensor(np.tanh(param.data) + param.data**2 - 0.5)
        opt.step()


@pytest.mark.parametrize("cls, kwargs", ROUND_TRIP, ids=lambda x: getattr(x, "__name__", ""))
def test_state_dict_round_trip_resumes_bit_identically(cls, kwargs):
    values = [X0.astype(np.float32), np.linspace(-1, 1, 4, dtype=np.float32)]
    params, opt = make_two_groups(cls, kwargs, values)
    train(params, opt, 5)
    saved = opt.state_dict()
    at_five = [p.data.copy() for p in params]
    train(params, opt, 5)

    fresh, resumed = make_two_groups(cls, {**kwargs, "lr": 123.0}, at_five)
    resumed.load_state_dict(saved)
    assert [g["lr"] for g in resumed.param_groups] == [g["lr"] for g in opt.param_groups]
    train(fresh, resumed, 5)
    for original, restored in zip(params, fresh):
        assert restored.dtype == np.float32
        np.testing.assert_array_equal(original.data, restored.data)
    for original, restored in zip(params, fresh):
        for name, value in opt.state[original].items():
            np.testing.assert_array_equal(resumed.state[restored][name], value)


def test_state_dict_survives_tinynet_save_and_load(tmp_path):
    params, opt = make_two_groups(Adam, dict(lr=0.05, amsgrad=True), [X0, np.ones(3)])
    train(params, opt, 3)
    tn.save(opt.state_dict(), tmp_path / "adam.tn")
    at_three = [p.data.copy() for p in params]
    train(params, opt, 3)
    fresh, resumed = make_two_groups(Adam, dict(lr=1.0), at_three)
    resumed.load_state_dict(tn.load(tmp_path / "adam.tn"))
    assert resumed.param_groups[0]["betas"] == (0.9, 0.999)
    train(fresh, resumed, 3)
    for original, restored in zip(params, fresh):
        np.testing.assert_array_equal(original.data, restored.data)


def test_optimizer_pickles_with_its_parameters():
    params, opt = make_two_groups(RMSprop, dict(lr=0.01, momentum=0.5), [X0, np.ones(3)])
    train(params, opt, 2)
    params2, opt2 = pickle.loads(pickle.dumps((params, opt)))
    assert opt2.param_groups[0]["params"][0] is params2[0] and params2[1] in opt2.state
    train(params, opt, 2)
    train(params2, opt2, 2)
    for original, copy in zip(params, params2):
        np.testing.assert_array_equal(original.data, copy.data)


def is_plain(value):
    if isinstance(value, dict):
        return all(isinstance(k, (int, str)) and is_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str, np.ndarray))


def test_state_dict_layout_is_pytorchs_and_plain_data():
    params, opt = make_two_groups(Adam, dict(lr=0.1), [X0, np.ones(3)])
    train(params, opt, 2)
    saved = opt.state_dict()
    assert is_plain(saved)
    assert set(saved) == {"state", "param_groups"}
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1]]
    assert saved["param_groups"][0]["betas"] == [0.9, 0.999]
    assert set(saved["state"]) == {0, 1}
    assert set(saved["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert saved["state"][0]["step"] == 2 and type(saved["state"][0]["step"]) is int


def test_state_dict_is_a_snapshot():
    params, opt = make_two_groups(SGD, dict(lr=0.1, momentum=0.9), [X0, np.ones(3)])
    train(params, opt, 2)
    saved = opt.state_dict()
    buffer = saved["state"][0]["momentum_buffer"].copy()
    train(params, opt, 2)
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], buffer)


def test_load_state_dict_casts_state_and_restores_tuples():
    p64 = tn.tensor(X0.copy(), requires_grad=True)
    opt64 = Adam([p64], lr=0.1, betas=(0.5, 0.6))
    train([p64], opt64, 2)
    saved = opt64.state_dict()
    p32 = tn.tensor(X0.astype(np.float32), requires_grad=True)
    opt32 = Adam([p32], lr=0.1)
    opt32.load_state_dict(saved)
    assert opt32.param_groups[0]["betas"] == (0.5, 0.6)
    assert opt32.state[p32]["exp_avg"].dtype == np.float32
    assert opt32.param_groups[0]["params"][0] is p32


def test_load_state_dict_refuses_mismatches():
    params, opt = make_two_groups(SGD, dict(lr=0.1, momentum=0.9), [X0, np.ones(3)])
    train(params, opt, 1)
    saved = opt.state_dict()
    one_group = SGD([tn.ones(2, 3, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        one_group.load_state_dict(saved)
    other_sizes = SGD([{"params": [tn.ones(1, requires_grad=True)]}, {"params": []}], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        other_sizes.load_state_dict(saved)
    wrong_shape, opt2 = make_two_groups(SGD, dict(lr=0.1, momentum=0.9), [np.ones(5), np.ones(3)])
    with pytest.raises(ValueError, match=r"shape \(2, 3\), but the parameter has shape \(5,\)"):
        opt2.load_state_dict(saved)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt2.load_state_dict({"state": {}})


def test_adagrad_creates_state_up_front():
    p = tn.ones(2, requires_grad=True)
    opt = Adagrad([p], initial_accumulator_value=0.25)
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["sum"], [0.25, 0.25])
    q = tn.ones(1, requires_grad=True)
    opt.add_param_group({"params": [q]})
    assert opt.state[q]["step"] == 0


# -- the graph, zero_grad, closures ------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_steps_never_grow_a_graph(cls):
    w = tn.tensor(X0.copy(), requires_grad=True)
    array = w.data
    opt = cls([w], lr=0.01)
    target = tn.tensor(np.ones((2, 3)))
    for _ in range(3):
        opt.zero_grad()
        loss = ((w - target) ** 2).sum()
        loss.backward()
        opt.step()
        assert w.grad_fn is None and w.is_leaf and w.requires_grad
        assert w.data is array
        assert w.grad.grad_fn is None
    assert tn.is_grad_enabled()


def test_zero_grad():
    w = tn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = SGD([w], lr=0.1)
    (w * w).sum().backward()
    grad_array = w.grad.data
    opt.zero_grad(set_to_none=False)
    assert w.grad.data is grad_array
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None
    opt.zero_grad()  # no gradient: nothing to do


def test_zero_grad_detaches_a_gradient_with_a_graph():
    w = tn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (w**3).sum().backward(create_graph=True)
    assert w.grad.grad_fn is not None
    SGD([w], lr=0.1).zero_grad(set_to_none=False)
    assert w.grad.grad_fn is None
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])


def test_closure_runs_with_grad_enabled_and_its_loss_is_returned():
    w = tn.tensor(np.array([3.0]), requires_grad=True)
    opt = SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tn.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0
    assert w.item() == 1.5
    assert opt.step() is None


# -- dtypes and memory layout ------------------------------------------------------------------
def test_float16_and_non_contiguous_parameters_take_the_plain_numpy_path():
    half = tn.tensor(np.array([1.0, -1.0], dtype=np.float16), requires_grad=True)
    opt = Adam([half], lr=0.1)
    half.grad = tn.tensor(np.array([1.0, -2.0], dtype=np.float16))
    opt.step()
    assert half.dtype == np.float16 and opt.state[half]["exp_avg"].dtype == np.float16
    np.testing.assert_allclose(half.data, [0.9, -0.9], rtol=1e-3)

    base = np.asfortranarray(X0.copy())
    strided = tn.Tensor(base, requires_grad=True)
    contiguous = tn.tensor(np.ascontiguousarray(X0), requires_grad=True)
    for param in (strided, contiguous):
        opt = SGD([param], lr=0.1, momentum=0.9, nesterov=True)
        for _ in range(3):
            param.grad = tn.Tensor(quadratic_grad(param.data))
            opt.step()
    assert strided.data is base
    np.testing.assert_allclose(strided.data, contiguous.data, rtol=1e-14)


@pytest.mark.parametrize("cls, kwargs", ROUND_TRIP, ids=lambda x: getattr(x, "__name__", ""))
def test_scalar_and_empty_parameters(cls, kwargs):
    scalar = tn.tensor(np.array(0.5), requires_grad=True)
    empty = tn.tensor(np.zeros((3, 0)), requires_grad=True)
    opt = cls([scalar, empty], **kwargs)
    ref, x = REFERENCE[cls](**kwargs), np.array(0.5)
    for _ in range(3):
        scalar.grad, empty.grad = tn.tensor(np.cos(scalar.data)), tn.tensor(np.zeros((3, 0)))
        opt.step()
        x = ref.update(x, np.cos(x))
    assert scalar.shape == () and empty.shape == (3, 0)
    np.testing.assert_allclose(scalar.data, x, rtol=1e-12)


def test_gradient_of_another_dtype_is_cast_to_the_parameter_dtype():
    w = tn.tensor(np.array([1.0], dtype=np.float32), requires_grad=True)
    opt = SGD([w], lr=0.5, momentum=0.9)
    with pytest.raises(RuntimeError, match="assigned grad has data of a different type"):
        w.grad = tn.tensor(np.array([1.0]))  # float64: refused at assignment, as in PyTorch
    w.grad = tn.tensor(np.array([1.0], dtype=np.float32))
    w.grad.data = np.array([1.0])  # float64 behind the setter's back, through .data
    opt.step()
    assert w.dtype == np.float32 and opt.state[w]["momentum_buffer"].dtype == np.float32
    assert w.item() == 0.5


# -- convergence -------------------------------------------------------------------------------
def minimise(opt, param, steps, scheduler=None):
    matrix, vector = tn.tensor(M), tn.tensor(B)
    for _ in range(steps):
        opt.zero_grad()
        flat = param.reshape(6)
        loss = 0.5 * (flat @ (matrix @ flat)) - (vector * flat).sum()
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return param.data


def test_sgd_with_momentum_converges_to_the_minimiser():
    w = tn.tensor(np.zeros((2, 3)), requires_grad=True)
    found = minimise(SGD([w], lr=0.1, momentum=0.9), w, 500)
    np.testing.assert_allclose(found, MINIMISER, atol=1e-8)


def test_adam_converges_to_the_minimiser():
    from tinynet.optim.lr_scheduler import ExponentialLR

    w = tn.tensor(np.zeros((2, 3)), requires_grad=True)
    opt = Adam([w], lr=0.1)
    found = minimise(opt, w, 1000, ExponentialLR(opt, gamma=0.995))
    np.testing.assert_allclose(found, MINIMISER, atol=1e-6)


@pytest.mark.parametrize(
    "cls, kwargs, steps, atol",
    [
        (NAdam, dict(lr=0.1), 1000, 1e-6),
        (RAdam, dict(lr=0.1), 1000, 1e-6),
        (Adamax, dict(lr=0.1), 1000, 1e-6),
        (Rprop, dict(lr=0.1), 300, 1e-6),
        # Adadelta's step sizes grow from sqrt(eps): it only approaches the minimiser
        # (from 1.6 away) within a few thousand steps, and keeps wandering near it.
        (Adadelta, dict(), 2000, 0.05),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_new_optimizers_converge_to_the_minimiser(cls, kwargs, steps, atol):
    from tinynet.optim.lr_scheduler import ExponentialLR

    w = tn.tensor(np.zeros((2, 3)), requires_grad=True)
    opt = cls([w], **kwargs)
    scheduler = None if cls in (Rprop, Adadelta) else ExponentialLR(opt, gamma=0.995)
    found = minimise(opt, w, steps, scheduler)
    np.testing.assert_allclose(found, MINIMISER, atol=atol)


def test_rprop_steps_by_hand():
    # Signs +, +, -, +: the step grows by 1.2, then shrinks by 0.5 and that gradient is
    # skipped (no move), so the next step does not count a sign change.
    w = tn.tensor(np.array([0.0]), requires_grad=True)
    opt = Rprop([w], lr=0.1)
    seen = []
    for grad in [1.0, 2.0, -1.0, -3.0]:
        w.grad = tn.tensor(np.array([grad]))
        opt.step()
        seen.append(w.item())
    np.testing.assert_allclose(seen, [-0.1, -0.22, -0.22, -0.22 + 0.06], rtol=1e-12)
    np.testing.assert_allclose(opt.state[w]["step_size"], [0.06])


def test_radam_is_sgd_with_momentum_until_the_variance_is_tractable():
    # beta2 = 0.5: rho_inf = 3 < 5, so every step is the un-adapted m_hat step.
    w = tn.tensor(np.array([1.0]), requires_grad=True)
    opt = RAdam([w], lr=0.1, betas=(0.5, 0.5))
    for _ in range(3):
        w.grad = tn.tensor(np.array([2.0]))
        opt.step()
    assert w.item() == pytest.approx(1.0 - 3 * 0.1 * 2.0, rel=1e-12)


# -- errors ------------------------------------------------------------------------------------
INVALID = [
    (SGD, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (SGD, dict(lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (SGD, dict(lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    (SGD, dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (
        SGD,
        dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
        "Nesterov momentum requires a momentum and zero dampening",
    ),
    (Adam, dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (Adam, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (Adam, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (Adam, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (Adam, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (AdamW, dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (AdamW, dict(lr=float("nan")), "Invalid learning rate: nan"),
    (RMSprop, dict(alpha=-0.9), "Invalid alpha value: -0.9"),
    (RMSprop, dict(momentum=-1), "Invalid momentum value: -1"),
    (RMSprop, dict(eps=-1), "Invalid epsilon value: -1"),
    (RMSprop, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (Adagrad, dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    (Adagrad, dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    (Adagrad, dict(eps=-1), "Invalid epsilon value: -1"),
    (Adagrad, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (NAdam, dict(lr=-1), "Invalid learning rate: -1"),
    (NAdam, dict(eps=-1), "Invalid epsilon value: -1"),
    (NAdam, dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (NAdam, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (NAdam, dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
    (RAdam, dict(lr=-1), "Invalid learning rate: -1"),
    (RAdam, dict(eps=-1), "Invalid epsilon value: -1"),
    (RAdam, dict(betas=(-0.1, 0.9)), "Invalid beta parameter at index 0: -0.1"),
    (RAdam, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (Adamax, dict(lr=-1), "Invalid learning rate: -1"),
    (Adamax, dict(eps=-1), "Invalid epsilon value: -1"),
    (Adamax, dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (Adamax, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (Adadelta, dict(lr=-1), "Invalid learning rate: -1"),
    (Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
    (Adadelta, dict(eps=-1), "Invalid epsilon value: -1"),
    (Adadelta, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (Rprop, dict(lr=-1), "Invalid learning rate: -1"),
    (Rprop, dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
    (Rprop, dict(etas=(0.5, 0.9)), "Invalid eta values: 0.5, 0.9"),
]


@pytest.mark.parametrize("cls, kwargs, message", INVALID)
def test_invalid_hyperparameters_are_refused(cls, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cls([tn.ones(1, requires_grad=True)], **kwargs)


def test_invalid_group_hyperparameters_are_refused():
    w, v = tn.ones(1, requires_grad=True), tn.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -2"):
        SGD([{"params": [w]}, {"params": [v], "lr": -2}], lr=0.1)
    opt = Adam([w])
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 2"):
        opt.add_param_group({"params": [v], "betas": (2, 0.9)})


def test_invalid_parameters_are_refused():
    w = tn.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        SGD({w}, lr=0.1)
    with pytest.raises(
        TypeError, match="can only optimize Tensors, but one of the params is numpy.ndarray"
    ):
        SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="floating-point Tensors, got dtype int64"):
        SGD([tn.tensor([1, 2])], lr=0.1)
    with pytest.raises(ValueError, match="read-only"):
        SGD([tn.Tensor(np.broadcast_to(np.ones(1), (3,)))], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        SGD([w, w], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict"):
        SGD([w], lr=0.1).add_param_group([w])
    with pytest.raises(KeyError, match="'params'"):
        SGD([w], lr=0.1).add_param_group({"lr": 0.1})


def test_sparse_and_misshapen_gradients_are_refused():
    w = tn.ones(2, 2, requires_grad=True)
    opt = Adam([w])
    w.grad = scipy.sparse.eye(2, format="csr", dtype=np.float32)
    with pytest.raises(RuntimeError, match="Adam does not support sparse gradients"):
        opt.step()
    with pytest.raises(RuntimeError, match="assigned grad has data of a different size"):
        w.grad = tn.ones(3)  # refused at assignment, as in PyTorch
    w.grad = tn.ones(2, 2)
    w.grad.data = np.ones(3, np.float32)  # behind the setter's back, through .data
    with pytest.raises(RuntimeError, match=r"shape \(2, 2\) has a gradient of shape \(3,\)"):
        opt.step()


def test_repr_lists_groups_like_pytorch():
    text = repr(SGD([tn.ones(1, requires_grad=True)], lr=0.5, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.5\n" in text and "    momentum: 0.9\n" in text and text.endswith(")")


def test_base_class_is_exported_and_abstract():
    opt = Optimizer([tn.ones(1, requires_grad=True)], dict(lr=0.1))
    with pytest.raises(NotImplementedError):
        opt.step()
