"""The Tensor: an ndarray, its gradient, and the node of the graph that made it.

Operators and methods delegate to ``tinynet.ops`` (primitives) and ``tinynet.functional``
(composites). Those modules build Tensors, so the two layers know each other: the knot is
tied once, in the imports at the bottom of this file.
"""

from __future__ import annotations

import builtins
import operator
import warnings
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from tinynet import _device, _dtype, _printing
from tinynet._grad_mode import grad_mode


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
        alias._version = [counter_owner(self)]
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
        return write_in_place(self, "add_", lambda t: _ops.add(t, _scaled(other, alpha)))

    def sub_(self, other, alpha=1) -> Tensor:
        return write_in_place(self, "sub_", lambda t: _ops.sub(t, _scaled(other, alpha)))

    def mul_(self, other) -> Tensor:
        return write_in_place(self, "mul_", lambda t: _ops.mul(t, other))

    def div_(self, other) -> Tensor:
        return write_in_place(self, "div_", lambda t: _ops.div(t, other))

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def clamp_(self, min=None, max=None) -> Tensor:
        return write_in_place(self, "clamp_", lambda t: _ops.clip(t, min, max))

    clip_ = clamp_

    def copy_(self, src) -> Tensor:
        """Copy ``src`` (broadcast to this shape) into this tensor; gradients flow to ``src``."""
        return write_in_place(self, "copy_", lambda t: overwrite(t, src))

    def fill_(self, value) -> Tensor:
        return write_in_place(self, "fill_", lambda t: overwrite(t, value))

    def zero_(self) -> Tensor:
        return write_in_place(self, "zero_", lambda t: overwrite(t, 0))

    def uniform_(
        self, a: builtins.float = 0.0, b: builtins.float = 1.0, *, generator=None, rng=None
    ) -> Tensor:
        """Fill with samples of U[a, b) from ``generator`` or ``rng`` (neither: the global
        generator), as PyTorch's ``uniform_(from, to)``."""
        if not a <= b:
            raise RuntimeError(f"uniform_ expects a [from, to) range, but found from={a} > to={b}")
        return _fill_drawn(self, "uniform_", generator, rng, _uniform, a, b)

    def normal_(
        self, mean: builtins.float = 0.0, std: builtins.float = 1.0, *, generator=None, rng=None
    ) -> Tensor:
        """Fill with samples of N(mean, std**2) from ``generator`` or ``rng`` (neither: the
        global generator)."""
        if not std >= 0:
            raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
        return _fill_drawn(self, "normal_", generator, rng, _normal, mean, std)

    def clone(self) -> Tensor:
        """A copy with its own memory, recorded in the graph (gradients flow back)."""
        return overwrite(self, self)

    def __setitem__(self, index, value) -> None:
        """``x[index] = value`` in place, with the rules of the other in-place ops.

        Recorded on a non-leaf (the assigned elements then get no gradient). A value that
        requires grad gets its gradient: copied into the view ``x[index]`` for integers and
        slices (``x[index].copy_(value)``, as PyTorch), scattered for integer arrays and
        masks (PyTorch's ``index_put_``; repeated positions are refused). While
        ``tn.compile`` records, every Tensor value that fits without dropping leading 1s
        takes that path: its ops are recorded, so a replay writes each call's values.
        """
        if isinstance(value, Tensor) and (
            (value._requires_grad and grad_mode.enabled) or _autograd.trace_hook() is not None
        ):
            part = _ops.getitem(self, index)
            if value._node is not None and same_memory(part, value):  # ``x[i] += 1``: done
                return
            if (value._requires_grad and grad_mode.enabled) or value.ndim <= part.ndim:
                if isinstance(part._version, Tensor) and part.data.base is not None:
                    part.copy_(value)
                else:
                    index_put(self, _plain_index(index), value)
                return
        index = _plain_index(index)
        # The index's arrays (a mask computed in a tn.compile'd step) go to traced calls, so
        # a replay scatters each call's positions.
        parts = index if isinstance(index, tuple) else (index,)
        tuple_index = isinstance(index, tuple)
        data = self.data
        given = value.data if isinstance(value, Tensor) else value
        values = _autograd.traced_call(
            _scattered, data.shape, data.dtype, given, tuple_index, *parts
        )
        chosen = _autograd.traced_call(_scattered, data.shape, np.bool_, True, tuple_index, *parts)
        write_in_place(self, "__setitem__", lambda t: _ops.where(chosen, Tensor._wrap(values), t))

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
        return write_in_place(self, "pow_", lambda t: _ops.pow(t, exponent))

    def masked_fill_(self, mask, value) -> Tensor:
        """``masked_fill`` in place, with the rules of the other in-place ops."""
        return write_in_place(
            self, "masked_fill_", lambda t: _functional.masked_fill(t, mask, value)
        )

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
        # traced, as tn.full: a tn.compile replay makes a fresh array the step may write into
        dtype = np.dtype(dtype or self.data.dtype)
        return Tensor(_autograd.traced_call(np.full, shape, fill_value, dtype), requires_grad)

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
        return _ops.linalg.cross_product(self, other, dim)

    # -- PyTorch's names, session 9: order statistics, NaN-aware reductions, histograms ----
    def kthvalue(self, *args, **kwargs) -> tuple:
        return _functional.kthvalue(self, *args, **kwargs)

    def mode(self, *args, **kwargs) -> tuple:
        return _functional.mode(self, *args, **kwargs)

    def aminmax(self, **kwargs) -> tuple:
        return _functional.aminmax(self, **kwargs)

    def nanmedian(self, *args, **kwargs) -> Tensor | tuple:
        return _functional.nanmedian(self, *args, **kwargs)

    def nanquantile(self, *args, **kwargs) -> Tensor:
        return _functional.nanquantile(self, *args, **kwargs)

    def msort(self) -> Tensor:
        return _functional.msort(self)

    def nansum(self, *args, **kwargs) -> Tensor:
        return _functional.nansum(self, *args, **kwargs)

    def nanmean(self, *args, **kwargs) -> Tensor:
        return _functional.nanmean(self, *args, **kwargs)

    def histc(self, bins: builtins.int = 100, min=0, max=0) -> Tensor:
        return _functional.histc(self, bins, min, max)

    def histogram(self, bins=100, **kwargs) -> tuple:
        return _functional.histogram(self, bins, **kwargs)

    def unique(self, *args, **kwargs) -> Tensor | tuple:
        return _functional.unique(self, *args, **kwargs)

    def unique_consecutive(self, *args, **kwargs) -> Tensor | tuple:
        return _functional.unique_consecutive(self, *args, **kwargs)

    def ravel(self) -> Tensor:
        return _functional.ravel(self)

    def reciprocal(self) -> Tensor:
        return _functional.reciprocal(self)

    def argwhere(self) -> Tensor:
        return _functional.argwhere(self)

    # -- PyTorch's names, session 10 --------------------------------------------------------
    def addcmul(self, tensor1, tensor2, *, value=1) -> Tensor:
        return _functional.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1) -> Tensor:
        return _functional.addcdiv(self, tensor1, tensor2, value=value)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
        return _functional.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def inner(self, other) -> Tensor:
        return _functional.inner(self, other)

    def logit(self, eps: builtins.float | None = None) -> Tensor:
        return _functional.logit(self, eps)

    def xlogy(self, other) -> Tensor:
        return _ops.xlogy(self, other)

    def deg2rad(self) -> Tensor:
        return _functional.deg2rad(self)

    def rad2deg(self) -> Tensor:
        return _functional.rad2deg(self)

    def negative(self) -> Tensor:
        return _ops.neg(self)

    def absolute(self) -> Tensor:
        return _ops.abs(self)

    def multiply(self, other) -> Tensor:
        return _ops.mul(self, other)

    def subtract(self, other, *, alpha=1) -> Tensor:
        return self.sub(other, alpha=alpha)

    def divide(self, other, *, rounding_mode: str | None = None) -> Tensor:
        return self.div(other, rounding_mode=rounding_mode)

    def fliplr(self) -> Tensor:
        return _functional.fliplr(self)

    def flipud(self) -> Tensor:
        return _functional.flipud(self)

    def rot90(self, k: builtins.int = 1, dims=(0, 1)) -> Tensor:
        return _functional.rot90(self, k, dims)

    def erfc(self) -> Tensor:
        return _ops.erfc(self)

    def sinc(self) -> Tensor:
        return _functional.sinc(self)

    def signbit(self) -> Tensor:
        return _functional.signbit(self)

    def copysign(self, other) -> Tensor:
        return _functional.copysign(self, other)

    def float_power(self, exponent) -> Tensor:
        return _functional.float_power(self, exponent)

    def gcd(self, other) -> Tensor:
        return _functional.gcd(self, other)

    def lcm(self, other) -> Tensor:
        return _functional.lcm(self, other)

    def logdet(self) -> Tensor:
        return _functional.logdet(self)

    def matrix_power(self, n: builtins.int) -> Tensor:
        return _functional.matrix_power(self, n)

    def diag_embed(self, offset: builtins.int = 0, dim1: builtins.int = -2, dim2=-1) -> Tensor:
        return _functional.diag_embed(self, offset, dim1, dim2)

    def multinomial(
        self, num_samples: builtins.int, replacement: builtins.bool = False, **kwargs
    ) -> Tensor:
        """Category indices drawn with this tensor's weights (``tn.multinomial``)."""
        return _sampling.multinomial(self, num_samples, replacement, **kwargs)

    def bernoulli(self, p=None, **kwargs) -> Tensor:
        """0 or 1, 1 with each element's probability or ``p`` (``tn.bernoulli``)."""
        return _sampling.bernoulli(self, p, **kwargs)

    def bernoulli_(self, p=0.5, *, generator=None, rng=None) -> Tensor:
        """Fill with 0 or 1, 1 with probability ``p`` (a number, or a tensor broadcasting
        to this shape), as PyTorch's ``bernoulli_``; any dtype."""
        chances = p.data if isinstance(p, Tensor) else np.asarray(p, dtype=np.float64)
        if chances.dtype.kind != "f":
            chances = chances.astype(np.float64)
        chances = np.broadcast_to(chances, self.data.shape)
        # The draw stays a Tensor, cast by the write: a compiled step draws afresh.
        drawn = _sampling.bernoulli(chances, generator=generator, rng=rng)
        return write_in_place(self, "bernoulli_", lambda t: overwrite(t, drawn))

    # PyTorch's other random fills: each draws from ``generator`` (PyTorch's name) or
    # ``rng`` (a seed or a Generator; neither: the global generator), as uniform_ does.
    def exponential_(self, lambd: builtins.float = 1.0, *, generator=None, rng=None) -> Tensor:
        """Fill with samples of the exponential distribution of rate ``lambd``."""
        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        return _fill_drawn(self, "exponential_", generator, rng, _exponential, 1.0 / lambd)

    def geometric_(self, p: builtins.float, *, generator=None, rng=None) -> Tensor:
        """Fill with the number of Bernoulli(``p``) trials up to the first success (1, 2, ...)."""
        if not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        return _fill_drawn(self, "geometric_", generator, rng, _geometric, p)

    def cauchy_(
        self, median: builtins.float = 0.0, sigma: builtins.float = 1.0, *, generator=None, rng=None
    ) -> Tensor:
        """Fill with samples of the Cauchy distribution ``median + sigma * tan(pi (U - 1/2))``."""
        if not sigma > 0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
        return _fill_drawn(self, "cauchy_", generator, rng, _cauchy, median, sigma)

    def log_normal_(
        self, mean: builtins.float = 1.0, std: builtins.float = 2.0, *, generator=None, rng=None
    ) -> Tensor:
        """Fill with ``exp`` of samples of N(``mean``, ``std**2``)."""
        if not std > 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        return _fill_drawn(self, "log_normal_", generator, rng, _log_normal, mean, std)

    def random_(self, *bounds, generator=None, rng=None, **named) -> Tensor:
        """Fill with whole numbers drawn uniformly from ``[from, to - 1]`` (PyTorch's
        ``random_(from=0, to=None)``; ``random_(to)`` alone is ``[0, to - 1]``). Without
        ``to``: up to the largest whole number the dtype holds exactly (``2**24`` for
        float32, ``2**53`` for float64, the integer dtype's maximum)."""
        low, high = _random_bounds(bounds, named, self.data.dtype)
        return _fill_drawn(self, "random_", generator, rng, _whole_numbers, low, high)

    def nelement(self) -> builtins.int:
        """The number of elements (PyTorch's alias of ``numel``)."""
        return self.data.size

    def ndimension(self) -> builtins.int:
        """The number of dimensions (PyTorch's alias of ``dim``)."""
        return self.data.ndim

    def type(self, dtype=None, non_blocking: builtins.bool = False) -> str | Tensor:
        """PyTorch's ``type``: without ``dtype`` the type's name (``'tinynet.FloatTensor'``
        for float32, ``'tinynet.LongTensor'`` for int64 ...); with one, this tensor cast to
        it (itself if it has it already). ``dtype`` is a dtype or such a name
        (``'torch.DoubleTensor'`` is read too).

        >>> import tinynet as tn
        >>> x = tn.tensor([1, 2])
        >>> x.type(), x.type(tn.float64).type(), x.type("torch.FloatTensor").dtype
        ('tinynet.LongTensor', 'tinynet.DoubleTensor', dtype('float32'))
        """
        if dtype is None:
            name = _TYPE_NAMES.get(self.data.dtype)
            if name is None:
                raise TypeError(f"type(): no tensor type name for dtype {self.dtype}")
            return f"tinynet.{name}"
        return self.to(_dtype_of_type(dtype))

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


def _plain_index(index):
    """``index`` with Tensors replaced by their arrays, for NumPy item assignment."""
    if isinstance(index, tuple):
        return tuple(_index_array(part) if isinstance(part, Tensor) else part for part in index)
    return _index_array(index) if isinstance(index, Tensor) else index


def _scattered(shape, dtype, value, tuple_index: bool, *parts) -> np.ndarray:
    """Zeros of ``shape`` and ``dtype`` with ``value`` assigned at the index ``parts`` (one
    part, or a tuple of them): ``__setitem__``'s values and positions."""
    out = np.zeros(shape, dtype)
    out[parts if tuple_index else parts[0]] = value
    return out


def _scaled(other, alpha):
    return other if alpha == 1 else _ops.mul(other, alpha)


def _constant_inplace(name: str):
    """PyTorch's in-place comparison or logical method ``{name}_``: 1 or 0 written in the
    tensor's own dtype, constants no gradient flows through (PyTorch's zero gradient)."""

    def method(self: Tensor, *args) -> Tensor:
        return write_in_place(self, f"{name}_", lambda t: overwrite(t, getattr(t, name)(*args)))

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"``{name}`` in place, as 1 or 0 in this tensor's dtype (``{name}_``)."
    return method


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
    # traced: a tn.compile replay computes each call's (a mask's ~, & of two masks)
    return Tensor._wrap(_autograd.traced_call(_as_array, ufunc, *arrays))


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


def _fill_drawn(tensor: Tensor, name: str, generator, rng, draw, *parameters) -> Tensor:
    """Write ``draw(generator, *parameters, shape)`` into ``tensor`` in place, the draw made
    through ``traced_call`` so that a compiled step draws afresh."""
    source = _random.generator_of(generator, rng)
    # The cast is part of the traced call: an array made outside it would be a constant of
    # a compiled program, the same draw at every replay.
    values = _autograd.traced_call(
        _draw_as, tensor.data.dtype, draw, source, *parameters, tensor.data.shape
    )
    return write_in_place(tensor, name, lambda t: overwrite(t, values))


def _draw_as(dtype, draw, source, *parameters_and_shape):
    return draw(source, *parameters_and_shape).astype(dtype)


def _uniform(source, low, high, shape):
    return source.uniform(low, high, shape)


def _normal(source, mean, std, shape):
    return source.normal(mean, std, shape)


def _exponential(source, scale, shape):
    return source.exponential(scale, shape)


def _geometric(source, p, shape):
    return source.geometric(p, shape)


def _cauchy(source, median, sigma, shape):
    return median + sigma * source.standard_cauchy(shape)


def _log_normal(source, mean, std, shape):
    return source.lognormal(mean, std, shape)


def _whole_numbers(source, low, high, shape):
    return source.integers(low, high, shape, endpoint=True)


def _random_bounds(bounds: tuple, named: dict, dtype: np.dtype) -> tuple:
    """``(low, high)``, both included, of ``random_(from=0, to=None)`` for ``dtype``."""
    unknown = set(named) - {"from", "to"}
    if len(bounds) > 2 or unknown:
        raise TypeError(f"random_() takes from and to, got {bounds} and {sorted(unknown)}")
    if len(bounds) == 1:  # random_(to)
        low, to = 0, bounds[0]
    else:
        low, to = (*bounds, None)[:2] if bounds else (0, None)
    low, to = named.get("from", low), named.get("to", to)
    if to is None:
        if dtype.kind == "f":
            high = 2 ** (np.finfo(dtype).nmant + 1)
        elif dtype.kind == "b":
            high = 1
        else:
            high = int(np.iinfo(dtype).max)
    else:
        high = int(to) - 1
    if high < low:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={to}"
        )
    return int(low), high


#: PyTorch's legacy tensor type names, for ``Tensor.type``.
_TYPE_NAMES: dict[np.dtype, str] = {
    np.dtype(np.float16): "HalfTensor",
    np.dtype(np.float32): "FloatTensor",
    np.dtype(np.float64): "DoubleTensor",
    np.dtype(np.uint8): "ByteTensor",
    np.dtype(np.int8): "CharTensor",
    np.dtype(np.int16): "ShortTensor",
    np.dtype(np.int32): "IntTensor",
    np.dtype(np.int64): "LongTensor",
    np.dtype(np.bool_): "BoolTensor",
}


def _dtype_of_type(dtype) -> np.dtype:
    """The dtype ``Tensor.type(dtype)`` asks for: a dtype, or a type name with the prefix
    ``tinynet.`` or ``torch.``."""
    if isinstance(dtype, str) and dtype.startswith(("tinynet.", "torch.")):
        name = dtype.split(".", 1)[1]
        for known, type_name in _TYPE_NAMES.items():
            if type_name == name:
                return known
        raise ValueError(
            f"type(): invalid type {dtype!r}; the names are "
            + ", ".join(f"tinynet.{n}" for n in _TYPE_NAMES.values())
        )
    return np.dtype(dtype)


def _rebuild_tensor(data, requires_grad):
    return Tensor(data, requires_grad=requires_grad)


def is_grad_recording(*tensors) -> bool:
    """True when an op on ``tensors`` must be recorded in the graph."""
    if not grad_mode.enabled:
        return False
    return any(t._requires_grad for t in tensors if isinstance(t, Tensor))


# The knot between the Tensor and the ops that build Tensors, tied in one place.
from tinynet import _random  # noqa: E402

# The in-place writes (tinynet.inplace) before autograd, which reads their version counters.
from tinynet.inplace import (  # noqa: E402
    counter_owner,
    index_put,
    overwrite,
    same_memory,
    unary_inplace,
    version_of,
    write_in_place,
)

# isort: split
from tinynet import autograd as _autograd  # noqa: E402
from tinynet import errors as _errors  # noqa: E402
from tinynet.ops._args import as_array as _as_array  # noqa: E402
from tinynet.ops._args import dim_aliases as _dim_aliases  # noqa: E402
from tinynet.ops._args import index_array as _index_array  # noqa: E402

# PyTorch's in-place forms of ops: ``x.exp_()`` is ``x.exp()`` written back (``unary_inplace``).
for _name in (
    "abs", "neg", "exp", "log", "sqrt", "sigmoid", "tanh", "relu", "floor", "ceil", "trunc",
    "round", "sign",
    "exp2", "expm1", "log2", "log10", "log1p", "rsqrt", "square", "frac", "erf", "sin", "cos",
    "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "reciprocal",
    # with arguments: x.clamp_min_(0) is x.clamp_min(0) written back
    "clamp_min", "clamp_max", "nan_to_num", "atan2", "hypot", "fmod", "remainder",
    "floor_divide", "lerp", "cumsum", "cumprod", "tril", "triu", "scatter", "scatter_add",
    "scatter_reduce",
    "addcmul", "addcdiv", "addmm", "logit", "xlogy", "deg2rad", "rad2deg", "negative",
    "absolute", "multiply", "subtract", "divide", "erfc", "sinc", "copysign", "gcd", "lcm",
):  # fmt: skip
    setattr(Tensor, f"{_name}_", unary_inplace(_name))

_float_power_written = unary_inplace("float_power")


def _float_power_(self: Tensor, exponent) -> Tensor:
    """``float_power`` in place: PyTorch's, for a float64 tensor only (the result's dtype)."""
    if self.data.dtype != np.float64:
        raise RuntimeError(
            f"the base given to float_power_ has dtype {self.dtype} but the operation's result "
            "requires dtype float64; convert with .double() first"
        )
    return _float_power_written(self, exponent)


Tensor.float_power_ = _float_power_  # type: ignore[attr-defined]

for _alias, _name in (
    ("arcsin_", "asin_"), ("arccos_", "acos_"), ("arctan_", "atan_"), ("arcsinh_", "asinh_"),
    ("arccosh_", "acosh_"), ("arctanh_", "atanh_"), ("arctan2_", "atan2_"),
):  # fmt: skip
    setattr(Tensor, _alias, getattr(Tensor, _name))
for _name in (
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "logical_not",
):  # fmt: skip
    setattr(Tensor, f"{_name}_", _constant_inplace(_name))

# PyTorch's dim=/keepdim= beside NumPy's axis=/keepdims= on every method taking an axis.
for _name in (
    "sum", "mean", "var", "std", "max", "min", "prod", "logsumexp", "softmax", "log_softmax",
    "argmax", "argmin", "squeeze", "unsqueeze", "amax", "amin", "size", "split_with_sizes",
    "take_along_dim", "cross",
):  # fmt: skip
    setattr(Tensor, _name, _dim_aliases(getattr(Tensor, _name)))
from tinynet import functional as _functional  # noqa: E402
from tinynet import ops as _ops  # noqa: E402
from tinynet import sampling as _sampling  # noqa: E402  (x.multinomial, x.bernoulli)
from tinynet.ops import movement as _movement  # noqa: E402
from tinynet.ops import reduce as _reductions  # noqa: E402
