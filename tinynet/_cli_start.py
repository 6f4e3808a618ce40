"""The command line's Ctrl-C from the first line of tinynet's code.

The ``tinynet`` script and ``python -m tinynet`` import the package (NumPy, the core) before
the command line's ``main`` runs: a tenth of a second in which a Ctrl-C would otherwise end
in Python's traceback. ``tinynet/__init__`` calls :func:`guard` before anything else: when
this process is the command line starting up, a SIGINT until ``main`` takes over (with
:func:`release`) prints ``tinynet: interrupted`` and exits with status 130, as ``main`` does.
In any other program ``import tinynet`` leaves SIGINT alone. Imports nothing of tinynet's.
"""

from __future__ import annotations

import os
import sys

_SCRIPT_SUFFIXES = (".exe", "-script.pyw", "-script.py")  # the names installers give it
_guarded = False


def launched_as_cli(argv: list[str], orig_argv: list[str], main_file: str = "") -> bool:
    """True while ``argv`` (``sys.argv``) says the ``tinynet`` command is starting up.

    ``python -m tinynet``: while Python locates the module it has imported the package and
    set ``argv[0]`` to ``"-m"``; ``orig_argv`` names the module. The installed script:
    ``argv[0]`` is the script, named ``tinynet``, and ``main_file`` (the file ``__main__``
    runs) is that script, which imports ``tinynet.__main__``.

    >>> launched_as_cli(["-m", "train"], ["python", "-m", "tinynet", "train"])
    True
    >>> launched_as_cli(["-m"], ["python", "-m", "mypackage.tool"])  # its package imports us
    False
    >>> launched_as_cli(["train.py"], ["python", "train.py"], "train.py")
    False
    """
    if argv[:1] == ["-m"]:
        return _module_of(orig_argv) in ("tinynet", "tinynet.__main__")
    if not argv or not main_file:
        return False
    name = os.path.basename(argv[0])
    for suffix in _SCRIPT_SUFFIXES:
        name = name.removesuffix(suffix)
    if name != "tinynet" or os.path.abspath(main_file) != os.path.abspath(argv[0]):
        return False
    try:  # a user's own script named tinynet that imports the library is left alone
        with open(main_file, encoding="utf-8", errors="replace") as script:
            return "tinynet.__main__" in script.read(4096)
    except OSError:
        return False


def _module_of(orig_argv: list[str]) -> str | None:
    for position, argument in enumerate(orig_argv[1:], start=1):
        if argument == "-m":
            return orig_argv[position + 1] if position + 1 < len(orig_argv) else None
        if argument.startswith("-m"):
            return argument[2:]
    return None


def _interrupted(signum, frame) -> None:
    print("tinynet: interrupted", file=sys.stderr)
    raise SystemExit(130)  # leaves the half-done imports as an exit, never a traceback


def guard() -> None:
    """In the starting command line only: a SIGINT from now on exits 130 with one line."""
    global _guarded
    main_file = getattr(sys.modules.get("__main__"), "__file__", None) or ""
    if not launched_as_cli(sys.argv, getattr(sys, "orig_argv", []), main_file):
        return
    import signal

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        try:
            signal.signal(signal.SIGINT, _interrupted)
        except ValueError:  # not the main thread: handlers belong to it; leave Python's
            return
        _guarded = True


def release() -> None:
    """``main`` takes over: SIGINT raises ``KeyboardInterrupt`` again (a no-op if unguarded)."""
    global _guarded
    if _guarded:
        import signal

        if signal.getsignal(signal.SIGINT) is _interrupted:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        _guarded = False
