"""The Tensor: an ndarray, its gradient, and the node of the graph that made it.

Operators and methods delegate to ``tinynet.ops`` (primitives) and ``tinynet.functional``
(composites). Those modules build Tensors, so the two layers know each other: the knot is
tied once, in the imports at the bottom of this file.
"""

from __future__ import annotations

import numpy as np

from tinynet import _dtype
from tinynet._grad_mode import _GradMode


class Tensor:
    """An n-dimensional array that can record operations for reverse-mode differentiation.

    >>> import numpy as np, tinynet as tn
    >>> x = tn.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    Tensor([2., 4.], dtype=float64)
    """

    __slots__ = ("data", "grad", "_requires_grad", "_node", "__weakref__")
    # Make NumPy defer to our reflected operators: ``array + tensor`` calls __radd__.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = _dtype.as_array(data, dtype)
        self.grad = None
        self._node = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool = False, node=None) -> Tensor:
        """Fast constructor for arrays that already follow the dtype policy."""
        tensor = object.__new__(Tensor)
        tensor.data = array
        tensor.grad = None
        tensor._requires_grad = requires_grad
        tensor._node = node
        return tensor

    # -- autograd state ---------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating tensors can require gradients, got dtype {self.data.dtype}; "
                "convert first, e.g. x.astype(tn.float64)"
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
    def grad_fn(self):
        """The recorded operation that produced this tensor (None for leaves)."""
        return self._node

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._wrap(self.data)

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
        if gradient is not None and type(gradient) is not Tensor:
            gradient = Tensor(gradient) if not isinstance(gradient, Tensor) else gradient
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

    @property
    def size(self) -> int:
        return self.data.size

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

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"only one-element tensors can be converted to Python scalars, got shape {self.shape}"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied). Refused while it requires grad."""
        if self._requires_grad:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; use detach().numpy()"
            )
        return self.data

    def tolist(self):
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

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
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

    to = astype

    def float(self) -> Tensor:
        return _ops.cast(self, np.float32)

    def double(self) -> Tensor:
        return _ops.cast(self, np.float64)

    # -- arithmetic ---------------------------------------------------------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    # -- comparisons (not differentiable) -------------------------------------------------
    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __eq__(self, other):
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    # -- elementwise ------------------------------------------------------------------------
    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def log1p(self):
        return _ops.log1p(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def abs(self):
        return _ops.abs(self)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def erf(self):
        return _ops.erf(self)

    def relu(self):
        return _ops.relu(self)

    def leaky_relu(self, negative_slope: float = 0.01):
        return _ops.leaky_relu(self, negative_slope)

    def elu(self, alpha: float = 1.0):
        return _ops.elu(self, alpha)

    def gelu(self, approximate: str = "none"):
        return _functional.gelu(self, approximate)

    def softplus(self, beta: float = 1.0):
        return _ops.softplus(self, beta)

    def clip(self, min=None, max=None):
        return _ops.clip(self, min, max)

    clamp = clip

    def maximum(self, other):
        return _ops.maximum(self, other)

    def minimum(self, other):
        return _ops.minimum(self, other)

    # -- reductions ---------------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False):
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return _ops.mean(self, axis, keepdims)

    def var(self, axis=None, correction: int = 1, keepdims: bool = False):
        return _functional.var(self, axis, correction, keepdims)

    def std(self, axis=None, correction: int = 1, keepdims: bool = False):
        return _functional.std(self, axis, correction, keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return _ops.max(self, axis, keepdims)

    def min(self, axis=None, keepdims: bool = False):
        return _ops.min(self, axis, keepdims)

    def prod(self, axis=None, keepdims: bool = False):
        return _ops.prod(self, axis, keepdims)

    def logsumexp(self, axis=None, keepdims: bool = False):
        return _ops.logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1):
        return _ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1):
        return _ops.log_softmax(self, axis)

    def argmax(self, axis=None, keepdims: bool = False):
        return _ops.argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims: bool = False):
        return _ops.argmin(self, axis, keepdims)

    # -- shape ----------------------------------------------------------------------------------
    def reshape(self, *shape):
        return _ops.reshape(self, *shape)

    view = reshape

    def transpose(self, *axes):
        return _ops.transpose(self, *axes)

    @property
    def T(self):
        return _ops.transpose(self)

    def flatten(self, start_axis: int = 0, end_axis: int = -1):
        return _functional.flatten(self, start_axis, end_axis)

    def squeeze(self, axis=None):
        return _functional.squeeze(self, axis)

    def unsqueeze(self, axis: int):
        return _functional.unsqueeze(self, axis)

    def expand(self, *shape):
        return _functional.expand(self, *shape)

    def broadcast_to(self, shape):
        return _ops.broadcast_to(self, shape)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    # == issue 11: more ops as methods, PyTorch's names (dim, keepdim; axis, keepdims too) ==
    def floor(self):
        return _ops.floor(self)

    def ceil(self):
        return _ops.ceil(self)

    def round(self, decimals: int = 0):
        return _ops.round(self, decimals)

    __round__ = round

    def trunc(self):
        return _ops.trunc(self)

    def sign(self):
        return _ops.sign(self)

    def rsqrt(self):
        return _functional.rsqrt(self)

    def log2(self):
        return _functional.log2(self)

    def log10(self):
        return _functional.log10(self)

    def exp2(self):
        return _functional.exp2(self)

    def expm1(self):
        return _ops.expm1(self)

    def tan(self):
        return _ops.tan(self)

    def asin(self):
        return _ops.asin(self)

    def acos(self):
        return _ops.acos(self)

    def atan(self):
        return _ops.atan(self)

    def atan2(self, other):
        return _ops.atan2(self, other)

    def sinh(self):
        return _ops.sinh(self)

    def cosh(self):
        return _ops.cosh(self)

    def asinh(self):
        return _ops.asinh(self)

    def acosh(self):
        return _ops.acosh(self)

    def atanh(self):
        return _ops.atanh(self)

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def logaddexp(self, other):
        return _ops.logaddexp(self, other)

    def lerp(self, end, weight):
        return _functional.lerp(self, end, weight)

    def hypot(self, other):
        return _ops.hypot(self, other)

    def fmod(self, other):
        return _ops.fmod(self, other)

    def remainder(self, other):
        return _ops.remainder(self, other)

    def floor_divide(self, other):
        return _ops.floor_divide(self, other)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def isnan(self):
        return _functional.isnan(self)

    def isinf(self):
        return _functional.isinf(self)

    def isfinite(self):
        return _functional.isfinite(self)

    def logical_not(self):
        return _functional.logical_not(self)

    def logical_and(self, other):
        return _functional.logical_and(self, other)

    def logical_or(self, other):
        return _functional.logical_or(self, other)

    def logical_xor(self, other):
        return _functional.logical_xor(self, other)

    def where(self, condition, other):
        """``self`` where ``condition`` else ``other`` (PyTorch's ``Tensor.where``)."""
        return _ops.where(condition, self, other)

    # Scans, sorting, shape and indexing: the functions take both spellings of dim/keepdim.
    def cumsum(self, *args, **kwargs):
        return _ops.cumsum(self, *args, **kwargs)

    def cumprod(self, *args, **kwargs):
        return _ops.cumprod(self, *args, **kwargs)

    def logcumsumexp(self, *args, **kwargs):
        return _ops.logcumsumexp(self, *args, **kwargs)

    def cummax(self, *args, **kwargs):
        return _functional.cummax(self, *args, **kwargs)

    def cummin(self, *args, **kwargs):
        return _functional.cummin(self, *args, **kwargs)

    def sort(self, *args, **kwargs):
        return _functional.sort(self, *args, **kwargs)

    def argsort(self, *args, **kwargs):
        return _functional.argsort(self, *args, **kwargs)

    def topk(self, *args, **kwargs):
        return _functional.topk(self, *args, **kwargs)

    def any(self, *args, **kwargs):
        return _functional.any(self, *args, **kwargs)

    def all(self, *args, **kwargs):
        return _functional.all(self, *args, **kwargs)

    def median(self, *args, **kwargs):
        return _functional.median(self, *args, **kwargs)

    def quantile(self, *args, **kwargs):
        return _functional.quantile(self, *args, **kwargs)

    def norm(self, *args, **kwargs):
        return _functional.norm(self, *args, **kwargs)

    def split(self, *args, **kwargs):
        return _functional.split(self, *args, **kwargs)

    def chunk(self, *args, **kwargs):
        return _functional.chunk(self, *args, **kwargs)

    def unbind(self, *args, **kwargs):
        return _functional.unbind(self, *args, **kwargs)

    def tril(self, *args, **kwargs):
        return _functional.tril(self, *args, **kwargs)

    def triu(self, *args, **kwargs):
        return _functional.triu(self, *args, **kwargs)

    def diag(self, *args, **kwargs):
        return _functional.diag(self, *args, **kwargs)

    def diagonal(self, *args, **kwargs):
        return _functional.diagonal(self, *args, **kwargs)

    def roll(self, *args, **kwargs):
        return _functional.roll(self, *args, **kwargs)

    def tile(self, *args, **kwargs):
        return _functional.tile(self, *args, **kwargs)

    def repeat_interleave(self, *args, **kwargs):
        return _functional.repeat_interleave(self, *args, **kwargs)

    def flip(self, *args, **kwargs):
        return _functional.flip(self, *args, **kwargs)

    def unflatten(self, *args, **kwargs):
        return _functional.unflatten(self, *args, **kwargs)

    def movedim(self, *args, **kwargs):
        return _functional.movedim(self, *args, **kwargs)

    def swapaxes(self, *args, **kwargs):
        return _functional.swapaxes(self, *args, **kwargs)

    def gather(self, *args, **kwargs):
        return _functional.gather(self, *args, **kwargs)

    def scatter(self, *args, **kwargs):
        return _functional.scatter(self, *args, **kwargs)

    def scatter_add(self, *args, **kwargs):
        return _functional.scatter_add(self, *args, **kwargs)

    def scatter_reduce(self, *args, **kwargs):
        return _functional.scatter_reduce(self, *args, **kwargs)

    def index_select(self, *args, **kwargs):
        return _functional.index_select(self, *args, **kwargs)

    def take_along_axis(self, *args, **kwargs):
        return _functional.take_along_axis(self, *args, **kwargs)

    def masked_fill(self, *args, **kwargs):
        return _functional.masked_fill(self, *args, **kwargs)

    def masked_select(self, *args, **kwargs):
        return _functional.masked_select(self, *args, **kwargs)

    def nonzero(self, *args, **kwargs):
        return _functional.nonzero(self, *args, **kwargs)

    def repeat(self, *sizes):
        return _functional.repeat(self, *sizes)

    def take_along_dim(self, indices, dim):
        return _functional.take_along_axis(self, indices, dim)

    swapdims = swapaxes
    moveaxis = movedim

    # == end of issue 11 methods ==


def _rebuild_tensor(data, requires_grad):
    return Tensor(data, requires_grad=requires_grad)


def is_grad_recording(*tensors) -> bool:
    """True when an op on ``tensors`` must be recorded in the graph."""
    if not _GradMode.enabled:
        return False
    return any(t._requires_grad for t in tensors if isinstance(t, Tensor))


# The knot between the Tensor and the ops that build Tensors, tied in one place.
from tinynet import autograd as _autograd  # noqa: E402
from tinynet import functional as _functional  # noqa: E402
from tinynet import ops as _ops  # noqa: E402
