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
import scipy.signal
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
        _composite(draw, spatial),
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
    return (x + x.transpose(*range(x.ndim - 2), x.ndim - 1, x.ndim - 2)) * 0.5


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
