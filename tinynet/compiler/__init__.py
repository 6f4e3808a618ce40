"""``tn.compile``: record what a function does in NumPy once, then replay it without graphs.

A compiled function (typically a whole training step: forward, loss, ``backward()``,
``optimizer.step()``) runs eagerly on its first two calls while a recorder notes every
primitive's NumPy forward, every backward formula the engine calls, the assignment of leaf
gradients and each optimizer or scheduler call. If both calls did the same work, later calls
replay that program directly: no Tensors for intermediate values, no graph nodes, no
topological sort. Hot primitives replay through kernels (tinynet.compiler.kernels) that do
their NumPy directly into buffers kept between calls; the others call the very same forward
and backward functions on the same arrays. Both do the eager arithmetic in the same order, so
the results are bit-identical to eager execution.

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
the ``training`` flag of the modules the function can see (arguments, their defaults,
closure, globals), the arrays and ``requires_grad`` of the parameters it used (frozen ones
too), and the numbers, tensors, modules and optimizers it reads from its closure, globals
and attributes (tinynet.compiler.python_values). A new
guard key whose first call does what an existing program does, on the same constants
(typically a new batch size), becomes a program after that one call. Optimizers and
schedulers stay live objects: their calls are replayed as calls, so a changed learning
rate takes effect.

What cannot be recorded makes the function run eagerly, with one warning that says why:
reading a value (``.item()``, ``float()``, ``bool()``, ``.tolist()``, ``.numpy()``),
values that change between calls without coming from the arguments (a dropout mask drawn
inside, a batch read from a global), NumPy edits in place that no recorded call made (batch
norm's running statistics in training mode), higher-order gradients (``create_graph=True``),
an optimizer closure. As with ``jax.jit``, other Python side effects of the function (appending
to a list, counting) happen only in the calls that run eagerly.

This module is the public API (``compile``, ``CompiledFunction`` and its guard keys, and the
kernel registration of tinynet.compiler.kernel); the engine is in parts, in the order a call
goes through them:

- ``recording``: ``Trace``, one eager call as ops over numbered values, and how two compare;
- ``program``: ``Program``, the replay built from a trace (steps, freeing, checks per call);
- ``steps``: the generic step of each recorded op, calling the op's own functions;
- ``kernel`` and ``kernels``: what a replay kernel is, and the built-in ones;
- ``codegen``: the steps written out as one Python function after the first replay.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable

import numpy as np

from tinynet import autograd
from tinynet._grad_mode import grad_mode
from tinynet.compiler.kernel import ReplayKernel, register_replay_kernel
from tinynet.compiler.program import Program
from tinynet.compiler.python_values import describe
from tinynet.compiler.recording import Trace, inputs
from tinynet.compiler.steps import GuardFailed
from tinynet.tensor import Tensor

__all__ = ["ReplayKernel", "compile", "register_replay_kernel"]

_MAX_TRACES = 16  # eager calls spent recording, over all guard keys, before giving up
_trace_lock = threading.Lock()


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
        self._changed = ""  # the Python values whose change made the last program invalid
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
        if isinstance(entry, Program):
            try:
                return entry.run(args, kwargs)
            except GuardFailed:  # nothing was changed yet: run eagerly and record again
                self._changed = describe(entry.recording.python_values) or self._changed
            entry = None
            self._entries.pop(key, None)
        return self._trace(key, entry, args, kwargs)

    def _trace(self, key, previous, args, kwargs):
        if self._traces >= _MAX_TRACES:
            changed = f": {self._changed} changed" if self._changed else ""
            self._fall_back(
                f"recorded {_MAX_TRACES} times (its guards keep changing{changed}; pass a "
                "value that changes at every call as an argument, a tensor)"
            )
            return self.fn(*args, **kwargs)
        if not _trace_lock.acquire(blocking=False):
            return self.fn(*args, **kwargs)  # another thread is recording
        try:
            trace = Trace(self.fn, args, kwargs)
            result = trace.run()
        finally:
            _trace_lock.release()
        self._traces += 1
        if trace.problem is not None:
            self._fall_back(trace.problem)
            return result
        if not isinstance(previous, Trace) or not previous.same_guards(trace):
            if isinstance(previous, Trace):
                self._changed = describe(previous.python_values) or self._changed
            template = self._template_for(trace)
            if template is not None:
                # The same ops on the same constants as a program whose two recorded calls
                # showed those constants do not change between calls: only the arguments'
                # shapes (or dtypes) differ. This call's own recording becomes the program,
                # so what depends on the shape (a loss's row indices, 1 / n) is its own; a
                # constant that differs (1 / n computed outside an op) fails the comparison.
                self._entries[key] = Program(trace)
                return result
            self._entries[key] = trace  # the first of two calls to compare
            return result
        difference = previous.difference(trace)
        if difference is not None:
            self._fall_back(difference)
            return result
        inconclusive = previous.inconclusive(trace)
        program = Program(trace)
        if inconclusive:
            # Both calls saw the same input values, so a value computed from them outside
            # the recorded work would have looked constant: replay only for these values.
            program.input_snapshot = [array.copy() for array in inputs(args, kwargs)]
        self._entries[key] = program
        return result

    def _template_for(self, trace: Trace) -> Program | None:
        """A program of another guard key whose recording did exactly what ``trace`` did
        (the same ops on the same constants, parameters and module modes), if any."""
        for entry in reversed(list(self._entries.values())):  # a copy: other threads add
            if (
                isinstance(entry, Program)
                and entry.input_snapshot is None
                and entry.recording.same_guards(trace)
                and entry.recording.difference(trace) is None
            ):
                return entry
        return None

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
    key: list = [grad_mode.enabled]
    for value in args:  # arrays, the common arguments, described inline (no call each)
        if type(value) is np.ndarray:
            key.append(("A", value.shape, value.dtype, value.strides))
        else:
            key.append(_describe(value))
    if kwargs:
        key += [(name, _describe(value)) for name, value in sorted(kwargs.items())]
    return tuple(key)


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
