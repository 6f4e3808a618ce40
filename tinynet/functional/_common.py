"""Helpers the functional modules share: integer index arrays, index tuples along an axis."""

from __future__ import annotations

import numpy as np

from tinynet.autograd import traced_call, traced_check
from tinynet.errors import DTypeError
from tinynet.tensor import Tensor


def index_array(index, name: str) -> np.ndarray:
    index = np.asarray(index.data if isinstance(index, Tensor) else index)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"{name}: index must be an integer tensor, got dtype {index.dtype}")
    if index.dtype == np.int64:
        return index
    return traced_call(_as_int64, index)  # a tn.compile replay converts each call's index


def _as_int64(index: np.ndarray) -> np.ndarray:
    return index.astype(np.int64)


def along(index: np.ndarray, axis: int, sizes: tuple) -> tuple:
    """The NumPy index tuple picking ``index`` along ``axis`` and position elsewhere.

    ``sizes`` are the input's lengths: an axis of length 1 there is broadcast (index 0).
    """
    parts = []
    for d, n in enumerate(index.shape):
        if d == axis:
            parts.append(index)
            continue
        shape = [1] * index.ndim
        shape[d] = n
        positions = np.arange(n) if sizes[d] != 1 else np.zeros(n, np.int64)
        parts.append(positions.reshape(shape))
    return tuple(parts)


def _within(index: np.ndarray, n: int) -> bool:
    return not index.size or (index.min() >= -n and index.max() < n)


def check_bounds(index: np.ndarray, n: int, name: str, dim) -> None:
    """Raise PyTorch's IndexError for an index outside ``[-n, n)``; a ``tn.compile`` replay
    checks each call's index (and runs eagerly, raising, when one is out of bounds)."""
    if not traced_check(_within, index, n):
        bad = index.min() if index.min() < -n else index.max()
        raise IndexError(f"{name}: index {bad} is out of bounds for dimension {dim} of size {n}")


def int_tensor(array) -> Tensor:
    """``array`` as an int64 Tensor (a 0-d one from a number); an int64 array is kept, so
    one that ``traced_call`` made stays each replay's."""
    if isinstance(array, np.ndarray) and array.dtype == np.int64:
        return Tensor.wrap(array)
    return Tensor.wrap(traced_call(_as_int64, np.asarray(array)))
