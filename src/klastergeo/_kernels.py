"""Compiled kernels of the conditional-permutation engine (numba, cached on disk).

Conditional randomisation (Anselin 1995) keeps an area's own value fixed and draws its
neighbours' values from the other n - 1 areas. Local Moran's I, Getis-Ord Gi and Gi* are all
monotone in the weighted sum of the neighbours' values once the area's own value is fixed,
so one kernel serves them all: it counts, per area and variable, how many permuted sums are
at least (``ge``) and at most (``le``) the observed sum. Ties count on both sides, which
keeps pseudo p-values honest for count data with many equal values.

The draws are one table shared by every area and variable, as esda and GeoDa do. Two
exact schemes use it:

- weights equal within each area's row (binary, or row-standardised binary; the usual
  case): all areas with k neighbours share the permuted sums (prefix sums of the draws),
  so each area's counts come from a binary search (:func:`_counts_shared_sums`);
- any other weights: a compiled kernel sums each area's weighted draws; the values at the
  draws are gathered once per call so its loop runs over contiguous memory.

Memory is O(areas x variables + variables x k_max x permutations): no areas x
permutations matrix is ever built.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit
from numpy.typing import NDArray
from scipy import sparse

__all__ = ["draw_table", "permutation_counts"]

#: Areas per task; small enough to balance two threads, large enough to amortise dispatch.
CHUNK = 4096


@njit(cache=True, nogil=True)
def _counts_range(
    below: NDArray[np.float64],
    above: NDArray[np.float64],
    draws: NDArray[np.int64],
    indptr: NDArray[np.int64],
    weights: NDArray[np.float64],
    observed: NDArray[np.float64],
    tolerance: NDArray[np.float64],
    start: int,
    stop: int,
    ge: NDArray[np.int32],
    le: NDArray[np.int32],
) -> None:  # pragma: no cover - compiled; tested through permutation_counts
    """Counts for areas ``start`` to ``stop``.

    ``draws[m, p]`` is the m-th draw of permutation p (an index into the n - 1 other
    areas); ``below[s, m, p]`` and ``above[s, m, p]`` are variable s at that index and at
    the next one, i.e. the drawn value when the draw lies below, or at or above, the area
    itself (which is skipped). The loop over permutations is contiguous and branch-free.
    """
    n_vars = below.shape[0]
    n_perm = below.shape[2]
    lag = np.empty(n_perm)
    for i in range(start, stop):
        first = indptr[i]
        k = indptr[i + 1] - first
        if k == 0:
            continue
        for s in range(n_vars):
            lag[:] = 0.0
            for m in range(k):
                w = weights[first + m]
                row_draws = draws[m]
                row_below = below[s, m]
                row_above = above[s, m]
                for p in range(n_perm):
                    value = row_above[p] if row_draws[p] >= i else row_below[p]
                    lag[p] += w * value
            obs = observed[i, s]
            tol = tolerance[i, s]
            count_ge = 0
            count_le = 0
            for p in range(n_perm):
                d = lag[p] - obs
                count_ge += d >= -tol
                count_le += d <= tol
            ge[i, s] = count_ge
            le[i, s] = count_le


def draw_table(
    n: int, k_max: int, permutations: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """``permutations`` rows of ``k_max`` distinct integers from ``range(n - 1)``.

    Drawn with replacement and redrawn where a row repeats a value (rare while k_max is
    much smaller than n); exact sampling without replacement otherwise.
    """
    k_max = max(int(k_max), 1)
    if n - 1 < k_max:
        raise ValueError(f"an area has {k_max} neighbours but there are only {n} areas")
    if k_max * 4 > n:  # dense neighbourhoods: sample each row exactly
        return np.stack([rng.permutation(n - 1)[:k_max] for _ in range(permutations)])
    table = rng.integers(0, n - 1, size=(permutations, k_max), dtype=np.int64)
    while True:
        ordered = np.sort(table, axis=1)
        bad = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
        if len(bad) == 0:
            return table
        table[bad] = rng.integers(0, n - 1, size=(len(bad), k_max), dtype=np.int64)


@njit(cache=True, nogil=True)
def _search_counts(
    ordered: NDArray[np.float64],
    card: NDArray[np.int64],
    visit: NDArray[np.int64],
    raw: NDArray[np.float64],
    tolerance: NDArray[np.float64],
    ge: NDArray[np.int32],
    le: NDArray[np.int32],
) -> None:  # pragma: no cover - compiled; tested through permutation_counts
    """Per area and variable: permuted sums >= / <= the observed, by binary search.

    ``visit`` orders the areas by their number of neighbours, so that the sorted columns
    being searched stay in cache.
    """
    n_perm = ordered.shape[2]
    for i in visit:
        k = card[i]
        if k == 0:
            continue
        for s in range(raw.shape[1]):
            column = ordered[k - 1, s]
            low_value = raw[i, s] - tolerance[i, s]
            high_value = raw[i, s] + tolerance[i, s]
            # Branch-free binary searches (conditional moves, no mispredictions):
            # first position with column >= low_value, and with column > high_value.
            base, size = 0, n_perm
            while size > 1:
                half = size >> 1
                base = base + half if column[base + half - 1] < low_value else base
                size -= half
            first_ge = base + (1 if column[base] < low_value else 0)
            base, size = 0, n_perm
            while size > 1:
                half = size >> 1
                base = base + half if column[base + half - 1] <= high_value else base
                size -= half
            first_gt = base + (1 if column[base] <= high_value else 0)
            ge[i, s] = n_perm - first_ge
            le[i, s] = first_gt


def _row_constant(indptr: NDArray[np.int64], weights: NDArray[np.float64]) -> bool:
    """True when every area's weights are all equal (binary or row-standardised binary)."""
    nonempty = np.flatnonzero(np.diff(indptr) > 0)
    if len(nonempty) == 0:
        return True
    starts = indptr[nonempty]
    high = np.maximum.reduceat(weights, starts)
    low = np.minimum.reduceat(weights, starts)
    return bool(np.all(high == low))


def _counts_shared_sums(
    y: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    tolerance: NDArray[np.float64],
    permutations: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Counts for row-constant weights, in O(areas x variables x log permutations).

    Each permutation draws k_max + 1 distinct areas from all n. An area with k neighbours
    uses the first k draws; if it drew itself there, the spare (k_max + 1)-th draw replaces
    it. Its draws are then a uniform k-subset of the other areas (either it was not among
    the first k, or a uniform one of the rest replaces it). Without the rare replacements,
    all areas with k neighbours share the permuted sums, the prefix sums of the draws: the
    counts are a binary search in their sorted values, then corrected where an area drew
    itself.
    """
    n, n_vars = y.shape
    card = np.diff(indptr)
    k_max = int(card.max())
    table = draw_table(n + 1, k_max + 1, permutations, rng)  # values in range(n)
    prefix = np.cumsum(y[table[:, :k_max]], axis=1)  # (perm, k_max, variables)
    # (k_max, variables, permutations): sorted and searched along contiguous memory
    ordered = np.ascontiguousarray(prefix.transpose(1, 2, 0))
    ordered.sort(axis=2)
    pattern = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n, n))
    raw = np.ascontiguousarray(pattern @ y)  # unweighted sums: row-constant weights scale
    ge = np.zeros((n, n_vars), dtype=np.int32)
    le = np.zeros((n, n_vars), dtype=np.int32)
    visit = np.argsort(card, kind="stable").astype(np.int64)
    _search_counts(ordered, card, visit, raw, tolerance, ge, le)
    # Areas that drew themselves among their first k draws use the spare draw instead.
    position = np.arange(k_max)[None, :]
    perm_idx, pos_idx = np.nonzero(position < card[table[:, :k_max]])
    area = table[perm_idx, pos_idx]
    if len(area):
        k = card[area]
        old = prefix[perm_idx, k - 1, :]
        new = old - y[area] + y[table[perm_idx, k_max]]
        low = raw[area] - tolerance[area]
        high = raw[area] + tolerance[area]
        np.add.at(ge, area, (new >= low).astype(np.int32) - (old >= low))
        np.add.at(le, area, (new <= high).astype(np.int32) - (old <= high))
    return ge, le


def permutation_counts(
    y: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    weights: NDArray[np.float64],
    *,
    permutations: int,
    seed: int | None,
    threads: int | None = None,
    method: str = "auto",
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]]:
    """Conditional-permutation counts for every area and every column of ``y``.

    Parameters
    ----------
    y
        Values, shape (areas, variables).
    indptr, indices, weights
        The weights in CSR form without self-weights (row i: neighbours of area i).
    permutations, seed
        Number of draws and the seed of ``numpy.random.default_rng``.
    threads
        Worker threads of the general kernel (default: all cores).
    method
        ``"auto"`` (shared sums when every row's weights are equal, else the general
        kernel), or ``"shared"`` / ``"general"`` to force one (for tests).

    Returns
    -------
    ge, le
        Per area and variable, the permutations whose neighbour sum is >= / <= the observed.
    observed
        The observed (weighted) neighbour sums.
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    n = y.shape[0]
    indptr = np.asarray(indptr, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    matrix = sparse.csr_matrix((weights, indices, indptr), shape=(n, n))
    observed = np.ascontiguousarray(matrix @ y)
    ge = np.zeros(y.shape, dtype=np.int32)
    le = np.zeros(y.shape, dtype=np.int32)
    k_max = int(np.diff(indptr).max()) if n else 0
    if n < 2 or k_max == 0 or permutations <= 0:
        return ge, le, observed
    rng = np.random.default_rng(seed)
    # Rounding makes equal sums differ in the last bits; anything below this is a tie.
    scale = np.abs(y).max(axis=0)[None, :]
    if method not in ("auto", "shared", "general"):
        raise ValueError(f"method={method!r}; use 'auto', 'shared' or 'general'")
    shared = _row_constant(indptr, weights) if method == "auto" else method == "shared"
    if shared:
        tolerance = 1e-9 * np.diff(indptr)[:, None] * scale
        ge, le = _counts_shared_sums(y, indptr, indices, tolerance, permutations, rng)
        return ge, le, observed
    row_weight = np.asarray(abs(matrix).sum(axis=1)).reshape(-1)
    tolerance = np.ascontiguousarray(1e-9 * row_weight[:, None] * scale)
    table = draw_table(n, k_max, permutations, rng)
    # Values at every draw, for both positions of the skipped area: the kernel then reads
    # contiguous memory. Size: variables x k_max x permutations (never areas x perm.).
    draws = np.ascontiguousarray(table.T)  # (k_max, permutations)
    below = np.ascontiguousarray(np.moveaxis(y[draws], -1, 0))  # (variables, k_max, perm.)
    above = np.ascontiguousarray(np.moveaxis(y[draws + 1], -1, 0))
    args = (below, above, draws, indptr, weights, observed, tolerance)
    bounds = [(a, min(a + CHUNK, n)) for a in range(0, n, CHUNK)]
    workers = threads or os.cpu_count() or 1
    if workers == 1 or len(bounds) == 1:
        for a, b in bounds:
            _counts_range(*args, a, b, ge, le)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda ab: _counts_range(*args, ab[0], ab[1], ge, le), bounds))
    return ge, le, observed
