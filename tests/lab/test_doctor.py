"""The gradient doctor: every node's backward checked locally; a planted bug is found where
it is, with the line that created it."""

import copy
import inspect

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
from tinynet.lab import diagnose
from tinynet.testing.opinfo import OPS, sample_inputs


class Swish(tn.Function):
    """x * sigmoid(x) with a planted bug: the derivative should be s * (1 + x * (1 - s))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.exp(-x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return grad_output * s * (1 + x * s)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 6, rng=0)
        self.fc2 = nn.Linear(6, 4, rng=1)
        self.fc3 = nn.Linear(4, 2, rng=2)

    def forward(self, x):
        h = self.fc1(x).tanh()
        h = Swish.apply(self.fc2(h))  # the planted bug
        return self.fc3(h).log_softmax(axis=1)


def swish_line() -> int:
    source, start = inspect.getsourcelines(Net.forward)
    return next(i for i, line in enumerate(source, start) if "Swish.apply" in line)


def test_planted_bug_deep_in_a_graph_is_the_first_bad_node_with_its_line():
    net = Net()
    x = tn.randn(5, 3, rng=3)  # float32, as a real model; the doctor replays in float64
    targets = np.array([0, 1, 1, 0, 1])

    def loss(x):
        return -(net(x)[np.arange(5), targets]).mean()

    double_net = copy.deepcopy(net).double()  # layers refuse a float64 input into float32

    def double_loss(x):
        return -(double_net(x)[np.arange(5), targets]).mean()

    with pytest.raises(tn.GradcheckError):  # the plain check only sees "the output is wrong"
        tn.gradcheck(double_loss, (x.double().detach().requires_grad_(),))
    report = diagnose(loss, (x,))
    bad = report.first_bad
    assert [node.op for node in report.bad] == ["Swish"]
    assert bad.input_shapes == ((5, 4),) and bad.input_dtypes == ("float32",)
    assert bad.site.path == __file__ and bad.site.lineno == swish_line()
    assert [node.op for node in report.nodes] == [
        "linear", "tanh", "linear", "Swish", "linear", "log_softmax", "getitem", "mean", "neg"
    ]  # fmt: skip
    assert bad.max_abs_error > 1e-3 and bad.element is not None
    text = str(report)
    assert "Swish((5, 4) f32)" in text and "FAIL" in text
    assert f"test_doctor.py:{swish_line()}" in text
    assert "first bad node: #" in text and "h = Swish.apply(self.fc2(h))" in text


def test_the_local_check_is_against_true_numbers():
    # Swish at one element: check the doctor's numerical value against the closed form.
    x = tn.tensor(np.array([[0.7]]), requires_grad=True)
    report = diagnose(lambda x: Swish.apply(x), (x,))
    node = report.nodes[0]
    s = 1 / (1 + np.exp(-0.7))
    true, wrong = s * (1 + 0.7 * (1 - s)), s * (1 + 0.7 * s)
    # u * f'(x) for the doctor's random cotangent u: the ratio removes u.
    assert node.numerical / node.analytic == pytest.approx(true / wrong, rel=1e-6)


def test_every_op_in_the_table_passes_the_local_check_in_float32_and_float64():
    for op in OPS:
        if not op.differentiable:
            continue
        tensors, kwargs = sample_inputs(op)
        for dtype in (np.float64, np.float32):
            inputs = tuple(tn.Tensor(t.data.astype(dtype), requires_grad=True) for t in tensors)
            report = diagnose(lambda *ts, op=op, kw=kwargs: op(*ts, **kw), inputs)
            assert report.passed, f"{op.name}\n{report}"
            assert all(node.status == "ok" for node in report.nodes), f"{op.name}\n{report}"


def test_only_nodes_that_reach_the_output_are_checked_in_topological_order():
    x = tn.randn(3, dtype=tn.float64, requires_grad=True, rng=0)

    def fn(x):
        x.cos()  # a side computation: not part of the output
        return (x.exp() * x).sum()

    report = diagnose(fn, (x,))
    assert [node.op for node in report.nodes] == ["exp", "mul", "sum"]
    assert [node.index for node in report.nodes] == [0, 1, 2]


def test_a_backward_that_raises_is_reported_as_an_error():
    class Broken(tn.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output.reshape(-1, 7)

    x = tn.randn(2, 3, dtype=tn.float64, requires_grad=True, rng=0)
    report = diagnose(lambda x: Broken.apply(x).sum(), (x,))
    assert report.first_bad.op == "Broken" and report.first_bad.status == "error"
    assert "backward raised" in report.first_bad.describe()


def test_relu_input_at_its_kink_is_not_a_false_failure():
    x = tn.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    report = diagnose(lambda x: x.relu().sum(), (x,))
    relu = report.nodes[0]
    assert relu.status == "ok" and relu.at_kinks == 1


def test_large_inputs_use_random_projections_and_still_find_a_bug():
    class Twice(tn.Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 2.5

    x = tn.randn(40, 40, dtype=tn.float64, requires_grad=True, rng=0)
    report = diagnose(lambda x: Twice.apply(x).tanh().sum(), (x,), max_elements=100)
    assert report.first_bad.op == "Twice" and report.first_bad.element is None
    assert report.first_bad.numerical == pytest.approx(report.first_bad.analytic * 2 / 2.5)


def test_a_masks_infinite_scores_are_left_out_and_a_wrong_gradient_still_found():
    # Causal attention adds -inf scores: no derivative there, so not a false failure.
    q = tn.tensor(np.random.default_rng(0).normal(size=(3, 2)), requires_grad=True)
    report = diagnose(
        lambda q: nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True).sum(), (q,)
    )
    assert report.passed, str(report)
    assert any("non-finite output values not checked" in (c.message or "") for c in report.nodes)

    class BadBeyondInf(tn.Function):  # wrong where the output is finite
        @staticmethod
        def forward(ctx, x):
            return np.where(x > 0, 2 * x, -np.inf)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 3.0

    report = diagnose(lambda x: BadBeyondInf.apply(x), (q,))
    assert not report.passed
