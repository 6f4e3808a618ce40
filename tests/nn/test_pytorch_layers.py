"""PyTorch's nn pieces: ``inplace=``, BatchNorm2d/3d, ModuleDict, ParameterList/Dict,
``Module.half``, ``tn.inference_mode``; checked against NumPy formulas, finite differences
and PyTorch's documented behaviour."""

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest
from scipy import special

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F


def randn(*shape, seed=0, requires_grad=True):
    data = np.random.default_rng(seed).standard_normal(shape)
    return tn.Tensor(data, requires_grad=requires_grad)


# -- inplace= ------------------------------------------------------------------------------------
def _hardsigmoid(x):
    return np.clip(x + 3, 0, 6) / 6


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
# (module class, positional arguments before inplace, functional, NumPy reference, PyTorch repr)
INPLACE = [
    (nn.ReLU, (), F.relu, lambda x: np.maximum(x, 0), "ReLU(inplace=True)"),
    (
        nn.LeakyReLU,
        (0.2,),
        F.leaky_relu,
        lambda x: np.where(x > 0, x, 0.2 * x),
        "LeakyReLU(negative_slope=0.2, inplace=True)",
    ),
    (
        nn.ELU,
        (0.7,),
        F.elu,
        lambda x: np.where(x > 0, x, 0.7 * np.expm1(x)),
        "ELU(alpha=0.7, inplace=True)",
    ),
    (
        nn.CELU,
        (0.5,),
        F.celu,
        lambda x: np.maximum(x, 0) + np.minimum(0, 0.5 * np.expm1(x / 0.5)),
        "CELU(alpha=0.5, inplace=True)",
    ),
    (
        nn.Hardtanh,
        (-2.0, 1.5),
        F.hardtanh,
        lambda x: np.clip(x, -2.0, 1.5),
        "Hardtanh(min_val=-2.0, max_val=1.5, inplace=True)",
    ),
    (nn.ReLU6, (), F.relu6, lambda x: np.clip(x, 0, 6), "ReLU6(inplace=True)"),
    (
        nn.SELU,
        (),
        F.selu,
        lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
        "SELU(inplace=True)",
    ),
    (nn.SiLU, (), F.silu, lambda x: x * special.expit(x), "SiLU(inplace=True)"),
    (
        nn.Mish,
        (),
        F.mish,
        lambda x: x * np.tanh(np.logaddexp(0, x)),
        "Mish(inplace=True)",
    ),
    (nn.Hardswish, (), F.hardswish, lambda x: x * _hardsigmoid(x), "Hardswish(inplace=True)"),
    (nn.Hardsigmoid, (), F.hardsigmoid, _hardsigmoid, "Hardsigmoid(inplace=True)"),
]


@pytest.mark.parametrize(
    ("cls", "args", "function", "reference", "text"), INPLACE, ids=[c[0].__name__ for c in INPLACE]
)
def test_inplace_writes_the_input_with_pytorch_values_repr_and_gradients(
    cls, args, function, reference, text
):
    x = tn.Tensor(np.random.default_rng(1).standard_normal((3, 4)) * 4.0, requires_grad=True)
    before = x.data.copy()
    by_keyword, by_position = cls(*args, inplace=True), cls(*args, True)
    assert by_keyword.inplace is True and by_position.inplace is True
    assert cls(*args).inplace is False
    assert repr(by_keyword) == text and repr(by_position) == text
    assert "inplace" not in repr(cls(*args))  # PyTorch shows the flag only when set
    expected = reference(x.data)
    np.testing.assert_allclose(cls(*args)(x).data, expected, rtol=1e-12, atol=1e-12)
    # PyTorch's modules pass inplace to the functional: the input is overwritten and returned
    # (a non-leaf here: an in-place write on a leaf that requires grad is refused).
    for apply in (by_keyword, by_position, lambda t: function(t, *args, inplace=True)):
        hidden = x * 1.0
        assert apply(hidden) is hidden
        np.testing.assert_array_equal(hidden.data, cls(*args)(x).data)
        assert hidden.version == 1
    np.testing.assert_array_equal(x.data, before)
    assert tn.gradcheck(lambda t: by_keyword(t * 1.0), (x,))


def test_activations_without_the_flag_in_pytorch_refuse_it_and_still_run():
    x = tn.Tensor(np.array([-2.0, 0.5, 3.0]))
    np.testing.assert_allclose(nn.Softsign()(x).data, x.data / (1 + np.abs(x.data)))
    np.testing.assert_allclose(nn.LogSigmoid()(x).data, np.log(special.expit(x.data)))
    for cls in (nn.Softsign, nn.LogSigmoid, nn.Tanh, nn.Sigmoid, nn.GELU):
        with pytest.raises(TypeError):
            cls(inplace=True)


def test_dropout_takes_inplace_as_a_keyword_and_writes_the_input():
    x = tn.ones(8)
    kept = nn.Dropout(0.5, rng=4, inplace=True)(x)
    assert kept is x  # PyTorch's dropout_: the input is overwritten and returned
    np.testing.assert_array_equal(x.data, nn.Dropout(0.5, rng=4)(tn.ones(8)).data)
    assert 0 < np.count_nonzero(x.data) < 8
    x = tn.ones(8)
    a = F.dropout(x, 0.5, True, rng=7, inplace=True)
    assert a is x
    np.testing.assert_array_equal(a.data, F.dropout(tn.ones(8), 0.5, True, rng=7).data)
    assert repr(nn.Dropout(0.2, inplace=True)) == "Dropout(p=0.2, inplace=True)"
    assert nn.Dropout(0.2, inplace=True).eval()(x) is x
    # In the place of rng a bool is PyTorch's positional inplace: refused, naming the keyword.
    with pytest.raises(TypeError, match="got the bool True.*inplace=True"):
        nn.Dropout(0.5, True)
    with pytest.raises(TypeError, match="got the bool False.*inplace=False"):
        F.dropout(x, 0.5, True, False)
    # The message names the layer or function the user called.
    for make, name in [
        (lambda: nn.Dropout2d(0.5, True), "Dropout2d"),
        (lambda: nn.AlphaDropout(0.5, True), "AlphaDropout"),
        (lambda: F.dropout2d(tn.ones(1, 2, 3, 3), 0.5, True, True), "dropout2d"),
        (lambda: F.alpha_dropout(tn.ones(3), 0.5, True, True), "alpha_dropout"),
    ]:
        with pytest.raises(TypeError, match=rf"^{name}: rng must be"):
            make()


@pytest.mark.parametrize(
    "module",
    [nn.ReLU(), nn.LeakyReLU(), nn.ELU(), nn.CELU(), nn.Hardtanh(), nn.SiLU(), nn.Dropout()],
)
def test_a_module_pickled_before_the_flag_existed_loads_and_prints(module):
    del module.__dict__["inplace"]  # as an instance pickled by an earlier tinynet
    clone = pickle.loads(pickle.dumps(module))
    assert clone.inplace is False and "inplace" not in repr(clone)
    x = tn.tensor([-1.5, 2.0])
    assert clone.eval()(x).tolist() == type(module)().eval()(x).tolist()


def test_inplace_modules_export_to_onnx_and_round_trip_state():
    pytest.importorskip("onnx")
    from tinynet import onnx as tn_onnx

    net = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(inplace=True), nn.Linear(4, 2, rng=1))
    plain = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    assert tn_onnx.to_onnx_graph(net, np.ones((1, 3))) == tn_onnx.to_onnx_graph(
        plain, np.ones((1, 3))
    )
    clone = pickle.loads(pickle.dumps(net))
    assert clone[1].inplace is True


# -- BatchNorm2d / BatchNorm3d ------------------------------------------------------------------------
def batch_norm_reference(x, eps, weight, bias):
    """Per channel (axis 1) over every other axis, with the biased variance."""
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight.reshape(shape) + bias.reshape(shape)


@pytest.mark.parametrize(
    ("cls", "shape"), [(nn.BatchNorm2d, (4, 3, 2, 5)), (nn.BatchNorm3d, (2, 3, 2, 2, 3))]
)
def test_batchnorm_nd_train_forward_matches_numpy(cls, shape):
    bn = cls(3).double()
    bn.weight.data[...] = [1.0, 2.0, -0.5]
    bn.bias.data[...] = [0.0, 1.0, 3.0]
    x = randn(*shape) * 3.0 + 1.0
    expected = batch_norm_reference(x.data, 1e-5, bn.weight.data, bn.bias.data)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        F.batch_norm(x, None, None, bn.weight, bn.bias, training=True).data,
        expected,
        rtol=1e-10,
        atol=1e-12,
    )


def test_batchnorm2d_running_stats_use_the_unbiased_variance():
    bn = nn.BatchNorm2d(2, momentum=0.3, dtype=tn.float64)
    rng = np.random.default_rng(0)
    mean, var = np.zeros(2), np.ones(2)
    for _ in range(3):
        batch = rng.standard_normal((3, 2, 2, 3)) * np.array([2.0, 0.5])[:, None, None] + 1.0
        bn(tn.Tensor(batch))
        flat = batch.transpose(1, 0, 2, 3).reshape(2, -1)
        mean = 0.7 * mean + 0.3 * flat.mean(axis=1)
        var = 0.7 * var + 0.3 * flat.var(axis=1, ddof=1)
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 3


def test_batchnorm2d_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm2d(1, momentum=None, dtype=tn.float64)
    batches = [np.array([1.0, 3.0]), np.array([5.0, 9.0]), np.array([0.0, 1.0])]
    for batch in batches:
        bn(tn.Tensor(batch.reshape(1, 1, 1, 2)))
    np.testing.assert_allclose(bn.running_mean.data, [np.mean([2.0, 7.0, 0.5])])
    np.testing.assert_allclose(bn.running_var.data, [np.mean([2.0, 8.0, 0.5])])


def test_batchnorm2d_eval_normalizes_with_running_stats_and_keeps_them():
    bn = nn.BatchNorm2d(2).double()
    bn.running_mean.data[...] = [1.0, -2.0]
    bn.running_var.data[...] = [4.0, 0.25]
    bn.weight.data[...] = [2.0, 1.0]
    bn.bias.data[...] = [0.5, 0.0]
    bn.eval()
    x = randn(2, 2, 3, 3)
    column = (slice(None), None, None)
    expected = (x.data - np.array([1.0, -2.0])[column]) / np.sqrt(
        np.array([4.0, 0.25])[column] + 1e-5
    ) * np.array([2.0, 1.0])[column] + np.array([0.5, 0.0])[column]
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-12)
    assert bn.running_mean.tolist() == [1.0, -2.0] and bn.num_batches_tracked.item() == 0
    bn(tn.ones(1, 2, 1, 1, dtype=tn.float64))  # one value per channel is fine in eval mode


def test_batchnorm2d_state_dict_keys_and_options_as_pytorch():
    bn = nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked",
    ]  # fmt: skip
    assert bn.state_dict()["num_batches_tracked"].dtype == np.int64
    assert repr(bn) == (
        "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    )
    bare = nn.BatchNorm2d(2, affine=False, track_running_stats=False).eval()
    assert list(bare.parameters()) == [] and list(bare.state_dict()) == []
    x = randn(3, 2, 2, 2)
    expected = batch_norm_reference(x.data, 1e-5, np.ones(2), np.zeros(2))
    np.testing.assert_allclose(bare(x).data, expected, rtol=1e-10)  # batch stats even in eval


def test_batchnorm2d_gradients_first_and_second_order():
    bn = nn.BatchNorm2d(2).double()
    weight, bias = tn.Tensor(np.array([1.5, -0.5]), requires_grad=True), randn(2, seed=3)

    def fn(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True)

    inputs = (randn(2, 2, 2, 2, seed=1), weight, bias)
    assert tn.gradcheck(fn, inputs) and tn.gradgradcheck(fn, inputs)
    x = randn(2, 2, 2, 2, seed=2)
    bn(x).sum().backward()  # the module's own parameters receive gradients
    assert bn.weight.grad.shape == (2,) and bn.bias.grad.shape == (2,)


def test_batchnorm2d_errors_name_the_expected_shape():
    bn = nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\).*\(4, 3, 5\)"):
        bn(tn.ones(4, 3, 5))
    with pytest.raises(tn.ShapeError, match=r"\(N, 3, H, W\)"):
        bn(tn.ones(4, 2, 5, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(tn.ones(1, 3, 1, 1))
    with pytest.raises(tn.ShapeError, match=r"\(N, C, \*\)"):
        F.batch_norm(tn.ones(3), training=True)


def test_batchnorm2d_reset_parameters_and_half():
    bn = nn.BatchNorm2d(2)
    bn(randn(2, 2, 2, 2).float())
    bn.weight.data[...] = 3.0
    bn.reset_parameters()
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.num_batches_tracked.item() == 0
    assert bn.weight.tolist() == [1.0, 1.0]
    assert bn.half() is bn and bn.running_var.dtype == np.float16
    assert bn.num_batches_tracked.dtype == np.int64


# -- ModuleDict / ParameterList / ParameterDict -------------------------------------------------------
def test_module_dict_registers_its_modules_under_their_keys():
    heads = nn.ModuleDict([("cls", nn.Linear(2, 3, rng=0)), ("reg", nn.Linear(2, 1, rng=1))])
    assert list(heads) == ["cls", "reg"] and len(heads) == 2 and "cls" in heads
    assert list(heads.state_dict()) == ["cls.weight", "cls.bias", "reg.weight", "reg.bias"]
    assert len(list(heads.parameters())) == 4
    heads["extra"] = nn.ReLU()
    heads.update({"cls": nn.Linear(2, 5, rng=2)})
    assert heads["cls"].out_features == 5 and list(heads.keys()) == ["cls", "reg", "extra"]
    assert isinstance(heads.pop("extra"), nn.ReLU) and "extra" not in heads
    del heads["reg"]
    assert [name for name, _ in heads.items()] == ["cls"]
    with pytest.raises(ValueError, match="length 3"):
        nn.ModuleDict([("a", nn.ReLU(), 1)])
    with pytest.raises(TypeError, match="not a Module"):
        nn.ModuleDict({"a": 3})
    with pytest.raises(NotImplementedError):
        heads(tn.ones(1, 2))
    heads.clear()
    assert len(heads) == 0


def test_module_list_edits_as_a_python_list_and_renumbers():
    a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Linear(1, 1)
    layers, mirror = nn.ModuleList([a, b, c]), [a, b, c]
    layers.insert(1, d), mirror.insert(1, d)
    assert list(layers) == mirror and list(layers._modules) == ["0", "1", "2", "3"]
    assert layers.pop(0) is mirror.pop(0) and list(layers) == mirror
    del layers[-1], mirror[-1]
    assert list(layers) == mirror
    layers += [c]
    mirror += [c]
    assert list(layers) == mirror and list(layers + [a]) == [*mirror, a]
    assert list(layers.state_dict()) == ["0.weight", "0.bias"]
    del layers[0:2]
    assert list(layers) == [c] and list(layers._modules) == ["0"]
    with pytest.raises(IndexError, match="out of range"):
        layers.pop(3)
    with pytest.raises(TypeError, match="not a Module"):
        layers.insert(0, "relu")


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scales = nn.ParameterList([tn.ones(2), nn.Parameter(np.zeros(3, np.float32))])
        self.extras = nn.ParameterDict({"alpha": tn.ones(1)})
        self.blocks = nn.ModuleDict({"a": nn.Linear(2, 2, rng=0)})

    def forward(self, x):
        return self.blocks["a"](x * self.scales[0]) + self.extras["alpha"]


def test_parameter_containers_are_seen_by_parameters_state_dict_and_to():
    net = _Net()
    assert [name for name, _ in net.named_parameters()] == [
        "scales.0", "scales.1", "extras.alpha", "blocks.a.weight", "blocks.a.bias",
    ]  # fmt: skip
    assert list(net.state_dict()) == [name for name, _ in net.named_parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    net(tn.ones(3, 2)).sum().backward()
    np.testing.assert_allclose(net.extras["alpha"].grad.data, [6.0])
    held = net.scales[1]
    net.double()
    assert net.scales[1] is held and held.dtype == np.float64
    assert net.extras["alpha"].dtype == np.float64
    clone = copy.deepcopy(net)
    assert list(clone.state_dict()) == list(net.state_dict())
    restored = _Net()
    restored.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(restored.scales[0].data, net.scales[0].data)


def test_parameter_list_behaves_as_a_list():
    weights = nn.ParameterList()
    weights.append(tn.ones(2)).extend([tn.zeros(1)])
    weights += [nn.Parameter(np.full(3, 2.0))]
    assert len(weights) == 3 and [p.shape for p in weights] == [(2,), (1,), (3,)]
    assert weights[-1] is weights[2] and isinstance(weights[1:], nn.ParameterList)
    assert [p.shape for p in weights[1:]] == [(1,), (3,)]
    shared = tn.ones(4)
    weights[0] = shared
    assert isinstance(weights[0], nn.Parameter) and weights[0].data is shared.data
    assert list(weights.state_dict()) == ["0", "1", "2"]
    assert "(2): Parameter containing: [float64 of size 3]" in repr(weights)
    with pytest.raises(IndexError, match="out of range"):
        weights[3]
    with pytest.raises(TypeError, match="wrap arrays with nn.Parameter"):
        weights.append(np.ones(2))


def test_parameter_dict_behaves_as_a_dict():
    params = nn.ParameterDict()
    params["w"] = tn.ones(2, 2)
    params.update([("b", tn.zeros(2))])
    assert list(params) == ["w", "b"] and list(params.values())[1].shape == (2,)
    assert params.get("missing") is None and params.get("w") is params["w"]
    assert [k for k, _ in params.items()] == ["w", "b"]
    assert params.pop("w").shape == (2, 2) and list(params.keys()) == ["b"]
    del params["b"]
    assert len(params) == 0
    with pytest.raises(TypeError, match="pairs"):
        nn.ParameterDict(5)
    with pytest.raises(KeyError, match="'.'"):
        params["a.b"] = tn.ones(1)
    ordered = nn.ParameterDict(OrderedDict([("z", tn.ones(1)), ("a", tn.ones(1))]))
    assert list(ordered) == ["z", "a"]


def test_a_key_naming_a_plain_attribute_is_refused_not_shadowed():
    # As PyTorch's register_parameter: replacing ``training`` would break train()/eval().
    with pytest.raises(KeyError, match="'training' already exists"):
        nn.ParameterDict({"training": tn.ones(1)})
    layer = nn.Linear(2, 2)
    with pytest.raises(KeyError, match="'in_features' already exists"):
        layer.register_buffer("in_features", tn.zeros(1))
    assert layer.in_features == 2


# -- Module.half and inference_mode -------------------------------------------------------------------
def test_half_float_and_double_cast_floating_state_like_to():
    net = nn.Sequential(nn.Linear(2, 3, rng=0), nn.BatchNorm1d(3))
    assert net.half() is net
    assert {t.dtype for t in net.parameters()} == {np.dtype(np.float16)}
    assert net[1].running_mean.dtype == np.float16
    assert net[1].num_batches_tracked.dtype == np.int64
    out = net(tn.ones(4, 2, dtype=tn.float16))
    assert out.dtype == np.float16
    assert {t.dtype for t in net.float().parameters()} == {np.dtype(np.float32)}
    assert {t.dtype for t in net.double().parameters()} == {np.dtype(np.float64)}


def test_inference_mode_records_nothing_as_context_and_decorator():
    x = tn.ones(2, requires_grad=True)
    with tn.inference_mode():
        assert not tn.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert tn.is_grad_enabled()

    @tn.inference_mode
    def bare(t):
        return t * 2

    @tn.inference_mode()
    def called(t):
        return t * 2

    assert not bare(x).requires_grad and not called(x).requires_grad
    assert bare.__name__ == "bare" and tn.is_grad_enabled()
    with tn.inference_mode(False):  # PyTorch: mode=False changes nothing
        assert (x * 2).requires_grad
    with tn.no_grad(), tn.inference_mode(False):
        assert not tn.is_grad_enabled()  # ... and does not enable grad either
    assert tn.inference_mode(False)(called) is called
    with pytest.raises(TypeError, match="bool"):
        tn.inference_mode("yes")


def test_a_compiled_step_with_the_new_layers_replays_bit_identically_to_eager():
    from tinynet import optim

    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((4, 1, 5, 5)), rng.integers(0, 3, 4)) for _ in range(5)]

    def run(compiled):
        model = nn.Sequential(
            nn.Conv2d(1, 2, 3, dtype=tn.float64, rng=0),
            nn.BatchNorm2d(2, dtype=tn.float64),
            nn.ReLU(inplace=True),  # written in place, replayed out of place (functionalized)
            nn.Flatten(),
            nn.Dropout(0.2, rng=1),  # inplace=True here would write a view: refused eagerly too
            nn.Linear(18, 3, dtype=tn.float64, rng=2),
        )
        model[1].eval()  # running statistics as constants: a training-mode update is not replayed
        model[1].running_var.data[...] = [2.0, 0.5]
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            loss = F.cross_entropy(model(tn.Tensor(x)), tn.Tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        step = tn.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # compile warns when it falls back
            losses = [step(x, y).data.tobytes() for x, y in data]
        return losses, [p.data.tobytes() for p in model.parameters()]

    assert run(True) == run(False)
