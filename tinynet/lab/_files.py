"""Atomic file output for the lab's pictures and pages: a reader never sees half a file."""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import Any


@contextlib.contextmanager
def atomic_output(path, mode: str = "w"):
    """Write to a temporary file beside ``path`` (created with the usual permissions), then
    rename it over ``path``; on any error ``path`` is left as it was."""
    directory, name = os.path.split(os.path.abspath(os.fspath(path)))
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    encoding: dict[str, Any] = {} if "b" in mode else {"encoding": "utf-8"}
    with open(temporary, "x" + mode.replace("w", ""), **encoding) as file:
        try:
            yield file
        except BaseException:
            file.close()
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def save_figure(figure, path, dpi: int = 100) -> None:
    """Save a matplotlib figure as PNG, atomically."""
    with atomic_output(path, "wb") as file:
        figure.savefig(file, format="png", dpi=dpi)
