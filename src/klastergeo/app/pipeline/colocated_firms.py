"""The map's per-firm co-location layer (``map`` step): for the significant sector
pairs of ``colocation.csv``, each focal firm's category as ArcGIS Pro's Colocation
Analysis names them, from the local co-location quotient
(:func:`klastergeo.analysis.colocation.local_clq`, conditional permutations):

- *co-located*: the local CLQ towards the related sector is above 1 and its
  permutation p-value is at most ``[colocation] alpha``;
- *isolated*: no firm of the related sector is among the firm's ``k`` neighbours, and
  that is unlikely under random relabelling: the chance that ``k`` neighbours drawn
  from the other firms hold none of the related sector's (hypergeometric, exact) is at
  most ``alpha``. A firm with some related neighbours, but fewer than expected, is not
  tested for isolation (the permutations give the upper tail only);
- *not significant*: the others.

Only in maps whose firms are drawn one by one (regency and province size,
``map.max_firms``): the categories go into the page's firm data block, so a map
published without firms (``publish site`` without ``--with-firms``) has none.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from klastergeo.analysis import colocation
from klastergeo.analysis.geometry import has_point

if TYPE_CHECKING:
    from klastergeo.app.config import RunConfig

__all__ = ["COLOCATED", "ISOLATED", "MAX_PAIRS", "NOT_SIGNIFICANT", "firm_colocation"]

logger = logging.getLogger(__name__)

#: Category codes of a focal firm (0: not a firm of the pair's sector).
COLOCATED, ISOLATED, NOT_SIGNIFICANT = 1, 2, 3
#: Most sector pairs in a map (the strongest significant ones by CLQ).
MAX_PAIRS = 8
#: Memory of the permutations of one chunk of focal firms.
MEMORY_BYTES = 256 * 2**20


def isolation_p(n: int, n_related: int, k: int, *, same: bool = False) -> float:
    """The chance that ``k`` neighbours drawn at random from the other ``n - 1`` firms
    hold no firm of a sector with ``n_related`` firms (one fewer when it is the focal
    firm's own sector, ``same``).

    Parameters
    ----------
    n
        Firms in all.
    n_related
        Firms of the related sector.
    k
        Neighbours of each firm.
    same
        Whether the related sector is the focal firm's own.

    Examples
    --------
    >>> round(isolation_p(11, 5, 2), 4)  # (5/10) * (4/9)
    0.2222
    """
    others = n - 1
    related = n_related - (1 if same else 0)
    if k > others:
        return 1.0
    j = np.arange(k, dtype=float)
    return float(np.prod(np.clip((others - related - j) / (others - j), 0.0, 1.0)))


def firm_colocation(
    config: RunConfig, pairs: pd.DataFrame | None, firms: pd.DataFrame
) -> pd.DataFrame | None:
    """Each drawn firm's co-location category for the strongest significant pairs.

    Parameters
    ----------
    config
        The configuration: ``[colocation]`` ``k``, ``permutations``, ``alpha``,
        ``min_firms`` and ``analysis.seed``.
    pairs
        The global CLQ table (``colocation.csv``: indexed by ``sector`` and
        ``related_sector``, with ``clq`` and ``significant``); None when co-location
        was not measured.
    firms
        The firms the map draws (``sector`` and a point: ``lon``/``lat`` or a
        geometry), in the map's order.

    Returns
    -------
    DataFrame or None
        Indexed like ``firms``, one column per pair (``"31>16"``): 0 for a firm of
        another sector, else :data:`COLOCATED`, :data:`ISOLATED` or
        :data:`NOT_SIGNIFICANT`; None without a significant pair.
    """
    if pairs is None or not len(pairs) or "significant" not in pairs:
        return None
    chosen = pairs.loc[pairs["significant"].astype(bool)].reset_index()
    chosen = chosen.loc[chosen["sector"].astype(str) != chosen["related_sector"].astype(str)]
    chosen = chosen.sort_values("clq", ascending=False, kind="stable").head(MAX_PAIRS)
    if not len(chosen) or len(firms) < 3:
        return None
    lon, lat = _coordinates(firms)
    sector = firms["sector"].astype(str).to_numpy()
    wanted = sorted(set(chosen["sector"].astype(str)))
    options = config.colocation
    # the permutations of a chunk of focal firms hold chunk x permutations x sectors
    # shares: about MEMORY_BYTES at a time
    width = (options.permutations + 1) * (len(np.unique(sector)) + 1) * 8
    local = colocation.local_clq(
        lon,
        lat,
        sector,
        focal=np.isin(sector, wanted),
        k=options.k,
        permutations=options.permutations,
        seed=config.analysis.seed,
        min_firms=options.min_firms,
        chunk=max(1, MEMORY_BYTES // width),
        p_sectors=sorted(set(chosen["related_sector"].astype(str))),
    )
    k = min(options.k, len(sector) - 1)  # the neighbours of each firm
    sizes = pd.Series(sector).value_counts()
    out = pd.DataFrame(index=firms.index)
    for a, b in zip(
        chosen["sector"].astype(str), chosen["related_sector"].astype(str), strict=True
    ):
        if b not in local.clq.columns:
            continue
        rows = local.clq.index.to_numpy()
        mine = rows[sector[rows] == a]
        clq = local.clq.loc[mine, b].to_numpy(dtype=float)
        p = (
            local.p_value.loc[mine, b].to_numpy(dtype=float)
            if local.p_value is not None
            else np.full(len(mine), np.nan)
        )
        lonely = isolation_p(len(sector), int(sizes.get(b, 0)), k) <= options.alpha
        codes = np.zeros(len(firms), dtype=np.int8)
        codes[mine] = np.select(
            [(clq > 1) & (p <= options.alpha), (clq == 0) & lonely],
            [COLOCATED, ISOLATED],
            NOT_SIGNIFICANT,
        )
        out[f"{a}>{b}"] = codes
    return out if out.shape[1] else None


def _coordinates(firms: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The firms' longitudes and latitudes (their columns, else their points)."""
    if "lon" in firms and "lat" in firms:
        return firms["lon"].to_numpy(dtype=float), firms["lat"].to_numpy(dtype=float)
    if not has_point(firms).all():
        raise ValueError("every firm drawn has a point")
    geometry = firms.geometry
    return geometry.x.to_numpy(dtype=float), geometry.y.to_numpy(dtype=float)
