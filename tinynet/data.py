"""Datasets and mini-batches, as ``torch.utils.data``: TensorDataset, DataLoader, random_split.

>>> import numpy as np, tinynet as tn
>>> from tinynet.data import DataLoader, TensorDataset
>>> data = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> [(x.shape, y.tolist()) for x, y in DataLoader(data, batch_size=2)]
[((2, 2), [0, 1]), ((2, 2), [2, 3]), ((1, 2), [4])]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from tinynet import _random
from tinynet.functional import stack
from tinynet.tensor import Tensor

__all__ = ["DataLoader", "Subset", "TensorDataset", "random_split"]


class TensorDataset:
    """Samples are rows: item ``i`` is ``tuple(t[i] for t in tensors)``.

    Tensors or array-likes (NumPy arrays keep their dtype and memory), all with the same
    first dimension.

    >>> import numpy as np
    >>> data = TensorDataset(np.zeros((3, 2)), np.arange(3))
    >>> len(data), data[2][1].item()
    (3, 2)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        lengths = {t.shape[0] if t.ndim else None for t in self.tensors}
        if None in lengths or len(lengths) != 1:
            shapes = ", ".join(str(t.shape) for t in self.tensors)
            raise ValueError(
                f"TensorDataset: every tensor needs the same first dimension, got shapes {shapes}"
            )

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset:
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices: Sequence[int] | np.ndarray):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[self.indices[np.asarray(index)]]
        return self.dataset[int(self.indices[index])]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths: Sequence, rng=None) -> list[Subset]:
    """Split ``dataset`` at random into subsets of ``lengths`` (counts, or fractions summing to 1).

    Fractions are floored and the remainder handed out one by one from the first subset,
    as PyTorch does. ``rng``: a seed or Generator (None: the global generator).

    >>> train, test = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], rng=0)
    >>> len(train), len(test)
    (8, 2)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(v, float) for v in lengths) and math.isclose(sum(lengths), 1):
        if any(v < 0 for v in lengths):
            raise ValueError(f"random_split: fractions must be non-negative, got {lengths}")
        counts = [math.floor(n * v) for v in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(v, (int, np.integer)) or v < 0 for v in lengths) or sum(lengths) != n:
        raise ValueError(
            f"random_split: lengths must be non-negative ints summing to the dataset's length "
            f"({n}) or fractions summing to 1, got {lengths}"
        )
    order = _random.as_generator(rng).permutation(n)
    bounds = np.cumsum([0, *lengths])
    return [Subset(dataset, order[start:end]) for start, end in zip(bounds[:-1], bounds[1:])]


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of Tensors.

    ``shuffle`` draws a new order at every pass from ``rng`` (a seed or Generator, drawn
    from once per pass; None: the global generator seeded by ``tn.manual_seed``).
    ``drop_last`` skips a final short batch; ``batch_size=None`` yields single samples.
    Samples that are tuples (or dicts) are batched field by field: Tensors and arrays are
    stacked, Python ints become int64 and floats float64, as PyTorch's default collate.
    Loading is single-process: ``num_workers=0`` and ``pin_memory=False`` are accepted (the
    spellings PyTorch code passes); other values raise ``ValueError``.

    >>> import numpy as np
    >>> loader = DataLoader(TensorDataset(np.arange(5)), batch_size=2, drop_last=True)
    >>> len(loader), [batch.tolist() for (batch,) in loader]
    (2, [[0, 1], [2, 3]])
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        rng=None,
        *,
        num_workers: int = 0,
        pin_memory: bool = False,
    ):
        if num_workers != 0 or pin_memory:
            raise ValueError(
                "DataLoader loads in the main process only (CPU, single process): pass "
                f"num_workers=0 and pin_memory=False, got num_workers={num_workers!r}, "
                f"pin_memory={pin_memory!r}"
            )
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
            or batch_size <= 0
        ):  # fmt: skip
            raise ValueError(f"batch_size should be a positive integer or None, got {batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = None if rng is None else _random.as_generator(rng)

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator:
        n = len(self.dataset)
        if self.shuffle:
            generator = self.generator or _random.default_generator()
            order = generator.permutation(n)
        else:
            order = np.arange(n)
        if self.batch_size is None:
            for index in order:
                yield self.dataset[int(index)]
            return
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield self._batch(order[start : start + self.batch_size])

    def _batch(self, indices: np.ndarray):
        if _batch_indexable(self.dataset):  # one indexing op per tensor
            return self.dataset[indices]
        return collate([self.dataset[int(i)] for i in indices])


def _batch_indexable(dataset) -> bool:
    """True for a TensorDataset, or subsets of one: an index array picks a whole batch."""
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return isinstance(dataset, TensorDataset)


def collate(samples: list):
    """Batch a list of samples field by field (see ``DataLoader``)."""
    first = samples[0]
    if isinstance(first, Tensor):
        return stack(samples)
    if isinstance(first, np.ndarray):
        return Tensor(np.stack(samples))
    if isinstance(first, (bool, np.bool_)):
        return Tensor(np.asarray(samples, dtype=np.bool_))
    if isinstance(first, (int, np.integer)):
        return Tensor(np.asarray(samples, dtype=np.int64))
    if isinstance(first, (float, np.floating)):
        return Tensor(np.asarray(samples, dtype=np.float64))
    if isinstance(first, dict):
        return {key: collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        return type(first)(collate(list(field)) for field in zip(*samples))
    raise TypeError(
        f"DataLoader cannot batch samples of type {type(first).__name__}; return Tensors, "
        "arrays, numbers, or tuples/dicts of them from the dataset"
    )
