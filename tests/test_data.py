"""tinynet.data against torch.utils.data's documented behaviour: batches partition the
dataset, shuffling permutes it anew each pass, drop_last, random_split's length rules,
samplers and batch samplers, collate_fn=None, and PyTorch's argument conflicts."""

import numpy as np
import pytest

import tinynet as tn
from tinynet.data import (
    BatchSampler,
    DataLoader,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)


def rows(n: int = 7):
    X = np.arange(2.0 * n, dtype=np.float32).reshape(n, 2)
    return X, np.arange(n)


@pytest.mark.parametrize(("n", "batch", "drop_last"), [(7, 3, False), (7, 3, True), (6, 3, True)])
def test_batches_cover_the_dataset_in_order(n, batch, drop_last):
    X, y = rows(n)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch, drop_last=drop_last)
    batches = list(loader)
    expected = n // batch if drop_last else -(-n // batch)
    assert len(loader) == len(batches) == expected
    for xb, yb in batches:
        assert isinstance(xb, tn.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
    seen = np.concatenate([yb.data for _, yb in batches])
    np.testing.assert_array_equal(seen, np.arange(len(seen)))
    assert len(seen) == (n - n % batch if drop_last else n)
    np.testing.assert_array_equal(np.concatenate([xb.data for xb, _ in batches]), X[seen])


def test_shuffle_draws_a_new_permutation_each_pass_from_rng():
    X, y = rows(20)
    loader = DataLoader(TensorDataset(X, y), batch_size=6, shuffle=True, rng=0)
    first = np.concatenate([yb.data for _, yb in loader])
    second = np.concatenate([yb.data for _, yb in loader])
    np.testing.assert_array_equal(np.sort(first), np.arange(20))
    assert not np.array_equal(first, second)
    generator = np.random.default_rng(0)
    np.testing.assert_array_equal(first, generator.permutation(20))
    np.testing.assert_array_equal(second, generator.permutation(20))
    for xb, yb in loader:  # features stay with their labels
        np.testing.assert_array_equal(xb.data, X[yb.data])


def test_shuffle_without_rng_follows_manual_seed():
    data = TensorDataset(np.arange(10))
    tn.manual_seed(3)
    a = [b.tolist() for (b,) in DataLoader(data, batch_size=4, shuffle=True)]
    tn.manual_seed(3)
    b = [b.tolist() for (b,) in DataLoader(data, batch_size=4, shuffle=True)]
    assert a == b


def test_generic_datasets_are_collated_field_by_field():
    class Squares:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.full(2, i, np.float32), "i": i, "half": i / 2, "t": tn.tensor([i])}

    (batch,) = list(DataLoader(Squares(), batch_size=5))
    assert batch["x"].shape == (5, 2) and batch["x"].dtype == np.float32
    assert batch["i"].dtype == np.int64 and batch["half"].dtype == np.float64
    assert batch["t"].shape == (5, 1) and batch["t"].tolist() == [[0], [1], [2], [3], [4]]
    singles = list(DataLoader(TensorDataset(np.arange(3)), batch_size=None))
    assert [s[0].item() for s in singles] == [0, 1, 2]


def test_random_split_counts_and_fractions_follow_pytorch():
    data = TensorDataset(np.arange(11))
    parts = random_split(data, [0.5, 0.5], rng=0)
    assert [len(p) for p in parts] == [6, 5]  # floor, then the remainder from the first
    # floor(3.3), floor(3.3), floor(4.4) = 3, 3, 4; the one left over goes to the first
    assert [len(p) for p in random_split(data, [0.3, 0.3, 0.4], rng=0)] == [4, 3, 4]
    train, test = random_split(data, [8, 3], rng=1)
    together = np.concatenate([[s[0].item() for s in part] for part in (train, test)])
    np.testing.assert_array_equal(np.sort(together), np.arange(11))
    np.testing.assert_array_equal(train.indices, np.random.default_rng(1).permutation(11)[:8])
    assert isinstance(train, Subset)
    (batch,) = list(DataLoader(train, batch_size=8))
    np.testing.assert_array_equal(batch[0].data, train.indices)


@pytest.mark.parametrize("lengths", [[5, 5], [0.5, 0.6], [-1, 12], [2.5, 8.5]])
def test_random_split_refuses_lengths_that_do_not_add_up(lengths):
    with pytest.raises(ValueError, match="lengths"):
        random_split(TensorDataset(np.arange(11)), lengths)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=0)
    with pytest.raises(TypeError, match="cannot batch"):
        list(DataLoader([object(), object()], batch_size=2))


def test_sampler_decides_the_indices_and_their_order():
    X, y = rows(10)
    data = TensorDataset(X, y)
    chosen = [8, 1, 5, 3, 9]
    loader = DataLoader(data, batch_size=2, sampler=chosen)
    assert len(loader) == 3  # ceil(len(sampler) / batch_size), as PyTorch's
    assert [yb.tolist() for _, yb in loader] == [[8, 1], [5, 3], [9]]
    weighted = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0] + [0.0] * 6, num_samples=9, generator=0)
    loader = DataLoader(data, batch_size=4, sampler=weighted, drop_last=True)
    assert len(loader) == 2
    drawn = np.random.default_rng(0).choice(10, size=9, p=[0, 0.25, 0, 0.75] + [0] * 6)
    assert [yb.tolist() for _, yb in loader] == [drawn[:4].tolist(), drawn[4:8].tolist()]


def test_batch_sampler_gives_the_batches_and_len():
    data = TensorDataset(np.arange(10) * 10)
    loader = DataLoader(data, batch_sampler=BatchSampler(range(9, -1, -1), 4, drop_last=False))
    assert loader.batch_size is None and loader.drop_last is False
    assert len(loader) == 3
    assert [b.tolist() for (b,) in loader] == [[90, 80, 70, 60], [50, 40, 30, 20], [10, 0]]
    ragged = DataLoader(data, batch_sampler=[[3], [0, 1, 2]])
    assert [b.tolist() for (b,) in ragged] == [[30], [0, 10, 20]] and len(ragged) == 2


def test_generator_is_rngs_pytorch_name_and_shuffle_is_a_random_sampler():
    data = TensorDataset(np.arange(12))
    by_generator = DataLoader(data, batch_size=5, shuffle=True, generator=np.random.default_rng(2))
    by_rng = DataLoader(data, batch_size=5, shuffle=True, rng=2)
    assert isinstance(by_generator.sampler, RandomSampler)
    assert isinstance(by_generator.batch_sampler, BatchSampler)
    for _ in range(2):
        assert [b.tolist() for (b,) in by_generator] == [b.tolist() for (b,) in by_rng]
    assert isinstance(DataLoader(data).sampler, SequentialSampler)
    with pytest.raises(ValueError, match="generator= or rng="):
        DataLoader(data, rng=0, generator=0)


def test_collate_fn_none_means_default_collate_or_default_convert():
    class Pairs:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.full(2, i, np.float32), i

    loader = DataLoader(Pairs(), batch_size=3)
    assert loader.collate_fn is default_collate
    first = next(iter(loader))
    assert type(first) is list and first[0].shape == (3, 2) and first[1].tolist() == [0, 1, 2]
    singles = DataLoader(Pairs(), batch_size=None)
    assert singles.collate_fn is default_convert and len(singles) == 4
    sample = next(iter(singles))
    assert type(sample) is list and isinstance(sample[0], tn.Tensor) and sample[1] == 0
    named = DataLoader(Pairs(), batch_size=None, collate_fn=lambda sample: sample[1] * 10)
    assert list(named) == [0, 10, 20, 30]  # collate_fn gets each sample without batching
    # A TensorDataset is batched by indexing, with what default_collate makes of its rows.
    data = TensorDataset(np.arange(6.0).reshape(3, 2), np.arange(3))
    (fast,) = list(DataLoader(data, batch_size=3))
    slow = default_collate([data[i] for i in range(3)])
    assert type(fast) is type(slow) is list
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_conflicting_loader_arguments_raise_pytorchs_errors():
    data = TensorDataset(np.arange(4))
    sampler = SequentialSampler(data)
    batches = BatchSampler(sampler, 2, False)
    exclusive = "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler"
    for options in (
        {"batch_size": 2},
        {"shuffle": True},
        {"sampler": sampler},
        {"drop_last": True},
    ):
        with pytest.raises(ValueError, match=exclusive):
            DataLoader(data, batch_sampler=batches, **options)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(data, sampler=sampler, shuffle=True)
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
        DataLoader(data, batch_size=None, drop_last=True)
    with pytest.raises(TypeError, match="pass sampler= by keyword"):
        DataLoader(data, 2, False, sampler)

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(3))

    for name in ("sampler", "batch_sampler"):
        with pytest.raises(ValueError, match=f"expected unspecified {name} option"):
            DataLoader(Stream(), **{name: batches})
    loader = DataLoader(data, batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after"):
        loader.batch_size = 3
