"""Shared geometry helpers: projected CRS choice and vectorised point-in-area location."""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from klastergeo.analysis._engine.locate import UNDECIDED, area_index, locate_xy
from klastergeo.errors import BoundaryError

logger = logging.getLogger(__name__)

#: Metres in one degree of latitude (and of longitude at the equator); Indonesia spans
#: 11 S to 6 N, where a degree of longitude is within 2 % of this.
METRES_PER_DEGREE = 111_320.0

#: Points per spatial-index query; bounds memory on national registries (26.7 M firms).
CHUNK = 2_000_000


def utm_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    """The UTM zone CRS at the centre of ``frame`` (e.g. EPSG:32749 for Jawa Tengah).

    Parameters
    ----------
    frame
        Geometries with a CRS; the zone is the one of the centre of their total bounds.

    Returns
    -------
    The CRS of that UTM zone (north or south of the equator).

    Examples
    --------
    >>> import shapely, geopandas as gpd
    >>> utm_crs(gpd.GeoSeries([shapely.Point(110.4, -7.2)], crs=4326)).to_epsg()
    32749
    """
    geographic = (
        frame.to_crs(4326) if frame.crs is not None and not frame.crs.is_geographic else frame
    )
    minx, miny, maxx, maxy = geographic.total_bounds
    lon, lat = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return pyproj.CRS.from_epsg((32700 if lat < 0 else 32600) + zone)


def to_metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``frame`` in a projected CRS: its own if projected, else its UTM zone.

    Parameters
    ----------
    frame
        Geometries with a CRS (without one, :class:`BoundaryError`: distances in metres
        cannot be measured).

    Returns
    -------
    ``frame`` itself when its CRS is projected, else a copy in its UTM zone
    (:func:`utm_crs`).
    """
    if frame.crs is None:
        raise BoundaryError(
            "the geometries have no CRS, so distances in metres cannot be measured; give the "
            "boundaries or points a CRS (EPSG:4326 for longitude/latitude)"
        )
    if not frame.crs.is_geographic:
        return frame
    crs = utm_crs(frame)
    geometry = frame.geometry.to_numpy()
    ids = np.fromiter(map(id, geometry), dtype=np.int64, count=len(geometry))
    key = (hash(ids.tobytes()), len(ids), frame.crs.to_wkt(), crs.to_wkt())
    cached = _METRIC.get(key)
    if cached is not None and np.array_equal(cached[0], ids):
        # the same geometry objects (a national study area is projected by the sentra,
        # the point patterns and the figures): reuse their projection
        return frame.set_geometry(
            gpd.GeoSeries(cached[2], index=frame.index, crs=crs, name=frame.geometry.name)
        )
    out = frame.to_crs(crs)
    # the geometries are kept with the key, so their ids cannot be reused meanwhile
    _METRIC.clear()
    _METRIC[key] = (ids, geometry, out.geometry.to_numpy())
    return out


#: The last projection :func:`to_metric` made: (geometry ids, geometries, projected).
_METRIC: dict[tuple[Any, ...], tuple[NDArray[np.int64], Any, Any]] = {}


def projected_xy(points: gpd.GeoSeries, crs: pyproj.CRS) -> NDArray[np.float64]:
    """The (n, 2) coordinates of points in ``crs``, as ``points.to_crs(crs)`` gives them,
    without making a new point object per firm (27 million of them for the country).

    Parameters
    ----------
    points
        Point geometries with a CRS.
    crs
        The target CRS.

    Returns
    -------
    ndarray
        x and y of each point, in order.
    """
    x = shapely.get_x(points.to_numpy())
    y = shapely.get_y(points.to_numpy())
    if points.crs is None or pyproj.CRS(points.crs) == pyproj.CRS(crs):
        return np.column_stack([x, y])
    transformer = pyproj.Transformer.from_crs(points.crs, crs, always_xy=True)
    return np.column_stack(transformer.transform(x, y))


def firm_xy(firms: pd.DataFrame, crs: pyproj.CRS) -> NDArray[np.float64]:
    """The (n, 2) coordinates of firms in ``crs``: of their point geometry, or, for a
    plain frame (a national registry's few columns, :class:`klastergeo.io.registry.firms.
    FirmStore`), of their ``lon`` and ``lat`` in EPSG:4326.

    Parameters
    ----------
    firms
        A GeoDataFrame of points, or a DataFrame with ``lon`` and ``lat``.
    crs
        The target CRS.
    """
    if isinstance(firms, gpd.GeoDataFrame):
        return projected_xy(firms.geometry, crs)
    lon = firms["lon"].to_numpy(dtype=float)
    lat = firms["lat"].to_numpy(dtype=float)
    if pyproj.CRS(crs) == pyproj.CRS(4326):
        return np.column_stack([lon, lat])
    transformer = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    return np.column_stack(transformer.transform(lon, lat))


def has_point(firms: pd.DataFrame) -> NDArray[np.bool_]:
    """Which firms have a point: a point geometry that is neither missing nor empty, or,
    for a plain frame, a finite ``lon`` and ``lat``. A firm placed by its area's code or
    name has none (its coordinates are NaN): it counts in its area, but every step that
    needs positions leaves it out (never a point at the village's centre).

    Parameters
    ----------
    firms
        A GeoDataFrame of points, or a DataFrame with ``lon`` and ``lat``.

    Examples
    --------
    >>> has_point(pd.DataFrame({"lon": [110.2, np.nan], "lat": [-7.5, np.nan]})).tolist()
    [True, False]
    """
    if isinstance(firms, gpd.GeoDataFrame) and firms.geometry.name in firms.columns:
        shapes = firms.geometry.to_numpy()
        found = ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))
        if found.any():  # POINT (nan nan) is neither missing nor empty
            xy = shapely.get_coordinates(shapes[found])
            finite = np.zeros(len(shapes), dtype=bool)
            finite[np.flatnonzero(found)] = np.isfinite(xy).all(axis=1)
            return finite
        return found
    lon = np.asarray(firms["lon"], dtype=float)
    lat = np.asarray(firms["lat"], dtype=float)
    return np.isfinite(lon) & np.isfinite(lat)


def firm_points(lon: Any, lat: Any) -> gpd.array.GeometryArray:
    """Points of longitudes and latitudes (EPSG:4326 by convention), a missing geometry
    (None) where either is not a finite number: a firm without a point has a null
    geometry, never ``POINT (nan nan)`` (which every spatial operation would treat as a
    place).

    Parameters
    ----------
    lon, lat
        The coordinates; NaN where a firm was placed by its area.

    Examples
    --------
    >>> firm_points([110.5, np.nan], [-7.25, np.nan]).isna().tolist()
    [False, True]
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    points = gpd.points_from_xy(x, y)
    missing = ~(np.isfinite(x) & np.isfinite(y))
    if missing.any():
        points[missing] = None
    return points


def metres_to_crs_units(metres: float, crs: pyproj.CRS | None) -> float:
    """Convert a distance in metres to the units of ``crs`` (degrees approximated).

    Parameters
    ----------
    metres
        The distance in metres.
    crs
        The CRS whose units are wanted; None or a geographic CRS: degrees (a degree taken
        as :data:`METRES_PER_DEGREE` metres).

    Returns
    -------
    The distance in the units of ``crs``.
    """
    if crs is None or crs.is_geographic:
        return metres / METRES_PER_DEGREE
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return metres / factor


def locate_points(
    x: NDArray[np.floating],
    y: NDArray[np.floating],
    areas: gpd.GeoSeries,
    *,
    snap_m: float = 0.0,
) -> NDArray[np.int64]:
    """Position in ``areas`` of the area containing each point, or -1.

    Each point goes to exactly one area: a point on a shared border or in an overlap goes
    to the first such area in ``areas`` order; a point in none (a gap between simplified
    borders, or the sea just off the coast) goes to the nearest area within ``snap_m``
    metres, else -1. Coordinates are in the CRS of ``areas``.

    Parameters
    ----------
    x, y
        The points' coordinates (longitude and latitude, or easting and northing), in the
        CRS of ``areas``.
    areas
        The areas' polygons.
    snap_m
        How far (metres) a point outside every area may lie from the nearest one and still
        go to it.

    Returns
    -------
    For each point, the position (0-based, not the index label) of its area in ``areas``,
    or -1.

    Examples
    --------
    >>> import shapely, geopandas as gpd
    >>> sq = gpd.GeoSeries([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    >>> locate_points(np.array([0.5, 1.0, 5.0]), np.array([0.5, 0.5, 5.0]), sq).tolist()
    [0, 0, -1]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    result = np.full(len(x), -1, dtype=np.int64)
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(finite) == 0 or len(areas) == 0:
        return result
    geoms = np.asarray(areas.values, dtype=object)
    index = area_index(geoms, key=areas.values)
    found = locate_xy(index, x[finite], y[finite])
    undecided = found == UNDECIDED
    if undecided.any():  # on or within a hair of a border: shapely's robust predicates
        rows = finite[undecided]
        found[undecided] = _intersecting(x[rows], y[rows], geoms)
    result[finite] = found
    snap = metres_to_crs_units(snap_m, areas.crs) if snap_m > 0 else 0.0
    missing = finite[found < 0]
    if snap > 0 and len(missing):
        area_tree = shapely.STRtree(geoms)
        for start in range(0, len(missing), CHUNK):
            rows = missing[start : start + CHUNK]
            points = shapely.points(x[rows], y[rows])
            pairs = area_tree.query_nearest(points, max_distance=snap, all_matches=False)
            result[rows[pairs[0]]] = pairs[1]
    return result


def locate_pixels(
    geoms: NDArray[np.object_], x: NDArray[np.floating], y: NDArray[np.floating]
) -> NDArray[np.int64]:
    """Position in ``geoms`` of the first area holding each point, by the compiled
    locator alone: -1 for a point in none and for one on (or within a hair of) a border,
    which :func:`locate_points` would settle with shapely. For drawing areas as an image,
    where a pixel on a border is background.

    Parameters
    ----------
    geoms
        The areas' polygons, in the order the positions refer to.
    x, y
        The points' coordinates (pixel centres), in the polygons' CRS.

    Returns
    -------
    numpy.ndarray
        For each point, the position of its area in ``geoms``, or -1.

    Examples
    --------
    >>> sq = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], dtype=object)
    >>> locate_pixels(sq, np.array([0.5, 1.5, 5.0]), np.array([0.5, 0.5, 5.0])).tolist()
    [0, 1, -1]
    """
    found = locate_xy(area_index(np.asarray(geoms, dtype=object)), x, y)
    found[found == UNDECIDED] = -1
    return found


def _intersecting(
    x: NDArray[np.floating], y: NDArray[np.floating], geoms: NDArray[np.object_]
) -> NDArray[np.int64]:
    """The first area (in order) each point intersects, -1 for none (shapely)."""
    points = shapely.points(x, y)
    # Query the areas against a tree of the points: the areas are then the prepared side
    # of the predicate, which is what makes point-in-polygon fast.
    area_idx, point_idx = shapely.STRtree(points).query(geoms, predicate="intersects")
    found = np.full(len(points), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(found, point_idx, area_idx.astype(np.int64))
    return np.where(found == np.iinfo(np.int64).max, -1, found)


def dissolve_by_prefix(
    areas: gpd.GeoDataFrame | gpd.GeoSeries, keys: Any, *, gap_m: float = 25.0
) -> gpd.GeoSeries:
    """The union of the areas of each key (villages by their kecamatan or kabupaten
    code), robust to the gaps of real borders: a hole left between areas of one key
    narrower than ``2 * gap_m`` metres (no circle of radius ``gap_m`` fits in it) is a
    sliver between independently simplified neighbours and is filled; wider holes (an
    enclave, a lake, a city within its regency) stay. Overlaps are simply unioned.

    Kemendagri's villages are not a valid coverage (slivers, gaps and overlaps along
    borders), so ``shapely.coverage_union_all`` refuses them; a plain union (geopandas'
    ``dissolve``) leaves about 27,000 sliver holes in Jawa Tengah's 35 kabupaten, each
    an outline ring drawn inside the regency.

    Parameters
    ----------
    areas
        The areas' (multi)polygons, with a CRS (lon/lat or metres).
    keys
        One key per area (e.g. the parent's code); the result has one row per key.
    gap_m
        Holes into which no circle of this radius (metres) fits are filled.

    Returns
    -------
    geopandas.GeoSeries
        The dissolved (multi)polygons indexed by key (sorted), in the CRS of ``areas``.

    Examples
    --------
    Two squares of one key with a 1 cm slit between them, closed by a strip above and
    one below (a sliver hole), and a square of another key:

    >>> import shapely, geopandas as gpd
    >>> sq = gpd.GeoSeries(
    ...     [shapely.box(0, 0, 100, 100), shapely.box(100.01, 0, 200, 100),
    ...      shapely.box(0, 100, 200, 110), shapely.box(0, -10, 200, 0),
    ...      shapely.box(0, 200, 100, 300)], crs=32749)
    >>> out = dissolve_by_prefix(sq, ["a", "a", "a", "a", "b"], gap_m=1.0)
    >>> out.index.tolist(), out.area.round(2).tolist()
    (['a', 'b'], [24000.0, 10000.0])
    """
    geoms = np.asarray(
        areas.geometry.values if isinstance(areas, gpd.GeoDataFrame) else areas.values,
        dtype=object,
    )
    codes, uniques = pd.factorize(pd.Series(np.asarray(keys, dtype=object)), sort=True)
    members = pd.Series(np.arange(len(geoms))).groupby(codes).indices
    merged = np.empty(len(uniques), dtype=object)
    for code in range(len(uniques)):  # one union per parent (35 to 7,285 of them)
        merged[code] = shapely.union_all(geoms[members[code]])
    if gap_m > 0:
        merged = _fill_slivers(merged, metres_to_crs_units(gap_m, areas.crs))
    return gpd.GeoSeries(merged, index=pd.Index(uniques, name=None), crs=areas.crs)


def _fill_slivers(geoms: NDArray[np.object_], radius: float) -> NDArray[np.object_]:
    """``geoms`` with every hole that holds no circle of ``radius`` removed."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    polygonal = shapely.get_type_id(parts) == 3  # a union of areas is polygonal anyway
    parts, owner = parts[polygonal], owner[polygonal]
    rings, part_of = shapely.get_rings(parts, return_index=True)
    first = np.r_[True, part_of[1:] != part_of[:-1]]  # each part's exterior comes first
    keep = first.copy()
    holes = np.flatnonzero(~first)
    if len(holes):
        shapes = shapely.polygons(rings[holes])
        # a hole smaller than the circle cannot hold it: most slivers go without a look
        ample = np.flatnonzero(shapely.area(shapes) >= np.pi * radius**2)
        circles = shapely.maximum_inscribed_circle(shapes[ample], tolerance=radius / 10)
        keep[holes[ample]] = shapely.length(circles) >= radius
    polygons = shapely.polygons(rings[keep], indices=part_of[keep])
    out = np.asarray(shapely.multipolygons(polygons, indices=owner), dtype=object)
    single = shapely.get_num_geometries(out) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out
