"""Cluster-probability models against published values and planted truth.

Reference: Spector and Mazzeo's data (statsmodels.datasets.spector), as estimated in
Greene, Econometric Analysis: logit const -13.0213, GPA 2.8261, TUCE 0.0952, PSI 2.3787
(SE 4.9313, 1.2629, 0.1416, 1.0646), log-likelihood -12.8896, McFadden R2 0.3740;
probit const -7.4523, GPA 1.6258, TUCE 0.0517, PSI 1.4263, log-likelihood -12.8188;
LPM const -1.4980, GPA 0.4639, TUCE 0.0105, PSI 0.3786.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from klastergeo.analysis import regression as models
from klastergeo.errors import ModelError
from klastergeo.publish import model_tables

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


def test_probit_reproduces_greene(spector: pd.DataFrame) -> None:
    result = models.fit(spector, "GRADE", PREDICTORS, kind="probit", robust=None)
    coef = result.coefficients.set_index("term")
    np.testing.assert_allclose(coef["estimate"], [-7.4523, 1.6258, 0.0517, 1.4263], atol=1e-4)
    assert result.fit["log_likelihood"] == pytest.approx(-12.8188, abs=1e-4)
    ref = sm.Probit(spector["GRADE"], sm.add_constant(spector[PREDICTORS])).fit(disp=0)
    assert result.fit["mcfadden_r2"] == pytest.approx(ref.prsquared)
    assert "odds_ratio" not in result.coefficients.columns


@pytest.mark.parametrize("kind", ["logit", "probit"])
def test_average_marginal_effects_match_statsmodels_and_finite_differences(
    spector: pd.DataFrame, kind: str
) -> None:
    result = models.fit(spector, "GRADE", PREDICTORS, kind=kind, robust=None)
    model = sm.Logit if kind == "logit" else sm.Probit
    exog = sm.add_constant(spector[PREDICTORS])
    ref = model(spector["GRADE"], exog).fit(disp=0)
    frame = ref.get_margeff(at="overall").summary_frame()
    ame = result.marginal_effects.set_index("term")
    np.testing.assert_allclose(ame["dy_dx"], frame.iloc[:, 0], rtol=1e-10)
    np.testing.assert_allclose(ame["std_error"], frame.iloc[:, 1], rtol=1e-8)
    # independent check: the mean derivative of the predicted probability (finite difference)
    step = 1e-6
    shifted = exog.copy()
    shifted["GPA"] += step
    derivative = (ref.predict(shifted) - ref.predict(exog)) / step
    assert ame.loc["GPA", "dy_dx"] == pytest.approx(derivative.mean(), rel=1e-4)


def test_fit_statistics_by_hand(spector: pd.DataFrame) -> None:
    result = models.fit(spector, "GRADE", PREDICTORS, kind="logit", robust=None)
    y = spector["GRADE"].to_numpy()
    p = result.fitted.to_numpy()
    # Hosmer-Lemeshow: 10 groups of 3-4 students by predicted probability
    groups = np.array_split(np.argsort(p, kind="stable"), 10)
    h = sum(
        (y[g].sum() - p[g].sum()) ** 2 / (p[g].sum() * (1 - p[g].sum() / len(g))) for g in groups
    )
    assert result.fit["hosmer_lemeshow"] == pytest.approx(h)
    assert result.fit["hosmer_lemeshow_df"] == 8
    # McFadden R2 = 1 - llf / llnull; AIC = 2k - 2 llf
    assert result.fit["mcfadden_r2"] == pytest.approx(
        1 - result.fit["log_likelihood"] / result.fit["log_likelihood_null"]
    )
    assert result.fit["aic"] == pytest.approx(2 * 4 - 2 * result.fit["log_likelihood"])
    assert result.fit["n_events"] == int(y.sum())


def test_categorical_log_and_standardised_predictors(spector: pd.DataFrame) -> None:
    frame = spector.assign(
        band=np.where(spector["TUCE"] < 20, "low", np.where(spector["TUCE"] < 25, "mid", "high"))
    )
    result = models.fit(frame, "GRADE", ["GPA", "band"], kind="lpm", categorical=["band"])
    terms = result.coefficients["term"].tolist()
    reference = frame["band"].value_counts().index[0]  # the most frequent level
    assert result.references == {"band": reference}
    expected = ["const", "GPA"] + [
        f"band[{lv}]" for lv in sorted({"low", "mid", "high"} - {reference})
    ]
    assert terms == expected
    # same as statsmodels with the dummies built by hand
    dummies = pd.get_dummies(frame["band"], dtype=float).drop(columns=reference)
    ref = sm.OLS(frame["GRADE"], sm.add_constant(pd.concat([frame[["GPA"]], dummies], axis=1))).fit(
        cov_type="HC1"
    )
    np.testing.assert_allclose(result.coefficients["estimate"], ref.params, rtol=1e-10)
    chosen = models.fit(
        frame, "GRADE", ["GPA", "band"], categorical=["band"], reference={"band": "high"}
    )
    assert "band[low]" in chosen.coefficients["term"].tolist()
    logged = models.fit(spector, "GRADE", ["GPA", "TUCE"], kind="logit", log=["GPA"])
    assert logged.coefficients["term"].tolist() == ["const", "log(GPA)", "TUCE"]
    ref = sm.Logit(
        spector["GRADE"], sm.add_constant(spector[["TUCE"]].assign(g=np.log(spector["GPA"])))
    ).fit(disp=0)
    assert logged.coefficients.set_index("term").loc["log(GPA)", "estimate"] == pytest.approx(
        ref.params["g"], rel=1e-6
    )
    scaled = models.fit(spector, "GRADE", ["GPA", "TUCE"], kind="lpm", standardise=True)
    raw = models.fit(spector, "GRADE", ["GPA", "TUCE"], kind="lpm")
    ratio = (
        scaled.coefficients.set_index("term").loc["GPA", "estimate"]
        / raw.coefficients.set_index("term").loc["GPA", "estimate"]
    )
    assert ratio == pytest.approx(spector["GPA"].std(ddof=0))
    with pytest.raises(ModelError, match="zero or negative"):
        models.fit(spector.assign(Z=spector["PSI"]), "GRADE", ["Z"], log=["Z"])
    with pytest.raises(ModelError, match="reference level 'none'"):
        models.fit(frame, "GRADE", ["band"], categorical=["band"], reference={"band": "none"})


def test_collinearity_reports_vif(spector: pd.DataFrame) -> None:
    result = models.fit(spector, "GRADE", PREDICTORS, kind="lpm")
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    exog = sm.add_constant(spector[PREDICTORS]).to_numpy()
    expected = [variance_inflation_factor(exog, i) for i in range(1, 4)]
    np.testing.assert_allclose(result.vif["vif"], expected, rtol=1e-8)
    with pytest.raises(ModelError, match=r"GPA2 \(VIF inf\)"):
        models.fit(
            spector.assign(GPA2=spector["GPA"] * 2 + spector["PSI"]),
            "GRADE",
            ["GPA", "PSI", "GPA2"],
        )


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
    with pytest.raises(ModelError, match="kind='tobit'"):
        models.fit(spector, "GRADE", ["GPA"], kind="tobit")  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="perfectly separated"):
        models.fit(
            spector.assign(SEP=spector["GRADE"] * 10.0 + spector["GPA"] * 0.01),
            "GRADE",
            ["SEP"],
            kind="probit",
        )


def test_reports_and_files(spector: pd.DataFrame, tmp_path) -> None:
    import json

    result = models.fit(spector, "GRADE", PREDICTORS, kind="logit")
    text = model_tables.to_markdown(result)
    assert text.startswith("# Logit: GRADE")
    assert "| GPA | 2.8261 |" in text
    assert "Classification table" in text and "Average marginal effects" in text
    paths = model_tables.write(result, tmp_path / "models")
    assert sorted(p.name for p in paths.values()) == sorted(
        f"logit{suffix}"
        for suffix in (
            "_coefficients.csv",
            "_marginal_effects.csv",
            "_classification.csv",
            "_vif.csv",
            "_fit.json",
            ".md",
            ".html",
            ".tex",
        )
    )
    coefficients = pd.read_csv(paths["coefficients"])
    assert list(coefficients.columns[:7]) == list(models.COEFFICIENT_COLUMNS)
    fit = json.loads(paths["fit"].read_text())
    assert {"n", "log_likelihood", "mcfadden_r2", "aic", "bic", "auc"} <= set(fit)
    assert fit["log_likelihood"] == pytest.approx(-12.8896, abs=1e-4)
    html = paths["html"].read_text()
    assert html.startswith("<!DOCTYPE html>") and "<table" in html and "2.8261" in html
    tex = paths["latex"].read_text()
    assert "\\begin{tabular}" in tex and "\\toprule" in tex and "2.8261" in tex
    assert "Classification table" in tex


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["logit", "probit", "lpm"])
def test_zero_effects_are_significant_at_the_usual_rate(kind: str) -> None:
    """Planted truth: 120 samples from a logit with two null predictors. A null effect is
    significant at 5 % in about 5 % of samples (binomial 99 % range for 240 tests:
    1.5-9 %), and the real effect nearly always."""
    rng = np.random.default_rng(21)
    null_hits = real_hits = 0
    for _ in range(120):
        n = 600
        frame = pd.DataFrame(
            {"x": rng.normal(size=n), "z1": rng.normal(size=n), "z2": rng.binomial(1, 0.4, n)}
        )
        eta = -0.5 + 0.8 * frame["x"]
        frame["y"] = rng.binomial(1, 1 / (1 + np.exp(-eta)))
        result = models.fit(frame, "y", ["x", "z1", "z2"], kind=kind)
        p = result.coefficients.set_index("term")["p_value"]
        null_hits += int(p["z1"] < 0.05) + int(p["z2"] < 0.05)
        real_hits += int(p["x"] < 0.05)
    assert 0.015 <= null_hits / 240 <= 0.09
    assert real_hits / 120 > 0.95


def test_standard_errors_default_to_robust_for_the_lpm_only(spector: pd.DataFrame) -> None:
    exog = sm.add_constant(spector[PREDICTORS])
    logit = models.fit(spector, "GRADE", PREDICTORS, kind="logit")
    ml = sm.Logit(spector["GRADE"], exog).fit(disp=0)
    np.testing.assert_allclose(logit.coefficients["std_error"], ml.bse, rtol=1e-8)
    sandwich = models.fit(spector, "GRADE", PREDICTORS, kind="logit", robust="HC1")
    ref = sm.Logit(spector["GRADE"], exog).fit(disp=0, cov_type="HC1")
    np.testing.assert_allclose(sandwich.coefficients["std_error"], ref.bse, rtol=1e-8)
    lpm = models.fit(spector, "GRADE", PREDICTORS, kind="lpm", robust=None)
    ols = sm.OLS(spector["GRADE"], exog).fit()
    np.testing.assert_allclose(lpm.coefficients["std_error"], ols.bse, rtol=1e-10)


def test_categorical_predictors_need_a_few_levels_of_several_rows() -> None:
    """One level gives no dummy (was a shape error deep in statsmodels); a level per row
    made hundreds of dummies and ran for minutes; a reference for a numeric predictor was
    silently ignored."""
    from klastergeo.errors import ModelError

    rng = np.random.default_rng(3)
    n = 400
    data = pd.DataFrame(
        {
            "y": (rng.random(n) < 0.4).astype(float),
            "x": rng.normal(size=n),
            "one": "lokal",
            "code": [f"c{i}" for i in range(n)],
            "milik": rng.choice(["lokal", "cabang"], n),
        }
    )
    with pytest.raises(ModelError, match=r"'one' has 1 level\(s\) \('lokal'\)"):
        models.fit(data, "y", ["x", "one"], kind="lpm", categorical=["one"])
    with pytest.raises(ModelError, match=r"'code' has 400 levels for 400 rows; at most 50"):
        models.fit(data, "y", ["x", "code"], kind="lpm", categorical=["code"])
    with pytest.raises(ModelError, match=r"reference levels are given for 'x'"):
        models.fit(
            data, "y", ["x", "milik"], kind="lpm", categorical=["milik"], reference={"x": "1"}
        )
    fitted = models.fit(data, "y", ["x", "milik"], kind="lpm", categorical=["milik"])
    assert "milik[lokal]" in set(fitted.coefficients["term"])
    empty = data.assign(x=np.nan)
    with pytest.raises(
        ModelError,
        match=r"no row has a value for the outcome and every predictor \('x' are empty\)",
    ):
        models.fit(empty, "y", ["x"], kind="lpm")


@pytest.mark.parametrize("kind", ["lpm", "logit", "probit"])
def test_predict_applies_the_design_to_other_rows(kind: str) -> None:
    """With logged, standardised and categorical predictors, :func:`models.predict`
    gives the fitted probabilities on the estimation rows (statsmodels' own predict)
    and NaN where a value is missing or a level was never seen."""
    rng = np.random.default_rng(11)
    n = 600
    data = pd.DataFrame(
        {
            "workers": rng.integers(1, 40, n).astype(float),
            "output": rng.lognormal(3, 1, n),
            "kind": rng.choice(["home", "shop", "factory"], n),
        }
    )
    eta = -1 + 0.05 * data["workers"] + 0.3 * (data["kind"] == "shop")
    data["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    data.loc[5, "output"] = np.nan
    result = models.fit(
        data,
        "y",
        ["workers", "output", "kind"],
        kind=kind,
        categorical=["kind"],
        log=["output"],
        standardise=True,
    )
    predicted = models.predict(result, data)
    pd.testing.assert_series_equal(predicted, result.probability, check_names=False, rtol=1e-9)
    other = pd.DataFrame({"workers": [3.0, 3.0], "output": [5.0, 5.0], "kind": ["shop", "boat"]})
    p = models.predict(result, other)
    assert np.isfinite(p.iloc[0]) and np.isnan(p.iloc[1])


@pytest.mark.parametrize(
    ("lang", "titles", "tiny"),
    [("id", ("Konstanta", "Tenaga kerja", "di sentra"), "< 0,001"),
     ("en", ("Constant", "Workers", "in a sentra"), "< 0.001")],
)  # fmt: skip
def test_model_pages_title_terms_as_the_workbook_and_p_values_as_messages(
    lang: str, titles: tuple[str, ...], tiny: str, tmp_path
) -> None:
    """The pages showed ``const``, the registry's ``tenaga_kerja`` and p = ``0,0000``:
    they title terms as the workbook does (the role's title for a mapped column) and
    write a tiny p as ``< 0,001``; the CSV and JSON files keep the machine's names. A
    planted logit whose slope is far from 0 (p far below 0.001)."""
    import json

    rng = np.random.default_rng(11)
    x = rng.normal(size=800)
    y = (rng.random(800) < 1 / (1 + np.exp(-(0.5 + 2.0 * x)))).astype(int)
    data = pd.DataFrame({"in_sentra": y, "tenaga_kerja": x})
    result = models.fit(data, "in_sentra", ["tenaga_kerja"], kind="logit")
    assert float(result.coefficients["p_value"].iloc[1]) < 1e-6
    roles = {"tenaga_kerja": "workers"}
    paths = model_tables.write(result, tmp_path, lang=lang, roles=roles)
    for page in ("markdown", "html", "latex"):
        text = paths[page].read_text("utf-8")
        assert all(t in text for t in titles), (page, titles)
        assert tiny.replace("<", "&lt;" if page == "html" else "<") in text, page
        assert "tenaga" not in text.replace("Tenaga kerja", ""), page
        assert "in_sentra" not in text and "const" not in text.replace("Constant", ""), page
        assert "0,0000" not in text and "0.0000" not in text, page
    coefficients = pd.read_csv(paths["coefficients"])
    assert list(coefficients["term"]) == ["const", "tenaga_kerja"]
    assert json.loads(paths["fit"].read_text())["outcome"] == "in_sentra"
