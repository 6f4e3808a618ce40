"""Explicit randomness: every random function of tinynet takes ``rng=``."""

import numpy as np


def as_generator(rng=None) -> np.random.Generator:
    """Turn ``rng`` (None, an int seed, or a Generator) into a ``numpy.random.Generator``.

    ``None`` gives a fresh, unseeded generator: tinynet has no global random state.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.RandomState):
        return np.random.default_rng(rng.randint(0, 2**31 - 1))
    raise TypeError(
        f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}"
    )
