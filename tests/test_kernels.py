"""The permutation engine's kernels against brute force and against each other."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from klastergeo import weights
from klastergeo._kernels import _search_counts, permutation_counts
from tests.conftest import lattice


@pytest.mark.parametrize("n_perm", [1, 2, 3, 7, 999, 1000])
def test_binary_search_counts_equal_brute_force(n_perm: int) -> None:
    """Tie-heavy integer data: counts of sorted values >= / <= each target, exactly."""
    rng = np.random.default_rng(n_perm)
    ordered = np.sort(rng.integers(0, 5, size=(3, 2, n_perm)).astype(float), axis=2)
    card = np.array([1, 2, 3, 0, 2, 3])
    raw = rng.integers(-1, 6, size=(6, 2)).astype(float)
    tolerance = np.full((6, 2), 1e-9)
    ge = np.zeros((6, 2), np.int32)
    le = np.zeros((6, 2), np.int32)
    _search_counts(ordered, card, np.argsort(card).astype(np.int64), raw, tolerance, ge, le)
    for i in np.flatnonzero(card):
        for s in range(2):
            column = ordered[card[i] - 1, s]
            assert ge[i, s] == (column >= raw[i, s] - 1e-9).sum()
            assert le[i, s] == (column <= raw[i, s] + 1e-9).sum()
    assert (ge[card == 0] == 0).all()


def _csr(graph):
    matrix = graph.sparse.tocsr()
    matrix.setdiag(0)
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return matrix


def test_shared_sums_and_general_kernel_agree() -> None:
    """Two exact schemes, different draws: the same conditional probabilities."""
    areas = lattice(12, 12)
    matrix = _csr(weights.contiguity(areas, islands="keep"))
    y = np.random.default_rng(1).lognormal(size=(len(areas), 3))
    kw = {"permutations": 4999, "seed": 7}
    shared = permutation_counts(
        y, matrix.indptr, matrix.indices, matrix.data, method="shared", **kw
    )
    general = permutation_counts(
        y, matrix.indptr, matrix.indices, matrix.data, method="general", **kw
    )
    p_shared = (shared[0] + 1) / 5000
    p_general = (general[0] + 1) / 5000
    bound = 4 * np.sqrt(2 * p_shared * (1 - p_shared) / 4999) + 2 / 5000
    assert (np.abs(p_shared - p_general) <= bound).mean() >= 0.99
    np.testing.assert_allclose(shared[2], general[2])  # observed sums


def test_general_kernel_uses_the_weights() -> None:
    """Area 0 with two neighbours weighted 1 and 3: the observed sum is weighted, and the
    permuted sums apply the same weights to the drawn values."""
    y = np.array([[0.0], [1.0], [2.0], [10.0], [5.0]])
    matrix = sparse.csr_matrix(([1.0, 3.0], ([0, 0], [1, 2])), shape=(5, 5))
    ge, _, observed = permutation_counts(
        y, matrix.indptr, matrix.indices, matrix.data, permutations=20_000, seed=1
    )
    assert observed[0, 0] == 1.0 * 1 + 3.0 * 2
    # all ordered pairs (a, b) of the other values {1, 2, 10, 5}: sums a + 3 b >= 7
    others = [1.0, 2.0, 10.0, 5.0]
    pairs = [(a, b) for a in others for b in others if a != b]
    exact = np.mean([a + 3 * b >= 7 for a, b in pairs])
    assert ge[0, 0] / 20_000 == pytest.approx(exact, abs=0.01)
    assert (ge[1:] == 0).all()  # no neighbours: nothing counted
