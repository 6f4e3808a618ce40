"""Look at a graph without graphviz: an indented text tree, or a self-contained HTML page.

>>> import tinynet as tn
>>> x = tn.ones(2, 3, dtype=tn.float64, requires_grad=True)
>>> print(tn.viz.text((x.exp() * x).sum(), names={"x": x}))
sum () float64
mul (2, 3) float64
├─ exp (2, 3) float64
│  x [#1] leaf (2, 3) float64
└─ x [#1] (shown above)

A node with a single input is followed by that input on the same level; a node with
several inputs branches. Both views walk the graph iteratively (a chain of 100,000 ops is
fine) and show at most ``max_nodes`` nodes, then say how many more there are.
Gradient norms are shown for leaves with a ``.grad`` and, inside ``record_gradients()``,
for every node a backward pass went through (which also keeps the graph viewable after
``backward()`` freed it).
"""

from __future__ import annotations

import contextlib
import html as _html
import os
import weakref
from collections import deque

import numpy as np

from tinynet import autograd
from tinynet.lab._files import atomic_output
from tinynet.lab.history import creation_site, op_name
from tinynet.tensor import Tensor

__all__ = ["html", "record_gradients", "text"]

_GRAD_NORMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # node -> |grad_output|
_KEPT_INPUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # node -> inputs


@contextlib.contextmanager
def record_gradients():
    """Record, for each node a backward pass in this thread reaches, its output gradient's
    norm and inputs.

    >>> import tinynet as tn
    >>> x = tn.ones(3, requires_grad=True)
    >>> y = (x * 2).sum()
    >>> with tn.viz.record_gradients():
    ...     y.backward()
    >>> "grad 1.73" in tn.viz.text(y)
    True
    """

    def hook(node, grad_output, input_grads):
        data = grad_output.data if isinstance(grad_output, Tensor) else np.asarray(grad_output)
        _GRAD_NORMS[node] = float(np.linalg.norm(data.astype(np.float64).ravel()))
        _KEPT_INPUTS[node] = node.inputs

    with autograd.register_backward_hook(hook):
        yield


def _inputs_of(node):
    inputs = node.inputs
    if inputs is None:
        inputs = _KEPT_INPUTS.get(node)
    return inputs


class _Graph:
    """The vertices (nodes and leaves) reachable from a tensor, in breadth-first order."""

    def __init__(self, root: Tensor, names, max_nodes: int, show_constants: bool):
        self.names = {id(t): name for name, t in (names or {}).items()}
        self.show_constants = show_constants
        self.order: list = []  # vertex keys, breadth-first from the root
        self.tensor: dict = {}  # key -> a tensor holding the vertex (node output or leaf)
        self.children: dict = {}  # key -> input vertex keys (None when the graph was freed)
        self.parents: dict = {}  # key -> number of consumers
        queue = deque([root])
        self.tensor[self._key(root)] = root
        self.parents[self._key(root)] = 0
        self.total = 0
        while queue:
            tensor = queue.popleft()
            key = self._key(tensor)
            self.total += 1
            keep = len(self.order) < max_nodes
            if keep:
                self.order.append(key)
            node = tensor._node
            if node is None:
                continue
            inputs = _inputs_of(node)
            if inputs is None:
                self.children[key] = None
                continue
            kids = []
            for arg in inputs:
                if not isinstance(arg, Tensor) or not self._shown(arg):
                    continue
                child = self._key(arg)
                kids.append(child)
                if child not in self.tensor:
                    self.tensor[child] = arg
                    self.parents[child] = 0
                    queue.append(arg)
                self.parents[child] += 1
            self.children[key] = kids
        self.kept = set(self.order)
        self.hidden = self.total - len(self.order)

    @staticmethod
    def _key(tensor: Tensor) -> int:
        return id(tensor._node) if tensor._node is not None else id(tensor)

    def _shown(self, tensor: Tensor) -> bool:
        return tensor._node is not None or tensor.requires_grad or self.show_constants

    def info(self, key) -> dict:
        tensor = self.tensor[key]
        node = tensor._node
        grad = None
        if node is None:
            if tensor.grad is not None:
                grad = float(np.linalg.norm(tensor.grad.data.astype(np.float64).ravel()))
            kind = "leaf" if tensor.requires_grad else "constant"
            op = self.names.get(id(tensor), kind)
        else:
            grad = _GRAD_NORMS.get(node)
            kind, op = "node", op_name(node)
        site = creation_site(node) if node is not None else None
        return {
            "op": op, "kind": kind, "shape": tuple(tensor.shape), "dtype": str(tensor.dtype),
            "grad": grad, "site": site, "freed": node is not None and self.children.get(key) is None,
        }  # fmt: skip


def _label(info: dict) -> str:
    parts = [info["op"]]
    if info["kind"] != "node" and info["op"] != info["kind"]:
        parts.append(info["kind"])
    parts += [str(info["shape"]), info["dtype"]]
    if info["grad"] is not None:
        parts.append(f"grad {info['grad']:.3g}")
    if info["site"] is not None:
        parts.append(f"@ {info['site']}")
    if info["freed"]:
        parts.append("(inputs freed by backward)")
    return " ".join(parts)


def text(tensor: Tensor, names: dict | None = None, max_nodes: int = 200,
         show_constants: bool = False) -> str:  # fmt: skip
    """The graph that made ``tensor`` as an indented tree (see the module docstring).

    ``names`` maps names to leaf tensors (e.g. ``dict(model.named_parameters())``).
    Shared nodes are drawn once, tagged ``[#k]``, and referenced where they recur.
    """
    graph = _Graph(tensor, names, max_nodes, show_constants)
    tags: dict = {}
    lines: list = []
    shown: set = set()
    shared = {key for key, count in graph.parents.items() if count > 1}
    stack = [(graph._key(tensor), "", "")]
    printed = 0
    while stack:
        key, lead, rest = stack.pop()
        info = graph.info(key)
        name = info["op"]
        if key in shown:
            lines.append(f"{lead}{name} [#{tags[key]}] (shown above)")
            continue
        if key not in graph.kept or printed >= max_nodes:
            continue
        printed += 1
        shown.add(key)
        label = _label(info)
        if key in shared:
            tags[key] = len(tags) + 1
            label = label.replace(name, f"{name} [#{tags[key]}]", 1)
        lines.append(lead + label)
        kids = graph.children.get(key) or []
        if len(kids) == 1:
            stack.append((kids[0], rest, rest))
            continue
        for index in reversed(range(len(kids))):
            last = index == len(kids) - 1
            stack.append(
                (kids[index], rest + ("└─ " if last else "├─ "), rest + ("   " if last else "│  "))
            )
    hidden = graph.total - printed
    if hidden > 0:
        lines.append(f"... {hidden} more nodes not shown (max_nodes={max_nodes})")
    return "\n".join(lines)


# -- HTML ---------------------------------------------------------------------------------------
_BOX_W, _BOX_H, _GAP_X, _GAP_Y, _MARGIN = 200, 62, 24, 46, 20
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 16px; color: #222; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px 0; }
p.note { color: #555; margin: 2px 0 10px 0; font-size: 13px; }
svg text { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; }
svg text.op { font-weight: bold; font-size: 12px; }
rect.node { fill: #fff6d5; stroke: #b08a00; }
rect.leaf { fill: #dcecff; stroke: #2f6db5; }
rect.constant { fill: #eeeeee; stroke: #888; }
path.edge { fill: none; stroke: #777; stroke-width: 1.2; }
"""


def _layers(graph: _Graph) -> dict:
    """Longest-path depth from the root for every kept vertex (Kahn's order, no recursion)."""
    pending = {key: 0 for key in graph.order}
    for key in graph.order:
        for child in graph.children.get(key) or []:
            if child in pending:
                pending[child] += 1
    depth = {graph.order[0]: 0}
    ready = [key for key, count in pending.items() if count == 0]
    while ready:
        key = ready.pop()
        for child in graph.children.get(key) or []:
            if child not in pending:
                continue
            depth[child] = max(depth.get(child, 0), depth.get(key, 0) + 1)
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
    return depth


def html(tensor: Tensor, path, names: dict | None = None, max_nodes: int = 300,
         title: str | None = None, show_constants: bool = False) -> str:  # fmt: skip
    """Write the graph of ``tensor`` as a self-contained HTML page (inline SVG); return path.

    One box per node (op, shape, dtype, gradient norm when known; hover for the creation
    line), edges from inputs up to the ops that use them, the output at the top. The file
    is written atomically and needs no external assets.
    """
    graph = _Graph(tensor, names, max_nodes, show_constants)
    position, n_rows = _positions(graph)
    width = max(x for x, _ in position.values()) + _BOX_W + _MARGIN
    height = 2 * _MARGIN + n_rows * (_BOX_H + _GAP_Y)
    svg = "".join(_svg_edges(graph, position)) + "".join(_svg_boxes(graph, position))
    heading = _html.escape(title or f"graph of a {tensor.dtype} tensor of shape {tensor.shape}")
    note = f"{graph.total} nodes"
    if graph.hidden:
        note += f"; showing the {len(graph.order)} nearest the output ... {graph.hidden} more"
    note += ". Hover over a box for its creation line."
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{heading}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{heading}</h1><p class="note">{_html.escape(note)}</p>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#777"/></marker></defs>' + svg + "</svg></body></html>\n"
    )
    with atomic_output(path, "w") as file:
        file.write(page)
    return os.fspath(path)


def _positions(graph: _Graph) -> tuple[dict, int]:
    """The top-left corner of every vertex's box, and the number of rows.

    Rows by depth from the output; each row under its consumers: ordered by, and placed
    near, their mean position (one top-down pass of the barycenter heuristic), then pushed
    apart where boxes overlap.
    """
    depth = _layers(graph)
    rows: dict[int, list] = {}
    for key in graph.order:
        rows.setdefault(depth.get(key, 0), []).append(key)
    consumers: dict = {}
    for key in graph.order:
        for child in graph.children.get(key) or []:
            consumers.setdefault(child, []).append(key)
    step = _BOX_W + _GAP_X
    left: dict = {}
    for level in sorted(rows):
        row = rows[level]
        wanted: dict
        if level == 0:
            wanted = {key: index * step for index, key in enumerate(row)}
        else:
            wanted = {
                key: float(np.mean([left[p] for p in consumers.get(key, []) if p in left] or [0.0]))
                for key in row
            }
            row.sort(key=lambda k: wanted[k])
            # Centre the row's span on its wanted span, then resolve overlaps left to right.
            span = (len(row) - 1) * step
            middle = (wanted[row[0]] + wanted[row[-1]]) / 2
            wanted = {key: middle - span / 2 + index * step for index, key in enumerate(row)}
        previous = None
        for key in row:
            x = wanted[key] if previous is None else max(wanted[key], previous + step)
            left[key] = previous = x
    shift = _MARGIN - min(left.values())
    position = {
        key: (left[key] + shift, _MARGIN + level * (_BOX_H + _GAP_Y))
        for level, row in rows.items()
        for key in row
    }
    return position, len(rows)


def _svg_edges(graph: _Graph, position: dict) -> list[str]:
    """One curve per shown edge, from an input's box up to its consumer's."""
    parts = []
    for key in graph.order:
        for child in graph.children.get(key) or []:
            if child not in position:
                continue
            (px, py), (cx, cy) = position[key], position[child]
            x1, y1 = cx + _BOX_W / 2, cy
            x2, y2 = px + _BOX_W / 2, py + _BOX_H
            if y1 <= y2:  # an input drawn on a row above its consumer (rare): a side loop
                y1 = cy + _BOX_H
            middle = (y1 + y2) / 2
            parts.append(
                f'<path class="edge" d="M{x1:.1f},{y1:.1f} C{x1:.1f},{middle:.1f} '
                f'{x2:.1f},{middle:.1f} {x2:.1f},{y2 + 4:.1f}" marker-end="url(#arrow)"/>'
            )
    return parts


def _svg_boxes(graph: _Graph, position: dict) -> list[str]:
    """One box per vertex: op, shape and dtype, gradient norm and kind; a tooltip with the
    creation site."""
    parts = []
    for key in graph.order:
        info = graph.info(key)
        x, y = position[key]
        missing = len([c for c in graph.children.get(key) or [] if c not in position])
        second = f"{info['shape']} {info['dtype']}"
        third = "" if info["grad"] is None else f"grad norm {info['grad']:.3g}"
        if info["kind"] != "node":
            third = (third + "  " if third else "") + info["kind"]
        if missing:
            third = (third + "  " if third else "") + f"+{missing} inputs not shown"
        tip = _label(info)
        if info["site"] is not None:
            tip += f"\ncreated at {info['site'].describe()}"
        parts.append(
            f"<g><title>{_html.escape(tip)}</title>"
            f'<rect class="{info["kind"]}" x="{x:.1f}" y="{y:.1f}" width="{_BOX_W}" '
            f'height="{_BOX_H}" rx="6"/>'
            f'<text class="op" x="{x + 8:.1f}" y="{y + 17:.1f}">{_html.escape(_clip(info["op"]))}</text>'
            f'<text x="{x + 8:.1f}" y="{y + 34:.1f}">{_html.escape(_clip(second))}</text>'
            f'<text x="{x + 8:.1f}" y="{y + 51:.1f}">{_html.escape(_clip(third))}</text></g>'
        )
    return parts


def _clip(value: str, width: int = 27) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"
