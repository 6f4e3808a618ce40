"""DataLoader(num_workers > 0) against torch.utils.data's documented multi-process loading:
the batches of num_workers=0 in the same order, get_worker_info, worker_init_fn once per
worker, seeds base_seed + worker_id, errors re-raised with the worker's traceback,
persistent workers, and no worker process left behind."""

import gc
import multiprocessing
import os
import random
import signal
import threading
import time
import warnings

import numpy as np
import pytest

import tinynet as tn
from tinynet import data as tn_data
from tinynet._data_workers import WORKER_NAME
from tinynet.data import (
    BatchSampler,
    DataLoader,
    IterableDataset,
    RandomSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    get_worker_info,
)

# The datasets live at the top level: worker processes unpickle them by reference.


class Records:
    """Sample ``i``: a dict of an array, an int and a float, as PyTorch's collate batches."""

    def __len__(self):
        return 11

    def __getitem__(self, i):
        return {"x": np.full(2, i, np.float32), "i": i, "half": i / 2}


class WhoLoads:
    """Sample ``i``: ``(i, worker id, num_workers, seed, pid, worker_init_fn's calls)``."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = get_worker_info()
        return np.array([i, info.id, info.num_workers, info.seed, os.getpid(), len(_INIT_CALLS)])


_INIT_CALLS: list = []  # in each worker, the ids worker_init_fn was called with


def note_init(worker_id):
    _INIT_CALLS.append(worker_id)


class Draws:
    """Sample ``i``: the seed, and a draw from tinynet's, random's and NumPy's generators."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        seed = get_worker_info().seed
        return seed, np.array([tn.randn(1).item(), random.random(), np.random.random()])


class Failing:
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise ValueError(f"bad sample {i}")
        return np.array([i])


class StopsEarly:
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise StopIteration  # an error of a map-style dataset, not the end of the pass
        return np.array([i])


class Slow:
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(0.6)
        return np.array([i])


class Stream(IterableDataset):
    """0..9, split between the workers by get_worker_info when ``split``, else replicated."""

    def __init__(self, split):
        self.split = split

    def __iter__(self):
        info = get_worker_info()
        if not self.split or info is None:
            return iter(range(10))
        return iter(range(info.id, 10, info.num_workers))


def add_one(samples):
    return tn.tensor(np.stack(samples) + 1)


def loader_workers() -> list:
    """This process's DataLoader workers alive: other tests' pools (loky's, dask's) may
    outlive their tests, so the children are told apart by name."""
    return [p for p in multiprocessing.active_children() if p.name.startswith(WORKER_NAME)]


def no_worker_left():
    return not loader_workers()


def batches(loader):
    return [batch for batch in loader]


def assert_same_batches(expected, got):
    assert len(expected) == len(got)
    for a, b in zip(expected, got):
        if isinstance(a, dict):
            assert a.keys() == b.keys()
            for key in a:
                assert a[key].dtype == b[key].dtype
                np.testing.assert_array_equal(a[key].data, b[key].data)
        elif isinstance(a, (tuple, list)):
            assert_same_batches(a, b)
        else:
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize(
    ("dataset", "options"),
    [
        (TensorDataset(np.arange(22.0).reshape(11, 2), np.arange(11)), {"batch_size": 3}),
        (Records(), {"batch_size": 4, "shuffle": True, "rng": 0}),
        (Records(), {"batch_size": 3, "drop_last": True}),
        (TensorDataset(np.arange(5)), {"batch_size": None}),
        (TensorDataset(np.arange(7)), {"batch_size": 2, "collate_fn": add_one}),
    ],
)
def test_workers_give_the_batches_of_one_process_in_the_same_order(dataset, options):
    single = DataLoader(dataset, **options)
    workers = DataLoader(dataset, num_workers=2, **options)
    for _ in range(2):  # a second pass shuffles anew, in both alike
        assert_same_batches(batches(single), batches(workers))
    assert no_worker_left()


def samplers(seed):
    """Each sampler option of a DataLoader, built anew from ``seed``."""
    return [
        {"batch_size": 3, "sampler": RandomSampler(range(11), True, 13, generator=seed)},
        {"batch_size": 2, "sampler": WeightedRandomSampler(np.arange(11.0), 7, generator=seed)},
        {"batch_sampler": BatchSampler(SubsetRandomSampler([1, 4, 9, 2, 6], seed), 2, False)},
    ]


@pytest.mark.parametrize("case", range(3))
def test_workers_give_the_batches_of_one_process_for_any_sampler(case):
    single = DataLoader(Records(), **samplers(seed=3)[case])
    workers = DataLoader(
        Records(), num_workers=2, persistent_workers=True, **samplers(seed=3)[case]
    )
    for _ in range(2):  # each pass draws anew, in both alike
        expected = batches(single)
        assert len(expected) == len(single) == len(workers)
        assert_same_batches(expected, batches(workers))
    del workers
    gc.collect()
    assert no_worker_left()


def test_get_worker_info_inside_the_workers_and_none_outside():
    assert get_worker_info() is None
    loaded = batches(DataLoader(WhoLoads(), batch_size=None, num_workers=2, rng=0))
    index, worker, count, seed, pid, _ = np.array([b.data for b in loaded]).T
    np.testing.assert_array_equal(index, np.arange(6))
    np.testing.assert_array_equal(worker, [0, 1, 0, 1, 0, 1])  # round-robin
    assert set(count) == {2}
    assert len(set(pid[worker == 0])) == len(set(pid[worker == 1])) == 1
    assert set(pid).isdisjoint({os.getpid()})
    base = seed[0]
    np.testing.assert_array_equal(seed, base + worker)  # base_seed + worker_id
    assert get_worker_info() is None and no_worker_left()


def test_worker_init_fn_runs_once_in_each_worker_and_persistent_workers_are_reused():
    loader = DataLoader(
        WhoLoads(), batch_size=None, num_workers=2, worker_init_fn=note_init,
        persistent_workers=True,
    )  # fmt: skip
    first = np.array([b.data for b in loader])
    time.sleep(0.7)  # idle workers wait for the next pass, however long
    second = np.array([b.data for b in loader])
    assert set(first[:, 5]) == set(second[:, 5]) == {1}  # one call per worker, ever
    np.testing.assert_array_equal(first[:, 4], second[:, 4])  # the same processes
    np.testing.assert_array_equal(first[:, 3], second[:, 3])  # seeded once, at start
    half = iter(loader)
    next(half)  # a pass given up halfway: the next pass starts from its beginning
    third = np.array([b.data for b in loader])
    np.testing.assert_array_equal(third[:, :5], first[:, :5])
    assert len(loader_workers()) == 2
    del loader, half
    gc.collect()
    assert no_worker_left()
    plain = DataLoader(WhoLoads(), batch_size=None, num_workers=2)
    pids = [np.array([b.data for b in plain])[:, 4] for _ in range(2)]
    assert set(pids[0]).isdisjoint(pids[1])  # new workers each pass


def test_workers_are_seeded_with_base_seed_plus_their_id_and_base_seed_follows_rng():
    def passes(rng):
        loader = DataLoader(Draws(), batch_size=None, num_workers=2, rng=rng)
        return [[(seed, draws.tolist()) for seed, draws in loader] for _ in range(2)]

    first, second = passes(5)
    again, _ = passes(5)
    assert first == again  # reproducible from rng
    assert first[0][0] != second[0][0]  # a new base seed each pass
    for samples in (first, second):
        for worker in (0, 1):
            seed, (draw, py_draw, np_draw) = samples[worker]  # each worker's first sample
            assert seed == samples[0][0] + worker
            tn.manual_seed(seed)
            assert draw == tn.randn(1).item()
            assert py_draw == random.Random(seed).random()
            legacy = np.random.RandomState(np.random.SeedSequence(seed).generate_state(4))
            assert np_draw == legacy.random()
    assert no_worker_left()


def test_a_workers_exception_is_raised_with_its_id_and_traceback():
    loader = DataLoader(Failing(), batch_size=None, num_workers=2)
    seen = []
    with pytest.raises(ValueError) as caught:
        for batch in loader:
            seen.append(batch.item())
    assert seen == [0, 1, 2]  # the batches before the failing one came in order
    message = str(caught.value)
    assert "Caught ValueError in DataLoader worker process 1" in message
    assert "Traceback (most recent call last)" in message and "bad sample 3" in message
    assert no_worker_left()
    with pytest.raises(RuntimeError, match="Caught StopIteration in DataLoader worker process 0"):
        list(DataLoader(StopsEarly(), batch_size=None, num_workers=2))
    with pytest.raises(RuntimeError, match="StopIteration"):
        list(DataLoader(StopsEarly(), batch_size=None))
    assert no_worker_left()


def fail_init(worker_id):
    raise OSError(f"no file for worker {worker_id}")


def test_an_error_in_worker_init_fn_is_raised_as_a_workers():
    with pytest.raises(OSError, match="Caught OSError in DataLoader worker process 0"):
        list(DataLoader(Records(), num_workers=2, worker_init_fn=fail_init))
    assert no_worker_left()


def test_iterable_datasets_are_replicated_per_worker_unless_split():
    replicated = batches(DataLoader(Stream(split=False), batch_size=4, num_workers=2))
    # Each worker batches its own copy; the loader takes one batch from each in turn.
    expected = [[0, 1, 2, 3]] * 2 + [[4, 5, 6, 7]] * 2 + [[8, 9]] * 2
    assert [b.tolist() for b in replicated] == expected
    split = batches(DataLoader(Stream(split=True), batch_size=2, num_workers=2))
    assert [b.tolist() for b in split] == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]
    dropped = batches(DataLoader(Stream(split=True), batch_size=2, drop_last=True, num_workers=2))
    assert [b.tolist() for b in dropped] == [[0, 2], [1, 3], [4, 6], [5, 7]]
    persistent = DataLoader(
        Stream(split=True), batch_size=2, num_workers=2, persistent_workers=True
    )
    for _ in range(2):  # each pass iterates the dataset anew in each worker
        assert [b.tolist() for b in persistent] == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]
    del persistent
    single = batches(DataLoader(Stream(split=True), batch_size=4))
    assert [b.tolist() for b in single] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert no_worker_left()


def test_a_half_consumed_iterator_stops_its_workers_when_collected():
    iterator = iter(DataLoader(TensorDataset(np.arange(40)), batch_size=2, num_workers=2))
    next(iterator)
    workers = loader_workers()
    assert len(workers) == 2
    del iterator
    gc.collect()
    assert not any(worker.is_alive() for worker in workers) and no_worker_left()


def test_ctrl_c_while_waiting_stops_the_workers():
    iterator = iter(DataLoader(Slow(), batch_size=None, num_workers=2))
    workers = loader_workers()
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            next(iterator)
    finally:  # never a stray Ctrl-C for the rest of the session
        timer.cancel()
        timer.join()
    assert not any(worker.is_alive() for worker in workers) and no_worker_left()


def test_timeout_and_a_dead_worker_are_errors_not_hangs():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        next(iter(DataLoader(Slow(), batch_size=None, num_workers=2, timeout=0.2)))
    assert no_worker_left()
    iterator = iter(DataLoader(Slow(), batch_size=None, num_workers=2))
    (victim, _) = loader_workers()
    os.kill(victim.pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match=rf"DataLoader worker \(pid\(s\) {victim.pid} .*exited"):
        list(iterator)
    assert no_worker_left()


class Unpicklable:
    def __init__(self):
        self.transform = lambda x: x

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return np.array([i])


def test_what_does_not_pickle_is_named_with_the_fix():
    with pytest.raises(TypeError, match="sends the dataset to worker processes") as caught:
        iter(DataLoader(Unpicklable(), num_workers=2))
    assert "top level of a module" in str(caught.value) and "num_workers=0" in str(caught.value)
    with pytest.raises(TypeError, match="sends the collate_fn to worker"):
        iter(DataLoader(Records(), num_workers=2, collate_fn=lambda samples: samples))
    assert no_worker_left()
    assert [b.tolist() for b in DataLoader(Unpicklable(), batch_size=None)] == [[0], [1]]


def test_pin_memory_warns_once_and_changes_nothing(monkeypatch):
    monkeypatch.setattr(tn_data, "_pin_memory_warned", [False])
    data = TensorDataset(np.arange(4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaders = [DataLoader(data, batch_size=2, pin_memory=True) for _ in range(2)]
    assert [w.category for w in caught] == [UserWarning]
    assert "pin_memory=True has no effect" in str(caught[0].message)
    assert [b.tolist() for (b,) in loaders[1]] == [[0, 1], [2, 3]]


def test_worker_arguments_are_checked_as_pytorchs():
    data = TensorDataset(np.arange(4))
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(data, num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        DataLoader(data, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(data, persistent_workers=True)
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(data, num_workers=1, timeout=-1)
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(split=False), shuffle=True)
    with pytest.raises(ValueError, match="valid start method"):
        iter(DataLoader(data, num_workers=1, multiprocessing_context="teleport"))
