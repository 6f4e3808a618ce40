"""tinynet: a small, fast, exact deep-learning framework on NumPy."""

# The tensor module goes first: its last lines tie the Tensor <-> ops knot.
import tinynet.tensor  # isort: split

from tinynet import func
from tinynet._dtype import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
)
from tinynet._grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinynet._random import default_generator, get_rng_state, manual_seed, set_rng_state
from tinynet.autograd import Function, backward, grad, once_differentiable
from tinynet.creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from tinynet.errors import DTypeError, ShapeError
from tinynet.functional import expand, flatten, gelu, squeeze, stack, std, unsqueeze, var
from tinynet.gradcheck import (
    GradcheckError,
    GradcheckReport,
    check_gradgradients,
    check_gradients,
    gradcheck,
    gradgradcheck,
)
from tinynet.ops import (
    abs,
    add,
    argmax,
    argmin,
    broadcast_to,
    cast,
    clip,
    concatenate,
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
    log_softmax,
    logsumexp,
    lt,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    ne,
    neg,
    pad,
    permute,
    pow,
    prod,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    softplus,
    sqrt,
    sub,
    sum,
    sum_to_shape,
    tanh,
    transpose,
    where,
)
from tinynet.ops.conv import (  # convolution and pooling (issue 11, item 7)
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    max_pool1d,
    max_pool2d,
)
from tinynet.ops import linalg  # torch.linalg's names: inv det slogdet solve cholesky qr eigh svd
from tinynet.ops.linalg import bmm, det, dot, outer, slogdet  # also top-level in PyTorch
from tinynet.serialization import FormatError, load, save
from tinynet.tensor import Tensor

from tinynet import nn, optim  # noqa: E402  (built on the core above)
from tinynet import data  # noqa: E402  (datasets and loaders: built on the core)
from tinynet import lab, viz  # noqa: E402  (the gradient lab: built on the core and nn)
from tinynet.lab import detect_anomaly, diagnose, gradcheck_sweep  # noqa: E402
from tinynet import onnx  # noqa: E402  (ONNX export: the onnx package is imported on use)


# == issue 11: more ops =========================================================================
from tinynet.functional import (  # noqa: E402
    all,
    any,
    argsort,
    celu,
    chunk,
    cummax,
    cummin,
    diag,
    diagonal,
    einsum,
    flip,
    gather,
    index_select,
    masked_fill,
    masked_select,
    median,
    meshgrid,
    movedim,
    nonzero,
    norm,
    normalize,
    one_hot,
    quantile,
    repeat,
    repeat_interleave,
    roll,
    scatter,
    scatter_add,
    scatter_reduce,
    sort,
    split,
    swapaxes,
    swapdims,
    take_along_axis,
    tile,
    topk,
    tril,
    triu,
    unbind,
    unflatten,
    exp2,
    glu,
    hardsigmoid,
    isfinite,
    isinf,
    isnan,
    lerp,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logsigmoid,
    mish,
    relu6,
    rsqrt,
    selu,
    silu,
    softmin,
    softsign,
    swish,
)
from tinynet.ops import (  # noqa: E402
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    ceil,
    cosh,
    cumprod,
    cumsum,
    expm1,
    floor,
    floor_divide,
    fmod,
    hardswish,
    hardtanh,
    hypot,
    logaddexp,
    logcumsumexp,
    remainder,
    round,
    sign,
    sinh,
    tan,
    trunc,
)

arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh
# == end of issue 11 ==

# -- tn.compile (issue 12): a recorded training step, replayed without graphs --------------------
from tinynet.compiler import compile  # noqa: E402, A004

clamp = clip
concat = concatenate
cat = concatenate

__version__ = "0.1.0"
