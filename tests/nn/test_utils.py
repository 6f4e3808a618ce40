"""nn.utils: gradient clipping by norm and by value, against NumPy."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinynet as tn
from tinynet.nn.utils import clip_grad_norm_, clip_grad_value_


def params_with_grads(*grads):
    params = []
    for grad in grads:
        param = tn.Tensor(np.zeros(np.shape(grad)), requires_grad=True)
        param.grad = tn.Tensor(np.asarray(grad, dtype=np.float64))
        params.append(param)
    return params


@pytest.mark.parametrize(
    ("norm_type", "expected"),
    [
        (2.0, math.sqrt(9 + 16 + 144)),
        (1.0, 3 + 4 + 12),
        (math.inf, 12.0),
        (3, (27 + 64 + 1728) ** (1 / 3)),
    ],
)
def test_total_norm_over_all_gradients(norm_type, expected):
    params = params_with_grads([3.0, -4.0], [[12.0]])
    total = clip_grad_norm_(params, max_norm=1e9, norm_type=norm_type)
    assert isinstance(total, tn.Tensor) and total.ndim == 0
    assert total.item() == pytest.approx(expected, rel=1e-12)
    assert params[0].grad.tolist() == [3.0, -4.0]  # below max_norm: untouched


def test_clipping_scales_all_gradients_together():
    params = params_with_grads([3.0, -4.0], [[12.0]])
    params.append(tn.Tensor(np.ones(2), requires_grad=True))  # no grad: skipped
    total = clip_grad_norm_(params, max_norm=1.3)
    assert total.item() == pytest.approx(13.0)
    scale = 1.3 / (13.0 + 1e-6)  # PyTorch's coefficient
    np.testing.assert_allclose(params[0].grad.data, [3 * scale, -4 * scale], rtol=1e-12)
    np.testing.assert_allclose(params[1].grad.data, [[12 * scale]], rtol=1e-12)
    assert params[2].grad is None


def test_single_tensor_inf_norm_and_empty():
    (param,) = params_with_grads([-6.0, 2.0])
    assert clip_grad_norm_(param, 3.0, norm_type="inf").item() == 6.0
    np.testing.assert_allclose(param.grad.data, [-3.0, 1.0], rtol=1e-6)
    assert clip_grad_norm_([], 1.0).item() == 0.0


def test_nonfinite_norm():
    params = params_with_grads([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert math.isinf(clip_grad_norm_(params, 1.0).item())


def test_float32_gradients_stay_float32():
    param = tn.zeros(3, requires_grad=True)
    param.grad = tn.tensor([10.0, 0.0, 0.0])
    total = clip_grad_norm_([param], 1.0)
    assert total.dtype == np.float32 and param.grad.dtype == np.float32


@given(
    grads=st.lists(
        hnp.arrays(
            np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(-1e3, 1e3)
        ),
        min_size=1,
        max_size=3,
    ),
    max_norm=st.floats(0.01, 100.0),
)
def test_clip_grad_norm_property(grads, max_norm):
    params = params_with_grads(*grads)
    flat = np.concatenate([g.ravel() for g in grads])  # a copy: the gradients are clipped in place
    total = clip_grad_norm_(params, max_norm).item()
    assert total == pytest.approx(np.linalg.norm(flat), rel=1e-12, abs=1e-300)
    clipped = np.concatenate([p.grad.data.ravel() for p in params])
    assert np.linalg.norm(clipped) <= max_norm * (1 + 1e-9) or total <= max_norm
    # Direction is preserved: clipped = c * original with one c in (0, 1].
    coefficient = min(1.0, max_norm / (total + 1e-6))
    np.testing.assert_allclose(clipped, flat * coefficient, rtol=1e-12, atol=0)


def test_clip_grad_value():
    params = params_with_grads([-3.0, 0.5, 2.0], [[0.1]])
    params.append(tn.Tensor(np.ones(1), requires_grad=True))
    assert clip_grad_value_(params, 1.0) is None
    assert params[0].grad.tolist() == [-1.0, 0.5, 1.0]
    assert params[1].grad.tolist() == [[0.1]]
    assert params[2].grad is None


# -- parameters_to_vector, vector_to_parameters ----------------------------------------------


def test_parameters_to_vector_joins_in_order_and_is_differentiable():
    from tinynet.nn.utils import parameters_to_vector

    layer = tn.nn.Linear(3, 2, rng=0).double()
    vector = parameters_to_vector(layer.parameters())
    expected = np.concatenate([layer.weight.data.ravel(), layer.bias.data])
    np.testing.assert_array_equal(vector.data, expected)
    a = tn.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = tn.tensor(np.array([0.5, -1.0]), requires_grad=True)

    def squared(a, b):
        return parameters_to_vector([a, b]) ** 2

    assert tn.gradcheck(squared, (a, b)) and tn.gradgradcheck(squared, (a, b))
    np.testing.assert_array_equal(parameters_to_vector(a).data, np.arange(6.0))
    with pytest.raises(RuntimeError, match="non-empty"):
        parameters_to_vector([])
    with pytest.raises(TypeError, match="parameter 1 is a ndarray"):
        parameters_to_vector([a, np.ones(2)])


def test_vector_to_parameters_is_the_inverse_and_writes_in_place():
    from tinynet.nn.utils import parameters_to_vector, vector_to_parameters

    layer = tn.nn.Linear(3, 2, rng=0)  # float32
    before = parameters_to_vector(layer.parameters()).data.astype(np.float64)
    weight_array = layer.weight.data
    vector_to_parameters(tn.tensor(2 * before), layer.parameters())
    np.testing.assert_allclose(parameters_to_vector(layer.parameters()).data, 2 * before, rtol=1e-6)
    assert layer.weight.data is weight_array and layer.weight.dtype == tn.float32
    np.testing.assert_allclose(layer.bias.data, 2 * before[6:], rtol=1e-6)


def test_vector_to_parameters_refuses_stale_graphs_and_bad_vectors():
    from tinynet.nn.utils import vector_to_parameters

    w = tn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (w * w).sum()
    vector_to_parameters(tn.tensor(np.array([3.0, 4.0])), [w])
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    with pytest.raises(TypeError, match="expected Tensor, but got: numpy.ndarray"):
        vector_to_parameters(np.ones(2), [w])
    for wrong in (np.ones(1), np.ones(3), np.ones((1, 2))):
        with pytest.raises(RuntimeError, match="1-D vector of 2 elements"):
            vector_to_parameters(tn.tensor(wrong), [w])


# -- rnn.pad_sequence ------------------------------------------------------------------------


def padded_reference(arrays, batch_first, value, side):
    longest = max(len(a) for a in arrays)
    out = np.full((len(arrays), longest) + arrays[0].shape[1:], value)
    for i, a in enumerate(arrays):
        if side == "right":
            out[i, : len(a)] = a
        else:
            out[i, longest - len(a) :] = a
    return out if batch_first else np.swapaxes(out, 0, 1)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_a_numpy_reference_and_gradcheck(batch_first, side):
    from tinynet.nn.utils.rnn import pad_sequence

    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(n, 2)) for n in (3, 1, 4)]
    out = pad_sequence([tn.tensor(a) for a in arrays], batch_first, -2.0, side)
    np.testing.assert_array_equal(out.data, padded_reference(arrays, batch_first, -2.0, side))
    inputs = tuple(tn.tensor(a, requires_grad=True) for a in arrays)

    def padded(*sequences):
        return pad_sequence(list(sequences), batch_first, 0.5, side) ** 2

    assert tn.gradcheck(padded, inputs) and tn.gradgradcheck(padded, inputs)


def test_pad_sequence_errors():
    from tinynet.nn.utils.rnn import pad_sequence

    with pytest.raises(ValueError, match="one of left or right, but got middle"):
        pad_sequence([tn.ones(2)], padding_side="middle")
    with pytest.raises(RuntimeError, match="empty list of sequences"):
        pad_sequence([])
    with pytest.raises(RuntimeError, match="sequence 1 has shape"):
        pad_sequence([tn.ones(2, 3), tn.ones(2, 4)])
