"""Function (one recorded op and its context) and the reverse-mode engine.

A ``Function`` subclass declares ``forward(ctx, *args)`` on NumPy arrays and
``backward(ctx, grad_output)`` in Tensor operations, so every backward is itself
differentiable: with ``create_graph=True`` it is recorded like any forward.

The engine runs nodes latest-recorded first from a heap (a topological order, no
recursion), un-broadcasts every input gradient to its input's shape in one place,
accumulates with ``+`` and frees each node after use unless ``retain_graph``.
"""

from __future__ import annotations

import functools
import itertools
import threading
import weakref
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import numpy as np

from tinynet._grad_mode import grad_mode, set_grad_enabled
from tinynet.inplace import (
    history_is_current,
    inplace_writes,
    last_writer,
    remember_view,
    version_of,
    written_since,
)
from tinynet.tensor import Tensor

_new_object = object.__new__
# Numbers nodes as they are recorded, counting down: the engine runs the smallest first.
_next_order = itertools.count(-1, -1).__next__

#: Built-in primitive ops by name, filled as ``tinynet.ops`` defines them.
PRIMITIVES: dict[str, type] = {}

_FREED = "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or tn.grad(). Specify retain_graph=True if you need to backward through the graph a second time."


class Function:
    """Base class of differentiable operations; an instance is the op's context (``ctx``).

    Subclasses define two static methods:

    - ``forward(ctx, *args)``: NumPy arrays (for Tensor arguments) and plain values in,
      one NumPy array out. Save what backward needs with ``ctx.save_for_backward``.
    - ``backward(ctx, grad_output)``: a Tensor in, one gradient per forward argument out
      (a Tensor, or None for arguments that need none), written in Tensor operations.

    >>> import tinynet as tn
    >>> class Cube(tn.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         (x,) = ctx.saved_tensors
    ...         return grad_output * 3 * x ** 2
    >>> x = tn.tensor([2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward(); x.grad
    Tensor([12.], dtype=float32)
    """

    #: Set on a class whose backward is written in raw NumPy: double backward then raises.
    once_differentiable = False
    #: Built-in primitives that need their own output in backward set this (kept by weakref).
    saves_output = False
    _saved_arrays = None
    _output_ref = None
    _grad_hooks: list | None = None  # Tensor.register_hook on this node's output
    # What the engine reads per node live in slots that ``apply`` always sets: a class
    # attribute of the same name would keep CPython from specializing each read and write.
    # ``inputs``: the forward arguments while the node is in a graph, else None. ``_stamp``:
    # the in-place write stamp when the op ran (see inplace_writes.count). ``_order``: when
    # it was recorded (later nodes have smaller numbers). ``_retained``: weakref of
    # retain_grad(). ``needs_input_grad`` is set only on recorded nodes. ``_viewed``: set
    # only on a node whose output views an input's memory, that input (see _check_versions).
    __slots__ = ("inputs", "needs_input_grad", "_stamp", "_order", "_retained", "_viewed")
    inputs: Any
    needs_input_grad: tuple
    _stamp: int
    _order: int
    _retained: weakref.ref | None

    # -- the op's facts, kept with its class ----------------------------------------------
    #: How users write the op, for reports (``pow`` for ``PowScalar``); None: the class
    #: name in snake_case for built-in ops, the class name for user ops. A class serving
    #: several functions sets ``ctx.display_name`` in forward instead.
    display_name: str | None = None
    #: Where the op is not differentiable, for the gradient lab's kink checks (None:
    #: nowhere). ``kinks(*forward arguments as arrays)`` returns ``[(point, coordinates)]``:
    #: a description of the kink (``"0"``, ``"a tie"``) and an array that is 0 exactly there.
    kinks: Any = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("tinynet.ops.") and not cls.__name__.startswith("_"):
            PRIMITIVES[cls.__name__] = cls
        backward = cls.__dict__.get("backward")
        backward = getattr(backward, "__func__", backward)
        if getattr(backward, "_once_differentiable", False):
            cls.once_differentiable = True

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("Function subclasses must define backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args):
        """Run forward on the arrays of ``args`` and record the op if any input requires grad."""
        ctx = _new_object(cls)
        # One or two Tensors, most ops' arguments, are read without a loop.
        count = len(args)
        needs: tuple
        try:  # free in Python 3.11 until something raises
            if count == 2 and isinstance(args[0], Tensor) and isinstance(args[1], Tensor):
                a, b = args
                needs = (a._requires_grad, b._requires_grad)
                out = cls.forward(ctx, a.data, b.data)
            elif count == 1 and isinstance(args[0], Tensor):
                a = args[0]
                needs = (a._requires_grad,)
                out = cls.forward(ctx, a.data)
            elif (
                count == 3
                and isinstance(args[0], Tensor)
                and not isinstance(args[1], Tensor)
                and not isinstance(args[2], Tensor)
            ):  # a tensor and two settings: reductions (x, axis, keepdims), clip
                a = args[0]
                needs = (a._requires_grad, False, False)
                out = cls.forward(ctx, a.data, args[1], args[2])
            else:
                arrays, needs = _unpack(args)
                out = cls.forward(ctx, *arrays)
        except (BatchedAccess, TypeError):  # NumPy refusing vmap's batched tensor's stand-in
            if _batched_type is None or not any(type(arg) is _batched_type for arg in args):
                raise
            return _batching_rule(cls, args)  # the op's batching rule (tinynet._batching)
        if type(out) is not np.ndarray:
            out = _as_output_array(out, cls)
        if _trace_hook is not None:
            _trace_hook.primitive(cls, ctx, args, out)
        # The result Tensor built here, not by Tensor.wrap: a call less on every op.
        result = _new_object(Tensor)
        result.data = out
        result._grad = None
        result._version = 0
        if True in needs and grad_mode.enabled:
            ctx.inputs = args
            ctx.needs_input_grad = needs
            ctx._stamp = inplace_writes.count
            ctx._order = _next_order()
            ctx._retained = None
            result._requires_grad = out.dtype.kind == "f"
            result._node = ctx
            if cls.saves_output or ctx._saved_arrays is not None:
                ctx._output_ref = weakref.ref(result)
        else:
            ctx.inputs = None
            result._requires_grad = False
            result._node = None
        if out.base is not None:
            _share_version_counter(result, args)
        if _hook_count:
            _call_forward_hooks(ctx, result)
        return result

    # -- context API -----------------------------------------------------------------------
    def save_for_backward(self, *values) -> None:
        """Keep arrays (inputs, the output, or new arrays) for backward."""
        self._saved_arrays = values  # type: ignore[misc]  # in the subclass's __dict__

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept, as Tensors connected to the graph where possible.

        Raises if a tensor it needs was modified in place since the op ran.
        """
        saved = self._saved_arrays
        if saved is None:
            if self.inputs is None and hasattr(self, "needs_input_grad"):
                raise RuntimeError(_FREED)
            return ()
        self._check_versions()
        output = self.output
        result = []
        for value in saved:
            if value is None or isinstance(value, Tensor):
                result.append(value)
                continue
            match = next(
                (arg for arg in self.inputs if isinstance(arg, Tensor) and arg.data is value), None
            )
            if match is None and output is not None and output.data is value:
                match = output
            result.append(match if match is not None else Tensor(value))
        return tuple(result)

    @property
    def output(self) -> Tensor | None:
        """This op's result, kept by weak reference (None once it is no longer alive).

        Kept only for classes with ``saves_output = True`` or that called
        ``save_for_backward``: for any other Function ``ctx.output`` is None.
        """
        ref = self._output_ref
        return ref() if ref is not None else None

    def mark_non_differentiable(self, *args) -> None:
        """Accepted for PyTorch compatibility; outputs of non-floating dtype never need grad."""

    # -- version counters (in-place ops) ---------------------------------------------------
    def _check_versions(self) -> None:
        """Raise if an input, or the output this op reads, changed in place since forward.

        Every input is checked, not only what backward reads: the engine follows inputs to
        their producers, and a rebased input would lead it astray (PyTorch is laxer here).
        The exception is the input a view op's output views, when that input's history
        was rewritten by its writes (they were recorded): the output's values are that
        input's current ones, so its current history is the one to follow (PyTorch
        regenerates a view's history from its base's the same way). A consumer that read
        the view before the write is checked itself, as it reads the view.
        """
        inputs = self.inputs
        # A context that ``apply`` did not record (tn.compile's replay sets ``inputs``
        # itself) has no stamp: nothing to check.
        stamp = getattr(self, "_stamp", None)
        if inputs is None or stamp is None or inplace_writes.count == stamp:
            return
        viewed: Any = getattr(self, "_viewed", None)
        for index, arg in enumerate(inputs):
            if (
                isinstance(arg, Tensor)
                and written_since(arg, stamp)
                and not (arg is viewed and history_is_current(arg))
            ):
                raise RuntimeError(self._modified_message(arg, f"input {index}"))
        ref = self._output_ref
        if ref is not None:
            output = ref()
            if output is not None and written_since(output, stamp):
                raise RuntimeError(self._modified_message(output, "output 0"))

    def _modified_message(self, tensor, role: str) -> str:
        name = type(self).__name__
        writer = last_writer(tensor)
        by = f" by {writer}" if writer else ""
        # Anomaly mode (tinynet.lab) records where each op was created.
        site = getattr(self, "_creation_site", None)
        where = (
            f" The op was created at {site.describe()}."
            if site is not None
            else " Run under tn.detect_anomaly() to see the line that created the op."
        )
        return (
            "one of the tensors needed for gradient computation has been modified by an "
            f"inplace operation: [Tensor of shape {tuple(tensor.shape)}, dtype {tensor.dtype}], "
            f"which is {role} of {name}, is at version {version_of(tensor)}, written"
            f"{by} after {name} recorded it.{where} Modify a clone() instead, or compute the gradient "
            "before the in-place change (an optimizer step after backward(retain_graph=True) "
            "counts as one)."
        )

    def _rebase_output(self, tensor) -> None:
        """An in-place op made ``tensor`` this op's output: read it, at its current version."""
        if self._output_ref is not None:
            self._output_ref = weakref.ref(tensor)
        self._stamp = inplace_writes.count

    def _retain_grad_of(self, tensor) -> None:
        self._retained = weakref.ref(tensor)

    def _give_retained_grad(self, grad, create_graph: bool) -> None:
        ref = self._retained
        tensor = ref() if ref is not None else None
        if tensor is None or tensor._node is not self:
            return
        if not create_graph:
            grad = Tensor.wrap(grad.data.copy())
        tensor._grad = grad if tensor._grad is None else tensor._grad + grad


def order_mark() -> int:
    """A number below which every node recorded from now on is numbered (nodes count down
    as they are recorded): what an in-place write uses to tell the nodes its op made.

    >>> import tinynet as tn
    >>> mark = order_mark()
    >>> (tn.ones(1, requires_grad=True) * 2).grad_fn._order < mark
    True
    """
    return _next_order()


def _unpack(args: tuple) -> tuple[list, tuple]:
    """The forward arguments as arrays (Tensors unwrapped), and which ones need a gradient.
    One pass for both: two comprehensions cost a quarter of a small op's time."""
    arrays = []
    needs = []
    for arg in args:
        if isinstance(arg, Tensor):
            arrays.append(arg.data)
            needs.append(arg._requires_grad)
        else:
            arrays.append(arg)
            needs.append(False)
    return arrays, tuple(needs)


def _share_version_counter(result: Tensor, args) -> None:
    """A result that views an input's memory (reshape, indexing...) shares its version
    counter, as PyTorch's views do: a write through either is seen by graphs using the other.
    It keeps the input it views: an in-place write through a view of a view rebases the
    whole chain (CopySlices, ``tinynet.inplace``)."""
    base = result.data.base
    for arg in args:
        if isinstance(arg, Tensor) and (arg.data is base or arg.data.base is base):
            result._version = arg
            if result._requires_grad:  # its history follows arg's (_check_versions)
                node: Any = result._node  # the op's, as the result requires grad
                node._viewed = arg
            # Not for the views backward makes of gradients (no tensor of the user's).
            elif grad_mode.enabled or not _state.backward_depth:
                remember_view(arg, result)
            return


def _as_output_array(out, cls) -> np.ndarray:
    if isinstance(out, Tensor):
        return out.data
    if isinstance(out, (np.generic, int, float, bool)):
        return np.asarray(out)
    raise TypeError(f"{cls.__name__}.forward must return a NumPy array, got {type(out).__name__}")


# -- hooks ------------------------------------------------------------------------------


class RemovableHandle:
    """What ``register_forward_hook`` / ``register_backward_hook`` return.

    ``handle.remove()`` unregisters the hook (twice is harmless); used as a context
    manager, the hook is removed on exit.
    """

    def __init__(self, hooks: list, hook, on_remove: Callable[[], None] | None = None) -> None:
        self._hooks: list | None = hooks
        self._hook = hook
        self._on_remove = on_remove  # what else removing it undoes (a count of hooks)

    def remove(self) -> None:
        hooks, self._hooks = self._hooks, None
        if hooks is None:
            return
        for index, hook in enumerate(hooks):
            if hook is self._hook:
                del hooks[index]
                if self._on_remove is not None:
                    self._on_remove()
                return

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


class _ThreadState(threading.local):
    """Each thread's engine hooks and how deep it is inside backward passes."""

    def __init__(self) -> None:
        self.forward_hooks: list = []
        self.backward_hooks: list = []
        self.backward_depth = 0


_state = _ThreadState()
# Hooks registered in all threads together: 0 keeps the hot path to one comparison.
_hook_count = 0
_hook_lock = threading.Lock()


def _forget_hook() -> None:
    global _hook_count
    with _hook_lock:
        _hook_count -= 1


def _register(hooks: list, hook) -> RemovableHandle:
    global _hook_count
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    hooks.append(hook)
    with _hook_lock:
        _hook_count += 1
    return RemovableHandle(hooks, hook, on_remove=_forget_hook)


def register_forward_hook(hook) -> RemovableHandle:
    """Call ``hook(ctx, result)`` on every op's result as it is made, in this thread.

    ``ctx`` is the op's ``Function`` instance (``ctx.inputs`` is None when nothing was
    recorded). Hooks run in the order they were registered; the handle removes one.

    >>> import tinynet as tn
    >>> seen = []
    >>> with tn.autograd.register_forward_hook(lambda ctx, out: seen.append(type(ctx).__name__)):
    ...     y = tn.ones(2).exp().sum()
    >>> seen
    ['Exp', 'Sum']
    """
    return _register(_state.forward_hooks, hook)


def register_backward_hook(hook) -> RemovableHandle:
    """Call ``hook(node, grad_output, input_grads)`` after every backward formula, in this thread.

    ``input_grads`` is the tuple the formula returned (before un-broadcasting). Hooks run
    in the order they were registered; the handle removes one.

    >>> import tinynet as tn
    >>> x = tn.ones(2, requires_grad=True)
    >>> seen = []
    >>> with tn.autograd.register_backward_hook(lambda node, g, gs: seen.append(type(node).__name__)):
    ...     x.exp().sum().backward()
    >>> seen
    ['Sum', 'Exp']
    """
    return _register(_state.backward_hooks, hook)


def registered_hooks() -> tuple[tuple, tuple]:
    """This thread's forward and backward hooks, in the order they run."""
    return tuple(_state.forward_hooks), tuple(_state.backward_hooks)


# -- tensor hooks (Tensor.register_hook) ----------------------------------------------------
#: Leaves' hooks by id(leaf): (weak reference to the leaf, its hooks). A non-leaf's hooks
#: live on its node (``Function._grad_hooks``), freed with the graph.
_leaf_hooks: dict[int, tuple[weakref.ref, list]] = {}
_hooks_added = [0]  # module and tensor hooks registered so far, in every thread together


def hooks_added() -> int:
    """How many tensor and module hooks were ever registered. ``tn.compile`` compares it
    with the count when a program was recorded: a hook added since may be one the replay
    would skip, so the call records again (and a recording that runs a hook is eager)."""
    return _hooks_added[0]


def note_hook_added() -> None:
    """Count a new hook in ``hooks_added`` (``Module.register_forward_hook`` calls it)."""
    _hooks_added[0] += 1


def register_tensor_hook(tensor: Tensor, hook) -> RemovableHandle:
    """``tensor.register_hook(hook)``: ``hook(grad)`` runs when the gradient with respect to
    ``tensor`` is computed, before it reaches ``.grad`` (a leaf) or the op that made the
    tensor; a Tensor it returns replaces the gradient. As PyTorch's: a hook registered
    before an in-place write sees the gradient of the old value.

    >>> import tinynet as tn
    >>> x = tn.tensor([1.0, 2.0], requires_grad=True)
    >>> handle = x.register_hook(lambda grad: grad * 10)
    >>> (x * x).sum().backward(); x.grad.tolist()
    [20.0, 40.0]
    """
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    if not tensor._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    node = tensor._node
    if node is None:
        key = id(tensor)
        entry = _leaf_hooks.get(key)
        if entry is None or entry[0]() is not tensor:
            forget = functools.partial(_forget_leaf_hooks, key)
            entry = _leaf_hooks[key] = (weakref.ref(tensor, forget), [])
        hooks = entry[1]
    else:
        if node._grad_hooks is None:
            node._grad_hooks = []
        hooks = node._grad_hooks
    hooks.append(hook)
    note_hook_added()
    return RemovableHandle(hooks, hook)


def _forget_leaf_hooks(key: int, ref: weakref.ref) -> None:
    entry = _leaf_hooks.get(key)
    if entry is not None and entry[0] is ref:
        del _leaf_hooks[key]


def _run_hooks(hooks: list, grad: Tensor) -> Tensor:
    if _trace_hook is not None:
        _trace_hook.untraceable(
            "a tensor hook (register_hook) runs Python in backward that a replay would not run"
        )
    for hook in tuple(hooks):
        result = hook(grad)
        if result is not None:
            if not isinstance(result, Tensor):
                raise TypeError(
                    f"a tensor hook must return a Tensor or None, got {type(result).__name__}"
                )
            grad = result
    return grad


def _run_leaf_hooks(leaf_grads: dict) -> None:
    """Each hooked leaf's summed gradient through its hooks, before it reaches ``.grad``."""
    for key, entry in leaf_grads.items():
        hooked = _leaf_hooks.get(key)
        if hooked is not None and hooked[0]() is entry[0] and hooked[1]:
            entry[1] = _run_hooks(hooked[1], entry[1])


def in_backward() -> bool:
    """Whether this thread is inside a backward pass (``backward()`` or ``tn.grad``)."""
    return _state.backward_depth > 0


def _call_forward_hooks(ctx, result) -> None:
    for hook in tuple(_state.forward_hooks):
        hook(ctx, result)


def _call_backward_hooks(node, grad_output, input_grads) -> None:
    for hook in tuple(_state.backward_hooks):
        hook(node, grad_output, input_grads)


# -- the engine -----------------------------------------------------------------------


# -- vmap's batching rules (tinynet._batching) -------------------------------------------------
class BatchedAccess(Exception):
    """The values of one of ``vmap``'s batched tensors were read. Inside ``Function.apply``
    the op's batching rule then runs; anywhere else ``vmap`` falls back to its loop."""


_batching_rule: Callable = None  # type: ignore[assignment]  # set by tinynet._batching
_batched_type: type | None = None


def set_batching_rule(rule: Callable, batched_type: type) -> None:
    """Install ``rule(cls, args)``, run by ``Function.apply`` when an input is of
    ``batched_type`` and the op's forward refused its values."""
    global _batching_rule, _batched_type
    _batching_rule, _batched_type = rule, batched_type


# -- tn.compile's recorder (tinynet.compiler) ---------------------------------------------------
# None outside a trace, so Function.apply pays one comparison. While ``tn.compile`` traces a
# call, it sees every primitive's NumPy forward, ``primitive(cls, ctx, args, out)``, and every
# assignment of leaf gradients, ``leaf_grads(entries, root_grads, create_graph, assign)``.
_trace_hook = None


def set_trace_hook(hook):
    """Install ``hook`` as the recorder of primitives (None removes it); return the previous."""
    global _trace_hook
    previous = _trace_hook
    _trace_hook = hook
    return previous


def trace_hook():
    """The active recorder, or None: code that updates arrays in place consults it."""
    return _trace_hook


def traced_call(function, *args):
    """``function(*args)``: NumPy work outside any op (a mask, a random draw) that
    ``tn.compile`` records and calls again, with each replay's arrays, on every replay.

    >>> import numpy as np
    >>> traced_call(np.greater, np.array([1.0, -1.0]), 0.0)
    array([ True, False])
    """
    out = function(*args)
    if _trace_hook is not None:
        _trace_hook.numpy_call(function, args, out)
    return out


def not_replayable(reason: str) -> None:
    """Code whose work a ``tn.compile`` replay could not redo (it decides in Python from
    array values, as ``unique`` does) calls this: a function being recorded then runs
    eagerly, with one warning giving ``reason``. Nothing happens otherwise."""
    if _trace_hook is not None:
        _trace_hook.untraceable(reason)


def traced_check(predicate, *args) -> bool:
    """``predicate(*args)``: a Python branch on array values that ``tn.compile`` re-checks.

    Code that picks a path from the values of arrays (not just their shapes) asks here, so
    a replayed program checks the same condition on each call's arrays and runs eagerly
    when it no longer holds.

    >>> import numpy as np
    >>> traced_check(lambda values: (values > 0).all(), np.array([1.0, 2.0]))
    True
    """
    result = bool(predicate(*args))
    if _trace_hook is not None:
        _trace_hook.guard(predicate, args, result)
    return result


def _unbroadcast(grad: Tensor, like: Tensor, node) -> Tensor:
    """Reduce ``grad`` to ``like``'s shape and dtype: the one place broadcasting is undone."""
    array, target = grad.data, like.data
    shape, grad_shape = target.shape, array.shape
    if grad_shape != shape:
        summed = summed_axes(grad_shape, shape)
        if summed is None:
            raise RuntimeError(
                f"{type(node).__name__}.backward returned a gradient of shape {grad.shape} "
                f"for an input of shape {like.shape}"
            )
        if grad_mode.enabled or _trace_hook is not None:
            grad = _ops.sum_to_shape(grad, shape)
        else:  # first order, nothing to record: SumToShape's arithmetic without the op
            grad = Tensor.wrap(sum_to_shape_array(array, shape, summed))
    dtype = target.dtype
    if grad.data.dtype is not dtype and grad.data.dtype != dtype:
        grad = _ops.cast(grad, dtype)
    return grad


def _run(roots, root_grads, retain_graph: bool, create_graph: bool, wanted=None) -> dict:
    """Propagate ``root_grads`` from ``roots`` backwards through the recorded graph.

    With ``wanted`` None, gradients accumulate into the ``.grad`` of leaves. Otherwise
    ``wanted`` maps id(tensor) -> tensor and the gradients of those tensors are returned
    in a dict keyed the same way, leaving every ``.grad`` untouched.
    """
    captured: dict = {}  # key of a wanted tensor -> its gradient
    mode = grad_mode
    previous_mode = mode.enabled
    mode.enabled = create_graph
    state = _state
    state.backward_depth += 1
    try:
        wanted_nodes = None
        if wanted is not None:
            wanted_nodes = {t._node: key for key, t in wanted.items() if t._node is not None}
        leaf_grads, done = _propagate(roots, root_grads, create_graph, wanted_nodes, captured)
        if _leaf_hooks:
            _run_leaf_hooks(leaf_grads)
        # Nodes are freed only at the end: outputs that backward formulas read through weak
        # references stay alive while their consumers' nodes still hold them.
        if not retain_graph:
            for node in done:
                node.inputs = node._saved_arrays = None  # free it
        if wanted is not None:
            captured.update((key, grad) for key, (_, grad) in leaf_grads.items() if key in wanted)
        elif _trace_hook is not None:
            entries = list(leaf_grads.values())
            _trace_hook.leaf_grads(entries, root_grads, create_graph, _accumulate_leaf_grads)
        elif leaf_grads:
            _accumulate_leaf_grads(leaf_grads.values(), root_grads, create_graph)
    finally:
        state.backward_depth -= 1
        mode.enabled = previous_mode
    return captured


def _propagate(roots, root_grads, create_graph, wanted_nodes, captured) -> tuple[dict, list]:
    """Run each reachable node's backward once, latest-created first: its consumers were
    all created after it (``_order``), so this is a topological order with no pass to
    count edges and no recursion. Returns the leaves' gradients (id(leaf) -> [leaf,
    gradient]) and the nodes in the order they ran. Per-edge work stays inline."""
    grads, leaf_grads, heap = _seed(roots, root_grads)
    done = []
    writes = inplace_writes
    while heap:
        node = heappop(heap)[1]
        done.append(node)
        grad = grads.pop(node)
        inputs = node.inputs
        if inputs is None:
            raise RuntimeError(_FREED)
        if grad is None:  # every consumer's formula returned None for it
            input_grads = (None,) * len(inputs)
        else:
            if node._grad_hooks is not None:  # Tensor.register_hook: may replace the gradient
                grad = _run_hooks(node._grad_hooks, grad)
            if wanted_nodes is not None and node in wanted_nodes:
                captured[wanted_nodes[node]] = grad
            if create_graph or node._stamp != writes.count or node._retained is not None:
                _before_backward(node, grad, create_graph)
            input_grads = type(node).backward(node, grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if _hook_count:
                _call_backward_hooks(node, grad, input_grads)
            if len(input_grads) < len(inputs):
                input_grads += (None,) * (len(inputs) - len(input_grads))
        for arg, needs, input_grad in zip(inputs, node.needs_input_grad, input_grads):
            if not needs:
                continue
            if input_grad is not None:
                if type(input_grad) is not Tensor:
                    input_grad = Tensor(np.asarray(input_grad))
                array, like = input_grad.data, arg.data
                if array.shape != like.shape or (
                    array.dtype is not like.dtype and array.dtype != like.dtype
                ):
                    input_grad = _unbroadcast(input_grad, arg, node)
            parent = arg._node
            if parent is None:
                if input_grad is not None:
                    key = id(arg)
                    entry = leaf_grads.get(key)
                    if entry is None:
                        leaf_grads[key] = [arg, input_grad]
                    else:
                        entry[1] = entry[1] + input_grad
            elif parent in grads:
                if input_grad is not None:
                    previous = grads[parent]
                    grads[parent] = input_grad if previous is None else previous + input_grad
            else:
                grads[parent] = input_grad
                heappush(heap, (parent._order, parent))
    return leaf_grads, done


def _seed(roots, root_grads) -> tuple[dict, dict, list]:
    """The engine's starting state: each node's gradient (the sum over its consumers, or
    None), each leaf's, and the heap of nodes to run, from the roots' gradients."""
    grads: dict = {}
    leaf_grads: dict = {}
    heap: list = []
    for root, grad in zip(roots, root_grads):
        node = root._node
        if node is None:
            entry = leaf_grads.get(id(root))
            if entry is None:
                leaf_grads[id(root)] = [root, grad]
            else:
                entry[1] = entry[1] + grad
        elif node in grads:
            grads[node] = grads[node] + grad
        else:
            grads[node] = grad
            heappush(heap, (node._order, node))
    return grads, leaf_grads, heap


def _before_backward(node, grad: Tensor, create_graph: bool) -> None:
    """The checks and side work before a node's backward formula (rare: kept off the loop)."""
    if create_graph and node.once_differentiable:
        raise RuntimeError(
            f"{type(node).__name__} has a backward marked once_differentiable: "
            "it cannot be differentiated again (create_graph=True)"
        )
    if node._stamp != inplace_writes.count:
        node._check_versions()
    if node._retained is not None:
        node._give_retained_grad(grad, create_graph)


def _accumulate_leaf_grads(entries, root_grads, create_graph: bool) -> None:
    """Accumulate each leaf's gradient into ``.grad`` without ever aliasing another array.

    A view (a read-only broadcast one, or into another array), or an array given to
    another leaf or passed in by the caller, is copied: an in-place edit of one ``.grad``
    (``clip_grad_norm_``, say) must never reach another.
    """
    handed_out = None
    new = _new_object
    for leaf, grad in entries:
        if create_graph:
            leaf._grad = grad if leaf._grad is None else leaf._grad + grad
            continue
        array = grad.data
        if leaf._grad is not None:
            array = leaf._grad.data + array
        else:
            if handed_out is None:  # a loop: a set comprehension's frame costs more here
                handed_out = set()
                for root_grad in root_grads:
                    handed_out.add(id(root_grad.data))
            key = id(array)
            if array.base is not None or key in handed_out:
                array = array.copy()
                key = id(array)
            handed_out.add(key)
        tensor = new(Tensor)  # Tensor.wrap(array), inline
        tensor.data = array
        tensor._grad = tensor._node = None
        tensor._requires_grad = False
        tensor._version = 0
        leaf._grad = tensor


def _seed_gradients(outputs, gradients):
    seeds = []
    for index, (output, gradient) in enumerate(zip(outputs, gradients)):
        if not isinstance(output, Tensor):
            raise TypeError(f"outputs must be Tensors, got {type(output).__name__}")
        if not output._requires_grad:
            raise RuntimeError(
                f"element {index} of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            data = output.data
            if data.ndim == 0:  # a loss: np.array is a third of np.ones's cost
                gradient = Tensor.wrap(np.array(1, data.dtype))
            elif data.size == 1:
                gradient = Tensor.wrap(np.ones(data.shape, data.dtype))
            else:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; output {index} "
                    f"has shape {output.shape}: pass gradient= with that shape"
                )
        else:
            if not isinstance(gradient, Tensor):
                gradient = Tensor(np.asarray(gradient, dtype=output.data.dtype))
            if gradient.data.shape != output.data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: gradient {index} has a shape of {gradient.shape} "
                    f"and output {index} has a shape of {output.shape}"
                )
            if gradient.data.dtype != output.data.dtype:
                gradient = Tensor.wrap(gradient.data.astype(output.data.dtype))
        seeds.append(gradient)
    return seeds


def _as_tuple(value):
    if isinstance(value, (Tensor, np.ndarray)) or value is None:
        return (value,)
    return tuple(value)


def backward(tensors, gradient=None, retain_graph=None, create_graph=False) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves they depend on."""
    if retain_graph is None:
        retain_graph = create_graph
    if gradient is None and type(tensors) is Tensor:
        data = tensors.data
        if data.ndim == 0 and tensors._requires_grad:  # a loss: seeded by np.array(1)
            _run((tensors,), (Tensor.wrap(np.array(1, data.dtype)),), retain_graph, create_graph)
            return
    gradients: tuple
    if type(tensors) is Tensor and (gradient is None or type(gradient) is Tensor):
        outputs, gradients = (tensors,), (gradient,)
    else:
        outputs = _as_tuple(tensors)
        gradients = _as_tuple(gradient) if gradient is not None else (None,) * len(outputs)
    if len(gradients) != len(outputs):
        raise RuntimeError(f"got {len(gradients)} gradients for {len(outputs)} tensors")
    _run(outputs, _seed_gradients(outputs, gradients), retain_graph, create_graph)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    allow_unused=False,
):
    """Return the gradients of ``outputs`` with respect to ``inputs`` as a tuple of Tensors.

    Leaves' ``.grad`` are not touched. With ``create_graph=True`` the results are recorded,
    so they can be differentiated again.

    >>> import tinynet as tn
    >>> x = tn.tensor([3.0], requires_grad=True)
    >>> (dx,) = tn.grad((x ** 3).sum(), x, create_graph=True)
    >>> (ddx,) = tn.grad(dx.sum(), x)
    >>> dx.item(), ddx.item()
    (27.0, 18.0)
    """
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for index, tensor in enumerate(inputs):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"inputs must be Tensors, got {type(tensor).__name__} at {index}")
        if not tensor._requires_grad:
            raise RuntimeError(f"input {index} does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    wanted = {id(t): t for t in inputs}
    captured = _run(
        outputs, _seed_gradients(outputs, grad_outputs), retain_graph, create_graph, wanted
    )
    result = []
    for index, tensor in enumerate(inputs):
        value = captured.get(id(tensor))
        if value is None and not allow_unused:
            raise RuntimeError(
                f"input {index} was not used to compute the outputs; pass allow_unused=True "
                "to get None for it"
            )
        result.append(value)
    return tuple(result)


def once_differentiable(backward_fn):
    """Decorate a Function's backward written in raw NumPy: double backward then raises."""

    def wrapper(ctx, grad_output):
        with set_grad_enabled(False):
            return backward_fn(ctx, grad_output)

    wrapper.__wrapped__ = backward_fn
    wrapper._once_differentiable = True
    return wrapper


from tinynet import ops as _ops  # noqa: E402  (the engine un-broadcasts with an op)
from tinynet.ops.movement import sum_to_shape_array, summed_axes  # noqa: E402
