"""Testing tools for tinynet users: Hypothesis strategies, a gradient property helper,
and the table of every op (``tinynet.testing.opinfo.OPS``).

>>> import tinynet as tn
>>> from tinynet.testing import check_gradients_property, tensors
>>> check_gradients_property(lambda x: x.sigmoid() * x, tensors(shape=(2, 2)))

The runtime never imports this package. Its strategies need Hypothesis
(``pip install hypothesis``); ``opinfo.sample_inputs`` works with NumPy alone.
"""

from tinynet.testing.graph import assert_no_graph, ops_run
from tinynet.testing.properties import (
    check_gradients_property,
    gradient_property,
    gradient_report,
)
from tinynet.testing.strategies import (
    DOMAINS,
    arrays,
    axes,
    basic_indices,
    boolean_masks,
    broadcastable_pairs,
    broadcastable_shapes,
    elements,
    indices,
    integer_indices,
    keep_away,
    sample_values,
    shapes,
    shapes_broadcasting_to,
    tensors,
)

__all__ = [
    "DOMAINS",
    "arrays",
    "assert_no_graph",
    "axes",
    "basic_indices",
    "boolean_masks",
    "broadcastable_pairs",
    "broadcastable_shapes",
    "check_gradients_property",
    "elements",
    "gradient_property",
    "gradient_report",
    "indices",
    "integer_indices",
    "keep_away",
    "ops_run",
    "sample_values",
    "shapes",
    "shapes_broadcasting_to",
    "tensors",
]
