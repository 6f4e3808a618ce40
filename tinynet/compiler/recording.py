"""``tn.compile``: record what a function does in NumPy once, then replay it without graphs.

A compiled function (typically a whole training step: forward, loss, ``backward()``,
``optimizer.step()``) runs eagerly on its first two calls while a recorder notes every
primitive's NumPy forward, every backward formula the engine calls, the assignment of leaf
gradients and each optimizer or scheduler call. If both calls did the same work, later calls
replay that program directly: no Tensors for intermediate values, no graph nodes, no
topological sort. Hot primitives replay through kernels (below) that do their NumPy directly
into buffers kept between calls; the others call the very same forward and backward functions
on the same arrays. Both do the eager arithmetic in the same order, so the results are
bit-identical to eager execution.

>>> import numpy as np, tinynet as tn
>>> from tinynet import nn, optim
>>> model = nn.Linear(3, 1, dtype=np.float64)
>>> opt = optim.SGD(model.parameters(), lr=0.1)
>>> @tn.compile
... def train_step(x, y):
...     opt.zero_grad()
...     loss = ((model(x) - y) ** 2).mean()
...     loss.backward()
...     opt.step()
...     return loss
>>> x, y = tn.Tensor(np.ones((4, 3))), tn.Tensor(np.zeros((4, 1)))
>>> losses = [train_step(x, y).item() for _ in range(4)]   # calls 3 and 4 are replays
>>> losses[0] > losses[1] > losses[2] > losses[3]
True

Guards, checked on every call, trace again when they change: the shapes, dtypes and
``requires_grad`` of Tensor and array arguments, the values of other arguments, grad mode,
the ``training`` flag of the modules the function can see (arguments, closure, globals), and
the arrays and ``requires_grad`` of the parameters it used. Optimizers and schedulers stay
live objects: their calls are replayed as calls, so a changed learning rate takes effect.

What cannot be recorded makes the function run eagerly, with one warning that says why:
reading a value (``.item()``, ``float()``, ``bool()``, ``.tolist()``, ``.numpy()``),
values that change between calls without coming from the arguments (a dropout mask drawn
inside, a batch read from a global), NumPy edits in place that no recorded call made (batch
norm's running statistics in training mode), higher-order gradients (``create_graph=True``),
an optimizer closure. As with ``jax.jit``, other Python side effects of the function (appending
to a list, counting) happen only in the calls that run eagerly.
"""

from __future__ import annotations

import builtins
import functools
import math
import operator
import re
import threading
import types
import warnings
import weakref
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from tinynet import autograd
from tinynet._grad_mode import grad_mode
from tinynet.ops._args import axes, keepdims_shape
from tinynet.ops.elementwise import relu_zeros, scaled_gradient_array
from tinynet.ops.linalg import linear_grad_input, rank_one_product
from tinynet.tensor import Tensor

__all__ = ["ReplayKernel", "compile", "register_replay_kernel"]

#: Tensor methods that turn values into Python data: the caller may branch on them.
_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__", "__array__")
_MAX_TRACES = 16  # eager calls spent recording, over all guard keys, before giving up
_trace_lock = threading.Lock()


class _Uncapturable(Exception):
    pass


class _GuardFailed(Exception):
    pass


def compile(fn: Callable | None = None, *, warn: bool = True) -> Callable:
    """Compile ``fn`` into a replayed NumPy program; usable as ``@tn.compile`` or ``@tn.compile()``.

    ``warn=False`` falls back to eager execution silently (for library code that compiles
    its own steps).

    >>> import tinynet as tn
    >>> @tn.compile
    ... def double(x):
    ...     return x * 2
    >>> [double(tn.tensor([1.0, 2.0])).tolist() for _ in range(3)]
    [[2.0, 4.0], [2.0, 4.0], [2.0, 4.0]]
    """
    if fn is None:
        return functools.partial(compile, warn=warn)
    if not callable(fn):
        raise TypeError(f"tn.compile expects a callable, got {type(fn).__name__}")
    return CompiledFunction(fn, warn=warn)


class CompiledFunction:
    """A function with its recorded programs, one per guard key; call it like the function."""

    def __init__(self, fn: Callable, warn: bool = True):
        self.fn = fn
        self._entries: dict = {}
        self._traces = 0
        self._warned = not warn
        self._eager_reason: str | None = None
        functools.update_wrapper(self, fn)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return functools.partial(self.__call__, instance)

    def __call__(self, *args, **kwargs):
        if self._eager_reason is not None or not _recordable_now():
            return self.fn(*args, **kwargs)
        try:
            key = _guard_key(args, kwargs)
        except TypeError:
            return self.fn(*args, **kwargs)
        entry = self._entries.get(key)
        if isinstance(entry, _Program):
            if entry.valid():
                try:
                    return entry.run(args, kwargs)
                except _GuardFailed:
                    pass  # nothing was changed yet: run eagerly and record again
            entry = None
            self._entries.pop(key, None)
        return self._trace(key, entry, args, kwargs)

    def _trace(self, key, previous, args, kwargs):
        if self._traces >= _MAX_TRACES:
            self._fall_back(f"recorded {_MAX_TRACES} times (its guards keep changing)")
            return self.fn(*args, **kwargs)
        if not _trace_lock.acquire(blocking=False):
            return self.fn(*args, **kwargs)  # another thread is recording
        try:
            trace = _Trace(self.fn, args, kwargs)
            result = trace.run()
        finally:
            _trace_lock.release()
        self._traces += 1
        if trace.problem is not None:
            self._fall_back(trace.problem)
            return result
        if not isinstance(previous, _Trace) or not previous.same_guards(trace):
            self._entries[key] = trace  # the first of two calls to compare
            return result
        difference = previous.difference(trace)
        if difference is not None:
            self._fall_back(difference)
            return result
        program = _Program(trace)
        if previous.inconclusive(trace):
            # Both calls saw the same input values, so a value computed from them outside
            # the recorded work would have looked constant: replay only for these values.
            program.input_snapshot = [array.copy() for array in _inputs(args, kwargs)]
        self._entries[key] = program
        return result

    def _fall_back(self, reason: str) -> None:
        self._eager_reason = reason
        self._entries.clear()
        if not self._warned:
            self._warned = True
            name = getattr(self.fn, "__qualname__", repr(self.fn))
            warnings.warn(
                f"tn.compile: {name} runs eagerly from now on: {reason}",
                RuntimeWarning,
                stacklevel=3,
            )


def _recordable_now() -> bool:
    """False while a debugging hook (anomaly mode, the gradient doctor) must see every op."""
    return autograd.trace_hook() is None and not _debug_hooks_active()


def _debug_hooks_active() -> bool:
    forward_hooks, backward_hooks = autograd.registered_hooks()
    return bool(forward_hooks or backward_hooks)


def _guard_key(args, kwargs) -> tuple:
    key = (grad_mode.enabled, *map(_describe, args))
    if kwargs:
        key += tuple((name, _describe(value)) for name, value in sorted(kwargs.items()))
    return key


def _describe(value):
    # dtype objects, not their names: equal dtypes hash and compare equal, and no string is built
    if type(value) is np.ndarray:
        return ("A", value.shape, value.dtype, value.strides)
    if isinstance(value, Tensor):
        data = value.data
        return ("T", data.shape, data.dtype, value._requires_grad)
    if isinstance(value, np.ndarray):
        return ("A", value.shape, value.dtype, value.strides)
    if isinstance(value, (int, float, str, bool, type(None))):
        return ("V", type(value).__name__, value)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, *map(_describe, value))
    hash(value)  # raises TypeError for unhashable values: those calls run eagerly
    return ("O", id(value))


def _inputs(args, kwargs) -> list[np.ndarray]:
    """The arrays of the arguments (in tuples and lists too), in order: the program's inputs."""
    if not kwargs and list(map(type, args)).count(np.ndarray) == len(args):
        return list(args)  # the common call, a batch of arrays
    arrays: list[np.ndarray] = []
    _collect_arrays((*args, *(kwargs[name] for name in sorted(kwargs))), arrays)
    return arrays


def _collect_arrays(values, arrays: list) -> None:
    for value in values:
        if isinstance(value, Tensor):
            arrays.append(value.data)
        elif isinstance(value, np.ndarray):
            arrays.append(value)
        elif isinstance(value, (tuple, list)):
            _collect_arrays(value, arrays)


def _visible(fn, args, kwargs) -> tuple[list, list]:
    """Modules and gradient-requiring Tensors the function can reach: its arguments, closure
    cells, ``self``, the globals it names, and their attributes (one level down)."""
    from tinynet.nn.module import Module

    candidates = [*args, *kwargs.values()]
    target = getattr(fn, "__func__", fn)
    candidates.append(getattr(fn, "__self__", None))
    code = getattr(target, "__code__", None)
    for cell in getattr(target, "__closure__", None) or ():
        try:
            candidates.append(cell.cell_contents)
        except ValueError:
            continue
    if code is not None:
        global_names = getattr(target, "__globals__", {})
        candidates.extend(global_names.get(name) for name in code.co_names)
    nested = []
    for candidate in candidates:
        if not isinstance(candidate, (Module, Tensor, type(None))) and hasattr(
            candidate, "__dict__"
        ):
            nested.extend(vars(candidate).values())
    modules: dict = {}
    tensors: dict = {}
    for candidate in [*candidates, *nested]:
        if isinstance(candidate, Module):
            for module in candidate.modules():
                modules[id(module)] = module
                for param in module.parameters(recurse=False):
                    tensors[id(param)] = param
        elif isinstance(candidate, Tensor) and candidate._requires_grad:
            tensors[id(candidate)] = candidate
        elif isinstance(candidate, (list, tuple)):
            for item in candidate:
                if isinstance(item, Tensor) and item._requires_grad:
                    tensors[id(item)] = item
    return list(modules.values()), list(tensors.values())


# -- recording ---------------------------------------------------------------------------------
class _Trace:
    """One eager call and the program it ran, over numbered values."""

    def __init__(self, fn, args, kwargs) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.thread = threading.get_ident()
        self.index_of: dict[int, int] = {}
        self.values: list = []  # every value by number, as this call saw it
        self.computed: list[bool] = []  # True: made afresh by the replay
        self.ops: list[tuple] = []
        self.leaves: dict[int, tuple] = {}  # id(tensor) -> (tensor, its array, requires_grad)
        self.ctx_index: dict[int, int] = {}
        self.forward_of: dict[int, tuple] = {}  # ctx number -> the primitive op that made it
        self.backward_of: set[int] = set()  # ctx numbers whose backward was recorded
        self.problem: str | None = None
        self.depth = 0  # > 0 inside a backward formula or a recorded call: not recorded
        self.side_effects = False
        self.patched: dict = {}
        self.sizes: list[int] = []
        self.weak: list = []
        self.inputs = [self._new(array, True, keep=True) for array in _inputs(args, kwargs)]
        self.modules, self.tensors = _visible(fn, args, kwargs)
        self.training = [module.training for module in self.modules]
        # Which gradients were None when the call began: a replay starts from the same state,
        # except for those an optimizer's zero_grad() cleared before any backward assigned
        # them (``reset``): their state at the start changes nothing.
        self.grads_none = [tensor.grad is None for tensor in self.tensors]
        self.reset: set[int] = set()
        self.assigned: set[int] = set()  # leaves a recorded backward gave a gradient
        self.outputs = None

    # numbering ---------------------------------------------------------------------------
    def _new(self, value, computed: bool, keep: bool = False) -> int:
        index = len(self.values)
        self.computed.append(computed)
        if isinstance(value, np.ndarray):
            self.sizes.append(value.nbytes)
            key = id(value)
            self.index_of[key] = index
            if computed and not keep:
                # Held weakly, as the eager engine would free it: when it dies, so does its
                # number (a new array may get the same id).
                value = weakref.ref(value, functools.partial(self._forget, key, index))
                self.weak.append(value)
                value = None
        else:
            self.sizes.append(_FREE_BYTES)
        self.values.append(value)
        return index

    def _forget(self, key: int, index: int, _ref=None) -> None:
        if self.index_of.get(key) == index:
            del self.index_of[key]

    def _ref(self, array: np.ndarray) -> int:
        index = self.index_of.get(id(array))
        if index is not None:
            return index
        owner = array.base
        while isinstance(owner, np.ndarray):
            owner_index = self.index_of.get(id(owner))
            if owner_index is not None and self.computed[owner_index]:
                return self._view(array, owner, owner_index)
            owner = owner.base
        return self._new(array, False)

    def _view(self, array, owner, owner_index) -> int:
        if not (owner.flags.c_contiguous or owner.flags.f_contiguous):
            self.fail("an array viewed a non-contiguous result in a way that cannot be replayed")
        offset = array.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
        index = self._new(array, True)
        self.ops.append(
            (
                "view",
                owner_index,
                array.shape,
                array.dtype,
                array.strides,
                offset,
                array.flags.writeable,
                index,
            )
        )
        return index

    def _pack(self, values: tuple) -> int:
        items = tuple(
            self._ref(value) if isinstance(value, np.ndarray) else self._new(value, False)
            for value in values
        )
        index = self._new(values, True)
        self.ops.append(("pack", items, index))
        return index

    def fail(self, reason: str) -> None:
        if self.problem is None:
            self.problem = reason

    # the hooks the library calls -----------------------------------------------------------
    def primitive(self, cls, ctx, args, out) -> None:
        if self.depth or threading.get_ident() != self.thread:
            return
        indices = []
        kinds: list[bool | None] = []
        for arg in args:
            if isinstance(arg, Tensor):
                array = arg.data
                if arg._node is None and arg._requires_grad:
                    self.leaves.setdefault(id(arg), (arg, array, True))
                indices.append(self._ref(array))
                kinds.append(arg._requires_grad)
            elif isinstance(arg, np.ndarray):
                indices.append(self._ref(arg))
                kinds.append(None)
            elif isinstance(arg, tuple) and any(isinstance(a, np.ndarray) for a in arg):
                indices.append(self._pack(arg))  # an index such as (rows, target)
                kinds.append(None)
            else:
                indices.append(self._new(arg, False))
                kinds.append(None)
        ctx_index = self._new(None, True)
        self.ctx_index[id(ctx)] = ctx_index
        self.values[ctx_index] = ctx
        out_index = self._new(out, True)
        self._patch_backward(cls)
        self.ops.append(("primitive", cls, tuple(indices), tuple(kinds), ctx_index, out_index))
        self.forward_of[ctx_index] = self.ops[-1]

    def leaf_grads(self, entries, root_grads, create_graph, assign) -> None:
        if self.depth or threading.get_ident() != self.thread:
            assign(entries, root_grads, create_graph)
            return
        if create_graph:
            self.fail("higher-order gradients (create_graph=True) are not compiled")
        leaves = tuple(leaf for leaf, _ in entries)
        # Code the replay skips (``p.grad = None``, ``module.zero_grad()``) may have cleared
        # gradients before this point: the replay clears the same ones.
        cleared = tuple(leaf for leaf in leaves if leaf.grad is None)
        grads = tuple(self._ref(grad.data) for _, grad in entries)
        roots = tuple(self._ref(grad.data) for grad in root_grads)
        self._call_unrecorded(assign, entries, root_grads, create_graph)
        self.side_effects = True
        # Which gradients the engine copied (views, arrays handed out twice): the same ones
        # at every replay, since the same functions make the same arrays.
        copied = tuple(leaf.grad.data is not grad.data for leaf, grad in entries)
        outs = tuple(self._new(leaf.grad.data, True) for leaf in leaves)
        self.ops.append(
            ("leaf_grads", assign, leaves, grads, roots, create_graph, outs, cleared, copied)
        )
        self.assigned.update(map(id, leaves))

    def call(self, method, obj, args, kwargs):
        if self.depth or threading.get_ident() != self.thread:
            return method(obj, *args, **kwargs)
        for value in (*args, *kwargs.values()):
            if isinstance(value, (Tensor, np.ndarray)) or callable(value):
                self.fail(
                    f"{type(obj).__name__}.{method.__name__} was given a "
                    f"{type(value).__name__} (a closure or a value computed in the step)"
                )
        for param in _parameters_of(obj) if method.__name__ == "step" else ():
            grad = param.grad
            if isinstance(grad, Tensor) and id(grad.data) not in self.index_of:
                self.fail(
                    f"{type(obj).__name__}.{method.__name__} reads a gradient that was not "
                    "computed by a recorded backward in this call"
                )
        result = self._call_unrecorded(method, obj, *args, **kwargs)
        if method.__name__ == "zero_grad":
            self.reset.update(
                id(param)
                for param in _parameters_of(obj)
                if param.grad is None and id(param) not in self.assigned
            )
        # Clearing gradients can be done twice; anything else must not be redone by an eager
        # run after a failed check.
        self.side_effects |= method.__name__ != "zero_grad"
        self.ops.append(("call", method, obj, args, kwargs))
        return result

    def numpy_call(self, function, args, out) -> None:
        if self.depth or threading.get_ident() != self.thread:
            return
        indices = tuple(
            self._ref(arg) if isinstance(arg, np.ndarray) else self._new(arg, False) for arg in args
        )
        index = self._new(out, True)
        self.ops.append(("numpy", function, indices, index))

    def guard(self, predicate, args, result: bool) -> None:
        if self.depth or threading.get_ident() != self.thread:
            return
        if self.side_effects:
            self.fail("a value is checked after gradients or parameters were updated")
        indices = tuple(
            self._ref(arg) if isinstance(arg, np.ndarray) else self._new(arg, False) for arg in args
        )
        self.ops.append(("guard", predicate, indices, result))

    def _call_unrecorded(self, function, *args, **kwargs):
        self.depth += 1
        try:
            return function(*args, **kwargs)
        finally:
            self.depth -= 1

    def _backward(self, cls, original, ctx, grad_output):
        if self.depth or threading.get_ident() != self.thread:
            return original(ctx, grad_output)
        if grad_mode.enabled:
            self.fail("higher-order gradients (create_graph=True) are not compiled")
        ctx_index = self.ctx_index.get(id(ctx))
        if ctx_index is None:
            self.fail(f"{cls.__name__}.backward ran for an op recorded outside the function")
            return self._call_unrecorded(original, ctx, grad_output)
        grad_index = self._ref(grad_output.data)
        needs = ctx.needs_input_grad
        result = self._call_unrecorded(original, ctx, grad_output)
        grads = result if type(result) is tuple else (result,)
        outs = []
        for grad in grads:
            if grad is None:
                outs.append(None)
            elif isinstance(grad, Tensor):
                outs.append(self._new(grad.data, True))
            else:
                self.fail(f"{cls.__name__}.backward returned a {type(grad).__name__}")
                outs.append(None)
        self.ops.append(("backward", cls, ctx_index, needs, grad_index, tuple(outs), original))
        self.backward_of.add(ctx_index)
        return result

    def _patch_backward(self, cls) -> None:
        if cls in self.patched:
            return
        original = cls.__dict__.get("backward")
        function = cls.backward
        trace = self

        def backward(ctx, grad_output):
            return trace._backward(cls, function, ctx, grad_output)

        self.patched[cls] = original
        cls.backward = staticmethod(backward)

    # running ---------------------------------------------------------------------------------
    def run(self):
        reads = {name: Tensor.__dict__[name] for name in _READS if name in Tensor.__dict__}
        for name, method in reads.items():
            setattr(Tensor, name, _reading(name, method, self))
        watched = _snapshot(self.modules)
        previous = autograd.set_trace_hook(self)
        try:
            result = self.fn(*self.args, **self.kwargs)
        finally:
            autograd.set_trace_hook(previous)
            for name, method in reads.items():
                setattr(Tensor, name, method)
            for cls, original in self.patched.items():
                if original is None:
                    del cls.backward
                else:
                    cls.backward = original
        self._check_buffers(watched)
        try:
            self.outputs = self._spec(result)
        except _Uncapturable as error:
            self.fail(str(error))
        self.args = self.kwargs = None
        # Keep what comparing and replaying need (constants, sizes, the inputs), not this
        # call's intermediate arrays: two recorded calls must not double the peak memory.
        self.weak = []
        inputs = set(self.inputs)
        for index, computed in enumerate(self.computed):
            if computed and index not in inputs:
                self.values[index] = None
        return result

    def _check_buffers(self, watched) -> None:
        stepped = {id(p) for op in self.ops if op[0] == "call" for p in _parameters_of(op[2])}
        for module_name, name, tensor, before in watched:
            if id(tensor) in stepped or _fingerprint(tensor.data) == before:
                continue
            self.fail(
                f"{module_name}.{name} was changed in place by NumPy code that is not "
                "recorded (batch norm's running statistics in training mode?)"
            )

    def _spec(self, value):
        if isinstance(value, Tensor):
            if id(value) in self.leaves:
                return ("object", value)
            return ("tensor", self._ref(value.data))
        if isinstance(value, np.ndarray):
            return ("array", self._ref(value))
        if value is None or isinstance(value, (bool, int, float, str)):
            return ("object", value)
        if isinstance(value, (tuple, list)):
            return (type(value), [self._spec(item) for item in value])
        if isinstance(value, dict):
            return (dict, {key: self._spec(item) for key, item in value.items()})
        raise _Uncapturable(f"it returns a {type(value).__name__}")

    # comparing two calls -------------------------------------------------------------------
    def same_guards(self, other: _Trace) -> bool:
        """True when ``other`` ran under the same module modes and parameter arrays."""
        return (
            len(self.modules) == len(other.modules)
            and all(a is b for a, b in zip(self.modules, other.modules))
            and self.training == other.training
            and len(self.tensors) == len(other.tensors)
            and all(a is b for a, b in zip(self.tensors, other.tensors))
            and self.reset == other.reset
            and [none for _, none in self.grads_that_matter()]
            == [none for _, none in other.grads_that_matter()]
            and all(
                a[0] is b[0] and a[1] is b[1] and a[2] == b[2]
                for a, b in zip(self.leaves.values(), other.leaves.values())
            )
        )

    def grads_that_matter(self) -> list[tuple]:
        """``(tensor, its gradient was None)`` at the start, for gradients not reset."""
        return [
            (tensor, none)
            for tensor, none in zip(self.tensors, self.grads_none)
            if id(tensor) not in self.reset
        ]

    def inconclusive(self, other: _Trace) -> bool:
        """True when both calls had equal inputs and made some constant array afresh."""
        same_inputs = all(
            _same_value(self.values[index], other.values[index]) for index in self.inputs
        )
        return same_inputs and any(
            isinstance(a, np.ndarray) and a is not b
            for a, b, computed in zip(self.values, other.values, self.computed)
            if not computed
        )

    def difference(self, other: _Trace) -> str | None:
        """Why ``other`` did different work than this call, or None if it did the same."""
        if len(self.ops) != len(other.ops) or len(self.values) != len(other.values):
            return "its two first calls ran different operations (Python branching on values?)"
        for mine, theirs in zip(self.ops, other.ops):
            if mine[0] != theirs[0] or not _same_op(mine, theirs):
                name = getattr(mine[1], "__name__", mine[0])
                return f"its two first calls differ at {name} (Python branching on values?)"
        for index, (a, b) in enumerate(zip(self.values, other.values)):
            if self.computed[index] != other.computed[index]:
                return "its two first calls ran different operations"
            if not self.computed[index] and not _same_value(a, b):
                return (
                    "a value it uses changed between calls without coming from its arguments "
                    "(a random mask drawn inside, such as dropout's, or data read from outside): "
                    "pass such values as arguments"
                )
        if not _same_value(self.outputs, other.outputs):
            return "it returned different things in its two first calls"
        return None


def _same_op(a: tuple, b: tuple) -> bool:
    if a[0] == "call":
        return a[1] is b[1] and a[2] is b[2] and _same_value((a[3], a[4]), (b[3], b[4]))
    if a[0] == "leaf_grads":
        return (
            all(x is y for x, y in zip(a[2], b[2]))
            and a[3:7] == b[3:7]
            and len(a[7]) == len(b[7])
            and all(x is y for x, y in zip(a[7], b[7]))
            and a[8] == b[8]
        )
    if a[0] in ("view", "guard", "pack", "numpy"):
        return a == b
    return a[1] is b[1] and a[2:] == b[2:]


def _same_value(a, b) -> bool:
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and a.strides == b.strides
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same_value, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return False
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def _reading(name: str, method, trace: _Trace):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if (
            autograd.trace_hook() is trace
            and not trace.depth
            and threading.get_ident() == trace.thread
        ):
            label = name if name.startswith("__") else f".{name}()"
            trace.fail(f"it reads a value ({label}), so the step may depend on it")
        return method(self, *args, **kwargs)

    return wrapper


def _snapshot(modules) -> list:
    watched = []
    for module in modules:
        named = [
            *module.named_parameters(recurse=False),
            *module.named_buffers(recurse=False),
        ]
        for name, tensor in named:
            if tensor is not None:
                watched.append((type(module).__name__, name, tensor, _fingerprint(tensor.data)))
    return watched


def _fingerprint(array: np.ndarray):
    """What an in-place edit would change: the array, its shape and a CRC of its bytes."""
    contiguous = array if array.flags.c_contiguous else np.ascontiguousarray(array)
    return (id(array), array.shape, array.dtype.str, zlib.crc32(contiguous.data))


def _parameters_of(obj) -> list:
    groups = getattr(obj, "param_groups", None)
    if groups is None:
        return []
    return [param for group in groups for param in group["params"]]


# -- replaying --------------------------------------------------------------------------------
class _Program:
    """A recorded call as a list of closures over a list of values."""

    def __init__(self, trace: _Trace):
        self.template = [
            None if computed else value for value, computed in zip(trace.values, trace.computed)
        ]
        self.inputs = trace.inputs
        self.outputs = trace.outputs
        self.leaves = [(t, array, rg) for t, array, rg in trace.leaves.values()]
        self.modules = list(zip(trace.modules, trace.training))
        self.grads_none = trace.grads_that_matter()
        self._leaf_columns = tuple(map(list, zip(*self.leaves))) or ([], [], [])
        self._grad_columns = tuple(map(list, zip(*self.grads_none))) or ([], [])
        self._module_columns = (list(trace.modules), list(trace.training))
        self.steps = []
        # For each step, what writes it as source (a kernel's emit method, the freed
        # numbers) or None (the step is called as it is).
        self.emitters: list = []
        kernels = _kernels_of(trace)
        # A kernel's ctx number holds nothing (or a buffer it keeps): no step to free it.
        idle = {ctx for ctx, kernel in kernels.items() if not kernel.stores_ctx}
        for op, dead in zip(trace.ops, _dead_after(trace)):
            step, emitter = _kernel_step(op, kernels) or (_compile_op(op, trace), _emitter(op))
            self.steps.append(step)
            self.emitters.append(emitter)
            dead = [index for index in dead if index not in idle]
            if dead:
                self.steps.append(_free_step(dead))
                self.emitters.append(dead)
        # The first replay calls the steps one by one (kernels keep their buffers); then
        # they are written out as one function over those buffers (see _straight_line).
        self.replay: Callable[[list], None] = self._first_replay
        # Kernels write into the buffers of the previous replay: one replay at a time.
        self.lock = threading.Lock()

    def _first_replay(self, env) -> None:
        self._each_step(env)
        try:
            self.replay = _straight_line(self.steps, self.emitters)
        except Exception:  # never the user's problem: the steps one by one are as exact
            self.replay = self._each_step

    def _each_step(self, env) -> None:
        for step in self.steps:
            step(env)

    def valid(self) -> bool:
        # Identity comparisons over lists kept from the recording, in C (map, operator.is_).
        leaves, arrays, requires_grads = self._leaf_columns
        if not all(map(operator.is_, map(_data, leaves), arrays)):
            return False
        if not all(map(operator.is_, map(_requires_grad, leaves), requires_grads)):
            return False
        tensors, nones = self._grad_columns
        if list(map(_grad_is_none, tensors)) != nones:
            return False
        modules, flags = self._module_columns
        return all(map(operator.is_, map(_training, modules), flags))

    input_snapshot: list | None = None

    def run(self, args, kwargs):
        env = self.template.copy()
        arrays = _inputs(args, kwargs)
        if self.input_snapshot is not None and not all(
            map(_same_value, arrays, self.input_snapshot)
        ):
            raise _GuardFailed
        for index, array in zip(self.inputs, arrays):
            env[index] = array
        # Backward formulas run as the engine runs them, with recording off; forward
        # functions, NumPy calls and optimizer updates do not depend on the mode.
        previous = grad_mode.enabled
        grad_mode.enabled = False
        try:
            with self.lock:
                self.replay(env)
        finally:
            grad_mode.enabled = previous
        kind, payload = self.outputs
        if kind == "tensor":  # the common result, a loss
            return Tensor.wrap(env[payload])
        return _build(self.outputs, env)


_data = operator.attrgetter("data")
_requires_grad = operator.attrgetter("_requires_grad")
_training = operator.attrgetter("training")


def _grad_is_none(tensor: Tensor) -> bool:
    return tensor.grad is None


#: Values smaller than this are left to the end of the replay: freeing costs a step.
_FREE_BYTES = 1 << 16
_ZEROS_BYTES = 1 << 20  # the largest constant zeros a ReLU kernel keeps


def _reads(op: tuple, trace: _Trace) -> tuple:
    kind = op[0]
    if kind in ("primitive", "numpy", "guard"):
        return op[2] if kind != "guard" else op[2]
    if kind == "backward":
        forward_op = trace.forward_of[op[2]]
        return (op[2], op[4], *forward_op[2], forward_op[5])
    if kind == "leaf_grads":
        return (*op[3], *op[4])
    if kind == "view":
        return (op[1],)
    if kind == "pack":
        return op[1]
    return ()


def _kernels_of(trace: _Trace) -> dict[int, _Kernel]:
    """A replay kernel per recorded primitive that has one, by ctx number."""
    table = _replay_kernels()
    primitives = [
        op
        for op in trace.ops
        if op[0] == "primitive"
        and op[1] in table
        and (table[op[1]].has_backward or op[4] not in trace.backward_of)
    ]
    if not primitives:
        return {}
    kernel_ctx = {op[4] for op in primitives}
    kept = set(_indices(trace.outputs))
    for op in trace.ops:
        if op[0] == "leaf_grads":
            kept.update(op[6])
    # A value may live in a buffer that the next replay overwrites only when nothing but
    # kernels reads it and it does not leave the replay.
    foreign: set[int] = set(kept)
    for op in trace.ops:
        if (
            op[0] in ("primitive", "backward")
            and (op[4] if op[0] == "primitive" else op[2]) in kernel_ctx
        ):
            continue
        foreign.update(_reads(op, trace))
        if op[0] == "view":
            foreign.add(op[1])
    # A kernel that hands out its input itself or a view of it (Add's backward, a
    # reduction's broadcast gradient) lets the input leave wherever the result does.
    aliases = []
    for op in trace.ops:
        if op[0] == "backward" and op[2] in kernel_ctx and table[op[1]].backward_aliases:
            aliases.append((op[4], [out for out in op[5] if out is not None]))
        elif op[0] == "primitive" and op[4] in kernel_ctx and table[op[1]].forward_aliases:
            aliases.append((op[2][0], [op[5]]))
    changed = True
    while changed:
        changed = False
        for source, results in aliases:
            if source not in foreign and any(result in foreign for result in results):
                foreign.add(source)
                changed = True
    reusable = {
        index for index, computed in enumerate(trace.computed) if computed and index not in foreign
    }
    return {op[4]: table[op[1]](op, reusable) for op in primitives}


def _kernel_step(op: tuple, kernels: dict) -> tuple | None:
    """``(step, emitter)`` for an op that a replay kernel runs, else None."""
    if op[0] == "primitive":
        kernel = kernels.get(op[4])
        return None if kernel is None else (kernel.forward, kernel.emit_forward)
    if op[0] == "backward":
        kernel = kernels.get(op[2])
        if kernel is None:
            return None
        _, cls, ctx_index, needs, grad_index, outs, backward = op
        bound = kernel.bind_backward(needs, grad_index, outs)
        if kernel.simple:
            return bound.backward, bound.emit_backward
        generic = _backward_step(
            cls, backward, ctx_index, needs, grad_index, outs, kernel.forward_op
        )
        specific = bound.backward

        def checked_backward(env):
            (specific if kernel.simple else generic)(env)

        def emit_checked_backward(name):
            if kernel.simple is None:
                return None
            return [f"{name(specific if kernel.simple else generic)}(env)"]

        return checked_backward, emit_checked_backward
    return None


def _emitter(op: tuple) -> Callable | None:
    """What writes a recorded guard, NumPy call or fresh leaf-gradient assignment as
    source lines (the same work as its ``_compile_op`` step), else None."""
    kind = op[0]
    if kind == "guard":
        _, predicate, indices, expected = op
        arguments = ", ".join(f"env[{index}]" for index in indices)
        return lambda name: [
            f"if bool({name(predicate)}({arguments})) is not {expected}:",
            f"    raise {name(_GuardFailed)}",
        ]
    if kind == "numpy":
        _, function, indices, index = op
        arguments = ", ".join(f"env[{i}]" for i in indices)
        return lambda name: [f"env[{index}] = {name(function)}({arguments})"]
    if kind == "call":
        _, method, obj, args, kwargs = op
        if args or kwargs:
            return None
        return lambda name: [f"{name(method)}({name(obj)})"]
    if kind == "leaf_grads":
        _, _, leaves, grads, _, create_graph, outs, cleared, copied = op
        if create_graph or len(cleared) != len(leaves):
            return None

        def emit(name):
            lines = []
            wrap = name(Tensor.wrap)
            for leaf, index, out, copy in zip(leaves, grads, outs, copied):
                lines.append(f"env[{out}] = env[{index}]" + (".copy()" if copy else ""))
                lines.append(f"{name(leaf)}.grad = {wrap}(env[{out}])")
            return lines

        return emit
    return None


def _straight_line(steps: list, emitters: list) -> Callable[[list], None]:
    """The steps as one Python function, written after a first replay.

    A kernel that can writes its step as source lines over the buffers the first replay
    left it (the same NumPy calls as its methods, without their lookups and branches on
    what does not change between replays: shapes, dtypes, which buffers exist); other
    steps are called as they are; freed numbers become ``env[i] = None``.
    """
    namespace: dict = {"np": np, "math": math, "ndarray": np.ndarray}
    ids: dict[int, str] = {}

    def name(value) -> str:
        """A global name in the generated function for ``value`` (bound once)."""
        key = id(value)
        if key not in ids:
            ids[key] = f"_c{len(ids)}"
            namespace[ids[key]] = value
        return ids[key]

    lines = ["def replay(env):"]
    for step, emitter in zip(steps, emitters):
        if isinstance(emitter, list):  # the numbers to free
            lines.append(f"    {' = '.join(f'env[{index}]' for index in emitter)} = None")
            continue
        source = emitter(name) if emitter is not None else None
        if source is None:
            lines.append(f"    {name(step)}(env)")
        else:
            lines.extend(f"    {line}" for line in source)
            # A local would keep its array alive past the step that frees it (env[i] = None)
            assigned = dict.fromkeys(_ASSIGNED.findall("\n".join(source)))
            if assigned:
                lines.append(f"    del {', '.join(assigned)}")
    lines.append("    return None")
    # np.exp, np.add.reduce, math.isfinite: bound once as globals (no lookups per call)
    source = _NUMPY_NAME.sub(lambda m: name(_numpy_attribute(m.group(0))), "\n".join(lines))
    # Compiling costs ~4 us a line; steps of one model (cross-validation folds, restarts)
    # write the same source, their constants differing only in the namespace.
    with _replay_code_lock:
        code = _replay_code.get(source)
        if code is None:
            if len(_replay_code) >= _REPLAY_CODE_SIZE:
                del _replay_code[next(iter(_replay_code))]  # the oldest
            code = builtins.compile(source, "<tn.compile replay>", "exec")
            _replay_code[source] = code
    exec(code, namespace)
    return namespace["replay"]


_NUMPY_NAME = re.compile(r"\b(?:np|math)\.\w+(?:\.\w+)?")


@functools.cache
def _numpy_attribute(dotted: str):
    """``np.add.reduce`` (or ``math.isfinite``) from its name; one object per name, so it
    is bound once."""
    module, *parts = dotted.split(".")
    value = np if module == "np" else math
    for part in parts:
        value = getattr(value, part)
    return value


_ASSIGNED = re.compile(r"^ *([A-Za-z_]\w*) = ", re.MULTILINE)
_REPLAY_CODE_SIZE = 32
_replay_code: dict[str, types.CodeType] = {}
_replay_code_lock = threading.Lock()


def _dead_after(trace: _Trace) -> list[list[int]]:
    """For each op, the large computed values no later op (nor the result) reads."""
    last: dict[int, int] = {}
    for position, op in enumerate(trace.ops):
        for index in _reads(op, trace):
            last[index] = position
    kept = set(_indices(trace.outputs))
    for op in trace.ops:
        if op[0] == "leaf_grads":
            kept.update(op[6])  # the gradients handed to the leaves
    dead: list[list[int]] = [[] for _ in trace.ops]
    for index, position in last.items():
        if trace.computed[index] and index not in kept and trace.sizes[index] >= _FREE_BYTES:
            dead[position].append(index)
    return dead


def _indices(spec) -> list[int]:
    kind, payload = spec
    if kind in ("tensor", "array"):
        return [payload]
    if kind == "object":
        return []
    items = payload.values() if kind is dict else payload
    return [index for item in items for index in _indices(item)]


def _free_step(dead: list[int]):
    def free(env):
        for index in dead:
            env[index] = None

    return free


def _build(spec, env):
    kind, payload = spec
    if kind == "tensor":
        return Tensor.wrap(env[payload])
    if kind == "array":
        return env[payload]
    if kind == "object":
        return payload
    if kind is dict:
        return {key: _build(item, env) for key, item in payload.items()}
    return kind(_build(item, env) for item in payload)


def _compile_op(op: tuple, trace: _Trace) -> Callable[[list], None]:
    kind = op[0]
    if kind == "primitive":
        cls, indices, kinds, ctx_index, out_index = op[1:]
        keeps_ctx = ctx_index in trace.backward_of
        return _primitive_step(cls, indices, kinds, ctx_index, out_index, keeps_ctx)
    if kind == "backward":
        cls, ctx_index, needs, grad_index, outs, backward = op[1:]
        forward_op = trace.forward_of[ctx_index]
        return _backward_step(cls, backward, ctx_index, needs, grad_index, outs, forward_op)
    if kind == "leaf_grads":
        return _leaf_grads_step(*op[1:])
    if kind == "call":
        _, method, obj, args, kwargs = op

        def call(env):
            method(obj, *args, **kwargs)

        return call
    if kind == "numpy":
        _, function, indices, index = op

        def numpy_call(env):
            env[index] = function(*[env[i] for i in indices])

        return numpy_call
    if kind == "pack":
        _, items, index = op

        def pack(env):
            env[index] = tuple([env[i] for i in items])

        return pack
    if kind == "guard":
        _, predicate, indices, expected = op

        def guard(env):
            if bool(predicate(*[env[i] for i in indices])) is not expected:
                raise _GuardFailed

        return guard
    if kind == "view":
        owner, shape, dtype, strides, offset, writeable, index = op[1:]

        def view(env):
            array = np.ndarray(shape, dtype, buffer=env[owner], offset=offset, strides=strides)
            if not writeable:
                array.flags.writeable = False
            env[index] = array

        return view
    raise AssertionError(kind)


def _as_array(out) -> np.ndarray:
    return out.data if isinstance(out, Tensor) else np.asarray(out)


def _primitive_step(cls, indices, kinds, ctx_index, out_index, keeps_ctx=True):
    forward = cls.forward
    new = object.__new__
    ndarray = np.ndarray
    if not keeps_ctx and len(indices) == 1:  # the common unary case, without a list
        (only,) = indices

        def unary(env):
            out = forward(new(cls), env[only])
            env[out_index] = out if type(out) is ndarray else _as_array(out)

        return unary

    def primitive(env):
        ctx = new(cls)
        out = forward(ctx, *[env[i] for i in indices])
        if type(out) is not ndarray:
            out = _as_array(out)
        if keeps_ctx:
            env[ctx_index] = ctx
        env[out_index] = out

    return primitive


def _backward_step(cls, backward, ctx_index, needs, grad_index, outs, forward_op):
    _, _, indices, kinds, _, out_index = forward_op
    keeps_output = cls.saves_output
    # One Tensor per input, reused by every replay: only its array changes.
    wrappers = [None if kind is None else Tensor.wrap(None, kind) for kind in kinds]
    pairs = list(zip(indices, wrappers))
    tensor_wrappers = [wrapper for wrapper in wrappers if wrapper is not None]
    grad_wrapper = Tensor.wrap(None)
    output = Tensor.wrap(None)
    output_ref = weakref.ref(output)
    targets = [(position, out) for position, out in enumerate(outs) if out is not None]

    def run_backward(env):
        ctx = env[ctx_index]
        arguments = []
        for index, wrapper in pairs:
            if wrapper is None:
                arguments.append(env[index])
            else:
                wrapper.data = env[index]
                arguments.append(wrapper)
        ctx.inputs = tuple(arguments)
        ctx.needs_input_grad = needs
        if keeps_output or ctx._saved_arrays is not None:
            output.data = env[out_index]
            ctx._output_ref = output_ref
        grad_wrapper.data = env[grad_index]
        result = backward(ctx, grad_wrapper)
        if type(result) is not tuple:
            result = (result,)
        for position, out in targets:
            env[out] = result[position].data
        # Let go of this call's arrays: the wrappers outlive the replay.
        grad_wrapper.data = output.data = None
        for wrapper in tensor_wrappers:
            wrapper.data = None

    return run_backward


def _leaf_grads_step(assign, leaves, grads, roots, create_graph, outs, cleared, copied):
    wrap = Tensor.wrap
    if not create_graph and len(cleared) == len(leaves):
        # Every gradient starts from None: what the engine does, without its bookkeeping.
        plan = list(zip(leaves, grads, outs, copied))

        def fresh_leaf_grads(env):
            for leaf, index, out, copy in plan:
                array = env[index].copy() if copy else env[index]
                leaf.grad = wrap(array)
                env[out] = array

        return fresh_leaf_grads

    def leaf_grads(env):
        for leaf in cleared:
            leaf.grad = None
        entries = [(leaf, wrap(env[i])) for leaf, i in zip(leaves, grads)]
        assign(entries, [wrap(env[i]) for i in roots], create_graph)
        for leaf, out in zip(leaves, outs):
            env[out] = leaf.grad.data

    return leaf_grads


# -- replay kernels ------------------------------------------------------------------------------
# For the hot primitives, the replay runs their NumPy directly: no ctx object, no Tensor around
# the backward's arrays, and intermediates written into buffers kept from one replay to the
# next (``out=``). Each kernel does exactly the arithmetic of the op's ``forward`` and of its
# first-order backward (the replay runs with grad mode off), in the same order on the same
# layouts, so the bits are those of eager execution; tests/test_compile.py checks it. A
# primitive without a kernel takes the generic path, which calls the op's own functions.
# ``np.add.reduce(a, axis=...)`` is what ``a.sum(axis=...)`` calls (likewise ``maximum`` for
# ``max``), without the Python wrapper in between.


class _Kernel:
    """One recorded primitive's replay: ``forward(env)``, and ``backward(env, ...)`` for
    each recorded backward of it."""

    #: False: this recording's arrays do not fit the kernel (dtypes), it runs the op's own
    #: functions as the generic path does; None: decided on the first replay.
    simple: bool | None = True
    has_backward = True  # False: used only where the op's backward was not recorded
    forward_aliases = False  # True: the output may be the first input or a view of it
    backward_aliases = False  # True: a gradient may be the incoming one or a view of it
    stores_ctx = False  # True: the forward puts an array for the backward at its ctx number

    #: What ``backward(env)`` reads: the recorded backward's ``needs_input_grad``, the
    #: number of its incoming gradient and those of the gradients it makes (see bind_backward).
    needs: tuple = ()
    grad_index: int = -1
    outs: tuple = ()

    def __init__(self, forward_op: tuple, reusable: set[int]) -> None:
        _, self.cls, self.indices, self.kinds, self.ctx_index, self.out_index = forward_op
        self.forward_op = forward_op
        self.reusable = reusable
        self.buffers: dict[tuple, np.ndarray] = {}
        self.rows: np.ndarray | None = None
        self.out_buffer: np.ndarray | None = None  # output()'s kept buffer
        self.bound = False

    def bind_backward(
        self, needs: tuple, grad_index: int, outs: tuple
    ) -> _Kernel | _AnotherBackward:
        """This kernel set up for one recorded backward of its op; a second backward (a
        retained graph) gets its own view of the kernel (buffers are keyed by value)."""
        if self.bound:
            return _AnotherBackward(self, needs, grad_index, outs)
        self.needs, self.grad_index, self.outs = needs, grad_index, outs
        self.bound = True
        return self

    def backward(self, env) -> None:
        """The recorded backward (``bind_backward``'s arguments) on ``env``."""
        raise NotImplementedError

    def emit_forward(self, name) -> list[str] | None:
        """The forward as source lines over ``env`` (``name(value)``: a global for a
        constant), or None to call ``forward``; asked once, after the first replay."""
        return None

    def emit_backward(self, name) -> list[str] | None:
        """The bound backward as source lines, as ``emit_forward``."""
        return None

    def reused(self, name: str, index: int | None) -> np.ndarray | None:
        """The buffer kept for value ``index`` (None: scratch) by an earlier replay, if any."""
        return self.buffers.get((name, index))

    def into(self, name, buffer_name: str, index: int | None, call: str) -> str:
        """``call`` (a ufunc call's source, without its closing parenthesis) into the
        buffer kept for ``(buffer_name, index)`` when there is one, else afresh."""
        buffer = self.buffers.get((buffer_name, index))
        return call + (")" if buffer is None else f", out={name(buffer)})")

    def output(self, ufunc, *operands) -> np.ndarray:
        """``ufunc(*operands)`` as this op's output: into the buffer an earlier replay kept
        for it when there is one (``out=``; the same bits), else fresh and maybe kept."""
        out = self.out_buffer
        if out is None:
            out = self.keep("out", self.out_index, ufunc(*operands))
            if ("out", self.out_index) in self.buffers:
                self.out_buffer = out
            self.out_dtype = out.dtype
            return out
        return ufunc(*operands, out=out)

    out_dtype: np.dtype | None = None  # the output's dtype, seen by output() on the first replay

    def zero(self, name) -> str:
        """Source for the scalar 0 in a ufunc call with this op's float output: a float32 or
        float64 zero bound as a constant (NumPy converts a Python 0 to that on every call)."""
        dtype = self.out_dtype
        if dtype is None or dtype.type not in (np.float32, np.float64):
            return "0"
        return name(dtype.type(0))

    def keep(self, name: str, index: int | None, fresh: np.ndarray) -> np.ndarray:
        """Keep ``fresh`` (this replay's result) as a buffer for the next replays when value
        ``index`` never leaves the replay (None: scratch, never handed out) and is small.

        Large values are freed after their last use, as eagerly: a buffer kept for them
        would raise the peak memory, and allocation is cheap next to their arithmetic.
        """
        if fresh.nbytes < _FREE_BYTES and (index is None or index in self.reusable):
            self.buffers[name, index] = fresh
        return fresh


class _AnotherBackward:
    """A further recorded backward of a kernel's op: its own ``needs``, ``grad_index`` and
    ``outs``; everything else (what the forward left, the buffers) is the kernel's."""

    def __init__(self, kernel: _Kernel, needs: tuple, grad_index: int, outs: tuple) -> None:
        self.kernel = kernel
        self.needs, self.grad_index, self.outs = needs, grad_index, outs
        proxy: Any = self  # the kernel's methods, run with this object as their self
        self.backward = functools.partial(type(kernel).backward, proxy)
        self.emit_backward = functools.partial(type(kernel).emit_backward, proxy)

    def __getattr__(self, name: str):
        return getattr(self.kernel, name)


class _LinearKernel(_Kernel):
    """``Linear``: ``x @ weight.T`` then ``+= bias``; backward as ``_linear_backward_numpy``."""

    def forward(self, env):
        x_index, weight_index, bias_index = self.indices
        x, weight, bias = env[x_index], env[weight_index], env[bias_index]
        out = self.output(np.matmul, x, weight.T)
        if bias is not None:
            out += bias
        env[self.out_index] = out
        self.has_bias = bias is not None  # a parameter or None: fixed for the program

    def backward(self, env):
        x_index, weight_index, _ = self.indices
        x, weight = env[x_index], env[weight_index]
        g = env[self.grad_index]
        needs_x, needs_weight, needs_bias = self.needs
        out_x, out_weight, out_bias = self.outs
        if needs_x:
            grad_x = self.reused("grad_x", out_x)
            # linear_grad_input's two ways, fixed by the shapes and dtypes guarded
            self.rank_one = rank_one_product(g, weight)
            if grad_x is None:
                grad_x = self.keep("grad_x", out_x, linear_grad_input(g, weight))
            elif self.rank_one:
                np.multiply(g, weight, out=grad_x)
                grad_x += g.dtype.type(0)
            else:
                np.matmul(g, weight, out=grad_x)
            if out_x is not None:
                env[out_x] = grad_x
        self.ranks = (g.ndim, x.ndim)  # for emit_backward: fixed by the shapes guarded
        self.dtype = g.dtype
        rows = g.reshape(-1, weight.shape[0]) if g.ndim != 2 else g
        if needs_weight:
            flat_x = x.reshape(-1, weight.shape[1]) if x.ndim != 2 else x
            grad_weight = rows.T @ flat_x
            if out_weight is not None:
                env[out_weight] = grad_weight
        if needs_bias:
            grad_bias = np.add.reduce(rows, axis=0)
            if out_bias is not None:
                env[out_bias] = grad_bias

    def emit_forward(self, name):
        x, weight, bias = self.indices
        out_buffer = self.out_buffer
        out = self.out_index
        call = f"env[{out}] = np.matmul(env[{x}], env[{weight}].T"
        lines = [self.into(name, "out", out, call) if out_buffer is not None else call + ")"]
        if self.has_bias:
            lines.append(f"env[{out}] += env[{bias}]")
        return lines

    def emit_backward(self, name):
        x, weight, _ = self.indices
        needs_x, needs_weight, needs_bias = self.needs
        out_x, out_weight, out_bias = self.outs
        lines = [f"g = env[{self.grad_index}]", f"weight = env[{weight}]"]
        if needs_x:
            if self.rank_one:  # g * weight + 0: see linear_grad_input
                lines.append(self.into(name, "grad_x", out_x, "grad_x = np.multiply(g, weight"))
                lines.append(f"grad_x += {name(self.dtype.type(0))}")
            elif self.reused("grad_x", out_x) is None:
                lines.append("grad_x = g @ weight")
            else:
                lines.append(self.into(name, "grad_x", out_x, "grad_x = np.matmul(g, weight"))
            if out_x is not None:
                lines.append(f"env[{out_x}] = grad_x")
        g_rank, x_rank = self.ranks
        lines.append("rows = g" if g_rank == 2 else "rows = g.reshape(-1, weight.shape[0])")
        if needs_weight:
            flat_x = f"env[{x}]" if x_rank == 2 else f"env[{x}].reshape(-1, weight.shape[1])"
            lines.append(f"grad_weight = rows.T @ {flat_x}")
            if out_weight is not None:
                lines.append(f"env[{out_weight}] = grad_weight")
        if needs_bias:
            lines.append("grad_bias = np.add.reduce(rows, axis=0)")
            if out_bias is not None:
                lines.append(f"env[{out_bias}] = grad_bias")
        return lines


class _ReluKernel(_Kernel):
    """``Relu``: ``maximum(x, zeros)``; backward ``g * (x > 0)``, or ``where`` for a non-finite g."""

    #: relu_zeros(x), kept up to 1 MiB (x's shape and dtype are fixed for the program): a
    #: constant, one per ReLU, so larger than the per-step buffers. Above that the replay
    #: takes the maximum with a scalar 0, the same bits (tests/test_fast_paths.py) without
    #: 2 MB of zeros a layer at large sizes (kept, or made per call as eagerly, they would
    #: raise the peak memory).
    zeros: Any = None

    def forward(self, env):
        x = env[self.indices[0]]
        if self.zeros is None:
            zeros = relu_zeros(x)
            self.zeros = zeros if getattr(zeros, "nbytes", 0) <= _ZEROS_BYTES else 0
        out = self.output(np.maximum, x, self.zeros if x.flags.c_contiguous else 0)
        env[self.out_index] = out

    def backward(self, env):
        g = env[self.grad_index]
        (out_index,) = self.outs
        mask = self.reused("mask", None)
        if mask is None:
            mask = self.keep("mask", None, env[self.indices[0]] > 0)
        else:
            np.greater(env[self.indices[0]], 0, out=mask)
        if math.isfinite(np.add.reduce(g, axis=None)):
            grad = self.reused("grad", out_index)
            if grad is None:
                grad = self.keep("grad", out_index, g * mask)
            else:
                np.multiply(g, mask, out=grad)
        else:
            grad = np.where(mask, g, g.dtype.type(0))
        if out_index is not None:
            env[out_index] = grad

    def emit_forward(self, name):
        x = self.indices[0]
        if isinstance(self.zeros, int):
            call = self.into(name, "out", self.out_index, f"np.maximum(x, {self.zero(name)}")
        else:  # relu_zeros(x) without making them; a layout the guards let change is checked
            zeros = f"{name(self.zeros)} if x.flags.c_contiguous else 0"
            call = self.into(name, "out", self.out_index, f"np.maximum(x, {zeros}")
        return [f"x = env[{x}]", f"env[{self.out_index}] = {call}"]

    def emit_backward(self, name):
        x = self.indices[0]
        (out_index,) = self.outs
        mask = self.reused("mask", None)
        return [
            f"g = env[{self.grad_index}]",
            f"mask = env[{x}] > 0"
            if mask is None
            else f"mask = np.greater(env[{x}], {self.zero(name)}, out={name(mask)})",
            "if math.isfinite(np.add.reduce(g, axis=None)):",
            "    " + self.into(name, "grad", out_index, "grad = np.multiply(g, mask"),
            "else:",
            "    grad = np.where(mask, g, g.dtype.type(0))",
            *([f"env[{out_index}] = grad"] if out_index is not None else []),
        ]


class _SoftmaxCrossEntropyKernel(_Kernel):
    """``SoftmaxCrossEntropy``: row-wise log-softmax, pick, reduce; backward ``exp(lp) - 1``."""

    stores_ctx = True

    def forward(self, env):
        logits_index, target_index, reduction_index = self.indices
        logits, target, reduction = env[logits_index], env[target_index], env[reduction_index]
        # _log_softmax_rows: shifted = logits - max; shifted -= log(sum(exp(shifted)))
        peak = np.maximum.reduce(logits, axis=1, keepdims=True)
        log_probs = self.reused("log_probs", None)
        if log_probs is None:
            log_probs = self.keep("log_probs", None, logits - peak)
            exps = self.keep("exps", None, np.exp(log_probs))
        else:
            np.subtract(logits, peak, out=log_probs)
            exps = np.exp(log_probs, out=self.reused("exps", None))
        log_probs -= np.log(np.add.reduce(exps, axis=1, keepdims=True))
        rows = self.rows
        if rows is None or len(rows) != len(target):
            rows = self.rows = np.arange(len(target))
        picked = log_probs[rows, target]
        if reduction == "none":
            out = np.negative(picked)
        else:
            total = np.add.reduce(picked, axis=None)
            if reduction == "sum":
                out = np.negative(total)
            elif len(target):
                out = total * logits.dtype.type(-1.0 / len(target))
            else:
                out = total * np.nan
        env[self.ctx_index] = log_probs
        env[self.out_index] = out if type(out) is np.ndarray else np.asarray(out)
        self.reduction, self.dtype = reduction, logits.dtype  # for the emitters

    reduction: str | None = None
    dtype = None

    def emit_forward(self, name):
        logits, target, _ = self.indices
        rows, reduction, count = self.rows, self.reduction, len(self.rows)
        log_probs = self.reused("log_probs", None)
        lines = [
            f"logits = env[{logits}]",
            "peak = np.maximum.reduce(logits, axis=1, keepdims=True)",
        ]
        if log_probs is None:
            lines += ["log_probs = logits - peak", "exps = np.exp(log_probs)"]
        else:
            lines += [
                f"log_probs = np.subtract(logits, peak, out={name(log_probs)})",
                f"exps = np.exp(log_probs, out={name(self.reused('exps', None))})",
            ]
        lines += [
            "log_probs -= np.log(np.add.reduce(exps, axis=1, keepdims=True))",
            f"picked = log_probs[{name(rows)}, env[{target}]]",
        ]
        if reduction == "none":
            lines.append("out = np.negative(picked)")
        else:
            lines.append("total = np.add.reduce(picked, axis=None)")
            if reduction == "sum":
                lines.append("out = np.negative(total)")
            elif count:
                lines.append(f"out = total * {name(self.dtype.type(-1.0 / count))}")
            else:
                lines.append("out = total * np.nan")
        return lines + [
            f"env[{self.ctx_index}] = log_probs",
            f"env[{self.out_index}] = out if type(out) is ndarray else np.asarray(out)",
        ]

    def emit_backward(self, name):
        _, target, _ = self.indices
        count, dtype = len(self.rows), self.dtype
        if self.reduction == "mean":
            scale = dtype.type(1.0 / count) if count else dtype.type(np.nan)
        else:
            scale = dtype.type(1.0) if self.reduction == "sum" else None
        (out_index, _, _) = self.outs
        lines = [
            self.into(name, "grad", out_index, f"grad = np.exp(env[{self.ctx_index}]"),
            f"grad[{name(self.rows)}, env[{target}]] -= {name(dtype.type(1))}",
            f"g = env[{self.grad_index}]",
            # g is the loss's 0-d cotangent: g[()] * scale is the same product, as scalars
            f"grad *= g[()] * {name(scale)}" if scale is not None else "grad *= g[:, None]",
        ]
        if out_index is not None:
            lines.append(f"env[{out_index}] = grad")
        return lines

    def backward(self, env):
        logits_index, target_index, reduction_index = self.indices
        logits, target, reduction = env[logits_index], env[target_index], env[reduction_index]
        count = len(target)
        rows = self.rows
        if reduction == "mean":
            scale = logits.dtype.type(1.0 / count) if count else logits.dtype.type(np.nan)
        else:
            scale = logits.dtype.type(1.0) if reduction == "sum" else None
        (out_index, _, _) = self.outs
        grad = self.reused("grad", out_index)
        if grad is None:
            grad = self.keep("grad", out_index, np.exp(env[self.ctx_index]))
        else:
            np.exp(env[self.ctx_index], out=grad)
        grad[rows, target] -= 1
        g = env[self.grad_index]
        grad *= g * scale if scale is not None else g[:, None]
        if out_index is not None:
            env[out_index] = grad


class _CheckedKernel(_Kernel):
    """A kernel for the common dtypes only; other recordings take the generic path."""

    simple = None

    def fits(self, env) -> bool:
        raise NotImplementedError

    def forward(self, env):
        if self.simple is None:
            self.simple = self.fits(env)
            if not self.simple:
                self.generic = _primitive_step(
                    self.cls, self.indices, self.kinds, self.ctx_index, self.out_index
                )
        if self.simple:
            self.run(env)
        else:
            self.generic(env)

    def emit_forward(self, name):
        # what forward decided on the first replay, called without the check
        if self.simple is None:
            return None
        return [f"{name(self.run if self.simple else self.generic)}(env)"]


class ReplayKernel(_CheckedKernel):
    """The base of a replay kernel for a ``Function`` defined outside the core (see
    ``register_replay_kernel``): the replay calls ``run(env)`` for its forward and
    ``backward(env)`` for its first-order backward instead of the Function's own methods.

    ``env`` is the replay's list of values: the inputs are ``env[i] for i in self.indices``
    (arrays for Tensor arguments, other arguments as recorded), the result goes to
    ``env[self.out_index]``, and an array the backward needs to ``env[self.ctx_index]`` (set
    ``stores_ctx = True``). The backward reads its incoming gradient at
    ``env[self.grad_index]`` and writes the gradient of input ``k`` to ``env[self.outs[k]]``
    when ``self.needs[k]`` and ``self.outs[k] is not None``. ``fits(env)``, asked on the first
    replay, says whether this recording's values suit the kernel; if not, the Function's own
    methods run. ``keep(name, index, array)`` and ``reused(name, index)`` keep a small array
    for the next replay to write into (``index``: the value it holds, None for scratch).

    A kernel must compute exactly what the Function's forward and its first-order backward
    (grad mode off) compute, in the same order, so replays stay bit-identical to eager
    execution; test it as tests/estimators/test_compiled_fit.py does (compiled and eager fits
    give the same weights, and only the recorded calls run the Function's own methods).
    """

    def fits(self, env) -> bool:
        raise NotImplementedError

    def run(self, env) -> None:
        raise NotImplementedError


#: Function class -> ReplayKernel subclass, from register_replay_kernel.
_registered_kernels: dict[type, type] = {}


def register_replay_kernel(function: type, kernel: type[ReplayKernel]) -> None:
    """Replay the recorded calls of ``function`` (a ``tn.Function`` subclass) with ``kernel``.

    For Functions of the layers above the compiler (tinynet.estimators' losses), which the
    compiler cannot import; the core's own primitives have built-in kernels.

    >>> import numpy as np, tinynet as tn
    >>> class Double(tn.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return x * 2
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         return grad_output * 2
    >>> class DoubleKernel(ReplayKernel):
    ...     def fits(self, env):
    ...         return type(env[self.indices[0]]) is np.ndarray
    ...     def run(self, env):
    ...         env[self.out_index] = env[self.indices[0]] * 2
    ...     def backward(self, env):
    ...         if self.needs[0] and self.outs[0] is not None:
    ...             env[self.outs[0]] = env[self.grad_index] * 2
    >>> register_replay_kernel(Double, DoubleKernel)
    """
    if not (isinstance(function, type) and issubclass(function, autograd.Function)):
        raise TypeError(f"register_replay_kernel: expected a Function class, got {function!r}")
    if not (isinstance(kernel, type) and issubclass(kernel, ReplayKernel)):
        raise TypeError(f"register_replay_kernel: expected a ReplayKernel subclass, got {kernel!r}")
    _registered_kernels[function] = kernel


def _same_float(*arrays, scalar_result: bool = True) -> bool:
    """True for arrays of one dtype, float32 or float64 (and, unless ``scalar_result``, not all
    0-d: NumPy returns a scalar there, which no ``out=`` buffer can hold)."""
    if not all(type(array) is np.ndarray for array in arrays):
        return False
    dtype = arrays[0].dtype
    return (
        dtype.type in (np.float32, np.float64)
        and all(array.dtype == dtype for array in arrays)
        and (scalar_result or any(array.ndim for array in arrays))
    )


class _AddKernel(_CheckedKernel):
    """``Add``: ``a + b``; both gradients are the incoming one (un-broadcast by SumToShape)."""

    backward_aliases = True

    def fits(self, env):
        return _same_float(env[self.indices[0]], env[self.indices[1]], scalar_result=False)

    def run(self, env):
        a, b = env[self.indices[0]], env[self.indices[1]]
        out = self.output(np.add, a, b)
        env[self.out_index] = out

    def backward(self, env):
        g = env[self.grad_index]
        for out in self.outs:
            if out is not None:
                env[out] = g


class _MulKernel(_CheckedKernel):
    """``Mul``: ``a * b``; gradients ``g * b`` and ``g * a`` (0 * inf = 0), as its fast path."""

    def fits(self, env):
        return _same_float(env[self.indices[0]], env[self.indices[1]], scalar_result=False)

    def run(self, env):
        a, b = env[self.indices[0]], env[self.indices[1]]
        out = self.output(np.multiply, a, b)
        env[self.out_index] = out

    def backward(self, env):
        a, b = env[self.indices[0]], env[self.indices[1]]
        g = env[self.grad_index]
        needs, outs = self.needs, self.outs
        if needs[0] and outs[0] is not None:
            env[outs[0]] = scaled_gradient_array(g, b)
        if needs[1] and outs[1] is not None:
            env[outs[1]] = scaled_gradient_array(g, a)


class _TanhKernel(_CheckedKernel):
    """``Tanh``: ``np.tanh(x)``; backward ``g * (1 - y * y)`` from the output."""

    def fits(self, env):
        return _same_float(env[self.indices[0]], scalar_result=False)

    def run(self, env):
        x = env[self.indices[0]]
        out = self.output(np.tanh, x)
        env[self.out_index] = out

    def backward(self, env):
        y, g = env[self.out_index], env[self.grad_index]
        (out_index,) = self.outs
        if g.dtype != y.dtype or g.shape != y.shape:  # as eager: NumPy promotes, broadcasts
            grad = g * (np.asarray(1.0, y.dtype) - y * y)
            if out_index is not None:
                env[out_index] = grad
            return
        local = self.reused("local", None)
        if local is None:
            local = self.keep("local", None, y * y)
        else:
            np.multiply(y, y, out=local)
        np.subtract(np.asarray(1.0, y.dtype), local, out=local)
        grad = self.reused("grad", out_index)
        if grad is None:
            grad = self.keep("grad", out_index, g * local)
        else:
            np.multiply(g, local, out=grad)
        if out_index is not None:
            env[out_index] = grad


class _ReductionKernel(_CheckedKernel):
    """``Sum`` and ``Mean`` (float32/64): ``x.sum`` (``/ count``); backward a broadcast view."""

    backward_aliases = True

    def fits(self, env):
        x = env[self.indices[0]]
        if not _same_float(x):
            return False
        self.axis = axes(env[self.indices[1]], x.ndim)
        self.keepdims = env[self.indices[2]]
        self.kept_shape = keepdims_shape(x.shape, self.axis)
        return True

    def run(self, env):
        x = env[self.indices[0]]
        out = np.asarray(np.add.reduce(x, axis=self.axis, keepdims=self.keepdims))
        if self.mean:
            self.count = x.size // max(out.size, 1)
            if out.ndim:
                np.true_divide(out, self.count, out=out)
            else:
                out = np.asarray(out / self.count)
        env[self.out_index] = out

    def backward(self, env):
        g = env[self.grad_index]
        if not self.keepdims:
            g = g.reshape(self.kept_shape)
        if self.mean:
            scale = 1.0 / max(self.count, 1)
            if scale != 1.0:
                g = g * g.dtype.type(scale)
        (out_index,) = self.outs
        if out_index is not None:
            env[out_index] = np.broadcast_to(g, env[self.indices[0]].shape)


class _SumKernel(_ReductionKernel):
    mean = False


class _MeanKernel(_ReductionKernel):
    mean = True


class _SumToShapeKernel(_CheckedKernel):
    """``SumToShape`` (the engine's un-broadcast): ``x.sum(leading and size-1 axes)``."""

    has_backward = False
    forward_aliases = True

    def fits(self, env):
        x, shape = env[self.indices[0]], env[self.indices[1]]
        if type(x) is not np.ndarray or not isinstance(shape, tuple):
            return False
        lead = x.ndim - len(shape)
        self.summed = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
        )
        self.shape = shape
        return True

    def run(self, env):
        x = env[self.indices[0]]
        out = x.sum(axis=self.summed, keepdims=True) if self.summed else x
        env[self.out_index] = out.reshape(self.shape)


def _replay_kernels() -> dict:
    from tinynet.ops.elementwise import Add, Mul, Relu, Tanh
    from tinynet.ops.fused import SoftmaxCrossEntropy
    from tinynet.ops.linalg import Linear
    from tinynet.ops.movement import SumToShape
    from tinynet.ops.reduce import Mean, Sum

    return {
        **_registered_kernels,
        Linear: _LinearKernel,
        Relu: _ReluKernel,
        SoftmaxCrossEntropy: _SoftmaxCrossEntropyKernel,
        Add: _AddKernel,
        Mul: _MulKernel,
        Tanh: _TanhKernel,
        Sum: _SumKernel,
        Mean: _MeanKernel,
        SumToShape: _SumToShapeKernel,
    }
