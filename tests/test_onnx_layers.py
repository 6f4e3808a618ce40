"""tinynet.onnx.export of the layers a CNN is made of, run by onnxruntime against tinynet's own
eval-mode forward, on one exported file at two batch sizes (the batch axis is dynamic)."""

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the test extras")
onnx = pytest.importorskip("onnx", reason="onnx is in the test extras")

TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def randomize(net, rng):
    """Weights, biases and running statistics away from their initial ones and zeros."""
    for name, tensor in [*net.named_parameters(), *net.named_buffers()]:
        if tensor is not None and tensor.data.dtype.kind == "f":
            size = tensor.data.shape
            tensor.data[...] = (
                rng.uniform(0.5, 1.5, size) if "var" in name else rng.normal(size=size)
            )
    return net


def check_export(net, shape, tmp_path, dtype=np.float32, integers=None, scale=1.0):
    """Export ``net`` with a batch of 2, run the file on batches of 2 and 5 in onnxruntime and
    compare with tinynet; return the ONNX node types."""
    rng = np.random.default_rng(0)
    net = randomize(net.to(np.dtype(dtype)), rng)
    if integers is None:
        x = (scale * rng.normal(size=(5, *shape))).astype(dtype)
    else:
        x = rng.integers(0, integers, size=(5, *shape))
    path = tmp_path / "net.onnx"
    model = tn.onnx.export(net, x[:2], path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    net.eval()
    for batch in (x[:2], x):
        want = net(tn.tensor(batch)).data
        (got,) = session.run(None, {"input": batch})
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **TOLERANCE[dtype])
    return [node.op_type for node in model.graph.node]


CONV1D = [
    nn.Conv1d(4, 3, 3),
    nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, bias=False),
    nn.Conv1d(4, 4, 4, padding="same", groups=4),  # even kernel: one more after than before
    nn.Conv1d(4, 2, 3, padding="valid", dilation=3),
    nn.Conv1d(4, 2, 2, padding=4),  # padding wider than the kernel
    nn.Conv1d(4, 5, 3, padding=2, padding_mode="reflect"),
    nn.Conv1d(4, 5, 3, stride=2, padding=3, padding_mode="replicate"),
    nn.Conv1d(4, 5, 2, padding="same", dilation=3, padding_mode="circular"),
]
CONV2D = [
    nn.Conv2d(4, 3, 3),
    nn.Conv2d(4, 8, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=4),
    nn.Conv2d(4, 3, (4, 3), padding="same", dilation=(2, 1), bias=False),
    nn.Conv2d(4, 2, 2, padding="valid", stride=(1, 2)),
    nn.Conv2d(4, 3, 3, padding=(1, 2), padding_mode="reflect"),
    nn.Conv2d(4, 3, 3, stride=2, padding=(2, 1), padding_mode="replicate"),
    nn.Conv2d(4, 3, 3, padding=(2, 1), dilation=(1, 2), padding_mode="circular"),
]


TRANSPOSED = [
    nn.ConvTranspose1d(4, 3, 3),
    nn.ConvTranspose1d(4, 6, 4, stride=2, padding=1, output_padding=1, groups=2, bias=False),
    nn.ConvTranspose1d(4, 2, 3, stride=3, padding=2, output_padding=2, dilation=2),
    nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
    nn.ConvTranspose2d(
        4, 4, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(1, 2),
        groups=2,
    ),
]  # fmt: skip


@pytest.mark.parametrize("conv", TRANSPOSED, ids=repr)
def test_transposed_convolutions(conv, tmp_path):
    shape = (4, 5) if isinstance(conv, nn.ConvTranspose1d) else (4, 4, 5)
    assert check_export(nn.Sequential(conv), shape, tmp_path)[0] == "ConvTranspose"


@pytest.mark.parametrize("conv", CONV1D + CONV2D, ids=repr)
def test_convolutions(conv, tmp_path):
    shape = (4, 9) if isinstance(conv, nn.Conv1d) else (4, 7, 8)
    ops = check_export(nn.Sequential(conv), shape, tmp_path)
    assert ops.count("Conv") == 1
    assert ("Pad" in ops) == (conv.padding_mode in ("reflect", "replicate"))
    assert ("Concat" in ops) == (conv.padding_mode == "circular")


POOLS = [
    (nn.MaxPool1d(2), (3, 9)),
    (nn.MaxPool1d(3, stride=2, padding=1, dilation=2), (3, 10)),
    (nn.MaxPool1d(2, ceil_mode=True), (3, 9)),
    (nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (3, 8, 9)),
    (nn.MaxPool2d((2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1)), (3, 7, 8)),
    (nn.MaxPool1d(2, stride=4, dilation=5, ceil_mode=True), (3, 11)),  # overhang > kernel
    (nn.AvgPool1d(3, stride=2, padding=1), (3, 9)),
    (nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False), (3, 9)),
    (nn.AvgPool1d(2, ceil_mode=True), (3, 9)),
    (nn.AvgPool2d(3, stride=2, padding=1), (3, 8, 9)),
    (nn.AvgPool2d((3, 2), stride=(2, 1), padding=(1, 1), count_include_pad=False), (3, 8, 9)),
    (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (3, 8, 8)),
    (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (3, 8, 8)),
    (nn.AvgPool2d(2, divisor_override=3), (3, 6, 7)),
    (nn.AdaptiveAvgPool2d(1), (3, 5, 7)),
    (nn.AdaptiveAvgPool2d((2, 3)), (3, 6, 9)),
    (nn.AdaptiveAvgPool2d((3, None)), (3, 5, 7)),
    (nn.AdaptiveAvgPool2d((4, 3)), (3, 6, 7)),
]


@pytest.mark.parametrize("pool, shape", POOLS, ids=[repr(p) for p, _ in POOLS])
def test_pooling(pool, shape, tmp_path):
    ops = check_export(nn.Sequential(pool), shape, tmp_path)
    if isinstance(pool, (nn.MaxPool1d, nn.MaxPool2d)):
        assert ops.count("MaxPool") == 1
        check_export(nn.Sequential(pool), shape, tmp_path, np.float64)  # onnxruntime has it
    if isinstance(pool, nn.AdaptiveAvgPool2d) and pool.output_size == 1:
        assert ops[0] == "GlobalAveragePool"


@pytest.mark.parametrize(
    "pool, shape, native",
    [
        (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (3, 7, 7), True),  # no overhang
        (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (3, 8, 8), False),
        (nn.AdaptiveAvgPool2d((2, 3)), (3, 6, 9), True),  # windows tile the input
        (nn.AdaptiveAvgPool2d((4, 3)), (3, 6, 7), False),
    ],
)
def test_average_pooling_is_averagepool_where_onnx_divides_as_pytorch(
    pool, shape, native, tmp_path
):
    ops = check_export(nn.Sequential(pool), shape, tmp_path)
    assert (ops[0] == "AveragePool") == native and ("MatMul" in ops) != native


NORMS = [
    (nn.BatchNorm1d(4), (4,)),
    (nn.BatchNorm1d(4, affine=False, eps=1e-3), (4, 6)),
    (nn.BatchNorm2d(3), (3, 4, 5)),
    (nn.BatchNorm3d(2), (2, 3, 2, 4)),
    (nn.BatchNorm2d(3, track_running_stats=False), (3, 4, 5)),
    (nn.LayerNorm(5), (3, 5)),
    (nn.LayerNorm((3, 5), bias=False, eps=1e-3), (3, 5)),
    (nn.LayerNorm(5, elementwise_affine=False), (2, 3, 5)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm, shape", NORMS, ids=[repr(n) for n, _ in NORMS])
def test_normalization_in_eval_mode(norm, shape, dtype, tmp_path):
    ops = check_export(nn.Sequential(norm), shape, tmp_path, dtype, scale=3.0)
    if norm.__class__.__name__.startswith("BatchNorm") and norm.track_running_stats:
        assert ops[0] == "BatchNormalization"


ACTIVATIONS = [
    nn.SELU(), nn.CELU(), nn.CELU(0.5), nn.ReLU6(), nn.Hardtanh(), nn.Hardtanh(-2.0, 1.5),
    nn.Hardsigmoid(), nn.Hardswish(), nn.Mish(), nn.Softsign(), nn.LogSigmoid(),
    nn.Softmin(dim=1), nn.ReLU6(inplace=True), nn.SiLU(), nn.GLU(), nn.GLU(dim=1),
]  # fmt: skip
IN_DOUBLE = (nn.CELU, nn.ReLU6, nn.Hardtanh)  # the others' ONNX ops run in float32 only


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=repr)
def test_activations(activation, tmp_path):
    # scale 4: both sides of the kinks at -3, -1, 0, 1, 3 and 6
    check_export(nn.Sequential(nn.Flatten(), activation), (2, 8), tmp_path, scale=4.0)
    if isinstance(activation, IN_DOUBLE):
        check_export(nn.Sequential(activation), (8,), tmp_path, np.float64, scale=4.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_takes_int64_indices(dtype, tmp_path):
    net = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.Flatten(), nn.Linear(12, 2))
    ops = check_export(net, (3,), tmp_path, dtype, integers=10)
    assert ops[0] == "Gather"
    model = onnx.load(tmp_path / "net.onnx")
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64


RESHAPES = [
    (nn.Flatten(2), (3, 4, 5)),
    (nn.Flatten(1, 2), (3, 4, 5)),
    (nn.Flatten(-2, -1), (3, 4)),
    (nn.Unflatten(1, (2, -1)), (6,)),
    (nn.Unflatten(-1, (3, 2)), (4, 6)),
]


@pytest.mark.parametrize("layer, shape", RESHAPES, ids=[repr(m) for m, _ in RESHAPES])
def test_flatten_and_unflatten(layer, shape, tmp_path):
    check_export(nn.Sequential(layer, nn.Tanh()), shape, tmp_path, np.float64)


def test_flatten_of_the_batch_axis(tmp_path):
    check_export(nn.Sequential(nn.Flatten(0), nn.Tanh()), (3, 4), tmp_path)
    (output,) = onnx.load(tmp_path / "net.onnx").graph.output
    assert output.type.tensor_type.shape.dim[0].dim_param != "batch"  # batch * 12 rows


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding="same", padding_mode="reflect"), nn.Hardswish(),
        nn.Dropout(0.3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3),
        nn.LogSoftmax(dim=1),
    )  # fmt: skip


def test_a_small_cnn(tmp_path):
    ops = check_export(small_cnn(), (1, 8, 8), tmp_path)
    assert ops[:4] == ["Conv", "BatchNormalization", "Relu", "MaxPool"]


def test_a_module_in_training_mode_exports_its_eval_mode_unchanged(tmp_path):
    # As torch.onnx.export by default: the inference graph (Dropout the identity,
    # BatchNorm's running statistics), the module's mode and statistics left as they were.
    net = randomize(small_cnn().to(tn.float32), np.random.default_rng(1))
    net.train()
    before = {k: v.copy() for k, v in net.state_dict().items()}
    x = np.random.default_rng(2).normal(size=(3, 1, 8, 8)).astype(np.float32)
    tn.onnx.export(net, x, tmp_path / "net.onnx")
    assert net.training and all(m.training for m in net.modules())
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    session = ort.InferenceSession(str(tmp_path / "net.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x})
    np.testing.assert_allclose(got, net.eval()(tn.tensor(x)).data, rtol=1e-5, atol=1e-5)


class Twice(nn.Module):
    def forward(self, input):
        return input * 2


class Doubled(nn.ReLU):
    def forward(self, input):
        return super().forward(input) * 2


class Reversed(nn.Sequential):
    def forward(self, input):
        for layer in reversed(self):
            input = layer(input)
        return input


@pytest.mark.parametrize(
    "net, shape, error, match",
    [
        (nn.Sequential(Twice()), (4,), NotImplementedError,
         "cannot export Twice: it exports nn.Sequential .*Conv2d, .*Linear"),
        (nn.Sequential(nn.GLU(dim=0)), (4,), NotImplementedError, r"GLU\(dim=0\)"),
        (nn.Sequential(Doubled()), (4,), NotImplementedError, "cannot export Doubled"),
        (Reversed(nn.Tanh(), nn.ReLU()), (4,), NotImplementedError, "cannot export Reversed"),
        (nn.Sequential(nn.MaxPool2d(2, return_indices=True)), (1, 4, 4), NotImplementedError,
         "return_indices=True"),
        (nn.Sequential(nn.Linear(4, 6), nn.Unflatten(0, (1, -1))), (4,), NotImplementedError,
         r"Unflatten\(dim=0\)"),
    ],
)  # fmt: skip
def test_refused_by_name(net, shape, error, match, tmp_path):
    x = np.ones((2, *shape), np.float32)
    with pytest.raises(error, match=match):
        tn.onnx.export(net.to(tn.float32), x, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_unbatched_input_and_integer_input_are_refused(tmp_path):
    conv = nn.Sequential(nn.Conv1d(2, 3, 3))
    with pytest.raises(ValueError, match=r"Conv1d gets input of shape \(2, 5\).*batched"):
        tn.onnx.export(conv, np.ones((2, 5)), tmp_path / "x.onnx")  # (C, L): one sample
    with pytest.raises(TypeError, match="integer inputs .* can only feed an Embedding"):
        tn.onnx.export(nn.Sequential(nn.ReLU()), np.ones((2, 5), np.int64), tmp_path / "x.onnx")


# -- resampling: Resize with PyTorch's source positions ---------------------------------------------
UPSAMPLES = [
    (nn.Upsample(scale_factor=2), (3, 5)),
    (nn.Upsample(size=7), (3, 5)),
    (nn.Upsample(scale_factor=1.5, mode="nearest"), (3, 5, 4)),  # positions use the factor
    (nn.Upsample(size=(3, 9)), (3, 7, 4)),  # one axis shrinks, the other grows
    (nn.Upsample(scale_factor=(2, 0.5), mode="nearest-exact"), (3, 5, 6)),
    (nn.Upsample(scale_factor=2, mode="linear"), (3, 5)),
    (nn.Upsample(size=1, mode="linear"), (3, 5)),  # an output of one reads the centre
    (nn.Upsample(size=13, mode="linear", align_corners=True), (3, 4)),
    (nn.Upsample(scale_factor=1.5, mode="bilinear"), (2, 5, 5)),
    (nn.Upsample(size=(4, 3), mode="bilinear", align_corners=True), (2, 7, 5)),
    (nn.Upsample(scale_factor=0.3, mode="bilinear", recompute_scale_factor=True), (2, 9, 9)),
    (nn.Upsample(scale_factor=2, mode="bicubic"), (2, 4, 5)),
    (nn.Upsample(size=(6, 2), mode="bicubic", align_corners=True), (2, 3, 5)),
    (nn.Upsample(scale_factor=2, mode="trilinear"), (2, 3, 2, 4)),
    (nn.Upsample(size=(2, 3, 5), mode="nearest"), (2, 3, 4, 4)),
    (nn.Upsample(size=(2, 3), mode="area"), (3, 5, 7)),  # adaptive average pooling
    (nn.UpsamplingNearest2d(scale_factor=3), (2, 3, 2)),
    (nn.UpsamplingBilinear2d(size=(5, 4)), (2, 3, 2)),  # corners aligned
]


@pytest.mark.parametrize("upsample, shape", UPSAMPLES, ids=[repr(u) for u, _ in UPSAMPLES])
def test_upsampling(upsample, shape, tmp_path):
    ops = check_export(upsample, shape, tmp_path)
    assert ("MatMul" if upsample.mode == "area" else "Resize") in ops


def test_a_small_encoder_decoder(tmp_path):
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.Conv2d(4, 1, 3, padding=1),
    )
    ops = check_export(net, (2, 8, 8), tmp_path)
    assert ops.count("Conv") == 2 and "Resize" in ops


# -- the small layers (GroupNorm, InstanceNorm, RMSNorm, PReLU, padding, pixel shuffles, ...) --
SMALL_LAYERS = [
    (nn.GroupNorm(2, 4), (4, 3, 2)),
    (nn.GroupNorm(4, 4, affine=False), (4, 5)),
    (nn.InstanceNorm1d(3, affine=True), (3, 5)),
    (nn.InstanceNorm2d(2, track_running_stats=True), (2, 3, 3)),
    (nn.RMSNorm((2, 3)), (4, 2, 3)),
    (nn.PReLU(3), (3, 4)),
    (nn.PReLU(), (5,)),
    (nn.Threshold(0.2, -1.0), (6,)),
    (nn.PixelShuffle(2), (8, 2, 3)),
    (nn.PixelUnshuffle(2), (2, 4, 6)),
    (nn.ZeroPad2d((1, 0, 2, 1)), (2, 3, 3)),
    (nn.ConstantPad1d((2, -1), 0.5), (2, 4)),
    (nn.ReflectionPad1d((2, 1)), (2, 4)),
    (nn.ReflectionPad2d(1), (1, 3, 3)),
    (nn.ReplicationPad2d((0, 2, 1, 1)), (2, 2, 3)),
    (nn.AdaptiveAvgPool1d(3), (2, 7)),
    (nn.AdaptiveAvgPool1d(2), (2, 6)),
    (nn.AdaptiveMaxPool1d(1), (2, 5)),
    (nn.AdaptiveMaxPool2d((2, 3)), (2, 4, 6)),
    (nn.Dropout2d(0.5), (2, 3, 3)),
    (nn.AlphaDropout(0.5), (4,)),
]


@pytest.mark.parametrize("layer, shape", SMALL_LAYERS, ids=lambda v: repr(v).split("(")[0])
def test_small_layers(layer, shape, tmp_path):
    check_export(nn.Sequential(layer), shape, tmp_path)


@pytest.mark.parametrize(
    "layer, shape, match",
    [
        (nn.Bilinear(2, 2, 3), (2,), "cannot export Bilinear"),
        (nn.AdaptiveMaxPool2d(3), (1, 4, 4), "equal windows"),
        (nn.AdaptiveMaxPool1d(2, return_indices=True), (1, 4), "return_indices"),
        (nn.ReflectionPad1d((-1, 2)), (1, 4), "negative widths"),
    ],
)
def test_small_layers_refused_by_name(layer, shape, match, tmp_path):
    x = np.zeros((2, *shape), np.float32)
    with pytest.raises(NotImplementedError, match=match):
        tn.onnx.export(nn.Sequential(layer.to(tn.float32)), x, tmp_path / "net.onnx")


# -- the layers of s11B: Conv3d, Softmax2d, ChannelShuffle, LocalResponseNorm, EmbeddingBag, ... --
def check_new_layer(layer, shape, tmp_path, dtype=np.float32, **options):
    """``check_export`` of ``layer`` alone, the file also passing onnx.checker's full check
    (shape inference included)."""
    ops = check_export(nn.Sequential(layer), shape, tmp_path, dtype, **options)
    onnx.checker.check_model(onnx.load(tmp_path / "net.onnx"), full_check=True)
    return ops


CONV3D = [
    nn.Conv3d(2, 3, 3),
    nn.Conv3d(2, 4, (2, 3, 1), stride=(1, 2, 2), padding=(1, 0, 2), dilation=(2, 1, 1), groups=2),
    nn.Conv3d(2, 3, (2, 3, 2), padding="same", bias=False),  # even kernels: the extra after
    nn.Conv3d(2, 3, 3, padding=(1, 2, 0), padding_mode="reflect"),
    nn.Conv3d(2, 3, 3, stride=2, padding=1, padding_mode="replicate"),
    nn.Conv3d(2, 3, 3, padding=(2, 0, 1), dilation=(1, 2, 1), padding_mode="circular"),
]


@pytest.mark.parametrize("conv", CONV3D, ids=repr)
def test_conv3d(conv, tmp_path):
    ops = check_new_layer(conv, (2, 4, 5, 6), tmp_path)
    assert ops.count("Conv") == 1
    assert ("Pad" in ops) == (conv.padding_mode in ("reflect", "replicate"))
    assert ("Concat" in ops) == (conv.padding_mode == "circular")


def test_conv3d_in_float64_is_valid_onnx(tmp_path):
    # onnxruntime (1.32) has no float64 Conv kernel: the graph is checked, not run
    x = np.ones((2, 2, 4, 5, 6))
    conv = nn.Conv3d(2, 3, 3, padding=1).to(tn.float64)
    model = tn.onnx.export(nn.Sequential(conv), x, tmp_path / "n.onnx")
    onnx.checker.check_model(model, full_check=True)
    output = model.graph.output[0].type.tensor_type
    assert output.elem_type == onnx.TensorProto.DOUBLE
    assert [d.dim_value for d in output.shape.dim][1:] == [3, 4, 5, 6]


NEW_LAYERS = [
    (nn.Softmax2d(), (3, 4, 5)),
    (nn.ChannelShuffle(3), (6, 4, 5)),
    (nn.ChannelShuffle(2), (6, 4)),
    (nn.ChannelShuffle(2), (4, 2, 3, 2)),
    (nn.LocalResponseNorm(3, alpha=0.7, beta=0.6, k=1.5), (6, 3, 4)),  # LRN in float32
    (nn.LocalResponseNorm(5), (7, 2, 3)),
    (nn.LocalResponseNorm(1, alpha=2.0, beta=1.0), (3, 2, 2)),
    (nn.LocalResponseNorm(2, alpha=0.7, beta=0.6, k=1.5), (6, 3, 4)),  # even: composed
    (nn.LocalResponseNorm(4, alpha=0.9, beta=0.8, k=0.5), (5, 3, 4)),
    (nn.LocalResponseNorm(3, alpha=0.7, beta=0.6, k=1.5), (6, 5)),  # 3-D: composed
    (nn.LocalResponseNorm(4, alpha=0.7, beta=0.6, k=1.5), (6, 2, 3, 2)),  # 5-D: composed
    (nn.Unfold(2), (3, 4, 4)),
    (nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), (3, 5, 6)),
    (nn.Fold((4, 4), 2), (8, 9)),
    (nn.Fold((5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), (18, 12)),
    (nn.Fold((5, 5), 3, stride=2), (9, 4)),  # blocks overlap: sums
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer, shape", NEW_LAYERS, ids=[repr(m) for m, _ in NEW_LAYERS])
def test_new_layers(layer, shape, dtype, tmp_path):
    ops = check_new_layer(layer, shape, tmp_path, dtype, scale=2.0)
    native_lrn = (
        isinstance(layer, nn.LocalResponseNorm) and layer.size % 2 and len(shape) == 3
    )  # 4-D with the batch axis, odd size: onnxruntime's LRN, float32 only
    assert ("LRN" in ops) == bool(native_lrn and dtype == np.float32)


def test_local_response_norm_is_onnx_lrn_with_alpha_over_size():
    # ONNX's LRN divides alpha by size as PyTorch does: a closed form, one channel of 2 at 3
    # and two zero neighbours, size 3: 2 / (k + alpha / 3 * 4) ** beta.
    layer = nn.LocalResponseNorm(3, alpha=0.6, beta=0.5, k=1.0)
    x = np.zeros((1, 3, 1, 1), np.float32)
    x[0, 1] = 2.0
    model = tn.onnx.export(nn.Sequential(layer), x, None)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x})
    assert [n.op_type for n in model.graph.node][0] == "LRN"
    np.testing.assert_allclose(got[0, 1, 0, 0], 2.0 / (1.0 + 0.6 / 3 * 4) ** 0.5, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_bag(mode, padding_idx, dtype, tmp_path):
    # indices 0..3 with padding_idx 1: some bags hold padding, some (likely) only padding
    bag = nn.EmbeddingBag(6, 3, mode=mode, padding_idx=padding_idx)
    ops = check_new_layer(bag, (3,), tmp_path, dtype, integers=4 if padding_idx else 6)
    assert ops[0] == "Gather"


def test_a_bag_of_words_classifier(tmp_path):
    net = nn.Sequential(
        nn.EmbeddingBag(20, 4, mode="mean", include_last_offset=True), nn.ReLU(), nn.Linear(4, 2)
    )
    ops = check_export(net, (5,), tmp_path, integers=20)
    assert ops[:3] == ["Gather", "ReduceSum", "Div"]


def test_embedding_bag_with_only_padding_and_per_sample_weights(tmp_path):
    rng = np.random.default_rng(3)
    for mode in ("sum", "mean", "max"):
        bag = randomize(nn.EmbeddingBag(5, 2, mode=mode, padding_idx=0), rng).to(tn.float32)
        indices = np.array([[0, 0], [0, 3], [2, 4]])  # an empty bag first: zeros
        model = tn.onnx.export(bag, indices, None)
        session = ort.InferenceSession(model.SerializeToString())
        (got,) = session.run(None, {"input": indices})
        np.testing.assert_allclose(got, bag(tn.tensor(indices)).data, rtol=1e-6)
        assert not got[0].any()
    bag = randomize(nn.EmbeddingBag(5, 2, mode="sum").to(tn.float64), rng)
    indices, weights = rng.integers(0, 5, size=(4, 3)), rng.normal(size=(4, 3))
    model = tn.onnx.export(bag, (indices[:2], weights[:2]), tmp_path / "bag.onnx")
    assert [i.name for i in model.graph.input] == ["input", "per_sample_weights"]
    session = ort.InferenceSession(str(tmp_path / "bag.onnx"))
    (got,) = session.run(None, {"input": indices, "per_sample_weights": weights})
    want = bag(tn.tensor(indices), per_sample_weights=tn.tensor(weights)).data
    np.testing.assert_allclose(got, want, **TOLERANCE[np.float64])


@pytest.mark.parametrize(
    "layer, example, error, match",
    [
        (nn.EmbeddingBag(5, 2), np.array([0, 2, 3]), NotImplementedError,
         r"EmbeddingBag on 2-D input \(batch, bag_length\)"),
        (nn.Softmax2d(), np.ones((3, 4, 5), np.float32), ValueError, "batched input of 4 axes"),
        (nn.ChannelShuffle(4), np.ones((2, 6, 3), np.float32), tn.ShapeError, "divisible"),
        (nn.Fold((4, 4), 2), np.ones((8, 9), np.float32), ValueError, "batched input of 3 axes"),
    ],
)  # fmt: skip
def test_new_layers_refused_by_name(layer, example, error, match, tmp_path):
    with pytest.raises(error, match=match):
        tn.onnx.export(layer, example, tmp_path / "net.onnx")
    assert not (tmp_path / "net.onnx").exists()


def test_embedding_bag_offsets_refused_by_name(tmp_path):
    with pytest.raises(NotImplementedError, match="no offsets; got offsets"):
        tn.onnx.export(
            nn.EmbeddingBag(5, 2), np.array([[0, 2]]), tmp_path / "net.onnx",
            kwargs={"offsets": np.array([0])},
        )  # fmt: skip
