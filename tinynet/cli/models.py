"""A trained estimator with what the command line adds around it, and `predict` / `info`.

The command line standardizes features (and regression targets) with statistics of the
training split and keeps class labels as text; all of it travels in the model file through
``estimator.save(path, extra=...)``, so a saved model predicts from raw CSV columns.
"""

from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinynet.cli._common import (
    FULL_BATCH,
    CLIError,
    atomic_output,
    check_output_path,
    describe_os_error,
)
from tinynet.cli.data import CLASSIFICATION, REGRESSION, read_csv

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
        coefs = self.estimator.coefs_
        return [int(np.shape(coefs[0])[0])] + [int(np.shape(c)[1]) for c in coefs]

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
        }

    def save(self, path: str) -> None:
        try:
            self.estimator.save(path, extra=self.extra())
        except OSError as error:
            error.filename = path
            raise CLIError(describe_os_error(error, "write the model to")) from error


def load_model(path: str) -> TrainedModel:
    """Load a model saved by ``tinynet train --save`` (or by ``estimator.save``)."""
    from tinynet.estimators import load

    path = os.fspath(path)
    if os.path.isdir(path):
        raise CLIError(f"{path!r} is a directory, not a model file")
    try:
        estimator, extra = load(path)
    except OSError as error:
        raise CLIError(describe_os_error(error, "read the model")) from error
    except ValueError as error:  # FormatError included
        message = str(error)
        raise CLIError(message if path in message else f"{path}: {message}") from error
    extra = extra or {}
    if "tinynet_cli" not in extra:  # saved from Python: no scaler, names from the estimator
        is_classifier = hasattr(estimator, "classes_")
        names = getattr(estimator, "feature_names_in_", None)
        return TrainedModel(
            estimator,
            CLASSIFICATION if is_classifier else REGRESSION,
            None if names is None else [str(n) for n in names],
            "prediction",
            None,  # the estimator predicts its labels themselves, not codes
        )
    if extra["tinynet_cli"] > CLI_FORMAT:
        raise CLIError(f"{path}: saved by a newer tinynet; upgrade tinynet to read it")
    return TrainedModel(
        estimator, extra["task"], extra["feature_names"], extra["target_name"],
        extra["class_labels"], extra["scaler_mean"], extra["scaler_scale"],
        extra["target_mean"], extra["target_scale"], extra.get("training") or {},
    )  # fmt: skip


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
    model = load_model(args.model)
    table = read_csv(args.input)
    if model.feature_names is not None:
        table.require_columns(model.feature_names, "the model's feature columns")
        names = model.feature_names
    else:
        if len(table.columns) != model.n_features:
            raise CLIError(
                f"{args.input}: the model takes {model.n_features} features (by position, "
                f"it has no feature names) but the file has {len(table.columns)} columns"
            )
        names = table.columns
    header, rows = prediction_table(model, table.numeric(names))

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

    try:
        header = read_header(path)
    except OSError as error:
        raise CLIError(describe_os_error(error, "read the model")) from error
    except ValueError as error:
        raise CLIError(str(error)) from error
    model = load_model(path)
    estimator = model.estimator
    params = estimator.get_params()
    sizes = "-".join(map(str, model.layer_sizes))
    n_parameters = sum(
        np.size(w) + np.size(b) for w, b in zip(estimator.coefs_, estimator.intercepts_)
    )
    optimizer = params.get("optimizer") or params["solver"]
    if optimizer not in FULL_BATCH:
        optimizer += f", lr {params['learning_rate_init']:g}, batch size {params['batch_size']}"
    size = os.path.getsize(path)
    lines = [
        ("file", f"{path} ({size:,} bytes, tinynet format version {header.version})"),
        ("model", type(estimator).__name__),
        ("task", model.task),
        (
            "architecture",
            f"{sizes} ({params['activation']}, dropout {params.get('dropout', 0.0):g})",
        ),
        ("parameters", f"{int(n_parameters):,}"),
        ("dtype", str(np.asarray(estimator.coefs_[0]).dtype)),
        ("optimizer", f"{optimizer}, alpha {params['alpha']:g}"),
    ]
    names = model.feature_names
    lines.append(
        ("features", f"{model.n_features}: " + (", ".join(names) if names else "(unnamed)"))
    )
    lines.append(("target", model.target_name))
    if model.task == CLASSIFICATION:
        labels = [model.label(code) for code in estimator.classes_]
        lines.append(("classes", f"{len(labels)}: " + ", ".join(labels)))
    training = model.training
    if training:
        rows = training.get("rows", {})
        lines.append((
            "trained on",
            f"{training.get('source')}: {rows.get('train')} train, "
            f"{rows.get('validation')} validation, {rows.get('test')} test rows",
        ))  # fmt: skip
        lines.append((
            "training",
            f"{training.get('epochs')} epochs in {training.get('seconds', 0.0):.2f} s, "
            f"final loss {training.get('final_loss', float('nan')):.4g}",
        ))  # fmt: skip
        for part, metrics in (training.get("metrics") or {}).items():
            shown = ", ".join(f"{name} {value:.4f}" for name, value in metrics.items())
            lines.append((f"{part} metrics", shown))
    return lines


def run_info(args) -> int:
    lines = describe(args.path)
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name:<{width}}  {value}")
    return 0
