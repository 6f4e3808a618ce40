"""Whole pipelines saved safely with ``skops.io``: the tinynet types to trust, by name.

``skops.io.load`` refuses every type it does not know unless the caller trusts it by name.
A fitted ``NeuralNetClassifier`` / ``NeuralNetRegressor`` holds only the types below, and
trusting them is safe: skops rebuilds each one by creating the instance without calling its
constructor and setting its attributes (arrays, numbers, strings, lists, dicts, other
trusted objects); none of them runs code on loading except the estimator's
``__setstate__``, which rebuilds a named optimizer from arrays. The functions named are
tinynet's own activations. A file that names any other type (a custom ``nn.Module``, an
activation function or optimizer of yours) still fails to load until you trust that type
yourself, after reading ``skops.io.get_untrusted_types(file=path)``.

>>> import numpy as np, skops.io
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from tinynet.estimators import NeuralNetClassifier
>>> X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
>>> pipe = make_pipeline(StandardScaler(), NeuralNetClassifier((4,), solver="lbfgs"))
>>> skops.io.dump(pipe.fit(X, y), "pipe.skops")
>>> loaded = skops.io.load("pipe.skops", trusted=SKOPS_TRUSTED_TYPES)
>>> bool((loaded.predict(X) == pipe.predict(X)).all())
True
"""

from __future__ import annotations

import os

SKOPS_TRUSTED_TYPES: list[str] = [
    "numpy.dtype",  # the estimator's dtype (skops trusts arrays, not dtype objects)
    "tinynet.estimators._classifier.NeuralNetClassifier",
    "tinynet.estimators._regressor.NeuralNetRegressor",
    "tinynet.estimators._network._SparseInputLinear",  # the first layer (takes sparse input)
    "tinynet.estimators._network._Elementwise",  # an activation given by a function
    "tinynet.nn.module.Parameter",
    "tinynet.nn.layers.Sequential",
    "tinynet.nn.layers.Linear",
    "tinynet.nn.layers.Dropout",
    "tinynet.nn.layers.Identity",
    "tinynet.nn.activation.ReLU",
    "tinynet.nn.activation.Tanh",
    "tinynet.nn.activation.Sigmoid",
    "tinynet.nn.activation.GELU",
    "tinynet.nn.activation.ELU",
    "tinynet.nn.activation.SiLU",
    "tinynet.nn.activation.LeakyReLU",
    "tinynet.nn.activation.Softplus",
]


def skops_load(path: str | os.PathLike, trusted: list[str] | None = None):
    """``skops.io.load(path)`` trusting tinynet's estimator types (and ``trusted``).

    Anything else the file holds that skops does not trust by default is refused with a
    ``skops.io.exceptions.UntrustedTypesFoundException`` naming the types.
    """
    try:
        import skops.io
    except ImportError:
        raise ImportError(
            "skops_load needs the skops package, which is not installed: pip install skops "
            "(in a tinynet checkout: pip install -e '.[skops]')"
        ) from None
    return skops.io.load(os.fspath(path), trusted=[*SKOPS_TRUSTED_TYPES, *(trusted or [])])
