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


def test_det_gradient_at_a_singular_matrix_raises_instead_of_returning_garbage():
    a = t([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    assert tn.linalg.det(a).item() == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        tn.linalg.det(a).backward()


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
