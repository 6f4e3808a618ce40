"""Datasets and mini-batches, as ``torch.utils.data``: TensorDataset, IterableDataset,
DataLoader (in worker processes with ``num_workers > 0``), random_split.

>>> import numpy as np, tinynet as tn
>>> from tinynet.data import DataLoader, TensorDataset
>>> data = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> [(x.shape, y.tolist()) for x, y in DataLoader(data, batch_size=2)]
[((2, 2), [0, 1]), ((2, 2), [2, 3]), ((1, 2), [4])]
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from tinynet import _random
from tinynet._data_workers import WorkerInfo, WorkerPool, get_worker_info
from tinynet.functional import stack
from tinynet.tensor import Tensor

__all__ = [
    "DataLoader",
    "IterableDataset",
    "Subset",
    "TensorDataset",
    "WorkerInfo",
    "get_worker_info",
    "random_split",
]


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


class IterableDataset:
    """Base class of iterable-style datasets: subclasses define ``__iter__``, yielding samples.

    With ``num_workers > 0`` every worker iterates its own copy: use ``get_worker_info()``
    in ``__iter__`` to keep one part per worker, else each sample comes once per worker
    (as in PyTorch).

    >>> class Count(IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(5))
    >>> [batch.tolist() for batch in DataLoader(Count(), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError("IterableDataset subclasses must define __iter__")


_pin_memory_warned = [False]


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of Tensors.

    ``dataset``: map-style (``__len__`` and ``__getitem__``) or an ``IterableDataset``.
    ``shuffle`` draws a new order at every pass from ``rng`` (a seed or Generator, drawn
    from once per pass; None: the global generator seeded by ``tn.manual_seed``).
    ``drop_last`` skips a final short batch; ``batch_size=None`` yields single samples.
    Samples that are tuples (or dicts) are batched field by field: Tensors and arrays are
    stacked, Python ints become int64 and floats float64, as PyTorch's default collate;
    ``collate_fn(samples)`` replaces it.

    ``num_workers > 0`` loads in that many worker processes, as PyTorch's: the batches of a
    map-style dataset come in the order of ``num_workers=0``; ``worker_init_fn(worker_id)``
    runs once in each; worker ``i`` seeds ``tn.manual_seed``, ``random`` and NumPy's legacy
    global generator with ``base_seed + i`` (``base_seed`` drawn anew each pass from a
    stream spawned off ``rng``, so the shuffling is that of ``num_workers=0``);
    ``get_worker_info()`` tells a dataset which worker runs it. ``prefetch_factor``
    (default 2) batches per worker are loaded ahead, ``timeout`` (seconds, 0: none) bounds
    the wait for one, ``persistent_workers=True`` keeps the workers from one pass to the
    next, ``multiprocessing_context`` picks the start method (default ``forkserver``, or
    ``spawn`` where there is none): the dataset, ``collate_fn`` and ``worker_init_fn`` must
    pickle. ``pin_memory=True`` has no meaning on the CPU: it warns once and is ignored.

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
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context=None,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
    ):
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
            or batch_size <= 0
        ):  # fmt: skip
            raise ValueError(f"batch_size should be a positive integer or None, got {batch_size}")
        _check_workers(num_workers, timeout, prefetch_factor, persistent_workers)
        if isinstance(dataset, IterableDataset) and shuffle:
            raise ValueError(
                "DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                "shuffle=True (shuffle inside the dataset's __iter__)"
            )
        if pin_memory and not _pin_memory_warned[0]:
            _pin_memory_warned[0] = True
            warnings.warn(
                "pin_memory=True has no effect: tinynet runs on the CPU, where there is no "
                "device memory to pin",
                UserWarning,
                stacklevel=2,
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = None if rng is None else _random.as_generator(rng)
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn
        self.pin_memory = bool(pin_memory)
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self._workers: WorkerPool | None = None  # persistent workers, once started

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator:
        fetcher = _Fetcher(self.dataset, self.batch_size, self.drop_last, self.collate_fn)
        tasks = itertools.repeat(None) if fetcher.iterable else self._index_batches()
        if self.num_workers == 0:
            return _single_process(fetcher, tasks)
        workers = self._workers
        if workers is None or workers.closed:
            workers = WorkerPool(
                fetcher,
                self.num_workers,
                worker_init_fn=self.worker_init_fn,
                context=self.multiprocessing_context,
                prefetch_factor=self.prefetch_factor or 2,
                timeout=self.timeout,
                persistent=self.persistent_workers,
                base_seed=self._base_seed(),
            )
            if self.persistent_workers:
                self._workers = workers
        return workers.start_pass(tasks)

    def _index_batches(self) -> list:
        """The indices of each batch of this pass (a single index with ``batch_size=None``)."""
        n = len(self.dataset)
        if self.shuffle:
            generator = self.generator or _random.default_generator()
            order = generator.permutation(n)
        else:
            order = np.arange(n)
        if self.batch_size is None:
            return [int(index) for index in order]
        stop = n - n % self.batch_size if self.drop_last else n
        return [order[start : start + self.batch_size] for start in range(0, stop, self.batch_size)]

    def _base_seed(self) -> int:
        """The workers' base seed: from a stream spawned off the loader's generator, so the
        generator's own draws (the shuffling) stay those of ``num_workers=0``."""
        generator = self.generator or _random.default_generator()
        try:
            stream = generator.spawn(1)[0]
        except TypeError:  # a generator made without a seed sequence
            stream = np.random.default_rng(generator.integers(2**63))
        return int(stream.integers(2**62))


def _check_workers(num_workers, timeout, prefetch_factor, persistent_workers) -> None:
    """PyTorch's checks of the worker arguments, with its messages."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)):
        raise TypeError(f"num_workers should be an int, got {type(num_workers).__name__}")
    if num_workers < 0:
        raise ValueError(
            "num_workers option should be non-negative; use num_workers=0 to disable "
            "multiprocessing."
        )
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and timeout:
        raise ValueError("timeout applies to worker processes: pass num_workers > 0, or timeout=0")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError(
            "prefetch_factor option could only be specified in multiprocessing. let "
            "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
        )
    if prefetch_factor is not None and prefetch_factor < 1:
        raise ValueError(f"prefetch_factor should be a positive integer, got {prefetch_factor}")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")


def _single_process(fetcher: _Fetcher, tasks) -> Iterator:
    fetcher.start()
    for task in tasks:
        try:
            batch = fetcher(task)
        except StopIteration:
            if fetcher.iterable:  # the end of the pass, not an error of a map-style dataset
                return
            raise
        yield batch


class _Fetcher:
    """Turns one task into a batch, in the main process or in a worker: the indices of a
    batch of a map-style dataset; for an iterable-style one, the next ``batch_size``
    samples of the pass (``start`` begins one), raising StopIteration at its end."""

    def __init__(self, dataset, batch_size: int | None, drop_last: bool, collate_fn) -> None:
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.collate_fn = collate_fn
        self.iterable = isinstance(dataset, IterableDataset)
        self.samples: Iterator | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "samples": None}  # a pass's iterator stays in its process

    def start(self) -> None:
        if self.iterable:
            self.samples = iter(self.dataset)

    def __call__(self, indices):
        if self.iterable:
            return self._next_of_iterable()
        if self.batch_size is None:
            return self.dataset[indices]
        if self.collate_fn is None and _batch_indexable(self.dataset):
            return self.dataset[indices]  # one indexing op per tensor
        samples = [self.dataset[int(i)] for i in indices]
        return (self.collate_fn or collate)(samples)

    def _next_of_iterable(self):
        assert self.samples is not None
        if self.batch_size is None:
            return next(self.samples)
        samples = list(itertools.islice(self.samples, self.batch_size))
        if not samples or (self.drop_last and len(samples) < self.batch_size):
            raise StopIteration
        return (self.collate_fn or collate)(samples)


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
