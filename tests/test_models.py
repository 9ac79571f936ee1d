"""Cluster-probability models against published values and planted truth.

Reference: Spector and Mazzeo's data (statsmodels.datasets.spector), as estimated in
Greene, Econometric Analysis: logit const -13.0213, GPA 2.8261, TUCE 0.0952, PSI 2.3787
(SE 4.9313, 1.2629, 0.1416, 1.0646), log-likelihood -12.8896, McFadden R2 0.3740;
LPM const -1.4980, GPA 0.4639, TUCE 0.0105, PSI 0.3786.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from klastergeo import models
from klastergeo._errors import ModelError

PREDICTORS = ["GPA", "TUCE", "PSI"]


@pytest.fixture(scope="module")
def spector() -> pd.DataFrame:
    return sm.datasets.spector.load_pandas().data


def test_logit_reproduces_greene(spector: pd.DataFrame) -> None:
    result = models.fit(spector, "GRADE", PREDICTORS, kind="logit", robust=None)
    coef = result.coefficients.set_index("term")
    np.testing.assert_allclose(coef["estimate"], [-13.0213, 2.8261, 0.0952, 2.3787], atol=1e-4)
    np.testing.assert_allclose(coef["std_error"], [4.9313, 1.2629, 0.1416, 1.0646], atol=1e-4)
    assert result.fit["log_likelihood"] == pytest.approx(-12.8896, abs=1e-4)
    assert result.fit["mcfadden_r2"] == pytest.approx(0.3740, abs=1e-4)
    np.testing.assert_allclose(coef["odds_ratio"], np.exp(coef["estimate"]))
    assert list(result.coefficients.columns[:7]) == list(models.COEFFICIENT_COLUMNS)


def test_lpm_reproduces_greene(spector: pd.DataFrame) -> None:
    result = models.fit(spector, "GRADE", PREDICTORS, kind="lpm")
    coef = result.coefficients.set_index("term")["estimate"]
    np.testing.assert_allclose(coef, [-1.4980, 0.4639, 0.0105, 0.3786], atol=1e-4)
    # robust (HC1) standard errors by default, as statsmodels computes them
    ref = sm.OLS(spector["GRADE"], sm.add_constant(spector[PREDICTORS])).fit(cov_type="HC1")
    np.testing.assert_allclose(result.coefficients["std_error"], ref.bse)
    assert 0 < result.fit["share_outside_01"] < 1
    assert result.fit["r2"] == pytest.approx(ref.rsquared)


def test_classification_table_closed_form() -> None:
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.7, 0.6, 0.9])
    table = models.classification_table(y, p)
    assert table.loc["0", "predicted_1"] == pytest.approx(1 / 3)
    assert table.loc["1", "predicted_1"] == 1.0
    assert table.loc["0", "mean_probability"] == pytest.approx(1.0 / 3)
    assert table.loc["1", "mean_probability"] == pytest.approx(0.75)
    assert table.loc["all", "mean_probability"] == pytest.approx(0.5)
    assert table.loc["all", "n"] == 5


def test_auc_against_pairwise_definition() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    p = rng.uniform(size=300) + 0.3 * y
    pos, neg = p[y == 1], p[y == 0]
    pairwise = (
        (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    ) / (len(pos) * len(neg))
    assert models.roc_auc(y, p) == pytest.approx(pairwise)


def test_planted_logit_is_recovered() -> None:
    """Firms drawn from a known logit: true values inside the 95 % intervals, null effect
    not significant."""
    rng = np.random.default_rng(11)
    n = 6000
    frame = pd.DataFrame(
        {
            "workers": rng.poisson(4, n) + 1.0,
            "market": rng.normal(0, 1, n),
            "noise": rng.normal(0, 1, n),
        }
    )
    truth = {"const": -1.0, "workers": 0.2, "market": 0.8, "noise": 0.0}
    eta = truth["const"] + truth["workers"] * frame["workers"] + truth["market"] * frame["market"]
    frame["in_sentra"] = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    result = models.fit(frame, "in_sentra", ["workers", "market", "noise"], kind="logit")
    coef = result.coefficients.set_index("term")
    for term, value in truth.items():
        assert coef.loc[term, "conf_low"] <= value <= coef.loc[term, "conf_high"], term
    assert coef.loc["noise", "p_value"] > 0.05
    assert coef.loc["market", "p_value"] < 1e-6
    assert result.fit["auc"] > 0.7


def test_missing_values_are_left_out_and_counted(spector: pd.DataFrame) -> None:
    frame = spector.copy()
    frame.loc[frame.index[:3], "TUCE"] = np.nan
    result = models.fit(frame, "GRADE", PREDICTORS, kind="lpm")
    assert result.fit["n"] == 29
    assert result.fit["n_dropped"] == 3
    assert result.probability.iloc[:3].isna().all()
    assert result.probability.index.equals(frame.index)


def test_errors_name_the_problem(spector: pd.DataFrame) -> None:
    with pytest.raises(ModelError, match=r"column\(s\) 'AGE' are not in the data"):
        models.fit(spector, "GRADE", ["GPA", "AGE"])
    with pytest.raises(ModelError, match=r"predictor\(s\) 'ONE' are constant"):
        models.fit(spector.assign(ONE=1.0), "GRADE", ["GPA", "ONE"])
    with pytest.raises(ModelError, match="are collinear"):
        models.fit(spector.assign(GPA2=spector["GPA"] * 2), "GRADE", ["GPA", "GPA2"])
    with pytest.raises(ModelError, match="must be 0/1"):
        models.fit(spector, "TUCE", ["GPA"])
    with pytest.raises(ModelError, match="has a single value"):
        models.fit(spector.assign(Z=0), "Z", ["GPA"])
    with pytest.raises(ModelError, match="perfectly separated"):
        models.fit(
            spector.assign(SEP=spector["GRADE"] * 10.0 + spector["GPA"] * 0.01),
            "GRADE",
            ["SEP"],
            kind="logit",
        )
    with pytest.raises(ModelError, match="kind='probit'"):
        models.fit(spector, "GRADE", ["GPA"], kind="probit")  # arrives with a later issue


def test_markdown_report(spector: pd.DataFrame) -> None:
    result = models.fit(spector, "GRADE", PREDICTORS, kind="logit")
    text = models.to_markdown(result)
    assert text.startswith("# Logit: GRADE")
    assert "| GPA | 2.8261 |" in text
    assert "Classification table" in text
