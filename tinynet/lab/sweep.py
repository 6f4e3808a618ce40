"""Finite-difference error against the step ``eps``, per floating dtype: the V shape.

A central difference has truncation error ~ eps**2 (the right arm of the V, on a log-log
plot) and round-off error ~ u / eps, where u is the dtype's unit round-off (the left
arm). The best step sits near u**(1/3): about 5e-3 for float32, 6e-6 for float64.

>>> import tinynet as tn
>>> x = tn.randn(4, dtype=tn.float64, rng=0)
>>> result = tn.lab.gradcheck_sweep(lambda x: x.sin().sum(), (x,))
>>> result.best_eps["float32"] > result.best_eps["float64"]
True
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tinynet import autograd
from tinynet._grad_mode import no_grad
from tinynet._random import as_generator
from tinynet.gradcheck import as_outputs, central_differences
from tinynet.lab._files import atomic_output
from tinynet.tensor import Tensor

__all__ = ["SweepResult", "gradcheck_sweep"]


@dataclass
class SweepResult:
    """Max abs error of the numerical gradient per eps (rows) for each dtype."""

    eps_values: np.ndarray
    errors: dict = field(default_factory=dict)  # dtype name -> array of errors per eps

    @property
    def best_eps(self) -> dict:
        """The eps with the smallest error, per dtype name."""
        return {
            name: float(self.eps_values[int(np.nanargmin(np.where(np.isnan(e), np.inf, e)))])
            for name, e in self.errors.items()
        }

    def __str__(self) -> str:
        names = list(self.errors)
        lines = [f"{'eps':>9}" + "".join(f"{name:>12}" for name in names)]
        best = self.best_eps
        for row, eps in enumerate(self.eps_values):
            cells = []
            for name in names:
                mark = "*" if best[name] == eps else " "
                cells.append(f"{self.errors[name][row]:>11.2e}{mark}")
            lines.append((f"{eps:>9.0e}" + "".join(cells)).rstrip())
        lines.append("* best eps: " + ", ".join(f"{n} {best[n]:.0e}" for n in names))
        return "\n".join(lines)

    def plot(self, path=None):
        """A log-log plot of error against eps per dtype (matplotlib, Agg); saved if ``path``.

        Returns the matplotlib Figure.
        """
        try:
            import matplotlib
        except ImportError:
            raise ImportError("SweepResult.plot needs matplotlib: pip install matplotlib") from None
        if path is not None:
            matplotlib.use("Agg")
        from matplotlib.figure import Figure

        figure = Figure(figsize=(6, 4))
        axes = figure.subplots()
        for name, errors in self.errors.items():
            floor = np.finfo(np.float64).tiny  # an exact zero cannot sit on a log axis
            (line,) = axes.loglog(self.eps_values, np.maximum(errors, floor), "o-", label=name)
            best = self.best_eps[name]
            axes.axvline(best, color=line.get_color(), linestyle=":", linewidth=1)
        axes.set_xlabel("finite-difference step eps")
        axes.set_ylabel("max |numerical - analytic|")
        axes.set_title("central-difference error: truncation ~ eps², round-off ~ u/eps")
        axes.invert_xaxis()
        axes.grid(True, which="major", alpha=0.3)
        axes.legend()
        figure.tight_layout()
        if path is not None:  # through the safe writer; the format follows the extension
            extension = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
            with atomic_output(path, "wb") as file:
                figure.savefig(file, format=extension or "png", dpi=100)
        return figure


def _analytic(fn, inputs, differentiable, cotangents) -> list:
    """The exact reference: ``u @ J`` in float64."""
    leaves = [
        Tensor(t.data.astype(np.float64), requires_grad=True) if i in differentiable else t
        for i, t in enumerate(inputs)
    ]
    outputs = as_outputs(fn(*leaves))
    used = [(o, u) for o, u in zip(outputs, cotangents) if o.requires_grad]
    grads = autograd.grad(
        [o for o, _ in used], [leaves[i] for i in differentiable],
        grad_outputs=[Tensor(u.astype(o.dtype)) for o, u in used], allow_unused=True,
    )  # fmt: skip
    return [
        np.zeros(leaves[i].shape) if g is None else g.data.astype(np.float64)
        for g, i in zip(grads, differentiable)
    ]


def gradcheck_sweep(
    fn,
    inputs,
    eps_values=None,
    dtypes=(np.float32, np.float64),
    rng=0,
) -> SweepResult:
    """Error of central differences against the analytic gradient, for each eps and dtype.

    ``fn`` is evaluated with its inputs cast to each dtype and perturbed by ``eps`` in that
    dtype; the reference is the analytic vector-Jacobian product in float64 (for a random
    cotangent when the output is not a scalar). Returns a ``SweepResult`` with ``errors``,
    ``best_eps`` and ``plot()``.

    >>> import tinynet as tn
    >>> x = tn.randn(3, dtype=tn.float64, rng=0)
    >>> result = tn.lab.gradcheck_sweep(lambda x: x.exp().sum(), (x,), dtypes=(tn.float64,))
    >>> 1e-8 < result.best_eps["float64"] < 1e-3
    True
    """
    eps_values = np.logspace(-1, -12, 12) if eps_values is None else np.asarray(eps_values, float)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    differentiable = [
        i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.dtype.kind == "f"
    ]
    if not differentiable:
        raise ValueError("gradcheck_sweep needs at least one floating input Tensor")
    generator = as_generator(rng)
    with no_grad():
        outputs = as_outputs(fn(*inputs))
    cotangents = [generator.standard_normal(o.shape) for o in outputs]
    reference = _analytic(fn, inputs, differentiable, cotangents)
    base = {i: inputs[i].data.astype(np.float64) for i in differentiable}

    def projected(dtype, index, values) -> float:
        args = [
            Tensor((values if i == index else base[i]).astype(dtype)) if i in base else t
            for i, t in enumerate(inputs)
        ]
        with no_grad():
            outs = as_outputs(fn(*args))
        return float(sum(np.sum(u * o.data.astype(np.float64)) for u, o in zip(cotangents, outs)))

    result = SweepResult(eps_values=eps_values)
    exact = dict(zip(differentiable, reference))
    for dtype in dtypes:
        dtype = np.dtype(dtype)
        result.errors[dtype.name] = np.array(
            [_worst_error(projected, dtype, base, exact, eps) for eps in eps_values]
        )
    return result


def _worst_error(
    projected: Callable, dtype: np.dtype, base: dict, exact: dict, eps: float
) -> float:
    """The largest error of central differences with step ``eps`` in ``dtype`` over every
    element of every differentiable input (``exact``: their analytic gradients)."""
    worst = 0.0
    for index, gradient in exact.items():
        slopes = central_differences(
            lambda point, index=index: projected(dtype, index, point), base[index], eps
        )
        for k, numerical in enumerate(slopes):
            error = abs(numerical - gradient.ravel()[k])
            worst = max(worst, error) if np.isfinite(error) else np.inf
    return worst
