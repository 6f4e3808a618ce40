"""Every op PyTorch documents as returning a view ("Tensor Views") returns one here: it shares
its input's memory and version counter, a write through it under no_grad reaches the base,
and a write through it inside a graph differentiates as PyTorch's CopySlices (checked by
finite differences). A view of a tensor outside the graph, taken before a write gave that
tensor a history, gets the history too (PyTorch regenerates it)."""

import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
from tinynet import optim

SHAPE = (2, 3, 4)
VALUES = np.linspace(-1.7, 2.3, 24).reshape(SHAPE) + 0.01 * np.arange(24).reshape(SHAPE) ** 1.5


def _windows(a, axis, size, step):
    windows = np.lib.stride_tricks.sliding_window_view(a, size, axis)
    return windows[(slice(None),) * axis + (slice(None, None, step),)]


def _strided(a, size, stride, offset):
    return np.lib.stride_tricks.as_strided(
        a.ravel()[offset:], size, tuple(s * a.itemsize for s in stride)
    )


# name: (the view in tinynet, the same selection in NumPy as an independent reference)
VIEWS = {
    "slice": (lambda x: x[:, 1:, ::2], lambda a: a[:, 1:, ::2]),
    "negative step": (lambda x: x[::-1, :, 1], lambda a: a[::-1, :, 1]),
    "integers (0-d)": (lambda x: x[1, 2, 3], lambda a: a[1, 2, 3, ...]),
    "None and Ellipsis": (lambda x: x[None, ..., 2], lambda a: a[None, ..., 2]),
    "view": (lambda x: x.view(6, 4), lambda a: a.reshape(6, 4)),
    "view_as": (lambda x: x.view_as(tn.zeros(4, 6)), lambda a: a.reshape(4, 6)),
    "diagonal": (lambda x: x.diagonal(0, 1, 2), lambda a: np.diagonal(a, 0, 1, 2)),
    "diagonal offset": (lambda x: x.diagonal(1, -1, 1), lambda a: np.diagonal(a, 1, -1, 1)),
    "tn.diagonal": (lambda x: tn.diagonal(x[0], -1), lambda a: np.diagonal(a[0], -1)),
    "movedim": (lambda x: x.movedim(0, 2), lambda a: np.moveaxis(a, 0, 2)),
    "moveaxis": (lambda x: x.moveaxis(2, 0), lambda a: np.moveaxis(a, 2, 0)),
    "narrow": (lambda x: x.narrow(2, 1, 2), lambda a: a[:, :, 1:3]),
    "permute": (lambda x: x.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    "select": (lambda x: x.select(1, 2), lambda a: a[:, 2]),
    "squeeze": (lambda x: x[:, :1].squeeze(1), lambda a: a[:, 0]),
    "unsqueeze": (lambda x: x.unsqueeze(1), lambda a: a[:, None]),
    "swapaxes": (lambda x: x.swapaxes(0, 2), lambda a: a.swapaxes(0, 2)),
    "transpose": (lambda x: x.transpose(0, 1), lambda a: a.swapaxes(0, 1)),
    "t": (lambda x: x[1].t(), lambda a: a[1].T),
    "T": (lambda x: x[0].T, lambda a: a[0].T),
    "mT": (lambda x: x.mT, lambda a: a.swapaxes(-1, -2)),
    "H": (lambda x: x[1].H, lambda a: a[1].T),
    "mH": (lambda x: x.mH, lambda a: a.swapaxes(-1, -2)),
    "unflatten": (lambda x: x.unflatten(2, (2, 2)), lambda a: a.reshape(2, 3, 2, 2)),
    "unfold": (lambda x: x.unfold(2, 2, 2), lambda a: _windows(a, 2, 2, 2)),
    "unfold of a transpose": (lambda x: x.mT.unfold(1, 3, 1), lambda a: _windows(a.mT, 1, 3, 1)),
    "split": (lambda x: x.split(2, dim=2)[1], lambda a: a[:, :, 2:]),
    "split_with_sizes": (lambda x: x.split_with_sizes([1, 3], 2)[1], lambda a: a[:, :, 1:]),
    "chunk": (lambda x: x.chunk(3, 1)[2], lambda a: a[:, 2:]),
    "unbind": (lambda x: x.unbind(1)[1], lambda a: a[:, 1]),
    "reshape": (lambda x: x.reshape(4, -1), lambda a: a.reshape(4, -1)),
    "flatten": (lambda x: x.flatten(1), lambda a: a.reshape(2, -1)),
    "contiguous": (lambda x: x.contiguous(), lambda a: a),
    "as_strided": (
        lambda x: x.as_strided((3, 2), (4, 5), 1),
        lambda a: _strided(a, (3, 2), (4, 5), 1),
    ),
    "tn.as_strided": (
        lambda x: tn.as_strided(x, (2, 3), (9, 2)),
        lambda a: _strided(a, (2, 3), (9, 2), 0),
    ),
    "expand without repeats": (lambda x: x[0].expand(1, 3, 4), lambda a: a[:1]),
    "view of a view": (
        lambda x: x.permute(1, 0, 2)[1:].diagonal(0, 1, 2),
        lambda a: np.diagonal(a.transpose(1, 0, 2)[1:], 0, 1, 2),
    ),
}


def _positions(reference) -> np.ndarray:
    """The elements of the base that NumPy's selection views, as flat positions."""
    return np.unique(reference(np.arange(VALUES.size).reshape(SHAPE)))


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_view_shares_memory_and_values_with_its_base(name):
    make, reference = VIEWS[name]
    x = tn.tensor(VALUES, dtype=tn.float64)
    view = make(x)
    assert np.shares_memory(view.data, x.data)
    np.testing.assert_array_equal(view.data, reference(VALUES))


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_write_under_no_grad_reaches_the_base_and_both_version_counters(name):
    make, reference = VIEWS[name]
    x = tn.tensor(VALUES, dtype=tn.float64)
    view = make(x)
    with tn.no_grad():
        view.mul_(2.0)
    expected = VALUES.ravel().copy()
    expected[_positions(reference)] *= 2.0  # overlapping windows: each element once
    np.testing.assert_array_equal(x.data.ravel(), expected)
    assert x.version == view.version == 1
    x.add_(1.0)  # and the other way: a write to the base is seen by the view
    assert view.version == 2
    np.testing.assert_array_equal(view.data, reference(expected.reshape(SHAPE) + 1.0))


# Overlapping windows refuse a recorded write (the test after this one).
@pytest.mark.parametrize("name", [name for name in VIEWS if name != "unfold of a transpose"])
def test_a_write_in_a_graph_differentiates_as_copyslices(name):
    make, _ = VIEWS[name]

    def written(t):
        hidden = t * t
        view = make(hidden)
        view.mul_(t.sum())  # an operand that needs a gradient of its own
        return (hidden * hidden.exp()).sum() + (view**3).sum()

    x = tn.tensor(VALUES * 0.3, dtype=tn.float64, requires_grad=True)
    assert tn.gradcheck(written, (x,))
    assert tn.gradgradcheck(written, (x,))


def test_overlapping_windows_refuse_a_recorded_write_and_write_under_no_grad():
    x = tn.tensor([1.0, 2.0, 3.0, 4.0], dtype=tn.float64, requires_grad=True)
    hidden = x * 1.0
    with pytest.raises(RuntimeError, match=r"mul_: .*elements that overlap.*clone\(\)"):
        hidden.unfold(0, 2, 1).mul_(x[0])
    with tn.no_grad():
        hidden.unfold(0, 3, 1).mul_(2.0)  # each element written once, as PyTorch's
    assert hidden.tolist() == [2.0, 4.0, 6.0, 8.0]


def test_unfold_checks_its_arguments_as_pytorch():
    x = tn.arange(5.0)
    assert x.unfold(0, 2, 2).tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert tn.tensor(3.0).unfold(0, 1, 1).tolist() == [3.0]
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 5"):
        x.unfold(0, 6, 1)
    with pytest.raises(RuntimeError, match="step is 0 but must be > 0"):
        x.unfold(0, 2, 0)
    with pytest.raises(RuntimeError, match=r"tensor.H is only supported on matrices .*mH"):
        _ = tn.zeros(2, 2, 2).H
    with pytest.raises(RuntimeError, match="tensor.mH is only supported on matrices"):
        _ = tn.zeros(2).mH


def test_as_strided_follows_pytorchs_storage_and_checks_its_arguments():
    x = tn.arange(12.0).view(3, 4)
    assert x[1].as_strided((2,), (4,)).tolist() == [4.0, 8.0]  # from the view's own offset
    assert x[1].as_strided((2,), (1,), 0).tolist() == [0.0, 1.0]  # an offset in the storage
    assert x.as_strided((2, 2), (0, 1)).tolist() == [[0.0, 1.0], [0.0, 1.0]]
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 48"):
        x.as_strided((3, 3), (4, 2), 1)
    with pytest.raises(RuntimeError, match="Negative strides are not supported"):
        x.as_strided((2,), (-1,))
    with pytest.raises(RuntimeError, match="mismatch in length of strides and shape"):
        x.as_strided((2, 2), (1,))
    with pytest.raises(RuntimeError, match=_REPEATS):
        x.as_strided((2, 2), (0, 1)).zero_()
    w = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="reaches memory outside this tensor"):
        (w * 1.0)[1].as_strided((2,), (1,), 0)  # PyTorch's gradient would miss w[0]
    repeated = lambda t: (t.as_strided((3, 2), (1, 2), 2) ** 2).sum()  # noqa: E731
    assert tn.gradcheck(repeated, (w,)) and tn.gradgradcheck(repeated, (w,))


def test_detach_shares_memory_and_counter_but_records_on_the_alias_alone():
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    hidden = x.exp()  # exp's backward reads its output
    alias = hidden.detach()
    assert np.shares_memory(alias.data, hidden.data) and alias.grad_fn is None
    alias[0].mul_(2.0)  # grad mode on: a plain write, the alias is not in the graph
    np.testing.assert_array_equal(hidden.data[0], 2.0 * np.exp(VALUES[0]))
    assert hidden.version == alias.version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        hidden.sum().backward()


_REPEATS = "more than one element of the written-to tensor refers to a single memory location"


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize(
    "write",
    [lambda v: v.mul_(2.0), lambda v: v.zero_(), lambda v: v.__setitem__(0, 1.0)],
    ids=["mul_", "zero_", "setitem"],
)
def test_a_write_into_a_broadcast_view_that_repeats_elements_raises_pytorchs_error(write, grad):
    x = tn.tensor(VALUES[:, :1], dtype=tn.float64, requires_grad=grad)
    base = x * 1.0 if grad else x
    expanded = base.expand(2, 3, 4)
    with pytest.raises(RuntimeError, match=_REPEATS + r".* clone\(\)"):
        write(expanded)
    np.testing.assert_array_equal(base.data, VALUES[:, :1])  # nothing written
    assert base.version == 0


# -- a view outside the graph, taken before a write gave its base a history ------------------
def test_a_view_taken_before_a_write_into_another_view_gets_the_gradient():
    # The formerly silent case: ``row`` views ``out`` (outside the graph); ``out[0] = x``
    # gives ``out`` a history, which ``row`` picks up, as PyTorch regenerates its grad_fn.
    x = tn.tensor([1.5, -2.0, 0.5, 3.0], dtype=tn.float64, requires_grad=True)
    out = tn.zeros(3, 4, dtype=tn.float64)
    row = out[:, 0]
    tail = row[1:]  # a view of that view
    out[0] = x
    assert row.requires_grad and tail.requires_grad
    (row**2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 0.0, 0.0])  # d/dx0 of x0**2

    def forward(t):
        out = tn.ones(3, 4, dtype=tn.float64)
        row, column = out[:, 0], out.mT[2]
        tail = row[1:]
        out[2] = t * 2.0
        return (row**3).sum() + tail.exp().sum() + (column[:, None] * out).sum()

    assert tn.gradcheck(forward, (x,)) and tn.gradgradcheck(forward, (x,))


def test_a_view_taken_under_no_grad_gets_the_gradient_too():
    x = tn.tensor([1.5, -2.0], dtype=tn.float64, requires_grad=True)
    out = tn.zeros(3, 2, dtype=tn.float64)
    with tn.no_grad():
        column = out[:, 1]
    out[2] = x * x
    (column * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, -12.0])  # d/dx1 of 3 x1**2


def test_views_backward_makes_of_gradients_are_not_remembered(monkeypatch):
    import tinynet.autograd

    remembered = []
    monkeypatch.setattr(tinynet.autograd, "remember_view", lambda *pair: remembered.append(pair))
    x = tn.tensor(VALUES, dtype=tn.float64, requires_grad=True)
    loss = (x.reshape(4, 6).T * 2.0).sum()  # backward transposes and reshapes gradients
    loss.backward()
    assert remembered == []
    with tn.no_grad():
        x.detach().reshape(4, 6)  # a view outside the graph, outside backward: remembered
    assert len(remembered) == 1


def test_a_view_taken_before_a_write_into_its_base_gets_the_gradient():
    x = tn.tensor([1.5, -2.0, 0.5], dtype=tn.float64, requires_grad=True)

    def forward(t):
        out = tn.ones(3, dtype=tn.float64)
        part, whole = out[1:], out.view(3, 1)
        out.mul_(t)  # the base itself written: no view involved in the write
        return (part**2).sum() + whole.diagonal().sum() * 0.0 + whole.sum() ** 2

    assert tn.gradcheck(forward, (x,)) and tn.gradgradcheck(forward, (x,))


def _column_through_two_writes(t):
    out = tn.zeros(3, 4, dtype=t.dtype)
    column = out[:, 0]
    out[0] = t
    out[1] = t * 2.0  # out's history rewritten again: the column follows it, as in PyTorch
    return column**2


def test_a_view_outside_the_graph_follows_every_later_write():
    x = tn.tensor([1.5, -2.0, 0.5, 3.0], dtype=tn.float64, requires_grad=True)
    assert tn.gradcheck(_column_through_two_writes, (x,))
    assert tn.gradgradcheck(_column_through_two_writes, (x,))
    _column_through_two_writes(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2 * 1.5 + 8 * 1.5, 0.0, 0.0, 0.0])


def test_a_compiled_step_with_these_writes_keeps_eagers_bits():
    data = [np.random.default_rng(i).standard_normal((4, 3)) for i in range(4)]

    def make():
        tn.manual_seed(0)
        model = nn.Linear(3, 5, dtype=np.float64)
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        def step(inputs):
            hidden = model(inputs)
            out = tn.zeros(4, 5, dtype=tn.float64)
            column = out[:, 1]
            hidden.diagonal().mul_(2.0)
            out[1:] = hidden[1:]
            loss = (column**2).sum() + (hidden**2).sum() + out.sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss

        return model, step

    eager_model, eager_step = make()
    compiled_model, step = make()
    compiled = tn.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # it may run eagerly, with its warning
        for batch in data:
            assert eager_step(tn.tensor(batch)).item() == compiled(tn.tensor(batch)).item()
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
