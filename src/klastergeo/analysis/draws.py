"""Random draws tied to a firm's position, so that a part-by-part run draws what a whole run
draws.

A seeded ``numpy.random.default_rng`` gives a different stream when the firms come in parts
of another size, or when parts are drawn on other workers. Here each firm's draw is a
function of the seed and its *position* among the kept firms (0, 1, ...; the same whatever
the batch size): SplitMix64 (Steele, Lea & Flood 2014, as in Vigna's reference code) of the
seed's state advanced to the position. Thinning, sampling and other per-firm draws use it
part by part and get the same firms as one draw over all of them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["position_bits", "position_uniform"]

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _state(seed: int | None) -> np.uint64:
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**63))
    return np.uint64(int(seed) % 2**64)


def position_bits(positions: ArrayLike, *, seed: int | None) -> NDArray[np.uint64]:
    """64 random bits for each position: the ``position + 1``-th output of SplitMix64
    started from ``seed``.

    Parameters
    ----------
    positions
        Non-negative integer positions (any shape).
    seed
        The seed (an integer; None draws one).

    Examples
    --------
    >>> int(position_bits([0], seed=1234567)[0])
    6457827717110365317
    """
    index = np.asarray(positions, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = _state(seed) + (index + np.uint64(1)) * _GAMMA
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
    return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


def position_uniform(positions: ArrayLike, *, seed: int | None) -> NDArray[np.float64]:
    """A uniform number in [0, 1) for each position, from its 53 highest random bits.

    Parameters
    ----------
    positions
        Non-negative integer positions.
    seed
        The seed (an integer; None draws one).
    """
    bits = position_bits(positions, seed=seed) >> np.uint64(11)
    return bits.astype(np.float64) * (1.0 / 2.0**53)
