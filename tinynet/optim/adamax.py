"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinynet.optim.adam import check_adam_hyperparameters, moments_state, update_first_moment
from tinynet.optim.optimizer import Optimizer
from tinynet.tensor import Tensor


class Adamax(Optimizer):
    """Adamax, PyTorch's algorithm.

    Step ``t``: ``g`` is the gradient (negated when ``maximize``) plus ``weight_decay * p``;
    ``m = b1 m + (1 - b1) g``, ``u = max(b2 u, |g| + eps)``, ``p -= lr / (1 - b1**t) * m / u``.

    >>> import tinynet as tn
    >>> w = tn.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adamax([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()    # the first step moves each weight by ~lr
    >>> print(w.data.round(6))
    [ 0.9 -1.9]
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize
        )
        super().__init__(params, defaults)

    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        check_adam_hyperparameters(group)

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return moments_state(param, "exp_inf")

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update; with a ``closure`` (re-evaluates the loss), return its loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            for owner, param, grad, state in self._params_with_grad(group):
                grad, sign = self._effective_grad(
                    param, grad, group["weight_decay"], group["maximize"]
                )
                state["step"] += 1
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                scratch = self._scratch(grad)
                update_first_moment(grad, sign, exp_avg, beta1, scratch)
                np.absolute(grad, out=scratch)
                scratch += eps
                exp_inf *= beta2
                np.maximum(exp_inf, scratch, out=exp_inf)
                np.divide(exp_avg, exp_inf, out=scratch)
                self._add_to_param(owner, param, -lr / (1 - beta1 ** state["step"]), scratch)
        return loss
