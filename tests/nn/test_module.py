"""nn.Module and nn.Parameter: registration, traversal, modes, state dicts, casting, pickling."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn as nn


class TwoLayer(nn.Module):
    def __init__(self, sizes=(3, 4, 2), rng=0):
        super().__init__()
        self.hidden = nn.Linear(sizes[0], sizes[1], rng=rng)
        self.norm = nn.BatchNorm1d(sizes[1])
        self.out = nn.Linear(sizes[1], sizes[2], rng=rng + 1)
        self.scale = nn.Parameter(np.array([2.0], dtype=np.float32))

    def forward(self, x):
        return self.out(self.norm(self.hidden(x)).relu()) * self.scale


# -- Parameter ----------------------------------------------------------------------------------
def test_parameter_from_array_keeps_dtype_and_requires_grad():
    param = nn.Parameter(np.zeros((2, 3)))
    assert isinstance(param, tn.Tensor)
    assert param.requires_grad and param.is_leaf
    assert param.dtype == np.float64 and param.shape == (2, 3)


def test_parameter_from_python_data_takes_default_dtype():
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    tn.set_default_dtype(tn.float64)
    assert nn.Parameter([1.0, 2.0]).dtype == np.float64


def test_parameter_from_tensor_shares_data():
    source = tn.tensor([1.0, 2.0])
    param = nn.Parameter(source)
    assert param.data is source.data
    assert not nn.Parameter(source, requires_grad=False).requires_grad


def test_integer_parameter_cannot_require_grad():
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(np.arange(3))


def test_parameter_is_a_leaf_in_every_op_and_gets_grad():
    weight = nn.Parameter(np.array([[1.0, 2.0], [3.0, 4.0]]))
    x = tn.Tensor(np.array([[1.0, 1.0]]))
    ((x @ weight.T).relu() * weight[0]).sum().backward()
    # f = (w00 + w01) w00 + (w10 + w11) w01, differentiated by hand at w = [[1, 2], [3, 4]].
    np.testing.assert_array_equal(weight.grad.data, [[4.0, 8.0], [2.0, 2.0]])
    weight.grad = None
    (weight * weight).sum().backward()
    np.testing.assert_array_equal(weight.grad.data, 2 * weight.data)
    assert type(weight.grad) is tn.Tensor


def test_parameter_repr_pickle_and_deepcopy():
    param = nn.Parameter(np.array([1.5]))
    assert repr(param).startswith("Parameter containing:\nTensor([1.5]")
    restored = pickle.loads(pickle.dumps(param))
    assert type(restored) is nn.Parameter and restored.requires_grad
    np.testing.assert_array_equal(restored.data, param.data)
    param.grad = tn.tensor(np.array([3.0]))  # float64, as the parameter
    clone = copy.deepcopy(param)
    assert type(clone) is nn.Parameter and clone.data is not param.data
    assert clone.grad.tolist() == [3.0]
    sharing = [param, nn.Parameter(param.data)]
    copies = copy.deepcopy(sharing)
    assert copies[0].data is copies[1].data and copies[0].data is not param.data


# -- registration ----------------------------------------------------------------------------------
def test_assignment_registers_parameters_and_modules_in_order():
    net = TwoLayer()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["hidden", "norm", "out"]
    names = [name for name, _ in net.named_parameters()]
    assert names == [
        "scale",
        "hidden.weight",
        "hidden.bias",
        "norm.weight",
        "norm.bias",
        "out.weight",
        "out.bias",
    ]
    assert [p.shape for p in net.parameters(recurse=False)] == [(1,)]


def test_plain_values_and_none_are_ordinary_attributes():
    module = nn.Module()
    module.name = "x"
    module.nothing = None
    module.tensor = tn.ones(2)  # a plain Tensor is not a parameter
    assert module.name == "x" and module.nothing is None
    assert list(module.parameters()) == [] and list(module.state_dict()) == []


def test_registered_parameter_accepts_none_but_not_a_tensor():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        layer.weight = tn.ones(2, 2)
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert "bias" not in layer.state_dict()
    with pytest.raises(TypeError, match="child module 'inner'"):
        outer = nn.Module()
        outer.inner = nn.ReLU()
        outer.inner = 3


def test_reassigning_a_name_moves_it_between_registries():
    module = nn.Module()
    module.part = nn.Parameter(np.ones(2))
    module.part_module = nn.Linear(1, 1)
    module.part = None  # still a (missing) parameter slot
    module.thing = nn.Parameter(np.ones(1))
    with pytest.raises(TypeError, match="parameter 'thing'"):  # as PyTorch: delete first
        module.thing = nn.Identity()
    del module.thing
    module.thing = nn.Identity()
    assert "thing" not in module._parameters and "thing" in module._modules
    module.thing = nn.Parameter(np.ones(3))
    assert "thing" not in module._modules and module.thing.shape == (3,)


def test_deleting_attributes_unregisters_them():
    net = TwoLayer()
    del net.scale
    del net.out
    assert "scale" not in dict(net.named_parameters())
    assert not any(name.startswith("out.") for name in net.state_dict())
    with pytest.raises(AttributeError, match="'TwoLayer' object has no attribute 'out'"):
        _ = net.out
    net.plain = 1
    del net.plain
    assert not hasattr(net, "plain")


def test_assigning_before_super_init_fails_clearly():
    class Broken(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(np.ones(1))

    with pytest.raises(AttributeError, match="before Broken.__init__"):
        Broken()


def test_shared_submodule_and_parameter_counted_once():
    shared = nn.Linear(3, 3)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(net.parameters())) == 2
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(net.modules())) == 3  # Sequential, Linear, ReLU
    # As PyTorch, the state dict names a shared module under each of its names ...
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    # ... and gradients from both uses accumulate in the one parameter.
    x = tn.ones(1, 3)
    net(x).sum().backward()
    assert shared.weight.grad is not None

    tied = nn.Module()
    tied.a = nn.Linear(2, 2)
    tied.b = nn.Linear(2, 2)
    tied.b.weight = tied.a.weight
    assert [name for name, _ in tied.named_parameters()] == ["a.weight", "a.bias", "b.bias"]


def test_buffers_are_state_but_not_parameters():
    module = nn.Module()
    module.register_buffer("count", tn.zeros(2))
    module.register_buffer("scratch", tn.ones(1), persistent=False)
    module.register_buffer("absent", None)
    module.child = nn.BatchNorm1d(2)
    assert list(module.parameters()) == list(module.child.parameters())
    assert [name for name, _ in module.named_buffers()] == [
        "count",
        "scratch",
        "child.running_mean",
        "child.running_var",
        "child.num_batches_tracked",
    ]
    assert "scratch" not in module.state_dict() and "count" in module.state_dict()
    module.count = tn.full((2,), 5.0)  # re-assigning keeps it a buffer
    assert module.state_dict()["count"].tolist() == [5.0, 5.0]
    with pytest.raises(TypeError, match="buffer 'count'"):
        module.count = "text"
    with pytest.raises(KeyError, match="already exists"):
        module.register_buffer("train", tn.zeros(1))
    with pytest.raises(KeyError, match="contain no"):
        module.register_buffer("a.b", tn.zeros(1))


def test_children_modules_and_named_modules():
    net = TwoLayer()
    assert [name for name, _ in net.named_children()] == ["hidden", "norm", "out"]
    assert list(net.children()) == [net.hidden, net.norm, net.out]
    assert [name for name, _ in net.named_modules()] == ["", "hidden", "norm", "out"]
    seq = nn.Sequential(nn.Sequential(nn.ReLU()), nn.Tanh())
    assert [name for name, _ in seq.named_modules()] == ["", "0", "0.0", "1"]
    assert seq.get_submodule("0.0") is seq[0][0]
    with pytest.raises(AttributeError, match="no submodule '7'"):
        seq.get_submodule("7")


def test_train_and_eval_are_recursive():
    net = TwoLayer()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="bool"):
        net.train("no")


def test_train_goes_through_each_childs_train():
    class AlwaysEval(nn.BatchNorm1d):
        def train(self, mode=True):
            return super().train(False)

    net = nn.Sequential(nn.Linear(2, 2), AlwaysEval(2))
    net.train()
    assert net.training and net[0].training and not net[1].training


def test_zero_grad_sets_none_or_zeros():
    net = TwoLayer()
    net.train()
    net(tn.randn(4, 3, rng=0)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(not p.grad.data.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_freezes_all_parameters():
    net = TwoLayer().requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first():
    net = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


# -- dtype casting -------------------------------------------------------------------------------
def test_to_double_and_float_cast_in_place():
    net = TwoLayer()
    weight = net.hidden.weight
    net(tn.randn(4, 3, rng=0)).sum().backward()
    assert net.double() is net
    assert net.hidden.weight is weight and weight.dtype == np.float64
    assert weight.grad.dtype == np.float64
    assert net.norm.running_var.dtype == np.float64
    assert net.norm.num_batches_tracked.dtype == np.int64  # integer buffers untouched
    net.float()
    assert {p.dtype for p in net.parameters()} == {np.dtype(np.float32)}
    net.to("float64")
    assert {p.dtype for p in net.parameters()} == {np.dtype(np.float64)}
    with pytest.raises(TypeError, match="floating"):
        net.to(np.int32)


# -- state dicts ------------------------------------------------------------------------------------
def test_state_dict_is_an_ordered_dict_of_copies():
    net = TwoLayer()
    state = net.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state)[:3] == ["scale", "hidden.weight", "hidden.bias"]
    assert all(type(value) is np.ndarray for value in state.values())
    state["hidden.weight"][...] = 123.0
    assert not (net.hidden.weight.data == 123.0).any()


def test_state_dict_round_trip_restores_outputs():
    source, target = TwoLayer(rng=0), TwoLayer(rng=10)
    x = tn.randn(5, 3, rng=1)
    source.train()
    source(x)  # moves the running statistics
    source.eval()
    target.eval()
    assert not np.allclose(source(x).data, target(x).data)
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(source(x).data, target(x).data)
    assert int(target.norm.num_batches_tracked.item()) == 1


def test_load_keeps_the_existing_dtype():
    layer = nn.Linear(2, 2)
    state = {"weight": np.ones((2, 2), np.float64), "bias": tn.tensor([1, 2])}
    layer.load_state_dict(state)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert layer.bias.tolist() == [1.0, 2.0]
    state["weight"][...] = 7.0  # no aliasing with the caller's arrays
    assert layer.weight.data[0, 0] == 1.0


def test_strict_load_names_every_problem_in_one_error_and_loads_nothing():
    layer = nn.Linear(2, 3)
    before = layer.state_dict()
    bad = {"weight": np.zeros((2, 3)), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError) as info:
        layer.load_state_dict(bad)
    message = str(info.value)
    assert "Error(s) in loading state_dict for Linear" in message
    assert 'Unexpected key(s) in state_dict: "extra"' in message
    assert 'Missing key(s) in state_dict: "bias"' in message
    assert "size mismatch for weight" in message and "(2, 3)" in message and "(3, 2)" in message
    for name, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_non_strict_load_returns_missing_and_unexpected_keys():
    layer = nn.Linear(2, 3)
    result = layer.load_state_dict({"bias": np.arange(3.0), "extra": 1}, strict=False)
    assert result == (["weight"], ["extra"])
    assert result.missing_keys == ["weight"] and result.unexpected_keys == ["extra"]
    assert layer.bias.tolist() == [0.0, 1.0, 2.0]
    assert repr(layer.load_state_dict(layer.state_dict())) == "<All keys matched successfully>"
    with pytest.raises(RuntimeError, match="size mismatch for bias"):
        layer.load_state_dict({"bias": np.zeros(4)}, strict=False)
    with pytest.raises(TypeError, match="dict"):
        layer.load_state_dict([1, 2])


@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
    seeds=st.tuples(st.integers(0, 2**16), st.integers(0, 2**16)),
)
def test_state_dict_round_trip_property(sizes, seeds):
    def build(seed):
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers += [nn.Linear(n_in, n_out, rng=seed + i), nn.LayerNorm(n_out)]
        return nn.Sequential(*layers)

    source, target = build(seeds[0]), build(seeds[1])
    target.load_state_dict(source.state_dict())
    for (name_s, a), (name_t, b) in zip(source.state_dict().items(), target.state_dict().items()):
        assert name_s == name_t
        np.testing.assert_array_equal(a, b)


# -- pickling and copying ----------------------------------------------------------------------------
@pytest.mark.parametrize("clone", [lambda m: pickle.loads(pickle.dumps(m)), copy.deepcopy])
def test_pickle_and_deepcopy_give_independent_equal_modules(clone):
    net = TwoLayer()
    net.hidden.extra = nn.Parameter(np.ones(1))
    net.tied = net.hidden  # shared submodule stays shared in the copy
    copied = clone(net)
    assert type(copied) is TwoLayer and copied.tied is copied.hidden
    for (name, a), (_, b) in zip(net.state_dict().items(), copied.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    copied.hidden.weight.data[...] = 0.0
    assert net.hidden.weight.data.any()
    x = tn.randn(4, 3, rng=0)
    net.eval()
    copied = clone(net)
    np.testing.assert_array_equal(net(x).data, copied(x).data)
    assert not copied.training


# -- repr ---------------------------------------------------------------------------------------------
def test_repr_is_nested_like_pytorch():
    net = nn.Sequential(
        nn.Linear(2, 4),
        nn.LeakyReLU(0.2),
        nn.Sequential(nn.Dropout(0.1), nn.BatchNorm1d(4)),
        nn.LayerNorm(4),
        nn.Embedding(10, 4, padding_idx=0),
        nn.Softmax(dim=1),
    )
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=4, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.1)\n"
        "    (1): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  )\n"
        "  (3): LayerNorm((4,), eps=1e-05, elementwise_affine=True)\n"
        "  (4): Embedding(10, 4, padding_idx=0)\n"
        "  (5): Softmax(dim=1)\n"
        ")"
    )
    assert repr(nn.Module()) == "Module()"
    assert repr(TwoLayer()).startswith("TwoLayer(\n  (hidden): Linear(")


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        nn.Module()(1)
