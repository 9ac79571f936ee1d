"""The record steps: read the registry and validate it against the study area.

The step takes the configuration and the study area and returns :class:`Intake` (the
kept firms and the validation report). It is the one place later steps get firms from,
so a streaming reader can replace it without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from klastergeo.app.config import Columns, RunConfig, parse_level
from klastergeo.errors import ConfigError, Phrase, ValidationError
from klastergeo.io import boundaries
from klastergeo.io.registry import batches, distributed, placement
from klastergeo.io.registry import records as records_mod
from klastergeo.io.registry.firms import FirmStore
from klastergeo.io.registry.sources import Progress

__all__ = [
    "Intake",
    "Survey",
    "gazetteer",
    "read",
    "reason_text",
    "rejection_folder",
    "validate",
    "validate_only",
    "validation_problem",
]


@dataclass(frozen=True)
class Intake:
    """The validated registry: the kept firms (read back from their store, with the
    ``area_code`` of their area) and the report of every rejection and repair (whose
    ``records`` hold the kept firms' columns, not the firms: ``n_kept`` counts them)."""

    firms: FirmStore
    validation: records_mod.ValidationReport


@dataclass(frozen=True)
class Survey:
    """The period a run is of, inside a run over surveys
    (:mod:`klastergeo.app.pipeline.periods`): a stop at validation speaks of the run over
    surveys (its registry and ``--out``, beside which the rejection report goes), not
    of the period's intermediate file and staging folder."""

    period: str
    config: RunConfig  # the run over surveys' own configuration

    def source(self, config: RunConfig) -> str:
        """The period's registry as the user named it, with the period.

        Parameters
        ----------
        config
            The period's run's configuration (its registry, when the run over surveys
            has one registry per period).
        """
        path = (
            self.config.counts.path
            or self.config.records.path
            or config.counts.path
            or config.records.path
        )
        return f"{str(path)!r} (period {self.period})"


#: How the stages of the batch validation are named in progress reports.
_STAGES = {
    "stage": "reading the registry (bytes)",
    "check": "checking records",
    "commit": "writing kept firms (parts)",
}


def _named(progress: Progress | None) -> Progress | None:
    if progress is None:
        return None
    report = progress
    return lambda stage, done, total: report(_STAGES.get(stage, stage), done, total)


def read(
    config: RunConfig,
    workdir: Path,
    progress: Progress | None = None,
    *,
    need_sector: bool = True,
) -> batches.Registry:
    """The registry, opened for validation in batches (the ``read`` step): a CSV file is
    staged as Parquet, and number formats and the sector width are decided for the
    whole file.

    Parameters
    ----------
    config
        The run's configuration; reads ``config.records`` (``path``, which must be set,
        ``delimiter``, ``encoding``, ``sheet``, ``layer``, ``decimal``,
        ``crs`` and ``batch_size``) and ``config.columns``.
    workdir
        An empty folder for the staged registry and the spilled batches.
    progress
        Called as ``progress(stage, done, total)`` while the file is read.
    need_sector
        Whether the command needs each record's sector (False: ``klastergeo model`` of
        a registry column, which a survey without KBLI codes can give).
    """
    check_records(config)
    assert config.records.path is not None
    return batches.open_registry(
        config.records.path,
        workdir=workdir,
        batch_size=config.records.batch_size,
        columns=config.columns,
        decimal=config.records.decimal,
        delimiter=config.records.delimiter,
        encoding=config.records.encoding,
        sheet=config.records.sheet,
        layer=config.records.layer,
        progress=_named(progress),
        crs=config.records.crs,
        units=units_given(config),
        need_sector=need_sector,
    )


def units_given(config: RunConfig) -> dict[str, str | None]:
    """The units of the amounts given by ``records.output_unit`` and
    ``records.investment_unit`` (None: read from the header).

    Parameters
    ----------
    config
        The run's configuration.
    """
    return {"output": config.records.output_unit, "investment": config.records.investment_unit}


def check_records(config: RunConfig) -> None:
    """Fail now if the registry is not given or cannot be a registry, or its scheduler
    does not answer (before the boundaries are loaded and the file read).

    Parameters
    ----------
    config
        The run's configuration; reads ``config.records.path`` and ``scheduler``.
    """
    if config.records.path is None and config.records.files:
        raise ConfigError(
            f"records.files names {len(config.records.files)} registries; this command "
            "reads one: pass --records PATH once (run and sentra follow several periods)"
        )
    if config.records.path is None:
        raise ConfigError("no records file given; pass --records PATH or [records] path")
    records_mod.check_source(config.records.path)
    distributed.reach(config.records.scheduler)  # an address leading nowhere: now


def validate(
    config: RunConfig,
    registry: batches.Registry,
    areas: gpd.GeoDataFrame | None,
    progress: Progress | None = None,
) -> Intake:
    """Validate every record against the study area, batch by batch (the ``validate``
    step).

    Parameters
    ----------
    config
        The run's configuration; reads ``area.snap_m`` and ``records.sector_digits``.
    registry
        The registry as opened (:func:`read`).
    areas
        The study area's polygons, indexed by area code: records outside every area are
        rejected, and kept ones get their ``area_code``; None for no location check.
    progress
        Called as ``progress(stage, done, total)`` after each batch.
    """
    outcome = registry.validate(
        areas=areas,
        snap_m=config.area.snap_m,
        sector_digits=config.records.sector_digits,
        scheduler=config.records.scheduler,
        workers=config.records.workers,
        progress=_named(progress),
        places=gazetteer(config, areas, registry.source.cols),
    )
    return Intake(firms=FirmStore(outcome), validation=outcome.report(whole=False))


def gazetteer(
    config: RunConfig, areas: gpd.GeoDataFrame | None, cols: Columns
) -> placement.Gazetteer | None:
    """The gazetteer that places records by the area they name, when the registry has an
    area code or name column and there is a study area (None otherwise).

    Parameters
    ----------
    config
        The run's configuration: ``area`` (``level``, ``code``, ``boundaries``,
        ``name_similarity``, ``mismatch_m``, ``place_by``).
    areas
        The areas of analysis (the ``boundaries`` step's polygons), or None.
    cols
        The registry's column mapping.
    """
    if areas is None or not any(getattr(cols, r) for r in records_mod.PLACEMENT_ROLES):
        return None
    options = config.area
    kind, _ = parse_level(options.level)
    source = boundaries.resolve_source(options.boundaries)
    names = None
    level = "h3" if kind == "h3" else (kind if source.is_dir() else "custom")
    if level in placement.LEVELS:
        # the whole country: a name of an area outside the study area is told from an
        # unknown one (the names alone: no geometry is read)
        names = {lvl: boundaries.load_names(lvl, source=source) for lvl in placement.LEVELS}
    return placement.gazetteer(
        areas,
        level=level,
        study=options.code if level in placement.LEVELS else None,
        names=names,
        similarity=options.name_similarity,
        tolerance_m=options.mismatch_m,
        prefer="point" if options.place_by == "point" else "area",
    )


def validate_only(
    config: RunConfig,
    workdir: Path,
    registry: batches.Registry | None = None,
    *,
    whole: bool = True,
) -> records_mod.ValidationReport:
    """Read (unless ``registry`` is given) and validate the registry, against the study
    area when ``area.code`` or ``area.boundaries`` is set (``klastergeo validate``,
    models of a registry column).

    Parameters
    ----------
    config
        The configuration: ``records``, ``columns`` and ``area``.
    workdir
        An empty folder for the staged registry and the spilled batches.
    registry
        The registry as already opened; None to open it from ``config.records``.
    whole
        Hold the kept firms in the report's ``records`` (for models of a registry
        column); False for their count only (``klastergeo validate``: memory set by the
        batch size, not by the registry).
    """
    if registry is None:
        registry = read(config, workdir)
    areas = None
    if config.area.code is not None or config.area.boundaries is not None:
        areas = boundaries.analysis_areas(
            config.area.level,
            area=config.area.code,
            source=boundaries.resolve_source(config.area.boundaries),
            id_col=config.area.id_col,
            name_col=config.area.name_col,
        )
    outcome = registry.validate(
        areas=areas,
        snap_m=config.area.snap_m,
        sector_digits=config.records.sector_digits,
        scheduler=config.records.scheduler,
        workers=config.records.workers,
        places=gazetteer(config, areas, registry.source.cols),
    )
    return outcome.report(whole=whole)


def reason_text(validation: records_mod.ValidationReport) -> str:
    """Rejections and repairs by reason, for messages.

    Parameters
    ----------
    validation
        The validation report; its rejections by reason and its repairs are counted.
    """
    return ", ".join(reason_parts(validation))


def reason_parts(validation: records_mod.ValidationReport) -> list[str]:
    """The parts of :func:`reason_text`, each a :class:`~klastergeo.errors.Phrase` that
    the command line words in the run's language.

    Parameters
    ----------
    validation
        The validation report.
    """
    parts: list[str] = [
        Phrase(f"{k}: {v}", "reason_count", {"reason": Phrase(k, f"reasons.{k}"), "n": v})
        for k, v in validation.by_reason.items()
        if v
    ]
    if validation.n_repaired:
        n = validation.n_repaired
        parts.append(Phrase(f"repaired: {n}", "repaired_count", {"n": n}))
    return parts or [Phrase("no problems", "no_problems")]


def rejection_folder(out: str | Path) -> Path:
    """Where a run that stops at validation puts its rejection report: beside ``out``
    (``<out>.rejected``), so that the outputs of an earlier run in ``out`` stay intact.

    Parameters
    ----------
    out
        The run's output folder (``config.out``).
    """
    out = Path(out)
    return out.parent / f"{out.name}.rejected"


def stop_error(
    config: RunConfig,
    validation: records_mod.ValidationReport,
    where: Path,
    *,
    survey: Survey | None = None,
) -> ValidationError | None:
    """The error that stops a run at validation (nothing kept, or ``--strict`` with any
    rejected or repaired record), naming where its report is; None to go on.

    Parameters
    ----------
    config
        The run's configuration: ``records.strict``, and ``records.path`` and ``out``
        for the message.
    validation
        The run's validation report.
    where
        The folder the rejection report goes to (:func:`rejection_folder`).
    survey
        The period, when the run is one of a run over surveys: the message names the
        registry and ``--out`` of the run over surveys.
    """
    problems = validation.n_rejected + validation.n_repaired
    if not ((config.records.strict and problems) or validation.n_kept == 0):
        return None
    kept = "" if validation.n_kept == 0 else "--strict: "
    source = repr(str(_source_path(config))) if survey is None else survey.source(config)
    out = str(config.out if survey is None else survey.config.out)
    elsewhere = _elsewhere(validation, config.area.level)
    named = {
        "rejected": validation.n_rejected,
        "repaired": validation.n_repaired,
        "path": source,
        "reasons": reason_parts(validation),
        "elsewhere": elsewhere,
        "out": repr(out),
        "see": [repr(str(where / n)) for n in _report_names(validation)],
    }
    return ValidationError(
        f"{kept}{validation.n_rejected} record(s) rejected and "
        f"{validation.n_repaired} repaired in "
        + source
        + (", none kept" if validation.n_kept == 0 else "")
        + f" ({reason_text(validation)}){elsewhere}; "
        f"the outputs in {out!r} are unchanged; "
        f"see {_reports(validation, where)}",
        key="none_kept" if validation.n_kept == 0 and survey is None else None,
        params=named,
    )


def _report_names(validation: records_mod.ValidationReport) -> list[str]:
    """The report files that hold a stop's reasons, by name (``rejected.csv`` when
    none)."""
    counts = (("rejected.csv", validation.n_rejected), ("repaired.csv", validation.n_repaired))
    return [name for name, n in counts if n] or ["rejected.csv"]


def _reports(validation: records_mod.ValidationReport, where: Path) -> str:
    """The report files that hold a stop's reasons (``rejected.csv``, ``repaired.csv``)."""
    return " and ".join(repr(str(where / name)) for name in _report_names(validation))


def _source_path(config: RunConfig) -> Path | None:
    """The file a run reads its firms from: the counts file or the registry."""
    return config.counts.path if config.counts.given else config.records.path


def _elsewhere(validation: records_mod.ValidationReport, level: str = "") -> str:
    """A hint where no record is kept: every usable one lies outside the study area
    (records and boundaries of different places, or boundaries in the wrong CRS), or
    the records name their area and the areas of analysis are H3 cells, which are made
    from points (a firm placed by its area has none, and is never put on its village's
    centre)."""
    reasons = {k for k, v in validation.by_reason.items() if v}
    if not validation.n_kept and "area_too_coarse" in reasons and level.startswith("h3"):
        return (
            ": H3 cells are made from points, and the records placed by their area's code "
            "or name have none; use --level desa (or another area level) to count them in "
            "their areas"
        )
    if validation.n_kept or reasons != {"outside_study_area"}:
        return ""
    return Phrase(
        ": not one record lies in the study area; check that the records and the "
        "boundaries (--boundaries, --area) are of the same place and that the boundaries' "
        "CRS is the one their coordinates are in",
        "none_inside",
    )


def validation_problem(
    config: RunConfig, report: records_mod.ValidationReport
) -> ValidationError | None:
    """The error a ``klastergeo validate`` outcome amounts to: most placed records
    outside the study area (:func:`~klastergeo.app.pipeline.coverage.check`), no record
    kept, or (with ``records.strict``) any record rejected or repaired; None when it may
    go on.

    Parameters
    ----------
    config
        The configuration: ``records.strict``, and ``records.path`` and ``out`` (where
        ``rejected.csv`` is) for the message.
    report
        The validation report.
    """
    from klastergeo.app.pipeline import coverage

    outside = coverage.check(config, report, where=Path(config.out))
    if outside is not None:  # the wrong --area: before "nothing kept", which it explains
        return outside
    where = str(Path(config.out) / "rejected.csv")
    if report.n_read == 0:
        return ValidationError(
            f"{str(config.records.path)!r} holds no records (a header only, or every row "
            "skipped as not a firm: see skipped.csv)",
            key="no_records",
            params={"path": repr(str(config.records.path))},
        )
    if report.n_kept == 0:
        elsewhere = _elsewhere(report, config.area.level)
        return ValidationError(
            f"no record of {str(config.records.path)!r} is usable ({reason_text(report)})"
            f"{elsewhere}; "
            f"see {where!r}",
            key="none_usable",
            params={
                "path": repr(str(config.records.path)),
                "reasons": reason_parts(report),
                "elsewhere": elsewhere,
                "where": repr(where),
            },
        )
    if config.records.strict and (report.n_rejected or report.n_repaired):
        return ValidationError(
            f"--strict: {report.n_rejected} rejected and {report.n_repaired} repaired "
            f"record(s) ({reason_text(report)}); see {where!r}"
        )
    return None
