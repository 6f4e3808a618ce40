"""Products beyond ``matmul``, as PyTorch names them: ``addmm``, ``tensordot``, ``inner``,
``matrix_power``, ``logdet`` and ``cross``, composed of ``permute``, ``reshape``, ``matmul`` and the
linear algebra primitives (their derivatives of every order come free).
"""

from __future__ import annotations

import math

import numpy as np

from tinynet import ops
from tinynet.autograd import traced_call
from tinynet.ops._args import as_tensor, axes, dim_aliases, promote_all
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


def matrix_power(A, n: int) -> Tensor:
    """The ``n``-th power of each square matrix in ``A``, as ``torch.linalg.matrix_power``
    (also ``torch.matrix_power``): by repeated squaring; ``n = 0`` gives the identity, a
    negative ``n`` the power of the inverse.

    >>> import tinynet as tn
    >>> tn.matrix_power(tn.tensor([[1.0, 1.0], [0.0, 1.0]]), 3).tolist()
    [[1.0, 3.0], [0.0, 1.0]]
    """
    A = as_tensor(A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"matrix_power: A must be a (batch of) square matrices, got shape {A.shape}"
        )
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:
        return Tensor.wrap(traced_call(_identities, A.shape, A.data.dtype))
    if n < 0:
        if A.data.dtype.kind != "f":
            raise RuntimeError(
                f"matrix_power: a negative n inverts A, which needs a floating dtype, got {A.dtype}"
            )
        A, n = ops.linalg.inv(A), -n
    result: Tensor | None = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else ops.matmul(result, base)
        n >>= 1
        if n:
            base = ops.matmul(base, base)
    assert result is not None  # n was at least 1
    return result


def _identities(shape: tuple, dtype: np.dtype) -> np.ndarray:
    return np.broadcast_to(np.eye(shape[-1], dtype=dtype), shape).copy()


def logdet(A) -> Tensor:
    """``log(det(A))`` of each square matrix, as ``torch.logdet``: NaN for a negative
    determinant, ``-inf`` for a singular matrix. The gradient is ``inv(A).T``
    (``slogdet``'s).

    >>> import tinynet as tn
    >>> tn.logdet(tn.tensor([[2.0, 0.0], [0.0, 3.0]], dtype=tn.float64)).item()
    1.791759469228055
    """
    sign, logabsdet = ops.linalg.slogdet(A)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ops.add(logabsdet, ops.log(sign))  # sign is a constant: 0, nan or -inf


@dim_aliases
def cross(input, other, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim``, as ``torch.cross``: ``dim=None`` takes
    the first axis of length 3 (``tn.linalg.cross``, ``torch.linalg.cross``, takes the last
    by default); the inputs broadcast.

    >>> import tinynet as tn
    >>> tn.cross(tn.tensor([1.0, 0.0, 0.0]), tn.tensor([0.0, 1.0, 0.0])).tolist()
    [0.0, 0.0, 1.0]
    """
    return ops.linalg.cross_product(input, other, dim)
