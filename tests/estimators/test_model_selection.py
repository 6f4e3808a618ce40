"""Pickle, clone, nested parameters, pipelines, searches: locally, with loky and with Dask."""

import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import tinynet.nn as nn
from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def search(n_jobs=None) -> GridSearchCV:
    network = NeuralNetClassifier((8,), max_iter=30, random_state=0)
    pipeline = make_pipeline(StandardScaler(), network)
    grid = {
        "neuralnetclassifier__alpha": [1e-4, 1e-1],
        "neuralnetclassifier__learning_rate_init": [0.01, 0.05],
    }
    return GridSearchCV(pipeline, grid, cv=3, n_jobs=n_jobs)


def test_pickle_round_trip_keeps_predictions_and_training_state(iris):
    X, y = iris
    clf = NeuralNetClassifier((8,), max_iter=10, dropout=0.1, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    # The optimizer still drives the restored network's parameters.
    restored.partial_fit(X, y)
    clf.partial_fit(X, y)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_clone_and_nested_set_params(iris):
    X, y = iris
    network = nn.Sequential(nn.Linear(4, 3, rng=0, dtype=np.float64))
    clf = NeuralNetClassifier(module=network, callbacks=[print], max_iter=5)
    copy = clone(clf)
    assert copy.module is not network  # clone deep-copies non-estimator parameters
    assert copy.get_params()["max_iter"] == 5
    pipeline = make_pipeline(StandardScaler(), NeuralNetRegressor())
    pipeline.set_params(
        neuralnetregressor__hidden_layer_sizes=(3, 2), standardscaler__with_mean=False
    )
    assert pipeline[-1].hidden_layer_sizes == (3, 2)
    pipeline.fit(X[:, :3], X[:, 3])
    assert pipeline[-1].n_layers_ == 4
    assert "NeuralNetClassifier(callbacks=[<built-in function print>]" in repr(clf)


def test_pipeline_cross_val_score_and_grid_search(iris):
    X, y = iris
    scores = cross_val_score(
        make_pipeline(StandardScaler(), NeuralNetClassifier((8,), solver="lbfgs", random_state=0)),
        X, y, cv=3,
    )  # fmt: skip
    assert scores.min() > 0.85
    fitted = search().fit(X, y)
    assert fitted.best_score_ > 0.85
    assert set(fitted.best_params_) == {
        "neuralnetclassifier__alpha",
        "neuralnetclassifier__learning_rate_init",
    }
    assert fitted.predict(X).shape == (150,)


def test_grid_search_with_two_loky_workers_matches_the_serial_search(iris):
    X, y = iris
    with joblib.parallel_backend("loky"):
        parallel = search(n_jobs=2).fit(X, y)
    serial = search().fit(X, y)
    np.testing.assert_array_equal(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


def test_concurrent_fits_in_threads_equal_serial_fits(iris):
    # Threads share tinynet's process-wide state (the grad mode): fits must not interfere.
    X, y = iris
    estimators = [NeuralNetClassifier((8,), max_iter=20, random_state=seed) for seed in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda e: clone(e).fit(X, y).predict_proba(X), estimators))
    for estimator, proba in zip(estimators, threaded):
        np.testing.assert_array_equal(proba, estimator.fit(X, y).predict_proba(X))


def test_grid_search_on_a_dask_cluster(iris):
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed (pip install 'dask[distributed]')"
    )
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dask's own deprecation and port warnings
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            with joblib.parallel_backend("dask"):
                on_dask = search(n_jobs=-1).fit(X, y)
            assert len(client.scheduler_info()["workers"]) == 2
    serial = search().fit(X, y)
    np.testing.assert_array_equal(
        on_dask.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
