"""``tinynet evaluate``: a saved model's metrics on labelled rows, from ``sklearn.metrics``.

Classification: accuracy, balanced accuracy, log-loss, ROC AUC (two classes), precision,
recall, F1 and support per class, and the confusion matrix. Regression: R^2, RMSE and MAE in
the target's units. ``--plot DIR`` draws the confusion matrix or predicted against true.
"""

from __future__ import annotations

import math
import os

import numpy as np

from tinynet.cli._common import CLIError
from tinynet.cli.data import REGRESSION, read_csv
from tinynet.cli.jsonout import print_json
from tinynet.cli.models import TrainedModel, load_model


def _label_text(cell: str) -> str:
    """``"1.0"`` -> ``"1"``: a number label as the CLI stores it."""
    try:
        value = float(cell)
    except ValueError:
        return cell
    return str(int(value)) if value.is_integer() else cell


def class_indices(model: TrainedModel, cells: list[str], where) -> np.ndarray:
    """Each label's column in ``predict_proba``; a label the model does not know is an error."""
    labels = [model.label(code) for code in model.estimator.classes_]
    index = {label: i for i, label in enumerate(labels)}
    out = np.empty(len(cells), dtype=np.intp)
    for row, cell in enumerate(cells):
        found = index.get(cell, index.get(_label_text(cell)))
        if found is None:
            raise CLIError(
                f"{where(row)}: {cell!r} is not a class of the model "
                f"({', '.join(repr(label) for label in labels)})"
            )
        out[row] = found
    return out


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, labels: list[str]) -> dict:
    """The metrics of class indices ``y_true`` against probabilities ``proba``."""
    from sklearn import metrics

    codes = list(range(len(labels)))
    y_pred = np.argmax(proba, axis=1)
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=codes, zero_division=0.0
    )
    result = {
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "balanced_accuracy": metrics.balanced_accuracy_score(y_true, y_pred),
        "log_loss": metrics.log_loss(y_true, proba, labels=codes),
    }
    if len(labels) == 2:  # undefined (null) when the rows hold one class only
        both = len(np.unique(y_true)) == 2
        result["roc_auc"] = metrics.roc_auc_score(y_true, proba[:, 1]) if both else None
    per_class = {
        label: {"precision": p, "recall": r, "f1": f, "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support)
    }
    matrix = metrics.confusion_matrix(y_true, y_pred, labels=codes)
    return {
        "metrics": {k: None if v is None else float(v) for k, v in result.items()},
        "per_class": per_class,
        "confusion_matrix": {"labels": labels, "counts": matrix.tolist()},
    }


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    from sklearn import metrics

    r2 = metrics.r2_score(y_true, y_pred) if len(y_true) > 1 else math.nan
    return {
        "metrics": {
            "r2": float(r2),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y_true, y_pred))),
            "mae": float(metrics.mean_absolute_error(y_true, y_pred)),
        }
    }


def run_evaluate(args) -> int:
    if args.plot is not None:
        from tinynet.cli.plots import prepare_plot_dir

        prepare_plot_dir(args.plot)
    model = load_model(args.model)
    target = args.target or model.target_name
    table = read_csv(args.csv, args.delimiter)
    table.require_columns([target], "target column (--target)")
    X = model.features(table)
    document = {
        "model": args.model,
        "data": args.csv,
        "task": model.task,
        "rows": len(table.rows),
        "target": target,
    }
    if model.task == REGRESSION:
        y_true = table.numeric([target])[:, 0]
        y_pred = model.predict(X)
        document.update(regression_metrics(y_true, y_pred))
    else:
        labels = [model.label(code) for code in model.estimator.classes_]
        y_true = class_indices(model, table.column(target), lambda r: table.where(r, target))
        proba = model.predict_proba(X)
        y_pred = np.argmax(proba, axis=1)
        document.update(classification_metrics(y_true, proba, labels))
    if args.plot is not None:
        from tinynet.cli.plots import write_evaluation_plot

        title = f"{os.path.basename(args.csv)}: {len(table.rows)} rows"
        document["plot"] = write_evaluation_plot(args.plot, model, y_true, y_pred, title)
    if args.json:
        print_json(document)
    else:
        print_evaluation(document)
    return 0


_TITLES = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "log_loss": "log-loss",
    "roc_auc": "ROC AUC",
    "r2": "R^2",
    "rmse": "RMSE",
    "mae": "MAE",
}


def print_evaluation(document: dict) -> None:
    print(f"model    {document['model']} ({document['task']})")
    print(f"data     {document['data']}: {document['rows']} rows, target {document['target']!r}")
    for name, value in document["metrics"].items():
        shown = "n/a" if value is None or math.isnan(value) else f"{value:.4f}"
        print(f"{_TITLES[name]:<19}{shown}")
    if "per_class" in document:
        width = max(8, *(len(label) for label in document["per_class"]))
        print(f"\n{'class':<{width}}  precision     recall         f1    support")
        for label, row in document["per_class"].items():
            print(
                f"{label:<{width}}  {row['precision']:>9.4f}  {row['recall']:>9.4f}  "
                f"{row['f1']:>9.4f}  {row['support']:>9d}"
            )
        labels = document["confusion_matrix"]["labels"]
        counts = document["confusion_matrix"]["counts"]
        cell = max(6, *(len(label) for label in labels), *(len(str(c)) for r in counts for c in r))
        print("\nconfusion matrix (rows: true, columns: predicted)")
        print(" " * width + "".join(f"  {label:>{cell}}" for label in labels))
        for label, row in zip(labels, counts):
            print(f"{label:<{width}}" + "".join(f"  {count:>{cell}}" for count in row))
    if "plot" in document:
        print(f"wrote {document['plot']}")
