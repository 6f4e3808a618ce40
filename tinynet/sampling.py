"""Draws whose distribution is given by tensors: ``normal``, ``bernoulli``, ``multinomial``,
and ``randperm``, with PyTorch's arguments.

Each takes ``generator=`` (PyTorch's name) or ``rng=`` (tinynet's): a seed or a
``numpy.random.Generator``; with neither it draws from the global generator that
``tn.manual_seed`` seeds. Samples are constants: no gradient flows through a draw (write
``mean + std * tn.randn_like(mean)`` for a reparameterized one). Each draw is NumPy work that
``tn.compile`` records (``traced_call``), so a compiled function draws afresh at every call,
as eagerly.
"""

from __future__ import annotations

import operator

import numpy as np

from tinynet import _device, _dtype
from tinynet._random import generator_of
from tinynet.autograd import traced_call, traced_check
from tinynet.errors import DTypeError
from tinynet.tensor import Tensor


def randperm(
    n: int,
    *,
    generator=None,
    dtype=np.int64,
    requires_grad: bool = False,
    device=None,
    rng=None,
) -> Tensor:
    """A random permutation of ``0 .. n - 1`` (``torch.randperm``).

    >>> import tinynet as tn
    >>> sorted(tn.randperm(4, generator=0).tolist())
    [0, 1, 2, 3]
    """
    _device.check(device)
    if isinstance(n, bool):
        raise TypeError(f"randperm: n must be an int, got {n!r}")
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    dtype = _dtype.check_supported(np.dtype(dtype))
    return Tensor(traced_call(_permutation, generator_of(generator, rng), n, dtype), requires_grad)


def _permutation(draw: np.random.Generator, n: int, dtype: np.dtype) -> np.ndarray:
    return draw.permutation(n).astype(dtype)


def _floating(value, name: str) -> np.ndarray:
    array = value.data if isinstance(value, Tensor) else _dtype.as_array(value)
    if array.dtype.kind != "f":
        raise DTypeError(f"{name}: expected a floating tensor, got dtype {array.dtype}")
    return array


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, rng=None) -> Tensor:
    """Normal samples with elementwise ``mean`` and ``std`` (``torch.normal``).

    Either may be a tensor (the shapes broadcast; the result takes the tensors' dtype); with
    two numbers, ``size`` gives the shape (and ``dtype`` the dtype, the default otherwise).

    >>> import tinynet as tn
    >>> tn.normal(tn.zeros(3), 1.0, generator=0).shape
    (3,)
    >>> tn.normal(2.0, 0.5, size=(2, 2), generator=0).dtype
    dtype('float32')
    """
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors:
        if size is not None:
            raise TypeError("normal: size= is only for a number mean and std; got a tensor")
        m, s = _floating(mean, "normal"), _floating(std, "normal")
        target = np.result_type(*(t.data.dtype for t in tensors))
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    else:
        if size is None:
            raise TypeError("normal: with a number mean and std, pass size= (the shape)")
        m, s = np.asarray(mean, np.float64), np.asarray(std, np.float64)
        target = _dtype.get_default_dtype() if dtype is None else np.dtype(dtype)
        shape = (size,) if isinstance(size, int) else tuple(size)
    if not traced_check(_non_negative, np.asarray(s)):  # checked again at each replay
        raise RuntimeError("normal expects std >= 0.0")
    return Tensor.wrap(traced_call(_normal, generator_of(generator, rng), m, s, shape, target))


def _non_negative(values: np.ndarray) -> bool:
    return not (values < 0).any()


def _normal(draw, mean, std, shape: tuple, dtype: np.dtype) -> np.ndarray:
    return np.asarray(mean + std * draw.standard_normal(shape)).astype(dtype)


def bernoulli(input, p: float | None = None, *, generator=None, rng=None) -> Tensor:
    """0 or 1 in ``input``'s shape and dtype, 1 with the probability given by each element
    of ``input`` (or by ``p`` for all of them), as ``torch.bernoulli``.

    >>> import tinynet as tn
    >>> tn.bernoulli(tn.tensor([0.0, 1.0]), generator=0).tolist()
    [0.0, 1.0]
    """
    probabilities = _floating(input, "bernoulli")
    if p is not None:
        probabilities = np.full(probabilities.shape, p, probabilities.dtype)
    if not traced_check(_probabilities, probabilities):  # checked again at each replay
        raise RuntimeError("bernoulli expects all probabilities to be in [0, 1]")
    return Tensor.wrap(traced_call(_bernoulli, generator_of(generator, rng), probabilities))


def _probabilities(values: np.ndarray) -> bool:
    return bool(((values >= 0) & (values <= 1)).all())


def _bernoulli(draw: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    return (draw.random(probabilities.shape) < probabilities).astype(probabilities.dtype)


def _check_weights(weights: np.ndarray, num_samples: int, replacement: bool) -> None:
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {weights.shape}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples ({num_samples})")
    if not replacement and num_samples > weights.shape[-1]:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
            f"replacement ({num_samples} > {weights.shape[-1]})"
        )
    # The values are checked again at each tn.compile replay (which runs eagerly, raising,
    # when one fails)
    if not traced_check(_valid_weights, weights, num_samples, replacement):
        _refuse_weights(weights.astype(np.float64), num_samples, replacement)


def _valid_weights(weights: np.ndarray, num_samples: int, replacement: bool) -> bool:
    try:
        _refuse_weights(weights.astype(np.float64), num_samples, replacement)
    except RuntimeError:
        return False
    return True


def _refuse_weights(weights: np.ndarray, num_samples: int, replacement: bool) -> None:
    """PyTorch's RuntimeError for weights no distribution can be drawn from."""
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise RuntimeError(
            "multinomial: probability tensor contains either inf, nan or element < 0"
        )
    rows = weights.reshape(-1, weights.shape[-1])
    if (rows.sum(-1) <= 0).any():
        raise RuntimeError(
            "multinomial: invalid multinomial distribution (sum of probabilities <= 0)"
        )
    if not replacement and ((rows > 0).sum(-1) < num_samples).any():
        raise RuntimeError(
            "multinomial: invalid multinomial distribution (with replacement=False, not enough "
            "non-negative category to sample)"
        )


def _with_replacement(rows: np.ndarray, num_samples: int, draw) -> np.ndarray:
    # Inverse CDF: category k owns [cdf[k-1], cdf[k]); an empty one is never hit. From the
    # last positive weight on, cdf is exactly 1, so rounding never picks a trailing zero.
    cdf = np.cumsum(rows, axis=-1) / rows.sum(-1, keepdims=True)
    last = rows.shape[-1] - 1 - np.argmax(rows[:, ::-1] > 0, axis=-1)
    cdf[np.arange(rows.shape[-1]) >= last[:, None]] = 1.0
    uniforms = draw.random((rows.shape[0], num_samples))
    return np.stack([np.searchsorted(c, u, side="right") for c, u in zip(cdf, uniforms)])


def multinomial(
    input, num_samples: int, replacement: bool = False, *, generator=None, rng=None
) -> Tensor:
    """Category indices drawn with probabilities proportional to the non-negative weights
    in the last axis of ``input`` (1-D, or 2-D: one row per draw), as ``torch.multinomial``:
    int64 of shape ``(num_samples,)`` or ``(rows, num_samples)``.

    Without replacement each row's samples are distinct, in the order drawn (exponential
    keys: ``argsort(-w / e)``, ``e`` standard exponential, the sequential draw's law).

    >>> import tinynet as tn
    >>> tn.multinomial(tn.tensor([0.0, 5.0, 0.0]), 2, replacement=True, generator=0).tolist()
    [1, 1]
    """
    weights = input.data if isinstance(input, Tensor) else np.asarray(input, np.float64)
    _check_weights(weights, num_samples, replacement)
    draw = generator_of(generator, rng)
    return Tensor.wrap(traced_call(_multinomial, draw, weights, num_samples, replacement))


def _multinomial(draw, weights: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
    rows = weights.astype(np.float64).reshape(-1, weights.shape[-1])
    if replacement:
        picked = _with_replacement(rows, num_samples, draw)
    else:
        keys = rows / draw.standard_exponential(rows.shape)
        picked = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    return picked.reshape(*weights.shape[:-1], num_samples).astype(np.int64)
