"""NAdam: Adam with Nesterov momentum and a momentum schedule (Dozat, 2016)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinynet.optim.adam import check_adam_hyperparameters, update_moments
from tinynet.optim.optimizer import Optimizer
from tinynet.tensor import Tensor


class NAdam(Optimizer):
    """NAdam, PyTorch's algorithm.

    Step ``t``: ``g`` is the gradient (negated when ``maximize``) plus ``weight_decay * p``
    (or, with ``decoupled_weight_decay``, ``p *= 1 - lr * weight_decay`` and no L2 term);
    ``mu_t = b1 (1 - 0.96**(t psi) / 2)`` with ``psi = momentum_decay``; ``m = b1 m +
    (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``; with ``d = sqrt(v / (1 - b2**t)) + eps``,
    ``p -= lr (1 - mu_t) / (1 - prod_{i<=t} mu_i) * g / d
    + lr mu_{t+1} / (1 - prod_{i<=t+1} mu_i) * m / d``.

    >>> import tinynet as tn
    >>> w = tn.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = NAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()    # lr, plus the look-ahead lr mu_2 m / d
    >>> print(w.data.round(4))
    [ 0.8944 -1.8944]
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        check_adam_hyperparameters(group, "momentum_decay")

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "step": 0,
            "mu_product": 1.0,
            "exp_avg": np.zeros_like(param.data),
            "exp_avg_sq": np.zeros_like(param.data),
        }

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update; with a ``closure`` (re-evaluates the loss), return its loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            momentum_decay = group["momentum_decay"]
            decoupled = group["decoupled_weight_decay"]
            for owner, param, grad, state in self._params_with_grad(group):
                grad, sign = self._decayed_grad(param, grad, group, decoupled)
                state["step"] += 1
                step = state["step"]
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
                mu_product = state["mu_product"] * mu
                state["mu_product"] = mu_product
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                scratch = self._scratch(grad)
                update_moments(grad, sign, exp_avg, exp_avg_sq, beta1, beta2, scratch)
                denominator = self._scratch(grad, slot=2)
                np.divide(exp_avg_sq, 1 - beta2**step, out=denominator)
                np.sqrt(denominator, out=denominator)
                denominator += eps
                np.divide(grad, denominator, out=scratch)
                self._add_to_param(owner, param, -lr * (1 - mu) / (1 - mu_product) * sign, scratch)
                np.divide(exp_avg, denominator, out=scratch)
                alpha = -lr * mu_next / (1 - mu_product * mu_next)
                self._add_to_param(owner, param, alpha, scratch)
        return loss
