"""Linear algebra beyond the OpInfo properties: closed-form gradients, the documented
conditions where a derivative is not defined, PyTorch's argument rules, and errors."""

import numpy as np
import pytest

import tinynet as tn


def t(array, requires_grad=False, dtype=np.float64):
    return tn.Tensor(np.asarray(array, dtype=dtype), requires_grad=requires_grad)


def test_det_gradient_of_a_2x2_is_its_cofactor_matrix():
    a = t([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    tn.linalg.det(a).backward()
    np.testing.assert_allclose(a.grad.data, [[5.0, -3.0], [-2.0, 1.0]], rtol=1e-12)


def cofactors(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix by its definition: signed determinants of the minors."""
    n = a.shape[0]
    minor = lambda i, j: np.delete(np.delete(a, i, 0), j, 1)  # noqa: E731
    return np.array(
        [[(-1) ** (i + j) * np.linalg.det(minor(i, j)) for j in range(n)] for i in range(n)]
    )


def singular_matrices():
    rng = np.random.default_rng(0)
    yield np.array([[1.0, 2.0], [2.0, 4.0]])  # an exact zero pivot
    for n in (3, 4):  # rank n - 1: the cofactor matrix is rank one, not 0
        yield rng.standard_normal((n, n - 1)) @ rng.standard_normal((n - 1, n))
    yield np.zeros((3, 3))  # rank n - 2: all cofactors 0


@pytest.mark.parametrize("a", list(singular_matrices()), ids=["pivot", "rank2", "rank3", "zero"])
def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix_at_both_orders(a):
    # PyTorch's det backward is defined there (the SVD formula): det is a polynomial, its
    # gradient the cofactor matrix adj(A).T, its second derivative exact too.
    A = t(a, requires_grad=True)
    assert abs(tn.linalg.det(A).item()) < 1e-14
    tn.linalg.det(A).backward()
    np.testing.assert_allclose(A.grad.data, cofactors(a), rtol=1e-10, atol=1e-13)
    assert np.abs(cofactors(a)).max() > 0.1 or not a.any()  # the check is not of zeros
    assert tn.gradcheck(tn.linalg.det, (t(a, True),))
    assert tn.gradgradcheck(tn.linalg.det, (t(a, True),))


def test_det_second_derivative_at_the_zero_matrix_is_the_constant_of_ad_minus_bc():
    a = t(np.zeros((2, 2)), requires_grad=True)
    (first,) = tn.grad(tn.linalg.det(a), a, create_graph=True)
    rows = [tn.grad(first.reshape(-1)[i], a, retain_graph=True)[0].data.ravel() for i in range(4)]
    np.testing.assert_array_equal(rows, [[0, 0, 0, 1], [0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0]])
    with pytest.raises(RuntimeError, match="once_differentiable"):  # toward a third order
        tn.grad(first[0, 0], a, create_graph=True)


def test_det_of_a_batch_mixing_singular_and_invertible_matrices_gives_each_its_cofactors():
    batch = np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[2.0, 1.0], [0.5, 3.0]])])
    A = t(batch, requires_grad=True)
    tn.linalg.det(A).sum().backward()
    np.testing.assert_allclose(A.grad.data, [cofactors(m) for m in batch], rtol=1e-12)


def test_slogdet_gradient_at_a_singular_matrix_is_cofactors_over_zero_not_an_error():
    a = t([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    sign, logabsdet = tn.linalg.slogdet(a)
    assert sign.item() == 0.0 and logabsdet.item() == -np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        logabsdet.backward()
    np.testing.assert_array_equal(a.grad.data, [[np.inf, -np.inf], [-np.inf, np.inf]])


def test_inv_and_solve_of_a_singular_matrix_name_the_op():
    singular = t([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(np.linalg.LinAlgError, match="inv: the matrix is singular"):
        tn.linalg.inv(singular)
    with pytest.raises(np.linalg.LinAlgError, match="solve: the matrix A is singular"):
        tn.linalg.solve(singular, t([1.0, 1.0]))


def test_cholesky_of_an_indefinite_matrix_raises():
    with pytest.raises(np.linalg.LinAlgError, match="positive-definite"):
        tn.linalg.cholesky(t([[1.0, 2.0], [2.0, 1.0]]))


def test_slogdet_sign_is_a_constant_and_logabsdet_has_the_inverse_transpose_gradient():
    a = t([[0.0, 2.0], [3.0, 1.0]], requires_grad=True)
    sign, logabsdet = tn.linalg.slogdet(a)
    assert sign.item() == -1.0 and not sign.requires_grad
    logabsdet.backward()
    np.testing.assert_allclose(a.grad.data, np.linalg.inv(a.data).T, rtol=1e-12)


def test_solve_treats_b_as_vectors_by_pytorchs_rule():
    a = t(np.eye(3) * 2.0 + np.arange(9.0).reshape(3, 3) * 0.1)
    batch = t(np.stack([a.data, a.data * 2]))
    vectors = t(np.arange(6.0).reshape(2, 3))  # shape A.shape[:-1]: a batch of vectors
    x = tn.linalg.solve(batch, vectors)
    assert x.shape == (2, 3)
    np.testing.assert_allclose(
        np.einsum("bij,bj->bi", batch.data, x.data), vectors.data, atol=1e-12
    )
    matrix = t(np.arange(6.0).reshape(3, 2))  # (n, k): one matrix, broadcast over the batch
    assert tn.linalg.solve(batch, matrix).shape == (2, 3, 2)
    with pytest.raises(tn.ShapeError, match="does not fit"):
        tn.linalg.solve(a, t(np.ones(4)))


def test_eigenvalue_gradient_is_defined_at_repeated_eigenvalues():
    # d(sum of eigenvalues)/dA = d trace/dA = I, whatever the multiplicity.
    a = t(np.eye(3), requires_grad=True)
    values, _ = tn.linalg.eigh(a)
    values.sum().backward()
    np.testing.assert_allclose(a.grad.data, np.eye(3), atol=1e-12)


def test_eigenvector_gradient_at_repeated_eigenvalues_is_not_finite_as_documented():
    a = t(np.eye(2), requires_grad=True)
    _, vectors = tn.linalg.eigh(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        (vectors[0, 0] ** 2).backward()
    assert not np.isfinite(a.grad.data).all()


def test_the_nuclear_norm_gradient_is_u_vh():
    rng = np.random.default_rng(0)
    a = t(rng.standard_normal((4, 3)), requires_grad=True)
    u, s, vh = tn.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose((u * s.unsqueeze(0)) @ vh, a.data, atol=1e-12)
    s.sum().backward()
    np.testing.assert_allclose(a.grad.data, u.data @ vh.data, atol=1e-12)


def test_full_matrices_svd_gives_singular_value_gradients_but_refuses_vector_ones():
    rng = np.random.default_rng(1)
    a = t(rng.standard_normal((4, 2)), requires_grad=True)
    u, s, _ = tn.linalg.svd(a)
    assert u.shape == (4, 4)
    s.sum().backward()
    reduced_u, _, reduced_vh = np.linalg.svd(a.data, full_matrices=False)
    np.testing.assert_allclose(a.grad.data, reduced_u @ reduced_vh, atol=1e-12)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        tn.linalg.svd(a)[0].sum().backward()


def test_qr_factors_and_the_wide_matrix_gradient_condition():
    rng = np.random.default_rng(2)
    a = t(rng.standard_normal((4, 3)), requires_grad=True)
    q, r = tn.linalg.qr(a)
    np.testing.assert_allclose(q.data.T @ q.data, np.eye(3), atol=1e-12)
    np.testing.assert_array_equal(np.tril(r.data, -1), 0.0)
    np.testing.assert_allclose((q @ r).data, a.data, atol=1e-12)
    wide = t(rng.standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(NotImplementedError, match="rows >= columns"):
        tn.linalg.qr(wide)[1].sum().backward()
    with pytest.raises(ValueError, match="mode"):
        tn.linalg.qr(a, mode="r")


def test_cholesky_gradient_is_symmetric_as_pytorchs():
    a = t([[4.0, 2.0], [2.0, 3.0]], requires_grad=True)
    tn.linalg.cholesky(a)[1, 0].backward()
    np.testing.assert_allclose(a.grad.data, a.grad.data.T, rtol=1e-12)
    upper = tn.linalg.cholesky(a, upper=True)
    np.testing.assert_allclose(upper.data, np.linalg.cholesky(a.data).T)


def test_float16_and_float32_keep_their_dtype():
    for dtype in (np.float16, np.float32):
        a = t([[2.0, 1.0], [1.0, 3.0]], requires_grad=True, dtype=dtype)
        out = tn.linalg.inv(a).sum() + tn.linalg.det(a) + tn.linalg.eigh(a)[0].sum()
        assert out.dtype == dtype
        out.backward()
        assert a.grad.dtype == dtype


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: tn.dot(tn.ones(3), tn.ones(2)), "same length"),
        (lambda: tn.dot(tn.ones(2, 2), tn.ones(2, 2)), "1-D"),
        (lambda: tn.outer(tn.ones(2, 2), tn.ones(2)), "1-D"),
        (lambda: tn.bmm(tn.ones(2, 2, 3), tn.ones(3, 3, 2)), "batches"),
        (lambda: tn.bmm(tn.ones(2, 3), tn.ones(3, 2)), "batches"),
        (lambda: tn.linalg.inv(tn.ones(2, 3)), "square"),
        (lambda: tn.linalg.det(tn.ones(3)), "square"),
    ],
)
def test_shape_errors_name_the_shapes(call, match):
    with pytest.raises(tn.ShapeError, match=match):
        call()


def test_integer_matrices_are_refused():
    with pytest.raises(TypeError, match="floating"):
        tn.linalg.inv(tn.Tensor(np.eye(2, dtype=np.int64)))


# -- cholesky and eigh refuse a matrix that is not symmetric up to rounding -----------------
# NumPy and PyTorch read the lower triangle of such a matrix, tinynet its symmetric part: so
# that the two never silently differ, a matrix that is not symmetric up to rounding raises.

SYMMETRIC_OPS = {
    "cholesky": (tn.linalg.cholesky, np.linalg.cholesky),
    "eigh": (lambda a: tn.linalg.eigh(a)[0], lambda a: np.linalg.eigh(a)[0]),
}


def spd(rng, shape, dtype):
    """Exactly symmetric positive-definite matrices of shape ``(*, n, n)``."""
    x = rng.standard_normal(shape)
    a = x @ np.swapaxes(x, -1, -2)
    return ((a + np.swapaxes(a, -1, -2)) / 2 + shape[-1] * np.eye(shape[-1])).astype(dtype)


@pytest.mark.parametrize("name", SYMMETRIC_OPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_non_symmetric_matrix_is_refused_and_the_message_names_the_fix(name, dtype):
    op, numpy_op = SYMMETRIC_OPS[name]
    a = np.array([[4.0, 1.0, 0.5], [0.0, 3.0, 0.0], [0.5, 0.0, 2.0]], dtype)  # upper 1.0, lower 0
    with pytest.raises(ValueError) as error:
        op(t(a, dtype=dtype))
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{name} expects symmetric matrices; A differs from its transpose")
    assert "by up to 1 " in message and "(A + A.mT) / 2" in message
    assert "tn.tril(A) + tn.tril(A, -1).mT" in message
    # Both fixes it names work; the second gives what NumPy (and PyTorch) compute from A.
    A = t(a, dtype=dtype)
    np.testing.assert_allclose(op((A + A.mT) / 2).data, numpy_op((a + a.T) / 2), rtol=1e-6)
    lower = op(tn.tril(A) + tn.tril(A, -1).mT)
    np.testing.assert_allclose(lower.data, numpy_op(a), rtol=1e-6)


def test_eigh_takes_pytorchs_uplo_and_names_the_upper_fix():
    a = spd(np.random.default_rng(2), (3, 3), np.float64)
    np.testing.assert_allclose(
        tn.linalg.eigh(t(a), UPLO="U")[0].data, np.linalg.eigh(a, UPLO="U")[0], rtol=1e-12
    )
    skewed = a + np.triu(np.ones((3, 3)), 1)  # the upper triangle is what UPLO='U' reads
    with pytest.raises(
        ValueError, match=r"tn\.triu\(A\) \+ tn\.triu\(A, 1\)\.mT to read the upper"
    ):
        tn.linalg.eigh(t(skewed), UPLO="U")
    A = t(skewed)
    np.testing.assert_allclose(
        tn.linalg.eigh(tn.triu(A) + tn.triu(A, 1).mT)[0].data,
        np.linalg.eigh(skewed, UPLO="U")[0],
        rtol=1e-12,
    )
    with pytest.raises(ValueError, match="UPLO must be 'L' or 'U'"):
        tn.linalg.eigh(t(a), UPLO="upper")


@pytest.mark.parametrize("name", SYMMETRIC_OPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_bad_matrix_in_a_batch_is_refused_by_its_index(name, dtype):
    a = spd(np.random.default_rng(3), (3, 2, 4, 4), dtype)
    a[2, 1, 0, 3] += 0.25
    with pytest.raises(ValueError, match=r"A\[2, 1\] differs from its transpose by up to 0\.25"):
        SYMMETRIC_OPS[name][0](t(a, dtype=dtype))


@pytest.mark.parametrize("name", SYMMETRIC_OPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rounding_asymmetry_is_accepted_and_a_larger_one_is_not(name, dtype):
    # GEMM-built matrices differ from their transpose by up to ~9 ulps of max|A| (see
    # _symmetric_part): 8 ulps are accepted; a thousand are not rounding.
    op, numpy_op = SYMMETRIC_OPS[name]
    a = spd(np.random.default_rng(4), (2, 5, 5), dtype)
    ulp = np.spacing(np.abs(a).max(axis=(-2, -1), keepdims=True))
    rounded = a + np.triu(np.ones((5, 5)), 1).astype(dtype) * 8 * ulp
    expected = numpy_op(a)  # of the exactly symmetric matrix: equal up to its conditioning
    tol = 1000 * np.finfo(dtype).eps
    np.testing.assert_allclose(
        op(t(rounded, dtype=dtype)).data, expected, rtol=tol, atol=tol * np.abs(expected).max()
    )
    off = a.copy()
    off[1, 0, 3] += 1000 * ulp[1, 0, 0]
    with pytest.raises(ValueError, match=r"A\[1\] differs"):
        op(t(off, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gram_and_covariance_matrices_built_by_gemm_are_accepted(dtype):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((2, 600, 200)) + 3.0).astype(dtype)
    for gram in (
        np.matmul(np.swapaxes(x, -1, -2).copy(), x),  # GEMM, not the SYRK NumPy picks for x.T @ x
        (tn.tensor(x).mT @ tn.tensor(x)).data,
        np.stack([np.cov(m, rowvar=False) for m in x]).astype(dtype),
        np.swapaxes(x, -1, -2).copy() @ (rng.random((600, 1)).astype(dtype) * x),  # weighted
    ):
        np.testing.assert_allclose(
            tn.linalg.cholesky(t(gram, dtype=dtype)).data,
            np.linalg.cholesky(gram),
            rtol=1e-3 if dtype == np.float32 else 1e-10,
            atol=1e-3 if dtype == np.float32 else 1e-10,
        )
        tn.linalg.eigh(t(gram, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_on_symmetric_input_are_numpys(dtype):
    a = spd(np.random.default_rng(6), (2, 4, 4), dtype)
    np.testing.assert_array_equal(tn.linalg.cholesky(t(a, dtype=dtype)).data, np.linalg.cholesky(a))
    np.testing.assert_allclose(
        tn.linalg.cholesky(t(a, dtype=dtype), upper=True).data,
        np.linalg.cholesky(a, upper=True),
        rtol=1e-6,
    )
    values, vectors = tn.linalg.eigh(t(a, dtype=dtype))
    np.testing.assert_array_equal(values.data, np.linalg.eigh(a)[0])
    np.testing.assert_array_equal(vectors.data, np.linalg.eigh(a)[1])


def test_second_order_through_cholesky_and_eigh_of_a_rounding_asymmetric_matrix():
    # Backward formulas call the decompositions again on the same A; the check reads only its
    # value, so gradients of every order go through. The constant adds a few ulps of max|A|
    # above the diagonal, as a GEMM's rounding would.
    x = t(np.random.default_rng(7).standard_normal((2, 12, 4)), requires_grad=True)
    rounding = t(np.triu(np.full((4, 4), 4 * np.finfo(np.float64).eps * 32.0), 1))

    def f(x):
        gram = x.mT @ x + 4 * tn.eye(4, dtype=tn.float64) + rounding
        assert (gram.data != gram.mT.data).any()
        return tn.linalg.cholesky(gram).sum() + tn.linalg.eigh(gram)[0].prod()

    assert tn.gradcheck(f, (x,)) and tn.gradgradcheck(f, (x,))


def test_a_compiled_replay_refuses_a_non_symmetric_matrix_too():
    eager_calls = []

    @tn.compile
    def logdet(a):
        eager_calls.append(a)  # Python side effects happen in eager calls only
        return tn.log(tn.linalg.cholesky(a).diagonal(dim1=-2, dim2=-1)).sum() * 2

    for diagonal in (3.0, 4.0, 5.0):
        a = np.array([[diagonal, 1.0], [1.0, 3.0]])
        assert logdet(t(a)).item() == pytest.approx(np.linalg.slogdet(a)[1])
    assert len(eager_calls) == 2  # two calls recorded, the third replayed
    with pytest.raises(ValueError, match="cholesky expects symmetric matrices"):
        logdet(t([[4.0, 1.0], [0.0, 3.0]]))


def test_linalg_cross_is_torch_linalg_cross_and_cross_is_torch_cross():
    # torch.linalg.cross(input, other, *, dim=-1) takes the last axis; torch.cross without
    # dim the first axis of length 3. On (3, 3) inputs the two differ.
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    np.testing.assert_allclose(tn.linalg.cross(a, b).data, np.cross(a, b, axis=-1))
    np.testing.assert_allclose(tn.cross(a, b).data, np.cross(a, b, axis=0))
    for dim in (0, 1):
        expected = np.cross(a, b, axis=dim)
        np.testing.assert_allclose(tn.linalg.cross(a, b, dim=dim).data, expected)
        np.testing.assert_allclose(tn.linalg.cross(a, b, axis=dim).data, expected)
        np.testing.assert_allclose(tn.cross(a, b, axis=dim).data, expected)
        np.testing.assert_allclose(tn.tensor(a).cross(tn.tensor(b), axis=dim).data, expected)
    with pytest.raises(TypeError):
        tn.linalg.cross(a, b, 0)  # dim is keyword-only, as in torch.linalg.cross
    x = tn.tensor(a, requires_grad=True)
    assert tn.gradcheck(lambda t: tn.linalg.cross(t, tn.tensor(b)), (x,))
