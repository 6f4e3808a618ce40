"""The API added for PyTorch users, audited against PyTorch's documented behaviour: where a
PyTorch habit meets tinynet it does what PyTorch does, or fails (or warns) with one line.

Expected values come from NumPy, closed forms or PyTorch's documented rules, never PyTorch.
"""

import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import optim
from tinynet.data import TensorDataset, random_split
from tinynet.func import grad
from tinynet.optim import lr_scheduler


# -- data ---------------------------------------------------------------------------------------
def test_random_split_takes_pytorchs_generator_keyword():
    data = TensorDataset(np.arange(10))
    by_generator = [list(s.indices) for s in random_split(data, [0.7, 0.3], generator=3)]
    by_rng = [list(s.indices) for s in random_split(data, [0.7, 0.3], rng=3)]
    positional = [list(s.indices) for s in random_split(data, [0.7, 0.3], 3)]
    assert by_generator == by_rng == positional
    assert sorted(by_generator[0] + by_generator[1]) == list(range(10))
    with pytest.raises(ValueError, match="generator= or rng="):
        random_split(data, [5, 5], generator=0, rng=0)


def test_random_split_warns_of_an_empty_split_as_pytorch():
    data = TensorDataset(np.arange(2))
    with pytest.warns(UserWarning, match="split 2 of 2 samples gets none"):
        parts = random_split(data, [0.4, 0.4, 0.2], generator=0)
    assert [len(p) for p in parts] == [1, 1, 0]  # floor(0.8) = 0 each, remainder to the first
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        random_split(data, [1, 1], generator=0)  # counts: no warning


# -- reductions of empty tensors ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["amax", "amin", "max", "min"])
def test_an_extreme_over_non_empty_axes_of_an_empty_tensor_is_empty(name):
    reduce = getattr(tn, name)
    x = tn.zeros((0, 3), requires_grad=True)
    out = reduce(x, dim=1)
    expected = getattr(np.zeros((0, 3)), "max" if "max" in name else "min")(axis=1)
    assert out.shape == expected.shape == (0,)
    assert reduce(x, dim=1, keepdim=True).shape == (0, 1)
    reduce(x, dim=1).sum().backward()
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("name", ["amax", "amin", "max", "min"])
def test_an_extreme_with_nothing_to_pick_raises_pytorchs_errors(name):
    reduce = getattr(tn, name)
    x = tn.zeros((0, 3))
    with pytest.raises(IndexError, match="reduction dim 0 to have non-zero size"):
        reduce(x, dim=0)
    with pytest.raises(RuntimeError, match="give the axis to reduce with dim="):
        reduce(x)
    with pytest.raises(ValueError):  # the ValueError this raised before, kept
        reduce(x)


# -- losses ---------------------------------------------------------------------------------------
def test_kl_div_warns_that_mean_is_not_the_divergence_as_pytorch():
    log_q, p = tn.tensor(np.log([[0.25, 0.75]])), tn.tensor([[0.5, 0.5]])
    with pytest.warns(UserWarning, match="reduction='batchmean'"):
        mean = F.kl_div(log_q, p)  # PyTorch's default
    with pytest.warns(UserWarning, match="reduction='batchmean'"):
        nn.KLDivLoss()(log_q, p)
    terms = 0.5 * (np.log(0.5) - np.log([0.25, 0.75]))
    assert mean.item() == pytest.approx(terms.mean())  # per element, as documented
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F.kl_div(log_q, p, reduction="batchmean").item() == pytest.approx(terms.sum())
        F.kl_div(log_q, p, reduction="sum")
        F.kl_div(log_q, p, reduction="none")


def test_a_class_target_out_of_range_names_ignore_index_only_where_there_is_one():
    with pytest.raises(IndexError) as error:
        F.multi_margin_loss(tn.zeros((1, 2)), tn.tensor([2]))
    assert "valid: 0 to 1)" in str(error.value) and "ignore_index" not in str(error.value)
    with pytest.raises(IndexError, match=r"valid: 0 to 1, or ignore_index"):
        F.cross_entropy(tn.zeros((1, 2)), tn.tensor([2]))


# -- schedulers -----------------------------------------------------------------------------------
def _sgd(lr: float = 1.0) -> optim.SGD:
    return optim.SGD([nn.Parameter(np.array([1.0], np.float32))], lr=lr)


def test_get_lr_outside_step_warns_as_pytorch_and_step_does_not():
    opt = _sgd()
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    keys = set(scheduler.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            opt.step()
            scheduler.step()
    assert scheduler.get_last_lr() == [0.5]  # base 1.0 times 0.5 at epoch 2
    with pytest.warns(UserWarning, match=r"get_last_lr\(\)"):
        again = scheduler.get_lr()
    assert again == [0.25]  # the chainable form applied twice: why PyTorch warns
    assert scheduler.get_last_lr() == [0.5] and set(scheduler.state_dict()) == keys


@pytest.mark.parametrize(
    "make",
    [
        lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.5),
        lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=3),
        lambda opt: lr_scheduler.LambdaLR(opt, lambda epoch: 0.5**epoch),
        lambda opt: lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.5),
        lambda opt: lr_scheduler.MultiStepLR(opt, [1, 2]),
        lambda opt: lr_scheduler.ConstantLR(opt),
        lambda opt: lr_scheduler.LinearLR(opt),
        lambda opt: lr_scheduler.PolynomialLR(opt),
        lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2),
        lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5),
        lambda opt: lr_scheduler.CyclicLR(opt, 0.1, 1.0, step_size_up=2),
        lambda opt: lr_scheduler.SequentialLR(
            opt,
            [lr_scheduler.ConstantLR(opt, total_iters=1), lr_scheduler.ExponentialLR(opt, 0.5)],
            milestones=[1],
        ),
        lambda opt: lr_scheduler.ChainedScheduler(
            [lr_scheduler.ConstantLR(opt, total_iters=1), lr_scheduler.ExponentialLR(opt, 0.5)]
        ),
    ],
)
def test_every_schedulers_get_lr_warns_only_when_called_by_hand(make):
    opt = optim.SGD([nn.Parameter(np.array([1.0], np.float32))], lr=1.0, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler = make(opt)
        for _ in range(3):
            opt.step()
            scheduler.step()
    inner = getattr(scheduler, "_schedulers", [scheduler])[-1]  # a scheduler of schedulers
    with pytest.warns(UserWarning, match="outside scheduler.step"):
        inner.get_lr()


# -- torch.func -----------------------------------------------------------------------------------
def test_grad_of_a_non_scalar_function_is_pytorchs_runtime_error():
    x = tn.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar Tensor output"):
        grad(lambda t: t * 2)(x)
    with pytest.raises(ValueError):  # as before
        grad(lambda t: 2.0)(x)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_of_an_empty_tensor_follows_the_extremes(name):
    x = tn.zeros((0, 3))
    reduce = getattr(tn, name)
    assert reduce(x, dim=1).shape == np.argmax(np.zeros((0, 3)), axis=1).shape == (0,)
    assert getattr(x, name)(-1, keepdim=True).shape == (0, 1)
    with pytest.raises(IndexError, match="reduction dim 0 to have non-zero size"):
        reduce(x, dim=0)
    with pytest.raises(RuntimeError, match="give the axis to reduce with dim="):
        reduce(x)


# -- top-level functions --------------------------------------------------------------------------
def test_isclose_and_allclose_refuse_a_negative_tolerance_as_pytorch():
    one = tn.ones(1)
    for close in (tn.isclose, tn.allclose):
        with pytest.raises(RuntimeError, match="rtol must be greater than or equal to zero"):
            close(one, one, rtol=-1.0)
        with pytest.raises(RuntimeError, match="atol must be greater than or equal to zero"):
            close(one, one, atol=-1e-3)
    assert tn.isclose(one, one + 1e-6, rtol=0.0, atol=1e-5).tolist() == [True]


def test_broadcast_tensors_takes_tensors_not_a_list_as_pytorch():
    with pytest.raises(TypeError, match=r"broadcast_tensors\(\*tensors\)"):
        tn.broadcast_tensors([tn.ones(2), tn.ones(1)])
    (alone,) = tn.broadcast_tensors(tn.ones(2))
    assert alone.shape == (2,)


# -- padding --------------------------------------------------------------------------------------
def test_pad_refuses_a_value_for_the_modes_that_take_none_as_pytorch():
    x = tn.arange(4.0).reshape(1, 1, 4)
    for mode in ("reflect", "replicate", "circular"):
        with pytest.raises(RuntimeError, match=f"mode '{mode}' takes no value"):
            F.pad(x, (1, 1), mode=mode, value=1.0)
        assert F.pad(x, (1, 1), mode=mode, value=None).shape == (1, 1, 6)
        assert F.pad(x, (1, 1), mode=mode, value=0.0).shape == (1, 1, 6)  # PyTorch: 0 is allowed
    expected = np.pad(np.arange(4.0), 1, constant_values=2.5)
    np.testing.assert_array_equal(F.pad(x, (1, 1), value=2.5).data[0, 0], expected)
    np.testing.assert_array_equal(
        F.pad(x, (1, 1), value=None).data[0, 0], np.pad(np.arange(4.0), 1)
    )


def test_impossible_pad_widths_are_pytorchs_runtime_error():
    x = tn.arange(4.0).reshape(1, 1, 4)
    for call in (
        lambda: F.pad(x, (4, 4), mode="reflect"),  # widths must stay below the length
        lambda: nn.ReflectionPad1d(4)(x),
        lambda: F.pad(x, (1, 1, 1)),  # an odd number of widths
        lambda: F.pad(x, (-3, -3)),  # crops more than there is
    ):
        with pytest.raises(RuntimeError):
            call()
        with pytest.raises(ValueError):  # as before
            call()


# -- named results --------------------------------------------------------------------------------
def test_linalg_results_are_named_as_pytorchs():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    A = tn.tensor(a)
    sign, logabsdet = tn.linalg.slogdet(A)  # still unpacks
    result = tn.linalg.slogdet(A)
    assert result.sign is result[0] and result.logabsdet is result[1]
    assert (result.sign.item(), result.logabsdet.item()) == pytest.approx(np.linalg.slogdet(a))
    eigh = tn.linalg.eigh(A)
    np.testing.assert_allclose(eigh.eigenvalues.data, np.linalg.eigvalsh(a))
    assert eigh.eigenvectors is eigh[1]
    qr = tn.linalg.qr(A)
    np.testing.assert_allclose((qr.Q @ qr.R).data, a, atol=1e-12)
    svd = tn.linalg.svd(A)
    np.testing.assert_allclose(svd.S.data, np.linalg.svd(a, compute_uv=False))
    np.testing.assert_allclose((svd.U * svd.S.unsqueeze(0) @ svd.Vh).data, a, atol=1e-12)
    assert A.slogdet().logabsdet.item() == pytest.approx(np.log(5.0))


def test_vmap_and_compile_keep_values_indices_results():
    x = tn.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    mapped = tn.func.vmap(tn.sort)(x)
    np.testing.assert_array_equal(mapped.values.data, np.sort(x.data, axis=1))
    np.testing.assert_array_equal(mapped.indices.data, np.argsort(x.data, axis=1, kind="stable"))
    top = tn.func.vmap(lambda row: tn.topk(row, 2))(x)
    assert top.values.tolist() == [[3.0, 2.0], [5.0, 4.0]] and top.indices.tolist() == [
        [0, 2],
        [1, 2],
    ]
    compiled = tn.compile(lambda t: tn.sort(t, dim=1, descending=True))
    eager = tn.sort(x, dim=1, descending=True)
    for _ in range(3):  # record, then replay
        replayed = compiled(x)
        np.testing.assert_array_equal(replayed.values.data, eager.values.data)
        np.testing.assert_array_equal(replayed.indices.data, eager.indices.data)
    slogdet = tn.compile(lambda t: tn.linalg.slogdet(t @ t.mT + tn.eye(2)))
    for _ in range(3):
        replayed = slogdet(x)
        assert type(replayed).__name__ == "SlogdetResult"
        assert replayed.logabsdet.item() == tn.linalg.slogdet(x @ x.mT + tn.eye(2)).logabsdet.item()


def test_median_of_an_empty_tensor_is_nan_as_pytorch_and_quantile_raises():
    x = tn.zeros(0, requires_grad=True)
    median = tn.median(x)
    assert median.shape == () and np.isnan(median.item()) and median.dtype == np.float32
    median.backward()
    assert x.grad.shape == (0,)
    values, indices = tn.median(tn.zeros((0, 3)), dim=1)  # non-empty reduced axis: empty
    assert values.shape == indices.shape == (0,)
    with pytest.raises(IndexError, match="reduction dim 0 to have non-zero size"):
        tn.median(tn.zeros((0, 3)), dim=0)
    with pytest.raises(RuntimeError, match="quantile of an empty tensor"):
        tn.quantile(tn.zeros(0), 0.5)
    with pytest.raises(ValueError):  # as before
        tn.quantile(tn.zeros(0), 0.5)


def test_cdist_refuses_an_unknown_compute_mode_as_pytorch():
    a, b = tn.tensor([[0.0, 0.0]]), tn.tensor([[3.0, 4.0]])
    with pytest.raises(ValueError, match="'fast' is not a compute_mode"):
        tn.cdist(a, b, compute_mode="fast")
    for mode in (
        None,
        "use_mm_for_euclid_dist_if_necessary",
        "use_mm_for_euclid_dist",
        "donot_use_mm_for_euclid_dist",
    ):
        assert tn.cdist(a, b, compute_mode=mode).tolist() == [[5.0]]


def test_asking_for_more_than_there_is_is_pytorchs_runtime_error():
    from tinynet.data import WeightedRandomSampler

    for call in (
        lambda: tn.topk(tn.ones((2, 3)), 4),
        lambda: list(WeightedRandomSampler([0.0, 1.0, 1.0], 3, replacement=False)),
        lambda: tn.multinomial(tn.tensor([0.0, 1.0, 1.0]), 3),
    ):
        with pytest.raises(RuntimeError):
            call()
    with pytest.raises(ValueError):  # as before, for the NumPy-minded
        tn.topk(tn.ones(3), 4)


# -- dtype refusals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: tn.cdist(tn.ones((2, 2), dtype=tn.int64), tn.ones((2, 2), dtype=tn.int64)),
        lambda: F.pairwise_distance(tn.tensor([[1, 2]]), tn.tensor([[1, 2]])),
        lambda: tn.frac(tn.tensor([1, 2])),
        lambda: tn.gather(tn.ones((2, 2)), 1, tn.zeros((2, 1))),
        lambda: tn.masked_fill(tn.ones(2), tn.tensor([1.0, 0.0]), 0.0),
        lambda: tn.repeat_interleave(tn.ones(2), tn.tensor([1.0, 2.0]), dim=0),
        lambda: tn.cov(tn.ones((2, 3)), fweights=tn.tensor([1.0, 2.0, 1.0])),
        lambda: F.margin_ranking_loss(tn.tensor([1]), tn.tensor([2]), tn.tensor([1])),
        lambda: F.cross_entropy(tn.zeros((2, 3)), tn.tensor([0.0, 1.0])),
        lambda: F.embedding(tn.tensor([0.0]), tn.ones((2, 2))),
    ],
)
def test_a_dtype_an_op_does_not_take_is_pytorchs_runtime_error_and_still_a_type_error(call):
    with pytest.raises(RuntimeError):  # PyTorch: "... not implemented for 'Long'" and kin
        call()
    with pytest.raises(TypeError):
        call()
    with pytest.raises(tn.DTypeError):
        call()


# -- randomness -------------------------------------------------------------------------------------
def test_manual_seed_takes_pytorchs_64_bit_range_negative_seeds_included():
    tn.manual_seed(-1)  # PyTorch reads it as its two's complement, 2**64 - 1
    assert tn.initial_seed() == 2**64 - 1
    drawn = tn.rand(3).tolist()
    tn.manual_seed(2**64 - 1)
    assert tn.rand(3).tolist() == drawn
    tn.manual_seed(-(2**63))
    assert tn.initial_seed() == 2**63
    for out_of_range in (2**64, -(2**63) - 1):
        with pytest.raises(ValueError, match=r"\[-2\*\*63, 2\*\*64\)"):
            tn.manual_seed(out_of_range)
    tn.manual_seed(0)


# -- 0-d tensors --------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, -1, (0,), [-1]])
@pytest.mark.parametrize(
    "reduce, value, slope",
    [
        (lambda s, d: s.sum(d), 3.0, 1.0),
        (lambda s, d: s.mean(d), 3.0, 1.0),
        (lambda s, d: s.prod(d), 3.0, 1.0),
        (lambda s, d: tn.amax(s, d), 3.0, 1.0),
        (lambda s, d: s.max(d), 3.0, 1.0),
        (lambda s, d: tn.logsumexp(s, d), 3.0, 1.0),  # log(exp(3)) of one element
        (lambda s, d: tn.norm(s, dim=d), 3.0, 1.0),
        (lambda s, d: s.var(d, correction=0), 0.0, 0.0),
        (lambda s, d: F.softmax(s, d if isinstance(d, int) else d[0]), 1.0, 0.0),
        (lambda s, d: F.log_softmax(s, d if isinstance(d, int) else d[0]), 0.0, 0.0),
    ],
)
def test_a_0d_tensor_reduces_over_dim_0_or_minus_1_as_pytorch(reduce, value, slope, dim):
    s = tn.tensor(3.0, requires_grad=True)
    out = reduce(s, dim)
    assert out.shape == () and out.item() == pytest.approx(value)
    out.backward()
    assert s.grad.item() == pytest.approx(slope)


def test_a_0d_tensor_still_has_no_dim_1_and_counts_as_one_element():
    s = tn.tensor(3.0)
    assert tn.count_nonzero(s, 0).item() == 1 and tn.count_nonzero(tn.tensor(0.0), -1).item() == 0
    assert s.sum(0, keepdim=True).shape == ()  # nothing reduced: nothing to keep
    assert np.isnan(s.var(0).item())  # no degrees of freedom left, as PyTorch
    with pytest.raises(IndexError, match="dim 0 or -1"):
        s.sum(1)


# -- values out of an argument's range ----------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: tn.cdist(tn.ones((1, 2)), tn.ones((1, 2)), p=-1.0),
        lambda: tn.cov(tn.ones((2, 3)), aweights=tn.tensor([1.0, -1.0, 1.0])),
        lambda: tn.cov(tn.ones((2, 3)), fweights=tn.tensor([1, -1, 1])),
        lambda: tn.searchsorted(tn.tensor([1, 3]), tn.tensor([2]), side="middle"),
        lambda: tn.quantile(tn.tensor([1.0, 2.0]), 1.5),
        lambda: F.cross_entropy(tn.zeros((1, 3)), tn.tensor([0]), label_smoothing=1.5),
        lambda: F.binary_cross_entropy(tn.tensor([1.5]), tn.tensor([1.0])),
        lambda: F.huber_loss(tn.zeros(1), tn.ones(1), delta=0.0),
        lambda: nn.HuberLoss(delta=-1.0),
    ],
)
def test_a_value_out_of_range_is_pytorchs_runtime_error_and_still_a_value_error(call):
    from tinynet.errors import ArgumentError

    with pytest.raises(RuntimeError):  # as PyTorch's checks raise
        call()
    with pytest.raises(ValueError):  # as before
        call()
    with pytest.raises(ArgumentError):
        call()


def test_where_with_the_condition_alone_gives_its_indices_as_pytorch():
    # torch.where(condition) is torch.nonzero(condition, as_tuple=True).
    condition = np.array([[True, False, True], [False, False, True]])
    found = tn.where(tn.tensor(condition))
    assert isinstance(found, tuple) and len(found) == 2
    for index, expected in zip(found, np.nonzero(condition)):
        assert index.dtype == np.int64 and index.tolist() == expected.tolist()
    assert [i.tolist() for i in tn.where(tn.tensor(True))] == [[0]]
    with pytest.raises(TypeError, match="both a and b, or neither"):
        tn.where(tn.tensor(condition), 1.0)
