"""The first composites: var, std, gelu, and flatten, squeeze, unsqueeze, expand, stack."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tinynet import ops
from tinynet.autograd import traced_call
from tinynet.errors import ShapeError
from tinynet.ops._args import (
    as_array,
    as_tensor,
    axes,
    dim_aliases,
    reduction_axes,
)
from tinynet.tensor import Axis, Tensor, TensorLike


@dim_aliases
def var(
    x: TensorLike,
    axis: Axis = None,
    correction: int = 1,
    keepdims: bool = False,
    *,
    unbiased: bool | None = None,
) -> Tensor:
    """Variance over ``axis`` with ``correction`` (1: unbiased, as PyTorch's default).

    PyTorch's older ``unbiased=False`` is ``correction=0``.
    """
    if unbiased is not None:
        correction = int(bool(unbiased))
    x = as_tensor(x)
    reduced = reduction_axes(axis, x.ndim)
    count = x.numel() if reduced is None else math.prod(x.shape[i] for i in reduced)
    deviation = x - x.mean(reduced, keepdims=True)
    dof = count - correction
    # With no degrees of freedom left the variance is undefined: 0 * inf gives NaN, as PyTorch.
    return (deviation * deviation).sum(reduced, keepdims=keepdims) * (
        1.0 / dof if dof > 0 else math.inf
    )


@dim_aliases
def std(
    x: TensorLike,
    axis: Axis = None,
    correction: int = 1,
    keepdims: bool = False,
    *,
    unbiased: bool | None = None,
) -> Tensor:
    """Standard deviation over ``axis``: ``sqrt(var(x, axis, correction))``.

    Where the variance is 0 the gradient is 0 (as PyTorch), not ``0 * inf = nan``.
    """
    variance = var(x, axis, correction, keepdims, unbiased=unbiased)
    return ops.where(traced_call(as_array, np.equal, variance.data, 0), 0.0, variance.sqrt())


def gelu(x: TensorLike, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: exact ``x * Phi(x)``, or ``approximate='tanh'``."""
    x = as_tensor(x)
    if approximate == "none":
        return x * ((x * (1.0 / math.sqrt(2.0))).erf() + 1.0) * 0.5
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * (inner.tanh() + 1.0) * 0.5
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def flatten(
    x: TensorLike,
    start_axis: int = 0,
    end_axis: int = -1,
    *,
    start_dim: int | None = None,
    end_dim: int | None = None,
) -> Tensor:
    """Merge axes ``start_axis..end_axis`` into one (PyTorch's ``start_dim``/``end_dim`` too)."""
    start_axis = start_axis if start_dim is None else start_dim
    end_axis = end_axis if end_dim is None else end_dim
    x = as_tensor(x)
    if x.ndim == 0:
        return x.reshape(1)
    (start,), (end,) = axes(start_axis, x.ndim), axes(end_axis, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
    merged = math.prod(x.shape[start : end + 1])
    return x.reshape(*x.shape[:start], merged, *x.shape[end + 1 :])


@dim_aliases
def squeeze(x: TensorLike, axis: Axis = None) -> Tensor:
    """Remove axes of length 1 (all of them, or those in ``axis``)."""
    x = as_tensor(x)
    if axis is None:
        return x.reshape(*(n for n in x.shape if n != 1))
    removed = axes(axis, x.ndim)
    for i in removed:
        if x.shape[i] != 1:
            raise ValueError(f"cannot squeeze axis {i} of length {x.shape[i]} (shape {x.shape})")
    return x.reshape(*(n for i, n in enumerate(x.shape) if i not in removed))


@dim_aliases
def unsqueeze(x: TensorLike, axis: int) -> Tensor:
    """Insert an axis of length 1 at ``axis`` (negative counts from the end of the result)."""
    x = as_tensor(x)
    (position,) = axes(axis, x.ndim + 1)
    return x.reshape(*x.shape[:position], 1, *x.shape[position:])


def expand(x: TensorLike, *shape) -> Tensor:
    """Broadcast to ``shape``; -1 keeps that axis's length (as PyTorch's ``expand``)."""
    x = as_tensor(x)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    offset = len(shape) - x.ndim
    if offset < 0:
        raise ValueError(f"expand: target {shape} has fewer axes than the tensor's {x.shape}")
    target = tuple(x.shape[i - offset] if n == -1 else n for i, n in enumerate(shape))
    return x.broadcast_to(target)


@dim_aliases
def stack(tensors: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    parts = [as_tensor(t) for t in tensors]
    if not parts:
        raise ValueError("stack needs at least one tensor")
    shapes = {t.shape for t in parts}
    if len(shapes) > 1:
        raise ShapeError(f"stack needs tensors of equal shape, got {sorted(shapes)}")
    return ops.concatenate([unsqueeze(t, axis) for t in parts], axis=axis)
