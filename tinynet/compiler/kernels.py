"""The built-in replay kernels, one class per hot primitive, and the table of all kernels.

``Linear``, ``Relu``, ``SoftmaxCrossEntropy``, ``Add``, ``Mul``, ``Tanh``, ``Sum``, ``Mean``
and the engine's ``SumToShape``; ``replay_kernels()`` maps each Function class to its kernel
class, those registered with ``register_replay_kernel`` included. See
tinynet.compiler.kernel for what a kernel is and the rule they all keep (bit-identical to
eager execution). ``np.add.reduce(a, axis=...)`` is what ``a.sum(axis=...)`` calls (likewise
``maximum`` for ``max``), without the Python wrapper in between.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.compiler.kernel import CheckedKernel, Kernel, registered_kernels
from tinynet.ops._args import keepdims_shape, reduction_axes
from tinynet.ops.elementwise import all_finite, relu_zeros, scaled_gradient_array
from tinynet.ops.fused import row_max
from tinynet.ops.linalg import linear_grad_input, rank_one_product
from tinynet.ops.movement import ones_column, row_sum, row_totals, sum_to_shape_array

_ZEROS_BYTES = 1 << 20  # the largest constant zeros a ReLU kernel keeps


class _LinearKernel(Kernel):
    """``Linear``: ``x @ weight.T`` then ``+= bias``; backward as ``_linear_backward_numpy``."""

    fresh_output = True
    fresh_grads = True

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
        self.rows = rows.shape[0]
        self.n_out, self.n_in = weight.shape  # fixed by the shapes guarded
        if needs_weight:
            flat_x = x.reshape(-1, weight.shape[1]) if x.ndim != 2 else x
            grad_weight = rows.T @ flat_x
            if out_weight is not None:
                env[out_weight] = grad_weight
        if needs_bias:
            grad_bias = row_sum(rows)
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
        # Few statements: compiling the generated function costs ~4 us each.
        x, weight, _ = self.indices
        needs_x, needs_weight, needs_bias = self.needs
        out_x, out_weight, out_bias = self.outs
        lines = [f"g = env[{self.grad_index}]"]

        def result(out, expression):  # the gradient into its number, if anything reads it
            return f"env[{out}] = {expression}" if out is not None else f"_ = {expression}"

        if needs_x:
            if self.rank_one:  # g * weight + 0: see linear_grad_input
                call = f"grad_x = np.multiply(g, env[{weight}]"
                lines.append(self.into(name, "grad_x", out_x, call))
                lines.append(f"grad_x += {name(self.dtype.type(0))}")
                if out_x is not None:
                    lines.append(f"env[{out_x}] = grad_x")
            elif self.reused("grad_x", out_x) is None:
                lines.append(result(out_x, f"g @ env[{weight}]"))
            else:
                call = self.into(name, "grad_x", out_x, f"np.matmul(g, env[{weight}]")
                lines.append(result(out_x, call))
        g_rank, x_rank = self.ranks
        rows = "g" if g_rank == 2 else f"g.reshape(-1, {self.n_out})"
        if needs_weight:
            flat_x = f"env[{x}]" if x_rank == 2 else f"env[{x}].reshape(-1, {self.n_in})"
            lines.append(result(out_weight, f"{rows}.T @ {flat_x}"))
        if needs_bias:  # row_sum's arithmetic
            ones = ones_column(self.rows, self.dtype)
            if ones is not None:
                lines.append(result(out_bias, f"{name(ones)} @ {rows}"))
            else:
                lines.append(result(out_bias, f"np.add.reduce({rows}, axis=0)"))
        return lines


class _ReluKernel(Kernel):
    """``Relu``: ``maximum(x, zeros)``, over ``x`` itself when the program allows it
    (``overwrites_input``); backward ``g * mask``, over ``g`` likewise (``overwrites_grad``),
    or ``where`` for a non-finite g.

    The mask is read from the result: ``y != 0`` is ``relu_mask(x)`` element for element
    (``y`` is ``x`` where ``x > 0``, NaN where ``x`` is, a zero elsewhere), in one pass.
    """

    #: relu_zeros(x), kept up to 1 MiB (x's shape and dtype are fixed for the program): a
    #: constant, one per ReLU, so larger than the per-step buffers. Above that the replay
    #: takes the maximum with a scalar 0, the same bits (tests/test_fast_paths.py) without
    #: 2 MB of zeros a layer at large sizes (kept, or made per call as eagerly, they would
    #: raise the peak memory).
    zeros: Any = None
    may_overwrite_input = True
    may_overwrite_grad = True

    def forward(self, env):
        x = env[self.indices[0]]
        if self.zeros is None:
            zeros = relu_zeros(x)
            self.zeros = zeros if getattr(zeros, "nbytes", 0) <= _ZEROS_BYTES else 0
        zeros = self.zeros if x.flags.c_contiguous else 0
        if self.overwrites_input:
            out = np.maximum(x, zeros, out=x)
            self.out_dtype = out.dtype  # as output() records it
        else:
            out = self.output(np.maximum, x, zeros)
        env[self.out_index] = out

    def backward(self, env):
        g = env[self.grad_index]
        (out_index,) = self.outs
        y = env[self.out_index]
        mask = self.reused("mask", None)
        if mask is None:
            mask = self.keep("mask", None, y != 0)
        else:
            np.not_equal(y, 0, out=mask)
        if all_finite(g):
            grad = self.reused("grad", out_index)
            if self.overwrites_grad:
                grad = np.multiply(g, mask, out=g)
            elif grad is None:
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
            zeros = self.zero(name)
        else:  # relu_zeros(x) without making them; a layout the guards let change is checked
            zeros = f"{name(self.zeros)} if x.flags.c_contiguous else 0"
        if self.overwrites_input:
            call = f"np.maximum(x, {zeros}, out=x)"
        else:
            call = self.into(name, "out", self.out_index, f"np.maximum(x, {zeros}")
        return [f"x = env[{x}]", f"env[{self.out_index}] = {call}"]

    def emit_backward(self, name):
        (out_index,) = self.outs
        mask = self.reused("mask", None)
        grad = f"env[{out_index}]" if out_index is not None else "_"
        y = f"env[{self.out_index}]"
        return [
            f"g = env[{self.grad_index}]",
            f"mask = {y} != 0"
            if mask is None
            else f"mask = np.not_equal({y}, {self.zero(name)}, out={name(mask)})",
            f"if {name(all_finite)}(g):",
            f"    {grad} = np.multiply(g, mask, out=g)"
            if self.overwrites_grad
            else "    " + self.into(name, "grad", out_index, f"{grad} = np.multiply(g, mask"),
            "else:",
            f"    {grad} = np.where(mask, g, g.dtype.type(0))",
        ]


class _SoftmaxCrossEntropyKernel(Kernel):
    """``SoftmaxCrossEntropy``: row-wise log-softmax, pick, reduce; backward ``exp(lp) - 1``."""

    stores_ctx = True

    def forward(self, env):
        logits_index, target_index, reduction_index = self.indices
        logits, target, reduction = env[logits_index], env[target_index], env[reduction_index]
        # _log_softmax_rows: shifted = logits - max; shifted -= log(sum(exp(shifted)))
        peak = row_max(logits)
        log_probs = self.reused("log_probs", None)
        if log_probs is None:
            log_probs = self.keep("log_probs", None, logits - peak)
            exps = self.keep("exps", None, np.exp(log_probs))
        else:
            np.subtract(logits, peak, out=log_probs)
            exps = np.exp(log_probs, out=self.reused("exps", None))
        log_probs -= np.log(row_totals(exps))
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
        # run's steps, fewer statements (each costs Python's compile ~4 us): the same calls
        lines = [f"logits = env[{logits}]"]
        peak = f"{name(row_max)}(logits)"
        if log_probs is None:
            lines.append(f"log_probs = logits - {peak}")
            exps = "np.exp(log_probs)"
        else:
            lines.append(f"log_probs = np.subtract(logits, {peak}, out={name(log_probs)})")
            exps = f"np.exp(log_probs, out={name(self.reused('exps', None))})"
        lines.append(f"log_probs -= np.log({name(row_totals)}({exps}))")
        picked = f"log_probs[{name(rows)}, env[{target}]]"
        total = f"np.add.reduce({picked}, axis=None)"
        if reduction == "none":
            lines.append(f"out = np.negative({picked})")
        elif reduction == "sum":
            lines.append(f"out = np.negative({total})")
        elif count:
            lines.append(f"out = {total} * {name(self.dtype.type(-1.0 / count))}")
        else:
            lines.append(f"out = {total} * np.nan")
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


class _AddKernel(CheckedKernel):
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


class _MulKernel(CheckedKernel):
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


class _TanhKernel(CheckedKernel):
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


class _ReductionKernel(CheckedKernel):
    """``Sum`` and ``Mean`` (float32/64): ``x.sum`` (``/ count``); backward a broadcast view."""

    backward_aliases = True

    def fits(self, env):
        x = env[self.indices[0]]
        if not _same_float(x):
            return False
        self.axis = reduction_axes(env[self.indices[1]], x.ndim)  # as Sum/Mean.forward
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


class _SumToShapeKernel(CheckedKernel):
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
        env[self.out_index] = sum_to_shape_array(env[self.indices[0]], self.shape, self.summed)


def replay_kernels() -> dict[type, type[Kernel]]:
    """Function class -> kernel class: the registered kernels and the built-in ones."""
    from tinynet.ops.elementwise import Add, Mul, Relu, Tanh
    from tinynet.ops.fused import SoftmaxCrossEntropy
    from tinynet.ops.linalg import Linear
    from tinynet.ops.movement import SumToShape
    from tinynet.ops.reduce import Mean, Sum

    return {
        **registered_kernels(),
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
