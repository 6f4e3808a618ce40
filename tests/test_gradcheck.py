"""gradcheck finds planted bugs, names them, and passes correct ops."""

import numpy as np
import pytest

import tinynet as tn


def f64(values, requires_grad=True):
    return tn.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


class WrongSquare(tn.Function):
    """Planted bug: derivative of x**2 given as 2x + 1 at the element x > 1 only."""

    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.inputs
        bump = tn.Tensor((x.data > 1).astype(x.dtype))
        return grad_output * (x * 2 + bump)


class FirstOrderOnly(tn.Function):
    """Planted bug: correct first derivative of x**3, but detached so d2 is wrong (zero)."""

    @staticmethod
    def forward(ctx, x):
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.inputs
        return grad_output * tn.Tensor(3 * x.data**2)


def test_gradcheck_passes_a_correct_function():
    x = f64(np.linspace(-1, 1, 6).reshape(2, 3))
    assert tn.gradcheck(lambda t: (t.tanh() * t).sum(axis=0), (x,))


def test_gradcheck_names_input_and_element_of_a_planted_bug():
    x = f64([0.5, 0.2, 1.5])
    with pytest.raises(tn.GradcheckError, match=r"input 0, element \(2,\)") as info:
        tn.gradcheck(WrongSquare.apply, (x,))
    assert "analytic 4" in str(info.value) and "numerical 3" in str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert tn.gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_fast_mode_finds_the_planted_bug_too():
    x = f64([0.5, 0.2, 1.5])
    assert tn.gradcheck(lambda t: t * t, (x,), fast_mode=True)
    assert not tn.gradcheck(WrongSquare.apply, (x,), fast_mode=True, raise_exception=False)


def test_gradgradcheck_finds_a_wrong_second_derivative():
    x = f64([0.5, -1.2])
    assert tn.gradcheck(FirstOrderOnly.apply, (x,))
    assert not tn.gradgradcheck(FirstOrderOnly.apply, (x,), raise_exception=False)
    assert tn.gradgradcheck(lambda t: t**3, (x,))


def test_low_precision_inputs_are_refused_unless_allowed():
    x = tn.tensor(np.ones(2, np.float32), requires_grad=True)
    with pytest.raises(ValueError, match="float64"):
        tn.gradcheck(lambda t: t * 2, (x,))
    assert tn.gradcheck(lambda t: t * 2, (x,), eps=1e-2, atol=1e-2, allow_low_precision=True)


def test_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        tn.gradcheck(lambda t: t * 2, (f64([1.0], requires_grad=False),))


def test_check_gradients_reports_per_input():
    x, y = f64([1.0, 2.0]), f64([0.5, 1.5])
    report = tn.check_gradients(lambda a, b: (a * b.exp()).sum(), (x, y))
    assert report.passed and len(report.inputs) == 2
    assert all(check.max_abs_error < 1e-7 for check in report.inputs)
    assert "input" in str(report) and "pass" in str(report)
    bad = tn.check_gradients(WrongSquare.apply, (f64([0.5, 1.5]),))
    assert not bad.passed
    (failure,) = bad.failures
    assert failure.worst_element == (1, (1,))
    assert failure.analytic == pytest.approx(4.0) and failure.numerical == pytest.approx(3.0)


def test_multiple_outputs_and_non_tensor_inputs():
    x = f64([0.3, 0.4])
    assert tn.gradcheck(lambda t, k: (t * k, t.exp()), (x, 3.0))


def test_a_nan_gradient_fails():
    class NanGrad(tn.Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * np.nan

    report = tn.check_gradients(NanGrad.apply, (f64([1.0]),))
    assert not report.passed and report.inputs[0].max_abs_error == np.inf


def test_non_leaf_inputs_are_checked_as_fresh_leaves():
    x = f64([0.2, 0.4]) * 2.0
    assert tn.gradcheck(lambda t: t.tanh(), (x,))
    assert tn.gradgradcheck(lambda t: t.tanh(), (x,))


def test_central_differences_match_the_closed_form_along_elements_and_directions():
    from tinynet.gradcheck import central_differences

    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    eps = 1e-5
    along_elements = np.array(list(central_differences(lambda p: np.sin(p).sum(), x, eps)))
    np.testing.assert_allclose(along_elements, np.cos(x).ravel(), rtol=1e-8)
    directions = [np.ones_like(x), np.arange(4.0).reshape(2, 2)]
    along_directions = list(central_differences(lambda p: np.sin(p).sum(), x, eps, directions))
    exact = [float(np.sum(np.cos(x) * d)) for d in directions]
    np.testing.assert_allclose(along_directions, exact, rtol=1e-8)
    # Vector-valued functions give one column of the Jacobian per element.
    columns = list(central_differences(lambda p: p.ravel() ** 2, x, eps))
    np.testing.assert_allclose(np.stack(columns, axis=1), np.diag(2 * x.ravel()), atol=1e-8)
