"""Matrix products and linear algebra; ``tn.linalg`` is this module.

``matmul`` has NumPy's semantics (1-D, 2-D and batched); ``inv det slogdet solve cholesky
qr eigh svd`` have ``torch.linalg``'s names and conventions, ``outer dot bmm`` ``torch``'s.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tinynet._grad_mode import grad_mode
from tinynet.autograd import Function, once_differentiable, traced_check
from tinynet.errors import ShapeError
from tinynet.ops._args import as_tensor, binary, dim_aliases
from tinynet.ops.movement import concatenate, ones_column, row_sum
from tinynet.tensor import Tensor, TensorLike


class MatMul(Function):
    display_name = "matmul"

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


def matmul(a: TensorLike, b: TensorLike) -> Tensor:
    """Matrix product as ``numpy.matmul``: vectors, matrices and broadcast batches."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul: both operands need at least one dimension (use * for scalars)")
    if a.data.dtype is not b.data.dtype:
        a, b = binary(a, b)  # integers take the floating dtype, as in a * b
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
        if not grad_mode.enabled:  # first-order fast path: the same formulas in NumPy
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
            if needs_bias:  # row_sum's arithmetic: the same bits at every order
                ones = ones_column(rows.shape[0], rows.dtype)
                grad_bias = Tensor.wrap(ones) @ rows if ones is not None else rows.sum(0)
        return grad_x, grad_weight, grad_bias


def rank_one_product(g: np.ndarray, weight: np.ndarray) -> bool:
    """Whether ``g @ weight`` is a product of one term per element: ``weight`` a row (one
    output feature), ``g`` at least 2-D, both float32 or both float64.

    Then ``linear_grad_input`` multiplies instead: ``np.matmul`` spends ~20 us on a
    (200, 1) @ (1, 100) float32 product, ``np.multiply`` ~6 us.

    >>> import numpy as np
    >>> rank_one_product(np.ones((5, 1)), np.ones((1, 3)))
    True
    >>> rank_one_product(np.ones((5, 2)), np.ones((2, 3)))
    False
    """
    dtype = g.dtype
    return (
        weight.shape[0] == 1
        and g.ndim >= 2
        and dtype == weight.dtype
        and dtype.type in (np.float32, np.float64)
    )


def linear_grad_input(g: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``g @ weight``, the gradient of ``Linear``'s input, with the same bits.

    A one-term product (``rank_one_product``) is ``g * weight + 0``: ``matmul`` adds each
    product to a zero, which turns a -0.0 product into +0.0 (tests/test_fast_paths.py
    checks the bits against ``np.matmul``, signed zeros, underflow and infinities included).

    >>> import numpy as np
    >>> g, weight = np.array([[0.0], [2.0]]), np.array([[-1.0, 3.0]])
    >>> linear_grad_input(g, weight)
    array([[ 0.,  0.],
           [-2.,  6.]])
    >>> bool(np.signbit(linear_grad_input(g, weight)[0, 0])), bool(np.signbit((g * weight)[0, 0]))
    (False, True)
    """
    if rank_one_product(g, weight):
        grad = np.multiply(g, weight, order="C")  # matmul's layout, whatever g's strides
        grad += g.dtype.type(0)
        return grad
    return g @ weight


def _linear_backward_numpy(g, x, weight, needs_x, needs_weight, needs_bias):
    grad_x = Tensor.wrap(linear_grad_input(g, weight)) if needs_x else None
    grad_weight = grad_bias = None
    rows = g.reshape(-1, weight.shape[0]) if g.ndim != 2 else g
    if needs_weight:
        flat_x = x.reshape(-1, weight.shape[1]) if x.ndim != 2 else x
        grad_weight = Tensor.wrap(rows.T @ flat_x)
    if needs_bias:
        grad_bias = Tensor.wrap(row_sum(rows))
    return grad_x, grad_weight, grad_bias


def linear(x: TensorLike, weight: TensorLike, bias: TensorLike | None = None) -> Tensor:
    """``x @ weight.T + bias`` (weight of shape ``(out_features, in_features)``) as one op."""
    x, weight = as_tensor(x), as_tensor(weight)
    if bias is not None:
        bias = as_tensor(bias)
    # The arrays' shapes, not the Tensor properties: this runs once per layer per step.
    x_shape, weight_shape = x.data.shape, weight.data.shape
    if not x_shape or len(weight_shape) != 2 or x_shape[-1] != weight_shape[1]:
        raise ShapeError(
            f"linear: input of shape {x_shape} does not fit weight of shape {weight_shape} "
            f"(expected last dimension {weight_shape[-1] if weight_shape else '?'})"
        )
    if bias is not None and bias.data.shape not in ((weight_shape[0],), ()):
        raise ShapeError(f"linear: bias of shape {bias.shape} for {weight_shape[0]} outputs")
    return Linear.apply(x, weight, bias)


# == linear algebra: products, inverse, determinants, solve, decompositions (issue 11, item 6) ==
# Each decomposition output is its own primitive (each computes the decomposition: a
# primitive is a function of its inputs alone); their backward formulas are linear in the
# incoming gradient, so the gradient of several outputs is the sum of each one's. Backward formulas
# call the primitives again, so second derivatives come out of the same rules. Formulas are
# PyTorch's (tools/autograd/derivatives.yaml, FunctionsManual.cpp), for real matrices.


def _mT(x: Tensor) -> Tensor:
    return _swap_last(x)


def _constant(array: np.ndarray, like: Tensor) -> Tensor:
    return Tensor.wrap(np.asarray(array, like.data.dtype))


def _eye(n: int, like: Tensor) -> Tensor:
    return _constant(np.eye(n), like)


def _tril(x: Tensor, k: int = 0) -> Tensor:
    return x * _constant(np.tril(np.ones(x.shape[-2:]), k), x)


def _lapack(name: str, fn, *arrays):
    """``fn(*arrays)`` with float16 computed in float32 (LAPACK has no half precision), and
    NumPy's LinAlgError re-raised naming the op."""
    dtype = np.result_type(*arrays)
    work = [a.astype(np.float32) if dtype == np.float16 else a for a in arrays]
    try:
        result = fn(*work)
    except np.linalg.LinAlgError as error:
        hint = {
            "cholesky": "the matrix is not symmetric positive-definite",
            "inv": "the matrix is singular (not invertible)",
            "solve": "the matrix A is singular (not invertible)",
        }.get(name, str(error))
        raise np.linalg.LinAlgError(f"{name}: {hint}") from None
    if dtype == np.float16:
        return (
            tuple(r.astype(dtype) for r in result)
            if isinstance(result, tuple)
            else (result.astype(dtype))
        )
    return result


def _symmetric_part(a: np.ndarray) -> np.ndarray:
    """``(A + A.T) / 2``: cholesky and eigh are functions of it, so their (symmetric)
    gradients are exact for every input, not only along symmetric perturbations."""
    return (a + np.swapaxes(a, -1, -2)) * a.dtype.type(0.5)


# cholesky and eigh accept a matrix when max|A - A.T| <= min(4 n eps, sqrt(eps)) * max|A|. GEMM-
# built Gram matrices measured up to 8.6 eps * max|A| (float32, n <= 1000, up to 1e6 rows;
# benchmarks/bench_symmetry.py): n eps max|A| is below the rounding error LAPACK's own
# factorization is allowed, so where the triangles of an accepted A differ, the factorization
# could not tell them apart anyway. The sqrt(eps) cap (half the digits) keeps float16 strict.
# Cancellation can exceed it (kernels of uncentred data through |x|^2 + |y|^2 - 2 x.y).
_ROUNDING = 4


def _asymmetry(a: np.ndarray, difference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per matrix of ``a``: ``max|A - A.T|`` and what rounding allows (above)."""
    eps = float(np.finfo(a.dtype).eps)
    relative = min(_ROUNDING * a.shape[-1] * eps, eps**0.5)
    gap = difference.max(axis=(-2, -1))  # A - A.T is antisymmetric: its max is max|A - A.T|
    return gap, np.abs(a).max(axis=(-2, -1)).astype(np.float64) * relative


def _symmetric_up_to_rounding(a: np.ndarray) -> bool:
    difference = a - a.swapaxes(-1, -2)
    if not difference.any():  # exactly symmetric, the usual case
        return True
    gap, allowed = _asymmetry(a, difference)
    return not (gap > allowed).any()  # NaN compares False: a NaN input goes on to LAPACK


def _require_symmetric(A: Tensor, name: str, upper: bool = False) -> None:
    """Refuse what NumPy and PyTorch would read one triangle of: they would give other values."""
    if traced_check(_symmetric_up_to_rounding, A.data):
        return
    gap, allowed = _asymmetry(A.data, A.data - A.data.swapaxes(-1, -2))
    first = tuple(int(i) for i in np.argwhere(gap > allowed)[0])
    where = f"A[{', '.join(map(str, first))}]" if first else "A"
    triangle, reading, when = (
        ("upper", "tn.triu(A) + tn.triu(A, 1).mT", "with UPLO='U'")
        if upper
        else ("lower", "tn.tril(A) + tn.tril(A, -1).mT", "by default")
    )
    raise ValueError(
        f"{name} expects symmetric matrices; {where} differs from its transpose by up to "
        f"{float(gap[first]):.2g} (rounding allows {float(allowed[first]):.2g}): pass "
        f"(A + A.mT) / 2 to use its symmetric part, or {reading} to read the {triangle} "
        f"triangle as torch.linalg.{name} does {when}"
    )


def _square(a: Tensor, name: str) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{name}: expected square matrices of shape (*, n, n), got {a.shape}")
    if a.data.dtype.kind != "f":
        raise TypeError(f"{name} needs a floating tensor, got dtype {a.dtype}")


class Inv(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return _lapack("inv", np.linalg.inv, a)

    @staticmethod
    def backward(ctx, grad_output):
        inverse_t = _mT(ctx.output)
        return -(inverse_t @ grad_output @ inverse_t)


class Det(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return np.asarray(_lapack("det", np.linalg.det, a))

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.inputs
        column = grad_output.reshape(*grad_output.shape, 1, 1)
        if traced_check(_near_singular, ctx.output.data):
            return column * _Cofactors.apply(a)  # PyTorch's SVD formula: no inverse
        scale = (grad_output * ctx.output).reshape(*grad_output.shape, 1, 1)
        return scale * _mT(Inv.apply(a))


class LogAbsDet(Function):
    display_name = "slogdet"
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return np.asarray(_lapack("slogdet", lambda m: np.linalg.slogdet(m)[1], a))

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.inputs
        scale = grad_output.reshape(*grad_output.shape, 1, 1)
        if not traced_check(_any_singular, ctx.output.data):
            return scale * _mT(Inv.apply(a))
        # inv(A).T = cofactors / det: inf or NaN where det = 0 (PyTorch's solve there is
        # unchecked at first order: inf or NaN too)
        sign = Tensor.wrap(
            np.asarray(_lapack("slogdet", lambda m: np.linalg.slogdet(m)[0], a.data))
        )
        determinant = (sign * ctx.output.exp()).reshape(*grad_output.shape, 1, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return scale * _Cofactors.apply(a) / determinant


def _any_singular(logabsdet: np.ndarray) -> bool:
    """An exactly singular matrix: LU met a zero pivot, log|det| is -inf."""
    return bool(np.isneginf(logabsdet).any())


def _near_singular(det: np.ndarray) -> bool:
    """PyTorch's switch to the SVD formula for det's gradient: ``|det| < 100 eps``."""
    return bool((np.abs(det) < 100 * np.finfo(det.dtype).eps).any())


class _Cofactors(Function):
    """The cofactor matrix ``adj(A).T`` (det's gradient) of each square matrix, singular or
    not, as PyTorch's SVD formula: with ``A = U diag(s) Vh``, ``det(U) det(Vh) U diag(p) Vh``,
    ``p[i]`` the product of the singular values other than ``s[i]`` (no division). Its own
    gradient (det's second derivative) is exact too; a third order raises."""

    @staticmethod
    def forward(ctx, a):
        u, s, vh = _lapack("svd", np.linalg.svd, a)
        ctx.factors = u, s, vh
        ctx.orientation = np.linalg.det(u) * np.linalg.det(vh)  # +-1
        others = _products_of_others(s, 1)
        return ctx.orientation[..., None, None] * (u * others[..., None, :]) @ vh

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        # det(U (S + B) Vh) = det(U) det(Vh) det(S + B), B = U.T dA Vh.T: the second-order
        # terms sum m_ij (B_ii B_jj - B_ij B_ji) over i < j, m_ij = prod_{k != i, j} s_k.
        # So the gradient of <G, cofactors(A)> is U M Vh, H = U.T G Vh.T, with
        # M_ii = sum_{j != i} m_ij H_jj and M_ij = -m_ij H_ji off the diagonal.
        u, s, vh = ctx.factors
        h = np.swapaxes(u, -1, -2) @ grad_output.data @ np.swapaxes(vh, -1, -2)
        pairs = _products_of_others(s, 2)
        diagonal = np.einsum("...ij,...jj->...i", pairs, h)
        m = -pairs * np.swapaxes(h, -1, -2)
        n = s.shape[-1]
        m[..., np.arange(n), np.arange(n)] = diagonal
        return Tensor.wrap(ctx.orientation[..., None, None] * (u @ m @ vh))


def _products_of_others(s: np.ndarray, left_out: int) -> np.ndarray:
    """Products of ``s`` along its last axis leaving out one element (``left_out=1``: shape
    ``(..., n)``) or a pair (``2``: ``(..., n, n)``, 0 on the diagonal); exact with zeros."""
    n = s.shape[-1]
    eye = np.eye(n, dtype=bool)
    if left_out == 1:
        return np.where(eye, 1.0, s[..., None, :]).prod(axis=-1).astype(s.dtype)
    out = eye[:, None, :] | eye[None, :, :]  # k == i or k == j
    products = np.where(out, 1.0, s[..., None, None, :]).prod(axis=-1).astype(s.dtype)
    return np.where(eye, np.zeros((), s.dtype), products)


class Solve(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, a, b):
        return _lapack("solve", np.linalg.solve, a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, _ = ctx.inputs
        grad_b = Solve.apply(_mT(a), grad_output)
        grad_a = -(grad_b @ _mT(ctx.output)) if ctx.needs_input_grad[0] else None
        return grad_a, grad_b


class Cholesky(Function):
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        return _lapack("cholesky", np.linalg.cholesky, _symmetric_part(a))

    @staticmethod
    def backward(ctx, grad_output):
        lower = ctx.output
        phi = _tril(_mT(lower) @ grad_output)
        phi = 0.5 * (phi + _mT(_tril(phi, -1)))  # symmetric: A is taken symmetric
        left = Solve.apply(_mT(lower), phi)  # L^-T phi
        return _mT(Solve.apply(_mT(lower), _mT(left)))  # L^-T phi L^-1


class _Factor(Function):
    """Output ``index`` of the decomposition ``factors(a, full)`` (a tuple of arrays)."""

    index = 0

    @classmethod
    def forward(cls, ctx, a, full):
        ctx.full = full
        return cls.factors(a, full)[cls.index]


def _eigh_factors(a, full):
    return _lapack("eigh", lambda m: tuple(np.linalg.eigh(m)), _symmetric_part(a))


def _svd_factors(a, full):
    return _lapack("svd", lambda m: tuple(np.linalg.svd(m, full_matrices=full)), a)


def _qr_factors(a, full):
    mode = "complete" if full else "reduced"
    return _lapack("qr", lambda m: tuple(np.linalg.qr(m, mode=mode)), a)


class EighValues(_Factor):
    display_name = "eigh"
    index, factors = 0, staticmethod(_eigh_factors)

    @staticmethod
    def backward(ctx, grad_output):
        vectors = EighVectors.apply(ctx.inputs[0], False)
        return (vectors * grad_output.unsqueeze(-2)) @ _mT(vectors), None


class EighVectors(_Factor):
    display_name = "eigh"
    index, factors = 1, staticmethod(_eigh_factors)

    @staticmethod
    def backward(ctx, grad_output):
        a = ctx.inputs[0]
        values, vectors = EighValues.apply(a, False), EighVectors.apply(a, False)
        inner = _mT(vectors) @ grad_output
        inner = 0.5 * (inner - _mT(inner))  # the tangent space of orthogonal matrices
        gaps = values.unsqueeze(-2) - values.unsqueeze(-1) + _eye(values.shape[-1], values)
        if gaps.data.all():
            return vectors @ (inner / gaps) @ _mT(vectors), None
        with np.errstate(divide="ignore", invalid="ignore"):  # repeated: inf or NaN, documented
            return vectors @ (inner / gaps) @ _mT(vectors), None


def _singular_vector_gradient(gradient, grad_output, u, s, vh) -> tuple:
    """``gradient`` of ``U`` or ``Vh`` and None for the flag; at repeated or zero singular
    values (inf or NaN, documented) without NumPy's warnings."""
    if not _svd_kinked(s):
        return gradient(grad_output, u, s, vh), None
    with np.errstate(divide="ignore", invalid="ignore"):
        return gradient(grad_output, u, s, vh), None


class SvdU(_Factor):
    display_name = "svd"
    index, factors = 0, staticmethod(_svd_factors)

    @staticmethod
    def backward(ctx, grad_output):
        return _singular_vector_gradient(SvdU._gradient, grad_output, *_svd_nodes(ctx))

    @staticmethod
    def _gradient(grad_output, u, s, vh):
        inner = _mT(u) @ grad_output
        grad = u @ (((inner - _mT(inner)) / _svd_gaps(s)) * s.unsqueeze(-2))
        grad = grad + (grad_output - u @ inner) / s.unsqueeze(-2)
        return grad @ vh


class SvdS(_Factor):
    display_name = "svd"
    index, factors = 1, staticmethod(_svd_factors)

    @staticmethod
    def backward(ctx, grad_output):
        # Only the first min(m, n) singular vectors pair with S: the reduced factors.
        a = ctx.inputs[0]
        u, vh = SvdU.apply(a, False), SvdVh.apply(a, False)
        return (u * grad_output.unsqueeze(-2)) @ vh, None


class SvdVh(_Factor):
    display_name = "svd"
    index, factors = 2, staticmethod(_svd_factors)

    @staticmethod
    def backward(ctx, grad_output):
        return _singular_vector_gradient(SvdVh._gradient, grad_output, *_svd_nodes(ctx))

    @staticmethod
    def _gradient(grad_output, u, s, vh):
        inner = vh @ _mT(grad_output)  # V^T gV with gV = grad_output^T
        grad = (s.unsqueeze(-1) * ((inner - _mT(inner)) / _svd_gaps(s))) @ vh
        grad = grad + (grad_output - (grad_output @ _mT(vh)) @ vh) / s.unsqueeze(-1)
        return u @ grad


def _svd_nodes(ctx) -> tuple:
    a = ctx.inputs[0]
    if ctx.full and a.shape[-1] != a.shape[-2]:
        raise NotImplementedError(
            "svd: the gradient of U or Vh of a non-square matrix is computed for "
            "full_matrices=False only"
        )
    return tuple(cls.apply(a, False) for cls in (SvdU, SvdS, SvdVh))


def _svd_kinked(s: Tensor) -> bool:
    """Repeated or zero singular values, where U's and Vh's gradients are inf or NaN."""
    values = s.data
    return not (values.all() and (values[..., 1:] != values[..., :-1]).all())


def _svd_gaps(s: Tensor) -> Tensor:
    """``E[j, k] = s_k**2 - s_j**2`` off the diagonal, 1 on it."""
    squares = s * s
    return squares.unsqueeze(-2) - squares.unsqueeze(-1) + _eye(s.shape[-1], s)


def _qr_kinks(a, full) -> list:
    """Per Householder step, the norm of the column part it reflects (below the diagonal).

    LAPACK skips a reflection whose column is already zero there, where a nearby matrix
    gets one: Q and R jump (a column of Q and a row of R change sign) on that set.
    """
    a = np.asarray(a, np.float64)
    steps = min(a.shape[-2] - 1, a.shape[-1])  # a last step of one row reflects nothing
    if steps < 1:
        return []
    # mode="raw": h is R with the reflectors below its diagonal, transposed; the part
    # reflected at step k was (its stored vector) * -tau_k * R_kk.
    h, tau = np.linalg.qr(a, mode="raw")
    norms = [
        np.linalg.norm(h[..., k, k + 1 :], axis=-1) * np.abs(tau[..., k] * h[..., k, k])
        for k in range(steps)
    ]
    return [("a column already zero below the diagonal", np.stack(norms, axis=-1))]


class QrQ(_Factor):
    display_name = "qr"
    kinks = staticmethod(_qr_kinks)
    index, factors = 0, staticmethod(_qr_factors)

    @staticmethod
    def backward(ctx, grad_output):
        q, r = _qr_nodes(ctx)
        return _times_r_inverse_t(r, grad_output + q @ _copyltu(-(_mT(grad_output) @ q))), None


class QrR(_Factor):
    display_name = "qr"
    kinks = staticmethod(_qr_kinks)
    index, factors = 1, staticmethod(_qr_factors)

    @staticmethod
    def backward(ctx, grad_output):
        q, r = _qr_nodes(ctx)
        return _times_r_inverse_t(r, q @ _copyltu(r @ _mT(grad_output))), None


def _qr_nodes(ctx) -> tuple:
    a = ctx.inputs[0]
    rows, cols = a.shape[-2:]
    if rows < cols or (ctx.full and rows != cols):
        raise NotImplementedError(
            f"qr: the gradient is computed for matrices with rows >= columns (mode='reduced') "
            f"or square ones, got shape {a.shape}"
        )
    return QrQ.apply(a, ctx.full), QrR.apply(a, ctx.full)


def _copyltu(m: Tensor) -> Tensor:
    """The lower triangle of ``m`` mirrored to the upper one."""
    return _tril(m) + _mT(_tril(m, -1))


def _times_r_inverse_t(r: Tensor, x: Tensor) -> Tensor:
    """``x @ R^-T``: the last step of ``gA = (gQ + Q copyltu(R gR^T - gQ^T Q)) R^-T``."""
    return _mT(Solve.apply(r, _mT(x)))


def _factor_nodes(classes, a: Tensor, full: bool = False) -> tuple:
    return tuple(cls.apply(a, full) for cls in classes)


# -- public functions ---------------------------------------------------------------------------
# torch.linalg's named results: unpack them, or read the fields by PyTorch's names.
class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


def inv(A: TensorLike) -> Tensor:
    """The inverse of each square matrix in ``A`` (``torch.linalg.inv``).

    Singular matrices raise ``numpy.linalg.LinAlgError``.

    >>> import tinynet as tn
    >>> tn.linalg.inv(tn.tensor([[2.0, 0.0], [0.0, 4.0]])).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    A = as_tensor(A)
    _square(A, "inv")
    return Inv.apply(A)


def det(A: TensorLike) -> Tensor:
    """The determinant of each square matrix in ``A``.

    Its gradient is the cofactor matrix ``adj(A).T``: ``det(A) * inv(A).T`` where
    ``|det(A)| >= 100 eps``, else, singular matrices included, PyTorch's SVD formula (exact,
    no inverse; its second derivative too, a third order raises).

    >>> import tinynet as tn
    >>> round(tn.linalg.det(tn.tensor([[1.0, 2.0], [3.0, 4.0]])).item(), 6)
    -2.0
    """
    A = as_tensor(A)
    _square(A, "det")
    return Det.apply(A)


def slogdet(A: TensorLike) -> SlogdetResult:
    """``(sign, logabsdet)`` of each square matrix: ``det = sign * exp(logabsdet)``, a named
    tuple as PyTorch's (``.sign``, ``.logabsdet``).

    ``sign`` is a constant (no gradient); ``logabsdet``'s gradient is ``inv(A).T``, at a
    singular matrix the cofactors over 0 (inf or NaN, as PyTorch's), not an error.

    >>> import tinynet as tn
    >>> sign, logabsdet = tn.linalg.slogdet(tn.tensor([[0.0, 2.0], [3.0, 0.0]]))
    >>> sign.item(), round(logabsdet.item(), 6)
    (-1.0, 1.791759)
    """
    A = as_tensor(A)
    _square(A, "slogdet")
    sign = _lapack("slogdet", lambda m: np.linalg.slogdet(m)[0], A.data)
    return SlogdetResult(Tensor.wrap(np.asarray(sign, A.data.dtype)), LogAbsDet.apply(A))


def solve(A: TensorLike, B: TensorLike) -> Tensor:
    """``X`` with ``A @ X = B`` (``torch.linalg.solve``); batches broadcast.

    ``B`` is a batch of vectors when it is 1-D or has shape ``A.shape[:-1]``, as in
    PyTorch, and a batch of matrices ``(*, n, k)`` otherwise.

    >>> import tinynet as tn
    >>> tn.linalg.solve(tn.tensor([[2.0, 0.0], [0.0, 4.0]]), tn.tensor([2.0, 2.0])).tolist()
    [1.0, 0.5]
    """
    A, B = as_tensor(A), as_tensor(B)
    _square(A, "solve")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    if vector:
        B = B.unsqueeze(-1)
    if B.ndim < 2 or B.shape[-2] != A.shape[-1]:
        raise ShapeError(f"solve: A of shape {A.shape} does not fit B of shape {B.shape}")
    try:
        X = Solve.apply(A, B)
    except ValueError as error:
        if isinstance(error, np.linalg.LinAlgError):
            raise
        raise ShapeError(
            f"solve: batch shapes of A {A.shape} and B {B.shape} do not broadcast"
        ) from None
    return X.squeeze(-1) if vector else X


def cholesky(A: TensorLike, upper: bool = False) -> Tensor:
    """The Cholesky factor ``L`` (lower) of symmetric positive-definite ``A = L @ L.T``.

    ``upper=True`` returns ``L.T``. A matrix that is not positive-definite raises
    ``numpy.linalg.LinAlgError``; one that is not symmetric up to rounding (``max|A - A.T|``
    above ``min(4 n eps, sqrt(eps)) * max|A|``, per matrix) raises ``ValueError``, where PyTorch
    and NumPy would read its lower triangle. The factor is that of the symmetric part
    ``(A + A.T) / 2``, so the gradient, symmetric as PyTorch's, is exact.

    >>> import tinynet as tn
    >>> tn.linalg.cholesky(tn.tensor([[4.0, 2.0], [2.0, 2.0]])).tolist()
    [[2.0, 0.0], [1.0, 1.0]]
    """
    A = as_tensor(A)
    _square(A, "cholesky")
    _require_symmetric(A, "cholesky")
    lower = Cholesky.apply(A)
    return _mT(lower) if upper else lower


def qr(A: TensorLike, mode: str = "reduced") -> QRResult:
    """``(Q, R)`` with ``A = Q @ R``, ``Q`` orthonormal columns, ``R`` upper triangular (a
    named tuple: ``.Q``, ``.R``).

    ``mode`` is ``'reduced'`` or ``'complete'``, as ``torch.linalg.qr``. The gradient is
    computed for ``rows >= columns`` (``'reduced'``) and square matrices of full rank.

    >>> import tinynet as tn
    >>> q, r = tn.linalg.qr(tn.tensor([[3.0, 1.0], [4.0, 2.0], [0.0, 2.0]]))
    >>> q.shape, r.shape
    ((3, 2), (2, 2))
    """
    A = as_tensor(A)
    if A.ndim < 2 or A.data.dtype.kind != "f":
        raise ShapeError(f"qr: expected floating matrices of shape (*, m, n), got {A.shape}")
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
    return QRResult(*_factor_nodes((QrQ, QrR), A, full=mode == "complete"))


def eigh(A: TensorLike, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices (a named
    tuple: ``.eigenvalues``, ``.eigenvectors``).

    They are those of the symmetric part ``(A + A.T) / 2``, so the gradient (symmetric, as
    PyTorch's) is exact. A matrix that is not symmetric up to rounding raises ``ValueError``
    (as in ``cholesky``), where PyTorch would read the triangle ``UPLO`` names (``'L'`` or
    ``'U'``): on the matrices accepted, both triangles agree up to rounding. The
    eigenvectors' gradient divides by eigenvalue gaps: it is defined for distinct
    eigenvalues only (inf or NaN at repeated ones, as in PyTorch), and only for losses that
    do not depend on the eigenvectors' signs.

    >>> import tinynet as tn
    >>> values, vectors = tn.linalg.eigh(tn.tensor([[2.0, 1.0], [1.0, 2.0]]))
    >>> values.tolist()
    [1.0, 3.0]
    """
    A = as_tensor(A)
    _square(A, "eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    _require_symmetric(A, "eigh", upper=UPLO == "U")
    return EighResult(*_factor_nodes((EighValues, EighVectors), A))


def svd(A: TensorLike, full_matrices: bool = True) -> SVDResult:
    """``(U, S, Vh)`` with ``A = U @ diag(S) @ Vh``, ``S`` descending (``torch.linalg.svd``;
    a named tuple: ``.U``, ``.S``, ``.Vh``).

    Gradients of ``S`` are always defined; those of ``U`` and ``Vh`` need
    ``full_matrices=False`` (or a square ``A``), distinct nonzero singular values, and a
    loss that does not depend on the singular vectors' signs (as in PyTorch).

    >>> import tinynet as tn
    >>> u, s, vh = tn.linalg.svd(tn.tensor([[3.0, 0.0], [0.0, -2.0], [0.0, 0.0]]), False)
    >>> s.tolist(), u.shape, vh.shape
    ([3.0, 2.0], (3, 2), (2, 2))
    """
    A = as_tensor(A)
    if A.ndim < 2 or A.data.dtype.kind != "f":
        raise ShapeError(f"svd: expected floating matrices of shape (*, m, n), got {A.shape}")
    return SVDResult(*_factor_nodes((SvdU, SvdS, SvdVh), A, full=full_matrices))


def outer(input: TensorLike, vec2: TensorLike) -> Tensor:
    """The outer product of two vectors: ``out[i, j] = input[i] * vec2[j]``.

    >>> import tinynet as tn
    >>> tn.outer(tn.tensor([1.0, 2.0]), tn.tensor([1.0, 0.0, -1.0])).tolist()
    [[1.0, 0.0, -1.0], [2.0, 0.0, -2.0]]
    """
    a, b = as_tensor(input), as_tensor(vec2)
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"outer: expected two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return a.reshape(-1, 1) * b.reshape(1, -1)


def dot(input: TensorLike, tensor: TensorLike) -> Tensor:
    """The inner product of two 1-D tensors of the same length (``torch.dot``).

    >>> import tinynet as tn
    >>> tn.dot(tn.tensor([1.0, 2.0]), tn.tensor([3.0, 4.0])).item()
    11.0
    """
    a, b = as_tensor(input), as_tensor(tensor)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ShapeError(
            f"dot: expected two 1-D tensors of the same length, got shapes {a.shape} and {b.shape}"
        )
    return matmul(a, b)


def bmm(input: TensorLike, mat2: TensorLike) -> Tensor:
    """Batched matrix product of ``(b, n, m)`` and ``(b, m, p)``; no broadcasting (``torch.bmm``).

    >>> import tinynet as tn
    >>> tn.bmm(tn.ones(4, 2, 3), tn.ones(4, 3, 5)).shape
    (4, 2, 5)
    """
    a, b = as_tensor(input), as_tensor(mat2)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ShapeError(
            f"bmm: expected (b, n, m) and (b, m, p) batches, got shapes {a.shape} and {b.shape}"
        )
    return matmul(a, b)


# -- PyTorch's matrix conveniences, composed from the above ----------------------------------
def mm(input: TensorLike, mat2: TensorLike) -> Tensor:
    """The product of two matrices, ``(n, m) @ (m, p)``; no broadcasting (``torch.mm``).

    >>> import tinynet as tn
    >>> tn.mm(tn.ones(2, 3), tn.ones(3, 4)).shape
    (2, 4)
    """
    a, b = as_tensor(input), as_tensor(mat2)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ShapeError(
            f"mm: expected matrices (n, m) and (m, p), got shapes {a.shape} and {b.shape}; "
            "use matmul to broadcast batches"
        )
    return matmul(a, b)


def mv(input: TensorLike, vec: TensorLike) -> Tensor:
    """The product of a matrix ``(n, m)`` and a vector ``(m,)`` (``torch.mv``).

    >>> import tinynet as tn
    >>> tn.mv(tn.tensor([[1.0, 2.0], [3.0, 4.0]]), tn.tensor([1.0, -1.0])).tolist()
    [-1.0, -1.0]
    """
    a, v = as_tensor(input), as_tensor(vec)
    if a.ndim != 2 or v.ndim != 1 or a.shape[1] != v.shape[0]:
        raise ShapeError(
            f"mv: expected a matrix (n, m) and a vector (m,), got shapes {a.shape} and {v.shape}"
        )
    return matmul(a, v)


def trace(input: TensorLike) -> Tensor:
    """The sum of a matrix's main diagonal (``torch.trace``; any rectangle).

    >>> import tinynet as tn
    >>> tn.trace(tn.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).item()
    6.0
    """
    x = as_tensor(input)
    if x.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, got a tensor of shape {x.shape}")
    steps = np.arange(min(x.shape))
    return x[steps, steps].sum()


def kron(input: TensorLike, other: TensorLike) -> Tensor:
    """The Kronecker product (``torch.kron``): the shapes multiply axis by axis, the
    shorter one padded with leading 1s.

    >>> import tinynet as tn
    >>> tn.kron(tn.tensor([1.0, 2.0]), tn.tensor([1.0, 10.0])).tolist()
    [1.0, 10.0, 2.0, 20.0]
    """
    a, b = binary(input, other)
    ndim = max(a.ndim, b.ndim)
    a_shape = (1,) * (ndim - a.ndim) + a.shape
    b_shape = (1,) * (ndim - b.ndim) + b.shape
    # Interleave the axes: a on the even ones, b on the odd ones, then merge each pair.
    a = a.reshape(*(n for size in a_shape for n in (size, 1)))
    b = b.reshape(*(n for size in b_shape for n in (1, size)))
    return (a * b).reshape(*(m * n for m, n in zip(a_shape, b_shape)))


@dim_aliases
def cross_product(input: TensorLike, other: TensorLike, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (None: the first axis of length 3); the
    inputs broadcast. The arithmetic of ``tn.cross`` (``torch.cross``) and ``cross`` below
    (``torch.linalg.cross``), which differ in their default ``dim`` only.

    >>> import tinynet as tn
    >>> cross_product(tn.tensor([1.0, 0.0, 0.0]), tn.tensor([0.0, 1.0, 0.0])).tolist()
    [0.0, 0.0, 1.0]
    """
    a, b = binary(input, other)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"cross: shapes {a.shape} and {b.shape} cannot be broadcast") from None
    if dim is None:
        dim = next((i for i, n in enumerate(a.shape) if n == 3), None)
        if dim is None:
            raise ShapeError(f"cross: no dimension of size 3 in input's shape {a.shape}")
        dim -= a.ndim  # counted from the end: the broadcast shape may have more axes
    if not -len(shape) <= dim < len(shape):
        raise IndexError(f"cross: dim {dim} is out of range for {len(shape)} dimensions")
    axis = dim % len(shape)
    sides = [
        x.shape[axis - len(shape) + x.ndim] if axis >= len(shape) - x.ndim else 1 for x in (a, b)
    ]
    if sides != [3, 3]:
        raise ShapeError(
            f"cross: dimension {dim} must have size 3 in both inputs, got shapes {a.shape} "
            f"and {b.shape}"
        )
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)

    def part(x: Tensor, i: int) -> Tensor:
        return x[(slice(None),) * axis + (slice(i, i + 1),)]

    components = [
        part(a, (i + 1) % 3) * part(b, (i + 2) % 3) - part(a, (i + 2) % 3) * part(b, (i + 1) % 3)
        for i in range(3)
    ]
    return concatenate(components, axis)


@dim_aliases
def cross(input: TensorLike, other: TensorLike, *, dim: int = -1) -> Tensor:
    """``torch.linalg.cross``: the cross product of 3-vectors along ``dim``, the last axis
    by default (``tn.cross`` is ``torch.cross``, whose default is the first axis of length 3).

    >>> import tinynet as tn
    >>> a = tn.eye(3)
    >>> tn.linalg.cross(a, a[[1, 2, 0]]).tolist()  # row by row: e0 x e1, e1 x e2, e2 x e0
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    return cross_product(input, other, dim)
