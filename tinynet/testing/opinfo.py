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

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.special

import tinynet as tn
from tinynet import ops
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
    reference: Callable[..., np.ndarray]  # reference(*arrays, **kwargs), NumPy/SciPy
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
    shapes = ((*batch, in_features), (out_features, in_features))
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
        lambda x, axes: tn.transpose(x, *axes),
        lambda x, axes: np.transpose(x, axes or None),
        _transpose_kwargs,
        {"axes": (1, 0)},
        method=lambda x, axes: x.transpose(*axes),
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
]

OPS_BY_NAME: dict[str, OpInfo] = {op.name: op for op in OPS}
if len(OPS_BY_NAME) != len(OPS):
    raise RuntimeError("OpInfo names must be unique")
