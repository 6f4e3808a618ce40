"""Distances and similarities between vectors: ``cosine_similarity``, ``pairwise_distance``,
``cdist``."""

from __future__ import annotations

import numpy as np

from tinynet import ops
from tinynet.errors import ArgumentError, DTypeError, ShapeError
from tinynet.functional.basic import expand
from tinynet.functional.norms import norm
from tinynet.ops._args import as_tensor, axes, dim_aliases
from tinynet.tensor import Tensor, TensorLike


def _broadcast_pair(x1: TensorLike, x2: TensorLike, name: str) -> tuple[Tensor, Tensor]:
    a, b = as_tensor(x1), as_tensor(x2)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(
            f"{name}: shapes {a.shape} and {b.shape} do not broadcast to a common shape"
        ) from None
    if a.data.dtype.kind != "f" or b.data.dtype.kind != "f":
        raise DTypeError(f"{name}: inputs must be floating tensors, got {a.dtype} and {b.dtype}")
    return expand(a, shape), expand(b, shape)


def _clamped_norm(x: Tensor, dim: int, eps: float) -> Tensor:
    """``max(||x||, eps)`` in value, carrying the norm's own gradient (as PyTorch's in-place
    ``clamp_min_`` under ``no_grad``); the norm's gradient at a zero vector is 0."""
    length = norm(x, 2, dim, keepdim=True)
    exact = length.detach()
    # length - exact is exactly 0 with length's gradient: the value becomes eps exactly.
    return ops.where(ops.lt(exact, eps), length - exact + eps, length)


@dim_aliases
def cosine_similarity(x1: TensorLike, x2: TensorLike, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` along ``dim``, as PyTorch.

    ``x1`` and ``x2`` broadcast to a common shape; ``dim`` is an axis of that shape. Each norm
    is clamped separately (PyTorch's current definition), so the result stays in [-1, 1].

    >>> import tinynet as tn
    >>> tn.cosine_similarity(tn.tensor([[1.0, 0.0]]), tn.tensor([[1.0, 1.0]])).tolist()
    [0.7071067690849304]
    """
    a, b = _broadcast_pair(x1, x2, "cosine_similarity")
    (dim,) = axes(dim, a.ndim)
    unit1 = a / _clamped_norm(a, dim, eps)
    unit2 = b / _clamped_norm(b, dim, eps)
    return (unit1 * unit2).sum(dim)


@dim_aliases
def pairwise_distance(
    x1: TensorLike, x2: TensorLike, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """``||x1 - x2 + eps||_p`` along the last axis of the broadcast shape, as PyTorch.

    The gradient of a distance that is 0 is 0 (``norm``'s convention).

    >>> import tinynet as tn
    >>> tn.pairwise_distance(tn.tensor([[3.0, 4.0]]), tn.tensor([[0.0, 0.0]]), eps=0.0).tolist()
    [5.0]
    """
    a, b = _broadcast_pair(x1, x2, "pairwise_distance")
    if a.ndim == 0:
        raise ShapeError("pairwise_distance: inputs need at least one dimension (the vectors')")
    return norm(a - b + eps, p, -1, keepdim=keepdim)


_COMPUTE_MODES = (
    None,
    "use_mm_for_euclid_dist_if_necessary",
    "use_mm_for_euclid_dist",
    "donot_use_mm_for_euclid_dist",
)


def cdist(x1: TensorLike, x2: TensorLike, p: float = 2.0, compute_mode=None) -> Tensor:
    """The ``p``-norm distance between each row of ``x1`` ``(..., P, M)`` and each row of
    ``x2`` ``(..., R, M)``: shape ``(..., P, R)``, batch axes broadcast (``torch.cdist``).

    ``p`` in ``[0, inf]``; computed exactly from the differences whatever ``compute_mode``
    asks. The gradient of a distance that is 0 is 0 (PyTorch's rule; ``norm``'s).

    >>> import tinynet as tn
    >>> tn.cdist(tn.tensor([[0.0, 0.0]]), tn.tensor([[3.0, 4.0], [1.0, 0.0]])).tolist()
    [[5.0, 1.0]]
    """
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(
            f"cdist: {compute_mode!r} is not a compute_mode; use one of "
            f"{', '.join(map(repr, _COMPUTE_MODES[1:]))} (all compute the same exact values here)"
        )
    a, b = as_tensor(x1), as_tensor(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise ShapeError(
            f"cdist only supports at least 2D tensors, got shapes {a.shape} and {b.shape}"
        )
    if a.shape[-1] != b.shape[-1]:
        raise ShapeError(
            f"cdist: x1 and x2 must have the same number of columns, got {a.shape[-1]} and "
            f"{b.shape[-1]}"
        )
    if a.data.dtype.kind != "f" or b.data.dtype.kind != "f":
        raise DTypeError(f"cdist: inputs must be floating tensors, got {a.dtype} and {b.dtype}")
    if not p >= 0:
        raise ArgumentError(f"cdist only supports non-negative p values, got {p}")
    differences = a.unsqueeze(-2) - b.unsqueeze(-3)  # (..., P, R, M)
    return norm(differences, p, -1)
