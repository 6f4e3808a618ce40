"""The estimators' training losses as single graph nodes.

Each loss is ``sum(weight * value(z, y))`` over a batch of raw outputs ``z``, with the sample
weights (divided by their sum) already in ``weight``: one node instead of the six to nine
that composing ``nn.functional``'s losses with a weighted mean records. The forward pass is
NumPy; the backward pass is written in Tensor operations (``softmax``, ``sigmoid``, ``exp``),
so it is differentiable again, as every tinynet op. ``tests/estimators/test_losses.py``
checks values and gradients against ``nn.functional`` and finite differences.

- ``softmax``: ``-sum_c t_c log_softmax(z)_c``, targets ``t`` one-hot rows times the weight;
- ``logistic``: ``softplus(z) - y z`` (binary cross-entropy from logits);
- ``identity``: ``(z - y)**2 / 2``;
- ``exp``: ``exp(z) - y z + xlogy(y, y) - y`` (half the Poisson deviance, log link).
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from tinynet import ops
from tinynet._grad_mode import is_grad_enabled
from tinynet.autograd import Function, traced_call
from tinynet.compiler import ReplayKernel, register_replay_kernel
from tinynet.ops.elementwise import Sigmoid
from tinynet.ops.fused import row_max
from tinynet.ops.movement import row_totals
from tinynet.tensor import Tensor


def _value(kind: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    if kind == "logistic":
        return np.logaddexp(0, z) - y * z
    if kind == "identity":
        difference = z - y
        return 0.5 * difference * difference
    return np.exp(z) - y * z + (xlogy(y, y) - y)


def _slope(kind: str, z, y):
    """The loss's derivative in ``z``: of Tensors (differentiable again) or, for a
    first-order backward, of arrays with the same arithmetic (``ops.sigmoid`` and
    ``ops.exp`` compute their forward with exactly these NumPy calls)."""
    tensors = isinstance(z, Tensor)
    if kind == "logistic":
        return (ops.sigmoid(z) if tensors else Sigmoid.forward(None, z)) - y
    if kind == "identity":
        return z - y
    return (ops.exp(z) if tensors else np.exp(z)) - y


def _array(value) -> np.ndarray:
    return value if type(value) is np.ndarray else np.asarray(value)


class _SoftmaxCrossEntropy(Function):
    """``-sum(target * log_softmax(logits, axis=1))`` for weighted one-hot ``target`` rows;
    ``row_weight`` is the column of their sums (each row's one nonzero)."""

    @staticmethod
    def forward(ctx, logits, target, row_weight):
        shifted = logits - row_max(logits)
        exp = np.exp(shifted)
        norm = row_totals(exp)  # as Softmax sums the rows
        ctx.target, ctx.row_weight = target, row_weight
        ctx.softmax = np.divide(exp, norm, out=exp)  # kept for a first-order backward
        return np.asarray(np.vdot(row_weight, np.log(norm)) - np.vdot(target, shifted))

    @staticmethod
    def backward(ctx, grad_output):
        row_weight, target = ctx.row_weight, ctx.target
        if is_grad_enabled():  # create_graph: a softmax node, so it differentiates again
            softmax = ops.softmax(ctx.inputs[0], 1)
            grad = (softmax * Tensor.wrap(row_weight) - Tensor.wrap(target)) * grad_output
            return grad, None, None
        # First order: the same three products on the arrays (tests/test_fast_paths.py).
        grad = ctx.softmax * row_weight
        grad -= target
        return Tensor.wrap(_array(grad * grad_output.data)), None, None


class _SoftmaxCrossEntropyReplay(ReplayKernel):
    """``tn.compile``'s replay of ``_SoftmaxCrossEntropy``: its forward and first-order
    backward on the arrays, without a ctx object or Tensors, writing into buffers kept from
    one replay to the next (the same arithmetic, so the same bits)."""

    stores_ctx = True  # the softmax, for the backward

    def fits(self, env) -> bool:
        logits, target, row_weight = (env[index] for index in self.indices)
        arrays = (logits, target, row_weight)
        if not all(type(array) is np.ndarray for array in arrays):
            return False
        dtype = logits.dtype
        return (
            dtype.type in (np.float32, np.float64)
            and target.dtype == row_weight.dtype == dtype
            and logits.ndim == 2
            and target.shape == logits.shape
            and row_weight.shape == (len(logits), 1)
        )

    def run(self, env) -> None:
        logits, target, row_weight = (env[index] for index in self.indices)
        shifted = self.reused("shifted", None)
        if shifted is None:
            shifted = self.keep("shifted", None, logits - row_max(logits))
            exp = self.keep("exp", None, np.exp(shifted))
        else:
            np.subtract(logits, row_max(logits), out=shifted)
            exp = np.exp(shifted, out=self.reused("exp", None))
        norm = row_totals(exp)
        env[self.ctx_index] = np.divide(exp, norm, out=exp)  # the softmax
        env[self.out_index] = np.asarray(
            np.vdot(row_weight, np.log(norm)) - np.vdot(target, shifted)
        )

    def backward(self, env) -> None:
        (out,) = self.outs[:1]
        if not self.needs[0] or out is None:
            return
        _, target, row_weight = (env[index] for index in self.indices)
        grad = self.reused("grad", out)
        if grad is None:
            grad = self.keep("grad", out, env[self.ctx_index] * row_weight)
        else:
            np.multiply(env[self.ctx_index], row_weight, out=grad)
        grad -= target
        grad *= env[self.grad_index]  # eager: grad * grad_output, the same products
        env[out] = grad


register_replay_kernel(_SoftmaxCrossEntropy, _SoftmaxCrossEntropyReplay)


class _ElementwiseLoss(Function):
    """``sum(weight * value(z, y))`` with ``weight`` a float or a column of row weights."""

    @staticmethod
    def forward(ctx, z, target, weight, kind):
        ctx.target, ctx.weight, ctx.kind = target, weight, kind
        return np.asarray(np.add.reduce(_value(kind, z, target) * weight, axis=None))

    @staticmethod
    def backward(ctx, grad_output):
        z = ctx.inputs[0]
        weight = ctx.weight
        if is_grad_enabled():  # create_graph: Tensor ops, so it differentiates again
            if isinstance(weight, np.ndarray):
                weight = Tensor.wrap(weight)
            grad = _slope(ctx.kind, z, Tensor.wrap(ctx.target)) * weight * grad_output
            return grad, None, None, None
        # First order: the same arithmetic on the arrays; a scalar weight is cast to the
        # gradient's dtype, as the Tensor product casts scalars.
        grad = _slope(ctx.kind, z.data, ctx.target)
        if not isinstance(weight, np.ndarray) or weight.ndim == 0:
            weight = np.asarray(weight, dtype=grad.dtype)
        grad = grad * weight
        return Tensor.wrap(_array(grad * grad_output.data)), None, None, None


class _ElementwiseLossReplay(ReplayKernel):
    """``tn.compile``'s replay of ``_ElementwiseLoss``: its forward and first-order backward
    on the arrays (the same calls), without a ctx object or Tensors."""

    def fits(self, env) -> bool:
        z, target = env[self.indices[0]], env[self.indices[1]]
        return type(z) is np.ndarray and type(target) is np.ndarray

    def run(self, env) -> None:
        z, target, weight, kind = (env[index] for index in self.indices)
        env[self.out_index] = np.asarray(np.add.reduce(_value(kind, z, target) * weight, axis=None))

    def backward(self, env) -> None:
        out = self.outs[0]
        if not self.needs[0] or out is None:
            return
        z, target, weight, kind = (env[index] for index in self.indices)
        grad = _slope(kind, z, target)
        if not isinstance(weight, np.ndarray) or weight.ndim == 0:
            weight = np.asarray(weight, dtype=grad.dtype)
        grad = grad * weight
        env[out] = _array(grad * env[self.grad_index])


register_replay_kernel(_ElementwiseLoss, _ElementwiseLossReplay)


def batch_loss(kind: str, raw: Tensor, target: np.ndarray, weight) -> Tensor:
    """The loss of one batch: ``weight`` is a float (1 / n) or an ``(n, 1)`` column of the
    sample weights divided by their sum. ``kind`` is the output activation."""
    if kind == "softmax":  # the product is recorded, so tn.compile replays it per batch
        weighted = traced_call(np.multiply, target, weight)
        # The one-hot rows' sums are the weights, to the bit: no reduction needed.
        if isinstance(weight, np.ndarray) and weight.ndim:
            row_weight = weight.astype(weighted.dtype, copy=False)
        else:
            row_weight = np.full((len(target), 1), weight, weighted.dtype)
        return _SoftmaxCrossEntropy.apply(raw, weighted, row_weight)
    return _ElementwiseLoss.apply(raw, target, weight, kind)
