"""The other views of a tensor written in place through one of its views, as in PyTorch.

- A view taken before the write and used after it differentiates through its base's new
  history (PyTorch regenerates its ``grad_fn``): ``a = y[0]; y[1].mul_(3)``, then ``a``.
- A write whose operand is another view of the same memory (``h[0].copy_(h[1])``,
  ``h[1:] = h[:-1]``, ``h.mul_(h[0])``) reads that view's old values, and its gradient
  flows to them.

Checked by finite differences at first and second order, against the out-of-place form,
against a NumPy reference for random slices (Hypothesis), and through what must still
raise: a saved output overwritten, a consumer recorded before the write, a write that no
graph records. ``tn.compile`` replays the writes bit for bit."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from inplace_checks import check_against_out_of_place, check_by_finite_differences

import tinynet as tn
import tinynet.nn as nn
from tinynet import optim

VALUES = np.array(
    [[0.7, -1.3, 0.4, 1.9], [-0.6, 1.1, -2.2, 0.35], [1.45, -0.8, 0.95, -0.25]]
)  # fmt: skip


def _sibling_written(t):
    y = t * 2.0
    a, b = y[0], y[1]
    b.mul_(3.0)  # the brief's example: a, taken before, is used after
    return a * (a.sum() + y.sum())


def _sibling_written_reference(t):
    y = t * 2.0 * tn.tensor([[1.0], [3.0], [1.0]], dtype=t.dtype)
    a = y[0]
    return a * (a.sum() + y.sum())


def _region_written_then_read(t):
    y = t * 2.0
    a = y[0]
    y[0].add_(t[1] ** 2)  # another view of the same elements as a
    return a * a


def _region_written_then_read_reference(t):
    a = t[0] * 2.0 + t[1] ** 2
    return a * a


def _whole_tensor_written(t):
    y = t * 1.5
    rows = y[1:]
    y.mul_(t)  # not through a view: y itself
    return rows * rows


def _whole_tensor_written_reference(t):
    rows = (t * 1.5 * t)[1:]
    return rows * rows


def _copy_from_another_row(t):
    h = t * 2.0
    h[0].copy_(h[1])
    return h * h


def _copy_from_another_row_reference(t):
    h = t * 2.0
    h = tn.cat([h[1:2], h[1:]], dim=0)
    return h * h


def _shift_down(t):
    h = t * 2.0
    h[1:] = h[:-1]  # overlapping source and destination
    return h.exp()


def _shift_down_reference(t):
    h = t * 2.0
    return tn.cat([h[:1], h[:-1]], dim=0).exp()


def _shift_left(t):
    h = t * 1.5
    h[:, :-1] = h[:, 1:]
    return h * h


def _shift_left_reference(t):
    h = t * 1.5
    h = tn.cat([h[:, 1:], h[:, -1:]], dim=1)
    return h * h


def _operand_used_later(t):
    y = t * 1.0
    column = y.T[0]  # the column about to be written, through a transpose
    y[:, 0].mul_(y[:, 1])
    return column.exp() + y[:, 0]


def _operand_used_later_reference(t):
    column = t[:, 0] * t[:, 1]
    return column.exp() + column


def _views_of_a_view(t):
    y = t * 2.0
    a = y[0]
    tail = a[1:]
    y[0, 1].mul_(3.0)
    y[:, 2].add_(t[:, 0])
    return (tail * tail.sum()).sum() + y


def _views_of_a_view_reference(t):
    scale = np.ones((3, 4))
    scale[0, 1] = 3.0
    added = np.zeros((3, 4))
    added[:, 2] = 1.0
    y = t * 2.0 * tn.tensor(scale, dtype=t.dtype) + t[:, :1] * tn.tensor(added, dtype=t.dtype)
    tail = y[0, 1:]
    return (tail * tail.sum()).sum() + y


def _base_is_a_view(t):
    z = t * 2.0
    y = z[1:]
    column = y[:, 1]
    z[1, 1].mul_(5.0)
    z[2, :2].add_(column)  # column read at its values between the two writes
    return column * y.sum() + z.sum()


def _base_is_a_view_reference(t):
    scale = np.ones((3, 4))
    scale[1, 1] = 5.0
    z = t * 2.0 * tn.tensor(scale, dtype=t.dtype)
    row = tn.cat([z[2, :2] + tn.stack([z[1, 1], z[2, 1]]), z[2, 2:]], dim=0)
    z = tn.cat([z[:2], row[None]], dim=0)
    return z[1:, 1] * z[1:].sum() + z.sum()


def _whole_write_reads_a_row(t):
    h = t * 1.0
    h.mul_(h[0])  # the operand is a view of the tensor written: its old values
    return h


def _whole_write_reads_a_row_reference(t):
    return t * t[0]


def _rows_times_the_rows_above(t):
    h = t * 1.0
    h[1:].mul_(h[:-1])
    return h * h[:-1].sum()


def _rows_times_the_rows_above_reference(t):
    h = tn.cat([t[:1], t[1:] * t[:-1]], dim=0)
    return h * h[:-1].sum()


PATTERNS = {
    "sibling_written": (_sibling_written, _sibling_written_reference),
    "region_written_then_read": (_region_written_then_read, _region_written_then_read_reference),
    "whole_tensor_written": (_whole_tensor_written, _whole_tensor_written_reference),
    "copy_from_another_row": (_copy_from_another_row, _copy_from_another_row_reference),
    "shift_down": (_shift_down, _shift_down_reference),
    "shift_left": (_shift_left, _shift_left_reference),
    "operand_used_later": (_operand_used_later, _operand_used_later_reference),
    "views_of_a_view": (_views_of_a_view, _views_of_a_view_reference),
    "base_is_a_view": (_base_is_a_view, _base_is_a_view_reference),
    "whole_write_reads_a_row": (_whole_write_reads_a_row, _whole_write_reads_a_row_reference),
    "rows_times_the_rows_above": (
        _rows_times_the_rows_above,
        _rows_times_the_rows_above_reference,
    ),
}


@pytest.mark.parametrize("name", PATTERNS)
def test_gradients_check_by_finite_differences(name):
    check_by_finite_differences(PATTERNS[name][0], VALUES)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", PATTERNS)
def test_values_and_gradients_equal_the_out_of_place_form(name, dtype):
    write, reference = PATTERNS[name]
    check_against_out_of_place(write, reference, VALUES, dtype, seed=1, rtol64=1e-14)


def _assign_rows_from_another(t):
    y = t * 1.0
    y[np.array([0, 2])] = y[1]  # integer arrays: index_put_ of another view's values
    return y * y


def _add_the_rows_above(t):
    y = t * 1.0
    y[1:] += y[:-1]
    return y * y


def _scale_even_columns_by_odd(t):
    y = t * 1.0
    y[:, ::2] *= y[:, 1::2]
    return y.exp()


def _source_is_a_view_of_a_view(t):
    y = t * 1.0
    flat = y.view(-1)  # taken before, used after: it must not keep reading the old y
    y[0].copy_(flat[4:8])
    return flat * flat


def _numpy_writes(name, a):
    a = a.copy()
    if name == "assign_rows_from_another":
        a[[0, 2]] = a[1]
        return a * a
    if name == "add_the_rows_above":
        a[1:] += a[:-1].copy()
        return a * a
    if name == "scale_even_columns_by_odd":
        a[:, ::2] *= a[:, 1::2]
        return np.exp(a)
    a[0] = a[1]
    return a.reshape(-1) ** 2


MORE = {
    "assign_rows_from_another": _assign_rows_from_another,
    "add_the_rows_above": _add_the_rows_above,
    "scale_even_columns_by_odd": _scale_even_columns_by_odd,
    "source_is_a_view_of_a_view": _source_is_a_view_of_a_view,
}


@pytest.mark.parametrize("name", MORE)
def test_more_writes_reading_other_views_match_numpy_and_finite_differences(name):
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    np.testing.assert_allclose(MORE[name](x).data, _numpy_writes(name, VALUES), rtol=1e-15)
    assert tn.gradcheck(MORE[name], (x,)) and tn.gradgradcheck(MORE[name], (x,))


def _recurrence(t):
    # A buffer of hidden states, each row written from the one before (a view of it).
    weights = t[:, :3] * 0.5
    h = tn.zeros(4, 3, dtype=t.dtype)
    h[0] = t[0, :3]
    for i in range(3):
        h[i + 1] = (h[i] @ weights + t[i, 1:]).tanh()
    return h


def test_a_buffer_of_states_written_row_by_row_equals_the_stacked_states():
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    assert tn.gradcheck(_recurrence, (x,)) and tn.gradgradcheck(_recurrence, (x,))
    expected = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    states = [expected[0, :3]]
    for i in range(3):
        states.append((states[-1] @ (expected[:, :3] * 0.5) + expected[i, 1:]).tanh())
    out, want = _recurrence(x), tn.stack(states)
    np.testing.assert_allclose(out.data, want.data, rtol=1e-15)
    (out * out).sum().backward()
    (want * want).sum().backward()
    np.testing.assert_allclose(x.grad.data, expected.grad.data, rtol=1e-13)


def test_a_detached_alias_as_operand_reads_the_old_values_without_a_gradient():
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    h = x * 1.0
    h.mul_(h.detach())  # d/dx of x * constant(x)
    np.testing.assert_array_equal(h.data, VALUES * VALUES)
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.data, VALUES)


def test_a_write_into_a_detached_alias_reads_its_original_at_the_old_values():
    # The alias and y share memory: y / y_old would read the new values in backward.
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    y = x * 1.0
    alias = y.detach()
    alias.div_(y)  # y_old (a constant) / y
    np.testing.assert_array_equal(y.data, np.ones_like(VALUES))
    alias.sum().backward()
    np.testing.assert_allclose(x.grad.data, -1.0 / VALUES, rtol=1e-15)


@st.composite
def _slice_of(draw, n, length=None):
    """A basic slice of ``range(n)`` (any step sign), with ``length`` elements if given."""
    steps = [s for s in (1, 2, -1, -2) if length is None or (length - 1) * abs(s) < n]
    step = draw(st.sampled_from(steps))
    if length is None:
        length = draw(st.integers(1, (n - 1) // abs(step) + 1))
    span = (length - 1) * abs(step)
    low = draw(st.integers(0, n - 1 - span))
    start = low if step > 0 else low + span
    stop = start + step * length
    return slice(start, stop if stop >= 0 else None, step)


@st.composite
def _writes(draw):
    n = draw(st.integers(2, 7))
    destination = draw(_slice_of(n))
    length = len(range(n)[destination])
    source = draw(_slice_of(n, length))
    kept = draw(_slice_of(n))
    return n, destination, source, kept


@given(_writes())
def test_a_copy_between_views_of_one_tensor_matches_numpy(case):
    # h = 2x; a = h[kept] (taken before); h[destination] = h[source]; loss = w.h + v.a.
    # The write is linear: h_new = M h, with M the identity whose destination rows pick the
    # source elements, so the gradient is 2 M^T (w + v scattered to kept's positions).
    n, destination, source, kept = case
    rng = np.random.default_rng(n)
    values, w = rng.standard_normal(n), rng.standard_normal(n)
    v = rng.standard_normal(len(range(n)[kept]))
    x = tn.tensor(values, dtype=tn.float64, requires_grad=True)
    h = x * 2.0
    a = h[kept]
    h[destination] = h[source]
    expected_h = 2.0 * values
    expected_h[destination] = expected_h[source].copy()
    np.testing.assert_array_equal(h.data, expected_h)
    ((h * tn.tensor(w)).sum() + (a * tn.tensor(v)).sum()).backward()
    positions = np.arange(n)
    m = np.eye(n)
    m[positions[destination]] = np.eye(n)[positions[source]]
    outer = w.copy()
    np.add.at(outer, positions[kept], v)
    np.testing.assert_allclose(x.grad.data, 2.0 * m.T @ outer, rtol=1e-14, atol=1e-14)


def test_a_view_of_a_leaf_taken_before_an_optimizer_step_follows_the_leaf():
    # PyTorch: the view's history is regenerated from the leaf, which has none to go stale.
    w = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    transposed = w.T
    with tn.no_grad():
        w.mul_(2.0)  # what optimizer.step() does
    scale = np.arange(12.0).reshape(4, 3)
    (transposed * tn.tensor(scale)).sum().backward()
    np.testing.assert_array_equal(transposed.data, 2.0 * VALUES.T)
    np.testing.assert_array_equal(w.grad.data, scale.T)


def test_a_saved_output_overwritten_through_a_view_still_raises():
    # exp's backward reads its output; PyTorch raises here too.
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    h = x.exp()
    row = h[1]
    h[0].mul_(2.0)
    with pytest.raises(RuntimeError, match=r"output 0 of Exp.*written by mul_"):
        row.sum().backward()
    h = x.exp()
    h[0].copy_(h[1])
    with pytest.raises(RuntimeError, match=r"output 0 of Exp.*written by copy_"):
        h.sum().backward()


def test_a_consumer_recorded_before_the_write_raises_rather_than_follow_the_new_history():
    # It read the view's old values, whose history the write replaced (PyTorch allows it
    # when the consumer saved nothing; tinynet checks every input).
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    y = x * 2.0
    row = y[0]
    before = (row * row).sum()
    y[1].mul_(3.0)
    with pytest.raises(RuntimeError, match=r"input 0 of Mul.*written by mul_"):
        before.backward()


@pytest.mark.parametrize("where", ["under no_grad", "through detach()"])
def test_a_write_no_graph_records_makes_a_view_taken_before_raise(where):
    # The base's history no longer describes its values: following it would be wrong.
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    y = x * 2.0
    row = y[0]
    if where == "under no_grad":
        with tn.no_grad():
            y[0].mul_(3.0)
    else:
        y.detach()[0].mul_(3.0)
    with pytest.raises(RuntimeError, match=r"input 0 of GetItem.*written by mul_"):
        (row * 1.0).sum().backward()


def _step_writing_other_views(model, optimizer):
    def step(inputs):
        hidden = model[0](inputs)
        first, later = hidden[:, 0], hidden.T[2]  # views taken before the writes
        hidden[:, 1].mul_(3.0)
        hidden[1:] = hidden[:-1]
        hidden.mul_(hidden[0])
        loss = (model[1](hidden) ** 2).sum() + (first * later).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def test_a_compiled_step_with_these_writes_replays_eagers_bits():
    def make():
        tn.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2))
        return model, _step_writing_other_views(model, optim.SGD(model.parameters(), lr=0.01))

    (eager_model, eager_step), (compiled_model, step) = make(), make()
    compiled_step = tn.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(4):
            batch = np.random.default_rng(i).standard_normal((4, 3)).astype(np.float32)
            assert eager_step(tn.tensor(batch)).item() == compiled_step(tn.tensor(batch)).item()
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert any(type(entry).__name__ == "Program" for entry in compiled_step._entries.values())
