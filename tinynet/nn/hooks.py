"""Module hooks, as PyTorch's: forward pre-hooks and hooks, full backward pre-hooks and hooks.

A module's hooks live in one ``ModuleHooks`` made by its first registration; ``Module.__call__``
hands the call to it while it exists. Forward hooks run around ``forward``. Backward hooks
see the gradients of the module's outputs and of its positional Tensor inputs as PyTorch's
``BackwardHook`` does: the Tensors needing a gradient among the inputs pass through one
node and reach ``forward`` as exact copies, the outputs likewise on their way out, and a
tensor hook on each node sees all the gradients at once. The backward pre-hooks run when
the outputs' gradients are complete, the backward hooks when the inputs' are; a tuple
either returns replaces all of them.

A ``tn.compile``d function that runs a module hook runs eagerly: a replay would skip the
Python (``Trace.untraceable``); a program notices hooks added after it
(``autograd.hooks_added``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from tinynet._grad_mode import is_grad_enabled
from tinynet.autograd import Function, RemovableHandle, note_hook_added, trace_hook
from tinynet.ops.movement import concatenate, pad
from tinynet.tensor import Tensor

__all__ = ["ModuleHooks"]


class ModuleHooks:
    """A module's hooks: ``(hook, with_kwargs, always_call)`` entries per kind."""

    def __init__(self) -> None:
        self.forward_pre: list = []
        self.forward: list = []
        self.backward_pre: list = []
        self.backward: list = []

    def add(
        self, kind: str, hook: Callable, prepend: bool = False, with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:  # fmt: skip
        if not callable(hook):
            raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
        entry = (hook, with_kwargs, always_call)
        hooks = getattr(self, kind)
        hooks.insert(0, entry) if prepend else hooks.append(entry)
        note_hook_added()
        return RemovableHandle(hooks, entry)

    def __bool__(self) -> bool:
        return bool(self.forward_pre or self.forward or self.backward_pre or self.backward)

    def call(self, module, args: tuple, kwargs: dict):
        """``module(*args, **kwargs)`` with its hooks."""
        recorder = trace_hook()
        if recorder is not None and self:
            recorder.untraceable(
                f"{type(module).__name__} has a hook (register_forward_hook or a backward "
                "hook), Python that a replay would not run"
            )
        args, kwargs = self._before(module, args, kwargs)
        backward = _BackwardCall(module, self, args) if self.backward or self.backward_pre else None
        if backward is not None:
            args = backward.inputs
        try:
            output = module.forward(*args, **kwargs)
        except BaseException:
            for hook, with_kwargs, always in tuple(self.forward):
                if always:
                    hook(module, args, kwargs, None) if with_kwargs else hook(module, args, None)
            raise
        for hook, with_kwargs, _ in tuple(self.forward):
            result = (
                hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
            )
            if result is not None:
                output = result
        if backward is not None:
            output = backward.watch(output)
        return output

    def _before(self, module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        for hook, with_kwargs, _ in tuple(self.forward_pre):
            if with_kwargs:
                result = hook(module, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, "
                            f"new_kwargs), but got {result}."
                        )
                    args, kwargs = result
            else:
                result = hook(module, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        return args, kwargs


class _BackwardCall:
    """One call's backward hooks. The Tensors needing a gradient among its inputs, and among
    its outputs, each pass through one node (``_Pack``) and come out as exact copies
    (``_Unpack``): the tensor hook on that node sees all their gradients at once, complete,
    and may replace them together (again at each backward through a retained graph)."""

    def __init__(self, module, hooks: ModuleHooks, args: tuple) -> None:
        self.module, self.hooks = module, hooks
        self.n_inputs, self.n_outputs = len(args), 0
        self.input_index, self.inputs = _through_one_node(args, self._inputs_ready)
        self.input_like = _shapes_and_dtypes(args, self.input_index)
        self.output_index: list = []
        self.output_like: list = []
        self.outputs_seen: set = set()
        # The outputs' gradients of the backward under way, from the outputs' node to the
        # inputs' (None between backward passes).
        self.grad_output: tuple | None = None

    def watch(self, output):
        """``output`` with its Tensors needing a gradient passed through one hooked node."""
        outputs = output if isinstance(output, tuple) else (output,)
        self.n_outputs = len(outputs)
        self.output_index, hooked = _through_one_node(outputs, self._outputs_ready)
        self.output_like = _shapes_and_dtypes(outputs, self.output_index)
        for j in self.output_index:
            hooked[j].register_hook(functools.partial(self._output_seen, j))
        return hooked if isinstance(output, tuple) else hooked[0]

    def _output_seen(self, j: int, grad: Tensor) -> None:
        self.outputs_seen.add(j)  # an output no gradient reached gets None, as PyTorch's

    def _outputs_ready(self, grad: Tensor) -> Tensor | None:
        grad_output = _split(grad, self.output_index, self.output_like, self.n_outputs)
        for j in self.output_index:
            if j not in self.outputs_seen:
                grad_output[j] = None
        self.outputs_seen.clear()
        replaced = False
        for hook, _, _ in tuple(self.hooks.backward_pre):
            result = hook(self.module, tuple(grad_output))
            if result is not None:
                grad_output = _checked(result, self.n_outputs, "Backward pre hook", "grad_output")
                replaced = True
        self.grad_output = tuple(grad_output)
        if not self.input_index:  # no input needs a gradient: the hooks run now, with None
            self._run_backward_hooks_without_inputs()
        if not replaced:
            return None
        return _join(grad_output, self.output_index, self.output_like, "grad_output", self.module)

    def _inputs_ready(self, grad: Tensor) -> Tensor | None:
        if self.grad_output is None:
            # The gradient reached the inputs without passing the outputs (a second-order
            # backward through the first one's graph): PyTorch runs no hook then either.
            return None
        grad_output, self.grad_output = self.grad_output, None
        grad_input = _split(grad, self.input_index, self.input_like, self.n_inputs)
        replaced = False
        for hook, _, _ in tuple(self.hooks.backward):
            result = hook(self.module, tuple(grad_input), grad_output)
            if result is not None:
                grad_input = _checked(result, self.n_inputs, "Backward hook", "grad_input")
                replaced = True
        if not replaced:
            return None
        return _join(grad_input, self.input_index, self.input_like, "grad_input", self.module)

    def _run_backward_hooks_without_inputs(self) -> None:
        grad_input = (None,) * self.n_inputs
        for hook, _, _ in tuple(self.hooks.backward):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None and not (
                isinstance(result, tuple) and all(value is None for value in result)
            ):
                raise RuntimeError(
                    "Backward hook for Modules where no input requires gradient should always "
                    "return None or None for all gradients."
                )
        self.grad_output = None


class _Pack(Function):
    """Tensors as one flat array of their common dtype: one node, whose gradient holds
    all of theirs (PyTorch's ``BackwardHookFunction`` is one node with several outputs,
    which tinynet's engine does not have)."""

    @staticmethod
    def forward(ctx, *arrays):
        ctx.shapes = [array.shape for array in arrays]
        ctx.bounds = _bounds(arrays)
        return np.concatenate([array.reshape(-1) for array in arrays])

    @staticmethod
    def backward(ctx, grad_output):
        bounds = ctx.bounds
        return tuple(
            grad_output[int(bounds[k]) : int(bounds[k + 1])].reshape(shape)
            for k, shape in enumerate(ctx.shapes)
        )


class _Unpack(Function):
    """``packed[start:stop]`` as a new array of ``shape`` and ``dtype``: an exact copy of
    one Tensor that went into ``_Pack`` (a copy, not a view, so an in-place write to it
    leaves the others' graph alone)."""

    @staticmethod
    def forward(ctx, packed, start, stop, shape, dtype):
        ctx.widths = ((start, packed.shape[0] - stop),)
        return packed[start:stop].reshape(shape).astype(dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return pad(grad_output.reshape(-1), ctx.widths)


def _bounds(arrays) -> np.ndarray:
    return np.cumsum([0] + [array.size for array in arrays])


def _through_one_node(values: tuple, hook: Callable) -> tuple[list, tuple]:
    """The positions of the Tensors in ``values`` that need a gradient, and ``values`` with
    those replaced by copies made through one ``_Pack`` node whose gradient goes to ``hook``
    (nothing to do when none needs one or grad mode is off)."""
    index = [
        i for i, value in enumerate(values) if isinstance(value, Tensor) and value.requires_grad
    ]
    if not index or not is_grad_enabled():
        return [], values
    tensors = [values[i] for i in index]
    packed = _Pack.apply(*tensors)
    packed.register_hook(hook)
    bounds = _bounds([tensor.data for tensor in tensors])
    copies = list(values)
    for k, (i, tensor) in enumerate(zip(index, tensors)):
        start, stop = int(bounds[k]), int(bounds[k + 1])
        copies[i] = _Unpack.apply(packed, start, stop, tensor.data.shape, tensor.data.dtype)
    return index, tuple(copies)


def _shapes_and_dtypes(values: tuple, index: list) -> list:
    """What ``_split`` and ``_join`` need of the Tensors at ``index`` (not the Tensors)."""
    return [(values[i].data.shape, values[i].data.dtype) for i in index]


def _split(grad: Tensor, index: list, like: list, count: int) -> list:
    """A ``_Pack`` node's gradient as one entry per value (None where none passed through);
    ``like``: the shape and dtype of each value that did."""
    result: list = [None] * count
    bounds = np.cumsum([0] + [int(np.prod(shape)) for shape, _ in like])
    for k, (i, (shape, dtype)) in enumerate(zip(index, like)):
        piece = grad[int(bounds[k]) : int(bounds[k + 1])].reshape(shape)
        result[i] = piece if piece.data.dtype == dtype else piece.astype(dtype)
    return result


def _join(gradients: list, index: list, like: list, name: str, module) -> Tensor:
    """What hooks returned, as a ``_Pack`` node's gradient: the entries of the Tensors
    that passed through it, flat (None: zeros, where PyTorch would pass no gradient)."""
    pieces = []
    for i, (shape, dtype) in zip(index, like):
        value = gradients[i]
        if value is None:
            value = Tensor(np.zeros(shape, dtype))
        elif not isinstance(value, Tensor):
            raise TypeError(
                f"a backward hook of {type(module).__name__} returned a {type(value).__name__} "
                f"in {name}[{i}]: return Tensors (or None)"
            )
        elif value.data.shape != shape:
            raise RuntimeError(
                f"a backward hook of {type(module).__name__} returned {name}[{i}] of shape "
                f"{tuple(value.shape)}, but the gradient of that value has shape {shape}"
            )
        pieces.append(value.reshape(-1))
    return concatenate(pieces)


def _checked(result: Any, count: int, who: str, name: str) -> list:
    result = list(result) if isinstance(result, (tuple, list)) else [result]
    if len(result) != count:
        raise RuntimeError(
            f"{who} returned an invalid number of {name}, got {len(result)}, but expected {count}"
        )
    return result
