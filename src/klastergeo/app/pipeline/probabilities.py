"""The model steps: predictors from the registry, the firm-level models (LPM, logit,
probit) of ``[model]``, and the area-level spatial regression.

The firms' predictors are not held: validation checks them (:func:`predictors`), the
models step reads them part by part (the sample, then every firm's prediction summed per
area, sector and sentra), and the firms output predicts each part as it writes it
(:meth:`Models.predict`); memory is set by a part and ``model.max_firms``, not by the
number of firms (:mod:`~klastergeo.app.pipeline.model_parts`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
from libpysal.graph import Graph
from numpy.typing import NDArray

from klastergeo.analysis import autocorrelation, regression
from klastergeo.app.config import RunConfig
from klastergeo.app.pipeline import model_parts
from klastergeo.app.pipeline.firm_columns import FirmColumns, LazyFirms, frame_of
from klastergeo.app.pipeline.model_parts import PartColumns, Predictors
from klastergeo.errors import ConfigError, ModelError, ValidationError, preview
from klastergeo.io.registry import records as records_mod
from klastergeo.io.registry.firms import FirmStore
from klastergeo.io.registry.numbers import NumberFormat, parse_numbers

__all__ = [
    "Means",
    "Models",
    "Predictors",
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
class Means:
    """Each model's mean probability over groups of firms (``p_<kind>``), and how many
    firms have a probability (``n``): by area and sector (``cells``, indexed by
    ``area_code`` and ``sector``), by sentra (``sentra``, by ``sentra_id``) and by area
    (``areas``, by ``area_code``). These are what the tables, the map and the
    disclosure rules show of the probabilities; the firms' own are written with the
    firms output (:meth:`Models.predict`)."""

    cells: pd.DataFrame = field(default_factory=pd.DataFrame)
    sentra: pd.DataFrame = field(default_factory=pd.DataFrame)
    areas: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class Models:
    """Fitted models by kind, per kind its fit statistics or why it was skipped, the
    mean probabilities over areas and sentra (:class:`Means`), and the sample the
    models were estimated on when the firms were too many (``sample``: one row per
    stratum with ``sector``, ``outcome``, ``n_firms``, ``n_sample`` and ``weight``; None
    without). The firms' own probabilities are not held: :meth:`predict` gives those
    of a part of the firms (the firms output is written part by part)."""

    fitted: dict[str, regression.ModelResult] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    means: Means = field(default_factory=Means)
    sample: pd.DataFrame | None = None
    left_out: list[dict[str, str | None]] = field(default_factory=list)
    predictors: Predictors = field(default_factory=Predictors)
    #: without a sample, each kind's fitted probability of every firm (at most
    #: ``model.max_firms``, held by the fit anyway)
    held: dict[str, NDArray[np.float64]] = field(default_factory=dict, repr=False)

    @property
    def best(self) -> str | None:
        return best_kind(self.fitted)

    def predict(self, start: int, part: pa.Table) -> dict[str, NDArray[np.float64]]:
        """Each model's probability (``p_<kind>``) of a part of the firms: the fitted
        one of an estimation on every firm, else the model applied to the part's
        predictors (:func:`klastergeo.analysis.regression.predict`); the same values
        whatever the parts.

        Parameters
        ----------
        start
            The position of the part's first firm.
        part
            The part, with the predictors' columns (as the firms' store gives it).
        """
        if self.held:
            stop = start + part.num_rows
            return {f"p_{kind}": values[start:stop] for kind, values in self.held.items()}
        if not self.fitted:
            return {}
        columns = list(dict.fromkeys(self.predictors.columns.values()))
        raw = model_parts.table_frame(part, columns, self.predictors.dtypes, start=start)
        data = self.predictors.frame(raw)
        return {
            f"p_{kind}": regression.predict(result, data).to_numpy()
            for kind, result in self.fitted.items()
        }


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
) -> Predictors:
    """The models' predictors, checked at validation without being held: unknown
    columns, and values that are not numbers, fail early; each numeric predictor's
    number format is decided on every firm (the models read the values part by part).

    Mapped columns (``nilai_produksi`` read as ``output``) keep the user's name in the
    model tables; other columns are parsed as numbers (they are kept as read), with
    the file's decimal mark where a column's values fit both.

    Parameters
    ----------
    config
        The configuration: ``model.predictors`` (default: the mapped workers, output and
        investment columns that hold values), ``model.categorical``, ``model.log`` and
        ``model.standardise`` (which may name predictors only), and ``records.decimal``.
    validation
        The validation report: its kept ``records`` (or only their columns, with
        ``store``), the column mapping, the renamed columns and the file's decimal mark.
    store
        Where the kept firms are read from, part by part; None to take them from
        ``validation.records``.
    """
    names = list(validation.records.columns)
    renamed = _user_columns(validation)
    source = PartColumns(validation.records, store)
    wanted = list(config.model.predictors)
    for name in wanted:
        why = _not_a_variable(validation, name)
        if why is not None:
            raise ConfigError(f"model predictor {why}; it cannot be a predictor")
    roles = [r for r in ("workers", "output", "investment") if r in names]
    if wanted:
        _check_predictor_names(config, wanted, names, renamed)
    chosen = [renamed.get(n, n) for n in wanted] if wanted else roles
    numeric = (
        [renamed.get(n, n) for n in wanted if n not in config.model.categorical]
        if wanted
        else roles
    )
    seen = model_parts.scan(
        source,
        [c for c in dict.fromkeys(numeric) if c in names],
        other=[c for c in chosen if c in names],
        decimal=config.records.decimal,
        fallback=validation.decimal,
    )
    if not wanted:
        wanted = [
            next((k for k, v in renamed.items() if v == role), role)
            for role in roles
            if role in seen.filled
        ]
        _check_predictor_names(config, wanted, names, renamed)
    for name in wanted:
        column = renamed.get(name, name)
        if name in config.model.categorical or column not in seen.invalid:
            continue
        count, values = seen.invalid[column]
        err = model_parts.not_numeric(name, seen.formats[column], count, values)
        raise ConfigError(
            f"model predictor {name!r} cannot be used: {err}; if it holds categories, "
            "name it in model.categorical (--categorical)"
        )
    return Predictors(
        names=tuple(wanted),
        columns={name: renamed.get(name, name) for name in wanted},
        categorical=frozenset(n for n in wanted if n in config.model.categorical),
        formats={
            name: seen.formats[renamed.get(name, name)]
            for name in wanted
            if name not in config.model.categorical
        },
        dtypes={c: seen.dtypes[c] for c in (renamed.get(n, n) for n in wanted) if c in seen.dtypes},
    )


def _check_predictor_names(
    config: RunConfig, wanted: list[str], names: list[str], renamed: dict[str, str]
) -> None:
    """Refuse predictors that are no column of the records, and ``model.log``,
    ``model.categorical`` or ``model.standardise`` naming a column that is no
    predictor."""
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


def left_out(
    config: RunConfig,
    validation: records_mod.ValidationReport,
    chosen: Predictors,
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
    firms: pd.DataFrame | LazyFirms,
    predictors: Predictors,
    graph: Graph | None,
    validation: records_mod.ValidationReport,
    store: FirmStore | None = None,
    *,
    run: FirmColumns | None = None,
) -> Models:
    """Every model kind of ``[model]`` on the firms; a kind that cannot be estimated is
    skipped with its reason. With area weights, Moran's I of each model's mean residual
    per area is added to its fit (``residual_moran_*``).

    With more than ``model.max_firms`` firms the models are estimated on a seeded sample
    stratified by sector and outcome, proportional (:func:`stratified_sample`, drawn part
    by part), and every firm is predicted with them part by part: the mean probabilities
    and residuals are summed per group, and no number is held per firm beyond a part
    and the sample. The results are the same whatever the parts' size.

    Parameters
    ----------
    config
        The configuration: ``[model]`` (``outcome``, ``kinds``, ``cutoff``, ``robust``,
        ``categorical``, ``reference``, ``log``, ``standardise``, ``max_firms``),
        ``records.decimal``, and ``analysis.permutations`` and ``analysis.seed`` (the
        residuals' Moran's I and the sample).
    firms
        The firms by position: ``in_sentra`` when that is the outcome, else the
        outcome's registry column (or read from ``store``); ``area_code`` (and
        ``sector``, ``sentra_id``) for the mean probabilities and the residuals' Moran's
        I, and ``sector`` for the sample's strata.
    predictors
        The predictors (:func:`predictors`).
    graph
        The area weights of the residuals' Moran's I; None to leave it out.
    validation
        The validation report: its column mapping (the id, coordinate, sector and name
        columns cannot be the outcome) and the file's decimal mark.
    store
        Where the predictors (and an outcome column that ``firms`` lack) are read from,
        part by part; None to read them from ``validation.records``.
    run
        How each firm's area, sector and sentra are made part by part
        (:class:`~.firm_columns.FirmColumns`): above ``model.max_firms`` they are, and
        ``firms`` (a :class:`~.firm_columns.LazyFirms`) is never made.
    """
    options = config.model
    source = PartColumns(validation.records, store)
    big = len(firms) > options.max_firms
    keys = _FirmKeys(None, run) if big and run is not None else _FirmKeys(frame_of(firms), None)
    outcome = _outcome(config, keys, validation, source)
    sample = None
    if big:
        sample, data = _sampled(config, keys, predictors, source, outcome)
        logger.info(
            "models: %d firms; estimated on a stratified sample of %d", len(firms), len(data)
        )
    else:
        data = _every_firm(predictors, source, outcome)
    fitted: dict[str, regression.ModelResult] = {}
    notes: dict[str, Any] = {}
    for kind in options.kinds:
        try:
            result = fit_kind(config, data, list(predictors), kind)
        except ModelError as err:
            logger.warning("%s model skipped: %s", kind, err)
            notes[kind] = {"skipped": str(err)}
            continue
        if sample is not None:
            result.fit.update(n_firms=len(firms), sampled=True)
        fitted[kind] = result
        notes[kind] = result.fit
    del data
    held: dict[str, NDArray[np.float64]] = {}
    if sample is None:
        held = {k: model.probability.to_numpy() for k, model in fitted.items()}
        means, residuals = _whole_means(frame_of(firms), fitted, held)
    else:
        means, residuals = _part_means(keys, predictors, source, outcome, fitted)
    for name, model in fitted.items():
        _residual_moran(config, model, residuals.get(name), graph)
    return Models(
        fitted,
        notes,
        means=means,
        sample=None if sample is None else sample.strata,
        predictors=predictors,
        held=held,
    )


@dataclass(frozen=True)
class _Outcome:
    """How the models' 0/1 outcome of some firms is read: from the firms' frame
    (``whole``: ``in_sentra``, or a column it has), else a registry column part by part
    in its number format."""

    name: str
    whole: pd.Series | None = None
    column: str | None = None
    fmt: NumberFormat | None = None
    keys: _FirmKeys | None = None  # ``in_sentra`` made part by part

    @property
    def columns(self) -> list[str]:
        if self.keys is not None:
            return self.keys.columns
        return [] if self.column is None else [self.column]

    def of(self, part: model_parts.Part, labels: _Labels) -> pd.Series:
        """The outcome of the firms of a part (indexed by position), read with
        :attr:`columns`.

        Parameters
        ----------
        part
            The part.
        labels
            Its firms' keys (their ``in_sentra``).
        """
        if self.keys is not None:
            assert labels.in_sentra is not None
            return labels.in_sentra
        return self.values(part.frame([] if self.column is None else [self.column]))

    def values(self, raw: pd.DataFrame) -> pd.Series:
        """The outcome of the firms of ``raw`` (indexed by position)."""
        if self.whole is not None:
            return pd.Series(self.whole.iloc[raw.index].to_numpy(), index=raw.index)
        assert self.column is not None and self.fmt is not None
        numbers = parse_numbers(raw[self.column], fmt=self.fmt)[0]
        return pd.Series(numbers, index=raw.index)


def _outcome(
    config: RunConfig,
    keys: _FirmKeys,
    validation: records_mod.ValidationReport,
    source: PartColumns,
) -> _Outcome:
    """The models' 0/1 outcome: ``in_sentra``, or a registry column (its values checked,
    its number format decided on every firm)."""
    outcome = config.model.outcome
    if outcome == "in_sentra":
        if keys.frame is None:
            return _Outcome(outcome, keys=keys)
        return _Outcome(outcome, whole=keys.frame["in_sentra"])
    why = _not_a_variable(validation, outcome)
    if why is not None:
        raise ConfigError(f"model.outcome: {why}; the outcome must be a 0/1 column")
    column = _user_columns(validation).get(outcome, outcome)
    firms = keys.frame if keys.frame is not None else pd.DataFrame()
    if column in firms.columns:
        whole = records_mod.numeric_column(
            firms[column],
            name=outcome,
            decimal=config.records.decimal,
            fallback=validation.decimal,
        )
        return _Outcome(outcome, whole=whole)
    if column not in source.names:
        raise ConfigError(
            f"model.outcome={outcome!r} is not a column of the records; use 'in_sentra' "
            "(the firm lies in a sentra) or a 0/1 column"
        )
    seen = model_parts.scan(
        source, [column], decimal=config.records.decimal, fallback=validation.decimal
    )
    if column in seen.invalid:
        count, values = seen.invalid[column]
        raise ValidationError(model_parts.not_numeric(outcome, seen.formats[column], count, values))
    return _Outcome(outcome, column=column, fmt=seen.formats[column])


def _every_firm(predictors: Predictors, source: PartColumns, outcome: _Outcome) -> pd.DataFrame:
    """The predictors and outcome of every firm (no more than ``model.max_firms``)."""
    columns = [*predictors.columns.values(), *outcome.columns]
    frames = []
    for _, raw in source.read(columns, dtypes=predictors.dtypes):
        frame = predictors.frame(raw)
        frame[outcome.name] = outcome.values(raw)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*predictors, outcome.name])
    return frames[0] if len(frames) == 1 else pd.concat(frames)


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


def _residual_moran(
    config: RunConfig,
    result: regression.ModelResult,
    per_area: pd.Series | None,
    graph: Graph | None,
) -> None:
    """Moran's I of the model's mean residual per area (``per_area``), added to its
    fit."""
    from klastergeo.analysis import spatial_regression

    if (
        graph is None
        or per_area is None
        or len(graph.unique_ids) < autocorrelation.MIN_AREAS_GLOBAL
    ):
        return
    # areas without firms carry no residual: 0, the model's expectation
    filled = per_area.reindex(pd.Index(graph.unique_ids)).fillna(0.0)
    moran = spatial_regression.residual_moran(
        filled,
        graph,
        permutations=min(config.analysis.permutations, 999),
        seed=config.analysis.seed,
    )
    result.fit.update({f"residual_moran_{k}": v for k, v in moran.items()})


def _whole_means(
    firms: pd.DataFrame,
    fitted: dict[str, regression.ModelResult],
    held: dict[str, NDArray[np.float64]],
) -> tuple[Means, dict[str, pd.Series]]:
    """The mean probabilities and the mean residual per area of models estimated on
    every firm (no more than ``model.max_firms``), from their fitted values."""
    residuals: dict[str, pd.Series] = {}
    if "area_code" not in firms.columns:
        return Means(), residuals
    areas = firms["area_code"]
    for kind, result in fitted.items():
        values = result.residuals.to_numpy()
        residuals[kind] = pd.Series(values).groupby(areas.to_numpy(), observed=True).mean()
    keys = [c for c in ("area_code", "sector", "sentra_id") if c in firms.columns]
    frame = firms[keys].copy(deep=False)
    columns = [f"p_{kind}" for kind in held]
    for kind, values in held.items():
        frame[f"p_{kind}"] = values
    known = frame[columns].notna().any(axis=1)
    cells = pd.DataFrame()
    if "sector" in frame.columns:
        by_cell = frame.groupby(["area_code", "sector"], observed=True)
        cells = by_cell[columns].mean()
        cells["n"] = known.groupby([frame["area_code"], frame["sector"]], observed=True).sum()
        cells["n"] = cells["n"].astype(float)
        cells.index = _plain(cast(pd.MultiIndex, cells.index))
    sentra = pd.DataFrame(columns=columns, dtype=float)
    if "sentra_id" in frame.columns:
        sentra = frame.groupby("sentra_id", observed=True)[columns].mean()
        sentra.index = sentra.index.astype(object)
    by_area = frame.groupby("area_code", observed=True)
    per_area = by_area[columns].mean()
    per_area["n"] = known.groupby(frame["area_code"], observed=True).sum().astype(float)
    per_area.index = per_area.index.astype(object)
    return Means(cells=cells, sentra=sentra, areas=per_area), residuals


def _plain(index: pd.MultiIndex) -> pd.MultiIndex:
    """A (area_code, sector) index with plain (object) levels, as the area table's."""
    return pd.MultiIndex.from_arrays(
        [index.get_level_values(i).astype(object) for i in range(index.nlevels)],
        names=["area_code", "sector"],
    )


def _part_means(
    firms: _FirmKeys,
    predictors: Predictors,
    source: PartColumns,
    outcome: _Outcome,
    fitted: dict[str, regression.ModelResult],
) -> tuple[Means, dict[str, pd.Series]]:
    """The mean probabilities and the mean residual per area of models estimated on a
    sample, every firm predicted part by part: sums and counts per group, added in the
    firms' order (the same whatever the parts). One pass over the parts; the area and
    sector of a part are numbered per distinct value, its sentra from its cells."""
    kinds = list(fitted)
    if not kinds or "area_code" not in firms.names:
        return Means(), {}
    numbering = firms.numbering()
    keys: dict[str, Any] = {**numbering, "sentra_id": model_parts.Keys()}
    keys["cell"] = model_parts.Cells(room=_SECTOR_ROOM)
    sums = {c: model_parts.GroupSums(len(kinds) + 1) for c in ("cell", "sentra_id", "area")}
    residual_sums = model_parts.GroupSums(len(kinds))
    read = [*predictors.columns.values(), *outcome.columns]
    for part in source.parts([*read, *firms.columns], dtypes=predictors.dtypes):
        labels = firms.labels(part, numbering)
        data = predictors.frame(part.frame(predictors.columns.values()))
        # the fitted values (an LPM's unclipped, as its residuals are), and the
        # probabilities the firms output has (:meth:`Models.predict`: clipped alike)
        raw_fit = np.column_stack(
            [regression.predict(fitted[k], data, clip=False).to_numpy() for k in kinds]
        )
        p = np.clip(raw_fit, 0.0, 1.0)
        y = pd.to_numeric(outcome.of(part, labels), errors="coerce").to_numpy(dtype=float)
        del data
        values = np.column_stack([p, np.where(np.isfinite(p).any(axis=1), 1.0, np.nan)])
        area = labels.area
        assert area is not None
        residual_sums.add(area, y[:, None] - raw_fit)
        sums["area"].add(area, values)
        if labels.sentra is not None:
            sums["sentra_id"].add(keys["sentra_id"].codes(labels.sentra), values)
        if labels.sector is not None:
            sums["cell"].add(keys["cell"].codes(area, labels.sector), values)
        del part, labels
    return _means_from_sums(keys, sums, kinds), _residuals_from_sums(
        keys["area_code"], residual_sums, kinds
    )


#: Sectors a cell's key leaves room for (area code * this + sector code).
_SECTOR_ROOM = 1 << 24


def _means_from_sums(
    keys: dict[str, Any],
    sums: dict[str, model_parts.GroupSums],
    kinds: list[str],
) -> Means:
    """The :class:`Means` tables from the sums per cell, sentra and area."""
    columns = [f"p_{kind}" for kind in kinds]

    def table(
        values: NDArray[np.float64], counts: NDArray[np.int64], index: pd.Index
    ) -> pd.DataFrame:
        out = pd.DataFrame(values[:, :-1], columns=columns, index=index)
        out["n"] = counts[:, -1].astype(float)
        return out

    areas = keys["area_code"].values
    n = len(areas)
    per_area = table(sums["area"].means(n), sums["area"].totals(n)[1], areas)
    cell_keys = keys["cell"].values.to_numpy(dtype=np.int64)
    sectors = keys["sector"].values
    index = pd.MultiIndex.from_arrays(
        [
            areas[cell_keys // _SECTOR_ROOM].astype(object),
            sectors[cell_keys % _SECTOR_ROOM].astype(object),
        ],
        names=["area_code", "sector"],
    )
    m = len(cell_keys)
    cells = table(sums["cell"].means(m), sums["cell"].totals(m)[1], index)
    ids = keys["sentra_id"].values
    sentra = table(sums["sentra_id"].means(len(ids)), sums["sentra_id"].totals(len(ids))[1], ids)
    return Means(cells=cells, sentra=sentra[columns], areas=per_area)


def _residuals_from_sums(
    areas: model_parts.Keys | model_parts.Labels, sums: model_parts.GroupSums, kinds: list[str]
) -> dict[str, pd.Series]:
    """Each model's mean residual per area (NaN where no firm has one)."""
    means = sums.means(len(areas.values))
    return {kind: pd.Series(means[:, j], index=areas.values) for j, kind in enumerate(kinds)}


@dataclass(frozen=True)
class Sample:
    """A stratified sample: the sampled positions (sorted) and one row per stratum."""

    positions: NDArray[np.int64]
    strata: pd.DataFrame


def _strata(sector: NDArray[np.int64] | None, outcome: pd.Series) -> NDArray[np.int64]:
    """Each firm's stratum: its sector's number (None: one sector) times 3 plus its
    outcome (0, 1, or 2 where missing)."""
    y = pd.to_numeric(outcome, errors="coerce").to_numpy(dtype=float)
    y_codes = np.where(np.isnan(y), 2, (y > 0).astype(np.int64))
    s_codes = np.zeros(len(y), np.int64) if sector is None else sector
    return s_codes * 3 + y_codes


def _strata_table(
    sectors: model_parts.Keys | model_parts.Labels,
    sizes: NDArray[np.int64],
    wanted: NDArray[np.int64],
) -> pd.DataFrame:
    """One row per stratum with firms: ``sector``, ``outcome``, ``n_firms``, ``n_sample``
    and ``weight`` (firms each sampled firm stands for)."""
    present = np.flatnonzero(sizes)
    names = np.asarray(sectors.values, dtype=object) if len(sectors.values) else np.array([0])
    return pd.DataFrame(
        {
            "sector": names[present // 3],
            "outcome": np.array([0, 1, np.nan])[present % 3],
            "n_firms": sizes[present],
            "n_sample": wanted[present],
            "weight": sizes[present] / wanted[present],
        }
    )


def stratified_sample(
    sector: pd.Series | None, outcome: pd.Series, *, size: int, seed: int | None
) -> Sample:
    """A seeded sample of about ``size`` firms, stratified by sector and outcome with
    proportional allocation: every stratum gives the same fraction of its firms
    (rounded, at least one), so every sampled firm stands for about ``n / size`` firms
    and estimates need no weights. In each stratum the firms with the smallest keys
    are taken, a key being a uniform number of the firm's position and the seed
    (:func:`~klastergeo.app.pipeline.model_parts.sample_keys`): the models step draws
    the same sample part by part. The positions are sorted (file order).

    Parameters
    ----------
    sector
        Each firm's sector (by position); None for one sector.
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
    sectors = model_parts.Keys(missing=True)
    strata = _strata(None if sector is None else sectors.codes(sector), outcome)
    sizes = np.bincount(strata, minlength=3 * max(len(sectors.values), 1))
    wanted = model_parts.strata_wanted(sizes, size=size)
    positions = np.arange(len(strata), dtype=np.int64)
    keys = model_parts.sample_keys(positions, seed=model_parts.sample_seed(seed))
    chosen = model_parts.smallest(strata, keys, positions, wanted)
    return Sample(positions=positions[chosen], strata=_strata_table(sectors, sizes, wanted))


def _sampled(
    config: RunConfig,
    firms: _FirmKeys,
    predictors: Predictors,
    source: PartColumns,
    outcome: _Outcome,
) -> tuple[Sample, pd.DataFrame]:
    """:func:`stratified_sample` drawn part by part, and the sampled firms' predictors
    and outcome, in one pass: each part's strata are counted and the firms whose key
    lies below their stratum's bound *so far* (:func:`~.model_parts.running_bounds`:
    never below the final one) are kept with their predictors; the strata counted, the
    candidates are cut to the final bounds (:func:`~.model_parts.key_bounds`: a few
    more than wanted) and those with the smallest keys are the sample. A stratum whose
    bound so far fell below its final one (never), or whose candidates are fewer than
    wanted (improbable), is read again. Only the candidates (and a part) are held."""
    numbering = firms.numbering(missing_sector=True)
    sectors = numbering["sector"]
    seed = model_parts.sample_seed(config.analysis.seed)
    size, total = config.model.max_firms, len(source)
    sizes = np.zeros(3, dtype=np.int64)
    lowest = np.ones(3)  # each stratum's lowest bound a part was cut at
    kept: list[_Kept] = []
    read = [*predictors.columns.values(), *outcome.columns]
    for part in source.parts([*read, *firms.columns], dtypes=predictors.dtypes):
        labels = firms.labels(part, numbering, areas=False)
        y = outcome.of(part, labels)
        strata = _strata(labels.sector, y)
        counted = np.bincount(strata, minlength=max(len(sizes), 3 * len(sectors.values)))
        sizes, lowest = _grown(sizes, len(counted)) + counted, _grown(lowest, len(counted), 1.0)
        bounds = model_parts.running_bounds(sizes, size=size, total=total)
        present = counted > 0
        lowest[present] = np.minimum(lowest[present], bounds[present])
        kept.append(_keep(part, predictors, outcome.name, y, strata, bounds, seed))
        del part, labels
    wanted = model_parts.strata_wanted(sizes, size=size)
    bounds = model_parts.key_bounds(wanted, sizes)
    again = lowest < bounds  # a part was cut below the final bound: read again
    while True:  # at most twice more, improbably
        if again.any():
            redo = np.where(again, bounds, -1.0)
            kept = [k.without(again) for k in kept]
            kept += _candidates(source, predictors, outcome, firms, redo, seed)
        stratum = np.concatenate([k.strata for k in kept])
        key = np.concatenate([k.keys for k in kept])
        found = np.bincount(stratum[key <= bounds[stratum]], minlength=len(sizes))
        again = found < wanted
        if not again.any():
            break
        bounds[again] = 1.0
    data = pd.concat([k.frame for k in kept]) if len(kept) > 1 else kept[0].frame
    inside = key <= bounds[stratum]
    data, stratum, key = data.iloc[np.flatnonzero(inside)], stratum[inside], key[inside]
    order = np.argsort(data.index.to_numpy(np.int64), kind="stable")  # file order
    data, stratum, key = data.iloc[order], stratum[order], key[order]
    chosen = model_parts.smallest(stratum, key, data.index.to_numpy(np.int64), wanted)
    data = data.loc[chosen]
    sample = Sample(data.index.to_numpy(np.int64), _strata_table(sectors, sizes, wanted))
    return sample, data


def _grown(values: NDArray[Any], size: int, fill: float = 0) -> NDArray[Any]:
    """``values`` with ``fill`` appended up to ``size`` entries."""
    extra = max(0, size - len(values))
    return np.concatenate([values, np.full(extra, fill, dtype=values.dtype)])


@dataclass(frozen=True)
class _Kept:
    """The candidates of a part: predictors and outcome (indexed by position), stratum
    and key."""

    frame: pd.DataFrame
    strata: NDArray[np.int64]
    keys: NDArray[np.float64]

    def without(self, strata: NDArray[np.bool_]) -> _Kept:
        """These candidates but those of the ``strata`` (a mask)."""
        keep = np.flatnonzero(~strata[self.strata])
        return _Kept(self.frame.iloc[keep], self.strata[keep], self.keys[keep])


def _keep(
    part: model_parts.Part,
    predictors: Predictors,
    name: str,
    y: pd.Series,
    strata: NDArray[np.int64],
    bounds: NDArray[np.float64],
    seed: int,
) -> _Kept:
    """The firms of a part whose sample key lies below their stratum's bound (a bound
    below 0 keeps none of the stratum): their predictors (only theirs are read),
    outcome, stratum and key."""
    keys = model_parts.sample_keys(np.arange(part.start, part.start + len(part)), seed=seed)
    rows = np.flatnonzero(keys <= bounds[strata])
    frame = predictors.frame(part.frame(predictors.columns.values(), rows))
    frame[name] = y.to_numpy()[rows]
    return _Kept(frame, strata[rows], keys[rows])


@dataclass(frozen=True)
class _Labels:
    """A part's firms' area, sector and sentra numbered in order of first appearance
    (:attr:`_FirmKeys.numbering`; -1: none; None where the firms have none), and
    ``in_sentra``."""

    area: NDArray[np.int64] | None
    sector: NDArray[np.int64] | None
    sentra: pd.Categorical | pd.Series | None
    in_sentra: pd.Series | None


#: How a pass numbers the firms' areas and sectors (:meth:`_FirmKeys.numbering`).
_Numbering = dict[str, model_parts.Keys | model_parts.Labels]


def _arrow(part: model_parts.Part, columns: Sequence[str]) -> pa.Table:
    """Some columns of a part as Arrow."""
    if isinstance(part.data, pa.Table):
        return part.data.select(list(columns))
    return pa.Table.from_pandas(part.data[list(columns)], preserve_index=False)


@dataclass(frozen=True)
class _FirmKeys:
    """Each firm's ``area_code``, ``sector``, ``sentra_id`` and ``in_sentra``, part by
    part: taken from the firms' frame, or made from each part's own columns (its area
    and sector looked up per part in the run's lists, its sentra from its cell:
    nothing held for every firm)."""

    frame: pd.DataFrame | None
    run: FirmColumns | None

    @property
    def columns(self) -> list[str]:
        """The store's columns each part is read with."""
        return list(self.run.needs) if self.run is not None else []

    @property
    def names(self) -> list[str]:
        if self.frame is not None:
            return list(self.frame.columns)
        return ["area_code", "sector", "sentra_id", "in_sentra"]

    def numbering(self, *, missing_sector: bool = False) -> _Numbering:
        """How a pass numbers the areas and sectors (:meth:`labels`): in order of first
        appearance (:class:`~.model_parts.Keys`), a missing sector numbered as any
        other with ``missing_sector``."""
        run = self.run
        sector: model_parts.Keys | model_parts.Labels
        if run is None:
            sector = model_parts.Keys(missing=missing_sector)
            return {"area_code": model_parts.Keys(), "sector": sector}
        sector = model_parts.Labels(run.sectors, missing=missing_sector)
        area = model_parts.Keys() if run.resolution is not None else model_parts.Labels(run.areas)
        return {"area_code": area, "sector": sector}

    def labels(
        self, part: model_parts.Part, numbering: _Numbering, *, areas: bool = True
    ) -> _Labels:
        """The keys of the firms of a part.

        Parameters
        ----------
        part
            The part, read with :attr:`columns`.
        numbering
            This pass's :meth:`numbering`.
        areas
            False when the areas' numbers are not wanted (None; the sentra are).
        """
        n = len(part)
        run = self.run
        if run is None:
            assert self.frame is not None
            rows = self.frame.iloc[part.start : part.start + n]
            rows = rows.set_axis(pd.RangeIndex(part.start, part.start + n), axis=0)
            has = rows.columns
            return _Labels(
                numbering["area_code"].codes(rows["area_code"]) if "area_code" in has else None,
                numbering["sector"].codes(rows["sector"]) if "sector" in has else None,
                rows["sentra_id"] if "sentra_id" in has else None,
                rows["in_sentra"] if "in_sentra" in has else None,
            )
        area_of, sector_of = numbering["area_code"], numbering["sector"]
        assert isinstance(sector_of, model_parts.Labels)
        sector, sector_rows = sector_of.lookup(part.column("sector"))
        assert sector is not None
        if isinstance(area_of, model_parts.Labels):
            area, area_rows = area_of.lookup(part.column("area_code"), numbered=areas)
            if run.point_sentra is None:
                codes = run.sentra_of(area_rows, sector_rows)
            else:
                codes = run.sentra_codes(part.start, _arrow(part, run.needs))
        else:  # an H3 run: the firms' cells
            added = run.added(part.start, _arrow(part, run.needs))
            area = area_of.codes(added["area_code"])
            codes = np.asarray(added["sentra_id"].cat.codes, dtype=np.int32)
        index = pd.RangeIndex(part.start, part.start + n)
        return _Labels(
            area,
            sector,
            pd.Categorical.from_codes(codes, categories=run.sentra_ids),
            pd.Series((codes >= 0).astype(np.int8), index=index),
        )


def _candidates(
    source: PartColumns,
    predictors: Predictors,
    outcome: _Outcome,
    firms: _FirmKeys,
    bounds: NDArray[np.float64],
    seed: int,
) -> list[_Kept]:
    """The firms whose sample key lies below their stratum's bound (none of a stratum
    whose bound is below 0), part by part (the strata numbered as the first pass did:
    the same order of the parts)."""
    kept = []
    numbering = firms.numbering(missing_sector=True)
    read = [*predictors.columns.values(), *outcome.columns]
    for part in source.parts([*read, *firms.columns], dtypes=predictors.dtypes):
        labels = firms.labels(part, numbering, areas=False)
        y = outcome.of(part, labels)
        strata = _strata(labels.sector, y)
        kept.append(_keep(part, predictors, outcome.name, y, strata, bounds, seed))
    return kept
