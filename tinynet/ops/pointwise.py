"""More elementwise primitives: rounding, trigonometric and hyperbolic functions and their
inverses, ``expm1``, ``logaddexp``, ``hypot``, ``fmod``/``remainder``, and the hard
activations whose kinks follow PyTorch.

Conventions (see docs/autograd.md): rounding functions and ``sign`` have zero gradients
everywhere; ``fmod``/``remainder`` pass the gradient to the dividend and
``-trunc(a / b)`` / ``-floor(a / b)`` times it to the divisor; ``hypot`` and ``atan2`` at
``(0, 0)`` have PyTorch's gradient NaN (0 / 0; 0 where the incoming gradient is 0);
``hardtanh`` passes the gradient strictly inside its bounds only.

>>> import tinynet as tn
>>> tn.floor(tn.tensor([1.5, -1.5])).tolist()
[1.0, -2.0]
"""

import math
from collections.abc import Callable

import numpy as np

from tinynet.autograd import Function, traced_call
from tinynet.errors import ArgumentError, DTypeError
from tinynet.ops._args import (
    apply_binary,
    as_array,
    as_tensor,
    binary,
    floating_binary,
    floating_input,
)
from tinynet.ops.elementwise import (
    bound_label,
    divided_gradient,
    scaled_gradient,
    sigmoid,
    signed_difference,
    where,
)
from tinynet.tensor import Tensor, TensorLike

_ROUNDING = {
    "floor": np.floor,
    "ceil": np.ceil,
    "trunc": np.trunc,
    "sign": np.sign,
}


def _rounding_kinks(x, name, decimals) -> list:
    # A jump at every integer n is where sin(pi x) changes sign (it changes sign nowhere
    # else; exactly 0 there); round jumps at the halves of x * 10**decimals, where cos does.
    x = np.asarray(x, np.float64)
    if name == "sign":
        return [("0", x)]
    if name == "round":
        y = x * 10.0**decimals if decimals >= 0 else x / 10.0**-decimals  # as np.round
        return [("a half", np.where(y - np.floor(y) == 0.5, 0.0, np.cos(np.pi * y)))]
    return [("an integer", np.where(x == np.floor(x), 0.0, np.sin(np.pi * x)))]


def _modulo_kinks(a, b) -> list:
    """fmod, remainder and floor_divide jump where ``a`` is a whole multiple of ``b`` (the sign
    of sin(pi a / b), exactly 0 there) and oscillate without limit as ``b`` crosses 0."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    whole = np.where(np.fmod(a, b) == 0, 0.0, np.sin(np.pi * a / b))
    return [("a whole quotient a / b", whole), ("a zero divisor", b)]


class Rounding(Function):
    """A piecewise-constant function (floor, ceil, trunc, round, sign): gradient 0."""

    display_name = "round"  # each node names its own function
    kinks = staticmethod(_rounding_kinks)

    @staticmethod
    def forward(ctx, x, name, decimals):
        ctx.name = ctx.display_name = name
        if name == "round":
            return np.round(x, decimals)
        return _ROUNDING[name](x)

    @staticmethod
    def backward(ctx, grad_output):
        return Tensor.wrap(np.zeros(ctx.inputs[0].data.shape, grad_output.data.dtype))


class Expm1(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return np.expm1(x)

    @staticmethod
    def backward(ctx, grad_output):
        return scaled_gradient(grad_output, ctx.output + 1.0)


class Tan(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return np.tan(x)

    @staticmethod
    def backward(ctx, grad_output):
        y = ctx.output
        return grad_output * (y * y + 1.0)


class Asin(Function):
    @staticmethod
    def forward(ctx, x):
        return np.arcsin(x)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        return divided_gradient(grad_output, (1.0 - x * x).sqrt())


class Acos(Function):
    @staticmethod
    def forward(ctx, x):
        return np.arccos(x)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        return -divided_gradient(grad_output, (1.0 - x * x).sqrt())


class Atan(Function):
    @staticmethod
    def forward(ctx, x):
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        return grad_output / (x * x + 1.0)


class Sinh(Function):
    @staticmethod
    def forward(ctx, x):
        return np.sinh(x)

    @staticmethod
    def backward(ctx, grad_output):
        return scaled_gradient(grad_output, cosh(ctx.inputs[0]))


class Cosh(Function):
    @staticmethod
    def forward(ctx, x):
        return np.cosh(x)

    @staticmethod
    def backward(ctx, grad_output):
        return scaled_gradient(grad_output, sinh(ctx.inputs[0]))


class Asinh(Function):
    @staticmethod
    def forward(ctx, x):
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        return grad_output / (x * x + 1.0).sqrt()


class Acosh(Function):
    @staticmethod
    def forward(ctx, x):
        return np.arccosh(x)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        return divided_gradient(grad_output, (x * x - 1.0).sqrt())


class Atanh(Function):
    @staticmethod
    def forward(ctx, x):
        return np.arctanh(x)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        return divided_gradient(grad_output, 1.0 - x * x)


class Atan2(Function):
    """``atan2(y, x)``: the angle of the point ``(x, y)``."""

    @staticmethod
    def forward(ctx, y, x):
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, grad_output):
        # PyTorch's atan2_backward: grad * x / (x^2 + y^2) and grad * -y / (x^2 + y^2);
        # NaN at the origin (0 / 0), unless the incoming gradient is 0 (tinynet's rule).
        y, x = ctx.inputs
        needs_y, needs_x = ctx.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            squared = x * x + y * y
            return (
                scaled_gradient(grad_output, x / squared) if needs_y else None,
                scaled_gradient(grad_output, -y / squared) if needs_x else None,
            )


class LogAddExp(Function):
    """``log(exp(a) + exp(b))`` without overflow; the gradients are sigmoids of ``a - b``."""

    display_name = "logaddexp"

    @staticmethod
    def forward(ctx, a, b):
        return np.logaddexp(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.inputs
        needs_a, needs_b = ctx.needs_input_grad
        return (
            grad_output * sigmoid(a - b) if needs_a else None,
            grad_output * sigmoid(b - a) if needs_b else None,
        )


class Hypot(Function):
    """``sqrt(a**2 + b**2)`` without overflow; gradient NaN at the origin, as PyTorch."""

    saves_output = True
    # The cone at the origin: a step of one coordinate crosses it while the other is 0.
    kinks = staticmethod(
        lambda a, b: [
            ("the origin", np.where(np.asarray(b) == 0, signed_difference(a, 0), np.inf)),
            ("the origin", np.where(np.asarray(a) == 0, signed_difference(b, 0), np.inf)),
        ]
    )

    @staticmethod
    def forward(ctx, a, b):
        return np.hypot(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        # PyTorch's grad * a / hypot(a, b): NaN at the origin (0 / 0), unless the incoming
        # gradient is 0 (tinynet's rule: a zero gradient times any local derivative is 0).
        a, b = ctx.inputs
        needs_a, needs_b = ctx.needs_input_grad
        out = ctx.output
        with np.errstate(divide="ignore", invalid="ignore"):
            return (
                scaled_gradient(grad_output, a / out) if needs_a else None,
                scaled_gradient(grad_output, b / out) if needs_b else None,
            )


class Erfc(Function):
    """``1 - erf(x)``, computed directly: accurate where it is tiny (large ``x``)."""

    @staticmethod
    def forward(ctx, x):
        from scipy.special import erfc as _erfc  # SciPy loads on first use, as for erf

        return _erfc(x).astype(x.dtype, copy=False)  # float16 goes via float64

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        return grad_output * ((x * x * -1.0).exp() * (-2.0 / math.sqrt(math.pi)))


class Xlogy(Function):
    """``x * log(y)``, 0 where ``x`` is 0 and ``y`` is not NaN; PyTorch's gradients (its
    derivatives.yaml): ``xlogy(grad, y)`` to ``x``, set to 0 where ``x = 0`` and ``y <= 0``
    (where ``x * log(y)`` is undefined nearby), and ``grad * x / y`` to ``y`` (NaN at
    ``x = y = 0``; 0 where ``grad`` is 0, tinynet's rule)."""

    @staticmethod
    def forward(ctx, x, y):
        with np.errstate(divide="ignore", invalid="ignore"):
            product = x * np.log(y)
        return np.where((x == 0) & ~np.isnan(y), np.zeros((), product.dtype), product)

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.inputs
        needs_x, needs_y = ctx.needs_input_grad
        grad_x = grad_y = None
        if needs_x:
            grad_x = Xlogy.apply(grad_output, y)
            undefined = traced_call(_zero_over_nonpositive, x.data, y.data)
            grad_x = where(undefined, 0.0, grad_x)
        if needs_y:
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_y = scaled_gradient(grad_output, x / y)
        return grad_x, grad_y


def _zero_over_nonpositive(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray((x == 0) & (y <= 0))


class _Modulo(Function):
    """``a - q(a / b) * b`` for a rounding ``q``: gradient 1 for ``a``, ``-q(a / b)`` for ``b``."""

    ufunc: Callable[..., np.ndarray]
    kinks = staticmethod(_modulo_kinks)

    @classmethod
    def forward(cls, ctx, a, b):
        return cls.ufunc(a, b)

    @classmethod
    def backward(cls, ctx, grad_output):
        a, b = (t.data for t in ctx.inputs)
        needs_a, needs_b = ctx.needs_input_grad
        grad_b = None
        if needs_b:
            # The quotient the forward used, recovered exactly from its remainder.
            with np.errstate(divide="ignore", invalid="ignore"):
                quotient = np.round((a - cls.ufunc(a, b)) / b)
            grad_b = grad_output * Tensor.wrap(-quotient.astype(grad_output.data.dtype))
        return (grad_output if needs_a else None, grad_b)


class Fmod(_Modulo):
    ufunc = staticmethod(np.fmod)


class Remainder(_Modulo):
    ufunc = staticmethod(np.remainder)


class FloorDivide(Function):
    """``floor(a / b)`` as Python's ``//`` (exact, via the remainder): gradient 0 for both."""

    kinks = staticmethod(_modulo_kinks)

    @staticmethod
    def forward(ctx, a, b):
        return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        zero = [Tensor.wrap(np.zeros(t.data.shape, grad_output.data.dtype)) for t in ctx.inputs]
        return tuple(z if needed else None for z, needed in zip(zero, ctx.needs_input_grad))


class Hardtanh(Function):
    """``x`` clipped to ``[min_val, max_val]``; gradient 1 strictly inside, else 0."""

    kinks = staticmethod(
        lambda x, low, high: [
            (bound_label("lower", low), signed_difference(x, low)),
            (bound_label("upper", high), signed_difference(x, high)),
        ]
    )

    @staticmethod
    def forward(ctx, x, min_val, max_val):
        ctx.min_val, ctx.max_val = min_val, max_val
        return np.clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0].data
        return where((x > ctx.min_val) & (x < ctx.max_val), grad_output, 0.0)


class Hardswish(Function):
    """``x * relu6(x + 3) / 6``, with PyTorch's derivatives at ``x = -3`` and ``x = 3``."""

    kinks = staticmethod(
        lambda x: [("-3", signed_difference(x, -3)), ("3", signed_difference(x, 3))]
    )

    @staticmethod
    def forward(ctx, x):
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        data = x.data
        inside = (data > -3) & (data < 3)
        # The slope x/3 + 1/2 where -3 <= x <= 3, else 0 or 1; it varies (1/3) strictly inside.
        constant = np.where(data < -3, 0.0, np.where(data <= 3, data / 3 + 0.5, 1.0))
        slope = where(inside, x * (1.0 / 3.0) + 0.5, constant.astype(data.dtype))
        return grad_output * slope


class Celu(Function):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``: the slope is 1 on both sides of 0,
    but the second derivative jumps there (from ``1 / alpha`` to 0)."""

    saves_output = True
    # A kink of the first derivative: a second-order check across 0 is meaningless.
    kinks = staticmethod(lambda x, alpha: [("0 (of the first derivative)", x)])

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        negative = np.expm1(np.minimum(x, 0) / np.asarray(alpha, x.dtype))
        return np.where(x > 0, x, negative * np.asarray(alpha, x.dtype))

    @staticmethod
    def backward(ctx, grad_output):
        # For x <= 0 the slope is exp(x / alpha) = output / alpha + 1; as elu's, only x < 0
        # has a second derivative (PyTorch's celu is elu with input_scale = 1 / alpha).
        x = ctx.inputs[0].data
        slope = where(x < 0, ctx.output * (1.0 / ctx.alpha), 0.0) + 1.0
        return where(x > 0, grad_output, grad_output * slope)


# -- public functions -------------------------------------------------------------------------
def _rounding(name, doc):
    def op(x: TensorLike) -> Tensor:
        x = as_tensor(x)
        if x.data.dtype.kind in "iub":  # whole numbers already (sign keeps the dtype too)
            # traced: a tn.compile replay takes each call's values
            return Tensor.wrap(
                traced_call(as_array, np.sign if name == "sign" else np.copy, x.data)
            )
        return Rounding.apply(x, name, 0)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


floor = _rounding("floor", "Elementwise largest integer <= x; its gradient is 0.")
ceil = _rounding("ceil", "Elementwise smallest integer >= x; its gradient is 0.")
trunc = _rounding("trunc", "Elementwise integer part (rounded toward 0); its gradient is 0.")
sign = _rounding("sign", "Elementwise -1, 0 or 1 by the sign of x; its gradient is 0.")


def round(x: TensorLike, decimals: int = 0) -> Tensor:
    """Round half to even to ``decimals`` places (as PyTorch and NumPy); its gradient is 0.

    >>> import tinynet as tn
    >>> tn.round(tn.tensor([0.5, 1.5, 2.675]), decimals=0).tolist()
    [0.0, 2.0, 3.0]
    """
    x = as_tensor(x)
    if x.data.dtype.kind in "iub" and decimals >= 0:
        return Tensor.wrap(traced_call(np.copy, x.data))  # a tn.compile replay's own copy
    return Rounding.apply(x, "round", int(decimals))


def _unary(function, name, doc):
    def op(x: TensorLike) -> Tensor:
        return function.apply(floating_input(x))  # integers: the default float dtype

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


expm1 = _unary(Expm1, "expm1", "Elementwise ``exp(x) - 1``, accurate for small x.")
tan = _unary(Tan, "tan", "Elementwise tangent.")
asin = _unary(Asin, "asin", "Elementwise arcsine (domain [-1, 1]).")
acos = _unary(Acos, "acos", "Elementwise arccosine (domain [-1, 1]).")
atan = _unary(Atan, "atan", "Elementwise arctangent.")
sinh = _unary(Sinh, "sinh", "Elementwise hyperbolic sine.")
cosh = _unary(Cosh, "cosh", "Elementwise hyperbolic cosine.")
asinh = _unary(Asinh, "asinh", "Elementwise inverse hyperbolic sine.")
acosh = _unary(Acosh, "acosh", "Elementwise inverse hyperbolic cosine (domain [1, inf)).")
atanh = _unary(Atanh, "atanh", "Elementwise inverse hyperbolic tangent (domain (-1, 1)).")
hardswish = _unary(Hardswish, "hardswish", "Elementwise ``x * relu6(x + 3) / 6``.")


def atan2(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise angle of the point ``(other, input)`` (``input`` is y), in ``[-pi, pi]``.

    >>> import tinynet as tn
    >>> print(f"{tn.atan2(tn.tensor(1.0), tn.tensor(-1.0)).item():.4f}")
    2.3562
    """
    return floating_binary(Atan2, "atan2", input, other)


def logaddexp(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise ``log(exp(a) + exp(b))``, stable for any finite inputs."""
    return floating_binary(LogAddExp, "logaddexp", a, b)


def hypot(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise ``sqrt(a**2 + b**2)`` without overflow."""
    return floating_binary(Hypot, "hypot", a, b)


def erfc(input: TensorLike) -> Tensor:
    """Elementwise complementary error function ``1 - erf(x)``, as ``torch.erfc``, without the
    cancellation of ``1 - erf(x)`` for large ``x``; integers give the default float dtype.

    >>> import tinynet as tn
    >>> tn.erfc(tn.tensor([0.0, 10.0], dtype=tn.float64)).tolist()
    [1.0, 2.0884875837625446e-45]
    """
    return Erfc.apply(floating_input(input))


def xlogy(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise ``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN),
    as ``torch.xlogy``; either may be a number, integers give the default float dtype.

    >>> import tinynet as tn
    >>> tn.xlogy(tn.tensor([0.0, 2.0, 0.0]), tn.tensor([0.0, 1.0, float("nan")])).tolist()
    [0.0, 0.0, nan]
    """
    x, y = binary(input, other)
    if x.data.dtype.kind != "f":  # then y is not floating either
        x, y = floating_input(x), floating_input(y)
    return apply_binary(Xlogy, "xlogy", x, y)


def fmod(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise C remainder ``a - trunc(a / b) * b`` (the sign of ``a``), as ``torch.fmod``.

    >>> import tinynet as tn
    >>> tn.fmod(tn.tensor([-3.0, 3.0]), 2.0).tolist()
    [-1.0, 1.0]
    """
    return apply_binary(Fmod, "fmod", a, b)


def remainder(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise Python remainder ``a - floor(a / b) * b`` (the sign of ``b``), as ``a % b``.

    >>> import tinynet as tn
    >>> tn.remainder(tn.tensor([-3.0, 3.0]), 2.0).tolist()
    [1.0, 1.0]
    """
    return apply_binary(Remainder, "remainder", a, b)


def floor_divide(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise ``floor(a / b)``, exactly as Python's ``//``; its gradient is 0.

    >>> import tinynet as tn
    >>> (tn.tensor([-3.0, 3.0, 1.0]) // tn.tensor([2.0, 2.0, 0.1])).tolist()
    [-2.0, 1.0, 9.0]
    """
    return apply_binary(FloorDivide, "floor_divide", a, b)


def hardtanh(x: TensorLike, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``; the gradient is 0 at and beyond the bounds.

    >>> import tinynet as tn
    >>> tn.hardtanh(tn.tensor([-2.0, 0.5, 2.0])).tolist()
    [-1.0, 0.5, 1.0]
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} must not exceed max_val {max_val}")
    x = as_tensor(x)
    kind = x.data.dtype.kind
    if kind == "b":
        raise DTypeError("hardtanh: bool inputs are not supported; convert with x.long() first")
    if kind in "iu":  # PyTorch's: integer bounds, so an integer input stays integer
        min_val, max_val = int(min_val), int(max_val)
        if kind == "u" and min_val < 0:
            raise ArgumentError(
                f"hardtanh: cannot clip an unsigned {x.dtype} tensor to negative limits "
                f"({min_val}, {max_val})"
            )
    return Hardtanh.apply(x, min_val, max_val)
