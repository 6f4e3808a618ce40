"""The grad-enabled flag and the context managers that switch it.

This module imports nothing of tinynet's so every layer may use it.
"""

import functools
import threading


class _GradModeState(threading.local):
    """Per thread, as in PyTorch: no_grad in one thread never stops recording in another."""

    enabled = True


_GradMode = _GradModeState()


def is_grad_enabled() -> bool:
    """Return True when operations are being recorded for differentiation."""
    return _GradMode.enabled


class set_grad_enabled:
    """Context manager and decorator that sets grad recording on or off.

    >>> with set_grad_enabled(False):
    ...     assert not is_grad_enabled()
    """

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _GradMode.enabled = self.prev
        return False

    def __call__(self, func):
        mode = self.mode
        _GradMode.enabled = self.prev  # being used as a decorator: undo the switch

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

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
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = _GradMode.enabled
            _GradMode.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                _GradMode.enabled = prev

        return wrapper


class no_grad(_GradModeSwitch):
    """Record nothing inside: results do not require grad.

    >>> import tinynet as tn
    >>> x = tn.ones(2, requires_grad=True)
    >>> with tn.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_GradModeSwitch):
    """Record operations again inside a ``no_grad`` block."""

    mode = True
