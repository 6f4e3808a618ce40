"""RMSprop, optionally centered and with momentum."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinynet.optim.optimizer import Optimizer, axpy, require_nonnegative
from tinynet.tensor import Tensor


class RMSprop(Optimizer):
    """RMSprop, PyTorch's algorithm.

    ``g`` is the gradient (negated when ``maximize``) plus ``weight_decay * p``;
    ``v = alpha v + (1 - alpha) g**2``; centered: ``a = alpha a + (1 - alpha) g`` and the
    denominator is ``sqrt(v - a**2) + eps``, else ``sqrt(v) + eps``; with momentum
    ``b = momentum b + g / denominator`` and ``p -= lr * b``, else ``p -= lr g / denominator``.

    >>> import tinynet as tn
    >>> w = tn.tensor([1.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01, alpha=0.75)
    >>> (w * 2).sum().backward(); opt.step()    # g=2: v=0.25*4=1, w -= 0.01 * 2 / (1 + eps)
    >>> w
    Tensor([0.98], dtype=float32, requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate_hyperparameters(self, group: dict[str, Any]) -> None:
        require_nonnegative(group, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _init_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0, "square_avg": np.zeros_like(param.data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param.data)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param.data)
        return state

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one update; with a ``closure`` (re-evaluates the loss), return its loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = group["lr"]
            alpha = group["alpha"]
            eps = group["eps"]
            momentum = group["momentum"]
            centered = group["centered"]
            for owner, param, grad, state in self._params_with_grad(group):
                grad, sign = self._effective_grad(
                    param, grad, group["weight_decay"], group["maximize"]
                )
                state["step"] += 1
                square_avg = state["square_avg"]
                denominator = self._scratch(param)
                np.multiply(grad, grad, out=denominator)
                square_avg *= alpha
                axpy(1 - alpha, denominator, square_avg)
                if centered:
                    grad_avg = _buffer(state, "grad_avg", param)
                    grad_avg *= alpha
                    axpy((1 - alpha) * sign, grad, grad_avg)
                    np.multiply(grad_avg, grad_avg, out=denominator)
                    np.subtract(square_avg, denominator, out=denominator)
                    np.sqrt(denominator, out=denominator)
                else:
                    np.sqrt(square_avg, out=denominator)
                denominator += eps
                np.divide(grad, denominator, out=denominator)
                if momentum > 0:
                    buf = _buffer(state, "momentum_buffer", param)
                    buf *= momentum
                    axpy(sign, denominator, buf)
                    self._add_to_param(owner, param, -lr, buf)
                else:
                    self._add_to_param(owner, param, -lr * sign, denominator)
        return loss


def _buffer(state: dict, name: str, param: np.ndarray) -> np.ndarray:
    """A zero-initialised state buffer, created if an option was switched on later."""
    buf = state.get(name)
    if buf is None:
        buf = state[name] = np.zeros_like(param)
    return buf
