"""Loss functions with PyTorch's names, arguments and semantics, as functions and as modules.

Every loss is composed from smooth primitives (``log_softmax``, ``softplus``), so values and
derivatives of every order are exact and finite for any finite logits (one small Function
writes out PyTorch's NaN gradient of ``poisson_nll_loss(full=True)`` at a target <= 0).
Where PyTorch's function has a kink (L1 at 0, Huber at ``|input - target| = delta``), the
derivatives follow PyTorch's conventions.

Reductions: ``'mean'`` (default), ``'sum'`` or ``'none'``. A ``'mean'`` over nothing (an
empty batch, or every target equal to ``ignore_index``) is NaN, as PyTorch's 0/0, with a zero
gradient.

>>> import numpy as np, tinynet as tn, tinynet.nn as nn
>>> logits = tn.tensor([[2.0, 0.0], [0.0, 2.0]], requires_grad=True)
>>> loss = nn.CrossEntropyLoss()(logits, np.array([0, 1]))
>>> round(loss.item(), 4)
0.1269
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from tinynet import functional as _composite
from tinynet import ops
from tinynet.autograd import Function, traced_call, traced_check
from tinynet.errors import ArgumentError, DTypeError, ShapeError
from tinynet.nn.module import Module
from tinynet.ops._args import as_array, as_tensor
from tinynet.tensor import Tensor, TensorLike

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "GaussianNLLLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "SmoothL1Loss",
    "CosineEmbeddingLoss",
    "HingeEmbeddingLoss",
    "MarginRankingLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "PoissonNLLLoss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "gaussian_nll_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
    "cosine_embedding_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_soft_margin_loss",
    "poisson_nll_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
]

_REDUCTIONS = ("mean", "sum", "none")
_NAN = float("nan")


# -- argument checks ---------------------------------------------------------------------------
def _check_reduction(reduction) -> None:
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        if reduction == "batchmean":
            raise ValueError("reduction='batchmean' is kl_div's only; use 'mean', 'sum' or 'none'")
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _float_input(input, name: str) -> Tensor:
    input = as_tensor(input)
    if input.data.dtype.kind != "f":
        raise DTypeError(f"{name}: input must be a floating tensor, got dtype {input.dtype}")
    return input


def _float_target(target, input: Tensor, name: str) -> Tensor:
    """``target`` as a Tensor of ``input``'s shape and dtype (never broadcast)."""
    target = as_tensor(target)
    if target.shape != input.shape:
        raise ValueError(
            f"{name}: target shape {target.shape} differs from input shape {input.shape}; "
            "they must be equal (no broadcasting)"
        )
    return ops.cast(target, input.dtype)


def _elementwise_factor(value, input: Tensor, name: str, what: str) -> Tensor | None:
    """A ``weight``/``pos_weight`` that broadcasts to ``input``'s shape without enlarging it."""
    if value is None:
        return None
    value = as_tensor(value)
    try:
        fits = np.broadcast_shapes(value.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name}: {what} of shape {value.shape} does not broadcast to input shape {input.shape}"
        )
    return ops.cast(value, input.dtype)


def _class_axis(input: Tensor) -> int:
    return 1 if input.ndim >= 2 else 0


def _class_target_shape(input: Tensor) -> tuple:
    """The shape class-index targets must have: the input's without its class axis."""
    return input.shape[:1] + input.shape[2:] if input.ndim >= 2 else ()


def _class_input(input, name: str) -> Tensor:
    input = _float_input(input, name)
    if input.ndim == 0:
        raise ValueError(f"{name}: input needs a class axis: shape (C,), (N, C) or (N, C, d1, ...)")
    return input


def _targets(target, input: Tensor, name: str, probabilities: bool):
    """Class indices (an int64 array) or, where allowed, class probabilities (a Tensor)."""
    data = target.data if isinstance(target, Tensor) else np.asarray(target)
    expected = _class_target_shape(input)
    kind = data.dtype.kind
    if kind in "iu" and data.shape == expected:
        # traced: a tn.compile replay converts each call's targets (int32 ones, say)
        return data if data.dtype == np.int64 else traced_call(_as_int64, data)
    if kind == "f" and probabilities and data.shape == input.shape:
        return ops.cast(as_tensor(target), input.dtype)
    accepted = f"class indices (integers) of shape {expected}"
    if probabilities:
        accepted += f", or class probabilities (floats) of the input's shape {input.shape}"
    if kind == "f" and data.shape == expected:
        raise DTypeError(f"{name}: class-index targets must be integers, got dtype {data.dtype}")
    if kind not in "iuf":
        raise DTypeError(f"{name}: targets must be {accepted}; got dtype {data.dtype}")
    raise ValueError(
        f"{name}: target shape {data.shape} does not fit input shape {input.shape}; "
        f"expected {accepted}"
    )


def _as_int64(array: np.ndarray) -> np.ndarray:
    return array.astype(np.int64)


def _class_weight(weight, input: Tensor, name: str) -> np.ndarray | None:
    """The per-class rescaling weight as a constant array of the input's dtype."""
    if weight is None:
        return None
    array = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    n_classes = input.shape[_class_axis(input)]
    if array.shape != (n_classes,):
        raise ValueError(
            f"{name}: weight must have one entry per class, shape ({n_classes},); got shape "
            f"{array.shape}"
        )
    if array.dtype == input.dtype:
        return array
    return traced_call(_converted, array, input.dtype)  # a weight given as an argument


def _converted(array: np.ndarray, dtype) -> np.ndarray:
    return array.astype(dtype)


def _check_class_range(target: np.ndarray, ignored, n_classes: int, name: str) -> None:
    if not target.size or (target.min() >= 0 and target.max() < n_classes):
        return
    bad = (target < 0) | (target >= n_classes)
    if ignored is not None:
        bad &= ~ignored
    if bad.any():
        also = "" if ignored is None else ", or ignore_index"
        raise IndexError(
            f"{name}: target {int(target[bad].flat[0])} is out of bounds for {n_classes} classes "
            f"(valid: 0 to {n_classes - 1}{also})"
        )


# -- reductions --------------------------------------------------------------------------------
def _mean_of(total: Tensor, count, scale: float = 1.0) -> Tensor:
    """``scale * total / count``; NaN for ``count == 0`` (PyTorch's 0/0) with a zero gradient."""
    if count == 0:
        return total * 0.0 + _NAN
    return total * (scale / count)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if loss.numel() else _mean_of(loss.sum(), 0)


# -- regression ----------------------------------------------------------------------------------
def mse_loss(input: TensorLike, target: TensorLike, *, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target) ** 2``, reduced.

    >>> import tinynet as tn
    >>> mse_loss(tn.tensor([1.0, 3.0]), tn.tensor([0.0, 0.0])).item()
    5.0
    """
    _check_reduction(reduction)
    input = _float_input(input, "mse_loss")
    target = _float_target(target, input, "mse_loss")
    return _reduce((input - target) ** 2, reduction)


def l1_loss(input: TensorLike, target: TensorLike, *, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|``; its derivative at 0 is 0 (as PyTorch).

    >>> import tinynet as tn
    >>> l1_loss(tn.tensor([1.0, -3.0]), tn.tensor([0.0, 0.0]), reduction="sum").item()
    4.0
    """
    _check_reduction(reduction)
    input = _float_input(input, "l1_loss")
    target = _float_target(target, input, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def huber_loss(
    input: TensorLike, target: TensorLike, reduction: str = "mean", delta: float = 1.0
) -> Tensor:
    """``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - delta / 2)``, for ``d = input - target``.

    At ``|d| = delta`` the linear branch is taken, as PyTorch: the slope is ``d`` (both branches
    agree) and the second derivative is 0.

    >>> import tinynet as tn
    >>> huber_loss(tn.tensor([0.5, 3.0]), tn.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    _check_reduction(reduction)
    if not delta > 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta}")
    input = _float_input(input, "huber_loss")
    target = _float_target(target, input, "huber_loss")
    return _reduce(_huber(input - target, delta, scaled=False), reduction)


def _huber(diff: Tensor, delta: float, scaled: bool) -> Tensor:
    """Huber's elementwise loss of ``diff``; ``scaled``: divided by ``delta`` (smooth L1)."""
    # The branches are value checks that tn.compile re-checks; the mask is an op it records.
    if traced_check(_all_below, diff.data, delta):
        return _half_square(diff, delta, scaled)
    # Where |d| < delta is selected the linear branch gets a zero gradient, so abs'(0)
    # never enters; at |d| = delta the linear branch has slope delta * sign(d) = d.
    linear = diff.abs() - 0.5 * delta
    if not scaled:
        linear = linear * delta
    if traced_check(_none_below, diff.data, delta):
        return linear
    quadratic = ops.lt(ops.abs(diff.detach()), delta)
    return ops.where(quadratic, _half_square(diff, delta, scaled), linear)


def _half_square(diff: Tensor, delta: float, scaled: bool) -> Tensor:
    half_square = diff**2 * 0.5
    return half_square / delta if scaled else half_square


def smooth_l1_loss(
    input: TensorLike, target: TensorLike, *, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - beta / 2``, for ``d = input - target``.

    Huber's loss divided by ``beta``; ``beta=0`` is ``l1_loss``. At ``|d| = beta`` the linear
    branch is taken, as PyTorch: slope ``sign(d)``, second derivative 0.

    >>> import tinynet as tn
    >>> smooth_l1_loss(tn.tensor([0.5, 3.0]), tn.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    input = _float_input(input, "smooth_l1_loss")
    target = _float_target(target, input, "smooth_l1_loss")
    return _reduce(_huber(input - target, beta, scaled=True), reduction)


def kl_div(
    input: TensorLike, target: TensorLike, *, reduction: str = "mean", log_target: bool = False
) -> Tensor:
    """Kullback-Leibler divergence ``target * (log(target) - input)`` of log-probabilities.

    ``input`` holds log-probabilities; ``target`` probabilities (PyTorch's
    ``xlogy(target, target) - target * input``: ``0 * log 0 = 0``, and the gradient to a
    zero ``target`` is NaN, xlogy's ``0 / 0``) or, with ``log_target=True``, log-probabilities:
    ``exp(target) * (target - input)``. ``reduction='batchmean'`` divides the sum by the
    batch size ``input.shape[0]`` (the true KL divergence per sample); ``'mean'`` divides by
    the number of elements and warns that it is not the divergence, as PyTorch.

    >>> import numpy as np, tinynet as tn
    >>> p, q = np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]])
    >>> round(kl_div(tn.tensor(np.log(q)), tn.tensor(p), reduction="batchmean").item(), 6)
    0.143841
    """
    if reduction != "batchmean":
        _check_reduction(reduction)
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the summed divergence by the number of elements "
            "(batch size times classes), so it is not the KL divergence; pass "
            "reduction='batchmean' for the divergence per sample (as PyTorch warns)",
            UserWarning,
            stacklevel=2,
        )
    input = _float_input(input, "kl_div")
    target = _float_target(target, input, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = ops.xlogy(target, target) - target * input  # PyTorch's own formula
    if reduction != "batchmean":
        return _reduce(loss, reduction)
    if input.ndim == 0:
        return loss.sum()
    return _mean_of(loss.sum(), input.shape[0])


def gaussian_nll_loss(
    input: TensorLike,
    target: TensorLike,
    var: TensorLike | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Gaussian negative log-likelihood ``0.5 (log(var) + (input - target)**2 / var)``.

    ``var``: one variance per element (the input's shape), one per sample (the input's shape
    without its last axis, or with a last axis of 1), or a float, as PyTorch. It is clamped
    at ``eps`` in value only: below ``eps`` the gradient passes as if unclamped (PyTorch
    clamps a clone in place under ``no_grad``). ``full`` adds ``0.5 log(2 pi)``.

    >>> import tinynet as tn
    >>> gaussian_nll_loss(tn.tensor([1.0, 3.0]), tn.tensor([1.0, 1.0]), 1.0).item()
    1.0
    """
    _check_reduction(reduction)
    mean = _float_input(input, "gaussian_nll_loss")
    observed = as_tensor(target)
    _elementwise_factor(observed, mean, "gaussian_nll_loss", "target")  # the shape check
    variance = _variance(var, mean)
    if traced_check(_any_negative, variance.data):
        raise ValueError("gaussian_nll_loss: var has negative entries; variances must be >= 0")
    exact = variance.detach()
    # variance - exact is exactly 0 with variance's gradient: the value becomes eps exactly.
    variance = ops.where(ops.lt(exact, eps), variance - exact + eps, variance)
    loss = (variance.log() + (mean - ops.cast(observed, mean.dtype)) ** 2 / variance) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def _variance(var, input: Tensor) -> Tensor:
    if isinstance(var, (int, float)):
        return ops.cast(as_tensor(np.full(input.shape, float(var))), input.dtype)
    var = as_tensor(var)
    if var.shape != input.shape:
        if input.ndim and var.shape == input.shape[:-1]:
            var = var.reshape(*var.shape, 1)
        elif not (input.ndim and var.shape == input.shape[:-1] + (1,)):
            raise ValueError(
                f"gaussian_nll_loss: var of shape {var.shape} fits no input shape {input.shape}; "
                f"give one of shape {input.shape}, {input.shape[:-1]} or {input.shape[:-1] + (1,)}"
            )
    return ops.cast(var, input.dtype)


def _any_negative(values: np.ndarray) -> bool:
    return bool((values < 0).any())


# -- classification from class scores -----------------------------------------------------------
def _all_below(values: np.ndarray, bound: float) -> bool:
    return bool((np.abs(values) < bound).all())


def _none_below(values: np.ndarray, bound: float) -> bool:
    return not (np.abs(values) < bound).any()


def _gather_index(target: np.ndarray) -> tuple:
    """Index picking ``x[n, target[n, d...], d...]`` from an ``(N, C, d...)`` array."""
    if target.ndim == 0:
        return (target,)
    grids = [
        np.arange(n).reshape([n if axis == i else 1 for axis in range(target.ndim)])
        for i, n in enumerate(target.shape)
    ]
    return (grids[0], target, *grids[1:])


def _class_index_loss(
    log_probs: Tensor,
    target: np.ndarray,
    weight: np.ndarray | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    name: str,
) -> Tensor:
    """PyTorch's NLL (with label smoothing) of log-probabilities at integer targets."""
    axis = _class_axis(log_probs)
    n_classes = log_probs.shape[axis]
    any_ignored = traced_check(_contains, target, ignore_index)
    if not traced_check(_classes_in_range, target, n_classes, ignore_index):
        _check_class_range(target, target == ignore_index, n_classes, name)
    # NumPy work on the targets goes through traced_call, so tn.compile replays it per batch.
    classes = target
    if any_ignored:  # any valid class: these terms are masked out
        classes = traced_call(_replace_ignored, target, ignore_index)
    picked = log_probs[_gather_index(classes)]
    # as_array: with a 0-d target (one sample) NumPy gives scalars, which a replay cannot hold
    target_weight = None if weight is None else traced_call(as_array, np.take, weight, classes)
    # ``negative`` is minus the per-target loss: the sign is folded into the final scale.
    negative = picked if target_weight is None else picked * Tensor.wrap(target_weight)
    if label_smoothing:
        if weight is not None:
            shape = [1] * log_probs.ndim
            shape[axis] = n_classes
            log_probs = log_probs * Tensor.wrap(weight.reshape(shape))
        smooth = log_probs.sum(axis)
        negative = negative * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes)
    if any_ignored:
        kept = traced_call(as_array, np.not_equal, target, ignore_index)
        # Selected, not multiplied by a 0/1 mask: an ignored -inf log-probability (possible
        # in nll_loss) must not become NaN. -0.0 so that the ignored losses read +0.0.
        negative = ops.where(kept, negative, -0.0)
        target_weight = traced_call(_kept_weights, target_weight, kept)

    if reduction == "none":
        return -negative
    total = negative.sum()
    if reduction == "sum":
        return -total
    if target_weight is None:
        return _mean_of(total, target.size, -1.0)
    if not traced_check(_positive_total, target_weight):
        return _mean_of(total, 0)
    return total * Tensor.wrap(traced_call(_minus_inverse_total, target_weight, total.dtype))


def _replace_ignored(target: np.ndarray, ignore_index: int) -> np.ndarray:
    return np.where(target == ignore_index, 0, target)


def _kept_weights(target_weight: np.ndarray | None, kept: np.ndarray) -> np.ndarray:
    return np.asarray(kept if target_weight is None else target_weight * kept)


def _positive_total(target_weight: np.ndarray) -> bool:
    return float(target_weight.sum(dtype=np.float64)) != 0


def _minus_inverse_total(target_weight: np.ndarray, dtype) -> np.ndarray:
    """``-1 / sum(weights)`` as ``_mean_of`` scales: a float64 quotient cast to ``dtype``."""
    return np.asarray(-1.0 / float(target_weight.sum(dtype=np.float64)), dtype)


def _probability_loss(
    log_probs: Tensor, target: Tensor, weight: np.ndarray | None, reduction: str, smoothing: float
) -> Tensor:
    """PyTorch's cross-entropy against class probabilities ``-sum_c w_c p_c log q_c``."""
    axis = _class_axis(log_probs)
    n_classes = log_probs.shape[axis]
    if smoothing:
        target = target * (1.0 - smoothing) + smoothing / n_classes
    if weight is not None:
        shape = [1] * log_probs.ndim
        shape[axis] = n_classes
        target = target * Tensor.wrap(weight.reshape(shape))
    product = log_probs * target
    if reduction == "none":
        return -product.sum(axis)
    total = product.sum()
    if reduction == "sum":
        return -total
    return _mean_of(total, log_probs.numel() // max(n_classes, 1), -1.0)


def _plain_class_targets(target: np.ndarray, n_classes: int, ignore_index: int) -> bool:
    """True when every target is a valid class and none is ``ignore_index``."""
    if not target.size:
        return True
    # np.minimum/maximum.reduce: target.min()/.max() without NumPy's Python wrapper (hot path)
    if (
        np.minimum.reduce(target, axis=None) < 0
        or np.maximum.reduce(target, axis=None) >= n_classes
    ):
        return False
    return not (0 <= ignore_index < n_classes and (target == ignore_index).any())


def _classes_in_range(target: np.ndarray, n_classes: int, ignore_index: int) -> bool:
    valid = (target >= 0) & (target < n_classes)
    return bool((valid | (target == ignore_index)).all())


def _contains(values: np.ndarray, value) -> bool:
    return bool((values == value).any())


def _check_class_options(reduction, label_smoothing: float, name: str) -> None:
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")


def cross_entropy(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits and class targets, computed through ``log_softmax``.

    ``input``: logits of shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``. ``target``: class
    indices (integers) of the input's shape without the class axis, or class probabilities
    (floats) of the input's shape. ``weight``: one rescaling factor per class; with class
    indices the ``'mean'`` divides by the summed weights of the non-ignored targets, as PyTorch.
    ``ignore_index`` (class indices only) drops targets; ``label_smoothing`` mixes the targets
    with the uniform distribution, as PyTorch (weights included).

    >>> import tinynet as tn
    >>> round(cross_entropy(tn.tensor([[0.0, 0.0]]), tn.tensor([1])).item(), 6)
    0.693147
    """
    _check_class_options(reduction, label_smoothing, "cross_entropy")
    input = _class_input(input, "cross_entropy")
    targets = _targets(target, input, "cross_entropy", probabilities=True)
    weight = _class_weight(weight, input, "cross_entropy")
    if (
        input.ndim == 2
        and weight is None
        and not label_smoothing
        and not isinstance(targets, Tensor)
        and traced_check(_plain_class_targets, targets, input.shape[1], ignore_index)
    ):
        return ops.softmax_cross_entropy(input, targets, reduction)  # one fused node
    log_probs = ops.log_softmax(input, _class_axis(input))
    if isinstance(targets, Tensor):
        return _probability_loss(log_probs, targets, weight, reduction, label_smoothing)
    return _class_index_loss(
        log_probs, targets, weight, ignore_index, reduction, label_smoothing, "cross_entropy"
    )


def nll_loss(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood ``-weight[t] * input[n, t]`` of log-probabilities at classes ``t``.

    Shapes, ``weight`` and ``ignore_index`` as in ``cross_entropy`` (class indices only).

    >>> import numpy as np, tinynet as tn
    >>> nll_loss(tn.tensor(np.log([[0.25, 0.75]])), tn.tensor([1])).item()
    0.2876820724517809
    """
    _check_reduction(reduction)
    input = _class_input(input, "nll_loss")
    labels = _targets(target, input, "nll_loss", probabilities=False)
    weight = _class_weight(weight, input, "nll_loss")
    return _class_index_loss(input, labels, weight, ignore_index, reduction, 0.0, "nll_loss")


# -- binary classification ------------------------------------------------------------------------
def _clamped_log(probability: Tensor) -> Tensor:
    """``log(p)`` clamped below at -100 (as PyTorch), never evaluating ``log(0)``."""
    if traced_check(_all_positive, probability.data):
        return probability.log().clip(min=-100.0)
    positive = ops.gt(probability.detach(), 0.0)
    safe = ops.where(positive, probability, 1.0)
    return ops.where(positive, safe.log().clip(min=-100.0), -100.0)


def _all_positive(values: np.ndarray) -> bool:
    return bool((values > 0).all())


def _probabilities(values: np.ndarray) -> bool:
    return not values.size or bool(((values >= 0) & (values <= 1)).all())


def binary_cross_entropy(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    *,
    reduction: str = "mean",
) -> Tensor:
    """``-w (t log p + (1 - t) log(1 - p))`` for probabilities ``p``; logs clamped at -100.

    The gradient is the exact derivative of that value (zero where a log is clamped). From
    logits, ``binary_cross_entropy_with_logits`` is cheaper and more accurate.

    >>> import tinynet as tn
    >>> round(binary_cross_entropy(tn.tensor([0.8]), tn.tensor([1.0])).item(), 6)
    0.223144
    """
    _check_reduction(reduction)
    input = _float_input(input, "binary_cross_entropy")
    target = _float_target(target, input, "binary_cross_entropy")
    weight = _elementwise_factor(weight, input, "binary_cross_entropy", "weight")
    data = input.data
    if not traced_check(_probabilities, data):
        raise ArgumentError(
            "binary_cross_entropy: input must hold probabilities in [0, 1], got values from "
            f"{np.nanmin(data)} to {np.nanmax(data)}" + (" and NaN" if np.isnan(data).any() else "")
        )
    loss = -(target * _clamped_log(input) + (1.0 - target) * _clamped_log(1.0 - input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    *,
    reduction: str = "mean",
    pos_weight: TensorLike | None = None,
) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)``, computed from the logits without overflow.

    ``(1 - t) softplus(x) + pos_weight t softplus(-x)``, times ``weight``: both terms are
    non-negative, so no cancellation loses digits at large ``|x|``, and the derivative
    ``sigmoid(x) (1 - t) - pos_weight t sigmoid(-x)`` is smooth everywhere (x = 0 included).

    >>> import tinynet as tn
    >>> round(binary_cross_entropy_with_logits(tn.tensor([0.0]), tn.tensor([1.0])).item(), 6)
    0.693147
    """
    _check_reduction(reduction)
    input = _float_input(input, "binary_cross_entropy_with_logits")
    target = _float_target(target, input, "binary_cross_entropy_with_logits")
    weight = _elementwise_factor(weight, input, "binary_cross_entropy_with_logits", "weight")
    pos_weight = _elementwise_factor(
        pos_weight, input, "binary_cross_entropy_with_logits", "pos_weight"
    )
    if weight is None and pos_weight is None:
        return ops.binary_cross_entropy_with_logits(input, target, reduction)  # one fused node
    positive_part = target if pos_weight is None else target * pos_weight
    loss = (1.0 - target) * ops.softplus(input) + positive_part * ops.softplus(-input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# -- counts, margins and embeddings ---------------------------------------------------------------
def poisson_nll_loss(
    input: TensorLike,
    target: TensorLike,
    log_input: bool = True,
    full: bool = False,
    *,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> Tensor:
    """Poisson negative log-likelihood of counts ``target`` with rate ``exp(input)``
    (``log_input=True``: ``exp(input) - target * input``) or rate ``input``
    (``input - target * log(input + eps)``).

    ``full`` adds Stirling's ``target log(target) - target + 0.5 log(2 pi target)`` where
    ``target > 1`` (0 elsewhere). Its gradient to ``target`` is PyTorch's: 0 on ``(0, 1]``,
    NaN where ``target <= 0`` (PyTorch masks the term after computing it, and ``log`` there
    gives its backward ``0 * inf``).

    >>> import tinynet as tn
    >>> round(poisson_nll_loss(tn.tensor([0.0, 1.0]), tn.tensor([1.0, 2.0])).item(), 6)
    0.859141
    """
    _check_reduction(reduction)
    input = _float_input(input, "poisson_nll_loss")
    target = _float_target(target, input, "poisson_nll_loss")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        loss = loss + _StirlingTerm.apply(target)
    return _reduce(loss, reduction)


class _StirlingTerm(Function):
    """PyTorch's ``(t log t - t + 0.5 log(2 pi t)).masked_fill(t <= 1, 0)`` with its
    gradient at every order: its own derivatives where ``t > 1``, 0 on ``(0, 1]`` and NaN
    where ``t <= 0``. PyTorch gets that NaN from the zero gradient its mask passes times
    ``log``'s infinite (or NaN) derivative; tinynet's rule would make it 0, so the masked
    branch's slope is written out (``t * nan`` keeps it NaN at second order)."""

    @staticmethod
    def forward(ctx, t):
        above = t > 1
        safe = np.where(above, t, np.asarray(2.0, t.dtype))  # no log of a count <= 1
        term = safe * np.log(safe) - safe + 0.5 * np.log(safe * (2 * math.pi))
        return np.where(above, term, np.zeros((), t.dtype))

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.inputs
        above = traced_call(np.greater, t.data, 1.0)
        undefined = traced_call(np.less_equal, t.data, 0.0)
        safe = ops.where(above, t, 2.0)
        masked = ops.where(undefined, t * float("nan"), 0.0)
        return grad_output * ops.where(above, safe.log() + 0.5 / safe, masked)


def _sign_target(target, input: Tensor) -> Tensor:
    """A ``1``/``-1`` target as a Tensor of ``input``'s dtype (broadcasting as PyTorch)."""
    return ops.cast(as_tensor(target), input.dtype)


def margin_ranking_loss(
    input1: TensorLike,
    input2: TensorLike,
    target: TensorLike,
    margin: float = 0.0,
    *,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``: ``target = 1`` asks ``input1`` to
    rank above ``input2`` by ``margin``, ``-1`` below. At 0 the gradient passes (``clamp``).

    >>> import tinynet as tn
    >>> x1, x2, y = tn.tensor([1.0, 0.2]), tn.tensor([0.5, 0.5]), tn.tensor([1.0, 1.0])
    >>> [round(v, 6) for v in margin_ranking_loss(x1, x2, y, 0.1, reduction="none").tolist()]
    [0.0, 0.4]
    """
    _check_reduction(reduction)
    input1 = _float_input(input1, "margin_ranking_loss")
    input2, target = as_tensor(input2), as_tensor(target)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ShapeError(
            "margin_ranking_loss: input1, input2 and target must have the same number of "
            f"dimensions, got shapes {input1.shape}, {input2.shape} and {target.shape}"
        )
    sign = _sign_target(target, input1)
    return _reduce(ops.clip(-sign * (input1 - input2) + margin, 0.0), reduction)


def hinge_embedding_loss(
    input: TensorLike, target: TensorLike, margin: float = 1.0, *, reduction: str = "mean"
) -> Tensor:
    """``input`` where ``target = 1``, ``max(0, margin - input)`` where ``target = -1``
    (``input`` is typically a distance). At ``input = margin`` the gradient passes.

    >>> import tinynet as tn
    >>> loss = hinge_embedding_loss(tn.tensor([0.3, 0.4]), tn.tensor([1.0, -1.0]), reduction="none")
    >>> [round(v, 6) for v in loss.tolist()]
    [0.3, 0.6]
    """
    _check_reduction(reduction)
    input = _float_input(input, "hinge_embedding_loss")
    target = _sign_target(target, input)
    # PyTorch's sum of both sides: a target other than 1 and -1 gets both.
    below_margin = ops.where(ops.ne(target, 1.0), ops.clip(margin - input, 0.0), 0.0)
    itself = ops.where(ops.ne(target, -1.0), input, 0.0)
    return _reduce(below_margin + itself, reduction)


def soft_margin_loss(input: TensorLike, target: TensorLike, *, reduction: str = "mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))`` of ``1``/``-1`` targets,
    computed stably.

    >>> import tinynet as tn
    >>> round(soft_margin_loss(tn.tensor([0.0, 2.0]), tn.tensor([1.0, -1.0])).item(), 6)
    1.410038
    """
    _check_reduction(reduction)
    input = _float_input(input, "soft_margin_loss")
    target = _float_target(target, input, "soft_margin_loss")
    return _reduce(ops.softplus(-target * input), reduction)


def multilabel_soft_margin_loss(
    input: TensorLike, target: TensorLike, weight: TensorLike | None = None, *,
    reduction: str = "mean",
) -> Tensor:  # fmt: skip
    """Binary cross-entropy of each of ``C`` labels (``target`` 0 or 1) from the logits
    ``input``, averaged over the labels (the last axis) of each sample.

    ``weight`` rescales the labels (broadcast over the input).

    >>> import tinynet as tn
    >>> round(multilabel_soft_margin_loss(tn.tensor([[0.0, 2.0]]), tn.tensor([[1.0, 0.0]])).item(), 6)
    1.410038
    """
    _check_reduction(reduction)
    input = _float_input(input, "multilabel_soft_margin_loss")
    if input.ndim == 0:
        raise ShapeError(
            "multilabel_soft_margin_loss: input needs a label axis: shape (C,) or (N, C)"
        )
    target = _float_target(target, input, "multilabel_soft_margin_loss")
    loss = target * ops.softplus(-input) + (1.0 - target) * ops.softplus(input)
    factor = _elementwise_factor(weight, input, "multilabel_soft_margin_loss", "weight")
    if factor is not None:
        loss = loss * factor
    return _reduce(loss.mean(-1), reduction)


def multi_margin_loss(
    input: TensorLike,
    target: TensorLike,
    p: int = 1,
    margin: float = 1.0,
    weight: TensorLike | None = None,
    *,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss: for each sample, ``sum over i != y of
    max(0, margin - input[y] + input[i])**p / C`` for class-index targets ``y``.

    ``p``: 1 or 2. ``weight`` (one per class) scales each sample's terms by
    ``weight[y]``. At a hinge of exactly 0 the gradient is 0 (PyTorch's ``z > 0``).

    >>> import numpy as np, tinynet as tn
    >>> round(multi_margin_loss(tn.tensor([[0.1, 0.2, 0.4, 0.8]]), np.array([3])).item(), 6)
    0.325
    """
    _check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    input = _class_input(input, "multi_margin_loss")
    if input.ndim > 2:
        raise ShapeError(
            f"multi_margin_loss: expected input of shape (C,) or (N, C), got shape {input.shape}"
        )
    target = _targets(target, input, "multi_margin_loss", probabilities=False)
    assert isinstance(target, np.ndarray)  # class indices: probabilities are not accepted
    n_classes = input.shape[-1]
    if not traced_check(_all_classes, target, n_classes):
        _check_class_range(target, None, n_classes, "multi_margin_loss")
    picked = input[_gather_index(target)]
    hinge = ops.relu(margin - picked.reshape(*picked.shape, 1) + input)
    if p == 2:
        hinge = hinge * hinge
    class_weight = _class_weight(weight, input, "multi_margin_loss")
    # NumPy work on the targets goes through traced_call, so tn.compile replays it per batch.
    scale = traced_call(_other_classes, target, n_classes, class_weight, input.dtype)
    return _reduce((hinge * Tensor.wrap(scale)).mean(-1), reduction)


def _all_classes(target: np.ndarray, n_classes: int) -> bool:
    return bool(((target >= 0) & (target < n_classes)).all())


def _other_classes(target: np.ndarray, n_classes: int, weight, dtype) -> np.ndarray:
    """``(*target.shape, n_classes)``: 0 at each sample's target class, elsewhere 1 or, with
    class weights, the target class's weight."""
    others = (np.arange(n_classes) != target[..., None]).astype(dtype)
    return others if weight is None else others * weight[target][..., None]


def cosine_embedding_loss(
    input1: TensorLike,
    input2: TensorLike,
    target: TensorLike,
    margin: float = 0.0,
    *,
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos(input1, input2)`` where ``target = 1``, ``max(0, cos - margin)`` where
    ``target = -1``, for ``(N, D)`` inputs and ``(N,)`` targets (or ``(D,)`` and ``()``).

    The cosine is PyTorch's: each squared norm gets ``1e-12`` added before the square root.
    At ``cos = margin`` the gradient passes (``clamp``).

    >>> import tinynet as tn
    >>> x1, x2 = tn.tensor([[1.0, 0.0], [1.0, 0.0]]), tn.tensor([[1.0, 1.0], [0.0, 1.0]])
    >>> loss = cosine_embedding_loss(x1, x2, tn.tensor([1.0, -1.0]), reduction="none")
    >>> [round(v, 6) for v in loss.tolist()]
    [0.292893, 0.0]
    """
    _check_reduction(reduction)
    input1 = _float_input(input1, "cosine_embedding_loss")
    input2, target = as_tensor(input2), as_tensor(target)
    if target.ndim > 1 or input1.ndim != target.ndim + 1 or input2.ndim != input1.ndim:
        raise ShapeError(
            "cosine_embedding_loss: expected inputs of shape (N, D) with a target of shape "
            f"(N,), or (D,) with a 0-D target; got shapes {input1.shape}, {input2.shape} and "
            f"target {target.shape}"
        )
    product = (input1 * input2).sum(-1)
    squares = ((input1 * input1).sum(-1) + 1e-12) * ((input2 * input2).sum(-1) + 1e-12)
    cosine = product / squares.sqrt()
    target = _sign_target(target, input1)
    similar = ops.where(ops.eq(target, 1.0), 1.0 - cosine, 0.0)
    dissimilar = ops.where(ops.eq(target, -1.0), ops.clip(cosine - margin, 0.0), 0.0)
    return _reduce(similar + dissimilar, reduction)


def triplet_margin_loss(
    anchor: TensorLike,
    positive: TensorLike,
    negative: TensorLike,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    *,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, d(anchor, positive) - d(anchor, negative) + margin)`` with ``d`` the
    ``pairwise_distance`` (``p``, ``eps``); ``swap`` takes the smaller of
    ``d(anchor, negative)`` and ``d(positive, negative)``. At 0 the gradient passes.

    >>> import tinynet as tn
    >>> a, b, c = tn.tensor([[0.0, 0.0]]), tn.tensor([[3.0, 4.0]]), tn.tensor([[1.0, 0.0]])
    >>> round(triplet_margin_loss(a, b, c).item(), 4)
    5.0
    """
    _check_reduction(reduction)
    anchor = _float_input(anchor, "triplet_margin_loss")
    positive, negative = as_tensor(positive), as_tensor(negative)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeError(
            "triplet_margin_loss: anchor, positive and negative must have the same number of "
            f"dimensions, got shapes {anchor.shape}, {positive.shape} and {negative.shape}"
        )
    to_positive = _composite.pairwise_distance(anchor, positive, p, eps)
    to_negative = _composite.pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = ops.minimum(
            to_negative, _composite.pairwise_distance(positive, negative, p, eps)
        )
    return _reduce(ops.clip(to_positive - to_negative + margin, 0.0), reduction)


# -- modules ------------------------------------------------------------------------------------
class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))


def _buffer(value):
    return value if value is None or isinstance(value, Tensor) else Tensor(value)


class MSELoss(_Loss):
    """Mean squared error; see ``mse_loss``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.MSELoss(reduction="sum")(tn.tensor([1.0, 2.0]), tn.tensor([0.0, 0.0])).item()
    5.0
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input, target) -> Tensor:
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error; see ``l1_loss``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.L1Loss()(tn.tensor([1.0, -3.0]), tn.tensor([0.0, 0.0])).item()
    2.0
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input, target) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss, quadratic below ``delta`` and linear above; see ``huber_loss``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.HuberLoss(delta=2.0)(tn.tensor([3.0]), tn.tensor([0.0])).item()
    4.0
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        if not delta > 0:
            raise ArgumentError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = delta

    def forward(self, input, target) -> Tensor:
        return huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [super().extra_repr(), f"delta={self.delta}"]))


class SmoothL1Loss(_Loss):
    """Smooth L1 loss, quadratic below ``beta`` and linear above; see ``smooth_l1_loss``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.SmoothL1Loss(beta=2.0)(tn.tensor([3.0]), tn.tensor([0.0])).item()
    2.0
    """

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        if beta < 0:
            raise RuntimeError(f"SmoothL1Loss: beta must be non-negative, got {beta}")
        self.beta = beta

    def forward(self, input, target) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [super().extra_repr(), f"beta={self.beta}"]))


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of log-probabilities; see ``kl_div``.

    >>> import numpy as np, tinynet as tn, tinynet.nn as nn
    >>> loss = nn.KLDivLoss(reduction="batchmean", log_target=True)
    >>> loss(tn.tensor(np.log([[0.5, 0.5]])), tn.tensor(np.log([[0.5, 0.5]]))).item()
    0.0
    """

    def __init__(self, *, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__("mean" if reduction == "batchmean" else reduction)
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input, target) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def extra_repr(self) -> str:
        log_target = "log_target=True" if self.log_target else ""
        return ", ".join(filter(None, [super().extra_repr(), log_target]))


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with predicted variances; see ``gaussian_nll_loss``.

    Called as ``loss(input, target, var)``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> round(nn.GaussianNLLLoss()(tn.tensor([3.0]), tn.tensor([1.0]), tn.tensor([2.0])).item(), 6)
    1.346574
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var) -> Tensor:
        return gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)

    def extra_repr(self) -> str:
        full = "full=True" if self.full else ""
        return ", ".join(filter(None, [super().extra_repr(), full, f"eps={self.eps}"]))


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy from logits; see ``cross_entropy``. ``weight`` is a buffer.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> round(loss(tn.tensor([[0.0, 0.0]]), tn.tensor([0])).item(), 6)
    0.693147
    """

    def __init__(
        self,
        weight=None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        _check_class_options(reduction, label_smoothing, "CrossEntropyLoss")
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target) -> Tensor:
        return cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities; see ``nll_loss``. ``weight`` is a buffer.

    >>> import numpy as np, tinynet as tn, tinynet.nn as nn
    >>> nn.NLLLoss()(tn.tensor(np.log([[0.5, 0.5]])), tn.tensor([0])).item()
    0.6931471805599453
    """

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target) -> Tensor:
        return nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities; see ``binary_cross_entropy``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> round(nn.BCELoss()(tn.tensor([0.5]), tn.tensor([1.0])).item(), 6)
    0.693147
    """

    def __init__(self, weight=None, *, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)

    def forward(self, input, target) -> Tensor:
        return binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy from logits; see ``binary_cross_entropy_with_logits``.

    ``weight`` and ``pos_weight`` are buffers.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> loss = nn.BCEWithLogitsLoss(pos_weight=tn.tensor([2.0]))
    >>> round(loss(tn.tensor([0.0]), tn.tensor([1.0])).item(), 6)
    1.386294
    """

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input, target) -> Tensor:
        return binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood; see ``poisson_nll_loss``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> round(nn.PoissonNLLLoss()(tn.tensor([0.0, 1.0]), tn.tensor([1.0, 2.0])).item(), 6)
    0.859141
    """

    def __init__(
        self, log_input: bool = True, full: bool = False, *, eps: float = 1e-8,
        reduction: str = "mean",
    ) -> None:  # fmt: skip
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target) -> Tensor:
        return poisson_nll_loss(
            log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction
        )


class MarginRankingLoss(_Loss):
    """Ranking hinge ``max(0, -target * (input1 - input2) + margin)``; see
    ``margin_ranking_loss``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.MarginRankingLoss(0.5)(tn.tensor([1.0]), tn.tensor([1.0]), tn.tensor([1.0])).item()
    0.5
    """

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1, input2, target) -> Tensor:
        return margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``input`` for ``target = 1``, ``max(0, margin - input)`` for ``-1``; see
    ``hinge_embedding_loss``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.HingeEmbeddingLoss(2.0)(tn.tensor([0.5]), tn.tensor([-1.0])).item()
    1.5
    """

    def __init__(self, margin: float = 1.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input, target) -> Tensor:
        return hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss of ``1``/``-1`` targets; see ``soft_margin_loss``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> round(nn.SoftMarginLoss()(tn.tensor([0.0]), tn.tensor([1.0])).item(), 6)
    0.693147
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input, target) -> Tensor:
        return soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Per-label binary cross-entropy from logits, averaged over the labels; see
    ``multilabel_soft_margin_loss``. ``weight`` is a buffer, as PyTorch's.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> round(nn.MultiLabelSoftMarginLoss()(tn.tensor([[0.0]]), tn.tensor([[1.0]])).item(), 6)
    0.693147
    """

    def __init__(self, weight=None, *, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)

    def forward(self, input, target) -> Tensor:
        return multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss of class-index targets; see ``multi_margin_loss``.

    >>> import numpy as np, tinynet as tn, tinynet.nn as nn
    >>> round(nn.MultiMarginLoss()(tn.tensor([[0.1, 0.2, 0.4, 0.8]]), np.array([3])).item(), 6)
    0.325
    """

    def __init__(
        self, p: int = 1, margin: float = 1.0, weight=None, *, reduction: str = "mean"
    ) -> None:
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got {p}")
        super().__init__(weight, reduction)
        self.p, self.margin = p, margin

    def forward(self, input, target) -> Tensor:
        return multi_margin_loss(
            input, target, self.p, self.margin, self.weight, reduction=self.reduction
        )


class CosineEmbeddingLoss(_Loss):
    """``1 - cos`` for ``target = 1``, ``max(0, cos - margin)`` for ``-1``; see
    ``cosine_embedding_loss``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> x = tn.tensor([[1.0, 0.0]])
    >>> round(nn.CosineEmbeddingLoss()(x, x, tn.tensor([1.0])).item(), 6)
    0.0
    """

    def __init__(self, margin: float = 0.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1, input2, target) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``max(0, d(a, p) - d(a, n) + margin)``; see ``triplet_margin_loss``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> a, b, c = tn.tensor([[0.0, 0.0]]), tn.tensor([[3.0, 4.0]]), tn.tensor([[1.0, 0.0]])
    >>> round(nn.TripletMarginLoss(margin=0.5)(a, b, c).item(), 4)
    4.5
    """

    def __init__(
        self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False, *,
        reduction: str = "mean",
    ) -> None:  # fmt: skip
        super().__init__(reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative) -> Tensor:
        return triplet_margin_loss(
            anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
            reduction=self.reduction,
        )  # fmt: skip
