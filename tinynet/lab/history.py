"""Creation sites of graph nodes, and the lab tools' use of the engine's hook API.

While a lab tool is active, every recorded node gets the first stack frame outside the
tinynet package (the user's line that made it) as ``ctx._creation_site``. When no tool is
active no hook is registered (``tinynet.autograd.register_forward_hook``) and nothing is
recorded: zero cost.

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
import threading
from dataclasses import dataclass
from types import FrameType

from tinynet import autograd
from tinynet.nn.module import Module
from tinynet.tensor import Tensor

__all__ = ["Site", "creation_site", "find_site", "track_creation"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_MODULE_CALL = Module.__call__.__code__


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
    frame: FrameType | None = sys._getframe(skip)
    module = None
    while frame is not None:
        code = frame.f_code
        if not code.co_filename.startswith(_PACKAGE_DIR):
            # A user's backward formula is outside tinynet too: the engine says whether
            # this thread is inside a backward pass.
            return Site(code.co_filename, frame.f_lineno, module, autograd.in_backward())
        if code is _MODULE_CALL and module is None:
            owner = frame.f_locals.get("self")
            if isinstance(owner, Module):
                module = owner._get_name()
        frame = frame.f_back
    return None


def creation_site(value) -> Site | None:
    """The recorded creation site of a Tensor's node (or of a node); None if not tracked."""
    node = value._node if isinstance(value, Tensor) else value
    return getattr(node, "_creation_site", None) if node is not None else None


def _record_site(ctx, result) -> None:
    if ctx.inputs is not None and getattr(ctx, "_creation_site", None) is None:
        ctx._creation_site = find_site(2)


class _Tracking(threading.local):
    depth = 0  # lab tools active in this thread; the outermost one records sites


_tracking = _Tracking()


@contextlib.contextmanager
def install_hooks(anomaly=None, backward=None):
    """Register ``anomaly(ctx, result)`` / ``backward(node, grad_output, input_grads)``
    with the engine (``autograd.register_*_hook``) for this thread, then remove them.

    Site tracking is always on inside: every recorded node gets its creation site before
    ``anomaly`` sees it.
    """
    handles = []
    if _tracking.depth == 0:
        handles.append(autograd.register_forward_hook(_record_site))
    _tracking.depth += 1
    try:
        if anomaly is not None:
            handles.append(autograd.register_forward_hook(anomaly))
        if backward is not None:
            handles.append(autograd.register_backward_hook(backward))
        yield
    finally:
        _tracking.depth -= 1
        for handle in reversed(handles):
            handle.remove()


@contextlib.contextmanager
def track_creation():
    """Record the creation site of every node made inside (see ``creation_site``)."""
    with install_hooks():
        yield


def op_name(node) -> str:
    """A node's op as users write it: ``relu``, ``leaky_relu``, ``max``; user ops by class.

    A ``display_name`` wins: the class's (``pow`` for ``PowScalar``), or the node's own when
    one class serves several functions and its forward sets ``ctx.display_name``.
    """
    cls = node if isinstance(node, type) else type(node)
    name = cls.__name__
    shown = getattr(node, "display_name", None)
    if shown:
        return shown
    if cls.__module__.startswith("tinynet.ops."):
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return name
