"""How far from symmetric are the matrices users hand to ``cholesky`` and ``eigh``, and what
does tinynet's symmetry check cost?

``tn.linalg.cholesky`` and ``eigh`` refuse a matrix that is not symmetric up to rounding
(``max|A - A.T| > min(4 n eps, sqrt(eps)) * max|A|``). The first table builds matrices the
usual ways (GEMM Gram and covariance matrices, weighted Gram matrices, sandwich products,
kernel matrices of uncentred data) in float32 and float64 and prints the worst
``max|A - A.T| / (eps * max|A|)`` seen, and the ones tinynet refused. The second
times ``tn.linalg.cholesky`` against ``np.linalg.cholesky`` on an exactly symmetric matrix
and on one a few ulps off (where the check computes the asymmetry): min of repetitions,
interleaved.

    python benchmarks/bench_symmetry.py                  # sizes up to 500, 20000 rows
    python benchmarks/bench_symmetry.py --sizes 4 --rows 50 --repeat 1   # a smoke run
"""

from __future__ import annotations

import argparse
import functools
import timeit

import numpy as np

import tinynet as tn


def _mT(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def _constructions(n: int, rows: int, dtype, rng) -> dict[str, np.ndarray]:
    x = (rng.standard_normal((rows, n)) + 3.0).astype(dtype)
    w = rng.random((rows, 1)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    points = (rng.standard_normal((n, 8)) + 10.0).astype(dtype)
    squares = (points * points).sum(1)
    distances = squares[:, None] + squares[None, :] - 2 * (points @ points.T.copy())
    tx = tn.tensor(np.stack([x, x[::-1].copy()]))
    return {
        "x.T @ x (GEMM)": x.T.copy() @ x,
        "x.T @ (w * x)": x.T.copy() @ (w * x),
        "tinynet batched x.mT @ x": (tx.mT @ tx).data,
        "np.cov": np.cov(x, rowvar=False).astype(dtype),
        "b @ (x.T @ x) @ b.T": b @ (x.T @ x) @ b.T,
        "RBF kernel, uncentred": np.exp(-np.maximum(distances, 0) / 8),
    }


def _asymmetry(a: np.ndarray) -> float:
    return float(np.abs(a - _mT(a)).max() / (np.finfo(a.dtype).eps * np.abs(a).max()))


def _accepted(a: np.ndarray) -> bool:
    try:
        tn.linalg.eigh(tn.tensor(a))
    except ValueError:
        return False
    return True


def rounding_table(sizes, rows, seed=0) -> list[str]:
    rng = np.random.default_rng(seed)
    worst: dict[tuple[str, str], list] = {}
    for dtype in (np.float32, np.float64):
        for n in sizes:
            for m in rows:
                for name, a in _constructions(n, m, dtype, rng).items():
                    entry = worst.setdefault((name, np.dtype(dtype).name), [0.0, 0, 0, [], 0])
                    ratio = _asymmetry(a)
                    if ratio >= entry[0]:
                        entry[:3] = ratio, n, m
                    if not _accepted(a):
                        entry[3].append(f"n={n} rows={m}: {ratio:.0f}")
                    entry[4] += 1
    lines = [
        "| matrix | dtype | worst max\\|A - A.T\\| / (eps max\\|A\\|) | at n, rows | refused |"
    ]
    lines.append("|---|---|---|---|---|")
    for (name, dtype), (ratio, n, m, refused, count) in worst.items():
        listed = "; ".join(refused) if refused else "none"
        lines.append(f"| {name} | {dtype} | {ratio:.2f} | {n}, {m} | {listed} (of {count}) |")
    return lines


def cost_table(sizes, repeat, seed=0) -> list[str]:
    rng = np.random.default_rng(seed)
    lines = ["| n | dtype | numpy (us) | tinynet, exact (us) | tinynet, ulps off (us) |"]
    lines.append("|---|---|---|---|---|")
    for n in sizes:
        for dtype in (np.float32, np.float64):
            x = rng.standard_normal((2 * n, n))
            exact = (x.T @ x + n * np.eye(n)).astype(dtype)
            off = exact.copy()
            off[0, -1] = np.nextafter(off[0, -1], np.inf) if n > 1 else off[0, -1]
            calls = {
                "numpy": functools.partial(np.linalg.cholesky, exact),
                "exact": functools.partial(tn.linalg.cholesky, tn.tensor(exact)),
                "off": functools.partial(tn.linalg.cholesky, tn.tensor(off)),
            }
            number = max(1, int(20000 / (n**3 / 50 + 50)))
            best = dict.fromkeys(calls, float("inf"))
            for _ in range(repeat):
                for key, call in calls.items():
                    best[key] = min(best[key], timeit.timeit(call, number=number) / number)
            us = {key: value * 1e6 for key, value in best.items()}
            lines.append(
                f"| {n} | {np.dtype(dtype).name} | {us['numpy']:.1f} | {us['exact']:.1f} | "
                f"{us['off']:.1f} |"
            )
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 10, 50, 200, 500])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--repeat", type=int, default=9, help="timing repetitions (min taken)")
    args = parser.parse_args(argv)
    print("\n".join(rounding_table(args.sizes, args.rows)))
    print()
    print("\n".join(cost_table(args.sizes, args.repeat)))


if __name__ == "__main__":
    main()
