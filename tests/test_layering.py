"""The import direction of docs/design.md: each module imports only from layers below it.

The one knot, tensor <-> inplace/autograd/ops/functional, is allowed inside the core layer.
A module that imports the facade (``import tinynet as tn``) is held to what it reaches
through it: ``tn.lab.x`` counts as an import of ``tinynet.lab``.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tinynet"

# (module prefix, layer). The longest matching prefix wins.
LAYERS = [
    ("tinynet._grad_mode", 0),
    ("tinynet._dtype", 0),
    ("tinynet._random", 0),
    ("tinynet._device", 0),
    ("tinynet._printing", 0),  # print options of Tensor.__repr__ (set_printoptions)
    ("tinynet.errors", 0),
    ("tinynet._cli_start", 0),  # the CLI's Ctrl-C guard, run by the facade before anything
    ("tinynet._lazy", 0),  # lazy public names (PEP 562): imports nothing of ours
    ("tinynet.tensor", 1),
    ("tinynet.autograd", 1),
    ("tinynet.inplace", 1),  # in-place writes: version counters, CopySlices
    ("tinynet.ops", 1),
    ("tinynet.functional", 1),
    ("tinynet.sampling", 1),  # draws given by tensors: Tensor.multinomial, Tensor.bernoulli
    ("tinynet.creation", 2),
    ("tinynet.func", 2),
    ("tinynet.gradcheck", 2),
    ("tinynet", 2),  # the package facade: the core API
    ("tinynet.testing", 3),
    ("tinynet.nn", 3),
    ("tinynet.optim", 3),
    ("tinynet.serialization", 3),
    ("tinynet.data", 3),
    ("tinynet.lab", 4),
    ("tinynet.compiler", 4),
    ("tinynet.viz", 4),
    ("tinynet.estimators", 5),
    ("tinynet.onnx", 5),  # export of nn modules and fitted estimators (issue 14)
    ("tinynet.cli", 6),
    ("tinynet.__main__", 6),
]
FORBIDDEN = [  # (importer prefix, imported prefix): siblings that must stay independent
    ("tinynet.optim", "tinynet.nn"),
    ("tinynet.nn", "tinynet.optim"),
    ("tinynet.serialization", "tinynet.nn"),
]


def layer_of(module: str) -> int:
    matches = [(p, n) for p, n in LAYERS if module == p or module.startswith(p + ".")]
    return max(matches, key=lambda m: len(m[0]))[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    base = PACKAGE.parent / dotted.replace(".", "/")
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _reached_through(tree, alias: str, package: str):
    """The modules a name bound to ``package`` reaches: ``tn.nn.functional.relu`` gives
    ``tinynet.nn.functional``; ``tn.exp`` gives ``tinynet`` itself."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain = []
        value = node
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if not (isinstance(value, ast.Name) and value.id == alias):
            continue
        module = package
        for attr in reversed(chain):
            if not _is_module(f"{module}.{attr}"):
                break
            module = f"{module}.{attr}"
        yield module


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
                if alias.name.startswith("tinynet"):
                    bound = alias.asname or alias.name.split(".")[0]
                    package = alias.name if alias.asname else alias.name.split(".")[0]
                    yield from _reached_through(tree, bound, package)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                known = (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists()
                package = (PACKAGE.parent / candidate.replace(".", "/") / "__init__.py").exists()
                yield candidate if known or package else node.module


def violations_of(importer: str, path: Path) -> list[str]:
    violations = []
    for imported in imported_modules(path):
        if not imported.startswith("tinynet"):
            continue
        if layer_of(imported) > layer_of(importer):
            violations.append(f"{importer} imports {imported} (a higher layer)")
        for low, high in FORBIDDEN:
            if importer.startswith(low) and imported.startswith(high):
                violations.append(f"{importer} imports {imported} (siblings stay independent)")
        # The runtime never imports the test tools; only the CLI's gradcheck self-test does.
        tools = importer.startswith(("tinynet.testing", "tinynet.cli.gradcheck"))
        if imported.startswith("tinynet.testing") and not tools:
            violations.append(f"{importer} imports tinynet.testing (runtime never does)")
    return violations


def test_imports_point_down_the_layers():
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        if importer == "tinynet":
            continue  # the facade re-exports every layer
        violations += violations_of(importer, path)
    assert not violations, "\n".join(violations)


def test_import_tinynet_loads_only_numpy_and_the_core():
    code = (
        "import sys, tinynet, tinynet.nn, tinynet.optim\n"
        "heavy = [m for m in ('scipy', 'sklearn', 'matplotlib', 'hypothesis', 'tqdm', 'pandas')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize(
    ("importer", "source"),
    [
        ("tinynet.nn.planted", "import tinynet as tn\n\nf = tn.lab.detect_anomaly\n"),
        ("tinynet.nn.planted", "import tinynet\n\nf = tinynet.lab.anomaly.detect_anomaly\n"),
        ("tinynet.optim.planted", "import tinynet as tn\n\nf = tn.nn.Linear\n"),
        ("tinynet.optim.planted", "import tinynet.nn as tnn\n\nf = tnn.functional.relu\n"),
    ],
    ids=["alias", "plain", "sibling", "subpackage"],
)
def test_the_facade_does_not_hide_an_upward_import(tmp_path, importer, source):
    planted = tmp_path / "planted.py"
    planted.write_text(source)
    assert violations_of(importer, planted)


def test_a_facade_attribute_that_is_not_a_module_counts_as_the_facade(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("import tinynet as tn\n\n\ndef f():\n    return tn.exp\n")
    assert set(imported_modules(planted)) == {"tinynet"}
