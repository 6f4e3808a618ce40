"""Creation sites: the user's line that made each node, recorded only while a tool is active."""

import inspect

import numpy as np

import tinynet as tn
import tinynet.nn as nn
from tinynet import autograd
from tinynet.lab import creation_site, detect_anomaly, diagnose, track_creation


def line_of(marker: str) -> int:
    """The line number in this file of the line containing ``marker``."""
    source, _ = inspect.getsourcelines(inspect.getmodule(line_of))
    return next(i for i, text in enumerate(source, 1) if marker in text and "line_of" not in text)


def test_site_is_the_users_line_not_a_frame_inside_tinynet():
    x = tn.ones(3, requires_grad=True)
    with track_creation():
        y = x.exp().relu()  # site-of-relu
    site = creation_site(y)
    assert site.path == __file__
    assert site.lineno == line_of("# site-of-relu")
    assert site.line == "y = x.exp().relu()  # site-of-relu"
    assert str(site) == f"test_history.py:{site.lineno}"


def test_modules_report_the_callers_line_and_the_innermost_module():
    net = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU())
    with track_creation():
        out = net(tn.ones(1, 2))  # site-of-net
    site = creation_site(out)
    assert site.lineno == line_of("# site-of-net")
    assert site.module == "ReLU"
    assert creation_site(out._node.inputs[0]).module == "Linear"


def test_no_hook_and_no_site_when_no_tool_is_active():
    assert autograd.registered_hooks() == ((), ())
    y = tn.ones(2, requires_grad=True).exp()
    assert creation_site(y) is None
    assert creation_site(tn.ones(2)) is None  # a leaf has no node


def test_hooks_nest_and_are_restored_in_order():
    seen = []

    def outer(ctx, result):
        seen.append(type(ctx).__name__)

    with autograd.register_forward_hook(outer):
        x = tn.ones(2, requires_grad=True)
        with detect_anomaly():
            inner_hooks = autograd.registered_hooks()
            with track_creation():
                y = x.exp()
            assert autograd.registered_hooks() == inner_hooks
            report = diagnose(lambda x: x.sin().sum(), (x,))
            assert autograd.registered_hooks() == inner_hooks
        assert autograd.registered_hooks() == ((outer,), ())
    assert autograd.registered_hooks() == ((), ())
    assert creation_site(y) is not None
    assert report.passed
    assert seen[:1] == ["Exp"]  # the previous hook kept running inside the tools


def test_nodes_made_by_a_backward_formula_are_marked():
    x = tn.tensor(np.array([0.5]), requires_grad=True)
    with track_creation():
        (g,) = tn.grad(x.sin().sum(), x, create_graph=True)
    assert creation_site(g).in_backward
    with track_creation():
        y = x.sin()
    assert not creation_site(y).in_backward
