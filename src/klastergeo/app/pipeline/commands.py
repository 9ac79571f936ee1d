"""The runs that are not the whole pipeline: ``klastergeo validate``, ``klastergeo model``
of a registry column, and the area-level spatial regression."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from klastergeo.analysis import regression
from klastergeo.app.config import RunConfig, parse_level
from klastergeo.app.pipeline import coverage, intake, probabilities, writer
from klastergeo.app.pipeline._steps import Reporter, Steps, header
from klastergeo.app.pipeline.study import study_area
from klastergeo.app.pipeline.weighting import build_weights
from klastergeo.errors import ConfigError, ModelError, ValidationError, preview
from klastergeo.io.files import RunFolder
from klastergeo.io.registry import records as records_mod

__all__ = ["run_area_model", "run_models", "validate_run"]

logger = logging.getLogger(__name__)


def validate_run(config: RunConfig) -> records_mod.ValidationReport:
    """``klastergeo validate``: read and validate the registry and write its reports
    (``rejected.csv``, ``repaired.csv``, ``validation.json``, ``summary.json``) into
    ``config.out`` as one committed folder. :func:`validation_problem` then says whether
    the outcome should stop the caller (``--strict``, nothing kept).

    Parameters
    ----------
    config
        The configuration: ``records``, ``columns``, ``area`` (the study area, when
        ``area.code`` or ``area.boundaries`` is set) and ``out``.
    """
    from klastergeo.io.files import write_json

    with RunFolder(config.out, kind="validate") as folder:
        report = intake.validate_only(config, folder.scratch(), whole=False)
        writer.validation_reports(
            folder.path, report, locale=config.output.csv_locale, lang=config.map.lang
        )
        write_json(folder.path / "validation.json", report.summary())
        folder.commit(
            {
                **header("validated", config.analysis.seed, timestamp=config.output.timestamp),
                "records": report.summary(),
                "config": config.to_dict(),
                "versions": writer.versions(),
            }
        )
    return report


def run_models(
    config: RunConfig, *, reporter: Reporter | None = None
) -> dict[str, regression.ModelResult]:
    """``klastergeo model``: fit the ``[model]`` kinds and write ``<out>/models/``.

    With ``model.outcome = "in_sentra"`` the sentra come first: the whole run without the
    map (its outputs are written too). Any other outcome is a 0/1 column of the registry:
    the records are read and validated (against the study area when ``area.code`` or
    ``area.boundaries`` is given) and the models fitted on the kept records; the outputs
    are ``models/``, ``rejected.csv``, ``repaired.csv`` and ``summary.json``. (An
    area-level model of ``model.area_data`` is :func:`run_area_model`.)

    Parameters
    ----------
    config
        The configuration: ``[model]`` (``model.area_data`` must not be set), the
        records and, for ``in_sentra``, every section a run uses; outputs go to
        ``config.out``.
    reporter
        Receives the progress of every step (default: progress is only logged).

    Returns
    -------
    dict
        The fitted models by kind.
    """
    from klastergeo.app.pipeline import run

    _one_survey(config)
    if config.model.area_data is not None:
        raise ConfigError("model.area_data is set: use run_area_model for an area-level model")
    if config.model.outcome == "in_sentra":
        return run(config, reporter=reporter, skip_map=True).models
    survey = _survey_table(config)
    if survey is not None:
        return _fit_survey(config, survey, Steps(reporter))
    steps = Steps(reporter)
    with RunFolder(config.out, kind="model") as folder:
        # a model of a registry column needs no sector (a survey of one sentra has none)
        registry = steps(
            "read", intake.read, config, folder.scratch(), steps.progress, need_sector=False
        )
        with steps.timed("validate"):
            report = intake.validate_only(config, folder.scratch(), registry)
            outside = coverage.check(config, report)
            if outside is not None:  # the wrong --area
                raise outside
            if report.n_kept == 0:
                raise ValidationError(
                    f"no record of {str(config.records.path)!r} survived validation "
                    f"({intake.reason_text(report)})",
                    key="none_survived",
                    params={
                        "path": repr(str(config.records.path)),
                        "reasons": intake.reason_parts(report),
                    },
                )
            predictors = probabilities.predictors(config, report)
            for item in probabilities.left_out(config, report, predictors):
                logger.warning("models: %s", probabilities.left_out_text(item))
        fitted = steps(
            "models", probabilities.fit_models, config, report.records, predictors, None, report
        )
        if not fitted.fitted:
            raise ModelError(
                "no model could be estimated: "
                + "; ".join(f"{k}: {v['skipped']}" for k, v in fitted.notes.items())
            )
        with steps.timed("write"):
            writer.model_outputs(
                folder.path,
                report,
                fitted.fitted,
                locale=config.output.csv_locale,
                lang=config.map.lang,
            )
        folder.commit(
            {
                **header("models", config.analysis.seed, timestamp=config.output.timestamp),
                "records": report.summary(),
                "models": fitted.notes,
                "predictors_left_out": probabilities.left_out(config, report, predictors),
                "timings": steps.timings,
                "config": config.to_dict(),
                "versions": writer.versions(),
            }
        )
    return fitted.fitted


def _survey_table(config: RunConfig) -> pd.DataFrame | None:
    """The records as a plain table when they are a survey, not a registry: no latitude,
    longitude or sector column among them (and none named), no study area asked for.
    None otherwise (the registry path validates them)."""
    columns, area = config.columns, config.area
    if any(getattr(columns, r, None) for r in ("lat", "lon", "sector", "kbli")):
        return None
    if area.code is not None or area.boundaries is not None:
        return None
    assert config.records.path is not None
    table = records_mod.read_records(
        config.records.path,
        delimiter=config.records.delimiter,
        encoding=config.records.encoding,
        sheet=config.records.sheet,
        layer=config.records.layer,
    ).frame
    try:
        records_mod.resolve_columns(list(map(str, table.columns)))
    except ValidationError as err:
        text = str(err)
        if all(f"no {role} column found" in text for role in ("lat", "lon", "sector")):
            return table
    return None


def _fit_survey(
    config: RunConfig, table: pd.DataFrame, steps: Steps
) -> dict[str, regression.ModelResult]:
    """``klastergeo model`` on a plain table (a survey of respondents, no coordinates):
    the ``[model]`` kinds fitted on its rows, without the residual Moran's I (there are
    no places). Rows with a missing outcome or predictor are left out by the models."""
    options = config.model
    missing = [c for c in (options.outcome, *options.predictors) if c not in table.columns]
    if missing:
        raise ConfigError(
            f"{preview(missing)} not column(s) of {str(config.records.path)!r}; its columns "
            f"are {', '.join(map(str, table.columns))}"
        )
    if not options.predictors:
        raise ConfigError("a model of a plain table needs model.predictors (--predictors)")
    data = table.copy()
    for column in (options.outcome, *options.predictors):
        if column not in options.categorical:
            data[column] = records_mod.numeric_column(
                data[column], name=column, decimal=config.records.decimal
            )
    logger.info(
        "models: %s is a plain table (%d rows, no coordinates)", config.records.path, len(data)
    )
    with RunFolder(config.out, kind="model") as folder:
        fitted: dict[str, regression.ModelResult] = {}
        notes: dict[str, Any] = {}
        with steps.timed("models"):
            for kind in options.kinds:
                try:
                    fitted[kind] = probabilities.fit_kind(
                        config, data, list(options.predictors), kind
                    )
                    notes[kind] = fitted[kind].fit
                except ModelError as err:
                    notes[kind] = {"skipped": str(err)}
        if not fitted:
            raise ModelError(
                "no model could be estimated: "
                + "; ".join(f"{k}: {v['skipped']}" for k, v in notes.items())
            )
        with steps.timed("write"):
            writer.model_outputs(
                folder.path, None, fitted, locale=config.output.csv_locale, lang=config.map.lang
            )
        folder.commit(
            {
                **header("models", config.analysis.seed, timestamp=config.output.timestamp),
                "records": {"read": len(table), "kind": "plain table"},
                "models": notes,
                "timings": steps.timings,
                "config": config.to_dict(),
                "versions": writer.versions(),
            }
        )
    return fitted


def _one_survey(config: RunConfig) -> None:
    """``klastergeo model`` fits one registry: refuse a run over surveys, saying where
    each survey's models are made."""
    records = config.records
    if records.period_col:
        given = f"records.period_col={records.period_col!r} (--period-col)"
        again = f"klastergeo run --period-col {records.period_col}"
    elif records.files:
        given = f"records.files ({len(records.files)} registries, --records repeated)"
        again = "klastergeo run --records A --records B"
    else:
        return
    raise ConfigError(
        f"klastergeo model fits the models of one survey's registry, but {given} asks for "
        f"several survey periods; `{again}` fits every period's models (in "
        "periods/<period>/models/), or give `klastergeo model` one period's registry "
        "without it"
    )


def run_area_model(config: RunConfig) -> dict[str, Any]:
    """Area-level OLS + spatial diagnostics (+ the spatial model they recommend) of
    ``model.area_data`` into ``<out>/models/``: ``area_ols_coefficients.csv``,
    ``area_diagnostics.csv``, ``area_<lag|error>_coefficients.csv``, ``area_fit.json``.

    Parameters
    ----------
    config
        The configuration: ``model.area_data`` (one row per area), ``model.area_id``,
        ``outcome``, ``predictors`` and ``spatial``; ``area`` (administrative areas or a
        polygon file, not H3 cells) and ``analysis`` (the weights); outputs go to
        ``config.out``.

    Returns
    -------
    dict
        The weights summary (``weights``), the recommendation (``recommended``), the fit
        of the spatial model when one was estimated (``lag`` or ``error``) and the
        tables (``tables``).
    """
    from klastergeo.analysis import spatial_regression

    options = config.model
    if parse_level(config.area.level)[0] == "h3":
        raise ConfigError(
            f"an area-level model (model.area_data) needs administrative areas or a polygon "
            f"file; --level {config.area.level} makes H3 cells, which an area table does not "
            "describe"
        )
    data = _area_data(config)
    study = study_area(config)
    with RunFolder(config.out, kind="model") as folder:
        areas = study.polygons
        weights = build_weights(config.analysis, areas, pd.Series(0.0, index=areas.index))
        predictors = list(options.predictors)
        coefficients, diagnostics = spatial_regression.ols_diagnostics(
            data, options.outcome, predictors, weights.graph
        )
        choice = (
            spatial_regression.recommend(diagnostics)
            if options.spatial == "auto"
            else options.spatial
        )
        result: dict[str, Any] = {"weights": weights.info, "recommended": choice}
        tables = {"coefficients": coefficients, "diagnostics": diagnostics}
        if choice in ("lag", "error"):
            tables[choice], result[choice] = spatial_regression.fit_spatial(
                data,
                options.outcome,
                predictors,
                weights.graph,
                model="lag" if choice == "lag" else "error",
            )
        writer.area_model_outputs(folder.path, tables, result, locale=config.output.csv_locale)
        folder.commit(
            {
                **header("area model", config.analysis.seed, timestamp=config.output.timestamp),
                "area_model": result,
                "config": config.to_dict(),
                "versions": writer.versions(),
            }
        )
    logger.info("area model: %s recommended (%s)", choice, options.outcome)
    return {**result, "tables": tables}


def _area_data(config: RunConfig) -> pd.DataFrame:
    """The area table of ``model.area_data``, indexed by area id, numbers parsed."""
    options = config.model
    assert options.area_data is not None
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
    return data
