"""Primitive ops. Each is one ``Function`` subclass, registered in ``autograd.PRIMITIVES``."""

from tinynet.ops.conv import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    max_pool1d,
    max_pool2d,
)
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
    prelu,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    sub,
    tanh,
    where,
)
from tinynet.ops.linalg import (
    bmm,
    cholesky,
    det,
    dot,
    eigh,
    inv,
    kron,
    linear,
    matmul,
    mm,
    mv,
    outer,
    qr,
    slogdet,
    solve,
    svd,
    trace,
)
from tinynet.ops.movement import (
    as_strided,
    broadcast_to,
    concatenate,
    getitem,
    pad,
    permute,
    reshape,
    sum_to_shape,
    transpose,
)
from tinynet.ops.pointwise import (  # issue 11
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    ceil,
    cosh,
    erfc,
    expm1,
    floor,
    floor_divide,
    fmod,
    hardswish,
    hardtanh,
    hypot,
    logaddexp,
    remainder,
    round,
    sign,
    sinh,
    tan,
    trunc,
    xlogy,
)
from tinynet.ops.reduce import (
    amax,
    amin,
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
from tinynet.ops.scan import cumprod, cumsum, logcumsumexp  # issue 11

__all__ = [
    "abs", "add", "amax", "amin", "argmax", "argmin", "as_strided", "broadcast_to", "cast", "clip", "concatenate", "cos",
    "div", "elu", "eq", "erf", "exp", "ge", "getitem", "gt", "le", "leaky_relu", "linear", "log",
    "log1p", "log_softmax", "logsumexp", "lt", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mul", "ne", "neg", "pad", "permute", "pow", "prelu", "prod", "relu", "reshape", "sigmoid", "sin",
    "softmax", "softplus", "sqrt", "sub", "sum", "sum_to_shape", "tanh", "transpose", "where",
]  # fmt: skip
# -- convolution, pooling and linear algebra (issue 11, items 6-7) --
__all__ += [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "conv1d",
    "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
    "bmm", "cholesky", "det", "dot", "eigh", "inv", "outer", "qr", "slogdet", "solve", "svd",
    "kron", "mm", "mv", "trace",
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "cosh", "expm1",
    "floor", "floor_divide", "fmod", "hardswish", "hardtanh", "hypot", "logaddexp", "remainder", "round",
    "sign", "sinh", "tan", "trunc", "cumprod", "cumsum", "logcumsumexp",
    "erfc", "xlogy",  # session 10
    "conv3d",  # session 11
]  # fmt: skip

# -- fused loss primitives (issue 12): behind nn.functional's cross-entropy losses ----------------
from tinynet.ops.fused import (  # noqa: E402
    binary_cross_entropy_with_logits,
    softmax_cross_entropy,
)

__all__ += ["binary_cross_entropy_with_logits", "softmax_cross_entropy"]

# -- resampling: torch.nn.functional.interpolate --------------------------------------------
from tinynet.ops.resample import interpolate  # noqa: E402

__all__ += ["interpolate"]
__all__ += ["adaptive_max_pool1d", "adaptive_max_pool2d"]
