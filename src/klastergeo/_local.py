"""Compiled finishing passes of the local statistics: one pass per area and variable.

Given the permutation counts (:mod:`klastergeo._kernels`), local Moran's I and Getis-Ord
G each need the statistic, its analytical moments, z, two p-values and the cluster code.
Done with NumPy that is some 25 passes over the areas x variables arrays; these kernels do
it in one, per variable (columns are contiguous), so that adding sectors to a call costs
little. The formulas are esda's (tested to 1e-9 through the public functions).
"""

from __future__ import annotations

import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["ALTERNATIVES", "g_columns", "moran_columns"]

#: Codes of the ``alternative`` argument inside the kernels.
ALTERNATIVES = {"two-sided": 0, "greater": 1, "lesser": 2, "folded": 3}
_SQRT2 = math.sqrt(2.0)


@njit(cache=True, nogil=True)
def _normal_p(z: float, alternative: int) -> float:  # pragma: no cover - compiled
    if alternative == 1:
        return 0.5 * math.erfc(z / _SQRT2)
    if alternative == 2:
        return 0.5 * math.erfc(-z / _SQRT2)
    tail = 0.5 * math.erfc(abs(z) / _SQRT2)
    return tail if alternative == 3 else 2.0 * tail


@njit(cache=True, nogil=True)
def _pseudo_p(
    greater: int, lesser: int, permutations: int, alternative: int
) -> float:  # pragma: no cover - compiled
    p_greater = (greater + 1.0) / (permutations + 1.0)
    p_lesser = (lesser + 1.0) / (permutations + 1.0)
    if alternative == 1:
        return p_greater
    if alternative == 2:
        return p_lesser
    folded = min(p_greater, p_lesser)
    return folded if alternative == 3 else min(1.0, 2.0 * folded)


@njit(cache=True, nogil=True)
def _moran_range(
    columns: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    wi: NDArray[np.float64],
    wi2: NDArray[np.float64],
    ge: NDArray[np.int32],
    le: NDArray[np.int32],
    permutations: int,
    alternative: int,
    decide_on_sim: bool,
    alpha: float,
    decide: bool,
    first: int,
    last: int,
    statistic: NDArray[np.float64],
    zscore: NDArray[np.float64],
    p_norm: NDArray[np.float64],
    p_sim: NDArray[np.float64],
    code: NDArray[np.int64],
    constant: NDArray[np.bool_],
) -> None:  # pragma: no cover - compiled; tested through local_moran
    n = columns.shape[1]
    zbuf = np.empty(n)
    inv_n1 = 1.0 / (n - 1)
    inv_n2 = 1.0 / (n - 2)
    scale = (n - 1) / n
    for s in range(first, last):
        y = columns[s]
        mean = 0.0
        for i in range(n):
            mean += y[i]
        mean /= n
        m2 = 0.0
        m4 = 0.0
        for i in range(n):
            d = y[i] - mean
            m2 += d * d
        m2 /= n
        if m2 == 0.0:
            constant[s] = True
            for i in range(n):
                statistic[s, i] = zscore[s, i] = p_norm[s, i] = p_sim[s, i] = np.nan
                code[s, i] = 0
            continue
        sd = math.sqrt(m2)
        for i in range(n):  # standardise once; the neighbour loops then only gather
            zbuf[i] = (y[i] - mean) / sd
            m4 += zbuf[i] ** 4
        b2 = m4 / n  # kurtosis of the standardised values (m2 = 1)
        term_a = (n - b2) * inv_n1
        term_b = (2 * b2 - n) * inv_n1 * inv_n2
        for i in range(n):
            start = indptr[i]
            stop = indptr[i + 1]
            if stop == start:  # no neighbours: undefined
                statistic[s, i] = zscore[s, i] = p_norm[s, i] = p_sim[s, i] = np.nan
                code[s, i] = 0
                continue
            z = zbuf[i]
            lag = 0.0
            for t in range(start, stop):
                lag += data[t] * zbuf[indices[t]]
            value = scale * z * lag  # esda: (n - 1) z lag / sum(z^2), sum(z^2) = n
            w = wi[i]
            expected = -w * inv_n1
            variance = wi2[i] * term_a + (w * w - wi2[i]) * term_b - expected * expected
            zs = (value - expected) / math.sqrt(variance) if variance > 0 else np.nan
            statistic[s, i] = value
            zscore[s, i] = zs
            pn = _normal_p(zs, alternative) if variance > 0 else np.nan
            p_norm[s, i] = pn
            ps = np.nan
            if permutations > 0:
                if z == 0.0:  # I is 0 in every permutation
                    ps = 1.0
                elif z > 0.0:  # I grows with the neighbours' sum
                    ps = _pseudo_p(ge[i, s], le[i, s], permutations, alternative)
                else:  # and falls with it where z < 0
                    ps = _pseudo_p(le[i, s], ge[i, s], permutations, alternative)
            p_sim[s, i] = ps
            # GeoDa codes by (z > 0, lag > 0): HH 1, LL 2, LH 3, HL 4
            quadrant = (1 if lag > 0 else 4) if z > 0 else (3 if lag > 0 else 2)
            if decide:
                p = ps if decide_on_sim else pn
                code[s, i] = quadrant if p <= alpha else 0
            else:
                code[s, i] = quadrant


@njit(cache=True, nogil=True)
def _g_range(
    columns: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    ge: NDArray[np.int32],
    le: NDArray[np.int32],
    permutations: int,
    alternative: int,
    star: bool,
    decide_on_sim: bool,
    decide: bool,
    first: int,
    last: int,
    statistic: NDArray[np.float64],
    zscore: NDArray[np.float64],
    p_norm: NDArray[np.float64],
    p_sim: NDArray[np.float64],
    code: NDArray[np.int64],
    constant: NDArray[np.bool_],
) -> None:  # pragma: no cover - compiled; tested through local_gstar
    n = columns.shape[1]
    for s in range(first, last):
        y = columns[s]
        total = 0.0
        squares = 0.0
        low = y[0]
        high = y[0]
        for i in range(n):
            total += y[i]
            squares += y[i] * y[i]
            low = min(low, y[i])
            high = max(high, y[i])
        if low == high:
            constant[s] = True
            for i in range(n):
                statistic[s, i] = zscore[s, i] = p_norm[s, i] = p_sim[s, i] = np.nan
                code[s, i] = 0
            continue
        for i in range(n):
            start = indptr[i]
            stop = indptr[i + 1]
            if stop == start:
                statistic[s, i] = zscore[s, i] = p_norm[s, i] = p_sim[s, i] = np.nan
                code[s, i] = 0
                continue
            lag = 0.0
            for t in range(start, stop):
                lag += y[indices[t]]
            card = float(stop - start)
            if star:  # the area itself is included
                size = float(n)
                value = (lag + y[i]) / total
                mean = total / size
                mean_sq = squares / size
                card += 1.0
            else:
                size = float(n - 1)
                value = lag / (total - y[i])
                mean = (total - y[i]) / size
                mean_sq = (squares - y[i] * y[i]) / size
            variance_y = mean_sq - mean * mean
            expected = card / size
            variance = (
                card * (size - card) / (size - 1) / (size * size) * variance_y / (mean * mean)
            )
            zs = (value - expected) / math.sqrt(variance) if variance > 0 else np.nan
            statistic[s, i] = value
            zscore[s, i] = zs
            pn = _normal_p(zs, alternative) if variance > 0 else np.nan
            p_norm[s, i] = pn
            ps = np.nan
            if permutations > 0:  # G grows with the neighbours' sum
                ps = _pseudo_p(ge[i, s], le[i, s], permutations, alternative)
            p_sim[s, i] = ps
            if decide:
                p = ps if decide_on_sim else pn
                level = 3 if p <= 0.01 else (2 if p <= 0.05 else (1 if p <= 0.10 else 0))
                code[s, i] = 0 if math.isnan(zs) else (level if zs > 0 else -level)
            else:
                code[s, i] = 0


def _run(
    kernel: Any, columns: NDArray[np.float64], fixed: tuple[Any, ...], threads: int | None
) -> tuple[Any, ...]:
    n_vars, n = columns.shape
    outputs = (
        np.empty((n_vars, n)),
        np.empty((n_vars, n)),
        np.empty((n_vars, n)),
        np.empty((n_vars, n)),
        np.zeros((n_vars, n), dtype=np.int64),
        np.zeros(n_vars, dtype=np.bool_),
    )
    workers = min(threads or os.cpu_count() or 1, n_vars)
    bounds = np.linspace(0, n_vars, workers + 1).astype(int)
    if workers <= 1:
        kernel(columns, *fixed, 0, n_vars, *outputs)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(
                pool.map(
                    lambda ab: kernel(columns, *fixed, ab[0], ab[1], *outputs),
                    itertools.pairwise(bounds),
                )
            )
    return outputs


def moran_columns(
    columns: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    wi: NDArray[np.float64],
    wi2: NDArray[np.float64],
    ge: NDArray[np.int32],
    le: NDArray[np.int32],
    *,
    permutations: int,
    alternative: str,
    decide_on_sim: bool,
    alpha: float,
    decide: bool,
    threads: int | None = None,
) -> tuple[Any, ...]:
    """Local Moran per variable (rows of ``columns``): statistic, z, p_norm, p_sim, code
    (the significant quadrant when ``decide``, else the quadrant), and constant flags."""
    fixed = (
        indptr,
        indices,
        data,
        wi,
        wi2,
        ge,
        le,
        permutations,
        ALTERNATIVES[alternative],
        decide_on_sim,
        alpha,
        decide,
    )
    return _run(_moran_range, columns, fixed, threads)


def g_columns(
    columns: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    ge: NDArray[np.int32],
    le: NDArray[np.int32],
    *,
    permutations: int,
    alternative: str,
    star: bool,
    decide_on_sim: bool,
    decide: bool,
    threads: int | None = None,
) -> tuple[Any, ...]:
    """Getis-Ord Gi/Gi* per variable on binary weights: statistic, z, p_norm, p_sim, bin
    (when ``decide``), and constant flags."""
    fixed = (
        indptr,
        indices,
        ge,
        le,
        permutations,
        ALTERNATIVES[alternative],
        star,
        decide_on_sim,
        decide,
    )
    return _run(_g_range, columns, fixed, threads)
