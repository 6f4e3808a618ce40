"""``tinynet train --resume MODEL``: more training of a saved model, with its optimizer state.

The network, its optimizer (and the optimizer's moments or momentum, saved with the model),
the feature scaling and the text-column values all come from the saved model; the data must
have the same feature columns and no class the model does not know. A stochastic optimizer
continues epoch by epoch through ``partial_fit``, which keeps the optimizer state; a
full-batch solver (L-BFGS, Newton-CG, trust-ncg) restarts from the saved weights
(``warm_start``), as it keeps no state between runs.
"""

from __future__ import annotations

import numpy as np

from tinynet.cli._common import CLIError, UsageError
from tinynet.cli.data import CLASSIFICATION, Dataset
from tinynet.cli.models import TrainedModel, load_model

# Options that describe the network or its optimizer: a resumed model has its own.
FIXED_BY_THE_MODEL = ("hidden", "activation", "dropout", "optimizer", "lr", "alpha", "dtype")


def load_resumed(args, defaults: dict) -> TrainedModel:
    """The model to continue; options that would change it are usage errors."""
    if changed := [
        "--" + name.replace("_", "-")
        for name in (*FIXED_BY_THE_MODEL, "class_weight")
        if getattr(args, name) != defaults[name]
    ]:
        raise UsageError(
            f"{', '.join(changed)} cannot change a resumed model: --resume continues the saved "
            "network with its own settings"
        )
    model = load_model(args.resume)
    if model.feature_names is None or model.class_labels is None and model.task == CLASSIFICATION:
        raise CLIError(
            f"{args.resume}: --resume needs a model saved by `tinynet train --save` (it keeps "
            "the feature names and scaling); this one was saved from Python"
        )
    return model


def adopt(data: Dataset, model: TrainedModel, source: str) -> None:
    """Check ``data`` against the resumed ``model``; recode its classes as the model's."""
    # load_resumed refuses models without feature names (or a classifier's class labels).
    assert model.feature_names is not None
    if data.task != model.task:
        raise CLIError(f"{source}: a {data.task} target, but the model does {model.task}")
    if list(data.feature_names) != list(model.feature_names):
        raise CLIError(
            f"{source}: features {', '.join(data.feature_names)} differ from the model's "
            f"{', '.join(model.feature_names)}"
        )
    if data.task != CLASSIFICATION:
        return
    # Classification data always has class labels; so has every model load_resumed accepts.
    assert model.class_labels is not None and data.class_labels is not None
    known = {label: code for code, label in enumerate(model.class_labels)}
    if unknown := [label for label in data.class_labels if label not in known]:
        raise CLIError(
            f"{source}: classes {', '.join(map(repr, unknown))} are not classes of the model "
            f"({', '.join(map(repr, model.class_labels))})"
        )
    recode = np.array([known[label] for label in data.class_labels])
    data.y = recode[data.y]
    data.class_labels = list(model.class_labels)


def continue_training(estimator, X, y, epochs: int, stopper) -> int:
    """Train ``estimator`` further for at most ``epochs``; return the epochs (iterations) run."""
    if hasattr(estimator, "partial_fit"):  # only the stochastic optimizers have it
        done = 0
        while done < epochs and not (stopper is not None and stopper.stopped):
            estimator.partial_fit(X, y)
            done += 1
        return done
    estimator.set_params(warm_start=True, max_iter=epochs)
    estimator.fit(X, y)
    return int(estimator.n_iter_)
