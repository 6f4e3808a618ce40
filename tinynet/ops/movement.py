"""Shape and data-movement primitives: reshape, transpose, broadcast, index, join, pad."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from tinynet.autograd import Function
from tinynet.errors import ShapeError
from tinynet.ops._args import (
    as_tensor,
    axes,
    dim_aliases,
    guard_mask_counts,
    index_array,
    promote_all,
)
from tinynet.tensor import Tensor, TensorLike


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(ctx.inputs[0].data.shape)


class Transpose(Function):
    @staticmethod
    def forward(ctx, x, order):
        ctx.order = order
        return x.transpose(order)

    @staticmethod
    def backward(ctx, grad_output):
        return permute(grad_output, tuple(np.argsort(ctx.order)))


class BroadcastTo(Function):
    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad_output):
        return sum_to_shape(grad_output, ctx.inputs[0].data.shape)


class SumToShape(Function):
    """Sum a broadcast result back to ``shape``: the inverse of ``broadcast_to``."""

    @staticmethod
    def forward(ctx, x, shape):
        return sum_to_shape_array(x, shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.broadcast_to(ctx.inputs[0].data.shape)


def _is_basic(index) -> bool:
    """True when ``index`` selects each element at most once (no integer arrays)."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype != np.bool_:
            return False
    return True


class GetItem(Function):
    display_name = "getitem"

    @staticmethod
    def forward(ctx, x, index):
        ctx.index = index
        out = x[index]
        if type(out) is not np.ndarray:  # NumPy's scalar for x[0, 1]: the 0-d view, as PyTorch's
            out = x[(*index, Ellipsis) if type(index) is tuple else (index, Ellipsis)]
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return IndexAdd.apply(grad_output, ctx.index, ctx.inputs[0].data.shape)


class IndexAdd(Function):
    """Zeros of ``shape`` with ``values`` added at ``index``; repeated indices accumulate."""

    @staticmethod
    def forward(ctx, values, index, shape):
        ctx.index = index
        out = np.zeros(shape, values.dtype)
        if _is_basic(index):
            out[index] = values
        else:
            np.add.at(out, index, values)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output[ctx.index]


class IndexPut(IndexAdd):
    """Zeros of ``shape`` with ``values`` written at ``index``, whose positions the caller
    made distinct (``x[index] = value``'s scatter): a written ``-0.0`` stays ``-0.0``, as an
    assignment writes it (``0.0 + -0.0`` would be ``0.0``)."""

    display_name = "__setitem__"

    @staticmethod
    def forward(ctx, values, index, shape):
        ctx.index = index
        out = np.zeros(shape, values.dtype)
        out[index] = values
        return out


class IndexWrite(IndexAdd):
    """Zeros of ``shape`` with the ``values`` marked by ``keep`` written at ``index`` (the
    caller keeps one per position); every value, kept or not, gets the gradient at its
    position, as PyTorch's scatter (``grad.gather(dim, index)``)."""

    display_name = "scatter"

    @staticmethod
    def forward(ctx, values, index, shape, keep):
        ctx.index = index
        out = np.zeros(shape, values.dtype)
        out[tuple(np.broadcast_to(i, values.shape)[keep] for i in index)] = values[keep]
        return out


def _diagonal_view(x: np.ndarray, offset: int, first: int, second: int) -> np.ndarray:
    return np.diagonal(x, offset, first, second)


def _windows_view(x: np.ndarray, axis: int, size: int, step: int) -> np.ndarray:
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis, writeable=x.flags.writeable)
    windows = windows[(slice(None),) * axis + (slice(None, None, step),)]
    # The same view made on the array that owns the memory, so its ``base`` is that array's
    # (as_strided's is a stand-in object, which would hide that it views ``x``).
    owner = x
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if owner.base is not None or not owner.flags.forc:
        return windows
    offset = windows.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return np.ndarray(windows.shape, x.dtype, owner, offset, windows.strides)


_STRIDED_VIEWS = {"diagonal": _diagonal_view, "unfold": _windows_view}


class StridedView(Function):
    """A strided view of ``x`` that NumPy makes (``kind``: a diagonal, sliding windows),
    writable and sharing ``x``'s memory as PyTorch's views. The gradient adds each element's
    gradient at the place of ``x`` it views (overlapping windows accumulate)."""

    display_name = "diagonal"  # or "unfold": each node names its own

    @staticmethod
    def forward(ctx, x, kind, params):
        ctx.kind, ctx.params = kind, params
        ctx.display_name = kind
        out = _STRIDED_VIEWS[kind](x, *params)
        if not out.flags.writeable and x.flags.writeable:
            out.flags.writeable = True  # np.diagonal's view is read-only by NumPy's choice only
        return out

    @staticmethod
    def backward(ctx, grad_output):
        shape = ctx.inputs[0].data.shape
        size = int(np.prod(shape))
        positions = _STRIDED_VIEWS[ctx.kind](np.arange(size).reshape(shape), *ctx.params)
        return reshape(IndexAdd.apply(grad_output, positions, (size,)), shape)


def _storage(x: np.ndarray) -> np.ndarray:
    """The array that owns ``x``'s memory (PyTorch's storage): one block, in C or F order."""
    owner = x
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if not owner.flags.forc:
        raise RuntimeError(
            "as_strided: this tensor's memory is not one contiguous block tinynet can stride "
            "over; call .contiguous() first"
        )
    return owner


def _element_offset(x: np.ndarray) -> int:
    """Where ``x``'s first element lies in its storage, in elements."""
    owner = _storage(x)
    at = x.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return at // max(x.itemsize, 1)


# vmap's loop: the memory of each mapped element while ``func`` runs on it, as
# (storage, first element, element count, one C-ordered block); innermost vmap last.
_LOOP_ELEMENTS: contextvars.ContextVar[tuple] = contextvars.ContextVar("loop_elements", default=())


@contextlib.contextmanager
def elements_own_storage(arrays: Sequence[np.ndarray]):
    """While ``tn.func.vmap``'s loop runs its function on one element of each mapped input
    (``arrays``, slices of the batches), ``as_strided`` takes an element's memory as its own
    storage, as torch.func does: offsets count from the element's start, and the view stays
    inside it. An element that is not one C-ordered block has no such storage."""
    elements = []
    for array in arrays:
        owner = array
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        first, last = _address_range(array, owner)
        elements.append((owner, first, last - first + 1, array.flags.c_contiguous))
    token = _LOOP_ELEMENTS.set(_LOOP_ELEMENTS.get() + tuple(elements))
    try:
        yield
    finally:
        _LOOP_ELEMENTS.reset(token)


def _address_range(x: np.ndarray, owner: np.ndarray) -> tuple[int, int]:
    """The first and last element of ``owner`` that ``x`` touches."""
    itemsize = max(x.itemsize, 1)
    start = (x.__array_interface__["data"][0] - owner.__array_interface__["data"][0]) // itemsize
    if x.size == 0:
        return start, start - 1
    spans = [(n - 1) * (step // itemsize) for n, step in zip(x.shape, x.strides)]
    return start + sum(min(0, span) for span in spans), start + sum(max(0, span) for span in spans)


def _loop_element(x: np.ndarray, owner: np.ndarray) -> tuple[int, int] | None:
    """``(first element, count)`` of the vmap loop element whose memory holds ``x``, if any."""
    first, last = _address_range(x, owner)
    for storage, start, count, block in reversed(_LOOP_ELEMENTS.get()):
        if storage is owner and start <= first and last < start + count:
            if not block:
                raise RuntimeError(
                    "as_strided inside tn.func.vmap: an element of the mapped input is not one "
                    "C-ordered block of memory (the mapped dimension is not the outermost one), "
                    "so it has no storage of its own to stride over; map a contiguous tensor "
                    "over its first dimension (x.movedim(dim, 0).contiguous(), in_dims=0), as "
                    "torch.func requires"
                )
            return start, count
    return None


class AsStrided(Function):
    """PyTorch's ``as_strided``: a view of ``x``'s storage with element strides. Its gradient
    adds each element's gradient at the element of ``x`` in the same place (repeated places
    accumulate; places outside ``x`` take none)."""

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        owner = _storage(x)
        steps = tuple(s * x.itemsize for s in stride)
        out = np.ndarray(size, x.dtype, owner, offset * x.itemsize, steps)
        # Each element of ``x`` by its place in the storage, then the places ``out`` views.
        places = np.full(owner.size, -1, dtype=np.int64)
        x_places = _element_offset(x) + sum(
            np.arange(n).reshape((-1,) + (1,) * (x.ndim - k - 1)) * (step // max(x.itemsize, 1))
            for k, (n, step) in enumerate(zip(x.shape, x.strides))
        )
        places[np.asarray(x_places).ravel()] = np.arange(x.size)
        out_places = offset + sum(
            np.arange(n).reshape((-1,) + (1,) * (len(size) - k - 1)) * step
            for k, (n, step) in enumerate(zip(size, stride))
        )
        ctx.positions = places[np.broadcast_to(out_places, size)]
        if any(n > 1 and step == 0 for n, step in zip(size, stride)):
            out.flags.writeable = False  # a write then raises PyTorch's error for repeats
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x_shape = ctx.inputs[0].data.shape
        size = int(np.prod(x_shape))
        # Places outside ``x`` gather in one extra slot, dropped.
        positions = np.where(ctx.positions >= 0, ctx.positions, size)
        flat = IndexAdd.apply(grad_output, positions, (size + 1,))
        return reshape(getitem(flat, slice(0, size)), x_shape)


class Concatenate(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad_output):
        axis = ctx.axis
        starts = [0, *ctx.bounds]
        ends = [*ctx.bounds, grad_output.shape[axis]]
        lead = (slice(None),) * axis
        grads = [
            grad_output[lead + (slice(int(start), int(end)),)] if needed else None
            for start, end, needed in zip(starts, ends, ctx.needs_input_grad[1:])
        ]
        return (None, *grads)


class Pad(Function):
    @staticmethod
    def forward(ctx, x, pad_width, value):
        ctx.pad_width = pad_width
        # A 0-d array has no widths; NumPy wants a number then, not an empty tuple.
        return np.pad(x, pad_width or 0, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad_output):
        index = tuple(
            slice(before, n - after) for (before, after), n in zip(ctx.pad_width, grad_output.shape)
        )
        return grad_output[index]


# -- public functions -------------------------------------------------------------------------
def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def reshape(x: TensorLike, *shape) -> Tensor:
    """``x`` with a new shape (one entry may be -1); ``reshape(x, 2, 3)`` or ``(2, 3)``."""
    x = as_tensor(x)
    shape = _shape_arg(shape)
    try:
        return Reshape.apply(x, shape)
    except ValueError:
        raise ShapeError(f"cannot reshape a tensor of shape {x.shape} into shape {shape}") from None


def transpose(x: TensorLike, *axes_order) -> Tensor:
    """Swap two axes, or permute them all.

    Two ints swap those axes, as PyTorch's ``transpose(dim0, dim1)``; a sequence, or one or
    three or more ints, is a full permutation as in NumPy; no argument reverses every axis.

    >>> import tinynet as tn
    >>> x = tn.zeros(2, 3, 4)
    >>> transpose(x, 0, 2).shape, transpose(x, (1, 0, 2)).shape, transpose(x).shape
    ((4, 3, 2), (3, 2, 4), (4, 3, 2))
    """
    x = as_tensor(x)
    if len(axes_order) == 2 and all(isinstance(n, (int, np.integer)) for n in axes_order):
        (first,), (second,) = axes(axes_order[0], x.ndim), axes(axes_order[1], x.ndim)
        order = list(range(x.ndim))
        order[first], order[second] = order[second], order[first]
        return permute(x, order)
    return permute(x, *axes_order) if axes_order else permute(x, tuple(range(x.ndim))[::-1])


def permute(x: TensorLike, *dims) -> Tensor:
    """Reorder the axes of ``x`` by a full permutation: ``permute(x, 2, 0, 1)`` or a tuple."""
    x = as_tensor(x)
    order = _shape_arg(dims)
    normalized = tuple(n % x.ndim if -x.ndim <= n < x.ndim else n for n in order)
    if sorted(normalized) != list(range(x.ndim)):
        raise ValueError(f"permute needs a permutation of {x.ndim} axes, got {order}")
    if normalized == tuple(range(x.ndim)):
        return x
    return Transpose.apply(x, normalized)


def broadcast_to(x: TensorLike, shape: tuple[int, ...]) -> Tensor:
    """``x`` broadcast to ``shape`` by NumPy's rules (a read-only view in forward)."""
    x = as_tensor(x)
    shape = tuple(int(n) for n in shape)
    if x.shape == shape:
        return x
    try:
        return BroadcastTo.apply(x, shape)
    except ValueError:
        raise ShapeError(f"cannot broadcast a tensor of shape {x.shape} to shape {shape}") from None


def sum_to_shape(x: TensorLike, shape: tuple[int, ...]) -> Tensor:
    """Sum ``x`` over broadcast axes down to ``shape`` (the adjoint of broadcast_to)."""
    x = as_tensor(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    if summed_axes(x.shape, shape) is None:
        raise ShapeError(f"cannot sum a tensor of shape {x.shape} down to shape {shape}")
    return SumToShape.apply(x, shape)


# Shared with the engine (tinynet.autograd), which un-broadcasts first-order gradients on
# arrays: a named internal API, not exported by ``ops``.
def summed_axes(from_shape: tuple, shape: tuple) -> tuple | None:
    """The axes of ``from_shape`` that broadcasting ``shape`` to it created or stretched;
    None when ``shape`` does not broadcast to ``from_shape``.

    >>> summed_axes((4, 3, 2), (3, 1))
    (0, 2)
    >>> summed_axes((4, 3), (2,)) is None
    True
    """
    lead = len(from_shape) - len(shape)
    if lead < 0:
        return None
    axes = list(range(lead))
    for i, n in enumerate(shape):
        if n != from_shape[lead + i]:
            if n != 1:
                return None
            axes.append(lead + i)
    return tuple(axes)


def sum_to_shape_array(x: np.ndarray, shape: tuple, summed: tuple | None = None) -> np.ndarray:
    """SumToShape's forward: ``x`` summed down to ``shape``, which must broadcast to ``x``'s
    (``summed``: ``summed_axes(x.shape, shape)``, if the caller has it already).

    >>> sum_to_shape_array(np.ones((4, 3)), (3,))
    array([4., 4., 4.])
    """
    if summed is None:
        summed = summed_axes(x.shape, shape)
    if not summed:
        return x.reshape(shape)
    # leading axes only: rows (an empty ``shape`` has no row length to reshape with)
    if summed[-1] == len(summed) - 1 and x.flags.c_contiguous and x.size:
        return row_sum(x.reshape(-1, math.prod(shape))).reshape(shape)
    out = np.add.reduce(x, axis=summed)  # x.sum(...)
    if type(out) is not np.ndarray:  # summed to a NumPy scalar
        out = np.asarray(out)
    # Summing only leading axes gives ``shape`` itself: a new array, not a view of one (a
    # leaf would copy a view before keeping it as its .grad).
    return out if out.shape == shape else out.reshape(shape)


def row_sum(rows: np.ndarray) -> np.ndarray:
    """``rows.sum(0)`` of a 2-D array: ``ones @ rows``, one BLAS matrix-vector product, for
    float32 and float64 (2-3x faster than NumPy's column sums: 3 against 7 us on (256, 256)
    float32), NumPy's sum otherwise. The un-broadcast of a gradient over leading axes and
    ``Linear``'s bias gradient, at every order.

    >>> row_sum(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([4., 6.])
    """
    ones = ones_column(rows.shape[0], rows.dtype)
    if ones is not None:
        return ones @ rows
    return np.add.reduce(rows, axis=0)  # rows.sum(0), without its wrapper


def row_totals(x: np.ndarray) -> np.ndarray:
    """``x.sum(1, keepdims=True)`` of a 2-D array: ``x @ ones``, one BLAS matrix-vector
    product, for float32 and float64 (NumPy sums narrow rows slowly: 1.1 against 4.5 us on
    (256, 10) float32), NumPy's sum otherwise. Softmax's normalizer, wherever the rows of a
    2-D array are summed for it, so fused and composed forms keep the same bits.

    >>> row_totals(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[3.],
           [7.]])
    """
    ones = ones_column(x.shape[1], x.dtype)
    if ones is not None:
        return (x @ ones)[:, None]
    return np.add.reduce(x, axis=1, keepdims=True)  # x.sum(1, keepdims=True), no wrapper


@functools.lru_cache(maxsize=32)
def ones_column(n: int, dtype: np.dtype) -> np.ndarray | None:
    """A read-only vector of ``n`` ones, kept, with which ``ones @ rows`` sums the rows; None
    for a dtype without BLAS products (float16, integers), whose rows NumPy sums."""
    if dtype.type not in (np.float32, np.float64):
        return None
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def _index_part(part):
    if isinstance(part, Tensor):
        return index_array(part)
    # A list, or a tuple inside the index tuple, is an index array to NumPy: make it one, so
    # the backward sees repeated indices and accumulates them.
    if isinstance(part, (list, tuple)):
        return np.asarray(part)
    return part


def _index_arg(index):
    if isinstance(index, tuple):
        return tuple(_index_part(part) for part in index)
    return _index_part(index)


def getitem(x: TensorLike, index: Any) -> Tensor:
    """NumPy indexing: slices, integers, None, Ellipsis, integer arrays and boolean masks."""
    x = as_tensor(x)
    index = _index_arg(index)
    guard_mask_counts(index)
    return GetItem.apply(x, index)


def as_strided(
    x: TensorLike, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None
) -> Tensor:
    """A view of ``x``'s memory with the given ``size``, element ``stride`` and
    ``storage_offset`` (default ``x``'s own), as ``torch.as_strided``; the storage is the
    array that owns ``x``'s memory. A zero stride repeats elements: writing that view raises
    PyTorch's error. Recording a view that reaches outside ``x`` is refused.

    >>> import tinynet as tn
    >>> x = tn.arange(6.0)
    >>> tn.as_strided(x, (2, 2), (3, 1), 1).tolist()
    [[1.0, 2.0], [4.0, 5.0]]
    """
    x = as_tensor(x)
    size, stride = _shape_arg((size,)), _shape_arg((stride,))
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape: size {list(size)} has {len(size)} "
            f"dimensions, stride {list(stride)} has {len(stride)}"
        )
    if any(s < 0 for s in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: "
            f"{list(stride)}"
        )
    if any(n < 0 for n in size):
        raise RuntimeError(f"as_strided: negative size in {list(size)}")
    owner = _storage(x.data)
    # under vmap's loop, the element's own memory is its storage (torch.func's rule)
    start, storage_size = _loop_element(x.data, owner) or (0, owner.size)
    offset = _element_offset(x.data) - start if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > storage_size:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {x.data.itemsize} requiring a storage size of "
            f"{needed * x.data.itemsize} are out of bounds for storage of size "
            f"{storage_size * x.data.itemsize}"
        )
    result = AsStrided.apply(x, size, stride, start + offset)
    if result.grad_fn is not None and (result.grad_fn.positions < 0).any():
        raise RuntimeError(
            "as_strided: the view reaches memory outside this tensor (another part of the "
            "tensor it views), where its gradient cannot flow; take as_strided of that tensor"
        )
    return result


def strided_view(x: TensorLike, kind: str, params: tuple) -> Tensor:
    """The view ``StridedView`` makes: ``("diagonal", (offset, dim1, dim2))`` or
    ``("unfold", (axis, size, step))``, arguments already checked."""
    return StridedView.apply(as_tensor(x), kind, params)


@dim_aliases
def concatenate(tensors: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    parts = [as_tensor(t) for t in tensors]
    if not parts:
        raise ValueError("concatenate needs at least one tensor")
    parts = promote_all(parts)
    axis = axes(axis, parts[0].ndim)[0]
    try:
        return Concatenate.apply(axis, *parts)
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in parts)
        raise ShapeError(f"concatenate along axis {axis}: shapes {shapes} do not match") from None


def pad(
    x: TensorLike, pad_width: int | Sequence, value: float = 0.0, mode: str = "constant"
) -> Tensor:
    """Pad ``x``, ``pad_width`` as NumPy's (``((before, after), ...)`` or shorthands).

    ``mode``: ``'constant'`` (``value``), ``'reflect'`` (mirror without the edge),
    ``'replicate'`` (repeat the edge) or ``'circular'`` (wrap around), as PyTorch's modes.
    Negative widths crop.

    >>> import tinynet as tn
    >>> tn.pad(tn.tensor([1.0, 2.0, 3.0, 4.0]), (2, -1), mode="reflect").tolist()
    [3.0, 2.0, 1.0, 2.0, 3.0]
    >>> tn.pad(tn.tensor([1.0, 2.0, 3.0]), (1, -1)).tolist()
    [0.0, 1.0, 2.0]
    """
    x = as_tensor(x)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(_PAD_MODES)}, got {mode!r}")
    given = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    if (given < 0).any():  # crop first, then pad what is left
        for (before, after), n in zip(given, x.shape):
            if -min(before, 0) - min(after, 0) > n:
                raise ShapeError(f"pad: widths {pad_width} crop more than the shape {x.shape}")
        x = getitem(x, tuple(slice(-min(a, 0), n + min(b, 0)) for (a, b), n in zip(given, x.shape)))
        given = np.maximum(given, 0)
    widths = tuple((int(a), int(b)) for a, b in given)
    if mode == "constant":
        return Pad.apply(x, widths, value) if any(a or b for a, b in widths) else x
    for axis, ((before, after), n) in enumerate(zip(widths, x.shape)):
        if not (before or after):
            continue
        # PyTorch: reflect needs widths below the length, circular wraps at most once, and
        # replicate repeats the edge as far as asked (of a non-empty axis).
        limit = n - 1 if mode == "reflect" else None if mode == "replicate" and n else n
        if limit is not None and (before > limit or after > limit):
            raise ShapeError(  # PyTorch's RuntimeError; a ValueError as it was
                f"pad: {mode} padding of ({before}, {after}) on dimension {axis} of length {n} "
                f"needs widths of at most {limit}"
            )
        source = np.pad(np.arange(n), (before, after), mode=_PAD_MODES[mode])
        x = getitem(x, (slice(None),) * axis + (source,))
    return x


_PAD_MODES: dict[str, Literal["constant", "reflect", "edge", "wrap"]] = {
    "constant": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}
