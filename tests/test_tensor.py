"""The Tensor object: construction, the dtype policy, operators, creation functions."""

import pickle

import numpy as np
import pytest

import tinynet as tn


def test_python_data_takes_the_default_dtype_and_arrays_keep_theirs():
    assert tn.tensor([1.0, 2.0]).dtype == np.float32
    assert tn.tensor(1.5).dtype == np.float32
    assert tn.tensor([1, 2]).dtype == np.int64
    assert tn.tensor([True]).dtype == np.bool_
    assert tn.tensor([1, 2.5]).dtype == np.float32
    assert tn.tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert tn.Tensor(np.zeros(2, np.float16)).dtype == np.float16
    tn.set_default_dtype(tn.float64)
    assert tn.tensor([1.0]).dtype == np.float64
    assert tn.zeros(2).dtype == np.float64


def test_set_default_dtype_refuses_non_floating():
    with pytest.raises(TypeError, match="floating"):
        tn.set_default_dtype(np.int32)


@pytest.mark.parametrize(
    "data",
    [np.array([1 + 2j]), np.array(["a"]), np.array([object()], dtype=object), ["a", "b"]],
    ids=["complex", "str", "object", "list-of-str"],
)
def test_unsupported_dtypes_are_refused_with_type_error(data):
    with pytest.raises(TypeError, match="floating, integer or boolean"):
        tn.tensor(data)


def test_tensor_copies_but_tensor_class_and_from_numpy_share():
    array = np.zeros(2)
    assert tn.tensor(array).data is not array
    assert tn.Tensor(array).data is array
    assert tn.from_numpy(array).data is array


def test_python_scalars_do_not_promote_float32():
    x = tn.tensor(np.ones(3, np.float32))
    for result in (x * 2.5, 2.5 * x, x + np.float64(1), x / 3, 1 - x, x**2.0, 2.0**x):
        assert result.dtype == np.float32


def test_numpy_arrays_on_either_side_dispatch_to_tensor_ops():
    x = tn.tensor(np.ones(2), requires_grad=True)
    y = np.array([2.0, 3.0]) * x
    assert isinstance(y, tn.Tensor) and y.requires_grad
    z = np.ones((2, 2)) @ x
    assert isinstance(z, tn.Tensor)
    np.testing.assert_array_equal(z.data, [2.0, 2.0])


def test_comparisons_return_boolean_tensors_without_grad():
    x = tn.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for result, expected in (
        (x < 2, [True, False, False]),
        (x <= 2, [True, True, False]),
        (x > 2, [False, False, True]),
        (x >= 2, [False, True, True]),
        (x == 2, [False, True, False]),
        (x != 2, [True, False, True]),
    ):
        assert result.dtype == np.bool_ and not result.requires_grad
        np.testing.assert_array_equal(result.data, expected)


def test_attributes():
    x = tn.zeros(2, 3, requires_grad=True)
    assert (x.shape, x.ndim, x.size(), x.dtype) == ((2, 3), 2, (2, 3), np.float32)
    assert x.T.shape == (3, 2) and x.is_leaf and x.requires_grad
    assert len(x) == 2 and x.numel() == 6
    assert not (x * 2).is_leaf


def test_item_numpy_and_conversions():
    assert tn.tensor([[3.5]]).item() == 3.5
    with pytest.raises(ValueError, match="one-element"):
        tn.zeros(2).item()
    x = tn.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy() is x.data
    assert float(tn.tensor(2.0)) == 2.0 and int(tn.tensor(3)) == 3
    assert np.asarray(x).shape == (2,)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tn.zeros(2))


def test_repr_shows_values_dtype_and_grad_state():
    assert repr(tn.tensor([1.0, 2.0])) == "Tensor([1., 2.], dtype=float32)"
    assert "requires_grad=True" in repr(tn.zeros(1, requires_grad=True))
    assert "grad_fn=<Mul>" in repr(tn.zeros(1, requires_grad=True) * 2)


def test_pickle_keeps_data_and_requires_grad_but_not_the_graph():
    x = tn.tensor(np.arange(3.0), requires_grad=True)
    y = pickle.loads(pickle.dumps(x * 2))
    np.testing.assert_array_equal(y.data, [0.0, 2.0, 4.0])
    assert y.is_leaf
    z = pickle.loads(pickle.dumps(x))
    assert z.requires_grad


def test_iteration_and_hashing():
    x = tn.tensor(np.arange(6.0).reshape(3, 2))
    rows = list(x)
    assert len(rows) == 3 and rows[1].tolist() == [2.0, 3.0]
    assert {x: 1}[x] == 1


def test_creation_functions():
    assert tn.zeros(2, 3).shape == (2, 3) and tn.zeros((2, 3)).shape == (2, 3)
    assert tn.ones(2).data.tolist() == [1.0, 1.0]
    assert tn.full((2,), 7.0).data.tolist() == [7.0, 7.0]
    assert tn.arange(3).dtype == np.int64 and tn.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert tn.linspace(0, 1, 5).data.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert tn.eye(2).data.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    like = tn.zeros(2, dtype=tn.float64)
    assert tn.zeros_like(like).dtype == np.float64 and tn.ones_like(like).data.sum() == 2
    assert tn.full_like(like, 3).data.tolist() == [3.0, 3.0]
    assert tn.empty(4).shape == (4,)
    assert tn.zeros(2, requires_grad=True).requires_grad


def test_random_functions_take_seeds_and_generators():
    np.testing.assert_array_equal(tn.randn(5, rng=3).data, tn.randn(5, rng=3).data)
    assert not np.array_equal(tn.randn(5, rng=3).data, tn.randn(5, rng=4).data)
    generator = np.random.default_rng(0)
    expected = np.random.default_rng(0).standard_normal(4, dtype=np.float32)
    np.testing.assert_array_equal(tn.randn(4, rng=generator).data, expected)
    assert tn.rand(3, rng=0).data.min() >= 0 and tn.rand(3, rng=0).data.max() < 1
    ints = tn.randint(0, 5, size=(100,), rng=0).data
    assert ints.min() >= 0 and ints.max() < 5 and ints.dtype == np.int64
    assert tn.randn_like(tn.zeros(2, dtype=tn.float64), rng=0).dtype == np.float64
    with pytest.raises(TypeError, match="rng"):
        tn.randn(2, rng="seed")


def test_requires_grad_setter_and_inplace_form():
    x = tn.zeros(2)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad = False
    assert not x.requires_grad
