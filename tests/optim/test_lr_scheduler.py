"""Learning-rate schedulers against their closed forms and worked-by-hand sequences."""

import math
import re

import numpy as np
import pytest

import tinynet as tn
from tinynet.optim import SGD, Adam
from tinynet.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    ReduceLROnPlateau,
    StepLR,
)

BASE_LRS = [0.1, 0.02]


def two_group_optimizer(lrs=BASE_LRS):
    groups = [{"params": [tn.ones(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return SGD(groups, lr=1.0, momentum=0.9)


def run_epochs(scheduler, epochs):
    """The rates in effect at each epoch: read, (train), then step the scheduler."""
    seen = []
    for _ in range(epochs):
        assert scheduler.get_last_lr() == [g["lr"] for g in scheduler.optimizer.param_groups]
        seen.append(scheduler.get_last_lr())
        scheduler.optimizer.step()
        scheduler.step()
    return np.array(seen)


def closed_form(fn, epochs, base_lrs=BASE_LRS):
    return np.array([[fn(base, epoch) for base in base_lrs] for epoch in range(epochs)])


def test_step_lr():
    opt = two_group_optimizer()
    got = run_epochs(StepLR(opt, step_size=7, gamma=0.3), 60)
    want = closed_form(lambda base, e: base * 0.3 ** (e // 7), 60)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_exponential_lr():
    got = run_epochs(ExponentialLR(two_group_optimizer(), gamma=0.97), 100)
    np.testing.assert_allclose(got, closed_form(lambda base, e: base * 0.97**e, 100), rtol=1e-12)


@pytest.mark.parametrize("T_max, eta_min", [(10, 0.001), (1, 0.0), (7, 0.005)])
def test_cosine_annealing_recursive_values_follow_the_closed_form(T_max, eta_min):
    # Several periods: past T_max the rate climbs back along the same cosine.
    epochs = 5 * T_max + 3
    got = run_epochs(CosineAnnealingLR(two_group_optimizer(), T_max=T_max, eta_min=eta_min), epochs)
    want = closed_form(
        lambda base, e: eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / T_max)) / 2,
        epochs,
    )
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_cosine_annealing_halfway_by_hand():
    opt = two_group_optimizer([1.0])
    got = run_epochs(CosineAnnealingLR(opt, T_max=4), 5)
    # cos(0), cos(pi/4), cos(pi/2), cos(3pi/4), cos(pi): (1 + c) / 2
    s = math.sqrt(2) / 2
    np.testing.assert_allclose(got[:, 0], [1, (1 + s) / 2, 0.5, (1 - s) / 2, 0], atol=1e-15)


def test_cosine_annealing_is_chainable_as_documented():
    # PyTorch's recursive form: lr_{t+1} = eta + (lr_t - eta) * (1 + cos((t+1) pi / T))
    # / (1 + cos(t pi / T)), so an outside change to the rate carries forward.
    T, eta = 8, 0.01
    opt = two_group_optimizer([1.0])
    scheduler = CosineAnnealingLR(opt, T_max=T, eta_min=eta)
    for _ in range(3):
        scheduler.step()
    opt.param_groups[0]["lr"] /= 2
    lr = opt.param_groups[0]["lr"]
    for t in range(3, 7):
        scheduler.step()
        lr = eta + (lr - eta) * (1 + math.cos((t + 1) * math.pi / T)) / (
            1 + math.cos(t * math.pi / T)
        )
        assert scheduler.get_last_lr()[0] == pytest.approx(lr, rel=1e-12)


def test_lambda_lr_per_group():
    opt = two_group_optimizer()
    scheduler = LambdaLR(opt, [lambda e: 1 / (1 + e), lambda e: 0.5**e])
    got = run_epochs(scheduler, 20)
    want = np.array([[0.1 / (1 + e), 0.02 * 0.5**e] for e in range(20)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_chained_schedulers_multiply():
    opt = two_group_optimizer()
    step, exponential = StepLR(opt, step_size=3, gamma=0.5), ExponentialLR(opt, gamma=0.9)
    seen = []
    for _ in range(12):
        seen.append([g["lr"] for g in opt.param_groups])
        opt.step()
        step.step()
        exponential.step()
    want = closed_form(lambda base, e: base * 0.5 ** (e // 3) * 0.9**e, 12)
    np.testing.assert_allclose(seen, want, rtol=1e-12)


def test_schedule_drives_the_optimizer():
    w = tn.tensor(np.array([0.0]), requires_grad=True)
    opt = SGD([w], lr=1.0)
    scheduler = ExponentialLR(opt, gamma=0.5)
    for _ in range(4):
        w.grad = tn.tensor(np.array([-1.0]))
        opt.step()
        scheduler.step()
    assert w.item() == 1 + 0.5 + 0.25 + 0.125


def test_initial_lr_is_stored_and_kept():
    opt = two_group_optimizer()
    first = StepLR(opt, step_size=1, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == BASE_LRS
    opt.step()
    first.step()
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.01]
    second = ExponentialLR(opt, gamma=0.9)
    assert second.base_lrs == BASE_LRS  # the first scheduler's record stays


def test_resuming_needs_initial_lr_and_restarts_at_the_closed_form():
    opt = two_group_optimizer()
    with pytest.raises(
        KeyError, match=re.escape("param 'initial_lr' is not specified in param_groups[0]")
    ):
        CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"]
    scheduler = CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    assert scheduler.last_epoch == 5
    want = [base * (1 + math.cos(math.pi * 5 / 10)) / 2 for base in BASE_LRS]
    np.testing.assert_allclose(scheduler.get_last_lr(), want, rtol=1e-12)


def test_step_with_epoch_warns_and_uses_the_closed_form():
    scheduler = StepLR(two_group_optimizer(), step_size=2, gamma=0.1)
    with pytest.warns(UserWarning, match="deprecated"):
        scheduler.step(5)
    np.testing.assert_allclose(scheduler.get_last_lr(), [b * 0.1**2 for b in BASE_LRS])


# -- ReduceLROnPlateau, worked by hand ---------------------------------------------------------
def plateau_lrs(scheduler, metrics):
    seen = []
    for value in metrics:
        scheduler.step(value)
        seen.append(scheduler.get_last_lr()[0])
    return seen


def test_reduce_on_plateau_min_rel():
    # threshold 0.1 (rel): improving means below 0.9 * best. patience 2: the third bad
    # epoch in a row reduces the rate.
    opt = two_group_optimizer([1.0])
    scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=0.1)
    metrics = [10, 9.5, 9.2, 9.1, 8.0, 8.0, 8.0, 8.0]
    assert plateau_lrs(scheduler, metrics) == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]


def test_reduce_on_plateau_max_abs_cooldown_min_lr():
    # improving: above best + 0.5. patience 0: any bad epoch reduces, then one cooldown
    # epoch ignores bad epochs; min_lr floors the rate, and a no-op change is skipped.
    opt = two_group_optimizer([1.0])
    scheduler = ReduceLROnPlateau(
        opt,
        mode="max",
        factor=0.5,
        patience=0,
        threshold=0.5,
        threshold_mode="abs",
        cooldown=1,
        min_lr=0.3,
    )
    assert plateau_lrs(scheduler, [1, 1.4, 2, 2, 2, 2]) == [1, 0.5, 0.5, 0.3, 0.3, 0.3]


def test_reduce_on_plateau_cooldown_ignores_bad_epochs():
    # patience 0, cooldown 2, a flat metric: reduce, two cooldown epochs, reduce again.
    opt = two_group_optimizer([1.0])
    scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=0, cooldown=2)
    assert plateau_lrs(scheduler, [1.0] * 6) == [1, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_reduce_on_plateau_per_group_min_lr_and_eps():
    opt = two_group_optimizer([1.0, 1e-8])
    scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=0, min_lr=[0.75, 0.0])
    scheduler.step(1.0)
    scheduler.step(1.0)
    # group 0 floors at 0.75; group 1 would move by 5e-9 <= eps=1e-8, so it stays.
    assert scheduler.get_last_lr() == [0.75, 1e-8]


def test_reduce_on_plateau_errors():
    opt = two_group_optimizer()
    with pytest.raises(ValueError, match=re.escape("Factor should be < 1.0.")):
        ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown!"):
        ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode pct is unknown!"):
        ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
        ReduceLROnPlateau(opt, min_lr=[0.1])


# -- state dicts and errors --------------------------------------------------------------------
def is_plain(value):
    if isinstance(value, dict):
        return all(isinstance(k, (int, str)) and is_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def halve_every_epoch(epoch):
    return 0.5**epoch


MAKERS = {
    "StepLR": lambda opt: StepLR(opt, step_size=3, gamma=0.5),
    "CosineAnnealingLR": lambda opt: CosineAnnealingLR(opt, T_max=6, eta_min=0.001),
    "LambdaLR": lambda opt: LambdaLR(opt, halve_every_epoch),
    "ReduceLROnPlateau": lambda opt: ReduceLROnPlateau(opt, patience=1, factor=0.5),
}


def advance(scheduler, epochs, start):
    for epoch in range(start, start + epochs):
        scheduler.optimizer.step()
        if isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step(1.0 + (epoch % 4 == 0))  # plateaus with occasional bumps
        else:
            scheduler.step()
        yield scheduler.get_last_lr()


@pytest.mark.parametrize("name", list(MAKERS))
def test_state_dict_round_trip_resumes_the_schedule(name):
    opt = two_group_optimizer()
    scheduler = MAKERS[name](opt)
    list(advance(scheduler, 7, 0))
    saved_opt, saved_scheduler = opt.state_dict(), scheduler.state_dict()
    assert is_plain(saved_scheduler) and "optimizer" not in saved_scheduler
    expected = list(advance(scheduler, 8, 7))

    opt2 = two_group_optimizer([5.0, 5.0])
    scheduler2 = MAKERS[name](opt2)
    opt2.load_state_dict(saved_opt)
    scheduler2.load_state_dict(saved_scheduler)
    assert list(advance(scheduler2, 8, 7)) == expected


def test_scheduler_errors():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        StepLR([], step_size=1)
    opt = two_group_optimizer()
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be positive"):
        CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(NotImplementedError):
        LRScheduler(opt)


def test_schedulers_work_with_any_optimizer():
    opt = Adam([tn.ones(1, requires_grad=True)], lr=0.01)
    scheduler = ExponentialLR(opt, gamma=0.5)
    scheduler.step()
    assert opt.param_groups[0]["lr"] == 0.005 and scheduler.get_last_lr() == [0.005]
