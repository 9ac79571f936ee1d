"""Tiles of firms for neighbour queries whose memory follows a tile, not the registry.

The firms are cut into rectangular tiles of longitude and latitude, each holding about
``firms`` firms: a k-d split of the occupied cells of a grid of ``cell`` degrees (a cell
is never cut, so a market building's firms share a tile). A tile is processed with its
own firms (the *core*) and a *halo*: the firms of the other tiles within ``width``
degrees of its box (longitudes modulo 360). :func:`outside_distance` gives, for a point
of the core, a lower bound of the distance (chord metres, as
:mod:`klastergeo.analysis.colocation` measures) to any firm outside the box grown by the
halo, so a neighbour search on core and halo is known exact for the points whose search
radius stays below it; the others are searched again among every firm within the
radius found (:meth:`Tiling.within`).

:class:`GridTiling` holds the tiles of firms in memory (arrays); the pipeline's spill
files give the same tiles part by part (:class:`Tiling` is what both offer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CELL_DEG",
    "GridTiling",
    "TileFirms",
    "Tiling",
    "cell_of",
    "halo_mask",
    "halo_needed",
    "outside_distance",
    "plan_tiles",
    "wrapped",
]

#: The side of a grid cell, degrees (about 5.5 km at the equator).
CELL_DEG = 0.05
#: The Earth's mean radius (IUGG), metres (as :mod:`klastergeo.analysis.colocation`).
_EARTH_RADIUS_M = 6_371_008.8
_COLUMNS = round(360 / CELL_DEG)


@dataclass(frozen=True)
class TileFirms:
    """Firms of a tile: their positions in the registry (sorted), longitudes and
    latitudes (degrees, as given)."""

    positions: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.positions)


class Tiling(Protocol):
    """Firms cut into tiles (see the module's text)."""

    @property
    def n(self) -> int:
        """Firms in all."""
        ...

    @property
    def boxes(self) -> NDArray[np.float64]:
        """Each tile's box: ``lon0, lon1, lat0, lat1`` (degrees, longitudes in
        [-180, 180)), one row per tile."""
        ...

    def core(self, tile: int) -> TileFirms:
        """The firms of ``tile``.

        Parameters
        ----------
        tile
            The tile's number (a row of :attr:`boxes`).
        """
        ...

    def halo(self, tile: int, width: float) -> TileFirms:
        """The firms of the other tiles within ``width`` degrees of the box of ``tile``
        (every other firm when ``width`` is infinite).

        Parameters
        ----------
        tile
            The tile's number (a row of :attr:`boxes`).
        width
            The halo's width, degrees (infinite: every other firm).
        """
        ...

    def within(self, box: NDArray[np.float64], width: float) -> TileFirms:
        """Every firm within ``width`` degrees of ``box`` (``lon0, lon1, lat0, lat1``).

        Parameters
        ----------
        box
            ``lon0, lon1, lat0, lat1`` (degrees).
        width
            How far around ``box``, degrees (infinite: every firm).
        """
        ...


def wrapped(lon: ArrayLike) -> NDArray[np.float64]:
    """Longitudes in [-180, 180).

    Parameters
    ----------
    lon
        Longitudes, degrees (any range).
    """
    return np.asarray((np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0)


def cell_of(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int64]:
    """Each point's grid cell (``row * columns + column`` of :data:`CELL_DEG` cells).

    Parameters
    ----------
    lon, lat
        The points' coordinates, degrees (longitudes modulo 360; a point beyond the
        poles is put in the first or last row).
    """
    col = np.floor((wrapped(lon) + 180.0) / CELL_DEG).astype(np.int64)
    row = np.floor((np.asarray(lat, dtype=np.float64) + 90.0) / CELL_DEG).astype(np.int64)
    return np.clip(row, 0, int(180 / CELL_DEG) - 1) * _COLUMNS + np.clip(col, 0, _COLUMNS - 1)


def plan_tiles(
    cells: NDArray[np.int64], counts: NDArray[np.int64], firms: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Tiles of about ``firms`` firms from the firms per occupied cell: each cell's tile
    and each tile's box (see :class:`Tiling`), by halving the cells at the weighted
    median of the longer side of their box, a cell never cut.

    Parameters
    ----------
    cells
        The occupied cells (as :func:`cell_of`), distinct.
    counts
        The firms in each of ``cells``.
    firms
        Firms per tile, about (a tile of a single cell may hold more).
    """
    col, row = cells % _COLUMNS, cells // _COLUMNS
    tile_of = np.zeros(len(cells), dtype=np.int64)
    boxes: list[tuple[int, int, int, int]] = []
    stack = [(np.arange(len(cells)), 0, _COLUMNS, 0, int(180 / CELL_DEG))]
    while stack and len(cells):  # a few hundred tiles: a loop over tiles, not firms
        at, c0, c1, r0, r1 = stack.pop()
        total = int(counts[at].sum())
        wide = col[at].max() - col[at].min()  # never empty: both halves hold a cell
        tall = row[at].max() - row[at].min()
        if total <= firms or (wide == 0 and tall == 0):
            tile_of[at] = len(boxes)
            boxes.append((c0, c1, r0, r1))
            continue
        axis = col[at] if wide >= tall else row[at]
        order = np.argsort(axis, kind="stable")
        cum = np.cumsum(counts[at][order])
        cut = int(axis[order][np.searchsorted(cum, total / 2)])
        cut = min(max(cut, int(axis.min()) + 1), int(axis.max()))  # both sides non-empty
        low = axis < cut
        if wide >= tall:
            stack += [(at[low], c0, cut, r0, r1), (at[~low], cut, c1, r0, r1)]
        else:
            stack += [(at[low], c0, c1, r0, cut), (at[~low], c0, c1, cut, r1)]
    box = np.asarray(boxes, dtype=np.float64) * CELL_DEG
    box[:, :2] -= 180.0
    box[:, 2:] -= 90.0
    return tile_of, box


def halo_mask(
    lon: ArrayLike, lat: ArrayLike, box: NDArray[np.float64], width: float
) -> NDArray[np.bool_]:
    """Which points lie in ``box`` grown by ``width`` degrees (longitudes modulo 360).

    Parameters
    ----------
    lon, lat
        The points' coordinates, degrees.
    box
        ``lon0, lon1, lat0, lat1`` (degrees).
    width
        The margin around ``box``, degrees (infinite: every point).
    """
    if not np.isfinite(width):
        return np.ones(np.shape(lon), dtype=bool)
    x0, x1, y0, y1 = (float(v) for v in box)
    y = np.asarray(lat, dtype=np.float64)
    inside = (y >= y0 - width) & (y <= y1 + width)
    span = x1 - x0 + 2 * width
    if span < 360:  # the longitudes of the points in the latitudes' band only
        at = np.flatnonzero(inside)
        x = np.asarray(lon, dtype=np.float64)[at]
        inside[at] = (wrapped(x) - (x0 - width)) % 360.0 <= span
    return inside


def boxes_meeting(
    boxes: NDArray[np.float64], box: NDArray[np.float64], width: float
) -> NDArray[np.int64]:
    """The tiles whose boxes meet ``box`` grown by ``width`` degrees (longitudes modulo
    360): those that may hold firms in it.

    Parameters
    ----------
    boxes
        Each tile's box, one row per tile (see :class:`Tiling`).
    box
        ``lon0, lon1, lat0, lat1`` (degrees).
    width
        The margin around ``box``, degrees (infinite: every tile).
    """
    every = np.arange(len(boxes))
    if not np.isfinite(width):
        return every
    x0, x1, y0, y1 = (float(v) for v in box)
    meets = (boxes[:, 3] >= y0 - width) & (boxes[:, 2] <= y1 + width)
    span = x1 - x0 + 2 * width
    if span < 360:  # the other box's longitudes, from the grown box's west edge
        start = (boxes[:, 0] - (x0 - width)) % 360.0
        meets &= (start <= span) | (start + (boxes[:, 1] - boxes[:, 0]) >= 360.0)
    return every[meets]


def boxes_near(boxes: NDArray[np.float64], tile: int, width: float) -> NDArray[np.int64]:
    """The tiles other than ``tile`` whose boxes meet the box of ``tile`` grown by
    ``width`` degrees: those that may hold its halo.

    Parameters
    ----------
    boxes
        Each tile's box, one row per tile (see :class:`Tiling`).
    tile
        The tile's number (a row of ``boxes``).
    width
        The halo's width, degrees (infinite: every other tile).
    """
    near = boxes_meeting(boxes, boxes[tile], width)
    return near[near != tile]


def outside_distance(
    lon: ArrayLike, lat: ArrayLike, box: NDArray[np.float64], width: float
) -> NDArray[np.float64]:
    """For points inside ``box``, a lower bound of the chord distance (metres) to any
    point outside the box grown by ``width`` degrees (infinite when nothing is outside):
    a point outside differs in latitude by at least the margin on that side (a great
    circle is at least that arc) or in longitude (modulo 360) by at least the margin
    there (the chord is at least the distance between the points' projections on the
    equator's plane).

    Parameters
    ----------
    lon, lat
        The points' coordinates, degrees (inside ``box``).
    box
        ``lon0, lon1, lat0, lat1`` (degrees).
    width
        The halo's width around ``box``, degrees (infinite: every distance infinite).
    """
    x, y = wrapped(lon), np.asarray(lat, dtype=np.float64)
    if not np.isfinite(width):
        return np.full(len(x), np.inf)
    x0, x1, y0, y1 = (float(v) for v in box)
    below = np.where(y0 - width <= -90.0, np.inf, y - (y0 - width))
    above = np.where(y1 + width >= 90.0, np.inf, (y1 + width) - y)
    dy = np.radians(np.minimum(below, above))
    by_lat = np.where(
        np.isfinite(dy), 2 * _EARTH_RADIUS_M * np.sin(np.minimum(dy, np.pi) / 2), np.inf
    )
    if x1 - x0 + 2 * width >= 360:
        by_lon = np.full(len(x), np.inf)
    else:
        dx = np.radians(np.minimum(x - (x0 - width), (x1 + width) - x))
        by_lon = _EARTH_RADIUS_M * np.cos(np.radians(y)) * np.sin(np.clip(dx, 0.0, np.pi / 2))
    return np.asarray(np.minimum(by_lat, by_lon) * (1 - 1e-9), dtype=np.float64)


def halo_needed(lat: ArrayLike, reach: ArrayLike) -> float:
    """A halo (degrees) wide enough that points at latitudes ``lat`` anywhere in their
    box have no point outside it nearer than ``reach`` metres (infinite when no halo
    short of the whole sphere is).

    Parameters
    ----------
    lat
        The points' latitudes, degrees.
    reach
        Each point's search radius, chord metres (one per ``lat``); none: a halo of 0.
    """
    r = np.asarray(reach, dtype=np.float64) / _EARTH_RADIUS_M
    if not len(r):
        return 0.0
    by_lat = np.degrees(2 * np.arcsin(np.clip(r / 2, 0.0, 1.0)))
    cos = np.cos(np.radians(np.asarray(lat, dtype=np.float64)))
    ratio = np.divide(r, cos, out=np.full(len(r), np.inf), where=cos > 0)
    if (ratio >= 1).any() or (r >= 2).any():
        return float("inf")
    return float(max(by_lat.max(), np.degrees(np.arcsin(ratio)).max()))


class GridTiling:
    """Firms held in memory (arrays), cut into tiles of about ``firms`` firms (see the
    module's text): what tests and in-memory callers hand to the tiled co-location.

    Parameters
    ----------
    lon, lat
        Each firm's coordinates (degrees).
    firms
        Firms per tile, about.
    """

    def __init__(self, lon: ArrayLike, lat: ArrayLike, *, firms: int = 500_000) -> None:
        self.lon = np.asarray(lon, dtype=np.float64)
        self.lat = np.asarray(lat, dtype=np.float64)
        cell = cell_of(self.lon, self.lat)
        cells, inverse, counts = np.unique(cell, return_inverse=True, return_counts=True)
        tile_of, self._boxes = plan_tiles(cells, counts, max(int(firms), 1))
        self.tile = tile_of[inverse.reshape(-1)]
        order = np.argsort(self.tile, kind="stable")
        self._order = order
        self._start = np.searchsorted(self.tile[order], np.arange(len(self._boxes) + 1))

    @property
    def n(self) -> int:
        """Firms in all."""
        return len(self.lon)

    @property
    def boxes(self) -> NDArray[np.float64]:
        """Each tile's box (see :class:`Tiling`)."""
        return self._boxes

    def _firms(self, at: NDArray[np.int64]) -> TileFirms:
        at = np.sort(at)
        return TileFirms(at, self.lon[at], self.lat[at])

    def core(self, tile: int) -> TileFirms:
        """The firms of ``tile``.

        Parameters
        ----------
        tile
            The tile's number (a row of :attr:`boxes`).
        """
        return self._firms(self._order[self._start[tile] : self._start[tile + 1]])

    def halo(self, tile: int, width: float) -> TileFirms:
        """The firms of the other tiles within ``width`` degrees of the box of ``tile``.

        Parameters
        ----------
        tile
            The tile's number (a row of :attr:`boxes`).
        width
            The halo's width, degrees (infinite: every other firm).
        """
        parts = [
            self._order[self._start[t] : self._start[t + 1]]
            for t in boxes_near(self._boxes, tile, width)
        ]
        at = np.concatenate([np.zeros(0, dtype=np.int64), *parts])
        near = halo_mask(self.lon[at], self.lat[at], self._boxes[tile], width)
        return self._firms(at[near])

    def within(self, box: NDArray[np.float64], width: float) -> TileFirms:
        """Every firm within ``width`` degrees of ``box``.

        Parameters
        ----------
        box
            ``lon0, lon1, lat0, lat1`` (degrees).
        width
            How far around ``box``, degrees (infinite: every firm).
        """
        parts = [
            self._order[self._start[t] : self._start[t + 1]]
            for t in boxes_meeting(self._boxes, box, width)
        ]
        at = np.concatenate([np.zeros(0, dtype=np.int64), *parts])
        return self._firms(at[halo_mask(self.lon[at], self.lat[at], box, width)])


def tile_sizes(tiling: Tiling) -> pd.Series:
    """Firms per tile (for logging and tests).

    Parameters
    ----------
    tiling
        The tiles (a :class:`Tiling`).
    """
    return pd.Series([len(tiling.core(t)) for t in range(len(tiling.boxes))])
