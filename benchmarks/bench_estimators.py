"""tinynet's estimators against scikit-learn's MLP: cross-validated score and fit time.

Both libraries get the same hyper-parameters, the same folds and the same dtype, each inside
``Pipeline(StandardScaler(), estimator)``; the table reports the mean 5-fold score and the
total fit time of the folds (the best of ``--repeat`` runs, run alternately). For stable
numbers pin BLAS to one thread for both libraries; on a machine shared with other work,
``--clock cpu`` times the process's CPU time instead of the elapsed time::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_estimators.py
    python benchmarks/bench_estimators.py --datasets digits,iris --max-iter 50 --dtype float32
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_estimators.py --clock cpu --early-stopping
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

DATASETS = {
    "digits": (datasets.load_digits, "classifier"),
    "breast_cancer": (datasets.load_breast_cancer, "classifier"),
    "wine": (datasets.load_wine, "classifier"),
    "iris": (datasets.load_iris, "classifier"),
    "diabetes": (datasets.load_diabetes, "regressor"),
}
ESTIMATORS = {
    "classifier": (MLPClassifier, NeuralNetClassifier),
    "regressor": (MLPRegressor, NeuralNetRegressor),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare tinynet.estimators with scikit-learn's MLP (score and fit time).",
    )
    parser.add_argument(
        "--datasets",
        default=",".join(DATASETS),
        help=f"comma-separated datasets among {', '.join(DATASETS)} (default: all)",
    )
    parser.add_argument("--max-iter", type=int, default=200, help="epochs (default 200)")
    parser.add_argument(
        "--dtype", choices=("float64", "float32"), default="float64", help="data dtype"
    )
    parser.add_argument("--solver", choices=("adam", "sgd", "lbfgs"), default="adam")
    parser.add_argument(
        "--hidden", default="100", help="hidden layer sizes, comma-separated (default 100)"
    )
    parser.add_argument("--cv", type=int, default=5, help="number of folds (default 5)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per library; the fastest counts (default 3)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random_state of both estimators")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="elapsed time (default) or the process's CPU time (steadier on a busy machine)",
    )
    parser.add_argument(
        "--early-stopping",
        action="store_true",
        help="early_stopping=True for both (validation accuracy scored after every epoch)",
    )
    args = parser.parse_args(argv)
    args.datasets = [name.strip() for name in args.datasets.split(",") if name.strip()]
    unknown = sorted(set(args.datasets) - set(DATASETS))
    if unknown:
        parser.error(f"unknown datasets: {', '.join(unknown)}")
    args.hidden = tuple(int(size) for size in args.hidden.split(",") if size.strip())
    return args


def evaluate(estimator, X, y, folds, clock) -> tuple[float, float]:
    """Mean test score and total fit time over the folds (``cross_validate``'s protocol:
    a fresh clone fitted per fold, scored by its ``score``)."""
    scores, seconds = [], 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for train, test in folds:
            pipeline = clone(make_pipeline(StandardScaler(), estimator))
            start = clock()
            pipeline.fit(X[train], y[train])
            seconds += clock() - start
            scores.append(pipeline.score(X[test], y[test]))
    return float(np.mean(scores)), seconds


def run(args) -> list[dict]:
    rows = []
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    for name in args.datasets:
        loader, kind = DATASETS[name]
        X, y = loader(return_X_y=True)
        X = X.astype(args.dtype)
        splitter = StratifiedKFold if kind == "classifier" else KFold
        folds = list(splitter(args.cv, shuffle=True, random_state=0).split(X, y))
        params = dict(
            hidden_layer_sizes=args.hidden,
            solver=args.solver,
            max_iter=args.max_iter,
            random_state=args.seed,
            early_stopping=args.early_stopping,
        )
        reference, ours = (cls(**params) for cls in ESTIMATORS[kind])
        times = {"sklearn": [], "tinynet": []}
        scores = {}
        for _ in range(args.repeat):  # alternate, so both see the same machine load
            for label, estimator in (("sklearn", reference), ("tinynet", ours)):
                scores[label], seconds = evaluate(estimator, X, y, folds, clock)
                times[label].append(seconds)
        rows.append(
            {
                "dataset": name,
                "shape": f"{X.shape[0]}x{X.shape[1]}",
                "metric": "accuracy" if kind == "classifier" else "R^2",
                "sklearn_score": scores["sklearn"],
                "tinynet_score": scores["tinynet"],
                "sklearn_time": min(times["sklearn"]),
                "tinynet_time": min(times["tinynet"]),
            }
        )
    return rows


def markdown(rows: list[dict], args) -> str:
    lines = [
        f"solver={args.solver}, hidden_layer_sizes={args.hidden}, max_iter={args.max_iter}, "
        f"dtype={args.dtype}, early_stopping={args.early_stopping}, {args.cv}-fold CV, "
        f"fit time = sum over folds (best of {args.repeat}, {args.clock} clock)",
        "",
        "| dataset | n x d | metric | scikit-learn | tinynet | diff | scikit-learn fit (s) "
        "| tinynet fit (s) | speed-up |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['dataset']} | {row['shape']} | {row['metric']} "
            f"| {row['sklearn_score']:.4f} | {row['tinynet_score']:.4f} "
            f"| {row['tinynet_score'] - row['sklearn_score']:+.4f} "
            f"| {row['sklearn_time']:.3f} | {row['tinynet_time']:.3f} "
            f"| {row['sklearn_time'] / row['tinynet_time']:.2f}x |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    rows = run(args)
    print(markdown(rows, args))
    print(f"\n(total {time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
