"""The prose of README.md and docs/*.md against the code: the facts a page states that a
program can check (links, options and their defaults, names said to exist).

tests/test_docs.py runs the pages' examples; this file checks what the examples do not run.
"""

import argparse
import inspect
import re
from pathlib import Path

import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import data, optim
from tinynet.cli import build_parser
from tinynet.cli.data import DATASETS

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCED = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def prose(text: str) -> str:
    """The page without its fenced blocks."""
    return FENCED.sub("", text)


def section(text: str, start: str, end: str) -> str:
    """The text between the first ``start`` and the next ``end`` after it."""
    assert start in text, f"the page no longer says {start!r}: update this test"
    begin = text.index(start) + len(start)
    return text[begin : text.index(end, begin)]


# -- pages and links ------------------------------------------------------------------------
def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens,
    ``-1``, ``-2`` for repeats."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#+\s+(.*)$", prose(page.read_text(encoding="utf-8")), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_point_to_existing_files_and_headings(page):
    broken = []
    for link in re.findall(r"\]\(([^)\s]+)\)", prose(page.read_text(encoding="utf-8"))):
        if link.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path) if path else page
        if not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"{link}: no heading with that anchor in {target.name}")
    assert not broken, broken


def test_every_repository_path_a_page_names_exists():
    path = re.compile(r"(?<![\w/.])(?:tests|benchmarks|tinynet|docs)/[\w/.-]+\.(?:py|md|png|toml)")
    missing = [
        f"{page.name}: {name}"
        for page in PAGES
        for name in sorted(set(path.findall(page.read_text(encoding="utf-8"))))
        if not (ROOT / name).exists()
    ]
    assert not missing, missing


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_fences_open_and_close(page):
    # A closing fence followed by text does not close the block: the rest of the page would
    # render as code.
    inside, problems = False, []
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            if not inside:
                inside = True
            elif line.strip() == "```":
                inside = False
            else:
                problems.append(f"line {number}: text after a closing fence: {line[:40]!r}")
    assert not inside, f"{page.name}: a code block is never closed"
    assert not problems, problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_tables_have_a_header_and_follow_a_blank_line(page):
    # Rows after a line of text, or without a |---| row under the first, render as text.
    lines = prose(page.read_text(encoding="utf-8")).splitlines()
    problems = []
    for number, line in enumerate(lines):
        if not line.startswith("|") or (number and lines[number - 1].startswith("|")):
            continue
        before = lines[number - 1].strip() if number else ""
        header_rule = number + 1 < len(lines) and re.match(r"^\|[\s:|-]+\|$", lines[number + 1])
        if before or not header_rule:
            problems.append(f"a table starting {line[:40]!r}")
    assert not problems, problems


# -- the command line -------------------------------------------------------------------------
def parser_options():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    subparsers = commands.choices

    def options(p):
        return {name: action for action in p._actions for name in action.option_strings}

    top = options(parser)
    return top, {command: {**top, **options(sub)} for command, sub in subparsers.items()}


def test_every_option_a_page_names_exists():
    top, commands = parser_options()
    every = set(top).union(*commands.values())
    unknown = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", read("docs/cli.md"))) - every)
    # Elsewhere an option is checked against the command it is written with.
    command_line = re.compile(r"(?:^|[`\s(])(?:\$ )?tinynet ([a-z]+)((?: [^`\n|]*)?)", re.M)
    for page in PAGES:
        for command, rest in command_line.findall(page.read_text(encoding="utf-8")):
            if command in commands:
                for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
                    if option not in commands[command]:
                        unknown.append(f"{page.name}: tinynet {command} {option}")
    assert not unknown, unknown


def parser_default(action) -> str:
    """The default ``--help`` shows: the action's, or the ``(default: ...)`` of its help
    where the parser leaves it None to tell "not given" apart."""
    if action.default is not None:
        value = action.default
        return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
    match = re.search(r"\(default: ([^;)]+)", action.help or "")
    return match.group(1).strip() if match else ""


def same_value(documented: str, actual: str) -> bool:
    try:
        return float(documented) == float(actual)
    except ValueError:
        return documented == actual


def test_the_train_options_table_gives_the_parsers_defaults():
    _, commands = parser_options()
    table = section(read("docs/cli.md"), "### Options", "\n### ")
    rows = re.findall(r"^\| `(--[a-z-]+)[^`]*` \| ([^|]*) \|", table, re.M)
    assert len(rows) > 15
    wrong = []
    for option, documented in rows:
        documented = documented.strip().strip("`")
        if documented:
            actual = parser_default(commands["train"][option])
            if not same_value(documented, actual):
                wrong.append(f"{option}: the page says {documented}, the parser {actual}")
    assert not wrong, wrong


def test_the_dataset_table_gives_each_generators_options_and_defaults():
    import sklearn.datasets

    table = section(read("docs/cli.md"), "| Dataset | Task |", "\n\n")
    wrong, documented_names = [], set()
    for row in table.splitlines()[2:]:
        names_cell, task, options_cell = (cell.strip() for cell in row.strip("|").split("|"))
        options = dict(re.findall(r"`--(\w+)` \(([^)]*)\)", options_cell))
        for name in re.findall(r"`(\w+)`", names_cell):
            documented_names.add(name)
            spec = DATASETS[name]
            if task != spec.task or set(options) != set(spec.options):
                wrong.append(f"{name}: {task}, {sorted(options)}")
                continue
            signature = inspect.signature(getattr(sklearn.datasets, spec.function)).parameters
            for option, documented in options.items():
                value = spec.defaults.get(option, signature[spec.options[option]].default)
                if not same_value(documented.split(",")[-1].strip(), str(value)):
                    wrong.append(f"{name} --{option}: the page says {documented}, it is {value}")
    assert documented_names == set(DATASETS)
    assert not wrong, wrong


# -- names said to exist ------------------------------------------------------------------------
def without_parentheses(text: str) -> str:
    """``text`` without its parenthesized remarks (argument names, not functions)."""
    while (shorter := re.sub(r"\([^()]*\)", "", text)) != text:
        text = shorter
    return text


def test_from_pytorch_names_exist():
    text = read("docs/from-pytorch.md")
    missing = []

    def need(owner, names, where):
        missing.extend(f"{where}.{name}" for name in names if not hasattr(owner, name))

    need(tn, section(text, "Top-level functions under PyTorch's names: `", "`").split(), "tn")
    need(tn, section(text, "the random\n`", "`").split(), "tn")
    x = tn.zeros(2, 3)
    need(x, re.findall(r"x\.(\w+)", section(text, "the methods `", "` and the others")), "Tensor")
    in_place = section(text, "**In-place ops and version counters.**", "write into the tensor")
    need(x, re.findall(r"\b([a-z][a-z0-9_]*[a-z0-9]_)(?![\w(])", in_place), "Tensor")
    optimizers = section(text, "messages — `", "`")
    need(optim, optimizers.split(), "optim")
    assert not hasattr(optim, "SparseAdam")  # "not ..."
    need(optim.lr_scheduler, section(text, "schedulers: `", "`").split(), "lr_scheduler")
    layers = section(text, "The smaller layers too", "([nn.md]")
    for name in re.findall(r"`([A-Z]\w+)`", layers):
        need(nn, [name], "nn")
    for first, second in re.findall(r"`([A-Z]\w+\d)d/(\d)d`", layers):
        need(nn, [first + "d", first[:-1] + second + "d"], "nn")
    samplers = section(text, "**Data and randomness.**", "with PyTorch's rules")
    need(data, [n for n in re.findall(r"`([A-Z]\w+|random_split|default_\w+)`", samplers)], "data")
    functions = without_parentheses(section(text, "`tn.func` has `torch.func`'s", "with its"))
    need(tn.func, re.findall(r"`(\w+)`", functions), "tn.func")
    utilities = without_parentheses(section(text, "`nn.utils` has", "Per-sample"))
    need(nn.utils, re.findall(r"`(\w+)`", utilities.replace("rnn.pad_sequence", "")), "nn.utils")
    assert not missing, missing


def test_ops_catalogue_names_exist_and_are_in_the_op_table():
    # "Every op below ... has an entry in the op table": an OpInfo entry covers the name, or
    # the name is an alias (the same function) of one that is covered.
    import types

    from tinynet.testing.opinfo import OPS

    covered = {name for op in OPS for name in (op.name, *op.covers)}
    covered_functions = {id(getattr(tn, name)) for name in covered if hasattr(tn, name)}
    text = read("docs/ops.md")
    keywords = {"constant", "reflect", "replicate", "circular", "value", "beta", "alpha"}
    keywords |= {"eps", "rounding_mode", "dtype", "values", "indices", "decimals"}
    modes = {"nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "lanczos"}
    missing = []
    for row in re.findall(r"^\| (?!group)[^|]+\| (.*) \|$", text, re.M):
        for code in re.findall(r"`([^`]+)`", row):
            for name in re.findall(r"(?<![\w.-])([a-z_][a-z0-9_]*)(?![\w-])", code):
                if name in keywords | modes:
                    continue
                if not any(hasattr(owner, name) for owner in (tn, F, tn.zeros(1))):
                    missing.append(name)
                elif isinstance(getattr(tn, name, None), types.ModuleType):
                    continue  # `nn.Upsample`, `tinynet.nn.functional`
                elif name not in covered and id(getattr(tn, name, None)) not in covered_functions:
                    missing.append(f"{name} (no OpInfo entry)")
    assert not missing, missing


def test_tensors_page_creation_functions_exist():
    creation = section(read("docs/tensors.md"), "## Creating tensors", "Every random function")
    names = re.findall(r"`tn\.(\w+)", creation)
    assert len(names) > 15
    assert [name for name in names if not hasattr(tn, name)] == []


def test_every_dim_argument_also_takes_numpys_spelling():
    # docs/tensors.md and docs/from-pytorch.md: axis=/keepdims= are accepted everywhere
    # dim=/keepdim= are (also in nn.functional), and the other way round.
    from tinynet.ops import _args

    aliased_code = _args.dim_aliases(lambda x, axis=None: x).__code__
    other = {"dim": "axis", "axis": "dim", "keepdim": "keepdims", "keepdims": "keepdim"}

    def aliased(function) -> bool:
        function = getattr(function, "__func__", function)
        while function is not None:
            if getattr(function, "__code__", None) is aliased_code:
                return True
            function = getattr(function, "__wrapped__", None)
        return False

    missing = []
    for label, owner in [("tn", tn), ("F", F), ("Tensor", tn.Tensor), ("linalg", tn.linalg)]:
        for name in (n for n in dir(owner) if not n.startswith("_")):
            # A Tensor's properties (H, mT, ...) are not looked up: they need a matrix.
            static = owner is tn.Tensor
            function = inspect.getattr_static(owner, name) if static else getattr(owner, name)
            if not callable(function) or isinstance(function, type):
                continue
            try:
                params = inspect.signature(function).parameters
            except (TypeError, ValueError):
                continue
            one_spelling = [p for p in params if p in other and other[p] not in params]
            takes_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
            if one_spelling and not takes_any and not aliased(function):
                missing.append(f"{label}.{name}")
    assert not missing, missing
    x = tn.ones(2, 4)
    assert x.size(axis=1) == 4 and F.glu(x, axis=1).shape == (2, 2)
    assert tn.take_along_dim(x, tn.zeros(2, 1, dtype=tn.int64), axis=1).shape == (2, 1)


# Names the pages mention as absent (refused, or a type's string), not as API.
SAID_ABSENT = {
    "tn.func.functional_call",
    "tinynet.FloatTensor",
    "nn.utils.rnn.pack_padded_sequence",
}


def resolves(dotted: str) -> bool:
    import importlib

    roots = {"tn": tn, "nn": nn, "F": F, "optim": optim}
    parts = dotted.split(".")
    if parts[0] in roots:
        owner, rest = roots[parts[0]], parts[1:]
    else:  # tinynet.a.b: the longest importable module, then attributes
        for cut in range(len(parts), 0, -1):
            try:
                owner, rest = importlib.import_module(".".join(parts[:cut])), parts[cut:]
                break
            except ImportError:
                continue
        else:
            return False
    for part in rest:
        try:
            owner = getattr(owner, part)
        except Exception:
            return False
    return True


def test_every_dotted_name_in_the_prose_resolves():
    dotted = re.compile(r"(?<![\w.])((?:tn|tinynet|nn|F|optim)(?:\.[A-Za-z_]\w*)+)")
    named = {
        (page.name, name)
        for page in PAGES
        for code in re.findall(r"`([^`\n]+)`", prose(page.read_text(encoding="utf-8")))
        for name in dotted.findall(code)
    }
    assert len(named) > 100
    wrong = [f"{page}: {name}" for page, name in sorted(named) if name not in SAID_ABSENT]
    wrong = [entry for entry in wrong if not resolves(entry.split(": ")[1])]
    assert not wrong, wrong
    assert not any(resolves(name) for name in SAID_ABSENT)  # still absent, as the pages say
