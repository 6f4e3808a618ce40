"""Errors name the problem, with the exception types PyTorch and NumPy users expect."""

import numpy as np
import pytest

import tinynet as tn


def test_elementwise_shape_mismatch_names_both_shapes():
    a, b = tn.zeros(2, 3), tn.zeros(4)
    with pytest.raises(tn.ShapeError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        a + b
    with pytest.raises(RuntimeError):  # PyTorch users catch RuntimeError
        a * b
    with pytest.raises(ValueError):  # NumPy users catch ValueError
        a - b


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: tn.zeros(2, 3) @ tn.zeros(4, 2), r"matmul: shapes \(2, 3\) and \(4, 2\)"),
        (lambda: tn.zeros(6).reshape(4, 2), r"shape \(6,\) into shape \(4, 2\)"),
        (lambda: tn.concatenate([tn.zeros(2, 3), tn.zeros(2, 4)]), r"\(2, 3\), \(2, 4\)"),
        (lambda: tn.zeros(3).broadcast_to((2, 4)), r"shape \(3,\) to shape \(2, 4\)"),
        (lambda: tn.stack([tn.zeros(2), tn.zeros(3)]), "equal shape"),
        (lambda: tn.where(np.ones(3, bool), tn.zeros(2), 0.0), r"\(3,\) and \(2,\)"),
        (lambda: tn.zeros(2) @ tn.tensor(1.0), "at least one dimension"),
    ],
)
def test_shape_errors(call, pattern):
    with pytest.raises(tn.ShapeError, match=pattern):
        call()


def test_axis_out_of_range_is_an_index_error():
    with pytest.raises(IndexError, match="axis 2"):
        tn.zeros(2, 3).sum(axis=2)


def test_transpose_needs_a_permutation():
    # Two ints swap axes (PyTorch's transpose(dim0, dim1)); a sequence must be a permutation.
    with pytest.raises(ValueError, match="permutation"):
        tn.zeros(2, 3).transpose((0, 0))
    with pytest.raises(ValueError, match="permutation"):
        tn.zeros(2, 3, 4).transpose(0, 0, 1)


def test_max_of_empty_tensor():
    with pytest.raises(ValueError, match="empty"):
        tn.zeros(0).max()
