"""In-place writes through a view of a tensor in a graph, as PyTorch's ``CopySlices``: the
base's new value is its old one with the view's region replaced, its gradient flows around
the region to the old base and through the in-place op (then the view) inside it, and the
view becomes a view of the new base; ``y[index] = v`` with a ``v`` that requires grad is a
copy into the view or PyTorch's ``index_put_``. Checked by finite differences at first and
second order (float64), against the out-of-place form (float32 and float64), through the
refusals PyTorch makes, a CNN trained both ways, and ``tn.compile``."""

import warnings

import numpy as np
import pytest
from inplace_checks import check_against_out_of_place, check_by_finite_differences

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import optim

# Away from relu's kink at 0, so central differences are exact enough.
VALUES = np.array(
    [[[-1.3, 0.7, 2.1, -0.4], [0.9, -2.6, 1.4, 0.3], [-0.8, 1.1, -1.9, 2.4]],
     [[0.6, -0.5, 1.7, -2.2], [-1.2, 0.45, -0.35, 1.05], [2.3, -0.9, 0.55, -1.6]]]
)  # fmt: skip
DROPPED = F.dropout(tn.ones(4, 3, 2, dtype=tn.float64), 0.5, rng=5).data  # the mask, scaled


def _flatten_relu(t):
    return nn.ReLU(inplace=True)(nn.Flatten()(t * 1.5)) * 2.0


def _flatten_relu_reference(t):
    return F.relu((t * 1.5).reshape(2, -1)) * 2.0


def _view_relu(t):
    h = t * 1.5
    h.view(2, -1).relu_()
    return h * h  # the base, read after the write through its view


def _view_relu_reference(t):
    h = F.relu(t * 1.5)
    return h * h


def _column_mul(t):
    y = t * 1.5
    y[:, 0].mul_(2.0)
    return y.exp()


def _column_mul_reference(t):
    scale = np.ones((1, 3, 1))
    scale[0, 0, 0] = 2.0
    return (t * 1.5 * tn.tensor(scale, dtype=t.dtype)).exp()


def _slice_iadd(t):
    y = t * 1.5
    y[:, 1:3] += t[:, :2] ** 2  # add_ on the view y[:, 1:3], then y[:, 1:3] = that view
    return y * y


def _slice_iadd_reference(t):
    shifted = tn.cat([tn.zeros(2, 1, 4, dtype=t.dtype), t[:, :2] ** 2], dim=1)
    y = t * 1.5 + shifted
    return y * y


def _dropout_transpose(t):
    h = t * 1.5
    F.dropout(h.transpose(0, 2), 0.5, rng=5, inplace=True)
    return h * t


def _dropout_transpose_reference(t):
    return t * 1.5 * tn.tensor(DROPPED.transpose(2, 1, 0), dtype=t.dtype) * t


def _chained_views_many_writes(t):
    y = t * 1.5
    v = y.transpose(0, 1)[1:]  # a view of a view: (2, 2, 4) of y[:, 1:]
    v.mul_(3.0)
    v.add_(t.transpose(0, 1)[:2])
    w = v[:, 1].reshape(-1)[::-3]  # views of the rewritten view, one with a negative step
    w.sigmoid_()
    return v.sum() * y


def _chained_views_many_writes_reference(t):
    inner = t[:, 1:] * 1.5 * 3.0 + t[:, :2]
    flat = inner[1].reshape(-1)
    chosen = np.zeros(flat.shape, dtype=bool)
    chosen[::-3] = True
    flat = tn.where(chosen, flat.sigmoid(), flat)
    inner = tn.cat([inner[:1], flat.reshape(1, 2, 4)], dim=0)
    y = tn.cat([t[:, :1] * 1.5, inner], dim=1)
    return inner.sum() * y


def _self_operand(t):
    y = t * 1.5
    y.add_(y)  # the operand is y's old value, as in PyTorch
    y[0].mul_(t[1])
    return y


def _self_operand_reference(t):
    y = t * 3.0
    return tn.cat([y[:1] * t[1:], y[1:]], dim=0)


def _operands_from_the_view(t):
    y = t[0] * 1.5
    v = y[1:, ::2]
    v.mul_(v.sum() * v.exp())  # operands read the view's old value, as in PyTorch
    w = y.t()[0]
    w.add_(w.sum() * w)
    return y


def _operands_from_a_view_between(t):
    y = t * 1.5
    v = y[1]  # a view between the written one and y
    v[0].mul_(v.sum())
    return y * v.sum()


def _operands_from_a_view_between_reference(t):
    y = t * 1.5
    row = y[1]
    row = tn.cat([row[:1] * row.sum(), row[1:]], dim=0)
    y = tn.cat([y[:1], row[None], y[2:]], dim=0)
    return y * row.sum()


def _operands_from_the_view_reference(t):
    y = t[0] * 1.5
    v = y[1:, ::2]
    v = v * (v.sum() * v.exp())
    rest = tn.stack([v[:, 0], y[1:, 1], v[:, 1], y[1:, 3]], dim=1)
    y = tn.cat([y[:1], rest], dim=0)
    column = y[:, 0]
    column = column + column.sum() * column
    return tn.cat([column.reshape(3, 1), y[:, 1:]], dim=1)


PATTERNS = {
    "flatten_relu": (_flatten_relu, _flatten_relu_reference),
    "view_relu": (_view_relu, _view_relu_reference),
    "column_mul": (_column_mul, _column_mul_reference),
    "slice_iadd": (_slice_iadd, _slice_iadd_reference),
    "dropout_transpose": (_dropout_transpose, _dropout_transpose_reference),
    "chained_views_many_writes": (_chained_views_many_writes, _chained_views_many_writes_reference),
    "self_operand": (_self_operand, _self_operand_reference),
    "operands_from_the_view": (_operands_from_the_view, _operands_from_the_view_reference),
    "operands_from_a_view_between": (
        _operands_from_a_view_between,
        _operands_from_a_view_between_reference,
    ),
}


@pytest.mark.parametrize("name", PATTERNS)
def test_gradients_through_a_view_written_in_place_check_by_finite_differences(name):
    check_by_finite_differences(PATTERNS[name][0], VALUES)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", PATTERNS)
def test_values_and_gradients_equal_the_out_of_place_form(name, dtype):
    write, reference = PATTERNS[name]
    check_against_out_of_place(write, reference, VALUES, dtype, seed=0, rtol64=1e-15)


def test_the_base_and_the_view_get_new_histories():
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    y = x * 1.0
    v = y[:, 0]
    assert v.mul_(2.0) is v and v.version == y.version == 1
    np.testing.assert_array_equal(y.data[:, 0], VALUES[:, 0] * 2.0)
    # Later use of the view differentiates through the new base, then the write.
    (grad,) = tn.grad((v * v).sum(), x)
    expected = np.zeros_like(VALUES)
    expected[:, 0] = 8.0 * VALUES[:, 0]  # d/dx (2x)^2
    np.testing.assert_allclose(grad.data, expected)


def _element_writes(t):
    y = t * 1.5
    y[0, 1, 2] += 1.0  # x[i, j, k] is a 0-d view, as PyTorch's: the augmented form works
    y[1, 2, 3] = t[0, 0, 0] * t[1, 1, 1]  # a value that requires grad, into one element
    y[-1, -1, -1].mul_(t[0, 2, 2])
    return y * y


def test_writes_into_single_elements_check_by_finite_differences():
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    assert np.shares_memory(x[0, 1, 2].data, x.data)  # NumPy would give a scalar copy
    assert tn.gradcheck(_element_writes, (x,))
    assert tn.gradgradcheck(_element_writes, (x,))


def test_a_base_outside_the_graph_gets_the_history_of_what_is_written_into_it():
    # PyTorch: zeros, then a slice copied from a tensor that requires grad.
    x = tn.tensor(VALUES[0], dtype=tn.float64, requires_grad=True)
    out = tn.zeros(3, 4, dtype=tn.float64)
    out[:, 1].copy_(x[:, 0] * 2.0)
    out[1] = x[1]  # a value that requires grad, assigned into a slice
    assert out.requires_grad and not out.is_leaf
    (out * tn.arange(12.0, dtype=tn.float64).reshape(3, 4)).sum().backward()
    expected = np.zeros((3, 4))
    expected[[0, 2], 0] = [2.0 * 1.0, 2.0 * 9.0]  # column 1 of rows 0 and 2
    expected[1] = [4.0, 5.0, 6.0, 7.0]  # row 1, which overwrote its column-1 element
    np.testing.assert_array_equal(x.grad.data, expected)
    assert tn.gradcheck(lambda t: _assigned_into_zeros(t), (x,))
    assert tn.gradgradcheck(lambda t: _assigned_into_zeros(t) ** 2, (x,))


def _assigned_into_zeros(t):
    out = tn.zeros(3, 4, dtype=tn.float64)
    out[:, 1].copy_(t[:, 0] * 2.0)
    out[1] = t[1]
    return out


def test_views_between_the_written_one_and_the_base_get_the_new_history():
    # Outside the graph: the row of a tensor of zeros, written through a slice of the row.
    x = tn.tensor(VALUES[0, 0], dtype=tn.float64, requires_grad=True)
    out = tn.zeros(2, 4, dtype=tn.float64)
    row = out[1]
    row[1:3].copy_(x[:2] * 3.0)
    (row * tn.tensor([1.0, 2.0, 3.0, 4.0], dtype=tn.float64)).sum().backward()
    assert row.requires_grad and out.requires_grad
    assert x.grad.tolist() == [6.0, 9.0, 0.0, 0.0]


def test_a_write_of_another_dtype_is_cast_in_the_graph_too():
    x = tn.tensor(VALUES, dtype=tn.float32, requires_grad=True)
    scale = tn.tensor(np.full(4, 2.0), dtype=tn.float64, requires_grad=True)
    y = x * 1.0
    y[0, 1].mul_(scale)  # float64 written into float32 memory (same kind), as PyTorch
    assert y.dtype == tn.float32
    np.testing.assert_array_equal(y.data[0, 1], VALUES[0, 1].astype(np.float32) * 2)
    (y * y).sum().backward()
    assert x.grad.dtype == tn.float32 and scale.grad.dtype == tn.float64
    expected = 2.0 * VALUES.astype(np.float32)
    expected[0, 1] *= 4.0  # d/dx (2x)^2
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-6)
    np.testing.assert_allclose(scale.grad.data, 2 * 2 * VALUES[0, 1] ** 2, rtol=1e-6)


def _into_fortran_order(t):
    out = tn.Tensor(np.asfortranarray(np.arange(12.0).reshape(3, 4)))
    assert not out.data.flags.c_contiguous  # the base's addresses are searched, not offsets
    out.t()[::-2, 1:].mul_(t[0, :2, :2])
    return out * out


def test_a_base_whose_memory_is_not_in_c_order():
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    assert tn.gradcheck(_into_fortran_order, (x,))
    assert tn.gradgradcheck(_into_fortran_order, (x,))
    expected = np.arange(12.0).reshape(3, 4)
    expected.T[::-2, 1:] *= VALUES[0, :2, :2]
    np.testing.assert_array_equal(_into_fortran_order(x).data, expected**2)


def test_a_view_of_a_leaf_that_requires_grad_is_refused_as_pytorch_refuses_it():
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    message = r"a view of a leaf Variable that requires grad is being used in an in-place"
    for write in (
        lambda: x[0].mul_(2.0),
        lambda: x.reshape(-1).relu_(),
        lambda: x.__setitem__(0, x[1] * 2.0),
    ):
        with pytest.raises(RuntimeError, match=message):
            write()
    np.testing.assert_array_equal(x.data, VALUES)
    assert x.version == 0
    with tn.no_grad():  # what optimizers do: allowed
        x[0].mul_(2.0)
    assert x.version == 1
    # A leaf that requires grad between the written view and its base: refused too.
    row = tn.zeros(2, 3, dtype=tn.float64)[0].requires_grad_()
    with pytest.raises(RuntimeError, match=message):
        row[:2].mul_(2.0)


def test_a_temporary_of_an_op_is_refused_not_written_apart_from_its_tensor():
    # A user's Function whose forward returns a view NumPy links through another object
    # (as_strided's): its memory is its input's, unrecorded, so a recorded write refuses.
    class Window(tn.Function):
        @staticmethod
        def forward(ctx, x):
            return np.lib.stride_tricks.as_strided(x, (2,), (x.strides[-1],), writeable=True)

        @staticmethod
        def backward(ctx, grad_output):
            return tn.zeros(ctx.inputs[0].shape, dtype=grad_output.dtype)

    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    window = Window.apply(x * 1.0)
    assert window.data.base is not None
    with pytest.raises(RuntimeError, match=r"mul_: this tensor views the memory of its op's .*"):
        window.mul_(2.0)
    # diagonal() is a view now: its write reaches the base.
    y = x * 1.0
    y.diagonal(0, 1, 2).mul_(2.0)
    expected = VALUES.copy()
    for i in range(3):
        expected[:, i, i] *= 2.0
    np.testing.assert_array_equal(y.data, expected)


@pytest.mark.parametrize(
    "copy",
    [lambda h: h[:, :, np.array([0, 2])], lambda h: h.mT.reshape(-1), lambda h: h.mT.flatten()],
    ids=["integer arrays", "reshape", "flatten"],
)
def test_a_copy_made_by_an_op_is_written_apart_from_its_input_as_pytorch(copy):
    # Integer-array indexing, and a reshape that cannot view, copy (as PyTorch's); NumPy's
    # copy may view a temporary array, which is written like any tensor.
    def forward(t):
        hidden = t * 1.0
        copied = copy(hidden)
        copied.mul_(t[0, 0, 0])
        return (copied**2).sum() + (hidden**3).sum()

    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    hidden = x * 1.0
    copied = copy(hidden)
    assert copied.data.base is not None and not np.shares_memory(copied.data, hidden.data)
    copied.mul_(2.0)
    np.testing.assert_array_equal(hidden.data, VALUES)  # the input is untouched
    assert tn.gradcheck(forward, (x,)) and tn.gradgradcheck(forward, (x,))


def test_a_view_taken_under_no_grad_and_written_with_grad_is_refused():
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    y = x * 1.0
    with tn.no_grad():
        row = y[0]
    with pytest.raises(RuntimeError, match="a view was created in no_grad mode"):
        row.mul_(x[1])
    row.mul_(2.0)  # no gradient needed: a plain write, as in PyTorch


def _index_puts(t):
    y = t * 1.5
    y[y > 2.0] += t[0, 0, 0]  # a mask: getitem copies, add_, then index_put_ back
    y[np.array([0, 1]), np.array([2, 0])] = t[1, :2] ** 2  # integer arrays
    y.mul_(y.sum())  # an operand computed from the tensor written: its old value
    return y


def test_assignment_by_masks_and_integer_arrays_checks_by_finite_differences():
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    assert tn.gradcheck(_index_puts, (x,))
    assert tn.gradgradcheck(_index_puts, (x,))
    expected = VALUES * 1.5
    expected[expected > 2.0] += VALUES[0, 0, 0]
    expected[[0, 1], [2, 0]] = VALUES[1, :2] ** 2
    np.testing.assert_allclose(_index_puts(x).data, expected * expected.sum(), rtol=1e-14)


def test_assigning_to_a_repeated_position_is_refused():
    x = tn.tensor(VALUES[0], dtype=tn.float64, requires_grad=True)
    y = x * 1.0
    with pytest.raises(RuntimeError, match=r"the index repeats a position, .* index_add"):
        y[np.array([0, 2, 0])] = x[:2] * 2.0
    np.testing.assert_array_equal(y.data, VALUES[0])


def _views_taken_before_the_write(t):
    y = t * 1.0
    column, flat = y[:, :, 1], y.reshape(-1)
    y[0].mul_(3.0)
    return column.exp().sum() + (flat**2).sum()


def test_other_views_taken_before_the_write_follow_the_new_history_as_pytorch():
    # PyTorch regenerates their history from the base's (tests/test_inplace_other_views.py
    # has more, and the consumers recorded before the write, which still raise).
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    assert tn.gradcheck(_views_taken_before_the_write, (x,))
    assert tn.gradgradcheck(_views_taken_before_the_write, (x,))
    _views_taken_before_the_write(x).backward()
    scaled = VALUES.copy()
    scaled[0] *= 3.0
    expected = 2.0 * scaled * np.where(np.arange(2)[:, None, None] == 0, 3.0, 1.0)
    expected[:, :, 1] += np.exp(scaled[:, :, 1]) * np.where(np.arange(2)[:, None] == 0, 3.0, 1.0)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-14)


def test_a_base_whose_op_saved_its_output_refuses_to_backward():
    # PyTorch raises too: exp's backward reads its output, which the write changed.
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    h = x.exp()
    h.transpose(0, 1).mul_(2.0)
    with pytest.raises(RuntimeError, match=r"output 0 of Exp.*written by mul_"):
        h.sum().backward()


def test_a_detached_alias_is_not_a_view_its_write_does_not_rewrite_the_original():
    # PyTorch's detach() is a non-differentiable view: an in-place op on it gives the alias a
    # history, and the original keeps its own (its values change, its counter is shared).
    x = tn.tensor([1.0, 2.0], dtype=tn.float64, requires_grad=True)
    w = tn.tensor([3.0, 4.0], dtype=tn.float64, requires_grad=True)
    y = x * 2.0
    alias = y.detach()
    alias.mul_(w)
    assert y.version == alias.version == 1 and y.tolist() == [6.0, 16.0]
    alias.sum().backward()
    assert w.grad.tolist() == [2.0, 4.0] and x.grad is None
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def _cnn(inplace, seed=0):
    tn.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.Flatten(),
        nn.ReLU(inplace=inplace),
        nn.Linear(3 * 5 * 5, 2),
    )


def _batches():
    rng = np.random.default_rng(7)
    return [
        (rng.standard_normal((4, 1, 5, 5)).astype(np.float32), rng.integers(0, 2, 4))
        for _ in range(4)
    ]


def test_conv_flatten_relu_inplace_trains_with_the_out_of_place_gradients_exactly():
    inplace, plain = _cnn(True), _cnn(False)
    conv_output = inplace[0](tn.tensor(_batches()[0][0]))
    assert np.shares_memory(inplace[1](conv_output).data, conv_output.data)  # a real view
    opt_a = optim.SGD(inplace.parameters(), lr=0.1)
    opt_b = optim.SGD(plain.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        for inputs, target in _batches():
            for model, opt in ((inplace, opt_a), (plain, opt_b)):
                opt.zero_grad()
                loss = F.cross_entropy(model(tn.tensor(inputs)), tn.tensor(target))
                loss.backward()
                if model is inplace:
                    losses.append(loss.item())
                    grads = [p.grad.data.copy() for p in model.parameters()]
                else:
                    for grad, p in zip(grads, model.parameters()):
                        np.testing.assert_array_equal(grad, p.grad.data)
                opt.step()
    assert losses[-1] < losses[0]
    for p, q in zip(inplace.parameters(), plain.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_a_compiled_step_writing_through_a_view_replays_eagers_bits_without_a_warning():
    # The write into Flatten's view is replayed as a write of the whole conv output
    # (tests/test_compile_views.py has the other cases, and those that stay eager).
    eager_model, compiled_model = _cnn(True), _cnn(True)

    def make_step(model):
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(inputs, target):
            opt.zero_grad()
            loss = F.cross_entropy(model(inputs), target)
            loss.backward()
            opt.step()
            return loss

        return step

    eager_step, compiled_step = make_step(eager_model), tn.compile(make_step(compiled_model))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for inputs, target in _batches():
            a = eager_step(tn.tensor(inputs), tn.tensor(target))
            b = compiled_step(tn.tensor(inputs), tn.tensor(target))
            assert a.item() == b.item()
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert messages == []
    assert any(type(entry).__name__ == "Program" for entry in compiled_step._entries.values())


_SELF_READING_WRITES = {
    "add_self": lambda h: h.add_(h),
    "mul_tanh_of_self": lambda h: h.mul_(h.tanh()),
    "mul_sum_of_self": lambda h: h.mul_(h.sum() * 0.1),
}


@pytest.mark.parametrize("write", _SELF_READING_WRITES.values(), ids=list(_SELF_READING_WRITES))
def test_a_compiled_step_whose_operand_reads_the_written_tensor_replays_eagers_bits(write):
    def make():
        tn.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2))
        opt = optim.SGD(model.parameters(), lr=0.01)

        def step(inputs):
            hidden = model[0](inputs)
            write(hidden)
            loss = (model[1](hidden) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return model, step

    (eager_model, eager_step), (compiled_model, step) = make(), make()
    compiled_step = tn.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(5):
            batch = np.random.default_rng(i).standard_normal((4, 3)).astype(np.float32)
            assert eager_step(tn.tensor(batch)).item() == compiled_step(tn.tensor(batch)).item()
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert any(type(entry).__name__ == "Program" for entry in compiled_step._entries.values())
