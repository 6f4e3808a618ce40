"""``tinynet train``: data, splits, the estimator, a progress bar and the final report."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from tinynet.cli._common import (
    FULL_BATCH,
    CLIError,
    UsageError,
    check_output_path,
    interrupts_stop_the_command,
    prepare_output_dir,
)
from tinynet.cli.data import (
    CLASSIFICATION,
    GENERATOR_OPTIONS,
    REGRESSION,
    Dataset,
    Splits,
    check_scalable,
    dataset_from_csv,
    encoded_names,
    load_dataset,
    split_rows,
    standardizer,
)
from tinynet.cli.jsonout import print_json, quiet_stdout
from tinynet.cli.models import TrainedModel
from tinynet.cli.schedules import check_schedule, make_scheduler, schedule_settings, steps_per_epoch
from tinynet.cli.stopping import EarlyStopping

if TYPE_CHECKING:
    from tinynet.lab import TrainingDoctor

SOLVERS = ("adam", "sgd", *FULL_BATCH)  # the estimators' solvers; the rest are optimizers
# The entries of the training summary that the JSON document's "training" repeats.
_REPORTED = ("epochs", "kept_epoch", "seconds", "final_loss", "learning_rates")


def load_data(args, resumed=None) -> Dataset:
    """The dataset the options name (moons by default); ``resumed``: the model to continue."""
    generator_options = {key: getattr(args, key) for key in GENERATOR_OPTIONS}
    if args.csv is None:
        for option in ("drop", "id", "delimiter"):
            if getattr(args, option) is not None:
                raise UsageError(f"--{option} goes with --csv")
        if args.features is not None:  # here: the number of features to generate
            generator_options["features"] = feature_count(args.features)
        if args.target is not None:
            raise UsageError("--target goes with --csv (a dataset has its own target)")
        if args.task != "auto":
            raise UsageError("--task goes with --csv (a dataset has its own task)")
        return load_dataset(args.dataset or "moons", generator_options, args.seed)
    if args.target is None:
        raise UsageError("--csv needs --target COL, the column to predict")
    features = generator_options.pop("features")
    if given := [f"--{key}" for key, value in generator_options.items() if value is not None]:
        raise UsageError(f"{', '.join(given)} applies to generated datasets, not to --csv")
    features = column_names(features, "--features")
    id_column, categories = args.id, None
    if resumed is not None:
        features, categories = features or resumed.feature_names, resumed.categories
    data = dataset_from_csv(
        args.csv, args.target, args.task, features, column_names(args.drop, "--drop") or [],
        id_column, args.delimiter, categories,
    )  # fmt: skip
    for name in identifier_like(data):
        print(
            f"tinynet: warning: feature column {name!r} looks like a row identifier (distinct "
            f"integers); if it only names the rows, pass --id {name} (or --drop {name})",
            file=sys.stderr,
        )
    return data


def identifier_like(data: Dataset) -> list[str]:
    """Number columns named like an id (``id``, ``user_id``, ``index``) that hold distinct
    integers: most likely row names, which a network would learn by heart."""
    found, column = [], 0
    for name in data.feature_names:
        width = len(data.categories.get(name, ())) or 1  # a text column is one-hot
        lowered = name.lower()
        named_like_id = lowered in ("id", "index", "row", "key") or lowered.endswith(("_id", " id"))
        if named_like_id and name not in data.categories:
            values = data.X[:, column]
            if np.all(values == np.round(values)) and len(np.unique(values)) == len(values):
                found.append(name)
        column += width
    return found


def feature_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise UsageError(
            f"--features {text}: a generated dataset takes a number of features (a positive "
            "integer); column names go with --csv"
        )
    return count


def column_names(text: str | None, option: str) -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]``; None stays None."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise UsageError(f"{option} needs column names, comma-separated, such as a,b")
    return names


def class_weight(text: str, labels: list[str] | None):
    """``"balanced"``, or ``"spam:5,ham:1"`` as ``{code: weight}`` (unnamed classes weigh 1)."""
    if labels is None:
        raise UsageError("--class-weight is for classification")
    if text == "balanced":
        return text
    weights = {}
    for part in filter(None, (part.strip() for part in text.split(","))):
        label, _, value = part.rpartition(":")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not label or not weight >= 0:
            raise UsageError(
                f"--class-weight: expected 'balanced' or LABEL:WEIGHT pairs such as spam:5,ham:1 "
                f"with weights >= 0; got {part!r}"
            )
        if label.strip() not in labels:
            raise UsageError(
                f"--class-weight: {label.strip()!r} is not a class ({', '.join(map(repr, labels))})"
            )
        weights[labels.index(label.strip())] = weight
    return {code: weights.get(code, 1.0) for code in range(len(labels))}


def make_estimator(args, data, callbacks, validation_data, train_rows: int):
    """A NeuralNetClassifier or NeuralNetRegressor configured from the options, to train on
    ``train_rows`` rows."""
    from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

    kwargs = {
        "hidden_layer_sizes": args.hidden,
        "activation": args.activation,
        "alpha": args.alpha,
        "batch_size": args.batch_size,
        "learning_rate_init": learning_rate(args),
        "max_iter": args.epochs,
        "random_state": args.seed,
        "dropout": args.dropout,
        "dtype": args.dtype,
        "callbacks": callbacks,
        "validation_data": validation_data,
        "n_iter_no_change": patience(args),
        "lr_scheduler": make_scheduler(
            schedule_settings(args),
            learning_rate(args),
            args.epochs,
            steps_per_epoch(train_rows, args.batch_size),
        ),
    }
    if args.class_weight is not None:
        kwargs["class_weight"] = class_weight(args.class_weight, data.class_labels)
    if args.optimizer in SOLVERS:
        kwargs["solver"] = args.optimizer
    else:
        kwargs["optimizer"] = args.optimizer
    estimator_class = NeuralNetClassifier if data.task == CLASSIFICATION else NeuralNetRegressor
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


def learning_rate(args) -> float:
    """``--lr``, or its default: 0.01, and 1.0 (PyTorch's) for adadelta."""
    if args.lr is not None:
        return args.lr
    return 1.0 if args.optimizer == "adadelta" else 0.01


def patience(args) -> int:
    """Epochs without improvement before training stops (10, scikit-learn's default)."""
    return 10 if args.patience is None else args.patience


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
    with quiet_stdout(args.json):
        document = train(args)
    if args.json:
        print_json(document)
    return 0


def train(args) -> dict:
    """Run ``tinynet train``, printing its report; return the report as a JSON document."""
    _check_options(args)
    resumed = None
    if args.resume is not None:
        from tinynet.cli import build_parser
        from tinynet.cli.resume import adopt, load_resumed

        resumed = load_resumed(args, vars(build_parser().parse_args(["train"])))
    data = load_data(args, resumed)
    if resumed is not None:
        adopt(data, resumed, data.source)
    parts = split_rows(data, args.validation_split, args.test_split, args.seed)
    check_classes_in_training(data, parts)
    model = resumed or _new_model(data, parts)
    _check_scaling(data, parts, model, fit_target=resumed is None)
    X, y = model.transform(data.X), model.transform_target(data.y)
    validation = None
    if len(parts.validation):
        validation = (X[parts.validation], y[parts.validation])
    metric_name = "accuracy" if data.task == CLASSIFICATION else "r2"
    progress, doctor, stopper = _watchers(args, X[parts.train], validation is not None, metric_name)
    callbacks = [c for c in (progress, doctor, stopper) if c is not None]
    if resumed is None:
        estimator = model.estimator = make_estimator(
            args, data, callbacks, validation, len(parts.train)
        )
    else:
        estimator = model.estimator
        estimator.set_params(
            callbacks=callbacks, validation_data=validation, n_iter_no_change=patience(args)
        )
    print_setup(args, data, model, parts)
    try:
        epochs, seconds = _fit(args, estimator, X[parts.train], y[parts.train], resumed, stopper)
    finally:
        progress.close()
    if stopper is not None:
        stopper.restore(estimator)

    scores = _scores(model, data, parts)
    _record_training(args, model, data, parts, scores, epochs, seconds, stopper)
    network = network_settings(args, model, data)
    print_report(args, data, network, scores, epochs, seconds, stopper)
    document: dict[str, Any] = {
        "data": {
            "source": data.source, "task": data.task, "rows": model.training["rows"],
            "features": data.feature_names, "target": data.target_name,
            "classes": data.class_labels,
        },
        "network": network,
        "training": {
            "unit": _unit(network["optimizer"]),
            **{k: model.training[k] for k in _REPORTED},
            "stopped": stop_reason(args, network["optimizer"], epochs, stopper),
        },
        "metrics": scores,
    }  # fmt: skip
    document.update(_write_outputs(args, model, data, scores, metric_name, progress, doctor))
    return document


def _check_options(args: argparse.Namespace) -> None:
    """Refuse contradictory options and unwritable outputs before any data is loaded."""
    if args.validation_split + args.test_split >= 1:
        raise UsageError("--validation-split plus --test-split must be below 1")
    check_schedule(args)
    if args.optimizer in FULL_BATCH and args.dropout > 0:
        raise UsageError(f"--dropout makes the loss random, which {args.optimizer} cannot minimize")
    if args.optimizer in FULL_BATCH and args.lr is not None:
        raise UsageError(
            f"--lr is a stochastic optimizer's learning rate; {args.optimizer} has none (it "
            "finds its own steps): drop --lr, or choose a stochastic --optimizer such as adam"
        )
    if args.optimizer in FULL_BATCH and args.batch_size != "auto":
        raise UsageError(
            f"--batch-size sets minibatches; {args.optimizer} uses every training row at each "
            "iteration: drop --batch-size, or choose a stochastic --optimizer such as adam"
        )
    if args.patience is not None and not args.early_stopping:
        raise UsageError("--patience sets early stopping, which --no-early-stopping turns off")
    if args.patience is not None and args.validation_split == 0:
        raise UsageError("--patience needs validation rows; --validation-split is 0")
    if args.save is not None:  # fail before training, not after
        check_output_path(args.save, "the model")
    if args.plot is not None:
        from tinynet.cli.plots import prepare_plot_dir

        prepare_plot_dir(args.plot)
    if args.doctor is not None:
        prepare_doctor_dir(args.doctor)


def _new_model(data: Dataset, parts: Splits) -> TrainedModel:
    """A model not yet trained, with the feature scaling of the training rows."""
    return TrainedModel(
        None, data.task, data.feature_names, data.target_name, data.class_labels,
        *standardizer(data.X[parts.train]), categories=data.categories, id_column=data.id_column,
    )  # fmt: skip


def _check_scaling(data: Dataset, parts: Splits, model: TrainedModel, fit_target: bool) -> None:
    """Check the features scale; with ``fit_target``, also scale a regression target."""
    names = encoded_names(data.feature_names, data.categories)
    check_scalable(data.X, model.mean, model.scale, names, data.source)
    if data.task == REGRESSION and fit_target:  # scaled targets train well in any units
        mean, scale = standardizer(data.y[parts.train, None])
        check_scalable(data.y[:, None], mean, scale, [data.target_name], data.source)
        model.target_mean, model.target_scale = float(mean[0]), float(scale[0])


def _watchers(
    args: argparse.Namespace, X_train: np.ndarray, validates: bool, metric_name: str
) -> tuple[Progress, TrainingDoctor | None, EarlyStopping | None]:
    """The callbacks: the progress bar, the doctor (``--doctor``), the early stopper."""
    progress = Progress(args.epochs, metric_name, sys.stderr.isatty() and not args.quiet)
    doctor = None
    if args.doctor is not None:
        from tinynet.lab import TrainingDoctor

        doctor = TrainingDoctor(X_train)
    stopper = None
    if args.early_stopping and validates:
        stopper = EarlyStopping(patience(args))
    return progress, doctor, stopper


def _fit(
    args: argparse.Namespace,
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    resumed: TrainedModel | None,
    stopper: EarlyStopping | None,
) -> tuple[int, float]:
    """Train (or continue training) on ``X, y``; return the epochs run and the seconds taken."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    start = time.perf_counter()
    # Thread start-up and sharing the cores cost more than they save on the small matrix
    # products of a typical CLI network: one thread is several times faster on 2 cores.
    with (
        interrupts_stop_the_command(),
        warnings.catch_warnings(),
        threadpool_limits(args.threads, user_api="blas"),
    ):
        # The report says whether training ran out of epochs; no warning needed.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if resumed is None:
            estimator.fit(X, y)
            epochs = int(estimator.n_iter_)
        else:
            from tinynet.cli.resume import continue_training

            epochs = continue_training(estimator, X, y, args.epochs, stopper)
    return epochs, time.perf_counter() - start


def _scores(model: TrainedModel, data: Dataset, parts: Splits) -> dict:
    """The metrics of each split that has rows."""
    return {
        name: metrics(model, data.X[rows], data.y[rows])
        for name, rows in (("train", parts.train), ("validation", parts.validation),
                           ("test", parts.test))
        if len(rows)
    }  # fmt: skip


def _record_training(
    args: argparse.Namespace,
    model: TrainedModel,
    data: Dataset,
    parts: Splits,
    scores: dict,
    epochs: int,
    seconds: float,
    stopper: EarlyStopping | None,
) -> None:
    """Store the training summary in ``model.training``, which ``--save`` writes."""
    estimator = model.estimator
    model.training = {
        "source": data.source,
        "rows": {name: int(len(getattr(parts, name))) for name in ("train", "validation", "test")},
        "epochs": epochs,
        "kept_epoch": stopper.best_epoch if stopper is not None and stopper.best_epoch else epochs,
        "seconds": round(seconds, 3),
        "final_loss": float(estimator.loss_curve_[-1]),
        "metrics": scores,
        "lr_schedule": schedule_settings(args),
        # The learning rate each epoch of this run started with (None: a full-batch solver).
        "learning_rates": estimator.history_.get("lr", [])[-epochs:] if epochs else [],
    }
    if args.resume is not None:
        model.training["resumed_from"] = args.resume
        model.training["total_epochs"] = len(estimator.loss_curve_)


def _write_outputs(
    args: argparse.Namespace,
    model: TrainedModel,
    data: Dataset,
    scores: dict,
    metric_name: str,
    progress: Progress,
    doctor: TrainingDoctor | None,
) -> dict[str, Any]:
    """Save the model, draw the plots and the doctor's report; return what was written."""
    written: dict[str, Any] = {}
    if args.save is not None:
        model.save(args.save)
        written["saved"] = args.save
        print(f"saved the model to {args.save}")
    if args.plot is not None:
        from tinynet.cli.plots import write_plots

        test_score = scores["test"][metric_name] if "test" in scores else None
        history = progress.history or model.estimator.history_
        paths = write_plots(
            args.plot, history, model, data.X, data.y, metric_name, data.source, test_score
        )
        written["plots"] = paths
        print("wrote " + ", ".join(paths))
    if doctor is not None:
        written["doctor"] = {"warnings": list(doctor.warnings())}
        for warning in written["doctor"]["warnings"]:
            print(f"doctor   {warning}")
        written["doctor"]["plots"] = doctor.plot(args.doctor)
        print("wrote " + ", ".join(written["doctor"]["plots"]))
    return written


def check_classes_in_training(data: Dataset, parts) -> None:
    """A class whose rows all fell in the validation split cannot be learned or scored."""
    if data.task != CLASSIFICATION or not len(parts.validation):
        return
    missing = np.setdiff1d(data.y[parts.validation], data.y[parts.train])
    if len(missing):
        class_labels = data.class_labels
        assert class_labels is not None  # a classification Dataset always has them
        labels = ", ".join(repr(class_labels[int(code)]) for code in missing)
        raise CLIError(
            f"{data.source}: class {labels} has too few rows: all of them fell in the "
            "validation split, none in training; add rows of it, or lower --validation-split"
        )


def prepare_doctor_dir(directory: str) -> None:
    """Check matplotlib is there and create ``directory`` before any training is done."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CLIError(
            "--doctor needs matplotlib, which is not installed: pip install matplotlib"
        ) from None
    prepare_output_dir(directory, "--doctor")


def network_settings(args, model, data) -> dict:
    """Layer sizes, activation, optimizer, learning rate and dtype of the network to train."""
    estimator = model.estimator
    if not hasattr(estimator, "module_"):  # not built yet
        sizes = [data.X.shape[1], *args.hidden, _n_outputs(data)]
    else:  # a resumed model
        sizes = model.layer_sizes
    optimizer = estimator.optimizer or estimator.solver
    return {
        "layer_sizes": sizes, "activation": estimator.activation, "optimizer": optimizer,
        "lr": estimator.learning_rate_init, "lr_schedule": schedule_settings(args),
        "dtype": str(estimator.dtype),
    }  # fmt: skip


def print_setup(args, data, model, parts) -> None:
    """The data and network lines, printed before training starts."""
    network = network_settings(args, model, data)
    sizes = network["layer_sizes"]
    if data.task == CLASSIFICATION:
        what = f"{data.n_classes} classes"
    else:
        what = f"target {data.target_name!r}"
    counts = f"{len(parts.train)} train, {len(parts.validation)} validation, {len(parts.test)} test"
    optimizer = network["optimizer"]
    if optimizer not in FULL_BATCH:
        schedule = network["lr_schedule"]["name"]
        shown = "" if schedule == "constant" else f", {schedule} schedule"
        optimizer += f" (lr {network['lr']:g}{shown})"
    features = f"{len(data.feature_names)} features"
    if data.categories:
        features += f" ({data.X.shape[1]} columns after one-hot encoding)"
    print(f"data     {data.source}: {len(data.y)} rows, {features}, {what} ({counts})")
    print(
        f"network  {'-'.join(map(str, sizes))} {network['activation']}, {optimizer}, "
        f"{network['dtype']}"
    )
    if args.resume is not None:
        done = len(model.estimator.loss_curve_)
        print(f"resumed  {args.resume}, trained for {done} {_unit(network['optimizer'])} so far")
    sys.stdout.flush()  # before the progress bar and the training time


def _n_outputs(data) -> int:
    if data.task == REGRESSION:
        return 1
    return 1 if data.n_classes == 2 else data.n_classes


def _unit(optimizer: str) -> str:
    return "iterations" if optimizer in FULL_BATCH else "epochs"


def stop_reason(args, optimizer: str, epochs: int, stopper) -> str:
    """Why training ended, and which epoch's weights the model keeps."""
    unit = _unit(optimizer)
    if stopper is not None and stopper.stopped:
        reason = f"the validation loss did not improve for {stopper.patience} {unit}"
    elif epochs >= args.epochs:
        reason = "the --epochs limit"
    elif optimizer in FULL_BATCH:
        reason = f"{optimizer} converged"
    else:
        reason = f"the training loss did not improve for {patience(args)} epochs"
    if stopper is not None and stopper.best_epoch:
        reason += f"; kept {unit[:-1]} {stopper.best_epoch}, the lowest validation loss"
    return reason


def print_report(args, data, network, scores, epochs, seconds, stopper) -> None:
    unit = _unit(network["optimizer"])
    stopped = stop_reason(args, network["optimizer"], epochs, stopper)
    more = " more" if args.resume is not None else ""
    print(f"trained  {epochs}{more} {unit} in {seconds:.2f} s (stopped: {stopped})")
    columns = ["accuracy"] if data.task == CLASSIFICATION else ["r2", "rmse"]
    titles = {"accuracy": "accuracy", "r2": "R^2", "rmse": "RMSE"}
    formats = {"accuracy": ">12.4f", "r2": ">12.4f", "rmse": ">12.4g"}
    print(" " * 12 + "".join(f"{titles[c]:>12}" for c in columns))
    for part, values in scores.items():
        print(f"  {part:<10}" + "".join(format(values[c], formats[c]) for c in columns))
