"""The firms' points cut into tiles on disk for the co-location quotients
(:func:`klastergeo.analysis.colocation.tiled_colocation`): a first pass over the firms,
part by part, counts them per grid cell and plans the tiles
(:func:`klastergeo.analysis.tiles.plan_tiles`); a second writes each firm's position,
longitude and latitude to its tile's file in the run's scratch folder. A tile is then
read with its halo (the parts of the neighbouring tiles' files within reach), so the
co-location holds a tile's points at a time, never every firm's.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from klastergeo.analysis import colocation
from klastergeo.analysis.tiles import (
    TileFirms,
    boxes_meeting,
    boxes_near,
    cell_of,
    halo_mask,
    plan_tiles,
)

if TYPE_CHECKING:
    from klastergeo.app.config import ColocationOptions
    from klastergeo.io.registry.firms import FirmStore

__all__ = [
    "RECORD",
    "TILE_FIRMS",
    "SpilledTiling",
    "measure_by_tiles",
    "point_chunks",
    "store_chunks",
]

logger = logging.getLogger(__name__)

#: One firm in a tile's file.
RECORD = np.dtype([("position", "<i8"), ("lon", "<f8"), ("lat", "<f8")])
#: Firms per tile, about (a tile's tree, halo and pairs: some 100 MB at this size).
TILE_FIRMS = 500_000
#: Firms read from a frame at a time.
CHUNK = 1 << 18

#: The firms, part by part: (positions, longitudes, latitudes), a fresh pass per call.
Chunks = Callable[[], Iterable[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]]]


class SpilledTiling:
    """Tiles of firms in files (a :class:`klastergeo.analysis.tiles.Tiling`).

    Parameters
    ----------
    folder
        Where the tiles' files are (one per tile: ``tile-00000.bin`` ...).
    boxes
        Each tile's box (``lon0, lon1, lat0, lat1``).
    n
        Firms in all.
    """

    def __init__(self, folder: Path, boxes: NDArray[np.float64], n: int) -> None:
        self.folder, self._boxes, self._n = folder, boxes, n

    @classmethod
    def write(
        cls,
        chunks: Chunks,
        folder: Path,
        *,
        firms: int = 500_000,
        counted: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
    ) -> SpilledTiling:
        """Cut the firms of ``chunks`` (two passes, one when ``counted``) into tiles of
        about ``firms`` firms written below ``folder``.

        Parameters
        ----------
        chunks
            A fresh pass over the firms at each call: ``(positions, lon, lat)`` per part.
        folder
            An empty folder of the run's scratch space.
        firms
            Firms per tile, about.
        counted
            The firms per occupied grid cell (:func:`~klastergeo.analysis.tiles.cell_of`),
            cells sorted, when known (the first pass is then not made).
        """
        folder.mkdir(parents=True, exist_ok=True)
        if counted is None:
            cells, counts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
            for _, lon, lat in chunks():  # pass 1: firms per grid cell, a running count
                here, many = np.unique(cell_of(lon, lat), return_counts=True)
                cells, at = np.unique(np.concatenate([cells, here]), return_inverse=True)
                counts = np.bincount(at.reshape(-1), np.concatenate([counts, many]))
                counts = counts.astype(np.int64)
        else:
            cells, counts = counted
        n = int(counts.sum())
        tile_of, boxes = plan_tiles(cells, counts, max(int(firms), 1))
        out = cls(folder, boxes, n)
        for t in range(len(boxes)):
            out._path(t).write_bytes(b"")
        for positions, lon, lat in chunks():  # pass 2: each firm to its tile's file
            tile = tile_of[np.searchsorted(cells, cell_of(lon, lat))]
            record = np.empty(len(positions), dtype=RECORD)
            record["position"], record["lon"], record["lat"] = positions, lon, lat
            by = np.argsort(tile, kind="stable")
            bounds = np.searchsorted(tile[by], np.arange(len(boxes) + 1))
            for held in np.flatnonzero(np.diff(bounds)):
                with out._path(int(held)).open("ab") as handle:
                    record[by[bounds[held] : bounds[held + 1]]].tofile(handle)
        logger.info("co-location: %d firms in %d tiles below %s", n, len(boxes), folder)
        return out

    def _path(self, tile: int) -> Path:
        return self.folder / f"tile-{tile:05d}.bin"

    def _read(self, tile: int) -> NDArray[np.void]:
        return np.fromfile(self._path(tile), dtype=RECORD)

    @property
    def n(self) -> int:
        """Firms in all."""
        return self._n

    @property
    def boxes(self) -> NDArray[np.float64]:
        """Each tile's box."""
        return self._boxes

    @staticmethod
    def _firms(records: Iterable[NDArray[np.void]]) -> TileFirms:
        joined = np.concatenate([np.zeros(0, dtype=RECORD), *records])
        joined = joined[np.argsort(joined["position"], kind="stable")]
        return TileFirms(
            joined["position"].astype(np.int64),
            joined["lon"].astype(np.float64),
            joined["lat"].astype(np.float64),
        )

    def core(self, tile: int) -> TileFirms:
        """The firms of ``tile``.

        Parameters
        ----------
        tile
            The tile's number (a row of :attr:`boxes`).
        """
        return self._firms([self._read(tile)])

    def halo(self, tile: int, width: float) -> TileFirms:
        """The firms of the other tiles within ``width`` degrees of its box.

        Parameters
        ----------
        tile
            The tile's number (a row of :attr:`boxes`).
        width
            The halo's width, degrees (infinite: every other firm).
        """
        box = self._boxes[tile]

        def near() -> Iterator[NDArray[np.void]]:
            for t in boxes_near(self._boxes, tile, width):
                records = self._read(int(t))
                yield records[halo_mask(records["lon"], records["lat"], box, width)]

        return self._firms(near())

    def within(self, box: NDArray[np.float64], width: float) -> TileFirms:
        """Every firm within ``width`` degrees of ``box``.

        Parameters
        ----------
        box
            ``lon0, lon1, lat0, lat1`` (degrees).
        width
            How far around ``box``, degrees (infinite: every firm).
        """

        def near() -> Iterator[NDArray[np.void]]:
            for t in boxes_meeting(self._boxes, box, width):
                records = self._read(int(t))
                yield records[halo_mask(records["lon"], records["lat"], box, width)]

        return self._firms(near())


def point_chunks(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Chunks:
    """The firms of ``lon``/``lat`` (positions their order) as :data:`Chunks` of
    :data:`CHUNK` firms.

    Parameters
    ----------
    lon, lat
        Each firm's coordinates, degrees (the arrays are sliced, not copied).
    """

    def chunks() -> Iterator[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]]:
        for start in range(0, len(lon), CHUNK):
            stop = min(start + CHUNK, len(lon))
            yield np.arange(start, stop, dtype=np.int64), lon[start:stop], lat[start:stop]

    return chunks


def measure_by_tiles(
    chunks: Chunks,
    sectors: Any,
    sentra_of: Any,
    options: ColocationOptions,
    *,
    seed: int,
    pairs: str,
    also: Iterable[tuple[str, str]],
    linkages: pd.DataFrame,
    scratch: Path | None = None,
    counted: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> tuple[pd.DataFrame, colocation.SentraLinks]:
    """The global quotients and each sentra's related industries of the firms of
    ``chunks`` (their ``sectors`` and ``sentra_of``, by position), by tiles spilled to
    ``scratch`` (a temporary folder when None).

    Parameters
    ----------
    chunks
        The firms' points, part by part (:data:`Chunks`).
    sectors
        Each firm's sector (a categorical: a small code per firm).
    sentra_of
        Each firm's sentra id (missing: none).
    options
        ``[colocation]``: ``k``, ``permutations``, ``max_permuted_firms``,
        ``min_firms``, ``alpha`` and ``min_related_firms``.
    seed, pairs, also, linkages
        As :func:`klastergeo.analysis.colocation.tiled_colocation`.
    scratch
        The run's scratch folder.
    counted
        The firms per grid cell, when known (:meth:`SpilledTiling.write`).
    """
    codes, names = colocation.sector_codes(sectors)
    inside, ids = _members(sentra_of)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="colocation-") as folder:
        tiling = SpilledTiling.write(chunks, Path(folder), firms=TILE_FIRMS, counted=counted)
        found = colocation.tiled_colocation(
            tiling,
            codes,
            names,
            sentra=(inside, ids),
            k=options.k,
            permutations=options.permutations,
            seed=seed,
            max_permuted=options.max_permuted_firms,
            min_firms=options.min_firms,
            pairs=pairs,
            also=also,
            alpha=options.alpha,
            min_related_firms=options.min_related_firms,
            linkages=linkages,
        )
    assert found.table is not None and found.links is not None
    return found.table, found.links


def _members(sentra_of: Any) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """The positions and sentra ids of the firms in a sentra (an id neither missing nor
    empty); a categorical is read by its codes, with no text per firm."""
    values = sentra_of.array if isinstance(sentra_of, pd.Series) else sentra_of
    if isinstance(values, pd.Categorical):
        text = np.asarray(values.categories.astype(str), dtype=object)
        codes = np.asarray(values.codes)
        named = codes >= 0
        named[named] = text[codes[named]] != ""
        inside = np.flatnonzero(named)
        return inside, text[codes[inside]]
    given = np.asarray(sentra_of, dtype=object)
    inside = np.flatnonzero(pd.notna(given))  # text only for the firms with an id
    named = pd.Series(given[inside]).astype(str).to_numpy() != ""
    return inside[named], given[inside[named]]


def store_chunks(store: FirmStore) -> Chunks:
    """The firms of ``store`` that have a point, part by part, as :data:`Chunks`: their
    positions among those firms (the order of :func:`~.points.with_points`), longitudes
    and latitudes; only a part's coordinates are read at a time.

    Parameters
    ----------
    store
        The kept firms (Parquet parts, or a frame read whole).
    """

    def chunks() -> Iterator[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]]:
        done = 0
        for _, part in store.parts(columns=["lon", "lat"]):
            lon = part["lon"].to_numpy(dtype=np.float64, na_value=np.nan)
            lat = part["lat"].to_numpy(dtype=np.float64, na_value=np.nan)
            found = np.isfinite(lon) & np.isfinite(lat)
            many = int(found.sum())
            yield np.arange(done, done + many, dtype=np.int64), lon[found], lat[found]
            done += many

    return chunks
