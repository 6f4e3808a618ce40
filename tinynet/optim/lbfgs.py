"""L-BFGS with an optional strong-Wolfe line search, PyTorch's ``torch.optim.LBFGS``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from tinynet.optim.optimizer import Optimizer, mark_modified, require_nonnegative
from tinynet.tensor import Tensor

#: State entries that are flat vectors (or lists of them) over all parameters together.
_FLAT_STATE = ("d", "old_dirs", "old_stps", "prev_flat_grad")


class LBFGS(Optimizer):
    """L-BFGS, PyTorch's algorithm (after minFunc); ``step(closure)`` runs up to
    ``max_iter`` iterations, re-evaluating the loss with ``closure``.

    Each iteration moves along ``d = -H g``, ``H`` the inverse-Hessian estimate of the last
    ``history_size`` steps ``s`` and gradient changes ``y`` (the two-loop recursion, scaled
    by ``s.y / y.y``); the first direction is ``-g`` with step ``min(1, 1 / |g|_1) * lr``,
    later steps are ``lr``, or, with ``line_search_fn="strong_wolfe"``, a step satisfying
    the strong Wolfe conditions (``c1=1e-4``, ``c2=0.9``, at most 25 evaluations). An
    iteration stops the call when the gradient's largest entry is at most
    ``tolerance_grad``, when the loss or the step changes by less than
    ``tolerance_change``, or after ``max_eval`` evaluations (``max_iter * 5 // 4``). Only
    one parameter group; the state lives under the first parameter.

    >>> import tinynet as tn
    >>> w = tn.tensor([3.0, -1.0], dtype=tn.float64, requires_grad=True)
    >>> opt = LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - tn.tensor([1.0, 2.0], dtype=tn.float64)) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> opt.step(closure).item()    # the loss before the step
    13.0
    >>> print(w.data.round(8))
    [1. 2.]
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """The one parameter group; a second is refused, as in PyTorch."""
        if self.param_groups:
            raise ValueError(
                "LBFGS doesn't support per-parameter options (parameter groups): pass all "
                "parameters in one list"
            )
        super().add_param_group(param_group)

    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        require_nonnegative(group, "lr")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(
                f"only 'strong_wolfe' is supported as line_search_fn (or None), got "
                f"{group['line_search_fn']!r}"
            )
        for name in ("max_iter", "max_eval", "history_size"):
            value = group[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    # -- the parameters as one flat vector -------------------------------------------------
    def _flat_grad(self) -> np.ndarray:
        parts = []
        for param in self._params:
            grad = param.grad
            array = None if grad is None else (grad.data if isinstance(grad, Tensor) else grad)
            if array is None:
                parts.append(np.zeros(param.data.size, param.data.dtype))
            else:
                parts.append(np.asarray(array, dtype=param.data.dtype).reshape(-1))
        return np.concatenate(parts)

    def _add_step(self, t: float, d: np.ndarray) -> None:
        offset = 0
        for param in self._params:
            size = param.data.size
            param.data += (t * d[offset : offset + size]).reshape(param.data.shape)
            offset += size
        mark_modified(self._params)

    def _set_params(self, arrays: list[np.ndarray]) -> None:
        for param, array in zip(self._params, arrays):
            param.data[...] = array
        mark_modified(self._params)

    def _evaluate_at(self, closure: Callable, start: list[np.ndarray], t: float, d: np.ndarray):
        """Loss and flat gradient at ``start + t d``; the parameters go back to ``start``."""
        self._add_step(t, d)
        loss = float(self._evaluate(closure))
        flat_grad = self._flat_grad()
        self._set_params(start)
        return loss, flat_grad

    # -- the step -------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any]):  # type: ignore[override]
        """Run up to ``max_iter`` iterations; ``closure`` clears the gradients, computes the
        loss, calls ``backward()`` and returns the loss. Returns the first loss."""
        if closure is None or not callable(closure):
            raise TypeError(
                "LBFGS.step needs a closure that re-evaluates the model and returns the loss"
            )
        group = self.param_groups[0]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max(initial=0.0) <= group["tolerance_grad"]:
            return orig_loss
        run = _Run(self, group, state, closure)
        run.iterate(loss, flat_grad)
        return orig_loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` snapshot; the flat vectors (``d``, the history) are
        checked against the parameters' total size."""
        saved = {key: dict(value) for key, value in state_dict.get("state", {}).items()}
        flat: dict[str, Any] = {}
        for entries in saved.values():
            for name in _FLAT_STATE:
                if name in entries:
                    flat[name] = entries.pop(name)
        super().load_state_dict({**state_dict, "state": saved})
        if not flat:
            return
        size = sum(param.data.size for param in self._params)
        dtype = np.result_type(*(param.data.dtype for param in self._params))

        def restore(value):
            if isinstance(value, list):
                return [restore(item) for item in value]
            array = np.array(value, dtype=dtype)
            if array.shape != (size,):
                raise ValueError(
                    f"loaded LBFGS state has a vector of shape {array.shape}, but the "
                    f"parameters have {size} elements in all"
                )
            return array

        state = self.state[self._params[0]]
        for name, value in flat.items():
            state[name] = None if value is None else restore(value)


class _Point(NamedTuple):
    t: float
    loss: float
    grad: np.ndarray
    gtd: float  # the directional derivative grad . d


class _Run:
    """One ``LBFGS.step``: the iterations, with the history kept in the optimizer's state."""

    def __init__(self, optimizer: LBFGS, group: dict, state: dict, closure: Callable) -> None:
        self.optimizer = optimizer
        self.group = group
        self.state = state
        self.closure = closure
        self.evals = 1

    def direction(self, flat_grad: np.ndarray) -> np.ndarray:
        """``-H g`` by the two-loop recursion, after adding the last step to the history."""
        state = self.state
        if state["n_iter"] == 1:
            state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1.0)
            return -flat_grad
        y = flat_grad - state["prev_flat_grad"]
        s = state["d"] * state["t"]
        ys = float(y.dot(s))
        if ys > 1e-10:  # keep the estimate positive definite: skip a pair with y.s <= 0
            if len(state["old_dirs"]) == self.group["history_size"]:
                for name in ("old_dirs", "old_stps", "ro"):
                    state[name].pop(0)
            state["old_dirs"].append(y)
            state["old_stps"].append(s)
            state["ro"].append(1.0 / ys)
            state["H_diag"] = ys / float(y.dot(y))
        dirs, stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        alphas = [0.0] * len(dirs)
        q = -flat_grad
        for i in reversed(range(len(dirs))):
            alphas[i] = float(stps[i].dot(q)) * ro[i]
            q = q - alphas[i] * dirs[i]
        r = q * state["H_diag"]
        for i in range(len(dirs)):
            beta = float(dirs[i].dot(r)) * ro[i]
            r = r + (alphas[i] - beta) * stps[i]
        return r

    def iterate(self, loss: float, flat_grad: np.ndarray) -> None:
        group, state = self.group, self.state
        lr, max_iter = group["lr"], group["max_iter"]
        tolerance_change = group["tolerance_change"]
        for n_iter in range(1, max_iter + 1):
            state["n_iter"] += 1
            d = self.direction(flat_grad)
            state["d"] = d
            state["prev_flat_grad"] = flat_grad.copy()
            state["prev_loss"] = prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(flat_grad.dot(d))
            if gtd > -tolerance_change:  # not a descent direction (any more)
                state["t"] = t
                break
            if group["line_search_fn"] == "strong_wolfe":
                t, loss, flat_grad, evaluations = self._line_search(loss, flat_grad, gtd, t, d)
            else:
                self.optimizer._add_step(t, d)
                evaluations = 0
                if n_iter != max_iter:
                    loss = float(self.optimizer._evaluate(self.closure))
                    flat_grad = self.optimizer._flat_grad()
                    evaluations = 1
            state["t"] = t
            self.evals += evaluations
            state["func_evals"] += evaluations
            if self._converged(n_iter, loss, prev_loss, flat_grad, d, t):
                break

    def _line_search(self, loss, flat_grad, gtd, t, d):
        """Move to a strong-Wolfe step along ``d``; its step, loss, gradient, evaluations."""
        optimizer = self.optimizer
        start = [param.data.copy() for param in optimizer._params]
        found, evaluations = strong_wolfe(
            lambda step: optimizer._evaluate_at(self.closure, start, step, d),
            _Point(0.0, loss, flat_grad, gtd),
            t,
            d,
            tolerance_change=self.group["tolerance_change"],
        )
        optimizer._add_step(found.t, d)
        return found.t, found.loss, found.grad, evaluations

    def _converged(self, n_iter, loss, prev_loss, flat_grad, d, t) -> bool:
        group = self.group
        return (
            n_iter == group["max_iter"]
            or self.evals >= group["max_eval"]
            or np.abs(flat_grad).max(initial=0.0) <= group["tolerance_grad"]
            or np.abs(d * t).max(initial=0.0) <= group["tolerance_change"]
            or abs(loss - prev_loss) < group["tolerance_change"]
        )


def cubic_minimum(a: _Point, b: _Point, low: float, high: float) -> float:
    """The minimiser of the cubic through two points with their slopes (Nocedal & Wright,
    eq. 3.59), kept in ``[low, high]``; the middle when the cubic has none.

    >>> f = lambda t: (t - 0.3) ** 2    # a quadratic is its own cubic
    >>> ends = [_Point(t, f(t), None, 2 * (t - 0.3)) for t in (0.0, 1.0)]
    >>> round(cubic_minimum(*ends, 0.0, 1.0), 12)
    0.3
    """
    d1 = a.gtd + b.gtd - 3 * (a.loss - b.loss) / (a.t - b.t)
    square = d1 * d1 - a.gtd * b.gtd
    if square < 0:
        return (low + high) / 2
    d2 = np.sign(b.t - a.t) * np.sqrt(square)
    denominator = b.gtd - a.gtd + 2 * d2
    if denominator == 0:
        return (low + high) / 2
    t = b.t - (b.t - a.t) * (b.gtd + d2 - d1) / denominator
    return float(min(max(t, low), high))


def strong_wolfe(
    evaluate: Callable[[float], tuple[float, np.ndarray]],
    start: _Point,
    t: float,
    d: np.ndarray,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[_Point, int]:
    """A step along ``d`` meeting the strong Wolfe conditions, ``f(t) <= f(0) + c1 t f'(0)``
    and ``|f'(t)| <= c2 |f'(0)|`` (Nocedal & Wright, Algorithms 3.5 and 3.6: bracket, then
    zoom by safeguarded cubic interpolation), or the best point found within ``max_ls``
    evaluations; and the number of evaluations. ``evaluate(t)`` returns the loss and flat
    gradient at ``x + t d``.
    """
    search = _LineSearch(evaluate, start, d, c1, c2, max_ls)
    found, bracket = search.bracket(t)
    if bracket is not None:
        found = search.zoom(*bracket, tolerance_change)
    return found, search.evaluations


class _LineSearch:
    def __init__(self, evaluate, start: _Point, d: np.ndarray, c1, c2, max_ls) -> None:
        self.evaluate = evaluate
        self.start = start
        self.d = d
        self.c1, self.c2, self.max_ls = c1, c2, max_ls
        self.evaluations = 0

    def at(self, step: float) -> _Point:
        self.evaluations += 1
        loss, grad = self.evaluate(step)
        return _Point(step, loss, grad, float(grad.dot(self.d)))

    def sufficient(self, point: _Point) -> bool:
        return point.loss <= self.start.loss + self.c1 * point.t * self.start.gtd

    def curvature(self, point: _Point) -> bool:
        return abs(point.gtd) <= -self.c2 * self.start.gtd

    def bracket(self, t: float) -> tuple[_Point, tuple[_Point, _Point] | None]:
        """Grow the step until it meets the conditions (no bracket) or an interval
        ``(low, high)`` must hold a point that does; ``low`` decreases the loss enough."""
        previous, current = self.start, self.at(t)
        while True:
            if not self.sufficient(current) or (
                self.evaluations > 1 and current.loss >= previous.loss
            ):
                return current, (previous, current)
            if self.curvature(current):
                return current, None
            if current.gtd >= 0:
                return current, (current, previous)
            if self.evaluations >= self.max_ls:
                return current, None
            low, high = current.t + 0.01 * (current.t - previous.t), current.t * 10
            previous, current = current, self.at(cubic_minimum(previous, current, low, high))

    def zoom(self, low: _Point, high: _Point, tolerance_change: float) -> _Point:
        """Shrink ``(low, high)`` around a point meeting the conditions; the best so far if
        the evaluations run out or the interval becomes too short to matter."""
        d_size = float(np.abs(self.d).max())
        while self.evaluations < self.max_ls:
            left, right = sorted((low.t, high.t))
            if (right - left) * d_size < tolerance_change:
                break
            step = cubic_minimum(low, high, left, right)
            if min(step - left, right - step) < 0.1 * (right - left):
                step = (left + right) / 2  # too close to an end: little progress
            point = self.at(step)
            if not self.sufficient(point) or point.loss >= low.loss:
                high = point
                continue
            if self.curvature(point):
                return point
            if point.gtd * (high.t - low.t) >= 0:
                high = low
            low = point
        return low
