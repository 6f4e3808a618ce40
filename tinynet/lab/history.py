"""Creation sites of graph nodes, and the plumbing that installs the engine's debugging hooks.

While a lab tool is active, every recorded node gets the first stack frame outside the
tinynet package (the user's line that made it) as ``ctx._creation_site``. When no tool is
active the engine's hooks are None and nothing is recorded: zero cost.

>>> import tinynet as tn
>>> from tinynet.lab import creation_site, track_creation
>>> x = tn.ones(2, requires_grad=True)
>>> with track_creation():
...     y = x.exp()
>>> creation_site(y).line
'y = x.exp()'
"""

from __future__ import annotations

import contextlib
import linecache
import os
import sys
from dataclasses import dataclass

from tinynet import autograd
from tinynet.nn.module import Module
from tinynet.tensor import Tensor

__all__ = ["Site", "creation_site", "find_site", "track_creation"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_MODULE_CALL = Module.__call__.__code__
_ENGINE_RUN = autograd._run.__code__


@dataclass(frozen=True)
class Site:
    """Where a node was created: the user's file and line, and the innermost module, if any."""

    path: str
    lineno: int
    module: str | None = None  # class name of the innermost nn.Module whose call made it
    in_backward: bool = False  # made by a backward formula (create_graph=True or anomaly checks)

    @property
    def line(self) -> str | None:
        """The source line, stripped (None when the file cannot be read, e.g. a REPL)."""
        text = linecache.getline(self.path, self.lineno).strip()
        return text or None

    def __str__(self) -> str:
        return f"{os.path.basename(self.path)}:{self.lineno}"

    def describe(self) -> str:
        """``model.py:14 (h = self.fc(x).relu())``, with the module when one made the op."""
        text = str(self)
        line = self.line
        if line:
            text += f" ({line if len(line) <= 60 else line[:57] + '...'})"
        if self.module:
            text += f" in {self.module}"
        return text


def find_site(skip: int = 1) -> Site | None:
    """The caller's creation site: the first frame outside the tinynet package."""
    frame = sys._getframe(skip)
    module = None
    found = None
    in_backward = False
    # The whole stack is walked: a user's backward formula is outside tinynet, yet called
    # by the engine, and nodes it makes must be known as made in backward.
    while frame is not None:
        code = frame.f_code
        if code is _ENGINE_RUN:
            in_backward = True
        elif found is None:
            if not code.co_filename.startswith(_PACKAGE_DIR):
                found = frame
            elif code is _MODULE_CALL and module is None:
                owner = frame.f_locals.get("self")
                if isinstance(owner, Module):
                    module = owner._get_name()
        frame = frame.f_back
    if found is None:
        return None
    return Site(found.f_code.co_filename, found.f_lineno, module, in_backward)


def creation_site(value) -> Site | None:
    """The recorded creation site of a Tensor's node (or of a node); None if not tracked."""
    node = value._node if isinstance(value, Tensor) else value
    return getattr(node, "_creation_site", None) if node is not None else None


def _record_site(ctx, result) -> None:
    if ctx.inputs is not None:
        ctx._creation_site = find_site(2)


def _chain(first, previous):
    """A hook that runs ``first`` then the hook that was installed before it."""
    if previous is None:
        return first

    def both(*args):
        first(*args)
        previous(*args)

    both._tracks_sites = _tracks_sites(first) or _tracks_sites(previous)
    return both


@contextlib.contextmanager
def install_hooks(anomaly=None, backward=None):
    """Chain ``anomaly`` / ``backward`` in front of the engine's current hooks, then restore.

    Site tracking is always on inside: every recorded node gets its creation site first.
    """
    previous_anomaly, previous_backward = autograd._anomaly_hook, autograd._backward_hook
    forward = _record_site if anomaly is None else _with_site(anomaly)
    # An outer tool already records sites; recording again would only cost time.
    if _tracks_sites(previous_anomaly) and anomaly is None:
        forward = None
    autograd._anomaly_hook = _chain(forward, previous_anomaly) if forward else previous_anomaly
    if backward is not None:
        autograd._backward_hook = _chain(backward, previous_backward)
    try:
        yield
    finally:
        autograd._anomaly_hook = previous_anomaly
        autograd._backward_hook = previous_backward


def _with_site(hook):
    def record_then(ctx, result):
        if ctx.inputs is not None and getattr(ctx, "_creation_site", None) is None:
            ctx._creation_site = find_site(2)
        hook(ctx, result)

    record_then._tracks_sites = True
    return record_then


_record_site._tracks_sites = True


def _tracks_sites(hook) -> bool:
    return hook is not None and getattr(hook, "_tracks_sites", False)


@contextlib.contextmanager
def track_creation():
    """Record the creation site of every node made inside (see ``creation_site``)."""
    with install_hooks():
        yield


_OP_NAMES = {"LogSumExp": "logsumexp", "PowScalar": "pow", "MatMul": "matmul", "GetItem": "getitem"}


def op_name(node) -> str:
    """A node's op as users write it: ``relu``, ``leaky_relu``, ``max``; user ops by class."""
    cls = node if isinstance(node, type) else type(node)
    name = cls.__name__
    if cls.__module__.startswith("tinynet.ops."):
        if name in _OP_NAMES:
            return _OP_NAMES[name]
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return name
