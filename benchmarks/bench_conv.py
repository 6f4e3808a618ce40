"""conv2d forward + backward: tinynet against a hand-written NumPy im2col (and PyTorch).

The case of issue 11: a (64, 3, 32, 32) float32 batch, 16 filters of 3x3, stride 1,
padding 1, with a bias. Each contender computes the output and the gradients of the input,
the weight and the bias for a given output gradient. PyTorch CPU is timed only when it is
installed (optional, never a dependency). Each round times ``--number`` steps; the table
gives the median time per step over ``--repeat`` rounds and the spread (min to max).

    python benchmarks/bench_conv.py              # table on stdout
    python benchmarks/bench_conv.py --markdown   # the table for docs/performance.md
"""

from __future__ import annotations

import argparse
import platform
import timeit

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import tinynet as tn


def numpy_conv2d_step(x, w, b, g, padding=1):
    """Forward and backward of a stride-1 conv2d by im2col, in plain NumPy."""
    n, c, h, width = x.shape
    out_channels, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (N, C, H', W', kh, kw)
    cols = np.ascontiguousarray(cols.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c * kh * kw, -1)
    flat_w = w.reshape(out_channels, -1)
    out = flat_w @ cols + b[:, None]  # (N, O, H'W')
    flat_g = g.reshape(n, out_channels, -1)
    grad_b = flat_g.sum(axis=(0, 2))
    grad_w = (flat_g @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    grad_cols = (flat_w.T @ flat_g).reshape(n, c, kh, kw, *g.shape[2:])
    grad_xp = np.zeros_like(xp)
    for i in range(kh):
        for j in range(kw):
            grad_xp[:, :, i : i + g.shape[2], j : j + g.shape[3]] += grad_cols[:, :, i, j]
    grad_x = grad_xp[:, :, padding : padding + h, padding : padding + width]
    return out.reshape(g.shape), grad_x, grad_w, grad_b


def contenders(batch: int, rng) -> dict:
    x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    w = (rng.standard_normal((16, 3, 3, 3)) * 0.2).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    g = rng.standard_normal((batch, 16, 32, 32)).astype(np.float32)
    tx, tw, tb = (tn.Tensor(a.copy(), requires_grad=True) for a in (x, w, b))
    tg = tn.Tensor(g)

    def tinynet_step():
        for leaf in (tx, tw, tb):
            leaf.grad = None
        tn.conv2d(tx, tw, tb, padding=1).backward(tg)

    # The two must agree before either is timed.
    tinynet_step()
    reference = numpy_conv2d_step(x, w, b, g)
    for mine, theirs in zip((tx.grad, tw.grad, tb.grad), reference[1:]):
        np.testing.assert_allclose(mine.data, theirs, rtol=1e-3, atol=1e-3)
    result = {"tinynet": tinynet_step, "numpy im2col": lambda: numpy_conv2d_step(x, w, b, g)}
    try:
        import torch
    except ImportError:
        return result
    torch.set_num_threads(1)
    px, pw, pb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    pg = torch.tensor(g)

    def torch_step():
        for leaf in (px, pw, pb):
            leaf.grad = None
        torch.nn.functional.conv2d(px, pw, pb, padding=1).backward(pg)

    result["pytorch (cpu)"] = torch_step
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=7, help="rounds (median and spread)")
    parser.add_argument("--number", type=int, default=3, help="steps per round")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    steps = contenders(args.batch, np.random.default_rng(0))
    rows = []
    for name, step in steps.items():
        times = np.array(timeit.repeat(step, number=args.number, repeat=args.repeat)) / args.number
        rows.append((name, np.median(times) * 1e3, times.min() * 1e3, times.max() * 1e3))
    base = rows[0][1]
    title = f"conv2d ({args.batch}, 3, 32, 32), 16 3x3 filters, float32, forward + backward"
    if args.markdown:
        print(f"{title}; {platform.processor() or platform.machine()}, NumPy {np.__version__}\n")
        print("| contender | median ms | min–max ms | vs tinynet |")
        print("|---|---:|---:|---:|")
        for name, median, low, high in rows:
            print(f"| {name} | {median:.2f} | {low:.2f}–{high:.2f} | {median / base:.2f}x |")
        return
    print(title)
    for name, median, low, high in rows:
        print(f"{name:>14}  {median:8.2f} ms  ({low:.2f}-{high:.2f})  {median / base:.2f}x")


if __name__ == "__main__":
    main()
