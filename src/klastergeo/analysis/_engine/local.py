"""Compiled finishing passes of the local statistics: one pass over areas x variables.

Given the permutation counts (:mod:`klastergeo.analysis._engine.kernels`), local Moran's I and
Getis-Ord
G each need the statistic, its analytical moments, z, two p-values and the cluster code.
Done with NumPy that is some 25 passes over the areas x variables arrays; these kernels do
it in one, area by area: an area's neighbours are read once for all variables (values are
stored area-major, so a neighbour's values are contiguous), and the results are written
area-major, the row order of the output frames. Threads take ranges of areas. The formulas
are esda's (tested to 1e-9 through the public functions).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["ALTERNATIVES", "OUTPUTS", "g_columns", "moran_columns"]

#: Codes of the ``alternative`` argument inside the kernels.
ALTERNATIVES = {"two-sided": 0, "greater": 1, "lesser": 2, "folded": 3}
#: The float outputs, in the order of the last axis of the kernels' result.
OUTPUTS = ("statistic", "z", "p_norm", "p_sim")
#: Below this many area-variables one thread does the work (pool start-up would dominate).
THREADED_MIN = 100_000
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
def _undefined(out: NDArray[np.float64], code: NDArray[np.int64], i: int, s: int) -> None:
    for o in range(4):  # pragma: no cover - compiled
        out[i, s, o] = np.nan
    code[i, s] = 0


@njit(cache=True, nogil=True)
def _standardise(
    values: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:  # pragma: no cover
    """z-scores per variable (population sd, as esda), kurtosis b2 and constant flags."""
    n, n_vars = values.shape
    mean = np.zeros(n_vars)
    low = values[0].copy()
    high = values[0].copy()
    for i in range(n):
        for s in range(n_vars):
            v = values[i, s]
            mean[s] += v
            low[s] = min(low[s], v)
            high[s] = max(high[s], v)
    mean /= n
    m2 = np.zeros(n_vars)
    for i in range(n):
        for s in range(n_vars):
            d = values[i, s] - mean[s]
            m2[s] += d * d
    constant = low == high
    sd = np.sqrt(m2 / n)
    for s in range(n_vars):
        if constant[s] or sd[s] == 0.0:
            constant[s] = True
            sd[s] = 1.0
    z = np.empty((n, n_vars))
    m4 = np.zeros(n_vars)
    for i in range(n):
        for s in range(n_vars):
            zs = (values[i, s] - mean[s]) / sd[s]
            z[i, s] = zs
            m4[s] += zs * zs * zs * zs
    return z, m4 / n, constant


@njit(cache=True, nogil=True)
def _moran_areas(
    z: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    wi: NDArray[np.float64],
    wi2: NDArray[np.float64],
    b2: NDArray[np.float64],
    constant: NDArray[np.bool_],
    ge: NDArray[np.int32],
    le: NDArray[np.int32],
    permutations: int,
    alternative: int,
    decide_on_sim: bool,
    alpha: float,
    decide: bool,
    first: int,
    last: int,
    out: NDArray[np.float64],
    code: NDArray[np.int64],
) -> None:  # pragma: no cover - compiled; tested through local_moran
    n, n_vars = z.shape
    inv_n1 = 1.0 / (n - 1)
    inv_n2 = 1.0 / (n - 2)
    scale = (n - 1) / n
    term_a = (n - b2) * inv_n1
    term_b = (2 * b2 - n) * inv_n1 * inv_n2
    lag = np.empty(n_vars)
    for i in range(first, last):
        start = indptr[i]
        stop = indptr[i + 1]
        if stop == start:  # no neighbours: undefined
            for s in range(n_vars):
                _undefined(out, code, i, s)
            continue
        lag[:] = 0.0
        for t in range(start, stop):
            j = indices[t]
            weight = data[t]
            for s in range(n_vars):
                lag[s] += weight * z[j, s]
        w = wi[i]
        expected = -w * inv_n1
        for s in range(n_vars):
            if constant[s]:
                _undefined(out, code, i, s)
                continue
            zi = z[i, s]
            value = scale * zi * lag[s]  # esda: (n - 1) z lag / sum(z^2), sum(z^2) = n
            variance = wi2[i] * term_a[s] + (w * w - wi2[i]) * term_b[s] - expected * expected
            zs = (value - expected) / math.sqrt(variance) if variance > 0 else np.nan
            pn = _normal_p(zs, alternative) if variance > 0 else np.nan
            ps = np.nan
            if permutations > 0:
                if zi == 0.0:  # I is 0 in every permutation
                    ps = 1.0
                elif zi > 0.0:  # I grows with the neighbours' sum
                    ps = _pseudo_p(ge[s, i], le[s, i], permutations, alternative)
                else:  # and falls with it where z < 0
                    ps = _pseudo_p(le[s, i], ge[s, i], permutations, alternative)
            out[i, s, 0] = value
            out[i, s, 1] = zs
            out[i, s, 2] = pn
            out[i, s, 3] = ps
            # GeoDa codes by (z > 0, lag > 0): HH 1, LL 2, LH 3, HL 4
            quadrant = (1 if lag[s] > 0 else 4) if zi > 0 else (3 if lag[s] > 0 else 2)
            if decide:
                p = ps if decide_on_sim else pn
                code[i, s] = quadrant if p <= alpha else 0
            else:
                code[i, s] = quadrant


@njit(cache=True, nogil=True)
def _g_areas(
    y: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    total: NDArray[np.float64],
    squares: NDArray[np.float64],
    constant: NDArray[np.bool_],
    ge: NDArray[np.int32],
    le: NDArray[np.int32],
    permutations: int,
    alternative: int,
    star: bool,
    decide_on_sim: bool,
    decide: bool,
    first: int,
    last: int,
    out: NDArray[np.float64],
    code: NDArray[np.int64],
) -> None:  # pragma: no cover - compiled; tested through local_gstar
    n, n_vars = y.shape
    inv_n = 1.0 / n
    inv_total = 1.0 / total
    # Gi*: Var = k (n - k) / ((n - 1) n^2) * var(y) / mean(y)^2, with k counting the area
    means = total * inv_n
    star_factor = (squares * inv_n - means * means) / (means * means) / ((n - 1.0) * n * n)
    lag = np.empty(n_vars)
    for i in range(first, last):
        start = indptr[i]
        stop = indptr[i + 1]
        if stop == start:
            for s in range(n_vars):
                _undefined(out, code, i, s)
            continue
        lag[:] = 0.0
        for t in range(start, stop):
            j = indices[t]
            for s in range(n_vars):
                lag[s] += y[j, s]
        card = float(stop - start)
        for s in range(n_vars):
            if constant[s]:
                _undefined(out, code, i, s)
                continue
            yi = y[i, s]
            if star:  # the area itself is included; the moments are the variable's
                value = (lag[s] + yi) * inv_total[s]
                expected = (card + 1.0) * inv_n
                variance = (card + 1.0) * (n - card - 1.0) * star_factor[s]
            else:
                size = float(n - 1)
                value = lag[s] / (total[s] - yi)
                mean = (total[s] - yi) / size
                mean_sq = (squares[s] - yi * yi) / size
                variance_y = mean_sq - mean * mean
                expected = card / size
                variance = (
                    card * (size - card) / (size - 1) / (size * size) * variance_y / (mean * mean)
                )
            zs = (value - expected) / math.sqrt(variance) if variance > 0 else np.nan
            pn = _normal_p(zs, alternative) if variance > 0 else np.nan
            ps = np.nan
            if permutations > 0:  # G grows with the neighbours' sum
                ps = _pseudo_p(ge[s, i], le[s, i], permutations, alternative)
            out[i, s, 0] = value
            out[i, s, 1] = zs
            out[i, s, 2] = pn
            out[i, s, 3] = ps
            if decide:
                p = ps if decide_on_sim else pn
                level = 3 if p <= 0.01 else (2 if p <= 0.05 else (1 if p <= 0.10 else 0))
                code[i, s] = 0 if math.isnan(zs) else (level if zs > 0 else -level)
            else:
                code[i, s] = 0


def _run(
    kernel: Any, values: NDArray[np.float64], fixed: tuple[Any, ...], threads: int | None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Run ``kernel`` over ranges of areas; returns (areas, variables, 4) floats (see
    :data:`OUTPUTS`) and (areas, variables) codes."""
    n, n_vars = values.shape
    out = np.empty((n, n_vars, len(OUTPUTS)))
    code = np.empty((n, n_vars), dtype=np.int64)
    workers = threads or os.cpu_count() or 1
    if workers <= 1 or n * n_vars < THREADED_MIN:
        kernel(values, *fixed, 0, n, out, code)
    else:
        bounds = np.linspace(0, n, workers + 1).astype(np.int64)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(
                pool.map(
                    lambda a, b: kernel(values, *fixed, a, b, out, code), bounds[:-1], bounds[1:]
                )
            )
    return out, code


def moran_columns(
    values: NDArray[np.float64],
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
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
    """Local Moran of every column of ``values`` (areas x variables, C order); ``ge`` and
    ``le`` are the permutation counts as C-contiguous (variables, areas) arrays.

    Returns the (areas, variables, 4) float outputs (:data:`OUTPUTS`), the code (the
    significant quadrant when ``decide``, else the quadrant) and the constant-variable flags.
    """
    z, b2, constant = _standardise(values)
    fixed = (
        indptr,
        indices,
        data,
        wi,
        wi2,
        b2,
        constant,
        ge,
        le,
        permutations,
        ALTERNATIVES[alternative],
        decide_on_sim,
        alpha,
        decide,
    )
    out, code = _run(_moran_areas, z, fixed, threads)
    return out, code, constant


def g_columns(
    values: NDArray[np.float64],
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
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
    """Getis-Ord Gi/Gi* of every column of ``values`` on binary weights (counts as in
    :func:`moran_columns`): the (areas, variables, 4) float outputs, the bin (when
    ``decide``) and the constant flags."""
    constant = values.min(axis=0) == values.max(axis=0)
    fixed = (
        indptr,
        indices,
        values.sum(axis=0),
        (values * values).sum(axis=0),
        constant,
        ge,
        le,
        permutations,
        ALTERNATIVES[alternative],
        star,
        decide_on_sim,
        decide,
    )
    out, code = _run(_g_areas, values, fixed, threads)
    return out, code, constant
