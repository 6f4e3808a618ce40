"""The dtype policy: which dtypes tensors may hold and what Python data becomes.

- A NumPy array keeps its dtype (as ``torch.from_numpy``).
- Python floats (and lists holding any float) take the default dtype, float32 unless
  ``set_default_dtype`` says otherwise; Python ints become int64 and bools bool, as in PyTorch.
- Python and NumPy scalars in a binary op with a tensor are *weak*: they take the tensor's
  dtype, so a float32 computation stays float32.
- Complex, object, string and datetime arrays are refused with a TypeError.
"""

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)
# PyTorch's other spellings (``torch.long`` ...). ``tn.float``, ``tn.int`` and ``tn.bool`` are
# served by the package's __getattr__, so they never shadow the builtins inside tinynet.
half, double, long = float16, float64, int64
BUILTIN_NAMED = {"float": float32, "int": int32, "bool": bool_}

_default_dtype = [float32]


def get_default_dtype() -> np.dtype:
    """Return the dtype that Python floats and new parameters take (float32 at start)."""
    return _default_dtype[0]


def set_default_dtype(dtype) -> None:
    """Set the dtype of Python floats and new parameters; must be a floating dtype.

    >>> import tinynet as tn
    >>> tn.set_default_dtype("float64"); tn.tensor(1.0).dtype
    dtype('float64')
    >>> tn.set_default_dtype("float32")
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"default dtype must be a floating dtype, got {dtype}")
    _default_dtype[0] = dtype


def check_supported(dtype: np.dtype) -> np.dtype:
    """Raise TypeError for dtypes tinynet cannot hold (complex, object, strings, ...)."""
    if dtype.kind not in "fiub":
        raise TypeError(
            f"tinynet tensors hold floating, integer or boolean data; got dtype {dtype}. "
            "Convert the data to a numeric NumPy array first (e.g. np.asarray(x, dtype=float))."
        )
    return dtype


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def _holds_float(data) -> bool:
    if isinstance(data, float):
        return True
    if isinstance(data, (list, tuple)):
        return any(_holds_float(item) for item in data)
    return False


def _float_dtypes(data, found: set) -> None:
    """Collect the floating dtypes in nested lists: Python floats give the default dtype;
    NumPy scalars, arrays and tensors (anything with a ``dtype``) give their own."""
    if isinstance(data, (list, tuple)):
        for item in data:
            _float_dtypes(item, found)
    elif isinstance(data, float) and not isinstance(data, np.generic):  # np.float64 is a float
        found.add(get_default_dtype())
    else:
        dtype = getattr(data, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype.kind == "f":
            found.add(dtype)


def _list_float_dtype(data) -> np.dtype:
    """The dtype of a list holding floats, PyTorch's inference: the elements' dtypes promoted,
    so ``[np.float64(1.0)]`` or a list of float64 tensors stays float64."""
    found: set = set()
    _float_dtypes(data, found)
    return np.result_type(*found) if found else get_default_dtype()


def as_array(data, dtype=None) -> np.ndarray:
    """Convert user data to an ndarray following the dtype policy above."""
    if dtype is not None:
        dtype = check_supported(np.dtype(dtype))
    if isinstance(data, np.ndarray):
        array = data if dtype is None or data.dtype == dtype else data.astype(dtype)
    elif dtype is not None:
        array = np.asarray(data, dtype=dtype)
    elif isinstance(data, np.generic):
        array = np.asarray(data)
    else:
        array = np.asarray(data)
        if array.dtype.kind == "f" and isinstance(data, (list, tuple)):
            array = array.astype(_list_float_dtype(data), copy=False)
        elif array.dtype.kind == "f" or (array.dtype.kind == "O" and _holds_float(data)):
            array = array.astype(get_default_dtype())
        elif array.dtype.kind == "i":
            array = array.astype(np.int64, copy=False)
    check_supported(array.dtype)
    return array


def weak_scalar_array(value, like_dtype: np.dtype) -> np.ndarray:
    """A Python/NumPy scalar as a 0-d array that does not promote a tensor's dtype."""
    if like_dtype.kind == "f":
        return np.asarray(value, dtype=like_dtype)
    if isinstance(value, (float, np.floating)):
        return np.asarray(value, dtype=get_default_dtype())
    if isinstance(value, (bool, np.bool_)):
        return np.asarray(value, dtype=like_dtype if like_dtype.kind != "b" else np.bool_)
    if like_dtype.kind == "b":
        return np.asarray(value, dtype=np.int64)
    return np.asarray(value, dtype=like_dtype)
