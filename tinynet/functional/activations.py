"""Activations built from primitives: silu, selu, celu, relu6, mish, glu, ..."""

from __future__ import annotations

from tinynet import ops
from tinynet.ops._args import (
    as_tensor,
    axes,
    dim_aliases,
    floating_input,
)
from tinynet.ops.pointwise import Celu
from tinynet.tensor import Tensor

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def silu(x) -> Tensor:
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``.

    >>> import tinynet as tn
    >>> round(tn.silu(tn.tensor([1.0])).item(), 6)
    0.731059
    """
    x = as_tensor(x)
    return x * ops.sigmoid(x)


swish = silu


def selu(x) -> Tensor:
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (as PyTorch)."""
    return ops.elu(x, _SELU_ALPHA) * _SELU_SCALE


def celu(x, alpha: float = 1.0) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``; continuously differentiable."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return Celu.apply(floating_input(x), alpha)


def relu6(x) -> Tensor:
    """``min(max(x, 0), 6)``; the gradient is 0 at 0 and 6 (``hardtanh(x, 0, 6)``, as PyTorch)."""
    return ops.hardtanh(x, 0.0, 6.0)


def hardsigmoid(x) -> Tensor:
    """``relu6(x + 3) / 6``; the gradient is ``1/6`` strictly between -3 and 3, else 0."""
    return ops.hardtanh(as_tensor(x) * (1.0 / 6.0) + 0.5, 0.0, 1.0)


def mish(x) -> Tensor:
    """``x * tanh(softplus(x))``."""
    x = as_tensor(x)
    return x * ops.softplus(x).tanh()


def softsign(x) -> Tensor:
    """``x / (1 + |x|)``."""
    x = as_tensor(x)
    return x / (ops.abs(x) + 1.0)


def logsigmoid(x) -> Tensor:
    """``log(sigmoid(x))``, stable for any finite input: ``-softplus(-x)``."""
    return -ops.softplus(-as_tensor(x))


@dim_aliases
def softmin(x, dim: int = -1) -> Tensor:
    """Softmax of ``-x`` along ``dim``."""
    return ops.softmax(-as_tensor(x), dim)


@dim_aliases
def glu(x, dim: int = -1) -> Tensor:
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
