"""What a replay kernel is: the base classes and ``register_replay_kernel``.

For the hot primitives, the replay runs their NumPy directly: no ctx object, no Tensor around
the backward's arrays, and intermediates written into buffers kept from one replay to the
next (``out=``). Each kernel does exactly the arithmetic of the op's ``forward`` and of its
first-order backward (the replay runs with grad mode off), in the same order on the same
layouts, so the bits are those of eager execution; tests/test_compile.py checks it. A
primitive without a kernel takes the generic path, which calls the op's own functions.

``Kernel`` holds what every kernel shares: the recorded forward op's numbers, the buffers
kept between replays (``keep``, ``reused``, ``output``, ``into``) and the binding of each
recorded backward. ``CheckedKernel`` decides on the first replay whether the recording fits
(``fits``), else runs the generic step. ``ReplayKernel`` is that base offered to Functions
defined above the compiler (the estimators' losses), registered with
``register_replay_kernel``; the built-in kernels are in tinynet.compiler.kernels.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from tinynet import autograd
from tinynet.compiler.steps import FREE_BYTES, primitive_step


class Kernel:
    """One recorded primitive's replay: ``forward(env)``, and ``backward(env, ...)`` for
    each recorded backward of it."""

    #: False: this recording's arrays do not fit the kernel (dtypes), it runs the op's own
    #: functions as the generic path does; None: decided on the first replay.
    simple: bool | None = True
    has_backward = True  # False: used only where the op's backward was not recorded
    forward_aliases = False  # True: the output may be the first input or a view of it
    backward_aliases = False  # True: a gradient may be the incoming one or a view of it
    stores_ctx = False  # True: the forward puts an array for the backward at its ctx number
    #: True: the forward's output is a new array (or a buffer of this kernel's own) that the
    #: backward never reads, so the op that reads it last may write over it.
    fresh_output = False
    #: True: the forward can write its result over its first input (``out=``) and the
    #: backward never reads that input; the program sets ``overwrites_input`` where the
    #: input is a fresh output of another kernel that nothing else reads.
    may_overwrite_input = False
    overwrites_input = False
    #: True: every gradient the backward makes is a new array or a buffer of this kernel's
    #: own (a later op may write over it once nothing else reads it).
    fresh_grads = False
    #: True: the backward can write the input's gradient over its incoming one; the program
    #: sets ``overwrites_grad`` where that gradient is fresh and read by nothing else.
    may_overwrite_grad = False
    overwrites_grad = False

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
    ) -> Kernel | _AnotherBackward:
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
        # (A NumPy scalar, what a ufunc gives for 0-d operands, cannot be written into.)
        if (
            type(fresh) is np.ndarray
            and fresh.nbytes < FREE_BYTES
            and (index is None or index in self.reusable)
        ):
            self.buffers[name, index] = fresh
        return fresh


class _AnotherBackward:
    """A further recorded backward of a kernel's op: its own ``needs``, ``grad_index`` and
    ``outs``; everything else (what the forward left, the buffers) is the kernel's."""

    def __init__(self, kernel: Kernel, needs: tuple, grad_index: int, outs: tuple) -> None:
        self.kernel = kernel
        self.needs, self.grad_index, self.outs = needs, grad_index, outs
        proxy: Any = self  # the kernel's methods, run with this object as their self
        self.backward = functools.partial(type(kernel).backward, proxy)
        self.emit_backward = functools.partial(type(kernel).emit_backward, proxy)

    def __getattr__(self, name: str):
        return getattr(self.kernel, name)


class CheckedKernel(Kernel):
    """A kernel for the common dtypes only; other recordings take the generic path."""

    simple = None

    def fits(self, env) -> bool:
        raise NotImplementedError

    def forward(self, env):
        if self.simple is None:
            self.simple = self.fits(env)
            if not self.simple:
                self.generic = primitive_step(
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


class ReplayKernel(CheckedKernel):
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
_registered_kernels: dict[type, type[ReplayKernel]] = {}


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


def registered_kernels() -> dict[type, type[ReplayKernel]]:
    """The kernels ``register_replay_kernel`` was given: Function class -> kernel class."""
    return dict(_registered_kernels)
