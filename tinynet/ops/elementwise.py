"""Elementwise primitives: each forward (NumPy) beside its backward (Tensor ops).

Conventions at non-differentiable points follow PyTorch (see docs/autograd.md):
relu'(0) = 0, abs'(0) = 0, ties of maximum/minimum split the gradient in half,
clip passes the gradient at its bounds, sqrt'(0) = inf.
A zero cotangent times an infinite local derivative gives 0, so the branch that
``where`` did not select never leaks NaN or inf into a gradient.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np
from numpy.typing import DTypeLike

from tinynet._dtype import weak_scalar_array
from tinynet._grad_mode import grad_mode
from tinynet.autograd import Function, traced_call
from tinynet.errors import DTypeError
from tinynet.ops._args import (
    apply_binary,
    as_array,
    as_tensor,
    binary,
    broadcast_error,
    floating_binary,
    floating_input,
    nonzero_columns,
    one,
    single_value,
)
from tinynet.tensor import Tensor, TensorLike


# Backward helpers shared with other op modules (ops.pointwise): a named internal API, not
# exported by ``ops``.
def all_finite(array: np.ndarray) -> bool:
    """Whether no element of a floating array is inf or NaN; may answer False for finite
    values whose squares overflow, which only sends a caller down its exact, slower path.

    The sum of squares as one BLAS dot product for a contiguous float32/float64 array (~3x
    faster than ``array.sum()``: 3 against 9 us on 64K float32); an inf or NaN makes it
    non-finite, and squares cannot cancel. ``np.vdot``, as fast as ``np.dot``, because it
    raises no floating-point warning (``dot`` warns when the squares overflow, a sum at
    ``inf - inf``): a backward formula's check must not warn. Float16 and strided arrays
    take the same path on a flat copy (2x slower than a sum, still rare); others: their sum.

    >>> import numpy as np
    >>> all_finite(np.array([1.0, -2.0])), all_finite(np.array([1.0, -np.inf]))
    (True, False)
    """
    if array.dtype.kind == "f":
        return math.isfinite(np.vdot(array, array))
    return math.isfinite(np.add.reduce(array, axis=None))  # array.sum(), without its wrapper


def scaled_gradient(grad_output: Tensor, factor: Tensor) -> Tensor:
    """``grad_output * factor`` (a local derivative), with 0 * inf taken as 0."""
    if all_finite(factor.data):
        return grad_output * factor
    with np.errstate(invalid="ignore"):
        return where(grad_output.data == 0, 0.0, grad_output * factor)


def scaled_gradient_array(g: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """``scaled_gradient`` on floating arrays of one dtype, the same arithmetic without Tensor ops.

    For first-order backward formulas (no graph is built) and ``tn.compile``'s replay.

    >>> import numpy as np
    >>> scaled_gradient_array(np.array([0.0, 2.0]), np.array([np.inf, 3.0]))
    array([0., 6.])
    """
    if all_finite(factor):
        out = g * factor
    else:
        with np.errstate(invalid="ignore"):
            product = g * factor
            out = np.where(g == 0, np.asarray(0.0, product.dtype), product)
    return out if type(out) is np.ndarray else np.asarray(out)


def divided_gradient(grad_output: Tensor, denominator: Tensor) -> Tensor:
    """``grad_output / denominator``, with 0 / 0 taken as 0."""
    if denominator.data.all():
        return grad_output / denominator
    with np.errstate(divide="ignore", invalid="ignore"):
        return where(grad_output.data == 0, 0.0, grad_output / denominator)


# -- arithmetic ------------------------------------------------------------------------------
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, -grad_output if ctx.needs_input_grad[1] else None


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.inputs
        needs_a, needs_b = ctx.needs_input_grad
        g = grad_output.data
        dtype = g.dtype
        if (
            not grad_mode.enabled
            and dtype.kind == "f"
            and (a.data.dtype is dtype or a.data.dtype == dtype)
            and (b.data.dtype is dtype or b.data.dtype == dtype)
        ):
            # first-order fast path: scaled_gradient's arithmetic on the arrays
            return (
                Tensor.wrap(scaled_gradient_array(g, b.data)) if needs_a else None,
                Tensor.wrap(scaled_gradient_array(g, a.data)) if needs_b else None,
            )
        return (
            scaled_gradient(grad_output, b) if needs_a else None,
            scaled_gradient(grad_output, a) if needs_b else None,
        )


class Div(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        return a / b

    @staticmethod
    def backward(ctx, grad_output):
        _, b = ctx.inputs
        grad_a = divided_gradient(grad_output, b)
        grad_b = None
        if ctx.needs_input_grad[1]:
            grad_b = scaled_gradient(-grad_a, ctx.output)
        return grad_a if ctx.needs_input_grad[0] else None, grad_b


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


class PowScalar(Function):
    """``x ** exponent`` for a Python number exponent."""

    display_name = "pow"

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.exponent = exponent
        return x**exponent

    @staticmethod
    def backward(ctx, grad_output):
        (x, _) = ctx.inputs
        p = ctx.exponent
        if p == 0:
            return Tensor.wrap(np.zeros_like(x.data))
        if p == 1:
            return grad_output
        if p == 2:
            return grad_output * (x * 2.0)
        if p < 1:  # 0 ** (p - 1) is inf, the derivative at 0 (PyTorch's): no warning
            with np.errstate(divide="ignore"):
                return scaled_gradient(grad_output, x ** (p - 1) * p)
        return scaled_gradient(grad_output, x ** (p - 1) * p)


class Pow(Function):
    """``a ** b`` for two tensors."""

    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        return a**b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.inputs
        if (a.data == 0).any():
            # 0 ** (b - 1) and log(0) are infinite: the derivatives at 0 (PyTorch's), with
            # the conventions below; NumPy's warning would blame this line.
            with np.errstate(divide="ignore"):
                return Pow._gradients(ctx, grad_output, a, b)
        return Pow._gradients(ctx, grad_output, a, b)

    @staticmethod
    def _gradients(ctx, grad_output, a, b):
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            constant = (a.data == 0) & (b.data == 0)
            if constant.any():
                # a ** 0 is constant: d/da is 0 even at a == 0 (as PyTorch), not 0 * inf.
                with np.errstate(invalid="ignore"):
                    grad_a = where(constant, 0.0, scaled_gradient(grad_output, b * a ** (b - 1)))
            else:
                grad_a = scaled_gradient(grad_output, b * a ** (b - 1))
        if ctx.needs_input_grad[1]:
            # d/db a**b = a**b log a, taken as 0 where a == 0 and b >= 0 (as PyTorch).
            at_zero = (a.data == 0) & (b.data >= 0)
            log_a = where(at_zero, 1.0, a).log()
            grad_b = where(at_zero, 0.0, scaled_gradient(grad_output, ctx.output * log_a))
        return grad_a, grad_b


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return cast(grad_output, ctx.inputs[0].data.dtype)


# -- unary functions --------------------------------------------------------------------------
class Exp(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return np.exp(x)

    @staticmethod
    def backward(ctx, grad_output):
        return scaled_gradient(grad_output, ctx.output)


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        return np.log(x)

    @staticmethod
    def backward(ctx, grad_output):
        return divided_gradient(grad_output, ctx.inputs[0])


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad_output):
        return divided_gradient(grad_output, ctx.inputs[0] + 1.0)


class Sqrt(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return np.sqrt(x)

    @staticmethod
    def backward(ctx, grad_output):
        return divided_gradient(grad_output, ctx.output * 2.0)


class Abs(Function):
    kinks = staticmethod(lambda x: [("0", x)])

    @staticmethod
    def forward(ctx, x):
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * Tensor.wrap(np.sign(ctx.inputs[0].data))


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * cos(ctx.inputs[0])


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -(grad_output * sin(ctx.inputs[0]))


class Tanh(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, x):
        return np.tanh(x)

    @staticmethod
    def backward(ctx, grad_output):
        y = ctx.output
        g = grad_output.data
        y_data = y.data
        dtype = y_data.dtype
        if not grad_mode.enabled and dtype.kind == "f" and (g.dtype is dtype or g.dtype == dtype):
            # first-order fast path: the same operations as below, on the arrays
            out = single_value(g) * (one(dtype) - y_data * y_data)
            return Tensor.wrap(out if type(out) is np.ndarray else np.asarray(out))
        return grad_output * (1.0 - y * y)


class Sigmoid(Function):
    """Logistic sigmoid, computed without overflow for any finite input."""

    saves_output = True

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))
        r = 1.0 / (1.0 + e)
        return np.where(x >= 0, r, e * r)

    @staticmethod
    def backward(ctx, grad_output):
        y = ctx.output
        g = grad_output.data
        y_data = y.data
        dtype = y_data.dtype
        if not grad_mode.enabled and dtype.kind == "f" and (g.dtype is dtype or g.dtype == dtype):
            # first-order fast path: the same operations as below, on the arrays
            out = single_value(g) * (y_data * (one(dtype) - y_data))
            return Tensor.wrap(out if type(out) is np.ndarray else np.asarray(out))
        return grad_output * (y * (1.0 - y))


class Erf(Function):
    @staticmethod
    def forward(ctx, x):
        from scipy.special import erf as _erf

        return _erf(x).astype(x.dtype, copy=False)  # SciPy computes float16 in float64

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        return grad_output * ((x * x * -1.0).exp() * (2.0 / math.sqrt(math.pi)))


def relu_zeros(x: np.ndarray):
    """The zero that ``Relu`` takes the maximum with: an array of zeros shaped like a
    C-contiguous floating ``x``, else ``0`` (the result keeps ``x``'s memory layout either way).

    The same bits as ``np.maximum(x, 0)`` (NaN payloads and signed zeros included;
    tests/test_fast_paths.py), and 2.5-4x faster: NumPy 2's ``maximum`` of two float arrays
    is vectorized, against a broadcast scalar it is not (6.6 us against 1.6 us on (200, 100)
    float32, and 2.2 us with the zeros allocated). ``tn.compile``'s replay keeps these zeros.

    >>> import numpy as np
    >>> relu_zeros(np.ones((2, 3), np.float32))
    array([[0., 0., 0.],
           [0., 0., 0.]], dtype=float32)
    >>> relu_zeros(np.arange(3))
    0
    """
    if x.dtype.kind == "f" and x.flags.c_contiguous:
        return np.zeros(x.shape, x.dtype)
    return 0


def relu_mask(x: np.ndarray) -> np.ndarray:
    """Where ``relu`` passes its gradient: ``not (x <= 0)``, PyTorch's rule (its backward
    zeroes the gradient where ``relu(x) <= 0``), so a NaN input passes it.

    >>> import numpy as np
    >>> relu_mask(np.array([-1.0, 0.0, 2.0, np.nan]))
    array([False, False,  True,  True])
    """
    mask = x <= 0
    if type(mask) is not np.ndarray:  # a 0-d x gives a NumPy bool
        return np.logical_not(mask)
    return np.logical_not(mask, out=mask)


class Relu(Function):
    kinks = staticmethod(lambda x: [("0", x)])

    @staticmethod
    def forward(ctx, x):
        return np.maximum(x, relu_zeros(x))

    @staticmethod
    def backward(ctx, grad_output):
        mask = relu_mask(ctx.inputs[0].data)
        if not grad_mode.enabled:  # first-order fast path: the same formula in NumPy
            g = grad_output.data
            # Multiplying by the mask is ~9x faster than np.where and equal to it while g is
            # finite; a nan or inf in g takes np.where, which drops it exactly.
            if all_finite(g):
                out = g * mask
                return Tensor.wrap(out if type(out) is np.ndarray else np.asarray(out))  # 0-d
            return Tensor.wrap(np.where(mask, g, g.dtype.type(0)))
        return where(mask, grad_output, 0.0)


class LeakyRelu(Function):
    kinks = staticmethod(lambda x, slope: [("0", x)] if slope != 1 else [])

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        return np.where(x > 0, x, x * np.asarray(negative_slope, x.dtype))

    @staticmethod
    def backward(ctx, grad_output):
        return where(ctx.inputs[0].data > 0, grad_output, grad_output * ctx.negative_slope)


class PRelu(Function):
    """``x`` where ``x > 0``, else ``weight * x`` (``weight`` broadcast against ``x``): the
    negative side at 0 and at NaN, PyTorch's choice, at every order."""

    display_name = "prelu"
    kinks = staticmethod(lambda x, weight: [("0", x)])

    @staticmethod
    def forward(ctx, x, weight):
        return np.where(x > 0, x, weight * x)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.inputs
        positive = x.data > 0
        needs_x, needs_weight = ctx.needs_input_grad
        grad_x = where(positive, grad_output, grad_output * weight) if needs_x else None
        # x's shape: the engine sums it down to weight's
        grad_weight = where(positive, 0.0, grad_output * x) if needs_weight else None
        return grad_x, grad_weight


class Elu(Function):
    saves_output = True
    # The first derivative is continuous at 0 when alpha == 1: no kink for a gradient check.
    kinks = staticmethod(lambda x, alpha: [("0", x)] if alpha != 1 else [])

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        negative = np.expm1(np.minimum(x, 0)) * np.asarray(alpha, x.dtype)
        return np.where(x > 0, x, negative)

    @staticmethod
    def backward(ctx, grad_output):
        # For x <= 0, d/dx alpha (e^x - 1) = alpha e^x = output + alpha. At x = 0 the slope is
        # alpha but, as PyTorch's elu_double_backward, only x < 0 has a second derivative.
        x = ctx.inputs[0].data
        slope = where(x < 0, ctx.output, 0.0) + ctx.alpha
        return where(x <= 0, grad_output * slope, grad_output)  # NaN: the positive side


class Softplus(Function):
    """``log(1 + exp(beta x)) / beta`` without overflow (NumPy's logaddexp)."""

    @staticmethod
    def forward(ctx, x, beta):
        ctx.beta = beta
        if beta == 1:
            return np.logaddexp(0, x).astype(x.dtype, copy=False)
        beta = np.asarray(beta, x.dtype)
        return np.logaddexp(0, x * beta) / beta

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        return grad_output * sigmoid(x if ctx.beta == 1 else x * ctx.beta)


class Clip(Function):
    @staticmethod
    def kinks(x, low, high) -> list:
        rules = []
        if low is not None:
            rules.append((bound_label("lower", low), signed_difference(x, low)))
        if high is not None:
            rules.append((bound_label("upper", high), signed_difference(x, high)))
        return rules

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.low, ctx.high = low, high
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0].data
        inside = np.ones(x.shape, dtype=bool)
        if ctx.low is not None:
            inside &= x >= ctx.low
        if ctx.high is not None:
            inside &= x <= ctx.high
        return where(inside, grad_output, 0.0)


class Maximum(Function):
    kinks = staticmethod(lambda a, b: [("a tie", signed_difference(a, b))])

    @staticmethod
    def forward(ctx, a, b):
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return _tie_split(ctx, grad_output, np.greater)


class Minimum(Function):
    kinks = staticmethod(lambda a, b: [("a tie", signed_difference(a, b))])

    @staticmethod
    def forward(ctx, a, b):
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return _tie_split(ctx, grad_output, np.less)


def _tie_split(ctx, grad_output, wins):
    """Gradient of maximum/minimum: to the winner, split in half on a tie."""
    a, b = (t.data for t in ctx.inputs)
    dtype = grad_output.data.dtype
    weight_a = wins(a, b).astype(dtype) + (a == b).astype(dtype) * dtype.type(0.5)
    grad_a = grad_output * Tensor.wrap(weight_a) if ctx.needs_input_grad[0] else None
    grad_b = grad_output * Tensor.wrap(1 - weight_a) if ctx.needs_input_grad[1] else None
    return grad_a, grad_b


class Where(Function):
    """``condition ? a : b``; the unselected side gets an exact zero gradient."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad_output):
        condition = ctx.condition
        zero = np.zeros((), grad_output.data.dtype)
        grad_a = where(condition, grad_output, zero) if ctx.needs_input_grad[1] else None
        grad_b = where(condition, zero, grad_output) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


# -- public functions -------------------------------------------------------------------------
def add(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise ``a + b`` with broadcasting."""
    return apply_binary(Add, "add", a, b)


def sub(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise ``a - b`` with broadcasting."""
    return apply_binary(Sub, "sub", a, b)


def mul(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise ``a * b`` with broadcasting."""
    return apply_binary(Mul, "mul", a, b)


def div(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise ``a / b`` with broadcasting (true division)."""
    return floating_binary(Div, "div", a, b)


def neg(x: TensorLike) -> Tensor:
    """Elementwise ``-x``."""
    return Neg.apply(as_tensor(x))


def pow(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise ``a ** b``; a Python number exponent is the common, cheaper case."""
    if isinstance(a, Tensor) and isinstance(b, (int, float)) and not isinstance(b, bool):
        if isinstance(b, float) and a.data.dtype.kind != "f":  # int ** 0.5 is a float
            a = floating_input(a)
        return PowScalar.apply(a, b)
    return apply_binary(Pow, "pow", a, b)


def cast(x: TensorLike, dtype: DTypeLike) -> Tensor:
    """``x`` converted to ``dtype``; gradients flow back in ``x``'s dtype."""
    x = as_tensor(x)
    dtype = np.dtype(dtype)
    if x.data.dtype == dtype:
        return x
    from tinynet._dtype import check_supported

    check_supported(dtype)
    return Cast.apply(x, dtype)


def _unary(function, name: str | None = None):
    """The public function of a float-valued op: integer inputs become the default float."""

    def op(x: TensorLike) -> Tensor:
        return function.apply(floating_input(x))

    op.__name__ = op.__qualname__ = name or function.__name__.lower()
    return op


def _unary_keeping_dtype(function, name: str | None = None):
    """The public function of an op whose result keeps the input's dtype (abs, relu)."""

    def op(x: TensorLike) -> Tensor:
        return function.apply(as_tensor(x))

    op.__name__ = op.__qualname__ = name or function.__name__.lower()
    return op


# -- kink rules' helpers (the ``kinks`` of the classes above; see ``tinynet.lab.kinks``) ------
# Shared with other op modules' kink rules: a named internal API, not exported by ``ops``.
def signed_difference(a, b) -> np.ndarray:
    """``a - b`` in float64: a kink coordinate that is 0 where ``a`` meets ``b``."""
    return np.asarray(a, np.float64) - np.asarray(b, np.float64)


def bound_label(name: str, value) -> str:
    """``"the lower bound -1"``: how a report names a clipping bound (a kink point)."""
    value = np.asarray(value)
    return f"the {name} bound {value.item():g}" if value.size == 1 else f"the {name} bound"


exp = _unary(Exp)
exp.__doc__ = "Elementwise e**x."
log = _unary(Log)
log.__doc__ = "Elementwise natural logarithm."
log1p = _unary(Log1p)
log1p.__doc__ = "Elementwise log(1 + x), accurate for small x."
sqrt = _unary(Sqrt)
sqrt.__doc__ = "Elementwise square root; its derivative at 0 is inf (as PyTorch)."
abs = _unary_keeping_dtype(Abs)
abs.__doc__ = "Elementwise |x|; its derivative at 0 is 0."
sin = _unary(Sin)
sin.__doc__ = "Elementwise sine."
cos = _unary(Cos)
cos.__doc__ = "Elementwise cosine."
tanh = _unary(Tanh)
tanh.__doc__ = "Elementwise hyperbolic tangent."
sigmoid = _unary(Sigmoid)
sigmoid.__doc__ = "Elementwise logistic sigmoid 1 / (1 + e**-x), stable for any finite x."
erf = _unary(Erf)
erf.__doc__ = "Elementwise Gauss error function (SciPy, imported on first use)."
relu = _unary_keeping_dtype(Relu)
relu.__doc__ = "Elementwise max(x, 0); its derivative at 0 is 0."


def leaky_relu(x: TensorLike, negative_slope: float = 0.01) -> Tensor:
    """Elementwise ``x`` if ``x > 0`` else ``negative_slope * x``."""
    return LeakyRelu.apply(as_tensor(x), negative_slope)


def prelu(x: TensorLike, weight: TensorLike) -> Tensor:
    """Elementwise ``x`` if ``x > 0`` else ``weight * x``, ``weight`` broadcast against ``x``."""
    return PRelu.apply(as_tensor(x), as_tensor(weight))


def elu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """Elementwise ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return Elu.apply(floating_input(x), alpha)


def softplus(x: TensorLike, beta: float = 1.0) -> Tensor:
    """Elementwise ``log(1 + exp(beta * x)) / beta``, stable for any finite input."""
    return Softplus.apply(floating_input(x), beta)


def clip(x: TensorLike, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
    """Limit values to ``[min, max]``; the gradient passes inside and at the bounds."""
    x = as_tensor(x)
    if min is None and max is None:
        raise ValueError("clip needs at least one of min and max")
    # PyTorch's promotion: scalar bounds are weak (a float32 tensor stays float32), and a
    # floating bound makes an integer tensor floating (the default dtype, not NumPy's float64).
    min, max = (_weak_bound(bound, x.data.dtype) for bound in (min, max))
    if x.data.dtype.kind != "f":
        floats = [np.asarray(b).dtype for b in (min, max) if b is not None]
        floats = [dtype for dtype in floats if dtype.kind == "f"]
        if floats:
            x = Tensor.wrap(traced_call(np.asarray, x.data, np.result_type(*floats)))
    return Clip.apply(x, min, max)


def _weak_bound(bound, dtype: np.dtype):
    if isinstance(bound, (int, float, np.number)):
        return weak_scalar_array(bound, dtype)
    return bound


def maximum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise maximum; on ties each input gets half the gradient."""
    return apply_binary(Maximum, "maximum", a, b)


def minimum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise minimum; on ties each input gets half the gradient."""
    return apply_binary(Minimum, "minimum", a, b)


@overload
def where(condition: TensorLike) -> tuple[Tensor, ...]: ...
@overload
def where(condition: TensorLike, a: TensorLike, b: TensorLike) -> Tensor: ...
def where(
    condition: TensorLike, a: TensorLike | None = None, b: TensorLike | None = None
) -> Tensor | tuple[Tensor, ...]:
    """Elementwise ``a`` where ``condition`` else ``b``; scalars and arrays accepted. With
    ``condition`` alone, PyTorch's ``nonzero(condition, as_tuple=True)``: its indices, one
    int64 tensor per axis.

    >>> import tinynet as tn
    >>> [index.tolist() for index in tn.where(tn.tensor([[True, False], [True, True]]))]
    [[0, 1, 1], [0, 0, 1]]
    """
    mask = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    if a is None and b is None:
        return tuple(Tensor.wrap(column) for column in nonzero_columns(mask))
    if a is None or b is None:
        raise TypeError(
            "where: give both a and b, or neither (where(condition) gives the indices where "
            "condition is true)"
        )
    if mask.dtype != np.bool_:  # PyTorch raises too: truthiness of numbers is a likely slip
        raise DTypeError(
            f"where: the condition must be a boolean tensor, got {mask.dtype}; compare first "
            "(tn.where(x > 0, a, b)) or convert it with condition.bool()"
        )
    a, b = binary(a, b)
    try:
        return Where.apply(mask, a, b)
    except ValueError:
        raise broadcast_error("where", mask.shape, a.shape, b.shape) from None


# -- comparisons: boolean results, never recorded ---------------------------------------------
def _comparison(ufunc, name):
    def compare(a: TensorLike, b: TensorLike) -> Tensor:
        a, b = binary(a, b)
        try:
            return Tensor.wrap(traced_call(as_array, ufunc, a.data, b.data))
        except ValueError:
            raise broadcast_error(name, a.shape, b.shape) from None

    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``{name}`` comparison as a boolean tensor (not differentiable)."
    return compare


lt = _comparison(np.less, "lt")
le = _comparison(np.less_equal, "le")
gt = _comparison(np.greater, "gt")
ge = _comparison(np.greater_equal, "ge")
eq = _comparison(np.equal, "eq")
ne = _comparison(np.not_equal, "ne")
