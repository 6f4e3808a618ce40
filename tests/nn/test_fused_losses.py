"""The fused loss primitives behind F.cross_entropy and F.binary_cross_entropy_with_logits:
one graph node each, the same values and derivatives (to order 2) as their compositions."""

import numpy as np
import pytest
from scipy import special

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.ops.fused import BinaryCrossEntropyWithLogits, SoftmaxCrossEntropy

rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(5, 4)) * 3
LABELS = np.array([0, 3, 1, 1, 2])
TARGETS = rng.uniform(size=(5, 4))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_is_one_node_equal_to_nll_of_log_softmax(reduction):
    x = tn.tensor(LOGITS, requires_grad=True)
    loss = F.cross_entropy(x, LABELS, reduction=reduction)
    assert type(loss.grad_fn) is SoftmaxCrossEntropy
    x2 = tn.tensor(LOGITS, requires_grad=True)
    composed = F.nll_loss(F.log_softmax(x2, 1), LABELS, reduction=reduction)
    np.testing.assert_allclose(loss.data, composed.data, rtol=1e-14)
    seed = np.arange(1.0, 6.0) if reduction == "none" else None
    (gx,) = tn.grad(loss, x, grad_outputs=seed, create_graph=True)
    (gx2,) = tn.grad(composed, x2, grad_outputs=seed, create_graph=True)
    np.testing.assert_allclose(gx.data, gx2.data, rtol=1e-12, atol=1e-15)
    (hx,) = tn.grad((gx * gx).sum(), x)
    (hx2,) = tn.grad((gx2 * gx2).sum(), x2)
    np.testing.assert_allclose(hx.data, hx2.data, rtol=1e-10, atol=1e-14)


def test_first_order_fast_path_equals_the_tensor_formula_bit_for_bit():
    for dtype in (np.float32, np.float64):
        x = tn.tensor(LOGITS.astype(dtype), requires_grad=True)
        F.cross_entropy(x, LABELS).backward()
        y = tn.tensor(LOGITS.astype(dtype), requires_grad=True)
        (gy,) = tn.grad(F.cross_entropy(y, LABELS), y, create_graph=True)
        assert x.grad.dtype == dtype
        np.testing.assert_array_equal(x.grad.data, gy.data)


def test_other_cases_keep_the_composition():
    x = tn.tensor(LOGITS, requires_grad=True)
    ignored = np.array([0, -100, 1, 1, 2])
    for loss in (
        F.cross_entropy(x, ignored),
        F.cross_entropy(x, LABELS, weight=np.ones(4)),
        F.cross_entropy(x, LABELS, label_smoothing=0.1),
    ):
        assert type(loss.grad_fn) is not SoftmaxCrossEntropy
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, np.array([0, 4, 1, 1, 2]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_is_one_node_with_gradients_for_both_inputs(reduction):
    x = tn.tensor(LOGITS * 100, requires_grad=True)  # large logits: no overflow, no cancellation
    t = tn.tensor(TARGETS, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction=reduction)
    assert type(loss.grad_fn) is BinaryCrossEntropyWithLogits
    expected = np.logaddexp(0, LOGITS * 100) - LOGITS * 100 * TARGETS
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    np.testing.assert_allclose(loss.data, reduce(expected), rtol=1e-12)
    assert tn.gradcheck(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
        (tn.tensor(LOGITS, requires_grad=True), tn.tensor(TARGETS, requires_grad=True)),
    )
    assert tn.gradgradcheck(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
        (tn.tensor(LOGITS, requires_grad=True), tn.tensor(TARGETS, requires_grad=True)),
    )


def test_class_indices_in_any_form_take_the_fused_node_and_probabilities_do_not():
    x = tn.tensor(LOGITS, requires_grad=True)
    expected = F.cross_entropy(x, LABELS).data.tobytes()
    for labels in (LABELS.tolist(), LABELS.astype(np.uint8), tn.tensor(LABELS)):
        loss = F.cross_entropy(x, labels)
        assert type(loss.grad_fn) is SoftmaxCrossEntropy
        assert loss.data.tobytes() == expected
    # Probabilities lie in [0, C) like valid class indices, but are not indices.
    probs = TARGETS / TARGETS.sum(axis=1, keepdims=True)
    loss = F.cross_entropy(x, probs)
    assert type(loss.grad_fn) is not SoftmaxCrossEntropy
    reference = -(probs * special.log_softmax(LOGITS, axis=1)).sum(axis=1).mean()
    np.testing.assert_allclose(loss.data, reference, rtol=1e-13)


@pytest.mark.parametrize("target", [LABELS.astype(np.float64), LABELS.tolist()], ids=["f8", "list"])
def test_the_fused_primitive_refuses_targets_that_are_not_integer_arrays(target):
    with pytest.raises(TypeError, match="integer class indices"):
        tn.ops.softmax_cross_entropy(tn.tensor(LOGITS), target)
