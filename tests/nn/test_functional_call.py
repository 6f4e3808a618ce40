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


def test_a_tuple_of_parameter_and_buffer_dicts():
    norm = nn.BatchNorm1d(2).double().eval()
    params = {"weight": tn.tensor(np.array([2.0, 1.0])), "bias": tn.tensor(np.array([0.0, 1.0]))}
    buffers = {
        "running_mean": tn.tensor(np.array([1.0, -1.0])),
        "running_var": tn.tensor(np.array([4.0, 0.25])),
    }
    x = np.array([[3.0, 0.0], [1.0, -2.0]])
    out = nn.utils.functional_call(norm, (params, buffers), (tn.tensor(x),))
    expected = (x - [1.0, -1.0]) / np.sqrt(np.array([4.0, 0.25]) + norm.eps) * [2.0, 1.0] + [0, 1]
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert norm.running_var.tolist() == [1.0, 1.0]  # its own buffers are back
    with pytest.raises(ValueError, match=r"\['bias'\] appeared in multiple dictionaries"):
        nn.utils.functional_call(norm, (params, {"bias": tn.zeros(2)}), (tn.tensor(x),))


def test_strict_requires_every_parameter_and_buffer():
    layer = nn.Linear(2, 1, rng=0)
    with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'bias'"):
        nn.utils.functional_call(layer, {"weight": tn.ones(1, 2)}, tn.ones(1, 2), strict=True)
    out = nn.utils.functional_call(
        layer, {"weight": tn.ones(1, 2), "bias": tn.zeros(1)}, tn.ones(1, 2), strict=True
    )
    assert out.item() == 2.0


def test_tied_weights_are_replaced_under_both_names_unless_asked_not_to():
    net = nn.Sequential(nn.Linear(2, 2, bias=False, rng=0), nn.Linear(2, 2, bias=False, rng=1))
    net[1].weight = net[0].weight  # tied, as PyTorch's tied embeddings
    w = tn.tensor(np.array([[1.0, 2.0], [0.0, 1.0]]))
    x = np.array([[1.0, -1.0]])
    tied = nn.utils.functional_call(net.double(), {"0.weight": w}, (tn.tensor(x),))
    np.testing.assert_allclose(tied.data, x @ w.data.T @ w.data.T)
    untied = nn.utils.functional_call(net, {"0.weight": w}, (tn.tensor(x),), tie_weights=False)
    np.testing.assert_allclose(untied.data, x @ w.data.T @ net[0].weight.data.T)
    assert net[1].weight is net[0].weight
