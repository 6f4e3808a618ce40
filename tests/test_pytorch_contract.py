"""Issue 10: where a PyTorch user's hands go first, tinynet does what PyTorch does or raises.

Expected values come from PyTorch's documented semantics, NumPy, or hand computation.
"""

import numpy as np
import pytest

import tinynet as tn


def f64(values, requires_grad: bool = False) -> tn.Tensor:
    return tn.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# -- indexing ---------------------------------------------------------------------------------
@pytest.mark.parametrize("column_index", [(0, 0, 2), [0, 0, 2]], ids=["tuple", "list"])
def test_index_arrays_inside_the_index_tuple_accumulate_in_backward(column_index):
    x = f64(np.arange(6.0).reshape(2, 3), requires_grad=True)
    picked = x[:, column_index]
    np.testing.assert_array_equal(picked.data, x.data[:, [0, 0, 2]])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[2.0, 0.0, 1.0], [2.0, 0.0, 1.0]])


def test_a_top_level_tuple_is_still_basic_indexing():
    x = f64(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x[(1, 2)].item() == 5.0
