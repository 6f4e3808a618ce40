"""The grad-enabled flag and the context managers that switch it.

This module imports nothing of tinynet's so every layer may use it.
"""

import functools
import threading


class _GradModeState(threading.local):
    """Per thread, as in PyTorch: no_grad in one thread never stops recording in another."""

    enabled = True


#: The per-thread flag: tinynet's modules read ``grad_mode.enabled`` on their hot paths.
grad_mode = _GradModeState()
_GradMode = grad_mode  # this module's own spelling


def is_grad_enabled() -> bool:
    """Return True when operations are being recorded for differentiation."""
    return _GradMode.enabled


def _with_mode(mode: bool, func):
    """``func`` wrapped to run with grad recording set to ``mode``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        prev = _GradMode.enabled
        _GradMode.enabled = mode
        try:
            return func(*args, **kwargs)
        finally:
            _GradMode.enabled = prev

    return wrapper


class _GradModeSwitch:
    """Base of no_grad / enable_grad: a context manager that is also a decorator."""

    mode = True

    def __enter__(self):
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev
        return False

    def __call__(self, func):
        return _with_mode(self.mode, func)


class set_grad_enabled(_GradModeSwitch):
    """Set grad recording on or off now (as a call), or inside a ``with`` block or function.

    >>> with set_grad_enabled(False):
    ...     assert not is_grad_enabled()
    """

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.mode  # a plain call switches at once, as in PyTorch

    def __enter__(self):
        return self

    def __call__(self, func):
        _GradMode.enabled = self.prev  # used as a decorator: undo the switch made by __init__
        return _with_mode(self.mode, func)


class _NoArgumentSwitch(_GradModeSwitch):
    """A switch that also decorates without parentheses, ``@no_grad``, as PyTorch's."""

    def __new__(cls, func=None):
        if func is None:
            return super().__new__(cls)
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments; use {cls.__name__}()")
        return _with_mode(cls.mode, func)


class no_grad(_NoArgumentSwitch):
    """Record nothing inside: results do not require grad.

    A context manager and a decorator, ``@tn.no_grad()`` or ``@tn.no_grad``.

    >>> import tinynet as tn
    >>> x = tn.ones(2, requires_grad=True)
    >>> with tn.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_NoArgumentSwitch):
    """Record operations again inside a ``no_grad`` block (``@enable_grad`` too)."""

    mode = True


class inference_mode(_GradModeSwitch):
    """PyTorch's inference mode, here ``no_grad``: nothing is recorded inside.

    ``inference_mode(False)`` changes nothing (as PyTorch's: it does not enable grad). A
    context manager and a decorator, ``@tn.inference_mode()`` or ``@tn.inference_mode``.

    >>> import tinynet as tn
    >>> x = tn.ones(2, requires_grad=True)
    >>> with tn.inference_mode():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __new__(cls, mode=True):
        if callable(mode):  # @inference_mode without parentheses
            return _with_mode(False, mode)
        if not isinstance(mode, bool):
            raise TypeError(f"inference_mode(mode) takes a bool, got {type(mode).__name__}")
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.enabled = mode

    def __enter__(self):
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.prev and not self.enabled
        return self

    def __call__(self, func):
        if not self.enabled:
            return func
        return _with_mode(False, func)
