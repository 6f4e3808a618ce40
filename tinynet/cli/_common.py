"""Shared pieces of the command line: its two error kinds and atomic file output."""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import Any


class CLIError(Exception):
    """A runtime error the user can fix (a missing file, a bad CSV): exit status 1, one line."""


class UsageError(Exception):
    """A combination of options that makes no sense: exit status 2 with the usage line."""


def describe_os_error(error: OSError, action: str) -> str:
    """``"cannot read 'x.csv': No such file or directory"`` from an OSError."""
    reason = error.strerror or str(error)
    target = error.filename if error.filename is not None else ""
    return f"cannot {action} {target!r}: {reason}" if target else f"cannot {action}: {reason}"


@contextlib.contextmanager
def atomic_output(path: str, mode: str = "w"):
    """Open a temporary file beside ``path``; on success rename it over ``path``.

    On any error the temporary file is removed and ``path`` is left as it was, so a failed
    run never leaves a half-written CSV or PNG behind.

    >>> with atomic_output("out.csv") as file:
    ...     _ = file.write("a,b\\n1,2\\n")
    """
    directory, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    text = "b" not in mode
    try:
        newline: dict[str, Any] = {"newline": ""} if text else {}
        file = open(temporary, "x" + mode.replace("w", ""), **newline)
    except OSError as error:
        error.filename = path
        raise CLIError(describe_os_error(error, "write")) from error
    try:
        with file:
            yield file
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def check_output_path(path: str, what: str) -> None:
    """Fail before any work when ``path`` cannot be written: its folder must exist."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise CLIError(f"cannot write {what} to {path!r}: it is a directory")
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise CLIError(f"cannot write {what} to {path!r}: {directory!r} is not a folder")
    if not os.path.isdir(directory):
        raise CLIError(f"cannot write {what} to {path!r}: folder {directory!r} does not exist")
    if not os.access(directory, os.W_OK):
        raise CLIError(f"cannot write {what} to {path!r}: folder {directory!r} is not writable")


def prepare_output_dir(directory: str, option: str) -> None:
    """Create the folder ``option`` (``--plot``, ``--doctor``) writes into, before any work.

    The one output-folder helper of the CLI: a file in the way or a folder that cannot be
    made fails at once, naming the option.
    """
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise CLIError(f"{option} {directory!r}: exists and is not a directory")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as error:
        raise CLIError(
            f"{option} {directory!r}: cannot create the directory: {error.strerror}"
        ) from None


# Estimator solvers that minimize the full-batch loss: no learning rate, no dropout.
FULL_BATCH = ("lbfgs", "newton-cg", "trust-ncg")
