"""Shape and movement: split, chunk, tril/triu, diagonal, flip, roll, repeat, movedim, ...;
PyTorch's t, narrow, select, hstack, vstack, broadcast_tensors and diff."""

from __future__ import annotations

import builtins

import numpy as np

from tinynet import _device, _dtype, ops
from tinynet.autograd import traced_call, traced_check
from tinynet.errors import DTypeError, ShapeError
from tinynet.ops._args import (
    as_array,
    as_tensor,
    axes,
    dim_aliases,
    guard_size,
    promote_all,
)
from tinynet.tensor import Tensor


def _slice_along(x: Tensor, axis: int, start: int, stop: int) -> Tensor:
    return x[(slice(None),) * axis + (slice(start, stop),)]


@dim_aliases
def split(x, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of ``x`` along ``dim``: of ``split_size_or_sections`` each (the last may be
    shorter), or of the listed lengths (as ``torch.split``).

    >>> import tinynet as tn
    >>> [t.shape for t in tn.split(tn.ones(5, 2), 2)]
    [(2, 2), (2, 2), (1, 2)]
    """
    x = as_tensor(x)
    (axis,) = axes(dim, x.ndim)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        lengths = [min(size, n - start) for start in range(0, n, size)] or [0]
    else:
        lengths = [int(k) for k in split_size_or_sections]
        if sum(lengths) != n or min(lengths, default=0) < 0:
            raise ValueError(
                f"split: sections {lengths} do not add up to the length {n} of dim {dim}"
            )
    bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    return tuple(_slice_along(x, axis, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]))


@dim_aliases
def chunk(x, chunks: int, dim: int = 0) -> tuple:
    """At most ``chunks`` pieces of equal length ``ceil(n / chunks)`` along ``dim`` (as PyTorch)."""
    x = as_tensor(x)
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    (axis,) = axes(dim, x.ndim)
    return split(x, max(-(-x.shape[axis] // chunks), 1), axis)


@dim_aliases
def unbind(x, dim: int = 0) -> tuple:
    """The slices of ``x`` along ``dim``, that axis removed."""
    x = as_tensor(x)
    (axis,) = axes(dim, x.ndim)
    lead = (slice(None),) * axis
    return tuple(x[lead + (i,)] for i in range(x.shape[axis]))


def _triangle(x, diagonal: int, upper: bool):
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{'triu' if upper else 'tril'} needs at least 2 dimensions, got {x.ndim}")
    rows, columns = x.shape[-2:]
    mask = (np.triu if upper else np.tril)(np.ones((rows, columns), dtype=bool), diagonal)
    return ops.where(mask, x, 0.0)


def tril(x, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two axes (on and below ``diagonal``), zeros elsewhere."""
    return _triangle(x, diagonal, upper=False)


def triu(x, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two axes (on and above ``diagonal``), zeros elsewhere."""
    return _triangle(x, diagonal, upper=True)


def diagonal(x, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of axes ``dim1`` and ``dim2`` (moved to the end), as ``torch.diagonal``:
    a view, so writing it writes ``x``.

    >>> import tinynet as tn
    >>> x = tn.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> tn.diagonal(x).tolist()
    [1.0, 4.0]
    >>> x.diagonal().zero_().tolist(), x.tolist()
    ([0.0, 0.0], [[0.0, 2.0], [3.0, 0.0]])
    """
    x = as_tensor(x)
    first, second = axes(dim1, x.ndim)[0], axes(dim2, x.ndim)[0]
    if first == second:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, both are {dim1}")
    return ops.movement.strided_view(x, "diagonal", (int(offset), first, second))


_diagonal = diagonal


def diag(x, diagonal: int = 0) -> Tensor:
    """A 1-D ``x`` as a square matrix with ``x`` on its ``diagonal``; of a 2-D ``x``, its diagonal.

    >>> import tinynet as tn
    >>> tn.diag(tn.tensor([1.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    x = as_tensor(x)
    if x.ndim == 2:
        return _diagonal(x, diagonal, 0, 1)
    if x.ndim != 1:
        raise ValueError(f"diag needs a 1-D or 2-D tensor, got {x.ndim} dimensions")
    n = x.shape[0] + abs(diagonal)
    rows = np.arange(x.shape[0]) + max(-diagonal, 0)
    columns = np.arange(x.shape[0]) + max(diagonal, 0)
    return ops.movement.IndexAdd.apply(x, (rows, columns), (n, n))


@dim_aliases
def flip(x, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (an int or a sequence)."""
    x = as_tensor(x)
    flipped = axes(dims, x.ndim) or ()
    if not flipped:
        return x
    return x[tuple(slice(None, None, -1) if d in flipped else slice(None) for d in range(x.ndim))]


@dim_aliases
def roll(x, shifts, dims=None) -> Tensor:
    """Shift elements along ``dims`` by ``shifts``, wrapping around (as ``torch.roll``).

    >>> import tinynet as tn
    >>> tn.roll(tn.tensor([1.0, 2.0, 3.0]), 1).tolist()
    [3.0, 1.0, 2.0]
    """
    x = as_tensor(x)
    if dims is None:
        return roll(x.reshape(-1), shifts, 0).reshape(*x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
    for shift, dim in zip(shifts, dims):
        (axis,) = axes(dim, x.ndim)
        n = x.shape[axis]
        if n:
            source = (np.arange(n) - shift) % n
            x = x[(slice(None),) * axis + (source,)]
    return x


def tile(x, dims) -> Tensor:
    """Repeat the whole of ``x`` ``dims[i]`` times along axis ``i`` (as ``numpy.tile``)."""
    x = as_tensor(x)
    dims = (dims,) if isinstance(dims, int) else tuple(int(d) for d in dims)
    if len(dims) < x.ndim:
        dims = (1,) * (x.ndim - len(dims)) + dims
    return repeat(x, *dims)


def repeat(x, *sizes) -> Tensor:
    """``x`` repeated ``sizes[i]`` times along axis ``i`` (``torch.Tensor.repeat``; numpy's tile).

    >>> import tinynet as tn
    >>> tn.repeat(tn.tensor([1.0, 2.0]), 2).tolist()
    [1.0, 2.0, 1.0, 2.0]
    """
    x = as_tensor(x)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(n) for n in sizes)
    if len(sizes) < x.ndim:
        raise ValueError(
            f"repeat: {len(sizes)} repeat counts for a tensor of {x.ndim} dimensions; "
            "give at least one per dimension"
        )
    if min(sizes, default=0) < 0:
        raise ValueError(f"repeat: counts must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    expanded = x.reshape(*(v for n in shape for v in (1, n)))
    target = tuple(v for k, n in zip(sizes, shape) for v in (k, n))
    return expanded.broadcast_to(target).reshape(*(k * n for k, n in zip(sizes, shape)))


@dim_aliases
def repeat_interleave(x, repeats, dim=None) -> Tensor:
    """Repeat each element ``repeats`` times (a number or one count per element) along ``dim``
    (None: of the flattened tensor), as ``torch.repeat_interleave``.

    >>> import tinynet as tn
    >>> tn.repeat_interleave(tn.tensor([1.0, 2.0]), tn.tensor([1, 2])).tolist()
    [1.0, 2.0, 2.0]
    """
    x = as_tensor(x)
    if dim is None:
        x, dim = x.reshape(-1), 0
    (axis,) = axes(dim, x.ndim)
    counts = np.asarray(repeats.data if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu":
        raise DTypeError(f"repeat_interleave: repeats must be integers, got dtype {counts.dtype}")
    if counts.ndim and counts.shape != (x.shape[axis],):
        raise ValueError(
            f"repeat_interleave: {counts.shape[0]} repeat counts for a dimension of length "
            f"{x.shape[axis]}"
        )
    if not traced_check(_non_negative, counts):
        raise ValueError("repeat_interleave: repeats must be non-negative")
    # Each call's counts: a tn.compile replay repeats them while their total stays the same.
    source = guard_size(traced_call(_repeated, x.shape[axis], counts))
    return x[(slice(None),) * axis + (source,)]


def _non_negative(counts: np.ndarray) -> bool:
    return not (counts < 0).any()


def _repeated(n: int, counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(n), counts)


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D tensors; ``indexing='ij'`` (PyTorch's default) or ``'xy'``."""
    given = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    inputs = [as_tensor(t) for t in given]
    if builtins.any(t.ndim > 1 for t in inputs):
        raise ValueError("meshgrid needs 0-D or 1-D tensors")
    vectors = [t.reshape(-1) for t in inputs]
    lengths = [t.shape[0] for t in vectors]
    if indexing == "xy" and len(vectors) >= 2:
        lengths[0], lengths[1] = lengths[1], lengths[0]
    grids = []
    for i, t in enumerate(vectors):
        position = i
        if indexing == "xy" and len(vectors) >= 2 and i < 2:
            position = 1 - i
        shape = [1] * len(vectors)
        shape[position] = t.shape[0]
        grids.append(t.reshape(*shape).broadcast_to(tuple(lengths)))
    return tuple(grids)


@dim_aliases
def unflatten(x, dim: int, sizes) -> Tensor:
    """Split axis ``dim`` into ``sizes`` (one may be -1)."""
    x = as_tensor(x)
    (axis,) = axes(dim, x.ndim)
    sizes = tuple(int(n) for n in sizes)
    return x.reshape(*x.shape[:axis], *sizes, *x.shape[axis + 1 :])


def movedim(x, source, destination) -> Tensor:
    """Move axes ``source`` to positions ``destination`` (as ``numpy.moveaxis``)."""
    x = as_tensor(x)
    source = axes(source, x.ndim)
    destination = axes(destination, x.ndim)
    if len(source) != len(destination):
        raise ValueError(f"movedim: {len(source)} source axes for {len(destination)} destinations")
    order = [d for d in range(x.ndim) if d not in source]
    for position, axis in sorted(zip(destination, source)):
        order.insert(position, axis)
    return x.permute(*order)


def swapaxes(x, axis0: int, axis1: int) -> Tensor:
    """Exchange two axes (``swapdims``/``transpose(dim0, dim1)`` in PyTorch)."""
    x = as_tensor(x)
    first, second = axes(axis0, x.ndim)[0], axes(axis1, x.ndim)[0]
    order = list(range(x.ndim))
    order[first], order[second] = order[second], order[first]
    return x.permute(*order)


swapdims = swapaxes


# -- PyTorch's spellings ------------------------------------------------------------------------
def t(x) -> Tensor:
    """The transpose of a tensor of at most 2 dimensions (``torch.t``).

    >>> import tinynet as tn
    >>> tn.t(tn.ones(2, 3)).shape
    (3, 2)
    """
    return as_tensor(x).t()


def ravel(x) -> Tensor:
    """The elements of ``x`` as one dimension, in row-major order (``torch.ravel``); a view
    where the memory allows, as ``reshape(-1)``.

    >>> import tinynet as tn
    >>> tn.ravel(tn.tensor([[1, 2], [3, 4]])).tolist()
    [1, 2, 3, 4]
    """
    return as_tensor(x).reshape(-1)


@dim_aliases
def narrow(x, dim: int, start: int, length: int) -> Tensor:
    """Positions ``start .. start + length - 1`` along ``dim``, a view (``torch.narrow``);
    a negative ``start`` counts from the end.

    >>> import tinynet as tn
    >>> tn.narrow(tn.arange(5), 0, 1, 3).tolist()
    [1, 2, 3]
    """
    x = as_tensor(x)
    if x.ndim == 0:
        raise IndexError("narrow() cannot be applied to a 0-dim tensor")
    (axis,) = axes(dim, x.ndim)
    n = x.shape[axis]
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dimension {axis} of size {n}")
    start = start % n if start < 0 else start
    if length < 0 or start + length > n:
        raise RuntimeError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n})"
        )
    return _slice_along(x, axis, start, start + length)


@dim_aliases
def select(x, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, that axis removed (``torch.select``: ``x[:, i]``).

    >>> import tinynet as tn
    >>> tn.select(tn.tensor([[1, 2], [3, 4]]), 1, -1).tolist()
    [2, 4]
    """
    x = as_tensor(x)
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor")
    (axis,) = axes(dim, x.ndim)
    n = x.shape[axis]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {x.shape} at dimension {axis}"
        )
    return x[(slice(None),) * axis + (index,)]


def _joined(tensors, name: str) -> list[Tensor]:
    parts = [as_tensor(t) for t in tensors]
    if not parts:
        raise ValueError(f"{name} expects a non-empty sequence of tensors")
    return promote_all(parts)


def hstack(tensors) -> Tensor:
    """Join along the second axis, or the first for 1-D tensors (``torch.hstack``).

    >>> import tinynet as tn
    >>> tn.hstack([tn.tensor([1, 2]), tn.tensor([3])]).tolist()
    [1, 2, 3]
    """
    parts = [p.reshape(1) if p.ndim == 0 else p for p in _joined(tensors, "hstack")]
    return ops.concatenate(parts, axis=0 if parts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along the first axis, 0-d and 1-D tensors made rows first (``torch.vstack``).

    >>> import tinynet as tn
    >>> tn.vstack([tn.tensor([1, 2]), tn.tensor([3, 4])]).tolist()
    [[1, 2], [3, 4]]
    """
    parts = [p.reshape(1, -1) if p.ndim < 2 else p for p in _joined(tensors, "vstack")]
    return ops.concatenate(parts, axis=0)


def broadcast_tensors(*tensors) -> tuple[Tensor, ...]:
    """The tensors broadcast to their common shape (``torch.broadcast_tensors``).

    >>> import tinynet as tn
    >>> [x.shape for x in tn.broadcast_tensors(tn.ones(3, 1), tn.ones(4))]
    [(3, 4), (3, 4)]
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        raise TypeError(
            "broadcast_tensors takes the tensors as separate arguments, got one "
            f"{type(tensors[0]).__name__}: unpack it, broadcast_tensors(*tensors)"
        )
    parts = [as_tensor(x) for x in tensors]
    try:
        shape = np.broadcast_shapes(*(p.shape for p in parts))
    except ValueError:
        shapes = " and ".join(str(p.shape) for p in parts)
        raise ShapeError(f"broadcast_tensors: shapes {shapes} cannot be broadcast") from None
    return tuple(p.broadcast_to(shape) for p in parts)


@dim_aliases
def diff(x, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The ``n``-th forward difference ``x[i + 1] - x[i]`` along ``dim`` (``torch.diff``),
    after joining ``prepend`` and ``append`` there; booleans differ by ``logical_xor``.

    >>> import tinynet as tn
    >>> tn.diff(tn.tensor([1, 4, 9, 16]), n=2).tolist()
    [2, 2]
    """
    x = as_tensor(x)
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative, got {n}")
    (axis,) = axes(dim, x.ndim)
    extra = [as_tensor(e) for e in (prepend, append) if e is not None]
    for e in extra:
        if e.ndim != x.ndim:
            raise ShapeError(
                f"diff: prepend and append need the input's {x.ndim} dimensions, got shape "
                f"{e.shape}"
            )
    if extra:
        parts = [as_tensor(prepend)] if prepend is not None else []
        parts += [x] + ([as_tensor(append)] if append is not None else [])
        x = ops.concatenate(promote_all(parts), axis=axis)
    for _ in range(n):
        length = x.shape[axis]
        later, earlier = _slice_along(x, axis, 1, length), _slice_along(x, axis, 0, length - 1)
        if x.data.dtype == np.bool_:
            x = Tensor.wrap(traced_call(as_array, np.logical_xor, later.data, earlier.data))
        else:
            x = later - earlier
    return x


# -- PyTorch's names, session 10: flips, rotations, at-least views, triangle indices ---------
def fliplr(input) -> Tensor:
    """``input`` with its columns (dim 1) reversed, as ``torch.fliplr``: at least 2-D.

    >>> import tinynet as tn
    >>> tn.fliplr(tn.tensor([[1, 2], [3, 4]])).tolist()
    [[2, 1], [4, 3]]
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got {x.ndim} dimensions")
    return flip(x, 1)


def flipud(input) -> Tensor:
    """``input`` with its rows (dim 0) reversed, as ``torch.flipud``: at least 1-D.

    >>> import tinynet as tn
    >>> tn.flipud(tn.tensor([[1, 2], [3, 4]])).tolist()
    [[3, 4], [1, 2]]
    """
    x = as_tensor(input)
    if x.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d, got a 0-d tensor")
    return flip(x, 0)


def rot90(input, k: int = 1, dims=(0, 1)) -> Tensor:
    """``input`` rotated ``k`` quarter turns in the plane of ``dims``, from the first axis
    toward the second, as ``torch.rot90`` (a negative ``k`` turns the other way).

    >>> import tinynet as tn
    >>> tn.rot90(tn.tensor([[1, 2], [3, 4]])).tolist()
    [[2, 4], [1, 3]]
    """
    x = as_tensor(input)
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {x.ndim}")
    first, second = axes(dims[0], x.ndim)[0], axes(dims[1], x.ndim)[0]
    if first == second:
        raise RuntimeError(f"rot90: expected rotation dims to be different, got dims = {dims}")
    turns = int(k) % 4
    if turns == 1:
        return flip(x, second).transpose(first, second)
    if turns == 2:
        return flip(x, (first, second))
    if turns == 3:
        return flip(x, first).transpose(first, second)
    return x.clone()  # PyTorch's k % 4 == 0: a copy


def _at_least(ndim: int, tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_at_least(ndim, (t,)) for t in tensors[0])
    if len(tensors) != 1:
        return tuple(_at_least(ndim, (t,)) for t in tensors)
    x = as_tensor(tensors[0])
    if x.ndim >= ndim:
        return x
    if x.ndim == 0:
        return x.reshape(*(1,) * ndim)
    if x.ndim == 1:  # NumPy's and PyTorch's placement: (1, n) at 2-D, (1, n, 1) at 3-D
        return x.reshape(1, -1) if ndim == 2 else x.reshape(1, -1, 1)
    return x.reshape(*x.shape, 1)


def atleast_1d(*tensors):
    """Each tensor with at least one dimension (a 0-d one becomes shape ``(1,)``), as
    ``torch.atleast_1d``: one tensor for one argument, else a tuple.

    >>> import tinynet as tn
    >>> tn.atleast_1d(tn.tensor(1.5)).shape
    (1,)
    """
    return _at_least(1, tensors)


def atleast_2d(*tensors):
    """Each tensor with at least two dimensions (``(n,)`` becomes ``(1, n)``), as
    ``torch.atleast_2d``.

    >>> import tinynet as tn
    >>> tn.atleast_2d(tn.ones(3)).shape
    (1, 3)
    """
    return _at_least(2, tensors)


def atleast_3d(*tensors):
    """Each tensor with at least three dimensions (``(n,)`` becomes ``(1, n, 1)``, ``(m, n)``
    becomes ``(m, n, 1)``), as ``torch.atleast_3d``.

    >>> import tinynet as tn
    >>> [t.shape for t in tn.atleast_3d(tn.ones(3), tn.ones(2, 3))]
    [(1, 3, 1), (2, 3, 1)]
    """
    return _at_least(3, tensors)


def _triangle_indices(name: str, row: int, col: int, offset: int, dtype) -> Tensor:
    for label, value in (("row", row), ("col", col)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise RuntimeError(f"{name}: {label} must be a non-negative int, got {value!r}")
    dtype = np.dtype(np.int64 if dtype is None else dtype)
    if dtype.kind not in "iu":
        raise RuntimeError(f"{name}: dtype must be an integer type, got {dtype}; pass tn.long")
    found = np.tril_indices if name == "tril_indices" else np.triu_indices
    return Tensor.wrap(traced_call(_indices, found, int(row), int(col), int(offset), dtype))


def _indices(found, row: int, col: int, offset: int, dtype: np.dtype) -> np.ndarray:
    return np.stack(found(row, offset, col)).astype(dtype).reshape(2, -1)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The coordinates of the lower triangle (on and below diagonal ``offset``) of a
    ``row`` by ``col`` matrix, as ``torch.tril_indices``: a ``(2, N)`` int64 tensor, row by row.

    >>> import tinynet as tn
    >>> tn.tril_indices(3, 3).tolist()
    [[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]]
    """
    _device.check(device)
    return _triangle_indices("tril_indices", row, col, offset, dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The coordinates of the upper triangle (on and above diagonal ``offset``), as
    ``torch.triu_indices``.

    >>> import tinynet as tn
    >>> tn.triu_indices(2, 3, 1).tolist()
    [[0, 0, 1], [1, 2, 2]]
    """
    _device.check(device)
    return _triangle_indices("triu_indices", row, col, offset, dtype)


def column_stack(tensors) -> Tensor:
    """Tensors side by side as columns, as ``torch.column_stack``: 0-d and 1-d ones become
    columns first, then all are joined along dim 1.

    >>> import tinynet as tn
    >>> tn.column_stack([tn.tensor([1, 2]), tn.tensor([[3, 4], [5, 6]])]).tolist()
    [[1, 3, 4], [2, 5, 6]]
    """
    parts = _joined(tensors, "column_stack")
    return hstack([p.reshape(-1, 1) if p.ndim <= 1 else p for p in parts])


def block_diag(*tensors) -> Tensor:
    """A block-diagonal matrix of the given blocks (0-d is ``(1, 1)``, 1-d one row), zeros
    elsewhere, as ``torch.block_diag``.

    >>> import tinynet as tn
    >>> tn.block_diag(tn.tensor([[1, 2]]), tn.tensor(3)).tolist()
    [[1, 2, 0], [0, 0, 3]]
    """
    blocks = []
    for position, block in enumerate(tensors):
        block = as_tensor(block)
        if block.ndim > 2:
            raise RuntimeError(
                f"block_diag: Input tensors must have 2 or fewer dimensions. Input {position} "
                f"has {block.ndim} dimensions"
            )
        blocks.append(block.reshape(1, -1) if block.ndim < 2 else block)
    if not blocks:
        return Tensor.wrap(traced_call(np.zeros, (0, 0), _dtype.get_default_dtype()))
    blocks = promote_all(blocks)
    width = builtins.sum(b.shape[1] for b in blocks)
    rows, start = [], 0
    for block in blocks:
        rows.append(ops.pad(block, ((0, 0), (start, width - start - block.shape[1]))))
        start += block.shape[1]
    return ops.concatenate(rows, axis=0)


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-D tensor, one per row (the last tensor
    varying fastest), as ``torch.cartesian_prod``; one tensor is returned as it is.

    >>> import tinynet as tn
    >>> tn.cartesian_prod(tn.tensor([1, 2]), tn.tensor([3, 4])).tolist()
    [[1, 3], [1, 4], [2, 3], [2, 4]]
    """
    vectors = [as_tensor(t) for t in tensors]
    for position, vector in enumerate(vectors):
        if vector.ndim != 1:
            raise RuntimeError(
                f"cartesian_prod expects 1-D tensors, but got {vector.ndim}-D tensor at "
                f"position {position}"
            )
    if len(vectors) == 1:
        return vectors[0]
    grids = meshgrid(*promote_all(vectors), indexing="ij")
    return ops.concatenate([grid.reshape(-1, 1) for grid in grids], axis=1)


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Each vector along ``input``'s last dim on the ``offset`` diagonal of a new matrix
    whose axes are ``dim1`` and ``dim2`` of the result (one more dim than ``input``), zeros
    elsewhere, as ``torch.diag_embed``.

    >>> import tinynet as tn
    >>> tn.diag_embed(tn.tensor([[1, 2], [3, 4]])).tolist()
    [[[1, 0], [0, 2]], [[3, 0], [0, 4]]]
    """
    x = as_tensor(input)
    if x.ndim == 0:
        raise RuntimeError("diag_embed: input must have at least one dimension")
    first, second = axes(dim1, x.ndim + 1)[0], axes(dim2, x.ndim + 1)[0]
    if first == second:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    n = x.shape[-1] + builtins.abs(offset)
    padded = ops.pad(x, ((0, 0),) * (x.ndim - 1) + ((0, builtins.abs(offset)),))
    # (r, c) with c - r == offset holds x[r] above the diagonal, x[c] below it
    spread = padded.unsqueeze(-1) if offset >= 0 else padded.unsqueeze(-2)
    plane = ops.where(np.eye(n, k=offset, dtype=bool), spread, 0)
    return movedim(plane, (-2, -1), (first, second))
