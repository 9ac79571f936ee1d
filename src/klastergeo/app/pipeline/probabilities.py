"""The model steps: predictors from the registry, the firm-level models (LPM, logit,
probit) of ``[model]``, and the area-level spatial regression."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
from libpysal.graph import Graph
from numpy.typing import NDArray

from klastergeo.analysis import autocorrelation, regression
from klastergeo.app.config import RunConfig
from klastergeo.errors import ConfigError, ModelError, ValidationError, preview
from klastergeo.io.registry import records as records_mod
from klastergeo.io.registry.firms import FirmStore

__all__ = [
    "Models",
    "Sample",
    "best_kind",
    "fit_kind",
    "fit_models",
    "left_out",
    "left_out_text",
    "predictors",
    "stratified_sample",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Models:
    """Fitted models by kind, per kind its fit statistics or why it was skipped, each
    kind's probability for every firm (in the firms' order), and the sample the models
    were estimated on when the firms were too many (``sample``: one row per stratum with
    ``sector``, ``outcome``, ``n_firms``, ``n_sample`` and ``weight``; None without)."""

    fitted: dict[str, regression.ModelResult] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    probabilities: dict[str, pd.Series] = field(default_factory=dict)
    sample: pd.DataFrame | None = None
    left_out: list[dict[str, str | None]] = field(default_factory=list)

    @property
    def best(self) -> str | None:
        return best_kind(self.fitted)


def best_kind(fitted: dict[str, regression.ModelResult]) -> str | None:
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


def predictors(
    config: RunConfig,
    validation: records_mod.ValidationReport,
    store: FirmStore | None = None,
) -> dict[str, pd.Series]:
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
    store
        Where the kept firms are read from (their columns only); None to take them from
        ``validation.records``.
    """
    firms: pd.DataFrame = validation.records
    names = list(firms.columns)
    renamed = _user_columns(validation)
    if store is not None:  # only the columns a predictor may come from, read from disk
        roles = [r for r in ("workers", "output", "investment") if r in names]
        chosen = [renamed.get(n, n) for n in config.model.predictors] or roles
        firms = store.columns([c for c in chosen if c in names])
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
    usable = [c for c in names if c not in reserved]
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


def left_out(
    config: RunConfig,
    validation: records_mod.ValidationReport,
    chosen: dict[str, pd.Series],
) -> list[dict[str, str | None]]:
    """The default predictors (workers, output, investment) the models go without, and
    why: the registry has no column for one (``no_column``), or its column holds no
    value (``no_values``). A model never falls back to fewer predictors without saying
    so (``summary.json`` ``predictors_left_out``, the terminal and the report).

    Parameters
    ----------
    config
        The configuration; with ``model.predictors`` given the user chose them and
        nothing is left out.
    validation
        The validation report: its column mapping.
    chosen
        The predictors the models use (:func:`predictors`).

    Returns
    -------
    list of dict
        Each role left out: ``predictor`` (the role), ``column`` (its column, or None)
        and ``reason``.
    """
    if config.model.predictors:
        return []
    out: list[dict[str, str | None]] = []
    for role in ("workers", "output", "investment"):
        column = getattr(validation.columns, role)
        if column is None:
            out.append({"predictor": role, "column": None, "reason": "no_column"})
        elif column not in chosen and role not in chosen:
            out.append({"predictor": role, "column": column, "reason": "no_values"})
    return out


def left_out_text(item: dict[str, Any]) -> str:
    """One predictor left out (:func:`left_out`), in words for the terminal and log.

    Parameters
    ----------
    item
        One entry of :func:`left_out`.
    """
    role = item["predictor"]
    if item["reason"] == "no_column":
        return (
            f"{role} left out of the models: the registry has no {role} column "
            f"(pass --{role}-col NAME)"
        )
    return f"{role} left out of the models: column {item['column']!r} has no value"


def fit_models(
    config: RunConfig,
    firms: pd.DataFrame,
    predictors: dict[str, pd.Series],
    graph: Graph | None,
    validation: records_mod.ValidationReport,
    store: FirmStore | None = None,
) -> Models:
    """Every model kind of ``[model]`` on the firms; a kind that cannot be estimated is
    skipped with its reason. With area weights, Moran's I of each model's mean residual
    per area is added to its fit (``residual_moran_*``).

    With more than ``model.max_firms`` firms the models are estimated on a seeded sample
    stratified by sector and outcome, proportional (:func:`stratified_sample`), and every
    firm is predicted with them (:func:`klastergeo.analysis.regression.predict`).

    Parameters
    ----------
    config
        The configuration: ``[model]`` (``outcome``, ``kinds``, ``cutoff``, ``robust``,
        ``categorical``, ``reference``, ``log``, ``standardise``, ``max_firms``),
        ``records.decimal``, and ``analysis.permutations`` and ``analysis.seed`` (the
        residuals' Moran's I and the sample).
    firms
        The firms: ``in_sentra`` when that is the outcome, else the outcome's registry
        column (or read from ``store``); ``area_code`` for the residuals' Moran's I and
        ``sector`` for the sample's strata.
    predictors
        The predictors by name, aligned with ``firms`` (:func:`predictors`).
    graph
        The area weights of the residuals' Moran's I; None to leave it out.
    validation
        The validation report: its column mapping (the id, coordinate, sector and name
        columns cannot be the outcome) and the file's decimal mark.
    store
        Where an outcome column that ``firms`` lack is read from; None for none.
    """
    options = config.model
    # the predictors' arrays are shared, not copied (a national registry's are 0.6 GB)
    data = pd.DataFrame(predictors, index=firms.index, copy=False)
    data[options.outcome] = _outcome(config, firms, validation, store)
    sample = None
    if len(data) > options.max_firms:
        sample = stratified_sample(
            firms["sector"] if "sector" in firms else pd.Series(0, index=firms.index),
            data[options.outcome],
            size=options.max_firms,
            seed=config.analysis.seed,
        )
        logger.info(
            "models: %d firms; estimated on a stratified sample of %d", len(data), options.max_firms
        )
    fitted: dict[str, regression.ModelResult] = {}
    notes: dict[str, Any] = {}
    probabilities: dict[str, pd.Series] = {}
    used = data if sample is None else data.iloc[sample.positions]
    for kind in options.kinds:
        try:
            result = fit_kind(config, used, list(predictors), kind)
        except ModelError as err:
            logger.warning("%s model skipped: %s", kind, err)
            notes[kind] = {"skipped": str(err)}
            continue
        if sample is None:
            probabilities[kind] = result.probability
        else:
            result.fit.update(n_firms=len(data), sampled=True)
            probabilities[kind] = _predict_all(result, data)
        _residual_moran(config, result, firms, graph)
        fitted[kind] = result
        notes[kind] = result.fit
    return Models(fitted, notes, probabilities, None if sample is None else sample.strata)


def _outcome(
    config: RunConfig,
    firms: pd.DataFrame,
    validation: records_mod.ValidationReport,
    store: FirmStore | None,
) -> pd.Series:
    """The models' 0/1 outcome of every firm: ``in_sentra``, or a registry column."""
    outcome = config.model.outcome
    if outcome == "in_sentra":
        return firms["in_sentra"]
    why = _not_a_variable(validation, outcome)
    if why is not None:
        raise ConfigError(f"model.outcome: {why}; the outcome must be a 0/1 column")
    column = _user_columns(validation).get(outcome, outcome)
    if column not in firms.columns and store is not None and column in store.names:
        firms = store.columns([column])
    if column not in firms.columns:
        raise ConfigError(
            f"model.outcome={outcome!r} is not a column of the records; use 'in_sentra' "
            "(the firm lies in a sentra) or a 0/1 column"
        )
    return records_mod.numeric_column(
        firms[column],
        name=outcome,
        decimal=config.records.decimal,
        fallback=validation.decimal,
    )


def fit_kind(
    config: RunConfig, data: pd.DataFrame, predictors: list[str], kind: str
) -> regression.ModelResult:
    """One model of ``[model] outcome`` on ``predictors``, with the options of ``[model]``.

    Parameters
    ----------
    config
        The configuration: ``[model]`` (outcome, cutoff, robust, categorical, reference,
        log, standardise).
    data
        The firms with the outcome and predictor columns.
    predictors
        The predictor columns.
    kind
        ``"lpm"``, ``"logit"`` or ``"probit"``.
    """
    options = config.model
    return regression.fit(
        data,
        options.outcome,
        predictors,
        kind=cast(Any, kind),
        cutoff=options.cutoff,
        robust=options.robust,
        categorical=options.categorical,
        reference=options.reference,
        log=options.log,
        standardise=options.standardise,
    )


def _predict_all(result: regression.ModelResult, data: pd.DataFrame) -> pd.Series:
    """The model's probability for every row, a million rows at a time."""
    step = 1_000_000
    parts = [regression.predict(result, data.iloc[i : i + step]) for i in range(0, len(data), step)]
    return pd.concat(parts) if parts else pd.Series(dtype=float)


def _residual_moran(
    config: RunConfig, result: regression.ModelResult, firms: pd.DataFrame, graph: Graph | None
) -> None:
    """Moran's I of the model's mean residual per area, added to its fit."""
    from klastergeo.analysis import spatial_regression

    if (
        graph is None
        or "area_code" not in firms.columns
        or len(graph.unique_ids) < autocorrelation.MIN_AREAS_GLOBAL
    ):
        return
    residuals = result.residuals
    areas = firms["area_code"].reindex(residuals.index)
    per_area = residuals.groupby(areas.to_numpy(), observed=True).mean()
    # areas without firms carry no residual: 0, the model's expectation
    filled = per_area.reindex(pd.Index(graph.unique_ids)).fillna(0.0)
    moran = spatial_regression.residual_moran(
        filled,
        graph,
        permutations=min(config.analysis.permutations, 999),
        seed=config.analysis.seed,
    )
    result.fit.update({f"residual_moran_{k}": v for k, v in moran.items()})


@dataclass(frozen=True)
class Sample:
    """A stratified sample: the sampled positions (sorted) and one row per stratum."""

    positions: NDArray[np.int64]
    strata: pd.DataFrame


def stratified_sample(
    sector: pd.Series, outcome: pd.Series, *, size: int, seed: int | None
) -> Sample:
    """A seeded sample of about ``size`` firms, stratified by sector and outcome with
    proportional allocation: every stratum gives the same fraction of its firms
    (rounded, at least one), so every sampled firm stands for about ``n / size`` firms
    and estimates need no weights. The positions are sorted (file order).

    Parameters
    ----------
    sector
        Each firm's sector.
    outcome
        Each firm's outcome (missing values form their own stratum).
    size
        Firms wanted in the sample.
    seed
        Seed of the draw.

    Returns
    -------
    Sample
        ``positions`` of the sampled firms, and ``strata``: ``sector``, ``outcome``,
        ``n_firms``, ``n_sample`` and ``weight`` (firms each sampled firm stands for).
    """
    n = len(sector)
    s_codes, s_names = pd.factorize(sector, use_na_sentinel=False)
    y = pd.to_numeric(outcome, errors="coerce").to_numpy(dtype=float)
    y_codes = np.where(np.isnan(y), 2, (y > 0).astype(np.int64))
    stratum = s_codes.astype(np.int64) * 3 + y_codes
    sizes = np.bincount(stratum, minlength=len(s_names) * 3)
    wanted = np.where(sizes > 0, np.maximum(1, np.round(sizes * (size / n))), 0).astype(np.int64)
    wanted = np.minimum(wanted, sizes)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(n), stratum))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(n) - starts[stratum[order]]
    positions = np.sort(order[rank < wanted[stratum[order]]])
    present = np.flatnonzero(sizes)
    strata = pd.DataFrame(
        {
            "sector": np.asarray(s_names, dtype=object)[present // 3],
            "outcome": np.array([0, 1, np.nan])[present % 3],
            "n_firms": sizes[present],
            "n_sample": wanted[present],
            "weight": sizes[present] / wanted[present],
        }
    )
    return Sample(positions=positions.astype(np.int64), strata=strata)
