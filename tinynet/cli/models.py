"""A trained estimator with what the command line adds around it, and `predict` / `info`.

The command line standardizes features (and regression targets) with statistics of the
training split and keeps class labels as text; all of it travels in the model file through
``estimator.save(path, extra=...)``, so a saved model predicts from raw CSV columns.
"""

from __future__ import annotations

import csv
import os
import sys
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinynet.cli._common import (
    FULL_BATCH,
    CLIError,
    atomic_output,
    check_output_path,
    describe_os_error,
    printable,
)
from tinynet.cli.data import (
    CLASSIFICATION,
    REGRESSION,
    Table,
    check_scalable,
    encode_features,
    encoded_names,
    read_csv,
)

CLI_FORMAT = 1  # version of the `extra` layout below


@dataclass
class TrainedModel:
    """An estimator fitted on standardized data, and the statistics to get there from raw data."""

    estimator: Any
    task: str
    feature_names: list[str] | None  # None: columns are taken by position
    target_name: str
    class_labels: list[str] | None  # code -> label; None: the estimator predicts labels
    mean: np.ndarray | float = 0.0
    scale: np.ndarray | float = 1.0
    target_mean: float = 0.0
    target_scale: float = 1.0
    training: dict = field(default_factory=dict)
    categories: dict = field(default_factory=dict)  # text column -> values, one-hot encoded
    id_column: str | None = None  # copied from the input to the output of `predict`

    def features(self, table: Table) -> np.ndarray:
        """The model's raw feature columns of ``table`` as numbers (text columns one-hot)."""
        if self.feature_names is None:
            if len(table.columns) != self.n_features:
                raise CLIError(
                    f"{table.path}: the model takes {self.n_features} features (by position, "
                    f"it has no feature names) but the file has {len(table.columns)} columns"
                )
            return table.numeric(table.columns)
        table.require_columns(self.feature_names, "the model's feature columns")
        return encode_features(table, self.feature_names, self.categories)

    @property
    def n_features(self) -> int:
        return int(self.estimator.n_features_in_)

    def transform(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean) / self.scale

    def transform_target(self, y: np.ndarray) -> np.ndarray:
        """Regression targets as the network learns them; class codes pass through."""
        if self.task == REGRESSION:
            return (y - self.target_mean) / self.target_scale
        return y

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class codes (classification) or target values in the data's units (regression)."""
        predictions = np.asarray(self.estimator.predict(self.transform(X)))
        if self.task == REGRESSION:
            return predictions.astype(np.float64) * self.target_scale + self.target_mean
        return predictions

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities; column ``j`` belongs to code ``estimator.classes_[j]``."""
        return np.asarray(self.estimator.predict_proba(self.transform(X)), dtype=np.float64)

    def label(self, code) -> str:
        if self.class_labels is None:
            return str(code)
        return self.class_labels[int(code)]

    @property
    def layer_sizes(self) -> list[int]:
        return layer_sizes(self.estimator)

    def extra(self) -> dict:
        return {
            "tinynet_cli": CLI_FORMAT,
            "task": self.task,
            "feature_names": self.feature_names,
            "target_name": self.target_name,
            "class_labels": self.class_labels,
            "scaler_mean": np.asarray(self.mean, np.float64),
            "scaler_scale": np.asarray(self.scale, np.float64),
            "target_mean": float(self.target_mean),
            "target_scale": float(self.target_scale),
            "training": self.training,
            "categories": self.categories,
            "id_column": self.id_column,
        }

    def save(self, path: str) -> None:
        try:
            self.estimator.save(path, extra=self.extra())
        except OSError as error:
            error.filename = path
            raise CLIError(describe_os_error(error, "write the model to")) from error


def load_model(path: str, allow_non_finite: bool = False) -> TrainedModel:
    """Load a model saved by ``tinynet train --save`` (or by ``estimator.save``).

    Every field the command line reads is checked first: a crafted or corrupt file is one
    error line naming the file. NaN or infinite weights and scalers are refused unless
    ``allow_non_finite``.
    """
    from tinynet.estimators import load

    path = os.fspath(path)
    if os.path.isdir(path):
        raise CLIError(f"{path!r} is a directory, not a model file")
    if zipfile.is_zipfile(path):  # a skops file (a tinynet file is no zip archive)
        return load_skops_model(path)
    try:
        estimator, extra = load(path, allow_non_finite=allow_non_finite)
    except OSError as error:
        raise CLIError(describe_os_error(error, "read the model")) from error
    except ValueError as error:  # FormatError included
        message = " ".join(str(error).split())
        raise CLIError(message if path in message else f"{path}: {message}") from error
    extra = extra or {}
    is_classifier = hasattr(estimator, "classes_")
    if "tinynet_cli" not in extra:  # saved from Python: no scaler, names from the estimator
        names = getattr(estimator, "feature_names_in_", None)
        return TrainedModel(
            estimator,
            CLASSIFICATION if is_classifier else REGRESSION,
            None if names is None else [str(n) for n in names],
            "prediction",
            None,  # the estimator predicts its labels themselves, not codes
        )
    try:
        model = _model_from_extra(estimator, extra, path, is_classifier, allow_non_finite)
    except _BadField as error:
        raise CLIError(f"{path}: not a valid model file: {error}") from None
    return model


class _BadField(Exception):
    """A field of the command line's part of a model file is missing or wrong."""


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise _BadField(problem)


def _is_real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _model_from_extra(estimator, extra, path, is_classifier, allow_non_finite) -> TrainedModel:
    version = extra["tinynet_cli"]
    _require(
        isinstance(version, int) and not isinstance(version, bool) and version >= 1,
        f"tinynet_cli must be a positive integer, got {version!r}",
    )
    if version > CLI_FORMAT:
        raise CLIError(f"{path}: saved by a newer tinynet; upgrade tinynet to read it")
    fields = (
        "task", "feature_names", "target_name", "class_labels", "scaler_mean", "scaler_scale",
        "target_mean", "target_scale",
    )  # fmt: skip
    _require(not (missing := [f for f in fields if f not in extra]), f"it lacks {missing}")
    task = extra["task"]
    _require(
        task == (CLASSIFICATION if is_classifier else REGRESSION),
        f"task {task!r} does not match the saved {type(estimator).__name__}",
    )
    n_features = int(estimator.n_features_in_)
    names, categories, id_column = _checked_features(extra, n_features)
    _require(isinstance(extra["target_name"], str), "target_name must be a string")
    labels = _checked_class_labels(extra["class_labels"], estimator, is_classifier)
    _check_scaling(extra, n_features, allow_non_finite)
    training = extra.get("training") or {}
    _require(isinstance(training, dict), "training must be a dict")
    return TrainedModel(
        estimator, task, names, extra["target_name"], labels, extra["scaler_mean"],
        extra["scaler_scale"], float(extra["target_mean"]), float(extra["target_scale"]),
        training, categories, id_column,
    )  # fmt: skip


def _checked_features(extra: dict, n_features: int) -> tuple[list | None, dict, str | None]:
    """The feature names, categories and id column, checked against ``n_features``."""
    names = extra["feature_names"]
    categories = extra.get("categories") or {}
    _require(
        isinstance(categories, dict)
        and all(
            isinstance(values, list) and values and all(isinstance(v, str) for v in values)
            for values in categories.values()
        ),
        "categories must map column names to lists of strings",
    )
    _require(
        names is None
        or (
            isinstance(names, list)
            and all(isinstance(n, str) for n in names)
            and set(categories) <= set(names)
            and sum(len(categories.get(n, "x")) for n in names) == n_features
        ),
        f"feature_names must be a list of strings encoding to the {n_features} features",
    )
    id_column = extra.get("id_column")
    _require(id_column is None or isinstance(id_column, str), "id_column must be a string")
    return names, categories, id_column


def _checked_class_labels(labels: Any, estimator: Any, is_classifier: bool) -> list | None:
    """The class labels, which the classifier's integer classes index."""
    if labels is not None:
        _require(
            is_classifier
            and isinstance(labels, list)
            and all(isinstance(label, str) for label in labels),
            "class_labels must be a list of strings (classification only)",
        )
        codes = np.asarray(estimator.classes_)
        _require(
            codes.dtype.kind in "iu"
            and codes.ndim == 1
            and bool(((0 <= codes) & (codes < len(labels))).all()),
            f"the classifier's classes are not codes of the {len(labels)} class_labels",
        )
    return labels


def _check_scaling(extra: dict, n_features: int, allow_non_finite: bool) -> None:
    """The feature and target scalers: numbers of the right shape, finite, no zero scale."""
    for key in ("scaler_mean", "scaler_scale"):
        value = extra[key]
        _require(
            isinstance(value, np.ndarray)
            and value.dtype.kind == "f"
            and value.shape in ((), (n_features,)),
            f"{key} must be a float array of {n_features} values",
        )
    for key in ("target_mean", "target_scale"):
        _require(_is_real(extra[key]), f"{key} must be a number")
    if not allow_non_finite:
        for key in ("scaler_mean", "scaler_scale", "target_mean", "target_scale"):
            _require(
                bool(np.isfinite(extra[key]).all()),
                f"{key} holds NaN or infinite values (--allow-non-finite to use them anyway)",
            )
    _require(
        bool((np.asarray(extra["scaler_scale"]) != 0).all()) and extra["target_scale"] != 0,
        "a scale of 0 would divide by zero",
    )


def load_skops_model(path: str) -> TrainedModel:
    """A scikit-learn estimator or Pipeline saved with ``skops.io.dump``, loaded trusting
    only skops' defaults and tinynet's estimator types; columns by name when it has them."""
    try:
        import skops.io  # noqa: F401
    except ImportError:
        raise CLIError(
            f"{path} is a skops file; reading it needs the skops package: pip install skops"
        ) from None
    from sklearn.base import is_classifier
    from skops.io.exceptions import UntrustedTypesFoundException

    from tinynet.estimators import skops_load

    try:
        estimator = skops_load(path)
    except UntrustedTypesFoundException as error:
        raise CLIError(
            f"{path}: refused, it holds types tinynet does not trust: {error}; load it in "
            "Python with skops.io.load(path, trusted=...) if you trust them"
        ) from error
    except Exception as error:  # a damaged archive
        raise CLIError(f"{path}: not a readable skops file: {error}") from error
    if not hasattr(estimator, "predict"):
        raise CLIError(f"{path}: holds a {type(estimator).__name__}, which cannot predict")
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        estimator = _ByName(estimator, [str(n) for n in names])
    return TrainedModel(
        estimator,
        CLASSIFICATION if is_classifier(estimator) else REGRESSION,
        None if names is None else [str(n) for n in names],
        "prediction",
        None,
    )


def layer_sizes(network) -> list[int]:
    """The layer widths of a fitted network, inputs first, from its ``coefs_``."""
    coefs = network.coefs_
    return [int(np.shape(coefs[0])[0])] + [int(np.shape(c)[1]) for c in coefs]


class _ByName:
    """An estimator fitted on a DataFrame, given its columns by name: the CLI has already
    put them in its order, so they go in as a DataFrame (with pandas) or as they are."""

    def __init__(self, estimator, names: list[str]):
        self.estimator, self.names = estimator, names

    def __getattr__(self, name):
        return getattr(self.estimator, name)

    def _input(self, X):
        try:
            import pandas as pd
        except ImportError:
            return X
        return pd.DataFrame(X, columns=self.names)

    def predict(self, X):
        return self.estimator.predict(self._input(X))

    def predict_proba(self, X):
        return self.estimator.predict_proba(self._input(X))


# -- predict ----------------------------------------------------------------------------------
def prediction_table(model: TrainedModel, X: np.ndarray) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the prediction CSV."""
    if model.task == REGRESSION:
        values = model.predict(X)
        return [model.target_name], [[repr(float(v))] for v in values]
    probabilities = model.predict_proba(X)
    codes = model.estimator.classes_
    winners = codes[np.argmax(probabilities, axis=1)]
    header = [model.target_name] + [f"proba_{model.label(code)}" for code in codes]
    rows = [
        [model.label(code)] + [repr(float(p)) for p in row]
        for code, row in zip(winners, probabilities)
    ]
    return header, rows


def run_predict(args) -> int:
    if args.output is not None:
        check_output_path(args.output, "predictions")
    model = load_model(args.model, allow_non_finite=getattr(args, "allow_non_finite", False))
    table = read_csv(args.input, args.delimiter)
    X = model.features(table)
    names = encoded_names(model.feature_names or table.columns, model.categories)
    check_scalable(X, model.mean, model.scale, names, args.input)
    header, rows = prediction_table(model, X)
    if model.id_column is not None and model.id_column in table.columns:
        header = [model.id_column, *header]
        rows = [[key, *row] for key, row in zip(table.column(model.id_column), rows)]

    def write(file) -> None:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)

    if args.output is None:
        write(sys.stdout)
        return 0
    with atomic_output(args.output) as file:
        write(file)
    print(f"wrote {len(rows)} predictions to {args.output}", file=sys.stderr)
    return 0


# -- info -------------------------------------------------------------------------------------
def describe(path: str) -> list[tuple[str, str]]:
    """``(field, value)`` lines describing the model file at ``path``."""
    from tinynet.serialization import read_header

    if zipfile.is_zipfile(path):  # a skops file (a tinynet file is no zip archive)
        return _describe_skops(path)
    try:
        header = read_header(path)
    except OSError as error:
        raise CLIError(describe_os_error(error, "read the model")) from error
    except ValueError as error:
        raise CLIError(str(error)) from error
    model = load_model(path, allow_non_finite=True)  # info describes; predict refuses them
    estimator = model.estimator
    size = os.path.getsize(path)
    lines = [
        ("file", f"{path} ({size:,} bytes, tinynet format version {header.version})"),
        ("model", type(estimator).__name__),
        ("task", model.task),
        *_network_lines(estimator),
    ]
    names = model.feature_names
    lines.append(
        ("features", f"{model.n_features}: " + (", ".join(names) if names else "(unnamed)"))
    )
    lines.append(("target", model.target_name))
    if model.task == CLASSIFICATION:
        labels = [model.label(code) for code in estimator.classes_]
        lines.append(("classes", f"{len(labels)}: " + ", ".join(labels)))
    if model.training:
        lines.extend(_training_lines(model.training))
    if not all(np.isfinite(p.data).all() for p in estimator.module_.parameters()):
        lines.append(("warning", "NaN or infinite weights: predict needs --allow-non-finite"))
    return lines


def _network_lines(network) -> list[tuple[str, str]]:
    """The architecture, size, dtype and optimizer of a fitted tinynet network."""
    params = network.get_params()
    coefs = network.coefs_
    sizes = layer_sizes(network)
    n_parameters = sum(np.size(w) + np.size(b) for w, b in zip(coefs, network.intercepts_))
    optimizer = params.get("optimizer") or params["solver"]
    if optimizer not in FULL_BATCH:
        optimizer += f", lr {params['learning_rate_init']:g}, batch size {params['batch_size']}"
    activation = params["activation"]
    return [
        (
            "architecture",
            f"{'-'.join(map(str, sizes))} ({activation if isinstance(activation, str) else 'custom'}"
            f", dropout {params.get('dropout', 0.0):g})",
        ),
        ("parameters", f"{int(n_parameters):,}"),
        ("dtype", str(np.asarray(coefs[0]).dtype)),
        ("optimizer", f"{optimizer}, alpha {params['alpha']:g}"),
    ]


def _skops_parts(path: str) -> tuple[TrainedModel, Any, str, Any]:
    """A skops file loaded as ``predict`` loads it (only trusted types): the model, the
    estimator, its name (a pipeline's with its steps) and the tinynet network at its end
    (None if there is none)."""
    model = load_skops_model(path)
    estimator = getattr(model.estimator, "estimator", model.estimator)  # not _ByName
    steps = getattr(estimator, "steps", None)
    name = type(estimator).__name__
    if steps is not None:
        name += "(" + ", ".join(type(step).__name__ for _, step in steps) + ")"
    network = steps[-1][1] if steps else estimator
    is_tinynet = hasattr(network, "coefs_") and hasattr(network, "module_")
    return model, estimator, name, network if is_tinynet else None


def _describe_skops(path: str) -> list[tuple[str, str]]:
    """``describe`` of a skops file: what it holds and the tinynet network it ends with."""
    model, estimator, name, network = _skops_parts(path)
    lines = [
        ("file", f"{path} ({os.path.getsize(path):,} bytes, skops file)"),
        ("model", name),
        ("task", model.task),
    ]
    if network is not None:
        lines.extend(_network_lines(network))
    names = model.feature_names
    count = getattr(estimator, "n_features_in_", None)
    if count is not None:
        lines.append(("features", f"{count}: " + (", ".join(names) if names else "(unnamed)")))
    classes = getattr(estimator, "classes_", None)
    if model.task == CLASSIFICATION and classes is not None:
        lines.append(("classes", f"{len(classes)}: " + ", ".join(map(str, classes))))
    return lines


def _training_lines(training: dict) -> list[tuple[str, str]]:
    """``describe``'s lines on the data, epochs and metrics of the training run."""
    lines = []
    rows = training.get("rows")
    rows = rows if isinstance(rows, dict) else {}
    lines.append((
        "trained on",
        f"{training.get('source')}: {rows.get('train')} train, "
        f"{rows.get('validation')} validation, {rows.get('test')} test rows",
    ))  # fmt: skip
    lines.append((
        "training",
        f"{training.get('epochs')} epochs in {_formatted(training.get('seconds'), '.2f')} s, "
        f"final loss {_formatted(training.get('final_loss'), '.4g')}"
        + (f", kept epoch {training['kept_epoch']}" if "kept_epoch" in training else ""),
    ))  # fmt: skip
    schedule = training.get("lr_schedule")
    if isinstance(schedule, dict) and schedule.get("name", "constant") != "constant":
        settings = ", ".join(f"{key} {value}" for key, value in schedule.items() if key != "name")
        lines.append(
            ("lr schedule", f"{schedule.get('name')}" + (f" ({settings})" * bool(settings)))
        )
    metrics = training.get("metrics")
    for part, values in metrics.items() if isinstance(metrics, dict) else ():
        if isinstance(values, dict):
            shown = ", ".join(
                f"{name} {_formatted(value, '.4f')}" for name, value in values.items()
            )
            lines.append((f"{part} metrics", shown))
    return lines


def _formatted(value, spec: str) -> str:
    return format(value, spec) if _is_real(value) else repr(value)


def info_document(path: str) -> dict:
    """What ``tinynet info --json`` prints: the model file described as data."""
    from tinynet.serialization import read_header

    if zipfile.is_zipfile(path):
        return _skops_document(path)
    lines = dict(describe(path))  # checks the file, with the errors of `info`
    model = load_model(path)
    estimator = model.estimator
    params = estimator.get_params()
    document = {
        "file": path,
        "bytes": os.path.getsize(path),
        "format_version": read_header(path).version,
        "model": type(estimator).__name__,
        "task": model.task,
        "layer_sizes": model.layer_sizes,
        "activation": params["activation"] if isinstance(params["activation"], str) else None,
        "dropout": params.get("dropout", 0.0),
        "parameters": int(lines["parameters"].replace(",", "")),
        "dtype": lines["dtype"],
        "optimizer": params.get("optimizer") or params["solver"],
        "learning_rate": params["learning_rate_init"],
        "batch_size": params["batch_size"],
        "alpha": params["alpha"],
        "features": model.feature_names,
        "categories": model.categories,
        "id_column": model.id_column,
        "target": model.target_name,
    }
    if model.task == CLASSIFICATION:
        document["classes"] = [model.label(code) for code in estimator.classes_]
    document["training"] = model.training or None
    return document


def _skops_document(path: str) -> dict:
    """``info_document`` of a skops file."""
    model, estimator, name, network = _skops_parts(path)
    classes = getattr(estimator, "classes_", None)
    document: dict[str, Any] = {
        "file": path,
        "bytes": os.path.getsize(path),
        "format": "skops",
        "model": name,
        "task": model.task,
        "features": model.feature_names,
        "n_features": getattr(estimator, "n_features_in_", None),
        "classes": None if classes is None else [str(c) for c in classes],
    }
    if network is not None:
        lines = dict(_network_lines(network))
        document["layer_sizes"] = layer_sizes(network)
        document["parameters"] = int(lines["parameters"].replace(",", ""))
        document["dtype"] = lines["dtype"]
    return document


def run_info(args) -> int:
    if getattr(args, "json", False):
        from tinynet.cli.jsonout import print_json

        print_json(info_document(args.path))
        return 0
    lines = describe(args.path)
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{printable(name):<{width}}  {printable(value)}")
    return 0
