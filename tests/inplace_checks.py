"""Checks shared by the tests of in-place writes through views (test_inplace_views.py,
test_inplace_other_views.py): a write pattern against finite differences and against its
out-of-place form."""

import numpy as np

import tinynet as tn


def check_by_finite_differences(write, values: np.ndarray) -> None:
    """``write``'s first and second derivatives at float64 ``values``, by finite differences."""
    x = tn.tensor(values, dtype=tn.float64, requires_grad=True)
    assert tn.gradcheck(write, (x,))
    assert tn.gradgradcheck(write, (x,))  # create_graph=True through the rebased graph


def check_against_out_of_place(write, reference, values, dtype, seed: int, rtol64: float) -> None:
    """``write`` (in place) gives ``reference``'s (out of place) values, dtype and gradients
    for one random cotangent; ``rtol64`` is the values' relative tolerance in float64."""
    x = tn.tensor(values, dtype=dtype, requires_grad=True)
    expected = tn.tensor(values, dtype=dtype, requires_grad=True)
    out, want = write(x), reference(expected)
    assert out.dtype == want.dtype == dtype
    np.testing.assert_allclose(out.data, want.data, rtol=1e-6 if dtype == np.float32 else rtol64)
    cotangent = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    out.backward(tn.tensor(cotangent))
    want.backward(tn.tensor(cotangent))
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(
        x.grad.data, expected.grad.data, rtol=1e-5 if dtype == np.float32 else 1e-13, atol=1e-6
    )
