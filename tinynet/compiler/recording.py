"""The recorder: one eager call of a compiled function, as ops over numbered values.

``Trace.run`` calls the function with itself installed as the autograd trace hook
(``autograd.set_trace_hook``), so the library reports each primitive's forward
(``primitive``), each backward formula the engine calls (patched in by ``_patch_backward``),
the assignment of leaf gradients (``leaf_grads``), optimizer and scheduler calls (``call``),
NumPy work and value checks outside any op (``numpy_call``, ``guard``), in-place writes
(``inplace_write``: functionalized in the step's own tensors, replayed as writes into the
caller's arrays by ``write_through``). Every array gets a
number (``values``; ``computed`` says whether the replay makes it afresh), and ``ops`` lists
what was done to them as tuples whose first item is their kind. Reading a value
(``.item()``, ``float()``, ...) marks the trace as not replayable (``problem``).

``tn.compile`` records two calls and compares them (``same_guards``, ``difference``,
``inconclusive``); a replay program (tinynet.compiler.program) is built from the second.
"""

from __future__ import annotations

import functools
import threading
import weakref
import zlib

import numpy as np

from tinynet import autograd
from tinynet._grad_mode import grad_mode
from tinynet.compiler.kernels import replay_kernels
from tinynet.compiler.python_values import python_reads, same_reads
from tinynet.compiler.steps import FREE_BYTES
from tinynet.nn.module import Parameter, module_edits
from tinynet.tensor import Tensor

#: Tensor methods that turn values into Python data: the caller may branch on them.
_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__", "__array__")


class _Uncapturable(Exception):
    pass


def inputs(args: tuple, kwargs: dict) -> tuple | list[np.ndarray]:
    """The arrays of the arguments (in tuples and lists too), in order: the program's inputs
    (``args`` itself when they are all arrays)."""
    if not kwargs and list(map(type, args)).count(np.ndarray) == len(args):
        return args  # the common call, a batch of arrays
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


def _visible(fn, args, kwargs) -> tuple[list, list, list]:
    """Modules, gradient-requiring leaf Tensors and optimizers the function can reach: the function itself
    when it is a module, its arguments, the defaults of its parameters, closure cells,
    ``self``, the globals it names, and their attributes (one level down)."""
    from tinynet.nn.module import Module

    candidates = [*args, *kwargs.values()]
    if isinstance(fn, Module):  # tn.compile(model): the model itself
        candidates.append(fn)
    target = getattr(fn, "__func__", fn)
    candidates.append(getattr(fn, "__self__", None))
    candidates.extend(getattr(target, "__defaults__", None) or ())  # def step(x, model=model)
    candidates.extend((getattr(target, "__kwdefaults__", None) or {}).values())
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
    optimizers: dict = {}
    wanted = (Module, Tensor, list, tuple)  # one check for the many that are neither
    for candidate in [*candidates, *nested]:
        if not isinstance(candidate, wanted):
            if isinstance(getattr(candidate, "param_groups", None), list):
                optimizers[id(candidate)] = candidate
            continue
        if isinstance(candidate, Module):
            for module in candidate.modules():
                modules[id(module)] = module
                for param in module.parameters(recurse=False):
                    tensors[id(param)] = param
        elif isinstance(candidate, Tensor) and candidate._requires_grad and candidate.is_leaf:
            tensors[id(candidate)] = candidate
        elif isinstance(candidate, (list, tuple)):
            for item in candidate:
                if isinstance(item, Tensor) and item._requires_grad and item.is_leaf:
                    tensors[id(item)] = item
    return list(modules.values()), list(tensors.values()), list(optimizers.values())


class Trace:
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
        self.side_effects = False  # an optimizer or scheduler changed something
        self.grads_assigned = False  # a backward gave leaves their gradients
        self.restores_grads = False  # ... and a value check follows it
        self.patched: dict = {}
        self.sizes: list[int] = []
        self.largest = 0  # the size of the largest array, in bytes
        self.weak: list = []
        arrays = inputs(args, kwargs)
        self.inputs = [self._new(array, True, keep=True) for array in arrays]
        # The arguments are the inputs themselves (no Tensors, lists or keywords), as in
        # every call with the same guard key
        self.plain = arrays is args
        # Values the caller's objects hold (its arguments, leaves' .grad): not functionalized
        self.handed_out: set[int] = set(self.inputs)
        self._note_start(fn, args, kwargs)
        self.reset: set[int] = set()
        self.assigned: set[int] = set()  # leaves a recorded backward gave a gradient
        # Writes the replay performs on the caller's arrays (``write_through``): their op's
        # position and the numbers whose arrays share memory with the written one
        self.writes: list[tuple[int, set[int]]] = []
        self.written: list[tuple] = []  # (parameter or buffer, its array) written: guarded
        self.undo: int | None = None  # the number of the replay's log of overwritten values
        # id(parameter) -> (parameter, its fingerprint after the last recorded step)
        self.stepped: dict[int, tuple] = {}
        self.outputs = None

    def _note_start(self, fn, args, kwargs) -> None:
        """What the guards compare and a replay restores: the state of everything the
        function can see (modules, leaves, optimizers, Python values) when the call began."""
        self.hooks_seen = autograd.hooks_added()  # before the call: a hook added during it counts
        self.edits_seen = module_edits()  # a layer swapped or a setting changed since
        self.modules, self.tensors, optimizers = _visible(fn, args, kwargs)
        # Their parameter groups' hyper-parameters as recorded calls left them: the call's
        # Python writing one between them (group["lr"] = lr) makes it run eagerly
        self.hyper = {id(obj): (obj, _hyper(obj)) for obj in optimizers}
        # Numbers and strings it reads from globals, closure cells, attributes: guarded
        self.python_values = python_reads(fn)
        self.held = {id(value) for _, _, value in self.python_values if isinstance(value, Tensor)}
        # Buffers by array (running statistics): a new array (load_state_dict) records again.
        self.buffers = [
            (tensor, tensor.data)
            for module in self.modules
            for _, tensor in module.named_buffers(recurse=False)
            if tensor is not None
        ]
        self.training = [module.training for module in self.modules]
        # requires_grad of their parameters when the call began (the guards' values; the
        # call may freeze some: a GAN's discriminator during the generator's loss)
        self.start_flags = {
            id(param): (param, param._requires_grad)
            for module in self.modules
            for param in module.parameters(recurse=False)
        }
        # Modes and flags the call left changed: a replay sets them as the call did
        self.mode_changes: list[tuple] = []
        self.flag_changes: list[tuple] = []
        # Which gradients were None when the call began: a replay starts from the same state,
        # except for those an optimizer's zero_grad() cleared before any backward assigned
        # them (``reset``): their state at the start changes nothing.
        self.grads_none = [tensor.grad is None for tensor in self.tensors]
        self.start_grads = {
            id(param): (param.grad, param.grad.data)
            for module in self.modules
            for param in module.parameters(recurse=False)
            if param.grad is not None
        }

    # numbering ---------------------------------------------------------------------------
    def _new(self, value, computed: bool, keep: bool = False) -> int:
        index = len(self.values)
        self.computed.append(computed)
        if isinstance(value, np.ndarray):
            nbytes = value.nbytes
            self.sizes.append(nbytes)
            if nbytes > self.largest:
                self.largest = nbytes
            key = id(value)
            self.index_of[key] = index
            if computed and not keep:
                # Held weakly, as the eager engine would free it: when it dies, so does its
                # number (a new array may get the same id).
                value = weakref.ref(value, functools.partial(self._forget, key, index))
                self.weak.append(value)
                value = None
        else:
            self.sizes.append(FREE_BYTES)
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
    def untraceable(self, reason: str) -> None:
        """The function runs Python a replay would skip (a module's forward hook): eager."""
        if self.depth or threading.get_ident() != self.thread:
            return
        self.fail(reason)

    def module_edited(self) -> None:
        """This thread assigned a module's attribute, parameter, buffer or submodule during
        the call: a replay would not repeat it, so the function runs eagerly. (Another
        thread's edits only move ``module_edits()``, and the program records again.)"""
        if threading.get_ident() != self.thread:
            return
        self.fail(
            "a module's attribute, parameter, buffer or submodule was assigned during the "
            "call, which a replay would not repeat (self.count = self.count + 1 assigns a "
            "new tensor: write self.count.add_(1) or self.count += 1)"
        )

    def inplace_write(self, writer: str, array: np.ndarray, values: np.ndarray) -> None:
        """``array`` (a tensor's memory) was overwritten with ``values`` (``x.relu_()``,
        ``x += 1``, ``x[i] = v``), both computed by recorded ops.

        A write into the step's own intermediate is not replayed as a write: from here on
        the array stands for the value ``values`` has, as if the step had been written out of
        place (PyTorch's functionalization), and views of it recorded earlier are forgotten,
        so reading them again views the new value (``_ref`` finds it through the view's
        base). The eager engine gave the op's node a copy of the old values, which the replay
        keeps under the old number. A write into an array the caller sees (an argument, a
        parameter or buffer, a gradient) is replayed as the same write (``write_through``).
        Anything else (a tensor made outside the step, a view the replay cannot take again)
        makes the function run eagerly.
        """
        if self.depth or threading.get_ident() != self.thread:
            return
        index = self.index_of.get(id(array))
        new = self.index_of.get(id(values))
        if (
            index is None
            or new is None
            or not (self.computed[index] and self.computed[new])
            or index in self.handed_out
            or array.base is not None
            or values.shape != array.shape
            or values.dtype != array.dtype
            or np.may_share_memory(values, array)
        ):
            self.write_through(writer, array, array, values)
            return
        for ref in self.weak:  # views of the array (a reshape's result, a slice) forget it
            other = ref()
            if other is not None and other is not array and np.may_share_memory(other, array):
                self.index_of.pop(id(other), None)
        self.index_of[id(array)] = new
        # The array's number is now ``new``: forget it with the array (its id may be reused).
        self.weak.append(weakref.ref(array, functools.partial(self._forget, id(array), new)))

    def write_through(
        self, writer: str, target: np.ndarray, owner: np.ndarray, values: np.ndarray
    ) -> None:
        """``values`` were written into ``target``, which is ``owner`` or a view of it, and
        ``owner`` is an array the caller sees: an argument, a parameter or buffer of a module
        the step can see, a gradient a recorded backward assigned (PyTorch's compile mutates
        them too). The replay makes the same call on the same array, in the same place
        (``np.copyto(target, values, casting="same_kind")``, what the eager write did), after
        copying what it overwrites into a log (``undo``) from which a replay stopped by a
        failed check restores it; it checks at each call that a written parameter or buffer
        still has that array. Else, or when ``values`` were not computed by recorded ops,
        the function runs eagerly. ``finish_writes`` refuses a write whose old values a
        recorded op still reads.
        """
        new = self.index_of.get(id(values))
        seen = self._seen_by_caller(owner)
        if seen is None and any(
            tensor.grad is not None and tensor.grad.data is owner for tensor in self.tensors
        ):
            self.fail(
                f"it writes in place ({writer}) a gradient that no backward of this call "
                "computed; clear gradients with optimizer.zero_grad() (or p.grad = None) "
                "instead, or write them after backward()"
            )
            return
        if seen is None:
            self.fail(
                f"it writes a tensor in place ({writer}) that a replay cannot write again: a "
                "view it cannot take again, or a tensor made outside the step or from a NumPy "
                "array (tn.Tensor(np.zeros(...))) rather than by tn.zeros, tn.empty, tn.full, "
                "tn.tensor, ... in the step; create it in the step with those, or use the "
                "out-of-place form (x = x.relu(), x = x + 1)"
            )
            return
        if new is None or not self.computed[new]:
            self.fail(
                f"it writes a tensor in place ({writer}) with values made outside recorded ops "
                "(NumPy), which a replay cannot compute; write values computed by tinynet"
            )
            return
        owner_index = self.index_of.get(id(owner))
        known = self.index_of.get(id(target))
        if target is owner or owner_index is None or not self.computed[owner_index]:
            index = self._ref(target)
        elif known is not None and self.computed[known]:
            index = known  # a view an op made (x[:, 0]), made again by each replay
        else:  # a view of an argument or a gradient: taken again from it at each replay
            index = self._view(target, owner, owner_index)
        if seen is not True:
            self.written.append((seen, owner))
        if self.undo is None:
            # The replay's log of the values it overwrote: a check that fails later in the
            # replay restores them before the call runs eagerly (else it would write twice).
            self.undo = self._new(None, True)
        self.ops.append(("write", index, new, writer, self.undo))
        self.writes.append((len(self.ops) - 1, self._sharing(owner)))

    def _seen_by_caller(self, array: np.ndarray):
        """True for an argument's or a gradient's array, the parameter or buffer whose array
        it is, or None."""
        index = self.index_of.get(id(array))
        if index is not None and index in self.handed_out:
            return True
        if index is not None and self.computed[index]:
            return None  # the step's own intermediate
        for module in self.modules:
            for _, tensor in (
                *module.named_parameters(recurse=False),
                *module.named_buffers(recurse=False),
            ):
                if tensor is not None and tensor.data is array:
                    return tensor
        return next((tensor for tensor in self.tensors if tensor.data is array), None)

    def _sharing(self, array: np.ndarray) -> set[int]:
        """The numbers of the recorded arrays that may share memory with ``array``."""
        numbers = {
            index
            for index, value in enumerate(self.values)
            if isinstance(value, np.ndarray) and np.may_share_memory(value, array)
        }
        for ref in self.weak:
            other = ref()
            if other is not None and np.may_share_memory(other, array):
                index = self.index_of.get(id(other))
                if index is not None:
                    numbers.add(index)
        return numbers

    def finish_writes(self) -> None:
        """Refuse writes into the caller's arrays that the replay could not redo exactly: a
        gradient formula recorded before the write reads the written memory (eagerly it
        reads a copy of the old values, or raises), or a later op reads it through the
        result of a replay kernel or a gradient (kernels may keep their results in buffers
        of their own). The other ops replay by calling the same functions on the same
        arrays, so their views of the written array are views again."""
        if not self.writes:
            return
        kernels = replay_kernels()
        made_apart = {op[5] for op in self.ops if op[0] == "primitive" and op[1] in kernels}
        made_apart.update(
            out for op in self.ops if op[0] == "backward" for out in op[5] if out is not None
        )
        for position, sharing in self.writes:
            writer = self.ops[position][3]
            before = {op[4] for op in self.ops[:position] if op[0] == "primitive"}
            indirect = sharing & made_apart
            for op in self.ops[position + 1 :]:
                reads = set(reads_of(op, self))
                if op[0] == "backward" and op[2] in before and reads & sharing:
                    self.fail(
                        f"it writes a tensor in place ({writer}) that the caller sees (an "
                        f"argument, a parameter, a gradient) whose old values {op[1].__name__}'s "
                        "gradient formula reads; write a copy (x = x * w) or write after "
                        "backward()"
                    )
                elif reads & indirect:
                    self.fail(
                        f"it writes a tensor in place ({writer}) that the caller sees (an "
                        "argument, a parameter, a gradient) and reads it afterwards through a "
                        "result computed before the write; compute that again after the write"
                    )

    def inplace_view_write(
        self, writer: str, view: np.ndarray, values: np.ndarray, base: np.ndarray, old: np.ndarray
    ) -> None:
        """``view``, a view of ``base`` (a tensor's memory), was overwritten with ``values``
        (``h[:, 0].mul_(2)``, ``nn.Flatten()`` then ``nn.ReLU(inplace=True)``); ``old``, a
        recorded copy of ``base`` made before, holds its old values.

        A ``base`` the caller sees (an argument, a parameter) is written again by the replay
        (``write_through``). Else the write is recorded as a plain write of the whole base
        (``inplace_write``): its new value is ``old`` with the view's elements replaced as
        the eager write replaced them (the same cast and broadcast, bit for bit), and views
        of ``base`` read it from then on. Only a C-contiguous ``base`` with memory of its
        own, whose views the replay can take again from its new value, and ``values``
        computed by recorded ops: else the function runs eagerly, as for any write into a
        view.
        """
        if self.depth or threading.get_ident() != self.thread:
            return
        if self._seen_by_caller(base) is not None:
            self.write_through(writer, view, base, values)
            return
        values_index, old_index = self.index_of.get(id(values)), self.index_of.get(id(old))
        if (
            values_index is None
            or old_index is None
            or not (self.computed[values_index] and self.computed[old_index])
            or base.base is not None
            or not base.flags.c_contiguous
        ):
            self.inplace_write(writer, view, values)  # refused: a write into a view
            return
        offset = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        where = (view.shape, view.dtype, view.strides, offset)
        whole = _overwritten(old, values, where)
        self.numpy_call(_overwritten, (old, values, where), whole)
        self.inplace_write(writer, base, whole)

    def primitive(self, cls, ctx, args, out) -> None:
        if self.depth or threading.get_ident() != self.thread:
            return
        indices = []
        kinds: list[bool | None] = []
        for arg in args:
            if isinstance(arg, Tensor):
                array = arg.data
                index = self._ref(array)
                if arg._node is None and (
                    arg._requires_grad
                    or (
                        not self.computed[index]
                        and (isinstance(arg, Parameter) or id(arg) in self.held)
                    )
                ):
                    # A leaf, guarded by array and requires_grad: also a frozen parameter
                    # or a tensor read from the function's globals, closure or attributes
                    # (unfrozen, or given a new array, it records again)
                    start = self.start_flags.get(id(arg), (arg, arg._requires_grad))[1]
                    self.leaves.setdefault(id(arg), (arg, array, start))
                indices.append(index)
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
        self.grads_assigned = True
        # Which gradients the engine copied (views, arrays handed out twice): the same ones
        # at every replay, since the same functions make the same arrays.
        copied = tuple(leaf.grad.data is not grad.data for leaf, grad in entries)
        outs = tuple(self._new(leaf.grad.data, True) for leaf in leaves)
        self.handed_out.update(outs)
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
            if (
                isinstance(grad, Tensor)
                and id(grad.data) not in self.index_of
                # the caller's gradient, untouched since the call began, or zeroed in place
                # by zero_grad(set_to_none=False) (a frozen parameter's): read live by the
                # replayed step, as eagerly
                and not _same_pair(self.start_grads.get(id(param)), grad)
            ):
                self.fail(
                    f"{type(obj).__name__}.{method.__name__} reads a gradient that was not "
                    "computed by a recorded backward in this call"
                )
        self._group_writes()
        result = self._call_unrecorded(method, obj, *args, **kwargs)
        if isinstance(getattr(obj, "param_groups", None), list):
            self.hyper.setdefault(id(obj), (obj, None))
        for key, (target, _) in self.hyper.items():  # what the recorded call left
            self.hyper[key] = (target, _hyper(target))
        for param in _parameters_of(obj) if method.__name__ == "step" else ():
            self.stepped[id(param)] = (param, _fingerprint(param.data))
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

    def _group_writes(self) -> None:
        """The call's Python wrote a hyper-parameter into a parameter group since the last
        recorded call (``group["lr"] = lr``): a replay would not repeat it, so the function
        runs eagerly. (Written between calls, outside the function, a hyper-parameter takes
        effect at the next replay: the optimizer's step reads it live.)"""
        for obj, before in self.hyper.values():
            if before is None:
                continue
            for group, (recorded, keys) in zip(obj.param_groups, before):
                changed = [
                    key
                    for key, value in keys.items()
                    if key not in group or not same_value(group[key], value)
                ]
                if group is not recorded or len(group) != len(keys) + 1 or changed:
                    name = repr(changed[0]) if changed else "..."
                    self.fail(
                        f"it writes an optimizer's hyper-parameter (group[{name}] = ...), "
                        "which a replay would not repeat: set it outside the compiled "
                        "function, between calls (a replay reads it then), or with a "
                        "scheduler"
                    )
                    return

    def numpy_call(self, function, args, out) -> None:
        if self.depth or threading.get_ident() != self.thread:
            return
        if isinstance(out, (np.generic, int, float, complex)):
            # A number (a ufunc on 0-d arrays gives a NumPy scalar) is not followed by later
            # ops: what they make of it would be a constant of the program. Library code wraps
            # the function in tinynet.ops._args.as_array; the rest runs eagerly, never stale.
            name = getattr(function, "__name__", repr(function))
            self.fail(f"the traced call {name} gave a {type(out).__name__}, not an array")
        indices = tuple(
            self._ref(arg) if isinstance(arg, np.ndarray) else self._new(arg, False) for arg in args
        )
        index = self._new(out, True)
        self.ops.append(("numpy", function, indices, index))

    def guard(self, predicate, args, result: bool) -> None:
        if self.depth or threading.get_ident() != self.thread:
            return
        if self.side_effects:
            self.fail("a value is checked after parameters were updated (optimizer.step())")
        # A check after a backward (a second loss): a replay it stops first gives the
        # gradients back as they were, so the eager call that follows assigns them once.
        self.restores_grads |= self.grads_assigned
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
            elif isinstance(grad, Tensor) and type(grad.data) is np.ndarray:
                outs.append(self._new(grad.data, True))
            elif isinstance(grad, Tensor):  # a NumPy scalar: what reads it would not be seen
                self.fail(f"{cls.__name__}.backward returned a Tensor of a NumPy scalar")
                outs.append(None)
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
            setattr(Tensor, name, _reading(name, method))
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
        self._group_writes()
        self.finish_writes()
        self._check_buffers(watched)
        self.start_grads = {}  # a program keeps its recording: not the gradients of then
        self.mode_changes = [
            (module, module.training)
            for module, flag in zip(self.modules, self.training)
            if module.training is not flag
        ]
        self.flag_changes = [
            (param, param._requires_grad)
            for param, flag in self.start_flags.values()
            if param._requires_grad is not flag
        ]
        self.start_flags = {}
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
        # Arrays a recorded NumPy call was given (running statistics it updates in place)
        written = {
            id(self.values[index])
            for op in self.ops
            if op[0] == "numpy"
            for index in op[2]
            if not self.computed[index]
        }
        written.update(id(array) for _, array in self.written)  # replayed writes
        for module_name, name, tensor, before in watched:
            if id(tensor) in stepped or id(tensor.data) in written:
                continue
            if _fingerprint(tensor.data) == before:
                continue
            self.fail(
                f"{module_name}.{name} was changed in place by NumPy code that is not "
                "recorded (batch norm's running statistics in training mode?)"
            )
        # A parameter the optimizer stepped must keep what the step wrote: an edit of its
        # NumPy array afterwards (np.clip(p.data, -c, c, out=p.data)) is not recorded.
        for param, after in self.stepped.values():
            if id(param.data) not in written and _fingerprint(param.data) != after:
                self.fail(
                    f"a parameter of shape {param.shape} was changed in place after "
                    "optimizer.step() by NumPy code that is not recorded (p.data edited "
                    "directly?): write it with tinynet's in-place ops under tn.no_grad(), "
                    "p.clamp_(-c, c)"
                )
                break

    def _spec(self, value):
        if isinstance(value, Tensor):
            if self.leaves.get(id(value), (None, None, False))[2]:
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

    def forget_inputs(self) -> None:
        """Let go of the call's arguments: a program keeps its recording to compare later
        recordings with, not the batch it was recorded on."""
        for index in self.inputs:
            self.values[index] = None
        self.index_of = {}

    # comparing two calls -------------------------------------------------------------------
    def same_guards(self, other: Trace) -> bool:
        """True when ``other`` ran under the same module modes, parameter arrays and Python
        values read from outside the arguments."""
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
            and same_reads(self.python_values, other.python_values)
        )

    def grads_that_matter(self) -> list[tuple]:
        """``(tensor, its gradient was None)`` at the start, for gradients not reset."""
        return [
            (tensor, none)
            for tensor, none in zip(self.tensors, self.grads_none)
            if id(tensor) not in self.reset
        ]

    def inconclusive(self, other: Trace) -> bool:
        """True when both calls had equal inputs and made some constant array afresh."""
        same_inputs = all(
            same_value(self.values[index], other.values[index]) for index in self.inputs
        )
        return same_inputs and any(
            isinstance(a, np.ndarray) and a is not b
            for a, b, computed in zip(self.values, other.values, self.computed)
            if not computed
        )

    def difference(self, other: Trace) -> str | None:
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
            if not self.computed[index] and not same_value(a, b):
                for op in self.ops:  # a check's own expectation (a mask's count) changed
                    if op[0] == "guard" and index in op[2] and hasattr(op[1], "changed"):
                        return str(op[1].changed)
                return (
                    "a value it uses changed between calls without coming from its arguments "
                    "(a random mask drawn inside, such as dropout's, or data read from outside): "
                    "pass such values as arguments"
                )
        if not same_value(self.outputs, other.outputs):
            return "it returned different things in its two first calls"
        return None


def reads_of(op: tuple, trace: Trace) -> tuple:
    """The numbers a recorded op reads (a backward: its forward's inputs and output too)."""
    kind = op[0]
    if kind in ("primitive", "numpy", "guard"):
        return op[2]
    if kind == "backward":
        forward_op = trace.forward_of[op[2]]
        return (op[2], op[4], *forward_op[2], forward_op[5])
    if kind == "leaf_grads":
        return (*op[3], *op[4])
    if kind == "view":
        return (op[1],)
    if kind == "pack":
        return op[1]
    if kind == "write":
        return op[1:3]
    return ()


def _overwritten(old: np.ndarray, values: np.ndarray, where: tuple) -> np.ndarray:
    """A C-ordered copy of ``old`` whose elements at ``where`` (the shape, dtype, strides
    and byte offset of a view) are ``values``, cast and broadcast as an in-place write does."""
    new = old.copy()
    shape, dtype, strides, offset = where
    target = np.ndarray(shape, dtype, buffer=new, offset=offset, strides=strides)
    np.copyto(target, values, casting="same_kind")
    return new


def _same_op(a: tuple, b: tuple) -> bool:
    if a[0] == "call":
        return a[1] is b[1] and a[2] is b[2] and same_value((a[3], a[4]), (b[3], b[4]))
    if a[0] == "leaf_grads":
        return (
            all(x is y for x, y in zip(a[2], b[2]))
            and a[3:7] == b[3:7]
            and len(a[7]) == len(b[7])
            and all(x is y for x, y in zip(a[7], b[7]))
            and a[8] == b[8]
        )
    if a[0] in ("view", "guard", "pack", "numpy", "write"):
        return a == b
    return a[1] is b[1] and a[2:] == b[2:]


def same_value(a: object, b: object) -> bool:
    """True when ``a`` and ``b`` are equal as a replay would use them: arrays of the same
    shape, dtype, strides and values (NaNs equal), containers item by item, no Tensors."""
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
        return type(a) is type(b) and len(a) == len(b) and all(map(same_value, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return False
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


@functools.cache
def _reading(name: str, method):
    """``method`` (Tensor's ``name``) made to fail the recording that runs it: installed on
    Tensor while a Trace runs; one wrapper per method, made once."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        trace = autograd.trace_hook()
        if isinstance(trace, Trace) and not trace.depth and threading.get_ident() == trace.thread:
            label = name if name.startswith("__") else f".{name}()"
            trace.fail(f"it reads a value ({label}), so the step may depend on it")
        return method(self, *args, **kwargs)

    return wrapper


def _hyper(obj) -> list[tuple]:
    """``(group, its entries but the parameters)`` of each of ``obj``'s parameter groups."""
    return [
        (group, {key: value for key, value in group.items() if key != "params"})
        for group in obj.param_groups
    ]


def _same_pair(start: tuple | None, grad: Tensor) -> bool:
    """``grad`` is the gradient ``start`` recorded, with the same array."""
    return start is not None and start[0] is grad and start[1] is grad.data


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
