"""``tinynet gradcheck``: finite-difference checks of every op, or of a user's function.

First order compares each op's vector-Jacobian products with central differences; second
order does the same for the map ``(x, v) -> v @ J(x)``, which is what ``tn.gradgradcheck``
checks, so that both orders come with their error sizes, not only pass/fail.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass

import numpy as np

import tinynet as tn
from tinynet.cli._common import CLIError, UsageError


@dataclass
class Check:
    name: str
    order: int
    max_abs_error: float
    max_rel_error: float
    passed: bool


def _outputs(result) -> tuple:
    return (result,) if isinstance(result, tn.Tensor) else tuple(result)


def check(name: str, fn, inputs: tuple, orders, eps: float, atol: float, rtol: float) -> list:
    """Checks of ``fn`` at ``inputs`` (float64 Tensors) for each derivative order in ``orders``."""
    results = []
    for order in orders:
        checker = tn.check_gradients if order == 1 else tn.check_gradgradients
        report = checker(fn, inputs, eps=eps, atol=atol, rtol=rtol)
        results.append(Check(
            name, order,
            max((c.max_abs_error for c in report.inputs), default=0.0),
            max((c.max_rel_error for c in report.inputs), default=0.0),
            report.passed,
        ))  # fmt: skip
    return results


def op_checks(names, orders, atol: float, rtol: float) -> tuple[list, list]:
    """Checks of the differentiable ops of the op table; also the names skipped as not
    differentiable."""
    from tinynet.testing.opinfo import OPS, OPS_BY_NAME, sample_inputs

    ops = OPS
    if names:
        # An entry's own name, or a public op it covers (``floor`` -> the rounding entry).
        chosen = {name: [OPS_BY_NAME[name]] if name in OPS_BY_NAME else [] for name in names}
        for name, entries in chosen.items():
            entries += [op for op in OPS if not entries and name in op.covers]
        if unknown := [name for name, entries in chosen.items() if not entries]:
            raise UsageError(
                f"unknown op {', '.join(unknown)}; known ops: {', '.join(OPS_BY_NAME)}"
            )
        ops = list({id(op): op for entries in chosen.values() for op in entries}.values())
    results, skipped = [], []
    for op in ops:
        if not op.differentiable:
            skipped.append(op.name)
            continue
        tensors, kwargs = sample_inputs(op)
        fn = _bind(op, kwargs)
        results += check(op.name, fn, tensors, orders, op.gradcheck_eps, atol, rtol)
    return results, skipped


def _bind(op, kwargs):
    return lambda *tensors: op(*tensors, **kwargs)


def load_function(spec: str):
    """``module:function`` or ``path/to/file.py:function`` -> the function."""
    module_name, _, function_name = spec.rpartition(":")
    if not module_name or not function_name:
        raise UsageError(f"--function expects MODULE:FUNCTION, got {spec!r}")
    try:
        if module_name.endswith(".py"):
            if not os.path.isfile(module_name):
                raise CLIError(f"--function: no such file {module_name!r}")
            name = os.path.splitext(os.path.basename(module_name))[0]
            module_spec = importlib.util.spec_from_file_location(name, module_name)
            if module_spec is None or module_spec.loader is None:
                raise CLIError(f"--function: cannot import {module_name!r}")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())  # as `python -m` would, for the console script
            module = importlib.import_module(module_name)
    except CLIError:
        raise
    except Exception as error:
        raise CLIError(
            f"--function: cannot import {module_name!r}: {type(error).__name__}: {error}"
        ) from error
    function = getattr(module, function_name, None)
    if not callable(function):
        raise CLIError(f"--function: {module_name!r} has no function {function_name!r}")
    return function


def function_checks(args, orders) -> list:
    function = load_function(args.function)
    rng = np.random.default_rng(args.seed)
    inputs = tuple(
        tn.Tensor(rng.standard_normal(args.shape), requires_grad=True) for _ in range(args.inputs)
    )
    try:
        result = function(*inputs)
        _check_returns_tensors(result)
        return check(args.function, function, inputs, orders, 1e-6, args.atol, args.rtol)
    except CLIError:
        raise
    except Exception as error:
        raise CLIError(
            f"--function: {args.function} raised {type(error).__name__}: {error}"
        ) from error


def _check_returns_tensors(result) -> None:
    outputs = _outputs(result) if isinstance(result, (tn.Tensor, tuple, list)) else (result,)
    if not outputs or not all(isinstance(o, tn.Tensor) for o in outputs):
        raise CLIError(
            f"--function must return a Tensor (or a tuple of Tensors), got {type(result).__name__}"
        )


def format_table(results, quiet: bool) -> list[str]:
    name_width = max([len("op"), *(len(r.name) for r in results)])
    lines = [f"{'op':<{name_width}}  order  max abs err  max rel err  result"]
    for r in results:
        if quiet and r.passed:
            continue
        lines.append(
            f"{r.name:<{name_width}}  {r.order:>5}  {r.max_abs_error:>11.2e}  "
            f"{r.max_rel_error:>11.2e}  {'pass' if r.passed else 'FAIL'}"
        )
    return lines


def run_gradcheck(args) -> int:
    orders = (1, 2) if args.order == "both" else (int(args.order),)
    if args.function is not None:
        if args.ops:
            raise UsageError("--ops and --function exclude each other")
        results, skipped = function_checks(args, orders), []  # type: list, list
    else:
        names = [name.strip() for name in (args.ops or "").split(",") if name.strip()]
        results, skipped = op_checks(names, orders, args.atol, args.rtol)
    lines = format_table(results, args.quiet)
    if len(lines) > 1:
        print("\n".join(lines))
    failures = [r for r in results if not r.passed]
    checked = len({r.name for r in results})
    order_text = " and ".join(str(o) for o in orders)
    summary = f"{len(results) - len(failures)} of {len(results)} checks passed "
    noun = "function" if args.function else "op" if checked == 1 else "ops"
    summary += f"({checked} {noun}, order {order_text}"
    summary += f", atol {args.atol:g}, rtol {args.rtol:g})"
    if skipped:
        summary += f"; skipped {len(skipped)} non-differentiable: {', '.join(skipped)}"
    print(summary)
    if failures:
        failed = ", ".join(f"{r.name} (order {r.order})" for r in failures)
        print(f"FAILED: {failed}")
        return 1
    return 0
