"""Finite-difference gradient checks: ``gradcheck``, ``gradgradcheck``, ``check_gradients``.

The analytic vector-Jacobian products of the engine are compared, input by input,
with central differences ``(f(x + eps e) - f(x - eps e)) / (2 eps)`` computed in float64.
Full mode builds both Jacobians; fast mode compares one random projection
``u . J v`` per input (HIPS autograd / JAX ``check_grads`` style), which costs two
evaluations of ``fn`` per input instead of two per element.

Besides the checks, this module is where the gradient lab (``tinynet.lab``) finds its shared
finite-difference machinery, a named internal API: ``central_differences`` (the one
finite-difference loop), ``as_outputs``, ``prepare_inputs``, ``evaluate_with``,
``analytic_jacobian`` and ``compare_values``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinynet import autograd
from tinynet._random import as_generator
from tinynet.tensor import Tensor

__all__ = [
    "GradcheckError",
    "GradcheckReport",
    "InputCheck",
    "check_gradgradients",
    "check_gradients",
    "gradcheck",
    "gradgradcheck",
    "vjp_function",
]


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with its finite-difference estimate."""


@dataclass
class InputCheck:
    """The comparison for one differentiable input."""

    index: int
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    worst_element: tuple | None  # (output element, input element) in full mode
    analytic: float
    numerical: float
    passed: bool

    def describe(self) -> str:
        where = ""
        if self.worst_element is not None:
            out_idx, in_idx = self.worst_element
            where = f", element {in_idx} (output element {out_idx})"
        return (
            f"input {self.index}{where}: analytic {self.analytic:.10g} vs numerical "
            f"{self.numerical:.10g} (abs error {self.max_abs_error:.3g}, "
            f"rel error {self.max_rel_error:.3g})"
        )


@dataclass
class GradcheckReport:
    """Per-input results of a gradient check; ``passed`` is True when all inputs pass."""

    inputs: list = field(default_factory=list)
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3
    fast_mode: bool = False

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.inputs)

    @property
    def failures(self) -> list:
        return [check for check in self.inputs if not check.passed]

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mode = "fast (random projection)" if self.fast_mode else "full Jacobian"
        lines = [
            f"gradient check, {mode}, eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}",
            f"{'input':>5}  {'shape':<14}{'max abs err':>12}{'max rel err':>12}  worst element   result",
        ]
        for check in self.inputs:
            worst = "-" if check.worst_element is None else str(check.worst_element[1])
            lines.append(
                f"{check.index:>5}  {str(check.shape):<14}{check.max_abs_error:>12.3g}"
                f"{check.max_rel_error:>12.3g}  {worst:<15} {'pass' if check.passed else 'FAIL'}"
            )
        return "\n".join(lines)


def central_differences(evaluate, x: np.ndarray, eps: float, directions=None):
    """``(evaluate(x + eps d) - evaluate(x - eps d)) / (2 eps)`` for each direction ``d``.

    The one finite-difference loop of tinynet: gradcheck and the gradient lab's kink-aware
    check, sweep and doctor all step through it. ``x`` is a float64 array; ``evaluate`` gets
    arrays of its shape (cast them as needed) and returns an array or a number. Without
    ``directions`` the steps go along the unit vectors, one element of ``x`` at a time in
    flat order. Yields one slope per direction.

    >>> import numpy as np
    >>> slopes = central_differences(lambda p: (p**2).sum(), np.array([1.0, 3.0]), 1e-4)
    >>> np.round(list(slopes), 6).tolist()
    [2.0, 6.0]
    """
    if directions is None:
        flat = x.ravel()
        for k in range(flat.size):
            shifted = flat.copy()
            shifted[k] += eps
            plus = evaluate(shifted.reshape(x.shape))
            shifted[k] -= 2 * eps
            minus = evaluate(shifted.reshape(x.shape))
            yield (plus - minus) / (2 * eps)
        return
    for direction in directions:
        plus = evaluate(x + eps * direction)
        minus = evaluate(x - eps * direction)
        yield (plus - minus) / (2 * eps)


def as_outputs(result) -> tuple:
    outputs = (result,) if isinstance(result, Tensor) else tuple(result)
    for output in outputs:
        if not isinstance(output, Tensor):
            raise TypeError(f"fn must return Tensors, got {type(output).__name__}")
    return outputs


def prepare_inputs(inputs, allow_low_precision: bool) -> tuple:
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    differentiable = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not differentiable:
        raise ValueError("gradcheck needs at least one input Tensor with requires_grad=True")
    # Check at fresh leaves: a non-leaf input's graph would be consumed by the first backward.
    inputs = tuple(
        Tensor(t.data, requires_grad=True) if i in differentiable else t
        for i, t in enumerate(inputs)
    )
    for i in differentiable:
        if inputs[i].dtype != np.float64 and not allow_low_precision:
            raise ValueError(
                f"input {i} has dtype {inputs[i].dtype}: finite differences are only "
                "trustworthy in float64. Convert with x.double(), or pass "
                "allow_low_precision=True (and loosen eps/atol/rtol) to check anyway."
            )
    return inputs, differentiable


def evaluate_with(fn, inputs, index, data) -> np.ndarray:
    """The outputs of ``fn`` flattened and joined, with input ``index`` replaced by ``data``."""
    args = list(inputs)
    original = inputs[index]
    args[index] = Tensor(data, requires_grad=original.requires_grad)
    outputs = as_outputs(fn(*args))
    return np.concatenate([o.data.astype(np.float64).ravel() for o in outputs])


def _vjp(fn, inputs, differentiable, cotangent_parts) -> list:
    """Analytic ``cotangent @ J`` for each differentiable input (zeros when unused)."""
    outputs = as_outputs(fn(*inputs))
    used = [o for o in outputs if o.requires_grad]
    wanted = [inputs[i] for i in differentiable]
    if not used:
        return [np.zeros(t.shape) for t in wanted]
    grads = autograd.grad(
        [o for o in outputs if o.requires_grad],
        wanted,
        grad_outputs=[
            Tensor(part.reshape(o.shape).astype(o.dtype))
            for part, o in zip(cotangent_parts(outputs), outputs)
            if o.requires_grad
        ],
        allow_unused=True,
    )
    result = []
    for g, t in zip(grads, wanted):
        if g is not None and (g.shape != t.shape or g.dtype != t.dtype):
            raise GradcheckError(
                f"gradient for input of shape {t.shape} and dtype {t.dtype} came back with "
                f"shape {g.shape} and dtype {g.dtype}"
            )
        result.append(np.zeros(t.shape) if g is None else g.data.astype(np.float64))
    return result


def _split(vector: np.ndarray, outputs) -> list:
    parts, start = [], 0
    for o in outputs:
        parts.append(vector[start : start + o.data.size])
        start += o.data.size
    return parts


def analytic_jacobian(fn, inputs, differentiable, position, n_out, n_in) -> np.ndarray:
    """The Jacobian of all outputs w.r.t. differentiable input ``position``, row by row."""
    analytic = np.zeros((n_out, n_in))
    for j in range(n_out):
        seed = np.zeros(n_out)
        seed[j] = 1.0
        row = _vjp(fn, inputs, differentiable, lambda outs, s=seed: _split(s, outs))
        analytic[j] = row[position].ravel()
    return analytic


def compare_values(analytic, numerical, atol, rtol):
    error = np.abs(analytic - numerical)
    allowed = atol + rtol * np.abs(numerical)
    rel = error / np.maximum(np.abs(numerical), np.finfo(np.float64).tiny)
    bad = ~(error <= allowed)  # NaN counts as a failure
    return error, rel, bad


def check_gradients(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    allow_low_precision: bool = False,
    rng=0,
) -> GradcheckReport:
    """Compare analytic and numerical gradients of ``fn`` at ``inputs``; return a report.

    >>> import tinynet as tn
    >>> x = tn.randn(3, dtype="float64", requires_grad=True, rng=0)
    >>> report = tn.check_gradients(lambda x: (x.sin() * x).sum(), (x,))
    >>> report.passed
    True
    """
    inputs, differentiable = prepare_inputs(inputs, allow_low_precision)
    report = GradcheckReport(eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode)
    outputs = as_outputs(fn(*inputs))
    n_out = sum(o.data.size for o in outputs)
    generator = as_generator(rng)

    for position, i in enumerate(differentiable):
        x = inputs[i].data.astype(np.float64)

        def evaluate(point, i=i):
            return evaluate_with(fn, inputs, i, point.astype(inputs[i].dtype))

        if fast_mode:
            u, v = generator.standard_normal(n_out), generator.standard_normal(x.shape)
            (slope,) = central_differences(evaluate, x, eps, [v])
            row = _vjp(fn, inputs, differentiable, lambda outs, u=u: _split(u, outs))[position]
            analytic, numerical = np.array([np.sum(row * v)]), np.array([u @ slope])
            report.inputs.append(
                _projected_check(i, inputs[i].shape, analytic, numerical, atol, rtol)
            )
            continue
        numerical = np.zeros((n_out, x.size))
        for k, slope in enumerate(central_differences(evaluate, x, eps)):
            numerical[:, k] = slope
        analytic = analytic_jacobian(fn, inputs, differentiable, position, n_out, x.size)
        report.inputs.append(_jacobian_check(i, inputs[i].shape, analytic, numerical, atol, rtol))
    return report


def _projected_check(index, shape, analytic, numerical, atol, rtol) -> InputCheck:
    """Fast mode's verdict for one input: ``u . J v`` against its central difference."""
    error, rel, bad = compare_values(analytic, numerical, atol, rtol)
    return InputCheck(index, shape, float(error[0]), float(rel[0]), None,
                      float(analytic[0]), float(numerical[0]), not bad[0])  # fmt: skip


def _jacobian_check(index, shape, analytic, numerical, atol, rtol) -> InputCheck:
    """Full mode's verdict for one input: both Jacobians, reported at the worst element."""
    error, rel, bad = compare_values(analytic, numerical, atol, rtol)
    if not error.size:
        return InputCheck(index, shape, 0.0, 0.0, None, 0.0, 0.0, True)
    score = np.where(np.isnan(error), np.inf, error)  # a NaN is the worst error
    out_idx, flat_idx = np.unravel_index(int(np.argmax(score)), score.shape)
    in_idx = tuple(int(v) for v in np.unravel_index(int(flat_idx), shape))
    return InputCheck(
        index, shape, float(score.max()), float(np.where(np.isnan(rel), np.inf, rel).max()),
        (int(out_idx), in_idx), float(analytic[out_idx, flat_idx]),
        float(numerical[out_idx, flat_idx]), not bad.any(),
    )  # fmt: skip


def gradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
    allow_low_precision: bool = False,
    rng=0,
) -> bool:
    """True when ``fn``'s analytic gradients match central differences at ``inputs``.

    On a mismatch raises ``GradcheckError`` naming the input, the element and both values
    (or returns False with ``raise_exception=False``).

    >>> import tinynet as tn
    >>> x = tn.randn(2, 3, dtype="float64", requires_grad=True, rng=0)
    >>> tn.gradcheck(lambda x: x.tanh().sum(axis=1), (x,))
    True
    """
    report = check_gradients(fn, inputs, eps, atol, rtol, fast_mode, allow_low_precision, rng)
    return _verdict(report, raise_exception, fn, inputs)


def _verdict(report: GradcheckReport, raise_exception: bool, fn=None, inputs=()) -> bool:
    if report.passed:
        return True
    if raise_exception:
        details = "; ".join(check.describe() for check in report.failures)
        hints = [hint for explain in _FAILURE_HINTS if (hint := explain(fn, inputs, report))]
        raise GradcheckError(f"Jacobian mismatch: {details}" + "".join(f". {h}" for h in hints))
    return False


# Functions that explain a failed check in its error message, added by higher layers (the
# package facade adds the lab's kink hint): hint(fn, inputs, report) -> str | None.
_FAILURE_HINTS: list = []


def register_failure_hint(hint) -> None:
    """Add ``hint(fn, inputs, report) -> str | None`` to the message of a failed check.

    The package facade registers the lab's, which names input elements within ``eps`` of a
    known kink (relu at 0, ties of max, ...) and points to ``tn.lab.check_gradients_at_kinks``.
    """
    if hint not in _FAILURE_HINTS:
        _FAILURE_HINTS.append(hint)


def vjp_function(fn, n_inputs: int):
    """``(*inputs, *cotangents) -> cotangents @ J_fn(inputs)``, itself differentiable.

    This map is what second-order checks verify: its derivatives are ``fn``'s second ones.

    >>> import tinynet as tn
    >>> x = tn.tensor([2.0], dtype="float64", requires_grad=True)
    >>> v = tn.tensor([1.0], dtype="float64", requires_grad=True)
    >>> vjp_function(lambda x: x**3, 1)(x, v)[0].item()
    12.0
    """

    def vjp(*args):
        inputs, cotangents = args[:n_inputs], args[n_inputs:]
        outputs = as_outputs(fn(*inputs))
        pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
        wanted = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
        grads = (None,) * len(wanted)
        if pairs:
            grads = autograd.grad(
                [o for o, _ in pairs], wanted, grad_outputs=[c for _, c in pairs],
                create_graph=True, allow_unused=True,
            )  # fmt: skip
        return tuple(
            Tensor(np.zeros(t.shape, t.dtype)) if g is None else g for g, t in zip(grads, wanted)
        )

    return vjp


def check_gradgradients(
    fn,
    inputs,
    grad_outputs=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    allow_low_precision: bool = False,
    rng=0,
) -> GradcheckReport:
    """The second-order report: ``check_gradients`` of ``(x, v) -> v @ J(x)``.

    Entries ``0..len(inputs)-1`` of the report are the inputs, the rest the cotangents ``v``
    (random ``grad_outputs`` unless given).
    """
    inputs, _ = prepare_inputs(inputs, allow_low_precision)
    generator = as_generator(rng)
    if grad_outputs is None:
        grad_outputs = tuple(
            Tensor(generator.standard_normal(o.shape).astype(o.dtype), requires_grad=True)
            for o in as_outputs(fn(*inputs))
        )
    else:
        grad_outputs = tuple(
            Tensor(g.data if isinstance(g, Tensor) else np.asarray(g), requires_grad=True)
            for g in ((grad_outputs,) if isinstance(grad_outputs, Tensor) else grad_outputs)
        )
    return check_gradients(
        vjp_function(fn, len(inputs)), inputs + grad_outputs, eps, atol, rtol, fast_mode,
        allow_low_precision, generator,
    )  # fmt: skip


def gradgradcheck(
    fn,
    inputs,
    grad_outputs=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
    allow_low_precision: bool = False,
    rng=0,
) -> bool:
    """Check second derivatives: gradcheck of the vector-Jacobian product of ``fn``.

    The product ``v -> v @ J(x)`` is checked with respect to ``x`` and to ``v`` (random
    ``grad_outputs`` unless given).

    >>> import tinynet as tn
    >>> x = tn.randn(3, dtype="float64", requires_grad=True, rng=0)
    >>> tn.gradgradcheck(lambda x: x.sin() * x, (x,))
    True
    """
    report = check_gradgradients(
        fn, inputs, grad_outputs, eps, atol, rtol, fast_mode, allow_low_precision, rng
    )
    return _verdict(report, raise_exception)
