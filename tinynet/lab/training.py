"""A training doctor: an estimator callback that watches the network learn.

After every epoch it records, per parameter, the gradient norm (of the last batch) and the
update-to-weight ratio ``|w_now - w_before| / |w_before|`` over the epoch (about 1e-3 is
healthy; 1e-1 jumps around, 1e-6 barely moves), and, on a probe batch ``X``, per layer the
activations' mean and standard deviation and, for ReLU layers, the fraction of dead units
(zero for every probe sample).

>>> import numpy as np
>>> from tinynet.estimators import NeuralNetClassifier
>>> from tinynet.lab import TrainingDoctor
>>> X = np.random.default_rng(0).normal(size=(64, 2)); y = (X[:, 0] > 0).astype(int)
>>> doctor = TrainingDoctor(X)
>>> _ = NeuralNetClassifier((8,), max_iter=3, callbacks=[doctor], random_state=0).fit(X, y)
>>> sorted(doctor.records[-1])
['activation_mean', 'activation_std', 'dead_relu', 'epoch', 'grad_norm', 'update_ratio']
"""

from __future__ import annotations

import os

import numpy as np

from tinynet import nn
from tinynet._grad_mode import no_grad
from tinynet.lab._files import save_figure
from tinynet.tensor import Tensor

__all__ = ["TrainingDoctor"]

_KEYS = ("grad_norm", "update_ratio", "dead_relu", "activation_mean", "activation_std")


def _leaf_modules(module: nn.Module) -> list:
    return [(name, m) for name, m in module.named_modules() if name and not list(m.children())]


def _capture_outputs(module: nn.Module, X) -> dict:
    """Every leaf module's output on ``X`` (eval mode, no graph), by module name."""
    outputs = {}
    wrapped = []
    for name, leaf in _leaf_modules(module):
        if "forward" in leaf.__dict__:
            continue  # already wrapped (a module shared by two parents): one record is enough
        original = leaf.forward

        def forward(*args, _name=name, _original=original, **kwargs):
            result = _original(*args, **kwargs)
            if isinstance(result, Tensor):
                outputs[_name] = result.data
            return result

        object.__setattr__(leaf, "forward", forward)
        wrapped.append(leaf)
    was_training = module.training
    module.eval()
    try:
        with no_grad():
            module(X)
    finally:
        for leaf in wrapped:
            object.__delattr__(leaf, "forward")
        module.train(was_training)
    return outputs


class TrainingDoctor:
    """Estimator callback recording gradient norms, update ratios, dead ReLUs, activations.

    ``X`` (optional) is a probe batch for the activation statistics (its first
    ``max_samples`` rows are used); without it only gradients and updates are recorded.
    Each epoch appends one dict to ``doctor.records`` and, under the same keys, to the
    estimator's ``history`` (``history["grad_norm"][-1]["0.weight"]``, ...).
    ``update_ratio`` is None for the first epoch (the weights before it are not seen).
    """

    def __init__(self, X=None, max_samples: int = 256):
        self.X = X
        self.max_samples = max_samples
        self.records: list = []
        self.layer_types: dict = {}  # module name -> class name, for the plots' legends
        self._before: dict | None = None  # parameter arrays at the previous epoch

    def __call__(self, estimator, history) -> bool:
        module = getattr(estimator, "module_", None)
        if not isinstance(module, nn.Module):
            raise AttributeError(
                "TrainingDoctor needs the estimator's network as `module_` (a tinynet.nn.Module)"
            )
        record = self.measure(module)
        epochs = history.get("epoch") if isinstance(history, dict) else None
        record = {"epoch": epochs[-1] if epochs else len(self.records) + 1, **record}
        self.records.append(record)
        if isinstance(history, dict):
            for key in _KEYS:
                history.setdefault(key, []).append(record[key])
        return False

    def measure(self, module: nn.Module) -> dict:
        """This epoch's statistics of ``module`` (used by the callback; callable directly)."""
        params = dict(module.named_parameters())
        grad_norm = {
            name: None if p.grad is None else float(np.linalg.norm(p.grad.data))
            for name, p in params.items()
        }
        update_ratio: dict[str, float | None] = {name: None for name in params}
        if self._before is not None:
            for name, p in params.items():
                before = self._before.get(name)
                if before is not None and before.shape == p.data.shape:
                    scale = float(np.linalg.norm(before))
                    change = float(np.linalg.norm(p.data - before))
                    update_ratio[name] = change / scale if scale else None
        self._before = {name: p.data.copy() for name, p in params.items()}
        dead, mean, std = {}, {}, {}
        if self.X is not None:
            X = self.X.toarray() if hasattr(self.X, "toarray") else np.asarray(self.X)
            dtype = next(iter(params.values())).dtype if params else np.float64
            outputs = _capture_outputs(module, Tensor(X[: self.max_samples].astype(dtype)))
            leaves = dict(_leaf_modules(module))
            self.layer_types.update({name: leaf._get_name() for name, leaf in leaves.items()})
            for name, values in outputs.items():
                values = values.astype(np.float64)
                mean[name], std[name] = float(values.mean()), float(values.std())
                if isinstance(leaves.get(name), nn.ReLU) and values.ndim >= 1:
                    per_unit = values.reshape(-1, values.shape[-1])
                    dead[name] = float(np.mean(np.all(per_unit <= 0, axis=0)))
        return {
            "grad_norm": grad_norm,
            "update_ratio": update_ratio,
            "dead_relu": dead,
            "activation_mean": mean,
            "activation_std": std,
        }

    def warnings(self) -> list:
        """Plain-language flags on the last epoch (dead layers, tiny or huge updates)."""
        if not self.records:
            return []
        last, found = self.records[-1], []
        for name, fraction in last["dead_relu"].items():
            if fraction >= 0.5:
                found.append(f"layer {name}: {fraction:.0%} of its ReLU units are dead")
        for name, ratio in last["update_ratio"].items():
            if ratio is not None and ratio > 1e-1:
                found.append(f"{name}: updates are {ratio:.2g} of the weights (too large?)")
            elif ratio is not None and 0 < ratio < 1e-6:
                found.append(f"{name}: updates are {ratio:.2g} of the weights (barely moving)")
        for name, norm in last["grad_norm"].items():
            if norm is not None and not np.isfinite(norm):
                found.append(f"{name}: gradient norm is {norm}")
        return found

    def plot(self, directory) -> list:
        """Write gradient_norms.png, update_ratios.png and activations.png; return the paths."""
        try:
            from matplotlib.figure import Figure
            from matplotlib.ticker import MaxNLocator
        except ImportError:
            raise ImportError(
                "TrainingDoctor.plot needs matplotlib: pip install matplotlib"
            ) from None
        os.makedirs(directory, exist_ok=True)
        epochs = [record["epoch"] for record in self.records]
        paths = []

        def lines(axes, key, log=True):
            names = list(dict.fromkeys(n for r in self.records for n in r[key]))
            for name in names:
                values = [r[key].get(name) for r in self.records]
                values = [np.nan if v is None else v for v in values]
                label = f"{name} {self.layer_types[name]}" if name in self.layer_types else name
                axes.plot(epochs, values, marker=".", label=label)
            if log and names:
                axes.set_yscale("log")
            axes.set_xlabel("epoch")
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            if names:
                axes.legend(fontsize="small")
            axes.grid(True, alpha=0.3)

        for filename, key, title in (
            ("gradient_norms.png", "grad_norm", "gradient norm per parameter (last batch)"),
            ("update_ratios.png", "update_ratio", "|update| / |weight| per epoch"),
        ):
            figure = Figure(figsize=(6.5, 4))
            axes = figure.subplots()
            lines(axes, key)
            axes.set_title(title)
            figure.tight_layout()
            path = os.path.join(directory, filename)
            save_figure(figure, path)
            paths.append(path)

        figure = Figure(figsize=(10, 4))
        left, right = figure.subplots(1, 2)
        lines(left, "activation_std", log=False)
        left.set_title("activation std per layer (probe batch)")
        lines(right, "dead_relu", log=False)
        right.set_ylim(-0.02, 1.02)
        right.set_title("fraction of dead ReLU units")
        figure.tight_layout()
        path = os.path.join(directory, "activations.png")
        save_figure(figure, path)
        paths.append(path)
        return paths
