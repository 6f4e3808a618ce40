"""Convolution and pooling layers, and ``Unflatten``, as in ``torch.nn``.

Parameters are named ``weight`` and ``bias`` with PyTorch's shapes and default
initialization, so ``state_dict`` keys and shapes match a PyTorch model's.

>>> import tinynet as tn, tinynet.nn as nn
>>> net = nn.Sequential(
...     nn.Conv2d(1, 4, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
...     nn.Flatten(), nn.Linear(4 * 4 * 4, 10, rng=1),
... )
>>> net(tn.ones(2, 1, 8, 8)).shape
(2, 10)
>>> sorted(net.state_dict())[:2]
['0.bias', '0.weight']
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tinynet import ops
from tinynet._random import as_generator
from tinynet.nn import init as nn_init
from tinynet.nn.module import Module, Parameter, parameter_dtype
from tinynet.ops._args import as_tensor
from tinynet.tensor import Tensor

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "MaxPool1d",
    "MaxPool2d",
    "Unflatten",
]


def _spatial(value, count: int, name: str) -> tuple:
    values = (value,) * count if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != count or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
    ):
        raise TypeError(f"{name} must be an int or a tuple of {count} ints, got {value!r}")
    return tuple(int(v) for v in values)


def _check_channels(
    name: str, in_channels: int, out_channels: int, groups: int, padding_mode: str
) -> None:
    """Positive channel and group counts, channels divisible by groups, a known padding mode."""
    for label, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: {label} must be a positive int, got {value!r}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
    if in_channels % groups:
        raise ValueError(f"{name}: in_channels must be divisible by groups")
    if out_channels % groups:
        raise ValueError(f"{name}: out_channels must be divisible by groups")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(
            f"{name}: padding_mode must be one of {', '.join(map(repr, _PADDING_MODES))}, "
            f"got {padding_mode!r}"
        )


_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared by the convolutions: checks, parameters and PyTorch's initialization."""

    _spatial_dims = 2
    _transposed = False
    _function: Callable[..., Tensor]  # the op: ops.conv2d, ops.conv_transpose1d, ...

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
        dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
        dtype=None, rng=None, output_padding=0,
    ):  # fmt: skip
        super().__init__()
        count = self._spatial_dims
        name = type(self).__name__
        _check_channels(name, in_channels, out_channels, groups, padding_mode)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _spatial(kernel_size, count, "kernel_size")
        self.stride = _spatial(stride, count, "stride")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(
                    f"{name}: padding must be 'valid', 'same' or ints, got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in _spatial(stride, count, "stride")):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions"
                )
        self.padding = padding if isinstance(padding, str) else _spatial(padding, count, "padding")
        self.dilation = _spatial(dilation, count, "dilation")
        self.output_padding = _spatial(output_padding, count, "output_padding")
        self.groups = int(groups)
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, as in PyTorch")
        self.padding_mode = padding_mode
        dtype = parameter_dtype(dtype)
        if self._transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(rng=rng)

    def reset_parameters(self, rng=None) -> None:
        """PyTorch's defaults: weight kaiming-uniform with ``a=sqrt(5)``, bias
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with ``fan_in = weight.shape[1] * kernel size``."""
        generator = as_generator(rng)
        nn_init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=generator)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            nn_init.uniform_(self.bias, -bound, bound, rng=generator)

    def forward(self, input) -> Tensor:
        input = as_tensor(input)
        if self.padding_mode != "zeros":  # PyTorch's order: pad the input, then no padding
            padded = ops.pad(input, self._pad_widths(input.ndim), mode=self.padding_mode)
            return type(self)._function(
                padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups
            )
        if self._transposed:
            return type(self)._function(
                input, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                self.groups, self.dilation,
            )  # fmt: skip
        return type(self)._function(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def _pad_widths(self, ndim: int) -> tuple:
        """``(before, after)`` per axis of an input of ``ndim`` axes: the spatial ones get
        ``padding`` on both sides, or for ``'same'`` the total ``dilation * (k - 1)`` with
        the odd one after, as PyTorch splits it."""
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            spatial = [(total // 2, total - total // 2) for total in totals]
        elif self.padding == "valid":
            spatial = [(0, 0)] * self._spatial_dims
        else:
            spatial = [(p, p) for p in self.padding]
        return ((0, 0),) * (ndim - self._spatial_dims) + tuple(spatial)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding not in ((0,) * self._spatial_dims, "valid"):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self._spatial_dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._spatial_dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)``; weight ``(C_out, C_in/groups, K)``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.Conv1d(2, 3, 3, padding="same", rng=0)(tn.ones(4, 2, 7)).shape
    (4, 3, 7)
    """

    _spatial_dims = 1

    _function = staticmethod(ops.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over ``(N, C_in, H, W)``; weight ``(C_out, C_in/groups, kH, kW)``.

    Arguments as ``torch.nn.Conv2d``; ``rng`` seeds the
    initialization.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> conv = nn.Conv2d(3, 16, 3, stride=2, padding=1, rng=0)
    >>> conv.weight.shape, conv(tn.ones(8, 3, 32, 32)).shape
    ((16, 3, 3, 3), (8, 16, 16, 16))
    """

    _function = staticmethod(ops.conv2d)


class Conv3d(_ConvNd):
    """3-D convolution over ``(N, C_in, D, H, W)``; weight ``(C_out, C_in/groups, kD, kH, kW)``.

    Arguments as ``torch.nn.Conv3d`` (``padding_mode`` included); ``rng`` seeds the
    initialization.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> conv = nn.Conv3d(2, 4, 3, stride=(1, 2, 2), padding=1, rng=0)
    >>> conv.weight.shape, conv(tn.ones(1, 2, 4, 8, 8)).shape
    ((4, 2, 3, 3, 3), (1, 4, 4, 4, 4))
    """

    _spatial_dims = 3

    _function = staticmethod(ops.conv3d)


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
        output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
        padding_mode: str = "zeros", dtype=None, rng=None,
    ):  # fmt: skip
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be ints, got {padding!r}")
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, dtype, rng, output_padding,
        )  # fmt: skip


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution; weight ``(C_in, C_out/groups, K)``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.ConvTranspose1d(2, 1, 4, stride=2, padding=1, rng=0)(tn.ones(1, 2, 5)).shape
    (1, 1, 10)
    """

    _spatial_dims = 1

    _function = staticmethod(ops.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution; weight ``(C_in, C_out/groups, kH, kW)``, as in PyTorch.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, rng=0)
    >>> up.weight.shape, up(tn.ones(1, 8, 5, 5)).shape
    ((8, 4, 3, 3), (1, 4, 10, 10))
    """

    _function = staticmethod(ops.conv_transpose2d)


# -- pooling ------------------------------------------------------------------------------------
class _MaxPoolNd(Module):
    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
        ceil_mode=False,
    ):  # fmt: skip
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """Maximum over windows of ``(N, C, L)``; the gradient goes to each window's first maximum.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.MaxPool1d(2)(tn.tensor([[[1.0, 3.0, 2.0, 0.0]]])).tolist()
    [[[3.0, 2.0]]]
    """

    def forward(self, input):
        return ops.max_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
            self.return_indices,
        )  # fmt: skip


class MaxPool2d(_MaxPoolNd):
    """Maximum over windows of ``(N, C, H, W)``, as ``torch.nn.MaxPool2d``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.MaxPool2d(2)(tn.ones(1, 3, 6, 6)).shape
    (1, 3, 3, 3)
    """

    def forward(self, input):
        return ops.max_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
            self.return_indices,
        )  # fmt: skip


class AvgPool1d(Module):
    """Mean over windows of ``(N, C, L)``, as ``torch.nn.AvgPool1d``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.AvgPool1d(2)(tn.tensor([[[1.0, 3.0, 2.0, 0.0]]])).tolist()
    [[[2.0, 1.0]]]
    """

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input) -> Tensor:
        return ops.avg_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over windows of ``(N, C, H, W)``, as ``torch.nn.AvgPool2d``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.AvgPool2d(2)(tn.ones(1, 3, 6, 6)).shape
    (1, 3, 3, 3)
    """

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
        divisor_override=None,
    ):  # fmt: skip
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input) -> Tensor:
        return ops.avg_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Mean over an ``output_size`` grid of near-equal windows (``None`` keeps an axis).

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.AdaptiveAvgPool2d(1)(tn.ones(2, 8, 5, 7)).shape
    (2, 8, 1, 1)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input) -> Tensor:
        return ops.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(Module):
    """Mean over ``output_size`` near-equal windows of ``(N, C, L)`` or ``(C, L)``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.AdaptiveAvgPool1d(2)(tn.tensor([[[1.0, 2.0, 3.0]]])).tolist()
    [[[1.5, 2.5]]]
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input) -> Tensor:
        return ops.adaptive_avg_pool1d(input, self.output_size)


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Maximum over ``output_size`` near-equal windows of ``(N, C, L)`` or ``(C, L)``;
    ``return_indices=True`` also returns where the maxima are.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.AdaptiveMaxPool1d(2)(tn.tensor([[[1.0, 3.0, 2.0, 0.0, 5.0]]])).tolist()
    [[[3.0, 5.0]]]
    """

    def forward(self, input):
        return ops.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Maximum over an ``output_size`` grid of near-equal windows (``None`` keeps an axis);
    ``return_indices=True`` also returns the maxima's flat indices into ``H * W``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.AdaptiveMaxPool2d((1, None))(tn.ones(2, 8, 5, 7)).shape
    (2, 8, 1, 7)
    """

    def forward(self, input):
        return ops.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (one entry may be -1): ``Flatten``'s inverse.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.Unflatten(1, (2, 4))(tn.ones(3, 8)).shape
    (3, 2, 4)
    """

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if isinstance(unflattened_size, (int, np.integer)):
            raise TypeError(
                f"unflattened_size must be a tuple of ints, got {unflattened_size!r}; "
                f"write ({unflattened_size},) for one axis"
            )
        self.dim = int(dim)
        self.unflattened_size = tuple(int(n) for n in unflattened_size)

    def forward(self, input) -> Tensor:
        x = as_tensor(input)
        if not -x.ndim <= self.dim < x.ndim:
            raise IndexError(
                f"Unflatten: dim {self.dim} is out of range for a tensor of {x.ndim} dimensions"
            )
        axis = self.dim % x.ndim
        shape = (*x.shape[:axis], *self.unflattened_size, *x.shape[axis + 1 :])
        known = math.prod(n for n in self.unflattened_size if n != -1)
        if (-1 not in self.unflattened_size and known != x.shape[axis]) or (
            -1 in self.unflattened_size and (known == 0 or x.shape[axis] % known)
        ):
            raise ValueError(
                f"Unflatten: unflattened_size {self.unflattened_size} does not multiply to "
                f"the size {x.shape[axis]} of dim {self.dim}"
            )
        return ops.reshape(x, shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
