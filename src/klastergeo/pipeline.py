"""The whole job: registry -> validated firms -> areas -> statistics -> sentra -> models -> map.

:func:`run` executes every step of a :class:`~klastergeo.config.RunConfig`, times each, and
writes the outputs atomically into ``config.out``:

- ``summary.json``: record counts (read, kept, rejected, repaired, by reason), sentra count,
  timings per step, the configuration, the seed and package versions;
- ``rejected.csv`` (every rejected row unchanged, plus ``row``, ``reason``, ``detail``) and
  ``repaired.csv`` (rows whose swapped coordinates were repaired);
- ``sentra.csv`` and ``sentra.geojson``: one row per sentra;
- ``areas.parquet``: one row per area x sector with counts, LQ and local statistics;
- ``global.csv``: global Moran's I per analysed sector;
- ``firms.parquet``: kept firms (GeoParquet) with area, sentra and predicted probabilities;
- ``map.html``; model tables under ``models/``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from klastergeo import (
    __version__,
    aggregate,
    autocorrelation,
    boundaries,
    concentration,
    diagnosis,
    maps,
    models,
    pointpattern,
    typology,
)
from klastergeo import publish as publish_mod
from klastergeo import records as records_mod
from klastergeo import report as report_mod
from klastergeo import scale as scale_mod
from klastergeo import sentra as sentra_mod
from klastergeo import weights as weights_mod
from klastergeo._errors import ConfigError, DataError, ModelError, ValidationError, preview
from klastergeo._io import RunFolder, atomic_path, write_json, write_text
from klastergeo._spatial import locate_points, to_metric
from klastergeo.config import ADMIN_LEVELS, RunConfig, parse_level

__all__ = [
    "MODEL_STEPS",
    "SENTRA_STEPS",
    "STEPS",
    "Reporter",
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
    "map",
    "report",
    "write",
)
#: The steps ``klastergeo sentra`` runs (no models, no map).
SENTRA_STEPS = tuple(s for s in STEPS if s not in ("models", "map"))
#: The steps of ``klastergeo model`` on a registry column (no areas needed).
MODEL_STEPS = ("read", "validate", "models", "write")
_VERSIONED = (
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
_AREA_COLUMNS = (
    "area_code",
    "sector",
    "area_name",
    "n_firms",
    "workers",
    "output",
    "lq",
    "lq_low",
    "lq_high",
    "lq_p",
    "gi_z",
    "gi_p",
    "gi_p_sim",
    "gi_bin",
    "lisa_i",
    "lisa_quadrant",
    "lisa_p",
    "lisa_p_sim",
    "sentra_id",
    "sentra_role",
)


class Reporter(Protocol):
    """Receives progress; the CLI shows it, the library only logs."""

    def step(self, name: str) -> None: ...

    def advance(self, detail: str, done: int, total: int) -> None: ...


class _LogReporter:
    def step(self, name: str) -> None:
        logger.info("step: %s", name)

    def advance(self, detail: str, done: int, total: int) -> None:
        logger.debug("%s (%d/%d)", detail, done, total)


@dataclass
class RunResult:
    """What a run produced (the same content as the files it wrote)."""

    out: Path
    summary: dict[str, Any]
    validation: records_mod.ValidationReport
    firms: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    table: pd.DataFrame
    sentra: gpd.GeoDataFrame
    global_stats: pd.DataFrame
    models: dict[str, models.ModelResult] = field(default_factory=dict)
    members: pd.DataFrame | None = None
    concentration: pd.DataFrame | None = None
    typology: pd.DataFrame | None = None
    diagnosis: pd.DataFrame | None = None
    graph: Any = None  # the libpysal Graph the statistics used


def _versions() -> dict[str, str]:
    out = {"klastergeo": __version__}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def run(
    config: RunConfig,
    *,
    reporter: Reporter | None = None,
    sentra_only: bool = False,
    skip_map: bool = False,
) -> RunResult:
    """Run the whole pipeline and write its outputs into ``config.out``.

    Raises :class:`~klastergeo._errors.KlastergeoError` subclasses for bad input or
    configuration (the CLI exits with code 2); outputs of an earlier run in the same
    directory stay untouched unless the run completes (or fails ``--strict``, which
    writes the rejection report only). ``sentra_only`` stops after the sentra and their
    profiles (typology, concentration): no models, no map (``klastergeo sentra``);
    ``skip_map`` runs the models but draws no map (``klastergeo model``).

    Examples
    --------
    >>> from klastergeo.config import load_config
    >>> result = run(load_config("klastergeo.toml"))  # doctest: +SKIP
    >>> result.summary["sentra"]  # doctest: +SKIP
    7
    """
    # The output folder is checked (and locked) before any computing; everything is
    # staged in it and committed at the end in one rename.
    with RunFolder(config.out) as folder:
        return _run(config, folder, reporter=reporter, sentra_only=sentra_only, skip_map=skip_map)


def _run(
    config: RunConfig,
    folder: RunFolder,
    *,
    reporter: Reporter | None,
    sentra_only: bool,
    skip_map: bool,
) -> RunResult:
    timings: dict[str, float] = {}
    report_to: Reporter = reporter or _LogReporter()
    timed = _timer(report_to, timings)
    level, resolution = parse_level(config.area.level)
    out = Path(config.out)
    # What a run could not compute, and why: summary.json and the report say so.
    not_computed: list[dict[str, str]] = []

    def note(step: str, what: str, why: str, *, warn: bool = True) -> None:
        if warn:
            logger.warning("%s: %s not computed: %s", step, what, why)
        not_computed.append({"step": step, "what": what, "why": why})

    # Boundaries before records: an unreadable boundaries file is found before a large
    # registry is read (and a missing registry before either).
    if config.records.path is None:
        raise ConfigError("no records file given; pass --records PATH or [records] path")
    records_mod.check_source(config.records.path)
    with timed("boundaries"):
        source = boundaries.resolve_source(config.area.boundaries)
        standard = source.is_dir()
        check_areas = boundaries.analysis_areas(
            config.area.level,
            area=config.area.code,
            source=source,
            id_col=config.area.id_col,
            name_col=config.area.name_col,
        )
        # For H3 these polygons are the outline the grid covers; else the areas themselves.
        outline = areas = check_areas
        if level == "h3":
            assert resolution is not None
            aggregate.check_grid_size(outline, resolution)  # before the registry is read

    with timed("read"):
        raw = _read(config)

    with timed("validate"):
        validation = records_mod.validate_records(
            raw,
            columns=config.columns,
            areas=check_areas,
            snap_m=config.area.snap_m,
            sector_digits=config.records.sector_digits,
            decimal=config.records.decimal,
        )
        predictors = _predictors(config, validation)
        problems = validation.n_rejected + validation.n_repaired
        if (config.records.strict and problems) or validation.n_kept == 0:
            # The previous outputs stay as they are; the rejection report goes beside them.
            where = _write_rejection_only(out, validation, config, timings)
            kept = "" if validation.n_kept == 0 else "--strict: "
            raise ValidationError(
                f"{kept}{validation.n_rejected} record(s) rejected and "
                f"{validation.n_repaired} repaired in {str(config.records.path)!r}"
                + (", none kept" if validation.n_kept == 0 else "")
                + f" ({_reason_text(validation)}); the outputs in {str(out)!r} are unchanged; "
                f"see {str(where / 'rejected.csv')!r}"
            )
    firms = validation.records.copy()

    with timed("aggregate"):
        if level == "h3":
            assert resolution is not None
            firms["admin_code"] = firms.get("area_code")
            firms["area_code"] = aggregate.h3_cells(
                firms["lat"].to_numpy(), firms["lon"].to_numpy(), resolution
            )
            areas = aggregate.h3_grid(
                outline, resolution, extra_cells=firms["area_code"].unique().tolist()
            )
            if standard:
                areas["name"] = _cell_names(areas, config, source)
        counts = aggregate.count_by_area(firms, areas.index)
        measure = {"firms": "n_firms"}.get(config.sentra.lq_measure, config.sentra.lq_measure)
        matrix_all = aggregate.wide(counts, measure)
        lq = concentration.location_quotient(matrix_all).rename(columns={"p_value": "lq_p"})
        table = counts.join(lq)
        table["area_name"] = (
            areas["name"].reindex(table.index.get_level_values("area_code")).to_numpy()
        )

    with timed("weights"):
        totals = counts.groupby(level="area_code")["n_firms"].sum()
        graph, weights_info, scale_bands = _weights(config, level, areas, totals)

    with timed("statistics"):
        sector_totals = counts.groupby(level="sector")["n_firms"].sum()
        analysed = [
            s
            for s in sector_totals.index
            if sector_totals[s] >= config.analysis.min_sector_firms
            and (not config.analysis.sectors or s in config.analysis.sectors)
        ]
        skipped = {str(s): int(sector_totals[s]) for s in sector_totals.index if s not in analysed}
        absent = [s for s in config.analysis.sectors if s not in sector_totals.index]
        if absent:
            raise ConfigError(
                f"analysis.sectors names {preview(absent)}, which no kept firm has; the "
                f"registry's sectors are {', '.join(map(str, sector_totals.index))}"
            )
        if len(sector_totals) == 1:
            note(
                "statistics",
                "sentra",
                "the registry holds one sector: every location quotient is 1, so no area "
                "is specialised",
            )
        if not analysed:
            note(
                "statistics",
                "local and global statistics, sentra",
                f"no sector has {config.analysis.min_sector_firms} firms or more "
                "(analysis.min_sector_firms)",
            )
        elif len(areas) < autocorrelation.MIN_AREAS_LOCAL:
            note(
                "statistics",
                "local statistics (Gi*, LISA), global Moran's I, sentra",
                f"the study area has {len(areas)} area(s); local statistics need at least "
                f"{autocorrelation.MIN_AREAS_LOCAL}",
            )
        elif len(areas) < autocorrelation.MIN_AREAS_GLOBAL:
            note(
                "statistics",
                "global Moran's I",
                f"the study area has {len(areas)} areas; global statistics need at least "
                f"{autocorrelation.MIN_AREAS_GLOBAL}",
            )
        if config.analysis.fdr and config.analysis.permutations > 0:
            _warn_fdr_floor(config, len(areas))
        stats_sectors = analysed if len(areas) >= autocorrelation.MIN_AREAS_LOCAL else []
        local, global_stats = autocorrelation.by_sector(
            aggregate.wide(counts, "n_firms")[stats_sectors],
            graph,
            permutations=config.analysis.permutations,
            seed=config.analysis.seed,
            alpha=config.analysis.alpha,
            fdr=config.analysis.fdr,
            alternative=config.analysis.alternative,
            gi_inference=config.analysis.gi_inference,
            lisa_inference=config.analysis.lisa_inference,
            progress=lambda detail, done, total: report_to.advance(detail, done, total),
        )
        table = table.join(local)
        table["gi_bin"] = table["gi_bin"].fillna(0).astype(np.int64)
        table["lisa_quadrant"] = table["lisa_quadrant"].fillna(0).astype(np.int64)
        if len(areas) >= autocorrelation.MIN_AREAS_GLOBAL:
            undefined = [str(s) for s in global_stats.index[global_stats["moran_i"].isna()]]
            if undefined:
                note(
                    "statistics",
                    f"global Moran's I of sector(s) {', '.join(undefined)}",
                    "the same number of firms in every area (no variation)",
                )

    with timed("sentra"):
        parents = _parent_names(config, level, areas, source) if standard else None
        options = config.sentra
        if options.method == "areas":
            sentra, members = sentra_mod.delineate(
                table,
                graph,
                areas,
                min_firms=options.min_firms,
                lq_threshold=options.lq_threshold,
                confidence=options.confidence,
                extend=options.extend,
                extend_min_firms=options.extend_min_firms,
                extend_lq=options.extend_lq,
                parents=parents,
                lang=config.map.lang,
            )
            membership = members["sentra_id"]
            table["sentra_id"] = membership.reindex(table.index).to_numpy(dtype=object)
            table["sentra_role"] = members["role"].reindex(table.index).to_numpy(dtype=object)
            keys = pd.MultiIndex.from_arrays(
                [
                    firms["area_code"].to_numpy(dtype=object),
                    firms["sector"].to_numpy(dtype=object),
                ]
            )
            firms["sentra_id"] = membership.reindex(keys).to_numpy(dtype=object)
        else:
            sentra, firm_sentra = sentra_mod.delineate_points(
                firms,
                method=options.method,
                min_firms=options.min_firms,
                lq_threshold=options.lq_threshold,
                eps_m=options.eps_m,
                min_samples=options.min_samples,
                min_strength=options.min_strength,
                min_density_km2=options.min_density_km2,
                sectors=[str(s) for s in analysed],
                areas=areas,
                parents=parents,
                lang=config.map.lang,
            )
            members = None
            firms["sentra_id"] = firm_sentra.to_numpy(dtype=object)
            in_cell = firms.dropna(subset=["sentra_id"]).groupby(["area_code", "sector"])
            share = in_cell["sentra_id"].agg(lambda v: v.value_counts().index[0])
            table["sentra_id"] = share.reindex(table.index).to_numpy(dtype=object)
            table["sentra_role"] = table["sentra_id"].notna().map({True: "points", False: None})
        firms["in_sentra"] = firms["sentra_id"].notna().astype(np.int64)

    with timed("profile"):
        conc_firms = firms
        if level == "h3" and "admin_code" in firms.columns:
            conc_firms = firms.assign(area_code=firms["admin_code"])
        measure = {"firms": "n_firms"}.get(config.sentra.lq_measure, config.sentra.lq_measure)
        try:
            # Kemendagri codes nest by prefix; other ids (custom polygons) do not
            nested = standard or level == "h3"
            concentration_table = concentration.indices_by_level(
                conc_firms, measure=measure, levels=None if nested else {"areas": 10_000}
            )
        except DataError as err:
            note("profile", "concentration indices", str(err))
            concentration_table = pd.DataFrame()
        types = _typology(config, firms, sentra, note)
        diagnosed = _diagnosis(config, firms, sentra)
        patterns = _point_patterns(config, firms, outline, sentra, analysed)
        if len(sentra):
            ids = sentra["sentra_id"]
            sentra["typology"] = types["typology"].reindex(ids).to_numpy()
            sentra["typology_label"] = types["label"].reindex(ids).to_numpy()
            sentra["stage"] = diagnosed["stage"].reindex(ids).to_numpy()
            sentra["diamond_score"] = diagnosed["overall"].reindex(ids).to_numpy()

    fitted: dict[str, models.ModelResult] = {}
    model_notes: dict[str, Any] = {}
    fmap = None
    if not sentra_only:
        with timed("models"):
            fitted, model_notes = _fit_models(
                config, firms, predictors, graph, validation.decimal, validation
            )
            best = _best_kind(fitted)
            for kind, result in fitted.items():
                firms[f"p_{kind}"] = result.probability.to_numpy()
                per_area = firms.groupby(["area_code", "sector"])[f"p_{kind}"].mean()
                table[f"p_{kind}"] = per_area.reindex(table.index).to_numpy()
                if len(sentra):
                    per_sentra = firms.groupby("sentra_id")[f"p_{kind}"].mean()
                    sentra[f"p_{kind}"] = per_sentra.reindex(sentra["sentra_id"]).to_numpy()
            if best and config.model.outcome == "in_sentra":
                # the cluster probability: of the firms of a sector in an area, the mean
                # probability of lying in a sentra; where no sentra is, of becoming one
                table["p_cluster"] = table[f"p_{best}"]
                if len(sentra):
                    sentra["p_cluster"] = sentra[f"p_{best}"]

    if not (sentra_only or skip_map):
        with timed("map"):
            column = f"p_{best}" if best and config.model.outcome == "in_sentra" else None
            fmap = maps.build_map(
                areas,
                table,
                sentra,
                firms=firms,
                outlines=_outlines(config, level, source) if standard else None,
                probability=firms.groupby("area_code")[column].mean() if column else None,
                parents=parents,
                lang=config.map.lang,
                tiles=config.map.tiles,
                title=config.map.title,
                attribution=config.map.attribution,
                source=Path(str(config.records.path)).name,
            )

    summary: dict[str, Any] = {
        **_header(config, status="sentra" if sentra_only else "complete"),
        "records": validation.summary(),
        "areas": {
            "level": config.area.level,
            "study_area": config.area.code,
            "count": len(areas),
            "with_firms": int((counts.groupby(level="area_code")["n_firms"].sum() > 0).sum()),
            "weights": weights_info,
        },
        "sectors": {"analysed": [str(s) for s in analysed], "skipped_few_firms": skipped},
        "sentra": len(sentra),
        "sentra_by_sector": {
            str(k): int(v) for k, v in sentra["sector"].value_counts().sort_index().items()
        }
        if len(sentra)
        else {},
        "models": model_notes,
        "not_computed": not_computed,
        "timings": timings,
        "config": config.to_dict(),
        "versions": _versions(),
    }
    with timed("report"):
        figures = _figures(
            config, areas, table, sentra, counts, graph, folder.path, standard, analysed
        )
        page = report_mod.build_report(
            summary,
            sentra=sentra,
            global_stats=global_stats,
            models=fitted,
            figures=figures,
            map_file="map.html" if fmap is not None else None,
            lang=config.map.lang,
            subtitle=config.map.title or "",
        )
        write_text(folder.path / "report.html", page)
    with timed("write"):
        stage = folder.path
        _write_outputs(
            stage, validation, firms, table, sentra, global_stats, fitted, counts, analysed
        )
        if fmap is not None:
            maps.save_map(fmap, stage / "map.html")
        _write_profiles(stage, sentra, members, concentration_table, types, diagnosed)
        for name, frame in patterns.items():
            _write_csv(frame, stage / f"{name}.csv")
        if config.diagnosis.charts and diagnosed["n_items"].gt(0).any():
            diagnosis.radar_charts(diagnosed, stage / "diagnosis", sentra=sentra)
        if scale_bands is not None:
            _write_csv(scale_bands, stage / "scale.csv")
        folder.sync()
        # the landing page links the files the run writes
        write_text(
            stage / "index.html",
            publish_mod.index_page(
                summary,
                stage,
                lang=config.map.lang,
                title=config.map.title,
                figures=[f.src for f in figures if f.src.startswith("figures/")],
            ),
        )
    summary["timings"] = dict(timings)
    folder.commit(summary)
    logger.info("run finished: %d sentra, outputs in %s", len(sentra), out)
    return RunResult(
        out=out,
        summary=summary,
        validation=validation,
        firms=firms,
        areas=areas,
        table=table,
        sentra=sentra,
        global_stats=global_stats,
        models=fitted,
        members=members,
        concentration=concentration_table,
        typology=types,
        diagnosis=diagnosed,
        graph=graph,
    )


def _timer(
    reporter: Reporter, timings: dict[str, float]
) -> Callable[[str], AbstractContextManager[None]]:
    """A ``with timed("step"):`` context that reports the step and records its time."""

    @contextmanager
    def timed(name: str) -> Iterator[None]:
        reporter.step(name)
        start = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - start, 3)

    return timed


def _read(config: RunConfig) -> records_mod.RawRecords:
    if config.records.path is None:
        raise ConfigError("no records file given; pass --records PATH or [records] path")
    return records_mod.read_records(
        config.records.path,
        delimiter=config.records.delimiter,
        encoding=config.records.encoding,
        sheet=config.records.sheet,
        layer=config.records.layer,
    )


def validate_only(
    config: RunConfig, raw: records_mod.RawRecords | None = None
) -> records_mod.ValidationReport:
    """Read (unless ``raw`` is given) and validate the registry, against the study area
    when ``area.code`` or ``area.boundaries`` is set (``klastergeo validate``, models of a
    registry column)."""
    if raw is None:
        raw = _read(config)
    areas = None
    if config.area.code is not None or config.area.boundaries is not None:
        areas = boundaries.analysis_areas(
            config.area.level,
            area=config.area.code,
            source=boundaries.resolve_source(config.area.boundaries),
            id_col=config.area.id_col,
            name_col=config.area.name_col,
        )
    return records_mod.validate_records(
        raw,
        columns=config.columns,
        areas=areas,
        snap_m=config.area.snap_m,
        sector_digits=config.records.sector_digits,
        decimal=config.records.decimal,
    )


def run_models(
    config: RunConfig, *, reporter: Reporter | None = None
) -> dict[str, models.ModelResult]:
    """``klastergeo model``: fit the ``[model]`` kinds and write ``<out>/models/``.

    (An area-level model of ``model.area_data`` is :func:`run_area_model`.) With
    ``model.outcome =
    "in_sentra"`` the sentra come first: the whole run without the map (its outputs are
    written too). Any other outcome is a 0/1 column of the registry:
    the records are read and validated (against the study area when ``area.code`` or
    ``area.boundaries`` is given) and the models fitted on the kept records; the outputs
    are ``models/``, ``rejected.csv``, ``repaired.csv`` and ``summary.json``.
    """
    if config.model.area_data is not None:
        raise ConfigError("model.area_data is set: use run_area_model for an area-level model")
    if config.model.outcome == "in_sentra":
        return run(config, reporter=reporter, skip_map=True).models
    with RunFolder(config.out, kind="model") as folder:
        timings: dict[str, float] = {}
        timed = _timer(reporter or _LogReporter(), timings)
        with timed("read"):
            raw = _read(config)
        with timed("validate"):
            validation = validate_only(config, raw)
            if validation.n_kept == 0:
                raise ValidationError(
                    f"no record of {str(config.records.path)!r} survived validation "
                    f"({_reason_text(validation)})"
                )
            firms = validation.records
            predictors = _predictors(config, validation)
        with timed("models"):
            fitted, notes = _fit_models(
                config, firms, predictors, None, validation.decimal, validation
            )
            if not fitted:
                raise ModelError(
                    "no model could be estimated: "
                    + "; ".join(f"{k}: {v['skipped']}" for k, v in notes.items())
                )
        with timed("write"):
            _write_csv(validation.rejected, folder.path / "rejected.csv")
            _write_csv(validation.repaired, folder.path / "repaired.csv")
            for result in fitted.values():
                models.write(result, folder.path / "models")
        folder.commit(
            {
                **_header(config, status="models"),
                "records": validation.summary(),
                "models": notes,
                "timings": timings,
                "config": config.to_dict(),
                "versions": _versions(),
            }
        )
    return fitted


def run_area_model(config: RunConfig) -> dict[str, Any]:
    """Area-level OLS + spatial diagnostics (+ the spatial model they recommend) of
    ``model.area_data`` into ``<out>/models/``: ``area_ols_coefficients.csv``,
    ``area_diagnostics.csv``, ``area_<lag|error>_coefficients.csv``, ``area_fit.json``.

    Returns the weights summary, the recommendation and the tables.
    """
    with RunFolder(config.out, kind="model") as folder:
        return _run_area_model(config, folder)


def _run_area_model(config: RunConfig, folder: RunFolder) -> dict[str, Any]:
    from klastergeo import spatial_models

    options = config.model
    assert options.area_data is not None
    level, _ = parse_level(config.area.level)
    if level == "h3":
        raise ConfigError(
            f"an area-level model (model.area_data) needs administrative areas or a polygon "
            f"file; --level {config.area.level} makes H3 cells, which an area table does not "
            "describe"
        )
    if options.categorical:
        raise ConfigError(
            "an area-level model takes numeric predictors only; model.categorical "
            f"({', '.join(options.categorical)}) applies to firm-level models"
        )
    table = records_mod.read_records(options.area_data, what="area data").frame
    if options.area_id not in table.columns:
        raise ConfigError(
            f"model.area_id={options.area_id!r} is not a column of {str(options.area_data)!r}; "
            f"columns: {', '.join(map(str, table.columns))}"
        )
    if not options.predictors:
        raise ConfigError("an area-level model needs model.predictors (--predictors)")
    ids = table[options.area_id].astype(str)
    repeated = ids[ids.duplicated()].unique()
    if len(repeated):
        raise ValidationError(
            f"{str(options.area_data)!r} has {len(repeated)} area id(s) on more than one row "
            f"in column {options.area_id!r} ({preview(repeated)}); give one row per area"
        )
    data = table.set_index(ids)
    for column in (options.outcome, *options.predictors):
        if column in data.columns:
            data[column] = records_mod.numeric_column(
                data[column], name=column, decimal=config.records.decimal
            )
    source = boundaries.resolve_source(config.area.boundaries)
    areas = boundaries.analysis_areas(
        config.area.level,
        area=config.area.code,
        source=source,
        id_col=config.area.id_col,
        name_col=config.area.name_col,
    )
    graph, info, _ = _weights(config, level, areas, pd.Series(0.0, index=areas.index))
    coefficients, diagnostics = spatial_models.ols_diagnostics(
        data, options.outcome, list(options.predictors), graph
    )
    choice = spatial_models.recommend(diagnostics) if options.spatial == "auto" else options.spatial
    result: dict[str, Any] = {"weights": info, "recommended": choice}
    tables = {"coefficients": coefficients, "diagnostics": diagnostics}
    models_dir = folder.path / "models"
    _write_csv(coefficients, models_dir / "area_ols_coefficients.csv")
    _write_csv(diagnostics, models_dir / "area_diagnostics.csv")
    if choice in ("lag", "error"):
        spatial_coefficients, fit = spatial_models.fit_spatial(
            data,
            options.outcome,
            list(options.predictors),
            graph,
            model="lag" if choice == "lag" else "error",
        )
        _write_csv(spatial_coefficients, models_dir / f"area_{choice}_coefficients.csv")
        result[choice] = fit
        tables[choice] = spatial_coefficients
    write_json(models_dir / "area_fit.json", result)
    folder.commit(
        {
            **_header(config, status="area model"),
            "area_model": result,
            "config": config.to_dict(),
            "versions": _versions(),
        }
    )
    logger.info("area model: %s recommended (%s)", choice, options.outcome)
    return {**result, "tables": tables}


def _reason_text(validation: records_mod.ValidationReport) -> str:
    parts = [f"{k}: {v}" for k, v in validation.by_reason.items() if v]
    if validation.n_repaired:
        parts.append(f"repaired: {validation.n_repaired}")
    return ", ".join(parts) or "no problems"


def _header(config: RunConfig, *, status: str) -> dict[str, Any]:
    return {
        "klastergeo": __version__,
        "status": status,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": config.analysis.seed,
    }


def rejection_folder(out: str | Path) -> Path:
    """Where a run that stops at validation puts its rejection report: beside ``out``
    (``<out>.rejected``), so that the outputs of an earlier run in ``out`` stay intact."""
    out = Path(out)
    return out.parent / f"{out.name}.rejected"


def _write_rejection_only(
    out: Path,
    validation: records_mod.ValidationReport,
    config: RunConfig,
    timings: dict[str, float],
) -> Path:
    where = rejection_folder(out)
    with RunFolder(where, kind="rejected") as folder:
        _write_csv(validation.rejected, folder.path / "rejected.csv")
        _write_csv(validation.repaired, folder.path / "repaired.csv")
        folder.commit(
            {
                **_header(config, status="stopped after validation"),
                "records": validation.summary(),
                "sentra": None,
                "timings": timings,
                "config": config.to_dict(),
                "versions": _versions(),
            }
        )
    return where


def validate_run(config: RunConfig) -> records_mod.ValidationReport:
    """``klastergeo validate``: read and validate the registry and write its reports
    (``rejected.csv``, ``repaired.csv``, ``validation.json``, ``summary.json``) into
    ``config.out`` as one committed folder. :func:`validation_problem` then says whether
    the outcome should stop the caller (``--strict``, nothing kept)."""
    with RunFolder(config.out, kind="validate") as folder:
        report = validate_only(config)
        _write_csv(report.rejected, folder.path / "rejected.csv")
        _write_csv(report.repaired, folder.path / "repaired.csv")
        write_json(folder.path / "validation.json", report.summary())
        folder.commit(
            {
                **_header(config, status="validated"),
                "records": report.summary(),
                "config": config.to_dict(),
                "versions": _versions(),
            }
        )
    return report


def validation_problem(
    config: RunConfig, report: records_mod.ValidationReport
) -> ValidationError | None:
    """The error a validation outcome amounts to: no record kept, or (with
    ``records.strict``) any record rejected or repaired; None when it may go on."""
    where = str(Path(config.out) / "rejected.csv")
    if report.n_kept == 0:
        return ValidationError(
            f"no record of {str(config.records.path)!r} is usable ({_reason_text(report)}); "
            f"see {where!r}"
        )
    if config.records.strict and (report.n_rejected or report.n_repaired):
        return ValidationError(
            f"--strict: {report.n_rejected} rejected and {report.n_repaired} repaired "
            f"record(s) ({_reason_text(report)}); see {where!r}"
        )
    return None


def _write_csv(frame: pd.DataFrame, path: Path, *, index: bool = False) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=index, encoding="utf-8")


def _write_outputs(
    folder: Path,
    validation: records_mod.ValidationReport,
    firms: gpd.GeoDataFrame,
    table: pd.DataFrame,
    sentra: gpd.GeoDataFrame,
    global_stats: pd.DataFrame,
    fitted: dict[str, models.ModelResult],
    counts: pd.DataFrame,
    analysed: list[str],
) -> None:
    _write_csv(validation.rejected, folder / "rejected.csv")
    _write_csv(validation.repaired, folder / "repaired.csv")
    areas_table = table.reset_index()
    columns = [c for c in _AREA_COLUMNS if c in areas_table.columns]
    columns += [c for c in areas_table.columns if c.startswith("p_")]
    with atomic_path(folder / "areas.parquet") as tmp:
        areas_table[columns].to_parquet(tmp, index=False)
    plain = (
        pd.DataFrame(sentra.drop(columns=sentra.geometry.name))
        if len(sentra)
        else pd.DataFrame(columns=list(sentra_mod.SENTRA_COLUMNS))
    )
    _write_csv(plain, folder / "sentra.csv")
    geojson = (
        sentra.to_crs(4326).to_json(drop_id=True)
        if len(sentra)
        else '{"type": "FeatureCollection", "features": []}'
    )
    write_text(folder / "sentra.geojson", geojson)
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
    _write_csv(stats, folder / "global.csv", index=True)
    with atomic_path(folder / "firms.parquet") as tmp:
        firms.to_parquet(tmp)
    for result in fitted.values():
        models.write(result, folder / "models")


def _figures(
    config: RunConfig,
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    sentra: pd.DataFrame,
    counts: pd.DataFrame,
    graph: Any,
    folder: Path,
    standard: bool,
    analysed: list[str],
) -> list[report_mod.Figure]:
    """Static PNGs (``figures/``) of the sectors ``[report] figures`` names: Gi* and LISA
    maps and a Moran scatterplot per sector."""
    from klastergeo import static

    choice = config.report.figures
    if choice == "none":
        return []
    sectors = (
        sorted(str(s) for s in analysed)
        if choice == "all"
        else sorted(set(sentra["sector"].astype(str)))
    )
    if not sectors:
        return []
    level, _ = parse_level(config.area.level)
    outlines = None
    if standard and level in ("desa", "kecamatan"):
        outlines = _outlines(config, level, boundaries.resolve_source(config.area.boundaries))
    folder = folder / "figures"
    written = static.sector_figures(
        areas,
        table,
        sectors,
        folder,
        lang=config.map.lang,
        outlines=outlines,
        source=Path(str(config.records.path)).name,
    )
    matrix = aggregate.wide(counts, "n_firms")
    out = []
    for path in written:
        kind, sector = path.stem.split("_", 1)
        label = "Gi*" if kind == "gi" else "LISA"
        out.append(report_mod.Figure(f"figures/{path.name}", f"{label}: {sector}"))
    for sector in sectors:  # one scatterplot per sector (tens)
        path = static.moran_scatterplot(
            matrix[sector], graph, folder / f"moran_{sector}.png", title=f"{sector}"
        )
        out.append(report_mod.Figure(f"figures/{path.name}", f"Moran: {sector}"))
    return out


def _best_kind(fitted: dict[str, models.ModelResult]) -> str | None:
    """The model whose probabilities the map shows: logit, else probit, else the LPM."""
    return next((k for k in ("logit", "probit", "lpm") if k in fitted), None)


def _fit_models(
    config: RunConfig,
    firms: pd.DataFrame,
    predictors: dict[str, pd.Series],
    graph: Any,
    decimal: str | None = None,
    validation: records_mod.ValidationReport | None = None,
) -> tuple[dict[str, models.ModelResult], dict[str, Any]]:
    """Every model kind of ``[model]`` on the firms; a kind that cannot be estimated is
    skipped with its reason. With area weights, Moran's I of each model's mean residual
    per area is added to its fit (``residual_moran_*``)."""
    from klastergeo import spatial_models

    options = config.model
    data = pd.DataFrame(predictors, index=firms.index)
    outcome = options.outcome
    column = outcome
    if validation is not None and outcome != "in_sentra":
        why = _not_a_variable(validation, outcome)
        if why is not None:
            raise ConfigError(f"model.outcome: {why}; the outcome must be a 0/1 column")
        column = _user_columns(validation).get(outcome, outcome)
    if outcome == "in_sentra":
        data[outcome] = firms["in_sentra"]
    elif column in firms.columns:
        data[outcome] = records_mod.numeric_column(
            firms[column], name=outcome, decimal=config.records.decimal, fallback=decimal
        )
    else:
        raise ConfigError(
            f"model.outcome={outcome!r} is not a column of the records; use 'in_sentra' "
            "(the firm lies in a sentra) or a 0/1 column"
        )
    fitted: dict[str, models.ModelResult] = {}
    notes: dict[str, Any] = {}
    for kind in options.kinds:
        try:
            result = models.fit(
                data,
                outcome,
                list(predictors),
                kind=kind,
                cutoff=options.cutoff,
                robust=options.robust,
                categorical=options.categorical,
                reference=options.reference,
                log=options.log,
                standardise=options.standardise,
            )
        except ModelError as err:
            logger.warning("%s model skipped: %s", kind, err)
            notes[kind] = {"skipped": str(err)}
            continue
        if (
            graph is not None
            and "area_code" in firms.columns
            and len(graph.unique_ids) >= autocorrelation.MIN_AREAS_GLOBAL
        ):
            per_area = result.residuals.groupby(firms["area_code"]).mean()
            # areas without firms carry no residual: 0, the model's expectation
            filled = per_area.reindex(pd.Index(graph.unique_ids)).fillna(0.0)
            moran = spatial_models.residual_moran(
                filled,
                graph,
                permutations=min(config.analysis.permutations, 999),
                seed=config.analysis.seed,
            )
            result.fit.update({f"residual_moran_{k}": v for k, v in moran.items()})
        fitted[kind] = result
        notes[kind] = result.fit
    return fitted, notes


def _typology(
    config: RunConfig,
    firms: pd.DataFrame,
    sentra: pd.DataFrame,
    note: Callable[..., None],
) -> pd.DataFrame:
    """Markusen evidence and type of every sentra (empty without sentra). Without a firm
    size for every sentra firm the shares are of firms, not workers (and ``note`` says so)."""
    options = config.typology
    if not len(sentra):
        return pd.DataFrame(columns=["typology", "label"], index=pd.Index([], name="sentra_id"))
    members = firms["sentra_id"].notna() if "sentra_id" in firms.columns else None
    sizes = firms.loc[members, "workers"] if "workers" in firms and members is not None else None
    if sizes is None or sizes.isna().any():
        missing = len(firms) if sizes is None else int(sizes.isna().sum())
        note(
            "profile",
            "Markusen typology by workers",
            f"{missing} sentra firm(s) have no workers value; the types are measured on "
            "firm counts",
        )
        firms = firms.assign(workers=1.0)
    measured = typology.evidence(
        firms,
        workers="workers",
        ownership=options.ownership,
        linkages=options.linkages,
    )
    return typology.classify(measured, rules=typology.TypologyRules(**options.thresholds))


def _point_patterns(
    config: RunConfig,
    firms: gpd.GeoDataFrame,
    outline: gpd.GeoDataFrame,
    sentra: gpd.GeoDataFrame,
    sectors: list[str],
) -> dict[str, pd.DataFrame]:
    """Ripley's L envelopes and Clark-Evans per analysed sector and per sentra."""
    options = config.pointpattern
    if not options.enabled:
        return {}
    simulations, seed, cap = options.simulations, config.analysis.seed, options.max_points
    curves, per_sector = pointpattern.by_sector(
        firms,
        outline,
        sectors=[str(s) for s in sectors],
        simulations=simulations,
        seed=seed,
        max_points=cap,
    )
    sentra_curves, per_sentra = pointpattern.by_sentra(
        firms, sentra, simulations=simulations, seed=seed, max_points=cap
    )
    ripley = pd.concat(
        [
            curves.rename(columns={"sector": "key"}).assign(scope="sector"),
            sentra_curves.rename(columns={"sentra_id": "key"}).assign(scope="sentra"),
        ],
        ignore_index=True,
    )
    clark = pd.concat(
        [
            per_sector.rename(columns={"sector": "key"}).assign(scope="sector"),
            per_sentra.rename(columns={"sentra_id": "key"}).assign(scope="sentra"),
        ],
        ignore_index=True,
    )
    front = ["scope", "key"]
    return {
        "ripley": ripley[front + [c for c in ripley.columns if c not in front]],
        "clark_evans": clark[front + [c for c in clark.columns if c not in front]],
    }


def _diagnosis(config: RunConfig, firms: pd.DataFrame, sentra: pd.DataFrame) -> pd.DataFrame:
    """Porter's-diamond scores and stage of every sentra (stage 'unknown' without items)."""
    options = config.diagnosis
    table = None
    if options.table is not None:
        table = records_mod.read_records(options.table, what="diagnosis table").frame
    if not (options.items or options.table_items):
        logger.info("diagnosis: no items configured ([diagnosis] items); stages are unknown")
    frame = (
        sentra[["sentra_id", "area_codes"]]
        if len(sentra)
        else pd.DataFrame({"sentra_id": [], "area_codes": []})
    )
    return diagnosis.score(
        frame,
        firms=firms,
        firm_items=options.items or None,
        table=table,
        table_items=options.table_items or None,
        rules=diagnosis.StageRules(**options.thresholds),
    )


def _write_profiles(
    folder: Path,
    sentra: pd.DataFrame,
    members: pd.DataFrame | None,
    concentration_table: pd.DataFrame,
    types: pd.DataFrame,
    diagnosed: pd.DataFrame,
) -> None:
    _write_csv(concentration_table, folder / "concentration.csv")
    _write_csv(types, folder / "typology.csv", index=True)
    _write_csv(diagnosed, folder / "diagnosis.csv", index=True)
    if members is not None:
        _write_csv(members.reset_index(), folder / "sentra_areas.csv")


def _user_columns(validation: records_mod.ValidationReport) -> dict[str, str]:
    """The registry's column names -> the kept firms' columns holding them (mapped roles
    such as ``tenaga_kerja`` -> ``workers``, renamed ``row`` -> ``row_input``)."""
    columns = validation.columns
    out = {
        getattr(columns, role): role
        for role in ("workers", "output", "investment")
        if getattr(columns, role) is not None
    }
    out.update(validation.renamed)
    return out


#: Roles whose columns cannot be model variables, and why.
_NOT_VARIABLES = {
    "id": "the record id",
    "lat": "the latitude",
    "lon": "the longitude",
    "sector": "the KBLI code (the sector is what sentra are made of)",
    "name": "the firm name",
}


def _not_a_variable(validation: records_mod.ValidationReport, name: str) -> str | None:
    """Why a registry column cannot be a model variable, if it is one of the mapped
    coordinates, id, sector or name; None otherwise."""
    for role, why in _NOT_VARIABLES.items():
        if getattr(validation.columns, role) == name:
            return f"{name!r} is {why} column"
    return None


def _predictors(
    config: RunConfig, validation: records_mod.ValidationReport
) -> dict[str, pd.Series]:
    """Model predictors by the user's name, as numbers (categorical ones as text); fail
    early on unknown columns.

    Mapped columns (``nilai_produksi`` read as ``output``) keep the user's name in the
    model tables; other columns are parsed as numbers here (they are kept as read), with
    the file's decimal mark where a column's values fit both.
    """
    firms = validation.records
    renamed = _user_columns(validation)
    wanted = list(config.model.predictors)
    for name in wanted:
        why = _not_a_variable(validation, name)
        if why is not None:
            raise ConfigError(f"model predictor {why}; it cannot be a predictor")
    if not wanted:
        wanted = [
            next((k for k, v in renamed.items() if v == role), role)
            for role in ("workers", "output", "investment")
            if role in firms.columns and firms[role].notna().any()
        ]
    reserved = {"row", "lat", "lon", "geometry", "kbli", "sector", "name", "area_code"}
    usable = [c for c in firms.columns if c not in reserved]
    unknown = [name for name in wanted if renamed.get(name, name) not in usable]
    for option in ("log", "categorical"):
        extra = [c for c in getattr(config.model, option) if c not in wanted]
        if extra:
            raise ConfigError(
                f"model.{option} names {preview(extra)}, which are not predictors (the "
                f"predictors are {preview(wanted)})"
            )
    if isinstance(config.model.standardise, tuple):
        extra = [c for c in config.model.standardise if c not in wanted]
        if extra:
            raise ConfigError(
                f"model.standardise names {preview(extra)}, which are not predictors (the "
                f"predictors are {preview(wanted)})"
            )
    if unknown:
        raise ConfigError(
            f"model predictor(s) {preview(unknown)} are not columns of the records; "
            f"available: {', '.join(map(str, usable))}"
        )
    out = {}
    for name in wanted:
        column = firms[renamed.get(name, name)]
        if name in config.model.categorical:
            out[name] = column.astype("string")
            continue
        try:
            out[name] = records_mod.numeric_column(
                column,
                name=name,
                decimal=config.records.decimal,
                fallback=validation.decimal,
            )
        except ValidationError as err:
            raise ConfigError(
                f"model predictor {name!r} cannot be used: {err}; if it holds categories, "
                "name it in model.categorical (--categorical)"
            ) from None
    return out


def _weights(
    config: RunConfig, level: str, areas: gpd.GeoDataFrame, totals: pd.Series
) -> tuple[Any, dict[str, Any], pd.DataFrame | None]:
    """The run's weights, a summary of them, and the band table of an automatic scale."""
    options = config.analysis
    info: dict[str, Any] = {"kind": options.weights}
    bands = None
    if options.weights == "auto":
        points = to_metric(areas).geometry.representative_point()
        choice = scale_mod.choose_scale(points, totals.reindex(areas.index).fillna(0), k=options.k)
        graph = scale_mod.scale_graph(points, choice)
        info.update(
            {
                "kind": f"auto ({choice.method.replace('_', ' ')})",
                "distance_m": choice.distance,
                "k": choice.k,
                "reason": choice.reason,
            }
        )
        islands_before = 0
        bands = choice.bands
        logger.info("automatic scale: %s", choice.reason)
    elif level == "h3":
        graph = weights_mod.h3_neighbours(areas.index)
        info["kind"] = "h3 first-order neighbours"
        islands_before = len(graph.isolates)
        graph = weights_mod.attach_islands(graph, areas, how=options.islands)
    elif options.weights == "knn":
        graph = weights_mod.knn(areas, k=options.k, seed=options.seed)
        info["k"] = options.k
        islands_before = 0
    else:
        rook = options.weights == "rook"
        raw = weights_mod.contiguity(
            areas, rook=rook, tolerance=options.tolerance_m, islands="keep"
        )
        islands_before = len(raw.isolates)
        graph = weights_mod.attach_islands(raw, areas, how=options.islands)
        info["tolerance_m"] = 0.0 if rook else options.tolerance_m
    info.update(
        {
            "links": int(graph.n_edges),
            "mean_neighbours": round(float(graph.cardinalities.mean()), 3),
            "areas_without_neighbours": islands_before,
            "islands_policy": options.islands,
        }
    )
    return graph, info, bands


def _warn_fdr_floor(config: RunConfig, n_areas: int) -> None:
    floor = 1.0 / (config.analysis.permutations + 1)
    needed = int(np.ceil(floor * n_areas / 0.05))
    logger.warning(
        "FDR with %d permutations: the smallest pseudo p-value is %.4f, so an area can only be "
        "significant at 95 %% when at least %d of the %d areas are; use more permutations or "
        "--permutations 0 (analytical z) with FDR",
        config.analysis.permutations,
        floor,
        needed,
        n_areas,
    )


def _parent_level(level: str) -> str | None:
    position = ADMIN_LEVELS.index(level) if level in ADMIN_LEVELS else -1
    return ADMIN_LEVELS[position - 1] if position > 0 else None


def _parent_names(
    config: RunConfig, level: str, areas: gpd.GeoDataFrame, source: Path
) -> pd.Series | None:
    """Name of each area's parent unit (kecamatan of a desa), by code prefix."""
    if level == "h3":
        return areas.get("parent")
    parent = _parent_level(level)
    if parent is None:
        return None
    names = boundaries.load_names(
        parent, area=config.area.code[:2] if config.area.code else None, source=source
    )
    codes = pd.Series(areas.index, index=areas.index).str.rsplit(".", n=1).str[0]
    return pd.Series(names.reindex(codes.to_numpy()).to_numpy(), index=areas.index)


def _cell_names(areas: gpd.GeoDataFrame, config: RunConfig, source: Path) -> pd.Series:
    """Name H3 cells after the village at their centre (and remember its kecamatan)."""
    villages = boundaries.load_areas("desa", area=config.area.code, source=source)
    centres = areas.geometry.representative_point()
    pos = locate_points(centres.x.to_numpy(), centres.y.to_numpy(), villages.geometry, snap_m=2_000)
    codes = np.asarray(villages.index, dtype=object)
    names = np.where(
        pos >= 0,
        villages["name"].to_numpy(dtype=object)[np.clip(pos, 0, None)],
        areas.index.to_numpy(dtype=object),
    )
    kecamatan = boundaries.load_names("kecamatan", area=config.area.code, source=source)
    located = pd.Series(codes[pos[pos >= 0]], dtype="string")
    parent_codes = located.str.rsplit(".", n=1).str[0].to_numpy(dtype=object)
    parents = np.full(len(areas), None, dtype=object)
    parents[pos >= 0] = kecamatan.reindex(parent_codes).to_numpy(dtype=object)
    areas["parent"] = parents
    return pd.Series(names, index=areas.index)


def _outlines(config: RunConfig, level: str, source: Path) -> gpd.GeoDataFrame | None:
    """Administrative outlines for the map, one or two levels above the analysis."""
    code = config.area.code
    depth = len(code.split(".")) if code else 0
    if level == "h3":
        # One level below the study area: kabupaten within a province, and so on.
        wanted = ADMIN_LEVELS[min(depth, len(ADMIN_LEVELS) - 1)]
    else:
        parent = _parent_level(level)
        if parent is None:
            return None
        # Within a province, kabupaten outlines read better than 576 kecamatan.
        wanted = "kabupaten" if parent == "kecamatan" and depth <= 1 else parent
    try:
        return boundaries.load_areas(wanted, area=code, source=source)
    except Exception as err:  # outlines are decoration: a missing level must not fail a run
        logger.warning("no %s outlines for the map: %s", wanted, err)
        return None
