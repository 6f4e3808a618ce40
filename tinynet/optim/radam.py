"""RAdam: Adam with the variance of its adaptive rate rectified (Liu et al., 2019)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinynet.optim.adam import check_adam_hyperparameters, moments_state, update_moments
from tinynet.optim.optimizer import Optimizer
from tinynet.tensor import Tensor


class RAdam(Optimizer):
    """RAdam, PyTorch's algorithm.

    Step ``t``: ``g`` is the gradient (negated when ``maximize``) plus ``weight_decay * p``
    (or, with ``decoupled_weight_decay``, ``p *= 1 - lr * weight_decay`` and no L2 term);
    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``, ``m_hat = m / (1 - b1**t)``;
    ``rho_inf = 2 / (1 - b2) - 1``, ``rho_t = rho_inf - 2 t b2**t / (1 - b2**t)``. When
    ``rho_t > 5``: ``r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2)
    rho_t))`` and ``p -= lr m_hat r sqrt(1 - b2**t) / (sqrt(v) + eps)``; otherwise (the
    first steps) ``p -= lr m_hat``, SGD with momentum.

    >>> import tinynet as tn
    >>> w = tn.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = RAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()    # step 1 is un-adapted: w -= lr * grad
    >>> print(w.data.round(6))
    [ 0.8 -1.6]
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        check_adam_hyperparameters(group)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return moments_state(param)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update; with a ``closure`` (re-evaluates the loss), return its loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            decoupled = group["decoupled_weight_decay"]
            for owner, param, grad, state in self._params_with_grad(group):
                grad, sign = self._decayed_grad(param, grad, group, decoupled)
                state["step"] += 1
                step = state["step"]
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                scratch = self._scratch(grad)
                update_moments(grad, sign, exp_avg, exp_avg_sq, beta1, beta2, scratch)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * beta2**step / bias_correction2
                if rho_t <= 5.0:
                    self._add_to_param(owner, param, -lr / bias_correction1, exp_avg)
                    continue
                rect = math.sqrt(
                    (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                )
                np.sqrt(exp_avg_sq, out=scratch)
                scratch += eps
                np.divide(exp_avg, scratch, out=scratch)
                alpha = -lr / bias_correction1 * rect * math.sqrt(bias_correction2)
                self._add_to_param(owner, param, alpha, scratch)
        return loss
