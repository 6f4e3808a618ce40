"""Adam and AdamW (decoupled weight decay), with AMSGrad and maximize."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinynet.optim.optimizer import Optimizer, require_betas, require_nonnegative
from tinynet.tensor import Tensor


def update_first_moment(grad, sign: float, exp_avg, beta1: float, scratch) -> None:
    """``exp_avg = beta1 * exp_avg + (1 - beta1) * sign * grad`` in place, the product in
    ``scratch`` (not a new array): the Adam family's first moment."""
    np.multiply(grad, (1 - beta1) * sign, out=scratch)
    exp_avg *= beta1
    exp_avg += scratch


def check_adam_hyperparameters(group: dict[str, Any], *nonnegative: str) -> None:
    """The Adam family's checks: ``lr``, ``eps`` and ``weight_decay`` (and ``nonnegative``)
    at least 0, ``betas`` in [0, 1)."""
    require_nonnegative(group, "lr", "eps")
    require_betas(group)
    require_nonnegative(group, "weight_decay", *nonnegative)


def moments_state(param: Tensor, second: str = "exp_avg_sq") -> dict[str, Any]:
    """A new parameter's state in the Adam family: its step count and two moments of its
    shape (the second named ``second``: Adamax's is ``exp_inf``)."""
    return {"step": 0, "exp_avg": np.zeros_like(param.data), second: np.zeros_like(param.data)}


def update_moments(grad, sign: float, exp_avg, exp_avg_sq, beta1: float, beta2: float,
                   scratch) -> None:  # fmt: skip
    """The first moment as ``update_first_moment``, and ``exp_avg_sq = beta2 * exp_avg_sq
    + (1 - beta2) * grad**2``, in place; ``scratch`` holds the products.

    >>> import numpy as np
    >>> m, v = np.zeros(2), np.zeros(2)
    >>> update_moments(np.array([1.0, -2.0]), 1.0, m, v, 0.9, 0.99, np.empty(2))
    >>> m.round(6).tolist(), v.round(6).tolist()
    ([0.1, -0.2], [0.01, 0.04])
    """
    update_first_moment(grad, sign, exp_avg, beta1, scratch)
    np.multiply(grad, grad, out=scratch)
    scratch *= 1 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch


class Adam(Optimizer):
    """Adam, PyTorch's algorithm: bias-corrected moments, optional AMSGrad.

    Step ``t``: ``g`` is the gradient (negated when ``maximize``) plus ``weight_decay * p``
    (L2, coupled); ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``; with AMSGrad
    ``v_max = max(v_max, v)`` replaces ``v`` below; then
    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``.

    >>> import tinynet as tn
    >>> w = tn.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()    # the first step moves each weight by ~lr
    >>> print(w.data.round(6))
    [ 0.9 -1.9]
    """

    _decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        check_adam_hyperparameters(group)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = moments_state(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param.data)
        return state

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update; with a ``closure`` (re-evaluates the loss), return its loss."""
        loss = self._evaluate(closure)
        decoupled = self._decoupled_weight_decay
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            for owner, param, grad, state in self._params_with_grad(group):
                if decoupled:
                    if weight_decay != 0:
                        param *= 1 - lr * weight_decay
                    sign = -1.0 if maximize else 1.0
                elif weight_decay != 0:
                    grad, sign = self._effective_grad(param, grad, weight_decay, maximize)
                else:
                    sign = -1.0 if maximize else 1.0
                state["step"] += 1
                step = state["step"]
                exp_avg = state["exp_avg"]
                exp_avg_sq = state["exp_avg_sq"]
                scratch = self._scratch(grad)
                update_moments(grad, sign, exp_avg, exp_avg_sq, beta1, beta2, scratch)
                if amsgrad:
                    max_exp_avg_sq = state.get("max_exp_avg_sq")
                    if max_exp_avg_sq is None:  # amsgrad switched on after the first step
                        max_exp_avg_sq = state["max_exp_avg_sq"] = np.zeros_like(param)
                    np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    second_moment = max_exp_avg_sq
                else:
                    second_moment = exp_avg_sq
                step_size = lr / (1 - beta1**step)
                bias_correction2_sqrt = math.sqrt(1 - beta2**step)
                # m / (sqrt(v) / s + eps) == s * m / (sqrt(v) + eps * s): one pass fewer.
                np.sqrt(second_moment, out=scratch)
                scratch += eps * bias_correction2_sqrt
                np.divide(exp_avg, scratch, out=scratch)
                scratch *= -step_size * bias_correction2_sqrt
                self._add_to_param(owner, param, 1.0, scratch)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step.

    The gradient itself gets no L2 term. Defaults as PyTorch (``weight_decay=1e-2``).

    >>> import tinynet as tn
    >>> w = tn.tensor([1.0], requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 0).sum().backward(); opt.step()    # zero gradient: only the decay acts
    >>> w
    Tensor([0.95], dtype=float32, requires_grad=True)
    """

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
