"""The sentra step: delineate the sentra (from areas or from the firms' points) and say
which area rows and which firms belong to each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from klastergeo import kbli
from klastergeo.analysis import sentra as sentra_mod
from klastergeo.analysis.geometry import firm_points
from klastergeo.app.config import RunConfig
from klastergeo.app.pipeline._steps import Notes
from klastergeo.app.pipeline.counting import Counts
from klastergeo.app.pipeline.points import with_points
from klastergeo.app.pipeline.statistics import Statistics
from klastergeo.app.pipeline.weighting import Weights
from klastergeo.schema import SENTRA_COLUMNS

__all__ = ["Delineation", "find_sentra", "with_sector_labels"]


@dataclass(frozen=True)
class Delineation:
    """The sentra (one row each, dissolved geometry), the evidence per member area
    (``members``; None for point-based sentra), and the ``sentra_id`` of every firm and
    of every (area, sector) row with its role (``core``, ``extension`` or ``points``);
    ``candidates`` are the near misses (:func:`klastergeo.analysis.sentra.near_misses`; None for
    point-based sentra)."""

    sentra: gpd.GeoDataFrame
    members: pd.DataFrame | None
    firm_sentra: pd.Series | None  # point-based sentra only (they cut cells)
    area_sentra: pd.DataFrame
    candidates: pd.DataFrame | None = None

    @property
    def sentra_ids(self) -> pd.Index:
        """The sentra ids, in the order of the sentra codes of :meth:`cell_codes` and
        :meth:`point_codes`."""
        return pd.Index(self.sentra.index.astype(str), name="sentra_id")

    def cell_codes(self, index: pd.MultiIndex) -> NDArray[np.int32]:
        """The sentra code of every (area, sector) row (-1: none).

        Parameters
        ----------
        index
            The rows (the counts' (area, sector) index).
        """
        ids = self.area_sentra["sentra_id"].reindex(index).to_numpy(dtype=object)
        codes = self.sentra_ids.get_indexer(pd.Index(ids).astype(object))
        return np.where(pd.isna(ids), -1, codes).astype(np.int32)

    def point_codes(self) -> NDArray[np.int32] | None:
        """The sentra code of every firm of point-based sentra (-1: none); None for
        area-based sentra (a firm's sentra is its cell's)."""
        if self.firm_sentra is None:
            return None
        ids = self.firm_sentra.astype(object).to_numpy(dtype=object)
        codes = self.sentra_ids.get_indexer(pd.Index(ids))
        return np.where(pd.isna(ids), -1, codes).astype(np.int32)


def find_sentra(
    config: RunConfig,
    counts: Counts,
    stats: Statistics,
    weights: Weights,
    parents: pd.Series | None,
    *,
    notes: Notes | None = None,
) -> Delineation:
    """Delineate the sentra of every analysed sector (the ``sentra`` step).

    Parameters
    ----------
    config
        The run's configuration; reads ``config.sentra`` (``method`` and the rules of
        that method) and ``config.map.lang`` (the language of sentra names).
    counts
        The counts: ``firms`` (with ``area_code`` and ``sector``) and ``areas``.
    stats
        The statistics: ``table`` (area x sector, with LQ and ``spec_*``) and the ``analysed``
        sectors (those point-based sentra are sought in).
    weights
        The spatial weights, whose ``graph`` joins contiguous core areas (area-based
        sentra only).
    parents
        Name of each area's parent (kecamatan of a desa), used in sentra names; or None.
    notes
        Where point-based sentra note the firms they leave out (placed by their area's
        code or name, without a point); None to note nothing.

    Returns
    -------
    Delineation
        The sentra, their member areas, and the ``sentra_id`` of every firm and area row.
    """
    if config.sentra.method == "areas":
        return _area_sentra(config, counts, stats, weights, parents)
    return _point_sentra(config, counts, stats, parents, notes)


def _area_sentra(
    config: RunConfig,
    counts: Counts,
    stats: Statistics,
    weights: Weights,
    parents: pd.Series | None,
) -> Delineation:
    """Area-based sentra: contiguous specialised areas, their members and near misses."""
    options, table = config.sentra, stats.table
    rules: dict[str, Any] = {
        "min_firms": options.min_firms,
        "lq_threshold": options.lq_threshold,
        "confidence": options.confidence,
        "min_area_firms": options.min_area_firms,
    }
    screened = sentra_mod.screen(table, weights.graph, **rules)  # once for both
    sentra, members = sentra_mod.delineate(
        table,
        weights.graph,
        counts.areas,
        **rules,
        screened=screened,
        extend=options.extend,
        extend_min_firms=options.extend_min_firms,
        extend_lq=options.extend_lq,
        parents=parents,
    )
    membership = members["sentra_id"]
    area_sentra = pd.DataFrame(
        {
            "sentra_id": membership.reindex(table.index).to_numpy(dtype=object),
            "sentra_role": members["role"].reindex(table.index).to_numpy(dtype=object),
        },
        index=table.index,
    )
    near = sentra_mod.near_misses(table, weights.graph, members, **rules, screened=screened)
    return Delineation(
        with_sector_labels(sentra, config.map.lang), members, None, area_sentra, near
    )


def _point_sentra(
    config: RunConfig,
    counts: Counts,
    stats: Statistics,
    parents: pd.Series | None,
    notes: Notes | None,
) -> Delineation:
    """Point-based sentra: dense groups of the firms' points; an area row belongs to
    the sentra most of its firms of the sector are in."""
    options, firms, table = config.sentra, counts.firms, stats.table
    method = options.method
    assert method != "areas"
    # firms placed by their area's code or name have no point: in no point sentra (noted;
    # delineate_points leaves them out)
    with_points(firms[["lon", "lat"]], notes, step="sentra", what="point_sentra")
    points = gpd.GeoDataFrame(
        firms, geometry=firm_points(firms["lon"].to_numpy(), firms["lat"].to_numpy()), crs=4326
    )
    sentra, firm_sentra = sentra_mod.delineate_points(
        points,
        method=method,
        min_firms=options.min_firms,
        lq_threshold=options.lq_threshold,
        eps_m=options.eps_m,
        min_samples=options.min_samples,
        min_strength=options.min_strength,
        min_density_km2=options.min_density_km2,
        sectors=[str(s) for s in stats.analysed],
        areas=counts.areas,
        parents=parents,
    )
    del points
    ids = pd.Series(pd.Categorical(firm_sentra.to_numpy(dtype=object)), index=firms.index)
    area_sentra = _area_sentra_of_points(firms, ids, table.index)
    return Delineation(with_sector_labels(sentra, config.map.lang), None, ids, area_sentra)


def _area_sentra_of_points(firms: pd.DataFrame, ids: pd.Series, rows: pd.Index) -> pd.DataFrame:
    """The ``sentra_id`` and ``sentra_role`` (``points``) of every (area, sector) row:
    the point-based sentra most of its firms of the sector are in (``ids``: each firm's)."""
    placed = pd.DataFrame(
        {"area_code": firms["area_code"], "sector": firms["sector"], "sentra_id": ids}
    ).dropna(subset=["sentra_id"])
    share = placed.groupby(["area_code", "sector"], observed=True)["sentra_id"].agg(
        lambda v: v.value_counts().index[0]
    )
    area_ids = share.reindex(rows).to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "sentra_id": area_ids,
            "sentra_role": pd.Series(area_ids)
            .notna()
            .map({True: "points", False: None})
            .to_numpy(dtype=object),
        },
        index=rows,
    )


def with_sector_labels(sentra: gpd.GeoDataFrame, lang: str) -> gpd.GeoDataFrame:
    """The delineated ``sentra`` with ``sector_label``, each sector's KBLI name in
    ``lang``, after ``sector`` (the columns of :data:`klastergeo.schema.SENTRA_COLUMNS`).

    Parameters
    ----------
    sentra
        The sentra of :func:`klastergeo.analysis.sentra.delineate` or
        :func:`~klastergeo.analysis.sentra.delineate_points`.
    lang
        ``"id"`` or ``"en"`` (``[map] lang``).
    """
    out = sentra.copy()
    labels = [kbli.label(s, lang=lang) for s in out["sector"]]
    out.insert(SENTRA_COLUMNS.index("sector_label"), "sector_label", labels)
    return out
