"""Parameter initialization, in place on ``tensor.data``, with PyTorch's formulas.

Every random initializer takes ``rng=`` (an int seed or a ``numpy.random.Generator``).

>>> import tinynet as tn, tinynet.nn as nn
>>> w = tn.empty(3, 4)
>>> _ = nn.init.xavier_uniform_(w, rng=0)
>>> bool((abs(w.data) <= (6 / 7) ** 0.5).all())
True
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tinynet._random import as_generator
from tinynet.tensor import Tensor

_LINEAR_GAINS = {
    "linear",
    "identity",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
}


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for ``nonlinearity`` (PyTorch's table).

    >>> calculate_gain("relu") == 2 ** 0.5, calculate_gain("tanh")
    (True, 1.6666666666666667)
    """
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            negative_slope = float(param)
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _array(tensor) -> np.ndarray:
    if isinstance(tensor, Tensor):
        return tensor.data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"expected a Tensor (or ndarray) to fill, got {type(tensor).__name__}")


def _calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *receptive_field)``."""
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    _array(tensor)[...] = values
    return tensor


def uniform_(tensor, a: float = 0.0, b: float = 1.0, rng=None):
    """Fill with samples of U(a, b).

    >>> import tinynet as tn
    >>> w = uniform_(tn.empty(2, 2), -1, 1, rng=0)
    """
    array = _array(tensor)
    return _fill(tensor, as_generator(rng).uniform(a, b, array.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, rng=None):
    """Fill with samples of N(mean, std**2).

    >>> import tinynet as tn
    >>> w = normal_(tn.empty(2, 2), std=0.1, rng=0)
    """
    array = _array(tensor)
    return _fill(tensor, as_generator(rng).normal(mean, std, array.shape))


def constant_(tensor, val: float):
    """Fill with ``val``.

    >>> import tinynet as tn
    >>> constant_(tn.empty(2), 0.5).tolist()
    [0.5, 0.5]
    """
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill with zeros."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with ones."""
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain: float = 1.0, rng=None):
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    >>> import tinynet as tn
    >>> w = xavier_uniform_(tn.empty(3, 5), rng=0)
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, rng=rng)


def xavier_normal_(tensor, gain: float = 1.0, rng=None):
    """Glorot normal: N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    >>> import tinynet as tn
    >>> w = xavier_normal_(tn.empty(3, 5), rng=0)
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, rng=rng)


def _kaiming_std(tensor, a, mode, nonlinearity) -> float | None:
    if _array(tensor).size == 0:
        return None  # nothing to fill (PyTorch warns and returns)
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng=None
):
    """He uniform: U(-b, b) with ``b = gain(nonlinearity, a) * sqrt(3 / fan)``.

    >>> import tinynet as tn
    >>> w = kaiming_uniform_(tn.empty(4, 3), nonlinearity="relu", rng=0)
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, rng=rng)


def kaiming_normal_(
    tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng=None
):
    """He normal: N(0, std**2) with ``std = gain(nonlinearity, a) / sqrt(fan)``.

    >>> import tinynet as tn
    >>> w = kaiming_normal_(tn.empty(4, 3), nonlinearity="relu", rng=0)
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, rng=rng)
