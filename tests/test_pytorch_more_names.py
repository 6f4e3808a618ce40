"""More of PyTorch's names (session 10): fused arithmetic (addcmul, addcdiv, addmm), products
(tensordot, inner), logit, xlogy, angle conversions, the aliases, flips and rotations,
atleast_*, tril/triu_indices; checked against NumPy/SciPy and PyTorch's documented
semantics. The differentiable ones are also in the OpInfo table (tests/test_ops.py)."""

import math

import numpy as np
import pytest
import scipy.special

import tinynet as tn

NAMES = (
    "addcmul addcdiv addmm tensordot inner logit xlogy deg2rad rad2deg negative absolute "
    "multiply subtract divide fliplr flipud rot90 atleast_1d atleast_2d atleast_3d "
    "tril_indices triu_indices erfc sinc signbit copysign float_power gcd lcm logdet "
    "matrix_power column_stack block_diag cartesian_prod trapezoid diag_embed"
).split()
METHODS = (
    "addcmul addcdiv addmm inner logit xlogy deg2rad rad2deg negative absolute multiply "
    "subtract divide fliplr flipud rot90 erfc sinc signbit copysign float_power gcd lcm logdet "
    "matrix_power diag_embed"
).split()
NAN = float("nan")


def f64(values, requires_grad: bool = False) -> tn.Tensor:
    return tn.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def draw(*shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def test_every_name_exists_at_the_top_level_and_as_a_method():
    assert [name for name in NAMES if not hasattr(tn, name)] == []
    assert [name for name in METHODS if not hasattr(tn.Tensor, name)] == []


# -- addcmul, addcdiv, addmm -----------------------------------------------------------------
def test_addcmul_and_addcdiv_broadcast_and_scale_by_value():
    a, b, c = draw(2, 3), draw(3, seed=1), draw(2, 1, seed=2)
    result = tn.addcmul(f64(a), f64(b), f64(c), value=-0.5)
    np.testing.assert_allclose(result.data, a - 0.5 * b * c, rtol=1e-15)
    result = f64(a).addcdiv(f64(b), f64(c), value=3)
    np.testing.assert_allclose(result.data, a + 3 * b / c, rtol=1e-15)
    assert tn.addcmul(f64(a), f64(b), f64(c)).shape == (2, 3)
    with pytest.raises(RuntimeError, match="integer division"):
        tn.addcdiv(tn.ones(2), tn.tensor([1, 2]), tn.tensor([2, 3]))


def test_addmm_is_beta_input_plus_alpha_product_and_beta_zero_ignores_nan():
    x, m1, m2 = draw(3), draw(2, 4, seed=1), draw(4, 3, seed=2)
    result = tn.addmm(f64(x), f64(m1), f64(m2), beta=0.5, alpha=-2)
    np.testing.assert_allclose(result.data, 0.5 * x - 2 * (m1 @ m2), rtol=1e-14)
    ignored = tn.addmm(f64([NAN, np.inf, 1.0]), f64(m1), f64(m2), beta=0)
    np.testing.assert_allclose(ignored.data, np.broadcast_to(m1 @ m2, (2, 3)), rtol=1e-15)
    np.testing.assert_allclose(f64(x).addmm(f64(m1), f64(m2)).data, x + m1 @ m2, rtol=1e-15)


def test_addmm_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="mat1 must be a matrix"):
        tn.addmm(tn.ones(3), tn.ones(3), tn.ones(3, 3))
    with pytest.raises(RuntimeError, match="does not broadcast"):
        tn.addmm(tn.ones(4), tn.ones(2, 3), tn.ones(3, 3))


# -- tensordot, inner ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shapes, dims",
    [
        (((3, 4), (4, 2)), 1),
        (((2, 3, 4), (3, 4, 5)), 2),
        (((2, 3), (4,)), 0),
        (((2, 3, 4), (4, 3, 5)), ([1, 2], [1, 0])),
        (((2, 3, 4), (4, 3, 5)), ([-1, 1], [0, -2])),
        (((3,), (3,)), ([0], [0])),
    ],
)
def test_tensordot_matches_numpy(shapes, dims):
    a, b = draw(*shapes[0]), draw(*shapes[1], seed=1)
    result = tn.tensordot(f64(a), f64(b), dims)
    expected = np.tensordot(a, b, dims)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result.data, expected, rtol=1e-13, atol=1e-15)


def test_tensordot_takes_dims_as_a_tensor_and_names_bad_dims():
    a, b = draw(2, 3), draw(3, 2, seed=1)
    result = tn.tensordot(f64(a), f64(b), dims=tn.tensor([[1], [0]]))
    np.testing.assert_allclose(result.data, a @ b, rtol=1e-14)
    with pytest.raises(RuntimeError, match="contracted dimensions need to match"):
        tn.tensordot(tn.ones(2, 3), tn.ones(2, 3), 1)
    with pytest.raises(RuntimeError, match="dims >= 0"):
        tn.tensordot(tn.ones(2, 3), tn.ones(3, 2), -1)
    with pytest.raises(RuntimeError, match="same length"):
        tn.tensordot(tn.ones(2, 3), tn.ones(3, 2), ([1], [0, 1]))


def test_inner_matches_numpy_and_a_0d_operand_multiplies():
    a, b = draw(2, 3), draw(4, 1, 3, seed=1)
    np.testing.assert_allclose(tn.inner(f64(a), f64(b)).data, np.inner(a, b), rtol=1e-14)
    np.testing.assert_allclose(f64(a).inner(f64(2.0)).data, 2 * a, rtol=1e-15)
    with pytest.raises(RuntimeError, match="last dimension must match"):
        tn.inner(tn.ones(2, 3), tn.ones(2))


# -- logit, xlogy ------------------------------------------------------------------------------
def test_logit_inverts_sigmoid_and_clamps_with_eps():
    p = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(tn.logit(f64(p)).data, scipy.special.logit(p), rtol=1e-14)
    clamped = tn.logit(f64([0.0, 0.05, 0.5, 1.0]), eps=0.1).data
    np.testing.assert_allclose(clamped, scipy.special.logit([0.1, 0.1, 0.5, 0.9]), rtol=1e-14)
    assert np.isnan(tn.logit(f64([-0.5, 1.5])).data).all()  # outside [0, 1] without eps
    assert tn.logit(tn.tensor([0, 1])).dtype == tn.get_default_dtype()


def test_logit_gradient_is_zero_outside_the_clamp_and_passes_at_its_bounds():
    p = f64([0.05, 0.1, 0.5, 0.9, 0.95], requires_grad=True)
    tn.logit(p, eps=0.1).sum().backward()
    inside = 1 / (np.array([0.1, 0.5, 0.9]) * (1 - np.array([0.1, 0.5, 0.9])))
    np.testing.assert_allclose(p.grad.data, [0.0, *inside, 0.0], rtol=1e-14)


def test_xlogy_is_zero_at_zero_unless_other_is_nan_and_matches_scipy():
    x = np.array([0.0, 0.0, 0.0, 0.0, 2.0, 1.5, -1.0])
    y = np.array([0.0, np.inf, -1.0, NAN, 3.0, 0.0, 0.5])
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = scipy.special.xlogy(x, y)
    np.testing.assert_array_equal(tn.xlogy(f64(x), f64(y)).data, expected)
    np.testing.assert_allclose(tn.xlogy(2, f64([3.0])).data, [2 * math.log(3)], rtol=1e-15)
    assert tn.xlogy(tn.tensor([1, 2]), tn.tensor([3, 4])).dtype == tn.get_default_dtype()
    assert tn.xlogy(tn.tensor([1.0]), 2.0).dtype == tn.float32  # a number stays weak


def test_xlogy_gradients_are_pytorchs_at_first_and_second_order():
    x = f64([0.0, 1.5, 0.0], requires_grad=True)
    y = f64([2.0, 3.0, 0.0], requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad_x, grad_y = tn.grad(tn.xlogy(x, y).sum(), (x, y), create_graph=True)
    # d/dx: xlogy(grad, y), 0 where x = 0 and y <= 0; d/dy: x / y, 0 / 0 = NaN (PyTorch's)
    np.testing.assert_allclose(grad_x.data, [math.log(2.0), math.log(3.0), 0.0], rtol=1e-15)
    np.testing.assert_allclose(grad_y.data, [0.0, 0.5, np.nan], rtol=1e-15)
    # PyTorch's double backward: d(x / y)/dx = 1 / y; d(xlogy(grad, y))/dy = 1 / y (symmetric)
    first = slice(0, 2)
    dyx, dyy = tn.grad(grad_y[first].sum(), (x, y), retain_graph=True)
    np.testing.assert_allclose(dyx.data[first], [0.5, 1 / 3], rtol=1e-15)
    np.testing.assert_allclose(dyy.data[first], [0.0, -1.5 / 9], rtol=1e-15)
    dxx, dxy = tn.grad(grad_x[first].sum(), (x, y), allow_unused=True)
    assert dxx is None or not dxx.data.any()
    np.testing.assert_allclose(dxy.data[first], [0.5, 1 / 3], rtol=1e-15)


def test_xlogy_refuses_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match="xlogy"):
        tn.xlogy(tn.ones(2), tn.ones(3))


# -- angles and aliases --------------------------------------------------------------------------
def test_deg2rad_and_rad2deg_match_numpy_and_make_integers_floating():
    degrees = np.array([-90.0, 0.0, 45.0, 360.0])
    np.testing.assert_allclose(tn.deg2rad(f64(degrees)).data, np.deg2rad(degrees), rtol=1e-15)
    np.testing.assert_allclose(
        f64(np.deg2rad(degrees)).rad2deg().data, degrees, rtol=1e-14, atol=1e-13
    )
    assert tn.deg2rad(tn.tensor([180])).dtype == tn.get_default_dtype()


def test_the_aliases_match_their_ops_with_pytorchs_keywords():
    a, b = draw(2, 3), draw(3, seed=1)
    np.testing.assert_array_equal(tn.negative(f64(a)).data, -a)
    np.testing.assert_array_equal(f64(a).absolute().data, np.abs(a))
    np.testing.assert_array_equal(tn.multiply(f64(a), f64(b)).data, a * b)
    np.testing.assert_allclose(tn.subtract(f64(a), f64(b), alpha=2).data, a - 2 * b, rtol=1e-15)
    np.testing.assert_array_equal(f64(a).divide(f64(b)).data, a / b)
    ints = tn.tensor([-7, 7])
    assert tn.divide(ints, 2, rounding_mode="floor").tolist() == [-4, 3]
    assert ints.divide(2, rounding_mode="trunc").tolist() == [-3, 3]
    with pytest.raises(ValueError, match="rounding_mode"):
        tn.divide(ints, 2, rounding_mode="round")


# -- flips, rotations, atleast_* ---------------------------------------------------------------
def test_fliplr_flipud_match_numpy_and_need_their_dimensions():
    a = draw(2, 3, 4)
    np.testing.assert_array_equal(tn.fliplr(f64(a)).data, np.fliplr(a))
    np.testing.assert_array_equal(f64(a).flipud().data, np.flipud(a))
    with pytest.raises(RuntimeError, match=">= 2-d"):
        tn.fliplr(tn.ones(3))
    with pytest.raises(RuntimeError, match=">= 1-d"):
        tn.flipud(tn.tensor(1.0))


@pytest.mark.parametrize("k", range(-5, 6))
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (2, 0), (-1, 1)])
def test_rot90_matches_numpy(k, dims):
    a = draw(2, 3, 4)
    np.testing.assert_array_equal(tn.rot90(f64(a), k, dims).data, np.rot90(a, k, dims))


def test_rot90_zero_turns_is_a_copy_and_bad_dims_are_named():
    x = f64([[1.0, 2.0], [3.0, 4.0]])
    same = x.rot90(4)
    same.data[0, 0] = 9.0
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(RuntimeError, match="rotation dims == 2"):
        tn.rot90(x, 1, (0, 1, 0))
    with pytest.raises(RuntimeError, match="rotation dims to be different"):
        tn.rot90(x, 1, (1, -1))
    with pytest.raises(RuntimeError, match="total dims >= 2"):
        tn.rot90(tn.ones(3))


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (1, 2, 1, 2)])
def test_atleast_nd_match_numpy(shape):
    a = np.arange(float(np.prod(shape))).reshape(shape)
    for ours, numpys in (
        (tn.atleast_1d, np.atleast_1d),
        (tn.atleast_2d, np.atleast_2d),
        (tn.atleast_3d, np.atleast_3d),
    ):
        result = ours(f64(a))
        assert result.shape == numpys(a).shape
        np.testing.assert_array_equal(result.data, numpys(a))


def test_atleast_nd_take_several_tensors_or_one_sequence_and_keep_the_gradient():
    first, second = tn.atleast_2d(tn.ones(3), tn.tensor(1.0))
    assert (first.shape, second.shape) == ((1, 3), (1, 1))
    assert [t.shape for t in tn.atleast_3d([tn.ones(2), tn.ones(2, 3)])] == [(1, 2, 1), (2, 3, 1)]
    x = f64([1.0, 2.0], requires_grad=True)
    (tn.atleast_3d(x) * f64([[[3.0], [4.0]]])).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


# -- tril_indices, triu_indices ---------------------------------------------------------------
@pytest.mark.parametrize("row, col", [(0, 3), (1, 1), (3, 3), (2, 4), (4, 2)])
@pytest.mark.parametrize("offset", [-3, -1, 0, 1, 4])
def test_triangle_indices_match_numpy(row, col, offset):
    lower = np.array(np.tril_indices(row, offset, col)).reshape(2, -1)
    upper = np.array(np.triu_indices(row, offset, col)).reshape(2, -1)
    for ours, expected in ((tn.tril_indices(row, col, offset), lower),
                           (tn.triu_indices(row, col, offset), upper)):  # fmt: skip
        assert ours.dtype == tn.int64
        np.testing.assert_array_equal(ours.data, expected)


def test_triangle_indices_take_a_dtype_and_refuse_bad_arguments():
    assert tn.tril_indices(3, 3, dtype=tn.int32).dtype == tn.int32
    with pytest.raises(RuntimeError, match="non-negative"):
        tn.triu_indices(-1, 3)
    with pytest.raises(RuntimeError, match="integer type"):
        tn.tril_indices(3, 3, dtype=tn.float32)


def test_the_in_place_forms_write_the_functions_result():
    a, b, c = draw(2, 3), draw(2, 3, seed=1), draw(2, 3, seed=2) ** 2 + 0.5
    m1, m2 = draw(2, 4, seed=3), draw(4, 3, seed=4)
    cases = {
        "addcmul_": ((f64(b), f64(c)), {"value": 2}, a + 2 * b * c),
        "addcdiv_": ((f64(b), f64(c)), {}, a + b / c),
        "addmm_": ((f64(m1), f64(m2)), {"beta": 0.5}, 0.5 * a + m1 @ m2),
        "xlogy_": ((f64(c),), {}, a * np.log(c)),
        "deg2rad_": ((), {}, np.deg2rad(a)),
        "negative_": ((), {}, -a),
        "absolute_": ((), {}, np.abs(a)),
        "subtract_": ((f64(b),), {"alpha": 3}, a - 3 * b),
        "divide_": ((f64(c),), {}, a / c),
        "multiply_": ((f64(b),), {}, a * b),
    }
    for name, (args, kwargs, expected) in cases.items():
        x = f64(a)
        assert getattr(x, name)(*args, **kwargs) is x, name
        np.testing.assert_allclose(x.data, expected, rtol=1e-14, err_msg=name)
    p = f64([0.25, 0.5])
    p.logit_()
    np.testing.assert_allclose(p.data, scipy.special.logit([0.25, 0.5]), rtol=1e-15)


# -- session 10, second part -------------------------------------------------------------------
def test_erfc_is_accurate_where_one_minus_erf_cancels():
    x = np.array([-2.0, 0.0, 1.0, 5.0, 10.0, 26.0])
    np.testing.assert_allclose(tn.erfc(f64(x)).data, scipy.special.erfc(x), rtol=1e-15)
    assert tn.erfc(tn.tensor([1])).dtype == tn.get_default_dtype()


def test_sinc_matches_numpy_and_is_smooth_at_zero_to_first_order():
    x = f64([-1.5, -0.25, 0.0, 0.5, 2.0], requires_grad=True)
    np.testing.assert_allclose(tn.sinc(x).data, np.sinc(x.data), rtol=1e-15)
    tn.sinc(x).sum().backward()
    assert x.grad.data[2] == 0.0
    np.testing.assert_allclose(x.grad.data[3], (math.pi * 0.5 * 0 - 1) / (math.pi * 0.25))


def test_signbit_and_copysign_follow_the_sign_bit_of_negative_zero():
    assert tn.signbit(f64([-0.0, 0.0, -2.0, NAN])).tolist() == [True, False, True, False]
    x = f64([1.0, -2.0, 0.0, 3.0], requires_grad=True)
    other = f64([-0.0, 0.0, -1.0, 2.0])
    result = tn.copysign(x, other)
    np.testing.assert_array_equal(result.data, np.copysign(x.data, other.data))
    result.sum().backward()
    assert x.grad.tolist() == [-1.0, -1.0, 0.0, 1.0]  # result / x, 0 at x = 0 (PyTorch's)
    assert tn.copysign(tn.tensor([1, 2]), -1).dtype == tn.get_default_dtype()


def test_float_power_computes_in_float64():
    result = tn.float_power(tn.tensor([2.0, 3.0], dtype=tn.float32), 0.5)
    assert result.dtype == tn.float64
    np.testing.assert_array_equal(result.data, np.float_power([2.0, 3.0], 0.5))
    assert tn.float_power(tn.tensor([2, 3]), tn.tensor([3, -1])).tolist() == [8.0, 1 / 3]


def test_gcd_and_lcm_match_numpy_and_take_integers_only():
    a, b = np.array([12, -9, 0, 7, 0]), np.array([18, 6, 5, -3, 0])
    np.testing.assert_array_equal(tn.gcd(tn.tensor(a), tn.tensor(b)).data, np.gcd(a, b))
    np.testing.assert_array_equal(tn.tensor(a).lcm(tn.tensor(b)).data, np.lcm(a, b))
    with pytest.raises(tn.DTypeError, match="integers only"):
        tn.gcd(tn.tensor([1.0]), tn.tensor([2]))


def test_logdet_is_nan_for_a_negative_determinant_and_minus_inf_when_singular():
    assert np.isnan(tn.logdet(f64([[0.0, 1.0], [1.0, 0.0]])).item())
    assert tn.logdet(f64([[1.0, 2.0], [2.0, 4.0]])).item() == -np.inf
    A = draw(2, 3, 3) + 4 * np.eye(3)
    np.testing.assert_allclose(f64(A).logdet().data, np.log(np.linalg.det(A)), rtol=1e-13)


def test_matrix_power_matches_numpy_including_zero_and_negative_powers():
    A = draw(2, 3, 3) + 3 * np.eye(3)
    for n in range(-3, 5):
        np.testing.assert_allclose(
            tn.matrix_power(f64(A), n).data, np.linalg.matrix_power(A, n), rtol=1e-12
        )
    assert tn.matrix_power(tn.tensor([[1, 1], [0, 1]]), 0).tolist() == [[1, 0], [0, 1]]
    with pytest.raises(RuntimeError, match="square"):
        tn.matrix_power(tn.ones(2, 3), 2)
    with pytest.raises(RuntimeError, match="floating"):
        tn.matrix_power(tn.tensor([[1, 1], [0, 1]]), -1)


def test_column_stack_block_diag_and_cartesian_prod_match_numpy():
    a, b = np.array([1.0, 2.0]), np.array([[3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(tn.column_stack([f64(a), f64(b)]).data, np.column_stack([a, b]))
    blocks = tn.block_diag(f64(b), f64(a), f64(7.0))
    assert blocks.tolist() == [
        [3.0, 4.0, 0.0, 0.0, 0.0],
        [5.0, 6.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 2.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 7.0],
    ]
    assert tn.block_diag().shape == (0, 0)
    with pytest.raises(RuntimeError, match="2 or fewer dimensions"):
        tn.block_diag(tn.ones(1, 1, 1))
    pairs = tn.cartesian_prod(tn.tensor([1, 2]), tn.tensor([3, 4, 5]))
    assert pairs.tolist() == [[1, 3], [1, 4], [1, 5], [2, 3], [2, 4], [2, 5]]
    with pytest.raises(RuntimeError, match="1-D"):
        tn.cartesian_prod(tn.ones(2, 2), tn.ones(2))


def test_trapezoid_matches_numpy_and_a_single_point_integrates_to_zero():
    y, x = draw(3, 4), np.array([0.0, 0.5, 2.0, 3.0])
    np.testing.assert_allclose(tn.trapezoid(f64(y), f64(x)).data, np.trapezoid(y, x))
    np.testing.assert_allclose(
        tn.trapezoid(f64(y), dx=0.25, dim=0).data, np.trapezoid(y, dx=0.25, axis=0)
    )
    # one point: nothing to integrate; the gradient reaches x through an empty diff
    ys, xs = f64([[1.0]], requires_grad=True), f64([0.0], requires_grad=True)
    total = tn.trapezoid(ys, xs, dim=1)
    assert total.tolist() == [0.0]
    total.sum().backward()
    assert ys.grad.tolist() == [[0.0]] and xs.grad.tolist() == [0.0]
    with pytest.raises(TypeError, match="not both"):
        tn.trapezoid(f64(y), f64(x), dx=1.0)


def test_float_power_in_place_needs_a_float64_tensor():
    x = f64([2.0, 3.0])
    assert x.float_power_(2) is x and x.tolist() == [4.0, 9.0]
    with pytest.raises(RuntimeError, match="requires dtype float64"):
        tn.tensor([2.0]).float_power_(2)


def test_diag_embed_places_the_last_dim_on_a_diagonal_of_new_dims():
    x = draw(2, 3)
    result = tn.diag_embed(f64(x), offset=1)
    assert result.shape == (2, 4, 4)
    for b in range(2):
        np.testing.assert_array_equal(result.data[b], np.diag(x[b], 1))
    moved = f64(x).diag_embed(-1, dim1=0, dim2=2)
    assert moved.shape == (4, 2, 4)
    np.testing.assert_array_equal(moved.data[:, 1, :], np.diag(x[1], -1))
    # zeros elsewhere even next to inf (no 0 * inf)
    assert tn.diag_embed(f64([np.inf, 1.0])).tolist() == [[np.inf, 0.0], [0.0, 1.0]]
    with pytest.raises(RuntimeError, match="cannot be identical"):
        tn.diag_embed(tn.ones(2), 0, 0, -2)
