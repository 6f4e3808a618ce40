"""The replay program built from a recorded call: its steps, what to free, the checks per call.

``Program(trace)`` turns each recorded op into a step: a replay kernel's method where the
op has one (tinynet.compiler.kernels; ``_kernels_of`` picks them and which values may live
in buffers kept between replays), else the generic closure of tinynet.compiler.steps; after
the last read of a large value, a step that frees it. The first replay calls the steps one
by one; later ones run them written out as one function (tinynet.compiler.codegen).
``run`` fills in the inputs, replays and builds the result; the replay's first step checks
that the leaves, gradients and module modes are those recorded (``valid()``), else raises
``GuardFailed``.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable

import numpy as np

from tinynet import autograd
from tinynet._grad_mode import grad_mode
from tinynet.compiler import codegen
from tinynet.compiler.kernel import Kernel
from tinynet.compiler.kernels import replay_kernels
from tinynet.compiler.python_values import (
    MISSING,
    by_identity,
    cell_value,
    current,
    same,
    unchanged,
)
from tinynet.compiler.recording import Trace, inputs, reads_of, same_value
from tinynet.compiler.steps import (
    FREE_BYTES,
    GuardFailed,
    backward_step,
    compile_op,
    free_step,
)
from tinynet.nn.module import module_edits
from tinynet.tensor import Tensor


class Program:
    """A recorded call as a list of closures over a list of values."""

    def __init__(self, trace: Trace):
        # Every value after the inputs (the first numbers): constants, None for the others
        first = len(trace.inputs)
        assert trace.inputs == list(range(first))  # Trace numbers them before anything
        self.template = [
            None if computed else value
            for value, computed in zip(trace.values[first:], trace.computed[first:])
        ]
        self.inputs = trace.inputs
        self.plain = trace.plain  # the arguments are the inputs (the guard key says so)
        self.outputs = trace.outputs
        self.leaves = [(t, array, rg) for t, array, rg in trace.leaves.values()]
        self.modules = list(zip(trace.modules, trace.training))
        self.grads_none = trace.grads_that_matter()
        # What a recording of another guard key is compared with (CompiledFunction)
        self.recording = trace
        self.undo = trace.undo  # the number of the log of values overwritten by writes
        # Module modes and parameters' requires_grad the call's Python left changed
        # (model.eval() inside an evaluation function): set after each replay
        self.mode_changes, self.flag_changes = trace.mode_changes, trace.flag_changes
        self.sets_states = bool(self.mode_changes or self.flag_changes)
        # Leaves whose gradients a backward assigns before a value check: kept at the start
        # of each replay, given back when the check fails
        self.grad_leaves = _grad_leaves(trace) if trace.restores_grads else None
        trace.forget_inputs()
        # Only small arrays were recorded (a kernel's temporaries have the size of one):
        # the generated replay need not delete its locals after each step (see codegen).
        self.release = trace.largest >= FREE_BYTES
        # The guards come first: a replay that finds them changed raises GuardFailed
        # before doing anything, and the call runs eagerly and records again.
        # (Not methods of the program: a program without cycles is freed with its function.)
        guards = _Guards(self.leaves, self.grads_none, self.modules, trace)
        self.valid = guards.valid
        self.steps: list = [guards.check]
        # For each step, what writes it as source (a kernel's emit method, the freed
        # numbers) or None (the step is called as it is).
        self.emitters: list = [guards.emit]
        kernels = _kernels_of(trace)
        read = set(_indices(trace.outputs)).union(*(reads_of(op, trace) for op in trace.ops))
        # A kernel's ctx number holds nothing (or a buffer it keeps): no step to free it.
        idle = {ctx for ctx, kernel in kernels.items() if not kernel.stores_ctx}
        for op, dead in zip(trace.ops, _dead_after(trace)):
            step, emitter = _kernel_step(op, kernels) or (
                compile_op(op, trace),
                codegen.emitter(op, read),
            )
            self.steps.append(step)
            self.emitters.append(emitter)
            dead = [index for index in dead if index not in idle]
            if dead:
                self.steps.append(free_step(dead))
                self.emitters.append(dead)
        # The first replay calls the steps one by one (kernels keep their buffers); then
        # they are written out as one function over those buffers (see codegen.straight_line).
        self.replay: Callable[[list], None] = self._first_replay
        # Kernels write into the buffers of the previous replay: one replay at a time.
        self.lock = threading.Lock()

    def _first_replay(self, env) -> None:
        self._each_step(env)
        try:
            self.replay = codegen.straight_line(self.steps, self.emitters, self.release)
        except Exception:  # never the user's problem: the steps one by one are as exact
            self.replay = self._each_step

    def _each_step(self, env) -> None:
        for step in self.steps:
            step(env)

    input_snapshot: list | None = None

    def run(self, args, kwargs):
        arrays = args if self.plain else inputs(args, kwargs)
        if self.input_snapshot is not None and not all(
            map(same_value, arrays, self.input_snapshot)
        ):
            raise GuardFailed
        env = [*arrays, *self.template]  # the inputs are the first numbers
        undo = self.undo
        if undo is not None:
            env[undo] = []
        # Backward formulas run as the engine runs them, with recording off; forward
        # functions, NumPy calls and optimizer updates do not depend on the mode.
        previous = grad_mode.enabled
        grad_mode.enabled = False
        grads = None if self.grad_leaves is None else _gradients(self.grad_leaves)
        try:
            with self.lock:
                self.replay(env)
        except GuardFailed:
            if undo is not None:  # the call runs eagerly from the caller's arrays as they were
                for array, values in reversed(env[undo]):
                    np.copyto(array, values)
            if grads is not None:
                _restore_gradients(grads)
            raise
        finally:
            grad_mode.enabled = previous
        if self.sets_states:
            _set_states(self.mode_changes, self.flag_changes)
        kind, payload = self.outputs
        if kind == "tensor":  # the common result, a loss
            return Tensor.wrap(env[payload])
        return _build(self.outputs, env)


def _grad_leaves(trace: Trace) -> list:
    """The leaves the recorded backwards gave gradients, each once, in order."""
    leaves = {id(leaf): leaf for op in trace.ops if op[0] == "leaf_grads" for leaf in op[2]}
    return list(leaves.values())


class _Guards:
    """What a program checks before each replay: the leaves' and buffers' arrays, the
    leaves' ``requires_grad``, which gradients are None, the modules' ``training`` flags and
    the Python values read from outside the arguments, as recorded, and that no hook was
    added nor any module's registries edited since."""

    def __init__(self, leaves: list, grads_none: list, modules: list, trace: Trace) -> None:
        self.leaves, self.grads_none, self.modules = leaves, grads_none, modules
        # Module hooks registered when the recording began: one registered since may be on
        # one of ours (a replay would skip it), so the call records again and sees it run.
        self.hooks_seen = trace.hooks_seen
        # module_edits() then: a layer swapped (model.fc = nn.Linear(...)) or a setting
        # changed (dropout.p = 0.2) since is read by identity or baked in as a constant.
        self.edits_seen = trace.edits_seen
        # (buffer, its array): a buffer given a new array (load_state_dict) is not the one
        # the program updates or reads.
        # Parameters and buffers the replay writes in place: checked the same way.
        self.buffers = [*trace.buffers, *trace.written]
        self._leaf_columns = tuple(map(list, zip(*leaves))) or ([], [], [])
        self._grad_columns = tuple(map(list, zip(*grads_none))) or ([], [])
        self._module_columns = tuple(map(list, zip(*modules))) or ([], [])
        # Numbers and strings read from globals, closure cells and attributes (python_values)
        self.python_values = trace.python_values

    def valid(self) -> bool:
        """True when no module hook was added, no module changed its parameters, buffers or
        submodules, and the leaves, buffers, gradients and module modes are those recorded."""
        if autograd.hooks_added() != self.hooks_seen or module_edits() != self.edits_seen:
            return False
        if not all(buffer.data is array for buffer, array in self.buffers):
            return False
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
        if not all(map(operator.is_, map(_training, modules), flags)):
            return False
        return unchanged(self.python_values)

    def check(self, env) -> None:
        """The replay's first step: raise GuardFailed unless ``valid()``."""
        if not self.valid():
            raise GuardFailed

    def emit(self, name) -> list[str]:
        """``check`` as source: one condition over the recorded objects (constants)."""
        # The count as a constant, so programs recorded at other counts share their code
        checks = [
            f"{name(autograd.hooks_added)}() == {name(self.hooks_seen)}",
            f"{name(module_edits)}() == {name(self.edits_seen)}",
        ]
        checks += [f"{name(buffer)}.data is {name(array)}" for buffer, array in self.buffers]
        for leaf, array, requires_grad in self.leaves:
            leaf_name = name(leaf)
            checks.append(f"{leaf_name}.data is {name(array)}")
            checks.append(f"{leaf_name}._requires_grad is {requires_grad}")
        checks += [f"{name(t)}.grad is {'' if none else 'not '}None" for t, none in self.grads_none]
        checks += [f"{name(module)}.training is {flag}" for module, flag in self.modules]
        for holder, key, value in self.python_values:
            if type(holder) is dict:
                read = f"{name(holder)}.get({name(key)}, {name(MISSING)})"
            elif type(holder) is list:
                read = f"{name(current)}({name(holder)}, {key!r})"
            else:
                read = f"{name(cell_value)}({name(holder)})"
            if by_identity(value):  # a tensor, module, optimizer: one comparison
                checks.append(f"{read} is {name(value)}")
            else:
                checks.append(f"{name(same)}({read}, {name(value)})")
        return [f"if not ({' and '.join(checks)}):", f"    raise {name(GuardFailed)}"]


def _set_states(mode_changes: list[tuple], flag_changes: list[tuple]) -> None:
    for module, training in mode_changes:
        object.__setattr__(module, "training", training)  # as Module.train, one module
    for param, requires_grad in flag_changes:
        param._requires_grad = requires_grad


def _gradients(leaves: list) -> list[tuple]:
    """``(leaf, its gradient, the gradient's array, a copy)`` of each leaf, for
    ``_restore_gradients``."""
    saved = []
    for leaf in leaves:
        grad = leaf.grad
        array = None if grad is None else grad.data
        saved.append((leaf, grad, array, None if array is None else array.copy()))
    return saved


def _restore_gradients(saved: list[tuple]) -> None:
    for leaf, grad, array, values in saved:
        if grad is not None:
            grad.data = array
            np.copyto(array, values)
        leaf.grad = grad


_data = operator.attrgetter("data")
_requires_grad = operator.attrgetter("_requires_grad")
_training = operator.attrgetter("training")


def _grad_is_none(tensor: Tensor) -> bool:
    return tensor.grad is None


def _kernels_of(trace: Trace) -> dict[int, Kernel]:
    """A replay kernel per recorded primitive that has one, by ctx number."""
    table = replay_kernels()
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
        foreign.update(reads_of(op, trace))
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
    kernels = {op[4]: table[op[1]](op, reusable) for op in primitives}
    _allow_overwrites(trace, kernels, reusable)
    return kernels


def _allow_overwrites(trace: Trace, kernels: dict[int, Kernel], reusable: set[int]) -> None:
    """Let a kernel that can (ReLU's) write its result over its input (``Linear`` then
    ``ReLU``: one array less per layer, and one the cache holds) when the input is a fresh
    output of another kernel that no op but this one reads (only the two ops' backwards
    read it too, and they do not use it), and neither value leaves the replay; and its
    backward write the input's gradient over the incoming one on the same terms."""
    producers = {op[5]: op[4] for op in trace.ops if op[0] == "primitive" and op[4] in kernels}
    readers: dict[int, set[int | None]] = {}  # value -> the ctx numbers of the ops reading it
    for op in trace.ops:
        ctx = op[4] if op[0] == "primitive" else op[2] if op[0] == "backward" else None
        for index in reads_of(op, trace):
            readers.setdefault(index, set()).add(ctx)
    for ctx, kernel in kernels.items():
        x = kernel.indices[0]
        if kernel.may_overwrite_input and x in producers:
            producer = kernels[producers[x]]
            kernel.overwrites_input = (
                producer.fresh_output
                and x in reusable
                and kernel.out_index in reusable
                and readers.get(x, set()) <= {ctx, producers[x]}
            )
    # The same for a backward and its incoming gradient, made by another kernel's backward.
    backwards = [op for op in trace.ops if op[0] == "backward" and op[2] in kernels]
    grad_producers = {out: op[2] for op in backwards for out in op[5] if out is not None}
    for op in backwards:
        ctx, grad, outs = op[2], op[4], op[5]
        kernel = kernels[ctx]
        if not kernel.may_overwrite_grad or grad not in grad_producers:
            continue
        kernel.overwrites_grad = (
            kernels[grad_producers[grad]].fresh_grads
            and sum(other[2] == ctx for other in backwards) == 1  # no second backward
            and grad in reusable
            and all(out is None or out in reusable for out in outs)
            and readers.get(grad, set()) <= {ctx}
        )


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
        generic = backward_step(
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


def _dead_after(trace: Trace) -> list[list[int]]:
    """For each op, the large computed values no later op (nor the result) reads."""
    last: dict[int, int] = {}
    for position, op in enumerate(trace.ops):
        for index in reads_of(op, trace):
            last[index] = position
    kept = set(_indices(trace.outputs))
    for op in trace.ops:
        if op[0] == "leaf_grads":
            kept.update(op[6])  # the gradients handed to the leaves
    dead: list[list[int]] = [[] for _ in trace.ops]
    for index, position in last.items():
        if trace.computed[index] and index not in kept and trace.sizes[index] >= FREE_BYTES:
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
    if hasattr(kind, "_fields"):  # a named tuple (tn.sort's, tn.linalg.svd's) takes fields
        return kind(*[_build(item, env) for item in payload])
    return kind(_build(item, env) for item in payload)
