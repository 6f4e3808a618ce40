"""Averaged stochastic gradient descent (Polyak-Ruppert averaging), PyTorch's ASGD."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinynet.optim.optimizer import Optimizer, axpy, require_nonnegative
from tinynet.tensor import Tensor


class ASGD(Optimizer):
    """ASGD, PyTorch's algorithm.

    Step ``t`` (from 1): ``g`` is the gradient (negated when ``maximize``) plus
    ``weight_decay * p``; ``p *= 1 - lambd * eta``; ``p -= eta * g``; the average
    ``ax += mu * (p - ax)`` (``ax = p`` while ``mu == 1``); then ``eta = lr / (1 + lambd *
    lr * t) ** alpha`` and ``mu = 1 / max(1, t - t0)`` for the next step. The state of a
    parameter starts at ``step = 0``, ``eta = lr``, ``mu = 1``, ``ax = 0``; ``ax`` (the
    averaged parameters) is what the method is for: evaluate with it.

    >>> import tinynet as tn
    >>> w = tn.tensor([1.0], requires_grad=True)
    >>> opt = ASGD([w], lr=0.1, lambd=0.0)
    >>> (w * 3).sum().backward(); opt.step()    # w -= 0.1 * 3
    >>> w, opt.state[w]["ax"].tolist()
    (Tensor([0.7], dtype=float32, requires_grad=True), [0.699999988079071])
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, maximize=maximize
        )
        super().__init__(params, defaults)

    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        require_nonnegative(group, "lr", "weight_decay")

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "eta": float(group["lr"]), "mu": 1.0, "ax": np.zeros_like(param.data)}

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update; with a ``closure`` (re-evaluates the loss), return its loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = group["lr"], group["lambd"], group["alpha"], group["t0"]
            # One parameter at a time: every update reads the parameters (the decay and the
            # average), which the flat multi-tensor path gathers only for weight decay.
            for _, array, grad, state in self._each_param_with_grad(group):
                grad, sign = self._effective_grad(
                    array, grad, group["weight_decay"], group["maximize"]
                )
                state["step"] += 1
                eta = state["eta"]
                array *= 1 - lambd * eta
                axpy(-eta * sign, grad, array)
                average = state["ax"]
                if state["mu"] != 1:
                    difference = self._scratch(array)
                    np.subtract(array, average, out=difference)
                    axpy(state["mu"], difference, average)
                else:
                    np.copyto(average, array)
                step = state["step"]
                state["eta"] = lr / (1 + lambd * lr * step) ** alpha
                state["mu"] = 1 / max(1, step - t0)
        return loss
