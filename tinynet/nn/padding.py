"""Padding layers with PyTorch's names: constant (and zero), reflection and replication
padding of the last one or two axes, built on ``F.pad``.

``padding`` is an int (every side) or one width per side: ``(left, right)`` for the 1-D
layers, ``(left, right, top, bottom)`` for the 2-D ones; negative widths crop.

>>> import tinynet as tn, tinynet.nn as nn
>>> nn.ReflectionPad1d(2)(tn.tensor([[[1.0, 2.0, 3.0]]])).tolist()
[[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinynet.errors import ShapeError
from tinynet.nn import functional as F
from tinynet.nn.module import Module
from tinynet.ops._args import as_tensor
from tinynet.tensor import Tensor

__all__ = [
    "ConstantPad1d",
    "ConstantPad2d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ZeroPad2d",
]


class _PadNd(Module):
    """``F.pad`` of the last ``_spatial`` axes of an input of rank in ``_ranks``."""

    _spatial = 1
    _mode = "constant"

    def __init__(self, padding: int | Sequence[int], value: float = 0.0):
        super().__init__()
        sides = 2 * self._spatial
        widths = (padding,) * sides if isinstance(padding, (int, np.integer)) else padding
        if (
            isinstance(widths, (str, bytes))
            or len(widths) != sides
            or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in widths)
        ):
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or {sides} ints "
                f"(left, right{', top, bottom' if sides == 4 else ''}), got {padding!r}"
            )
        self.padding = tuple(int(n) for n in widths)
        self.value = value

    def forward(self, input) -> Tensor:
        input = as_tensor(input)
        ranks = (self._spatial + 1, self._spatial + 2)
        if self._mode != "constant" and input.ndim not in ranks:
            raise ShapeError(
                f"{type(self).__name__}: expected a {ranks[0]}-D or {ranks[1]}-D input, got "
                f"shape {input.shape}"
            )
        return F.pad(input, self.padding, self._mode, self.value)

    def extra_repr(self) -> str:
        if self._mode == "constant":
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class ConstantPad1d(_PadNd):
    """Pad the last axis with ``value``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.ConstantPad1d((1, 2), 3.5)(tn.tensor([[1.0]])).tolist()
    [[3.5, 1.0, 3.5, 3.5]]
    """

    def __init__(self, padding: int | Sequence[int], value: float):
        super().__init__(padding, value)


class ConstantPad2d(_PadNd):
    """Pad the last two axes with ``value``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.ConstantPad2d((0, 1, 1, 0), -1.0)(tn.tensor([[[1.0]]])).tolist()
    [[[-1.0, -1.0], [1.0, -1.0]]]
    """

    _spatial = 2

    def __init__(self, padding: int | Sequence[int], value: float):
        super().__init__(padding, value)


class ZeroPad2d(ConstantPad2d):
    """Pad the last two axes with zeros.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.ZeroPad2d(1)(tn.ones(1, 1, 2, 3)).shape
    (1, 1, 4, 5)
    """

    def __init__(self, padding: int | Sequence[int]):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad the last axis of ``(C, L)`` or ``(N, C, L)`` with its mirror image (the edge not
    repeated); each width must be below ``L``."""

    _mode = "reflect"

    def __init__(self, padding: int | Sequence[int]):
        super().__init__(padding)


class ReflectionPad2d(ReflectionPad1d):
    """Pad the last two axes of ``(C, H, W)`` or ``(N, C, H, W)`` with their mirror image.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.ReflectionPad2d((1, 0, 0, 1))(tn.tensor([[[1.0, 2.0], [3.0, 4.0]]])).tolist()
    [[[2.0, 1.0, 2.0], [4.0, 3.0, 4.0], [2.0, 1.0, 2.0]]]
    """

    _spatial = 2


class ReplicationPad1d(_PadNd):
    """Pad the last axis of ``(C, L)`` or ``(N, C, L)`` by repeating its edge values.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.ReplicationPad1d((2, 1))(tn.tensor([[1.0, 2.0]])).tolist()
    [[1.0, 1.0, 1.0, 2.0, 2.0]]
    """

    _mode = "replicate"

    def __init__(self, padding: int | Sequence[int]):
        super().__init__(padding)


class ReplicationPad2d(ReplicationPad1d):
    """Pad the last two axes of ``(C, H, W)`` or ``(N, C, H, W)`` by repeating the edges."""

    _spatial = 2
