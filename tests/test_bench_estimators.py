"""Smoke test of benchmarks/bench_estimators.py: it runs, and both libraries fit to the same
scores (the same initial weights and batches). No timings are asserted."""

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_estimator_benchmark_runs_with_equal_scores():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_estimators
    finally:
        sys.path.remove(str(BENCHMARKS))
    args = bench_estimators.parse_args(
        ["--datasets", "iris", "--max-iter", "3", "--cv", "2", "--repeat", "1", "--clock", "cpu"]
    )
    (row,) = bench_estimators.run(args)
    assert row["dataset"] == "iris" and row["tinynet_time"] > 0 and row["sklearn_time"] > 0
    assert row["tinynet_score"] == row["sklearn_score"]
    assert "cpu clock" in bench_estimators.markdown([row], args)
