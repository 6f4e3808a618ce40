"""What tinynet's estimators add to scikit-learn's MLP, and the inputs they accept."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import tinynet as tn
import tinynet.nn as nn
from tinynet import optim
from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # OpenBLAS's thread wake-ups cost more than these tiny products.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# -- activations ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "activation", ["identity", "logistic", "tanh", "relu", "gelu", "elu", "leaky_relu", "softplus",
                   "silu", "sigmoid"],
)  # fmt: skip
def test_every_named_activation_trains(iris, activation):
    X, y = iris
    clf = NeuralNetClassifier((16,), activation=activation, solver="lbfgs", max_iter=200)
    assert clf.set_params(random_state=0).fit(X, y).score(X, y) > 0.9


def test_activation_per_layer_and_callables_build_the_network(iris):
    X, y = iris
    clf = NeuralNetClassifier(
        (6, 5, 4), activation=["tanh", tn.sigmoid, nn.GELU], solver="lbfgs", random_state=0
    ).fit(X, y)
    kinds = [m._get_name() for m in clf.module_]
    assert kinds == ["Linear", "Tanh", "Linear", "_Elementwise", "Linear", "GELU", "Linear"]
    assert clf.n_layers_ == 5 and clf.score(X, y) > 0.9
    # The callable really is the second activation.
    before = clf.module_[:3](tn.Tensor(X)).data
    after = clf.module_[:4](tn.Tensor(X)).data
    np.testing.assert_allclose(after, 1 / (1 + np.exp(-before)), rtol=1e-12)
    with pytest.raises(ValueError, match="one activation per hidden layer"):
        NeuralNetClassifier((4, 4), activation=["relu"]).fit(X, y)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        NeuralNetClassifier((4,), activation=["swish"]).fit(X, y)


# -- optimizers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_optimizer_names_select_tinynet_optimizers(iris, name):
    X, y = iris
    clf = NeuralNetClassifier((16,), optimizer=name, solver="lbfgs", learning_rate_init=0.05)
    clf.set_params(max_iter=150, random_state=0).fit(X, y)
    expected = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW,
                "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}[name]  # fmt: skip
    assert type(clf._optimizer) is expected  # optimizer overrides solver='lbfgs'
    assert len(clf.loss_curve_) == clf.n_iter_ and clf.score(X, y) > 0.85


def test_optimizer_function_and_adamw_decoupled_decay(iris):
    X, y = iris
    made = []

    def make(params):
        made.append(optim.SGD(params, lr=0.05, momentum=0.5))
        return made[-1]

    clf = NeuralNetClassifier((8,), optimizer=make, max_iter=5, random_state=0).fit(X, y)
    assert clf._optimizer is made[0] and made[0].param_groups[0]["momentum"] == 0.5
    with pytest.raises(TypeError, match="tinynet.optim.Optimizer"):
        NeuralNetClassifier((8,), optimizer=lambda params: "sgd").fit(X, y)
    adamw = NeuralNetClassifier((8,), optimizer="adamw", alpha=0.5, random_state=0).fit(X, y)
    decays = sorted(group["weight_decay"] for group in adamw._optimizer.param_groups)
    assert decays == [0.0, 0.5]  # weights decay by alpha, biases do not


# -- dropout, class weights, sample weights --------------------------------------------------------
def test_dropout_trains_only_in_training_mode(iris):
    X, y = iris
    clf = NeuralNetClassifier((32,), dropout=0.5, max_iter=100, learning_rate_init=0.01)
    clf.set_params(random_state=0).fit(X, y)
    assert [m._get_name() for m in clf.module_] == ["Linear", "ReLU", "Dropout", "Linear"]
    assert not clf.module_.training
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))  # deterministic
    assert clf.score(X, y) > 0.85
    without = NeuralNetClassifier((32,), max_iter=100, learning_rate_init=0.01, random_state=0)
    assert without.fit(X, y).loss_ < clf.loss_  # dropout noise raises the training loss
    with pytest.raises(ValueError, match="dropout"):
        NeuralNetClassifier((4,), dropout=0.2, solver="lbfgs").fit(X, y)


def test_class_weight_dict_and_balanced_reweight_the_loss():
    X, y = make_classification(300, 5, weights=[0.9, 0.1], random_state=0)
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200, random_state=0)
    plain = NeuralNetClassifier(**params).fit(X, y)
    balanced = NeuralNetClassifier(class_weight="balanced", **params).fit(X, y)
    assert balanced.predict(X).mean() > plain.predict(X).mean()  # more minority predictions
    # A class weight is exactly a sample weight for the samples of that class.
    weighted = NeuralNetClassifier(class_weight={0: 1.0, 1: 4.0}, **params).fit(X, y)
    by_samples = NeuralNetClassifier(**params).fit(X, y, sample_weight=np.where(y == 1, 4.0, 1.0))
    np.testing.assert_allclose(weighted.predict_proba(X), by_samples.predict_proba(X), atol=1e-10)


def test_sample_weight_zero_removes_and_integer_repeats_samples(iris):
    X, y = iris
    weight = np.random.RandomState(0).randint(0, 3, len(y))
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50, random_state=0)
    weighted = NeuralNetClassifier(**params).fit(X, y, sample_weight=weight)
    repeated = NeuralNetClassifier(**params).fit(X.repeat(weight, 0), y.repeat(weight))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-8)
    # partial_fit takes sample weights too (full batches: equal to repeating).
    a = NeuralNetRegressor(hidden_layer_sizes=(4,), solver="sgd", random_state=0)
    b = NeuralNetRegressor(hidden_layer_sizes=(4,), solver="sgd", random_state=0)
    a.partial_fit(X, y, sample_weight=weight)
    b.partial_fit(X.repeat(weight, 0), y.repeat(weight))
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-10)


# -- validation data, curves, callbacks ----------------------------------------------------------
def test_validation_data_gives_scores_and_loss_curve(iris):
    X, y = iris
    rng = np.random.RandomState(0)
    order = rng.permutation(len(y))
    train, val = order[:100], order[100:]
    clf = NeuralNetClassifier(
        (16,), max_iter=20, learning_rate_init=0.01, validation_data=(X[val], y[val]),
        random_state=0,
    ).fit(X[train], y[train])  # fmt: skip
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == 20
    # The recorded numbers are the final network's accuracy and mean log-loss on X_val.
    assert clf.validation_scores_[-1] == clf.score(X[val], y[val])
    proba = clf.predict_proba(X[val])
    log_loss = -np.mean(np.log(proba[np.arange(len(val)), y[val]]))
    assert clf.validation_loss_curve_[-1] == pytest.approx(log_loss, rel=1e-10)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.validation_loss_curve_[-1] < clf.validation_loss_curve_[0]


def test_validation_data_drives_early_stopping_and_best_weights_return(iris):
    X, y = iris
    clf = NeuralNetClassifier(
        (16,), early_stopping=True, validation_data=(X[::3], y[::3]), n_iter_no_change=3,
        learning_rate_init=0.05, max_iter=500, random_state=0,
    ).fit(X, y)  # fmt: skip
    assert clf.n_iter_ < 500 and clf.best_loss_ is None
    assert clf.score(X[::3], y[::3]) == clf.best_validation_score_
    regressor = NeuralNetRegressor(
        hidden_layer_sizes=(8,), early_stopping=True, max_iter=300, random_state=0
    ).fit(X[:, :3], X[:, 3])
    assert regressor.validation_scores_ and regressor.best_validation_score_ <= 1


def test_callbacks_see_the_history_and_can_stop_training(iris):
    X, y = iris
    seen = []

    def record(estimator, history):
        seen.append((estimator, {key: list(value) for key, value in history.items()}))

    def stop_at_three(estimator, history):
        return history["epoch"][-1] == 3

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a callback stop never warns
        clf = NeuralNetClassifier((8,), max_iter=50, callbacks=[record, stop_at_three])
        clf.set_params(validation_data=(X, y), random_state=0).fit(X, y)
    assert clf.n_iter_ == 3 and len(seen) == 3
    estimator, history = seen[-1]
    assert estimator is clf
    assert set(history) == {"epoch", "loss", "val_loss", "val_score", "time", "lr"}
    assert history["lr"] == [0.001] * 3  # learning_rate_init, constant
    assert history["epoch"] == [1, 2, 3] and history["loss"] == clf.loss_curve_
    assert history["val_score"] == clf.validation_scores_
    assert history["time"] == sorted(history["time"])
    lbfgs = NeuralNetClassifier((8,), solver="lbfgs", max_iter=50, callbacks=[stop_at_three])
    assert lbfgs.set_params(random_state=0).fit(X, y).n_iter_ == 3
    assert lbfgs.history_["val_loss"] == [None, None, None]
    assert lbfgs.history_["lr"] == [None, None, None]  # a full-batch solver has none


# -- custom modules -------------------------------------------------------------------------------
class TwoLayer(nn.Module):
    def __init__(self, n_in=4, n_out=3):
        super().__init__()
        self.hidden = nn.Linear(n_in, 16, rng=0, dtype=np.float64)
        self.norm = nn.LayerNorm(16, dtype=np.float64)
        self.out = nn.Linear(16, n_out, rng=1, dtype=np.float64)

    def forward(self, x):
        return self.out(self.norm(self.hidden(x)).tanh())


def test_custom_module_instance_is_copied_and_trained(iris):
    X, y = iris
    network = TwoLayer()
    before = network.state_dict()
    clf = NeuralNetClassifier(module=network, max_iter=100, learning_rate_init=0.01).fit(X, y)
    assert clf.module_ is not network
    for key, value in network.state_dict().items():
        np.testing.assert_array_equal(value, before[key])  # the parameter is left untouched
    assert clf.score(X, y) > 0.9 and clf.n_layers_ == 3 and len(clf.coefs_) == 2
    assert clf.coefs_[0].shape == (4, 16)


def test_custom_module_factory_binary_and_regression(iris):
    X, y = iris
    binary = (y == 2).astype(int)
    one_logit = NeuralNetClassifier(module=lambda: TwoLayer(4, 1), solver="lbfgs").fit(X, binary)
    two_logits = NeuralNetClassifier(module=lambda: TwoLayer(4, 2), solver="lbfgs").fit(X, binary)
    assert one_logit.out_activation_ == "logistic" and two_logits.out_activation_ == "softmax"
    for clf in (one_logit, two_logits):
        assert clf.predict_proba(X).shape == (150, 2) and clf.score(X, binary) > 0.95
    reg = NeuralNetRegressor(module=lambda: TwoLayer(3, 1), solver="lbfgs", max_iter=100)
    assert reg.fit(X[:, :3], X[:, 3]).score(X[:, :3], X[:, 3]) > 0.9
    with pytest.raises(ValueError, match="module has 2 outputs, but there are 3 classes"):
        NeuralNetClassifier(module=lambda: TwoLayer(4, 2)).fit(X, y)
    with pytest.raises(TypeError, match="returns one"):
        NeuralNetClassifier(module=lambda: "not a module").fit(X, y)


# -- inputs -------------------------------------------------------------------------------------
def test_sparse_input_is_never_densified(iris, monkeypatch):
    X, y = iris
    X = np.where(np.abs(X) < 0.5, 0.0, X)
    n_features = X.shape[1]

    def refusing(method):
        def guarded(self, *args, **kwargs):
            # scikit-learn's label binarizer densifies its own (n, n_classes) matrices.
            if self.shape[1] == n_features:
                raise AssertionError("the sparse input was densified")
            return method(self, *args, **kwargs)

        return guarded

    for container in (sp.csr_matrix, sp.csc_matrix, sp.csr_array):
        for name in ("toarray", "todense"):
            monkeypatch.setattr(container, name, refusing(getattr(container, name)))
    for container in (sp.csr_matrix, sp.csc_matrix, sp.csr_array):
        for solver in ("adam", "lbfgs"):
            clf = NeuralNetClassifier((8,), solver=solver, max_iter=10, random_state=0)
            reference = clf.fit(X, y).predict_proba(X)
            sparse = clf.fit(container(X), y)
            np.testing.assert_allclose(sparse.predict_proba(container(X)), reference, atol=1e-10)
            np.testing.assert_allclose(sparse.predict_proba(X), reference, atol=1e-10)


def test_float32_stays_float32(iris):
    X, y = iris
    X32 = X.astype(np.float32)
    clf = NeuralNetClassifier((8,), max_iter=20, random_state=0).fit(X32, y)
    assert all(p.dtype == np.float32 for p in clf.module_.parameters())
    assert clf.predict_proba(X32).dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32  # the network's dtype decides
    reg = NeuralNetRegressor(hidden_layer_sizes=(8,), max_iter=5).fit(X32, y.astype(np.float32))
    assert reg.predict(X32).dtype == np.float32 and reg.coefs_[0].dtype == np.float32
    forced = NeuralNetClassifier((8,), dtype="float32", max_iter=5).fit(X, y)
    assert forced.coefs_[0].dtype == np.float32
    as_type = NeuralNetClassifier((8,), dtype=np.float64, max_iter=5).fit(X32, y)
    assert as_type.coefs_[0].dtype == np.float64


def test_string_labels_multilabel_and_dataframes(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    clf = NeuralNetClassifier((8,), solver="lbfgs", random_state=0).fit(X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert clf.predict(X[:3]).tolist() == ["setosa"] * 3 and clf.score(X, names) > 0.9

    labels = np.stack([y == 0, y == 2, X[:, 0] > 0], axis=1).astype(int)
    multi = NeuralNetClassifier((16,), solver="lbfgs", random_state=0).fit(X, labels)
    assert multi.out_activation_ == "logistic" and multi.predict(X).shape == (150, 3)
    proba = multi.predict_proba(X)
    assert proba.shape == (150, 3) and ((proba > 0.5) == multi.predict(X)).all()
    np.testing.assert_allclose(multi.predict_log_proba(X), np.log(proba), rtol=1e-10, atol=1e-15)

    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    fitted = NeuralNetClassifier((8,), max_iter=5, random_state=0).fit(frame, pd.Series(y))
    assert list(fitted.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        fitted.predict(X)


def test_log_proba_is_exact_where_proba_underflows():
    X = np.array([[-1.0], [1.0]])
    clf = NeuralNetClassifier((), solver="lbfgs", alpha=0.0, random_state=0).fit(X, [0, 1])
    # Logits of +-2000: the probabilities round to exactly 0 and 1.
    clf.coefs_, clf.intercepts_ = [np.array([[2000.0]])], [np.zeros(1)]
    log_proba = clf.predict_log_proba(X)
    assert np.isfinite(log_proba).all()
    np.testing.assert_allclose(log_proba, [[0.0, -2000.0], [-2000.0, 0.0]], atol=1e-12)
    multi = NeuralNetClassifier((), solver="lbfgs", random_state=0).fit(
        np.eye(3), [0, 1, 2]
    )  # fmt: skip
    multi.coefs_, multi.intercepts_ = [np.eye(3) * 1000.0], [np.zeros(3)]
    np.testing.assert_allclose(np.diag(multi.predict_log_proba(np.eye(3))), 0.0, atol=1e-12)
    assert np.isfinite(multi.predict_log_proba(np.eye(3))).all()


def test_coefs_and_intercepts_are_views_of_the_network(iris):
    X, y = iris
    clf = NeuralNetClassifier((5,), max_iter=3, random_state=0).fit(X, y)
    first = clf.module_[0]
    np.testing.assert_array_equal(clf.coefs_[0], first.weight.data.T)
    clf.coefs_[0][0, 0] = 42.0
    assert first.weight.data[0, 0] == 42.0
    clf.intercepts_ = [np.zeros(5), np.ones(3)]
    np.testing.assert_array_equal(clf.module_[2].bias.data, np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        clf.coefs_ = [np.zeros((5, 4)), np.zeros((5, 3))]
    with pytest.raises(AttributeError):
        NeuralNetClassifier().coefs_  # noqa: B018


def test_no_hidden_layer_is_logistic_regression(iris):
    X, y = iris
    clf = NeuralNetClassifier(hidden_layer_sizes=(), solver="lbfgs", max_iter=500).fit(X, y)
    assert clf.n_layers_ == 2 and clf.coefs_[0].shape == (4, 3) and clf.score(X, y) > 0.95
