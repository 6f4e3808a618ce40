"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinynet.optim.optimizer import Optimizer, axpy, require_nonnegative
from tinynet.tensor import Tensor


class Adadelta(Optimizer):
    """Adadelta, PyTorch's algorithm.

    ``g`` is the gradient (negated when ``maximize``) plus ``weight_decay * p``;
    ``v = rho v + (1 - rho) g**2``; ``d = sqrt(u + eps) / sqrt(v + eps) * g``;
    ``u = rho u + (1 - rho) d**2``; ``p -= lr d``.

    >>> import tinynet as tn
    >>> w = tn.tensor([1.0], requires_grad=True)
    >>> opt = Adadelta([w], lr=1.0, rho=0.75, eps=1e-2)
    >>> (w * 2).sum().backward(); opt.step()    # v = 1: d = sqrt(0.01) / sqrt(1.01) * 2
    >>> print(w.data.round(6))
    [0.800993]
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        require_nonnegative(group, "lr")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
        require_nonnegative(group, "eps", "weight_decay")

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "step": 0,
            "square_avg": np.zeros_like(param.data),
            "acc_delta": np.zeros_like(param.data),
        }

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update; with a ``closure`` (re-evaluates the loss), return its loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            rho = group["rho"]
            eps = group["eps"]
            for owner, param, grad, state in self._params_with_grad(group):
                grad, sign = self._effective_grad(
                    param, grad, group["weight_decay"], group["maximize"]
                )
                state["step"] += 1
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                delta = self._scratch(grad)
                std = self._scratch(grad, slot=2)
                np.multiply(grad, grad, out=delta)
                square_avg *= rho
                axpy(1 - rho, delta, square_avg)
                np.add(square_avg, eps, out=std)
                np.sqrt(std, out=std)
                np.add(acc_delta, eps, out=delta)
                np.sqrt(delta, out=delta)
                delta /= std
                delta *= grad  # unsigned: the sign goes into the update below
                np.multiply(delta, delta, out=std)
                acc_delta *= rho
                axpy(1 - rho, std, acc_delta)
                self._add_to_param(owner, param, -lr * sign, delta)
        return loss
