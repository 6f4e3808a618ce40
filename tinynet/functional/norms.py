"""Norms, normalize and einsum."""

from __future__ import annotations

import builtins
import math

import numpy as np

from tinynet import ops
from tinynet.autograd import traced_call
from tinynet.errors import ShapeError
from tinynet.functional.basic import squeeze
from tinynet.functional.shape import diagonal
from tinynet.ops._args import (
    as_array,
    as_tensor,
    dim_aliases,
    keepdims_shape,
    reduction_axes,
)
from tinynet.ops.reduce import Max, Min
from tinynet.tensor import Tensor


def _zero(x: Tensor) -> np.ndarray:
    """Where ``x`` is 0: a traced call, so that a ``tn.compile`` replay finds each call's."""
    return traced_call(as_array, np.equal, x.data, 0)


def _vector_norm(x: Tensor, p, reduced, keepdim: bool) -> Tensor:
    if p == 2:
        squares = (x * x).sum(reduced, keepdims=keepdim)
        # sqrt'(0) = inf times a zero gradient of the squares: the gradient at 0 is 0.
        return ops.where(_zero(squares), 0.0, squares.sqrt())
    if p == 1:
        return ops.abs(x).sum(reduced, keepdims=keepdim)
    if p == math.inf:
        return Max.apply(ops.abs(x), reduced, keepdim)  # values only, no pair guard
    if p == -math.inf:
        return Min.apply(ops.abs(x), reduced, keepdim)
    if p == 0:
        return ops.sign(ops.abs(x)).sum(reduced, keepdims=keepdim)
    powers = ops.abs(x) ** p
    if 0 < p < 1:
        # |x| ** p has an infinite slope at 0, times abs's 0 there: NaN. PyTorch's norm and
        # cdist give such a coordinate 0 (its norm_backward masks x == 0 for p < 1).
        powers = ops.where(_zero(x), 0.0, powers)
    powers = powers.sum(reduced, keepdims=keepdim)
    if p > 0:
        return ops.where(_zero(powers), 0.0, powers ** (1.0 / p))
    return powers ** (1.0 / p)


def _matrix_norm(x: Tensor, p, reduced: tuple, keepdim: bool) -> Tensor:
    rows, columns = reduced
    if p == "fro":
        return _vector_norm(x, 2, reduced, keepdim)
    if p in (1, -1, math.inf, -math.inf):
        # 1: the largest column sum of |x|; inf: the largest row sum; negative: the smallest.
        summed_axis, kept_axis = (rows, columns) if p in (1, -1) else (columns, rows)
        sums = ops.abs(x).sum(summed_axis, keepdims=True)
        result = (Max if p > 0 else Min).apply(sums, kept_axis, True)
        return result if keepdim else squeeze(result, reduced)
    # 'nuc': the sum of the singular values; 2 and -2: the largest and the smallest.
    others = [d for d in range(x.ndim) if d not in reduced]
    singular = ops.svd(x.permute(*others, rows, columns), full_matrices=False)[1]
    if p == "nuc":
        result = singular.sum(-1)
    elif p in (2, -2):
        result = (Max if p == 2 else Min).apply(singular, -1, False)
    else:
        raise ValueError(
            f"norm: unknown matrix norm p={p!r}; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf"
        )
    return result.reshape(keepdims_shape(x.shape, reduced)) if keepdim else result


@dim_aliases
def norm(x, p="fro", dim=None, keepdim: bool = False) -> Tensor:
    """Vector or matrix norm, as ``torch.norm``.

    ``dim`` None or an int: the vector ``p``-norm (``'fro'`` is 2) of all elements or along
    ``dim``; ``dim`` a pair: the matrix norm ``'fro'``, ``'nuc'``, 1, -1, 2, -2, ``inf`` or
    ``-inf`` over those two axes (``'nuc'`` and +-2 from the singular values). ``p`` may be any number for vectors (0 counts nonzeros). The gradient of a
    norm that is 0 is 0 (as PyTorch).

    >>> import tinynet as tn
    >>> tn.norm(tn.tensor([3.0, 4.0])).item()
    5.0
    >>> tn.norm(tn.tensor([[1.0, -2.0], [3.0, 4.0]]), p=1, dim=(0, 1)).item()
    6.0
    """
    x = as_tensor(x)
    reduced = reduction_axes(dim, x.ndim)
    if reduced is not None and len(reduced) == 2 and not isinstance(dim, int):
        if p not in ("fro", "nuc") and not isinstance(p, (int, float)):
            raise ValueError(f"norm: unknown matrix norm p={p!r}")
        return _matrix_norm(x, p, reduced, keepdim)
    if p == "fro":
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is a matrix norm; pass dim as a pair of axes")
    return _vector_norm(x, p, reduced, keepdim)


@dim_aliases
def normalize(x, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``x / max(norm(x, p, dim), eps)``: unit ``p``-norm slices along ``dim`` (as PyTorch).

    >>> import tinynet as tn
    >>> tn.normalize(tn.tensor([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """
    x = as_tensor(x)
    length = norm(x, p, dim, keepdim=True)
    return x / ops.clip(length, min=eps)


def _einsum_operands(equation: str, operands) -> tuple:
    """Parse ``equation``: the labels of each operand (ellipses expanded) and of the output."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {len(terms)} operand(s) in {equation!r}, got {len(operands)}")
    used = set(equation) - {".", ",", "-", ">"}
    if not builtins.all(c.isalpha() for c in used):
        raise ValueError(f"einsum: labels must be letters, got {equation!r}")
    spare = [chr(c) for c in range(ord("A"), ord("Z") + 1) if chr(c) not in used]
    spare += [chr(c) for c in range(ord("a"), ord("z") + 1) if chr(c) not in used]
    ellipsis_ndim = 0
    for term, operand in zip(terms, operands):
        if "..." in term:
            ellipsis_ndim = max(ellipsis_ndim, operand.ndim - len(term.replace("...", "")))
    broadcast = "".join(spare[:ellipsis_ndim])
    labels = []
    for term, operand in zip(terms, operands):
        if "..." in term:
            named = len(term) - 3
            term = term.replace("...", broadcast[len(broadcast) - (operand.ndim - named) :])
        if len(term) != operand.ndim:
            raise ValueError(
                f"einsum: {term!r} names {len(term)} axes for an operand of shape {operand.shape}"
            )
        labels.append(term)
    if arrow:
        output = output.replace("...", broadcast)
    else:  # implicit output: the labels used once, in alphabetical order, after the ellipsis
        counts = {c: "".join(labels).count(c) for c in set("".join(labels))}
        output = broadcast + "".join(
            sorted(c for c, k in counts.items() if k == 1 and c not in broadcast)
        )
    return labels, output


def _einsum_diagonal(x: Tensor, labels: str) -> tuple:
    """Take the diagonal of repeated labels (``'ii'``), so each label names one axis."""
    while len(set(labels)) != len(labels):
        label = next(c for c in labels if labels.count(c) > 1)
        first, second = (i for i, c in enumerate(labels) if c == label)
        x = diagonal(x, 0, first, second)
        labels = "".join(c for i, c in enumerate(labels) if i not in (first, second)) + label
    return x, labels


def _einsum_pair(a: Tensor, la: str, b: Tensor, lb: str, keep: set) -> tuple:
    """Contract two operands with one batched matmul; ``keep``: labels needed afterwards."""
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    only_a = [c for c in la if c not in lb]
    only_b = [c for c in lb if c not in la]
    a = a.permute(*[la.index(c) for c in batch + only_a + summed])
    b = b.permute(*[lb.index(c) for c in batch + summed + only_b])
    size = dict(zip(batch + only_a + summed, a.shape)) | dict(zip(batch + summed + only_b, b.shape))
    batch_shape = [size[c] for c in batch]
    m, k, n = (math.prod(size[c] for c in group) for group in (only_a, summed, only_b))
    product = a.reshape(*batch_shape, m, k) @ b.reshape(*batch_shape, k, n)
    out_labels = batch + only_a + only_b
    return product.reshape(*[size[c] for c in out_labels]), "".join(out_labels)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation as ``torch.einsum``: ``'ij,jk->ik'``, ``'ii->i'``, ``'...ij->...ji'``.

    Operands are contracted pairwise with batched matrix products, so the cost is that of
    the matmuls, not of the full index space.

    >>> import tinynet as tn
    >>> a, b = tn.ones(2, 3), tn.ones(3, 4)
    >>> tn.einsum("ij,jk->ik", a, b).shape
    (2, 4)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [as_tensor(t) for t in operands]
    if not tensors:
        raise ValueError("einsum needs at least one operand")
    labels, output = _einsum_operands(equation, tensors)
    if len(set(output)) != len(output) or set(output) - set("".join(labels)):
        raise ValueError(f"einsum: bad output labels {output!r} in {equation!r}")
    sizes: dict = {}
    for t, term in zip(tensors, labels):
        for c, n in zip(term, t.shape):
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise ShapeError(f"einsum: label {c!r} has lengths {sizes[c]} and {n}")
            sizes[c] = max(sizes.get(c, 1), n)
    work = []
    for t, term in zip(tensors, labels):
        t, term = _einsum_diagonal(t, term)
        target = tuple(sizes[c] for c in term)
        work.append([t.broadcast_to(target) if t.shape != target else t, term])
    # Sum labels found in one operand only and not in the output, before any product.
    for i, (t, term) in enumerate(work):
        elsewhere = set(output).union(*(set(w[1]) for j, w in enumerate(work) if j != i))
        lonely = tuple(d for d, c in enumerate(term) if c not in elsewhere)
        if lonely:
            work[i] = [
                t.sum(lonely),
                "".join(c for c in term if c not in set(term[d] for d in lonely)),
            ]
    t, term = work[0]
    for index in range(1, len(work)):
        other, other_term = work[index]
        keep = set(output).union(*(set(w[1]) for w in work[index + 1 :]))
        t, term = _einsum_pair(t, term, other, other_term, keep)
    lonely = tuple(d for d, c in enumerate(term) if c not in output)
    if lonely:
        t, term = t.sum(lonely), "".join(c for c in term if c in output)
    return t.permute(*[term.index(c) for c in output]) if term != output else t
