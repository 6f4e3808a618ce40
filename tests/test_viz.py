"""Graph views without graphviz: the text tree and the self-contained HTML page."""

import os
import re
import sys

import numpy as np

import tinynet as tn
import tinynet.viz as viz
from tinynet.lab import track_creation


def test_text_tree_shares_nodes_once_and_marks_leaves():
    x = tn.ones(2, 3, dtype=tn.float64, requires_grad=True)
    w = tn.ones(3, dtype=tn.float64, requires_grad=True)
    shared = x.exp()
    y = (shared * w + shared).sum()
    assert viz.text(y, names={"x": x, "w": w}) == "\n".join([
        "sum () float64",
        "add (2, 3) float64",
        "├─ mul (2, 3) float64",
        "│  ├─ exp [#1] (2, 3) float64",
        "│  │  x leaf (2, 3) float64",
        "│  └─ w leaf (3,) float64",
        "└─ exp [#1] (shown above)",
    ])  # fmt: skip


def test_text_shows_leaf_gradients_and_recorded_node_gradients():
    x = tn.tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = (x * 2.0).sum()
    with viz.record_gradients():
        y.backward()
    lines = viz.text(y, names={"x": x}).splitlines()
    assert lines[0] == "sum () float64 grad 1"
    assert lines[1] == "mul (2,) float64 grad 1.41"  # |(1, 1)| = sqrt(2)
    assert lines[2] == "x leaf (2,) float64 grad 2.83"  # |(2, 2)|
    # After backward the graph is freed; without record_gradients that is said, not hidden.
    z = (x * 3.0).sum()
    z.backward()
    assert viz.text(z) == "sum () float64 (inputs freed by backward)"


def test_creation_sites_appear_when_tracked():
    x = tn.ones(2, requires_grad=True)
    with track_creation():
        y = x.sin()
    line = sys._getframe().f_lineno - 1
    assert viz.text(y) == f"sin (2,) float32 @ test_viz.py:{line}\nleaf (2,) float32"


def test_a_100k_chain_needs_no_recursion_and_is_capped():
    x = tn.ones(3, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # any recursion over the graph would fail
    try:
        lines = viz.text(y, max_nodes=10).splitlines()
    finally:
        sys.setrecursionlimit(limit)
    assert lines[:10] == ["mul (3,) float32"] * 10
    assert lines[10] == "... 99991 more nodes not shown (max_nodes=10)"


def test_html_is_self_contained_atomic_and_capped(tmp_path):
    x = tn.ones(4, 3, dtype=tn.float64, requires_grad=True)
    w = tn.ones(3, 2, dtype=tn.float64, requires_grad=True)
    with track_creation():
        y = ((x @ w).relu() + (x @ w).tanh()).sum()
    y.backward(retain_graph=True)
    path = viz.html(y, tmp_path / "graph.html", names={"x": x, "w": w})
    assert path == str(tmp_path / "graph.html")
    page = (tmp_path / "graph.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "</html>" in page
    # No external assets: the only URL is the SVG namespace.
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"]
    assert "<script" not in page and "<link" not in page
    assert page.count('<rect class="node"') == 6 and page.count('<rect class="leaf"') == 2
    assert page.count('class="edge"') == 9
    # x.grad[i, k] = sum_j w[k, j] * (relu'(3) + tanh'(3)) = 2 * (2 - tanh(3)**2), 12 times.
    assert f"grad norm {np.sqrt(12) * 2 * (2 - np.tanh(3.0) ** 2):.3g}" in page
    assert "test_viz.py" in page  # creation lines in the tooltips
    assert os.listdir(tmp_path) == ["graph.html"]  # no temporary file left behind

    chain = x
    for _ in range(1000):
        chain = chain * 1.0
    viz.html(chain, tmp_path / "chain.html", max_nodes=50)
    page = (tmp_path / "chain.html").read_text(encoding="utf-8")
    assert page.count('<rect class="node"') == 50
    assert "... 951 more" in page
