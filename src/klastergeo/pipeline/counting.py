"""The counting step: firms to areas (or H3 cells), counts per area and sector, and the
location quotients of every area and sector."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from klastergeo import aggregate, concentration
from klastergeo.config import RunConfig
from klastergeo.pipeline.intake import Intake
from klastergeo.pipeline.study import StudyArea

__all__ = ["Counts", "count", "lq_column"]


@dataclass(frozen=True)
class Counts:
    """Firms placed in the areas of analysis and what is counted of them.

    ``firms`` carry the ``area_code`` of their area of analysis (for H3, the cell, and
    the administrative area as ``admin_code``); ``areas`` are the areas of analysis (the
    study area's polygons, or the H3 grid); ``counts`` has firms, workers and output per
    (area, sector); ``table`` adds the location quotients and the area names.
    """

    firms: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    counts: pd.DataFrame
    table: pd.DataFrame

    @property
    def firms_per_area(self) -> pd.Series:
        return self.counts.groupby(level="area_code")["n_firms"].sum()

    @property
    def firms_per_sector(self) -> pd.Series:
        return self.counts.groupby(level="sector")["n_firms"].sum()


def lq_column(config: RunConfig) -> str:
    """The counted column location quotients are computed from (``sentra.lq_measure``).

    Parameters
    ----------
    config
        The run's configuration; reads ``config.sentra.lq_measure`` (``firms`` is the
        column ``n_firms``; ``workers`` and ``output`` are their own columns).
    """
    return {"firms": "n_firms"}.get(config.sentra.lq_measure, config.sentra.lq_measure)


def count(config: RunConfig, study: StudyArea, intake: Intake) -> Counts:
    """Count the kept firms by area and sector (the ``aggregate`` step).

    Parameters
    ----------
    config
        The run's configuration; ``sentra.lq_measure`` names what the location quotients
        are of (:func:`lq_column`).
    study
        The study area: its ``polygons`` are the areas of analysis, or, for an H3 run,
        the firms are placed in cells of its ``resolution`` and the areas are its
        :meth:`~.study.StudyArea.grid`.
    intake
        The validated registry; its ``firms`` carry the ``area_code`` of their area.

    Returns
    -------
    Counts
        The firms (with the ``area_code`` of their area of analysis), the areas, the
        counts and the table with location quotients and area names.
    """
    firms = intake.firms
    areas = study.polygons
    if study.kind == "h3":
        assert study.resolution is not None
        cells = aggregate.h3_cells(
            firms["lat"].to_numpy(), firms["lon"].to_numpy(), study.resolution
        )
        firms = firms.assign(admin_code=firms.get("area_code"), area_code=cells)
        areas = study.grid(firms["area_code"].unique().tolist())
    if intake.batches is not None and study.kind != "h3":
        # only the four columns counted, read from the kept firms' parts in file order:
        # the same rows in the same order as the firms, so the same sums
        columns = ["area_code", "sector", *aggregate.VALUE_COLUMNS]
        counted = intake.batches.read([c for c in columns if c in firms.columns])
    else:
        counted = firms
    counts = aggregate.count_by_area(counted, areas.index)
    matrix = aggregate.wide(counts, lq_column(config))
    lq = concentration.location_quotient(matrix).rename(columns={"p_value": "lq_p"})
    table = counts.join(lq)
    table["area_name"] = areas["name"].reindex(table.index.get_level_values("area_code")).to_numpy()
    return Counts(firms=firms, areas=areas, counts=counts, table=table)
