"""``nn.Unfold`` and ``nn.Fold``: im2col and col2im as layers, as ``torch.nn``'s.

>>> import tinynet as tn, tinynet.nn as nn
>>> columns = nn.Unfold(kernel_size=2, stride=2)(tn.ones(1, 3, 4, 4))
>>> columns.shape
(1, 12, 4)
>>> nn.Fold(output_size=(4, 4), kernel_size=2, stride=2)(columns).shape
(1, 3, 4, 4)
"""

from __future__ import annotations

from tinynet.nn.module import Module
from tinynet.ops.conv import IntOrInts, fold, unfold
from tinynet.tensor import Tensor, TensorLike

__all__ = ["Fold", "Unfold"]


class Unfold(Module):
    """Every sliding block of ``(N, C, H, W)`` as a column of ``(N, C * kH * kW, L)``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.Unfold((2, 3), padding=1)(tn.ones(2, 5, 3, 4)).shape
    (2, 30, 16)
    """

    def __init__(
        self,
        kernel_size: IntOrInts,
        dilation: IntOrInts = 1,
        padding: IntOrInts = 0,
        stride: IntOrInts = 1,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: TensorLike) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


class Fold(Module):
    """Columns ``(N, C * kH * kW, L)`` summed back into ``(N, C, *output_size)``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.Fold((3, 3), 2)(tn.ones(1, 4, 4))[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """

    def __init__(
        self,
        output_size: IntOrInts,
        kernel_size: IntOrInts,
        dilation: IntOrInts = 1,
        padding: IntOrInts = 0,
        stride: IntOrInts = 1,
    ):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: TensorLike) -> Tensor:
        return fold(
            input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )
