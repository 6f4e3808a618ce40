"""Every op in the OpInfo table, one test case per op and property, inputs drawn by Hypothesis:
forward against an independent NumPy/SciPy reference, then first- and second-order
finite-difference gradient checks in float64."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
from tinynet.testing.opinfo import OPS

DIFFERENTIABLE = [op for op in OPS if op.differentiable]
NOT_DIFFERENTIABLE = [op for op in OPS if not op.differentiable]
SEVERAL_INPUTS = [op for op in DIFFERENTIABLE if len(op.sample_shapes) > 1]


def by_name(ops):
    return pytest.mark.parametrize("op", ops, ids=[op.name for op in ops])


def bound(op, kwargs):
    """The op as a function of its tensors only, for the gradient checks."""
    return lambda *tensors: op(*tensors, **kwargs)


@by_name(OPS)
@given(data=st.data())
def test_forward_matches_reference(op, data):
    sample = data.draw(op.strategy(), label="sample")
    out = op(*sample.tensors(), **sample.kwargs)
    expected = np.asarray(op.reference(*sample.arrays, **sample.kwargs))
    assert out.shape == expected.shape
    assert out.dtype == expected.dtype
    if op.differentiable:
        np.testing.assert_allclose(out.data, expected, rtol=op.rtol, atol=op.atol)
    else:
        np.testing.assert_array_equal(out.data, expected)


@by_name(DIFFERENTIABLE)
@given(data=st.data())
def test_gradcheck(op, data):
    sample = data.draw(op.strategy(), label="sample")
    assert tn.gradcheck(bound(op, sample.kwargs), sample.tensors(), eps=op.gradcheck_eps)


@by_name(DIFFERENTIABLE)
@given(data=st.data())
def test_gradgradcheck(op, data):
    sample = data.draw(op.strategy(), label="sample")
    assert tn.gradgradcheck(bound(op, sample.kwargs), sample.tensors(), eps=op.gradcheck_eps)


@by_name(SEVERAL_INPUTS)
@given(data=st.data())
def test_gradcheck_with_some_inputs_constant(op, data):
    # Backward formulas skip the gradients nobody needs; the others must stay right.
    sample = data.draw(op.strategy(), label="sample")
    count = len(sample.arrays)
    wanted = data.draw(
        st.lists(st.booleans(), min_size=count, max_size=count).filter(
            lambda flags: any(flags) and not all(flags)
        ),
        label="requires_grad",
    )
    tensors = tuple(tn.Tensor(a, requires_grad=w) for a, w in zip(sample.arrays, wanted))
    assert tn.gradcheck(bound(op, sample.kwargs), tensors, eps=op.gradcheck_eps)


@by_name(NOT_DIFFERENTIABLE)
@given(data=st.data())
def test_non_differentiable_results_do_not_require_grad(op, data):
    sample = data.draw(op.strategy(), label="sample")
    out = op(*sample.tensors(requires_grad=True), **sample.kwargs)
    assert not out.requires_grad
    assert out.grad_fn is None
    assert out.dtype.kind in "bi"


@by_name([op for op in OPS if op.method is not None])
def test_method_form_matches_function_form(op):
    sample = op.sample()
    tensors = sample.tensors()
    by_function = op(*tensors, **sample.kwargs)
    by_method = op.method(*tensors, **sample.kwargs)
    np.testing.assert_array_equal(by_method.data, by_function.data)
    assert by_method.dtype == by_function.dtype
    assert by_method.requires_grad == by_function.requires_grad


@by_name(DIFFERENTIABLE)
def test_fixed_sample_passes_both_gradient_checks(op):
    # The deterministic example behind `sample_inputs` (the CLI self-test) must be valid.
    sample = op.sample()
    function = bound(op, sample.kwargs)
    assert tn.gradcheck(function, sample.tensors(), eps=op.gradcheck_eps)
    assert tn.gradgradcheck(function, sample.tensors(), eps=op.gradcheck_eps)
