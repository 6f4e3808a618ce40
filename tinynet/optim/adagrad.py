"""Adagrad with learning-rate decay and an initial accumulator value."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinynet.optim.optimizer import Optimizer, require_nonnegative
from tinynet.tensor import Tensor


class Adagrad(Optimizer):
    """Adagrad, PyTorch's algorithm.

    Step ``t``: ``g`` is the gradient (negated when ``maximize``) plus ``weight_decay * p``;
    ``clr = lr / (1 + (t - 1) lr_decay)``; ``s += g**2`` (``s`` starts at
    ``initial_accumulator_value``); ``p -= clr * g / (sqrt(s) + eps)``. As in PyTorch, the
    state of every parameter is created by the constructor.

    >>> import tinynet as tn
    >>> w = tn.tensor([1.0], requires_grad=True)
    >>> opt = Adagrad([w], lr=0.1)
    >>> (w * 3).sum().backward(); opt.step()    # s = 9: w -= 0.1 * 3 / 3
    >>> w
    Tensor([0.9], dtype=float32, requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group and create its parameters' state, as the constructor does."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for param in group["params"]:
            self.state[param].update(self._init_state(param, group))

    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        require_nonnegative(
            group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"
        )

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "step": 0,
            "sum": np.full_like(param.data, group["initial_accumulator_value"]),
        }

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update; with a ``closure`` (re-evaluates the loss), return its loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            for owner, param, grad, state in self._params_with_grad(group):
                grad, sign = self._effective_grad(
                    param, grad, group["weight_decay"], group["maximize"]
                )
                state["step"] += 1
                clr = lr / (1 + (state["step"] - 1) * lr_decay)
                state_sum = state["sum"]
                scratch = self._scratch(param)
                np.multiply(grad, grad, out=scratch)
                state_sum += scratch
                np.sqrt(state_sum, out=scratch)
                scratch += eps
                np.divide(grad, scratch, out=scratch)
                self._add_to_param(owner, param, -clr * sign, scratch)
        return loss
