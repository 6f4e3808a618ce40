"""Reductions and the normalizations over an axis (softmax, log_softmax, logsumexp)."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from tinynet._grad_mode import grad_mode
from tinynet.autograd import Function, traced_call
from tinynet.errors import ShapeError
from tinynet.ops._args import (
    as_tensor,
    axes,
    dim_aliases,
    floating_input,
    keepdims_shape,
    reduction_axes,
)
from tinynet.ops.elementwise import maximum, minimum
from tinynet.ops.movement import row_totals
from tinynet.tensor import Axis, Tensor, TensorLike


def _expand_back(grad_output: Tensor, ctx) -> Tensor:
    """``grad_output`` reshaped to keep the reduced axes, ready to broadcast over the input."""
    if ctx.keepdims or grad_output.ndim == 0:  # a 0-d gradient broadcasts as it is
        return grad_output
    return grad_output.reshape(_kept_shape(ctx))


def _spread(grad_output: Tensor, ctx, scale: float) -> Tensor:
    """The gradient of a sum (times ``scale``): ``grad_output`` broadcast over the input."""
    shape = ctx.inputs[0].data.shape
    if not grad_mode.enabled:  # first-order fast path: one broadcast view, no recorded ops
        g = grad_output.data
        if scale != 1.0:
            g = g * g.dtype.type(scale)
        if g.ndim == 0:  # a full reduction (loss.sum(), loss.mean()): the common case
            view = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
            view.setflags(write=False)
            return Tensor.wrap(view)
        kept_shape = g.shape if ctx.keepdims else _kept_shape(ctx)
        return Tensor.wrap(_broadcast_view(g, kept_shape, shape))
    grad = _expand_back(grad_output, ctx)
    return (grad * scale if scale != 1.0 else grad).broadcast_to(shape)


def _broadcast_view(g, kept_shape: tuple, shape: tuple) -> np.ndarray:
    """``np.broadcast_to(g.reshape(kept_shape), shape)``: the same read-only view, built
    directly. np.broadcast_to's Python-level checks (~1.8 µs) outweigh the rest of a small
    reduction's backward. ``kept_shape``: ``shape`` with each reduced axis set to 1."""
    if not g.flags.c_contiguous or g.size == 0:
        return np.broadcast_to(g.reshape(kept_shape), shape)
    strides = [0] * len(shape)  # 0 along the reduced axes: each value repeats there
    step = g.itemsize
    for axis in range(len(shape) - 1, -1, -1):
        if kept_shape[axis] != 1:
            strides[axis] = step
            step *= kept_shape[axis]
    view = np.ndarray(shape, g.dtype, g, 0, tuple(strides))
    view.setflags(write=False)
    return view


def _reduced_shape(shape: tuple, axis) -> tuple:
    return () if axis is None else tuple(n for i, n in enumerate(shape) if i not in axis)


def _setup(ctx, x, axis, keepdims):
    ctx.axis = axis = None if axis is None else reduction_axes(axis, x.ndim)
    ctx.keepdims = keepdims
    return axis


def _kept_shape(ctx) -> tuple:
    """The input's shape with the reduced axes set to 1 (backward's; forward has no need)."""
    return keepdims_shape(ctx.inputs[0].data.shape, ctx.axis)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        # x.sum(...) without ndarray.sum's Python-level wrapper
        out = np.add.reduce(x, axis=_setup(ctx, x, axis, keepdims), keepdims=keepdims)
        return out if type(out) is np.ndarray else np.asarray(out)  # a full sum is a scalar

    @staticmethod
    def backward(ctx, grad_output):
        return _spread(grad_output, ctx, 1.0)


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axis = _setup(ctx, x, axis, keepdims)
        if x.dtype.type not in (np.float32, np.float64):  # np.mean widens float16 sums
            out = np.mean(x, axis=axis, keepdims=keepdims)
            ctx.count = x.size // builtins.max(out.size, 1)
            return out
        # sum / count, as np.mean computes it, without np.mean's Python-level overhead
        out = np.asarray(np.add.reduce(x, axis=axis, keepdims=keepdims))  # x.sum(...)
        ctx.count = x.size // builtins.max(out.size, 1)
        return np.true_divide(out, ctx.count, out=out) if out.ndim else out / ctx.count

    @staticmethod
    def backward(ctx, grad_output):
        return _spread(grad_output, ctx, 1.0 / builtins.max(ctx.count, 1))


class _Extreme(Function):
    """max / min over axes; ties share the gradient evenly (as PyTorch's amax/amin)."""

    reduce: Any = None  # np.ndarray.max or np.ndarray.min

    @classmethod
    def forward(cls, ctx, x, axis, keepdims):
        axis = _setup(ctx, x, axis, keepdims)
        if x.size == 0:
            _refuse_empty(cls.__name__.lower(), x.shape, axis)
        out = cls.reduce(x, axis=axis, keepdims=keepdims)
        ctx.output_kept = out if keepdims else np.reshape(out, keepdims_shape(x.shape, ctx.axis))
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0].data
        winners = x == ctx.output_kept
        weight = winners / winners.sum(axis=ctx.axis, keepdims=True)
        return _expand_back(grad_output, ctx) * Tensor.wrap(weight.astype(x.dtype, copy=False))


def _refuse_empty(name: str, shape: tuple, axis) -> None:
    """PyTorch's errors for an extreme with no element to pick; an empty tensor reduced over
    axes of non-zero length has an empty result and passes."""
    if axis is None:
        raise ShapeError(
            f"{name}() of an empty tensor (shape {shape}) has no value; give the axis to "
            "reduce with dim= (an empty result), or check the input is not empty"
        )
    for a in axis:
        if shape[a] == 0:
            raise IndexError(
                f"{name}(): expected reduction dim {a} to have non-zero size, got shape {shape}"
            )


class Max(_Extreme):
    reduce = staticmethod(np.ndarray.max)
    kinks = staticmethod(lambda x, axis, keepdims: [("a tie", _lead(x, axis))])


class Min(_Extreme):
    reduce = staticmethod(np.ndarray.min)
    kinks = staticmethod(lambda x, axis, keepdims: [("a tie", _lead(-np.asarray(x), axis))])


def _lead(x, axis) -> np.ndarray:
    """Per element, how far it is above the largest *other* element of its reduced slice:
    the kink coordinate of max/min, zero on a tie, changing sign when the winner changes.
    """
    x = np.asarray(x, np.float64)
    reduced = tuple(range(x.ndim)) if axis is None else normalize_axis_tuple(axis, x.ndim)
    kept = [i for i in range(x.ndim) if i not in reduced]
    order = kept + list(reduced)
    moved = np.transpose(x, order)
    n = int(np.prod(moved.shape[len(kept) :], dtype=np.int64))
    if n < 2:
        return np.full(x.shape, np.inf)  # a slice of one element always wins
    flat = moved.reshape(moved.shape[: len(kept)] + (n,))
    top_two = -np.partition(-flat, 1, axis=-1)[..., :2]
    first, second = top_two[..., 0:1], top_two[..., 1:2]
    others = np.where((flat == first) & (first > second), second, first)
    return np.transpose((flat - others).reshape(moved.shape), np.argsort(order))


class Prod(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        return x.prod(axis=_setup(ctx, x, axis, keepdims), keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        grad = _expand_back(grad_output, ctx)
        out = _expand_back(ctx.output, ctx)
        # out / x is the product of the others only while out is a normal number: an
        # underflowed or overflowed product (or a zero in x) takes the exact route.
        tiny = np.finfo(out.data.dtype).tiny
        if np.all(x.data != 0) and np.all(np.isfinite(out.data) & (np.abs(out.data) >= tiny)):
            return grad * (out / x)
        return grad * _product_of_others(x, ctx.axis)


def _product_of_others(x: Tensor, axis) -> Tensor:
    """For each element, the product of the other elements of its reduced slice.

    Built from exclusive prefix and suffix products in Tensor ops, so it is exact with
    zeros in ``x`` and differentiable again.
    """
    reduced = tuple(range(x.ndim)) if axis is None else axis
    kept = tuple(i for i in range(x.ndim) if i not in reduced)
    order = kept + reduced
    moved = x.permute(order)
    kept_shape = moved.shape[: len(kept)]
    n = int(np.prod(moved.shape[len(kept) :], dtype=np.int64))
    flat = moved.reshape(*kept_shape, n)
    ones = Tensor.wrap(np.ones(kept_shape + (1,), x.dtype))
    prefix, suffix = [ones], [ones]
    for i in range(1, n):
        prefix.append(prefix[-1] * flat[..., i - 1 : i])
        suffix.append(suffix[-1] * flat[..., n - i : n - i + 1])
    from tinynet.ops.movement import concatenate

    others = concatenate(prefix, axis=-1) * concatenate(suffix[::-1], axis=-1)
    inverse = np.argsort(order)
    return others.reshape(*moved.shape).permute(tuple(inverse))


class LogSumExp(Function):
    saves_output = True
    display_name = "logsumexp"

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axis = _setup(ctx, x, axis, keepdims)
        shift = x.max(axis=axis, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0)
        out = np.log(np.exp(x - shift).sum(axis=axis, keepdims=True)) + shift
        return out if keepdims else out.reshape(_reduced_shape(x.shape, axis))

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        softmax_x = (x - _expand_back(ctx.output, ctx)).exp()
        return _expand_back(grad_output, ctx) * softmax_x


def _normalizer(exps: np.ndarray, axis: tuple) -> np.ndarray:
    """``exps.sum(axis, keepdims=True)``; the rows of a 2-D array (logits) as the fused
    losses sum them (``row_totals``), so both forms give the same bits."""
    if exps.ndim == 2 and axis == (1,):
        return row_totals(exps)
    return exps.sum(axis=axis, keepdims=True)


class Softmax(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = reduction_axes(axis, x.ndim)
        e = np.exp(x - x.max(axis=ctx.axis, keepdims=True))
        e /= _normalizer(e, ctx.axis)
        return e

    @staticmethod
    def backward(ctx, grad_output):
        y = ctx.output
        return y * (grad_output - (grad_output * y).sum(ctx.axis, keepdims=True))


class LogSoftmax(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = reduction_axes(axis, x.ndim)
        shifted = x - x.max(axis=ctx.axis, keepdims=True)
        shifted -= np.log(_normalizer(np.exp(shifted), ctx.axis))
        return shifted

    @staticmethod
    def backward(ctx, grad_output):
        # first-order fast path: the same formula in NumPy (not for a 0-d output, whose exp
        # is a NumPy scalar that out= cannot write into)
        if not grad_mode.enabled and ctx.output.data.ndim:
            g = grad_output.data
            softmax_x = np.exp(ctx.output.data)
            softmax_x *= g.sum(axis=ctx.axis, keepdims=True)
            return Tensor.wrap(np.subtract(g, softmax_x, out=softmax_x))
        softmax_x = ctx.output.exp()
        return grad_output - softmax_x * grad_output.sum(ctx.axis, keepdims=True)


# -- public functions -------------------------------------------------------------------------
def _reduction(function, name, doc, floating: bool = False):
    """The public function of a reduction; ``floating``: integers give the default dtype."""
    convert = floating_input if floating else as_tensor

    def reduce(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return function.apply(convert(x), axis, keepdims)

    reduce.__name__ = name
    reduce.__doc__ = doc
    return dim_aliases(reduce)


sum = _reduction(Sum, "sum", "Sum over ``axis`` (None: all; int or tuple, negatives allowed).")
mean = _reduction(Mean, "mean", "Arithmetic mean over ``axis``.", floating=True)


class _ValuesOnly(Tensor):
    """The values ``max``/``min`` over an axis return, guarded against PyTorch's pair habit.

    PyTorch returns ``(values, indices)`` there, so ``values, indices = x.max(1)`` and
    ``x.max(1)[0]`` would silently unpack or index the values: both raise instead. Any op on
    the result (``+``, ``detach()``, ``clone()``, ``tolist()``) gives a plain Tensor.
    """

    __slots__ = ()
    _name = "max"

    def _refuse(self, what: str, verb: str):
        name = self._name
        raise TypeError(
            f"x.{name}(dim) returns the values only (NumPy's rule), not PyTorch's (values, "
            f"indices) pair, so {what} its result is refused: use x.{name}(dim) for the "
            f"values and x.arg{name}(dim) for the indices (x.{name}(dim).clone() to {verb} "
            "the values themselves)"
        )

    def __iter__(self):
        self._refuse("unpacking", "iterate over")

    def __getitem__(self, index):
        self._refuse("indexing", "index")

    @property
    def values(self) -> Tensor:
        """PyTorch's ``x.max(dim).values``: the values, as a plain tensor (differentiable)."""
        return self.clone()

    @property
    def indices(self) -> Tensor:
        name = self._name
        raise AttributeError(
            f"x.{name}(dim) returns the values only (NumPy's rule), so it has no .indices: "
            f"use x.arg{name}(dim)"
        )


class _MinValues(_ValuesOnly):
    __slots__ = ()
    _name = "min"


def _values_only(function, guard, name: str, doc: str):
    """``max``/``min``: a reduction; ``(x, other)`` with a tensor ``other`` is elementwise."""
    elementwise = maximum if name == "max" else minimum

    def reduce(x: TensorLike, axis: Any = None, keepdims: bool = False) -> Tensor:
        if isinstance(axis, (Tensor, np.ndarray)):  # PyTorch's max(input, other)
            return elementwise(x, axis)
        result = function.apply(as_tensor(x), axis, keepdims)
        if axis is not None:
            result.__class__ = guard
        return result

    reduce.__name__ = name
    reduce.__doc__ = doc
    return dim_aliases(reduce)


max = _values_only(
    Max,
    _ValuesOnly,
    "max",
    "Largest value over ``axis`` (values only; ``max(x, other)`` is ``maximum``); ties "
    "share the gradient.",
)
min = _values_only(
    Min,
    _MinValues,
    "min",
    "Smallest value over ``axis`` (values only; ``min(x, other)`` is ``minimum``); ties "
    "share the gradient.",
)
amax = _reduction(
    Max,
    "amax",
    "Largest values over ``axis`` (None: all; int or tuple), as ``torch.amax``: ties share "
    "the gradient evenly.",
)
amin = _reduction(
    Min,
    "amin",
    "Smallest values over ``axis`` (None: all; int or tuple), as ``torch.amin``: ties share "
    "the gradient evenly.",
)
prod = _reduction(Prod, "prod", "Product over ``axis``; exact gradients with zeros present.")
logsumexp = _reduction(
    LogSumExp,
    "logsumexp",
    "``log(sum(exp(x)))`` over ``axis``, stable for large magnitudes.",
    floating=True,
)


@dim_aliases
def softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``, stable for any finite input."""
    return Softmax.apply(floating_input(x), axis)


@dim_aliases
def log_softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``, stable for any finite input."""
    return LogSoftmax.apply(floating_input(x), axis)


@dim_aliases
def argmax(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the largest value (flattened when ``axis`` is None); not differentiable."""
    x = as_tensor(x)
    if x.data.size == 0:
        _refuse_empty("argmax", x.shape, None if axis is None else axes(axis, x.ndim))
    return Tensor.wrap(traced_call(_position, np.argmax, x.data, axis, keepdims))


@dim_aliases
def argmin(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value (flattened when ``axis`` is None); not differentiable."""
    x = as_tensor(x)
    if x.data.size == 0:
        _refuse_empty("argmin", x.shape, None if axis is None else axes(axis, x.ndim))
    return Tensor.wrap(traced_call(_position, np.argmin, x.data, axis, keepdims))


def _position(find, data: np.ndarray, axis, keepdims: bool) -> np.ndarray:
    """``find`` (np.argmax or np.argmin) as int64: a traced call, so that a ``tn.compile``
    replay finds each call's position."""
    return np.asarray(find(data, axis=axis, keepdims=keepdims), np.int64)


# == issue 11: sum and prod take dtype=, casting the input first (as PyTorch) ======================
def _cast_first(reduce):
    def with_dtype(x, *args, dtype=None, **kwargs):
        x = as_tensor(x)
        if dtype is not None:
            from tinynet.ops.elementwise import cast

            x = cast(x, dtype)
        return reduce(x, *args, **kwargs)

    with_dtype.__name__ = with_dtype.__qualname__ = reduce.__name__
    with_dtype.__doc__ = reduce.__doc__ + " ``dtype`` casts the input first."
    with_dtype.__wrapped__ = reduce
    return with_dtype


sum = _cast_first(sum)
prod = _cast_first(prod)
