"""``inplace=True`` in ``nn.functional`` and the activation modules writes into the input, as
PyTorch's (``F.relu(x, inplace=True)`` is ``torch.relu_(x)``; the modules call the functional
with their flag), with the rules of every in-place op: the values and gradients of the
out-of-place form (checked by finite differences), the input returned, its version bumped, a
leaf that requires grad refused, a graph that saved the old values refusing backward."""

import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import optim

# Away from every kink (0, +-1, +-3, 6), so central differences are exact enough.
POINTS = np.array([[-3.7, -2.2, -0.6, 0.4], [1.3, 2.5, 4.1, 7.0]])

# (PyTorch's in-place name, the functional, its arguments before inplace)
FUNCTIONS = [
    ("relu_", F.relu, ()),
    ("leaky_relu_", F.leaky_relu, (0.2,)),
    ("elu_", F.elu, (0.7,)),
    ("celu_", F.celu, (0.5,)),
    ("selu_", F.selu, ()),
    ("silu_", F.silu, ()),
    ("mish_", F.mish, ()),
    ("relu6_", F.relu6, ()),
    ("hardtanh_", F.hardtanh, (-2.0, 1.5)),
    ("hardsigmoid_", F.hardsigmoid, ()),
    ("hardswish_", F.hardswish, ()),
]
IDS = [name for name, _, _ in FUNCTIONS]


def points(requires_grad=False, dtype=np.float64):
    return tn.Tensor(POINTS.astype(dtype), requires_grad=requires_grad)


@pytest.mark.parametrize(("name", "function", "args"), FUNCTIONS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inplace_overwrites_the_input_with_the_out_of_place_values(name, function, args, dtype):
    x = points(dtype=dtype)
    expected = function(points(dtype=dtype), *args)
    assert x.version == 0
    result = function(x, *args, inplace=True)
    assert result is x  # PyTorch returns the input itself
    assert x.dtype == expected.dtype == dtype  # no silent dtype change
    np.testing.assert_array_equal(x.data, expected.data)
    assert not np.array_equal(x.data, POINTS.astype(dtype))  # really written
    assert x.version == 1
    # The same by keyword and under no_grad (no graph, still a counted write).
    y = points(requires_grad=True, dtype=dtype)
    with tn.no_grad():
        assert function(y, *args, inplace=True) is y
    np.testing.assert_array_equal(y.data, expected.data)
    assert y.version == 1 and y.is_leaf


@pytest.mark.parametrize(("name", "function", "args"), FUNCTIONS, ids=IDS)
def test_inplace_gradients_are_the_out_of_place_ones_to_second_order(name, function, args):
    x = points(requires_grad=True)

    def through_inplace(t):
        hidden = t * 1.0  # a non-leaf: writing a leaf that requires grad is refused
        return function(hidden, *args, inplace=True)

    assert tn.gradcheck(through_inplace, (x,))
    assert tn.gradgradcheck(through_inplace, (x,))
    (through_inplace(x) ** 2).sum().backward()
    inplace_grad = x.grad.data.copy()
    x.grad = None
    (function(x, *args) ** 2).sum().backward()
    np.testing.assert_array_equal(inplace_grad, x.grad.data)


@pytest.mark.parametrize(("name", "function", "args"), FUNCTIONS, ids=IDS)
def test_at_the_kinks_inplace_derivatives_are_the_out_of_place_ones_at_both_orders(
    name, function, args
):
    kinks = np.array([-3.0, -2.0, -1.0, 0.0, 1.0, 1.5, 3.0, 6.0])  # each function's kinks

    def derivatives(inplace):
        x = tn.Tensor(kinks.copy(), requires_grad=True)
        hidden = x * 1.0
        out = function(hidden, *args, inplace=True) if inplace else function(hidden, *args)
        (first,) = tn.grad(out.sum(), x, create_graph=True)
        if not first.requires_grad:  # piecewise linear: the first derivative is constant
            return first.data, None
        (second,) = tn.grad(first.sum(), x)
        return first.data, second.data

    (first, second), (plain_first, plain_second) = derivatives(True), derivatives(False)
    np.testing.assert_array_equal(first, plain_first)
    if plain_second is None:
        assert second is None
    else:
        np.testing.assert_array_equal(second, plain_second)


@pytest.mark.parametrize(("name", "function", "args"), FUNCTIONS, ids=IDS)
def test_inplace_on_a_leaf_that_requires_grad_raises_pytorchs_error(name, function, args):
    x = points(requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=rf"a leaf Variable that requires grad is being used in an in-place operation "
        rf"\({name}\).*tn.no_grad",
    ):
        function(x, *args, inplace=True)
    np.testing.assert_array_equal(x.data, POINTS)  # nothing written
    assert x.version == 0


@pytest.mark.parametrize(("name", "function", "args"), FUNCTIONS, ids=IDS)
def test_inplace_on_a_tensor_an_earlier_op_saved_makes_backward_raise(name, function, args):
    # PyTorch raises here too: mul saves both factors, and y is written after it did.
    x = points(requires_grad=True)
    y = x * 2.0
    z = y * y
    function(y, *args, inplace=True)
    with pytest.raises(RuntimeError, match=rf"modified by an inplace operation.*by {name}"):
        z.sum().backward()
    # Through the written tensor itself, the gradient is still right.
    x.grad = None
    y = x * 2.0
    (function(y, *args, inplace=True) * 3.0).sum().backward()
    reference = points(requires_grad=True)
    (function(reference * 2.0, *args) * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, reference.grad.data)


@pytest.mark.parametrize(("name", "function", "args"), FUNCTIONS, ids=IDS)
def test_inplace_refuses_what_it_cannot_write_into(name, function, args):
    with pytest.raises(TypeError, match=rf"{name}\(\): inplace=True .* must be a Tensor, got list"):
        function([1.0, -2.0], *args, inplace=True)
    with pytest.raises(TypeError, match="got ndarray; pass a tn.Tensor or use inplace=False"):
        function(POINTS.copy(), *args, inplace=True)
    # A view of a leaf that requires grad: refused with PyTorch's error.
    x = points(requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"a view of a leaf Variable .* \({name}\)"):
        function(x.reshape(-1), *args, inplace=True)


@pytest.mark.parametrize(("name", "function", "args"), FUNCTIONS, ids=IDS)
def test_inplace_on_a_view_in_a_graph_rewrites_its_base_as_pytorch(name, function, args):
    # PyTorch's CopySlices: the base's gradient flows through the in-place op on the view.
    x = points(requires_grad=True)

    def through_a_view(t):
        h = t * 1.0
        function(h.reshape(-1)[2:6], *args, inplace=True)
        return h

    assert tn.gradcheck(through_a_view, (x,))


# -- dropout: PyTorch's dropout_ ---------------------------------------------------------------
def test_dropout_inplace_in_training_multiplies_the_input_by_the_mask():
    expected = F.dropout(tn.ones(4, 5), 0.4, rng=3)
    x = tn.ones(4, 5)
    assert F.dropout(x, 0.4, rng=3, inplace=True) is x
    np.testing.assert_array_equal(x.data, expected.data)
    assert set(np.unique(x.data).tolist()) == {0.0, np.float32(1 / 0.6)}
    assert x.version == 1 and x.dtype == tn.float32


def test_dropout_inplace_gradient_is_the_mask_and_checks_by_finite_differences():
    x = points(requires_grad=True)

    def through_inplace(t):
        return F.dropout(t * 1.0, 0.5, rng=11, inplace=True)  # the same mask at every call

    assert tn.gradcheck(through_inplace, (x,))
    assert tn.gradgradcheck(through_inplace, (x,))
    through_inplace(x).sum().backward()
    mask = F.dropout(tn.ones(*POINTS.shape, dtype=tn.float64), 0.5, rng=11)
    np.testing.assert_array_equal(x.grad.data, mask.data)


def test_dropout_inplace_in_eval_or_with_p_0_returns_the_input_untouched():
    # PyTorch's dropout_ returns its input as it is when not training or p == 0: no write.
    for training, p in ((False, 0.5), (True, 0.0)):
        x = points()
        assert F.dropout(x, p, training, rng=0, inplace=True) is x
        np.testing.assert_array_equal(x.data, POINTS)
        assert x.version == 0
    module, x = nn.Dropout(0.5, rng=0, inplace=True).eval(), points()
    assert module(x) is x and x.version == 0


def test_dropout_inplace_with_p_1_zeroes_the_input_and_its_gradient():
    x = points(requires_grad=True)
    hidden = x * 1.0
    assert F.dropout(hidden, 1.0, inplace=True) is hidden
    np.testing.assert_array_equal(hidden.data, np.zeros_like(POINTS))
    assert hidden.version == 1
    hidden.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros_like(POINTS))


def test_dropout_inplace_errors_are_those_of_every_inplace_op():
    with pytest.raises(RuntimeError, match=r"leaf Variable .* in-place operation \(dropout_\)"):
        F.dropout(points(requires_grad=True), 0.5, rng=0, inplace=True)
    with pytest.raises(TypeError, match=r"dropout_\(\): inplace=True .* got list"):
        F.dropout([1.0, 2.0], 0.5, rng=0, inplace=True)
    x = points(requires_grad=True)
    y = x * 2.0
    z = y * y
    F.dropout(y, 0.5, rng=0, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*by dropout_"):
        z.sum().backward()


# -- the module forms: PyTorch's forward is F.<name>(input, ..., inplace=self.inplace) ---------
MODULES = [
    (nn.ReLU(inplace=True), nn.ReLU()),
    (nn.LeakyReLU(0.2, inplace=True), nn.LeakyReLU(0.2)),
    (nn.ELU(0.7, inplace=True), nn.ELU(0.7)),
    (nn.CELU(0.5, inplace=True), nn.CELU(0.5)),
    (nn.SELU(inplace=True), nn.SELU()),
    (nn.SiLU(inplace=True), nn.SiLU()),
    (nn.Mish(inplace=True), nn.Mish()),
    (nn.ReLU6(inplace=True), nn.ReLU6()),
    (nn.Hardtanh(-2.0, 1.5, inplace=True), nn.Hardtanh(-2.0, 1.5)),
    (nn.Hardsigmoid(inplace=True), nn.Hardsigmoid()),
    (nn.Hardswish(inplace=True), nn.Hardswish()),
    (nn.Dropout(0.3, rng=5, inplace=True), nn.Dropout(0.3, rng=5)),
]


@pytest.mark.parametrize(("inplace", "plain"), MODULES, ids=[type(m).__name__ for m, _ in MODULES])
def test_an_inplace_module_trains_exactly_as_the_plain_one_and_writes_its_input(inplace, plain):
    def run(activation):
        tn.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 5, rng=0, dtype=tn.float64), activation)
        model.append(nn.Linear(5, 2, rng=1, dtype=tn.float64))
        hidden = model[0](tn.Tensor(POINTS[:, :3]))
        before = hidden.data.copy()
        written = activation(hidden)
        loss = (model[2](written) ** 2).sum()
        loss.backward()
        grads = [p.grad.data.copy() for p in model.parameters()]
        return written is hidden, np.array_equal(hidden.data, before), loss.item(), grads

    is_input, unchanged, loss, grads = run(inplace)
    assert is_input and not unchanged  # the module wrote into its input
    plain_is_input, plain_unchanged, plain_loss, plain_grads = run(plain)
    assert not plain_is_input and plain_unchanged
    assert loss == plain_loss
    for a, b in zip(grads, plain_grads):
        np.testing.assert_array_equal(a, b)


def test_a_compiled_step_with_inplace_activations_replays_with_eagers_bits():
    # The writes are into the step's own intermediates: the replay computes them out of place.
    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((4, 3)), rng.integers(0, 2, 4)) for _ in range(6)]

    def make():
        model = nn.Sequential(
            nn.Linear(3, 6, rng=0, dtype=tn.float64),
            nn.ReLU(inplace=True),
            nn.Dropout(0.25, rng=1, inplace=True),
            nn.Linear(6, 2, rng=2, dtype=tn.float64),
        )
        opt = optim.Adam(model.parameters(), lr=0.05)

        def step(x, y):
            loss = F.cross_entropy(model(tn.Tensor(x)), tn.Tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return model, step

    eager_model, eager_step = make()
    compiled_model, step = make()
    compiled_step = tn.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for x, y in data:
            assert eager_step(x, y).data.tobytes() == compiled_step(x, y).data.tobytes()
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []
    assert any(type(entry).__name__ == "Program" for entry in compiled_step._entries.values())
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        assert p.data.tobytes() == q.data.tobytes()
