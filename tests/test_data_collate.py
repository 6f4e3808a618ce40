"""default_collate and default_convert against torch.utils.data's documented rules: tensors
and arrays stacked, numbers to tensors with PyTorch's dtypes, mappings, namedtuples and
sequences recursed (tuples to lists), strings kept as lists, and clear errors."""

from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import tinynet as tn
from tinynet.data import default_collate, default_convert
from tinynet.errors import ShapeError

Point = namedtuple("Point", "xy label")


def test_nested_samples_are_batched_leaf_by_leaf():
    rng = np.random.default_rng(0)
    samples = [
        {
            "image": rng.standard_normal((2, 3)).astype(np.float32),
            "meta": (i, i / 4, f"name{i}"),
            "point": Point(tn.tensor([i, -i]), [True, i % 2 == 0]),
        }
        for i in range(3)
    ]
    batch = default_collate(samples)
    assert type(batch) is dict and list(batch) == ["image", "meta", "point"]
    np.testing.assert_array_equal(batch["image"].numpy(), np.stack([s["image"] for s in samples]))
    assert batch["image"].dtype == np.float32
    ids, quarters, names = batch["meta"]  # a tuple gives a list, as PyTorch's
    assert type(batch["meta"]) is list
    assert ids.dtype == np.int64 and ids.tolist() == [0, 1, 2]
    assert quarters.dtype == np.float64 and quarters.tolist() == [0.0, 0.25, 0.5]
    assert names == ["name0", "name1", "name2"]
    point = batch["point"]
    assert type(point) is Point and point.xy.tolist() == [[0, 0], [1, -1], [2, -2]]
    assert type(point.label) is list and [flag.dtype for flag in point.label] == [np.bool_] * 2
    assert [flag.tolist() for flag in point.label] == [[True, True, True], [True, False, True]]


def test_numbers_get_pytorchs_dtypes():
    assert default_collate([1, 2]).dtype == np.int64
    assert default_collate([1.0, 2]).dtype == np.float64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([1, 2.5]).dtype == tn.get_default_dtype()  # torch.tensor's rule
    assert default_collate([1, 2.5]).tolist() == [1.0, 2.5]  # never truncated to ints
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
    assert default_collate([np.int8(1), np.int8(2)]).dtype == np.int8
    assert default_collate([b"a", b"b"]) == [b"a", b"b"]


def test_containers_keep_their_type_where_they_can():
    ordered = default_collate([OrderedDict(b=1, a=2), OrderedDict(b=3, a=4)])
    assert type(ordered) is OrderedDict and list(ordered) == ["b", "a"]
    assert ordered["a"].tolist() == [2, 4]
    lists = default_collate([[1, 2.0], [3, 4.0]])
    assert type(lists) is list and [f.tolist() for f in lists] == [[1, 3], [2.0, 4.0]]
    stacked = default_collate([tn.tensor([1.0, 2.0], requires_grad=True), tn.tensor([3.0, 4.0])])
    assert stacked.shape == (2, 2) and stacked.requires_grad  # stacked by a recorded op


def test_mismatched_samples_raise_clear_errors():
    with pytest.raises(ShapeError, match=r"\(2,\) at entry 0 and \(3,\) at entry 2") as caught:
        default_collate([np.zeros(2), np.zeros(2), np.zeros(3)])
    assert isinstance(caught.value, RuntimeError) and "collate_fn" in str(caught.value)
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([tn.zeros(2), tn.zeros(1)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([(1, 2), (3,)])
    with pytest.raises(KeyError, match="sample 1 has no key 'y'"):
        default_collate([{"x": 1, "y": 2}, {"x": 3}])
    with pytest.raises(TypeError, match="cannot batch samples of type NoneType"):
        default_collate([None, None])
    with pytest.raises(TypeError, match="numpy.ndarray of dtype <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(ValueError, match="empty batch"):
        default_collate([])


def test_default_convert_turns_arrays_into_tensors_and_keeps_the_rest():
    array = np.arange(3, dtype=np.int16)
    converted = default_convert((array, np.float32(2.5), 7, "text", [np.ones(1)]))
    assert type(converted) is list  # a tuple gives a list, as PyTorch's
    tensor, scalar, number, text, nested = converted
    assert isinstance(tensor, tn.Tensor) and tensor.dtype == np.int16
    np.testing.assert_array_equal(tensor.numpy(), array)
    assert isinstance(scalar, tn.Tensor) and scalar.shape == () and scalar.dtype == np.float32
    assert number == 7 and text == "text" and isinstance(nested[0], tn.Tensor)
    point = default_convert(Point(np.zeros(2), "cat"))
    assert type(point) is Point and isinstance(point.xy, tn.Tensor) and point.label == "cat"
    strings = np.array(["a", "b"])
    assert default_convert(strings) is strings
    same = tn.tensor([1.0])
    assert default_convert(same) is same and default_convert({"k": same})["k"] is same
