"""The gradient doctor: replay a recorded graph and check every node's backward locally.

``diagnose(fn, inputs)`` runs ``fn`` once, recording the graph and where each node was
created. Then, node by node in topological (creation) order, it rebuilds the node's op on
fresh float64 leaves holding the exact values the node saw (``type(node).apply`` with the
same non-tensor arguments) and compares the op's vector-Jacobian product ``u @ J`` for a
random ``u`` with central finite differences of that single op. A wrong backward deep in a
big graph is found where it is, not as a vague mismatch at the output.

>>> import numpy as np, tinynet as tn
>>> x = tn.randn(3, 4, dtype=tn.float64, requires_grad=True, rng=0)
>>> report = tn.lab.diagnose(lambda x: (x.tanh() @ x.T).sum(), (x,))
>>> report.passed, [node.op for node in report.nodes]
(True, ['tanh', 'transpose', 'matmul', 'sum'])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinynet import autograd
from tinynet._grad_mode import set_grad_enabled
from tinynet._random import as_generator
from tinynet.gradcheck import as_outputs, central_differences, compare_values
from tinynet.lab.history import Site, install_hooks, op_name
from tinynet.lab.kinks import crossings, kink_coordinates
from tinynet.tensor import Tensor

__all__ = ["DiagnosisReport", "NodeCheck", "diagnose"]

_SHORT_DTYPES = {"float64": "f64", "float32": "f32", "float16": "f16", "int64": "i64",
                 "int32": "i32", "bool": "bool"}  # fmt: skip


@dataclass
class NodeCheck:
    """The local check of one node's backward against finite differences of its op."""

    index: int  # position in topological (creation) order
    op: str
    input_shapes: tuple  # of the op's Tensor arguments, in order
    input_dtypes: tuple
    site: Site | None
    status: str  # "ok", "FAIL", "error" (backward raised), "skipped", "kink"
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    input: int | None = None  # argument position of the worst error
    element: tuple | None = None  # its element (None for a random projection)
    analytic: float = 0.0
    numerical: float = 0.0
    at_kinks: int = 0  # elements left unchecked because their step crosses a kink
    message: str = ""

    @property
    def bad(self) -> bool:
        return self.status in ("FAIL", "error")

    def signature(self, short: bool = False) -> str:
        """``matmul((4, 3) float32, (3, 2) float32)``."""
        names = [_SHORT_DTYPES.get(d, d) for d in self.input_dtypes] if short else self.input_dtypes
        parts = ", ".join(f"{shape} {dtype}" for shape, dtype in zip(self.input_shapes, names))
        return f"{self.op}({parts})"

    def describe(self) -> str:
        text = f"#{self.index} {self.signature()}"
        if self.status == "error":
            text += f": backward raised {self.message}"
        elif self.status in ("skipped", "kink"):
            text += f": {self.status} ({self.message})"
        else:
            where = f"input {self.input}" + (
                "" if self.element is None else f", element {self.element}"
            )
            text += (
                f": {where}: analytic {self.analytic:.10g} vs numerical {self.numerical:.10g} "
                f"(abs error {self.max_abs_error:.3g}, rel error {self.max_rel_error:.3g})"
            )
        if self.site is not None:
            text += f"\n  created at {self.site.describe()}"
        return text


@dataclass
class DiagnosisReport:
    """Every node's local check; ``first_bad`` is the first wrong node in topological order."""

    nodes: list = field(default_factory=list)
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3

    @property
    def first_bad(self) -> NodeCheck | None:
        return next((node for node in self.nodes if node.bad), None)

    @property
    def bad(self) -> list:
        return [node for node in self.nodes if node.bad]

    @property
    def passed(self) -> bool:
        return not self.bad

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        bad = self.bad
        lines = [
            f"gradient doctor: {len(self.nodes)} nodes checked, {len(bad)} bad "
            f"(eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g})"
        ]
        rows = [
            (f"{node.index}", node.signature(short=True), f"{node.max_abs_error:.2g}",
             node.status, "-" if node.site is None else str(node.site))
            for node in self.nodes
        ]  # fmt: skip
        header = ("#", "op(inputs)", "abs error", "result", "created at")
        widths = [max(len(row[c]) for row in [header, *rows]) for c in range(5)]
        widths[1] = min(widths[1], 60)
        for row in [header, *rows]:
            cells = [row[0].rjust(widths[0]), _clip(row[1], 60).ljust(widths[1]),
                     row[2].rjust(widths[2]), row[3].ljust(widths[3]), row[4]]  # fmt: skip
            lines.append("  ".join(cells).rstrip())
        if bad:
            lines.append("first bad node: " + bad[0].describe())
        return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _replay_argument(arg):
    """A forward argument for the float64 replay: floating dtypes become float64."""
    if isinstance(arg, np.dtype) and arg.kind == "f":
        return np.dtype(np.float64)
    if isinstance(arg, type) and issubclass(arg, np.floating):
        return np.float64
    return arg


class _Replay:
    """One node's op rebuilt on float64 copies of its inputs."""

    def __init__(self, node, args):
        self.cls = type(node)
        self.args = []
        self.differentiable = []  # argument positions of the leaves to differentiate
        for position, (arg, needs) in enumerate(zip(args, node.needs_input_grad)):
            if isinstance(arg, Tensor):
                data = arg.data
                if data.dtype.kind == "f":
                    data = data.astype(np.float64)
                    if needs:
                        self.differentiable.append(position)
                self.args.append(data)
            else:
                self.args.append(_replay_argument(arg))
        self.tensor_positions = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]

    def call(self, replaced=None, record=False):
        """The op applied to the arguments (``replaced``: position -> new array)."""
        replaced = replaced or {}
        leaves = {}
        args = []
        for position, value in enumerate(self.args):
            if position in self.tensor_positions:
                value = replaced.get(position, value)
                grad = record and position in self.differentiable
                tensor = Tensor(value, requires_grad=True) if grad else Tensor.wrap(value)
                if grad:
                    leaves[position] = tensor
                args.append(tensor)
            else:
                args.append(value)
        with set_grad_enabled(record):
            return self.cls.apply(*args), leaves

    def kinks(self, replaced) -> list:
        return kink_coordinates(self.cls, [replaced.get(i, a) for i, a in enumerate(self.args)])


def _check_node(index, node, args, eps, atol, rtol, max_elements, generator) -> NodeCheck:
    tensors = [arg for arg in args if isinstance(arg, Tensor)]
    check = NodeCheck(
        index, op_name(node), tuple(t.shape for t in tensors),
        tuple(str(t.dtype) for t in tensors), getattr(node, "_creation_site", None), "ok",
    )  # fmt: skip
    replay = _Replay(node, args)
    try:
        output, leaves = replay.call(record=True)
    except Exception as error:  # noqa: BLE001  (an op that cannot replay is reported, not fatal)
        check.status, check.message = "skipped", f"replay failed: {type(error).__name__}: {error}"
        return check
    if output.dtype.kind != "f" or not output.requires_grad:
        check.status, check.message = "skipped", "output not differentiable"
        return check
    # Only finite outputs have derivatives to check (a mask's -inf scores do not): the
    # projection leaves the others out.
    finite = np.isfinite(output.data)
    cotangent = np.where(finite, generator.standard_normal(output.shape), 0.0)
    if not finite.all():
        check.message = f"{int(finite.size - finite.sum())} non-finite output values not checked"
    try:
        grads = autograd.grad(
            output, [leaves[p] for p in replay.differentiable],
            grad_outputs=Tensor(cotangent), allow_unused=True,
        )  # fmt: skip
    except Exception as error:  # noqa: BLE001  (a crashing backward is a finding)
        check.status, check.message = "error", f"{type(error).__name__}: {error}"
        return check

    def projected(replaced) -> float:
        value, _ = replay.call(replaced)
        with np.errstate(invalid="ignore"):  # 0 * inf where an output is not finite
            return float(np.sum(np.where(finite, cotangent * value.data, 0.0)))

    worst_score, checked = -1.0, 0
    for position, grad in zip(replay.differentiable, grads):
        x = replay.args[position]
        analytic_full = np.zeros(x.shape) if grad is None else grad.data.astype(np.float64)
        elements, analytic, numerical, at_kink = _steps(
            replay, projected, position, x, analytic_full, eps, max_elements, generator
        )
        abs_error, rel, bad = compare_values(analytic, numerical, atol, rtol)
        abs_error = np.where(np.isnan(abs_error), np.inf, abs_error)
        abs_error[at_kink], rel[at_kink], bad[at_kink] = 0.0, 0.0, False
        check.at_kinks += int(at_kink.sum())
        checked += at_kink.size
        if bad.any():
            check.status = "FAIL"
        if abs_error.size and abs_error.max() > worst_score:
            k = int(np.argmax(abs_error))
            worst_score = float(abs_error[k])
            check.max_abs_error, check.max_rel_error = worst_score, float(np.nanmax(rel))
            check.input, check.element = position, elements[k]
            check.analytic, check.numerical = float(analytic[k]), float(numerical[k])
    if check.status == "ok" and checked and check.at_kinks == checked:
        check.status, check.message = "kink", "every finite-difference step crosses a kink"
    return check


def _steps(replay, projected, position, x, analytic_full, eps, max_elements, generator):
    """Central differences of one input of a replayed node, along each element (or, for
    large inputs, three random directions): ``(elements, analytic, numerical, at_kink)``,
    ``at_kink`` marking the steps that cross a kink of the node."""
    elements: list
    if x.size <= max_elements:
        directions = [np.eye(x.size)[k].reshape(x.shape) for k in range(x.size)]
        elements = [tuple(int(v) for v in np.unravel_index(k, x.shape)) for k in range(x.size)]
    else:  # large inputs: a few random projections u @ J @ v, as fast-mode gradcheck
        directions = [generator.standard_normal(x.shape) for _ in range(3)]
        elements = [None] * 3
    analytic, numerical, at_kink = [], [], []
    kinks: list = []  # the kink coordinates at each evaluation: plus, then minus

    def evaluate(point):
        kinks.append(replay.kinks({position: point}))
        return projected({position: point})

    for direction, slope in zip(directions, central_differences(evaluate, x, eps, directions)):
        numerical.append(slope)
        analytic.append(float(np.sum(analytic_full * direction)))
        plus_kinks, minus_kinks = kinks
        kinks.clear()
        at_kink.append(
            any(crossings(c_minus, c_plus).any() for (_, c_plus), (_, c_minus)
                in zip(plus_kinks, minus_kinks))
        )  # fmt: skip
    return elements, np.array(analytic), np.array(numerical), np.array(at_kink, dtype=bool)


def _reachable(outputs) -> set:
    """The nodes the outputs depend on (iterative walk, no recursion)."""
    seen = set()
    stack = [o._node for o in outputs if o._node is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen or node.inputs is None:
            continue
        seen.add(id(node))
        stack.extend(
            arg._node for arg in node.inputs if isinstance(arg, Tensor) and arg._node is not None
        )
    return seen


def diagnose(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_elements: int = 4096,
    rng=0,
) -> DiagnosisReport:
    """Run ``fn(*inputs)`` once and check every recorded node's backward locally.

    Each node's op is replayed in float64 on the values it saw; its vector-Jacobian product
    with a random cotangent is compared with central differences (per element up to
    ``max_elements`` elements per input, random projections beyond). Finite differences that
    cross a kink of the op (relu at 0, ...) are left out. Inputs may be any dtype; modules
    called inside ``fn`` have their parameters checked too.

    >>> import tinynet as tn
    >>> w = tn.randn(2, 2, dtype=tn.float64, requires_grad=True, rng=1)
    >>> report = tn.lab.diagnose(lambda w: (w @ w).exp().sum(), (w,))
    >>> print(report.first_bad)
    None
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    recorded = []  # (node, its forward arguments), in creation order

    def record(ctx, result):
        if ctx.inputs is not None:
            recorded.append((ctx, ctx.inputs))

    with install_hooks(anomaly=record):
        outputs = as_outputs(fn(*inputs))
    reachable = _reachable(outputs)
    generator = as_generator(rng)
    report = DiagnosisReport(eps=eps, atol=atol, rtol=rtol)
    for node, args in recorded:
        if id(node) in reachable:
            report.nodes.append(
                _check_node(len(report.nodes), node, args, eps, atol, rtol, max_elements,
                            generator)
            )  # fmt: skip
    return report
