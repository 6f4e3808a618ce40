"""The multi-tensor (flat) update path against the one-parameter-at-a-time path.

A group of two or more parameters with gradients is updated as one flat array; a group of
one takes the per-parameter path. Elementwise updates must give the same bits either way.
"""

import numpy as np
import pytest

import tinynet as tn
from tinynet.optim import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop, Rprop

CASES = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.3, maximize=True)),
    (SGD, dict(lr=0.1, momentum=0.9, dampening=0.5)),
    (Adam, dict(lr=0.05)),
    (Adam, dict(lr=0.1, betas=(0.7, 0.5), weight_decay=0.2, amsgrad=True, maximize=True)),
    (AdamW, dict(lr=0.1, weight_decay=0.5, amsgrad=True)),
    (RMSprop, dict(lr=0.01, alpha=0.8, centered=True, momentum=0.5, weight_decay=0.1)),
    (RMSprop, dict(lr=0.01, maximize=True)),
    (Adagrad, dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.1)),
    (NAdam, dict(lr=0.05, momentum_decay=0.01)),
    (NAdam, dict(lr=0.1, weight_decay=0.2, maximize=True)),
    (NAdam, dict(lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)),
    (RAdam, dict(lr=0.05)),  # both branches: rho_t > 5 at the sixth step
    (RAdam, dict(lr=0.1, weight_decay=0.2, maximize=True)),
    (RAdam, dict(lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)),
    (Adamax, dict(lr=0.05, weight_decay=0.1, maximize=True)),
    (Adadelta, dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    (Adadelta, dict(maximize=True)),
    (Rprop, dict(lr=0.05, etas=(0.4, 1.3), step_sizes=(1e-3, 0.1))),
    (Rprop, dict(lr=0.05, maximize=True)),
]
SHAPES = [(3, 4), (4,), (), (2, 1, 3)]


def make_params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [tn.tensor(rng.normal(size=shape).astype(dtype), requires_grad=True) for shape in SHAPES]


def set_grads(params, step):
    for index, param in enumerate(params):
        value = np.sin(param.data.astype(np.float64) * (index + 1) + step) + param.data**2
        param.grad = tn.Tensor(value.astype(param.dtype))


def case_id(case):
    return case[0].__name__ + "-" + "-".join(f"{k}={v}" for k, v in case[1].items())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_flat_group_updates_bit_identically_to_one_parameter_at_a_time(case, dtype):
    cls, kwargs = case
    together, alone = make_params(dtype), make_params(dtype)
    flat = cls(together, **kwargs)
    separate = [cls([param], **kwargs) for param in alone]
    for step in range(6):
        set_grads(together, step)
        set_grads(alone, step)
        flat.step()
        for opt in separate:
            opt.step()
    for a, b, opt in zip(together, alone, separate):
        assert a.data.dtype == dtype
        np.testing.assert_array_equal(a.data, b.data)
        for name, value in opt.state[b].items():
            np.testing.assert_array_equal(flat.state[a][name], value)
            if isinstance(value, np.ndarray):
                assert flat.state[a][name].shape == b.shape


def test_parameters_keep_their_arrays_and_state_is_a_live_view():
    params = make_params(np.float32)
    arrays = [p.data for p in params]
    opt = Adam(params, lr=0.1)
    set_grads(params, 0)
    opt.step()
    assert all(p.data is array for p, array in zip(params, arrays))
    # An edit of one parameter's state is what the next flat step uses.
    opt.state[params[0]]["exp_avg"][...] = 0.0
    reference = make_params(np.float32)
    ref_opt = Adam(reference, lr=0.1)
    set_grads(reference, 0)
    ref_opt.step()
    ref_opt.state[reference[0]]["exp_avg"][...] = 0.0
    set_grads(params, 1)
    set_grads(reference, 1)
    opt.step()
    ref_opt.step()
    for a, b in zip(params, reference):
        np.testing.assert_array_equal(a.data, b.data)


def test_a_parameter_without_gradient_or_of_another_dtype_takes_the_per_parameter_path():
    params = make_params(np.float64)
    params.append(tn.tensor(np.ones(3, np.float32), requires_grad=True))
    opt = SGD(params, lr=0.1, momentum=0.9)
    set_grads(params, 0)
    params[1].grad = None
    before = params[1].data.copy()
    opt.step()
    np.testing.assert_array_equal(params[1].data, before)
    assert params[-1].dtype == np.float32 and "momentum_buffer" not in opt.state[params[1]]


def test_loaded_state_replaces_the_flat_buffers():
    params = make_params(np.float32)
    opt = RMSprop(params, lr=0.01, momentum=0.5)
    for step in range(3):
        set_grads(params, step)
        opt.step()
    saved = opt.state_dict()
    snapshot = [p.data.copy() for p in params]
    for step in range(3, 5):
        set_grads(params, step)
        opt.step()
    expected = [p.data.copy() for p in params]
    for param, value in zip(params, snapshot):
        param.data[...] = value
    opt.load_state_dict(saved)
    for step in range(3, 5):
        set_grads(params, step)
        opt.step()
    for param, value in zip(params, expected):
        np.testing.assert_array_equal(param.data, value)


def _replace_exp_avg(states, params):
    states(params[2])[params[2]]["exp_avg"] = np.full(params[2].shape, 0.5, params[2].dtype)


def _update_exp_avg_sq(states, params):
    states(params[1])[params[1]].update(exp_avg_sq=np.ones(params[1].shape, params[1].dtype))


def _edit_one_step_count(states, params):
    states(params[1])[params[1]]["step"] = 7


def _replace_a_state_dict(states, params):
    table = states(params[3])
    table[params[3]] = {
        k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in table[params[3]].items()
    }


def _rebind_a_parameter(states, params):
    params[0].data = params[0].data * 2


EDITS = [
    _replace_exp_avg,
    _update_exp_avg_sq,
    _edit_one_step_count,
    _replace_a_state_dict,
    _rebind_a_parameter,
]


@pytest.mark.parametrize("edit", EDITS, ids=lambda edit: edit.__name__.strip("_"))
def test_an_edit_between_steps_is_seen_by_the_next_flat_step(edit):
    # The flat path keeps its buffers from one step to the next and checks them by
    # identity: an edit between steps must give the one-parameter-at-a-time result.
    together, alone = make_params(np.float64), make_params(np.float64)
    flat = Adam(together, lr=0.1)
    separate = {id(param): Adam([param], lr=0.1) for param in alone}
    for step in range(5):
        set_grads(together, step)
        set_grads(alone, step)
        if step == 2:
            assert flat._flat_groups  # the flat path was taken, its buffers kept
            edit(lambda param: flat.state, together)
            edit(lambda param: separate[id(param)].state, alone)
        flat.step()
        for opt in separate.values():
            opt.step()
    for a, b in zip(together, alone):
        np.testing.assert_array_equal(a.data, b.data)
        for name, value in separate[id(b)].state[b].items():
            np.testing.assert_array_equal(flat.state[a][name], value)


def test_a_gradient_of_the_wrong_shape_is_refused_after_flat_steps():
    params = make_params(np.float32)
    opt = SGD(params, lr=0.1)
    for step in range(2):
        set_grads(params, step)
        opt.step()
    set_grads(params, 2)
    with pytest.raises(RuntimeError, match="assigned grad has data of a different size"):
        params[0].grad = tn.Tensor(np.zeros((4, 3), np.float32))  # as in PyTorch
    params[0].grad.data = np.zeros((4, 3), np.float32)  # behind the setter's back
    with pytest.raises(RuntimeError, match=r"shape \(3, 4\) has a gradient of shape \(4, 3\)"):
        opt.step()


def test_a_pickled_flat_optimizer_resumes_bit_identically():
    import pickle

    params = make_params(np.float32)
    opt = Adam(params, lr=0.05, amsgrad=True)
    for step in range(3):
        set_grads(params, step)
        opt.step()
    params2, opt2 = pickle.loads(pickle.dumps((params, opt)))
    assert type(opt2.state[params2[0]]) is type(opt.state[params[0]])
    assert all(type(v) is dict for v in opt2.state_dict()["state"].values())  # plain data
    for step in range(3, 6):
        for group, optimizer in ((params, opt), (params2, opt2)):
            set_grads(group, step)
            optimizer.step()
    for a, b in zip(params, params2):
        np.testing.assert_array_equal(a.data, b.data)
        for name, value in opt.state[a].items():
            np.testing.assert_array_equal(opt2.state[b][name], value)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_parameters_edited_between_flat_steps_are_what_the_next_step_updates(case):
    """A flat step without weight decay adds its update into the parameters' own arrays
    (they are not copied in); one with weight decay reads them. Either way, an in-place
    edit of a parameter between steps is what the next step starts from."""
    cls, kwargs = case
    together, alone = make_params(np.float64), make_params(np.float64)
    flat = cls(together, **kwargs)
    separate = [cls([param], **kwargs) for param in alone]
    for step in range(4):
        set_grads(together, step)
        set_grads(alone, step)
        flat.step()
        for opt in separate:
            opt.step()
        for a, b in zip(together, alone):  # edits through .data, as a user's might be
            a.data *= 0.5
            b.data *= 0.5
            a.data[...] += step
            b.data[...] += step
    for a, b in zip(together, alone):
        np.testing.assert_array_equal(a.data, b.data)
