"""Spatial weights as ``libpysal.graph.Graph``, built fast for real, imperfect borders.

Contiguity is built by :mod:`klastergeo.analysis._engine.contiguity` (shared vertices or edges
found with a hash table, as GeoDa defines them; identical to pygeoda's queen and rook weights
and about 40 times faster than libpysal's builder on Indonesia's 83,402 villages). Real
boundaries are simplified independently per unit, so neighbours often do not share vertices
exactly: ``tolerance`` (metres) also links areas whose borders come that close. With a
tolerance, all the pairs (a shared vertex is distance 0), and the nearest area of an
island, are found by the compiled border search of :mod:`klastergeo.analysis._engine.near`,
which gives what GEOS's distance and STR-tree nearest-neighbour search give (GEOS still
decides the rare pairs at the very threshold and ties between equally near areas).

**Islands policy.** Areas with no neighbour at all (small islands) are handled by
``islands=``:

- ``"nearest"`` (default): each such area is linked to its nearest area and that area
  back to it, keeping the graph symmetric. Every area then has a neighbourhood, and a
  sentra on an island can still be detected.
- ``"keep"``: the area stays without neighbours (libpysal's zero self-weight). Local
  statistics are undefined there and are reported as missing (quadrant and bin 0).

Distances (``tolerance``, nearest areas) in a geographic CRS use metres per degree at the
study area's latitude; for Indonesia (11 S to 6 N) this is within 2 % of the true length.
Distance bands and kernels need a projected CRS.
"""

from __future__ import annotations

import logging
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph
from numpy.typing import NDArray

from klastergeo.analysis._engine import contiguity as _contiguity
from klastergeo.analysis._engine import near as _near
from klastergeo.analysis.geometry import METRES_PER_DEGREE
from klastergeo.errors import ConfigError, DataError

__all__ = [
    "attach_islands",
    "contiguity",
    "distance_band",
    "from_pairs",
    "h3_neighbours",
    "kernel",
    "knn",
]

logger = logging.getLogger(__name__)

IslandPolicy = Literal["nearest", "keep"]

_NONE = np.zeros(0, dtype=np.int64)  # no known pairs


def from_pairs(
    ids: pd.Index,
    i: NDArray[np.int64],
    j: NDArray[np.int64],
    weights: NDArray[np.float64] | None = None,
) -> Graph:
    """A binary (or weighted) Graph from neighbour pairs given as positions in ``ids``.

    Areas without a pair get libpysal's isolate encoding (a zero self-weight). Pairs must
    be distinct and without self-pairs; they are sorted here unless already sorted by
    (i, j), as :func:`klastergeo.analysis._engine.contiguity.unique_pairs` returns them.

    Parameters
    ----------
    ids
        The Graph's ids, in order.
    i, j
        Positions in ``ids`` of the focal area and its neighbour of every pair; a
        symmetric graph needs each pair in both directions.
    weights
        Weight of every pair; None gives binary weights (transformation ``"B"``), given
        weights keep transformation ``"O"`` (original).

    Returns
    -------
    Graph
        The libpysal Graph.
    """
    ids = pd.Index(ids)
    n = len(ids)
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    values = np.ones(len(i)) if weights is None else np.asarray(weights, dtype=float)
    key = i * n + j
    if len(key) > 1 and not (key[1:] > key[:-1]).all():
        order = np.argsort(key, kind="stable")
        i, j, values = i[order], j[order], values[order]
    present = np.zeros(n, dtype=bool)
    present[i] = True
    isolates = np.flatnonzero(~present)
    if len(isolates):  # libpysal encodes them as a zero self-weight, in id order
        at = np.searchsorted(i, isolates)
        i = np.insert(i, at, isolates)
        j = np.insert(j, at, isolates)
        values = np.insert(values, at, 0.0)
    index = pd.MultiIndex(
        levels=[ids, ids],  # type: ignore[list-item]
        codes=[i, j],  # type: ignore[list-item]
        names=["focal", "neighbor"],
        verify_integrity=False,
    )
    transformation = "B" if weights is None else "O"
    return Graph(
        pd.Series(values, index=index, name="weight"),
        transformation=transformation,
        is_sorted=True,
    )


def _link_isolates(
    i: NDArray[np.int64],
    j: NDArray[np.int64],
    geoms: NDArray[np.object_],
    shape: _near.Borders | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    """Add a link (both ways) from every geometry without a pair to its nearest one.

    With the polygons' ``shape`` (:func:`klastergeo.analysis._engine.near.borders`) the
    compiled search finds them; the tree query gives the same areas, more slowly."""
    n = len(geoms)
    has_pair = np.zeros(n, dtype=bool)
    has_pair[i] = True
    isolates = np.flatnonzero(~has_pair)
    if len(isolates) == 0 or n < 2:
        return i, j, 0
    if shape is not None:
        focal, nearest = isolates.astype(np.int64), _near.nearest_polygons(geoms, shape, isolates)
    else:
        tree = shapely.STRtree(geoms)
        pairs = tree.query_nearest(geoms[isolates], exclusive=True, all_matches=False)
        focal, nearest = isolates[pairs[0]].astype(np.int64), pairs[1].astype(np.int64)
    i, j = _contiguity.unique_pairs(
        np.concatenate([i, focal, nearest]), np.concatenate([j, nearest, focal]), n
    )
    logger.info("linked %d area(s) without neighbours to their nearest area", len(focal))
    return i, j, len(focal)


def _degrees(
    metres: float,
    frame: gpd.GeoDataFrame | gpd.GeoSeries,
    boxes: NDArray[np.float64] | None = None,
) -> float:
    """Metres as CRS units: itself in a projected CRS, degrees at the widest latitude else
    (from the geometries' ``boxes`` when given, else from their bounds)."""
    if frame.crs is not None and not frame.crs.is_geographic:
        factor = frame.crs.axis_info[0].unit_conversion_factor if frame.crs.axis_info else 1.0
        return metres / factor
    if boxes is not None:
        miny, maxy = float(boxes[:, 1].min()), float(boxes[:, 3].max())
    else:
        _, miny, _, maxy = frame.total_bounds
    widest = min(max(abs(miny), abs(maxy)), 80.0)  # a degree of longitude is shortest there
    return metres / (METRES_PER_DEGREE * np.cos(np.radians(widest)))


def contiguity(
    areas: gpd.GeoDataFrame,
    *,
    rook: bool = False,
    tolerance: float = 10.0,
    islands: IslandPolicy = "nearest",
) -> Graph:
    """Queen (or rook) contiguity of areas, tolerant of gaps between borders.

    Parameters
    ----------
    areas
        Polygons indexed by area code (ids must be unique).
    rook
        Neighbours must share an edge, not only a vertex (the tolerance does not apply:
        an edge is shared or not).
    tolerance
        Metres (queen): areas whose borders come closer than this are neighbours too, as
        real village polygons, simplified one by one, leave slivers between neighbours
        (default 10, as ``analysis.tolerance_m``). With 0 areas are neighbours when they
        share a vertex, exactly as GeoDa builds them.
    islands
        What to do with areas that have no neighbour (see the module docstring).

    Returns
    -------
    libpysal.graph.Graph with binary weights, ids = ``areas.index`` in order.

    Examples
    --------
    Six by six square villages: 4 corners with 3 neighbours, 16 edge villages with 5 and
    16 inner ones with 8.

    >>> import geopandas as gpd, shapely
    >>> cells = gpd.GeoDataFrame(
    ...     geometry=[shapely.box(x, y, x + 1000, y + 1000)
    ...               for y in range(0, 6000, 1000) for x in range(0, 6000, 1000)],
    ...     crs=32749,
    ... )
    >>> g = contiguity(cells, tolerance=10)
    >>> round(float(g.cardinalities.mean()), 2)
    6.11
    """
    if tolerance < 0:
        raise ConfigError(f"tolerance={tolerance!r} must be zero or positive (metres)")
    if not areas.index.is_unique:
        dupes = areas.index[areas.index.duplicated()].unique()[:3].tolist()
        raise DataError(f"area ids must be unique to build weights; repeated: {dupes}")
    geoms = np.asarray(areas.geometry.values, dtype=object)
    if islands not in ("nearest", "keep"):
        raise ConfigError(f"islands={islands!r} is not accepted; use 'nearest' or 'keep'")
    with _near.small_pages():  # see there: fresh arrays of a first call cost less
        i, j, linked = _contiguity_pairs(geoms, areas, rook, tolerance, islands)
    logger.info(
        "contiguity: %d areas, %d links, %d linked to their nearest area",
        len(areas),
        len(i),
        linked,
    )
    return from_pairs(areas.index, i, j)


def _contiguity_pairs(
    geoms: NDArray[np.object_],
    areas: gpd.GeoDataFrame,
    rook: bool,
    tolerance: float,
    islands: IslandPolicy,
) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    """The pairs of :func:`contiguity` (both ways, sorted) and how many islands were linked."""
    shape = None
    if rook:
        i, j = _contiguity.shared_edge_pairs(geoms)
    else:
        if tolerance > 0 or islands == "nearest":  # the compiled searches read borders
            shape = _near.borders(geoms)
        if tolerance > 0 and shape is not None:
            # Borders sharing a vertex are 0 apart: the sweep finds those pairs too.
            reach = _degrees(tolerance, areas, shape.boxes)
            a, b = _near.near_pairs_beyond(geoms, shape, _NONE, _NONE, reach)
            i, j = _contiguity.unique_pairs(
                np.concatenate([a, b]), np.concatenate([b, a]), len(geoms)
            )
        else:
            coords = (shape.xy, shape.counts) if shape is not None else (None, None)
            i, j = _contiguity.shared_vertex_pairs(geoms, coords=coords[0], counts=coords[1])
            if tolerance > 0:
                i, j = _add_near_pairs(geoms, i, j, _degrees(tolerance, areas))
    linked = 0
    if islands == "nearest":
        i, j, linked = _link_isolates(i, j, geoms, shape)
    return i, j, linked


def _add_near_pairs(
    geoms: NDArray[np.object_],
    i: NDArray[np.int64],
    j: NDArray[np.int64],
    distance: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Add pairs whose borders come within ``distance`` but share no vertex, for geometries
    other than polygons (polygons go through the compiled sweep,
    :func:`klastergeo.analysis._engine.near.near_pairs_beyond`, which finds the same pairs):
    GEOS's distance on prepared geometries, for the pairs whose bounding boxes (grown by
    ``distance``) overlap and that are not already neighbours.
    """
    n = len(geoms)
    bounds = shapely.bounds(geoms)
    boxes = shapely.box(
        bounds[:, 0] - distance,
        bounds[:, 1] - distance,
        bounds[:, 2] + distance,
        bounds[:, 3] + distance,
    )
    a, b = shapely.STRtree(boxes).query(boxes)
    candidate = a < b
    a, b = a[candidate].astype(np.int64), b[candidate].astype(np.int64)
    known = np.isin(a * n + b, i * n + j, assume_unique=False)
    a, b = a[~known], b[~known]
    shapely.prepare(geoms)
    near = shapely.dwithin(geoms[a], geoms[b], distance)
    a, b = a[near], b[near]
    logger.debug("tolerance %.3g added %d pairs", distance, len(a))
    return _contiguity.unique_pairs(np.concatenate([i, a, b]), np.concatenate([j, b, a]), n)


def attach_islands(
    graph: Graph, areas: gpd.GeoDataFrame, *, how: IslandPolicy = "nearest"
) -> Graph:
    """Apply the islands policy: link each area without neighbours to its nearest area.

    The link is added in both directions with weight 1. ``how="keep"`` returns ``graph``
    unchanged. Distances are in the CRS's own units (in degrees this picks the same area
    for Indonesia).

    Parameters
    ----------
    graph
        The weights; a weighted graph keeps its weights.
    areas
        Geometries indexed by the graph's ids, used to find the nearest area.
    how
        ``"nearest"`` to link, or ``"keep"`` to leave areas without neighbours.

    Returns
    -------
    Graph
        ``graph`` itself when nothing changes, else a new Graph.
    """
    if how not in ("nearest", "keep"):
        raise ConfigError(f"islands={how!r} is not accepted; use 'nearest' or 'keep'")
    if how == "keep" or graph.n < 2:
        return graph
    existing = graph.sparse.tocoo()  # rows and columns follow graph.unique_ids
    keep = (existing.data != 0) & (existing.row != existing.col)
    if keep.sum() and np.bincount(existing.row[keep], minlength=graph.n).min() > 0:
        return graph  # nobody is alone
    ids = pd.Index(graph.unique_ids)
    geoms = np.asarray(areas.geometry.reindex(ids).values, dtype=object)
    fi, fj = existing.row[keep].astype(np.int64), existing.col[keep].astype(np.int64)
    i, j, _ = _link_isolates(*_contiguity.unique_pairs(fi, fj, len(ids)), geoms)
    if np.all(existing.data[keep] == 1.0):
        return from_pairs(ids, i, j)
    # Weighted graphs keep their weights; the new links get weight 1.
    lookup = pd.Series(existing.data[keep], index=fi * len(ids) + fj)
    values = lookup.reindex(i * len(ids) + j).fillna(1.0).to_numpy()
    return from_pairs(ids, i, j, values)


def _points(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoSeries:
    geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if (geometry.geom_type == "Point").all():
        return geometry
    return geometry.representative_point()


def _require_projected(frame: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> None:
    if frame.crs is None or frame.crs.is_geographic:
        raise ConfigError(
            f"{what} needs a projected CRS (distances in metres), but the geometries are in "
            f"{frame.crs.name if frame.crs else 'no CRS'}; reproject first, e.g. "
            ".to_crs(32749) for Jawa Tengah (klastergeo.utm_crs(frame) finds the zone)"
        )


#: WGS84: semi-major axis (m) and first eccentricity squared.
_WGS84_A = 6_378_137.0
_WGS84_E2 = 6.694379990141316e-3


def _knn_coordinates(points: gpd.GeoSeries) -> NDArray[np.float64]:
    """Coordinates in which straight-line nearest neighbours are the true ones.

    Longitude/latitude become earth-centred (ECEF) metres on the WGS84 ellipsoid: the
    chord between two points there differs from their geodesic distance by less than a
    millimetre up to 10 km (about d^3 / 24 R^2), the same for every pair, so the nearest
    neighbours are those of the geodesic - for one village or the whole country, where a
    single UTM zone would stretch distances far from its central meridian. Projected (or
    CRS-less) coordinates are used as they are.
    """
    x, y = points.x.to_numpy(dtype=float), points.y.to_numpy(dtype=float)
    if points.crs is None or not points.crs.is_geographic:
        return np.column_stack([x, y])
    if points.crs.to_epsg() != 4326:
        geographic = points.to_crs(4326)
        x, y = geographic.x.to_numpy(dtype=float), geographic.y.to_numpy(dtype=float)
    lon, lat = np.radians(x), np.radians(y)
    sin_lat, cos_lat = np.sin(lat), np.cos(lat)
    radius = _WGS84_A / np.sqrt(1.0 - _WGS84_E2 * sin_lat**2)
    return np.column_stack(
        [
            radius * cos_lat * np.cos(lon),
            radius * cos_lat * np.sin(lon),
            radius * (1.0 - _WGS84_E2) * sin_lat,
        ]
    )


def knn(areas: gpd.GeoDataFrame | gpd.GeoSeries, *, k: int = 6, seed: int = 0) -> Graph:
    """k-nearest-neighbour weights between points (or area representative points).

    Exact and deterministic: on longitude/latitude the neighbours are the nearest by
    geodesic distance on the WGS84 ellipsoid (see :func:`_knn_coordinates`), on projected
    coordinates by straight-line distance. Only points that coincide exactly are moved, by a seeded
    offset far below any real distance, so that which of them counts as nearer is
    decided by ``seed`` rather than by input order; every other point stays where it is.

    Parameters
    ----------
    areas
        Points, or polygons (their representative points are used); the index gives the
        ids. Every geometry must be non-empty.
    k
        Neighbours of each point: a whole number from 1 to one less than the number of
        points.
    seed
        Seed of the offsets that separate coincident points.

    Returns
    -------
    Graph
        Binary weights, not symmetric in general (a point's nearest need not have it
        among its own nearest).

    Examples
    --------
    >>> import geopandas as gpd
    >>> points = gpd.GeoSeries.from_xy([0, 1000, 0, 5000, 5200], [0, 0, 900, 5000, 5000], crs=32749)
    >>> knn(points, k=2).adjacency.loc[0].index.tolist()
    [1, 2]
    """
    from scipy.spatial import cKDTree

    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise ConfigError(f"k={k!r} must be a whole number")
    if k < 1 or k >= len(areas):
        raise ConfigError(
            f"k={k!r} must be at least 1 and below the number of areas ({len(areas)})"
        )
    points = _points(areas)
    if points.isna().any() or points.is_empty.any():
        raise DataError("knn needs a location for every area; some geometries are empty")
    xy = _knn_coordinates(points)
    _, coincident, counts = np.unique(xy, axis=0, return_inverse=True, return_counts=True)
    if (counts > 1).any():
        coincident = coincident.reshape(-1)
        moved = np.flatnonzero(counts[coincident] > 1)
        # a micrometre in metres: far below any real distance between firms or areas,
        # far above the floating-point resolution of the coordinates (about 1e-9 m)
        step = max(1e-6, 16 * float(np.spacing(np.abs(xy).max())))
        rng = np.random.default_rng(seed)
        xy = xy.copy()
        xy[moved] += rng.uniform(-step, step, size=(len(moved), xy.shape[1]))
        logger.info("knn: %d coincident points separated (seed %d)", len(moved), seed)
    _, neighbours = cKDTree(xy).query(xy, k=k + 1)
    focal = np.repeat(np.arange(len(xy)), k + 1)
    neighbour = np.asarray(neighbours, dtype=np.int64).reshape(-1)
    keep = neighbour != focal
    # a point is its own nearest; should an exact tie put another first, drop the extra
    focal, neighbour = focal[keep], neighbour[keep]
    rank = np.arange(len(focal)) - np.searchsorted(focal, focal)
    focal, neighbour = focal[rank < k], neighbour[rank < k]
    return from_pairs(areas.index, focal, neighbour)


def distance_band(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    threshold: float,
    binary: bool = True,
    islands: IslandPolicy = "keep",
) -> Graph:
    """Neighbours within ``threshold`` metres (binary, or inverse-distance weights).

    Needs a projected CRS. Points without a neighbour within the threshold stay isolates
    (``islands="keep"``) or are linked to their nearest point (``"nearest"``, binary only).

    Parameters
    ----------
    points
        Points, or polygons (their representative points are used), in a projected CRS;
        the index gives the ids.
    threshold
        Largest distance of two neighbours, in metres (CRS units); positive.
    binary
        True for weights of 1; False for inverse-distance weights (1 / metres), which
        coincident points make undefined.
    islands
        ``"keep"`` or ``"nearest"``; only applies to binary weights.

    Returns
    -------
    Graph
        Symmetric weights.
    """
    _require_projected(points, "distance_band")
    if threshold <= 0:
        raise ConfigError(f"threshold={threshold!r} must be a positive distance in metres")
    from scipy.spatial import cKDTree

    geometry = _points(points)
    xy = np.column_stack([geometry.x.to_numpy(), geometry.y.to_numpy()])
    pairs = cKDTree(xy).query_pairs(threshold, output_type="ndarray")
    a, b = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    if binary:
        i, j = _contiguity.unique_pairs(np.concatenate([a, b]), np.concatenate([b, a]), len(xy))
        if islands == "nearest":
            i, j, _ = _link_isolates(i, j, np.asarray(geometry.values, dtype=object))
        return from_pairs(points.index, i, j)
    i, j = np.concatenate([a, b]), np.concatenate([b, a])
    distance = np.hypot(*(xy[i] - xy[j]).T)
    if (distance == 0).any():
        raise DataError("inverse-distance weights are undefined for coincident points")
    return from_pairs(points.index, i, j, 1.0 / distance)


def kernel(
    points: gpd.GeoDataFrame | gpd.GeoSeries, *, bandwidth: float, kernel: str = "triangular"
) -> Graph:
    """Kernel weights within ``bandwidth`` metres (libpysal's kernels; no self-weight).

    Needs a projected CRS.

    Parameters
    ----------
    points
        Points, or polygons (their representative points are used), in a projected CRS;
        the index gives the ids.
    bandwidth
        Kernel bandwidth in metres (CRS units); positive.
    kernel
        A kernel name of :meth:`libpysal.graph.Graph.build_kernel`, e.g. ``"triangular"``,
        ``"gaussian"``, ``"bisquare"`` or ``"boxcar"``.

    Returns
    -------
    Graph
        Kernel weights, zero weights dropped.
    """
    _require_projected(points, "kernel")
    if bandwidth <= 0:
        raise ConfigError(f"bandwidth={bandwidth!r} must be a positive distance in metres")
    graph = Graph.build_kernel(_points(points), kernel=kernel, bandwidth=bandwidth)
    return graph.assign_self_weight(0).eliminate_zeros()


def h3_neighbours(cells: pd.Index) -> Graph:
    """First-order neighbours of H3 cells (binary weights); cells on the edge have fewer.

    Cells without any neighbour in ``cells`` (lone island cells) are kept as isolates.

    Parameters
    ----------
    cells
        H3 cell ids (strings); neighbours outside ``cells`` are ignored.

    Returns
    -------
    Graph
        Symmetric binary weights, ids = ``cells`` in order.
    """
    import h3

    ids = pd.Index(cells)
    position = pd.Series(np.arange(len(ids)), index=ids)
    rings = [h3.grid_ring(str(cell), 1) for cell in ids]  # six cells each, per area
    lengths = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    focal = np.repeat(np.arange(len(ids), dtype=np.int64), lengths)
    neighbour = position.reindex(np.concatenate(rings) if rings else []).to_numpy()
    inside = ~np.isnan(neighbour)
    i, j = _contiguity.unique_pairs(focal[inside], neighbour[inside].astype(np.int64), len(ids))
    return from_pairs(ids, i, j)
