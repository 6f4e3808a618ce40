"""Hypothesis strategies for tinynet: shapes, broadcasting, values with domains, axes, indices.

Values are drawn from a named *domain* and can be kept a ``margin`` away from *kink* points
(where an op is not differentiable) and from each other (``distinct``: no ties for max/min),
so that a central finite difference never straddles a kink.

>>> import tinynet as tn
>>> from hypothesis import given
>>> from tinynet.testing import strategies as tst
>>> @given(tst.tensors(domain="real", avoid=(0.0,)))
... def test_relu_gradient(x):
...     assert tn.gradcheck(tn.relu, (x,))
>>> test_relu_gradient()

The NumPy-only helpers (``DOMAINS``, ``keep_away``, ``sample_values``) work without
Hypothesis installed; everything returning a strategy needs it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from tinynet.tensor import Tensor

try:
    import hypothesis.extra.numpy as hnp
    from hypothesis import strategies as st
except ModuleNotFoundError:  # the NumPy-only helpers below still work
    hnp = st = None  # type: ignore[assignment]

__all__ = [
    "DOMAINS",
    "arrays",
    "axes",
    "basic_indices",
    "boolean_masks",
    "broadcastable_pairs",
    "broadcastable_shapes",
    "elements",
    "indices",
    "integer_indices",
    "keep_away",
    "sample_values",
    "shapes",
    "shapes_broadcasting_to",
    "tensors",
]

#: Named value domains, each a list of closed intervals.
DOMAINS: dict[str, tuple[tuple[float, float], ...]] = {
    "real": ((-3.0, 3.0),),
    "positive": ((0.1, 3.0),),  # log, sqrt, a base with a real exponent
    "unit": ((-0.9, 0.9),),  # away from +-1: log1p, arcsine-like domains
    "nonzero": ((-3.0, -0.1), (0.1, 3.0)),  # divisors, negative powers
    "integer": ((-3.0, 3.0),),  # whole numbers only: ties for comparisons
    "above_one": ((1.1, 3.0),),  # acosh
}

#: Elements drawn when ``shape`` is None: small enough for second-order gradient checks.
SMALL_SIZE = 24


def _intervals(domain) -> tuple[tuple[float, float], ...]:
    if isinstance(domain, str):
        if domain not in DOMAINS:
            raise ValueError(f"unknown domain {domain!r}; expected one of {sorted(DOMAINS)}")
        return DOMAINS[domain]
    low, high = domain
    if not low < high:
        raise ValueError(f"a domain interval needs low < high, got {domain}")
    return ((float(low), float(high)),)


def _require_hypothesis() -> None:
    if st is None:
        raise ImportError("tinynet.testing strategies need Hypothesis: pip install hypothesis")


def _cached(factory):
    """Make each strategy once per arguments (lists count as tuples): Hypothesis validates
    a strategy when it is first drawn from, which is slow to repeat for every example."""
    cached = functools.cache(factory)

    @functools.wraps(factory)
    def wrapper(*args, **kwargs):
        args = tuple(tuple(a) if isinstance(a, list) else a for a in args)
        return cached(*args, **kwargs)

    return wrapper


@functools.cache
def composite(draw_function):
    """``hypothesis.strategies.composite``, made once per function (making one is slow)."""
    _require_hypothesis()
    return st.composite(draw_function)


# -- values ---------------------------------------------------------------------------------
def keep_away(
    arrays: Sequence[np.ndarray],
    avoid: Sequence[float] = (),
    margin: float = 0.01,
    distinct: bool = False,
) -> list[np.ndarray]:
    """Move values at least ``margin`` away from the ``avoid`` points (and, with
    ``distinct``, from each other, jointly across all ``arrays``); dtypes are kept.

    Values inside a window ``(k - margin, k + margin)`` move to its nearer edge. With
    ``distinct`` the values are spread in sorted order, which keeps their ranking.

    >>> keep_away([np.array([0.0, 0.001, 2.0, 2.0])], avoid=(0.0,), distinct=True)
    [array([0.01, 0.02, 2.  , 2.01])]
    """
    points = sorted(float(k) for k in avoid)
    for low, high in zip(points, points[1:]):
        if high - low < 2 * margin:
            raise ValueError(f"kink points {low} and {high} are closer than 2 * margin")
    originals = [np.asarray(a) for a in arrays]
    flat = np.concatenate([a.astype(np.float64).ravel() for a in originals] + [np.zeros(0)])

    def clear(value: float, upward: bool) -> float:
        for k in points:
            if abs(value - k) < margin:
                return k + margin if upward or value >= k else k - margin
        return value

    if distinct:
        previous = -math.inf
        for position in np.argsort(flat, kind="stable"):
            value = clear(max(float(flat[position]), previous + margin), upward=True)
            flat[position] = previous = value
    elif points:
        flat = np.array([clear(float(v), upward=False) for v in flat])
    result, start = [], 0
    for a in originals:
        result.append(flat[start : start + a.size].reshape(a.shape).astype(a.dtype))
        start += a.size
    return result


def sample_values(shape: tuple, domain="real", rng=0) -> np.ndarray:
    """Deterministic float64 values of ``shape`` from ``domain`` (no Hypothesis needed).

    >>> sample_values((2,), "positive", rng=0).shape
    (2,)
    """
    generator = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    intervals = _intervals(domain)
    choice = generator.integers(len(intervals), size=shape)
    lows = np.array([low for low, _ in intervals])[choice]
    highs = np.array([high for _, high in intervals])[choice]
    values = lows + (highs - lows) * generator.random(shape)
    return np.round(values) if domain == "integer" else values


def elements(domain="real"):
    """A strategy for single float64 values in ``domain`` (a name of ``DOMAINS`` or
    ``(low, high)``); no NaN, infinities or subnormals.

    >>> from tinynet.testing.strategies import elements
    >>> strategy = elements("nonzero")  # |x| in [0.1, 3]
    """
    return _elements(domain if isinstance(domain, str) else tuple(domain))


@functools.cache
def _elements(domain):
    _require_hypothesis()
    if domain == "integer":
        low, high = DOMAINS["integer"][0]
        return st.integers(int(low), int(high)).map(float)
    parts = [
        st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)
        for low, high in _intervals(domain)
    ]
    return parts[0] if len(parts) == 1 else st.one_of(*parts)


def arrays(
    shape,
    dtype=np.float64,
    domain="real",
    avoid: Sequence[float] = (),
    margin: float = 0.01,
    distinct: bool = False,
):
    """A strategy for NumPy arrays of ``shape`` (a tuple or a strategy of tuples).

    Floating arrays take values from ``domain`` kept ``margin`` away from ``avoid``
    (and from each other with ``distinct``); integer arrays take values in [-3, 3].

    >>> from tinynet.testing.strategies import arrays
    >>> strategy = arrays((2, 3), domain="positive")
    """
    _require_hypothesis()
    domain = domain if isinstance(domain, str) else tuple(domain)
    options = (np.dtype(dtype), domain, tuple(avoid), margin, distinct)
    if isinstance(shape, st.SearchStrategy):
        return shape.flatmap(lambda s: _arrays_of_shape(tuple(s), *options))
    return _arrays_of_shape(tuple(shape), *options)


@functools.cache
def _arrays_of_shape(shape, dtype, domain, avoid, margin, distinct):
    if dtype.kind == "b":
        values = st.booleans()
    elif dtype.kind in "iu":
        values = st.integers(-3, 3)
    elif dtype.kind == "f":
        values = elements(domain)
    else:
        raise TypeError(f"arrays: unsupported dtype {dtype}")
    size = math.prod(shape)
    # A flat list is faster to draw than hypothesis.extra.numpy.arrays.
    flat = st.lists(values, min_size=size, max_size=size)
    if dtype.kind != "f":
        return flat.map(lambda v: np.array(v, dtype=dtype).reshape(shape))
    return flat.map(
        lambda v: keep_away([np.array(v).reshape(shape)], avoid, margin, distinct)[0].astype(dtype)
    )


def tensors(
    shape=None,
    dtype=np.float64,
    requires_grad: bool = True,
    domain="real",
    avoid: Sequence[float] = (),
    margin: float = 0.01,
    distinct: bool = False,
):
    """A strategy for Tensors; ``shape=None`` draws a small shape (at most 24 elements).

    >>> import tinynet as tn
    >>> from hypothesis import given
    >>> from tinynet.testing.strategies import tensors
    >>> @given(tensors(domain="positive"))
    ... def test_log(x):
    ...     assert tn.gradcheck(tn.log, (x,))
    """
    dtype = np.dtype(dtype)
    if requires_grad and dtype.kind != "f":
        raise ValueError(f"only floating tensors can require grad, got dtype {dtype}")
    if shape is None:
        shape = shapes(max_size=SMALL_SIZE)
    # Hypothesis prints a drawn value as the call that made it: Tensor(array(...), ...).
    as_tensor = functools.partial(Tensor, requires_grad=requires_grad)
    return arrays(shape, dtype, domain, avoid, margin, distinct).map(as_tensor)


# -- shapes ---------------------------------------------------------------------------------
def _draw_shape(draw, min_dims, max_dims, min_side, max_side, max_size) -> tuple:
    ndim = draw(st.integers(min_dims, max_dims))
    shape, budget = [], max_size
    for remaining in range(ndim - 1, -1, -1):
        # Leave room for the sides still to come, at min_side each.
        reserve = max(min_side, 1) ** remaining
        largest = max_side if budget is None else min(max_side, budget // reserve)
        side = draw(st.integers(min_side, max(min_side, largest)))
        shape.append(side)
        if budget is not None:
            budget //= max(side, 1)
    return tuple(shape)


@_cached
def shapes(
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = 4,
    max_size: int | None = None,
):
    """A strategy for array shapes; ``max_size`` bounds the number of elements.

    >>> from tinynet.testing.strategies import shapes
    >>> strategy = shapes(min_dims=1, max_size=12)
    """
    _require_hypothesis()
    if max_size is not None and max_size < min_side**min_dims:
        raise ValueError(f"max_size {max_size} is below the smallest shape's size")
    return composite(_draw_shape)(min_dims, max_dims, min_side, max_side, max_size)


def _draw_source(draw, target) -> tuple:
    rank = draw(st.integers(0, len(target)))
    kept = target[len(target) - rank :]
    return tuple(n if draw(st.booleans()) else 1 for n in kept)


@_cached
def shapes_broadcasting_to(target: tuple):
    """A strategy for shapes that ``numpy.broadcast_to`` can take to ``target``: a suffix
    of it, with some axes set to 1.

    >>> from tinynet.testing.strategies import shapes_broadcasting_to
    >>> strategy = shapes_broadcasting_to((2, 3))  # (), (3,), (1, 3), (2, 1), ...
    """
    _require_hypothesis()
    return composite(_draw_source)(tuple(target))


def _draw_broadcastable(draw, num_shapes, min_dims, max_dims, min_side, max_side, max_size):
    result = draw(shapes(min_dims, max_dims, min_side, max_side, max_size))
    return tuple(_draw_source(draw, result) for _ in range(num_shapes))


@_cached
def broadcastable_shapes(
    num_shapes: int = 2,
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = 4,
    max_size: int | None = None,
):
    """A strategy for ``num_shapes`` shapes that broadcast together (ranks may differ,
    axes may be 1); ``max_size`` bounds the size of the broadcast result.

    >>> from tinynet.testing.strategies import broadcastable_shapes
    >>> strategy = broadcastable_shapes(3, max_size=12)
    """
    _require_hypothesis()
    return composite(_draw_broadcastable)(
        num_shapes, min_dims, max_dims, min_side, max_side, max_size
    )


def broadcastable_pairs(
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = 4,
    max_size: int | None = None,
):
    """A strategy for two shapes that broadcast together, e.g. ``((2, 1, 3), (4, 1))``.

    >>> from tinynet.testing.strategies import broadcastable_pairs
    >>> strategy = broadcastable_pairs(max_size=24)
    """
    return broadcastable_shapes(2, min_dims, max_dims, min_side, max_side, max_size)


# -- axes and indices -----------------------------------------------------------------------
@_cached
def axes(ndim: int, allow_none: bool = True, allow_tuple: bool = True):
    """A strategy for valid ``axis`` arguments: None, an int (negatives too) or a tuple
    of distinct axes.

    >>> from tinynet.testing.strategies import axes
    >>> strategy = axes(2)  # None, 0, 1, -1, -2, (0,), (1, -2), ...
    """
    _require_hypothesis()
    options: list = [st.none()] if allow_none else []
    if ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            unique = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)
            options.append(
                unique.flatmap(lambda ax: st.tuples(*(st.sampled_from((a, a - ndim)) for a in ax)))
            )
    if not options:
        raise ValueError("a 0-d array has no axes; allow_none=True is the only choice")
    return st.one_of(*options)


@_cached
def basic_indices(shape: tuple):
    """A strategy for basic indices of ``shape``: integers, slices, None and Ellipsis."""
    _require_hypothesis()
    return hnp.basic_indices(tuple(shape), allow_newaxis=True, allow_ellipsis=True)


@_cached
def integer_indices(shape: tuple, max_length: int = 4):
    """A strategy for integer-array indices (repeats and negatives included): one array
    along the first axis, an array after a slice, or one array per axis."""
    _require_hypothesis()
    shape = tuple(shape)
    if not shape:
        raise ValueError("integer-array indexing needs at least one axis")

    def along(axis):
        n = shape[axis]
        return hnp.arrays(np.int64, st.integers(1, max_length), elements=st.integers(-n, n - 1))

    options = [
        along(0),
        hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2, max_side=3)),
    ]
    if len(shape) > 1:
        options.append(along(1).map(lambda index: (slice(None), index)))
    return st.one_of(*options)


@_cached
def boolean_masks(shape: tuple):
    """A strategy for boolean masks over the leading axes (or all axes) of ``shape``."""
    _require_hypothesis()
    shape = tuple(shape)
    if not shape:
        raise ValueError("a boolean mask index needs at least one axis")
    return st.integers(1, len(shape)).flatmap(lambda k: hnp.arrays(np.bool_, shape[:k]))


@_cached
def indices(shape: tuple):
    """A strategy for any index tinynet supports: basic, integer arrays or boolean masks.

    >>> from tinynet.testing.strategies import indices
    >>> strategy = indices((3, 2))
    """
    shape = tuple(shape)
    if not shape:
        return basic_indices(shape)
    return st.one_of(basic_indices(shape), integer_indices(shape), boolean_masks(shape))
