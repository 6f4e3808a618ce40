"""PyTorch's top-level names that tinynet lacked: behaviour and errors against NumPy/SciPy
and PyTorch's documented semantics. The differentiable ones are also in the OpInfo table
(tests/test_ops.py); their kinks are in tests/test_kinks.py."""

import math
import warnings

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats

import tinynet as tn

NAMES = (
    "as_tensor is_tensor is_floating_point numel t mm mv square clamp_min clamp_max amax amin "
    "isclose equal nan_to_num diff cdist hstack vstack take_along_dim broadcast_tensors "
    "count_nonzero empty_like randperm normal bernoulli multinomial logspace seed initial_seed "
    "set_printoptions var_mean std_mean frac fmax fmin cross kron trace diagonal bincount "
    "bucketize searchsorted cov corrcoef"
).split()
METHODS = (
    "amax amin square clamp_min clamp_max nan_to_num t numel diff narrow select view_as "
    "count_nonzero mm mv frac fmax fmin cross kron trace diagonal bincount isclose equal cov "
    "corrcoef take_along_dim"
).split()


def test_every_name_exists_at_the_top_level_and_as_a_method():
    assert [name for name in NAMES if not hasattr(tn, name)] == []
    assert [name for name in METHODS if not hasattr(tn.Tensor, name)] == []


# -- as_tensor and the predicates ----------------------------------------------------------------
def test_as_tensor_shares_memory_keeps_float64_and_returns_a_tensor_as_it_is():
    array = np.arange(3.0)
    x = tn.as_tensor(array)
    assert x.dtype == np.float64 and np.shares_memory(x.data, array)
    array[0] = 7.0
    assert x.tolist()[0] == 7.0
    assert tn.as_tensor(x) is x and tn.as_tensor(x, dtype=tn.float64) is x
    converted = tn.as_tensor(array, dtype=tn.float32)
    assert converted.dtype == np.float32 and not np.shares_memory(converted.data, array)
    assert tn.as_tensor([1.0, 2.0]).dtype == tn.get_default_dtype()
    assert tn.as_tensor([1, 2]).dtype == np.int64


def test_as_tensor_of_a_tensor_in_another_dtype_is_a_differentiable_cast():
    w = tn.tensor([1.0, 2.0], requires_grad=True)
    y = tn.as_tensor(w, dtype=tn.float64)
    assert y.dtype == np.float64 and y.requires_grad
    y.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_predicates_and_numel_take_tensors_only():
    assert tn.is_tensor(tn.ones(2)) and not tn.is_tensor(np.ones(2))
    assert tn.is_floating_point(tn.ones(2)) and not tn.is_floating_point(tn.arange(2))
    assert tn.numel(tn.ones(2, 3)) == 6
    with pytest.raises(TypeError, match="must be Tensor"):
        tn.numel(np.ones(2))
    with pytest.raises(TypeError, match="must be Tensor"):
        tn.is_floating_point(1.0)


# -- elementwise ---------------------------------------------------------------------------------
def test_isclose_follows_numpy_with_infinities_and_nan():
    a = np.array([1.0, np.inf, -np.inf, np.nan, 1e-9, 2.0])
    b = np.array([1.0 + 1e-6, np.inf, np.inf, np.nan, 0.0, 2.1])
    for equal_nan in (False, True):
        got = tn.isclose(tn.tensor(a), tn.tensor(b), equal_nan=equal_nan)
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got.data, np.isclose(a, b, equal_nan=equal_nan))
    with pytest.raises(tn.ShapeError):
        tn.isclose(tn.ones(2), tn.ones(3))


def test_equal_needs_the_same_shape_and_values():
    assert tn.equal(tn.tensor([1.0, 2.0]), tn.tensor([1.0, 2.0])) is True
    assert tn.equal(tn.ones(2, 1), tn.ones(2)) is False  # no broadcasting
    assert tn.equal(tn.tensor([math.nan]), tn.tensor([math.nan])) is False
    assert tn.ones(2).equal(tn.ones(2))


def test_frac_refuses_integers_and_nan_to_num_copies_them():
    with pytest.raises(TypeError, match="floating"):
        tn.frac(tn.arange(3))
    x = tn.arange(3)
    y = tn.nan_to_num(x)
    assert y.tolist() == [0, 1, 2] and y.data is not x.data


def test_clamp_min_and_max_keep_the_dtype_and_take_tensor_bounds():
    x = tn.tensor([-1.0, 0.5, 2.0])
    assert tn.clamp_min(x, 0).dtype == np.float32
    assert tn.clamp_max(x, tn.tensor([0.0, 0.0, 3.0])).tolist() == [-1.0, 0.0, 2.0]


# -- reductions and statistics -------------------------------------------------------------------
def test_amax_reduces_several_dims_without_the_values_guard():
    x = tn.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(tn.amax(x, dim=(0, 2)).data, np.amax(x.data, axis=(0, 2)))
    np.testing.assert_array_equal(x.amin(1, keepdim=True).data, x.data.min(1, keepdims=True))
    assert tn.amax(x, 1)[0].shape == (4,)  # indexing is fine: amax has no (values, indices)


def test_var_mean_and_std_mean_match_numpy():
    data = np.random.default_rng(0).standard_normal((3, 4))
    variance, mean = tn.var_mean(tn.tensor(data), dim=1, keepdim=True)
    np.testing.assert_allclose(variance.data, data.var(1, ddof=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(mean.data, data.mean(1, keepdims=True), rtol=1e-12)
    deviation, mean = tn.std_mean(tn.tensor(data), unbiased=False)
    np.testing.assert_allclose(deviation.item(), data.std(), rtol=1e-12)
    assert tn.var_mean(tn.arange(4))[1].dtype == tn.get_default_dtype()


def test_cov_with_weights_and_corrcoef_match_numpy():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((3, 6))
    fweights, aweights = np.array([1, 2, 1, 3, 1, 2]), rng.uniform(0.5, 2.0, 6)
    got = tn.cov(tn.tensor(data), correction=0, fweights=tn.tensor(fweights), aweights=aweights)
    expected = np.cov(data, ddof=0, fweights=fweights, aweights=aweights)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12)
    np.testing.assert_allclose(tn.corrcoef(tn.tensor(data)).data, np.corrcoef(data), rtol=1e-12)
    assert tn.cov(tn.tensor(data[0])).shape == () and tn.corrcoef(tn.tensor(data[0])).item() == 1
    with pytest.raises(TypeError, match="fweights must be integers"):
        tn.cov(tn.tensor(data), fweights=np.ones(6))
    with pytest.raises(ValueError, match="one per observation"):
        tn.cov(tn.tensor(data), aweights=np.ones(5))
    with pytest.raises(ValueError, match="at most 2 dimensions"):
        tn.cov(tn.ones(2, 2, 2))


def test_count_nonzero_and_bincount_match_numpy():
    x = np.array([[0, 1, 2], [0, 0, 3]])
    assert tn.count_nonzero(tn.tensor(x)).item() == 3
    assert tn.count_nonzero(tn.tensor(x), dim=(0, 1)).dtype == np.int64
    assert tn.tensor(x).count_nonzero(dim=0).tolist() == [0, 1, 2]
    values = np.array([0, 3, 3, 1])
    weights32 = np.array([0.5, 1.0, 2.0, 4.0], np.float32)
    got = tn.bincount(tn.tensor(values), tn.tensor(weights32), minlength=6)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.data, np.bincount(values, weights32, minlength=6))
    assert tn.bincount(tn.tensor(values), np.ones(4, np.int64)).dtype == np.float64
    assert tn.tensor(values).bincount().tolist() == [1, 1, 0, 2]
    with pytest.raises(RuntimeError, match="non-negative integral"):
        tn.bincount(tn.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match="same length"):
        tn.bincount(tn.tensor(values), tn.ones(3))


def test_bucketize_and_searchsorted_follow_pytorchs_sides():
    boundaries = np.array([1, 3, 5, 7, 9])
    x = np.array([[3, 6, 9], [3, 6, 9]])
    assert tn.bucketize(tn.tensor(x), tn.tensor(boundaries)).tolist() == [[1, 3, 4]] * 2
    assert tn.bucketize(tn.tensor(x), boundaries, right=True).tolist() == [[2, 3, 5]] * 2
    rows = np.array([[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]])
    got = tn.searchsorted(tn.tensor(rows), tn.tensor(x), side="right", out_int32=True)
    assert got.dtype == np.int32 and got.tolist() == [[2, 3, 5], [1, 3, 4]]
    shuffled = np.array([9, 1, 7, 3, 5])
    sorter = np.argsort(shuffled)
    assert tn.searchsorted(shuffled, tn.tensor([4]), sorter=tn.tensor(sorter)).tolist() == [2]
    assert tn.searchsorted(tn.tensor(boundaries), 4).shape == ()
    with pytest.raises(RuntimeError, match="opposites"):
        tn.searchsorted(tn.tensor(boundaries), tn.tensor(x), right=True, side="left")
    with pytest.raises(RuntimeError, match="leading dimensions"):
        tn.searchsorted(tn.tensor(rows), tn.tensor([[1, 2]] * 3))
    with pytest.raises(RuntimeError, match="1-D"):
        tn.bucketize(tn.tensor(x), tn.tensor(rows))


# -- products and shapes ---------------------------------------------------------------------------
def test_cross_takes_the_first_axis_of_length_three_by_default():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    np.testing.assert_allclose(tn.cross(tn.tensor(a), tn.tensor(b)).data, np.cross(a, b, axis=0))
    with pytest.raises(tn.ShapeError, match="size 3"):
        tn.cross(tn.ones(2, 3), tn.ones(2, 3), dim=0)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: tn.mm(tn.ones(2, 3), tn.ones(2, 3)), "mm: expected matrices"),
        (lambda: tn.mm(tn.ones(1, 2, 3), tn.ones(3, 2)), "use matmul"),
        (lambda: tn.mv(tn.ones(2, 3), tn.ones(2)), "mv: expected a matrix"),
        (lambda: tn.trace(tn.ones(3)), "trace: expected a matrix"),
        (lambda: tn.cdist(tn.ones(3), tn.ones(2, 3)), "at least 2D"),
        (lambda: tn.cdist(tn.ones(2, 3), tn.ones(2, 4)), "same number of columns"),
        (lambda: tn.broadcast_tensors(tn.ones(2), tn.ones(3)), "cannot be broadcast"),
        (lambda: tn.diff(tn.ones(2, 2), prepend=tn.ones(2)), "dimensions"),
    ],
)
def test_shape_errors_name_the_problem(call, message):
    with pytest.raises(tn.ShapeError, match=message):
        call()


def test_cdist_batches_and_infinite_p_match_scipy():
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((2, 3, 4)), rng.standard_normal((1, 5, 4))
    got = tn.cdist(tn.tensor(x1), tn.tensor(x2), p=math.inf)
    for i in range(2):
        expected = scipy.spatial.distance.cdist(x1[i], x2[0], "chebyshev")
        np.testing.assert_allclose(got.data[i], expected, rtol=1e-12)
    zero = tn.cdist(tn.tensor(x1[0]), tn.tensor(x1[0]), p=0)
    np.testing.assert_array_equal(zero.data, (x1[0][:, None] != x1[0][None]).sum(-1))
    with pytest.raises(ValueError, match="non-negative p"):
        tn.cdist(tn.tensor(x1), tn.tensor(x2), p=-1)


def test_narrow_is_a_view_and_select_removes_the_axis():
    x = tn.arange(12).reshape(3, 4)
    part = tn.narrow(x, 1, -3, 2)
    assert part.tolist() == [[1, 2], [5, 6], [9, 10]] and np.shares_memory(part.data, x.data)
    assert x.narrow(0, 1, 0).shape == (0, 4)
    assert x.select(0, -1).tolist() == [8, 9, 10, 11]
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        x.narrow(1, 2, 3)
    with pytest.raises(IndexError, match="out of range"):
        x.select(1, 4)


def test_hstack_vstack_and_diff_match_numpy():
    a, b = np.array(1.0), np.array([2.0, 3.0])
    assert tn.hstack([tn.tensor(a), tn.tensor(b)]).tolist() == np.hstack([a, b]).tolist()
    assert tn.vstack([tn.tensor(b), tn.tensor(b)]).shape == np.vstack([b, b]).shape
    mixed = tn.hstack([tn.tensor([1, 2]), tn.tensor([0.5])])
    assert mixed.dtype == np.float32  # a floating dtype wins, as PyTorch
    flags = np.array([True, True, False, True])
    assert tn.diff(tn.tensor(flags)).tolist() == [False, True, True]
    x = np.array([[1, 4, 9], [2, 2, 0]])
    np.testing.assert_array_equal(tn.tensor(x).diff(dim=0).data, np.diff(x, axis=0))
    assert tn.diff(tn.tensor([1.0, 2.0]), n=0, append=tn.tensor([5.0])).tolist() == [1, 2, 5]


def test_take_along_dim_flattens_without_a_dim():
    x = tn.tensor([[10.0, 30.0], [20.0, 40.0]])
    assert tn.take_along_dim(x, tn.tensor([[3, 0]])).tolist() == [40.0, 10.0]
    assert x.take_along_dim(tn.tensor([[1], [0]]), dim=1).tolist() == [[30.0], [20.0]]


# -- creation -------------------------------------------------------------------------------------
def test_logspace_and_empty_like():
    np.testing.assert_allclose(
        tn.logspace(-1, 2, 4, base=2.0, dtype=tn.float64).data, np.logspace(-1, 2, 4, base=2.0)
    )
    assert tn.logspace(0, 1, steps=5).dtype == tn.get_default_dtype()
    like = tn.empty_like(tn.ones(2, 3, dtype=tn.float64))
    assert like.shape == (2, 3) and like.dtype == np.float64
    assert tn.empty_like(tn.ones(2), dtype=tn.int64).dtype == np.int64
    with pytest.raises(RuntimeError, match="non-negative"):
        tn.logspace(0, 1, -1)


# -- randomness -----------------------------------------------------------------------------------
def test_seed_and_initial_seed():
    tn.manual_seed(123)
    assert tn.initial_seed() == 123
    first = tn.seed()
    assert tn.initial_seed() == first and 0 <= first < 2**63
    draws = tn.rand(3)
    tn.manual_seed(first)
    assert tn.rand(3).tolist() == draws.tolist()


def test_randperm_is_a_uniform_permutation_reproducible_by_seed():
    tn.manual_seed(0)
    a = tn.randperm(10)
    tn.manual_seed(0)
    assert tn.randperm(10).tolist() == a.tolist() and sorted(a.tolist()) == list(range(10))
    assert tn.randperm(5, generator=4).tolist() == tn.randperm(5, rng=4).tolist()
    assert tn.randperm(0).shape == (0,) and a.dtype == np.int64
    firsts = np.array(
        [tn.randperm(4, generator=np.random.default_rng(i))[0].item() for i in range(400)]
    )
    assert scipy.stats.chisquare(np.bincount(firsts, minlength=4)).pvalue > 0.01
    with pytest.raises(RuntimeError, match="non-negative"):
        tn.randperm(-1)
    with pytest.raises(TypeError, match="not both"):
        tn.randperm(3, generator=0, rng=0)


def test_normal_follows_its_mean_and_std():
    mean = tn.tensor(np.full(4000, 2.0))
    samples = tn.normal(mean, 0.5, generator=0)
    assert samples.dtype == np.float64 and not samples.requires_grad
    assert scipy.stats.kstest(samples.data, scipy.stats.norm(2.0, 0.5).cdf).pvalue > 0.01
    both = tn.normal(tn.zeros(2, 1), tn.ones(3), generator=1)
    assert both.shape == (2, 3) and both.dtype == tn.get_default_dtype()
    assert (
        tn.normal(0.0, 1.0, size=(2,), generator=5).tolist()
        == tn.normal(0.0, 1.0, (2,), rng=5).tolist()
    )
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        tn.normal(tn.zeros(2), -1.0)
    with pytest.raises(TypeError, match="size="):
        tn.normal(0.0, 1.0)


def test_bernoulli_draws_ones_with_the_given_probability():
    p = tn.tensor(np.full(5000, 0.3))
    draws = tn.bernoulli(p, generator=0)
    assert draws.dtype == np.float64 and set(np.unique(draws.data)) <= {0.0, 1.0}
    assert scipy.stats.binomtest(int(draws.data.sum()), 5000, 0.3).pvalue > 0.01
    assert tn.bernoulli(tn.zeros(3), p=1.0, generator=0).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        tn.bernoulli(tn.tensor([1.5]))
    with pytest.raises(TypeError, match="floating"):
        tn.bernoulli(tn.tensor([0, 1]))


def test_multinomial_with_replacement_follows_the_weights():
    weights = np.array([1.0, 0.0, 3.0, 6.0])
    draws = tn.multinomial(tn.tensor(weights), 5000, replacement=True, generator=0)
    assert draws.dtype == np.int64 and draws.shape == (5000,)
    counts = np.bincount(draws.data, minlength=4)
    assert counts[1] == 0
    expected = weights[[0, 2, 3]] / weights.sum() * 5000
    assert scipy.stats.chisquare(counts[[0, 2, 3]], expected).pvalue > 0.01


def test_multinomial_without_replacement_draws_in_sequence():
    weights = np.array([[1.0, 2.0, 3.0, 4.0]] * 3000)
    draws = tn.multinomial(tn.tensor(weights), 2, generator=1).data
    assert draws.shape == (3000, 2) and (draws[:, 0] != draws[:, 1]).all()
    # The second draw follows w[j] / (total - w[first]), summed over the first draws' law.
    p = weights[0] / weights[0].sum()
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j) for j in range(4)])
    for column, law in ((0, p), (1, second)):
        counts = np.bincount(draws[:, column], minlength=4)
        assert scipy.stats.chisquare(counts, law * 3000).pvalue > 0.01


def test_multinomial_is_reproducible_and_raises_pytorchs_errors():
    tn.manual_seed(7)
    a = tn.multinomial(tn.tensor([0.2, 0.8]), 4, replacement=True)
    tn.manual_seed(7)
    assert tn.multinomial(tn.tensor([0.2, 0.8]), 4, replacement=True).tolist() == a.tolist()
    for weights, count, message in [
        (np.ones(3), 4, "without replacement"),
        (np.array([1.0, -1.0]), 1, "element < 0"),
        (np.zeros(2), 1, "sum of probabilities"),
        (np.array([1.0, 0.0]), 2, "not enough non-negative category"),
        (np.ones((2, 2, 2)), 1, "1 or 2 dim"),
        (np.ones(2), 0, "n_sample <= 0"),
    ]:
        with pytest.raises(RuntimeError, match=message):
            tn.multinomial(tn.tensor(weights), count)


# -- printing ---------------------------------------------------------------------------------------
def test_set_printoptions_changes_tensors_only():
    before = np.get_printoptions()
    x = tn.tensor(np.array([1.23456789, 1e-5]))
    try:
        tn.set_printoptions(precision=3)
        assert "1.235" in repr(x) and "1.23456789" in str(np.array([1.23456789]))
        tn.set_printoptions(sci_mode=True)
        assert "1.235e+00" in repr(x)
        tn.set_printoptions(profile="short", sci_mode=False)
        assert repr(x).startswith("Tensor([1.23, 0.  ]")
        tn.set_printoptions(threshold=3, edgeitems=1)
        assert "..." in repr(tn.arange(10))
        with pytest.raises(ValueError, match="profile"):
            tn.set_printoptions(profile="long")
    finally:
        tn.set_printoptions(profile="numpy")
    assert repr(x) == "Tensor([1.23456789e+00, 1.00000000e-05], dtype=float64)"
    assert np.get_printoptions() == before


@pytest.mark.parametrize(
    "draw",
    [
        lambda x: x * tn.bernoulli(tn.full_like(x, 0.5)),
        lambda x: x + tn.normal(tn.zeros_like(x), 1.0),
        lambda x: x[tn.multinomial(x.detach() + 1.0, 2)],
        lambda x: x[tn.randperm(4)],
    ],
    ids=["bernoulli", "normal", "multinomial", "randperm"],
)
def test_a_compiled_function_draws_afresh_and_bit_identical_to_eager(draw):
    x = tn.tensor(np.arange(4.0))
    tn.manual_seed(3)
    eager = [draw(x).tolist() for _ in range(5)]
    step = tn.compile(draw)
    tn.manual_seed(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # falling back to eager would warn
        compiled = [step(x).tolist() for _ in range(5)]
    assert compiled == eager
    assert len({str(values) for values in eager}) > 1
