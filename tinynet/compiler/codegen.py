"""The generated straight-line replay: a program's steps written out as one Python function.

After a first replay, each step that can be written as source is (a kernel's ``emit_*``
method, ``emitter`` for recorded guards, NumPy calls, writes into the caller's arrays,
optimizer calls without arguments and fresh leaf-gradient assignments); the others are
called as they are, and freed numbers become ``env[i] = None``. Constants are bound once as
globals of the generated function, and the compiled code is cached by source
(``_replay_code``), so programs that differ only in their constants (cross-validation
folds) compile once.
"""

from __future__ import annotations

import builtins
import functools
import math
import re
import threading
import types
from collections.abc import Callable, Container

import numpy as np

from tinynet.compiler.steps import GuardFailed
from tinynet.tensor import Tensor


def emitter(op: tuple, read: Container[int] = range(1 << 62)) -> Callable | None:
    """What writes a recorded guard, NumPy call, write into the caller's array (an argument,
    a parameter, a gradient) or fresh leaf-gradient assignment as source lines (the same
    work as its ``steps.compile_op`` step), else None. ``read`` holds the numbers that a
    later op or the result reads: a leaf gradient outside it is handed to its leaf without
    being kept in ``env``."""
    kind = op[0]
    if kind == "guard":
        _, predicate, indices, expected = op
        arguments = ", ".join(f"env[{index}]" for index in indices)
        return lambda name: [
            f"if bool({name(predicate)}({arguments})) is not {expected}:",
            f"    raise {name(GuardFailed)}",
        ]
    if kind == "numpy":
        _, function, indices, index = op
        arguments = ", ".join(f"env[{i}]" for i in indices)
        return lambda name: [f"env[{index}] = {name(function)}({arguments})"]
    if kind == "write":
        _, target, values, _, undo = op
        return lambda name: [
            f"env[{undo}].append((env[{target}], env[{target}].copy()))",
            f'np.copyto(env[{target}], env[{values}], casting="same_kind")',
        ]
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
            # ``_grad`` as the engine writes it: the recorded arrays have the leaves' shapes
            # and dtypes (guarded), so the ``.grad`` setter's checks are not repeated.
            lines = []
            wrap = name(Tensor.wrap)
            for leaf, index, out, copy in zip(leaves, grads, outs, copied):
                grad = f"env[{index}]" + (".copy()" if copy else "")
                if out in read:
                    lines.append(f"env[{out}] = {grad}")
                    grad = f"env[{out}]"
                lines.append(f"{name(leaf)}._grad = {wrap}({grad})")
            return lines

        return emit
    return None


def straight_line(steps: list, emitters: list, release: bool = True) -> Callable[[list], None]:
    """The steps as one Python function, written after a first replay.

    A kernel that can writes its step as source lines over the buffers the first replay
    left it (the same NumPy calls as its methods, without their lookups and branches on
    what does not change between replays: shapes, dtypes, which buffers exist); other
    steps are called as they are; freed numbers become ``env[i] = None``. ``release``
    False: nothing is freed before the end, so the locals of a step are not deleted after
    it (``del``) either.
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
            assigned = release and dict.fromkeys(_ASSIGNED.findall("\n".join(source)))
            if assigned:
                lines.append(f"    del {', '.join(assigned)}")
    lines.append("    return None")
    raw = "\n".join(lines)
    # Compiling costs ~4 us a line; steps of one model (cross-validation folds, restarts,
    # another batch size) write the same source, their constants differing only in the
    # namespace. np.exp, np.add.reduce, math.isfinite become globals too (no lookups per
    # call): the cache keeps, with the code, which of them it names, in order.
    with _replay_code_lock:
        cached = _replay_code.get(raw)
        if cached is None:
            dotted: list[str] = []

            def bind(match) -> str:
                dotted.append(match.group(0))
                return name(_numpy_attribute(match.group(0)))

            source = _NUMPY_NAME.sub(bind, raw)
            if len(_replay_code) >= _REPLAY_CODE_SIZE:
                del _replay_code[next(iter(_replay_code))]  # the oldest
            code = builtins.compile(source, _FILENAME, "exec")
            cached = _replay_code[raw] = (code, list(dict.fromkeys(dotted)))
    code, dotted = cached
    for attribute in dotted:
        name(_numpy_attribute(attribute))  # bound under the names the code was compiled with
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
_replay_code: dict[str, tuple[types.CodeType, list[str]]] = {}
_FILENAME = "<tn.compile replay>"
_replay_code_lock = threading.Lock()
