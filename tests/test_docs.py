"""Every ```python block in README.md, CONTRIBUTING.md and docs/*.md runs, in order, one
namespace per page.

Blocks fenced as ```text, ```pycon or ```bash are shown, not run.
"""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(python_blocks(page), start=1):
        code = compile(block, f"{page.name} (block {number})", "exec")
        exec(code, namespace)


def test_every_docs_page_has_examples_or_is_reference():
    # A page with no runnable example must say so explicitly; prose-only pages drift.
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert python_blocks(page) or "<!-- no-examples -->" in text, page.name


def test_ci_runs_the_readme_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^```bash\n(.*?)\n```", readme, re.MULTILINE | re.DOTALL)[:2]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in commands:
        assert command.strip() in ci.splitlines(), command
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
