"""Checks about the graph itself: that results carry none, and which ops a piece of code runs.

``assert_no_graph`` is the one "no graph recorded" check of the tests; ``ops_run`` lists the
ops that run inside a block (through the engine's forward hook), which tells a first-order
fast path written in NumPy from its Tensor-op version.

>>> import tinynet as tn
>>> from tinynet.testing.graph import assert_no_graph, ops_run
>>> x = tn.ones(3, requires_grad=True)
>>> with ops_run() as names:
...     y = (x * 2).relu()
>>> names
['Mul', 'Relu']
>>> with tn.no_grad():
...     assert_no_graph((x * 2).relu())
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tinynet import autograd
from tinynet.tensor import Tensor

__all__ = ["assert_no_graph", "ops_run"]


def assert_no_graph(*tensors: Tensor) -> None:
    """Raise ``AssertionError`` unless every tensor is free of any recorded graph.

    A tensor carries a graph when it was made by a recorded op (``grad_fn`` is set).
    """
    for index, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"argument {index} is a {type(tensor).__name__}, not a Tensor")
        if tensor.grad_fn is not None:
            raise AssertionError(
                f"tensor {index} carries a recorded graph (grad_fn {type(tensor.grad_fn).__name__})"
            )


@contextlib.contextmanager
def ops_run() -> Iterator[list[str]]:
    """Collect the class names of the ops run inside the block in this thread, in order,
    whether recorded or not."""
    names: list[str] = []
    with autograd.register_forward_hook(lambda ctx, result: names.append(type(ctx).__name__)):
        yield names
