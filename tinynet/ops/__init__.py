"""Primitive ops. Each is one ``Function`` subclass, registered in ``autograd.PRIMITIVES``."""

from tinynet.ops.elementwise import (
    abs,
    add,
    cast,
    clip,
    cos,
    div,
    elu,
    eq,
    erf,
    exp,
    ge,
    gt,
    le,
    leaky_relu,
    log,
    log1p,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    sub,
    tanh,
    where,
)
from tinynet.ops.linalg import linear, matmul
from tinynet.ops.movement import (
    broadcast_to,
    concatenate,
    getitem,
    pad,
    reshape,
    sum_to_shape,
    transpose,
)
from tinynet.ops.reduce import (
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    prod,
    softmax,
    sum,
)

__all__ = [
    "abs", "add", "argmax", "argmin", "broadcast_to", "cast", "clip", "concatenate", "cos",
    "div", "elu", "eq", "erf", "exp", "ge", "getitem", "gt", "le", "leaky_relu", "linear", "log",
    "log1p", "log_softmax", "logsumexp", "lt", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "ne", "neg", "pad", "pow", "prod", "relu", "reshape", "sigmoid", "sin",
    "softmax", "softplus", "sqrt", "sub", "sum", "sum_to_shape", "tanh", "transpose", "where",
]  # fmt: skip

# -- fused loss primitives (issue 12): behind nn.functional's cross-entropy losses ----------------
from tinynet.ops.fused import (  # noqa: E402
    binary_cross_entropy_with_logits,
    softmax_cross_entropy,
)

__all__ += ["binary_cross_entropy_with_logits", "softmax_cross_entropy"]
