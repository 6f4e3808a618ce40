"""nn.utils.functional_call: a module computed with other parameter Tensors, then restored."""

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn


def test_gradients_flow_to_the_given_tensors_and_match_the_closed_form():
    net = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Tanh(), nn.Linear(2, 1, rng=1))
    originals = {name: p.data.copy() for name, p in net.named_parameters()}
    rng = np.random.default_rng(0)
    w = tn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    x = tn.tensor(rng.standard_normal((4, 3)))
    out = nn.utils.functional_call(net.to(tn.float64), {"0.weight": w}, (x,))
    out.sum().backward()
    # d/dW sum(v . tanh(W x + b)) = ((1 - tanh^2) * v)^T x, summed over the batch
    b, v = net[0].bias.data, net[2].weight.data[0]
    hidden = np.tanh(x.data @ w.data.T + b)
    np.testing.assert_allclose(w.grad.data, ((1 - hidden**2) * v).T @ x.data, rtol=1e-12)
    assert net[0].weight.grad is None  # the module's own weight took no part
    for name, p in net.named_parameters():
        np.testing.assert_array_equal(p.data, originals[name].astype(np.float64))
        assert isinstance(p, nn.Parameter)


def test_the_parameters_are_restored_when_the_call_raises():
    layer = nn.Linear(3, 2, rng=0)
    weight = layer.weight
    with pytest.raises(Exception, match="shape|match"):
        nn.utils.functional_call(layer, {"weight": tn.ones(2, 3)}, tn.ones(1, 4))
    assert layer.weight is weight


def test_an_unknown_name_raises_naming_the_parameters():
    layer = nn.Linear(3, 2, rng=0)
    with pytest.raises(KeyError, match="no parameter 'weights'.*'weight', 'bias'"):
        nn.utils.functional_call(layer, {"weights": tn.ones(2, 3)}, tn.ones(1, 3))
    assert isinstance(layer.weight, nn.Parameter)
