"""Attention and transformer layers against NumPy references written from PyTorch's
documented algorithms (in PyTorch's own layout: heads folded into the batch axis first)."""

import numpy as np
import pytest
import scipy.special

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet.errors import DTypeError, ShapeError

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape)


def additive(mask, masked_when=True):
    """A boolean mask as -inf/0 scores (True meaning ``masked_when``), a float one as is."""
    if mask.dtype == np.bool_:
        return np.where(mask == masked_when, -np.inf, 0.0)
    return mask


def reference_mha(m, query, key, value, attn_mask=None, key_padding_mask=None, average=True):
    """``(L, N, E)`` inputs; PyTorch's multi_head_attention_forward, step by step."""
    E, H = m.embed_dim, m.num_heads
    hd = E // H
    if m.in_proj_weight is not None:
        w = m.in_proj_weight.data
        wq, wk, wv = w[:E], w[E : 2 * E], w[2 * E :]
    else:
        wq, wk, wv = (p.data for p in (m.q_proj_weight, m.k_proj_weight, m.v_proj_weight))
    b = m.in_proj_bias.data if m.in_proj_bias is not None else np.zeros(3 * E)
    q, k, v = query @ wq.T + b[:E], key @ wk.T + b[E : 2 * E], value @ wv.T + b[2 * E :]
    L, N = q.shape[:2]
    if attn_mask is not None:
        attn_mask = additive(attn_mask)
    if key_padding_mask is not None:
        key_padding_mask = additive(key_padding_mask)
    if m.bias_k is not None:
        k = np.concatenate([k, np.broadcast_to(m.bias_k.data, (1, N, E))])
        v = np.concatenate([v, np.broadcast_to(m.bias_v.data, (1, N, E))])
        attn_mask = (
            None
            if attn_mask is None
            else np.pad(attn_mask, [(0, 0)] * (attn_mask.ndim - 1) + [(0, 1)])
        )
        key_padding_mask = (
            None if key_padding_mask is None else np.pad(key_padding_mask, ((0, 0), (0, 1)))
        )
    q = q.reshape(L, N * H, hd).transpose(1, 0, 2)
    k = k.reshape(k.shape[0], N * H, hd).transpose(1, 0, 2)
    v = v.reshape(v.shape[0], N * H, hd).transpose(1, 0, 2)
    if m.add_zero_attn:
        k = np.concatenate([k, np.zeros((N * H, 1, hd))], axis=1)
        v = np.concatenate([v, np.zeros((N * H, 1, hd))], axis=1)
        attn_mask = (
            None
            if attn_mask is None
            else np.pad(attn_mask, [(0, 0)] * (attn_mask.ndim - 1) + [(0, 1)])
        )
        key_padding_mask = (
            None if key_padding_mask is None else np.pad(key_padding_mask, ((0, 0), (0, 1)))
        )
    S = k.shape[1]
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(hd)  # (N*H, L, S)
    if attn_mask is not None:
        scores = scores + attn_mask
    if key_padding_mask is not None:
        scores = scores + np.repeat(key_padding_mask, H, axis=0)[:, None, :]
    weights = scipy.special.softmax(scores, axis=-1)
    out = (weights @ v).transpose(1, 0, 2).reshape(L, N, E)
    out = out @ m.out_proj.weight.data.T
    if m.out_proj.bias is not None:
        out = out + m.out_proj.bias.data
    weights = weights.reshape(N, H, L, S)
    return out, weights.mean(axis=1) if average else weights


def module(**kwargs):
    options = dict(embed_dim=6, num_heads=2, dtype=tn.float64, rng=1)
    options.update(kwargs)
    return nn.MultiheadAttention(**options)


# -- scaled_dot_product_attention --------------------------------------------------------------
def test_sdpa_follows_pytorchs_formula_with_each_mask():
    q, k, v = randn(2, 3, 4, 5), randn(2, 3, 6, 5), randn(2, 3, 6, 2)
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(5)
    allowed = RNG.random((4, 6)) < 0.6
    allowed[:, 0] = True
    float_mask = randn(4, 6)
    cases = [
        ({}, scores),
        ({"attn_mask": allowed}, np.where(allowed, scores, -np.inf)),
        ({"attn_mask": float_mask}, scores + float_mask),
        ({"is_causal": True}, np.where(np.tri(4, 6, dtype=bool), scores, -np.inf)),
        ({"scale": 0.25}, scores * np.sqrt(5) * 0.25),
    ]
    for kwargs, expected_scores in cases:
        got = F.scaled_dot_product_attention(tn.tensor(q), tn.tensor(k), tn.tensor(v), **kwargs)
        expected = scipy.special.softmax(expected_scores, axis=-1) @ v
        np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-14)


def test_sdpa_grouped_query_attention_repeats_key_and_value_heads():
    q, k, v = randn(1, 4, 3, 2), randn(1, 2, 5, 2), randn(1, 2, 5, 3)
    got = F.scaled_dot_product_attention(tn.tensor(q), tn.tensor(k), tn.tensor(v), enable_gqa=True)
    k, v = np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1)
    expected = scipy.special.softmax(q @ k.swapaxes(-1, -2) / np.sqrt(2), axis=-1) @ v
    np.testing.assert_allclose(got.data, expected, rtol=1e-12)


def test_sdpa_dropout_zeroes_and_rescales_attention_weights():
    # With value = identity, the output is the attention weights themselves.
    q, k = randn(8, 6), randn(6, 6)
    weights = scipy.special.softmax(q @ k.T / np.sqrt(6), axis=-1)
    tn.manual_seed(3)
    got = F.scaled_dot_product_attention(tn.tensor(q), tn.tensor(k), tn.eye(6, dtype=tn.float64),
                                         dropout_p=0.5).data  # fmt: skip
    kept = got != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(got[kept], weights[kept] / 0.5, rtol=1e-12)
    tn.manual_seed(3)
    again = F.scaled_dot_product_attention(tn.tensor(q), tn.tensor(k), tn.eye(6, dtype=tn.float64),
                                           dropout_p=0.5).data  # fmt: skip
    np.testing.assert_array_equal(got, again)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # -inf - -inf, on purpose
def test_sdpa_a_fully_masked_row_is_nan_as_pytorchs_formula():
    q = k = v = tn.ones(2, 2, dtype=tn.float64)
    out = F.scaled_dot_product_attention(
        q, k, v, attn_mask=np.array([[True, True], [False, False]])
    )
    assert np.isfinite(out.data[0]).all() and np.isnan(out.data[1]).all()


def test_sdpa_refuses_bad_arguments():
    x = tn.ones(2, 3)
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(x, x, x, attn_mask=np.ones((2, 2), bool), is_causal=True)
    with pytest.raises(ShapeError, match="last dimension"):
        F.scaled_dot_product_attention(x, tn.ones(2, 4), x)
    with pytest.raises(ShapeError, match="same sequence length"):
        F.scaled_dot_product_attention(x, x, tn.ones(3, 3))
    with pytest.raises(DTypeError, match="one dtype"):
        F.scaled_dot_product_attention(x, x, tn.ones(2, 3, dtype=tn.float64))
    with pytest.raises(DTypeError, match="float mask"):
        F.scaled_dot_product_attention(x, x, x, attn_mask=np.zeros((2, 2)))
    with pytest.raises(ShapeError, match="enable_gqa"):
        F.scaled_dot_product_attention(tn.ones(3, 2, 2), tn.ones(2, 2, 2), tn.ones(2, 2, 2),
                                       enable_gqa=True)  # fmt: skip


# -- MultiheadAttention ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"bias": False},
        {"kdim": 3, "vdim": 4},
        {"add_bias_kv": True},
        {"add_zero_attn": True},
        {"add_bias_kv": True, "add_zero_attn": True, "num_heads": 3},
    ],  # fmt: skip
    ids=["default", "no-bias", "kdim-vdim", "bias-kv", "zero-attn", "both"],
)
@pytest.mark.parametrize("masks", ["none", "bool", "float", "3d", "padding", "both"])
def test_multihead_attention_matches_pytorchs_algorithm(options, masks):
    m = module(**options)
    L, S, N = 4, 5, 2
    query, key, value = randn(L, N, 6), randn(S, N, m.kdim), randn(S, N, m.vdim)
    attn_mask = key_padding_mask = None
    blocked = RNG.random((L, S)) < 0.4
    blocked[:, 0] = False
    if masks in ("bool", "both"):
        attn_mask = blocked
    elif masks == "float":
        attn_mask = randn(L, S)
    elif masks == "3d":
        attn_mask = np.where(
            RNG.random((N * m.num_heads, L, S)) < 0.4, -np.inf, randn(N * m.num_heads, L, S)
        )
        attn_mask[..., 0] = 0.0
    if masks in ("padding", "both"):
        key_padding_mask = np.array([[False] * S, [False, False, True, False, True]])
    for average in (True, False):
        out, weights = m(tn.tensor(query), tn.tensor(key), tn.tensor(value), key_padding_mask,
                         attn_mask=attn_mask, average_attn_weights=average)  # fmt: skip
        expected_out, expected_weights = reference_mha(m, query, key, value, attn_mask,
                                                       key_padding_mask, average)  # fmt: skip
        np.testing.assert_allclose(out.data, expected_out, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(weights.data, expected_weights, rtol=1e-10, atol=1e-12)


def test_batch_first_and_unbatched_inputs_give_the_same_attention():
    m = module()
    x = randn(4, 2, 6)
    out, weights = m(tn.tensor(x), tn.tensor(x), tn.tensor(x))
    first = module(batch_first=True)
    out_first, weights_first = first(*(tn.tensor(x.transpose(1, 0, 2)),) * 3)
    np.testing.assert_allclose(out_first.data, out.data.transpose(1, 0, 2), rtol=1e-12)
    np.testing.assert_allclose(weights_first.data, weights.data, rtol=1e-12)
    one, one_weights = m(*(tn.tensor(x[:, 1]),) * 3, key_padding_mask=np.zeros(4, bool))
    np.testing.assert_allclose(one.data, out.data[:, 1], rtol=1e-12)
    np.testing.assert_allclose(one_weights.data, weights.data[1], rtol=1e-12)
    assert m(*(tn.tensor(x),) * 3, need_weights=False)[1] is None


def test_multihead_attention_gradients_match_finite_differences():
    m = module(kdim=3, add_bias_kv=True)
    q, k, v = (
        tn.tensor(randn(*shape), requires_grad=True) for shape in ((3, 2, 6), (4, 2, 3), (4, 2, 6))
    )
    mask = np.array([[False, True, False, False]] * 3)
    assert tn.gradcheck(lambda q, k, v: m(q, k, v, attn_mask=mask)[0], (q, k, v))
    assert tn.gradgradcheck(lambda q, k, v: m(q, k, v)[0], (q, k, v))
    out, _ = m(q, k, v)
    out.sum().backward()
    assert all(p.grad is not None for p in m.parameters())


def test_multihead_attention_parameters_and_initialisation_are_pytorchs():
    m = nn.MultiheadAttention(8, 2, add_bias_kv=True, rng=0)
    assert [name for name, _ in m.named_parameters()] == [
        "in_proj_weight", "in_proj_bias", "bias_k", "bias_v", "out_proj.weight", "out_proj.bias"
    ]  # fmt: skip
    assert m.in_proj_weight.shape == (24, 8) and m.in_proj_weight.dtype == np.float32
    bound = np.sqrt(6 / (24 + 8))  # Xavier-uniform over the packed (3E, E) matrix
    assert 0.8 * bound < np.abs(m.in_proj_weight.data).max() <= bound
    assert not m.in_proj_bias.data.any() and not m.out_proj.bias.data.any()
    separate = nn.MultiheadAttention(8, 2, kdim=4, vdim=5, bias=False)
    assert [name for name, _ in separate.named_parameters()] == [
        "q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"
    ]  # fmt: skip
    assert separate.k_proj_weight.shape == (8, 4) and separate.v_proj_weight.shape == (8, 5)


def test_dropout_acts_in_training_only():
    m = module(dropout=0.5)
    x = tn.tensor(randn(3, 2, 6))
    plain = module()
    m.eval()
    np.testing.assert_array_equal(m(x, x, x)[0].data, plain(x, x, x)[0].data)
    m.train()
    assert not np.allclose(m(x, x, x)[1].data, plain(x, x, x)[1].data)


def test_multihead_attention_refuses_bad_arguments():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    m = module()
    x = tn.tensor(randn(3, 2, 6))
    with pytest.raises(RuntimeError, match="is_causal=True is a hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(ShapeError, match="attn_mask must have shape"):
        m(x, x, x, attn_mask=np.zeros((3, 4), bool))
    with pytest.raises(ShapeError, match="key_padding_mask must have shape"):
        m(x, x, x, key_padding_mask=np.zeros((3, 2), bool))
    with pytest.raises(ShapeError, match="last dimension 6"):
        m(x, tn.ones(3, 2, 5, dtype=tn.float64), x)
    with pytest.raises(ShapeError, match="all be 3-D"):
        m(x, x, tn.ones(3, 6, dtype=tn.float64))
    with pytest.raises(DTypeError, match="float32"):
        m(x.float(), x.float(), x.float())


# -- transformer layers ------------------------------------------------------------------------
def layer_norm(x, norm):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + norm.eps) * norm.weight.data + norm.bias.data


def feed_forward(layer, x, activation):
    hidden = activation(x @ layer.linear1.weight.data.T + layer.linear1.bias.data)
    return hidden @ layer.linear2.weight.data.T + layer.linear2.bias.data


def gelu(x):
    return 0.5 * x * (1 + scipy.special.erf(x / np.sqrt(2)))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_pytorchs_algorithm(norm_first, activation):
    layer = nn.TransformerEncoderLayer(6, 2, 10, dropout=0.3, activation=activation,
                                       norm_first=norm_first, dtype=tn.float64, rng=2)  # fmt: skip
    layer.eval()
    act = (lambda h: np.maximum(h, 0)) if activation == "relu" else gelu
    x = randn(4, 2, 6)
    mask = np.triu(np.full((4, 4), -np.inf), 1)

    def attend(h):
        return reference_mha(layer.self_attn, h, h, h, attn_mask=mask)[0]

    if norm_first:
        h = x + attend(layer_norm(x, layer.norm1))
        expected = h + feed_forward(layer, layer_norm(h, layer.norm2), act)
    else:
        h = layer_norm(x + attend(x), layer.norm1)
        expected = layer_norm(h + feed_forward(layer, h, act), layer.norm2)
    got = layer(tn.tensor(x), src_mask=mask, is_causal=True)
    np.testing.assert_allclose(got.data, expected, rtol=1e-10, atol=1e-12)


def test_decoder_layer_matches_pytorchs_algorithm():
    layer = nn.TransformerDecoderLayer(6, 3, 8, dtype=tn.float64, rng=4).eval()
    tgt, memory = randn(3, 2, 6), randn(5, 2, 6)
    padding = np.array([[False] * 5, [False, False, False, True, True]])
    h = layer_norm(tgt + reference_mha(layer.self_attn, tgt, tgt, tgt)[0], layer.norm1)
    h = layer_norm(h + reference_mha(layer.multihead_attn, h, memory, memory,
                                     key_padding_mask=padding)[0], layer.norm2)  # fmt: skip
    expected = layer_norm(h + feed_forward(layer, h, lambda a: np.maximum(a, 0)), layer.norm3)
    got = layer(tn.tensor(tgt), tn.tensor(memory), memory_key_padding_mask=padding)
    np.testing.assert_allclose(got.data, expected, rtol=1e-10, atol=1e-12)


def test_stacks_copy_their_layer_and_transformer_is_causal_with_its_mask():
    layer = nn.TransformerEncoderLayer(4, 2, 8, rng=0)
    encoder = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(4))
    assert len(encoder.layers) == 3 and encoder.layers[0] is not encoder.layers[1]
    np.testing.assert_array_equal(
        encoder.layers[0].linear1.weight.data, encoder.layers[2].linear1.weight.data
    )
    assert "layers.2.self_attn.in_proj_weight" in encoder.state_dict()
    model = nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=2,
                           dim_feedforward=8, dropout=0.0, batch_first=True, dtype=tn.float64,
                           rng=0)  # fmt: skip
    src, tgt = randn(2, 5, 4), randn(2, 3, 4)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=tn.float64)
    out = model(tn.tensor(src), tn.tensor(tgt), tgt_mask=mask).data
    changed = tgt.copy()
    changed[:, 2] += 1.0  # a later target position: earlier outputs must not see it
    again = model(tn.tensor(src), tn.tensor(changed), tgt_mask=mask).data
    np.testing.assert_allclose(again[:, :2], out[:, :2], rtol=1e-12)
    assert not np.allclose(again[:, 2], out[:, 2])
    with pytest.raises(ShapeError, match="batch number"):
        model(tn.tensor(src), tn.tensor(randn(3, 3, 4)))
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")


def test_a_small_transformer_learns_and_compiles_bit_identically():
    # Which of four tokens came first: attention has to look back along the sequence.
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 4, (64, 5))

    def build():
        tn.manual_seed(0)
        embed = nn.Embedding(4, 8, rng=0)
        encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, rng=1), 1
        )
        head = nn.Linear(8, 4, rng=2)
        model = nn.Sequential(embed, encoder)
        optimizer = tn.optim.Adam([*model.parameters(), *head.parameters()], lr=0.02)

        def step(x, y):
            loss = F.cross_entropy(head(model(x)[:, -1]), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss

        return step, model

    eager, eager_model = build()
    compiled, compiled_model = build()
    compiled = tn.compile(compiled)
    x, y = tn.tensor(tokens), tn.tensor(tokens[:, 0])
    losses = [float(eager(x, y)) for _ in range(60)]
    assert [float(compiled(x, y)) for _ in range(60)] == losses
    assert losses[-1] < 0.3 * losses[0]
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
