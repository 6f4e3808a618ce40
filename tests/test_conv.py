"""Convolution and pooling beyond the OpInfo properties: PyTorch's conventions (max-pool
ties, indices, unbatched inputs), adjointness of conv and conv_transpose, errors, and the
nn modules' parameters and initialization."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet.testing import check_gradients_property, tensors


def t(array, requires_grad=False):
    return tn.Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


# -- max-pool ties: PyTorch's convention, the first maximum of each window -----------------------
def test_max_pool2d_tie_sends_the_gradient_to_the_first_maximum_in_row_major_order():
    x = t([[[[0.0, 2.0], [2.0, 2.0]]]], requires_grad=True)
    tn.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[0.0, 1.0], [0.0, 0.0]]]])


def test_overlapping_windows_with_ties_each_pick_their_own_first_maximum():
    # Windows [0:2] and [1:3] of [5, 5, 5]: the first window picks element 0, the second
    # element 1; PyTorch's CPU kernel gives the same gradient [1, 1, 0].
    x = t([[[5.0, 5.0, 5.0]]], requires_grad=True)
    tn.max_pool1d(x, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[1.0, 1.0, 0.0]]])


def test_a_maximum_shared_by_overlapping_windows_gets_both_gradients():
    x = t([[[0.0, 3.0, 1.0]]], requires_grad=True)
    y = tn.max_pool1d(x, 2, stride=1)
    (y * t([[[2.0, 5.0]]])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[0.0, 7.0, 0.0]]])


def test_max_pool_padding_is_minus_infinity_and_nan_propagates():
    x = t([[[-5.0, -7.0]]])
    assert tn.max_pool1d(x, 2, padding=1).tolist() == [[[-5.0, -7.0]]]
    assert np.isnan(tn.max_pool1d(t([[[1.0, np.nan, 0.0, 2.0]]]), 2).data[0, 0, 0])


@given(
    data=st.data(),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 2),
    padding=st.integers(0, 1),
    dilation=st.integers(1, 2),
)
def test_max_pool2d_indices_point_at_the_returned_maxima(data, kernel, stride, padding, dilation):
    padding = min(padding, kernel // 2)
    size = data.draw(st.integers(dilation * (kernel - 1) + 1, 6))
    x = np.random.default_rng(data.draw(st.integers(0, 99))).standard_normal((2, 3, size, size))
    y, indices = tn.max_pool2d(t(x), kernel, stride, padding, dilation, return_indices=True)
    assert indices.dtype == np.int64 and indices.shape == y.shape
    flat = x.reshape(2, 3, -1)
    np.testing.assert_array_equal(
        np.take_along_axis(flat, indices.data.reshape(2, 3, -1), axis=2).reshape(y.shape), y.data
    )


# -- conv and conv_transpose ----------------------------------------------------------------------
@given(
    stride=st.integers(1, 3),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 2),
    groups=st.sampled_from([1, 2]),
    seed=st.integers(0, 99),
)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(stride, padding, dilation, groups, seed):
    # <conv(x, w), y> == <x, conv_transpose(y, w)>: the defining property of the transpose.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2 * groups, 7, 6))
    w = rng.standard_normal((3 * groups, 2, 3, 2))
    y = tn.conv2d(t(x), t(w), stride=stride, padding=padding, dilation=dilation, groups=groups)
    cotangent = rng.standard_normal(y.shape)
    full = [
        (n - 1) * stride + dilation * (k - 1) + 1 - 2 * padding for n, k in zip(y.shape[2:], (3, 2))
    ]
    extra = tuple(size - f for size, f in zip(x.shape[2:], full))
    back = tn.conv_transpose2d(
        t(cotangent), t(w), stride=stride, padding=padding, output_padding=extra,
        groups=groups, dilation=dilation,
    )  # fmt: skip
    assert back.shape == x.shape
    np.testing.assert_allclose((y.data * cotangent).sum(), (x * back.data).sum(), rtol=1e-12)


def test_conv_same_padding_keeps_the_size_with_an_even_kernel_as_pytorch():
    # PyTorch pads an odd total with the extra element after: for kernel 2 that is (0, 1).
    x = t([[[1.0, 2.0, 3.0]]])
    y = tn.conv1d(x, t([[[1.0, 10.0]]]), padding="same")
    assert y.tolist() == [[[21.0, 32.0, 3.0]]]


def test_unbatched_inputs_give_the_batched_result_without_the_batch_axis():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    np.testing.assert_array_equal(tn.conv2d(t(x), t(w)).data, tn.conv2d(t(x[None]), t(w)).data[0])
    np.testing.assert_array_equal(tn.max_pool2d(t(x), 2).data, tn.max_pool2d(t(x[None]), 2).data[0])
    np.testing.assert_array_equal(tn.avg_pool2d(t(x), 2).data, tn.avg_pool2d(t(x[None]), 2).data[0])


def test_float32_stays_float32_through_conv_and_pooling():
    x = tn.ones(1, 2, 5, 5, dtype=tn.float32, requires_grad=True)
    w = tn.ones(3, 2, 3, 3, dtype=tn.float32, requires_grad=True)
    y = tn.avg_pool2d(tn.max_pool2d(tn.conv2d(x, w, padding=1), 2, padding=1), 2)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def ones(*shape, dtype=None):
    return tn.ones(*shape, dtype=dtype)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: tn.conv2d(ones(1, 3, 5, 5), ones(4, 2, 3, 3)), tn.ShapeError, "groups"),
        (lambda: tn.conv2d(ones(1, 4, 5, 5), ones(4, 2, 3, 3), groups=3), tn.ShapeError, "groups"),
        (lambda: tn.conv2d(ones(5, 5), ones(1, 1, 3, 3)), tn.ShapeError, "4-D input"),
        (lambda: tn.conv2d(ones(1, 1, 2, 2), ones(1, 1, 3, 3)), tn.ShapeError, "smaller"),
        (lambda: tn.conv2d(ones(1, 1, 5, 5), ones(1, 1, 3, 3), tn.ones(2)), tn.ShapeError, "bias"),
        (lambda: tn.conv2d(ones(1, 1, 5, 5), ones(1, 1, 3, 3), stride=0), ValueError, "stride"),
        (
            lambda: tn.conv2d(ones(1, 1, 5, 5), ones(1, 1, 3, 3), stride=2, padding="same"),
            ValueError,
            "strided",
        ),
        (
            lambda: tn.conv2d(ones(1, 1, 5, 5), ones(1, 1, 3, 3), padding="full"),
            ValueError,
            "'same'",
        ),
        (
            lambda: tn.conv_transpose2d(ones(1, 1, 3, 3), ones(1, 1, 3, 3), output_padding=1),
            ValueError,
            "output_padding",
        ),
        (lambda: tn.max_pool2d(ones(1, 1, 4, 4), 2, padding=2), ValueError, "half"),
        (lambda: tn.max_pool2d(ones(1, 1, 4, 4, dtype=tn.int64), 2), TypeError, "floating"),
        (lambda: tn.avg_pool2d(ones(1, 1, 1, 1), 3), tn.ShapeError, "too small"),
    ],
)
def test_bad_arguments_raise_pytorchs_exception_types_with_the_fix(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- nn modules -----------------------------------------------------------------------------------
def test_conv2d_parameters_have_pytorchs_names_shapes_and_init_bounds():
    conv = nn.Conv2d(4, 6, (3, 2), groups=2, rng=0)
    state = conv.state_dict()
    assert sorted(state) == ["bias", "weight"]
    assert state["weight"].shape == (6, 2, 3, 2) and state["bias"].shape == (6,)
    bound = 1 / math.sqrt(2 * 3 * 2)  # kaiming-uniform(a=sqrt 5) and the bias share it
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.8 * bound  # uniform over the whole range
    assert conv.weight.dtype == tn.get_default_dtype()


def test_conv_transpose2d_weight_is_in_by_out_over_groups():
    up = nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2, bias=False, rng=0)
    assert up.weight.shape == (4, 3, 3, 3) and up.bias is None
    assert np.abs(up.weight.data).max() <= 1 / math.sqrt(3 * 9)
    assert up(tn.ones(1, 4, 3, 3)).shape == (1, 6, 7, 7)


def test_modules_compute_their_functional_form():
    rng = np.random.default_rng(1)
    x = t(rng.standard_normal((2, 2, 6, 6)))
    # float64 layers for float64 inputs: a layer refuses another dtype (docs/tensors.md)
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1, dilation=1, rng=0, dtype=np.float64)
    np.testing.assert_array_equal(conv(x).data, F.conv2d(x, conv.weight, conv.bias, 2, 1).data)
    conv1 = nn.Conv1d(2, 3, 2, dilation=2, rng=0, dtype=np.float64)
    x1 = t(rng.standard_normal((2, 2, 6)))
    np.testing.assert_array_equal(
        conv1(x1).data, F.conv1d(x1, conv1.weight, conv1.bias, dilation=2).data
    )
    np.testing.assert_array_equal(nn.MaxPool2d(3, 2, 1)(x).data, F.max_pool2d(x, 3, 2, 1).data)
    np.testing.assert_array_equal(nn.AvgPool2d(2, 1)(x).data, F.avg_pool2d(x, 2, 1).data)
    np.testing.assert_array_equal(
        nn.AdaptiveAvgPool2d((2, 3))(x).data, F.adaptive_avg_pool2d(x, (2, 3)).data
    )
    y, where = nn.MaxPool2d(2, return_indices=True)(x)
    assert where.shape == y.shape


@pytest.mark.parametrize(
    "layer, shape",
    [
        (nn.Conv1d(2, 3, 3), (1, 2, 5)),
        (nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (1, 2, 5, 5)),
        (nn.ConvTranspose1d(2, 3, 3), (1, 2, 5)),
        (nn.ConvTranspose2d(2, 3, 3), (1, 2, 5, 5)),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, nn.Module) else "",
)
def test_conv_layers_refuse_an_input_of_another_dtype_as_linear_does(layer, shape):
    # docs/tensors.md: a float64 input into a float32 layer (or integers) is a DTypeError
    # naming both dtypes and the fix, never a silent float64 model (PyTorch raises too).
    with pytest.raises(tn.DTypeError, match="input is float64 but weight is float32"):
        layer(np.ones(shape))
    with pytest.raises(tn.DTypeError, match="input is int64"):
        layer(np.ones(shape, np.int64))
    assert layer(np.ones(shape, np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "function, weight_shape",
    [(F.conv1d, (2, 1, 2)), (F.conv2d, (2, 1, 2, 2)), (F.conv_transpose2d, (1, 2, 2, 2))],
    ids=["conv1d", "conv2d", "conv_transpose2d"],
)
def test_functional_convolutions_refuse_operands_of_different_dtypes(function, weight_shape):
    # PyTorch raises ("Input type ... and weight type ... should be the same"); promoting
    # would silently run float32 weights in float64.
    x = tn.ones(1, 1, *(4,) * (len(weight_shape) - 2))  # one channel in, two out
    weight = tn.ones(*weight_shape)
    with pytest.raises(tn.DTypeError, match="input is float64 but weight is float32"):
        function(x.double(), weight)
    with pytest.raises(tn.DTypeError, match="input is float32 but bias is float64"):
        function(x, weight, tn.ones(2).double())
    assert function(x.double(), weight.double()).dtype == tn.float64


def test_module_arguments_are_checked_as_pytorch_does():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="only padding_mode='zeros'"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(TypeError, match="kernel_size"):
        nn.Conv2d(1, 1, (3, 3, 3))
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")


def test_unflatten_inverts_flatten():
    x = t(np.arange(24.0).reshape(2, 3, 4))
    flat = nn.Flatten()(x)
    np.testing.assert_array_equal(nn.Unflatten(1, (3, 4))(flat).data, x.data)
    np.testing.assert_array_equal(nn.Unflatten(-1, (-1, 2))(flat).data, x.data.reshape(2, 6, 2))
    with pytest.raises(ValueError, match="multiply"):
        nn.Unflatten(1, (5, 5))(flat)
    with pytest.raises(TypeError, match="tuple"):
        nn.Unflatten(1, 12)


def test_a_small_cnn_trains_its_conv_weights():
    # Every parameter of a conv-pool-linear stack gets a gradient of its own shape.
    net = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.ConvTranspose2d(2, 2, 2, stride=2, rng=1), nn.AdaptiveAvgPool2d(2),
        nn.Flatten(), nn.Linear(8, 3, rng=2),
    )  # fmt: skip
    loss = F.cross_entropy(net(tn.randn(4, 1, 6, 6, rng=3)), tn.tensor([0, 1, 2, 0]))
    loss.backward()
    for name, parameter in net.named_parameters():
        assert parameter.grad is not None and parameter.grad.shape == parameter.shape, name


def test_a_conv_stack_is_right_to_second_order_in_its_parameters():
    # Smooth layers only (max-pool ties are kinks): every parameter, first and second order.
    net = nn.Sequential(
        nn.Conv2d(1, 2, 2, padding=1, rng=0), nn.Tanh(), nn.AvgPool2d(2, stride=1),
        nn.ConvTranspose2d(2, 1, 2, stride=2, rng=1), nn.AdaptiveAvgPool2d((2, 1)),
    )  # fmt: skip
    check_gradients_property(net, tensors(shape=(1, 1, 3, 3)), settings=settings(max_examples=5))


# -- padding_mode: PyTorch pads the input (np.pad's modes) and convolves without padding -------
def _correlate2d(x, weight, bias):
    """Cross-correlation of (N, C, H, W) with (O, C, kH, kW), stride 1, by NumPy windows."""
    windows = np.lib.stride_tricks.sliding_window_view(x, weight.shape[2:], axis=(2, 3))
    return np.einsum("nchwij,ocij->nohw", windows, weight) + bias[:, None, None]


@pytest.mark.parametrize(("mode", "numpy_mode"), [("reflect", "reflect"),
                         ("replicate", "edge"), ("circular", "wrap")])  # fmt: skip
@pytest.mark.parametrize(("kernel", "padding", "widths"), [
    (3, 1, ((1, 1), (1, 1))),
    ((2, 3), (1, 2), ((1, 1), (2, 2))),
    (4, "same", ((1, 2), (1, 2))),  # an odd total: the extra row and column go after
])  # fmt: skip
def test_padding_modes_pad_the_input_as_numpy_then_convolve(
    mode, numpy_mode, kernel, padding, widths
):
    conv = nn.Conv2d(2, 3, kernel, padding=padding, padding_mode=mode, dtype=np.float64, rng=0)
    x = np.random.default_rng(1).standard_normal((2, 2, 5, 6))
    padded = np.pad(x, ((0, 0), (0, 0), *widths), mode=numpy_mode)
    expected = _correlate2d(padded, conv.weight.data, conv.bias.data)
    np.testing.assert_allclose(conv(t(x)).data, expected, rtol=1e-12, atol=1e-12)
    assert f"padding_mode={mode!r}" in repr(conv)
    assert tn.gradcheck(conv, (t(x[:1, :, :4, :4], requires_grad=True),))


def test_padding_mode_of_conv1d_and_an_unbatched_input():
    conv = nn.Conv1d(1, 1, 3, padding=2, padding_mode="reflect", bias=False, dtype=np.float64)
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    padded = np.pad(x, ((0, 0), (2, 2)), mode="reflect")  # [3 2 1 2 3 4 3 2]
    w = conv.weight.data[0, 0]
    expected = [w @ padded[0, i : i + 3] for i in range(6)]
    np.testing.assert_allclose(conv(t(x)).data[0], expected, rtol=1e-12)
