"""Semantics of the ops of issue 11 beyond the OpInfo table: special values, operators,
integer inputs, modules, errors (the table covers forward, gradients and dtypes)."""

import math

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F

SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -2.5])


def test_isnan_isinf_isfinite_on_special_values():
    x = tn.tensor(SPECIAL)
    assert tn.isnan(x).tolist() == [True, False, False, False, False]
    assert x.isinf().tolist() == [False, True, True, False, False]
    assert x.isfinite().tolist() == [False, False, False, True, True]
    assert tn.isnan(x).dtype == np.bool_


def test_logical_ops_treat_nonzero_as_true_and_broadcast():
    a = tn.tensor([[0.0, 2.0, -1.0]])
    b = tn.tensor([[0.0], [3.0]])
    assert tn.logical_and(a, b).tolist() == [[False, False, False], [False, True, True]]
    assert a.logical_or(b).tolist() == [[False, True, True], [True, True, True]]
    assert tn.logical_xor(a, b).tolist() == [[False, True, True], [True, False, False]]
    assert tn.logical_not(a).tolist() == [[True, False, False]]
    with pytest.raises(tn.ShapeError, match="logical_and"):
        tn.logical_and(tn.ones(2), tn.ones(3))


@pytest.mark.parametrize("a, b", [(7.0, 2.0), (-7.0, 2.0), (7.0, -2.0), (-7.5, -2.0), (5.0, 0.5)])
def test_floordiv_and_mod_operators_match_python(a, b):
    x = tn.tensor([a], dtype=tn.float64)
    assert (x // b).item() == a // b
    assert (x % b).item() == a % b
    assert (a // tn.tensor([b], dtype=tn.float64)).item() == a // b
    assert (a % tn.tensor([b], dtype=tn.float64)).item() == a % b
    assert tn.fmod(x, b).item() == math.fmod(a, b)


def test_floordiv_is_exact_where_floor_of_the_quotient_is_not():
    x = tn.tensor([1.0], dtype=tn.float64)
    assert (x // 0.1).item() == 1.0 // 0.1 == 9.0  # floor(1 / 0.1) would give 10


def test_rounding_integer_tensors_keeps_them_integer():
    counts = tn.tensor([-2, 0, 3], dtype=tn.int64)
    for op in (tn.floor, tn.ceil, tn.trunc, tn.round, tn.sign):
        assert op(counts).dtype == np.int64
    assert tn.sign(counts).tolist() == [-1, 0, 1]


def test_floordiv_of_integer_tensors_stays_integer():
    x = tn.tensor([7, -7], dtype=tn.int64)
    result = x // 2
    assert result.dtype == np.int64 and result.tolist() == [3, -4]
    assert (x % 3).tolist() == [1, 2]


def test_round_halves_to_even_and_with_decimals():
    x = tn.tensor([0.5, 1.5, 2.5, -0.5, 1.25], dtype=tn.float64)
    assert tn.round(x).tolist() == [0.0, 2.0, 2.0, -0.0, 1.0]
    assert x.round(decimals=1).tolist() == [0.5, 1.5, 2.5, -0.5, 1.2]


def test_where_takes_scalars_on_either_side_and_as_a_method():
    x = tn.tensor([-1.0, 2.0], requires_grad=True)
    assert tn.where(x > 0, 1.0, x).tolist() == [-1.0, 1.0]
    assert tn.where(x > 0, x, 0.0).tolist() == [0.0, 2.0]
    assert x.where(x > 0, -5.0).tolist() == [-5.0, 2.0]
    assert tn.where(np.array([True, False]), 1.0, 2.0).tolist() == [1.0, 2.0]


def test_arc_aliases_are_the_same_functions():
    assert tn.arcsin is tn.asin and tn.arctan2 is tn.atan2 and tn.arccosh is tn.acosh
    x = tn.tensor([0.5])
    assert x.arcsin().item() == x.asin().item()


def test_glu_needs_an_even_length_and_hardtanh_ordered_bounds():
    with pytest.raises(ValueError, match="even"):
        tn.glu(tn.ones(2, 3))
    with pytest.raises(ValueError, match="min_val"):
        tn.hardtanh(tn.ones(2), 1.0, -1.0)
    with pytest.raises(ValueError, match="alpha"):
        tn.celu(tn.ones(2), 0.0)


MODULES = [
    (nn.SiLU(), F.silu),
    (nn.Mish(), F.mish),
    (nn.SELU(), F.selu),
    (nn.CELU(0.5), lambda x: F.celu(x, 0.5)),
    (nn.ReLU6(), F.relu6),
    (nn.Hardtanh(-0.5, 2.0), lambda x: F.hardtanh(x, -0.5, 2.0)),
    (nn.Hardsigmoid(), F.hardsigmoid),
    (nn.Hardswish(), F.hardswish),
    (nn.Softsign(), F.softsign),
    (nn.LogSigmoid(), F.logsigmoid),
    (nn.Softmin(dim=0), lambda x: F.softmin(x, 0)),
    (nn.GLU(dim=0), lambda x: F.glu(x, 0)),
]


@pytest.mark.parametrize("module, function", MODULES, ids=[type(m).__name__ for m, _ in MODULES])
def test_activation_modules_apply_their_function(module, function):
    x = tn.tensor(np.linspace(-4, 7, 12).reshape(4, 3))
    np.testing.assert_array_equal(module(x).data, function(x).data)
    assert list(module.parameters()) == []
    assert type(module).__name__ in repr(module)


def test_activation_values_against_closed_forms():
    x = np.linspace(-4, 4, 9)
    t = tn.tensor(x, dtype=tn.float64)
    np.testing.assert_allclose(F.silu(t).data, x / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(F.mish(t).data, x * np.tanh(np.log1p(np.exp(x))), rtol=1e-14)
    np.testing.assert_allclose(F.relu6(t * 2).data, np.minimum(np.maximum(2 * x, 0), 6))
    np.testing.assert_allclose(F.logsigmoid(t).data, np.log(1 / (1 + np.exp(-x))), rtol=1e-13)


def test_the_estimators_silu_is_nn_silu():
    from tinynet.estimators._network import activation_module

    assert isinstance(activation_module("silu"), nn.SiLU)


# -- scans, sorting, order statistics --------------------------------------------------------
def leaf(values, dtype=np.float64) -> tn.Tensor:
    return tn.Tensor(np.array(values, dtype=dtype), requires_grad=True)


def test_sort_is_stable_on_ties_and_each_tie_gets_its_own_gradient():
    x = leaf([2.0, 1.0, 2.0, 0.0])
    values, indices = tn.sort(x, descending=True)
    assert values.tolist() == [2.0, 2.0, 1.0, 0.0] and indices.tolist() == [0, 2, 1, 3]
    (values * tn.tensor([1.0, 10.0, 100.0, 1000.0], dtype=tn.float64)).sum().backward()
    assert x.grad.tolist() == [1.0, 100.0, 10.0, 1000.0]
    assert tn.argsort(tn.tensor([1.0, 0.0, 1.0])).tolist() == [1, 0, 2]


def test_topk_sorted_results_and_errors():
    values, indices = tn.tensor([1.0, 5.0, 3.0, 5.0]).topk(2)
    assert values.tolist() == [5.0, 5.0] and indices.tolist() == [1, 3]
    assert tn.topk(tn.tensor([1.0, 5.0, 3.0]), 2, largest=False).indices.tolist() == [0, 2]
    with pytest.raises(ValueError, match="k=4"):
        tn.topk(tn.ones(3), 4)


def test_cummax_and_cummin_ties_take_the_latest_index_which_gets_the_gradient():
    x = leaf([1.0, 3.0, 2.0, 3.0, 0.0])
    values, indices = tn.cummax(x, 0)
    assert values.tolist() == [1.0, 3.0, 3.0, 3.0, 3.0] and indices.tolist() == [0, 1, 1, 3, 3]
    values.sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 0.0, 2.0, 0.0]
    assert tn.cummin(tn.tensor([2.0, 1.0, 1.0, 3.0]), dim=0).indices.tolist() == [0, 1, 2, 2]


def test_median_is_the_lower_middle_of_an_even_count():
    x = leaf([4.0, 1.0, 3.0, 2.0])
    median = tn.median(x)
    assert median.item() == 2.0
    median.backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 1.0]
    values, indices = tn.tensor([[4.0, 1.0, 3.0, 2.0]]).median(dim=1, keepdim=True)
    assert values.tolist() == [[2.0]] and indices.tolist() == [[3]]


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_quantile_matches_numpy(interpolation):
    data = np.random.default_rng(0).standard_normal((3, 5))
    q = [0.0, 0.25, 0.5, 0.9, 1.0]
    got = tn.quantile(tn.tensor(data), q, dim=1, keepdim=True, interpolation=interpolation)
    expected = np.quantile(data, q, axis=1, keepdims=True, method=interpolation)
    np.testing.assert_allclose(got.data, expected, rtol=1e-14)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        tn.quantile(tn.tensor(data), 1.5)


def test_cumsum_dtype_and_scans_of_zero_dimensional_tensors():
    counts = tn.tensor([1, 2, 3], dtype=tn.int64)
    assert tn.cumsum(counts, 0, dtype=tn.float64).dtype == np.float64
    assert tn.cumsum(tn.tensor(2.0), 0).shape == ()
    with pytest.raises(IndexError):
        tn.cumsum(tn.ones(2), 1)


def test_cumprod_gradients_with_zeros_are_exact():
    x = leaf([2.0, 0.0, 3.0, 0.0])
    (tn.cumprod(x, 0) * tn.tensor([1.0, 1.0, 1.0, 1.0], dtype=tn.float64)).sum().backward()
    # out = [2, 0, 0, 0]; d/dx1 = x0 + x0 x2 + x0 x2 x3 = 2 + 6 + 0
    assert x.grad.tolist() == [1.0, 8.0, 0.0, 0.0]


def test_logcumsumexp_is_stable_over_a_wide_range():
    x = leaf([-1000.0, 0.0, 1000.0])
    out = tn.logcumsumexp(x, 0)
    np.testing.assert_allclose(out.data, [-1000.0, 0.0, 1000.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])


def test_any_all_with_dim_and_keepdim_spellings():
    x = tn.tensor([[0.0, 1.0], [0.0, 0.0]])
    assert tn.any(x, dim=1).tolist() == [True, False]
    assert x.all(axis=0, keepdims=True).tolist() == [[False, False]]
    assert tn.any(x).item() is True


# -- norms and einsum -----------------------------------------------------------------------------
def test_vector_and_matrix_norms_match_numpy():
    data = np.random.default_rng(1).standard_normal((3, 4))
    x = tn.tensor(data)
    for p in (1, 2, 3, np.inf, -np.inf, 0):
        np.testing.assert_allclose(tn.norm(x, p, dim=1).data, np.linalg.norm(data, p, axis=1))
    for p in ("fro", 1, -1, np.inf, -np.inf):
        np.testing.assert_allclose(x.norm(p, dim=(0, 1)).data, np.linalg.norm(data, p))
    for p in ("nuc", 2, -2):  # from the singular values, any pair of axes, keepdim too
        np.testing.assert_allclose(x.norm(p, dim=(1, 0)).data, np.linalg.norm(data, p))
        batch = np.stack([data, 2 * data])
        np.testing.assert_allclose(
            tn.norm(tn.tensor(batch), p, dim=(0, 2), keepdim=True).data,
            np.linalg.norm(batch, p, axis=(0, 2), keepdims=True),
        )
    with pytest.raises(ValueError, match="unknown matrix norm"):
        tn.norm(x, 3, dim=(0, 1))


def test_norm_and_normalize_of_zero_have_zero_gradient():
    x = leaf([0.0, 0.0])
    tn.norm(x).backward()
    assert x.grad.tolist() == [0.0, 0.0]
    y = leaf([[0.0, 0.0], [3.0, 4.0]])
    out = tn.normalize(y, dim=1)
    assert out.tolist() == [[0.0, 0.0], [0.6, 0.8]]
    out.sum().backward()
    assert np.isfinite(y.grad.data).all()


@pytest.mark.parametrize(
    "equation, shapes",
    [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
     ("ii->i", [(3, 3)]), ("ij->", [(2, 3)]), ("i,j->ij", [(2,), (3,)]),
     ("...ij,...jk", [(2, 2, 3), (3, 1)]), ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
     ("ba", [(2, 3)]), ("ij,ij->ij", [(2, 3), (1, 3)])],
)  # fmt: skip
def test_einsum_matches_numpy(equation, shapes):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s) for s in shapes]
    got = tn.einsum(equation, *[tn.tensor(a) for a in arrays])
    np.testing.assert_allclose(got.data, np.einsum(equation, *arrays), rtol=1e-12)


def test_einsum_errors_name_the_problem():
    with pytest.raises(ValueError, match="2 operand"):
        tn.einsum("ij,jk->ik", tn.ones(2, 2))
    with pytest.raises(ValueError, match="names 2 axes"):
        tn.einsum("ij->i", tn.ones(3))
    with pytest.raises(tn.ShapeError, match="label 'j'"):
        tn.einsum("ij,jk->ik", tn.ones(2, 3), tn.ones(2, 2))


# -- shape and movement ------------------------------------------------------------------------------
def test_split_chunk_unbind_shapes_like_pytorch():
    x = tn.ones(5, 2)
    assert [t.shape for t in tn.chunk(x, 3)] == [(2, 2), (2, 2), (1, 2)]
    assert [t.shape for t in x.split([1, 4])] == [(1, 2), (4, 2)]
    assert [t.shape for t in tn.unbind(x, dim=1)] == [(5,), (5,)]
    with pytest.raises(ValueError, match="add up"):
        tn.split(x, [1, 1])


def test_repeat_tile_repeat_interleave_meshgrid_against_numpy():
    data = np.arange(6.0).reshape(2, 3)
    x = tn.tensor(data)
    np.testing.assert_array_equal(x.repeat(2, 1, 2).data, np.tile(data, (2, 1, 2)))
    np.testing.assert_array_equal(x.tile((2,)).data, np.tile(data, 2))
    np.testing.assert_array_equal(x.repeat_interleave(2, dim=0).data, np.repeat(data, 2, 0))
    grid_x, grid_y = tn.meshgrid(tn.arange(3), tn.arange(2), indexing="xy")
    expected_x, expected_y = np.meshgrid(np.arange(3), np.arange(2), indexing="xy")
    np.testing.assert_array_equal(grid_x.data, expected_x)
    np.testing.assert_array_equal(grid_y.data, expected_y)
    with pytest.raises(ValueError, match="at least one per dimension"):
        x.repeat(2)


def test_pad_modes_against_numpy_and_the_reflect_limit():
    data = np.arange(12.0).reshape(3, 4)
    for mode, numpy_mode in [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")]:
        got = tn.pad(tn.tensor(data), ((1, 2), (2, 0)), mode=mode)
        np.testing.assert_array_equal(got.data, np.pad(data, ((1, 2), (2, 0)), mode=numpy_mode))
    cropped = tn.pad(tn.tensor(data), ((-1, 0), (1, -2)))
    np.testing.assert_array_equal(cropped.data, np.pad(data[1:, :2], ((0, 0), (1, 0))))
    with pytest.raises(ValueError, match="at most 2"):
        tn.pad(tn.tensor(data), ((3, 0), (0, 0)), mode="reflect")
    with pytest.raises(ValueError, match="mode"):
        tn.pad(tn.tensor(data), 1, mode="symmetric")


def test_pad_gradients_accumulate_on_reflected_elements():
    x = leaf([1.0, 2.0, 3.0])
    tn.pad(x, (2, 2), mode="reflect").sum().backward()  # [3 2 | 1 2 3 | 2 1]
    assert x.grad.tolist() == [2.0, 3.0, 2.0]


def test_tril_triu_diag_diagonal_roll_flip_movedim():
    data = np.arange(12.0).reshape(3, 4)
    x = tn.tensor(data)
    np.testing.assert_array_equal(x.tril(-1).data, np.tril(data, -1))
    np.testing.assert_array_equal(tn.triu(x, 1).data, np.triu(data, 1))
    np.testing.assert_array_equal(tn.diag(x, 1).data, np.diag(data, 1))
    np.testing.assert_array_equal(tn.diag(tn.tensor([1.0, 2.0]), -1).data, np.diag([1.0, 2.0], -1))
    np.testing.assert_array_equal(x.roll((1, -1), (0, 1)).data, np.roll(data, (1, -1), (0, 1)))
    np.testing.assert_array_equal(x.flip(0).data, data[::-1])
    assert tn.movedim(tn.ones(2, 3, 4), 0, -1).shape == (3, 4, 2)
    assert x.swapaxes(0, 1).shape == (4, 3) and x.unflatten(1, (2, 2)).shape == (3, 2, 2)


# -- indexing and scatter --------------------------------------------------------------------------
def test_gather_with_repeated_indices_accumulates_gradients():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    out = tn.gather(x, 1, tn.tensor([[0, 0, 0], [1, 0, 1]]))
    assert out.tolist() == [[1.0, 1.0, 1.0], [4.0, 3.0, 4.0]]
    out.sum().backward()
    assert x.grad.tolist() == [[3.0, 0.0], [1.0, 2.0]]
    with pytest.raises(IndexError, match="out of bounds"):
        tn.gather(x, 1, tn.tensor([[2], [0]]))


def test_scatter_add_accumulates_forward_and_backward():
    x, src = leaf([0.0, 0.0, 0.0]), leaf([1.0, 2.0, 3.0])
    out = tn.scatter_add(x, 0, tn.tensor([0, 2, 0]), src)
    assert out.tolist() == [4.0, 0.0, 2.0]
    (out * tn.tensor([10.0, 20.0, 30.0], dtype=tn.float64)).sum().backward()
    assert x.grad.tolist() == [10.0, 20.0, 30.0]
    assert src.grad.tolist() == [10.0, 30.0, 10.0]


def test_scatter_last_write_wins_and_every_duplicate_gets_its_places_gradient():
    # PyTorch: the CPU writes in order (the last wins); src's gradient is grad.gather(dim, index)
    x, src = leaf([0.0, 0.0, 0.0]), leaf([1.0, 2.0, 3.0])
    out = x.scatter(0, tn.tensor([0, 2, 0]), src)
    assert out.tolist() == [3.0, 0.0, 2.0]
    (out * tn.tensor([10.0, 20.0, 30.0], dtype=tn.float64)).sum().backward()
    assert x.grad.tolist() == [0.0, 20.0, 0.0]
    assert src.grad.tolist() == [10.0, 30.0, 10.0]
    assert tn.scatter(tn.zeros(2), 0, tn.tensor([1]), value=5.0).tolist() == [0.0, 5.0]


def test_scatter_reduce_amax_ties_share_the_gradient_and_prod_handles_zeros():
    x, src = leaf([1.0, 5.0]), leaf([3.0, 3.0, 5.0])
    out = tn.scatter_reduce(x, 0, tn.tensor([0, 0, 1]), src, "amax")
    assert out.tolist() == [3.0, 5.0]
    out.sum().backward()
    assert src.grad.tolist() == [0.5, 0.5, 0.5] and x.grad.tolist() == [0.0, 0.5]
    x, src = leaf([2.0, 1.0]), leaf([0.0, 3.0, 4.0])
    out = tn.scatter_reduce(x, 0, tn.tensor([0, 0, 1]), src, "prod", include_self=False)
    assert out.tolist() == [0.0, 4.0]
    out.sum().backward()
    assert src.grad.tolist() == [3.0, 0.0, 1.0] and x.grad.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="reduce"):
        tn.scatter_reduce(x, 0, tn.tensor([0]), src, "max")


def test_index_select_masked_ops_nonzero_one_hot():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    picked = x.index_select(1, tn.tensor([2, 2, 0]))
    assert picked.tolist() == [[3.0, 3.0, 1.0], [6.0, 6.0, 4.0]]
    picked.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 2.0], [1.0, 0.0, 2.0]]
    mask = tn.tensor([True, False, True])
    assert x.masked_fill(mask, 0.0).tolist() == [[0.0, 2.0, 0.0], [0.0, 5.0, 0.0]]
    assert tn.masked_select(x, mask).tolist() == [1.0, 3.0, 4.0, 6.0]
    with pytest.raises(TypeError, match="boolean"):
        tn.masked_fill(x, tn.tensor([1.0, 0.0, 1.0]), 0.0)
    assert tn.nonzero(tn.tensor([0.0, 2.0, 3.0]), as_tuple=True)[0].tolist() == [1, 2]
    hot = tn.one_hot(tn.tensor([[1, 0]]))
    assert hot.dtype == np.int64 and hot.tolist() == [[[0, 1], [1, 0]]]
    with pytest.raises(ValueError, match="out of range"):
        tn.one_hot(tn.tensor([3]), 2)


def test_sum_and_prod_cast_to_dtype_first_and_gradients_return_in_the_input_dtype():
    counts = tn.tensor([[1, 2], [3, 4]], dtype=tn.int64)
    total = tn.sum(counts, dtype=tn.float64)
    assert total.dtype == np.float64 and total.item() == 10.0
    assert tn.prod(counts, 1, dtype=tn.float32).tolist() == [2.0, 12.0]
    x = tn.tensor(np.array([1.5, 2.5], np.float32), requires_grad=True)
    y = tn.sum(x, 0, dtype=tn.float64)
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]


def test_sum_and_prod_methods_take_dtype_like_pytorchs():
    counts = tn.tensor([[1, 2], [3, 4]], dtype=tn.int64)
    assert counts.sum(dtype=tn.float32).dtype == np.float32
    assert counts.sum(dim=0, dtype=tn.float64).tolist() == [4.0, 6.0]
    assert counts.prod(1, keepdim=True, dtype=tn.float32).tolist() == [[2.0], [12.0]]


def test_functional_pad_takes_pytorchs_last_dimension_first_pairs():
    data = np.arange(6.0).reshape(1, 2, 3)
    x = tn.tensor(data)
    got = F.pad(x, (1, 2, 0, 1), mode="replicate")
    np.testing.assert_array_equal(got.data, np.pad(data, ((0, 0), (0, 1), (1, 2)), mode="edge"))
    np.testing.assert_array_equal(F.pad(x, (-1, 1), value=7.0).data[..., -1], [[7.0, 7.0]])
    with pytest.raises(ValueError, match="pairs"):
        F.pad(x, (1, 2, 3))


def test_functional_normalize_and_one_hot_are_the_core_ones():
    x = tn.tensor([[3.0, 4.0]])
    np.testing.assert_array_equal(F.normalize(x, dim=1).data, tn.normalize(x, dim=1).data)
    assert F.one_hot(tn.tensor([1]), 3).tolist() == [[0, 1, 0]]
    assert tn.glu(tn.ones(2, 4), axis=1).shape == (2, 2)


def test_scatter_with_reduce_adds_or_multiplies():
    x = tn.tensor([1.0, 2.0])
    index = tn.tensor([0, 0])
    assert x.scatter(0, index, tn.tensor([3.0, 4.0]), reduce="add").tolist() == [8.0, 2.0]
    assert x.scatter(0, index, value=3.0, reduce="multiply").tolist() == [9.0, 2.0]
    with pytest.raises(TypeError, match="exactly one"):
        x.scatter(0, index)


def test_scatter_shape_errors_name_the_shapes():
    with pytest.raises(tn.ShapeError, match=r"\(3,\), \(1, 1\) and \(1, 1\)"):
        tn.scatter_add(tn.zeros(3), 0, tn.tensor([[0]]), tn.ones(1, 1))
    with pytest.raises(tn.ShapeError, match="larger than src"):
        tn.scatter_add(tn.zeros(3), 0, tn.tensor([0, 1]), tn.ones(1))
