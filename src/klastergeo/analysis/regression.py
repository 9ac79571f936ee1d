"""Cluster-probability models: linear probability model (LPM), logit and probit.

The default outcome is "the firm lies in a sentra of its own sector"; any 0/1 column works.
Results carry tidy tables as the source studies publish them: coefficients with robust
standard errors (LPM) or maximum-likelihood ones, odds ratios (logit), average marginal
effects (logit, probit), fit statistics (log-likelihood, McFadden R2, count R2, AIC/BIC,
Hosmer-Lemeshow, ROC AUC), variance inflation factors and the classification table of the
Surakarta study (for actual 0 and actual 1: share predicted 0 and 1 and the mean predicted
probability). :mod:`klastergeo.publish.model_tables` exports them as CSV, JSON, Markdown,
HTML and LaTeX.

Predictors may be numeric, 0/1 or categorical (dummies against a stated reference level:
the most frequent one unless given), optionally log-transformed and standardised. Spatial
diagnostics of area-level models live in :mod:`klastergeo.analysis.spatial_regression`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from klastergeo.errors import ModelError, preview

__all__ = [
    "KINDS",
    "Design",
    "ModelResult",
    "classification_table",
    "fit",
    "hosmer_lemeshow",
    "predict",
    "roc_auc",
    "vif",
]

logger = logging.getLogger(__name__)

Kind = Literal["lpm", "logit", "probit"]
KINDS: tuple[str, ...] = ("lpm", "logit", "probit")
COEFFICIENT_COLUMNS = (
    "term",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
)


@dataclass(frozen=True)
class ModelResult:
    """A fitted cluster-probability model.

    Attributes
    ----------
    coefficients
        Tidy table: ``term``, ``estimate``, ``std_error``, ``statistic``, ``p_value``,
        ``conf_low``, ``conf_high`` (and ``odds_ratio`` for logit).
    fit
        ``n``, ``n_dropped`` (rows with missing values), ``log_likelihood``, ``aic``, ``bic``,
        ``auc``, ``count_r2``, plus ``r2`` and ``share_outside_01`` (LPM) or ``mcfadden_r2``
        (logit).
    classification
        The classification table (see :func:`classification_table`), on the raw fitted
        values (an LPM's may lie outside [0, 1]; ``share_outside_01`` says how often).
    probability
        Predicted probability per row of the input (NaN where a predictor is missing);
        LPM values are clipped to [0, 1] here, the raw fitted values are in ``fitted``.
    marginal_effects
        Average marginal effects (``term``, ``dy_dx``, ``std_error``, ``statistic``,
        ``p_value``, ``conf_low``, ``conf_high``); for the LPM the coefficients themselves.
    vif
        Variance inflation factor of every design column (``term``, ``vif``).
    references
        The reference level of each categorical predictor.
    residuals
        Response residuals ``y - fitted`` per row of the input (NaN where left out).
    design
        How predictors became the design matrix (logs, dummy levels, standardisation),
        so that :func:`predict` applies the model to other rows.
    """

    kind: str
    outcome: str
    predictors: tuple[str, ...]
    coefficients: pd.DataFrame
    fit: dict[str, float]
    classification: pd.DataFrame
    probability: pd.Series
    fitted: pd.Series = field(repr=False)
    marginal_effects: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    vif: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    references: dict[str, str] = field(default_factory=dict)
    residuals: pd.Series = field(default_factory=lambda: pd.Series(dtype=float), repr=False)
    design: Design | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Design:
    """How a model's predictors became its design matrix: the logged predictors, the
    levels of each categorical one (reference first) and the standardised columns'
    mean and standard deviation (of the estimation rows)."""

    predictors: tuple[str, ...]
    log: tuple[str, ...] = ()
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    scale: dict[str, tuple[float, float]] = field(default_factory=dict)


def predict(result: ModelResult, data: pd.DataFrame, *, clip: bool = True) -> pd.Series:
    """The model's probability for other rows (e.g. every firm of a registry whose
    model was estimated on a sample): the predictors transformed as in estimation, the
    linear predictor through the model's link (LPM values clipped to [0, 1]).

    Each row's value depends on that row alone (element-wise arithmetic, no matrix
    product), so predicting the rows in parts of any size gives the same numbers as
    predicting them at once.

    Parameters
    ----------
    result
        A fitted model (:func:`fit`).
    data
        Rows with the model's predictors; a row with a missing value, or a categorical
        level the estimation did not see, gets NaN.
    clip
        Clip an LPM's values to [0, 1] (its probability); False for its fitted values,
        whose ``y - fitted`` are its residuals (logit and probit values lie in [0, 1]).

    Returns
    -------
    Series
        ``p_<kind>`` per row of ``data``.

    Examples
    --------
    >>> import statsmodels.api as sm
    >>> spector = sm.datasets.spector.load_pandas().data
    >>> result = fit(spector, "GRADE", ["GPA", "TUCE", "PSI"], kind="logit", robust=None)
    >>> bool(np.allclose(predict(result, spector), result.probability))
    True
    """
    if result.design is None:
        raise ModelError(f"the {result.kind} model carries no design; refit it with fit()")
    design = result.design
    beta = result.coefficients.set_index("term")["estimate"]
    eta = np.full(len(data), float(beta["const"]))
    complete = np.ones(len(data), dtype=bool)
    for name in design.predictors:
        if name in design.levels:
            text = data[name].astype("string")
            known = text.isin(design.levels[name]).to_numpy(dtype=bool, na_value=False)
            complete &= known
            for level in design.levels[name][1:]:
                eta += float(beta[f"{name}[{level}]"]) * (text == level).to_numpy(
                    dtype=float, na_value=0.0
                )
            continue
        values = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
        key = name
        if name in design.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.where(values > 0, np.log(values), np.nan)
            key = f"log({name})"
        if key in design.scale:
            mean, sd = design.scale[key]
            values = (values - mean) / sd
        complete &= np.isfinite(values)
        eta += float(beta[key]) * np.where(np.isfinite(values), values, 0.0)
    if result.kind == "logit":
        p = 1.0 / (1.0 + np.exp(-eta))
    elif result.kind == "probit":
        from scipy.stats import norm

        p = norm.cdf(eta)
    else:
        p = np.clip(eta, 0.0, 1.0) if clip else eta
    return pd.Series(np.where(complete, p, np.nan), index=data.index, name=f"p_{result.kind}")


def roc_auc(y: NDArray[np.floating], p: NDArray[np.floating]) -> float:
    """Area under the ROC curve (Mann-Whitney form; ties count one half).

    Parameters
    ----------
    y
        Observed outcomes, 0 or 1.
    p
        Predicted probabilities (or any score ordering the rows), one per outcome.

    Returns
    -------
    The AUC, between 0 and 1; NaN when ``y`` holds only one of the two values.

    Examples
    --------
    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    y = np.asarray(y, dtype=float)
    ranks = stats.rankdata(np.asarray(p, dtype=float))
    n1 = float((y == 1).sum())
    n0 = float((y == 0).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def classification_table(
    y: NDArray[np.floating], p: NDArray[np.floating], *, cutoff: float = 0.5
) -> pd.DataFrame:
    """The Surakarta study's classification table.

    Rows ``0`` (actual non-members), ``1`` (actual members) and ``all``; columns ``n``,
    ``predicted_0`` and ``predicted_1`` (shares of the row), ``mean_probability``.

    Parameters
    ----------
    y
        Observed outcomes, 0 or 1.
    p
        Predicted probabilities, one per outcome.
    cutoff
        A row is predicted 1 when its probability is at least this.

    Examples
    --------
    >>> classification_table(np.array([0, 0, 1, 1]), np.array([0.2, 0.6, 0.7, 0.9]))
    ...     # doctest: +NORMALIZE_WHITESPACE
            n  predicted_0  predicted_1  mean_probability
    actual
    0       2         0.50         0.50               0.4
    1       2         0.00         1.00               0.8
    all     4         0.25         0.75               0.6
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    predicted = p >= cutoff
    rows = {}
    for label, mask in (("0", y == 0), ("1", y == 1), ("all", np.ones(len(y), dtype=bool))):
        n = int(mask.sum())
        share1 = float(predicted[mask].mean()) if n else np.nan
        rows[label] = {
            "n": n,
            "predicted_0": 1.0 - share1 if n else np.nan,
            "predicted_1": share1,
            "mean_probability": float(p[mask].mean()) if n else np.nan,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "actual"
    return table


def hosmer_lemeshow(
    y: NDArray[np.floating], p: NDArray[np.floating], *, groups: int = 10
) -> tuple[float, int, float]:
    """Hosmer-Lemeshow goodness of fit: (statistic, degrees of freedom, p-value).

    Rows are put in ``groups`` groups of (nearly) equal size by predicted probability;
    ``H = sum_g (O_g - E_g)^2 / (E_g (1 - E_g / n_g))`` with ``groups - 2`` degrees of
    freedom. Probabilities are clipped to (0, 1) first (an LPM's may lie outside).

    Parameters
    ----------
    y
        Observed outcomes, 0 or 1.
    p
        Predicted probabilities, one per outcome.
    groups
        Number of groups (deciles by default); the degrees of freedom are at least 1.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 1])
    >>> p = np.linspace(0.05, 0.95, 10)
    >>> round(hosmer_lemeshow(y, p, groups=5)[0], 4)
    3.2063
    """
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    order = np.argsort(p, kind="stable")
    statistic = 0.0
    for part in np.array_split(order, groups):  # a loop over groups (10), not rows
        if not len(part):
            continue
        observed = y[part].sum()
        expected = p[part].sum()
        n_g = len(part)
        statistic += (observed - expected) ** 2 / (expected * (1 - expected / n_g))
    df = max(groups - 2, 1)
    return float(statistic), df, float(stats.chi2.sf(statistic, df))


def vif(design: pd.DataFrame) -> pd.DataFrame:
    """Variance inflation factor of every column of a design (without the constant):
    ``1 / (1 - R2)`` of the column regressed on the others and a constant; infinite for
    an exact linear combination.

    Parameters
    ----------
    design
        Numeric predictors, one column each, without the constant column.

    Returns
    -------
    DataFrame with ``term`` (the column names) and ``vif``.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [2.0, 1, 4, 3, 6]})
    >>> vif(d)["vif"].round(3).tolist()  # 1 / (1 - r^2), r = 0.82
    [3.083, 3.083]
    """
    values = design.to_numpy(dtype=float)
    out = []
    for j in range(values.shape[1]):  # one regression per predictor (tens)
        others = np.column_stack([np.ones(len(values)), np.delete(values, j, axis=1)])
        target = values[:, j]
        beta, *_ = np.linalg.lstsq(others, target, rcond=None)
        residual = target - others @ beta
        total = ((target - target.mean()) ** 2).sum()
        r2 = 1.0 - (residual @ residual) / total if total > 0 else 1.0
        out.append(np.inf if r2 >= 1.0 - 1e-12 else 1.0 / (1.0 - r2))
    return pd.DataFrame({"term": list(design.columns), "vif": out})


def _outcome(data: pd.DataFrame, outcome: str) -> pd.Series:
    y = data[outcome]
    if pd.api.types.is_bool_dtype(y.dtype):
        y = y.astype(float)
    values = pd.to_numeric(y, errors="coerce")
    bad = values.notna() & ~values.isin([0, 1])
    if bad.any():
        raise ModelError(f"outcome {outcome!r} must be 0/1; found {preview(values[bad].unique())}")
    return values


#: Most levels a categorical predictor may have (one dummy each).
MAX_LEVELS = 50


def _check_names(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    categorical: Sequence[str],
    log: Sequence[str],
) -> None:
    missing = [c for c in (outcome, *predictors) if c not in data.columns]
    if missing:
        raise ModelError(
            f"column(s) {preview(missing)} are not in the data; available: "
            f"{', '.join(map(str, data.columns))}"
        )
    if not predictors:
        raise ModelError("no predictors given; name at least one column")
    for option, names in (("categorical", categorical), ("log", log)):
        unknown = [c for c in names if c not in predictors]
        if unknown:
            raise ModelError(f"{option} names {preview(unknown)}, which are not predictors")


def _parse_predictors(
    data: pd.DataFrame, predictors: Sequence[str], categorical: Sequence[str]
) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Numeric predictors (as float) and categorical ones (as text); a mostly-text
    column not named in ``categorical`` is treated as categorical."""
    numeric: dict[str, pd.Series] = {}
    categories: dict[str, pd.Series] = {}
    for name in predictors:
        column = data[name]
        if pd.api.types.is_bool_dtype(column.dtype):
            column = column.astype(float)
        if name in categorical:
            categories[name] = column.astype("string")
            continue
        parsed = pd.to_numeric(column, errors="coerce")
        text = column.notna() & parsed.isna()
        if text.any():
            if pd.api.types.is_numeric_dtype(column.dtype) or text.mean() < 0.5:
                raise ModelError(
                    f"predictor {name!r} has {int(text.sum())} non-numeric value(s) "
                    f"({preview(column[text].unique())}); fix them or name the column in "
                    "categorical"
                )
            logger.info("predictor %r is text: treated as categorical", name)
            categories[name] = column.astype("string")
            continue
        numeric[name] = parsed.astype(float)
    return numeric, categories


def _logged(
    numeric: dict[str, pd.Series], categories: dict[str, pd.Series], log: Sequence[str]
) -> dict[str, pd.Series]:
    out = dict(numeric)
    for name in log:
        if name in categories:
            raise ModelError(f"log transform of categorical predictor {name!r}")
        bad = out[name].notna() & (out[name] <= 0)
        if bad.any():
            raise ModelError(
                f"log of predictor {name!r}: {int(bad.sum())} value(s) are zero or negative "
                f"(e.g. {preview(out[name][bad].unique())}); use a positive column"
            )
        out[name] = np.log(out[name])
    return out


def _complete_rows(
    outcome: str,
    values: pd.Series,
    numeric: dict[str, pd.Series],
    categories: dict[str, pd.Series],
) -> NDArray[np.bool_]:
    complete = values.notna()
    for series in (*numeric.values(), *categories.values()):
        complete &= series.notna()
    mask: NDArray[np.bool_] = complete.to_numpy()
    if not mask.any():
        empty = [
            name
            for name, series in ((outcome, values), *numeric.items(), *categories.items())
            if series.isna().all()
        ]
        raise ModelError(
            "no row has a value for the outcome and every predictor"
            + (f" ({preview(empty)} are empty)" if empty else "")
        )
    return mask


def _dummies(
    name: str, levels: pd.Series, reference: str | None
) -> tuple[str, dict[str, pd.Series]]:
    """Reference level and one 0/1 column per other level of a categorical predictor."""
    counts = levels.value_counts()
    if len(counts) < 2:
        raise ModelError(
            f"categorical predictor {name!r} has {len(counts)} level(s) "
            f"({preview(counts.index)}) among complete rows; it needs two or more"
        )
    most = min(MAX_LEVELS, max(2, len(levels) // 5))
    if len(counts) > most:
        raise ModelError(
            f"categorical predictor {name!r} has {len(counts):,} levels for "
            f"{len(levels):,} rows; at most {most} are accepted (about five rows a "
            "level and no more than 50); group its levels or use it as a number"
        )
    base = str(counts.index[0] if reference is None else reference)
    if base not in counts.index:
        raise ModelError(
            f"reference level {base!r} of {name!r} does not occur; levels: "
            f"{preview(sorted(counts.index))}"
        )
    columns = {
        f"{name}[{level}]": (levels == level).astype(float)
        for level in sorted(counts.index)
        if level != base
    }
    return base, columns


def _standardised(
    X: pd.DataFrame, numeric: Sequence[str], log: Sequence[str], standardise: bool | Sequence[str]
) -> tuple[pd.DataFrame, dict[str, tuple[float, float]]]:
    """The design with the chosen columns z-scored, and their mean and SD."""
    if not standardise:
        return X, {}
    X = X.copy()
    chosen = list(numeric) if standardise is True else list(standardise)
    scale: dict[str, tuple[float, float]] = {}
    for name in chosen:
        key = f"log({name})" if name in log else name
        if key not in X.columns:
            raise ModelError(f"standardise names {name!r}, which is not a numeric predictor")
        scale[key] = (float(X[key].mean()), float(X[key].std(ddof=0)))
        X[key] = (X[key] - scale[key][0]) / scale[key][1]
    return X, scale


def _check_rank(X: pd.DataFrame) -> None:
    constant = [c for c in X.columns if X[c].nunique() < 2]
    if constant:
        raise ModelError(f"predictor(s) {preview(constant)} are constant; drop them")
    matrix = np.column_stack([np.ones(len(X)), X.to_numpy()])
    rank = np.linalg.matrix_rank(matrix)
    if rank < matrix.shape[1]:
        inflation = vif(X)
        worst = inflation.sort_values("vif", ascending=False).head(4)
        listed = ", ".join(
            f"{t} (VIF {v:.3g})" for t, v in zip(worst["term"], worst["vif"], strict=True)
        )
        raise ModelError(
            f"predictors are collinear (rank {rank} of {matrix.shape[1]} with the constant): "
            f"{listed}; drop one of those with infinite VIF"
        )


def _design(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    log: Sequence[str] = (),
    standardise: bool | Sequence[str] = False,
) -> tuple[pd.Series, pd.DataFrame, NDArray[np.bool_], Design]:
    """Outcome, design matrix (without constant) of the complete rows, the complete-row
    mask and how the design was made (:class:`Design`)."""
    _check_names(data, outcome, predictors, categorical=categorical, log=log)
    reference = dict(reference or {})
    values = _outcome(data, outcome)
    numeric, categories = _parse_predictors(data, predictors, categorical)
    numeric = _logged(numeric, categories, log)
    mask = _complete_rows(outcome, values, numeric, categories)
    unknown_reference = sorted(set(reference) - set(categories))
    if unknown_reference:
        raise ModelError(
            f"reference levels are given for {preview(unknown_reference)}, which are not "
            f"categorical predictors ({preview(sorted(categories)) or 'none'})"
        )
    y_used = values[mask].astype(float)
    if y_used.nunique() < 2:
        raise ModelError(
            f"outcome {outcome!r} has a single value ({preview(y_used.unique())}) "
            "among complete rows; a model needs both 0 and 1"
        )
    columns: dict[str, pd.Series] = {}
    levels: dict[str, tuple[str, ...]] = {}
    for name in predictors:  # keep the user's order
        if name in numeric:
            columns[f"log({name})" if name in log else name] = numeric[name][mask]
        else:
            base, dummies = _dummies(name, categories[name][mask], reference.get(name))
            levels[name] = (base, *(key[len(name) + 1 : -1] for key in dummies))
            columns.update(dummies)
    X = pd.DataFrame(columns, index=y_used.index)
    _check_rank(X)
    X, scale = _standardised(X, list(numeric), log, standardise)
    design = Design(
        predictors=tuple(predictors),
        log=tuple(n for n in log if n in numeric),
        levels=levels,
        scale=scale,
    )
    return y_used, X, mask, design


def _estimate(
    kind: Kind, y: pd.Series, exog: pd.DataFrame, robust: str | None, *, outcome: str
) -> Any:
    """The statsmodels result; perfect separation becomes a :class:`ModelError`."""
    # the models' own modules, not statsmodels.api (which imports its graphics, time
    # series and formula modules too: about a second in a fresh process)
    from statsmodels.discrete.discrete_model import Logit, Probit
    from statsmodels.regression.linear_model import OLS

    cov = {"cov_type": robust} if robust else {}
    with warnings.catch_warnings():
        try:
            if kind == "lpm":
                return OLS(y, exog).fit(**cov)
            from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

            warnings.simplefilter("error", category=PerfectSeparationWarning)
            model = Logit(y, exog) if kind == "logit" else Probit(y, exog)
            return model.fit(disp=0, maxiter=200, **cov)
        except Exception as err:
            if "separation" in str(err).lower():
                raise ModelError(
                    f"outcome {outcome!r} is perfectly separated by the predictors "
                    f"{preview(list(exog.columns[1:]))}; drop or coarsen the separating predictor"
                ) from err
            raise


def _coefficient_table(result: Any, terms: Sequence[str], kind: Kind) -> pd.DataFrame:
    conf = result.conf_int()
    coefficients = pd.DataFrame(
        {
            "term": ["const", *terms],
            "estimate": result.params.to_numpy(),
            "std_error": result.bse.to_numpy(),
            "statistic": result.tvalues.to_numpy(),
            "p_value": result.pvalues.to_numpy(),
            "conf_low": conf.iloc[:, 0].to_numpy(),
            "conf_high": conf.iloc[:, 1].to_numpy(),
        }
    )
    if kind == "logit":
        coefficients["odds_ratio"] = np.exp(coefficients["estimate"])
        coefficients["odds_ratio_low"] = np.exp(coefficients["conf_low"])
        coefficients["odds_ratio_high"] = np.exp(coefficients["conf_high"])
    return coefficients


def _fit_statistics(
    result: Any,
    kind: Kind,
    y: NDArray[np.floating],
    fitted: NDArray[np.floating],
    *,
    n_dropped: int,
    cutoff: float,
) -> dict[str, float]:
    hl, hl_df, hl_p = hosmer_lemeshow(y, fitted)
    stats: dict[str, float] = {
        "n": len(y),
        "n_dropped": n_dropped,
        "n_events": int(y.sum()),
        "log_likelihood": float(result.llf),
        "aic": float(result.aic),
        "bic": float(result.bic),
        "auc": roc_auc(y, fitted),
        "count_r2": float(((fitted >= cutoff) == (y == 1)).mean()),
        "hosmer_lemeshow": hl,
        "hosmer_lemeshow_df": hl_df,
        "hosmer_lemeshow_p": hl_p,
        "cutoff": cutoff,
    }
    if kind == "lpm":
        stats["r2"] = float(result.rsquared)
        stats["adj_r2"] = float(result.rsquared_adj)
        stats["share_outside_01"] = float(((fitted < 0) | (fitted > 1)).mean())
    else:
        stats["log_likelihood_null"] = float(result.llnull)
        stats["mcfadden_r2"] = float(result.prsquared)
        stats["lr_statistic"] = float(result.llr)
        stats["lr_p_value"] = float(result.llr_pvalue)
    return stats


def _marginal_effects(result: Any, kind: Kind, coefficients: pd.DataFrame) -> pd.DataFrame:
    """Average marginal effects: the coefficients for the LPM, statsmodels' overall
    dy/dx for logit and probit."""
    if kind == "lpm":
        marginal = coefficients.loc[coefficients["term"] != "const", list(COEFFICIENT_COLUMNS)]
        return marginal.rename(columns={"estimate": "dy_dx"}).reset_index(drop=True)
    frame = result.get_margeff(at="overall", method="dydx").summary_frame()
    names = ("dy_dx", "std_error", "statistic", "p_value", "conf_low", "conf_high")
    return pd.DataFrame(
        {"term": list(frame.index)}
        | {name: frame.iloc[:, i].to_numpy() for i, name in enumerate(names)}
    )


def fit(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    kind: Kind = "lpm",
    robust: str | None = "auto",
    cutoff: float = 0.5,
    categorical: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    log: Sequence[str] = (),
    standardise: bool | Sequence[str] = False,
) -> ModelResult:
    """Fit an LPM (OLS, robust SE by default), a logit or a probit of a 0/1 outcome.

    Rows with a missing outcome or predictor are left out (counted in ``n_dropped``).

    Parameters
    ----------
    data
        One row per firm (index: record id).
    outcome
        A 0/1 column.
    predictors
        Numeric, 0/1 or categorical columns (text columns are categorical).
    kind
        ``"lpm"``, ``"logit"`` or ``"probit"``.
    robust
        ``"auto"`` (default: HC1 for the LPM, whose errors are heteroskedastic by
        construction; the usual maximum-likelihood errors for logit and probit, as the
        studies report them), a heteroskedasticity-consistent covariance
        (``"HC0"``-``"HC3"``; for logit and probit the quasi-ML "sandwich") or None.
    cutoff
        Probability at which a firm is predicted 1 in the classification table.
    categorical
        Predictors to treat as categories: one 0/1 dummy ``name[level]`` per level but
        the reference.
    reference
        Reference level per categorical predictor (default: its most frequent level).
    log
        Predictors to log-transform (must be positive); their terms are ``log(name)``.
    standardise
        True (every numeric predictor) or names: z-score them, so coefficients are per
        standard deviation.

    Examples
    --------
    >>> import statsmodels.api as sm
    >>> spector = sm.datasets.spector.load_pandas().data
    >>> result = fit(spector, "GRADE", ["GPA", "TUCE", "PSI"], kind="logit", robust=None)
    >>> round(result.fit["log_likelihood"], 4)
    -12.8896
    """
    if kind not in KINDS:
        raise ModelError(f"kind={kind!r} is not accepted; use one of {', '.join(KINDS)}")
    if not 0 < cutoff < 1:
        raise ModelError(f"cutoff={cutoff!r} must lie between 0 and 1")
    y, X, complete, design = _design(
        data,
        outcome,
        predictors,
        categorical=categorical,
        reference=reference,
        log=log,
        standardise=standardise,
    )
    from statsmodels.tools.tools import add_constant

    exog = add_constant(X, has_constant="add")
    if robust == "auto":  # the LPM's errors are heteroskedastic by construction
        robust = "HC1" if kind == "lpm" else None
    result = _estimate(kind, y, exog, robust, outcome=outcome)
    coefficients = _coefficient_table(result, list(X.columns), kind)
    fitted_used = np.asarray(result.predict(exog), dtype=float)
    fitted = pd.Series(np.nan, index=data.index, name=f"fitted_{kind}")
    fitted[complete] = fitted_used
    y_arr = y.to_numpy()
    residuals = pd.Series(np.nan, index=data.index, name=f"residual_{kind}")
    residuals[complete] = y_arr - fitted_used
    n_dropped = int((~complete).sum())
    if n_dropped:
        logger.warning("%s: %d row(s) with missing values left out", kind, n_dropped)
    references = {name: levels[0] for name, levels in design.levels.items()}
    if references:
        logger.info("%s: categorical references %s", kind, references)
    return ModelResult(
        kind=kind,
        outcome=outcome,
        predictors=tuple(predictors),
        coefficients=coefficients,
        fit=_fit_statistics(result, kind, y_arr, fitted_used, n_dropped=n_dropped, cutoff=cutoff),
        classification=classification_table(y_arr, fitted_used, cutoff=cutoff),
        probability=fitted.clip(0.0, 1.0).rename(f"p_{kind}"),
        fitted=fitted,
        marginal_effects=_marginal_effects(result, kind, coefficients),
        vif=vif(X),
        references=references,
        residuals=residuals,
        design=design,
    )
