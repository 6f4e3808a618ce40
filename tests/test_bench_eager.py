"""Smoke test: the eager-overhead benchmark runs, so it cannot rot. It asserts no timings."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_eager.py"


def test_eager_benchmark_runs_both_cases():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "1", "--calls", "2"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "sum(tanh(x*w+b)) (32, 16)",
        "tiny training step",
    ]
    assert all("ratio" in line for line in lines)
