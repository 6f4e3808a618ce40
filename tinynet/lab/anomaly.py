"""Anomaly mode: NaN or inf in any forward result or backward gradient raises at once,
naming the op and the user's line that created it.

>>> import numpy as np, tinynet as tn
>>> x = tn.tensor(np.array([1.0, -1.0]), requires_grad=True)
>>> with tn.lab.detect_anomaly():
...     try:
...         y = x.log()
...     except RuntimeError as error:
...         print(str(error).split(";")[0])
Function 'Log' returned nan values in its 0th output
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from tinynet.lab.history import find_site, install_hooks
from tinynet.tensor import Tensor

__all__ = ["detect_anomaly"]


def _non_finite(array) -> str | None:
    """'nan' or 'inf' when a floating array holds such values, else None."""
    if array.dtype.kind not in "fc" or np.isfinite(array).all():
        return None
    return "nan" if np.isnan(array).any() else "inf"


def _where(site) -> str:
    return "" if site is None else f"; created at {site.describe()}"


def _check_forward(ctx, result) -> None:
    kind = _non_finite(result.data)
    if kind is None:
        return
    site = getattr(ctx, "_creation_site", None) or find_site(2)
    if site is not None and site.in_backward:
        # Backward formulas may build a masked inf on purpose (0 * inf taken as 0);
        # the gradients they return are checked by the backward hook instead.
        return
    name = type(ctx).__name__
    message = f"Function '{name}' returned {kind} values in its 0th output{_where(site)}"
    already = [
        index
        for index, arg in enumerate(ctx.inputs or ())
        if isinstance(arg, Tensor) and _non_finite(arg.data) is not None
    ]
    if already:
        message += (
            f" (its input {already[0]} already held non-finite values: they came from "
            "outside the ops checked here, e.g. the data)"
        )
    raise RuntimeError(message)


def _check_backward(node, grad_output, input_grads) -> None:
    for index, grad in enumerate(input_grads):
        if grad is None:
            continue
        kind = _non_finite(grad.data if isinstance(grad, Tensor) else np.asarray(grad))
        if kind is None:
            continue
        name = type(node).__name__
        message = (
            f"Function '{name}Backward' returned {kind} values in its {index}th output "
            f"(the gradient for input {index} of {name})"
            f"{_where(getattr(node, '_creation_site', None))}"
        )
        incoming = grad_output.data if isinstance(grad_output, Tensor) else grad_output
        if _non_finite(np.asarray(incoming)) is not None:
            message += " (the gradient flowing into it was already non-finite)"
        raise RuntimeError(message)


# Anomaly mode is per thread, like grad mode: each thread keeps a stack of its check_nan
# flags. The engine's hooks are process-wide, so one pair of hooks that look at the calling
# thread's stack is installed while any thread is inside, and removed by the last one out.
_thread_state = threading.local()  # .stack: check_nan of each active entry; .hooks


def _thread_stack() -> list:
    if not hasattr(_thread_state, "stack"):
        _thread_state.stack = []
    return _thread_state.stack


def _check_nan_here() -> bool:
    """Whether this thread is inside a detect_anomaly() that checks values (an inner
    check_nan=False does not switch off an outer check, as nested hooks never did)."""
    return any(getattr(_thread_state, "stack", ()))


def _forward_hook(ctx, result) -> None:
    if _check_nan_here():
        _check_forward(ctx, result)


def _backward_hook(node, grad_output, input_grads) -> None:
    if _check_nan_here():
        _check_backward(node, grad_output, input_grads)


class detect_anomaly(contextlib.ContextDecorator):
    """Context manager (and decorator): check every forward result and backward gradient.

    Any NaN or inf, including a forward overflow to inf (``exp(1000.0)``), raises a
    ``RuntimeError`` naming the op and the line that created it. With
    ``check_nan=False`` only the creation sites are recorded (for the lab's reports).
    Slow: every op's result is scanned and every node remembers where it was made.
    Per thread, like grad mode: other threads are not checked.

    >>> import tinynet as tn
    >>> x = tn.tensor([0.0], requires_grad=True)
    >>> y = x.sqrt().sum()                       # sqrt'(0) = inf
    >>> with tn.lab.detect_anomaly():
    ...     try:
    ...         y.backward()
    ...     except RuntimeError as error:
    ...         print(str(error).split(" (")[0])
    Function 'SqrtBackward' returned inf values in its 0th output
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        stack = _thread_stack()
        if not stack:  # the engine's hooks are per thread: install them once per thread
            _thread_state.hooks = install_hooks(anomaly=_forward_hook, backward=_backward_hook)
            _thread_state.hooks.__enter__()
        stack.append(bool(self.check_nan))
        return self

    def __exit__(self, *exc_info):
        stack = _thread_stack()
        stack.pop()
        if not stack:
            _thread_state.hooks.__exit__(None, None, None)
            del _thread_state.hooks
        return False
