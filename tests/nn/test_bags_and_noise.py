"""F.gumbel_softmax, F.channel_shuffle, F.local_response_norm, nn.Softmax2d and
F.embedding_bag / nn.EmbeddingBag beyond the OpInfo properties: PyTorch's conventions,
distributions, the straight-through gradient, modules and errors."""

import warnings

import numpy as np
import pytest
import scipy.special
import scipy.stats

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import optim


def t(array, requires_grad=False):
    return tn.Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


# -- gumbel_softmax -------------------------------------------------------------------------------
LOGITS = np.array([[1.0, -0.5, 0.3, 2.0], [0.0, 0.1, -3.0, 1.5], [-1.0, -1.0, 2.5, 0.0]])


def test_soft_samples_are_distributions_along_dim():
    y = F.gumbel_softmax(t(LOGITS), tau=0.7, rng=0)
    assert (y.data > 0).all()
    np.testing.assert_allclose(y.data.sum(-1), 1.0, rtol=1e-15)
    columns = F.gumbel_softmax(t(LOGITS), dim=0, rng=0)
    np.testing.assert_allclose(columns.data.sum(0), 1.0, rtol=1e-15)


def test_hard_samples_are_one_hot_at_the_soft_samples_largest_entry():
    soft = F.gumbel_softmax(t(LOGITS), tau=0.5, rng=3)
    hard = F.gumbel_softmax(t(LOGITS), tau=0.5, hard=True, rng=3)  # the same noise
    expected = np.eye(4)[soft.data.argmax(-1)]
    np.testing.assert_allclose(hard.data, expected, atol=1e-15)
    assert hard.dtype == np.float64


def test_the_gradient_of_a_hard_sample_is_the_soft_samples_gradient():
    weights = t(np.random.default_rng(1).standard_normal(LOGITS.shape))
    grads = []
    for hard in (False, True):
        logits = t(LOGITS, requires_grad=True)
        (F.gumbel_softmax(logits, tau=0.8, hard=hard, rng=5) * weights).sum().backward()
        grads.append(logits.grad.data)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-15)
    assert np.abs(grads[0]).max() > 1e-3  # a real gradient, not zeros


def test_the_argmax_of_samples_follows_softmax_of_the_logits():
    # Gumbel-max: argmax(logits + g) ~ Categorical(softmax(logits)), whatever tau.
    logits = np.array([1.0, 0.0, -1.0, 0.5])
    draws = F.gumbel_softmax(t(np.tile(logits, (4000, 1))), tau=2.0, rng=2024)
    counts = np.bincount(draws.data.argmax(-1), minlength=4)
    expected = scipy.special.softmax(logits) * 4000
    assert scipy.stats.chisquare(counts, expected).pvalue > 0.01


def test_manual_seed_makes_samples_reproducible_and_rng_overrides_it():
    tn.manual_seed(11)
    first = F.gumbel_softmax(t(LOGITS))
    tn.manual_seed(11)
    np.testing.assert_array_equal(F.gumbel_softmax(t(LOGITS)).data, first.data)
    assert not np.array_equal(F.gumbel_softmax(t(LOGITS)).data, first.data)  # it advanced
    np.testing.assert_array_equal(
        F.gumbel_softmax(t(LOGITS), rng=4).data, F.gumbel_softmax(t(LOGITS), rng=4).data
    )


def test_float32_logits_give_float32_samples_and_eps_warns_as_pytorch():
    assert F.gumbel_softmax(tn.zeros(2, 3), rng=0).dtype == np.float32
    with pytest.warns(UserWarning, match="deprecated"):
        F.gumbel_softmax(tn.zeros(2, 3), eps=1e-5, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.gumbel_softmax(tn.zeros(2, 3), eps=1e-10, rng=0)
    with pytest.raises(TypeError, match="floating logits"):
        F.gumbel_softmax(tn.tensor([1, 2]))


def test_a_compiled_step_draws_fresh_noise_from_one_generator_as_eager():
    def run(compiled):
        generator = np.random.default_rng(9)
        logits = t(LOGITS, requires_grad=True)

        def step():
            logits.grad = None
            y = F.gumbel_softmax(logits, tau=0.5, hard=True, rng=generator)
            (y * y.detach().argmax(-1, keepdim=True)).sum().backward()
            return y, logits.grad

        fn = tn.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a fallback to eager would warn
            return [tuple(np.array(v.data) for v in fn()) for _ in range(5)]

    eager, replayed = run(False), run(True)
    for (y0, g0), (y1, g1) in zip(eager, replayed):
        np.testing.assert_array_equal(y0, y1)
        np.testing.assert_array_equal(g0, g1)
    assert not np.array_equal(eager[0][0], eager[1][0])  # each call its own draw


# -- channel_shuffle, local_response_norm, Softmax2d ----------------------------------------------
def test_channel_shuffle_interleaves_the_groups():
    x = tn.arange(12.0).reshape(1, 6, 2)
    y = F.channel_shuffle(x, 3)
    assert y[0, :, 0].tolist() == [0.0, 4.0, 8.0, 2.0, 6.0, 10.0]  # channels 0 2 4 1 3 5
    np.testing.assert_array_equal(nn.ChannelShuffle(3)(x).data, y.data)
    np.testing.assert_array_equal(F.channel_shuffle(y, 2).data, x.data)  # the inverse shuffle
    assert repr(nn.ChannelShuffle(3)) == "ChannelShuffle(groups=3)"
    with pytest.raises(RuntimeError, match="divisible by groups"):
        F.channel_shuffle(tn.ones(1, 5, 2), 2)
    with pytest.raises(RuntimeError, match="at least 3 dimensions"):
        F.channel_shuffle(tn.ones(2, 4), 2)
    with pytest.raises(ValueError, match="positive int"):
        F.channel_shuffle(tn.ones(1, 4, 2), 0)


def test_local_response_norm_windows_center_and_pad_with_zeros_as_pytorch():
    # size 4: channel c sums channels c-2 .. c+1 (size // 2 before, (size - 1) // 2 after).
    x = np.arange(1.0, 6.0).reshape(1, 5, 1)
    y = F.local_response_norm(t(x), 4, alpha=0.4, beta=0.5, k=2.0).data[0, :, 0]
    squares = x[0, :, 0] ** 2
    for c in range(5):
        total = squares[max(0, c - 2) : c + 2].sum()
        assert y[c] == pytest.approx(x[0, c, 0] / np.sqrt(2.0 + 0.1 * total), rel=1e-14)
    module = nn.LocalResponseNorm(4, alpha=0.4, beta=0.5, k=2.0)
    np.testing.assert_array_equal(module(t(x)).data[0, :, 0], y)
    four_d = t(np.random.default_rng(0).standard_normal((2, 3, 2, 2)))
    assert tn.gradgradcheck(lambda x: F.local_response_norm(x, 2, 0.5), (four_d.requires_grad_(),))
    with pytest.raises(ValueError, match="3-D or higher"):
        F.local_response_norm(tn.ones(2, 3), 2)


def test_softmax2d_is_a_softmax_over_channels():
    x = t(np.random.default_rng(1).standard_normal((2, 3, 2, 4)))
    np.testing.assert_allclose(
        nn.Softmax2d()(x).data, scipy.special.softmax(x.data, axis=1), rtol=1e-14
    )
    np.testing.assert_allclose(
        nn.Softmax2d()(x[0]).data, scipy.special.softmax(x.data[0], axis=0), rtol=1e-14
    )
    with pytest.raises(RuntimeError, match="3D or 4D"):
        nn.Softmax2d()(tn.ones(2, 3))


# -- embedding_bag --------------------------------------------------------------------------------
WEIGHT = np.arange(12.0).reshape(6, 2) ** 1.5


def test_bags_from_offsets_reduce_by_sum_mean_and_max_and_empty_bags_are_zero():
    indices, offsets = tn.tensor([1, 4, 2, 0, 5, 5, 3]), tn.tensor([0, 3, 3, 4])
    bags = [[1, 4, 2], [], [0], [5, 5, 3]]
    for mode, reduce in (("sum", np.sum), ("mean", np.mean), ("max", np.max)):
        got = F.embedding_bag(indices, t(WEIGHT), offsets, mode=mode).data
        for row, bag in zip(got, bags):
            expected = reduce(WEIGHT[bag], axis=0) if bag else np.zeros(2)
            np.testing.assert_allclose(row, expected, rtol=1e-15)


def test_a_2d_input_is_bags_of_one_length_and_include_last_offset_is_csr():
    weight = t(WEIGHT)
    rows = F.embedding_bag(tn.tensor([[1, 2], [3, 4]]), weight, mode="sum")
    flat = F.embedding_bag(tn.tensor([1, 2, 3, 4]), weight, tn.tensor([0, 2]), mode="sum")
    csr = F.embedding_bag(
        tn.tensor([1, 2, 3, 4]), weight, tn.tensor([0, 2, 4]), mode="sum", include_last_offset=True
    )
    np.testing.assert_array_equal(rows.data, flat.data)
    np.testing.assert_array_equal(csr.data, flat.data)
    # PyTorch's fixed behavior (its PR 168159): a 2-D input's rows stay its bags
    twice = F.embedding_bag(tn.tensor([[1, 2], [3, 4]]), weight, include_last_offset=True)
    assert twice.shape == (2, 2)


def test_padding_idx_is_left_out_of_its_bag_and_its_row_gets_no_gradient():
    weight = t(WEIGHT, requires_grad=True)
    out = F.embedding_bag(tn.tensor([[2, 0, 4], [0, 0, 0]]), weight, padding_idx=0)
    np.testing.assert_allclose(out.data[0], (WEIGHT[2] + WEIGHT[4]) / 2, rtol=1e-15)
    np.testing.assert_array_equal(out.data[1], [0.0, 0.0])  # only padding: an empty bag
    out.sum().backward()
    assert weight.grad.data[0].tolist() == [0.0, 0.0]
    assert weight.grad.data[2].tolist() == [0.5, 0.5]
    maxima = F.embedding_bag(tn.tensor([[5, 1]]), t(WEIGHT), mode="max", padding_idx=-1)
    np.testing.assert_array_equal(maxima.data[0], WEIGHT[1])  # -1 is row 5, left out


def test_per_sample_weights_scale_each_row_and_get_their_gradient():
    weight = t(WEIGHT, requires_grad=True)
    scale = t([0.5, -1.0, 2.0], requires_grad=True)
    out = F.embedding_bag(tn.tensor([1, 3, 1]), weight, tn.tensor([0, 2]), mode="sum",
                          per_sample_weights=scale)  # fmt: skip
    np.testing.assert_allclose(out.data[0], 0.5 * WEIGHT[1] - WEIGHT[3], rtol=1e-15)
    np.testing.assert_allclose(out.data[1], 2.0 * WEIGHT[1], rtol=1e-15)
    assert tn.gradcheck(
        lambda w, s: F.embedding_bag(tn.tensor([1, 3, 1]), w, tn.tensor([0, 2]), mode="sum",
                                     per_sample_weights=s),
        (weight, scale),
    )  # fmt: skip
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(tn.tensor([1, 3, 1]), weight, tn.tensor([0]), per_sample_weights=scale)


def test_max_mode_sends_each_columns_gradient_to_the_first_largest_row():
    weight = t([[1.0, 5.0], [3.0, 5.0], [3.0, 0.0]], requires_grad=True)
    out = F.embedding_bag(tn.tensor([[0, 1, 2]]), weight, mode="max")
    assert out.tolist() == [[3.0, 5.0]]
    out.sum().backward()
    assert weight.grad.tolist() == [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]


def test_max_mode_at_many_ties_matches_a_strictly_greater_scan():
    # PyTorch's CPU kernel scans each bag and keeps a row only if strictly greater: the first
    # largest wins. Small integer weights make ties common.
    rng = np.random.default_rng(0)
    for _ in range(60):
        rows, width, length = rng.integers(1, 5), rng.integers(1, 4), rng.integers(0, 8)
        weight = rng.integers(0, 3, (rows, width)).astype(np.float64)
        indices = rng.integers(0, rows, length)
        offsets = np.concatenate([[0], np.sort(rng.integers(0, length + 1, 2))])
        padding = rng.choice([None, 0])
        leaf = t(weight, requires_grad=True)
        out = F.embedding_bag(tn.tensor(indices), leaf, tn.tensor(offsets), mode="max",
                              padding_idx=padding)  # fmt: skip
        out.sum().backward()
        expected, grad = np.zeros(out.shape), np.zeros_like(weight)
        for bag, (start, end) in enumerate(zip(offsets, [*offsets[1:], length])):
            kept = [p for p in range(start, end) if padding is None or indices[p] != padding]
            for column in range(width) if kept else ():
                best = kept[0]
                for p in kept[1:]:
                    if weight[indices[p], column] > weight[indices[best], column]:
                        best = p
                expected[bag, column] = weight[indices[best], column]
                grad[indices[best], column] += 1
        np.testing.assert_array_equal(out.data, expected)
        np.testing.assert_array_equal(
            np.zeros_like(weight) if leaf.grad is None else leaf.grad.data, grad
        )


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda w: F.embedding_bag(tn.tensor([1, 2]), w), ValueError, "offsets has to be"),
        (lambda w: F.embedding_bag(tn.tensor([[1]]), w, tn.tensor([0])), ValueError, "None"),
        (lambda w: F.embedding_bag(tn.tensor([1, 2]), w, tn.tensor([1])), ValueError, "0"),
        (lambda w: F.embedding_bag(tn.tensor([1, 2]), w, tn.tensor([0, 2, 1])), ValueError,
         "non-decreasing"),
        (lambda w: F.embedding_bag(tn.tensor([1, 2]), w, tn.tensor([0, 1]),
                                   include_last_offset=True), ValueError, "last offset"),
        (lambda w: F.embedding_bag(tn.tensor([1, 9]), w, tn.tensor([0])), IndexError, "9"),
        (lambda w: F.embedding_bag(tn.tensor([1.0]), w, tn.tensor([0])), TypeError, "integer"),
        (lambda w: F.embedding_bag(tn.tensor([1]), w, tn.tensor([0]), mode="min"), ValueError,
         "sum, mean or max"),
        (lambda w: F.embedding_bag(tn.tensor([1]), w, tn.tensor([0]), max_norm=1.0),
         NotImplementedError, "max_norm"),
        (lambda w: F.embedding_bag(tn.tensor([1]), w, tn.tensor([0]), sparse=True),
         NotImplementedError, "sparse"),
    ],
)  # fmt: skip
def test_bad_bags_raise_pytorchs_exception_types_naming_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call(t(WEIGHT))


def test_the_module_has_pytorchs_parameters_repr_and_trains():
    bag = nn.EmbeddingBag(10, 3, mode="max", padding_idx=2, rng=0)
    assert list(bag.state_dict()) == ["weight"] and bag.weight.shape == (10, 3)
    assert bag.weight.data[2].tolist() == [0.0, 0.0, 0.0]
    assert repr(bag) == "EmbeddingBag(10, 3, mode='max', padding_idx=2)"
    assert repr(nn.EmbeddingBag(4, 2)) == "EmbeddingBag(4, 2, mode='mean')"
    with pytest.raises(ValueError, match="sum, mean or max"):
        nn.EmbeddingBag(4, 2, mode="median")
    pretrained = nn.EmbeddingBag.from_pretrained(t(WEIGHT), mode="sum")
    assert not pretrained.weight.requires_grad
    np.testing.assert_array_equal(
        pretrained(tn.tensor([[1, 2]])).data, F.embedding_bag(tn.tensor([[1, 2]]), t(WEIGHT),
                                                               mode="sum").data,
    )  # fmt: skip
    model = nn.Sequential(nn.EmbeddingBag(5, 4, mode="sum", rng=1))
    opt = optim.SGD(model.parameters(), lr=0.5)
    inputs, target = tn.tensor([[0, 1], [2, 3]]), tn.ones(2, 4)
    losses = []
    for _ in range(30):
        loss = ((model(inputs) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
    assert model[0].weight.grad.data[4].tolist() == [0.0] * 4  # row 4 is in no bag
