"""Backward formulas never make NumPy warn about values they handle by a documented
convention (docs/autograd.md, "Conventions at non-differentiable points").

Forward ops keep NumPy's warnings where the user's own values leave the domain (``log(0)``),
so only the backward passes run under ``simplefilter("error", RuntimeWarning)``: every
differentiable op of the OpInfo table at 0, at its kink points, with every input equal
(ties, zero vectors, zero distances), at first and at second order; then the cases the
conventions name one by one."""

import math
import traceback
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.testing.opinfo import OPS
from tinynet.testing.strategies import DOMAINS

DIFFERENTIABLE = [op for op in OPS if op.differentiable]


def _intervals(domain):
    return DOMAINS[domain] if isinstance(domain, str) else (domain,)


def _domain(op, index: int):
    """The value domain of the op's input ``index`` (one for all, or one per input)."""
    return op.domains if isinstance(op.domains, str) else op.domains[index]


# Ops whose "nonzero" input is a divisor: 0 there is the user's division by zero, which
# NumPy's warnings rightly report (forward and backward). Elsewhere "nonzero" keeps draws
# off a kink whose convention is documented (norms at a zero vector, sinc at 0, ...).
DIVISORS = {"div", "divide", "div_", "rdiv_array", "reciprocal", "addcdiv"}
DIVISORS |= {"fmod", "remainder", "floor_divide"}


def _in_domain(op, value: float, domain) -> bool:
    if domain == "integer":
        return False  # indices and counts keep their sampled values
    if value == 0.0 and domain == "positive":
        return True  # the boundary: sqrt(0), 0 ** p, xlogy(0, 0)
    if value == 0.0 and domain == "nonzero":
        return op.name not in DIVISORS
    return any(low <= value <= high for low, high in _intervals(domain))


# The engine adds gradients with plain NumPy arithmetic, which warns at inf - inf: pow's
# d2(a ** b)/da db at a = 0 is such a sum (PyTorch's NaN: a ** (b - 1) + b a ** (b - 1) log a,
# test_pow_mixed_derivative_at_base_zero_is_nan_as_pytorch), and so is a = 0 broadcast over
# exponents of both signs. For these ops only each input's own second derivatives are swept.
MIXED_INF_MINUS_INF = {"pow", "float_power"}


def special_samples(op, sample=None):
    """``(label, arrays, kwargs)``: ``sample`` (default: the op's fixed one) with inputs
    moved to special values."""
    sample = op.sample() if sample is None else sample
    arrays, kwargs = sample.arrays, sample.kwargs
    points = sorted({0.0, *(float(k) for k in op.avoid)})
    floats = [i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f"]
    for point in points:
        movable = [i for i in floats if _in_domain(op, point, _domain(op, i))]
        if not movable:
            continue
        # Every input at the point: ties, equal arguments, zero vectors, zero distances.
        moved = [np.full_like(a, point) if i in movable else a for i, a in enumerate(arrays)]
        yield f"all={point}", moved, kwargs
        # One input alone; not at a positive domain's boundary, where the others' sampled
        # values make it the user's own out-of-domain value (xlogy(1, 0) = -inf).
        alone = [i for i in movable if not (point == 0 and _domain(op, i) == "positive")]
        for i in alone if len(movable) > 1 else ():
            one = [np.full_like(a, point) if j == i else a for j, a in enumerate(arrays)]
            yield f"input{i}={point}", one, kwargs
        # Some elements at the point, the others sampled (zeros inside a product, say).
        if op.name in MIXED_INF_MINUS_INF:
            continue  # 0 ** b broadcast over b of both signs: inf - inf in the engine's sum
        some = [a.copy() for a in arrays]
        for i in movable:
            some[i].reshape(-1)[::2] = point
        yield f"every_other={point}", some, kwargs


def float_outputs(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, tn.Tensor) and o.requires_grad]


def weighted_sum(tensors):
    """A fixed linear functional of ``tensors`` (distinct nonzero weights, no ties)."""
    total = 0.0
    for t in tensors:
        weights = 1.0 + 0.5 * np.cos(np.arange(t.numel(), dtype=np.float64)).reshape(t.shape)
        total = total + (t * weights.astype(t.dtype)).sum()
    return total


def forward(fn, *args):
    """``fn(*args)`` with NumPy's forward warnings allowed (the user's own values)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


def backward(*args, **kwargs):
    """``tn.grad`` with any RuntimeWarning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return tn.grad(*args, allow_unused=True, **kwargs)


def check_backward(name, outputs, tensors, order=2):
    """First-order gradients (plain, then with a graph) and second-order ones warn not."""
    try:
        backward(forward(weighted_sum, outputs), tensors, retain_graph=True)
        if order == 2:
            grads = backward(forward(weighted_sum, outputs), tensors, create_graph=True)
            linked = [g for g in grads if g is not None and g.requires_grad]
            if linked:
                backward(forward(weighted_sum, linked), tensors)
    except RuntimeWarning as warning:
        frames = traceback.extract_tb(warning.__traceback__)
        lines = [f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in frames]
        raise AssertionError(f"{name}: {warning} (at {lines[-3:]})") from warning


def check(name, fn, arrays, mixed=True, order=2, may_refuse=False, dtype=None, quiet=False):
    """``fn(*tensors)``'s backward at ``arrays`` (float arrays require grad) warns not;
    ``mixed=False``: no mixed second derivatives (each input's own, the others constant);
    ``quiet``: the forward neither (a finite value by convention, as a norm's at 0)."""
    flags = [np.asarray(a).dtype.kind == "f" for a in arrays]
    runs = (
        [flags]
        if mixed
        else [flags] + [[j == i for j in range(len(flags))] for i in range(len(flags)) if flags[i]]
    )
    for run, wanted in enumerate(runs):
        tensors = tuple(
            tn.Tensor(a if dtype is None or not w else a.astype(dtype), requires_grad=w)
            for a, w in zip(arrays, wanted)
        )
        if quiet:
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                fn(*tensors)
        try:
            outputs = float_outputs(forward(fn, *tensors))
        except Exception:  # a value the op refuses (a singular matrix to inv, say)
            if may_refuse:
                return
            raise
        wrt = tuple(t for t in tensors if t.requires_grad)
        if outputs and wrt:
            check_backward(name, outputs, wrt, order=order if mixed or run else 1)


def check_op(op, sample=None, dtype=None):
    mixed = op.name not in MIXED_INF_MINUS_INF
    for label, arrays, kwargs in special_samples(op, sample):
        fn = lambda *tensors: op(*tensors, **kwargs)  # noqa: E731, B023 (called at once)
        name = f"{op.name}({kwargs}) at {label}, {dtype or 'float64'}"
        check(name, fn, arrays, mixed=mixed, may_refuse=True, dtype=dtype)


@pytest.mark.parametrize("dtype", [None, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("op", DIFFERENTIABLE, ids=[op.name for op in DIFFERENTIABLE])
def test_backward_at_special_values_does_not_warn(op, dtype):
    check_op(op, dtype=dtype)


@pytest.mark.parametrize("op", DIFFERENTIABLE, ids=[op.name for op in DIFFERENTIABLE])
@settings(max_examples=2, derandomize=True, deadline=None, database=None)
@given(data=st.data())
def test_backward_at_special_values_with_drawn_settings(op, data):
    # Drawn shapes and settings (a norm's p, a loss's reduction), moved to the same points.
    check_op(op, data.draw(op.strategy(), label="sample"))


# -- the conventions, one by one ---------------------------------------------------------------
def tensor(values) -> tn.Tensor:
    return tn.Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def values(*rows) -> list:
    return [np.array(row, dtype=np.float64) for row in rows]


FINITE_BY_CONVENTION = {  # name: (fn, arrays): the forward is finite, its work quiet too
    **{
        f"cdist(p={p})": (lambda a, b, p=p: tn.cdist(a, b, p=p), ([[1.0, 2.0]], [[1.0, 2.0]]))
        for p in (0.5, 1.0, 1.5, 2.0, 3.0, math.inf)
    },
    **{
        f"norm(p={p})": (lambda x, p=p: tn.norm(x, p=p), ([0.0, 0.0],))
        for p in (0.5, 1.0, 1.5, 2.0, 3.0, math.inf)
    },
    "normalize": (F.normalize, ([[0.0, 0.0]],)),
    "cosine_similarity": (F.cosine_similarity, ([[0.0, 0.0]], [[0.0, 0.0]])),
    "pairwise_distance": (F.pairwise_distance, ([[1.0, 2.0]], [[1.0, 2.0]])),
    "hypot": (tn.hypot, ([0.0], [0.0])),
    "atan2": (tn.atan2, ([0.0], [0.0])),
    "xlogy": (tn.xlogy, ([0.0, 0.0], [0.0, 2.0])),
    "sqrt": (tn.sqrt, ([0.0],)),
    "x ** 0.5": (lambda x: x**0.5, ([0.0],)),
    "x ** 1.5": (lambda x: x**1.5, ([0.0],)),
    "pow(0, 0)": (tn.pow, ([0.0], [0.0])),
    "sinc": (tn.sinc, ([0.0],)),
    "det": (tn.linalg.det, ([[1.0, 2.0], [2.0, 4.0]],)),
    "kl_div": (lambda i, t: F.kl_div(i, t, reduction="sum"), ([1.0], [0.0])),
    "gaussian_nll_loss": (F.gaussian_nll_loss, ([1.0], [1.0], [0.0])),
    "smooth_l1_loss": (lambda a, b: F.smooth_l1_loss(a, b, beta=0.0), ([1.0], [1.0])),
}


@pytest.mark.parametrize("case", FINITE_BY_CONVENTION)
def test_a_finite_convention_is_quiet_forward_too(case):
    fn, rows = FINITE_BY_CONVENTION[case]
    check(case, fn, values(*rows), mixed=case != "pow(0, 0)", quiet=True)


@pytest.mark.parametrize("p", [0.5, 1.0, 1.5, 2.0, 3.0, math.inf])
def test_cdist_at_a_zero_distance(p):
    x1, x2 = values([[1.0, 2.0], [0.0, 0.0], [1.0, 2.0]], [[1.0, 2.0], [0.0, 0.0]])
    check(f"cdist(p={p})", lambda a, b: tn.cdist(a, b, p=p), [x1, x2])


@pytest.mark.parametrize("p", [0.5, 1.0, 1.5, 2.0, 3.0, math.inf])
def test_norm_at_a_zero_vector(p):
    check(f"norm(p={p})", lambda x: tn.norm(x, p=p, dim=1), values([[0.0, 0.0], [1.0, -2.0]]))
    check(f"norm(p={p}) of all", lambda x: tn.norm(x, p=p), values([0.0, 0.0, 0.0]))


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_distances_and_normalize_at_zero(p):
    zeros, ones = [[0.0, 0.0]], [[1.0, 2.0]]
    distance = lambda a, b: F.pairwise_distance(a, b, p=p, eps=0.0)  # noqa: E731
    check("pairwise_distance", distance, values(ones, ones))
    check("normalize", lambda x: F.normalize(x, p=p), values(zeros))
    check("cosine_similarity", F.cosine_similarity, values(zeros, ones))
    check("cosine_similarity of zeros", F.cosine_similarity, values(zeros, zeros))


@pytest.mark.parametrize("exponent", [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.5, 3.0])
def test_pow_at_zero(exponent):
    check(f"x ** {exponent}", lambda x: x**exponent, values([0.0, 1.0]))
    for fn in (tn.pow, tn.float_power):
        arrays = values([0.0, 1.0], [exponent, exponent])
        check(f"{fn.__name__}(x, tensor {exponent})", fn, arrays, mixed=False)


def test_pow_of_zero_with_exponents_of_both_signs():
    check("pow", tn.pow, values([0.0] * 4, [-1.0, -0.5, 0.0, 0.5]), mixed=False)


def test_pow_mixed_derivative_at_base_zero_is_nan_as_pytorch():
    # PyTorch's rules give inf + (-inf) there (the true limit is -inf); the engine's sum of
    # the two paths is plain NumPy addition, which warns: the one case left visible.
    a, b = tensor([0.0]), tensor([0.5])
    (grad_a,) = tn.grad(tn.pow(a, b).sum(), a, create_graph=True)
    assert grad_a.item() == math.inf
    with pytest.warns(RuntimeWarning, match="invalid value"):
        (mixed,) = tn.grad(grad_a.sum(), b)
    assert math.isnan(mixed.item())


@pytest.mark.parametrize("fn", [tn.hypot, tn.atan2], ids=["hypot", "atan2"])
def test_hypot_and_atan2_at_the_origin(fn):
    check(fn.__name__, fn, values([0.0, 1.0, 0.0], [0.0, 0.0, 2.0]))


def test_xlogy_at_zero():
    check("xlogy(0, y)", tn.xlogy, values([0.0, 0.0, 1.0], [0.0, 2.0, 3.0]))
    check("xlogy(0, 0)", tn.xlogy, values(0.0, 0.0))


@pytest.mark.parametrize("fn", [tn.sqrt, tn.rsqrt], ids=["sqrt", "rsqrt"])
def test_sqrt_and_rsqrt_at_zero(fn):
    check(fn.__name__, fn, values([0.0, 4.0]))


def test_where_masks_an_overflowed_branch():
    x = values([1000.0, 1.0, 0.0])
    check("where(exp)", lambda t: tn.where(t < 50, t.exp(), 0.0), x)
    check("where(log)", lambda t: tn.where(t > 0, t.log(), 0.0), x)
    check("where(1 / x)", lambda t: tn.where(t != 0, 1.0 / t, 0.0), x)
    check("where(sqrt)", lambda t: tn.where(t > 0, t.sqrt(), 0.0), x)


def test_kinked_losses_at_their_conventions():
    zeros, ones = [0.0, 0.0], [1.0, 1.0]
    check("kl_div", lambda i, t: F.kl_div(i, t, reduction="sum"), values(ones, zeros))
    check("gaussian_nll_loss", F.gaussian_nll_loss, values(ones, ones, zeros))
    check("sinc", tn.sinc, values(zeros))
    poisson = lambda i, t: F.poisson_nll_loss(i, t, log_input=True, full=True)  # noqa: E731
    check("poisson_nll_loss(full=True)", poisson, values([0.5, 0.5, 0.5], [0.0, 0.5, -1.0]))
    smooth = lambda a, b: F.smooth_l1_loss(a, b, beta=0.0)  # noqa: E731
    check("smooth_l1_loss(beta=0)", smooth, values(zeros, zeros))
    check("prod", tn.prod, values([0.0, 2.0, 0.0]))
    check("cumprod", lambda x: tn.cumprod(x, 0), values([0.0, 2.0, 0.0]))
    check("logit(eps)", lambda p: tn.logit(p, eps=0.1), values([0.1, 0.9, 0.0, 1.0]))


def test_a_backward_outside_every_convention_still_warns():
    # log's derivative 1 / x overflows at a subnormal x: finite input, finite value, no
    # convention; NumPy's warning is the user's clue (as is tn.autograd.detect_anomaly).
    with pytest.raises(AssertionError, match="overflow"):
        check("log", tn.log, values([1e-320, 1.0]))


SINGULAR, ZEROS, EYE2, EYE3 = [[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0]] * 2, np.eye(2), np.eye(3)
LINALG_CASES = {  # name: (fn, matrix, order)
    "det at a singular matrix": (tn.linalg.det, SINGULAR, 2),
    "det at zeros": (tn.linalg.det, ZEROS, 2),
    "eigh's eigenvalues, repeated": (lambda a: tn.linalg.eigh(a)[0], EYE3, 2),
    "svd's S, repeated": (lambda a: tn.linalg.svd(a, full_matrices=False)[1], EYE2, 2),
    "svd's S at zeros": (lambda a: tn.linalg.svd(a, full_matrices=False)[1], ZEROS, 2),
    # Gradients that are inf or NaN by convention: first order only. A second order
    # differentiates through those values with plain arithmetic (inf - inf in a sum),
    # where NumPy's warning stays, as for any computation on non-finite values.
    "slogdet at a singular matrix": (lambda a: tn.linalg.slogdet(a)[1], SINGULAR, 1),
    "eigh's eigenvectors, repeated eigenvalues": (lambda a: tn.linalg.eigh(a)[1], EYE3, 1),
    "svd's U, repeated S": (lambda a: tn.linalg.svd(a, full_matrices=False)[0], EYE2, 1),
    "svd's Vh, repeated S": (lambda a: tn.linalg.svd(a, full_matrices=False)[2], EYE2, 1),
    "svd's U at zeros": (lambda a: tn.linalg.svd(a, full_matrices=False)[0], ZEROS, 1),
}
for ord in (2, -2, "nuc", 1, math.inf, "fro"):
    for name, matrix in (("zeros", ZEROS), ("the identity", EYE2)):
        LINALG_CASES[f"matrix norm {ord} at {name}"] = (
            lambda a, ord=ord: tn.norm(a, p=ord, dim=(0, 1)),
            matrix,
            2,
        )


@pytest.mark.parametrize("case", LINALG_CASES)
def test_linear_algebra_at_its_conventions(case):
    fn, matrix, order = LINALG_CASES[case]
    check(case, fn, [np.array(matrix, dtype=np.float64)], order=order)


def test_a_compiled_replay_is_as_quiet_as_eager():
    # The replay calls the same backward formulas, errstate included.
    def step(x):
        loss = (x**0.3).sum()
        loss.backward()
        return loss

    compiled = tn.compile(step)
    for _ in range(4):  # calls 3 and 4 are replays
        x = tensor([0.0, 1.0, 4.0])
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            compiled(x)
        assert x.grad.tolist() == [math.inf, 0.3, 0.3 * 4.0**-0.7]


@pytest.mark.parametrize("p", [0.25, 0.5, 0.75])
def test_norm_below_one_gives_a_zero_coordinate_zero_gradient(p):
    # PyTorch's vector-norm backward masks x == 0 for p < 1 (cdist's kernel likewise): the
    # slope p |x| ** (p - 1) is infinite there and abs's derivative 0, an undefined product.
    x = tensor([4.0, 0.0, -1.0])
    (grad,) = tn.grad(tn.norm(x, p=p), x)
    total = 4.0**p + 1.0
    expected = total ** (1 / p - 1) * np.array([4.0 ** (p - 1), 0.0, -1.0])
    np.testing.assert_allclose(grad.data, expected, rtol=1e-14)
    x1, x2 = tensor([[4.0, 3.0]]), tensor([[0.0, 3.0]])
    grad1, grad2 = tn.grad(tn.cdist(x1, x2, p=p).sum(), (x1, x2))
    np.testing.assert_allclose(grad1.data, [[1.0, 0.0]], rtol=1e-14)
    np.testing.assert_allclose(grad2.data, [[-1.0, 0.0]], rtol=1e-14)


def test_a_huge_finite_factor_does_not_make_the_finiteness_check_warn():
    # Backward formulas test their factor for inf before multiplying (0 * inf = 0); the test
    # squares it, and 1e20 ** 2 overflows float32: that must not show as a warning.
    x = tn.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    factor = np.array([1e20, 3.0], dtype=np.float32)
    check("x * 1e20", lambda t: t * factor, [x.data])
