"""The schedulers PyTorch users reach for beyond the basic ones: each against its closed form
from PyTorch's documentation over many epochs (and the documented example values), resumed
from a state dict or from ``last_epoch``, and refusing bad arguments with PyTorch's messages."""

import math
import re
from functools import partial

import numpy as np
import pytest

import tinynet as tn
from tinynet.optim import SGD, Adagrad, Adam
from tinynet.optim.lr_scheduler import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

BASE_LRS = [0.1, 0.02]


def two_group_optimizer(lrs=BASE_LRS, cls=SGD, **kwargs):
    groups = [{"params": [tn.ones(2, requires_grad=True)], "lr": lr} for lr in lrs]
    kwargs = dict(momentum=0.9) if cls is SGD and not kwargs else kwargs
    return cls(groups, lr=1.0, **kwargs)


def run_epochs(scheduler, epochs, also=()):
    """The rates in effect at each epoch (and the group entries named in ``also``): read,
    train, then step the scheduler."""
    seen = []
    for _ in range(epochs):
        groups = scheduler.optimizer.param_groups
        assert scheduler.get_last_lr() == [g["lr"] for g in groups]
        seen.append([g["lr"] for g in groups] + [get(g) for get in also for g in groups])
        scheduler.optimizer.step()
        scheduler.step()
    return np.array(seen)


def closed_form(fn, epochs, base_lrs=BASE_LRS):
    return np.array([[fn(base, epoch) for base in base_lrs] for epoch in range(epochs)])


# -- the closed forms --------------------------------------------------------------------------
def test_multi_step_lr_with_a_repeated_milestone():
    milestones = [3, 5, 5, 9]
    got = run_epochs(MultiStepLR(two_group_optimizer(), milestones, gamma=0.3), 14)
    want = closed_form(lambda b, e: b * 0.3 ** sum(m <= e for m in milestones), 14)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_multi_step_lr_documented_example():
    # PyTorch's docs: lr 0.05, milestones [30, 80], gamma 0.1.
    got = run_epochs(MultiStepLR(two_group_optimizer([0.05]), [30, 80], gamma=0.1), 100)[:, 0]
    np.testing.assert_allclose(got[[0, 29, 30, 79, 80, 99]], [0.05, 0.05, 5e-3, 5e-3, 5e-4, 5e-4])


@pytest.mark.parametrize("factor, total", [(1 / 3, 5), (0.5, 1), (0.25, 11)])
def test_constant_lr(factor, total):
    got = run_epochs(ConstantLR(two_group_optimizer(), factor=factor, total_iters=total), 12)
    want = closed_form(lambda b, e: b * (factor if e < total else 1.0), 12)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("start, end, total", [(1 / 3, 1.0, 5), (0.5, 0.1, 7), (1.0, 0.0, 3)])
def test_linear_lr(start, end, total):
    got = run_epochs(LinearLR(two_group_optimizer(), start, end, total_iters=total), 15)
    want = closed_form(lambda b, e: b * (start + (end - start) * min(e, total) / total), 15)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_linear_lr_documented_example():
    # PyTorch's docs: lr 0.05, start_factor 0.5, total_iters 4.
    got = run_epochs(LinearLR(two_group_optimizer([0.05]), start_factor=0.5, total_iters=4), 6)
    np.testing.assert_allclose(got[:, 0], [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05])


def test_multiplicative_lr_per_group():
    fns = [lambda e: 0.95, lambda e: 1 / (1 + 0.1 * e)]
    got = run_epochs(MultiplicativeLR(two_group_optimizer(), fns), 20)
    want = closed_form(lambda b, e: b * math.prod(fns[b == 0.02](k) for k in range(1, e + 1)), 20)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("power", [1.0, 2.0, 0.5])
def test_polynomial_lr(power):
    got = run_epochs(PolynomialLR(two_group_optimizer(), total_iters=6, power=power), 10)
    want = closed_form(lambda b, e: b * (1 - min(e, 6) / 6) ** power, 10)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_polynomial_lr_documented_example():
    # PyTorch's docs: lr 0.001, total_iters 4, power 1.0.
    got = run_epochs(PolynomialLR(two_group_optimizer([0.001]), total_iters=4), 6)
    np.testing.assert_allclose(got[:, 0], [0.001, 0.00075, 0.0005, 0.00025, 0, 0], atol=1e-18)


def warm_restarts(base, epoch, T_0, T_mult, eta_min):
    """The position in the current period by walking the periods one by one."""
    start, period = 0, T_0
    while epoch >= start + period:
        start, period = start + period, period * T_mult
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * (epoch - start) / period)) / 2


@pytest.mark.parametrize("T_0, T_mult, eta_min", [(5, 1, 0.001), (2, 2, 0.0), (3, 3, 0.005)])
def test_cosine_annealing_warm_restarts(T_0, T_mult, eta_min):
    scheduler = CosineAnnealingWarmRestarts(two_group_optimizer(), T_0, T_mult, eta_min)
    got = run_epochs(scheduler, 40)
    want = closed_form(lambda b, e: warm_restarts(b, e, T_0, T_mult, eta_min), 40)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("T_mult", [1, 2])
def test_cosine_annealing_warm_restarts_takes_fractional_epochs(T_mult):
    opt = two_group_optimizer()
    scheduler = CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=T_mult, eta_min=0.01)
    opt.step()
    for epoch in [0.25, 1.5, 2.75, 3.0, 4.5, 8.2, 10.0, 20.6]:
        scheduler.step(epoch)  # the documented per-batch use: no deprecation warning
        want = [warm_restarts(b, epoch, 3, T_mult, 0.01) for b in BASE_LRS]
        np.testing.assert_allclose(scheduler.get_last_lr(), want, rtol=1e-12)
        assert scheduler.last_epoch == math.floor(epoch)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        scheduler.step(-1)


def one_cycle(step, total, max_lr, pct, div, final_div, anneal, three_phase=False):
    """PyTorch's documented 1cycle schedule, phase by phase."""
    initial = max_lr / div
    low = initial / final_div
    if three_phase:
        phases = [(pct * total - 1, initial, max_lr), (2 * pct * total - 2, max_lr, initial)]
        phases.append((total - 1, initial, low))
    else:
        phases = [(pct * total - 1, initial, max_lr), (total - 1, max_lr, low)]
    start = 0
    for index, (end, a, b) in enumerate(phases):
        if step <= end or index == len(phases) - 1:
            t = (step - start) / (end - start)
            if anneal == "cos":
                return b + (a - b) * (1 + math.cos(math.pi * t)) / 2
            return a + (b - a) * t
        start = end


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_lr_rates(anneal, three_phase):
    opt = two_group_optimizer()
    scheduler = OneCycleLR(
        opt, max_lr=[1.0, 0.5], total_steps=40, pct_start=0.25, anneal_strategy=anneal,
        div_factor=10.0, final_div_factor=100.0, three_phase=three_phase,
    )  # fmt: skip
    got = run_epochs(scheduler, 40)
    want = closed_form(
        lambda top, s: one_cycle(s, 40, top, 0.25, 10.0, 100.0, anneal, three_phase), 40, [1.0, 0.5]
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert got[0, 0] == pytest.approx(0.1) and got[9, 0] == pytest.approx(1.0)
    assert got[-1, 0] == pytest.approx(1e-3)


@pytest.mark.parametrize("cls", [SGD, Adam], ids=lambda c: c.__name__)
def test_one_cycle_lr_cycles_momentum_or_beta1_inversely(cls):
    kwargs = dict(momentum=0.9) if cls is SGD else dict(betas=(0.9, 0.99))
    opt = two_group_optimizer(cls=cls, **kwargs)
    scheduler = OneCycleLR(opt, max_lr=1.0, epochs=5, steps_per_epoch=4, anneal_strategy="linear")
    momentum = (lambda g: g["momentum"]) if cls is SGD else (lambda g: g["betas"][0])
    got = run_epochs(scheduler, 20, also=[momentum])[:, 2]
    # The rate goes initial -> max -> min; the momentum max (0.95) -> base (0.85) -> max.
    lr = np.array([one_cycle(s, 20, 1.0, 0.3, 25.0, 1e4, "linear") for s in range(20)])
    want = 0.95 - (0.95 - 0.85) * (lr - np.where(np.arange(20) <= 5, 0.04, 4e-6)) / np.where(
        np.arange(20) <= 5, 1.0 - 0.04, 1.0 - 4e-6
    )
    np.testing.assert_allclose(got, want, rtol=1e-12)
    if cls is Adam:
        assert all(g["betas"][1] == 0.99 for g in opt.param_groups)  # beta2 untouched


def test_one_cycle_lr_refuses_a_step_past_total_steps():
    opt = two_group_optimizer()
    scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        opt.step()
        scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total"):
        scheduler.step()


def cyclic(t, base, top, up, down, scale):
    """Smith's triangular wave: up over ``up`` steps, down over ``down``; ``scale(cycle, t)``."""
    cycle, position = divmod(t, up + down)
    height = position / up if position <= up else 1 - (position - up) / down
    return base + (top - base) * height * scale(cycle + 1, t)


MODES = {
    "triangular": lambda cycle, t: 1.0,
    "triangular2": lambda cycle, t: 0.5 ** (cycle - 1),
    "exp_range": lambda cycle, t: 0.97**t,
}


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("up, down", [(4, None), (3, 5)])
def test_cyclic_lr_modes_and_momentum(mode, up, down):
    opt = two_group_optimizer()
    scheduler = CyclicLR(
        opt, base_lr=[0.01, 0.001], max_lr=[0.1, 0.05], step_size_up=up, step_size_down=down,
        mode=mode, gamma=0.97, base_momentum=0.8, max_momentum=0.9,
    )  # fmt: skip
    got = run_epochs(scheduler, 50, also=[lambda g: g["momentum"]])
    d = up if down is None else down
    want = np.array(
        [
            [cyclic(t, b, m, up, d, MODES[mode]) for b, m in [(0.01, 0.1), (0.001, 0.05)]]
            + [0.9 - (cyclic(t, 0.0, 0.1, up, d, MODES[mode]) / 0.1) * 0.1] * 2
            for t in range(50)
        ]
    )
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_cyclic_lr_custom_scale_fn_per_iteration():
    opt = two_group_optimizer()
    scheduler = CyclicLR(
        opt, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations",
        cycle_momentum=False,
    )  # fmt: skip
    got = run_epochs(scheduler, 12)
    want = closed_form(lambda b, t: cyclic(t, 0.01, 0.1, 2, 2, lambda c, i: 1 / (1 + i)), 12)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert all(g["momentum"] == 0.9 for g in opt.param_groups)  # not cycled


def test_sequential_lr_warmup_then_cosine():
    opt = two_group_optimizer()
    warmup = LinearLR(opt, start_factor=0.1, total_iters=4)
    cosine = CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    decay = ExponentialLR(opt, gamma=0.8)
    scheduler = SequentialLR(opt, [warmup, cosine, decay], milestones=[5, 15])
    got = run_epochs(scheduler, 25)

    def want(b, e):
        if e < 5:
            return b * (0.1 + 0.9 * min(e, 4) / 4)
        if e < 15:
            return 0.001 + (b - 0.001) * (1 + math.cos(math.pi * (e - 5) / 10)) / 2
        return b * 0.8 ** (e - 15)

    np.testing.assert_allclose(got, closed_form(want, 25), rtol=1e-9, atol=1e-15)


def test_chained_scheduler_documented_example():
    # PyTorch's docs: ConstantLR(factor=0.1, total_iters=2) chained with ExponentialLR(0.9).
    opt = two_group_optimizer()
    scheduler = ChainedScheduler([ConstantLR(opt, 0.1, 2), ExponentialLR(opt, gamma=0.9)])
    got = run_epochs(scheduler, 10)
    want = closed_form(lambda b, e: b * (0.1 if e < 2 else 1.0) * 0.9**e, 10)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_step_before_optimizer_step_warns():
    opt = two_group_optimizer()
    for scheduler in [LinearLR(opt), CosineAnnealingWarmRestarts(opt, T_0=2)]:
        with pytest.warns(UserWarning, match=re.escape("before `optimizer.step()`")):
            scheduler.step()


# -- resuming ----------------------------------------------------------------------------------
def constant_then_exponential(opt):
    return SequentialLR(opt, [ConstantLR(opt, 0.5, 3), ExponentialLR(opt, 0.9)], milestones=[4])


def chained(opt):
    return ChainedScheduler([LinearLR(opt, 0.2, total_iters=5), MultiStepLR(opt, [3, 6])])


MAKERS = {
    "MultiStepLR": partial(MultiStepLR, milestones=[2, 5, 5, 11], gamma=0.5),
    "ConstantLR": partial(ConstantLR, factor=0.5, total_iters=9),
    "LinearLR": partial(LinearLR, start_factor=0.2, total_iters=10),
    "MultiplicativeLR": partial(MultiplicativeLR, lr_lambda=lambda e: 0.9),
    "PolynomialLR": partial(PolynomialLR, total_iters=12, power=2.0),
    "CosineAnnealingWarmRestarts": partial(CosineAnnealingWarmRestarts, T_0=3, T_mult=2),
    "OneCycleLR": partial(OneCycleLR, max_lr=[1.0, 0.5], total_steps=20, three_phase=True),
    "CyclicLR": partial(
        CyclicLR, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=3, mode="triangular2"
    ),
    "SequentialLR": constant_then_exponential,
    "ChainedScheduler": chained,
}


def is_plain(value):
    if isinstance(value, dict):
        return all(isinstance(k, (int, str)) and is_plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(is_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def advance(scheduler, epochs):
    seen = []
    for _ in range(epochs):
        scheduler.optimizer.step()
        scheduler.step()
        seen.append(
            scheduler.get_last_lr() + [g["momentum"] for g in scheduler.optimizer.param_groups]
        )
    return seen


@pytest.mark.parametrize("name", list(MAKERS))
def test_state_dict_round_trip_resumes_the_schedule(name):
    opt = two_group_optimizer()
    scheduler = MAKERS[name](opt)
    advance(scheduler, 7)
    saved_opt, saved_scheduler = opt.state_dict(), scheduler.state_dict()
    assert is_plain(saved_scheduler) and "optimizer" not in saved_scheduler
    expected = advance(scheduler, 12)

    opt2 = two_group_optimizer([5.0, 5.0])
    scheduler2 = MAKERS[name](opt2)
    opt2.load_state_dict(saved_opt)
    scheduler2.load_state_dict(saved_scheduler)
    assert advance(scheduler2, 12) == expected


RESUMABLE = ["MultiStepLR", "ConstantLR", "LinearLR", "MultiplicativeLR", "PolynomialLR"]


@pytest.mark.parametrize("name", [*RESUMABLE, "OneCycleLR", "CyclicLR"])
def test_last_epoch_resumes_the_schedule(name):
    # PyTorch's resume: an optimizer restored at epoch k (its rates, initial_lr and the
    # schedule's own entries), and last_epoch=k: the constructor's step sets epoch k + 1.
    opt = two_group_optimizer()
    scheduler = MAKERS[name](opt)
    advance(scheduler, 6)
    saved = opt.state_dict()
    expected = advance(scheduler, 10)
    opt2 = two_group_optimizer([5.0, 5.0])
    opt2.load_state_dict(saved)
    resumed = MAKERS[name](opt2, last_epoch=6)
    momentum = [g["momentum"] for g in opt2.param_groups]
    assert [resumed.get_last_lr() + momentum] + advance(resumed, 9) == expected


# -- errors ------------------------------------------------------------------------------------
def test_bad_arguments_are_refused_with_pytorchs_messages():
    opt = two_group_optimizer()
    cases = [
        (lambda: ConstantLR(opt, factor=1.5), "Constant multiplicative factor expected"),
        (lambda: LinearLR(opt, start_factor=0), "Starting multiplicative factor expected"),
        (lambda: LinearLR(opt, end_factor=2), "Ending multiplicative factor expected"),
        (lambda: MultiplicativeLR(opt, [lambda e: 1.0]), "Expected 2 lr_lambdas, but got 1"),
        (lambda: CosineAnnealingWarmRestarts(opt, T_0=0), "Expected positive integer T_0"),
        (lambda: CosineAnnealingWarmRestarts(opt, 2, T_mult=0), "Expected integer T_mult >= 1"),
        (lambda: CosineAnnealingWarmRestarts(opt, 2, eta_min="0"), "Expected float or int eta_min"),
        (lambda: OneCycleLR(opt, 1.0), "You must define either total_steps OR"),
        (lambda: OneCycleLR(opt, 1.0, total_steps=0), "Expected positive integer total_steps"),
        (lambda: OneCycleLR(opt, 1.0, epochs=2, steps_per_epoch=-1), "integer steps_per_epoch"),
        (lambda: OneCycleLR(opt, 1.0, 10, pct_start=1.5), "Expected float between 0 and 1"),
        (lambda: OneCycleLR(opt, 1.0, 10, anneal_strategy="exp"), "anneal_strategy must be one"),
        (lambda: OneCycleLR(opt, [1.0], 10), "expected 2 values for max_lr, got 1"),
        (lambda: CyclicLR(opt, 0.1, 1.0, mode="sine"), "mode is invalid and scale_fn is None"),
        (lambda: CyclicLR(opt, [0.1] * 3, 1.0), "expected 2 values for base_lr, got 3"),
        (lambda: SequentialLR(opt, [], []), "expects at least one scheduler"),
        (lambda: ChainedScheduler([]), "expects at least one scheduler to be chained"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            make()
    adagrad = two_group_optimizer(cls=Adagrad)
    for make in [lambda: OneCycleLR(adagrad, 1.0, 10), lambda: CyclicLR(adagrad, 0.1, 1.0)]:
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            make()
    OneCycleLR(adagrad, 1.0, 10, cycle_momentum=False)  # fine without momentum


def test_sequential_and_chained_refuse_mismatched_schedulers():
    opt, other = two_group_optimizer(), two_group_optimizer()
    step, foreign = StepLR(opt, 2), StepLR(other, 2)
    plateau = ReduceLROnPlateau(opt)
    for make in [
        lambda s: SequentialLR(opt, [step, s], milestones=[3]),
        lambda s: ChainedScheduler([step, s]),
    ]:
        with pytest.raises(ValueError, match="expects all schedulers to belong to the same"):
            make(foreign)
        with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
            make(plateau)
        with pytest.raises(TypeError, match="at index 1 should have `optimizer`"):
            make(object())
    with pytest.raises(ValueError, match="number of schedulers 2 and the number of milestones"):
        SequentialLR(opt, [step, StepLR(opt, 3)], milestones=[1, 2])


@pytest.mark.parametrize("name", ["MultiStepLR", "OneCycleLR", "CyclicLR", "SequentialLR"])
def test_state_dicts_survive_tinynet_save_and_load(name, tmp_path):
    opt = two_group_optimizer()
    scheduler = MAKERS[name](opt)
    advance(scheduler, 5)
    tn.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()}, tmp_path / "s")
    loaded = tn.load(tmp_path / "s")
    expected = advance(scheduler, 8)
    opt2 = two_group_optimizer([5.0, 5.0])
    scheduler2 = MAKERS[name](opt2)
    opt2.load_state_dict(loaded["optimizer"])
    scheduler2.load_state_dict(loaded["scheduler"])
    assert advance(scheduler2, 8) == expected
