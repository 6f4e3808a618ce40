"""Shared pieces of the command line: its two error kinds and safe file output."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import warnings

from tinynet._files import output_file


class CLIError(Exception):
    """A runtime error the user can fix (a missing file, a bad CSV): exit status 1, one line."""


class UsageError(Exception):
    """A combination of options that makes no sense: exit status 2 with the usage line."""


def printable(text) -> str:
    """``text`` with control and format characters (escape sequences, bidi overrides, line
    breaks) shown as Python escapes, so a model file cannot drive the terminal.

    >>> printable("red\\x1b[31m label\\u202e")
    'red\\\\x1b[31m label\\\\u202e'
    """
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in str(text)
    )


def describe_os_error(error: OSError, action: str) -> str:
    """``"cannot read 'x.csv': No such file or directory"`` from an OSError."""
    reason = error.strerror or str(error)
    target = error.filename if error.filename is not None else ""
    return f"cannot {action} {target!r}: {reason}" if target else f"cannot {action}: {reason}"


@contextlib.contextmanager
def atomic_output(path: str, mode: str = "w"):
    """Open ``path`` for writing with tinynet's safe writer (``tinynet._files.output_file``).

    A regular file is written to a temporary file beside it and renamed over it on success:
    on any error the temporary file is removed and ``path`` is left as it was, so a failed
    run never leaves a half-written CSV or PNG behind. A symbolic link is written through to
    its target; a FIFO or a device (``/dev/stdout``) is written in place. Text is UTF-8.

    >>> with atomic_output("out.csv") as file:
    ...     _ = file.write("a,b\\n1,2\\n")
    """
    text = "b" not in mode
    stack = contextlib.ExitStack()
    try:
        file = stack.enter_context(
            output_file(path, mode, **({"newline": "", "encoding": "utf-8"} if text else {}))
        )
    except OSError as error:
        error.filename = path
        raise CLIError(describe_os_error(error, "write")) from error
    with stack:
        yield file


def check_output_path(path: str, what: str) -> None:
    """Fail before any work when ``path`` cannot be written: its folder must exist.

    A FIFO or a device (``/dev/null``, ``/dev/stdout``) is written in place: it must be
    writable itself. A symbolic link is checked at the file it points to.
    """
    if os.path.isdir(path):
        raise CLIError(f"cannot write {what} to {path!r}: it is a directory")
    if os.path.exists(path) and not os.path.isfile(path):
        if not os.access(path, os.W_OK):
            raise CLIError(f"cannot write {what} to {path!r}: permission denied")
        return
    directory = os.path.dirname(os.path.realpath(path))
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise CLIError(f"cannot write {what} to {path!r}: {directory!r} is not a folder")
    if not os.path.isdir(directory):
        raise CLIError(f"cannot write {what} to {path!r}: folder {directory!r} does not exist")
    if not os.access(directory, os.W_OK):
        raise CLIError(f"cannot write {what} to {path!r}: folder {directory!r} is not writable")


@contextlib.contextmanager
def interrupts_stop_the_command():
    """Make Ctrl-C inside the block end the command, even where the code inside catches it.

    The estimators keep scikit-learn's behaviour: Ctrl-C during ``fit`` stops training, warns
    and keeps the model. The command line must not go on to report or save that half-trained
    model, so a SIGINT seen inside the block raises ``KeyboardInterrupt`` again when the block
    ends (``main`` turns it into "tinynet: interrupted" and exit status 130).
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; KeyboardInterrupt goes through
        return
    interrupted = []
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Training interrupted by user")
            yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt


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
