"""The PyTorch names users still missed (session 9): order statistics, NaN-aware reductions,
histograms, consecutive runs, Tensor conveniences and the in-place forms of existing ops,
checked against NumPy/SciPy and PyTorch's documented semantics. The differentiable ones are
also in the OpInfo table (tests/test_ops.py)."""

import warnings

import numpy as np
import pytest
import scipy.stats

import tinynet as tn

NAMES = (
    "kthvalue mode aminmax nanmedian msort nansum nanmean histc histogram unique_consecutive ravel"
).split()
METHODS = (
    NAMES
    + (
        "unique multinomial bernoulli bernoulli_ type nelement ndimension square_ clamp_min_ "
        "clamp_max_ nan_to_num_ lerp_ cumsum_ eq_ logical_not_ reciprocal_ exponential_ geometric_ "
        "cauchy_ log_normal_ random_"
    ).split()
)
NAN = float("nan")


def f64(values, requires_grad: bool = False) -> tn.Tensor:
    return tn.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def test_every_name_exists_at_the_top_level_in_functional_and_as_a_method():
    assert [name for name in NAMES if not hasattr(tn, name)] == []
    assert [name for name in NAMES if not hasattr(tn.functional, name)] == []
    assert [name for name in METHODS if not hasattr(tn.Tensor, name)] == []


# -- kthvalue ------------------------------------------------------------------------------------
def test_kthvalue_matches_sorting_and_takes_dim_keepdim_both_spellings():
    data = np.random.default_rng(0).standard_normal((3, 5))
    for k in range(1, 6):
        values, indices = tn.kthvalue(f64(data), k, dim=1)
        np.testing.assert_array_equal(values.data, np.sort(data, axis=1)[:, k - 1])
        np.testing.assert_array_equal(data[np.arange(3), indices.data], values.data)
    kept = tn.kthvalue(f64(data), 2, axis=0, keepdims=True)
    assert kept.values.shape == kept.indices.shape == (1, 5)
    assert f64(data).kthvalue(2, 0, True).values.tolist() == kept.values.tolist()


def test_kthvalue_ranks_ties_by_position_and_nan_last():
    x = f64([2.0, 1.0, 2.0, 1.0])
    assert [tn.kthvalue(x, k).indices.item() for k in range(1, 5)] == [1, 3, 0, 2]
    nan_first = f64([NAN, 1.0, 2.0])
    assert tn.kthvalue(nan_first, 2).values.item() == 2.0
    last = tn.kthvalue(nan_first, 3)
    assert np.isnan(last.values.item()) and last.indices.item() == 0


def test_kthvalue_errors_and_a_0d_input():
    with pytest.raises(RuntimeError, match="k out of range"):
        tn.kthvalue(f64([1.0, 2.0]), 3)
    with pytest.raises(RuntimeError, match="k out of range"):
        tn.kthvalue(f64([1.0, 2.0]), 0)
    with pytest.raises(IndexError, match="non-zero size"):
        tn.kthvalue(tn.zeros(2, 0), 1, dim=1)
    with pytest.raises(TypeError, match="k must be an int"):
        tn.kthvalue(f64([1.0, 2.0]), 1.0)
    values, indices = tn.kthvalue(f64(3.0), 1)
    assert values.item() == 3.0 and indices.item() == 0 and values.shape == ()


def test_kthvalue_gradient_goes_to_the_selected_element():
    x = f64([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], requires_grad=True)
    tn.kthvalue(x, 2, dim=1).values.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]


# -- mode --------------------------------------------------------------------------------------------
def test_mode_values_match_scipy_and_the_index_is_the_last_occurrence():
    data = np.random.default_rng(1).integers(0, 4, size=(6, 7))
    values, indices = tn.mode(tn.tensor(data))
    np.testing.assert_array_equal(values.data, scipy.stats.mode(data, axis=1).mode)
    for row, value, index in zip(data, values.data, indices.data):
        assert index == np.flatnonzero(row == value)[-1]
    values0, _ = tn.mode(tn.tensor(data), dim=0, keepdim=True)
    np.testing.assert_array_equal(values0.data, scipy.stats.mode(data, axis=0, keepdims=True).mode)


def test_mode_breaks_a_tie_in_counts_by_the_smallest_value():
    values, indices = tn.mode(tn.tensor([3, 1, 3, 1, 2]))
    assert (values.item(), indices.item()) == (1, 3)
    assert tn.mode(tn.tensor(5)).indices.item() == 0


def test_mode_gradient_goes_to_the_returned_occurrence():
    x = f64([2.0, 7.0, 2.0, 5.0], requires_grad=True)
    tn.mode(x).values.backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0]


# -- aminmax -------------------------------------------------------------------------------------
def test_aminmax_is_amin_and_amax_with_named_fields():
    data = np.random.default_rng(2).standard_normal((3, 4))
    result = tn.aminmax(f64(data), dim=-1, keepdim=True)
    np.testing.assert_array_equal(result.min.data, data.min(-1, keepdims=True))
    np.testing.assert_array_equal(result.max.data, data.max(-1, keepdims=True))
    by_numpy_names = f64(data).aminmax(axis=0, keepdims=True)
    np.testing.assert_array_equal(by_numpy_names.max.data, data.max(0, keepdims=True))
    low, high = f64(data).aminmax()
    assert (low.item(), high.item()) == (data.min(), data.max())


def test_aminmax_refuses_an_empty_reduction_and_a_tuple_of_dims():
    with pytest.raises(RuntimeError, match="empty dimension"):
        tn.aminmax(tn.zeros(0))
    with pytest.raises(RuntimeError, match="empty dimension"):
        tn.aminmax(tn.zeros(2, 0), dim=1)
    assert tn.aminmax(tn.zeros(2, 0), dim=0).min.shape == (0,)
    with pytest.raises(TypeError, match="one int"):
        tn.aminmax(tn.zeros(2, 2), dim=(0, 1))


def test_aminmax_gradients_share_ties_evenly_as_amin_and_amax():
    x = f64([1.0, 3.0, 3.0, 1.0, 2.0], requires_grad=True)
    low, high = tn.aminmax(x)
    (low + 10 * high).backward()
    assert x.grad.tolist() == [0.5, 5.0, 5.0, 0.5, 0.0]


# -- nanmedian -----------------------------------------------------------------------------------
def _lower_nanmedian(row: np.ndarray) -> float:
    present = np.sort(row[~np.isnan(row)])
    return present[(present.size - 1) // 2] if present.size else np.nan


def test_nanmedian_is_median_without_nan():
    data = np.random.default_rng(3).standard_normal((4, 5))
    assert tn.nanmedian(f64(data)).item() == tn.median(f64(data)).item()
    by_nan, by_median = tn.nanmedian(f64(data), 1), tn.median(f64(data), 1)
    assert by_nan.values.tolist() == by_median.values.tolist()
    assert by_nan.indices.tolist() == by_median.indices.tolist()


def test_nanmedian_skips_nan_and_gives_nan_for_a_row_of_nan():
    data = np.array([[2.0, NAN, 1.0, 4.0], [NAN, NAN, NAN, NAN], [NAN, 3.0, NAN, 5.0]])
    values, indices = tn.nanmedian(f64(data), dim=1)
    np.testing.assert_array_equal(values.data, [_lower_nanmedian(row) for row in data])
    assert indices.tolist() == [0, 0, 1]
    assert tn.nanmedian(f64(data)).item() == _lower_nanmedian(data.ravel())
    assert np.isnan(tn.nanmedian(f64([NAN, NAN])).item())
    assert tn.nanmedian(tn.tensor([3, 1, 2])).item() == 2


def test_nanmedian_of_all_shares_its_gradient_among_equal_elements_as_pytorch():
    # PyTorch's evenly_distribute_backward: the elements equal to the median share it.
    x = f64([2.0, NAN, 1.0, 2.0, 3.0], requires_grad=True)
    median = tn.nanmedian(x)
    median.backward()
    assert median.item() == 2.0
    assert x.grad.tolist() == [0.5, 0.0, 0.0, 0.5, 0.0]
    along = f64([[2.0, NAN, 1.0]], requires_grad=True)
    tn.nanmedian(along, 1).values.sum().backward()
    assert along.grad.tolist() == [[0.0, 0.0, 1.0]]


def test_median_is_nan_where_there_is_nan_and_shares_ties_as_pytorch():
    # torch.nanmedian's documentation: "torch.median() will always return NaN" then.
    assert np.isnan(tn.median(f64([1.0, NAN, 2.0, 3.0])).item())
    values, indices = tn.median(f64([[1.0, NAN, 2.0, NAN], [3.0, 2.0, 1.0, 0.0]]), dim=1)
    assert np.isnan(values.data[0]) and values.data[1] == 1.0 and indices.tolist() == [1, 2]
    x = f64([1.0, 2.0, 2.0, 3.0, 2.0], requires_grad=True)
    tn.median(x).backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1 / 3, 1 / 3, 0.0, 1 / 3])
    infinite = f64([np.inf, np.inf, 1.0], requires_grad=True)
    median = tn.median(infinite)
    median.backward()
    assert median.item() == np.inf and infinite.grad.tolist() == [0.5, 0.5, 0.0]
    with_nan = f64([1.0, NAN, NAN], requires_grad=True)
    tn.median(with_nan).backward()  # NaN: the NaN elements share it, as PyTorch
    assert with_nan.grad.tolist() == [0.0, 0.5, 0.5]
    x.grad = None
    tn.median(x.reshape(1, -1), 1).values.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]  # the returned index (stable order)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_nanquantile_matches_numpy_and_quantile_is_nan_where_there_is_nan(interpolation):
    data = np.random.default_rng(10).standard_normal((4, 6))
    data[0, 2] = data[1, :4] = data[3, :] = NAN
    for dim, keepdim in [(1, False), (0, True), (None, False), (None, True)]:
        with warnings.catch_warnings():  # NumPy warns on the slice of NaN only
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = np.nanquantile(
                data, [0.2, 0.5], axis=dim, keepdims=keepdim, method=interpolation
            )
        got = tn.nanquantile(f64(data), [0.2, 0.5], dim, keepdim, interpolation=interpolation)
        np.testing.assert_allclose(got.data, expected, rtol=1e-12)
    clean = data[2]
    assert tn.nanquantile(f64(clean), 0.3).item() == tn.quantile(f64(clean), 0.3).item()
    # torch.quantile: "If any values in a reduced row are NaN then the quantiles for that
    # reduction will be NaN."
    with_nan = tn.quantile(f64(data), 0.5, dim=1, interpolation=interpolation)
    assert np.isnan(with_nan.data).tolist() == [True, True, False, True]
    assert with_nan.data[2] == np.quantile(data[2], 0.5, method=interpolation)


def test_nanquantile_gives_nan_elements_no_gradient():
    x = f64([1.0, NAN, 3.0, 2.0], requires_grad=True)
    tn.nanquantile(x, 0.25).backward()  # rank 0.5 between 1 and 2
    assert x.grad.tolist() == [0.5, 0.0, 0.0, 0.5]


# -- msort, ravel --------------------------------------------------------------------------------
def test_msort_sorts_along_the_first_dimension_and_ravel_flattens():
    data = np.random.default_rng(4).standard_normal((4, 3))
    np.testing.assert_array_equal(tn.msort(f64(data)).data, np.sort(data, axis=0))
    np.testing.assert_array_equal(f64(data).ravel().data, data.ravel())
    assert tn.ravel(f64(1.0)).shape == (1,)


# -- nansum, nanmean -----------------------------------------------------------------------------
def test_nansum_and_nanmean_match_numpy():
    data = np.random.default_rng(5).standard_normal((3, 4))
    data[0, 1] = data[2, :] = NAN
    for axis in (None, 0, 1, (0, 1)):
        np.testing.assert_allclose(tn.nansum(f64(data), axis).data, np.nansum(data, axis))
        with warnings.catch_warnings():  # a slice of NaN only: 0 / 0, as NumPy's warning
            warnings.simplefilter("ignore", RuntimeWarning)
            expected, got = np.nanmean(data, axis), tn.nanmean(f64(data), dim=axis)
        np.testing.assert_allclose(got.data, expected)
    assert tn.nansum(tn.tensor([1, 2]), dtype=tn.float64).dtype == np.float64
    assert f64(data).nanmean(0, keepdim=True).shape == (1, 4)


def test_nanmean_takes_floating_input_only_as_pytorch():
    with pytest.raises(RuntimeError, match="floating"):
        tn.nanmean(tn.tensor([1, 2]))


def test_nan_elements_get_no_gradient():
    x = f64([1.0, NAN, 3.0], requires_grad=True)
    (tn.nansum(x) + tn.nanmean(x)).backward()
    assert x.grad.tolist() == [1.5, 0.0, 1.5]


# -- histc, histogram ----------------------------------------------------------------------------
def test_histc_follows_pytorchs_documented_example_and_rules():
    assert tn.histc(tn.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3).tolist() == [0, 2, 1, 0]
    counts = tn.histc(tn.tensor([0.0, 3.0, -1.0, 4.0, NAN]), bins=3, min=0, max=3)
    assert counts.tolist() == [1.0, 0.0, 1.0] and counts.dtype == np.float32  # outside, NaN
    data = np.random.default_rng(6).standard_normal(50)
    np.testing.assert_array_equal(
        tn.histc(f64(data), bins=7).data, np.histogram(data, 7, (data.min(), data.max()))[0]
    )
    assert tn.histc(f64([2.0, 2.0]), bins=2).tolist() == [0.0, 2.0]  # [1, 3]: one point
    assert not tn.histc(f64([1.0], requires_grad=True)).requires_grad


def test_histc_errors():
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        tn.histc(f64([1.0]), bins=0)
    with pytest.raises(RuntimeError, match="max must be larger than min"):
        tn.histc(f64([1.0]), min=2, max=1)
    with pytest.raises(RuntimeError, match="not finite"):
        tn.histc(f64([1.0, NAN]))
    with pytest.raises(RuntimeError, match="floating"):
        tn.histc(tn.tensor([1, 2]))


def test_histogram_matches_numpy_with_edges_weights_and_density():
    data = np.random.default_rng(7).standard_normal(40)
    weights = np.random.default_rng(8).uniform(size=40)
    for bins, kwargs in [
        (5, {}),
        (4, {"range": (-1.0, 1.0), "density": True}),
        (np.array([-2.0, -0.5, 0.0, 3.0]), {"weight": weights}),
    ]:
        given = tn.tensor(bins) if isinstance(bins, np.ndarray) else bins
        result = tn.histogram(f64(data), given, **kwargs)
        numpy_kwargs = {"weights" if k == "weight" else k: v for k, v in kwargs.items()}
        hist, edges = np.histogram(data, bins, **numpy_kwargs)
        np.testing.assert_allclose(result.hist.data, hist, rtol=1e-12)
        np.testing.assert_array_equal(result.bin_edges.data, edges)
    with pytest.raises(ValueError, match="increase"):
        tn.histogram(f64(data), tn.tensor([1.0, 0.0]))


# -- unique_consecutive --------------------------------------------------------------------------
def test_unique_consecutive_follows_pytorchs_documented_example():
    x = tn.tensor([1, 1, 2, 2, 3, 1, 1, 2])
    assert tn.unique_consecutive(x).tolist() == [1, 2, 3, 1, 2]
    values, inverse, counts = x.unique_consecutive(return_inverse=True, return_counts=True)
    assert inverse.tolist() == [0, 0, 1, 1, 2, 3, 3, 4]
    assert counts.tolist() == [2, 2, 1, 2, 1]


def test_unique_consecutive_along_a_dim_compares_whole_slices_and_nan_is_its_own_run():
    x = tn.tensor([[1, 1, 2, 1], [3, 3, 4, 3]])
    values, inverse, counts = tn.unique_consecutive(x, True, True, dim=1)
    assert values.tolist() == [[1, 2, 1], [3, 4, 3]]
    assert inverse.tolist() == [0, 0, 1, 2] and counts.tolist() == [2, 1, 1]
    assert tn.unique_consecutive(x, dim=0).tolist() == x.tolist()
    assert len(tn.unique_consecutive(f64([NAN, NAN]))) == 2


# -- Tensor conveniences -------------------------------------------------------------------------
def test_type_names_and_casts_as_pytorch():
    x = tn.tensor([1, 2])
    assert x.type() == "tinynet.LongTensor"
    assert tn.zeros(1).type() == "tinynet.FloatTensor"
    assert tn.zeros(1, dtype=tn.float64).type() == "tinynet.DoubleTensor"
    assert tn.tensor([True]).type() == "tinynet.BoolTensor"
    assert x.type(tn.float64).dtype == np.float64
    assert x.type("torch.FloatTensor").dtype == np.float32
    assert x.type("tinynet.IntTensor").dtype == np.int32
    assert x.type(tn.int64) is x  # already that type: no copy
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.cuda.FloatTensor")
    w = f64([1.0], requires_grad=True)
    w.type(tn.float32).sum().backward()
    assert w.grad.tolist() == [1.0]


def test_nelement_and_ndimension_are_numel_and_dim():
    x = tn.zeros(2, 3, 4)
    assert (x.nelement(), x.ndimension()) == (24, 3)


def test_multinomial_and_bernoulli_methods_are_the_functions():
    weights = tn.tensor([0.1, 0.0, 0.9])
    assert (
        weights.multinomial(4, True, generator=5).tolist()
        == tn.multinomial(weights, 4, True, generator=5).tolist()
    )
    p = tn.tensor([0.2, 0.7, 1.0])
    assert p.bernoulli(generator=3).tolist() == tn.bernoulli(p, generator=3).tolist()
    assert p.bernoulli(0.0).tolist() == [0.0, 0.0, 0.0]


def test_bernoulli_in_place_fills_any_dtype_with_zeros_and_ones():
    x = tn.zeros(2000, dtype=tn.int64)
    before = x.version
    assert x.bernoulli_(0.3, generator=0) is x and x.version == before + 1
    assert set(np.unique(x.data)) == {0, 1}
    assert abs(x.data.mean() - 0.3) < 0.05
    y = tn.zeros(2, 3)
    y.bernoulli_(tn.tensor([0.0, 1.0, 0.0]))
    assert y.tolist() == [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
    with pytest.raises(RuntimeError, match="leaf"):
        tn.zeros(2, requires_grad=True).bernoulli_()


# -- reciprocal, isin, argwhere -----------------------------------------------------------------
def test_reciprocal_isin_and_argwhere_as_pytorch():
    assert tn.reciprocal(tn.tensor([2, 4])).dtype == tn.get_default_dtype()  # ints: floats
    x = f64([0.5, -4.0], requires_grad=True)
    x.reciprocal().sum().backward()
    assert x.grad.tolist() == [-4.0, -0.0625]
    data = np.random.default_rng(9).integers(0, 6, size=(3, 4))
    tests = np.array([1, 4, 9])
    np.testing.assert_array_equal(
        tn.isin(tn.tensor(data), tn.tensor(tests)).data, np.isin(data, tests)
    )
    assert tn.isin(tn.tensor([1, 2]), 2, invert=True).tolist() == [True, False]
    assert tn.isin(3, tn.tensor([3])).item() is True
    np.testing.assert_array_equal(tn.argwhere(tn.tensor(data)).data, np.argwhere(data))


# -- random fills ----------------------------------------------------------------------------------
def _filled(name, *args, dtype=tn.float64, **kwargs):
    x = tn.zeros(20000, dtype=dtype)
    before = x.version
    assert getattr(x, name)(*args, generator=0, **kwargs) is x and x.version == before + 1
    return x.data


def test_random_fills_follow_their_distributions():
    # Kolmogorov-Smirnov against SciPy's distributions, with PyTorch's parameterizations.
    assert scipy.stats.kstest(_filled("exponential_", 2.0), "expon", args=(0, 0.5)).pvalue > 1e-3
    assert scipy.stats.kstest(_filled("cauchy_", 3.0, 0.5), "cauchy", args=(3.0, 0.5)).pvalue > 1e-3
    normal = np.log(_filled("log_normal_", 1.0, 0.5))
    assert scipy.stats.kstest(normal, "norm", args=(1.0, 0.5)).pvalue > 1e-3
    trials = _filled("geometric_", 0.25)
    assert trials.min() >= 1 and abs(trials.mean() - 4.0) < 0.1  # 1 / p


def test_random_fill_of_whole_numbers_takes_pytorchs_bounds():
    assert set(np.unique(_filled("random_", 5))) == {0, 1, 2, 3, 4}  # random_(to)
    assert set(np.unique(_filled("random_", -2, 1))) == {-2, -1, 0}  # random_(from, to)
    assert set(np.unique(_filled("random_", **{"from": 3, "to": 5}))) == {3, 4}
    assert _filled("random_", dtype=tn.float32).max() <= 2**24
    assert set(np.unique(_filled("random_", dtype=tn.bool_))) == {False, True}
    assert _filled("random_", dtype=tn.int32).dtype == np.int32
    with pytest.raises(RuntimeError, match="from"):
        tn.zeros(2).random_(3, 3)


def test_random_fills_refuse_bad_parameters_and_are_reproducible():
    for name, args in [
        ("exponential_", (0.0,)),
        ("geometric_", (1.0,)),
        ("cauchy_", (0.0, -1.0)),
        ("log_normal_", (0.0, 0.0)),
    ]:
        with pytest.raises(RuntimeError):
            getattr(tn.zeros(2), name)(*args)
    tn.manual_seed(4)
    first = tn.zeros(5).exponential_().tolist()
    tn.manual_seed(4)
    assert tn.zeros(5).exponential_().tolist() == first
    with pytest.raises(TypeError, match="not both"):
        tn.zeros(2).cauchy_(generator=0, rng=0)


def test_uniform_and_normal_fills_take_pytorchs_generator_keyword():
    # docs/from-pytorch.md: the random fills take PyTorch's parameters, generator= or rng=.
    for name, args, reference in [
        ("uniform_", (-1.0, 3.0), lambda draw, n: draw.uniform(-1.0, 3.0, n)),
        ("normal_", (5.0, 0.5), lambda draw, n: draw.normal(5.0, 0.5, n)),
    ]:
        expected = reference(np.random.default_rng(7), 6).astype(np.float32)
        for keyword in ("generator", "rng"):
            filled = getattr(tn.zeros(6), name)(*args, **{keyword: 7})
            np.testing.assert_array_equal(filled.data, expected)
        with pytest.raises(TypeError, match="not both"):
            getattr(tn.zeros(2), name)(*args, generator=0, rng=0)
    assert scipy.stats.kstest(_filled("uniform_", -1.0, 3.0), "uniform", args=(-1, 4)).pvalue > 1e-3
    assert scipy.stats.kstest(_filled("normal_", 5.0, 0.5), "norm", args=(5, 0.5)).pvalue > 1e-3
    with pytest.raises(RuntimeError, match="from=1.0 > to=0.0"):
        tn.zeros(2).uniform_(1.0, 0.0)  # PyTorch refuses an empty range; NumPy would not
    with pytest.raises(RuntimeError, match="std >= 0"):
        tn.zeros(2).normal_(0.0, -1.0)


FILLS = {
    "uniform_": (-1.0, 1.0),
    "normal_": (0.0, 2.0),
    "bernoulli_": (0.3,),
    "exponential_": (1.5,),
    "geometric_": (0.4,),
    "cauchy_": (0.0, 1.0),
    "log_normal_": (0.0, 0.5),
    "random_": (0, 10),
}


@pytest.mark.parametrize("name", list(FILLS))
def test_a_compiled_step_draws_its_random_fill_afresh_at_each_replay(name):
    def step(x):
        return x * getattr(tn.zeros(4, dtype=tn.float64), name)(*FILLS[name])

    x = tn.ones(4, dtype=tn.float64)
    tn.manual_seed(3)
    eager = [step(x).data for _ in range(5)]
    compiled = tn.compile(step)
    tn.manual_seed(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to eager: the draws are traced
        replayed = [compiled(x).data for _ in range(5)]
    for got, want in zip(replayed, eager):
        np.testing.assert_array_equal(got, want)
    assert len({values.tobytes() for values in replayed}) > 1


# -- in-place forms ------------------------------------------------------------------------------
# PyTorch's Tensor methods ending in "_" (torch/_tensor_docs.py, docs/source/tensors.rst).
PYTORCH_INPLACE = (
    "abs_ absolute_ acos_ arccos_ acosh_ arccosh_ add_ addbmm_ addcdiv_ addcmul_ addmm_ addmv_ "
    "addr_ asin_ arcsin_ asinh_ arcsinh_ atan_ arctan_ atan2_ arctan2_ atanh_ arctanh_ baddbmm_ "
    "bernoulli_ bitwise_and_ bitwise_not_ bitwise_or_ bitwise_xor_ cauchy_ ceil_ clamp_ clip_ "
    "clamp_min_ clamp_max_ copy_ copysign_ cos_ cosh_ cumprod_ cumsum_ deg2rad_ digamma_ div_ "
    "divide_ eq_ erf_ erfc_ erfinv_ exp_ exp2_ expm1_ exponential_ fill_ fill_diagonal_ fix_ "
    "float_power_ floor_ floor_divide_ fmod_ frac_ gcd_ ge_ greater_equal_ geometric_ gt_ "
    "greater_ heaviside_ hypot_ i0_ index_add_ index_copy_ index_fill_ index_put_ lcm_ ldexp_ "
    "le_ less_equal_ lerp_ lgamma_ log_ log10_ log1p_ log2_ log_normal_ logical_and_ "
    "logical_not_ logical_or_ logical_xor_ logit_ lt_ less_ masked_fill_ masked_scatter_ mul_ "
    "multiply_ nan_to_num_ ne_ not_equal_ neg_ negative_ nextafter_ normal_ pow_ put_ rad2deg_ "
    "random_ reciprocal_ relu_ remainder_ renorm_ resize_ round_ rsqrt_ scatter_ scatter_add_ "
    "scatter_reduce_ sgn_ sigmoid_ sign_ sin_ sinc_ sinh_ sqrt_ square_ squeeze_ sub_ "
    "subtract_ swapaxes_ swapdims_ t_ tan_ tanh_ transpose_ tril_ triu_ true_divide_ trunc_ "
    "uniform_ unsqueeze_ xlogy_ zero_"
).split()
# In place in PyTorch but not a write of values: they change the shape a tensor views.
CHANGES_THE_VIEW = {"squeeze_", "unsqueeze_", "t_", "transpose_", "swapaxes_", "swapdims_"}


def test_every_pytorch_in_place_form_of_an_op_tinynet_has_exists():
    missing = [
        name
        for name in PYTORCH_INPLACE
        if name not in CHANGES_THE_VIEW
        and hasattr(tn.Tensor, name[:-1])
        and not hasattr(tn.Tensor, name)
    ]
    assert missing == []


POSITIVE = np.array([[0.3, 0.5, 0.9], [0.2, 0.7, 0.4]])
IN_PLACE_CALLS = {
    "exp2_": (), "expm1_": (), "log2_": (), "log10_": (), "log1p_": (), "rsqrt_": (),
    "square_": (), "frac_": (), "reciprocal_": (), "erf_": (), "sin_": (), "cos_": (), "tan_": (), "asin_": (),
    "acos_": (), "atan_": (), "sinh_": (), "cosh_": (), "asinh_": (), "atanh_": (),
    "arcsin_": (), "arctanh_": (),
    "clamp_min_": (0.45,), "clamp_max_": (0.45,), "nan_to_num_": (),
    "atan2_": (f64([0.5, 1.0, 2.0]),), "arctan2_": (f64([0.5, 1.0, 2.0]),),
    "hypot_": (f64([0.5, 1.0, 2.0]),), "fmod_": (0.25,), "remainder_": (0.25,),
    "floor_divide_": (0.25,), "lerp_": (f64([1.0, 2.0, 3.0]), 0.25), "cumsum_": (1,),
    "cumprod_": (0,), "tril_": (), "triu_": (1,),
    "scatter_": (1, tn.tensor([[2], [0]]), f64([[5.0], [6.0]])),
    "scatter_add_": (1, tn.tensor([[2], [2]]), f64([[5.0], [6.0]])),
    "scatter_reduce_": (1, tn.tensor([[2], [2]]), f64([[5.0], [6.0]]), "amax"),
    "eq_": (0.5,), "ne_": (0.5,), "lt_": (0.5,), "le_": (0.5,), "gt_": (0.5,), "ge_": (0.5,),
    "logical_and_": (f64([1.0, 0.0, 1.0]),), "logical_or_": (f64([1.0, 0.0, 0.0]),),
    "logical_xor_": (f64([1.0, 0.0, 1.0]),), "logical_not_": (),
}  # fmt: skip
OUT_OF_PLACE = {"arcsin_": "asin", "arctanh_": "atanh", "arctan2_": "atan2"}


@pytest.mark.parametrize("name", sorted(IN_PLACE_CALLS))
def test_an_in_place_form_writes_the_out_of_place_result(name):
    args = IN_PLACE_CALLS[name]
    out_of_place = OUT_OF_PLACE.get(name, name[:-1])
    expected = getattr(f64(POSITIVE), out_of_place)(*args)
    x = f64(POSITIVE)
    memory, before = x.data, x.version
    assert getattr(x, name)(*args) is x
    assert x.data is memory and x.version == before + 1 and x.dtype == np.float64
    np.testing.assert_array_equal(x.data, expected.data.astype(np.float64))


@pytest.mark.parametrize("name", sorted(IN_PLACE_CALLS))
def test_an_in_place_form_on_a_non_leaf_has_the_out_of_place_gradient(name):
    args = IN_PLACE_CALLS[name]
    out_of_place = OUT_OF_PLACE.get(name, name[:-1])
    weights = f64(np.arange(1.0, 7.0).reshape(2, 3))
    a = f64(POSITIVE, requires_grad=True)
    result = getattr(a * 1.0, out_of_place)(*args)
    if result.requires_grad:  # comparisons give constants: PyTorch's zero gradient
        (result * weights).sum().backward()
    b = f64(POSITIVE, requires_grad=True)
    h = b * 1.0
    getattr(h, name)(*args)
    (h * weights).sum().backward()
    expected = np.zeros_like(POSITIVE) if a.grad is None else a.grad.data
    np.testing.assert_array_equal(b.grad.data, expected)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(f64(POSITIVE, requires_grad=True), name)(*args)


# -- tn.compile finds data-dependent indices again on each call --------------------------------
# The first two calls agree on every order, median, mode and bin (a1 and a2 sort alike), so
# a recording that kept them as constants would replay them for b: each is found in a
# traced call instead.
DATA_DEPENDENT = {
    "sort": lambda x: tn.sort(x, 0).values,
    "argsort": lambda x: tn.argsort(x, 0).double(),
    "topk": lambda x: tn.topk(x, 2).values,
    "cummax": lambda x: tn.cummax(x, 0).values,
    "kthvalue": lambda x: tn.kthvalue(x, 2, 0).values,
    "mode": lambda x: tn.mode(tn.cat([x, x[:1]]), 0).values,
    "median": lambda x: tn.median(x),
    "median_dim": lambda x: tn.median(x, 0).values,
    "nanmedian": lambda x: tn.nanmedian(x),
    "nanmedian_nan": lambda x: tn.nanmedian(x * tn.tensor([1.0, 1.0, NAN, 1.0])),
    "quantile": lambda x: tn.quantile(x, tn.tensor([0.3, 0.5])),
    "nanquantile": lambda x: tn.nanquantile(x * tn.tensor([NAN, 1.0, 1.0, 1.0]), 0.5),
    "nansum": lambda x: tn.nansum(tn.log(x - 1.5)),
    "nanmean": lambda x: tn.nanmean(tn.log(x - 1.5)),
    "histc": lambda x: tn.histc(x, 3),
    "histogram": lambda x: tn.histogram(x, 3).bin_edges,
    "isin": lambda x: tn.isin(x, tn.tensor([2.0, 9.0])).double(),
}


@pytest.mark.parametrize("name", sorted(DATA_DEPENDENT))
def test_a_compiled_step_finds_data_dependent_indices_again(name):
    function = DATA_DEPENDENT[name]
    a1, a2 = f64([1.0, 2.0, 3.0, 2.0]), f64([1.5, 2.5, 3.5, 2.5])
    b = f64([9.0, 2.0, 1.0, 0.0])
    step = tn.compile(lambda x: function(x) * 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log of negatives: NaN on purpose
        results = [step(x) for x in (a1, a2, b, a1)]
        expected = [function(x) for x in (a1, a2, b, a1)]
    for got, wanted in zip(results, expected):
        np.testing.assert_array_equal(got.data, wanted.data)


def test_histogram_of_a_subnormal_range_counts_in_float64_instead_of_raising():
    # float32 cannot make 3 distinct edges over [0, 1.4e-45] (NumPy raises "Too many bins");
    # the closed form: 0 falls in the first bin, the largest value in the last.
    x = tn.tensor(np.array([0.0, 1.4e-45, 1.4e-45], np.float32))
    hist, edges = tn.histogram(x, bins=3)
    assert hist.dtype == edges.dtype == tn.float32
    assert hist.tolist() == [1.0, 0.0, 2.0]
    assert edges.data[0] == 0 and edges.data[-1] == np.float32(1.4e-45)
    assert tn.histc(x, bins=3).tolist() == [1.0, 0.0, 2.0]
