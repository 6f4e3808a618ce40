"""Assigning ``.grad`` is checked as in PyTorch: a gradient of another shape or dtype raises
``RuntimeError`` ("assigned grad has data of a different size/type"), anything but a Tensor,
a NumPy array, a SciPy sparse matrix or None raises ``TypeError``. Before, a float64 gradient
on a float32 parameter was silently cast at ``optimizer.step()``."""

import numpy as np
import pytest
import scipy.sparse

import tinynet as tn
import tinynet.nn as nn
from tinynet import optim


def param(shape=(2, 3), dtype=np.float32):
    return tn.Tensor(np.ones(shape, dtype), requires_grad=True)


def test_a_tensor_of_the_same_shape_and_dtype_is_kept_as_it_is():
    for dtype in (np.float16, np.float32, np.float64):
        p, g = param(dtype=dtype), tn.Tensor(np.full((2, 3), 0.5, dtype))
        p.grad = g
        assert p.grad is g
    p = param()
    p.grad = tn.zeros_like(p)  # PyTorch's habit: p.grad = torch.zeros_like(p)
    assert p.grad.dtype == np.float32 and p.grad.shape == (2, 3)
    weight = nn.Parameter(np.ones(3))
    weight.grad = nn.Parameter(np.full(3, 2.0))  # a subclass of Tensor
    assert weight.grad.tolist() == [2.0, 2.0, 2.0]
    p.grad = None
    assert p.grad is None
    scalar = tn.tensor(np.array(1.0), requires_grad=True)
    scalar.grad = tn.tensor(np.array(3.0))
    assert scalar.grad.item() == 3.0


def test_an_equal_dtype_that_is_another_object_is_accepted():
    p, equal = param(), np.dtype(np.float32, metadata={"note": 1})
    assert equal == p.data.dtype and equal is not p.data.dtype
    gradient = tn.Tensor(np.ones((2, 3), equal))
    assert gradient.data.dtype is not p.data.dtype  # so the setter's slow path runs
    p.grad = gradient
    assert p.grad is gradient


def test_a_numpy_array_of_the_same_shape_and_dtype_is_wrapped_sharing_its_memory():
    p, array = param(), np.full((2, 3), 0.25, np.float32)
    p.grad = array
    assert type(p.grad) is tn.Tensor and p.grad.data is array


def test_a_sparse_matrix_of_the_same_shape_and_dtype_is_kept_for_the_optimizer_to_refuse():
    p = param((2, 2))
    sparse = scipy.sparse.eye(2, format="csr", dtype=np.float32)
    p.grad = sparse
    assert p.grad is sparse
    with pytest.raises(RuntimeError, match="SGD does not support sparse gradients"):
        optim.SGD([p], lr=0.1).step()


@pytest.mark.parametrize(
    "value",
    [
        tn.ones(3, 2),
        tn.ones(6),
        tn.ones(1, 2, 3),
        tn.ones(1),  # PyTorch does not broadcast an assigned gradient either
        np.ones((3, 2), np.float32),
        scipy.sparse.eye(3, format="csr", dtype=np.float32),
    ],
    ids=["transposed", "flat", "extra-axis", "broadcastable", "ndarray", "sparse"],
)
def test_a_gradient_of_another_shape_raises_pytorchs_error(value):
    p, before = param(), tn.zeros(2, 3)
    p.grad = before
    with pytest.raises(
        RuntimeError,
        match=r"assigned grad has data of a different size: shape \([\d, ]+\) for a tensor "
        r"of shape \(2, 3\); assign a gradient of the tensor's shape",
    ):
        p.grad = value
    assert p.grad is before  # unchanged


@pytest.mark.parametrize(
    ("own", "given"),
    [
        (np.float32, np.float64),  # the silent cast at optimizer.step() this check replaces
        (np.float64, np.float32),
        (np.float32, np.float16),
        (np.float32, np.int64),
    ],
)
def test_a_gradient_of_another_dtype_raises_pytorchs_error_naming_the_fix(own, given):
    p = param(dtype=own)
    values = [tn.Tensor(np.ones((2, 3), given)), np.ones((2, 3), given)]
    if given != np.float16:  # SciPy has no float16 sparse matrices
        values.append(scipy.sparse.csr_matrix(np.ones((2, 3), given)))
    for value in values:
        with pytest.raises(
            RuntimeError,
            match=rf"assigned grad has data of a different type: {np.dtype(given)} for a tensor "
            rf"of {np.dtype(own)}; convert it first, e.g. grad.to\(tn.{np.dtype(own)}\)",
        ):
            p.grad = value
        assert p.grad is None


def test_a_tensor_as_its_own_gradient_raises_pytorchs_error():
    p = param()
    with pytest.raises(RuntimeError, match="can't assign Variable as its own grad"):
        p.grad = p
    p.grad = p.detach().clone()  # the suggested fix
    assert p.grad is not p and p.grad.shape == p.shape


def test_with_both_wrong_the_dtype_is_named_first_as_in_pytorch():
    with pytest.raises(RuntimeError, match="different type: float64"):
        param().grad = tn.Tensor(np.ones((3, 2)))


def test_the_suggested_fix_works():
    p = param()
    gradient = tn.tensor(np.ones((2, 3)))  # float64
    with pytest.raises(RuntimeError, match=r"grad.to\(tn.float32\)"):
        p.grad = gradient
    p.grad = gradient.to(tn.float32)
    assert p.grad.dtype == np.float32


@pytest.mark.parametrize(
    "value",
    [[[1.0] * 3] * 2, 1.0, "grad", np.float32(1.0), (1.0, 2.0)],
    ids=["list", "float", "str", "numpy-scalar", "tuple"],
)
def test_anything_but_a_tensor_an_array_a_sparse_matrix_or_none_raises_a_type_error(value):
    p = param()
    with pytest.raises(
        TypeError,
        match=r"assigned grad expected to be a Tensor, a NumPy array or None but got grad of "
        rf"type {type(value).__name__}; assign tn.tensor\(...\)",
    ):
        p.grad = value
    assert p.grad is None


def test_a_float64_gradient_no_longer_reaches_a_float32_optimizer_step():
    model = nn.Linear(3, 2, rng=0)  # float32
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(RuntimeError, match="different type: float64 for a tensor of float32"):
        for p in model.parameters():
            p.grad = tn.tensor(np.ones(p.shape))  # float64
    opt.step()  # nothing was assigned, so nothing moves
    for p, old in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, old)


def test_the_engine_module_to_and_optimizers_still_set_gradients():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1))
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss = model(tn.ones(2, 3)).sum()
    loss.backward()
    first = [p.grad.data.copy() for p in model.parameters()]
    model(tn.ones(2, 3)).sum().backward()  # accumulates
    for p, g in zip(model.parameters(), first):
        np.testing.assert_allclose(p.grad.data, 2 * g, rtol=1e-6)
    opt.step()
    model.to(tn.float64)  # converts the gradients with the parameters
    assert all(p.grad.dtype == np.float64 for p in model.parameters())
    opt.zero_grad(set_to_none=False)
    assert all(not p.grad.data.any() for p in model.parameters())
    (dx,) = tn.grad(model(tn.ones(2, 3, dtype=tn.float64)).sum(), [model[0].weight])
    assert dx.shape == model[0].weight.shape
