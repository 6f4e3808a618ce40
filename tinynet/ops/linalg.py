"""Matrix multiplication with NumPy's matmul semantics (1-D, 2-D and batched)."""

import numpy as np

from tinynet.autograd import Function
from tinynet.errors import ShapeError
from tinynet.ops._args import as_tensor
from tinynet.tensor import Tensor


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a @ b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.inputs
        a_vector, b_vector = a.ndim == 1, b.ndim == 1
        # Work with the operands as matrices; a 1-D operand is a row (a) or column (b).
        a2 = a.reshape(1, a.shape[0]) if a_vector else a
        b2 = b.reshape(b.shape[0], 1) if b_vector else b
        g = grad_output
        if a_vector:
            g = g.reshape(*g.shape[:-1], 1, g.shape[-1]) if not b_vector else g.reshape(1, 1)
        if b_vector:
            g = g.reshape(*g.shape, 1) if not a_vector else g
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = g @ _swap_last(b2)
            if a_vector:
                grad_a = grad_a.reshape(*grad_a.shape[:-2], grad_a.shape[-1])
        if ctx.needs_input_grad[1]:
            grad_b = _swap_last(a2) @ g
            if b_vector:
                grad_b = grad_b.reshape(*grad_b.shape[:-1])
        return grad_a, grad_b


def _swap_last(x: Tensor) -> Tensor:
    order = list(range(x.ndim))
    order[-1], order[-2] = order[-2], order[-1]
    return x.transpose(*order)


def matmul(a, b):
    """Matrix product as ``numpy.matmul``: vectors, matrices and broadcast batches."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul: both operands need at least one dimension (use * for scalars)")
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned") from None
