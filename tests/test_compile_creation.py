"""tn.compile replays writes into tensors the step created (tn.zeros, tn.empty, ...), bit for bit."""

import warnings

import numpy as np
import pytest

import tinynet as tn

N, K = 4, 3


def is_replaying(step) -> bool:
    return any(type(entry).__name__ == "Program" for entry in step._entries.values())


def _zeros_then_slices(x, w, dtype):
    out = tn.zeros(N, K, dtype=dtype)
    out[:, 1:] = (x * w)[:, 1:]  # needs a gradient: w gets it through the written slice
    out[0] = x.sum(0)  # a value without a gradient, over part of the first write
    return out


def _empty_then_copy(x, w, dtype):
    buffer = tn.empty(N, K, dtype=dtype)
    buffer.copy_(x * w)
    return buffer * 2.0


def _ones_then_masked(x, w, dtype):
    mask = tn.ones(N, K, dtype=dtype)
    mask[[0, 2]] = 0  # integer-array index: PyTorch's index_put_
    return x * w * mask


def _zeros_like_then_updates(x, w, dtype):
    total = tn.zeros_like(x)
    total += x * w
    total[:, 0] *= 0.5  # a write through a view, then __setitem__ of the same memory
    return total


def _full_then_row_without_grad(x, w, dtype):
    with tn.no_grad():
        scale = tn.full((N, K), 3.0, dtype=dtype)
        scale[1] = x[1]
    return x * w * scale


def _eye_then_diagonal(x, w, dtype):
    eye = tn.eye(K, dtype=dtype)
    eye.diagonal().mul_(2.0)
    eye[0, 2] = -1.0
    return (x * w) @ eye


def _tensor_then_fill(x, w, dtype):
    bias = tn.tensor(np.arange(K), dtype=dtype)
    bias[1:].fill_(0.25)
    return x * w + bias


_WRITES = {
    "zeros_slices": _zeros_then_slices,
    "empty_copy_": _empty_then_copy,
    "ones_index_put": _ones_then_masked,
    "zeros_like_iadd": _zeros_like_then_updates,
    "full_no_grad": _full_then_row_without_grad,
    "eye_diagonal": _eye_then_diagonal,
    "tensor_fill_": _tensor_then_fill,
}


def _calls(dtype, count=5, rows=N):
    rng = np.random.default_rng(7)
    return [
        (
            tn.tensor(rng.standard_normal((rows, K)).astype(dtype)),
            tn.tensor(rng.standard_normal((rows, K)).astype(dtype)),
        )
        for _ in range(count)
    ]


def _training_step(write, dtype):
    weight = tn.tensor(np.linspace(-1.0, 1.5, K).astype(dtype), requires_grad=True)

    def step(x, target):
        weight.grad = None
        out = write(x, weight, dtype)
        loss = (out * target).sum()
        loss.backward()
        return out, loss

    return weight, step


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("write", _WRITES.values(), ids=list(_WRITES))
def test_a_write_into_a_tensor_the_step_created_replays_eagers_bits(write, dtype):
    eager_weight, eager_step = _training_step(write, dtype)
    weight, step = _training_step(write, dtype)
    compiled = tn.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for x, target in _calls(dtype):
            expected = eager_step(x, target)
            got = compiled(x, target)
            for ours, theirs in zip(got, expected):
                assert ours.dtype == theirs.dtype == dtype
                np.testing.assert_array_equal(ours.data, theirs.data)
            np.testing.assert_array_equal(weight.grad.data, eager_weight.grad.data)
    assert is_replaying(compiled)


def test_the_gradient_reaches_the_values_written_into_a_created_tensor():
    # loss = sum(out * c) with out[:, 1:] = (x * w)[:, 1:], then row 0 overwritten by a
    # value without a gradient: dloss/dw[j] = sum over rows i >= 1 of c[i, j] * x[i, j]
    # for j >= 1, and 0 for column 0, which the first write did not keep.
    weight, step = _training_step(_zeros_then_slices, np.float64)
    compiled = tn.compile(step)
    for x, target in _calls(np.float64):
        compiled(x, target)
        expected = (target.data[1:] * x.data[1:]).sum(0)
        expected[0] = 0.0
        np.testing.assert_allclose(weight.grad.data, expected, rtol=1e-13, atol=0)
    assert is_replaying(compiled)


def test_what_a_step_creates_and_returns_is_fresh_at_each_call():
    def step(x):
        out = tn.zeros(N, K)
        out[1:] = x[1:] * 2.0
        untouched = tn.ones(2)  # neither written nor computed from the arguments
        return out, untouched, tn.tensor([1.0, 2.0])

    compiled = tn.compile(step)
    kept = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for x, _ in _calls(np.float32, count=6):
            got = compiled(x)
            for ours, theirs in zip(got, step(x)):
                np.testing.assert_array_equal(ours.data, theirs.data)
            for tensor in got:  # the caller owns what it got: a later call must not see this
                tensor.data[...] = np.nan
                tensor.add_(1.0)
            kept.extend(got)
    assert is_replaying(compiled)
    arrays = [tensor.data for tensor in kept]
    assert not any(np.shares_memory(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1 :])


def test_a_new_shape_records_again_and_replays_eagers_bits():
    def step(x):
        rows = x.shape[0]
        out = tn.zeros(rows, K + 1, dtype=x.dtype)
        out[:, 1:] = x.exp()
        out[:, 0] = x.sum(1)
        return out * 1.0

    compiled = tn.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for rows in (N, N + 3, N):
            for x, _ in _calls(np.float64, count=4, rows=rows):
                np.testing.assert_array_equal(compiled(x).data, step(x).data)
    assert sum(type(entry).__name__ == "Program" for entry in compiled._entries.values()) == 2


def test_a_write_into_an_array_made_outside_tinynet_still_runs_eagerly_with_one_warning():
    def step(x):
        out = tn.Tensor(np.zeros((N, K)))  # NumPy's array: no recorded op made it
        out[1:] = x[1:] * 2.0
        return out

    compiled = tn.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for x, _ in _calls(np.float64, count=4):
            np.testing.assert_array_equal(compiled(x).data, step(x).data)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1
    assert "writes a tensor in place (copy_ at test_compile_creation.py" in messages[0]
    assert "tn.zeros" in messages[0]
    assert not is_replaying(compiled)


def test_a_value_with_leading_ones_is_assigned_as_eagerly_while_recording():
    # NumPy's item assignment drops a value's leading 1s (PyTorch's too); copy_ into the view
    # would not, so such a value keeps the eager path while recording.
    def step(x):
        out = tn.zeros(N, K, dtype=x.dtype)
        out[0] = x.sum(0, keepdim=True)  # (1, K) into a row of K
        out[1:] = x[1:] * 2.0
        return out

    compiled = tn.compile(step)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        for x, _ in _calls(np.float64, count=4):
            np.testing.assert_array_equal(compiled(x).data, step(x).data)


def test_ranges_written_in_the_step_replay_eagers_bits():
    def step(x):
        grid = tn.linspace(0.0, 1.0, K, dtype=x.dtype)
        scales = tn.logspace(0.0, 1.0, K, dtype=x.dtype)
        steps = tn.arange(K, dtype=x.dtype)
        grid[0] = -1.0
        scales.mul_(grid)
        steps += scales
        return x * steps

    compiled = tn.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for dtype in (np.float32, np.float64):
            for x, _ in _calls(dtype, count=4):
                ours, theirs = compiled(x), step(x)
                assert ours.dtype == theirs.dtype == dtype
                np.testing.assert_array_equal(ours.data, theirs.data)
    assert is_replaying(compiled)


@pytest.mark.parametrize("draw", ["dropout", "normal", "uniform_", "randn"])
def test_manual_seed_between_replays_reseeds_what_the_replays_draw(draw):
    # PyTorch's habit: tn.manual_seed(s) then the step repeats its draws. A program holds
    # the global generator it recorded with, so reseeding must reach that very object.
    tn.manual_seed(1)
    dropout = tn.nn.Dropout(0.5)
    x = tn.tensor(np.ones((3, 4), np.float32))
    steps = {
        "dropout": lambda x: dropout(x),
        "normal": lambda x: x + tn.normal(0.0, 1.0, size=x.shape),
        "uniform_": lambda x: x + tn.empty(*x.shape).uniform_(),
        "randn": lambda x: x + tn.randn(*x.shape),
    }
    step = steps[draw]
    compiled = tn.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a replay, not an eager fallback
        for _ in range(4):
            compiled(x)
        tn.manual_seed(123)
        replayed = [compiled(x).data.copy() for _ in range(2)]
    tn.manual_seed(123)
    eager = [step(x).data.copy() for _ in range(2)]
    np.testing.assert_array_equal(replayed, eager)
    assert not np.array_equal(replayed[0], replayed[1])  # fresh draws at each call
