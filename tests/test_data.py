"""tinynet.data against torch.utils.data's documented behaviour: batches partition the
dataset, shuffling permutes it anew each pass, drop_last, random_split's length rules."""

import numpy as np
import pytest

import tinynet as tn
from tinynet.data import DataLoader, Subset, TensorDataset, random_split


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
