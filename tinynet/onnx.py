"""Export to ONNX: ``tinynet.onnx.export(module, example_input, path)``.

The ``onnx`` package builds the graph (``pip install onnx``; ``onnxruntime`` runs it). A
module is exported layer by layer: ``nn.Sequential`` (nested too) of ``nn.Linear``, the
activations ``ReLU``, ``LeakyReLU``, ``ELU``, ``GELU``, ``Tanh``, ``Sigmoid``, ``Softplus``,
``Softmax``, ``LogSoftmax``, ``SiLU``, ``Identity``, ``Flatten`` and ``Dropout``
(the identity at inference, as in ``eval()`` mode). Anything else is refused by name rather
than exported wrongly. The graph computes in the dtype of the module's parameters and its
batch axis is dynamic.

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

import math
import os

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

    # -- modules --------------------------------------------------------------------------
    def module(self, module: nn.Module, x: str) -> str:
        """Append ``module``'s forward pass applied to ``x``; return the output's name."""
        if isinstance(module, nn.Sequential):
            for child in module.children():
                x = self.module(child, x)
            return x
        if isinstance(module, nn.Linear):
            weight = np.asarray(module.weight.data).T  # (in, out): x @ W.T
            x = self.op("MatMul", [x, self.constant("weight", weight)])
            if module.bias is not None:
                x = self.op("Add", [x, self.constant("bias", module.bias.data)])
            return x
        if isinstance(module, (nn.Identity, nn.Dropout)):
            return x
        simple = {nn.ReLU: "Relu", nn.Tanh: "Tanh", nn.Sigmoid: "Sigmoid"}
        if type(module) in simple:
            return self.op(simple[type(module)], [x])
        if isinstance(module, nn.LeakyReLU):
            return self.op("LeakyRelu", [x], alpha=float(module.negative_slope))
        if isinstance(module, nn.ELU):
            return self.op("Elu", [x], alpha=float(module.alpha))
        if isinstance(module, nn.GELU):
            return self.gelu(x, module.approximate)
        if isinstance(module, nn.Softplus):
            if module.beta == 1:
                return self.op("Softplus", [x])
            beta = self.constant("beta", module.beta)
            scaled = self.op("Softplus", [self.op("Mul", [x, beta])])
            return self.op("Div", [scaled, beta])
        if isinstance(module, nn.Softmax):
            return self.op("Softmax", [x], axis=int(module.dim))
        if isinstance(module, nn.LogSoftmax):
            return self.op("LogSoftmax", [x], axis=int(module.dim))
        if isinstance(module, nn.Flatten) and module.start_dim == 1 and module.end_dim == -1:
            return self.op("Flatten", [x], axis=1)
        if isinstance(module, nn.SiLU):
            return self.op("Mul", [x, self.op("Sigmoid", [x])])
        raise NotImplementedError(
            f"tinynet.onnx cannot export {type(module).__name__}: it exports nn.Sequential of "
            "Linear, ReLU, LeakyReLU, ELU, GELU, SiLU, Tanh, Sigmoid, Softplus, Softmax, LogSoftmax, "
            "Identity, Flatten (start_dim=1) and Dropout"
        )

    def gelu(self, x: str, approximate: str) -> str:
        half = self.constant("half", 0.5)
        one = self.constant("one", 1.0)
        if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            cube = self.op("Mul", [self.op("Mul", [x, x]), x])
            inner = self.op("Add", [x, self.op("Mul", [cube, self.constant("c", 0.044715)])])
            scaled = self.op("Mul", [inner, self.constant("k", math.sqrt(2 / math.pi))])
            gate = self.op("Tanh", [scaled])
        else:  # 0.5 x (1 + erf(x / sqrt 2))
            gate = self.op("Erf", [self.op("Div", [x, self.constant("sqrt2", math.sqrt(2))])])
        return self.op("Mul", [self.op("Mul", [x, half]), self.op("Add", [gate, one])])

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


def _parameter_dtype(module: nn.Module):
    for param in module.parameters():
        return np.asarray(param.data).dtype
    return np.dtype(np.float32)


def to_onnx_graph(module: nn.Module, example_input, input_name="input", output_name="output"):
    """The ``onnx.ModelProto`` of ``module`` for inputs shaped like ``example_input``."""
    from tinynet import Tensor, no_grad

    dtype = _parameter_dtype(module)
    if isinstance(example_input, Tensor):
        example_input = example_input.data
    example = np.asarray(example_input, dtype=dtype)
    if example.ndim < 1:
        raise ValueError("example_input needs a batch axis: an array of shape (batch, ...)")
    was_training = module.training
    module.eval()
    try:
        with no_grad():
            expected = np.asarray(module(Tensor(example)).data)
    finally:
        module.train(was_training)
    graph = _Graph(dtype)
    output = graph.module(module, input_name)
    graph.nodes.append(("Identity", [output], [output_name], {}))
    batch = ["batch"]
    return graph.model(
        [(input_name, dtype, batch + list(example.shape[1:]))],
        [(output_name, dtype, batch + list(expected.shape[1:]))],
    )


def export(module: nn.Module, example_input, path, *, input_name="input", output_name="output"):
    """Write ``module`` (in ``eval()`` mode) as an ONNX file at ``path``; return the model.

    ``example_input`` is an array or Tensor of the input's shape (any batch size): it fixes
    the feature shape and checks that the module runs. The ONNX input and output are named
    ``input_name`` and ``output_name``.
    """
    model = to_onnx_graph(module, example_input, input_name, output_name)
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
