"""The stochastic solvers train through tn.compile: the same fitted weights, bit for bit,
as the eager loop, for classifiers and regressors and every stochastic optimizer."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris

import tinynet.estimators._base as base
from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

X, y = load_iris(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)


def fit(make, compiled, target, sample_weight=None):
    previous = base.COMPILE_STEPS
    base.COMPILE_STEPS = compiled
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make().fit(X, target, sample_weight=sample_weight)
    finally:
        base.COMPILE_STEPS = previous


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_fit_gives_the_eager_weights_bit_for_bit(solver, kind, dtype):
    cls = NeuralNetClassifier if kind == "classifier" else NeuralNetRegressor
    target = y if kind == "classifier" else X[:, 0] * 2 + y

    def make():
        return cls(
            hidden_layer_sizes=(8,), solver=solver, batch_size=32, max_iter=4,
            alpha=1e-3, random_state=0, dtype=dtype,
        )  # fmt: skip

    eager, compiled = fit(make, False, target), fit(make, True, target)
    assert compiled.loss_curve_ == eager.loss_curve_
    for a, b in zip(eager.coefs_ + eager.intercepts_, compiled.coefs_ + compiled.intercepts_):
        assert a.dtype == b.dtype == dtype
        assert a.tobytes() == b.tobytes()
    (_, _, step), *_ = [entry for key, entry in base._COMPILED_STEPS.items() if key is compiled]
    assert step._eager_reason is None
    assert any(type(entry).__name__ == "Program" for entry in step._entries.values())


def test_compiled_fit_leaves_the_last_batchs_gradients_and_records_each_shape_twice():
    # Callbacks (the lab's TrainingDoctor) read the gradients of the epoch's last batch.
    def make():
        return NeuralNetClassifier(
            hidden_layer_sizes=(8,), batch_size=40, max_iter=3, random_state=0
        )

    eager, compiled = fit(make, False, y), fit(make, True, y)
    for a, b in zip(eager.module_.parameters(), compiled.module_.parameters()):
        assert a.grad.data.tobytes() == b.grad.data.tobytes()
    (_, _, step), *_ = [entry for key, entry in base._COMPILED_STEPS.items() if key is compiled]
    # Batches of 40 and a last one of 30: two shapes, each recorded in its first two calls.
    assert step._traces == 4 and len(step._entries) == 2


WEIGHTED = [
    ("classifier", "sample_weight"),
    ("classifier", "class_weight"),
    ("classifier", "zero_weight_batch"),
    ("binary", "sample_weight"),
    ("binary", "class_weight"),
    ("regressor", "sample_weight"),
    ("regressor", "zero_weight_batch"),
]


@pytest.mark.parametrize(("kind", "weighting"), WEIGHTED)
def test_weighted_fits_are_compiled_and_give_the_eager_weights_bit_for_bit(kind, weighting):
    target = {"classifier": y, "binary": y == 2, "regressor": X[:, 0] * 2 + y}[kind]
    weight = np.random.default_rng(0).uniform(0.1, 2.0, len(y))
    if weighting == "zero_weight_batch":
        weight[:32] = 0.0  # with shuffle=False, a whole batch without weight: skipped
    extra = {"class_weight": "balanced"} if weighting == "class_weight" else {}
    cls = NeuralNetRegressor if kind == "regressor" else NeuralNetClassifier

    def make():
        return cls(hidden_layer_sizes=(8,), batch_size=32, max_iter=4, alpha=1e-3,
                   shuffle=weighting != "zero_weight_batch", random_state=0, **extra)  # fmt: skip

    sample_weight = None if weighting == "class_weight" else weight
    eager = fit(make, False, target, sample_weight)
    compiled = fit(make, True, target, sample_weight)
    assert compiled.loss_curve_ == eager.loss_curve_
    for a, b in zip(eager.coefs_ + eager.intercepts_, compiled.coefs_ + compiled.intercepts_):
        assert a.tobytes() == b.tobytes()
    (_, _, step), *_ = [entry for key, entry in base._COMPILED_STEPS.items() if key is compiled]
    assert step._eager_reason is None
    assert any(type(entry).__name__ == "Program" for entry in step._entries.values())


LOSS_OF = {
    "classifier": "_SoftmaxCrossEntropy",
    "binary": "_ElementwiseLoss",  # logistic
    "regressor": "_ElementwiseLoss",  # identity
}


@pytest.mark.parametrize("kind", list(LOSS_OF))
@pytest.mark.parametrize("sample_weight", [None, "uniform"])
def test_the_losses_replay_through_their_registered_kernels(kind, sample_weight, monkeypatch):
    # Only the recorded calls run the loss's own forward and backward; replays run its
    # kernel (_losses.py), and the weights stay the eager ones (the tests above).
    from tinynet.estimators import _losses

    calls = []
    loss = getattr(_losses, LOSS_OF[kind])
    for method in ("forward", "backward"):
        original = getattr(loss, method)

        def counted(ctx, *args, _original=original, _method=method):
            calls.append(_method)
            return _original(ctx, *args)

        monkeypatch.setattr(loss, method, staticmethod(counted))
    weight = None if sample_weight is None else np.random.default_rng(0).uniform(0.5, 2, len(y))
    target = {"classifier": y, "binary": y == 2, "regressor": X[:, 0] * 2 + y}[kind]
    cls = NeuralNetRegressor if kind == "regressor" else NeuralNetClassifier

    def make():
        return cls(hidden_layer_sizes=(8,), batch_size=40, max_iter=3, random_state=0)

    compiled = fit(make, True, target, weight)
    (_, _, step), *_ = [entry for key, entry in base._COMPILED_STEPS.items() if key is compiled]
    # Two batch shapes (40 and a last one of 30), 12 steps in all. Without sample weights
    # each shape is recorded twice: the loss's weight 1 / n is a constant that differs by
    # shape. Sample weights are an argument: the last batch's one recorded call did what
    # the first shape's program does, and became its program (tn.compile's guards).
    recorded = 4 if sample_weight is None else 3
    assert step._traces == recorded
    assert calls.count("forward") == calls.count("backward") == recorded


def test_a_poisson_fit_replays_the_eager_weights_bit_for_bit():
    def make():
        return NeuralNetRegressor(hidden_layer_sizes=(8,), loss="poisson", batch_size=32,
                                  max_iter=4, alpha=1e-3, random_state=0)  # fmt: skip

    target = y + 0.5
    eager, compiled = fit(make, False, target), fit(make, True, target)
    assert compiled.loss_curve_ == eager.loss_curve_
    for a, b in zip(eager.coefs_ + eager.intercepts_, compiled.coefs_ + compiled.intercepts_):
        assert a.tobytes() == b.tobytes()
    (_, _, step), *_ = [entry for key, entry in base._COMPILED_STEPS.items() if key is compiled]
    assert any(type(entry).__name__ == "Program" for entry in step._entries.values())
