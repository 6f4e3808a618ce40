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
    total = clip_grad_norm_(params, max_norm).item()
    flat = np.concatenate([g.ravel() for g in grads])
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
