"""Sentra: places where many small firms make the same product.

An area belongs to a sector's sentra when three things hold at once:

1. it is a significant Gi* hot spot of the sector's firm counts (``gi_bin`` at least the
   chosen confidence, after FDR when that is on) - firms cluster there;
2. its location quotient is at least ``lq_threshold`` - the area is *specialised* in the
   sector, not merely dense (a city has many firms of every kind, LQ near 1);
3. it has at least ``min_firms`` firms of the sector (20 by default, the statistics
   office's rule of thumb for a statistical sentra).

Member areas that are contiguous in the weights graph merge into one sentra.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from libpysal.graph import Graph
from scipy.sparse.csgraph import connected_components

from klastergeo import kbli
from klastergeo._errors import ConfigError

__all__ = ["SENTRA_COLUMNS", "delineate", "is_member"]

logger = logging.getLogger(__name__)

_CONFIDENCE_BIN = {90: 1, 95: 2, 99: 3}
#: Columns of the sentra table, in order (``geometry`` follows in the GeoDataFrame).
SENTRA_COLUMNS = (
    "sentra_id",
    "sector",
    "sector_label",
    "name",
    "n_areas",
    "n_firms",
    "workers",
    "output",
    "lq",
    "core_area",
    "area_codes",
    "lat",
    "lon",
)


def is_member(
    table: pd.DataFrame, *, min_firms: int = 20, lq_threshold: float = 2.0, confidence: int = 95
) -> pd.Series:
    """True for the (area, sector) rows that meet all three sentra rules.

    ``table`` needs columns ``n_firms``, ``lq`` and ``gi_bin``.

    >>> t = pd.DataFrame({"n_firms": [30, 30, 5], "lq": [3.0, 1.1, 9.0], "gi_bin": [3, 3, 3]})
    >>> is_member(t).tolist()
    [True, False, False]
    """
    if confidence not in _CONFIDENCE_BIN:
        raise ConfigError(f"confidence={confidence!r} is not accepted; use 90, 95 or 99")
    missing = {"n_firms", "lq", "gi_bin"} - set(table.columns)
    if missing:
        raise ConfigError(f"the area table lacks column(s) {sorted(missing)} for sentra rules")
    return (
        (table["gi_bin"] >= _CONFIDENCE_BIN[confidence])
        & (table["lq"].fillna(0) >= lq_threshold)
        & (table["n_firms"] >= min_firms)
    ).rename("in_sentra")


def delineate(
    table: pd.DataFrame,
    graph: Graph,
    areas: gpd.GeoDataFrame,
    *,
    min_firms: int = 20,
    lq_threshold: float = 2.0,
    confidence: int = 95,
    parents: pd.Series | None = None,
    lang: str = "id",
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Find the sentra of every sector and merge contiguous member areas.

    Parameters
    ----------
    table
        Per area x sector (MultiIndex ``area_code``, ``sector``) with ``n_firms``,
        ``workers``, ``output``, ``lq``, ``gi_bin``.
    graph
        Contiguity between areas (ids = area codes).
    areas
        Areas indexed by code with ``name`` and ``geometry``.
    parents
        Name of each area's parent (kecamatan of a desa), used in sentra names.
    min_firms, lq_threshold, confidence
        The membership rules (see the module docstring).

    Returns
    -------
    sentra
        One row per sentra (columns :data:`SENTRA_COLUMNS`, dissolved ``geometry``),
        ordered by sector and then size.
    membership
        ``sentra_id`` per (area_code, sector) member row.
    """
    member = is_member(table, min_firms=min_firms, lq_threshold=lq_threshold, confidence=confidence)
    members = table.loc[member]
    ids = pd.Index(graph.unique_ids)
    adjacency = graph.sparse.tocsr()
    area_totals = table.groupby(level="area_code")["n_firms"].sum()
    sector_totals = table.groupby(level="sector")["n_firms"].sum()
    grand = float(area_totals.sum())
    records = []
    membership = pd.Series(
        dtype=object,
        index=pd.MultiIndex.from_tuples([], names=["area_code", "sector"]),
        name="sentra_id",
    )
    for sector, rows in members.groupby(level="sector", sort=True):
        codes = rows.index.get_level_values("area_code")
        pos = ids.get_indexer(codes)
        if (pos < 0).any():
            raise ConfigError(
                "the weights graph lacks some member areas of sector "
                f"{sector!r}; build it on the same areas"
            )
        _, labels = connected_components(adjacency[pos][:, pos], directed=False)
        groups = pd.Series(labels, index=codes)
        for _, group in groups.groupby(groups):
            part = rows.loc[rows.index.get_level_values("area_code").isin(group.index)]
            records.append(
                _describe(
                    str(sector), part, areas, parents, area_totals, sector_totals, grand, lang
                )
            )
    if not records:
        empty = gpd.GeoDataFrame({c: [] for c in SENTRA_COLUMNS}, geometry=[], crs=areas.crs)
        return empty, membership
    sentra = pd.DataFrame(records).sort_values(
        ["sector", "n_firms", "name"], ascending=[True, False, True], kind="stable"
    )
    sentra["rank"] = sentra.groupby("sector").cumcount() + 1
    sentra["sentra_id"] = sentra["sector"] + "-" + sentra["rank"].map("{:02d}".format)
    membership = pd.Series(
        np.repeat(sentra["sentra_id"].to_numpy(), sentra["_members"].map(len).to_numpy()),
        index=pd.MultiIndex.from_arrays(
            [
                np.concatenate(sentra["_members"].to_list()),
                np.repeat(sentra["sector"].to_numpy(), sentra["_members"].map(len).to_numpy()),
            ],
            names=["area_code", "sector"],
        ),
        name="sentra_id",
    )
    geometry = gpd.GeoSeries(sentra["_geometry"].to_list(), crs=areas.crs)
    out = gpd.GeoDataFrame(
        sentra[list(SENTRA_COLUMNS)].reset_index(drop=True),
        geometry=geometry.to_numpy(),
        crs=areas.crs,
    )
    logger.info("sentra: %d in %d sector(s)", len(out), out["sector"].nunique())
    return out, membership


def _describe(
    sector: str,
    part: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    parents: pd.Series | None,
    area_totals: pd.Series,
    sector_totals: pd.Series,
    grand: float,
    lang: str,
) -> dict[str, object]:
    part = part.sort_values("n_firms", ascending=False, kind="stable")
    codes = part.index.get_level_values("area_code").to_list()
    n_firms = int(part["n_firms"].sum())
    all_firms = float(area_totals.reindex(codes).sum())
    share = float(sector_totals[sector]) / grand if grand else np.nan
    lq = (n_firms / all_firms) / share if all_firms and share else np.nan
    geometry = areas.geometry.reindex(codes).union_all()
    point = geometry.representative_point()
    return {
        "sector": sector,
        "sector_label": kbli.label(sector, lang=lang),
        "name": _name(codes, areas["name"], parents),
        "n_areas": len(codes),
        "n_firms": n_firms,
        "workers": float(part["workers"].sum()) if "workers" in part else np.nan,
        "output": float(part["output"].sum()) if "output" in part else np.nan,
        "lq": float(lq),
        "core_area": codes[0],
        "area_codes": ";".join(sorted(codes)),
        "lat": float(point.y),
        "lon": float(point.x),
        "_members": codes,
        "_geometry": geometry,
    }


def _name(codes: list[str], names: pd.Series, parents: pd.Series | None) -> str:
    """'Trangsan, Gatak', 'Trangsan & Luwang, Gatak' or 'Trangsan, Luwang +2, Gatak'.

    ``codes`` are ordered by the sector's firms; repeated names (several H3 cells in one
    village) count once.
    """
    unique = list(dict.fromkeys(str(names.get(c, c)) for c in codes))
    if len(unique) == 1:
        label = unique[0]
    elif len(unique) == 2:
        label = f"{unique[0]} & {unique[1]}"
    else:
        label = f"{unique[0]}, {unique[1]} +{len(unique) - 2}"
    if parents is not None and codes[0] in parents.index and pd.notna(parents[codes[0]]):
        label = f"{label}, {parents[codes[0]]}"
    return label
