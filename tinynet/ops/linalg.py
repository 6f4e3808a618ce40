"""Matrix multiplication with NumPy's matmul semantics (1-D, 2-D and batched)."""

from tinynet._grad_mode import _GradMode
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
    return x.permute(order)


def matmul(a, b):
    """Matrix product as ``numpy.matmul``: vectors, matrices and broadcast batches."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul: both operands need at least one dimension (use * for scalars)")
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} are not aligned") from None


class Linear(Function):
    """``x @ weight.T + bias``, fused: one node, no transposed copy, bias added in place."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, weight, bias = ctx.inputs
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        if not _GradMode.enabled:  # first-order fast path: the same formulas in NumPy
            return _linear_backward_numpy(
                grad_output.data, x.data, weight.data, needs_x, needs_weight, needs_bias
            )
        grad_x = grad_output @ weight if needs_x else None
        grad_weight = grad_bias = None
        if needs_weight or needs_bias:
            rows = (
                grad_output.reshape(-1, weight.shape[0]) if grad_output.ndim != 2 else grad_output
            )
            if needs_weight:
                flat_x = x.reshape(-1, weight.shape[1]) if x.ndim != 2 else x
                grad_weight = rows.T @ flat_x
            if needs_bias:
                grad_bias = rows.sum(0)
        return grad_x, grad_weight, grad_bias


def _linear_backward_numpy(g, x, weight, needs_x, needs_weight, needs_bias):
    grad_x = Tensor._wrap(g @ weight) if needs_x else None
    grad_weight = grad_bias = None
    rows = g.reshape(-1, weight.shape[0]) if g.ndim != 2 else g
    if needs_weight:
        flat_x = x.reshape(-1, weight.shape[1]) if x.ndim != 2 else x
        grad_weight = Tensor._wrap(rows.T @ flat_x)
    if needs_bias:
        grad_bias = Tensor._wrap(rows.sum(axis=0))
    return grad_x, grad_weight, grad_bias


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` (weight of shape ``(out_features, in_features)``) as one op."""
    x, weight = as_tensor(x), as_tensor(weight)
    if bias is not None:
        bias = as_tensor(bias)
    if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(
            f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape} "
            f"(expected last dimension {weight.shape[-1] if weight.ndim else '?'})"
        )
    if bias is not None and bias.shape not in ((weight.shape[0],), ()):
        raise ShapeError(f"linear: bias of shape {bias.shape} for {weight.shape[0]} outputs")
    return Linear.apply(x, weight, bias)
