"""The permutation engine's kernels against brute force and against each other."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from klastergeo.analysis import weights
from klastergeo.analysis._engine.kernels import _shared_counts, draw_table, permutation_counts
from tests.worlds.lattice import lattice


@pytest.mark.parametrize("data", ["counts", "wide-integers", "real"])
def test_shared_counts_equal_brute_force(data: str) -> None:
    """The shared-sums scheme (histograms for small integers, binary search otherwise)
    counts exactly the permuted sums it defines, corrections included: check against a
    direct computation of every area's permuted sums from the same table."""
    rng = np.random.default_rng(3)
    areas = lattice(9, 9)
    matrix = _csr(weights.contiguity(areas, islands="keep"))
    n = matrix.shape[0]
    y = {
        "counts": rng.poisson(2.0, (n, 3)).astype(float),
        # sums span more than MAX_TABLE: binary search with exact integer ties
        "wide-integers": rng.integers(0, 10**8, (n, 3)).astype(float),
        "real": rng.normal(size=(n, 3)),
    }[data]
    card = np.diff(matrix.indptr).astype(np.int64)
    k_max = int(card.max())
    table = draw_table(n + 1, k_max + 1, 301, np.random.default_rng(5))
    raw = np.asarray(matrix @ y)
    perm_idx, pos_idx = np.nonzero(np.arange(k_max)[None, :] < card[table[:, :k_max]])
    area = table[perm_idx, pos_idx]
    corrections = np.column_stack([perm_idx, card[area], area, table[perm_idx, k_max]])
    ge = np.zeros((3, n), np.int32)  # (variables, areas)
    le = np.zeros((3, n), np.int32)
    _shared_counts(
        np.ascontiguousarray(y.T),
        table,
        matrix.indptr.astype(np.int64),
        matrix.indices.astype(np.int64),
        corrections.astype(np.int64),
        0,
        3,
        ge,
        le,
    )
    for i in range(n):
        draws = table[:, : card[i]].copy()
        own = draws == i
        draws[own] = np.repeat(table[:, k_max:], card[i], axis=1)[own]  # the spare draw
        assert not (draws == i).any()
        sums = y[draws].sum(axis=1)  # (permutations, variables)
        assert (ge[:, i] == (sums >= raw[i] - 1e-9).sum(axis=0)).all()
        assert (le[:, i] == (sums <= raw[i] + 1e-9).sum(axis=0)).all()


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


def test_general_kernel_uses_the_weights() -> None:
    """Area 0 with two neighbours weighted 1 and 3: the observed sum is weighted, and the
    permuted sums apply the same weights to the drawn values."""
    y = np.array([[0.0], [1.0], [2.0], [10.0], [5.0]])
    matrix = sparse.csr_matrix(([1.0, 3.0], ([0, 0], [1, 2])), shape=(5, 5))
    ge, _ = permutation_counts(
        y, matrix.indptr, matrix.indices, matrix.data, permutations=20_000, seed=1
    )
    # all ordered pairs (a, b) of the other values {1, 2, 10, 5}: sums a + 3 b >= 7
    others = [1.0, 2.0, 10.0, 5.0]
    pairs = [(a, b) for a in others for b in others if a != b]
    exact = np.mean([a + 3 * b >= 7 for a, b in pairs])
    assert ge[0, 0] / 20_000 == pytest.approx(exact, abs=0.01)
    assert (ge[1:] == 0).all()  # no neighbours: nothing counted


def test_compile_covers_the_signatures_of_real_calls() -> None:
    """``klastergeo compile`` must compile what real calls use: after it, local statistics
    on a Series (read-only under pandas copy-on-write) or a DataFrame, on binary or kernel
    weights, add no new compiled signature (else the first real call compiles again)."""
    from klastergeo.analysis import autocorrelation
    from klastergeo.analysis._engine import contiguity as _contiguity
    from klastergeo.analysis._engine import kernels as _kernels
    from klastergeo.analysis._engine import local as _local
    from klastergeo.analysis._engine import locate as _locate
    from klastergeo.analysis._engine.compile import compile_kernels

    def signatures() -> set[tuple[str, object]]:
        return {
            (name, signature)
            for module in (_contiguity, _kernels, _local, _locate)
            for name, fn in vars(module).items()
            for signature in getattr(fn, "signatures", [])
        }

    compile_kernels()
    before = signatures()
    areas = lattice(7, 6)
    graph = weights.contiguity(areas)
    values = pd.DataFrame(
        np.random.default_rng(2).gamma(2.0, size=(len(areas), 3)), index=graph.unique_ids
    )
    for y in (values[0], values):
        autocorrelation.local_moran(y, graph, permutations=19, seed=1)
        autocorrelation.local_gstar(y, graph, permutations=19, seed=1)
    autocorrelation.local_moran(values, weights.kernel(areas, bandwidth=2500.0), permutations=19)
    from klastergeo.analysis.geometry import locate_points

    rng = np.random.default_rng(3)
    xy = rng.uniform(areas.total_bounds[:2], areas.total_bounds[2:], (500, 2))
    locate_points(xy[:, 0], xy[:, 1], areas.geometry, snap_m=10.0)
    assert signatures() == before
