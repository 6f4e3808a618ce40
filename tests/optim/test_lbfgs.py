"""LBFGS against a NumPy reference written from PyTorch's documented algorithm, the strong
Wolfe conditions at each line-search step, convergence, state dicts and errors."""

import re

import numpy as np
import pytest
import scipy.optimize

import tinynet as tn
from tinynet.optim import LBFGS

_rng = np.random.default_rng(7)
_Q = _rng.normal(size=(6, 6))
M = _Q @ _Q.T / 6 + np.eye(6)
B = _rng.normal(size=6)
MINIMISER = np.linalg.solve(M, B)


def quadratic(x):
    return 0.5 * x @ M @ x - B @ x, M @ x - B


def rosenbrock(x):
    value = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    grad = np.array([-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)])
    return value, grad


def closure_for(params, fn):
    """A closure computing ``fn`` of the concatenated parameters through tinynet's autograd
    (the gradient comes from backward, checked against ``fn``'s own)."""
    sizes = np.cumsum([0] + [p.data.size for p in params])

    def closure():
        for p in params:
            p.grad = None
        flat = tn.cat([p.reshape(-1) for p in params])
        x = flat.data
        value, grad = fn(x)
        loss = (flat * tn.tensor(grad.astype(x.dtype))).sum()  # d loss / dx = grad
        loss.backward()
        for p, lo, hi in zip(params, sizes[:-1], sizes[1:]):
            np.testing.assert_allclose(p.grad.data.reshape(-1), grad[lo:hi].astype(x.dtype))
        return tn.tensor(np.array(value, dtype=x.dtype))

    return closure


class RefLBFGS:
    """PyTorch's documented L-BFGS with a fixed step (no line search), in plain NumPy."""

    def __init__(self, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100):  # fmt: skip
        self.__dict__.update(locals())
        self.max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
        self.n_iter = 0
        self.s, self.y = [], []

    def step(self, x, fn):
        loss, g = fn(x)
        evals = 1
        if np.abs(g).max() <= self.tolerance_grad:
            return x
        for it in range(1, self.max_iter + 1):
            self.n_iter += 1
            if self.n_iter == 1:
                d, self.s, self.y, self.gamma = -g, [], [], 1.0
            else:
                y, s = g - self.g_prev, self.d * self.t
                if y @ s > 1e-10:
                    if len(self.s) == self.history_size:
                        self.s.pop(0), self.y.pop(0)
                    self.s.append(s), self.y.append(y)
                    self.gamma = (y @ s) / (y @ y)
                q, alphas = -g, []
                for s_i, y_i in reversed(list(zip(self.s, self.y))):
                    alphas.insert(0, (s_i @ q) / (y_i @ s_i))
                    q = q - alphas[0] * y_i
                d = self.gamma * q
                for (s_i, y_i), a in zip(zip(self.s, self.y), alphas):
                    d = d + (a - (y_i @ d) / (y_i @ s_i)) * s_i
            self.d, self.g_prev, loss_prev = d, g, loss
            self.t = min(1.0, 1.0 / np.abs(g).sum()) * self.lr if self.n_iter == 1 else self.lr
            if g @ d > -self.tolerance_change:
                break
            x = x + self.t * d
            if it != self.max_iter:
                loss, g = fn(x)
                evals += 1
            if (
                it == self.max_iter
                or evals >= self.max_eval
                or np.abs(g).max() <= self.tolerance_grad
                or np.abs(d * self.t).max() <= self.tolerance_change
                or abs(loss - loss_prev) < self.tolerance_change
            ):
                break
        return x


def split_params(x0, dtype=np.float64):
    return [tn.tensor(x0[:4].reshape(2, 2).astype(dtype), requires_grad=True),
            tn.tensor(x0[4:].astype(dtype), requires_grad=True)]  # fmt: skip


def flat(params):
    return np.concatenate([p.data.reshape(-1) for p in params])


@pytest.mark.parametrize(
    "kwargs",
    [dict(), dict(lr=0.5, max_iter=4), dict(history_size=2, max_iter=7), dict(max_eval=3)],
    ids=str,
)
def test_fixed_step_trajectory_matches_the_documented_algorithm(kwargs):
    x0 = _rng.normal(size=6)
    params = split_params(x0)
    opt = LBFGS(params, **kwargs)
    ref, x = RefLBFGS(**kwargs), x0
    closure = closure_for(params, quadratic)
    for call in range(4):
        opt.step(closure)
        x = ref.step(x, quadratic)
        np.testing.assert_allclose(flat(params), x, rtol=1e-10, atol=1e-12, err_msg=f"{call}")


def test_counters_as_pytorch():
    params = split_params(_rng.normal(size=6))
    opt = LBFGS(params, max_iter=4)
    opt.step(closure_for(params, quadratic))
    state = opt.state[params[0]]
    # One evaluation before the loop, one after each iteration but the last.
    assert state["n_iter"] == 4 and state["func_evals"] == 4
    assert sorted(opt.state_dict()["state"][0]) == sorted(
        ["func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag",
         "prev_flat_grad", "prev_loss"]
    )  # fmt: skip


@pytest.mark.parametrize("start", [(-1.2, 1.0), (0.5, -0.5), (2.0, 2.0), (-0.3, 0.8)])
def test_strong_wolfe_steps_meet_the_conditions(start):
    x0 = np.array(start)
    param = tn.tensor(x0.copy(), requires_grad=True)
    opt = LBFGS([param], max_iter=1, line_search_fn="strong_wolfe")
    opt.step(closure_for([param], rosenbrock))  # one iteration: one line search along -g
    f0, g0 = rosenbrock(x0)
    d = -g0
    t = opt.state[param]["t"]
    np.testing.assert_allclose(param.data, x0 + t * d, rtol=1e-12)
    f, g = rosenbrock(param.data)
    assert f <= f0 + 1e-4 * t * (g0 @ d)
    assert abs(g @ d) <= 0.9 * abs(g0 @ d)


def test_strong_wolfe_converges_on_rosenbrock_like_scipy():
    param = tn.tensor(np.array([-1.2, 1.0]), requires_grad=True)
    # Default tolerance_change (1e-9) stops once the loss changes by less: near the minimum,
    # where the loss is quadratic in the distance, that leaves ~1e-5 of it.
    opt = LBFGS([param], max_iter=100, line_search_fn="strong_wolfe", tolerance_change=1e-20)
    opt.step(closure_for([param], rosenbrock))
    want = scipy.optimize.minimize(rosenbrock, [-1.2, 1.0], jac=True, method="BFGS").x
    np.testing.assert_allclose(param.data, want, atol=1e-5)
    np.testing.assert_allclose(param.data, [1.0, 1.0], atol=1e-8)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_quadratic_minimiser_and_float32(line_search_fn):
    # The line search compares float32 losses, which tell points apart only down to about
    # sqrt(float32 eps) from the minimiser, where the loss is flat to rounding.
    for dtype, atol in [(np.float64, 1e-9), (np.float32, 1e-3)]:
        params = split_params(np.zeros(6), dtype)
        opt = LBFGS(params, max_iter=50, line_search_fn=line_search_fn, tolerance_grad=1e-12,
                      tolerance_change=1e-20)  # fmt: skip
        opt.step(closure_for(params, quadratic))
        assert all(p.dtype == dtype for p in params)
        assert opt.state[params[0]]["d"].dtype == dtype
        np.testing.assert_allclose(flat(params), MINIMISER, atol=atol)


def test_the_step_returns_the_first_loss_and_stops_at_a_stationary_point():
    params = split_params(MINIMISER)
    opt = LBFGS(params, tolerance_grad=1e-6)
    loss = opt.step(closure_for(params, quadratic))
    assert loss.item() == pytest.approx(quadratic(MINIMISER)[0])
    assert opt.state[params[0]]["func_evals"] == 1 and "d" not in opt.state[params[0]]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_round_trip_resumes_bit_identically(line_search_fn, tmp_path):
    x0 = _rng.normal(size=6)
    params = split_params(x0)
    opt = LBFGS(params, max_iter=3, history_size=4, line_search_fn=line_search_fn)
    opt.step(closure_for(params, quadratic))
    tn.save(opt.state_dict(), tmp_path / "lbfgs")
    at_three = flat(params)
    opt.step(closure_for(params, quadratic))

    resumed_params = split_params(at_three)
    resumed = LBFGS(resumed_params, lr=5.0)
    resumed.load_state_dict(tn.load(tmp_path / "lbfgs"))
    assert resumed.param_groups[0]["line_search_fn"] == line_search_fn
    resumed.step(closure_for(resumed_params, quadratic))
    np.testing.assert_array_equal(flat(resumed_params), flat(params))
    other = LBFGS([tn.ones(3, requires_grad=True), tn.ones(2, requires_grad=True)])
    with pytest.raises(ValueError, match="the parameters have 5 elements in all"):
        other.load_state_dict(opt.state_dict())


def test_errors():
    w, v = tn.ones(2, requires_grad=True), tn.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=re.escape("doesn't support per-parameter options")):
        LBFGS([{"params": [w]}, {"params": [v]}])
    with pytest.raises(ValueError, match="only 'strong_wolfe' is supported"):
        LBFGS([w], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        LBFGS([w], lr=-1)
    with pytest.raises(ValueError, match="history_size must be a positive integer"):
        LBFGS([w], history_size=0)
    with pytest.raises(TypeError, match="needs a closure"):
        LBFGS([w]).step(None)
