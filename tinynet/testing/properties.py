"""Property-test the gradients of your own functions, ops and modules with Hypothesis.

>>> import tinynet as tn
>>> from tinynet.testing import check_gradients_property, tensors
>>> def smooth_abs(x):
...     return (x * x + 1.0).sqrt().sum()
>>> check_gradients_property(smooth_abs, tensors(shape=(3,)))

``fn`` may be a function of Tensors, a ``tn.Function`` subclass (your own op), or an
``nn.Module`` (checked with respect to its inputs *and* its parameters, on a float64 copy).
On a wrong gradient, Hypothesis shrinks the inputs to a small counterexample; the
``GradcheckError`` it raises shows that counterexample's inputs as arrays (every digit),
the order of the failing check, the worst element, and the analytic and numerical values.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

import tinynet as tn
from tinynet.autograd import Function
from tinynet.gradcheck import GradcheckError
from tinynet.nn import Dropout, Module
from tinynet.nn.utils import functional_call
from tinynet.tensor import Tensor

__all__ = ["check_gradients_property", "gradient_property", "gradient_report"]


class _Target:
    """What is checked: a callable over (drawn inputs..., parameters...) and their names."""

    def __init__(self, fn):
        self.parameter_names, self.parameters = [], []
        self.name = getattr(fn, "__name__", type(fn).__name__)
        if isinstance(fn, type) and issubclass(fn, Function):
            self.call = fn.apply
        elif isinstance(fn, Module):
            module = copy.deepcopy(fn).to(np.float64)
            for layer in module.modules():
                if isinstance(layer, Dropout) and layer.training and layer.p > 0:
                    raise ValueError(
                        "the module has a Dropout layer in training mode: its output is random, "
                        "so finite differences cannot check it. Call module.eval() first."
                    )
            named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
            self.parameter_names = [n for n, _ in named]
            self.parameters = [Tensor(p.data, requires_grad=True) for _, p in named]
            count = len(named)

            def call(*args):
                inputs, values = args[: len(args) - count], args[len(args) - count :]
                return functional_call(module, dict(zip(self.parameter_names, values)), inputs)

            self.call = call
        elif callable(fn):
            self.call = fn
        else:
            raise TypeError(f"fn must be a function, a tn.Function or an nn.Module, got {fn!r}")

    def arguments(self, inputs) -> tuple:
        """Drawn inputs (floating Tensors in float64), then the parameters."""
        prepared = tuple(
            Tensor(t.data.astype(np.float64), requires_grad=t.requires_grad)
            if isinstance(t, Tensor) and t.dtype.kind == "f" else t
            for t in inputs
        )  # fmt: skip
        return prepared + tuple(self.parameters)

    def label(self, index: int, n_inputs: int, n_arguments: int) -> str:
        if index < n_inputs:
            return f"input {index}"
        if index < n_arguments:
            return f"parameter {self.parameter_names[index - n_inputs]!r}"
        return f"grad_output {index - n_arguments}"


def _outputs(result) -> tuple:
    return (result,) if isinstance(result, Tensor) else tuple(result)


def _array_text(value) -> str:
    data = value.data if isinstance(value, Tensor) else value
    if isinstance(data, np.ndarray):
        with np.printoptions(floatmode="unique", threshold=200, linewidth=100):
            return repr(data).replace("\n", "\n      ")
    return repr(data)


def gradient_report(fn, inputs, order: int = 2, eps: float = 1e-6, atol: float = 1e-5,
                    rtol: float = 1e-3, fast_mode: bool = False) -> str | None:  # fmt: skip
    """Check ``fn`` at ``inputs`` (first, then second order); None if the gradients match,
    else a readable report: the inputs as arrays, the worst element, analytic vs numerical.

    ``fn`` may be a function, a ``tn.Function`` subclass or an ``nn.Module`` (its parameters
    are checked too, in float64).

    >>> import tinynet as tn
    >>> x = tn.tensor([0.5, -1.0], dtype=tn.float64, requires_grad=True)
    >>> print(gradient_report(lambda x: x.tanh() * x, (x,)))
    None
    """
    target = _Target(fn)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    arguments = target.arguments(inputs)
    options: dict[str, Any] = dict(eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode)
    checked, what = target.call, arguments
    report = tn.check_gradients(checked, what, **options)
    label = "first"
    if report.passed and order == 2:
        generator = np.random.default_rng(0)
        cotangents = tuple(
            Tensor(generator.standard_normal(o.shape), requires_grad=True)
            for o in _outputs(target.call(*arguments))
        )
        what = arguments + cotangents
        report = tn.check_gradgradients(target.call, arguments, cotangents, **options)
        label = "second"
    if report.passed:
        return None
    n_inputs, n_arguments = len(inputs), len(arguments)
    lines = [f"{label}-order gradients of {target.name} disagree with finite differences"]
    lines.append("  at inputs (float64):")
    for index, value in enumerate(what):
        if index < n_inputs or index >= n_arguments:
            lines.append(f"    {target.label(index, n_inputs, n_arguments)} = {_array_text(value)}")
    for name, parameter in zip(target.parameter_names, target.parameters):
        shown = _array_text(parameter) if parameter.numel() <= 24 else f"shape {parameter.shape}"
        lines.append(f"    parameter {name!r} = {shown}")
    for check in report.failures:
        where = target.label(check.index, n_inputs, n_arguments)
        if check.worst_element is not None:
            output_element, element = check.worst_element
            where += f", element {element} (output element {output_element})"
        lines.append(
            f"  {where}: analytic {check.analytic:.10g} vs numerical {check.numerical:.10g} "
            f"(abs error {check.max_abs_error:.3g}, rel error {check.max_rel_error:.3g})"
        )
    return "\n".join(lines)


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
    gradients against finite differences, first order and, for ``order=2``, second order.

    ``fn`` is a function of Tensors, a ``tn.Function`` subclass, or an ``nn.Module``
    (gradients with respect to its inputs and its parameters, on a float64 copy).
    Strategies may draw Tensors (those with ``requires_grad`` are checked, in float64) or
    plain values passed through unchanged. ``settings`` (a ``hypothesis.settings``)
    overrides the active profile, e.g. ``settings(max_examples=20)`` (Hypothesis's slow
    explain phase is always skipped). Raises ``GradcheckError`` with a readable report of
    the shrunk counterexample.

    >>> import tinynet as tn
    >>> from tinynet.testing import check_gradients_property, tensors
    >>> check_gradients_property(
    ...     lambda x, y: (x * y).tanh(), tensors(shape=(2, 3)), tensors(shape=(3,)), order=1
    ... )
    """
    import hypothesis
    from hypothesis import given
    from hypothesis import strategies as st

    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order}")
    if not strategies:
        raise ValueError("check_gradients_property needs one strategy per argument of fn")
    _Target(fn)  # fail early on an unusable fn (a module in training mode with dropout)

    def gradients_match(inputs):
        problem = gradient_report(fn, inputs, order, eps, atol, rtol, fast_mode)
        if problem is not None:
            raise GradcheckError(problem)

    # Hypothesis names the property after the function in its report.
    name = f"gradients_of_{getattr(fn, '__name__', type(fn).__name__)}"
    name = name if name.isidentifier() else "gradients_of_fn"  # e.g. a lambda
    gradients_match.__name__ = gradients_match.__qualname__ = name
    test = given(st.tuples(*strategies))(gradients_match)
    # Hypothesis's explain phase re-runs whole gradient checks many times to annotate the
    # counterexample; the report above already shows it, so that phase is left out.
    chosen = settings if settings is not None else hypothesis.settings()
    phases = tuple(phase for phase in chosen.phases if phase is not hypothesis.Phase.explain)
    hypothesis.settings(chosen, phases=phases)(test)()


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
