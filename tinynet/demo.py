"""The first-run demo: a 2-32-32-2 network learns scikit-learn's two moons."""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinynet as tn


def _parse(argv):
    parser = argparse.ArgumentParser(
        prog="tinynet", description="Train a small network on make_moons and print its accuracy."
    )
    parser.add_argument("--samples", type=int, default=1000, help="number of points (default 1000)")
    parser.add_argument("--noise", type=float, default=0.2, help="moons noise (default 0.2)")
    parser.add_argument("--epochs", type=int, default=200, help="training epochs (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return parser.parse_args(argv)


def train_moons(samples=1000, noise=0.2, epochs=200, seed=0, hidden=32, lr=0.05):
    """Train with full-batch gradient descent with momentum; return (train acc, test acc)."""
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split

    X, y = make_moons(n_samples=samples, noise=noise, random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed)
    rng = np.random.default_rng(seed)
    sizes = [2, hidden, hidden, 2]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(6.0 / fan_in)
        params.append(tn.Tensor(rng.uniform(-bound, bound, (fan_in, fan_out)), requires_grad=True))
        params.append(tn.zeros(fan_out, dtype="float64", requires_grad=True))
    velocity = [np.zeros_like(p.data) for p in params]

    def forward(X):
        h = tn.Tensor(X)
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i + 2 < len(params):
                h = h.relu()
        return h

    targets = np.eye(2)[y_train]
    for _ in range(epochs):
        logits = forward(X_train)
        loss = -(logits.log_softmax(axis=1) * targets).sum(axis=1).mean()
        for p in params:
            p.grad = None
        loss.backward()
        for p, v in zip(params, velocity):
            v *= 0.9
            v -= lr * p.grad.data
            p.data += v
    with tn.no_grad():
        train_acc = float((forward(X_train).argmax(axis=1).numpy() == y_train).mean())
        test_acc = float((forward(X_test).argmax(axis=1).numpy() == y_test).mean())
    return train_acc, test_acc


def run_moons_demo(argv) -> int:
    args = _parse(argv)
    start = time.perf_counter()
    train_acc, test_acc = train_moons(args.samples, args.noise, args.epochs, args.seed)
    elapsed = time.perf_counter() - start
    print(
        f"make_moons ({args.samples} points, noise {args.noise}): 2-32-32-2 network, "
        f"{args.epochs} epochs in {elapsed:.2f} s"
    )
    print(f"train accuracy {train_acc:.3f}   test accuracy {test_acc:.3f}")
    return 0
