"""tn.compile and results that depend on values: masks, indices found in the step, sizes.

A replay must use each call's masks and indices (never the recorded call's), keep eager's
bits, and run eagerly with one clear warning when a size it recorded no longer holds.
"""

import warnings

import numpy as np
import pytest

import tinynet as tn

# The first three inputs share a sign pattern (the recordings see equal masks), the others
# do not: a mask or index baked into the program would give the third call's answer.
SAME_THEN_OTHER = [
    [1.0, -1.0, 2.0],
    [2.0, -2.0, 3.0],
    [3.0, -3.0, 4.0],
    [-1.0, 1.0, -2.0],
    [-5.0, 5.0, 5.0],
]
SAME_COUNT = [
    [1.0, -1.0, 2.0],
    [2.0, -2.0, 3.0],
    [3.0, -3.0, 4.0],
    [-1.0, 1.0, 2.0],
    [5.0, 5.0, -5.0],
]


def compiled_and_eager(fn, inputs):
    """(compiled results, eager results, warning messages) over ``inputs``."""
    compiled = tn.compile(fn)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [compiled(tn.tensor(np.array(x))).data.copy() for x in inputs]
    expected = [fn(tn.tensor(np.array(x))).data for x in inputs]
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return got, expected, messages, compiled


def assign_through_a_mask(x):
    out = x * 1.0
    out[x > 0] = 0.0
    return out


def assign_at_found_indices(x):
    out = x * 1.0
    out[tn.nonzero(x < 0, as_tuple=True)] = 5.0
    out[tn.where(x > 2.5)] = 7.0
    return out * tn.tensor([1.0, 10.0, 100.0])


def found_indices_as_rows(x):
    return tn.nonzero(x > 0).double().sum(0) + x


@pytest.mark.parametrize(
    "fn", [assign_through_a_mask, assign_at_found_indices, found_indices_as_rows]
)
def test_masks_and_indices_found_in_the_step_are_each_calls(fn):
    got, expected, _, _ = compiled_and_eager(fn, SAME_THEN_OTHER)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_a_masked_selection_replays_while_its_count_holds_then_runs_eagerly():
    w = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def step(x):
        w.grad = None
        picked = (x * w)[x > 0]
        loss = (picked * picked).sum()
        loss.backward()
        return tn.cat([loss.reshape(1), w.grad])

    got, expected, messages, compiled = compiled_and_eager(step, SAME_COUNT)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert messages == []  # two elements selected every time: the program replays
    assert any(type(e).__name__ == "Program" for e in compiled._entries.values())
    # Counts 2, 2, 2, then 3, 1, 3, 1: the check fails, the step records again, and when the
    # count keeps changing it runs eagerly, saying why.
    changing = SAME_COUNT[:3] + [[1.0, 1.0, 1.0], [1.0, -1.0, -1.0]] * 2
    got, expected, messages, _ = compiled_and_eager(step, changing)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert len(messages) == 1 and "size depends on values" in messages[0]


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, index: tn.scatter(x * 1.0, 1, index, x[:, :1] * 10.0),
        lambda x, index: tn.nn.functional.one_hot(index.reshape(-1), 3) * x,
        lambda x, index: (index > 0) * x + index.reshape(-1, 1),
    ],
    ids=["scatter", "one_hot", "promoted"],
)
def test_an_index_argument_equal_in_the_first_calls_is_still_each_calls(fn):
    # The first three calls get other values but the same index: what the step derives
    # from the index (scattered places, one-hot rows, a converted mask) must not be frozen.
    compiled = tn.compile(fn)
    for k, index in enumerate([[[0], [1]]] * 3 + [[[2], [0]]] * 2):
        x = tn.tensor(np.arange(6.0).reshape(2, 3) + k)
        index = tn.tensor(np.array(index))
        np.testing.assert_array_equal(compiled(x, index).data, fn(x, index).data)


def test_scatter_with_indices_found_in_the_step_uses_each_calls():
    def fn(x):
        index = (x > 0).long()  # repeated targets: the last write wins
        return tn.scatter(tn.zeros(3), 0, index, x)

    got, expected, _, _ = compiled_and_eager(fn, SAME_THEN_OTHER)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "fn, name",
    [
        (lambda x: tn.unique((x > 0).long()).double().sum() + x, "unique"),
        (lambda x: tn.scatter_reduce(x, 0, (x > 0).long(), x, "prod"), "scatter_reduce"),
    ],
)
def test_what_decides_in_python_from_values_runs_eagerly_with_one_warning(fn, name):
    got, expected, messages, _ = compiled_and_eager(fn, SAME_THEN_OTHER)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert len(messages) == 1 and name in messages[0]


import tinynet.nn as nn  # noqa: E402

LAYERS = {
    "linear_relu": (lambda: nn.Sequential(nn.Linear(4, 3), nn.ReLU()), (5, 4)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.1), (5, 4)),
    "hardtanh": (lambda: nn.Hardtanh(), (5, 4)),
    "prelu": (lambda: nn.PReLU(), (5, 4)),
    "max_pool1d": (lambda: nn.MaxPool1d(2), (2, 3, 6)),
    "max_pool2d": (lambda: nn.MaxPool2d(2, padding=1), (2, 3, 4, 4)),
    "adaptive_max_pool2d": (lambda: nn.AdaptiveMaxPool2d(2), (2, 3, 5, 5)),
    "conv_batch_norm": (lambda: nn.Sequential(nn.Conv2d(3, 2, 3), nn.BatchNorm2d(2)), (2, 3, 5, 5)),
    "lstm": (lambda: nn.LSTM(4, 3, batch_first=True), (2, 3, 4)),
    "transformer": (
        lambda: nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0, batch_first=True),
        (2, 3, 4),
    ),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layers_whose_first_calls_agree_on_signs_and_maxima_replay_each_calls(name):
    # Inputs A, 2A, 3A (the same signs, orders and maxima) then unrelated ones: a mask, a
    # maximum's position or an order taken from the recorded calls would show after them.
    make, shape = LAYERS[name]

    def step_for(layer):
        scale = tn.tensor(1.0, requires_grad=True)

        def step(x):
            for p in [*layer.parameters(), scale]:
                p.grad = None
            y = layer(x * scale)
            y = y[0] if isinstance(y, tuple) else y
            (y * y).sum().backward()
            return y, [p.grad for p in [*layer.parameters(), scale]]

        return step

    tn.manual_seed(0)
    eager = step_for(make())
    tn.manual_seed(0)
    compiled = tn.compile(step_for(make()))
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(np.float32)
    others = [rng.standard_normal(shape).astype(np.float32) for _ in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no eager fallback
        for x in [a, 2 * a, 3 * a, *others]:
            (y, grads), (y2, grads2) = eager(tn.tensor(x)), compiled(tn.tensor(x))
            np.testing.assert_array_equal(y.data, y2.data)
            for g, g2 in zip(grads, grads2):
                np.testing.assert_array_equal(g.data, g2.data)
    assert any(type(e).__name__ == "Program" for e in compiled._entries.values())
