"""The optimizers chosen by name (``optimizer='nadam'``, ...) and ``lr_scheduler``: each trains,
gets the estimator's hyper-parameters, saves, reloads and compiles like adam; a schedule's
learning rates follow its closed form."""

import math
import pickle
import warnings
from copy import deepcopy
from functools import partial

import numpy as np
import pytest
import skops.io as sio
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

import tinynet as tn
import tinynet.estimators._base as base
from tinynet import nn, optim
from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor, load, skops_load
from tinynet.optim import lr_scheduler

X, y = load_iris(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)

# Each new name, its optimizer, and a learning rate at which a few epochs clearly learn
# (Adadelta's lr multiplies an update already scaled like the weights: PyTorch's default is 1).
NEW = {
    "nadam": (optim.NAdam, 0.01),
    "radam": (optim.RAdam, 0.01),
    "adamax": (optim.Adamax, 0.01),
    "adadelta": (optim.Adadelta, 1.0),
    "rprop": (optim.Rprop, 0.01),
    "asgd": (optim.ASGD, 0.1),
}


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.parametrize("name", NEW)
def test_each_name_selects_its_optimizer_and_trains(name):
    kind, lr = NEW[name]
    clf = NeuralNetClassifier(
        (16,), optimizer=name, learning_rate_init=lr, beta_1=0.8, beta_2=0.99, epsilon=1e-7,
        batch_size=32, max_iter=20, random_state=0,
    )  # fmt: skip
    clf.fit(X, y)
    assert type(clf._optimizer) is kind
    group = clf._optimizer.param_groups[0]
    assert group["lr"] == lr
    if "betas" in group:  # nadam, radam, adamax
        assert tuple(group["betas"]) == (0.8, 0.99)
    if "eps" in group:  # all but rprop and asgd
        assert group["eps"] == 1e-7
    assert clf.loss_curve_[-1] < 0.8 * clf.loss_curve_[0]
    assert clf.score(X, y) > 0.7  # chance is 1/3


@pytest.mark.parametrize("name", NEW)
def test_a_saved_or_pickled_fit_reloads_and_trains_on_identically(name, tmp_path):
    _, lr = NEW[name]
    reg = NeuralNetRegressor(
        hidden_layer_sizes=(6,), optimizer=name, learning_rate_init=lr, random_state=0
    )
    target = X[:, 0] * 2 + y
    reg.partial_fit(X, target)
    reg.save(tmp_path / "reg.tnn")
    sio.dump(reg, tmp_path / "reg.skops")
    copies = [
        load(tmp_path / "reg.tnn")[0],
        pickle.loads(pickle.dumps(reg)),
        skops_load(tmp_path / "reg.skops"),  # no type to trust beyond tinynet's own
    ]
    reg.partial_fit(X, target)  # the optimizer's state (moments, step sizes) came back too
    for copy in copies:
        copy.partial_fit(X, target)
        np.testing.assert_array_equal(copy.predict(X), reg.predict(X))


@pytest.mark.parametrize("name", NEW)
def test_compiled_fit_gives_the_eager_weights_bit_for_bit(name):
    def fit(compiled):
        previous, base.COMPILE_STEPS = base.COMPILE_STEPS, compiled
        try:
            return NeuralNetClassifier(
                (8,), optimizer=name, learning_rate_init=NEW[name][1], batch_size=32,
                max_iter=3, alpha=1e-3, random_state=0,
            ).fit(X, y)  # fmt: skip
        finally:
            base.COMPILE_STEPS = previous

    eager, compiled = fit(False), fit(True)
    assert compiled.loss_curve_ == eager.loss_curve_
    for a, b in zip(eager.coefs_ + eager.intercepts_, compiled.coefs_ + compiled.intercepts_):
        assert a.tobytes() == b.tobytes()


def test_asgd_fits_as_an_eager_loop_of_optim_asgd():
    # The estimator's steps are a PyTorch-style loop's: the same network, batches in order,
    # mean cross-entropy, optim.ASGD(lr=learning_rate_init) and PyTorch's other defaults.
    net = nn.Sequential(nn.Linear(4, 8, rng=1), nn.Tanh(), nn.Linear(8, 3, rng=2)).to(tn.float64)
    clf = NeuralNetClassifier(
        module=net, optimizer="asgd", learning_rate_init=0.05, batch_size=50, shuffle=False,
        alpha=0.0, max_iter=4, dtype=np.float64, random_state=0,
    ).fit(X, y)  # fmt: skip
    loop = deepcopy(net)
    optimizer = optim.ASGD(loop.parameters(), lr=0.05)
    losses = []
    for _ in range(4):
        total = 0.0
        for start in range(0, len(X), 50):
            optimizer.zero_grad()
            batch = slice(start, start + 50)
            loss = nn.functional.cross_entropy(loop(tn.tensor(X[batch])), tn.tensor(y[batch]))
            loss.backward()
            optimizer.step()
            total += loss.item() * 50
        losses.append(total / len(X))
    np.testing.assert_allclose(clf.loss_curve_, losses, rtol=1e-12)
    for fitted, looped in zip(clf.module_.parameters(), loop.parameters()):
        np.testing.assert_allclose(fitted.data, looped.data, rtol=1e-12, atol=1e-14)
        state, loop_state = clf._optimizer.state[fitted], optimizer.state[looped]
        assert state["step"] == loop_state["step"] == 12
        assert state["eta"] == loop_state["eta"] != 0.05  # eta decayed as lr / (1 + ...)
        np.testing.assert_allclose(state["ax"], loop_state["ax"], rtol=1e-12, atol=1e-14)


# -- lr_scheduler ---------------------------------------------------------------------------------
def test_an_epoch_scheduler_steps_once_per_epoch():
    clf = NeuralNetClassifier(
        (8,), learning_rate_init=0.02, max_iter=7, random_state=0,
        lr_scheduler=partial(lr_scheduler.StepLR, step_size=3, gamma=0.5),
    )  # fmt: skip
    clf.fit(X, y)
    assert clf.history_["lr"] == [0.02 * 0.5 ** (epoch // 3) for epoch in range(7)]
    cosine = clf.set_params(lr_scheduler=partial(lr_scheduler.CosineAnnealingLR, T_max=7))
    lrs = cosine.fit(X, y).history_["lr"]
    np.testing.assert_allclose(
        lrs, [0.01 * (1 + math.cos(math.pi * epoch / 7)) for epoch in range(7)], rtol=1e-12
    )


def test_one_cycle_steps_after_every_batch():
    # 150 rows in batches of 50: 3 steps per epoch, 12 in all; history_ holds the rate at
    # the start of each epoch, step 3 * epoch of the 1cycle curve.
    total, pct, top = 12, 0.25, 0.1
    clf = NeuralNetClassifier(
        (8,), batch_size=50, max_iter=4, random_state=0,
        lr_scheduler=partial(lr_scheduler.OneCycleLR, max_lr=top, total_steps=total,
                             pct_start=pct, cycle_momentum=False),
    )  # fmt: skip
    lrs = clf.fit(X, y).history_["lr"]
    start, end = top / 25, top / 25 / 1e4
    rise = pct * total - 1  # PyTorch's phase ends: step 2, then step 11

    def closed_form(step):
        if step <= rise:
            return start + (top - start) * (1 - math.cos(math.pi * step / rise)) / 2
        done = (step - rise) / (total - 1 - rise)
        return end + (top - end) * (1 + math.cos(math.pi * done)) / 2

    np.testing.assert_allclose(lrs, [closed_form(3 * epoch) for epoch in range(4)], rtol=1e-12)


def test_plateau_watches_the_validation_loss():
    seen = []

    class Watch(lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    clf = NeuralNetClassifier(
        (8,), max_iter=4, random_state=0, validation_data=(X[:30], y[:30]),
        lr_scheduler=partial(Watch, patience=0),
    )  # fmt: skip
    clf.fit(X, y)
    assert seen == clf.validation_loss_curve_
    clf.set_params(validation_data=None).fit(X, y)
    assert seen[4:] == clf.loss_curve_


def test_schedules_that_cannot_apply_say_why():
    with pytest.raises(ValueError, match="solver='lbfgs' has none"):
        NeuralNetClassifier((4,), solver="lbfgs", lr_scheduler=lr_scheduler.ConstantLR).fit(X, y)
    with pytest.raises(ValueError, match="learning_rate='invscaling' is a schedule already"):
        NeuralNetClassifier(
            (4,), solver="sgd", learning_rate="invscaling", lr_scheduler=lr_scheduler.ConstantLR
        ).fit(X, y)
    with pytest.raises(ValueError, match="partial_fit trains one epoch per call"):
        NeuralNetClassifier((4,), lr_scheduler=lr_scheduler.ConstantLR).partial_fit(
            X, y, classes=[0, 1, 2]
        )
    with pytest.raises(TypeError, match="returned float"):
        NeuralNetClassifier((4,), lr_scheduler=lambda optimizer: 0.1).fit(X, y)


def test_a_scheduled_fit_saves_without_its_schedule(tmp_path):
    clf = NeuralNetClassifier(
        (4,), max_iter=2, random_state=0, lr_scheduler=partial(lr_scheduler.StepLR, step_size=1)
    ).fit(X, y)
    clf.save(tmp_path / "clf.tnn")
    loaded, _ = load(tmp_path / "clf.tnn")
    assert loaded.lr_scheduler is None and loaded.history_["lr"] == clf.history_["lr"]
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_a_scheduled_fit_pickles_and_its_skops_file_names_the_schedule(tmp_path):
    clf = NeuralNetClassifier(
        (4,), max_iter=2, random_state=0, lr_scheduler=partial(lr_scheduler.StepLR, step_size=1)
    ).fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    assert copy.lr_scheduler.func is lr_scheduler.StepLR
    np.testing.assert_array_equal(copy.fit(X, y).predict_proba(X), clf.fit(X, y).predict_proba(X))
    sio.dump(clf, tmp_path / "clf.skops")
    untrusted = set(sio.get_untrusted_types(file=tmp_path / "clf.skops"))
    assert {"functools.partial", "tinynet.optim.lr_scheduler.StepLR"} <= untrusted
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match="StepLR"):
        skops_load(tmp_path / "clf.skops")
    loaded = skops_load(
        tmp_path / "clf.skops", trusted=["functools.partial", "tinynet.optim.lr_scheduler.StepLR"]
    )
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
