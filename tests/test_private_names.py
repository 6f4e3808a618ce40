"""A leading underscore means "this module only": no module reaches another's ``_private`` name.

A module whose own name starts with an underscore (``tinynet._dtype``, ``tinynet.ops._args``)
is internal to tinynet rather than private: its public names are the named internal APIs the
package shares, and any tinynet module may import them. Its ``_private`` names stay its own.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tinynet"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    base = PACKAGE.parent / dotted.replace(".", "/")
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


# Names that another library's protocol spells with an underscore: scikit-learn reads
# ``_parameter_constraints``, and subclasses extend their base's.
PROTOCOL_NAMES = {"_parameter_constraints"}


def _private(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and not dunder and name not in PROTOCOL_NAMES


def private_uses(source: str, importer: str) -> list[str]:
    """``from m import _x`` and ``alias._x`` where ``alias`` names something another
    tinynet module defines (a module, a class, a function)."""
    tree = ast.parse(source)
    bound = {}  # local name -> the tinynet module it came from
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tinynet"):
            for alias in node.names:
                if _is_module(f"{node.module}.{alias.name}"):
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                    continue
                if _private(alias.name) and node.module != importer:
                    found.append(f"{importer}: from {node.module} import {alias.name}")
                bound[alias.asname or alias.name] = node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tinynet"):
                    bound[alias.asname or alias.name.split(".")[0]] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            value = node.value
            while isinstance(value, ast.Attribute) and not _private(value.attr):
                value = value.value
            if isinstance(value, ast.Name) and bound.get(value.id, importer) != importer:
                found.append(f"{importer}: {ast.unparse(node)}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += private_uses(path.read_text(encoding="utf-8"), module_name(path))
    assert not found, "\n".join(found)


def test_the_scan_sees_each_spelling_of_a_private_use():
    sources = [
        "from tinynet.gradcheck import _compare\n",
        "from tinynet.tensor import Tensor\n\nt = Tensor._wrap(None)\n",
        "from tinynet import autograd\n\nhook = autograd._backward_hook\n",
        "import tinynet as tn\n\nhook = tn.autograd._backward_hook\n",
        "from tinynet.nn import functional as F\n\nF._check_probability(0.5)\n",
    ]
    for source in sources:
        assert private_uses(source, "tinynet.nn.planted"), source


def test_the_scan_allows_internal_modules_own_names_and_dunders():
    sources = [
        "from tinynet import _dtype\n\n_dtype.as_array([1])\n",
        "from tinynet.ops._args import as_tensor\n",
        "import tinynet\n\nv = tinynet.__version__\n",
        "def f(self):\n    return self._private\n",
    ]
    for source in sources:
        assert not private_uses(source, "tinynet.nn.planted"), source
    assert not private_uses("from tinynet.nn.planted import _own\n", "tinynet.nn.planted")
