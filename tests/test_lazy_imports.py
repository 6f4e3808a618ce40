"""``import tinynet`` loads what a training loop needs; the rest loads on first use (PEP 562)
under the same names, and behaves as if it had been imported eagerly."""

import subprocess
import sys
from pathlib import Path

import pytest

import tinynet as tn

ROOT = Path(__file__).resolve().parent.parent

# Public names of the facade that load their module on first use, and where they live.
LAZY = {
    "func": "tinynet.func",
    "data": "tinynet.data",
    "lab": "tinynet.lab",
    "viz": "tinynet.viz",
    "onnx": "tinynet.onnx",
    "detect_anomaly": "tinynet.lab",
    "diagnose": "tinynet.lab",
    "gradcheck_sweep": "tinynet.lab",
    "serialization": "tinynet.serialization",
    "compiler": "tinynet.compiler",
    "save": "tinynet.serialization",
    "load": "tinynet.serialization",
    "FormatError": "tinynet.serialization",
    "compile": "tinynet.compiler",
}


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_tinynet_loads_none_of_the_lazy_modules():
    modules = sorted(set(LAZY.values()))
    code = f"import sys, tinynet\nprint([m for m in {modules!r} if m in sys.modules])"
    assert run(code) == "[]\n"


@pytest.mark.parametrize("name", sorted(LAZY))
def test_a_lazy_name_is_the_defining_modules_object(name):
    module = sys.modules.get(LAZY[name]) or __import__(LAZY[name], fromlist=["_"])
    expected = module if LAZY[name] == f"tinynet.{name}" else getattr(module, name)
    assert getattr(tn, name) is expected
    assert name in dir(tn)


def test_every_public_module_is_an_attribute_after_a_plain_import():
    # As before the facade went lazy; the three left out are imported explicitly (they
    # pull in scikit-learn, Hypothesis, argparse). tn.tensor and tn.gradcheck are functions.
    skip = {"estimators", "testing", "cli", "tensor", "gradcheck"}
    names = sorted(
        p.stem if p.suffix == ".py" else p.name
        for p in (ROOT / "tinynet").iterdir()
        if not p.name.startswith("_") and (p.suffix == ".py" or (p / "__init__.py").exists())
    )
    names = [name for name in names if name not in skip]
    code = (
        "import tinynet as tn\n"
        f"print([n for n in {names!r} if getattr(tn, n).__name__ != 'tinynet.' + n])"
    )
    assert len(names) >= 10 and run(code) == "[]\n"


def test_an_unknown_name_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="module 'tinynet' has no attribute 'sav'"):
        tn.sav  # noqa: B018
    assert not hasattr(tn, "lab_")


def test_names_keep_their_objects_whatever_is_imported_first():
    # A submodule import binds the package attribute of the module's own name: tn.gradcheck
    # (a function, like its module's name) must stay the function.
    code = (
        "import tinynet.gradcheck, tinynet.lab, tinynet.compiler, tinynet.serialization\n"
        "import tinynet as tn\n"
        "print(callable(tn.gradcheck) and not isinstance(tn.gradcheck, type(tn)),\n"
        "      tn.compile is tinynet.compiler.compile, tn.save is tinynet.serialization.save,\n"
        "      tn.detect_anomaly is tinynet.lab.detect_anomaly)"
    )
    assert run(code) == "True True True True\n"


def test_a_failed_gradcheck_names_the_kink_once_with_or_without_the_lab_loaded():
    # The hint comes from the lab, which `import tinynet` does not load: the first failure
    # loads it. Loaded earlier, the hint still appears once.
    check = (
        "import numpy as np\n"
        "x = tn.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)\n"
        "try:\n"
        "    tn.gradcheck(lambda t: t.relu().sum(), (x,))\n"
        "except tn.GradcheckError as error:\n"
        "    print(str(error).count('of a known kink'), 'tinynet.lab' in sys.modules)\n"
    )
    assert run("import sys\nimport tinynet as tn\n" + check) == "1 True\n"
    assert run("import sys\nimport tinynet as tn, tinynet.lab\n" + check) == "1 True\n"
