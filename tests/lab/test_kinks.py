"""Kink-aware gradient checks: a finite difference that straddles a kink is named, not
reported as a mismatch; real bugs elsewhere still fail."""

import inspect
import itertools

import numpy as np
import pytest

import tinynet as tn
from tinynet.lab import check_gradients_at_kinks
from tinynet.lab.kinks import crossings, kink_coordinates
from tinynet.ops import reduce
from tinynet.ops.reduce import _lead


def leaf(values) -> tn.Tensor:
    return tn.Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def relu_model(x):
    return (x.relu() * 3.0).sum()  # relu-line


def relu_line() -> int:
    source, start = inspect.getsourcelines(relu_model)
    return start + 1


def test_relu_at_exactly_zero_fails_a_plain_gradcheck_and_the_kink_check_names_it():
    x = leaf([[1.0, -2.0], [0.5, 0.25], [-1.0, 0.0]])
    with pytest.raises(tn.GradcheckError, match="element \\(2, 1\\)"):
        tn.gradcheck(relu_model, (x,))
    report = check_gradients_at_kinks(relu_model, (x,))
    assert report.passed
    (kink,) = report.kinks
    assert (kink.input, kink.element, kink.op, kink.point) == (0, (2, 1), "relu", "0")
    assert kink.distance == 0 and kink.error == pytest.approx(1.5)  # 3 * (0.5 - 0)
    assert kink.site.lineno == relu_line()
    assert kink.describe().startswith("input 0, element (2, 1) lies on the kink of relu at 0")
    assert f"test_kinks.py:{relu_line()}" in str(report)
    assert report.inputs[0].unverifiable == 1


def test_an_element_within_eps_of_the_kink_is_named_with_its_distance():
    x = leaf([0.3, 3e-9, -0.2])
    report = check_gradients_at_kinks(lambda x: (2.0 * x).relu().sum(), (x,))
    (kink,) = report.kinks
    assert kink.element == (1,)
    assert kink.distance == pytest.approx(3e-9, rel=1e-3)  # in the input's own units
    assert "is 3e-09 from the kink of relu" in kink.describe()


def test_nudge_moves_the_element_away_and_checks_it_for_real():
    x = leaf([0.5, 0.0, -1e-7])
    report = check_gradients_at_kinks(lambda x: x.abs().sum(), (x,), nudge=True)
    assert [n.element for n in report.nudges] == [(1,), (2,)]
    assert report.remaining_kinks == [] and report.passed
    assert report.inputs[0].unverifiable == 0
    moved = report.checked_inputs[0].data
    assert moved[0] == 0.5 and abs(moved[1]) >= 4e-6 and moved[2] <= -4e-6  # away, not across


def test_a_real_bug_elsewhere_still_fails_next_to_a_kink():
    class Wrong(tn.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.inputs
            return grad_output * x  # should be 2x

    x = leaf([0.0, 1.5])
    report = check_gradients_at_kinks(lambda x: x.relu().sum() + Wrong.apply(x).sum(), (x,))
    assert [k.element for k in report.kinks] == [(0,)]
    assert not report.passed
    assert report.inputs[0].worst_element == (1,)
    assert report.inputs[0].analytic == pytest.approx(1 + 1.5)
    assert report.inputs[0].numerical == pytest.approx(1 + 3.0)


@pytest.mark.parametrize(
    "fn, values, point",
    [
        (lambda x: tn.maximum(x, x[::-1] * 1.0).sum(), [1.0, 2.0, 1.0], "a tie"),
        (lambda x: tn.minimum(x, 2.0).sum(), [1.0, 2.0, 3.0], "a tie"),
        (lambda x: x.clip(-1.0, 1.0).sum(), [1.0, 0.5, -3.0], "the upper bound 1"),
        (lambda x: x.clip(min=-1.0).sum(), [-1.0, 0.5, 3.0], "the lower bound -1"),
        (lambda x: x.leaky_relu(0.1).sum(), [0.0, 0.5, 3.0], "0"),
        (lambda x: x.elu(0.5).sum(), [0.0, 0.5, 3.0], "0"),
        (lambda x: x.max(), [3.0, 1.0, 3.0], "a tie"),
        (lambda x: x.min(), [3.0, 1.0, 1.0], "a tie"),
    ],
)
def test_each_kinked_op_is_recognized(fn, values, point):
    report = check_gradients_at_kinks(fn, (leaf(values),))
    assert report.kinks and {k.point for k in report.kinks} == {point}
    assert report.passed


def test_smooth_functions_and_elu_with_alpha_one_report_no_kinks():
    # elu with alpha=1 has a continuous first derivative at 0: not a kink for a first-order check
    x = leaf([0.0, 0.5, -0.5])
    for fn in (lambda x: x.elu().sum(), lambda x: (x.sin() * x).sum(), lambda x: x.max() * 0.0):
        report = check_gradients_at_kinks(fn, (x,))
        assert report.kinks == [] and report.passed
        assert "no finite-difference step crosses a kink" in str(report)


def test_lead_is_the_margin_over_the_best_other_element_of_each_slice():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(3, 4, 2)).astype(float)  # many ties
    for axis in (None, 0, 1, (0, 2), -1):
        lead = _lead(x, axis)
        axes = tuple(range(3)) if axis is None else np.atleast_1d(axis) % 3
        for index in itertools.product(*map(range, x.shape)):
            same_slice = [
                other for other in itertools.product(*map(range, x.shape))
                if other != index and all(other[a] == index[a] for a in range(3) if a not in axes)
            ]  # fmt: skip
            expected = x[index] - max(x[o] for o in same_slice)
            assert lead[index] == expected


def test_kink_coordinates_and_crossings():
    ((point, coordinates),) = kink_coordinates(reduce.Max, (np.array([1.0, 1.0]), None, False))
    assert point == "a tie" and coordinates.tolist() == [0.0, 0.0]
    assert crossings(np.array([-1.0, 0.0, 2.0, np.nan]), np.array([1.0, 0.0, 3.0, 1.0])).tolist() == [
        True, False, False, False
    ]  # fmt: skip


def test_a_users_op_can_declare_its_kinks():
    class Hinge(tn.Function):
        @staticmethod
        def forward(ctx, x, at):
            ctx.at = at
            return np.maximum(x - at, 0.0)

        @staticmethod
        def backward(ctx, grad_output):
            (x, _) = ctx.inputs
            return tn.where(x.data > ctx.at, grad_output, 0.0), None

    x = leaf([1.0, 2.0])
    assert not check_gradients_at_kinks(lambda x: Hinge.apply(x, 1.0).sum(), (x,)).passed
    tn.lab.register_kink(Hinge, lambda x, at: [(f"{at:g}", x - at)])
    report = check_gradients_at_kinks(lambda x: Hinge.apply(x, 1.0).sum(), (x,))
    assert report.passed and [(k.op, k.point, k.element) for k in report.kinks] == [
        ("Hinge", "1", (0,))
    ]  # fmt: skip


# == issue 11: the jumps and kinks of the new primitives are recognized ========================
@pytest.mark.parametrize(
    "fn, values, point",
    [
        (lambda x: x.floor().sum() + x.sum(), [1.0, 0.5, 3.0], "an integer"),
        (lambda x: x.round().sum() + x.sum(), [1.5, 0.2, 3.0], "a half"),
        (lambda x: x.sign().sum() + x.sum(), [0.0, 0.2, 3.0], "0"),
        (lambda x: tn.fmod(x, 2.0).sum(), [4.0, 0.5, 1.0], "a whole quotient a / b"),
        (lambda x: (x % 0.5).sum(), [1.0, 0.2, 0.7], "a whole quotient a / b"),
        (lambda x: (x // 0.5).sum() + x.sum(), [1.0, 0.2, 0.7], "a whole quotient a / b"),
        (lambda x: tn.hardtanh(x).sum(), [1.0, 0.5, -3.0], "the upper bound 1"),
        (lambda x: tn.relu6(x).sum(), [0.0, 0.5, 3.0], "the lower bound 0"),
        (lambda x: tn.hardswish(x).sum(), [3.0, 0.5, 1.0], "3"),
        (lambda x: tn.hypot(x, x * 0.0).sum(), [0.0, 0.5, 1.0], "the origin"),
    ],
)
def test_issue_11_kinked_ops_are_recognized(fn, values, point):
    report = check_gradients_at_kinks(fn, (leaf(values),))
    assert report.kinks and {k.point for k in report.kinks} == {point}
    assert report.passed


def test_smooth_steps_of_rounding_ops_report_no_kinks():
    x = leaf([0.3, 1.7, -2.2])
    for fn in (lambda x: x.floor().sum(), lambda x: (x % 1.0).sum(), lambda x: x.round().sum()):
        report = check_gradients_at_kinks(fn, (x,))
        assert report.kinks == [] and report.passed
