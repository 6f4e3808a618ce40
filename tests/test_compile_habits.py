"""tn.compile against PyTorch training-loop habits: each habit's loop run eagerly and
compiled, with the habit's change in the middle, compared bit for bit (weights, gradients,
losses, optimizer state), or falling back to eager with one clear RuntimeWarning."""

import types
import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import optim

RNG = np.random.default_rng(0)
BATCHES = [
    (RNG.normal(size=(8, 3)).astype(np.float32), RNG.integers(0, 2, 8).astype(np.int64))
    for _ in range(10)
]


def _mlp(dropout=False, batchnorm=False):
    layers = [nn.Linear(3, 6, rng=0)]
    if batchnorm:
        layers.append(nn.BatchNorm1d(6))
    layers.append(nn.ReLU())
    if dropout:
        layers.append(nn.Dropout(0.3, rng=1))
    layers.append(nn.Linear(6, 2, rng=2))
    return nn.Sequential(*layers)


def _plain(value):
    if isinstance(value, tn.Tensor):
        return value.data
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _assert_same(a, b, where=""):
    a, b = _plain(a), _plain(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert np.asarray(a).dtype == np.asarray(b).dtype, where
        assert np.array_equal(a, b, equal_nan=True), where
    else:
        assert a == b or (a != a and b != b), where


def _snapshot(state):
    """Everything that must agree: parameters, gradients, buffers, optimizers' states."""
    out = {}
    for name in sorted(vars(state)):
        value = getattr(state, name)
        if isinstance(value, nn.Module):
            out[name] = {
                "params": [(n, p.data.copy()) for n, p in value.named_parameters()],
                "grads": [
                    (n, None if p.grad is None else p.grad.data.copy())
                    for n, p in value.named_parameters()
                ],
                "buffers": [(n, b.data.copy()) for n, b in value.named_buffers()],
                "training": [m.training for m in value.modules()],
                "requires_grad": [p.requires_grad for p in value.parameters()],
            }
        elif isinstance(value, optim.Optimizer):
            out[name] = value.state_dict()
    return out


def _compare(make_state, make_step, events=None, calls=8, expect_eager=False, extra=lambda i: ()):
    """Run ``make_step(state)`` on ``calls`` batches eagerly and compiled, ``events[i]``
    (a function of the state) applied to both before call ``i``; compare after each call."""
    events = events or {}
    eager, compiled = make_state(), make_state()
    eager_step = make_step(eager)
    compiled_step = tn.compile(make_step(compiled))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            x, y = BATCHES[i % len(BATCHES)]
            if i in events:
                events[i](eager)
                events[i](compiled)
            expected = eager_step(x, y, *extra(i))
            got = compiled_step(x, y, *extra(i))
            _assert_same(got, expected, f"call {i} result")
            _assert_same(_snapshot(compiled), _snapshot(eager), f"call {i}")
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    if expect_eager:
        assert len(messages) == 1 and "runs eagerly" in messages[0], messages
    else:
        assert messages == [], messages
    assert compiled_step._eager_reason is None or expect_eager
    if not expect_eager:  # and the calls after the change replay again
        assert any(type(e).__name__ == "Program" for e in compiled_step._entries.values())
    return compiled_step


def _state(optimizer=optim.Adam, dropout=False, batchnorm=False, **hyper):
    def make():
        model = _mlp(dropout, batchnorm)
        return types.SimpleNamespace(model=model, opt=optimizer(model.parameters(), **hyper))

    return make


def _standard_step(s):
    def step(x, y):
        s.opt.zero_grad()
        loss = F.cross_entropy(s.model(x), y)
        loss.backward()
        s.opt.step()
        return loss

    return step


# 1. gradient accumulation ---------------------------------------------------------------


def test_gradient_accumulation_with_a_flag():
    k = 3

    def make_step(s):
        def step(x, y, update):
            loss = F.cross_entropy(s.model(x), y) / k
            loss.backward()
            if update:
                s.opt.step()
                s.opt.zero_grad()
            return loss

        return step

    _compare(_state(lr=0.05), make_step, calls=10, extra=lambda i: ((i + 1) % k == 0,))


@pytest.mark.parametrize("set_to_none", [True, False])
def test_gradient_accumulation_with_two_compiled_functions(set_to_none):
    k = 3
    eager, compiled = (
        _state(optim.SGD, lr=0.1, momentum=0.9)(),
        _state(optim.SGD, lr=0.1, momentum=0.9)(),
    )

    def make(s):
        def accumulate(x, y):
            loss = F.cross_entropy(s.model(x), y) / k
            loss.backward()
            return loss

        def update():
            s.opt.step()
            s.opt.zero_grad(set_to_none=set_to_none)

        return accumulate, update

    ea, eu = make(eager)
    ca, cu = make(compiled)
    ca, cu = tn.compile(ca), tn.compile(cu)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(10):
            xb, yb = BATCHES[i]
            _assert_same(ca(xb, yb), ea(xb, yb), f"call {i}")
            if (i + 1) % k == 0:
                eu()
                cu()
            _assert_same(_snapshot(compiled), _snapshot(eager), f"call {i}")
    # The update reads the gradients the caller holds, untouched since it began: replayed
    # as a live call, it reads them as eagerly
    assert [str(w.message) for w in caught] == []
    assert cu._eager_reason is None and any(
        type(e).__name__ == "Program" for e in cu._entries.values()
    )
    assert ca._eager_reason is None


# 2. freezing and unfreezing -------------------------------------------------------------


def _freeze_first(flag):
    def event(s):
        for p in s.model[0].parameters():
            p.requires_grad = flag

    return event


def test_freezing_and_unfreezing_with_requires_grad():
    events = {3: _freeze_first(False), 6: _freeze_first(True)}
    _compare(_state(optim.SGD, lr=0.1, momentum=0.9), _standard_step, events, calls=9)


def test_freezing_the_last_layer_with_requires_grad_():
    def freeze(flag):
        def event(s):
            s.model[2].weight.requires_grad_(flag)

        return event

    _compare(_state(lr=0.05), _standard_step, {2: freeze(False), 5: freeze(True)}, calls=8)


# 3. optimizer hyper-parameters and groups -------------------------------------------------


def _set(key, value):
    def event(s):
        for group in s.opt.param_groups:
            group[key] = value

    return event


def test_changing_adam_weight_decay_and_betas():
    events = {3: _set("weight_decay", 0.1), 5: _set("betas", (0.5, 0.9)), 6: _set("eps", 1e-3)}
    _compare(_state(optim.AdamW, lr=0.05), _standard_step, events, calls=8)


def test_changing_sgd_momentum_and_nesterov():
    events = {3: _set("momentum", 0.5), 5: _set("nesterov", True), 6: _set("dampening", 0.0)}
    _compare(_state(optim.SGD, lr=0.1, momentum=0.9), _standard_step, events, calls=8)


def test_add_param_group_mid_training():
    def make():
        model = _mlp()
        return types.SimpleNamespace(model=model, opt=optim.Adam(model[0].parameters(), lr=0.05))

    def add(s):
        s.opt.add_param_group({"params": list(s.model[2].parameters()), "lr": 0.01})

    _compare(make, _standard_step, {4: add}, calls=8)


# 4. checkpoint restore ----------------------------------------------------------------------


def test_restoring_a_checkpoint_between_calls(tmp_path):
    saved = {}

    def save(s):
        saved[id(s)] = (s.model.state_dict(), s.opt.state_dict())
        path = tmp_path / f"{id(s)}.tn"
        tn.save({"model": s.model.state_dict(), "opt": s.opt.state_dict()}, path)
        saved[id(s), "path"] = path

    def restore_in_memory(s):
        model_state, opt_state = saved[id(s)]
        s.model.load_state_dict(model_state)
        s.opt.load_state_dict(opt_state)

    def restore_from_file(s):
        checkpoint = tn.load(saved[id(s), "path"])
        s.model.load_state_dict(checkpoint["model"])
        s.opt.load_state_dict(checkpoint["opt"])

    events = {3: save, 5: restore_in_memory, 7: restore_from_file}
    for make in (
        _state(optim.Adam, lr=0.05),
        _state(optim.SGD, lr=0.1, momentum=0.9, batchnorm=True),
    ):
        _compare(make, _standard_step, events, calls=10)


# 5. EMA and weight clipping ---------------------------------------------------------------


def test_ema_model_updated_under_no_grad():
    def make():
        s = _state(optim.SGD, lr=0.1, momentum=0.9)()
        s.ema = _mlp()
        for p in s.ema.parameters():
            p.requires_grad_(False)
        return s

    def make_step(s):
        def step(x, y):
            s.opt.zero_grad()
            loss = F.cross_entropy(s.model(x), y)
            loss.backward()
            s.opt.step()
            with tn.no_grad():
                for ema_p, p in zip(s.ema.parameters(), s.model.parameters()):
                    ema_p.mul_(0.99).add_(p.detach(), alpha=0.01)
            return loss

        return step

    _compare(make, make_step, calls=8)


@pytest.mark.parametrize("through_data", [False, True])
def test_weight_clipping_after_the_step(through_data):
    c = 0.05

    def make_step(s, through_data):
        def step(x, y):
            s.opt.zero_grad()
            loss = F.cross_entropy(s.model(x), y)
            loss.backward()
            s.opt.step()
            for p in s.model.parameters():
                if through_data:  # p.data is the NumPy array: an edit no recorded call made
                    np.clip(p.data, -c, c, out=p.data)
                else:
                    with tn.no_grad():
                        p.clamp_(-c, c)
            return loss

        return step

    _compare(
        _state(optim.RMSprop, lr=0.05),
        lambda s: make_step(s, through_data),
        calls=8,
        expect_eager=through_data,
    )


# 10. tensors in containers the step reads ---------------------------------------------------


def test_class_weights_in_a_closure_dict_replaced_between_calls():
    def make():
        s = _state(optim.SGD, lr=0.1)()
        s.weights = {"pos": tn.tensor(1.0), "neg": tn.tensor(1.0)}
        return s

    def make_step(s):
        weights = s.weights

        def step(x, y):
            s.opt.zero_grad()
            out = s.model(x)
            loss = F.cross_entropy(out, y, weight=tn.stack([weights["neg"], weights["pos"]]))
            loss.backward()
            s.opt.step()
            return loss

        return step

    def replace(value):
        def event(s):
            s.weights["pos"] = tn.tensor(value)

        return event

    _compare(make, make_step, {3: replace(3.0), 6: replace(0.5)}, calls=9)


def test_a_global_tensor_and_a_list_of_masks_replaced_between_calls():
    def make():
        s = _state(optim.Adam, lr=0.05)()
        s.masks = [tn.ones(6), tn.ones(2)]
        s.scale = tn.tensor(1.0)
        return s

    def make_step(s):
        masks = s.masks

        def step(x, y):
            s.opt.zero_grad()
            h = F.relu(s.model[0](x)) * masks[0]
            loss = F.cross_entropy(s.model[2](h) * masks[1] * s.scale, y)
            loss.backward()
            s.opt.step()
            return loss

        return step

    def drop(s):
        s.masks[0] = tn.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 1.0])

    def rescale(s):
        s.scale = tn.tensor(2.0)

    _compare(make, make_step, {3: drop, 6: rescale}, calls=9)


# 6. two models, two optimizers ----------------------------------------------------------


def _gan():
    g, d = nn.Sequential(nn.Linear(3, 3, rng=3), nn.Tanh()), nn.Linear(3, 1, rng=4)
    return types.SimpleNamespace(
        g=g,
        d=d,
        g_opt=optim.Adam(g.parameters(), lr=0.01, betas=(0.5, 0.999)),
        d_opt=optim.SGD(d.parameters(), lr=0.05, momentum=0.5),
    )


def test_gan_alternation_in_one_step():
    def make_step(s):
        def step(x, y):
            real = tn.Tensor(x)
            noise = real.flip(1) * 0.5
            ones, zeros = tn.ones(x.shape[0], 1), tn.zeros(x.shape[0], 1)
            s.d_opt.zero_grad()
            fake = s.g(noise)
            d_loss = F.binary_cross_entropy_with_logits(
                s.d(real), ones
            ) + F.binary_cross_entropy_with_logits(s.d(fake.detach()), zeros)
            d_loss.backward()
            s.d_opt.step()
            s.g_opt.zero_grad()
            g_loss = F.binary_cross_entropy_with_logits(s.d(fake), ones)
            g_loss.backward()
            s.g_opt.step()
            return d_loss, g_loss

        return step

    _compare(_gan, make_step, calls=8)


def test_gan_with_retain_graph_and_zero_grad_set_to_none_false():
    def make_step(s):
        def step(x, y):
            noise = tn.Tensor(x).flip(1) * 0.5
            s.d_opt.zero_grad(set_to_none=False)
            s.g_opt.zero_grad(set_to_none=False)
            fake = s.g(noise)
            d_fake = s.d(fake)
            d_loss = F.softplus(-s.d(x)).mean() + F.softplus(d_fake).mean()
            d_loss.backward(retain_graph=True)  # both gradients before either step
            g_loss = F.softplus(-d_fake).mean()
            s.g_opt.zero_grad(set_to_none=False)
            g_loss.backward()  # through the retained graph (also into d's gradients)
            s.d_opt.step()
            s.g_opt.step()
            return d_loss, g_loss

        return step

    _compare(_gan, make_step, calls=8)


def test_zero_grad_set_to_none_false():
    def make_step(s):
        def step(x, y):
            s.opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(s.model(x), y)
            loss.backward()
            s.opt.step()
            return loss

        return step

    _compare(_state(optim.SGD, lr=0.1, momentum=0.9, weight_decay=0.01), make_step, calls=8)


# 7. schedulers -----------------------------------------------------------------------------


def test_scheduler_stepped_inside_the_step():
    def make():
        s = _state(optim.SGD, lr=0.1, momentum=0.9)()
        s.sched = optim.lr_scheduler.StepLR(s.opt, step_size=2, gamma=0.5)
        return s

    def make_step(s):
        def step(x, y):
            loss = _standard_step(s)(x, y)
            s.sched.step()
            return loss

        return step

    _compare(make, make_step, calls=9)


def test_plateau_and_warmup_schedulers_stepped_outside():
    def make():
        s = _state(optim.Adam, lr=0.05)()
        s.warmup = optim.lr_scheduler.LambdaLR(s.opt, lambda epoch: min(1.0, (epoch + 1) / 4))
        s.plateau = optim.lr_scheduler.ReduceLROnPlateau(s.opt, factor=0.5, patience=0)
        return s

    eager, compiled = make(), make()
    eager_step, compiled_step = _standard_step(eager), tn.compile(_standard_step(compiled))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(10):
            x, y = BATCHES[i % 3]  # repeated batches: the loss plateaus
            for s, step in ((eager, eager_step), (compiled, compiled_step)):
                loss = step(x, y)
                if i < 4:
                    s.warmup.step()
                else:
                    s.plateau.step(loss.item())
            _assert_same(_snapshot(compiled), _snapshot(eager), f"call {i}")
            assert compiled.opt.param_groups[0]["lr"] == eager.opt.param_groups[0]["lr"]
    assert eager.opt.param_groups[0]["lr"] < 0.05  # the plateau cut the rate


# 8. train / eval ---------------------------------------------------------------------------


def test_train_eval_toggled_between_calls_and_a_compiled_eval_function():
    make = _state(optim.SGD, dropout=True, batchnorm=True, lr=0.1, momentum=0.9)

    def make_eval(s):
        def evaluate(x, y):
            with tn.no_grad():
                out = s.model(x)
                return F.cross_entropy(out, y), out.argmax(1)

        return evaluate

    def toggle(training):
        def event(s):
            s.model.train(training)

        return event

    events = {2: toggle(False), 3: toggle(True), 5: toggle(False), 6: toggle(True)}
    eager, compiled = make(), make()
    eager_eval, compiled_eval = make_eval(eager), tn.compile(make_eval(compiled))
    eager_step, compiled_step = _standard_step(eager), tn.compile(_standard_step(compiled))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(9):
            x, y = BATCHES[i]
            if i in events:
                events[i](eager)
                events[i](compiled)
            _assert_same(compiled_step(x, y), eager_step(x, y), f"step {i}")
            eager.model.eval()
            compiled.model.eval()
            _assert_same(compiled_eval(x, y), eager_eval(x, y), f"eval {i}")
            eager.model.train()
            compiled.model.train()
            _assert_same(_snapshot(compiled), _snapshot(eager), f"call {i}")


# 9. batches -------------------------------------------------------------------------------


def test_float64_batch_into_a_float32_model_raises_the_same_error():
    eager, compiled = _state(lr=0.05)(), _state(lr=0.05)()
    eager_step, compiled_step = _standard_step(eager), tn.compile(_standard_step(compiled))
    for x, y in BATCHES[:3]:
        _assert_same(compiled_step(x, y), eager_step(x, y))
    x, y = BATCHES[3]
    errors = []
    for step in (eager_step, compiled_step):
        with pytest.raises(Exception) as caught:
            step(x.astype(np.float64), y)
        errors.append(caught.value)
    assert type(errors[0]) is type(errors[1]) and str(errors[0]) == str(errors[1])
    _assert_same(_snapshot(compiled), _snapshot(eager))


def test_a_last_smaller_batch_and_an_empty_batch():
    def data(i):
        x, y = BATCHES[i % 4]
        return (x[:5], y[:5]) if i % 4 == 3 else (x, y)

    eager, compiled = (
        _state(optim.SGD, lr=0.1, momentum=0.9)(),
        _state(optim.SGD, lr=0.1, momentum=0.9)(),
    )
    eager_step, compiled_step = _standard_step(eager), tn.compile(_standard_step(compiled))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(12):
            x, y = data(i)
            _assert_same(compiled_step(x, y), eager_step(x, y), f"call {i}")
            _assert_same(_snapshot(compiled), _snapshot(eager), f"call {i}")
    empty = (np.zeros((0, 3), np.float32), np.zeros(0, np.int64))
    results = []
    for step in (eager_step, compiled_step):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                results.append(("ok", step(*empty).data))
            except Exception as error:  # the same outcome either way
                results.append((type(error), str(error)))
        results.append(sorted(str(w.message) for w in caught))
    _assert_same(results[2:], results[:2])
    _assert_same(_snapshot(compiled), _snapshot(eager))


@pytest.mark.parametrize("set_to_none", [True, False])
def test_a_value_check_after_a_first_backward_that_fails_in_a_later_replay(set_to_none):
    """Two losses, two backwards, gradients accumulated over calls: softplus checks its
    input's range after the first backward; a batch beyond its threshold stops the replay
    after that backward, and the eager call that follows must not add the first loss's
    gradient twice."""

    def make_step(s):
        def accumulate(x, y):
            out = s.model(x)
            F.cross_entropy(out, y).backward(retain_graph=True)
            penalty = F.softplus(out).mean()
            penalty.backward()
            return penalty

        return accumulate

    def far(i):  # call 7: outputs beyond softplus's threshold (its other branch)
        x, y = BATCHES[i]
        return (x * 4000 if i == 7 else x, y)

    eager, compiled = _state(optim.SGD, lr=0.01)(), _state(optim.SGD, lr=0.01)()
    eager_step, compiled_step = make_step(eager), tn.compile(make_step(compiled))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(10):
            _assert_same(compiled_step(*far(i)), eager_step(*far(i)), f"call {i}")
            _assert_same(_snapshot(compiled), _snapshot(eager), f"call {i}")
            if i % 4 == 3:
                for s in (eager, compiled):
                    s.opt.step()
                    s.opt.zero_grad(set_to_none=set_to_none)
    assert compiled_step._eager_reason is None


def test_freezing_with_zero_grad_set_to_none_false():
    """A frozen parameter keeps its zeroed gradient (set_to_none=False), which the step
    reads (weight decay still moves it, as in PyTorch)."""

    def make_step(s):
        def step(x, y):
            s.opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(s.model(x), y)
            loss.backward()
            s.opt.step()
            return loss

        return step

    make = _state(optim.SGD, lr=0.1, momentum=0.9, weight_decay=0.1)
    _compare(make, make_step, {3: _freeze_first(False), 6: _freeze_first(True)}, calls=9)


def test_a_gradient_assigned_from_numpy_inside_the_step_runs_eagerly():
    def make_step(s):
        def step(x, y):
            s.opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(s.model(x), y)
            loss.backward()
            weight = s.model[0].weight
            weight.grad = tn.Tensor(np.clip(weight.grad.data, -0.01, 0.01))  # not recorded
            s.opt.step()
            return loss

        return step

    _compare(_state(optim.SGD, lr=0.1), make_step, calls=6, expect_eager=True)


@pytest.mark.parametrize("unfreeze_inside", [True, False])
def test_gan_freezing_the_discriminator_inside_the_step(unfreeze_inside):
    """The generator's loss with the discriminator frozen by requires_grad_(False) inside
    the step, unfrozen at its end or by the caller before the next call: a replay leaves
    the flags as the eager call does."""

    def make_step(s):
        def step(x, y):
            real = tn.Tensor(x)
            fake = s.g(real.flip(1) * 0.5)
            ones, zeros = tn.ones(x.shape[0], 1), tn.zeros(x.shape[0], 1)
            s.d_opt.zero_grad()
            d_loss = F.binary_cross_entropy_with_logits(
                s.d(real), ones
            ) + F.binary_cross_entropy_with_logits(s.d(fake.detach()), zeros)
            d_loss.backward()
            s.d_opt.step()
            for p in s.d.parameters():
                p.requires_grad_(False)
            s.g_opt.zero_grad()
            g_loss = F.binary_cross_entropy_with_logits(s.d(fake), ones)
            g_loss.backward()
            s.g_opt.step()
            if unfreeze_inside:
                for p in s.d.parameters():
                    p.requires_grad_(True)
            return d_loss, g_loss

        return step

    def unfreeze(s):
        for p in s.d.parameters():
            p.requires_grad_(True)

    compiled = _compare(_gan, make_step, dict.fromkeys(range(1, 8), unfreeze), calls=8)
    assert any(type(e).__name__ == "Program" for e in compiled._entries.values())


def test_model_eval_inside_a_compiled_eval_function():
    """``model.eval()`` called inside the compiled function, ``model.train()`` by the
    caller before training: after each replay the model is in eval mode, as eagerly."""
    make = _state(optim.SGD, dropout=True, batchnorm=True, lr=0.1)

    def make_eval(s):
        def evaluate(x, y):
            s.model.eval()
            with tn.no_grad():
                return F.cross_entropy(s.model(x), y)

        return evaluate

    eager, compiled = make(), make()
    eager_eval, compiled_eval = make_eval(eager), tn.compile(make_eval(compiled))
    eager_step, compiled_step = _standard_step(eager), tn.compile(_standard_step(compiled))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(8):
            x, y = BATCHES[i]
            for s in (eager, compiled):
                s.model.train()
            _assert_same(compiled_step(x, y), eager_step(x, y), f"step {i}")
            _assert_same(compiled_eval(x, y), eager_eval(x, y), f"eval {i}")
            _assert_same(_snapshot(compiled), _snapshot(eager), f"call {i}")  # modes too
            # what the caller does next in eval mode (an eager prediction) agrees
            _assert_same(compiled.model(x), eager.model(x), f"predict {i}")
    assert any(type(e).__name__ == "Program" for e in compiled_eval._entries.values())


def test_a_learning_rate_written_inside_the_step_runs_eagerly():
    """``group["lr"] = lr`` inside the compiled function is Python a replay would skip (a
    later replay would keep whatever rate the last call left): it runs eagerly, saying so."""

    def make_step(s):
        def step(x, y, lr):
            for group in s.opt.param_groups:
                group["lr"] = lr
            return _standard_step(s)(x, y)

        return step

    rates = [0.1, 0.1, 0.1, 0.05, 0.05, 0.1, 0.05, 0.1]
    compiled = _compare(
        _state(optim.SGD, lr=0.1, momentum=0.9),
        make_step,
        calls=8,
        extra=lambda i: (rates[i],),
        expect_eager=True,
    )
    assert "group['lr']" in compiled._eager_reason


# 4b. objects replaced between calls ---------------------------------------------------------


def test_a_new_optimizer_or_model_assigned_between_calls():
    """Fine-tuning habits: a fresh optimizer after unfreezing, a model replaced by a copy
    loaded from a checkpoint; a replay must use the objects the names hold now."""

    def new_optimizer(s):
        s.opt = optim.Adam(s.model.parameters(), lr=0.01)

    def new_model(s):
        model = _mlp()
        model.load_state_dict(s.model.state_dict())
        model[0].reset_parameters(rng=5)
        s.model, s.opt = model, optim.SGD(model.parameters(), lr=0.1)

    _compare(_state(optim.SGD, lr=0.1), _standard_step, {3: new_optimizer, 6: new_model}, calls=9)


def test_reset_parameters_between_calls():
    def reset(s):
        s.model[0].reset_parameters(rng=7)

    _compare(_state(optim.SGD, lr=0.1, momentum=0.9), _standard_step, {4: reset}, calls=8)


def test_a_config_dict_of_numbers_changed_between_calls():
    config = {"penalty": 0.0, "temperature": 1.0}

    def make_step(s):
        def step(x, y):
            s.opt.zero_grad()
            out = s.model(x) / config["temperature"]
            loss = F.cross_entropy(out, y) + config["penalty"] * (s.model[0].weight ** 2).sum()
            loss.backward()
            s.opt.step()
            return loss

        return step

    def change(key, value):
        def event(s):
            config[key] = value

        return event

    events = {3: change("penalty", 0.1), 6: change("temperature", 2.0)}
    _compare(_state(optim.SGD, lr=0.1), make_step, events, calls=9)


@pytest.mark.parametrize("how", ["copy_", "lerp_", "data"])
def test_ema_written_other_ways(how):
    def make():
        s = _state(optim.SGD, lr=0.1, momentum=0.9)()
        s.ema = _mlp()
        for p in s.ema.parameters():
            p.requires_grad_(False)
        return s

    def make_step(s):
        def step(x, y):
            loss = _standard_step(s)(x, y)
            with tn.no_grad():
                for e, p in zip(s.ema.parameters(), s.model.parameters()):
                    if how == "copy_":
                        e.copy_(e * 0.99 + p * 0.01)
                    elif how == "lerp_":
                        e.lerp_(p, 0.01)
                    else:  # NumPy on .data: not recorded, so eagerly with a warning
                        e.data = 0.99 * e.data + 0.01 * p.data
            return loss

        return step

    _compare(make, make_step, calls=7, expect_eager=how == "data")
