"""The protection step: statistical disclosure control of what a run writes.

:func:`protect` decides, with the rules of ``[disclosure]`` (:mod:`klastergeo.analysis.disclosure`),
which sums of workers, output and investment every table may carry - per area and
sector, per sentra, per regency - which typology shares, diagnosis scores and mean
probabilities, and draws point-based sentra from a grid instead of their firms.
:meth:`Protection.public` turns a run's tables into what its files, pages and workbook
show: a suppressed value is empty (NaN) and marked ``suppressed`` in a ``<measure>_flag``
column, never zero (the reason is not published: it would be a bound on the value).
Firm-level files (``firms/``, ``rejected.csv``, the map's firm layer) are firm-level by
nature and are not touched: ``klastergeo publish`` leaves them behind unless
``--with-firms``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from klastergeo.analysis import disclosure as sdc
from klastergeo.analysis import measure
from klastergeo.analysis.geometry import has_point, to_metric
from klastergeo.app.config import RunConfig
from klastergeo.app.pipeline.counting import Counts, lq_column
from klastergeo.app.pipeline.delineation import Delineation
from klastergeo.app.pipeline.firm_columns import FirmColumns, LazyFirms, frame_of
from klastergeo.io.registry.firms import FirmStore

if TYPE_CHECKING:
    from klastergeo.app.pipeline import RunResult

__all__ = ["Protection", "flag_column", "protect", "regency_codes"]

logger = logging.getLogger(__name__)

#: Statistics of the location quotient (suppressed with its measure's value).
_LQ_COLUMNS = ("lq", "lq_low", "lq_high", "lq_p")
#: Concentration columns computed from the amounts (suppressed with them).
_CONCENTRATION_VALUES = (
    "amount",
    "hoover",
    "locational_gini",
    "herfindahl",
    "plant_herfindahl",
    "eg_G",
    "eg_gamma",
)
#: Typology shares and the firms whose workers make them (see :func:`_typology_flags`).
_SHARES = (
    "top3_share",
    "herfindahl",
    "top3_local_share",
    "local_share",
    "branch_share",
    "state_share",
)


def flag_column(measure: str) -> str:
    """The column that marks a suppressed ``measure`` (``workers_flag``).

    Parameters
    ----------
    measure
        ``workers``, ``output`` or ``investment``.
    """
    return f"{measure}_flag"


@dataclass(frozen=True)
class Protection:
    """What a run may publish.

    ``cells``: per (area_code, sector) with firms, each measure's reporting firms
    (``<m>_n``) and flag (``<m>_flag``, an integer of :data:`klastergeo.analysis.disclosure.FLAGS`;
    the files mark every suppressed value alike, :data:`klastergeo.analysis.disclosure.MARK`);
    ``sentra``: the same per sentra, with each measure's contributions (``<m>_total``,
    ``<m>_top1`` ...) so that sums of several sentra can be judged (lineages);
    ``regencies``: per (regency, sector) the raw sums, their reporting firms and flags
    (the indicators of a run over surveys); ``typology`` and ``diagnosis``: per sentra,
    the ``;``-joined columns suppressed; ``shapes``: the published shape of point-based
    sentra; ``counts``: suppressed values per measure and reason.
    """

    rules: sdc.Rules
    enabled: bool
    cells: pd.DataFrame
    sentra: pd.DataFrame
    regencies: pd.DataFrame
    typology: pd.Series
    diagnosis: pd.Series
    probability_n: pd.Series
    lq_measure: str | None
    concentration_sectors: frozenset[str] = frozenset()
    plant_sectors: frozenset[str] = frozenset()
    shapes: gpd.GeoSeries | None = None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    #: False for counts per area (``--counts``): no firm's own value is known.
    dominance_applied: bool = True

    def summary(self) -> dict[str, Any]:
        """The rules and what they suppressed, as ``summary.json`` records them."""
        out: dict[str, Any] = {}
        if not self.dominance_applied:
            out["dominance_applied"] = False
            out["dominance_note"] = (
                "counts per area give sums, not each firm's value: the dominance rule "
                "cannot be applied; the threshold (min_firms) and zero rules are"
            )
        return {
            **out,
            "enabled": self.enabled,
            "min_firms": self.rules.min_firms,
            "dominance_n": self.rules.dominance_n,
            "dominance_k": self.rules.dominance_k,
            "grid_m": self.rules.grid_m,
            "suppressed": self.counts,
        }

    def public(self, result: RunResult) -> RunResult:
        """A :class:`~klastergeo.app.pipeline.RunResult` as its files may show it.

        Parameters
        ----------
        result
            The run's result with its raw sums.
        """
        table = self._table(result.table)
        sentra = self._sentra(result.sentra)
        return dataclasses.replace(
            result,
            table=table,
            sentra=sentra,
            areas=self._layer(result.areas),
            members=self._lq_rows(result.members),
            candidates=self._lq_rows(result.candidates),
            typology=_blank(result.typology, self.typology, sentra),
            diagnosis=_blank(result.diagnosis, _with_scores(self.diagnosis), sentra),
            concentration=self._concentration(result.concentration),
            measures=self._measures(result),
            disclosure=self,
        )

    # -- the tables --------------------------------------------------------------------

    def _table(self, table: pd.DataFrame) -> pd.DataFrame:
        out = table.copy()
        cells = self.cells.reindex(out.index)
        for m in sdc.MEASURES:
            if m not in out:
                continue
            flag = cells[f"{m}_flag"].fillna(0).to_numpy(dtype=np.int8)
            reporting = cells[f"{m}_n"].fillna(0).to_numpy()
            firms = out["n_firms"].to_numpy() if "n_firms" in out else reporting
            # a sum nobody reported is missing, not zero
            hidden = (flag > 0) | ((reporting == 0) & (firms > 0))
            out[m] = out[m].astype(float).mask(hidden)
            out[flag_column(m)] = np.where(flag > 0, sdc.MARK, "").astype(object)
            if m == self.lq_measure:
                for column in _LQ_COLUMNS:
                    if column in out:
                        out[column] = out[column].mask(flag > 0)
        few = self.probability_n.reindex(out.index).fillna(0).to_numpy() < self.rules.min_firms
        # a mean probability is a function of its firms' predictors (workers, output and
        # investment by default): with the models' coefficients (the report) it gives a
        # suppressed sum back (exactly for the LPM), so it goes with the cell's sums
        few |= _any_suppressed(cells)
        for column in [c for c in out.columns if str(c).startswith("p_")]:
            out[column] = out[column].mask(few)
        return out

    def _sentra(self, sentra: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        out = sentra.copy()
        if not len(out):
            for m in sdc.MEASURES:
                if m in out:
                    out[flag_column(m)] = pd.Series(dtype=object)
            return out
        rows = self.sentra.reindex(out.index)
        for m in sdc.MEASURES:
            if m not in out:
                continue
            flag = rows[f"{m}_flag"].fillna(0).to_numpy(dtype=np.int8)
            hidden = (flag > 0) | (rows[f"{m}_n"].fillna(0).to_numpy() == 0)
            out[m] = out[m].astype(float).mask(hidden)
            position = list(out.columns).index(m) + 1
            flags = np.where(flag > 0, sdc.MARK, "").astype(object)
            if flag_column(m) in out:
                out[flag_column(m)] = flags
            else:
                out.insert(position, flag_column(m), flags)
        if self.enabled and "n_firms" in out:
            few = out["n_firms"].to_numpy() < self.rules.min_firms
            few |= _any_suppressed(rows)  # as the cells' means (:meth:`_table`)
            for column in [c for c in out.columns if str(c).startswith("p_")]:
                out[column] = out[column].mask(few)
        # a diagnosis score that averages a withheld item (:func:`_with_scores`)
        withheld = self.diagnosis.reindex(out.index).fillna("").to_numpy(dtype=object) != ""
        if "diamond_score" in out:
            out["diamond_score"] = out["diamond_score"].mask(withheld)
        if "stage" in out:
            out["stage"] = out["stage"].mask(withheld, "unknown")
        if self.shapes is not None and len(self.shapes):
            shapes = self.shapes.reindex(out.index)
            drawn = shapes.notna().to_numpy()
            geometry = out.geometry.to_numpy().copy()
            target = shapes.to_crs(out.crs) if out.crs is not None else shapes
            geometry[drawn] = target.to_numpy()[drawn]
            out = out.set_geometry(gpd.GeoSeries(geometry, index=out.index, crs=out.crs))
            if drawn.any():
                where = out.geometry.to_crs(4326) if out.crs is not None else out.geometry
                point = shapely.point_on_surface(where.to_numpy()[drawn])
                out.loc[drawn, "lat"] = shapely.get_y(point)
                out.loc[drawn, "lon"] = shapely.get_x(point)
        return out

    def _layer(self, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The wide areas layer: location quotients of suppressed cells blank (only when
        they are quotients of a measure the rules protect)."""
        if self.lq_measure is None:
            return areas
        flags = self.cells[f"{self.lq_measure}_flag"]
        hidden = flags[flags > 0]
        if not len(hidden):
            return areas
        out = areas.copy()
        codes = hidden.index.get_level_values("area_code")
        sectors = hidden.index.get_level_values("sector").astype(str)
        for sector in sorted(set(sectors)):  # a loop over sectors (tens)
            rows = out.index.isin(codes[sectors == sector])
            for column in ("lq", "lq_low", "lq_high"):
                name = f"{column}_{sector}"
                if name in out:
                    out.loc[rows, name] = np.nan
        return out

    def _lq_rows(self, frame: pd.DataFrame | None) -> pd.DataFrame | None:
        """Rows indexed by (area_code, sector) with a location quotient (the sentra
        members, the near misses): its statistics blank where its measure is suppressed."""
        if frame is None or self.lq_measure is None or not len(frame):
            return frame
        flag = self.cells[f"{self.lq_measure}_flag"].reindex(frame.index).fillna(0)
        out = frame.copy()
        for column in _LQ_COLUMNS:
            if column in out:
                out[column] = out[column].mask(flag.to_numpy() > 0)
        return out

    def _measures(self, result: RunResult) -> dict[str, pd.DataFrame]:
        """The statistics of each measure (``measures.csv``) with the sums this
        protection suppresses blank, and what they would give back
        (:func:`klastergeo.analysis.measure.withhold`)."""
        out = {}
        for name, table in result.measures.items():
            column = f"{name}_flag"
            if name not in sdc.MEASURES or result.graph is None or column not in self.cells:
                out[name] = table
                continue
            hidden = self.cells[column] > 0 if self.enabled else self.cells[column] < 0
            out[name] = measure.withhold(table, hidden, result.graph)
        return out

    def _concentration(self, table: pd.DataFrame | None) -> pd.DataFrame | None:
        """Concentration of a protected measure: a sector with a suppressed cell has its
        amounts and the indices computed from them blank (they would give the cell back)."""
        if table is None or not len(table):
            return table
        if not (self.concentration_sectors or self.plant_sectors):
            return table
        out = table.copy()
        sector = out["sector"].astype(str)
        hidden = sector.isin(self.concentration_sectors).to_numpy()
        for column in _CONCENTRATION_VALUES:
            if column in out:
                out[column] = out[column].mask(hidden)
        # the firms' Herfindahl index (and the Ellison-Glaeser gamma, which gives it)
        plants = sector.isin(self.plant_sectors).to_numpy()
        for column in ("plant_herfindahl", "eg_gamma"):
            if column in out:
                out[column] = out[column].mask(plants)
        return out


def _any_suppressed(flags: pd.DataFrame) -> NDArray[np.bool_]:
    """Rows with a suppressed sum of any measure (``<measure>_flag`` above 0)."""
    columns = [f"{m}_flag" for m in sdc.MEASURES if f"{m}_flag" in flags]
    if not columns:
        return np.zeros(len(flags), dtype=bool)
    return cast(NDArray[np.bool_], (flags[columns].fillna(0).to_numpy() > 0).any(axis=1))


def _with_scores(items: pd.Series) -> pd.Series:
    """The diagnosis columns to withhold per sentra: its withheld items (``;``-joined),
    the dimension scores that average them, the overall score and the stage (a mean of
    the item and the others gives it back: a dimension of one item is that item)."""
    from klastergeo.analysis.diagnosis import ITEMS

    dimension = {item: dim for dim, listed in ITEMS.items() for item in listed}

    def columns(text: str) -> str:
        named = [c for c in str(text).split(";") if c]
        if not named:
            return ""
        dims = dict.fromkeys(f"dim_{dimension[c]}" for c in named if c in dimension)
        return ";".join([*named, *dims, "overall", "stage"])

    return items.map(columns)


def _blank(
    frame: pd.DataFrame | None, suppressed: pd.Series, sentra: pd.DataFrame
) -> pd.DataFrame | None:
    """Per sentra, the columns named in ``suppressed`` (``;``-joined) blank, and the
    names in a ``suppressed`` column; ``workers`` follows the sentra's own flag."""
    if frame is None or not len(frame):
        return frame
    out = frame.copy()
    names = suppressed.reindex(out.index).fillna("")
    listed = names.str.split(";")
    for column in sorted({c for text in names for c in str(text).split(";") if c}):
        if column in out:
            hit = np.array([column in c for c in listed], dtype=bool)
            out[column] = (
                out[column].mask(hit, "unknown") if column == "stage" else out[column].mask(hit)
            )
    for column in ("strengths", "weaknesses"):  # the diagnosis's lists of items
        if column in out:
            out[column] = [
                ";".join(i for i in str(text).split(";") if i not in c)
                if isinstance(text, str)
                else text
                for text, c in zip(out[column], listed, strict=True)
            ]
    if "workers" in out and "workers" in sentra:
        out["workers"] = sentra["workers"].reindex(out.index).to_numpy()
    out["suppressed"] = names.to_numpy(dtype=object)
    return out


def protect(
    config: RunConfig,
    counts: Counts,
    found: Delineation,
    firms: pd.DataFrame | LazyFirms,
    store: FirmStore | None = None,
    columns: FirmColumns | None = None,
    *,
    probability_n: pd.Series | None = None,
) -> Protection:
    """Decide what the run's files may show (the ``protect`` step).

    Parameters
    ----------
    config
        The run's configuration: ``[disclosure]``, ``sentra.method`` and
        ``sentra.lq_measure``, ``[typology]`` and ``[diagnosis]`` (whose shares and scores
        are judged).
    counts
        The counts: each firm's values and cell (``rows``), and the cells.
    found
        The sentra: each firm's and each cell's sentra.
    firms
        The firms' columns with ``sentra_id`` and the models' ``p_*``, by position.
    store
        Where the sentra's firms are read whole (typology and diagnosis columns).
    columns
        Which firms are in which sentra, found block by block (None: from ``firms``).
    probability_n
        Firms with a predicted probability per (area_code, sector) (the models'
        :class:`~.probabilities.Means`); None to count the ``p_*`` columns of ``firms``.

    Returns
    -------
    Protection
    """
    rules = config.disclosure.rules()
    enabled = config.disclosure.enabled
    groups = _groups(config, counts, found, firms)
    cell_index = groups.index
    sums = _suppressed_sums(counts, groups, rules, enabled)
    cell_frame = pd.DataFrame(sums.cells, index=cell_index)
    cell_frame = cell_frame.loc[(cell_frame[[f"{m}_n" for m in sdc.MEASURES]] > 0).any(axis=1)]
    sentra_ids, lq_measure = groups.sentra_ids, groups.lq_measure
    typology_flags, diagnosis_flags = _profile_flags(
        config, firms, store, sentra_ids, rules, columns
    )
    point = groups.sentra_cells is None
    shapes = None
    if point and enabled:
        shapes = _point_shapes(counts.firms, groups.point_sentra, sentra_ids, rules)
    concentration_sectors: frozenset[str] = frozenset()
    plant_sectors: frozenset[str] = frozenset()
    if lq_measure is not None and enabled:
        hidden = cell_frame.loc[cell_frame[f"{lq_measure}_flag"] > 0]
        concentration_sectors = frozenset(
            hidden.index.get_level_values("sector").astype(str).unique()
        )
        plant_sectors = _plant_sectors(counts, cell_index, lq_measure, rules)
    protection = Protection(
        rules=rules,
        enabled=enabled,
        cells=cell_frame,
        sentra=pd.DataFrame(sums.sentra, index=pd.Index(sentra_ids, name="sentra_id")),
        regencies=pd.DataFrame(sums.regencies, index=groups.regency_index),
        typology=typology_flags if enabled else typology_flags.iloc[:0],
        diagnosis=diagnosis_flags if enabled else diagnosis_flags.iloc[:0],
        probability_n=(
            (_probability_counts(firms) if probability_n is None else probability_n)
            if enabled
            else _all_counts(cell_index)
        ),
        lq_measure=lq_measure if enabled else None,
        concentration_sectors=concentration_sectors,
        plant_sectors=plant_sectors,
        shapes=shapes,
        counts=sums.tally,
        dominance_applied=counts.source is None,
    )
    if counts.source is not None and enabled:
        logger.info(
            "disclosure control of counts per area: the dominance rule needs each firm's "
            "value and is not applied; the threshold and zero rules are"
        )
    logger.info(
        "disclosure control%s: %s",
        "" if enabled else " (off)",
        {m: sum(v for k, v in t.items() if k != "sentra") for m, t in sums.tally.items()},
    )
    return protection


@dataclass(frozen=True)
class _Groups:
    """The cells of a run and the published groups of them: ``rows`` (each firm's
    cell), the regencies (or the whole study area) each cell is in, the area-based
    sentra (None for point-based sentra, whose firms cut cells: ``firm_sentra``), and
    each cell's area (its total over sectors, which the location quotients of
    ``lq_measure`` give away)."""

    index: pd.MultiIndex
    sentra_ids: pd.Index
    firm_sentra: NDArray[np.int64] | None  # of point sentra
    regency_cells: NDArray[np.int64]
    regency_index: pd.MultiIndex
    sentra_cells: NDArray[np.int64] | None
    area_cells: NDArray[np.int64]
    lq_measure: str | None

    @property
    def point_sentra(self) -> NDArray[np.int64]:
        """Each firm's point sentra (-1: none)."""
        assert self.firm_sentra is not None
        return self.firm_sentra

    @property
    def groupings(self) -> list[NDArray[np.int64]]:
        """The published groupings: regencies, then the area-based sentra."""
        return [g for g in (self.regency_cells, self.sentra_cells) if g is not None]


def _groups(
    config: RunConfig, counts: Counts, found: Delineation, firms: pd.DataFrame | LazyFirms
) -> _Groups:
    """The cells of ``counts`` and the groups of them a run publishes."""
    cell_index = cast(pd.MultiIndex, counts.counts.index)
    sentra_ids = pd.Index(found.sentra.index.astype(str), name="sentra_id")
    point = config.sentra.method != "areas"
    # the published groups of cells: regencies where the areas nest in them, else the
    # whole study area (the indicators of a run over surveys), and area-based sentra
    regency_cells, regency_index = _regency_cells(cell_index)
    measure = lq_column(config)
    return _Groups(
        index=cell_index,
        sentra_ids=sentra_ids,
        firm_sentra=_codes(frame_of(firms)["sentra_id"], sentra_ids) if point else None,
        regency_cells=regency_cells,
        regency_index=regency_index,
        sentra_cells=None if point else _sentra_cells(cell_index, found, sentra_ids),
        # location quotients of a measure give each area's total over its sectors away
        # (a published cell's value over its quotient), whatever the rules say of it
        area_cells=np.asarray(cell_index.codes[0], dtype=np.int64),
        lq_measure=measure if measure in sdc.MEASURES else None,
    )


@dataclass(frozen=True)
class _Sums:
    """The columns of the cells, sentra and regencies (sizes and flags per measure), and
    how many of each flag per measure (``summary.json`` ``disclosure.suppressed``)."""

    cells: dict[str, Any]
    sentra: dict[str, Any]
    regencies: dict[str, Any]
    tally: dict[str, dict[str, int]]


def _suppressed_sums(counts: Counts, groups: _Groups, rules: sdc.Rules, enabled: bool) -> _Sums:
    """Every measure's sums per cell, sentra and regency, and what the rules suppress."""
    n_cells = len(groups.index)
    groupings, n_sentra = groups.groupings, len(groups.sentra_ids)
    at_sentra = len(groupings) - 1  # the sentra are the last grouping when they are one
    sums = _Sums({}, {}, {}, {})
    areas, sectors = list(groups.index.levels[0]), list(groups.index.levels[1])
    for m in sdc.MEASURES:
        if counts.tally is None:  # counts per area: sums without the firms' values
            cells = _counted_sizes(counts.counts, m, rules.dominance_n)
        else:  # counted block by block (the firms' values are not held)
            cells = counts.tally.sizes(m, areas, sectors)
        extra = [groups.area_cells] if m == groups.lq_measure else []
        every_area = np.ones(len(groups.index.levels[0]), dtype=bool)
        shown = [None] * len(groupings) + [every_area] * len(extra)
        done = sdc.suppress(cells, groupings + extra, rules, published=shown) if enabled else None
        flags = done.cells if done is not None else _padded(None, n_cells)
        # sentra: sums of whole cells (area-based) or of firms that cut cells (points)
        if groups.sentra_cells is not None:
            own = sdc.combine(cells, groups.sentra_cells, n_sentra)
            s_flags = _padded(done.groups[at_sentra] if done else None, n_sentra)
        else:  # point sentra cut cells: their firms' own values
            f = counts.firms
            values = f[m].to_numpy(float, na_value=np.nan) if m in f else np.full(len(f), np.nan)
            own = sdc.sizes(values, groups.point_sentra, n_sentra, top=rules.dominance_n)
            s_flags = sdc.primary(own, rules) if enabled else _padded(None, n_sentra)
            if done is not None:
                published = list(zip(groupings + extra, done.published, strict=True))
                s_flags = sdc.point_sentra_flags(
                    values, np.asarray(counts.rows, np.int64), groups.point_sentra, flags,
                    s_flags, rules,
                    groupings=published,
                )  # fmt: skip
        sums.sentra.update(_size_columns(m, own, s_flags))
        # regencies or the study area (the indicators of a run over surveys)
        n_regencies = len(groups.regency_index)
        r_sizes = sdc.combine(cells, groups.regency_cells, n_regencies)
        r_flags = _padded(done.groups[0] if done else None, n_regencies)
        sums.regencies.update(_size_columns(m, r_sizes, r_flags))
        sums.cells[f"{m}_n"] = cells.n
        sums.cells[f"{m}_flag"] = flags
        if _has(counts, m):
            sums.tally[m] = {
                sdc.FLAGS[k]: int(((flags == k) & (cells.n > 0)).sum())
                for k in range(1, len(sdc.FLAGS))
            }
            sums.tally[m]["sentra"] = int((s_flags > 0).sum())
    return sums


def _has(counts: Counts, measure: str) -> bool:
    """Whether the firms (or the counts file) have a column of ``measure``."""
    if counts.tally is not None:
        return measure in counts.tally.present
    return measure in counts.firms


def _counted_sizes(counts: pd.DataFrame, measure: str, top: int) -> sdc.Sizes:
    """The contributions to each (area, sector) cell of a counts file's sum of
    ``measure``: its firms report it where the file gives the sum (all of them: a sum
    is over the cell's firms), none where it does not. The firms' own values are not in
    the file, so the largest contributions are unknown and taken as 0: the dominance
    rule cannot be applied (``summary.json`` says so); the threshold rule (fewest
    firms behind a published sum) and the zero rule are."""
    given = counts[measure].to_numpy(dtype=float, na_value=np.nan)
    known = np.isfinite(given)
    n = np.where(known, counts["n_firms"].to_numpy(dtype=float), 0.0).astype(np.int64)
    return sdc.Sizes(
        n=n, total=np.where(known, given, 0.0), top=np.zeros((len(given), max(top, 1)))
    )


def _codes(ids: pd.Series, categories: pd.Index) -> NDArray[np.int64]:
    """Position of every firm's id in ``categories`` (-1 for none), through the ids'
    categories (a national registry's firms are never turned into text one by one)."""
    as_category = ids if isinstance(ids.dtype, pd.CategoricalDtype) else ids.astype("category")
    known = pd.Index(categories).get_indexer(pd.Index(as_category.cat.categories.astype(str)))
    codes = as_category.cat.codes.to_numpy()
    # -1 (no sentra) picks the appended -1: a run without any sentra has no categories
    return np.append(known, -1)[codes].astype(np.int64)


def _padded(flags: NDArray[np.int8] | None, size: int) -> NDArray[np.int8]:
    """Group flags of :func:`klastergeo.analysis.disclosure.suppress` for ``size`` groups (the
    last groups may have had no cell with firms); zeros with the rules off."""
    out = np.zeros(size, dtype=np.int8)
    if flags is not None:
        out[: min(size, len(flags))] = flags[:size]
    return out


def _size_columns(m: str, s: sdc.Sizes, flags: NDArray[np.int8]) -> dict[str, Any]:
    out: dict[str, Any] = {f"{m}_n": s.n, f"{m}_total": s.total, f"{m}_flag": flags}
    for rank in range(s.top.shape[1]):
        out[f"{m}_top{rank + 1}"] = s.top[:, rank]
    return out


def regency_codes(codes: pd.Index) -> pd.Index:
    """The group a run over surveys reports indicators for, of each area code: its
    regency (the first two parts of a Kemendagri code, ``33.10``) where every code is
    finer (kecamatan, desa), else the whole study area (``all``).

    Parameters
    ----------
    codes
        Area codes (text).

    Examples
    --------
    >>> regency_codes(pd.Index(["33.10.01.2001", "33.11.02"])).tolist()
    ['33.10', '33.11']
    >>> regency_codes(pd.Index(["33.10", "33.11"])).tolist()
    ['all', 'all']
    """
    text = pd.Index(codes.astype(str))
    if len(text) and bool((text.str.count(r"\.") >= 2).all()):
        return pd.Index(text.str.extract(r"^([^.]+\.[^.]+)", expand=False))
    return pd.Index(["all"] * len(text))


def _regency_cells(cells: pd.MultiIndex) -> tuple[NDArray[np.int64], pd.MultiIndex]:
    """Each cell's (regency, sector) group (:func:`regency_codes`), and the groups."""
    areas = pd.Index(cells.levels[0].astype(str))
    sectors = pd.Index(cells.levels[1].astype(str))
    # on the levels (thousands of areas), then integer codes per cell
    of_area, names = pd.factorize(regency_codes(areas))
    regency = np.where(cells.codes[0] >= 0, of_area[np.maximum(cells.codes[0], 0)], -1)
    key = np.where(regency >= 0, regency * len(sectors) + cells.codes[1], -1)
    labels, used = pd.factorize(key, use_na_sentinel=True)
    used = np.asarray(used, dtype=np.int64)
    index = pd.MultiIndex.from_arrays(
        [
            np.asarray(names, dtype=object)[used // len(sectors)],
            np.asarray(sectors, dtype=object)[used % len(sectors)],
        ],
        names=["regency", "sector"],
    )
    return np.asarray(labels, dtype=np.int64), index


def _sentra_cells(
    cells: pd.MultiIndex, found: Delineation, sentra_ids: pd.Index
) -> NDArray[np.int64]:
    """Each cell's area-based sentra (its position in ``sentra_ids``; -1 for none)."""
    ids = found.area_sentra["sentra_id"].reindex(cells)
    known = ids.notna().to_numpy()
    out = np.full(len(cells), -1, dtype=np.int64)
    out[known] = sentra_ids.get_indexer(pd.Index(ids[known].astype(str)))
    return out


def _probability_counts(firms: pd.DataFrame | LazyFirms) -> pd.Series:
    """Firms with a predicted probability per (area_code, sector): a mean of fewer than
    ``min_firms`` of them is not published. (The firms' frame of a run holds no
    probability: it is not made for this.)"""
    if isinstance(firms, LazyFirms):
        return pd.Series(dtype=float)
    columns = [c for c in firms.columns if str(c).startswith("p_")]
    if not columns:
        return pd.Series(dtype=float)
    known = firms[columns].notna().any(axis=1)
    counted = known.groupby([firms["area_code"], firms["sector"]], observed=True).sum()
    counted.index = pd.MultiIndex.from_arrays(
        [counted.index.get_level_values(i).astype(object) for i in range(2)],
        names=["area_code", "sector"],
    )
    return counted.astype(float)


def _all_counts(index: pd.MultiIndex) -> pd.Series:
    """With the rules off, every mean may be shown."""
    return pd.Series(np.inf, index=index)


def _profile_flags(
    config: RunConfig,
    firms: pd.DataFrame | LazyFirms,
    store: FirmStore | None,
    sentra_ids: pd.Index,
    rules: sdc.Rules,
    columns: FirmColumns | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Per sentra, the typology shares and diagnosis scores that would give away a few
    firms' workers or answers (``;``-joined column names)."""
    empty = pd.Series("", index=pd.Index(sentra_ids, name="sentra_id"), dtype=object)
    if columns is not None and store is not None:  # found block by block
        inside, codes = columns.members
        group = codes.astype(np.int64)
    else:
        firms = frame_of(firms)
        inside = np.flatnonzero(firms["sentra_id"].notna().to_numpy())
        group = _codes(firms["sentra_id"].iloc[inside].reset_index(drop=True), sentra_ids)
    if not len(sentra_ids) or not len(inside):
        return empty, empty.copy()
    typology, items = config.typology, dict(config.diagnosis.items)
    wanted = ["workers", *([typology.ownership] if typology.ownership else []), *items.values()]
    if store is not None:
        names = set(store.names)
        members = store.frame(inside, columns=[c for c in dict.fromkeys(wanted) if c in names])
        members = pd.DataFrame(members.drop(columns="geometry", errors="ignore"))
    else:
        whole = frame_of(firms)
        members = pd.DataFrame(whole.iloc[inside][[c for c in wanted if c in whole]])
    members = members.reset_index(drop=True)
    return (
        _typology_flags(members, group, sentra_ids, typology.ownership, rules),
        _diagnosis_flags(members, group, sentra_ids, items, rules),
    )


def _typology_flags(
    members: pd.DataFrame,
    group: NDArray[np.int64],
    sentra_ids: pd.Index,
    ownership: str | None,
    rules: sdc.Rules,
) -> pd.Series:
    """Typology shares of workers that would give away a few firms' workers.

    A share times the sentra's published workers is the workers of a subgroup of its
    firms: the three largest (``top3_share``), those of one ownership (``local_share``,
    ``branch_share``, ``state_share``), the local ones among the three largest
    (``top3_local_share``). The subgroup and the rest must each pass the rules (or be
    empty). The Herfindahl index of workers gives each firm's share to a firm that knows
    its own once the others are two: it needs ``min_firms + 1`` firms and no dominance.
    Shares of firm counts (no workers) give nothing away.
    """
    n = len(sentra_ids)
    out = pd.Series("", index=pd.Index(sentra_ids, name="sentra_id"), dtype=object)
    if "workers" not in members:
        return out
    w = pd.to_numeric(members["workers"], errors="coerce").to_numpy(dtype=float)
    if np.isnan(w).any():  # the shares are of firm counts then
        return out
    k = rules.dominance_n

    def unsafe(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
        part = sdc.sizes(w, np.where(mask, group, -1), n, top=k)
        return (part.n > 0) & (sdc.primary(part, rules) > 0)

    everyone = np.ones(len(w), dtype=bool)
    order = np.lexsort((-w, group))
    rank = np.empty(len(w), dtype=np.int64)
    starts = np.searchsorted(group[order], group[order])
    rank[order] = np.arange(len(w)) - starts
    top3 = rank < 3
    whole = sdc.sizes(w, group, n, top=k)
    checks: dict[str, NDArray[np.bool_]] = {
        "top3_share": unsafe(top3) | unsafe(~top3),
        "herfindahl": (whole.n < rules.min_firms + 1)
        | (sdc.primary(whole, rules) > 0)
        | _squares_dominated(sdc.sizes(w**2, group, n, top=k), rules),
    }
    if ownership and ownership in members:
        from klastergeo.analysis.typology import OWNERSHIP

        kind = members[ownership].astype(str).str.strip().str.lower().map(OWNERSHIP)
        kind_values = kind.to_numpy(dtype=object)
        local = kind_values == "local"
        checks["top3_local_share"] = unsafe(top3 & local) | unsafe(top3 & ~local)
        for name in ("local", "branch", "state"):
            mask = kind_values == name
            checks[f"{name}_share"] = unsafe(mask) | unsafe(everyone & ~mask)
    return _listed(checks, sentra_ids)


def _plant_sectors(
    counts: Counts, cells: pd.MultiIndex, measure: str, rules: sdc.Rules
) -> frozenset[str]:
    """Sectors whose firms' Herfindahl index of ``measure`` (``plant_herfindahl`` of the
    concentration table) would give a firm away: fewer than ``min_firms + 1`` firms
    report it, or its squares are dominated (:func:`_squares_dominated`)."""
    sectors = pd.Index(cells.levels[1].astype(str))
    if counts.tally is not None:  # counted block by block
        squares = counts.tally.sector_squares(measure, list(cells.levels[1]))
    else:
        firms = counts.firms
        if measure not in firms:
            return frozenset()
        values = firms[measure].to_numpy(dtype=float, na_value=np.nan)
        rows = np.asarray(counts.rows, dtype=np.int64)
        of_cell = np.asarray(cells.codes[1], dtype=np.int64)
        sector = np.where(rows >= 0, of_cell[np.maximum(rows, 0)], -1) if len(of_cell) else rows
        known = np.isfinite(values) & (sector >= 0)
        squares = sdc.sizes(np.where(known, values, 0.0) ** 2, np.where(known, sector, -1),
                            len(sectors), top=rules.dominance_n)  # fmt: skip
    bad = (squares.n > 0) & (squares.n < rules.min_firms + 1)
    bad |= _squares_dominated(squares, rules)
    return frozenset(sectors[bad])


def _squares_dominated(squares: sdc.Sizes, rules: sdc.Rules) -> NDArray[np.bool_]:
    """Groups whose Herfindahl index of ``values`` would give their largest firm away.

    The index times the squared total (published beside it) is the sum of the firms'
    squared values, in which a large firm counts far more than in the sum: a firm with
    40 % of a sum of many small ones makes 95 % of the squares, and the square root of
    that sum is within a few per cent of its value. The squares pass when their
    ``dominance_n`` largest make at most ``dominance_k ** 2`` of them: then the second
    largest firm's bound on the largest (the root of the squares less its own) is at
    least ``1 / dominance_k`` times the largest value, as the dominance rule guarantees
    of a sum.
    """
    strict = dataclasses.replace(rules, dominance_k=rules.dominance_k**2)
    return (squares.n > 0) & (sdc.primary(squares, strict) > 0)


def _diagnosis_flags(
    members: pd.DataFrame,
    group: NDArray[np.int64],
    sentra_ids: pd.Index,
    items: dict[str, str],
    rules: sdc.Rules,
) -> pd.Series:
    """Diagnosis items scored as a mean of fewer than ``min_firms`` firms' answers."""
    n = len(sentra_ids)
    checks: dict[str, NDArray[np.bool_]] = {}
    for item, column in items.items():
        if column not in members:
            continue
        answered = pd.to_numeric(members[column], errors="coerce").notna().to_numpy()
        counted = np.bincount(group[answered & (group >= 0)], minlength=n)
        checks[item] = (counted > 0) & (counted < rules.min_firms)
    return _listed(checks, sentra_ids)


def _listed(checks: dict[str, NDArray[np.bool_]], sentra_ids: pd.Index) -> pd.Series:
    """Per sentra, the ``;``-joined names whose check is true for it."""
    names: list[list[str]] = [[] for _ in range(len(sentra_ids))]
    for name, bad in checks.items():
        for at in np.flatnonzero(bad):
            names[at].append(name)
    return pd.Series(
        [";".join(v) for v in names], index=pd.Index(sentra_ids, name="sentra_id"), dtype=object
    )


def _point_shapes(
    firms: pd.DataFrame,
    firm_sentra: NDArray[np.int64],
    sentra_ids: pd.Index,
    rules: sdc.Rules,
) -> gpd.GeoSeries | None:
    """Point-based sentra drawn from a fixed grid
    (:func:`klastergeo.analysis.disclosure.grid_hulls`)."""
    if not len(sentra_ids):
        return None
    # a point sentra's firms have points; a firm placed by its area (no point) is in none,
    # and never draws a hull through its village's centre
    inside = np.flatnonzero((firm_sentra >= 0) & has_point(firms))
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(
            firms["lon"].to_numpy(dtype=float)[inside], firms["lat"].to_numpy(dtype=float)[inside]
        ),
        crs=4326,
    )
    metric = to_metric(points)
    xy = shapely.get_coordinates(metric.geometry.to_numpy())
    hulls = sdc.grid_hulls(
        xy, firm_sentra[inside], len(sentra_ids), grid_m=rules.grid_m, min_firms=rules.min_firms
    )
    return gpd.GeoSeries(hulls, index=pd.Index(sentra_ids, name="sentra_id"), crs=metric.crs)
