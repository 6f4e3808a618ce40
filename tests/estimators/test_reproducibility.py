"""An integer random_state gives bit-identical weights and predictions, in and across processes."""

import hashlib
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

SCRIPT = textwrap.dedent(
    """
    import hashlib, warnings
    import numpy as np
    from sklearn.datasets import load_digits
    from tinynet.estimators import NeuralNetClassifier
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X = X[:400] / 16.0
    clf = NeuralNetClassifier(
        (32,), dropout=0.2, early_stopping=True, max_iter=8, random_state={seed}
    ).fit(X, y[:400])
    digest = hashlib.sha256()
    for array in clf.coefs_ + clf.intercepts_ + [clf.predict_proba(X)]:
        digest.update(np.ascontiguousarray(array).tobytes())
    print(digest.hexdigest())
    """
)


def fingerprint(estimator, X) -> str:
    digest = hashlib.sha256()
    outputs = estimator.predict_proba(X) if hasattr(estimator, "predict_proba") else None
    for array in [*estimator.coefs_, *estimator.intercepts_, estimator.predict(X), outputs]:
        if array is not None:
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam", dropout=0.3, early_stopping=True),
        dict(solver="sgd", learning_rate="adaptive", shuffle=True),
        dict(solver="lbfgs"),
        dict(optimizer="rmsprop", batch_size=16),
    ],
    ids=["adam-dropout-early-stopping", "sgd-adaptive", "lbfgs", "rmsprop"],
)
@pytest.mark.parametrize("cls", [NeuralNetClassifier, NeuralNetRegressor])
def test_two_fits_are_bit_identical(cls, params):
    rng = np.random.RandomState(1)
    X = rng.randn(80, 5)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = cls(hidden_layer_sizes=(8,), max_iter=15, random_state=7, **params).fit(X, y)
        second = cls(hidden_layer_sizes=(8,), max_iter=15, random_state=7, **params).fit(X, y)
        refit = first.fit(X, y)  # refitting the same object starts over
    assert fingerprint(first, X) == fingerprint(second, X) == fingerprint(refit, X)
    assert first.loss_curve_ == second.loss_curve_


def test_other_seeds_give_other_networks():
    X = np.random.RandomState(0).randn(40, 3)
    y = np.arange(40) % 2
    weights = [
        NeuralNetClassifier((4,), max_iter=1, random_state=seed).fit(X, y).coefs_[0]
        for seed in (0, 1)
    ]
    assert not np.array_equal(*weights)


def test_two_processes_are_bit_identical():
    # Two interpreters (started together: importing scikit-learn dominates), each with its own
    # hash seed, and this process must all agree to the bit.
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT.format(seed=3)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    digests = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        digests.append(out.strip())
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(SCRIPT.format(seed=3).replace("print(", "result = ("), namespace)
    assert digests[0] == digests[1] == namespace["result"]
