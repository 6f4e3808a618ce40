"""vmap's batching rules: a function run once on a whole batch, not once per element.

A ``BatchedTensor`` holds the batch's values with the batch axis first (``physical``, a
plain Tensor) and shows the function one element's ``shape``, ``ndim`` and ``dtype``.
Its ``data`` is a ``LogicalArray``, which has that shape and dtype and no values: when an
op's forward reads it, ``Function.apply`` runs the op's rule from ``RULES`` instead, the
op on the physical tensors with its axes moved past the batch axis (PyTorch's batching
rules). Autograd records those physical ops as any other, so gradients flow through the
batch; elements never mix, so the gradient of a batch's sum is each element's gradient.

Reading the values any other way (``.item()``, ``np.asarray``, a comparison, an op without a
rule) raises ``BatchedAccess``, and ``tn.func.vmap`` runs its loop instead: the rules are a
faster road to the loop's values (to the last bit, but where a batched BLAS product or a
sum over strided memory adds in another order), never a different answer.

>>> import numpy as np
>>> x = batched(Tensor(np.arange(6.0).reshape(2, 3)))
>>> x.shape, x.physical.shape
((3,), (2, 3))
>>> (x * 2).sum().physical.tolist()
[6.0, 24.0]
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np

from tinynet import autograd, ops
from tinynet.autograd import BatchedAccess
from tinynet.ops import conv, elementwise, linalg, movement, pointwise, reduce, scan
from tinynet.ops._args import reduction_axes
from tinynet.tensor import Tensor

__all__ = [
    "RULES", "BatchedAccess", "BatchedTensor", "LogicalArray", "batch_of", "batched", "expand",
    "running",
]  # fmt: skip


class LogicalArray:
    """One batch element's shape and dtype, standing in for a batched tensor's array: any
    use of its values raises ``BatchedAccess``."""

    __slots__ = ("dtype", "shape")

    def __init__(self, shape: tuple, dtype: np.dtype):
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __getattr__(self, name: str):
        raise BatchedAccess(f"the values of a batched tensor (.data.{name})")

    def __repr__(self) -> str:
        return f"LogicalArray(shape={self.shape}, dtype={self.dtype})"

    __hash__ = object.__hash__


def _refuse(self, *args, **kwargs):
    raise BatchedAccess("the values of a batched tensor")


for _name in (
    "__array__ __array_ufunc__ __array_function__ __getitem__ __setitem__ __iter__ __float__ "
    "__int__ __index__ __bool__ __complex__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __neg__ "
    "__pos__ __abs__ __invert__ __add__ __radd__ __iadd__ __sub__ __rsub__ __isub__ __mul__ "
    "__rmul__ __imul__ __truediv__ __rtruediv__ __itruediv__ __floordiv__ __rfloordiv__ "
    "__mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ __and__ __rand__ __or__ "
    "__ror__ __xor__ __rxor__"
).split():
    setattr(LogicalArray, _name, _refuse)


class BatchedTensor(Tensor):
    """A batch of tensors seen one element at a time; ``physical`` holds them all."""

    __slots__ = ("_logical", "physical")
    physical: Tensor
    _logical: LogicalArray

    @property
    def data(self) -> LogicalArray:  # type: ignore[override]
        return self._logical

    @property
    def requires_grad(self) -> bool:
        return self.physical._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        raise BatchedAccess("requires_grad of a batched tensor")

    def detach(self) -> BatchedTensor:
        return batched(self.physical.detach())

    def backward(self, *args, **kwargs) -> None:
        raise BatchedAccess("backward() inside vmap")

    def __repr__(self) -> str:
        return f"BatchedTensor(shape={self.shape}, batch={self.physical.shape[0]})"


def batched(physical: Tensor) -> BatchedTensor:
    """``physical`` (batch axis first) seen one element at a time."""
    tensor = object.__new__(BatchedTensor)
    tensor.physical = physical
    tensor._logical = LogicalArray(physical.data.shape[1:], physical.data.dtype)
    tensor._requires_grad = physical._requires_grad
    tensor._grad = None
    tensor._node = None
    tensor._version = 0
    return tensor


_sizes: list[int] = []  # the batch sizes of the vmap calls running on their rules


def running() -> int | None:
    """The batch size of the innermost vmap call running on its rules, or None."""
    return _sizes[-1] if _sizes else None


@contextlib.contextmanager
def batch_of(size: int) -> Iterator[None]:
    """Mark a vmap call of ``size`` elements as running on its rules."""
    _sizes.append(size)
    try:
        yield
    finally:
        _sizes.pop()


def expand(tensor: Tensor, size: int) -> Tensor:
    """``size`` copies of an unbatched ``tensor`` along a new first axis, recorded."""
    return ops.concatenate([tensor.reshape(1, *tensor.shape)] * size, axis=0)


# -- the rules -------------------------------------------------------------------------------


def _aligned(x: BatchedTensor, ndim: int) -> Tensor:
    """``x.physical`` with axes of length 1 after the batch axis up to ``ndim`` element
    axes: then NumPy's right-aligned broadcasting pairs element axes with element axes."""
    physical = x.physical
    if x.ndim < ndim:
        shape = physical.data.shape
        physical = physical.reshape(shape[:1] + (1,) * (ndim - x.ndim) + shape[1:])
    return physical


def _elementwise(cls, args: tuple) -> Tensor:
    ndim = max(a.ndim for a in args if isinstance(a, (Tensor, np.ndarray)))
    return cls.apply(*(_aligned(a, ndim) if isinstance(a, BatchedTensor) else a for a in args))


def _shifted(axis, ndim: int) -> tuple:
    """Reduction axes of an element, as axes of the physical array (None: all of them)."""
    axes = reduction_axes(axis, ndim)
    return tuple(range(1, ndim + 1)) if axes is None else tuple(a + 1 for a in axes)


def _reduction(cls, args: tuple) -> Tensor:
    x, axis, keepdims = args
    return cls.apply(x.physical, _shifted(axis, x.ndim), keepdims)


def _along_axis(cls, args: tuple) -> Tensor:  # softmax, log_softmax: (x, axis)
    x, axis = args
    return cls.apply(x.physical, _shifted(axis, x.ndim))


def _scan(cls, args: tuple) -> Tensor:  # cumsum and friends: one int axis
    x, axis = args
    if not isinstance(axis, (int, np.integer)):
        raise BatchedAccess(f"{cls.__name__} over axis {axis!r}")
    return cls.apply(x.physical, int(axis) % max(x.ndim, 1) + 1)


def _as_matrix(x, ndim: int, vector_axis: int | None) -> Tensor:
    """A matmul operand's physical tensor: a vector made a matrix (a row for ``a``, a
    column for ``b``), a batched one given ``ndim`` element axes for broadcasting."""
    if isinstance(x, BatchedTensor):
        physical = x.physical
        if vector_axis is not None:
            physical = physical.reshape(_with_unit(physical.data.shape, vector_axis))
        return _aligned(batched(physical), ndim)
    if vector_axis is not None:
        return x.reshape(_with_unit(x.data.shape, vector_axis))
    return x


def _with_unit(shape: tuple, axis: int) -> tuple:
    return shape + (1,) if axis == -1 else shape[:-1] + (1,) + shape[-1:]


def _matmul(cls, args: tuple) -> Tensor:
    a, b = args
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    ndim = max(a.ndim + a_vector, b.ndim + b_vector)
    out = ops.matmul(
        _as_matrix(a, ndim, -2 if a_vector else None), _as_matrix(b, ndim, -1 if b_vector else None)
    )
    shape = out.data.shape
    if a_vector:  # drop the row axis the vector became, then the column's
        shape = shape[:-2] + shape[-1:]
    if b_vector:
        shape = shape[:-1]
    return out.reshape(shape) if shape != out.data.shape else out


def _linear(cls, args: tuple) -> Tensor:
    x, weight, bias = args
    if not isinstance(weight, BatchedTensor) and not isinstance(bias, BatchedTensor):
        return cls.apply(x.physical, weight, bias)  # x @ W.T + b over any leading axes
    # per-element weights (vmap over grad of a layer): matmul's rule, then add's
    transposed = ops.transpose(weight, -1, -2)
    out = ops.matmul(x, transposed)
    out = out if bias is None else out + bias
    return out.physical if isinstance(out, BatchedTensor) else out


def _reshape(cls, args: tuple) -> Tensor:
    x, shape = args
    return cls.apply(x.physical, x.physical.data.shape[:1] + tuple(shape))


def _transpose(cls, args: tuple) -> Tensor:
    x, order = args
    return cls.apply(x.physical, (0, *(axis + 1 for axis in order)))


def _broadcast_to(cls, args: tuple) -> Tensor:
    x, shape = args
    physical = _aligned(x, len(shape))
    return cls.apply(physical, physical.data.shape[:1] + tuple(shape))


_BASIC_INDEX = (int, np.integer, slice, type(None), type(Ellipsis))


def _getitem(cls, args: tuple) -> Tensor:
    x, index = args
    parts = index if isinstance(index, tuple) else (index,)
    if not all(
        isinstance(part, _BASIC_INDEX) and not isinstance(part, (bool, np.bool_)) for part in parts
    ):
        raise BatchedAccess("advanced indexing of a batched tensor")
    return cls.apply(x.physical, (slice(None), *parts))


def _concatenate(cls, args: tuple) -> Tensor:
    axis, *parts = args
    size = next(p.physical.data.shape[0] for p in parts if isinstance(p, BatchedTensor))
    physical = [p.physical if isinstance(p, BatchedTensor) else expand(p, size) for p in parts]
    return cls.apply(axis + 1, *physical)


def _pad(cls, args: tuple) -> Tensor:
    x, widths, value = args
    return cls.apply(x.physical, ((0, 0), *widths), value)


def _merged_samples(cls, args: tuple) -> Tensor:
    """Ops on ``(N, C, ...)`` samples that never mix them (the convolutions' Im2Col and
    Col2Im): the batch folded into N, and unfolded from the result."""
    x, *settings = args
    shape = x.physical.data.shape
    out = cls.apply(x.physical.reshape(shape[0] * shape[1], *shape[2:]), *settings)
    return out.reshape(shape[:2] + out.data.shape[1:])


RULES: dict[type, Callable[[type, tuple], Tensor]] = {}
for _module in (elementwise, pointwise):
    for _cls in vars(_module).values():
        if isinstance(_cls, type) and issubclass(_cls, autograd.Function):
            if _cls.__module__ == _module.__name__ and _cls is not elementwise.PRelu:
                RULES[_cls] = _elementwise  # PRelu's weight pairs with axis 1, not the last
for _cls in (reduce.Sum, reduce.Mean, reduce.Max, reduce.Min, reduce.Prod, reduce.LogSumExp):
    RULES[_cls] = _reduction
RULES.update(
    {
        reduce.Softmax: _along_axis,
        reduce.LogSoftmax: _along_axis,
        scan.CumSum: _scan,
        scan.CumProd: _scan,
        scan.LogCumSumExp: _scan,
        linalg.MatMul: _matmul,
        linalg.Linear: _linear,
        movement.Reshape: _reshape,
        movement.Transpose: _transpose,
        movement.BroadcastTo: _broadcast_to,
        movement.GetItem: _getitem,
        movement.Concatenate: _concatenate,
        movement.Pad: _pad,
        conv.Im2Col: _merged_samples,
        conv.Col2Im: _merged_samples,
    }
)


def _rule(cls, args: tuple) -> BatchedTensor:
    """``Function.apply``'s road for batched inputs: the op's rule, or ``BatchedAccess``."""
    rule = RULES.get(cls)
    if rule is None:
        raise BatchedAccess(f"{cls.__name__} has no batching rule")
    for arg in args:
        if type(arg) is not BatchedTensor and isinstance(arg, Tensor):
            if isinstance(arg.data, LogicalArray):  # made from a batched tensor's .data
                raise BatchedAccess("a tensor built from a batched tensor's .data")
    return batched(rule(cls, args))


autograd.set_batching_rule(_rule, BatchedTensor)
