"""``--config run.toml``: a command's options from a TOML file, the command line winning.

Each key is an option of the command without its dashes (``hidden = [32, 16]`` is
``--hidden 32,16``; ``_`` and ``-`` are the same); ``true`` turns a flag on, and
``early_stopping = false`` is ``--no-early-stopping``. The file's options go before those
typed on the command line, so a typed option overrides the file's.

>>> _ = open("run.toml", "w").write('dataset = "iris"\\nhidden = [32, 16]\\nquiet = true\\n')
>>> expand_config(["train", "--config", "run.toml", "--epochs", "5"])
['train', '--dataset', 'iris', '--hidden', '32,16', '--quiet', '--epochs', '5']
"""

from __future__ import annotations

import argparse
import sys

from tinynet.cli._common import CLIError, UsageError

COMMANDS = ("train", "evaluate", "predict")  # the commands that take --config
OTHER_COMMANDS = ("info", "gradcheck", "export")


def _read_toml(path: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        try:  # its backport; mypy may not have it
            import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
        except ModuleNotFoundError:
            raise CLIError(
                "--config needs Python 3.11 or later (tomllib), or the tomli package: "
                "pip install tomli"
            ) from None
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except OSError as error:
        reason = error.strerror or str(error)
        raise CLIError(f"cannot read the --config file {path!r}: {reason}") from error
    except tomllib.TOMLDecodeError as error:
        raise CLIError(f"{path}: not valid TOML: {error}") from error


def _as_argv(key: str, value, path: str) -> list[str]:
    option = "--" + key.replace("_", "-")
    if isinstance(value, bool):
        if option == "--early-stopping":
            return [] if value else ["--no-early-stopping"]
        return [option] if value else []
    if isinstance(value, list):
        return [option, ",".join(str(item) for item in value)]
    if isinstance(value, (str, int, float)):
        return [option, str(value)]
    raise CLIError(f"{path}: {key} = {value!r}: expected text, a number, true/false or a list")


def expand_config(argv: list[str], parser: argparse.ArgumentParser | None = None) -> list[str]:
    """``argv`` with ``--config FILE`` replaced by the file's options (after the command)."""
    if "--config" not in argv and not any(arg.startswith("--config=") for arg in argv):
        return argv
    commands = [i for i, arg in enumerate(argv) if arg in (*COMMANDS, *OTHER_COMMANDS)]
    if commands and argv[commands[0]] in OTHER_COMMANDS:
        return argv  # argparse says that this command takes no --config
    where = commands[0] + 1 if commands else 0
    command = argv[commands[0]] if commands else "train"
    rest, path = [], None
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            path = arg.split("=", 1)[1]
        elif arg == "--config":
            if i + 1 >= len(argv):
                raise UsageError("--config needs a file name")
            path = argv[i + 1]
        elif i == 0 or argv[i - 1] != "--config":
            rest.append(arg)
    assert path is not None  # argv holds --config or --config=FILE: the loop set it
    settings = _read_toml(path)
    options = _known_options(parser, command)
    injected = []
    for key, value in settings.items():
        if options is not None and "--" + key.replace("_", "-") not in options:
            if not (key.replace("_", "-") == "early-stopping" and "--no-early-stopping" in options):
                raise UsageError(f"{path}: {key!r} is not an option of tinynet {command}")
        injected += _as_argv(key, value, path)
    if not commands:
        return ["train", *injected, *rest]
    return [*rest[:where], *injected, *rest[where:]]


def _known_options(parser, command: str):
    if parser is None:
        return None
    for action in parser._actions:  # the sub-command parsers
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices[command]._option_string_actions)
    return None
