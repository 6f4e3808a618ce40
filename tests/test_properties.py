"""The gradient property helper on users' own functions, ops and modules: planted bugs of
first and second order are found, and the shrunk counterexample is reported readably."""

import ast

import numpy as np
import pytest
from hypothesis import settings

import tinynet as tn
import tinynet.nn as nn
from tinynet.testing import check_gradients_property, gradient_property, tensors
from tinynet.testing.properties import gradient_report

# Each property below runs at most 25 examples: every example is a full Jacobian check of
# first and second order, and a planted bug is found within the first few.
FEW = settings(max_examples=25)


class Cube(tn.Function):
    """x**3, right at first order; ``detached`` plants a second-order bug."""

    detached = False

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @classmethod
    def backward(cls, ctx, grad_output):
        (x,) = ctx.saved_tensors
        square = tn.Tensor(x.data**2) if cls.detached else x * x  # detached: d/dx lost
        return grad_output * 3 * square


class DetachedCube(Cube):
    detached = True


class Scale(tn.Function):
    """x * w with a planted bug in the gradient of w only."""

    @staticmethod
    def forward(ctx, x, w):
        return x * w

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.inputs
        return grad_output * w, (grad_output * x).sum(0) * 0.5


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.array([1.5, -2.0], dtype=np.float32))

    def forward(self, x):
        return Scale.apply(x, self.w).tanh()


def test_a_users_op_passes_when_right():
    check_gradients_property(Cube, tensors(shape=(3,)), settings=FEW)


def test_a_second_order_bug_is_found_only_at_order_two():
    check_gradients_property(DetachedCube, tensors(shape=(2,)), order=1, settings=FEW)
    with pytest.raises(tn.GradcheckError) as error:
        check_gradients_property(DetachedCube, tensors(shape=(2,)), settings=FEW)
    message = str(error.value)
    assert message.startswith("second-order gradients of DetachedCube disagree")
    assert "grad_output 0 = array(" in message  # the cotangent is an input of that check


def test_a_module_is_checked_wrt_its_parameters_in_float64():
    module = Scaled()
    assert module.w.dtype == np.float32
    with pytest.raises(tn.GradcheckError) as error:
        check_gradients_property(module, tensors(shape=(2, 2)), order=1, settings=FEW)
    message = str(error.value)
    assert "parameter 'w', element" in message
    assert "input 0, element" not in message  # the input's gradient is right
    assert "parameter 'w' = array([ 1.5, -2. ])" in message
    assert module.w.dtype == np.float32  # the user's module is untouched


def test_the_report_shows_the_shrunk_counterexample_with_true_values():
    # Hypothesis shrinks toward zeros; at x = 0 the w-gradient of tanh(x * w) is 0 either
    # way, so the counterexample has a nonzero x, printed with every digit.
    with pytest.raises(tn.GradcheckError) as error:
        check_gradients_property(Scaled(), tensors(shape=(1, 2)), order=1, settings=FEW)
    message = str(error.value)
    x = np.array(ast.literal_eval(message.split("input 0 = array(")[1].split(")")[0]))
    element = int(message.split("parameter 'w', element (")[1].split(",")[0])
    w = np.array([1.5, -2.0])
    true = x[0, element] * (1 - np.tanh(x[0, element] * w[element]) ** 2)
    analytic = float(message.split("analytic ")[-1].split(" ")[0])
    numerical = float(message.split("numerical ")[-1].split(" ")[0])
    assert numerical == pytest.approx(true, rel=1e-6)
    assert analytic == pytest.approx(true / 2, rel=1e-6)


def test_float32_draws_and_modules_in_float32_are_checked_in_float64():
    net = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 1, rng=1))
    check_gradients_property(net, tensors(shape=(2, 2), dtype=np.float32), settings=FEW)


def test_dropout_in_training_mode_is_refused_with_advice():
    net = nn.Sequential(nn.Linear(2, 2, rng=0), nn.Dropout(0.5, rng=0))
    with pytest.raises(ValueError, match="module.eval"):
        check_gradients_property(net, tensors(shape=(1, 2)))
    check_gradients_property(net.eval(), tensors(shape=(1, 2)), order=1, settings=FEW)


def test_gradient_report_directly():
    x = tn.tensor(np.array([0.5, -1.0]), dtype=tn.float64, requires_grad=True)
    assert gradient_report(Cube, (x,)) is None
    report = gradient_report(DetachedCube, (x,))
    assert report.startswith("second-order gradients of DetachedCube")
    assert "input 0 = array([ 0.5, -1. ])" in report


@gradient_property(tensors(shape=(2,)), order=1, settings=FEW)
def test_decorator_form_still_works(x):
    return Cube.apply(x).sum()
