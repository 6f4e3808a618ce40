"""The estimators' ``check_gradients``: the training objective's gradient, parameter by
parameter, against finite differences; planted bugs are caught and named."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

import tinynet as tn
from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor
from tinynet.estimators._base import BaseNeuralNet

RNG = np.random.RandomState(0)
X = RNG.randn(30, 4)
WEIGHTS = RNG.uniform(0, 2, 30)
TARGETS = {
    "multiclass": RNG.randint(0, 3, 30),
    "binary": RNG.randint(0, 2, 30),
    "multilabel": RNG.randint(0, 2, (30, 2)),
    "squared_error": RNG.randn(30, 2),
    "poisson": RNG.poisson(2.0, 30).astype(float),
}
PARAMETER_NAMES = ["0.weight", "0.bias", "2.weight", "2.bias"]


def estimator(kind, **params):
    params = {"alpha": 0.5, "random_state": 0, **params}
    if kind in ("squared_error", "poisson"):
        return NeuralNetRegressor(loss=kind, hidden_layer_sizes=(5,), activation="tanh", **params)
    return NeuralNetClassifier((5,), activation="tanh", **params)


def fitted(kind, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few epochs on purpose
        return estimator(kind, max_iter=3, **params).fit(X, TARGETS[kind], sample_weight=WEIGHTS)


@pytest.mark.parametrize("kind", list(TARGETS))
def test_passes_on_fitted_and_unfitted_estimators(kind):
    y = TARGETS[kind]
    model = fitted(kind)
    before = [w.copy() for w in model.coefs_ + model.intercepts_]
    report = model.check_gradients(X, y, sample_weight=WEIGHTS)
    assert report.passed, str(report)
    assert report.names == PARAMETER_NAMES == [n for n, _ in model.module_.named_parameters()]
    assert [check.shape for check in report.inputs] == [p.shape for p in model.module_.parameters()]
    assert all(check.mode == "full" for check in report.inputs)  # all below max_elements
    assert all((a == b).all() for a, b in zip(before, model.coefs_ + model.intercepts_))

    fresh = estimator(kind)
    report = fresh.check_gradients(X, y, sample_weight=WEIGHTS)
    assert report.passed and report.names == PARAMETER_NAMES
    assert not hasattr(fresh, "module_")  # checked at fit's initial weights, still unfitted


def test_the_unfitted_check_starts_from_fits_initial_weights(monkeypatch):
    seen = []
    original = BaseNeuralNet._full_batch_objective

    def spy(self, *args, **kwargs):
        seen.append(self.module_[0].weight.data.copy())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BaseNeuralNet, "_full_batch_objective", spy)
    estimator("multiclass").check_gradients(X, TARGETS["multiclass"], fast_mode=True)
    # The first evaluation is at the start point: scikit-learn's Glorot draw for seed 0.
    bound = np.sqrt(6.0 / (4 + 5))
    expected = np.random.RandomState(0).uniform(-bound, bound, (4, 5)).T
    np.testing.assert_array_equal(seen[0], expected)


def test_report_table_modes_and_lookup():
    model = fitted("multiclass")
    report = model.check_gradients(X, TARGETS["multiclass"], max_elements=10)
    assert [check.mode for check in report.inputs] == ["fast", "full", "fast", "full"]
    assert report["0.bias"].shape == (5,) and report["0.bias"].worst_element is not None
    assert report["0.weight"].worst_element is None  # a projection has no worst element
    with pytest.raises(KeyError, match="no parameter 'out.weight'"):
        report["out.weight"]
    table = str(report).splitlines()
    assert table[0].startswith("gradient check of the training objective") and "passed" in table[0]
    assert [row.split()[0] for row in table[2:]] == PARAMETER_NAMES
    assert all(row.split()[-1] == "pass" for row in table[2:])
    forced = model.check_gradients(X, TARGETS["multiclass"], fast_mode=False, max_elements=1)
    assert all(check.mode == "full" for check in forced.inputs)
    assert isinstance(report, tn.GradcheckReport)


def forget_output_layer_penalty(apply_l2):
    """A planted bug: the L2 penalty's gradient misses the last weight matrix."""

    def buggy(self, sw_sum):
        value = apply_l2(self, sw_sum)
        last = self._penalized()[-1]
        last.grad.data[...] -= last.data * (self.alpha / sw_sum)
        return value

    return buggy


@pytest.mark.parametrize("fast_mode", [False, True])
def test_a_wrong_penalty_gradient_is_named_by_layer(monkeypatch, fast_mode):
    model = fitted("squared_error")
    monkeypatch.setattr(
        BaseNeuralNet, "_apply_l2", forget_output_layer_penalty(BaseNeuralNet._apply_l2)
    )
    report = model.check_gradients(
        X, TARGETS["squared_error"], sample_weight=WEIGHTS, fast_mode=fast_mode
    )
    assert [check.name for check in report.failures] == ["2.weight"]
    assert "FAIL" in str(report).splitlines()[4] and "2.weight" in str(report).splitlines()[4]
    message = report["2.weight"].describe()
    assert message.startswith("parameter '2.weight'") and "output element" not in message
    if not fast_mode:
        assert ", element (" in message


def test_a_wrong_activation_gradient_fails_the_layers_below_it():
    class WrongTanh(tn.Function):
        saves_output = True

        @staticmethod
        def forward(ctx, x):
            return np.tanh(x)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * (1.0 - ctx.output)  # the planted bug: y, not y**2

    model = NeuralNetRegressor(
        hidden_layer_sizes=(4, 3),
        activation=["tanh", WrongTanh.apply],
        solver="lbfgs",
        random_state=0,
    )
    report = model.check_gradients(X, TARGETS["squared_error"])
    # The second hidden activation sits after layer 2: layers 0 and 2 see its gradient.
    assert [check.name for check in report.failures] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]
    assert report["4.weight"].passed and report["4.bias"].passed


def test_a_wrong_loss_gradient_is_caught(monkeypatch):
    from tinynet.estimators import _losses

    model = fitted("squared_error")
    monkeypatch.setattr(_losses, "_slope", lambda kind, z, y: (z - y) * 1.01)
    report = model.check_gradients(X, TARGETS["squared_error"])
    assert not report.passed and "2.bias" in [check.name for check in report.failures]


def test_sample_weights_enter_the_checked_objective(monkeypatch):
    # A planted bug: the value weights the samples, the gradient does not.
    model = fitted("multiclass")
    assert model.check_gradients(X, TARGETS["multiclass"], sample_weight=WEIGHTS).passed
    original = BaseNeuralNet._data_loss

    def unweighted_gradient(self, raw, Y, weight, sw_sum):
        unweighted = original(self, raw, Y, None, Y.shape[0])
        value_only = original(self, raw.detach(), Y, weight, sw_sum) - unweighted.detach()
        return unweighted + value_only

    monkeypatch.setattr(BaseNeuralNet, "_data_loss", unweighted_gradient)
    report = model.check_gradients(X, TARGETS["multiclass"], sample_weight=WEIGHTS)
    assert not report.passed
    assert model.check_gradients(X, TARGETS["multiclass"]).passed  # no weights, no bug


def test_float32_sparse_adamw_and_custom_modules():
    sparse = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0).astype(np.float32))
    model = fitted("multiclass", optimizer="adamw", dtype="float32")
    report = model.check_gradients(sparse, TARGETS["multiclass"], sample_weight=WEIGHTS)
    assert report.passed  # adamw's decoupled decay is checked as the coupled penalty
    assert model.coefs_[0].dtype == np.float32  # the estimator keeps its dtype

    class Net(tn.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = tn.nn.Linear(4, 3, rng=0)
            self.out = tn.nn.Linear(3, 1, rng=1)

        def forward(self, x):
            return self.out(self.hidden(x).tanh())

    custom = NeuralNetRegressor(module=Net, alpha=0.3)
    report = custom.check_gradients(sparse, TARGETS["poisson"], sample_weight=WEIGHTS)
    assert report.passed and report.names == [
        "hidden.weight",
        "hidden.bias",
        "out.weight",
        "out.bias",
    ]


def test_input_errors():
    model = fitted("multiclass")
    with pytest.raises(ValueError, match="classes not in"):
        model.check_gradients(X, np.full(30, 7))
    with pytest.raises(ValueError, match="features"):
        model.check_gradients(X[:, :3], TARGETS["multiclass"])
