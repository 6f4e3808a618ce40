"""Modules of the vector similarities: ``CosineSimilarity`` and ``PairwiseDistance``."""

from __future__ import annotations

from tinynet.functional import cosine_similarity, pairwise_distance
from tinynet.nn.module import Module
from tinynet.tensor import Tensor

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine similarity along ``dim``; see ``tinynet.cosine_similarity``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.CosineSimilarity(dim=0)(tn.tensor([1.0, 0.0]), tn.tensor([2.0, 0.0])).item()
    1.0
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}"


class PairwiseDistance(Module):
    """``p``-norm distance along the last axis; see ``tinynet.pairwise_distance``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.PairwiseDistance(eps=0.0)(tn.tensor([[3.0, 4.0]]), tn.tensor([[0.0, 0.0]])).tolist()
    [5.0]
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

    def extra_repr(self) -> str:
        return f"p={self.norm}, eps={self.eps}, keepdim={self.keepdim}"
