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

__all__ = [
    "NONE_DRAWN",
    "Drawn",
    "add_drawn",
    "drawn_of",
    "kept_firms",
    "note_drawn",
    "thin_block",
    "thinned_firms",
    "thinning_seed",
]

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
    drawn = [
        drawn_of(start, block, seed=seed, cap=cap)
        for start, block in store.blocks(("lon", "lat", "sector"), only=only, size=size)
    ]
    return Drawn(
        _smallest(pd.concat([d.firms for d in drawn], ignore_index=True), cap),
        sum(d.n_firms for d in drawn),
        sum(d.n_placed for d in drawn),
    )


def drawn_of(start: int, block: pa.Table, *, seed: int, cap: int) -> Drawn:
    """The firms with a point of one block (read with ``lon``, ``lat`` and ``sector``,
    other columns allowed), each with its draw: at most ``cap``, the smallest.

    Parameters
    ----------
    start
        The position of the block's first firm.
    block
        The block's firms.
    seed, cap
        As :func:`thin_block`.
    """
    lon, lat = _floats(block, "lon"), _floats(block, "lat")
    at = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    sector = block.column("sector").take(pa.array(at)) if "sector" in block.column_names else None
    drawn = pd.DataFrame(
        {
            "position": start + at,
            "u": position_uniform(start + at, seed=seed),
            "lon": lon[at],
            "lat": lat[at],
            "sector": sector.to_numpy(zero_copy_only=False) if sector is not None else None,
        }
    )
    return Drawn(_smallest(drawn, cap), block.num_rows, len(at))


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
    cap, seed = config.pointpattern.max_firms, thinning_seed(config)
    drawn = over_blocks(
        thin_block,
        store,
        scheduler=config.records.scheduler,
        workers=config.records.workers,
        kwargs={"seed": seed, "cap": cap},
    )
    kept = NONE_DRAWN
    for one in drawn:
        kept = add_drawn(kept, one, cap)
    return kept_firms(kept, cap, notes)


def thinning_seed(config: RunConfig) -> int:
    """The seed of the draws: ``analysis.seed``, or a random one (one seed for every
    block, wherever it is drawn).

    Parameters
    ----------
    config
        ``analysis.seed``.
    """
    seed = config.analysis.seed
    return int(np.random.default_rng().integers(0, 2**63)) if seed is None else seed


#: No firm drawn yet (what :func:`add_drawn` starts from).
NONE_DRAWN = Drawn(pd.DataFrame({c: [] for c in ("position", "u", "lon", "lat", "sector")}), 0, 0)


def add_drawn(kept: Drawn, one: Drawn, cap: int) -> Drawn:
    """The draws of ``kept`` and of a further block's (``one``) that may be among the
    ``cap`` smallest (at most ``2 * cap`` of them: :func:`kept_firms` keeps the ``cap``
    smallest), and their firms counted together.

    Parameters
    ----------
    kept
        The blocks before (:data:`NONE_DRAWN` at first).
    one
        The next block's draws.
    cap
        Most firms kept.
    """
    firms = one.firms
    if len(kept.firms) >= cap and len(firms):  # a draw above cap kept ones cannot enter
        least = np.partition(kept.firms["u"].to_numpy(), cap - 1)[cap - 1]
        firms = firms.loc[firms["u"].to_numpy() <= least]
    joined = pd.concat([kept.firms, firms], ignore_index=True)
    if len(joined) > 2 * cap:  # sorted now and then, not at every block
        joined = _smallest(joined, cap)
    return Drawn(joined, kept.n_firms + one.n_firms, kept.n_placed + one.n_placed)


def kept_firms(drawn: Drawn, cap: int, notes: Notes | None = None) -> pd.DataFrame:
    """The firms of every block's draws (:func:`add_drawn`) as :func:`thinned_firms`
    gives them; the firms without a point and the thinning noted.

    Parameters
    ----------
    drawn
        Every block's draws, added.
    cap
        ``pointpattern.max_firms``.
    notes
        The run's notes; None to note nothing.
    """
    note_drawn(drawn, cap, notes)
    out = _smallest(drawn.firms, cap).sort_values("position", kind="stable")
    return pd.DataFrame(
        {c: out[c].to_numpy() for c in ("lon", "lat", "sector")},
        index=pd.Index(out["position"].to_numpy(np.int64), name="position"),
    )


def note_drawn(drawn: Drawn, cap: int, notes: Notes | None) -> None:
    """Note the firms without a point and the thinning (when more than ``cap`` have one).

    Parameters
    ----------
    drawn
        Every block's draws, added (only the counts are read).
    cap
        ``pointpattern.max_firms``.
    notes
        The run's notes; None to note nothing.
    """
    total, placed = drawn.n_firms, drawn.n_placed
    note_pointless(notes, total - placed, total, step="profile", what="point_patterns")
    if placed > cap and notes is not None:
        notes.add(
            "profile", "patterns_all", "thinned", warn=False, cap=cap, firms=placed,
            option="pointpattern.max_firms",
        )  # fmt: skip


def _smallest(drawn: pd.DataFrame, cap: int) -> pd.DataFrame:
    """The ``cap`` rows of smallest draw (ties: the earlier position), in their order."""
    if len(drawn) > cap:
        u = drawn["u"].to_numpy()
        # those at most the cap-th smallest draw, then the ties at it by position: a
        # partition and a sort of a few, not a sort of every draw
        near = np.flatnonzero(u <= np.partition(u, cap - 1)[cap - 1])
        if len(near) > cap:
            near = near[np.lexsort((drawn["position"].to_numpy()[near], u[near]))[:cap]]
        drawn = drawn.iloc[np.sort(near)].reset_index(drop=True)
    return drawn


def _floats(block: pa.Table, column: str) -> np.ndarray:
    if column not in block.column_names:
        return np.full(block.num_rows, np.nan)
    return np.asarray(block.column(column).to_numpy(zero_copy_only=False), dtype=np.float64)
