"""Spatial diagnostics and models: Columbus (published OLS), spreg, planted spatial lag."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from libpysal import examples
from libpysal.graph import Graph

from klastergeo.analysis import spatial_regression as spatial_models
from klastergeo.analysis import weights
from klastergeo.errors import ModelError
from tests.worlds.lattice import lattice


@pytest.fixture(scope="module")
def columbus() -> tuple[pd.DataFrame, Graph]:
    frame = gpd.read_file(examples.get_path("columbus.shp"))
    frame.index = pd.Index([f"c{i:02d}" for i in range(len(frame))], name="area_code")
    graph = Graph.build_contiguity(frame, rook=False)
    return frame, graph


def test_columbus_ols_reproduces_the_published_estimates(columbus) -> None:
    """Anselin (1988): CRIME on INC and HOVAL, OLS: 68.6190, -1.5973, -0.2739."""
    frame, graph = columbus
    coefficients, diagnostics = spatial_models.ols_diagnostics(
        frame, "CRIME", ["INC", "HOVAL"], graph
    )
    np.testing.assert_allclose(coefficients["estimate"], [68.6190, -1.5973, -0.2739], atol=1e-4)
    tests = diagnostics.set_index("test")
    assert set(tests.index) == {
        "moran_residuals",
        "lm_lag",
        "robust_lm_lag",
        "lm_error",
        "robust_lm_error",
        "lm_sarma",
    }
    # the LM statistics add up: LM-SARMA = LM-lag + robust LM-error = LM-error + robust LM-lag
    assert tests.loc["lm_sarma", "statistic"] == pytest.approx(
        tests.loc["lm_lag", "statistic"] + tests.loc["robust_lm_error", "statistic"], rel=1e-6
    )
    assert tests.loc["lm_sarma", "statistic"] == pytest.approx(
        tests.loc["lm_error", "statistic"] + tests.loc["robust_lm_lag", "statistic"], rel=1e-6
    )
    assert spatial_models.recommend(diagnostics) == "lag"


def test_residual_moran_equals_spregs(columbus) -> None:
    frame, graph = columbus
    coefficients, diagnostics = spatial_models.ols_diagnostics(
        frame, "CRIME", ["INC", "HOVAL"], graph
    )
    beta = coefficients["estimate"].to_numpy()
    residuals = frame["CRIME"] - (beta[0] + beta[1] * frame["INC"] + beta[2] * frame["HOVAL"])
    ours = spatial_models.residual_moran(residuals, graph, permutations=999, seed=1)
    spreg_i = diagnostics.set_index("test").loc["moran_residuals", "statistic"]
    assert ours["moran_i"] == pytest.approx(spreg_i, rel=1e-10)
    assert ours["p_sim"] < 0.05


@pytest.mark.slow
def test_planted_spatial_lag_is_recovered() -> None:
    """y = (I - rho W)^-1 (1 + 2 x + e) on a 20 x 20 lattice, rho = 0.6, 20 replications:
    the LM-lag test finds the lag, and the 95 % intervals of rho and of x's effect cover
    the truth at about their level."""
    areas = lattice(20, 20)
    graph = weights.contiguity(areas, rook=True).transform("r")
    rng = np.random.default_rng(4)
    n = len(areas)
    inverse = np.linalg.inv(np.eye(n) - 0.6 * graph.sparse.toarray())
    covered = {"rho": 0, "x": 0}
    estimates = []
    for _ in range(20):
        x = rng.normal(size=n)
        y = inverse @ (1.0 + 2.0 * x + rng.normal(size=n))
        data = pd.DataFrame({"y": y, "x": x}, index=areas.index)
        _, diagnostics = spatial_models.ols_diagnostics(data, "y", ["x"], graph)
        assert spatial_models.recommend(diagnostics) == "lag"
        coefficients, fit = spatial_models.fit_spatial(data, "y", ["x"], graph, model="lag")
        row = coefficients.set_index("term")
        for term, truth in (("rho", 0.6), ("x", 2.0)):
            half = 1.96 * row.loc[term, "std_error"]
            covered[term] += abs(row.loc[term, "estimate"] - truth) <= half
        estimates.append(row.loc["rho", "estimate"])
        assert fit["n"] == n
    assert covered["rho"] >= 16 and covered["x"] >= 16, covered
    assert np.mean(estimates) == pytest.approx(0.6, abs=0.03)
    error_model, _ = spatial_models.fit_spatial(data, "y", ["x"], graph, model="error")
    assert error_model["term"].tolist() == ["const", "x", "lambda"]


def test_spatial_models_name_bad_input(columbus) -> None:
    frame, graph = columbus
    with pytest.raises(ModelError, match="no row in the data"):
        spatial_models.ols_diagnostics(frame.iloc[:-1], "CRIME", ["INC"], graph)
    with pytest.raises(ModelError, match="missing or non-numeric"):
        spatial_models.ols_diagnostics(frame.assign(INC=np.nan), "CRIME", ["INC"], graph)
    with pytest.raises(ModelError, match="model='sem'"):
        spatial_models.fit_spatial(frame, "CRIME", ["INC"], graph, model="sem")  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ["ols", "lag", "error"])
def test_constant_and_collinear_predictors_are_named(columbus, model: str) -> None:
    """A constant predictor (duplicating the intercept) and an exact linear combination
    made spreg's term list disagree with its coefficients (a traceback); now the
    project's own error names them."""
    frame, graph = columbus
    data = frame.assign(ONE=5.0, BOTH=frame["INC"] + 2 * frame["HOVAL"])

    def fit(predictors: list[str]) -> None:
        if model == "ols":
            spatial_models.ols_diagnostics(data, "CRIME", predictors, graph)
        else:
            spatial_models.fit_spatial(data, "CRIME", predictors, graph, model=model)

    with pytest.raises(ModelError, match=r"predictor\(s\) 'ONE' have the same value"):
        fit(["INC", "ONE"])
    with pytest.raises(ModelError, match=r"perfectly collinear .*'INC', 'HOVAL', 'BOTH'"):
        fit(["INC", "HOVAL", "BOTH"])
    with pytest.raises(ModelError, match=r"outcome 'ONE' has the same value"):
        spatial_models.ols_diagnostics(data, "ONE", ["INC"], graph)


def test_too_few_areas_for_a_spatial_model() -> None:
    areas = lattice(1, 3)
    graph = weights.contiguity(areas)
    data = pd.DataFrame({"y": [1.0, 2.0, 4.0], "x": [0.5, 0.1, 0.9]}, index=areas.index)
    with pytest.raises(ModelError, match=r"3 area\(s\) are too few"):
        spatial_models.ols_diagnostics(data, "y", ["x"], graph)
