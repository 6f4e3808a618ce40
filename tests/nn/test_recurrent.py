"""nn.RNN, nn.LSTM, nn.GRU and their cells against a NumPy reference written from PyTorch's
documented equations; gradients by finite differences; PyTorch's names, shapes, errors."""

import warnings

import numpy as np
import pytest
from scipy import stats

import tinynet as tn
import tinynet.nn.functional as F
from tinynet import nn, optim
from tinynet.errors import DTypeError

LAYERS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}
CELLS = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}


# -- the reference: PyTorch's documented equations, in NumPy -------------------------------------
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_step(mode, x, h, c, weights, relu=False):
    """One step from the docs; ``weights`` = (W_ih, W_hh, b_ih, b_hh, W_hr), biases may be None."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    gi = x @ w_ih.T + (0 if b_ih is None else b_ih)
    gh = h @ w_hh.T + (0 if b_hh is None else b_hh)
    if mode == "LSTM":
        i, f, g, o = np.split(gi + gh, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return (h if w_hr is None else h @ w_hr.T), c
    if mode == "GRU":
        i_r, i_z, i_n = np.split(gi, 3, axis=-1)
        h_r, h_z, h_n = np.split(gh, 3, axis=-1)
        r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
        n = np.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h, None
    return (np.maximum(gi + gh, 0) if relu else np.tanh(gi + gh)), None


def reference(mode, params, x, h0, c0, num_layers, bidirectional, relu=False):
    """Output, h_n, c_n of a (L, N, H_in) sequence; ``params``: name -> array."""
    directions = 2 if bidirectional else 1
    h_n, c_n = [], []
    for layer in range(num_layers):
        outputs = []
        for direction, suffix in enumerate(["", "_reverse"][:directions]):
            weights = [
                params.get(f"{kind}_l{layer}{suffix}")
                for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
            ]
            h = h0[layer * directions + direction]
            c = None if c0 is None else c0[layer * directions + direction]
            steps = range(len(x))[::-1] if direction else range(len(x))
            out = [None] * len(x)
            for t in steps:
                h, c = reference_step(mode, x[t], h, c, weights, relu)
                out[t] = h
            outputs.append(np.stack(out))
            h_n.append(h)
            c_n.append(c)
        x = np.concatenate(outputs, axis=-1)
    return x, np.stack(h_n), (None if c0 is None else np.stack(c_n))


def arrays(module):
    return {name: p.data for name, p in module.named_parameters()}


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


CONFIGS = [
    dict(),
    dict(num_layers=3),
    dict(num_layers=2, bidirectional=True),
    dict(batch_first=True, bidirectional=True),
    dict(bias=False, num_layers=2),
    dict(unbatched=True, num_layers=2, bidirectional=True),
    dict(given_state=True, num_layers=2, bidirectional=True),
    dict(given_state=True, unbatched=True, batch_first=True),
]


def run_both(mode, config, relu=False, proj_size=0):
    config = dict(config)
    unbatched, given_state = config.pop("unbatched", False), config.pop("given_state", False)
    extra = {"nonlinearity": "relu"} if relu else {}
    if proj_size:
        extra["proj_size"] = proj_size
    module = LAYERS[mode](3, 4, dtype=np.float64, rng=1, **config, **extra)
    length, batch, directions = 5, 2, 2 if module.bidirectional else 1
    states = directions * module.num_layers
    out_size = proj_size or 4
    x = normal(length, batch, 3, seed=2)
    h0 = (
        normal(states, batch, out_size, seed=3)
        if given_state
        else np.zeros((states, batch, out_size))
    )
    c0 = normal(states, batch, 4, seed=4) if given_state else np.zeros((states, batch, 4))
    c0 = c0 if mode == "LSTM" else None
    expected = reference(
        mode, arrays(module), x, h0, c0, module.num_layers, module.bidirectional, relu
    )
    if unbatched:
        x, h0 = x[:, 0], h0[:, 0]
        c0 = None if c0 is None else c0[:, 0]
        expected = tuple(None if e is None else e[..., 0, :] for e in expected)
    elif module.batch_first:
        x = x.transpose(1, 0, 2)
        expected = (expected[0].transpose(1, 0, 2), *expected[1:])
    hx = None
    if given_state:
        hx = (tn.tensor(h0), tn.tensor(c0)) if mode == "LSTM" else tn.tensor(h0)
    result = module(tn.tensor(x), hx)
    output, state = result
    h_n, c_n = state if mode == "LSTM" else (state, None)
    return (output, h_n, c_n), expected


def assert_matches(got, expected):
    for tensor, array in zip(got, expected):
        if array is None:
            assert tensor is None
        else:
            assert tensor.shape == array.shape
            np.testing.assert_allclose(tensor.data, array, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_sequence_layers_match_the_documented_equations(mode, config):
    assert_matches(*run_both(mode, config))


@pytest.mark.parametrize("config", [dict(), dict(num_layers=2, bidirectional=True)], ids=str)
def test_relu_rnn_and_projected_lstm_match_the_documented_equations(config):
    assert_matches(*run_both("RNN", config, relu=True))
    assert_matches(*run_both("LSTM", config, proj_size=2))


@pytest.mark.parametrize("unbatched", [False, True])
@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_cells_match_one_documented_step(mode, unbatched):
    cell = CELLS[mode](3, 4, dtype=np.float64, rng=0)
    x, h, c = normal(2, 3, seed=1), normal(2, 4, seed=2), normal(2, 4, seed=3)
    weights = (cell.weight_ih.data, cell.weight_hh.data, cell.bias_ih.data, cell.bias_hh.data, None)
    expected_h, expected_c = reference_step(mode, x, h, c if mode == "LSTM" else None, weights)
    if unbatched:
        x, h, c, expected_h = x[0], h[0], c[0], expected_h[0]
        expected_c = None if expected_c is None else expected_c[0]
    hx = (tn.tensor(h), tn.tensor(c)) if mode == "LSTM" else tn.tensor(h)
    result = cell(tn.tensor(x), hx)
    got_h, got_c = result if mode == "LSTM" else (result, None)
    np.testing.assert_allclose(got_h.data, expected_h, rtol=1e-12, atol=1e-14)
    assert got_h.shape == expected_h.shape
    if mode == "LSTM":
        np.testing.assert_allclose(got_c.data, expected_c, rtol=1e-12, atol=1e-14)
    # Without hx, the state starts at zeros.
    zero = np.zeros_like(h)
    start_h, _ = reference_step(mode, x, zero, zero if mode == "LSTM" else None, weights)
    alone = cell(tn.tensor(x))
    np.testing.assert_allclose((alone[0] if mode == "LSTM" else alone).data, start_h, rtol=1e-12)


def test_a_cell_without_bias_and_a_relu_cell():
    cell = nn.RNNCell(3, 2, bias=False, nonlinearity="relu", dtype=np.float64, rng=0)
    assert cell.bias_ih is None and cell.bias_hh is None
    assert sorted(cell.state_dict()) == ["weight_hh", "weight_ih"]
    x, h = normal(4, 3), normal(4, 2, seed=1)
    expected = np.maximum(x @ cell.weight_ih.data.T + h @ cell.weight_hh.data.T, 0)
    np.testing.assert_allclose(cell(tn.tensor(x), tn.tensor(h)).data, expected, rtol=1e-12)
    assert repr(cell) == "RNNCell(3, 2, bias=False, nonlinearity=relu)"  # PyTorch's


# -- gradients by finite differences ---------------------------------------------------------------
def gradient_inputs(module, x, states):
    """A function of (x, *states, *parameters) for gradcheck, and those inputs."""
    names = [name for name, _ in module.named_parameters()]
    params = [tn.Tensor(p.data.copy(), requires_grad=True) for _, p in module.named_parameters()]
    count = len(states)

    def fn(x, *rest):
        hx = rest[:count]
        hx = None if not hx else (tuple(hx) if count == 2 else hx[0])
        output, state = nn.utils.functional_call(module, dict(zip(names, rest[count:])), (x, hx))
        h_n = state[0] if isinstance(state, tuple) else state
        return output.sum() * 0.5 + (h_n * h_n).sum()

    return fn, (x, *states, *params)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_first_order_gradients_match_finite_differences(mode):
    extra = {"proj_size": 2} if mode == "LSTM" else {}
    module = LAYERS[mode](2, 3, num_layers=2, bidirectional=True, dtype=np.float64, rng=0, **extra)
    x = tn.Tensor(normal(3, 2, 2), requires_grad=True)
    out_size = 2 if mode == "LSTM" else 3
    states = [tn.Tensor(normal(4, 2, out_size, seed=1), requires_grad=True)]
    if mode == "LSTM":
        states.append(tn.Tensor(normal(4, 2, 3, seed=2), requires_grad=True))
    fn, inputs = gradient_inputs(module, x, states)
    assert tn.gradcheck(fn, inputs)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_second_order_gradients_match_finite_differences(mode):
    module = LAYERS[mode](2, 2, bidirectional=True, dtype=np.float64, rng=0)
    x = tn.Tensor(normal(2, 1, 2), requires_grad=True)
    states = [tn.Tensor(normal(2, 1, 2, seed=1), requires_grad=True)]
    if mode == "LSTM":
        states.append(tn.Tensor(normal(2, 1, 2, seed=2), requires_grad=True))
    fn, inputs = gradient_inputs(module, x, states)
    assert tn.gradgradcheck(fn, inputs, fast_mode=True)  # <u, J v> per input: all of them, fast


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_cell_gradients_match_finite_differences_to_second_order(mode):
    cell = CELLS[mode](2, 3, dtype=np.float64, rng=0)
    x = tn.Tensor(normal(2, 2), requires_grad=True)
    h = tn.Tensor(normal(2, 3, seed=1), requires_grad=True)
    c = tn.Tensor(normal(2, 3, seed=2), requires_grad=True)

    def fn(x, h, c):
        if mode == "LSTM":
            h, c = cell(x, (h, c))
            return (h * c).sum()
        return (cell(x, h) ** 2).sum()

    inputs = (x, h, c) if mode == "LSTM" else (x, h)
    fn_inputs = fn if mode == "LSTM" else (lambda x, h: fn(x, h, None))
    assert tn.gradcheck(fn_inputs, inputs) and tn.gradgradcheck(fn_inputs, inputs)


# -- PyTorch's names, shapes, initialization and errors ---------------------------------------------
def test_state_dict_names_and_shapes_are_pytorchs():
    lstm = nn.LSTM(5, 6, num_layers=2, bidirectional=True, proj_size=3)
    expected = []
    for layer, layer_input in ((0, 5), (1, 6)):
        for suffix in ("", "_reverse"):
            expected += [
                (f"weight_ih_l{layer}{suffix}", (24, layer_input)),
                (f"weight_hh_l{layer}{suffix}", (24, 3)),
                (f"bias_ih_l{layer}{suffix}", (24,)),
                (f"bias_hh_l{layer}{suffix}", (24,)),
                (f"weight_hr_l{layer}{suffix}", (3, 6)),
            ]
    assert [(k, v.shape) for k, v in lstm.state_dict().items()] == expected
    gru = nn.GRU(5, 6, bias=False)
    assert [(k, v.shape) for k, v in gru.state_dict().items()] == [
        ("weight_ih_l0", (18, 5)),
        ("weight_hh_l0", (18, 6)),
    ]
    assert [(k, v.shape) for k, v in nn.LSTMCell(5, 6).state_dict().items()] == [
        ("weight_ih", (24, 5)),
        ("weight_hh", (24, 6)),
        ("bias_ih", (24,)),
        ("bias_hh", (24,)),
    ]
    assert len(lstm.all_weights) == 4 and len(lstm.all_weights[0]) == 5


def test_a_pytorch_style_state_dict_loads_and_drives_the_output():
    lstm = nn.GRU(3, 4, num_layers=2, dtype=np.float64, rng=0)
    rng = np.random.default_rng(7)
    state = {name: rng.standard_normal(p.shape) for name, p in lstm.state_dict().items()}
    lstm.load_state_dict(state)
    x = normal(4, 2, 3)
    output, h_n = lstm(tn.tensor(x))
    expected, expected_h, _ = reference("GRU", state, x, np.zeros((2, 2, 4)), None, 2, False)
    np.testing.assert_allclose(output.data, expected, rtol=1e-12)
    np.testing.assert_allclose(h_n.data, expected_h, rtol=1e-12)


def test_initialization_is_uniform_within_one_over_sqrt_hidden_size_and_seeded():
    lstm = nn.LSTM(64, 64, rng=0, dtype=np.float64)
    values = np.concatenate([p.data.ravel() for p in lstm.parameters()])
    bound = 1 / 8
    assert np.abs(values).max() <= bound
    assert stats.kstest(values, stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3
    again = nn.LSTM(64, 64, rng=0, dtype=np.float64)
    assert all(
        np.array_equal(p.data, q.data) for p, q in zip(lstm.parameters(), again.parameters())
    )
    tn.manual_seed(3)
    first = nn.GRUCell(2, 2).weight_ih.data.copy()
    tn.manual_seed(3)
    assert np.array_equal(nn.GRUCell(2, 2).weight_ih.data, first)


def test_dtype_follows_the_argument_and_a_mismatch_is_refused():
    rnn = nn.RNN(2, 3, dtype=np.float32, rng=0)
    output, h_n = rnn(tn.ones(4, 1, 2))
    assert output.dtype == np.float32 and h_n.dtype == np.float32
    with pytest.raises(DTypeError, match=r"model\.to\(tn\.float64\)"):
        rnn(tn.ones(4, 1, 2, dtype=tn.float64))
    with pytest.raises(DTypeError, match="h_0"):
        rnn(tn.ones(4, 1, 2), tn.zeros(1, 1, 3, dtype=tn.float64))
    assert nn.LSTM(2, 3, rng=0).double()(tn.ones(4, 2, dtype=tn.float64))[0].dtype == np.float64


def test_reprs_are_pytorchs():
    assert repr(nn.LSTM(10, 20, num_layers=2)) == "LSTM(10, 20, num_layers=2)"
    assert (
        repr(
            nn.GRU(
                3, 4, bias=False, batch_first=True, dropout=0.5, num_layers=2, bidirectional=True
            )
        )
        == "GRU(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)"
    )
    assert repr(nn.LSTM(3, 4, proj_size=2)) == "LSTM(3, 4, proj_size=2)"
    assert repr(nn.GRUCell(3, 4)) == "GRUCell(3, 4)"
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4)"  # PyTorch leaves it out


BAD_CONSTRUCTORS = [
    (lambda: nn.LSTM(3, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda: nn.LSTM(3, 2.5), TypeError, "hidden_size should be of type int"),
    (lambda: nn.GRU(3, 4, num_layers=0), ValueError, "num_layers must be greater than zero"),
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, "Select from 'tanh' or 'relu'"),
    (lambda: nn.LSTM(3, 4, num_layers=2, dropout=1.5), ValueError, r"range \[0, 1\]"),
    (lambda: nn.LSTM(3, 4, proj_size=4), ValueError, "smaller than hidden_size"),
    (lambda: nn.LSTM(3, 4, proj_size=-1), ValueError, "proj_size"),
    (lambda: nn.RNN(3, 4, dtype=np.int64), TypeError, "floating dtype"),
    (lambda: nn.GRU(3, 4, device="cuda"), RuntimeError, "CPU only"),
    (lambda: nn.LSTMCell(3, 4, device="cuda"), RuntimeError, "CPU only"),
]


@pytest.mark.parametrize("make, error, message", BAD_CONSTRUCTORS)
def test_bad_arguments_are_refused_naming_the_problem(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_and_states_are_refused_naming_the_fix():
    lstm = nn.LSTM(3, 4, num_layers=2, rng=0)
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        lstm(tn.ones(2, 2, 2, 3))
    with pytest.raises(RuntimeError, match="input_size. Expected 3, got 5"):
        lstm(tn.ones(6, 2, 5))
    with pytest.raises(RuntimeError, match=r"expected h_0 of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        lstm(tn.ones(6, 2, 3), (tn.zeros(1, 2, 4), tn.zeros(2, 2, 4)))
    with pytest.raises(RuntimeError, match="For batched 3-D input, h_0 should also be 3-D"):
        lstm(tn.ones(6, 2, 3), (tn.zeros(2, 4), tn.zeros(2, 4)))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, c_0 should also be 2-D"):
        lstm(tn.ones(6, 3), (tn.zeros(2, 4), tn.zeros(2, 1, 4)))
    with pytest.raises(TypeError, match=r"tuple \(h_0, c_0\)"):
        lstm(tn.ones(6, 2, 3), tn.zeros(2, 2, 4))
    with pytest.raises(TypeError, match="packed sequences are not supported"):
        lstm((tn.ones(6, 3), [6]))
    with pytest.raises(RuntimeError, match="empty"):
        lstm(tn.ones(0, 2, 3))
    cell = nn.GRUCell(3, 4, rng=0)
    with pytest.raises(ValueError, match="Expected input to be 1D or 2D, got 3D"):
        cell(tn.ones(1, 2, 3))
    with pytest.raises(RuntimeError, match="inconsistent input_size: got 2 expected 3"):
        cell(tn.ones(5, 2))
    with pytest.raises(RuntimeError, match=r"expected h_0 of shape \(5, 4\), got \(3, 4\)"):
        cell(tn.ones(5, 3), tn.zeros(3, 4))


# -- dropout between layers, in training only ------------------------------------------------------
def test_dropout_acts_between_layers_in_training_only():
    x = normal(5, 2, 3)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=1.0, dtype=np.float64, rng=0)
    params, zeros = arrays(lstm), np.zeros((2, 2, 4))
    # Eval: no dropout at all.
    expected, _, _ = reference("LSTM", params, x, zeros, zeros, 2, False)
    np.testing.assert_allclose(lstm.eval()(tn.tensor(x))[0].data, expected, rtol=1e-12)
    # Training with p = 1: the second layer sees zeros, the first its input as ever.
    first = {k: v for k, v in params.items() if k.endswith("l0")}
    second = {k.replace("l1", "l0"): v for k, v in params.items() if k.endswith("l1")}
    _, h_first, c_first = reference("LSTM", first, x, zeros[:1], zeros[:1], 1, False)
    out, h_second, c_second = reference(
        "LSTM", second, np.zeros((5, 2, 4)), zeros[:1], zeros[:1], 1, False
    )
    output, (h_n, c_n) = lstm.train()(tn.tensor(x))
    np.testing.assert_allclose(output.data, out, rtol=1e-12)
    np.testing.assert_allclose(h_n.data, np.concatenate([h_first, h_second]), rtol=1e-12)
    # A fractional p draws fresh masks at each training call, from the module's generator.
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5, dtype=np.float64, rng=1)
    a, b = gru(tn.tensor(x))[0].data, gru(tn.tensor(x))[0].data
    assert not np.array_equal(a, b)
    gru.eval()
    np.testing.assert_array_equal(gru(tn.tensor(x))[0].data, gru(tn.tensor(x))[0].data)


def test_dropout_with_one_layer_warns_as_pytorch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 4, num_layers=2, dropout=0.2)


# -- training, compile, export -----------------------------------------------------------------------
class Regressor(nn.Module):
    """A recurrent layer, then a linear head on the last step's output."""

    def __init__(self, layer, hidden, dtype=np.float64, rng=0, **options):
        super().__init__()
        self.rnn = layer(1, hidden, batch_first=True, dtype=dtype, rng=rng, **options)
        width = hidden * (2 if options.get("bidirectional") else 1)
        self.head = nn.Linear(width, 1, dtype=dtype, rng=rng + 1)

    def forward(self, x):
        output, _ = self.rnn(x)
        return self.head(output[:, -1])


@pytest.mark.parametrize("layer", [nn.LSTM, nn.GRU])
def test_learns_the_sum_of_a_sequence(layer):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 5, 1))
    y = x.sum(axis=1)
    model = Regressor(layer, 8)
    opt = optim.Adam(model.parameters(), lr=0.03)
    inputs, targets = tn.tensor(x), tn.tensor(y)
    first = None
    for _ in range(250):
        opt.zero_grad()
        loss = F.mse_loss(model(inputs), targets)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    # The target's variance is 5/3; a model that learnt the sum is far below it.
    assert loss.item() < 0.01 * first and loss.item() < 0.02


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_compiled_lstm_training_step_replays_eagers_bits(dtype):
    rng = np.random.default_rng(1)
    data = [
        (
            tn.Tensor(rng.normal(size=(4, 3, 1)).astype(dtype)),
            tn.Tensor(rng.normal(size=(4, 1)).astype(dtype)),
        )
        for _ in range(5)
    ]
    runs = []
    for compiled in (False, True):
        # Two layers with dropout between them (masks from the module's seeded generator).
        model = Regressor(nn.LSTM, 4, dtype, num_layers=2, dropout=0.25, bidirectional=True)
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        step = tn.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # no fallback to eager
            losses = [step(x, y).data.tobytes() for x, y in data]
        runs.append((losses, [p.data.tobytes() for p in model.parameters()]))
        if compiled:
            assert any(type(e).__name__ == "Program" for e in step._entries.values())
    assert runs[0] == runs[1]


def test_onnx_export_refuses_recurrent_layers_clearly(tmp_path):
    pytest.importorskip("onnx")
    model = nn.Sequential(nn.LSTM(3, 4), nn.Linear(4, 1))
    with pytest.raises(NotImplementedError, match="cannot export LSTM"):
        tn.onnx.export(model, np.ones((2, 5, 3), np.float32), tmp_path / "m.onnx")


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_a_long_sequence_cut_in_blocks_matches_the_reference_and_finite_differences(mode):
    module = LAYERS[mode](2, 2, bidirectional=True, dtype=np.float64, rng=0)
    x = normal(41, 1, 2)  # 41 steps: past the length where steps are cut out of blocks
    zeros = np.zeros((2, 1, 2))
    c0 = zeros if mode == "LSTM" else None
    expected = reference(mode, arrays(module), x, zeros, c0, 1, True)[0]
    np.testing.assert_allclose(module(tn.tensor(x))[0].data, expected, rtol=1e-12, atol=1e-14)
    fn, inputs = gradient_inputs(module, tn.Tensor(x, requires_grad=True), [])
    assert tn.gradcheck(fn, inputs, fast_mode=True)
