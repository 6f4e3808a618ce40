"""tinynet.onnx.export of recurrent layers, attention and transformer encoders, run by
onnxruntime against tinynet's own eval-mode forward on one exported file at two batch sizes
and two sequence lengths (both axes dynamic), every output compared."""

import numpy as np
import pytest

import tinynet as tn
from tinynet import nn

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the test extras")
onnx = pytest.importorskip("onnx", reason="onnx is in the test extras")


def flat(result):
    if result is None:
        return []
    if isinstance(result, tuple):
        return [array for part in result for array in flat(part)]
    return [result.data]


TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def check_export(
    net, shapes, tmp_path, kwargs=None, self_attention=False, lengths=(7, 4), dtype=np.float32
):
    """Export ``net`` on examples of batch 2; run the file on batches 2 and 5 and sequences
    of ``lengths`` (``shapes``: per input, ``(L, N, F)``-like with ``'L'``, ``'S'`` and
    ``'N'`` for the named axes); return the model."""
    rng = np.random.default_rng(0)
    net = net.to(np.dtype(dtype))
    for _, parameter in net.named_parameters():
        parameter.data[...] = 0.5 * rng.normal(size=parameter.data.shape)
    kwargs = kwargs or {}

    def examples(batch, length):
        sizes = {"N": batch, "L": length, "S": length + 1}
        return [rng.normal(size=[sizes.get(d, d) for d in shape]).astype(dtype) for shape in shapes]

    first = examples(2, lengths[0])
    model = tn.onnx.export(net, tuple(first) if len(first) > 1 else first[0], tmp_path / "m.onnx",
                           kwargs=kwargs)  # fmt: skip
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    net.eval()
    for batch in (2, 5):
        for length in lengths:
            inputs = first if (batch, length) == (2, lengths[0]) else examples(batch, length)
            call = [tn.tensor(x) for x in (inputs * 3 if self_attention else inputs)]
            if isinstance(net, nn.LSTM) and len(call) == 3:
                call = [call[0], tuple(call[1:])]
            want = flat(net(*call, **kwargs))
            got = session.run(None, dict(zip(names, inputs)))
            assert len(got) == len(want)
            for g, w in zip(got, want):
                assert g.dtype == dtype and g.shape == w.shape
                np.testing.assert_allclose(g, w, **TOLERANCE[dtype])
    return model


def dims(value):
    return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_layers_export_as_onnx_operators(cls, batch_first, bidirectional, tmp_path):
    net = cls(3, 4, num_layers=2, batch_first=batch_first, bidirectional=bidirectional, rng=0)
    shape = ("N", "L", 3) if batch_first else ("L", "N", 3)
    model = check_export(net, [shape], tmp_path)
    op_type = cls.__name__
    assert [n.op_type for n in model.graph.node].count(op_type) == 2  # one per layer
    outputs = [o.name for o in model.graph.output]
    assert outputs == (["output", "h_n", "c_n"] if cls is nn.LSTM else ["output", "h_n"])
    directions = 2 if bidirectional else 1
    axes = ["batch", "sequence"] if batch_first else ["sequence", "batch"]
    assert dims(model.graph.input[0]) == [*axes, 3]
    assert dims(model.graph.output[0]) == [*axes, 4 * directions]
    assert dims(model.graph.output[1]) == [2 * directions, "batch", 4]


@pytest.mark.parametrize(
    "net",
    [
        nn.RNN(3, 5, nonlinearity="relu", bias=False, rng=1),
        nn.GRU(3, 5, bias=False, bidirectional=True, rng=1),
        nn.LSTM(3, 5, num_layers=3, bias=False, rng=1),
    ],
    ids=repr,
)
def test_recurrent_options(net, tmp_path):
    check_export(net, [("L", "N", 3)], tmp_path)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_recurrent_initial_states_as_inputs(cls, bias, tmp_path):
    # as torch.onnx.export given (input, h_0) or (input, (h_0, c_0)): graph inputs h_0, c_0
    net = cls(3, 4, num_layers=2, bidirectional=True, bias=bias, batch_first=True, rng=0)
    states = 2 if cls is nn.LSTM else 1
    shapes = [("N", "L", 3)] + [(4, "N", 4)] * states
    model = check_export(net, shapes, tmp_path)
    assert [i.name for i in model.graph.input] == ["input", "h_0", "c_0"][: 1 + states]
    assert dims(model.graph.input[1]) == [4, "batch", 4]


def test_lstm_takes_its_states_as_a_nested_tuple(tmp_path):
    lstm = nn.LSTM(3, 4, rng=0).to(tn.float32)
    rng = np.random.default_rng(0)
    x, h, c = (rng.normal(size=s).astype(np.float32) for s in ((5, 2, 3), (1, 2, 4), (1, 2, 4)))
    tn.onnx.export(lstm, (x, (h, c)), tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x, "h_0": h, "c_0": c})
    want = flat(lstm(tn.tensor(x), (tn.tensor(h), tn.tensor(c))))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_recurrent_layer_last_in_a_sequential(tmp_path):
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.LSTM(3, 4, batch_first=True, rng=0))
    model = check_export(net, [("N", "L", 2)], tmp_path)
    assert [o.name for o in model.graph.output] == ["output", "h_n", "c_n"]


def test_attention_self_and_general(tmp_path):
    mha = nn.MultiheadAttention(8, 2, batch_first=True, rng=0)
    model = check_export(mha, [("N", "L", 8)], tmp_path, self_attention=True)
    assert [i.name for i in model.graph.input] == ["input"]
    assert dims(model.graph.output[1]) == ["batch", "sequence", "sequence"]
    mha = nn.MultiheadAttention(8, 4, rng=0)  # sequence first; keys longer than queries
    model = check_export(mha, [("L", "N", 8), ("S", "N", 8), ("S", "N", 8)], tmp_path)
    assert [i.name for i in model.graph.input] == ["query", "key", "value"]
    assert dims(model.graph.output[1]) == ["batch", "sequence", "source_sequence"]


def test_attention_options(tmp_path):
    mha = nn.MultiheadAttention(
        8, 2, kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True, batch_first=True, rng=0
    )
    shapes = [("N", "L", 8), ("N", "S", 3), ("N", "S", 5)]
    model = check_export(mha, shapes, tmp_path, kwargs=dict(average_attn_weights=False))
    assert dims(model.graph.output[1]) == ["batch", 2, "sequence", "source_sequence"]
    mha = nn.MultiheadAttention(8, 2, bias=False, rng=0)
    model = check_export(mha, [("L", "N", 8)] * 3, tmp_path, kwargs=dict(need_weights=False))
    assert [o.name for o in model.graph.output] == ["output"]


@pytest.mark.parametrize("boolean", [False, True])
def test_attention_with_a_fixed_mask(boolean, tmp_path):
    mask = nn.Transformer.generate_square_subsequent_mask(6)
    if boolean:
        mask = tn.tensor(np.isinf(mask.data))  # MultiheadAttention's: True is masked out
    mha = nn.MultiheadAttention(8, 2, add_bias_kv=True, rng=0)
    shapes = [("L", "N", 8)]
    model = check_export(mha, shapes, tmp_path, dict(attn_mask=mask), True, lengths=(6,))
    assert dims(model.graph.input[0]) == [6, "batch", 8]  # the mask fixes the length


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transformer_encoder_layer(dtype, tmp_path):
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, rng=0)
    model = check_export(layer, [("N", "L", 8)], tmp_path, dtype=dtype)
    assert "LayerNormalization" in [n.op_type for n in model.graph.node]


@pytest.mark.parametrize("activation", ["gelu", nn.GELU(approximate="tanh")], ids=repr)
def test_transformer_encoder_pre_norm_with_a_causal_mask(activation, tmp_path):
    layer = nn.TransformerEncoderLayer(
        8, 2, 16, activation=activation, norm_first=True, bias=False, rng=0
    )
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    check_export(encoder, [("L", "N", 8)], tmp_path, dict(mask=mask, is_causal=True), lengths=(5,))


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_decoder_layer(norm_first, tmp_path):
    layer = nn.TransformerDecoderLayer(8, 2, 16, batch_first=True, norm_first=norm_first, rng=0)
    model = check_export(layer, [("N", "L", 8), ("N", "S", 8)], tmp_path)
    assert [i.name for i in model.graph.input] == ["tgt", "memory"]
    assert dims(model.graph.input[1]) == ["batch", "source_sequence", 8]


def test_transformer_decoder_with_a_causal_mask(tmp_path):
    layer = nn.TransformerDecoderLayer(8, 2, 16, activation="gelu", rng=0)
    decoder = nn.TransformerDecoder(layer, 2, norm=nn.LayerNorm(8))
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    shapes = [("L", "N", 8), ("S", "N", 8)]
    model = check_export(decoder, shapes, tmp_path, dict(tgt_mask=mask), lengths=(5,))
    assert dims(model.graph.input[0]) == [5, "batch", 8]  # the mask fixes tgt's length
    assert dims(model.graph.input[1]) == ["source_sequence", "batch", 8]


def test_transformer(tmp_path):
    net = nn.Transformer(8, 2, 2, 1, 16, rng=0)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    shapes = [("S", "N", 8), ("L", "N", 8)]  # src and tgt
    model = check_export(net, shapes, tmp_path, dict(tgt_mask=mask), lengths=(4,))
    assert [i.name for i in model.graph.input] == ["src", "tgt"]
    assert dims(model.graph.output[0]) == [4, "batch", 8]


def test_a_layer_that_writes_the_length_makes_the_sequence_axis_static(tmp_path):
    net = nn.Sequential(
        nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, rng=0), nn.Unflatten(2, (2, 4))
    )
    model = check_export(net, [("N", "L", 8)], tmp_path, lengths=(7,))
    assert dims(model.graph.input[0]) == ["batch", 7, 8]  # Unflatten's Reshape holds 7
    assert dims(model.graph.output[0]) == ["batch", 7, 2, 4]


def test_token_model_in_a_sequential(tmp_path):
    net = nn.Sequential(
        nn.Embedding(10, 8, rng=0),
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, rng=0), 1),
        nn.Linear(8, 3),
    ).to(tn.float32)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 10, size=(5, 7))
    model = tn.onnx.export(net, tokens[:2], tmp_path / "m.onnx")
    assert dims(model.graph.input[0]) == ["batch", "sequence"]
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    net.eval()
    for x in (tokens, tokens[:2, :4]):
        (got,) = session.run(None, {"input": x})
        np.testing.assert_allclose(got, net(tn.tensor(x)).data, rtol=1e-5, atol=1e-5)


def test_what_stays_unsupported_is_refused_by_name(tmp_path):
    x = np.ones((2, 4, 8), np.float32)
    path = tmp_path / "m.onnx"
    with pytest.raises(NotImplementedError, match="proj_size"):
        tn.onnx.export(nn.LSTM(8, 4, proj_size=2).to(tn.float32), x, path)
    with pytest.raises(NotImplementedError, match="before another layer"):
        tn.onnx.export(nn.Sequential(nn.GRU(8, 4), nn.Linear(4, 2)).to(tn.float32), x, path)
    mha = nn.MultiheadAttention(8, 2).to(tn.float32)
    padding = np.zeros((4, 2), bool)
    with pytest.raises(NotImplementedError, match="key_padding_mask"):
        tn.onnx.export(mha, x, path, kwargs=dict(key_padding_mask=padding))
    with pytest.raises(NotImplementedError, match="per-batch"):
        tn.onnx.export(mha, x, path, kwargs=dict(attn_mask=np.zeros((8, 2, 2), np.float32)))
    with pytest.raises(TypeError, match="no keyword argument 'mask'"):
        tn.onnx.export(mha, x, path, kwargs=dict(mask=None))
    with pytest.raises(TypeError, match="takes one example input"):
        tn.onnx.export(nn.Linear(8, 2).to(tn.float32), (x, x), path)
    decoder = nn.TransformerDecoderLayer(8, 2, 16).to(tn.float32)
    with pytest.raises(NotImplementedError, match="key_padding_mask"):
        tn.onnx.export(decoder, (x, x), path, kwargs=dict(memory_key_padding_mask=padding))

    class Encoder(nn.TransformerEncoder):
        def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
            return 2 * super().forward(src, mask, src_key_padding_mask, is_causal)

    encoder = Encoder(nn.TransformerEncoderLayer(8, 2, 16), 1)
    custom = nn.Transformer(8, 2, 1, 1, 16, custom_encoder=encoder).to(tn.float32)
    with pytest.raises(NotImplementedError, match="cannot export Encoder"):
        tn.onnx.export(custom, (x, x), path)
    with pytest.raises(TypeError, match=r"takes 2 inputs \(tgt, memory\), got 1"):
        tn.onnx.export(nn.Sequential(decoder), x, path)
    custom = nn.Transformer(8, 2, 1, 1, 16, custom_encoder=nn.Identity()).to(tn.float32)
    with pytest.raises(NotImplementedError, match="cannot export Identity here"):
        tn.onnx.export(custom, (x, x), path)
    with pytest.raises(NotImplementedError, match="cannot export LSTMCell"):
        tn.onnx.export(nn.LSTMCell(8, 4).to(tn.float32), x[0], path)
    with pytest.raises(ValueError, match="batched"):
        tn.onnx.export(nn.GRU(8, 4).to(tn.float32), x[0], path)
    assert not path.exists()
