"""The one safe writer (tinynet._files.output_file) and its users: tn.save, estimator.save,
the lab's files and the CLI's --save / --output."""

import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import tinynet as tn
from tinynet._files import output_file
from tinynet.cli._common import atomic_output as cli_output
from tinynet.lab._files import atomic_output as lab_output

ROOT = Path(__file__).resolve().parent.parent
posix_only = pytest.mark.skipif(os.name != "posix", reason="symlinks, FIFOs and kill -9")

WRITERS = {
    "tn.save": lambda path: tn.save({"w": np.arange(3.0)}, path),
    "output_file": lambda path: _write(output_file(path, "wb"), b"new"),
    "lab": lambda path: _write(lab_output(path, "w"), "new"),
    "cli": lambda path: _write(cli_output(str(path), "w"), "new"),
}


def _write(manager, data):
    with manager as file:
        file.write(data)


def temporaries(directory) -> list[str]:
    return [name for name in os.listdir(directory) if name.endswith(".tmp")]


@posix_only
@pytest.mark.parametrize("writer", WRITERS)
def test_a_symlink_is_written_through_to_its_target(tmp_path, writer):
    target = tmp_path / "real" / "model.tnn"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.tnn"
    link.symlink_to(target)
    WRITERS[writer](link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != b"old"
    assert not temporaries(tmp_path) and not temporaries(target.parent)


@posix_only
def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.tnn"
    link.symlink_to(tmp_path / "made.tnn")
    tn.save({"a": 1}, link)
    assert link.is_symlink() and tn.load(tmp_path / "made.tnn") == {"a": 1}


@posix_only
@pytest.mark.parametrize("writer", WRITERS)
def test_a_fifo_is_written_in_place_as_a_stream(tmp_path, writer):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    WRITERS[writer](fifo)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not replaced by a file
    assert received and received[0]
    assert os.listdir(tmp_path) == ["pipe"]
    if writer == "tn.save":  # what went through the FIFO is a whole, valid file
        copy = tmp_path / "copy.tnn"
        copy.write_bytes(received[0])
        np.testing.assert_array_equal(tn.load(copy)["w"], np.arange(3.0))


@posix_only
def test_dev_null_stays_a_device():
    before = os.stat("/dev/null")
    tn.save({"w": np.ones(3)}, "/dev/null")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


@pytest.mark.parametrize("writer", WRITERS)
def test_names_up_to_the_file_system_limit_work(tmp_path, writer):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX") if hasattr(os, "pathconf") else 255
    path = tmp_path / ("m" * limit)
    WRITERS[writer](path)
    assert os.listdir(tmp_path) == [path.name]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), output_file(path) as file:
        file.write(b"half")
        raise RuntimeError("stop")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.bin"]


def test_only_write_modes_are_accepted(tmp_path):
    with pytest.raises(ValueError, match="mode 'w' or 'wb'"), output_file(tmp_path / "x", "a"):
        pass


KILLED_SAVE = """
import os, signal, sys
import numpy as np
from tinynet._files import output_file
with output_file(sys.argv[1]) as file:
    file.write(b"x" * 100_000)
    file.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


@posix_only
def test_temporaries_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    path = tmp_path / "model.tnn"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)], env=env)
        assert done.returncode == -signal.SIGKILL
        # each killed save removed the one before it: they never pile up
        assert len(temporaries(tmp_path)) == 1 and not path.exists()
    tn.save({"a": 1}, path)
    assert os.listdir(tmp_path) == ["model.tnn"] and tn.load(path) == {"a": 1}


@posix_only
def test_a_live_writers_temporary_is_left_alone(tmp_path):
    path = tmp_path / "model.tnn"
    with output_file(path) as first:
        first.write(b"first")
        (live,) = temporaries(tmp_path)
        with output_file(path) as second:  # cleans stale temporaries: not this locked one
            second.write(b"second")
        assert live in temporaries(tmp_path)
    assert path.read_bytes() == b"first" and not temporaries(tmp_path)


@posix_only
@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm")
def test_dev_shm_holds_ordinary_files_written_atomically(monkeypatch):
    path = Path("/dev/shm") / f"tinynet-test-{os.getpid()}.tnn"
    real_replace = os.replace
    replaced = []

    def recording_replace(source, target):
        replaced.append(target)
        real_replace(source, target)

    try:
        tn.save({"a": 1}, path)
        monkeypatch.setattr(os, "replace", recording_replace)
        tn.save({"a": 2}, path)
        assert replaced == [str(path)] and tn.load(path) == {"a": 2}
    finally:
        path.unlink(missing_ok=True)
