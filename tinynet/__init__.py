"""tinynet: a small, fast, exact deep-learning framework on NumPy.

``import tinynet`` loads what a training loop needs (tensors, autograd, the ops, ``nn``,
``optim``, gradient checks); the rest loads on first use under the same names (PEP 562,
``tinynet._lazy``): ``tn.save``/``tn.load``, ``tn.compile``, ``tn.func``, ``tn.data``,
``tn.lab``, ``tn.viz``, ``tn.onnx``, the composites beyond the basics (``tn.einsum``...),
and in ``nn`` and ``optim`` the rarer layers, optimizers and ``lr_scheduler``.

>>> import tinynet as tn
>>> tn.compile.__module__
'tinynet.compiler'
"""

import typing as _typing

from tinynet import _cli_start

_cli_start.guard()  # before NumPy: the command line's Ctrl-C is one line from the start

# The tensor module goes first: its last lines tie the Tensor <-> ops knot.
import tinynet.tensor  # isort: split

from tinynet._dtype import BUILTIN_NAMED as _BUILTIN_NAMED
from tinynet._dtype import (
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int32,
    int64,
    long,
    set_default_dtype,
)
from tinynet._device import device
from tinynet._lazy import lazy_attributes as _lazy_attributes
from tinynet._grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from tinynet._printing import set_printoptions
from tinynet._random import (
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from tinynet.autograd import Function, backward, grad, once_differentiable
from tinynet.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
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
from tinynet.gradcheck import register_failure_hint as _register_failure_hint
from tinynet.ops import (
    abs,
    add,
    argmax,
    argmin,
    as_strided,
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
from tinynet.ops import linalg  # torch.linalg's names: inv det slogdet solve cholesky qr eigh svd
from tinynet.ops.linalg import bmm, det, dot, outer, slogdet  # also top-level in PyTorch
from tinynet.tensor import Tensor, is_floating_point, is_tensor, numel

from tinynet import nn, optim  # noqa: E402  (built on the core above)


# == issue 11: more ops =========================================================================
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

# == PyTorch's top-level names ================================================================
from tinynet.ops import amax, amin, erfc, kron, mm, mv, trace, xlogy  # noqa: E402
from tinynet.sampling import bernoulli, multinomial, normal, randperm  # noqa: E402

arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh
# == end of issue 11 ==

clamp = clip
concat = concatenate
cat = concatenate

__version__ = "0.1.0"


# -- Loaded on first use (tinynet._lazy, PEP 562): what a training loop does not need ------------
# A module maps to the names it gives tinynet; its own name is the module itself. gradcheck
# stays eager: the function tn.gradcheck shares its module's name, and a later
# `import tinynet.gradcheck` would rebind an unloaded name to the module.
_LAZY = {
    "tinynet.func": "func",  # transforms: grad, jacobian, hessian, ...
    "tinynet.data": "data",  # datasets and loaders
    "tinynet.lab": "lab detect_anomaly diagnose gradcheck_sweep",  # the gradient lab
    "tinynet.viz": "viz",
    "tinynet.onnx": "onnx",  # ONNX export (the onnx package itself is imported on use)
    "tinynet.serialization": "serialization FormatError load save",
    "tinynet.cuda": "cuda",  # is_available() is False: the CPU only
    "tinynet.compiler": "compiler compile",  # tn.compile (issue 12): a recorded step, replayed
    "tinynet.functional": (  # the composites beyond the basics (tinynet.functional)
        "all allclose aminmax any argsort argwhere bincount broadcast_tensors bucketize cdist "
        "celu chunk clamp_max clamp_min corrcoef cosine_similarity count_nonzero cov cummax "
        "cummin diag diagonal diff einsum equal exp2 flip fmax fmin frac gather glu "
        "hardsigmoid histc histogram hstack index_select isclose isfinite isin isinf isnan "
        "kthvalue lerp log10 log2 logical_and logical_not logical_or logical_xor logsigmoid "
        "masked_fill masked_select median meshgrid mish mode movedim msort nan_to_num nanmean "
        "nanmedian nanquantile nansum narrow nonzero norm normalize one_hot pairwise_distance "
        "quantile ravel reciprocal relu6 repeat repeat_interleave roll rsqrt scatter "
        "scatter_add scatter_reduce searchsorted select selu silu softmin softsign sort split "
        "square std_mean swapaxes swapdims swish t take_along_axis take_along_dim tile topk "
        "tril triu unbind unflatten unique unique_consecutive var_mean vstack "
        # session 10: PyTorch's names
        "absolute addcdiv addcmul addmm atleast_1d atleast_2d atleast_3d deg2rad divide "
        "fliplr flipud inner logit multiply negative rad2deg rot90 subtract tensordot "
        "tril_indices triu_indices block_diag cartesian_prod column_stack copysign float_power gcd "
        "lcm logdet matrix_power signbit sinc trapezoid diag_embed cross"
    ),
}

if _typing.TYPE_CHECKING:  # type checkers see the same names as eager imports, and no
    # __getattr__: a misspelt tn.name stays an error for them
    from tinynet import compiler, cuda, data, func, lab, onnx, serialization, viz
    from tinynet.compiler import compile  # noqa: A004
    from tinynet.lab import detect_anomaly, diagnose, gradcheck_sweep
    from tinynet.serialization import FormatError, load, save

    # fmt: off
    from tinynet.functional import (
        all, allclose, aminmax, any, argsort, argwhere, bincount, broadcast_tensors, bucketize,
        cdist, celu, chunk, clamp_max, clamp_min, corrcoef, cosine_similarity, count_nonzero, cov,
        cummax, cummin, diag, diagonal, diff, einsum, equal, exp2, flip, fmax, fmin, frac, gather,
        glu, hardsigmoid, histc, histogram, hstack, index_select, isclose, isfinite, isin, isinf,
        isnan, kthvalue, lerp, log10, log2, logical_and, logical_not, logical_or, logical_xor,
        logsigmoid, masked_fill, masked_select, median, meshgrid, mish, mode, movedim, msort,
        nan_to_num, nanmean, nanmedian, nanquantile, nansum, narrow, nonzero, norm, normalize,
        one_hot, pairwise_distance, quantile, ravel, reciprocal, relu6, repeat, repeat_interleave,
        roll, rsqrt, scatter, scatter_add, scatter_reduce, searchsorted, select, selu, silu,
        softmin, softsign, sort, split, square, std_mean, swapaxes, swapdims, swish, t,
        take_along_axis, take_along_dim, tile, topk, tril, triu, unbind, unflatten, unique,
        unique_consecutive, var_mean, vstack,
    )
    from tinynet.functional import (
        absolute, addcdiv, addcmul, addmm, atleast_1d, atleast_2d, atleast_3d, deg2rad, divide,
        fliplr, flipud, inner, logit, multiply, negative, rad2deg, rot90, subtract, tensordot,
        tril_indices, triu_indices, block_diag, cartesian_prod, column_stack, copysign,
        float_power, gcd, lcm, logdet, matrix_power, signbit, sinc, trapezoid, diag_embed, cross,
    )
    # fmt: on
else:
    _lazy_getattr, __dir__ = _lazy_attributes(__name__, _LAZY)

    def __getattr__(name: str) -> object:
        if name in _BUILTIN_NAMED:  # tn.float, tn.int, tn.bool: PyTorch's dtype names
            return _BUILTIN_NAMED[name]
        return _lazy_getattr(name)


def _kink_hint(fn, inputs, report):
    """A failed gradcheck names the known kinks it straddles: the lab's hint, loaded with
    the lab on the first failure (the lab sits above gradcheck, so gradcheck cannot ask)."""
    from tinynet.lab.kinks import kink_hint

    return kink_hint(fn, inputs, report)


_register_failure_hint(_kink_hint)
