"""The op table: one ``OpInfo`` per public op of tinynet, for table-driven tests.

Each record holds the op (a callable on Tensors), an independent NumPy/SciPy reference for
its forward, how to draw its inputs with Hypothesis (shapes, broadcasting, axes, keepdims,
static arguments), the kinks its values must avoid, and whether it is differentiable.

>>> import tinynet as tn
>>> from tinynet.testing.opinfo import OPS_BY_NAME, sample_inputs
>>> op = OPS_BY_NAME["softmax"]
>>> tensors, kwargs = sample_inputs(op)
>>> tn.gradcheck(lambda *ts: op(*ts, **kwargs), tensors)
True

``sample_inputs`` is NumPy-only (no Hypothesis needed); ``OpInfo.strategy()`` needs it.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.signal
import scipy.special
import scipy.stats

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import ops
from tinynet.nn.functional import scaled_dot_product_attention
from tinynet.nn.utils import parameters_to_vector
from tinynet.nn.utils.rnn import pad_sequence
from tinynet.tensor import Tensor
from tinynet.testing import strategies as tst
from tinynet.testing.strategies import SMALL_SIZE, keep_away, sample_values

st = tst.st  # None without Hypothesis; only OpInfo.strategy() needs it

__all__ = ["OPS", "OPS_BY_NAME", "OpInfo", "Sample", "sample_inputs"]


@dataclass(frozen=True)
class Sample:
    """Inputs of one op call: ``arrays`` become Tensors; ``kwargs`` pass through as given."""

    arrays: tuple
    kwargs: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        # Every digit, so that a printed counterexample reproduces exactly.
        with np.printoptions(floatmode="unique", threshold=1000):
            return f"Sample(arrays={self.arrays!r}, kwargs={self.kwargs!r})"

    def _repr_pretty_(self, printer, cycle) -> None:  # Hypothesis prints draws with this
        printer.text(repr(self))

    def tensors(self, dtype=None, requires_grad: bool = True) -> tuple:
        """The arrays as Tensors (cast to ``dtype`` if given)."""
        return tuple(
            Tensor(a if dtype is None else a.astype(dtype), requires_grad=requires_grad)
            for a in self.arrays
        )


@dataclass(frozen=True, eq=False)
class OpInfo:
    """One public op: how to call it, its reference, and how to draw its inputs."""

    name: str
    op: Callable[..., Tensor]  # op(*tensors, **kwargs)
    reference: Callable[..., Any]  # reference(*arrays, **kwargs), NumPy/SciPy
    structure: Callable[[], Any]  # () -> strategy of (shapes, kwargs)
    sample_shapes: tuple  # the fixed example of sample_inputs
    sample_kwargs: dict = field(default_factory=dict)
    domains: str | tuple = "real"  # one domain for all inputs, or one per input
    avoid: tuple = ()  # kink points the values keep ``margin`` away from
    distinct: bool = False  # values of all inputs pairwise ``margin`` apart (ties are kinks)
    margin: float = 0.01
    differentiable: bool = True
    covers: tuple = ()  # the public names this entry exercises (default: its name)
    method: Callable[..., Tensor] | None = None  # the same op through Tensor methods
    result_dtype: Any = None  # the result's dtype where the op fixes it (float_power: float64)
    gradcheck_eps: float = 1e-6  # finite-difference step (never a tolerance)
    rtol: float = 1e-12  # forward against the reference, float64
    atol: float = 1e-13

    def __post_init__(self):
        if not self.covers:
            object.__setattr__(self, "covers", (self.name,))

    def __call__(self, *tensors, **kwargs):
        return self.op(*tensors, **kwargs)

    def __repr__(self) -> str:
        return f"OpInfo({self.name!r})"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))

    def _domain(self, index: int):
        return self.domains if isinstance(self.domains, str) else self.domains[index]

    def _values(self, arrays) -> tuple:
        return tuple(keep_away(arrays, self.avoid, self.margin, self.distinct))

    def strategy(self):
        """A Hypothesis strategy of ``Sample`` (float64 arrays)."""
        if st is None:
            raise ImportError("OpInfo.strategy() needs Hypothesis: pip install hypothesis")
        if self.name not in _STRATEGIES:
            _STRATEGIES[self.name] = self._build_strategy()
        return _STRATEGIES[self.name]

    def _build_strategy(self):
        return tst.composite(_draw_sample)(self, self.structure())

    def sample(self) -> Sample:
        """A fixed, deterministic example (NumPy only)."""
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        arrays = [sample_values(s, self._domain(i), rng) for i, s in enumerate(self.sample_shapes)]
        return Sample(self._values(arrays), dict(self.sample_kwargs))


_STRATEGIES: dict = {}  # name -> strategy: building one per draw is slow


def _draw_sample(draw, op: OpInfo, structure) -> Sample:
    shapes, kwargs = draw(structure)
    arrays = [draw(tst.arrays(s, domain=op._domain(i))) for i, s in enumerate(shapes)]
    return Sample(op._values(arrays), kwargs)


def sample_inputs(op: OpInfo, dtype=np.float64, requires_grad: bool = True) -> tuple:
    """``(tensors, kwargs)`` of ``op``'s fixed example, ready for ``op(*tensors, **kwargs)``.

    >>> from tinynet.testing.opinfo import OPS_BY_NAME, sample_inputs
    >>> op = OPS_BY_NAME["matmul"]
    >>> tensors, kwargs = sample_inputs(op)
    >>> op(*tensors, **kwargs).shape
    (2, 4)
    """
    sample = op.sample()
    return sample.tensors(dtype, requires_grad), sample.kwargs


# -- structures: strategies of (shapes, kwargs), built lazily ------------------------------
def _params(params: dict):
    """A strategy of a kwargs dict; each value is a tuple of choices or a strategy."""
    return st.fixed_dictionaries(
        {
            k: v if isinstance(v, st.SearchStrategy) else st.sampled_from(v)
            for k, v in params.items()
        }
    )


def _elementwise(arity: int = 1, max_size: int = SMALL_SIZE, **params):
    """Broadcasting shapes for ``arity`` inputs (one input: any small shape)."""

    def build():
        if arity == 1:
            shapes = tst.shapes(max_size=max_size).map(lambda s: (s,))
        else:
            shapes = tst.broadcastable_shapes(arity, max_size=max_size)
        return st.tuples(shapes, _params(params))

    return build


def _composite(draw_structure, *args):
    return lambda: tst.composite(draw_structure)(*args)


def _draw_with_shape(draw, draw_kwargs, min_dims, max_dims, max_size):
    shape = draw(tst.shapes(min_dims=min_dims, max_dims=max_dims, max_size=max_size))
    return (shape,), draw_kwargs(draw, shape)


def _with_shape(draw_kwargs, min_dims: int = 0, max_dims: int = 3, max_size: int = SMALL_SIZE):
    """One input shape, and kwargs drawn for that shape by ``draw_kwargs(draw, shape)``."""
    return _composite(_draw_with_shape, draw_kwargs, min_dims, max_dims, max_size)


def _reduction_kwargs(draw, shape):
    return {"axis": draw(tst.axes(len(shape))), "keepdims": draw(st.booleans())}


def _single_axis(draw, shape):
    return {"axis": draw(tst.axes(len(shape), allow_none=False, allow_tuple=False))}


def _variance_kwargs(draw, shape):
    kwargs = _reduction_kwargs(draw, shape)
    reduced = range(len(shape)) if kwargs["axis"] is None else np.atleast_1d(kwargs["axis"])
    count = math.prod(shape[i] for i in reduced)
    # With no degrees of freedom left the variance is NaN: not a differentiable point.
    kwargs["correction"] = draw(st.sampled_from((0, 1) if count > 1 else (0,)))
    return kwargs


def _argmax_kwargs(draw, shape):
    axis = draw(tst.axes(len(shape), allow_tuple=False))
    return {"axis": axis, "keepdims": draw(st.booleans())}


def _reshape_kwargs(draw, shape):
    size = math.prod(shape)
    candidates = [(size,), (-1,), shape[::-1], (1, size), (size, 1), (1, *shape)]
    if shape:
        position = draw(st.integers(0, len(shape) - 1))
        candidates.append(tuple(-1 if i == position else n for i, n in enumerate(shape)))
    return {"shape": draw(st.sampled_from(candidates))}


def _transpose_kwargs(draw, shape):
    ndim = len(shape)
    order = draw(st.permutations(range(ndim)))
    order = tuple(draw(st.sampled_from((a, a - ndim))) for a in order)
    return {"axes": draw(st.sampled_from(((), order)))}


def _swap_kwargs(draw, shape):
    ndim = len(shape)
    return {"dims": tuple(draw(st.integers(-ndim, ndim - 1)) for _ in range(2))}


def _permute_kwargs(draw, shape):
    return {"axes": tuple(draw(st.permutations(range(len(shape)))))}


def _inplace_target(a, b):
    """A non-leaf copy of ``a`` with the broadcast shape of ``a`` and ``b``: ``b`` adds 0."""
    return a + b * 0.0


def _iadd(a, b):
    target = _inplace_target(a, b)
    target += b
    return target


def _exp_every_other(x):
    """``exp_`` through a strided view of a non-leaf (PyTorch's CopySlices)."""
    target = x * 1.0
    target.reshape(-1)[::2].exp_()
    return target


def _exp_every_other_reference(x):
    out = np.array(x, copy=True)
    flat = out.reshape(-1)
    flat[::2] = np.exp(flat[::2])
    return out


def _mul_through_a_transpose(a, b):
    target = _inplace_target(a, b)
    target.transpose().mul_(ops.broadcast_to(b, target.shape).transpose())
    return target


def _iadd_into_a_slice(a, b):
    """``y[1:] += b``: ``add_`` on the view ``y[1:]``, then the assignment of that view."""
    target = _inplace_target(a, b)
    flat = target.reshape(-1)
    flat[1:] += ops.broadcast_to(b, target.shape).reshape(-1)[1:]
    return target


def _iadd_into_a_slice_reference(a, b):
    out = np.array(a + b * 0.0)
    out.reshape(-1)[1:] += np.broadcast_to(b, out.shape).reshape(-1)[1:]
    return out


def _put_every_other(a, b):
    """``y.reshape(-1)[positions] = value``: PyTorch's ``index_put_`` through a view."""
    target = _inplace_target(a, b)
    flat = target.reshape(-1)
    positions = np.arange(0, flat.shape[0], 2)
    flat[positions] = ops.broadcast_to(b, target.shape).reshape(-1)[positions] * 2.0
    return target


def _put_every_other_reference(a, b):
    out = np.array(a + b * 0.0)
    out.reshape(-1)[::2] = np.broadcast_to(b, out.shape).reshape(-1)[::2] * 2.0
    return out


def _flatten_kwargs(draw, shape):
    ndim = max(len(shape), 1)
    start = draw(st.integers(0, ndim - 1))
    end = draw(st.integers(start, ndim - 1))
    return {
        "start_axis": draw(st.sampled_from((start, start - ndim))),
        "end_axis": draw(st.sampled_from((end, end - ndim))),
    }


def _squeeze_kwargs(draw, shape):
    ones = [i for i, n in enumerate(shape) if n == 1]
    options = [None]
    if ones:
        chosen = draw(st.lists(st.sampled_from(ones), min_size=1, unique=True))
        options += [chosen[0], chosen[0] - len(shape), tuple(chosen)]
    return {"axis": draw(st.sampled_from(options))}


def _unsqueeze_kwargs(draw, shape):
    return {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


def _getitem_kwargs(draw, shape):
    index = draw(tst.indices(shape))
    if isinstance(index, np.ndarray) and index.dtype.kind == "i" and draw(st.booleans()):
        index = Tensor(index)  # integer Tensors index too
    return {"index": index}


def _pad_kwargs(draw, shape):
    # Padding grows the output, and second-order checks cost one pass per output element.
    width = st.integers(0, 2 if len(shape) < 2 else 1)
    pair = st.tuples(width, width)
    pad_width = draw(st.one_of(width, pair, st.tuples(*(pair for _ in shape)) if shape else pair))
    return {"pad_width": pad_width, "value": draw(st.sampled_from((0.0, 1.5)))}


def _draw_broadcast(draw, expand: bool = False):
    target = draw(tst.shapes(max_size=SMALL_SIZE))
    source = draw(tst.shapes_broadcasting_to(target))
    if not expand:
        return (source,), {"shape": target}
    offset = len(target) - len(source)
    # -1 keeps an axis's length (only for axes the source has).
    shape = tuple(
        -1 if i >= offset and draw(st.booleans()) and source[i - offset] == n else n
        for i, n in enumerate(target)
    )
    return (source,), {"shape": shape}


def _draw_sum_to_shape(draw):
    target = draw(tst.shapes(max_size=SMALL_SIZE))
    source = draw(tst.shapes_broadcasting_to(target))
    return (target,), {"shape": source}


def _draw_matmul(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch_a, batch_b = draw(tst.broadcastable_pairs(max_dims=2, max_side=2, max_size=2))
    kind = draw(st.sampled_from(("matrix", "vector-vector", "matrix-vector", "vector-matrix")))
    a = (*batch_a, n, k) if kind in ("matrix", "matrix-vector") else (k,)
    b = (*batch_b, k, m) if kind in ("matrix", "vector-matrix") else (k,)
    return (a, b), {}


def _draw_class_logits(draw):
    n, classes = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    target = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    return ((n, classes),), {"target": target, "reduction": draw(st.sampled_from(_REDUCTIONS))}


def _draw_binary_logits(draw):
    shape = draw(tst.shapes(max_dims=2, max_size=6))
    return (shape, shape), {"reduction": draw(st.sampled_from(_REDUCTIONS))}


def _reduce_reference(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _softmax_cross_entropy_reference(logits, target, reduction):
    log_probs = scipy.special.log_softmax(logits, axis=1)
    return _reduce_reference(-log_probs[np.arange(len(target)), target], reduction)


def _bce_with_logits_reference(logits, target, reduction):
    return _reduce_reference(np.logaddexp(0.0, logits) - logits * target, reduction)


_REDUCTIONS = ("mean", "sum", "none")


def _draw_join(draw, stack: bool):
    count = draw(st.integers(1, 3))
    base = draw(tst.shapes(min_dims=0 if stack else 1, max_size=8))
    if stack:
        return (base,) * count, {"axis": draw(st.integers(-len(base) - 1, len(base)))}
    axis = draw(st.integers(-len(base), len(base) - 1))
    lengths = [draw(st.integers(1, 3)) for _ in range(count)]
    shapes = tuple(
        tuple(length if i == axis % len(base) else n for i, n in enumerate(base))
        for length in lengths
    )
    return shapes, {"axis": axis}


def _draw_where(draw, scalar_branch: bool):
    shapes = draw(tst.broadcastable_shapes(2 if scalar_branch else 3, max_size=SMALL_SIZE))
    condition = draw(tst.arrays(shapes[0], dtype=np.bool_))
    return shapes[1:], {"condition": condition}


def _draw_linear(draw, bias: bool):
    batch = draw(tst.shapes(max_dims=2, max_side=3, max_size=4))
    in_features, out_features = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shapes: tuple = ((*batch, in_features), (out_features, in_features))
    if bias:
        shapes += (draw(st.sampled_from(((out_features,), ()))),)
    return shapes, {}


def _draw_rmatmul(draw):
    (left, right), _ = _draw_matmul(draw)
    return (right,), {"other": draw(tst.arrays(left))}


def _draw_reflected(draw):
    """A NumPy array on the left of a binary operator; the tensor on the right."""
    other_shape, shape = draw(tst.broadcastable_pairs(max_size=SMALL_SIZE))
    other = draw(tst.arrays(other_shape, domain="nonzero"))
    return (shape,), {"other": other}


# -- references ------------------------------------------------------------------------------
def _numpy_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(_numpy_index(part) for part in index)
    return index


def _expand_reference(x, shape):
    offset = len(shape) - x.ndim
    return np.broadcast_to(x, [x.shape[i - offset] if n == -1 else n for i, n in enumerate(shape)])


def _sum_to_shape_reference(x, shape):
    lead = x.ndim - len(shape)
    summed = x.sum(axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1)
    return summed.sum(axis=ones, keepdims=True).reshape(shape)


def _gelu_tanh_reference(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def _flatten_reference(x, start_axis, end_axis):
    if x.ndim == 0:
        return x.reshape(1)
    start, end = start_axis % x.ndim, end_axis % x.ndim
    return x.reshape(*x.shape[:start], -1, *x.shape[end + 1 :])


def _logsumexp(x, axis, keepdims):
    # SciPy returns shape (1,) for a 0-d input with keepdims; NumPy's rule keeps ().
    shape = np.sum(x, axis=axis, keepdims=keepdims).shape
    return np.reshape(scipy.special.logsumexp(x, axis=axis, keepdims=keepdims), shape)


# -- the table --------------------------------------------------------------------------------
def _unary(name, op, reference, structure=None, sample_shapes=((2, 3),), **info) -> OpInfo:
    """One input of any small shape; ``structure`` defaults to no static arguments."""
    return OpInfo(name, op, reference, structure or _elementwise(), sample_shapes, **info)


def _binary(name, op, reference, **info) -> OpInfo:
    """Two inputs of broadcastable shapes."""
    return OpInfo(name, op, reference, _elementwise(2), ((2, 3), (3,)), **info)


def _shaped(name, op, reference, draw_kwargs, sample_kwargs, min_dims=0, **info) -> OpInfo:
    """One input; static arguments (axes, shapes, ...) drawn for its shape."""
    structure = _with_shape(draw_kwargs, min_dims)
    return OpInfo(name, op, reference, structure, ((2, 3),), sample_kwargs, **info)


def _reduction(name, reference, **info) -> OpInfo:
    """A reduction over ``axis`` (None, int or tuple) with ``keepdims``."""
    return _shaped(
        name,
        getattr(tn, name),
        lambda x, axis, keepdims: reference(x, axis=axis, keepdims=keepdims),
        info.pop("draw_kwargs", _reduction_kwargs),
        {"axis": 1, "keepdims": False},
        method=lambda x, axis, keepdims: getattr(x, name)(axis, keepdims),
        **info,
    )


def _comparison(name, reference, method) -> OpInfo:
    """Forward only; small whole numbers, so that ties (== and !=) happen."""
    return OpInfo(
        name,
        getattr(tn, name),
        reference,
        _elementwise(2),
        ((2, 3), (3,)),
        domains="integer",
        differentiable=False,
        method=method,
    )


def _method(name):
    """``x.name(*args, **kwargs)``: the op through its Tensor method."""
    return lambda x, *args, **kwargs: getattr(x, name)(*args, **kwargs)


def _power(x, exponent):
    return np.power(x, exponent)


def _pow_scalar(name, exponents, domain) -> OpInfo:
    """``x ** exponent`` for a Python number; the domain depends on the exponents."""
    return _unary(
        name,
        lambda x, exponent: tn.pow(x, exponent),
        _power,
        _elementwise(exponent=exponents),
        sample_kwargs={"exponent": exponents[0]},
        domains=domain,
        covers=("pow",),
        method=lambda x, exponent: x**exponent,
    )


def _reflected(name, op, structure, sample_kwargs, covers, **info) -> OpInfo:
    """A Python scalar or a NumPy array on the left of a binary operator."""
    return _unary(name, op, op, structure, sample_kwargs=sample_kwargs, covers=covers, **info)


def _variance(name, reference, **info) -> OpInfo:
    return _shaped(
        name,
        getattr(tn, name),
        lambda x, axis, correction, keepdims: reference(
            x, axis=axis, ddof=correction, keepdims=keepdims
        ),
        _variance_kwargs,
        {"axis": 1, "correction": 1, "keepdims": False},
        method=_method(name),
        **info,
    )


_CLIP_BOUNDS = ((-1.0, 1.0), (-0.5, None), (None, 0.5), (0.0, 2.0))
_ARRAY = np.array([2.0, -0.5, 1.0])

OPS: list[OpInfo] = [
    # -- arithmetic ------------------------------------------------------------------------
    _binary("add", tn.add, np.add, method=lambda a, b: a + b),
    _binary("sub", tn.sub, np.subtract, method=lambda a, b: a - b),
    _binary("mul", tn.mul, np.multiply, method=lambda a, b: a * b),
    _binary("div", tn.div, np.divide, method=lambda a, b: a / b, domains=("real", "nonzero")),
    _binary("pow", tn.pow, np.power, method=lambda a, b: a**b, domains=("positive", "real")),
    _unary("neg", tn.neg, np.negative, method=lambda x: -x),
    _pow_scalar("pow_integer", (3, 2, 1, 0), "real"),
    _pow_scalar("pow_negative", (-2, -1), "nonzero"),
    _pow_scalar("pow_fractional", (0.5, 1.5, -0.5, 2.5), "positive"),
    _reflected(
        "radd_scalar",
        lambda x, other: other + x,
        _elementwise(other=(2.5, -1, 0.0)),
        {"other": 2.5},
        ("add",),
    ),
    _reflected(
        "rsub_scalar",
        lambda x, other: other - x,
        _elementwise(other=(1.5, 3, 0.0)),
        {"other": 1.5},
        ("sub",),
    ),
    _reflected(
        "rmul_array",
        lambda x, other: other * x,
        _composite(_draw_reflected),
        {"other": _ARRAY},
        ("mul",),
    ),
    _reflected(
        "rdiv_array",
        lambda x, other: other / x,
        _composite(_draw_reflected),
        {"other": _ARRAY},
        ("div",),
        domains="nonzero",
    ),
    _unary(
        "rpow_scalar",
        lambda x, base: base**x,
        lambda x, base: np.power(base, x),
        _elementwise(base=(2.0, 0.5, 3)),
        sample_kwargs={"base": 2.0},
        covers=("pow",),
    ),
    OpInfo(
        "matmul",
        tn.matmul,
        np.matmul,
        _composite(_draw_matmul),
        ((2, 3), (3, 4)),
        method=lambda a, b: a @ b,
    ),
    _reflected(
        "rmatmul_array",
        lambda x, other: other @ x,
        _composite(_draw_rmatmul),
        {"other": np.arange(6.0).reshape(2, 3)},
        ("matmul",),
        sample_shapes=((3, 2),),
    ),
    OpInfo(
        "linear",
        ops.linear,
        lambda x, weight, bias: x @ weight.T + bias,
        _composite(_draw_linear, True),
        ((2, 3), (4, 3), (4,)),
    ),
    OpInfo(
        "linear_no_bias",
        ops.linear,
        lambda x, weight: x @ weight.T,
        _composite(_draw_linear, False),
        ((3,), (2, 3)),
        covers=("linear",),
    ),
    # -- elementwise functions -----------------------------------------------------------------
    _unary("exp", tn.exp, np.exp, method=_method("exp")),
    _unary("log", tn.log, np.log, method=_method("log"), domains="positive"),
    _unary("log1p", tn.log1p, np.log1p, method=_method("log1p"), domains="unit"),
    _unary("sqrt", tn.sqrt, np.sqrt, method=_method("sqrt"), domains="positive"),
    _unary("abs", tn.abs, np.abs, method=lambda x: abs(x), avoid=(0.0,)),
    _unary("sin", tn.sin, np.sin, method=_method("sin")),
    _unary("cos", tn.cos, np.cos, method=_method("cos")),
    _unary("tanh", tn.tanh, np.tanh, method=_method("tanh")),
    _unary("sigmoid", tn.sigmoid, scipy.special.expit, method=_method("sigmoid")),
    _unary("erf", tn.erf, scipy.special.erf, method=_method("erf")),
    _unary("relu", tn.relu, lambda x: np.maximum(x, 0.0), method=_method("relu"), avoid=(0.0,)),
    _unary(
        "leaky_relu",
        tn.leaky_relu,
        lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
        _elementwise(negative_slope=(0.01, 0.2, 1.5)),
        sample_kwargs={"negative_slope": 0.2},
        avoid=(0.0,),
        method=_method("leaky_relu"),
    ),
    _unary(
        "elu",
        tn.elu,
        lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)),
        _elementwise(alpha=(1.0, 0.5, 2.0)),
        sample_kwargs={"alpha": 0.5},
        avoid=(0.0,),
        method=_method("elu"),
    ),
    _unary("gelu", tn.gelu, lambda x: x * scipy.special.ndtr(x), method=_method("gelu")),
    _unary(
        "gelu_tanh",
        lambda x: tn.gelu(x, approximate="tanh"),
        _gelu_tanh_reference,
        covers=("gelu",),
        method=lambda x: x.gelu(approximate="tanh"),
    ),
    _unary(
        "softplus",
        tn.softplus,
        lambda x, beta: np.log1p(np.exp(beta * x)) / beta,
        _elementwise(beta=(1.0, 2.0, 0.5)),
        sample_kwargs={"beta": 1.0},
        method=_method("softplus"),
    ),
    _unary(
        "clip",
        lambda x, bounds: tn.clip(x, *bounds),
        lambda x, bounds: np.clip(x, *bounds),
        _elementwise(bounds=_CLIP_BOUNDS),
        sample_kwargs={"bounds": (-1.0, 1.0)},
        avoid=tuple(sorted({b for pair in _CLIP_BOUNDS for b in pair if b is not None})),
        method=lambda x, bounds: x.clip(*bounds),
    ),
    _binary("maximum", tn.maximum, np.maximum, method=_method("maximum"), distinct=True),
    _binary("minimum", tn.minimum, np.minimum, method=_method("minimum"), distinct=True),
    OpInfo(
        "where",
        lambda a, b, condition: tn.where(condition, a, b),
        lambda a, b, condition: np.where(condition, a, b),
        _composite(_draw_where, False),
        ((2, 3), (3,)),
        {"condition": np.array([[True], [False]])},
    ),
    OpInfo(
        "where_scalar",
        lambda a, condition: tn.where(condition, a, 0.0),
        lambda a, condition: np.where(condition, a, 0.0),
        _composite(_draw_where, True),
        ((2, 3),),
        {"condition": np.array([True, False, True])},
        covers=("where",),
    ),
    # A round trip through float32: exact at float32 values, and a step of 2**-10 is far
    # above float32's resolution, so the finite difference sees the derivative 1.
    _unary(
        "cast",
        lambda x, dtype: tn.cast(tn.cast(x, dtype), x.dtype),
        lambda x, dtype: x.astype(dtype).astype(x.dtype),
        _elementwise(dtype=(np.float32,)),
        sample_kwargs={"dtype": np.float32},
        gradcheck_eps=2.0**-10,
        method=lambda x, dtype: x.astype(dtype).astype(x.dtype),
    ),
    # -- reductions ----------------------------------------------------------------------------
    _reduction("sum", np.sum),
    _reduction("mean", np.mean),
    _reduction("prod", np.prod),  # exact zeros are common draws: both backward routes
    _reduction("max", np.max, distinct=True),
    _reduction("min", np.min, distinct=True),
    _reduction("logsumexp", _logsumexp),
    _variance("var", np.var),
    # std = sqrt(var) has a kink where all values of a slice tie (var = 0).
    _variance("std", np.std, distinct=True, margin=0.05),
    _shaped(
        "softmax",
        tn.softmax,
        lambda x, axis: scipy.special.softmax(x, axis=axis),
        _single_axis,
        {"axis": -1},
        min_dims=1,
        method=_method("softmax"),
    ),
    _shaped(
        "log_softmax",
        tn.log_softmax,
        lambda x, axis: scipy.special.log_softmax(x, axis=axis),
        _single_axis,
        {"axis": 0},
        min_dims=1,
        method=_method("log_softmax"),
    ),
    # -- shape and movement ------------------------------------------------------------------
    _shaped(
        "reshape",
        lambda x, shape: tn.reshape(x, shape),
        np.reshape,
        _reshape_kwargs,
        {"shape": (3, -1)},
        method=lambda x, shape: x.reshape(*shape),
    ),
    _shaped(
        "transpose",
        lambda x, axes: tn.transpose(x, axes) if axes else tn.transpose(x),
        lambda x, axes: np.transpose(x, axes or None),
        _transpose_kwargs,
        {"axes": (1, 0)},
        method=lambda x, axes: x.transpose(axes) if axes else x.transpose(),
    ),
    _unary("T", lambda x: x.T, np.transpose, covers=("transpose",)),
    OpInfo(
        "broadcast_to",
        tn.broadcast_to,
        np.broadcast_to,
        _composite(_draw_broadcast),
        ((3, 1),),
        {"shape": (2, 3, 4)},
        method=_method("broadcast_to"),
    ),
    OpInfo(
        "expand",
        lambda x, shape: tn.expand(x, *shape),
        _expand_reference,
        _composite(_draw_broadcast, True),
        ((3, 1),),
        {"shape": (2, -1, 4)},
        method=lambda x, shape: x.expand(*shape),
    ),
    OpInfo(
        "sum_to_shape",
        tn.sum_to_shape,
        _sum_to_shape_reference,
        _composite(_draw_sum_to_shape),
        ((2, 3, 4),),
        {"shape": (3, 1)},
    ),
    _shaped(
        "flatten",
        tn.flatten,
        _flatten_reference,
        _flatten_kwargs,
        {"start_axis": 0, "end_axis": -1},
        method=_method("flatten"),
    ),
    OpInfo(
        "squeeze",
        tn.squeeze,
        lambda x, axis: np.squeeze(x, axis),
        _with_shape(_squeeze_kwargs),
        ((2, 1, 3, 1),),
        {"axis": (1, -1)},
        method=_method("squeeze"),
    ),
    _shaped(
        "unsqueeze",
        tn.unsqueeze,
        np.expand_dims,
        _unsqueeze_kwargs,
        {"axis": -1},
        method=_method("unsqueeze"),
    ),
    OpInfo(
        "getitem",
        lambda x, index: x[index],
        lambda x, index: x[_numpy_index(index)],
        _with_shape(_getitem_kwargs),
        ((4, 3),),
        {"index": (np.array([0, 2, 0, -1]), slice(None, None, -2))},
    ),
    OpInfo(
        "concatenate",
        lambda *xs, axis: tn.concatenate(xs, axis=axis),
        lambda *xs, axis: np.concatenate(xs, axis=axis),
        _composite(_draw_join, False),
        ((2, 3), (1, 3)),
        {"axis": 0},
    ),
    OpInfo(
        "stack",
        lambda *xs, axis: tn.stack(xs, axis=axis),
        lambda *xs, axis: np.stack(xs, axis=axis),
        _composite(_draw_join, True),
        ((2, 3), (2, 3)),
        {"axis": -1},
    ),
    OpInfo(
        "pad",
        tn.pad,
        lambda x, pad_width, value: np.pad(x, pad_width, constant_values=value),
        _with_shape(_pad_kwargs, max_dims=2, max_size=6),
        ((2, 3),),
        {"pad_width": ((1, 0), (0, 2)), "value": 1.5},
    ),
    # -- fused losses (issue 12): one primitive each, behind nn.functional's losses -------------
    OpInfo(
        "softmax_cross_entropy",
        ops.softmax_cross_entropy,
        _softmax_cross_entropy_reference,
        _composite(_draw_class_logits),
        ((3, 4),),
        {"target": np.array([0, 3, 1]), "reduction": "mean"},
    ),
    OpInfo(
        "binary_cross_entropy_with_logits",
        ops.binary_cross_entropy_with_logits,
        _bce_with_logits_reference,
        _composite(_draw_binary_logits),
        ((2, 3), (2, 3)),
        {"reduction": "mean"},
    ),
    # -- not differentiable: forward only, results never require grad --------------------------
    _comparison("lt", np.less, lambda a, b: a < b),
    _comparison("le", np.less_equal, lambda a, b: a <= b),
    _comparison("gt", np.greater, lambda a, b: a > b),
    _comparison("ge", np.greater_equal, lambda a, b: a >= b),
    _comparison("eq", np.equal, lambda a, b: a == b),
    _comparison("ne", np.not_equal, lambda a, b: a != b),
    _reduction("argmax", np.argmax, draw_kwargs=_argmax_kwargs, differentiable=False),
    _reduction("argmin", np.argmin, draw_kwargs=_argmax_kwargs, differentiable=False),
    # -- PyTorch spellings and in-place forms (issue 10) ---------------------------------------
    _shaped(
        "transpose_swap",
        lambda x, dims: tn.transpose(x, *dims),
        lambda x, dims: np.swapaxes(x, *dims),
        _swap_kwargs,
        {"dims": (0, -1)},
        min_dims=1,
        covers=("transpose",),
        method=lambda x, dims: x.transpose(*dims),
    ),
    _shaped(
        "permute",
        lambda x, axes: tn.permute(x, *axes),
        lambda x, axes: np.transpose(x, axes),
        _permute_kwargs,
        {"axes": (1, 0)},
        method=lambda x, axes: x.permute(*axes),
    ),
    # Each in-place op runs on a non-leaf copy of the broadcast shape, so gradients flow
    # through the in-place form to both inputs, at first and second order.
    _binary("add_", lambda a, b: _inplace_target(a, b).add_(b), np.add, covers=("add",)),
    _binary("sub_", lambda a, b: _inplace_target(a, b).sub_(b), np.subtract, covers=("sub",)),
    _binary("mul_", lambda a, b: _inplace_target(a, b).mul_(b), np.multiply, covers=("mul",)),
    _binary(
        "div_",
        lambda a, b: _inplace_target(a, b).div_(b),
        np.divide,
        domains=("real", "nonzero"),
        covers=("div",),
    ),
    _binary("iadd", _iadd, np.add, covers=("add",)),
    _binary(
        "copy_",
        lambda a, b: _inplace_target(a, b).copy_(b),
        lambda a, b: np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)) + 0.0 * a,
        covers=("where",),
    ),
    _unary(
        "fill_",
        lambda x: (x * 1.0).fill_(0.5),
        lambda x: np.full_like(x, 0.5),
        covers=("where",),
    ),
    _unary(
        "clamp_",
        lambda x, bounds: x.clone().clamp_(*bounds),
        lambda x, bounds: np.clip(x, *bounds),
        _elementwise(bounds=_CLIP_BOUNDS),
        sample_kwargs={"bounds": (-1.0, 1.0)},
        avoid=tuple(sorted({b for pair in _CLIP_BOUNDS for b in pair if b is not None})),
        covers=("clip",),
    ),
    # In-place ops on views of a non-leaf (PyTorch's CopySlices): the base's gradient flows
    # through the op inside the view's region and around it outside, at both orders.
    _unary("view_exp_", _exp_every_other, _exp_every_other_reference, covers=("getitem",)),
    _binary("view_mul_", _mul_through_a_transpose, np.multiply, covers=("transpose", "mul")),
    _binary("view_iadd", _iadd_into_a_slice, _iadd_into_a_slice_reference, covers=("add",)),
    _binary("view_put", _put_every_other, _put_every_other_reference, covers=("where",)),
]


# == convolution, pooling and linear algebra (issue 11, items 6-7) ============================
# Inputs stay tiny: a second-order check costs one backward pass per input and output element.
def _draw_kernel_setup(draw, spatial: int) -> dict:
    return {
        "kernel": tuple(draw(st.integers(1, 3 if spatial == 1 else 2)) for _ in range(spatial)),
        "stride": tuple(draw(st.integers(1, 2)) for _ in range(spatial)),
        "dilation": tuple(draw(st.integers(1, 2)) for _ in range(spatial)),
    }


def _draw_batch(draw, channels: int, size: tuple) -> int:
    return draw(st.integers(1, 2)) if channels * math.prod(size) <= 4 else 1


def _draw_conv(draw, spatial: int):
    setup = _draw_kernel_setup(draw, spatial)
    kernel, stride, dilation = setup["kernel"], setup["stride"], setup["dilation"]
    groups = draw(st.sampled_from((1, 1, 2)))
    in_per, out_per = (1, 1) if groups == 2 else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    options = ["valid", "ints"] + (["same"] if stride == (1,) * spatial else [])
    kind = draw(st.sampled_from(options))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(spatial)) if kind == "ints" else kind
    widths = padding if kind == "ints" else (0,) * spatial
    extents = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = tuple(
        draw(st.integers(max(1, e - 2 * p), max(1, e - 2 * p) + (2 if spatial == 1 else 1)))
        for e, p in zip(extents, widths)
    )
    batch = _draw_batch(draw, groups * in_per, size)
    shapes: tuple[tuple[int, ...], ...] = (
        (batch, groups * in_per, *size),
        (groups * out_per, in_per, *kernel),
    )
    if draw(st.booleans()):  # a bias
        shapes += ((groups * out_per,),)
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return shapes, kwargs


def _draw_conv_transpose(draw, spatial: int):
    setup = _draw_kernel_setup(draw, spatial)
    kernel, stride, dilation = setup["kernel"], setup["stride"], setup["dilation"]
    groups = draw(st.sampled_from((1, 1, 2)))
    in_per, out_per = (1, 1) if groups == 2 else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = tuple(draw(st.integers(1, 3 if spatial == 1 else 2)) for _ in range(spatial))
    extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    full = [
        (n - 1) * s + d * (k - 1) + 1 + e
        for n, s, d, k, e in zip(size, stride, dilation, kernel, extra)
    ]
    padding = tuple(draw(st.integers(0, min(1, (f - 1) // 2))) for f in full)
    batch = _draw_batch(draw, groups * in_per, size)
    shapes: tuple[tuple[int, ...], ...] = (
        (batch, groups * in_per, *size),
        (groups * in_per, out_per, *kernel),
    )
    if draw(st.booleans()):  # a bias
        shapes += ((groups * out_per,),)
    kwargs = {
        "stride": stride,
        "padding": padding,
        "output_padding": extra,
        "groups": groups,
        "dilation": dilation,
    }
    return shapes, kwargs


def _draw_pool(draw, spatial: int, kind: str):
    setup = _draw_kernel_setup(draw, spatial)
    kernel, dilation = setup["kernel"], setup["dilation"]
    stride = draw(st.sampled_from((None, setup["stride"])))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    kwargs = {"kernel_size": kernel, "stride": stride, "padding": padding}
    kwargs["ceil_mode"] = draw(st.booleans())
    if kind == "max":
        kwargs["dilation"] = dilation
    else:
        dilation = (1,) * spatial
        kwargs["count_include_pad"] = draw(st.booleans())
        if spatial == 2:
            kwargs["divisor_override"] = draw(st.sampled_from((None, 3)))
    extents = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    # At least extent - padding: no dilated window then falls wholly in the padding.
    lows = [max(1, e - p) for e, p in zip(extents, padding)]
    size = tuple(draw(st.integers(low, low + (3 if spatial == 1 else 2))) for low in lows)
    channels = draw(st.integers(1, 2))
    batched = draw(st.booleans())
    shape = (_draw_batch(draw, channels, size), channels, *size) if batched else (channels, *size)
    return (shape,), kwargs


def _draw_adaptive(draw, spatial: int):
    size = tuple(draw(st.integers(1, 5 if spatial == 1 else 4)) for _ in range(spatial))
    sizes = tuple(draw(st.sampled_from((None, 1, 2, 3))) for _ in range(spatial))
    output_size: int | tuple[int | None, ...] = sizes
    if spatial == 1 or draw(st.booleans()):
        output_size = sizes[0] or 2
    channels = draw(st.integers(1, 2))
    return ((_draw_batch(draw, channels, size), channels, *size),), {"output_size": output_size}


def _spatial_tuple(value, spatial: int) -> tuple:
    return (value,) * spatial if isinstance(value, int) else tuple(value)


def _conv_reference(x, weight, *bias, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation by scipy.signal.correlate of each output channel's group."""
    spatial = x.ndim - 2
    stride, dilation = _spatial_tuple(stride, spatial), _spatial_tuple(dilation, spatial)
    kernel = weight.shape[2:]
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        widths = [(t // 2, t - t // 2) for t in totals]
    else:
        widths = [(p, p) for p in _spatial_tuple(0 if padding == "valid" else padding, spatial)]
    padded = np.pad(x, [(0, 0), (0, 0), *widths])
    dilated = np.zeros((*weight.shape[:2], *(d * (k - 1) + 1 for k, d in zip(kernel, dilation))))
    dilated[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)] = weight
    in_per, out_per = x.shape[1] // groups, weight.shape[0] // groups
    every = tuple(slice(None, None, s) for s in stride)
    out = np.array(
        [
            [
                scipy.signal.correlate(
                    padded[n, (c // out_per) * in_per : (c // out_per + 1) * in_per],
                    dilated[c],
                    mode="valid",
                    method="direct",
                )[0][every]
                for c in range(weight.shape[0])
            ]
            for n in range(x.shape[0])
        ]
    )
    return out + bias[0].reshape(-1, *(1,) * spatial) if bias else out


def _conv_transpose_reference(
    x, weight, *bias, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """Every input element times the kernel, added at its strided place (a direct loop)."""
    spatial = x.ndim - 2
    stride, dilation = _spatial_tuple(stride, spatial), _spatial_tuple(dilation, spatial)
    padding = _spatial_tuple(padding, spatial)
    extra = _spatial_tuple(output_padding, spatial)
    kernel = weight.shape[2:]
    in_per, out_per = x.shape[1] // groups, weight.shape[1]
    full = [
        (n - 1) * s + d * (k - 1) + 1 + e
        for n, s, d, k, e in zip(x.shape[2:], stride, dilation, kernel, extra)
    ]
    out = np.zeros((x.shape[0], out_per * groups, *full))
    # Indices are joined with + (no ``a[(n, *rest)]``: mypy takes it for 3.11 syntax).
    for index in np.ndindex(*x.shape):
        n, c, position = index[0], index[1], index[2:]
        group = c // in_per
        for o in range(out_per):
            for offset in np.ndindex(*kernel):
                target = tuple(
                    p * s + k * d for p, s, k, d in zip(position, stride, offset, dilation)
                )
                out[(n, group * out_per + o) + target] += x[index] * weight[(c, o) + offset]
    out = out[(slice(None), slice(None)) + tuple(slice(p, f - p) for p, f in zip(padding, full))]
    return out + bias[0].reshape(-1, *(1,) * spatial) if bias else out


def _pool_windows(size, kernel, stride, padding, dilation, ceil_mode):
    """Per output position: per axis, the padded-window taps that fall inside the input,
    and the window's span clipped at the right padding (PyTorch's averaging divisor)."""
    axes_windows = []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        count = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (count - 1) * s >= n + p:
            count -= 1
        windows = []
        for i in range(count):
            start = i * s - p
            taps = [start + j * d for j in range(k)]
            span = min(start + k, n + p) - start
            windows.append(([t for t in taps if 0 <= t < n], span))
        axes_windows.append(windows)
    return axes_windows


def _pool_reference(x, spatial, reduce, kernel_size, stride, padding, dilation, ceil_mode):
    unbatched = x.ndim == spatial + 1
    if unbatched:
        x = x[None]
    kernel = _spatial_tuple(kernel_size, spatial)
    stride = kernel if stride is None else _spatial_tuple(stride, spatial)
    windows = _pool_windows(
        x.shape[2:], kernel, stride, _spatial_tuple(padding, spatial),
        _spatial_tuple(dilation, spatial), ceil_mode,
    )  # fmt: skip
    out = np.zeros((*x.shape[:2], *(len(w) for w in windows)))
    for position in np.ndindex(*out.shape[2:]):
        chosen = [windows[axis][i] for axis, i in enumerate(position)]
        block = x[(Ellipsis,) + np.ix_(*(taps for taps, _ in chosen))]
        out[(Ellipsis,) + position] = reduce(
            block.reshape(*x.shape[:2], -1), [span for _, span in chosen]
        )
    return out[0] if unbatched else out


def _max_pool_reference(
    x, spatial, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False
):
    return _pool_reference(
        x,
        spatial,
        lambda block, spans: block.max(axis=-1),
        kernel_size,
        stride,
        padding,
        dilation,
        ceil_mode,
    )


def _avg_pool_reference(
    x,
    spatial,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    def mean(block, spans):
        if divisor_override is not None:
            return block.sum(axis=-1) / divisor_override
        return block.sum(axis=-1) / (math.prod(spans) if count_include_pad else block.shape[-1])

    return _pool_reference(x, spatial, mean, kernel_size, stride, padding, 1, ceil_mode)


def _adaptive_avg_pool_reference(x, output_size):
    spatial = x.ndim - 2
    sizes = x.shape[2:]
    output_size = _spatial_tuple(output_size, spatial)
    out_shape = tuple(n if o is None else o for o, n in zip(output_size, sizes))
    out = np.zeros((*x.shape[:2], *out_shape))
    for position in np.ndindex(*out_shape):
        ranges = [
            range(math.floor(i * n / o), math.ceil((i + 1) * n / o))
            for i, n, o in zip(position, sizes, out_shape)
        ]
        out[(Ellipsis,) + position] = x[(Ellipsis,) + np.ix_(*ranges)].mean(
            axis=tuple(range(2, x.ndim))
        )
    return out


def _conv_entry(name, function, reference, draw, spatial, sample_shapes, sample_kwargs):
    return OpInfo(
        name,
        lambda x, weight, *bias, **kwargs: function(x, weight, *bias, **kwargs),
        reference,
        _composite(draw) if spatial is None else _composite(draw, spatial),
        sample_shapes,
        sample_kwargs,
        atol=1e-12,  # sums of up to a dozen products, added in another order
    )


OPS += [
    _conv_entry(
        "conv1d", tn.conv1d, _conv_reference, _draw_conv, 1,
        ((1, 2, 5), (2, 1, 3), (2,)),
        {"stride": 2, "padding": 1, "dilation": 1, "groups": 2},
    ),
    _conv_entry(
        "conv2d", tn.conv2d, _conv_reference, _draw_conv, 2,
        ((1, 2, 3, 4), (2, 2, 2, 2), (2,)),
        {"stride": (1, 2), "padding": 1, "dilation": 1, "groups": 1},
    ),
    _conv_entry(
        "conv_transpose1d", tn.conv_transpose1d, _conv_transpose_reference,
        _draw_conv_transpose, 1,
        ((1, 2, 3), (2, 1, 2), (2,)),
        {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 1},
    ),
    _conv_entry(
        "conv_transpose2d", tn.conv_transpose2d, _conv_transpose_reference,
        _draw_conv_transpose, 2,
        ((1, 2, 2, 2), (2, 1, 2, 2), (1,)),
        {"stride": 2, "padding": (1, 0), "output_padding": (1, 0), "groups": 1, "dilation": 1},
    ),
    OpInfo(
        "max_pool1d", tn.max_pool1d, lambda x, **kw: _max_pool_reference(x, 1, **kw),
        _composite(_draw_pool, 1, "max"),
        ((2, 5),),
        {"kernel_size": 2, "stride": None, "padding": 1, "dilation": 1, "ceil_mode": True},
        distinct=True,  # ties are kinks: their convention is tested on its own
    ),
    OpInfo(
        "max_pool2d", tn.max_pool2d, lambda x, **kw: _max_pool_reference(x, 2, **kw),
        _composite(_draw_pool, 2, "max"),
        ((1, 1, 4, 3),),
        {"kernel_size": (2, 2), "stride": (2, 1), "padding": 1, "dilation": 1, "ceil_mode": False},
        distinct=True,
    ),
    OpInfo(
        "avg_pool1d", tn.avg_pool1d, lambda x, **kw: _avg_pool_reference(x, 1, **kw),
        _composite(_draw_pool, 1, "avg"),
        ((1, 2, 5),),
        {
            "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
            "count_include_pad": False,
        },
    ),
    OpInfo(
        "avg_pool2d", tn.avg_pool2d, lambda x, **kw: _avg_pool_reference(x, 2, **kw),
        _composite(_draw_pool, 2, "avg"),
        ((1, 1, 3, 4),),
        {
            "kernel_size": 2, "stride": None, "padding": (1, 0), "ceil_mode": True,
            "count_include_pad": True, "divisor_override": None,
        },
    ),
    OpInfo(
        "adaptive_avg_pool1d", tn.adaptive_avg_pool1d, _adaptive_avg_pool_reference,
        _composite(_draw_adaptive, 1), ((1, 2, 5),), {"output_size": 3},
    ),
    OpInfo(
        "adaptive_avg_pool2d", tn.adaptive_avg_pool2d, _adaptive_avg_pool_reference,
        _composite(_draw_adaptive, 2), ((1, 1, 3, 5),), {"output_size": (2, None)},
    ),
]  # fmt: skip


# Matrices are drawn from [-3, 3] and made well-conditioned by a shift in the op (and in its
# reference): a signed diagonal of 3n + 1 makes them strictly diagonally dominant, so
# invertible; a spread diagonal separates eigenvalues and singular values by at least 1
# (Weyl), where the gradients of eigenvectors and singular vectors are defined.
def _signed_shift(n: int) -> np.ndarray:
    return np.diag([(-1.0) ** i * (3 * n + 1) for i in range(n)])


def _positive_shift(n: int) -> np.ndarray:
    return np.eye(n) * (3 * n + 1)


def _spread(rows: int, cols: int) -> np.ndarray:
    spread = np.zeros((rows, cols))
    for i in range(min(rows, cols)):
        spread[i, i] = (6 * max(rows, cols) + 1) * (i + 1)
    return spread


def _shifted(x, shift: np.ndarray):
    """``x + shift`` for a Tensor (the shift in x's dtype) or an array."""
    if isinstance(x, Tensor):
        return x + Tensor(shift.astype(x.dtype))
    return x + shift


def _symmetric(x):
    return (x + x.swapaxes(-1, -2)) * 0.5


def _draw_square(draw, count: int = 1):
    n = draw(st.integers(1, 3))
    batch = draw(st.sampled_from(((), (2,))))
    return ((*batch, n, n),) * count, {}


def _draw_solve(draw):
    n, k = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    batch = draw(st.sampled_from(((), (2,))))
    rhs = draw(st.sampled_from(((n,), (n, k), (*batch, n, k), (*batch, n))))
    return ((*batch, n, n), rhs), {}


def _draw_rectangular(draw, tall_only: bool = False):
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if tall_only and m < n:
        m, n = n, m
    batch = draw(st.sampled_from(((), (2,))))
    return ((*batch, m, n),), {}


def _solve_reference(a, b):
    a = _shifted(a, _signed_shift(a.shape[-1]))
    if b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]):
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


def _eigh_op(x, eigh, join):
    values, vectors = eigh(_shifted(_symmetric(x), _spread(x.shape[-1], x.shape[-1])))
    # Squared entries: the same for either sign of each eigenvector.
    return join([values, (vectors * vectors).reshape(*values.shape[:-1], -1)])


def _svd_op(x, full_matrices, svd, join):
    u, s, vh = svd(_shifted(x, _spread(*x.shape[-2:])), full_matrices=full_matrices)
    if full_matrices:
        return s
    batch = s.shape[:-1]
    return join([s, (u * u).reshape(*batch, -1), (vh * vh).reshape(*batch, -1)])


def _qr_op(x, mode, qr, join):
    # LAPACK's Householder QR flips signs where a column is exactly zero below the diagonal
    # (a kink of the factorization as computed): the offset, and avoid=-0.5, keep away.
    rows, cols = x.shape[-2:]
    offset = np.tril(np.full((rows, cols), 0.5), -1)
    q, r = qr(_shifted(x, _spread(rows, cols) + offset), mode=mode)
    batch = q.shape[:-2]
    return join([q.reshape(*batch, -1), r.reshape(*batch, -1)])


def _draw_qr(draw):
    (shape,), _ = _draw_rectangular(draw, tall_only=True)
    square = shape[-1] == shape[-2]
    return (shape,), {
        "mode": draw(st.sampled_from(("reduced", "complete") if square else ("reduced",)))
    }


def _draw_svd(draw):
    shapes, _ = _draw_rectangular(draw)
    return shapes, {"full_matrices": draw(st.booleans())}


def _draw_vectors(draw, same: bool):
    n = draw(st.integers(1, 4))
    return ((n,), (n if same else draw(st.integers(1, 4)),)), {}


def _draw_bmm(draw):
    b, n, m, p = (draw(st.integers(1, 3)) for _ in range(4))
    return ((b, n, m), (b, m, p)), {}


def _tn_join(arrays):
    return tn.concatenate(arrays, axis=-1)


def _np_join(arrays):
    return np.concatenate(arrays, axis=-1)


OPS += [
    OpInfo(
        "inv", lambda x: tn.linalg.inv(_shifted(x, _signed_shift(x.shape[-1]))),
        lambda x: np.linalg.inv(_shifted(x, _signed_shift(x.shape[-1]))),
        _composite(_draw_square), ((3, 3),),
        method=lambda x: _shifted(x, _signed_shift(x.shape[-1])).inverse(),
        rtol=1e-10, atol=1e-12,
    ),
    OpInfo(
        "det", lambda x: tn.linalg.det(_shifted(x, _signed_shift(x.shape[-1]))),
        lambda x: np.linalg.det(_shifted(x, _signed_shift(x.shape[-1]))),
        _composite(_draw_square), ((2, 3, 3),),
        method=lambda x: _shifted(x, _signed_shift(x.shape[-1])).det(),
        rtol=1e-10,
    ),
    OpInfo(
        "slogdet", lambda x: tn.stack(tn.linalg.slogdet(_shifted(x, _signed_shift(x.shape[-1])))),
        lambda x: np.stack(np.linalg.slogdet(_shifted(x, _signed_shift(x.shape[-1])))),
        _composite(_draw_square), ((2, 2),),
        method=lambda x: tn.stack(_shifted(x, _signed_shift(x.shape[-1])).slogdet()),
        rtol=1e-10,
    ),
    OpInfo(
        "solve", lambda a, b: tn.linalg.solve(_shifted(a, _signed_shift(a.shape[-1])), b),
        _solve_reference, _composite(_draw_solve), ((2, 3, 3), (2, 3)),
        rtol=1e-10, atol=1e-12,
    ),
    OpInfo(
        "cholesky",
        lambda x, upper: tn.linalg.cholesky(
            _shifted(_symmetric(x), _positive_shift(x.shape[-1])), upper=upper
        ),
        lambda x, upper: np.linalg.cholesky(
            _shifted(_symmetric(x), _positive_shift(x.shape[-1])), upper=upper
        ),
        _composite(lambda draw: (_draw_square(draw)[0], {"upper": draw(st.booleans())})),
        ((3, 3),), {"upper": False},
        rtol=1e-10, atol=1e-12,
    ),
    OpInfo(
        "eigh", lambda x: _eigh_op(x, tn.linalg.eigh, _tn_join),
        lambda x: _eigh_op(x, np.linalg.eigh, _np_join),
        _composite(_draw_square), ((3, 3),),
        rtol=1e-10, atol=1e-12,
    ),
    OpInfo(
        "svd", lambda x, full_matrices: _svd_op(x, full_matrices, tn.linalg.svd, _tn_join),
        lambda x, full_matrices: _svd_op(x, full_matrices, np.linalg.svd, _np_join),
        _composite(_draw_svd),
        ((3, 2),), {"full_matrices": False},
        rtol=1e-10, atol=1e-12,
    ),
    OpInfo(
        "qr", lambda x, mode: _qr_op(x, mode, tn.linalg.qr, _tn_join),
        lambda x, mode: _qr_op(x, mode, np.linalg.qr, _np_join),
        _composite(_draw_qr), ((3, 2),), {"mode": "reduced"},
        avoid=(-0.5,), rtol=1e-10, atol=1e-12,
    ),
    OpInfo(
        "outer", tn.outer, np.outer, _composite(_draw_vectors, False), ((3,), (2,)),
        method=lambda a, b: a.outer(b),
    ),
    OpInfo(
        "dot", tn.dot, np.dot, _composite(_draw_vectors, True), ((3,), (3,)),
        method=lambda a, b: a.dot(b),
    ),
    OpInfo(
        "bmm", tn.bmm, np.matmul, _composite(_draw_bmm), ((2, 2, 3), (2, 3, 2)),
        method=lambda a, b: a.bmm(b),
    ),
]  # fmt: skip
# == end of convolution, pooling and linear algebra ============================================

OPS_BY_NAME: dict[str, OpInfo] = {op.name: op for op in OPS}
if len(OPS_BY_NAME) != len(OPS):
    raise RuntimeError("OpInfo names must be unique")


# == issue 11 (i11a): more elementwise ops, activations, scans, sorting, shape, indexing =========
# Small shapes: the property tests run every entry six ways, second order included.
_SMALL = 6


def _small_unary(name, op, reference, structure=None, sample_shapes=((2, 3),), **info) -> OpInfo:
    structure = structure or _elementwise(max_size=_SMALL)
    return OpInfo(name, op, reference, structure, sample_shapes, **info)


def _small_binary(name, op, reference, **info) -> OpInfo:
    return OpInfo(name, op, reference, _elementwise(2, max_size=_SMALL), ((2, 3), (3,)), **info)


def _small_shaped(name, op, reference, draw_kwargs, sample_kwargs, min_dims=0, **info) -> OpInfo:
    structure = _with_shape(draw_kwargs, min_dims, max_size=_SMALL)
    return OpInfo(name, op, reference, structure, ((2, 3),), sample_kwargs, **info)


_INTEGERS = tuple(float(n) for n in range(-3, 4))  # jumps of floor, ceil, trunc
_HALVES = tuple(n + 0.5 for n in range(-4, 3))  # jumps of round


def _three_way(draw):
    return draw(tst.broadcastable_shapes(3, max_size=_SMALL)), {}


def _draw_glu(draw):
    shape = list(draw(tst.shapes(min_dims=1, max_dims=3, max_size=8)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    shape[axis] *= 2
    return (tuple(shape),), {"dim": axis}


def _selu_reference(x):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * np.where(x > 0, x, alpha * np.expm1(x))


def _hardswish_reference(x):
    return x * np.clip(x + 3, 0, 6) / 6


def _glu_reference(x, dim):
    a, b = np.split(x, 2, axis=dim)
    return a * scipy.special.expit(b)


def _modulo(name, op, reference, method) -> OpInfo:
    """``op(q * b, b)``: the quotient ``q`` keeps away from whole numbers, where ``op`` jumps."""
    return _small_binary(
        name,
        lambda q, b: op(q * b, b),
        lambda q, b: reference(q * b, b),
        domains=("real", "nonzero"),
        avoid=_INTEGERS,
        covers=(name,),
        method=lambda q, b: method(q * b, b),
    )


_ISSUE_11_OPS: list[OpInfo] = [
    # -- rounding: zero gradients; the values keep away from the jumps --------------------------
    _small_unary(
        "rounding",
        lambda x, name: getattr(tn, name)(x),
        lambda x, name: getattr(np, name)(x),
        _elementwise(max_size=_SMALL, name=("floor", "ceil", "trunc", "round", "sign")),
        sample_kwargs={"name": "floor"},
        avoid=_INTEGERS + _HALVES,
        covers=("floor", "ceil", "trunc", "round", "sign"),
        method=lambda x, name: getattr(x, name)(),
    ),
    _small_unary(
        "round_decimals",
        lambda x: tn.round(x, decimals=1),
        lambda x: np.round(x, 1),
        covers=("round",),
        method=lambda x: x.round(decimals=1),
        avoid=tuple((n + 0.5) / 10 for n in range(-31, 30)),  # x * 10 is a half exactly
        margin=0.001,
    ),
    _modulo("fmod", tn.fmod, np.fmod, lambda a, b: a.fmod(b)),
    _modulo("remainder", tn.remainder, np.remainder, lambda a, b: a % b),
    _modulo("floor_divide", tn.floor_divide, np.floor_divide, lambda a, b: a // b),
    # -- smooth functions -----------------------------------------------------------------------
    _small_unary(
        "rsqrt", tn.rsqrt, lambda x: 1 / np.sqrt(x), method=_method("rsqrt"), domains="positive"
    ),
    _small_unary("log2", tn.log2, np.log2, method=_method("log2"), domains="positive"),
    _small_unary("log10", tn.log10, np.log10, method=_method("log10"), domains="positive"),
    _small_unary("exp2", tn.exp2, np.exp2, method=_method("exp2")),
    _small_unary("expm1", tn.expm1, np.expm1, method=_method("expm1")),
    _small_unary("tan", tn.tan, np.tan, method=_method("tan"), domains="unit"),
    _small_unary("asin", tn.asin, np.arcsin, method=_method("asin"), domains="unit"),
    _small_unary("acos", tn.acos, np.arccos, method=_method("acos"), domains="unit"),
    _small_unary("atan", tn.atan, np.arctan, method=_method("atan")),
    _small_unary("sinh", tn.sinh, np.sinh, method=_method("sinh")),
    _small_unary("cosh", tn.cosh, np.cosh, method=_method("cosh")),
    _small_unary("asinh", tn.asinh, np.arcsinh, method=_method("asinh")),
    _small_unary("acosh", tn.acosh, np.arccosh, method=_method("acosh"), domains="above_one"),
    _small_unary("atanh", tn.atanh, np.arctanh, method=_method("atanh"), domains="unit"),
    # y keeps off 0: there atan2 jumps by 2 pi across the negative x axis.
    _small_binary(
        "atan2", tn.atan2, np.arctan2, method=_method("atan2"), domains=("nonzero", "real")
    ),
    _small_binary("logaddexp", tn.logaddexp, np.logaddexp, method=_method("logaddexp")),
    # hypot has a cone's kink at the origin: one side keeps off 0, both keep away from it.
    _small_binary(
        "hypot",
        tn.hypot,
        np.hypot,
        method=_method("hypot"),
        domains=("nonzero", "real"),
        avoid=(0.0,),
    ),
    OpInfo(
        "lerp",
        tn.lerp,
        lambda a, b, w: a + w * (b - a),
        _composite(_three_way),
        ((2, 3), (3,), (2, 1)),
        method=lambda a, b, w: a.lerp(b, w),
    ),
    # -- activations ------------------------------------------------------------------------------
    _small_unary("silu", tn.silu, lambda x: x * scipy.special.expit(x), covers=("silu", "swish")),
    _small_unary("selu", tn.selu, _selu_reference, avoid=(0.0,)),
    _small_unary(
        "celu",
        tn.celu,
        lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x / alpha)),
        _elementwise(max_size=_SMALL, alpha=(1.0, 0.5, 2.0)),
        sample_kwargs={"alpha": 0.5},
        avoid=(0.0,),  # the second derivative jumps there
    ),
    # Scaled, so that both bounds lie inside the drawn values.
    _small_unary(
        "relu6",
        lambda x: tn.relu6(x * 2.5),
        lambda x: np.clip(x * 2.5, 0, 6),
        avoid=(0.0, 2.4),
    ),
    _small_unary(
        "hardtanh",
        lambda x, bounds: tn.hardtanh(x, *bounds),
        lambda x, bounds: np.clip(x, *bounds),
        _elementwise(max_size=_SMALL, bounds=((-1.0, 1.0), (-0.5, 2.0))),
        sample_kwargs={"bounds": (-1.0, 1.0)},
        avoid=(-1.0, -0.5, 1.0, 2.0),
    ),
    _small_unary(
        "hardsigmoid",
        lambda x: tn.hardsigmoid(x * 1.5),
        lambda x: np.clip(x * 1.5 + 3, 0, 6) / 6,
        avoid=(-2.0, 2.0),
    ),
    _small_unary(
        "hardswish",
        lambda x: tn.hardswish(x * 1.5),
        lambda x: _hardswish_reference(x * 1.5),
        avoid=(-2.0, 2.0),
    ),
    _small_unary("mish", tn.mish, lambda x: x * np.tanh(np.logaddexp(0, x))),
    _small_unary("softsign", tn.softsign, lambda x: x / (1 + np.abs(x)), avoid=(0.0,)),
    _small_unary("logsigmoid", tn.logsigmoid, lambda x: -np.logaddexp(0, -x)),
    _small_shaped(
        "softmin",
        lambda x, axis: tn.softmin(x, axis),
        lambda x, axis: scipy.special.softmax(-x, axis=axis),
        _single_axis,
        {"axis": -1},
        min_dims=1,
    ),
    OpInfo("glu", tn.glu, _glu_reference, _composite(_draw_glu), ((2, 4),), {"dim": -1}),
    # -- not differentiable -----------------------------------------------------------------------
    _small_unary("isnan", tn.isnan, np.isnan, method=_method("isnan"), differentiable=False),
    _small_unary("isinf", tn.isinf, np.isinf, method=_method("isinf"), differentiable=False),
    _small_unary(
        "isfinite", tn.isfinite, np.isfinite, method=_method("isfinite"), differentiable=False
    ),
    _small_unary(
        "logical_not",
        tn.logical_not,
        np.logical_not,
        method=_method("logical_not"),
        domains="integer",
        differentiable=False,
    ),
    _comparison("logical_and", np.logical_and, _method("logical_and")),
    _comparison("logical_or", np.logical_or, _method("logical_or")),
    _comparison("logical_xor", np.logical_xor, _method("logical_xor")),
]


# -- structures and references of the scans, sorting, shape and indexing ops -------------------
def _scan_kwargs(draw, shape):
    return {"axis": draw(tst.axes(len(shape), allow_none=False, allow_tuple=False))}


def _sort_kwargs(draw, shape):
    return {**_scan_kwargs(draw, shape), "descending": draw(st.booleans())}


def _sort_reference(x, axis, descending):
    return -np.sort(-x, axis=axis) if descending else np.sort(x, axis=axis)


def _argsort_reference(x, axis, descending):
    return np.argsort(-x if descending else x, axis=axis, kind="stable")


def _topk_kwargs(draw, shape):
    kwargs = _sort_kwargs(draw, shape)
    k = draw(st.integers(0, shape[kwargs["axis"]]))
    return {"k": k, "axis": kwargs["axis"], "largest": kwargs["descending"]}


def _topk_reference(x, k, axis, largest):
    return np.take(_sort_reference(x, axis, largest), np.arange(k), axis=axis)


def _median_dim_kwargs(draw, shape):
    return {**_scan_kwargs(draw, shape), "keepdims": draw(st.booleans())}


def _median_reference(x, axis, keepdims):
    n = x.shape[axis]
    return np.take(np.sort(x, axis=axis), [(n - 1) // 2] if keepdims else (n - 1) // 2, axis=axis)


def _quantile_kwargs(draw, shape):
    return {
        **_single_or_none(draw, shape),
        "q": draw(st.sampled_from((0.5, 0.0, 1.0, 0.3, (0.1, 0.5, 0.95)))),
        "interpolation": draw(
            st.sampled_from(("linear", "lower", "higher", "nearest", "midpoint"))
        ),
    }


def _single_or_none(draw, shape):
    return {"axis": draw(tst.axes(len(shape), allow_tuple=False)), "keepdims": draw(st.booleans())}


def _quantile_reference(x, q, axis, keepdims, interpolation):
    if isinstance(axis, tuple):
        axis = axis[0] if len(axis) == 1 else axis
    return np.quantile(x, q, axis=axis, keepdims=keepdims, method=interpolation)


def _vector_norm_kwargs(draw, shape):
    return {**_single_or_none(draw, shape), "p": draw(st.sampled_from((2, 1, 3, 1.5, "fro")))}


def _vector_norm_reference(x, p, axis, keepdims):
    p = 2 if p == "fro" else p
    return np.sum(np.abs(x) ** p, axis=axis, keepdims=keepdims) ** (1 / p)


def _extreme_norm_kwargs(draw, shape):
    return {**_single_or_none(draw, shape), "p": draw(st.sampled_from((np.inf, -np.inf)))}


def _extreme_norm_reference(x, p, axis, keepdims):
    return (np.max if p > 0 else np.min)(np.abs(x), axis=axis, keepdims=keepdims)


def _matrix_norm_kwargs(draw, shape):
    first = draw(st.integers(0, len(shape) - 1))
    second = draw(st.integers(0, len(shape) - 1).filter(lambda d: d != first))
    return {
        "axis": (first, second),
        "keepdims": draw(st.booleans()),
        "p": draw(st.sampled_from(("fro", 1, -1, np.inf, -np.inf))),
    }


def _draw_spectral_norm(draw):
    shapes, _ = _draw_rectangular(draw)
    return shapes, {"p": draw(st.sampled_from(("nuc", 2, -2))), "keepdims": draw(st.booleans())}


def _ramped(x, axis: tuple[int, int]):
    """``x + 4 * (i + j)`` over the two matrix axes: with entries in the positive domain
    (0.1 to 3), two row (or column) sums of ``n`` entries then differ by at least ``n``."""
    shape = [1] * len(x.shape)
    shape[axis[0]], shape[axis[1]] = x.shape[axis[0]], x.shape[axis[1]]
    rows = np.arange(shape[axis[0]]).reshape(-1, 1)
    cols = np.arange(shape[axis[1]]).reshape(1, -1)
    ramp = 4.0 * (rows + cols)
    if axis[0] > axis[1]:
        ramp = ramp.T
    return _shifted(x, ramp.reshape(shape))


def _matrix_norm_reference(x, p, axis, keepdims):
    return np.linalg.norm(_ramped(x, axis), ord=p, axis=axis, keepdims=keepdims)


def _normalize_kwargs(draw, shape):
    return {**_scan_kwargs(draw, shape), "p": draw(st.sampled_from((2.0, 1.0)))}


def _normalize_reference(x, p, axis):
    length = np.sum(np.abs(x) ** p, axis=axis, keepdims=True) ** (1 / p)
    return x / np.maximum(length, 1e-12)


_EINSUM_CASES = (
    ("ij,jk->ik", ((2, 3), (3, 2))),
    ("ii->i", ((3, 3),)),
    ("ii", ((2, 2),)),
    ("ij->", ((2, 3),)),
    ("ij->ji", ((2, 3),)),
    ("bij,bjk->bik", ((2, 2, 3), (2, 3, 2))),
    ("i,i->", ((3,), (3,))),
    ("i,j->ij", ((2,), (3,))),
    ("...ij->...ji", ((2, 2, 3),)),
    ("ij,ij,ij->i", ((2, 3), (2, 3), (2, 3))),
    ("ij,jk,kl", ((2, 2), (2, 3), (3, 2))),
    ("bi,i->b", ((1, 3), (3,))),
    ("iij->j", ((2, 2, 3),)),
)


def _draw_einsum(draw):
    equation, shapes = draw(st.sampled_from(_EINSUM_CASES))
    return shapes, {"equation": equation}


def _split_kwargs(draw, shape):
    axis = draw(tst.axes(len(shape), allow_none=False, allow_tuple=False))
    n = shape[axis]
    sections = draw(
        st.one_of(st.integers(1, 3), st.lists(st.integers(0, n), min_size=1, max_size=3))
    )
    if isinstance(sections, list):
        sections = [*sections[:-1], 0]
        sections[-1] = n - sum(sections)
        if sections[-1] < 0:
            sections = [n]
    return {"sections": sections, "axis": axis}


def _weighted_pieces(pieces, join):
    return join([piece * (i + 1) for i, piece in enumerate(pieces)])


def _split_reference(x, sections, axis):
    n = x.shape[axis]
    if isinstance(sections, int):
        bounds = list(range(sections, n, sections))
    else:
        bounds = list(np.cumsum(sections)[:-1])
    return np.concatenate([p * (i + 1) for i, p in enumerate(np.split(x, bounds, axis))], axis)


def _chunk_kwargs(draw, shape):
    return {"chunks": draw(st.integers(1, 4)), "axis": _scan_kwargs(draw, shape)["axis"]}


def _chunk_reference(x, chunks, axis):
    n = x.shape[axis]
    size = max(-(-n // chunks), 1)
    return _split_reference(x, size, axis)


def _unbind_reference(x, axis):
    return np.stack([p * (i + 1) for i, p in enumerate(np.moveaxis(x, axis, 0))], axis=0)


def _triangle_kwargs(draw, shape):
    return {"diagonal": draw(st.integers(-2, 2))}


def _diagonal_kwargs(draw, shape):
    kwargs = _matrix_norm_kwargs(draw, shape)
    return {
        "offset": draw(st.integers(-2, 2)),
        "dim1": kwargs["axis"][0],
        "dim2": kwargs["axis"][1],
    }


def _unfold_kwargs(draw, shape):
    dimension = draw(st.integers(0, len(shape) - 1))
    length = shape[dimension]
    return {
        "dimension": dimension,
        "size": draw(st.integers(min(1, length), length)),
        "step": draw(st.integers(1, 3)),
    }


def _unfold_reference(x, dimension, size, step):
    windows = np.lib.stride_tricks.sliding_window_view(x, size, dimension)
    return windows[(slice(None),) * dimension + (slice(None, None, step),)]


def _as_strided_kwargs(draw, shape):
    count = int(np.prod(shape))
    dims = draw(st.integers(1, 2))
    size = [draw(st.integers(1, 3)) for _ in range(dims)]
    stride = [draw(st.integers(0, 2)) for _ in range(dims)]
    if count == 0:
        size, stride = [0] * dims, [1] * dims
    reach = sum((n - 1) * s for n, s in zip(size, stride))
    if reach > count - 1:  # out of the tensor: one element, at the first place
        size, reach = [1] * dims, 0
    offset = draw(st.integers(0, max(count - 1 - reach, 0)))
    return {"size": tuple(size), "stride": tuple(stride), "storage_offset": offset}


def _as_strided_reference(x, size, stride, storage_offset):
    flat = np.ascontiguousarray(x).ravel()
    steps = tuple(s * flat.itemsize for s in stride)
    return np.lib.stride_tricks.as_strided(flat[storage_offset:], size, steps).copy()


def _diag_kwargs(draw, shape):
    return {"diagonal": draw(st.integers(-2, 2))}


def _roll_kwargs(draw, shape):
    if not shape or draw(st.booleans()):
        return {"shifts": draw(st.integers(-4, 4)), "dims": None}
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=2))
    return {"shifts": tuple(draw(st.integers(-4, 4)) for _ in dims), "dims": tuple(dims)}


def _roll_reference(x, shifts, dims):
    return np.roll(x, shifts, axis=dims)


def _repeat_kwargs(draw, shape):
    extra = draw(st.integers(0, 1))
    return {"sizes": tuple(draw(st.integers(0, 2)) for _ in range(len(shape) + extra))}


def _repeat_interleave_kwargs(draw, shape):
    axis = draw(tst.axes(len(shape), allow_tuple=False))
    n = math.prod(shape) if axis is None else shape[axis]
    repeats = draw(
        st.one_of(st.integers(0, 2), st.lists(st.integers(0, 2), min_size=n, max_size=n))
    )
    return {"repeats": np.asarray(repeats, dtype=np.int64), "axis": axis}


def _flip_kwargs(draw, shape):
    return {"dims": draw(tst.axes(len(shape), allow_none=False))}


def _unflatten_kwargs(draw, shape):
    axis = draw(tst.axes(len(shape), allow_none=False, allow_tuple=False))
    n = shape[axis]
    divisor = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0] or [1]))
    sizes = draw(st.sampled_from(((divisor, n // divisor), (-1, divisor), (n,))))
    return {"axis": axis, "sizes": sizes}


def _unflatten_reference(x, axis, sizes):
    axis %= x.ndim
    return x.reshape(*x.shape[:axis], *sizes, *x.shape[axis + 1 :])


def _movedim_kwargs(draw, shape):
    ndim = len(shape)
    count = draw(st.integers(1, ndim))
    source = draw(st.permutations(range(ndim)))[:count]
    destination = draw(st.permutations(range(ndim)))[:count]
    return {"source": tuple(source), "destination": tuple(destination)}


def _swapaxes_kwargs(draw, shape):
    ndim = len(shape)
    return {
        "axis0": draw(st.integers(-ndim, ndim - 1)),
        "axis1": draw(st.integers(-ndim, ndim - 1)),
    }


def _draw_meshgrid(draw):
    count = draw(st.integers(1, 3))
    shapes = tuple((draw(st.integers(1, 3 if count < 3 else 2)),) for _ in range(count))
    return shapes, {"indexing": draw(st.sampled_from(("ij", "xy")))}


def _pad_modes_kwargs(draw, shape):
    mode = draw(st.sampled_from(("reflect", "replicate", "circular", "constant")))
    widths = []
    for n in shape:
        limit = n - 1 if mode == "reflect" else n
        low = -(n // 2) if mode == "constant" else 0
        widths.append(
            (draw(st.integers(low, min(limit, 2))), draw(st.integers(low, min(limit, 2))))
        )
    return {"pad_width": tuple(widths), "mode": mode}


def _pad_modes_reference(x, pad_width, mode):
    crop = tuple(slice(-min(a, 0), n + min(b, 0)) for (a, b), n in zip(pad_width, x.shape))
    widths = [(max(a, 0), max(b, 0)) for a, b in pad_width]
    numpy_mode = {"replicate": "edge", "circular": "wrap"}.get(mode, mode)
    return np.pad(x[crop], widths, mode=numpy_mode)


def _index_shape(draw, shape, axis, larger_axis: bool):
    return tuple(
        draw(st.integers(1, 3)) if d == axis and larger_axis else draw(st.integers(1, n))
        for d, n in enumerate(shape)
    )


def _draw_gather(draw):
    shape = draw(tst.shapes(min_dims=1, max_dims=3, max_size=12))
    axis = draw(st.integers(0, len(shape) - 1))
    index_shape = _index_shape(draw, shape, axis, True)
    index = draw(tst.arrays(index_shape, dtype=np.int64).map(lambda a: np.abs(a) % shape[axis]))
    return (shape,), {"dim": axis - len(shape) * draw(st.integers(0, 1)), "index": index}


def _gather_reference(x, dim, index):
    axis = dim % x.ndim
    out = np.empty(index.shape)
    for position in np.ndindex(*index.shape):
        source = list(position)
        source[axis] = index[position]
        out[position] = x[tuple(source)]
    return out


def _draw_take_along(draw):
    (shape,), kwargs = _draw_gather(draw)
    index = kwargs["index"]
    # NumPy's rule: the other axes broadcast, so use the input's lengths (or 1) there.
    axis = kwargs["dim"] % len(shape)
    target = tuple(
        index.shape[d] if d == axis else draw(st.sampled_from((1, n))) for d, n in enumerate(shape)
    )
    index = np.resize(index, target)
    return (shape,), {"indices": index, "axis": kwargs["dim"]}


def _draw_index_select(draw):
    shape = draw(tst.shapes(min_dims=1, max_dims=3, max_size=12))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    index = np.asarray(draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=4)), np.int64)
    return (shape,), {"dim": axis, "index": index}


def _draw_scatter(draw, reduce: bool, distinct: bool = False):
    shape = draw(tst.shapes(min_dims=1, max_dims=2, max_size=8))
    axis = draw(st.integers(0, len(shape) - 1))
    index_shape = _index_shape(draw, shape, axis, True)
    src_shape = tuple(m + draw(st.integers(0, 1)) for m in index_shape)
    if distinct:  # each place written at most once: repeats are a convention (test_kinks.py)
        index = _distinct_index(_seeded(draw), index_shape, axis, shape[axis])
    else:
        index = draw(tst.arrays(index_shape, dtype=np.int64).map(lambda a: np.abs(a) % shape[axis]))
    kwargs = {"dim": axis, "index": index}
    if reduce:
        kwargs["reduce"] = draw(st.sampled_from(("sum", "prod", "mean", "amax", "amin")))
        kwargs["include_self"] = draw(st.booleans())
    return (shape, src_shape), kwargs


def _distinct_index(rng, index_shape: tuple, axis: int, n: int) -> np.ndarray:
    """An index along ``axis`` of a length-``n`` axis whose values differ within each line
    along it (at most ``n`` of them per line)."""
    index_shape = tuple(min(m, n) if d == axis else m for d, m in enumerate(index_shape))
    index = np.zeros(index_shape, np.int64)
    lines = np.moveaxis(index, axis, -1)  # a view: writing it fills index
    for line in np.ndindex(*lines.shape[:-1]):
        lines[line] = rng.permutation(n)[: lines.shape[-1]]
    return index


def _scatter_reference(x, src, dim, index, reduce="assign", include_self=True):
    out = x.astype(np.float64).copy()
    groups: dict = {}
    for position in np.ndindex(*index.shape):
        target = list(position)
        target[dim] = index[position]
        groups.setdefault(tuple(target), []).append(src[position])
    for target, values in groups.items():
        own = [out[target]] if include_self else []
        if reduce == "assign":
            out[target] = values[-1]
        elif reduce == "add":
            out[target] = out[target] + sum(values)
        elif reduce == "sum":
            out[target] = sum(own + values)
        elif reduce == "prod":
            out[target] = math.prod(own + values)
        elif reduce == "mean":
            out[target] = sum(own + values) / len(own + values)
        else:
            out[target] = (max if reduce == "amax" else min)(own + values)
    return out.astype(x.dtype)


def _draw_masked(draw, select: bool):
    shape_x, shape_mask = draw(tst.broadcastable_pairs(max_size=12))
    if not select:
        shape_mask = draw(tst.shapes_broadcasting_to(shape_x))
    mask = draw(tst.arrays(shape_mask, dtype=np.bool_))
    kwargs = {"mask": mask}
    if not select:
        kwargs["value"] = draw(st.sampled_from((0.0, -1.5, 2)))
    return (shape_x,), kwargs


def _masked_select_reference(x, mask):
    shape = np.broadcast_shapes(x.shape, mask.shape)
    return np.broadcast_to(x, shape)[np.broadcast_to(mask, shape)]


def _one_hot_reference(x, num_classes):
    labels = np.abs(x).astype(np.int64)
    return (np.arange(num_classes) == labels[..., None]).astype(np.int64)


_ISSUE_11_OPS += [  # fmt: skip
    # -- scans ----------------------------------------------------------------------------------
    _small_shaped(
        "cumsum",
        tn.cumsum,
        lambda x, axis: np.cumsum(x, axis),
        _scan_kwargs,
        {"axis": 1},
        min_dims=1,
        method=lambda x, axis: x.cumsum(dim=axis),
    ),
    _small_shaped(
        "cumprod",
        tn.cumprod,
        lambda x, axis: np.cumprod(x, axis),
        _scan_kwargs,
        {"axis": 1},
        min_dims=1,
        method=lambda x, axis: x.cumprod(dim=axis),
    ),
    _small_shaped(
        "logcumsumexp",
        tn.logcumsumexp,
        lambda x, axis: np.logaddexp.accumulate(x, axis),
        _scan_kwargs,
        {"axis": 0},
        min_dims=1,
        method=lambda x, axis: x.logcumsumexp(axis),
    ),
    _small_shaped(
        "cummax",
        lambda x, axis: tn.cummax(x, axis).values,
        lambda x, axis: np.maximum.accumulate(x, axis),
        _scan_kwargs,
        {"axis": 1},
        min_dims=1,
        distinct=True,
        method=lambda x, axis: x.cummax(axis)[0],
    ),
    _small_shaped(
        "cummin",
        lambda x, axis: tn.cummin(x, axis).values,
        lambda x, axis: np.minimum.accumulate(x, axis),
        _scan_kwargs,
        {"axis": 1},
        min_dims=1,
        distinct=True,
        method=lambda x, axis: x.cummin(axis)[0],
    ),
    # -- sorting and order statistics -----------------------------------------------------------
    _small_shaped(
        "sort",
        lambda x, axis, descending: tn.sort(x, axis, descending).values,
        _sort_reference,
        _sort_kwargs,
        {"axis": 1, "descending": True},
        min_dims=1,
        distinct=True,
        method=lambda x, axis, descending: x.sort(dim=axis, descending=descending)[0],
    ),
    _small_shaped(
        "topk",
        lambda x, k, axis, largest: tn.topk(x, k, axis, largest).values,
        _topk_reference,
        _topk_kwargs,
        {"k": 2, "axis": 1, "largest": True},
        min_dims=1,
        distinct=True,
        method=lambda x, k, axis, largest: x.topk(k, dim=axis, largest=largest).values,
    ),
    _small_unary(
        "median",
        tn.median,
        lambda x: np.sort(x.ravel())[(x.size - 1) // 2],
        structure=_with_shape(lambda draw, shape: {}, min_dims=1),
        distinct=True,
        method=_method("median"),
    ),
    _small_shaped(
        "median_dim",
        lambda x, axis, keepdims: tn.median(x, axis, keepdims).values,
        _median_reference,
        _median_dim_kwargs,
        {"axis": 1, "keepdims": False},
        min_dims=1,
        distinct=True,
        covers=("median",),
        method=lambda x, axis, keepdims: x.median(dim=axis, keepdim=keepdims).values,
    ),
    _small_shaped(
        "quantile",
        tn.quantile,
        _quantile_reference,
        _quantile_kwargs,
        {"q": (0.1, 0.5, 0.95), "axis": 1, "keepdims": False, "interpolation": "linear"},
        min_dims=1,
        distinct=True,
        method=_method("quantile"),
    ),
    # -- norms and einsum ----------------------------------------------------------------------------
    _small_shaped(
        "norm",
        lambda x, p, axis, keepdims: tn.norm(x, p, axis, keepdims),
        _vector_norm_reference,
        _vector_norm_kwargs,
        {"p": 2, "axis": None, "keepdims": False},
        domains="nonzero",
        method=lambda x, p, axis, keepdims: x.norm(p, dim=axis, keepdim=keepdims),
    ),
    _small_shaped(
        "norm_extreme",
        lambda x, p, axis, keepdims: tn.norm(x, p, axis, keepdims),
        _extreme_norm_reference,
        _extreme_norm_kwargs,
        {"p": np.inf, "axis": 1, "keepdims": False},
        domains="positive",
        distinct=True,
        covers=("norm",),
    ),
    _small_shaped(
        "norm_matrix",  # ramped: the 1/inf norms' row or column sums never tie (a kink)
        lambda x, p, axis, keepdims: tn.norm(_ramped(x, axis), p, axis, keepdims),
        _matrix_norm_reference,
        _matrix_norm_kwargs,
        {"p": 1, "axis": (0, 1), "keepdims": False},
        min_dims=2,
        domains="positive",
        distinct=True,
        covers=("norm",),
    ),
    OpInfo(
        "norm_spectral",  # 'nuc' and +-2: from singular values kept distinct and nonzero
        lambda x, p, keepdims: tn.norm(_shifted(x, _spread(*x.shape[-2:])), p, (-2, -1), keepdims),
        lambda x, p, keepdims: np.linalg.norm(
            _shifted(x, _spread(*x.shape[-2:])), ord=p, axis=(-2, -1), keepdims=keepdims
        ),
        _composite(_draw_spectral_norm),
        ((2, 3, 2),),
        {"p": "nuc", "keepdims": False},
        rtol=1e-10,
        atol=1e-12,
        covers=("norm",),
    ),
    _small_shaped(
        "normalize",
        lambda x, p, axis: tn.normalize(x, p, axis),
        _normalize_reference,
        _normalize_kwargs,
        {"p": 1.0, "axis": 1},
        min_dims=1,
        domains="nonzero",
        avoid=(0.0,),  # the 1-norm's kinks at each zero, the 2-norm's cone at 0
    ),
    OpInfo(
        "einsum",
        lambda *xs, equation: tn.einsum(equation, *xs),
        lambda *xs, equation: np.einsum(equation, *xs),
        _composite(_draw_einsum),
        ((2, 3), (3, 2)),
        {"equation": "ij,jk->ik"},
    ),
    # -- shape and movement ----------------------------------------------------------------------
    _small_shaped(
        "split",
        lambda x, sections, axis: _weighted_pieces(
            tn.split(x, sections, axis), lambda ps: tn.concatenate(ps, axis)
        ),
        _split_reference,
        _split_kwargs,
        {"sections": [1, 2], "axis": 1},
        min_dims=1,
        method=lambda x, sections, axis: _weighted_pieces(
            x.split(sections, dim=axis), lambda ps: tn.concatenate(ps, axis)
        ),
    ),
    _small_shaped(
        "chunk",
        lambda x, chunks, axis: _weighted_pieces(
            tn.chunk(x, chunks, axis), lambda ps: tn.concatenate(ps, axis)
        ),
        _chunk_reference,
        _chunk_kwargs,
        {"chunks": 2, "axis": 1},
        min_dims=1,
    ),
    _small_shaped(
        "unbind",
        lambda x, axis: _weighted_pieces(tn.unbind(x, axis), lambda ps: tn.stack(ps, 0)),
        _unbind_reference,
        _scan_kwargs,
        {"axis": 1},
        min_dims=1,
    ),
    _small_shaped(
        "tril",
        tn.tril,
        lambda x, diagonal: np.tril(x, diagonal),
        _triangle_kwargs,
        {"diagonal": 0},
        min_dims=2,
        method=_method("tril"),
    ),
    _small_shaped(
        "triu",
        tn.triu,
        lambda x, diagonal: np.triu(x, diagonal),
        _triangle_kwargs,
        {"diagonal": 1},
        min_dims=2,
        method=_method("triu"),
    ),
    _small_shaped(
        "diagonal",
        tn.diagonal,
        lambda x, offset, dim1, dim2: np.diagonal(x, offset, dim1, dim2),
        _diagonal_kwargs,
        {"offset": 0, "dim1": 0, "dim2": 1},
        min_dims=2,
        method=_method("diagonal"),
    ),
    _small_shaped(
        "as_strided",
        tn.as_strided,
        _as_strided_reference,
        _as_strided_kwargs,
        {"size": (2, 2), "stride": (1, 2), "storage_offset": 1},
        method=_method("as_strided"),
    ),
    _small_shaped(
        "unfold",
        lambda x, dimension, size, step: x.unfold(dimension, size, step),
        _unfold_reference,
        _unfold_kwargs,
        {"dimension": 1, "size": 2, "step": 1},
        min_dims=1,
        covers=("Tensor.unfold",),
    ),
    OpInfo(
        "diag",
        tn.diag,
        lambda x, diagonal: np.diag(x, diagonal),
        _composite(
            lambda draw: (
                (draw(tst.shapes(min_dims=1, max_dims=2, max_size=9)),),
                _diag_kwargs(draw, None),
            )
        ),
        ((3,),),
        {"diagonal": 1},
        method=_method("diag"),
    ),
    _small_shaped(
        "roll",
        tn.roll,
        _roll_reference,
        _roll_kwargs,
        {"shifts": (1, -1), "dims": (0, 1)},
        method=_method("roll"),
    ),
    _small_shaped(
        "repeat",
        lambda x, sizes: tn.repeat(x, *sizes),
        lambda x, sizes: np.tile(x, sizes),
        _repeat_kwargs,
        {"sizes": (2, 1, 2)},
        method=lambda x, sizes: x.repeat(*sizes),
    ),
    _small_shaped(
        "tile",
        lambda x, sizes: tn.tile(x, sizes),
        lambda x, sizes: np.tile(x, sizes),
        _repeat_kwargs,
        {"sizes": (2, 1)},
        method=lambda x, sizes: x.tile(sizes),
    ),
    _small_shaped(
        "repeat_interleave",
        tn.repeat_interleave,
        lambda x, repeats, axis: np.repeat(x, repeats, axis),
        _repeat_interleave_kwargs,
        {"repeats": np.array([1, 0, 2]), "axis": 1},
        method=_method("repeat_interleave"),
    ),
    _small_shaped(
        "flip",
        lambda x, dims: tn.flip(x, dims),
        lambda x, dims: np.flip(x, dims),
        _flip_kwargs,
        {"dims": (0, 1)},
        min_dims=1,
        method=lambda x, dims: x.flip(dims),
    ),
    _small_shaped(
        "unflatten",
        tn.unflatten,
        _unflatten_reference,
        _unflatten_kwargs,
        {"axis": 1, "sizes": (3, 1)},
        min_dims=1,
        method=_method("unflatten"),
    ),
    _small_shaped(
        "movedim",
        tn.movedim,
        np.moveaxis,
        _movedim_kwargs,
        {"source": (0,), "destination": (1,)},
        min_dims=1,
        method=_method("movedim"),
    ),
    _small_shaped(
        "swapaxes",
        tn.swapaxes,
        lambda x, axis0, axis1: np.swapaxes(x, axis0, axis1),
        _swapaxes_kwargs,
        {"axis0": 0, "axis1": -1},
        min_dims=1,
        covers=("swapaxes", "swapdims"),
        method=_method("swapaxes"),
    ),
    OpInfo(
        "meshgrid",
        lambda *xs, indexing: tn.stack(tn.meshgrid(*xs, indexing=indexing)),
        lambda *xs, indexing: np.stack(np.meshgrid(*xs, indexing=indexing)),
        _composite(_draw_meshgrid),
        ((2,), (3,)),
        {"indexing": "xy"},
    ),
    OpInfo(
        "pad_modes",
        tn.pad,
        _pad_modes_reference,
        _with_shape(_pad_modes_kwargs, min_dims=1, max_dims=2, max_size=6),
        ((2, 3),),
        {"pad_width": ((1, 1), (-1, 1)), "mode": "reflect"},
        covers=("pad",),
    ),
    # -- indexing and scatter ------------------------------------------------------------------
    OpInfo(
        "gather",
        tn.gather,
        _gather_reference,
        _composite(_draw_gather),
        ((2, 3),),
        {"dim": 1, "index": np.array([[0, 0, 2, 1], [1, 1, 1, 0]])},
        method=lambda x, dim, index: x.gather(dim, index),
    ),
    OpInfo(
        "take_along_axis",
        tn.take_along_axis,
        np.take_along_axis,
        _composite(_draw_take_along),
        ((2, 3),),
        {"indices": np.array([[0, 2, 2]]), "axis": 1},
        method=_method("take_along_axis"),
    ),
    OpInfo(
        "index_select",
        tn.index_select,
        lambda x, dim, index: np.take(x, index, axis=dim),
        _composite(_draw_index_select),
        ((2, 3),),
        {"dim": 1, "index": np.array([2, 0, 2])},
        method=_method("index_select"),
    ),
    # repeated indices: src gets PyTorch's grad.gather, not the derivative (test_kinks.py)
    OpInfo(
        "scatter",
        lambda x, src, dim, index: tn.scatter(x, dim, index, src),
        _scatter_reference,
        _composite(_draw_scatter, False, True),
        ((2, 3), (2, 3)),
        {"dim": 1, "index": np.array([[0, 2], [1, 0]])},
        method=lambda x, src, dim, index: x.scatter(dim, index, src),
    ),
    OpInfo(
        "scatter_add",
        lambda x, src, dim, index: tn.scatter_add(x, dim, index, src),
        lambda x, src, dim, index: _scatter_reference(x, src, dim, index, "add"),
        _composite(_draw_scatter, False),
        ((2, 3), (2, 3)),
        {"dim": 1, "index": np.array([[0, 0, 2], [1, 1, 1]])},
        method=lambda x, src, dim, index: x.scatter_add(dim, index, src),
    ),
    OpInfo(
        "scatter_reduce",
        lambda x, src, dim, index, reduce, include_self: tn.scatter_reduce(
            x, dim, index, src, reduce, include_self=include_self
        ),
        _scatter_reference,
        _composite(_draw_scatter, True),
        ((2, 3), (2, 3)),
        {
            "dim": 1,
            "index": np.array([[0, 0, 2], [1, 1, 1]]),
            "reduce": "amax",
            "include_self": True,
        },
        distinct=True,
        method=lambda x, src, dim, index, reduce, include_self: x.scatter_reduce(
            dim, index, src, reduce, include_self=include_self
        ),
    ),
    OpInfo(
        "masked_fill",
        tn.masked_fill,
        lambda x, mask, value: np.where(mask, value, x),
        _composite(_draw_masked, False),
        ((2, 3),),
        {"mask": np.array([True, False, True]), "value": -1.5},
        method=_method("masked_fill"),
    ),
    OpInfo(
        "masked_select",
        tn.masked_select,
        _masked_select_reference,
        _composite(_draw_masked, True),
        ((2, 3),),
        {"mask": np.array([[True], [False]])},
        method=_method("masked_select"),
    ),
    # -- not differentiable -------------------------------------------------------------------------
    _small_shaped(
        "argsort",
        lambda x, axis, descending: tn.argsort(x, axis, descending),
        _argsort_reference,
        _sort_kwargs,
        {"axis": 1, "descending": False},
        min_dims=1,
        domains="integer",
        differentiable=False,
        method=lambda x, axis, descending: x.argsort(dim=axis, descending=descending),
    ),
    _reduction("any", np.any, domains="integer", differentiable=False),
    _reduction("all", np.all, domains="integer", differentiable=False),
    _small_unary(
        "nonzero",
        tn.nonzero,
        lambda x: np.stack(np.nonzero(x), axis=1),
        structure=_with_shape(lambda draw, shape: {}, min_dims=1),
        domains="integer",
        differentiable=False,
        method=_method("nonzero"),
    ),
    _small_unary(
        "one_hot",
        lambda x, num_classes: tn.one_hot(tn.Tensor(np.abs(x.data).astype(np.int64)), num_classes),
        _one_hot_reference,
        _elementwise(max_size=_SMALL, num_classes=(4, 5)),
        sample_kwargs={"num_classes": 4},
        domains="integer",
        differentiable=False,
    ),
]

OPS.extend(_ISSUE_11_OPS)
# == end of issue 11 (i11a) ======================================================================


# == issue 12: similarities, distances, allclose, unique ====================================
def _draw_pair_of_vectors(draw):
    """Two shapes broadcasting to the first (of at least one axis), in either order."""
    target = draw(tst.shapes(min_dims=1, max_size=_SMALL))
    other = draw(tst.shapes_broadcasting_to(target))
    return (target, other) if draw(st.booleans()) else (other, target)


def _draw_vector_pair(draw):
    shapes = _draw_pair_of_vectors(draw)
    ndim = max(len(s) for s in shapes)
    return shapes, {"dim": draw(st.integers(-ndim, ndim - 1))}


def _cosine_reference(x1, x2, dim):
    x1, x2 = np.broadcast_arrays(x1, x2)
    n1 = np.maximum(np.linalg.norm(x1, axis=dim, keepdims=True), 1e-8)
    n2 = np.maximum(np.linalg.norm(x2, axis=dim, keepdims=True), 1e-8)
    return np.sum(x1 / n1 * (x2 / n2), axis=dim)


def _draw_distance(draw):
    shapes = _draw_pair_of_vectors(draw)
    p = draw(st.sampled_from((2.0, 1.0, 3.0)))
    return shapes, {
        "p": p,
        "eps": draw(st.sampled_from((0.0, 1e-6))),
        "keepdim": draw(st.booleans()),
    }


def _distance_reference(difference, x2, p, eps, keepdim):
    # The op's first input is x1 - x2, kept away from 0 (the 1-norm's kinks; eps << margin).
    x1 = x2 + difference
    return np.linalg.norm(x1 - x2 + eps, ord=p, axis=-1, keepdims=keepdim)


def _draw_allclose(draw):
    shapes = draw(tst.broadcastable_shapes(2, max_size=_SMALL))
    return shapes, {"scale": draw(st.sampled_from((0.0, 1e-10, 1e-6, 1e-3))), "nan": False}


def _unique_kwargs(draw, shape):
    dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1))) if shape else None
    return {"dim": dim, "which": draw(st.sampled_from((0, 1, 2)))}


def _as_int64(x):
    return tn.Tensor(x.data.astype(np.int64))


def _unique_reference(x, dim, which):
    x = x.astype(np.int64)
    result = np.unique(x, return_inverse=True, return_counts=True, axis=dim)
    if which == 1:
        return result[1].reshape(x.shape if dim is None else (x.shape[dim],))
    return result[which]


_ISSUE_12_OPS: list[OpInfo] = [
    OpInfo(
        "cosine_similarity",
        lambda x1, x2, dim: tn.cosine_similarity(x1, x2, dim=dim),
        _cosine_reference,
        _composite(_draw_vector_pair),
        ((2, 3), (3,)),
        {"dim": 1},
        domains="nonzero",  # no zero vector (its norm's cone); norms stay far above eps
    ),
    OpInfo(
        "pairwise_distance",
        lambda difference, x2, p, eps, keepdim: tn.pairwise_distance(
            x2 + difference, x2, p=p, eps=eps, keepdim=keepdim
        ),
        _distance_reference,
        _composite(_draw_distance),
        ((2, 3), (3,)),
        {"p": 1.0, "eps": 0.0, "keepdim": False},
        domains="nonzero",
        avoid=(0.0,),  # |x1 - x2| = 0: the 1-norm's kink, the 2-norm's cone
        rtol=1e-9,  # x2 + difference - x2 rounds
        atol=1e-10,
    ),
    OpInfo(
        "allclose",
        lambda a, b, scale, nan: tn.tensor(tn.allclose(a, a + b * scale, equal_nan=nan)),
        lambda a, b, scale, nan: np.asarray(np.allclose(a, a + b * scale, equal_nan=nan)),
        _composite(_draw_allclose),
        ((2, 3), (3,)),
        {"scale": 1e-6, "nan": False},
        differentiable=False,
    ),
    _small_shaped(
        "unique",
        lambda x, dim, which: tn.unique(
            _as_int64(x), return_inverse=True, return_counts=True, dim=dim
        )[which],
        _unique_reference,
        _unique_kwargs,
        {"dim": None, "which": 1},
        domains="integer",
        differentiable=False,
    ),
]

OPS.extend(_ISSUE_12_OPS)
# == end of issue 12 =============================================================================

# == resampling: interpolate ====================================================================
# Every mode is linear in the input with constant weights: no kinks to keep away from.
_LINEAR_MODE = {1: "linear", 2: "bilinear", 3: "trilinear"}
# Informative values first: Hypothesis starts (and shrinks) from a strategy's first choice.
_SCALE_FACTORS = (1.7, 2.0, 0.5, 1.5, 2.5, 0.75, 1.0)
_INTERPOLATE_MODES = (
    "bilinear", "nearest", "linear", "nearest-exact", "bicubic", "trilinear", "area", "lanczos"
)  # fmt: skip


def _draw_interpolate(draw):
    mode = draw(st.sampled_from(_INTERPOLATE_MODES))
    ranks = {"linear": 1, "bilinear": 2, "bicubic": 2, "lanczos": 2, "trilinear": 3}
    spatial = ranks[mode] if mode in ranks else draw(st.sampled_from((2, 1, 3)))
    largest = {1: 4, 2: 3, 3: 2}[spatial]  # outputs stay small: order 2 costs one pass each
    kwargs: dict[str, Any] = {"size": None, "scale_factor": None, "mode": mode}
    if draw(st.booleans()):
        shape = tuple(draw(st.sampled_from((2, 3, 1)[:largest])) for _ in range(spatial))
        size = tuple(draw(st.sampled_from((3, 5, 1, 2, 4)[: largest + 1])) for _ in range(spatial))
        kwargs["size"] = size if spatial > 1 or draw(st.booleans()) else size[0]
        kwargs["recompute_scale_factor"] = draw(st.sampled_from((None, False)))
    else:
        factors = tuple(draw(st.sampled_from(_SCALE_FACTORS)) for _ in range(spatial))
        one: float | tuple = factors
        if spatial == 1 or draw(st.booleans()):
            factors = (factors[0],) * spatial
            one = factors[0] if draw(st.booleans()) else factors
        # At least one output element per axis, and at most about largest + 1.
        shape = tuple(
            draw(st.sampled_from(range(max(math.ceil(1 / f), int((largest + 1) / f)), 0, -1)))
            for f in factors
        )
        shape = tuple(max(n, math.ceil(1 / f)) for n, f in zip(shape, factors))
        kwargs["scale_factor"] = one
        kwargs["recompute_scale_factor"] = draw(st.sampled_from((None, True, False)))
    corners = {_LINEAR_MODE[spatial]: (False, True, None), "bicubic": (False, True, None)}
    corners["lanczos"] = (False, None)  # lanczos: Pillow's filter, antialias only
    kwargs["align_corners"] = draw(st.sampled_from(corners[mode])) if mode in corners else None
    kwargs["antialias"] = mode == "lanczos" or (
        mode in ("bilinear", "bicubic") and draw(st.booleans())
    )
    channels = draw(st.integers(1, 2))
    return ((_draw_batch(draw, channels, shape), channels, *shape),), kwargs


def _nearest_source(i, n, out, factor, exact):
    """PyTorch's nearest_idx / nearest_exact_idx (aten/src/ATen/native/UpSample.h): float32
    scales, the OpenCV rule (with its copies for out == n and out == 2n) or the exact one."""
    if not exact and out == n:
        return i
    if not exact and out == 2 * n:
        return i // 2
    scale = np.float32(1.0 / factor) if factor else np.float32(n) / np.float32(out)
    if exact:
        source = math.floor(np.float32((i + 0.5) * float(scale)))
    else:
        source = math.floor(np.float32(i) * scale)
    return min(source, n - 1)


def _linear_sources(i, n, out, factor, align_corners):
    """``[(input index, weight), ...]`` of output ``i``, PyTorch's
    compute_source_index_and_lambda in float64: an axis that keeps its size is copied."""
    if out == n:
        return [(i, 1.0)]
    if align_corners:
        real = (n - 1) / (out - 1) * i if out > 1 else 0.0
    else:
        scale = 1.0 / factor if factor else n / out
        real = max(scale * (i + 0.5) - 0.5, 0.0)
    low = min(int(real), n - 1)
    weight = min(max(real - low, 0.0), 1.0)
    return [(low, 1.0 - weight), (min(low + 1, n - 1), weight)]


def _keys_cubic(d, a):
    d = abs(d)
    if d <= 1:
        return (a + 2) * d**3 - (a + 3) * d**2 + 1
    return a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a if d < 2 else 0.0


def _cubic_sources(i, n, out, factor, align_corners):
    """PyTorch's bicubic (HelperInterpCubic in UpSampleKernel.cpp): Keys' cubic convolution
    kernel, A = -0.75, on the four inputs around the unclamped position, indices clamped to
    the edge; no copy of an unchanged axis."""
    if align_corners:
        real = (n - 1) / (out - 1) * i if out > 1 else 0.0
    else:
        real = (1.0 / factor if factor else n / out) * (i + 0.5) - 0.5
    low = min(math.floor(real), n - 1)
    t = min(max(real - low, 0.0), 1.0)

    return [(min(max(low + k, 0), n - 1), _keys_cubic(t - k, -0.75)) for k in (-1, 0, 1, 2)]


def _lanczos3(d):
    return float(np.sinc(d) * np.sinc(d / 3)) if abs(d) < 3 else 0.0


_AA_FILTERS = {  # mode: (support at scale 1, filter), Pillow's
    "bilinear": (1.0, lambda d: max(1.0 - abs(d), 0.0)),
    "bicubic": (2.0, lambda d: _keys_cubic(d, -0.5)),
    "lanczos": (3.0, _lanczos3),
}


def _antialias_sources(i, n, out, factor, align_corners, mode):
    """Pillow's precompute_coeffs (libImaging/Resample.c), PyTorch's antialias: the filter
    (a triangle, Keys' with A = -0.5, or Lanczos-3) stretched by the scale when downsampling,
    over the inputs within its support, normalized; an axis that keeps its size is copied."""
    if out == n:
        return [(i, 1.0)]
    if align_corners:
        scale = (n - 1) / (out - 1) if out > 1 else 0.0
    else:
        scale = 1.0 / factor if factor else n / out
    stretch = max(scale, 1.0)
    width, kernel = _AA_FILTERS[mode]
    support = width * stretch
    center = (i + 0.5) * scale
    inputs = range(max(int(center - support + 0.5), 0), min(int(center + support + 0.5), n))
    weights = [kernel((j - center + 0.5) / stretch) for j in inputs]
    total = sum(weights)
    return [(j, w / total if total else w) for j, w in zip(inputs, weights)]


def _interpolate_reference(
    x, size=None, scale_factor=None, mode="nearest", align_corners=None,
    recompute_scale_factor=None, antialias=False,
):  # fmt: skip
    """Each output element on its own: a sum over the corners of its cell (a loop)."""
    spatial, sizes = x.ndim - 2, x.shape[2:]

    def per_axis_values(value):
        return tuple(value) if isinstance(value, (tuple, list)) else (value,) * spatial

    if size is not None:
        outs, factors = per_axis_values(size), (None,) * spatial
    else:
        factors = per_axis_values(scale_factor)
        outs = tuple(math.floor(n * f) for n, f in zip(sizes, factors))
        if recompute_scale_factor or mode == "area":
            factors = (None,) * spatial
    if mode == "area":
        return _adaptive_avg_pool_reference(x, outs)
    out = np.zeros((*x.shape[:2], *outs))
    for position in np.ndindex(*outs):
        per_axis = []
        for i, n, o, f in zip(position, sizes, outs, factors):
            if mode in ("nearest", "nearest-exact"):
                per_axis.append([(_nearest_source(i, n, o, f, mode == "nearest-exact"), 1.0)])
            elif antialias:
                per_axis.append(_antialias_sources(i, n, o, f, align_corners, mode))
            elif mode == "bicubic":
                per_axis.append(_cubic_sources(i, n, o, f, bool(align_corners)))
            else:
                per_axis.append(_linear_sources(i, n, o, f, bool(align_corners)))
        for corner in itertools.product(*per_axis):
            weight = math.prod(w for _, w in corner)
            out[(Ellipsis,) + position] += weight * x[(Ellipsis,) + tuple(j for j, _ in corner)]
    return out


def _ramp(x):
    return np.arange(x.size).reshape(x.shape).astype(x.dtype)


# The input is the draw plus a ramp: Hypothesis draws constant arrays first, which every mode
# maps to the same constant, whatever positions it reads.
OPS.append(
    OpInfo(
        "interpolate",
        lambda x, **kwargs: ops.interpolate(x + Tensor(_ramp(x.data)), **kwargs),
        lambda x, **kwargs: _interpolate_reference(x + _ramp(x), **kwargs),
        _composite(_draw_interpolate),
        ((1, 2, 3),),
        {
            "size": None, "scale_factor": 1.5, "mode": "linear", "align_corners": False,
            "recompute_scale_factor": None, "antialias": False,
        },
        atol=1e-12,  # up to sixteen weighted terms, added in another order
    )
)  # fmt: skip
# == end of resampling ============================================================================


# == attention ====================================================================================
def _draw_attention(draw, float_mask: bool):
    """Query, key and value shapes sharing batch axes; a causal flag, a scale, and a boolean
    mask (a kwarg; every query keeps a key, else its row is NaN as PyTorch's) or a float
    mask (a fourth, differentiable input)."""
    batch = draw(tst.shapes(max_dims=2, max_side=2, max_size=2))
    length, source, features, values = (draw(st.integers(1, 3)) for _ in range(4))
    shapes: tuple = (
        (*batch, length, features),
        (*batch, source, features),
        (*batch, source, values),
    )
    kwargs: dict = {"scale": draw(st.sampled_from((None, 0.7)))}
    if float_mask:
        return (*shapes, (length, source)), kwargs
    kwargs["is_causal"] = causal = draw(st.booleans())
    if not causal and draw(st.booleans()):
        mask = draw(tst.arrays((length, source), dtype=np.bool_))
        kwargs["attn_mask"] = mask | (np.arange(source) == 0)  # key 0 open to every query
    return shapes, kwargs


def _attention_reference(query, key, value, attn_mask=None, is_causal=False, scale=None):
    """PyTorch's documented formula, with SciPy's softmax."""
    length, source = query.shape[-2], key.shape[-2]
    factor = 1 / np.sqrt(query.shape[-1]) if scale is None else scale
    scores = np.matmul(query, np.swapaxes(key, -1, -2)) * factor
    if is_causal:
        scores = np.where(np.tri(length, source, dtype=bool), scores, -np.inf)
    if attn_mask is not None:
        if attn_mask.dtype == np.bool_:
            scores = np.where(attn_mask, scores, -np.inf)
        else:
            scores = scores + attn_mask
    return np.matmul(scipy.special.softmax(scores, axis=-1), value)


OPS += [
    OpInfo(
        "scaled_dot_product_attention",
        scaled_dot_product_attention,
        _attention_reference,
        _composite(_draw_attention, False),
        ((2, 3, 2), (2, 2, 2), (2, 2, 3)),
        {"is_causal": True, "scale": None},
        atol=1e-12,  # a softmax of products, summed in another order
    ),
    OpInfo(
        "scaled_dot_product_attention_float_mask",
        lambda q, k, v, mask, **kwargs: scaled_dot_product_attention(q, k, v, mask, **kwargs),
        lambda q, k, v, mask, **kwargs: _attention_reference(q, k, v, mask, **kwargs),
        _composite(_draw_attention, True),
        ((3, 2), (2, 2), (2, 1), (3, 2)),
        {"scale": 0.7},
        covers=("scaled_dot_product_attention",),
        atol=1e-12,
    ),
]
# == end of attention =============================================================================
# == PyTorch's names that were missing ==========================================================
_CLAMP_BOUNDS = (-0.5, 0.0, 1.0)


def _nan_to_num_kwargs(draw, shape):
    # Finite draws only: the gradient doctor checks every node by finite differences, which
    # an intermediate holding inf cannot pass (inf - inf); the replacements' values and
    # gradients are checked exactly in tests/test_kinks.py and tests/test_pytorch_names.py.
    return {
        "nan": draw(st.sampled_from((0.0, 1.5))),
        "posinf": draw(st.sampled_from((None, 7.0))),
        "neginf": draw(st.sampled_from((None, -7.0))),
    }


def _draw_diff(draw):
    shape = list(draw(tst.shapes(min_dims=1, max_dims=3, max_size=_SMALL)))
    axis = draw(st.integers(0, len(shape) - 1))
    before, after = list(shape), list(shape)
    before[axis], after[axis] = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    dim = axis - len(shape) * draw(st.integers(0, 1))
    return (tuple(shape), tuple(before), tuple(after)), {"n": draw(st.integers(0, 2)), "dim": dim}


def _diff_reference(x, before, after, n, dim):
    # PyTorch joins prepend and append even for n = 0 (np.diff then returns x alone).
    return np.diff(np.concatenate([before, x, after], axis=dim), n, axis=dim)


def _draw_cdist(draw):
    batch = draw(st.sampled_from(((), (2,), (1,))))
    other_batch = draw(st.sampled_from(((), (2,), (1,)))) if batch else batch
    p, r, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return ((*batch, p, m), (*other_batch, r, m)), {
        "p": draw(st.sampled_from((2.0, 1.0, 3.0, 0.5)))
    }


def _cdist_reference(x1, x2, p):
    import scipy.spatial.distance

    batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    x1 = np.broadcast_to(x1, batch + x1.shape[-2:]).reshape(-1, *x1.shape[-2:])
    x2 = np.broadcast_to(x2, batch + x2.shape[-2:]).reshape(-1, *x2.shape[-2:])
    out = [scipy.spatial.distance.cdist(a, b, "minkowski", p=p) for a, b in zip(x1, x2)]
    return np.stack(out).reshape(*batch, x1.shape[-2], x2.shape[-2])


def _draw_stacked(draw, horizontal: bool):
    ndim = draw(st.integers(1, 3))
    base = list(draw(tst.shapes(min_dims=ndim, max_dims=ndim, max_size=8)))
    axis = 0 if (ndim == 1 or not horizontal) else 1
    joinable = ndim > 1 or horizontal  # vstack of vectors: each becomes one row
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        shape = list(base)
        if joinable:
            shape[axis] = draw(st.integers(1, 2))
        shapes.append(tuple(shape))
    return tuple(shapes), {}


def _draw_take_along_dim(draw):
    if draw(st.booleans()):
        (shape,), kwargs = _draw_take_along(draw)
        return (shape,), {"indices": kwargs["indices"], "dim": kwargs["axis"]}
    shape = draw(tst.shapes(max_size=12))
    size = math.prod(shape)
    index = np.array(draw(st.lists(st.integers(0, size - 1), max_size=5)), np.int64)
    return (shape,), {"indices": index, "dim": None}


def _take_along_dim_reference(x, indices, dim):
    if dim is None:
        return np.take_along_axis(x.ravel(), indices.ravel(), 0)
    return np.take_along_axis(x, indices, dim)


def _draw_cross(draw):
    shape = list(draw(tst.shapes(min_dims=1, max_dims=3, max_size=4)))
    axis = draw(st.integers(0, len(shape) - 1))
    shape[axis] = 3
    other = [n if d == axis or draw(st.booleans()) else 1 for d, n in enumerate(shape)]
    first, second = (tuple(shape), tuple(other))
    if draw(st.booleans()):
        first, second = second, first
    return (first, second), {"dim": axis - len(shape) * draw(st.integers(0, 1))}


def _draw_kron(draw):
    return tuple(draw(tst.shapes(max_dims=2, max_side=3, max_size=4)) for _ in range(2)), {}


def _draw_matrix_product(draw, vector: bool):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    return ((n, k), (k,) if vector else (k, m)), {}


def _narrow_kwargs(draw, shape):
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    start = draw(st.integers(-n, n))
    begin = start % n if start < 0 else start
    return {"dim": axis, "start": start, "length": draw(st.integers(0, n - begin))}


def _narrow_reference(x, dim, start, length):
    begin = start % x.shape[dim] if start < 0 else start
    return np.take(x, np.arange(begin, begin + length), axis=dim)


def _select_kwargs(draw, shape):
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return {"dim": axis, "index": draw(st.integers(-shape[axis], shape[axis] - 1))}


def _draw_cov(draw):
    variables, count = draw(st.integers(1, 3)), draw(st.integers(3, 5))
    shape = draw(st.sampled_from(((variables, count), (count,))))
    weights = draw(st.sampled_from(("none", "frequency", "importance", "both")))
    fweights = aweights = None
    if weights in ("frequency", "both"):
        fweights = np.array(draw(st.lists(st.integers(1, 3), min_size=count, max_size=count)))
    if weights in ("importance", "both"):
        values = st.floats(0.5, 2.0, allow_nan=False, width=16)
        aweights = np.array(draw(st.lists(values, min_size=count, max_size=count)))
    # Importance weights leave fewer degrees of freedom: correction 2 could leave none.
    corrections = (0, 1) if aweights is not None else (0, 1, 2)
    kwargs = {"correction": draw(st.sampled_from(corrections)), "fweights": fweights}
    return (shape,), {**kwargs, "aweights": aweights}


def _decorrelating(shape: tuple, dtype) -> np.ndarray:
    """A fixed offset whose rows are far from collinear: the draws' ramps would make two
    rows correlate exactly (|r| = 1, where corrcoef clips: a kink)."""
    rows, columns = np.indices((1, 1) if len(shape) < 2 else shape[-2:]).astype(float)
    offset = 2.0 * np.sin((rows + 1.0) * (columns + 1.0) ** 2)
    return (offset.reshape(-1) if len(shape) < 2 else offset).astype(dtype)


def _draw_corrcoef(draw):
    variables, count = draw(st.integers(1, 3)), draw(st.integers(3, 5))
    return (draw(st.sampled_from(((variables, count), (count,)))),), {}


def _draw_isclose(draw):
    shapes = draw(tst.broadcastable_shapes(2, max_size=_SMALL))
    return shapes, {"scale": draw(st.sampled_from((0.0, 1e-10, 1e-6, 1e-3)))}


def _draw_equal(draw):
    shapes = draw(tst.broadcastable_shapes(2, max_size=_SMALL))
    return shapes, {"copy": draw(st.booleans())}


def _count_nonzero_kwargs(draw, shape):
    return {"axis": draw(tst.axes(len(shape)))}


def _as_counts(x):
    return tn.Tensor(np.abs(x.data).astype(np.int64))


_BOUNDARIES = (np.array([-2.0, 0.0, 0.0, 1.0]), np.array([0.5]), np.array([-1.0, 1.0, 2.0]))


def _draw_searchsorted(draw):
    if draw(st.booleans()):
        sequence = (draw(st.integers(1, 4)),)
        values = draw(tst.shapes(max_size=_SMALL))
    else:
        lead = draw(tst.shapes(min_dims=1, max_dims=2, max_size=4))
        sequence = (*lead, draw(st.integers(1, 4)))
        values = (*lead, draw(st.integers(1, 3)))
    return (sequence, values), {"right": draw(st.booleans())}


def _searchsorted_reference(sequence, values, right):
    sequence = np.sort(sequence, -1)
    side = "right" if right else "left"
    if sequence.ndim == 1:
        return np.searchsorted(sequence, values, side=side)
    rows, wanted = sequence.reshape(-1, sequence.shape[-1]), values.reshape(-1, values.shape[-1])
    found = [np.searchsorted(r, v, side=side) for r, v in zip(rows, wanted)]
    return np.reshape(found, values.shape)


def _var_mean_reference(x, axis, correction, keepdims, spread):
    spread = np.std if spread == "std" else np.var
    first = spread(x, axis=axis, ddof=correction, keepdims=keepdims)
    return np.stack([first, np.mean(x, axis=axis, keepdims=keepdims)])


def _var_mean_kwargs(draw, shape):
    return {**_variance_kwargs(draw, shape), "spread": draw(st.sampled_from(("var", "std")))}


def _var_mean_op(x, axis, correction, keepdims, spread):
    pair = (tn.std_mean if spread == "std" else tn.var_mean)(x, axis, correction, keepdims)
    return tn.stack(pair)


_PYTORCH_NAMES_OPS: list[OpInfo] = [
    # -- elementwise ------------------------------------------------------------------------------
    _small_unary("square", tn.square, np.square, method=_method("square")),
    _small_unary(
        "clamp_min",
        tn.clamp_min,
        lambda x, min: np.maximum(x, min),
        _elementwise(max_size=_SMALL, min=_CLAMP_BOUNDS),
        sample_kwargs={"min": 0.0},
        avoid=_CLAMP_BOUNDS,
        method=lambda x, min: x.clamp_min(min),
    ),
    _small_unary(
        "clamp_max",
        tn.clamp_max,
        lambda x, max: np.minimum(x, max),
        _elementwise(max_size=_SMALL, max=_CLAMP_BOUNDS),
        sample_kwargs={"max": 0.0},
        avoid=_CLAMP_BOUNDS,
        method=lambda x, max: x.clamp_max(max),
    ),
    _small_unary(
        "frac", tn.frac, lambda x: x - np.trunc(x), avoid=_INTEGERS, method=_method("frac")
    ),
    _small_binary("fmax", tn.fmax, np.fmax, distinct=True, method=_method("fmax")),
    _small_binary("fmin", tn.fmin, np.fmin, distinct=True, method=_method("fmin")),
    _small_shaped(
        "nan_to_num",
        tn.nan_to_num,
        lambda x, **kwargs: np.nan_to_num(x, **kwargs),
        _nan_to_num_kwargs,
        {"nan": 1.5, "posinf": None, "neginf": -7.0},
        method=lambda x, **kwargs: x.nan_to_num(**kwargs),
    ),
    # -- reductions and statistics ----------------------------------------------------------------
    _reduction("amax", np.amax, distinct=True),
    _reduction("amin", np.amin, distinct=True),
    _small_shaped(
        "var_mean",
        _var_mean_op,
        _var_mean_reference,
        _var_mean_kwargs,
        {"axis": 1, "correction": 1, "keepdims": False, "spread": "std"},
        distinct=True,  # as std's entry: std has a kink where a slice's values all tie
        margin=0.05,
        covers=("var_mean", "std_mean"),
    ),
    OpInfo(
        "cov",
        lambda x, **kwargs: tn.cov(x, **kwargs),
        lambda x, correction, fweights, aweights: np.cov(
            x, ddof=correction, fweights=fweights, aweights=aweights
        ),
        _composite(_draw_cov),
        ((2, 4),),
        {"correction": 1, "fweights": np.array([1, 2, 1, 3]), "aweights": None},
        method=lambda x, **kwargs: x.cov(**kwargs),
        rtol=1e-10,
    ),
    OpInfo(
        "corrcoef",
        lambda x: tn.corrcoef(x + _decorrelating(x.shape, x.dtype)),
        lambda x: np.corrcoef(x + _decorrelating(x.shape, x.dtype)),
        _composite(_draw_corrcoef),
        ((3, 4),),
        distinct=True,  # no constant row: its deviation 0 divides
        method=lambda x: (x + _decorrelating(x.shape, x.dtype)).corrcoef(),
        rtol=1e-10,
        atol=1e-12,
    ),
    # -- products ---------------------------------------------------------------------------------
    OpInfo(
        "mm",
        tn.mm,
        np.matmul,
        _composite(_draw_matrix_product, False),
        ((2, 3), (3, 4)),
        method=_method("mm"),
    ),
    OpInfo(
        "mv",
        tn.mv,
        np.matmul,
        _composite(_draw_matrix_product, True),
        ((2, 3), (3,)),
        method=_method("mv"),
    ),
    OpInfo(
        "trace",
        tn.trace,
        np.trace,
        _with_shape(lambda draw, shape: {}, 2, 2, _SMALL),
        ((2, 3),),
        method=_method("trace"),
    ),
    OpInfo(
        "kron", tn.kron, np.kron, _composite(_draw_kron), ((2, 2), (3,)), method=_method("kron")
    ),
    OpInfo(
        "cross",
        tn.cross,
        lambda a, b, dim: np.cross(a, b, axis=dim),
        _composite(_draw_cross),
        ((2, 3), (3,)),
        {"dim": -1},
        method=_method("cross"),
    ),
    OpInfo(
        "cdist",
        tn.cdist,
        _cdist_reference,
        _composite(_draw_cdist),
        ((2, 3), (4, 3)),
        {"p": 2.0},
        distinct=True,  # no zero coordinate difference: |.|'s kink, the norms' cones
        rtol=1e-10,
        atol=1e-12,
    ),
    # -- shape ----------------------------------------------------------------------------------
    OpInfo(
        "t",
        tn.t,
        np.transpose,
        _with_shape(lambda draw, shape: {}, 0, 2, _SMALL),
        ((2, 3),),
        method=_method("t"),
    ),
    _small_shaped(
        "narrow",
        tn.narrow,
        _narrow_reference,
        _narrow_kwargs,
        {"dim": 1, "start": -2, "length": 2},
        min_dims=1,
        method=_method("narrow"),
    ),
    _small_shaped(
        "select",
        tn.select,
        lambda x, dim, index: np.take(x, index, axis=dim),
        _select_kwargs,
        {"dim": 1, "index": -1},
        min_dims=1,
        method=_method("select"),
    ),
    OpInfo(
        "hstack",
        lambda *xs: tn.hstack(xs),
        lambda *xs: np.hstack(xs),
        _composite(_draw_stacked, True),
        ((2, 1), (2, 2)),
    ),
    OpInfo(
        "vstack",
        lambda *xs: tn.vstack(xs),
        lambda *xs: np.vstack(xs),
        _composite(_draw_stacked, False),
        ((3,), (3,)),
    ),
    OpInfo(
        "broadcast_tensors",
        lambda *xs: _weighted_pieces(tn.broadcast_tensors(*xs), tn.stack),
        lambda *xs: np.stack([a * (i + 1) for i, a in enumerate(np.broadcast_arrays(*xs))]),
        _elementwise(2, max_size=_SMALL),
        ((2, 1), (3,)),
    ),
    OpInfo(
        "diff",
        lambda x, before, after, n, dim: tn.diff(x, n, dim, before, after),
        _diff_reference,
        _composite(_draw_diff),
        ((2, 3), (2, 1), (2, 2)),
        {"n": 2, "dim": -1},
        method=lambda x, before, after, n, dim: x.diff(n, dim, prepend=before, append=after),
    ),
    OpInfo(
        "take_along_dim",
        tn.take_along_dim,
        _take_along_dim_reference,
        _composite(_draw_take_along_dim),
        ((2, 3),),
        {"indices": np.array([5, 0, 5]), "dim": None},
        method=_method("take_along_dim"),
    ),
    # -- not differentiable -------------------------------------------------------------------------
    OpInfo(
        "isclose",
        lambda a, b, scale: tn.isclose(a, a + b * scale),
        lambda a, b, scale: np.isclose(a, a + b * scale),
        _composite(_draw_isclose),
        ((2, 3), (3,)),
        {"scale": 1e-6},
        differentiable=False,
        method=lambda a, b, scale: a.isclose(a + b * scale),
    ),
    OpInfo(
        "equal",
        lambda a, b, copy: tn.tensor(tn.equal(a, a * 1 if copy else b)),
        lambda a, b, copy: np.asarray(np.array_equal(a, a if copy else b)),
        _composite(_draw_equal),
        ((2, 3), (3,)),
        {"copy": True},
        domains="integer",
        differentiable=False,
        method=lambda a, b, copy: tn.tensor(a.equal(a * 1 if copy else b)),
    ),
    _small_shaped(
        "count_nonzero",
        tn.count_nonzero,
        lambda x, axis: np.asarray(np.count_nonzero(x, axis=axis), np.int64),
        _count_nonzero_kwargs,
        {"axis": 1},
        domains="integer",
        differentiable=False,
        method=_method("count_nonzero"),
    ),
    _small_unary(
        "bincount",
        lambda x, minlength: tn.bincount(_as_counts(x), minlength=minlength),
        lambda x, minlength: np.bincount(np.abs(x).astype(np.int64), minlength=minlength),
        _with_shape(lambda draw, shape: {"minlength": draw(st.sampled_from((0, 5)))}, 1, 1),
        sample_shapes=((5,),),
        sample_kwargs={"minlength": 5},
        domains="integer",
        differentiable=False,
    ),
    _small_unary(
        "bucketize",
        lambda x, boundaries, right: tn.bucketize(x, boundaries, right=right),
        lambda x, boundaries, right: np.searchsorted(
            boundaries, x, side="right" if right else "left"
        ),
        _elementwise(max_size=_SMALL, boundaries=_BOUNDARIES, right=(False, True)),
        sample_kwargs={"boundaries": _BOUNDARIES[0], "right": False},
        domains="integer",
        differentiable=False,
    ),
    OpInfo(
        "searchsorted",
        lambda sequence, values, right: tn.searchsorted(
            tn.sort(sequence, -1).values, values, right=right
        ),
        _searchsorted_reference,
        _composite(_draw_searchsorted),
        ((2, 4), (2, 3)),
        {"right": True},
        domains="integer",
        differentiable=False,
    ),
]

OPS.extend(_PYTORCH_NAMES_OPS)
# == end of PyTorch's names ==================================================================


# == session 9: the PyTorch names users still missed =========================================
def _kthvalue_kwargs(draw, shape):
    kwargs = _median_dim_kwargs(draw, shape)
    return {"k": draw(st.integers(1, shape[kwargs["axis"]])), **kwargs}


def _kthvalue_reference(x, k, axis, keepdims):
    return np.take(np.sort(x, axis=axis), [k - 1] if keepdims else k - 1, axis=axis)


def _mode_op(x, axis, keepdims):
    # Each slice's first value once more: with distinct values it is the most frequent.
    repeated = tn.cat([x, tn.narrow(x, axis, 0, 1)], axis)
    return tn.mode(repeated, axis, keepdims).values


def _mode_reference(x, axis, keepdims):
    repeated = np.concatenate([x, np.take(x, [0], axis=axis)], axis=axis)
    return scipy.stats.mode(repeated, axis=axis, keepdims=keepdims).mode


def _nan_at(draw, shape, axis) -> np.ndarray:
    """Where to put NaN: drawn, but never at the first element of a reduced slice, so that
    every slice keeps a number (a slice of NaN only has no derivative to check)."""
    where = np.array(draw(tst.arrays(shape, dtype=np.bool_)), dtype=bool)
    reduced = range(len(shape)) if axis is None else np.atleast_1d(axis) % max(len(shape), 1)
    first = tuple(slice(0, 1) if d in reduced else slice(None) for d in range(len(shape)))
    where[first] = False
    return where


def _with_nan(x, nan_at):
    return tn.where(nan_at, float("nan"), x)


def _nan_reduction_kwargs(draw, shape):
    kwargs = _reduction_kwargs(draw, shape)
    return {**kwargs, "nan_at": _nan_at(draw, shape, kwargs["axis"])}


def _nan_median_kwargs(draw, shape):
    kwargs = _median_dim_kwargs(draw, shape)
    return {**kwargs, "nan_at": _nan_at(draw, shape, kwargs["axis"])}


def _nanmedian_reference(x, nan_at, axis=None, keepdims=False):
    if axis is None:
        present = np.sort(x[~nan_at])
        return present[(present.size - 1) // 2]
    ordered = np.sort(np.where(nan_at, np.nan, x), axis=axis)  # NaN last
    middle = (np.sum(~nan_at, axis=axis, keepdims=True) - 1) // 2
    found = np.take_along_axis(ordered, middle, axis)
    return found if keepdims else np.squeeze(found, axis)


def _unique_consecutive_reference(x, dim, which):
    x = x.astype(np.int64)
    pieces = list(x.reshape(-1)) if dim is None else list(np.moveaxis(x, dim, 0))
    values: list = []
    inverse, counts = [], []
    for piece in pieces:
        if values and np.array_equal(values[-1], piece):
            counts[-1] += 1
        else:
            values.append(piece)
            counts.append(1)
        inverse.append(len(values) - 1)
    if which == 1:
        return np.array(inverse, np.int64).reshape(x.shape if dim is None else (-1,))
    if which == 2:
        return np.array(counts, np.int64)
    return np.array(values, np.int64) if dim is None else np.moveaxis(np.stack(values), 0, dim)


def _draw_isin(draw):
    return (draw(tst.shapes(max_size=_SMALL)), (draw(st.integers(0, 4)),)), {
        "invert": draw(st.booleans())
    }


def _nanquantile_kwargs(draw, shape):
    kwargs = _quantile_kwargs(draw, shape)
    return {**kwargs, "nan_at": _nan_at(draw, shape, kwargs["axis"])}


def _nanquantile_reference(x, nan_at, q, axis, keepdims, interpolation):
    return np.nanquantile(
        np.where(nan_at, np.nan, x), q, axis=axis, keepdims=keepdims, method=interpolation
    )


_HISTC_RANGES = ((0.0, 0.0), (-1.0, 1.0), (-2.0, 0.5))


def _histc_reference(x, bins, low, high):
    if low == high:
        low, high = (x.min(), x.max()) if x.size else (low, high)
    if low == high:
        low, high = low - 1, high + 1
    return np.histogram(x, bins, range=(low, high))[0]


_MISSING_NAMES_OPS: list[OpInfo] = [
    # -- order statistics ---------------------------------------------------------------------
    _small_shaped(
        "kthvalue",
        lambda x, k, axis, keepdims: tn.kthvalue(x, k, axis, keepdims).values,
        _kthvalue_reference,
        _kthvalue_kwargs,
        {"k": 2, "axis": 1, "keepdims": False},
        min_dims=1,
        distinct=True,
        method=lambda x, k, axis, keepdims: x.kthvalue(k, dim=axis, keepdim=keepdims).values,
    ),
    _small_shaped(
        "mode",
        _mode_op,
        _mode_reference,
        _median_dim_kwargs,
        {"axis": 1, "keepdims": True},
        min_dims=1,
        distinct=True,
    ),
    _small_shaped(
        "aminmax",
        lambda x, axis, keepdims: tn.stack(tn.aminmax(x, dim=axis, keepdim=keepdims)),
        lambda x, axis, keepdims: np.stack(
            [np.amin(x, axis=axis, keepdims=keepdims), np.amax(x, axis=axis, keepdims=keepdims)]
        ),
        _single_or_none,
        {"axis": 0, "keepdims": False},
        distinct=True,
        method=lambda x, axis, keepdims: tn.stack(x.aminmax(dim=axis, keepdim=keepdims)),
    ),
    _small_shaped(
        "nanmedian",
        lambda x, nan_at: tn.nanmedian(_with_nan(x, nan_at)),
        _nanmedian_reference,
        lambda draw, shape: {"nan_at": _nan_at(draw, shape, None)},
        {"nan_at": np.array([[False, True, False], [True, False, False]])},
        distinct=True,
        method=lambda x, nan_at: _with_nan(x, nan_at).nanmedian(),
    ),
    _small_shaped(
        "nanmedian_dim",
        lambda x, nan_at, axis, keepdims: tn.nanmedian(_with_nan(x, nan_at), axis, keepdims)[0],
        _nanmedian_reference,
        _nan_median_kwargs,
        {"nan_at": np.array([[False, True, True], [False, False, True]]), "axis": 1,
         "keepdims": False},
        min_dims=1,
        distinct=True,
        covers=("nanmedian",),
    ),
    _small_shaped(
        "nanquantile",
        lambda x, nan_at, **kwargs: tn.nanquantile(_with_nan(x, nan_at), **kwargs),
        _nanquantile_reference,
        _nanquantile_kwargs,
        {"nan_at": np.array([[False, True, False], [False, True, True]]), "q": (0.1, 0.5, 0.95),
         "axis": 1, "keepdims": False, "interpolation": "linear"},
        min_dims=1,
        distinct=True,
        method=lambda x, nan_at, **kwargs: _with_nan(x, nan_at).nanquantile(**kwargs),
    ),
    _small_unary(
        "msort",
        tn.msort,
        lambda x: np.sort(x, axis=0),
        structure=_with_shape(lambda draw, shape: {}, min_dims=1),
        distinct=True,
        method=_method("msort"),
    ),
    # -- reductions that skip NaN --------------------------------------------------------------
    _small_shaped(
        "nansum",
        lambda x, nan_at, axis, keepdims: tn.nansum(_with_nan(x, nan_at), axis, keepdims),
        lambda x, nan_at, axis, keepdims: np.nansum(
            np.where(nan_at, np.nan, x), axis=axis, keepdims=keepdims
        ),
        _nan_reduction_kwargs,
        {"nan_at": np.array([[False, True, False], [True, True, False]]), "axis": 1,
         "keepdims": False},
        method=lambda x, nan_at, axis, keepdims: _with_nan(x, nan_at).nansum(axis, keepdims),
    ),
    _small_shaped(
        "nanmean",
        lambda x, nan_at, axis, keepdims: tn.nanmean(_with_nan(x, nan_at), axis, keepdims),
        lambda x, nan_at, axis, keepdims: np.nanmean(
            np.where(nan_at, np.nan, x), axis=axis, keepdims=keepdims
        ),
        _nan_reduction_kwargs,
        {"nan_at": np.array([[False, True, False], [False, True, True]]), "axis": None,
         "keepdims": True},
        method=lambda x, nan_at, axis, keepdims: _with_nan(x, nan_at).nanmean(axis, keepdims),
    ),
    # -- shape ---------------------------------------------------------------------------------
    _small_unary("ravel", tn.ravel, np.ravel, method=_method("ravel")),
    # -- not differentiable: counts ------------------------------------------------------------
    _small_unary(
        "histc",
        lambda x, bins, low, high: tn.histc(x, bins, low, high).long(),
        _histc_reference,
        _with_shape(
            lambda draw, shape: {
                "bins": draw(st.sampled_from((1, 3, 4))),
                **dict(zip(("low", "high"), draw(st.sampled_from(_HISTC_RANGES)))),
            }
        ),
        sample_kwargs={"bins": 4, "low": -1.0, "high": 1.0},
        differentiable=False,
        method=lambda x, bins, low, high: x.histc(bins, low, high).long(),
    ),
    _small_unary(
        "histogram",
        lambda x, bins, range: tn.histogram(x, bins, range=range)[0].long(),
        lambda x, bins, range: np.histogram(x, bins, range=range)[0],
        _with_shape(
            lambda draw, shape: {
                "bins": draw(st.sampled_from((1, 3, 4))),
                "range": draw(st.sampled_from((None, (-1.0, 1.0)))),
            }
        ),
        sample_kwargs={"bins": 3, "range": None},
        differentiable=False,
        method=lambda x, bins, range: x.histogram(bins, range=range)[0].long(),
    ),
    _small_unary(
        "reciprocal",
        tn.reciprocal,
        np.reciprocal,
        domains="nonzero",
        method=_method("reciprocal"),
    ),
    _small_unary(
        "argwhere",
        tn.argwhere,
        lambda x: np.argwhere(x),
        structure=_with_shape(lambda draw, shape: {}, min_dims=1),
        domains="integer",
        differentiable=False,
        method=_method("argwhere"),
    ),
    OpInfo(
        "isin",
        lambda x, tests, invert: tn.isin(x, tests, invert=invert),
        lambda x, tests, invert: np.array(
            [(value in tests.tolist()) != invert for value in x.ravel().tolist()], dtype=bool
        ).reshape(x.shape),
        _composite(_draw_isin),
        ((2, 3), (4,)),
        {"invert": False},
        domains="integer",
        differentiable=False,
    ),
    _small_shaped(
        "unique_consecutive",
        lambda x, dim, which: tn.unique_consecutive(_as_int64(x), True, True, dim)[which],
        _unique_consecutive_reference,
        _unique_kwargs,
        {"dim": None, "which": 2},
        domains="integer",
        differentiable=False,
        method=lambda x, dim, which: _as_int64(x).unique_consecutive(True, True, dim)[which],
    ),
]  # fmt: skip
OPS.extend(_MISSING_NAMES_OPS)
# == end of session 9 ==========================================================================


# == nn.utils: parameters as one vector, padded sequences ========================================
def _draw_sequences(draw):
    trailing = draw(tst.shapes(min_dims=0, max_dims=2, max_size=4))
    lengths = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 3)))]
    kwargs = {
        "batch_first": draw(st.booleans()),
        "padding_value": draw(st.sampled_from([0.0, -1.5])),
        "padding_side": draw(st.sampled_from(["right", "left"])),
    }
    return tuple((n, *trailing) for n in lengths), kwargs


def _pad_sequence_reference(*arrays, batch_first, padding_value, padding_side):
    longest = max(len(a) for a in arrays)
    out = np.full((len(arrays), longest, *arrays[0].shape[1:]), padding_value)
    for row, a in zip(out, arrays):
        if padding_side == "right":
            row[: len(a)] = a
        else:
            row[longest - len(a) :] = a
    return out if batch_first else np.swapaxes(out, 0, 1)


def _draw_parameters(draw):
    return tuple(
        draw(tst.shapes(max_dims=2, max_size=6)) for _ in range(draw(st.integers(1, 3)))
    ), {}


OPS += [
    OpInfo(
        "pad_sequence",
        lambda *sequences, **kwargs: pad_sequence(list(sequences), **kwargs),
        _pad_sequence_reference,
        _composite(_draw_sequences),
        ((3, 2), (1, 2)),
        {"batch_first": False, "padding_value": -1.5, "padding_side": "left"},
        covers=("nn.utils.rnn.pad_sequence",),
    ),
    OpInfo(
        "parameters_to_vector",
        lambda *parameters: parameters_to_vector(parameters),
        lambda *arrays: np.concatenate([a.ravel() for a in arrays]),
        _composite(_draw_parameters),
        ((2, 3), (), (2,)),
        covers=("nn.utils.parameters_to_vector",),
    ),
]
# == the small nn layers and losses PyTorch users reach for (session 4) ==========================
# nn.functional's names. Margins are irrational-looking so that no drawn value sits on a hinge;
# 1/-1 and 0/1 targets and class indices are static arguments drawn from a seed.
_SIGN_MARGINS = (0.0, 0.8660254037844386)


def _seeded(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**16)))


def _draw_channels(draw, min_positions: int):
    """``(N, C, *positions)`` with ``C`` a multiple of the drawn group count."""
    groups = draw(st.integers(1, 2))
    channels = groups * draw(st.integers(1, 2))
    positions = draw(st.sampled_from(((2,), (3,), (1, 2))))
    if math.prod(positions) < min_positions:
        positions = (min_positions,)
    # A second sample checks that statistics stay per sample; twelve values are enough.
    batch = draw(st.integers(1, 2)) if channels * math.prod(positions) <= 6 else 1
    return (batch, channels, *positions), groups


def _draw_group_norm(draw):
    shape, groups = _draw_channels(draw, 1)
    if math.prod(shape[2:]) * shape[1] // groups < 2:  # a group of one value: variance 0
        groups = 1
        shape = (shape[0], 2, *shape[2:]) if math.prod(shape[2:]) < 2 else shape
    eps = draw(st.sampled_from((1e-5, 0.1)))
    return (shape, (shape[1],), (shape[1],)), {"num_groups": groups, "eps": eps}


def _group_norm_reference(x, weight, bias, num_groups, eps):
    grouped = x.reshape(x.shape[0], num_groups, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    var = grouped.var(axis=2, keepdims=True)
    normalized = ((grouped - mean) / np.sqrt(var + eps)).reshape(x.shape)
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return normalized * weight.reshape(per_channel) + bias.reshape(per_channel)


def _draw_instance_norm(draw):
    shape, _ = _draw_channels(draw, 2)
    return (shape, (shape[1],), (shape[1],)), {"eps": draw(st.sampled_from((1e-5, 0.1)))}


def _instance_norm_reference(x, weight, bias, eps):
    axes = tuple(range(2, x.ndim))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return (x - mean) / np.sqrt(var + eps) * weight.reshape(per_channel) + bias.reshape(per_channel)


def _draw_rms_norm(draw):
    shape = draw(tst.shapes(min_dims=1, max_dims=3, max_size=12))
    count = draw(st.integers(1, len(shape)))
    normalized = shape[len(shape) - count :]
    return (shape, normalized), {
        "normalized_shape": normalized,
        "eps": draw(st.sampled_from((None, 1e-5, 0.5))),
    }


def _rms_norm_reference(x, weight, normalized_shape, eps):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    eps = np.finfo(x.dtype).eps if eps is None else eps
    return x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps) * weight


def _draw_prelu(draw):
    shape = draw(tst.shapes(max_dims=3, max_size=12))
    channels = shape[1] if len(shape) > 1 else 1
    return (shape, (draw(st.sampled_from((1, channels))),)), {}


def _prelu_reference(x, weight):
    if weight.size > 1:
        weight = weight.reshape((-1,) + (1,) * (x.ndim - 2))
    elif x.ndim == 0:
        weight = weight.reshape(())
    return np.where(x > 0, x, weight * x)


_THRESHOLDS = (0.5, -1.25)


def _draw_pixel_shuffle(draw):
    factor = draw(st.integers(1, 2))
    lead = draw(st.sampled_from(((), (1,), (2,), (1, 2))))
    channels = draw(st.integers(1, 2)) * factor * factor
    size = tuple(draw(st.integers(1, 2)) for _ in range(2))
    return ((*lead, channels, *size),), {"upscale_factor": factor}


def _pixel_shuffle_reference(x, upscale_factor):
    *lead, channels, height, width = x.shape
    r = upscale_factor
    out = np.empty((*lead, channels // (r * r), height * r, width * r))
    for c, h, w in np.ndindex(
        *out.shape[-3:]
    ):  # out[c, h, w] = in[c r^2 + (h%r) r + w%r, h//r, w//r]
        out[..., c, h, w] = x[..., c * r * r + (h % r) * r + w % r, h // r, w // r]
    return out


def _draw_pixel_unshuffle(draw):
    factor = draw(st.integers(1, 2))
    lead = draw(st.sampled_from(((), (1,), (2,))))
    size = tuple(factor * draw(st.integers(1, 2)) for _ in range(2))
    return ((*lead, draw(st.integers(1, 2)), *size),), {"downscale_factor": factor}


def _pixel_unshuffle_reference(x, downscale_factor):
    *lead, channels, height, width = x.shape
    r = downscale_factor
    out = np.empty((*lead, channels * r * r, height // r, width // r))
    for c, h, w in np.ndindex(*x.shape[-3:]):
        out[..., c * r * r + (h % r) * r + w % r, h // r, w // r] = x[..., c, h, w]
    return out


def _draw_bilinear(draw):
    lead = draw(st.sampled_from(((2,), (), (1, 2))))
    first, second, outputs = (draw(st.integers(1, 2)) for _ in range(3))
    shapes = ((*lead, first), (*lead, second), (outputs, first, second), (outputs,))
    return shapes, {}


def _bilinear_reference(x1, x2, weight, bias):
    return np.einsum("...i,oij,...j->...o", x1, weight, x2) + bias


def _adaptive_max_pool(x: Tensor, **kwargs) -> Tensor:
    pool = tn.adaptive_max_pool1d if x.ndim == 3 else tn.adaptive_max_pool2d
    values = pool(x, **kwargs)
    assert isinstance(values, Tensor)  # return_indices=False
    return values


def _draw_adaptive_max(draw, spatial: int):
    shapes, kwargs = _draw_adaptive(draw, spatial)
    return shapes, {**kwargs, "return_indices": False}


def _adaptive_max_pool_reference(x, output_size, return_indices):
    spatial, sizes = x.ndim - 2, x.shape[2:]
    output_size = _spatial_tuple(output_size, spatial)
    out_shape = tuple(n if o is None else o for o, n in zip(output_size, sizes))
    out = np.zeros((*x.shape[:2], *out_shape))
    for position in np.ndindex(*out_shape):
        ranges = [
            range(math.floor(i * n / o), math.ceil((i + 1) * n / o))
            for i, n, o in zip(position, sizes, out_shape)
        ]
        window = x[(Ellipsis,) + np.ix_(*ranges)]
        out[(Ellipsis,) + position] = window.max(axis=tuple(range(2, x.ndim)))
    return out


def _draw_signed_pair(draw):
    shape = draw(tst.shapes(min_dims=1, max_dims=2, max_size=6))
    target = _seeded(draw).choice((-1.0, 1.0), size=shape)
    return (shape, shape), {
        "target": target,
        "margin": draw(st.sampled_from(_SIGN_MARGINS)),
        "reduction": draw(st.sampled_from(_REDUCTIONS)),
    }


def _margin_ranking_op(x1, x2, **kwargs):
    # input1 + margin * target has its hinge where the drawn input1 == input2 (target**2 = 1).
    shift = (kwargs["margin"] * kwargs["target"]).astype(x1.dtype)
    return F.margin_ranking_loss(x1 + Tensor(shift), x2, **kwargs)


def _margin_ranking_reference(x1, x2, target, margin, reduction):
    return _reduce_reference(np.maximum(0.0, -target * (x1 - x2) + margin), reduction)


def _draw_signed(draw, margin: bool):
    shape = draw(tst.shapes(max_dims=2, max_size=6))
    kwargs: dict[str, Any] = {"target": _seeded(draw).choice((-1.0, 1.0), size=shape)}
    if margin:
        kwargs["margin"] = draw(st.sampled_from(_HINGE_MARGINS))
    return (shape,), {**kwargs, "reduction": draw(st.sampled_from(_REDUCTIONS))}


_HINGE_MARGINS = (1.0, 0.7071067811865476)


def _hinge_embedding_reference(x, target, margin, reduction):
    return _reduce_reference(np.where(target == 1, x, np.maximum(0.0, margin - x)), reduction)


def _draw_multilabel(draw):
    n, classes = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    rng = _seeded(draw)
    shape = (n, classes) if draw(st.booleans()) else (classes,)
    weight = rng.uniform(0.5, 2.0, classes) if draw(st.booleans()) else None
    return (shape,), {
        "target": rng.integers(0, 2, shape).astype(np.float64),
        "weight": weight,
        "reduction": draw(st.sampled_from(_REDUCTIONS)),
    }


def _multilabel_reference(x, target, weight, reduction):
    loss = -(
        target * np.log(scipy.special.expit(x)) + (1 - target) * np.log(scipy.special.expit(-x))
    )
    if weight is not None:
        loss = loss * weight
    return _reduce_reference(loss.mean(axis=-1), reduction)


def _draw_multi_margin(draw):
    n, classes = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    rng = _seeded(draw)
    batched = draw(st.booleans())
    target = rng.integers(0, classes, n if batched else ())
    return (((n, classes) if batched else (classes,)),), {
        "target": np.asarray(target),
        "p": draw(st.sampled_from((1, 2))),
        "margin": draw(st.sampled_from((0.8660254037844386, 1.224744871391589))),
        "weight": rng.uniform(0.5, 2.0, classes) if draw(st.booleans()) else None,
        "reduction": draw(st.sampled_from(_REDUCTIONS)),
    }


def _multi_margin_reference(x, target, p, margin, weight, reduction):
    rows, targets = np.atleast_2d(x), np.atleast_1d(target)
    loss = np.zeros(len(rows))
    for n, (row, y) in enumerate(zip(rows, targets)):
        for i in range(row.size):
            if i != y:
                term = max(0.0, margin - row[y] + row[i]) ** p
                loss[n] += term * (1.0 if weight is None else weight[y])
    loss /= rows.shape[1]
    return _reduce_reference(loss if x.ndim == 2 else loss[0], reduction)


def _target_margin(x: np.ndarray, target: np.ndarray, margin: float) -> np.ndarray:
    """``margin`` at each sample's target class, 0 elsewhere: ``x`` plus this has its hinges
    ``margin - x[y] + x[i] = 0`` exactly where the drawn ``x[i] == x[y]``."""
    return margin * (np.arange(x.shape[-1]) == np.asarray(target)[..., None]).reshape(x.shape)


def _multi_margin_op(x, **kwargs):
    shift = _target_margin(x.data, kwargs["target"], kwargs["margin"]).astype(x.dtype)
    return F.multi_margin_loss(x + Tensor(shift), **kwargs)


def _draw_cosine_embedding(draw):
    n, features = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batched = draw(st.booleans())
    shape = (n, features) if batched else (features,)
    return (shape, shape), {
        "target": _seeded(draw).choice((-1.0, 1.0), size=shape[:-1]),
        "margin": draw(st.sampled_from((-0.3090169943749474, 0.4226182617406994))),
        "reduction": draw(st.sampled_from(_REDUCTIONS)),
    }


def _cosine_embedding_reference(x1, x2, target, margin, reduction):
    cosine = (x1 * x2).sum(-1) / np.sqrt(((x1 * x1).sum(-1) + 1e-12) * ((x2 * x2).sum(-1) + 1e-12))
    loss = np.where(target == 1, 1.0 - cosine, np.maximum(0.0, cosine - margin))
    return _reduce_reference(loss, reduction)


def _draw_triplet(draw):
    shape = draw(st.sampled_from(((2, 2), (3,), (1, 2), (2, 1))))
    return (shape, shape, shape), {
        "margin": draw(st.sampled_from((1.0471975511965976, 0.3183098861837907))),
        "p": draw(st.sampled_from((2.0, 1.0, 3.0))),
        "eps": 1e-6,
        "swap": draw(st.booleans()),
        "reduction": draw(st.sampled_from(_REDUCTIONS)),
    }


def _triplet_op(anchor, to_positive, to_negative, **kwargs):
    # Inputs are the anchor and the differences to it, drawn nonzero and pairwise distinct:
    # no distance (swap's included) is then 0, where the p-norm has its kink.
    return F.triplet_margin_loss(anchor, anchor + to_positive, anchor + to_negative, **kwargs)


def _triplet_reference(anchor, to_positive, to_negative, margin, p, eps, swap, reduction):
    positive, negative = anchor + to_positive, anchor + to_negative

    def distance(a, b):
        return np.linalg.norm(a - b + eps, ord=p, axis=-1)

    far = distance(anchor, negative)
    if swap:
        far = np.minimum(far, distance(positive, negative))
    return _reduce_reference(np.maximum(0.0, distance(anchor, positive) - far + margin), reduction)


def _draw_poisson(draw):
    shape = draw(tst.shapes(max_dims=2, max_size=6))
    return (shape,), {
        "target": _seeded(draw).integers(0, 4, shape).astype(np.float64),
        "log_input": draw(st.booleans()),
        "full": draw(st.booleans()),
        "eps": 1e-8,
        "reduction": draw(st.sampled_from(_REDUCTIONS)),
    }


def _poisson_reference(x, target, log_input, full, eps, reduction):
    loss = np.exp(x) - target * x if log_input else x - target * np.log(x + eps)
    if full:
        safe = np.where(target > 1, target, 1.0)
        stirling = safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe)
        loss = loss + np.where(target > 1, stirling, 0.0)
    return _reduce_reference(loss, reduction)


def _draw_soft_margin(draw):
    shape = draw(tst.shapes(max_dims=2, max_size=6))
    target = _seeded(draw).choice((-1.0, 1.0), size=shape)
    return (shape,), {"target": target, "reduction": draw(st.sampled_from(_REDUCTIONS))}


_SESSION_4_OPS: list[OpInfo] = [
    OpInfo(
        "group_norm",
        lambda x, weight, bias, **kwargs: F.group_norm(x, weight=weight, bias=bias, **kwargs),
        _group_norm_reference, _composite(_draw_group_norm),
        ((2, 4, 3), (4,), (4,)), {"num_groups": 2, "eps": 1e-5}, distinct=True,
        rtol=1e-10, atol=1e-12,
    ),
    OpInfo(
        "instance_norm",
        lambda x, weight, bias, eps: F.instance_norm(x, weight=weight, bias=bias, eps=eps),
        _instance_norm_reference, _composite(_draw_instance_norm),
        ((2, 2, 3), (2,), (2,)), {"eps": 1e-5}, distinct=True, rtol=1e-10, atol=1e-12,
    ),
    OpInfo(
        "rms_norm",
        lambda x, weight, **kwargs: F.rms_norm(x, weight=weight, **kwargs),
        _rms_norm_reference, _composite(_draw_rms_norm),
        ((2, 3), (3,)), {"normalized_shape": (3,), "eps": None},
        domains="nonzero",  # a zero row: x / sqrt(eps), a kink as sharp as eps is small
        rtol=1e-10, atol=1e-12,
    ),
    OpInfo(
        "prelu", F.prelu, _prelu_reference, _composite(_draw_prelu),
        ((2, 3, 2), (3,)), {}, avoid=(0.0,),
    ),
    # threshold jumps at x == threshold, a point no primitive declares (a comparison picks
    # the side): the input is threshold + a draw from the nonzero domain, never within 0.1.
    _unary(
        "threshold",
        lambda x, threshold, value: F.threshold(x + threshold, threshold, value),
        lambda x, threshold, value: np.where(x + threshold > threshold, x + threshold, value),
        _elementwise(threshold=_THRESHOLDS, value=(0.0, -2.0)),
        sample_kwargs={"threshold": _THRESHOLDS[0], "value": -2.0},
        domains="nonzero",
    ),
    OpInfo(
        "adaptive_max_pool1d", _adaptive_max_pool, _adaptive_max_pool_reference,
        _composite(_draw_adaptive_max, 1), ((1, 2, 5),), {"output_size": 3, "return_indices": False},
        distinct=True,  # ties are kinks: their convention is tested on its own
    ),
    OpInfo(
        "adaptive_max_pool2d", _adaptive_max_pool, _adaptive_max_pool_reference,
        _composite(_draw_adaptive_max, 2), ((1, 1, 3, 5),),
        {"output_size": (2, None), "return_indices": False}, distinct=True,
    ),
    OpInfo(
        "pixel_shuffle", F.pixel_shuffle, _pixel_shuffle_reference,
        _composite(_draw_pixel_shuffle), ((1, 8, 2, 1),), {"upscale_factor": 2},
    ),
    OpInfo(
        "pixel_unshuffle", F.pixel_unshuffle, _pixel_unshuffle_reference,
        _composite(_draw_pixel_unshuffle), ((1, 2, 2, 4),), {"downscale_factor": 2},
    ),
    OpInfo(
        "bilinear", F.bilinear, _bilinear_reference, _composite(_draw_bilinear),
        ((2, 3), (2, 2), (4, 3, 2), (4,)), {}, atol=1e-12,
    ),
    OpInfo(
        "margin_ranking_loss", _margin_ranking_op,
        lambda x1, x2, **kw: _margin_ranking_reference(x1 + kw["margin"] * kw["target"], x2, **kw),
        _composite(_draw_signed_pair), ((2, 3), (2, 3)),
        {"target": np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]]), "margin": 0.0,
         "reduction": "mean"},
        distinct=True,  # the hinge, shifted onto input1 == input2 (see _margin_ranking_op)
    ),
    OpInfo(
        "hinge_embedding_loss", F.hinge_embedding_loss, _hinge_embedding_reference,
        _composite(_draw_signed, True), ((2, 3),),
        {"target": np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]]), "margin": 1.0,
         "reduction": "sum"},
        avoid=_HINGE_MARGINS,
    ),
    OpInfo(
        "soft_margin_loss", F.soft_margin_loss,
        lambda x, target, reduction: _reduce_reference(np.logaddexp(0.0, -target * x), reduction),
        _composite(_draw_soft_margin), ((2, 3),),
        {"target": np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]]), "reduction": "mean"},
    ),
    OpInfo(
        "multilabel_soft_margin_loss", F.multilabel_soft_margin_loss, _multilabel_reference,
        _composite(_draw_multilabel), ((2, 3),),
        {"target": np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), "weight": None,
         "reduction": "mean"},
    ),
    OpInfo(
        "multi_margin_loss", _multi_margin_op, lambda x, **kw: _multi_margin_reference(
            x + _target_margin(x, kw["target"], kw["margin"]), **kw),
        _composite(_draw_multi_margin), ((3, 4),),
        {"target": np.array([0, 3, 1]), "p": 1, "margin": 1.224744871391589,
         "weight": np.array([1.0, 0.5, 2.0, 1.5]), "reduction": "mean"},
        distinct=True,  # the hinges, shifted onto ties x[i] == x[y] (see _multi_margin_op)
    ),
    OpInfo(
        "cosine_embedding_loss", F.cosine_embedding_loss, _cosine_embedding_reference,
        _composite(_draw_cosine_embedding), ((2, 3), (2, 3)),
        {"target": np.array([1.0, -1.0]), "margin": 0.0, "reduction": "mean"},
        domains="nonzero",  # no zero vector: the cosine's cone
        # The hinge cos = margin is no point of the inputs: margins no drawn pair of vectors
        # reaches keep the draws off it; distinct=True is the table's flag for that guard.
        distinct=True,
    ),
    OpInfo(
        "triplet_margin_loss", _triplet_op, _triplet_reference, _composite(_draw_triplet),
        ((2, 3), (2, 3), (2, 3)),
        {"margin": 1.0471975511965976, "p": 2.0, "eps": 1e-6, "swap": True, "reduction": "mean"},
        domains=("real", "nonzero", "nonzero"), distinct=True,
        rtol=1e-9, atol=1e-10,  # anchor + difference - anchor rounds
    ),
    OpInfo(
        "poisson_nll_loss",
        F.poisson_nll_loss, _poisson_reference, _composite(_draw_poisson), ((2, 3),),
        {"target": np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 5.0]]), "log_input": False,
         "full": True, "eps": 1e-8, "reduction": "mean"},
        domains="positive",  # log_input=False takes log(input + eps)
    ),
]  # fmt: skip
OPS.extend(_SESSION_4_OPS)
# == end of session 4 ==============================================================================

# == session 10: more of PyTorch's names ===========================================================
_ADD_SCALES = (1, 0.5, -2.0)


def _draw_addc(draw):
    shapes = draw(tst.broadcastable_shapes(3, max_size=_SMALL))
    return shapes, {"value": draw(st.sampled_from(_ADD_SCALES))}


def _draw_addmm(draw):
    n, m, p = (draw(st.integers(1, 3)) for _ in range(3))
    input_shape = draw(st.sampled_from(((n, p), (p,), (1, p), (n, 1), ())))
    scales = {k: draw(st.sampled_from(_ADD_SCALES)) for k in ("beta", "alpha")}
    return (input_shape, (n, m), (m, p)), scales


def _draw_tensordot(draw):
    """Contracted dims of sizes 1-3, each input's free dims, and the inputs' axes shuffled
    (then dims is a pair of lists) or kept in place (then dims is their count, an int)."""
    contracted = draw(st.lists(st.integers(1, 3), max_size=2))
    free_a = draw(st.lists(st.integers(1, 2), max_size=3 - len(contracted)))
    free_b = draw(st.lists(st.integers(1, 2), max_size=3 - len(contracted)))
    k = len(contracted)
    if draw(st.booleans()):
        return (tuple(free_a + contracted), tuple(contracted + free_b)), {"dims": k}
    order_a = draw(st.permutations(range(len(free_a) + k)))
    order_b = draw(st.permutations(range(len(free_b) + k)))
    shape_a, shape_b = free_a + contracted, contracted + free_b
    # contracted dim i sits at position len(free_a) + i of shape_a, i of shape_b
    dims_a = [order_a.index(len(free_a) + i) for i in range(k)]
    dims_b = [order_b.index(i) for i in range(k)]
    return (
        (tuple(shape_a[j] for j in order_a), tuple(shape_b[j] for j in order_b)),
        {"dims": (dims_a, dims_b)},
    )


def _draw_inner(draw):
    if draw(st.integers(0, 4)) == 0:  # a 0-d operand: a product
        shape = draw(tst.shapes(max_dims=2, max_size=_SMALL))
        return (((), shape) if draw(st.booleans()) else (shape, ())), {}
    last = draw(st.integers(1, 3))
    lead_a = draw(st.lists(st.integers(1, 2), max_size=2))
    lead_b = draw(st.lists(st.integers(1, 2), max_size=2))
    return (tuple(lead_a) + (last,), tuple(lead_b) + (last,)), {}


def _logit_reference(p, eps):
    if eps is not None:
        p = np.clip(p, eps, 1 - eps)
    return np.log(p / (1 - p))


def _rot90_kwargs(draw, shape):
    ndim = len(shape)
    first = draw(st.integers(-ndim, ndim - 1))
    second = draw(st.integers(-ndim, ndim - 1).filter(lambda d: (d - first) % ndim != 0))
    return {"k": draw(st.integers(-5, 5)), "dims": (first, second)}


def _tril_indices_kwargs(draw, shape):
    return {"offset": draw(st.integers(-3, 3)), "upper": draw(st.booleans())}


def _triangle_taken(x, offset, upper):
    found = (tn.triu_indices if upper else tn.tril_indices)(x.shape[0], x.shape[1], offset)
    return x[found[0], found[1]]


def _triangle_taken_reference(x, offset, upper):
    found = (np.triu_indices if upper else np.tril_indices)(x.shape[0], offset, x.shape[1])
    return x[found]


def _draw_column_stack(draw):
    rows = draw(st.integers(1, 3))
    count = draw(st.integers(1, 3))
    options = (() if rows == 1 else None, (rows,), (rows, 1), (rows, 2))
    shapes = [draw(st.sampled_from([o for o in options if o is not None])) for _ in range(count)]
    return tuple(shapes), {}


def _draw_blocks(draw):
    shapes = draw(
        st.lists(st.sampled_from(((), (1,), (2,), (1, 2), (2, 1), (2, 2))), min_size=1, max_size=3)
    )
    return tuple(shapes), {}


def _block_diag_reference(*blocks):
    blocks = [np.atleast_2d(b) for b in blocks]
    out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)))
    row = col = 0
    for b in blocks:
        out[row : row + b.shape[0], col : col + b.shape[1]] = b
        row, col = row + b.shape[0], col + b.shape[1]
    return out


def _draw_cartesian_factors(draw):
    count = draw(st.integers(1, 3))
    return tuple((draw(st.integers(1, 3 if count < 3 else 2)),) for _ in range(count)), {}


def _draw_trapezoid(draw):
    shape = draw(tst.shapes(min_dims=1, max_dims=3, max_size=_SMALL))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    kind = draw(st.sampled_from(("dx", "x_1d", "x_same")))
    if kind == "dx":
        return (shape,), {"dx": draw(st.sampled_from((None, 0.5, -2.0))), "dim": dim}
    x_shape = (shape[dim],) if kind == "x_1d" else shape
    return (shape, x_shape), {"dx": None, "dim": dim}


def _trapezoid_reference(y, *x, dx, dim):
    if x:
        return np.trapezoid(y, x[0], axis=dim)
    return np.trapezoid(y, dx=1.0 if dx is None else dx, axis=dim)


def _draw_matrix_power(draw):
    (shape,), _ = _draw_square(draw)
    return (shape,), {"n": draw(st.sampled_from((-2, -1, 1, 2, 3)))}


def _well_conditioned(x):
    return _shifted(x, _signed_shift(x.shape[-1]))


def _positive_definite_ish(x):
    return _shifted(x, _positive_shift(x.shape[-1]))


def _copysign_kwargs(draw, shape):
    signs = draw(st.lists(st.sampled_from((-1.5, -0.0, 0.0, 2.0)), min_size=math.prod(shape),
                          max_size=math.prod(shape)))  # fmt: skip
    return {"other": np.array(signs, dtype=np.float64).reshape(shape)}


def _diag_embed_kwargs(draw, shape):
    ndim = len(shape) + 1
    dim1 = draw(st.integers(-ndim, ndim - 1))
    dim2 = draw(st.integers(-ndim, ndim - 1).filter(lambda d: (d - dim1) % ndim != 0))
    return {"offset": draw(st.integers(-2, 2)), "dim1": dim1, "dim2": dim2}


def _diag_embed_reference(x, offset, dim1, dim2):
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n), x.dtype)
    i = np.arange(x.shape[-1])
    out[..., i + max(-offset, 0), i + max(offset, 0)] = x
    return np.moveaxis(out, (-2, -1), (dim1, dim2))


_SESSION_10_OPS: list[OpInfo] = [
    # -- fused arithmetic and products ----------------------------------------------------------
    OpInfo(
        "addcmul",
        lambda a, b, c, value: tn.addcmul(a, b, c, value=value),
        lambda a, b, c, value: a + value * b * c,
        _composite(_draw_addc),
        ((2, 3), (3,), (2, 1)),
        {"value": 0.5},
        method=lambda a, b, c, value: a.addcmul(b, c, value=value),
    ),
    OpInfo(
        "addcdiv",
        lambda a, b, c, value: tn.addcdiv(a, b, c, value=value),
        lambda a, b, c, value: a + value * b / c,
        _composite(_draw_addc),
        ((2, 3), (3,), (2, 1)),
        {"value": -2.0},
        domains=("real", "real", "nonzero"),
        method=lambda a, b, c, value: a.addcdiv(b, c, value=value),
    ),
    OpInfo(
        "addmm",
        lambda x, a, b, beta, alpha: tn.addmm(x, a, b, beta=beta, alpha=alpha),
        lambda x, a, b, beta, alpha: beta * x + alpha * (a @ b),
        _composite(_draw_addmm),
        ((3,), (2, 4), (4, 3)),
        {"beta": 0.5, "alpha": -2.0},
        method=lambda x, a, b, beta, alpha: x.addmm(a, b, beta=beta, alpha=alpha),
    ),
    OpInfo(
        "tensordot",
        lambda a, b, dims: tn.tensordot(a, b, dims),
        lambda a, b, dims: np.tensordot(a, b, dims),
        _composite(_draw_tensordot),
        ((2, 3, 4), (4, 3, 2)),
        {"dims": ([1, 2], [1, 0])},
    ),
    OpInfo(
        "inner",
        tn.inner,
        np.inner,
        _composite(_draw_inner),
        ((2, 3), (4, 3)),
        method=_method("inner"),
    ),
    # -- smooth elementwise ------------------------------------------------------------------------
    _small_unary(
        "logit",
        lambda p, eps: tn.logit(p, eps),
        _logit_reference,
        _elementwise(max_size=_SMALL, eps=(None, 0.2)),
        sample_kwargs={"eps": 0.2},
        domains=((0.05, 0.95),),
        avoid=(0.2, 0.8),  # the clamp's bounds with eps=0.2
        method=lambda p, eps: p.logit(eps),
    ),
    # y > 0: xlogy is smooth there, x = 0 included (PyTorch's gradient log(y) to x)
    _small_binary(
        "xlogy",
        tn.xlogy,
        scipy.special.xlogy,
        domains=("real", "positive"),
        method=_method("xlogy"),
    ),
    _small_unary("deg2rad", tn.deg2rad, np.deg2rad, method=_method("deg2rad")),
    _small_unary("rad2deg", tn.rad2deg, np.rad2deg, method=_method("rad2deg")),
    # -- PyTorch's aliases -------------------------------------------------------------------------
    _small_unary("negative", tn.negative, np.negative, method=_method("negative")),
    _small_unary("absolute", tn.absolute, np.absolute, method=_method("absolute"), avoid=(0.0,)),
    _small_binary("multiply", tn.multiply, np.multiply, method=_method("multiply")),
    OpInfo(
        "subtract",
        lambda a, b, alpha: tn.subtract(a, b, alpha=alpha),
        lambda a, b, alpha: a - alpha * b,
        _elementwise(2, max_size=_SMALL, alpha=_ADD_SCALES),
        ((2, 3), (3,)),
        {"alpha": 0.5},
        method=lambda a, b, alpha: a.subtract(b, alpha=alpha),
    ),
    _small_binary(
        "divide",
        tn.divide,
        np.divide,
        domains=("real", "nonzero"),
        method=_method("divide"),
    ),
    # -- flips, rotations, at-least views, triangle indices ------------------------------------
    _small_shaped(
        "fliplr",
        tn.fliplr,
        np.fliplr,
        lambda draw, shape: {},
        {},
        min_dims=2,
        method=_method("fliplr"),
    ),
    _small_shaped(
        "flipud",
        tn.flipud,
        np.flipud,
        lambda draw, shape: {},
        {},
        min_dims=1,
        method=_method("flipud"),
    ),
    _small_shaped(
        "rot90",
        lambda x, k, dims: tn.rot90(x, k, dims),
        lambda x, k, dims: np.rot90(x, k, dims),
        _rot90_kwargs,
        {"k": 3, "dims": (1, 0)},
        min_dims=2,
        method=lambda x, k, dims: x.rot90(k, dims),
    ),
    _small_unary("atleast_1d", tn.atleast_1d, np.atleast_1d),
    _small_unary("atleast_2d", tn.atleast_2d, np.atleast_2d),
    _small_unary("atleast_3d", tn.atleast_3d, np.atleast_3d),
    OpInfo(
        "tril_indices",  # the triangle's elements taken with the indices: the indices checked
        _triangle_taken,
        _triangle_taken_reference,
        _with_shape(_tril_indices_kwargs, min_dims=2, max_dims=2, max_size=_SMALL),
        ((3, 2),),
        {"offset": -1, "upper": False},
        covers=("tril_indices", "triu_indices"),
    ),
    # -- more elementwise (session 10, second part) -----------------------------------------------
    _small_unary("erfc", tn.erfc, scipy.special.erfc, method=_method("erfc")),
    # sinc at 0: the gradient 0 is exact, the second derivative 0 is PyTorch's held mask (a
    # `where` in the composite, no primitive's kink): the draws keep off 0 (test_kinks.py)
    _small_unary("sinc", tn.sinc, np.sinc, method=_method("sinc"), domains="nonzero"),
    _small_unary(
        "signbit", tn.signbit, np.signbit, method=_method("signbit"), differentiable=False
    ),
    # copysign: abs's kink at input 0; other's sign must not flip under a finite difference
    # other gets no gradient (PyTorch's zeros): a static argument, signed zeros included
    _small_shaped(
        "copysign",
        lambda x, other: tn.copysign(x, other),
        lambda x, other: np.copysign(x, other),
        _copysign_kwargs,
        {"other": np.array([[-1.0, -0.0, 0.0], [2.0, -3.0, 0.5]])},
        method=lambda x, other: x.copysign(other),
        avoid=(0.0,),  # abs's kink
    ),
    _small_binary(
        "float_power",
        tn.float_power,
        np.float_power,
        method=_method("float_power"),
        domains=("positive", "real"),
        result_dtype=np.float64,
    ),
    _small_binary(
        "gcd",
        lambda a, b: tn.gcd(a.long(), b.long()),
        lambda a, b: np.gcd(a.astype(np.int64), b.astype(np.int64)),
        domains="integer",
        differentiable=False,
        method=lambda a, b: a.long().gcd(b.long()),
    ),
    _small_binary(
        "lcm",
        lambda a, b: tn.lcm(a.long(), b.long()),
        lambda a, b: np.lcm(a.astype(np.int64), b.astype(np.int64)),
        domains="integer",
        differentiable=False,
        method=lambda a, b: a.long().lcm(b.long()),
    ),
    # -- linear algebra --------------------------------------------------------------------------
    OpInfo(
        "logdet",  # shifted to a positive determinant (Gershgorin): a real logarithm
        lambda x: tn.logdet(_positive_definite_ish(x)),
        lambda x: np.log(np.linalg.det(_positive_definite_ish(x))),
        _composite(_draw_square),
        ((2, 3, 3),),
        method=lambda x: _positive_definite_ish(x).logdet(),
        rtol=1e-10,
    ),
    OpInfo(
        "matrix_power",  # shifted to be invertible for the negative powers
        lambda x, n: tn.matrix_power(_well_conditioned(x), n),
        lambda x, n: np.linalg.matrix_power(_well_conditioned(x), n),
        _composite(_draw_matrix_power),
        ((2, 3, 3),),
        {"n": -2},
        method=lambda x, n: _well_conditioned(x).matrix_power(n),
        rtol=1e-10,
        atol=1e-12,
    ),
    # -- joins and integration -------------------------------------------------------------------
    OpInfo(
        "column_stack",
        lambda *xs: tn.column_stack(xs),
        lambda *xs: np.column_stack(xs),
        _composite(_draw_column_stack),
        ((2,), (2, 2)),
    ),
    OpInfo(
        "block_diag",
        tn.block_diag,
        _block_diag_reference,
        _composite(_draw_blocks),
        ((2, 2), (), (2,)),
    ),
    OpInfo(
        "cartesian_prod",
        tn.cartesian_prod,
        lambda *xs: (
            xs[0]
            if len(xs) == 1
            else np.stack([g.ravel() for g in np.meshgrid(*xs, indexing="ij")], axis=1)
        ),
        _composite(_draw_cartesian_factors),
        ((2,), (3,)),
    ),
    OpInfo(
        "trapezoid",
        lambda y, *x, dx, dim: tn.trapezoid(y, *x, dx=dx, dim=dim),
        _trapezoid_reference,
        _composite(_draw_trapezoid),
        ((2, 3), (3,)),
        {"dx": None, "dim": -1},
    ),
    _small_shaped(
        "diag_embed",
        lambda x, offset, dim1, dim2: tn.diag_embed(x, offset, dim1, dim2),
        _diag_embed_reference,
        _diag_embed_kwargs,
        {"offset": -1, "dim1": 0, "dim2": 2},
        min_dims=1,
        method=lambda x, offset, dim1, dim2: x.diag_embed(offset, dim1, dim2),
    ),
]
OPS.extend(_SESSION_10_OPS)
# == end of session 10 =============================================================================


# == session 11: the PyTorch ops and layers users still missed =====================================
def _draw_blocks_setup(draw) -> dict:
    """unfold's and fold's arguments, and a spatial size that holds at least one block."""
    setup = _draw_kernel_setup(draw, 2)
    kernel, dilation = setup["kernel"], setup["dilation"]
    padding = tuple(draw(st.integers(0, 1)) for _ in range(2))
    size = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), max(1, d * (k - 1) + 1 - 2 * p) + 1))
        for k, d, p in zip(kernel, dilation, padding)
    )
    return {
        "size": size,
        "kernel_size": kernel,
        "dilation": dilation,
        "padding": padding,
        "stride": setup["stride"],
    }


def _block_grid(size, kernel_size, dilation, padding, stride) -> tuple:
    return tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, d, p, s in zip(size, kernel_size, dilation, padding, stride)
    )


def _draw_unfold(draw):
    kwargs = _draw_blocks_setup(draw)
    size = kwargs.pop("size")
    channels = draw(st.integers(1, 2))
    shape = (channels, *size) if draw(st.booleans()) else (1, channels, *size)
    return (shape,), kwargs


def _draw_fold(draw):
    kwargs = _draw_blocks_setup(draw)
    size = kwargs.pop("size")
    blocks = math.prod(_block_grid(size, **kwargs))
    rows = draw(st.integers(1, 2)) * math.prod(kwargs["kernel_size"])
    shape = (rows, blocks) if draw(st.booleans()) else (1, rows, blocks)
    return (shape,), {"output_size": size, **kwargs}


def _im2col_reference(x, kernel_size, dilation=1, padding=0, stride=1):
    """Each block's elements copied into its column, one element at a time."""
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    kernel, dilation = _spatial_tuple(kernel_size, 2), _spatial_tuple(dilation, 2)
    padding, stride = _spatial_tuple(padding, 2), _spatial_tuple(stride, 2)
    padded = np.pad(x, ((0, 0), (0, 0), *((p, p) for p in padding)))
    grid = _block_grid(x.shape[2:], kernel, dilation, padding, stride)
    out = np.zeros((x.shape[0], x.shape[1] * math.prod(kernel), math.prod(grid)))
    for n, c, i, j, a, b in np.ndindex(*x.shape[:2], *kernel, *grid):
        row, column = (c * kernel[0] + i) * kernel[1] + j, a * grid[1] + b
        out[n, row, column] = padded[
            n, c, a * stride[0] + i * dilation[0], b * stride[1] + j * dilation[1]
        ]
    return out[0] if unbatched else out


def _col2im_reference(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Each column's elements added at their block's place, one element at a time."""
    unbatched = x.ndim == 2
    x = x[None] if unbatched else x
    size, kernel = _spatial_tuple(output_size, 2), _spatial_tuple(kernel_size, 2)
    dilation, padding = _spatial_tuple(dilation, 2), _spatial_tuple(padding, 2)
    stride = _spatial_tuple(stride, 2)
    grid = _block_grid(size, kernel, dilation, padding, stride)
    channels = x.shape[1] // math.prod(kernel)
    out = np.zeros((x.shape[0], channels, *(n + 2 * p for n, p in zip(size, padding))))
    for n, c, i, j, a, b in np.ndindex(x.shape[0], channels, *kernel, *grid):
        row, column = (c * kernel[0] + i) * kernel[1] + j, a * grid[1] + b
        out[n, c, a * stride[0] + i * dilation[0], b * stride[1] + j * dilation[1]] += x[
            n, row, column
        ]
    out = out[:, :, padding[0] : padding[0] + size[0], padding[1] : padding[1] + size[1]]
    return out[0] if unbatched else out


def _draw_conv3d(draw):
    """conv3d's arguments on the smallest inputs that still vary each of them: a second-order
    check over three spatial axes grows fast (one output element per input combination)."""
    kernel = [draw(st.integers(1, 2)) for _ in range(3)]
    kernel[draw(st.integers(0, 2))] = 1  # a flat kernel along one axis
    stride = tuple(draw(st.integers(1, 2)) for _ in range(3))
    dilation = [1, 1, 1]
    dilation[draw(st.integers(0, 2))] = draw(st.integers(1, 2))  # dilated along one axis
    groups = draw(st.sampled_from((1, 2)))
    options = ["valid", "ints"] + (["same"] if stride == (1, 1, 1) else [])
    kind = draw(st.sampled_from(options))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(3)) if kind == "ints" else kind
    widths = padding if kind == "ints" else (0, 0, 0)
    grow = draw(st.integers(0, 2))  # one axis may be a block longer
    size = tuple(
        max(1, d * (k - 1) + 1 - 2 * p) + (stride[axis] if axis == grow else 0)
        for axis, (k, d, p) in enumerate(zip(kernel, dilation, widths))
    )
    shapes: tuple[tuple[int, ...], ...] = ((1, groups, *size), (groups, 1, *kernel))
    if draw(st.booleans()):  # a bias
        shapes += ((groups,),)
    kwargs = {"stride": stride, "padding": padding, "dilation": tuple(dilation), "groups": groups}
    return shapes, kwargs


def _gumbel_reference(logits, tau, dim, seed):
    """softmax((logits + g) / tau) with g = -log(E), E drawn as the op draws it."""
    draws = np.random.default_rng(seed).standard_exponential(logits.shape)
    noise = -np.log(np.maximum(draws, np.finfo(np.float64).tiny))
    return scipy.special.softmax((logits + noise) / tau, axis=dim)


def _gumbel_kwargs(draw, shape):
    return {
        "tau": draw(st.sampled_from((0.5, 1.0, 3.0))),
        "dim": draw(st.integers(-len(shape), len(shape) - 1)),
        "seed": draw(st.integers(0, 3)),
    }


def _draw_channel_shuffle(draw):
    groups, per_group = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    rest = draw(tst.shapes(min_dims=1, max_dims=2, max_size=4))
    return ((draw(st.integers(1, 2)), groups * per_group, *rest),), {"groups": groups}


def _channel_shuffle_reference(x, groups):
    batch, channels, *rest = x.shape
    grouped = x.reshape(batch, groups, channels // groups, *rest)
    return grouped.swapaxes(1, 2).reshape(x.shape)


def _draw_local_response_norm(draw):
    shape = (1, draw(st.integers(1, 4)), draw(st.integers(1, 2)))
    kwargs = {
        "size": draw(st.integers(1, 3)),
        "alpha": draw(st.sampled_from((1e-4, 0.5, 2.0))),
        "beta": draw(st.sampled_from((0.75, 1.5))),
        "k": draw(st.sampled_from((1.0, 2.0))),
    }
    return (shape,), kwargs


def _local_response_norm_reference(x, size, alpha, beta, k):
    """Each channel over the sum of squares of its window of channels, one at a time."""
    out = np.empty_like(x)
    channels = x.shape[1]
    for c in range(channels):
        window = range(max(0, c - size // 2), min(channels, c + (size - 1) // 2 + 1))
        total = sum(x[:, j] ** 2 for j in window)
        out[:, c] = x[:, c] / (k + alpha / size * total) ** beta
    return out


def _draw_embedding_bag(draw, max_mode: bool):
    rows, width = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    length = draw(st.integers(0, 5))
    indices = np.array(draw(st.lists(st.integers(0, rows - 1), min_size=length, max_size=length)))
    indices = indices.astype(np.int64)
    kwargs: dict = {"mode": "max" if max_mode else draw(st.sampled_from(("sum", "mean")))}
    if length and draw(st.booleans()):  # fixed-length bags as a 2-D input
        bags = draw(st.sampled_from([n for n in range(1, length + 1) if length % n == 0]))
        kwargs["input"] = indices.reshape(bags, length // bags)
    else:
        cuts = sorted(draw(st.lists(st.integers(0, length), max_size=3)))
        kwargs["input"] = indices
        kwargs["include_last_offset"] = draw(st.booleans())
        ends = [length] if kwargs["include_last_offset"] else []
        kwargs["offsets"] = np.array([0, *cuts, *ends], dtype=np.int64)
    kwargs["padding_idx"] = draw(st.sampled_from((None, 0, -1)))
    shapes: tuple[tuple[int, ...], ...] = ((rows, width),)
    if kwargs["mode"] == "sum" and draw(st.booleans()):
        shapes += (kwargs["input"].shape,)  # per_sample_weights
    return shapes, kwargs


def _embedding_bag(weight, *per_sample_weights, input, **kwargs):
    weights = per_sample_weights[0] if per_sample_weights else None
    return F.embedding_bag(input, weight, per_sample_weights=weights, **kwargs)


def _embedding_bag_reference(
    weight, *per_sample_weights, input, mode, offsets=None, include_last_offset=False,
    padding_idx=None,
):  # fmt: skip
    """Each bag reduced by a loop over its indices."""
    if input.ndim == 2:
        bags = [
            list(range(i * input.shape[1], (i + 1) * input.shape[1])) for i in range(len(input))
        ]
    else:
        ends = list(offsets[1:]) + ([] if include_last_offset else [input.size])
        bags = [list(range(a, b)) for a, b in zip(offsets, ends)]
    flat = input.reshape(-1)
    scale = per_sample_weights[0].reshape(-1) if per_sample_weights else np.ones(flat.size)
    padding = None if padding_idx is None else padding_idx % weight.shape[0]
    out = np.zeros((len(bags), weight.shape[1]))
    for b, positions in enumerate(bags):
        members = [weight[flat[p]] * scale[p] for p in positions if flat[p] != padding]
        if members:
            reduce = {"sum": np.sum, "mean": np.mean, "max": np.max}[mode]
            out[b] = reduce(members, axis=0)
    return out


_SESSION_11_OPS = [
    OpInfo(
        "nn.functional.unfold",
        lambda x, **kwargs: F.unfold(x, **kwargs),
        _im2col_reference,
        _composite(_draw_unfold),
        ((1, 2, 3, 4),),
        {"kernel_size": (2, 2), "dilation": (1, 2), "padding": 1, "stride": (2, 1)},
    ),
    OpInfo(
        "nn.functional.fold",
        lambda x, **kwargs: F.fold(x, **kwargs),
        _col2im_reference,
        _composite(_draw_fold),
        ((1, 8, 8),),
        {
            "output_size": (3, 4),
            "kernel_size": 2,
            "dilation": (1, 2),
            "padding": 1,
            "stride": (2, 1),
        },
    ),
    _conv_entry(
        "conv3d",
        tn.conv3d,
        _conv_reference,
        _draw_conv3d,
        None,
        ((1, 2, 2, 3, 2), (2, 1, 2, 2, 1), (2,)),
        {"stride": (1, 2, 1), "padding": 1, "dilation": 1, "groups": 2},
    ),  # fmt: skip
    _small_shaped(  # a fixed seed: the same noise at every call
        "nn.functional.gumbel_softmax",
        lambda x, tau, dim, seed: F.gumbel_softmax(x, tau, dim=dim, rng=seed),
        _gumbel_reference,
        _gumbel_kwargs,
        {"tau": 0.5, "dim": 0, "seed": 1},
        min_dims=1,
        atol=1e-15,
    ),
    OpInfo(
        "nn.functional.channel_shuffle",
        F.channel_shuffle,
        _channel_shuffle_reference,
        _composite(_draw_channel_shuffle),
        ((1, 6, 2),),
        {"groups": 3},
    ),
    OpInfo(
        "nn.functional.local_response_norm",
        F.local_response_norm,
        _local_response_norm_reference,
        _composite(_draw_local_response_norm),
        ((2, 4, 3),),
        {"size": 3, "alpha": 0.5, "beta": 0.75, "k": 2.0},
    ),
    OpInfo(
        "nn.functional.embedding_bag",
        _embedding_bag,
        _embedding_bag_reference,
        _composite(_draw_embedding_bag, False),  # per_sample_weights drawn with mode='sum'
        ((4, 2),),
        {
            "input": np.array([1, 3, 0, 3, 2]),
            "offsets": np.array([0, 2, 2]),
            "mode": "mean",
            "padding_idx": 0,
        },
    ),
    OpInfo(  # ties are kinks: their convention is tested on its own
        "embedding_bag_max",
        _embedding_bag,
        _embedding_bag_reference,
        _composite(_draw_embedding_bag, True),
        ((4, 2),),
        {"input": np.array([[1, 3, 1], [0, 2, 3]]), "mode": "max", "padding_idx": -1},
        distinct=True,
        covers=("nn.functional.embedding_bag",),
    ),
]
OPS.extend(_SESSION_11_OPS)
# == end of session 11 =============================================================================

OPS_BY_NAME = {op.name: op for op in OPS}
if len(OPS_BY_NAME) != len(OPS):
    raise RuntimeError("OpInfo names must be unique")
