"""Argument handling shared by the primitive ops: scalars, arrays and axes."""

import functools
import inspect
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from tinynet import _dtype
from tinynet.autograd import trace_hook, traced_call, traced_check
from tinynet.errors import DTypeError, ShapeError
from tinynet.tensor import Tensor


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; Python/NumPy scalars and 0-d arrays take ``like``'s dtype."""
    if isinstance(value, Tensor):
        return value
    if like is not None and (
        isinstance(value, (int, float, bool, np.generic))
        or (isinstance(value, np.ndarray) and value.ndim == 0)
    ):
        return Tensor.wrap(_dtype.weak_scalar_array(value, like.data.dtype))
    return Tensor.wrap(_dtype.as_array(value))


def binary(a, b) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as Tensors, scalars weakly typed by the other operand.

    A floating operand beats an integer or boolean one: the other is converted to its dtype
    (PyTorch's rule; NumPy would widen ``int64`` with ``float32`` to ``float64``).
    """
    if isinstance(a, Tensor):
        b = as_tensor(b, a)
    else:
        b = as_tensor(b)
        a = as_tensor(a, b)
    a_dtype, b_dtype = a.data.dtype, b.data.dtype
    if a_dtype is not b_dtype and a_dtype != b_dtype:
        # traced: the converted values of an integer or boolean tensor made in a compiled
        # step (a mask, one_hot's rows) are each replay's
        if a_dtype.kind == "f" and b_dtype.kind != "f":
            b = Tensor.wrap(traced_call(_converted, b.data, a_dtype))
        elif b_dtype.kind == "f" and a_dtype.kind != "f":
            a = Tensor.wrap(traced_call(_converted, a.data, b_dtype))
    return a, b


def _converted(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return array.astype(dtype)


_ONES: dict = {}


def one(dtype: np.dtype) -> np.ndarray:
    """A read-only 0-d ``1`` of ``dtype``, made once per dtype, for backward formulas'
    arithmetic on arrays (``one(y.dtype) - y * y``): the same values as
    ``np.asarray(1.0, dtype)``, which costs a third of the small ufunc it feeds.

    >>> one(np.dtype(np.float32))
    array(1., dtype=float32)
    """
    value = _ONES.get(dtype)
    if value is None:
        value = np.ones((), dtype)
        value.flags.writeable = False
        _ONES[dtype] = value
    return value


def single_value(array: np.ndarray) -> np.ndarray:
    """``array``, or the 0-d value it repeats when it is a view of one (the gradient a full
    reduction spreads): the same operand elementwise, and a contiguous multiply takes half
    the time of one by a 0-stride view (0.4 against 0.8 µs on (32, 16) float32).

    >>> value = np.array(2.0)
    >>> single_value(np.broadcast_to(value, (3, 2))) is value
    True
    >>> zeros = np.frombuffer(bytes(8), np.float32)  # a view of bytes: itself
    >>> single_value(zeros) is zeros
    True
    """
    base = array.base  # any object with a buffer: bytes, mmap, a memoryview, a NumPy scalar
    if isinstance(base, (np.ndarray, np.generic)) and base.ndim == 0 and base.dtype == array.dtype:
        return base
    return array


def promote_all(parts: list[Tensor]) -> list[Tensor]:
    """Tensors to join (``cat``, ``stack``) in one dtype, PyTorch's rule: a floating dtype
    beats integers and booleans, so ``cat([int64, float32])`` is float32, not NumPy's float64.
    """
    dtypes = {part.data.dtype for part in parts}
    if len(dtypes) == 1:
        return parts
    floats = [dtype for dtype in dtypes if dtype.kind == "f"]
    target = np.result_type(*floats) if floats else np.result_type(*dtypes)
    return [part if part.data.dtype == target else part.astype(target) for part in parts]


def index_array(index: Tensor) -> np.ndarray:
    """A Tensor used as an index, as its array; uint8 is refused (a mask to PyTorch, integer
    indices to NumPy: either reading would be silently wrong for someone)."""
    if index.data.dtype == np.uint8:
        raise IndexError(
            "indexing with a uint8 tensor is ambiguous (PyTorch reads a mask, NumPy integer "
            "indices): convert it with .bool() for a mask or .long() for indices"
        )
    return index.data


def floating_input(x) -> Tensor:
    """``x`` as a Tensor; integer and boolean data converted to the default float dtype.

    For functions whose values are not integers (``exp``, ``sqrt``, true division ...).
    """
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    if x.data.dtype.kind == "f":
        return x
    return Tensor.wrap(traced_call(_converted, x.data, _dtype.get_default_dtype()))


def floating_binary(function, name: str, a, b) -> Tensor:
    """``apply_binary`` for a function whose values are not integers (true division,
    ``atan2``, ``hypot``): integer or boolean operands become the default float dtype,
    never NumPy's float64."""
    a, b = binary(a, b)
    if a.data.dtype.kind != "f":  # then b is not floating either
        a, b = floating_input(a), floating_input(b)
    return apply_binary(function, name, a, b)


def apply_binary(function, name: str, a, b) -> Tensor:
    """``function.apply`` on both operands (see ``binary``); a shape mismatch names ``name``."""
    # Two Tensors of one dtype, the common case, need no conversion: skip binary's calls.
    if not (isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype is b.data.dtype):
        a, b = binary(a, b)
    try:
        return function.apply(a, b)
    except ValueError:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise broadcast_error(name, a.shape, b.shape) from None
        raise  # not a shape problem (e.g. an integer to a negative integer power)


def broadcast_error(name: str, *shapes) -> ShapeError:
    """The error for operands whose shapes do not broadcast, naming every shape."""
    listed = " and ".join(str(tuple(s)) for s in shapes)
    return ShapeError(f"{name}: shapes {listed} cannot be broadcast together")


def axes(axis, ndim: int):
    """Normalize ``axis`` (None, int or tuple, negatives allowed) to a tuple or None."""
    if axis is None:
        return None
    try:
        return normalize_axis_tuple(axis, ndim)
    except np.exceptions.AxisError as error:
        raise IndexError(
            f"axis {axis} is out of range for a tensor of {ndim} dimensions"
        ) from error


def reduction_axes(axis, ndim: int):
    """``axes`` for a reduction, where a 0-d tensor has PyTorch's dim 0 (or -1) to reduce
    over: reducing it there leaves it as it is (no axis, ``()``)."""
    if ndim or axis is None:
        return axes(axis, ndim)
    if all(a in (0, -1) for a in (axis if isinstance(axis, (tuple, list)) else (axis,))):
        return ()
    raise IndexError(
        f"axis {axis} is out of range for a 0-d tensor (dim 0 or -1 reduce it as it is)"
    )


def keepdims_shape(shape: tuple, reduced) -> tuple:
    """``shape`` with the ``reduced`` axes (None: all) set to 1."""
    if reduced is None:
        return (1,) * len(shape)
    return tuple(1 if i in reduced else n for i, n in enumerate(shape))


def floating(x: Tensor, name: str) -> None:
    if x.data.dtype.kind != "f":
        raise DTypeError(f"{name} needs a floating tensor, got dtype {x.dtype}")


_TORCH_TO_NUMPY = {"dim": "axis", "keepdim": "keepdims"}
_NUMPY_TO_TORCH = {numpy: torch for torch, numpy in _TORCH_TO_NUMPY.items()}


def dim_aliases(fn):
    """Let ``fn`` take PyTorch's ``dim=``/``keepdim=`` and NumPy's ``axis=``/``keepdims=``.

    The names in ``fn``'s signature are the canonical ones; the other spelling is renamed
    to them. Passing both spellings of one argument is a ``TypeError``, as in PyTorch.

    >>> @dim_aliases
    ... def total(x, axis=None, keepdims=False):
    ...     return axis, keepdims
    >>> total(None, dim=1, keepdim=True)
    (1, True)
    """
    params = inspect.signature(fn).parameters
    aliases = {
        alias: name
        for alias, name in {**_TORCH_TO_NUMPY, **_NUMPY_TO_TORCH}.items()
        if name in params and alias not in params
    }

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not kwargs:  # the common call: no dictionary to pass on
            return fn(*args)
        for alias in aliases.keys() & kwargs.keys():
            name = aliases[alias]
            if name in kwargs:
                raise TypeError(
                    f"{fn.__name__}() got both {name}= and its alias {alias}=; pass one"
                )
            kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    return wrapper


# -- results whose shape depends on values (tn.compile) -----------------------------------------
def _has_shape(array: np.ndarray, shape: tuple) -> bool:
    return array.shape == shape


def _has_count(mask: np.ndarray, count: int) -> bool:
    return int(np.count_nonzero(mask)) == count


# What tn.compile says when these checks fail again after a new recording.
_has_shape.changed = _has_count.changed = (  # type: ignore[attr-defined]
    "a result's size depends on values and changed between calls (x[mask], nonzero(), "
    "where(condition)); a replay keeps its sizes: tn.where(mask, x, 0) or x * mask keep them"
)


def _argwhere(data: np.ndarray) -> np.ndarray:
    return np.argwhere(data).astype(np.int64, copy=False)


def _column(rows: np.ndarray, i: int) -> np.ndarray:
    return np.ascontiguousarray(rows[:, i])


def nonzero_rows(data: np.ndarray) -> np.ndarray:
    """``np.argwhere(data)``: one int64 row of indices per nonzero element. A
    ``tn.compile``d step finds each call's elements, and runs eagerly (recording again)
    when their count differs from the recorded one.

    >>> nonzero_rows(np.array([[0, 3], [4, 0]])).tolist()
    [[0, 1], [1, 0]]
    """
    return guard_size(traced_call(_argwhere, data))


def nonzero_columns(data: np.ndarray) -> tuple[np.ndarray, ...]:
    """``np.nonzero(data)`` (a 0-d ``data`` as 1-D, as PyTorch), through ``nonzero_rows``.

    >>> [c.tolist() for c in nonzero_columns(np.array([[0, 3], [4, 0]]))]
    [[0, 1], [1, 0]]
    """
    rows = nonzero_rows(np.atleast_1d(data))
    return tuple(traced_call(_column, rows, i) for i in range(rows.shape[1]))


def guard_size(array: np.ndarray) -> np.ndarray:
    """``array`` (made by ``traced_call``) whose length depends on values (repeat counts,
    the largest label): while ``tn.compile`` records, each replay checks it keeps this
    shape, and runs eagerly (recording again) when it does not.

    >>> guard_size(np.arange(3)).shape
    (3,)
    """
    if trace_hook() is not None:
        traced_check(_has_shape, array, array.shape)
    return array


def as_array(function, *args) -> np.ndarray:
    """``np.asarray(function(*args))``: for ``traced_call``, whose result must be an array
    (a ufunc on 0-d arrays gives a NumPy scalar).

    >>> as_array(np.isnan, np.array(1.0))
    array(False)
    """
    return np.asarray(function(*args))


def guard_mask_counts(index) -> None:
    """While ``tn.compile`` records: each boolean mask in ``index`` (an indexing result's
    length depends on its count) is checked to select as many elements on every replay."""
    if trace_hook() is None:
        return
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, np.ndarray) and part.dtype == np.bool_:
            traced_check(_has_count, part, int(np.count_nonzero(part)))


def check_dtypes(name: str, input: Tensor, **parameters: Any) -> None:
    """Refuse an input whose dtype differs from the layer's parameters (no silent upcast).

    PyTorch raises here too; promoting would silently run a float32 model in float64.

    >>> import tinynet as tn
    >>> check_dtypes("linear", tn.zeros(1, dtype=tn.float64), weight=tn.zeros(1))
    Traceback (most recent call last):
    ...
    tinynet.errors.DTypeError: linear: the input is float64 but weight is float32; convert the input with x.to(tn.float32), or the model with model.to(tn.float64)
    """
    for label, parameter in parameters.items():
        if parameter is None:
            continue
        expected = parameter.dtype if isinstance(parameter, Tensor) else np.asarray(parameter).dtype
        if input.data.dtype != expected:
            fix = f"convert the input with x.to(tn.{expected})"
            if input.data.dtype.kind == "f":  # a model holds floating parameters only
                fix += f", or the model with model.to(tn.{input.dtype})"
            raise DTypeError(f"{name}: the input is {input.dtype} but {label} is {expected}; {fix}")
