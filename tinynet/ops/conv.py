"""Convolution and pooling on NumPy, with ``torch.nn.functional``'s names and arguments.

Two linear primitives carry everything: ``Im2Col`` gathers every kernel window of a
batch into columns (a strided view, copied once), and ``Col2Im`` scatter-adds columns
back (its adjoint, a loop over the kernel's offsets, never over pixels). Each is the
other's backward, so a convolution (``Im2Col`` and one batched GEMM), a transposed
convolution (a GEMM and ``Col2Im``) and their gradients are differentiable to any order.
Max-pooling picks each window's maximum with an integer index (gradient to the first
maximum in the window, as PyTorch); average and adaptive pooling are products with
constant averaging matrices, one per spatial axis.

>>> import tinynet as tn
>>> x = tn.ones(1, 1, 4, 4)
>>> tn.conv2d(x, tn.ones(2, 1, 3, 3), padding=1)[0, 0].tolist()[0]
[4.0, 6.0, 6.0, 4.0]
>>> tn.max_pool2d(tn.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
[[[[5.0, 7.0], [13.0, 15.0]]]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, TypeAlias, overload

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinynet.autograd import Function, traced_call
from tinynet.errors import ShapeError
from tinynet.ops._args import as_tensor, check_dtypes
from tinynet.ops.linalg import matmul
from tinynet.ops.movement import getitem, pad, reshape, transpose
from tinynet.tensor import Tensor, TensorLike

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "fold",
    "max_pool1d",
    "max_pool2d",
    "unfold",
]

#: A size per spatial axis: one int for every axis, or one int each.
IntOrInts: TypeAlias = int | Sequence[int]


def _window_slices(offset, dilation, stride, out) -> tuple:
    """Per spatial axis: the input positions that kernel ``offset`` meets, one per output."""
    return tuple(
        slice(o * d, o * d + s * (n - 1) + 1, s)
        for o, d, s, n in zip(offset, dilation, stride, out)
    )


def _im2col(x: np.ndarray, kernel, stride, dilation, out) -> np.ndarray:
    spatial = len(kernel)
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    windows = sliding_window_view(x, extent, axis=tuple(range(2, 2 + spatial)))
    starts = tuple(slice(0, s * (n - 1) + 1, s) for s, n in zip(stride, out))
    taps = tuple(slice(None, None, d) for d in dilation)
    # The index is built first: mypy takes any starred subscript, even ``x[(a, *b)]``, for
    # Python 3.11 syntax.
    index = (slice(None), slice(None), *starts, *taps)
    windows = windows[index]
    order = (0, 1, *range(2 + spatial, 2 + 2 * spatial), *range(2, 2 + spatial))
    return np.ascontiguousarray(windows.transpose(order))


class Im2Col(Function):
    """``(N, C, *size)`` -> ``(N, C, *kernel, *out)``: every window, one column per output."""

    display_name = "conv2d"  # the convolutions' step; each node names its own (conv1d too)

    @staticmethod
    def forward(ctx, x, kernel, stride, dilation, out):
        ctx.display_name = f"conv{len(kernel)}d"
        ctx.params = (x.shape[2:], kernel, stride, dilation)
        return _im2col(x, kernel, stride, dilation, out)

    @staticmethod
    def backward(ctx, grad_output):
        size, kernel, stride, dilation = ctx.params
        return Col2Im.apply(grad_output, size, kernel, stride, dilation)


class Col2Im(Function):
    """``(N, C, *kernel, *out)`` -> ``(N, C, *size)``: columns added back where they came from."""

    display_name = "conv_transpose2d"  # as Im2Col's: each node names its own

    @staticmethod
    def forward(ctx, cols, size, kernel, stride, dilation):
        ctx.display_name = f"conv_transpose{len(kernel)}d"
        spatial = len(kernel)
        out = cols.shape[2 + spatial :]
        ctx.params = (kernel, stride, dilation, out)
        result = np.zeros((*cols.shape[:2], *size), cols.dtype)
        every = (slice(None), slice(None))
        for offset in np.ndindex(*kernel):
            target = (*every, *_window_slices(offset, dilation, stride, out))
            source = (*every, *offset)
            result[target] += cols[source]
        return result

    @staticmethod
    def backward(ctx, grad_output):
        kernel, stride, dilation, out = ctx.params
        return Im2Col.apply(grad_output, kernel, stride, dilation, out)


# -- argument handling ------------------------------------------------------------------------
def _tuple(value, spatial: int, name: str, op: str, minimum: int = 1) -> tuple:
    """An int or a sequence of ``spatial`` ints, as a tuple; each at least ``minimum``."""
    values = (value,) * spatial if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != spatial or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"{op}: {name} must be an int or {spatial} ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


def _batched(x: Tensor, spatial: int, op: str) -> tuple[Tensor, bool]:
    """``x`` with a batch axis (``(C, *size)`` is accepted as one sample), and whether added."""
    if x.ndim == spatial + 1:
        return reshape(x, (1, *x.shape)), True
    if x.ndim != spatial + 2:
        raise ShapeError(
            f"{op}: expected a {spatial + 2}-D input (N, C, {_size_names(spatial)}) or an "
            f"unbatched {spatial + 1}-D one, got shape {x.shape}"
        )
    return x, False


def _size_names(spatial: int) -> str:
    return {1: "L", 2: "H, W", 3: "D, H, W"}[spatial]


def _unbatched(y: Tensor, added: bool) -> Tensor:
    return reshape(y, y.shape[1:]) if added else y


def _conv_padding(padding, kernel, dilation, stride, op: str) -> tuple:
    """``((before, after), ...)`` per spatial axis, from an int, ints, 'valid' or 'same'."""
    spatial = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * spatial
        if padding != "same":
            raise ValueError(f"{op}: padding must be 'valid', 'same' or ints, got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
        # PyTorch's split: an odd total puts the extra element after.
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in _tuple(padding, spatial, "padding", op, minimum=0))


def _check_channels(x: Tensor, weight: Tensor, bias, groups, spatial, op, transposed) -> None:
    if weight.ndim != spatial + 2:
        raise ShapeError(
            f"{op}: weight must be {spatial + 2}-D "
            f"({'in, out/groups' if transposed else 'out, in/groups'}, kernel...), "
            f"got shape {weight.shape}"
        )
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    channels = x.shape[1]
    if transposed:
        fits = weight.shape[0] == channels and channels % groups == 0
        expected = f"weight.shape[0] == input channels ({channels}), divisible by groups"
        out_channels = weight.shape[1] * groups
    else:
        fits = channels % groups == 0 and weight.shape[1] * groups == channels
        fits = fits and weight.shape[0] % groups == 0
        expected = f"weight.shape[1] * groups == input channels ({channels})"
        out_channels = weight.shape[0]
    if not fits:
        raise ShapeError(
            f"{op}: input of shape {x.shape} does not fit weight of shape {weight.shape} with "
            f"groups={groups} (expected {expected})"
        )
    if bias is not None and bias.shape != (out_channels,):
        raise ShapeError(f"{op}: bias of shape {bias.shape} for {out_channels} output channels")
    check_dtypes(op, x, weight=weight, bias=bias)  # no silent upcast, as PyTorch


def _add_bias(y: Tensor, bias, spatial: int) -> Tensor:
    if bias is None:
        return y
    return y + reshape(bias, (bias.shape[0], *(1,) * spatial))


# -- convolution --------------------------------------------------------------------------------
def _conv(op, spatial, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    x, weight = as_tensor(input), as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    x, added = _batched(x, spatial, op)
    _check_channels(x, weight, bias, groups, spatial, op, transposed=False)
    kernel = weight.shape[2:]
    stride = _tuple(stride, spatial, "stride", op)
    dilation = _tuple(dilation, spatial, "dilation", op)
    widths = _conv_padding(padding, kernel, dilation, stride, op)
    if any(before or after for before, after in widths):
        x = pad(x, ((0, 0), (0, 0), *widths))
    size = x.shape[2:]
    out = tuple(
        (n - d * (k - 1) - 1) // s + 1 for n, k, d, s in zip(size, kernel, dilation, stride)
    )
    if any(n < 1 for n in out):
        raise ShapeError(
            f"{op}: the (padded) input size {size} is smaller than the dilated kernel "
            f"{tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))}"
        )
    batch, out_channels = x.shape[0], weight.shape[0]
    per_group = x.shape[1] // groups * math.prod(kernel)
    cols = reshape(
        Im2Col.apply(x, kernel, stride, dilation, out), (batch, groups, per_group, math.prod(out))
    )
    # (groups, out/groups, in/groups * kernel) @ (N, groups, in/groups * kernel, positions)
    y = matmul(reshape(weight, (groups, out_channels // groups, per_group)), cols)
    y = _add_bias(reshape(y, (batch, out_channels, *out)), bias, spatial)
    return _unbatched(y, added)


def conv1d(
    input: TensorLike,
    weight: TensorLike,
    bias: TensorLike | None = None,
    stride: IntOrInts = 1,
    padding: IntOrInts | str = 0,
    dilation: IntOrInts = 1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation of ``(N, C_in, L)`` with ``(C_out, C_in/groups, K)`` weights.

    As ``torch.nn.functional.conv1d``: ``padding`` is an int, ``'valid'`` or ``'same'``.

    >>> import tinynet as tn
    >>> tn.conv1d(tn.tensor([[[1.0, 2.0, 3.0]]]), tn.tensor([[[1.0, -1.0]]])).tolist()
    [[[-1.0, -1.0]]]
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: TensorLike,
    weight: TensorLike,
    bias: TensorLike | None = None,
    stride: IntOrInts = 1,
    padding: IntOrInts | str = 0,
    dilation: IntOrInts = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation of ``(N, C_in, H, W)`` with ``(C_out, C_in/groups, kH, kW)``.

    As ``torch.nn.functional.conv2d``: ``stride``, ``padding`` and ``dilation`` are ints
    or pairs, ``padding`` may be ``'valid'`` or ``'same'``; a ``(C, H, W)`` input is one
    unbatched sample.

    >>> import tinynet as tn
    >>> x = tn.ones(2, 3, 8, 8)
    >>> tn.conv2d(x, tn.ones(4, 3, 3, 3), stride=2, padding=1).shape
    (2, 4, 4, 4)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(
    input: TensorLike,
    weight: TensorLike,
    bias: TensorLike | None = None,
    stride: IntOrInts = 1,
    padding: IntOrInts | str = 0,
    dilation: IntOrInts = 1,
    groups: int = 1,
) -> Tensor:
    """3-D cross-correlation of ``(N, C_in, D, H, W)`` with ``(C_out, C_in/groups, kD, kH, kW)``.

    As ``torch.nn.functional.conv3d``: ``stride``, ``padding`` and ``dilation`` are ints
    or triples, ``padding`` may be ``'valid'`` or ``'same'``; a ``(C, D, H, W)`` input is
    one unbatched sample.

    >>> import tinynet as tn
    >>> tn.conv3d(tn.ones(1, 2, 4, 4, 4), tn.ones(3, 2, 3, 3, 3), padding=1).shape
    (1, 3, 4, 4, 4)
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


# -- im2col and col2im: the convolutions' two primitives, as torch's unfold and fold ------------
def _blocks(op, size, kernel, dilation, padding, stride) -> tuple:
    """The number of sliding blocks along each spatial axis; at least one, or a ShapeError."""
    out = tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, d, p, s in zip(size, kernel, dilation, padding, stride)
    )
    if any(n < 1 for n in out):
        raise ShapeError(
            f"{op}: a spatial size of {tuple(size)} with kernel_size={kernel}, "
            f"dilation={dilation}, padding={padding} and stride={stride} leaves "
            f"{out} sliding blocks; each must be at least 1 (a smaller kernel or more padding)"
        )
    return out


def unfold(
    input: TensorLike,
    kernel_size: IntOrInts,
    dilation: IntOrInts = 1,
    padding: IntOrInts = 0,
    stride: IntOrInts = 1,
) -> Tensor:
    """Every sliding block of ``(N, C, H, W)`` as a column: ``(N, C * kH * kW, L)`` (im2col).

    As ``torch.nn.functional.unfold``: rows run over the channel, then the kernel's offsets
    in row-major order; the ``L`` columns over the blocks' positions in row-major order.
    ``padding`` adds zeros on both sides; a ``(C, H, W)`` input is one unbatched sample.

    >>> import tinynet.nn.functional as F, tinynet as tn
    >>> F.unfold(tn.arange(9.0).reshape(1, 1, 3, 3), 2).tolist()
    [[[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]]
    """
    op = "unfold"
    x = as_tensor(input)
    if x.ndim not in (3, 4):
        raise ShapeError(
            f"{op}: expected a 4-D input (N, C, H, W) or an unbatched 3-D one (C, H, W), "
            f"got shape {x.shape}"
        )
    x, added = _batched(x, 2, op)
    kernel = _tuple(kernel_size, 2, "kernel_size", op)
    dilation = _tuple(dilation, 2, "dilation", op)
    padding = _tuple(padding, 2, "padding", op, minimum=0)
    stride = _tuple(stride, 2, "stride", op)
    out = _blocks(op, x.shape[2:], kernel, dilation, padding, stride)
    if any(padding):
        x = pad(x, ((0, 0), (0, 0), *((p, p) for p in padding)))
    batch, channels = x.shape[:2]
    cols = Im2Col.apply(x, kernel, stride, dilation, out)  # (N, C, kH, kW, oH, oW)
    return _unbatched(reshape(cols, (batch, channels * math.prod(kernel), math.prod(out))), added)


def fold(
    input: TensorLike,
    output_size: IntOrInts,
    kernel_size: IntOrInts,
    dilation: IntOrInts = 1,
    padding: IntOrInts = 0,
    stride: IntOrInts = 1,
) -> Tensor:
    """Columns ``(N, C * kH * kW, L)`` summed back into ``(N, C, *output_size)`` (col2im).

    As ``torch.nn.functional.fold``: the adjoint of ``unfold`` with the same arguments
    (overlapping blocks add up); ``L`` must be the number of blocks that fit in
    ``output_size``. A ``(C * kH * kW, L)`` input is one unbatched sample.

    >>> import tinynet.nn.functional as F, tinynet as tn
    >>> F.fold(tn.ones(1, 4, 4), (3, 3), 2).tolist()
    [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]
    """
    op = "fold"
    x = as_tensor(input)
    if x.ndim not in (2, 3):
        raise ShapeError(
            f"{op}: expected a 3-D input (N, C * kernel size, L) or an unbatched 2-D one, "
            f"got shape {x.shape}"
        )
    added = x.ndim == 2
    if added:
        x = reshape(x, (1, *x.shape))
    size = _tuple(output_size, 2, "output_size", op)
    kernel = _tuple(kernel_size, 2, "kernel_size", op)
    dilation = _tuple(dilation, 2, "dilation", op)
    padding = _tuple(padding, 2, "padding", op, minimum=0)
    stride = _tuple(stride, 2, "stride", op)
    rows, blocks = x.shape[1:]
    if rows % math.prod(kernel):
        raise ShapeError(
            f"{op}: the input's dimension 1 ({rows}) must be divisible by the product of "
            f"kernel_size {kernel} ({math.prod(kernel)}), got input of shape {x.shape}"
        )
    out = _blocks(op, size, kernel, dilation, padding, stride)
    if blocks != math.prod(out):
        raise ShapeError(
            f"{op}: output_size={size} with kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding} and stride={stride} has {' * '.join(map(str, out))} = "
            f"{math.prod(out)} sliding blocks, but the input's last dimension is {blocks}"
        )
    full = tuple(n + 2 * p for n, p in zip(size, padding))
    cols = reshape(x, (x.shape[0], rows // math.prod(kernel), *kernel, *out))
    y = Col2Im.apply(cols, full, kernel, stride, dilation)
    if any(padding):
        y = getitem(
            y, (slice(None), slice(None), *(slice(p, p + n) for p, n in zip(padding, size)))
        )
    return _unbatched(y, added)


def _conv_transpose(
    op, spatial, input, weight, bias, stride, padding, output_padding, groups, dilation
) -> Tensor:
    x, weight = as_tensor(input), as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    x, added = _batched(x, spatial, op)
    _check_channels(x, weight, bias, groups, spatial, op, transposed=True)
    kernel = weight.shape[2:]
    stride = _tuple(stride, spatial, "stride", op)
    dilation = _tuple(dilation, spatial, "dilation", op)
    padding = _tuple(padding, spatial, "padding", op, minimum=0)
    extra = _tuple(output_padding, spatial, "output_padding", op, minimum=0)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(
            f"{op}: output_padding {extra} must be smaller than either stride {stride} "
            f"or dilation {dilation}"
        )
    size = x.shape[2:]
    full = tuple(
        (n - 1) * s + d * (k - 1) + 1 + e
        for n, s, d, k, e in zip(size, stride, dilation, kernel, extra)
    )
    if any(f - 2 * p < 1 for f, p in zip(full, padding)):
        raise ShapeError(f"{op}: padding {padding} leaves no output of the full size {full}")
    batch, in_channels = x.shape[:2]
    out_channels = weight.shape[1] * groups
    per_group = weight.shape[1] * math.prod(kernel)
    # (groups, out/groups * kernel, in/groups) @ (N, groups, in/groups, positions)
    w = transpose(reshape(weight, (groups, in_channels // groups, per_group)), 0, 2, 1)
    cols = matmul(w, reshape(x, (batch, groups, in_channels // groups, math.prod(size))))
    cols = reshape(cols, (batch, out_channels, *kernel, *size))
    y = Col2Im.apply(cols, full, kernel, stride, dilation)
    if any(padding):
        y = getitem(
            y, (slice(None), slice(None), *(slice(p, f - p) for p, f in zip(padding, full)))
        )
    return _unbatched(_add_bias(y, bias, spatial), added)


def conv_transpose1d(
    input: TensorLike,
    weight: TensorLike,
    bias: TensorLike | None = None,
    stride: IntOrInts = 1,
    padding: IntOrInts = 0,
    output_padding: IntOrInts = 0,
    groups: int = 1,
    dilation: IntOrInts = 1,
) -> Tensor:
    """1-D transposed convolution (the gradient of ``conv1d`` with respect to its input).

    ``weight`` has shape ``(C_in, C_out/groups, K)``; the output length is
    ``(L - 1) * stride - 2 * padding + dilation * (K - 1) + output_padding + 1``.

    >>> import tinynet as tn
    >>> tn.conv_transpose1d(tn.tensor([[[1.0, 2.0]]]), tn.ones(1, 1, 2)).tolist()
    [[[1.0, 3.0, 2.0]]]
    """
    return _conv_transpose(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip


def conv_transpose2d(
    input: TensorLike,
    weight: TensorLike,
    bias: TensorLike | None = None,
    stride: IntOrInts = 1,
    padding: IntOrInts = 0,
    output_padding: IntOrInts = 0,
    groups: int = 1,
    dilation: IntOrInts = 1,
) -> Tensor:
    """2-D transposed convolution of ``(N, C_in, H, W)`` with ``(C_in, C_out/groups, kH, kW)``.

    As ``torch.nn.functional.conv_transpose2d`` (note its argument order: ``groups``
    before ``dilation``); the adjoint of ``conv2d`` with the same arguments.

    >>> import tinynet as tn
    >>> tn.conv_transpose2d(tn.ones(1, 4, 4, 4), tn.ones(4, 2, 3, 3), stride=2, padding=1,
    ...                     output_padding=1).shape
    (1, 2, 8, 8)
    """
    return _conv_transpose(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip


# -- pooling ------------------------------------------------------------------------------------
def _pool_out(size, kernel, stride, padding, dilation, ceil_mode) -> tuple:
    """PyTorch's pooling output size; in ceil mode no window starts in the right padding."""
    result = []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        out = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        result.append(out)
    return tuple(result)


def _pool_args(op, spatial, x, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = _tuple(kernel_size, spatial, "kernel_size", op)
    stride = kernel if stride is None or stride == [] else _tuple(stride, spatial, "stride", op)
    padding = _tuple(padding, spatial, "padding", op, minimum=0)
    dilation = _tuple(dilation, spatial, "dilation", op)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half of kernel_size {kernel}")
    out = _pool_out(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    if any(n < 1 for n in out):
        raise ShapeError(
            f"{op}: input of shape {x.shape} is too small for kernel_size {kernel} "
            f"(dilation {dilation}, padding {padding}): the output would be empty"
        )
    return kernel, stride, padding, dilation, out


def _max_pool(op, spatial, input, kernel_size, stride, padding, dilation, ceil_mode, indices):
    x, added = _batched(as_tensor(input), spatial, op)
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op} needs a floating tensor, got dtype {x.dtype}")
    kernel, stride, padding, dilation, out = _pool_args(
        op, spatial, x, kernel_size, stride, padding, dilation, ceil_mode
    )
    size = x.shape[2:]
    # Where each window's maximum is, from the values: a traced call, so a tn.compile
    # replay finds each call's maxima.
    where = traced_call(_window_maxima, x.data, kernel, stride, padding, dilation, out, op)
    batch, channels = x.shape[:2]
    # The maxima are picked from the unpadded input: the gradient never meets the padding.
    offsets = math.prod(size) * np.arange(batch * channels).reshape(
        batch, channels, *(1,) * spatial
    )
    y = _unbatched(getitem(reshape(x, -1), traced_call(np.add, where, offsets)), added)
    if not indices:
        return y
    return y, Tensor.wrap(traced_call(_first_if, where, added))


def _first_if(array: np.ndarray, take: bool) -> np.ndarray:
    return array[0] if take else array


def _window_maxima(data: np.ndarray, kernel, stride, padding, dilation, out, op) -> np.ndarray:
    """The flat index into the spatial axes of each window's first maximum (NaN counts as
    one: PyTorch's choice at ties), with ``-inf`` padding that never wins a real element."""
    shape, size = data.shape, data.shape[2:]
    if np.isneginf(data).any():
        # Below every real value, the padding never wins a window that has a real element;
        # among tied -inf elements the first still does (PyTorch's choice).
        data = np.where(np.isneginf(data), np.finfo(data.dtype).min, data)
    # Pad with -inf, after as far as the last (ceil-mode) window reaches.
    widths = tuple(
        (p, max(0, (o - 1) * s + d * (k - 1) + 1 - n - p))
        for p, o, s, d, k, n in zip(padding, out, stride, dilation, kernel, size)
    )
    padded = np.pad(data, ((0, 0), (0, 0), *widths), constant_values=-np.inf)
    windows = _im2col(padded, kernel, stride, dilation, out)
    windows = windows.reshape(*windows.shape[:2], math.prod(kernel), *out)
    offsets = np.unravel_index(np.argmax(windows, axis=2), kernel)
    grids = np.meshgrid(*(np.arange(n) for n in out), indexing="ij")
    positions = [
        g * s + o * d - p for g, s, o, d, p in zip(grids, stride, offsets, dilation, padding)
    ]
    if any(((pos < 0) | (pos >= n)).any() for pos, n in zip(positions, size)):
        # A matter of shapes (a real value beats the -inf padding), which replays keep
        raise ValueError(
            f"{op}: with padding {padding} and dilation {dilation} some window of an input "
            f"of shape {shape} holds padding only; use less padding or dilation"
        )
    return np.ravel_multi_index(positions, size)


# A tensor, or (values, indices) with return_indices=True: overloads tell type checkers which.
@overload
def max_pool1d(
    input: TensorLike,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
    return_indices: Literal[False] = False,
) -> Tensor: ...
@overload
def max_pool1d(
    input: TensorLike,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
    *,
    return_indices: Literal[True],
) -> tuple[Tensor, Tensor]: ...
@overload
def max_pool1d(
    input: TensorLike,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]: ...
def max_pool1d(
    input: TensorLike,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over each window of ``(N, C, L)``; ``stride`` defaults to ``kernel_size``.

    Padding counts as ``-inf``. At ties the gradient goes to the first maximum of the
    window, as in PyTorch; ``return_indices=True`` also returns where each maximum is.

    >>> import tinynet as tn
    >>> tn.max_pool1d(tn.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[3.0, 2.0]]]
    """
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


@overload
def max_pool2d(
    input: TensorLike,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
    return_indices: Literal[False] = False,
) -> Tensor: ...
@overload
def max_pool2d(
    input: TensorLike,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
    *,
    return_indices: Literal[True],
) -> tuple[Tensor, Tensor]: ...
@overload
def max_pool2d(
    input: TensorLike,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]: ...
def max_pool2d(
    input: TensorLike,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    dilation: IntOrInts = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over each window of ``(N, C, H, W)``, as ``torch.nn.functional.max_pool2d``.

    Padding counts as ``-inf``; at ties the gradient goes to the first maximum of the
    window (in row-major order), as in PyTorch. ``return_indices=True`` also returns each
    maximum's flat index into ``H * W``.

    >>> import tinynet as tn
    >>> x = tn.tensor([[[[1.0, 1.0], [0.0, 1.0]]]], requires_grad=True)
    >>> tn.max_pool2d(x, 2).sum().backward(); x.grad.tolist()
    [[[[1.0, 0.0], [0.0, 0.0]]]]
    """
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def _averaging_matrix(n, out, kernel, stride, padding, include_pad, dtype) -> np.ndarray:
    """``(out, n)``: row ``i`` averages window ``i`` of an axis of length ``n``."""
    matrix = np.zeros((out, n), dtype)
    for i in range(out):
        start = i * stride - padding
        end = min(start + kernel, n + padding)
        low, high = max(start, 0), min(end, n)
        matrix[i, low:high] = 1.0 / ((end - start) if include_pad else (high - low))
    return matrix


def _apply_per_axis(x: Tensor, matrices) -> Tensor:
    """Contract the last ``len(matrices)`` axes of ``x`` with one ``(out, n)`` matrix each."""
    if len(matrices) == 2:
        x = matmul(Tensor.wrap(matrices[0]), x)
    return matmul(x, Tensor.wrap(np.ascontiguousarray(matrices[-1].T)))


def _avg_pool(op, spatial, input, kernel_size, stride, padding, ceil_mode, include_pad, divisor):
    x, added = _batched(as_tensor(input), spatial, op)
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op} needs a floating tensor, got dtype {x.dtype}")
    kernel, stride, padding, _, out = _pool_args(
        op, spatial, x, kernel_size, stride, padding, 1, ceil_mode
    )
    matrices = [
        _averaging_matrix(n, o, k, s, p, include_pad, x.data.dtype)
        for n, o, k, s, p in zip(x.shape[2:], out, kernel, stride, padding)
    ]
    if divisor is not None:
        if not isinstance(divisor, (int, np.integer)) or divisor == 0:
            raise ValueError(f"{op}: divisor_override must be a nonzero int, got {divisor!r}")
        # Sums over each window (padding included or not, it adds nothing), then / divisor.
        matrices = [(m != 0).astype(m.dtype) for m in matrices]
        matrices[0] = matrices[0] / matrices[0].dtype.type(divisor)
    return _unbatched(_apply_per_axis(x, matrices), added)


def avg_pool1d(
    input: TensorLike,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over each window of ``(N, C, L)``; ``stride`` defaults to ``kernel_size``.

    >>> import tinynet as tn
    >>> tn.avg_pool1d(tn.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[2.0, 1.0]]]
    """
    return _avg_pool(
        "avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None
    )


def avg_pool2d(
    input: TensorLike,
    kernel_size: IntOrInts,
    stride: IntOrInts | None = None,
    padding: IntOrInts = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over each window of ``(N, C, H, W)``, as ``torch.nn.functional.avg_pool2d``.

    Zero padding counts in the mean unless ``count_include_pad=False``.

    >>> import tinynet as tn
    >>> tn.avg_pool2d(tn.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[2.5, 4.5], [10.5, 12.5]]]]
    """
    return _avg_pool(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
        divisor_override,
    )  # fmt: skip


def _adaptive_matrix(n: int, out: int, dtype) -> np.ndarray:
    matrix = np.zeros((out, n), dtype)
    for i in range(out):
        start, end = (i * n) // out, -((-(i + 1) * n) // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def _adaptive_args(op, spatial, input, output_size) -> tuple[Tensor, bool, tuple]:
    """The batched floating input, whether a batch axis was added, and the output size."""
    x, added = _batched(as_tensor(input), spatial, op)
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op} needs a floating tensor, got dtype {x.dtype}")
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * spatial
    size = x.shape[2:]
    if len(output_size) != spatial:
        raise ValueError(f"{op}: output_size must be an int or {spatial} ints, got {output_size!r}")
    out = tuple(n if o is None else int(o) for o, n in zip(output_size, size))
    if any(o < 1 for o in out) or any(n < 1 for n in size):
        raise ValueError(f"{op}: output_size {output_size} and input size {size} must be positive")
    return x, added, out


def _adaptive_avg_pool(op, spatial, input, output_size) -> Tensor:
    x, added, out = _adaptive_args(op, spatial, input, output_size)
    matrices = [_adaptive_matrix(n, o, x.data.dtype) for n, o in zip(x.shape[2:], out)]
    return _unbatched(_apply_per_axis(x, matrices), added)


def _adaptive_windows(n: int, out: int) -> np.ndarray:
    """``(out, widest)`` input indices of each adaptive window; a shorter window repeats its
    first index at the end, which never changes its maximum nor where it is first found."""
    starts = [(i * n) // out for i in range(out)]
    ends = [-((-(i + 1) * n) // out) for i in range(out)]
    widest = max(e - s for s, e in zip(starts, ends))
    return np.array(
        [list(range(s, e)) + [s] * (widest - (e - s)) for s, e in zip(starts, ends)], np.intp
    )


def _adaptive_max_pool(op, spatial, input, output_size, return_indices):
    x, added, out = _adaptive_args(op, spatial, input, output_size)
    size = x.shape[2:]
    windows = [_adaptive_windows(n, o) for n, o in zip(size, out)]
    widths = tuple(w.shape[1] for w in windows)
    # Every window, row-major within it: (N, C, *out, *widths) -> (N, C, *out, prod(widths)).
    grids = np.meshgrid(*(np.arange(o) for o in out), indexing="ij")
    offsets = np.meshgrid(*(np.arange(w) for w in widths), indexing="ij")
    picks = [
        window[grid.reshape(*out, *(1,) * spatial), offset.reshape(*(1,) * spatial, *widths)]
        for window, grid, offset in zip(windows, grids, offsets)
    ]
    flat_windows = np.ravel_multi_index(picks, size).reshape(*out, math.prod(widths))
    # Where the maxima are depends on the values: tn.compile recomputes it on each replay.
    flat = traced_call(_first_maxima, x.data, flat_windows)
    y = _unbatched(getitem(reshape(x, -1), flat), added)
    if not return_indices:
        return y
    where = traced_call(np.remainder, flat, math.prod(size))
    return y, Tensor(where[0] if added else where)


def _first_maxima(data: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Flat indices into ``data`` (``(N, C, *size)``) of each window's first maximum, for
    ``windows`` (``(*out, width)``) of flat indices into ``size``."""
    values = data.reshape(*data.shape[:2], -1)[:, :, windows]
    # argmax takes the first maximum (NaN counts as one): PyTorch's choice at ties.
    first = np.argmax(values, axis=-1)[..., None]
    where = np.take_along_axis(np.broadcast_to(windows, values.shape), first, -1)[..., 0]
    batch, channels = data.shape[:2]
    per_map = math.prod(data.shape[2:]) * np.arange(batch * channels)
    return where + per_map.reshape(batch, channels, *(1,) * (windows.ndim - 1))


def adaptive_max_pool1d(
    input: TensorLike, output_size: int, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over ``output_size`` near-equal windows of ``(N, C, L)`` (PyTorch's windows).

    The gradient goes to the first maximum of each window; ``return_indices=True`` also
    returns where each maximum is (int64, along ``L``), as ``max_pool1d``'s.

    >>> import tinynet as tn
    >>> tn.adaptive_max_pool1d(tn.tensor([[[1.0, 3.0, 2.0, 0.0, 5.0]]]), 2).tolist()
    [[[3.0, 5.0]]]
    """
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(
    input: TensorLike, output_size: int | None | Sequence[int | None], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over an ``output_size`` grid of windows of ``(N, C, H, W)``.

    Windows as ``adaptive_avg_pool2d``'s (``None`` keeps an axis's size); the gradient goes to
    each window's first maximum (row-major); ``return_indices=True`` also returns the maxima's
    flat indices into ``H * W``.

    >>> import tinynet as tn
    >>> tn.adaptive_max_pool2d(tn.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_avg_pool1d(input: TensorLike, output_size: IntOrInts) -> Tensor:
    """Mean over ``output_size`` near-equal windows of ``(N, C, L)`` (PyTorch's windows).

    >>> import tinynet as tn
    >>> tn.adaptive_avg_pool1d(tn.tensor([[[1.0, 2.0, 3.0]]]), 2).tolist()
    [[[1.5, 2.5]]]
    """
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(
    input: TensorLike, output_size: int | None | Sequence[int | None]
) -> Tensor:
    """Mean over an ``output_size`` grid of windows of ``(N, C, H, W)``.

    Window ``i`` of an axis of length ``n`` spans ``floor(i n / out)`` to
    ``ceil((i + 1) n / out)``, as in PyTorch; ``None`` keeps an axis's size.

    >>> import tinynet as tn
    >>> tn.adaptive_avg_pool2d(tn.ones(2, 3, 5, 7), (1, None)).shape
    (2, 3, 1, 7)
    """
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)
