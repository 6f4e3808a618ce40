"""Attention as PyTorch's: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``.

Both are compositions of differentiable ops (matrix products, softmax, dropout), so they
differentiate to any order. Masks follow PyTorch's two conventions, which are opposite for
booleans: ``scaled_dot_product_attention``'s boolean ``attn_mask`` says where a query MAY
attend (True: take part), ``MultiheadAttention``'s boolean masks where it may NOT (True:
masked out). A float mask is added to the scores in both. A query row whose every key is
masked gets NaN weights, as PyTorch's reference formula gives.

>>> import tinynet as tn, tinynet.nn as nn
>>> attention = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True, rng=0)
>>> x = tn.ones(3, 5, 8)                       # (batch, sequence, features)
>>> out, weights = attention(x, x, x)
>>> out.shape, weights.shape                   # weights averaged over the heads
((3, 5, 8), (3, 5, 5))
"""

from __future__ import annotations

import math

import numpy as np

from tinynet import _device, ops
from tinynet._random import as_generator
from tinynet.autograd import traced_call
from tinynet.errors import DTypeError, ShapeError
from tinynet.nn import functional as F
from tinynet.nn import init as nn_init
from tinynet.nn.layers import Linear, check_positive_int
from tinynet.nn.module import Module, Parameter, parameter_dtype
from tinynet.ops._args import as_tensor
from tinynet.tensor import Tensor, TensorLike

__all__ = ["MultiheadAttention", "scaled_dot_product_attention"]


def scaled_dot_product_attention(
    query: TensorLike,
    key: TensorLike,
    value: TensorLike,
    attn_mask: TensorLike | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    *,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two axes, as PyTorch's.

    Shapes ``(..., L, E)``, ``(..., S, E)``, ``(..., S, Ev)`` give ``(..., L, Ev)``; ``scale``
    defaults to ``1 / sqrt(E)``. ``attn_mask`` broadcasts to ``(..., L, S)``: boolean, True
    where a query may attend; or floating, added to the scores. ``is_causal=True`` lets query
    ``i`` attend to keys ``0..i`` (the mask ``tril(ones(L, S))``, top-left aligned).
    ``dropout_p > 0`` drops attention weights whenever it is given, as PyTorch's (pass
    ``dropout_p=p if training else 0.0``). ``enable_gqa``: grouped-query attention, key and
    value heads (axis -3) repeated to match the query's.

    >>> import tinynet as tn
    >>> q = k = tn.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> v = tn.tensor([[1.0], [2.0]])
    >>> scaled_dot_product_attention(q, k, v, is_causal=True).tolist()   # row 0 sees key 0
    [[1.0], [1.6697615385055542]]
    """
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    _check_attention_inputs(query, key, value)
    if is_causal and attn_mask is not None:
        raise ValueError(
            "scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both "
            "(fold the causal mask into attn_mask)"
        )
    F.check_probability(dropout_p)
    if enable_gqa:
        key, value = _repeat_heads(query, key), _repeat_heads(query, value)
    length, source = query.shape[-2], key.shape[-2]
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.swapaxes(-2, -1)) * factor
    if is_causal:
        scores = scores + _bias(np.tri(length, source, dtype=bool), query.dtype)
    if attn_mask is not None:
        scores = scores + _additive(as_tensor(attn_mask), query.dtype, allowed=True)
    weights = F.softmax(scores, -1)
    if dropout_p > 0:
        weights = F.dropout(weights, dropout_p, training=True)
    return weights @ value


def _check_attention_inputs(query: Tensor, key: Tensor, value: Tensor) -> None:
    for name, tensor in (("query", query), ("key", key), ("value", value)):
        if tensor.ndim < 2:
            raise ShapeError(
                f"scaled_dot_product_attention: {name} needs at least 2 dimensions "
                f"(..., sequence, features), got shape {tensor.shape}"
            )
        if tensor.dtype.kind != "f":
            raise DTypeError(
                f"scaled_dot_product_attention: {name} must be floating, got {tensor.dtype}"
            )
    if not query.dtype == key.dtype == value.dtype:
        raise DTypeError(
            "scaled_dot_product_attention: query, key and value must have one dtype, got "
            f"{query.dtype}, {key.dtype} and {value.dtype}; convert them with .to(...)"
        )
    if query.shape[-1] != key.shape[-1]:
        raise ShapeError(
            f"scaled_dot_product_attention: query's last dimension ({query.shape[-1]}) must "
            f"equal key's ({key.shape[-1]})"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ShapeError(
            f"scaled_dot_product_attention: key and value must have the same sequence length, "
            f"got {key.shape[-2]} and {value.shape[-2]}"
        )


def _repeat_heads(query: Tensor, tensor: Tensor) -> Tensor:
    if query.ndim < 3 or tensor.ndim < 3 or query.shape[-3] % tensor.shape[-3]:
        raise ShapeError(
            "scaled_dot_product_attention: enable_gqa needs (..., heads, sequence, features) "
            "inputs whose query heads are a multiple of the key and value heads, got shapes "
            f"{query.shape} and {tensor.shape}"
        )
    return tensor.repeat_interleave(query.shape[-3] // tensor.shape[-3], dim=-3)


def _bias(allowed: np.ndarray, dtype) -> Tensor:
    """0 where ``allowed``, -inf elsewhere: a boolean mask as scores to add."""
    # traced: a tn.compile replay turns each call's mask into scores
    return Tensor.wrap(traced_call(_scores, allowed, dtype))


def _scores(allowed: np.ndarray, dtype) -> np.ndarray:
    return np.where(allowed, 0.0, -np.inf).astype(dtype)


def _additive(mask: Tensor, dtype, allowed: bool) -> Tensor:
    """A boolean mask (True meaning ``allowed``, or the reverse) or a float mask, as scores
    to add; a float mask stays differentiable, as PyTorch's."""
    if mask.dtype == np.bool_:
        return _bias(mask.data if allowed else traced_call(np.logical_not, mask.data), dtype)
    if mask.dtype != dtype:
        raise DTypeError(
            f"attention: a float mask must have the query's dtype {dtype}, got {mask.dtype} "
            "(or pass a boolean mask)"
        )
    return mask


class MultiheadAttention(Module):
    """Multi-head attention, PyTorch's ``nn.MultiheadAttention``: project, split into
    ``num_heads`` heads of ``embed_dim // num_heads`` features, attend, join, project.

    Parameters as PyTorch's, so its state dicts load: ``in_proj_weight`` ``(3E, E)`` (or
    ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when ``kdim``/``vdim`` differ
    from ``embed_dim``), ``in_proj_bias``, ``out_proj`` (a Linear), ``bias_k``/``bias_v``
    with ``add_bias_kv``. Inputs are ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``) or
    unbatched ``(L, E)``. ``forward`` returns ``(output, weights)``; the weights (after
    dropout, as PyTorch's) are averaged over the heads unless ``average_attn_weights=False``,
    and None with ``need_weights=False``. Boolean masks are True where attention is NOT
    allowed: ``key_padding_mask`` ``(N, S)``, ``attn_mask`` ``(L, S)`` or ``(N * heads, L, S)``.
    ``rng``: a seed or a Generator for the initial weights.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
        rng=None,
    ):
        super().__init__()
        _device.check(device)
        self.embed_dim = check_positive_int(embed_dim, "embed_dim")
        self.num_heads = check_positive_int(num_heads, "num_heads")
        if embed_dim % num_heads:
            raise ValueError(
                f"embed_dim must be divisible by num_heads, got embed_dim={embed_dim} and "
                f"num_heads={num_heads}"
            )
        F.check_probability(dropout)
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else check_positive_int(kdim, "kdim")
        self.vdim = embed_dim if vdim is None else check_positive_int(vdim, "vdim")
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.add_zero_attn = add_zero_attn
        dtype = parameter_dtype(dtype)
        generator = as_generator(rng)  # one stream for every parameter
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype, rng=generator)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, embed_dim), dtype))
            self.bias_v = Parameter(np.empty((1, 1, embed_dim), dtype))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self._reset_parameters(generator)

    def _reset_parameters(self, generator) -> None:
        """PyTorch's: Xavier-uniform projections, zero biases, Xavier-normal ``bias_k/v``."""
        for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            weight = getattr(self, name)
            if weight is not None:
                nn_init.xavier_uniform_(weight, rng=generator)
        if self.in_proj_bias is not None:
            nn_init.zeros_(self.in_proj_bias)
            nn_init.zeros_(self.out_proj.bias)
        for parameter in (self.bias_k, self.bias_v):
            if parameter is not None:
                nn_init.xavier_normal_(parameter, rng=generator)

    def forward(
        self,
        query: TensorLike,
        key: TensorLike,
        value: TensorLike,
        key_padding_mask: TensorLike | None = None,
        need_weights: bool = True,
        attn_mask: TensorLike | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "MultiheadAttention: is_causal=True is a hint that attn_mask is causal; pass "
                "the mask too, e.g. nn.Transformer.generate_square_subsequent_mask(L)"
            )
        batched = self._check_inputs(query, key, value)
        if not batched:  # one sequence: a batch of one, removed again at the end
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = as_tensor(key_padding_mask).unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        q, k, v = self._project(query, key, value)
        mask = self._mask(attn_mask, key_padding_mask, q.shape[1], query.shape[0], k.shape[0])
        if self.bias_k is not None:  # one more key and value, seen by every query
            k = ops.concatenate([k, self.bias_k.expand(1, k.shape[1], self.embed_dim)], 0)
            v = ops.concatenate([v, self.bias_v.expand(1, v.shape[1], self.embed_dim)], 0)
            mask = _pad_last(mask)
        q, k, v = (self._heads(t) for t in (q, k, v))
        if self.add_zero_attn:  # a key and value of zeros, per head
            zeros = np.zeros((*k.shape[:2], 1, self.head_dim), k.dtype)
            k, v = ops.concatenate([k, Tensor(zeros)], 2), ops.concatenate([v, Tensor(zeros)], 2)
            mask = _pad_last(mask)
        scores = (q @ k.swapaxes(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        if mask is not None:
            scores = scores + mask
        weights = F.softmax(scores, -1)
        if self.training and self.dropout > 0:
            weights = F.dropout(weights, self.dropout, training=True)
        heads = weights @ v  # (N, heads, L, head_dim)
        length, batch = query.shape[0], query.shape[1]
        joined = heads.permute(2, 0, 1, 3).reshape(length, batch, self.embed_dim)
        output = self.out_proj(joined)
        if not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if not need_weights:
            return output, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return output, (weights if batched else weights.squeeze(0))

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """Whether the inputs are batched; refuse ranks, dims and dtypes that do not fit."""
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(
                "MultiheadAttention: query, key and value must all be 3-D (batched) or all "
                f"2-D (unbatched), got shapes {query.shape}, {key.shape} and {value.shape}"
            )
        for name, tensor, size in (
            ("query", query, self.embed_dim),
            ("key", key, self.kdim),
            ("value", value, self.vdim),
        ):
            if tensor.shape[-1] != size:
                raise ShapeError(
                    f"MultiheadAttention: expected {name} with last dimension {size}, got "
                    f"shape {tensor.shape}"
                )
        batch_axis = 0 if self.batch_first else 1
        if (
            batched
            and not query.shape[batch_axis] == key.shape[batch_axis] == value.shape[batch_axis]
        ):
            raise ShapeError(
                "MultiheadAttention: query, key and value must have the same batch size, got "
                f"shapes {query.shape}, {key.shape} and {value.shape} (batch_first="
                f"{self.batch_first})"
            )
        source_axis = 1 if batched and self.batch_first else 0
        if key.shape[source_axis] != value.shape[source_axis]:
            raise ShapeError(
                f"MultiheadAttention: key and value must have the same sequence length, got "
                f"shapes {key.shape} and {value.shape}"
            )
        weight = self.out_proj.weight
        for tensor in (query, key, value):
            if tensor.dtype != weight.dtype:
                F.check_dtypes("MultiheadAttention", tensor, weight=weight)
        return batched

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple:
        """The query, key and value projections, ``(sequence, N, embed_dim)`` each."""
        embed = self.embed_dim
        bias = self.in_proj_bias
        biases: tuple = (None, None, None)
        if bias is not None:
            biases = (bias[:embed], bias[embed : 2 * embed], bias[2 * embed :])
        if self._qkv_same_embed_dim:
            weight = self.in_proj_weight
            weights = (weight[:embed], weight[embed : 2 * embed], weight[2 * embed :])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(F.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))

    def _heads(self, x: Tensor) -> Tensor:
        """``(sequence, N, embed_dim)`` -> ``(N, heads, sequence, head_dim)``."""
        length, batch = x.shape[0], x.shape[1]
        return x.reshape(length, batch, self.num_heads, self.head_dim).permute(1, 2, 0, 3)

    def _mask(self, attn_mask, key_padding_mask, batch: int, length: int, source: int):
        """Both masks as one additive mask broadcasting to ``(N, heads, L, S)``, or None."""
        dtype = self.out_proj.weight.dtype
        mask = None
        if attn_mask is not None:
            attn_mask = as_tensor(attn_mask)
            heads = batch * self.num_heads
            if attn_mask.shape == (length, source):
                shaped = attn_mask
            elif attn_mask.shape == (heads, length, source):
                shaped = attn_mask.reshape(batch, self.num_heads, length, source)
            else:
                raise ShapeError(
                    f"MultiheadAttention: attn_mask must have shape ({length}, {source}) or "
                    f"({heads}, {length}, {source}) (batch * num_heads, L, S), got "
                    f"{attn_mask.shape}"
                )
            mask = _additive(shaped, dtype, allowed=False)
        if key_padding_mask is not None:
            key_padding_mask = as_tensor(key_padding_mask)
            if key_padding_mask.shape != (batch, source):
                raise ShapeError(
                    f"MultiheadAttention: key_padding_mask must have shape ({batch}, {source}) "
                    f"(batch, S), got {key_padding_mask.shape}"
                )
            padding = _additive(key_padding_mask, dtype, allowed=False)
            padding = padding.reshape(batch, 1, 1, source)
            mask = padding if mask is None else mask + padding
        return mask


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """One more key that every query may attend to: a zero column at the end of ``mask``."""
    if mask is None:
        return None
    return F.pad(mask, (0, 1))
