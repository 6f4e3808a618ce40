"""Functions that create tensors. Random ones take ``generator=`` or ``rng=`` (a seed or a
Generator) and draw through ``traced_call``, so a compiled step draws afresh.

``device=`` is accepted as in PyTorch: ``"cpu"`` (or None) only. The deterministic ones
make their array through ``traced_call``, so that ``tn.compile`` replays the creation: each
replay gets a fresh array, which the step may write in place or return.
"""

from __future__ import annotations  # np.random in annotations would import it

import operator

import numpy as np

from tinynet import _device, _dtype
from tinynet._random import generator_of
from tinynet.autograd import traced_call
from tinynet.errors import DTypeError
from tinynet.tensor import Tensor


def _shape(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:  # operator.index, not int(): int(2.5) would silently give 2
        if any(isinstance(n, (bool, np.bool_)) for n in shape):
            raise TypeError
        return tuple(operator.index(n) for n in shape)
    except TypeError:
        kinds = ", ".join(type(n).__name__ for n in shape)
        raise TypeError(
            f"size must be a tuple of ints, got {shape!r} ({kinds}); pass integers, e.g. int(n)"
        ) from None


def _float_dtype(dtype):
    return _dtype.get_default_dtype() if dtype is None else _dtype.check_supported(np.dtype(dtype))


def _random_float_dtype(name: str, dtype):
    dtype = _float_dtype(dtype)
    if dtype.kind != "f":  # PyTorch: RuntimeError, "normal_kernel_cpu" not implemented for 'Long'
        raise DTypeError(
            f"{name}: samples need a floating dtype, got {dtype}; for integers use tn.randint"
        )
    return dtype


def _make(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor from data (a copy): arrays keep their dtype, Python floats the default."""
    _device.check(device)
    if isinstance(data, Tensor):
        data = data.data
    return _make(traced_call(_copied, data, dtype), requires_grad)


def _copied(data, dtype) -> np.ndarray:
    array = _dtype.as_array(data, dtype)
    return array.copy() if isinstance(data, np.ndarray) and array is data else array


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, without a copy where it can (``torch.as_tensor``).

    A Tensor of that dtype (or with ``dtype=None``) is returned as it is, one of another dtype
    converted (a differentiable cast); a NumPy array keeps its memory and dtype (float64
    stays float64) unless ``dtype`` asks for another; other data is converted as by
    ``tensor``.

    >>> import numpy as np
    >>> array = np.zeros(2)
    >>> x = as_tensor(array)
    >>> array[0] = 5.0
    >>> x.tolist(), x.dtype
    ([5.0, 0.0], dtype('float64'))
    """
    _device.check(device)
    if isinstance(data, Tensor):
        if dtype is None or data.data.dtype == np.dtype(dtype):
            return data
        return data.to(np.dtype(dtype))
    return Tensor(_dtype.as_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory and dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of zeros, ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    _device.check(device)
    return _make(traced_call(np.zeros, _shape(shape), _float_dtype(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of ones."""
    _device.check(device)
    return _make(traced_call(np.ones, _shape(shape), _float_dtype(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``."""
    _device.check(device)
    if dtype is None:
        dtype = _dtype.as_array(fill_value).dtype
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _make(traced_call(np.full, shape, fill_value, np.dtype(dtype)), requires_grad)


def empty(*shape, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """An uninitialized tensor (its values are arbitrary)."""
    _device.check(device)
    return _make(traced_call(np.empty, _shape(shape), _float_dtype(dtype)), requires_grad)


def eye(
    n: int, m: int | None = None, dtype=None, requires_grad: bool = False, device=None
) -> Tensor:
    """The identity matrix (``n`` by ``m``)."""
    _device.check(device)
    return _make(traced_call(np.eye, n, m, 0, _float_dtype(dtype)), requires_grad)


def arange(
    start, stop=None, step=1, dtype=None, requires_grad: bool = False, device=None
) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; integer arguments give int64."""
    _device.check(device)
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if integral else _dtype.get_default_dtype()
    return _make(traced_call(np.arange, start, stop, step, np.dtype(dtype)), requires_grad)


def linspace(
    start,
    stop,
    num: int | None = None,
    dtype=None,
    requires_grad: bool = False,
    device=None,
    *,
    steps: int | None = None,
) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (PyTorch: ``steps=``).

    >>> linspace(0, 1, steps=3).tolist()
    [0.0, 0.5, 1.0]
    """
    _device.check(device)
    if num is None and steps is not None:
        num, steps = steps, None
    if num is None or steps is not None:
        raise TypeError("linspace() needs the number of values: pass num (or steps), once")
    return _make(traced_call(_linspace, start, stop, num, _float_dtype(dtype)), requires_grad)


def _linspace(start, stop, num: int, dtype) -> np.ndarray:
    values = np.linspace(start, stop, num, dtype=dtype)
    # An array of its own, as the others make (float64 gives a view): tn.compile replays
    # writes into such arrays only.
    return values if values.base is None else values.copy()


def logspace(
    start,
    end,
    steps: int,
    base: float = 10.0,
    dtype=None,
    requires_grad: bool = False,
    device=None,
) -> Tensor:
    """``steps`` values ``base ** e`` for exponents evenly spaced from ``start`` to ``end``
    inclusive (``torch.logspace``).

    >>> logspace(0, 2, steps=3).tolist()
    [1.0, 10.0, 100.0]
    """
    _device.check(device)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError(f"logspace: number of steps must be a non-negative int, got {steps!r}")
    return _make(
        traced_call(_logspace, start, end, int(steps), base, _float_dtype(dtype)), requires_grad
    )


def _logspace(start, end, steps: int, base, dtype) -> np.ndarray:
    return np.logspace(start, end, steps, base=base).astype(dtype)


def zeros_like(x, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Zeros with ``x``'s shape and dtype."""
    _device.check(device)
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    return _make(traced_call(np.zeros_like, x, dtype), requires_grad)


def ones_like(x, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Ones with ``x``'s shape and dtype."""
    _device.check(device)
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    return _make(traced_call(np.ones_like, x, dtype), requires_grad)


def empty_like(x, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """An uninitialized tensor with ``x``'s shape and dtype (its values are arbitrary)."""
    _device.check(device)
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    return _make(traced_call(np.empty_like, x, dtype), requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``fill_value`` with ``x``'s shape and dtype."""
    _device.check(device)
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    return _make(traced_call(np.full_like, x, fill_value, dtype), requires_grad)


def randn(
    *shape, dtype=None, requires_grad: bool = False, generator=None, rng=None, device=None
) -> Tensor:
    """Standard normal samples from ``generator`` or ``rng`` (a seed or a
    ``numpy.random.Generator``; neither: the global generator), as ``torch.randn``.

    >>> import tinynet as tn
    >>> bool((tn.randn(2, generator=0) == tn.randn(2, rng=0)).all())
    True
    """
    _device.check(device)
    dtype = _random_float_dtype("randn", dtype)
    drawn = traced_call(_standard_normal, generator_of(generator, rng), _shape(shape), dtype)
    return _make(drawn, requires_grad)


def rand(
    *shape, dtype=None, requires_grad: bool = False, generator=None, rng=None, device=None
) -> Tensor:
    """Uniform samples in ``[0, 1)`` from ``generator`` or ``rng`` (as ``randn``)."""
    _device.check(device)
    dtype = _random_float_dtype("rand", dtype)
    drawn = traced_call(_uniform, generator_of(generator, rng), _shape(shape), dtype)
    return _make(drawn, requires_grad)


def randint(
    low, high=None, size=(), dtype=np.int64, rng=None, device=None, *, generator=None
) -> Tensor:
    """Uniform integers in ``[low, high)`` from ``generator`` or ``rng`` (as ``randn``)."""
    _device.check(device)
    if high is None or isinstance(high, (tuple, list)):  # randint(high), randint(high, size)
        low, high, size = 0, low, size if high is None else high
    size = (size,) if isinstance(size, int) else tuple(size)
    source = generator_of(generator, rng)
    return Tensor(traced_call(_integers, source, low, high, size, np.dtype(dtype)))


def randn_like(
    x, dtype=None, requires_grad: bool = False, generator=None, rng=None, device=None
) -> Tensor:
    """Standard normal samples with ``x``'s shape (and dtype unless given)."""
    _device.check(device)
    dtype = dtype or x.dtype
    return randn(*x.shape, dtype=dtype, requires_grad=requires_grad, generator=generator, rng=rng)


def rand_like(
    x, dtype=None, requires_grad: bool = False, generator=None, rng=None, device=None
) -> Tensor:
    """Uniform ``[0, 1)`` samples with ``x``'s shape (and dtype unless given)."""
    _device.check(device)
    dtype = dtype or x.dtype
    return rand(*x.shape, dtype=dtype, requires_grad=requires_grad, generator=generator, rng=rng)


# The draws are traced calls: a compiled step draws afresh at every replay.
def _standard_normal(source: np.random.Generator, shape: tuple, dtype) -> np.ndarray:
    return source.standard_normal(shape, dtype=dtype)


def _uniform(source: np.random.Generator, shape: tuple, dtype) -> np.ndarray:
    return source.random(shape, dtype=dtype)


def _integers(source: np.random.Generator, low, high, size: tuple, dtype) -> np.ndarray:
    return source.integers(low, high, size, dtype=dtype)
