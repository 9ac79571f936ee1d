"""Automatic analysis scale for point-aggregated data, as ArcGIS's Optimized Hot Spot Analysis.

Incremental spatial autocorrelation: global Moran's I (binary distance-band weights) is
computed for about ten distances, starting where every point but the locational outliers
has a neighbour and growing by the mean nearest-neighbour distance. The chosen scale is:

1. the first *peak* of the Moran's I z-score (higher than the bands on both sides; the first
   band counts when it is higher than the second) with z above 1.65 (90 % confidence);
2. else, the band with the highest z-score when that is above 1.65;
3. else, ``k`` nearest neighbours (default 6), because no distance shows clustering.

:func:`choose_scale` reports the choice, the reason in words and the table of bands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from libpysal.graph import Graph
from scipy.spatial import cKDTree

from klastergeo.analysis.weights import distance_band, knn
from klastergeo.errors import ConfigError, DataError

__all__ = ["ScaleChoice", "choose_scale", "incremental_autocorrelation", "scale_graph"]

logger = logging.getLogger(__name__)

#: Pairs of points held in memory at once; bands beyond it are not computed.
MAX_PAIRS = 30_000_000


@dataclass(frozen=True)
class ScaleChoice:
    """The chosen scale: a distance band (metres) or k nearest neighbours, and why."""

    method: Literal["distance_band", "knn"]
    distance: float | None
    k: int | None
    z: float | None
    reason: str
    bands: pd.DataFrame


def _xy(points: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    geometry = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geometry.crs is None or geometry.crs.is_geographic:
        raise ConfigError(
            "the automatic scale needs a projected CRS (distances in metres); reproject "
            "first, e.g. .to_crs(32749) for Jawa Tengah"
        )
    if not (geometry.geom_type == "Point").all():
        geometry = geometry.representative_point()
    return np.column_stack([geometry.x.to_numpy(), geometry.y.to_numpy()])


def _default_bands(nearest: np.ndarray) -> tuple[float, float]:
    """Start where every non-outlier point has a neighbour; grow by the mean NN distance."""
    q1, q3 = np.percentile(nearest, [25, 75])
    regular = nearest[nearest <= q3 + 3 * (q3 - q1)]  # locational outliers (islands) out
    return float(regular.max()), float(nearest.mean())


def incremental_autocorrelation(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    y: pd.Series,
    *,
    bands: int = 10,
    start: float | None = None,
    increment: float | None = None,
) -> pd.DataFrame:
    """Global Moran's I of ``y`` on binary distance bands, one row per band.

    Parameters
    ----------
    points
        Points (or areas, represented by an inner point) in a projected CRS, indexed like
        ``y``.
    y
        The analysed values (e.g. firms per cell).
    bands, start, increment
        Number of distances, the first one and the step (metres); defaults in the module
        docstring.

    Returns
    -------
    DataFrame with ``distance``, ``moran_i``, ``z`` (randomisation), ``mean_neighbours`` and
    ``without_neighbours``.
    """
    xy = _xy(points)
    values = y.reindex(points.index).to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise DataError("y has missing values for some points; fill or drop them")
    n = len(xy)
    if n < 4:
        raise DataError(f"the automatic scale needs at least 4 points, got {n}")
    tree = cKDTree(xy)
    nearest = tree.query(xy, k=2)[0][:, 1]
    default_start, default_increment = _default_bands(nearest)
    start = default_start if start is None else float(start)
    increment = default_increment if increment is None else float(increment)
    if start <= 0 or increment <= 0:
        raise ConfigError("start and increment of the distance bands must be positive")
    distances = start + increment * np.arange(bands)
    # Keep to a memory budget: drop the largest bands if they would hold too many pairs.
    while len(distances) > 1 and tree.count_neighbors(tree, distances[-1]) / 2 > MAX_PAIRS:
        distances = distances[:-1]
    if len(distances) < bands:
        logger.warning(
            "automatic scale: only %d of %d bands fit the memory budget", len(distances), bands
        )
    pairs = tree.query_pairs(distances[-1], output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    # The first band each pair belongs to; per-band totals are then cumulative sums.
    band = np.searchsorted(distances, np.hypot(*(xy[i] - xy[j]).T), side="left")
    z = values - values.mean()
    zz = float(z @ z)
    if zz == 0:
        raise DataError(
            "weights='auto' chooses its distance from how the number of firms varies between "
            "areas, and every area has the same number; use --weights queen, rook or knn"
        )
    n_bands = len(distances)
    pair_count = np.cumsum(np.bincount(band, minlength=n_bands))
    cross = np.cumsum(np.bincount(band, weights=z[i] * z[j], minlength=n_bands))
    degrees = np.cumsum(
        np.bincount(band * n + i, minlength=n_bands * n).reshape(n_bands, n)
        + np.bincount(band * n + j, minlength=n_bands * n).reshape(n_bands, n),
        axis=0,
    )
    k4 = n * float((z**4).sum()) / zz**2
    rows = []
    for b, distance in enumerate(distances):
        m = int(pair_count[b])
        degree = degrees[b]
        s0 = 2.0 * m
        if s0 == 0:
            rows.append((distance, np.nan, np.nan, 0.0, n))
            continue
        s1, s2 = 4.0 * m, 4.0 * float((degree.astype(float) ** 2).sum())
        moran = n / s0 * 2.0 * float(cross[b]) / zz
        expected = -1.0 / (n - 1)
        variance = (
            n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0)
            - k4 * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
        ) / ((n - 1) * (n - 2) * (n - 3) * s0 * s0) - expected**2
        zscore = (moran - expected) / np.sqrt(variance)
        rows.append((distance, moran, zscore, float(degree.mean()), int((degree == 0).sum())))
    return pd.DataFrame(
        rows, columns=["distance", "moran_i", "z", "mean_neighbours", "without_neighbours"]
    )


def choose_scale(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    y: pd.Series,
    *,
    bands: int = 10,
    start: float | None = None,
    increment: float | None = None,
    threshold: float = 1.65,
    k: int = 6,
) -> ScaleChoice:
    """Choose the analysis scale by incremental spatial autocorrelation (see module docs).

    Parameters
    ----------
    points
        Points (or areas, represented by an inner point) in a projected CRS, indexed like
        ``y``; at least 4.
    y
        The analysed values (e.g. firms per cell); not all equal.
    bands, start, increment
        Number of distances, the first one and the step (metres), as in
        :func:`incremental_autocorrelation`.
    threshold
        z-score a band must exceed to be chosen; 1.65 is 90 % confidence (one-sided).
    k
        Nearest neighbours used when no band exceeds ``threshold``.

    Returns
    -------
    The choice, with the reason in words and the table of bands.

    Examples
    --------
    Firms per 1 km cell falling off from a centre (15 x 15 cells):

    >>> x, y = np.meshgrid(np.arange(15) * 1000.0, np.arange(15) * 1000.0)
    >>> cells = gpd.GeoSeries.from_xy(x.ravel(), y.ravel(), crs=32749)
    >>> firms = pd.Series(np.round(50 * np.exp(-np.hypot(x - 3000, y - 3000).ravel() / 2500)))
    >>> choice = choose_scale(cells, firms)
    >>> choice.method, choice.distance
    ('distance_band', 6000.0)
    """
    table = incremental_autocorrelation(points, y, bands=bands, start=start, increment=increment)
    z = table["z"].to_numpy()
    peaks = [
        b
        for b in range(len(z) - 1)
        if np.isfinite(z[b])
        and z[b] > threshold
        and z[b] > z[b + 1]
        and (b == 0 or z[b] > z[b - 1])
    ]
    if peaks:
        b = peaks[0]
        reason = (
            f"first peak of the Moran's I z-score (z = {z[b]:.2f}) at {table['distance'][b]:,.0f} m"
        )
        return ScaleChoice(
            "distance_band", float(table["distance"][b]), None, float(z[b]), reason, table
        )
    if np.isfinite(z).any() and np.nanmax(z) > threshold:
        b = int(np.nanargmax(z))
        reason = (
            f"no peak; the highest Moran's I z-score (z = {z[b]:.2f}) is at "
            f"{table['distance'][b]:,.0f} m"
        )
        return ScaleChoice(
            "distance_band", float(table["distance"][b]), None, float(z[b]), reason, table
        )
    best = float(np.nanmax(z)) if np.isfinite(z).any() else float("nan")
    reason = (
        f"no distance band shows clustering (highest z = {best:.2f}, not above "
        f"{threshold}); using the {k} nearest neighbours"
    )
    return ScaleChoice("knn", None, k, None, reason, table)


def scale_graph(points: gpd.GeoDataFrame | gpd.GeoSeries, choice: ScaleChoice) -> Graph:
    """The weights of a chosen scale; points beyond the band are linked to their nearest.

    Parameters
    ----------
    points
        The points the scale was chosen on, in the same projected CRS.
    choice
        The result of :func:`choose_scale`: a binary distance band (metres) or ``k``
        nearest neighbours.

    Returns
    -------
    The spatial weights between the points.
    """
    if choice.method == "knn":
        assert choice.k is not None
        return knn(points, k=choice.k)
    assert choice.distance is not None
    return distance_band(points, threshold=choice.distance, islands="nearest")
