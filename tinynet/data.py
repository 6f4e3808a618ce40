"""Datasets and mini-batches, as ``torch.utils.data``: Dataset, TensorDataset,
IterableDataset, ConcatDataset, ChainDataset, Subset, random_split; the samplers;
default_collate and default_convert; DataLoader (in worker processes with
``num_workers > 0``).

>>> import numpy as np, tinynet as tn
>>> from tinynet.data import DataLoader, TensorDataset
>>> data = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
>>> [(x.shape, y.tolist()) for x, y in DataLoader(data, batch_size=2)]
[((2, 2), [0, 1]), ((2, 2), [2, 3]), ((1, 2), [4])]
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from tinynet import _random
from tinynet._data_collate import default_collate, default_convert
from tinynet._data_samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from tinynet._data_workers import WorkerInfo, WorkerPool, get_worker_info
from tinynet.tensor import Tensor

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """Base class of map-style datasets: subclasses define ``__getitem__(index)`` (and
    ``__len__``, which samplers and ``len(loader)`` need). ``a + b`` concatenates two.

    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, index):
    ...         return index * index
    >>> both = Squares() + Squares()
    >>> len(both), both[5]
    (8, 1)
    """

    def __getitem__(self, index) -> T_co:
        raise NotImplementedError("Dataset subclasses must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
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


class Subset(Dataset):
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


def random_split(dataset, lengths: Sequence, generator=None, *, rng=None) -> list[Subset]:
    """Split ``dataset`` at random into subsets of ``lengths`` (counts, or fractions summing to 1).

    Fractions are floored and the remainder handed out one by one from the first subset,
    as PyTorch does. ``generator`` (PyTorch's name, as ``DataLoader``'s) or ``rng``: a seed
    or Generator (None: the global generator).

    >>> train, test = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], generator=0)
    >>> len(train), len(test)
    (8, 2)
    """
    if generator is not None and rng is not None:
        raise ValueError("random_split takes generator= or rng= (the same thing), not both")
    rng = rng if generator is None else generator
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(v, float) for v in lengths) and math.isclose(sum(lengths), 1):
        if any(v < 0 for v in lengths):
            raise ValueError(f"random_split: fractions must be non-negative, got {lengths}")
        counts = [math.floor(n * v) for v in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for index, count in enumerate(counts):
            if count == 0:
                warnings.warn(
                    f"random_split: split {index} of {n} samples gets none (an empty "
                    "subset); use fewer or larger fractions",
                    UserWarning,
                    stacklevel=2,
                )
        lengths = counts
    if any(not isinstance(v, (int, np.integer)) or v < 0 for v in lengths) or sum(lengths) != n:
        raise ValueError(
            f"random_split: lengths must be non-negative ints summing to the dataset's length "
            f"({n}) or fractions summing to 1, got {lengths}"
        )
    order = _random.as_generator(rng).permutation(n)
    bounds = np.cumsum([0, *lengths])
    return [Subset(dataset, order[start:end]) for start, end in zip(bounds[:-1], bounds[1:])]


class IterableDataset(Dataset[T_co]):
    """Base class of iterable-style datasets: subclasses define ``__iter__``, yielding samples.

    With ``num_workers > 0`` every worker iterates its own copy: use ``get_worker_info()``
    in ``__iter__`` to keep one part per worker, else each sample comes once per worker
    (as in PyTorch). ``a + b`` chains two (a ``ChainDataset``).

    >>> class Count(IterableDataset):
    ...     def __iter__(self):
    ...         return iter(range(5))
    >>> [batch.tolist() for batch in DataLoader(Count(), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError("IterableDataset subclasses must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it is iterated, not indexed")

    def __add__(self, other: Dataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


class ConcatDataset(Dataset[T_co]):
    """The samples of several map-style datasets, one after the other.

    ``cumulative_sizes[i]`` is the length of the first ``i + 1`` datasets together; an
    index finds its dataset by bisection over them. Negative indices count from the end.

    >>> joined = ConcatDataset([TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 12))])
    >>> joined.cumulative_sizes, joined[3][0].item(), joined[-1][0].item()
    ([3, 5], 10, 11)
    """

    def __init__(self, datasets: Iterable) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise TypeError(
                    "ConcatDataset does not support IterableDataset: chain iterable-style "
                    "datasets with ChainDataset"
                )
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"ConcatDataset indices must be integers, got {type(index).__name__}")
        if index < 0:
            if -index > len(self):
                raise ValueError(
                    f"ConcatDataset: absolute value of index should not exceed dataset length "
                    f"({len(self)}), got {index}"
                )
            index += len(self)
        if index >= len(self):
            raise IndexError(f"ConcatDataset index {index} is out of range for length {len(self)}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][int(index) - start]


class ChainDataset(IterableDataset):
    """The samples of several iterable-style datasets, one after the other (lazily: each
    pass iterates each dataset anew).

    >>> class Count(IterableDataset):
    ...     def __init__(self, n):
    ...         self.n = n
    ...     def __iter__(self):
    ...         return iter(range(self.n))
    >>> list(ChainDataset([Count(2), Count(3)])), list(Count(1) + Count(2))
    ([0, 1, 0, 1, 2], [0, 0, 1])
    """

    def __init__(self, datasets: Iterable) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator:
        for dataset in self.datasets:
            _check_iterable(dataset)
            yield from dataset

    def __len__(self) -> int:
        total = 0
        for dataset in self.datasets:
            _check_iterable(dataset)
            total += len(dataset)
        return total


def _check_iterable(dataset) -> None:
    if not isinstance(dataset, IterableDataset):
        raise TypeError(
            f"ChainDataset only supports IterableDataset, got {type(dataset).__name__}: "
            "concatenate map-style datasets with ConcatDataset"
        )


_pin_memory_warned = [False]

# Attributes that the samplers built in __init__ depend on: setting them later would change
# nothing, so it is refused, as in PyTorch.
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "shuffle")


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of Tensors.

    ``dataset``: map-style (``__len__`` and ``__getitem__``) or an ``IterableDataset``.
    A map-style dataset's indices come from ``sampler`` (default: in order, or a
    ``RandomSampler`` with ``shuffle=True``, a new order at every pass), grouped by
    ``BatchSampler(sampler, batch_size, drop_last)``; ``batch_sampler=`` gives the lists
    of indices instead (leave ``batch_size``, ``shuffle``, ``sampler``, ``drop_last`` unset).
    ``generator`` (PyTorch's name) or ``rng``: a seed or Generator for the shuffling and the
    workers' seeds (None: the global generator seeded by ``tn.manual_seed``).
    ``collate_fn(samples)`` makes a batch (default ``default_collate``: Tensors and arrays
    stacked, ints to int64, floats to float64, dicts, lists and tuples field by field);
    ``batch_size=None`` yields single samples, passed through ``collate_fn`` (default
    ``default_convert``: arrays to Tensors).

    ``num_workers > 0`` loads in that many worker processes, as PyTorch's: the batches of a
    map-style dataset come in the order of ``num_workers=0`` (the sampler runs in the main
    process); ``worker_init_fn(worker_id)`` runs once in each; worker ``i`` seeds
    ``tn.manual_seed``, ``random`` and NumPy's legacy global generator with
    ``base_seed + i`` (``base_seed`` drawn anew each pass from a stream spawned off the
    generator, so the shuffling is that of ``num_workers=0``); ``get_worker_info()`` tells
    a dataset which worker runs it. ``prefetch_factor`` (default 2) batches per worker are
    loaded ahead, ``timeout`` (seconds, 0: none) bounds the wait for one,
    ``persistent_workers=True`` keeps the workers from one pass to the next,
    ``multiprocessing_context`` picks the start method (default ``forkserver``, or
    ``spawn`` where there is none): the dataset, ``collate_fn`` and ``worker_init_fn`` must
    pickle. ``pin_memory=True`` has no meaning on the CPU: it warns once and is ignored.

    >>> import numpy as np
    >>> loader = DataLoader(TensorDataset(np.arange(5)), batch_size=2, drop_last=True)
    >>> len(loader), [batch.tolist() for (batch,) in loader]
    (2, [[0, 1], [2, 3]])
    >>> picked = DataLoader(np.arange(10.0), batch_sampler=[[9, 0], [5]])
    >>> len(picked), [batch.tolist() for batch in picked]
    (2, [[9.0, 0.0], [5.0]])
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        rng=None,
        *,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        generator=None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context=None,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
    ):
        _check_batching(dataset, batch_size, shuffle, sampler, batch_sampler, drop_last)
        _check_workers(num_workers, timeout, prefetch_factor, persistent_workers)
        if pin_memory:
            _warn_pin_memory()
        if generator is not None and rng is not None:
            raise ValueError("DataLoader takes generator= or rng= (the same thing), not both")
        self.dataset = dataset
        chosen = rng if generator is None else generator
        self.generator = None if chosen is None else _random.as_generator(chosen)
        self._iterable = isinstance(dataset, IterableDataset)
        if batch_sampler is not None:
            batch_size, drop_last = None, False
        elif sampler is None and not self._iterable:
            sampler = SequentialSampler(dataset)
            if shuffle:
                sampler = RandomSampler(dataset, generator=self.generator)
        if batch_size is not None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))
        self._auto_collation = batch_size is not None or batch_sampler is not None
        self.batch_size, self.drop_last, self.shuffle = batch_size, bool(drop_last), bool(shuffle)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.num_workers = int(num_workers)
        self.pin_memory = bool(pin_memory)
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self._workers: WorkerPool | None = None  # persistent workers, once started
        self._initialized = True

    def __setattr__(self, name: str, value) -> None:
        if name in _FROZEN and self.__dict__.get("_initialized"):
            raise ValueError(
                f"{name} attribute should not be set after DataLoader is initialized: make a "
                "new DataLoader"
            )
        super().__setattr__(name, value)

    def __len__(self) -> int:
        """The number of batches of a pass: the batch sampler's length (the sampler's with
        ``batch_size=None``); for an iterable-style dataset, from its ``__len__``."""
        if not self._iterable:
            return len(self._index_sampler())
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator:
        fetcher = _Fetcher(
            self.dataset, self._auto_collation, self.batch_size, self.drop_last, self.collate_fn
        )
        if fetcher.iterable:
            tasks: Iterator = itertools.repeat(None)
        else:  # the pass's order is drawn here, before the workers' base seed
            tasks = iter(self._index_sampler())
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

    def _index_sampler(self) -> Any:
        """What a pass of a map-style dataset iterates: lists of indices from the batch
        sampler, or single indices from the sampler without automatic batching."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def _base_seed(self) -> int:
        """The workers' base seed: from a stream spawned off the loader's generator, so the
        generator's own draws (the shuffling) stay those of ``num_workers=0``."""
        generator = self.generator or _random.default_generator()
        try:
            stream = generator.spawn(1)[0]
        except TypeError:  # a generator made without a seed sequence
            stream = np.random.default_rng(generator.integers(2**63))
        return int(stream.integers(2**62))


def _warn_pin_memory() -> None:
    if not _pin_memory_warned[0]:
        _pin_memory_warned[0] = True
        warnings.warn(
            "pin_memory=True has no effect: tinynet runs on the CPU, where there is no "
            "device memory to pin",
            UserWarning,
            stacklevel=3,
        )


def _check_batching(dataset, batch_size, shuffle, sampler, batch_sampler, drop_last) -> None:
    """PyTorch's checks of how the indices are drawn and batched, with its messages."""
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
        or batch_size <= 0
    ):  # fmt: skip
        raise ValueError(f"batch_size should be a positive integer or None, got {batch_size}")
    if not isinstance(drop_last, (bool, np.bool_, int)):
        raise TypeError(
            f"drop_last should be a bool, got {type(drop_last).__name__} (the fourth positional "
            "argument of tinynet's DataLoader is drop_last: pass sampler= by keyword)"
        )
    if isinstance(dataset, IterableDataset):
        options = {"shuffle": shuffle or None, "sampler": sampler, "batch_sampler": batch_sampler}
        for name, value in options.items():
            if value is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified {name} option, but "
                    f"got {name}={value!r} (an iterable-style dataset orders its samples in "
                    "__iter__)"
                )
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None and (
        batch_size != 1 or shuffle or sampler is not None or drop_last
    ):
        raise ValueError(
            "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
            "and drop_last"
        )
    if batch_size is None and drop_last:
        raise ValueError(
            "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
        )


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
    batch of a map-style dataset (one index without automatic batching); for an
    iterable-style one, the next ``batch_size`` samples of the pass (``start`` begins one),
    raising StopIteration at its end."""

    def __init__(self, dataset, auto_collation: bool, batch_size, drop_last, collate_fn) -> None:
        self.dataset, self.auto_collation = dataset, auto_collation
        self.batch_size, self.drop_last, self.collate_fn = batch_size, drop_last, collate_fn
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
        if not self.auto_collation:
            return self.collate_fn(self.dataset[indices])
        if self.collate_fn is default_collate and _batch_indexable(self.dataset):
            array = np.asarray(indices)
            if array.ndim == 1 and array.size and array.dtype.kind in "iu":
                # What default_collate makes of the rows, with one indexing op per tensor.
                return list(self.dataset[array])
        return self.collate_fn([self.dataset[index] for index in indices])

    def _next_of_iterable(self):
        assert self.samples is not None
        if not self.auto_collation:
            return self.collate_fn(next(self.samples))
        samples = list(itertools.islice(self.samples, self.batch_size))
        if not samples or (self.drop_last and len(samples) < self.batch_size):
            raise StopIteration
        return self.collate_fn(samples)


def _batch_indexable(dataset) -> bool:
    """True for a TensorDataset, or subsets of one: an index array picks a whole batch."""
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return isinstance(dataset, TensorDataset)
