"""Saving fitted estimators with ``tinynet.save`` and loading them back, without pickle.

The file is an ordinary tinynet file (``docs/format.md``) holding one dict::

    {"format": "tinynet.estimators", "version": 1, "estimator": class name,
     "params": JSON-able constructor parameters, "fitted": what predict needs,
     "state_dict": the network's arrays, "optimizer": its state dict or None,
     "extra": the caller's metadata}
"""

from __future__ import annotations

import numbers
import os

import numpy as np
from sklearn.base import is_classifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from tinynet import serialization
from tinynet.estimators._network import (
    build_mlp,
    layer_activations,
    linear_layers,
    rebuild_hidden,
)

FORMAT = "tinynet.estimators"
VERSION = 1
# Parameters that only shape training and cannot be stored as data: they load as None.
_DROPPED_PARAMS = ("callbacks", "validation_data", "lr_scheduler")
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


def _check_parameters_describe_the_network(estimator) -> None:
    """The file declares the network by the parameters: refuse to save a network they no
    longer describe (``set_params`` after ``fit``), which would load as another one."""
    hidden = estimator._hidden_sizes()
    widths = [layer.out_features for layer in linear_layers(estimator.module_)][:-1]
    activations = layer_activations(estimator.activation, len(hidden))
    throwaway = np.random.RandomState(0)
    if (
        widths != hidden
        or rebuild_hidden(estimator.module_, activations, estimator.dropout, throwaway) is not None
    ):
        raise ValueError(
            f"{type(estimator).__name__}.save: hidden_layer_sizes, activation or dropout "
            "changed (set_params) since the network was fitted, and the file describes the "
            "network by them, so it would load as another network. Refit, or set them back, "
            "before saving."
        )


def save_estimator(estimator, path, extra: dict | None) -> None:
    check_is_fitted(estimator)
    name = type(estimator).__name__
    if estimator.module is not None:
        raise TypeError(
            f"{name}.save stores the built-in network; an estimator with module= (a custom "
            "tinynet.nn.Module) cannot be saved this way. Save estimator.module_.state_dict() "
            "with tinynet.save and rebuild the module when loading."
        )
    _check_parameters_describe_the_network(estimator)
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


def load(path, *, allow_non_finite: bool = False):
    """Load an estimator written by ``estimator.save(path, extra=...)``.

    Returns ``(estimator, extra)``. Raises ``ValueError`` with one line naming the file for a
    file that is not a valid saved estimator (``tinynet.serialization.FormatError``, a
    ``ValueError``, for a corrupt one). The declared architecture is checked against the
    stored arrays before anything is built, so a crafted file cannot make loading allocate
    more than the file holds. Weights that are NaN or infinite are refused unless
    ``allow_non_finite=True``.

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
    from tinynet.estimators._base import BaseNeuralNet

    name = os.fsdecode(path)
    state = serialization.load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(
            f"{name} is a tinynet file but not a saved estimator (no {FORMAT!r} marker); "
            "load state dicts with tinynet.load"
        )
    _check_version(state.get("version"), name)
    classes: dict[str, type[BaseNeuralNet]] = {
        "NeuralNetClassifier": NeuralNetClassifier,
        "NeuralNetRegressor": NeuralNetRegressor,
    }
    try:
        _expect(set(state) >= _STATE_KEYS, f"it lacks {sorted(_STATE_KEYS - set(state))}")
        _expect(
            isinstance(state["estimator"], str) and state["estimator"] in classes,
            f"unknown estimator {state['estimator']!r}; expected one of {sorted(classes)}",
        )
        estimator = classes[state["estimator"]]()
        params = state["params"]
        _expect(
            isinstance(params, dict) and all(isinstance(key, str) for key in params),
            "'params' must map parameter names to values",
        )
        estimator.set_params(**params)
        estimator._validate_params()
        _restore_fitted(estimator, state, allow_non_finite)
        extra = state.get("extra")
        _expect(extra is None or isinstance(extra, dict), "'extra' must be a dict")
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as error:
        problem = " ".join(str(error).split()) or type(error).__name__
        raise ValueError(f"{name}: not a valid saved estimator: {problem}") from error
    return estimator, {} if extra is None else extra


_STATE_KEYS = {"estimator", "params", "fitted", "state_dict", "optimizer"}
_Y_TYPES = ("binary", "multiclass", "multilabel-indicator")


def _check_version(version, name: str) -> None:
    """Refuse an invalid estimator format version, or one newer than this tinynet reads."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{name}: not a valid saved estimator: version {version!r} is invalid")
    if version > VERSION + 1000:  # a corrupted field, not a newer tinynet
        raise ValueError(f"{name}: not a valid saved estimator: version {version} is invalid")
    if version > VERSION:
        raise ValueError(
            f"{name} holds an estimator saved in format version {version}; this tinynet "
            f"reads versions up to {VERSION}: upgrade tinynet"
        )


def _expect(condition: bool, problem: str) -> None:
    if not condition:
        raise ValueError(problem)


def _is_count(value, minimum: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _check_fitted(estimator, fitted) -> None:
    """The fitted values predict needs have the right types and agree with each other."""
    _expect(isinstance(fitted, dict), "'fitted' must be a dict")
    missing = [key for key in (*_FITTED_SCALARS, "dtype") if key not in fitted]
    _expect(not missing, f"'fitted' lacks {missing}")
    for key in ("n_features_in_", "n_outputs_", "n_layers_"):
        _expect(_is_count(fitted[key]), f"{key} must be a positive integer, got {fitted[key]!r}")
    _expect(
        fitted["dtype"] in ("float32", "float64"),
        f"the network dtype must be float32 or float64, got {fitted['dtype']!r}",
    )
    names = fitted.get("feature_names_in_")
    if names is not None:
        _expect(
            isinstance(names, list)
            and all(isinstance(n, str) for n in names)
            and len(names) == fitted["n_features_in_"],
            f"feature_names_in_ must be {fitted['n_features_in_']} strings",
        )
    if not is_classifier(estimator):
        _check_out_activation(fitted, "exp" if estimator.loss == "poisson" else "identity")
        return
    _expect("classes_" in fitted and "y_type_" in fitted, "a classifier needs classes_ and y_type_")
    y_type = fitted["y_type_"]
    _expect(y_type in _Y_TYPES, f"y_type_ must be one of {list(_Y_TYPES)}, got {y_type!r}")
    stored = fitted["classes_"]
    _expect(
        isinstance(stored, dict) and set(stored) == {"kind", "values"},
        "classes_ must be a dict with 'kind' and 'values'",
    )
    values = stored["values"]
    if stored["kind"] == "array":
        _expect(isinstance(values, np.ndarray) and values.ndim == 1, "classes_ must be a 1-D array")
    elif stored["kind"] in ("str", "object"):
        _expect(
            isinstance(values, list)
            and all(isinstance(v, (str, int, float, bool)) for v in values)
            and (stored["kind"] == "object" or all(isinstance(v, str) for v in values)),
            "classes_ must be a list of labels",
        )
    else:
        raise ValueError(f"unknown label kind {stored['kind']!r}")
    n_classes = len(values)
    expected = 1 if y_type == "binary" else n_classes
    _expect(
        n_classes >= (1 if y_type == "multilabel-indicator" else 2),
        f"classes_ holds {n_classes} classes",
    )
    _expect(
        fitted["n_outputs_"] == expected,
        f"n_outputs_ is {fitted['n_outputs_']} but {n_classes} {y_type} classes need {expected}",
    )
    _check_out_activation(fitted, "softmax" if y_type == "multiclass" else "logistic")


def _check_out_activation(fitted, expected: str) -> None:
    _expect(
        fitted["out_activation_"] == expected,
        f"out_activation_ must be {expected!r} for this estimator, got "
        f"{fitted['out_activation_']!r}",
    )


def _expected_state(estimator, fitted) -> dict[str, tuple[int, ...]]:
    """The name and shape of every array the declared network holds (nothing is built)."""
    hidden = estimator._hidden_sizes()
    layer_activations(estimator.activation, len(hidden))  # raises for a bad activation list
    units = [fitted["n_features_in_"], *hidden, fitted["n_outputs_"]]
    _expect(
        fitted["n_layers_"] == len(units),
        f"n_layers_ is {fitted['n_layers_']} but hidden_layer_sizes {hidden} make {len(units)}",
    )
    shapes: dict[str, tuple[int, ...]] = {}
    index = 0
    for layer, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
        shapes[f"{index}.weight"] = (fan_out, fan_in)
        shapes[f"{index}.bias"] = (fan_out,)
        if layer < len(hidden):  # Linear, activation[, Dropout]
            index += 3 if estimator.dropout > 0 else 2
    return shapes


def _check_state_dict(state_dict, expected: dict, allow_non_finite: bool) -> None:
    _expect(isinstance(state_dict, dict), "'state_dict' must be a dict of arrays")
    if set(state_dict) != set(expected):
        raise ValueError(
            f"the network's arrays {sorted(map(str, state_dict))} do not match the declared "
            f"architecture, which has {sorted(expected)}"
        )
    for key, shape in expected.items():
        array = state_dict[key]
        _expect(
            isinstance(array, np.ndarray) and array.dtype.kind == "f",
            f"{key} must be a floating-point array",
        )
        _expect(
            array.shape == shape,
            f"{key} has shape {array.shape}, but the declared architecture needs {shape}",
        )
        if not allow_non_finite and not np.isfinite(array).all():
            raise ValueError(
                f"{key} holds NaN or infinite weights; pass allow_non_finite=True "
                "(tinynet predict --allow-non-finite) to load them anyway"
            )


def _restore_fitted(estimator, state, allow_non_finite: bool) -> None:
    fitted = state["fitted"]
    _check_fitted(estimator, fitted)
    expected = _expected_state(estimator, fitted)
    _check_state_dict(state["state_dict"], expected, allow_non_finite)
    for key in _FITTED_SCALARS:
        setattr(estimator, key, fitted[key])
    estimator._dtype = np.dtype(fitted["dtype"])
    if "feature_names_in_" in fitted:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
    if is_classifier(estimator):
        binarizer = LabelBinarizer()
        binarizer.classes_ = _unlabels(fitted["classes_"])
        binarizer.y_type_ = fitted["y_type_"]
        binarizer.sparse_input_ = False
        estimator._label_binarizer = binarizer
        estimator.classes_ = binarizer.classes_
    hidden = estimator._hidden_sizes()
    units = [estimator.n_features_in_, *hidden, estimator.n_outputs_]
    activations = layer_activations(estimator.activation, len(hidden))
    module = build_mlp(
        units, activations, estimator.dropout, estimator._dtype, np.random.RandomState(0)
    )
    module.load_state_dict(state["state_dict"])
    module.eval()
    estimator.module_ = module
    if state.get("optimizer") is not None:
        estimator._optimizer = estimator._make_optimizer()
        estimator._optimizer.load_state_dict(state["optimizer"])
