"""Issue 10: where a PyTorch user's hands go first, tinynet does what PyTorch does or raises.

Expected values come from PyTorch's documented semantics, NumPy, or hand computation.
"""

import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F


def f64(values, requires_grad: bool = False) -> tn.Tensor:
    return tn.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# -- indexing ---------------------------------------------------------------------------------
@pytest.mark.parametrize("column_index", [(0, 0, 2), [0, 0, 2]], ids=["tuple", "list"])
def test_index_arrays_inside_the_index_tuple_accumulate_in_backward(column_index):
    x = f64(np.arange(6.0).reshape(2, 3), requires_grad=True)
    picked = x[:, column_index]
    np.testing.assert_array_equal(picked.data, x.data[:, [0, 0, 2]])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[2.0, 0.0, 1.0], [2.0, 0.0, 1.0]])


def test_a_top_level_tuple_is_still_basic_indexing():
    x = f64(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x[(1, 2)].item() == 5.0


# -- in-place ops and version counters -----------------------------------------------------------
def test_sgd_by_hand_under_no_grad_updates_the_weights_in_place():
    p = f64([1.0, 2.0], requires_grad=True)
    data = p.data
    (p * p).sum().backward()
    with tn.no_grad():
        p -= 0.25 * p.grad
    assert p.data is data and p.is_leaf and p.requires_grad
    np.testing.assert_array_equal(p.data, [0.5, 1.0])


def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad():
    w = f64([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w += 1
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.zero_()
    assert w.is_leaf and w.data.tolist() == [1.0]


@pytest.mark.parametrize(
    ("method", "args", "expected"),
    [
        ("add_", (2.0,), [3.0, 0.0]),
        ("sub_", (2.0,), [-1.0, -4.0]),
        ("mul_", (2.0,), [2.0, -4.0]),
        ("div_", (2.0,), [0.5, -1.0]),
        ("clamp_", (-1.0, 0.5), [0.5, -1.0]),
        ("fill_", (7.0,), [7.0, 7.0]),
        ("zero_", (), [0.0, 0.0]),
        ("copy_", (np.array([4.0, 5.0]),), [4.0, 5.0]),
    ],
)
def test_in_place_ops_write_into_the_same_array_and_bump_the_version(method, args, expected):
    x = f64([1.0, -2.0])
    data = x.data
    assert getattr(x, method)(*args) is x
    assert x.data is data and x.version == 1
    np.testing.assert_array_equal(x.data, expected)


def test_random_fills_follow_their_distribution_in_place():
    x = tn.zeros(2000, dtype=tn.float64)
    x.uniform_(-1.0, 3.0, rng=0)
    assert x.data.min() >= -1.0 and x.data.max() < 3.0 and abs(x.data.mean() - 1.0) < 0.1
    x.normal_(5.0, 0.5, rng=0)
    assert abs(x.data.mean() - 5.0) < 0.05 and abs(x.data.std() - 0.5) < 0.05
    assert x.version == 2


def test_in_place_result_that_cannot_be_cast_or_broadcast_raises():
    with pytest.raises(TypeError, match="can't be cast"):
        tn.tensor([1, 2]).add_(0.5)  # PyTorch: Float can't be cast to Long
    with pytest.raises(tn.ShapeError, match="in place"):
        tn.zeros(3).add_(tn.zeros(2, 3))


def test_in_place_on_a_non_leaf_is_recorded_and_differentiable():
    x = f64([1.0, 2.0], requires_grad=True)
    w = f64([3.0, 4.0], requires_grad=True)
    y = x * 2.0
    y.mul_(w)  # y = 2 x w
    y.add_(x)  # y = 2 x w + x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [7.0, 9.0])  # 2 w + 1
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])  # 2 x


def test_detach_shares_the_version_counter_and_backward_refuses_stale_values():
    x = f64([0.5, 1.0], requires_grad=True)
    h = x.exp()
    y = (h * h).sum()
    h.detach().zero_()
    with pytest.raises(RuntimeError) as error:
        y.backward()
    message = str(error.value)
    assert "modified by an inplace operation" in message
    assert "input 0 of Mul" in message and "at version 1" in message
    assert "written by zero_ at test_pytorch_contract.py:" in message  # the line of the write


def test_writes_through_data_stay_untracked_as_in_pytorch():
    x = f64([0.5, 1.0], requires_grad=True)
    h = x.exp()
    y = (h * h).sum()
    h.data[...] = 0.0
    y.backward()  # no error (and the gradient uses the changed values, as PyTorch)
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_optimizer_step_between_two_backwards_of_a_retained_graph_raises():
    w = tn.nn.Parameter(f64([1.0, 2.0]))
    opt = tn.optim.SGD([w], lr=0.1)
    data = w.data
    l1 = (w * w).sum()
    l2 = (w * w * w).sum()
    l1.backward(retain_graph=True)
    opt.step()
    assert w.data is data  # updated in place
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*optimizer\.step"):
        l2.backward()


@pytest.mark.parametrize(
    "make",
    [
        lambda params: tn.optim.SGD(params, lr=0.1, momentum=0.9),
        lambda params: tn.optim.Adam(params, lr=0.01, amsgrad=True),
        lambda params: tn.optim.AdamW(params, lr=0.01),
        lambda params: tn.optim.RMSprop(params, lr=0.01, centered=True),
        lambda params: tn.optim.Adagrad(params, lr=0.1),
        lambda params: tn.optim.NAdam(params, lr=0.01),
        lambda params: tn.optim.RAdam(params, lr=0.01, weight_decay=0.1),
        lambda params: tn.optim.Adamax(params, lr=0.01),
        lambda params: tn.optim.Adadelta(params),
        lambda params: tn.optim.Rprop(params, lr=0.01),
    ],
    ids=[
        "SGD",
        "Adam",
        "AdamW",
        "RMSprop",
        "Adagrad",
        "NAdam",
        "RAdam",
        "Adamax",
        "Adadelta",
        "Rprop",
    ],
)
def test_multi_tensor_step_between_two_backwards_of_a_retained_graph_raises(make):
    # Several small parameters with gradients: the group is updated as one flat array.
    model = tn.nn.Sequential(
        tn.nn.Linear(3, 4, dtype=np.float64, rng=0),
        tn.nn.Tanh(),
        tn.nn.Linear(4, 2, dtype=np.float64, rng=1),
    )
    params = list(model.parameters())
    opt = make(params)
    arrays = [p.data for p in params]
    before = [a.copy() for a in arrays]
    out = model(f64(np.linspace(-1.0, 1.0, 6).reshape(2, 3)))
    l1 = (out * out).sum()
    l2 = (out * out * out).sum()
    l1.backward(retain_graph=True)
    opt.step()
    # The flat path was taken: each state array is a view into one buffer for the group.
    for name, value in opt.state[params[0]].items():
        if isinstance(value, np.ndarray):
            bases = {id(opt.state[p][name].base) for p in params}
            assert value.base is not None and len(bases) == 1, name
    for p, array, old in zip(params, arrays, before):
        assert p.data is array and p.version == 1  # updated in place, and announced
        assert not np.array_equal(array, old)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*optimizer\.step"):
        l2.backward()


def test_in_place_on_a_saved_output_raises_at_backward():
    x = f64([0.5], requires_grad=True)
    h = x.exp()
    h.mul_(2.0)
    with pytest.raises(RuntimeError, match="output 0 of Exp"):
        h.sum().backward()


def test_custom_function_saved_tensors_check_the_version():
    class Square(tn.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 2 * x

    x = f64([3.0], requires_grad=True)
    y = Square.apply(x)
    with tn.no_grad():
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="input 0 of Square"):
        y.backward()


def test_the_error_names_the_line_that_created_the_op_under_anomaly_mode():
    x = f64([0.5, 1.0], requires_grad=True)
    with tn.detect_anomaly():
        h = x.exp()
        y = (h * h).sum()  # the op that needs h
    h.detach().zero_()
    with pytest.raises(RuntimeError, match=r"created at test_pytorch_contract\.py:\d+"):
        y.backward()


def test_a_functional_inplace_call_whose_result_is_discarded_still_writes():
    x = f64([-2.0, 0.5, 3.0], requires_grad=True)
    h = x * 2.0
    F.relu(h, inplace=True)  # PyTorch's habit: the result is h itself, so it is dropped
    F.dropout(h, 0.5, training=False, inplace=True)  # eval: PyTorch leaves h as it is
    assert h.tolist() == [0.0, 1.0, 6.0] and h.version == 1
    (h * h).sum().backward()
    assert x.grad.tolist() == [0.0, 4.0, 24.0]  # d/dx relu(2x)^2 = 8x where x > 0


def test_an_assigned_grad_of_another_dtype_or_shape_raises_as_pytorch():
    w = tn.zeros(2, 3, requires_grad=True)  # float32
    with pytest.raises(RuntimeError, match="assigned grad has data of a different type"):
        w.grad = f64(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="assigned grad has data of a different size"):
        w.grad = tn.ones(3, 2)
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor"):
        w.grad = [[0.0] * 3] * 2
    assert w.grad is None
    w.grad = tn.ones(2, 3)
    assert w.grad.tolist() == [[1.0] * 3] * 2


# -- PyTorch spellings -----------------------------------------------------------------------------
def test_dim_and_keepdim_everywhere_axis_is_accepted():
    x = f64(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.sum(dim=0).data, x.data.sum(axis=0))
    np.testing.assert_array_equal(x.mean(dim=1, keepdim=True).data, x.data.mean(1, keepdims=True))
    np.testing.assert_array_equal(tn.sum(x, dim=1).data, x.data.sum(1))
    np.testing.assert_array_equal(x.max(dim=1).data, x.data.max(1))
    np.testing.assert_array_equal(x.argmax(dim=1).data, x.data.argmax(1))
    np.testing.assert_allclose(x.var(dim=0).data, x.data.var(0, ddof=1))
    assert tn.stack([x, x], dim=0).shape == (2, 2, 3)
    assert tn.cat([x, x], dim=1).shape == (2, 6)
    assert x.unsqueeze(dim=0).shape == (1, 2, 3) and x.flatten(start_dim=0).shape == (6,)
    softmax = tn.nn.functional.softmax
    np.testing.assert_array_equal(softmax(x, axis=1).data, softmax(x, dim=1).data)
    np.testing.assert_array_equal(x.softmax(dim=0).data, x.softmax(axis=0).data)
    with pytest.raises(TypeError, match="both"):
        x.sum(dim=0, axis=0)


def test_transpose_two_ints_swap_a_sequence_permutes():
    x = f64(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(x.transpose(0, 2).data, np.swapaxes(x.data, 0, 2))
    np.testing.assert_array_equal(x.transpose(-1, 1).data, np.swapaxes(x.data, -1, 1))
    np.testing.assert_array_equal(x.transpose((2, 0, 1)).data, np.transpose(x.data, (2, 0, 1)))
    np.testing.assert_array_equal(x.transpose(2, 0, 1).data, np.transpose(x.data, (2, 0, 1)))
    np.testing.assert_array_equal(x.permute(1, 2, 0).data, np.transpose(x.data, (1, 2, 0)))
    np.testing.assert_array_equal(x.mT.data, np.swapaxes(x.data, -1, -2))
    m = f64([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(m.transpose(0, 1).data, m.data.T)  # NumPy's meaning: unchanged
    np.testing.assert_array_equal(m.t().data, m.data.T)
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        x.t()


def test_size_numel_and_conversions():
    x = tn.zeros(2, 3)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2 and x.numel() == 6
    with pytest.raises(IndexError):
        x.size(2)
    expected = {"long": np.int64, "int": np.int32, "bool": np.bool_, "half": np.float16}
    for name, dtype in {**expected, "double": np.float64, "float": np.float32}.items():
        assert getattr(x, name)().dtype == dtype
    assert x.to(tn.float64).dtype == np.float64 and x.to("float64").dtype == np.float64
    assert x.to("cpu") is x and x.cpu() is x and x.device == "cpu"
    assert x.to("cpu", tn.float64).dtype == np.float64
    assert x.to(tn.zeros(1, dtype=tn.float64)).dtype == np.float64
    assert tn.zeros(2, device="cpu").shape == (2,)


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "mps"])
def test_other_devices_are_refused_with_one_clear_line(device):
    with pytest.raises(RuntimeError, match="CPU only") as error:
        tn.zeros(2).to(device)
    assert "\n" not in str(error.value)
    with pytest.raises(RuntimeError, match="CPU only"):
        tn.nn.Linear(2, 2).to(device)
    with pytest.raises(RuntimeError, match="CPU only"):
        tn.zeros(2, device=device)
    for layer in (tn.nn.Linear, tn.nn.LayerNorm, tn.nn.BatchNorm1d):
        with pytest.raises(RuntimeError, match="CPU only"):
            layer(2, 2, device=device) if layer is tn.nn.Linear else layer(2, device=device)
    assert tn.nn.Embedding(3, 2, device="cpu").weight.shape == (3, 2)


def test_module_to_accepts_cpu_and_a_dtype():
    layer = tn.nn.Linear(2, 2, rng=0)
    weight = layer.weight
    assert layer.to("cpu") is layer and layer.weight.dtype == np.float32
    layer.to("cpu", tn.float64)
    assert layer.weight is weight and weight.dtype == np.float64
    layer.to(tn.zeros(1))  # the dtype of a tensor, as PyTorch's module.to(tensor)
    assert weight.dtype == np.float32


def test_grad_of_a_non_leaf_warns_unless_retained():
    x = f64([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    z = x * 2.0
    z.retain_grad()
    (y * z).sum().backward()
    with pytest.warns(UserWarning, match="retain_grad"):
        assert y.grad is None
    assert z.retains_grad
    np.testing.assert_array_equal(z.grad.data, [3.0, 6.0])  # d(y z)/dz = y
    np.testing.assert_array_equal(x.grad.data, [12.0, 24.0])  # 2 * 3 x * 2


# -- dtypes: no silent upcast, PyTorch's integer promotion ----------------------------------------
def test_float64_input_into_a_float32_layer_raises_naming_both_dtypes_and_the_fix():
    layer = tn.nn.Linear(2, 2, rng=0)
    with pytest.raises(TypeError, match=r"float64 but weight is float32.*x\.to\(tn\.float32\)"):
        layer(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="float32 but weight is float64"):
        tn.nn.Linear(2, 2, rng=0, dtype=tn.float64)(tn.ones(1, 2))
    with pytest.raises(RuntimeError, match="layer_norm"):
        tn.nn.LayerNorm(2)(tn.ones(1, 2, dtype=tn.float64))
    with pytest.raises(RuntimeError, match="batch_norm"):
        tn.nn.BatchNorm1d(2)(tn.ones(3, 2, dtype=tn.float64))
    assert layer(np.ones((1, 2), np.float32)).dtype == np.float32
    linear = tn.nn.functional.linear
    assert linear(np.ones((1, 2)), np.ones((3, 2)), np.zeros(3)).tolist() == [[2.0, 2.0, 2.0]]
    with pytest.raises(tn.DTypeError, match="bias is float32"):
        linear(np.ones((1, 2)), np.ones((3, 2)), np.zeros(3, np.float32))


FLOAT_VALUED = {  # integer inputs in each function's domain, and NumPy's float64 values
    "expm1": ([0, 1, 2], np.expm1), "tan": ([0, 1, 2], np.tan), "asin": ([-1, 0, 1], np.arcsin),
    "acos": ([-1, 0, 1], np.arccos), "atan": ([0, 1, 2], np.arctan), "sinh": ([0, 1, 2], np.sinh),
    "cosh": ([0, 1, 2], np.cosh), "asinh": ([0, 1, 2], np.arcsinh), "acosh": ([1, 2, 3], np.arccosh),
    "atanh": ([0], np.arctanh), "exp": ([0, 1, 2], np.exp), "sqrt": ([0, 1, 4], np.sqrt),
    "hardswish": ([-4, 0, 1, 4], lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "celu": ([-1, 0, 2], lambda x: np.where(x > 0, x, np.expm1(x))),
}  # fmt: skip


@pytest.mark.parametrize("default", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(FLOAT_VALUED))
def test_float_valued_functions_of_integers_give_the_default_dtype(name, default):
    # docs/tensors.md: float-valued functions of integers give the default dtype (PyTorch's
    # torch.tan(int_tensor) is float32), never NumPy's float64.
    values, reference = FLOAT_VALUED[name]
    tn.set_default_dtype(default)
    try:
        result = getattr(tn, name)(tn.tensor(values))
    finally:
        tn.set_default_dtype(tn.float32)
    assert result.dtype == default
    expected = reference(np.array(values, np.float64)).astype(default)
    np.testing.assert_allclose(result.data, expected, rtol=1e-6)
    cumulative = tn.logcumsumexp(tn.tensor(values), dim=0)
    assert cumulative.dtype == np.float32


def test_hardtanh_and_relu6_keep_an_integer_input_integer_as_pytorch():
    # PyTorch's hardtanh takes integer bounds for an integer input (no promotion).
    ints = tn.tensor([-3, 1, 7])
    assert F.relu6(ints).dtype == np.int64 and F.relu6(ints).tolist() == [0, 1, 6]
    assert F.hardtanh(ints, -0.5, 2.5).tolist() == [0, 1, 2]  # bounds truncated: 0, 2
    assert nn.ReLU6()(tn.tensor(np.array([1, 9], np.int32))).dtype == np.int32
    with pytest.raises(tn.DTypeError, match="bool"):
        F.hardtanh(tn.tensor([True, False]))
    with pytest.raises(RuntimeError, match="unsigned"):
        F.hardtanh(tn.tensor(np.array([1, 2], np.uint8)))


def test_integer_promotion_follows_pytorch():
    ints = tn.tensor([5, 6, 7])
    assert (ints / tn.tensor([1, 2, 4])).dtype == np.float32
    np.testing.assert_allclose((ints / tn.tensor([1, 2, 4])).data, [5.0, 3.0, 1.75])
    assert (ints + 0.5).dtype == np.float32 and (0.5 * ints).dtype == np.float32
    assert ints.exp().dtype == np.float32 and ints.sqrt().dtype == np.float32
    assert (ints * tn.ones(3)).dtype == np.float32
    assert (ints * tn.ones(3, dtype=tn.float64)).dtype == np.float64
    assert (ints + 1).dtype == np.int64 and ints.abs().dtype == np.int64
    assert (ints**0.5).dtype == np.float32 and (ints**2).dtype == np.int64
    assert ints.mean().dtype == np.float32 and ints.mean().item() == 6.0
    assert ints.softmax(0).dtype == np.float32 and ints.sum().dtype == np.int64
    tn.set_default_dtype(tn.float64)
    try:
        assert (ints / 2).dtype == np.float64
    finally:
        tn.set_default_dtype(tn.float32)


# -- randomness: tn.manual_seed and the global generator -------------------------------------------
def _seeded_run(seed: int) -> list:
    tn.manual_seed(seed)
    model = tn.nn.Sequential(tn.nn.Linear(3, 4), tn.nn.Dropout(0.5), tn.nn.Linear(4, 1))
    x = tn.randn(5, 3)
    out = model(x)
    noise = tn.rand(2).data
    filled = tn.zeros(3).uniform_()
    order = [batch.data.tolist() for (batch,) in tn.data.DataLoader(
        tn.data.TensorDataset(tn.arange(6)), batch_size=2, shuffle=True
    )]  # fmt: skip
    return [a.tobytes() for a in (out.data, noise, filled.data, model[0].weight.data)] + [order]


def test_manual_seed_makes_every_rng_none_draw_bit_identical():
    first, second = _seeded_run(7), _seeded_run(7)
    assert first == second
    assert _seeded_run(8)[:4] != first[:4]


def test_rng_argument_still_overrides_the_global_generator():
    tn.manual_seed(0)
    a = tn.randn(4, rng=123).data
    tn.manual_seed(1)
    b = tn.randn(4, rng=123).data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.random.default_rng(123).standard_normal(4, np.float32))


def test_manual_seed_matches_numpy_generator_and_state_round_trips():
    tn.manual_seed(42)
    np.testing.assert_array_equal(
        tn.randn(3, dtype=tn.float64).data, np.random.default_rng(42).standard_normal(3)
    )
    state = tn.get_rng_state()
    a = tn.rand(3).data
    tn.set_rng_state(state)
    np.testing.assert_array_equal(tn.rand(3).data, a)
    with pytest.raises(TypeError, match="int"):
        tn.manual_seed(1.5)


def test_detach_views_of_parameters_and_of_views_share_one_counter():
    p = tn.nn.Parameter(f64([1.0, 2.0]))
    view = p.detach().detach()
    view.add_(1.0)  # a view outside the graph: allowed, and p sees the write
    assert p.data.tolist() == [2.0, 3.0]
    assert p.version == view.version == 1
    with tn.no_grad():
        p.mul_(2.0)
    assert view.version == 2 and view.data.tolist() == [4.0, 6.0]


def test_in_place_on_a_view_inside_a_graph_rewrites_the_base_as_pytorchs_copyslices():
    x = f64([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    product = x * 1.0
    row = product[0]  # a NumPy view of the product's memory
    row.mul_(2.0)
    assert product.tolist() == [[2.0, 4.0], [3.0, 4.0]] and product.version == 1
    (product * product).sum().backward()  # d/dx of (2 x0)^2 + x1^2: 8 x0, 2 x1
    assert x.grad.tolist() == [[8.0, 16.0], [6.0, 8.0]]
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0].mul_(2.0)


def test_every_input_of_a_recorded_op_is_checked():
    # Stricter than PyTorch (documented in docs/tensors.md): the sum does not need x's
    # values, but its node still refers to x.
    x = f64([1.0], requires_grad=True)
    y = x + 1.0
    with tn.no_grad():
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="input 0 of Add"):
        y.backward()


def test_to_with_copy_returns_new_memory_and_clone_is_differentiable():
    x = f64([1.0, 2.0], requires_grad=True)
    same = x.to(tn.float64)
    assert same is x
    copied = x.to(tn.float64, copy=True)
    assert copied is not x and not np.shares_memory(copied.data, x.data)
    (copied * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_item_assignment_follows_the_in_place_rules():
    w = f64([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] = 0.0
    with tn.no_grad():
        w[w > 1.5] = 0.0  # a boolean mask, as PyTorch
    assert w.data.tolist() == [1.0, 0.0, 0.0] and w.version == 1
    x = f64([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    y[tn.tensor([0, 2])] = 5.0  # recorded: the assigned elements get no gradient
    assert y.data.tolist() == [5.0, 4.0, 5.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 0.0]
    x.grad = None
    z = x * 1.0
    z[0] = x[1] * 3.0  # a value that requires grad, into the view z[0] (PyTorch's copy_)
    z.sum().backward()
    assert z.data.tolist() == [6.0, 2.0, 3.0] and x.grad.tolist() == [0.0, 4.0, 1.0]
    x.grad = None
    z = x * 1.0
    z[tn.tensor([0, 2])] = x[1] * tn.tensor([2.0, 4.0], dtype=tn.float64)  # index_put_
    z.sum().backward()
    assert z.data.tolist() == [4.0, 2.0, 8.0] and x.grad.tolist() == [0.0, 7.0, 0.0]
    with pytest.raises(RuntimeError, match="repeats a position"):
        (x * 1.0)[tn.tensor([0, 0])] = x[1]


def test_views_made_by_ops_share_the_version_counter_of_their_base():
    base = f64([[1.0, 2.0], [3.0, 4.0]])
    row = base[0]  # a NumPy view of base's memory
    w = f64([1.0, 1.0], requires_grad=True)
    loss = (row * w).sum()  # Mul needs row's values for w's gradient
    base.zero_()  # changes row's values too
    assert row.version == base.version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    flat = base.reshape(-1)
    flat.add_(1.0)  # a write through the view bumps the base
    assert base.version == 2 and base.data.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_retain_grad_survives_an_in_place_op_and_sees_the_final_value():
    x = f64([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    h.retain_grad()
    h.mul_(3.0)  # h is now 3 x, still retained
    (h * h).sum().backward()
    assert h.retains_grad
    np.testing.assert_array_equal(h.grad.data, [6.0, 12.0])  # 2 h
    np.testing.assert_array_equal(x.grad.data, [18.0, 36.0])  # 18 x


# -- the PyTorch-habit audit: habits that were silently different -----------------------------------
def test_max_and_min_over_a_dim_refuse_the_values_indices_habit():
    # PyTorch returns (values, indices) here; tinynet returns the values (docs/from-pytorch.md),
    # so unpacking or indexing the result would silently mean something else: it raises.
    x = f64([[1.0, 5.0], [7.0, 2.0]])
    with pytest.raises(TypeError, match=r"values only.*x\.argmax\(dim\)"):
        values, indices = x.max(1)
    with pytest.raises(TypeError, match=r"x\.argmax\(dim\)"):
        x.max(dim=1)[0]
    with pytest.raises(TypeError, match=r"x\.argmin\(dim\)"):
        tn.min(x, 0)[1]
    np.testing.assert_array_equal(x.max(1).data, [5.0, 7.0])
    assert x.max(dim=1).clone()[1].item() == 7.0 and (x.min(0) + 0.0)[0].item() == 1.0
    assert x.max().item() == 7.0  # a full reduction is a 0-d tensor, as PyTorch's
    assert x.norm(p=np.inf, dim=1)[0].item() == 5.0  # norms built on max stay plain tensors


def test_max_and_min_of_two_tensors_are_elementwise_as_in_pytorch():
    a, b = f64([1.0, 5.0, -2.0]), f64([3.0, 4.0, -1.0])
    np.testing.assert_array_equal(tn.max(a, b).data, np.maximum(a.data, b.data))
    np.testing.assert_array_equal(a.max(b).data, np.maximum(a.data, b.data))
    np.testing.assert_array_equal(tn.min(a, b).data, np.minimum(a.data, b.data))


def test_joining_mixed_dtypes_promotes_as_pytorch_not_numpy():
    ints, floats = tn.tensor([1, 2]), tn.tensor([0.5])
    joined = tn.cat([ints, floats])
    assert joined.dtype == np.float32 and joined.tolist() == [1.0, 2.0, 0.5]  # NumPy: float64
    assert tn.stack([tn.tensor([1]), tn.tensor([1.5])]).dtype == np.float32
    half = tn.tensor([1.0], dtype=tn.float16)
    assert tn.cat([half, tn.tensor([2.0])]).dtype == np.float32
    assert tn.cat([tn.tensor([1], dtype=tn.int32), tn.tensor([2])]).dtype == np.int64
    assert tn.cat([tn.tensor([True]), tn.tensor([3])]).tolist() == [1, 3]
    w = tn.tensor([1.0, 2.0], dtype=tn.float16, requires_grad=True)
    (tn.cat([w, tn.tensor([3.0])]) * tn.tensor([2.0, 3.0, 4.0])).sum().backward()
    assert w.grad.dtype == np.float16 and w.grad.tolist() == [2.0, 3.0]


def test_matmul_of_integers_and_floats_takes_the_floating_dtype():
    product = tn.tensor([[1, 2]]) @ tn.tensor([[0.5], [0.25]])
    assert product.dtype == np.float32 and product.tolist() == [[1.0]]


def test_clamp_bounds_promote_as_pytorch_scalars():
    x = tn.tensor([-1.0, 0.5, 3.0])
    assert x.clamp(np.float64(0.0), 1.0).dtype == np.float32  # a scalar bound is weak
    ints = tn.tensor([-7, 1, 3])
    clamped = ints.clamp(0.5, 2.5)
    assert clamped.dtype == np.float32 and clamped.tolist() == [0.5, 1.0, 2.5]  # not float64
    assert ints.clamp(0, 2).dtype == np.int64 and ints.clamp(0, 2).tolist() == [0, 1, 2]
    # PyTorch's documented rule: min greater than max sets every element to max.
    assert x.clamp(2.0, 1.0).tolist() == [1.0, 1.0, 1.0]


def test_view_shares_memory_and_refuses_a_layout_that_needs_a_copy():
    base = f64(np.arange(6.0))
    view = base.view(2, 3)
    view[0, 0] = 9.0  # a view: the write shows in base, as in PyTorch
    assert base.data[0] == 9.0 and base.is_contiguous()
    transposed = view.t()
    assert not transposed.is_contiguous()
    with pytest.raises(RuntimeError, match=r"not compatible.*\.reshape\(\.\.\.\)"):
        transposed.view(6)
    np.testing.assert_array_equal(transposed.contiguous().view(6).data, view.data.T.ravel())
    np.testing.assert_array_equal(transposed.reshape(6).data, view.data.T.ravel())
    assert view.contiguous() is view
    with pytest.raises(TypeError, match=r"\.to\("):
        base.view(tn.int64)


def test_contiguous_copy_is_differentiable():
    x = f64([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x.t().contiguous().view(4) * f64([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, 3.0], [2.0, 4.0]])


def test_bitwise_operators_combine_masks_as_in_pytorch():
    x = tn.tensor([1.0, -2.0, 3.0])
    a, b = (x > 0).data, (x < 2).data
    assert ((x > 0) & (x < 2)).tolist() == (a & b).tolist()
    assert ((x > 0) | (x < 2)).tolist() == (a | b).tolist()
    assert ((x > 0) ^ (x < 2)).tolist() == (a ^ b).tolist()
    assert (~(x > 0)).tolist() == (~a).tolist() and (~(x > 0)).dtype == np.bool_
    assert (True & (x > 0)).tolist() == a.tolist()
    assert (~tn.tensor([0, 5])).tolist() == [-1, -6]  # bitwise not of integers
    small = tn.tensor([6, 3], dtype=tn.int32) & 3
    assert small.dtype == np.int32 and small.tolist() == [2, 3]
    with pytest.raises(RuntimeError, match="bitwise"):
        x & x  # PyTorch: bitwise_and is not implemented for Float


def test_comparison_with_none_is_false_not_an_error():
    x = tn.tensor([1.0, 2.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711


def test_sizes_must_be_integers_not_silently_truncated():
    with pytest.raises(TypeError, match="tuple of ints"):
        tn.zeros(2.5)
    with pytest.raises(TypeError, match="tuple of ints"):
        tn.randn(2, 1.5)
    assert tn.ones(np.int64(2), tn.tensor(3)).shape == (2, 3)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        tn.arange(0, 1, 0)


def test_randint_takes_high_and_size_as_pytorch():
    draws = tn.randint(3, (200,), rng=0)  # torch.randint(high, size)
    assert draws.shape == (200,) and draws.dtype == np.int64
    assert set(draws.tolist()) == {0, 1, 2}
    bounded = tn.randint(5, 8, (200,), rng=0)
    assert set(bounded.tolist()) == {5, 6, 7}


def test_integer_to_a_negative_power_is_not_called_a_shape_error():
    with pytest.raises(ValueError, match="negative integer powers") as error:
        2 ** tn.tensor([-1, 2])
    assert not isinstance(error.value, tn.ShapeError)


def test_scheduler_stepped_before_the_optimizer_warns_as_in_pytorch():
    w = tn.nn.Parameter(f64([1.0]))
    opt = tn.optim.SGD([w], lr=0.1)
    scheduler = tn.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    with pytest.warns(UserWarning, match=r"before `optimizer\.step\(\)`"):
        scheduler.step()
    opt = tn.optim.SGD([w], lr=0.1)
    scheduler = tn.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    (w * w).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        scheduler.step()
    assert opt.param_groups[0]["lr"] == 0.05


def test_where_refuses_a_condition_that_is_not_boolean():
    x = tn.tensor([0.0, 2.0])
    with pytest.raises(RuntimeError, match=r"boolean.*x > 0"):
        tn.where(x, 1.0, 0.0)  # PyTorch raises: where expects a bool condition
    assert tn.where(x > 0, 1.0, 0.0).tolist() == [0.0, 1.0]


def test_operator_methods_have_pytorch_spellings():
    x, y = tn.tensor([1.0, -2.0]), tn.tensor([3.0, 4.0])
    assert x.add(y, alpha=2).tolist() == [7.0, 6.0] and x.sub(y, alpha=2).tolist() == [-5.0, -10.0]
    assert x.mul(y).tolist() == [3.0, -8.0] and x.pow(2).tolist() == [1.0, 4.0]
    assert x.neg().tolist() == [-1.0, 2.0] and x.square().tolist() == [1.0, 4.0]
    assert x.eq(1.0).tolist() == [True, False] and x.ge(y).tolist() == [False, False]
    assert tn.zeros(2, 3).matmul(tn.ones(3)).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_div_rounding_modes_follow_pytorch(dtype):
    a = np.array([-7, 7, -6, 6, -1, 0, 9], dtype=dtype)
    b = np.array([2, 2, -4, -4, 3, 5, -3], dtype=dtype)
    x, y = tn.tensor(a), tn.tensor(b)
    np.testing.assert_array_equal(x.div(y, rounding_mode="trunc").data, np.trunc(a / b))
    np.testing.assert_array_equal(x.div(y, rounding_mode="floor").data, np.floor(a / b))
    assert x.div(y, rounding_mode="trunc").dtype == dtype
    np.testing.assert_allclose(x.div(y).data, a / b, rtol=1e-6)  # true division
    with pytest.raises(ValueError, match="rounding_mode"):
        x.div(y, rounding_mode="round")


def test_item_of_many_elements_raises_what_pytorch_raises():
    x = tn.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="one-element"):  # PyTorch: x.item()
        x.item()
    with pytest.raises(ValueError, match="one-element"):  # PyTorch: float(x)
        float(x)


def test_integer_tensors_cannot_require_grad_with_pytorch_error_type():
    with pytest.raises(RuntimeError, match=r"floating.*x\.float\(\)"):
        tn.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        tn.tensor([1, 2]).requires_grad_()


def test_an_integer_input_to_a_layer_suggests_only_converting_the_input():
    with pytest.raises(tn.DTypeError) as error:
        tn.nn.Linear(2, 1)(tn.tensor([[1, 2]]))
    assert "x.to(tn.float32)" in str(error.value) and "model.to" not in str(error.value)


def test_dataloader_accepts_the_loading_settings_pytorch_code_passes(monkeypatch):
    dataset = tn.data.TensorDataset(tn.arange(5))
    loader = tn.data.DataLoader(dataset, batch_size=2, num_workers=0, pin_memory=False)
    assert [batch.tolist() for (batch,) in loader] == [[0, 1], [2, 3], [4]]
    in_workers = tn.data.DataLoader(dataset, batch_size=2, num_workers=2)
    assert [batch.tolist() for (batch,) in in_workers] == [[0, 1], [2, 3], [4]]
    monkeypatch.setattr(tn.data, "_pin_memory_warned", [False])
    with pytest.warns(UserWarning, match="pin_memory=True has no effect"):  # no accelerator
        pinned = tn.data.DataLoader(dataset, batch_size=2, pin_memory=True)
    assert [batch.tolist() for (batch,) in pinned] == [[0, 1], [2, 3], [4]]


def test_cuda_methods_are_refused_with_the_cpu_only_line():
    for move in (lambda: tn.zeros(2).cuda(), lambda: tn.nn.Linear(2, 2).cuda(0)):
        with pytest.raises(RuntimeError, match="CPU only") as error:
            move()
        assert "\n" not in str(error.value)


def test_random_samples_of_an_integer_dtype_are_refused_naming_randint():
    for make in (lambda: tn.randn(2, dtype=tn.int64), lambda: tn.rand_like(tn.tensor([1, 2]))):
        with pytest.raises(RuntimeError, match="tn.randint"):  # PyTorch: not implemented for Long
            make()


def test_non_blocking_transfers_to_the_cpu_are_accepted():
    x = tn.zeros(2)
    assert x.to("cpu", non_blocking=True) is x
    layer = tn.nn.Linear(2, 2)
    assert layer.to("cpu", non_blocking=True) is layer
    with pytest.raises(RuntimeError, match="CPU only"):
        x.to("cuda", non_blocking=True)


def test_no_grad_and_enable_grad_decorate_without_parentheses_as_in_pytorch():
    @tn.no_grad
    def doubled(x):
        return x * 2

    @tn.enable_grad
    def tripled(x):
        return x * 3

    x = tn.ones(2, requires_grad=True)
    assert not doubled(x).requires_grad and doubled.__name__ == "doubled"
    with tn.no_grad():
        assert tripled(x).requires_grad
    assert tn.is_grad_enabled()


def test_a_list_of_numpy_scalars_or_tensors_keeps_their_dtype_as_pytorch_infers():
    values = np.array([0.25, 0.5])  # float64
    assert tn.tensor([values.mean(), values.std()]).dtype == np.float64
    pair = [tn.tensor(1.5, dtype=tn.float64), tn.tensor(2.5, dtype=tn.float64)]
    assert tn.tensor(pair).dtype == np.float64 and tn.tensor(pair).tolist() == [1.5, 2.5]
    assert tn.tensor([1.0, np.float64(2.0)]).dtype == np.float64  # promoted with the default
    assert tn.tensor([np.float16(1.0), 2]).dtype == np.float16
    assert tn.tensor([np.float16(1.0), 2.0]).dtype == np.float32
    assert tn.tensor([1.0, 2]).dtype == np.float32


def test_the_tensor_class_called_with_one_int_is_refused_not_a_number():
    # torch.Tensor(3) is an uninitialized tensor of shape (3,); tn.Tensor(3) would be the number 3.
    with pytest.raises(TypeError, match=r"tn\.tensor\(3\).*tn\.zeros\(3\)"):
        tn.Tensor(3)
    assert tn.Tensor(np.int64(3)).item() == 3 and tn.Tensor([3]).tolist() == [3]
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward(2)  # a Python number as the output gradient still works
    assert x.grad.tolist() == [4.0, 4.0]


def test_load_accepts_pytorchs_map_location_and_weights_only(tmp_path):
    layer = tn.nn.Linear(2, 2, rng=0)
    path = tmp_path / "layer.tnn"
    tn.save(layer.state_dict(), path)
    for options in ({"map_location": "cpu"}, {"weights_only": True}, {"weights_only": False}):
        state = tn.load(path, **options)
        np.testing.assert_array_equal(state["weight"], layer.weight.data)
    with pytest.raises(RuntimeError, match="CPU only"):
        tn.load(path, map_location="cuda:0")


def test_var_and_std_take_pytorchs_older_unbiased_keyword():
    x = tn.tensor([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]], dtype=tn.float64)
    np.testing.assert_allclose(x.var(dim=1, unbiased=False).data, np.var(x.data, axis=1))
    np.testing.assert_allclose(x.std(unbiased=True).data, np.std(x.data, ddof=1))
    np.testing.assert_allclose(tn.std(x, 0, unbiased=False).data, np.std(x.data, axis=0))


def test_an_optimizer_names_a_parameter_whose_data_was_assigned_a_tensor():
    layer = tn.nn.Linear(2, 1)
    layer.weight.data = tn.zeros(1, 2)  # PyTorch's habit; tinynet's .data is an ndarray
    with pytest.raises(TypeError, match=r"p\.data = tensor\.data"):
        tn.optim.SGD(layer.parameters(), lr=0.1)


def test_a_bool_in_the_place_of_rng_is_refused_not_taken_as_a_seed():
    # F.dropout(x, 0.5, True, False): PyTorch's 4th argument is inplace; as a seed it would
    # silently draw the same mask at every call.
    with pytest.raises(TypeError, match="got the bool False"):
        tn.nn.functional.dropout(tn.ones(8), 0.5, True, False)
    with pytest.raises(TypeError, match="bool"):
        tn.nn.Dropout(0.5, True)(tn.ones(8))


def test_values_of_a_max_over_a_dim_work_and_indices_name_argmax():
    x = f64([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
    values = x.max(dim=1).values  # PyTorch's named field
    assert values.tolist() == [5.0, 7.0] and values[1].item() == 7.0
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(AttributeError, match=r"x\.argmin\(dim\)"):
        _ = x.min(0).indices


def test_the_first_lines_of_a_pytorch_script_run():
    device = tn.device("cuda" if tn.cuda.is_available() else "cpu")
    assert device == "cpu" and tn.cuda.device_count() == 0
    model = tn.nn.Linear(2, 1).to(device)
    assert model(tn.ones(1, 2).to(device)).shape == (1, 1)
    assert tn.device("cuda", 0) == "cuda:0"  # naming a device is allowed, as in PyTorch
    with pytest.raises(RuntimeError, match="CPU only"):
        tn.zeros(1).to(tn.device("cuda", 0))
    with pytest.raises(RuntimeError, match="device type"):
        tn.device("gpu")


def test_pytorchs_dtype_spellings_name_the_same_dtypes():
    # torch.float is float32, torch.int int32, torch.long int64, torch.double float64, ...
    expected = {"float": np.float32, "double": np.float64, "half": np.float16}
    expected |= {"int": np.int32, "long": np.int64, "bool": np.bool_}
    for name, dtype in expected.items():
        assert getattr(tn, name) == dtype, name
    assert tn.tensor([1.5, -2.5]).to(tn.long).tolist() == [1, -2]  # truncation, as PyTorch


def test_amax_and_amin_share_the_gradient_among_ties_as_pytorch_documents():
    x = f64([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]], requires_grad=True)
    np.testing.assert_array_equal(x.amax(dim=1).data, x.data.max(axis=1))
    np.testing.assert_array_equal(x.amin(0, keepdim=True).data, x.data.min(0, keepdims=True))
    assert x.amax(dim=1)[0].item() == 3.0  # plain values: no (values, indices) pair to guard
    x.amax(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


def test_small_tensor_conveniences_follow_pytorch():
    x = f64([[1.0, 2.0], [3.0, 4.0]])
    assert x.is_floating_point() and not tn.tensor([1]).is_floating_point()
    assert tn.tensor([1, 2]).type_as(x).dtype == np.float64
    assert x.new_zeros(2, 3).dtype == np.float64 and x.new_zeros((2, 3)).shape == (2, 3)
    assert x.new_ones(2).tolist() == [1.0, 1.0] and x.new_full((2,), 7).tolist() == [7.0, 7.0]
    source = np.array([1.0, 2.0], np.float32)
    copied = x.new_tensor(source)
    assert copied.dtype == np.float64 and not np.shares_memory(copied.data, source)
    with pytest.raises(TypeError, match="tuple of ints"):
        x.new_zeros(2.5)
    assert tn.zeros(1, 2).expand_as(tn.zeros(3, 2)).shape == (3, 2)
    assert tn.arange(6).view_as(tn.zeros(2, 3)).shape == (2, 3)
    assert x.reshape_as(tn.zeros(4)).shape == (4,)
    m = f64([1.0, -2.0, 3.0])
    assert m.masked_fill_(m < 0, 0.0) is m and m.tolist() == [1.0, 0.0, 3.0] and m.version == 1
    with pytest.raises(RuntimeError, match="leaf Variable"):
        f64([1.0], requires_grad=True).masked_fill_(tn.tensor([True]), 0.0)


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("abs", np.abs), ("neg", np.negative), ("exp", np.exp), ("sqrt", np.sqrt),
        ("tanh", np.tanh), ("floor", np.floor), ("ceil", np.ceil), ("trunc", np.trunc),
        ("round", np.round), ("sign", np.sign), ("relu", lambda a: np.maximum(a, 0.0)),
        ("sigmoid", lambda a: 1.0 / (1.0 + np.exp(-a))), ("log", np.log),
    ],
)  # fmt: skip
def test_in_place_unary_ops_write_back_the_out_of_place_result(name, reference):
    values = np.array([0.25, 1.5, 2.5, 4.0]) * (1.0 if name in ("log", "sqrt") else -1.0)
    x = f64(values)
    data = x.data
    assert getattr(x, f"{name}_")() is x and x.data is data and x.version == 1
    np.testing.assert_allclose(x.data, reference(values), rtol=1e-12)


def test_in_place_unary_ops_follow_the_in_place_rules():
    with pytest.raises(RuntimeError, match=r"leaf Variable.*exp_"):
        f64([1.0], requires_grad=True).exp_()
    with pytest.raises(TypeError, match="can't be cast"):
        tn.tensor([4]).sqrt_()  # PyTorch: result type Float can't be cast to Long
    a = f64([1.0, 2.0], requires_grad=True)
    h = a * 3.0
    h.exp_()  # recorded on a non-leaf: h = exp(3 a)
    h.sum().backward()
    np.testing.assert_allclose(a.grad.data, 3.0 * np.exp(3.0 * a.data))
    g = (a * 1.0).exp_()
    g.pow_(2)  # exp's backward needs its output, which pow_ then changes: PyTorch raises too
    with pytest.raises(RuntimeError, match="output 0 of Exp"):
        g.sum().backward()


def test_a_uint8_tensor_index_is_refused_as_ambiguous():
    # PyTorch reads a uint8 index as a (deprecated) mask, NumPy as integer indices.
    x = f64([10.0, 20.0, 30.0])
    index = tn.tensor(np.array([1, 0, 1], np.uint8))
    with pytest.raises(IndexError, match=r"\.bool\(\).*\.long\(\)"):
        x[index]
    with pytest.raises(IndexError, match="uint8"):
        x[index] = 0.0
    assert x[index.bool()].tolist() == [10.0, 30.0] and x[index.long()].tolist() == [
        20.0,
        10.0,
        20.0,
    ]


def test_linspace_takes_pytorchs_steps_keyword():
    np.testing.assert_allclose(tn.linspace(-1, 1, steps=5).data, np.linspace(-1, 1, 5))
    with pytest.raises(TypeError, match="steps"):
        tn.linspace(0, 1)  # PyTorch requires steps too


def test_a_zero_dim_tensor_formats_as_its_number_as_in_pytorch():
    loss = f64(0.125)
    assert f"{loss:.2f}" == "0.12" and f"{loss}" == "0.125" and f"{tn.tensor(3):03d}" == "003"
    with pytest.raises(TypeError, match="format"):
        f"{f64([1.0, 2.0]):.2f}"  # PyTorch: only 0-d tensors take a format spec
