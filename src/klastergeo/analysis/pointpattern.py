"""Point-pattern evidence: Ripley's K/L with simulation envelopes and Clark-Evans.

So a researcher can say at which distances a sector's firms are clustered: Ripley's K
counts, for every distance d, the pairs of firms closer than d,
``K(d) = A / (n (n - 1)) * #{ordered pairs i != j: |x_i - x_j| <= d}``, and
``L(d) = sqrt(K(d) / pi)`` linearises it, so that ``L(d) - d`` is 0 for complete spatial
randomness (CSR), positive for clustering and negative for dispersion at that distance.
The envelope is the pointwise range of ``L(d) - d`` over simulated CSR patterns of the
same size inside the same window (the study area's polygons, or a sentra's polygon), drawn
with ``numpy.random.default_rng(seed)``; ``p_value`` is the one-sided Monte-Carlo p of
clustering at each distance. No edge correction is applied: pairs across the window's
edge are missing for observed and simulated patterns alike, so the envelope test stays
valid, but ``L - d`` itself is biased downwards near the window's scale.

Clark & Evans (1954): ``R = mean nearest-neighbour distance / (0.5 / sqrt(n / A))``; R < 1
clustered, R > 1 dispersed; ``z = (observed - expected) / (0.26136 / sqrt(n**2 / A))``.
Within a sentra (a small window with a known perimeter) Donnelly's edge correction is
applied; for a whole sector in the study area it is not (the outline of thousands of
villages is costly to build, and with many firms the bias is a few per cent towards
dispersion, i.e. conservative for clustering).

K is counted with :meth:`scipy.spatial.cKDTree.count_neighbors` (O(n) memory), not with
``pointpats.distance_statistics.k`` (O(n^2) pairwise distances and unseeded simulations):
``benchmarks/bench_pointpattern.py`` times both, and the tests check the two agree.
Patterns above ``max_points`` firms are subsampled (seeded) for K; Clark-Evans uses all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import stats
from scipy.spatial import cKDTree

from klastergeo.analysis.geometry import firm_xy, projected_xy, to_metric
from klastergeo.errors import ConfigError, DataError
from klastergeo.schema import sentra_ids

__all__ = ["RipleyResult", "by_sector", "by_sentra", "clark_evans", "csr_points", "ripley"]

logger = logging.getLogger(__name__)

RipleyResult = pd.DataFrame  # indexed by distance_m; see :func:`ripley`


def csr_points(
    window: Sequence[shapely.Geometry] | shapely.Geometry,
    size: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """``size`` points uniform in the union of ``window`` (polygons in metres), by
    vectorised rejection sampling in the bounding box.

    Parameters
    ----------
    window
        One polygon or several, in a projected CRS (metres); overlapping parts are not
        sampled twice as often.
    size
        Number of points to draw.
    rng
        The random generator the points are drawn from.

    Returns
    -------
    ndarray
        ``(size, 2)`` coordinates.

    Raises
    ------
    DataError
        If too few points fall inside the window (an empty window).
    """
    shapes = np.atleast_1d(np.asarray(window, dtype=object))
    few = len(shapes) <= 8  # a sentra: test the points directly, no point objects
    if few:
        shapely.prepare(shapes)
    tree = None if few else shapely.STRtree(shapes)
    minx, miny = shapely.bounds(shapes)[:, :2].min(axis=0)
    maxx, maxy = shapely.bounds(shapes)[:, 2:].max(axis=0)
    total = float(shapely.area(shapes).sum())
    accept = max(total / ((maxx - minx) * (maxy - miny)), 1e-3)
    out = np.empty((0, 2))
    for _ in range(100):
        need = size - len(out)
        if need <= 0:
            break
        m = int(need / accept * 1.2) + 16
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        hit = np.zeros(m, dtype=bool)
        if tree is None:
            for shape in shapes:
                hit |= shapely.intersects_xy(shape, x, y)
        else:
            hit[tree.query(shapely.points(x, y), predicate="intersects")[0]] = True
        out = np.vstack([out, np.column_stack([x[hit], y[hit]])])
    if len(out) < size:
        raise DataError("could not sample points inside the window; is it empty?")
    return out[:size]


def _k(
    points: NDArray[np.float64], distances: NDArray[np.float64], area: float
) -> tuple[NDArray[np.float64], float]:
    """Ripley's K at ``distances`` (increasing) and the mean nearest-neighbour distance.

    Pairs within the largest distance come from one k-d tree query, then one sort
    (cheaper than a tree count per distance). A point's nearest neighbour is its
    nearest partner in those pairs; only the points without one are looked up in the
    tree (a nearest-neighbour query of every point cost twice the rest). The distances
    are computed as the tree computes them (the root of the summed squares), so the
    mean is the one of a query of every point, to the bit."""
    n = len(points)
    tree = cKDTree(points)
    pairs = tree.query_pairs(float(distances[-1]), output_type="ndarray")
    gap = points[pairs[:, 0]] - points[pairs[:, 1]]
    lengths = np.sort(np.hypot(gap[:, 0], gap[:, 1]))
    within = np.searchsorted(lengths, distances, side="right").astype(float)
    nearest = np.full(n, np.inf)
    span = np.sqrt(gap[:, 0] * gap[:, 0] + gap[:, 1] * gap[:, 1])
    np.minimum.at(nearest, pairs[:, 0], span)
    np.minimum.at(nearest, pairs[:, 1], span)
    alone = np.flatnonzero(np.isinf(nearest))
    if len(alone):
        nearest[alone] = tree.query(points[alone], k=2)[0][:, 1]
    return area * 2.0 * within / (n * (n - 1)), float(nearest.mean())  # ordered pairs i != j


def _subset(rng: np.random.Generator, size: int, m: int) -> NDArray[np.int64]:
    """m distinct indices of range(size), uniformly: the first m distinct values of
    uniform draws (O(m log m), unlike a permutation of all ``size``)."""
    if m * 2 > size:
        return rng.choice(size, m, replace=False)
    while True:
        draws = rng.integers(0, size, int(m * 1.2) + 16)
        values, first = np.unique(draws, return_index=True)
        if len(values) >= m:
            return draws[np.sort(first)[:m]]


def ripley(
    points: NDArray[np.float64] | gpd.GeoSeries,
    *,
    window: Sequence[shapely.Geometry] | shapely.Geometry | None = None,
    distances: NDArray[np.float64] | None = None,
    simulations: int = 99,
    seed: int | None = 0,
    max_points: int = 1000,
    pool: NDArray[np.float64] | None = None,
    reference: NDArray[np.float64] | None = None,
) -> RipleyResult:
    """Ripley's K and L of a point pattern, with a CSR simulation envelope.

    Parameters
    ----------
    points
        Coordinates in metres ((n, 2) array) or a GeoSeries (projected to its UTM zone
        when geographic).
    window
        The polygon(s) the pattern lives in (metres); default: the convex hull of the
        points.
    distances
        Distances in metres (default: 20 steps up to a quarter of the window's square
        root of area, at most 5 km: sentra are villages, a few km across).
    simulations
        CSR patterns for the envelope (99 gives a pointwise 1 % one-sided level at the
        envelope's edge).
    seed
        Seed of the simulations and of the subsample.
    max_points
        Patterns larger than this are subsampled for K.
    pool
        Pre-drawn CSR points in ``window`` (at least ``simulations * n``), shared between
        calls on the same window.
    reference
        Coordinates of *all* firms: the envelope then comes from random labelling (each
        simulation takes n of them at random) instead of CSR, so it asks whether the
        sector is more clustered than firms in general - specialisation, not density.

    Returns
    -------
    DataFrame indexed by ``distance_m`` with ``K``, ``L``, ``L_minus_d``, ``low``, ``high``
    (envelope of ``L - d``), ``p_value`` (clustering), ``clustered`` (above the envelope)
    and ``dispersed`` (below it) at each distance. ``attrs`` hold ``n``, ``n_used``,
    ``area_m2``, ``p_global`` (a global one-sided test of clustering over all distances:
    the largest studentised excess of ``L - d`` ranked among the simulations', which,
    unlike the pointwise envelope, keeps its level over many distances), and the mean
    nearest-neighbour distance of the pattern (``nn_observed_m``), of the simulations
    (``nn_simulated_m``) and its one-sided Monte-Carlo p (``p_nn``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> result = ripley(rng.uniform(0, 1000, (200, 2)), window=shapely.box(0, 0, 1000, 1000))
    >>> bool(result["clustered"].any()), result.attrs["p_global"] > 0.05
    (False, True)
    """
    xy = _coordinates(points)
    rng = np.random.default_rng(seed)
    n_all = len(xy)
    if n_all < 3:
        raise DataError(f"Ripley's K needs at least 3 points; got {n_all}")
    if simulations < 1:
        raise ConfigError(f"simulations={simulations!r} must be at least 1")
    shapes, area = _window(xy, window)
    distances = _distances(distances, area)
    used = xy if n_all <= max_points else xy[rng.choice(n_all, max_points, replace=False)]
    n = len(used)
    observed, nn_observed = _k(used, distances, area)
    if reference is not None:
        ref = np.asarray(reference, dtype=float)
        if len(ref) < n:
            raise DataError(f"reference has {len(ref)} points, fewer than the pattern's {n}")
        draws = [ref[_subset(rng, len(ref), n)] for _ in range(simulations)]
    else:
        if pool is None or len(pool) < simulations * n:
            pool = csr_points(shapes, simulations * n, rng)
        draws = [pool[s * n : (s + 1) * n] for s in range(simulations)]
    results = [_k(d, distances, area) for d in draws]
    out = _envelope(observed, np.vstack([k for k, _ in results]), distances)
    nn_simulated = np.array([nn for _, nn in results])
    out.attrs.update(
        {
            "n": n_all,
            "n_used": n,
            "area_m2": area,
            "p_global": out.attrs["p_global"],
            "nn_observed_m": nn_observed,
            "nn_simulated_m": float(nn_simulated.mean()),
            "p_nn": float(((nn_simulated <= nn_observed).sum() + 1) / (simulations + 1)),
        }
    )
    return out


def _window(
    xy: NDArray[np.float64], window: Sequence[shapely.Geometry] | shapely.Geometry | None
) -> tuple[NDArray[np.object_], float]:
    """The window's polygons (default: the points' convex hull) and their area."""
    shapes = (
        np.atleast_1d(np.asarray(window, dtype=object))
        if window is not None
        else np.array([shapely.convex_hull(shapely.multipoints(xy))], dtype=object)
    )
    area = float(shapely.area(shapes).sum())
    if area <= 0:
        raise DataError("the window has no area (points on a line?); pass a polygon window")
    return shapes, area


def _distances(distances: NDArray[np.float64] | None, area: float) -> NDArray[np.float64]:
    """The given distances, checked, or 20 steps up to a quarter of sqrt(area), <= 5 km."""
    if distances is None:
        top = min(5_000.0, 0.25 * np.sqrt(area))
        distances = np.linspace(top / 20, top, 20)
    distances = np.asarray(distances, dtype=float)
    if (distances <= 0).any() or not np.all(np.diff(distances) > 0):
        raise ConfigError("distances must be positive and increasing (metres)")
    return distances


def _envelope(
    observed: NDArray[np.float64], simulated: NDArray[np.float64], distances: NDArray[np.float64]
) -> pd.DataFrame:
    """K, L, the pointwise envelope of ``L - d`` and its p per distance; ``attrs``
    holds the global test's ``p_global``."""
    simulations = len(simulated)
    l_obs = np.sqrt(observed / np.pi) - distances
    l_sim = np.sqrt(simulated / np.pi) - distances[None, :]
    low, high = l_sim.min(axis=0), l_sim.max(axis=0)
    p_value = ((l_sim >= l_obs[None, :]).sum(axis=0) + 1.0) / (simulations + 1.0)
    out = pd.DataFrame(
        {
            "K": observed,
            "L": np.sqrt(observed / np.pi),
            "L_minus_d": l_obs,
            "low": low,
            "high": high,
            "p_value": p_value,
            "clustered": l_obs > high,
            "dispersed": l_obs < low,
        },
        index=pd.Index(distances, name="distance_m"),
    )
    # global test: the largest studentised excess of L - d over all distances, ranked
    # among the simulations' own (controls the error rate over distances)
    spread = l_sim.std(axis=0, ddof=1)
    spread[spread == 0] = np.inf
    centre = l_sim.mean(axis=0)
    t_obs = np.max((l_obs - centre) / spread)
    t_sim = np.max((l_sim - centre[None, :]) / spread[None, :], axis=1)
    out.attrs["p_global"] = float(((t_sim >= t_obs).sum() + 1) / (simulations + 1))
    return out


def clark_evans(
    points: NDArray[np.float64] | gpd.GeoSeries,
    *,
    area: float | None = None,
    perimeter: float | None = None,
) -> dict[str, float | str]:
    """Clark-Evans nearest-neighbour index of a pattern in a window of ``area`` m2
    (default: the points' convex hull, with its perimeter).

    With the window's ``perimeter`` (m) the expectation and standard error carry Donnelly's
    (1978) edge correction, ``E = 0.5 sqrt(A/n) + (0.0514 + 0.041/sqrt(n)) P/n``,
    ``SE = sqrt(0.0703 A/n**2 + 0.037 P sqrt(A/n**5))``: without it, points near the edge
    have farther neighbours and small patterns look dispersed.

    Returns ``n``, ``mean_nn_m``, ``expected_nn_m``, ``R``, ``z``, ``p_value``
    (two-sided), ``pattern`` (``clustered``, ``dispersed`` or ``random`` at 5 %) and
    ``correction`` (``donnelly`` or ``none``).

    Parameters
    ----------
    points
        At least 2 points: coordinates in metres (an (n, 2) array) or a GeoSeries
        (projected to its UTM zone when geographic).
    area
        The window's area in m2; positive. None uses the points' convex hull, and its
        perimeter for the edge correction.
    perimeter
        The window's perimeter in metres, for Donnelly's edge correction; None (or 0)
        applies no correction. Ignored when ``area`` is None.

    Examples
    --------
    >>> grid = np.stack(np.meshgrid(np.arange(10.0), np.arange(10.0)), -1).reshape(-1, 2)
    >>> round(clark_evans(grid * 100, area=1e6)["R"], 3)
    2.0
    """
    xy = _coordinates(points)
    n = len(xy)
    if n < 2:
        raise DataError(f"Clark-Evans needs at least 2 points; got {n}")
    if area is None:
        hull = shapely.convex_hull(shapely.multipoints(xy))
        area, perimeter = float(shapely.area(hull)), float(shapely.length(hull))
    if area <= 0:
        raise ConfigError(f"area={area!r} must be positive (m2)")
    nearest = cKDTree(xy).query(xy, k=2)[0][:, 1]
    observed = float(nearest.mean())
    if perimeter:
        expected = 0.5 * np.sqrt(area / n) + (0.0514 + 0.041 / np.sqrt(n)) * perimeter / n
        se = np.sqrt(0.0703 * area / n**2 + 0.037 * perimeter * np.sqrt(area / n**5))
    else:
        expected = 0.5 / np.sqrt(n / area)
        se = 0.26136 / np.sqrt(n * n / area)
    z = (observed - expected) / se
    p = float(2 * stats.norm.sf(abs(z)))
    pattern = "random" if p >= 0.05 else ("clustered" if z < 0 else "dispersed")
    return {
        "n": n,
        "mean_nn_m": observed,
        "expected_nn_m": float(expected),
        "R": observed / float(expected),
        "z": float(z),
        "p_value": p,
        "pattern": pattern,
        "correction": "donnelly" if perimeter else "none",
    }


def _coordinates(points: NDArray[np.float64] | gpd.GeoSeries) -> NDArray[np.float64]:
    if isinstance(points, gpd.GeoSeries | gpd.GeoDataFrame):
        metric = to_metric(gpd.GeoDataFrame(geometry=points.geometry))
        return shapely.get_coordinates(metric.geometry.to_numpy())
    xy = np.asarray(points, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ConfigError(f"points must be an (n, 2) array of metres; got shape {xy.shape}")
    return xy


def by_sector(
    firms: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    sectors: Sequence[str] | None = None,
    simulations: int = 99,
    seed: int | None = 0,
    max_points: int = 1000,
    min_firms: int = 20,
    reference: Literal["firms", "csr"] = "firms",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ripley's L envelope and Clark-Evans of every sector's firms, in the study area.

    The window is the union of ``areas`` (the study area's polygons: CSR points fall on
    land, where firms can be), its area their summed area. With ``reference="firms"``
    (default) the envelope is random labelling of all firms and Clark-Evans gains
    ``R_relative``: the sector's mean nearest-neighbour distance over that of random
    same-size sets of firms, with its Monte-Carlo ``p_relative`` (clustering) - firms
    cluster where people live, so against CSR nearly every sector is clustered; against
    all firms only the specialised ones are.

    Parameters
    ----------
    firms
        Firm points with a ``sector`` column, any CRS; or a plain frame with ``lon``,
        ``lat`` (EPSG:4326) and ``sector`` (a national registry's columns, without a
        point object per firm). Firms without a point (a missing geometry, NaN
        coordinates: placed by their area's code or name) are left out.
    areas
        The study area's polygons; the metric CRS (UTM zone) is chosen from them.
    sectors
        Sectors to test; None tests every sector. Sectors with fewer than ``min_firms``
        firms (or fewer than 3) are skipped.
    simulations
        Simulated patterns of each envelope.
    seed
        Seed of all random draws; each sector gets its own seed drawn from it.
    max_points
        Sectors with more firms are subsampled for K (Clark-Evans uses all).
    min_firms
        Least firms of a tested sector (20 by default, as for a sentra).
    reference
        ``"firms"``: the envelope is random labelling of all firms; ``"csr"``: complete
        spatial randomness in the study area.

    Returns
    -------
    ripley
        Long table: ``sector``, ``distance_m`` and the columns of :func:`ripley`.
    clark_evans
        One row per sector (the keys of :func:`clark_evans`) plus ``clustered_at_m``: the
        distances at which L is above the envelope (``;``-joined).
    """
    metric = to_metric(areas[[areas.geometry.name]])
    crs, shapes = metric.crs, metric.geometry.to_numpy()
    area = float(shapely.area(shapes).sum())
    xy = firm_xy(firms, crs)
    # sector codes, not a string per firm (categories stay categories)
    codes, names = pd.factorize(firms["sector"])
    xy, codes = _with_points(xy, codes)
    names = pd.Index(np.asarray(names).astype(str))
    counts = pd.Series(np.bincount(codes[codes >= 0], minlength=len(names)), index=names)
    chosen = [
        s
        for s in (sorted(counts.index) if sectors is None else [str(s) for s in sectors])
        if counts.get(s, 0) >= max(min_firms, 3)
    ]
    if reference not in ("firms", "csr"):
        raise ConfigError(f"reference={reference!r} is not accepted; use 'firms' or 'csr'")
    rng = np.random.default_rng(seed)
    largest = min(int(counts.reindex(chosen).max()) if chosen else 0, max_points)
    pool = csr_points(shapes, simulations * largest, rng) if chosen and reference == "csr" else None
    curves, summary = [], []
    for code in chosen:  # one pattern per sector (tens)
        pts = xy[codes == names.get_loc(code)]
        curve = ripley(
            pts,
            window=shapes,
            simulations=simulations,
            seed=int(rng.integers(2**32)),
            max_points=max_points,
            pool=pool,
            reference=xy if reference == "firms" else None,
        )
        curves.append(curve.reset_index().assign(sector=code))
        row = clark_evans(pts, area=area)
        if reference == "firms":
            simulated = curve.attrs["nn_simulated_m"]
            # firms stacked on a few points (e.g. at village centres): no nearest-neighbour
            # distance to compare with, so the relative index is undefined
            row["R_relative"] = (
                curve.attrs["nn_observed_m"] / simulated if simulated > 0 else float("nan")
            )
            row["p_relative"] = curve.attrs["p_nn"]
        _add_global(row, curve)
        row["sector"] = code
        summary.append(row)
    return _tables(curves, summary, "sector")


def _with_points(
    xy: NDArray[np.float64], codes: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The coordinates and sector codes of the firms that have a point (a firm placed
    by its area's code or name has none: it is in no pattern, never at a centroid)."""
    found = np.isfinite(xy).all(axis=1)
    if found.all():
        return xy, codes
    _without_points(int((~found).sum()), len(xy))
    return xy[found], codes[found]


def _without_points(missing: int, total: int) -> None:
    logger.info(
        "point patterns: %d of %d firms have no point (placed by their area) and are left out",
        missing,
        total,
    )


def _add_global(row: dict[str, float | str], curve: pd.DataFrame) -> None:
    """The global test, and the distances of clustering when it is significant."""
    row["p_global"] = curve.attrs["p_global"]
    significant = curve.attrs["p_global"] <= 0.05
    clustered: list[float] = list(curve.index[curve["clustered"]]) if significant else []
    row["clustered_at_m"] = ";".join(f"{d:.0f}" for d in clustered)


def by_sentra(
    firms: gpd.GeoDataFrame,
    sentra: gpd.GeoDataFrame,
    *,
    simulations: int = 99,
    seed: int | None = 0,
    max_points: int = 1000,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ripley's L envelope and Clark-Evans of each sentra's firms inside its polygon.

    ``firms`` need ``sentra_id``; the window of a sentra is its geometry. Returns the same
    two tables as :func:`by_sector`, keyed by ``sentra_id``.

    Parameters
    ----------
    firms
        Firm points with a ``sentra_id`` column (missing for firms in no sentra); any CRS.
        Firms without a point (placed by their area) are left out.
    sentra
        Sentra polygons, indexed by ``sentra_id`` (or with a ``sentra_id`` column). A
        sentra with fewer than 3 firms is skipped.
    simulations
        CSR patterns of each envelope, drawn inside the sentra's polygon.
    seed
        Seed of all random draws; each sentra gets its own seed drawn from it.
    max_points
        Sentra with more firms are subsampled for K (Clark-Evans uses all).

    Returns
    -------
    tuple of DataFrame
        The Ripley table and the Clark-Evans table (with Donnelly's edge correction).
    """
    if not len(sentra):
        return _tables([], [], "sentra_id")
    crs = to_metric(sentra[[sentra.geometry.name]]).crs
    shapes = sentra.geometry.to_crs(crs)
    inside = firms.loc[firms["sentra_id"].notna()]
    xy = projected_xy(inside.geometry, crs)
    found = np.isfinite(xy).all(axis=1)
    if not found.all():
        _without_points(int((~found).sum()), len(xy))
        inside, xy = inside.iloc[np.flatnonzero(found)], xy[found]
    # each sentra's firms from one sort (not one comparison of every firm per sentra)
    codes, names = pd.factorize(inside["sentra_id"].astype(str))
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    where = {str(name): order[bounds[i] : bounds[i + 1]] for i, name in enumerate(names)}
    empty = np.empty(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    curves, summary = [], []
    for sid, shape in zip(sentra_ids(sentra), shapes.to_numpy(), strict=True):
        pts = xy[where.get(str(sid), empty)]
        if len(pts) < 3:
            continue
        curve = ripley(
            pts,
            window=shape,
            simulations=simulations,
            seed=int(rng.integers(2**32)),
            max_points=max_points,
        )
        curves.append(curve.reset_index().assign(sentra_id=sid))
        row = clark_evans(
            pts, area=float(shapely.area(shape)), perimeter=float(shapely.length(shape))
        )
        row["sentra_id"] = sid
        _add_global(row, curve)
        summary.append(row)
    return _tables(curves, summary, "sentra_id")


def _tables(
    curves: list[pd.DataFrame], summary: list[dict[str, float | str]], key: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    curve_cols = [key, "distance_m", "K", "L", "L_minus_d", "low", "high", "p_value"]
    curve_cols += ["clustered", "dispersed"]
    ce_cols = [key, "n", "mean_nn_m", "expected_nn_m", "R", "z", "p_value", "pattern"]
    ce_cols += ["correction", "R_relative", "p_relative", "p_global", "clustered_at_m"]
    ripley_table = (
        pd.concat(curves, ignore_index=True)[curve_cols]
        if curves
        else pd.DataFrame(columns=curve_cols)
    )
    return ripley_table, pd.DataFrame(summary, columns=ce_cols)
