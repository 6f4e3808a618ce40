"""Property-test the gradients of your own functions, ops and modules with Hypothesis.

>>> import tinynet as tn
>>> from tinynet.testing import check_gradients_property, tensors
>>> def smooth_abs(x):
...     return (x * x + 1.0).sqrt().sum()
>>> check_gradients_property(smooth_abs, tensors(shape=(3,)))

On a wrong gradient, Hypothesis shrinks the inputs to a small counterexample and prints
it (``Falsifying example: ...``) above the ``GradcheckError``, which names the input, the
element, and the analytic and numerical values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import tinynet as tn

__all__ = ["check_gradients_property", "gradient_property"]


def check_gradients_property(
    fn: Callable,
    *strategies,
    order: int = 2,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    settings=None,
) -> None:
    """For inputs drawn from ``strategies`` (one per argument of ``fn``), check ``fn``'s
    gradients with ``tn.gradcheck`` and, for ``order=2``, ``tn.gradgradcheck``.

    Strategies may draw Tensors (those with ``requires_grad`` are checked) or plain values
    passed through unchanged. ``settings`` (a ``hypothesis.settings``) overrides the active
    profile, e.g. ``settings(max_examples=20)``. Raises on the first failure, after
    Hypothesis has shrunk it.

    >>> import tinynet as tn
    >>> from tinynet.testing import check_gradients_property, tensors
    >>> check_gradients_property(
    ...     lambda x, y: (x * y).tanh(), tensors(shape=(2, 3)), tensors(shape=(3,)), order=1
    ... )
    """
    from hypothesis import given
    from hypothesis import strategies as st

    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order}")
    if not strategies:
        raise ValueError("check_gradients_property needs one strategy per argument of fn")
    options = dict(eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode)

    def gradients_match(inputs):
        tn.gradcheck(fn, inputs, **options)
        if order == 2:
            tn.gradgradcheck(fn, inputs, **options)

    # Hypothesis names the property after the function in its report.
    name = f"gradients_of_{getattr(fn, '__name__', 'fn')}"
    name = name if name.isidentifier() else "gradients_of_fn"  # e.g. a lambda
    gradients_match.__name__ = gradients_match.__qualname__ = name
    test = given(st.tuples(*strategies))(gradients_match)
    if settings is not None:
        test = settings(test)
    test()


def gradient_property(*strategies, **options) -> Callable:
    """Decorator: turn a function of Tensors into a pytest test of its gradients.

    Takes the arguments of ``check_gradients_property`` after ``fn``.

    >>> import tinynet as tn
    >>> from tinynet.testing import gradient_property, tensors
    >>> @gradient_property(tensors(domain="positive"))
    ... def test_log_gradients(x):
    ...     return x.log()
    >>> test_log_gradients()
    """

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def test() -> None:
            check_gradients_property(fn, *strategies, **options)

        del test.__wrapped__  # pytest must see a test without arguments
        return test

    return decorate
