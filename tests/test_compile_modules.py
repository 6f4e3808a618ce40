"""tn.compile and module state: batch norm's running statistics, parameters, buffers and
layers swapped after a function was compiled. Each replay must equal the eager call."""

import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import optim


def images(count=6, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (tn.tensor(rng.normal(size=(4, 2, 5, 5)).astype(np.float32) * 2 + 1), rng.integers(0, 3, 4))
        for _ in range(count)
    ]


def cnn(momentum=0.1):
    tn.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, rng=0), nn.BatchNorm2d(3, momentum=momentum), nn.ReLU(),
        nn.Flatten(), nn.Linear(27, 6, rng=1), nn.BatchNorm1d(6, momentum=momentum),
        nn.ReLU(), nn.Linear(6, 3, rng=2),
    )  # fmt: skip
    return model, optim.Adam(model.parameters(), lr=0.01)


def training(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def state_bits(model):
    return [t.data.tobytes() for t in (*model.parameters(), *model.buffers())]


def test_a_batch_norm_training_step_replays_its_running_statistics_bit_for_bit():
    data = images()
    eager_model, eager_opt = cnn()
    eager = [training(eager_model, eager_opt)(x, y).data.tobytes() for x, y in data]
    model, opt = cnn()
    step = tn.compile(training(model, opt))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # replayed, not run eagerly after a warning
        compiled = [step(x, y).data.tobytes() for x, y in data]
    assert compiled == eager
    assert state_bits(model) == state_bits(eager_model)  # running stats, batch counts
    assert int(model[1].num_batches_tracked.item()) == len(data)


def test_instance_norm_tracking_running_statistics_replays_them_bit_for_bit():
    def build():
        model = nn.Sequential(
            nn.Conv2d(2, 3, 3, rng=0), nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
            nn.Flatten(), nn.Linear(27, 3, rng=1),
        )  # fmt: skip
        return model, optim.SGD(model.parameters(), lr=0.1)

    data = images()
    eager_model, eager_opt = build()
    eager = [training(eager_model, eager_opt)(x, y).data.tobytes() for x, y in data]
    model, opt = build()
    step = tn.compile(training(model, opt))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = [step(x, y).data.tobytes() for x, y in data]
    assert compiled == eager and state_bits(model) == state_bits(eager_model)


def test_a_compiled_prediction_reads_running_statistics_trained_since():
    model, opt = cnn()
    data = images()
    predict = tn.compile(lambda x: model(x))
    for _epoch in range(3):  # train eagerly, predict compiled: the usual evaluation loop
        model.train()
        for x, y in data[:3]:
            training(model, opt)(x, y)
        model.eval()
        for _ in range(3):
            compiled = predict(data[5][0]).data
        with tn.no_grad():
            np.testing.assert_array_equal(compiled, model(data[5][0]).data)


def test_cumulative_batch_norm_runs_eagerly_and_says_why():
    # momentum=None: the factor 1 / batches changes every call, outside any op.
    data = images()
    eager_model, eager_opt = cnn(momentum=None)
    eager = [training(eager_model, eager_opt)(x, y).data.tobytes() for x, y in data]
    model, opt = cnn(momentum=None)
    step = tn.compile(training(model, opt))
    with pytest.warns(RuntimeWarning, match="changed between calls"):
        compiled = [step(x, y).data.tobytes() for x, y in data]
    assert compiled == eager and state_bits(model) == state_bits(eager_model)


@pytest.mark.parametrize(
    "change", ["parameter", "layer", "buffer-array", "load_state_dict", "setting"]
)
def test_state_swapped_after_compiling_is_what_the_next_call_uses(change):
    model = nn.Sequential(
        nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4), nn.LeakyReLU(0.1), nn.Linear(4, 2, rng=1)
    )
    model.eval()
    predict = tn.compile(lambda x: model(x))
    x = tn.tensor(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32))
    for _ in range(4):
        predict(x)
    if change == "parameter":
        model[0].weight = nn.Parameter(np.ones((4, 3), np.float32))
    elif change == "layer":
        model[3] = nn.Linear(4, 2, rng=5)
    elif change == "setting":  # a plain attribute the forward reads: a constant when recorded
        model[2].negative_slope = 0.5
    elif change == "buffer-array":
        model[1].running_var.data = np.full(4, 9.0, np.float32)
    else:
        state = {k: np.asarray(v) * 2 + 1 for k, v in model.state_dict().items()}
        model.load_state_dict(state)
    with tn.no_grad():
        expected = model(x).data
    np.testing.assert_array_equal(predict(x).data, expected)
    np.testing.assert_array_equal(predict(x).data, expected)  # and in the new program


def test_a_module_assigning_its_buffers_in_forward_runs_eagerly_and_says_why():
    class Remember(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("last", tn.zeros(2))

        def forward(self, x):
            self.last = x.detach().sum(0)  # a new Tensor each call: not replayable
            return x * 2

    module = Remember()
    double = tn.compile(lambda x: module(x))
    with pytest.warns(RuntimeWarning, match="assigned during the call"):
        for value in range(3):
            double(tn.full((3, 2), float(value)))
    assert module.last.tolist() == [6.0, 6.0]


def test_a_compiled_module_guards_its_own_mode():
    # tn.compile(model) sees the model itself: eval() after replays in training mode records
    # the evaluation program (dropout off) instead of replaying the training one.
    model = nn.Sequential(nn.Linear(3, 3, rng=0), nn.Dropout(0.5, rng=1))
    eager = nn.Sequential(nn.Linear(3, 3, rng=0), nn.Dropout(0.5, rng=1))
    compiled = tn.compile(model)
    x = tn.tensor(np.ones((2, 3), np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for mode in ("train", "train", "train", "eval", "eval", "eval", "train"):
            for module in (model, eager):
                getattr(module, mode)()
            np.testing.assert_array_equal(compiled(x).data, eager(x).data)


def test_another_threads_module_edits_during_a_recording_do_not_make_it_eager():
    # Building a model in another thread (each assignment counts as a module edit) while
    # this thread records its step: neither a warning nor an eager fallback, and the
    # replays equal eager calls. Edits made by the recording thread itself still do.
    import threading

    edit_now, edited, stop = threading.Event(), threading.Event(), threading.Event()

    def builder():  # another thread's model, edited whenever the step asks
        while not stop.is_set():
            if edit_now.wait(0.01):
                edit_now.clear()
                nn.Linear(2, 2, rng=0).scale = 1.0
                edited.set()

    python_runs = [0]  # calls that ran the function's Python: eager or recording, not replays

    def run(compiled):
        model, opt = cnn()
        step = training(model, opt)

        def step_meeting_the_builder(x, y):
            python_runs[0] += 1
            if python_runs[0] <= 3:  # the first calls, the recording among them
                edited.clear()
                edit_now.set()
                assert edited.wait(5)
            return step(x, y)

        fn = tn.compile(step_meeting_the_builder) if compiled else step
        return [fn(x, y).item() for x, y in images(count=8)]

    eager = run(False)
    thread = threading.Thread(target=builder)
    thread.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            assert run(True) == eager
    finally:
        stop.set()
        thread.join()
    assert 3 < python_runs[0] < 8  # once the edits stopped, it recorded again and replayed
