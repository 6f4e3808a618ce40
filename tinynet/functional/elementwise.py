"""More elementwise composites: rsqrt, log2/log10/exp2, lerp, predicates, logical ops, allclose."""

from __future__ import annotations

import math

import numpy as np

from tinynet import ops
from tinynet.ops._args import (
    as_tensor,
    binary,
    broadcast_error,
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
        return Tensor.wrap(np.asarray(ufunc(as_tensor(x).data)))

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
            return Tensor.wrap(np.asarray(ufunc(a.data, b.data)))
        except ValueError:
            raise broadcast_error(name, a.shape, b.shape) from None

    logical.__name__ = logical.__qualname__ = name
    logical.__doc__ = f"Elementwise ``{name}`` of truth values (nonzero is true), boolean result."
    return logical


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


def allclose(
    input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """``|input - other| <= atol + rtol |other|`` everywhere, as ``torch.allclose``: a bool.

    Takes Tensors or arrays; the shapes must broadcast.

    >>> import tinynet as tn
    >>> tn.allclose(tn.tensor([1.0, 2.0]), tn.tensor([1.0, 2.0 + 1e-9]))
    True
    """
    a = input.data if isinstance(input, Tensor) else np.asarray(input)
    b = other.data if isinstance(other, Tensor) else np.asarray(other)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(
            f"allclose: shapes {a.shape} and {b.shape} do not broadcast to a common shape"
        ) from None
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
