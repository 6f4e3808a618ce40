"""Export to ONNX: ``tinynet.onnx.export(module, example_input, path)``.

The ``onnx`` package builds the graph (``pip install onnx``; ``onnxruntime`` runs it). A
module is exported layer by layer, one writer per layer class: ``nn.Sequential`` (nested
too) of ``Linear``, ``Conv1d``/``2d``/``3d``, ``ConvTranspose1d``/``2d``, ``MaxPool1d``/``2d``,
``AvgPool1d``/``2d``, ``AdaptiveAvgPool2d``, ``BatchNorm1d``/``2d``/``3d``, ``LayerNorm``,
``Embedding`` (integer indices in), ``Upsample`` (every mode), ``Flatten``, ``Unflatten``,
``Identity``, the dropouts, ``GroupNorm``, ``InstanceNorm1d``/``2d``, ``RMSNorm``,
``PReLU``, ``Threshold``, ``PixelShuffle``/``Unshuffle``, ``ChannelShuffle``,
``LocalResponseNorm``, ``EmbeddingBag`` (bags of one length), ``Unfold``/``Fold``, the
padding layers, the adaptive pools and the activations, ``Softmax2d`` included (docs/nn.md
lists them and how each is written). Anything else, a subclass with its own ``forward``
included, is refused by name rather than exported wrongly. The graph computes in the dtype of the module's parameters;
its batch axis is dynamic, the other axes are the example's.

``RNN``, ``LSTM``, ``GRU`` (as ONNX's operators of those names), ``MultiheadAttention``,
the transformer layers, stacks and ``Transformer`` export alone or in a ``Sequential``
(a recurrent layer last); their sequence axis is dynamic too, and a tuple result is one
ONNX output per tensor (``output``, ``h_n``, ``c_n``), as ``torch.onnx.export`` writes it.

As ``torch.onnx.export`` by default, a module in training mode is exported as in ``eval()``
mode (``Dropout`` the identity, ``BatchNorm`` with its running statistics) and left as it was.

Fitted ``NeuralNetClassifier`` / ``NeuralNetRegressor`` export too: ``export_estimator``
writes their ``predict_proba`` / ``predict``, and ``register_skl2onnx()`` teaches ``skl2onnx``
both, so a scikit-learn ``Pipeline`` holding them converts with ``skl2onnx.to_onnx``.

>>> import numpy as np, tinynet as tn
>>> from tinynet import nn
>>> net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(tn.float32)
>>> x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
>>> model = export(net, x, "net.onnx")
>>> [n.op_type for n in model.graph.node]
['MatMul', 'Add', 'Tanh', 'MatMul', 'Add', 'Identity']
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from tinynet import nn

__all__ = ["export", "export_estimator", "register_skl2onnx", "to_onnx_graph"]

OPSET = 17


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "ONNX export needs the onnx package, which is not installed: pip install onnx "
            "(in a tinynet checkout: pip install -e '.[onnx]')"
        ) from None
    return onnx


class _Graph:
    """Nodes ``(op_type, inputs, outputs, attributes)`` and initializers ``{name: array}``."""

    def __init__(self, dtype, prefix: str = ""):
        self.dtype = np.dtype(dtype)
        self.nodes: list[tuple[str, list[str], list[str], dict]] = []
        self.initializers: dict[str, np.ndarray] = {}
        self._prefix = prefix
        self._count = 0
        # tinynet's value at each name, from export's example: the static feature shapes
        # that pooling, padding and reshapes need (empty for estimators: Linear and
        # activations only).
        self.examples: dict[str, np.ndarray] = {}
        self.batch_kept = True  # False once a Flatten merges the batch axis into others
        self.labels: dict[str, str] = {}  # graph output names of a tuple's later tensors

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{self._prefix}{hint}_{self._count}"

    def constant(self, hint: str, value) -> str:
        name = self.name(hint)
        self.initializers[name] = np.asarray(value, dtype=self.dtype)
        return name

    def op(self, op_type: str, inputs: list[str], **attributes) -> str:
        output = self.name(op_type.lower())
        self.nodes.append((op_type, list(inputs), [output], attributes))
        return output

    def ops(self, op_type: str, inputs: list[str], count: int, **attributes) -> list[str]:
        """An operator of ``count`` outputs (the recurrent ones); their names."""
        outputs = [self.name(f"{op_type.lower()}_out{i}") for i in range(count)]
        self.nodes.append((op_type, list(inputs), outputs, attributes))
        return outputs

    def leading_shape(self, x: str, count: int, tail) -> str:
        """The shape of ``x``'s first ``count`` axes (dynamic ones too), then ``tail``."""
        shape = self.op("Shape", [x])
        lead = self.op("Slice", [shape, self.ints("start", [0]), self.ints("end", [count])])
        return self.op("Concat", [lead, self.ints("shape", tail)], axis=0)

    def ints(self, hint: str, values) -> str:
        """An int64 initializer: the shapes, pads and slice bounds some ops take as inputs."""
        name = self.name(hint)
        self.initializers[name] = np.asarray(values, dtype=np.int64)
        return name

    # -- modules --------------------------------------------------------------------------
    def module(self, module: nn.Module, x: str, **kwargs) -> str:
        """Append ``module``'s forward pass applied to ``x``; return the output's name."""
        results = self.results(module, x, **kwargs)
        if len(results) > 1:
            raise NotImplementedError(
                f"tinynet.onnx cannot export {type(module).__name__} here: it returns a tuple, "
                "which the next layer cannot take; put it last in nn.Sequential, or export it alone"
            )
        return results[0]

    def results(self, module: nn.Module, x: str, *more: str, **kwargs) -> tuple[str, ...]:
        """Append ``module``'s forward pass applied to ``x`` (and ``more`` inputs, ``kwargs``
        fixed at export); return the names of its result's tensors (one but for a tuple)."""
        if isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
            results: tuple[str, ...] = (x,)
            last: nn.Module = module
            for child in module.children():
                if len(results) > 1:
                    raise NotImplementedError(
                        f"tinynet.onnx cannot export {type(last).__name__} before another layer "
                        "in nn.Sequential: it returns a tuple, which the next layer cannot take; "
                        "put it last, or export it alone"
                    )
                results, last = self.results(child, results[0]), child
            return results
        writer = _writer(module)
        example = self.examples.get(x)
        if example is not None and example.dtype.kind in "iu" and writer not in _TAKES_INDICES:
            raise TypeError(
                f"tinynet.onnx: {type(module).__name__} gets integer input; integer inputs "
                "(indices) can only feed an Embedding or EmbeddingBag: give a floating "
                "example_input otherwise"
            )
        inputs = [
            p for p in list(inspect.signature(writer).parameters.values())[2:]
            if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is p.empty
        ]  # fmt: skip
        if len(inputs) > 1 + len(more):
            raise TypeError(
                f"tinynet.onnx: {type(module).__name__} takes {len(inputs)} inputs "
                f"({', '.join(p.name for p in inputs)}), got {1 + len(more)}: export it alone, "
                "with a tuple of examples"
            )
        unknown = sorted(set(kwargs) - set(_keywords(writer)))
        if unknown:
            raise NotImplementedError(
                f"tinynet.onnx cannot export {type(module).__name__} here: it is called with "
                f"{', '.join(unknown)}, which its export does not take"
            )
        y = writer(self, module, x, *more, **kwargs)
        names = y if isinstance(y, tuple) else (y,)
        if example is not None:
            self.examples.update(zip(names, self.outputs(module, x, *more, **kwargs)))
        return names

    def forward(self, module: nn.Module, x: str) -> np.ndarray:
        """tinynet's own output of ``module`` on the example that reaches ``x``."""
        return self.outputs(module, x)[0]

    def outputs(self, module: nn.Module, *inputs: str, **kwargs) -> list[np.ndarray]:
        """tinynet's own outputs of ``module`` on the examples at ``inputs``, a tuple's
        tensors flattened in order (None left out)."""
        from tinynet import Tensor, no_grad

        with no_grad():  # on a copy: an inplace=True layer must not rewrite the example at x
            tensors = [Tensor(self.examples[x].copy()) for x in inputs]
            result = module(*_pack(module, tensors), **kwargs)
        return _flat(result)

    def shape(self, x: str, rank: int | None, module: nn.Module) -> tuple[int, ...]:
        """The example's shape at ``x``, which must be batched: ``rank`` axes (if given)."""
        if x not in self.examples:
            raise NotImplementedError(
                f"tinynet.onnx cannot export {type(module).__name__} here: it needs the input "
                "shape, which only tinynet.onnx.export knows"
            )
        shape = self.examples[x].shape
        if rank is not None and len(shape) != rank:
            raise ValueError(
                f"tinynet.onnx: {type(module).__name__} gets input of shape {shape}; export "
                f"needs a batched input of {rank} axes (batch first), as the batch axis is dynamic"
            )
        return shape

    def pad(self, x: str, shape, widths, mode: str) -> str:
        """Pad the trailing axes of ``x`` (shape ``shape``) by ``(before, after)`` ``widths``."""
        lead = len(shape) - len(widths)
        if mode == "circular":  # ONNX Pad has "wrap" only from opset 19: Slice and Concat
            for axis, (before, after) in enumerate(widths, start=lead):
                if not (before or after):
                    continue
                n, axes = shape[axis], self.ints("axes", [axis])
                parts = [x]
                if before:
                    bounds = [self.ints("start", [n - before]), self.ints("end", [n])]
                    parts.insert(0, self.op("Slice", [x, *bounds, axes]))
                if after:
                    bounds = [self.ints("start", [0]), self.ints("end", [after])]
                    parts.append(self.op("Slice", [x, *bounds, axes]))
                x = self.op("Concat", parts, axis=axis) if len(parts) > 1 else x
            return x
        full = [(0, 0)] * lead + list(widths)
        pads = self.ints("pads", [b for b, _ in full] + [a for _, a in full])
        return self.op("Pad", [x, pads], mode={"reflect": "reflect", "replicate": "edge"}[mode])

    def linear_map(self, module: nn.Module, x: str, rank: int) -> str:
        """``module`` as the matrix it is (a pooling is linear in its input, per channel):
        its columns are tinynet's own output on the basis images, applied by one MatMul."""
        shape = self.shape(x, rank, module)
        size = int(math.prod(shape[2:]))
        if size * size > _LINEAR_MAP_LIMIT:
            raise NotImplementedError(
                f"tinynet.onnx cannot export {module!r} on inputs of shape {shape}: ONNX's "
                "pooling windows or divisors differ from PyTorch's here, and the exact matrix "
                f"would need {size}^2 numbers (more than {_LINEAR_MAP_LIMIT}); use ceil_mode="
                "False, no divisor_override, or an output size that divides the input's"
            )
        basis = np.eye(size, dtype=self.examples[x].dtype).reshape(size, 1, *shape[2:])
        from tinynet import Tensor, no_grad

        with no_grad():
            columns = np.asarray(module(Tensor(basis)).data)
        out = columns.shape[2:]
        flat = self.op("Reshape", [x, self.ints("shape", [0, shape[1], size])])
        y = self.op("MatMul", [flat, self.constant("pool", columns.reshape(size, -1))])
        return self.op("Reshape", [y, self.ints("shape", [0, shape[1], *out])])

    # -- ONNX -----------------------------------------------------------------------------
    def model(self, inputs, outputs, name: str = "tinynet"):
        """An ``onnx.ModelProto``; ``inputs``/``outputs``: ``(name, dtype, shape)``."""
        onnx = _require_onnx()
        from onnx import helper, numpy_helper

        nodes = [
            helper.make_node(op_type, ins, outs, name=outs[0] + "_node", **attributes)
            for op_type, ins, outs, attributes in self.nodes
        ]
        initializers = [numpy_helper.from_array(v, k) for k, v in self.initializers.items()]

        def value(name, dtype, shape):
            element = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
            return helper.make_tensor_value_info(name, element, shape)

        graph = helper.make_graph(
            nodes,
            name,
            [value(*spec) for spec in inputs],
            [value(*spec) for spec in outputs],
            initializers,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="tinynet",
        )
        model.ir_version = min(model.ir_version, 8)  # readable by older onnxruntime too
        onnx.checker.check_model(model)
        return model


# -- one writer per layer -----------------------------------------------------------------------
Writer = Callable[..., str | tuple[str, ...]]
_WRITERS: dict[type, Writer] = {}
_LINEAR_MAP_LIMIT = 1 << 24  # 64 x 64 inputs


_W = TypeVar("_W", bound=Writer)


def _writes(*types: type) -> Callable[[_W], _W]:
    def register(writer: _W) -> _W:
        for cls in types:
            _WRITERS[cls] = writer
        return writer

    return register


def _writer(module: nn.Module) -> Writer:
    """The writer of ``module``'s class, or of a base class whose ``forward`` it keeps.

    A subclass with its own ``forward`` computes something else: refused, unless tinynet
    wrote it (the estimators' ``Linear`` that also takes sparse input, the same on arrays).
    """
    forward = type(module).forward
    for cls in type(module).__mro__:
        if cls in _WRITERS and (
            forward is getattr(cls, "forward", None) or forward.__module__.startswith("tinynet.")
        ):
            return _WRITERS[cls]
    names = ", ".join(sorted({cls.__name__ for cls in _WRITERS}))
    raise NotImplementedError(
        f"tinynet.onnx cannot export {type(module).__name__}: it exports nn.Sequential "
        f"(nested too) of {names}"
    )


def _pair(value, count: int) -> list[int]:
    return [int(v) for v in ((value,) * count if isinstance(value, (int, np.integer)) else value)]


@_writes(nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout)
def _identity(graph: _Graph, module, x: str) -> str:
    return x  # every dropout is the identity in eval mode


@_writes(nn.Linear)
def _linear(graph: _Graph, module, x: str) -> str:
    weight = np.asarray(module.weight.data).T  # (in, out): x @ W.T
    x = graph.op("MatMul", [x, graph.constant("weight", weight)])
    if module.bias is not None:
        x = graph.op("Add", [x, graph.constant("bias", module.bias.data)])
    return x


_SIMPLE = {
    nn.ReLU: "Relu", nn.Tanh: "Tanh", nn.Sigmoid: "Sigmoid", nn.Softsign: "Softsign",
    nn.Hardswish: "HardSwish",
}  # fmt: skip


@_writes(*_SIMPLE)
def _simple(graph: _Graph, module, x: str) -> str:
    for cls, op_type in _SIMPLE.items():
        if isinstance(module, cls):
            return graph.op(op_type, [x])
    raise AssertionError(type(module))


@_writes(nn.LeakyReLU)
def _leaky_relu(graph: _Graph, module, x: str) -> str:
    return graph.op("LeakyRelu", [x], alpha=float(module.negative_slope))


@_writes(nn.ELU)
def _elu(graph: _Graph, module, x: str) -> str:
    return graph.op("Elu", [x], alpha=float(module.alpha))


@_writes(nn.SELU)
def _selu(graph: _Graph, module, x: str) -> str:
    return graph.op("Selu", [x], alpha=_SELU_ALPHA, gamma=_SELU_SCALE)


_SELU_ALPHA = 1.6732632423543772848170429916717  # the self-normalizing constants
_SELU_SCALE = 1.0507009873554804934193349852946


@_writes(nn.CELU)
def _celu(graph: _Graph, module, x: str) -> str:
    alpha = float(module.alpha)
    if graph.dtype == np.float32:
        return graph.op("Celu", [x], alpha=alpha)
    # ONNX's Celu takes float32 only: max(0, x) + min(0, alpha (exp(x / alpha) - 1))
    zero, one, scale = (graph.constant(h, v) for h, v in (("zero", 0), ("one", 1), ("a", alpha)))
    expm1 = graph.op("Sub", [graph.op("Exp", [graph.op("Div", [x, scale])]), one])
    negative = graph.op("Min", [zero, graph.op("Mul", [scale, expm1])])
    return graph.op("Add", [graph.op("Max", [zero, x]), negative])


@_writes(nn.ReLU6, nn.Hardtanh)
def _clip(graph: _Graph, module, x: str) -> str:
    low, high = (0.0, 6.0) if isinstance(module, nn.ReLU6) else (module.min_val, module.max_val)
    return graph.op("Clip", [x, graph.constant("min", low), graph.constant("max", high)])


@_writes(nn.Hardsigmoid)
def _hardsigmoid(graph: _Graph, module, x: str) -> str:
    # PyTorch's relu6(x + 3) / 6 is ONNX's clip(alpha x + beta, 0, 1) with alpha 1/6, beta 1/2
    return graph.op("HardSigmoid", [x], alpha=1 / 6, beta=0.5)


@_writes(nn.GELU)
def _gelu(graph: _Graph, module, x: str) -> str:
    half = graph.constant("half", 0.5)
    one = graph.constant("one", 1.0)
    if module.approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = graph.op("Mul", [graph.op("Mul", [x, x]), x])
        inner = graph.op("Add", [x, graph.op("Mul", [cube, graph.constant("c", 0.044715)])])
        scaled = graph.op("Mul", [inner, graph.constant("k", math.sqrt(2 / math.pi))])
        gate = graph.op("Tanh", [scaled])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        gate = graph.op("Erf", [graph.op("Div", [x, graph.constant("sqrt2", math.sqrt(2))])])
    return graph.op("Mul", [graph.op("Mul", [x, half]), graph.op("Add", [gate, one])])


@_writes(nn.Softplus)
def _softplus(graph: _Graph, module, x: str) -> str:
    if module.beta == 1:
        return graph.op("Softplus", [x])
    beta = graph.constant("beta", module.beta)
    return graph.op("Div", [graph.op("Softplus", [graph.op("Mul", [x, beta])]), beta])


@_writes(nn.Mish)
def _mish(graph: _Graph, module, x: str) -> str:  # ONNX's Mish is opset 18
    return graph.op("Mul", [x, graph.op("Tanh", [graph.op("Softplus", [x])])])


@_writes(nn.SiLU)
def _silu(graph: _Graph, module, x: str) -> str:
    return graph.op("Mul", [x, graph.op("Sigmoid", [x])])


@_writes(nn.LogSigmoid)
def _logsigmoid(graph: _Graph, module, x: str) -> str:  # log sigmoid(x) = -softplus(-x)
    return graph.op("Neg", [graph.op("Softplus", [graph.op("Neg", [x])])])


@_writes(nn.Softmax, nn.LogSoftmax, nn.Softmin)
def _softmax(graph: _Graph, module, x: str) -> str:
    if isinstance(module, nn.Softmin):
        return graph.op("Softmax", [graph.op("Neg", [x])], axis=int(module.dim))
    op_type = "LogSoftmax" if isinstance(module, nn.LogSoftmax) else "Softmax"
    return graph.op(op_type, [x], axis=int(module.dim))


@_writes(nn.GLU)
def _glu(graph: _Graph, glu, x: str) -> str:  # first half of dim times sigmoid of the second
    shape = graph.shape(x, None, glu)
    if glu.dim % len(shape) == 0:
        raise NotImplementedError(
            "tinynet.onnx cannot export GLU(dim=0): the batch axis is dynamic"
        )
    half, axes = shape[glu.dim] // 2, graph.ints("axes", [glu.dim])
    first, second = (
        graph.op("Slice", [x, graph.ints("start", [start]), graph.ints("end", [end]), axes])
        for start, end in ((0, half), (half, 2 * half))
    )
    return graph.op("Mul", [first, graph.op("Sigmoid", [second])])


@_writes(nn.Flatten, nn.Unflatten)
def _reshape(graph: _Graph, module, x: str) -> str:
    default = isinstance(module, nn.Flatten) and (module.start_dim, module.end_dim) == (1, -1)
    if default and x not in graph.examples:  # estimators: (batch, features) already
        return graph.op("Flatten", [x], axis=1)
    rank = len(graph.shape(x, None, module))
    if isinstance(module, nn.Flatten):
        start, end = module.start_dim % rank, module.end_dim % rank
        if (start, end) == (1, rank - 1):
            return graph.op("Flatten", [x], axis=1)
        merges_batch = start == 0 and end > 0
    elif module.dim % rank == 0:
        raise NotImplementedError(
            "tinynet.onnx cannot export Unflatten(dim=0): the batch axis is dynamic"
        )
    else:
        merges_batch = False
    shape = list(graph.forward(module, x).shape)
    shape[0] = -1 if merges_batch else 0  # 0: this axis keeps the batch size, whatever it is
    graph.batch_kept = graph.batch_kept and not merges_batch
    return graph.op("Reshape", [x, graph.ints("shape", shape)])


# -- convolution and pooling --------------------------------------------------------------------
_SPATIAL = {  # the spatial axes where not 2
    nn.Conv1d: 1, nn.ConvTranspose1d: 1, nn.MaxPool1d: 1, nn.AvgPool1d: 1, nn.Conv3d: 3,
}  # fmt: skip


def _spatial(module) -> int:
    return next((n for cls, n in _SPATIAL.items() if isinstance(module, cls)), 2)


@_writes(nn.Conv1d, nn.Conv2d, nn.Conv3d)
def _conv(graph: _Graph, conv, x: str) -> str:
    spatial = _spatial(conv)
    shape = graph.shape(x, spatial + 2, conv)
    if conv.padding == "same":  # PyTorch's split: an odd total puts the extra element after
        totals = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size)]
        widths = [(t // 2, t - t // 2) for t in totals]
    elif conv.padding == "valid":
        widths = [(0, 0)] * spatial
    else:
        widths = [(p, p) for p in conv.padding]
    if conv.padding_mode != "zeros":  # PyTorch pads the input, then convolves without padding
        x = graph.pad(x, shape, widths, conv.padding_mode)
        widths = [(0, 0)] * spatial
    inputs = [x, graph.constant("weight", conv.weight.data)]
    if conv.bias is not None:
        inputs.append(graph.constant("bias", conv.bias.data))
    return graph.op(
        "Conv", inputs, kernel_shape=list(conv.kernel_size), strides=list(conv.stride),
        dilations=list(conv.dilation), group=conv.groups,
        pads=[b for b, _ in widths] + [a for _, a in widths],
    )  # fmt: skip


@_writes(nn.ConvTranspose1d, nn.ConvTranspose2d)
def _conv_transpose(graph: _Graph, conv, x: str) -> str:
    # Weight (in, out/groups, *kernel) and the output size (n - 1) s - 2 p + d (k - 1) +
    # output_padding + 1 are ONNX's as PyTorch's.
    graph.shape(x, _spatial(conv) + 2, conv)
    inputs = [x, graph.constant("weight", conv.weight.data)]
    if conv.bias is not None:
        inputs.append(graph.constant("bias", conv.bias.data))
    return graph.op(
        "ConvTranspose", inputs, kernel_shape=list(conv.kernel_size), strides=list(conv.stride),
        dilations=list(conv.dilation), group=conv.groups, pads=list(conv.padding) * 2,
        output_padding=list(conv.output_padding),
    )  # fmt: skip


@_writes(nn.MaxPool1d, nn.MaxPool2d)
def _max_pool(graph: _Graph, pool, x: str) -> str:
    if pool.return_indices:
        raise NotImplementedError(
            f"tinynet.onnx cannot export {type(pool).__name__}(return_indices=True): "
            "a Sequential passes one tensor on"
        )
    spatial = _spatial(pool)
    size = graph.shape(x, spatial + 2, pool)[2:]
    out = graph.forward(pool, x).shape[2:]
    kernel, stride = (
        _pair(pool.kernel_size, spatial),
        _pair(pool.stride or pool.kernel_size, spatial),
    )
    padding, dilation = _pair(pool.padding, spatial), _pair(pool.dilation, spatial)
    # ceil_mode as explicit padding after, reaching as far as tinynet's last window does
    # (PyTorch's rule: no window starts in the right padding); the padding never wins a max.
    after = [
        max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)
        for n, o, k, s, p, d in zip(size, out, kernel, stride, padding, dilation)
    ]
    pads = padding + after
    if any(a >= k for a, k in zip(after, kernel)):  # onnxruntime wants pads below the kernel
        lead = [0, 0]
        fill = graph.constant("minus_inf", -np.inf)
        pads_input = graph.ints("pads", lead + padding + lead + after)
        x, pads = graph.op("Pad", [x, pads_input, fill], mode="constant"), [0] * len(pads)
    return graph.op(
        "MaxPool", [x], kernel_shape=kernel, strides=stride, dilations=dilation, pads=pads
    )


@_writes(nn.AvgPool1d, nn.AvgPool2d)
def _avg_pool(graph: _Graph, pool, x: str) -> str:
    spatial = _spatial(pool)
    size = graph.shape(x, spatial + 2, pool)[2:]
    out = list(graph.forward(pool, x).shape[2:])
    kernel, stride = (
        _pair(pool.kernel_size, spatial),
        _pair(pool.stride or pool.kernel_size, spatial),
    )
    padding = _pair(pool.padding, spatial)
    floor = [(n + 2 * p - k) // s + 1 for n, k, s, p in zip(size, kernel, stride, padding)]
    if getattr(pool, "divisor_override", None) is None and out == floor:
        return graph.op(
            "AveragePool", [x], kernel_shape=kernel, strides=stride, pads=padding + padding,
            count_include_pad=int(bool(pool.count_include_pad)),
        )  # fmt: skip
    # A ceil-mode window that overhangs the padding, or divisor_override: AveragePool's
    # divisors differ from PyTorch's there, so the pooling goes as the matrix it is.
    return graph.linear_map(pool, x, spatial + 2)


@_writes(nn.AdaptiveAvgPool2d)
def _adaptive_avg_pool(graph: _Graph, pool, x: str) -> str:
    size = graph.shape(x, 4, pool)[2:]
    out = graph.forward(pool, x).shape[2:]
    if out == (1, 1):
        return graph.op("GlobalAveragePool", [x])
    if all(n % o == 0 for n, o in zip(size, out)):  # equal windows that tile the input
        kernel = [n // o for n, o in zip(size, out)]
        return graph.op("AveragePool", [x], kernel_shape=kernel, strides=kernel)
    return graph.linear_map(pool, x, 4)  # overlapping windows of unequal sizes


# -- normalization and embedding ----------------------------------------------------------------
@_writes(nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
def _batch_norm(graph: _Graph, bn, x: str) -> str:
    channels = bn.num_features
    weight = np.ones(channels) if bn.weight is None else bn.weight.data
    bias = np.zeros(channels) if bn.bias is None else bn.bias.data
    scale, shift = graph.constant("scale", weight), graph.constant("shift", bias)
    if bn.running_mean is not None:  # eval mode: the running statistics
        stats = [
            graph.constant("mean", bn.running_mean.data),
            graph.constant("var", bn.running_var.data),
        ]
        return graph.op("BatchNormalization", [x, scale, shift, *stats], epsilon=float(bn.eps))
    # track_running_stats=False: each batch is normalized by its own (biased) statistics
    rank = len(graph.shape(x, None, bn))
    axes = [0, *range(2, rank)]
    centered = graph.op("Sub", [x, graph.op("ReduceMean", [x], axes=axes, keepdims=1)])
    variance = graph.op(
        "ReduceMean", [graph.op("Mul", [centered, centered])], axes=axes, keepdims=1
    )
    std = graph.op("Sqrt", [graph.op("Add", [variance, graph.constant("eps", bn.eps)])])
    column = graph.ints("shape", [channels] + [1] * (rank - 2))
    scale, shift = (graph.op("Reshape", [v, column]) for v in (scale, shift))
    return graph.op("Add", [graph.op("Mul", [graph.op("Div", [centered, std]), scale]), shift])


@_writes(nn.LayerNorm)
def _layer_norm(graph: _Graph, ln, x: str) -> str:
    shape = ln.normalized_shape
    weight = np.ones(shape) if ln.weight is None else ln.weight.data
    inputs = [x, graph.constant("scale", weight)]
    if ln.bias is not None:
        inputs.append(graph.constant("shift", ln.bias.data))
    return graph.op(
        "LayerNormalization", inputs, axis=-len(shape), epsilon=float(ln.eps),
        stash_type=_tensor_type(graph.dtype),
    )  # fmt: skip


@_writes(nn.InstanceNorm1d, nn.InstanceNorm2d)
def _instance_norm(graph: _Graph, norm, x: str) -> str:
    rank = 4 if isinstance(norm, nn.InstanceNorm2d) else 3  # batched: the batch axis is dynamic
    graph.shape(x, rank, norm)
    channels = norm.num_features
    weight = np.ones(channels) if norm.weight is None else norm.weight.data
    bias = np.zeros(channels) if norm.bias is None else norm.bias.data
    scale, shift = graph.constant("scale", weight), graph.constant("shift", bias)
    if norm.track_running_stats:  # eval mode: the running statistics
        stats = [
            graph.constant("mean", norm.running_mean.data),
            graph.constant("var", norm.running_var.data),
        ]
        return graph.op("BatchNormalization", [x, scale, shift, *stats], epsilon=float(norm.eps))
    return graph.op("InstanceNormalization", [x, scale, shift], epsilon=float(norm.eps))


def _per_channel(graph: _Graph, hint: str, values, rank: int) -> str:
    """``values`` (one per channel) shaped to broadcast along axis 1 of a rank-``rank`` input."""
    return graph.constant(hint, np.asarray(values).reshape(-1, *(1,) * (rank - 2)))


@_writes(nn.GroupNorm)
def _group_norm(graph: _Graph, norm, x: str) -> str:
    # ONNX's GroupNormalization is opset 18: normalize (N, G, rest) per group instead.
    shape = graph.shape(x, None, norm)
    groups = norm.num_groups
    grouped = graph.op("Reshape", [x, graph.ints("shape", [0, groups, -1])])
    ones, zeros = graph.constant("ones", np.ones(groups)), graph.constant("zeros", np.zeros(groups))
    normalized = graph.op("InstanceNormalization", [grouped, ones, zeros], epsilon=float(norm.eps))
    y = graph.op("Reshape", [normalized, graph.ints("shape", [0, *shape[1:]])])
    if norm.affine:
        y = graph.op("Mul", [y, _per_channel(graph, "scale", norm.weight.data, len(shape))])
        y = graph.op("Add", [y, _per_channel(graph, "shift", norm.bias.data, len(shape))])
    return y


@_writes(nn.RMSNorm)
def _rms_norm(graph: _Graph, norm, x: str) -> str:
    axes = list(range(-len(norm.normalized_shape), 0))
    eps = norm.eps if norm.eps is not None else float(np.finfo(graph.dtype).eps)
    mean_square = graph.op("ReduceMean", [graph.op("Mul", [x, x])], axes=axes, keepdims=1)
    root = graph.op("Sqrt", [graph.op("Add", [mean_square, graph.constant("eps", eps)])])
    y = graph.op("Div", [x, root])
    if norm.weight is not None:
        y = graph.op("Mul", [y, graph.constant("scale", norm.weight.data)])
    return y


@_writes(nn.PReLU)
def _prelu(graph: _Graph, prelu, x: str) -> str:
    rank = len(graph.shape(x, None, prelu))
    slopes = prelu.weight.data
    if slopes.size > 1:
        slope = _per_channel(graph, "slope", slopes, rank)
    else:
        slope = graph.constant("slope", slopes.reshape(()))
    return graph.op("PRelu", [x, slope])


@_writes(nn.Threshold)
def _threshold(graph: _Graph, module, x: str) -> str:
    above = graph.op("Greater", [x, graph.constant("threshold", module.threshold)])
    return graph.op("Where", [above, x, graph.constant("value", module.value)])


@_writes(nn.PixelShuffle)
def _pixel_shuffle(graph: _Graph, module, x: str) -> str:
    graph.shape(x, 4, module)
    return graph.op("DepthToSpace", [x], blocksize=int(module.upscale_factor), mode="CRD")


@_writes(nn.PixelUnshuffle)
def _pixel_unshuffle(graph: _Graph, module, x: str) -> str:
    # ONNX's SpaceToDepth orders the new channels block-major (DCR); PyTorch's are
    # channel-major: a Reshape, a Transpose and a Reshape.
    _, channels, height, width = graph.shape(x, 4, module)
    r = int(module.downscale_factor)
    blocks = graph.op(
        "Reshape", [x, graph.ints("shape", [0, channels, height // r, r, width // r, r])]
    )
    moved = graph.op("Transpose", [blocks], perm=[0, 1, 3, 5, 2, 4])
    return graph.op(
        "Reshape", [moved, graph.ints("shape", [0, channels * r * r, height // r, width // r])]
    )


@_writes(
    nn.ConstantPad1d, nn.ConstantPad2d, nn.ReflectionPad1d, nn.ReflectionPad2d,
    nn.ReplicationPad1d, nn.ReplicationPad2d,
)  # fmt: skip
def _padding(graph: _Graph, module, x: str) -> str:
    shape = graph.shape(x, None, module)
    pairs = [tuple(module.padding[i : i + 2]) for i in range(0, len(module.padding), 2)][::-1]
    modes = {nn.ReflectionPad1d: "reflect", nn.ReplicationPad1d: "replicate"}
    mode = next((m for cls, m in modes.items() if isinstance(module, cls)), "constant")
    if mode != "constant":
        if min(module.padding) < 0:
            raise NotImplementedError(
                f"tinynet.onnx cannot export {module!r}: negative widths (crops) are written "
                "for constant padding only"
            )
        graph.shape(x, len(pairs) + 2, module)  # batched: the batch axis is dynamic
        return graph.pad(x, shape, pairs, mode)
    full = [(0, 0)] * (len(shape) - len(pairs)) + pairs
    pads = graph.ints("pads", [b for b, _ in full] + [a for _, a in full])
    value = graph.constant("value", module.value)
    return graph.op("Pad", [x, pads, value], mode="constant")


@_writes(nn.AdaptiveAvgPool1d)
def _adaptive_avg_pool1d(graph: _Graph, pool, x: str) -> str:
    size = graph.shape(x, 3, pool)[2]
    out = graph.forward(pool, x).shape[2]
    if out == 1:
        return graph.op("GlobalAveragePool", [x])
    if size % out == 0:
        return graph.op("AveragePool", [x], kernel_shape=[size // out], strides=[size // out])
    return graph.linear_map(pool, x, 3)


@_writes(nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)
def _adaptive_max_pool(graph: _Graph, pool, x: str) -> str:
    rank = 3 if isinstance(pool, nn.AdaptiveMaxPool1d) else 4
    size = graph.shape(x, rank, pool)[2:]
    if pool.return_indices:
        raise NotImplementedError(f"tinynet.onnx cannot export {pool!r}: return_indices=True")
    out = graph.forward(pool, x).shape[2:]
    if all(o == 1 for o in out):
        return graph.op("GlobalMaxPool", [x])
    if any(n % o for n, o in zip(size, out)):
        raise NotImplementedError(
            f"tinynet.onnx cannot export {pool!r} on inputs of shape {graph.shape(x, rank, pool)}: "
            "ONNX's MaxPool has equal windows; use an output size that divides the input's"
        )
    kernel = [n // o for n, o in zip(size, out)]
    return graph.op("MaxPool", [x], kernel_shape=kernel, strides=kernel)


@_writes(nn.Embedding)
def _embedding(graph: _Graph, embedding, x: str) -> str:
    return graph.op("Gather", [graph.constant("weight", embedding.weight.data), x], axis=0)


@_writes(nn.EmbeddingBag)
def _embedding_bag(
    graph: _Graph, bag, x: str, per_sample_weights: str | None = None, *, offsets=None
) -> str:
    """Bags of one length (a 2-D input): ``Gather``, then ``ReduceSum`` / ``ReduceMax``,
    ``padding_idx`` masked out by ``Where`` and left out of the mean's count."""
    shape = graph.shape(x, None, bag)
    if offsets is not None or len(shape) != 2:
        raise NotImplementedError(
            f"tinynet.onnx exports EmbeddingBag on 2-D input (batch, bag_length), bags of one "
            f"length and no offsets; got {'offsets' if offsets is not None else shape}: pad "
            "the bags to one length with padding_idx"
        )
    width = bag.embedding_dim
    if shape[1] == 0:  # empty bags: zeros, whatever the mode
        return graph.op("Expand", [graph.constant("zero", 0.0), graph.leading_shape(x, 1, [width])])
    rows = graph.op("Gather", [graph.constant("weight", bag.weight.data), x], axis=0)
    if per_sample_weights is not None:  # tinynet refuses them but for mode='sum'
        scale = graph.op("Unsqueeze", [per_sample_weights, graph.ints("axes", [2])])
        rows = graph.op("Mul", [rows, scale])
    keep, count = None, ""
    if bag.padding_idx is not None:
        keep = graph.op("Not", [graph.op("Equal", [x, graph.ints("padding_idx", bag.padding_idx)])])
        count = graph.op(  # (N, 1): each bag's indices other than padding_idx
            "ReduceSum", [graph.op("Cast", [keep], to=_tensor_type(graph.dtype)),
                          graph.ints("axes", [1])], keepdims=1,
        )  # fmt: skip
        keep = graph.op("Unsqueeze", [keep, graph.ints("axes", [2])])
    if bag.mode == "max":
        if keep is None:
            return graph.op("ReduceMax", [rows], axes=[1], keepdims=0)
        rows = graph.op("Where", [keep, rows, graph.constant("minus_inf", -np.inf)])
        largest = graph.op("ReduceMax", [rows], axes=[1], keepdims=0)
        nonempty = graph.op("Greater", [count, graph.constant("zero", 0.0)])
        return graph.op("Where", [nonempty, largest, graph.constant("zero", 0.0)])
    if keep is not None:
        rows = graph.op("Where", [keep, rows, graph.constant("zero", 0.0)])
    total = graph.op("ReduceSum", [rows, graph.ints("axes", [1])], keepdims=0)
    if bag.mode == "sum":
        return total
    if keep is None:
        return graph.op("Div", [total, graph.constant("count", shape[1])])
    divisor = graph.op("Max", [count, graph.constant("one", 1.0)])  # an empty bag: 0 / 1
    return graph.op("Div", [total, divisor])


_TAKES_INDICES = (_embedding, _embedding_bag)


@_writes(nn.Softmax2d)
def _softmax2d(graph: _Graph, module, x: str) -> str:
    graph.shape(x, 4, module)  # (C, H, W) would make the channels the dynamic batch axis
    return graph.op("Softmax", [x], axis=1)


@_writes(nn.ChannelShuffle)
def _channel_shuffle(graph: _Graph, module, x: str) -> str:
    graph.forward(module, x)  # tinynet's own checks of the groups and the shape first
    _, channels, *rest = graph.shape(x, None, module)
    groups = int(module.groups)
    grouped = graph.op("Reshape", [x, graph.ints("shape", [0, groups, channels // groups, *rest])])
    perm = [0, 2, 1, *range(3, len(rest) + 3)]
    moved = graph.op("Transpose", [grouped], perm=perm)
    return graph.op("Reshape", [moved, graph.ints("shape", [0, channels, *rest])])


@_writes(nn.LocalResponseNorm)
def _local_response_norm(graph: _Graph, norm, x: str) -> str:
    """ONNX's ``LRN`` (its ``alpha / size`` is PyTorch's) where onnxruntime runs it: float32,
    4-D and an odd ``size`` (for an even one ONNX's window sits one channel later than
    PyTorch's). Else composed as tinynet's forward: the squares padded along the channels
    by ``size // 2`` before and ``(size - 1) // 2`` after, summed by ``size`` ``Slice``s."""
    graph.forward(norm, x)  # tinynet's own checks first
    shape = graph.shape(x, None, norm)
    size, alpha, beta, k = int(norm.size), float(norm.alpha), float(norm.beta), float(norm.k)
    if graph.dtype == np.float32 and len(shape) == 4 and size % 2 == 1:
        return graph.op("LRN", [x], size=size, alpha=alpha, beta=beta, bias=k)
    channels = shape[1]
    widths = [(0, 0)] * len(shape)
    widths[1] = (size // 2, (size - 1) // 2)
    pads = graph.ints("pads", [b for b, _ in widths] + [a for _, a in widths])
    squares = graph.op("Pad", [graph.op("Mul", [x, x]), pads], mode="constant")
    axes = graph.ints("axes", [1])

    def window(offset: int) -> str:
        bounds = [graph.ints("start", [offset]), graph.ints("end", [offset + channels])]
        return graph.op("Slice", [squares, *bounds, axes])

    total = window(0)
    for offset in range(1, size):
        total = graph.op("Add", [total, window(offset)])
    scaled = graph.op("Div", [total, graph.constant("size", size)])
    scaled = graph.op("Add", [graph.op("Mul", [scaled, graph.constant("alpha", alpha)]),
                              graph.constant("k", k)])  # fmt: skip
    return graph.op("Div", [x, graph.op("Pow", [scaled, graph.constant("beta", beta)])])


def _block_positions(module, image: tuple[int, ...]) -> np.ndarray:
    """``(kH * kW, L)``: for each row of ``module``'s unfold of an ``image``-sized input, the
    position read, 1 + its flat index, 0 where the block reads the zero padding (found by
    tinynet's own unfold of the numbers 1, 2, ...)."""
    from tinynet import Tensor, no_grad

    count = int(math.prod(image))
    numbers = Tensor(np.arange(1, count + 1, dtype=np.float64).reshape(1, 1, *image))
    with no_grad():
        columns = nn.functional.unfold(
            numbers, module.kernel_size, module.dilation, module.padding, module.stride
        )
    return np.asarray(columns.data[0]).astype(np.int64)


@_writes(nn.Unfold)
def _unfold(graph: _Graph, module, x: str) -> str:
    """A ``Gather`` of the flat image with a zero in front (the padding reads it)."""
    graph.forward(module, x)
    _, channels, *image = graph.shape(x, 4, module)
    positions = _block_positions(module, tuple(image))
    flat = graph.op("Reshape", [x, graph.ints("shape", [0, channels, -1])])
    padded = graph.op("Pad", [flat, graph.ints("pads", [0, 0, 1, 0, 0, 0])], mode="constant")
    blocks = graph.op("Gather", [padded, graph.ints("positions", positions)], axis=2)
    return graph.op("Reshape", [blocks, graph.ints("shape", [0, -1, positions.shape[1]])])


@_writes(nn.Fold)
def _fold(graph: _Graph, module, x: str) -> str:
    """Unfold's adjoint: a ``ScatterElements`` adding each column entry at its position (the
    padding's all at a slot in front, dropped)."""
    image = tuple(graph.forward(module, x).shape[2:])
    _, rows, _ = graph.shape(x, 3, module)
    positions = _block_positions(module, image)
    channels = rows // positions.shape[0]
    flat = graph.op("Reshape", [x, graph.ints("shape", [0, channels, -1])])  # (N, C, K * L)
    shape = graph.op("Shape", [flat])
    where = graph.op("Expand", [graph.ints("positions", positions.reshape(1, 1, -1)), shape])
    zeros = graph.op("Expand", [graph.constant("zero", np.zeros((1, 1, 1))),
                                graph.leading_shape(flat, 2, [1 + int(math.prod(image))])])  # fmt: skip
    summed = graph.op("ScatterElements", [zeros, where, flat], axis=2, reduction="add")
    bounds = [graph.ints("start", [1]), graph.ints("end", [1 + int(math.prod(image))])]
    summed = graph.op("Slice", [summed, *bounds, graph.ints("axes", [2])])
    return graph.op("Reshape", [summed, graph.ints("shape", [0, channels, *image])])


#: ``Resize`` attributes that compute PyTorch's source positions, per ``interpolate`` mode
#: (each checked in onnxruntime against tinynet's own output): ``nearest`` floors
#: ``dst / scale``, ``nearest-exact`` rounds the pixel centres half up, the interpolating
#: modes read centres (``half_pixel``: PyTorch's own arithmetic, which ONNX's
#: ``pytorch_half_pixel`` is not for an output of length one) or aligned corners.
_RESIZE: dict[str, dict[str, Any]] = {
    "nearest": dict(
        mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"
    ),
    "nearest-exact": dict(
        mode="nearest",
        coordinate_transformation_mode="half_pixel",
        nearest_mode="round_prefer_ceil",
    ),
    "linear": dict(mode="linear"),
    "bilinear": dict(mode="linear"),
    "trilinear": dict(mode="linear"),
    "bicubic": dict(mode="cubic", cubic_coeff_a=-0.75),
}


@_writes(nn.Upsample)
def _upsample(graph: _Graph, upsample, x: str) -> str:
    """``Resize`` to the output's spatial size, or by the scale factor as given (PyTorch then
    reads positions with the factor, not with the sizes' ratio); ``area`` (an adaptive
    average pooling) as its exact matrix."""
    shape = graph.shape(x, None, upsample)
    mode = upsample.mode
    if mode not in _RESIZE:
        return graph.linear_map(upsample, x, len(shape))
    attributes = dict(_RESIZE[mode])
    if attributes["mode"] != "nearest":
        corners = upsample.align_corners
        attributes["coordinate_transformation_mode"] = "align_corners" if corners else "half_pixel"
    factor = upsample.scale_factor
    if factor is not None and not upsample.recompute_scale_factor:
        factors = factor if isinstance(factor, tuple) else (factor,) * (len(shape) - 2)
        scales = graph.name("scales")
        graph.initializers[scales] = np.asarray([1.0, 1.0, *factors], dtype=np.float32)
        return graph.op("Resize", [x, "", scales], **attributes)
    spatial = graph.forward(upsample, x).shape[2:]
    batch_and_channels = graph.op(
        "Slice", [graph.op("Shape", [x]), graph.ints("start", [0]), graph.ints("end", [2])]
    )
    sizes = graph.op("Concat", [batch_and_channels, graph.ints("sizes", spatial)], axis=0)
    return graph.op("Resize", [x, "", "", sizes], **attributes)


# -- recurrent layers, attention and transformer encoders ---------------------------------------
#: ONNX's gate order from PyTorch's: LSTM i, f, g, o -> i, o, f, c; GRU r, z, n -> z, r, h.
_GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}


def _gates(weights: np.ndarray, mode: str) -> np.ndarray:
    """PyTorch's stacked gate rows in ONNX's order."""
    if mode not in _GATE_ORDER:
        return weights
    order = _GATE_ORDER[mode]
    return weights.reshape(len(order), -1, *weights.shape[1:])[order].reshape(weights.shape)


@_writes(nn.RNN, nn.LSTM, nn.GRU)
def _recurrent(graph: _Graph, rnn, x: str, *initial: str) -> tuple[str, ...]:
    """One ONNX ``RNN``/``LSTM``/``GRU`` per layer (both directions in it), seq-first;
    ``initial``: the names of ``h_0`` (and ``c_0``), else zeros."""
    name = type(rnn).__name__
    graph.shape(x, 3, rnn)
    if rnn.proj_size:
        raise NotImplementedError(
            f"tinynet.onnx cannot export {name}(proj_size={rnn.proj_size}): ONNX's LSTM has no "
            "projection"
        )
    mode = rnn.mode
    directions = 2 if rnn.bidirectional else 1
    if rnn.batch_first:
        x = graph.op("Transpose", [x], perm=[1, 0, 2])
    attributes: dict[str, Any] = dict(
        hidden_size=rnn.hidden_size, direction="bidirectional" if directions == 2 else "forward"
    )
    if mode == "GRU":
        attributes["linear_before_reset"] = 1  # PyTorch's n = tanh(... + r * (W_hn h + b_hn))
    elif mode.startswith("RNN"):
        attributes["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"] * directions
    op_type = "RNN" if mode.startswith("RNN") else mode
    states: list[list[str]] = [[], []]
    for layer in range(rnn.num_layers):
        packed: dict[str, list[np.ndarray]] = {"W": [], "R": [], "B": []}
        for suffix in ("", "_reverse")[:directions]:
            kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")[: 4 if rnn.bias else 2]
            ih, hh, *biases = (
                _gates(np.asarray(getattr(rnn, f"{kind}_l{layer}{suffix}").data), mode)
                for kind in kinds
            )
            packed["W"].append(ih)
            packed["R"].append(hh)
            if biases:  # ONNX's B is [Wb, Rb]
                packed["B"].append(np.concatenate(biases))
        inputs = [x, graph.constant("W", packed["W"]), graph.constant("R", packed["R"])]
        inputs.append(graph.constant("B", packed["B"]) if rnn.bias else "")  # "": none
        if initial:  # this layer's rows of h_0 (c_0), after sequence_lens (none)
            bounds = [graph.ints("start", [layer * directions])]
            bounds += [graph.ints("end", [(layer + 1) * directions]), graph.ints("axes", [0])]
            inputs += ["", *(graph.op("Slice", [state, *bounds]) for state in initial)]
        while inputs[-1] == "":
            inputs.pop()
        outputs = graph.ops(op_type, inputs, 3 if mode == "LSTM" else 2, **attributes)
        # Y is (L, directions, N, H): both directions side by side, as PyTorch's output
        y = graph.op("Transpose", [outputs[0]], perm=[0, 2, 1, 3])
        x = graph.op("Reshape", [y, graph.ints("shape", [0, 0, -1])])
        for kept, state in zip(states, outputs[1:]):
            kept.append(state)
    output = graph.op("Transpose", [x], perm=[1, 0, 2]) if rnn.batch_first else x
    results = [output]
    for label, kept in zip(("h_n", "c_n"), states):
        if kept:
            state = graph.op("Concat", kept, axis=0) if len(kept) > 1 else kept[0]
            graph.labels[state] = label
            results.append(state)
    return tuple(results)


def _mask_array(mask, module: str) -> np.ndarray:
    """A fixed ``(L, S)`` attention mask as numbers to add: True (not allowed) as -inf."""
    from tinynet import Tensor

    array = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if array.ndim != 2:
        raise NotImplementedError(
            f"tinynet.onnx cannot export {module} with an attn_mask of shape {array.shape}: "
            "a per-batch (batch * num_heads, L, S) mask fixes the batch size; give one (L, S) "
            "mask for every sequence"
        )
    return np.where(array, -np.inf, 0.0) if array.dtype == np.bool_ else array


def _no_padding_mask(mask, module: str) -> None:
    if mask is not None:
        raise NotImplementedError(
            f"tinynet.onnx cannot export {module} with a key_padding_mask: it depends on "
            "the batch, which is dynamic; export without it"
        )


def _attend(graph: _Graph, mha, query: str, key: str, value: str, attn_mask,
            need_weights: bool, average: bool) -> tuple[str, ...]:  # fmt: skip
    """``MultiheadAttention``'s forward: batch-major inside, heads by Reshape and Transpose."""
    embed, heads, size = mha.embed_dim, mha.num_heads, mha.head_dim
    batch_major: dict[str, str] = {}
    for name in (query, key, value):
        if name not in batch_major:
            batch_major[name] = (
                name if mha.batch_first else graph.op("Transpose", [name], perm=[1, 0, 2])
            )
    if mha.in_proj_weight is not None:
        weight = np.asarray(mha.in_proj_weight.data)
        weights = [weight[:embed], weight[embed : 2 * embed], weight[2 * embed :]]
    else:
        weights = [np.asarray(getattr(mha, f"{k}_proj_weight").data) for k in "qkv"]
    bias = None if mha.in_proj_bias is None else np.asarray(mha.in_proj_bias.data)
    projected = []
    for index, (name, w) in enumerate(zip((query, key, value), weights)):
        y = graph.op("MatMul", [batch_major[name], graph.constant("weight", w.T)])
        if bias is not None:
            y = graph.op(
                "Add", [y, graph.constant("bias", bias[index * embed : (index + 1) * embed])]
            )
        projected.append(y)
    q, k, v = projected
    if mha.bias_k is not None:  # one more key and value, the same for every sequence
        shape = graph.leading_shape(q, 1, [1, embed])
        extra_key = graph.op("Expand", [graph.constant("bias_k", mha.bias_k.data), shape])
        extra_value = graph.op("Expand", [graph.constant("bias_v", mha.bias_v.data), shape])
        k = graph.op("Concat", [k, extra_key], axis=1)
        v = graph.op("Concat", [v, extra_value], axis=1)
    split = graph.ints("shape", [0, 0, heads, size])
    q, k, v = (graph.op("Reshape", [t, split]) for t in (q, k, v))
    q = graph.op("Transpose", [q], perm=[0, 2, 1, 3])  # (N, heads, L, size)
    k = graph.op("Transpose", [k], perm=[0, 2, 3, 1])  # (N, heads, size, S)
    v = graph.op("Transpose", [v], perm=[0, 2, 1, 3])  # (N, heads, S, size)
    if mha.add_zero_attn:  # a key and value of zeros per head
        shape = graph.leading_shape(q, 2, [1, 1])  # (N, heads, 1, 1): broadcast by Expand
        zero_key = graph.op("Expand", [graph.constant("zeros", np.zeros((size, 1))), shape])
        zero_value = graph.op("Expand", [graph.constant("zeros", np.zeros((1, size))), shape])
        k = graph.op("Concat", [k, zero_key], axis=3)
        v = graph.op("Concat", [v, zero_value], axis=2)
    scores = graph.op("MatMul", [q, k])
    scores = graph.op("Mul", [scores, graph.constant("scale", 1.0 / math.sqrt(size))])
    if attn_mask is not None:
        extra = int(mha.bias_k is not None) + int(mha.add_zero_attn)
        mask = np.pad(_mask_array(attn_mask, "MultiheadAttention"), [(0, 0), (0, extra)])
        scores = graph.op("Add", [scores, graph.constant("mask", mask)])
    attention = graph.op("Softmax", [scores], axis=-1)
    joined = graph.op("Transpose", [graph.op("MatMul", [attention, v])], perm=[0, 2, 1, 3])
    joined = graph.op("Reshape", [joined, graph.ints("shape", [0, 0, embed])])
    output = _linear(graph, mha.out_proj, joined)
    if not mha.batch_first:
        output = graph.op("Transpose", [output], perm=[1, 0, 2])
    if not need_weights:
        return (output,)
    if average:
        attention = graph.op("ReduceMean", [attention], axes=[1], keepdims=0)
    graph.labels[attention] = "attn_output_weights"
    return output, attention


@_writes(nn.MultiheadAttention)
def _multihead_attention(
    graph: _Graph, mha, query: str, key: str | None = None, value: str | None = None, *,
    key_padding_mask=None, need_weights: bool = True, attn_mask=None,
    average_attn_weights: bool = True, is_causal: bool = False,
) -> str | tuple[str, ...]:  # fmt: skip
    _no_padding_mask(key_padding_mask, "MultiheadAttention")
    key = query if key is None else key
    value = key if value is None else value
    for name in (query, key, value):
        graph.shape(name, 3, mha)
    result = _attend(graph, mha, query, key, value, attn_mask, need_weights, average_attn_weights)
    return result if len(result) > 1 else result[0]


def _feed_forward_activation(graph: _Graph, layer, x: str) -> str:
    activation = layer.activation
    if activation is nn.functional.relu:
        return graph.op("Relu", [x])
    if activation is nn.functional.gelu:
        return _gelu(graph, nn.GELU(), x)
    if isinstance(activation, nn.Module):
        return graph.module(activation, x)
    raise NotImplementedError(
        f"tinynet.onnx cannot export {type(layer).__name__} with activation {activation!r}: "
        "it writes 'relu', 'gelu' or an activation module (nn.GELU(approximate='tanh'), ...)"
    )


@_writes(nn.TransformerEncoderLayer)
def _encoder_layer(
    graph: _Graph, layer, x: str, *, src_mask=None, src_key_padding_mask=None,
    is_causal: bool = False,
) -> str:  # fmt: skip
    _no_padding_mask(src_key_padding_mask, "TransformerEncoderLayer")
    graph.shape(x, 3, layer)

    def attention(h: str) -> str:
        return _attend(graph, layer.self_attn, h, h, h, src_mask, False, True)[0]

    def feed_forward(h: str) -> str:
        hidden = _feed_forward_activation(graph, layer, _linear(graph, layer.linear1, h))
        return _linear(graph, layer.linear2, hidden)

    return _residual_blocks(
        graph, layer, x, ((layer.norm1, attention), (layer.norm2, feed_forward))
    )


def _residual_blocks(graph: _Graph, layer, x: str, blocks) -> str:
    """Per ``(norm, block)``: ``x + block(norm(x))`` with ``norm_first``, else
    ``norm(x + block(x))``."""
    for norm, block in blocks:
        if layer.norm_first:
            x = graph.op("Add", [x, block(_layer_norm(graph, norm, x))])
        else:
            x = _layer_norm(graph, norm, graph.op("Add", [x, block(x)]))
    return x


@_writes(nn.TransformerEncoder)
def _encoder(
    graph: _Graph, encoder, x: str, *, mask=None, src_key_padding_mask=None, is_causal=None
) -> str:
    for layer in encoder.layers:
        x = graph.module(
            layer, x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
            is_causal=bool(is_causal),
        )  # fmt: skip
    return x if encoder.norm is None else graph.module(encoder.norm, x)


@_writes(nn.TransformerDecoderLayer)
def _decoder_layer(
    graph: _Graph, layer, tgt: str, memory: str, *, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal: bool = False,
    memory_is_causal: bool = False,
) -> str:  # fmt: skip
    _no_padding_mask(tgt_key_padding_mask, "TransformerDecoderLayer")
    _no_padding_mask(memory_key_padding_mask, "TransformerDecoderLayer")
    graph.shape(tgt, 3, layer)

    def self_attention(h: str) -> str:
        return _attend(graph, layer.self_attn, h, h, h, tgt_mask, False, True)[0]

    def cross_attention(h: str) -> str:
        attention = layer.multihead_attn
        return _attend(graph, attention, h, memory, memory, memory_mask, False, True)[0]

    def feed_forward(h: str) -> str:
        hidden = _feed_forward_activation(graph, layer, _linear(graph, layer.linear1, h))
        return _linear(graph, layer.linear2, hidden)

    blocks = (
        (layer.norm1, self_attention), (layer.norm2, cross_attention), (layer.norm3, feed_forward)
    )  # fmt: skip
    return _residual_blocks(graph, layer, tgt, blocks)


@_writes(nn.TransformerDecoder)
def _decoder(
    graph: _Graph, decoder, tgt: str, memory: str, *, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=None,
    memory_is_causal: bool = False,
) -> str:  # fmt: skip
    for layer in decoder.layers:
        (tgt,) = graph.results(
            layer, tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal,
        )  # fmt: skip
    return tgt if decoder.norm is None else graph.module(decoder.norm, tgt)


@_writes(nn.Transformer)
def _transformer(
    graph: _Graph, model, src: str, tgt: str, *, src_mask=None, tgt_mask=None,
    memory_mask=None, src_key_padding_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal: bool = False,
) -> str:  # fmt: skip
    (memory,) = graph.results(
        model.encoder, src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
        is_causal=src_is_causal,
    )  # fmt: skip
    (y,) = graph.results(
        model.decoder, tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
        tgt_key_padding_mask=tgt_key_padding_mask,
        memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
        memory_is_causal=memory_is_causal,
    )  # fmt: skip
    return y


def _parameter_dtype(module: nn.Module, default=np.float32):
    """The dtype the module computes in: its first floating parameter's or buffer's."""
    for tensor in (*module.parameters(), *(b for _, b in module.named_buffers())):
        if tensor is not None and np.asarray(tensor.data).dtype.kind == "f":
            return np.asarray(tensor.data).dtype
    return np.dtype(default)


def _flat(result) -> list[np.ndarray]:
    """The arrays of a module's result, nested tuples flattened in order, None left out."""
    if result is None:
        return []
    if isinstance(result, (tuple, list)):
        return [array for part in result for array in _flat(part)]
    return [np.asarray(result.data)]


def _sequence_layout(module: nn.Module) -> bool | None:
    """``batch_first`` of the first recurrent or attention layer in ``module``; None if none."""
    for child in module.modules():
        if isinstance(child, (nn.RNN, nn.LSTM, nn.GRU, nn.MultiheadAttention)):
            return bool(child.batch_first)
    return None


def _input_names(module: nn.Module, count: int, input_name: str) -> list[str]:
    if count == 1:
        return [input_name]
    if count == 3 and isinstance(module, nn.MultiheadAttention):
        return ["query", "key", "value"]
    if count == 2 and isinstance(module, (nn.TransformerDecoderLayer, nn.TransformerDecoder)):
        return ["tgt", "memory"]
    if count == 2 and isinstance(module, nn.Transformer):
        return ["src", "tgt"]
    if count == 2 and isinstance(module, nn.EmbeddingBag):
        return [input_name, "per_sample_weights"]
    states = 2 if isinstance(module, nn.LSTM) else 1
    if count == 1 + states and isinstance(module, (nn.RNN, nn.LSTM, nn.GRU)):
        return [input_name, "h_0", "c_0"][:count]
    raise TypeError(
        f"tinynet.onnx: {type(module).__name__} takes one example input, got {count}; only "
        "MultiheadAttention takes a tuple (query, key, value), RNN and GRU (input, h_0), "
        "LSTM (input, (h_0, c_0)), the decoders (tgt, memory), Transformer (src, tgt), "
        "EmbeddingBag (input, per_sample_weights)"
    )


def _flat_inputs(example) -> list:
    """The example inputs, nested tuples (an LSTM's ``(input, (h_0, c_0))``) flattened."""
    if isinstance(example, (tuple, list)):
        return [x for part in example for x in _flat_inputs(part)]
    return [example]


def _pack(module: nn.Module, inputs: list) -> list:
    """Flat inputs as the forward takes them: an LSTM's states as one tuple ``hx``."""
    if isinstance(module, nn.LSTM) and len(inputs) == 3:
        return [inputs[0], (inputs[1], inputs[2])]
    if isinstance(module, nn.EmbeddingBag) and len(inputs) == 2:  # no offsets
        return [inputs[0], None, inputs[1]]
    return inputs


_SOURCES = ("key", "value", "memory", "src")  # inputs attended to: their own length


def _dynamic_axes(names: list[str], examples: list[np.ndarray], batch_first: bool, build,
                  graph: _Graph, results: tuple[str, ...]) -> tuple:  # fmt: skip
    """The named axes of a sequence model's inputs and outputs: ``batch``, ``sequence`` (and
    ``source_sequence`` for what an attention attends to). An axis is dynamic where the
    graph ``build`` writes for examples one longer along it is the same graph: tinynet took
    the other size (a fixed mask takes one length) and no layer wrote the size into it."""
    batch_axis, sequence_axis = (0, 1) if batch_first else (1, 0)
    axes = []
    for name in names:
        if name in ("h_0", "c_0"):  # (layers * directions, batch, hidden)
            axes.append({1: "batch"})
        else:
            sequence = "source_sequence" if name in _SOURCES else "sequence"
            axes.append({batch_axis: "batch", sequence_axis: sequence})
    base = [graph.examples[r].shape for r in results]
    outputs: list[dict[int, str]] = [{} for _ in base]
    for name in ("batch", "sequence", "source_sequence"):
        longer = []
        for x, named in zip(examples, axes):
            axis = next((a for a, n in named.items() if n == name), None)
            longer.append(x if axis is None else np.concatenate([x, x.take([0], axis)], axis))
        if all(x is y for x, y in zip(longer, examples)):
            continue
        try:
            other, other_results = build(longer)
            same = _same_graph(graph, other)
        except Exception:  # tinynet takes only this size (a fixed mask)
            same = False
        if not same:  # a static axis
            for named in axes:
                for axis in [a for a, n in named.items() if n == name]:
                    del named[axis]
            continue
        shapes = [other.examples[r].shape for r in other_results]
        for named, shape, was in zip(outputs, shapes, base):
            named.update({a: name for a, (n, m) in enumerate(zip(shape, was)) if n != m})
    return axes, outputs


def _same_graph(a: _Graph, b: _Graph) -> bool:
    return (
        a.nodes == b.nodes
        and a.initializers.keys() == b.initializers.keys()
        and all(np.array_equal(value, b.initializers[key]) for key, value in a.initializers.items())
    )


def to_onnx_graph(
    module: nn.Module, example_input, input_name="input", output_name="output", kwargs=None
):
    """The ``onnx.ModelProto`` of ``module`` for inputs shaped like ``example_input``.

    Integer ``example_input`` (indices for a leading ``Embedding``) makes an int64 graph
    input; any other is cast to the parameters' dtype. A tuple ``(query, key, value)`` of
    examples makes three inputs of those names (``MultiheadAttention``); ``kwargs`` are
    fixed keyword arguments of the module's forward (an ``attn_mask``, ``need_weights``).
    """
    from tinynet import Tensor

    kwargs = dict(kwargs or {})
    examples = [
        np.asarray(x.data if isinstance(x, Tensor) else x) for x in _flat_inputs(example_input)
    ]
    names = _input_names(module, len(examples), input_name)
    # A module without parameters computes in its input's (floating) dtype.
    first = examples[0]
    dtype = _parameter_dtype(module, first.dtype if first.dtype.kind == "f" else np.float32)
    examples = [x.astype(np.int64 if x.dtype.kind in "iu" else dtype) for x in examples]
    if any(x.ndim < 1 for x in examples):
        raise ValueError("example_input needs a batch axis: an array of shape (batch, ...)")
    _check_kwargs(module, kwargs)
    batch_first = _sequence_layout(module)
    if batch_first is not None and any(x.ndim < 2 for x in examples):
        raise ValueError(
            f"tinynet.onnx: {type(module).__name__} needs a batched example, with a batch and "
            "a sequence axis"
        )

    def build(inputs: list[np.ndarray]) -> tuple[_Graph, tuple[str, ...]]:
        graph = _Graph(dtype)
        graph.examples.update(zip(names, inputs))
        return graph, graph.results(module, *_spread(module, names), **kwargs)

    was_training = module.training
    module.eval()  # as torch.onnx.export by default: the inference graph, mode restored after
    try:  # each layer runs on the example as it is written: shapes for the next
        graph, results = build(examples)
        if batch_first is not None:
            in_axes, out_axes = _dynamic_axes(names, examples, batch_first, build, graph, results)
    finally:
        module.train(was_training)
    labels = [output_name] + [graph.labels.get(r, f"{output_name}_{i}") for i, r in
                              enumerate(results[1:], start=1)]  # fmt: skip
    for result_name, label in zip(results, labels):
        graph.nodes.append(("Identity", [result_name], [label], {}))
    expected = [graph.examples[r] for r in results]
    if batch_first is None:
        batch = "batch" if graph.batch_kept else None  # None: a size that varies otherwise
        in_axes = [{0: "batch"} for _ in names]
        out_axes = [{0: batch} for _ in results]
    return graph.model(
        [(n, x.dtype, _dims(x.shape, a)) for n, x, a in zip(names, examples, in_axes)],
        [(n, dtype, _dims(y.shape, a)) for n, y, a in zip(labels, expected, out_axes)],
    )


def _spread(module: nn.Module, inputs: list) -> list:
    """One input of a ``MultiheadAttention`` is its query, key and value (self-attention)."""
    if isinstance(module, nn.MultiheadAttention) and len(inputs) == 1:
        return inputs * 3
    return inputs


def _dims(shape: tuple[int, ...], named: dict[int, str | None]) -> list:
    return [named.get(axis, size) if axis in named else size for axis, size in enumerate(shape)]


def _keywords(writer: Writer) -> list[str]:
    """The keyword arguments of a module's forward that its writer takes (fixed at export)."""
    parameters = inspect.signature(writer).parameters.values()
    return [p.name for p in parameters if p.kind == p.KEYWORD_ONLY]


def _check_kwargs(module: nn.Module, kwargs: dict) -> None:
    """Keyword arguments only for the modules whose forward takes them, by their names."""
    if not kwargs:
        return
    accepted = [] if isinstance(module, nn.Sequential) else _keywords(_writer(module))
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) if accepted else "none"
        raise TypeError(
            f"tinynet.onnx: {type(module).__name__}'s forward takes no keyword argument "
            f"{unknown[0]!r} that export can fix (it takes: {takes})"
        )


def export(
    module: nn.Module, example_input, path, *, input_name="input", output_name="output",
    kwargs=None,
):  # fmt: skip
    """Write ``module``'s ``eval()``-mode forward as an ONNX file at ``path``; return the model.

    ``example_input`` is an array or Tensor of the input's shape (any batch size): it fixes
    the shape of every axis but the batch one, and each layer runs on it once (so a module
    in training mode is run in eval mode, then put back, its running statistics unchanged).
    Integer examples (indices for an ``Embedding``) make an int64 input. The ONNX input and
    output are named ``input_name`` and ``output_name``.

    A model with a recurrent or attention layer also takes other sequence lengths (its
    sequence axis is dynamic), and a module returning a tuple writes one output per tensor:
    ``output, h_n`` (``c_n`` too) for ``RNN``/``GRU``/``LSTM``, ``output,
    attn_output_weights`` for ``MultiheadAttention``. Several inputs come as a tuple, as
    ``torch.onnx.export``'s ``args``, each an ONNX input of the forward's name:
    ``(query, key, value)`` (one example alone: self-attention), ``(input, h_0)`` (an LSTM's
    ``(input, (h_0, c_0))``), ``(tgt, memory)`` for the decoders, ``(src, tgt)`` for a
    ``Transformer``, ``(input, per_sample_weights)`` for an ``EmbeddingBag``. ``kwargs`` fixes keyword arguments of the forward, a mask say.
    """
    model = to_onnx_graph(module, example_input, input_name, output_name, kwargs)
    _write(model, path)
    return model


def _write(model, path) -> None:
    if path is None:  # the caller writes the bytes (the CLI, atomically)
        return
    with open(os.fspath(path), "wb") as file:
        file.write(model.SerializeToString())


# -- estimators -------------------------------------------------------------------------------
def _estimator_graph(graph: _Graph, estimator, x: str) -> str:
    """Append the estimator's forward pass and output activation: probabilities for a
    classifier (two columns for a binary one), predictions for a regressor."""
    raw = graph.module(estimator.module_, x)
    activation = estimator.out_activation_
    if activation == "softmax":
        return graph.op("Softmax", [raw], axis=1)
    if activation == "logistic":
        positive = graph.op("Sigmoid", [raw])
        if hasattr(estimator, "classes_") and estimator.n_outputs_ == 1:  # binary: 2 columns
            negative = graph.op("Sub", [graph.constant("one", 1.0), positive])
            return graph.op("Concat", [negative, positive], axis=1)
        return positive
    if activation == "exp":
        return graph.op("Exp", [raw])
    return raw


def export_estimator(estimator, path, *, mean=None, scale=None, target_mean=0.0, target_scale=1.0):
    """Write a fitted estimator's ``predict_proba`` (classifier) or ``predict`` (regressor).

    The graph's input ``input`` takes raw features; ``(x - mean) / scale`` is applied first
    when ``mean``/``scale`` are given, and a regressor's output is ``y * target_scale +
    target_mean``. The output is ``probabilities`` or ``prediction``.
    """
    if getattr(estimator, "module_", None) is None:
        raise ValueError("export_estimator needs a fitted estimator")
    dtype = _parameter_dtype(estimator.module_)
    graph = _Graph(dtype)
    x = "input"
    if mean is not None:
        x = graph.op("Sub", [x, graph.constant("mean", mean)])
    if scale is not None:
        x = graph.op("Div", [x, graph.constant("scale", scale)])
    y = _estimator_graph(graph, estimator, x)
    is_classifier = hasattr(estimator, "classes_")
    if not is_classifier and (target_scale != 1.0 or target_mean != 0.0):
        y = graph.op("Mul", [y, graph.constant("target_scale", target_scale)])
        y = graph.op("Add", [y, graph.constant("target_mean", target_mean)])
    name = "probabilities" if is_classifier else "prediction"
    graph.nodes.append(("Identity", [y], [name], {}))
    n_out = len(estimator.classes_) if is_classifier else estimator.n_outputs_
    model = graph.model(
        [("input", dtype, ["batch", int(estimator.n_features_in_)])],
        [(name, dtype, ["batch", n_out])],
    )
    _write(model, path)
    return model


# -- skl2onnx ---------------------------------------------------------------------------------
def _skl2onnx_converter(scope, operator, container) -> None:
    from onnx import TensorProto

    estimator = operator.raw_operator
    if estimator.out_activation_ == "logistic" and estimator.n_outputs_ > 1:
        raise NotImplementedError(
            "the skl2onnx converter handles single-label classifiers; export a multilabel "
            "NeuralNetClassifier with tinynet.onnx.export_estimator"
        )
    dtype = _parameter_dtype(estimator.module_)
    graph = _Graph(dtype, prefix=scope.get_unique_variable_name("tinynet") + "_")
    x = graph.op("Cast", [operator.inputs[0].full_name], to=_tensor_type(dtype))
    y = _estimator_graph(graph, estimator, x)
    is_classifier = hasattr(estimator, "classes_")
    if is_classifier:
        graph.nodes.append(
            ("Cast", [y], [operator.outputs[1].full_name], {"to": TensorProto.FLOAT})
        )
        index = graph.op("ArgMax", [y], axis=1, keepdims=0)
        classes = np.asarray(estimator.classes_)
        if classes.dtype.kind in "iub":
            labels = np.asarray(classes, dtype=np.int64)
        else:
            labels = np.array([str(c).encode("utf-8") for c in classes], dtype=object)
        graph.initializers[graph.name("classes")] = labels
        classes_name = list(graph.initializers)[-1]
        graph.nodes.append(("Gather", [classes_name, index], [operator.outputs[0].full_name], {}))
    else:
        graph.nodes.append(
            ("Cast", [y], [operator.outputs[0].full_name], {"to": TensorProto.FLOAT})
        )
    for name, array in graph.initializers.items():
        if array.dtype == object:
            container.add_initializer(name, TensorProto.STRING, array.shape, array.tolist())
        else:
            element = _tensor_type(array.dtype)
            container.add_initializer(name, element, array.shape, array.ravel().tolist())
    for op_type, inputs, outputs, attributes in graph.nodes:
        container.add_node(
            op_type, inputs, outputs, name=scope.get_unique_operator_name(op_type), **attributes
        )


def _tensor_type(dtype) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def register_skl2onnx() -> bool:
    """Teach ``skl2onnx`` the tinynet estimators; False when skl2onnx is not installed.

    Call it once before converting; after it, ``skl2onnx.to_onnx`` converts a fitted
    ``NeuralNetClassifier`` (outputs ``label`` and ``probabilities``, as scikit-learn's MLP
    with ``options={"zipmap": False}``) or ``NeuralNetRegressor``, alone or in a Pipeline.
    """
    try:
        from skl2onnx import update_registered_converter
        from skl2onnx.common.shape_calculator import (
            calculate_linear_classifier_output_shapes,
            calculate_linear_regressor_output_shapes,
        )
    except ImportError:
        return False
    from tinynet.estimators import NeuralNetClassifier, NeuralNetRegressor

    update_registered_converter(
        NeuralNetClassifier, "TinynetNeuralNetClassifier",
        calculate_linear_classifier_output_shapes, _skl2onnx_converter,
        options={"zipmap": [False, True, "columns"], "nocl": [False, True]},
    )  # fmt: skip
    update_registered_converter(
        NeuralNetRegressor, "TinynetNeuralNetRegressor",
        calculate_linear_regressor_output_shapes, _skl2onnx_converter,
    )  # fmt: skip
    return True
