"""Rprop: per-element step sizes adapted from the sign of successive gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinynet.optim.optimizer import Optimizer
from tinynet.tensor import Tensor


class Rprop(Optimizer):
    """Rprop, PyTorch's algorithm (full-batch training; it ignores the gradient's size).

    ``g`` is the gradient (negated when ``maximize``). Where ``g`` and the previous
    gradient have the same sign the step size grows by ``etas[1]``, where they differ it
    shrinks by ``etas[0]`` and ``g`` counts as 0 (no move, and no sign change next step);
    step sizes stay in ``step_sizes``; ``p -= sign(g) * step_size``. Step sizes start at
    ``lr``.

    >>> import tinynet as tn
    >>> w = tn.tensor([1.0], requires_grad=True)
    >>> opt = Rprop([w], lr=0.1)
    >>> for _ in range(3):
    ...     opt.zero_grad(); (w * 5).sum().backward(); opt.step()
    >>> print(w.data.round(6))    # steps of 0.1, 0.12, 0.144: the size grows by 1.2
    [0.636]
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize)
        super().__init__(params, defaults)

    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        etaminus, etaplus = group["etas"]
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(f"Invalid eta values: {etaminus}, {etaplus}")

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "step": 0,
            "prev": np.zeros_like(param.data),
            "step_size": np.full_like(param.data, group["lr"]),
        }

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update; with a ``closure`` (re-evaluates the loss), return its loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            maximize = group["maximize"]
            for owner, param, grad, state in self._params_with_grad(group):
                state["step"] += 1
                prev, step_size = state["prev"], state["step_size"]
                factor = self._scratch(grad, slot=2)
                np.multiply(grad, prev, out=factor)
                if maximize:  # (-g) * prev: the same bits as negating the product
                    np.negative(factor, out=factor)
                np.sign(factor, out=factor)
                shrink = factor < 0
                # PyTorch's order, so a NaN product leaves a NaN factor (and step size).
                factor[factor > 0] = etaplus
                factor[shrink] = etaminus
                factor[factor == 0] = 1
                step_size *= factor
                np.clip(step_size, step_size_min, step_size_max, out=step_size)
                if maximize:
                    np.negative(grad, out=prev)
                else:
                    np.copyto(prev, grad)
                prev[shrink] = 0
                np.sign(prev, out=factor)
                factor *= step_size
                self._add_to_param(owner, param, -1.0, factor)
        return loss
