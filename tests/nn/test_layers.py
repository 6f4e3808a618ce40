"""Layers and activations: forward against NumPy/SciPy, gradients by finite differences."""

import math
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F


def functional_form(module):
    """``(fn, params)``: ``fn(x, *params)`` runs ``module`` with its parameters replaced.

    gradcheck perturbs fresh tensors, so the module must read them instead of its own.
    """
    names = [name for name, _ in module.named_parameters(recurse=False)]
    params = [module._parameters[name] for name in names]

    def fn(x, *replacements):
        originals = dict(module._parameters)
        try:
            module._parameters.update(zip(names, replacements))
            return module(x)
        finally:
            module._parameters.update(originals)

    return fn, params


def check_module_gradients(module, x, second_order=False):
    module.double()
    fn, params = functional_form(module)
    inputs = (x, *params)
    assert tn.gradcheck(fn, inputs)
    if second_order:
        assert tn.gradgradcheck(fn, inputs)


def randn(*shape, seed=0, requires_grad=True):
    data = np.random.default_rng(seed).standard_normal(shape)
    return tn.Tensor(data, requires_grad=requires_grad)


# -- Linear -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3,), (5, 3), (2, 4, 3)])
def test_linear_forward_matches_numpy(shape):
    layer = nn.Linear(3, 2, rng=0).double()
    x = randn(*shape)
    expected = x.data @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)


def test_linear_gradients_first_and_second_order():
    check_module_gradients(nn.Linear(3, 2, rng=0), randn(4, 3), second_order=True)
    check_module_gradients(nn.Linear(3, 2, bias=False, rng=0), randn(2, 5, 3))


def test_linear_without_bias():
    layer = nn.Linear(3, 2, bias=False, rng=0, dtype=tn.float64)
    assert layer.bias is None and list(layer.state_dict()) == ["weight"]
    x = randn(4, 3)
    np.testing.assert_allclose(layer(x).data, x.data @ layer.weight.data.T, rtol=1e-6)
    assert "bias=False" in repr(layer)


def test_linear_wrong_in_features_names_both_shapes():
    with pytest.raises(tn.ShapeError, match=r"last dimension 3 .*shape \(4, 5\)"):
        nn.Linear(3, 2)(tn.ones(4, 5))
    with pytest.raises(tn.ShapeError):
        F.linear(tn.ones(4, 5), tn.ones(2, 3))


def test_linear_default_init_is_pytorchs():
    # kaiming_uniform(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight too.
    layer = nn.Linear(400, 300, rng=0)
    bound = 1 / math.sqrt(400)
    for param in (layer.weight, layer.bias):
        assert param.dtype == np.float32
        assert np.abs(param.data).max() <= bound * (1 + 1e-6)  # float32 rounding
    assert np.abs(layer.weight.data).max() > 0.99 * bound
    np.testing.assert_allclose(layer.weight.data.std(), bound / math.sqrt(3), rtol=0.01)
    np.testing.assert_allclose(layer.bias.data.std(), bound / math.sqrt(3), rtol=0.15)


@pytest.mark.parametrize(
    ("scheme", "expected_std"),
    [
        ("xavier_uniform", math.sqrt(2 / 700)),
        ("xavier_normal", math.sqrt(2 / 700)),
        ("kaiming_uniform", math.sqrt(2 / 400)),
        ("kaiming_normal", math.sqrt(2 / 400)),
    ],
)
def test_linear_named_init(scheme, expected_std):
    layer = nn.Linear(400, 300, rng=0, init=scheme)
    np.testing.assert_allclose(layer.weight.data.std(), expected_std, rtol=0.01)
    assert not layer.bias.data.any()
    with pytest.raises(ValueError, match="init must be"):
        nn.Linear(2, 2, init="glorious")


def test_linear_rng_and_dtype():
    a, b = nn.Linear(3, 4, rng=7), nn.Linear(3, 4, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, nn.Linear(3, 4, rng=8).weight.data)
    assert nn.Linear(2, 2, dtype="float64").weight.dtype == np.float64
    tn.set_default_dtype(tn.float64)
    assert nn.Linear(2, 2).bias.dtype == np.float64
    with pytest.raises(TypeError, match="floating"):
        nn.Linear(2, 2, dtype="int64")
    with pytest.raises(ValueError, match=">= 0"):
        nn.Linear(-1, 2)


@given(
    batch=st.integers(1, 6),
    n_in=st.integers(1, 5),
    n_out=st.integers(1, 5),
    seed=st.integers(0, 1000),
)
@settings(max_examples=30)  # each example runs a full gradcheck
def test_linear_property(batch, n_in, n_out, seed):
    layer = nn.Linear(n_in, n_out, rng=seed).double()
    x = randn(batch, n_in, seed=seed)
    np.testing.assert_allclose(
        layer(x).data, x.data @ layer.weight.data.T + layer.bias.data, rtol=1e-12, atol=1e-12
    )
    check_module_gradients(layer, x)


def test_linear_float32_stays_float32_and_grads_match_dtype():
    layer = nn.Linear(3, 2, rng=0)
    out = layer(tn.randn(4, 3, rng=0))
    assert out.dtype == np.float32
    out.sum().backward()
    assert layer.weight.grad.dtype == np.float32
    np.testing.assert_allclose(layer.bias.grad.data, [4.0, 4.0])


# -- containers and Identity ------------------------------------------------------------------------------
def test_sequential_indexing_and_mutation():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    net = nn.Sequential(a, b, c)
    assert len(net) == 3 and list(net) == [a, b, c]
    assert net[0] is a and net[-1] is c
    head = net[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    with pytest.raises(IndexError, match="out of range"):
        net[3]
    d = nn.Tanh()
    net[1] = d
    assert net[1] is d
    net.append(nn.Sigmoid())
    assert len(net) == 4 and type(net[3]) is nn.Sigmoid
    del net[1]
    assert [name for name, _ in net.named_children()] == ["0", "1", "2"]
    assert list(net) == [a, c, net[2]]


def test_sequential_forward_is_composition():
    a, c = nn.Linear(2, 3, rng=0), nn.Linear(3, 1, rng=1)
    net = nn.Sequential(OrderedDict([("first", a), ("act", nn.ReLU()), ("last", c)]))
    x = tn.randn(4, 2, rng=0)
    np.testing.assert_array_equal(net(x).data, c(a(x).relu()).data)
    assert net.first is a and [n for n, _ in net.named_parameters()][0] == "first.weight"
    assert nn.Sequential()(x) is x


def test_module_list_registers_modules():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    layers.append(nn.ReLU())
    assert len(layers) == 3 and len(list(layers.parameters())) == 4
    assert layers[-1] is list(layers)[2]
    assert "1.weight" in layers.state_dict()


def test_identity_and_flatten():
    x = tn.ones(2, 3, 4)
    assert nn.Identity(54, unused="x")(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)


# -- Dropout -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_validates_p(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(tn.ones(2), p)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    n = 200_000
    drop = nn.Dropout(p, rng=0)
    x = tn.Tensor(np.ones(n), requires_grad=True)
    out = drop(x)
    zeros = (out.data == 0).sum()
    # The number dropped is Binomial(n, p): within 5 standard deviations.
    assert abs(zeros - n * p) < 5 * math.sqrt(n * p * (1 - p))
    kept = out.data[out.data != 0]
    np.testing.assert_allclose(kept, 1 / (1 - p), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)  # d out / d x is the scaled mask


def test_dropout_eval_identity_and_edge_probabilities():
    x = tn.randn(3, 4, rng=0)
    drop = nn.Dropout(0.5, rng=0).eval()
    assert drop(x) is x
    assert F.dropout(x, 0.9, training=False) is x
    assert nn.Dropout(0.0)(x) is x
    assert not nn.Dropout(1.0)(x).data.any()


def test_dropout_rng_reproducible_and_fresh_per_call():
    x = tn.ones(100)
    first, second = nn.Dropout(0.5, rng=3), nn.Dropout(0.5, rng=3)
    a, b = first(x).data, first(x).data
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, second(x).data)


# -- BatchNorm1d -------------------------------------------------------------------------------------------
def batch_norm_reference(x, axes, eps, weight, bias):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
    return (x - mean) / np.sqrt(var + eps) * weight.reshape(shape) + bias.reshape(shape)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batchnorm_train_forward_matches_numpy(shape):
    bn = nn.BatchNorm1d(3).double()
    bn.weight.data[...] = [1.0, 2.0, -0.5]
    bn.bias.data[...] = [0.0, 1.0, 3.0]
    x = randn(*shape) * 3.0 + 1.0
    axes = (0,) if len(shape) == 2 else (0, 2)
    expected = batch_norm_reference(x.data, axes, 1e-5, bn.weight.data, bn.bias.data)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-10, atol=1e-12)


def test_batchnorm_running_stats_follow_the_closed_form():
    bn = nn.BatchNorm1d(2, momentum=0.3, dtype=tn.float64)
    rng = np.random.default_rng(0)
    mean, var = np.zeros(2), np.ones(2)
    for _ in range(4):
        batch = rng.standard_normal((5, 2, 3)) * [[[2.0], [0.5]]] + 1.0
        bn(tn.Tensor(batch))
        flat = batch.transpose(1, 0, 2).reshape(2, -1)
        mean = 0.7 * mean + 0.3 * flat.mean(axis=1)
        var = 0.7 * var + 0.3 * flat.var(axis=1, ddof=1)  # unbiased, as PyTorch
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 4


def test_batchnorm_cumulative_average_with_momentum_none():
    bn = nn.BatchNorm1d(1, momentum=None, dtype=tn.float64)
    batches = [np.array([[1.0], [3.0]]), np.array([[5.0], [9.0]]), np.array([[0.0], [1.0]])]
    for batch in batches:
        bn(tn.Tensor(batch))
    np.testing.assert_allclose(bn.running_mean.data, [np.mean([2.0, 7.0, 0.5])])
    np.testing.assert_allclose(bn.running_var.data, [np.mean([2.0, 8.0, 0.5])])


def test_batchnorm_eval_uses_running_stats_and_does_not_update():
    bn = nn.BatchNorm1d(2).double()
    bn.running_mean.data[...] = [1.0, -2.0]
    bn.running_var.data[...] = [4.0, 0.25]
    bn.weight.data[...] = [2.0, 1.0]
    bn.eval()
    x = randn(3, 2)
    expected = (x.data - [1.0, -2.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5) * [2.0, 1.0]
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-12)
    assert bn.running_mean.tolist() == [1.0, -2.0] and bn.num_batches_tracked.item() == 0
    check_module_gradients(bn, randn(3, 2))
    bn(tn.ones(1, 2, dtype=tn.float64))  # a batch of one is fine in eval mode


def test_batchnorm_without_tracking_or_affine():
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False).eval()
    assert list(bn.parameters()) == [] and list(bn.state_dict()) == []
    x = randn(5, 2)
    expected = batch_norm_reference(x.data, (0,), 1e-5, np.ones(2), np.zeros(2))
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-10)


@pytest.mark.parametrize("shape", [(5, 3), (3, 3, 2)])
def test_batchnorm_train_gradients_first_and_second_order(shape):
    bn = nn.BatchNorm1d(3)
    bn.double()
    bn.weight.data[...] = [1.5, -0.5, 2.0]
    bn.bias.data[...] = [0.1, 0.2, 0.3]
    check_module_gradients(bn, randn(*shape), second_order=True)


def test_batchnorm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(tn.ShapeError, match=r"\(N, 3\).*\(4, 2\)"):
        bn(tn.ones(4, 2))
    with pytest.raises(tn.ShapeError, match="got input of shape"):
        bn(tn.ones(4, 3, 2, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(tn.ones(1, 3))


@given(batch=st.integers(2, 8), channels=st.integers(1, 4), seed=st.integers(0, 1000))
def test_batchnorm_output_is_standardized_per_channel(batch, channels, seed):
    x = np.random.default_rng(seed).standard_normal((batch, channels)) * 5 + 2
    out = nn.BatchNorm1d(channels, eps=0.0).double()(tn.Tensor(x)).data
    # Columns whose values are all equal normalize to 0/0; skip those (measure zero here).
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-8)


# -- LayerNorm ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("normalized", "shape"), [(4, (3, 4)), ((2, 3), (2, 2, 3))])
def test_layernorm_forward_matches_numpy(normalized, shape):
    ln = nn.LayerNorm(normalized).double()
    rng = np.random.default_rng(1)
    ln.weight.data[...] = rng.standard_normal(ln.weight.shape)
    ln.bias.data[...] = rng.standard_normal(ln.bias.shape)
    x = randn(*shape)
    axes = tuple(range(len(shape) - len(ln.normalized_shape), len(shape)))
    mean = x.data.mean(axis=axes, keepdims=True)
    var = x.data.var(axis=axes, keepdims=True)
    expected = (x.data - mean) / np.sqrt(var + 1e-5) * ln.weight.data + ln.bias.data
    np.testing.assert_allclose(ln(x).data, expected, rtol=1e-10, atol=1e-12)


def test_layernorm_gradients_first_and_second_order():
    ln = nn.LayerNorm(3)
    ln.double()
    ln.weight.data[...] = [0.5, 2.0, -1.0]
    check_module_gradients(ln, randn(2, 3), second_order=True)


def test_layernorm_options_and_errors():
    ln = nn.LayerNorm((2, 2), elementwise_affine=False)
    assert list(ln.parameters()) == []
    assert nn.LayerNorm(3, bias=False).bias is None
    with pytest.raises(tn.ShapeError, match=r"\(2, 2\).*\(3, 4\)"):
        ln(tn.ones(3, 4))


# -- Embedding ----------------------------------------------------------------------------------------------
def test_embedding_lookup_and_accumulated_gradient():
    emb = nn.Embedding(5, 3, rng=0)
    indices = np.array([[1, 4, 1], [0, 1, 2]])
    out = emb(tn.Tensor(indices))
    np.testing.assert_array_equal(out.data, emb.weight.data[indices])
    upstream = np.random.default_rng(0).standard_normal(out.shape).astype(np.float32)
    out.backward(tn.Tensor(upstream))
    expected = np.zeros((5, 3), np.float32)
    np.add.at(expected, indices, upstream)
    np.testing.assert_allclose(emb.weight.grad.data, expected, rtol=1e-6)


def test_embedding_gradcheck():
    emb = nn.Embedding(4, 2, rng=0).double()
    indices = tn.tensor([[0, 3], [3, 3]])
    assert tn.gradcheck(lambda w: F.embedding(indices, w), (emb.weight,))


def test_embedding_padding_row_is_zero_and_gets_no_gradient():
    emb = nn.Embedding(4, 2, padding_idx=-1, rng=0)
    assert emb.padding_idx == 3 and not emb.weight.data[3].any()
    emb.weight.data[3] = 5.0  # a user-set padding vector is returned as is, but never trained
    out = emb(tn.tensor([3, 1, 3]))
    assert out.data[0].tolist() == [5.0, 5.0]
    out.sum().backward()
    assert emb.weight.grad.data[3].tolist() == [0.0, 0.0]
    assert emb.weight.grad.data[1].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)


def test_embedding_index_errors_name_the_index():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="index 7 is out of range"):
        emb(tn.tensor([1, 7]))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        emb([0, -1])
    with pytest.raises(TypeError, match="integers"):
        emb(tn.tensor([1.0]))


def test_embedding_init_is_standard_normal():
    weight = nn.Embedding(1000, 100, rng=0).weight.data
    assert abs(weight.mean()) < 0.01 and abs(weight.std() - 1.0) < 0.01


# -- activations ------------------------------------------------------------------------------------------
def _softmax(x, axis):
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0), ""),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x), "negative_slope=0.2"),
    (nn.ELU(0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x)), "alpha=0.7"),
    (nn.GELU(), lambda x: x * special.ndtr(x), "approximate='none'"),
    (
        nn.GELU("tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
        "approximate='tanh'",
    ),
    (nn.Tanh(), np.tanh, ""),
    (nn.Sigmoid(), special.expit, ""),
    (nn.Softplus(beta=2.0), lambda x: np.logaddexp(0, 2 * x) / 2, "beta=2.0, threshold=20.0"),
    (nn.Softmax(dim=0), lambda x: _softmax(x, 0), "dim=0"),
    (nn.LogSoftmax(dim=-1), lambda x: np.log(_softmax(x, -1)), "dim=-1"),
]


@pytest.mark.parametrize(
    ("module", "reference", "extra"), ACTIVATIONS, ids=[repr(case[0]) for case in ACTIVATIONS]
)
def test_activation_forward_gradient_and_repr(module, reference, extra):
    x = tn.Tensor(np.random.default_rng(2).standard_normal((3, 4)) * 2.0, requires_grad=True)
    np.testing.assert_allclose(module(x).data, reference(x.data), rtol=1e-10, atol=1e-12)
    assert tn.gradcheck(module, (x,))
    assert module.extra_repr() == extra
    assert repr(module) == f"{type(module).__name__}({extra})"


def test_softplus_is_linear_above_threshold():
    x = tn.Tensor(np.array([5.0, 30.0]), requires_grad=True)
    out = nn.Softplus(beta=1.0, threshold=20.0)(x)
    assert out.data[1] == 30.0
    np.testing.assert_allclose(out.data[0], np.log1p(np.exp(5.0)))
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, [special.expit(5.0), 1.0])


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("erf")


def test_functional_activations_match_modules():
    x = randn(2, 3, seed=5)
    pairs = [
        (F.relu(x), nn.ReLU()(x)),
        (F.leaky_relu(x, 0.3), nn.LeakyReLU(0.3)(x)),
        (F.elu(x), nn.ELU()(x)),
        (F.gelu(x), nn.GELU()(x)),
        (F.tanh(x), nn.Tanh()(x)),
        (F.sigmoid(x), nn.Sigmoid()(x)),
        (F.softplus(x), nn.Softplus()(x)),
        (F.softmax(x), nn.Softmax(dim=-1)(x)),
        (F.log_softmax(x, dim=0), nn.LogSoftmax(dim=0)(x)),
    ]
    for functional, module in pairs:
        np.testing.assert_array_equal(functional.data, module.data)


def test_functional_reexports_losses():
    for name in (
        "mse_loss",
        "l1_loss",
        "huber_loss",
        "cross_entropy",
        "nll_loss",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
    ):
        assert callable(getattr(F, name))
    for name in ("MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss"):
        assert issubclass(getattr(nn, name), nn.Module)
    assert issubclass(nn.BCEWithLogitsLoss, nn.Module)


def test_tiny_mlp_learns():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2))
    y = (x[:, :1] * x[:, 1:] > 0).astype(np.float64)
    net = nn.Sequential(nn.Linear(2, 16, rng=0), nn.Tanh(), nn.Linear(16, 1, rng=1)).double()
    losses = []
    for _ in range(300):
        loss = ((net(tn.Tensor(x)).sigmoid() - tn.Tensor(y)) ** 2).mean()
        net.zero_grad()
        loss.backward()
        for param in net.parameters():
            param.data -= 1.0 * param.grad.data
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
