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


class detect_anomaly(contextlib.ContextDecorator):
    """Context manager (and decorator): check every forward result and backward gradient.

    Any NaN or inf, including a forward overflow to inf (``exp(1000.0)``), raises a
    ``RuntimeError`` naming the op and the line that created it. With
    ``check_nan=False`` only the creation sites are recorded (for the lab's reports).
    Slow: every op's result is scanned and every node remembers where it was made.

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
        self._active: list = []

    def __enter__(self):
        hooks = (
            install_hooks(anomaly=_check_forward, backward=_check_backward)
            if self.check_nan
            else install_hooks()
        )
        hooks.__enter__()
        self._active.append(hooks)
        return self

    def __exit__(self, *exc_info):
        return self._active.pop().__exit__(*exc_info)
