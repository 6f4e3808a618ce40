"""Per-op overhead: forward + backward of one op in tinynet vs the same work in raw NumPy.

Each case runs the op forward on leaves that require grad, then backward with a given
output gradient; the NumPy reference computes the same values and input gradients by
hand. PyTorch eager is timed too when it is installed (optional, never a dependency).

    python benchmarks/bench_ops.py              # table on stdout
    python benchmarks/bench_ops.py --markdown   # the table for docs/performance.md
"""

from __future__ import annotations

import argparse
import platform
import timeit

import numpy as np

import tinynet as tn


def _cases(shape, rng):
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape).astype(np.float32)
    g = np.ones(shape, np.float32)
    m = rng.standard_normal((shape[1], shape[1])).astype(np.float32)
    gm = np.ones((shape[0], shape[1]), np.float32)
    x, y = tn.Tensor(a.copy(), requires_grad=True), tn.Tensor(b.copy(), requires_grad=True)
    w = tn.Tensor(m.copy(), requires_grad=True)
    tg, tgm = tn.Tensor(g), tn.Tensor(gm)

    def run(fn, leaves, grad):
        def step():
            for leaf in leaves:
                leaf.grad = None
            fn().backward(grad)

        return step

    c = rng.standard_normal(shape[1]).astype(np.float32)
    bias = tn.Tensor(c.copy(), requires_grad=True)

    def affine_tanh_sum():
        return (x * y + bias).tanh().sum()

    def np_affine_tanh_sum():
        t = np.tanh(a * b + c)
        local = g - t * t
        return t.sum(), local * b, local * a, local.sum(axis=0)

    def np_softmax_fwd_bwd():
        e = np.exp(a - a.max(axis=1, keepdims=True))
        s = e / e.sum(axis=1, keepdims=True)
        return s * (g - (g * s).sum(axis=1, keepdims=True))

    cases = {
        "add": (
            run(lambda: x + y, (x, y), tg),
            lambda: (a + b, g.copy(), g.copy()),
        ),
        "mul": (
            run(lambda: x * y, (x, y), tg),
            lambda: (a * b, g * b, g * a),
        ),
        "exp": (
            run(lambda: x.exp(), (x,), tg),
            lambda: (lambda e: (e, g * e))(np.exp(a)),
        ),
        "relu": (
            run(lambda: x.relu(), (x,), tg),
            lambda: (np.maximum(a, 0), np.where(a > 0, g, 0)),
        ),
        "tanh": (
            run(lambda: x.tanh(), (x,), tg),
            lambda: (lambda t: (t, g * (1 - t * t)))(np.tanh(a)),
        ),
        "sum": (
            run(lambda: x.sum(), (x,), None),
            lambda: (a.sum(), np.ones_like(a)),
        ),
        "mean(axis=0)": (
            run(lambda: x.mean(axis=0).sum(), (x,), None),
            lambda: (a.mean(axis=0).sum(), np.full_like(a, 1.0 / a.shape[0])),
        ),
        "softmax(axis=1)": (
            run(lambda: x.softmax(axis=1), (x,), tg),
            np_softmax_fwd_bwd,
        ),
        "matmul": (
            run(lambda: x @ w, (x, w), tgm),
            lambda: (a @ m, gm @ m.T, a.T @ gm),
        ),
        # issue 12's micro-benchmark, eagerly and under tn.compile (a replayed program)
        "sum(tanh(x*w+b))": (run(affine_tanh_sum, (x, y, bias), None), np_affine_tanh_sum),
        "sum(tanh(x*w+b)) compiled": (
            tn.compile(run(affine_tanh_sum, (x, y, bias), None)),
            np_affine_tanh_sum,
        ),
    }
    return cases, (a, b, g, m, gm)


def _torch_cases(arrays):
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(1)
    a, b, g, m, gm = (torch.from_numpy(v.copy()) for v in arrays)
    x, y, w = (t.clone().requires_grad_() for t in (a, b, m))

    def run(fn, leaves, grad):
        def step():
            for leaf in leaves:
                leaf.grad = None
            fn().backward(grad)

        return step

    return {
        "add": run(lambda: x + y, (x, y), g),
        "mul": run(lambda: x * y, (x, y), g),
        "exp": run(lambda: x.exp(), (x,), g),
        "relu": run(lambda: x.relu(), (x,), g),
        "tanh": run(lambda: x.tanh(), (x,), g),
        "sum": run(lambda: x.sum(), (x,), None),
        "mean(axis=0)": run(lambda: x.mean(dim=0).sum(), (x,), None),
        "softmax(axis=1)": run(lambda: x.softmax(dim=1), (x,), g),
        "matmul": run(lambda: x @ w, (x, w), gm),
    }


def _time(fn, repeat: int) -> float:
    number = 200
    timer = timeit.Timer(fn)
    while timer.timeit(number) < 0.05:
        number *= 2
    return min(timer.repeat(repeat=repeat, number=number)) / number


def run(shapes, repeat: int):
    rows = []
    rng = np.random.default_rng(0)
    for shape in shapes:
        cases, arrays = _cases(shape, rng)
        torch_cases = _torch_cases(arrays)
        for name, (tinynet_fn, numpy_fn) in cases.items():
            ours, floor = _time(tinynet_fn, repeat), _time(numpy_fn, repeat)
            theirs = _time(torch_cases[name], repeat) if name in torch_cases else None
            rows.append((f"{name} {shape}", ours, floor, theirs))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (min is kept)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--shapes", default="32x16,256x256", help="comma-separated shapes (default 32x16,256x256)"
    )
    args = parser.parse_args(argv)
    shapes = [tuple(int(n) for n in s.split("x")) for s in args.shapes.split(",")]
    rows = run(shapes, args.repeat)
    has_torch = any(r[3] is not None for r in rows)
    header = ["case (float32)", "tinynet µs", "NumPy µs", "tinynet / NumPy"]
    if has_torch:
        header += ["PyTorch µs", "tinynet / PyTorch"]
    lines = []
    for name, ours, floor, theirs in rows:
        cells = [name, f"{ours * 1e6:.1f}", f"{floor * 1e6:.1f}", f"{ours / floor:.2f}x"]
        if has_torch:
            cells += [f"{theirs * 1e6:.1f}", f"{ours / theirs:.2f}x"] if theirs else ["-", "-"]
        lines.append(cells)
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for cells in lines:
            print("| " + " | ".join(cells) + " |")
        print(f"\nPython {platform.python_version()}, NumPy {np.__version__}, {platform.machine()}")
    else:
        widths = [max(len(str(c)) for c in col) for col in zip(header, *lines)]
        for cells in [header, *lines]:
            print("  ".join(str(c).rjust(w) for c, w in zip(cells, widths)))
    return rows


if __name__ == "__main__":
    main()
