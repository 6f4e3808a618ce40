"""The Python values a compiled function reads from outside its arguments.

A replay does not run the function's Python, so a number it reads from a global, a closure
cell or an attribute (``beta = 0.5`` changed each epoch, ``self.temperature``,
``config.kl_weight``) would stay the recorded one. A program guards these values, as
``torch.compile`` does: numbers, strings, bools and None held by the function's closure
cells, the globals it names, and the attributes it names of the objects it can see
(``self``, the objects in its closure cells and the globals it names; the attributes in
their instance ``__dict__``). A changed value records the function again. Tensors,
modules, optimizers and schedulers held in those places, or by a dict or list there, are
read by identity (a program holds them), and the numbers of such a dict by value. A
module's attributes are not read here: an attribute assigned on a module is already a guard
(``module_edits``).

>>> scale = 2.0
>>> def step(x):
...     return x * scale
>>> reads = python_reads(step)
>>> [(key, value) for _, key, value in reads]
[('scale', 2.0)]
>>> unchanged(reads)
True
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from tinynet.tensor import Tensor

_SCALARS = (bool, int, float, complex, str, bytes, type(None), np.generic)


class _Missing:
    """What a read finds once the global, cell or attribute is gone."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


def python_reads(fn) -> list[tuple]:
    """``(holder, key, value)`` of each Python value ``fn`` reads: ``holder`` a namespace
    dict (globals, an object's ``__dict__``) or a closure cell, ``key`` the name."""
    owner = getattr(fn, "__self__", None)
    target = getattr(fn, "__func__", fn)
    if isinstance(fn, _module_class()):  # tn.compile(model): its forward
        owner, target = fn, type(fn).forward
    elif not hasattr(target, "__code__"):  # a callable object: its __call__
        owner, target = fn, type(fn).__call__
    code = getattr(target, "__code__", None)
    if code is None:
        return []
    reads: list[tuple] = []
    objects: list[Any] = [] if owner is None else [owner]
    cells = zip(code.co_freevars, getattr(target, "__closure__", None) or ())
    names = getattr(target, "__globals__", {})
    places = [(cell, name, cell_value(cell)) for name, cell in cells]
    places += [(names, name, names[name]) for name in code.co_names if name in names]
    for holder, name, value in places:
        if isinstance(value, _SCALARS):
            reads.append((holder, name, value))
        else:
            _tensor_reads(holder, name, value, reads)
            objects.append(value)
    # The attributes it names, of those objects and of the objects they hold (config.beta,
    # self.config.beta), a few levels down
    wanted, seen = set(code.co_names), set()
    for _ in range(_DEPTH):
        found = []
        for obj in objects:
            attributes = _plain_attributes(obj)
            if attributes is None or id(obj) in seen:
                continue
            seen.add(id(obj))
            for name in wanted.intersection(attributes):
                value = attributes[name]
                if isinstance(value, _SCALARS):
                    reads.append((attributes, name, value))
                else:
                    _tensor_reads(attributes, name, value, reads)
                    found.append(value)
        objects = found
    return reads


_DEPTH = 3


def _tensor_reads(holder, name: str, value, reads: list) -> None:
    """A tensor held at ``(holder, name)``, or held by the dict or list there (class
    weights, a mask), is read by identity: its array is a constant of the program, so one
    replaced between calls (``weights["pos"] = tn.tensor(3.0)``) records again. So are a
    module, an optimizer and a scheduler, which a program holds too (``model = new_model``,
    ``optimizer = optim.SGD(...)`` between calls), and the numbers of a dict there, by value
    (``config["kl_weight"]``)."""
    held = _held_types()
    if isinstance(value, held):
        reads.append((holder, name, value))
        return
    wanted = (*held, *_SCALARS)  # the numbers of a config dict too: config["kl_weight"]
    if type(value) is dict and len(value) <= _ITEMS:
        reads += [(value, key, item) for key, item in value.items() if isinstance(item, wanted)]
    elif type(value) is list and len(value) <= _ITEMS:  # not its numbers: a log it appends to
        reads += [(value, key, item) for key, item in enumerate(value) if isinstance(item, held)]


_ITEMS = 64  # larger containers (a list of every batch) are not read item by item


@functools.cache
def _held_types() -> tuple:
    from tinynet.optim.lr_scheduler import LRScheduler
    from tinynet.optim.optimizer import Optimizer

    return (Tensor, _module_class(), Optimizer, LRScheduler)


def _module_class() -> Any:
    from tinynet.nn.module import Module

    return Module


def _plain_attributes(obj) -> dict | None:
    """The instance ``__dict__`` of an object whose attributes a replay may read stale;
    None for modules (their edits are guarded), tensors, arrays and classes."""
    if isinstance(obj, (_module_class(), Tensor, np.ndarray, type)):
        return None
    attributes = getattr(obj, "__dict__", None)
    return attributes if isinstance(attributes, dict) else None


def cell_value(cell) -> Any:
    """A closure cell's value, or ``MISSING`` for an empty cell."""
    try:
        return cell.cell_contents
    except ValueError:
        return MISSING


def current(holder, key) -> Any:
    """What the read ``(holder, key)`` finds now."""
    if type(holder) is dict:
        return holder.get(key, MISSING)
    if type(holder) is list:
        return holder[key] if key < len(holder) else MISSING
    return cell_value(holder)


def by_identity(recorded: Any) -> bool:
    """True when a read of ``recorded`` is compared by identity (a tensor, module, optimizer
    or scheduler), not by value (a number, a string)."""
    return not isinstance(recorded, _SCALARS)


def same(value: Any, recorded: Any) -> bool:
    """``value`` is ``recorded``'s type and value (NaN equal to NaN; 1 is not 1.0 or True);
    a tensor, module, optimizer or scheduler is the same object."""
    if by_identity(recorded):
        return value is recorded
    return type(value) is type(recorded) and (
        value == recorded or (value != value and recorded != recorded)
    )


def unchanged(reads: list[tuple]) -> bool:
    """True when every read finds the value it recorded."""
    return all(same(current(holder, key), value) for holder, key, value in reads)


def same_reads(mine: list[tuple], theirs: list[tuple]) -> bool:
    """Two recordings read the same places and found the same values there. A list's items
    count where both saw them: a list the function appends to (a log of its losses) grows
    between the two recordings without changing what the items it held are."""
    mine, mine_items = _split_lists(mine)
    theirs, their_items = _split_lists(theirs)
    return (
        len(mine) == len(theirs)
        and all(a[0] is b[0] and a[1] == b[1] and same(a[2], b[2]) for a, b in zip(mine, theirs))
        and all(
            same(item, their_items[place])
            for place, item in mine_items.items()
            if place in their_items
        )
    )


def _split_lists(reads: list[tuple]) -> tuple[list[tuple], dict]:
    """The reads of other holders, and ``{(id(list), index): item}`` of the lists' items."""
    others = [read for read in reads if type(read[0]) is not list]
    items = {(id(r[0]), r[1]): r[2] for r in reads if type(r[0]) is list}
    return others, items


def describe(reads: list[tuple]) -> str:
    """The names of the reads whose value changed, for a message."""
    return ", ".join(
        repr(key) for holder, key, value in reads if not same(current(holder, key), value)
    )
