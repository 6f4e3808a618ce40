"""Eager overhead against the NumPy floor, in one process: issue 12's two eager goals.

- ``sum(tanh(x * w + b))`` forward and backward, (32, 16) float32, ``x`` constant, ``w``
  (32, 16) and ``b`` (16,) requiring grad, against the same values and gradients by hand.
- One step of the tiny training case (nn.Linear / ReLU / cross-entropy / Adam, batch 32,
  the weights of ``train_bench.py``) against ``NumpyMLP.train_step``.

Timings interleave the contenders round by round and keep each one's best (min) round, so
a loaded machine slows both sides of a ratio alike; compare ratios, not microseconds.

    python benchmarks/bench_eager.py                 # 15 rounds
    python benchmarks/bench_eager.py --rounds 30 --calls 1000
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from numpy_mlp import NumpyMLP  # noqa: E402
from train_bench import initial_weights, make_data  # noqa: E402

import tinynet as tn  # noqa: E402
import tinynet.nn as nn  # noqa: E402
import tinynet.nn.functional as F  # noqa: E402
from tinynet import optim  # noqa: E402


def micro_pair():
    """``sum(tanh(x*w+b))`` in tinynet and by hand in NumPy, on the same arrays."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 16), dtype=np.float32)
    W = rng.standard_normal((32, 16), dtype=np.float32)
    B = rng.standard_normal(16, dtype=np.float32)
    x, w, b = tn.tensor(X), tn.tensor(W, requires_grad=True), tn.tensor(B, requires_grad=True)

    def eager():
        w.grad = b.grad = None
        tn.tanh(x * w + b).sum().backward()

    def by_hand():
        y = np.tanh(X * W + B)
        local = 1 - y * y
        return y.sum(), local * X, local.sum(axis=0)

    return eager, by_hand


def tiny_pair():
    """One tiny training step in tinynet (eager) and in the NumPy floor, from the same start."""
    X, y = make_data("tiny")
    inputs, targets = X[:32], y[:32]
    weights, biases = initial_weights("tiny")
    layers = []
    for i, (w, b) in enumerate(zip(weights, biases)):
        linear = nn.Linear(w.shape[1], w.shape[0], dtype=np.float32)
        linear.load_state_dict({"weight": w, "bias": b})
        layers += [linear, nn.ReLU()] if i < len(weights) - 1 else [linear]
    model = nn.Sequential(*layers)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    floor = NumpyMLP(weights, biases, lr=1e-3)

    def eager():
        loss = F.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return eager, lambda: floor.train_step(inputs, targets)


def _per_call(function, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def measure(rounds: int, calls: int) -> dict:
    """Best seconds per call of each contender over ``rounds`` interleaved rounds."""
    contenders = {}
    for name, (eager, floor) in (("micro", micro_pair()), ("tiny", tiny_pair())):
        contenders[f"{name} tinynet"], contenders[f"{name} numpy"] = eager, floor
    for function in contenders.values():  # warm up: caches, first-call paths
        _per_call(function, max(calls // 4, 1))
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, function in contenders.items():
            best[name] = min(best[name], _per_call(function, calls))
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (min kept)")
    parser.add_argument("--calls", type=int, default=500, help="calls per timing")
    args = parser.parse_args(argv)
    best = measure(args.rounds, args.calls)
    for name, label in (("micro", "sum(tanh(x*w+b)) (32, 16)"), ("tiny", "tiny training step")):
        ours, floor = best[f"{name} tinynet"], best[f"{name} numpy"]
        print(
            f"{label}: tinynet {ours * 1e6:.1f} µs, NumPy {floor * 1e6:.1f} µs, "
            f"ratio {ours / floor:.2f}x"
        )


if __name__ == "__main__":
    main()
