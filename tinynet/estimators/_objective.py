"""The training objective as a function of the network's parameters.

``FlatObjective`` is what the full-batch solvers (L-BFGS, Newton-CG, trust-ncg) minimize: the
mean (weighted) loss plus the L2 penalty, as a function of one float64 vector holding every
parameter. Its value and gradient come from the code the stochastic solvers train with
(the estimator's full-batch objective: the engine's backward plus the penalty's hand-written gradient);
its Hessian-vector products come from double backward through the same objective composed of
Tensor ops. ``check_objective_gradients`` checks the first of these, parameter by parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinynet import autograd
from tinynet._grad_mode import enable_grad
from tinynet._random import as_generator
from tinynet.autograd import Function, once_differentiable
from tinynet.gradcheck import GradcheckReport, InputCheck, check_gradients
from tinynet.tensor import Tensor


@dataclass(frozen=True)
class TrainingTerms:
    """What the objective is made of, as the estimator hands it over (``_training_terms``).

    - ``module``: the fitted network; ``module_input(X)``: a block of ``X`` as its input;
    - ``data_loss(raw, Y, weight, sw_sum)``: the block's weighted loss as a Tensor;
    - ``penalized()``: the weights under the L2 penalty, ``alpha`` its strength;
    - ``blocks(X)``: how the full batch is cut (sparse inputs go in blocks);
    - ``objective(X, Y, sample_weight, blocks)``: the training code's value of the whole
      objective, leaving its gradient in each parameter's ``.grad``.
    """

    module: Any
    module_input: Callable
    data_loss: Callable
    penalized: Callable
    alpha: float
    blocks: Callable
    objective: Callable


class FlatObjective:
    """An estimator's training objective on ``(X, Y, sample_weight)`` as a function of the
    vector of all its parameters (in ``module.parameters()`` order, each raveled).

    Every call loads the vector into the network, which keeps the last point evaluated.
    """

    def __init__(self, terms: TrainingTerms, X, Y, sample_weight):
        self.terms = terms
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.params = list(terms.module.parameters())
        self.bounds = np.cumsum([0, *(p.data.size for p in self.params)])
        self.blocks = terms.blocks(X)
        self._graph: tuple | None = None  # (point, gradients still attached to their graph)

    def pack(self) -> np.ndarray:
        """The network's current parameters as one float64 vector."""
        return np.concatenate([p.data.ravel() for p in self.params]).astype(np.float64)

    def unpack(self, vector: np.ndarray) -> None:
        """Load ``vector`` into the network's parameters (in place, in their dtype)."""
        for param, start, stop in zip(self.params, self.bounds[:-1], self.bounds[1:]):
            param.data[...] = vector[start:stop].reshape(param.data.shape)

    def _flat(self, arrays) -> np.ndarray:
        return np.concatenate(
            [np.zeros(p.data.size) if a is None else a.ravel() for a, p in zip(arrays, self.params)]
        ).astype(np.float64)

    def value_and_grad(self, vector: np.ndarray) -> tuple[float, np.ndarray]:
        """The objective and its gradient at ``vector``, from the training code path."""
        self.unpack(vector)
        value = self.terms.objective(self.X, self.Y, self.sample_weight, self.blocks)
        return value, self._flat([None if p.grad is None else p.grad.data for p in self.params])

    def graph(self) -> Tensor:
        """The objective at the current parameters as a scalar Tensor whose graph is
        differentiable twice: ``data_loss`` per block plus the L2 penalty as Tensor ops."""
        terms, sample_weight = self.terms, self.sample_weight
        sw_sum = self.X.shape[0] if sample_weight is None else float(sample_weight.sum())
        total: Any = None
        for block in self.blocks:
            weight = None if sample_weight is None else sample_weight[block]
            raw = terms.module(terms.module_input(self.X[block]))
            loss = terms.data_loss(raw, self.Y[block], weight, sw_sum)
            total = loss if total is None else total + loss
        if terms.alpha:
            squares = [(w * w).sum() for w in terms.penalized()]
            total = total + sum(squares[1:], squares[0]) * (0.5 * terms.alpha / sw_sum)
        return total

    def hessp(self, vector: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """The exact Hessian of the objective at ``vector`` times ``direction``.

        Double backward: the gradient is built once per point with ``create_graph=True``
        and kept; each direction then costs one more backward through it (CG asks for many
        directions at the same point).
        """
        self.unpack(vector)  # the kept graph reads the parameters' current values
        if self._graph is None or not np.array_equal(self._graph[0], vector):
            self._graph = None  # free the old graph before building the new one
            with enable_grad():
                try:
                    gradients = autograd.grad(
                        self.graph(), self.params, create_graph=True, allow_unused=True
                    )
                except RuntimeError as error:
                    if "once_differentiable" not in str(error):
                        raise
                    raise RuntimeError(
                        "solver='newton-cg' and 'trust-ncg' need second derivatives of the "
                        f"network (double backward), but {error}; use solver='lbfgs'"
                    ) from error
            self._graph = (np.array(vector, copy=True), gradients)
        # The gradient of <gradient, direction>: the gradients as outputs, the direction's
        # pieces as their cotangents.
        pairs = [
            (g, Tensor(direction[start:stop].reshape(p.shape).astype(p.dtype)))
            for g, p, start, stop in zip(
                self._graph[1], self.params, self.bounds[:-1], self.bounds[1:]
            )
            if g is not None and g.requires_grad
        ]
        if not pairs:  # the objective is linear in every parameter
            return np.zeros_like(direction, dtype=np.float64)
        hessian_products = autograd.grad(
            [g for g, _ in pairs],
            self.params,
            grad_outputs=[v for _, v in pairs],
            retain_graph=True,
            allow_unused=True,
        )
        return self._flat([None if h is None else h.data for h in hessian_products])


class _ParameterObjective(Function):
    """The objective as a function of the parameter arrays, one input each.

    Forward loads them into the network and runs the training code (forward, backward and
    the L2 penalty's gradient); backward hands back the gradients that code produced, so a
    gradient check of this function checks exactly what training follows.
    """

    @staticmethod
    def forward(ctx, objective, *arrays):
        vector = np.concatenate([a.ravel() for a in arrays]).astype(np.float64)
        value, gradient = objective.value_and_grad(vector)
        bounds = objective.bounds
        ctx.gradients = [
            gradient[start:stop].reshape(a.shape)
            for a, start, stop in zip(arrays, bounds[:-1], bounds[1:])
        ]
        return np.asarray(value)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        return (None, *(Tensor(grad_output.data * g) for g in ctx.gradients))


@dataclass
class ParameterCheck(InputCheck):
    """``InputCheck`` for one named parameter; ``mode`` is ``'full'`` or ``'fast'``."""

    name: str = ""
    mode: str = "full"

    def describe(self) -> str:
        # The objective is a scalar: "output element 0" says nothing.
        text = super().describe().replace(" (output element 0)", "")
        return f"parameter {self.name!r}" + text[len(f"input {self.index}") :]


@dataclass
class ObjectiveGradcheckReport(GradcheckReport):
    """The per-parameter report of an estimator's ``check_gradients``.

    ``report.inputs`` holds one ``ParameterCheck`` per parameter, in the order of
    ``module_.named_parameters()``; ``report[name]`` finds one by name. Each entry's
    ``mode`` says how it was checked (``report.fast_mode`` is True only when forced).
    """

    def __getitem__(self, name: str) -> ParameterCheck:
        for check in self.inputs:
            if check.name == name:
                return check
        raise KeyError(f"no parameter {name!r}; the parameters are {self.names}")

    @property
    def names(self) -> list[str]:
        return [check.name for check in self.inputs]

    def __str__(self) -> str:
        width = max([len("parameter"), *(len(name) for name in self.names)])
        lines = [
            f"gradient check of the training objective, eps={self.eps:g}, atol={self.atol:g}, "
            f"rtol={self.rtol:g}: {'passed' if self.passed else 'FAILED'}",
            f"{'parameter':<{width}}  {'shape':<10} {'check':<5} {'max abs err':>11} "
            f"{'max rel err':>11}  {'worst element':<14} result",
        ]
        for check in self.inputs:
            worst = "-" if check.worst_element is None else str(check.worst_element[1])
            lines.append(
                f"{check.name:<{width}}  {str(check.shape):<10} {check.mode:<5} "
                f"{check.max_abs_error:>11.3g} {check.max_rel_error:>11.3g}  {worst:<14} "
                f"{'pass' if check.passed else 'FAIL'}"
            )
        return "\n".join(lines)


def check_objective_gradients(
    objective: FlatObjective,
    names: list[str],
    eps: float,
    atol: float,
    rtol: float,
    fast_mode: bool | None,
    max_elements: int,
    rng,
) -> ObjectiveGradcheckReport:
    """``tinynet.check_gradients`` of the objective, one parameter at a time (the others
    held fixed), in full mode up to ``max_elements`` elements and fast mode above."""
    arrays = [p.data.copy() for p in objective.params]
    generator = as_generator(rng)
    report = ObjectiveGradcheckReport(eps=eps, atol=atol, rtol=rtol, fast_mode=bool(fast_mode))

    def fn(*tensors):
        return _ParameterObjective.apply(objective, *tensors)

    for index, (name, array) in enumerate(zip(names, arrays)):
        fast = array.size > max_elements if fast_mode is None else bool(fast_mode)
        inputs = [Tensor(a, requires_grad=j == index) for j, a in enumerate(arrays)]
        (check,) = check_gradients(fn, inputs, eps, atol, rtol, fast, rng=generator).inputs
        fields = {key: getattr(check, key) for key in InputCheck.__dataclass_fields__}
        report.inputs.append(ParameterCheck(**fields, name=name, mode="fast" if fast else "full"))
    return report
