"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (in place on ``.grad``).

Both run on tensor ops and write the gradients in place, reading no value into Python, so a
``tn.compile``d training step that clips replays; like PyTorch's, ``clip_grad_norm_`` always
multiplies by its coefficient clamped at 1 (a factor of exactly 1 leaves the bits).
"""

from __future__ import annotations

import math

import numpy as np

from tinynet import ops
from tinynet._grad_mode import no_grad
from tinynet.autograd import traced_check
from tinynet.functional.basic import stack
from tinynet.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(values: Tensor, norm_type: float) -> Tensor:
    """The ``norm_type``-norm of all of ``values`` (float64) as one vector, 0-d: NumPy's
    ``linalg.norm`` and PyTorch's ``vector_norm`` (``inf``: the largest absolute value,
    ``0``: the count of nonzeros)."""
    magnitudes = values.abs().reshape(-1)
    if math.isinf(norm_type):
        return magnitudes.amax() if magnitudes.numel() else magnitudes.sum()
    if norm_type == 0:
        return (magnitudes != 0).sum().double()
    if norm_type == 2:
        return (magnitudes * magnitudes).sum().sqrt()
    return magnitudes.pow(norm_type).sum().pow(1.0 / norm_type)


def _nonfinite(total: np.ndarray) -> bool:
    return not np.isfinite(total)


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
    with no_grad():
        norms = [_vector_norm(grad.double(), norm_type) for grad in grads]
        total = _vector_norm(stack(norms), norm_type)
        if error_if_nonfinite and traced_check(_nonfinite, total.data):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
            )
        coefficient = ops.clip(float(max_norm) / (total + 1e-6), None, 1.0)
        with np.errstate(invalid="ignore"):  # inf * 0 gives NaN, as in PyTorch
            for grad in grads:
                grad.mul_(coefficient.to(grad.dtype))
        return total.to(dtype)


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient elementwise into ``[-clip_value, clip_value]``.

    >>> import tinynet as tn
    >>> w = tn.zeros(2, requires_grad=True); w.grad = tn.tensor([-3.0, 0.5])
    >>> clip_grad_value_([w], 1.0); w.grad.tolist()
    [-1.0, 0.5]
    """
    clip_value = float(clip_value)
    with no_grad():
        for grad in _grads(parameters):
            grad.clamp_(-clip_value, clip_value)
