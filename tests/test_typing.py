"""The package is typed: it ships ``py.typed`` and ``mypy`` (configured in pyproject.toml) is clean."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_package_ships_its_py_typed_marker():
    assert (ROOT / "tinynet" / "py.typed").is_file()
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '[tool.setuptools.package-data]\ntinynet = ["py.typed"]' in config


@pytest.mark.skipif(shutil.which("mypy") is None, reason="mypy is in the test extras")
def test_mypy_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
