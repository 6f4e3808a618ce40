"""Products beyond ``matmul``, as PyTorch names them: ``addmm``, ``tensordot`` and ``inner``,
composed of ``permute``, ``reshape`` and ``matmul`` (their derivatives of every order come free).
"""

from __future__ import annotations

import math

import numpy as np

from tinynet import ops
from tinynet.ops._args import as_tensor, axes, promote_all
from tinynet.tensor import Tensor


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``, as ``torch.addmm``: ``mat1`` and ``mat2``
    matrices, ``input`` broadcast to the product's shape. With ``beta=0`` ``input`` is
    ignored (its NaN and inf do not reach the result).

    >>> import tinynet as tn
    >>> tn.addmm(tn.ones(2), tn.ones(1, 3), tn.ones(3, 2), beta=2, alpha=0.5).tolist()
    [[3.5, 3.5]]
    """
    input, mat1, mat2 = as_tensor(input), as_tensor(mat1), as_tensor(mat2)
    for label, matrix in (("mat1", mat1), ("mat2", mat2)):
        if matrix.ndim != 2:
            raise RuntimeError(f"addmm: {label} must be a matrix, got {matrix.ndim}-D tensor")
    product = ops.mm(mat1, mat2)
    try:
        np.broadcast_shapes(input.shape, product.shape)
    except ValueError:
        raise RuntimeError(
            f"addmm: input of shape {input.shape} does not broadcast to the product's "
            f"shape {product.shape}"
        ) from None
    if alpha != 1:
        product = ops.mul(product, alpha)
    if beta == 0:
        return ops.broadcast_to(product, np.broadcast_shapes(input.shape, product.shape))
    return ops.add(input if beta == 1 else ops.mul(input, beta), product)


def _dim_list(dims) -> list[int]:
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    return [int(dims)] if isinstance(dims, (int, np.integer)) else [int(d) for d in dims]


def tensordot(a, b, dims=2) -> Tensor:
    """The sum of products over ``dims`` of ``a`` and ``b``, as ``torch.tensordot``: an int
    ``n`` pairs the last ``n`` dims of ``a`` with the first ``n`` of ``b``; a pair of lists
    names them. The result has ``a``'s free dims, then ``b``'s.

    >>> import tinynet as tn
    >>> tn.tensordot(tn.ones(2, 3, 4), tn.ones(4, 3, 5), dims=([1, 2], [1, 0])).shape
    (2, 5)
    """
    a, b = promote_all([as_tensor(a), as_tensor(b)])
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(
                f"tensordot expects dims <= {min(a.ndim, b.ndim)} (the smaller number of "
                f"dimensions), but got dims={dims}"
            )
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be an int or a pair of lists of dims")
        dims_a = list(axes(_dim_list(dims[0]), a.ndim) or ())
        dims_b = list(axes(_dim_list(dims[1]), b.ndim) or ())
    if len(dims_a) != len(dims_b):
        raise RuntimeError(
            f"tensordot: both lists of dims should have the same length, got {len(dims_a)} "
            f"and {len(dims_b)}"
        )
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(
                f"tensordot: contracted dimensions need to match, but first has size "
                f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} in dim {db}"
            )
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    contracted = math.prod(a.shape[d] for d in dims_a)
    left = ops.reshape(
        ops.permute(a, *free_a, *dims_a), (math.prod(a.shape[d] for d in free_a), contracted)
    )
    right = ops.reshape(
        ops.permute(b, *dims_b, *free_b), (contracted, math.prod(b.shape[d] for d in free_b))
    )
    shape = tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b)
    return ops.reshape(ops.matmul(left, right), shape)


def inner(input, other) -> Tensor:
    """The sum of products over the last dims, as ``torch.inner``: shape ``input.shape[:-1]
    + other.shape[:-1]``; a 0-d operand multiplies the other.

    >>> import tinynet as tn
    >>> tn.inner(tn.tensor([1.0, 2.0]), tn.tensor([[3.0, 4.0], [5.0, 6.0]])).tolist()
    [11.0, 17.0]
    """
    a, b = as_tensor(input), as_tensor(other)
    if a.ndim == 0 or b.ndim == 0:
        return ops.mul(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{list(a.shape)} and {list(b.shape)}"
        )
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 1]))
