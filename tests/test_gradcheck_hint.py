"""A failed default gradcheck names the elements within eps of a known kink and points to
the kink-aware check; a genuine mismatch gets no such hint."""

import numpy as np
import pytest

import tinynet as tn
from tinynet.gradcheck import GradcheckError


def test_relu_at_zero_names_the_kink_and_the_kink_aware_check():
    x = tn.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as error:
        tn.gradcheck(lambda t: t.relu().sum(), (x,))
    message = str(error.value)
    assert message.startswith("Jacobian mismatch: input 0, element (1,)")
    assert (
        "Within eps=1e-06 of a known kink: input 0, element (1,) lies on the kink of relu"
        in message
    )
    assert "tn.lab.check_gradients_at_kinks(fn, inputs)" in message
    assert tn.lab.check_gradients_at_kinks(lambda t: t.relu().sum(), (x,)).passed  # as hinted


def test_an_element_near_a_kink_is_named_with_its_distance():
    x = tn.tensor(np.array([3e-7, 1.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"element \(0,\) is 3e-07 from the kink of abs at 0"):
        tn.gradcheck(lambda t: t.abs().sum(), (x,))


class WrongSquare(tn.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3.0 * x  # wrong: 2 x


def test_a_genuine_mismatch_gets_no_kink_hint():
    x = tn.tensor(np.array([0.5, 1.5]), requires_grad=True)
    with pytest.raises(GradcheckError) as error:
        tn.gradcheck(lambda t: WrongSquare.apply(t).relu().sum(), (x,))
    assert "kink" not in str(error.value)


def test_raise_exception_false_still_just_returns_false():
    x = tn.tensor(np.array([0.0]), requires_grad=True)
    assert tn.gradcheck(lambda t: t.relu().sum(), (x,), raise_exception=False) is False
