"""Functional forms of the layers, activations and losses (``import tinynet.nn.functional as F``).

Names and arguments follow ``torch.nn.functional``. Everything is composed from tinynet ops,
so every function is differentiable to any order.

>>> import tinynet as tn, tinynet.nn.functional as F
>>> F.relu(tn.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from __future__ import annotations

import math
import typing as _typing
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from tinynet import functional as _composite
from tinynet import ops
from tinynet._lazy import lazy_attributes as _lazy_attributes
from tinynet._random import as_generator
from tinynet.autograd import traced_call, traced_check
from tinynet.errors import ArgumentError, DTypeError, ShapeError
from tinynet.inplace import write_in_place
from tinynet.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    cross_entropy,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    nll_loss,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from tinynet.ops._args import as_tensor, check_dtypes, dim_aliases
from tinynet.ops.conv import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    max_pool1d,
    max_pool2d,
    unfold,
)
from tinynet.ops.resample import interpolate
from tinynet.tensor import Tensor, TensorLike

__all__ = [
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]
# -- convolution and pooling (issue 11, item 7): the ops themselves, under their torch names --
__all__ += [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "conv1d",
    "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
    "celu", "glu", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish", "relu6",
    "selu", "silu", "softmin", "softsign", "pad", "normalize", "one_hot",
]  # fmt: skip
__all__ += ["interpolate", "upsample", "upsample_bilinear", "upsample_nearest"]
# -- the small layers and losses PyTorch users reach for (session 4) --
__all__ += [
    "adaptive_max_pool1d", "adaptive_max_pool2d", "alpha_dropout", "bilinear",
    "cosine_embedding_loss", "dropout1d", "dropout2d", "group_norm", "hinge_embedding_loss",
    "instance_norm", "margin_ranking_loss", "multi_margin_loss", "multilabel_soft_margin_loss",
    "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "prelu", "rms_norm",
    "soft_margin_loss", "threshold", "triplet_margin_loss",
]  # fmt: skip
__all__ += [
    "cosine_similarity",
    "gaussian_nll_loss",
    "kl_div",
    "pairwise_distance",
    "smooth_l1_loss",
]


# -- activations ------------------------------------------------------------------------------
# ``inplace=True`` writes the result into the input and returns the input, as PyTorch's: with
# the rules of every in-place op (version bump, a leaf that requires grad refused, a graph that
# saved the old values refusing backward), see docs/tensors.md.
def _in_place(name: str, input: TensorLike, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """Write ``compute(input)`` into ``input`` (PyTorch's ``name``) and return ``input``."""
    return write_in_place(_writable(name, input), name, compute)


def _writable(name: str, input: TensorLike) -> Tensor:
    """``input`` if it is a Tensor; anything else has no memory of ours to write into."""
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name}(): inplace=True writes into its input, which must be a Tensor, got "
            f"{type(input).__name__}; pass a tn.Tensor or use inplace=False"
        )
    return input


def relu(input: TensorLike, inplace: bool = False) -> Tensor:
    """``max(input, 0)`` elementwise; ``inplace=True`` overwrites ``input`` and returns it.

    >>> import tinynet as tn
    >>> x = tn.tensor([-1.0, 2.0])
    >>> relu(x, inplace=True) is x, x.tolist()
    (True, [0.0, 2.0])
    """
    if inplace:
        return _in_place("relu_", input, ops.relu)
    return ops.relu(input)


def leaky_relu(input: TensorLike, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``."""
    if inplace:
        return _in_place("leaky_relu_", input, lambda t: ops.leaky_relu(t, negative_slope))
    return ops.leaky_relu(input, negative_slope)


def elu(input: TensorLike, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``alpha * (exp(input) - 1)``."""
    if inplace:
        return _in_place("elu_", input, lambda t: ops.elu(t, alpha))
    return ops.elu(input, alpha)


def gelu(input: TensorLike, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit, exact (erf) or ``approximate='tanh'``."""
    return _composite.gelu(input, approximate)


def tanh(input: TensorLike) -> Tensor:
    """Hyperbolic tangent elementwise."""
    return ops.tanh(input)


def sigmoid(input: TensorLike) -> Tensor:
    """Logistic sigmoid elementwise, stable for any finite input."""
    return ops.sigmoid(input)


def softplus(input: TensorLike, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``; linear where ``beta * x > threshold`` (as PyTorch).

    >>> import tinynet as tn
    >>> round(softplus(tn.tensor([0.0])).item(), 6)
    0.693147
    """
    input = as_tensor(input)
    smooth = ops.softplus(input, beta)
    if traced_check(_nothing_above, input.data, beta, threshold):
        return smooth
    return ops.where(ops.gt(input.detach() * beta, threshold), input, smooth)


@dim_aliases
def softmax(input: TensorLike, dim: int = -1) -> Tensor:
    """Softmax along ``dim`` (stable for any finite input)."""
    return ops.softmax(input, dim)


@dim_aliases
def log_softmax(input: TensorLike, dim: int = -1) -> Tensor:
    """Log of the softmax along ``dim``, computed stably."""
    return ops.log_softmax(input, dim)


@dim_aliases
def gumbel_softmax(
    logits: TensorLike,
    tau: float = 1.0,
    hard: bool = False,
    eps: float = 1e-10,
    dim: int = -1,
    *,
    rng: int | np.random.Generator | None = None,
) -> Tensor:
    """A differentiable sample of the categorical distribution ``softmax(logits)`` along
    ``dim``: ``softmax((logits + g) / tau)`` with standard Gumbel noise ``g``.

    As ``torch.nn.functional.gumbel_softmax``: with ``hard=True`` the result is the one-hot
    vector of each sample's largest entry, with the soft sample's gradient
    (``y_hard - y_soft.detach() + y_soft``, the straight-through estimator). ``eps`` is
    deprecated and unused, as in PyTorch (which warns when it is given). The noise comes
    from ``rng`` (a seed or a ``numpy.random.Generator``), else the global generator
    (``tn.manual_seed``).

    >>> import tinynet as tn, tinynet.nn.functional as F
    >>> y = F.gumbel_softmax(tn.zeros(2, 4), tau=0.5, hard=True, rng=0)
    >>> y.sum(dim=-1).tolist(), sorted(set(y.flatten().tolist()))
    ([1.0, 1.0], [0.0, 1.0])
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    logits = as_tensor(logits)
    if logits.dtype.kind != "f":
        raise DTypeError(
            f"gumbel_softmax needs floating logits, got dtype {logits.dtype}; convert with "
            "logits.float()"
        )
    generator = as_generator(rng)
    noise = Tensor.wrap(traced_call(_gumbel_noise, generator, logits.shape, logits.dtype))
    y_soft = ops.softmax((logits + noise) / tau, dim)
    if not hard:
        return y_soft
    y_hard = Tensor.wrap(traced_call(_one_hot_of_largest, y_soft.data, dim))
    return y_hard - y_soft.detach() + y_soft


def _gumbel_noise(generator, shape: tuple, dtype) -> np.ndarray:
    """Standard Gumbel draws, ``-log(E)`` for ``E ~ Exp(1)`` (an ``E`` of 0 is taken as the
    smallest positive float, so no draw is infinite)."""
    draws = np.maximum(generator.standard_exponential(shape), np.finfo(np.float64).tiny)
    return (-np.log(draws)).astype(dtype)


def _one_hot_of_largest(values: np.ndarray, dim: int) -> np.ndarray:
    """1 at the first largest entry along ``dim``, 0 elsewhere."""
    if values.ndim == 0:
        return np.ones_like(values)
    hard = np.zeros_like(values)
    np.put_along_axis(hard, np.argmax(values, axis=dim, keepdims=True), 1, axis=dim)
    return hard


# == issue 11: more activations (composites in tinynet.functional) ================================
def silu(input: TensorLike, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)`` elementwise."""
    if inplace:
        return _in_place("silu_", input, _composite.silu)
    return _composite.silu(input)


def mish(input: TensorLike, inplace: bool = False) -> Tensor:
    """``input * tanh(softplus(input))`` elementwise."""
    if inplace:
        return _in_place("mish_", input, _composite.mish)
    return _composite.mish(input)


def selu(input: TensorLike, inplace: bool = False) -> Tensor:
    """Scaled ELU with the self-normalizing constants."""
    if inplace:
        return _in_place("selu_", input, _composite.selu)
    return _composite.selu(input)


def celu(input: TensorLike, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` elementwise."""
    if inplace:
        return _in_place("celu_", input, lambda t: _composite.celu(t, alpha))
    return _composite.celu(input, alpha)


def relu6(input: TensorLike, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``; gradient 0 at 0 and 6."""
    if inplace:
        return _in_place("relu6_", input, _composite.relu6)
    return _composite.relu6(input)


def hardtanh(
    input: TensorLike, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """``input`` clipped to ``[min_val, max_val]``; gradient 0 at and beyond the bounds."""
    if inplace:
        return _in_place("hardtanh_", input, lambda t: ops.hardtanh(t, min_val, max_val))
    return ops.hardtanh(input, min_val, max_val)


def hardsigmoid(input: TensorLike, inplace: bool = False) -> Tensor:
    """``relu6(input + 3) / 6`` elementwise."""
    if inplace:
        return _in_place("hardsigmoid_", input, _composite.hardsigmoid)
    return _composite.hardsigmoid(input)


def hardswish(input: TensorLike, inplace: bool = False) -> Tensor:
    """``input * relu6(input + 3) / 6`` elementwise."""
    if inplace:
        return _in_place("hardswish_", input, ops.hardswish)
    return ops.hardswish(input)


def softsign(input: TensorLike) -> Tensor:
    """``input / (1 + |input|)`` elementwise."""
    return _composite.softsign(input)


def logsigmoid(input: TensorLike) -> Tensor:
    """``log(sigmoid(input))`` elementwise, computed stably."""
    return _composite.logsigmoid(input)


@dim_aliases
def softmin(input: TensorLike, dim: int = -1) -> Tensor:
    """Softmax of ``-input`` along ``dim``."""
    return _composite.softmin(input, dim)


@dim_aliases
def glu(input: TensorLike, dim: int = -1) -> Tensor:
    """Gated linear unit along ``dim``."""
    return _composite.glu(input, dim)


def prelu(input: TensorLike, weight: TensorLike) -> Tensor:
    """``input`` where positive, else ``weight * input``: a learned slope, one for all
    channels or one per channel (axis 1; an input of fewer than 2 axes has one channel).

    At 0 the negative side is taken, as PyTorch: slope ``weight``, and no gradient to it.

    >>> import tinynet as tn
    >>> prelu(tn.tensor([[-2.0, 3.0]]), tn.tensor([0.25, 0.5])).tolist()
    [[-0.5, 3.0]]
    """
    input, weight = as_tensor(input), as_tensor(weight)
    check_dtypes("prelu", input, weight=weight)
    if weight.ndim > 1:
        raise ShapeError(f"prelu: weight must be a scalar or 1-D, got shape {weight.shape}")
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim > 1 else 1
        if weight.numel() != channels:
            raise ShapeError(
                f"prelu: weight has {weight.numel()} slopes but the input (shape {input.shape}) "
                f"has {channels} channels (axis 1); give one slope, or one per channel"
            )
        weight = weight.reshape(-1, *(1,) * (input.ndim - 2))
    elif input.ndim < weight.ndim:
        weight = weight.reshape(())
    return ops.prelu(input, weight)


def threshold(input: TensorLike, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``value`` where ``input <= threshold``, else ``input`` (gradient 0 at the threshold;
    a NaN stays NaN and passes its gradient, as PyTorch's).

    >>> import tinynet as tn
    >>> threshold(tn.tensor([0.5, 1.0, 2.0, float("nan")]), 1.0, -1.0).tolist()
    [-1.0, -1.0, 2.0, nan]
    """

    def compute(t: Tensor) -> Tensor:
        return ops.where(ops.le(t.detach(), threshold), ops.cast(as_tensor(value), t.dtype), t)

    if inplace:
        return _in_place("threshold_", input, compute)
    return compute(as_tensor(input))


@dim_aliases
def normalize(input: TensorLike, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input / max(norm(input, p, dim), eps)``: unit-norm slices along ``dim``."""
    return _composite.normalize(input, p, dim, eps)


def one_hot(tensor: TensorLike, num_classes: int = -1) -> Tensor:
    """Integer class labels as one-hot int64 rows (``num_classes=-1``: largest label + 1)."""
    return _composite.one_hot(tensor, num_classes)


def pad(
    input: TensorLike, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions, PyTorch's way: ``pad`` lists
    ``(left, right)`` of the last dimension first, then of the one before, and so on.

    ``mode``: ``'constant'`` (with ``value``, default 0), ``'reflect'``, ``'replicate'`` or
    ``'circular'`` (which take no ``value``, as in PyTorch); negative widths crop.

    >>> import tinynet as tn
    >>> pad(tn.tensor([[1.0, 2.0]]), (1, 0, 0, 1)).tolist()
    [[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]]
    """
    input = as_tensor(input)
    pad = tuple(int(n) for n in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ShapeError(
            f"pad: {len(pad)} widths for a tensor of {input.ndim} dimensions; give pairs "
            "(left, right), last dimension first, for at most every dimension"
        )
    if mode != "constant" and value:
        raise RuntimeError(
            f"pad: mode {mode!r} takes no value (got value={value}); drop value=, or use "
            "mode='constant' to pad with it"
        )
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)][::-1]
    widths = [(0, 0)] * (input.ndim - len(pairs)) + pairs
    return ops.pad(input, widths, 0.0 if value is None else value, mode=mode)


# -- layers -----------------------------------------------------------------------------------
def linear(input: TensorLike, weight: TensorLike, bias: TensorLike | None = None) -> Tensor:
    """``input @ weight.T + bias`` with ``weight`` of shape ``(out_features, in_features)``.

    >>> import tinynet as tn
    >>> linear(tn.ones(1, 2), tn.ones(3, 2), tn.zeros(3)).tolist()
    [[2.0, 2.0, 2.0]]
    """
    if not isinstance(input, Tensor):
        input = as_tensor(input)
    if not isinstance(weight, Tensor):
        weight = as_tensor(weight)
    if bias is not None and not isinstance(bias, Tensor):
        bias = as_tensor(bias)
    dtype = input.data.dtype
    if dtype is not weight.data.dtype or (bias is not None and dtype is not bias.data.dtype):
        check_dtypes("linear", input, weight=weight, bias=bias)
    return ops.linear(input, weight, bias)


def dropout(
    input: TensorLike,
    p: float = 0.5,
    training: bool = True,
    rng: int | np.random.Generator | None = None,
    *,
    inplace: bool = False,
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Identity when ``training`` is False (the input itself is returned). ``rng``: a seed or a
    ``numpy.random.Generator``. ``inplace=True`` (keyword only, as the 4th place is ``rng``)
    multiplies the input by the mask in place and returns it, as PyTorch's ``dropout_``; with
    ``training=False`` or ``p=0`` the input is returned untouched.

    >>> import tinynet as tn
    >>> dropout(tn.ones(4), p=0.5, rng=3).tolist()
    [0.0, 0.0, 2.0, 2.0]
    """
    check_probability(p, rng)
    input = _writable("dropout_", input) if inplace else as_tensor(input)
    if not training or p == 0:
        return input
    if p == 1:
        if inplace:
            return write_in_place(input, "dropout_", lambda t: t * 0.0)
        return input * 0.0
    mask = Tensor.wrap(traced_call(_dropout_mask, as_generator(rng), input.shape, p, input.dtype))
    if inplace:
        return write_in_place(input, "dropout_", lambda t: t * mask)
    return input * mask


def check_probability(p: float, rng=None, name: str = "dropout") -> None:
    """Refuse a ``p`` outside [0, 1], and a bool where ``rng`` goes (PyTorch's ``inplace``);
    ``name`` is the function or layer, for the message."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if isinstance(rng, bool):
        raise TypeError(
            f"{name}: rng must be None, an int seed or a numpy.random.Generator, got the bool "
            f"{rng}; PyTorch's inplace is keyword-only here: inplace={rng}"
        )


_SIZE_NAMES = {1: "L", 2: "H, W"}


def _channel_dropout(name, input, p, training, rng, inplace, spatial) -> Tensor:
    """Zero whole channels: one draw per ``(sample, channel)`` of an ``(N, C, *)`` input with
    ``spatial`` trailing axes, or per channel of an unbatched ``(C, *)`` one."""
    check_probability(p, rng, name)
    input = _writable(name + "_", input) if inplace else as_tensor(input)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ShapeError(
            f"{name}: expected a {spatial + 2}-D input (N, C, {_SIZE_NAMES[spatial]}) or an "
            f"unbatched {spatial + 1}-D one, got shape {input.shape}; for elementwise dropout "
            "use F.dropout"
        )
    if not training or p == 0:
        return input
    mask_shape = input.shape[: input.ndim - spatial] + (1,) * spatial
    if p == 1:
        mask = Tensor.wrap(np.zeros(mask_shape, input.dtype))
    else:
        generator = as_generator(rng)
        mask = Tensor.wrap(traced_call(_dropout_mask, generator, mask_shape, p, input.dtype))
    if inplace:
        return write_in_place(input, name + "_", lambda t: t * mask)
    return input * mask


def dropout1d(
    input: TensorLike,
    p: float = 0.5,
    training: bool = True,
    rng: int | np.random.Generator | None = None,
    *,
    inplace: bool = False,
) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` (or unbatched ``(C, L)``) with probability ``p``,
    scaling the rest by ``1 / (1 - p)``; the identity when ``training`` is False.

    ``rng`` and ``inplace`` as ``dropout``'s.

    >>> import tinynet as tn
    >>> dropout1d(tn.ones(1, 4, 2), p=0.5, rng=3).tolist()
    [[[0.0, 0.0], [0.0, 0.0], [2.0, 2.0], [2.0, 2.0]]]
    """
    return _channel_dropout("dropout1d", input, p, training, rng, inplace, spatial=1)


def dropout2d(
    input: TensorLike,
    p: float = 0.5,
    training: bool = True,
    rng: int | np.random.Generator | None = None,
    *,
    inplace: bool = False,
) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` with probability ``p``, scaling the rest by
    ``1 / (1 - p)``; the identity when ``training`` is False.

    A 3-D input is taken as ``(N, C, L)`` with a warning, as PyTorch (which means to read it
    as an unbatched ``(C, H, W)`` one day); other ranks raise (PyTorch warns, then runs).

    >>> import tinynet as tn
    >>> dropout2d(tn.ones(1, 3, 1, 2), p=0.5, rng=3)[0, :, 0].tolist()
    [[0.0, 0.0], [0.0, 0.0], [2.0, 2.0]]
    """
    if as_tensor(input).ndim == 3:
        warnings.warn(
            "dropout2d: a 3-D input is taken as (N, C, L): whole channels of each sample are "
            "zeroed (channel-wise 1-D dropout); use dropout1d to say so, or add a batch axis "
            "for an unbatched (C, H, W) image",
            UserWarning,
            stacklevel=2,
        )
        return _channel_dropout("dropout2d", input, p, training, rng, inplace, spatial=1)
    return _channel_dropout("dropout2d", input, p, training, rng, inplace, spatial=2)


# SELU's negative saturation value, -scale * alpha: where alpha dropout sends dropped units.
_SELU_SATURATION = -1.0507009873554805 * 1.6732632423543772


def alpha_dropout(
    input: TensorLike,
    p: float = 0.5,
    training: bool = False,
    rng: int | np.random.Generator | None = None,
    *,
    inplace: bool = False,
) -> Tensor:
    """Dropout for SELU networks: dropped units take SELU's saturation value
    ``-scale * alpha``, then an affine map restores zero mean and unit variance.

    ``training`` defaults to False, as PyTorch's functional form (the module follows its
    mode). ``rng`` and ``inplace`` as ``dropout``'s.

    >>> import numpy as np, tinynet as tn
    >>> x = tn.tensor(np.random.default_rng(0).standard_normal(20000))
    >>> y = alpha_dropout(x, 0.2, training=True, rng=0)
    >>> round(y.mean().item(), 1), round(y.std().item(), 1)
    (0.0, 1.0)
    """
    check_probability(p, rng, "alpha_dropout")
    input = _writable("alpha_dropout_", input) if inplace else as_tensor(input)
    if not training or p == 0:
        return input
    if p == 1:
        compute = lambda t: t * 0.0  # noqa: E731  (PyTorch: all zeros)
    else:
        a = ((1 - p) * (1 + p * _SELU_SATURATION**2)) ** -0.5
        keep = Tensor.wrap(traced_call(_keep_mask, as_generator(rng), input.shape, p, input.dtype))
        scale = keep * a
        shift = (1.0 - keep) * (a * _SELU_SATURATION) - a * _SELU_SATURATION * p

        def compute(t: Tensor) -> Tensor:
            return t * scale + shift

    if inplace:
        return write_in_place(input, "alpha_dropout_", compute)
    return compute(input)


def _normalize(input: Tensor, axes: tuple, eps: float) -> Tensor:
    """``(input - mean) / sqrt(var + eps)`` over ``axes``, with the biased variance."""
    centered = input - input.mean(axes, keepdims=True)
    variance = (centered * centered).mean(axes, keepdims=True)
    return centered * (variance + eps) ** -0.5


def layer_norm(
    input: TensorLike,
    normalized_shape: int | Sequence[int],
    weight: TensorLike | None = None,
    bias: TensorLike | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the trailing ``normalized_shape`` axes, then scale and shift.

    >>> import tinynet as tn
    >>> layer_norm(tn.tensor([[1.0, 3.0]]), (2,)).data.round(4).tolist()
    [[-1.0, 1.0]]
    """
    input = as_tensor(input)
    check_dtypes("layer_norm", input, weight=weight, bias=bias)
    normalized_shape = shape_tuple(normalized_shape)
    count = len(normalized_shape)
    if input.shape[input.ndim - count :] != normalized_shape or input.ndim < count:
        raise ShapeError(
            f"layer_norm: expected input with trailing shape {normalized_shape}, "
            f"got input of shape {input.shape}"
        )
    output = _normalize(input, tuple(range(input.ndim - count, input.ndim)), eps)
    if weight is not None:
        output = output * weight
    if bias is not None:
        output = output + bias
    return output


def shape_tuple(shape: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def batch_norm(
    input: TensorLike,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: TensorLike | None = None,
    bias: TensorLike | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization per channel (axis 1) of an ``(N, C, *)`` input, over all other axes.

    In training (or without running statistics) the batch statistics normalize; the running
    statistics, if given, are updated in place with ``momentum`` and the *unbiased* batch
    variance, as PyTorch. Otherwise the running statistics normalize.

    >>> import tinynet as tn
    >>> batch_norm(tn.tensor([[1.0], [3.0]]), training=True).data.round(4).tolist()
    [[-1.0], [1.0]]
    """
    input = as_tensor(input)
    _check_batch_norm_inputs(input, running_mean, running_var, weight, bias)
    channels = input.shape[1]
    axes = (0, *range(2, input.ndim))
    stat_shape = (1, channels) + (1,) * (input.ndim - 2)
    if training or running_mean is None or running_var is None:
        count = input.numel() // channels
        if training and count <= 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input size "
                f"{input.shape}"
            )
        output = _normalize(input, axes, eps)
        if training and running_mean is not None and running_var is not None:
            # A NumPy update in place that tn.compile records and repeats on every replay
            traced_call(_update_running_stats, input.data, axes, count, running_mean.data,
                        running_var.data, momentum)  # fmt: skip
    else:
        # Running statistics as constants (no graph through them), read by ops: a compiled
        # replay reads their values of the moment, not those of its recording.
        dtype = input.dtype if input.dtype.kind == "f" else running_mean.dtype
        mean = running_mean.reshape(*stat_shape).to(dtype)
        inverse_std = (1.0 / (running_var.reshape(*stat_shape) + eps).sqrt()).to(dtype)
        output = (input - mean) * inverse_std
    return _affine_per_channel(output, weight, bias)


def _check_batch_norm_inputs(input, running_mean, running_var, weight, bias) -> None:
    check_dtypes(
        "batch_norm", input, weight=weight, bias=bias, running_mean=running_mean,
        running_var=running_var,
    )  # fmt: skip
    if input.ndim < 2:
        raise ShapeError(
            f"batch_norm: expected an input of shape (N, C, *) with at least 2 dimensions, "
            f"got shape {input.shape}"
        )
    channels = input.shape[1]
    for name, tensor in (("running_mean", running_mean), ("running_var", running_var)):
        if tensor is not None and tensor.shape != (channels,):
            raise ShapeError(
                f"batch_norm: {name} has shape {tensor.shape}, expected ({channels},) "
                f"for an input of shape {input.shape}"
            )


def _update_running_stats(data, axes, count, running_mean, running_var, momentum) -> None:
    """The running statistics' update (arrays, in place) with the batch's statistics."""
    mean = data.mean(axis=axes)
    unbiased_var = data.var(axis=axes) * (count / (count - 1))
    _update_running_stats_with(running_mean, running_var, mean, unbiased_var, momentum)


def _update_running_stats_with(running_mean, running_var, mean, variance, momentum) -> None:
    """``running = (1 - momentum) * running + momentum * batch`` in place."""
    for stat, batch_value in ((running_mean, mean), (running_var, variance)):
        stat *= 1.0 - momentum
        stat += momentum * batch_value


def _affine_per_channel(output: Tensor, weight, bias) -> Tensor:
    """``output * weight + bias`` with one value per channel (axis 1) of ``(N, C, *)``."""
    shape = (1, output.shape[1]) + (1,) * (output.ndim - 2)
    if weight is not None:
        output = output * as_tensor(weight).reshape(*shape)
    if bias is not None:
        output = output + as_tensor(bias).reshape(*shape)
    return output


def group_norm(
    input: TensorLike,
    num_groups: int,
    weight: TensorLike | None = None,
    bias: TensorLike | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each sample's channels in ``num_groups`` groups (of ``C / num_groups``
    channels and all positions), then scale and shift per channel.

    >>> import tinynet as tn
    >>> group_norm(tn.tensor([[1.0, 3.0, 5.0, 9.0]]), 2).data.round(4).tolist()
    [[-1.0, 1.0, -1.0, 1.0]]
    """
    input = as_tensor(input)
    check_dtypes("group_norm", input, weight=weight, bias=bias)
    if input.ndim < 2:
        raise ShapeError(
            f"group_norm: expected an input of shape (N, C, *) with at least 2 dimensions, "
            f"got shape {input.shape}"
        )
    channels = input.shape[1]
    if num_groups < 1 or channels % num_groups:
        raise ShapeError(
            f"group_norm: the {channels} channels of an input of shape {input.shape} do not "
            f"split into num_groups={num_groups} equal groups; pick a divisor of {channels}"
        )
    grouped = input.reshape(input.shape[0], num_groups, -1)
    output = _normalize(grouped, (2,), eps).reshape(*input.shape)
    return _affine_per_channel(output, weight, bias)


def instance_norm(
    input: TensorLike,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: TensorLike | None = None,
    bias: TensorLike | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel of each sample of ``(N, C, *)`` over its positions, then scale
    and shift per channel.

    With ``use_input_stats`` the running statistics, if given, are updated in place with
    ``momentum`` and the batch average of each instance's mean and *unbiased* variance, as
    PyTorch; without it they normalize.

    >>> import tinynet as tn
    >>> instance_norm(tn.tensor([[[1.0, 3.0], [0.0, 4.0]]])).data.round(4).tolist()
    [[[-1.0, 1.0], [-1.0, 1.0]]]
    """
    input = as_tensor(input)
    check_dtypes(
        "instance_norm", input, weight=weight, bias=bias, running_mean=running_mean,
        running_var=running_var,
    )  # fmt: skip
    if input.ndim < 3:
        raise ShapeError(
            f"instance_norm: expected an input of shape (N, C, *) with at least one position "
            f"axis, got shape {input.shape}"
        )
    if not use_input_stats:
        output = batch_norm(input, running_mean, running_var, training=False, eps=eps)
        return _affine_per_channel(output, weight, bias)
    axes = tuple(range(2, input.ndim))
    count = math.prod(input.shape[2:])
    if count <= 1:  # one position: its own mean, variance 0 (PyTorch refuses it too)
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {input.shape}"
        )
    if running_mean is not None and running_var is not None:
        traced_call(_update_instance_stats, input.data, axes, count, running_mean.data,
                    running_var.data, momentum)  # fmt: skip
    return _affine_per_channel(_normalize(input, axes, eps), weight, bias)


def _update_instance_stats(data, axes, count, running_mean, running_var, momentum) -> None:
    """The running statistics' update (arrays, in place) with each instance's statistics
    averaged over the batch."""
    mean = data.mean(axis=axes).mean(axis=0)
    unbiased_var = (data.var(axis=axes) * (count / (count - 1))).mean(axis=0)
    _update_running_stats_with(running_mean, running_var, mean, unbiased_var, momentum)


def rms_norm(
    input: TensorLike,
    normalized_shape: int | Sequence[int],
    weight: TensorLike | None = None,
    eps: float | None = None,
) -> Tensor:
    """``input / sqrt(mean(input**2) + eps) * weight`` over the trailing ``normalized_shape``
    axes; ``eps=None`` is the machine epsilon of the input's dtype, as PyTorch.

    >>> import tinynet as tn
    >>> rms_norm(tn.tensor([[2.0, -2.0]]), 2, eps=0.0).tolist()
    [[1.0, -1.0]]
    """
    input = as_tensor(input)
    check_dtypes("rms_norm", input, weight=weight)
    normalized_shape = shape_tuple(normalized_shape)
    count = len(normalized_shape)
    if input.ndim < count or input.shape[input.ndim - count :] != normalized_shape:
        raise ShapeError(
            f"rms_norm: expected input with trailing shape {normalized_shape}, "
            f"got input of shape {input.shape}"
        )
    if eps is None:
        eps = float(np.finfo(input.dtype if input.dtype.kind == "f" else np.float32).eps)
    axes = tuple(range(input.ndim - count, input.ndim))
    output = input * ((input * input).mean(axes, keepdims=True) + eps) ** -0.5
    return output if weight is None else output * weight


def pixel_shuffle(input: TensorLike, upscale_factor: int) -> Tensor:
    """``(*, C r**2, H, W) -> (*, C, H r, W r)`` for ``r = upscale_factor``: each group of
    ``r**2`` channels becomes an ``r``-by-``r`` block of pixels.

    >>> import tinynet as tn
    >>> pixel_shuffle(tn.arange(4.0).reshape(1, 4, 1, 1), 2).tolist()
    [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    input = as_tensor(input)
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ShapeError(
            f"pixel_shuffle: expected an input of shape (*, C * {r * r}, H, W) (channels "
            f"divisible by upscale_factor**2 = {r * r}), got shape {input.shape}"
        )
    *batch, channels, height, width = input.shape
    lead = len(batch)
    blocks = input.reshape(*batch, channels // (r * r), r, r, height, width)
    order = (*range(lead), lead, lead + 3, lead + 1, lead + 4, lead + 2)
    return blocks.permute(*order).reshape(*batch, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input: TensorLike, downscale_factor: int) -> Tensor:
    """``(*, C, H r, W r) -> (*, C r**2, H, W)`` for ``r = downscale_factor``: the inverse of
    ``pixel_shuffle``.

    >>> import tinynet as tn
    >>> pixel_unshuffle(tn.arange(4.0).reshape(1, 1, 2, 2), 2).reshape(4).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    input = as_tensor(input)
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise ShapeError(
            f"pixel_unshuffle: expected an input of shape (*, C, H, W) with H and W divisible "
            f"by downscale_factor = {r}, got shape {input.shape}"
        )
    *batch, channels, height, width = input.shape
    lead = len(batch)
    blocks = input.reshape(*batch, channels, height // r, r, width // r, r)
    order = (*range(lead), lead, lead + 2, lead + 4, lead + 1, lead + 3)
    return blocks.permute(*order).reshape(*batch, channels * r * r, height // r, width // r)


def channel_shuffle(input: TensorLike, groups: int) -> Tensor:
    """Interleave the channels of ``(N, C, *)`` from ``groups`` groups: channel
    ``g * (C / groups) + i`` moves to ``i * groups + g`` (ShuffleNet's shuffle).

    >>> import tinynet as tn
    >>> channel_shuffle(tn.arange(6.0).reshape(1, 6, 1), 2).flatten().tolist()
    [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    """
    input = as_tensor(input)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ArgumentError(
            f"channel_shuffle: the number of groups to divide channels in must be a positive "
            f"int, got {groups!r}"
        )
    if input.ndim < 3:
        raise ShapeError(
            f"channel_shuffle: expected an input of shape (N, C, *) with at least 3 dimensions, "
            f"got shape {input.shape}"
        )
    batch, channels, *rest = input.shape
    if channels % groups:
        raise ShapeError(
            f"channel_shuffle: the number of channels must be divisible by groups, got "
            f"{channels} channels and {groups} groups"
        )
    grouped = input.reshape(batch, groups, channels // groups, *rest)
    return grouped.transpose(1, 2).reshape(*input.shape)


def local_response_norm(
    input: TensorLike, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """Divide each element of ``(N, C, *)`` by ``(k + alpha / size * s) ** beta``, where ``s``
    sums the squares of the ``size`` channels around it: ``size // 2`` before, ``(size - 1)
    // 2`` after, channels beyond the edges counting as zeros (as PyTorch's average pool).

    >>> import tinynet as tn
    >>> local_response_norm(tn.tensor([[[2.0], [0.0]]]), 2, alpha=1.0, beta=1.0).tolist()
    [[[0.6666666865348816], [0.0]]]
    """
    input = as_tensor(input)
    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm: expected a 3-D or higher input (N, C, *), got "
            f"{input.ndim} dimensions (shape {input.shape})"
        )
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ArgumentError(f"local_response_norm: size must be a positive int, got {size!r}")
    if input.data.size == 0:
        return input
    channels = input.shape[1]
    widths = ((0, 0), (size // 2, (size - 1) // 2)) + ((0, 0),) * (input.ndim - 2)
    squares = ops.pad(input * input, widths)
    total = squares[:, 0:channels]
    for offset in range(1, size):
        total = total + squares[:, offset : offset + channels]
    return input / (total / size * alpha + k) ** beta


def _factor(value, op: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {value!r}")
    return int(value)


def bilinear(
    input1: TensorLike, input2: TensorLike, weight: TensorLike, bias: TensorLike | None = None
) -> Tensor:
    """``y[..., o] = input1[..., i] weight[o, i, j] input2[..., j] + bias[o]`` with ``weight``
    of shape ``(out_features, in1_features, in2_features)``.

    >>> import tinynet as tn
    >>> bilinear(tn.ones(1, 2), tn.ones(1, 3), tn.ones(4, 2, 3)).tolist()
    [[6.0, 6.0, 6.0, 6.0]]
    """
    input1, input2, weight = as_tensor(input1), as_tensor(input2), as_tensor(weight)
    check_dtypes("bilinear", input1, input2=input2, weight=weight, bias=bias)
    if weight.ndim != 3:
        raise ShapeError(
            f"bilinear: weight must have shape (out_features, in1_features, in2_features), "
            f"got shape {weight.shape}"
        )
    outputs, first, second = weight.shape
    if input1.ndim == 0 or input1.shape[:-1] != input2.shape[:-1]:
        raise ShapeError(
            f"bilinear: inputs must share their leading (batch) shape, got shapes "
            f"{input1.shape} and {input2.shape}"
        )
    if input1.shape[-1] != first or input2.shape[-1] != second:
        raise ShapeError(
            f"bilinear: expected inputs of last sizes {first} and {second} (weight of shape "
            f"{weight.shape}), got shapes {input1.shape} and {input2.shape}"
        )
    batch = input1.shape[:-1]
    rows = input1.reshape(-1, first)
    # (B, I) @ (I, O * J) -> (B, O, J), then contracted with input2 along J.
    mixed = ops.matmul(rows, weight.permute(1, 0, 2).reshape(first, outputs * second))
    mixed = mixed.reshape(-1, outputs, second)
    output = (mixed * input2.reshape(-1, 1, second)).sum(-1).reshape(*batch, outputs)
    return output if bias is None else output + bias


def embedding(input: TensorLike, weight: TensorLike, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input``; the ``padding_idx`` row gets no gradient.

    >>> import tinynet as tn
    >>> embedding(tn.tensor([2, 0]), tn.arange(6.0).reshape(3, 2)).tolist()
    [[4.0, 5.0], [0.0, 1.0]]
    """
    indices = input.data if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise DTypeError(f"embedding indices must be integers, got dtype {indices.dtype}")
    weight = as_tensor(weight)
    rows = weight.shape[0]
    if not traced_check(_indices_below, indices, rows):
        bad = (indices < 0) | (indices >= rows)
        if bad.any():
            raise IndexError(
                f"index {int(indices[bad].flat[0])} is out of range for an embedding of "
                f"{rows} rows (valid: 0 to {rows - 1})"
            )
    output = weight[indices]
    if padding_idx is not None and output.requires_grad:
        keep = traced_call(_not_padding, indices, padding_idx)
        output = ops.where(keep, output, output.detach())
    return output


def embedding_bag(
    input: TensorLike,
    weight: TensorLike,
    offsets: TensorLike | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: TensorLike | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Sums, means or maxima of bags of rows of ``weight``: one ``(B, embedding_dim)`` row
    per bag, as ``torch.nn.functional.embedding_bag``.

    A 2-D ``input`` of shape ``(B, N)`` is ``B`` bags of ``N`` indices (``offsets`` must be
    None); a 1-D ``input`` is the bags one after another, bag ``b`` starting at
    ``offsets[b]`` (``offsets[0] == 0``; with ``include_last_offset`` the last offset is
    the end of the last bag). ``per_sample_weights`` (``mode='sum'`` only) scales each
    index's row; indices equal to ``padding_idx`` are left out of their bag (and give its
    row no gradient). An empty bag gives zeros. In ``mode='max'`` each column's gradient
    goes to the bag's first largest element. ``max_norm``, ``scale_grad_by_freq`` and
    ``sparse=True`` are not supported (an error says so).

    >>> import tinynet as tn
    >>> weight = tn.arange(8.0).reshape(4, 2)
    >>> embedding_bag(tn.tensor([0, 2, 3, 1]), weight, tn.tensor([0, 1]), mode="sum").tolist()
    [[0.0, 1.0], [12.0, 15.0]]
    """
    check_bag_options(max_norm, scale_grad_by_freq, sparse, mode)
    weight, indices = (
        as_tensor(weight),
        input.data if isinstance(input, Tensor) else np.asarray(input),
    )
    scale = _check_bag_inputs(weight, indices, mode, per_sample_weights)
    rows = weight.shape[0]
    padding_idx = _padding_row(padding_idx, rows)
    starts = _bag_starts(indices, offsets, include_last_offset)
    bags = starts.size - 1 if include_last_offset else starts.size
    # The index arrays are the call's own: computed from in traced calls, for tn.compile.
    flat = traced_call(np.ravel, indices)
    # Each index's bag; padding_idx and indices after the last bag go to one more row, dropped.
    bag_of = traced_call(_bag_layout, flat, starts, include_last_offset, rows, padding_idx)
    counts = traced_call(_bag_counts, bag_of, bags)
    picked = weight[flat]  # (n, embedding_dim): a differentiable gather
    if scale is not None:
        picked = picked * scale.reshape(-1, 1)
    width = weight.shape[1]
    if mode == "max" and flat.size:
        return _bag_maxima(picked, bag_of, counts, width)
    target = Tensor.wrap(traced_call(_scatter_target, bag_of, width))
    zeros = Tensor.wrap(np.zeros((bags + 1, width), weight.dtype))
    total = _composite.scatter_add(zeros, 0, target, picked)[:bags]
    if mode == "mean":
        return total / Tensor.wrap(traced_call(_bag_divisors, counts, weight.dtype))
    return total


def _check_bag_inputs(
    weight: Tensor, indices: np.ndarray, mode: str, per_sample_weights
) -> Tensor | None:
    """Refuse a weight, indices or per-sample weights embedding_bag cannot take; return the
    per-sample weights as a Tensor (or None)."""
    if weight.ndim != 2:
        raise ShapeError(
            f"embedding_bag: weight must be 2-D (num_embeddings, embedding_dim), got shape "
            f"{weight.shape}"
        )
    if weight.dtype.kind != "f":
        raise DTypeError(f"embedding_bag: weight must be floating, got dtype {weight.dtype}")
    if indices.dtype.kind not in "iu":
        raise DTypeError(f"embedding_bag: input must hold integer indices, got {indices.dtype}")
    if per_sample_weights is None:
        return None
    if mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights is only supported for mode='sum' (got "
            f"mode={mode!r}); weight the rows yourself and reduce, or use mode='sum'"
        )
    per_sample_weights = as_tensor(per_sample_weights)
    if per_sample_weights.shape != indices.shape:
        raise ValueError(
            f"embedding_bag: per_sample_weights of shape {per_sample_weights.shape} must "
            f"have the input's shape {indices.shape}"
        )
    return per_sample_weights


def _padding_row(padding_idx: int | None, rows: int) -> int | None:
    """``padding_idx`` as a row number (a negative one counts from the end)."""
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise ValueError(
            f"embedding_bag: padding_idx must be within num_embeddings ({rows}), got {padding_idx}"
        )
    return int(padding_idx) % rows


def check_bag_options(max_norm, scale_grad_by_freq, sparse, mode: str) -> None:
    """Refuse a ``mode`` other than sum, mean and max, and the options tinynet lacks."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    for name, value, default in (
        ("max_norm", max_norm, None),
        ("scale_grad_by_freq", scale_grad_by_freq, False),
        ("sparse", sparse, False),
    ):
        if value is not default and value != default:
            raise NotImplementedError(
                f"embedding_bag: {name}={value!r} is not supported in tinynet (dense "
                f"gradients only, no renormalization); leave it at {default!r}"
            )


def _bag_starts(indices: np.ndarray, offsets, include_last_offset: bool) -> np.ndarray:
    """Where each bag starts in the flattened indices (for 2-D input, every ``N``)."""
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "embedding_bag: if input is 2-D, offsets has to be None: input is taken as a "
                "mini-batch of bags of one length"
            )
        count, length = indices.shape  # one bag per row, whatever include_last_offset
        return np.arange(count + include_last_offset, dtype=np.int64) * length
    if indices.ndim != 1:
        raise ValueError(
            f"embedding_bag: input has to be a 1-D or 2-D tensor, got {indices.ndim} dimensions"
        )
    if offsets is None:
        raise ValueError(
            "embedding_bag: offsets has to be a 1-D tensor when input is 1-D, got None"
        )
    starts = offsets.data if isinstance(offsets, Tensor) else np.asarray(offsets)
    if starts.ndim != 1 or starts.dtype.kind not in "iu":
        raise ValueError(
            f"embedding_bag: offsets has to be a 1-D tensor of integers, got shape "
            f"{starts.shape} and dtype {starts.dtype}"
        )
    if include_last_offset and starts.size == 0:
        raise ValueError("embedding_bag: include_last_offset needs at least one offset")
    return starts


def _bag_layout(flat: np.ndarray, starts: np.ndarray, last_given: bool, rows: int, padding_idx):
    """Each index's bag, from the bags' starts (and the last one's end, if ``last_given``);
    ``padding_idx`` goes to one more bag, dropped afterwards."""
    if flat.size and not _indices_below(flat, rows):
        bad = flat[(flat < 0) | (flat >= rows)][0]
        raise IndexError(
            f"embedding_bag: index {int(bad)} is out of range for a weight of {rows} rows "
            f"(valid: 0 to {rows - 1})"
        )
    if starts.size and starts[0] != 0:
        raise ArgumentError(
            f"embedding_bag: offsets[0] has to be 0 (the first bag starts at position 0), got "
            f"{int(starts[0])}"
        )
    if last_given and starts[-1] != flat.size:
        # PyTorch's CPU kernel then runs the last bag to the input's end (its issue 52851)
        raise ArgumentError(
            f"embedding_bag: with include_last_offset the last offset must be the input's "
            f"length {flat.size}, got {int(starts[-1])}"
        )
    bounds = starts.astype(np.int64) if last_given else np.append(starts, flat.size)
    if (np.diff(bounds) < 0).any() or bounds[-1] > flat.size:
        raise ArgumentError(
            f"embedding_bag: offsets must be non-decreasing and at most the input's length "
            f"{flat.size}, got {starts.tolist()}"
        )
    bags = bounds.size - 1
    bag_of = np.repeat(np.arange(bags), np.diff(bounds))
    if padding_idx is not None:
        bag_of[flat == padding_idx] = bags
    return bag_of


def _scatter_target(bag_of: np.ndarray, width: int) -> np.ndarray:
    return np.broadcast_to(bag_of[:, None], (bag_of.size, width))


def _bag_counts(bag_of: np.ndarray, bags: int) -> np.ndarray:
    return np.bincount(bag_of, minlength=bags + 1)[:bags]


def _bag_divisors(counts: np.ndarray, dtype) -> np.ndarray:
    """A mean's divisor per bag, as a column: an empty bag's zeros divided by 1."""
    return np.maximum(counts, 1).astype(dtype)[:, None]


def _bag_maxima(picked: Tensor, bag_of: np.ndarray, counts: np.ndarray, width: int) -> Tensor:
    """Per bag and column, the first largest of the bag's rows (0 for an empty bag)."""
    where = traced_call(_first_maxima, picked.data, bag_of, counts)
    maxima = picked[where, np.arange(width)]
    return ops.where(Tensor.wrap(traced_call(_nonempty, counts)), maxima, 0.0)


def _nonempty(counts: np.ndarray) -> np.ndarray:
    return (counts > 0)[:, None]


def _first_maxima(values: np.ndarray, bag_of: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For each bag and column, the row (of ``values``) of the bag's first largest value."""
    bags, width = counts.size, values.shape[1]
    where = np.zeros((bags, width), np.int64)
    members = np.flatnonzero(bag_of < bags)
    shape = (members.size, width)
    bag = np.broadcast_to(bag_of[members, None], shape).ravel()
    column = np.broadcast_to(np.arange(width), shape).ravel()
    row = np.broadcast_to(members[:, None], shape).ravel()
    # By bag, then column, then the largest value first, then the first row among ties.
    order = np.lexsort((row, -values[members].ravel(), column, bag))
    group = bag[order] * width + column[order]
    first = order[np.append(True, group[1:] != group[:-1])] if order.size else order
    where[bag[first], column[first]] = row[first]
    return where


# -- value checks that tn.compile re-checks on replay (issue 12) ----------------------------------
def _indices_below(indices: np.ndarray, rows: int) -> bool:
    return not indices.size or bool(((indices >= 0) & (indices < rows)).all())


def _nothing_above(values: np.ndarray, beta: float, threshold: float) -> bool:
    return not (values * beta > threshold).any()


def _dropout_mask(generator, shape: tuple, p: float, dtype) -> np.ndarray:
    keep = generator.random(shape) >= p
    return keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))


def _keep_mask(generator, shape: tuple, p: float, dtype) -> np.ndarray:
    return (generator.random(shape) >= p).astype(dtype)


def _not_padding(indices: np.ndarray, padding_idx: int) -> np.ndarray:
    return (indices != padding_idx)[..., None]


# -- resampling: interpolate is the op; PyTorch's deprecated spellings of it ----------------
def upsample(
    input: TensorLike,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """``interpolate`` under its old name: deprecated in PyTorch, which warns; so does this.

    >>> import warnings, tinynet as tn, tinynet.nn.functional as F
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     F.upsample(tn.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    """
    warnings.warn(
        "nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: TensorLike,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """Deprecated in PyTorch (and warns): ``interpolate(input, size, scale_factor, 'nearest')``."""
    warnings.warn(
        "nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(
    input: TensorLike,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """Deprecated in PyTorch (and warns): ``interpolate`` with ``mode='bilinear'`` and
    ``align_corners=True``."""
    warnings.warn(
        "nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# Loaded on first use (tinynet._lazy): the distances are tinynet.functional's; attention
# lives with nn.MultiheadAttention (tinynet.nn.attention, which builds on this module).
_LAZY = {
    "tinynet.functional.distances": "cosine_similarity pairwise_distance",
    "tinynet.nn.attention": "scaled_dot_product_attention",
}
if _typing.TYPE_CHECKING:  # the same names for the type checker, and no __getattr__
    from tinynet.functional.distances import cosine_similarity, pairwise_distance
    from tinynet.nn.attention import scaled_dot_product_attention
else:
    __getattr__, __dir__ = _lazy_attributes(__name__, _LAZY)

__all__ += ["scaled_dot_product_attention"]
# -- the PyTorch functions users still missed (session 11) --
__all__ += [
    "channel_shuffle", "conv3d", "embedding_bag", "fold", "gumbel_softmax", "local_response_norm",
    "unfold",
]  # fmt: skip
