"""Activation functions as modules, with PyTorch's names and arguments.

``inplace=True`` (wherever PyTorch takes it, shown in the repr) calls the functional form
with ``inplace=True``, as PyTorch's modules do: the input is overwritten and returned.

>>> import tinynet as tn, tinynet.nn as nn
>>> nn.LeakyReLU(0.1)(tn.tensor([-1.0, 2.0])).tolist()
[-0.10000000149011612, 2.0]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinynet import _device, _dtype
from tinynet.errors import ShapeError
from tinynet.nn import functional as F
from tinynet.nn.module import Module, Parameter
from tinynet.ops._args import as_tensor
from tinynet.tensor import Tensor


def _inplace_repr(inplace: bool, prefix: str = "") -> str:
    """PyTorch's repr of the flag: shown only when set."""
    if not inplace:
        return prefix
    return f"{prefix}, inplace=True" if prefix else "inplace=True"


class _Stateless(Module):
    """An activation without arguments: ``forward`` applies ``function``."""

    function: Callable[[Tensor], Tensor]

    def forward(self, input) -> Tensor:
        return type(self).function(input)


class _StatelessInplace(_Stateless):
    """A ``_Stateless`` activation with PyTorch's ``inplace`` (True: the input is overwritten)."""

    function: Callable[[Tensor, bool], Tensor]  # type: ignore[assignment]
    inplace = False  # also for instances pickled before the flag existed

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input) -> Tensor:
        return type(self).function(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class ReLU(_StatelessInplace):
    """``max(x, 0)`` elementwise; ``inplace=True`` overwrites the input and returns it.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> relu, x = nn.ReLU(inplace=True), tn.tensor([-1.0, 2.0])
    >>> relu, relu(x) is x, x.tolist()
    (ReLU(inplace=True), True, [0.0, 2.0])
    """

    function = staticmethod(F.relu)


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x``."""

    inplace = False  # also for instances pickled before the flag existed

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, f"negative_slope={self.negative_slope}")


class ELU(Module):
    """``x`` where positive, else ``alpha * (exp(x) - 1)``."""

    inplace = False  # also for instances pickled before the flag existed

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, f"alpha={self.alpha}")


class GELU(Module):
    """Gaussian error linear unit: exact (``approximate='none'``) or ``'tanh'``."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    """Hyperbolic tangent elementwise."""

    def forward(self, input) -> Tensor:
        return F.tanh(input)


class Sigmoid(Module):
    """Logistic sigmoid elementwise."""

    def forward(self, input) -> Tensor:
        return F.sigmoid(input)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Softmax along ``dim`` (default -1, the last axis)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of ``(N, C, H, W)`` or ``(C, H, W)`` at each position
    (``dim=-3``), as ``torch.nn.Softmax2d``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.Softmax2d()(tn.zeros(1, 4, 2, 2))[0, :, 0, 0].tolist()
    [0.25, 0.25, 0.25, 0.25]
    """

    def forward(self, input) -> Tensor:
        input = as_tensor(input)
        if input.ndim not in (3, 4):
            raise ShapeError(
                f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead "
                f"(shape {input.shape})"
            )
        return F.softmax(input, -3)


class LogSoftmax(Module):
    """Log-softmax along ``dim`` (default -1, the last axis), computed stably."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input) -> Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# == issue 11: more activations ===================================================================
class SiLU(_StatelessInplace):
    """``x * sigmoid(x)`` elementwise (also called swish)."""

    function = staticmethod(F.silu)


class Mish(_StatelessInplace):
    """``x * tanh(softplus(x))`` elementwise."""

    function = staticmethod(F.mish)


class SELU(_StatelessInplace):
    """Scaled ELU with the self-normalizing constants."""

    function = staticmethod(F.selu)


class ReLU6(_StatelessInplace):
    """``min(max(x, 0), 6)`` elementwise; gradient 0 at 0 and 6."""

    function = staticmethod(F.relu6)


class Hardsigmoid(_StatelessInplace):
    """``relu6(x + 3) / 6`` elementwise."""

    function = staticmethod(F.hardsigmoid)


class Hardswish(_StatelessInplace):
    """``x * relu6(x + 3) / 6`` elementwise."""

    function = staticmethod(F.hardswish)


class Softsign(_Stateless):
    """``x / (1 + |x|)`` elementwise."""

    function = staticmethod(F.softsign)


class LogSigmoid(_Stateless):
    """``log(sigmoid(x))`` elementwise, computed stably."""

    function = staticmethod(F.logsigmoid)


class CELU(Module):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` elementwise."""

    inplace = False  # also for instances pickled before the flag existed

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input) -> Tensor:
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, f"alpha={self.alpha}")


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]``; gradient 0 at and beyond the bounds.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.Hardtanh(-2.0, 2.0)(tn.tensor([-3.0, 1.0])).tolist()
    [-2.0, 1.0]
    """

    inplace = False  # also for instances pickled before the flag existed

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val {min_val} must not exceed max_val {max_val}")
        self.min_val, self.max_val = min_val, max_val
        self.inplace = inplace

    def forward(self, input) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, f"min_val={self.min_val}, max_val={self.max_val}")


class Softmin(Module):
    """Softmax of ``-x`` along ``dim``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input) -> Tensor:
        return F.softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GLU(Module):
    """Gated linear unit: first half of ``dim`` times the sigmoid of the second half."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """``input`` where positive, else ``weight * input`` with a learned slope: one
    (``num_parameters=1``) or one per channel (axis 1), starting at ``init``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> act = nn.PReLU()
    >>> act(tn.tensor([-2.0, 3.0])).tolist(), list(act.state_dict())
    ([-0.5, 3.0], ['weight'])
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        _device.check(device)
        dtype = _dtype.get_default_dtype() if dtype is None else np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"parameters must have a floating dtype, got {dtype}")
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, (int, np.integer)):
            raise TypeError(f"num_parameters must be an int, got {type(num_parameters).__name__}")
        if num_parameters < 1:
            raise ValueError(f"num_parameters must be positive, got {num_parameters}")
        self.num_parameters = int(num_parameters)
        self.init = init
        self.weight = Parameter(np.full(self.num_parameters, init, dtype))

    def reset_parameters(self) -> None:
        self.weight.data[...] = self.init

    def forward(self, input) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Threshold(Module):
    """``input`` where ``input > threshold``, else ``value``; see ``F.threshold``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.Threshold(0.1, 20.0)(tn.tensor([0.0, 0.5])).tolist()
    [20.0, 0.5]
    """

    inplace = False

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input) -> Tensor:
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, f"threshold={self.threshold}, value={self.value}")
