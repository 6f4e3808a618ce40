"""File output for the lab's pictures and pages, through tinynet's one safe writer."""

from __future__ import annotations

import contextlib

from tinynet._files import output_file


@contextlib.contextmanager
def atomic_output(path, mode: str = "w"):
    """Write ``path`` through ``tinynet._files.output_file``: atomically for a regular file
    (a reader never sees half a file; on any error ``path`` is left as it was), through a
    symbolic link to its target, in place for a FIFO or a device. Text is UTF-8."""
    encoding = {} if "b" in mode else {"encoding": "utf-8"}
    with output_file(path, mode, **encoding) as file:
        yield file


def save_figure(figure, path, dpi: int = 100) -> None:
    """Save a matplotlib figure as PNG, atomically."""
    with atomic_output(path, "wb") as file:
        figure.savefig(file, format="png", dpi=dpi)
