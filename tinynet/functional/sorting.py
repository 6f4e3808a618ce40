"""Gathering along an axis, sorting, order statistics (median, kthvalue, mode, ...), scans of
extremes and unique values.

Every index found from the values (an order, a median's place) is found in a ``traced_call``,
so that a ``tn.compile``d step finds it again from each call's values: otherwise a replay
would reuse the recorded one whenever the first calls agreed on it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from tinynet import ops
from tinynet.autograd import not_replayable, traced_call, traced_check
from tinynet.errors import ArgumentError, ShapeError
from tinynet.functional._common import along, check_bounds, index_array, int_tensor
from tinynet.ops._args import (
    as_array,
    as_tensor,
    axes,
    dim_aliases,
    floating,
    reduction_axes,
)
from tinynet.tensor import Tensor, TensorLike


@dim_aliases
def take_along_axis(x, indices, axis: int) -> Tensor:
    """Pick ``indices`` along ``axis``, broadcasting the other axes (``numpy.take_along_axis``).

    >>> import tinynet as tn
    >>> x = tn.tensor([[10.0, 30.0, 20.0]])
    >>> tn.take_along_axis(x, tn.tensor([[1, 0]]), axis=1).tolist()
    [[30.0, 10.0]]
    """
    x = as_tensor(x)
    index = index_array(indices, "take_along_axis")
    if index.ndim != x.ndim:
        raise ShapeError(
            f"take_along_axis: indices need as many dimensions as the input ({x.ndim}), "
            f"got {index.ndim}"
        )
    (axis,) = axes(axis, x.ndim)
    check_bounds(index, x.shape[axis], "take_along_axis", axis)
    try:
        target = np.broadcast_shapes(
            tuple(1 if d == axis else n for d, n in enumerate(x.shape)), index.shape
        )
    except ValueError:
        raise ShapeError(
            f"take_along_axis: indices of shape {index.shape} do not broadcast with the "
            f"input's shape {x.shape} outside axis {axis}"
        ) from None
    # traced: a view made by np.broadcast_to does not lead back to the array it views
    index = traced_call(np.broadcast_to, index, target)
    return ops.getitem(x, along(index, axis, x.shape))


@dim_aliases
def gather(x, dim: int, index) -> Tensor:
    """``out[i][j] = x[i][index[i][j]]`` along ``dim`` (``torch.gather``); repeated indices
    accumulate their gradients.

    >>> import tinynet as tn
    >>> tn.gather(tn.tensor([[1.0, 2.0], [3.0, 4.0]]), 1, tn.tensor([[0, 0], [1, 0]])).tolist()
    [[1.0, 1.0], [4.0, 3.0]]
    """
    x = as_tensor(x)
    index = index_array(index, "gather")
    if index.ndim != x.ndim:
        raise ShapeError(
            f"gather: index needs as many dimensions as the input ({x.ndim}), got {index.ndim}"
        )
    (axis,) = axes(dim, max(x.ndim, 1))
    if x.ndim == 0:
        return ops.getitem(x, ()) if index.size else x
    for d, (n, m) in enumerate(zip(x.shape, index.shape)):
        if d != axis and m > n:
            raise ShapeError(
                f"gather: index of shape {index.shape} is larger than the input's shape "
                f"{x.shape} in dimension {d}"
            )
    check_bounds(index, x.shape[axis], "gather", dim)
    return ops.getitem(x, along(index, axis, tuple(0 for _ in x.shape)))


class _ValuesIndices(tuple):
    """``(values, indices)`` with both also as attributes, as PyTorch's return types."""

    _fields = ("values", "indices")  # a namedtuple to tn.func, which rebuilds it by fields

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def _argsort(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    if descending:
        # Reversing a stable ascending sort of the reversed array keeps ties in order.
        n = data.shape[axis]
        flipped = np.flip(data, axis)
        order = np.flip(np.argsort(flipped, axis=axis, kind="stable"), axis)
        return (n - 1) - order
    return np.argsort(data, axis=axis, kind="stable")


@dim_aliases
def argsort(x, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``x`` along ``dim`` (ties keep their order); not differentiable."""
    x = as_tensor(x)
    if x.ndim == 0:
        return int_tensor(0)
    (axis,) = axes(dim, x.ndim)
    return int_tensor(traced_call(_argsort, x.data, axis, descending))


@dim_aliases
def sort(x, dim: int = -1, descending: bool = False, stable: bool = False) -> tuple:
    """``(values, indices)`` of ``x`` sorted along ``dim``; the gradient follows each value.

    Ties keep their original order, so each tied element gets the gradient of its own slot.

    >>> import tinynet as tn
    >>> values, indices = tn.sort(tn.tensor([3.0, 1.0, 2.0]))
    >>> values.tolist(), indices.tolist()
    ([1.0, 2.0, 3.0], [1, 2, 0])
    """
    x = as_tensor(x)
    if x.ndim == 0:
        return _ValuesIndices(x, int_tensor(0))
    (axis,) = axes(dim, x.ndim)
    index = traced_call(_argsort, x.data, axis, descending)
    return _ValuesIndices(take_along_axis(x, index, axis), int_tensor(index))


@dim_aliases
def topk(x, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> tuple:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices.

    >>> import tinynet as tn
    >>> tn.topk(tn.tensor([1.0, 5.0, 3.0]), 2).values.tolist()
    [5.0, 3.0]
    """
    x = as_tensor(x)
    n = x.shape[axes(dim, x.ndim)[0]] if x.ndim else 1
    if not 0 <= k <= n:
        raise ShapeError(f"topk: k={k} is out of range for a dimension of size {n}")
    if x.ndim == 0:
        return _ValuesIndices(x, int_tensor(0))
    (axis,) = axes(dim, x.ndim)
    index = traced_call(_first_in_order, x.data, axis, largest, k)
    return _ValuesIndices(take_along_axis(x, index, axis), int_tensor(index))


def _first_in_order(data: np.ndarray, axis: int, descending: bool, k: int) -> np.ndarray:
    """The indices of the first ``k`` in sorted order along ``axis``."""
    return np.take(_argsort(data, axis, descending), np.arange(k), axis=axis)


def _running_extreme(x, dim, accumulate):
    x = as_tensor(x)
    if x.ndim == 0:
        return _ValuesIndices(x * 1.0, int_tensor(0))
    (axis,) = axes(dim, x.ndim)
    index = traced_call(_running_index, x.data, axis, accumulate)
    return _ValuesIndices(take_along_axis(x, index, axis), int_tensor(index))


def _running_index(data: np.ndarray, axis: int, extreme: np.ufunc) -> np.ndarray:
    """The latest element equal to the running ``extreme`` (ties go to the last, as
    PyTorch)."""
    running = extreme.accumulate(data, axis=axis)
    shape = [1] * data.ndim
    shape[axis] = data.shape[axis]
    positions = np.arange(data.shape[axis]).reshape(shape)
    return np.maximum.accumulate(np.where(data == running, positions, 0), axis=axis)


@dim_aliases
def cummax(x, dim: int) -> tuple:
    """Running maximum along ``dim`` and where it is; ties pick the latest index.

    >>> import tinynet as tn
    >>> tn.cummax(tn.tensor([1.0, 3.0, 2.0, 3.0]), 0).indices.tolist()
    [0, 1, 1, 3]
    """
    return _running_extreme(x, dim, np.maximum)


@dim_aliases
def cummin(x, dim: int) -> tuple:
    """Running minimum along ``dim`` and where it is; ties pick the latest index."""
    return _running_extreme(x, dim, np.minimum)


@dim_aliases
def median(x, dim=None, keepdim: bool = False) -> Tensor | tuple:
    """The lower median (of an even count, the smaller middle value), as PyTorch; NaN if
    the values hold a NaN (with ``dim``: the first NaN's index), as PyTorch's.

    Without ``dim``: the median of all elements (NaN for an empty floating tensor, as
    PyTorch), its gradient shared evenly by the elements equal to it (PyTorch's rule);
    with ``dim``: ``(values, indices)``, the gradient to the returned index.

    >>> import tinynet as tn
    >>> tn.median(tn.tensor([4.0, 1.0, 3.0, 2.0])).item()
    2.0
    """
    x = as_tensor(x)
    if dim is None:
        flat = x.reshape(-1)
        if flat.shape[0] == 0:
            if flat.data.dtype.kind != "f":
                raise ShapeError("median of an empty integer tensor is undefined")
            return flat.sum() * float("nan")  # PyTorch's NaN, still in the graph
        position = traced_call(_median_index, flat.data, 0, False)
        return _shared_evenly(flat, flat[position].reshape(()))
    if x.ndim == 0:
        return _ValuesIndices(x * 1.0, int_tensor(0))
    (axis,) = axes(dim, x.ndim)
    if x.shape[axis] == 0:
        raise IndexError(f"median(): expected reduction dim {axis} to have non-zero size")
    return _select(x, traced_call(_median_index, x.data, axis, False), axis, keepdim)


def _median_index(data: np.ndarray, axis: int, skip_nan: bool) -> np.ndarray:
    """The index, kept along ``axis``, of each slice's lower median (NaN sorts last): of the
    values that are not NaN (``skip_nan``; a slice of NaN only gives its first element),
    or else the first NaN where there is one, as PyTorch's ``median``."""
    order = _argsort(data, axis, False)
    n = data.shape[axis]
    nans = np.sum(np.isnan(data), axis=axis, keepdims=True)
    if skip_nan:
        position = np.maximum(n - nans - 1, 0) // 2
    else:
        position = np.where(nans > 0, n - nans, (n - 1) // 2)
    return np.take_along_axis(order, position, axis)


_QUANTILE_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


@dim_aliases
def quantile(x, q, dim=None, keepdim: bool = False, interpolation: str = "linear") -> Tensor:
    """Quantiles ``q`` (a number or a 1-D sequence in [0, 1]) along ``dim`` (None: all),
    as ``torch.quantile``; a sequence ``q`` adds a leading dimension. A slice holding a NaN
    gives NaN, as PyTorch's.

    >>> import tinynet as tn
    >>> tn.quantile(tn.tensor([1.0, 2.0, 3.0, 4.0]), 0.5).item()
    2.5
    """
    return _quantile(x, q, dim, keepdim, interpolation, "quantile")


@dim_aliases
def nanquantile(x, q, dim=None, keepdim: bool = False, interpolation: str = "linear") -> Tensor:
    """:func:`quantile` of the values that are not NaN, as ``torch.nanquantile`` (NaN for a
    slice of NaN only); NaN elements get no gradient.

    >>> import tinynet as tn
    >>> tn.nanquantile(tn.tensor([1.0, float("nan"), 3.0]), 0.5).item()
    2.0
    """
    return _quantile(x, q, dim, keepdim, interpolation, "nanquantile")


def _quantile_levels(x: Tensor, q, interpolation: str, name: str) -> np.ndarray:
    floating(x, name)
    if interpolation not in _QUANTILE_METHODS:
        raise ValueError(
            f"{name}: interpolation must be one of {', '.join(_QUANTILE_METHODS)}, "
            f"got {interpolation!r}"
        )
    # q's values (a Tensor argument may change between calls) and all that follows from them
    # go through traced calls and checks: a tn.compile replay uses each call's
    levels = traced_call(_as_float64, q.data if isinstance(q, Tensor) else np.asarray(q))
    if levels.ndim > 1:
        raise ValueError(f"{name}: q must be a number or 1-D, got {levels.ndim} dimensions")
    if not traced_check(_in_unit_interval, levels):
        raise ArgumentError(f"{name}: q values must lie in [0, 1]")
    return levels


def _quantile(x, q, dim, keepdim: bool, interpolation: str, name: str) -> Tensor:
    x = as_tensor(x)
    levels = _quantile_levels(x, q, interpolation, name)
    if dim is None:
        source, axis = x.reshape(-1), 0
    else:
        source = x
        (axis,) = axes(dim, max(x.ndim, 1))
        if x.ndim == 0:
            source = x.reshape(1)
    n = source.shape[axis]
    if n == 0:
        raise ShapeError(f"{name} of an empty tensor is undefined")  # PyTorch: RuntimeError
    ordered = sort(source, axis).values  # NaN last
    spots = (ordered.data, levels, axis, interpolation, name)
    below = traced_call(_quantile_positions, *spots, "below")
    above = traced_call(_quantile_positions, *spots, "above")
    low = take_along_axis(ordered, below, axis)
    if traced_check(np.array_equal, below, above):
        result = low
    else:
        high = take_along_axis(ordered, above, axis)
        result = low + (high - low) * Tensor.wrap(
            traced_call(_quantile_positions, *spots, "weight")
        )
    # The q axis goes first; the reduced axis goes, or stays as 1 with keepdim.
    order = [axis] + [d for d in range(result.ndim) if d != axis]
    result = result.permute(*order)  # (q, rest...)
    if keepdim:
        kept = [1 if (dim is None or d == axis) else n_ for d, n_ in enumerate(x.shape)]
        result = result.reshape(levels.size, *kept)
    elif dim is None:
        result = result.reshape(levels.size)
    if levels.ndim == 0:
        result = result.reshape(*result.shape[1:])
    return result


def _quantile_positions(
    ordered: np.ndarray, levels, axis: int, interpolation: str, name: str, part: str
) -> np.ndarray:
    """Per slice of ``ordered`` (sorted along ``axis``, NaN last) and level, with the levels
    along ``axis``: the positions of the two values to interpolate between (``part``
    ``"below"``, ``"above"``) or the weight of the upper one (``"weight"``, in ``ordered``'s
    dtype). ``quantile`` points a slice holding NaN at its last (a NaN); ``nanquantile``
    ranks the values that are not NaN only."""
    nans = np.sum(np.isnan(ordered), axis=axis, keepdims=True)
    n = ordered.shape[axis]
    count = n - nans if name == "nanquantile" else np.full_like(nans, n)
    shape = [1] * ordered.ndim
    shape[axis] = levels.size
    rank = levels.reshape(shape) * np.maximum(count - 1, 0)
    below, above = np.floor(rank).astype(np.int64), np.ceil(rank).astype(np.int64)
    if interpolation == "lower":
        above = below
    elif interpolation == "higher":
        below = above
    elif interpolation == "nearest":
        below = above = np.round(rank).astype(np.int64)
    if part == "weight":
        weight = rank - below if interpolation == "linear" else np.full(rank.shape, 0.5)
        return weight.astype(ordered.dtype)
    chosen = below if part == "below" else above
    return np.where(nans > 0, n - 1, chosen) if name == "quantile" else chosen


def _as_float64(q: np.ndarray) -> np.ndarray:
    return np.asarray(q, dtype=np.float64)


def _in_unit_interval(levels: np.ndarray) -> bool:
    return not levels.size or (levels.min() >= 0 and levels.max() <= 1)


@dim_aliases
def any(x, dim=None, keepdim: bool = False) -> Tensor:
    """True where some element along ``dim`` (None: all) is nonzero; a boolean tensor."""
    x = as_tensor(x)
    return Tensor.wrap(traced_call(as_array, _any, x.data, reduction_axes(dim, x.ndim), keepdim))


def _any(data: np.ndarray, axis, keepdims: bool):
    return np.any(data, axis=axis, keepdims=keepdims)


def _all(data: np.ndarray, axis, keepdims: bool):
    return np.all(data, axis=axis, keepdims=keepdims)


@dim_aliases
def all(x, dim=None, keepdim: bool = False) -> Tensor:
    """True where every element along ``dim`` (None: all) is nonzero; a boolean tensor."""
    x = as_tensor(x)
    return Tensor.wrap(traced_call(as_array, _all, x.data, reduction_axes(dim, x.ndim), keepdim))


@dim_aliases
def unique(
    x,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Tensor | tuple:
    """The distinct values of ``x`` in ascending order, as ``torch.unique``; not differentiable.

    ``dim`` None flattens; an int takes the distinct slices along that axis. With
    ``return_inverse`` also the index of each element (each slice) in the result, of ``x``'s
    shape (``(x.shape[dim],)``); with ``return_counts`` how often each occurs (int64). The
    output is always sorted (``sorted=False`` is accepted, as PyTorch's CPU kernel sorts too).

    >>> import tinynet as tn
    >>> values, counts = tn.unique(tn.tensor([3, 1, 3]), return_counts=True)
    >>> values.tolist(), counts.tolist()
    ([1, 3], [1, 2])
    """
    data = as_tensor(x).data
    not_replayable("unique's result depends on its input's values")
    if dim is not None:
        (dim,) = axes(dim, data.ndim)
    values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=dim)
    outputs = [Tensor(values)]
    if return_inverse:
        shape = data.shape if dim is None else (data.shape[dim],)
        outputs.append(Tensor(inverse.astype(np.int64).reshape(shape)))
    if return_counts:
        outputs.append(Tensor(counts.astype(np.int64)))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


@dim_aliases
def unique_consecutive(
    x,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Tensor | tuple:
    """``x`` with each run of equal consecutive elements (slices along ``dim``) kept once,
    as ``torch.unique_consecutive``; not differentiable.

    ``dim`` None flattens. With ``return_inverse`` also the index of each element (each
    slice) in the result, of ``x``'s shape (``(x.shape[dim],)``); with ``return_counts`` the
    length of each run (int64). NaN equals nothing, so each NaN is a run of its own.

    >>> import tinynet as tn
    >>> values, counts = tn.unique_consecutive(tn.tensor([1, 1, 2, 2, 3, 1, 1]),
    ...                                        return_counts=True)
    >>> values.tolist(), counts.tolist()
    ([1, 2, 3, 1], [2, 2, 1, 2])
    """
    data = as_tensor(x).data
    not_replayable("unique_consecutive's result depends on its input's values")
    if dim is None:
        rows, axis = data.reshape(-1, 1), 0
    else:
        (axis,) = axes(dim, max(data.ndim, 1))
        rows = np.moveaxis(np.atleast_1d(data), axis, 0)
        rows = rows.reshape(rows.shape[0], -1)
    starts = np.ones(rows.shape[0], dtype=bool)
    starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    if dim is None:
        values = data.reshape(-1)[starts]
    else:
        values = np.compress(starts, np.atleast_1d(data), axis=axis)
    outputs = [Tensor(values)]
    if return_inverse:
        inverse = np.cumsum(starts) - 1
        outputs.append(int_tensor(inverse.reshape(data.shape if dim is None else -1)))
    if return_counts:
        outputs.append(int_tensor(np.diff(np.append(np.flatnonzero(starts), rows.shape[0]))))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


@dim_aliases
def take_along_dim(x, indices, dim: int | None = None) -> Tensor:
    """``take_along_axis`` under PyTorch's name (``torch.take_along_dim``); ``dim=None``
    flattens both first.

    >>> import tinynet as tn
    >>> tn.take_along_dim(tn.tensor([[10.0, 30.0], [20.0, 40.0]]), tn.tensor([3, 0])).tolist()
    [40.0, 10.0]
    """
    if dim is None:
        x = as_tensor(x).reshape(-1)
        index = index_array(indices, "take_along_dim").reshape(-1)
        return take_along_axis(x, index, 0)
    return take_along_axis(x, indices, dim)


def _side(right: bool, side: str | None) -> Literal["left", "right"]:
    if side is None:
        return "right" if right else "left"
    if right and side == "left":
        raise RuntimeError("searchsorted: side and right can't be set to opposites")
    if side == "left":
        return "left"
    if side == "right":
        return "right"
    raise ArgumentError(f"searchsorted: side must be 'left' or 'right', got {side!r}")


def _found(
    sequence: np.ndarray, given: np.ndarray, how: Literal["left", "right"], dtype, order=None
) -> np.ndarray:
    """``searchsorted``'s positions (a traced call: a tn.compile replay searches each call's
    values), ``sequence`` first sorted by ``order`` if given."""
    if order is not None:
        sequence = np.take_along_axis(sequence, order, -1)
    if sequence.ndim == 1:
        return np.asarray(np.searchsorted(sequence, given, side=how), dtype=dtype)
    rows = sequence.reshape(-1, sequence.shape[-1])
    wanted = given.reshape(-1, given.shape[-1])
    found = [np.searchsorted(row, v, side=how) for row, v in zip(rows, wanted)]
    return np.asarray(np.reshape(found, given.shape), dtype=dtype)


def searchsorted(
    sorted_sequence,
    values,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter=None,
) -> Tensor:
    """Where ``values`` would go in the sorted innermost rows of ``sorted_sequence`` to keep
    them sorted (``torch.searchsorted``): the first such place (``sorted[i - 1] < v <=
    sorted[i]``), or the last with ``right=True`` / ``side='right'``. A 1-D sequence serves
    values of any shape; an N-D one needs ``values`` with its leading dimensions. ``sorter``
    holds the indices that sort each row. Not differentiable.

    >>> import tinynet as tn
    >>> tn.searchsorted(tn.tensor([1, 3, 5, 7]), tn.tensor([3, 6])).tolist()
    [1, 3]
    """
    how = _side(right, side)
    sequence = as_tensor(sorted_sequence).data
    given = as_tensor(values).data
    order = None
    if sorter is not None:
        order = index_array(sorter, "searchsorted")
        if order.shape != sequence.shape:
            raise ShapeError(
                f"searchsorted: sorter of shape {order.shape} must have the sorted "
                f"sequence's shape {sequence.shape}"
            )
    if sequence.ndim == 0:
        raise RuntimeError("searchsorted: the sorted sequence must have at least one dimension")
    if sequence.ndim > 1 and (
        given.ndim != sequence.ndim or given.shape[:-1] != sequence.shape[:-1]
    ):
        raise RuntimeError(
            f"searchsorted: the sorted sequence's leading dimensions {sequence.shape[:-1]} "
            f"must match those of values {given.shape[:-1]}"
        )
    dtype = np.int32 if out_int32 else np.int64
    return Tensor.wrap(traced_call(_found, sequence, given, how, dtype, order))


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value among the increasing 1-D ``boundaries``
    (``torch.bucketize``): ``i`` with ``boundaries[i - 1] < x <= boundaries[i]``, or
    ``boundaries[i - 1] <= x < boundaries[i]`` with ``right=True``. Not differentiable.

    >>> import tinynet as tn
    >>> tn.bucketize(tn.tensor([1, 5, 9]), tn.tensor([1, 3, 5, 7])).tolist()
    [0, 2, 4]
    """
    edges = as_tensor(boundaries).data
    if edges.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries must be a 1-D tensor, got shape {edges.shape}")
    return searchsorted(edges, input, out_int32=out_int32, right=right)


def _reduced_dim(x: Tensor, dim: int, name: str) -> int:
    """The axis ``dim`` of ``x`` (0-d: its one element), refusing an empty one as PyTorch."""
    (axis,) = axes(dim, max(x.ndim, 1))
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(f"{name}(): expected reduction dim {axis} to have non-zero size")
    return axis


def _select(x: Tensor, index: np.ndarray, axis: int, keepdim: bool) -> _ValuesIndices:
    """``(values, indices)`` of the elements at ``index`` (one per slice, kept as length 1
    along ``axis``); the gradient goes to each selected element."""
    if x.ndim == 0:
        return _ValuesIndices(x * 1.0 if x.data.dtype.kind == "f" else x, int_tensor(0))
    values = take_along_axis(x, index, axis)
    if not keepdim:
        index = np.squeeze(index, axis)
        values = values.reshape(*index.shape)
    return _ValuesIndices(values, int_tensor(index))


@dim_aliases
def kthvalue(x: TensorLike, k: int, dim: int = -1, keepdim: bool = False) -> tuple:
    """The ``k``-th smallest element (``k`` from 1) of each slice along ``dim`` and its
    index, as ``torch.kthvalue``: ``(values, indices)``. NaN counts as the largest value;
    tied values are ranked by position. The gradient goes to the selected element.

    >>> import tinynet as tn
    >>> values, indices = tn.kthvalue(tn.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]), 2, dim=1)
    >>> values.tolist(), indices.tolist()
    ([2.0, 4.0], [2, 2])
    """
    x = as_tensor(x)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"kthvalue(): k must be an int, got {k!r}")
    axis = _reduced_dim(x, dim, "kthvalue")
    n = x.shape[axis] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    if x.ndim == 0:
        return _select(x, np.zeros(()), axis, keepdim)
    return _select(x, traced_call(_kth_index, x.data, axis, k), axis, keepdim)


def _kth_index(data: np.ndarray, axis: int, k: int) -> np.ndarray:
    return np.take(_argsort(data, axis, False), [k - 1], axis=axis)


def _mode_index(row: np.ndarray) -> int:
    """The position of the last occurrence of ``row``'s most frequent value (the smallest
    such value on a tie in counts), as PyTorch's CPU kernel."""
    order = np.argsort(row, kind="stable")
    ordered = row[order]
    ends = np.flatnonzero(np.append(ordered[1:] != ordered[:-1], True))  # last of each run
    counts = np.diff(np.append(-1, ends))
    return int(order[ends[np.argmax(counts)]])


@dim_aliases
def mode(x: TensorLike, dim: int = -1, keepdim: bool = False) -> tuple:
    """The most frequent value of each slice along ``dim`` and where it occurs, as
    ``torch.mode``: ``(values, indices)``. Of values equally frequent, the smallest; the
    index is that of its last occurrence. The gradient goes to that element.

    >>> import tinynet as tn
    >>> values, indices = tn.mode(tn.tensor([[2, 1, 2, 1, 3], [7, 7, 0, 0, 0]]))
    >>> values.tolist(), indices.tolist()
    ([1, 0], [3, 4])
    """
    x = as_tensor(x)
    axis = _reduced_dim(x, dim, "mode")
    if x.ndim == 0:
        return _select(x, np.zeros(()), axis, keepdim)
    return _select(x, traced_call(_mode_indices, x.data, axis), axis, keepdim)


def _mode_indices(data: np.ndarray, axis: int) -> np.ndarray:
    rows = np.moveaxis(data, axis, -1)
    found = np.array([_mode_index(row) for row in rows.reshape(-1, rows.shape[-1])])
    return np.expand_dims(found.reshape(rows.shape[:-1]), axis)


def msort(x: TensorLike) -> Tensor:
    """``x`` sorted along its first dimension, as ``torch.msort`` (``sort(x, dim=0).values``);
    the gradient follows each value.

    >>> import tinynet as tn
    >>> tn.msort(tn.tensor([[2.0, 0.0], [1.0, 3.0]])).tolist()
    [[1.0, 0.0], [2.0, 3.0]]
    """
    return sort(x, 0).values


@dim_aliases
def nanmedian(x: TensorLike, dim: int | None = None, keepdim: bool = False) -> Tensor | tuple:
    """The lower median of the values that are not NaN, as ``torch.nanmedian`` (NaN where a
    slice holds NaN only); :func:`median` where there is no NaN.

    Without ``dim``: one value, whose gradient is shared evenly by the elements equal to it
    (PyTorch's rule); with ``dim``: ``(values, indices)``, the gradient to the selected
    element.

    >>> import tinynet as tn
    >>> x = tn.tensor([[2.0, float("nan"), 1.0], [float("nan")] * 3])
    >>> tn.nanmedian(x).item()
    1.0
    >>> values, indices = tn.nanmedian(x, dim=1)
    >>> values.tolist(), indices.tolist()
    ([1.0, nan], [2, 0])
    """
    x = as_tensor(x)
    if dim is None:
        flat = x.reshape(-1)
        if flat.shape[0] == 0:
            return median(flat)  # NaN, or median's error for integers
        position = traced_call(_median_index, flat.data, 0, True)
        return _shared_evenly(flat, flat[position].reshape(()))
    axis = _reduced_dim(x, dim, "nanmedian")
    if x.ndim == 0:
        return _select(x, np.zeros(()), axis, keepdim)
    return _select(x, traced_call(_median_index, x.data, axis, True), axis, keepdim)


def _shared_evenly(x: Tensor, chosen: Tensor) -> Tensor:
    """``chosen`` (an element of the 1-D ``x``) as a value whose gradient is shared evenly by
    the elements of ``x`` equal to it, NaN matching NaN (PyTorch's
    ``evenly_distribute_backward``).

    The largest of the equal elements: ``amax`` shares its gradient evenly among ties, and
    the value is exactly ``chosen``, infinities included. A NaN median is NaN whatever is
    added to it, so there the shares ride on a term that is zero or NaN."""
    if x.data.dtype.kind != "f" or not x.requires_grad:
        return chosen
    if traced_check(np.isnan, chosen.data):
        value = chosen.detach()
        mask = traced_call(np.isnan, x.data)
        count = Tensor.wrap(traced_call(_count, mask, x.data.dtype))
        return value + ops.where(mask, x - value, 0.0).sum() / count
    return ops.amax(x[traced_call(_equal_positions, x.data, chosen.data)])


def _count(mask: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.asarray(mask.sum(), dtype=dtype)


def _equal_positions(data: np.ndarray, value: np.ndarray) -> np.ndarray:
    return np.flatnonzero(data == value)
