"""Beyond one machine's memory: dask-ml's Incremental streams Dask chunks through partial_fit."""

import warnings

import numpy as np
import pytest

from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the test extras")
wrappers = pytest.importorskip("dask_ml.wrappers", reason="dask-ml is in the test extras")


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distributed's own start-up chatter
        cluster = distributed.LocalCluster(
            processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
        )
        with cluster, distributed.Client(cluster) as client:
            yield client


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_incremental_fits_chunk_by_chunk_as_partial_fit_does(client, kind):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    if kind == "classifier":
        y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
        make = lambda: NeuralNetClassifier((8,), random_state=0, learning_rate_init=0.01)  # noqa: E731
        kwargs = {"classes": ["no", "yes"]}
    else:
        y = X @ [1.0, -2.0, 0.5]
        make = lambda: NeuralNetRegressor(hidden_layer_sizes=(8,), random_state=0)  # noqa: E731
        kwargs = {}
    dX, dy = da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    incremental = wrappers.Incremental(make(), shuffle_blocks=False)
    incremental.fit(dX, dy, **kwargs)
    # The same four partial_fit calls in memory, one per chunk in order.
    reference = make()
    for start in range(0, 400, 100):
        reference.partial_fit(X[start : start + 100], y[start : start + 100], **kwargs)
    for streamed, direct in zip(incremental.estimator_.coefs_, reference.coefs_):
        np.testing.assert_array_equal(streamed, direct)
    predictions = incremental.predict(dX)  # lazily, chunk by chunk
    assert isinstance(predictions, da.Array)
    np.testing.assert_array_equal(predictions.compute(), reference.predict(X))
