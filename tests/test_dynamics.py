"""Dynamics across periods: Mann-Kendall against scipy and a brute force, emerging
hot-spot categories on a hand-built space-time cube, and sentra lineages."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from klastergeo.analysis import dynamics
from klastergeo.errors import DataError


def test_mann_kendall_tau_is_scipys_and_the_variance_is_exact() -> None:
    """tau equals scipy's Kendall tau-b of the series against time; Var(S) equals the
    variance of S over every permutation of the series (ties included), by brute force."""
    rng = np.random.default_rng(5)
    series = rng.integers(0, 4, size=(30, 6)).astype(float)  # many ties
    got = dynamics.mann_kendall(series)
    for row, x in enumerate(series):
        if np.all(x == x[0]):
            continue
        expected = stats.kendalltau(np.arange(6), x).statistic
        assert got.loc[row, "tau"] == pytest.approx(expected)
        s = sum(np.sign(x[j] - x[i]) for i, j in itertools.combinations(range(6), 2))
        assert got.loc[row, "S"] == s
    for x in series[:3]:
        perms = np.array(list(itertools.permutations(x)))
        s_all = dynamics.mann_kendall(perms)["S"].to_numpy()
        assert dynamics.mann_kendall(x[None, :])["var_S"].iloc[0] == pytest.approx(s_all.var())


def test_mann_kendall_p_value_and_limits() -> None:
    """Without ties and T = 10, a perfect rise has S = 45, Var = 10*9*25/18 = 125, z =
    44/sqrt(125); three periods can never reach p < 0.05."""
    got = dynamics.mann_kendall(np.arange(10.0)[None, :]).iloc[0]
    assert got["S"] == 45 and got["var_S"] == pytest.approx(125.0)
    assert got["z"] == pytest.approx(44 / np.sqrt(125))
    assert got["p_value"] == pytest.approx(2 * stats.norm.sf(44 / np.sqrt(125)))
    three = dynamics.mann_kendall(np.array([[1.0, 2.0, 3.0]])).iloc[0]
    assert three["p_value"] > 0.05
    with_gap = dynamics.mann_kendall(np.array([[1.0, np.nan, 3.0, 4.0]]))
    assert with_gap.isna().all(axis=None)
    with pytest.raises(DataError, match="at least 2 periods"):
        dynamics.mann_kendall(np.ones((3, 1)))


#: A hand-built space-time cube of ten periods: each row's bins, and its expected
#: category. z follows the bins except where a trend is planted.
CUBE = {
    "intensifying": ([2, 2, 2, 2, 2, 2, 2, 2, 2, 3], np.linspace(2.0, 6.0, 10)),
    "diminishing": ([3, 3, 3, 3, 3, 3, 3, 3, 2, 2], np.linspace(6.0, 2.0, 10)),
    "persistent": ([2, 3, 2, 3, 2, 3, 2, 3, 2, 3], None),
    "historical": ([2, 2, 2, 2, 2, 2, 2, 2, 2, 0], None),
    "oscillating": ([0, -2, 0, 0, 2, 0, 0, 0, 0, 2], None),
    "new": ([0, 0, 0, 0, 0, 0, 0, 0, 0, 2], None),
    "consecutive": ([0, 0, 0, 0, 0, 0, 0, 2, 2, 3], None),
    "sporadic": ([0, 2, 0, 0, 2, 0, 0, 0, 0, 1], None),
    "no pattern": ([0, 2, 0, 0, 0, 0, 0, 0, 0, 0], None),
    "persistent cold": ([-2, -2, -3, -2, -2, -3, -2, -2, -2, -3], None),
    "new cold": ([0, 0, 0, 0, 0, 0, 0, 0, 0, -1], None),
    "intensifying cold": ([-1] * 10, np.linspace(-2.0, -6.0, 10)),
}


def test_emerging_hot_spot_categories_on_a_hand_built_cube() -> None:
    bins = pd.DataFrame({k: v[0] for k, v in CUBE.items()}).T
    z = bins.astype(float).copy()
    for key, (_, planted) in CUBE.items():
        if planted is not None:
            z.loc[key] = planted
        else:  # no trend: the same z every period (ties, S = 0)
            z.loc[key] = np.sign(bins.loc[key].to_numpy()[-1]) * 2.5
    got = dynamics.emerging_hot_spots(bins, z)["category"]
    expected = {
        key: key
        if key == "no pattern"
        else (f"{key.split()[0]} cold spot" if key.endswith("cold") else f"{key} hot spot")
        for key in CUBE
    }
    assert got.to_dict() == expected


def test_emerging_hot_spots_with_three_periods() -> None:
    """Three periods (a census and two surveys): 90 % means all three; no trend can be
    significant, so a hot spot every time is persistent."""
    bins = pd.DataFrame([[2, 2, 2], [0, 0, 2], [0, 2, 2], [2, 0, 2], [2, 2, 0]],
                        index=list("abcde"))  # fmt: skip
    z = bins.astype(float) + np.array([0.0, 1.0, 2.0])  # rising, but three periods
    got = dynamics.emerging_hot_spots(bins, z)["category"].tolist()
    assert got == [
        "persistent hot spot",
        "new hot spot",
        "consecutive hot spot",
        "sporadic hot spot",
        "no pattern",
    ]


def _sentra(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["period", "sentra_id", "sector", "area_codes", "n_firms"])


def test_lineages_of_planted_trends() -> None:
    """Three periods with a growing, a declining, a stable, a new, a vanished, a split
    and a merged sentra (and a sentra of another sector on the same villages, which is a
    lineage of its own)."""
    s = _sentra([
        (2016, "25-01", "25", "a;b;c", 100), (2019, "25-01", "25", "a;b;c", 120),
        (2023, "25-01", "25", "a;b;c;d", 180),                       # growing (+80 %)
        (2016, "13-01", "13", "p;q", 200), (2019, "13-01", "13", "p;q", 150),
        (2023, "13-01", "13", "p", 90),                              # declining (-55 %)
        (2016, "31-01", "31", "k;l", 60), (2023, "31-01", "31", "k;l", 66),
        (2019, "31-02", "31", "k;l", 62),                            # stable (+10 %)
        (2019, "16-01", "16", "u;v", 40), (2023, "16-01", "16", "u;v;w", 45),  # new
        (2016, "24-01", "24", "g;h", 50), (2019, "24-01", "24", "g;h", 30),    # gone
        (2016, "29-01", "29", "m;n;o;r", 90), (2019, "29-01", "29", "m;n;o;r", 95),
        (2023, "29-01", "29", "m;n", 50), (2023, "29-02", "29", "o;r", 48),   # split
        (2016, "14-01", "14", "e", 30), (2016, "14-02", "14", "f", 25),
        (2019, "14-01", "14", "e", 35), (2019, "14-02", "14", "f", 30),
        (2023, "14-01", "14", "e;f", 70),                                      # merged
        (2016, "10-01", "10", "a;b", 300), (2019, "10-01", "10", "a;b", 310),
        (2023, "10-01", "10", "a;b", 305),                           # other sector, stable
    ])  # fmt: skip
    table, links = dynamics.lineages(s, periods=[2016, 2019, 2023])
    trends = table.set_index("sector")["trend"].to_dict()
    assert trends == {
        "10": "stable", "13": "declining", "14": "merged", "16": "new", "24": "gone",
        "25": "growing", "29": "split", "31": "stable",
    }  # fmt: skip
    growing = table.loc[table["sector"] == "25"].iloc[0]
    assert growing["area_codes"] == "a;b;c;d" and growing["firms_growth"] == pytest.approx(0.8)
    assert growing[["n_firms_2016", "n_firms_2019", "n_firms_2023"]].tolist() == [100, 120, 180]
    split = table.loc[table["sector"] == "29"].iloc[0]
    assert split["sentra_id_2023"] == "29-01;29-02" and split["n_firms_2023"] == 98
    gone = table.loc[table["sector"] == "24"].iloc[0]
    assert gone["sentra_id_2023"] == "" and np.isnan(gone["n_firms_2023"])
    assert list(table.index[table["sector"] == "25"]) == ["L25-01"]
    assert table["investment_2023"].isna().all()  # sentra without those sums
    assert set(links.columns) == {
        "period", "sentra_id", "next_period", "next_sentra_id", "shared_areas", "overlap"
    }  # fmt: skip


def test_lineage_sums_and_growth_of_workers_output_and_investment() -> None:
    s = _sentra([
        (2019, "25-01", "25", "a;b", 100), (2023, "25-01", "25", "a", 60),
        (2023, "25-02", "25", "b", 70),
    ]).assign(
        workers=[400.0, 200.0, 300.0], output=[80.0, 30.0, 60.0], investment=[20.0, 5.0, 7.0]
    )  # fmt: skip
    table, _ = dynamics.lineages(s, periods=[2019, 2023])
    row = table.iloc[0]
    assert row["trend"] == "split"
    assert row[["workers_2023", "output_2023", "investment_2023"]].tolist() == [500, 90, 12]
    assert row["output_per_worker_2019"] == pytest.approx(0.2)
    assert row["output_per_worker_2023"] == pytest.approx(90 / 500)
    assert row["workers_growth"] == pytest.approx(0.25)
    assert row["investment_growth"] == pytest.approx(12 / 20 - 1)


def test_small_overlaps_do_not_link() -> None:
    """One shared village of ten is below min_overlap (30 % of the smaller sentra): two
    lineages, one gone and one new."""
    s = _sentra([
        (2019, "25-01", "25", ";".join("abcdefghij"), 100),
        (2023, "25-01", "25", "j;" + ";".join("klmnopqrs"), 100),
    ])  # fmt: skip
    table, links = dynamics.lineages(s, periods=[2019, 2023])
    assert sorted(table["trend"]) == ["gone", "new"] and links.empty
    linked, _ = dynamics.lineages(s, periods=[2019, 2023], min_overlap=0.1)
    assert linked["trend"].tolist() == ["stable"]


def test_lineages_reject_unknown_periods_and_missing_columns() -> None:
    s = _sentra([(2020, "25-01", "25", "a", 10)])
    with pytest.raises(DataError, match=r"period\(s\) 2020 are not among"):
        dynamics.lineages(s, periods=[2019, 2023])
    with pytest.raises(DataError, match="n_firms"):
        dynamics.lineages(s.drop(columns="n_firms"), periods=[2020])


def test_no_sentra_in_any_period_is_an_empty_table_with_every_column() -> None:
    """No period has a sentra: no lineage and no link, with the columns a table of
    lineages has (the run over surveys used to end with KeyError: 'sector')."""
    empty = _sentra([(2019, "25-01", "25", "a", 10)]).iloc[:0]
    table, links = dynamics.lineages(empty, periods=["2019", "2023"])
    one, _ = dynamics.lineages(_sentra([(2019, "25-01", "25", "a", 10)]), periods=[2019, 2023])
    assert len(table) == 0 and len(links) == 0
    assert list(table.columns) == list(one.columns)
    assert table.index.name == "lineage_id" and "next_sentra_id" in links.columns
    assert len(dynamics.lineage_of(table, ["2019", "2023"])) == 0


def test_periods_naming_the_same_columns_are_refused() -> None:
    """Periods that name the same columns (２０１９ is 2019 once NFKC-normalised, as
    Python names are) are refused with a message, not a SyntaxError."""
    s = _sentra([(2019, "25-01", "25", "a", 10)]).assign(period="2019")
    with pytest.raises(DataError, match="name the same period twice"):
        dynamics.lineages(s, periods=["2019", "２０１９"])


def test_firm_flows_are_set_arithmetic() -> None:
    """Against Python sets: survivors = |A & B|, exits = |A - B|, entries = |B - A| for
    each lineage and pair of consecutive periods."""
    rng = np.random.default_rng(8)
    rows = []
    for period in (1, 2, 3):
        for lineage in ("L1", "L2"):
            ids = rng.choice(40, size=int(rng.integers(5, 25)), replace=False)
            rows += [(period, f"f{i}", lineage) for i in ids]
    members = pd.DataFrame(rows, columns=["period", "record_id", "lineage_id"])
    got = dynamics.firm_flows(members, [1, 2, 3])
    for lineage in ("L1", "L2"):
        for before, now in ((1, 2), (2, 3)):
            mine = members.loc[members["lineage_id"] == lineage]
            a = set(mine.loc[mine["period"] == before, "record_id"])
            b = set(mine.loc[mine["period"] == now, "record_id"])
            assert got.loc[lineage, f"survivors_{now}"] == len(a & b)
            assert got.loc[lineage, f"exits_{now}"] == len(a - b)
            assert got.loc[lineage, f"entries_{now}"] == len(b - a)


# --- the fewest periods of each emerging hot-spot category (issue 27)


@pytest.mark.parametrize("t", [2, 3, 4, 5, 6])
def test_smallest_trend_p_is_the_minimum_over_every_series(t: int) -> None:
    """Every series of t values up to order (each value one of t ranks: all orders and
    all ways to tie) through mann_kendall: its smallest p-value is smallest_trend_p."""
    series = np.array(list(itertools.product(range(t), repeat=t)), dtype=float)
    p = dynamics.mann_kendall(series)["p_value"].to_numpy()
    assert np.nanmin(p) == pytest.approx(dynamics.smallest_trend_p(t), rel=1e-12)


@pytest.mark.parametrize("t", [3, 4, 5, 6, 7])
def test_the_exact_law_of_s_agrees_that_four_periods_are_too_few(t: int) -> None:
    """Under no trend every order of t distinct values is equally likely: the exact
    two-sided p-value of the largest |S| is 2 / t! (0.083 at t = 4, 0.017 at t = 5),
    on the same side of 0.05 as the normal approximation the module uses."""
    orders = np.array(list(itertools.permutations(range(t))), dtype=float)
    s = dynamics.mann_kendall(orders)["S"].to_numpy()
    exact = np.mean(np.abs(s) >= t * (t - 1) / 2)
    assert exact == pytest.approx(2 / math.factorial(t))
    assert (exact < 0.05) == (dynamics.smallest_trend_p(t) < 0.05) == (t >= 5)


def _random_cube(t: int, rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """z-scores of many areas over t periods (random levels, trends, noise and jumps)
    and their bins at 90 % (|z| > 1.645), as the specialisation statistic gives."""
    rng = np.random.default_rng(seed)
    level = rng.normal(0, 3, (rows, 1))
    slope = rng.normal(0, 1.5, (rows, 1)) * (rng.random((rows, 1)) < 0.5)
    z = level + slope * np.arange(t) + rng.normal(0, rng.choice([0.1, 1, 3], (rows, 1)), (rows, t))
    z[rng.random((rows, t)) < 0.1] = 0.0  # a period where nothing is significant
    bins = np.sign(z) * (np.abs(z) > 1.645)
    return pd.DataFrame(bins), pd.DataFrame(z)


@pytest.mark.parametrize("t", range(2, 11))
def test_categories_occur_exactly_from_their_minimum_periods(t: int) -> None:
    """Random space-time cubes of t periods show no category before its minimum
    number of periods; hand-built series show each at its minimum."""
    least = dynamics.minimum_periods(0.05)
    bins, z = _random_cube(t, 20_000, t)
    categories = dynamics.emerging_hot_spots(bins, z)["category"]
    seen = {c.rsplit(" ", 2)[0] for c in categories if c != "no pattern"}
    assert all(least[c] <= t for c in seen), seen
    assert set(dynamics.possible_categories(t)) >= seen
    example = {  # a series of each category at its minimum (hot; cold is the mirror)
        "persistent": [3.0, 3.0],
        "oscillating": [-3.0, 3.0],
        "new": [0.0, 3.0],
        "consecutive": [0.0, 3.0, 3.0],
        "sporadic": [3.0, 0.0, 3.0],
        "intensifying": [2.0, 3.0, 4.0, 5.0, 6.0],
        "diminishing": [6.0, 5.0, 4.0, 3.0, 2.0],
        "historical": [3.0] * 9 + [0.0],
    }
    for name, series in example.items():
        if len(series) != t:
            continue
        assert least[name] == t
        for sign, word in ((1, "hot"), (-1, "cold")):
            zz = pd.DataFrame([np.array(series) * sign])
            bb = np.sign(zz) * (zz.abs() > 1.645)
            got = dynamics.emerging_hot_spots(bb, zz)
            assert got["category"].iloc[0] == f"{name} {word} spot"
            assert name in got.attrs["possible"]


def test_four_surveys_cannot_intensify_and_the_result_says_so() -> None:
    """With four periods an ever-rising hot spot is only persistent; the result names
    the categories the periods allow."""
    z = pd.DataFrame([[2.0, 3.0, 4.0, 5.0]])
    bins = (z > 1.645).astype(int)
    out = dynamics.emerging_hot_spots(bins, z)
    assert out["category"].iloc[0] == "persistent hot spot"
    assert out["trend_p"].iloc[0] == pytest.approx(dynamics.smallest_trend_p(4))
    assert out.attrs["possible"] == ("persistent", "oscillating", "new", "consecutive", "sporadic")
    assert dynamics.minimum_periods(0.10)["intensifying"] == 4  # 0.089 < 0.10
    assert dynamics.minimum_periods(0.001)["intensifying"] == 8
    with pytest.raises(DataError, match="alpha"):
        dynamics.minimum_periods(0.0)
