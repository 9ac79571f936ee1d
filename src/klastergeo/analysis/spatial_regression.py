"""Spatial diagnostics and spatial regression of area-level models (spreg).

Regression on areas needs the check the source studies lacked: are the residuals spatially
autocorrelated, and if so, is a spatial lag (spillover of the outcome) or a spatial error
(spatially correlated omitted factors) the better model?

- :func:`residual_moran`: Moran's I of any model's residuals on the area weights (our
  engine, analytical and permutation inference);
- :func:`ols_diagnostics`: OLS of an area-level outcome with spreg's diagnostics: Moran's I
  of the residuals, LM-lag, LM-error, their robust forms and LM-SARMA;
- :func:`fit_spatial`: maximum-likelihood spatial lag or spatial error model (spreg's
  ``ML_Lag`` / ``ML_Error``) for a continuous area-level outcome, e.g. a sector's workers per
  area on area characteristics.

Decision rule (Anselin 2005): if neither LM test is significant keep OLS; if one is, take
that model; if both are, take the one whose *robust* LM is significant (or larger).
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from libpysal.graph import Graph

from klastergeo._docstrings import fill
from klastergeo.analysis import autocorrelation
from klastergeo.errors import ModelError, preview

__all__ = ["fit_spatial", "ols_diagnostics", "recommend", "residual_moran"]

logger = logging.getLogger(__name__)


# numpydoc piece shared by the area-level models (see klastergeo._docstrings)
_MODEL_DATA = """
Parameters
----------
data
    One row per area, indexed by area code; every area of ``graph`` needs a row with
    numeric ``outcome`` and ``predictors`` (other rows and columns are ignored).
outcome
    Column of ``data`` with the outcome; it must vary between areas.
predictors
    Columns of ``data`` with the explanatory variables; a constant is added, so none
    may be constant or a linear combination of the others.
graph
    Spatial weights between the areas (row-standardised here); no area may be
    without neighbours.
"""


def _quiet_spreg() -> None:
    """spreg's report builder uses pandas APIs pandas deprecates (FutureWarning and
    DeprecationWarning subclasses); they are not about the user's data."""
    warnings.simplefilter("ignore", category=FutureWarning)
    warnings.simplefilter("ignore", category=DeprecationWarning)


def _aligned(
    data: pd.DataFrame, outcome: str, predictors: Sequence[str], graph: Graph
) -> tuple[np.ndarray, np.ndarray, Graph]:
    """y (n, 1) and X (n, k) in the graph's order; errors name missing areas or values."""
    missing = [c for c in (outcome, *predictors) if c not in data.columns]
    if missing:
        raise ModelError(f"column(s) {preview(missing)} are not in the area data")
    ids = pd.Index(graph.unique_ids)
    absent = ids.difference(data.index)
    if len(absent):
        raise ModelError(
            f"{len(absent)} area(s) of the weights have no row in the data "
            f"(e.g. {preview(list(absent[:3]))}); build the weights on the same areas"
        )
    frame = data.reindex(ids)[[outcome, *predictors]].apply(pd.to_numeric, errors="coerce")
    bad = frame.isna().any(axis=1)
    if bad.any():
        raise ModelError(
            f"{int(bad.sum())} area(s) have missing or non-numeric values "
            f"(e.g. {preview(list(frame.index[bad][:3]))}); spatial models need every area"
        )
    if len(graph.isolates):
        raise ModelError(
            f"{len(graph.isolates)} area(s) have no neighbour; attach them "
            "(weights.attach_islands) before a spatial model"
        )
    y = frame[[outcome]].to_numpy(float)
    x = frame[list(predictors)].to_numpy(float)
    _check_design(y, x, outcome, list(predictors))
    return y, x, graph


def _check_design(y: np.ndarray, x: np.ndarray, outcome: str, predictors: list[str]) -> None:
    """Refuse what OLS cannot estimate, naming the cause: too few areas, a constant
    outcome or predictor, or predictors that are linear combinations of others."""
    n, k = x.shape
    needed = max(k + 2, autocorrelation.MIN_AREAS_GLOBAL)
    if n < needed:
        raise ModelError(
            f"{n} area(s) are too few for {k} predictor(s) with spatial diagnostics; at least "
            f"{needed} are needed"
        )
    if np.ptp(y) == 0:
        raise ModelError(f"outcome {outcome!r} has the same value in every area")
    constant = [p for p, spread in zip(predictors, np.ptp(x, axis=0), strict=True) if spread == 0]
    if constant:
        raise ModelError(
            f"predictor(s) {preview(constant)} have the same value in every area (they "
            "duplicate the constant); drop them"
        )
    design = np.column_stack([np.ones(n), x])
    if np.linalg.matrix_rank(design) < k + 1:
        redundant = [
            name
            for i, name in enumerate(predictors)
            if np.linalg.matrix_rank(np.delete(design, i + 1, axis=1))
            == np.linalg.matrix_rank(design)
        ]
        raise ModelError(
            f"predictors are perfectly collinear (rank {np.linalg.matrix_rank(design)} of "
            f"{k + 1} with the constant): {preview(redundant)} can each be written from the "
            "others; drop one"
        )


def residual_moran(
    residuals: pd.Series,
    graph: Graph,
    *,
    permutations: int = 999,
    seed: int | None = 0,
) -> dict[str, float]:
    """Moran's I of residuals per area on row-standardised ``graph``.

    ``residuals`` is indexed by area code (e.g. the mean firm-level residual of each area).
    Returns ``moran_i``, ``expected``, ``z`` and ``p_norm`` (randomisation moments),
    ``p_sim`` (permutations). For the residuals of an OLS fitted on the areas themselves,
    :func:`ols_diagnostics` gives the exact regression-residual test as well.

    Parameters
    ----------
    residuals
        One residual per area, indexed by area code; every area of ``graph`` needs one.
    graph
        Spatial weights between the areas.
    permutations
        Total permutations of the residuals for ``p_sim`` (0: ``p_sim`` is NaN).
    seed
        Seed of the permutations (``numpy.random.default_rng``).
    """
    aligned = residuals.reindex(pd.Index(graph.unique_ids))
    if aligned.isna().any():
        raise ModelError(
            f"{int(aligned.isna().sum())} area(s) of the weights have no residual "
            f"(e.g. {preview(list(aligned.index[aligned.isna()][:3]))})"
        )
    result = autocorrelation.global_moran(aligned, graph, permutations=permutations, seed=seed)
    return {
        "moran_i": result.value,
        "expected": result.expected,
        "z": result.z_rand,
        "p_norm": result.p_rand,
        "p_sim": result.p_sim,
    }


@fill(model_data=_MODEL_DATA)
def ols_diagnostics(
    data: pd.DataFrame, outcome: str, predictors: Sequence[str], graph: Graph
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """OLS of an area-level outcome with the spatial diagnostics of spreg.

    {model_data}

    Returns
    -------
    coefficients
        ``term``, ``estimate``, ``std_error``, ``statistic``, ``p_value``.
    diagnostics
        ``test`` (``moran_residuals``, ``lm_lag``, ``robust_lm_lag``, ``lm_error``,
        ``robust_lm_error``, ``lm_sarma``), ``statistic`` (Moran's I or LM), ``z`` (Moran
        only), ``df`` and ``p_value``; the recommendation is :func:`recommend`.
    """
    import spreg

    y, X, graph = _aligned(data, outcome, predictors, graph)
    weights = graph.transform("r").to_W()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        _quiet_spreg()
        model = spreg.OLS(y, X, w=weights, spat_diag=True, moran=True, name_y=outcome)
    se = np.asarray(model.std_err).ravel()
    t = np.asarray([v[0] for v in model.t_stat])
    p = np.asarray([v[1] for v in model.t_stat])
    coefficients = pd.DataFrame(
        {
            "term": ["const", *predictors],
            "estimate": np.asarray(model.betas).ravel(),
            "std_error": se,
            "statistic": t,
            "p_value": p,
        }
    )
    rows = [
        {
            "test": "moran_residuals",
            "statistic": model.moran_res[0],
            "z": model.moran_res[1],
            "df": np.nan,
            "p_value": model.moran_res[2],
        }
    ]
    for name, attr, df in (
        ("lm_lag", "lm_lag", 1),
        ("robust_lm_lag", "rlm_lag", 1),
        ("lm_error", "lm_error", 1),
        ("robust_lm_error", "rlm_error", 1),
        ("lm_sarma", "lm_sarma", 2),
    ):
        value = getattr(model, attr)
        rows.append(
            {"test": name, "statistic": value[0], "z": np.nan, "df": df, "p_value": value[1]}
        )
    return coefficients, pd.DataFrame(rows)


def recommend(diagnostics: pd.DataFrame, *, alpha: float = 0.05) -> str:
    """``"ols"``, ``"lag"`` or ``"error"`` by Anselin's decision rule on the LM tests.

    Parameters
    ----------
    diagnostics
        The diagnostics of :func:`ols_diagnostics`: columns ``test``, ``statistic`` and
        ``p_value``, with rows ``lm_lag``, ``lm_error``, ``robust_lm_lag`` and
        ``robust_lm_error``.
    alpha
        Significance level of the LM tests.

    Examples
    --------
    >>> d = pd.DataFrame({"test": ["lm_lag", "robust_lm_lag", "lm_error", "robust_lm_error"],
    ...                   "statistic": [8.9, 3.7, 5.2, 0.04], "p_value": [0.003, 0.05, 0.02, 0.8]})
    >>> recommend(d)
    'lag'
    """
    p = diagnostics.set_index("test")["p_value"]
    s = diagnostics.set_index("test")["statistic"]
    lag, error = p["lm_lag"] <= alpha, p["lm_error"] <= alpha
    if not lag and not error:
        return "ols"
    if lag != error:
        return "lag" if lag else "error"
    robust_lag, robust_error = p["robust_lm_lag"] <= alpha, p["robust_lm_error"] <= alpha
    if robust_lag != robust_error:
        return "lag" if robust_lag else "error"
    return "lag" if s["robust_lm_lag"] >= s["robust_lm_error"] else "error"


@fill(model_data=_MODEL_DATA)
def fit_spatial(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    graph: Graph,
    *,
    model: Literal["lag", "error"] = "lag",
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Maximum-likelihood spatial lag or spatial error model of an area-level outcome.

    Returns the tidy coefficients (``term``, ``estimate``, ``std_error``, ``statistic``,
    ``p_value``; the spatial parameter is ``rho`` for lag, ``lambda`` for error) and the fit
    (``n``, ``log_likelihood``, ``aic``, ``schwarz``, ``pseudo_r2``).

    {model_data}
    model
        ``"lag"`` (spreg's ``ML_Lag``: spillover of the outcome) or ``"error"``
        (``ML_Error``: spatially correlated errors); :func:`recommend` suggests one.
    """
    import spreg

    if model not in ("lag", "error"):
        raise ModelError(f"model={model!r} is not accepted; use 'lag' or 'error'")
    y, X, graph = _aligned(data, outcome, predictors, graph)
    weights = graph.transform("r").to_W()
    # spreg prints the model's name to stdout; the library does not print
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        _quiet_spreg()
        warnings.simplefilter("ignore", category=RuntimeWarning)
        if model == "lag":
            result = spreg.ML_Lag(y, X, w=weights, name_y=outcome)
        else:
            result = spreg.ML_Error(y, X, w=weights, name_y=outcome)
    spatial = "rho" if model == "lag" else "lambda"
    terms = ["const", *predictors, spatial]
    betas = np.asarray(result.betas).ravel()
    z = [v[0] for v in result.z_stat]
    p = [v[1] for v in result.z_stat]
    coefficients = pd.DataFrame(
        {
            "term": terms,
            "estimate": betas,
            "std_error": np.asarray(result.std_err).ravel(),
            "statistic": z,
            "p_value": p,
        }
    )
    fit = {
        "n": int(result.n),
        "log_likelihood": float(result.logll),
        "aic": float(result.aic),
        "schwarz": float(result.schwarz),
        "pseudo_r2": float(result.pr2),
    }
    return coefficients, fit
