"""Resampling: ``interpolate``, with ``torch.nn.functional.interpolate``'s arguments and indices.

Every mode is separable and linear in the input, with weights that depend only on the sizes:
along each spatial axis (last first, as PyTorch's kernels) the output is a gather of the
input (``'nearest'``, ``'nearest-exact'``) or a few gathers times constant weights, added
(two for ``'linear'``, ``'bilinear'``, ``'trilinear'``, four for ``'bicubic'``, the filter's
support with ``antialias=True``). Gathers are ``getitem`` with an index array,
whose backward adds the gradient back at repeated indices, so every mode is differentiable
to any order and has no kinks. ``'area'`` is adaptive average pooling, as in PyTorch.

Source positions follow PyTorch's CPU kernels, rounding included: ``'nearest'`` reads input
``floor(i * scale)`` in float32 (the buggy OpenCV rule PyTorch keeps), ``'nearest-exact'``
reads ``floor((i + 0.5) * scale)``; the linear modes read ``scale * (i + 0.5) - 0.5``
(clamped at 0) or, with ``align_corners=True``, ``i * (in - 1) / (out - 1)``, in float32
for float32 and float16 inputs and in float64 for float64 ones; ``'bicubic'`` reads the
same position unclamped, from the four inputs around it (indices clamped to the edge) with
Keys' cubic convolution weights, ``A = -0.75``. ``scale`` is ``1 / scale_factor`` when a
scale factor is given (and ``recompute_scale_factor`` is not True), else ``in / out``. An
axis whose size does not change is copied by the linear and nearest modes, as PyTorch does.
``antialias=True`` is Pillow's resampling, as PyTorch's: a triangle (bilinear), Keys'
``A = -0.5`` (bicubic) or Lanczos-3 filter centred at ``(i + 0.5) * scale``, stretched by ``scale`` when
downsampling, over the inputs within its support, normalized to sum 1.

>>> import tinynet as tn
>>> x = tn.tensor([[[1.0, 2.0]]])
>>> interpolate(x, scale_factor=2).tolist()
[[[1.0, 1.0, 2.0, 2.0]]]
>>> interpolate(x, size=4, mode="linear").tolist()
[[[1.0, 1.25, 1.75, 2.0]]]
>>> interpolate(x, size=3, mode="linear", align_corners=True).tolist()
[[[1.0, 1.5, 2.0]]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tinynet.errors import ShapeError
from tinynet.ops._args import as_tensor
from tinynet.ops.conv import adaptive_avg_pool1d, adaptive_avg_pool2d
from tinynet.ops.movement import getitem
from tinynet.tensor import Tensor, TensorLike

__all__ = ["interpolate"]

#: The modes ``interpolate`` supports, and the input rank each linear mode needs.
MODES = (
    "nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area", "lanczos"
)  # fmt: skip
_INTERPOLATING_RANKS = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4, "lanczos": 4}
_HALF_WIDTHS = {"bilinear": 1, "bicubic": 2, "lanczos": 3}  # of each antialias filter
_CUBIC_A = -0.75  # PyTorch's (OpenCV's) cubic convolution constant without antialias


def interpolate(
    input: TensorLike,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resample ``(N, C, [D, [H,]] W)`` to ``size`` or by ``scale_factor``, as PyTorch.

    Give exactly one of ``size`` (an int, or one int per spatial axis) and
    ``scale_factor`` (a number, or one per axis; the output size is
    ``floor(in * scale_factor)``). ``mode``: ``'nearest'`` (default), ``'nearest-exact'``,
    ``'linear'`` (3-D input), ``'bilinear'``, ``'bicubic'`` and ``'lanczos'`` (4-D),
    ``'trilinear'`` (5-D) or ``'area'`` (adaptive average pooling). ``align_corners`` only
    goes with the interpolating modes (``None`` means False, without a warning, as in
    PyTorch). ``antialias=True`` (``'bilinear'``, ``'bicubic'``, and ``'lanczos'``, which
    needs it) filters as Pillow does, so that downsampling averages every input.

    >>> import tinynet as tn
    >>> x = tn.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> interpolate(x, scale_factor=2, mode="bilinear")[0, 0, 1].tolist()
    [1.5, 1.75, 2.25, 2.5]
    >>> interpolate(x, size=(1, 3)).tolist()
    [[[[1.0, 1.0, 2.0]]]]
    >>> interpolate(x, size=(1, 3), mode="nearest-exact").tolist()
    [[[[3.0, 4.0, 4.0]]]]
    """
    x = as_tensor(input)
    align_corners = _check_mode(x, mode, align_corners, antialias)
    spatial = x.ndim - 2
    out, factors = _output_size(x, spatial, size, scale_factor, recompute_scale_factor, mode)
    if mode == "area" and spatial < 3:
        pool = adaptive_avg_pool1d if spatial == 1 else adaptive_avg_pool2d
        return pool(x, out)
    if (mode in _INTERPOLATING_RANKS or mode == "area") and x.data.dtype.kind != "f":
        raise TypeError(f"interpolate: mode={mode!r} needs a floating tensor, got dtype {x.dtype}")
    for axis in reversed(range(spatial)):  # the last axis first, as PyTorch's kernels
        x = _resample_axis(x, 2 + axis, out[axis], factors[axis], mode, align_corners, antialias)
    return x


def _resample_axis(
    x: Tensor, axis: int, out: int, factor, mode, align_corners, antialias
) -> Tensor:
    """``x`` resized to ``out`` along ``axis``: one gather, or a weighted sum of gathers."""
    n, lead = x.shape[axis], (slice(None),) * axis
    if mode in ("nearest", "nearest-exact"):
        index = _nearest_index(n, out, factor, exact=mode == "nearest-exact")
        return x if index is None else getitem(x, (*lead, index))
    if mode == "area":  # 5-D: adaptive average pooling, one axis at a time
        taps = _area_taps(n, out, x.data.dtype)
    elif antialias:
        taps = _antialias_taps(n, out, bool(align_corners), factor, x.data.dtype, mode)
    else:
        taps_of = _cubic_taps if mode == "bicubic" else _linear_taps
        taps = taps_of(n, out, bool(align_corners), factor, x.data.dtype)
    if taps is None:
        return x
    shape = (out,) + (1,) * (x.ndim - 1 - axis)
    terms = [getitem(x, (*lead, i)) * Tensor.wrap(w.reshape(shape)) for i, w in taps]
    total = terms[0]
    for term in terms[1:]:  # left to right, as PyTorch adds them
        total = total + term
    return total


# -- arguments --------------------------------------------------------------------------------
def _check_mode(x: Tensor, mode, align_corners, antialias) -> bool | None:
    """PyTorch's checks of ``mode``, ``align_corners`` and ``antialias`` against the rank."""
    if not isinstance(mode, str) or mode not in MODES:
        raise NotImplementedError(
            f"interpolate: unknown mode {mode!r}; the modes are {', '.join(map(repr, MODES))}"
        )
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError(
                "interpolate: align_corners can only be set with the interpolating modes "
                f"linear | bilinear | bicubic | trilinear, not with mode={mode!r}; leave it None"
            )
    elif align_corners is None:
        align_corners = False
    if x.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"interpolate: only 3-D, 4-D and 5-D inputs (N, C, [D, [H,]] W) are supported, got "
            f"{x.ndim}-D of shape {x.shape}; add the batch axis with x.unsqueeze(0)"
        )
    if antialias and (mode not in _HALF_WIDTHS or x.ndim != 4):
        raise ValueError(
            "interpolate: the anti-alias option is restricted to bilinear, bicubic and lanczos "
            f"modes and requires a 4-D tensor as input, got mode={mode!r} on {x.ndim}-D"
        )
    if mode == "lanczos" and align_corners:
        raise ValueError("interpolate: mode='lanczos' does not support align_corners=True")
    if mode == "lanczos" and not antialias:
        raise ValueError("interpolate: mode='lanczos' requires antialias=True")
    if mode in _INTERPOLATING_RANKS and x.ndim != _INTERPOLATING_RANKS[mode]:
        raise NotImplementedError(
            f"interpolate: got {x.ndim}-D input, but {mode} mode needs "
            f"{_INTERPOLATING_RANKS[mode]}-D input; the linear mode for {x.ndim}-D input is "
            f"{next(m for m, r in _INTERPOLATING_RANKS.items() if r == x.ndim)!r}"
            + (" (or 'bicubic')" if x.ndim == 4 else "")
        )
    return align_corners


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _output_size(x: Tensor, spatial, size, scale_factor, recompute, mode) -> tuple:
    """``(output sizes, scale factors passed on)`` per spatial axis, by PyTorch's rules."""
    shape = list(x.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    factors: list = [None] * spatial
    if size is not None:
        if recompute:
            raise ValueError(
                "interpolate: recompute_scale_factor is not meaningful with an explicit size"
            )
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * spatial
        if len(sizes) != spatial:
            raise ValueError(
                f"interpolate: input and output must have the same number of spatial "
                f"dimensions, but got input with spatial dimensions of {shape} and output "
                f"size of {size!r}; give one size per axis of (N, C, d1, ..., dK)"
            )
        if not all(_is_int(n) for n in sizes):
            raise TypeError(
                "interpolate: expected size to be one of int or Tuple[int] or Tuple[int, int] "
                f"or Tuple[int, int, int], but got size with types {[type(n) for n in sizes]}"
            )
        out = [int(n) for n in sizes]
    else:
        given = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else None
        factors = given if given is not None else [scale_factor] * spatial
        if len(factors) != spatial:
            raise ValueError(
                f"interpolate: input and scale_factor must have the same number of spatial "
                f"dimensions, but got input with spatial dimensions of {shape} and "
                f"scale_factor of shape {scale_factor!r}; give one factor per axis"
            )
        if not all(_is_real(f) and math.isfinite(f) for f in factors):
            raise TypeError(
                f"interpolate: scale_factor must be a finite number or one per spatial axis, "
                f"got {scale_factor!r}"
            )
        factors = [float(f) for f in factors]
        out = [math.floor(n * f) for n, f in zip(shape, factors)]
        if recompute or mode == "area":  # the kernels then see the sizes only
            factors = [None] * spatial
    if min(shape) < 1 or min(out) < 1:
        names = ("D", "H", "W")[3 - spatial :]
        sizes_in = ", ".join(f"{a}: {n}" for a, n in zip(names, shape))
        sizes_out = ", ".join(f"{a}: {n}" for a, n in zip(names, out))
        raise ShapeError(
            f"interpolate: input and output sizes should be greater than 0, but got input "
            f"({sizes_in}) and output ({sizes_out})"
        )
    return out, factors


# -- source positions, per axis ---------------------------------------------------------------
def _nearest_index(n: int, out: int, factor, exact: bool) -> np.ndarray | None:
    """The input index each output position reads; None for the identity."""
    positions = np.arange(out)
    if not exact and out == n:
        return None
    if not exact and out == 2 * n:
        return positions >> 1
    scale = np.float32(1.0 / factor) if factor else np.float32(n) / np.float32(out)
    if exact:  # (i + 0.5) * scale in double, then floorf's float argument
        source = np.floor(((positions + 0.5) * np.float64(scale)).astype(np.float32))
    else:
        source = np.floor(positions.astype(np.float32) * scale)
    index = np.minimum(source.astype(np.int64), n - 1)
    return None if out == n and (index == positions).all() else index


def _linear_taps(n: int, out: int, align_corners: bool, factor, dtype) -> list | None:
    """``[(low index, weight), (high index, weight)]`` of each output position along an axis
    of length ``n``; None when the axis keeps its size (PyTorch copies it)."""
    if out == n:
        return None
    compute = _compute_type(dtype)
    source = np.maximum(_source_positions(n, out, align_corners, factor, compute), compute(0))
    low = np.minimum(source.astype(np.int64), n - 1)
    high = low + (low < n - 1)
    high_weight = np.clip(source - low.astype(compute), 0, 1).astype(dtype)
    low_weight = dtype.type(1) - high_weight
    return [(low, low_weight), (high, high_weight)]


def _compute_type(dtype):
    return np.float64 if dtype == np.float64 else np.float32  # PyTorch's opmath type


def _source_positions(n: int, out: int, align_corners: bool, factor, compute) -> np.ndarray:
    """Where each of ``out`` output positions reads an axis of length ``n`` (in ``compute``
    arithmetic), before clamping: corners aligned, or centres with PyTorch's scale."""
    positions = np.arange(out, dtype=compute)
    if align_corners:
        scale = compute(n - 1) / compute(out - 1) if out > 1 else compute(0)
        return scale * positions
    scale = compute(1.0 / factor) if factor else compute(n) / compute(out)
    return scale * (positions + compute(0.5)) - compute(0.5)


def _cubic_taps(n: int, out: int, align_corners: bool, factor, dtype) -> list:
    """Four ``(index, weight)`` taps per output position: PyTorch's bicubic, which has no
    copy of an unchanged axis (its weights are then ``(0, 1, 0, 0)`` anyway)."""
    compute = _compute_type(dtype)
    source = _source_positions(n, out, align_corners, factor, compute)  # not clamped at 0
    low = np.minimum(np.floor(source).astype(np.int64), n - 1)
    t = np.clip(source - low.astype(compute), 0, 1)
    a = compute(_CUBIC_A)

    def near(d):  # the kernel on |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # and on 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    one = compute(1)
    weights = (far(t + one), near(t), near(one - t), far(2 * one - t))
    return [
        (np.clip(low + offset, 0, n - 1), weight.astype(dtype))
        for offset, weight in zip((-1, 0, 1, 2), weights)
    ]


def _antialias_taps(n: int, out: int, align_corners: bool, factor, dtype, mode) -> list | None:
    """PyTorch's antialiased taps (Pillow's resampling): a triangle (bilinear) or Keys'
    ``A = -0.5`` (bicubic) filter, widened by the scale when downsampling, over the inputs
    within its support, normalized to sum 1; None for an axis that keeps its size."""
    if out == n:
        return None
    compute = _compute_type(dtype)
    if align_corners:
        scale = compute(n - 1) / compute(out - 1) if out > 1 else compute(0)
    else:
        scale = compute(1.0 / factor) if factor else compute(n) / compute(out)
    half_width = compute(_HALF_WIDTHS[mode])
    support = half_width * scale if scale >= 1 else half_width
    count = int(math.ceil(support)) * 2 + 1
    inverse = compute(1) / scale if scale >= 1 else compute(1)
    centers = scale * (np.arange(out, dtype=compute) + compute(0.5))
    half = compute(0.5)
    first = np.maximum((centers - support + half).astype(np.int64), 0)
    sizes = np.clip(np.minimum((centers + support + half).astype(np.int64), n) - first, 0, count)
    offsets = np.arange(count)
    distance = (offsets + first[:, None] - centers[:, None] + half) * inverse
    weights = np.where(offsets < sizes[:, None], _aa_filter(distance, mode), compute(0))
    totals = weights.sum(axis=1, keepdims=True)
    weights = np.where(totals != 0, weights / np.where(totals != 0, totals, 1), weights)
    return [(np.minimum(first + j, n - 1), weights[:, j].astype(dtype)) for j in range(count)]


def _aa_filter(d: np.ndarray, mode) -> np.ndarray:
    d = np.abs(d)
    if mode == "bilinear":
        return np.where(d < 1, 1 - d, 0).astype(d.dtype)
    if mode == "lanczos":  # Lanczos-3; np.sinc(d) is sin(pi d) / (pi d)
        return np.where(d < 3, np.sinc(d) * np.sinc(d / 3), 0).astype(d.dtype)
    a = d.dtype.type(-0.5)  # Keys' choice, and Pillow's
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d < 1, near, np.where(d < 2, far, 0)).astype(d.dtype)


def _area_taps(n: int, out: int, dtype) -> list | None:
    """Adaptive average pooling along one axis (PyTorch's windows ``floor(i n / out)`` to
    ``ceil((i + 1) n / out)``) as taps: the mean of a box is the mean of its axis means."""
    if out == n:
        return None
    positions = np.arange(out)
    starts = (positions * n) // out
    lengths = -((-(positions + 1) * n) // out) - starts
    return [
        (np.minimum(starts + j, n - 1), np.where(j < lengths, 1 / lengths, 0).astype(dtype))
        for j in range(int(lengths.max()))
    ]
