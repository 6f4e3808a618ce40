"""An op's facts live with its class, and the rest of the code agrees with them.

- ``Function.kinks`` (where an op is not differentiable) against the OpInfo table: an entry
  whose op runs a kinked primitive keeps its values away from the kinks (``avoid=`` or
  ``distinct=``), and every ``avoid=`` point is a kink the primitive declares.
- ``Function.display_name`` / ``op_name``: reports name each primitive as users write it.
- Public functions carry their own name (``tn.exp.__name__ == "exp"``).
"""

import numpy as np
import pytest

import tinynet as tn
from tinynet import ops
from tinynet.autograd import PRIMITIVES
from tinynet.lab.history import op_name
from tinynet.lab.kinks import kink_coordinates
from tinynet.testing import ops_run
from tinynet.testing.opinfo import OPS, Sample

# Primitives only backward formulas make, so no public function names them.
BACKWARD_ONLY = {"IndexAdd"}


def kinked_calls(op, arrays, kwargs) -> list:
    """``(class name, kink coordinates)`` of every kinked primitive ``op`` runs on ``arrays``."""
    calls = []

    def record(ctx, result):
        if ctx.inputs is not None:
            coordinates = kink_coordinates(type(ctx), ctx.inputs)
            if coordinates:
                calls.append((type(ctx).__name__, coordinates))

    with tn.autograd.register_forward_hook(record):
        op(*Sample(tuple(arrays), kwargs).tensors(), **kwargs)
    return calls


def has_zero(calls) -> bool:
    return any((c == 0).any() for _, coordinates in calls for _, c in coordinates)


@pytest.mark.parametrize("op", [op for op in OPS if op.differentiable], ids=lambda op: op.name)
def test_opinfo_keeps_away_from_the_kinks_its_primitives_declare(op):
    sample = op.sample()
    calls = kinked_calls(op, sample.arrays, sample.kwargs)
    if calls:
        assert op.avoid or op.distinct, (
            f"{op.name} runs {sorted({name for name, _ in calls})}, which have kinks: give "
            "its OpInfo avoid= (kink points) or distinct=True (ties)"
        )
    # Where the kinks depend on arguments (clip's bounds), ``avoid`` lists those of every
    # drawn argument, and the fixed sample's arguments put only some of them at a kink.
    kinks = [
        point
        for point in op.avoid
        if has_zero(
            kinked_calls(op, [np.full_like(a, point) for a in sample.arrays], sample.kwargs)
        )
    ]
    missing = set(op.avoid) - set(kinks) if not sample.kwargs else set()
    assert not op.avoid or (kinks and not missing), (
        f"{op.name}: avoid={sorted(missing or op.avoid)} is no kink any of its primitives "
        "declares; give the primitive's class its kinks (see docs/design.md)"
    )
    if op.distinct and calls:
        tied = [np.zeros_like(a) for a in sample.arrays]
        assert has_zero(kinked_calls(op, tied, sample.kwargs)), f"{op.name}: ties are no kink"


def test_the_kink_check_sees_a_missing_avoid():
    relu = next(op for op in OPS if op.name == "relu")
    sample = relu.sample()
    assert kinked_calls(relu, sample.arrays, sample.kwargs)  # relu's class declares its kink
    assert not kinked_calls(
        next(op for op in OPS if op.name == "exp"), sample.arrays, {}
    )  # a smooth op declares none


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_reports_name_each_primitive_as_users_write_it(name):
    cls = PRIMITIVES[name]
    shown = op_name(cls)
    if name in BACKWARD_ONLY:
        return
    assert hasattr(tn, shown) or hasattr(ops, shown) or hasattr(tn.Tensor, shown), (
        f"{name} is shown as {shown!r}, which is no public name: set its display_name"
    )


def test_display_names_win_and_user_ops_keep_their_class_name():
    class Cube(tn.Function):
        @staticmethod
        def forward(ctx, x):
            return x**3

    class Named(Cube):
        display_name = "cube"

    class Rounding(tn.Function):  # one class for several functions: the node names itself
        @staticmethod
        def forward(ctx, x, name):
            ctx.display_name = name
            return np.floor(x) if name == "floor" else np.ceil(x)

    node = Rounding.apply(tn.ones(2, requires_grad=True), "ceil").grad_fn
    assert op_name(node) == "ceil" and op_name(Rounding) == "Rounding"
    assert op_name(ops.elementwise.PowScalar) == "pow"
    assert op_name(ops.elementwise.LeakyRelu) == "leaky_relu"
    assert op_name(Cube) == "Cube" and op_name(Named) == "cube"


def test_public_functions_carry_their_own_name():
    wrong = []
    for namespace in (tn, ops):
        for attribute in dir(namespace):
            value = getattr(namespace, attribute)
            if attribute.startswith("_") or not callable(value) or isinstance(value, type):
                continue
            if not hasattr(value, "__name__") or type(value).__name__ != "function":
                continue
            # An alias (tn.clamp for tn.clip) is the function under its own name too.
            if getattr(namespace, value.__name__, None) is not value:
                wrong.append(f"{namespace.__name__}.{attribute}.__name__ == {value.__name__!r}")
    assert not wrong, "\n".join(wrong)
    assert tn.exp.__name__ == "exp" and tn.relu.__qualname__ == "relu"


def test_ops_run_names_the_ops_of_a_composite():
    with ops_run() as names:
        tn.ones(2).exp().sum()
    assert names == ["Exp", "Sum"]
