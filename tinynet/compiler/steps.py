"""The generic replay steps: each recorded op as a closure over the replay's list of values.

A step takes ``env`` (every value by its number, as the recorder numbered them) and does
what the op did when recorded, by calling the very same functions on the same arrays: a
primitive's ``forward``, its ``backward`` on reused Tensor wrappers, the engine's assignment
of leaf gradients, an optimizer's method, a recorded NumPy call or value check (which
raises ``GuardFailed`` when the value now branches the other way), a view of a result, an
in-place write into an array the caller sees (the eager write's ``np.copyto``).
Hot primitives replay through kernels instead (tinynet.compiler.kernels), which fall back to
``primitive_step`` for recordings that do not fit them. ``FREE_BYTES`` is the size from
which a value is freed after its last use rather than at the end of the replay.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import numpy as np

from tinynet.autograd import Function
from tinynet.tensor import Tensor

if TYPE_CHECKING:  # the recorder imports FREE_BYTES from here
    from tinynet.compiler.recording import Trace


class GuardFailed(Exception):
    """A check recorded with the program no longer holds: run eagerly and record again."""


#: Values smaller than this are left to the end of the replay: freeing costs a step.
FREE_BYTES = 1 << 16


def free_step(dead: list[int]) -> Callable[[list], None]:
    """The step that frees values ``dead`` (their last reader has run)."""

    def free(env):
        for index in dead:
            env[index] = None

    return free


def compile_op(op: tuple, trace: Trace) -> Callable[[list], None]:
    """The generic step of a recorded op (``op[0]`` says its kind), as it ran in ``trace``."""
    kind = op[0]
    if kind == "primitive":
        cls, indices, kinds, ctx_index, out_index = op[1:]
        keeps_ctx = ctx_index in trace.backward_of
        return primitive_step(cls, indices, kinds, ctx_index, out_index, keeps_ctx)
    if kind == "backward":
        cls, ctx_index, needs, grad_index, outs, backward = op[1:]
        forward_op = trace.forward_of[ctx_index]
        return backward_step(cls, backward, ctx_index, needs, grad_index, outs, forward_op)
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
                raise GuardFailed

        return guard
    if kind == "write":
        return write_step(op[1], op[2], op[4])
    if kind == "view":
        owner, shape, dtype, strides, offset, writeable, index = op[1:]

        def view(env):
            array = np.ndarray(shape, dtype, buffer=env[owner], offset=offset, strides=strides)
            if not writeable:
                array.flags.writeable = False
            env[index] = array

        return view
    raise AssertionError(kind)


def write_step(target: int, values: int, undo: int) -> Callable[[list], None]:
    """The eager write into the caller's array ``env[target]`` (an argument, a parameter, a
    gradient), after logging what it overwrites in ``env[undo]`` (restored when a later
    check fails, before the call runs eagerly)."""

    def write(env):
        array = env[target]
        env[undo].append((array, array.copy()))
        np.copyto(array, env[values], casting="same_kind")

    return write


def _as_array(out) -> np.ndarray:
    return out.data if isinstance(out, Tensor) else np.asarray(out)


def primitive_step(
    cls: type[Function],
    indices: tuple,
    kinds: tuple,
    ctx_index: int,
    out_index: int,
    keeps_ctx: bool = True,
) -> Callable[[list], None]:
    """A primitive's forward on ``env[i] for i in indices`` into ``env[out_index]``, with
    its ctx kept at ``env[ctx_index]`` when ``keeps_ctx`` (a recorded backward reads it)."""
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


def backward_step(
    cls: type[Function],
    backward: Callable,
    ctx_index: int,
    needs: tuple,
    grad_index: int,
    outs: tuple,
    forward_op: tuple,
) -> Callable[[list], None]:
    """A recorded backward: ``backward(ctx, grad)`` on Tensor wrappers reused by every replay,
    the gradients' arrays to ``env[out] for out in outs``."""
    _, _, indices, kinds, _, out_index = forward_op
    keeps_output = cls.saves_output
    # One Tensor per input, reused by every replay: only its array changes.
    wrappers = [None if kind is None else _empty_wrapper(kind) for kind in kinds]
    pairs = list(zip(indices, wrappers))
    tensor_wrappers = [wrapper for wrapper in wrappers if wrapper is not None]
    grad_wrapper = _empty_wrapper()
    output = _empty_wrapper()
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


def _empty_wrapper(requires_grad: bool = False) -> Tensor:
    """A Tensor without an array yet: each replay sets its ``data`` before the call."""
    return Tensor.wrap(cast(np.ndarray, None), requires_grad)


def _leaf_grads_step(assign, leaves, grads, roots, create_graph, outs, cleared, copied):
    wrap = Tensor.wrap
    if not create_graph and len(cleared) == len(leaves):
        # Every gradient starts from None: what the engine does, without its bookkeeping.
        plan = list(zip(leaves, grads, outs, copied))

        def fresh_leaf_grads(env):
            for leaf, index, out, copy in plan:
                array = env[index].copy() if copy else env[index]
                leaf._grad = wrap(array)  # as the engine: shapes and dtypes are guarded
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
