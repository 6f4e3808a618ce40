"""Public names of a package that import their module on first use (PEP 562).

A package lists, per module, the names it offers from that module; the first lookup of one
imports the module and stores the value in the package, so later lookups are plain attribute
reads. A name that is the module's own last component is the module itself
(``lr_scheduler`` from ``tinynet.optim.lr_scheduler``). ``dir()`` lists the lazy names too,
so ``help()``, ``inspect.getmembers`` and ``from package import *`` see every name.

>>> import sys, types
>>> sys.modules["demo"] = types.ModuleType("demo")
>>> getattr_, dir_ = lazy_attributes("demo", {"json.decoder": "JSONDecoder"})
>>> getattr_("JSONDecoder") is sys.modules["json.decoder"].JSONDecoder
True
>>> "JSONDecoder" in dir_() and "JSONDecoder" in vars(sys.modules.pop("demo"))
True
"""

import importlib
import sys
from collections.abc import Callable


def lazy_attributes(
    package: str, sources: dict[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of ``package`` for ``sources``: a module's
    dotted name to the names it gives the package, separated by spaces.

    Call it in the package's ``__init__``, and define ``__getattr__`` only when not
    ``TYPE_CHECKING`` (importing the same names for the type checker instead), so that a
    misspelt name stays an error for mypy.
    """
    namespace = sys.modules[package].__dict__
    where = {name: module for module, names in sources.items() for name in names.split()}

    def __getattr__(name: str) -> object:
        source = where.get(name)
        if source is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(source)
        value = module if source == f"{package}.{name}" else getattr(module, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__
