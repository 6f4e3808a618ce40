"""Statistics of a sample: var_mean, std_mean, cov, corrcoef, count_nonzero, bincount."""

from __future__ import annotations

import numpy as np

from tinynet import ops
from tinynet.autograd import traced_call, traced_check
from tinynet.errors import ArgumentError, DTypeError
from tinynet.functional.basic import std, var
from tinynet.functional.shape import diagonal
from tinynet.ops._args import (
    as_tensor,
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
