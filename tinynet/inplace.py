"""In-place writes: version counters, and the graph a write rewrites.

- Version counters. Each write bumps the counter of the memory it writes, which views share
  with the tensor they view (``Tensor._version``), and a process-wide stamp
  (``inplace_writes``): backward checks a node's inputs only if a write came after it.
- Rebasing. A recorded write runs the out-of-place op, gives its node a copy of the
  tensor's old value and makes the tensor the output of that node (``_rebase``); nodes
  that read the tensor are pointed at the copy (``_stand_in``), or their edges would form a
  cycle.
- A write through a view is PyTorch's ``CopySlices``, built from primitives: the view's
  base is rebased onto its old value with the view's region replaced by the result
  (``_write_view``), and the view onto a view of the new base.
- Views of a tensor outside the graph are remembered by weak reference (``remember_view``):
  a write that gives the tensor a history gives it to them too. Views in the graph follow
  their base's new history lazily: their node's version check skips the tensor viewed
  while its history is current (``history_is_current``). A write that reads another view
  of the memory written (``h[0].copy_(h[1])``) reads it at its old values (``_stand_in``).

>>> import tinynet as tn
>>> x = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = x * 1.0
>>> tail = y[1:]  # a view of y: they share one version counter
>>> _ = tail.mul_(10.0)  # a write through the view rewrites y's history
>>> y.version, y.tolist()
(1, [1.0, 20.0, 30.0])
>>> y.sum().backward()
>>> x.grad.tolist()
[1.0, 10.0, 10.0]

The rules users see are in docs/autograd.md and docs/tensors.md; the design and its costs
in docs/design.md. The ``Tensor`` methods (``add_``, ``copy_``, ``__setitem__``...) call
this module; it and ``tensor.py`` know each other, a knot tied by the imports at the bottom
of both.
"""

from __future__ import annotations

import builtins
import functools
import os
import sys
import types
import weakref
from typing import Any

import numpy as np

from tinynet._grad_mode import grad_mode
from tinynet.tensor import Tensor


class _WriteCounter:
    """Stamps every in-place write, process-wide: an op recorded at stamp s needs no check at
    backward while no write happened since (the common case, kept to one comparison). An
    instance, not a class attribute: setting a class attribute would deoptimize attribute
    lookups on every Tensor."""

    __slots__ = ("count",)

    def __init__(self):
        self.count = 0


inplace_writes = _WriteCounter()


def bump_version(tensor: Tensor, writer: str | None = None) -> None:
    """Record an in-place write to ``tensor``'s data (optimizers call this for each step).

    ``writer`` says who wrote (``"add_ at train.py:12"``), for the error of a stale graph.
    """
    counter = inplace_writes
    stamp = counter.count = counter.count + 1
    state = tensor._version
    if state.__class__ is tuple:
        tensor._version = (state[0] + 1, stamp, writer)
    elif state.__class__ is builtins.int:  # 0: the first write
        tensor._version = (1, stamp, writer)
    else:  # a view or a detach() alias: the counter is the tensor it shares
        owner = counter_owner(tensor)
        state = owner._version
        owner._version = (
            (state[0] + 1, stamp, writer) if state.__class__ is tuple else (1, stamp, writer)
        )


def counter_owner(tensor: Tensor) -> Tensor:
    """The tensor whose version counter ``tensor`` shares (itself if it has its own)."""
    state: Any = tensor._version
    while state.__class__ is not tuple and state.__class__ is not builtins.int:
        tensor = state[0] if state.__class__ is list else state
        state = tensor._version
    return tensor


def last_writer(tensor: Tensor) -> str | None:
    """Who last wrote ``tensor``'s memory in place (None if unknown or never)."""
    state = _version_state(tensor)
    return state[2] if len(state) > 2 else None


def _caller_site() -> str:
    """``file.py:line`` of the first caller outside the tinynet package."""
    frame: types.FrameType | None = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "an unknown line"
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _version_state(tensor: Tensor) -> tuple:
    state: Any = tensor._version
    if state.__class__ is not tuple and state.__class__ is not builtins.int:
        state = counter_owner(tensor)._version
    return (0, 0) if state.__class__ is builtins.int else state


def version_of(tensor: Tensor) -> int:
    """The number of in-place writes ``tensor``'s memory has seen."""
    return _version_state(tensor)[0]


def history_is_current(tensor: Tensor) -> bool:
    """Whether the history of ``tensor``'s memory describes its values: the tensor owning
    the memory's version counter is a leaf, or was rebased by its last in-place write (a
    write under ``no_grad`` or through a ``detach()`` alias is not recorded there)."""
    owner = counter_owner(tensor)
    node = owner._node
    if node is None:
        return True
    stamp = getattr(node, "_stamp", None)
    return stamp is not None and not written_since(owner, stamp)


def written_since(tensor: Tensor, stamp: int) -> bool:
    """True if ``tensor``'s memory was written in place after write stamp ``stamp``."""
    return _version_state(tensor)[1] > stamp


def _write(tensor: Tensor, values: np.ndarray, name: str) -> None:
    if (
        values.shape != tensor.data.shape
        and np.broadcast_shapes(values.shape, tensor.data.shape) != tensor.data.shape
    ):
        raise _errors.ShapeError(
            f"{name}: the result of shape {values.shape} does not fit in place into a tensor "
            f"of shape {tensor.shape}; use the out-of-place form"
        )
    if values.dtype != tensor.data.dtype and not np.can_cast(
        values.dtype, tensor.data.dtype, casting="same_kind"
    ):
        raise _errors.DTypeError(
            f"{name}: result type {values.dtype} can't be cast to the tensor's dtype "
            f"{tensor.dtype} in place; use the out-of-place form, or convert with .to(...)"
        )
    if not tensor.data.flags.writeable:
        raise RuntimeError(
            f"{name}: this tensor's memory is read-only (a broadcast view); clone() it first"
        )
    np.copyto(tensor.data, values, casting="same_kind")


def write_in_place(tensor: Tensor, name: str, compute) -> Tensor:
    """Write ``compute(tensor)`` into ``tensor``'s memory as PyTorch's in-place op ``name``,
    recording it when grad mode says so: the rules of ``x.add_()``, ``relu_()`` and their
    siblings (``nn.functional``'s ``inplace=True`` forms).

    A recorded in-place op rebases the tensor onto the op's node; the node keeps a copy of
    the old values, so its backward sees what its forward saw. ``tn.compile``'s recorder is
    told what was written with what (``inplace_write``).
    """
    values = _write_in_place(tensor, name, compute)
    recorder = _autograd.trace_hook()
    if recorder is not None and values is not None:
        recorder.inplace_write(f"{name} at {_caller_site()}", tensor.data, values)
    return tensor


def _write_in_place(tensor: Tensor, name: str, compute) -> np.ndarray | None:
    """``write_in_place``'s write; returns the array of values written (None: a write
    through a view, which told ``tn.compile``'s recorder itself)."""
    if not tensor.data.flags.writeable:
        _make_writable(tensor)
    if grad_mode.enabled:
        if isinstance(tensor._version, Tensor):  # a view made by an op: PyTorch's CopySlices
            return _write_view(tensor, name, compute)
        if tensor._requires_grad:
            if tensor._node is None:
                raise RuntimeError(_leaf_message(name))
            if tensor.data.base is not None and _views_an_input(tensor):
                raise RuntimeError(
                    f"{name}: this tensor views the memory of its op's input, but the op did "
                    "not make it a view (a NumPy view through another object, such as "
                    "as_strided's), so the write cannot be recorded; use clone() first"
                )
    if not grad_mode.enabled:
        values = compute(Tensor.wrap(tensor.data)).data
        recorder = _autograd.trace_hook()
        viewed = recorder is not None and isinstance(tensor._version, Tensor)  # not detach()'s
        base = counter_owner(tensor) if viewed else tensor
        old = _old_values(base) if viewed else None
        _write(tensor, values, name)
        bump_version(tensor, f"{name} at {_caller_site()}")
        if old is None:
            return values
        _record_view_write(recorder, f"{name} at {_caller_site()}", tensor, base, old, values)
        return None
    source = Tensor.wrap(tensor.data, tensor._requires_grad, tensor._node)
    mark = _autograd.order_mark()
    result = compute(source)
    node = result._node
    if node is None:
        _write(tensor, result.data, name)
        bump_version(tensor, f"{name} at {_caller_site()}")
        return result.data
    if result.data.shape != tensor.data.shape:
        _write(tensor, result.data, name)  # raises the shape error
    source.data = tensor.data.copy()
    if _may_read(node, tensor, source, mark):
        _stand_in(node, ((tensor, source),), mark, tensor)
    _write(tensor, result.data, name)
    bump_version(tensor, f"{name} at {_caller_site()}")
    outside = not tensor._requires_grad
    _rebase(tensor, node)
    if outside and _outside_views:
        _regenerate_views(tensor, name)
    return result.data


def _may_read(node, tensor: Tensor, source: Tensor, mark: int) -> bool:
    """Whether the node of an in-place op on ``tensor`` (its input ``source``) may read
    ``tensor``'s memory other than through ``source``: through the tensor, a tensor sharing
    its counter, or one made after the tensor. Most ops (``x.relu_()``, ``x.mul_(2)``,
    ``x.add_(w)``) read none, and need no walk (``_stand_in``)."""
    newest_kept = mark if tensor._node is None else tensor._node._order
    alias = tensor._version.__class__ is list  # detach()'s: its original shares the counter
    for arg in node.inputs:
        if arg is source:
            continue
        if arg is tensor:
            return True
        if arg.__class__ is Tensor and (
            (arg._node is not None and arg._node._order < newest_kept)
            or ((alias or _is_view(arg)) and counter_owner(arg) is counter_owner(tensor))
        ):
            return True
    return False


def _views_an_input(tensor: Tensor) -> bool:
    """Whether ``tensor``'s memory (not linked as a view) may be an input's of its op: a
    copy (integer-array indexing, a reshape that cannot view) is written as in PyTorch."""
    node = tensor._node
    inputs: tuple = node.inputs if node is not None and node.inputs is not None else ()
    return any(
        isinstance(arg, Tensor) and np.may_share_memory(arg.data, tensor.data) for arg in inputs
    )


def _make_writable(tensor: Tensor) -> None:
    """Let a write through a view that NumPy made read-only (a broadcast that repeats no
    element, ``expand(1, n)`` of ``(n,)``) reach its base; refuse one that repeats elements
    (stride 0) with PyTorch's error, before anything is written."""
    array = tensor.data
    if any(n > 1 and step == 0 for n, step in zip(array.shape, array.strides)):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )
    if isinstance(tensor._version, Tensor) and counter_owner(tensor).data.flags.writeable:
        array.flags.writeable = True


def _leaf_message(name: str) -> str:
    return (
        f"a leaf Variable that requires grad is being used in an in-place operation "
        f"({name}); update it under `with tn.no_grad():` (as optimizers do) or use "
        "the out-of-place form"
    )


def _write_view(view: Tensor, name: str, compute) -> np.ndarray | None:
    """An in-place write into ``view``, a view made by an op (of a view...) of the memory of
    a tensor ``base``, recorded as PyTorch's ``CopySlices`` when it needs a gradient.

    ``base`` is rebased onto its old value with the view's region replaced by the op's
    result: the gradient flows to the old ``base`` outside the region and, inside it,
    through the op and the view back to the old ``base`` (the old value stands in for the
    view's old history). ``view``, and the views between it and ``base``, are rebased onto
    views of the new ``base``. Other views of ``base`` taken before keep their nodes, which
    read ``base``: its version counter makes their backward raise.
    """
    base, between = _view_chain(view, name)
    recorded = view._requires_grad
    outside = not base._requires_grad  # then every view between gets the new history
    if recorded:
        region = _region(view.data, base.data, name)
        old = Tensor.wrap(_old_values(base), base._requires_grad, base._node)
        source = _view_of(old, view.data.shape, region)
    else:
        source = Tensor.wrap(view.data)
    mark = _autograd.order_mark()
    result = compute(source)
    node = result._node
    if node is None:
        return _write_view_plainly(view, base, result.data, name)
    if base._requires_grad and not recorded:
        raise RuntimeError(
            f"{name}: a view was created in no_grad mode and is being modified inplace with "
            "grad mode enabled; take the view and write it both inside or both outside "
            "no_grad (PyTorch forbids this too)"
        )
    if result.data.shape != view.data.shape:
        _write(view, result.data, name)  # raises the shape error
    if not recorded:  # neither tensor was in the graph: an operand brought the gradient
        region = _region(view.data, base.data, name)
        old = Tensor.wrap(_old_values(base))
        source.data = view.data.copy()
    middles = [
        (m, _region(m.data, base.data, name)) for m in between if m._requires_grad or outside
    ]
    stand_ins = [(m, _view_of(old, m.data.shape, r)) for m, r in middles if m._requires_grad]
    _stand_in(node, ((view, source), (base, old), *stand_ins), mark, base)
    _write(view, result.data, name)
    bump_version(view, f"{name} at {_caller_site()}")
    written = result if result.data.dtype == view.data.dtype else _ops.cast(result, view.dtype)
    _rebase(base, _scattered(written, old, region)._node)
    recorder = _autograd.trace_hook()
    if recorder is not None:
        _record_view_write(
            recorder, f"{name} at {_caller_site()}", view, base, old.data, result.data
        )
    _rebase(view, _view_of(base, view.data.shape, region)._node)
    for middle, middle_region in middles:
        _rebase(middle, _view_of(base, middle.data.shape, middle_region)._node)
    if outside and _outside_views:
        _regenerate_views(base, name)
    # The op keeps reading ``result`` (kept by the new base's node): its own array, which
    # later writes through the view cannot change.
    return None


def _write_view_plainly(view: Tensor, base: Tensor, values, name: str) -> np.ndarray | None:
    """A write through a view that no graph records; None when ``tn.compile``'s recorder
    was told of it (``_write_view``'s return convention)."""
    recorder = _autograd.trace_hook()
    if recorder is None:
        _write(view, values, name)
        bump_version(view, f"{name} at {_caller_site()}")
        return values
    old_values = _old_values(base)
    _write(view, values, name)
    writer = f"{name} at {_caller_site()}"
    bump_version(view, writer)
    _record_view_write(recorder, writer, view, base, old_values, values)
    return None


def _old_values(base: Tensor) -> np.ndarray:
    """A copy of ``base``'s values before a write through a view: ``tn.compile`` records
    the copy, so the ops that read it replay on the old value."""
    return _autograd.traced_call(np.ndarray.copy, base.data)


def _record_view_write(
    recorder, writer: str, view: Tensor, base: Tensor, old: np.ndarray, values: np.ndarray
) -> None:
    """Tell ``tn.compile``'s recorder that ``values`` were written into ``view``, which
    views ``base``, whose values before are ``old`` (made by ``_old_values``)."""
    recorder.inplace_view_write(writer, view.data, values, base.data, old)


def _view_chain(view: Tensor, name: str) -> tuple[Tensor, list]:
    """The tensor whose memory ``view`` views, and the views between them; PyTorch's
    refusal of a write that would change a leaf that requires grad."""
    between = []
    base: Any = view._version
    while isinstance(base._version, Tensor):
        between.append(base)
        base = base._version
    if view._requires_grad and view._node is None:
        raise RuntimeError(_leaf_message(name))
    if view._requires_grad and any(t._requires_grad and t._node is None for t in (base, *between)):
        raise RuntimeError(
            f"a view of a leaf Variable that requires grad is being used in an in-place "
            f"operation ({name}); write into a clone() of the leaf, or update it under "
            "`with tn.no_grad():`"
        )
    return base, between


# Views taken of a tensor outside the graph, under the id of the tensor each views (weak
# references; a list starts with the tensor's own): a write that gives that tensor a history
# gives it to them too, as PyTorch regenerates a view's history from its base's. Without
# this nothing would lead from the tensor to its views, whose gradients would be lost.
_outside_views: dict[int, list] = {}


def remember_view(base: Tensor, view: Tensor) -> None:
    """Note that ``view`` (outside the graph) views ``base`` (``Function.apply`` calls this)."""
    key = id(base)
    entry = _outside_views.get(key)
    if entry is None or entry[0]() is not base:
        entry = _outside_views[key] = [weakref.ref(base, functools.partial(_forget_views, key))]
    elif len(entry) >= 64 and not len(entry) & (len(entry) - 1):  # amortized: at powers of 2
        entry[1:] = [ref for ref in entry[1:] if ref() is not None]
    entry.append(weakref.ref(view))


def _forget_views(key: int, base_ref: weakref.ref) -> None:
    entry = _outside_views.get(key)
    if entry is not None and entry[0] is base_ref:
        del _outside_views[key]


def _regenerate_views(base: Tensor, name: str) -> None:
    """Give the views of ``base`` (and their views) taken while it was outside the graph,
    and still outside, the history of views of ``base``, which a write just gave one."""
    stack = [base]
    while stack:
        viewed = stack.pop()
        entry = _outside_views.pop(id(viewed), None)
        for ref in entry[1:] if entry is not None and entry[0]() is viewed else ():
            view = ref()
            if view is None:
                continue
            if not view._requires_grad and view.data.dtype.kind == "f":
                region = _region(view.data, base.data, name, overlap=True)
                _rebase(view, _view_of(base, view.data.shape, region)._node)
            stack.append(view)


def _region(view: np.ndarray, base: np.ndarray, name: str, overlap: bool = False) -> tuple | None:
    """Where ``view``'s elements lie in ``base``: None when the view is all of ``base`` in C
    order (a reshape), else ``(positions, mask)``: the position in the flattened ``base`` of
    each element of the view, and the elements of ``base`` it covers (None: all of them).
    Found from the memory addresses, so any strided view (slices, transposes, steps,
    negative steps) is exact."""
    start = base.__array_interface__["data"][0]
    if (
        view.size == base.size
        and view.flags.c_contiguous
        and base.flags.c_contiguous
        and view.__array_interface__["data"][0] == start
    ):
        return None
    view_at = _addresses(view).ravel()
    if base.flags.c_contiguous:  # the common case: positions are offsets, no search
        positions, misaligned = np.divmod(view_at - start, base.itemsize)
        inside = not misaligned.any() and (positions >= 0).all() and (positions < base.size).all()
    else:
        base_at = _addresses(base).ravel()
        order = np.argsort(base_at, kind="stable")
        sorted_at = base_at[order]
        found = np.minimum(np.searchsorted(sorted_at, view_at), max(base.size - 1, 0))
        inside = (sorted_at[found] == view_at).all() and not (np.diff(sorted_at) == 0).any()
        positions = order[found]
    mask = np.zeros(base.size, dtype=bool)
    if inside and view.dtype == base.dtype:
        mask[positions] = True
    covered = np.count_nonzero(mask)
    if covered != view.size and not (overlap and covered):  # outside, or overlapping
        raise RuntimeError(
            f"{name}: this tensor views another one's memory in a way an in-place write "
            "cannot be recorded for (elements that overlap, or memory outside that tensor); "
            "clone() it first"
        )
    positions = positions.reshape(view.shape)
    return positions, (None if view.size == base.size else mask.reshape(base.shape))


def _addresses(array: np.ndarray) -> np.ndarray:
    """The memory address of each element of ``array``."""
    at = np.array(array.__array_interface__["data"][0], dtype=np.int64)
    for size, stride in zip(array.shape, array.strides):
        at = at[..., None] + np.arange(size, dtype=np.int64) * stride
    return at


def _view_of(tensor: Tensor, shape: tuple, region: tuple | None) -> Tensor:
    """The view ``_region`` describes, as recorded ops on ``tensor``; the nodes are marked
    as views (``Function._check_versions``) even where the ops copy (a gather, a reshape
    of memory not in C order): the tensor rebased onto them is a real view of ``tensor``."""
    if region is None:
        return _ops.reshape(tensor, shape)
    flat = _ops.reshape(tensor, -1)
    view = _ops.getitem(flat, region[0])
    for result, viewed in ((flat, tensor), (view, flat)):
        if result._node is not None:
            result._node._viewed = viewed
    return view


def _scattered(values: Tensor, old: Tensor, region: tuple | None) -> Tensor:
    """``old`` with the region ``_region`` describes replaced by ``values``, as recorded ops."""
    shape = old.data.shape
    if region is None:
        return _ops.reshape(values, shape)
    positions, mask = region
    flat = _movement.IndexAdd.apply(values, positions, (old.data.size,))
    scattered = _ops.reshape(flat, shape)
    return scattered if mask is None else _ops.where(mask, scattered, old)


def _stand_in(node, pairs: tuple, mark: int, written: Tensor) -> None:
    """Make the op's nodes, and the nodes between them and the tensors about to be rebased,
    read each tensor's stand-in (its old value, with its old history) where they read the
    tensor at its current version (``y.add_(y)``, ``y.mul_(y.sum())``, ``y[mask] += 1``):
    PyTorch's edges point at the old history, ours at a Tensor that is about to get a new
    one. Walks only nodes newer than the rebased tensors' nodes, or than ``mark`` (taken
    before the op ran); a node recorded before the tensor's last write is left to its
    version check.

    The other tensors that share ``written``'s memory and version counter (its views,
    ``h[0].copy_(h[1])``, ``h[1:] = h[:-1]``, and ``detach()`` aliases) are read at their
    old values too: as the same view of the memory's old value, with the history of the
    tensor owning the counter. Their own nodes are left alone: a view's values follow its
    base's, so later uses of it differentiate through the base's new history."""
    owner = counter_owner(written)
    oldest = max([mark] + [t._node._order for t, _ in pairs if t._node is not None])
    if not _reads_newer(node, pairs, oldest, owner):
        return
    stand_ins = {id(tensor): (tensor, stand_in) for tensor, stand_in in pairs}
    fresh = {id(stand_in) for _, stand_in in pairs}
    others: dict = {}  # id(tensor) -> (tensor, its stand-in), for the owner's other views
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        inputs = current.inputs
        if id(current) in seen or inputs is None:
            continue
        seen.add(id(current))
        changed = []
        for arg in inputs:
            if isinstance(arg, Tensor) and id(arg) not in fresh:
                pair = stand_ins.get(id(arg))
                if pair is not None and pair[0] is arg:
                    if not written_since(arg, current._stamp):
                        arg = pair[1]
                    elif arg._node is not None and arg._node._order < oldest:
                        stack.append(arg._node)
                elif counter_owner(arg) is owner:
                    if not written_since(arg, current._stamp):
                        arg = _old_view(arg, owner, others)
                elif arg._node is not None and arg._node._order < oldest:
                    stack.append(arg._node)
            changed.append(arg)
        if any(new is not old for new, old in zip(changed, inputs)):
            current.inputs = tuple(changed)


def _reads_newer(node, pairs: tuple, oldest: int, owner: Tensor) -> bool:
    """Whether ``node`` read a tensor about to be rebased, one sharing ``owner``'s version
    counter, or a tensor other than the stand-ins made after the oldest of them (which may
    read one)."""
    for arg in node.inputs:
        if arg.__class__ is not Tensor:
            continue
        for tensor, stand_in in pairs:
            if arg is tensor:
                return True
            if arg is stand_in:
                break
        else:
            if arg._node is not None and arg._node._order < oldest:
                return True
            if arg is owner or (_is_view(arg) and counter_owner(arg) is owner):
                return True
    return False


def _is_view(tensor: Tensor) -> bool:
    """Whether ``tensor`` shares another tensor's version counter (a view, an alias)."""
    state = tensor._version.__class__
    return state is not tuple and state is not builtins.int


def _old_view(view: Tensor, owner: Tensor, others: dict) -> Tensor:
    """``view`` (sharing ``owner``'s memory) as it was before a write into that memory: the
    same view of a copy of the owner's values, with its history (made once into
    ``others``; a copy ``tn.compile`` records), without a history if ``view`` needs no
    gradient. ``view`` itself if it cannot be found in the owner's memory (its version
    check then decides)."""
    entry = others.get(id(view))
    if entry is not None and entry[0] is view:
        return entry[1]
    pair = others.get(id(owner))
    if pair is None or pair[0] is not owner:
        old_values = _old_values(owner)
        pair = others[id(owner)] = (
            owner,
            Tensor.wrap(old_values, owner._requires_grad, owner._node),
        )
    old = pair[1]
    if view is owner:
        return old
    try:
        region = _region(view.data, owner.data, "", overlap=True)
    except RuntimeError:
        values = view
    else:
        values = _view_of(old, view.data.shape, region)
        if values.data.dtype != view.data.dtype:
            values = view
        elif not view._requires_grad:
            values = Tensor.wrap(values.data)
    others[id(view)] = (view, values)
    return values


def _rebase(tensor: Tensor, node) -> None:
    """Make ``tensor`` (just written in place) the output of ``node``."""
    retained = tensor.retains_grad
    tensor._node = node
    if retained:
        node._retain_grad_of(tensor)
    tensor._requires_grad = True
    node._rebase_output(tensor)


def index_put(tensor: Tensor, index, value: Tensor) -> None:
    """``tensor[index] = value`` for integer arrays and masks, recorded (``index_put_``)."""
    # Traced: a tn.compile replay finds each call's places (a mask computed in the step)
    shape = tensor.data.shape
    parts = index if isinstance(index, tuple) else (index,)
    positions = _autograd.traced_call(_positions, shape, isinstance(index, tuple), *parts)
    if not _autograd.traced_check(_distinct, positions):
        raise RuntimeError(
            "__setitem__: the index repeats a position, so which assigned value lands there is "
            "undefined (in PyTorch too); make the indices unique, or add with index_add"
        )
    chosen = _autograd.traced_call(_chosen, shape, positions)
    if value.data.dtype != tensor.data.dtype:
        value = _ops.cast(value, tensor.data.dtype)
    values = _ops.broadcast_to(value, positions.shape)

    def compute(t: Tensor) -> Tensor:
        flat = _movement.IndexPut.apply(values, positions, (t.data.size,))
        return _ops.where(chosen, _ops.reshape(flat, t.data.shape), t)

    write_in_place(tensor, "__setitem__", compute)


def _positions(shape: tuple, tuple_index: bool, *parts) -> np.ndarray:
    """The flat positions that the index ``parts`` (one part, or a tuple of them) picks."""
    return np.arange(int(np.prod(shape))).reshape(shape)[parts if tuple_index else parts[0]]


def _distinct(positions: np.ndarray) -> bool:
    return np.unique(positions).size == positions.size


def _chosen(shape: tuple, positions: np.ndarray) -> np.ndarray:
    chosen = np.zeros(shape, dtype=bool)
    chosen.reshape(-1)[positions.ravel()] = True
    return chosen


def same_memory(a: Tensor, b: Tensor) -> bool:
    """Whether ``a`` and ``b`` are views of the same elements of the same tensor."""
    x, y = a.data, b.data
    return (
        x.shape == y.shape
        and x.strides == y.strides
        and x.dtype == y.dtype
        and x.__array_interface__["data"][0] == y.__array_interface__["data"][0]
        and counter_owner(a) is counter_owner(b)
    )


def overwrite(target: Tensor, values) -> Tensor:
    """``values`` broadcast to ``target``'s shape and dtype, as a new array, in the graph."""
    if isinstance(values, np.ndarray):
        values = Tensor.wrap(values.astype(target.data.dtype, copy=False))
    everywhere = np.ones(target.data.shape, dtype=bool)
    result = _ops.where(everywhere, values, target)
    return result if result.data.dtype == target.data.dtype else result.astype(target.dtype)


def unary_inplace(name: str):
    """PyTorch's in-place method ``{name}_``: ``x.exp_()`` is ``x.exp()`` written back, and
    ``x.clamp_min_(0)`` is ``x.clamp_min(0)`` (arguments pass through)."""

    def method(self: Tensor, *args, **kwargs) -> Tensor:
        return write_in_place(self, f"{name}_", lambda t: getattr(t, name)(*args, **kwargs))

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"``{name}`` in place (PyTorch's ``{name}_``)."
    return method


# The knot: the writes run ops, and autograd reads the counters above at its import.
from tinynet import autograd as _autograd  # noqa: E402
from tinynet import errors as _errors  # noqa: E402
from tinynet import ops as _ops  # noqa: E402
from tinynet.ops import movement as _movement  # noqa: E402
