"""``tinynet train``: data, splits, the estimator, a progress bar and the final report."""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from tinynet.cli._common import (
    FULL_BATCH,
    CLIError,
    UsageError,
    check_output_path,
    prepare_output_dir,
)
from tinynet.cli.data import (
    CLASSIFICATION,
    GENERATOR_OPTIONS,
    REGRESSION,
    Dataset,
    dataset_from_csv,
    load_dataset,
    split_rows,
    standardizer,
)
from tinynet.cli.models import TrainedModel

SOLVERS = ("adam", "sgd", *FULL_BATCH)  # the estimators' solvers; the rest are optimizers


def load_data(args) -> Dataset:
    """The dataset the options name (moons by default)."""
    generator_options = {key: getattr(args, key) for key in GENERATOR_OPTIONS}
    if args.csv is None:
        if args.target is not None:
            raise UsageError("--target goes with --csv (a dataset has its own target)")
        if args.task != "auto":
            raise UsageError("--task goes with --csv (a dataset has its own task)")
        return load_dataset(args.dataset or "moons", generator_options, args.seed)
    if args.target is None:
        raise UsageError("--csv needs --target COL, the column to predict")
    if given := [f"--{key}" for key, value in generator_options.items() if value is not None]:
        raise UsageError(f"{', '.join(given)} applies to generated datasets, not to --csv")
    return dataset_from_csv(args.csv, args.target, args.task)


def make_estimator(args, task: str, callbacks, validation_data):
    """A NeuralNetClassifier or NeuralNetRegressor configured from the options."""
    from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

    kwargs = {
        "hidden_layer_sizes": args.hidden,
        "activation": args.activation,
        "alpha": args.alpha,
        "batch_size": args.batch_size,
        "learning_rate_init": args.lr,
        "max_iter": args.epochs,
        "random_state": args.seed,
        "dropout": args.dropout,
        "dtype": args.dtype,
        "callbacks": callbacks,
        "validation_data": validation_data,
    }
    if args.optimizer in SOLVERS:
        kwargs["solver"] = args.optimizer
    else:
        kwargs["optimizer"] = args.optimizer
    estimator_class = NeuralNetClassifier if task == CLASSIFICATION else NeuralNetRegressor
    return estimator_class(**kwargs)


class Progress:
    """An estimator callback driving a tqdm bar: epochs, live loss and validation metric."""

    def __init__(self, total: int, metric_name: str, enabled: bool):
        self.metric_name = metric_name
        self.history = None  # the estimator's per-epoch history, kept for the plots
        self.bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm is optional: train without a bar
                return
            self.bar = tqdm(total=total, unit="epoch", desc="training", leave=False,
                            file=sys.stderr, dynamic_ncols=True)  # fmt: skip

    def __call__(self, estimator, history) -> bool:
        self.history = history
        if self.bar is not None:
            shown = {"loss": f"{history['loss'][-1]:.4f}"}
            if history["val_score"] and history["val_score"][-1] is not None:
                shown[f"val_{self.metric_name}"] = f"{history['val_score'][-1]:.4f}"
            self.bar.set_postfix(shown, refresh=False)
            self.bar.update(1)
        return False

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def metrics(model: TrainedModel, X: np.ndarray, y: np.ndarray) -> dict:
    """Accuracy for classification; R^2 and RMSE (in the target's units) for regression."""
    from sklearn.metrics import accuracy_score, mean_squared_error, r2_score

    predictions = model.predict(X)
    if model.task == CLASSIFICATION:
        return {"accuracy": float(accuracy_score(y, predictions))}
    result = {"r2": float(r2_score(y, predictions)) if len(y) > 1 else float("nan")}
    result["rmse"] = float(np.sqrt(mean_squared_error(y, predictions)))
    return result


def run_train(args) -> int:
    if args.validation_split + args.test_split >= 1:
        raise UsageError("--validation-split plus --test-split must be below 1")
    if args.optimizer in FULL_BATCH and args.dropout > 0:
        raise UsageError(f"--dropout makes the loss random, which {args.optimizer} cannot minimize")
    if args.save is not None:  # fail before training, not after
        check_output_path(args.save, "the model")
    if args.plot is not None:
        from tinynet.cli.plots import prepare_plot_dir

        prepare_plot_dir(args.plot)
    if args.doctor is not None:
        prepare_doctor_dir(args.doctor)
    data = load_data(args)
    parts = split_rows(data, args.validation_split, args.test_split, args.seed)
    model = TrainedModel(
        None, data.task, data.feature_names, data.target_name, data.class_labels,
        *standardizer(data.X[parts.train]),
    )  # fmt: skip
    if data.task == REGRESSION:  # a scaled target trains well whatever its units
        mean, scale = standardizer(data.y[parts.train, None])
        model.target_mean, model.target_scale = float(mean[0]), float(scale[0])
    X, y = model.transform(data.X), model.transform_target(data.y)
    validation = None
    if len(parts.validation):
        validation = (X[parts.validation], y[parts.validation])
    metric_name = "accuracy" if data.task == CLASSIFICATION else "r2"
    interactive = sys.stderr.isatty() and not args.quiet
    progress = Progress(args.epochs, metric_name, interactive)
    callbacks: list = [progress]
    if args.doctor is not None:
        from tinynet.lab import TrainingDoctor

        doctor = TrainingDoctor(X[parts.train])
        callbacks.append(doctor)
    estimator = model.estimator = make_estimator(args, data.task, callbacks, validation)

    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    start = time.perf_counter()
    try:
        # Thread start-up and sharing the cores cost more than they save on the small matrix
        # products of a typical CLI network: one thread is several times faster on 2 cores.
        with warnings.catch_warnings(), threadpool_limits(args.threads, user_api="blas"):
            # The report says whether training ran out of epochs; no warning needed.
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X[parts.train], y[parts.train])
    finally:
        progress.close()
    seconds = time.perf_counter() - start

    scores = {
        name: metrics(model, data.X[rows], data.y[rows])
        for name, rows in (("train", parts.train), ("validation", parts.validation),
                           ("test", parts.test))
        if len(rows)
    }  # fmt: skip
    epochs = int(estimator.n_iter_)
    model.training = {
        "source": data.source,
        "rows": {name: int(len(getattr(parts, name))) for name in ("train", "validation", "test")},
        "epochs": epochs,
        "seconds": round(seconds, 3),
        "final_loss": float(estimator.loss_curve_[-1]),
        "metrics": scores,
    }
    print_report(args, data, model, parts, scores, epochs, seconds)
    if args.save is not None:
        model.save(args.save)
        print(f"saved the model to {args.save}")
    if args.plot is not None:
        from tinynet.cli.plots import write_plots

        test_score = scores["test"][metric_name] if "test" in scores else None
        history = progress.history or estimator.history_
        paths = write_plots(
            args.plot, history, model, data.X, data.y, metric_name, data.source, test_score
        )
        print("wrote " + ", ".join(paths))
    if args.doctor is not None:
        for warning in doctor.warnings():
            print(f"doctor   {warning}")
        print("wrote " + ", ".join(doctor.plot(args.doctor)))
    return 0


def prepare_doctor_dir(directory: str) -> None:
    """Check matplotlib is there and create ``directory`` before any training is done."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CLIError(
            "--doctor needs matplotlib, which is not installed: pip install matplotlib"
        ) from None
    prepare_output_dir(directory, "--doctor")


def print_report(args, data, model, parts, scores, epochs, seconds) -> None:
    sizes = model.layer_sizes
    if data.task == CLASSIFICATION:
        what = f"{data.n_classes} classes"
    else:
        what = f"target {data.target_name!r}"
    counts = f"{len(parts.train)} train, {len(parts.validation)} validation, {len(parts.test)} test"
    optimizer = (
        args.optimizer if args.optimizer in FULL_BATCH else f"{args.optimizer} (lr {args.lr:g})"
    )
    stopped = "the --epochs limit" if epochs >= args.epochs else "the loss stopped improving"
    print(
        f"data     {data.source}: {len(data.y)} rows, {data.X.shape[1]} features, {what} ({counts})"
    )
    print(f"network  {'-'.join(map(str, sizes))} {args.activation}, {optimizer}, {args.dtype}")
    print(f"trained  {epochs} epochs in {seconds:.2f} s (stopped: {stopped})")
    columns = ["accuracy"] if data.task == CLASSIFICATION else ["r2", "rmse"]
    titles = {"accuracy": "accuracy", "r2": "R^2", "rmse": "RMSE"}
    formats = {"accuracy": ">12.4f", "r2": ">12.4f", "rmse": ">12.4g"}
    print(" " * 12 + "".join(f"{titles[c]:>12}" for c in columns))
    for part, values in scores.items():
        print(f"  {part:<10}" + "".join(format(values[c], formats[c]) for c in columns))
