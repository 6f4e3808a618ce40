"""The OpInfo table stays complete (a new primitive or public op without an entry fails
here), and the testing tools behind it do what they promise."""

import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import functional, ops
from tinynet.autograd import PRIMITIVES
from tinynet.testing import check_gradients_property, gradient_property
from tinynet.testing import strategies as tst
from tinynet.testing.opinfo import OPS, OPS_BY_NAME, sample_inputs


def graph_node_types(outputs) -> set:
    """Names of the Function classes in the graphs behind ``outputs`` (explicit stack)."""
    seen, names = set(), set()
    stack = [t.grad_fn for t in outputs if t is not None and t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        names.add(type(node).__name__)
        for parent in node.inputs:
            if isinstance(parent, tn.Tensor) and parent.grad_fn is not None:
                stack.append(parent.grad_fn)
    return names


def exercised_primitives(op) -> set:
    """Primitives recorded by ``op``'s sample: its forward graph and, for differentiable ops,
    the graph of its first derivative (backward-only primitives such as IndexAdd)."""
    tensors, kwargs = sample_inputs(op)
    out = op(*tensors, **kwargs)
    names = graph_node_types([out])
    if op.differentiable and out.requires_grad:
        cotangent = tn.Tensor(
            np.random.default_rng(0).standard_normal(out.shape), requires_grad=True
        )
        grads = tn.grad(out, tensors, grad_outputs=cotangent, create_graph=True, allow_unused=True)
        names |= graph_node_types(grads)
    return names


def functional_composites() -> set:
    return {
        name
        for name, value in inspect.getmembers(functional, inspect.isfunction)
        if value.__module__.startswith(functional.__name__ + ".") and not name.startswith("_")
    }


def test_every_primitive_is_exercised_by_some_opinfo_sample():
    exercised = set().union(*(exercised_primitives(op) for op in OPS))
    missing = sorted(set(PRIMITIVES) - exercised)
    assert not missing, f"primitives no OpInfo sample records: {missing}"


def test_every_public_op_has_an_opinfo_entry():
    covered = {name for op in OPS for name in op.covers}
    public = set(ops.__all__) | functional_composites()
    missing = sorted(public - covered)
    assert not missing, f"public ops without an OpInfo entry in tinynet.testing.opinfo: {missing}"


def test_entries_cover_only_real_public_names():
    # A typo in `covers` would silently satisfy nothing; every name must exist in tinynet.
    for op in OPS:
        for name in op.covers:
            assert hasattr(tn, name) or hasattr(ops, name) or hasattr(F, name), (op.name, name)


def test_the_walk_finds_backward_only_primitives():
    # The registry check above relies on this: IndexAdd appears only in getitem's backward.
    names = exercised_primitives(OPS_BY_NAME["getitem"])
    assert {"GetItem", "IndexAdd"} <= names


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_sample_inputs_are_deterministic(op):
    first, kwargs = sample_inputs(op)
    again, _ = sample_inputs(op)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.data, b.data)
        assert a.dtype == np.float64 and a.requires_grad
    assert len(first) == len(op.sample_shapes)
    assert [t.shape for t in first] == [tuple(s) for s in op.sample_shapes]
    assert kwargs == op.sample_kwargs or kwargs.keys() == op.sample_kwargs.keys()


# -- the testing tools themselves ----------------------------------------------------------------
class WrongCube(tn.Function):
    """x ** 3 with a backward off by a factor: the property helper must catch it."""

    @staticmethod
    def forward(ctx, x):
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.inputs
        return grad_output * 2 * x**2


def test_gradient_property_passes_a_correct_function():
    check_gradients_property(lambda x, y: (x * y).sin(), tst.tensors(), tst.tensors(shape=()))


def test_gradient_property_catches_a_wrong_gradient():
    with pytest.raises(tn.GradcheckError, match="input 0"):
        check_gradients_property(WrongCube.apply, tst.tensors(), order=1)


def test_gradient_property_decorator_makes_a_test_without_arguments():
    @gradient_property(tst.tensors(domain="positive"), order=2)
    def test_log(x):
        return x.log()

    assert inspect.signature(test_log).parameters == {}
    test_log()


@given(data=st.data())
def test_value_strategies_respect_domains_kinks_and_distinctness(data):
    domain = data.draw(st.sampled_from(sorted(tst.DOMAINS)))
    x = data.draw(tst.arrays(tst.shapes(max_size=12), domain=domain))
    inside = np.zeros(x.shape, bool)
    for low, high in tst.DOMAINS[domain]:
        inside |= (low <= x) & (x <= high)
    assert inside.all()
    kinked = data.draw(tst.arrays((5,), avoid=(0.0, 1.0), margin=0.1, distinct=True))
    assert np.abs(kinked).min() >= 0.1 - 1e-12 and np.abs(kinked - 1).min() >= 0.1 - 1e-12
    gaps = np.diff(np.sort(kinked))
    assert (gaps >= 0.1 - 1e-12).all()


@given(shapes=tst.broadcastable_shapes(3, max_size=24), ndim=st.integers(0, 3), data=st.data())
def test_shape_strategies_broadcast_and_give_valid_axes(shapes, ndim, data):
    result = np.broadcast_shapes(*shapes)
    assert np.prod(result) <= 24
    axis = data.draw(tst.axes(ndim))
    np.sum(np.zeros((2,) * ndim), axis=axis)  # raises if the axis is invalid
    shape = data.draw(tst.shapes(min_dims=1, max_size=12))
    np.zeros(shape)[data.draw(tst.indices(shape))]  # raises if the index is invalid
