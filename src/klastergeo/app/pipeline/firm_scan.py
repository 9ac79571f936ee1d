"""The profile step's one read of the firm blocks.

The profile step needs three things of every firm of a national registry: the firms in a
sentra (their typology and diagnosis), the firms with a point with their sector and sentra
(co-location, whose points go to tiles on disk) and the seeded thinning of the sector
point patterns. Each was a pass over the firm store of its own (with the co-location's two
passes over the points); :func:`scan_firms` reads each block once
(:func:`~.spread.over_blocks`, here or on Dask) and hands each block's small results back:
its sentra members, its firms with a point (position, sector and sentra codes), its
smallest thinning draws, its firms per grid cell (the co-location's tiles are planned from
them) and its points, written to a file of the run's scratch space that the tiles are cut
from (:meth:`~.colocation_tiles.SpilledTiling.write`). The client joins them in block
order: the same codes, draws and tiles as the separate passes, whatever the block size or
where the blocks ran.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from klastergeo.analysis.tally import Vocabulary
from klastergeo.analysis.tiles import cell_of
from klastergeo.app.config import RunConfig
from klastergeo.app.pipeline.firm_columns import FirmColumns
from klastergeo.app.pipeline.spread import over_blocks
from klastergeo.app.pipeline.thinning import (
    NONE_DRAWN,
    Drawn,
    add_drawn,
    drawn_of,
    kept_firms,
    thinning_seed,
)
from klastergeo.io.registry.firms import FirmStore

__all__ = ["BlockScan", "FirmScan", "point_chunks_of", "scan_block", "scan_firms"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlockScan:
    """What one block of firms gives the profile step (see the module's text)."""

    start: int
    n: int
    members: NDArray[np.int64]  # positions of the firms in a sentra
    member_codes: NDArray[np.int32]  # and their sentra codes
    placed: NDArray[np.int64]  # the firms with a point, within the block
    sector_labels: list[object]  # the block's sectors, in order of first appearance
    sector_index: NDArray[np.int32]  # each placed firm's, into sector_labels (-1: none)
    sentra: NDArray[np.int32]  # each placed firm's sentra code (-1: none)
    drawn: Drawn | None  # the smallest thinning draws (None: no point patterns)
    cells: NDArray[np.int64]  # the grid cells of the placed firms (co-location's tiles)
    counts: NDArray[np.int64]  # and their firms
    points: str  # the file of their longitudes and latitudes ("": none written)


@dataclass(frozen=True)
class FirmScan:
    """Every block's :class:`BlockScan` joined: how many firms there are (``n``); the
    positions of those with a point (``at``, None when all have one), their sectors and
    sentra (categories), as :meth:`~.firm_columns.FirmColumns.placed` gives them; the
    firms of the thinning as :func:`~.thinning.kept_firms` gives them (``drawn.firms``,
    with the blocks' counts; noted later, in the step's order); the firms per grid cell
    and the points' files (each block's, in order, and its firms with a point)."""

    n: int
    at: NDArray[np.int64] | None
    sectors: pd.Categorical
    sentra: pd.Categorical
    drawn: Drawn | None
    cells: NDArray[np.int64]
    counts: NDArray[np.int64]
    points: list[tuple[str, int]]


def scan_block(
    store: FirmStore,
    *,
    only: Sequence[int],
    size: int,
    columns: FirmColumns,
    seed: int | None,
    cap: int,
    folder: str,
) -> list[BlockScan]:
    """Each of some blocks of ``store`` read once for the profile step (a task of
    :func:`~.spread.over_blocks`).

    Parameters
    ----------
    store
        The kept firms.
    only, size
        The blocks and their size (:meth:`~klastergeo.io.registry.firms.FirmStore.blocks`).
    columns
        How each firm's sentra is found.
    seed, cap
        The thinning's seed and most firms kept (:func:`~.thinning.drawn_of`); seed
        None: no thinning.
    folder
        Where the blocks' points are written (one file a block); "": not written.
    """
    wanted = [*dict.fromkeys([*columns.needs, "lon", "lat", "sector"])]
    return [
        _scan_one(start, block, columns, seed=seed, cap=cap, folder=folder)
        for start, block in store.blocks(wanted, only=only, size=size)
    ]


def _scan_one(
    start: int, block: pa.Table, columns: FirmColumns, *, seed: int | None, cap: int, folder: str
) -> BlockScan:
    """One block's :class:`BlockScan`."""
    lon, lat = _floats(block, "lon"), _floats(block, "lat")
    placed = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    codes = np.asarray(columns.sentra_codes(start, block), dtype=np.int32)
    inside = np.flatnonzero(codes >= 0)
    local = Vocabulary()
    sector = local.codes(block.column("sector")) if "sector" in block.column_names else None
    index = np.full(len(placed), -1, np.int32) if sector is None else sector[placed]
    cells = counts = np.zeros(0, dtype=np.int64)
    points = ""
    if folder:
        cells, counts = np.unique(cell_of(lon[placed], lat[placed]), return_counts=True)
        points = str(Path(folder) / f"points-{start:012d}.bin")
        np.stack([lon[placed], lat[placed]], axis=1).tofile(points)
    return BlockScan(
        start=start,
        n=block.num_rows,
        members=(start + inside).astype(np.int64),
        member_codes=codes[inside],
        placed=placed.astype(np.int64),
        sector_labels=list(local.labels),
        sector_index=index.astype(np.int32),
        sentra=codes[placed],
        drawn=None if seed is None else drawn_of(start, block, seed=seed, cap=cap),
        cells=cells.astype(np.int64),
        counts=counts.astype(np.int64),
        points=points,
    )


def scan_firms(
    config: RunConfig, store: FirmStore, columns: FirmColumns, folder: Path | None
) -> FirmScan:
    """Every block of ``store`` read once for the profile step (here or on Dask:
    ``records.scheduler``); the sentra's members are kept in ``columns``
    (:meth:`~.firm_columns.FirmColumns.remember_members`).

    Parameters
    ----------
    config
        ``pointpattern`` (``enabled``, ``max_firms``), ``analysis.seed`` and
        ``records.scheduler``.
    store
        The kept firms.
    columns
        How each firm's sentra is found.
    folder
        Where the blocks' points are written for co-location's tiles (an empty folder of
        scratch space); None: not written.
    """
    cap = config.pointpattern.max_firms
    seed = thinning_seed(config) if config.pointpattern.enabled else None
    # point-based sentra are a code per firm: taken here, not sent with every block
    point = columns.point_sentra
    sent = columns if point is None else dataclasses.replace(columns, point_sentra=None)
    kwargs = {"columns": sent, "seed": seed, "cap": cap, "folder": str(folder or "")}
    members: list[NDArray[np.int64]] = [np.empty(0, np.int64)]
    member_codes: list[NDArray[np.int32]] = [np.empty(0, np.int32)]
    at: list[NDArray[np.int64]] = [np.empty(0, np.int64)]
    sectors: list[NDArray[np.int32]] = [np.empty(0, np.int32)]
    sentra: list[NDArray[np.int32]] = [np.empty(0, np.int32)]
    vocabulary = Vocabulary()
    drawn = NONE_DRAWN
    cells, counts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    points: list[tuple[str, int]] = []
    blocks = over_blocks(
        scan_block,
        store,
        scheduler=config.records.scheduler,
        workers=config.records.workers,
        kwargs=kwargs,
    )
    for one in (b for result in blocks for b in result):
        if point is not None:  # the block's sentra codes, from the firms' own
            codes = point[one.start : one.start + one.n]
            inside = np.flatnonzero(codes >= 0)
            one = dataclasses.replace(
                one,
                members=(one.start + inside).astype(np.int64),
                member_codes=codes[inside].astype(np.int32),
                sentra=codes[one.placed].astype(np.int32),
            )
        members.append(one.members)
        member_codes.append(one.member_codes)
        at.append(one.start + one.placed)
        sectors.append(
            vocabulary.numbered(one.sector_labels, one.sector_index.astype(np.int64)).astype(
                np.int32
            )
        )
        sentra.append(one.sentra)
        if one.drawn is not None:
            drawn = add_drawn(drawn, one.drawn, cap)
        if one.points:
            merged, where = np.unique(np.concatenate([cells, one.cells]), return_inverse=True)
            joined = np.concatenate([counts, one.counts])
            counts = np.bincount(where.reshape(-1), joined).astype(np.int64)
            cells = merged
            points.append((one.points, len(one.placed)))
    columns.remember_members(np.concatenate(members), np.concatenate(member_codes))
    positions = np.concatenate(at)
    n = len(store)
    width = np.int16 if len(vocabulary) < 2**15 else np.int32
    return FirmScan(
        n=n,
        at=None if len(positions) == n else positions,
        sectors=pd.Categorical.from_codes(
            np.concatenate(sectors).astype(width), categories=pd.Index(vocabulary.labels)
        ),
        sentra=pd.Categorical.from_codes(np.concatenate(sentra), categories=columns.sentra_ids),
        drawn=None
        if seed is None
        else Drawn(kept_firms(drawn, cap), drawn.n_firms, drawn.n_placed),
        cells=cells,
        counts=counts,
        points=points,
    )


def point_chunks_of(
    points: list[tuple[str, int]],
) -> Iterator[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]]:
    """The points of the blocks' files as co-location's chunks (positions among the firms
    with a point, longitudes, latitudes), each file removed once read.

    Parameters
    ----------
    points
        Each block's file and its firms with a point, in block order
        (:attr:`FirmScan.points`).
    """
    done = 0
    for path, many in points:
        pairs = np.fromfile(path, dtype=np.float64).reshape(many, 2)
        Path(path).unlink()
        yield np.arange(done, done + many, dtype=np.int64), pairs[:, 0].copy(), pairs[:, 1].copy()
        done += many


def _floats(block: pa.Table, column: str) -> NDArray[np.float64]:
    if column not in block.column_names:
        return np.full(block.num_rows, np.nan)
    return np.asarray(block.column(column).to_numpy(zero_copy_only=False), dtype=np.float64)
