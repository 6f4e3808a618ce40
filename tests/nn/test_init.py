"""nn.init: PyTorch's closed forms for gains, fans, bounds and standard deviations."""

import math

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
from tinynet.nn import init

N_OUT, N_IN = 300, 500  # 150k samples: std estimates within ~0.2%, bounds nearly reached


@pytest.mark.parametrize(
    ("nonlinearity", "param", "gain"),
    [
        ("linear", None, 1.0),
        ("sigmoid", None, 1.0),
        ("conv2d", None, 1.0),
        ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)),
        ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
        ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain(nonlinearity, param, gain):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(tn.empty(3, 5)) == (5, 3)
    assert init._calculate_fan_in_and_fan_out(tn.empty(8, 4, 3, 2)) == (24, 48)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(tn.empty(4))


def check_uniform(array, bound):
    assert np.abs(array).max() <= bound * (1 + 1e-6)  # float32 rounding
    assert np.abs(array).max() > 0.999 * bound
    np.testing.assert_allclose(array.std(), bound / math.sqrt(3), rtol=0.01)
    assert abs(array.mean()) < 0.01 * bound


def check_normal(array, std):
    np.testing.assert_allclose(array.std(), std, rtol=0.01)
    assert abs(array.mean()) < 0.01 * std
    # Normal, not uniform: the kurtosis of a Gaussian is 3 (uniform: 1.8).
    kurtosis = ((array - array.mean()) ** 4).mean() / array.var() ** 2
    assert abs(kurtosis - 3) < 0.1


def test_xavier_uniform_and_normal():
    weight = tn.empty(N_OUT, N_IN)
    init.xavier_uniform_(weight, gain=2.0, rng=0)
    check_uniform(weight.data, 2.0 * math.sqrt(6 / (N_IN + N_OUT)))
    init.xavier_normal_(weight, rng=0)
    check_normal(weight.data, math.sqrt(2 / (N_IN + N_OUT)))


@pytest.mark.parametrize(
    ("kwargs", "fan", "gain"),
    [
        ({}, N_IN, math.sqrt(2)),  # leaky_relu with a=0
        ({"nonlinearity": "relu"}, N_IN, math.sqrt(2)),
        ({"nonlinearity": "relu", "mode": "fan_out"}, N_OUT, math.sqrt(2)),
        ({"a": math.sqrt(5)}, N_IN, math.sqrt(1 / 3)),
        ({"nonlinearity": "tanh", "mode": "FAN_IN"}, N_IN, 5 / 3),
    ],
)
def test_kaiming(kwargs, fan, gain):
    weight = tn.empty(N_OUT, N_IN)
    init.kaiming_uniform_(weight, rng=0, **kwargs)
    check_uniform(weight.data, gain * math.sqrt(3 / fan))
    init.kaiming_normal_(weight, rng=1, **kwargs)
    check_normal(weight.data, gain / math.sqrt(fan))


def test_kaiming_rejects_unknown_mode_and_skips_empty():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(tn.empty(2, 2), mode="fan_avg")
    empty = tn.empty(0, 3)
    assert init.kaiming_normal_(empty) is empty


def test_uniform_normal_constant():
    weight = tn.empty(N_OUT, N_IN)
    init.uniform_(weight, -2.0, 4.0, rng=0)
    assert weight.data.min() >= -2.0 and weight.data.max() < 4.0
    np.testing.assert_allclose(weight.data.mean(), 1.0, atol=0.02)
    np.testing.assert_allclose(weight.data.std(), 6 / math.sqrt(12), rtol=0.01)
    init.normal_(weight, mean=3.0, std=0.5, rng=0)
    np.testing.assert_allclose(weight.data.mean(), 3.0, atol=0.01)
    check_normal(weight.data - 3.0, 0.5)
    assert init.constant_(weight, 0.25).data.tolist()[0][:2] == [0.25, 0.25]
    assert not init.zeros_(weight).data.any()
    assert (init.ones_(weight).data == 1).all()


def test_init_is_in_place_keeps_dtype_and_is_reproducible():
    param = nn.Parameter(np.zeros((4, 5), np.float32))
    array = param.data
    assert init.xavier_uniform_(param, rng=3) is param
    assert param.data is array and array.dtype == np.float32 and array.any()
    again = nn.Parameter(np.zeros((4, 5), np.float32))
    init.xavier_uniform_(again, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(param.data, again.data)
    init.xavier_uniform_(again, rng=4)
    assert not np.array_equal(param.data, again.data)
    with pytest.raises(TypeError, match="Tensor"):
        init.zeros_([1.0, 2.0])
