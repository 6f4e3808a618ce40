"""The Tensor: an ndarray, its gradient, and the node of the graph that made it.

Operators and methods delegate to ``tinynet.ops`` (primitives) and ``tinynet.functional``
(composites). Those modules build Tensors, so the two layers know each other: the knot is
tied once, in the imports at the bottom of this file.
"""

from __future__ import annotations

import builtins
import functools
import operator
import os
import sys
import types
import warnings
import weakref
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from tinynet import _device, _dtype, _printing
from tinynet._grad_mode import grad_mode


class _WriteCounter:
    """Stamps every in-place write, process-wide: an op recorded at stamp s needs no check at
    backward while no write happened since (the common case, kept to one comparison). An
    instance, not a class attribute: setting a class attribute would deoptimize attribute
    lookups on every Tensor."""

    __slots__ = ("count",)

    def __init__(self):
        self.count = 0


inplace_writes = _WriteCounter()


class Tensor:
    """An n-dimensional array that can record operations for reverse-mode differentiation.

    >>> import numpy as np, tinynet as tn
    >>> x = tn.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    Tensor([2., 4.], dtype=float64)
    """

    # ``_version``: 0 until an in-place write, then (writes, stamp of the last write); on a
    # view made by an op (reshape, indexing...), the tensor it views, whose counter it shares
    # (a chain, for views of views); on a detach() alias, ``[the tensor whose counter it
    # shares]`` (a list: an alias is not a view whose in-place writes rewrite the history of
    # the tensor it views). One slot keeps creation cheap.
    __slots__ = ("data", "_grad", "_requires_grad", "_node", "_version", "__weakref__")
    data: np.ndarray
    _version: builtins.int | tuple | Tensor | list
    # Make NumPy defer to our reflected operators: ``array + tensor`` calls __radd__.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        elif type(data) is int:
            raise TypeError(
                f"tn.Tensor({data}) would hold the number {data}, but PyTorch's "
                f"torch.Tensor({data}) is an uninitialized tensor of shape ({data},): use "
                f"tn.tensor({data}) for the number, tn.empty({data}) or tn.zeros({data}) for "
                "the shape"
            )
        self.data = _dtype.as_array(data, dtype)
        self._grad = None
        self._node = None
        self._requires_grad = False
        self._version = 0
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _wrap(array: np.ndarray, requires_grad: bool = False, node=None) -> Tensor:
        """Fast constructor for arrays that already follow the dtype policy (a static
        method: a class method builds a bound method on every call)."""
        tensor = object.__new__(Tensor)
        tensor.data = array
        tensor._grad = None
        tensor._requires_grad = requires_grad
        tensor._node = node
        tensor._version = 0
        return tensor

    # -- autograd state ---------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.data.dtype.kind != "f":
            raise _errors.DTypeError(  # a RuntimeError in PyTorch, a TypeError here too
                f"only floating tensors can require gradients, got dtype {self.data.dtype}; "
                "convert first, e.g. x.float() or x.to(tn.float64)"
            )
        if not value and self._node is not None:
            raise RuntimeError(
                "you can only change requires_grad of leaf tensors; use detach() on a "
                "non-leaf tensor instead"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by a recorded operation."""
        return self._node is None

    @property
    def grad_fn(self) -> _autograd.Function | None:
        """The recorded operation that produced this tensor (None for leaves)."""
        return self._node

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data and version counter, cut from the graph.

        An in-place op on the detached tensor changes this one too, so backward through a
        graph that needs these values raises instead of using the changed ones.
        """
        alias = Tensor._wrap(self.data)
        alias._version = [_counter_owner(self)]
        return alias

    # A property, not __getattr__: a class with __getattr__ loses CPython's fast attribute
    # lookups on every access (measured: 2% of a training step).
    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward (leaves, and non-leaves after retain_grad())."""
        grad = self._grad
        if grad is None and self._node is not None and not self.retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed: "
                "backward() does not fill it. Call .retain_grad() on it before backward() if "
                "you want its gradient, or use tn.grad(output, tensor).",
                UserWarning,
                stacklevel=2,
            )
        return grad

    @grad.setter
    def grad(self, value) -> None:
        # The common case (a Tensor of this shape and dtype) costs three comparisons (~0.1 us);
        # an equal dtype that is another object takes the slow path, which accepts it.
        if value is not None:
            if value.__class__ is not Tensor:
                value = self._checked_grad(value)
            else:
                array, own = value.data, self.data
                if array.dtype is not own.dtype or array.shape != own.shape or value is self:
                    value = self._checked_grad(value)
        self._grad = value

    def _checked_grad(self, value):
        """``value`` as this tensor's ``.grad``, or PyTorch's error naming the mismatch.

        A Tensor (or subclass) or NumPy array (wrapped, sharing memory), or a SciPy sparse
        matrix (optimizers refuse it at ``step()``), of this tensor's shape and dtype.
        """
        if isinstance(value, np.ndarray):
            value = Tensor._wrap(np.asarray(value))
        sparse = hasattr(value, "toarray") and hasattr(value, "dtype")
        if not (isinstance(value, Tensor) or sparse):
            raise TypeError(
                "assigned grad expected to be a Tensor, a NumPy array or None but got grad of "
                f"type {type(value).__name__}; assign tn.tensor(...) of the tensor's shape "
                "and dtype"
            )
        if value is self:
            raise RuntimeError(
                "can't assign Variable as its own grad; assign a copy: x.grad = x.detach().clone()"
            )
        dtype = np.dtype(value.dtype)
        if dtype != self.data.dtype:
            raise RuntimeError(
                f"assigned grad has data of a different type: {dtype} for a tensor of "
                f"{self.data.dtype}; convert it first, e.g. grad.to(tn.{self.data.dtype})"
            )
        shape = tuple(value.shape)
        if shape != self.data.shape:
            raise RuntimeError(
                f"assigned grad has data of a different size: shape {shape} for a tensor of "
                f"shape {self.data.shape}; assign a gradient of the tensor's shape"
            )
        return value

    def register_hook(self, hook) -> _autograd.RemovableHandle:
        """Call ``hook(grad)`` with this tensor's gradient when backward computes it; a
        Tensor it returns replaces the gradient. Returns a handle whose ``remove()``
        unregisters it. As PyTorch's (see ``tinynet.autograd.register_tensor_hook``)."""
        return _autograd.register_tensor_hook(self, hook)

    def retain_grad(self) -> None:
        """Make backward() fill ``.grad`` of this non-leaf tensor too (a no-op on leaves)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
        if self._node is not None:
            self._node._retain_grad_of(self)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf whose ``.grad`` backward() fills (see retain_grad())."""
        node = self._node
        return node is not None and node._retained is not None and node._retained() is self

    @property
    def version(self) -> int:
        """How many in-place writes this tensor's memory has seen (PyTorch's ``_version``).

        Shared with detach() views; writes through ``.data`` are not counted.
        """
        return version_of(self)

    def backward(
        self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
        if gradient is not None and type(gradient) is not Tensor:
            gradient = (
                gradient if isinstance(gradient, Tensor) else Tensor.wrap(_dtype.as_array(gradient))
            )
        _autograd.backward(self, gradient, retain_graph, create_graph)

    def zero_grad_(self) -> None:
        self.grad = None

    # -- array attributes -------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None) -> tuple[builtins.int, ...] | builtins.int:
        """The shape as a tuple, or the length of axis ``dim``, as PyTorch's ``size``.

        A method, not NumPy's ``size`` attribute (the element count): use ``numel()`` for
        that. ``x.size * 2`` then fails loudly instead of silently meaning something else.

        >>> import tinynet as tn
        >>> x = tn.zeros(2, 3)
        >>> x.size(), x.size(-1), x.numel()
        ((2, 3), 3, 6)
        """
        if dim is None:
            return self.data.shape
        return self.data.shape[_axis(dim, self.data.ndim)]

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:  # PyTorch: RuntimeError from item(), ValueError from float()
            raise _errors.ShapeError(
                f"only one-element tensors can be converted to Python scalars, got shape "
                f"{self.shape}; reduce it first (x.sum(), x[0]) or use x.tolist()"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied). Refused while it requires grad."""
        if self._requires_grad:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; use detach().numpy()"
            )
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.data)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats as its number, as PyTorch's: ``f"{loss:.4f}"``."""
        if self.data.ndim == 0:
            return format(self.data.item(), format_spec)
        return object.__format__(self, format_spec)

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, separator=", ", prefix="Tensor(", **_printing.array2string_options()
        )
        extra = f", dtype={self.data.dtype}"
        if self._node is not None:
            extra += f", grad_fn=<{type(self._node).__name__}>"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"

    __hash__ = object.__hash__

    def __reduce__(self):
        return (_rebuild_tensor, (self.data, self._requires_grad))

    # -- dtype --------------------------------------------------------------------------
    def astype(self, dtype) -> Tensor:
        """Cast to ``dtype`` (differentiable between floating dtypes)."""
        return _ops.cast(self, dtype)

    def to(
        self, *args, dtype=None, device=None, copy: bool = False, non_blocking: bool = False
    ) -> Tensor:
        """PyTorch's ``to``: ``to(dtype)``, ``to("cpu")``, ``to(other_tensor)``, keywords too.

        The only device is the CPU; any other device raises ``RuntimeError``.
        ``non_blocking`` has no effect on the CPU, as in PyTorch.

        >>> import tinynet as tn
        >>> tn.zeros(2).to("cpu", tn.float64).dtype
        dtype('float64')
        """
        dtype = to_arguments(args, dtype, device)
        result = self if dtype is None or np.dtype(dtype) == self.data.dtype else self.astype(dtype)
        return result.clone() if copy and result is self else result

    def cpu(self) -> Tensor:
        """This tensor (tinynet only computes on the CPU)."""
        return self

    def cuda(self, device=None) -> Tensor:
        """Refused in one line, as ``to("cuda")``: tinynet computes on the CPU only."""
        _device.check("cuda" if device is None else f"cuda:{device}")
        return self

    @property
    def device(self) -> str:
        return "cpu"

    def float(self) -> Tensor:
        return _ops.cast(self, np.float32)

    def double(self) -> Tensor:
        return _ops.cast(self, np.float64)

    # -- arithmetic ---------------------------------------------------------------------
    def __add__(self, other) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other) -> Tensor:
        return _ops.div(other, self)

    def __pow__(self, other) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other) -> Tensor:
        return _ops.pow(other, self)

    def __matmul__(self, other) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    # -- comparisons (not differentiable) -------------------------------------------------
    def __lt__(self, other) -> Tensor:
        return _ops.lt(self, other)

    def __le__(self, other) -> Tensor:
        return _ops.le(self, other)

    def __gt__(self, other) -> Tensor:
        return _ops.gt(self, other)

    def __ge__(self, other) -> Tensor:
        return _ops.ge(self, other)

    def __eq__(self, other) -> Tensor:  # type: ignore[override]
        if other is None:  # PyTorch: ``x == None`` is False, not an elementwise comparison
            return NotImplemented
        return _ops.eq(self, other)

    def __ne__(self, other) -> Tensor:  # type: ignore[override]
        if other is None:
            return NotImplemented
        return _ops.ne(self, other)

    # -- bitwise: & | ^ ~ on boolean masks and integers (not differentiable) -----------------
    def __and__(self, other) -> Tensor:
        return _bitwise(np.bitwise_and, "&", self, other)

    def __or__(self, other) -> Tensor:
        return _bitwise(np.bitwise_or, "|", self, other)

    def __xor__(self, other) -> Tensor:
        return _bitwise(np.bitwise_xor, "^", self, other)

    def __rand__(self, other) -> Tensor:
        return _bitwise(np.bitwise_and, "&", other, self)

    def __ror__(self, other) -> Tensor:
        return _bitwise(np.bitwise_or, "|", other, self)

    def __rxor__(self, other) -> Tensor:
        return _bitwise(np.bitwise_xor, "^", other, self)

    def __invert__(self) -> Tensor:
        """``~mask``: logical not of a boolean tensor, bitwise not of an integer one."""
        return _bitwise(np.invert, "~", self)

    # -- elementwise ------------------------------------------------------------------------
    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def log1p(self) -> Tensor:
        return _ops.log1p(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def sin(self) -> Tensor:
        return _ops.sin(self)

    def cos(self) -> Tensor:
        return _ops.cos(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def erf(self) -> Tensor:
        return _ops.erf(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def leaky_relu(self, negative_slope: builtins.float = 0.01) -> Tensor:
        return _ops.leaky_relu(self, negative_slope)

    def elu(self, alpha: builtins.float = 1.0) -> Tensor:
        return _ops.elu(self, alpha)

    def gelu(self, approximate: str = "none") -> Tensor:
        return _functional.gelu(self, approximate)

    def softplus(self, beta: builtins.float = 1.0) -> Tensor:
        return _ops.softplus(self, beta)

    def clip(self, min=None, max=None) -> Tensor:
        return _ops.clip(self, min, max)

    clamp = clip

    def maximum(self, other) -> Tensor:
        return _ops.maximum(self, other)

    def minimum(self, other) -> Tensor:
        return _ops.minimum(self, other)

    # -- reductions ---------------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False, *, dtype=None) -> Tensor:
        """Sum over ``axis`` (``dim``); ``dtype`` casts first, as PyTorch's ``sum(dtype=)``."""
        if dtype is None:  # the common case: the primitive itself, no arguments to convert
            return _reductions.Sum.apply(self, axis, keepdims)
        return _ops.sum(self, axis, keepdims, dtype=dtype)

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis, keepdims)

    def var(
        self, axis=None, correction: int = 1, keepdims: bool = False, *, unbiased=None
    ) -> Tensor:
        return _functional.var(self, axis, correction, keepdims, unbiased=unbiased)

    def std(
        self, axis=None, correction: int = 1, keepdims: bool = False, *, unbiased=None
    ) -> Tensor:
        return _functional.std(self, axis, correction, keepdims, unbiased=unbiased)

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops.min(self, axis, keepdims)

    def prod(self, axis=None, keepdims: bool = False, *, dtype=None) -> Tensor:
        """Product over ``axis`` (``dim``); ``dtype`` casts first, as PyTorch's."""
        return _ops.prod(self, axis, keepdims, dtype=dtype)

    def logsumexp(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops.logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.log_softmax(self, axis)

    def argmax(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops.argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims: bool = False) -> Tensor:
        return _ops.argmin(self, axis, keepdims)

    def amax(self, axis=None, keepdims: bool = False) -> Tensor:
        """PyTorch's ``amax``: the largest values over ``axis`` (ties share the gradient)."""
        return _ops.amax(self, axis, keepdims)

    def amin(self, axis=None, keepdims: bool = False) -> Tensor:
        """PyTorch's ``amin``: the smallest values over ``axis`` (ties share the gradient)."""
        return _ops.amin(self, axis, keepdims)

    # -- shape ----------------------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        return _ops.reshape(self, *shape)

    def view(self, *shape) -> Tensor:
        """``reshape`` that never copies, as PyTorch's ``view``: the result shares memory.

        A layout that would need a copy (a transposed tensor, say) raises, as in PyTorch: use
        ``reshape``, or ``contiguous().view(...)``.

        >>> import tinynet as tn
        >>> tn.arange(6).view(2, -1).shape
        (2, 3)
        """
        if len(shape) == 1 and isinstance(shape[0], (np.dtype, type, str)):
            raise TypeError(
                "view(dtype) reinterprets bits in PyTorch, which tinynet does not do; "
                f"convert the values with .to({shape[0]!r}) instead"
            )
        result = _ops.reshape(self, *shape)
        if result.data.size and not np.may_share_memory(result.data, self.data):
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride: a tensor "
                f"of shape {self.shape} with this memory layout cannot be viewed as "
                f"{result.shape} without a copy; use .reshape(...) (or .contiguous().view(...))"
            )
        return result

    def contiguous(self) -> Tensor:
        """This tensor if its memory is C-contiguous, else a contiguous copy (differentiable)."""
        return self if self.data.flags.c_contiguous else self.clone()

    def is_contiguous(self) -> bool:
        """Whether the memory is laid out row-major without gaps (NumPy's C order)."""
        return self.data.flags.c_contiguous

    def transpose(self, *axes) -> Tensor:
        """Two ints swap those axes (PyTorch); a sequence or 3+ ints permute (NumPy)."""
        return _ops.transpose(self, *axes)

    def permute(self, *dims) -> Tensor:
        """Reorder the axes: ``permute(2, 0, 1)`` or ``permute((2, 0, 1))``."""
        return _ops.permute(self, *dims)

    @property
    def T(self) -> Tensor:
        return _ops.transpose(self)

    def t(self) -> Tensor:
        """The transpose of a tensor of at most 2 dimensions, as PyTorch's ``t()``."""
        if self.data.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, got {self.data.ndim}; "
                "use transpose(d0, d1) or permute(...)"
            )
        return _ops.transpose(self)

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (a batch of transposed matrices)."""
        if self.data.ndim < 2:
            raise RuntimeError(f"mT needs at least 2 dimensions, got {self.data.ndim}")
        return _ops.transpose(self, -2, -1)

    @property
    def H(self) -> Tensor:
        """The conjugate transpose of a matrix (``T`` here: tensors are real), a view."""
        if self.data.ndim not in (0, 2):
            batches = " For batches of matrices, consider using tensor.mH" if self.ndim > 2 else ""
            raise RuntimeError(
                f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor."
                + batches
            )
        return _ops.transpose(self)

    @property
    def mH(self) -> Tensor:
        """The conjugate transpose of a batch of matrices (``mT`` here: tensors are real)."""
        if self.data.ndim < 2:
            raise RuntimeError(
                "tensor.mH is only supported on matrices or batches of matrices. Got "
                f"{self.ndim}-D tensor."
            )
        return _ops.transpose(self, -2, -1)

    def as_strided(self, size, stride, storage_offset: int | None = None) -> Tensor:
        """A view of this tensor's memory with element strides (``tn.as_strided``)."""
        return _movement.as_strided(self, size, stride, storage_offset)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """Every slice of length ``size`` along ``dimension``, ``step`` apart, as a new last
        axis: PyTorch's ``Tensor.unfold``, a view (overlapping windows share elements).

        >>> import tinynet as tn
        >>> tn.arange(5.0).unfold(0, 2, 2).tolist()
        [[0.0, 1.0], [2.0, 3.0]]
        """
        ndim = max(self.data.ndim, 1)
        axis = _axis(dimension, ndim)
        length = self.data.shape[axis] if self.data.ndim else 1
        if size > length:
            raise RuntimeError(
                f"maximum size for tensor at dimension {axis} is {length} but size is {size}"
            )
        if step <= 0:
            raise RuntimeError(f"step is {step} but must be > 0")
        if self.data.ndim == 0:  # one window of the one element, without the windows axis
            windows = _movement.strided_view(_ops.reshape(self, 1), "unfold", (0, size, step))
            return _ops.reshape(windows, windows.data.shape[1:])
        return _movement.strided_view(self, "unfold", (axis, int(size), int(step)))

    def flatten(
        self, start_axis: int = 0, end_axis: int = -1, *, start_dim=None, end_dim=None
    ) -> Tensor:
        return _functional.flatten(self, start_axis, end_axis, start_dim=start_dim, end_dim=end_dim)

    def squeeze(self, axis=None) -> Tensor:
        return _functional.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        return _functional.unsqueeze(self, axis)

    def expand(self, *shape) -> Tensor:
        return _functional.expand(self, *shape)

    def broadcast_to(self, shape) -> Tensor:
        return _ops.broadcast_to(self, shape)

    def __getitem__(self, index) -> Tensor:
        return _ops.getitem(self, index)

    # Below ``def float``, annotations say ``builtins.float``: the method shadows the type in
    # the class body.

    # -- named internal API -------------------------------------------------------------
    #: ``_wrap`` under the name tinynet's other modules use: wraps ``array`` as it is (no
    #: copy, no dtype check), for arrays that already follow the dtype policy.
    wrap = _wrap

    # -- linear algebra (issue 11, item 6): PyTorch's Tensor methods --------------------------
    def inverse(self) -> Tensor:
        return _ops.inv(self)

    def det(self) -> Tensor:
        return _ops.det(self)

    def slogdet(self) -> tuple[Tensor, Tensor]:
        return _ops.slogdet(self)

    def outer(self, vec2: TensorLike) -> Tensor:
        return _ops.outer(self, vec2)

    def dot(self, other: TensorLike) -> Tensor:
        return _ops.dot(self, other)

    def bmm(self, mat2: TensorLike) -> Tensor:
        return _ops.bmm(self, mat2)

    # -- in-place ops (PyTorch's rules; each bumps the version counter) ---------------------
    def add_(self, other, alpha=1) -> Tensor:
        """``self += alpha * other`` in place; see docs/tensors.md for the rules."""
        return _inplace(self, "add_", lambda t: _ops.add(t, _scaled(other, alpha)))

    def sub_(self, other, alpha=1) -> Tensor:
        return _inplace(self, "sub_", lambda t: _ops.sub(t, _scaled(other, alpha)))

    def mul_(self, other) -> Tensor:
        return _inplace(self, "mul_", lambda t: _ops.mul(t, other))

    def div_(self, other) -> Tensor:
        return _inplace(self, "div_", lambda t: _ops.div(t, other))

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def clamp_(self, min=None, max=None) -> Tensor:
        return _inplace(self, "clamp_", lambda t: _ops.clip(t, min, max))

    clip_ = clamp_

    def copy_(self, src) -> Tensor:
        """Copy ``src`` (broadcast to this shape) into this tensor; gradients flow to ``src``."""
        return _inplace(self, "copy_", lambda t: _overwrite(t, src))

    def fill_(self, value) -> Tensor:
        return _inplace(self, "fill_", lambda t: _overwrite(t, value))

    def zero_(self) -> Tensor:
        return _inplace(self, "zero_", lambda t: _overwrite(t, 0))

    def uniform_(self, a: builtins.float = 0.0, b: builtins.float = 1.0, rng=None) -> Tensor:
        """Fill with samples of U[a, b) from ``rng`` (None: the global generator)."""
        values = _random.as_generator(rng).uniform(a, b, self.data.shape)
        return _inplace(self, "uniform_", lambda t: _overwrite(t, values))

    def normal_(self, mean: builtins.float = 0.0, std: builtins.float = 1.0, rng=None) -> Tensor:
        """Fill with samples of N(mean, std**2) from ``rng`` (None: the global generator)."""
        values = _random.as_generator(rng).normal(mean, std, self.data.shape)
        return _inplace(self, "normal_", lambda t: _overwrite(t, values))

    def clone(self) -> Tensor:
        """A copy with its own memory, recorded in the graph (gradients flow back)."""
        return _overwrite(self, self)

    def __setitem__(self, index, value) -> None:
        """``x[index] = value`` in place, with the rules of the other in-place ops.

        Recorded on a non-leaf (the assigned elements then get no gradient). A value that
        requires grad gets its gradient: copied into the view ``x[index]`` for integers and
        slices (``x[index].copy_(value)``, as PyTorch), scattered for integer arrays and
        masks (PyTorch's ``index_put_``; repeated positions are refused).
        """
        if isinstance(value, Tensor) and value._requires_grad and grad_mode.enabled:
            part = _ops.getitem(self, index)
            if value._node is not None and _same_memory(part, value):  # ``x[i] += 1``: done
                return
            if isinstance(part._version, Tensor) and part.data.base is not None:
                part.copy_(value)
            else:
                _put(self, _plain_index(index), value)
            return
        index = _plain_index(index)
        values = np.zeros_like(self.data)
        values[index] = value.data if isinstance(value, Tensor) else value
        chosen = np.zeros(self.data.shape, dtype=bool)
        chosen[index] = True
        _inplace(self, "__setitem__", lambda t: _ops.where(chosen, Tensor._wrap(values), t))

    # == issue 11: more ops as methods, PyTorch's names (dim, keepdim; axis, keepdims too) ==
    def floor(self) -> Tensor:
        return _ops.floor(self)

    def ceil(self) -> Tensor:
        return _ops.ceil(self)

    def round(self, decimals: int = 0) -> Tensor:
        return _ops.round(self, decimals)

    __round__ = round

    def trunc(self) -> Tensor:
        return _ops.trunc(self)

    def sign(self) -> Tensor:
        return _ops.sign(self)

    def rsqrt(self) -> Tensor:
        return _functional.rsqrt(self)

    def log2(self) -> Tensor:
        return _functional.log2(self)

    def log10(self) -> Tensor:
        return _functional.log10(self)

    def exp2(self) -> Tensor:
        return _functional.exp2(self)

    def expm1(self) -> Tensor:
        return _ops.expm1(self)

    def tan(self) -> Tensor:
        return _ops.tan(self)

    def asin(self) -> Tensor:
        return _ops.asin(self)

    def acos(self) -> Tensor:
        return _ops.acos(self)

    def atan(self) -> Tensor:
        return _ops.atan(self)

    def atan2(self, other) -> Tensor:
        return _ops.atan2(self, other)

    def sinh(self) -> Tensor:
        return _ops.sinh(self)

    def cosh(self) -> Tensor:
        return _ops.cosh(self)

    def asinh(self) -> Tensor:
        return _ops.asinh(self)

    def acosh(self) -> Tensor:
        return _ops.acosh(self)

    def atanh(self) -> Tensor:
        return _ops.atanh(self)

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def logaddexp(self, other) -> Tensor:
        return _ops.logaddexp(self, other)

    def lerp(self, end, weight) -> Tensor:
        return _functional.lerp(self, end, weight)

    def hypot(self, other) -> Tensor:
        return _ops.hypot(self, other)

    def fmod(self, other) -> Tensor:
        return _ops.fmod(self, other)

    def remainder(self, other) -> Tensor:
        return _ops.remainder(self, other)

    def floor_divide(self, other) -> Tensor:
        return _ops.floor_divide(self, other)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    # -- PyTorch's method spellings of the operators ------------------------------------------
    def add(self, other, *, alpha=1) -> Tensor:
        """``self + alpha * other``, as PyTorch's ``add``."""
        return _ops.add(self, _scaled(other, alpha))

    def sub(self, other, *, alpha=1) -> Tensor:
        """``self - alpha * other``, as PyTorch's ``sub``."""
        return _ops.sub(self, _scaled(other, alpha))

    def mul(self, other) -> Tensor:
        return _ops.mul(self, other)

    def div(self, other, *, rounding_mode: str | None = None) -> Tensor:
        """True division; ``rounding_mode="floor"`` is ``//``, ``"trunc"`` rounds toward zero.

        >>> import tinynet as tn
        >>> tn.tensor([-7, 7]).div(2, rounding_mode="trunc").tolist()
        [-3, 3]
        """
        if rounding_mode is None:
            return _ops.div(self, other)
        if rounding_mode == "floor":
            return _ops.floor_divide(self, other)
        if rounding_mode != "trunc":
            raise ValueError(
                f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                f"{rounding_mode!r}"
            )
        floored = _ops.floor_divide(self, other)
        # floor and trunc differ where the quotient is negative and not whole: add one there.
        inexact = (_ops.remainder(self, other) != 0) & ((self < 0) != (other < 0))
        return _ops.where(inexact.data, floored + 1, floored)

    def pow(self, exponent) -> Tensor:
        return _ops.pow(self, exponent)

    def neg(self) -> Tensor:
        return _ops.neg(self)

    def square(self) -> Tensor:
        return _ops.mul(self, self)

    def eq(self, other) -> Tensor:
        return _ops.eq(self, other)

    def ne(self, other) -> Tensor:
        return _ops.ne(self, other)

    def lt(self, other) -> Tensor:
        return _ops.lt(self, other)

    def le(self, other) -> Tensor:
        return _ops.le(self, other)

    def gt(self, other) -> Tensor:
        return _ops.gt(self, other)

    def ge(self, other) -> Tensor:
        return _ops.ge(self, other)

    def matmul(self, other) -> Tensor:
        return _ops.matmul(self, other)

    def isnan(self) -> Tensor:
        return _functional.isnan(self)

    def isinf(self) -> Tensor:
        return _functional.isinf(self)

    def isfinite(self) -> Tensor:
        return _functional.isfinite(self)

    def logical_not(self) -> Tensor:
        return _functional.logical_not(self)

    def logical_and(self, other) -> Tensor:
        return _functional.logical_and(self, other)

    def logical_or(self, other) -> Tensor:
        return _functional.logical_or(self, other)

    def logical_xor(self, other) -> Tensor:
        return _functional.logical_xor(self, other)

    def where(self, condition, other) -> Tensor:
        """``self`` where ``condition`` else ``other`` (PyTorch's ``Tensor.where``)."""
        return _ops.where(condition, self, other)

    # Scans, sorting, shape and indexing: the functions take both spellings of dim/keepdim.
    def cumsum(self, *args, **kwargs) -> Tensor:
        return _ops.cumsum(self, *args, **kwargs)

    def cumprod(self, *args, **kwargs) -> Tensor:
        return _ops.cumprod(self, *args, **kwargs)

    def logcumsumexp(self, *args, **kwargs) -> Tensor:
        return _ops.logcumsumexp(self, *args, **kwargs)

    def cummax(self, *args, **kwargs) -> tuple:
        return _functional.cummax(self, *args, **kwargs)

    def cummin(self, *args, **kwargs) -> tuple:
        return _functional.cummin(self, *args, **kwargs)

    def sort(self, *args, **kwargs) -> tuple:
        return _functional.sort(self, *args, **kwargs)

    def argsort(self, *args, **kwargs) -> Tensor:
        return _functional.argsort(self, *args, **kwargs)

    def topk(self, *args, **kwargs) -> tuple:
        return _functional.topk(self, *args, **kwargs)

    def any(self, *args, **kwargs) -> Tensor:
        return _functional.any(self, *args, **kwargs)

    def all(self, *args, **kwargs) -> Tensor:
        return _functional.all(self, *args, **kwargs)

    def median(self, *args, **kwargs) -> Tensor | tuple:
        return _functional.median(self, *args, **kwargs)

    def quantile(self, *args, **kwargs) -> Tensor:
        return _functional.quantile(self, *args, **kwargs)

    def norm(self, *args, **kwargs) -> Tensor:
        return _functional.norm(self, *args, **kwargs)

    def split(self, *args, **kwargs) -> tuple:
        return _functional.split(self, *args, **kwargs)

    def split_with_sizes(self, split_sizes, dim: int = 0) -> tuple:
        """Pieces of the listed lengths along ``dim`` (views), as PyTorch's."""
        return _functional.split(self, list(split_sizes), dim)

    def chunk(self, *args, **kwargs) -> tuple:
        return _functional.chunk(self, *args, **kwargs)

    def unbind(self, *args, **kwargs) -> tuple:
        return _functional.unbind(self, *args, **kwargs)

    def tril(self, *args, **kwargs) -> Tensor:
        return _functional.tril(self, *args, **kwargs)

    def triu(self, *args, **kwargs) -> Tensor:
        return _functional.triu(self, *args, **kwargs)

    def diag(self, *args, **kwargs) -> Tensor:
        return _functional.diag(self, *args, **kwargs)

    def diagonal(self, *args, **kwargs) -> Tensor:
        return _functional.diagonal(self, *args, **kwargs)

    def roll(self, *args, **kwargs) -> Tensor:
        return _functional.roll(self, *args, **kwargs)

    def tile(self, *args, **kwargs) -> Tensor:
        return _functional.tile(self, *args, **kwargs)

    def repeat_interleave(self, *args, **kwargs) -> Tensor:
        return _functional.repeat_interleave(self, *args, **kwargs)

    def flip(self, *args, **kwargs) -> Tensor:
        return _functional.flip(self, *args, **kwargs)

    def unflatten(self, *args, **kwargs) -> Tensor:
        return _functional.unflatten(self, *args, **kwargs)

    def movedim(self, *args, **kwargs) -> Tensor:
        return _functional.movedim(self, *args, **kwargs)

    def swapaxes(self, *args, **kwargs) -> Tensor:
        return _functional.swapaxes(self, *args, **kwargs)

    def gather(self, *args, **kwargs) -> Tensor:
        return _functional.gather(self, *args, **kwargs)

    def scatter(self, *args, **kwargs) -> Tensor:
        return _functional.scatter(self, *args, **kwargs)

    def scatter_add(self, *args, **kwargs) -> Tensor:
        return _functional.scatter_add(self, *args, **kwargs)

    def scatter_reduce(self, *args, **kwargs) -> Tensor:
        return _functional.scatter_reduce(self, *args, **kwargs)

    def index_select(self, *args, **kwargs) -> Tensor:
        return _functional.index_select(self, *args, **kwargs)

    def take_along_axis(self, *args, **kwargs) -> Tensor:
        return _functional.take_along_axis(self, *args, **kwargs)

    def masked_fill(self, *args, **kwargs) -> Tensor:
        return _functional.masked_fill(self, *args, **kwargs)

    def pow_(self, exponent) -> Tensor:
        return _inplace(self, "pow_", lambda t: _ops.pow(t, exponent))

    def masked_fill_(self, mask, value) -> Tensor:
        """``masked_fill`` in place, with the rules of the other in-place ops."""
        return _inplace(self, "masked_fill_", lambda t: _functional.masked_fill(t, mask, value))

    # -- PyTorch's small conveniences ----------------------------------------------------------
    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor converted to ``other``'s dtype."""
        return self.to(other.dtype)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(*other.shape)

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(*other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(*other.shape)

    def new_tensor(self, data, dtype=None, requires_grad: bool = False) -> Tensor:
        """A copy of ``data`` with this tensor's dtype unless ``dtype`` is given."""
        array = np.array(_dtype.as_array(data, dtype or self.data.dtype), copy=True)
        return Tensor(array, requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_size_arg(size), 0, dtype=dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_size_arg(size), 1, dtype=dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
        """A tensor of ``size`` filled with ``fill_value``, this tensor's dtype by default."""
        shape = _size_arg((size,) if isinstance(size, builtins.int) else tuple(size))
        array = np.full(shape, fill_value, dtype=np.dtype(dtype or self.data.dtype))
        return Tensor(array, requires_grad)

    def masked_select(self, *args, **kwargs) -> Tensor:
        return _functional.masked_select(self, *args, **kwargs)

    def nonzero(self, *args, **kwargs) -> Tensor | tuple:
        return _functional.nonzero(self, *args, **kwargs)

    def repeat(self, *sizes) -> Tensor:
        return _functional.repeat(self, *sizes)

    def take_along_dim(self, indices, dim=None) -> Tensor:
        return _functional.take_along_dim(self, indices, dim)

    swapdims = swapaxes
    moveaxis = movedim

    # -- PyTorch's methods of the same names as tn functions ------------------------------
    def clamp_min(self, min) -> Tensor:
        return _functional.clamp_min(self, min)

    def clamp_max(self, max) -> Tensor:
        return _functional.clamp_max(self, max)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None) -> Tensor:
        return _functional.nan_to_num(self, nan, posinf, neginf)

    def frac(self) -> Tensor:
        return _functional.frac(self)

    def fmax(self, other) -> Tensor:
        return _functional.fmax(self, other)

    def fmin(self, other) -> Tensor:
        return _functional.fmin(self, other)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan: builtins.bool = False) -> Tensor:
        return _functional.isclose(self, other, rtol, atol, equal_nan)

    def equal(self, other) -> builtins.bool:
        return _functional.equal(self, other)

    def diff(self, *args, **kwargs) -> Tensor:
        return _functional.diff(self, *args, **kwargs)

    def narrow(self, *args, **kwargs) -> Tensor:
        return _functional.narrow(self, *args, **kwargs)

    def select(self, *args, **kwargs) -> Tensor:
        return _functional.select(self, *args, **kwargs)

    def count_nonzero(self, *args, **kwargs) -> Tensor:
        return _functional.count_nonzero(self, *args, **kwargs)

    def bincount(self, weights=None, minlength: builtins.int = 0) -> Tensor:
        return _functional.bincount(self, weights, minlength)

    def cov(self, **kwargs) -> Tensor:
        return _functional.cov(self, **kwargs)

    def corrcoef(self) -> Tensor:
        return _functional.corrcoef(self)

    def mm(self, mat2) -> Tensor:
        return _ops.mm(self, mat2)

    def mv(self, vec) -> Tensor:
        return _ops.mv(self, vec)

    def trace(self) -> Tensor:
        return _ops.trace(self)

    def kron(self, other) -> Tensor:
        return _ops.kron(self, other)

    def cross(self, other, dim=None) -> Tensor:
        return _ops.cross(self, other, dim)

    # == end of issue 11 methods ==

    # -- PyTorch's dtype conversions (last: their names shadow builtins in the class body) --
    def half(self) -> Tensor:
        return _ops.cast(self, np.float16)

    def long(self) -> Tensor:
        return _ops.cast(self, np.int64)

    def int(self) -> Tensor:
        return _ops.cast(self, np.int32)

    def bool(self) -> Tensor:
        return _ops.cast(self, np.bool_)


# -- PyTorch's predicates on tensors ----------------------------------------------------------
def is_tensor(obj: object) -> bool:
    """Whether ``obj`` is a tinynet Tensor (``torch.is_tensor``).

    >>> import tinynet as tn
    >>> tn.is_tensor(tn.ones(1)), tn.is_tensor([1.0])
    (True, False)
    """
    return isinstance(obj, Tensor)


def _tensor_argument(obj: object, name: str) -> Tensor:
    if not isinstance(obj, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(obj).__name__}")
    return obj


def is_floating_point(input: Tensor) -> bool:
    """Whether the tensor holds floating values (``torch.is_floating_point``)."""
    return _tensor_argument(input, "is_floating_point").is_floating_point()


def numel(input: Tensor) -> builtins.int:
    """The number of elements of the tensor (``torch.numel``)."""
    return _tensor_argument(input, "numel").numel()


# -- types of the public API ---------------------------------------------------------------
#: What the public functions take where they take a tensor: a Tensor, or anything NumPy
#: makes an array of (a number, a nested sequence, an ndarray).
TensorLike: TypeAlias = Tensor | npt.ArrayLike
#: An ``axis`` argument: one axis, several, or None for all of them.
Axis: TypeAlias = int | tuple[int, ...] | None


def to_arguments(args: tuple, dtype=None, device=None):
    """The dtype that ``.to(*args, dtype=, device=)`` asks for, read as PyTorch does (a
    device, a dtype, or a tensor whose dtype to take); any device but the CPU is refused."""
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif _device.is_device(arg):
            device = arg
        else:
            dtype = arg
    _device.check(device)
    return dtype


def _put(tensor: Tensor, index, value: Tensor) -> None:
    """``tensor[index] = value`` for integer arrays and masks, recorded (``index_put_``)."""
    positions = np.arange(tensor.data.size).reshape(tensor.data.shape)[index]
    if np.unique(positions).size != positions.size:
        raise RuntimeError(
            "__setitem__: the index repeats a position, so which assigned value lands there is "
            "undefined (in PyTorch too); make the indices unique, or add with index_add"
        )
    chosen = np.zeros(tensor.data.shape, dtype=bool)
    chosen.reshape(-1)[positions.ravel()] = True
    if value.data.dtype != tensor.data.dtype:
        value = _ops.cast(value, tensor.data.dtype)
    values = _ops.broadcast_to(value, positions.shape)

    def compute(t: Tensor) -> Tensor:
        flat = _movement.IndexAdd.apply(values, positions, (t.data.size,))
        return _ops.where(chosen, _ops.reshape(flat, t.data.shape), t)

    _inplace(tensor, "__setitem__", compute)


def _same_memory(a: Tensor, b: Tensor) -> bool:
    """Whether ``a`` and ``b`` are views of the same elements of the same tensor."""
    x, y = a.data, b.data
    return (
        x.shape == y.shape
        and x.strides == y.strides
        and x.dtype == y.dtype
        and x.__array_interface__["data"][0] == y.__array_interface__["data"][0]
        and _counter_owner(a) is _counter_owner(b)
    )


def _plain_index(index):
    """``index`` with Tensors replaced by their arrays, for NumPy item assignment."""
    if isinstance(index, tuple):
        return tuple(_index_array(part) if isinstance(part, Tensor) else part for part in index)
    return _index_array(index) if isinstance(index, Tensor) else index


def _scaled(other, alpha):
    return other if alpha == 1 else _ops.mul(other, alpha)


def _bitwise(ufunc, symbol: str, *operands) -> Tensor:
    """A bitwise ufunc on boolean or integer operands; floating ones raise as in PyTorch."""
    arrays = [_dtype.as_array(o.data if isinstance(o, Tensor) else o) for o in operands]
    for array in arrays:
        if array.dtype.kind not in "biu":
            raise _errors.DTypeError(
                f"{symbol} is bitwise: it needs boolean or integer tensors, got {array.dtype}; "
                "for a mask compare first (x > 0), or use tn.logical_and/or/not"
            )
    if len(arrays) == 2:  # a Python int or bool beside a tensor takes the tensor's dtype
        a, b = operands
        if not isinstance(a, Tensor) and arrays[0].ndim == 0:
            arrays[0] = _dtype.weak_scalar_array(a, arrays[1].dtype)
        elif not isinstance(b, Tensor) and arrays[1].ndim == 0:
            arrays[1] = _dtype.weak_scalar_array(b, arrays[0].dtype)
    return Tensor._wrap(np.asarray(ufunc(*arrays)))


def _overwrite(target: Tensor, values) -> Tensor:
    """``values`` broadcast to ``target``'s shape and dtype, as a new array, in the graph."""
    if isinstance(values, np.ndarray):
        values = Tensor._wrap(values.astype(target.data.dtype, copy=False))
    everywhere = np.ones(target.data.shape, dtype=bool)
    result = _ops.where(everywhere, values, target)
    return result if result.data.dtype == target.data.dtype else result.astype(target.dtype)


def bump_version(tensor: Tensor, writer: str | None = None) -> None:
    """Record an in-place write to ``tensor``'s data (optimizers call this for each step).

    ``writer`` says who wrote (``"add_ at train.py:12"``), for the error of a stale graph.
    """
    counter = inplace_writes
    stamp = counter.count = counter.count + 1
    state = tensor._version
    if state.__class__ is tuple:
        tensor._version = (state[0] + 1, stamp, writer)
    elif state.__class__ is builtins.int:  # 0: the first write
        tensor._version = (1, stamp, writer)
    else:  # a view or a detach() alias: the counter is the tensor it shares
        owner = _counter_owner(tensor)
        state = owner._version
        owner._version = (
            (state[0] + 1, stamp, writer) if state.__class__ is tuple else (1, stamp, writer)
        )


def _counter_owner(tensor: Tensor) -> Tensor:
    """The tensor whose version counter ``tensor`` shares (itself if it has its own)."""
    state: Any = tensor._version
    while state.__class__ is not tuple and state.__class__ is not builtins.int:
        tensor = state[0] if state.__class__ is list else state
        state = tensor._version
    return tensor


def last_writer(tensor: Tensor) -> str | None:
    """Who last wrote ``tensor``'s memory in place (None if unknown or never)."""
    state = _version_state(tensor)
    return state[2] if len(state) > 2 else None


def _caller_site() -> str:
    """``file.py:line`` of the first caller outside the tinynet package."""
    frame: types.FrameType | None = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "an unknown line"
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _version_state(tensor: Tensor) -> tuple:
    state: Any = tensor._version
    if state.__class__ is not tuple and state.__class__ is not builtins.int:
        state = _counter_owner(tensor)._version
    return (0, 0) if state.__class__ is builtins.int else state


def version_of(tensor: Tensor) -> int:
    """The number of in-place writes ``tensor``'s memory has seen."""
    return _version_state(tensor)[0]


def written_since(tensor: Tensor, stamp: int) -> bool:
    """True if ``tensor``'s memory was written in place after write stamp ``stamp``."""
    return _version_state(tensor)[1] > stamp


def _write(tensor: Tensor, values: np.ndarray, name: str) -> None:
    if (
        values.shape != tensor.data.shape
        and np.broadcast_shapes(values.shape, tensor.data.shape) != tensor.data.shape
    ):
        raise _errors.ShapeError(
            f"{name}: the result of shape {values.shape} does not fit in place into a tensor "
            f"of shape {tensor.shape}; use the out-of-place form"
        )
    if values.dtype != tensor.data.dtype and not np.can_cast(
        values.dtype, tensor.data.dtype, casting="same_kind"
    ):
        raise _errors.DTypeError(
            f"{name}: result type {values.dtype} can't be cast to the tensor's dtype "
            f"{tensor.dtype} in place; use the out-of-place form, or convert with .to(...)"
        )
    if not tensor.data.flags.writeable:
        raise RuntimeError(
            f"{name}: this tensor's memory is read-only (a broadcast view); clone() it first"
        )
    np.copyto(tensor.data, values, casting="same_kind")


def _inplace(tensor: Tensor, name: str, compute) -> Tensor:
    """Write ``compute(tensor)`` into ``tensor``'s memory, recording it when grad mode says so.

    A recorded in-place op rebases the tensor onto the op's node; the node keeps a copy of
    the old values, so its backward sees what its forward saw. ``tn.compile``'s recorder is
    told what was written with what (``inplace_write``).
    """
    values = _write_in_place(tensor, name, compute)
    recorder = _autograd.trace_hook()
    if recorder is not None:
        recorder.inplace_write(f"{name} at {_caller_site()}", tensor.data, values)
    return tensor


def _write_in_place(tensor: Tensor, name: str, compute) -> np.ndarray:
    """``_inplace``'s write; returns the array of values written."""
    if not tensor.data.flags.writeable:
        _make_writable(tensor)
    if grad_mode.enabled:
        if isinstance(tensor._version, Tensor):  # a view made by an op: PyTorch's CopySlices
            return _write_view(tensor, name, compute)
        if tensor._requires_grad:
            if tensor._node is None:
                raise RuntimeError(_leaf_message(name))
            if tensor.data.base is not None and _views_an_input(tensor):
                raise RuntimeError(
                    f"{name}: this tensor views the memory of its op's input, but the op did "
                    "not make it a view (a NumPy view through another object, such as "
                    "as_strided's), so the write cannot be recorded; use clone() first"
                )
    if not grad_mode.enabled:
        values = compute(Tensor._wrap(tensor.data)).data
        _write(tensor, values, name)
        bump_version(tensor, f"{name} at {_caller_site()}")
        return values
    source = Tensor._wrap(tensor.data, tensor._requires_grad, tensor._node)
    mark = _autograd.order_mark()
    result = compute(source)
    node = result._node
    if node is None:
        _write(tensor, result.data, name)
        bump_version(tensor, f"{name} at {_caller_site()}")
        return result.data
    if result.data.shape != tensor.data.shape:
        _write(tensor, result.data, name)  # raises the shape error
    source.data = tensor.data.copy()
    # Most ops (x.relu_(), x.mul_(2), x.add_(w)) read nothing that reads the tensor.
    newest_kept = mark if tensor._node is None else tensor._node._order
    for arg in node.inputs:
        if arg is not source and (
            arg is tensor
            or (
                arg.__class__ is Tensor and arg._node is not None and arg._node._order < newest_kept
            )
        ):
            _stand_in(node, ((tensor, source),), mark)
            break
    _write(tensor, result.data, name)
    bump_version(tensor, f"{name} at {_caller_site()}")
    outside = not tensor._requires_grad
    _rebase(tensor, node)
    if outside and _outside_views:
        _regenerate_views(tensor, name)
    return result.data


def _views_an_input(tensor: Tensor) -> bool:
    """Whether ``tensor``'s memory (not linked as a view) may be an input's of its op: a
    copy (integer-array indexing, a reshape that cannot view) is written as in PyTorch."""
    node = tensor._node
    inputs: tuple = node.inputs if node is not None and node.inputs is not None else ()
    return any(
        isinstance(arg, Tensor) and np.may_share_memory(arg.data, tensor.data) for arg in inputs
    )


def _make_writable(tensor: Tensor) -> None:
    """Let a write through a view that NumPy made read-only (a broadcast that repeats no
    element, ``expand(1, n)`` of ``(n,)``) reach its base; refuse one that repeats elements
    (stride 0) with PyTorch's error, before anything is written."""
    array = tensor.data
    if any(n > 1 and step == 0 for n, step in zip(array.shape, array.strides)):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )
    if isinstance(tensor._version, Tensor) and _counter_owner(tensor).data.flags.writeable:
        array.flags.writeable = True


def _leaf_message(name: str) -> str:
    return (
        f"a leaf Variable that requires grad is being used in an in-place operation "
        f"({name}); update it under `with tn.no_grad():` (as optimizers do) or use "
        "the out-of-place form"
    )


def _write_view(view: Tensor, name: str, compute) -> np.ndarray:
    """An in-place write into ``view``, a view made by an op (of a view...) of the memory of
    a tensor ``base``, recorded as PyTorch's ``CopySlices`` when it needs a gradient.

    ``base`` is rebased onto its old value with the view's region replaced by the op's
    result: the gradient flows to the old ``base`` outside the region and, inside it,
    through the op and the view back to the old ``base`` (the old value stands in for the
    view's old history). ``view``, and the views between it and ``base``, are rebased onto
    views of the new ``base``. Other views of ``base`` taken before keep their nodes, which
    read ``base``: its version counter makes their backward raise.
    """
    base, between = _view_chain(view, name)
    recorded = view._requires_grad
    outside = not base._requires_grad  # then every view between gets the new history
    if recorded:
        region = _region(view.data, base.data, name)
        old = Tensor._wrap(base.data.copy(), base._requires_grad, base._node)
        source = _view_of(old, view.data.shape, region)
    else:
        source = Tensor._wrap(view.data)
    mark = _autograd.order_mark()
    result = compute(source)
    node = result._node
    if node is None:
        _write(view, result.data, name)
        bump_version(view, f"{name} at {_caller_site()}")
        return result.data
    if base._requires_grad and not recorded:
        raise RuntimeError(
            f"{name}: a view was created in no_grad mode and is being modified inplace with "
            "grad mode enabled; take the view and write it both inside or both outside "
            "no_grad (PyTorch forbids this too)"
        )
    if result.data.shape != view.data.shape:
        _write(view, result.data, name)  # raises the shape error
    if not recorded:  # neither tensor was in the graph: an operand brought the gradient
        region = _region(view.data, base.data, name)
        old = Tensor._wrap(base.data.copy())
        source.data = view.data.copy()
    middles = [
        (m, _region(m.data, base.data, name)) for m in between if m._requires_grad or outside
    ]
    stand_ins = [(m, _view_of(old, m.data.shape, r)) for m, r in middles if m._requires_grad]
    _stand_in(node, ((view, source), (base, old), *stand_ins), mark)
    _write(view, result.data, name)
    bump_version(view, f"{name} at {_caller_site()}")
    written = result if result.data.dtype == view.data.dtype else _ops.cast(result, view.dtype)
    _rebase(base, _scattered(written, old, region)._node)
    _rebase(view, _view_of(base, view.data.shape, region)._node)
    for middle, middle_region in middles:
        _rebase(middle, _view_of(base, middle.data.shape, middle_region)._node)
    if outside and _outside_views:
        _regenerate_views(base, name)
    # The op keeps reading ``result`` (kept by the new base's node): its own array, which
    # later writes through the view cannot change.
    return result.data


def _view_chain(view: Tensor, name: str) -> tuple[Tensor, list]:
    """The tensor whose memory ``view`` views, and the views between them; PyTorch's
    refusal of a write that would change a leaf that requires grad."""
    between = []
    base: Any = view._version
    while isinstance(base._version, Tensor):
        between.append(base)
        base = base._version
    if view._requires_grad and view._node is None:
        raise RuntimeError(_leaf_message(name))
    if view._requires_grad and any(t._requires_grad and t._node is None for t in (base, *between)):
        raise RuntimeError(
            f"a view of a leaf Variable that requires grad is being used in an in-place "
            f"operation ({name}); write into a clone() of the leaf, or update it under "
            "`with tn.no_grad():`"
        )
    return base, between


# Views taken of a tensor outside the graph, under the id of the tensor each views (weak
# references; a list starts with the tensor's own): a write that gives that tensor a history
# gives it to them too, as PyTorch regenerates a view's history from its base's. Without
# this nothing would lead from the tensor to its views, whose gradients would be lost.
_outside_views: dict[int, list] = {}


def remember_view(base: Tensor, view: Tensor) -> None:
    """Note that ``view`` (outside the graph) views ``base`` (``Function.apply`` calls this)."""
    key = id(base)
    entry = _outside_views.get(key)
    if entry is None or entry[0]() is not base:
        entry = _outside_views[key] = [weakref.ref(base, functools.partial(_forget_views, key))]
    elif len(entry) >= 64 and not len(entry) & (len(entry) - 1):  # amortized: at powers of 2
        entry[1:] = [ref for ref in entry[1:] if ref() is not None]
    entry.append(weakref.ref(view))


def _forget_views(key: int, base_ref: weakref.ref) -> None:
    entry = _outside_views.get(key)
    if entry is not None and entry[0] is base_ref:
        del _outside_views[key]


def _regenerate_views(base: Tensor, name: str) -> None:
    """Give the views of ``base`` (and their views) taken while it was outside the graph,
    and still outside, the history of views of ``base``, which a write just gave one."""
    stack = [base]
    while stack:
        viewed = stack.pop()
        entry = _outside_views.pop(id(viewed), None)
        for ref in entry[1:] if entry is not None and entry[0]() is viewed else ():
            view = ref()
            if view is None:
                continue
            if not view._requires_grad and view.data.dtype.kind == "f":
                region = _region(view.data, base.data, name, overlap=True)
                _rebase(view, _view_of(base, view.data.shape, region)._node)
            stack.append(view)


def _region(view: np.ndarray, base: np.ndarray, name: str, overlap: bool = False) -> tuple | None:
    """Where ``view``'s elements lie in ``base``: None when the view is all of ``base`` in C
    order (a reshape), else ``(positions, mask)``: the position in the flattened ``base`` of
    each element of the view, and the elements of ``base`` it covers (None: all of them).
    Found from the memory addresses, so any strided view (slices, transposes, steps,
    negative steps) is exact."""
    start = base.__array_interface__["data"][0]
    if (
        view.size == base.size
        and view.flags.c_contiguous
        and base.flags.c_contiguous
        and view.__array_interface__["data"][0] == start
    ):
        return None
    view_at = _addresses(view).ravel()
    if base.flags.c_contiguous:  # the common case: positions are offsets, no search
        positions, misaligned = np.divmod(view_at - start, base.itemsize)
        inside = not misaligned.any() and (positions >= 0).all() and (positions < base.size).all()
    else:
        base_at = _addresses(base).ravel()
        order = np.argsort(base_at, kind="stable")
        sorted_at = base_at[order]
        found = np.minimum(np.searchsorted(sorted_at, view_at), max(base.size - 1, 0))
        inside = (sorted_at[found] == view_at).all() and not (np.diff(sorted_at) == 0).any()
        positions = order[found]
    mask = np.zeros(base.size, dtype=bool)
    if inside and view.dtype == base.dtype:
        mask[positions] = True
    covered = np.count_nonzero(mask)
    if covered != view.size and not (overlap and covered):  # outside, or overlapping
        raise RuntimeError(
            f"{name}: this tensor views another one's memory in a way an in-place write "
            "cannot be recorded for (elements that overlap, or memory outside that tensor); "
            "clone() it first"
        )
    positions = positions.reshape(view.shape)
    return positions, (None if view.size == base.size else mask.reshape(base.shape))


def _addresses(array: np.ndarray) -> np.ndarray:
    """The memory address of each element of ``array``."""
    at = np.array(array.__array_interface__["data"][0], dtype=np.int64)
    for size, stride in zip(array.shape, array.strides):
        at = at[..., None] + np.arange(size, dtype=np.int64) * stride
    return at


def _view_of(tensor: Tensor, shape: tuple, region: tuple | None) -> Tensor:
    """The view ``_region`` describes, as recorded ops on ``tensor``."""
    if region is None:
        return _ops.reshape(tensor, shape)
    return _ops.getitem(_ops.reshape(tensor, -1), region[0])


def _scattered(values: Tensor, old: Tensor, region: tuple | None) -> Tensor:
    """``old`` with the region ``_region`` describes replaced by ``values``, as recorded ops."""
    shape = old.data.shape
    if region is None:
        return _ops.reshape(values, shape)
    positions, mask = region
    flat = _movement.IndexAdd.apply(values, positions, (old.data.size,))
    scattered = _ops.reshape(flat, shape)
    return scattered if mask is None else _ops.where(mask, scattered, old)


def _stand_in(node, pairs: tuple, mark: int) -> None:
    """Make the op's nodes, and the nodes between them and the tensors about to be rebased,
    read each tensor's stand-in (its old value, with its old history) where they read the
    tensor at its current version (``y.add_(y)``, ``y.mul_(y.sum())``, ``y[mask] += 1``):
    PyTorch's edges point at the old history, ours at a Tensor that is about to get a new
    one. Walks only nodes newer than the rebased tensors' nodes, or than ``mark`` (taken
    before the op ran); a node recorded before the tensor's last write is left to its
    version check."""
    oldest = max([mark] + [t._node._order for t, _ in pairs if t._node is not None])
    if not _reads_newer(node, pairs, oldest):
        return
    stand_ins = {id(tensor): (tensor, stand_in) for tensor, stand_in in pairs}
    fresh = {id(stand_in) for _, stand_in in pairs}
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        inputs = current.inputs
        if id(current) in seen or inputs is None:
            continue
        seen.add(id(current))
        changed = []
        for arg in inputs:
            if isinstance(arg, Tensor) and id(arg) not in fresh:
                pair = stand_ins.get(id(arg))
                if pair is not None and pair[0] is arg and not written_since(arg, current._stamp):
                    arg = pair[1]
                elif arg._node is not None and arg._node._order < oldest:
                    stack.append(arg._node)
            changed.append(arg)
        if any(new is not old for new, old in zip(changed, inputs)):
            current.inputs = tuple(changed)


def _reads_newer(node, pairs: tuple, oldest: int) -> bool:
    """Whether ``node`` read a tensor about to be rebased, or a tensor other than the
    stand-ins made after the oldest of them (which may read one)."""
    for arg in node.inputs:
        if arg.__class__ is not Tensor:
            continue
        for tensor, stand_in in pairs:
            if arg is tensor:
                return True
            if arg is stand_in:
                break
        else:
            if arg._node is not None and arg._node._order < oldest:
                return True
    return False


def _rebase(tensor: Tensor, node) -> None:
    """Make ``tensor`` (just written in place) the output of ``node``."""
    retained = tensor.retains_grad
    tensor._node = node
    if retained:
        node._retain_grad_of(tensor)
    tensor._requires_grad = True
    node._rebase_output(tensor)


def write_in_place(tensor: Tensor, name: str, compute) -> Tensor:
    """``compute(tensor)`` written into ``tensor`` as PyTorch's in-place op ``name``, by the
    rules of ``relu_()`` and its siblings (``nn.functional``'s ``inplace=True`` forms)."""
    return _inplace(tensor, name, compute)


def _axis(dim: int, ndim: int) -> int:
    if not -ndim <= dim < max(ndim, 1):
        raise IndexError(f"dimension {dim} is out of range for a tensor of {ndim} dimensions")
    return dim % max(ndim, 1)


def _size_arg(size: tuple) -> tuple:
    """``(2, 3)`` or ``((2, 3),)`` as the shape ``(2, 3)``; sizes must be ints, not floats."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        return tuple(operator.index(n) for n in size)
    except TypeError:
        raise TypeError(f"size must be a tuple of ints, got {size!r}") from None


def _rebuild_tensor(data, requires_grad):
    return Tensor(data, requires_grad=requires_grad)


def is_grad_recording(*tensors) -> bool:
    """True when an op on ``tensors`` must be recorded in the graph."""
    if not grad_mode.enabled:
        return False
    return any(t._requires_grad for t in tensors if isinstance(t, Tensor))


# The knot between the Tensor and the ops that build Tensors, tied in one place.
from tinynet import _random  # noqa: E402
from tinynet import autograd as _autograd  # noqa: E402
from tinynet import errors as _errors  # noqa: E402
from tinynet.ops._args import dim_aliases as _dim_aliases  # noqa: E402
from tinynet.ops._args import index_array as _index_array  # noqa: E402


# PyTorch's in-place unary ops: ``x.exp_()`` is ``x.exp()`` written back, by the rules above.
def _unary_inplace(name: str):
    def method(self: Tensor) -> Tensor:
        return _inplace(self, f"{name}_", lambda t: getattr(t, name)())

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"``{name}`` in place (PyTorch's ``{name}_``)."
    return method


for _name in (
    "abs", "neg", "exp", "log", "sqrt", "sigmoid", "tanh", "relu", "floor", "ceil", "trunc",
    "round", "sign",
):  # fmt: skip
    setattr(Tensor, f"{_name}_", _unary_inplace(_name))

# PyTorch's dim=/keepdim= beside NumPy's axis=/keepdims= on every method taking an axis.
for _name in (
    "sum", "mean", "var", "std", "max", "min", "prod", "logsumexp", "softmax", "log_softmax",
    "argmax", "argmin", "squeeze", "unsqueeze", "amax", "amin",
):  # fmt: skip
    setattr(Tensor, _name, _dim_aliases(getattr(Tensor, _name)))
from tinynet import functional as _functional  # noqa: E402
from tinynet import ops as _ops  # noqa: E402
from tinynet.ops import movement as _movement  # noqa: E402
from tinynet.ops import reduce as _reductions  # noqa: E402
