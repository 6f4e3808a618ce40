"""``tinynet export MODEL --format onnx|safetensors``: a saved model for other runtimes.

``onnx``: the whole prediction, raw features in: the saved standardization, the network and
its output activation (class probabilities, or a regression target in its own units); the
ONNX input ``input`` takes the feature columns in the model's order (text columns one-hot,
as ``tinynet info --json`` lists them in ``categories``); names, classes and scaling travel
in the model's metadata. ``safetensors``: the network's weights named as a PyTorch
``state_dict`` of the same ``nn.Sequential`` names them (``0.weight`` of shape
``(out, in)``, ``0.bias``, ...), with the architecture and scaling as JSON metadata.
"""

from __future__ import annotations

import os
import sys
import zipfile

import numpy as np

from tinynet.cli._common import CLIError, atomic_output, check_output_path
from tinynet.cli.data import REGRESSION, encoded_names
from tinynet.cli.jsonout import json_text
from tinynet.cli.models import TrainedModel, load_model

FORMATS = {"onnx": ".onnx", "safetensors": ".safetensors"}


def _missing(package: str) -> CLIError:
    return CLIError(
        f"--format {package} needs the {package} package, which is not installed: "
        f"pip install {package} (in a tinynet checkout: pip install -e '.[{package}]')"
    )


def describe_model(model: TrainedModel) -> dict:
    """The metadata written beside the weights: what the inputs and outputs mean."""
    estimator = model.estimator
    names = model.feature_names
    info = {
        "task": model.task,
        "inputs": None if names is None else encoded_names(names, model.categories),
        "categories": model.categories,
        "target": model.target_name,
        "layer_sizes": model.layer_sizes,
        "activation": estimator.activation if isinstance(estimator.activation, str) else None,
        "output_activation": estimator.out_activation_,
        "scaler_mean": np.asarray(model.mean, np.float64).ravel(),
        "scaler_scale": np.asarray(model.scale, np.float64).ravel(),
        "target_mean": model.target_mean,
        "target_scale": model.target_scale,
    }
    if model.task != REGRESSION:
        info["classes"] = [model.label(code) for code in estimator.classes_]
    return info


def onnx_bytes(model: TrainedModel) -> bytes:
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise _missing("onnx") from None
    from tinynet.onnx import export_estimator

    n = model.n_features
    mean = np.broadcast_to(np.asarray(model.mean, np.float64), (n,))
    scale = np.broadcast_to(np.asarray(model.scale, np.float64), (n,))
    proto = export_estimator(
        model.estimator, None, mean=mean, scale=scale,
        target_mean=model.target_mean, target_scale=model.target_scale,
    )  # fmt: skip
    for key, value in describe_model(model).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json_text({"v": value})[6:-1]
    return proto.SerializeToString()


def safetensors_bytes(model: TrainedModel) -> bytes:
    try:
        from safetensors.numpy import save
    except ImportError:
        raise _missing("safetensors") from None
    state = model.estimator.module_.state_dict()  # name -> array copy, PyTorch's names
    arrays = {name: np.ascontiguousarray(array) for name, array in state.items()}
    metadata = {"format": "pt", "tinynet": json_text(describe_model(model))}
    return save(arrays, metadata=metadata)


def run_export(args) -> int:
    output = args.output or os.path.splitext(args.model)[0] + FORMATS[args.format]
    if os.path.abspath(output) == os.path.abspath(args.model):
        raise CLIError(f"--output {output!r} would overwrite the model; name another file")
    check_output_path(output, f"the {args.format} file")
    if zipfile.is_zipfile(args.model):  # a skops file: its estimator or pipeline is not ours
        raise CLIError(
            f"{args.model} is a skops file; tinynet export writes models saved by "
            "`tinynet train --save`. Convert a scikit-learn pipeline with skl2onnx after "
            "tinynet.onnx.register_skl2onnx() (see docs/estimators.md)"
        )
    model = load_model(args.model)
    data = onnx_bytes(model) if args.format == "onnx" else safetensors_bytes(model)
    with atomic_output(output, "wb") as file:
        file.write(data)
    print(f"wrote {output} ({len(data):,} bytes, {args.format})", file=sys.stderr)
    return 0
