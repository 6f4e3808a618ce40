"""Hypothesis profiles: 'ci' is derandomized with no deadline and a fixed example count."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=100,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", deadline=None, max_examples=25)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    """Tests that change the default dtype must not leak it into other tests."""
    import tinynet as tn

    before = tn.get_default_dtype()
    yield
    tn.set_default_dtype(before)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
