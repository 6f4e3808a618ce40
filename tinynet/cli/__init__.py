"""The ``tinynet`` command line: train, predict, evaluate, info, export and gradcheck.

``main(argv)`` returns the exit status: 0 on success, 1 for a runtime error (one line on stderr,
``--debug`` shows the traceback), 2 for a usage error (argparse's usage line and message;
``main`` raises ``SystemExit(2)`` there, as argparse does).
Heavy dependencies (scikit-learn, matplotlib, tqdm) are imported by the subcommands that use
them, so ``tinynet --help`` answers at once.

>>> from tinynet.cli import main
>>> main(["gradcheck", "--ops", "tanh", "--quiet"])
2 of 2 checks passed (1 op, order 1 and 2, atol 1e-05, rtol 0.001)
0
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import warnings

from tinynet._cli_start import release as release_startup_guard
from tinynet.cli._common import CLIError, UsageError, describe_os_error, printable
from tinynet.cli.config import expand_config
from tinynet.cli.data import DATASETS

__all__ = ["build_parser", "main"]

OPTIMIZERS = (
    "adam", "sgd", "adamw", "nadam", "radam", "adamax", "rmsprop", "adagrad", "adadelta", "rprop",
    "asgd", "lbfgs", "newton-cg", "trust-ncg",
)  # fmt: skip
ACTIVATIONS = (
    "relu", "tanh", "logistic", "identity",  # scikit-learn's
    "sigmoid", "gelu", "elu", "leaky_relu", "softplus", "silu",  # the estimators' others
)  # fmt: skip


def positive_ints(text: str) -> tuple[int, ...]:
    """``"64,64"`` -> ``(64, 64)``; an empty string means no hidden layer."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    sizes: tuple[int, ...] | None
    try:
        sizes = tuple(int(part) for part in parts)
    except ValueError:
        sizes = None
    if sizes is None or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 64,64; got {text!r}"
        )
    return sizes


def shape(text: str) -> tuple[int, ...]:
    """``"3,4"`` -> ``(3, 4)``; a shape needs at least one dimension."""
    sizes = positive_ints(text)
    if not sizes:
        raise argparse.ArgumentTypeError("a shape needs at least one dimension, e.g. 3,4")
    return sizes


def _number(kind, minimum=None, maximum=None, inclusive_minimum=True, maximum_open=False):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {kind.__name__} value: {text!r}") from None
        if value in (math.inf, -math.inf):  # accepted by float(), refused by every option
            raise argparse.ArgumentTypeError(f"{text} is not a finite number")
        low_bad = minimum is not None and (
            value < minimum if inclusive_minimum else value <= minimum
        )
        high_bad = maximum is not None and (value >= maximum if maximum_open else value > maximum)
        if low_bad or high_bad or value != value:  # value != value: NaN
            low = "[" if inclusive_minimum else "("
            high = ")" if maximum_open else "]"
            bounds = f"{low}{minimum if minimum is not None else '-inf'}, "
            bounds += f"{maximum if maximum is not None else 'inf'}{high}"
            raise argparse.ArgumentTypeError(f"{text} is outside {bounds}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


# NumPy's RandomState, which scikit-learn seeds, takes 0 to 2**32 - 1.
_SEED = _number(int, 0, 2**32 - 1)


def _delimiter(text: str) -> str:
    text = "\t" if text in ("\\t", "tab") else text
    if len(text) != 1 or text in '"\r\n':
        raise argparse.ArgumentTypeError(
            f"a delimiter is one character such as ';' or tab; got {text!r}"
        )
    return text


def _batch_size(text: str):
    return "auto" if text == "auto" else _number(int, 1)(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tinynet`` with its subcommands.

    >>> build_parser().parse_args(["train", "--hidden", "32,16"]).hidden
    (32, 16)
    """
    return _build_parsers()[0]


def _build_parsers() -> tuple[argparse.ArgumentParser, dict]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )  # fmt: skip
    parser = argparse.ArgumentParser(
        prog="tinynet",
        description="Train, inspect and gradient-check tinynet networks. "
        "With no command, runs `tinynet train` with its defaults (two moons).",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"tinynet {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = _add_train(commands, common)
    predict = _add_predict(commands, common)
    info = _add_info(commands, common)
    gradcheck = _add_gradcheck(commands, common)
    evaluate = _add_evaluate(commands, common)
    export = _add_export(commands, common)
    for command in (train, evaluate, predict):
        command.add_argument(
            "--config", metavar="FILE",
            help="options from a TOML file (key = value, e.g. hidden = [32, 16]); options "
            "on the command line override it",
        )  # fmt: skip
    return parser, {
        "train": train, "predict": predict, "info": info, "gradcheck": gradcheck,
        "evaluate": evaluate, "export": export,
    }  # fmt: skip


def _add_train(
    commands: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """The ``train`` subcommand, its options in five groups."""
    train = commands.add_parser(
        "train", parents=[common], help="train a network on a dataset or a CSV file",
        description="Train a network on a scikit-learn dataset or a CSV file with a header "
        "row, show a progress bar, and report train/validation/test metrics.",
    )  # fmt: skip
    _add_data_options(train)
    _add_generator_options(train)
    _add_network_options(train)
    _add_evaluation_options(train)
    _add_output_options(train)
    return train


def _add_data_options(train: argparse.ArgumentParser) -> None:
    """``train``'s data source: a dataset or a CSV file and how to read it."""
    source = train.add_argument_group("data")
    exclusive = source.add_mutually_exclusive_group()
    exclusive.add_argument(
        "--dataset", choices=sorted(DATASETS), metavar="NAME", default=None,
        help="a scikit-learn dataset: " + ", ".join(sorted(DATASETS)) + " (default: moons)",
    )  # fmt: skip
    exclusive.add_argument("--csv", metavar="FILE", help="a CSV file with a header row")
    source.add_argument("--target", metavar="COL", help="the CSV's target column")
    source.add_argument(
        "--drop", metavar="COLS", help="with --csv: columns that are not features, comma-separated"
    )
    source.add_argument(
        "--id", metavar="COL",
        help="with --csv: a row identifier, not a feature; `predict` copies it to its output",
    )  # fmt: skip
    source.add_argument(
        "--delimiter", metavar="CHAR", type=_delimiter,
        help="the CSV's field delimiter (default: detected; ',' when unclear)",
    )  # fmt: skip
    source.add_argument(
        "--task", choices=("auto", "classification", "regression"), default="auto",
        help="for --csv: auto (the default) picks classification for text labels or few "
        "integer values",
    )  # fmt: skip


def _add_generator_options(train: argparse.ArgumentParser) -> None:
    """``train``'s options passed to the scikit-learn dataset generator."""
    generators = train.add_argument_group(
        "dataset generator options (those the chosen generator takes)"
    )
    generators.add_argument(
        "--samples", type=_number(int, 1), metavar="N", help="number of rows (default 1000)"
    )
    generators.add_argument(
        "--noise", type=_number(float, 0.0), metavar="X",
        help="noise level (moons 0.2, circles 0.1, regression 10; blobs: cluster_std; "
        "classification: flip_y)",
    )  # fmt: skip
    generators.add_argument(
        "--features", metavar="N|COLS",
        help="number of features; with --csv, the feature columns, comma-separated "
        "(default: every column but the target, --drop and --id)",
    )  # fmt: skip
    generators.add_argument(
        "--classes", type=_number(int, 2), metavar="N", help="number of classes"
    )
    generators.add_argument("--centers", type=_number(int, 1), metavar="N", help="number of blobs")
    generators.add_argument(
        "--factor", type=_number(float, 0.0, 1.0, inclusive_minimum=False, maximum_open=True),
        metavar="X", help="circles: inner radius / outer radius (default 0.5)",
    )  # fmt: skip


def _add_network_options(train: argparse.ArgumentParser) -> None:
    """``train``'s network, optimizer and training options."""
    model = train.add_argument_group("network and training")
    model.add_argument(
        "--hidden", type=positive_ints, default=(64, 64), metavar="SIZES",
        help="hidden layer sizes, comma-separated, '' for none (default: 64,64)",
    )  # fmt: skip
    model.add_argument(
        "--activation", choices=ACTIVATIONS, default="relu", help="(default: %(default)s)"
    )
    model.add_argument(
        "--class-weight", metavar="WEIGHTS", default=None,
        help="classification: 'balanced' (inverse class frequencies) or per-class weights "
        "such as spam:5,ham:1 (default: every row weighs 1)",
    )  # fmt: skip
    model.add_argument(
        "--resume", metavar="MODEL",
        help="continue training a model saved by --save, with its optimizer state (the network "
        "and optimizer options are the model's)",
    )  # fmt: skip
    model.add_argument(
        "--dropout", type=_number(float, 0.0, 1.0, maximum_open=True), default=0.0, metavar="P",
        help="dropout probability after each hidden layer (default: %(default)s)",
    )  # fmt: skip
    model.add_argument(
        "--optimizer", choices=OPTIMIZERS, default="adam", help="(default: %(default)s)"
    )
    model.add_argument(
        "--lr", type=_number(float, 0.0, inclusive_minimum=False), default=None, metavar="X",
        help="learning rate (default: 0.01; 1.0 for adadelta, PyTorch's, as its steps already "
        "have the weights' units)",
    )  # fmt: skip
    _add_schedule_options(model)
    model.add_argument(
        "--epochs", type=_number(int, 1), default=200, metavar="N",
        help="maximum epochs; training stops earlier once the loss stops improving "
        "(default: %(default)s)",
    )  # fmt: skip
    model.add_argument(
        "--batch-size", type=_batch_size, default="auto", metavar="N",
        help="minibatch size, or auto = min(200, rows) (default: %(default)s)",
    )  # fmt: skip
    model.add_argument(
        "--alpha", type=_number(float, 0.0), default=1e-4, metavar="X",
        help="L2 penalty (default: %(default)s)",
    )  # fmt: skip
    model.add_argument(
        "--dtype", choices=("float32", "float64"), default="float64",
        help="(default: %(default)s)",
    )  # fmt: skip
    model.add_argument(
        "--threads", type=_number(int, 1), default=1, metavar="N",
        help="BLAS threads while training; small networks train fastest on one "
        "(default: %(default)s)",
    )  # fmt: skip
    model.add_argument(
        "--seed", type=_SEED, default=0, metavar="N",
        help="seed of the data, the splits and the weights, 0 to 2**32-1 (default: %(default)s)",
    )  # fmt: skip


def _add_schedule_options(model: argparse._ArgumentGroup) -> None:
    """``train``'s learning-rate schedule and the options of each schedule."""
    from tinynet.cli.schedules import SCHEDULES

    model.add_argument(
        "--lr-schedule", choices=SCHEDULES, default="constant",
        help="the learning rate over training: constant; step (times --gamma every "
        "--step-size epochs); cosine (annealed to 0 over --epochs); onecycle (up to --lr over "
        "the first --warmup of the batches, then annealed, stepped per batch); plateau (times "
        "--gamma when the validation loss has not improved for --lr-patience epochs) "
        "(default: %(default)s)",
    )  # fmt: skip
    model.add_argument(
        "--step-size", type=_number(int, 1), metavar="N",
        help="step: epochs between decays (default: 10)",
    )  # fmt: skip
    model.add_argument(
        "--gamma", metavar="X",
        type=_number(float, 0.0, 1.0, inclusive_minimum=False, maximum_open=True),
        help="step, plateau: the factor of each decay, in (0, 1) (default: 0.1)",
    )  # fmt: skip
    model.add_argument(
        "--warmup", metavar="FRACTION",
        type=_number(float, 0.0, 1.0, inclusive_minimum=False, maximum_open=True),
        help="onecycle: the fraction of the batches spent rising to --lr (default: 0.3)",
    )  # fmt: skip
    model.add_argument(
        "--lr-patience", type=_number(int, 0), metavar="N",
        help="plateau: epochs without improvement before a decay (default: 5)",
    )  # fmt: skip


def _add_evaluation_options(train: argparse.ArgumentParser) -> None:
    """``train``'s held-out splits and early stopping."""
    split = train.add_argument_group("evaluation")
    split.add_argument(
        "--validation-split", type=_number(float, 0.0, 1.0, maximum_open=True), default=0.1,
        metavar="FRACTION",
        help="fraction of the rows held out to validate after each epoch (default: %(default)s)",
    )  # fmt: skip
    split.add_argument(
        "--test-split", type=_number(float, 0.0, 1.0, maximum_open=True), default=0.2,
        metavar="FRACTION",
        help="fraction of the rows held out for the final test (default: %(default)s)",
    )  # fmt: skip
    split.add_argument(
        "--patience", type=_number(int, 1), default=None, metavar="N",
        help="early stopping: stop once the validation loss has not improved for N epochs "
        "and keep the weights of the best epoch (default: 10)",
    )  # fmt: skip
    split.add_argument(
        "--no-early-stopping", dest="early_stopping", action="store_false",
        help="train until the training loss stops improving or --epochs runs out, and keep "
        "the last weights",
    )  # fmt: skip


def _add_output_options(train: argparse.ArgumentParser) -> None:
    """``train``'s plots, saved model, doctor and report format."""
    output = train.add_argument_group("output")
    output.add_argument(
        "--plot", metavar="DIR",
        help="write loss.png and, for 2 features, decision_boundary.png (needs matplotlib)",
    )  # fmt: skip
    output.add_argument("--save", metavar="PATH", help="save the trained model (tinynet format)")
    output.add_argument(
        "--doctor", metavar="DIR",
        help="watch training: per-layer gradient norms, update/weight ratios, dead ReLUs and "
        "activation statistics per epoch, drawn as PNG in DIR (needs matplotlib)",
    )  # fmt: skip
    output.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar (it is shown only when stderr is a terminal)",
    )
    output.add_argument(
        "--json", action="store_true",
        help="print one JSON document (data, network, training, metrics) instead of the report",
    )  # fmt: skip


def _add_predict(
    commands: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """The ``predict`` subcommand."""
    predict = commands.add_parser(
        "predict", parents=[common], help="predict with a saved model",
        description="Predict the rows of a CSV file (header row with the model's feature "
        "columns; other columns are ignored) and write a CSV: the prediction and, for "
        "classification, one probability column per class.",
    )  # fmt: skip
    predict.add_argument("--model", required=True, metavar="PATH", help="a model saved by train")
    predict.add_argument("--input", required=True, metavar="FILE", help="CSV file to predict")
    predict.add_argument("--output", metavar="FILE", help="CSV file to write (default: stdout)")
    predict.add_argument(
        "--allow-non-finite", action="store_true",
        help="load a model whose weights hold NaN or infinity (refused by default)",
    )  # fmt: skip
    predict.add_argument(
        "--delimiter", metavar="CHAR", type=_delimiter,
        help="the input's field delimiter (default: detected; ',' when unclear)",
    )  # fmt: skip
    return predict


def _add_info(
    commands: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """The ``info`` subcommand."""
    info = commands.add_parser(
        "info", parents=[common], help="describe a saved model",
        description="Describe a saved model: task, architecture, features, classes, dtype, "
        "training summary and file format version.",
    )  # fmt: skip
    info.add_argument("path", metavar="PATH", help="a model saved by `tinynet train --save`")
    info.add_argument(
        "--json", action="store_true", help="print one JSON document instead of the lines"
    )
    return info


def _add_gradcheck(
    commands: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """The ``gradcheck`` subcommand."""
    gradcheck = commands.add_parser(
        "gradcheck", parents=[common], help="check gradients of every op (or your function)",
        description="Compare analytic gradients with central finite differences (float64), "
        "first and second order, for every differentiable op of tinynet, or for a function "
        "of your own with --function.",
    )  # fmt: skip
    gradcheck.add_argument("--ops", metavar="NAMES", help="only these ops (comma-separated names)")
    gradcheck.add_argument(
        "--function", metavar="MODULE:FUNCTION",
        help="check FUNCTION of MODULE (a module name or a .py file) instead of the ops",
    )  # fmt: skip
    gradcheck.add_argument(
        "--shape", type=shape, default=(3, 4), metavar="SHAPE",
        help="with --function: shape of each random input (default: 3,4)",
    )  # fmt: skip
    gradcheck.add_argument(
        "--inputs", type=_number(int, 1), default=1, metavar="N",
        help="with --function: number of inputs (default: %(default)s)",
    )  # fmt: skip
    gradcheck.add_argument(
        "--order",
        choices=("1", "2", "both"),
        default="both",
        help="derivative order (default: %(default)s)",
    )
    gradcheck.add_argument(
        "--seed", type=_SEED, default=0, metavar="N",
        help="with --function: seed of the inputs, 0 to 2**32-1 (default: %(default)s)",
    )  # fmt: skip
    gradcheck.add_argument(
        "--atol", type=_number(float, 0.0), default=1e-5, metavar="X",
        help="absolute tolerance (default: %(default)s)",
    )  # fmt: skip
    gradcheck.add_argument(
        "--rtol", type=_number(float, 0.0), default=1e-3, metavar="X",
        help="relative tolerance (default: %(default)s)",
    )  # fmt: skip
    gradcheck.add_argument(
        "--quiet", action="store_true", help="print only failures and the summary"
    )
    return gradcheck


def _add_export(
    commands: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """The ``export`` subcommand."""
    export = commands.add_parser(
        "export", parents=[common], help="write a saved model as ONNX or safetensors",
        description="Write a saved model for other runtimes: --format onnx, the whole "
        "prediction from raw features (scaling, network, probabilities; needs the onnx "
        "package), or --format safetensors, the weights named as a PyTorch state_dict (needs "
        "the safetensors package).",
    )  # fmt: skip
    export.add_argument("model", metavar="MODEL", help="a model saved by train")
    export.add_argument("--format", required=True, choices=("onnx", "safetensors"))
    export.add_argument(
        "--output", metavar="FILE", help="the file to write (default: MODEL with .onnx or "
        ".safetensors for its extension)",
    )  # fmt: skip
    return export


def _add_evaluate(
    commands: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """The ``evaluate`` subcommand."""
    evaluate = commands.add_parser(
        "evaluate", parents=[common], help="score a saved model on labelled rows",
        description="Score a saved model on a CSV file that has its feature columns and the "
        "true target: accuracy, balanced accuracy, log-loss, ROC AUC (two classes), "
        "precision/recall/F1 per class and the confusion matrix for a classifier; R^2, RMSE "
        "and MAE for a regressor (scikit-learn's metrics).",
    )  # fmt: skip
    evaluate.add_argument("model", metavar="MODEL", help="a model saved by train")
    evaluate.add_argument("--csv", required=True, metavar="FILE", help="labelled rows to score")
    evaluate.add_argument(
        "--target", metavar="COL", help="the true target's column (default: the model's target)"
    )
    evaluate.add_argument(
        "--delimiter", metavar="CHAR", type=_delimiter,
        help="the CSV's field delimiter (default: detected; ',' when unclear)",
    )  # fmt: skip
    evaluate.add_argument(
        "--plot", metavar="DIR",
        help="write DIR/confusion_matrix.png or DIR/predicted_vs_true.png (needs matplotlib)",
    )  # fmt: skip
    evaluate.add_argument(
        "--json", action="store_true", help="print one JSON document instead of the report"
    )
    return evaluate


def _version() -> str:
    from tinynet import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        release_startup_guard()  # from here on a Ctrl-C is a KeyboardInterrupt, handled below
        parser, subparsers = _build_parsers()
        try:
            argv = expand_config(argv, parser)
        except CLIError as error:
            print(f"tinynet: error: {printable(str(error))}", file=sys.stderr)
            return 1
        except UsageError as error:  # a key that is no option: argparse's usage line, status 2
            command = next((arg for arg in argv if arg in subparsers), "train")
            subparsers[command].error(printable(str(error)))
        args = parser.parse_args(argv)
        if args.command is None:  # bare `tinynet`: the default training run
            args = parser.parse_args([*argv, "train"])
    except KeyboardInterrupt:  # Ctrl-C while starting up: no traceback either
        print("tinynet: interrupted", file=sys.stderr)
        return 130
    debug = getattr(args, "debug", False)
    try:
        with warnings.catch_warnings():
            if not debug:
                warnings.showwarning = _one_line_warning
            return _run(args)
    except UsageError as error:
        subparsers[args.command].error(str(error))  # exits 2 after printing the usage line
        return 2  # not reached
    except BrokenPipeError:  # `tinynet predict ... | head`: the reader left; say nothing
        with contextlib.suppress(OSError, ValueError):  # stdout may be no real file
            # Point stdout at /dev/null, so that the flush at exit does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        if debug:
            raise
        print("tinynet: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if debug:
            raise
        print(f"tinynet: error: {_one_line(error)}", file=sys.stderr)
        return 1


def _run(args) -> int:
    if args.command == "train":
        from tinynet.cli.train import run_train

        return run_train(args)
    if args.command == "predict":
        from tinynet.cli.models import run_predict

        return run_predict(args)
    if args.command == "export":
        from tinynet.cli.export import run_export

        return run_export(args)
    if args.command == "evaluate":
        from tinynet.cli.evaluate import run_evaluate

        return run_evaluate(args)
    if args.command == "info":
        from tinynet.cli.models import run_info

        return run_info(args)
    from tinynet.cli.gradcheck import run_gradcheck

    return run_gradcheck(args)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Python warnings (NumPy's overflow, scikit-learn's notes) as one line, no source."""
    text = printable(" ".join(str(message).split()))
    print(f"tinynet: warning: {text} ({category.__name__})", file=sys.stderr)


def _one_line(error: BaseException) -> str:
    if isinstance(error, (CLIError, UsageError)):
        message = str(error)
    elif isinstance(error, OSError):
        message = describe_os_error(error, "access")
    else:  # an unexpected error: name its type, since the message alone may be cryptic
        message = f"{type(error).__name__}: {error}"
    # Names from files (columns, labels, paths) must not drive the terminal: escape them.
    return printable(" ".join(message.split())) or type(error).__name__
