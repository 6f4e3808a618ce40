"""Install hints name packages that exist: the PyPI name ``tinynet`` is an unrelated project.

So no message or page may tell a user to ``pip install tinynet[...]``; a missing optional
dependency names the package itself or the checkout's extra (``pip install -e ".[plot]"``).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# "tinynet[" right after `pip install` (quoted or not), as it would be typed at a shell.
PYPI_EXTRA = re.compile(r"pip install\s+(-U\s+)?[\"']?tinynet\[")


def _texts():
    for folder in ("tinynet", "docs", "tests", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".md", ".toml", ".txt") and path.is_file():
                yield path
    yield ROOT / "README.md"


def test_the_pattern_finds_what_it_must():
    assert PYPI_EXTRA.search("pip install 'tinynet[plot]'")
    assert PYPI_EXTRA.search('run pip install "tinynet[app]" first')
    assert not PYPI_EXTRA.search('pip install -e ".[plot]"')
    assert not PYPI_EXTRA.search("pip install matplotlib")


def test_no_hint_installs_the_unrelated_pypi_project():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _texts()
        if path.name != Path(__file__).name
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PYPI_EXTRA.search(line)
    ]
    assert not offenders, offenders
