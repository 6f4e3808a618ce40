"""The estimators' built-in network: ``nn.Linear`` layers, activations, dropout.

The first layer also takes a SciPy sparse batch: ``_SparseInputLinear`` multiplies it with
SciPy's sparse @ dense product inside a small ``Function``, so sparse data is never densified.
Weights start as scikit-learn's MLP starts them (Glorot uniform, drawn from the same
``RandomState`` in the same order), so a given ``random_state`` gives both libraries the
same initial network.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from tinynet import nn
from tinynet.autograd import Function
from tinynet.tensor import Tensor


class _Elementwise(nn.Module):
    """An activation given as a function of Tensors (kept picklable when ``fn`` is)."""

    def __init__(self, fn: Callable[[Tensor], Tensor]):
        super().__init__()
        self.fn = fn

    def forward(self, input):
        return self.fn(input)

    def extra_repr(self) -> str:
        return getattr(self.fn, "__name__", repr(self.fn))


#: Activation names and the module each one builds.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "identity": nn.Identity,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus,
    "silu": nn.SiLU,
}


def activation_module(activation) -> nn.Module:
    """A fresh module for an activation name, a Module class or instance, or a function."""
    if isinstance(activation, str):
        return ACTIVATIONS[activation]()
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation()
    if isinstance(activation, nn.Module):
        return copy.deepcopy(activation)
    return _Elementwise(activation)


def layer_activations(activation, n_hidden: int) -> list:
    """One activation per hidden layer from a single activation or a list of them."""
    if isinstance(activation, list):
        if len(activation) != n_hidden:
            raise ValueError(
                f"activation is a list of {len(activation)} activations, but there are "
                f"{n_hidden} hidden layers: give one activation per hidden layer"
            )
        activations = list(activation)
    else:
        activations = [activation] * n_hidden
    for item in activations:
        if isinstance(item, str):
            if item not in ACTIVATIONS:
                raise ValueError(
                    f"unknown activation {item!r}; choose one of {sorted(ACTIVATIONS)} "
                    "or pass a function of Tensors"
                )
        elif not callable(item):
            raise TypeError(
                f"an activation must be a name or a callable, got {type(item).__name__}"
            )
    return activations


class _SparseMatmul(Function):
    """``x @ weight.T`` for a SciPy sparse ``x`` (not differentiated) and a dense ``weight``."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.sparse_input = x
        return np.asarray(x @ weight.T)

    @staticmethod
    def backward(ctx, grad_output):
        return None, _SparseWeightGradient.apply(grad_output, ctx.sparse_input)


class _SparseWeightGradient(Function):
    """``grad_output.T @ x`` for a sparse ``x``: ``_SparseMatmul``'s weight gradient, computed
    without densifying ``x``. It is linear in ``grad_output`` and its backward is
    ``_SparseMatmul`` again, so sparse input keeps second derivatives (Newton-CG's Hessian
    products)."""

    @staticmethod
    def forward(ctx, grad_output, x):
        ctx.sparse_input = x
        # (in, n) sparse @ (n, out) dense, transposed to the weight's (out, in).
        return np.ascontiguousarray(np.asarray(x.T @ grad_output).T)

    @staticmethod
    def backward(ctx, grad_output):
        return _SparseMatmul.apply(ctx.sparse_input, grad_output), None


class _SparseInputLinear(nn.Linear):
    """``nn.Linear`` that also accepts a SciPy sparse input."""

    def forward(self, input):
        if sp.issparse(input):
            output = _SparseMatmul.apply(input, self.weight)
            return output if self.bias is None else output + self.bias
        return super().forward(input)

    def _get_name(self) -> str:
        return "Linear"


def _glorot_factor(activation) -> float:
    # scikit-learn's rule: 2 for the logistic activation, 6 otherwise.
    return 2.0 if activation in ("logistic", "sigmoid") else 6.0


def build_mlp(
    layer_units: list[int],
    activations: list,
    dropout: float,
    dtype: np.dtype,
    random_state: np.random.RandomState,
) -> nn.Sequential:
    """``Linear -> activation [-> Dropout]`` per hidden layer, then a ``Linear`` output layer.

    Weights and biases are drawn U(-b, b) with ``b = sqrt(factor / (fan_in + fan_out))`` from
    ``random_state``, layer by layer, weight then bias: scikit-learn's MLP initialization.
    """
    n_layers = len(layer_units) - 1
    linears = []
    for index in range(n_layers):
        fan_in, fan_out = layer_units[index], layer_units[index + 1]
        # The output layer takes the factor of the last hidden activation, as scikit-learn.
        factor_of = activations[min(index, len(activations) - 1)] if activations else "relu"
        bound = np.sqrt(_glorot_factor(factor_of) / (fan_in + fan_out))
        coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
        intercept = random_state.uniform(-bound, bound, fan_out)
        linear_class = _SparseInputLinear if index == 0 else nn.Linear
        linear = linear_class(fan_in, fan_out, dtype=dtype, rng=0)
        linear.weight.data = np.ascontiguousarray(coef.T, dtype=dtype)
        linear.bias.data = intercept.astype(dtype)
        linears.append(linear)
    layers: list = []
    for index, linear in enumerate(linears):
        layers.append(linear)
        if index < n_layers - 1:
            layers.append(activation_module(activations[index]))
            if dropout > 0:
                # Seeds drawn after the weights: without dropout the stream is scikit-learn's.
                seed = random_state.randint(np.iinfo(np.int32).max)
                layers.append(nn.Dropout(dropout, rng=int(seed)))
    return nn.Sequential(*layers)


def _is_activation(layer: nn.Module, activation) -> bool:
    """Whether ``layer`` is what ``activation_module(activation)`` would build."""
    if isinstance(activation, str):
        return type(layer) is ACTIVATIONS[activation]
    if isinstance(activation, type):
        return type(layer) is activation
    if isinstance(activation, nn.Module):
        return type(layer) is type(activation) and repr(layer) == repr(activation)
    return isinstance(layer, _Elementwise) and layer.fn is activation


def rebuild_hidden(
    module: nn.Module,
    activations: list,
    dropout: float,
    random_state: np.random.RandomState,
) -> nn.Sequential | None:
    """``module`` (an ``nn.Sequential`` built by ``build_mlp``) with the activations and dropout now asked for,
    keeping its ``Linear`` layers and every layer that still matches; None when all match.

    A warm start after ``set_params(activation=...)`` trains on with the new activation,
    as scikit-learn's MLP (which looks its activation up at every forward pass) does.
    """
    groups: list[list] = []
    assert isinstance(module, nn.Sequential), "built by build_mlp"
    for layer in module:
        if isinstance(layer, nn.Linear):
            groups.append([layer])
        else:
            groups[-1].append(layer)
    changed = False
    layers: list = []
    for index, (linear, *after) in enumerate(groups):
        layers.append(linear)
        if index == len(groups) - 1:
            continue
        act = after[0] if after and not isinstance(after[0], nn.Dropout) else None
        if act is None or not _is_activation(act, activations[index]):
            act, changed = activation_module(activations[index]), True
        layers.append(act)
        drop = next((layer for layer in after if isinstance(layer, nn.Dropout)), None)
        if drop is not None and drop.p != dropout:
            drop, changed = None, True
        if drop is None and dropout > 0:
            drop, changed = nn.Dropout(dropout, rng=int(random_state.randint(2**31 - 1))), True
        if drop is not None:
            layers.append(drop)
    return nn.Sequential(*layers) if changed else None


def is_built_in(module: nn.Module) -> bool:
    """Whether ``module`` is a network ``build_mlp`` built (not a user's ``module``)."""
    layers = linear_layers(module)
    return bool(layers) and type(layers[0]) is _SparseInputLinear


def linear_layers(module: nn.Module) -> list:
    """The ``nn.Linear`` layers of ``module`` in registration order."""
    return [m for m in module.modules() if isinstance(m, nn.Linear)]
