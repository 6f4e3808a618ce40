"""Module hooks, as PyTorch's: forward pre-hooks and hooks, full backward pre-hooks and hooks.

A module's hooks live in one ``ModuleHooks`` made by its first registration; ``Module.__call__``
hands the call to it while it exists. Forward hooks run around ``forward``. Backward hooks
see the gradients of the module's outputs and of its positional Tensor inputs, through
tensor hooks (``Tensor.register_hook``) on the outputs and on an exact copy of each input
(``x * 1``, which PyTorch's ``BackwardHookFunction`` plays): the backward pre-hooks when the
outputs' gradients are complete (they may replace them), the backward hooks when the inputs'
are (they may replace them for a module with one Tensor input needing a gradient).

A ``tn.compile``d function that runs a module hook runs eagerly: a replay would skip the
Python (``Trace.untraceable``); a program notices hooks added after it
(``autograd.hooks_added``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from tinynet.autograd import RemovableHandle, note_hook_added, trace_hook
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
            backward.watch(output)
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
    """One call's backward hooks: the gradients of its outputs and inputs as they arrive
    (again at each backward through a retained graph)."""

    def __init__(self, module, hooks: ModuleHooks, args: tuple) -> None:
        self.module, self.hooks = module, hooks
        self.n_inputs = len(args)
        inputs = list(args)
        self.watched = [
            i for i, arg in enumerate(args) if isinstance(arg, Tensor) and arg.requires_grad
        ]
        for i in self.watched:  # an exact copy with its own node, whose gradient is input i's
            inputs[i] = args[i] * 1
            inputs[i].register_hook(functools.partial(self._input_gradient, i))
        self.inputs = tuple(inputs)
        self.n_outputs = self.n_watched_outputs = 0
        self._reset()

    def _reset(self) -> None:
        self.grad_input: list = [None] * self.n_inputs
        self.grad_output: list = [None] * self.n_outputs
        self.outputs_seen = 0
        self.inputs_waiting = set(self.watched)

    def watch(self, output) -> None:
        outputs = output if isinstance(output, tuple) else (output,)
        self.n_outputs = len(outputs)
        self.grad_output = [None] * self.n_outputs
        for j, value in enumerate(outputs):
            if isinstance(value, Tensor) and value.requires_grad:
                self.n_watched_outputs += 1
                value.register_hook(functools.partial(self._output_gradient, j))

    def _output_gradient(self, j: int, grad: Tensor) -> Tensor | None:
        self.grad_output[j] = grad
        self.outputs_seen += 1
        if self.outputs_seen < self.n_watched_outputs:
            return None
        for hook, _, _ in tuple(self.hooks.backward_pre):
            result = hook(self.module, tuple(self.grad_output))
            if result is not None:
                self.grad_output = _checked(result, self.n_outputs, "grad_output")
        replaced = self.grad_output[j]
        if not self.watched:  # no input needs a gradient: the hooks run now, with None
            self._run_backward_hooks()
        return replaced if replaced is not grad else None

    def _input_gradient(self, i: int, grad: Tensor) -> Tensor | None:
        self.grad_input[i] = grad
        self.inputs_waiting.discard(i)
        if self.inputs_waiting:
            return None
        replaced = self._run_backward_hooks()
        return replaced[i] if replaced is not None else None

    def _run_backward_hooks(self) -> list | None:
        replaced = None
        for hook, _, _ in tuple(self.hooks.backward):
            result = hook(self.module, tuple(self.grad_input), tuple(self.grad_output))
            if result is not None:
                if len(self.watched) > 1:
                    raise NotImplementedError(
                        f"a backward hook of {type(self.module).__name__} returned new input "
                        "gradients, which tinynet applies only to a module with one Tensor "
                        "input needing a gradient; return None and change them another way"
                    )
                replaced = self.grad_input = _checked(result, self.n_inputs, "grad_input")
        self._reset()
        return replaced


def _checked(result: Any, count: int, name: str) -> list:
    result = list(result) if isinstance(result, (tuple, list)) else [result]
    if len(result) != count:
        raise RuntimeError(
            f"Backward hook returned an invalid number of {name}, got {len(result)}, but "
            f"expected {count}"
        )
    return result
