"""The package is typed: it ships ``py.typed`` and ``mypy`` (configured in pyproject.toml) is clean."""

import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tinynet as tn
from tinynet import ops
from tinynet.nn import functional as F

ROOT = Path(__file__).resolve().parent.parent
OPERATORS = {"__add__", "__sub__", "__mul__", "__truediv__", "__pow__", "__matmul__", "__neg__"}


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


def _unannotated(functions) -> list[str]:
    missing = []
    for name, function in functions:
        signature = inspect.signature(function)
        parameters = [
            p
            for p in signature.parameters.values()
            if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if signature.return_annotation is inspect.Signature.empty:
            missing.append(f"{name}: return")
        missing += [f"{name}: {p.name}" for p in parameters if p.annotation is p.empty]
    return missing


def test_the_public_functions_are_annotated():
    functions = [(f"F.{n}", getattr(F, n)) for n in F.__all__]
    functions += [
        (f"ops.{n}", getattr(ops, n))
        for n in dir(ops)
        if not n.startswith("_") and inspect.isfunction(getattr(ops, n))
    ]
    assert not _unannotated(functions)


def test_the_tensor_methods_declare_what_they_return():
    methods = []
    for name, member in vars(tn.Tensor).items():
        function = member.fget if isinstance(member, property) else member
        if inspect.isfunction(function) and (not name.startswith("_") or name in OPERATORS):
            methods.append((name, function))
    missing = [m for m in _unannotated(methods) if m.endswith(": return")]
    assert not missing
