"""The import direction of ARCHITECTURE.md: each module imports only from layers below it.

The one knot, tensor <-> autograd/ops/functional, is allowed inside the core layer.
"""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tinynet"

# (module prefix, layer). The longest matching prefix wins.
LAYERS = [
    ("tinynet._grad_mode", 0),
    ("tinynet._dtype", 0),
    ("tinynet._random", 0),
    ("tinynet.errors", 0),
    ("tinynet.tensor", 1),
    ("tinynet.autograd", 1),
    ("tinynet.ops", 1),
    ("tinynet.functional", 1),
    ("tinynet.creation", 2),
    ("tinynet.func", 2),
    ("tinynet.gradcheck", 2),
    ("tinynet", 2),  # the package facade: the core API
    ("tinynet.testing", 3),
    ("tinynet.nn", 3),
    ("tinynet.optim", 3),
    ("tinynet.serialization", 3),
    ("tinynet.lab", 4),
    ("tinynet.compiler", 4),
    ("tinynet.viz", 4),
    ("tinynet.estimators", 5),
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


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                known = (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists()
                package = (PACKAGE.parent / candidate.replace(".", "/") / "__init__.py").exists()
                yield candidate if known or package else node.module


def test_imports_point_down_the_layers():
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        if importer == "tinynet":
            continue  # the facade re-exports every layer
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
