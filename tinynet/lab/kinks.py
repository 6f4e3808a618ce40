"""Honest gradient checks at kinks: say when a finite difference straddles a non-differentiable
point instead of reporting a false mismatch.

A central difference ``(f(x + eps) - f(x - eps)) / (2 eps)`` is meaningless when the step
crosses a kink of some op inside ``f`` (relu, abs, leaky_relu, elu at 0, ties of
maximum/minimum and of max/min reductions, clip bounds). Each such op has *kink
coordinates*: arrays that are zero exactly at its kinks. The kink-aware check evaluates
``f`` at ``x +- eps e_k`` for every input element ``k`` (the evaluations a gradient check
needs anyway), records the coordinates of every kinked node, and flags element ``k`` when a
coordinate changes sign between the two: that step crossed the kink.

>>> import numpy as np, tinynet as tn
>>> from tinynet.lab import check_gradients_at_kinks
>>> x = tn.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
>>> report = check_gradients_at_kinks(lambda x: x.relu().sum(), (x,))
>>> report.passed, [k.element for k in report.kinks]
(True, [(1,)])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tinynet.gradcheck import (
    analytic_jacobian,
    as_outputs,
    central_differences,
    compare_values,
    evaluate_with,
    prepare_inputs,
)
from tinynet.lab.history import Site, install_hooks, op_name
from tinynet.tensor import Tensor

__all__ = [
    "KinkCrossing",
    "KinkReport",
    "check_gradients_at_kinks",
    "crossings",
    "kink_coordinates",
    "register_kink",
]


def register_kink(function_class: type, rule: Callable) -> None:
    """Declare where a ``tn.Function`` is not differentiable, for the lab's kink checks.

    ``rule`` takes the forward arguments (arrays for Tensors) and returns a list of
    ``(description of the kink point, coordinates)``: arrays that are 0 exactly at a kink.
    It becomes the class's ``kinks``, where the built-in ops declare theirs.

    >>> import tinynet as tn
    >>> from tinynet.lab import register_kink
    >>> class Step(tn.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return (x > 1).astype(x.dtype)
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         return grad_output * 0.0
    >>> register_kink(Step, lambda x: [("1", x - 1)])
    >>> Step.kinks(np.array([3.0]))
    [('1', array([2.]))]
    """
    function_class.kinks = staticmethod(rule)  # type: ignore[attr-defined]


def kink_coordinates(function_class: type, args) -> list:
    """``[(kink point, float64 coordinates)]`` of one op call; empty for smooth ops."""
    rule = getattr(function_class, "kinks", None)
    if rule is None:
        return []
    values = [arg.data if isinstance(arg, Tensor) else arg for arg in args]
    with np.errstate(all="ignore"):
        return [(point, np.asarray(c, dtype=np.float64)) for point, c in rule(*values)]


def crossings(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Where a kink coordinate changes sign between two evaluations (a step crossed it)."""
    changed = np.sign(before) != np.sign(after)
    return changed & ~(np.isnan(before) | np.isnan(after))


# -- the kink-aware gradient check ------------------------------------------------------------
@dataclass
class KinkCrossing:
    """A finite-difference step of one input element crosses a kink of one node."""

    input: int
    element: tuple
    op: str
    point: str  # where the op's kink is: "0", "a tie", "the upper bound 1"
    node_element: tuple
    distance: float  # estimated distance of the input element from the kink
    site: Site | None
    error: float  # |analytic - numerical| of that element (the false mismatch)

    def describe(self) -> str:
        where = "lies on" if self.distance == 0 else f"is {self.distance:.2g} from"
        text = (
            f"input {self.input}, element {self.element} {where} the kink of {self.op} "
            f"at {self.point} (its element {self.node_element})"
        )
        if self.site is not None:
            text += f", created at {self.site.describe()}"
        return text


@dataclass
class KinkInputCheck:
    """The comparison for one input, over the elements whose steps cross no kink."""

    index: int
    shape: tuple
    max_abs_error: float
    worst_element: tuple | None
    analytic: float
    numerical: float
    unverifiable: int  # elements whose finite difference crosses a kink
    passed: bool


@dataclass
class Nudge:
    """An input element moved away from a kink before checking."""

    input: int
    element: tuple
    before: float
    after: float


@dataclass
class KinkReport:
    """Result of ``check_gradients_at_kinks``; ``passed`` ignores elements at kinks."""

    kinks: list = field(default_factory=list)  # KinkCrossing at the given inputs
    inputs: list = field(default_factory=list)  # KinkInputCheck at the checked point
    nudges: list = field(default_factory=list)
    remaining_kinks: list = field(default_factory=list)  # at the checked point
    checked_inputs: tuple = ()
    eps: float = 1e-6
    notes: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.inputs)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        skipped = sum(check.unverifiable for check in self.inputs)
        lines = [
            f"kink-aware gradient check, eps={self.eps:g}: "
            f"{'passed' if self.passed else 'FAILED'}"
            + (f" ({skipped} elements not verifiable: their steps cross a kink)" if skipped else "")
        ]
        if self.kinks:
            lines.append("finite-difference steps that cross a kink:")
            for crossing in self.kinks[:20]:
                lines.append(
                    f"  {crossing.describe()}; analytic and numerical differ by "
                    f"{crossing.error:.3g} there"
                )
            if len(self.kinks) > 20:
                lines.append(f"  ... {len(self.kinks) - 20} more")
        else:
            lines.append("no finite-difference step crosses a kink")
        if self.nudges:
            lines.append(f"nudged {len(self.nudges)} elements away from the kinks:")
            for nudge in self.nudges[:20]:
                lines.append(
                    f"  input {nudge.input}, element {nudge.element}: "
                    f"{nudge.before:.10g} -> {nudge.after:.10g}"
                )
        lines.extend(self.notes)
        lines.append(
            f"{'input':>5}  {'shape':<12}{'max abs err':>12}  {'worst element':<14}"
            f"{'at kinks':>9}  result"
        )
        for check in self.inputs:
            worst = "-" if check.worst_element is None else str(check.worst_element)
            lines.append(
                f"{check.index:>5}  {str(check.shape):<12}{check.max_abs_error:>12.3g}  "
                f"{worst:<14}{check.unverifiable:>9}  {'pass' if check.passed else 'FAIL'}"
            )
        return "\n".join(lines)


class _KinkRecorder:
    """An anomaly hook collecting the kink coordinates of every recorded kinked node."""

    def __init__(self):
        self.nodes = []  # (ctx, [(point, coordinates)])

    def __call__(self, ctx, result) -> None:
        if ctx.inputs is not None:
            coordinates = kink_coordinates(type(ctx), ctx.inputs)
            if coordinates:
                self.nodes.append((ctx, coordinates))


def _recorded(fn, inputs, index=None, data=None):
    """Evaluate ``fn`` (input ``index`` replaced by ``data``); return outputs and kinked nodes."""
    recorder = _KinkRecorder()
    with install_hooks(anomaly=recorder):
        if index is None:
            values = np.concatenate(
                [o.data.astype(np.float64).ravel() for o in as_outputs(fn(*inputs))]
            )
        else:
            values = evaluate_with(fn, inputs, index, data)
    return values, recorder.nodes


def _same_nodes(base, probe) -> bool:
    return len(base) == len(probe) and all(
        type(a) is type(b) and len(ca) == len(cb) and all(x.shape == y.shape for (_, x), (_, y)
                                                          in zip(ca, cb))
        for (a, ca), (b, cb) in zip(base, probe)
    )  # fmt: skip


def _crossed(base_nodes, plus_nodes, minus_nodes, eps):
    """The kinks one ``+-eps`` step crossed: ``(node, point, node element, distance of the
    unperturbed input from the kink, direction that steps away from it)`` for each."""
    for (ctx, base), (_, up), (_, down) in zip(base_nodes, plus_nodes, minus_nodes):
        for (point, c0), (_, c_plus), (_, c_minus) in zip(base, up, down):
            for j in np.argwhere(crossings(c_minus, c_plus)):
                j = tuple(int(v) for v in j)
                rate = (c_plus[j] - c_minus[j]) / (2 * eps)
                distance = abs(c0[j]) / abs(rate) if rate else abs(c0[j])
                # Step away from the kink: the direction that grows |coordinate|.
                direction = 1.0 if c0[j] == 0 else float(np.sign(c0[j] * rate))
                yield ctx, point, j, distance, direction


def _check_once(fn, inputs, differentiable, eps, atol, rtol):
    """One kink-aware check at ``inputs``: (crossings, per-input checks, directions, notes)."""
    base_values, base_nodes = _recorded(fn, inputs)
    n_out = base_values.size
    found, checks, away, notes = [], [], {}, []
    for position, i in enumerate(differentiable):
        x = inputs[i].data.astype(np.float64)
        numerical = np.zeros((n_out, x.size))
        crossed_columns = {}  # k -> [(node index, point, node element, distance)]
        recorded = []  # the kinked nodes of each evaluation: plus, then minus

        def evaluate(point, i=i, recorded=recorded):
            values, nodes = _recorded(fn, inputs, i, point.astype(np.float64))
            recorded.append(nodes)
            return values

        for k, slope in enumerate(central_differences(evaluate, x, eps)):
            numerical[:, k] = slope
            plus_nodes, minus_nodes = recorded
            recorded.clear()
            if not base_nodes:
                continue
            if not (_same_nodes(base_nodes, plus_nodes) and _same_nodes(base_nodes, minus_nodes)):
                notes.append(
                    f"input {i}, element {np.unravel_index(k, x.shape)}: fn recorded different "
                    "ops when perturbed (data-dependent control flow); kinks not traced there"
                )
                continue
            for ctx, point, j, distance, direction in _crossed(
                base_nodes, plus_nodes, minus_nodes, eps
            ):
                crossed_columns.setdefault(k, []).append((ctx, point, j, distance))
                away.setdefault((i, k), direction)
        analytic = analytic_jacobian(fn, inputs, differentiable, position, n_out, x.size)
        error, _, bad = compare_values(analytic, numerical, atol, rtol)
        score = np.where(np.isnan(error), np.inf, error)
        for k, hits in crossed_columns.items():
            element = tuple(int(v) for v in np.unravel_index(k, x.shape))
            column_error = float(score[:, k].max()) if n_out else 0.0
            for ctx, point, node_element, distance in hits:
                found.append(
                    KinkCrossing(i, element, op_name(ctx), point, node_element, float(distance),
                                 getattr(ctx, "_creation_site", None), column_error)
                )  # fmt: skip
        verifiable = np.ones(x.size, dtype=bool)
        verifiable[list(crossed_columns)] = False
        score[:, ~verifiable] = 0.0
        bad[:, ~verifiable] = False
        worst, analytic_value, numerical_value, max_error = None, 0.0, 0.0, 0.0
        if score.size:
            out_index, column = np.unravel_index(int(np.argmax(score)), score.shape)
            worst = tuple(int(v) for v in np.unravel_index(int(column), x.shape))
            max_error = float(score[out_index, column])
            analytic_value = float(analytic[out_index, column])
            numerical_value = float(numerical[out_index, column])
        checks.append(
            KinkInputCheck(i, inputs[i].shape, max_error, worst, analytic_value, numerical_value,
                           int((~verifiable).sum()), not bad.any())
        )  # fmt: skip
    return found, checks, away, notes


def check_gradients_at_kinks(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    nudge: bool = False,
    nudge_steps: float = 4.0,
    max_nudges: int = 5,
) -> KinkReport:
    """A gradient check that names the kinks its finite differences straddle.

    Elements whose ``+-eps`` step crosses a kink of some op (relu, abs, leaky_relu, elu at
    0; ties of maximum/minimum and of max/min reductions; clip bounds) are reported in
    ``report.kinks`` (input element, op, its creation line) and left out of the pass/fail
    verdict. With ``nudge=True`` those elements are moved ``nudge_steps * eps`` away from
    the kink and the check is repeated (``report.nudges``, ``report.checked_inputs``).

    >>> import numpy as np, tinynet as tn
    >>> from tinynet.lab import check_gradients_at_kinks
    >>> x = tn.tensor(np.array([0.5, 0.0]), requires_grad=True)
    >>> report = check_gradients_at_kinks(lambda x: x.abs().sum(), (x,), nudge=True)
    >>> report.nudges[0].element, report.remaining_kinks
    ((1,), [])
    """
    inputs, differentiable = prepare_inputs(inputs, allow_low_precision=False)
    found, checks, away, notes = _check_once(fn, inputs, differentiable, eps, atol, rtol)
    report = KinkReport(kinks=found, inputs=checks, remaining_kinks=found, eps=eps, notes=notes)
    report.checked_inputs = inputs
    if not nudge:
        return report
    current = inputs
    for _ in range(max_nudges):
        if not away:
            break
        arrays = {i: current[i].data.astype(np.float64).copy() for i, _ in away}
        for (i, k), direction in away.items():
            flat = arrays[i].reshape(-1)
            before = float(flat[k])
            flat[k] = before + direction * nudge_steps * eps
            element = tuple(int(v) for v in np.unravel_index(k, arrays[i].shape))
            report.nudges.append(Nudge(i, element, before, float(flat[k])))
        current = tuple(
            Tensor(arrays[i], requires_grad=True) if i in arrays else t
            for i, t in enumerate(current)
        )
        remaining, checks, away, notes = _check_once(fn, current, differentiable, eps, atol, rtol)
        report.inputs, report.remaining_kinks, report.notes = checks, remaining, notes
        report.checked_inputs = current
    return report


_HINT_ELEMENTS = 3  # kinks named in a failed gradcheck's message; the rest are counted


def kink_hint(fn, inputs, report) -> str | None:
    """For a failed default gradcheck: the failing input elements that lie within ``eps``
    of a known kink, and the kink-aware check to use instead (None when there are none).

    The package facade registers it with ``register_failure_hint``, loading the lab on the
    first failed check (``import tinynet`` does not load the lab)."""
    if fn is None or report.fast_mode:
        return None
    failing = {check.index for check in report.failures}
    try:
        kinks = check_gradients_at_kinks(fn, inputs, report.eps, report.atol, report.rtol).kinks
    except Exception:  # a hint must never hide the mismatch itself
        return None
    kinks = [kink for kink in kinks if kink.input in failing]
    if not kinks:
        return None
    named = "; ".join(kink.describe() for kink in kinks[:_HINT_ELEMENTS])
    more = f" (and {len(kinks) - _HINT_ELEMENTS} more)" if len(kinks) > _HINT_ELEMENTS else ""
    return (
        f"Within eps={report.eps:g} of a known kink: {named}{more}. A finite difference across "
        "a kink is meaningless: check with tn.lab.check_gradients_at_kinks(fn, inputs), which "
        "leaves such elements out (nudge=True checks beside them)"
    )
