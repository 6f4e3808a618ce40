"""Statistics of a sample: var_mean, std_mean, cov, corrcoef, count_nonzero, bincount,
aminmax, nansum, nanmean, histc, histogram; trapezoid (the trapezoidal rule)."""

from __future__ import annotations

from operator import index as operator_index

import numpy as np

from tinynet import ops
from tinynet.autograd import traced_call, traced_check
from tinynet.errors import ArgumentError, DTypeError
from tinynet.functional.basic import std, var
from tinynet.functional.shape import diagonal
from tinynet.ops._args import (
    as_tensor,
    axes,
    dim_aliases,
    floating_input,
    guard_size,
    reduction_axes,
)
from tinynet.tensor import Axis, Tensor, TensorLike


@dim_aliases
def var_mean(
    x: TensorLike,
    axis: Axis = None,
    correction: int = 1,
    keepdims: bool = False,
    *,
    unbiased: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """``(var(x, ...), mean(x, ...))`` in one call, as ``torch.var_mean``.

    >>> import tinynet as tn
    >>> variance, mean = tn.var_mean(tn.tensor([1.0, 2.0, 3.0]))
    >>> variance.item(), mean.item()
    (1.0, 2.0)
    """
    x = floating_input(x)
    variance = var(x, axis, correction, keepdims, unbiased=unbiased)
    return variance, ops.mean(x, axis, keepdims)


@dim_aliases
def std_mean(
    x: TensorLike,
    axis: Axis = None,
    correction: int = 1,
    keepdims: bool = False,
    *,
    unbiased: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """``(std(x, ...), mean(x, ...))`` in one call, as ``torch.std_mean``.

    >>> import tinynet as tn
    >>> deviation, mean = tn.std_mean(tn.tensor([1.0, 3.0]), correction=0)
    >>> deviation.item(), mean.item()
    (1.0, 2.0)
    """
    x = floating_input(x)
    deviation = std(x, axis, correction, keepdims, unbiased=unbiased)
    return deviation, ops.mean(x, axis, keepdims)


def _observations(x: Tensor) -> Tensor:
    if x.ndim > 2:
        raise ValueError(
            f"cov: expected a tensor of at most 2 dimensions (variables by observations), "
            f"got shape {x.shape}"
        )
    return x.reshape(1, -1) if x.ndim < 2 else x


def _weights(fweights, aweights, count: int) -> Tensor | None:
    weights = None
    for name, given in (("fweights", fweights), ("aweights", aweights)):
        if given is None:
            continue
        w = as_tensor(given)
        if w.ndim > 1 or w.numel() != count:
            raise ValueError(
                f"cov: {name} must be a 1-D tensor of {count} values (one per observation), "
                f"got shape {w.shape}"
            )
        if name == "fweights" and w.data.dtype.kind not in "iu":
            raise DTypeError(f"cov: fweights must be integers, got dtype {w.dtype}")
        if not traced_check(_non_negative, w.data):
            raise ArgumentError(f"cov: {name} cannot be negative")
        weights = w if weights is None else weights * w
    return weights


def cov(x: TensorLike, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """Covariance matrix of the variables in the rows of ``x`` (observations in columns),
    as ``torch.cov``: frequency and importance weights, ``correction`` as ``np.cov``'s ddof.

    One variable (a 1-D ``x``, or a single row) gives a 0-d variance.

    >>> import tinynet as tn
    >>> tn.cov(tn.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    x = floating_input(x)
    rows = _observations(x)
    count = rows.shape[1]
    weights = _weights(fweights, aweights, count)
    scale: float | Tensor
    if weights is None:
        centered = rows - rows.mean(1, keepdims=True)
        product = centered @ centered.transpose(0, 1)
        scale = max(count - correction, 0.0)  # none left: PyTorch divides by 0 (inf, NaN)
    else:
        weights = weights.astype(rows.dtype)
        total = weights.sum()
        centered = rows - (rows * weights).sum(1, keepdims=True) / total
        product = (centered * weights) @ centered.transpose(0, 1)
        if aweights is not None:  # np.cov's and PyTorch's degrees of freedom with them
            importance = as_tensor(aweights).astype(rows.dtype)
            scale = total - (weights * importance).sum() * (correction / total)
        else:
            scale = total - correction
        scale = ops.clip(scale, min=0.0)
    result = product / scale
    return result.reshape(()) if result.shape == (1, 1) else result  # one variable: 0-d


def corrcoef(x: TensorLike) -> Tensor:
    """Pearson correlation coefficients of the variables in the rows of ``x``, as
    ``torch.corrcoef``: ``cov(x)`` divided by the outer product of the standard deviations,
    limited to [-1, 1] (values beyond it, made by rounding, get no gradient, as ``clip``).

    >>> import tinynet as tn
    >>> tn.corrcoef(tn.tensor([[0.0, 1.0, 2.0], [4.0, 2.0, 0.0]])).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    c = cov(x)
    if c.ndim == 0:
        return c / c
    deviations = diagonal(c).sqrt()
    c = c / deviations.reshape(-1, 1) / deviations.reshape(1, -1)
    # clip(c, -1, 1) with clip's gradient, written as a choice: the bounds are met only by
    # rounding (|r| <= 1 exactly), so no kink is declared here.
    beyond = traced_call(_beyond_one, c.data)  # traced: a tn.compile replay's own
    return ops.where(beyond, Tensor.wrap(traced_call(np.sign, c.data)), c)


def _beyond_one(c: np.ndarray) -> np.ndarray:
    return np.abs(c) > 1


@dim_aliases
def count_nonzero(x: TensorLike, axis: Axis = None) -> Tensor:
    """The number of nonzero elements over ``axis`` (None: all), an int64 tensor, as
    ``torch.count_nonzero``.

    >>> import tinynet as tn
    >>> tn.count_nonzero(tn.tensor([[0, 1], [2, 3]]), dim=0).tolist()
    [1, 2]
    """
    x = as_tensor(x)
    reduced = reduction_axes(axis, x.ndim)
    return Tensor.wrap(traced_call(_count, x.data, reduced))


def _count(data: np.ndarray, axis) -> np.ndarray:
    return np.asarray(np.count_nonzero(data, axis=axis), dtype=np.int64)


def bincount(x: TensorLike, weights: TensorLike | None = None, minlength: int = 0) -> Tensor:
    """How often each value ``0, 1, ...`` occurs in the 1-D non-negative integer ``x``
    (summing ``weights`` instead of ones if given), as ``torch.bincount``.

    The length is ``max(max(x) + 1, minlength)``; int64 counts, float32 sums for float32
    weights and float64 otherwise. Not differentiable.

    >>> import tinynet as tn
    >>> tn.bincount(tn.tensor([0, 2, 2]), minlength=4).tolist()
    [1, 0, 2, 0]
    """
    values = as_tensor(x).data
    if values.ndim != 1 or values.dtype.kind not in "iu" or not traced_check(_non_negative, values):
        raise RuntimeError(
            f"bincount only supports 1-d non-negative integral inputs, got shape "
            f"{values.shape} and dtype {values.dtype}"
        )
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    # Traced calls: a tn.compile replay counts each call's values (while the largest one
    # keeps the length; otherwise it runs eagerly and records again).
    if weights is None:
        return Tensor.wrap(guard_size(traced_call(_counts, values, minlength)))
    w = as_tensor(weights).data
    if w.shape != values.shape:
        raise RuntimeError(
            f"bincount: weights should be 1-d and have the same length as input, got "
            f"shapes {w.shape} and {values.shape}"
        )
    dtype = np.float32 if w.dtype == np.float32 else np.float64
    return Tensor.wrap(guard_size(traced_call(_sums, values, w, minlength, dtype)))


def _non_negative(values: np.ndarray) -> bool:
    return not (values < 0).any()


def _counts(values: np.ndarray, minlength: int) -> np.ndarray:
    return np.bincount(values, minlength=minlength).astype(np.int64)


def _sums(values: np.ndarray, weights: np.ndarray, minlength: int, dtype) -> np.ndarray:
    return np.bincount(values, weights, minlength=minlength).astype(dtype)


class _MinMax(tuple):
    """``(min, max)`` with both also as attributes, as PyTorch's ``aminmax`` returns."""

    _fields = ("min", "max")  # a namedtuple to tn.func, which rebuilds it by fields

    def __new__(cls, min, max):
        return super().__new__(cls, (min, max))

    @property
    def min(self) -> Tensor:
        return self[0]

    @property
    def max(self) -> Tensor:
        return self[1]


@dim_aliases
def aminmax(x: TensorLike, *, dim: int | None = None, keepdim: bool = False) -> tuple:
    """``(amin(x, dim), amax(x, dim))`` in one call, as ``torch.aminmax``: a pair with
    fields ``min`` and ``max``; ties share each gradient evenly, as ``amin``/``amax``.

    >>> import tinynet as tn
    >>> low, high = tn.aminmax(tn.tensor([[1.0, 5.0], [3.0, -2.0]]), dim=1)
    >>> low.tolist(), high.tolist()
    ([1.0, -2.0], [5.0, 3.0])
    """
    x = as_tensor(x)
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"aminmax(): dim must be one int or None, got {dim!r}")
    if x.numel() == 0 and (dim is None or x.ndim == 0 or x.shape[dim] == 0):
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has "
            "no identity"
        )
    return _MinMax(ops.amin(x, dim, keepdim), ops.amax(x, dim, keepdim))


def _without_nan(x: Tensor) -> Tensor:
    """``x`` with its NaN replaced by 0, which they get no gradient through."""
    if x.data.dtype.kind != "f":
        return x
    return ops.where(traced_call(np.isnan, x.data), 0.0, x)


@dim_aliases
def nansum(x: TensorLike, axis: Axis = None, keepdims: bool = False, *, dtype=None) -> Tensor:
    """The sum over ``axis`` (None: all) treating NaN as zero, as ``torch.nansum``; NaN
    elements get no gradient.

    >>> import tinynet as tn
    >>> tn.nansum(tn.tensor([1.0, float("nan"), 2.0])).item()
    3.0
    """
    return _without_nan(as_tensor(x)).sum(axis, keepdims, dtype=dtype)


@dim_aliases
def nanmean(x: TensorLike, axis: Axis = None, keepdims: bool = False, *, dtype=None) -> Tensor:
    """The mean over ``axis`` (None: all) of the elements that are not NaN, as
    ``torch.nanmean`` (NaN where all are); floating input only. NaN elements get no
    gradient.

    >>> import tinynet as tn
    >>> tn.nanmean(tn.tensor([[1.0, float("nan")], [2.0, 4.0]]), dim=1).tolist()
    [1.0, 3.0]
    """
    x = as_tensor(x)
    if x.data.dtype.kind != "f":
        raise DTypeError(
            f"nanmean(): expected a floating input, got dtype {x.dtype}; convert with "
            ".float() first"
        )
    total = nansum(x, axis, keepdims, dtype=dtype)
    reduced = reduction_axes(axis, x.ndim)
    counts = traced_call(_present, x.data, reduced, keepdims, total.data.dtype)
    return total / Tensor.wrap(counts)


def _present(data: np.ndarray, reduced, keepdims: bool, dtype: np.dtype) -> np.ndarray:
    """How many values are not NaN, over the ``reduced`` axes, in ``dtype``."""
    return np.asarray(np.sum(~np.isnan(data), axis=reduced, keepdims=keepdims), dtype=dtype)


def _histogram_data(x: TensorLike, name: str) -> np.ndarray:
    data = as_tensor(x).data
    if data.dtype.kind != "f":
        raise DTypeError(
            f"{name}: expected a floating input, got dtype {data.dtype}; convert with "
            ".float() first"
        )
    return data


def histc(x: TensorLike, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts of ``x`` in ``bins`` equal bins over ``[min, max]``, as ``torch.histc``: values
    outside and NaN are ignored, the last bin includes ``max``; ``min == max`` takes the
    data's range (widened by 1 each way if that is one point). The counts have ``x``'s
    dtype. Not differentiable.

    >>> import tinynet as tn
    >>> tn.histc(tn.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3).tolist()
    [0.0, 2.0, 1.0, 0.0]
    """
    data = _histogram_data(x, "histc")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins}")
    # Traced: the range may come from the values (tn.compile finds it again each call).
    return Tensor.wrap(traced_call(_histc_counts, data, bins, float(min), float(max)))


def _histc_counts(data: np.ndarray, bins: int, low: float, high: float) -> np.ndarray:
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{low}, {high}] is not finite")
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    counts, _ = _numpy_histogram(data, bins, (low, high))
    return counts.astype(data.dtype)


class _Histogram(tuple):
    """``(hist, bin_edges)`` with both also as attributes, as PyTorch's ``histogram``."""

    _fields = ("hist", "bin_edges")

    def __new__(cls, hist, bin_edges):
        return super().__new__(cls, (hist, bin_edges))

    @property
    def hist(self) -> Tensor:
        return self[0]

    @property
    def bin_edges(self) -> Tensor:
        return self[1]


def histogram(x: TensorLike, bins=100, *, range=None, weight=None, density: bool = False) -> tuple:
    """``(hist, bin_edges)`` of ``x``, as ``torch.histogram`` and ``numpy.histogram``:
    ``bins`` equal bins over ``range`` (None: the data's) or the increasing edges of a 1-D
    tensor; the last bin includes its right edge, values outside are ignored. ``weight``
    (``x``'s shape) sums weights instead of ones; ``density`` divides by the total and the
    bin widths. Both in ``x``'s dtype. Not differentiable.

    >>> import tinynet as tn
    >>> hist, edges = tn.histogram(tn.tensor([1.0, 2.0, 1.0]), bins=4, range=(0.0, 3.0))
    >>> hist.tolist(), edges.tolist()
    ([0.0, 2.0, 1.0, 0.0], [0.0, 0.75, 1.5, 2.25, 3.0])
    """
    data = _histogram_data(x, "histogram")
    if isinstance(bins, Tensor):
        bins = bins.data
        if bins.ndim != 1 or bins.size < 1:
            raise RuntimeError(
                f"torch.histogram(): bins must be a 1-D tensor of edges, got shape {bins.shape}"
            )
        if (np.diff(bins) < 0).any():
            raise ValueError("torch.histogram(): bin edges must increase monotonically")
    elif operator_index(bins) <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins}")
    weights = None if weight is None else as_tensor(weight).data
    if weights is not None and weights.shape != data.shape:
        raise RuntimeError(
            f"torch.histogram(): weight of shape {weights.shape} must have the input's "
            f"shape {data.shape}"
        )
    found = [
        traced_call(_histogram_part, data, bins, range, weights, density, part) for part in (0, 1)
    ]
    return _Histogram(*(Tensor.wrap(array) for array in found))


def _histogram_part(data: np.ndarray, bins, range, weights, density: bool, part: int):
    """``numpy.histogram``'s counts (``part`` 0) or edges (1), in ``data``'s dtype; traced
    (tn.compile finds them again each call), as the edges may come from the values."""
    found = _numpy_histogram(data, bins, range, weights, density)[part]
    return found.astype(data.dtype)


def _numpy_histogram(data: np.ndarray, bins, range, weights=None, density: bool = False):
    """``np.histogram``; where the range is too narrow for the dtype to make its edges (a
    subnormal range), the bins in float64 (their edges may then repeat in ``data``'s dtype,
    as PyTorch's do)."""
    try:
        return np.histogram(data, bins, range=range, weights=weights, density=density)
    except ValueError as error:
        if "finite-sized bins" not in str(error) or data.dtype == np.float64:
            raise
        wide = data.astype(np.float64)
        return np.histogram(wide, bins, range=range, weights=weights, density=density)


@dim_aliases
def trapezoid(y: TensorLike, x: TensorLike | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``: ``sum((y[i + 1] + y[i]) / 2 * step)``, the steps
    ``diff(x)`` (``x`` 1-D, or shaped as ``y``) or ``dx`` (default 1), as
    ``torch.trapezoid``; fewer than two points give 0.

    >>> import tinynet as tn
    >>> tn.trapezoid(tn.tensor([1.0, 2.0, 3.0]), dx=0.5).item()
    2.0
    """
    y = as_tensor(y)
    if y.ndim == 0:
        raise IndexError("trapezoid: y must have at least one dimension")
    if x is not None and dx is not None:
        raise TypeError("trapezoid takes x or dx, not both")
    (axis,) = axes(dim, y.ndim)
    length = y.shape[axis]
    lead = (slice(None),) * axis
    later, earlier = y[lead + (slice(1, length),)], y[lead + (slice(0, length - 1),)]
    if x is None:
        step = 1.0 if dx is None else dx
    else:
        x = as_tensor(x)
        if x.ndim == 1:
            if x.shape[0] != length:
                raise RuntimeError(
                    f"trapezoid: x has {x.shape[0]} points, y has {length} along dim {dim}"
                )
            step = (x[1:] - x[:-1]).reshape(-1, *(1,) * (y.ndim - 1 - axis))
        else:
            (x_axis,) = axes(dim, x.ndim)
            n = x.shape[x_axis]
            x_lead = (slice(None),) * x_axis
            step = x[x_lead + (slice(1, n),)] - x[x_lead + (slice(0, n - 1),)]
    return ops.sum(ops.mul(ops.add(later, earlier), step), axis) * 0.5
