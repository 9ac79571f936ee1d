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

import itertools
import math
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


#: Largest integer range of one variable's permuted sums counted by a histogram.
MAX_TABLE = 5_000_000
#: Integer sums below this are exact in float64 (2**52).
EXACT_INTEGER = float(2**52)


@njit(cache=True, nogil=True)
def _shared_counts(
    columns: NDArray[np.float64],
    table: NDArray[np.int64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    corrections: NDArray[np.int64],
    first: int,
    last: int,
    ge: NDArray[np.int32],
    le: NDArray[np.int32],
) -> None:  # pragma: no cover - compiled; tested through permutation_counts
    """Counts of variables ``first`` to ``last`` by the shared-sums scheme.

    ``columns[s]`` holds variable s per area, ``table[p]`` the k_max + 1 draws of
    permutation p, ``indptr``/``indices`` the neighbours (CSR). Per variable, the kernel
    sums each area's observed neighbours, keeps the permuted sums of the first k draws in a
    small buffer (k_max x permutations) and counts: integer data with cumulative histograms
    (two look-ups per area), other data by binary search in the sorted sums, where sums
    within 1e-9 * k * max|y| of the observed one count as ties. ``corrections`` rows are
    (permutation, k, area, spare draw) for areas that drew themselves among their first k
    draws: their sum uses the spare draw instead. ``ge`` and ``le`` are (variables, areas).
    """
    n_perm = table.shape[0]
    k_max = table.shape[1] - 1
    n = columns.shape[1]
    sums = np.empty((k_max, n_perm))
    observed = np.empty(n)
    low = np.empty(k_max, dtype=np.int64)
    start = np.empty(k_max + 1, dtype=np.int64)
    for s in range(first, last):
        column = columns[s]
        scale = 0.0
        integer = True
        for i in range(n):
            value = column[i]
            scale = max(scale, abs(value))
            if integer and value != math.floor(value):
                integer = False
        integer = integer and scale * k_max < EXACT_INTEGER
        tolerance = 0.0 if integer else 1e-9 * scale
        for i in range(n):
            total = 0.0
            for t in range(indptr[i], indptr[i + 1]):
                total += column[indices[t]]
            observed[i] = total
        for p in range(n_perm):
            running = 0.0
            for m in range(k_max):
                running += column[table[p, m]]
                sums[m, p] = running
        counted = False
        if integer:
            start[0] = 0
            for k in range(k_max):
                lo = np.int64(sums[k, 0])
                hi = lo
                for p in range(n_perm):
                    v = np.int64(sums[k, p])
                    lo = min(lo, v)
                    hi = max(hi, v)
                low[k] = lo
                start[k + 1] = start[k] + hi - lo + 1
            if start[k_max] <= MAX_TABLE:
                cumulative = np.zeros(start[k_max], dtype=np.int64)
                for k in range(k_max):
                    base = start[k] - low[k]
                    for p in range(n_perm):
                        cumulative[base + np.int64(sums[k, p])] += 1
                    for t in range(start[k] + 1, start[k + 1]):
                        cumulative[t] += cumulative[t - 1]
                for i in range(n):
                    k = indptr[i + 1] - indptr[i] - 1
                    if k < 0:
                        continue
                    v = np.int64(observed[i])
                    lo = low[k]
                    hi = lo + start[k + 1] - start[k] - 1
                    at_most = (
                        0 if v < lo else (n_perm if v >= hi else cumulative[start[k] + v - lo])
                    )
                    below = (
                        0
                        if v - 1 < lo
                        else (n_perm if v - 1 >= hi else cumulative[start[k] + v - 1 - lo])
                    )
                    le[s, i] = at_most
                    ge[s, i] = n_perm - below
                counted = True
        if not counted:
            ordered = np.empty((k_max, n_perm))
            for k in range(k_max):
                ordered[k] = np.sort(sums[k])
            for i in range(n):
                k = indptr[i + 1] - indptr[i] - 1
                if k < 0:
                    continue
                row = ordered[k]
                low_value = observed[i] - tolerance * (k + 1)
                high_value = observed[i] + tolerance * (k + 1)
                # Branch-free binary searches: first position >= low_value, > high_value.
                base, size = 0, n_perm
                while size > 1:
                    half = size >> 1
                    base = base + half if row[base + half - 1] < low_value else base
                    size -= half
                first_ge = base + (1 if row[base] < low_value else 0)
                base, size = 0, n_perm
                while size > 1:
                    half = size >> 1
                    base = base + half if row[base + half - 1] <= high_value else base
                    size -= half
                first_gt = base + (1 if row[base] <= high_value else 0)
                ge[s, i] = n_perm - first_ge
                le[s, i] = first_gt
        for c in range(corrections.shape[0]):
            p = corrections[c, 0]
            k = corrections[c, 1]
            area = corrections[c, 2]
            old = sums[k - 1, p]
            new = old - column[area] + column[corrections[c, 3]]
            low_value = observed[area] - tolerance * k
            high_value = observed[area] + tolerance * k
            ge[s, area] += (1 if new >= low_value else 0) - (1 if old >= low_value else 0)
            le[s, area] += (1 if new <= high_value else 0) - (1 if old <= high_value else 0)


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
    columns: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    permutations: int,
    rng: np.random.Generator,
    threads: int | None = None,
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Counts for row-constant weights, in O(areas x variables) after the draws.

    Each permutation draws k_max + 1 distinct areas from all n. An area with k neighbours
    uses the first k draws; if it drew itself there, the spare (k_max + 1)-th draw replaces
    it. Its draws are then a uniform k-subset of the other areas (either it was not among
    the first k, or a uniform one of the rest replaces it). Without the rare replacements,
    all areas with k neighbours share the permuted sums, the prefix sums of the draws, so
    the counts are a look-up (:func:`_shared_counts`), then corrected where an area drew
    itself. ``columns`` is (variables, areas); the counts are (areas, variables).
    """
    n_vars, n = columns.shape
    card = np.diff(indptr)
    k_max = int(card.max())
    table = draw_table(n + 1, k_max + 1, permutations, rng)  # values in range(n)
    own = np.arange(k_max)[None, :] < card[table[:, :k_max]]
    perm_idx, pos_idx = np.nonzero(own)
    area = table[perm_idx, pos_idx]
    corrections = np.empty((len(area), 4), dtype=np.int64)
    corrections[:, 0] = perm_idx
    corrections[:, 1] = card[area]
    corrections[:, 2] = area
    corrections[:, 3] = table[perm_idx, k_max]
    # Variable-major: each variable's counts are contiguous for the kernel, which fills
    # them one variable at a time; the caller gets (areas, variables) views.
    ge = np.empty((n_vars, n), dtype=np.int32)
    le = np.empty((n_vars, n), dtype=np.int32)
    isolated = card == 0
    ge[:, isolated] = 0
    le[:, isolated] = 0
    args = (columns, table, indptr, indices, corrections)
    workers = min(threads or os.cpu_count() or 1, n_vars)
    if workers <= 1:
        _shared_counts(*args, 0, n_vars, ge, le)
    else:
        bounds = np.linspace(0, n_vars, workers + 1).astype(int)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(
                pool.map(
                    lambda ab: _shared_counts(*args, ab[0], ab[1], ge, le),
                    itertools.pairwise(bounds),
                )
            )
    return ge.T, le.T


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
    columns: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
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
    method
        ``"auto"`` (shared sums when every row's weights are equal, else the general
        kernel), or ``"shared"`` / ``"general"`` to force one (for tests).
    columns
        ``y`` transposed and contiguous, when the caller has it already.

    Returns
    -------
    ge, le
        Per area and variable, the permutations whose (weighted) neighbour sum is >= / <=
        the observed one, counting sums within 1e-9 * sum|w| * max|y| of it as ties.
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    n = y.shape[0]
    indptr = np.asarray(indptr, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    card = np.diff(indptr)
    if method not in ("auto", "shared", "general"):
        raise ValueError(f"method={method!r}; use 'auto', 'shared' or 'general'")
    k_max = int(card.max()) if n else 0
    if n < 2 or k_max == 0 or permutations <= 0:
        return np.zeros(y.shape, dtype=np.int32), np.zeros(y.shape, dtype=np.int32)
    rng = np.random.default_rng(seed)
    if _row_constant(indptr, weights) if method == "auto" else method == "shared":
        # Every row's weights are one value: its permuted sums order as the unweighted ones.
        if columns is None:
            columns = np.ascontiguousarray(y.T)
        return _counts_shared_sums(columns, indptr, indices, permutations, rng, threads)
    matrix = sparse.csr_matrix((weights, indices, indptr), shape=(n, n))
    observed = np.ascontiguousarray(matrix @ y)
    # Rounding makes equal sums differ in the last bits; anything below this is a tie.
    absolute = np.asarray(abs(matrix).sum(axis=1)).reshape(-1)
    tolerance = np.ascontiguousarray(1e-9 * absolute[:, None] * np.abs(y).max(axis=0))
    ge = np.zeros(y.shape, dtype=np.int32)
    le = np.zeros(y.shape, dtype=np.int32)
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
    return ge, le
