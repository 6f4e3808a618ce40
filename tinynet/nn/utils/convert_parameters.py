"""Parameters as one flat vector and back: ``parameters_to_vector``, ``vector_to_parameters``."""

from __future__ import annotations

from collections.abc import Iterable

from tinynet._grad_mode import no_grad
from tinynet.ops import concatenate
from tinynet.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _as_list(parameters: Tensor | Iterable[Tensor], name: str) -> list[Tensor]:
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for index, parameter in enumerate(parameters):
        if not isinstance(parameter, Tensor):
            raise TypeError(
                f"{name}: parameter {index} is a {type(parameter).__name__}, not a Tensor; pass "
                "module.parameters() or a list of Tensors"
            )
    return parameters


def parameters_to_vector(parameters: Tensor | Iterable[Tensor]) -> Tensor:
    """All ``parameters`` flattened and joined into one 1-D Tensor, in order.

    Differentiable: the gradient of the vector flows back to each parameter.

    >>> import tinynet as tn
    >>> from tinynet import nn
    >>> layer = nn.Linear(3, 2, rng=0)
    >>> parameters_to_vector(layer.parameters()).shape
    (8,)
    """
    parameters = _as_list(parameters, "parameters_to_vector")
    if not parameters:
        raise RuntimeError("parameters_to_vector: expected a non-empty list of parameters")
    return concatenate([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Tensor | Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` in place (values only,
    no graph), each reshaped to its parameter's shape and cast to its dtype.

    The inverse of ``parameters_to_vector``. ``vec`` must hold exactly as many elements as
    the parameters together (PyTorch ignores extra ones; tinynet refuses them).

    >>> import tinynet as tn
    >>> from tinynet import nn
    >>> layer = nn.Linear(2, 1, rng=0)
    >>> vector_to_parameters(tn.tensor([1.0, 2.0, 3.0]), layer.parameters())
    >>> layer.weight.tolist(), layer.bias.tolist()
    ([[1.0, 2.0]], [3.0])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__module__}.{type(vec).__name__}")
    parameters = _as_list(parameters, "vector_to_parameters")
    total = sum(p.data.size for p in parameters)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise RuntimeError(
            f"vector_to_parameters: expected a 1-D vector of {total} elements (the parameters' "
            f"total), got shape {vec.shape}"
        )
    start = 0
    with no_grad():  # an in-place write: graphs that saved the old values are refused
        for parameter in parameters:
            size = parameter.data.size
            parameter.copy_(vec.data[start : start + size].reshape(parameter.shape))
            start += size
