"""cosine_similarity, pairwise_distance, allclose and unique against SciPy and NumPy, PyTorch's
clamping of each norm, and their errors. Forward and gradients of every order: tests/test_ops.py
through the OpInfo entries."""

import numpy as np
import pytest
from scipy.spatial import distance

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet.errors import ShapeError


def f64(values, requires_grad=True):
    return tn.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def test_cosine_similarity_matches_scipy_and_broadcasts(rng):
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(3,))
    got = tn.cosine_similarity(f64(a), f64(b), dim=-1).data
    expected = [1.0 - distance.cosine(row, b) for row in a]
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    columns = F.cosine_similarity(f64(a), f64(a[::-1]), dim=0).data
    expected = [1.0 - distance.cosine(a[:, j], a[::-1, j]) for j in range(3)]
    np.testing.assert_allclose(columns, expected, rtol=1e-13)


def test_cosine_similarity_clamps_each_norm_separately():
    # PyTorch's current definition: x1 / max(|x1|, eps) . x2 / max(|x2|, eps); a tiny x1 whose
    # norm is below eps gives |x1| |x2| cos / (eps |x2|), not cos (as the product clamp would).
    x1, x2 = f64([[3e-9, 4e-9]]), f64([[3.0, 4.0]])
    got = tn.cosine_similarity(x1, x2, eps=1e-8).item()
    assert got == pytest.approx(5e-9 / 1e-8, rel=1e-12)


def test_cosine_similarity_gradient_below_eps_carries_the_norms_gradient():
    # As PyTorch's in-place clamp under no_grad: value eps, gradient of the unclamped norm.
    x1, x2 = np.array([1e-9, 2e-9]), np.array([1.0, 1.0])
    eps = 1e-8
    a = f64(x1)
    (grad,) = tn.grad(tn.cosine_similarity(a, f64(x2, False), dim=0, eps=eps), a)
    n1, n2 = np.linalg.norm(x1), np.linalg.norm(x2)
    similarity = x1 @ x2 / (eps * n2)
    expected = x2 / (eps * n2) - similarity / eps * x1 / n1
    np.testing.assert_allclose(grad.data, expected, rtol=1e-12)


def test_cosine_similarity_of_a_zero_vector():
    # The norm's gradient at 0 is 0, so the gradient is x2 / (eps |x2|); the value is 0.
    a = f64([0.0, 0.0])
    out = tn.cosine_similarity(a, f64([3.0, 4.0], False), dim=0, eps=1e-4)
    (grad,) = tn.grad(out, a)
    assert out.item() == 0.0
    np.testing.assert_allclose(grad.data, [3.0 / 5e-4, 4.0 / 5e-4], rtol=1e-15)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, np.inf])
def test_pairwise_distance_matches_scipy(p, rng):
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    got = tn.pairwise_distance(f64(a), f64(b), p=p).data
    expected = [distance.minkowski(u + 1e-6, v, p) if np.isfinite(p) else
                distance.chebyshev(u + 1e-6, v) for u, v in zip(a, b)]  # fmt: skip
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    kept = nn.PairwiseDistance(p=p, keepdim=True)(f64(a), f64(b))
    assert kept.shape == (4, 1)
    np.testing.assert_array_equal(kept.data[:, 0], got)


def test_pairwise_distance_broadcasts_and_is_zero_with_zero_gradient_at_equal_points():
    a = f64([[1.0, 2.0], [0.0, 0.0]])
    b = f64([1.0, 2.0])
    out = tn.pairwise_distance(a, b, eps=0.0)
    np.testing.assert_allclose(out.data, [0.0, np.sqrt(5.0)], rtol=1e-15)
    grad_a, grad_b = tn.grad(out.sum(), (a, b))
    np.testing.assert_allclose(grad_a.data, [[0.0, 0.0], [-1 / 5**0.5, -2 / 5**0.5]], rtol=1e-15)
    np.testing.assert_allclose(grad_b.data, [1 / 5**0.5, 2 / 5**0.5], rtol=1e-15)


def test_distance_errors():
    with pytest.raises(ShapeError, match="broadcast"):
        tn.cosine_similarity(f64([[1.0, 2.0]]), f64([1.0, 2.0, 3.0]))
    with pytest.raises(IndexError):
        tn.cosine_similarity(f64([1.0, 2.0]), f64([1.0, 2.0]), dim=1)
    with pytest.raises(TypeError, match="floating"):
        tn.pairwise_distance(tn.tensor([[1, 2]]), tn.tensor([[1, 2]]))
    with pytest.raises(ShapeError, match="at least one dimension"):
        tn.pairwise_distance(f64(1.0), f64(2.0))


def test_modules_and_dim_spellings():
    a, b = f64([[1.0, 0.0], [1.0, 1.0]]), f64([[1.0, 1.0], [1.0, 1.0]])
    expected = tn.cosine_similarity(a, b, dim=1).data
    np.testing.assert_array_equal(nn.CosineSimilarity(dim=1)(a, b).data, expected)
    np.testing.assert_array_equal(tn.cosine_similarity(a, b, axis=1).data, expected)
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity(dim=1, eps=1e-08)"
    assert repr(nn.PairwiseDistance()) == "PairwiseDistance(p=2.0, eps=1e-06, keepdim=False)"
    assert tn.pairwise_distance(a, b, keepdims=True).shape == (2, 1)


# -- allclose and unique -----------------------------------------------------------------------
def test_allclose_is_a_bool_on_tensors_and_arrays():
    a = np.array([1.0, 2.0, np.nan])
    assert tn.allclose(tn.tensor(a), a, equal_nan=True) is True
    assert tn.allclose(tn.tensor(a), a) is False
    assert tn.allclose(tn.tensor([1.0, 1.0]), 1.0 + 1e-6) is True  # broadcasts, rtol 1e-5
    assert tn.allclose([1.0], [1.1], rtol=0.0, atol=0.2) is True
    with pytest.raises(RuntimeError, match="broadcast"):
        tn.allclose(tn.ones(2), tn.ones(3))


def test_unique_matches_numpy_and_is_not_differentiable(rng):
    x = rng.integers(-2, 3, size=(3, 4)).astype(np.float64)
    values, inverse, counts = tn.unique(f64(x), return_inverse=True, return_counts=True)
    ref_values, ref_inverse, ref_counts = np.unique(x, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(values.data, ref_values)
    np.testing.assert_array_equal(inverse.data, ref_inverse.reshape(x.shape))
    np.testing.assert_array_equal(counts.data, ref_counts)
    assert values.dtype == np.float64 and inverse.dtype == np.int64 and counts.dtype == np.int64
    assert not values.requires_grad and values.grad_fn is None
    np.testing.assert_array_equal(values.data[inverse.data], x)  # the inverse rebuilds x


def test_unique_along_a_dim_and_its_dim_spellings():
    x = tn.tensor([[1, 2], [0, 5], [1, 2]])
    rows, inverse = tn.unique(x, dim=0, return_inverse=True)
    assert rows.tolist() == [[0, 5], [1, 2]]
    assert inverse.tolist() == [1, 0, 1]
    np.testing.assert_array_equal(tn.unique(x, axis=1).data, np.unique(x.data, axis=1))
    assert tn.unique(x, sorted=False).tolist() == [0, 1, 2, 5]
    with pytest.raises(IndexError):
        tn.unique(x, dim=2)
