"""The model steps: predictors from the registry, the firm-level models (LPM, logit,
probit) of ``[model]``, and the area-level spatial regression."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from libpysal.graph import Graph

from klastergeo import autocorrelation, models
from klastergeo import records as records_mod
from klastergeo._errors import ConfigError, ModelError, ValidationError, preview
from klastergeo.config import RunConfig

__all__ = ["Models", "best_kind", "fit_models", "predictors"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Models:
    """Fitted models by kind, and per kind its fit statistics or why it was skipped."""

    fitted: dict[str, models.ModelResult] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> str | None:
        return best_kind(self.fitted)


def best_kind(fitted: dict[str, models.ModelResult]) -> str | None:
    """The model whose probabilities the map shows: logit, else probit, else the LPM.

    Parameters
    ----------
    fitted
        Fitted models by kind; None is returned when it is empty.
    """
    return next((k for k in ("logit", "probit", "lpm") if k in fitted), None)


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


def predictors(config: RunConfig, validation: records_mod.ValidationReport) -> dict[str, pd.Series]:
    """Model predictors by the user's name, as numbers (categorical ones as text); fail
    early on unknown columns.

    Mapped columns (``nilai_produksi`` read as ``output``) keep the user's name in the
    model tables; other columns are parsed as numbers here (they are kept as read), with
    the file's decimal mark where a column's values fit both.

    Parameters
    ----------
    config
        The configuration: ``model.predictors`` (default: the mapped workers, output and
        investment columns that hold values), ``model.categorical``, ``model.log`` and
        ``model.standardise`` (which may name predictors only), and ``records.decimal``.
    validation
        The validation report: its kept ``records``, the column mapping, the renamed
        columns and the decimal mark found in the file.
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


def fit_models(
    config: RunConfig,
    firms: pd.DataFrame,
    predictors: dict[str, pd.Series],
    graph: Graph | None,
    validation: records_mod.ValidationReport,
) -> Models:
    """Every model kind of ``[model]`` on the firms; a kind that cannot be estimated is
    skipped with its reason. With area weights, Moran's I of each model's mean residual
    per area is added to its fit (``residual_moran_*``).

    Parameters
    ----------
    config
        The configuration: ``[model]`` (``outcome``, ``kinds``, ``cutoff``, ``robust``,
        ``categorical``, ``reference``, ``log``, ``standardise``), ``records.decimal``,
        and ``analysis.permutations`` and ``analysis.seed`` for the residuals' Moran's I.
    firms
        The firms: ``in_sentra`` when that is the outcome, else the outcome's registry
        column; ``area_code`` for the residuals' Moran's I.
    predictors
        The predictors by name, aligned with ``firms`` (:func:`predictors`).
    graph
        The area weights of the residuals' Moran's I; None to leave it out.
    validation
        The validation report: its column mapping (the id, coordinate, sector and name
        columns cannot be the outcome) and the file's decimal mark.
    """
    from klastergeo import spatial_models

    options = config.model
    data = pd.DataFrame(predictors, index=firms.index)
    outcome = options.outcome
    column = outcome
    if outcome != "in_sentra":
        why = _not_a_variable(validation, outcome)
        if why is not None:
            raise ConfigError(f"model.outcome: {why}; the outcome must be a 0/1 column")
        column = _user_columns(validation).get(outcome, outcome)
    if outcome == "in_sentra":
        data[outcome] = firms["in_sentra"]
    elif column in firms.columns:
        data[outcome] = records_mod.numeric_column(
            firms[column],
            name=outcome,
            decimal=config.records.decimal,
            fallback=validation.decimal,
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
    return Models(fitted, notes)
