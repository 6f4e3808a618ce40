"""More elementwise composites: rsqrt, log2/log10/exp2, lerp, predicates, logical ops, allclose;
PyTorch's square, clamp_min/clamp_max, frac, fmax/fmin, nan_to_num, isclose, equal,
reciprocal and isin."""

from __future__ import annotations

import math

import numpy as np

from tinynet import ops
from tinynet._grad_mode import is_grad_enabled
from tinynet.autograd import not_replayable, traced_call
from tinynet.errors import DTypeError
from tinynet.ops._args import (
    as_array,
    as_tensor,
    binary,
    broadcast_error,
    floating,
    floating_input,
)
from tinynet.tensor import Tensor


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
        return Tensor.wrap(traced_call(as_array, ufunc, as_tensor(x).data))

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
            return Tensor.wrap(traced_call(as_array, ufunc, a.data, b.data))
        except ValueError:
            raise broadcast_error(name, a.shape, b.shape) from None

    logical.__name__ = logical.__qualname__ = name
    logical.__doc__ = f"Elementwise ``{name}`` of truth values (nonzero is true), boolean result."
    return logical


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


def _check_tolerances(name: str, rtol: float, atol: float) -> None:
    """PyTorch's RuntimeError for a negative tolerance (NumPy would quietly accept it)."""
    for label, value in (("rtol", rtol), ("atol", atol)):
        if not value >= 0:
            raise RuntimeError(
                f"{name}: {label} must be greater than or equal to zero, got {value}"
            )


def allclose(
    input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """``|input - other| <= atol + rtol |other|`` everywhere, as ``torch.allclose``: a bool.

    Takes Tensors or arrays; the shapes must broadcast.

    >>> import tinynet as tn
    >>> tn.allclose(tn.tensor([1.0, 2.0]), tn.tensor([1.0, 2.0 + 1e-9]))
    True
    """
    _check_tolerances("allclose", rtol, atol)
    a = input.data if isinstance(input, Tensor) else np.asarray(input)
    b = other.data if isinstance(other, Tensor) else np.asarray(other)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(
            f"allclose: shapes {a.shape} and {b.shape} do not broadcast to a common shape"
        ) from None
    not_replayable("allclose gives a Python bool read from the values")
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


# -- PyTorch's names for small compositions ----------------------------------------------------
def square(x) -> Tensor:
    """Elementwise ``x * x``, as ``torch.square``.

    >>> import tinynet as tn
    >>> tn.square(tn.tensor([-2.0, 3.0])).tolist()
    [4.0, 9.0]
    """
    x = as_tensor(x)
    return ops.mul(x, x)


def clamp_min(x, min) -> Tensor:
    """``max(x, min)`` elementwise, as ``torch.clamp_min``: ``clip(x, min=min)``.

    The gradient passes at the bound (``clip``'s convention, PyTorch's).

    >>> import tinynet as tn
    >>> tn.clamp_min(tn.tensor([-1.0, 2.0]), 0.5).tolist()
    [0.5, 2.0]
    """
    return ops.clip(x, min=min)


def clamp_max(x, max) -> Tensor:
    """``min(x, max)`` elementwise, as ``torch.clamp_max``: ``clip(x, max=max)``.

    >>> import tinynet as tn
    >>> tn.clamp_max(tn.tensor([-1.0, 2.0]), 0.5).tolist()
    [-1.0, 0.5]
    """
    return ops.clip(x, max=max)


def frac(x) -> Tensor:
    """The fractional part ``x - trunc(x)`` (the sign of ``x``), as ``torch.frac``.

    Its gradient is 1 everywhere, the jumps at whole numbers included (PyTorch's rule).

    >>> import tinynet as tn
    >>> tn.frac(tn.tensor([1.25, -2.5])).tolist()
    [0.25, -0.5]
    """
    x = as_tensor(x)
    floating(x, "frac")
    return x - ops.trunc(x)


def _nan_ignoring(name: str, keep_first):
    def extreme(input, other) -> Tensor:
        a, b = binary(input, other)
        try:
            first = traced_call(_first_wins, keep_first, a.data, b.data)
        except ValueError:
            raise broadcast_error(name, a.shape, b.shape) from None
        return ops.where(first, a, b)

    extreme.__name__ = extreme.__qualname__ = name
    return extreme


def _first_wins(keep_first, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where ``a`` wins (ties included) or ``b`` is NaN: there ``a`` and all its gradient."""
    return np.asarray(keep_first(a, b) | np.isnan(b))


fmax = _nan_ignoring("fmax", np.greater_equal)
fmax.__doc__ = """Elementwise maximum that ignores NaN (NaN only where both are), as ``torch.fmax``.

On a tie all the gradient goes to ``input`` (PyTorch's rule; ``maximum`` splits it).

>>> import tinynet as tn
>>> tn.fmax(tn.tensor([1.0, float("nan")]), tn.tensor([float("nan"), 2.0])).tolist()
[1.0, 2.0]
"""
fmin = _nan_ignoring("fmin", np.less_equal)
fmin.__doc__ = """Elementwise minimum that ignores NaN, as ``torch.fmin`` (ties: all to ``input``).

>>> import tinynet as tn
>>> tn.fmin(tn.tensor([1.0, float("nan")]), tn.tensor([0.5, 2.0])).tolist()
[0.5, 2.0]
"""


def nan_to_num(x, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and
    the dtype's largest and lowest finite values), as ``torch.nan_to_num``.

    Replaced elements get no gradient; the others pass it unchanged.

    >>> import tinynet as tn
    >>> tn.nan_to_num(tn.tensor([float("nan"), float("inf"), 1.5]), posinf=9.0).tolist()
    [0.0, 9.0, 1.5]
    """
    x = as_tensor(x)
    if x.data.dtype.kind != "f":
        return x.clone()  # integers and booleans have nothing to replace
    replaced = traced_call(_replaced, x.data, nan, posinf, neginf)
    return ops.where(traced_call(as_array, np.isfinite, x.data), x, Tensor.wrap(replaced))


def _replaced(data: np.ndarray, nan: float, posinf, neginf) -> np.ndarray:
    return np.asarray(np.nan_to_num(data, nan=nan, posinf=posinf, neginf=neginf))


def isclose(
    input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol |other|`` as a boolean tensor, as
    ``torch.isclose`` (equal infinities are close; NaN only with ``equal_nan``).

    >>> import tinynet as tn
    >>> tn.isclose(tn.tensor([1.0, 2.0]), tn.tensor([1.0 + 1e-9, 2.1])).tolist()
    [True, False]
    """
    _check_tolerances("isclose", rtol, atol)
    a, b = binary(input, other)
    try:
        close = traced_call(_close, a.data, b.data, rtol, atol, equal_nan)
    except ValueError:
        raise broadcast_error("isclose", a.shape, b.shape) from None
    return Tensor.wrap(close)


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float, equal_nan: bool):
    return np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other) -> bool:
    """True when both have the same shape and the same values (NaN equals nothing), as
    ``torch.equal``: a bool, with no broadcasting.

    >>> import tinynet as tn
    >>> tn.equal(tn.tensor([1, 2]), tn.tensor([1, 2])), tn.equal(tn.tensor([1]), tn.tensor([1, 1]))
    (True, False)
    """
    a, b = binary(input, other)
    not_replayable("equal gives a Python bool read from the values")
    return a.shape == b.shape and bool(np.array_equal(a.data, b.data))


def reciprocal(x) -> Tensor:
    """Elementwise ``1 / x``, as ``torch.reciprocal`` (integers give the default float dtype;
    ``1 / 0`` is ``inf``).

    >>> import tinynet as tn
    >>> tn.reciprocal(tn.tensor([2, 4])).tolist()
    [0.5, 0.25]
    """
    return ops.div(1.0, floating_input(x))


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """True where an element of ``elements`` is one of ``test_elements`` (either may be a
    number), as ``torch.isin``; ``invert`` gives the opposite. A boolean tensor of
    ``elements``' shape; not differentiable.

    >>> import tinynet as tn
    >>> tn.isin(tn.tensor([[1, 2], [3, 4]]), tn.tensor([2, 3])).tolist()
    [[False, True], [True, False]]
    """
    values = as_tensor(elements).data
    tests = as_tensor(test_elements).data
    return Tensor.wrap(traced_call(_isin, values, tests, assume_unique, invert))


def _isin(values: np.ndarray, tests: np.ndarray, assume_unique: bool, invert: bool):
    return np.asarray(np.isin(values, tests, assume_unique=assume_unique, invert=invert))


# -- PyTorch's names, session 10: fused arithmetic, logit, angles, aliases ------------
def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2``, as ``torch.addcmul`` (all three broadcast).

    >>> import tinynet as tn
    >>> tn.addcmul(tn.tensor([1.0, 1.0]), tn.tensor([2.0, 3.0]), tn.tensor([4.0, 5.0]), value=0.5).tolist()
    [5.0, 8.5]
    """
    return ops.add(input, ops.mul(ops.mul(tensor1, tensor2), value))


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2``, as ``torch.addcdiv`` (true division; integer
    ``tensor1`` and ``tensor2`` are refused, as PyTorch).

    >>> import tinynet as tn
    >>> tn.addcdiv(tn.tensor([1.0, 1.0]), tn.tensor([2.0, 3.0]), tn.tensor([4.0, 6.0]), value=2).tolist()
    [2.0, 2.0]
    """
    numerator, denominator = binary(tensor1, tensor2)
    if numerator.data.dtype.kind in "biu":  # then the denominator is not floating either
        raise RuntimeError(
            "addcdiv: integer division is not supported (PyTorch's rule); convert tensor1 "
            "or tensor2 to a floating dtype, or use addcmul with floor_divide"
        )
    return ops.add(input, ops.mul(ops.div(numerator, denominator), value))


def logit(input, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``, the inverse of ``sigmoid``, as ``torch.logit``.

    With ``eps``, ``p`` is first clamped to ``[eps, 1 - eps]``: the gradient is 0 outside
    and passes at the bounds (PyTorch's rule). Without it, ``p`` outside ``[0, 1]`` gives NaN.

    >>> import tinynet as tn
    >>> tn.logit(tn.tensor([0.5, 0.0], dtype=tn.float64), eps=0.25).tolist()
    [0.0, -1.0986122886681098]
    """
    p = floating_input(input)
    if eps is not None:
        p = ops.clip(p, float(eps), 1.0 - float(eps))
    with np.errstate(divide="ignore", invalid="ignore"):
        return ops.log(ops.div(p, ops.sub(1.0, p)))


def deg2rad(input) -> Tensor:
    """Degrees to radians, as ``torch.deg2rad`` (integers give the default float dtype).

    >>> import tinynet as tn
    >>> tn.deg2rad(tn.tensor([180.0], dtype=tn.float64)).tolist()
    [3.141592653589793]
    """
    return ops.mul(floating_input(input), math.pi / 180.0)


def rad2deg(input) -> Tensor:
    """Radians to degrees, as ``torch.rad2deg``.

    >>> import tinynet as tn
    >>> tn.rad2deg(tn.tensor([1.5707963267948966], dtype=tn.float64)).tolist()
    [90.0]
    """
    return ops.mul(floating_input(input), 180.0 / math.pi)


def negative(input) -> Tensor:
    """``-input``: PyTorch's alias of ``neg``."""
    return ops.neg(input)


def absolute(input) -> Tensor:
    """``|input|``: PyTorch's alias of ``abs``."""
    return ops.abs(input)


def multiply(input, other) -> Tensor:
    """``input * other``: PyTorch's alias of ``mul``."""
    return ops.mul(input, other)


def subtract(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other``: PyTorch's alias of ``sub``.

    >>> import tinynet as tn
    >>> tn.subtract(tn.tensor([5.0]), tn.tensor([1.0]), alpha=2).tolist()
    [3.0]
    """
    return as_tensor(input).sub(other, alpha=alpha)


def divide(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """``input / other``: PyTorch's alias of ``div``, ``rounding_mode`` "floor" or "trunc" too.

    >>> import tinynet as tn
    >>> tn.divide(tn.tensor([-7, 7]), 2, rounding_mode="floor").tolist()
    [-4, 3]
    """
    return as_tensor(input).div(other, rounding_mode=rounding_mode)


def sinc(input) -> Tensor:
    """The normalized sinc ``sin(pi x) / (pi x)``, 1 at 0, as ``torch.sinc``.

    At 0 its gradient is 0 (exact) and its second derivative 0 (PyTorch's rule holds the
    ``x == 0`` mask fixed; the true curvature there is ``-pi**2 / 3``).

    >>> import tinynet as tn
    >>> tn.sinc(tn.tensor([0.0, 0.5, 1.0], dtype=tn.float64)).tolist()[:2]
    [1.0, 0.6366197723675814]
    """
    x = floating_input(input)
    at_zero = traced_call(_is_zero, x.data)
    scaled = ops.mul(ops.where(at_zero, 1.0, x), math.pi)
    return ops.where(at_zero, 1.0, ops.div(ops.sin(scaled), scaled))


def _is_zero(data: np.ndarray) -> np.ndarray:
    return np.asarray(data == 0)


def signbit(input) -> Tensor:
    """True where the sign bit is set (negative numbers and ``-0.0``), as ``torch.signbit``.

    >>> import tinynet as tn
    >>> tn.signbit(tn.tensor([-1.0, -0.0, 0.0, 2.0])).tolist()
    [True, True, False, False]
    """
    return Tensor.wrap(traced_call(as_array, np.signbit, as_tensor(input).data))


def copysign(input, other) -> Tensor:
    """``|input|`` with the sign of ``other`` (its sign bit: ``-0.0`` counts as negative), as
    ``torch.copysign``; integers give the default float dtype.

    The gradient to ``input`` is ``copysign(1, input) * copysign(1, other)``, 0 where
    ``input`` is 0 (PyTorch's rule); ``other`` gets zeros (PyTorch's ``zeros_like(other)``).

    >>> import tinynet as tn
    >>> tn.copysign(tn.tensor([1.0, -2.0, 3.0]), tn.tensor([-0.0, 1.0, -1.0])).tolist()
    [-1.0, 2.0, -3.0]
    """
    x, y = binary(input, other)
    if x.data.dtype.kind != "f":
        x = floating_input(x)
    try:
        negative = traced_call(_negative_sign, x.data, y.data)
    except ValueError:
        raise broadcast_error("copysign", x.shape, y.shape) from None
    magnitude = ops.abs(x)
    out = ops.where(negative, ops.neg(magnitude), magnitude)
    if y.requires_grad and is_grad_enabled():
        # PyTorch's zeros_like(other): a branch never selected gives other a zero gradient,
        # and the values (signed zeros included) stay out's
        never = np.zeros(out.shape, np.bool_)
        out = ops.where(never, ops.cast(y, out.dtype), out)
    return out


def _negative_sign(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray(np.broadcast_to(np.signbit(y), np.broadcast_shapes(x.shape, y.shape)))


def float_power(input, exponent) -> Tensor:
    """``input ** exponent`` computed in float64 (both converted), as ``torch.float_power``.

    >>> import tinynet as tn
    >>> tn.float_power(tn.tensor([2, 3]), 2).dtype
    dtype('float64')
    """
    if isinstance(exponent, Tensor):
        exponent = ops.cast(exponent, np.float64)
    elif not isinstance(exponent, (int, float, np.number)):
        exponent = ops.cast(as_tensor(exponent), np.float64)
    else:
        exponent = float(exponent)
    return ops.pow(ops.cast(as_tensor(input), np.float64), exponent)


def _integer_pair(name: str, input, other) -> tuple[Tensor, Tensor]:
    a, b = binary(input, other)
    for operand in (a, b):
        if operand.data.dtype.kind not in "iu":
            raise DTypeError(
                f"{name} is defined for integers only, got dtype {operand.dtype}; convert "
                "with .long()"
            )
    return a, b


def gcd(input, other) -> Tensor:
    """The elementwise greatest common divisor (non-negative; ``gcd(0, 0) = 0``), as
    ``torch.gcd``: integers only.

    >>> import tinynet as tn
    >>> tn.gcd(tn.tensor([12, -9, 0]), tn.tensor([18, 6, 0])).tolist()
    [6, 3, 0]
    """
    a, b = _integer_pair("gcd", input, other)
    try:
        return Tensor.wrap(traced_call(as_array, np.gcd, a.data, b.data))
    except ValueError:
        raise broadcast_error("gcd", a.shape, b.shape) from None


def lcm(input, other) -> Tensor:
    """The elementwise least common multiple (non-negative; 0 if either is 0), as
    ``torch.lcm``: integers only.

    >>> import tinynet as tn
    >>> tn.lcm(tn.tensor([4, -6, 0]), tn.tensor([6, 4, 5])).tolist()
    [12, 12, 0]
    """
    a, b = _integer_pair("lcm", input, other)
    try:
        return Tensor.wrap(traced_call(as_array, np.lcm, a.data, b.data))
    except ValueError:
        raise broadcast_error("lcm", a.shape, b.shape) from None
