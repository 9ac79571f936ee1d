"""The whole job as explicit steps: registry -> study area -> counts -> weights ->
statistics -> sentra -> profiles -> models -> map -> report and outputs.

:func:`run` reads as the list of those steps. Each is a function of its own module that
takes and returns small frozen dataclasses (:class:`~.study.StudyArea`,
:class:`~.intake.Intake`, :class:`~.counting.Counts`, :class:`~.weighting.Weights`,
:class:`~.statistics.Statistics`, :class:`~.delineation.Delineation`,
:class:`~.profiling.Profiles`, :class:`~.probabilities.Models`); the kind of area (admin
level, H3, custom polygons) is decided once, by the study area; :mod:`~.writer` writes
every file into one staging folder committed at the end (:class:`klastergeo.io.files.RunFolder`).

Outputs of a run (``config.out``): ``summary.json``, ``rejected.csv``, ``repaired.csv``,
``areas.parquet``, ``sentra.csv``/``.geojson``, ``sentra_areas.csv``, ``global.csv``,
``firms/`` (GeoParquet by province), the profile tables, ``models/``, ``map.html``,
``report.html`` with ``figures/``, and ``index.html``.
"""

from __future__ import annotations

import dataclasses
import logging
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from klastergeo.analysis import regression
from klastergeo.app.beside import Beside
from klastergeo.app.config import RunConfig
from klastergeo.app.pipeline import (
    assembly,
    coverage,
    firm_output,
    intake,
    probabilities,
    writer,
)
from klastergeo.app.pipeline._steps import Notes, Reporter, Steps, arrow_pool, header
from klastergeo.app.pipeline.commands import run_area_model, run_models, validate_run
from klastergeo.app.pipeline.counting import Counts, check_counts, count, count_from_file
from klastergeo.app.pipeline.delineation import Delineation, find_sentra
from klastergeo.app.pipeline.firm_columns import FirmColumns, LazyFirms, frame_of
from klastergeo.app.pipeline.intake import rejection_folder, validate_only, validation_problem
from klastergeo.app.pipeline.profiling import (
    Profiles,
    check_colocation,
    profile,
    profile_counts,
)
from klastergeo.app.pipeline.protection import Protection, protect
from klastergeo.app.pipeline.statistics import Statistics, analyse
from klastergeo.app.pipeline.study import StudyArea, study_area
from klastergeo.app.pipeline.weighting import Weights, build_weights
from klastergeo.errors import ConfigError, ValidationError
from klastergeo.io.files import RunFolder
from klastergeo.io.registry import batches
from klastergeo.io.registry import records as records_mod
from klastergeo.publish import gis, workbook
from klastergeo.publish import report as report_mod
from klastergeo.publish.record import DisclosureRecord, OutputNote, RunRecord
from klastergeo.schema import SENTRA_INDEX

if TYPE_CHECKING:
    from libpysal.graph import Graph

__all__ = [
    "MODEL_STEPS",
    "SENTRA_STEPS",
    "STEPS",
    "Reporter",
    "RunParts",
    "RunResult",
    "rejection_folder",
    "run",
    "run_area_model",
    "run_models",
    "validate_only",
    "validate_run",
    "validation_problem",
]

logger = logging.getLogger(__name__)

STEPS = (
    "boundaries",
    "read",
    "validate",
    "aggregate",
    "weights",
    "statistics",
    "sentra",
    "profile",
    "models",
    "protect",
    "map",
    "write",
    "report",
)
#: The steps ``klastergeo sentra`` runs (no models, no map).
SENTRA_STEPS = tuple(s for s in STEPS if s not in ("models", "map"))
#: The steps of ``klastergeo model`` on a registry column (no areas needed).
MODEL_STEPS = ("read", "validate", "models", "write")


@dataclass
class RunResult:
    """What a run produced (the same content as the files it wrote).

    ``record`` is the run's typed record (``summary.json``; :attr:`summary` as JSON).
    ``sentra`` has one row per sentra with ``sentra_id`` a column, as in ``sentra.csv``
    and every other file (a GeoDataFrame of the sentra polygons, EPSG:4326).
    ``areas`` are the areas of analysis with their statistics, one row per area
    (indexed by area code, EPSG:4326): ``name``, ``n_firms`` and, per analysed sector
    ``s``, ``n_firms_s``, ``lq_s``, ``lq_low_s``, ``lq_high_s``, ``spec_bin_s``,
    ``gi_bin_s``, ``lisa_s`` and ``sentra_s`` (the columns of ``areas.gpkg``);
    :meth:`sector` gives every statistic of one sector; ``table`` is the long table.
    ``firms`` are read from the run's firms output when first asked for (a national
    registry's firms are not held in memory); ``firm_columns`` are the few columns of
    every firm the steps used, indexed by position.
    """

    out: Path
    validation: records_mod.ValidationReport
    areas: gpd.GeoDataFrame
    table: pd.DataFrame
    sentra: gpd.GeoDataFrame
    global_stats: pd.DataFrame
    models: dict[str, regression.ModelResult] = field(default_factory=dict)
    members: pd.DataFrame | None = None
    candidates: pd.DataFrame | None = None  # near misses (candidates.csv)
    concentration: pd.DataFrame | None = None
    typology: pd.DataFrame | None = None
    diagnosis: pd.DataFrame | None = None
    related: pd.DataFrame | None = None  # related.csv (co-location per sentra)
    colocated: pd.DataFrame | None = None  # the related industries' firms (positions)
    missing_links: pd.DataFrame | None = None  # missing_links.csv
    colocation: pd.DataFrame | None = None  # colocation.csv (global CLQ of the pairs)
    graph: Graph | None = None  # the libpysal Graph the statistics used
    sample: pd.DataFrame | None = None  # the models' sample strata, when sampled
    #: Per measure of ``analysis.measures`` other than firms, and then firms too, its
    #: statistics per area and sector (``measures.csv``;
    #: :func:`klastergeo.analysis.measure.measure_statistics`).
    measures: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: What the files may show (:class:`~.protection.Protection`): the tables above are
    #: as published, suppressed sums blank and marked in ``<measure>_flag`` columns.
    disclosure: Protection | None = field(default=None, repr=False)
    #: The run's record, as its ``summary.json`` holds it (without the file manifest).
    record: RunRecord = field(default_factory=RunRecord)
    _firms: gpd.GeoDataFrame | None = field(default=None, repr=False)
    #: The few columns of every firm the steps used, made when first asked for.
    lazy_columns: LazyFirms | pd.DataFrame | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        """One line: the study area, the firms, areas, sectors and sentra, the folder."""
        from klastergeo.app.pipeline.display import result_repr

        return result_repr(self)

    def _repr_html_(self) -> str:
        """A notebook's view: the headline numbers, the largest sentra and links to the
        run's pages, in the run's language."""
        from klastergeo.app.pipeline.display import result_html

        return result_html(self)

    @property
    def summary(self) -> dict[str, Any]:
        """The run's ``summary.json`` content (:attr:`record` as JSON; without the file
        manifest)."""
        return self.record.to_json()

    def sector(self, code: str) -> gpd.GeoDataFrame:
        """The areas with every statistic of one sector (the long table's rows of that
        sector: counts, LQ and interval, ``spec_*``, ``gi_*``, ``lisa_*``, sentra, model
        probabilities), with the area's ``name`` and geometry, indexed by area code.

        Parameters
        ----------
        code
            An analysed sector (e.g. ``"25"``).
        """
        sectors = self.table.index.get_level_values("sector").astype(str)
        if str(code) not in set(sectors):
            raise ConfigError(
                f"sector {code!r} is not in this run's table; its sectors are "
                f"{', '.join(sorted(set(sectors)))}"
            )
        rows = self.table.loc[sectors == str(code)].droplevel("sector")
        shapes = self.areas[["name", self.areas.geometry.name]]
        return gpd.GeoDataFrame(shapes.join(rows, how="left"), crs=self.areas.crs)

    @property
    def firm_columns(self) -> pd.DataFrame:
        """The few columns of every firm the steps used (area, sector, sizes,
        coordinates, sentra), by position: made when first asked for (a national
        registry's are many)."""
        if self.lazy_columns is None:
            return pd.DataFrame()
        return frame_of(self.lazy_columns)

    @property
    def firms(self) -> gpd.GeoDataFrame:
        """Every kept firm with the run's columns (read from ``out/firms``), in file
        order, indexed by record id."""
        if self._firms is None:
            self._firms = firm_output.read_firms(self.out)
        return self._firms


@dataclass(frozen=True)
class RunParts:
    """What the steps of a run made that its files are written from, beside its
    :class:`RunResult`: the study area, the counts, the weights, the statistics, the
    profiles, the fitted models, and the map (None when none is drawn)."""

    study: StudyArea
    counts: Counts
    weights: Weights
    stats: Statistics
    profiles: Profiles
    fitted: probabilities.Models
    fmap: Any = None  # a folium Map
    columns: FirmColumns | None = None  # the run's columns of every firm, made per part


def run(
    config: RunConfig,
    *,
    reporter: Reporter | None = None,
    sentra_only: bool = False,
    skip_map: bool = False,
    survey: intake.Survey | None = None,
) -> RunResult:
    """Run the whole pipeline and write its outputs into ``config.out``.

    Raises :class:`~klastergeo.errors.KlastergeoError` subclasses for bad input,
    configuration or environment (the CLI exits with code 2); the outputs of an earlier
    run in ``config.out`` stay untouched unless the run completes.

    Parameters
    ----------
    config
        The run's configuration; every section is used, and the outputs go to
        ``config.out``.
    reporter
        Receives the progress of every step (default: progress is only logged).
    sentra_only
        Stop after the sentra and their profiles (``klastergeo sentra``): no models and
        no map.
    skip_map
        Fit the models but draw no map (``klastergeo model``).
    survey
        The period this run is of, inside a run over surveys
        (:func:`klastergeo.app.pipeline.periods.run_periods`): a stop at validation reports
        beside the run over surveys' ``--out`` and names its registry.

    Returns
    -------
    RunResult
        The tables of the run and its record (the content of the files written).

    Examples
    --------
    >>> result = run(load_config("klastergeo.toml"))  # doctest: +SKIP
    """
    _check_one_registry(config)
    steps = Steps(reporter)
    from_counts = config.counts.given
    if from_counts:
        check_counts(config)
    else:
        intake.check_records(config)  # before the output folder, boundaries or the registry
        check_colocation(config)
    # checked, locked, then computing; the work started beside stopped if the run stops
    with RunFolder(config.out) as folder, arrow_pool(), ExitStack() as beside:
        study = steps("boundaries", study_area, config)
        study.prefetch_outlines()  # dissolved on a second core while the records are read
        records, counts, predictors = _read_and_count(config, steps, folder, study, survey)
        options = config.analysis
        weights, stats, parents, found = _of_areas(config, steps, study, counts)
        drawn = beside.enter_context(
            _figures(folder.path, config, study, counts, weights, stats, found)
        )
        columns, firms = _firm_columns(counts, found)
        profiles = _profile(config, steps, study, counts, stats, found, firms, columns)
        columns = columns.with_related(assembly.related_firms(_related(profiles)))
        fitted = _fit(
            config, steps, firms, predictors, weights, records, columns, sentra_only=sentra_only
        )
        result = _result(
            config, records, counts, stats, weights, found, firms, profiles, fitted,
            ancestors=study.ancestors(counts.areas),
        )  # fmt: skip
        guard = steps(
            "protect", protect, config, counts, found, _frame_or_lazy(result), counts.store,
            columns, probability_n=fitted.means.cells.get("n"),
        )  # fmt: skip
        result = guard.public(result)  # what every file, page and workbook shows
        result.candidates = writer.with_reasons(
            result.candidates, config, len(weights.graph.unique_ids)
        )
        if counts.source is not None:  # no firms output to read them from: there are none
            result._firms = counts.store.frame()
        profiles = _published_profiles(profiles, result)
        head = header(
            "sentra" if sentra_only else "complete", options.seed, timestamp=config.output.timestamp
        )
        parts = RunParts(study, counts, weights, stats, profiles, fitted, columns=columns)
        book = beside.enter_context(_workbook(folder.path, config, steps, head, result, parts))
        fmap = None
        if not (sentra_only or skip_map):
            fmap = steps(
                "map", assembly.draw_map, config, study, result, parents, fitted.best,
                counts.store, steps.notes, survey.period if survey else None,
                means=fitted.means.areas,
            )  # fmt: skip
        parts = dataclasses.replace(parts, fmap=fmap)
        result.record = _write_run(folder, config, steps, head, result, parts, (drawn, book))
    logger.info("run finished: %d sentra, outputs in %s", len(result.sentra), config.out)
    # the steps work on the sentra indexed by their id; the result gives it as a column
    result.sentra = result.sentra.rename_axis(SENTRA_INDEX).reset_index()
    return result


def _of_areas(
    config: RunConfig, steps: Steps, study: StudyArea, counts: Counts
) -> tuple[Weights, Statistics, pd.Series | None, Delineation]:
    """The ``weights``, ``statistics`` and ``sentra`` steps (of the areas' counts)."""
    options = config.analysis
    weights = steps(
        "weights", build_weights, options, counts.areas, counts.firms_per_area,
        h3=study.kind == "h3",
    )  # fmt: skip
    stats = steps("statistics", analyse, options, counts, weights, steps.notes, steps.progress)
    parents, found = steps("sentra", _sentra, config, study, counts, stats, weights, steps.notes)
    return weights, stats, parents, found


def _firm_columns(counts: Counts, found: Delineation) -> tuple[FirmColumns, LazyFirms]:
    """What the run's columns of every firm are made of, and the firms' frame, made only
    when a step asks for it (a registry of more than ``model.max_firms`` firms works
    block by block: none asks)."""
    columns = assembly.firm_columns(found, counts)
    firms = LazyFirms(
        lambda: assembly.firms_with_sentra(counts.firms, found, counts), len(counts.store)
    )
    return columns, firms


def _related(profiles: Profiles) -> pd.DataFrame | None:
    """The firms of the sentra's related industries (None without co-location)."""
    return profiles.colocation.firms if profiles.colocation is not None else None


def _frame_or_lazy(result: RunResult) -> pd.DataFrame | LazyFirms:
    """The firms' frame as the steps hold it (made only if a step asks)."""
    return result.lazy_columns if result.lazy_columns is not None else pd.DataFrame()


def _published_profiles(profiles: Profiles, result: RunResult) -> Profiles:
    """The profiles as the files show them (:meth:`~.protection.Protection.public`)."""
    return dataclasses.replace(
        profiles,
        concentration=_given(result.concentration, profiles.concentration),
        typology=_given(result.typology, profiles.typology),
        diagnosis=_given(result.diagnosis, profiles.diagnosis),
    )


def _given(shown: pd.DataFrame | None, computed: pd.DataFrame) -> pd.DataFrame:
    return computed if shown is None else shown


def _check_one_registry(config: RunConfig) -> None:
    """Refuse a configuration that asks for a run per survey period: :func:`run` runs
    one registry (:func:`klastergeo.app.pipeline.periods.run_periods` runs several)."""
    if not (config.records.period_col or config.records.files or config.counts.files):
        return
    given = (
        f"records.period_col={config.records.period_col!r}"
        if config.records.period_col
        else f"records.files ({len(config.records.files)} registries)"
        if config.records.files
        else f"counts.files ({len(config.counts.files)} counts files)"
    )
    raise ConfigError(
        f"{given} asks for a run per survey period, which `klastergeo run` and "
        "`klastergeo sentra` make (from Python: klastergeo.app.pipeline.periods.run_periods); "
        "this function runs one registry"
    )


def _read_and_count(
    config: RunConfig,
    steps: Steps,
    folder: RunFolder,
    study: StudyArea,
    survey: intake.Survey | None,
) -> tuple[intake.Intake, Counts, probabilities.Predictors]:
    """The ``read``, ``validate`` and ``aggregate`` steps: the validated records, their
    counts per area and the models' predictors (checked, not read; none for counts per
    area, which are read, checked and counted in one step)."""
    if config.counts.given:
        records, counts = steps("read", count_from_file, config, study)
        _stop_at_counts(config, records.validation, counts, steps, survey)
        return records, counts, probabilities.Predictors()
    registry = steps("read", intake.read, config, folder.scratch(), steps.progress)
    records, predictors = steps("validate", _validate, config, registry, study, steps, survey)
    counts = steps("aggregate", count, config, study, records)
    return records, counts, predictors


def _profile(
    config: RunConfig,
    steps: Steps,
    study: StudyArea,
    counts: Counts,
    stats: Statistics,
    found: Delineation,
    firms: gpd.GeoDataFrame,
    columns: FirmColumns,
) -> Profiles:
    """The ``profile`` step: of the firms, or of the counts per area (which have no
    firms to write or mark on the map: noted)."""
    if counts.source is None:
        return steps(
            "profile", profile, config, study, firms, found.sentra, stats.analysed,
            steps.notes, counts.store, tally=None if counts.resolution else counts.tally,
            columns=columns,
        )  # fmt: skip
    profiles = steps(
        "profile", profile_counts, config, study, counts.counts, found.sentra, steps.notes
    )
    steps.notes.add("write", "firm_output", "counts_firms", warn=False)
    return profiles


def _fit(
    config: RunConfig,
    steps: Steps,
    firms: LazyFirms,
    predictors: probabilities.Predictors,
    weights: Weights,
    records: intake.Intake,
    columns: FirmColumns,
    *,
    sentra_only: bool,
) -> probabilities.Models:
    """The ``models`` step (none for ``klastergeo sentra``, nor for counts per area,
    whose models would be of firms: noted)."""
    if sentra_only:
        return probabilities.Models()
    if config.counts.given:
        steps.notes.add("models", "firm_models", "counts_models", warn=False)
        return probabilities.Models()
    return steps(
        "models", _models, config, firms, predictors, weights, records, steps.notes, columns
    )


def _validate(
    config: RunConfig,
    registry: batches.Registry,
    study: StudyArea,
    steps: Steps,
    survey: intake.Survey | None,
) -> tuple[intake.Intake, probabilities.Predictors]:
    """Validate the records (and check the model predictors, failing early on unknown
    ones or values that are no numbers); stop where validation keeps nothing, or finds
    a problem with ``--strict``."""
    records = intake.validate(config, registry, study.polygons, steps.progress)
    predictors = probabilities.predictors(config, records.validation, records.firms)
    _stop_at_validation(config, records.validation, steps, survey, study.source)
    return records, predictors


def _sentra(
    config: RunConfig,
    study: StudyArea,
    counts: Counts,
    stats: Statistics,
    weights: Weights,
    notes: Notes | None = None,
) -> tuple[pd.Series | None, Delineation]:
    """The areas' parent names (for sentra names and the map) and the sentra."""
    parents = study.parents(counts.areas)
    return parents, find_sentra(config, counts, stats, weights, parents, notes=notes)


def _models(
    config: RunConfig,
    firms: LazyFirms,
    predictors: probabilities.Predictors,
    weights: Weights,
    records: intake.Intake,
    notes: Notes,
    columns: FirmColumns | None = None,
) -> probabilities.Models:
    """The firm-level models of ``[model]``; a kind that cannot be estimated is noted."""
    fitted = probabilities.fit_models(
        config, firms, predictors, weights.graph, records.validation, records.firms, run=columns
    )
    for kind, fit in fitted.notes.items():
        if "skipped" in fit:
            notes.add("models", "model", "error", warn=False, model=kind, error=fit["skipped"])
    if not fitted.fitted:
        return fitted
    lost = probabilities.left_out(config, records.validation, predictors)
    for item in lost:
        logger.info("models: %s", probabilities.left_out_text(item))  # the summary says it
    return dataclasses.replace(fitted, left_out=lost)


def _result(
    config: RunConfig,
    records: intake.Intake,
    counts: Counts,
    stats: Statistics,
    weights: Weights,
    found: Delineation,
    firms: gpd.GeoDataFrame,
    profiles: Profiles,
    fitted: probabilities.Models,
    *,
    ancestors: pd.DataFrame | None = None,
) -> RunResult:
    """The tables of the run, every step's columns in place (``ancestors``: the names
    of each area's parents, :meth:`~.study.StudyArea.ancestors`)."""
    located = profiles.colocation
    related = located.firms if located is not None else None
    table, sentra = assembly.with_probabilities(
        assembly.table_with_sentra(stats.table, found),
        assembly.profiled_sentra(found.sentra, profiles),
        fitted,
        config.model.outcome,
    )
    columns = LazyFirms(lambda: assembly.with_colocated(frame_of(firms), related), len(firms))
    return RunResult(
        out=Path(config.out),
        validation=records.validation,
        lazy_columns=columns,
        areas=gis.areas_layer(counts.areas, table, stats.analysed, parents=ancestors),
        table=table,
        sentra=sentra,
        global_stats=stats.global_stats,
        models=fitted.fitted,
        members=found.members,
        candidates=found.candidates,
        concentration=profiles.concentration,
        typology=profiles.typology,
        diagnosis=profiles.diagnosis,
        related=located.related if located is not None else None,
        colocated=located.firms if located is not None else None,
        missing_links=located.missing if located is not None else None,
        colocation=located.table if located is not None else None,
        graph=weights.graph,
        sample=fitted.sample,
        measures=stats.measures,
    )


def _stop_at_counts(
    config: RunConfig,
    report: records_mod.ValidationReport,
    counts: Counts,
    steps: Steps,
    survey: intake.Survey | None = None,
) -> None:
    """Stop a run on counts whose file gives nothing usable (no row kept, no area with
    a known count, no firm), or, with ``--strict``, any rejected row (totals rows and
    footnotes aside); its report goes beside the previous outputs."""
    where = rejection_folder(config.out if survey is None else survey.config.out)
    # rows mostly of other areas than --area: the wrong study area, said where they lie
    name = repr(str(config.counts.path)) if survey is None else survey.source(config)
    problem = coverage.check(config, report, where=where, registry=name)
    if problem is None:
        problem = intake.stop_error(config, report, where, survey=survey)
    if problem is None and (not len(counts.areas) or not counts.counts["n_firms"].sum()):
        unknown = len(counts.source.unknown) if counts.source is not None else 0
        problem = ValidationError(
            f"counts file {str(config.counts.path)!r} gives no usable count: "
            + (
                f"every area of the study area has an unknown count ({unknown} areas with "
                "a blank cell or a rejected row)"
                if not len(counts.areas)
                else "every count is 0"
            )
            + f"; the outputs in {str(config.out)!r} are unchanged; see "
            f"{str(where / 'rejected.csv')!r}"
        )
    if problem is not None:
        head = header(
            "stopped after validation", config.analysis.seed, timestamp=config.output.timestamp
        )
        if survey is not None:
            head["period"] = survey.period
            config = survey.config
        writer.rejection_report(where, config, report, head, steps.timings)
        raise problem


def _stop_at_validation(
    config: RunConfig,
    report: records_mod.ValidationReport,
    steps: Steps,
    survey: intake.Survey | None = None,
    source: Path | None = None,
) -> None:
    """Stop a run whose placed records lie mostly outside the study area
    (:func:`~.coverage.check`: the wrong ``--area``), or whose validation keeps nothing
    (or, with ``--strict``, finds any problem): its report goes beside the previous
    outputs, which stay as they are (for a period of a run over surveys: beside the run
    over surveys' outputs)."""
    where = rejection_folder(config.out if survey is None else survey.config.out)
    registry = None if survey is None else survey.source(config)
    problem = coverage.check(config, report, source=source, where=where, registry=registry)
    if problem is None:
        problem = intake.stop_error(config, report, where, survey=survey)
    if problem is not None:
        head = header(
            "stopped after validation", config.analysis.seed, timestamp=config.output.timestamp
        )
        if survey is not None:  # the report names the user's registry and options
            head["period"] = survey.period
            config = survey.config
        writer.rejection_report(where, config, report, head, steps.timings)
        raise problem


def _write_run(
    folder: RunFolder,
    config: RunConfig,
    steps: Steps,
    head: dict[str, Any],
    result: RunResult,
    parts: RunParts,
    beside: tuple[Beside[list[report_mod.Figure]], Beside[Any]],
) -> RunRecord:
    """Every output file, the report and the record, then the commit (the ``write``
    and ``report`` steps; the figures and the workbook, started ``beside``, collected
    by the report and by the files). Returns the record (``summary.json`` without the
    manifest)."""
    drawn, book = beside
    record = _record(config, steps, head, result, parts)
    with steps.timed("write"):  # while the figures are drawn beside
        _write_files(folder, config, steps, record, result, parts, book)
    with steps.timed("report"):
        shown = _report(folder.path, config, record, result, parts, drawn)
        folder.sync()  # the figures' files, written by matplotlib
        writer.index_page(folder.path, config, record, shown)
    record = record.replace(timings=dict(steps.timings), peak_rss_mb=dict(steps.memory))
    if folder.notes:  # what the writers changed to fit a format (a column renamed, a cell cut)
        record = record.replace(output_notes=[OutputNote(**n) for n in folder.notes])
    folder.commit(record.to_json())
    return record


def _record(
    config: RunConfig, steps: Steps, head: dict[str, Any], result: RunResult, parts: RunParts
) -> RunRecord:
    """The run's record before its files are written (timings to come)."""
    counts, located = parts.counts, parts.profiles.colocation
    record = writer.run_summary(
        config,
        head,
        report=result.validation,
        areas=result.areas,
        firms_per_area=counts.firms_per_area,
        weights_info=parts.weights.info,
        analysed=parts.stats.analysed,
        skipped=parts.stats.skipped,
        sentra=result.sentra,
        model_notes=parts.fitted.notes,
        predictors_left_out=parts.fitted.left_out,
        not_computed=steps.notes.items,
        timings=steps.timings,
        candidates=result.candidates,
        colocation=located.info if located is not None else None,
        study_area_name=parts.study.name(),
    )
    return record.replace(
        disclosure=DisclosureRecord.from_json(result.disclosure.summary())
        if result.disclosure is not None
        else None,
        counts=counts.source.summary() if counts.source is not None else None,
    )


def _figures(
    stage: Path,
    config: RunConfig,
    study: StudyArea,
    counts: Counts,
    weights: Weights,
    stats: Statistics,
    found: Delineation,
) -> Beside[list[report_mod.Figure]]:
    """The report's figures, started beside the run from the sentra step on
    (:func:`~klastergeo.app.pipeline.writer.figures_beside`): what they show (the
    statistics' classes, the sentra's shapes and names, the counts) is final there, and
    the protection of small cells changes none of it."""
    return writer.figures_beside(
        stage,
        config,
        areas=counts.areas,
        table=stats.table,
        sentra=found.sentra,
        counts=counts.counts,
        graph=weights.graph,
        analysed=stats.analysed,
        outlines=study.figure_outlines,
        global_stats=stats.global_stats,
        place=study.name(),
    )


def _workbook(
    stage: Path,
    config: RunConfig,
    steps: Steps,
    head: dict[str, Any],
    result: RunResult,
    parts: RunParts,
) -> Beside[Any]:
    """``results.xlsx``, started beside the map and the other files where
    :func:`~.writer.beside` says so (its summary sheet reads nothing the map adds to the
    record)."""
    layer, fitted = result.areas, parts.fitted
    return Beside(
        workbook.write_workbook,
        stage / "results.xlsx",
        inline=not writer.beside(len(layer)),
        summary=_record(config, steps, head, result, parts),
        sentra=result.sentra,
        areas=workbook.key_columns(pd.DataFrame(layer.drop(columns=layer.geometry.name))),
        global_stats=writer.global_table(
            result.global_stats, parts.counts.counts, result.table, result.sentra
        ),
        coefficients={k: m.coefficients for k, m in fitted.fitted.items()},
        rejected=result.validation.rejected,
        lang=config.map.lang,
        measures=writer.measure_rows(result.measures) if result.measures else None,
        roles=writer.model_roles(result.validation),
    )


def _report(
    stage: Path,
    config: RunConfig,
    record: RunRecord,
    result: RunResult,
    parts: RunParts,
    drawn: Beside[list[report_mod.Figure]],
) -> list[report_mod.Figure]:
    """The figures (drawn beside) and ``report.html`` (the ``report`` step); returns the
    figures."""
    shown = drawn.result()
    writer.report_page(
        stage,
        config,
        record,
        sentra=result.sentra,
        global_stats=result.global_stats,
        fitted=parts.fitted.fitted,
        shown=shown,
        has_map=parts.fmap is not None,
        related=result.related,
        missing=result.missing_links,
        measures=result.measures,
    )
    return shown


def _write_files(
    folder: RunFolder,
    config: RunConfig,
    steps: Steps,
    record: RunRecord,
    result: RunResult,
    parts: RunParts,
    book: Beside[Any],
) -> None:
    """Every data file, layer, workbook (``book``, started beside), model table and the
    map (the ``write`` step; the start page, which links what is there, comes after the
    report)."""
    from klastergeo.publish import maps

    stage, counts, fitted = folder.path, parts.counts, parts.fitted
    global_rows = writer.global_table(
        result.global_stats, counts.counts, result.table, result.sentra
    )
    locale = config.output.csv_locale
    writer.validation_reports(stage, result.validation, locale=locale, lang=config.map.lang)
    if counts.source is None:  # counts per area have no firms to write
        firm_output.write_firms(
            stage,
            counts.store,
            writer.firm_columns(result.firm_columns)
            if parts.columns is None
            else parts.columns.added,
            by_province=parts.study.nested,
            progress=lambda done, total: steps.progress("writing firms", done, total),
            gpkg=config.output.firms_gpkg,
            created=record.created,
            predict=fitted.predict,  # each part's probabilities, computed as it is written
            scheduler=config.records.scheduler,
        )
    writer.run_tables(
        stage,
        table=result.table,
        sentra=result.sentra,
        global_stats=global_rows,
        profiles=parts.profiles,
        members=result.members,
        bands=parts.weights.bands,
        candidates=result.candidates,
        locale=locale,
        measures=result.measures,
        lang=config.map.lang,
    )
    _layers_and_workbook(stage, config, record, result, book)
    writer.model_outputs(
        stage,
        None,
        fitted.fitted,
        fitted.sample,
        locale=locale,
        lang=config.map.lang,
        roles=writer.model_roles(result.validation),  # tenaga_kerja: titled "Tenaga kerja"
    )
    if parts.fmap is not None:
        maps.save_map(parts.fmap, stage / "map.html")
    writer.radar_charts(stage, config, parts.profiles.diagnosis, result.sentra)


def _layers_and_workbook(
    stage: Path, config: RunConfig, record: RunRecord, result: RunResult, book: Beside[Any]
) -> None:
    """``areas.gpkg`` and ``sentra.gpkg`` (GIS), and ``results.xlsx`` (spreadsheet)."""
    layer = result.areas
    lang = config.map.lang
    gis.write_layers(stage, layer=layer, sentra=result.sentra, created=record.created, lang=lang)
    gis.write_measure_layers(
        stage, areas=layer, measures=result.measures, created=record.created, lang=lang
    )
    book.result()
