"""The counting step: firms to areas (or H3 cells), counts per area and sector, and the
location quotients of every area and sector."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from klastergeo.analysis import aggregate, concentration
from klastergeo.analysis.geometry import has_point
from klastergeo.analysis.tally import BlockTally, CellTally, block_tally
from klastergeo.app.config import RunConfig
from klastergeo.app.pipeline.intake import Intake
from klastergeo.app.pipeline.spread import over_blocks
from klastergeo.app.pipeline.study import StudyArea
from klastergeo.errors import ConfigError, DataError, ValidationError
from klastergeo.io.registry import area_counts, batches
from klastergeo.io.registry.firms import FirmStore

__all__ = [
    "FIRM_FIELDS",
    "Counts",
    "check_counts",
    "count",
    "count_from_file",
    "lq_column",
    "tally_block",
]

logger = logging.getLogger(__name__)


#: The columns of the firms every later step may read (text ones as categories).
FIRM_FIELDS = ("area_code", "sector", "workers", "output", "investment", "lon", "lat")


@dataclass(frozen=True)
class Counts:
    """Firms placed in the areas of analysis and what is counted of them.

    ``areas`` are the areas of analysis (the study area's polygons, or the H3 grid);
    ``counts`` has firms, workers and output per (area, sector); ``table`` adds the
    location quotients and the area names; ``tally`` keeps per cell what disclosure
    control needs of the firms' values (counted block by block: its memory follows the
    cells, not the firms); the firms stay in ``store``.

    ``firms`` (read on first use) are the kept firms' few columns some later steps read,
    indexed by position (:data:`FIRM_FIELDS`; ``area_code`` and ``sector`` as
    categories): the ``area_code`` of their area of analysis (for H3, the cell, and the
    administrative area as ``admin_code``); ``rows`` is each firm's row in ``counts``
    and ``table``.
    """

    areas: gpd.GeoDataFrame
    counts: pd.DataFrame
    table: pd.DataFrame
    store: FirmStore
    tally: CellTally | None = None
    #: The counts file the counts were read from (:func:`count_from_file`): there are no
    #: firms, only counts and sums per (area, sector); None for a registry of firms.
    source: area_counts.AreaCounts | None = None
    resolution: int | None = None  # of an H3 run's cells
    given: pd.DataFrame | None = None  # the firms of a counts file (none)

    @cached_property
    def firms(self) -> pd.DataFrame:
        if self.given is not None:
            return self.given
        logger.info("reading %d firms' %s", len(self.store), ", ".join(FIRM_FIELDS))
        firms = self.store.columns(FIRM_FIELDS, categorical=("area_code", "sector"))
        if self.resolution is not None:
            cells = pd.Categorical(_cells(firms, self.resolution))
            firms = firms.assign(admin_code=firms.get("area_code"), area_code=cells)
        return firms

    @cached_property
    def rows(self) -> NDArray[np.signedinteger]:
        if self.given is not None:
            return np.empty(0, dtype=np.int32)
        return _rows(self.firms, self.counts)

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
    store, top = intake.firms, config.disclosure.dominance_n
    resolution = study.resolution if study.kind == "h3" else None
    known = None if resolution else study.polygons.index.to_numpy(dtype=object).tolist()
    tally = CellTally(areas=known, top=top)
    options = {"areas": known, "top": top}
    for done in over_blocks(
        tally_block, store, scheduler=config.records.scheduler,
        workers=config.records.workers, kwargs={**options, "resolution": resolution},
    ):  # fmt: skip
        tally.merge(done)
    areas = study.polygons
    if resolution is not None:
        areas = study.grid(sorted(tally.areas.labels))
    counts = tally.counts(areas.index.to_numpy(dtype=object).tolist())
    _check_lq_measure(config, counts)
    matrix = aggregate.wide(counts, lq_column(config))
    lq = concentration.location_quotient(matrix).rename(columns={"p_value": "lq_p"})
    table = counts.join(lq)
    table["area_name"] = _area_names(table.index, areas)
    return Counts(
        areas=areas, counts=counts, table=table, store=store, tally=tally, resolution=resolution
    )


def _area_names(index: pd.Index, areas: gpd.GeoDataFrame) -> NDArray[Any]:
    """The name of each (area, sector) cell's area: each area's looked up once, then
    taken for its cells (not one look-up a cell)."""
    cells = cast(pd.MultiIndex, index)
    names = areas["name"].reindex(cells.levels[0]).to_numpy()
    return np.asarray(names[cells.codes[0]])


def tally_block(
    store: FirmStore,
    *,
    only: Sequence[int],
    size: int,
    areas: Sequence[Any] | None,
    resolution: int | None = None,
    top: int = 2,
) -> BlockTally:
    """The firms of some blocks of ``store`` counted per (area, sector) cell (a task of
    :func:`~.spread.over_blocks`, run here or on a Dask worker).

    Parameters
    ----------
    store
        The kept firms.
    only, size
        The blocks to count and their size
        (:meth:`~klastergeo.io.registry.firms.FirmStore.blocks`).
    areas
        The areas of analysis; None for H3 cells (numbered as they come).
    resolution
        The H3 resolution the firms' points are put in cells of; None to count the
        firms in their ``area_code``.
    top
        Largest values kept per cell (the dominance rule's ``dominance_n``).
    """
    if len(only) != 1:
        raise ValueError(f"tally_block counts one block at a time, not {len(only)}")
    fields = ("area_code", "sector", *aggregate.VALUE_COLUMNS, "lon", "lat")
    ((_, block),) = store.blocks(fields, only=only, size=size)
    if resolution is not None:
        firms = pd.DataFrame(
            {c: _floats(block, c) for c in ("lon", "lat") if c in block.column_names}
        )
        area: Any = _cells(firms, resolution)
    else:
        area = block.column("area_code")
    values = {c: _floats(block, c) for c in aggregate.VALUE_COLUMNS if c in block.column_names}
    return block_tally(area, block.column("sector"), values, areas=areas, top=top)


def _floats(block: pa.Table, column: str) -> NDArray[np.float64]:
    """A column of numbers as float64, NaN where it is missing."""
    data = block.column(column)
    if not (pa.types.is_floating(data.type) or pa.types.is_integer(data.type)):
        data = pc.cast(data, pa.float64(), safe=False)
    return np.asarray(data.to_numpy(zero_copy_only=False), dtype=np.float64)


def check_counts(config: RunConfig) -> None:
    """Fail now if the counts file does not exist or cannot be read as a table (before
    the output folder and the boundaries).

    Parameters
    ----------
    config
        The run's configuration: ``counts.path`` (or ``counts.files``).
    """
    from klastergeo.io.registry import records as records_mod

    options = config.counts
    if options.path is None and options.files:
        raise ConfigError(
            f"counts.files names {len(options.files)} counts files; this function reads "
            "one: pass --counts PATH once (run and sentra follow several periods)"
        )
    if options.path is None:
        raise ConfigError("no counts file given; pass --counts PATH or [counts] path")
    records_mod.check_source(options.path, what="counts")


def _check_counts_measure(config: RunConfig, read: area_counts.AreaCounts, measure: str) -> None:
    """Fail when the counts file lacks the sums of ``sentra.lq_measure`` (other than
    firms) that the location quotients need."""
    options = config.counts
    if measure != "n_firms" and read.cells[measure].isna().all():
        raise ValidationError(
            f"sentra.lq_measure={config.sentra.lq_measure!r}: counts file "
            f"{str(options.path)!r} gives no {measure} column; use lq_measure='firms' or "
            f"add the sums of {measure} per area and sector (a long table)"
        )
    if measure != "n_firms":
        lacking = read.cells.loc[(read.cells["n_firms"] > 0) & read.cells[measure].isna()]
        if len(lacking):
            first = lacking.index[0]
            raise ValidationError(
                f"sentra.lq_measure={config.sentra.lq_measure!r}: {len(lacking)} area x sector "
                f"cell(s) of counts file {str(options.path)!r} have firms but no {measure} "
                f"sum (e.g. area {first[0]}, sector {first[1]}); give every sum or use "
                "lq_measure='firms'"
            )


def count_from_file(config: RunConfig, study: StudyArea) -> tuple[Intake, Counts]:
    """Counts of firms per area and sector read from ``counts.path`` instead of counted
    from a registry (the ``read``, ``validate`` and ``aggregate`` steps of a run on a
    counts file).

    The areas of analysis are the study area's, without the areas whose count is
    unknown (a blank cell, a rejected row of theirs): they are left out as if outside
    the study area. There are no firms: ``firms`` is empty and the later steps that need
    them are not computed.

    Parameters
    ----------
    config
        The run's configuration: ``[counts]``, ``records`` (how the file is read,
        ``sector_digits``, ``period_col``), ``columns`` and ``sentra.lq_measure``.
    study
        The study area (administrative or custom polygons; not H3: counts per area
        cannot be put in cells).

    Returns
    -------
    tuple of Intake and Counts
        The report of the rows used and rejected (no firms), and the counts.
    """
    options = config.counts
    assert options.path is not None
    if study.kind == "h3":
        raise ConfigError(
            f"--level {config.area.level} puts firms in H3 cells by their points; counts per "
            "area (--counts) have none: use an administrative level (desa, kecamatan) or "
            "the boundaries the counts are of"
        )
    places = _counts_gazetteer(config, study)
    read = area_counts.read_counts(
        options.path,
        areas=study.polygons,
        layout=options.format,
        sectors=options.sectors,
        columns=config.columns,
        count_col=options.count_col,
        sector_digits=config.records.sector_digits,
        study_code=config.area.code if study.kind == "admin" else None,
        delimiter=config.records.delimiter,
        encoding=config.records.encoding,
        sheet=config.records.sheet,
        period_col=config.records.period_col,
        gaz=places,
    )
    measure = lq_column(config)
    _check_counts_measure(config, read, measure)
    known = ~study.polygons.index.isin(list(read.unknown))
    areas = study.polygons.loc[known]
    cells = read.cells.loc[read.cells.index.get_level_values("area_code").isin(areas.index)]
    cells = cells.assign(n_firms=cells["n_firms"].astype(np.int64))
    cells = cells[["n_firms", *aggregate.VALUE_COLUMNS]]
    matrix = aggregate.wide(cells, measure)
    lq = concentration.location_quotient(matrix).rename(columns={"p_value": "lq_p"})
    table = cells.join(lq)
    table["area_name"] = _area_names(table.index, areas)
    firms = pd.DataFrame(
        {
            "area_code": pd.Categorical([], categories=areas.index.astype(str)),
            "sector": pd.Categorical(
                [], categories=cells.index.get_level_values("sector").unique().astype(str)
            ),
            **{c: np.empty(0) for c in ("workers", "output", "investment", "lon", "lat")},
        }
    )
    store = FirmStore(
        batches.BatchValidation(
            parts=(),
            rejected=read.report.rejected,
            repaired=read.report.repaired,
            n_read=read.report.n_read,
            n_kept=0,
            columns=config.columns,
            memory=firms.assign(record_id=pd.Series([], dtype=str)).set_index("record_id"),
        )
    )
    counts = Counts(areas=areas, counts=cells, table=table, store=store, source=read, given=firms)
    return Intake(firms=store, validation=read.report), counts


def _counts_gazetteer(config: RunConfig, study: StudyArea) -> Any:
    """The gazetteer placing the rows of a counts file (as a registry's records are
    placed: :func:`klastergeo.app.pipeline.intake.gazetteer`)."""
    from dataclasses import replace

    from klastergeo.app.pipeline.intake import gazetteer

    # any placement role makes the gazetteer: the file's own columns are found later
    return gazetteer(config, study.polygons, replace(config.columns, area_code="*"))


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


def _check_lq_measure(config: RunConfig, counts: pd.DataFrame) -> None:
    """Location quotients of workers or output need the value of every cell with firms:
    a cell nobody reported is missing, and a missing value is not 0 (issue 25)."""
    measure = lq_column(config)
    if measure == "n_firms":
        return
    values = counts[measure]
    option = f"sentra.lq_measure={config.sentra.lq_measure!r}"
    if values.isna().all():
        raise ConfigError(
            f"{option}, but no kept firm has a value of {measure} (no {measure} column was "
            f"found, or it is empty); compute location quotients of firms (sentra.lq_measure"
            f' = "firms") or name the column with --{measure}-col'
        )
    unreported = values.isna() & (counts["n_firms"] > 0)
    if unreported.any():
        cells = [f"{a} sector {s}" for a, s in unreported.index[unreported.to_numpy()][:3]]
        raise DataError(
            f"{option}, but {int(unreported.sum())} area x sector cell(s) with firms have "
            f"no {measure} value (e.g. {'; '.join(cells)}): their location quotients cannot "
            "be computed (a missing value is not 0); compute location quotients of firms "
            f'(sentra.lq_measure = "firms") or fill in the values'
        )


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
