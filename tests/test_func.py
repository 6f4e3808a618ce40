"""tn.func transforms against closed forms."""

import numpy as np
import pytest

import tinynet as tn

A = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 1.0], [0.0, -1.0, 4.0]])


def quadratic(x):
    return (x * (tn.Tensor(A) @ x)).sum()  # x^T A x


def test_grad_and_value_and_grad_of_a_quadratic_form():
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(tn.func.grad(quadratic)(x).data, (A + A.T) @ x)
    value, gradient = tn.func.value_and_grad(quadratic)(tn.tensor(x))
    assert value.item() == pytest.approx(x @ A @ x)
    np.testing.assert_allclose(gradient.data, (A + A.T) @ x)
    assert not gradient.requires_grad


def test_grad_with_several_argnums():
    def f(x, y):
        return (x * y.exp()).sum()

    x, y = np.array([1.0, 2.0]), np.array([0.0, 1.0])
    gx, gy = tn.func.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx.data, np.exp(y))
    np.testing.assert_allclose(gy.data, x * np.exp(y))


def test_grad_needs_a_scalar_output():
    with pytest.raises(ValueError, match="scalar"):
        tn.func.grad(lambda x: x * 2)(np.ones(2))


def test_jacobian_of_elementwise_and_matrix_functions():
    x = np.array([0.3, -0.7])
    np.testing.assert_allclose(tn.func.jacobian(lambda t: t.sin())(x).data, np.diag(np.cos(x)))
    m = np.arange(6.0).reshape(3, 2)
    jac = tn.func.jacobian(lambda t: tn.Tensor(m) @ t)(x)
    np.testing.assert_allclose(jac.data, m)


def test_hessian_of_quadratic_is_a_plus_a_transpose():
    np.testing.assert_allclose(tn.func.hessian(quadratic)(np.ones(3)).data, A + A.T)


def test_hessian_of_a_nonlinear_function():
    def f(x):
        return (x[0] ** 2 * x[1].sin()).sum()

    x = np.array([1.5, 0.4])
    a, b = x
    expected = np.array(
        [[2 * np.sin(b), 2 * a * np.cos(b)], [2 * a * np.cos(b), -(a**2) * np.sin(b)]]
    )
    np.testing.assert_allclose(tn.func.hessian(f)(x).data, expected)


def test_hvp_matches_hessian_times_vector():
    def f(x):
        return (x.exp() * x.sum()).sum()

    x, v = np.array([0.1, 0.2, 0.3]), np.array([1.0, -1.0, 2.0])
    hessian = tn.func.hessian(f)(x).data
    np.testing.assert_allclose(tn.func.hvp(f, x, v).data, hessian @ v)


def test_hvp_of_a_linear_function_is_zero():
    np.testing.assert_array_equal(tn.func.hvp(lambda x: x.sum(), np.ones(2), np.ones(2)).data, 0)


def test_vjp():
    x = np.array([1.0, 2.0])
    out, vjp_fn = tn.func.vjp(lambda t: t * t, x)
    np.testing.assert_array_equal(out.data, [1.0, 4.0])
    (cotangent_grad,) = vjp_fn(tn.tensor(np.array([1.0, 10.0])))
    np.testing.assert_array_equal(cotangent_grad.data, [2.0, 40.0])


def test_transforms_compose_to_third_order():
    third = tn.func.grad(
        lambda x: tn.func.grad(lambda y: tn.func.grad(lambda z: (z**4).sum())(y).sum())(x).sum()
    )
    np.testing.assert_allclose(third(np.array([2.0])).data, [24 * 2.0])
