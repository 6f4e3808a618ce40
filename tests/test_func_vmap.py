"""vmap's batched run (tinynet._batching): one call on the whole batch, the loop's values.

Each function is checked against the loop it replaces (``func`` on each slice, stacked)
and the number of calls shows which road vmap took: one call for the batching rules, one
more per element when it fell back to the loop.
"""

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import nn
from tinynet.func import grad, hessian, jacfwd, jacrev, jvp, vjp, vmap
from tinynet.gradcheck import central_differences
from tinynet.testing.opinfo import OPS, sample_inputs

RNG = np.random.default_rng(1)
X = RNG.normal(size=(5, 3))
M = RNG.normal(size=(4, 3))
A = RNG.normal(size=(5, 3, 2))
K = RNG.normal(size=(2, 3, 3))


def counted(f):
    calls = []

    def wrapper(*args):
        calls.append(1)
        return f(*args)

    return wrapper, calls


def loop(f, in_dims, *args):
    """What vmap stands for: ``f`` on each element, the results stacked."""
    size = next(np.shape(a)[d] for a, d in zip(args, in_dims) if d is not None)
    parts = [
        f(*(a if d is None else tn.tensor(np.take(a, i, axis=d)) for a, d in zip(args, in_dims)))
        for i in range(size)
    ]
    return tn.stack(parts)


LINEAR = nn.Linear(3, 2, rng=0).double()

BATCHED = {  # name: (f, in_dims, args)
    "elementwise": (lambda x: (x.exp() * x.sin() + 1).tanh() / (1 + x**2), (0,), (X,)),
    "unary family": (lambda x: F.relu(x) + x.sigmoid() + x.abs().sqrt() + F.elu(x), (0,), (X,)),
    "scalars and clip": (lambda x: (2.0 - x).clip(-0.5, 0.5) ** 3, (0,), (X,)),
    "full sum": (lambda x: x.sum(), (0,), (X,)),
    "mean over an axis": (lambda a: a.mean(axis=0), (0,), (A,)),
    "amax, keepdims": (lambda a: a.amax(axis=-1, keepdims=True), (0,), (A,)),
    "softmax": (lambda a: F.softmax(a, dim=-1), (0,), (A,)),
    "log_softmax": (lambda a: F.log_softmax(a, dim=0), (0,), (A,)),
    "logsumexp": (lambda a: a.logsumexp(axis=0), (0,), (A,)),
    "cumsum": (lambda a: a.cumsum(axis=1), (0,), (A,)),
    "broadcast against a bigger unbatched": (lambda v, m: v * m, (0, None), (X, M)),
    "vector @ matrix": (lambda v, a: v @ a, (0, 0), (X, A)),
    "unbatched matrix @ vector": (lambda m, v: m @ v, (None, 0), (M, X)),
    "dot": (lambda u, v: u @ v, (0, 0), (X, X)),
    "matrix @ matrix": (lambda a, b: a.T @ b, (0, 0), (A, A)),
    "unbatched 3-d @ matrix": (lambda k, a: k @ a, (None, 0), (K, A)),
    "reshape": (lambda a: a.reshape(-1) * 2, (0,), (A,)),
    "transpose": (lambda a: a.T + 0, (0,), (A,)),
    "basic indexing": (lambda a: a[1:, 0] + a[..., -1][None, :2], (0,), (A,)),
    "stack and concatenate": (
        lambda x: tn.cat([tn.stack([x, x * 2], axis=1), x[:, None]], 1),
        (0,),
        (X,),
    ),
    "broadcast_to": (lambda x: x.broadcast_to((2, 3)), (0,), (X,)),
}
ROUNDING = {  # sums in another order than one element's: BLAS's, or over strided memory
    "linear layer": (lambda x: LINEAR(x).tanh(), (0,), (X,)),
    "mapped along axis 1": (lambda c: c * c.sum(), (1,), (A,)),
}


@pytest.mark.parametrize("name", list(BATCHED) + list(ROUNDING))
def test_the_batched_run_gives_the_loops_values_in_one_call(name):
    f, in_dims, args = {**BATCHED, **ROUNDING}[name]
    wrapper, calls = counted(f)
    result = vmap(wrapper, in_dims=in_dims)(*args)
    expected = loop(f, in_dims, *args)
    assert len(calls) == 1, "fell back to the loop"
    assert result.shape == expected.shape and result.dtype == expected.dtype
    if name in ROUNDING:
        np.testing.assert_allclose(result.data, expected.data, rtol=1e-14, atol=1e-15)
    else:
        np.testing.assert_array_equal(result.data, expected.data)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x[x > 0].sum(),  # a comparison reads the values
        lambda x: tn.where(x > 0, x, 0.0),
        lambda x: x * x.sum().item(),
        lambda x: x.max(axis=-1).values,  # max's (values, indices) pair: no rule
        lambda x: F.softplus(x),  # checks its values for its threshold
        lambda x: F.prelu(x.T, tn.tensor([0.1, 0.2, 0.3], dtype=tn.float64)),  # slopes on axis 1
    ],
)
def test_what_has_no_rule_falls_back_to_the_loop(f):
    wrapper, calls = counted(f)
    result = vmap(wrapper)(A)
    assert len(calls) == 1 + len(A)  # the batched try, then the loop
    np.testing.assert_array_equal(result.data, loop(f, (0,), A).data)


def test_errors_of_the_function_come_from_the_loop():
    with pytest.raises(tn.errors.ShapeError, match="add: shapes"):
        vmap(lambda r: r + tn.ones(4, dtype=tn.float64))(X)


def mlp_loss(params, x, y):
    hidden = (x @ params["w1"].T + params["b1"]).tanh()
    return ((hidden @ params["w2"] - y) ** 2).sum()


PARAMS = {"w1": RNG.normal(size=(4, 3)), "b1": RNG.normal(size=4), "w2": RNG.normal(size=4)}


def test_per_sample_gradients_in_one_call_equal_the_loop_and_finite_differences():
    wrapper, calls = counted(mlp_loss)
    y = RNG.normal(size=5)
    grads = vmap(grad(wrapper), in_dims=(None, 0, 0))(PARAMS, X, y)
    assert len(calls) == 1
    for i in range(len(X)):
        single = grad(mlp_loss)(PARAMS, X[i], y[i])
        for key in PARAMS:
            assert grads[key].shape == (5, *PARAMS[key].shape)
            np.testing.assert_allclose(grads[key].data[i], single[key].data, rtol=1e-13)
    numerical = central_differences(  # d loss / d w2 for sample 3
        lambda w2: mlp_loss({**PARAMS, "w2": tn.tensor(w2)}, tn.tensor(X[3]), y[3]).data,
        PARAMS["w2"],
        1e-6,
    )
    np.testing.assert_allclose(grads["w2"].data[3], list(numerical), rtol=1e-7)


def test_per_sample_gradients_of_a_module_in_one_call():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1)).double()
    params = {name: p.detach() for name, p in model.named_parameters()}

    def loss(params, x, y):
        return ((nn.utils.functional_call(model, params, (x,)) - y) ** 2).sum()

    wrapper, calls = counted(loss)
    y = RNG.normal(size=(5, 1))
    grads = vmap(grad(wrapper), in_dims=(None, 0, 0))(params, X, y)
    assert len(calls) == 1
    for i in range(len(X)):
        single = grad(loss)(params, tn.tensor(X[i]), tn.tensor(y[i]))
        for key in params:
            np.testing.assert_allclose(grads[key].data[i], single[key].data, rtol=1e-12)


def test_jacobians_hessians_jvp_and_vjp_inside_vmap_are_per_element():
    def f(x):
        return x.sin() * x.sum()

    for transform in (jacrev, jacfwd):
        wrapper, calls = counted(f)
        jacobians = vmap(transform(wrapper))(X)
        assert len(calls) == 1
        np.testing.assert_allclose(jacobians.data, loop(transform(f), (0,), X).data, rtol=1e-14)
    closed_form = np.stack([np.diag(np.cos(r)) * r.sum() + np.sin(r)[:, None] for r in X])
    np.testing.assert_allclose(vmap(jacrev(f))(X).data, closed_form, rtol=1e-13)
    cube, calls = counted(lambda x: (x**3).sum())
    hessians = vmap(hessian(cube))(X)
    np.testing.assert_allclose(hessians.data, np.stack([np.diag(6 * r) for r in X]))
    wrapper, jvp_calls = counted(f)
    tangents = vmap(lambda x, v: jvp(wrapper, (x,), (v,))[1])(X, M[:1].repeat(5, 0))
    np.testing.assert_allclose(tangents.data, closed_form @ M[0], rtol=1e-13)
    wrapper, vjp_calls = counted(f)
    pulled = vmap(lambda x: vjp(wrapper, x)[1](tn.ones(3, dtype=tn.float64))[0])(X)
    np.testing.assert_allclose(pulled.data, closed_form.sum(axis=1), rtol=1e-13)
    assert len(calls) == len(jvp_calls) == len(vjp_calls) == 1


def test_out_dims_none_means_the_output_does_not_depend_on_the_batch():
    # torch.func's rule: a batched output with out_dim None raises, whatever its values
    with pytest.raises(ValueError, match="can not return a BatchedTensor when out_dim is None"):
        vmap(lambda x: x * 0, out_dims=None)(X)
    w = tn.tensor([1.0, 2.0])
    shared = vmap(lambda x, w: w * 2, in_dims=(0, None), out_dims=None)(X, w)
    assert shared.tolist() == [2.0, 4.0]
    made_inside = vmap(lambda x: tn.arange(3.0), out_dims=None)(X)
    assert made_inside.tolist() == [0.0, 1.0, 2.0]
    repeated = vmap(lambda x: tn.arange(3.0))(X)  # out_dim 0: one copy per element
    np.testing.assert_array_equal(repeated.data, np.tile(np.arange(3.0), (5, 1)))
    pair = vmap(lambda x: (x, "hello"), out_dims=(0, None))(X)
    assert pair[1] == "hello"
    np.testing.assert_array_equal(pair[0].data, X)


def test_results_are_new_tensors_and_carry_gradients_out():
    x = tn.tensor(X, requires_grad=True)
    same = vmap(lambda r: r)(x)
    assert same is not x
    np.testing.assert_array_equal(same.data, X)
    vmap(lambda r: (r**2).sum(), in_dims=0)(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 2 * X)


# -- every op of the OpInfo table, mapped over a batch of its sample ----------------------------
# (as_strided included: each element's memory is its storage, as torch.func's rule)
SWEEP = list(OPS)


def _batch_of_samples(op):
    tensors, kwargs = sample_inputs(op, requires_grad=False)
    factors = (1.0, 0.9, 0.8)  # toward 0: in every op's domain, away from its kinks as before
    batch = [
        np.stack([t.data * f if t.data.dtype.kind == "f" else t.data for f in factors])
        for t in tensors
    ]
    return batch, kwargs


@pytest.mark.parametrize("op", SWEEP, ids=[op.name for op in SWEEP])
def test_every_op_under_vmap_gives_the_loops_values_and_gradients(op):
    batch, kwargs = _batch_of_samples(op)

    def f(*tensors):
        return op.op(*tensors, **kwargs)

    def elements():
        return [[tn.tensor(b[i]) for b in batch] for i in range(len(batch[0]))]

    mapped = vmap(f)(*batch)
    expected = np.stack([f(*element).data for element in elements()])
    assert mapped.shape == expected.shape and mapped.dtype == expected.dtype
    np.testing.assert_allclose(mapped.data, expected, rtol=1e-13, atol=1e-15, equal_nan=True)
    if op.differentiable and batch[0].dtype.kind == "f":

        def total(*tensors):
            return f(*tensors).sum()

        per_element = vmap(grad(total))(*batch)
        expected = np.stack([grad(total)(*element).data for element in elements()])
        np.testing.assert_allclose(per_element.data, expected, rtol=1e-12, atol=1e-14)


def test_per_sample_gradients_of_a_small_cnn_in_one_call():
    images = RNG.normal(size=(4, 1, 2, 6, 6))  # 4 examples, each a batch of one 2x6x6 image
    params = {"conv": RNG.normal(size=(3, 2, 3, 3)), "fc": RNG.normal(size=(1, 27))}

    def loss(params, image):
        features = F.avg_pool2d(F.relu(F.conv2d(image, params["conv"], padding=1)), 2)
        return F.linear(features.reshape(1, -1), params["fc"]).tanh().sum()

    wrapper, calls = counted(loss)
    grads = vmap(grad(wrapper), in_dims=(None, 0))(params, images)
    assert len(calls) == 1
    for i in range(len(images)):
        single = grad(loss)(params, images[i])
        for key in params:
            np.testing.assert_allclose(grads[key].data[i], single[key].data, rtol=1e-12)


def test_one_hot_cross_entropy_gives_cross_entropys_per_sample_gradients_in_one_call():
    model = nn.Sequential(nn.Linear(3, 8, rng=0), nn.ReLU(), nn.Linear(8, 4, rng=1)).double()
    params = {name: p.detach() for name, p in model.named_parameters()}
    labels = np.array([0, 3, 1, 1, 2])

    def one_hot_loss(params, x, one_hot):
        logits = nn.utils.functional_call(model, params, (x,))
        return -(F.log_softmax(logits, dim=-1) * one_hot).sum()

    def cross_entropy(params, x, label):  # checks its class indices: the loop
        return F.cross_entropy(nn.utils.functional_call(model, params, (x[None],)), label[None])

    wrapper, calls = counted(one_hot_loss)
    fast = vmap(grad(wrapper), in_dims=(None, 0, 0))(params, X, np.eye(4)[labels])
    looped = vmap(grad(cross_entropy), in_dims=(None, 0, 0))(params, X, tn.tensor(labels))
    assert len(calls) == 1
    for key in params:
        np.testing.assert_allclose(fast[key].data, looped[key].data, rtol=1e-12, atol=1e-15)


# -- as_strided: each element's memory is its own storage (torch.func's rule) ------------------
def test_as_strided_under_vmap_strides_over_each_elements_memory_as_on_the_element_alone():
    batch = np.arange(24.0).reshape(3, 2, 4)

    def windows(x):
        return tn.as_strided(x, (3, 2), (2, 1), 1)  # an explicit offset, from the start

    def tail(x):
        return tn.as_strided(x[1], (2, 2), (1, 1))  # the default offset: the view's own

    for f in (windows, tail):
        mapped = vmap(f)(batch)
        alone = np.stack([f(tn.tensor(batch[i].copy())).data for i in range(3)])
        np.testing.assert_array_equal(mapped.data, alone)
        per_element = vmap(grad(lambda x, f=f: (f(x) ** 2).sum()))(batch)
        expected = [grad(lambda x, f=f: (f(x) ** 2).sum())(batch[i].copy()).data for i in range(3)]
        np.testing.assert_array_equal(per_element.data, np.stack(expected))
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 64"):
        vmap(lambda x: tn.as_strided(x, (3,), (4,), 0))(batch)  # 9 > 8 elements: not the next one


def test_as_strided_under_nested_vmap_counts_in_the_innermost_element():
    batch = np.arange(24.0).reshape(2, 3, 4)
    mapped = vmap(vmap(lambda row: tn.as_strided(row, (2,), (2,), 1)))(batch)
    np.testing.assert_array_equal(mapped.data, batch[:, :, 1::2])


def test_as_strided_under_vmap_of_a_non_leading_dimension_raises_naming_the_fix():
    with pytest.raises(RuntimeError, match=r"not one C-ordered block.*in_dims=0"):
        vmap(lambda column: tn.as_strided(column, (2,), (1,), 0), in_dims=1)(np.ones((3, 4)))


def test_a_batch_of_size_0_raises_naming_the_function():
    # docs/from-pytorch.md: there is no call to learn the output's shape from.
    def double(x):
        return x * 2

    with pytest.raises(ValueError, match=r"vmap\(double, \.\.\.\).*batch of size 0"):
        vmap(double)(tn.zeros(0, 3))
