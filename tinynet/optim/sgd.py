"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinynet.optim.optimizer import Optimizer, axpy, require_nonnegative
from tinynet.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's algorithm step for step.

    With ``g`` the gradient (negated when ``maximize``) plus ``weight_decay * p``, and ``b``
    the momentum buffer: the first step sets ``b = g`` (no dampening), later steps
    ``b = momentum * b + (1 - dampening) * g``; the update uses ``g + momentum * b``
    (``nesterov``) or ``b``, and ``p -= lr * update``.

    >>> import tinynet as tn
    >>> w = tn.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward(); opt.step()
    >>> w
    Tensor([ 0.8, -1.6], dtype=float32, requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        require_nonnegative(group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update; with a ``closure`` (re-evaluates the loss), return its loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            nesterov = group["nesterov"]
            weight_decay = group["weight_decay"]
            maximize = group["maximize"]
            for owner, param, grad, state in self._params_with_grad(group):
                grad, sign = self._effective_grad(param, grad, weight_decay, maximize)
                if momentum == 0:
                    self._add_to_param(owner, param, -lr * sign, grad)
                    continue
                buf = state.get("momentum_buffer")
                if buf is None:  # the first step takes the gradient itself, undampened
                    buf = np.multiply(grad, sign) if sign != 1.0 else grad.copy()
                    state["momentum_buffer"] = buf
                else:
                    buf *= momentum
                    axpy((1 - dampening) * sign, grad, buf)
                if nesterov:
                    update = self._scratch(param)
                    np.multiply(buf, momentum, out=update)
                    axpy(sign, grad, update)
                    self._add_to_param(owner, param, -lr, update)
                else:
                    self._add_to_param(owner, param, -lr, buf)
        return loss
