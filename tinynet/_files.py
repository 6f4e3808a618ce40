"""Safe file output: the one writer that ``save``, the lab's pictures and the CLI's files use.

``output_file(path)`` yields an open file and decides how to write it from what ``path`` is:

- a regular file, or nothing yet: write a temporary file beside it (a short name, so a name up
  to the file system's limit still works), flush it to disk, then rename it over ``path``
  (atomic: a reader sees the old file or the new one, never half of one; on any error the old
  file is left as it was);
- a symbolic link: the same at the file it points to; the link stays a link;
- anything else (a FIFO, a device such as ``/dev/null``, ``/dev/stdout``, ``/proc/self/fd/N``):
  opened and written in place, as a stream, never replaced.

Temporary files are locked while written; one left behind by a killed process (its lock died
with it) is deleted by the next write to the same file.

>>> with output_file("notes.txt", "w") as file:
...     _ = file.write("hello\\n")
>>> open("notes.txt").read()
'hello\\n'
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterator
from typing import IO

try:  # POSIX: locks tell a live writer's temporary file from a dead one's
    import fcntl
except ImportError:  # pragma: no cover - Windows keeps stale temporary files (they are ignored)
    fcntl = None  # type: ignore[assignment]

__all__ = ["output_file", "TEMPORARY_SUFFIX"]

TEMPORARY_SUFFIX = ".tmp"
# Bytes of the target's name kept in the temporary name: enough to recognize it in a listing,
# short enough that ".", the prefix, ".", 12 hex digits and ".tmp" fit any file name limit.
_NAME_PREFIX_BYTES = 32
_STREAM_DIRECTORIES = ("/dev/", "/proc/")
_FILE_DIRECTORIES = ("/dev/shm/",)  # a file system for ordinary files inside /dev


@contextlib.contextmanager
def output_file(path: str | os.PathLike, mode: str = "wb", **open_kwargs) -> Iterator[IO]:
    """Open ``path`` for writing safely (see the module docstring); ``mode`` is ``"w"`` or
    ``"wb"``; ``open_kwargs`` go to ``open`` (``encoding``, ``newline``).

    >>> with output_file("data.bin") as file:
    ...     _ = file.write(b"\\x00\\x01")
    >>> open("data.bin", "rb").read()
    b'\\x00\\x01'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"output_file writes with mode 'w' or 'wb', got {mode!r}")
    path = os.fsdecode(path)
    if _is_stream(path):
        with open(path, mode, **open_kwargs) as file:
            yield file
        return
    target = os.path.realpath(path) if os.path.islink(path) else path
    directory, name = os.path.split(target)
    directory = directory or os.curdir
    _remove_stale_temporaries(directory, name)
    descriptor, temporary = _create_temporary(directory, name)
    try:
        try:
            file = os.fdopen(descriptor, mode, **open_kwargs)
        except BaseException:
            os.close(descriptor)
            raise
        with file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _is_stream(path: str) -> bool:
    """True when ``path`` exists and is no regular file, or lies in /dev or /proc (whose
    links, such as /dev/stdout, name open streams rather than files to replace; /dev/shm
    holds ordinary files)."""
    absolute = os.path.abspath(path)
    if (
        os.name == "posix"
        and absolute.startswith(_STREAM_DIRECTORIES)
        and not absolute.startswith(_FILE_DIRECTORIES)
    ):
        return True
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False  # nothing there yet (or a dangling link): create a regular file
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _temporary_prefix(name: str) -> str:
    raw = os.fsencode(name)[:_NAME_PREFIX_BYTES]
    return "." + os.fsdecode(raw) + "."


def _create_temporary(directory: str, name: str) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    prefix = _temporary_prefix(name)
    while True:
        temporary = os.path.join(directory, f"{prefix}{secrets.token_hex(6)}{TEMPORARY_SUFFIX}")
        try:
            descriptor = os.open(temporary, flags, 0o666)  # mode as open() gives: umask applies
        except FileExistsError:
            continue
        if fcntl is None:
            return descriptor, temporary
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        # A cleaner may have deleted the file between its creation and the lock: if the name
        # no longer points at our file, start again with a new name.
        try:
            same = os.path.samestat(os.fstat(descriptor), os.stat(temporary))
        except FileNotFoundError:
            same = False
        if same:
            return descriptor, temporary
        os.close(descriptor)


def _remove_stale_temporaries(directory: str, name: str) -> None:
    """Delete temporary files of earlier writes to ``name`` whose writer died (unlocked)."""
    if fcntl is None:
        return
    pattern = re.compile(re.escape(_temporary_prefix(name)) + r"[0-9a-f]{12}\.tmp\Z")
    with contextlib.suppress(OSError):
        candidates = [entry for entry in os.listdir(directory) if pattern.match(entry)]
        for entry in candidates:
            candidate = os.path.join(directory, entry)
            with contextlib.suppress(OSError):
                descriptor = os.open(candidate, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
                try:
                    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                        continue
                    try:
                        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # a live writer holds it
                    os.unlink(candidate)
                finally:
                    os.close(descriptor)


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable; POSIX only, and best effort (some filesystems refuse).
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
