"""Samplers and dataset combinators against torch.utils.data's documented behaviour: the
index sequences drawn from the generator, WeightedRandomSampler's frequencies (chi-square
tests against the weights), BatchSampler's batches, ConcatDataset's indexing by bisection
over cumulative sizes, ChainDataset, and Dataset.__add__."""

import itertools
from collections import Counter

import numpy as np
import pytest
from scipy import stats

import tinynet as tn
from tinynet.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)


def test_sequential_sampler_counts_up_to_the_length():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(SequentialSampler("abc")) == 3 and list(SequentialSampler([])) == []
    with pytest.raises(NotImplementedError, match="__iter__"):
        iter(Sampler())


def test_random_sampler_draws_a_new_permutation_each_pass_from_its_generator():
    sampler = RandomSampler(range(8), generator=np.random.default_rng(4))
    reference = np.random.default_rng(4)
    passes = [list(sampler) for _ in range(3)]
    assert passes == [reference.permutation(8).tolist() for _ in range(3)]
    assert all(isinstance(i, int) for i in passes[0]) and len(sampler) == 8
    assert passes[0] != passes[1]
    assert list(RandomSampler(range(8), generator=4)) == passes[0]  # a seed works too


def test_random_sampler_num_samples_chains_permutations_and_replacement_draws_uniformly():
    more = list(RandomSampler(range(4), num_samples=10, generator=1))
    reference = np.random.default_rng(1)
    expected = [*reference.permutation(4), *reference.permutation(4), *reference.permutation(4)[:2]]
    assert more == [int(i) for i in expected]
    assert sorted(more[:4]) == sorted(more[4:8]) == [0, 1, 2, 3]  # no repeats within a round
    fewer = RandomSampler(range(10), num_samples=3, generator=2)
    assert list(fewer) == np.random.default_rng(2).permutation(10)[:3].tolist()
    drawn = RandomSampler(range(5), replacement=True, num_samples=5000, generator=3)
    values = list(drawn)
    assert len(drawn) == len(values) == 5000
    assert values == np.random.default_rng(3).integers(5, size=5000).tolist()
    counts = np.bincount(values, minlength=5)
    assert stats.chisquare(counts).pvalue > 0.01  # uniform


def test_samplers_without_a_generator_follow_manual_seed():
    tn.manual_seed(7)
    random_order = list(RandomSampler(range(6)))
    subset_order = list(SubsetRandomSampler([10, 20, 30]))
    weighted = list(WeightedRandomSampler([1.0, 2.0], num_samples=4))
    reference = np.random.default_rng(7)  # manual_seed's generator, drawn in the same order
    assert random_order == reference.permutation(6).tolist()
    assert subset_order == [[10, 20, 30][i] for i in reference.permutation(3)]
    assert weighted == reference.choice(2, size=4, p=[1 / 3, 2 / 3]).tolist()
    tn.manual_seed(7)
    assert list(RandomSampler(range(6))) == random_order


def test_subset_random_sampler_permutes_the_given_indices():
    indices = [9, 4, 7, 1]
    sampler = SubsetRandomSampler(indices, generator=5)
    order = np.random.default_rng(5).permutation(4)
    assert list(sampler) == [indices[i] for i in order] and len(sampler) == 4
    assert sorted(SubsetRandomSampler(np.array([3, 8]), generator=0)) == [3, 8]


def test_weighted_random_sampler_frequencies_follow_the_weights():
    weights = [1.0, 2.0, 3.0, 4.0, 0.0]
    drawn = list(WeightedRandomSampler(weights, num_samples=20_000, generator=0))
    counts = np.bincount(drawn, minlength=5)
    assert counts[4] == 0  # a zero weight is never drawn
    expected = 20_000 * np.array(weights[:4]) / 10
    assert stats.chisquare(counts[:4], expected).pvalue > 0.01
    # Uniform draws would fail the same test: it tells the weights apart.
    assert stats.chisquare(counts[:4], np.full(4, 5000)).pvalue < 1e-6


def test_weighted_random_sampler_without_replacement_draws_each_index_at_most_once():
    weights = np.array([1.0, 2.0, 3.0])
    sampler = WeightedRandomSampler(weights, num_samples=2, replacement=False, generator=1)
    pairs = Counter(tuple(sampler) for _ in range(3000))
    assert all(a != b for a, b in pairs)
    # Successive draws: P(a, b) = w_a / W * w_b / (W - w_a).
    total = weights.sum()
    ordered = list(itertools.permutations(range(3), 2))
    expected = [3000 * weights[a] / total * weights[b] / (total - weights[a]) for a, b in ordered]
    observed = [pairs[pair] for pair in ordered]
    assert stats.chisquare(observed, expected).pvalue > 0.01
    whole = WeightedRandomSampler([0.5, 0.0, 2.0], num_samples=2, replacement=False, generator=2)
    assert sorted(whole) == [0, 2]


def test_weighted_random_sampler_refuses_bad_arguments():
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], num_samples=0)
    with pytest.raises(ValueError, match="replacement should be a boolean value"):
        WeightedRandomSampler([1.0], num_samples=1, replacement=1)
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], num_samples=1)
    for weights in ([1.0, -1.0], [0.0, 0.0], [1.0, np.nan]):
        with pytest.raises(ValueError, match="non-negative with a positive sum"):
            WeightedRandomSampler(weights, num_samples=1)
    with pytest.raises(ValueError, match="without replacement from 1 with positive weight"):
        WeightedRandomSampler([1.0, 0.0], num_samples=2, replacement=False)
    assert len(WeightedRandomSampler(tn.tensor([1.0, 2.0]), num_samples=3)) == 3


def test_random_sampler_refuses_bad_arguments():
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement="yes")
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)


@pytest.mark.parametrize(("drop_last", "expected"), [(False, 4), (True, 3)])
def test_batch_sampler_groups_the_indices_of_its_sampler(drop_last, expected):
    batches = list(BatchSampler(SequentialSampler(range(10)), 3, drop_last))
    assert len(BatchSampler(range(10), 3, drop_last)) == len(batches) == expected
    assert [i for batch in batches for i in batch] == list(range(10 if not drop_last else 9))
    assert all(len(batch) == 3 for batch in batches[:3])
    shuffled = list(BatchSampler(RandomSampler(range(10), generator=0), 4, drop_last))
    order = np.random.default_rng(0).permutation(10).tolist()
    assert shuffled == [order[i : i + 4] for i in range(0, 8 if drop_last else 10, 4)]


def test_batch_sampler_refuses_bad_arguments():
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(range(3), 2, "no")


def test_concat_dataset_indexes_by_bisection_over_cumulative_sizes():
    parts = [list("abc"), [], list("de"), list("fghi")]
    joined = ConcatDataset(parts)
    everything = [item for part in parts for item in part]  # the reference: one long list
    assert joined.cumulative_sizes == [3, 3, 5, 9] and len(joined) == 9
    assert [joined[i] for i in range(9)] == everything
    assert [joined[i] for i in range(-9, 0)] == everything[-9:]
    assert list(joined) == everything  # iteration stops at the IndexError past the end
    with pytest.raises(IndexError, match="out of range"):
        joined[9]
    with pytest.raises(ValueError, match="absolute value of index should not exceed"):
        joined[-10]
    with pytest.raises(ValueError, match="should not be an empty iterable"):
        ConcatDataset([])


def test_dataset_add_concatenates_and_iterable_datasets_chain():
    class Letters(Dataset):
        def __init__(self, text):
            self.text = text

        def __len__(self):
            return len(self.text)

        def __getitem__(self, index):
            return self.text[index]

    class Count(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    both = Letters("ab") + Letters("cde") + TensorDataset(np.arange(2))
    assert isinstance(both, ConcatDataset) and len(both) == 7
    assert [both[i] for i in range(5)] == list("abcde") and both[6][0].item() == 1
    chained = Count(2) + Count(3)
    assert isinstance(chained, ChainDataset) and len(chained) == 5
    assert list(chained) == list(chained) == [0, 1, 0, 1, 2]  # each pass anew
    with pytest.raises(TypeError, match="ChainDataset only supports IterableDataset"):
        list(ChainDataset([Letters("ab")]))
    with pytest.raises(TypeError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Letters("ab"), Count(1)])
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(TypeError, match="iterated, not indexed"):
        Count(2)[0]
