"""Training end to end: memory stays flat and the graph never grows across steps."""

import gc
import tracemalloc

import numpy as np

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import optim


def _setup():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 8)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    model = nn.Sequential(nn.Linear(8, 32, rng=rng), nn.Tanh(), nn.Linear(32, 3, rng=rng))
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    def step():
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return model, step


def test_a_thousand_training_steps_do_not_grow_memory():
    _, step = _setup()
    for _ in range(100):  # warm up: optimizer state, caches
        step()
    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    for _ in range(1000):
        step()
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert after - before < 1_000_000, f"memory grew by {after - before} bytes"


def test_parameters_stay_leaves_and_keep_their_arrays():
    model, step = _setup()
    arrays = [p.data for p in model.parameters()]
    for _ in range(5):
        loss = step()
    assert all(p.is_leaf and p.grad_fn is None for p in model.parameters())
    assert all(p.data is a for p, a in zip(model.parameters(), arrays))
    assert loss.grad_fn is not None and loss.grad_fn.inputs is None  # freed after backward
    assert tn.is_grad_enabled()
