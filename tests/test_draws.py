"""Per-position draws: SplitMix64's reference outputs, uniformity, independence of parts."""

import numpy as np
import pytest
from scipy import stats

from klastergeo.analysis.draws import position_bits, position_uniform


def _splitmix64(seed: int, n: int) -> list[int]:
    """Vigna's splitmix64.c, one output at a time in Python integers (the reference)."""
    mask, x, out = 2**64 - 1, seed, []
    for _ in range(n):
        x = (x + 0x9E3779B97F4A7C15) & mask
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out


@pytest.mark.parametrize("seed", [0, 1, 1234567, 2**63 + 5])
def test_bits_are_the_reference_sequence(seed):
    expected = _splitmix64(seed, 50)
    assert [int(v) for v in position_bits(np.arange(50), seed=seed)] == expected


def test_published_vector():
    # the first outputs of SplitMix64 seeded 1234567 (as quoted with the reference code)
    assert [int(v) for v in position_bits([0, 1], seed=1234567)] == [
        6457827717110365317,
        3203168211198807973,
    ]


def test_parts_draw_what_the_whole_draws():
    whole = position_uniform(np.arange(100_000), seed=7)
    parts = np.concatenate(
        [
            position_uniform(np.arange(a, b), seed=7)
            for a, b in [(0, 333), (333, 70_001), (70_001, 100_000)]
        ]
    )
    assert np.array_equal(whole, parts)
    assert not np.array_equal(whole, position_uniform(np.arange(100_000), seed=8))


def test_uniform_in_unit_interval():
    u = position_uniform(np.arange(200_000), seed=3)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # neighbouring positions are not correlated
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
