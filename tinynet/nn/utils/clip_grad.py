"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (in place on ``.grad``)."""

from __future__ import annotations

import math

import numpy as np

from tinynet.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type``-norm is at most ``max_norm``.

    The norm is taken over all gradients as if concatenated into one vector (``inf`` for the
    largest absolute value). Parameters without a gradient are skipped. Returns the total
    norm before clipping, as a 0-d Tensor.

    >>> import tinynet as tn
    >>> w = tn.zeros(2, requires_grad=True); w.grad = tn.tensor([3.0, 4.0])
    >>> total = clip_grad_norm_([w], max_norm=1.0)
    >>> total.item(), [round(g, 4) for g in w.grad.tolist()]
    (5.0, [0.6, 0.8])
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor.wrap(np.zeros((), np.float32))
    dtype = grads[0].data.dtype
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g.data), initial=0.0)) for g in grads)
    else:
        per_tensor = [
            np.linalg.norm(g.data.ravel().astype(np.float64, copy=False), norm_type) for g in grads
        ]
        total = float(np.linalg.norm(np.asarray(per_tensor), norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coefficient = min(float(max_norm) / (total + 1e-6), 1.0)
    if coefficient < 1.0 or not math.isfinite(total):
        # inf * 0 gives NaN, as in PyTorch, without a warning.
        with np.errstate(invalid="ignore"):
            for grad in grads:
                # A new array rather than an in-place write: the old one may be shared.
                grad.data = grad.data * grad.data.dtype.type(coefficient)
    return Tensor.wrap(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient elementwise into ``[-clip_value, clip_value]``.

    >>> import tinynet as tn
    >>> w = tn.zeros(2, requires_grad=True); w.grad = tn.tensor([-3.0, 0.5])
    >>> clip_grad_value_([w], 1.0); w.grad.tolist()
    [-1.0, 0.5]
    """
    clip_value = float(clip_value)
    for grad in _grads(parameters):
        grad.data = np.clip(grad.data, -clip_value, clip_value).astype(grad.data.dtype, copy=False)
