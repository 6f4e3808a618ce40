"""Anomaly mode: NaN/inf in forward or backward raises, naming the op and the user's line."""

import inspect
import threading

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
from tinynet import autograd
from tinynet.lab import detect_anomaly


def here() -> int:
    return inspect.currentframe().f_back.f_lineno


pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's nan/inf warnings


def test_forward_nan_names_the_op_and_the_line():
    x = tn.tensor(np.array([1.0, -1.0]), requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError) as error:
        line = here() + 1
        x.log()
    assert str(error.value) == (
        f"Function 'Log' returned nan values in its 0th output; created at "
        f"test_anomaly.py:{line} (x.log())"
    )


def test_forward_overflow_to_inf_raises_even_without_grad():
    with detect_anomaly(), pytest.raises(RuntimeError, match="Function 'Exp' returned inf"):
        tn.tensor(np.array([1000.0])).exp()


def test_nan_already_in_the_data_is_said_to_come_from_outside():
    x = tn.tensor(np.array([np.nan, 1.0]), requires_grad=True)
    with detect_anomaly(), pytest.raises(RuntimeError, match="already held non-finite values"):
        x * 2.0


def test_backward_inf_names_the_backward_and_the_forward_line():
    x = tn.tensor(np.array([0.0, 4.0]), requires_grad=True)
    with detect_anomaly():
        line = here() + 1
        y = x.sqrt().sum()
        with pytest.raises(RuntimeError) as error:
            y.backward()
    message = str(error.value)
    assert message.startswith("Function 'SqrtBackward' returned inf values in its 0th output")
    assert f"created at test_anomaly.py:{line}" in message


def test_a_users_backward_that_returns_nan_is_caught():
    class BadLog(tn.Function):
        @staticmethod
        def forward(ctx, x):
            return np.log(x)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * float("nan")

    x = tn.tensor(np.array([2.0]), requires_grad=True)
    with (
        detect_anomaly(),
        pytest.raises(RuntimeError, match="Function 'BadLogBackward' returned nan"),
    ):
        BadLog.apply(x).sum().backward()


def test_masked_infinities_inside_backward_formulas_do_not_raise():
    # where() selects log(1.0) at 0: the backward divides by the input and masks the inf.
    x = tn.tensor(np.array([0.0, 2.0]), requires_grad=True)
    with detect_anomaly():
        tn.where(x.data > 0, x, 1.0).log().sum().backward()
        (x * x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.5 + 4.0]


def test_a_healthy_training_step_passes_and_hooks_are_restored():
    net = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    x, y = tn.randn(8, 3, rng=2), tn.tensor(np.arange(8) % 2)

    @detect_anomaly()
    def step():
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        return loss

    assert np.isfinite(step().item())
    assert autograd.registered_hooks() == ((), ())


def test_check_nan_false_only_tracks_sites():
    x = tn.tensor(np.array([-1.0]), requires_grad=True)
    with detect_anomaly(check_nan=False):
        y = x.log()
    assert np.isnan(y.data).all()
    assert tn.lab.creation_site(y) is not None


# -- per thread, like grad mode ------------------------------------------------------------


def test_anomaly_mode_is_per_thread():
    x = tn.tensor(np.array([-1.0]), requires_grad=True)
    inside, outside = threading.Event(), threading.Event()
    results = {}

    def other_thread():
        inside.wait(timeout=30)
        results["other"] = float(x.log().data[0])  # not checked: NaN, no error
        outside.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with detect_anomaly():
        inside.set()
        outside.wait(timeout=30)
        with pytest.raises(RuntimeError, match="Function 'Log' returned nan"):
            x.log()
    worker.join(timeout=30)
    assert np.isnan(results["other"])


def test_interleaved_use_in_threads_leaves_no_hook_behind():
    before = autograd.registered_hooks()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def thread_a():
        with detect_anomaly():
            a_in.set()
            b_in.wait(timeout=30)
        left.append(autograd.registered_hooks())
        a_out.set()  # A leaves first, while B is still inside

    def thread_b():
        a_in.wait(timeout=30)
        with detect_anomaly():
            b_in.set()
            a_out.wait(timeout=30)
            with pytest.raises(RuntimeError):  # B is still checked after A left
                tn.tensor(np.array([-1.0])).log()
            results.append("checked")
        left.append(autograd.registered_hooks())

    results, left = [], []
    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == ["checked"]
    assert autograd.registered_hooks() == before
    assert left == [((), ()), ((), ())]  # each thread removed its own hooks
    assert np.isnan(tn.tensor(np.array([-1.0])).log().data[0])  # nothing checks any more


def test_nested_and_reused_instances_restore_everything():
    mode = detect_anomaly()
    with mode, detect_anomaly(check_nan=False), mode:
        with pytest.raises(RuntimeError):  # an inner check_nan=False keeps the outer check
            tn.tensor(np.array([-1.0])).log()
    assert autograd.registered_hooks() == ((), ())
