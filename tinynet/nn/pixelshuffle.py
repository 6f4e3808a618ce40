"""PixelShuffle and PixelUnshuffle: trade channels for resolution, as PyTorch's; and
ChannelShuffle, which interleaves groups of channels.

>>> import tinynet as tn, tinynet.nn as nn
>>> x = tn.randn(2, 8, 3, 3)
>>> nn.PixelShuffle(2)(x).shape, nn.PixelUnshuffle(2)(nn.PixelShuffle(2)(x)).shape
((2, 2, 6, 6), (2, 8, 3, 3))
"""

from __future__ import annotations

from tinynet.nn import functional as F
from tinynet.nn.module import Module
from tinynet.tensor import Tensor

__all__ = ["ChannelShuffle", "PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """``(*, C r**2, H, W) -> (*, C, H r, W r)`` for ``r = upscale_factor``; see
    ``F.pixel_shuffle``."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H r, W r) -> (*, C r**2, H, W)`` for ``r = downscale_factor``; see
    ``F.pixel_unshuffle``."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``(N, C, *)`` from ``groups`` groups; see
    ``F.channel_shuffle``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.ChannelShuffle(2)(tn.arange(4.0).reshape(1, 4, 1, 1)).flatten().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, input) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
