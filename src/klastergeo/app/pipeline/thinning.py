"""The firms the sector point patterns are measured on, drawn block by block.

Ripley's L and Clark-Evans of a sector need its firms' points; a national registry has
tens of millions. The patterns are measured on at most ``pointpattern.max_firms`` firms
with a point: every one of them when there are no more, else the firms with the smallest
draws of :func:`klastergeo.analysis.draws.position_uniform` (a uniform thinning, seeded,
tied to each firm's position). Each block of firms (:func:`~.spread.over_blocks`, here or
on Dask) hands back its own smallest draws, at most ``max_firms`` of them; the client keeps
the smallest of all. Memory follows ``max_firms`` and a block, never the registry; the
firms drawn do not depend on the batch size or on where the blocks ran.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from klastergeo.analysis.draws import position_uniform
from klastergeo.app.config import RunConfig
from klastergeo.app.pipeline._steps import Notes
from klastergeo.app.pipeline.points import note_pointless
from klastergeo.app.pipeline.spread import over_blocks
from klastergeo.io.registry.firms import FirmStore

__all__ = ["Drawn", "thin_block", "thinned_firms"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Drawn:
    """A block's firms with a point and their draws (at most ``cap``, the smallest), and
    how many firms the block had."""

    firms: pd.DataFrame  # position, u, lon, lat, sector
    n_firms: int
    n_placed: int  # firms with a point


def thin_block(store: FirmStore, *, only: Sequence[int], size: int, seed: int, cap: int) -> Drawn:
    """The firms with a point of some blocks of ``store``, each with its draw: at most
    ``cap``, those with the smallest draws (a task of :func:`~.spread.over_blocks`).

    Parameters
    ----------
    store
        The kept firms.
    only, size
        The blocks and their size (:meth:`~klastergeo.io.registry.firms.FirmStore.blocks`).
    seed
        The seed of the draws.
    cap
        Most firms kept.
    """
    kept, n, placed = [], 0, 0
    for start, block in store.blocks(("lon", "lat", "sector"), only=only, size=size):
        n += block.num_rows
        lon, lat = _floats(block, "lon"), _floats(block, "lat")
        ok = np.isfinite(lon) & np.isfinite(lat)
        at = np.flatnonzero(ok)
        placed += len(at)
        sector = (
            block.column("sector").take(pa.array(at)) if "sector" in block.column_names else None
        )
        drawn = pd.DataFrame(
            {
                "position": start + at,
                "u": position_uniform(start + at, seed=seed),
                "lon": lon[at],
                "lat": lat[at],
                "sector": sector.to_numpy(zero_copy_only=False) if sector is not None else None,
            }
        )
        kept.append(_smallest(drawn, cap))
    return Drawn(_smallest(pd.concat(kept, ignore_index=True), cap), n, placed)


def thinned_firms(config: RunConfig, store: FirmStore, notes: Notes | None = None) -> pd.DataFrame:
    """The firms the sector point patterns are measured on (``lon``, ``lat``,
    ``sector``, in file order, indexed by position): every firm with a point, or a seeded
    uniform thinning to ``pointpattern.max_firms`` of them. Firms without a point and
    the thinning are noted.

    Parameters
    ----------
    config
        ``pointpattern.max_firms``, ``analysis.seed`` and ``records.scheduler``.
    store
        The kept firms.
    notes
        The run's notes; None to note nothing.
    """
    cap, seed = config.pointpattern.max_firms, config.analysis.seed
    if seed is None:  # one seed for every block, wherever it is drawn
        seed = int(np.random.default_rng().integers(0, 2**63))
    kept = pd.DataFrame({c: [] for c in ("position", "u", "lon", "lat", "sector")})
    total = placed = 0
    for drawn in over_blocks(
        thin_block,
        store,
        scheduler=config.records.scheduler,
        workers=config.records.workers,
        kwargs={"seed": seed, "cap": cap},
    ):
        total += drawn.n_firms
        placed += drawn.n_placed
        kept = _smallest(pd.concat([kept, drawn.firms], ignore_index=True), cap)
    note_pointless(notes, total - placed, total, step="profile", what="point_patterns")
    if placed > cap and notes is not None:
        notes.add(
            "profile", "patterns_all", "thinned", warn=False, cap=cap, firms=placed,
            option="pointpattern.max_firms",
        )  # fmt: skip
    out = kept.sort_values("position", kind="stable")
    return pd.DataFrame(
        {c: out[c].to_numpy() for c in ("lon", "lat", "sector")},
        index=pd.Index(out["position"].to_numpy(np.int64), name="position"),
    )


def _smallest(drawn: pd.DataFrame, cap: int) -> pd.DataFrame:
    """The ``cap`` rows of smallest draw (ties: the earlier position), in their order."""
    if len(drawn) > cap:
        order = np.lexsort((drawn["position"].to_numpy(), drawn["u"].to_numpy()))[:cap]
        drawn = drawn.iloc[np.sort(order)].reset_index(drop=True)
    return drawn


def _floats(block: pa.Table, column: str) -> np.ndarray:
    if column not in block.column_names:
        return np.full(block.num_rows, np.nan)
    return np.asarray(block.column(column).to_numpy(zero_copy_only=False), dtype=np.float64)
