"""Composite ops, written in primitive Tensor ops, so their derivatives of every order come free."""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence

import numpy as np

from tinynet import ops
from tinynet.errors import ShapeError
from tinynet.ops._args import (
    as_tensor,
    axes,
    binary,
    broadcast_error,
    dim_aliases,
    floating,
    keepdims_shape,
)
from tinynet.ops.pointwise import Celu
from tinynet.tensor import Axis, Tensor, TensorLike


@dim_aliases
def var(x: TensorLike, axis: Axis = None, correction: int = 1, keepdims: bool = False) -> Tensor:
    """Variance over ``axis`` with ``correction`` (1: unbiased, as PyTorch's default)."""
    x = as_tensor(x)
    reduced = axes(axis, x.ndim)
    count = x.numel() if reduced is None else math.prod(x.shape[i] for i in reduced)
    deviation = x - x.mean(reduced, keepdims=True)
    dof = count - correction
    # With no degrees of freedom left the variance is undefined: 0 * inf gives NaN, as PyTorch.
    return (deviation * deviation).sum(reduced, keepdims=keepdims) * (
        1.0 / dof if dof > 0 else math.inf
    )


@dim_aliases
def std(x: TensorLike, axis: Axis = None, correction: int = 1, keepdims: bool = False) -> Tensor:
    """Standard deviation over ``axis``: ``sqrt(var(x, axis, correction))``.

    Where the variance is 0 the gradient is 0 (as PyTorch), not ``0 * inf = nan``.
    """
    variance = var(x, axis, correction, keepdims)
    return ops.where(variance.data == 0, 0.0, variance.sqrt())


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


# == issue 11: more elementwise composites ======================================================
def rsqrt(x) -> Tensor:
    """Elementwise ``1 / sqrt(x)``.

    >>> import tinynet as tn
    >>> tn.rsqrt(tn.tensor([4.0])).tolist()
    [0.5]
    """
    return as_tensor(x) ** -0.5


def log2(x) -> Tensor:
    """Elementwise base-2 logarithm."""
    return ops.log(x) * (1.0 / math.log(2.0))


def log10(x) -> Tensor:
    """Elementwise base-10 logarithm."""
    return ops.log(x) * (1.0 / math.log(10.0))


def exp2(x) -> Tensor:
    """Elementwise ``2 ** x``."""
    return ops.exp(as_tensor(x) * math.log(2.0))


def lerp(input, end, weight) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` a number or a tensor.

    >>> import tinynet as tn
    >>> tn.lerp(tn.tensor([0.0, 1.0]), tn.tensor([2.0, 3.0]), 0.25).tolist()
    [0.5, 1.5]
    """
    input = as_tensor(input)
    return input + (ops.sub(end, input)) * weight


def _predicate(ufunc, name, doc):
    def predicate(x):
        return Tensor.wrap(np.asarray(ufunc(as_tensor(x).data)))

    predicate.__name__ = predicate.__qualname__ = name
    predicate.__doc__ = doc
    return predicate


isnan = _predicate(np.isnan, "isnan", "Elementwise ``x != x`` as a boolean tensor.")
isinf = _predicate(np.isinf, "isinf", "Elementwise ``x`` is +inf or -inf, as a boolean tensor.")
isfinite = _predicate(np.isfinite, "isfinite", "Elementwise ``x`` is neither inf nor NaN.")
logical_not = _predicate(
    np.logical_not, "logical_not", "Elementwise ``x == 0`` as a boolean tensor."
)


def _logical(ufunc, name):
    def logical(a, b):
        a, b = binary(a, b)
        try:
            return Tensor.wrap(np.asarray(ufunc(a.data, b.data)))
        except ValueError:
            raise broadcast_error(name, a.shape, b.shape) from None

    logical.__name__ = logical.__qualname__ = name
    logical.__doc__ = f"Elementwise ``{name}`` of truth values (nonzero is true), boolean result."
    return logical


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


# == issue 11: activations =======================================================================
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def silu(x) -> Tensor:
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``.

    >>> import tinynet as tn
    >>> round(tn.silu(tn.tensor([1.0])).item(), 6)
    0.731059
    """
    x = as_tensor(x)
    return x * ops.sigmoid(x)


swish = silu


def selu(x) -> Tensor:
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (as PyTorch)."""
    return ops.elu(x, _SELU_ALPHA) * _SELU_SCALE


def celu(x, alpha: float = 1.0) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``; continuously differentiable."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return Celu.apply(as_tensor(x), alpha)


def relu6(x) -> Tensor:
    """``min(max(x, 0), 6)``; the gradient is 0 at 0 and 6 (``hardtanh(x, 0, 6)``, as PyTorch)."""
    return ops.hardtanh(x, 0.0, 6.0)


def hardsigmoid(x) -> Tensor:
    """``relu6(x + 3) / 6``; the gradient is ``1/6`` strictly between -3 and 3, else 0."""
    return ops.hardtanh(as_tensor(x) * (1.0 / 6.0) + 0.5, 0.0, 1.0)


def mish(x) -> Tensor:
    """``x * tanh(softplus(x))``."""
    x = as_tensor(x)
    return x * ops.softplus(x).tanh()


def softsign(x) -> Tensor:
    """``x / (1 + |x|)``."""
    x = as_tensor(x)
    return x / (ops.abs(x) + 1.0)


def logsigmoid(x) -> Tensor:
    """``log(sigmoid(x))``, stable for any finite input: ``-softplus(-x)``."""
    return -ops.softplus(-as_tensor(x))


@dim_aliases
def softmin(x, dim: int = -1) -> Tensor:
    """Softmax of ``-x`` along ``dim``."""
    return ops.softmax(-as_tensor(x), dim)


@dim_aliases
def glu(x, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``x`` along ``dim`` times the sigmoid of the second.

    >>> import tinynet as tn
    >>> tn.glu(tn.tensor([[1.0, 2.0, 0.0, 0.0]])).tolist()
    [[0.5, 1.0]]
    """
    x = as_tensor(x)
    (axis,) = axes(dim, x.ndim)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: halving dimension {dim} needs an even length, got {x.shape[axis]}")
    half = x.shape[axis] // 2
    lead = (slice(None),) * axis
    return x[lead + (slice(0, half),)] * ops.sigmoid(x[lead + (slice(half, None),)])


# == issue 11: gathering along an axis (sort, scans of extremes, medians build on it) ============
def _index_array(index, name: str) -> np.ndarray:
    index = np.asarray(index.data if isinstance(index, Tensor) else index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got dtype {index.dtype}")
    return index.astype(np.int64, copy=False)


def _along(index: np.ndarray, axis: int, sizes: tuple) -> tuple:
    """The NumPy index tuple picking ``index`` along ``axis`` and position elsewhere.

    ``sizes`` are the input's lengths: an axis of length 1 there is broadcast (index 0).
    """
    parts = []
    for d, n in enumerate(index.shape):
        if d == axis:
            parts.append(index)
            continue
        shape = [1] * index.ndim
        shape[d] = n
        positions = np.arange(n) if sizes[d] != 1 else np.zeros(n, np.int64)
        parts.append(positions.reshape(shape))
    return tuple(parts)


def _check_bounds(index: np.ndarray, n: int, name: str, dim) -> None:
    if index.size and (index.min() < -n or index.max() >= n):
        bad = index.min() if index.min() < -n else index.max()
        raise IndexError(f"{name}: index {bad} is out of bounds for dimension {dim} of size {n}")


@dim_aliases
def take_along_axis(x, indices, axis: int) -> Tensor:
    """Pick ``indices`` along ``axis``, broadcasting the other axes (``numpy.take_along_axis``).

    >>> import tinynet as tn
    >>> x = tn.tensor([[10.0, 30.0, 20.0]])
    >>> tn.take_along_axis(x, tn.tensor([[1, 0]]), axis=1).tolist()
    [[30.0, 10.0]]
    """
    x = as_tensor(x)
    index = _index_array(indices, "take_along_axis")
    if index.ndim != x.ndim:
        raise ShapeError(
            f"take_along_axis: indices need as many dimensions as the input ({x.ndim}), "
            f"got {index.ndim}"
        )
    (axis,) = axes(axis, x.ndim)
    _check_bounds(index, x.shape[axis], "take_along_axis", axis)
    try:
        target = np.broadcast_shapes(
            tuple(1 if d == axis else n for d, n in enumerate(x.shape)), index.shape
        )
    except ValueError:
        raise ShapeError(
            f"take_along_axis: indices of shape {index.shape} do not broadcast with the "
            f"input's shape {x.shape} outside axis {axis}"
        ) from None
    index = np.broadcast_to(index, target)
    return ops.getitem(x, _along(index, axis, x.shape))


@dim_aliases
def gather(x, dim: int, index) -> Tensor:
    """``out[i][j] = x[i][index[i][j]]`` along ``dim`` (``torch.gather``); repeated indices
    accumulate their gradients.

    >>> import tinynet as tn
    >>> tn.gather(tn.tensor([[1.0, 2.0], [3.0, 4.0]]), 1, tn.tensor([[0, 0], [1, 0]])).tolist()
    [[1.0, 1.0], [4.0, 3.0]]
    """
    x = as_tensor(x)
    index = _index_array(index, "gather")
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
    _check_bounds(index, x.shape[axis], "gather", dim)
    return ops.getitem(x, _along(index, axis, tuple(0 for _ in x.shape)))


class _ValuesIndices(tuple):
    """``(values, indices)`` with both also as attributes, as PyTorch's return types."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def _int_tensor(array) -> Tensor:
    return Tensor.wrap(np.asarray(array, dtype=np.int64))


# == issue 11: sorting, order statistics, scans of extremes ======================================
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
        return _int_tensor(0)
    (axis,) = axes(dim, x.ndim)
    return _int_tensor(_argsort(x.data, axis, descending))


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
        return _ValuesIndices(x, _int_tensor(0))
    (axis,) = axes(dim, x.ndim)
    index = _argsort(x.data, axis, descending)
    return _ValuesIndices(take_along_axis(x, index, axis), _int_tensor(index))


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
        raise ValueError(f"topk: k={k} is out of range for a dimension of size {n}")
    if x.ndim == 0:
        return _ValuesIndices(x, _int_tensor(0))
    (axis,) = axes(dim, x.ndim)
    index = _argsort(x.data, axis, largest)
    index = np.take(index, np.arange(k), axis=axis)
    return _ValuesIndices(take_along_axis(x, index, axis), _int_tensor(index))


def _running_extreme(x, dim, accumulate):
    x = as_tensor(x)
    if x.ndim == 0:
        return _ValuesIndices(x * 1.0, _int_tensor(0))
    (axis,) = axes(dim, x.ndim)
    data = x.data
    running = accumulate(data, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    positions = np.arange(x.shape[axis]).reshape(shape)
    # The latest element equal to the running extreme (ties go to the last, as PyTorch).
    index = np.maximum.accumulate(np.where(data == running, positions, 0), axis=axis)
    return _ValuesIndices(take_along_axis(x, index, axis), _int_tensor(index))


@dim_aliases
def cummax(x, dim: int) -> tuple:
    """Running maximum along ``dim`` and where it is; ties pick the latest index.

    >>> import tinynet as tn
    >>> tn.cummax(tn.tensor([1.0, 3.0, 2.0, 3.0]), 0).indices.tolist()
    [0, 1, 1, 3]
    """
    return _running_extreme(x, dim, np.maximum.accumulate)


@dim_aliases
def cummin(x, dim: int) -> tuple:
    """Running minimum along ``dim`` and where it is; ties pick the latest index."""
    return _running_extreme(x, dim, np.minimum.accumulate)


@dim_aliases
def median(x, dim=None, keepdim: bool = False) -> Tensor | tuple:
    """The lower median (of an even count, the smaller middle value), as PyTorch.

    Without ``dim``: the median of all elements; with ``dim``: ``(values, indices)``.
    The gradient goes to the median element.

    >>> import tinynet as tn
    >>> tn.median(tn.tensor([4.0, 1.0, 3.0, 2.0])).item()
    2.0
    """
    x = as_tensor(x)
    if dim is None:
        flat = x.reshape(-1)
        if flat.shape[0] == 0:
            raise ValueError("median of an empty tensor is undefined")
        order = _argsort(flat.data, 0, False)
        return flat[int(order[(flat.shape[0] - 1) // 2])]
    if x.ndim == 0:
        return _ValuesIndices(x * 1.0, _int_tensor(0))
    (axis,) = axes(dim, x.ndim)
    n = x.shape[axis]
    if n == 0:
        raise ValueError("median of an empty dimension is undefined")
    order = _argsort(x.data, axis, False)
    index = np.take(order, [(n - 1) // 2], axis=axis)
    values = take_along_axis(x, index, axis)
    if not keepdim:
        values, index = values.reshape(*np.squeeze(index, axis).shape), np.squeeze(index, axis)
    return _ValuesIndices(values, _int_tensor(index))


_QUANTILE_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


@dim_aliases
def quantile(x, q, dim=None, keepdim: bool = False, interpolation: str = "linear") -> Tensor:
    """Quantiles ``q`` (a number or a 1-D sequence in [0, 1]) along ``dim`` (None: all),
    as ``torch.quantile``; a sequence ``q`` adds a leading dimension.

    >>> import tinynet as tn
    >>> tn.quantile(tn.tensor([1.0, 2.0, 3.0, 4.0]), 0.5).item()
    2.5
    """
    x = as_tensor(x)
    floating(x, "quantile")
    if interpolation not in _QUANTILE_METHODS:
        raise ValueError(
            f"quantile: interpolation must be one of {', '.join(_QUANTILE_METHODS)}, "
            f"got {interpolation!r}"
        )
    levels = np.asarray(q.data if isinstance(q, Tensor) else q, dtype=np.float64)
    if levels.ndim > 1:
        raise ValueError(f"quantile: q must be a number or 1-D, got {levels.ndim} dimensions")
    if levels.size and (levels.min() < 0 or levels.max() > 1):
        raise ValueError("quantile: q values must lie in [0, 1]")
    if dim is None:
        source, axis = x.reshape(-1), 0
    else:
        source = x
        (axis,) = axes(dim, max(x.ndim, 1))
        if x.ndim == 0:
            source = x.reshape(1)
    n = source.shape[axis]
    if n == 0:
        raise ValueError("quantile of an empty tensor is undefined")
    ordered = sort(source, axis).values
    rank = levels.reshape(-1) * (n - 1)
    below, above = np.floor(rank).astype(np.int64), np.ceil(rank).astype(np.int64)
    if interpolation == "lower":
        above = below
    elif interpolation == "higher":
        below = above
    elif interpolation == "nearest":
        below = above = np.round(rank).astype(np.int64)
    lead = (slice(None),) * axis
    low, high = ordered[lead + (below,)], ordered[lead + (above,)]
    fraction = rank - below if interpolation == "linear" else np.full(rank.shape, 0.5)
    shape = [1] * ordered.ndim
    shape[axis] = rank.size
    weight = fraction.reshape(shape).astype(x.dtype)
    result = low if (below == above).all() else low + (high - low) * weight
    # The q axis goes first; the reduced axis goes, or stays as 1 with keepdim.
    order = [axis] + [d for d in range(result.ndim) if d != axis]
    result = result.permute(*order)  # (q, rest...)
    if keepdim:
        kept = [1 if (dim is None or d == axis) else n_ for d, n_ in enumerate(x.shape)]
        result = result.reshape(rank.size, *kept)
    elif dim is None:
        result = result.reshape(rank.size)
    if levels.ndim == 0:
        result = result.reshape(*result.shape[1:])
    return result


@dim_aliases
def any(x, dim=None, keepdim: bool = False) -> Tensor:
    """True where some element along ``dim`` (None: all) is nonzero; a boolean tensor."""
    x = as_tensor(x)
    return Tensor.wrap(np.asarray(np.any(x.data, axis=axes(dim, x.ndim), keepdims=keepdim)))


@dim_aliases
def all(x, dim=None, keepdim: bool = False) -> Tensor:
    """True where every element along ``dim`` (None: all) is nonzero; a boolean tensor."""
    x = as_tensor(x)
    return Tensor.wrap(np.asarray(np.all(x.data, axis=axes(dim, x.ndim), keepdims=keepdim)))


# == issue 11: norms, normalize, einsum ============================================================
def _vector_norm(x: Tensor, p, reduced, keepdim: bool) -> Tensor:
    if p == 2:
        squares = (x * x).sum(reduced, keepdims=keepdim)
        # sqrt'(0) = inf times a zero gradient of the squares: the gradient at 0 is 0.
        return ops.where(squares.data == 0, 0.0, squares.sqrt())
    if p == 1:
        return ops.abs(x).sum(reduced, keepdims=keepdim)
    if p == math.inf:
        return ops.abs(x).max(reduced, keepdims=keepdim)
    if p == -math.inf:
        return ops.abs(x).min(reduced, keepdims=keepdim)
    if p == 0:
        return ops.sign(ops.abs(x)).sum(reduced, keepdims=keepdim)
    powers = (ops.abs(x) ** p).sum(reduced, keepdims=keepdim)
    if p > 0:
        return ops.where(powers.data == 0, 0.0, powers ** (1.0 / p))
    return powers ** (1.0 / p)


def _matrix_norm(x: Tensor, p, reduced: tuple, keepdim: bool) -> Tensor:
    rows, columns = reduced
    if p == "fro":
        return _vector_norm(x, 2, reduced, keepdim)
    if p in (1, -1, math.inf, -math.inf):
        # 1: the largest column sum of |x|; inf: the largest row sum; negative: the smallest.
        summed_axis, kept_axis = (rows, columns) if p in (1, -1) else (columns, rows)
        sums = ops.abs(x).sum(summed_axis, keepdims=True)
        extreme = sums.max if p > 0 else sums.min
        result = extreme(kept_axis, keepdims=True)
        return result if keepdim else squeeze(result, reduced)
    # 'nuc': the sum of the singular values; 2 and -2: the largest and the smallest.
    others = [d for d in range(x.ndim) if d not in reduced]
    singular = ops.svd(x.permute(*others, rows, columns), full_matrices=False)[1]
    if p == "nuc":
        result = singular.sum(-1)
    elif p in (2, -2):
        result = singular.max(-1) if p == 2 else singular.min(-1)
    else:
        raise ValueError(
            f"norm: unknown matrix norm p={p!r}; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf"
        )
    return result.reshape(keepdims_shape(x.shape, reduced)) if keepdim else result


@dim_aliases
def norm(x, p="fro", dim=None, keepdim: bool = False) -> Tensor:
    """Vector or matrix norm, as ``torch.norm``.

    ``dim`` None or an int: the vector ``p``-norm (``'fro'`` is 2) of all elements or along
    ``dim``; ``dim`` a pair: the matrix norm ``'fro'``, ``'nuc'``, 1, -1, 2, -2, ``inf`` or
    ``-inf`` over those two axes (``'nuc'`` and +-2 from the singular values). ``p`` may be any number for vectors (0 counts nonzeros). The gradient of a
    norm that is 0 is 0 (as PyTorch).

    >>> import tinynet as tn
    >>> tn.norm(tn.tensor([3.0, 4.0])).item()
    5.0
    >>> tn.norm(tn.tensor([[1.0, -2.0], [3.0, 4.0]]), p=1, dim=(0, 1)).item()
    6.0
    """
    x = as_tensor(x)
    reduced = axes(dim, x.ndim)
    if reduced is not None and len(reduced) == 2 and not isinstance(dim, int):
        if p not in ("fro", "nuc") and not isinstance(p, (int, float)):
            raise ValueError(f"norm: unknown matrix norm p={p!r}")
        return _matrix_norm(x, p, reduced, keepdim)
    if p == "fro":
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is a matrix norm; pass dim as a pair of axes")
    return _vector_norm(x, p, reduced, keepdim)


@dim_aliases
def normalize(x, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``x / max(norm(x, p, dim), eps)``: unit ``p``-norm slices along ``dim`` (as PyTorch).

    >>> import tinynet as tn
    >>> tn.normalize(tn.tensor([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """
    x = as_tensor(x)
    length = norm(x, p, dim, keepdim=True)
    return x / ops.clip(length, min=eps)


def _einsum_operands(equation: str, operands) -> tuple:
    """Parse ``equation``: the labels of each operand (ellipses expanded) and of the output."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {len(terms)} operand(s) in {equation!r}, got {len(operands)}")
    used = set(equation) - {".", ",", "-", ">"}
    if not builtins.all(c.isalpha() for c in used):
        raise ValueError(f"einsum: labels must be letters, got {equation!r}")
    spare = [chr(c) for c in range(ord("A"), ord("Z") + 1) if chr(c) not in used]
    spare += [chr(c) for c in range(ord("a"), ord("z") + 1) if chr(c) not in used]
    ellipsis_ndim = 0
    for term, operand in zip(terms, operands):
        if "..." in term:
            ellipsis_ndim = max(ellipsis_ndim, operand.ndim - len(term.replace("...", "")))
    broadcast = "".join(spare[:ellipsis_ndim])
    labels = []
    for term, operand in zip(terms, operands):
        if "..." in term:
            named = len(term) - 3
            term = term.replace("...", broadcast[len(broadcast) - (operand.ndim - named) :])
        if len(term) != operand.ndim:
            raise ValueError(
                f"einsum: {term!r} names {len(term)} axes for an operand of shape {operand.shape}"
            )
        labels.append(term)
    if arrow:
        output = output.replace("...", broadcast)
    else:  # implicit output: the labels used once, in alphabetical order, after the ellipsis
        counts = {c: "".join(labels).count(c) for c in set("".join(labels))}
        output = broadcast + "".join(
            sorted(c for c, k in counts.items() if k == 1 and c not in broadcast)
        )
    return labels, output


def _einsum_diagonal(x: Tensor, labels: str) -> tuple:
    """Take the diagonal of repeated labels (``'ii'``), so each label names one axis."""
    while len(set(labels)) != len(labels):
        label = next(c for c in labels if labels.count(c) > 1)
        first, second = (i for i, c in enumerate(labels) if c == label)
        x = diagonal(x, 0, first, second)
        labels = "".join(c for i, c in enumerate(labels) if i not in (first, second)) + label
    return x, labels


def _einsum_pair(a: Tensor, la: str, b: Tensor, lb: str, keep: set) -> tuple:
    """Contract two operands with one batched matmul; ``keep``: labels needed afterwards."""
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    only_a = [c for c in la if c not in lb]
    only_b = [c for c in lb if c not in la]
    a = a.permute(*[la.index(c) for c in batch + only_a + summed])
    b = b.permute(*[lb.index(c) for c in batch + summed + only_b])
    size = dict(zip(batch + only_a + summed, a.shape)) | dict(zip(batch + summed + only_b, b.shape))
    batch_shape = [size[c] for c in batch]
    m, k, n = (math.prod(size[c] for c in group) for group in (only_a, summed, only_b))
    product = a.reshape(*batch_shape, m, k) @ b.reshape(*batch_shape, k, n)
    out_labels = batch + only_a + only_b
    return product.reshape(*[size[c] for c in out_labels]), "".join(out_labels)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation as ``torch.einsum``: ``'ij,jk->ik'``, ``'ii->i'``, ``'...ij->...ji'``.

    Operands are contracted pairwise with batched matrix products, so the cost is that of
    the matmuls, not of the full index space.

    >>> import tinynet as tn
    >>> a, b = tn.ones(2, 3), tn.ones(3, 4)
    >>> tn.einsum("ij,jk->ik", a, b).shape
    (2, 4)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [as_tensor(t) for t in operands]
    if not tensors:
        raise ValueError("einsum needs at least one operand")
    labels, output = _einsum_operands(equation, tensors)
    if len(set(output)) != len(output) or set(output) - set("".join(labels)):
        raise ValueError(f"einsum: bad output labels {output!r} in {equation!r}")
    sizes: dict = {}
    for t, term in zip(tensors, labels):
        for c, n in zip(term, t.shape):
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise ShapeError(f"einsum: label {c!r} has lengths {sizes[c]} and {n}")
            sizes[c] = max(sizes.get(c, 1), n)
    work = []
    for t, term in zip(tensors, labels):
        t, term = _einsum_diagonal(t, term)
        target = tuple(sizes[c] for c in term)
        work.append([t.broadcast_to(target) if t.shape != target else t, term])
    # Sum labels found in one operand only and not in the output, before any product.
    for i, (t, term) in enumerate(work):
        elsewhere = set(output).union(*(set(w[1]) for j, w in enumerate(work) if j != i))
        lonely = tuple(d for d, c in enumerate(term) if c not in elsewhere)
        if lonely:
            work[i] = [
                t.sum(lonely),
                "".join(c for c in term if c not in set(term[d] for d in lonely)),
            ]
    t, term = work[0]
    for index in range(1, len(work)):
        other, other_term = work[index]
        keep = set(output).union(*(set(w[1]) for w in work[index + 1 :]))
        t, term = _einsum_pair(t, term, other, other_term, keep)
    lonely = tuple(d for d, c in enumerate(term) if c not in output)
    if lonely:
        t, term = t.sum(lonely), "".join(c for c in term if c in output)
    return t.permute(*[term.index(c) for c in output]) if term != output else t


# == issue 11: shape and movement ==================================================================
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
    """The diagonal of axes ``dim1`` and ``dim2`` (moved to the end), as ``torch.diagonal``.

    >>> import tinynet as tn
    >>> tn.diagonal(tn.tensor([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [1.0, 4.0]
    """
    x = as_tensor(x)
    first, second = axes(dim1, x.ndim)[0], axes(dim2, x.ndim)[0]
    if first == second:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, both are {dim1}")
    rest = [d for d in range(x.ndim) if d not in (first, second)]
    moved = x.permute(*rest, first, second)
    rows, columns = moved.shape[-2:]
    start_row, start_column = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_row, columns - start_column), 0)
    steps = np.arange(length)
    return moved[(Ellipsis, steps + start_row, steps + start_column)]


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
        raise TypeError(f"repeat_interleave: repeats must be integers, got dtype {counts.dtype}")
    if counts.ndim and counts.shape != (x.shape[axis],):
        raise ValueError(
            f"repeat_interleave: {counts.shape[0]} repeat counts for a dimension of length "
            f"{x.shape[axis]}"
        )
    if (counts < 0).any():
        raise ValueError("repeat_interleave: repeats must be non-negative")
    source = np.repeat(np.arange(x.shape[axis]), counts)
    return x[(slice(None),) * axis + (source,)]


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


# == issue 11: indexing and scatter ==================================================================
def _scatter_index(x: Tensor, dim, index, src, name: str) -> tuple:
    """Validate a scatter; return the axis, the NumPy index tuple and ``src`` cut to ``index``."""
    index = _index_array(index, name)
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
    _check_bounds(index, x.shape[axis], name, dim)
    index = np.where(index < 0, index + x.shape[axis], index)
    target = _along(index, axis, tuple(0 for _ in x.shape))
    if src.shape != index.shape:
        src = src[tuple(slice(0, m) for m in index.shape)]
    return axis, target, src


def _scattered(values: Tensor, target: tuple, shape: tuple) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``target`` (repeats accumulate)."""
    return ops.movement.IndexAdd.apply(values, target, shape)


def _occupied(target: tuple, shape: tuple) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[target] = True
    return mask


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


def _last_occurrence(target: tuple, shape: tuple) -> np.ndarray:
    """For each scattered element, True if no later element goes to the same place."""
    flat = np.ravel_multi_index(np.broadcast_arrays(*target), shape).ravel()
    last = np.zeros(flat.shape, dtype=bool)
    _, first_of_reversed = np.unique(flat[::-1], return_index=True)
    last[flat.size - 1 - first_of_reversed] = True
    return last.reshape(np.broadcast_shapes(*(t.shape for t in target)))


@dim_aliases
def scatter(x, dim: int, index, src=None, value=None, reduce=None) -> Tensor:
    """``x`` with ``src`` (or the number ``value``) written at ``index`` along ``dim``
    (``torch.scatter``). Where indices repeat, the last write wins, and only it gets a gradient.

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
    keep = _last_occurrence(target, x.shape)
    written = _scattered(ops.where(keep, src, 0.0), target, x.shape)
    return ops.where(_occupied(target, x.shape), written, x)


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
    occupied = _occupied(target, x.shape)
    counts = np.zeros(x.shape, np.int64)
    np.add.at(counts, target, 1)
    base = x if include_self else ops.where(occupied, 0.0, x)
    if reduce in ("sum", "mean"):
        total = base + _scattered(src, target, x.shape)
        if reduce == "sum":
            return total
        divisor = counts + (1 if include_self else 0)
        return total / np.maximum(divisor, 1).astype(x.dtype)
    if reduce == "prod":
        return _scatter_prod(x, target, src, occupied, include_self)
    return _scatter_extreme(x, target, src, occupied, include_self, reduce)


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
    pick = np.maximum if reduce == "amax" else np.minimum
    extreme = np.full(x.shape, -np.inf if reduce == "amax" else np.inf, dtype=x.dtype)
    pick.at(extreme, target, src.data)
    if include_self:
        extreme = np.where(occupied, pick(extreme, x.data), x.data)
    else:
        extreme = np.where(occupied, extreme, x.data)
    winners_src = src.data == extreme[target]
    ties = np.zeros(x.shape, dtype=x.dtype)
    np.add.at(ties, target, winners_src.astype(x.dtype))
    self_wins = (x.data == extreme) & (include_self | ~occupied)
    ties = ties + self_wins
    share = 1.0 / np.maximum(ties, 1)
    from_src = _scattered(ops.where(winners_src, src, 0.0), target, x.shape)
    return (from_src + ops.where(self_wins, x, 0.0)) * share.astype(x.dtype)


@dim_aliases
def index_select(x, dim: int, index) -> Tensor:
    """The slices at ``index`` (1-D) along ``dim``; repeated indices accumulate gradients."""
    x = as_tensor(x)
    index = _index_array(index, "index_select")
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 0-D or 1-D, got {index.ndim} dimensions")
    (axis,) = axes(dim, max(x.ndim, 1))
    if x.ndim == 0:
        return x.reshape(1)[index.reshape(-1)]
    _check_bounds(index, x.shape[axis], "index_select", dim)
    return x[(slice(None),) * axis + (index.reshape(-1),)]


def _mask_array(mask, name: str) -> np.ndarray:
    mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{name}: mask must be a boolean tensor, got dtype {mask.dtype}")
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
    found = np.nonzero(np.atleast_1d(data)) if data.ndim == 0 else np.nonzero(data)
    if as_tuple:
        return tuple(_int_tensor(i) for i in found)
    return _int_tensor(np.stack(found, axis=1) if data.ndim else np.zeros((int(bool(data)), 0)))


def one_hot(x, num_classes: int = -1) -> Tensor:
    """Integer class labels as one-hot int64 rows (``num_classes=-1``: the largest label + 1).

    >>> import tinynet as tn
    >>> tn.one_hot(tn.tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    labels = _index_array(as_tensor(x), "one_hot")
    if labels.size and labels.min() < 0:
        raise ValueError("one_hot: class labels must be non-negative")
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"one_hot: label {labels.max()} is out of range for {num_classes} classes")
    return _int_tensor(np.arange(num_classes) == labels[..., None])
