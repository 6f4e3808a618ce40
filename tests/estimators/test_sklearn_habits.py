"""What scikit-learn users do beyond ``check_estimator``: seeds, refits, warm starts, pandas,
pickling, parallel searches, sample weights, early stopping and target shapes. The truth
is scikit-learn's MLP on the same data (its weights start as tinynet's for the same seed)
or its documented semantics."""

import copy
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tinynet import nn
from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor, _base, load

pd = pytest.importorskip("pandas")

rng = np.random.RandomState(0)
X = rng.randn(48, 3)
y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
y_reg = X @ [1.0, -2.0, 0.5]
SGD = {"hidden_layer_sizes": (5,), "solver": "sgd", "learning_rate_init": 0.05, "max_iter": 4}


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def weights(model) -> np.ndarray:
    return np.concatenate([a.ravel() for a in (*model.coefs_, *model.intercepts_)])


def assert_same_network(ours, reference, rtol=1e-10):
    for a, b in zip(ours.coefs_ + ours.intercepts_, reference.coefs_ + reference.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-13)


# -- 1. random_state ----------------------------------------------------------------------------
def test_random_state_int_instance_none_and_clone():
    first = NeuralNetClassifier(random_state=0, **SGD).fit(X, y)
    assert np.array_equal(
        weights(first), weights(NeuralNetClassifier(random_state=0, **SGD).fit(X, y))
    )
    # A RandomState instance advances from fit to fit, exactly as scikit-learn's MLP's does.
    ours = NeuralNetClassifier(random_state=np.random.RandomState(3), **SGD)
    reference = MLPClassifier(random_state=np.random.RandomState(3), **SGD)
    once = weights(ours.fit(X, y))
    reference.fit(X, y)
    assert_same_network(ours.fit(X, y), reference.fit(X, y))
    assert not np.array_equal(once, weights(ours))
    unseeded = NeuralNetClassifier(**SGD)
    assert not np.array_equal(weights(unseeded.fit(X, y)), weights(unseeded.fit(X, y)))
    copy_ = clone(first)
    assert copy_.get_params()["random_state"] == 0 and not hasattr(copy_, "module_")


# -- 2. refitting ---------------------------------------------------------------------------------
def test_a_second_fit_on_other_data_resets_everything():
    X2 = rng.randn(30, 5)
    y2 = np.array(["no", "yes"])[np.arange(30) % 2]
    model = NeuralNetClassifier(random_state=0, **SGD)
    model.fit(pd.DataFrame(X, columns=list("abc")), y)
    first_step = _base._COMPILED_STEPS[model]
    model.fit(X2, y2)
    fresh = NeuralNetClassifier(random_state=0, **SGD).fit(X2, y2)
    assert list(model.classes_) == ["no", "yes"] and model.n_features_in_ == 5
    assert not hasattr(model, "feature_names_in_")
    assert np.array_equal(weights(model), weights(fresh))
    assert np.array_equal(model.predict_proba(X2), fresh.predict_proba(X2))
    assert _base._COMPILED_STEPS[model] is not first_step
    assert _base._COMPILED_STEPS[model][0] is model.module_
    model.set_params(hidden_layer_sizes=(4, 2)).fit(X, y)
    assert [c.shape for c in model.coefs_] == [(3, 4), (4, 2), (2, 3)]


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_warm_start_and_partial_fit_continue_as_scikit_learn(how):
    ours = NeuralNetClassifier(random_state=0, warm_start=how == "warm_start", **SGD)
    reference = MLPClassifier(random_state=0, warm_start=how == "warm_start", **SGD)
    for model in (ours, reference):
        model.fit(X, y)
        if how == "warm_start":
            model.fit(X, y)
        else:
            model.partial_fit(X[:20], y[:20]).partial_fit(X[y == 0], y[y == 0])
    assert_same_network(ours, reference)
    assert (ours.n_iter_, ours.t_) == (reference.n_iter_, reference.t_)


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_a_changed_activation_trains_on_as_scikit_learn(how):
    # scikit-learn's MLP looks its activation up at every forward pass: after
    # set_params(activation=...) a warm start trains on with the new one. tinynet used to
    # keep training the old network's activations, silently.
    ours = NeuralNetClassifier(random_state=0, warm_start=True, **SGD).fit(X, y)
    reference = MLPClassifier(random_state=0, warm_start=True, **SGD).fit(X, y)
    for model in (ours, reference):
        model.set_params(activation="tanh")
        model.fit(X, y) if how == "warm_start" else model.partial_fit(X, y)
    assert_same_network(ours, reference)
    assert isinstance(ours.module_[1], nn.Tanh)
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), rtol=1e-10)


def test_a_changed_dropout_is_used_by_a_warm_start():
    model = NeuralNetClassifier(random_state=0, warm_start=True, **SGD).fit(X, y)
    model.set_params(dropout=0.5).fit(X, y)
    drops = [layer for layer in model.module_ if isinstance(layer, nn.Dropout)]
    assert [layer.p for layer in drops] == [0.5]
    model.set_params(dropout=0.0).fit(X, y)
    assert not any(isinstance(layer, nn.Dropout) for layer in model.module_)


def test_partial_fit_classes_then_a_subset():
    ours = NeuralNetClassifier(random_state=0, **SGD).partial_fit(X, y, classes=[0, 1, 2, 3])
    reference = MLPClassifier(random_state=0, **SGD).partial_fit(X, y, classes=[0, 1, 2, 3])
    for model in (ours, reference):
        model.partial_fit(X[y == 1], y[y == 1])
    assert list(ours.classes_) == [0, 1, 2, 3] and ours.predict_proba(X).shape == (48, 4)
    assert_same_network(ours, reference)


# -- 3. pandas --------------------------------------------------------------------------------------
def test_dataframes_series_and_feature_names_as_scikit_learn():
    frame = pd.DataFrame(X, columns=list("abc"))
    labels = pd.Series(np.array(["x", "y", "z"])[y], name="label")
    fitted = {
        E: E(random_state=0, **SGD).fit(frame, labels) for E in (MLPClassifier, NeuralNetClassifier)
    }
    ours, reference = fitted[NeuralNetClassifier], fitted[MLPClassifier]
    assert list(ours.feature_names_in_) == ["a", "b", "c"]
    assert list(ours.classes_) == ["x", "y", "z"]
    np.testing.assert_array_equal(ours.predict(frame), reference.predict(frame))
    for changed in (frame[["c", "b", "a"]], frame.rename(columns={"a": "q"})):
        messages = []
        for model in (reference, ours):
            with pytest.raises(ValueError) as error:
                model.predict(changed)
            messages.append(str(error.value))
        assert messages[0] == messages[1]
    with pytest.warns(UserWarning, match="NeuralNetClassifier was fitted with feature names"):
        ours.predict(X)
    assert not hasattr(ours, "set_output") and not hasattr(reference, "set_output")


# -- 4. pickle, deepcopy, clone -----------------------------------------------------------------------
@pytest.mark.parametrize("copier", [lambda m: pickle.loads(pickle.dumps(m)), copy.deepcopy])
def test_copies_predict_and_train_on_bit_identically(copier):
    original = NeuralNetClassifier(random_state=0, **SGD).fit(X, y)
    twin = copier(original)
    assert np.array_equal(twin.predict_proba(X), original.predict_proba(X))
    for model in (original, twin):
        model.partial_fit(X, y)
        model.set_params(warm_start=True).fit(X, y)
    assert np.array_equal(weights(twin), weights(original))
    assert not hasattr(clone(original), "module_")


# -- 5. parallel model selection --------------------------------------------------------------------
def test_cross_val_score_in_two_processes_equals_one():
    pipeline = make_pipeline(StandardScaler(), NeuralNetRegressor(random_state=0, **SGD))
    serial = cross_val_score(pipeline, X, y_reg, cv=3)
    parallel = cross_val_score(pipeline, X, y_reg, cv=3, n_jobs=2)
    assert np.array_equal(serial, parallel)


# -- 6. sample weights --------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_sample_weights_ones_repeats_and_zeros(solver):
    params = {"hidden_layer_sizes": (4,), "solver": solver, "max_iter": 20, "random_state": 0}
    if solver == "adam":
        params["batch_size"] = 8  # several batches per epoch
    plain = NeuralNetRegressor(**params).fit(X, y_reg)
    ones = NeuralNetRegressor(**params).fit(X, y_reg, sample_weight=np.ones(48))
    assert np.array_equal(weights(plain), weights(ones))
    # Integer weights equal repeated rows and zero weights equal dropped rows when every
    # epoch is one batch (minibatches would group the samples differently).
    params.update(batch_size="auto", shuffle=False)
    counts = np.arange(48) % 3
    weighted = NeuralNetRegressor(**params).fit(X, y_reg, sample_weight=counts)
    repeated = NeuralNetRegressor(**params).fit(np.repeat(X, counts, 0), np.repeat(y_reg, counts))
    np.testing.assert_allclose(weights(weighted), weights(repeated), rtol=1e-7, atol=1e-10)


# -- 7. early stopping --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {"tol": 1e-2, "n_iter_no_change": 2},
        {"tol": 0.05, "n_iter_no_change": 1, "validation_fraction": 0.3},
    ],
)
def test_early_stopping_follows_scikit_learns_definitions(kwargs):
    params = {**SGD, "max_iter": 100, "learning_rate_init": 0.01, "early_stopping": True, **kwargs}
    ours = NeuralNetRegressor(random_state=1, **params).fit(X, y_reg)
    reference = MLPRegressor(random_state=1, **params).fit(X, y_reg)
    assert ours.n_iter_ == reference.n_iter_ < 100
    assert len(ours.loss_curve_) == len(ours.validation_scores_) == ours.n_iter_
    np.testing.assert_allclose(ours.validation_scores_, reference.validation_scores_, rtol=1e-9)
    assert ours.best_loss_ is None and reference.best_loss_ is None
    assert_same_network(ours, reference)
    binary = y > 0
    ours = NeuralNetClassifier(random_state=1, **params).fit(X, binary)
    reference = MLPClassifier(random_state=1, **params).fit(X, binary)
    assert ours.validation_scores_ == reference.validation_scores_
    assert_same_network(ours, reference)


def test_the_early_stopping_split_of_a_multiclass_target_is_stratified(monkeypatch):
    seen = {}

    def spy(self, validation):
        seen["y_val"] = validation[3]
        return original(self, validation)

    original = NeuralNetClassifier._evaluate
    monkeypatch.setattr(NeuralNetClassifier, "_evaluate", spy)
    labels = np.repeat([0, 1, 2], [24, 16, 8])
    NeuralNetClassifier(random_state=0, early_stopping=True, validation_fraction=0.25, **SGD).fit(
        X, labels
    )
    assert np.bincount(seen["y_val"]).tolist() == [6, 4, 2]


# -- 8. target shapes ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind, target",
    [
        ("clf", np.array(["no", "yes"])[y % 2]),
        ("clf", np.c_[y == 0, y == 1, y == 2].astype(int)),
        ("reg", y_reg[:, None]),
        ("reg", np.c_[y_reg, -y_reg]),
    ],
)
def test_output_shapes_as_scikit_learn(kind, target):
    Ours, Reference = (
        (NeuralNetClassifier, MLPClassifier)
        if kind == "clf"
        else (NeuralNetRegressor, MLPRegressor)
    )
    caught = []
    for Estimator in (Ours, Reference):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            caught.append(Estimator(random_state=0, **SGD).fit(X, target))
        caught.append(sorted({w.category.__name__ for w in record} - {"ConvergenceWarning"}))
    ours, ours_warnings, reference, reference_warnings = caught
    assert ours_warnings == reference_warnings
    assert ours.predict(X).shape == reference.predict(X).shape
    assert ours.predict(X).dtype == reference.predict(X).dtype
    if kind == "clf":
        assert ours.predict_proba(X).shape == reference.predict_proba(X).shape
        np.testing.assert_array_equal(ours.predict(X), reference.predict(X))


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_a_changed_dtype_continues_in_it(how):
    # tinynet used to keep training in the fitted dtype after set_params(dtype=...), silently.
    model = NeuralNetClassifier(random_state=0, warm_start=True, **SGD).fit(X, y)
    reference = NeuralNetClassifier(random_state=0, warm_start=True, dtype="float32", **SGD)
    reference.fit(X, y)
    reference.coefs_, reference.intercepts_ = model.coefs_, model.intercepts_  # cast
    for estimator in (model.set_params(dtype="float32"), reference):
        estimator.fit(X, y) if how == "warm_start" else estimator.partial_fit(X, y)
    assert all(a.dtype == np.float32 for a in model.coefs_ + model.intercepts_)
    if how == "warm_start":  # a fresh optimizer in both
        assert np.array_equal(weights(model), weights(reference))
    else:
        buffers = [state["momentum_buffer"] for state in model._optimizer.state.values()]
        assert buffers and all(buffer.dtype == np.float32 for buffer in buffers)
    assert model.predict_proba(X).dtype == np.float32


@pytest.mark.parametrize("before, after", [(None, "module"), ("module", None)])
def test_switching_between_the_built_in_network_and_a_module_is_refused_warm(before, after):
    def network():
        return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 3))

    model = NeuralNetClassifier(
        random_state=0, warm_start=True, module=before and network, **SGD
    ).fit(X, y)
    model.set_params(module=after and network)
    with pytest.raises(ValueError, match="refit with warm_start=False"):
        model.fit(X, y)


def test_another_module_architecture_is_refused_warm_and_the_same_one_continues():
    # module=... replaced by a module of another architecture kept training the old
    # network, silently; an equal architecture (a fresh copy, a reloaded estimator) goes on.
    def network(hidden):
        return nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, 3))

    model = NeuralNetClassifier(random_state=0, warm_start=True, module=network(5), **SGD)
    model.fit(X, y)
    model.set_params(module=network(5))
    model.fit(X, y)  # the same architecture: trains on
    model.set_params(module=network(7))
    with pytest.raises(ValueError, match="another architecture"):
        model.fit(X, y)


def test_early_stopping_warm_start_keeps_the_best_validation_weights():
    # scikit-learn's MLP aliases its best coefficients with the trained ones after the first
    # fit, so a warm-started fit without a better score returns its last weights; tinynet
    # returns the best ones, as both document.
    params = {**SGD, "max_iter": 50, "n_iter_no_change": 2, "tol": 0.01}
    model = NeuralNetClassifier(random_state=0, early_stopping=True, warm_start=True, **params)
    model.fit(X, y > 0)
    best, score = weights(model), model.best_validation_score_
    model.fit(X, y > 0)
    assert max(model.validation_scores_[-model.n_iter_ :]) <= score
    assert np.array_equal(weights(model), best)


@pytest.mark.parametrize(
    "before, after", [("squared_error", "poisson"), ("poisson", "squared_error")]
)
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_a_changed_regression_loss_is_refused_warm(before, after, how):
    # The loss fixes the output activation; tinynet kept the fitted one (and its loss)
    # silently, scikit-learn's MLP mixes the two and trains on to NaN.
    target = np.exp(X @ [0.3, -0.2, 0.1])
    model = NeuralNetRegressor(random_state=0, warm_start=True, loss=before, **SGD).fit(X, target)
    model.set_params(loss=after)
    with pytest.raises(ValueError, match=f"fitted with loss='{before}', but loss is now '{after}'"):
        model.fit(X, target) if how == "warm_start" else model.partial_fit(X, target)


@pytest.mark.parametrize(
    "change", [{"activation": "tanh"}, {"dropout": 0.3}, {"hidden_layer_sizes": (7,)}]
)
def test_save_refuses_parameters_changed_after_fit(tmp_path, change):
    # The file declares the network by these parameters: a tanh changed in after fitting
    # loaded as a tanh network that predicted something else, silently.
    model = NeuralNetClassifier(random_state=0, **SGD).fit(X, y)
    model.set_params(**change)
    with pytest.raises(ValueError, match="changed \\(set_params\\) since the network was fitted"):
        model.save(tmp_path / "model.tn")
    model.set_params(**NeuralNetClassifier(**SGD).get_params()).save(tmp_path / "model.tn")
    loaded, _ = load(tmp_path / "model.tn")
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_a_minibatch_of_zero_weights_is_skipped():
    # scikit-learn's MLP raises ZeroDivisionError on such a batch; tinynet skips it, so
    # zero-weight rows that fill whole batches train exactly as the rows dropped.
    weight = np.ones(48)
    weight[:8] = 0
    params = {**SGD, "batch_size": 8, "shuffle": False, "random_state": 0}
    ours = NeuralNetRegressor(**params).fit(X, y_reg, sample_weight=weight)
    reference = MLPRegressor(**params).fit(X[8:], y_reg[8:])
    with pytest.raises(ZeroDivisionError):
        MLPRegressor(**params).fit(X, y_reg, sample_weight=weight)
    assert_same_network(ours, reference)
    np.testing.assert_allclose(ours.loss_curve_, reference.loss_curve_, rtol=1e-12)


def test_predictions_come_from_the_fitted_network_until_the_next_fit():
    # Documented difference: scikit-learn's MLP predicts with the activation set now.
    model = NeuralNetClassifier(random_state=0, **SGD).fit(X, y)
    before = model.predict_proba(X)
    model.set_params(activation="tanh", dropout=0.5, hidden_layer_sizes=(2,))
    assert np.array_equal(model.predict_proba(X), before)
    assert isinstance(model.module_[1], nn.ReLU)
