"""Cluster-probability models: linear probability model (LPM) and logit, via statsmodels.

The default outcome is "the firm lies in a sentra of its own sector"; any 0/1 column works.
Results carry tidy tables as the source studies publish them: coefficients with robust
standard errors, fit statistics and the classification table of the Surakarta study (for
actual 0 and actual 1: share predicted 0 and 1 and the mean predicted probability).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from klastergeo._errors import ModelError, preview

__all__ = ["ModelResult", "classification_table", "fit", "roc_auc"]

logger = logging.getLogger(__name__)

Kind = Literal["lpm", "logit"]
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
    """

    kind: str
    outcome: str
    predictors: tuple[str, ...]
    coefficients: pd.DataFrame
    fit: dict[str, float]
    classification: pd.DataFrame
    probability: pd.Series
    fitted: pd.Series = field(repr=False)


def roc_auc(y: NDArray[np.floating], p: NDArray[np.floating]) -> float:
    """Area under the ROC curve (Mann-Whitney form; ties count one half).

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

    >>> classification_table(np.array([0, 0, 1, 1]), np.array([0.2, 0.6, 0.7, 0.9]))
    ...     # doctest: +NORMALIZE_WHITESPACE
            n  predicted_0  predicted_1  mean_probability
    actual
    0       2          0.5          0.5               0.4
    1       2          0.0          1.0               0.8
    all     4          0.25         0.75              0.6
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


def _design(
    data: pd.DataFrame, outcome: str, predictors: Sequence[str]
) -> tuple[pd.Series, pd.DataFrame, NDArray[np.bool_]]:
    missing = [c for c in (outcome, *predictors) if c not in data.columns]
    if missing:
        raise ModelError(
            f"column(s) {preview(missing)} are not in the data; available: "
            f"{', '.join(map(str, data.columns))}"
        )
    if not predictors:
        raise ModelError("no predictors given; name at least one numeric column")
    X = pd.DataFrame(index=data.index)
    for name in predictors:
        column = data[name]
        if pd.api.types.is_bool_dtype(column.dtype):
            column = column.astype(float)
        if not pd.api.types.is_numeric_dtype(column.dtype):
            raise ModelError(
                f"predictor {name!r} is not numeric (dtype {column.dtype}); "
                "categorical predictors arrive with a later version"
            )
        X[name] = column.astype(float)
    y = data[outcome]
    if pd.api.types.is_bool_dtype(y.dtype):
        y = y.astype(float)
    values = pd.to_numeric(y, errors="coerce")
    bad = values.notna() & ~values.isin([0, 1])
    if bad.any():
        raise ModelError(f"outcome {outcome!r} must be 0/1; found {preview(values[bad].unique())}")
    complete = (values.notna() & X.notna().all(axis=1)).to_numpy()
    y_used = values[complete].astype(float)
    if y_used.nunique() < 2:
        raise ModelError(
            f"outcome {outcome!r} has a single value ({preview(y_used.unique())}) "
            "among complete rows; a model needs both 0 and 1"
        )
    X_used = X.loc[complete]
    constant = [c for c in X_used.columns if X_used[c].nunique() < 2]
    if constant:
        raise ModelError(f"predictor(s) {preview(constant)} are constant; drop them")
    matrix = np.column_stack([np.ones(len(X_used)), X_used.to_numpy()])
    rank = np.linalg.matrix_rank(matrix)
    if rank < matrix.shape[1]:
        raise ModelError(
            f"predictors {preview(list(X_used.columns))} are collinear (rank "
            f"{rank} of {matrix.shape[1]} with the constant); drop one of them"
        )
    return y_used, X_used, complete


def fit(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    kind: Kind = "lpm",
    robust: str | None = "HC1",
    cutoff: float = 0.5,
) -> ModelResult:
    """Fit an LPM (OLS, robust SE by default) or a logit of a 0/1 outcome.

    Rows with a missing outcome or predictor are left out (counted in ``n_dropped``).

    Parameters
    ----------
    data
        One row per firm (index: record id).
    outcome
        A 0/1 column.
    predictors
        Numeric columns.
    kind
        ``"lpm"`` or ``"logit"``.
    robust
        Heteroskedasticity-consistent covariance (``"HC0"``-``"HC3"``) or None.
    cutoff
        Probability at which a firm is predicted 1 in the classification table.

    Examples
    --------
    >>> import statsmodels.api as sm
    >>> spector = sm.datasets.spector.load_pandas().data
    >>> result = fit(spector, "GRADE", ["GPA", "TUCE", "PSI"], kind="logit", robust=None)
    >>> round(result.fit["log_likelihood"], 4)
    -12.8896
    """
    import statsmodels.api as sm

    if kind not in ("lpm", "logit"):
        raise ModelError(f"kind={kind!r} is not accepted; use 'lpm' or 'logit'")
    y, X, complete = _design(data, outcome, predictors)
    exog = sm.add_constant(X, has_constant="add")
    cov = {"cov_type": robust} if robust else {}
    with warnings.catch_warnings():
        try:
            if kind == "lpm":
                result = sm.OLS(y, exog).fit(**cov)
            else:
                from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

                warnings.simplefilter("error", category=PerfectSeparationWarning)
                result = sm.Logit(y, exog).fit(disp=0, maxiter=200, **cov)
        except Exception as err:
            if "separation" in str(err).lower():
                raise ModelError(
                    f"outcome {outcome!r} is perfectly separated by the predictors "
                    f"{preview(list(predictors))}; drop or coarsen the separating predictor"
                ) from err
            raise
    conf = result.conf_int()
    coefficients = pd.DataFrame(
        {
            "term": ["const", *X.columns],
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
    fitted_used = np.asarray(result.predict(exog), dtype=float)
    fitted = pd.Series(np.nan, index=data.index, name=f"fitted_{kind}")
    fitted[complete] = fitted_used
    probability = fitted.clip(0.0, 1.0).rename(f"p_{kind}")
    y_arr = y.to_numpy()
    fit_stats: dict[str, float] = {
        "n": len(y),
        "n_dropped": int((~complete).sum()),
        "log_likelihood": float(result.llf),
        "aic": float(result.aic),
        "bic": float(result.bic),
        "auc": roc_auc(y_arr, fitted_used),
        "count_r2": float(((fitted_used >= cutoff) == (y_arr == 1)).mean()),
        "cutoff": cutoff,
    }
    if kind == "lpm":
        fit_stats["r2"] = float(result.rsquared)
        fit_stats["share_outside_01"] = float(((fitted_used < 0) | (fitted_used > 1)).mean())
    else:
        fit_stats["mcfadden_r2"] = float(result.prsquared)
    if fit_stats["n_dropped"]:
        logger.warning("%s: %d row(s) with missing values left out", kind, fit_stats["n_dropped"])
    return ModelResult(
        kind=kind,
        outcome=outcome,
        predictors=tuple(predictors),
        coefficients=coefficients,
        fit=fit_stats,
        classification=classification_table(y_arr, fitted_used, cutoff=cutoff),
        probability=probability,
        fitted=fitted,
    )


def to_markdown(result: ModelResult) -> str:
    """A short Markdown report: coefficients, fit and classification table."""

    def table(frame: pd.DataFrame, index: bool = False) -> str:
        shown = frame.reset_index() if index else frame
        header = "| " + " | ".join(map(str, shown.columns)) + " |"
        rule = "|" + "---|" * len(shown.columns)
        body = [
            "| " + " | ".join(_fmt(v) for v in row) + " |" for row in shown.itertuples(index=False)
        ]
        return "\n".join([header, rule, *body])

    title = {"lpm": "Linear probability model (OLS, robust SE)", "logit": "Logit"}[result.kind]
    fit_lines = "\n".join(f"- {k}: {_fmt(v)}" for k, v in result.fit.items())
    return (
        f"# {title}: {result.outcome}\n\n## Coefficients\n\n{table(result.coefficients)}"
        f"\n\n## Fit\n\n{fit_lines}\n\n## Classification table (cut-off "
        f"{_fmt(result.fit['cutoff'])})\n\n{table(result.classification, index=True)}\n"
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4f}" if np.isfinite(value) else ""
    return str(value)
