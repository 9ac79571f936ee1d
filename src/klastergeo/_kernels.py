"""Compiled kernels of the conditional-permutation engine (numba, cached on disk).

Conditional randomisation (Anselin 1995) keeps an area's own value fixed and draws its
neighbours' values from the other n - 1 areas. Local Moran's I, Getis-Ord Gi and Gi* are all
monotone in the weighted sum of the neighbours' values once the area's own value is fixed,
so one kernel serves them all: it counts, per area and variable, how many permuted sums are
at least (``ge``) and at most (``le``) the observed sum. Ties count on both sides, which
keeps pseudo p-values honest for count data with many equal values.

The draws are one table shared by every area and variable, as esda and GeoDa do: row p
holds ``k_max`` distinct indices into the n - 1 other areas; area i uses the first k_i of
them, shifted past itself. Memory is O(areas x variables + permutations x k_max): no
areas x permutations matrix is ever built.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["draw_table", "permutation_counts"]

#: Areas per task; small enough to balance two threads, large enough to amortise dispatch.
CHUNK = 4096


@njit(cache=True, nogil=True, fastmath=False)
def _counts_range(
    y: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    weights: NDArray[np.float64],
    table: NDArray[np.int64],
    observed: NDArray[np.float64],
    tolerance: NDArray[np.float64],
    start: int,
    stop: int,
    ge: NDArray[np.int32],
    le: NDArray[np.int32],
) -> None:  # pragma: no cover - compiled; tested through permutation_counts
    n_vars = y.shape[1]
    n_perm = table.shape[0]
    lag = np.empty(n_vars)
    for i in range(start, stop):
        first = indptr[i]
        k = indptr[i + 1] - first
        if k == 0:
            continue
        for p in range(n_perm):
            for s in range(n_vars):
                lag[s] = 0.0
            for m in range(k):
                j = table[p, m]
                if j >= i:  # the draws index the other areas: skip i itself
                    j += 1
                w = weights[first + m]
                for s in range(n_vars):
                    lag[s] += w * y[j, s]
            for s in range(n_vars):
                d = lag[s] - observed[i, s]
                if d >= -tolerance[i, s]:
                    ge[i, s] += 1
                if d <= tolerance[i, s]:
                    le[i, s] += 1


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


def permutation_counts(
    y: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    weights: NDArray[np.float64],
    *,
    permutations: int,
    seed: int | None,
    threads: int | None = None,
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
        Worker threads (default: all cores).

    Returns
    -------
    ge, le
        Per area and variable, the permutations whose neighbour sum is >= / <= the observed.
    observed
        The observed neighbour sums.
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    n = y.shape[0]
    observed = np.zeros_like(y)
    rows = np.repeat(np.arange(n), np.diff(indptr))
    np.add.at(observed, rows, weights[:, None] * y[indices])
    ge = np.zeros(y.shape, dtype=np.int32)
    le = np.zeros(y.shape, dtype=np.int32)
    k_max = int(np.diff(indptr).max()) if n else 0
    if n < 2 or k_max == 0 or permutations <= 0:
        return ge, le, observed
    table = draw_table(n, k_max, permutations, np.random.default_rng(seed))
    # Rounding makes equal sums differ in the last bits; anything below this is a tie.
    row_weight = np.zeros(n)
    np.add.at(row_weight, rows, np.abs(weights))
    tolerance = 1e-9 * row_weight[:, None] * np.abs(y).max(axis=0)[None, :]
    tolerance = np.ascontiguousarray(tolerance)
    args = (
        y,
        indptr.astype(np.int64),
        indices.astype(np.int64),
        weights.astype(np.float64),
        table,
        observed,
        tolerance,
    )
    bounds = [(a, min(a + CHUNK, n)) for a in range(0, n, CHUNK)]
    workers = threads or os.cpu_count() or 1
    if workers == 1 or len(bounds) == 1:
        for a, b in bounds:
            _counts_range(*args, a, b, ge, le)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda ab: _counts_range(*args, ab[0], ab[1], ge, le), bounds))
    return ge, le, observed
