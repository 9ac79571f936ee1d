"""The firms counted on the map's grid block by block (a national registry's map shows
counts per cell, never a firm; :class:`~klastergeo.analysis.tally.GridTally`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from klastergeo.analysis.tally import GridTally
from klastergeo.app.pipeline._steps import Notes
from klastergeo.app.pipeline.points import note_pointless
from klastergeo.app.pipeline.spread import over_blocks
from klastergeo.io.registry.firms import FirmStore

__all__ = ["density_grid", "grid_block"]


def grid_block(
    store: FirmStore, *, only: Sequence[int], size: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], int]:
    """The firms of some blocks counted on the finest grid: its occupied cells' keys and
    counts, and the firms read (a task of :func:`~.spread.over_blocks`).

    Parameters
    ----------
    store
        The kept firms.
    only, size
        The blocks and their size (:meth:`~klastergeo.io.registry.firms.FirmStore.blocks`).
    """
    grid, n = GridTally(), 0
    for _, block in store.blocks(("lon", "lat"), only=only, size=size):
        n += block.num_rows
        if {"lon", "lat"} <= set(block.column_names):
            grid.add(
                block.column("lon").to_numpy(zero_copy_only=False),
                block.column("lat").to_numpy(zero_copy_only=False),
            )
    return grid.keys, grid.counts, n


def density_grid(
    store: FirmStore, *, scheduler: str = "", workers: int | None = None, notes: Notes | None = None
) -> GridTally:
    """Every firm with a point counted on the map's grid, block by block (here or on
    Dask); the firms without a point are noted (``density_grid``).

    Parameters
    ----------
    store
        The kept firms.
    scheduler
        ``records.scheduler``.
    workers
        ``records.workers`` (None: :func:`~.spread.over_blocks`' default).
    notes
        The run's notes; None to note nothing.
    """
    grid, total = GridTally(), 0
    for keys, counts, n in over_blocks(grid_block, store, scheduler=scheduler, workers=workers):
        grid.merge(keys, counts)
        total += n
    note_pointless(notes, total - grid.n_firms, total, step="map", what="density_grid")
    return grid
