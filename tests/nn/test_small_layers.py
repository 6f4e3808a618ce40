"""The small torch.nn layers and losses: GroupNorm, InstanceNorm, RMSNorm, PReLU, Threshold,
the channel and alpha dropouts, adaptive pools, pixel shuffles, padding layers, Bilinear and
eight losses. Checked against NumPy formulas written from PyTorch's documentation, finite
differences, and PyTorch's documented defaults, parameter names and conventions at kinks.
(Forward, first and second order on drawn inputs: the OpInfo entries in test_ops.py.)"""

import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet.errors import ShapeError


def randn(*shape, seed=0, requires_grad=False):
    data = np.random.default_rng(seed).standard_normal(shape)
    return tn.Tensor(data, requires_grad=requires_grad)


def module_gradcheck(module, *inputs):
    """Finite differences of first and second order through the module's parameters (via
    ``functional_call``) and its inputs, in float64."""
    module.double()
    names = [name for name, _ in module.named_parameters()]
    params = [tn.Tensor(p.data.copy(), requires_grad=True) for p in module.parameters()]

    def through(*tensors):
        chosen = dict(zip(names, tensors[: len(names)]))
        return nn.utils.functional_call(module, chosen, tuple(tensors[len(names) :]))

    checked = (*params, *inputs)
    return tn.gradcheck(through, checked) and tn.gradgradcheck(through, checked)


# -- every name the task lists exists ------------------------------------------------------------
MODULES = """GroupNorm InstanceNorm1d InstanceNorm2d RMSNorm PReLU Threshold Dropout1d Dropout2d
AlphaDropout AdaptiveAvgPool1d AdaptiveMaxPool1d AdaptiveMaxPool2d PixelShuffle PixelUnshuffle
ZeroPad2d ConstantPad1d ConstantPad2d ReflectionPad1d ReflectionPad2d ReplicationPad1d
ReplicationPad2d Bilinear MarginRankingLoss HingeEmbeddingLoss CosineEmbeddingLoss
TripletMarginLoss PoissonNLLLoss SoftMarginLoss MultiLabelSoftMarginLoss MultiMarginLoss""".split()
FUNCTIONS = """group_norm instance_norm rms_norm prelu threshold dropout1d dropout2d alpha_dropout
adaptive_max_pool1d adaptive_max_pool2d pixel_shuffle pixel_unshuffle bilinear
margin_ranking_loss hinge_embedding_loss cosine_embedding_loss triplet_margin_loss
poisson_nll_loss soft_margin_loss multilabel_soft_margin_loss multi_margin_loss""".split()


def test_every_name_exists_and_is_exported():
    assert not [name for name in MODULES if not hasattr(nn, name) or name not in nn.__all__]
    assert not [name for name in FUNCTIONS if not hasattr(F, name) or name not in F.__all__]


def test_every_differentiable_functional_has_an_opinfo_entry():
    from tinynet.testing.opinfo import OPS

    covered = {name for op in OPS for name in op.covers}
    random = {"dropout1d", "dropout2d", "alpha_dropout"}  # tested below, by their statistics
    assert sorted(set(FUNCTIONS) - random - covered) == []


# -- GroupNorm, InstanceNorm, RMSNorm --------------------------------------------------------------
def group_norm_reference(x, groups, weight, bias, eps=1e-5):
    grouped = x.reshape(x.shape[0], groups, -1)
    normalized = (grouped - grouped.mean(2, keepdims=True)) / np.sqrt(
        grouped.var(2, keepdims=True) + eps
    )
    column = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return normalized.reshape(x.shape) * weight.reshape(column) + bias.reshape(column)


def test_group_norm_matches_the_formula_in_train_and_eval_alike():
    gn = nn.GroupNorm(2, 6).double()
    gn.weight.data[:] = np.arange(1.0, 7.0)
    gn.bias.data[:] = -np.arange(6.0)
    x = randn(3, 6, 4, 2)
    expected = group_norm_reference(x.data, 2, gn.weight.data, gn.bias.data)
    np.testing.assert_allclose(gn(x).data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gn.eval()(x).data, expected, rtol=1e-12, atol=1e-12)


def test_group_norm_parameters_state_dict_and_errors():
    gn = nn.GroupNorm(3, 6)
    assert sorted(gn.state_dict()) == ["bias", "weight"]
    assert gn.weight.dtype == np.float32 and gn.weight.tolist() == [1.0] * 6
    assert gn.bias.tolist() == [0.0] * 6
    assert repr(gn) == "GroupNorm(3, 6, eps=1e-05, affine=True)"
    assert list(nn.GroupNorm(3, 6, affine=False).state_dict()) == []
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ShapeError, match=r"expected input of shape \(N, 6, \*\)"):
        gn(tn.ones(2, 4, 3))
    with pytest.raises(ShapeError, match="num_groups=4"):
        F.group_norm(tn.ones(2, 6, 3), 4)


def test_group_norm_gradients_by_finite_differences():
    assert module_gradcheck(nn.GroupNorm(2, 4), randn(2, 4, 3, requires_grad=True))


def test_instance_norm_defaults_have_no_state_and_normalize_each_channel():
    norm = nn.InstanceNorm1d(3)
    assert list(norm.state_dict()) == []
    x = randn(2, 3, 5)
    mean, var = x.data.mean(2, keepdims=True), x.data.var(2, keepdims=True)
    np.testing.assert_allclose(norm(x).data, (x.data - mean) / np.sqrt(var + 1e-5), atol=1e-12)
    unbatched = norm(x[0])  # (C, L): one sample
    np.testing.assert_allclose(unbatched.data, norm(x).data[0], atol=1e-12)
    assert repr(norm) == (
        "InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)"
    )


def test_instance_norm_tracks_running_stats_as_pytorch():
    norm = nn.InstanceNorm2d(2, affine=True, track_running_stats=True).double()
    assert sorted(norm.state_dict()) == [
        "bias", "num_batches_tracked", "running_mean", "running_var", "weight",
    ]  # fmt: skip
    x = randn(3, 2, 2, 3)
    norm(x)
    per_instance_mean = x.data.mean((2, 3))
    per_instance_var = x.data.var((2, 3), ddof=1)  # unbiased, averaged over the batch
    np.testing.assert_allclose(norm.running_mean.data, 0.1 * per_instance_mean.mean(0))
    np.testing.assert_allclose(norm.running_var.data, 0.9 + 0.1 * per_instance_var.mean(0))
    norm.eval()  # the running statistics normalize
    y = randn(1, 2, 2, 3, seed=1)
    column = (1, 2, 1, 1)
    expected = (y.data - norm.running_mean.data.reshape(column)) / np.sqrt(
        norm.running_var.data.reshape(column) + 1e-5
    )
    np.testing.assert_allclose(norm(y).data, expected, atol=1e-12)


def test_instance_norm_errors_and_warning():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.InstanceNorm1d(3)(tn.ones(1, 3, 2, 2))
    with pytest.raises(ValueError, match=r"dim=1 to match num_features \(3\)"):
        nn.InstanceNorm1d(3, affine=True)(tn.ones(2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(tn.ones(2, 4, 5))
    for norm in (nn.InstanceNorm1d(3), nn.InstanceNorm1d(3, track_running_stats=True)):
        with pytest.raises(ValueError, match="more than 1 spatial element"):
            norm(tn.ones(2, 3, 1))


def test_instance_norm_gradients_by_finite_differences():
    assert module_gradcheck(nn.InstanceNorm1d(2, affine=True), randn(2, 2, 3, requires_grad=True))


def test_rms_norm_matches_the_formula_with_the_dtype_epsilon_by_default():
    norm = nn.RMSNorm((2, 3))
    assert norm.eps is None and list(norm.state_dict()) == ["weight"]
    x = randn(4, 2, 3).to(tn.float32)
    eps = np.finfo(np.float32).eps
    expected = x.data / np.sqrt((x.data**2).mean((1, 2), keepdims=True) + eps)
    np.testing.assert_allclose(norm(x).data, expected, rtol=1e-6)
    assert list(nn.RMSNorm(3, elementwise_affine=False).state_dict()) == []
    with pytest.raises(ShapeError, match=r"trailing shape \(2, 3\)"):
        norm(tn.ones(3, 2))
    assert module_gradcheck(nn.RMSNorm(3, eps=1e-3), randn(2, 3, requires_grad=True))


# -- PReLU, Threshold ----------------------------------------------------------------------------
def test_prelu_one_slope_per_channel_with_gradients():
    act = nn.PReLU(3, init=0.1)
    assert act.weight.tolist() == pytest.approx([0.1] * 3) and list(act.state_dict()) == ["weight"]
    act.weight.data[:] = [0.1, 0.2, 0.3]
    x = randn(2, 3, 4).to(tn.float32)
    expected = np.where(x.data > 0, x.data, np.array([0.1, 0.2, 0.3]).reshape(3, 1) * x.data)
    np.testing.assert_allclose(act(x).data, expected, rtol=1e-6)
    assert module_gradcheck(nn.PReLU(3), randn(2, 3, requires_grad=True) + 0.05)
    with pytest.raises(ShapeError, match="3 slopes but the input .* has 4 channels"):
        act(tn.ones(2, 4))


def test_prelu_at_zero_takes_the_negative_side():
    x = tn.tensor([0.0, 0.0], requires_grad=True)
    weight = tn.tensor([0.25], requires_grad=True)
    grad_x, grad_w = tn.grad(F.prelu(x, weight).sum(), (x, weight))
    assert grad_x.tolist() == [0.25, 0.25] and grad_w.tolist() == [0.0]


def test_threshold_values_gradient_at_the_threshold_and_inplace():
    x = tn.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = nn.Threshold(1.0, -3.0)(x)
    assert y.tolist() == [-3.0, -3.0, 2.0]
    assert tn.grad(y.sum(), x)[0].tolist() == [0.0, 0.0, 1.0]  # 0 at x == threshold
    z = tn.tensor([0.5, 2.0])
    assert nn.Threshold(1.0, 0.0, inplace=True)(z) is z and z.tolist() == [0.0, 2.0]
    assert repr(nn.Threshold(0.1, 20)) == "Threshold(threshold=0.1, value=20)"


# -- dropouts ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cls, shape",
    [(nn.Dropout1d, (20, 50, 3)), (nn.Dropout1d, (400, 3)), (nn.Dropout2d, (20, 50, 2, 2))],
)
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(cls, shape):
    drop = cls(0.3, rng=0)
    y = drop(tn.ones(*shape)).data
    spatial = (1,) if cls is nn.Dropout1d else (2, 3)
    spatial = tuple(range(len(shape) - len(spatial), len(shape)))
    per_channel = y.reshape(*y.shape[: len(shape) - len(spatial)], -1)
    assert np.all(per_channel == per_channel[..., :1])  # a channel is dropped or kept whole
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((per_channel[..., 0] == 0).mean() - 0.3) < 0.05
    assert drop.eval()(tn.ones(*shape)).tolist() == np.ones(shape).tolist()


def test_channel_dropout_edge_cases_and_errors():
    assert F.dropout1d(tn.ones(2, 3, 4), p=1.0).tolist() == np.zeros((2, 3, 4)).tolist()
    x = tn.ones(2, 3, 4)
    assert F.dropout1d(x, p=0.0) is x and F.dropout1d(x, training=False) is x
    with pytest.raises(ShapeError, match="expected a 3-D input"):
        F.dropout1d(tn.ones(2, 3, 4, 5))
    with pytest.raises(ShapeError, match="expected a 4-D input"):
        F.dropout2d(tn.ones(2, 3, 4, 5, 6))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.warns(UserWarning, match=r"taken as \(N, C, L\)"):
        y = F.dropout2d(tn.ones(4, 30, 5), p=0.5, rng=0)
    assert np.all(y.data == y.data[..., :1])
    inplace = tn.ones(1, 4, 2)
    assert F.dropout1d(inplace, rng=3, inplace=True) is inplace
    assert inplace.tolist() == F.dropout1d(tn.ones(1, 4, 2), rng=3).tolist()


def test_alpha_dropout_keeps_zero_mean_and_unit_variance():
    x = randn(200_000)
    y = nn.AlphaDropout(0.2, rng=0)(x).data
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1.0) < 0.01
    alpha = 1.7580993408473766  # SELU's scale * alpha
    a = ((1 - 0.2) * (1 + 0.2 * alpha**2)) ** -0.5
    dropped = a * -alpha + a * alpha * 0.2  # where every dropped unit lands
    assert abs(np.isclose(y, dropped).mean() - 0.2) < 0.01
    kept = ~np.isclose(y, dropped)
    np.testing.assert_allclose(y[kept], a * x.data[kept] + a * alpha * 0.2, rtol=1e-12)
    assert F.alpha_dropout(x, 0.2) is x  # the functional form defaults to training=False
    assert nn.AlphaDropout(0.2).eval()(x) is x
    assert F.alpha_dropout(tn.ones(3), 1.0, training=True).tolist() == [0.0, 0.0, 0.0]


# -- adaptive pools ------------------------------------------------------------------------------
def test_adaptive_max_pool_windows_indices_and_first_maximum_at_ties():
    x = tn.tensor([[[1.0, 3.0, 3.0, 0.0, 5.0]]], requires_grad=True)
    y, where = nn.AdaptiveMaxPool1d(3, return_indices=True)(x)
    # windows [0, 2), [1, 4), [3, 5): PyTorch's floor/ceil bounds
    assert y.tolist() == [[[3.0, 3.0, 5.0]]] and where.tolist() == [[[1, 1, 4]]]
    assert tn.grad(y.sum(), x)[0].tolist() == [[[0.0, 2.0, 0.0, 0.0, 1.0]]]
    image = randn(2, 3, 5, 7)
    y2, where2 = F.adaptive_max_pool2d(image, (2, None), return_indices=True)
    assert y2.shape == where2.shape == (2, 3, 2, 7)
    flat = image.data.reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, where2.data.reshape(2, 3, -1), 2),
                                  y2.data.reshape(2, 3, -1))  # fmt: skip
    assert nn.AdaptiveAvgPool1d(2)(randn(3, 5)).shape == (3, 2)


# -- pixel shuffles, padding, bilinear -------------------------------------------------------------
def test_pixel_shuffle_places_channel_blocks_and_unshuffle_inverts_it():
    x = randn(2, 1, 8, 3, 2)
    y = nn.PixelShuffle(2)(x)
    assert y.shape == (2, 1, 2, 6, 4)
    # out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w]
    assert y.data[1, 0, 1, 2 * 2 + 1, 1 * 2 + 0] == x.data[1, 0, 1 * 4 + 1 * 2 + 0, 2, 1]
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(y).data, x.data)
    with pytest.raises(ShapeError, match=r"divisible by upscale_factor\*\*2 = 4"):
        F.pixel_shuffle(tn.ones(1, 6, 2, 2), 2)
    with pytest.raises(ShapeError, match="divisible by downscale_factor = 2"):
        F.pixel_unshuffle(tn.ones(1, 1, 3, 2), 2)
    with pytest.raises(ValueError, match="positive int"):
        nn.PixelShuffle(0)(x)


@pytest.mark.parametrize(
    "layer, shape, widths, mode",
    [
        (nn.ZeroPad2d(1), (1, 2, 3, 3), ((1, 1), (1, 1)), "constant"),
        (nn.ZeroPad2d((1, 0, 2, 3)), (2, 3, 3), ((2, 3), (1, 0)), "constant"),
        (nn.ConstantPad1d((2, 1), 3.5), (2, 3, 4), ((2, 1),), "constant"),
        (nn.ConstantPad2d(2, -1.0), (3, 3), ((2, 2), (2, 2)), "constant"),
        (nn.ReflectionPad1d((2, 1)), (2, 3, 4), ((2, 1),), "reflect"),
        (nn.ReflectionPad2d((1, 2, 0, 1)), (1, 2, 3, 4), ((0, 1), (1, 2)), "reflect"),
        (nn.ReplicationPad1d(3), (3, 2), ((3, 3),), "edge"),  # wider than the axis: allowed
        (nn.ReplicationPad2d((0, 2, 1, 1)), (2, 2, 3), ((1, 1), (0, 2)), "edge"),
    ],
)
def test_padding_layers_match_numpy_pad(layer, shape, widths, mode):
    x = randn(*shape)
    full = [(0, 0)] * (len(shape) - len(widths)) + list(widths)
    options = {"constant_values": layer.value} if mode == "constant" else {}
    np.testing.assert_array_equal(layer(x).data, np.pad(x.data, full, mode=mode, **options))


def test_padding_layers_refuse_bad_widths_and_ranks():
    with pytest.raises(ValueError, match=r"4 ints \(left, right, top, bottom\)"):
        nn.ReflectionPad2d((1, 2))
    with pytest.raises(ShapeError, match="expected a 2-D or 3-D input"):
        nn.ReflectionPad1d(1)(tn.ones(1, 1, 2, 3))
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ConstantPad1d(2, 0.5)) == "ConstantPad1d(padding=(2, 2), value=0.5)"


def test_bilinear_matches_einsum_with_pytorch_init_and_gradients():
    layer = nn.Bilinear(3, 2, 4, rng=0)
    assert layer.weight.shape == (4, 3, 2) and layer.bias.shape == (4,)
    assert sorted(layer.state_dict()) == ["bias", "weight"]
    bound = 1 / np.sqrt(3)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    x1, x2 = randn(5, 3).to(tn.float32), randn(5, 2, seed=1).to(tn.float32)
    expected = np.einsum("ni,oij,nj->no", x1.data, layer.weight.data, x2.data) + layer.bias.data
    np.testing.assert_allclose(layer(x1, x2).data, expected, rtol=1e-5, atol=1e-6)
    assert module_gradcheck(nn.Bilinear(2, 2, 2, rng=1), randn(3, 2, requires_grad=True),
                            randn(3, 2, seed=2, requires_grad=True))  # fmt: skip
    with pytest.raises(ShapeError, match="share their leading"):
        layer(tn.ones(5, 3), tn.ones(4, 2))


# -- losses ----------------------------------------------------------------------------------------
def grad_of(loss_fn, *inputs):
    tensors = [tn.tensor(np.asarray(x, np.float64), requires_grad=True) for x in inputs]
    return [g.tolist() for g in tn.grad(loss_fn(*tensors), tensors)]


def test_loss_modules_call_their_functions_with_pytorch_defaults():
    x1, x2, x3 = randn(4, 3), randn(4, 3, seed=1), randn(4, 3, seed=2)
    signs = tn.tensor([1.0, -1.0, -1.0, 1.0])
    classes = np.array([0, 2, 1, 2])
    labels = tn.tensor((np.random.default_rng(3).random((4, 3)) > 0.5).astype(np.float64))
    cases = [
        (nn.MarginRankingLoss(), F.margin_ranking_loss(x1[:, 0], x2[:, 0], signs, 0.0),
         (x1[:, 0], x2[:, 0], signs)),
        (nn.HingeEmbeddingLoss(), F.hinge_embedding_loss(x1, x1.sign(), 1.0), (x1, x1.sign())),
        (nn.CosineEmbeddingLoss(), F.cosine_embedding_loss(x1, x2, signs, 0.0), (x1, x2, signs)),
        (nn.TripletMarginLoss(), F.triplet_margin_loss(x1, x2, x3, 1.0, 2.0, 1e-6, False),
         (x1, x2, x3)),
        (nn.PoissonNLLLoss(), F.poisson_nll_loss(x1, x2.abs(), True, False), (x1, x2.abs())),
        (nn.SoftMarginLoss(), F.soft_margin_loss(x1, x2.sign()), (x1, x2.sign())),
        (nn.MultiLabelSoftMarginLoss(), F.multilabel_soft_margin_loss(x1, labels), (x1, labels)),
        (nn.MultiMarginLoss(), F.multi_margin_loss(x1, classes, 1, 1.0), (x1, classes)),
    ]  # fmt: skip
    for module, expected, inputs in cases:
        assert module.reduction == "mean"
        assert module(*inputs).item() == expected.item(), type(module).__name__


def test_losses_against_their_documented_formulas():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    sign = rng.choice((-1.0, 1.0), (3, 4))
    got = F.margin_ranking_loss(tn.tensor(x), tn.tensor(y), tn.tensor(sign), 0.3).item()
    assert got == pytest.approx(np.maximum(0, -sign * (x - y) + 0.3).mean(), rel=1e-12)
    got = F.hinge_embedding_loss(tn.tensor(x), tn.tensor(sign), 0.5, reduction="sum").item()
    assert got == pytest.approx(np.where(sign == 1, x, np.maximum(0, 0.5 - x)).sum(), rel=1e-12)
    got = F.soft_margin_loss(tn.tensor(x), tn.tensor(sign), reduction="none").data
    np.testing.assert_allclose(got, np.log1p(np.exp(-sign * x)), rtol=1e-12)
    counts = rng.poisson(2.0, (3, 4)).astype(np.float64)
    got = F.poisson_nll_loss(tn.tensor(np.exp(x)), tn.tensor(counts), log_input=False, full=True)
    stirling = (
        counts * np.log(np.maximum(counts, 1))
        - counts
        + 0.5 * np.log(2 * np.pi * np.maximum(counts, 1))
    )
    expected = np.exp(x) - counts * np.log(np.exp(x) + 1e-8) + np.where(counts > 1, stirling, 0)
    assert got.item() == pytest.approx(expected.mean(), rel=1e-12)
    target = np.array([2, 0, 3])
    got = F.multi_margin_loss(tn.tensor(x), target, p=2, margin=0.5, reduction="none").data
    hinge = np.maximum(0, 0.5 - x[np.arange(3), target][:, None] + x) ** 2
    hinge[np.arange(3), target] = 0
    np.testing.assert_allclose(got, hinge.sum(1) / 4, rtol=1e-12)


def test_losses_at_their_hinges_follow_pytorch():
    # margin_ranking, hinge_embedding, cosine_embedding and triplet clamp at 0 (the gradient
    # passes there); multi_margin's hinge counts only z > 0.
    d = grad_of(lambda a, b: F.margin_ranking_loss(a, b, tn.tensor([1.0]), 0.0), [1.0], [1.0])
    assert d == [[-1.0], [1.0]]
    assert grad_of(lambda x: F.hinge_embedding_loss(x, tn.tensor([-1.0]), 1.0), [1.0]) == [[-1.0]]
    assert grad_of(lambda x: F.multi_margin_loss(x, np.array(0)), [1.0, 0.0]) == [[0.0, 0.0]]
    a, p, n = [0.0, 0.0], [3.0, 4.0], [3.0, 4.0]  # d(a, p) - d(a, n) + margin = margin > 0
    got = grad_of(lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=0.0, eps=0.0), a, p, n)
    assert np.allclose(got[1], [0.6, 0.8]) and np.allclose(got[2], [-0.6, -0.8])
    got = grad_of(
        lambda a, b: F.cosine_embedding_loss(a, b, tn.tensor(-1.0), 0.0), [1.0, 0.0], [0.0, 1.0]
    )
    assert np.allclose(got[0], [0.0, 1.0])  # cos = margin: the slope of cos passes


def test_loss_errors_name_the_problem():
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(tn.ones(2, 3), np.array([0, 1]), p=3)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    for bad in (3, -1):
        with pytest.raises(IndexError, match=f"target {bad} is out of bounds for 3 classes"):
            F.multi_margin_loss(tn.ones(2, 3), np.array([0, bad]))
    with pytest.raises(ShapeError, match="same number of dimensions"):
        F.margin_ranking_loss(tn.ones(3), tn.ones(3), tn.ones(1, 3))
    with pytest.raises(ShapeError, match=r"\(N, D\) with a target of shape"):
        F.cosine_embedding_loss(tn.ones(2, 3), tn.ones(2, 3), tn.ones(2, 1))
    with pytest.raises(ShapeError, match="same number of dimensions"):
        F.triplet_margin_loss(tn.ones(2, 3), tn.ones(3), tn.ones(2, 3))
    with pytest.raises(ValueError, match="reduction must be"):
        nn.SoftMarginLoss(reduction="avg")


def test_multi_margin_and_multilabel_weights_are_buffers():
    loss = nn.MultiMarginLoss(weight=tn.tensor([1.0, 2.0, 3.0]))
    assert list(loss.state_dict()) == ["weight"] and not loss.weight.requires_grad
    x = randn(2, 3)
    expected = F.multi_margin_loss(x, np.array([2, 1]), weight=tn.tensor([1.0, 2.0, 3.0]))
    assert loss(x, np.array([2, 1])).item() == expected.item()
    assert list(nn.MultiLabelSoftMarginLoss(tn.ones(3)).state_dict()) == ["weight"]


# -- in a network -----------------------------------------------------------------------------------
def test_the_new_layers_train_in_a_network():
    net = nn.Sequential(nn.Conv1d(2, 4, 3, rng=0), nn.GroupNorm(2, 4), nn.PReLU(4),
                        nn.Dropout1d(0.2, rng=1), nn.Flatten(), nn.Linear(8, 1, rng=2))  # fmt: skip
    optimizer = tn.optim.SGD(net.parameters(), lr=0.1)
    x, y = randn(6, 2, 4).to(tn.float32), randn(6, 1, seed=1).to(tn.float32)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = F.mse_loss(net(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.eval()(x)


def test_second_order_at_the_kinks_follows_the_first_order_masks():
    # PyTorch differentiates each first-order rule with its masks held: 0 at the hinge, and
    # prelu's slope to x (weight, on the negative side at 0) varies with weight at rate 1.
    x = tn.tensor([0.0], requires_grad=True)
    weight = tn.tensor([0.25], requires_grad=True)
    (grad_x,) = tn.grad(F.prelu(x, weight).sum(), x, create_graph=True)
    by_x, by_weight = tn.grad(grad_x.sum(), (x, weight), allow_unused=True)
    assert (by_x is None or by_x.tolist() == [0.0]) and by_weight.tolist() == [1.0]
    hinges = [
        lambda v: F.margin_ranking_loss(v, tn.tensor([0.0]), tn.tensor([1.0])),
        lambda v: F.hinge_embedding_loss(v + 1.0, tn.tensor([-1.0])),
        lambda v: F.multi_margin_loss(tn.stack([v[0] + 1.0, tn.zeros(1)[0]]), np.array(0), p=2),
        lambda v: F.threshold(v, 0.0, 5.0).sum(),
    ]
    for loss in hinges:
        point = tn.tensor([0.0], requires_grad=True)
        (slope,) = tn.grad(loss(point), point, create_graph=True)
        if slope.requires_grad:  # else the slope is a constant: curvature 0
            (curvature,) = tn.grad(slope.sum(), point, allow_unused=True)
            assert curvature is None or curvature.tolist() == [0.0]


def test_a_compiled_step_with_the_small_layers_replays_bit_identically_to_eager():
    from tinynet import optim

    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((4, 2, 6)), rng.poisson(1.0, (4, 1)) * 1.0) for _ in range(5)]

    def run(compiled):
        model = nn.Sequential(
            nn.ReplicationPad1d(1), nn.Conv1d(2, 4, 3, dtype=tn.float64, rng=0),
            nn.GroupNorm(2, 4, dtype=tn.float64), nn.PReLU(4, dtype=tn.float64),
            nn.Dropout1d(0.3, rng=1), nn.InstanceNorm1d(4, affine=True, dtype=tn.float64),
            nn.AdaptiveMaxPool1d(3), nn.Flatten(), nn.AlphaDropout(0.2, rng=2),
            nn.Linear(12, 1, dtype=tn.float64, rng=3),
        )  # fmt: skip
        opt = optim.SGD(model.parameters(), lr=0.05)

        def step(x, y):
            loss = F.poisson_nll_loss(model(tn.Tensor(x)), tn.Tensor(y))
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


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: nn.GroupNorm(2, 4), (3, 4, 5)),
        (lambda: nn.InstanceNorm2d(2, affine=True, track_running_stats=True), (3, 2, 2, 2)),
        (lambda: nn.RMSNorm((2, 2)), (3, 2, 2)),
        (lambda: nn.PReLU(4), (3, 4)),
        (lambda: nn.MultiLabelSoftMarginLoss(tn.ones(4)), None),
    ],
)
def test_state_dicts_load_under_pytorch_keys(make, shape):
    rng = np.random.default_rng(0)
    source = make()
    state = {key: rng.uniform(0.5, 1.5, value.shape).astype(value.dtype)
             for key, value in source.state_dict().items()}  # fmt: skip
    if "num_batches_tracked" in state:
        state["num_batches_tracked"] = np.array(7, np.int64)
    target = make()
    target.load_state_dict(state)
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value.data, state[key])
    if shape is not None:
        x = tn.tensor(rng.standard_normal(shape).astype(np.float32))
        target.eval()
        assert target(x).shape == shape
