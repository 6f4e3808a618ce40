"""Composite ops, written in primitive Tensor ops, so their derivatives of every order come free."""

import math

import numpy as np

from tinynet import ops
from tinynet.errors import ShapeError
from tinynet.ops._args import as_tensor, axes, binary, broadcast_error
from tinynet.tensor import Tensor


def var(x, axis=None, correction: int = 1, keepdims: bool = False):
    """Variance over ``axis`` with ``correction`` (1: unbiased, as PyTorch's default)."""
    x = as_tensor(x)
    reduced = axes(axis, x.ndim)
    count = x.size if reduced is None else math.prod(x.shape[i] for i in reduced)
    deviation = x - x.mean(reduced, keepdims=True)
    dof = count - correction
    # With no degrees of freedom left the variance is undefined: 0 * inf gives NaN, as PyTorch.
    return (deviation * deviation).sum(reduced, keepdims=keepdims) * (
        1.0 / dof if dof > 0 else math.inf
    )


def std(x, axis=None, correction: int = 1, keepdims: bool = False):
    """Standard deviation over ``axis``: ``sqrt(var(x, axis, correction))``.

    Where the variance is 0 the gradient is 0 (as PyTorch), not ``0 * inf = nan``.
    """
    variance = var(x, axis, correction, keepdims)
    return ops.where(variance.data == 0, 0.0, variance.sqrt())


def gelu(x, approximate: str = "none"):
    """Gaussian error linear unit: exact ``x * Phi(x)``, or ``approximate='tanh'``."""
    x = as_tensor(x)
    if approximate == "none":
        return x * ((x * (1.0 / math.sqrt(2.0))).erf() + 1.0) * 0.5
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * (inner.tanh() + 1.0) * 0.5
    raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def flatten(x, start_axis: int = 0, end_axis: int = -1):
    """Merge axes ``start_axis..end_axis`` into one."""
    x = as_tensor(x)
    if x.ndim == 0:
        return x.reshape(1)
    (start,), (end,) = axes(start_axis, x.ndim), axes(end_axis, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
    merged = math.prod(x.shape[start : end + 1])
    return x.reshape(*x.shape[:start], merged, *x.shape[end + 1 :])


def squeeze(x, axis=None):
    """Remove axes of length 1 (all of them, or those in ``axis``)."""
    x = as_tensor(x)
    if axis is None:
        return x.reshape(*(n for n in x.shape if n != 1))
    removed = axes(axis, x.ndim)
    for i in removed:
        if x.shape[i] != 1:
            raise ValueError(f"cannot squeeze axis {i} of length {x.shape[i]} (shape {x.shape})")
    return x.reshape(*(n for i, n in enumerate(x.shape) if i not in removed))


def unsqueeze(x, axis: int):
    """Insert an axis of length 1 at ``axis`` (negative counts from the end of the result)."""
    x = as_tensor(x)
    (position,) = axes(axis, x.ndim + 1)
    return x.reshape(*x.shape[:position], 1, *x.shape[position:])


def expand(x, *shape):
    """Broadcast to ``shape``; -1 keeps that axis's length (as PyTorch's ``expand``)."""
    x = as_tensor(x)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    offset = len(shape) - x.ndim
    if offset < 0:
        raise ValueError(f"expand: target {shape} has fewer axes than the tensor's {x.shape}")
    target = tuple(x.shape[i - offset] if n == -1 else n for i, n in enumerate(shape))
    return x.broadcast_to(target)


def stack(tensors, axis: int = 0):
    """Join tensors of equal shape along a new axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack needs tensors of equal shape, got {sorted(shapes)}")
    return ops.concatenate([unsqueeze(t, axis) for t in tensors], axis=axis)


# == issue 11: more elementwise composites ======================================================
def rsqrt(x):
    """Elementwise ``1 / sqrt(x)``.

    >>> import tinynet as tn
    >>> tn.rsqrt(tn.tensor([4.0])).tolist()
    [0.5]
    """
    return as_tensor(x) ** -0.5


def log2(x):
    """Elementwise base-2 logarithm."""
    return ops.log(x) * (1.0 / math.log(2.0))


def log10(x):
    """Elementwise base-10 logarithm."""
    return ops.log(x) * (1.0 / math.log(10.0))


def exp2(x):
    """Elementwise ``2 ** x``."""
    return ops.exp(as_tensor(x) * math.log(2.0))


def lerp(input, end, weight):
    """``input + weight * (end - input)``; ``weight`` a number or a tensor.

    >>> import tinynet as tn
    >>> tn.lerp(tn.tensor([0.0, 1.0]), tn.tensor([2.0, 3.0]), 0.25).tolist()
    [0.5, 1.5]
    """
    input = as_tensor(input)
    return input + (ops.sub(end, input)) * weight


def floor_divide(a, b):
    """Elementwise ``floor(a / b)`` (Python's ``//``); its gradient is 0.

    >>> import tinynet as tn
    >>> (tn.tensor([-3.0, 3.0]) // 2).tolist()
    [-2.0, 1.0]
    """
    a, b = binary(a, b)
    if a.dtype.kind in "iub" and b.dtype.kind in "iub":
        return Tensor._wrap(np.floor_divide(a.data, b.data))
    return ops.floor(ops.div(a, b))


def _predicate(ufunc, name, doc):
    def predicate(x):
        return Tensor._wrap(np.asarray(ufunc(as_tensor(x).data)))

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
            return Tensor._wrap(np.asarray(ufunc(a.data, b.data)))
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


def silu(x):
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``.

    >>> import tinynet as tn
    >>> round(tn.silu(tn.tensor([1.0])).item(), 6)
    0.731059
    """
    x = as_tensor(x)
    return x * ops.sigmoid(x)


swish = silu


def selu(x):
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (as PyTorch)."""
    return ops.elu(x, _SELU_ALPHA) * _SELU_SCALE


def celu(x, alpha: float = 1.0):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``; continuously differentiable."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return ops.elu(as_tensor(x) * (1.0 / alpha), 1.0) * alpha


def relu6(x):
    """``min(max(x, 0), 6)``; the gradient is 0 at 0 and 6 (``hardtanh(x, 0, 6)``, as PyTorch)."""
    return ops.hardtanh(x, 0.0, 6.0)


def hardsigmoid(x):
    """``relu6(x + 3) / 6``; the gradient is ``1/6`` strictly between -3 and 3, else 0."""
    return ops.hardtanh(as_tensor(x) * (1.0 / 6.0) + 0.5, 0.0, 1.0)


def mish(x):
    """``x * tanh(softplus(x))``."""
    x = as_tensor(x)
    return x * ops.softplus(x).tanh()


def softsign(x):
    """``x / (1 + |x|)``."""
    x = as_tensor(x)
    return x / (ops.abs(x) + 1.0)


def logsigmoid(x):
    """``log(sigmoid(x))``, stable for any finite input: ``-softplus(-x)``."""
    return -ops.softplus(-as_tensor(x))


def softmin(x, dim: int = -1):
    """Softmax of ``-x`` along ``dim``."""
    return ops.softmax(-as_tensor(x), dim)


def glu(x, dim: int = -1):
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
