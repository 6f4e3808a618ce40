"""PNG pictures of a training run, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

import os

import numpy as np

from tinynet.cli._common import CLIError, atomic_output, prepare_output_dir
from tinynet.cli.data import REGRESSION


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise CLIError(
            "--plot needs matplotlib, which is not installed: pip install matplotlib "
            "(in a tinynet checkout: pip install -e '.[plot]')"
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def prepare_plot_dir(directory: str) -> None:
    """Create ``directory`` (and check matplotlib is there) before any training is done."""
    _pyplot()
    prepare_output_dir(directory, "--plot")


def _save(figure, path: str, dpi: int) -> None:
    plt = _pyplot()
    try:
        with atomic_output(path, "wb") as file:
            figure.savefig(file, format="png", dpi=dpi)
    finally:
        plt.close(figure)


_DISPLAY = {"r2": "$R^2$"}  # metric names as matplotlib writes them


def loss_figure(history: dict, metric_name: str):
    """Training and validation loss per epoch, beside the validation metric when there is one."""
    plt = _pyplot()
    metric_name = _DISPLAY.get(metric_name, metric_name)
    epochs = history["epoch"]
    val_loss = [np.nan if v is None else v for v in history.get("val_loss", [])]
    val_score = [np.nan if v is None else v for v in history.get("val_score", [])]
    has_validation = any(np.isfinite(val_loss)) if val_loss else False
    has_score = any(np.isfinite(val_score)) if val_score else False
    figure, axes = plt.subplots(1, 2 if has_score else 1, figsize=(9 if has_score else 5, 3.6))
    axes = np.atleast_1d(axes)
    axes[0].plot(epochs, history["loss"], label="train loss")
    if has_validation:
        axes[0].plot(epochs, val_loss, label="validation loss")
    axes[0].set(xlabel="epoch", ylabel="loss", title="loss")
    axes[0].legend()
    if has_score:
        axes[1].plot(epochs, val_score, color="tab:green")
        axes[1].set(xlabel="epoch", ylabel=metric_name, title=f"validation {metric_name}")
    for ax in axes:
        ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def boundary_figure(model, X: np.ndarray, y: np.ndarray, title: str, resolution: int = 200):
    """Predictions over a grid of the two features: classes filled, or a regression heat map."""
    plt = _pyplot()
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * np.where(high > low, high - low, 1.0)
    grid_x, grid_y = np.meshgrid(
        np.linspace(low[0] - margin[0], high[0] + margin[0], resolution),
        np.linspace(low[1] - margin[1], high[1] + margin[1], resolution),
    )
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    surface = model.predict(grid).reshape(grid_x.shape)
    figure, ax = plt.subplots(figsize=(5.5, 4.5))
    if model.task == REGRESSION:
        image = ax.pcolormesh(grid_x, grid_y, surface, cmap="viridis", shading="auto")
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="viridis", edgecolors="k", linewidths=0.4, s=14,
                   vmin=surface.min(), vmax=surface.max())  # fmt: skip
        figure.colorbar(image, ax=ax, label=model.target_name)
    else:
        codes = np.arange(len(model.class_labels))
        colors = plt.get_cmap("tab10" if len(codes) <= 10 else "tab20")
        levels = np.arange(len(codes) + 1) - 0.5
        ax.contourf(grid_x, grid_y, surface, levels=levels, cmap=colors, vmin=-0.5,
                    vmax=colors.N - 0.5, alpha=0.35)  # fmt: skip
        for code in np.unique(y):
            points = X[y == code]
            ax.scatter(points[:, 0], points[:, 1], color=colors(int(code)), edgecolors="k",
                       linewidths=0.4, s=14, label=model.label(code))  # fmt: skip
        ax.legend(title=model.target_name, loc="best", fontsize="small")
    names = model.feature_names or ["feature 0", "feature 1"]
    ax.set(xlabel=names[0], ylabel=names[1], title=title)
    figure.tight_layout()
    return figure


def write_plots(
    directory: str, history: dict, model, X, y, metric_name: str, source: str,
    test_score: float | None = None, dpi: int = 100,
) -> list[str]:  # fmt: skip
    """Write loss.png and, for two features, decision_boundary.png; return their paths."""
    paths = [os.path.join(directory, "loss.png")]
    _save(loss_figure(history, metric_name), paths[0], dpi)
    if X.shape[1] == 2 and not getattr(model, "categories", None):  # two real axes
        title = source
        if test_score is not None:
            title += f": test {_DISPLAY.get(metric_name, metric_name)} {test_score:.3f}"
        paths.append(os.path.join(directory, "decision_boundary.png"))
        _save(boundary_figure(model, X, y, title), paths[1], dpi)
    return paths


# -- `tinynet evaluate` ----------------------------------------------------------------------
def evaluation_figure(model, y_true: np.ndarray, y_pred: np.ndarray, title: str):
    """A confusion matrix (classification) or predicted against true values (regression)."""
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(5.5, 4.5))
    if model.task == REGRESSION:
        ax.scatter(y_true, y_pred, s=12, alpha=0.7, edgecolors="none")
        low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
        ax.plot([low, high], [low, high], color="k", linewidth=1, label="predicted = true")
        ax.set(xlabel=f"true {model.target_name}", ylabel=f"predicted {model.target_name}")
        ax.legend(loc="best", fontsize="small")
    else:
        from sklearn.metrics import confusion_matrix

        codes = list(range(len(model.estimator.classes_)))
        counts = confusion_matrix(y_true, y_pred, labels=codes)
        image = ax.imshow(counts, cmap="Blues")
        labels = [model.label(code) for code in model.estimator.classes_]
        ax.set_xticks(codes, labels, rotation=45 if len(codes) > 4 else 0)
        ax.set_yticks(codes, labels)
        for (i, j), count in np.ndenumerate(counts):
            dark = count > counts.max() / 2
            ax.text(j, i, str(count), ha="center", va="center", color="w" if dark else "k")
        figure.colorbar(image, ax=ax, label="rows")
        ax.set(xlabel="predicted", ylabel="true")
    ax.set_title(title)
    figure.tight_layout()
    return figure


def write_evaluation_plot(directory: str, model, y_true, y_pred, title: str, dpi: int = 100):
    """Write confusion_matrix.png or predicted_vs_true.png into ``directory``; its path."""
    name = "predicted_vs_true.png" if model.task == REGRESSION else "confusion_matrix.png"
    path = os.path.join(directory, name)
    _save(evaluation_figure(model, y_true, y_pred, title), path, dpi)
    return path
