"""Putting the steps' results together: the firms, area table and sentra table a run
writes, each step's columns added in one place (and the inputs never modified)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from klastergeo.analysis.tally import GridTally
from klastergeo.app.config import RunConfig, run_time
from klastergeo.app.pipeline._steps import Notes
from klastergeo.app.pipeline.colocated_firms import firm_colocation
from klastergeo.app.pipeline.counting import Counts
from klastergeo.app.pipeline.delineation import Delineation
from klastergeo.app.pipeline.density import density_grid
from klastergeo.app.pipeline.firm_columns import FirmColumns
from klastergeo.app.pipeline.points import with_points
from klastergeo.app.pipeline.probabilities import Models
from klastergeo.app.pipeline.profiling import Profiles
from klastergeo.app.pipeline.study import StudyArea
from klastergeo.io.registry.firms import FirmStore
from klastergeo.publish import maps

if TYPE_CHECKING:
    from klastergeo.app.pipeline import RunResult

__all__ = [
    "draw_map",
    "explore_input",
    "firm_columns",
    "firms_with_sentra",
    "profiled_sentra",
    "related_firms",
    "table_with_sentra",
    "with_probabilities",
]


def firms_with_sentra(firms: pd.DataFrame, found: Delineation, counts: Counts) -> pd.DataFrame:
    """The firms with the ``sentra_id`` of their sentra (a category) and ``in_sentra``
    (0/1).

    Parameters
    ----------
    firms
        The counted firms (:class:`~.counting.Counts` ``firms``).
    found
        The delineation: the sentra of every cell (area-based) or of every firm
        (point-based).
    counts
        The counts: each firm's cell (``rows``).
    """
    out = firms.copy(deep=False)  # new columns only: the firms' data are shared
    codes = found.point_codes()
    if codes is None:
        rows = np.asarray(counts.rows, dtype=np.int64)
        cell = found.cell_codes(cast(pd.MultiIndex, counts.counts.index))
        codes = np.where(rows >= 0, cell[np.maximum(rows, 0)] if len(cell) else -1, -1)
    out["sentra_id"] = pd.Categorical.from_codes(codes, categories=found.sentra_ids)
    out["in_sentra"] = (codes >= 0).astype(np.int8)
    return out


def firm_columns(
    found: Delineation, counts: Counts, *, colocated: pd.DataFrame | None = None
) -> FirmColumns:
    """What the run's columns of every firm are made of (:class:`~.firm_columns.FirmColumns`).

    Parameters
    ----------
    found
        The delineation.
    counts
        The counts: their areas and sectors (each firm's cell) and the store.
    colocated
        The related industries' firms (``sentra_id``, ``firm``), or None.
    """
    index = cast(pd.MultiIndex, counts.counts.index)
    point = found.point_codes()
    return FirmColumns(
        store=counts.store,
        areas=pd.Index(index.levels[0]),
        sectors=pd.Index(index.levels[1]),
        sentra_ids=found.sentra_ids,
        row_sentra=found.cell_codes(index) if point is None else None,
        point_sentra=point,
        resolution=counts.resolution,
        colocated=related_firms(colocated),
    )


def related_firms(
    colocated: pd.DataFrame | None,
) -> tuple[NDArray[np.int64], pd.Categorical] | None:
    """The firms of related industries (sorted positions) and the ``;``-joined sentra
    each is related to (:class:`~.firm_columns.FirmColumns` ``colocated``).

    Parameters
    ----------
    colocated
        The related industries' firms (``sentra_id``, ``firm``), or None.
    """
    if colocated is None:
        return None
    if not len(colocated):
        return np.empty(0, np.int64), pd.Categorical([], categories=pd.Index([], dtype=object))
    pairs = colocated[["firm", "sentra_id"]].drop_duplicates()
    joined = pairs.sort_values(["firm", "sentra_id"]).groupby("firm")["sentra_id"]
    ids = joined.agg(";".join)  # one string per related firm, sorted by position
    return ids.index.to_numpy(dtype=np.int64), pd.Categorical(ids.to_numpy(dtype=object))


def table_with_sentra(table: pd.DataFrame, found: Delineation) -> pd.DataFrame:
    """The area table with ``sentra_id`` and ``sentra_role`` of every (area, sector).

    Parameters
    ----------
    table
        The area x sector table of the statistics (:class:`~.statistics.Statistics`
        ``table``).
    found
        The delineation; its ``area_sentra`` holds both columns, in the order of
        ``table``.
    """
    out = table.copy(deep=False)  # copy-on-write: new columns only, the table stays
    out["sentra_id"] = found.area_sentra["sentra_id"].to_numpy(dtype=object)
    out["sentra_role"] = found.area_sentra["sentra_role"].to_numpy(dtype=object)
    return out


def profiled_sentra(sentra: gpd.GeoDataFrame, profiles: Profiles) -> gpd.GeoDataFrame:
    """The sentra with their type, label, stage and diamond score.

    Parameters
    ----------
    sentra
        The sentra table, indexed by ``sentra_id``.
    profiles
        The profiles: ``typology`` (``typology``, ``label``) and ``diagnosis``
        (``stage``, ``overall``), indexed by ``sentra_id``.
    """
    out = sentra.copy()
    if len(out):
        ids = out.index
        out["typology"] = profiles.typology["typology"].reindex(ids).to_numpy()
        out["typology_label"] = profiles.typology["label"].reindex(ids).to_numpy()
        out["stage"] = profiles.diagnosis["stage"].reindex(ids).to_numpy()
        out["diamond_score"] = profiles.diagnosis["overall"].reindex(ids).to_numpy()
        if "links_found" in profiles.diagnosis:  # co-location measured
            related = profiles.colocation.related if profiles.colocation else None
            if related is not None:
                shown = related.loc[related["significant"]]
                joined = shown.groupby("sentra_id")["related_sector"].agg(";".join)
                out["related_sectors"] = joined.reindex(ids).fillna("").to_numpy()
            out["missing_links"] = profiles.diagnosis["links_missing"].reindex(ids).to_numpy()
    return out


def with_colocated(firms: pd.DataFrame, colocated: pd.DataFrame | None) -> pd.DataFrame:
    """The firms with ``colocated_with``: the sentra (``;``-joined ids) whose significant
    related industry each firm is part of (None for a firm of none).

    Parameters
    ----------
    firms
        The firms, by position.
    colocated
        The related industries' firms (``sentra_id``, ``firm``: a position), as
        :class:`~.profiling.Colocation` ``firms`` has them; None when co-location was
        not measured (the firms are returned as they are).
    """
    if colocated is None:
        return firms
    out = firms.copy(deep=False)  # a new column only
    codes = np.full(len(firms), -1, dtype=np.int32)  # a small code per firm, as sentra_id
    values: list[str] = []
    if len(colocated):
        pairs = colocated[["firm", "sentra_id"]].drop_duplicates()
        joined = pairs.sort_values(["firm", "sentra_id"]).groupby("firm")["sentra_id"]
        ids = joined.agg(";".join)  # one string per related firm, not per firm
        at, uniques = pd.factorize(ids.to_numpy(dtype=object), sort=True)
        codes[ids.index.to_numpy(dtype=np.int64)] = at
        values = [str(v) for v in uniques]
    out["colocated_with"] = pd.Categorical.from_codes(codes, categories=pd.Index(values))
    return out


def related_points(
    firms: pd.DataFrame, colocated: pd.DataFrame | None, store: FirmStore | None
) -> pd.DataFrame | None:
    """The related industries' firms as the map draws them: ``sentra_id``,
    ``related_sector``, ``lon``, ``lat`` and ``name`` (read from ``store`` for those
    firms only; empty without a store or names).

    Parameters
    ----------
    firms
        The firms' columns by position, with ``lon`` and ``lat``.
    colocated
        The related industries' firms (``sentra_id``, ``related_sector``, ``firm``);
        None for none.
    store
        Where the firms' names are read from; or None.
    """
    if colocated is None or not len(colocated):
        return None
    at = colocated["firm"].to_numpy(dtype=np.int64)
    out = colocated[["sentra_id", "related_sector"]].reset_index(drop=True)
    out["lon"] = firms["lon"].to_numpy(dtype=float)[at]
    out["lat"] = firms["lat"].to_numpy(dtype=float)[at]
    out["name"] = ""
    if store is not None and "name" in store.names:
        wanted = np.unique(at)
        names = store.frame(wanted, columns=["name"])["name"].to_numpy(dtype=object)
        out["name"] = names[np.searchsorted(wanted, at)]
    return out


def with_probabilities(
    table: pd.DataFrame,
    sentra: gpd.GeoDataFrame,
    fitted: Models,
    outcome: str,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Each model's probabilities: as the mean of an area's firms of a sector, and of a
    sentra's firms; and the cluster probability ``p_cluster`` (the firms' own are
    written with the firms output).

    Parameters
    ----------
    table
        The area x sector table (indexed by ``area_code`` and ``sector``).
    sentra
        The sentra table, indexed by ``sentra_id``.
    fitted
        The fitted models: each kind adds a column ``p_<kind>`` (its mean probabilities,
        :class:`~.probabilities.Means`), and the best (logit, else probit, else the LPM)
        is ``p_cluster``.
    outcome
        The models' outcome (``model.outcome``); ``p_cluster`` is added for
        ``in_sentra`` only.

    Returns
    -------
    table, sentra
        Copies of the inputs with the probability columns added.
    """
    # new columns only: the inputs' data are shared (copy-on-write), never changed;
    # the firms' own probabilities are not held (the firms output predicts each part)
    table, sentra = table.copy(deep=False), sentra.copy()
    means = fitted.means
    for kind in fitted.fitted:
        column = f"p_{kind}"
        table[column] = _aligned(means.cells[column], table.index)
        if len(sentra):
            sentra[column] = means.sentra[column].reindex(sentra.index).to_numpy()
    best = fitted.best
    if best and outcome == "in_sentra":
        # the cluster probability: of the firms of a sector in an area, the mean
        # probability of lying in a sentra; where no sentra is, of becoming one
        table["p_cluster"] = table[f"p_{best}"]
        if len(sentra):
            sentra["p_cluster"] = sentra[f"p_{best}"]
    return table, sentra


def _aligned(values: pd.Series, index: pd.Index) -> np.ndarray:
    """``values`` by (area_code, sector) (possibly categorical levels) on ``index``."""
    plain = pd.MultiIndex.from_arrays(
        [values.index.get_level_values(i).astype(object) for i in range(2)],
        names=index.names,
    )
    return pd.Series(values.to_numpy(), index=plain).reindex(index).to_numpy()


def draw_map(
    config: RunConfig,
    study: StudyArea,
    result: RunResult,
    parents: pd.Series | None,
    best: str | None,
    store: FirmStore | None = None,
    notes: Notes | None = None,
    period: str | None = None,
    *,
    means: pd.DataFrame | None = None,
) -> Any:
    """The run's web map (the ``map`` step) of a :class:`~klastergeo.app.pipeline.RunResult`.

    Parameters
    ----------
    config
        The configuration: ``[map]`` (``lang``, ``tiles``, ``title``, ``attribution``,
        ``max_firms``, ``max_areas``),
        ``model.outcome``, and ``records.path``, whose file name is the map's source.
    study
        The study area; its :meth:`~.study.StudyArea.outlines` are drawn (and its
        provinces, when the map is split by province).
    result
        The run's tables: ``areas``, ``table``, ``sentra`` and ``firms``.
    parents
        Name of each area's parent, added to area names for the search; or None.
    best
        The model kind whose mean probability per area the map shows (when the outcome
        is ``in_sentra``); None for none.
    store
        Where the firms are read whole from, when they are few enough to be drawn one
        by one (``map.max_firms``); None to draw their grid counts only.
    notes
        Where the firms left out of the markers or the density grid are noted: those
        placed by their area's code or name, without a point (they are never drawn at
        their village's centre); None to note nothing.
    period
        The survey this run is of (a run over surveys), named in the map's title.
    means
        The models' mean probabilities per area and how many firms have one
        (:class:`~.probabilities.Means` ``areas``); None for none.

    Returns
    -------
    folium.Map
        The map (:func:`klastergeo.publish.maps.build_map`).
    """
    column = f"p_{best}" if best and config.model.outcome == "in_sentra" else None
    # a province's firms are drawn one by one (whole, from the store); a country's
    # are counted on a grid from their coordinates alone (its frame is never made)
    few = store is None or len(store) <= config.map.max_firms
    columns = result.firm_columns if few else pd.DataFrame()
    firms: pd.DataFrame | GridTally | None = None
    if few and store is not None:  # only firms with a point are drawn
        placed, at = with_points(columns[["lon", "lat"]], notes, step="map", what="firm_markers")
        if len(placed):
            firms = store.frame() if at is None else store.frame(at)
    elif store is not None:  # counted on the grid block by block
        where = config.records
        firms = density_grid(store, scheduler=where.scheduler, workers=where.workers, notes=notes)
    else:
        placed, _ = with_points(columns[["lon", "lat"]], notes, step="map", what="density_grid")
        firms = placed if len(placed) else None
    probability = None
    if column and means is not None and column in means.columns:
        probability = means[column]
        if config.disclosure.enabled:  # a mean of one or two firms' probabilities is theirs
            probability = probability.where(means["n"] >= config.disclosure.min_firms)
    data = maps.MapInput(
        result.areas,
        result.table,
        result.sentra,
        firms=firms,
        outlines=study.outlines(),
        probability=probability,
        parents=parents,
        grandparents=_grandparents(study.ancestors(result.areas)),
        provinces=study.provinces() if len(result.areas) > config.map.max_areas else None,
        related_firms=related_points(columns, result.colocated, store) if few else None,
        measures=result.measures or None,
        explore=explore_input(config, result),
        colocation=(
            _firm_colocation(config, result, firms) if isinstance(firms, pd.DataFrame) else None
        ),
    )
    style = maps.MapStyle(
        lang=config.map.lang,
        tiles=config.map.tiles,
        title=config.map.title,
        source=Path(str(config.records.path)).name,
        attribution=config.map.attribution,
        max_firms=config.map.max_firms,
        max_areas=config.map.max_areas,
        made=run_time(config.output.timestamp).date().isoformat(),
        place=study.name(),
        period=period,
    )
    return maps.build_map(data, style)


def explore_input(config: RunConfig, result: RunResult) -> Any:
    """What the map's linked Moran scatterplot and significance filter need
    (:class:`klastergeo.publish.explore.ExploreInput`): the firm counts per area and
    sector (the values of the LISA), and each measure's area sums as its LISA used them
    (a cell whose firms reported no value counts 0; a suppressed sum is NaN: it never
    reaches the page) with its published statistics; the weights, and which column
    holds each statistic's raw p-value (before FDR); None without weights or counts.

    Parameters
    ----------
    config
        The configuration: ``[analysis]`` ``fdr``, ``permutations``, ``gi_inference`` and
        ``lisa_inference`` (which p-value the run decided on).
    result
        The run's ``table`` (``n_firms``), ``graph``, ``global_stats`` and ``measures``
        (as published: :func:`klastergeo.analysis.measure.withhold`).
    """
    from klastergeo.publish import explore

    if result.graph is None or "n_firms" not in result.table.columns:
        return None
    ids = pd.Index(result.graph.unique_ids)
    counts = result.table["n_firms"].fillna(0).unstack("sector", fill_value=0)
    counts = counts.reindex(ids, fill_value=0).fillna(0)
    options = config.analysis
    p_columns = {"spec": "spec_p"}
    for stat, inference in (("gi", options.gi_inference), ("lisa", options.lisa_inference)):
        if inference == "permutation" and options.permutations > 0:
            p_columns[stat] = f"{stat}_p_sim"
        elif not options.fdr:  # the decided p-values are the raw ones
            p_columns[stat] = f"{stat}_p"
    stats = result.global_stats
    global_p = None
    if stats is not None and "p_norm" in stats:
        global_p = pd.to_numeric(stats["p_norm"], errors="coerce")
    values = {"firms": counts}
    tables = {}
    for name, table in (result.measures or {}).items():
        if name == "firms" or "value" not in table.columns:
            continue
        suppressed = (
            table["value_flag"].fillna("").astype(str).ne("").to_numpy()
            if "value_flag" in table.columns
            else np.zeros(len(table), dtype=bool)
        )
        sums = table["value"].astype(float).fillna(0.0).mask(suppressed)
        values[name] = sums.unstack("sector").reindex(ids)
        tables[name] = table
    return explore.ExploreInput(values, result.graph, p_columns, global_p, tables)


def _firm_colocation(config: RunConfig, result: RunResult, firms: pd.DataFrame | None) -> Any:
    """The map's per-firm co-location layer of the firms drawn one by one; None without
    a significant sector pair."""
    from klastergeo.publish import explore

    if firms is None:
        return None
    categories = firm_colocation(config, result.colocation, firms)
    return None if categories is None else explore.FirmColocation(categories)


def _grandparents(ancestors: pd.DataFrame | None) -> pd.Series | None:
    """The name of each area's parent's parent (the kabupaten of a desa), the second
    column of :meth:`~.study.StudyArea.ancestors`, or None."""
    return None if ancestors is None or ancestors.shape[1] < 2 else ancestors.iloc[:, 1]
