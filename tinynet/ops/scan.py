"""Scans along one axis: ``cumsum``, ``cumprod`` and ``logcumsumexp``.

Each backward is a scan again (a reversed ``cumsum``), or, where a division or an
exponential would lose exactness, a masked ``n x n`` pairing of the scan's elements, so
zeros in ``cumprod`` and wide ranges in ``logcumsumexp`` stay exact to every order.

>>> import tinynet as tn
>>> tn.cumsum(tn.tensor([1.0, 2.0, 3.0]), dim=0).tolist()
[1.0, 3.0, 6.0]
"""

import numpy as np
from numpy.typing import DTypeLike

from tinynet._grad_mode import grad_mode
from tinynet.autograd import Function
from tinynet.ops._args import as_tensor, axes, dim_aliases, floating_input
from tinynet.ops.elementwise import cast, where
from tinynet.tensor import Tensor, TensorLike


def _flip(x: Tensor, axis: int) -> Tensor:
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _last(x: Tensor, axis: int) -> Tensor:
    """``x`` with ``axis`` moved to the end."""
    if axis == x.ndim - 1:
        return x
    order = [i for i in range(x.ndim) if i != axis] + [axis]
    return x.permute(*order)


def _back(x: Tensor, axis: int) -> Tensor:
    """The inverse of ``_last``."""
    if axis == x.ndim - 1:
        return x
    order = [i for i in range(x.ndim - 1)]
    order.insert(axis, x.ndim - 1)
    return x.permute(*order)


def _upper(n: int) -> np.ndarray:
    """``[i, j]`` is True where ``j >= i``: element ``i`` is part of scan result ``j``."""
    return np.triu(np.ones((n, n), dtype=bool))


def _moderate(values: np.ndarray) -> bool:
    """True when every ``|value|`` squares to a normal number: then dividing by it is exact
    enough at the second order too (a zero, an underflow or an overflow is not)."""
    info = np.finfo(values.dtype)
    magnitudes = np.abs(values)
    return bool(
        np.all(magnitudes >= np.sqrt(info.tiny)) and np.all(magnitudes <= np.sqrt(info.max))
    )


class CumSum(Function):
    display_name = "cumsum"

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, grad_output):
        return _flip(cumsum(_flip(grad_output, ctx.axis), ctx.axis), ctx.axis)


class CumProd(Function):
    display_name = "cumprod"
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumprod(x, axis=axis)

    @staticmethod
    def backward(ctx, grad_output):
        x, axis = ctx.inputs[0], ctx.axis
        # First order: a reversed scan over x. Its derivative would cancel two large terms
        # (cumprod is linear in each x_i), so higher orders take the exact pairing below.
        if not grad_mode.enabled and _moderate(x.data) and _moderate(ctx.output.data):
            reversed_sum = _flip(cumsum(_flip(grad_output * ctx.output, axis), axis), axis)
            return reversed_sum / x
        # d out_j / d x_i is the product of x_k for k <= j, k != i: the scan
        # of x with x_i replaced by 1, paired with every j >= i.
        moved, grad = _last(x, axis), _last(grad_output, axis)
        n = moved.shape[-1]
        pairs = moved.reshape(*moved.shape[:-1], 1, n).broadcast_to((*moved.shape, n))
        others = cumprod(where(np.eye(n, dtype=bool), 1.0, pairs), -1)
        weights = where(_upper(n), others, 0.0)
        return _back((weights * grad.reshape(*grad.shape[:-1], 1, n)).sum(-1), axis)


class LogCumSumExp(Function):
    display_name = "logcumsumexp"
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.logaddexp.accumulate(x, axis=axis)

    @staticmethod
    def backward(ctx, grad_output):
        # d out_j / d x_i = exp(x_i - out_j) for j >= i, at most 1 since out_j >= x_i.
        axis = ctx.axis
        moved, out = _last(ctx.inputs[0], axis), _last(ctx.output, axis)
        grad = _last(grad_output, axis)
        n = moved.shape[-1]
        gaps = moved.reshape(*moved.shape, 1) - out.reshape(*out.shape[:-1], 1, n)
        weights = where(_upper(n), gaps, -np.inf).exp()
        return _back((weights * grad.reshape(*grad.shape[:-1], 1, n)).sum(-1), axis)


# -- public functions -------------------------------------------------------------------------
def _scan(function, x, dim, dtype=None):
    x = as_tensor(x)
    if dtype is not None:
        x = cast(x, dtype)
    if x.ndim == 0:
        axes(dim, 1)  # validates dim
        return function.apply(x.reshape(1), 0).reshape(())
    (axis,) = axes(dim, x.ndim)
    return function.apply(x, axis)


@dim_aliases
def cumsum(x: TensorLike, dim: int, dtype: DTypeLike | None = None) -> Tensor:
    """Running sum along ``dim``; ``dtype`` casts the input first (as PyTorch).

    >>> import tinynet as tn
    >>> tn.cumsum(tn.tensor([[1, 2], [3, 4]]), dim=1).tolist()
    [[1, 3], [3, 7]]
    """
    return _scan(CumSum, x, dim, dtype)


@dim_aliases
def cumprod(x: TensorLike, dim: int, dtype: DTypeLike | None = None) -> Tensor:
    """Running product along ``dim``; exact gradients with zeros present.

    >>> import tinynet as tn
    >>> tn.cumprod(tn.tensor([2.0, 0.0, 3.0]), dim=0).tolist()
    [2.0, 0.0, 0.0]
    """
    return _scan(CumProd, x, dim, dtype)


@dim_aliases
def logcumsumexp(x: TensorLike, dim: int) -> Tensor:
    """Running ``log(sum(exp(x)))`` along ``dim``, stable for any finite input.

    >>> import tinynet as tn
    >>> tn.logcumsumexp(tn.tensor([1000.0, 1000.0], dtype=tn.float64), dim=0).tolist()
    [1000.0, 1000.6931471805599]
    """
    return _scan(LogCumSumExp, floating_input(x), dim)  # integers: the default float dtype
