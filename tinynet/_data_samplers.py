"""Samplers, as ``torch.utils.data``'s: which indices a DataLoader loads, in which order.

A sampler is an iterable of dataset indices (Python ints) with a ``__len__``; a batch
sampler yields lists of them. The random ones draw from ``generator`` (a seed or a
``numpy.random.Generator``) or, without one, from tinynet's global generator at each pass,
so ``tn.manual_seed`` makes them reproducible. Each pass is drawn when ``iter`` is called.

>>> import tinynet as tn
>>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
[[0, 1], [2, 3], [4]]
>>> _ = tn.manual_seed(0); first = list(RandomSampler(range(5)))
>>> _ = tn.manual_seed(0); first == list(RandomSampler(range(5)))
True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Generic, TypeVar

import numpy as np

from tinynet import _random
from tinynet.errors import ShapeError
from tinynet.tensor import Tensor

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]

T_co = TypeVar("T_co", covariant=True)


def _optional_generator(generator) -> np.random.Generator | None:
    """None stays None (the global generator, looked up at each pass); else a Generator."""
    return None if generator is None else _random.as_generator(generator)


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


def _flag(name: str, value, error: type[Exception]) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise error(f"{name} should be a boolean value, but got {name}={value!r}")
    return bool(value)


class Sampler(Generic[T_co]):
    """Base class of samplers: subclasses define ``__iter__`` (the indices of one pass)
    and, for ``len(loader)``, ``__len__``.

    >>> class Evens(Sampler):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(0, self.n, 2))
    >>> list(Evens(5))
    [0, 2, 4]
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError("Sampler subclasses must define __iter__")


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``, in order.

    >>> list(SequentialSampler("abc"))
    [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """The indices of ``data_source`` in a random order, new at each pass.

    Without ``replacement``: a permutation (``num_samples`` above the length chains
    several, then part of one); with it, ``num_samples`` (default: the length) independent
    uniform draws. ``generator``: a seed or Generator, drawn from at every pass (None: the
    global one, see ``tn.manual_seed``).

    >>> import numpy as np
    >>> list(RandomSampler(range(4), generator=0)) == np.random.default_rng(0).permutation(4).tolist()
    True
    >>> len(RandomSampler(range(4), replacement=True, num_samples=10))
    10
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator=None,
    ) -> None:
        self.data_source = data_source
        self.replacement = _flag("replacement", replacement, TypeError)
        self._num_samples = None if num_samples is None else _positive_int(
            "num_samples", num_samples
        )  # fmt: skip
        self.generator = _optional_generator(generator)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, count = len(self.data_source), self.num_samples
        generator = self.generator or _random.default_generator()
        if n == 0:
            return iter(())
        if self.replacement:
            return iter(generator.integers(n, size=count).tolist())
        whole, rest = divmod(count, n)
        parts = [generator.permutation(n) for _ in range(whole)]
        if rest:
            parts.append(generator.permutation(n)[:rest])
        return iter(np.concatenate(parts).tolist() if len(parts) > 1 else parts[0].tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a random order (a new permutation at each pass).

    >>> sorted(SubsetRandomSampler([7, 3, 5], generator=1))
    [3, 5, 7]
    """

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = _optional_generator(generator)

    def __iter__(self) -> Iterator[int]:
        generator = self.generator or _random.default_generator()
        order = generator.permutation(len(self.indices))
        return iter([_as_index(self.indices[i]) for i in order])

    def __len__(self) -> int:
        return len(self.indices)


def _as_index(value):
    return int(value) if isinstance(value, np.integer) else value


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices in ``range(len(weights))``, index ``i`` drawn with probability
    ``weights[i] / sum(weights)`` (the weights need not sum to 1), with ``replacement``
    (default) or without (each index at most once, the next drawn among those left).

    >>> sampler = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=6, generator=0)
    >>> len(sampler), 0 in list(sampler)
    (6, False)
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator=None,
    ) -> None:
        self.num_samples = _positive_int("num_samples", num_samples)
        self.replacement = _flag("replacement", replacement, ValueError)
        values = np.asarray(weights.data if isinstance(weights, Tensor) else weights, np.float64)
        if values.ndim != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {values.shape}"
            )
        if not np.isfinite(values).all() or (values < 0).any() or values.sum() <= 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be finite and non-negative with a "
                f"positive sum, got {values.tolist()}"
            )
        if not self.replacement and num_samples > np.count_nonzero(values):
            raise ShapeError(  # PyTorch's multinomial raises a RuntimeError; a ValueError here
                f"WeightedRandomSampler: cannot draw num_samples={num_samples} indices without "
                f"replacement from {np.count_nonzero(values)} with positive weight; lower "
                "num_samples or pass replacement=True"
            )
        self.weights = values
        self.generator = _optional_generator(generator)

    def __iter__(self) -> Iterator[int]:
        generator = self.generator or _random.default_generator()
        probabilities = self.weights / self.weights.sum()
        drawn = generator.choice(
            len(probabilities), size=self.num_samples, replace=self.replacement, p=probabilities
        )
        return iter(drawn.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Group the indices of ``sampler`` (any iterable of indices) into lists of
    ``batch_size``; ``drop_last`` skips a final shorter one.

    >>> list(BatchSampler(range(7), batch_size=3, drop_last=True))
    [[0, 1, 2], [3, 4, 5]]
    """

    def __init__(self, sampler: Iterable, batch_size: int, drop_last: bool) -> None:
        self.sampler = sampler
        self.batch_size = _positive_int("batch_size", batch_size)
        self.drop_last = _flag("drop_last", drop_last, ValueError)

    def __iter__(self) -> Iterator[list]:
        # iter() now, not at the first batch: the pass's draws happen when it starts.
        return self._batches(iter(self.sampler))

    def _batches(self, indices: Iterator) -> Iterator[list]:
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
