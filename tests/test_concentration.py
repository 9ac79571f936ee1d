"""Concentration indices against hand computations, closed forms, scipy and planted truths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from klastergeo.analysis import concentration
from klastergeo.errors import ConfigError

# Two areas, two sectors: a = (30, 10), b = (2, 58); V = 100, V_13 = 32.
SMALL = pd.DataFrame({"13": [30, 2], "31": [10, 58]}, index=["a", "b"])


def test_lq_and_its_interval_by_hand() -> None:
    out = concentration.location_quotient(SMALL)
    lq = (30 / 40) / (32 / 100)
    assert out.loc[("a", "13"), "lq"] == pytest.approx(lq, rel=1e-12)
    # Moineddin et al. (2003): var(ln LQ) = 1/x_ij - 1/x_i. + 1/x_.j - 1/x_..
    se = np.sqrt(1 / 30 - 1 / 40 + 1 / 32 - 1 / 100)
    z = stats.norm.ppf(0.975)
    assert out.loc[("a", "13"), "lq_low"] == pytest.approx(lq * np.exp(-z * se), rel=1e-12)
    assert out.loc[("a", "13"), "lq_high"] == pytest.approx(lq * np.exp(z * se), rel=1e-12)


def test_lq_p_value_is_scipy_binomial_test() -> None:
    out = concentration.location_quotient(SMALL)
    for area, sector in [("a", "13"), ("b", "13"), ("b", "31"), ("a", "31")]:
        n = int(SMALL.loc[area].sum())
        k = int(SMALL.loc[area, sector])
        share = SMALL[sector].sum() / SMALL.to_numpy().sum()
        expected = stats.binomtest(k, n, share, alternative="greater").pvalue
        assert out.loc[(area, sector), "p_value"] == pytest.approx(expected, rel=1e-9)


def test_lq_interval_covers_the_true_lq_at_its_level() -> None:
    """Planted truth: areas of 400 firms drawn with known sector probabilities."""
    rng = np.random.default_rng(7)
    n_areas = 2000
    probs = np.array([0.10, 0.30, 0.60])
    special = np.array([0.25, 0.25, 0.50])  # area 0's true mix: LQ_0 = 2.5 for sector 0
    mixes = np.vstack([special, np.tile(probs, (n_areas - 1, 1))])
    hits = []
    for _ in range(300):
        counts = np.vstack([rng.multinomial(400, p) for p in mixes[:2]])
        rest = rng.multinomial(400 * (n_areas - 2), probs)
        matrix = pd.DataFrame(np.vstack([counts, rest]), columns=["x", "y", "z"])
        out = concentration.location_quotient(matrix).loc[(0, "x")]
        true_share = (special[0] * 400 + probs[0] * 400 * (n_areas - 1)) / (400 * n_areas)
        true_lq = special[0] / true_share
        hits.append(out["lq_low"] <= true_lq <= out["lq_high"])
    coverage = float(np.mean(hits))
    assert 0.95 - 3 * np.sqrt(0.95 * 0.05 / 300) <= coverage <= 1.0


def test_lq_of_non_counts_has_no_interval() -> None:
    out = concentration.location_quotient(SMALL * 1.25)
    assert out["lq"].notna().all()
    assert out[["lq_low", "lq_high", "p_value"]].isna().all().all()


def test_lq_area_without_anything_is_nan_and_zero_count_has_no_interval() -> None:
    matrix = pd.DataFrame({"13": [0, 5, 0], "31": [4, 5, 0]}, index=["a", "b", "c"])
    out = concentration.location_quotient(matrix)
    assert out.loc["c"].isna().all().all()
    assert out.loc[("a", "13"), "lq"] == 0.0
    assert np.isnan(out.loc[("a", "13"), "lq_low"])
    assert out.loc[("a", "13"), "p_value"] == 1.0


def test_bad_matrix_names_the_cell() -> None:
    bad = pd.DataFrame({"13": [1.0, -2.0]}, index=["a", "b"])
    with pytest.raises(ConfigError, match=r"area 'b', sector '13'"):
        concentration.location_quotient(bad)
    with pytest.raises(ConfigError, match="confidence"):
        concentration.location_quotient(SMALL, confidence=95)


def test_one_area_sector_closed_forms() -> None:
    """A sector wholly in one area with share x of everything: Gini = Hoover = 1 - x."""
    matrix = pd.DataFrame({"s": [0, 0, 12, 0], "t": [10, 20, 8, 50]}, index=list("abcd"))
    x = 20 / 100
    assert concentration.locational_gini(matrix)["s"] == pytest.approx(1 - x)
    assert concentration.hoover(matrix)["s"] == pytest.approx(1 - x)
    assert concentration.herfindahl(matrix)["s"] == pytest.approx(1.0)


def test_spread_like_everything_has_zero_concentration() -> None:
    base = np.array([10, 20, 30, 40])
    matrix = pd.DataFrame({"s": base * 3, "t": base * 7}, index=list("abcd"))
    assert concentration.locational_gini(matrix)["s"] == pytest.approx(0.0, abs=1e-12)
    assert concentration.hoover(matrix)["s"] == pytest.approx(0.0, abs=1e-12)
    assert concentration.krugman_specialisation(matrix).to_numpy() == pytest.approx(0.0, abs=1e-12)
    assert concentration.herfindahl(matrix)["s"] == pytest.approx(
        float(((base / base.sum()) ** 2).sum())
    )


def test_locational_gini_equals_a_brute_force_lorenz_area() -> None:
    rng = np.random.default_rng(3)
    matrix = pd.DataFrame(rng.poisson(3.0, (40, 5)), columns=list("vwxyz"))
    got = concentration.locational_gini(matrix)
    values = matrix.to_numpy(dtype=float)
    x = values.sum(axis=1) / values.sum()
    for j, sector in enumerate(matrix.columns):
        s = values[:, j] / values[:, j].sum()
        keep = x > 0
        order = sorted(np.flatnonzero(keep), key=lambda i: s[i] / x[i])
        xs = np.concatenate([[0.0], np.cumsum(x[order])])
        ys = np.concatenate([[0.0], np.cumsum(s[order])])
        area = np.trapezoid(ys, xs)
        assert got[sector] == pytest.approx(1 - 2 * area, abs=1e-12)


def test_krugman_with_totals_counts_the_other_sectors() -> None:
    matrix = pd.DataFrame({"13": [5, 5]}, index=["a", "b"])
    totals = pd.Series({"a": 10, "b": 30})
    # a: mix (0.5, rest 0.5), region (0.25, 0.75) -> 0.25 + 0.25
    got = concentration.krugman_specialisation(matrix, totals=totals)
    assert got["a"] == pytest.approx(0.5)
    assert got["b"] == pytest.approx(abs(5 / 30 - 0.25) + abs(25 / 30 - 0.75))


def test_ellison_glaeser_by_hand() -> None:
    firms = pd.DataFrame(
        {
            "area_code": ["a", "a", "b", "b", "c", "c"],
            "sector": ["s", "s", "s", "t", "t", "t"],
            "workers": [6, 2, 2, 10, 20, 10],
        }
    )
    out = concentration.ellison_glaeser(firms)
    x = np.array([8, 12, 30]) / 50
    s = np.array([8, 2, 0]) / 10
    g = ((s - x) ** 2).sum()
    h = 0.6**2 + 0.2**2 + 0.2**2
    gamma = (g / (1 - (x**2).sum()) - h) / (1 - h)
    assert out.loc["s", "G"] == pytest.approx(g)
    assert out.loc["s", "H"] == pytest.approx(h)
    assert out.loc["s", "gamma"] == pytest.approx(gamma)
    assert out.loc["s", "n_plants"] == 3


def test_ellison_glaeser_is_unbiased_under_the_dartboard() -> None:
    """EG's theorem: with plants thrown at areas with probabilities x_a and no spillover,
    E[gamma] = 0. Each of 3,000 sectors is one throw of 15 plants; a large background
    fixes x. Omitting the 1 - sum x^2 term would bias the mean by -H sum x^2 / (1 - H),
    about -0.03 here, some 20 standard errors."""
    rng = np.random.default_rng(11)
    x = np.array([0.45, 0.2, 0.15, 0.1, 0.05, 0.05])
    areas = np.array(list("abcdef"))
    n_sectors, plants = 3000, 15
    sizes = rng.lognormal(1.0, 0.8, (n_sectors, plants))
    where = rng.choice(len(x), size=(n_sectors, plants), p=x)
    firms = pd.DataFrame(
        {
            "area_code": areas[where.ravel()],
            "sector": np.repeat(np.arange(n_sectors).astype(str), plants),
            "workers": sizes.ravel(),
        }
    )
    background = pd.DataFrame({"area_code": areas, "sector": "bg", "workers": x * 1e9})
    out = concentration.ellison_glaeser(pd.concat([firms, background], ignore_index=True))
    gamma = out["gamma"].drop("bg")
    se = gamma.std() / np.sqrt(len(gamma))
    assert abs(gamma.mean()) < 3 * se
    omitted = (out["G"] - out["H"]) / (1 - out["H"])
    assert omitted.drop("bg").mean() < -10 * se


def test_ellison_glaeser_rejects_bad_sizes() -> None:
    firms = pd.DataFrame({"area_code": ["a", "b"], "sector": ["s", "s"], "workers": [1, -1]})
    with pytest.raises(ConfigError, match="'workers' has 1 missing or negative"):
        concentration.ellison_glaeser(firms)
    with pytest.raises(ConfigError, match="needs column"):
        concentration.ellison_glaeser(firms, size="tenaga")


def test_indices_by_level_aggregates_codes() -> None:
    firms = pd.DataFrame(
        {
            "area_code": ["33.01.01.2001", "33.01.01.2002", "33.01.02.2001", "33.02.01.2001"] * 3,
            "sector": ["13"] * 4 + ["31"] * 8,
            "workers": [5.0] * 12,
        }
    )
    out = concentration.indices_by_level(firms, measure="n_firms")
    assert set(out["level"]) == {"kabupaten", "kecamatan", "desa"}  # provinsi: one area
    kab = out.set_index(["level", "sector"]).loc[("kabupaten", "13")]
    matrix = pd.DataFrame({"13": [3, 1], "31": [6, 2]}, index=["33.01", "33.02"])
    assert kab["hoover"] == pytest.approx(concentration.hoover(matrix)["13"])
    assert kab["n_areas"] == 2
    assert kab["n_firms"] == 4
