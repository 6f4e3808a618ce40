"""Neural networks: modules, layers, activations, losses, ``init`` and ``utils``.

The attention, transformer, recurrent, convolution, fold, padding, pixel-shuffle, upsampling
and distance layers and ``utils`` load on first use (``tinynet._lazy``), under the same names.

>>> import tinynet as tn, tinynet.nn as nn
>>> net = nn.Sequential(nn.Linear(2, 8, rng=0), nn.ReLU(), nn.Linear(8, 1, rng=1))
>>> net(tn.ones(4, 2)).shape
(4, 1)
"""

import typing as _typing

from tinynet._lazy import lazy_attributes as _lazy_attributes
from tinynet.nn.module import Module, Parameter  # isort: split

from tinynet.nn import functional, init
from tinynet.nn.activation import (  # issue 11
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmax2d,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
    Threshold,
)
from tinynet.nn.layers import (
    AlphaDropout,
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    Bilinear,
    Dropout,
    Dropout1d,
    Dropout2d,
    Embedding,
    EmbeddingBag,
    Flatten,
    GroupNorm,
    Identity,
    InstanceNorm1d,
    InstanceNorm2d,
    LayerNorm,
    Linear,
    LocalResponseNorm,
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    RMSNorm,
    Sequential,
)
from tinynet.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
)

# What a training loop rarely needs loads on first use (tinynet._lazy), under the same names.
_LAZY = {
    "tinynet.nn.attention": "attention MultiheadAttention",
    "tinynet.nn.conv": (
        "conv AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveMaxPool1d AdaptiveMaxPool2d AvgPool1d "
        "AvgPool2d Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d MaxPool1d MaxPool2d Unflatten"
    ),
    "tinynet.nn.distance": "distance CosineSimilarity PairwiseDistance",
    "tinynet.nn.fold": "fold Fold Unfold",
    "tinynet.nn.padding": (
        "padding ConstantPad1d ConstantPad2d ReflectionPad1d ReflectionPad2d ReplicationPad1d "
        "ReplicationPad2d ZeroPad2d"
    ),
    "tinynet.nn.pixelshuffle": "pixelshuffle ChannelShuffle PixelShuffle PixelUnshuffle",
    "tinynet.nn.recurrent": "recurrent GRU GRUCell LSTM LSTMCell RNN RNNCell",
    "tinynet.nn.transformer": (
        "transformer Transformer TransformerDecoder TransformerDecoderLayer TransformerEncoder "
        "TransformerEncoderLayer"
    ),
    "tinynet.nn.upsampling": "upsampling Upsample UpsamplingBilinear2d UpsamplingNearest2d",
    "tinynet.nn.utils": "utils",
}
if _typing.TYPE_CHECKING:  # the same names for the type checker, and no __getattr__
    from tinynet.nn import (  # noqa: F401  (the submodules, as attributes)
        attention,
        conv,
        distance,
        fold,
        padding,
        pixelshuffle,
        recurrent,
        transformer,
        upsampling,
        utils,
    )
    from tinynet.nn.attention import MultiheadAttention
    from tinynet.nn.conv import (
        AdaptiveAvgPool1d,
        AdaptiveAvgPool2d,
        AdaptiveMaxPool1d,
        AdaptiveMaxPool2d,
        AvgPool1d,
        AvgPool2d,
        Conv1d,
        Conv2d,
        Conv3d,
        ConvTranspose1d,
        ConvTranspose2d,
        MaxPool1d,
        MaxPool2d,
        Unflatten,
    )
    from tinynet.nn.distance import CosineSimilarity, PairwiseDistance
    from tinynet.nn.fold import Fold, Unfold
    from tinynet.nn.padding import (
        ConstantPad1d,
        ConstantPad2d,
        ReflectionPad1d,
        ReflectionPad2d,
        ReplicationPad1d,
        ReplicationPad2d,
        ZeroPad2d,
    )
    from tinynet.nn.pixelshuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle
    from tinynet.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
    from tinynet.nn.transformer import (
        Transformer,
        TransformerDecoder,
        TransformerDecoderLayer,
        TransformerEncoder,
        TransformerEncoderLayer,
    )
    from tinynet.nn.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
else:
    __getattr__, __dir__ = _lazy_attributes(__name__, _LAZY)

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "ELU",
    "Embedding", "Flatten", "GELU", "HuberLoss", "Identity", "L1Loss", "LayerNorm", "LeakyReLU",
    "Linear", "LogSoftmax", "MSELoss", "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU",
    "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh", "functional", "init", "utils",
]  # fmt: skip
__all__ += [
    "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "Conv1d", "Conv2d", "ConvTranspose1d",
    "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "Unflatten",
    "CELU", "GLU", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid", "Mish", "ReLU6",
    "SELU", "SiLU", "Softmin", "Softsign",
]  # fmt: skip
__all__ += ["CosineSimilarity", "GaussianNLLLoss", "KLDivLoss", "PairwiseDistance", "SmoothL1Loss"]
__all__ += ["BatchNorm2d", "BatchNorm3d", "ModuleDict", "ParameterDict", "ParameterList"]
__all__ += ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]
__all__ += [
    "MultiheadAttention", "Transformer", "TransformerDecoder", "TransformerDecoderLayer",
    "TransformerEncoder", "TransformerEncoderLayer",
]  # fmt: skip
__all__ += ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]
# the small layers and losses PyTorch users reach for (session 4)
__all__ += [
    "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AlphaDropout", "Bilinear",
    "ConstantPad1d", "ConstantPad2d", "CosineEmbeddingLoss", "Dropout1d", "Dropout2d",
    "GroupNorm", "HingeEmbeddingLoss", "InstanceNorm1d", "InstanceNorm2d", "MarginRankingLoss",
    "MultiLabelSoftMarginLoss", "MultiMarginLoss", "PReLU", "PixelShuffle", "PixelUnshuffle",
    "PoissonNLLLoss", "RMSNorm", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
    "ReplicationPad2d", "SoftMarginLoss", "Threshold", "TripletMarginLoss", "ZeroPad2d",
]  # fmt: skip
# session 11: the PyTorch layers users still missed
__all__ += [
    "ChannelShuffle", "Conv3d", "EmbeddingBag", "Fold", "LocalResponseNorm", "Softmax2d", "Unfold",
]  # fmt: skip
