"""Smoke tests: the benchmark harnesses run, so they cannot rot. They assert no timings."""

import gc
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    return result.stdout


def test_per_op_benchmark_runs():
    out = run("bench_ops.py", "--repeat", "1", "--shapes", "4x3", "--markdown")
    assert "| add (4, 3) |" in out and "matmul" in out


def test_training_benchmark_runs_and_every_contender_learns(tmp_path):
    results = tmp_path / "results.json"
    out = run(
        "train_bench.py", "--case", "tiny", "--rounds", "1",
        "--contenders", "tinynet,compiled,numpy", "--json", str(results),
    )  # fmt: skip
    assert "tinynet" in out and "compiled" in out and "1.00x" in out
    import json

    rows = {row["contender"]: row for row in json.loads(results.read_text())}
    # The same start and the same Adam: tinynet and the NumPy floor follow one trajectory.
    assert abs(rows["tinynet"]["accuracy"] - rows["numpy"]["accuracy"]) < 0.01
    assert rows["compiled"]["accuracy"] == rows["tinynet"]["accuracy"]  # the same weights
    assert rows["tinynet"]["accuracy"] > 0.8


def test_step_memory_reports_each_contenders_loop(tmp_path):
    results = tmp_path / "memory.json"
    run("train_bench.py", "--step-memory", "--case", "tiny", "--json", str(results))
    import json

    rows = {row["contender"]: row for row in json.loads(results.read_text())}
    assert sorted(rows) == ["compiled", "numpy", "tinynet"]  # sklearn and torch: no such loop
    # Every loop holds at least its parameters and Adam's two moments: 354 float32 each.
    assert all(row["held_mb"] * 2**20 >= 3 * 354 * 4 for row in rows.values())
    assert all(row["step_peak_mb"] > 0 for row in rows.values())


@pytest.mark.parametrize("contender", ["tinynet", "compiled", "numpy"])
def test_a_training_loop_keeps_no_copy_of_the_initial_weights(monkeypatch, contender):
    # Peak memory is compared across contenders: each copies the shared initial weights
    # into its model, and none may keep the originals alive while it trains.
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import train_bench
    finally:
        sys.path.remove(str(BENCHMARKS))
    originals = []

    def recorded(case, seed=0):
        weights, biases = initial_weights(case, seed)
        originals.extend(weakref.ref(array) for array in [*weights, *biases])
        return weights, biases

    initial_weights = train_bench.initial_weights
    monkeypatch.setattr(train_bench, "initial_weights", recorded)
    if contender == "numpy":
        step, model = train_bench.numpy_step("tiny")
    else:
        step, model = train_bench.tinynet_step("tiny", compiled=contender == "compiled")
    gc.collect()
    assert len(originals) == 6 and all(ref() is None for ref in originals)


def test_numpy_floor_matches_tinynet_step_for_step():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import numpy as np
        from numpy_mlp import NumpyMLP

        import tinynet as tn
        import tinynet.nn as nn
        import tinynet.nn.functional as F
        from tinynet import optim
    finally:
        sys.path.remove(str(BENCHMARKS))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 5))
    y = rng.integers(0, 3, 16)
    weights = [rng.standard_normal((8, 5)) * 0.3, rng.standard_normal((3, 8)) * 0.3]
    biases = [np.zeros(8), np.zeros(3)]
    floor = NumpyMLP(weights, biases, lr=1e-2)
    first, second = nn.Linear(5, 8, dtype=np.float64), nn.Linear(8, 3, dtype=np.float64)
    first.load_state_dict({"weight": weights[0], "bias": biases[0]})
    second.load_state_dict({"weight": weights[1], "bias": biases[1]})
    model = nn.Sequential(first, nn.ReLU(), second)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(5):
        expected = floor.train_step(X, y)
        loss = F.cross_entropy(model(tn.Tensor(X)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert abs(loss.item() - expected) < 1e-12
    np.testing.assert_allclose(first.weight.data, floor.W[0], rtol=1e-10, atol=1e-12)


# -- convolution (issue 11, item 7) --------------------------------------------------------------
def test_conv_benchmark_runs_and_checks_tinynet_against_numpy():
    out = run("bench_conv.py", "--batch", "2", "--repeat", "1", "--number", "1", "--markdown")
    assert "| tinynet |" in out and "| numpy im2col |" in out


# -- symmetry check of cholesky / eigh -----------------------------------------------------------
def test_symmetry_benchmark_runs_and_tinynet_accepts_gemm_built_matrices():
    out = run("bench_symmetry.py", "--sizes", "3", "40", "--rows", "200", "--repeat", "1")
    assert "| tinynet, exact (us) |" in out
    rows = [line for line in out.splitlines() if "(of " in line]
    assert len(rows) == 12 and "| x.T @ x (GEMM) | float32 |" in rows[0]
    # Kernels of uncentred data may carry more than rounding (docs/linalg.md); the rest not.
    assert all("| none (of 2) |" in row for row in rows if "kernel" not in row)


def test_steady_training_benchmark_runs():
    out = run("train_bench.py", "--steady", "--case", "tiny", "--rounds", "1",
              "--contenders", "compiled,numpy,sklearn")  # fmt: skip
    lines = out.splitlines()
    assert "us / step" in lines[0] and len(lines) == 3  # sklearn has no step to time
    assert lines[2].split()[1:2] == ["numpy"] and lines[2].endswith("1.000x")


# -- the matrix-product bound of a training step ---------------------------------------------------
def test_gemm_bound_times_exactly_the_floors_matrix_products(monkeypatch):
    import numpy as np

    sys.path.insert(0, str(BENCHMARKS))
    import bench_gemm_bound
    from numpy_mlp import NumpyMLP
    from train_bench import initial_weights, make_data

    calls = []
    matmul = np.matmul

    def recording(a, b, **kwargs):
        calls.append((a.shape, a.flags.c_contiguous, b.shape, b.flags.c_contiguous))
        return matmul(a, b, **kwargs)

    X, y = make_data("tiny")
    floor = NumpyMLP(*initial_weights("tiny"), lr=1e-3)
    gemms = bench_gemm_bound._gemm_calls(NumpyMLP(*initial_weights("tiny"), lr=1e-3), X[:32])
    monkeypatch.setattr(np, "matmul", recording)
    floor.train_step(X[:32], y[:32])
    made_by_the_step, calls[:] = list(calls), []
    gemms()
    assert calls == made_by_the_step and len(calls) == 3 + 3 + 2
    out = run("bench_gemm_bound.py", "--case", "tiny", "--rounds", "1")
    assert out.splitlines()[1].startswith("tiny")
