"""Randomness: every random function takes ``rng=``; ``rng=None`` draws from one global
generator that ``tn.manual_seed`` seeds (PyTorch's model), so a seeded script is
bit-identical from run to run.

``numpy.random`` (about 6 MB of memory and 5 ms) loads with the first generator (the first
layer built, ``tn.randn``, an int ``rng=``), not with ``import tinynet``: tensor code that
draws nothing does not pay for it.
"""

from __future__ import annotations  # np.random in annotations would import it

import os

import numpy as np


def _fresh_seed() -> int:
    # A non-negative int64, as PyTorch's seeds (os.urandom: `secrets` loads hashlib).
    return int.from_bytes(os.urandom(8), "little") >> 1


# One slot each, replaced by manual_seed: the generator every ``rng=None`` draw uses (made
# on first use) and the seed it starts from (``initial_seed``).
_seed = [_fresh_seed()]
_default: list[np.random.Generator | None] = [None]


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the global generator that every ``rng=None`` draw uses; return it. Seeds are
    PyTorch's 64-bit range, a negative one read as its two's complement (``-1`` is
    ``2**64 - 1``).

    Parameter initialization, ``tn.randn``, ``Dropout``, in-place fills and ``DataLoader``
    shuffling all draw from it unless given ``rng=``.

    >>> import tinynet as tn
    >>> _ = tn.manual_seed(0); a = tn.randn(3)
    >>> _ = tn.manual_seed(0); b = tn.randn(3)
    >>> bool((a == b).data.all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"manual_seed expects a seed in [-2**63, 2**64), got {seed}")
    _seed[0] = int(seed) % 2**64  # a negative seed as its 64-bit two's complement, as PyTorch
    # Reseeded in place, never replaced (PyTorch returns its one default generator too): a
    # compiled step holds this object, and must draw from the new seed.
    generator = _default[0]
    if generator is None:
        generator = _default[0] = np.random.default_rng(_seed[0])
    else:
        generator.bit_generator.state = np.random.PCG64(_seed[0]).state
    return generator


def seed() -> int:
    """Seed the global generator from the operating system's entropy; return that seed
    (``torch.seed``): ``manual_seed(tn.seed())`` repeats what followed.

    >>> import tinynet as tn
    >>> s = tn.seed(); a = tn.rand(2)
    >>> _ = tn.manual_seed(s); b = tn.rand(2)
    >>> bool((a == b).data.all()) and tn.initial_seed() == s
    True
    """
    value = _fresh_seed()
    manual_seed(value)
    return value


def initial_seed() -> int:
    """The seed the global generator started from (the last ``manual_seed`` or ``seed``, or
    the one drawn at import), as ``torch.initial_seed``; ``set_rng_state`` keeps it."""
    return _seed[0]


def default_generator() -> np.random.Generator:
    """The global generator that ``rng=None`` draws from (see ``manual_seed``)."""
    generator = _default[0]
    if generator is None:
        generator = _default[0] = np.random.default_rng(_seed[0])
    return generator


def get_rng_state() -> dict:
    """The global generator's state, for ``set_rng_state`` (a dict, JSON-friendly)."""
    return dict(default_generator().bit_generator.state)


def set_rng_state(state: dict) -> None:
    """Restore the global generator to a state from ``get_rng_state``."""
    default_generator().bit_generator.state = state


def as_generator(rng=None) -> np.random.Generator:
    """Turn ``rng`` (None, an int seed, or a Generator) into a ``numpy.random.Generator``.

    ``None`` gives the global generator (seeded by ``manual_seed``), not a copy: draws
    advance it, as PyTorch's default generator.
    """
    if rng is None:
        return _default[0] or default_generator()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)):  # e.g. PyTorch's ``inplace`` passed by position
        raise TypeError(
            f"rng must be None, an int seed or a numpy.random.Generator, got the bool {rng}; "
            "a PyTorch argument in its place (inplace=?) has no tinynet equivalent"
        )
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.RandomState):
        return np.random.default_rng(rng.randint(0, 2**31 - 1))
    raise TypeError(
        f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}"
    )


def generator_of(generator=None, rng=None) -> np.random.Generator:
    """The generator a random function draws from: ``generator=`` (PyTorch's name) or
    ``rng=`` (tinynet's), either one, through ``as_generator``."""
    if generator is not None and rng is not None:
        raise TypeError("pass generator= or rng= (the same thing), not both")
    return as_generator(generator if generator is not None else rng)
