"""The counting step: firms to areas (or H3 cells), counts per area and sector, and the
location quotients of every area and sector."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from klastergeo import aggregate, concentration
from klastergeo._spatial import has_point
from klastergeo.config import RunConfig
from klastergeo.pipeline.firms import FirmStore
from klastergeo.pipeline.intake import Intake
from klastergeo.pipeline.study import StudyArea

__all__ = ["FIRM_FIELDS", "Counts", "count", "lq_column"]

logger = logging.getLogger(__name__)


#: The columns of the firms every later step may read (text ones as categories).
FIRM_FIELDS = ("area_code", "sector", "workers", "output", "investment", "lon", "lat")


@dataclass(frozen=True)
class Counts:
    """Firms placed in the areas of analysis and what is counted of them.

    ``firms`` are the kept firms' few columns every later step reads, indexed by
    position (:data:`FIRM_FIELDS`; ``area_code`` and ``sector`` as categories): the
    ``area_code`` of their area of analysis (for H3, the cell, and the administrative
    area as ``admin_code``); the whole firms stay in ``store``. ``areas`` are the areas
    of analysis (the study area's polygons, or the H3 grid); ``counts`` has firms,
    workers and output per (area, sector); ``table`` adds the location quotients and
    the area names; ``rows`` is each firm's row in ``counts`` and ``table``.
    """

    firms: pd.DataFrame
    areas: gpd.GeoDataFrame
    counts: pd.DataFrame
    table: pd.DataFrame
    store: FirmStore
    rows: NDArray[np.signedinteger]

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
    store = intake.firms
    firms = store.columns(FIRM_FIELDS, categorical=("area_code", "sector"))
    areas = study.polygons
    if study.kind == "h3":
        assert study.resolution is not None
        cells = _cells(firms, study.resolution)
        firms = firms.assign(admin_code=firms.get("area_code"), area_code=pd.Categorical(cells))
        areas = study.grid(firms["area_code"].cat.categories.tolist())
    counts = aggregate.count_by_area(firms, areas.index)
    matrix = aggregate.wide(counts, lq_column(config))
    lq = concentration.location_quotient(matrix).rename(columns={"p_value": "lq_p"})
    table = counts.join(lq)
    table["area_name"] = areas["name"].reindex(table.index.get_level_values("area_code")).to_numpy()
    return Counts(
        firms=firms, areas=areas, counts=counts, table=table, store=store, rows=_rows(firms, counts)
    )


def _cells(firms: pd.DataFrame, resolution: int) -> NDArray[np.object_]:
    """Each firm's H3 cell; None for a firm without a point (placed by its area), which
    no cell holds. Placement rejects those in an H3 run (``area_too_coarse``: an H3
    grid places a firm by its coordinates), so none is here unless an intake was made
    otherwise; it is then counted in no cell (never in its village centre's), and the
    log says so."""
    found = has_point(firms)
    cells = np.full(len(firms), None, dtype=object)
    if found.any():
        cells[found] = aggregate.h3_cells(
            firms["lat"].to_numpy()[found], firms["lon"].to_numpy()[found], resolution
        )
    if not found.all():
        logger.warning(
            "H3 cells: %d of %d firms have no point (placed by their area) and are in no cell",
            int((~found).sum()),
            len(found),
        )
    return cells


def _rows(firms: pd.DataFrame, counts: pd.DataFrame) -> NDArray[np.signedinteger]:
    """Each firm's row in ``counts`` (every area x every sector, areas outer), or -1 for
    a firm without an area."""
    areas = counts.index.get_level_values(0).unique()
    sectors = counts.index.get_level_values(1).unique()
    area = pd.Index(areas).get_indexer(firms["area_code"].cat.categories)
    sector = pd.Index(sectors).get_indexer(firms["sector"].cat.categories)
    a_codes = firms["area_code"].cat.codes.to_numpy()
    s_codes = firms["sector"].cat.codes.to_numpy()
    a = np.where(a_codes >= 0, area[a_codes], -1).astype(np.int64)
    s = np.where(s_codes >= 0, sector[s_codes], -1).astype(np.int64)
    rows = np.where((a >= 0) & (s >= 0), a * len(sectors) + s, -1)
    # four bytes a firm where the table allows (83,402 villages x 21 sectors does)
    return rows.astype(np.int32) if len(areas) * len(sectors) < 2**31 else rows
