"""How fast any NumPy training step can be: the floor's matrix products alone, against its step.

A training step of ``train_bench.py``'s MLP must compute the same matrix products whatever
else it saves: per layer the forward ``h @ W.T``, the weight gradient ``delta.T @ h`` and,
above the first layer, the input gradient ``delta @ W``. This times exactly those calls
(``np.matmul`` with ``out=``, the floor's shapes and layouts) against the floor's whole step
(``NumpyMLP.train_step``), interleaved, best of the rounds, in one process. Their ratio is a
lower bound on ``compiled / floor`` for an implementation that calls the same BLAS: a goal
below it needs faster matrix products, not less Python.

    python benchmarks/bench_gemm_bound.py --blas-threads 1
    python benchmarks/bench_gemm_bound.py --case large --rounds 5 --blas-threads 1
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def _gemm_calls(model, X):
    """The step's matrix products as a function: every ``np.matmul`` the floor's step makes."""
    import numpy as np

    model.forward(X)  # sizes the floor's buffers for this batch
    acts = [X, *model.acts[1:]]
    weights = model.W
    deltas = [np.ones_like(a) for a in acts[1:]]  # values do not change a GEMM's time
    grads = model.grads[: len(weights)]
    back = model.deltas

    def gemms():
        for i, w in enumerate(weights):
            np.matmul(acts[i], w.T, out=acts[i + 1])
        for i in reversed(range(len(weights))):
            np.matmul(deltas[i].T, acts[i], out=grads[i])
            if i > 0:
                np.matmul(deltas[i], weights[i], out=back[i])

    return gemms


def _best(functions: dict, rounds: int, calls: int) -> dict:
    best = dict.fromkeys(functions, float("inf"))
    for function in functions.values():  # warm up
        function()
    for _ in range(rounds):
        for name, function in functions.items():
            start = time.perf_counter()
            for _ in range(calls):
                function()
            best[name] = min(best[name], (time.perf_counter() - start) / calls)
    return best


def measure(case: str, rounds: int) -> dict:
    """Best seconds per call of the floor's step and of its matrix products alone."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from numpy_mlp import NumpyMLP
    from train_bench import CASES, initial_weights, make_data

    X, y = make_data(case)
    batch = CASES[case][4]
    inputs, targets = X[:batch], y[:batch]
    floor = NumpyMLP(*initial_weights(case), lr=1e-3)
    gemm_model = NumpyMLP(*initial_weights(case), lr=1e-3)
    functions = {
        "step": lambda: floor.train_step(inputs, targets),
        "gemms": _gemm_calls(gemm_model, inputs),
    }
    calls = {"tiny": 200, "medium": 20, "large": 1}[case]
    return _best(functions, rounds, calls)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="all", choices=["tiny", "medium", "large", "all"])
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (min kept)")
    parser.add_argument("--blas-threads", type=int, default=None, help="pin BLAS threads")
    args = parser.parse_args(argv)
    if args.blas_threads is not None:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(args.blas_threads)  # before NumPy is imported
    cases = ["tiny", "medium", "large"] if args.case == "all" else [args.case]
    print("case    floor step   its GEMMs   GEMMs / step (lower bound on compiled / floor)")
    for case in cases:
        best = measure(case, args.rounds)
        step, gemms = best["step"], best["gemms"]
        print(f"{case:7s} {step * 1e6:9.1f} µs {gemms * 1e6:9.1f} µs   {gemms / step:.3f}")


if __name__ == "__main__":
    main()
