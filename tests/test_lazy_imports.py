"""``import tinynet`` loads what a training loop needs; the rest loads on first use (PEP 562)
under the same names, and behaves as if it had been imported eagerly."""

import ast
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


# Modules that `import tinynet` must not load: what a training loop rarely needs (the layers
# and optimizers of benchmarks/train_bench.py, Linear, ReLU, cross_entropy, Adam, stay eager).
LAZY_MODULES = [
    *sorted(set(LAZY.values())),
    *(
        f"tinynet.nn.{name}"
        for name in "attention conv distance padding pixelshuffle recurrent transformer "
        "upsampling utils utils.rnn utils.clip_grad utils.convert_parameters".split()
    ),
    *(
        f"tinynet.optim.{name}"
        for name in "adadelta adagrad adamax lbfgs lr_scheduler nadam radam rmsprop rprop".split()
    ),
    *(
        f"tinynet.functional.{name}"
        for name in "activations distances elementwise indexing norms shape sorting "
        "statistics".split()
    ),
]
# Packages whose public names include lazy ones, and the files that declare them.
PACKAGES = {
    "tinynet": "tinynet/__init__.py",
    "tinynet.nn": "tinynet/nn/__init__.py",
    "tinynet.nn.functional": "tinynet/nn/functional.py",
    "tinynet.optim": "tinynet/optim/__init__.py",
    "tinynet.functional": "tinynet/functional/__init__.py",
}


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_tinynet_loads_none_of_the_lazy_modules():
    # numpy.random too: the global generator is made by the first draw (tinynet._random).
    modules = [*LAZY_MODULES, "numpy.random"]
    code = f"import sys, numpy, tinynet\nprint([m for m in {modules!r} if m in sys.modules])"
    assert run(code) == "[]\n"


def test_a_training_loop_loads_none_of_the_lazy_modules():
    # What benchmarks/train_bench.py's loop touches: it pays for nothing it does not use.
    code = (
        "import sys, tinynet as tn\n"
        "from tinynet import nn\n"
        "net = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1))\n"
        "opt = tn.optim.Adam(net.parameters(), lr=1e-3)\n"
        "x, y = tn.randn(16, 4, rng=2), tn.tensor([0, 1, 2, 0] * 4)\n"
        "for _ in range(2):\n"
        "    opt.zero_grad(); tn.nn.functional.cross_entropy(net(x), y).backward(); opt.step()\n"
        "with tn.no_grad():\n"
        "    net(x).argmax(1)\n"
        f"print([m for m in {LAZY_MODULES!r} if m in sys.modules])"
    )
    assert run(code) == "[]\n"


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_public_name_is_its_defining_modules_object_and_in_dir(package):
    # In a fresh process, so each lookup goes through the lazy path. A module must be the
    # module itself; a class or function the object its defining module holds.
    code = f"""
import importlib, inspect, sys
package = importlib.import_module({package!r})
names = getattr(package, "__all__", None) or [n for n in dir(package) if not n.startswith("_")]
listed = dir(package)
wrong = []
for name in names:
    value = getattr(package, name)
    if inspect.ismodule(value):
        ok = sys.modules[value.__name__] is value
    elif inspect.isclass(value) or inspect.isfunction(value):
        home = importlib.import_module(value.__module__)
        ok = any(held is value for held in vars(home).values()) and name in listed
    else:
        ok = name in listed
    if not ok:
        wrong.append(name)
print(len(names) >= 10, wrong)
"""
    assert run(code) == "True []\n"


def lazy_declarations(path: str) -> tuple[set, set]:
    """(module, name) pairs of a file's ``_LAZY`` table and of its ``if TYPE_CHECKING:``
    imports, read from the source (the runtime never executes the latter)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    table, typed = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_LAZY":
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                table |= {(key.value, name) for name in ast.literal_eval(value).split()}
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for imported in node.body:
                for alias in imported.names:
                    whole = f"{imported.module}.{alias.name}"
                    file = ROOT / whole.replace(".", "/")
                    is_module = file.with_suffix(".py").exists() or file.is_dir()
                    typed.add((whole if is_module else imported.module, alias.name))
    return table, typed


@pytest.mark.parametrize("path", sorted(PACKAGES.values()))
def test_the_type_checker_sees_exactly_the_lazy_names(path):
    # mypy reads the TYPE_CHECKING imports; the runtime reads _LAZY: they must agree.
    table, typed = lazy_declarations(path)
    assert table and table == typed


def test_a_lazy_class_pickles_and_unpickles_in_a_fresh_process():
    dump = (
        "import pickle, sys, tinynet as tn\n"
        "lstm = tn.nn.LSTM(3, 4, rng=0)\n"
        "sys.stdout.write(pickle.dumps((lstm, tn.optim.lr_scheduler.StepLR)).hex())"
    )
    load = (
        "import pickle, sys\n"
        f"lstm, step = pickle.loads(bytes.fromhex({run(dump)!r}))\n"
        "import tinynet as tn\n"
        "print(type(lstm) is tn.nn.LSTM, step is tn.optim.lr_scheduler.StepLR,\n"
        "      sorted(lstm.state_dict()) == sorted(tn.nn.LSTM(3, 4).state_dict()))"
    )
    assert run(load) == "True True True\n"


def test_help_lists_the_lazy_names():
    code = (
        "import pydoc, tinynet.nn, tinynet.optim\n"
        "nn, optim = (pydoc.render_doc(m, renderer=pydoc.plaintext)\n"
        "             for m in (tinynet.nn, tinynet.optim))\n"
        "print('class LSTM' in nn, 'class TransformerEncoderLayer' in nn, 'class LBFGS' in optim)"
    )
    assert run(code) == "True True True\n"


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
    with pytest.raises(AttributeError, match="module 'tinynet.nn' has no attribute 'LSTMM'"):
        tn.nn.LSTMM  # noqa: B018
    with pytest.raises(ImportError, match="cannot import name 'Adamm' from 'tinynet.optim'"):
        from tinynet.optim import Adamm  # noqa: F401


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


def test_the_global_generator_made_on_first_draw_starts_from_the_initial_seed():
    # torch.initial_seed's contract: manual_seed(initial_seed()) repeats the first draws.
    code = (
        "import sys, tinynet as tn\n"
        "seed = tn.initial_seed()\n"
        "first = tn.randn(4).tolist()\n"
        "tn.manual_seed(seed)\n"
        "print(0 <= seed < 2**63, first == tn.randn(4).tolist(), 'numpy.random' in sys.modules)"
    )
    assert run(code) == "True True True\n"


def test_the_lazy_submodules_are_attributes_as_before():
    # They were bound by the eager imports: `tn.nn.recurrent.LSTM` keeps working.
    code = (
        "import tinynet as tn\n"
        "print(tn.nn.recurrent.LSTM is tn.nn.LSTM, tn.optim.lbfgs.LBFGS is tn.optim.LBFGS,\n"
        "      tn.functional.sorting.sort is tn.sort, 'recurrent' in dir(tn.nn))"
    )
    assert run(code) == "True True True True\n"
