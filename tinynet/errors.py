"""Exception types of tinynet."""


class ShapeError(RuntimeError, ValueError):
    """Operand shapes do not fit (a RuntimeError as in PyTorch, and a ValueError as in NumPy)."""


class DTypeError(TypeError, RuntimeError):
    """Operand dtypes do not fit (a RuntimeError as in PyTorch, and a TypeError as in Python)."""


class ArgumentError(RuntimeError, ValueError):
    """An argument's value is outside what the op takes (a RuntimeError as in PyTorch, and a
    ValueError as in Python)."""
