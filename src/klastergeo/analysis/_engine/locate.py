"""Point in polygon for millions of points against tens of thousands of areas (compiled).

The areas' rings are flattened once into coordinate arrays, and a uniform grid lists, for
each cell, the areas whose bounding box meets it. A point looks up its cell and tests
those candidates in area order with the even-odd ray rule (holes and multi-part areas
come out right by parity), stopping at the first area that holds it.

A point closer to an edge or vertex than ``eps`` (on a shared border, in practice) is
reported as undecided (-2): shapely then decides it with robust predicates, so the result
is shapely's ``intersects`` for every point, at a fraction of the cost of building an
STRtree of the points and querying it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely
from numba import njit
from numpy.typing import NDArray

__all__ = ["AreaIndex", "area_index", "locate_xy"]

#: Points per task of the two-thread loop.
CHUNK = 1 << 16
#: Undecided points (on or very near a border), left to shapely.
UNDECIDED = -2


@dataclass(frozen=True)
class AreaIndex:
    """The flattened rings of the areas and a grid of candidate areas per cell."""

    xs: NDArray[np.float64]
    ys: NDArray[np.float64]
    ring_start: NDArray[np.int64]  # coordinates of ring r: ring_start[r]:ring_start[r + 1]
    area_ring_start: NDArray[np.int64]  # rings of area a
    bounds: NDArray[np.float64]  # (n_areas, 4)
    origin: tuple[float, float]
    cell: float
    shape: tuple[int, int]  # (nx, ny)
    cell_start: NDArray[np.int64]  # candidates of cell c: cell_areas[cell_start[c]:...]
    cell_areas: NDArray[np.int64]
    eps: float
    band_y0: NDArray[np.float64]  # per area: the bottom of its first band ...
    band_h: NDArray[np.float64]  # ... the bands' height ...
    area_band_start: NDArray[np.int64]  # ... and its bands: area_band_start[a]:[a + 1]
    band_start: NDArray[np.int64]  # edges of band b: band_edges[band_start[b]:...]
    band_edges: NDArray[np.int64]  # an edge is (xs[k], ys[k]) -> (xs[k + 1], ys[k + 1])


#: The bands of every area as one argument of the kernels: y0 and height per area, each
#: area's bands, each band's edges (see :func:`_bands`).
_Bands = tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
]

#: Built indexes by the id of their key, with a weak reference that drops the entry when
#: the key dies (geometry arrays are not hashable, so no WeakKeyDictionary).
_CACHE: dict[int, tuple[weakref.ref[object], AreaIndex]] = {}


def area_index(geoms: NDArray[np.object_], *, key: object | None = None) -> AreaIndex:
    """The index of ``geoms`` (built once per ``key``, e.g. a GeoSeries' geometry array).

    Parameters
    ----------
    geoms
        Polygons and multipolygons (None or empty for an area without shape).
    key
        A weak-referenceable object whose life the index shares (None: no caching).
    """
    if key is not None:
        hit = _CACHE.get(id(key))
        if hit is not None and hit[0]() is key:
            return hit[1]
    index = _build(np.asarray(geoms, dtype=object))
    if key is not None:
        number = id(key)

        def forget(_: weakref.ref[object]) -> None:
            _CACHE.pop(number, None)

        with contextlib.suppress(TypeError):  # not weak-referenceable: no caching
            _CACHE[number] = (weakref.ref(key, forget), index)
    return index


def _build(geoms: NDArray[np.object_]) -> AreaIndex:
    n = len(geoms)
    parts, part_area = shapely.get_parts(geoms, return_index=True)
    polygons = shapely.get_type_id(parts) == 3
    parts, part_area = parts[polygons], part_area[polygons]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    ring_area = part_area[ring_part]
    ring_start = np.searchsorted(coord_ring, np.arange(len(rings) + 1)).astype(np.int64)
    area_ring_start = np.searchsorted(ring_area, np.arange(n + 1)).astype(np.int64)
    bounds = shapely.bounds(geoms)
    usable = np.isfinite(bounds).all(axis=1) & (np.diff(area_ring_start) > 0)
    if usable.any():
        lo = bounds[usable, :2].min(axis=0)
        hi = bounds[usable, 2:].max(axis=0)
    else:
        lo, hi = np.zeros(2), np.ones(2)
    extent = np.maximum(hi - lo, 1e-12)
    # about 16 cells per area: a handful of candidates per cell where areas are dense
    cell = float(np.sqrt(extent[0] * extent[1] / max(16 * usable.sum(), 1)))
    cell = max(cell, float(extent.max()) / 4096)
    nx = int(extent[0] // cell) + 1
    ny = int(extent[1] // cell) + 1
    scale = float(np.abs(np.concatenate([lo, hi])).max())
    cell_start, cell_areas = _grid(
        np.where(usable[:, None], bounds, np.nan), lo[0], lo[1], cell, nx, ny
    )
    band_y0, band_h, area_band_start, band_start, band_edges = _bands(
        coords[:, 1].copy(), ring_start, area_ring_start, bounds
    )
    return AreaIndex(
        xs=np.ascontiguousarray(coords[:, 0]),
        ys=np.ascontiguousarray(coords[:, 1]),
        ring_start=ring_start,
        area_ring_start=area_ring_start,
        bounds=np.ascontiguousarray(bounds),
        origin=(float(lo[0]), float(lo[1])),
        cell=cell,
        shape=(nx, ny),
        cell_start=cell_start,
        cell_areas=cell_areas,
        eps=1e-12 * max(scale, 1.0) * 1e3,
        band_y0=band_y0,
        band_h=band_h,
        area_band_start=area_band_start,
        band_start=band_start,
        band_edges=band_edges,
    )


#: Edges per horizontal band of an area, on average: a point tests one band's edges.
EDGES_PER_BAND = 8


@njit(cache=True)
def _bands(
    ys: NDArray[np.float64],
    ring_start: NDArray[np.int64],
    area_ring_start: NDArray[np.int64],
    bounds: NDArray[np.float64],
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
]:
    """Each area's edges by horizontal band (an edge in every band its y-range meets):
    the ray of a point meets only the edges of the band that holds its y."""
    n = len(area_ring_start) - 1
    y0 = np.zeros(n)
    h = np.ones(n)
    area_band_start = np.zeros(n + 1, dtype=np.int64)
    for a in range(n):
        edges = 0
        for r in range(area_ring_start[a], area_ring_start[a + 1]):
            edges += max(ring_start[r + 1] - ring_start[r] - 1, 0)
        bands = max(1, edges // EDGES_PER_BAND)
        if np.isfinite(bounds[a, 1]) and bounds[a, 3] > bounds[a, 1]:
            y0[a] = bounds[a, 1]
            h[a] = (bounds[a, 3] - bounds[a, 1]) / bands
        else:
            bands = 1
        area_band_start[a + 1] = area_band_start[a] + bands
    counts = np.zeros(area_band_start[n] + 1, dtype=np.int64)
    for pass_ in range(2):
        if pass_ == 1:
            start = np.cumsum(counts)
            fill = start[:-1].copy()
            edges_out = np.empty(start[-1], dtype=np.int64)
        for a in range(n):
            first, bands = area_band_start[a], area_band_start[a + 1] - area_band_start[a]
            for r in range(area_ring_start[a], area_ring_start[a + 1]):
                for k in range(ring_start[r], ring_start[r + 1] - 1):
                    lo = min(ys[k], ys[k + 1])
                    hi = max(ys[k], ys[k + 1])
                    b0 = min(max(int(np.floor((lo - y0[a]) / h[a])), 0), bands - 1)
                    b1 = min(max(int(np.floor((hi - y0[a]) / h[a])), 0), bands - 1)
                    for b in range(b0, b1 + 1):
                        if pass_ == 0:
                            counts[first + b + 1] += 1
                        else:
                            edges_out[fill[first + b]] = k
                            fill[first + b] += 1
    return y0, h, area_band_start, start, edges_out


@njit(cache=True)
def _grid(
    bounds: NDArray[np.float64], x0: float, y0: float, cell: float, nx: int, ny: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """CSR lists of the areas whose bounding box meets each cell, in area order."""
    n = bounds.shape[0]
    counts = np.zeros(nx * ny + 1, dtype=np.int64)
    for a in range(n):
        if not np.isfinite(bounds[a, 0]):
            continue
        i0 = min(max(int((bounds[a, 0] - x0) / cell), 0), nx - 1)
        i1 = min(max(int((bounds[a, 2] - x0) / cell), 0), nx - 1)
        j0 = min(max(int((bounds[a, 1] - y0) / cell), 0), ny - 1)
        j1 = min(max(int((bounds[a, 3] - y0) / cell), 0), ny - 1)
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                counts[j * nx + i + 1] += 1
    start = np.cumsum(counts)
    fill = start[:-1].copy()
    areas = np.empty(start[-1], dtype=np.int64)
    for a in range(n):
        if not np.isfinite(bounds[a, 0]):
            continue
        i0 = min(max(int((bounds[a, 0] - x0) / cell), 0), nx - 1)
        i1 = min(max(int((bounds[a, 2] - x0) / cell), 0), nx - 1)
        j0 = min(max(int((bounds[a, 1] - y0) / cell), 0), ny - 1)
        j1 = min(max(int((bounds[a, 3] - y0) / cell), 0), ny - 1)
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                c = j * nx + i
                areas[fill[c]] = a
                fill[c] += 1
    return start, areas


@njit(cache=True, nogil=True)
def _inside(
    px: float,
    py: float,
    a: int,
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    bands: _Bands,
    eps: float,
) -> int:
    """1 inside area ``a``, 0 outside, -1 within ``eps`` of its boundary (even-odd rule
    over the edges of the band that holds ``py``; the band index is monotone in y, so
    every edge whose y-range holds ``py`` is in it)."""
    band_y0, band_h, area_band_start, band_start, band_edges = bands
    n_bands = area_band_start[a + 1] - area_band_start[a]
    band = min(max(int(np.floor((py - band_y0[a]) / band_h[a])), 0), n_bands - 1)
    b = area_band_start[a] + band
    inside = False
    for t in range(band_start[b], band_start[b + 1]):
        k = band_edges[t]
        x1, y1, x2, y2 = xs[k], ys[k], xs[k + 1], ys[k + 1]
        if (y1 > py) != (y2 > py):
            xcross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            if abs(px - xcross) <= eps:
                return -1
            if px < xcross:
                inside = not inside
        elif (
            abs(y1 - py) <= eps
            and abs(y2 - py) <= eps
            and min(x1, x2) - eps <= px <= max(x1, x2) + eps
        ):
            return -1  # on a horizontal edge
        if abs(x1 - px) <= eps and abs(y1 - py) <= eps:
            return -1  # on a vertex
    return 1 if inside else 0


@njit(cache=True, nogil=True)
def _locate(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    out: NDArray[np.int64],
    lo: int,
    hi: int,
    x0: float,
    y0: float,
    cell: float,
    nx: int,
    ny: int,
    cell_start: NDArray[np.int64],
    cell_areas: NDArray[np.int64],
    bounds: NDArray[np.float64],
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    bands: _Bands,
    eps: float,
) -> None:
    for p in range(lo, hi):
        x, y = px[p], py[p]
        out[p] = -1
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        i = int((x - x0) / cell) if x >= x0 else -1
        j = int((y - y0) / cell) if y >= y0 else -1
        if i < 0 or j < 0 or i >= nx or j >= ny:
            # beyond the grid: only a point within eps of its edge can touch an area
            i = min(max(i, 0), nx - 1)
            j = min(max(j, 0), ny - 1)
        c = j * nx + i
        for t in range(cell_start[c], cell_start[c + 1]):
            a = cell_areas[t]
            if (
                x < bounds[a, 0] - eps
                or x > bounds[a, 2] + eps
                or y < bounds[a, 1] - eps
                or y > bounds[a, 3] + eps
            ):
                continue
            verdict = _inside(x, y, a, xs, ys, bands, eps)
            if verdict == 1:
                out[p] = a
                break
            if verdict == -1:
                out[p] = UNDECIDED
                break


def locate_xy(
    index: AreaIndex, x: NDArray[np.floating], y: NDArray[np.floating]
) -> NDArray[np.int64]:
    """Position of the first area holding each point; -1 for none, -2 undecided.

    Parameters
    ----------
    index
        The areas' :func:`area_index`.
    x, y
        Coordinates in the areas' CRS.
    """
    # Points in grid-cell order: neighbouring points test the same candidates and edges,
    # which are then in the cache (5-8x faster than in the registry's order).
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    nx, ny = index.shape
    with np.errstate(invalid="ignore"):
        i = np.clip(np.nan_to_num((x - index.origin[0]) / index.cell, nan=0.0), 0, nx - 1)
        j = np.clip(np.nan_to_num((y - index.origin[1]) / index.cell, nan=0.0), 0, ny - 1)
    order = np.argsort(j.astype(np.int64) * nx + i.astype(np.int64), kind="stable")
    px = np.ascontiguousarray(x[order])
    py = np.ascontiguousarray(y[order])
    out = np.empty(len(px), dtype=np.int64)
    args = (
        index.origin[0],
        index.origin[1],
        index.cell,
        index.shape[0],
        index.shape[1],
        index.cell_start,
        index.cell_areas,
        index.bounds,
        index.xs,
        index.ys,
        (index.band_y0, index.band_h, index.area_band_start, index.band_start, index.band_edges),
        index.eps,
    )
    tasks = list(itertools.pairwise([*range(0, len(px), CHUNK), len(px)]))
    if len(tasks) <= 1 or (os.cpu_count() or 1) < 2:
        for lo, hi in tasks:
            _locate(px, py, out, lo, hi, *args)
    else:
        with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            list(pool.map(lambda task: _locate(px, py, out, task[0], task[1], *args), tasks))
    result = np.empty_like(out)
    result[order] = out
    return result
