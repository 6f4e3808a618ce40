"""Saving fitted estimators with ``tinynet.save`` and loading them back, without pickle.

The file is an ordinary tinynet file (``docs/format.md``) holding one dict::

    {"format": "tinynet.estimators", "version": 1, "estimator": class name,
     "params": JSON-able constructor parameters, "fitted": what predict needs,
     "state_dict": the network's arrays, "optimizer": its state dict or None,
     "extra": the caller's metadata}
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from tinynet import serialization
from tinynet.estimators._network import build_mlp, layer_activations

FORMAT = "tinynet.estimators"
VERSION = 1
# Parameters that only shape training and cannot be stored as data: they load as None.
_DROPPED_PARAMS = ("callbacks", "validation_data")
_FITTED_SCALARS = (
    "n_features_in_",
    "n_outputs_",
    "n_layers_",
    "out_activation_",
    "n_iter_",
    "t_",
    "loss_",
    "best_loss_",
    "loss_curve_",
    "validation_scores_",
    "validation_loss_curve_",
    "best_validation_score_",
    "history_",
    "_no_improvement_count",
)


def _plain(value, name: str):
    """``value`` as data tinynet.save can hold, or raise TypeError naming ``name``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value
    if isinstance(value, (list, tuple)):
        items = [_plain(item, name) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {_key(key, name): _plain(item, name) for key, item in value.items()}
    if isinstance(value, type) and value in (np.float32, np.float64):
        return np.dtype(value).name
    raise TypeError(f"{name} = {value!r} cannot be stored in a tinynet file")


def _key(key, name: str):
    if isinstance(key, (np.integer, int)) and not isinstance(key, (bool, np.bool_)):
        return int(key)
    if isinstance(key, str):
        return key
    raise TypeError(f"{name} has a key {key!r} that cannot be stored in a tinynet file")


def _labels(array: np.ndarray) -> dict:
    if array.dtype.kind in "biuf":
        return {"kind": "array", "values": array}
    if array.dtype.kind == "U":
        return {"kind": "str", "values": array.tolist()}
    values = array.tolist()
    if not all(isinstance(v, (str, int, float, bool)) for v in values):
        raise TypeError(
            "the class labels cannot be stored in a tinynet file: only numbers and strings can"
        )
    return {"kind": "object", "values": [_plain(v, "classes_") for v in values]}


def _unlabels(stored: dict) -> np.ndarray:
    kind, values = stored["kind"], stored["values"]
    if kind == "array":
        return np.asarray(values)
    if kind == "str":
        return np.asarray(values, dtype=str)
    if kind == "object":
        return np.asarray(values, dtype=object)
    raise ValueError(f"unknown label kind {kind!r}")


def save_estimator(estimator, path, extra: dict | None) -> None:
    check_is_fitted(estimator)
    name = type(estimator).__name__
    if estimator.module is not None:
        raise TypeError(
            f"{name}.save stores the built-in network; an estimator with module= (a custom "
            "tinynet.nn.Module) cannot be saved this way. Save estimator.module_.state_dict() "
            "with tinynet.save and rebuild the module when loading."
        )
    params = {}
    for key, value in estimator.get_params(deep=False).items():
        if key in ("module", *_DROPPED_PARAMS):
            continue
        try:
            params[key] = _plain(value, key)
        except TypeError:
            if key == "activation":
                raise TypeError(
                    f"activation={value!r} cannot be saved: only activation names (or lists of "
                    "names) can; the network needs it to predict"
                ) from None
            # Training-only settings (a RandomState, an optimizer function) load as defaults.
    fitted = {key: _plain(getattr(estimator, key), key) for key in _FITTED_SCALARS}
    fitted["dtype"] = estimator._dtype.name
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(n) for n in estimator.feature_names_in_]
    if hasattr(estimator, "classes_"):
        binarizer = estimator._label_binarizer
        fitted["classes_"] = _labels(np.asarray(estimator.classes_))
        fitted["y_type_"] = binarizer.y_type_
    optimizer_state = None
    if hasattr(estimator, "_optimizer") and (
        estimator.optimizer is None or isinstance(estimator.optimizer, str)
    ):
        optimizer_state = estimator._optimizer.state_dict()
    state = {
        "format": FORMAT,
        "version": VERSION,
        "estimator": name,
        "params": params,
        "fitted": fitted,
        "state_dict": dict(estimator.module_.state_dict()),
        "optimizer": optimizer_state,
        "extra": {} if extra is None else extra,
    }
    if not isinstance(state["extra"], dict):
        raise TypeError(f"extra must be a dict, got {type(extra).__name__}")
    serialization.save(state, path, metadata={"format": FORMAT, "estimator": name})


def load(path):
    """Load an estimator written by ``estimator.save(path, extra=...)``.

    Returns ``(estimator, extra)``. Raises ``ValueError`` for a file that is not a saved
    estimator (``tinynet.serialization.FormatError``, a ``ValueError``, for a corrupt one).

    >>> import os, tempfile, numpy as np
    >>> from tinynet.estimators import NeuralNetClassifier, load
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> clf = NeuralNetClassifier((4,), solver="lbfgs", random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "clf.tnn")
    >>> clf.save(path, extra={"note": "demo"})
    >>> loaded, extra = load(path)
    >>> (loaded.predict(X) == clf.predict(X)).all(), extra["note"]
    (np.True_, 'demo')
    """
    from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

    state = serialization.load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(
            f"{path} is a tinynet file but not a saved estimator (no {FORMAT!r} marker); "
            "load state dicts with tinynet.load"
        )
    version = state.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ValueError(
            f"{path} holds an estimator saved in format version {version!r}; this tinynet "
            f"reads versions up to {VERSION}: upgrade tinynet"
        )
    classes = {"NeuralNetClassifier": NeuralNetClassifier, "NeuralNetRegressor": NeuralNetRegressor}
    try:
        estimator_class = classes[state["estimator"]]
        estimator = estimator_class()
        estimator.set_params(**state["params"])
        _restore_fitted(estimator, state)
    except (KeyError, TypeError, RuntimeError, AttributeError) as error:
        raise ValueError(f"{path} is not a valid saved estimator: {error}") from error
    extra = state.get("extra")
    return estimator, {} if extra is None else extra


def _restore_fitted(estimator, state) -> None:
    fitted = state["fitted"]
    for key in _FITTED_SCALARS:
        setattr(estimator, key, fitted[key])
    estimator._dtype = np.dtype(fitted["dtype"])
    if estimator._dtype.kind != "f":
        raise TypeError(f"the network dtype must be floating, got {estimator._dtype}")
    if "feature_names_in_" in fitted:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
    if "classes_" in fitted:
        binarizer = LabelBinarizer()
        binarizer.classes_ = _unlabels(fitted["classes_"])
        binarizer.y_type_ = fitted["y_type_"]
        binarizer.sparse_input_ = False
        estimator._label_binarizer = binarizer
        estimator.classes_ = binarizer.classes_
    state_dict = state["state_dict"]
    hidden = estimator._hidden_sizes()
    weights = [key for key in state_dict if key.endswith(".weight")]
    if not weights:
        raise KeyError("the state dict holds no layer weights")
    n_network_outputs = int(np.shape(state_dict[weights[-1]])[0])
    units = [estimator.n_features_in_, *hidden, n_network_outputs]
    activations = layer_activations(estimator.activation, len(hidden))
    module = build_mlp(
        units, activations, estimator.dropout, estimator._dtype, np.random.RandomState(0)
    )
    module.load_state_dict(state_dict)
    module.eval()
    estimator.module_ = module
    if state.get("optimizer") is not None:
        estimator._optimizer = estimator._make_optimizer()
        estimator._optimizer.load_state_dict(state["optimizer"])
