"""tn.compile guards the Python values a step reads from outside its arguments (globals,
closure variables, attributes of plain objects), as torch.compile does: a KL weight or a
temperature changed between calls is never replayed stale."""

import warnings

import numpy as np
import pytest

import tinynet as tn

kl_weight = 0.5  # read by the steps below as a global
eager_calls: list = []


def scaled_by_global(x):
    eager_calls.append(1)  # Python side effects happen in the calls that run eagerly only
    return (x * kl_weight).sum()


def replays(compiled, x, calls: int = 4) -> list:
    """The values of ``calls`` calls, none of which may warn (no eager fallback)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return [compiled(x).item() for _ in range(calls)]


def test_a_global_changed_between_calls_is_read_again():
    global kl_weight
    x = tn.ones(3)
    compiled = tn.compile(scaled_by_global)
    eager_calls.clear()
    try:
        assert replays(compiled, x) == [1.5] * 4
        assert len(eager_calls) == 2  # two recorded calls, then replays
        kl_weight = 2.0
        assert replays(compiled, x) == [6.0] * 4  # eagerly: 3 * 2.0
        assert len(eager_calls) == 4  # recorded again, then replayed
    finally:
        kl_weight = 0.5


def test_a_closure_variable_changed_between_calls_is_read_again():
    temperature = 1.0

    def step(x):
        return (x / temperature).sum()

    compiled = tn.compile(step)
    x = tn.ones(4)
    assert replays(compiled, x) == [4.0] * 4
    temperature = 4.0  # noqa: F841 (read by step through its closure cell)
    assert replays(compiled, x) == [1.0] * 4


def test_attributes_of_a_config_object_and_of_self_are_read_again():
    class Config:
        def __init__(self):
            self.beta = 1.0

    class Trainer:
        def __init__(self, config):
            self.config, self.scale = config, 1.0

        def step(self, x):
            return (x * self.scale * self.config.beta).sum()

    config = Config()
    trainer = Trainer(config)
    compiled = tn.compile(trainer.step)
    x = tn.ones(2)
    assert replays(compiled, x) == [2.0] * 4
    trainer.scale = 3.0
    assert replays(compiled, x) == [6.0] * 4
    config.beta = 0.5
    assert replays(compiled, x) == [3.0] * 4


def test_the_type_of_a_value_counts_not_only_its_value():
    # x * 2 of an integer tensor is an integer, x * 2.0 a float: 2 == 2.0 is not enough.
    factor = 2

    def step(x):
        return x * factor

    compiled = tn.compile(step)
    x = tn.tensor([1, 2])
    for _ in range(3):
        assert compiled(x).dtype == tn.int64
    factor = 2.0  # noqa: F841
    result = compiled(x)
    assert result.dtype == tn.float32 and result.tolist() == [2.0, 4.0]


def test_a_nan_value_that_stays_nan_keeps_replaying():
    shift = float("nan")

    def step(x):
        return (x + shift).sum()

    compiled = tn.compile(step)
    values = replays(compiled, tn.ones(2), calls=6)
    assert all(np.isnan(values))
    assert len(compiled._entries) == 1 and compiled._eager_reason is None


def test_a_value_that_changes_at_every_call_runs_eagerly_with_a_warning_naming_it():
    counter = 0

    def step(x):
        return (x * counter).sum()

    compiled = tn.compile(step)
    x = tn.ones(2)
    with pytest.warns(RuntimeWarning, match=r"'counter' changed.*as an argument"):
        for i in range(20):
            counter = i
            assert compiled(x).item() == 2 * i  # right at every call, replayed or not


def test_a_list_the_step_appends_its_losses_to_lets_it_compile_without_warnings():
    # The list grows between the recorded calls, and holds non-leaf tensors: neither is a
    # guard (the list's items count where both recordings saw them; only leaves have .grad).
    losses: list = []
    w = tn.tensor(np.ones(3, np.float32), requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        losses.append(loss)
        return loss

    compiled = tn.compile(step)
    assert replays(compiled, tn.ones(3), calls=6) == [3.0] * 6
    assert type(next(iter(compiled._entries.values()))).__name__ == "Program"
    assert len(losses) == 2  # Python side effects happen in the recorded calls only
