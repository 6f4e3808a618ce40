"""tn.compile replays writes through a view of the step's own intermediate, bit for bit."""

import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import nn, optim


def is_replaying(step) -> bool:
    return any(type(entry).__name__ == "Program" for entry in step._entries.values())


def _batches(dtype, count=5):
    rng = np.random.default_rng(3)
    return [
        (rng.standard_normal((4, 1, 5, 5)).astype(dtype), rng.integers(0, 2, 4))
        for _ in range(count)
    ]


def _compare(make, batches):
    """Eager and compiled steps from ``make()`` over ``batches``: losses and parameters equal
    bit for bit; returns the compiled step and the RuntimeWarnings it gave."""
    eager_model, eager_step = make()
    compiled_model, step = make()
    compiled = tn.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for batch in batches:
            eager_args = [tn.tensor(array) for array in batch]
            compiled_args = [tn.tensor(array) for array in batch]
            assert eager_step(*eager_args).item() == compiled(*compiled_args).item()
            for a, b in zip(eager_args, compiled_args):
                np.testing.assert_array_equal(a.data, b.data)
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        assert p.dtype == q.dtype
        np.testing.assert_array_equal(p.data, q.data)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return compiled, messages


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", [optim.SGD, optim.Adam])
def test_conv_flatten_relu_inplace_linear_replays_eagers_bits_without_a_warning(dtype, optimizer):
    def make():
        tn.manual_seed(0)
        model = nn.Sequential(
            nn.Conv2d(1, 3, 3, padding=1, dtype=dtype),
            nn.Flatten(),
            nn.ReLU(inplace=True),  # writes through Flatten's view of the conv's output
            nn.Linear(3 * 5 * 5, 2, dtype=dtype),
        )
        opt = optimizer(model.parameters(), lr=0.05)

        def step(inputs, target):
            opt.zero_grad()
            loss = F.cross_entropy(model(inputs), target)
            loss.backward()
            opt.step()
            return loss

        return model, step

    compiled, messages = _compare(make, _batches(dtype))
    assert messages == [] and is_replaying(compiled)


_VIEW_WRITES = {
    "view_relu_": lambda h: h.view(h.shape[0], -1).relu_(),
    "column_mul_": lambda h: h[:, 0].mul_(2.0),
    "rows_iadd": lambda h: h[1:3].__iadd__(1.0),
    "transposed_rows_setitem": lambda h: h.T.__setitem__(slice(0, 2), 0.5),
    "view_of_a_view_mul_": lambda h: h.view(2, -1)[:, ::2].mul_(0.5),  # views between
    "diagonal_add_": lambda h: h.diagonal().add_(1.0),
    "column_fill_": lambda h: h[:, 2].fill_(0.25),
}


def _view_write_step(write, dtype, before=False):
    """A conv, then ``write`` into a view of its output (``before``: a view taken first and
    read after the write)."""
    tn.manual_seed(1)
    conv = nn.Conv2d(1, 2, 3, dtype=dtype)
    head = nn.Linear(2 * 3 * 3, 1, dtype=dtype)
    opt = optim.SGD([*conv.parameters(), *head.parameters()], lr=0.05)

    def step(inputs, target):
        hidden = conv(inputs).reshape(4, -1) * 1.5  # an array of its own: the base
        # taken before the write; its gradient would raise (its node reads the old base)
        earlier = hidden[:, 1:].detach() if before else None
        write(hidden)
        out = head(hidden.tanh())[:, 0]
        if before:
            out = out + earlier.sum(1) * 0.25  # the written values, read through old views
        loss = ((out - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return [conv, head], step


class _Pair(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.conv, self.head = layers


@pytest.mark.parametrize("before", [False, True], ids=["plain", "view_taken_before"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("write", _VIEW_WRITES.values(), ids=list(_VIEW_WRITES))
def test_a_write_through_a_view_of_an_intermediate_replays_eagers_bits(write, dtype, before):
    def make():
        layers, step = _view_write_step(write, dtype, before)
        return _Pair(layers), step

    batches = [(x, t.astype(dtype)) for x, t in _batches(dtype)]
    compiled, messages = _compare(make, batches)
    assert messages == [] and is_replaying(compiled)


@pytest.mark.parametrize("grad", [True, False], ids=["grad", "no_grad"])
def test_the_replayed_write_leaves_views_and_the_base_with_eagers_values(grad):
    # Forward only, no optimizer: what the step returns is what eager returns, element for
    # element, for the base, the written view and a view taken before the write.
    tn.manual_seed(2)
    layer = nn.Linear(3, 4)

    def forward(inputs):
        with tn.set_grad_enabled(grad):
            return _written(layer(inputs))

    def _written(hidden):
        before = hidden.T[1:]  # a view of the base taken before the write
        hidden[:, 1:3].mul_(-3.0).clamp_(min=-1.0)  # two writes through one view
        return hidden, before * 1.0, hidden.view(-1)[::3] + 0.0

    compiled = tn.compile(forward)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(5):
            batch = np.random.default_rng(i).standard_normal((5, 3)).astype(np.float32)
            for ours, theirs in zip(compiled(tn.tensor(batch)), forward(tn.tensor(batch))):
                np.testing.assert_array_equal(ours.data, theirs.data)
    assert is_replaying(compiled)


@pytest.mark.parametrize("case", ["argument", "parameter"])
def test_a_write_through_a_view_of_an_argument_or_a_parameter_replays_before_a_value_check(
    case,
):
    # As PyTorch's compile, the replay writes the caller's array (compared with eager's
    # after every call); F.cross_entropy then checks the class indices at each replay.
    def make():
        tn.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(18, 2))
        opt = optim.SGD(model.parameters(), lr=0.05)

        def step(inputs, target):
            if case == "argument":
                inputs[:, 0].mul_(2.0)  # the caller's array: it must really change
            else:
                with tn.no_grad():
                    model[0].weight[:, 0].mul_(0.5)  # a parameter, through a view
            loss = F.cross_entropy(model(inputs), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return model, step

    compiled, messages = _compare(make, _batches(np.float32))
    assert messages == [] and is_replaying(compiled)


def _all_positive(values: np.ndarray) -> bool:
    return bool((values > 0).all())


@pytest.mark.parametrize("where", ["argument", "buffer"])
def test_a_check_failing_after_a_replayed_write_runs_eagerly_from_the_arrays_as_they_were(where):
    # The replay writes, then a check fails: it restores what it overwrote, so the eager
    # call that follows writes once, as eagerly.
    def make():
        holder = nn.Module()
        holder.register_buffer("total", tn.zeros(3))

        def step(x):
            with tn.no_grad():
                if where == "argument":
                    x[1:].mul_(3.0)
                else:
                    holder.total.add_(x)
            y = x * 2.0
            if tn.autograd.traced_check(_all_positive, y.data):
                return y + holder.total
            return y - holder.total

        return holder, step

    eager_holder, eager_step = make()
    holder, step = make()
    compiled = tn.compile(step)
    # The checks of calls 5 and 7 fail in a replay (of the program for the other sign)
    signs = [1.0, 1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for call, sign in enumerate(signs):
            values = np.array([1.0, 2.0, 0.5]) * sign * (call + 1)
            eager_x, x = tn.tensor(values, dtype=np.float32), tn.tensor(values, dtype=np.float32)
            np.testing.assert_array_equal(compiled(x).data, eager_step(eager_x).data)
            np.testing.assert_array_equal(x.data, eager_x.data)
            np.testing.assert_array_equal(holder.total.data, eager_holder.total.data)
            if call in (3, 5, 8):
                assert is_replaying(compiled)


_CALLER_WRITES = {
    # the caller's array through a view, as PyTorch's compile mutates it
    "argument_column_mul_": lambda model, inputs: inputs[:, 0].mul_(2.0),
    "argument_rows_setitem": lambda model, inputs: inputs.__setitem__(slice(1, 3), 0.5),
    "argument_then_old_view": lambda model, inputs: inputs.reshape(4, -1)[:, ::2].clamp_(max=0.2),
    "parameter_column_mul_": lambda model, inputs: model[0].weight[:, 0].mul_(0.5),
    "parameter_row_setitem": lambda model, inputs: model[2].weight.__setitem__(1, 0.0),
    "bias_fill_": lambda model, inputs: model[2].bias.fill_(0.125),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("write", _CALLER_WRITES.values(), ids=list(_CALLER_WRITES))
def test_a_write_into_an_argument_or_a_parameter_is_replayed_as_the_same_write(write, dtype):
    def make():
        tn.manual_seed(0)
        model = nn.Sequential(
            nn.Conv2d(1, 2, 3, dtype=dtype), nn.Flatten(), nn.Linear(18, 2, dtype=dtype)
        )
        opt = optim.SGD(model.parameters(), lr=0.05)

        def step(inputs, target):
            flat = inputs.reshape(4, -1)  # a view taken before the write, read after it
            with tn.no_grad():
                write(model, inputs)
            out = model(inputs)[:, 0] + flat.sum(1)
            loss = ((out - target) ** 2).mean()  # no value check after the write
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return model, step

    batches = [(x, t.astype(dtype)) for x, t in _batches(dtype)]
    compiled, messages = _compare(make, batches)  # the arguments too, bit for bit
    assert messages == [] and is_replaying(compiled)


def test_a_written_parameter_given_a_new_array_is_written_there():
    # The replay writes the array recorded; a parameter given another array since (not
    # read by the step otherwise, so no other check sees it) makes the call record again.
    def make():
        holder = nn.Module()
        holder.scale = nn.Parameter(tn.ones(3))

        def step(x):
            with tn.no_grad():
                holder.scale.mul_(0.5)  # read by no op as itself: only the write's guard
            return x * 2.0

        return holder, step

    eager_holder, eager_step = make()
    holder, step = make()
    compiled = tn.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for call in range(8):
            if call == 5:
                for module in (holder, eager_holder):
                    module.scale.data = np.full(3, 4.0, dtype=np.float32)
            x = tn.tensor([1.0, 2.0, 3.0])
            np.testing.assert_array_equal(compiled(x).data, eager_step(x).data)
            np.testing.assert_array_equal(holder.scale.data, eager_holder.scale.data)
            if call == 4:
                assert is_replaying(compiled)
    assert holder.scale.data.tolist() == [0.5, 0.5, 0.5]  # 4 * 0.5 ** 3: written thrice


def test_a_write_whose_old_values_a_gradient_formula_reads_runs_eagerly_with_one_warning():
    # Eagerly, Mul's node reads a copy of the argument's old values; a replay writing the
    # argument would hand it the new ones.
    def make():
        weight = tn.tensor([0.5, -1.0, 2.0], requires_grad=True)

        def step(x):
            weight.grad = None
            x *= weight
            (x * x).sum().backward()
            return x * 1.0

        return weight, step

    eager_weight, eager_step = make()
    weight, step = make()
    compiled = tn.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(4):
            batch = np.random.default_rng(i).standard_normal(3)
            eager_x, x = tn.tensor(batch), tn.tensor(batch)
            np.testing.assert_array_equal(compiled(x).data, eager_step(eager_x).data)
            np.testing.assert_array_equal(x.data, eager_x.data)
            np.testing.assert_array_equal(weight.grad.data, eager_weight.grad.data)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "writes a tensor in place (mul_ at" in messages[0]
    assert "Mul's gradient formula" in messages[0] and not is_replaying(compiled)


def test_a_signed_zero_written_through_a_view_keeps_its_sign_in_the_replay():
    # The replay overwrites the view's elements as the eager write does; a scatter into
    # zeros (the graph's IndexAdd) would give +0.0 where eager memory holds -0.0.
    tn.manual_seed(0)
    layer = nn.Linear(3, 4)

    def forward(inputs):
        hidden = layer(inputs).abs() + 1.0
        hidden[:, 0].mul_(-0.0)
        return hidden * 1.0

    compiled = tn.compile(forward)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for i in range(4):
            batch = np.random.default_rng(i).standard_normal((2, 3)).astype(np.float32)
            ours, theirs = compiled(tn.tensor(batch)), forward(tn.tensor(batch))
            assert np.signbit(theirs.data[:, 0]).all()
            np.testing.assert_array_equal(np.signbit(ours.data), np.signbit(theirs.data))
    assert is_replaying(compiled)


def _eager_and_compiled_messages(make, calls=4):
    """Runs eager and compiled steps from ``make()`` on the same arguments, comparing their
    results and the tensors ``make`` returns bit for bit; the RuntimeWarnings seen."""
    eager_tensors, eager_step = make()
    tensors, step = make()
    compiled = tn.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            x = tn.tensor(np.random.default_rng(i).standard_normal(3))
            np.testing.assert_array_equal(compiled(x).data, eager_step(x).data)
            for ours, theirs in zip(tensors, eager_tensors):
                np.testing.assert_array_equal(ours.data, theirs.data)
    return compiled, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_zeroing_a_gradient_before_backward_runs_eagerly_with_a_warning_saying_how():
    def make():
        weight = tn.tensor([0.5, -1.0, 2.0], requires_grad=True)
        weight.grad = tn.zeros(3)

        def step(x):
            weight.grad.zero_()  # last call's gradient: not the caller's argument, nor ours
            (weight * x).sum().backward()
            return weight.grad * 1.0

        return [weight], step

    compiled, messages = _eager_and_compiled_messages(make)
    assert len(messages) == 1 and "writes in place (zero_ at" in messages[0]
    assert "optimizer.zero_grad()" in messages[0] and not is_replaying(compiled)


@pytest.mark.parametrize("form", ["iadd", "add_", "assign"])
def test_a_buffer_counter_replays_when_written_in_place(form):
    class Counting(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("calls", tn.zeros(1))

        def forward(self, x):
            if form == "iadd":
                self.calls += 1  # in place, then the same tensor assigned back: no edit
            elif form == "add_":
                self.calls.add_(1)
            else:
                self.calls = self.calls + 1  # a new tensor: a module edit
            return x * 2.0

    def make():
        counter = Counting()
        return [counter.calls], counter

    compiled, messages = _eager_and_compiled_messages(make)
    if form == "assign":
        assert len(messages) == 1 and "write self.count.add_(1)" in messages[0]
    else:
        assert messages == [] and is_replaying(compiled)
