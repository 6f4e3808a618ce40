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
from tinynet.errors import ShapeError
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
from tinynet.serialization import FormatError, load, save
from tinynet.tensor import Tensor

from tinynet import nn, optim  # noqa: E402  (built on the core above)
from tinynet import lab, viz  # noqa: E402  (the gradient lab: built on the core and nn)
from tinynet.lab import detect_anomaly, diagnose, gradcheck_sweep  # noqa: E402

# -- tn.compile (issue 12): a recorded training step, replayed without graphs --------------------
from tinynet.compiler import compile  # noqa: E402, A004

clamp = clip
concat = concatenate

__version__ = "0.1.0"
