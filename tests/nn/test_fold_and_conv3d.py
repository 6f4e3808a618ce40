"""F.unfold / F.fold (im2col / col2im), nn.Unfold / nn.Fold, F.conv3d and nn.Conv3d beyond
the OpInfo properties: fold is unfold's adjoint, a convolution is a product with unfold's
columns, conv3d against a direct loop, PyTorch's padding modes, shapes and errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F


def t(array, requires_grad=False):
    return tn.Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


# -- unfold and fold ------------------------------------------------------------------------------
@st.composite
def block_setups(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 7))
        for k, d, p in zip(kernel, dilation, padding)
    )
    return {"kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride}, size


@settings(max_examples=40)
@given(setup=block_setups(), channels=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_fold_is_the_adjoint_of_unfold(setup, channels, seed):
    # <fold(a), b> == <a, unfold(b)> for any a, b: col2im is im2col's transpose.
    kwargs, size = setup
    rng = np.random.default_rng(seed)
    b = rng.standard_normal((2, channels, *size))
    unfolded = F.unfold(t(b), **kwargs)
    a = rng.standard_normal(unfolded.shape)
    folded = F.fold(t(a), size, **kwargs)
    assert folded.shape == b.shape
    np.testing.assert_allclose(
        np.vdot(folded.data, b), np.vdot(a, unfolded.data), rtol=1e-12, atol=1e-12
    )


def test_unfold_rows_are_channel_then_kernel_offset_and_columns_are_blocks_in_row_major_order():
    x = np.arange(2 * 3 * 4, dtype=np.float64).reshape(1, 2, 3, 4)
    columns = F.unfold(t(x), (2, 3)).data  # blocks at (0, 0), (0, 1), (1, 0), (1, 1)
    assert columns.shape == (1, 2 * 2 * 3, 2 * 2)
    for c in range(2):
        for i in range(2):
            for j in range(3):
                for a in range(2):
                    for b in range(2):
                        assert columns[0, c * 6 + i * 3 + j, a * 2 + b] == x[0, c, a + i, b + j]


def test_a_convolution_is_its_weights_times_unfolds_columns():
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 2, 3))
    kwargs = {"dilation": (2, 1), "padding": (1, 0), "stride": (1, 2)}
    columns = F.unfold(t(x), (2, 3), **kwargs)
    product = (t(weight.reshape(4, -1)) @ columns).data
    expected = F.conv2d(t(x), t(weight), **kwargs).data
    np.testing.assert_allclose(product.reshape(expected.shape), expected, rtol=1e-12, atol=1e-12)


def test_fold_of_unfold_of_ones_counts_the_blocks_covering_each_pixel():
    # PyTorch's documented way to normalize fold(unfold(x)) back to x.
    counts = F.fold(F.unfold(tn.ones(1, 1, 4, 4), 3, padding=1), (4, 4), 3, padding=1)
    corner, edge, inner = 4.0, 6.0, 9.0
    assert counts[0, 0].tolist() == [
        [corner, edge, edge, corner],
        [edge, inner, inner, edge],
        [edge, inner, inner, edge],
        [corner, edge, edge, corner],
    ]


def test_unbatched_inputs_give_the_batched_result_without_the_batch_axis():
    x = np.random.default_rng(2).standard_normal((2, 4, 5))
    unfolded = F.unfold(t(x), 2, stride=2, padding=1)
    np.testing.assert_array_equal(unfolded.data, F.unfold(t(x[None]), 2, 1, 1, 2).data[0])
    assert unfolded.shape == (8, 9)
    folded = F.fold(unfolded, (4, 5), 2, padding=1, stride=2)
    np.testing.assert_array_equal(folded.data, F.fold(unfolded[None], (4, 5), 2, 1, 1, 2).data[0])
    # stride 2 with a kernel of 2: the blocks tile the padded input, so fold inverts unfold
    np.testing.assert_array_equal(folded.data, x)


def test_float32_stays_float32_and_gradients_flow_to_second_order():
    x = tn.randn(1, 2, 3, 3, rng=0, requires_grad=True)
    y = F.fold(F.unfold(x, 2) * 2.0, 3, 2)
    assert y.dtype == np.float32
    (grad,) = tn.grad((y * y).sum(), x, create_graph=True)
    assert grad.dtype == np.float32 and grad.requires_grad
    x64 = t(np.random.default_rng(3).standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert tn.gradgradcheck(lambda x: F.fold(F.unfold(x, 2, 1, 1) ** 2, (3, 4), 2, 1, 1), (x64,))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: F.unfold(tn.ones(3, 3), 2), RuntimeError, "4-D input"),
        (lambda: F.unfold(tn.ones(1, 1, 2, 2), 3), RuntimeError, "sliding blocks"),
        (lambda: F.unfold(tn.ones(1, 1, 4, 4), 0), ValueError, "kernel_size must be at least 1"),
        (lambda: F.unfold(tn.ones(1, 1, 4, 4), 2, padding=-1), ValueError, "padding"),
        (lambda: F.fold(tn.ones(1, 5, 4), (3, 3), 2), RuntimeError, "divisible by the product"),
        (lambda: F.fold(tn.ones(1, 4, 5), (3, 3), 2), RuntimeError, "2 \\* 2 = 4 sliding"),
        (lambda: F.fold(tn.ones(1, 1, 4, 1), (3, 3), 2), RuntimeError, "3-D input"),
        (lambda: F.fold(tn.ones(1, 4, 4), (3, 3, 3), 2), ValueError, "output_size"),
    ],
)
def test_bad_arguments_raise_pytorchs_exception_types_naming_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_the_modules_compute_the_functions_and_show_their_arguments():
    x = t(np.random.default_rng(4).standard_normal((2, 3, 5, 5)))
    unfold = nn.Unfold(kernel_size=(2, 3), dilation=2, padding=1, stride=(1, 2))
    columns = unfold(x)
    np.testing.assert_array_equal(columns.data, F.unfold(x, (2, 3), 2, 1, (1, 2)).data)
    fold = nn.Fold(output_size=(5, 5), kernel_size=(2, 3), dilation=2, padding=1, stride=(1, 2))
    np.testing.assert_array_equal(
        fold(columns).data, F.fold(columns, (5, 5), (2, 3), 2, 1, (1, 2)).data
    )
    assert repr(unfold) == "Unfold(kernel_size=(2, 3), dilation=2, padding=1, stride=(1, 2))"
    assert repr(fold) == (
        "Fold(output_size=(5, 5), kernel_size=(2, 3), dilation=2, padding=1, stride=(1, 2))"
    )
    assert list(unfold.state_dict()) == [] and list(fold.parameters()) == []


# -- conv3d -------------------------------------------------------------------------------------
def conv3d_loop(x, weight, bias, stride, padding, dilation, groups):
    """Cross-correlation by a direct loop over every output element and kernel tap."""
    x = np.pad(x, ((0, 0), (0, 0), *((p, p) for p in padding)))
    out_channels, in_per, *kernel = weight.shape
    out_per = out_channels // groups
    size = [
        (n - d * (k - 1) - 1) // s + 1 for n, k, d, s in zip(x.shape[2:], kernel, dilation, stride)
    ]
    out = np.zeros((x.shape[0], out_channels, *size))
    for n, o, i, j, k in np.ndindex(*out.shape):
        group = o // out_per
        total = 0.0 if bias is None else bias[o]
        for c, a, b, e in np.ndindex(in_per, *kernel):
            total += (
                weight[o, c, a, b, e]
                * x[
                    n,
                    group * in_per + c,
                    i * stride[0] + a * dilation[0],
                    j * stride[1] + b * dilation[1],
                    k * stride[2] + e * dilation[2],
                ]
            )
        out[n, o, i, j, k] = total
    return out


@pytest.mark.parametrize(
    ("in_channels", "out_channels", "kernel", "stride", "padding", "dilation", "groups", "bias"),
    [
        (2, 3, (2, 3, 2), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1, True),
        (2, 4, (3, 1, 2), (2, 1, 2), (1, 0, 1), (1, 2, 1), 2, False),
        (3, 3, (1, 2, 2), (1, 2, 1), (0, 1, 0), (2, 1, 1), 3, True),
    ],
)
def test_conv3d_matches_a_direct_loop(
    in_channels, out_channels, kernel, stride, padding, dilation, groups, bias
):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, in_channels, 5, 4, 5))
    weight = rng.standard_normal((out_channels, in_channels // groups, *kernel))
    b = rng.standard_normal(out_channels) if bias else None
    got = F.conv3d(t(x), t(weight), None if b is None else t(b), stride, padding, dilation, groups)
    expected = conv3d_loop(x, weight, b, stride, padding, dilation, groups)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-12)


def test_conv3d_same_padding_puts_the_odd_element_after_as_pytorch():
    rng = np.random.default_rng(6)
    x, weight = rng.standard_normal((1, 1, 4, 3, 5)), rng.standard_normal((1, 1, 2, 3, 4))
    got = F.conv3d(t(x), t(weight), padding="same")
    assert got.shape == x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (0, 1), (1, 1), (1, 2)))
    expected = conv3d_loop(padded, weight, None, (1, 1, 1), (0, 0, 0), (1, 1, 1), 1)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-12)
    assert F.conv3d(t(x), t(weight), padding="valid").shape == (1, 1, 3, 1, 2)
    with pytest.raises(ValueError, match="strided"):
        F.conv3d(t(x), t(weight), stride=2, padding="same")


def test_conv3d_of_an_unbatched_input_and_its_errors():
    x, weight = tn.ones(2, 3, 3, 3), tn.ones(4, 2, 2, 2, 2)
    assert F.conv3d(x, weight).shape == (4, 2, 2, 2)
    assert tn.conv3d is F.conv3d
    with pytest.raises(RuntimeError, match="5-D input"):
        F.conv3d(tn.ones(2, 3, 3), weight)
    with pytest.raises(RuntimeError, match="does not fit weight"):
        F.conv3d(tn.ones(1, 3, 3, 3, 3), weight)


@pytest.mark.parametrize(
    ("mode", "numpy_mode"), [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")]
)
def test_conv3d_padding_modes_pad_the_input_as_numpy_then_convolve(mode, numpy_mode):
    conv = nn.Conv3d(2, 2, (2, 3, 2), padding=(1, 1, 0), padding_mode=mode, dtype=np.float64, rng=0)
    x = np.random.default_rng(7).standard_normal((1, 2, 3, 4, 3))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1), (0, 0)), mode=numpy_mode)
    expected = conv3d_loop(
        padded, conv.weight.data, conv.bias.data, (1,) * 3, (0,) * 3, (1,) * 3, 1
    )
    np.testing.assert_allclose(conv(t(x)).data, expected, rtol=1e-12, atol=1e-12)
    assert f"padding_mode={mode!r}" in repr(conv)


def test_conv3d_module_has_pytorchs_parameters_init_bounds_and_functional_form():
    conv = nn.Conv3d(4, 6, (3, 2, 1), stride=(1, 2, 1), groups=2, rng=0)
    state = conv.state_dict()
    assert sorted(state) == ["bias", "weight"]
    assert state["weight"].shape == (6, 2, 3, 2, 1) and state["bias"].shape == (6,)
    bound = 1 / math.sqrt(2 * 3 * 2 * 1)  # kaiming-uniform(a=sqrt 5) and the bias share it
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.7 * bound
    x = tn.randn(2, 4, 5, 6, 3, rng=1)
    np.testing.assert_array_equal(
        conv(x).data, F.conv3d(x, conv.weight, conv.bias, (1, 2, 1), 0, 1, 2).data
    )
    assert repr(conv) == "Conv3d(4, 6, kernel_size=(3, 2, 1), stride=(1, 2, 1), groups=2)"
    with pytest.raises(TypeError, match="a tuple of 3 ints"):
        nn.Conv3d(1, 1, (3, 3))


def test_a_conv3d_layer_is_right_to_second_order_in_its_parameters():
    conv = nn.Conv3d(1, 2, 2, dtype=np.float64, rng=0)
    x = t(np.random.default_rng(8).standard_normal((1, 1, 2, 3, 2)))
    weight, bias = conv.weight, conv.bias
    assert tn.gradgradcheck(lambda w, b: F.conv3d(x, w, b).tanh(), (weight, bias))
