"""Semantics of the ops of issue 11 beyond the OpInfo table: special values, operators,
integer inputs, modules, errors (the table covers forward, gradients and dtypes)."""

import math

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F

SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -2.5])


def test_isnan_isinf_isfinite_on_special_values():
    x = tn.tensor(SPECIAL)
    assert tn.isnan(x).tolist() == [True, False, False, False, False]
    assert x.isinf().tolist() == [False, True, True, False, False]
    assert x.isfinite().tolist() == [False, False, False, True, True]
    assert tn.isnan(x).dtype == np.bool_


def test_logical_ops_treat_nonzero_as_true_and_broadcast():
    a = tn.tensor([[0.0, 2.0, -1.0]])
    b = tn.tensor([[0.0], [3.0]])
    assert tn.logical_and(a, b).tolist() == [[False, False, False], [False, True, True]]
    assert a.logical_or(b).tolist() == [[False, True, True], [True, True, True]]
    assert tn.logical_xor(a, b).tolist() == [[False, True, True], [True, False, False]]
    assert tn.logical_not(a).tolist() == [[True, False, False]]
    with pytest.raises(tn.ShapeError, match="logical_and"):
        tn.logical_and(tn.ones(2), tn.ones(3))


@pytest.mark.parametrize("a, b", [(7.0, 2.0), (-7.0, 2.0), (7.0, -2.0), (-7.5, -2.0), (5.0, 0.5)])
def test_floordiv_and_mod_operators_match_python(a, b):
    x = tn.tensor([a], dtype=tn.float64)
    assert (x // b).item() == a // b
    assert (x % b).item() == a % b
    assert (a // tn.tensor([b], dtype=tn.float64)).item() == a // b
    assert (a % tn.tensor([b], dtype=tn.float64)).item() == a % b
    assert tn.fmod(x, b).item() == math.fmod(a, b)


def test_floordiv_of_integer_tensors_stays_integer():
    x = tn.tensor([7, -7], dtype=tn.int64)
    result = x // 2
    assert result.dtype == np.int64 and result.tolist() == [3, -4]
    assert (x % 3).tolist() == [1, 2]


def test_round_halves_to_even_and_with_decimals():
    x = tn.tensor([0.5, 1.5, 2.5, -0.5, 1.25], dtype=tn.float64)
    assert tn.round(x).tolist() == [0.0, 2.0, 2.0, -0.0, 1.0]
    assert x.round(decimals=1).tolist() == [0.5, 1.5, 2.5, -0.5, 1.2]


def test_where_takes_scalars_on_either_side_and_as_a_method():
    x = tn.tensor([-1.0, 2.0], requires_grad=True)
    assert tn.where(x > 0, 1.0, x).tolist() == [-1.0, 1.0]
    assert tn.where(x > 0, x, 0.0).tolist() == [0.0, 2.0]
    assert x.where(x > 0, -5.0).tolist() == [-5.0, 2.0]
    assert tn.where(np.array([True, False]), 1.0, 2.0).tolist() == [1.0, 2.0]


def test_arc_aliases_are_the_same_functions():
    assert tn.arcsin is tn.asin and tn.arctan2 is tn.atan2 and tn.arccosh is tn.acosh
    x = tn.tensor([0.5])
    assert x.arcsin().item() == x.asin().item()


def test_glu_needs_an_even_length_and_hardtanh_ordered_bounds():
    with pytest.raises(ValueError, match="even"):
        tn.glu(tn.ones(2, 3))
    with pytest.raises(ValueError, match="min_val"):
        tn.hardtanh(tn.ones(2), 1.0, -1.0)
    with pytest.raises(ValueError, match="alpha"):
        tn.celu(tn.ones(2), 0.0)


MODULES = [
    (nn.SiLU(), F.silu),
    (nn.Mish(), F.mish),
    (nn.SELU(), F.selu),
    (nn.CELU(0.5), lambda x: F.celu(x, 0.5)),
    (nn.ReLU6(), F.relu6),
    (nn.Hardtanh(-0.5, 2.0), lambda x: F.hardtanh(x, -0.5, 2.0)),
    (nn.Hardsigmoid(), F.hardsigmoid),
    (nn.Hardswish(), F.hardswish),
    (nn.Softsign(), F.softsign),
    (nn.LogSigmoid(), F.logsigmoid),
    (nn.Softmin(dim=0), lambda x: F.softmin(x, 0)),
    (nn.GLU(dim=0), lambda x: F.glu(x, 0)),
]


@pytest.mark.parametrize("module, function", MODULES, ids=[type(m).__name__ for m, _ in MODULES])
def test_activation_modules_apply_their_function(module, function):
    x = tn.tensor(np.linspace(-4, 7, 12).reshape(4, 3))
    np.testing.assert_array_equal(module(x).data, function(x).data)
    assert list(module.parameters()) == []
    assert type(module).__name__ in repr(module)


def test_activation_values_against_closed_forms():
    x = np.linspace(-4, 4, 9)
    t = tn.tensor(x, dtype=tn.float64)
    np.testing.assert_allclose(F.silu(t).data, x / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(F.mish(t).data, x * np.tanh(np.log1p(np.exp(x))), rtol=1e-14)
    np.testing.assert_allclose(F.relu6(t * 2).data, np.minimum(np.maximum(2 * x, 0), 6))
    np.testing.assert_allclose(F.logsigmoid(t).data, np.log(1 / (1 + np.exp(-x))), rtol=1e-13)


def test_the_estimators_silu_is_nn_silu():
    from tinynet.estimators._network import activation_module

    assert isinstance(activation_module("silu"), nn.SiLU)
