"""Indexing and scatter: scatter/scatter_add/scatter_reduce, index_select, masks, nonzero and
argwhere, one_hot."""

from __future__ import annotations

import typing

import numpy as np

from tinynet import ops
from tinynet.autograd import not_replayable, traced_call, traced_check
from tinynet.errors import DTypeError, ShapeError
from tinynet.functional._common import along, check_bounds, index_array, int_tensor
from tinynet.ops._args import (
    as_tensor,
    axes,
    broadcast_error,
    dim_aliases,
    nonzero_columns,
    nonzero_rows,
)
from tinynet.tensor import Tensor


def _scatter_index(x: Tensor, dim, index, src, name: str) -> tuple:
    """Validate a scatter; return the axis, the NumPy index tuple and ``src`` cut to ``index``."""
    index = index_array(index, name)
    if not index.ndim == x.ndim == src.ndim or x.ndim == 0:
        raise ShapeError(
            f"{name}: input, index and src need the same number (at least 1) of dimensions, "
            f"got shapes {x.shape}, {index.shape} and {src.shape}"
        )
    (axis,) = axes(dim, x.ndim)
    for d, m in enumerate(index.shape):
        if d != axis and m > x.shape[d]:
            raise ShapeError(
                f"{name}: index of shape {index.shape} is larger than the input's shape "
                f"{x.shape} in dimension {d}"
            )
        if m > src.shape[d]:
            raise ShapeError(
                f"{name}: index of shape {index.shape} is larger than src's shape {src.shape} "
                f"in dimension {d}"
            )
    check_bounds(index, x.shape[axis], name, dim)
    index = traced_call(_wrapped, index, x.shape[axis])  # each replay's index
    target = along(index, axis, tuple(0 for _ in x.shape))
    if src.shape != index.shape:
        src = src[tuple(slice(0, m) for m in index.shape)]
    return axis, target, src


def _wrapped(index: np.ndarray, n: int) -> np.ndarray:
    """Negative indices counted from the end of a length-``n`` axis."""
    return np.where(index < 0, index + n, index)


def _scattered(values: Tensor, target: tuple, shape: tuple) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``target`` (repeats accumulate)."""
    return ops.movement.IndexAdd.apply(values, target, shape)


def _occupied(target: tuple, shape: tuple) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[target] = True
    return mask


def _traced_occupied(shape: tuple, *target: np.ndarray) -> np.ndarray:
    """``_occupied`` as a traced call: a ``tn.compile`` replay marks each call's places."""
    return traced_call(_occupied_at, shape, *target)


def _occupied_at(shape: tuple, *target: np.ndarray) -> np.ndarray:
    return _occupied(target, shape)


def _src_tensor(src, like: Tensor, index_shape) -> Tensor:
    if isinstance(src, Tensor):
        return src
    return (
        ops.movement.broadcast_to(as_tensor(src, like), index_shape)
        if np.ndim(src) == 0
        else as_tensor(src)
    )


@dim_aliases
def scatter_add(x, dim: int, index, src) -> Tensor:
    """``x`` plus ``src`` added at ``index`` along ``dim`` (``torch.scatter_add``); repeated
    indices add up.

    >>> import tinynet as tn
    >>> tn.scatter_add(tn.zeros(3), 0, tn.tensor([0, 2, 0]), tn.tensor([1.0, 2.0, 3.0])).tolist()
    [4.0, 0.0, 2.0]
    """
    x = as_tensor(x)
    src = _src_tensor(src, x, np.shape(index.data if isinstance(index, Tensor) else index))
    _, target, src = _scatter_index(x, dim, index, src, "scatter_add")
    return x + _scattered(src, target, x.shape)


def _last_occurrence(shape: tuple, *target: np.ndarray) -> np.ndarray:
    """For each scattered element, True if no later element goes to the same place."""
    flat = np.ravel_multi_index(np.broadcast_arrays(*target), shape).ravel()
    last = np.zeros(flat.shape, dtype=bool)
    _, first_of_reversed = np.unique(flat[::-1], return_index=True)
    last[flat.size - 1 - first_of_reversed] = True
    return last.reshape(np.broadcast_shapes(*(t.shape for t in target)))


@dim_aliases
def scatter(x, dim: int, index, src=None, value=None, reduce=None) -> Tensor:
    """``x`` with ``src`` (or the number ``value``) written at ``index`` along ``dim``
    (``torch.scatter``). Where indices repeat, the last write wins (PyTorch's CPU order);
    every element of ``src`` gets the gradient of the place it is written to, the
    overwritten ones included, as PyTorch's ``grad.gather(dim, index)``.

    >>> import tinynet as tn
    >>> tn.scatter(tn.zeros(3), 0, tn.tensor([2, 0]), tn.tensor([5.0, 6.0])).tolist()
    [6.0, 0.0, 5.0]
    """
    x = as_tensor(x)
    if (src is None) == (value is None):
        raise TypeError("scatter: pass exactly one of src and value")
    index_shape = np.shape(index.data if isinstance(index, Tensor) else index)
    src = _src_tensor(src if src is not None else value, x, index_shape)
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        return scatter_reduce(x, dim, index, src, "sum" if reduce == "add" else "prod")
    _, target, src = _scatter_index(x, dim, index, src, "scatter")
    keep = traced_call(_last_occurrence, x.shape, *target)  # each replay's repeats
    written = ops.movement.IndexWrite.apply(src, target, x.shape, keep)
    return ops.where(_traced_occupied(x.shape, *target), written, x)


_SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


@dim_aliases
def scatter_reduce(x, dim: int, index, src, reduce: str, include_self: bool = True) -> Tensor:
    """Reduce ``src`` into ``x`` at ``index`` along ``dim`` with ``'sum'``, ``'prod'``,
    ``'mean'``, ``'amax'`` or ``'amin'`` (``torch.scatter_reduce``). Ties of ``amax``/``amin``
    share the gradient evenly, as PyTorch.

    >>> import tinynet as tn
    >>> x, index = tn.tensor([1.0, 1.0]), tn.tensor([0, 0, 1])
    >>> tn.scatter_reduce(x, 0, index, tn.tensor([2.0, 3.0, 4.0]), "prod").tolist()
    [6.0, 4.0]
    """
    x = as_tensor(x)
    if reduce not in _SCATTER_REDUCTIONS:
        raise ValueError(
            f"scatter_reduce: reduce must be one of {', '.join(_SCATTER_REDUCTIONS)}, got {reduce!r}"
        )
    src = _src_tensor(src, x, np.shape(index.data if isinstance(index, Tensor) else index))
    _, target, src = _scatter_index(x, dim, index, src, "scatter_reduce")
    # What depends on the index's and the inputs' values goes through traced calls, so a
    # tn.compile replay works it out for each call; 'prod' loops in Python over repeats.
    occupied = _traced_occupied(x.shape, *target)
    base = x if include_self else ops.where(occupied, 0.0, x)
    if reduce in ("sum", "mean"):
        total = base + _scattered(src, target, x.shape)
        if reduce == "sum":
            return total
        return total / traced_call(_mean_divisor, x.shape, x.dtype, include_self, *target)
    if reduce == "prod":
        not_replayable("scatter_reduce's 'prod' loops over each place's repeats in Python")
        return _scatter_prod(x, target, src, occupied, include_self)
    return _scatter_extreme(x, target, src, occupied, include_self, reduce)


def _mean_divisor(shape: tuple, dtype, include_self: bool, *target: np.ndarray) -> np.ndarray:
    """How many values each place of a ``'mean'`` averages (at least 1), in ``dtype``."""
    counts = np.zeros(shape, np.int64)
    np.add.at(counts, target, 1)
    return np.maximum(counts + (1 if include_self else 0), 1).astype(dtype)


def _scatter_prod(
    x: Tensor, target: tuple, src: Tensor, occupied: np.ndarray, include_self: bool
) -> Tensor:
    """``scatter_reduce``'s ``'prod'``, as exact multiplications."""
    # One layer per repeat rank: each layer writes each place at most once, so the
    # product is a chain of exact multiplications (zeros included).
    flat = np.ravel_multi_index(np.broadcast_arrays(*target), x.shape).ravel()
    rank = np.zeros(flat.size, np.int64)
    seen: dict = {}
    for k, place in enumerate(flat):
        rank[k] = seen.get(place, 0)
        seen[place] = rank[k] + 1
    rank = rank.reshape(src.shape)
    result = x if include_self else ops.where(occupied, 1.0, x)
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        layer = rank == r
        ones = np.ones(x.shape, dtype=x.dtype)
        factor = _scattered(ops.where(layer, src, 0.0), target, x.shape)
        placed = _occupied(tuple(np.broadcast_to(t, src.shape)[layer] for t in target), x.shape)
        result = result * ops.where(placed, factor, ones)
    return result


def _scatter_extreme(
    x: Tensor, target: tuple, src: Tensor, occupied: np.ndarray, include_self: bool, reduce: str
) -> Tensor:
    """``scatter_reduce``'s ``'amax'``/``'amin'``: ties share the gradient evenly."""
    extreme = traced_call(_extremes, reduce, include_self, x.data, src.data, occupied, *target)
    winners_src = traced_call(_winners, src.data, extreme, *target)
    self_wins = traced_call(_self_wins, x.data, extreme, occupied, include_self)
    share = traced_call(_shares, x.shape, x.dtype, winners_src, self_wins, *target)
    from_src = _scattered(ops.where(winners_src, src, 0.0), target, x.shape)
    return (from_src + ops.where(self_wins, x, 0.0)) * share


def _extremes(reduce, include_self, x, src, occupied, *target: np.ndarray) -> np.ndarray:
    """Each place's maximum (``'amax'``) or minimum of what is scattered there, and of its
    own value with ``include_self`` (places nothing reaches keep theirs)."""
    pick = np.maximum if reduce == "amax" else np.minimum
    extreme = np.full(x.shape, -np.inf if reduce == "amax" else np.inf, dtype=x.dtype)
    pick.at(extreme, target, src)
    if include_self:
        return np.where(occupied, pick(extreme, x), x)
    return np.where(occupied, extreme, x)


def _winners(src: np.ndarray, extreme: np.ndarray, *target: np.ndarray) -> np.ndarray:
    return np.asarray(src == extreme[target])


def _self_wins(x, extreme, occupied, include_self: bool) -> np.ndarray:
    return np.asarray((x == extreme) & (include_self | ~occupied))


def _shares(shape: tuple, dtype, winners_src, self_wins, *target: np.ndarray) -> np.ndarray:
    """The share of the gradient each winner of a place gets: 1 / the number of winners."""
    ties = np.zeros(shape, dtype=dtype)
    np.add.at(ties, target, winners_src.astype(dtype))
    ties = ties + self_wins
    return (1.0 / np.maximum(ties, 1)).astype(dtype)


@dim_aliases
def index_select(x, dim: int, index) -> Tensor:
    """The slices at ``index`` (1-D) along ``dim``; repeated indices accumulate gradients."""
    x = as_tensor(x)
    index = index_array(index, "index_select")
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 0-D or 1-D, got {index.ndim} dimensions")
    (axis,) = axes(dim, max(x.ndim, 1))
    if x.ndim == 0:
        return x.reshape(1)[index.reshape(-1)]
    check_bounds(index, x.shape[axis], "index_select", dim)
    return x[(slice(None),) * axis + (index.reshape(-1),)]


def _mask_array(mask, name: str) -> np.ndarray:
    mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if mask.dtype != np.bool_:
        raise DTypeError(f"{name}: mask must be a boolean tensor, got dtype {mask.dtype}")
    return mask


def masked_fill(x, mask, value) -> Tensor:
    """``x`` with ``value`` where ``mask`` (broadcast) is True; no gradient flows there."""
    x = as_tensor(x)
    mask = _mask_array(mask, "masked_fill")
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(f"masked_fill: value must be a number or 0-D, got shape {value.shape}")
    out = ops.where(mask, value, x)
    if out.shape != x.shape:
        raise ShapeError(f"masked_fill: mask of shape {mask.shape} does not broadcast to {x.shape}")
    return out


def masked_select(x, mask) -> Tensor:
    """The elements of ``x`` where ``mask`` is True (both broadcast), as a 1-D tensor."""
    x = as_tensor(x)
    mask = _mask_array(mask, "masked_select")
    try:
        shape = np.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        raise broadcast_error("masked_select", x.shape, mask.shape) from None
    return x.broadcast_to(shape)[np.broadcast_to(mask, shape)]


def nonzero(x, as_tuple: bool = False) -> Tensor | tuple:
    """Indices of the nonzero elements: an ``(n, ndim)`` int64 tensor, or one per axis.

    >>> import tinynet as tn
    >>> tn.nonzero(tn.tensor([[0.0, 1.0], [2.0, 0.0]])).tolist()
    [[0, 1], [1, 0]]
    """
    data = as_tensor(x).data
    if as_tuple:
        return tuple(int_tensor(column) for column in nonzero_columns(data))
    return int_tensor(nonzero_rows(data))  # a 0-d data: (1, 0) or (0, 0), as PyTorch


def argwhere(x) -> Tensor:
    """The indices of the nonzero elements as an ``(n, ndim)`` int64 tensor, as
    ``torch.argwhere`` (``nonzero(x)``).

    >>> import tinynet as tn
    >>> tn.argwhere(tn.tensor([[0, 3], [5, 0]])).tolist()
    [[0, 1], [1, 0]]
    """
    return typing.cast(Tensor, nonzero(x))  # as_tuple=False: one tensor


def one_hot(x, num_classes: int = -1) -> Tensor:
    """Integer class labels as one-hot int64 rows (``num_classes=-1``: the largest label + 1).

    >>> import tinynet as tn
    >>> tn.one_hot(tn.tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    labels = index_array(as_tensor(x), "one_hot")
    # Checks and rows as traced calls: a tn.compile replay encodes each call's labels, and
    # runs eagerly when they break a check (or, with num_classes=-1, change the width).
    if not traced_check(_at_least, labels, 0):
        raise ValueError("one_hot: class labels must be non-negative")
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
        traced_check(_widest_is, labels, num_classes)
    if not traced_check(_below, labels, num_classes):
        raise ValueError(f"one_hot: label {labels.max()} is out of range for {num_classes} classes")
    return int_tensor(traced_call(_one_hot_rows, labels, num_classes))


def _at_least(labels: np.ndarray, low: int) -> bool:
    return not labels.size or labels.min() >= low


def _below(labels: np.ndarray, high: int) -> bool:
    return not labels.size or labels.max() < high


def _widest_is(labels: np.ndarray, width: int) -> bool:
    return (int(labels.max()) + 1 if labels.size else 0) == width


def _one_hot_rows(labels: np.ndarray, num_classes: int) -> np.ndarray:
    return (np.arange(num_classes) == labels[..., None]).astype(np.int64)
