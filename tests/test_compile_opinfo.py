"""tn.compile over the whole op table: a replay never reuses what its recordings derived
from values.

NumPy work on a tensor's values outside an op and outside ``traced_call`` (a mask, an order,
an index, a count, an ``astype``) becomes a constant of the program. The recorder compares
its first two calls, so such a constant is caught when it differs between them; when both
calls derive the same one, every replay would silently reuse it. Each op of
tinynet.testing.opinfo is therefore compiled as a step (its float inputs times 1.0, so they
are the step's own values; for a differentiable op also a backward through the sum of its
outputs, returning the gradients of leaves that are updated in place between calls, as
parameters are) and called on its sample A, on A times ``1 + 2**-10`` and ``1 - 2**-10``
(the same signs, zeros, order, argmax and integer parts: what the op derives from values is
the same, so the recordings agree and the third call replays), then on unrelated draws B
and C with its index, mask and target arguments permuted. Each result must be eager's, bit
for bit (NaN-aware), or the same exception. The same runs in float32, on 0-d inputs, on
int64 inputs (forward only) wherever the op takes them (else both must raise alike), and
through the Tensor method where the table has one. Index arguments outside the table
(targets, embeddings, int32 indices) and values its draws never reach (a zero variance) have
tests of their own below.
"""

import dataclasses
import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.testing.opinfo import OPS, OPS_BY_NAME
from tinynet.testing.strategies import keep_away, sample_values

SCALE = 2.0**-10

# Ops whose work a replay cannot redo: they run eagerly, with tn.compile's one warning.
EAGER_BY_DESIGN = {
    "unique": "its result's layout is decided in Python from the values",
    "allclose": "it returns a Python bool read from the values",
    "equal": "it returns a Python bool read from the values",
    "nonzero": "its result's size changes from B to C (replays keep sizes)",
    "argwhere": "nonzero's: its result's size changes from B to C",
    "unique_consecutive": "its result's layout is decided in Python from the values",
    # the table's op seeds a fresh generator at each call (rng=seed): a value drawn inside
    # that changes between calls; with one generator it replays (tests/nn/test_bags_and_noise.py)
    "nn.functional.gumbel_softmax": "the table's op draws from a fresh seeded generator per call",
}

# Table entries whose op itself derives an array from its inputs in NumPy (a test-side
# constant that tn.compile rightly keeps): the library functions are probed with integer
# arguments in test_index_arguments_equal_in_the_first_calls_are_each_calls instead.
TABLE_CONSTANTS = {
    "one_hot": "the table's op makes its labels with np.abs(x.data).astype(np.int64)",
    "bincount": "the table's op makes its counts with np.abs(x.data).astype(np.int64)",
    "multi_margin_loss": "the table's op shifts the input by a NumPy array made from the target",
}

# Found by this probe in code another engineer owns; the xfail goes when it is fixed.
KNOWN_CRASHES: dict = {}


def outcome(fn, *args):
    """``fn(*args)`` as a flat list of arrays (copies), or the type of what it raised."""
    try:
        return results(fn, *args)
    except Exception as error:  # the compiled function must raise the same
        return type(error)


def results(fn, *args) -> list[np.ndarray]:
    """``fn(*args)`` as a flat list of arrays (copies)."""
    return [np.array(getattr(value, "data", value)) for value in _flat(fn(*args))]


def _flat(result) -> list:
    if isinstance(result, (tuple, list)):
        return [item for part in result for item in _flat(part)]
    return [result]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype, shape and bytes, NaN where NaN (whatever its payload)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind in "fc":
        nan = np.isnan(a)
        return np.array_equal(nan, np.isnan(b)) and a[~nan].tobytes() == b[~nan].tobytes()
    return a.tobytes() == b.tobytes()


def assert_same(eager, compiled, call: int) -> None:
    if isinstance(eager, type) or isinstance(compiled, type):
        assert compiled is eager, f"call {call}: eager gave {eager}, compiled {compiled}"
        return
    assert len(compiled) == len(eager), f"call {call}: {len(compiled)} results, not {len(eager)}"
    for k, (a, b) in enumerate(zip(eager, compiled)):
        assert same_bits(a, b), f"call {call}, result {k}: compiled {b!r}, eager {a!r}"


# How the inputs are given: the sample's float64 arrays, as float32, their first elements as
# 0-d arrays, or truncated to int64 and scaled by 2 and 3 (1 +- 2**-10 would round back to
# the same integers, and equal calls replay only for those values).
VARIANTS = {"float64": np.float64, "float32": np.float32, "0-d": np.float64, "int64": np.int64}


def calls_of(op, variant: str) -> tuple[list, list, dict]:
    """Five calls of ``op``: (arrays, index arguments) each, the index arguments' names and
    the other keyword arguments."""
    sample = op.sample()
    dtype = VARIANTS[variant]
    arrays = [np.asarray(a.flat[0]) if variant == "0-d" else a for a in sample.arrays]
    names = sorted(k for k, v in sample.kwargs.items() if isinstance(v, np.ndarray))
    static = {k: v for k, v in sample.kwargs.items() if k not in names}
    indices = [sample.kwargs[k] for k in names]
    if variant == "int64":
        arrays = [np.trunc(a) for a in arrays]
    factors = (1.0, 2.0, 3.0) if variant == "int64" else (1.0, 1.0 + SCALE, 1.0 - SCALE)
    calls = [([(a * f).astype(dtype) for a in arrays], indices) for f in factors]
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        domains = [
            op.domains if isinstance(op.domains, str) else op.domains[i] for i in range(len(arrays))
        ]
        drawn = [sample_values(a.shape, d, rng) for a, d in zip(arrays, domains)]
        drawn = keep_away(drawn, op.avoid, op.margin, op.distinct)  # off the kinks, as A
        permuted = [rng.permutation(v.ravel()).reshape(v.shape) for v in indices]
        calls.append(([np.asarray(a).astype(dtype) for a in drawn], permuted))
    return calls, names, static


def step_of(op, names, static, leaves, backward: bool):
    """The compiled step's function: ``op`` on the leaves (backward) or the arguments."""
    n = len(leaves)

    def step(*args):
        tensors = leaves if backward else args[:n]
        kwargs = dict(static, **dict(zip(names, args if backward else args[n:])))
        out = op(*(t * 1.0 if t.dtype.kind == "f" else t for t in tensors), **kwargs)
        if not backward:
            return out
        total = sum(o.sum() for o in _flat(out) if isinstance(o, tn.Tensor) and o.requires_grad)
        total.backward()
        return out, tuple(leaf.grad for leaf in leaves)

    return step


def arguments(arrays, indices, leaves, backward: bool) -> list:
    """One call's arguments (fresh copies); with ``backward`` the arrays go into the leaves,
    in place, and their gradients are cleared, as a parameter's between steps."""
    if backward:
        for leaf, array in zip(leaves, arrays):
            np.copyto(leaf.data, array)
            leaf.grad = None
        return [v.copy() for v in indices]
    return [tn.Tensor(a.copy()) for a in arrays] + [v.copy() for v in indices]


def probe(op, backward: bool, variant: str) -> tuple[int, list[str], list[bool]]:
    """Run the five calls eagerly and compiled, checking each; return the number of replays,
    tn.compile's warnings and which calls raised."""
    calls, names, static = calls_of(op, variant)
    shapes = [(a.shape, a.dtype) for a in calls[0][0]]
    eager_leaves = [tn.Tensor(np.zeros(*s), requires_grad=backward) for s in shapes]
    leaves = [tn.Tensor(np.zeros(*s), requires_grad=backward) for s in shapes]
    eager_step = step_of(op, names, static, eager_leaves, backward)
    recorded = []  # a side effect: it happens only in the calls that run eagerly

    def traced(*args):
        recorded.append(1)
        return step_of(op, names, static, leaves, backward)(*args)

    compiled = tn.compile(traced)
    raised = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call, (arrays, indices) in enumerate(calls):
            eager = outcome(eager_step, *arguments(arrays, indices, eager_leaves, backward))
            raised.append(isinstance(eager, type))
            got = outcome(compiled, *arguments(arrays, indices, leaves, backward))
            assert_same(eager, got, call)
    messages = [str(w.message) for w in caught if str(w.message).startswith("tn.compile")]
    return len(calls) - len(recorded), messages, raised


def cases(ops, variants, via: str = "") -> list:
    return [
        pytest.param(
            op,
            backward,
            variant,
            id=f"{via}{op.name}-{'backward' if backward else 'forward'}-{variant}",
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_CRASHES[key])]
            if (key := (op.name, backward, variant)) in KNOWN_CRASHES
            else [],
        )
        for op in ops
        for backward in ((False, True) if op.differentiable else (False,))
        for variant in variants
        if variant != "int64" or not backward  # integer leaves cannot require gradients
    ]


# The same op through its Tensor method (x.sort(...), x.max(...)), where the table has one
METHODS = [dataclasses.replace(op, op=op.method) for op in OPS if op.method is not None]


@pytest.mark.parametrize(
    "op, backward, variant", cases(OPS, VARIANTS) + cases(METHODS, ("float64", "0-d"), "method-")
)
def test_every_op_replays_each_calls_values(op, backward, variant):
    if op.name in TABLE_CONSTANTS:
        pytest.skip(TABLE_CONSTANTS[op.name])
    replays, messages, raised = probe(op, backward, variant)
    if op.name in EAGER_BY_DESIGN:  # eager from the call that shows it, with one warning
        assert len(messages) == 1 or any(raised[:3])
        return
    assert messages == []  # no fallback: the calls above were replays
    # A replay was checked (the three first calls agree), unless the op refused one of them.
    assert replays >= 1 or any(raised[:3])


def test_the_lists_of_exceptions_name_ops_of_the_table():
    for name in [*EAGER_BY_DESIGN, *TABLE_CONSTANTS] + [key[0] for key in KNOWN_CRASHES]:
        assert name in OPS_BY_NAME


# -- index arguments: equal in the three first calls, then different -----------------------
T1, T2 = np.array([0, 3, 1]), np.array([2, 0, 3])
INDEX_CALLS = [T1, T1, T1, T2, T2[::-1].copy()]
WEIGHT = np.array([1.0, 0.5, 2.0, 1.5])


def _set_at(x, index):
    out = x * 1.0
    out[index] = 0.0
    return out


INDEX_STEPS = {
    "cross_entropy": lambda x, t: F.cross_entropy(x, t),
    "cross_entropy_weighted": lambda x, t: F.cross_entropy(
        x, t, weight=tn.tensor(WEIGHT), label_smoothing=0.1
    ),
    "nll_loss_ignore_index": lambda x, t: F.nll_loss(x, t, ignore_index=1),
    "multi_margin_loss": lambda x, t: F.multi_margin_loss(x, t, weight=WEIGHT),
    "embedding": lambda x, t: F.embedding(t, x),
    "embedding_padding_idx": lambda x, t: F.embedding(t, x, padding_idx=0),
    "one_hot": lambda x, t: F.one_hot(t, 4) * x,
    "gather": lambda x, t: tn.gather(x, 1, t.reshape(3, 1)),
    "index_select": lambda x, t: tn.index_select(x, 1, t),
    "take_along_dim": lambda x, t: tn.take_along_dim(x, t),
    "scatter": lambda x, t: tn.scatter(x, 1, t.reshape(3, 1), x * 2.0),
    "scatter_add": lambda x, t: tn.scatter_add(x, 1, t.reshape(3, 1), x * 2.0),
    "getitem": lambda x, t: x[t],
    "setitem": _set_at,
    "bincount": lambda x, t: tn.bincount(tn.tensor(t), minlength=4) * x,
    "repeat_interleave": lambda x, t: tn.repeat_interleave(x, t, dim=0),
    "sign_of_integers": lambda x, t: tn.sign(tn.tensor(t) - 1).reshape(3, 1) * x,
    "floor_of_integers": lambda x, t: tn.floor(tn.tensor(t)).reshape(3, 1) * x,
    "clip_of_integers": lambda x, t: tn.clip(tn.tensor(t), 0.5, 2.5).reshape(3, 1) * x,
}


SQUARE = ("getitem", "setitem", "embedding", "embedding_padding_idx")  # indices reach 3


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("name", sorted(INDEX_STEPS))
def test_index_arguments_equal_in_the_first_calls_are_each_calls(name, dtype):
    # What a step derives from its index argument (rows picked, one-hot rows, converted
    # int32 targets, repeat counts) must be each call's, also when the first calls agree.
    fn = INDEX_STEPS[name]

    def step(x, index):
        return fn(x * 1.0, index)

    compiled = tn.compile(step)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # every call records or replays
        for call, index in enumerate(INDEX_CALLS):
            x = rng.normal(size=(4, 4) if name in SQUARE else (3, 4))
            index = index.astype(dtype)
            eager = results(step, tn.Tensor(x), index)
            assert_same(eager, results(compiled, tn.Tensor(x), index), call)


# -- boolean masks given as arguments: equal in the three first calls, then different -------
def _put_a_tensor(mask, x):
    out = x * 1.0
    out[mask] = x.sum() * 0.0 + 7.0  # a Tensor value: recorded as index_put_
    return out


MASK_STEPS = {
    "put_a_tensor": _put_a_tensor,
    "invert": lambda m, x: (~m) * x,
    "and": lambda m, x: (m & (x > 0)) * x,
    "or": lambda m, x: (m | (x > 0)) * x,
    "xor": lambda m, x: (m ^ (x > 0)) * x,
    "sum": lambda m, x: m.sum(1, keepdim=True) * x,
    "float": lambda m, x: m.float() * x,
    "long": lambda m, x: m.long() * x,
    "plus_float": lambda m, x: (m + 0.5) * x,
    "any": lambda m, x: m.any(1, keepdim=True) * x,
    "cumsum": lambda m, x: m.cumsum(1) * x,
    "where": lambda m, x: tn.where(m, x, 0.0),
    "masked_fill": lambda m, x: x.masked_fill(m, 1.0),
    "argmax": lambda m, x: m.long().argmax(1, keepdim=True) * x,
    "sort": lambda m, x: m.long().sort(1).values * x,
}
MASKS = [np.array([[1, 0, 1], [0, 1, 1]], bool)] * 3
MASKS += [np.array([[0, 1, 0], [1, 1, 0]], bool), np.array([[1, 1, 1], [0, 0, 0]], bool)]


@pytest.mark.parametrize("name", sorted(MASK_STEPS))
def test_a_mask_argument_equal_in_the_first_calls_is_each_calls(name):
    def step(mask, x):
        return MASK_STEPS[name](mask, x * 1.0)

    compiled = tn.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # every call records or replays
        for call, mask in enumerate(MASKS):
            x = tn.Tensor(np.random.default_rng(call).normal(size=(2, 3)))
            mask = tn.tensor(mask)
            assert_same(results(step, mask, x), results(compiled, mask, x), call)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin"])
def test_scatter_reduce_finds_each_calls_repeats_and_winners(reduce, include_self):
    # Repeated places (a mean's count, the ties of a maximum) come from the index and the
    # values; 'prod' loops in Python and runs eagerly (test_compile_data_dependent.py).
    def make(w):
        def step(x, index):
            w.grad = None
            y = x * w  # src is y's own first columns: a place's value ties with them
            out = tn.scatter_reduce(y, 1, index, y[:, :3], reduce, include_self=include_self)
            (out * out).sum().backward()
            return out, w.grad

        return step

    step = make(tn.Tensor(np.ones(4), requires_grad=True))
    compiled = tn.compile(make(tn.Tensor(np.ones(4), requires_grad=True)))
    rows = [[0, 0, 1]] * 3 + [[1, 1, 1], [2, 0, 2]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for call, row in enumerate(rows):
            x = tn.Tensor(np.random.default_rng(call).normal(size=(2, 4)))
            index = np.array([row, row[::-1]])
            assert_same(results(step, x, index), results(compiled, x, index), call)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_quantile_levels_given_as_an_argument_are_each_calls(interpolation):
    # The ranks, neighbours and weights quantile derives from q were constants of a replay.
    def step(x, q):
        return tn.quantile(x * 1.0, q, dim=1, interpolation=interpolation)

    compiled = tn.compile(step)
    levels = [[0.3, 0.6]] * 3 + [[0.1, 0.9], [0.2, 0.7]]  # no rank is whole: one branch
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for call, q in enumerate(levels):
            x = tn.Tensor(np.random.default_rng(call).normal(size=(2, 5)))
            q = tn.tensor(q, dtype=np.float64)
            assert_same(results(step, x, q), results(compiled, x, q), call)


@pytest.mark.parametrize(
    "options",
    [
        {"weight": WEIGHT},
        {"weight": WEIGHT, "label_smoothing": 0.1},
        {"weight": WEIGHT, "ignore_index": 1, "reduction": "sum"},
        {"ignore_index": 1},
    ],
    ids=["weight", "weight-smoothing", "weight-ignore_index", "ignore_index"],
)
def test_a_single_samples_target_is_each_calls(options):
    # A 0-d target: NumPy's results on it are scalars (the class weight picked, the kept
    # mask), which a replay reused when they were not arrays.
    kwargs = dict(options, weight=tn.tensor(options["weight"])) if "weight" in options else options

    def step(x, target):
        return F.cross_entropy(x * 1.0, target, **kwargs)

    compiled = tn.compile(step)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the ignored sample's mean is NaN
        for call, target in enumerate([0, 0, 0, 2, 1, 3]):
            x, target = tn.Tensor(rng.normal(size=4)), np.array(target)
            assert_same(results(step, x, target), results(compiled, x, target), call)


# -- values the table's draws never reach ---------------------------------------------------
def test_zero_variance_and_zero_norm_found_at_each_call():
    # Their gradient is 0 where the variance (the norm) is 0, a mask found from values.
    w = tn.Tensor(np.zeros((2, 3)), requires_grad=True)

    def step():
        w.grad = None
        loss = tn.std(w * 1.0, 1).sum() + tn.norm(w * 1.0, 2, dim=1).sum()
        loss.backward()
        return loss, w.grad

    compiled = tn.compile(step)
    for call, rows in enumerate([[1.0, 2.0], [1.5, 2.5], [2.0, 3.0], [0.0, 1.0], [1.0, 0.0]]):
        start = np.array(rows)[:, None] * np.array([1.0, 2.0, 4.0])  # a zero row later
        np.copyto(w.data, start)
        eager = results(step)
        np.copyto(w.data, start)
        assert_same(eager, results(compiled), call)
        assert call < 3 or not np.isnan(eager[1]).any()  # the zero row's gradient is 0


MHA = tn.nn.MultiheadAttention(4, 2, batch_first=True, dtype=np.float64)
Q, K, V = (tn.Tensor(np.random.default_rng(i).normal(size=(2, 3, 4))) for i in range(3))
# (step, mask rows, whether True means "not attended": MultiheadAttention's, not sdpa's)
ATTENTION = {
    "sdpa-attn_mask": (
        lambda m: F.scaled_dot_product_attention(Q * 1.0, K, V, attn_mask=m),
        3,
        False,
    ),
    "mha-attn_mask": (lambda m: MHA(Q * 1.0, K, V, attn_mask=m)[0], 3, True),
    "mha-key_padding_mask": (lambda m: MHA(Q * 1.0, K, V, key_padding_mask=m)[0], 2, True),
}


@pytest.mark.parametrize("name", sorted(ATTENTION))
def test_an_attention_mask_given_as_an_argument_is_each_calls(name):
    # The scores a boolean mask makes are each call's (they were a constant of the program).
    step, rows, blocked = ATTENTION[name]
    compiled = tn.compile(step)
    hidden = [np.zeros((rows, 3), bool)] * 3  # nothing hidden, then some keys of each row
    hidden += [np.triu(np.ones((rows, 3), bool), 1), ~np.eye(rows, 3, dtype=bool)]
    masks = hidden if blocked else [~mask for mask in hidden]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # recorded again, never eager
        for call, mask in enumerate(masks):
            assert_same(results(step, tn.tensor(mask)), results(compiled, tn.tensor(mask)), call)


def test_a_traced_call_that_gives_a_number_runs_the_step_eagerly():
    # A NumPy scalar (a ufunc on 0-d arrays) cannot be followed by the ops that use it: the
    # step runs eagerly, with a warning, rather than replaying the recorded call's.
    from tinynet.autograd import traced_call

    def step(x):
        return tn.where(tn.Tensor(traced_call(np.greater, x.data, 0.0)), x, x * -2.0)

    compiled = tn.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call, value in enumerate([1.0, 2.0, 3.0, -1.0, -2.0]):
            x = tn.tensor(value)
            assert_same(results(step, x), results(compiled, x), call)
    (message,) = [str(w.message) for w in caught if "tn.compile" in str(w.message)]
    assert "the traced call greater gave a bool" in message


def test_draws_from_probabilities_computed_in_the_step_replay_and_check_them():
    # multinomial converted float32 weights to float64 outside its traced draw: a constant
    # that changed with every call, so the step never replayed. The value checks of
    # bernoulli and multinomial are made again at each replay (an invalid call raises).
    def draws(generator):
        def step(x):
            p = tn.softmax(x * 1.0, -1)
            return tn.multinomial(p, 2, generator=generator), tn.bernoulli(p, generator=generator)

        return step

    eager, compiled = draws(np.random.default_rng(0)), tn.compile(draws(np.random.default_rng(0)))
    rows = [[5.0, 0.0, 0.0], [6.0, 0.0, 1.0], [7.0, 1.0, 0.0], [0.0, 0.0, 9.0], [0.0, 9.0, 0.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # replays, never eager
        for call, row in enumerate(rows):
            x = tn.tensor(row)  # float32
            assert_same(results(eager, x), results(compiled, x), call)

    generator = np.random.default_rng(0)
    compiled_draw = tn.compile(lambda scale: tn.bernoulli(scale * 0.5, generator=generator))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for scale in (1.0, 1.5, 1.9):  # the third call replays
            compiled_draw(tn.tensor([scale, 0.0]))
    with pytest.raises(RuntimeError, match=r"probabilities to be in \[0, 1\]"):
        compiled_draw(tn.tensor([3.0, 0.0]))


@pytest.mark.parametrize("make", ["new_zeros", "new_ones", "new_full"])
def test_new_zeros_and_the_like_made_in_the_step_compile_as_tn_zeros(make):
    # They made a NumPy array outside a recorded call: writing into it ran the step eagerly.
    def step(x):
        out = x.new_full((2,), 3.0) if make == "new_full" else getattr(x, make)(2)
        out[0] = x[0] * 2.0
        return out

    compiled = tn.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        outs = [compiled(tn.Tensor(np.arange(2.0) + call)) for call in range(4)]
    for call, out in enumerate(outs):
        assert_same(results(step, tn.Tensor(np.arange(2.0) + call)), [out.data], call)
    assert not np.shares_memory(outs[2].data, outs[3].data)  # each replay's own array


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_a_0d_reduction_over_its_only_axis_replays(reduce):
    # Found by drawing the table's strategies: PyTorch (and eager tinynet) let dim -1 or 0
    # reduce a 0-d tensor.
    def step(x):
        return getattr(tn, reduce)(x * 1.0, axis=-1)

    compiled = tn.compile(step)
    for call, value in enumerate([1.0, 2.0, 3.0, -4.0]):
        x = tn.tensor(value, dtype=np.float64)
        assert_same(results(step, x), results(compiled, x), call)


def test_a_negative_zero_put_through_an_index_keeps_its_sign():
    # Found by drawing the table's strategies (view_put, float32 and float64 alike).
    def step(a, b):
        out = a * 1.0
        out.reshape(-1)[np.arange(0, 4, 2)] = b * 2.0
        return out

    compiled = tn.compile(step)
    for call in range(3):
        a, b = tn.Tensor(np.arange(4.0) + call), tn.Tensor(np.array([-0.0, 5.0 + call]))
        assert_same(results(step, a, b), results(compiled, a, b), call)
