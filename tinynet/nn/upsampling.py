"""Upsampling layers, as in ``torch.nn``: ``Upsample`` and its two fixed-mode forms.

They hold no parameters; each calls ``interpolate`` (``tinynet.ops.resample``) with its
stored arguments.

>>> import tinynet as tn, tinynet.nn as nn
>>> nn.Upsample(scale_factor=2, mode="bilinear")
Upsample(scale_factor=2.0, mode='bilinear')
>>> nn.Upsample(scale_factor=2)(tn.ones(1, 3, 4, 4)).shape
(1, 3, 8, 8)
"""

from __future__ import annotations

from collections.abc import Sequence

from tinynet import ops
from tinynet.nn.module import Module
from tinynet.tensor import Tensor, TensorLike

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]


class Upsample(Module):
    """Resample 1-D, 2-D or 3-D data (``(N, C, [D, [H,]] W)``) to ``size`` or by ``scale_factor``.

    As ``torch.nn.Upsample``: give one of ``size`` and ``scale_factor``; ``mode`` is
    ``'nearest'`` (default), ``'nearest-exact'``, ``'linear'``, ``'bilinear'``,
    ``'bicubic'``, ``'trilinear'`` or ``'area'`` (``'lanczos'`` needs ``antialias``, which
    only ``F.interpolate`` takes); ``align_corners`` goes with the interpolating modes
    only. A scale factor is kept as a float (or a tuple of floats), as PyTorch keeps it.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> x = tn.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> nn.Upsample(scale_factor=2, mode="nearest")(x)[0, 0].tolist()
    [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]
    >>> nn.Upsample(size=(2, 3), mode="bilinear", align_corners=True)(x)[0, 0].tolist()
    [[1.0, 1.5, 2.0], [3.0, 3.5, 4.0]]
    """

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        self.size = size
        self.scale_factor: float | tuple[float, ...] | None
        if isinstance(scale_factor, Sequence):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: TensorLike) -> Tensor:
        return ops.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` for ``(N, C, H, W)`` (deprecated in
    PyTorch in favour of ``interpolate``, and kept for its models).

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.UpsamplingNearest2d(scale_factor=2)(tn.tensor([[[[1.0, 2.0]]]])).tolist()
    [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    """

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
    ) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)`` for
    ``(N, C, H, W)`` (deprecated in PyTorch in favour of ``interpolate``).

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.UpsamplingBilinear2d(size=(1, 3))(tn.tensor([[[[1.0, 2.0]]]])).tolist()
    [[[[1.0, 1.5, 2.0]]]]
    """

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        scale_factor: float | Sequence[float] | None = None,
    ) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
