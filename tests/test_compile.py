"""tn.compile: replayed training steps are bit-identical to eager ones, guards retrace, and
what cannot be recorded runs eagerly with one warning."""

import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import nn, optim

OPTIMIZERS = [
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (optim.Adagrad, dict(lr=0.05, lr_decay=0.01)),
    (optim.NAdam, dict(lr=0.01, weight_decay=0.01, decoupled_weight_decay=True)),
    (optim.RAdam, dict(lr=0.01, weight_decay=0.01)),
    (optim.Adamax, dict(lr=0.01)),
    (optim.Adadelta, dict(lr=0.5)),
    (optim.Rprop, dict(lr=0.01)),
]


def classifier(dtype, seed=0):
    return nn.Sequential(
        nn.Linear(3, 8, dtype=dtype, rng=seed),
        nn.Tanh(),
        nn.LayerNorm(8, dtype=dtype),
        nn.Linear(8, 8, dtype=dtype, rng=seed + 1),
        nn.ReLU(),
        nn.Linear(8, 8, dtype=dtype, rng=seed + 2),
        nn.GELU(),
        nn.Linear(8, 8, dtype=dtype, rng=seed + 3),
        nn.LeakyReLU(0.1),
        nn.Linear(8, 8, dtype=dtype, rng=seed + 4),
        nn.ELU(),
        nn.Linear(8, 8, dtype=dtype, rng=seed + 5),
        nn.Softplus(),
        nn.Linear(8, 8, dtype=dtype, rng=seed + 6),
        nn.Sigmoid(),
        nn.Linear(8, 4, dtype=dtype, rng=seed + 7),
    )


def batches(dtype, count=6, n=10, seed=1):
    rng = np.random.default_rng(seed)
    return [
        (tn.Tensor(rng.normal(size=(n, 3)).astype(dtype)), rng.integers(0, 4, n))
        for _ in range(count)
    ]


def train(step, data):
    return [step(x, y) for x, y in data]


def make_step(model, opt, loss_fn):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def assert_same_bits(eager_losses, compiled_losses, eager_model, compiled_model):
    for a, b in zip(eager_losses, compiled_losses):
        assert a.data.dtype == b.data.dtype
        assert a.data.tobytes() == b.data.tobytes()
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        assert p.data.tobytes() == q.data.tobytes()
        assert p.grad.data.tobytes() == q.grad.data.tobytes()


def compare(build, loss_fn, dtype, data=None, expect_compiled=True):
    """Train twice from the same start, eagerly and compiled; return the compiled function."""
    data = data if data is not None else batches(dtype)
    runs = []
    for compiled in (False, True):
        model, opt = build()
        step = make_step(model, opt, loss_fn)
        if compiled:
            step = tn.compile(step)
        with warnings.catch_warnings():
            warnings.simplefilter("error" if expect_compiled else "ignore", RuntimeWarning)
            runs.append((train(step, data), model, step))
    (eager, eager_model, _), (replayed, compiled_model, step) = runs
    assert_same_bits(eager, replayed, eager_model, compiled_model)
    return step


def is_replaying(step) -> bool:
    return any(type(entry).__name__ == "Program" for entry in step._entries.values())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS, ids=lambda x: getattr(x, "__name__", ""))
def test_every_optimizer_and_layer_type_replays_bit_identically(cls, kwargs, dtype):
    def build():
        model = classifier(dtype)
        return model, cls(model.parameters(), **kwargs)

    step = compare(build, F.cross_entropy, dtype)
    assert is_replaying(step)


def _one_hot(y, dtype):
    return tn.Tensor((y[:, None] == np.arange(4)).astype(dtype))


def _scaled(y, dtype):
    return tn.Tensor((y[:, None] * 0.25 + np.linspace(-1, 1, 4)).astype(dtype))


def _labels(y, dtype):
    return y


def _signs(y, dtype):
    return tn.Tensor(np.where(y[:, None] == np.arange(4), 1.0, -1.0).astype(dtype))


def _row_signs(y, dtype):
    return tn.Tensor(np.where(y % 2 == 0, 1.0, -1.0).astype(dtype))


def _counts(y, dtype):
    return tn.Tensor(((y[:, None] + np.arange(4)) % 3).astype(dtype))


# name: (loss, how the batch's targets are made; they are arguments of the step)
LOSSES = {
    "cross_entropy": (F.cross_entropy, _labels),
    "cross_entropy-sum": (lambda out, y: F.cross_entropy(out, y, reduction="sum"), _labels),
    "cross_entropy-none": (
        lambda out, y: F.cross_entropy(out, y, reduction="none").sum(),
        _labels,
    ),
    "CrossEntropyLoss-weight-smoothing": (
        nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 0.5, 1.0]), label_smoothing=0.1),
        _labels,
    ),
    "cross_entropy-probabilities": (F.cross_entropy, _one_hot),
    "nll_loss": (lambda out, y: F.nll_loss(F.log_softmax(out, 1), y, reduction="sum"), _labels),
    "mse_loss": (F.mse_loss, _scaled),
    "l1_loss": (F.l1_loss, _scaled),
    "huber_loss": (lambda a, b: F.huber_loss(a, b, delta=0.3), _scaled),
    "binary_cross_entropy": (lambda out, t: F.binary_cross_entropy(F.sigmoid(out), t), _one_hot),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, _one_hot),
    "smooth_l1_loss": (lambda a, b: F.smooth_l1_loss(a, b, beta=0.3), _scaled),
    "kl_div-batchmean": (  # one-hot targets: the 0 log 0 = 0 branch
        lambda out, t: F.kl_div(F.log_softmax(out, 1), t, reduction="batchmean"),
        _one_hot,
    ),
    "gaussian_nll_loss": (lambda out, t: F.gaussian_nll_loss(out, t, F.softplus(out)), _scaled),
    "cosine_similarity": (lambda out, t: (1.0 - F.cosine_similarity(out, t)).mean(), _scaled),
    "margin_ranking_loss": (
        lambda out, t: F.margin_ranking_loss(out[:, 0], out[:, 1], t[:, 0], margin=0.1),
        _signs,
    ),
    "hinge_embedding_loss": (F.hinge_embedding_loss, _signs),
    "soft_margin_loss": (F.soft_margin_loss, _signs),
    "multilabel_soft_margin_loss": (F.multilabel_soft_margin_loss, _one_hot),
    "MultiMarginLoss-p2-weight": (
        nn.MultiMarginLoss(p=2, margin=0.5, weight=np.array([1.0, 2.0, 0.5, 1.0])),
        _labels,
    ),
    "cosine_embedding_loss": (
        lambda out, t: F.cosine_embedding_loss(out[:, :2], out[:, 2:], t, margin=0.1),
        _row_signs,
    ),
    "triplet_margin_loss-swap": (
        lambda out, t: F.triplet_margin_loss(out[:, :2], out[:, 2:], t[:, :2], swap=True),
        _scaled,
    ),
    "poisson_nll_loss-full": (lambda out, t: F.poisson_nll_loss(out, t, full=True), _counts),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_replays_bit_identically(name, dtype):
    def build():
        model = classifier(dtype)
        return model, optim.Adam(model.parameters(), lr=0.01)

    loss, targets = LOSSES[name]
    data = [(x, targets(y, dtype)) for x, y in batches(dtype)]
    step = compare(build, loss, dtype, data=data)
    assert is_replaying(step)


def test_a_value_branch_that_changes_after_tracing_is_rechecked():
    # Huber picks its formula from the values: the first calls are all quadratic, a later
    # one is not; the replay notices, runs eagerly and records again.
    def build():
        model = nn.Linear(3, 1, dtype=np.float64, rng=0)
        return model, optim.SGD(model.parameters(), lr=0.01)

    rng = np.random.default_rng(0)
    small = [(tn.Tensor(rng.normal(size=(4, 3)) * 0.01), np.zeros(4)) for _ in range(3)]
    large = [(tn.Tensor(rng.normal(size=(4, 3)) * 100), np.zeros(4)) for _ in range(3)]

    def huber(out, y):
        return F.huber_loss(out, tn.Tensor(y[:, None]), delta=1.0)

    compare(build, huber, np.float64, data=small + large + small)


def test_invalid_targets_raise_as_in_eager_mode():
    model = nn.Linear(3, 4, dtype=np.float64, rng=0)
    step = tn.compile(make_step(model, optim.SGD(model.parameters(), lr=0.1), F.cross_entropy))
    x = tn.Tensor(np.ones((2, 3)))
    for _ in range(3):
        step(x, np.array([0, 3]))
    assert is_replaying(step)
    before = model.weight.data.copy()
    with pytest.raises(IndexError, match="out of bounds"):
        step(x, np.array([0, 4]))
    np.testing.assert_array_equal(model.weight.data, before)


def test_guards_retrace_on_new_shapes_and_modes_and_lr_changes_take_effect():
    def build():
        model = nn.Sequential(
            nn.Linear(3, 5, rng=0), nn.Dropout(0.3, rng=2), nn.ReLU(), nn.Linear(5, 4, rng=1)
        )
        opt = optim.Adam(model.parameters(), lr=0.01)
        scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return model, opt, scheduler

    data = batches(np.float32, count=4, n=6) + batches(np.float32, count=4, n=3, seed=2)
    results = []
    for compiled in (False, True):
        model, opt, scheduler = build()
        step = make_step(model, opt, F.cross_entropy)
        step = tn.compile(step) if compiled else step
        losses = []
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            for index, (x, y) in enumerate(data):
                if index == 5:
                    model.eval()
                losses.append(step(x, y))
                scheduler.step()  # outside the step: the replayed optimizer sees the new lr
        results.append((losses, model))
    assert_same_bits(results[0][0], results[1][0], results[0][1], results[1][1])


def test_a_scheduler_stepped_inside_is_replayed():
    def run(compiled):
        model = nn.Linear(3, 4, rng=0)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        scheduler = optim.lr_scheduler.ExponentialLR(opt, gamma=0.7)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            scheduler.step()
            return loss

        step = tn.compile(step) if compiled else step
        return train(step, batches(np.float32)), model, opt

    eager, eager_model, eager_opt = run(False)
    replayed, model, opt = run(True)
    assert opt.param_groups[0]["lr"] == eager_opt.param_groups[0]["lr"]
    assert_same_bits(eager, replayed, eager_model, model)


PER_BATCH_SCHEDULERS = {
    "OneCycleLR": lambda opt: optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=6),
    "CyclicLR": lambda opt: optim.lr_scheduler.CyclicLR(opt, 0.01, 0.2, step_size_up=2),
    "CosineAnnealingWarmRestarts": lambda opt: optim.lr_scheduler.CosineAnnealingWarmRestarts(
        opt, T_0=2, T_mult=2
    ),
    "SequentialLR": lambda opt: optim.lr_scheduler.SequentialLR(
        opt,
        [optim.lr_scheduler.LinearLR(opt, 0.2, total_iters=2), optim.lr_scheduler.StepLR(opt, 2)],
        milestones=[3],
    ),
    "ChainedScheduler": lambda opt: optim.lr_scheduler.ChainedScheduler(
        [optim.lr_scheduler.ConstantLR(opt, 0.5, 3), optim.lr_scheduler.ExponentialLR(opt, 0.8)]
    ),
}


@pytest.mark.parametrize("name", list(PER_BATCH_SCHEDULERS))
def test_the_new_schedulers_stepped_inside_are_replayed(name):
    # The momentum a cycling scheduler writes into the group is read by the replayed step.
    def run(compiled):
        model = nn.Linear(3, 4, rng=0)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        scheduler = PER_BATCH_SCHEDULERS[name](opt)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            scheduler.step()
            return loss

        step = tn.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # recorded whole, not run eagerly after a warning
            return train(step, batches(np.float32)), model, opt

    eager, eager_model, eager_opt = run(False)
    replayed, model, opt = run(True)
    assert opt.param_groups[0]["lr"] == eager_opt.param_groups[0]["lr"]
    assert opt.param_groups[0]["momentum"] == eager_opt.param_groups[0]["momentum"]
    assert_same_bits(eager, replayed, eager_model, model)


@pytest.mark.parametrize(
    "case, reason",
    [
        ("item", "reads a value"),
        ("dropout-seed", "changed between calls"),
        ("numpy-buffer", "changed in place"),
        ("closure", "closure"),
    ],
)
def test_what_cannot_be_recorded_runs_eagerly_with_one_warning(case, reason):
    def build():
        layers = [nn.Linear(3, 6, rng=0)]
        if case == "dropout-seed":  # a fresh generator from the same seed at every call
            layers.append(nn.Module())
            layers[-1].forward = lambda x: F.dropout(x, 0.5, rng=3)
        if case == "numpy-buffer":  # a buffer updated by NumPy code outside any op
            counter = nn.Module()
            counter.register_buffer("calls", tn.zeros(1))
            counter.forward = lambda x: (counter.calls.data.__iadd__(1), x)[1]
            layers.append(counter)
        model = nn.Sequential(*layers, nn.ReLU(), nn.Linear(6, 4, rng=1))
        return model, optim.SGD(model.parameters(), lr=0.1)

    def make(model, opt):
        def step(x, y):
            def closure():
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                return loss

            if case == "closure":
                return opt.step(closure)
            loss = closure()
            opt.step()
            return loss.item() if case == "item" else loss

        return step

    data = batches(np.float32, count=5)  # the models are float32
    eager_model, eager_opt = build()
    eager = train(make(eager_model, eager_opt), data)
    model, opt = build()
    step = tn.compile(make(model, opt))
    with pytest.warns(RuntimeWarning, match=reason) as record:
        compiled = train(step, data)
    assert len(record) == 1
    for a, b in zip(eager, compiled):
        assert (
            np.asarray(getattr(a, "data", a)).tobytes()
            == np.asarray(getattr(b, "data", b)).tobytes()
        )
    for p, q in zip(eager_model.parameters(), model.parameters()):
        assert p.data.tobytes() == q.data.tobytes()


def test_decorator_forms_methods_and_inference_under_no_grad():
    model = nn.Linear(3, 2, dtype=np.float64, rng=0)

    @tn.compile()
    def predict(x):
        return F.softmax(model(x), 1)

    class Trainer:
        @tn.compile
        def forward(self, x):
            return model(x) * 2

    x = tn.Tensor(np.arange(6.0).reshape(2, 3))
    expected = F.softmax(model(x), 1).data
    with tn.no_grad():
        for _ in range(3):
            assert predict(x).data.tobytes() == expected.tobytes()
    trainer = Trainer()
    for _ in range(3):
        assert trainer.forward(x).data.tobytes() == (model(x) * 2).data.tobytes()
    with pytest.raises(TypeError, match="callable"):
        tn.compile(3)


@pytest.mark.parametrize("clear", ["inside", "outside", "never"])
def test_gradients_cleared_by_unrecorded_code_or_accumulated_match_eager(clear):
    def run(compiled):
        rng = np.random.default_rng(0)
        x = tn.Tensor(rng.normal(size=(8, 4)))
        w = tn.Tensor(rng.normal(size=(4,)), requires_grad=True)
        b = tn.Tensor(rng.normal(size=(4,)), requires_grad=True)

        def f():
            if clear == "inside":
                w.grad = b.grad = None
            tn.tanh(x * w + b).sum().backward()

        step = tn.compile(f) if compiled else f
        grads = []
        for _ in range(5):
            if clear == "outside":
                w.grad = b.grad = None
            step()
            grads.append((w.grad.data.copy(), b.grad.data.copy()))
        return grads, step

    eager, _ = run(False)
    replayed, step = run(True)
    for (a, b), (c, d) in zip(eager, replayed):
        assert a.tobytes() == c.tobytes() and b.tobytes() == d.tobytes()
    assert is_replaying(step)


def test_numpy_work_on_inputs_is_not_frozen_when_the_first_calls_repeat_a_batch():
    # ``x.data * 2`` is NumPy work the recorder cannot see. Two first calls with the same
    # batch cannot tell it from a constant: the program then replays only for that batch.
    model = nn.Linear(3, 2, dtype=np.float64, rng=0)

    def f(x):
        return model(tn.Tensor(x.data * 2)).sum()

    step = tn.compile(f)
    same = tn.Tensor(np.ones((4, 3)))
    other = tn.Tensor(np.arange(12.0).reshape(4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        results = [step(x).item() for x in (same, same, same, other, other)]
    assert results == [f(x).item() for x in (same, same, same, other, other)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_dropout_and_eval_batch_norm_replay_bit_identically(dtype):
    def build():
        model = nn.Sequential(
            nn.Embedding(10, 6, dtype=dtype, rng=0),
            nn.Flatten(),
            nn.Dropout(0.3, rng=5),
            nn.Linear(12, 8, dtype=dtype, rng=1),
            nn.BatchNorm1d(8, dtype=dtype),
            nn.Identity(),
            nn.Linear(8, 4, dtype=dtype, rng=2),
        )
        model[4].eval()  # running statistics are constants; in training they are edited
        return model, optim.AdamW(model.parameters(), lr=0.01)

    rng = np.random.default_rng(3)
    data = [(rng.integers(0, 10, (6, 2)), rng.integers(0, 4, 6)) for _ in range(6)]
    step = compare(build, F.cross_entropy, dtype, data=data)
    assert is_replaying(step)


def test_compiled_steps_in_two_threads_match_eager():
    import threading

    def run(compiled, results, seed):
        def build():
            model = classifier(np.float64, seed=seed)
            return model, optim.Adam(model.parameters(), lr=0.01)

        model, opt = build()
        step = make_step(model, opt, F.cross_entropy)
        step = tn.compile(step) if compiled else step
        results[seed] = [step(x, y).data.tobytes() for x, y in batches(np.float64, count=8)]

    eager: dict = {}
    for seed in (0, 10):
        run(False, eager, seed)
    replayed: dict = {}
    threads = [threading.Thread(target=run, args=(True, replayed, seed)) for seed in (0, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replayed == eager


def test_a_replayed_optimizer_step_still_bumps_versions_for_retained_graphs():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    opt = optim.Adam(model.parameters(), lr=0.01)  # several parameters: the flat path
    step = tn.compile(make_step(model, opt, F.cross_entropy))
    ((x, y),) = batches(np.float32, count=1)
    y = y % 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no eager fallback
        for calls in range(1, 4):  # traced, then replayed
            step(x, y)
            assert [p.version for p in model.parameters()] == [calls] * 4
    assert is_replaying(step)
    out = model(x)
    first, second = (out * out).sum(), (out * out * out).sum()
    first.backward(retain_graph=True)
    step(x, y)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*optimizer\.step"):
        second.backward()


def test_replayed_results_are_fresh_arrays_not_reused_buffers():
    # Replay kernels keep buffers between calls for values that never leave the step;
    # what the step returns must still be a new array each call, as in eager mode.
    model = nn.Sequential(nn.Linear(3, 5, rng=0), nn.ReLU(), nn.Linear(5, 4, rng=1))
    opt = optim.SGD(model.parameters(), lr=0.1)

    @tn.compile
    def step(x, y):
        opt.zero_grad()
        hidden = model[1](model[0](x))
        logits = model[2](hidden)
        loss = F.cross_entropy(logits, y, reduction="none")
        loss.sum().backward()
        opt.step()
        return hidden, logits, loss

    results = [step(x, y) for x, y in batches(np.float32)]
    assert is_replaying(step)
    snapshots = [[t.data.copy() for t in result] for result in results]
    for x, y in batches(np.float32, seed=2):
        step(x, y)
    for result, snapshot in zip(results, snapshots):
        for tensor, copy in zip(result, snapshot):
            assert tensor.data.tobytes() == copy.tobytes()


def test_relu_backward_of_a_non_finite_gradient_replays_as_eager():
    # An inf in ReLU's incoming gradient is dropped at inactive units (np.where, not a
    # multiply by the mask): the replay takes the same branch per call.
    def run(compiled):
        w = tn.tensor([-1.0, 0.0, 2.0, 3.0], requires_grad=True)

        def step(scale):
            w.grad = None
            (F.relu(w) * scale).sum().backward()

        step = tn.compile(step) if compiled else step
        finite = [tn.tensor([1.0, 2.0, 3.0, 4.0]) * k for k in (1.0, 2.0, 3.0)]
        infinite = tn.tensor([np.inf, np.inf, 1.0, -np.inf])
        grads = []
        with np.errstate(invalid="ignore"):
            for scale in [*finite, infinite, *finite]:
                step(scale)
                grads.append(w.grad.data.copy())
        return grads, step

    eager, _ = run(False)
    replayed, step = run(True)
    assert is_replaying(step)
    for a, b in zip(eager, replayed):
        assert a.tobytes() == b.tobytes()
    assert not np.isnan(replayed[3]).any()


# Expressions over leaves (a, b of shape (4, 3), c of shape (3,)) and an input x (4, 3):
# the ops with replay kernels, with broadcasting, aliasing gradients and 0-d values.
EXPRESSIONS = {
    "sum-tanh-affine": lambda a, b, c, x: F.tanh(x * a + c).sum(),
    "tanh-of-a-sum-of-leaves": lambda a, b, c, x: (F.tanh(a + b) * x).sum(),
    "tanh-of-a-reduction": lambda a, b, c, x: F.tanh((a * x).sum(0) + c).mean(),
    "mean-over-axes": lambda a, b, c, x: ((a * b).mean(axis=1, keepdims=True) * x).sum(),
    "a-leaf-used-twice": lambda a, b, c, x: (a * a + a * x).mean(),
    "scalars": lambda a, b, c, x: F.tanh((a * x).sum() * c.sum() + a.mean()),
    "a-non-finite-factor": lambda a, b, c, x: (a * F.relu(x) * b).sum(),
}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_replay_kernels_match_eager_bit_for_bit(name, dtype):
    expression = EXPRESSIONS[name]
    rng = np.random.default_rng(3)
    start = [rng.normal(size=shape).astype(dtype) for shape in [(4, 3), (4, 3), (3,)]]
    inputs = [rng.normal(size=(4, 3)).astype(dtype) for _ in range(6)]
    if name == "a-non-finite-factor":
        inputs[4][0, 0] = np.inf  # relu(inf) * b: 0 * inf cases in Mul's backward

    def run(compiled):
        leaves = [tn.Tensor(array.copy(), requires_grad=True) for array in start]

        def step(x):
            for leaf in leaves:
                leaf.grad = None
            loss = expression(*leaves, x)
            loss.backward()
            return loss

        step = tn.compile(step) if compiled else step
        seen = []
        with np.errstate(invalid="ignore", over="ignore"):
            for x in inputs:
                loss = step(tn.Tensor(x))
                seen.append((loss, [leaf.grad for leaf in leaves]))
        # Copies taken at the end: a result that a later call overwrote would differ.
        return [
            [loss.data.tobytes(), *(None if g is None else g.data.tobytes() for g in grads)]
            for loss, grads in seen
        ], step

    eager, _ = run(False)
    replayed, step = run(True)
    assert is_replaying(step)
    assert eager == replayed


def test_registered_hooks_see_every_op_of_a_compiled_step():
    # tn.detect_anomaly and the gradient doctor work through autograd hooks: while one is
    # registered, the compiled function runs eagerly so that it sees every op.
    w = tn.tensor([1.0, -2.0], requires_grad=True)

    @tn.compile
    def step(x):
        w.grad = None
        (F.relu(w * x)).sum().backward()

    for k in range(3):
        step(tn.tensor([1.0, 2.0]) * (k + 1))
    assert is_replaying(step)
    seen, backward_seen = [], []
    with tn.autograd.register_forward_hook(lambda ctx, out: seen.append(type(ctx).__name__)):
        with tn.autograd.register_backward_hook(lambda node, g, gs: backward_seen.append(1)):
            step(tn.tensor([3.0, 1.0]))
    assert {"Mul", "Relu", "Sum"} <= set(seen)
    assert backward_seen
    assert w.grad.tolist() == [3.0, 0.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_backwards_of_one_graph_in_a_step_replay_bit_identically(dtype):
    # The second backward of a retained graph runs the same replay kernels again, with
    # its own incoming gradient: gradients accumulate as in eager mode.
    def build():
        model = nn.Sequential(
            nn.Linear(3, 6, dtype=dtype, rng=0),
            nn.ReLU(),
            nn.Linear(6, 5, dtype=dtype, rng=1),
            nn.Tanh(),
            nn.Linear(5, 4, dtype=dtype, rng=2),
        )
        return model, optim.Adam(model.parameters(), lr=0.01)

    def twice(logits, y):
        loss = F.cross_entropy(logits, y)
        loss.backward(retain_graph=True)
        return (loss * 3.0).sum() + (logits * logits).mean()

    step = compare(build, twice, dtype)
    assert is_replaying(step)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("rows", [10, 2100], ids=["kept-buffers", "fresh-arrays"])
@pytest.mark.parametrize("leading", [(), (2,)], ids=["2d", "3d"])
def test_generated_replay_matches_eager_for_every_kernel_branch(reduction, bias, rows, leading):
    # From the second replay on, the kernels run as generated source specialised on what
    # the first replay left (buffers kept below 64 KiB or not, bias or not, input rank).
    def build():
        model = nn.Sequential(
            nn.Linear(3, 8, bias=bias, dtype=np.float32, rng=0),
            nn.ReLU(),
            nn.Linear(8, 4, bias=bias, dtype=np.float32, rng=1),
        )
        return model, optim.Adam(model.parameters(), lr=0.01)

    def loss_fn(logits, y):
        loss = F.cross_entropy(logits.reshape(-1, 4), y.reshape(-1), reduction=reduction)
        return loss.sum() if reduction == "none" else loss

    rng = np.random.default_rng(5)
    data = [
        (
            tn.Tensor(rng.normal(size=(*leading, rows, 3)).astype(np.float32)),
            rng.integers(0, 4, (*leading, rows)),
        )
        for _ in range(5)
    ]
    step = compare(build, loss_fn, np.float32, data=data)
    assert is_replaying(step)


def test_two_models_of_one_architecture_replay_independently():
    # Their replays are the same generated source (shared compiled code) over different
    # buffers and parameters: interleaved calls must each match their own eager run.
    def build(seed):
        model = nn.Sequential(
            nn.Linear(3, 6, dtype=np.float32, rng=seed),
            nn.ReLU(),
            nn.Linear(6, 4, dtype=np.float32, rng=seed + 1),
        )
        return model, optim.Adam(model.parameters(), lr=0.01)

    data = batches(np.float32, count=6)
    eager = []
    for seed in (0, 10):
        model, opt = build(seed)
        step = make_step(model, opt, F.cross_entropy)
        eager.append(([step(x, y).data.tobytes() for x, y in data], model))
    pairs = [build(seed) for seed in (0, 10)]
    steps = [tn.compile(make_step(model, opt, F.cross_entropy)) for model, opt in pairs]
    losses: list[list[bytes]] = [[], []]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for x, y in data:
            for index, step in enumerate(steps):
                losses[index].append(step(x, y).data.tobytes())
    for (expected, eager_model), got, (model, _) in zip(eager, losses, pairs):
        assert got == expected
        for p, q in zip(eager_model.parameters(), model.parameters()):
            assert p.data.tobytes() == q.data.tobytes()
    assert all(is_replaying(step) for step in steps)


@pytest.mark.parametrize("clear", ["first", "last"])
def test_an_optimizer_clearing_gradients_first_makes_their_start_state_irrelevant(clear):
    # zero_grad() before the backward: whether the gradients were None when the call began
    # changes nothing, so the first call (no gradients yet) and the second one make a
    # program. Cleared after the backward, the gradients accumulate across calls as eagerly.
    def run(compiled):
        model = nn.Sequential(nn.Linear(3, 5, rng=0), nn.ReLU(), nn.Linear(5, 4, rng=1))
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            if clear == "first":
                opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            if clear == "last":
                opt.zero_grad(set_to_none=False)
            return loss

        step = tn.compile(step) if compiled else step
        seen = []
        for call, (x, y) in enumerate(batches(np.float32)):
            seen.append(step(x, y).data.tobytes())
            seen.extend(p.data.tobytes() for p in model.parameters())
            if compiled and call == 1:
                assert is_replaying(step) == (clear == "first")
        return seen, step

    eager, _ = run(False)
    replayed, step = run(True)
    assert replayed == eager
    assert is_replaying(step)


def test_a_replay_that_cannot_be_written_out_runs_its_steps_one_by_one(monkeypatch):
    from tinynet.compiler import codegen

    def broken(steps, emitters, release=True):
        raise RuntimeError("no source for this program")

    monkeypatch.setattr(codegen, "straight_line", broken)

    def build():
        model = nn.Sequential(nn.Linear(3, 5, rng=0), nn.ReLU(), nn.Linear(5, 4, rng=1))
        return model, optim.Adam(model.parameters(), lr=0.01)

    step = compare(build, F.cross_entropy, np.float32)
    assert is_replaying(step)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [10, 2100], ids=["kept-buffers", "fresh-arrays"])
@pytest.mark.parametrize("zeros", ["kept", "scalar"])
def test_a_one_output_network_replays_bit_identically(dtype, rows, zeros, monkeypatch):
    # Linear(8, 1)'s input gradient is replayed as a product plus zero (linear_grad_input),
    # ReLU's maximum against zeros the kernel keeps (or, above _ZEROS_BYTES, a scalar 0).
    from tinynet.compiler import codegen, kernels

    monkeypatch.setattr(codegen, "_replay_code", {})  # to read this test's sources
    if zeros == "scalar":
        monkeypatch.setattr(kernels, "_ZEROS_BYTES", 0)

    def build():
        model = nn.Sequential(
            nn.Linear(3, 8, dtype=dtype, rng=0),
            nn.ReLU(),
            nn.Linear(8, 1, dtype=dtype, rng=1),
        )
        return model, optim.Adam(model.parameters(), lr=0.01)

    def loss_fn(logits, y):
        return F.binary_cross_entropy_with_logits(logits.reshape(-1), y)

    rng = np.random.default_rng(6)
    data = [
        (
            tn.Tensor(rng.normal(size=(rows, 3)).astype(dtype)),
            tn.Tensor(rng.integers(0, 2, rows).astype(dtype)),
        )
        for _ in range(5)
    ]
    step = compare(build, loss_fn, dtype, data=data)
    assert is_replaying(step)
    # the generated replay took the product's branch (grad_x = g * weight; grad_x += 0)
    assert any("grad_x += " in source for source in codegen._replay_code)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_one_output_linears_input_gradient_keeps_matmuls_signed_zeros(dtype):
    # Zero incoming gradients times negative weights: g * weight is -0.0 there, g @ weight
    # (and so eager execution, and the replay) +0.0.
    rng = np.random.default_rng(8)
    start = [rng.normal(size=(5, 3)).astype(dtype), np.array([[-1.5, 2.0, -0.25]], dtype)]
    inputs = [rng.normal(size=(5, 1)).astype(dtype) for _ in range(5)]
    for y in inputs:
        y[::2] = 0.0

    def run(compiled):
        x, w = (tn.Tensor(array.copy(), requires_grad=True) for array in start)

        def step(y):
            x.grad = w.grad = None
            loss = (F.linear(x, w) * y).sum()
            loss.backward()
            return loss

        step = tn.compile(step) if compiled else step
        grads = []
        for y in inputs:
            step(tn.Tensor(y))
            grads.append(x.grad.data.copy())
        return grads, step

    (eager, _), (replayed, step) = run(False), run(True)
    assert is_replaying(step)
    for y, a, b in zip(inputs, eager, replayed):
        assert a.tobytes() == b.tobytes() == (y @ start[1]).tobytes()
        assert not np.signbit(a[::2]).any()


class _Cube(tn.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x * x

    @staticmethod
    def backward(ctx, grad_output):
        x = ctx.inputs[0]
        return grad_output * (x * x * 3.0)


def test_a_registered_replay_kernel_replays_its_function_as_eager(monkeypatch):
    from tinynet.compiler import ReplayKernel, register_replay_kernel

    ran = []

    class CubeKernel(ReplayKernel):
        def fits(self, env):
            return env[self.indices[0]].dtype == np.float64  # float32: the Function's own

        def run(self, env):
            ran.append("run")
            x = env[self.indices[0]]
            env[self.out_index] = x * x * x

        def backward(self, env):
            ran.append("backward")
            x, g = env[self.indices[0]], env[self.grad_index]
            if self.needs[0] and self.outs[0] is not None:
                env[self.outs[0]] = g * (x * x * np.float64(3.0))

    monkeypatch.setattr(tn.compiler.kernel, "_registered_kernels", {})
    register_replay_kernel(_Cube, CubeKernel)
    for dtype in (np.float64, np.float32):
        ran.clear()
        start = np.linspace(-1, 1, 6).astype(dtype)
        inputs = [np.random.default_rng(i).normal(size=6).astype(dtype) for i in range(5)]

        def run(compiled, start=start, inputs=inputs):
            w = tn.Tensor(start.copy(), requires_grad=True)

            def step(x):
                w.grad = None
                loss = (_Cube.apply(w) * x).sum()
                loss.backward()
                return loss

            step = tn.compile(step) if compiled else step
            results = [(step(tn.Tensor(x)).data.tobytes(), w.grad.data.tobytes()) for x in inputs]
            return results, step

        (eager, _), (replayed, step) = run(False), run(True)
        assert eager == replayed
        assert is_replaying(step)
        # each replay runs the kernel, unless its fits() said no (float32 here)
        replays = len(inputs) - step._traces
        assert replays >= 2
        assert ran == (["run", "backward"] * replays if dtype == np.float64 else [])


def test_register_replay_kernel_rejects_what_is_not_a_function_and_a_kernel():
    from tinynet.compiler import ReplayKernel, register_replay_kernel

    with pytest.raises(TypeError, match="expected a Function class"):
        register_replay_kernel(np.add, ReplayKernel)
    with pytest.raises(TypeError, match="expected a ReplayKernel subclass"):
        register_replay_kernel(_Cube, object)


# -- in-place writes: functionalized when the step alone sees them, else eager -------------------
def _inplace_step(write, where="hidden"):
    """A Linear-Linear step that writes ``hidden`` (or its input, its first weight) in place."""
    tn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2))
    optimizer = optim.Adam(model.parameters(), lr=0.1)

    def step(inputs):
        if where == "input":
            write(inputs)
        if where == "weight":
            with tn.no_grad():
                write(model[0].weight)
        hidden = model[0](inputs)
        if where == "hidden":
            write(hidden)
        loss = (model[1](hidden) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        if where == "grad":  # what the optimizer reads: the replay must not skip it
            with tn.no_grad():
                write(model[0].weight.grad)
        optimizer.step()
        return loss

    return model, step


_WRITES = {
    "relu_": lambda h: h.relu_(),
    "mul_": lambda h: h.mul_(2.0),
    "iadd": lambda h: h.__iadd__(1.0),
    "setitem": lambda h: h.__setitem__(0, 0.0),
    "clamp_": lambda h: h.clamp_(min=0.0),
}


def _run_inplace(write, where):
    """Eager and compiled losses and models over five batches; the RuntimeWarnings seen."""
    data = [np.random.default_rng(i).standard_normal((4, 3)).astype(np.float32) for i in range(5)]
    eager_model, eager_step = _inplace_step(write, where)
    compiled_model, step = _inplace_step(write, where)
    compiled_step = tn.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for batch in data:
            eager_input, compiled_input = tn.tensor(batch), tn.tensor(batch)
            assert eager_step(eager_input).item() == compiled_step(compiled_input).item()
            np.testing.assert_array_equal(eager_input.data, compiled_input.data)
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return compiled_step, messages


@pytest.mark.parametrize("write", _WRITES.values(), ids=list(_WRITES))
def test_an_in_place_write_the_step_alone_sees_is_replayed_with_eagers_bits(write):
    # PyTorch's functionalization: the replay computes the written value out of place.
    step, messages = _run_inplace(write, "hidden")
    assert messages == [] and is_replaying(step)


@pytest.mark.parametrize("write", _WRITES.values(), ids=list(_WRITES))
def test_views_taken_before_an_in_place_write_read_the_new_values_in_the_replay(write):
    tn.manual_seed(0)
    layer = nn.Linear(3, 5)

    def forward(inputs):
        with tn.no_grad():
            hidden = layer(inputs)
            flat, column = hidden.reshape(-1), hidden[:, 1]  # views numbered before the write
            write(hidden)
            return flat * 2.0, column + 1.0, hidden  # read after it: the new values

    compiled = tn.compile(forward)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(5):
            batch = np.random.default_rng(i).standard_normal((4, 3)).astype(np.float32)
            for ours, theirs in zip(compiled(tn.tensor(batch)), forward(tn.tensor(batch))):
                np.testing.assert_array_equal(ours.data, theirs.data)
    assert is_replaying(compiled)


@pytest.mark.parametrize("where", ["input", "weight", "grad"])
@pytest.mark.parametrize("write", _WRITES.values(), ids=list(_WRITES))
def test_an_in_place_write_seen_outside_the_step_is_replayed_as_the_same_write(write, where):
    # The caller's input, a parameter or a gradient must really change, as PyTorch's compile
    # mutates them: the replay makes the eager write on the same array (_run_inplace compares
    # the inputs, losses and parameters with eager's, bit for bit).
    step, messages = _run_inplace(write, where)
    assert messages == [] and is_replaying(step)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_hand_written_sgd_update_and_zero_of_the_gradient_replay_eagers_bits(dtype):
    # PyTorch's manual loop: w.sub_(lr * w.grad); w.grad.zero_() under no_grad, written into
    # the caller's tensor and gradient by every replay, in order.
    def make():
        weight = tn.tensor(np.array([0.5, -1.0, 2.0], dtype), requires_grad=True)

        def step(x, y):
            loss = ((x @ weight - y) ** 2).mean()
            loss.backward()
            with tn.no_grad():
                weight.sub_(0.1 * weight.grad)
                weight.grad.zero_()
            return loss

        return weight, step

    eager_weight, eager_step = make()
    weight, step = make()
    compiled = tn.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(6):
            rng = np.random.default_rng(i)
            x, y = (
                tn.tensor(rng.standard_normal((4, 3)).astype(dtype)),
                tn.tensor(rng.standard_normal(4).astype(dtype)),
            )
            assert compiled(x, y).data.tobytes() == eager_step(x, y).data.tobytes()
            assert weight.data.tobytes() == eager_weight.data.tobytes()
            assert weight.grad.data.tobytes() == eager_weight.grad.data.tobytes()
    assert is_replaying(compiled)


def _alternating_run(loss_fn, compiled, sizes):
    """Adam on a small MLP over batches of ``sizes`` rows; (losses, model, eager calls)."""
    model = nn.Sequential(
        nn.Linear(2, 16, dtype=np.float32, rng=0),
        nn.ReLU(),
        nn.Linear(16, 16, dtype=np.float32, rng=1),
        nn.ReLU(),
        nn.Linear(16, 2, dtype=np.float32, rng=2),
    )
    opt = optim.Adam(model.parameters(), lr=0.01)
    eager_calls = []

    def step(x, y):
        eager_calls.append(len(x))  # a Python side effect: only the calls that run eagerly
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step = tn.compile(step) if compiled else step
    rng = np.random.default_rng(3)
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for n in sizes:
            x = rng.normal(size=(n, 2)).astype(np.float32)
            losses.append(step(x, rng.integers(0, 2, n)))
    return losses, model, eager_calls


SIZES = [32, 32, 32, 8, 32, 8, 8, 32, 8]


def test_a_new_batch_size_doing_the_same_work_is_recorded_once_and_matches_eager():
    # The fused cross-entropy takes its row indices and 1 / n from the batch at each call:
    # the batches of 8 record one call, whose program replays them with their own
    # constants, interleaved with the batches of 32 (a wrong 1 / n would change the bits).
    eager, eager_model, _ = _alternating_run(F.cross_entropy, False, SIZES)
    replayed, model, eager_calls = _alternating_run(F.cross_entropy, True, SIZES)
    assert [loss.shape for loss in replayed] == [() for _ in SIZES]
    assert_same_bits(eager, replayed, eager_model, model)
    assert eager_calls == [32, 32, 8]  # two calls compared for 32; 8 derived from them


def test_constants_that_depend_on_the_batch_size_make_a_new_size_record_twice():
    # log_softmax then nll_loss: the row indices (an arange) and -1 / n are constants of
    # the recording. A new batch size changes them, so its first call does not match the
    # existing program: it is recorded twice as any new guard key, and replays its own.
    def loss_fn(logits, y):
        return F.nll_loss(F.log_softmax(logits, 1), y)

    eager, eager_model, _ = _alternating_run(loss_fn, False, SIZES)
    replayed, model, eager_calls = _alternating_run(loss_fn, True, SIZES)
    assert_same_bits(eager, replayed, eager_model, model)
    assert eager_calls == [32, 32, 8, 8]


@pytest.mark.parametrize("change", ["eval", "new-weight-array", "frozen-layer", "cleared-gradient"])
def test_guards_are_checked_by_the_generated_replay(change):
    # After four calls the program replays through its generated function, whose first
    # lines check the guards: a change must make the call record again, as eagerly. The
    # model and optimizer reach the step as defaults of its parameters: guarded too.
    def build():
        model = nn.Sequential(
            nn.Linear(3, 6, rng=0), nn.Dropout(0.5, rng=3), nn.ReLU(), nn.Linear(6, 4, rng=1)
        )
        return model, optim.SGD(model.parameters(), lr=0.1)

    def edit(model):
        if change == "eval":
            model.eval()
        elif change == "new-weight-array":
            model[3].weight.data = model[3].weight.data * 0.5
        elif change == "frozen-layer":
            model[0].weight.requires_grad = False
        else:  # the step accumulates gradients: their state at the start is a guard
            model[3].bias.grad = None

    data = batches(np.float32, count=8)
    runs = []
    for compiled in (False, True):
        model, opt = build()

        def step(x, y, model=model, opt=opt):
            if change != "cleared-gradient":
                opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        step = tn.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            losses = [step(x, y) for x, y in data[:5]]
            edit(model)
            losses += [step(x, y) for x, y in data[5:]]
        runs.append((losses, model, step))
    (eager, eager_model, _), (replayed, model, step) = runs
    for a, b in zip(eager, replayed):
        assert a.data.tobytes() == b.data.tobytes()
    for p, q in zip(eager_model.parameters(), model.parameters()):
        assert p.data.tobytes() == q.data.tobytes()
    assert step._eager_reason is None and is_replaying(step)
    assert step._traces > 2  # recorded again after the change


def test_a_compiled_functions_programs_are_freed_with_it_without_the_garbage_collector():
    # Programs keep buffers: a reference cycle would keep them until a collection runs.
    import gc
    import weakref

    def build():
        model = nn.Sequential(nn.Linear(3, 5, rng=0), nn.ReLU(), nn.Linear(5, 4, rng=1))
        return model, optim.Adam(model.parameters(), lr=0.01)

    model, opt = build()
    step = tn.compile(make_step(model, opt, F.cross_entropy))
    enabled = gc.isenabled()
    gc.disable()
    try:
        train(step, batches(np.float32, count=5) + batches(np.float32, count=4, n=3, seed=2))
        programs = [weakref.ref(entry) for entry in step._entries.values()]
        assert len(programs) == 2 and is_replaying(step)
        del step
        assert [ref() for ref in programs] == [None, None]
    finally:
        if enabled:
            gc.enable()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("clip", ["norm", "norm_inf", "value"])
def test_a_step_that_clips_its_gradients_replays_eagers_bits(clip, dtype):
    # PyTorch's usual loop: backward, clip_grad_norm_ (or clip_grad_value_), step. The
    # clipping reads no value into Python, so the step replays; max_norm is small enough
    # that every step clips.
    from tinynet.nn.utils import clip_grad_norm_, clip_grad_value_

    def build():
        model = classifier(dtype)
        return model, optim.Adam(model.parameters(), lr=0.01)

    def make(model, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            if clip == "norm":
                total = clip_grad_norm_(model.parameters(), 0.05)
            elif clip == "norm_inf":
                total = clip_grad_norm_(model.parameters(), 0.01, norm_type="inf")
            else:
                clip_grad_value_(model.parameters(), 0.001)
                total = loss
            opt.step()
            return loss, total

        return step

    data = batches(dtype, count=6)
    eager_model, eager_opt = build()
    eager = [tuple(t.data.tobytes() for t in make(eager_model, eager_opt)(x, y)) for x, y in data]
    model, opt = build()
    step = tn.compile(make(model, opt))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no eager fallback
        replayed = [tuple(t.data.tobytes() for t in step(x, y)) for x, y in data]
    assert is_replaying(step)
    assert replayed == eager
    for a, b in zip(eager_model.parameters(), model.parameters()):
        assert a.data.tobytes() == b.data.tobytes()


def _relu_kernels(step):
    (program,) = [entry for entry in step._entries.values() if type(entry).__name__ == "Program"]
    kernels = {getattr(s, "__self__", None) for s in program.steps}
    return [k for k in kernels if type(k).__name__ == "_ReluKernel"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", ["mlp", "skip", "returned"])
def test_a_relu_writes_over_its_input_and_gradient_only_when_nothing_else_reads_them(shape, dtype):
    # mlp: Linear -> ReLU reads the Linear's output once, and the ReLU's incoming gradient
    # is made by the next Linear's backward: both are overwritten in place. skip: the
    # Linear's output is read again (relu(h) + h) and the gradient comes through the sum,
    # so neither is. returned: the ReLU's result leaves the step, so it gets its own array;
    # its incoming gradient is still the next Linear's. Every replay keeps eager's bits.
    def build():
        tn.manual_seed(0)
        first, second = nn.Linear(3, 16, dtype=dtype, rng=0), nn.Linear(16, 4, dtype=dtype, rng=1)
        return first, second, optim.Adam([*first.parameters(), *second.parameters()], lr=0.01)

    def make(first, second, opt):
        def step(x, y):
            opt.zero_grad()
            h = first(x)
            hidden = F.relu(h) + h if shape == "skip" else F.relu(h)
            loss = F.cross_entropy(second(hidden), y)
            loss.backward()
            opt.step()
            return (loss, hidden) if shape == "returned" else loss

        return step

    def bits(result):
        return [t.data.tobytes() for t in (result if shape == "returned" else (result,))]

    data = batches(dtype, count=6)
    eager_step = make(*build())
    eager = [bits(eager_step(x, y)) for x, y in data]
    step = tn.compile(make(*build()))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no eager fallback
        replayed = [bits(step(x, y)) for x, y in data]
    assert replayed == eager
    (relu,) = _relu_kernels(step)
    assert relu.overwrites_input is (shape == "mlp")
    assert relu.overwrites_grad is (shape != "skip")
