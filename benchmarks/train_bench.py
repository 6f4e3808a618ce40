"""Training speed: tinynet against a hand-written NumPy floor, scikit-learn and PyTorch.

Every contender trains the same architecture (ReLU hidden layers, softmax cross-entropy,
Adam lr 1e-3, same batch size and epochs, float32) on the same data, each in its own
process, in interleaved rounds. Reported: median seconds per epoch, its run-to-run spread
(half the range over the rounds, relative to the median), the ratio to the NumPy floor,
peak resident memory when training ends (before the accuracy pass over the whole data set)
and final training accuracy (proof that each one learned).

Every contender runs with its code compiled to bytecode, as an installed package is: the
harness compiles tinynet and this folder first (``compileall``, which writes ``__pycache__``
even under ``PYTHONDONTWRITEBYTECODE``). Otherwise each tinynet worker would compile
tinynet's source again, charging its import several MB of peak memory and tens of
milliseconds that NumPy and scikit-learn, installed with their bytecode, never pay.

    python benchmarks/train_bench.py --case tiny --rounds 3
    python benchmarks/train_bench.py --case all --markdown          # docs/performance.md
    python benchmarks/train_bench.py --contenders tinynet,numpy     # any subset
    python benchmarks/train_bench.py --step-memory --case all       # traced arrays per step
    python benchmarks/train_bench.py --steady --rounds 30           # per step, one process

Contenders: tinynet (nn + optim, the eager loop), compiled (the same step under tn.compile),
estimator (tinynet.estimators.NeuralNetClassifier),
numpy (benchmarks/numpy_mlp.py), sklearn (MLPClassifier), torch (if installed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

CASES = {
    # name: (n_samples, n_features, hidden sizes, n_classes, batch, epochs)
    "tiny": (1000, 2, (16, 16), 2, 32, 20),
    "medium": (20000, 64, (256, 128), 10, 256, 3),
    "large": (20000, 784, (1024, 1024), 10, 512, 1),
}
CONTENDERS = ("tinynet", "compiled", "numpy", "sklearn", "estimator", "torch")


def make_data(case: str, seed: int = 0):
    import numpy as np

    n, d, _, k, _, _ = CASES[case]
    if case == "tiny":
        from sklearn.datasets import make_moons

        X, y = make_moons(n_samples=n, noise=0.2, random_state=seed)
        return X.astype(np.float32), y.astype(np.int64)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    teacher = rng.standard_normal((d, k)).astype(np.float32)
    y = np.argmax(np.tanh(X @ teacher) + 0.1 * rng.standard_normal((n, k)), axis=1)
    return X, y.astype(np.int64)


def initial_weights(case: str, seed: int = 0):
    """Glorot-uniform weights (out, in) and zero biases, shared by tinynet and the floor."""
    import numpy as np

    _, d, hidden, k, _, _ = CASES[case]
    sizes = (d, *hidden, k)
    rng = np.random.default_rng(seed + 1)
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        biases.append(np.zeros(fan_out, np.float32))
    return weights, biases


def _batches(n, batch, rng):
    order = rng.permutation(n)
    return [order[i : i + batch] for i in range(0, n, batch)]


def _tinynet_model(case):
    """The MLP with the shared initial weights, which it copies: like the floor, training
    then holds only the model's own arrays (the originals are freed on return)."""
    import numpy as np

    import tinynet.nn as nn

    weights, biases = initial_weights(case)
    layers = []
    for i, (w, b) in enumerate(zip(weights, biases)):
        linear = nn.Linear(w.shape[1], w.shape[0], dtype=np.float32)
        linear.load_state_dict({"weight": w, "bias": b})
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def tinynet_step(case, compiled: bool = False):
    """(step, model): one Adam training step on a batch, eager or under ``tn.compile``."""
    import tinynet as tn
    import tinynet.nn.functional as F
    from tinynet import optim

    model = _tinynet_model(case)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    def step(inputs, targets):
        loss = F.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return (tn.compile(step) if compiled else step), model


def numpy_step(case):
    """(step, model) of the floor."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from numpy_mlp import NumpyMLP

    model = NumpyMLP(*initial_weights(case), lr=1e-3)
    return model.train_step, model


def train_tinynet(case, X, y, compiled: bool = False):
    import numpy as np

    import tinynet as tn

    _, _, _, _, batch, epochs = CASES[case]
    step, model = tinynet_step(case, compiled)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(epochs):
        for index in _batches(len(X), batch, rng):
            step(X[index], y[index])
    elapsed = time.perf_counter() - start
    _TRAINING_PEAK.append(_peak_kb())
    with tn.no_grad():
        accuracy = float((model(X).argmax(axis=1).numpy() == y).mean())
    return elapsed / epochs, accuracy


def train_compiled(case, X, y):
    return train_tinynet(case, X, y, compiled=True)


def train_numpy(case, X, y):
    import numpy as np

    _, _, _, _, batch, epochs = CASES[case]
    step, model = numpy_step(case)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(epochs):
        for index in _batches(len(X), batch, rng):
            step(X[index], y[index])
    elapsed = time.perf_counter() - start
    _TRAINING_PEAK.append(_peak_kb())
    return elapsed / epochs, float((model.predict(X) == y).mean())


def step_memory(contender: str, case: str, warmup: int = 8, steps: int = 4) -> dict:
    """Traced memory (tracemalloc) of the training loop after ``warmup`` steps, in MB: what
    the loop holds between steps (model, optimizer state, kept buffers) and the extra peak
    inside a step (its temporaries), over ``steps`` more steps."""
    import tracemalloc

    import numpy as np

    X, y = make_data(case)
    if contender == "numpy":
        make_step = lambda: numpy_step(case)  # noqa: E731
    else:
        import tinynet.compiler  # noqa: F401  (the code's memory is not the loop's)

        make_step = lambda: tinynet_step(case, compiled=contender == "compiled")  # noqa: E731
    batches = _batches(len(X), CASES[case][4], np.random.default_rng(0))[: warmup + steps]
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    step, _ = make_step()
    for index in batches[:warmup]:
        step(X[index], y[index])
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    for index in batches[warmup:]:
        step(X[index], y[index])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"contender": contender, "case": case, "held_mb": (held - base) / 2**20,
            "step_peak_mb": (peak - held) / 2**20}  # fmt: skip


def _mlp_params(case):
    _, _, hidden, _, batch, epochs = CASES[case]
    return dict(
        hidden_layer_sizes=hidden, solver="adam", learning_rate_init=1e-3, alpha=0.0,
        batch_size=batch, max_iter=epochs, shuffle=True, tol=0.0, n_iter_no_change=10**6,
        random_state=0,
    )  # fmt: skip


def train_sklearn(case, X, y):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(**_mlp_params(case))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    elapsed = time.perf_counter() - start
    _TRAINING_PEAK.append(_peak_kb())
    return elapsed / CASES[case][5], float(model.score(X, y))


def train_estimator(case, X, y):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from tinynet.estimators import NeuralNetClassifier

    model = NeuralNetClassifier(**_mlp_params(case))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    elapsed = time.perf_counter() - start
    _TRAINING_PEAK.append(_peak_kb())
    return elapsed / CASES[case][5], float(model.score(X, y))


def _torch_model(case):
    """As ``_tinynet_model``: the originals of the copied weights are freed on return."""
    import torch

    weights, biases = initial_weights(case)
    layers = []
    for i, (w, b) in enumerate(zip(weights, biases)):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def train_torch(case, X, y):
    import numpy as np
    import torch

    _, _, _, _, batch, epochs = CASES[case]
    model = _torch_model(case)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(epochs):
        for index in _batches(len(X), batch, rng):
            index = torch.from_numpy(index)
            loss = torch.nn.functional.cross_entropy(model(Xt[index]), yt[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    elapsed = time.perf_counter() - start
    _TRAINING_PEAK.append(_peak_kb())
    with torch.no_grad():
        accuracy = float((model(Xt).argmax(1) == yt).float().mean())
    return elapsed / epochs, accuracy


_TRAINING_PEAK: list[int] = []


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(contender: str, case: str) -> dict:
    X, y = make_data(case)
    trainer = globals()[f"train_{contender}"]
    seconds, accuracy = trainer(case, X, y)
    peak_kb = _TRAINING_PEAK[-1]  # before the accuracy pass over the whole data set
    return {"contender": contender, "case": case, "seconds_per_epoch": seconds,
            "accuracy": accuracy, "peak_rss_mb": peak_kb / 1024}  # fmt: skip


def available(contender: str) -> bool:
    if contender != "torch":
        return True
    try:
        import importlib.util

        return importlib.util.find_spec("torch") is not None
    except ImportError:
        return False


def compile_to_bytecode() -> None:
    """Compile the tinynet the workers import, and this folder, to ``__pycache__``.

    A folder that cannot be written (an installed, read-only tinynet) is left alone: the
    installer compiled it already."""
    import compileall
    import importlib.util

    folders = [os.path.dirname(os.path.abspath(__file__))]
    spec = importlib.util.find_spec("tinynet")  # finds the package without importing it
    if spec is not None and spec.submodule_search_locations:
        folders += list(spec.submodule_search_locations)
    for folder in folders:
        compileall.compile_dir(folder, quiet=2)


STEADY = ("tinynet", "compiled", "numpy")  # the contenders --steady times step by step


def steady_worker(case: str, contenders: list[str], rounds: int, count: int = 50) -> list[dict]:
    """Microseconds per training step in this one process, after warm-up (a compiled
    step has traced and generated its replay): each contender runs the same ``count``
    batches in turn, ``rounds`` times, and keeps its best time (the least disturbed by
    other load on the machine)."""
    import numpy as np

    X, y = make_data(case)
    batch = CASES[case][4]
    order = [i for i in _batches(len(X), batch, np.random.default_rng(0)) if len(i) == batch]
    batches = [(X[i], y[i]) for i in (order * count)[:count]]
    steps = {}
    for contender in contenders:
        if contender == "numpy":
            steps[contender] = numpy_step(case)[0]
        else:
            steps[contender] = tinynet_step(case, compiled=contender == "compiled")[0]
    for step in steps.values():
        for inputs, targets in batches[:5]:
            step(inputs, targets)
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for contender, step in steps.items():  # interleaved: one timing of each per round
            start = time.perf_counter()
            for inputs, targets in batches:
                step(inputs, targets)
            best[contender] = min(best[contender], (time.perf_counter() - start) / count)
    return [{"case": case, "contender": c, "us_per_step": 1e6 * s} for c, s in best.items()]


def steady_table(results, markdown: bool) -> str:
    floors = {r["case"]: r["us_per_step"] for r in results if r["contender"] == "numpy"}
    header = ["case", "contender", "us / step", "vs NumPy floor"]
    rows = []
    for r in results:
        floor = floors.get(r["case"])
        ratio = f"{r['us_per_step'] / floor:.3f}x" if floor else "-"
        rows.append([r["case"], r["contender"], f"{r['us_per_step']:.1f}", ratio])
    return _format(header, rows, markdown)


def _environment(blas_threads: int | None) -> dict:
    env = dict(os.environ)
    if blas_threads is not None:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(blas_threads)
    return env


def run_steady(cases, contenders, args) -> list[dict]:
    """--steady: one worker process per case (BLAS threads set before NumPy loads)."""
    compile_to_bytecode()
    results = []
    for case in cases:
        out = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--steady", "--worker",
             ",".join(contenders), "--case", case, "--rounds", str(args.rounds)],
            capture_output=True, text=True, check=True, env=_environment(args.blas_threads),
        )  # fmt: skip
        results.extend(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def run(cases, contenders, rounds: int, blas_threads: int | None = None) -> list[dict]:
    compile_to_bytecode()
    env = _environment(blas_threads)
    results = []
    for case in cases:
        samples = {c: [] for c in contenders}
        for _ in range(rounds):
            for contender in contenders:  # interleaved: one of each per round
                out = subprocess.run(
                    [sys.executable, os.path.abspath(__file__), "--worker", contender, "--case", case],
                    capture_output=True, text=True, check=True, env=env,
                )  # fmt: skip
                samples[contender].append(json.loads(out.stdout.strip().splitlines()[-1]))
        for contender, runs in samples.items():
            seconds = [r["seconds_per_epoch"] for r in runs]
            results.append({
                "case": case, "contender": contender,
                "seconds_per_epoch": statistics.median(seconds),
                "spread": (max(seconds) - min(seconds)) / statistics.median(seconds),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                "accuracy": runs[-1]["accuracy"],
            })  # fmt: skip
    return results


STEP_MEMORY_CONTENDERS = ("tinynet", "compiled", "numpy")


def run_step_memory(cases, contenders) -> list[dict]:
    """``step_memory`` of each contender, each in its own process (tracemalloc is exact:
    one run each)."""
    compile_to_bytecode()
    results = []
    for case in cases:
        for contender in contenders:
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--worker", contender, "--case",
                 case, "--step-memory"], capture_output=True, text=True, check=True,
            )  # fmt: skip
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def memory_table(results, markdown: bool) -> str:
    header = ["case", "contender", "held MB", "step peak MB"]
    rows = [[r["case"], r["contender"], f"{r['held_mb']:.2f}", f"{r['step_peak_mb']:.2f}"]
            for r in results]  # fmt: skip
    return _format(header, rows, markdown)


def table(results, markdown: bool) -> str:
    floors = {r["case"]: r["seconds_per_epoch"] for r in results if r["contender"] == "numpy"}
    header = ["case", "contender", "s / epoch", "spread", "vs NumPy floor", "peak RSS MB",
              "train acc"]  # fmt: skip
    rows = []
    for r in results:
        floor = floors.get(r["case"])
        ratio = f"{r['seconds_per_epoch'] / floor:.2f}x" if floor else "-"
        spread = f"±{50 * r.get('spread', 0.0):.0f}%"  # half the max-min range
        rows.append([r["case"], r["contender"], f"{r['seconds_per_epoch']:.4f}", spread, ratio,
                     f"{r['peak_rss_mb']:.1f}", f"{r['accuracy']:.3f}"])  # fmt: skip
    return _format(header, rows, markdown)


def _format(header, rows, markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    return "\n".join(
        "  ".join(str(c).rjust(w) for c, w in zip(row, widths)) for row in [header, *rows]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--case", default="tiny", help=f"one of {', '.join(CASES)} or 'all'")
    parser.add_argument(
        "--contenders", default="tinynet,compiled,numpy,sklearn,torch",
        help=f"comma-separated subset of {', '.join(CONTENDERS)} (torch skipped if missing)",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median kept)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--blas-threads", type=int, metavar="N",
        help="BLAS threads for every contender (default: the library's own choice)",
    )  # fmt: skip
    parser.add_argument(
        "--step-memory", action="store_true",
        help="instead of timing: traced memory held by the loop and peak inside a step "
        f"(contenders {', '.join(STEP_MEMORY_CONTENDERS)})",
    )  # fmt: skip
    parser.add_argument(
        "--steady", action="store_true",
        help="time single steps in one process instead (tinynet, compiled, numpy; warm-up "
        "excluded; best of --rounds interleaved timings of 50 steps)",
    )  # fmt: skip
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        if args.steady:
            result = steady_worker(args.case, args.worker.split(","), args.rounds)
        else:
            result = (step_memory if args.step_memory else worker)(args.worker, args.case)
        print(json.dumps(result))
        return 0
    cases = list(CASES) if args.case == "all" else args.case.split(",")
    for case in cases:
        if case not in CASES:
            parser.error(f"unknown case {case!r}; choose from {', '.join(CASES)} or 'all'")
    contenders = [c for c in args.contenders.split(",") if available(c)]
    for contender in contenders:
        if contender not in CONTENDERS:
            parser.error(f"unknown contender {contender!r}")
    if args.step_memory:
        contenders = [c for c in contenders if c in STEP_MEMORY_CONTENDERS]
        results = run_step_memory(cases, contenders)
        print(memory_table(results, args.markdown))
    elif args.steady:
        results = run_steady(cases, [c for c in contenders if c in STEADY], args)
        print(steady_table(results, args.markdown))
    else:
        results = run(cases, contenders, args.rounds, args.blas_threads)
        print(table(results, args.markdown))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
