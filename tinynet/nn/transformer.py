"""Transformer layers as PyTorch's: encoder and decoder layers, their stacks, ``Transformer``.

Submodule names match PyTorch's (``self_attn``, ``linear1``, ``norm1``, ``layers.0`` ...),
so state dicts load either way. As in PyTorch, a stack deep-copies its layer: every layer
starts from the same weights.

>>> import tinynet as tn, tinynet.nn as nn
>>> layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16,
...                                    batch_first=True, rng=0)
>>> encoder = nn.TransformerEncoder(layer, num_layers=2)
>>> mask = nn.Transformer.generate_square_subsequent_mask(5)   # causal: -inf above the diagonal
>>> encoder(tn.ones(3, 5, 8), mask=mask).shape
(3, 5, 8)
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from tinynet import _device
from tinynet._random import as_generator
from tinynet.errors import ShapeError
from tinynet.nn import functional as F
from tinynet.nn import init as nn_init
from tinynet.nn.attention import MultiheadAttention
from tinynet.nn.layers import Dropout, LayerNorm, Linear, ModuleList
from tinynet.nn.module import Module, parameter_dtype
from tinynet.ops._args import as_tensor
from tinynet.tensor import Tensor, TensorLike

__all__ = [
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]

_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}


def _activation(activation: str | Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise RuntimeError(f"activation should be relu/gelu, not {activation}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"activation must be 'relu', 'gelu' or a callable, got {activation!r}")
    return activation


class _Block(Module):
    """What encoder and decoder layers share: the feed-forward block and residual order."""

    def _build(self, d_model, nhead, dim_feedforward, dropout, activation, eps, batch_first,
               norm_first, bias, dtype, generator, norms: int) -> None:  # fmt: skip
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout, bias, batch_first=batch_first, dtype=dtype, rng=generator
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias, dtype=dtype, rng=generator)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias, dtype=dtype, rng=generator)
        self.norm_first = norm_first
        for index in range(1, norms + 1):
            setattr(self, f"norm{index}", LayerNorm(d_model, eps, bias=bias, dtype=dtype))
        for index in range(1, norms + 1):
            setattr(self, f"dropout{index}", Dropout(dropout))
        self.activation = _activation(activation)

    def _ff_block(self, x: Tensor, dropout: Dropout) -> Tensor:
        return dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def _sa_block(self, x: Tensor, mask, key_padding_mask, is_causal: bool) -> Tensor:
        out = self.self_attn(
            x, x, x, key_padding_mask, need_weights=False, attn_mask=mask, is_causal=is_causal
        )[0]
        return self.dropout1(out)


class TransformerEncoderLayer(_Block):
    """Self-attention then a feed-forward block, each with a residual connection and layer
    norm (after it, or before it with ``norm_first=True``), as PyTorch's.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``; masks as
    ``MultiheadAttention``'s. ``activation``: ``'relu'``, ``'gelu'`` or a callable.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
        rng=None,
    ):
        super().__init__()
        _device.check(device)
        self._build(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                    batch_first, norm_first, bias, dtype, as_generator(rng), norms=2)  # fmt: skip

    def forward(
        self,
        src: TensorLike,
        src_mask: TensorLike | None = None,
        src_key_padding_mask: TensorLike | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        x = as_tensor(src)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x, self.dropout2))


class TransformerDecoderLayer(_Block):
    """Self-attention, attention over the encoder's output (``memory``), then a feed-forward
    block; each with a residual connection and layer norm, as PyTorch's.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
        rng=None,
    ):
        super().__init__()
        _device.check(device)
        generator = as_generator(rng)
        self._build(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                    batch_first, norm_first, bias, dtype, generator, norms=3)  # fmt: skip
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout, bias, batch_first=batch_first, dtype=dtype, rng=generator
        )

    def forward(
        self,
        tgt: TensorLike,
        memory: TensorLike,
        tgt_mask: TensorLike | None = None,
        memory_mask: TensorLike | None = None,
        tgt_key_padding_mask: TensorLike | None = None,
        memory_key_padding_mask: TensorLike | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x, memory = as_tensor(tgt), as_tensor(memory)
        attend = (memory, memory_mask, memory_key_padding_mask, memory_is_causal)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), *attend)
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, *attend))
        return self.norm3(x + self._ff_block(x, self.dropout3))

    def _mha_block(self, x, memory, mask, key_padding_mask, is_causal: bool) -> Tensor:
        out = self.multihead_attn(
            x, memory, memory, key_padding_mask, need_weights=False, attn_mask=mask,
            is_causal=is_causal,
        )[0]  # fmt: skip
        return self.dropout2(out)


def _clones(layer: Module, num_layers: int) -> ModuleList:
    if not isinstance(layer, Module):
        raise TypeError(f"expected a layer (an nn.Module) to stack, got {type(layer).__name__}")
    if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"num_layers must be a positive int, got {num_layers!r}")
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` in sequence, then ``norm`` if given.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``.
    ``enable_nested_tensor`` and ``mask_check`` are accepted for PyTorch's signature; they
    choose PyTorch's fast paths, which change no result.
    """

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        src: TensorLike,
        mask: TensorLike | None = None,
        src_key_padding_mask: TensorLike | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        output = as_tensor(src)
        for layer in self.layers:
            output = layer(output, mask, src_key_padding_mask, bool(is_causal))
        return output if self.norm is None else self.norm(output)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` in sequence, then ``norm`` if given.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``.
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: TensorLike,
        memory: TensorLike,
        tgt_mask: TensorLike | None = None,
        memory_mask: TensorLike | None = None,
        tgt_key_padding_mask: TensorLike | None = None,
        memory_key_padding_mask: TensorLike | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        output = as_tensor(tgt)
        for layer in self.layers:
            output = layer(output, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                           memory_key_padding_mask, bool(tgt_is_causal), memory_is_causal)  # fmt: skip
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """An encoder-decoder transformer, PyTorch's ``nn.Transformer``: encoder and decoder
    stacks, each closed by a LayerNorm; every weight matrix Xavier-uniform initialised.

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)``.
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
        rng=None,
    ):
        super().__init__()
        _device.check(device)
        generator = as_generator(rng)
        options = dict(
            dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
            layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first,
            bias=bias, dtype=dtype, rng=generator,
        )  # fmt: skip
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(d_model, nhead, **options)
            norm = LayerNorm(d_model, layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(d_model, nhead, **options)
            norm = LayerNorm(d_model, layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, norm)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first
        for parameter in self.parameters():
            if parameter.ndim > 1:
                nn_init.xavier_uniform_(parameter, rng=generator)

    def forward(
        self,
        src: TensorLike,
        tgt: TensorLike,
        src_mask: TensorLike | None = None,
        tgt_mask: TensorLike | None = None,
        memory_mask: TensorLike | None = None,
        src_key_padding_mask: TensorLike | None = None,
        tgt_key_padding_mask: TensorLike | None = None,
        memory_key_padding_mask: TensorLike | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        src, tgt = as_tensor(src), as_tensor(tgt)
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch_axis] != tgt.shape[batch_axis]):
            raise ShapeError(
                f"the batch number of src and tgt must be equal, got shapes {src.shape} and "
                f"{tgt.shape} (batch_first={self.batch_first})"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(
                f"the feature number of src and tgt must be equal to d_model ({self.d_model}), "
                f"got shapes {src.shape} and {tgt.shape}"
            )
        memory = self.encoder(src, src_mask, src_key_padding_mask, src_is_causal)
        return self.decoder(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                            memory_key_padding_mask, tgt_is_causal, memory_is_causal)  # fmt: skip

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The causal mask of ``sz`` positions: 0 on and below the diagonal, -inf above.

        >>> Transformer.generate_square_subsequent_mask(3).tolist()
        [[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
        """
        _device.check(device)
        return Tensor(np.triu(np.full((sz, sz), -np.inf, parameter_dtype(dtype)), k=1))
