"""What a run writes: the files of a run and of a run stopped at validation, into the
staging folder of its :class:`klastergeo.io.files.RunFolder`, and its record
(:class:`klastergeo.publish.record.RunRecord`), committed as ``summary.json`` with the
file manifest.

This module decides which files a run has, their names and columns (column lists from
:mod:`klastergeo.schema`) and what goes into its record; the bytes of the pages, maps,
figures, workbook, GIS layers, model tables and firm files come from their renderers
(:mod:`klastergeo.publish`, :func:`klastergeo.publish.model_tables.write`,
:mod:`~klastergeo.app.pipeline.firm_output`), and every file lands in the run's staging
folder, so a run's outputs appear all at once or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from klastergeo import __version__, kbli
from klastergeo.analysis import aggregate, regression
from klastergeo.app.beside import Beside
from klastergeo.app.config import RunConfig
from klastergeo.io.files import RunFolder, atomic_path, write_csv, write_json, write_text
from klastergeo.io.registry import records as records_mod
from klastergeo.publish import model_tables, radar, sentences
from klastergeo.publish import report as report_mod
from klastergeo.publish import site as publish_mod
from klastergeo.publish.record import (
    AreasRecord,
    ConfigRecord,
    LeftOut,
    NearMisses,
    NotComputed,
    RecordsRecord,
    RunRecord,
    SectorsRecord,
)
from klastergeo.schema import AREA_COLUMNS, MEASURE_COLUMNS, SENTRA_COLUMNS, SENTRA_INDEX

if TYPE_CHECKING:
    from libpysal.graph import Graph

    from klastergeo.app.pipeline.profiling import Profiles

__all__ = [
    "area_model_outputs",
    "beside",
    "csv",
    "figure_sectors",
    "figures",
    "figures_beside",
    "figures_beside_from",
    "firm_columns",
    "global_table",
    "measure_rows",
    "model_outputs",
    "model_roles",
    "near_miss_summary",
    "rejection_report",
    "report_page",
    "run_tables",
    "validation_reports",
    "versions",
    "with_reasons",
]

logger = logging.getLogger(__name__)

#: Packages whose versions a summary records.
VERSIONED = (
    "numpy",
    "pandas",
    "pyarrow",
    "shapely",
    "geopandas",
    "libpysal",
    "esda",
    "statsmodels",
    "folium",
    "h3",
    "mapclassify",
)


def versions() -> dict[str, str]:
    """klastergeo's version and those of the packages it computes with."""
    out = {"klastergeo": __version__}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def csv(frame: pd.DataFrame, path: Path, *, index: bool = False, locale: str = "en") -> None:
    """A CSV file, written atomically (UTF-8).

    Parameters
    ----------
    frame
        The table to write.
    path
        The file, replaced only once it is written whole.
    index
        Write the frame's index as columns too.
    locale
        ``"en"`` (``,`` and a decimal point) or ``"id"`` (``;`` and a decimal comma):
        ``[output] csv_locale``.
    """
    write_csv(frame, path, index=index, locale=locale)


def validation_reports(
    folder: Path,
    report: records_mod.ValidationReport,
    *,
    locale: str = "en",
    lang: str | None = None,
) -> None:
    """``rejected.csv`` and ``repaired.csv`` of a validation, and ``skipped.csv`` (the
    rows that are not firms: totals, footnotes, blank rows) when there are any.

    Parameters
    ----------
    folder
        The folder the files are written into.
    report
        The validation report: its ``rejected``, ``repaired`` and ``skipped`` rows.
    locale
        The CSV style (``[output] csv_locale``).
    lang
        The run's language: ``rejected.csv`` gets ``reason_text``, each ``reason``
        code in words of that language (the code stays), and the ``detail`` of both
        files is in that language (:func:`klastergeo.publish.sentences.detail_texts`);
        None to write them as read.
    """
    rejected, repaired = report.rejected, report.repaired
    if lang is not None:
        rejected, repaired = (_in_language(rejected, lang), _in_language(repaired, lang))
    csv(rejected, folder / "rejected.csv", locale=locale)
    csv(repaired, folder / "repaired.csv", locale=locale)
    if report.n_skipped:
        csv(report.skipped, folder / "skipped.csv", locale=locale)


def _in_language(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A validation table with its ``detail`` in ``lang`` and, for rejected rows, its
    reasons in words (``reason_text``)."""
    out = frame
    if "detail" in frame.columns:
        out = out.assign(detail=sentences.detail_texts(frame["detail"], lang))
    if "reason" in frame.columns and "record_id" not in frame.columns:  # rejected.csv
        out = out.assign(reason_text=sentences.reason_texts(frame["reason"], lang))
    return out


def rejection_report(
    where: Path,
    config: RunConfig,
    report: records_mod.ValidationReport,
    head: dict[str, Any],
    timings: dict[str, float],
) -> None:
    """The report of a run that stopped at validation, committed as its own folder.

    Parameters
    ----------
    where
        The folder of the report (:func:`~.intake.rejection_folder`).
    config
        The run's configuration, recorded in the report's ``summary.json``.
    report
        The validation report: ``rejected.csv``, ``repaired.csv`` and its summary.
    head
        The first keys of ``summary.json`` (version, status, created, seed).
    timings
        Seconds taken by each step so far.
    """
    record = RunRecord.from_json(head).replace(
        order=(),
        records=RecordsRecord.from_json(report.summary()),
        timings=dict(timings),
        config=ConfigRecord.from_json(config.to_dict()),
        versions=versions(),
    )
    with RunFolder(where, kind="rejected") as folder:
        validation_reports(
            folder.path, report, locale=config.output.csv_locale, lang=config.map.lang
        )
        folder.commit(record.to_json())


def model_roles(report: records_mod.ValidationReport) -> dict[str, str]:
    """The registry's column names of the mapped roles a model may use as predictors
    (``tenaga_kerja`` -> ``workers``), so that its pages title them as the workbook does.

    Parameters
    ----------
    report
        The validation report (its column mapping).
    """
    columns = report.columns
    return {
        str(getattr(columns, role)): role
        for role in ("workers", "output", "investment")
        if getattr(columns, role, None) is not None
    }


def model_outputs(
    folder: Path,
    report: records_mod.ValidationReport | None,
    fitted: dict[str, regression.ModelResult],
    sample: pd.DataFrame | None = None,
    *,
    locale: str = "en",
    lang: str = "en",
    roles: dict[str, str] | None = None,
) -> None:
    """The model tables of every kind (``models/``), with the validation reports, and
    the sample they were estimated on (``models/sample.csv``) when there was one.

    Parameters
    ----------
    folder
        The output folder; the model tables go into ``folder/models``.
    report
        The validation report, whose ``rejected.csv`` and ``repaired.csv`` are written
        into ``folder``; None to write neither.
    fitted
        The fitted models by kind.
    sample
        The strata of the models' sample (``sector``, ``outcome``, ``n_firms``,
        ``n_sample``, ``weight``); None when every firm was used.
    locale
        The CSV style (``[output] csv_locale``).
    lang
        The language of the model reports and of the validation reports' texts
        (``map.lang``, :func:`validation_reports`).
    roles
        The registry's column names of mapped roles (:func:`model_roles`); default:
        those of ``report``.
    """
    if report is not None:
        validation_reports(folder, report, locale=locale, lang=lang)
    if roles is None:
        roles = {} if report is None else model_roles(report)
    for result in fitted.values():
        model_tables.write(result, folder / "models", locale=locale, lang=lang, roles=roles)
    if sample is not None and fitted:
        csv(sample, folder / "models" / "sample.csv", locale=locale)


def area_model_outputs(
    folder: Path, tables: dict[str, pd.DataFrame], result: dict[str, Any], *, locale: str = "en"
) -> None:
    """The area-level model's tables and fit (``models/area_*``).

    Parameters
    ----------
    folder
        The output folder; the files go into ``folder/models``.
    tables
        ``coefficients`` (OLS), ``diagnostics`` and, when a spatial model was estimated,
        its coefficients under ``lag`` or ``error``.
    result
        The fit, written as ``area_fit.json``; its ``recommended`` model names the
        spatial table written.
    locale
        The CSV style (``[output] csv_locale``).
    """
    models_dir = folder / "models"
    csv(tables["coefficients"], models_dir / "area_ols_coefficients.csv", locale=locale)
    csv(tables["diagnostics"], models_dir / "area_diagnostics.csv", locale=locale)
    choice = result["recommended"]
    if choice in tables:
        csv(tables[choice], models_dir / f"area_{choice}_coefficients.csv", locale=locale)
    write_json(models_dir / "area_fit.json", result)


def global_table(
    global_stats: pd.DataFrame, counts: pd.DataFrame, table: pd.DataFrame, sentra: pd.DataFrame
) -> pd.DataFrame:
    """``global.csv``: firms, global Moran's I, hot-spot areas and sentra per sector.

    Parameters
    ----------
    global_stats
        Global Moran's I per analysed sector, indexed by sector (the rows of the result).
    counts
        Firms per (area, sector) (``n_firms``), summed per sector.
    table
        The area x sector table; areas with ``gi_bin`` 2 or more (hot spots at 95 % or
        more) are counted per sector.
    sentra
        The sentra table; its ``sector`` column is counted.
    """
    firm_totals = counts.groupby(level="sector")["n_firms"].sum()
    stats = global_stats.copy()
    stats.insert(0, "n_firms", firm_totals.reindex(stats.index).to_numpy())
    hot = table["gi_bin"].ge(2).groupby(level="sector").sum()
    stats["hot_spot_areas"] = hot.reindex(stats.index).fillna(0).astype(int).to_numpy()
    stats["sentra"] = (
        sentra["sector"].value_counts().reindex(stats.index).fillna(0).astype(int).to_numpy()
        if len(sentra)
        else 0
    )
    return stats


def firm_columns(firms: pd.DataFrame) -> pd.DataFrame:
    """The columns a run adds to every firm of its firms output: ``sentra_id``,
    ``in_sentra``, ``colocated_with`` (the sentra whose significant related industry the
    firm is part of, ``;``-joined) and the models' ``p_*`` (and, in an H3 run, the cell as
    ``area_code`` and the administrative ``admin_code``).

    Parameters
    ----------
    firms
        The firms as the run's steps hold them (a few columns, by position).
    """
    names = [
        "sentra_id",
        "in_sentra",
        "colocated_with",
        *[c for c in firms.columns if c.startswith("p_")],
    ]
    if "admin_code" in firms.columns:
        names = ["area_code", "admin_code", *names]
    out = firms[[c for c in names if c in firms.columns]].copy(deep=False)
    if "in_sentra" in out.columns:
        out["in_sentra"] = out["in_sentra"].astype(np.int64)
    return out


def measure_rows(measures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The statistics of several measures as one long table (``measures.csv``).

    Parameters
    ----------
    measures
        Per measure, its (published) statistics indexed by (``area_code``, ``sector``).
    """
    frames = [
        table.reset_index().assign(measure=name).reindex(columns=list(MEASURE_COLUMNS))
        for name, table in measures.items()
    ]
    if not frames:
        return pd.DataFrame(columns=list(MEASURE_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def run_tables(
    folder: Path,
    *,
    table: pd.DataFrame,
    sentra: gpd.GeoDataFrame,
    global_stats: pd.DataFrame,
    profiles: Profiles,
    members: pd.DataFrame | None,
    bands: pd.DataFrame | None,
    candidates: pd.DataFrame | None = None,
    locale: str = "en",
    measures: dict[str, pd.DataFrame] | None = None,
    lang: str | None = None,
) -> None:
    """The data files of a run: areas, sentra, global statistics and profiles (the firms
    are streamed by :func:`klastergeo.app.pipeline.firm_output.write_firms`).

    Parameters
    ----------
    folder
        The output folder.
    table
        The area x sector table (``areas.parquet``: the columns of
        :data:`~klastergeo.schema.AREA_COLUMNS` it has, and the ``p_*`` columns).
    sentra
        The sentra (``sentra.csv`` without geometry, ``sentra.geojson`` with it).
    global_stats
        The per-sector table of :func:`global_table` (``global.csv``).
    profiles
        The :class:`~.profiling.Profiles`: ``concentration.csv``, ``typology.csv``,
        ``diagnosis.csv`` and one CSV per point-pattern table.
    members
        The evidence per member area of each sentra (``sentra_areas.csv``); None for
        point-based sentra.
    bands
        The bands the automatic scale tried (``scale.csv``); None otherwise.
    candidates
        The near misses of the sentra rules (``candidates.csv``); None for point-based
        sentra.
    locale
        The CSV style (``[output] csv_locale``).
    measures
        Per measure (firms too, first), its statistics (``measures.csv``, long, the
        columns of :data:`~klastergeo.schema.MEASURE_COLUMNS`); nothing is written
        without one.
    lang
        The run's language: the code columns of ``missing_links.csv``,
        ``related.csv``, ``clark_evans.csv`` and ``diagnosis.csv`` get a
        ``<column>_text`` in words (:func:`klastergeo.publish.sentences.code_texts`;
        the codes stay); None to write the codes alone.
    """

    def texts(frame: pd.DataFrame, stem: str) -> pd.DataFrame:
        return frame if lang is None else sentences.code_texts(frame, stem, lang)

    if measures:
        csv(measure_rows(measures), folder / "measures.csv", locale=locale)
    areas_table = table.reset_index()
    columns = [c for c in AREA_COLUMNS if c in areas_table.columns]
    columns += [c for c in areas_table.columns if c.startswith("p_")]
    with atomic_path(folder / "areas.parquet") as tmp:
        areas_table[columns].to_parquet(tmp, index=False)
    # the sentra_id index is the first column of both files
    plain = (
        pd.DataFrame(sentra.drop(columns=sentra.geometry.name)).reset_index()
        if len(sentra)
        else pd.DataFrame(columns=[SENTRA_INDEX, *SENTRA_COLUMNS])
    )
    csv(plain, folder / "sentra.csv", locale=locale)
    geojson = (
        sentra.reset_index().to_crs(4326).to_json(drop_id=True)
        if len(sentra)
        else '{"type": "FeatureCollection", "features": []}'
    )
    write_text(folder / "sentra.geojson", geojson)
    csv(global_stats, folder / "global.csv", index=True, locale=locale)
    csv(profiles.concentration, folder / "concentration.csv", locale=locale)
    csv(profiles.typology, folder / "typology.csv", index=True, locale=locale)
    csv(texts(profiles.diagnosis, "diagnosis"), folder / "diagnosis.csv", index=True, locale=locale)
    if members is not None:
        csv(members.reset_index(), folder / "sentra_areas.csv", locale=locale)
    if candidates is not None:
        csv(candidates.reset_index(), folder / "candidates.csv", locale=locale)
    for name, frame in profiles.patterns.items():
        csv(texts(frame, name), folder / f"{name}.csv", locale=locale)
    if profiles.colocation is not None:
        located = profiles.colocation
        csv(located.table.reset_index(), folder / "colocation.csv", locale=locale)
        csv(texts(located.related, "related"), folder / "related.csv", locale=locale)
        csv(texts(located.missing, "missing_links"), folder / "missing_links.csv", locale=locale)
    if bands is not None:
        csv(bands, folder / "scale.csv", locale=locale)


def radar_charts(
    folder: Path, config: RunConfig, diagnosed: pd.DataFrame, sentra: pd.DataFrame
) -> None:
    """A radar chart per diagnosed sentra (``diagnosis/``) when configured.

    Parameters
    ----------
    folder
        The output folder; the charts go into ``folder/diagnosis``.
    config
        The configuration; ``diagnosis.charts`` turns the charts on.
    diagnosed
        The diagnosis per sentra (:class:`~.profiling.Profiles` ``diagnosis``); nothing
        is drawn when no sentra has a scored item (``n_items``).
    sentra
        The sentra table, whose names title the charts.
    """
    if config.diagnosis.charts and diagnosed["n_items"].gt(0).any():
        radar.radar_charts(diagnosed, folder / "diagnosis", sentra=sentra, lang=config.map.lang)


def figures(
    folder: Path,
    config: RunConfig,
    *,
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    sentra: pd.DataFrame,
    counts: pd.DataFrame,
    graph: Graph,
    analysed: tuple[str, ...],
    outlines: gpd.GeoDataFrame | None,
    global_stats: pd.DataFrame | None = None,
    place: str | None = None,
    simplified: bool = False,
) -> list[report_mod.Figure]:
    """Static PNGs (``figures/``): a map of the sentra (``sentra.png``, the printed
    report's map), and for the sectors ``[report] figures`` names
    (:func:`figure_sectors`), specialisation, Gi* and LISA maps and a Moran scatterplot
    per sector.

    Parameters
    ----------
    folder
        The output folder; the PNGs go into ``folder/figures``.
    config
        The configuration: ``report.figures`` (``sentra``: the sectors with a sentra,
        ``all``: every analysed sector, ``none``), ``map.lang``, and ``records.path``,
        whose file name is the figures' source note.
    areas
        The areas of analysis, indexed by area code.
    table
        The area x sector table with ``gi_bin`` and ``lisa_quadrant``.
    sentra
        The sentra table (``sector``).
    counts
        Firms per (area, sector) (``n_firms``), the values of the Moran scatterplots.
    graph
        The spatial weights of the scatterplots' spatial lag.
    analysed
        The analysed sectors.
    outlines
        Coarser administrative outlines drawn on the maps; or None.
    global_stats
        Global Moran's I per sector (``p_norm``), shown on the scatterplots; or None.
    place
        The study area's name, in the title of the sentra's map; or None.
    simplified
        ``areas`` are already simplified to the figures' resolution
        (:func:`klastergeo.publish.figures.figure_shapes`), as :func:`figures_beside`
        sends them.

    Returns
    -------
    list of Figure
        The figures written, with paths relative to ``folder`` and captions.
    """
    from klastergeo.publish import figures as static

    if config.report.figures == "none":
        return []
    sectors = figure_sectors(config, sentra, analysed)
    target = folder / "figures"
    source = Path(str(config.records.path or config.counts.path)).name
    out, written = _area_figures(
        target,
        config.map.lang,
        areas,
        table,
        sentra,
        sectors,
        outlines,
        source,
        place,
        simplified=simplified,
    )
    if not sectors:
        return out
    matrix = aggregate.wide(counts, "n_firms")
    for path in written:
        kind, sector = path.stem.rsplit("_", 1)
        label = static.FIGURE_TITLES[config.map.lang][kind]
        out.append(report_mod.Figure(f"figures/{path.name}", f"{label}: {sector}"))
    for sector in sectors:  # one scatterplot per sector (tens)
        rows = table.xs(sector, level="sector")
        p_value = None
        if global_stats is not None and "p_norm" in global_stats and sector in global_stats.index:
            p_value = float(pd.to_numeric(global_stats["p_norm"]).loc[sector])
        path = static.moran_scatterplot(
            matrix[sector],
            graph,
            target / f"moran_{sector}.png",
            title=kbli.titled(sector, lang=config.map.lang),
            quadrant=rows.get("lisa_quadrant"),
            p_value=p_value,
            lang=config.map.lang,
        )
        title = static.FIGURE_TITLES[config.map.lang]["moran"]
        out.append(report_mod.Figure(f"figures/{path.name}", f"{title}: {sector}"))
    return out


def figure_sectors(config: RunConfig, sentra: pd.DataFrame, analysed: Sequence[str]) -> list[str]:
    """The sectors :func:`figures` draws maps and a scatterplot of, by ``[report]
    figures``: those with a sentra (``sentra``), every analysed sector (``all``) or none.

    Parameters
    ----------
    config
        The configuration (``report.figures``).
    sentra
        The sentra table (``sector``).
    analysed
        The analysed sectors.
    """
    choice = config.report.figures
    if choice == "none":
        return []
    if choice == "all":
        return sorted(str(s) for s in analysed)
    return sorted(set(sentra["sector"].astype(str)))


#: Areas from which :func:`figures_beside` draws the figures in a child process, and
#: the workbook is made in one (fewer draw in well under a second: a fresh
#: interpreter's imports would cost more).
BESIDE_MIN_AREAS = 2_000
#: Areas beyond which the workbook is made inline again: a country's 83,402 villages
#: take about a second, less than a child's imports and the 70 MB of tables it would be
#: sent. The figures have no such bound: the child gets the areas simplified to the
#: figures' resolution (a country's 8.8 million vertices down to 670,000, 14 MB) and
#: only the columns and sectors drawn.
BESIDE_MAX_AREAS = 20_000


def beside(n_areas: int) -> bool:
    """Whether a run of ``n_areas`` areas makes its workbook in a child process
    (:data:`BESIDE_MIN_AREAS` to :data:`BESIDE_MAX_AREAS`).

    Parameters
    ----------
    n_areas
        The run's areas of analysis.
    """
    return BESIDE_MIN_AREAS <= n_areas <= BESIDE_MAX_AREAS


def figures_beside_from(n_areas: int) -> bool:
    """Whether a run of ``n_areas`` areas draws its figures in a child process (from
    :data:`BESIDE_MIN_AREAS` on).

    Parameters
    ----------
    n_areas
        The run's areas of analysis.
    """
    return n_areas >= BESIDE_MIN_AREAS


#: The area x sector table's columns the figures read (the rest stays in this process).
FIGURE_COLUMNS = ("spec_bin", "gi_bin", "lisa_quadrant", "lisa_p_sim", "lisa_p")


def figures_beside(
    folder: Path,
    config: RunConfig,
    *,
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    counts: pd.DataFrame,
    sentra: pd.DataFrame,
    analysed: Sequence[str],
    outlines: Callable[[], gpd.GeoDataFrame | None],
    **inputs: Any,
) -> Beside[list[report_mod.Figure]]:
    """:func:`figures`, started in a child process to be drawn while the run goes on
    (:class:`~klastergeo.app.beside.Beside`), where :func:`figures_beside_from` says so
    and a core is spare; otherwise drawn inline when the result is asked for.

    Either way :func:`figures` is given the same inputs, so the figures are the same:
    the areas' shapes simplified to the figures' resolution
    (:func:`klastergeo.publish.figures.figure_shapes`, by the thread that sends the call,
    while the run goes on), and of ``table`` and ``counts`` only the columns and the
    sectors drawn (:func:`figure_sectors`). A country's villages are then sent as about
    110 MB instead of 570 MB.

    Parameters
    ----------
    folder, config, areas, sentra, analysed, **inputs
        As :func:`figures` takes them.
    table
        The area x sector table (sent with only :data:`FIGURE_COLUMNS`).
    counts
        Firms per (area, sector), every area with every sector (sent with only
        ``n_firms``).
    outlines
        Gives the ``outlines`` of :func:`figures`, called by the thread that sends the
        call to the child (they may still be being dissolved).

    Returns
    -------
    Beside
        Whose ``result()`` is what :func:`figures` returns.
    """
    from klastergeo.publish import figures as static

    sectors = figure_sectors(config, sentra, analysed)
    mapped = bool(len(sentra)) and isinstance(sentra, gpd.GeoDataFrame)
    if config.report.figures == "none" or not (sectors or mapped):  # nothing to draw
        return Beside(list, inline=True)
    shapes = areas.geometry

    def simplified() -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(geometry=static.figure_shapes(shapes))

    return Beside(
        figures,
        folder,
        config,
        table=_drawn(table, sectors, FIGURE_COLUMNS),
        counts=_drawn(counts, sectors, ("n_firms",)),
        sentra=sentra,
        analysed=analysed,
        simplified=True,
        inline=not figures_beside_from(len(areas)),
        later={"areas": simplified, "outlines": outlines},
        **inputs,
    )


def _drawn(frame: pd.DataFrame, sectors: list[str], columns: Sequence[str]) -> pd.DataFrame:
    """The rows of an area x sector table of ``sectors``, with those of ``columns`` it
    has."""
    rows = frame.index.get_level_values("sector").isin(sectors)
    return frame.loc[rows, [c for c in columns if c in frame.columns]]


def _area_figures(
    target: Path,
    lang: str,
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    sentra: pd.DataFrame,
    sectors: list[str],
    outlines: gpd.GeoDataFrame | None,
    source: str,
    place: str | None,
    *,
    simplified: bool = False,
) -> tuple[list[report_mod.Figure], list[Path]]:
    """The map of the sentra (as a figure) and the maps of ``sectors`` (their files),
    drawn on one canvas of the areas (drawing a province's villages takes a second)."""
    from klastergeo.publish import figures as static

    mapped = bool(len(sentra)) and isinstance(sentra, gpd.GeoDataFrame)
    if not (mapped or sectors):
        return [], []
    canvas = static.AreaCanvas(areas, outlines=outlines, simplified=simplified)
    try:
        out = _sentra_figure(target, lang, areas, sentra, outlines, source, place, canvas)
        if not sectors:
            return out, []
        written = static.sector_figures(
            areas,
            table,
            sectors,
            target,
            lang=lang,
            outlines=outlines,
            source=source,
            canvas=canvas,
        )
    finally:
        canvas.close()
    return out, written


def _sentra_figure(
    target: Path,
    lang: str,
    areas: gpd.GeoDataFrame,
    sentra: pd.DataFrame,
    outlines: gpd.GeoDataFrame | None,
    source: str,
    place: str | None = None,
    canvas: Any = None,
) -> list[report_mod.Figure]:
    """The static map of the sentra (``figures/sentra.png``), as the one figure of a list;
    none without sentra polygons. Drawn on ``canvas`` when given (left as it was)."""
    from klastergeo.publish import figures as static

    if not len(sentra) or not isinstance(sentra, gpd.GeoDataFrame):
        return []
    t = report_mod.TEXT[lang]
    target.mkdir(parents=True, exist_ok=True)
    path = static.sentra_map(
        areas,
        sentra,
        target / "sentra.png",
        title=t["sentra_map_of"].format(place=place) if place else t["sentra_map"],
        legend=t["sentra"],
        outlines=outlines,
        note=source,
        canvas=canvas,
    )
    return [report_mod.Figure(f"figures/{path.name}", t["sentra_map"], kind="sentra")]


def report_page(
    folder: Path,
    config: RunConfig,
    record: RunRecord,
    *,
    sentra: pd.DataFrame,
    global_stats: pd.DataFrame,
    fitted: dict[str, regression.ModelResult],
    shown: list[report_mod.Figure],
    has_map: bool,
    related: pd.DataFrame | None = None,
    missing: pd.DataFrame | None = None,
    measures: dict[str, pd.DataFrame] | None = None,
) -> None:
    """``report.html`` (:func:`klastergeo.publish.report.build_report`).

    Parameters
    ----------
    folder
        The output folder.
    config
        The configuration: ``map.lang``, and ``map.title`` (the report's subtitle).
    record
        The run's record (``summary.json``).
    sentra, global_stats
        The sentra table and the per-sector global statistics.
    fitted
        The fitted models by kind.
    shown
        The figures to show (:func:`figures`).
    has_map
        Whether the run writes ``map.html``, which the report then embeds.
    related
        The sentra's related industries (``related.csv``), or None.
    missing
        The links the sentra lack (``missing_links.csv``), or None.
    measures
        Per measure (firms too, first), its published statistics (a section of its own).
    """
    page = report_mod.build_report(
        record,
        sentra=sentra,
        global_stats=global_stats,
        models=fitted,
        figures=shown,
        map_file="map.html" if has_map else None,
        lang=config.map.lang,
        subtitle=config.map.title or "",
        related=related,
        missing=missing,
        measures=measures,
    )
    write_text(folder / "report.html", page)


def index_page(
    folder: Path, config: RunConfig, record: RunRecord, shown: list[report_mod.Figure]
) -> None:
    """``index.html``, the landing page linking the files the run writes.

    Parameters
    ----------
    folder
        The output folder; only files present in it are linked.
    config
        The configuration: ``map.lang`` and ``map.title``.
    record
        The run's record (``summary.json``).
    shown
        The report's figures; those under ``figures/`` are shown.
    """
    write_text(
        folder / "index.html",
        publish_mod.index_page(
            record,
            folder,
            lang=config.map.lang,
            title=config.map.title,
            figures=[f.src for f in shown if f.src.startswith("figures/")],
            captions={f.src: f.caption for f in shown},
        ),
    )


def with_reasons(
    candidates: pd.DataFrame | None, config: RunConfig, n_areas: int
) -> pd.DataFrame | None:
    """The near misses with their ``reason`` in the run's language (``map.lang``), from
    the values as published (:func:`klastergeo.publish.sentences.near_miss_reasons`).

    Parameters
    ----------
    candidates
        The near misses (:func:`klastergeo.analysis.sentra.near_misses`); None for none.
    config
        The configuration: ``map.lang`` and the sentra rules.
    n_areas
        The areas tested.
    """
    if candidates is None:
        return None
    options = config.sentra
    reasons = sentences.near_miss_reasons(
        candidates,
        config.map.lang,
        n_areas=n_areas,
        confidence=options.confidence,
        lq_threshold=options.lq_threshold,
        min_firms=options.min_firms,
    )
    return candidates.assign(reason=pd.Series(reasons, index=candidates.index, dtype=object))


def near_miss_summary(candidates: pd.DataFrame | None, *, examples: int = 5) -> NearMisses:
    """How many near misses there are, how many failed each rule, and the reasons of the
    ``examples`` with the most firms (``summary.json`` ``candidates``).

    Parameters
    ----------
    candidates
        The near misses (:func:`klastergeo.analysis.sentra.near_misses`); None for none.
    examples
        How many reasons to keep.
    """
    if candidates is None or not len(candidates):
        return NearMisses()
    failed = candidates["failed"].str.split(";").explode().value_counts()
    largest = candidates.sort_values("n_firms", ascending=False, kind="stable").head(examples)
    return NearMisses(
        count=len(candidates),
        failed={str(k): int(v) for k, v in failed.items()},
        largest=[
            f"{sector} {area}: {reason}"
            for area, sector, reason in zip(
                largest.index.get_level_values("area_code"),
                largest.index.get_level_values("sector"),
                largest["reason"],
                strict=True,
            )
        ],
    )


def run_summary(
    config: RunConfig,
    head: dict[str, Any],
    *,
    report: records_mod.ValidationReport,
    areas: gpd.GeoDataFrame,
    firms_per_area: pd.Series,
    weights_info: dict[str, Any],
    analysed: tuple[str, ...],
    skipped: dict[str, int],
    sentra: pd.DataFrame,
    model_notes: dict[str, Any],
    not_computed: list[dict[str, Any]],
    timings: dict[str, float],
    candidates: pd.DataFrame | None = None,
    colocation: dict[str, Any] | None = None,
    predictors_left_out: Sequence[Mapping[str, Any]] = (),
    study_area_name: str | None = None,
) -> RunRecord:
    """The record of a run (``summary.json``; the manifest is added at the commit).

    Parameters
    ----------
    config
        The run's configuration (``area.level`` and ``area.code``; recorded whole).
    head
        The first keys (version, status, created, seed).
    report
        The validation report; its summary is ``records``.
    areas
        The areas of analysis, counted.
    firms_per_area
        Firms per area; the areas with firms are counted.
    weights_info
        The weights' summary (:class:`~.weighting.Weights` ``info``).
    analysed, skipped
        The analysed sectors, and the skipped ones with their numbers of firms.
    sentra
        The sentra table, counted per ``sector``.
    model_notes
        Per model kind, its fit statistics or why it was skipped.
    not_computed
        What could not be computed, and why (the notes of the steps).
    timings
        Seconds taken by each step.
    candidates
        The near misses of the sentra rules (``candidates.csv``); ``candidates`` counts
        them, how many failed each rule, and the reasons of the largest five.
    colocation
        What co-location measured and wrote (sectors tested, sector pairs computed and
        written to ``colocation.csv``); None when it was not measured.
    predictors_left_out
        The default predictors the models went without, and why
        (:func:`klastergeo.app.pipeline.probabilities.left_out`).
    study_area_name
        The study area's name (``Kabupaten Klaten``), when the boundaries give one.
    """
    return RunRecord.from_json(head).replace(
        order=(),
        records=RecordsRecord.from_json(report.summary()),
        areas=AreasRecord(
            level=config.area.level,
            study_area=config.area.code,
            study_area_name=study_area_name,
            count=len(areas),
            with_firms=int((firms_per_area > 0).sum()),
            weights=weights_info,
        ),
        sectors=SectorsRecord(analysed=[str(s) for s in analysed], skipped_few_firms=skipped),
        sentra=len(sentra),
        sentra_by_sector={
            str(k): int(v) for k, v in sentra["sector"].value_counts().sort_index().items()
        }
        if len(sentra)
        else {},
        candidates=near_miss_summary(candidates),
        colocation=colocation,
        models=model_notes,
        predictors_left_out=[LeftOut.from_json(item) for item in predictors_left_out],
        not_computed=[NotComputed.from_json(item) for item in not_computed],
        timings=timings,
        config=ConfigRecord.from_json(config.to_dict()),
        versions=versions(),
    )
