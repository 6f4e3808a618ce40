"""Recurrent layers as in ``torch.nn``: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells.

Parameters are named, shaped, ordered and initialized as PyTorch's (``weight_ih_l0``,
``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, a ``_reverse`` suffix for the backward
direction; gates stacked i, f, g, o for the LSTM and r, z, n for the GRU), so a PyTorch
``state_dict`` loads. Everything is built from differentiable ops: the input projection of
a whole sequence is one matrix product per layer and direction, then one small product per
time step for the recurrence. Packed sequences are not supported: pad to one length.

>>> import tinynet as tn, tinynet.nn as nn
>>> lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True, rng=0)
>>> output, (h_n, c_n) = lstm(tn.ones(4, 7, 3))
>>> output.shape, h_n.shape, c_n.shape
((4, 7, 5), (2, 4, 5), (2, 4, 5))
>>> list(lstm.state_dict())[:4]
['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from tinynet import _device, ops
from tinynet import functional as _composite
from tinynet._random import as_generator
from tinynet.errors import DTypeError, ShapeError
from tinynet.nn import functional as F
from tinynet.nn import init as nn_init
from tinynet.nn.module import Module, Parameter, parameter_dtype
from tinynet.tensor import Tensor

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]

# Stacked gates per mode: the rows of weight_ih and weight_hh are gates * hidden_size.
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# -- one time step, shared by the sequence layers and the cells ---------------------------------
# ``projected`` is the input's part, x @ weight_ih.T + bias_ih, computed beforehand (for a
# sequence layer, for all time steps at once).
def _rnn_step(projected, h, weight_hh, bias_hh, relu: bool) -> Tensor:
    pre = projected + F.linear(h, weight_hh, bias_hh)
    return F.relu(pre) if relu else F.tanh(pre)


def _lstm_step(projected, h, c, weight_hh, bias_hh, weight_hr=None):
    gates = projected + F.linear(h, weight_hh, bias_hh)
    size = c.shape[-1]
    squashed = F.sigmoid(gates)  # i, f and o need it; g's quarter is unused
    input_gate = squashed[..., :size]
    forget_gate = squashed[..., size : 2 * size]
    output_gate = squashed[..., 3 * size :]
    cell = F.tanh(gates[..., 2 * size : 3 * size])
    c = forget_gate * c + input_gate * cell
    h = output_gate * F.tanh(c)
    if weight_hr is not None:
        h = F.linear(h, weight_hr)
    return h, c


def _gru_step(projected, h, weight_hh, bias_hh) -> Tensor:
    hidden = F.linear(h, weight_hh, bias_hh)
    size = h.shape[-1]
    reset_update = F.sigmoid(projected[..., : 2 * size] + hidden[..., : 2 * size])
    reset, update = reset_update[..., :size], reset_update[..., size:]
    new = F.tanh(projected[..., 2 * size :] + reset * hidden[..., 2 * size :])
    return new + update * (h - new)  # (1 - z) * n + z * h


def _time_steps(sequence: Tensor) -> list[Tensor]:
    """``sequence.unbind(0)``, through blocks when it is long.

    The gradient of a slice is written into zeros the size of what it was cut from, so
    cutting L steps out of the whole costs L * L in backward; out of about sqrt(L) blocks
    of sqrt(L) steps, about 2 * L * sqrt(L).
    """
    length = sequence.shape[0]
    if length <= _DIRECT_STEPS:
        return list(sequence.unbind(0))
    size = math.isqrt(length)
    steps: list[Tensor] = []
    for start in range(0, length, size):
        steps += sequence[start : start + size].unbind(0)
    return steps


_DIRECT_STEPS = 16  # up to this length, blocks save nothing measurable


# -- argument checks ---------------------------------------------------------------------------
def _size(value, name: str, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(
            f"{name} must be {'>= 0' if allow_zero else 'greater than zero'}, got {value}"
        )
    return int(value)


def _sequence_input(name: str, input) -> Tensor:
    """A Tensor (or an ndarray); a PackedSequence or anything else is refused."""
    if isinstance(input, np.ndarray):
        return Tensor(input)
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name}: input must be a Tensor, got {type(input).__name__}; packed sequences are "
            "not supported: pad the sequences to one length (and mask the loss) instead"
        )
    return input


def _nonlinearity(value: str) -> str:
    if value not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity {value!r}. Select from 'tanh' or 'relu'.")
    return value


def _dropout(value: float, num_layers: int) -> float:
    """A probability; a warning, as PyTorch's, when there is no second layer to drop into."""
    if isinstance(value, bool) or not isinstance(value, numbers.Number) or not 0 <= value <= 1:
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the probability of "
            f"an element being zeroed, got {value!r}"
        )
    if value > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero "
            f"dropout expects num_layers greater than 1, but got dropout={value} and "
            f"num_layers={num_layers}",
            UserWarning,
            stacklevel=4,
        )
    return float(value)


_STATE_AXES = "(num_layers * num_directions, batch, features)"


def _state(name: str, label: str, state, expected: tuple, like: Tensor, axes: str) -> Tensor:
    """An initial state of exactly ``expected`` shape and the input's dtype, or zeros."""
    if state is None:
        return Tensor.wrap(np.zeros(expected, like.data.dtype))
    if isinstance(state, np.ndarray):
        state = Tensor(state)
    if not isinstance(state, Tensor):
        raise TypeError(f"{name}: {label} must be a Tensor, got {type(state).__name__}")
    if state.shape != expected:
        raise ShapeError(
            f"{name}: expected {label} of shape {expected}, got {state.shape}; its axes are {axes}"
        )
    if state.data.dtype != like.data.dtype:
        raise DTypeError(
            f"{name}: the input is {like.dtype} but {label} is {state.dtype}; give {label} "
            f"the input's dtype with {label}.to(tn.{like.dtype})"
        )
    return state


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: parameters, checks and the loop over layers.

    ``mode`` is ``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'`` or ``'GRU'``, as PyTorch's.
    """

    def __init__(
        self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
        bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
        bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None, rng=None,
    ):  # fmt: skip
        super().__init__()
        _device.check(device)
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode!r}; use one of {sorted(_GATES)}")
        self.mode = mode
        self.input_size = _size(input_size, "input_size", allow_zero=True)
        self.hidden_size = _size(hidden_size, "hidden_size")
        self.num_layers = _size(num_layers, "num_layers")
        self.proj_size = _size(proj_size, "proj_size", allow_zero=True)
        if self.proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if self.proj_size >= self.hidden_size:
            raise ValueError(
                f"proj_size has to be smaller than hidden_size, got proj_size={proj_size} and "
                f"hidden_size={hidden_size}"
            )
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = _dropout(dropout, self.num_layers)
        self.bidirectional = bool(bidirectional)
        self._flat_weights_names = self._register_parameters(parameter_dtype(dtype))
        # One generator seeds the parameters and then draws the dropout masks, as nn.Dropout's
        # rng; None draws both from the global generator (tn.manual_seed).
        self.generator = None if rng is None else as_generator(rng)
        self.reset_parameters(self.generator)

    def _register_parameters(self, dtype: np.dtype) -> list[str]:
        """Create the parameters in PyTorch's order (which ``state_dict`` keeps); their names."""
        gate_size = _GATES[self.mode] * self.hidden_size
        output_size = self.proj_size or self.hidden_size
        directions = 2 if self.bidirectional else 1
        names = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else output_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes: dict[str, tuple[int, ...]] = {
                    "weight_ih": (gate_size, layer_input),
                    "weight_hh": (gate_size, output_size),
                }
                if self.bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if self.proj_size:
                    shapes["weight_hr"] = (self.proj_size, self.hidden_size)
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(np.empty(shape, dtype)))
                    names.append(name)
        return names

    def reset_parameters(self, rng=None) -> None:
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        _reset_uniform(self, self.hidden_size, rng)

    def flatten_parameters(self) -> None:
        """Nothing to do (PyTorch packs the weights for cuDNN here); kept so code runs as is."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters per layer and direction, in ``state_dict`` order."""
        per = len(self._flat_weights_names) // (self.num_layers * (1 + self.bidirectional))
        names = self._flat_weights_names
        return [
            [getattr(self, name) for name in names[start : start + per]]
            for start in range(0, len(names), per)
        ]

    def _weights(self, layer: int, suffix: str) -> tuple:
        def get(kind):
            return getattr(self, f"{kind}_l{layer}{suffix}", None)

        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")

    def forward(self, input, hx=None):
        """``(output, h_n)``, for an LSTM ``(output, (h_n, c_n))``; see the class docstrings."""
        name = type(self).__name__
        x = _sequence_input(name, input)
        if x.ndim not in (2, 3):
            raise ValueError(
                f"{name}: Expected input to be 2D or 3D, got {x.ndim}D instead "
                "(shape (L, H_in) unbatched, or (L, N, H_in); (N, L, H_in) with batch_first)"
            )
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {x.shape[-1]} (the last axis holds the features; "
                "batch_first=True if the batch comes first)"
            )
        F.check_dtypes(name, x, weight_ih_l0=self.weight_ih_l0)
        batched = x.ndim == 3
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        if x.shape[0] == 0:
            raise ShapeError(f"{name}: the input sequence is empty (length 0 on the time axis)")
        h0, c0 = self._initial_states(name, hx, x, batched)
        output, h_n, c_n = self._layers(x, h0, c0)
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def _initial_states(self, name: str, hx, x: Tensor, batched: bool) -> tuple:
        states = 2 if self.mode == "LSTM" else 1
        if hx is not None:
            if states == 2 and not (isinstance(hx, tuple) and len(hx) == 2):
                raise TypeError(
                    f"{name}: hx must be a tuple (h_0, c_0) of two Tensors, got {type(hx).__name__}"
                )
            for label, state in zip(("h_0", "c_0"), hx if states == 2 else (hx,)):
                ndim = getattr(state, "ndim", None)
                if ndim is not None and ndim != (3 if batched else 2):
                    raise ShapeError(
                        f"{name}: For {'batched 3-D' if batched else 'unbatched 2-D'} input, "
                        f"{label} should also be {3 if batched else 2}-D but got {ndim}-D tensor"
                    )
        parts: tuple = (None,) * states if hx is None else (hx if states == 2 else (hx,))
        if not batched:
            parts = tuple(None if p is None else _as_state(p).unsqueeze(1) for p in parts)
        leading = (self.num_layers * (1 + self.bidirectional), x.shape[1])
        h_size, c_size = self.proj_size or self.hidden_size, self.hidden_size
        h0 = _state(name, "h_0", parts[0], (*leading, h_size), x, _STATE_AXES)
        c0 = (
            _state(name, "c_0", parts[1], (*leading, c_size), x, _STATE_AXES)
            if states == 2
            else None
        )
        return h0, c0

    def _layers(self, x: Tensor, h0: Tensor, c0: Tensor | None) -> tuple:
        directions = 2 if self.bidirectional else 1
        h_last, c_last = [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = F.dropout(x, self.dropout, True, rng=self.generator)
            outputs = []
            for direction, suffix in enumerate(("", "_reverse")[:directions]):
                index = layer * directions + direction
                h = h0[index]
                c = None if c0 is None else c0[index]
                output, h, c = self._direction(x, h, c, self._weights(layer, suffix), direction)
                outputs.append(output)
                h_last.append(h)
                c_last.append(c)
            x = outputs[0] if directions == 1 else ops.concatenate(outputs, axis=-1)
        h_n = _composite.stack(h_last)
        c_n = None if c0 is None else _composite.stack(c_last)
        return x, h_n, c_n

    def _direction(self, x: Tensor, h: Tensor, c: Tensor | None, weights, reverse: int):
        weight_ih, weight_hh, bias_ih, bias_hh, weight_hr = weights
        projected = _time_steps(F.linear(x, weight_ih, bias_ih))  # all steps in one product
        steps = range(len(projected) - 1, -1, -1) if reverse else range(len(projected))
        outputs: list = [None] * len(projected)
        for t in steps:
            if self.mode == "LSTM":
                h, c = _lstm_step(projected[t], h, c, weight_hh, bias_hh, weight_hr)
            elif self.mode == "GRU":
                h = _gru_step(projected[t], h, weight_hh, bias_hh)
            else:
                h = _rnn_step(projected[t], h, weight_hh, bias_hh, self.mode == "RNN_RELU")
            outputs[t] = h
        return _composite.stack(outputs), h, c

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


def _reset_uniform(module: Module, hidden_size: int, rng) -> None:
    generator = as_generator(rng)
    bound = 1 / math.sqrt(hidden_size)
    for parameter in module.parameters():
        nn_init.uniform_(parameter, -bound, bound, rng=generator)


def _as_state(state):
    return Tensor(state) if isinstance(state, np.ndarray) else state


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ReLU), per layer.

    Input ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``, ``(L, H_in)`` unbatched)
    and an optional ``h_0`` of shape ``(D * num_layers, N, H_out)`` (zeros if omitted), with
    ``D = 2`` if bidirectional. Returns ``(output, h_n)``: ``output`` ``(L, N, D * H_out)``
    holds the last layer's states at every step, both directions side by side; ``h_n`` the
    final state of every layer and direction. ``dropout`` drops the outputs of all but the
    last layer, in training. ``rng`` (a seed or a Generator) seeds the parameters and then the
    dropout masks.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> rnn = nn.RNN(3, 4, nonlinearity="relu", bidirectional=True, rng=0)
    >>> output, h_n = rnn(tn.ones(6, 2, 3))
    >>> output.shape, h_n.shape
    ((6, 2, 8), (2, 2, 4))
    """

    # The repr leaves out the nonlinearity, as PyTorch's does (its cells show it).
    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1,
        nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
        dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None, rng=None,
    ):  # fmt: skip
        self.nonlinearity = _nonlinearity(nonlinearity)
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, 0, device, dtype, rng,
        )  # fmt: skip


class LSTM(RNNBase):
    """Long short-term memory, per layer and time step (gates stacked i, f, g, o)::

        i, f, o = sigmoid(...), g = tanh(W_i. x_t + b_i. + W_h. h_{t-1} + b_h.)
        c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)  (then h_t = W_hr h_t with proj_size)

    Arguments, shapes and ``rng`` as ``RNN``; ``hx`` is a tuple ``(h_0, c_0)`` and the result
    ``(output, (h_n, c_n))``; ``c_0`` and ``c_n`` have ``hidden_size`` features, ``h`` and the
    output ``proj_size`` if it is positive (each layer's state is then projected by
    ``weight_hr_l{k}``).

    >>> import tinynet as tn, tinynet.nn as nn
    >>> lstm = nn.LSTM(3, 6, proj_size=2, rng=0)
    >>> output, (h_n, c_n) = lstm(tn.ones(5, 3))  # unbatched
    >>> output.shape, h_n.shape, c_n.shape
    ((5, 2), (1, 2), (1, 6))
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
        proj_size: int = 0, device=None, dtype=None, rng=None,
    ):  # fmt: skip
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, proj_size, device, dtype, rng,
        )  # fmt: skip


class GRU(RNNBase):
    """Gated recurrent unit, per layer and time step (gates stacked r, z, n)::

        r, z = sigmoid(W_i. x_t + b_i. + W_h. h_{t-1} + b_h.)
        n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn)),  h_t = (1 - z) * n + z * h_{t-1}

    Arguments, shapes and ``rng`` as ``RNN``.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> gru = nn.GRU(3, 4, num_layers=2, rng=0)
    >>> output, h_n = gru(tn.ones(5, 2, 3), tn.zeros(2, 2, 4))
    >>> output.shape, h_n.shape
    ((5, 2, 4), (2, 2, 4))
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
        device=None, dtype=None, rng=None,
    ):  # fmt: skip
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, 0, device, dtype, rng,
        )  # fmt: skip


# -- cells --------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """What the cells share: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` and checks."""

    _gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None,
        rng=None,
    ):  # fmt: skip
        super().__init__()
        _device.check(device)
        self.input_size = _size(input_size, "input_size", allow_zero=True)
        self.hidden_size = _size(hidden_size, "hidden_size")
        self.bias = bool(bias)
        dtype = parameter_dtype(dtype)
        rows = self._gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((rows, self.input_size), dtype))
        self.weight_hh = Parameter(np.empty((rows, self.hidden_size), dtype))
        if self.bias:
            self.bias_ih = Parameter(np.empty(rows, dtype))
            self.bias_hh = Parameter(np.empty(rows, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        _reset_uniform(self, self.hidden_size, rng)

    def _inputs(self, input, hx, states: int) -> tuple:
        """The input as ``(N, H_in)``, the states as ``(N, H)`` (zeros if omitted), batched."""
        name = type(self).__name__
        x = _sequence_input(name, input)
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {x.ndim}D instead")
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: input has inconsistent input_size: got {x.shape[-1]} expected "
                f"{self.input_size}"
            )
        F.check_dtypes(name, x, weight_ih=self.weight_ih)
        batched = x.ndim == 2
        if not batched:
            x = x.unsqueeze(0)
        if hx is None:
            parts = (None,) * states
        elif states == 2:
            if not (isinstance(hx, tuple) and len(hx) == 2):
                raise TypeError(
                    f"{name}: hx must be a tuple (h_0, c_0) of two Tensors, got {type(hx).__name__}"
                )
            parts = hx
        else:
            parts = (hx,)
        result = []
        for label, state in zip(("h_0", "c_0"), parts):
            state = _as_state(state)
            if state is not None and getattr(state, "ndim", None) != x.ndim - (not batched):
                raise ShapeError(
                    f"{name}: {label} should be {2 if batched else 1}-D for "
                    f"{'batched 2-D' if batched else 'unbatched 1-D'} input, got shape "
                    f"{getattr(state, 'shape', None)}"
                )
            if state is not None and not batched:
                state = state.unsqueeze(0)
            expected = (x.shape[0], self.hidden_size)
            result.append(_state(name, label, state, expected, x, "(batch, hidden_size)"))
        return x, batched, result

    def _projected(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        return text if self.bias else text + ", bias=False"


class RNNCell(RNNCellBase):
    """One step of ``RNN``: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU).

    Input ``(N, H_in)`` or ``(H_in)``, ``hx`` ``(N, H)`` or ``(H)`` (zeros if omitted);
    returns ``h'`` of ``hx``'s shape.

    >>> import tinynet as tn, tinynet.nn as nn
    >>> cell = nn.RNNCell(3, 4, rng=0)
    >>> h = None
    >>> for x in tn.ones(5, 2, 3):  # five steps of a batch of two
    ...     h = cell(x, h)
    >>> h.shape
    (2, 4)
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True,
        nonlinearity: str = "tanh", device=None, dtype=None, rng=None,
    ):  # fmt: skip
        self.nonlinearity = _nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, bias, device, dtype, rng)

    def forward(self, input, hx=None) -> Tensor:
        x, batched, (h,) = self._inputs(input, hx, 1)
        h = _rnn_step(self._projected(x), h, self.weight_hh, self.bias_hh, self._relu)
        return h if batched else h.squeeze(0)

    @property
    def _relu(self) -> bool:
        return self.nonlinearity == "relu"

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text + ", nonlinearity=relu" if self._relu else text  # unquoted, as PyTorch


class LSTMCell(RNNCellBase):
    """One step of ``LSTM``: ``(h', c')`` from ``x`` and ``hx = (h, c)`` (zeros if omitted).

    >>> import tinynet as tn, tinynet.nn as nn
    >>> h, c = nn.LSTMCell(3, 4, rng=0)(tn.ones(2, 3))
    >>> h.shape, c.shape
    ((2, 4), (2, 4))
    """

    _gates = 4

    def forward(self, input, hx=None) -> tuple[Tensor, Tensor]:
        x, batched, (h, c) = self._inputs(input, hx, 2)
        h, c = _lstm_step(self._projected(x), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One step of ``GRU``: ``h'`` from ``x`` and ``hx`` (zeros if omitted).

    >>> import tinynet as tn, tinynet.nn as nn
    >>> nn.GRUCell(3, 4, rng=0)(tn.ones(3), tn.zeros(4)).shape
    (4,)
    """

    _gates = 3

    def forward(self, input, hx=None) -> Tensor:
        x, batched, (h,) = self._inputs(input, hx, 1)
        h = _gru_step(self._projected(x), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
