"""The local specialisation statistic (``spec_*``): exact against a brute-force
permutation test, calibrated under random labelling, quiet on a dense mixed city."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from libpysal.graph import Graph

from klastergeo.analysis import autocorrelation
from klastergeo.analysis.specialisation import COLUMNS, local_specialisation
from klastergeo.errors import DataError


def _lattice(side: int) -> Graph:
    """Queen contiguity of a ``side`` x ``side`` grid of unit squares, ids 0.. row-major."""
    cells = [shapely.box(c, r, c + 1, r + 1) for r in range(side) for c in range(side)]
    areas = gpd.GeoDataFrame(geometry=cells, index=pd.RangeIndex(side * side, name="area_code"))
    return Graph.build_contiguity(areas, rook=False)


def _label(totals: np.ndarray, shares: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Random labelling: the firms of every area get sectors by one permutation of a
    fixed pool of labels (the null of the statistic)."""
    n = int(totals.sum())
    pool = np.repeat(np.arange(len(shares)), np.round(shares * n).astype(int))
    pool = np.resize(pool, n)
    labels = rng.permutation(pool)
    area = np.repeat(np.arange(len(totals)), totals)
    counts = np.zeros((len(totals), len(shares)), dtype=np.int64)
    np.add.at(counts, (area, labels), 1)
    return pd.DataFrame(
        counts,
        index=pd.RangeIndex(len(totals), name="area_code"),
        columns=[f"s{k}" for k in range(len(shares))],
    )


def test_p_values_equal_a_brute_force_permutation_test() -> None:
    """(margin 1: the exact test of random labelling.) The exact hypergeometric p-value against a Monte Carlo permutation of the firms'
    sectors (20,000 relabellings): within four standard errors, every area and sector."""
    rng = np.random.default_rng(7)
    graph = _lattice(4)
    totals = rng.integers(3, 15, 16)
    counts = _label(totals, np.array([0.6, 0.3, 0.1]), rng)
    counts.iloc[5] = [0, 1, 30]  # one area specialised in s2
    ours = local_specialisation(counts, graph, margin=1)
    hood = graph.sparse.toarray().astype(bool) | np.eye(16, dtype=bool)
    area = np.repeat(np.arange(16), counts.sum(axis=1).to_numpy())
    labels = np.concatenate([np.repeat(np.arange(3), row) for row in counts.to_numpy()])
    observed = hood.astype(int) @ counts.to_numpy()
    draws = 20_000
    upper = np.zeros(observed.shape)
    lower = np.zeros(observed.shape)
    for _ in range(draws):  # brute force: relabel, recount, compare
        shuffled = np.zeros((16, 3), dtype=np.int64)
        np.add.at(shuffled, (area, rng.permutation(labels)), 1)
        local = hood.astype(int) @ shuffled
        upper += local >= observed
        lower += local <= observed
    brute = np.minimum(1.0, 2 * np.minimum(upper, lower) / draws)
    exact = ours["spec_p"].to_numpy().reshape(16, 3)
    tail = np.minimum(exact, 1) / 2  # the estimated tail; p is twice it
    error = 2 * np.sqrt(np.maximum(tail * (1 - tail), 1e-4) / draws)
    bad = np.abs(brute - exact) > 4 * error + 1e-3
    assert not bad.any(), (brute[bad], exact[bad], error[bad])
    assert ours.loc[(5, "s2"), "spec_bin"] >= 2
    assert ours.loc[(5, "s2"), "spec_ratio"] > 1


@pytest.mark.slow
def test_calibrated_under_random_labelling() -> None:
    """(margin 1: the exact test.) Random labelling of 10 sectors over a 20 x 20 lattice, 30 times: the share of
    area x sector cells in the 95 % bins is at most 5 % and not far below, hot and cold
    alike; p-values below 0.01 about 1 %."""
    rng = np.random.default_rng(2026)
    graph = _lattice(20)
    shares = np.array([0.3, 0.2, 0.12, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02])
    p, bins = [], []
    for _ in range(30):
        totals = rng.poisson(rng.lognormal(4.0, 0.8, 400)) + 1
        out = local_specialisation(_label(totals, shares, rng), graph, margin=1)
        p.append(out["spec_p"].to_numpy())
        bins.append(out["spec_bin"].to_numpy())
    p_all, bin_all = np.concatenate(p), np.concatenate(bins)
    rate = np.mean(p_all <= 0.05)
    assert 0.035 <= rate <= 0.055, rate
    assert np.mean(np.abs(bin_all) >= 2) == pytest.approx(rate)
    assert 0.015 <= np.mean(bin_all >= 2) <= 0.03
    assert 0.015 <= np.mean(bin_all <= -2) <= 0.03
    assert 0.005 <= np.mean(p_all <= 0.01) <= 0.012


@pytest.mark.slow
def test_a_dense_mixed_city_is_quiet_where_density_is_hot() -> None:
    """A 3 x 3 block of areas with 30 times the firms of the others and the same mix of
    sectors, 20 registries: raw-count Gi* marks the city hot in (nearly) every sector;
    the specialisation statistic puts no more of its cells in the 95 % hot bins than
    chance does (2.5 %), and none after FDR control."""
    rng = np.random.default_rng(11)
    side = 15
    graph = _lattice(side)
    city = [r * side + c for r in range(6, 9) for c in range(6, 9)]
    shares = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
    hot, hot_fdr, dense = [], [], []
    for _ in range(20):
        totals = rng.poisson(40, side * side) + 1
        totals[city] *= 30
        counts = _label(totals, shares, rng)
        in_city = np.repeat(np.isin(np.arange(side * side), city), len(shares))
        hot.append(local_specialisation(counts, graph)["spec_bin"].to_numpy()[in_city] >= 2)
        adjusted = local_specialisation(counts, graph, fdr=True)["spec_bin"].to_numpy()
        hot_fdr.append(adjusted[in_city] >= 2)
        density, _ = autocorrelation.by_sector(counts, graph, permutations=0)
        dense.append(density["gi_bin"].to_numpy()[in_city] >= 2)
    assert np.mean(hot) <= 0.04, np.mean(hot)
    assert np.mean(hot_fdr) <= 0.01, np.mean(hot_fdr)
    assert np.mean(dense) > 0.9  # what the density statistic says of the same city


def test_a_planted_specialised_neighbourhood_is_found_among_few_areas() -> None:
    """(margin 1.) Exact inference does not need many areas: in a 4 x 4 grid, the area holding 60 of
    its 100 firms in a sector with a 10 % share is a 99 % hot spot."""
    rng = np.random.default_rng(3)
    totals = np.full(16, 100)
    counts = _label(totals, np.array([0.9, 0.1]), rng)
    counts.iloc[9] = [40, 60]
    out = local_specialisation(counts, _lattice(4), sectors=["s1"], margin=1)
    assert list(out.columns) == list(COLUMNS)
    assert out.index.get_level_values("sector").unique().tolist() == ["s1"]
    assert out.loc[(9, "s1"), "spec_bin"] == 3
    assert out.loc[(9, "s1"), "spec_z"] > 3


def test_fdr_decides_the_bins_on_adjusted_values() -> None:
    rng = np.random.default_rng(5)
    counts = _label(rng.poisson(50, 100) + 1, np.array([0.5, 0.3, 0.2]), rng)
    graph = _lattice(10)
    plain = local_specialisation(counts, graph)
    adjusted = local_specialisation(counts, graph, fdr=True)
    assert np.array_equal(plain["spec_p"], adjusted["spec_p"])
    assert (np.abs(adjusted["spec_bin"]) <= np.abs(plain["spec_bin"])).all()
    q = np.concatenate(
        [autocorrelation.fdr_adjust(plain.xs(s, level="sector")["spec_p"]) for s in counts.columns]
    )
    order = plain.swaplevel().sort_index(level=0, sort_remaining=False)
    expected = autocorrelation.hot_spot_bins(order["spec_z"].to_numpy(), q)
    got = adjusted.swaplevel().sort_index(level=0, sort_remaining=False)["spec_bin"]
    assert np.array_equal(got.to_numpy(), expected)


def test_the_whole_study_area_as_one_neighbourhood_is_not_significant() -> None:
    """Two neighbouring areas: each neighbourhood holds every firm, so S equals the
    sector's total and nothing is special (p = 1, z = 0, bin 0)."""
    graph = Graph.from_adjacency(
        pd.DataFrame({"focal": ["a", "b"], "neighbor": ["b", "a"], "weight": 1.0})
    )
    counts = pd.DataFrame({"x": [10, 0], "y": [0, 10]}, index=pd.Index(["a", "b"]))
    out = local_specialisation(counts, graph)
    assert (out["spec_p"] == 1).all() and (out["spec_z"] == 0).all()
    assert (out["spec_bin"] == 0).all()


def test_bad_input_is_named() -> None:
    graph = _lattice(2)
    counts = pd.DataFrame({"x": [1, 2, 3]}, index=pd.Index([0, 1, 2]))
    with pytest.raises(DataError, match="area"):
        local_specialisation(counts, graph)
    counts = pd.DataFrame({"x": [1, 2, 3, -1]}, index=pd.Index([0, 1, 2, 3]))
    with pytest.raises(DataError, match="negative"):
        local_specialisation(counts, graph)
    with pytest.raises(DataError, match="not columns"):
        local_specialisation(counts.abs(), graph, sectors=["nope"])


def test_counts_must_be_whole_numbers() -> None:
    """Fractions of firms (a measure passed as counts) are named, not tested to p = 1
    everywhere; a float column of whole numbers is fine."""
    from klastergeo.analysis.concentration import indices_from_counts

    graph = _lattice(2)
    counts = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 4.0], "y": [0.5, 2, 3, 1]}, index=pd.Index([0, 1, 2, 3])
    )
    with pytest.raises(
        DataError, match=r"column 'y' holds 1 value\(s\) that are not whole.*0\.5 at row 0"
    ):
        local_specialisation(counts, graph)
    whole = counts.assign(y=[1.0, 2.0, 3.0, 1.0])
    assert local_specialisation(whole, graph)["spec_p"].notna().all()
    cells = pd.DataFrame(
        {"n_firms": [3.0, 1.5]},
        index=pd.MultiIndex.from_tuples(
            [("33.01", "10"), ("33.02", "10")], names=["area_code", "sector"]
        ),
    )
    with pytest.raises(DataError, match=r"column 'n_firms'.*1\.5"):
        indices_from_counts(cells)


# --- the margin (issue 27): a minimum effect, conservative under random labelling


@pytest.mark.parametrize("margin", [1.05, 1.25, 2.0])
def test_margin_tails_are_those_of_the_shifted_share(margin: float) -> None:
    """A small neighbourhood (binomial tails) and the whole study area's half
    (hypergeometric): the upper tail is that of the sector's share times the margin,
    the lower one of the share over it (a sector of ceil(m N_s) / floor(N_s / m) firms
    in the hypergeometric), from scipy directly."""
    from scipy import stats

    graph = Graph.from_adjacency(
        pd.DataFrame({"focal": [0, 1, 2, 3], "neighbor": [1, 0, 3, 2], "weight": 1.0})
    )
    counts = pd.DataFrame({"x": [30, 20, 5, 5], "y": [70, 80, 95, 95]}, index=pd.RangeIndex(4))
    out = local_specialisation(counts, graph, margin=margin)
    total, sector, hood, found = 400, 60, 200, 50  # areas 0 and 1: M = 200 of N = 400
    upper = stats.hypergeom.sf(found - 1, total, min(total, np.ceil(sector * margin)), hood)
    lower = stats.hypergeom.cdf(found, total, np.floor(sector / margin), hood)
    assert out.loc[(0, "x"), "spec_p"] == pytest.approx(min(1.0, 2 * min(upper, lower)))
    assert out.loc[(0, "x"), "spec_ratio"] == pytest.approx(50 / 30)
    lattice = _lattice(20)  # the corner's neighbourhood: areas 0, 1, 20 and 21
    rng = np.random.default_rng(1)
    x = rng.integers(10, 40, 400)
    counts = pd.DataFrame({"x": x, "y": 300 - x}, index=pd.RangeIndex(400, name="area_code"))
    counts.loc[[0, 1, 20, 21], ["x", "y"]] = [[40, 60], [35, 65], [20, 80], [30, 70]]
    out = local_specialisation(counts, lattice, margin=margin)
    share = counts["x"].sum() / counts.to_numpy().sum()  # M = 400 of 119,... : binomial
    upper = stats.binom.sf(125 - 1, 400, min(1.0, share * margin))
    lower = stats.binom.cdf(125, 400, share / margin)
    assert out.loc[(0, "x"), "spec_p"] == pytest.approx(min(1.0, 2 * min(upper, lower)))


@pytest.mark.parametrize("margin", [1.05, 1.25])
def test_the_margin_test_is_conservative_under_random_labelling(margin: float) -> None:
    """Random labelling of 10 sectors over a 20 x 20 lattice (areas of a few to hundreds
    of firms), 12 registries: at most 2.5 % of cells in the 95 % hot bins and as many in
    the cold ones, and P(p <= alpha) <= alpha at 1, 5 and 10 %: the margin's null
    holds random labelling's shares times m, a stochastically larger count."""
    rng = np.random.default_rng(27)
    graph = _lattice(20)
    shares = np.array([0.3, 0.2, 0.12, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02])
    p, bins = [], []
    for _ in range(12):
        totals = rng.poisson(rng.lognormal(2.5, 1.2, 400)) + 1
        out = local_specialisation(_label(totals, shares, rng), graph, margin=margin)
        p.append(out["spec_p"].to_numpy())
        bins.append(out["spec_bin"].to_numpy())
    p_all, bin_all = np.concatenate(p), np.concatenate(bins)
    assert np.mean(bin_all >= 2) <= 0.025 and np.mean(bin_all <= -2) <= 0.025
    for alpha in (0.01, 0.05, 0.10):
        assert np.mean(p_all <= alpha) <= alpha, alpha
    exact = local_specialisation(_label(totals, shares, rng), graph, margin=1)
    assert (exact["spec_p"] <= 0.10).mean() > np.mean(p[-1] <= 0.10)  # the margin costs


def test_a_margin_below_one_is_refused() -> None:
    from klastergeo.errors import ConfigError

    counts = pd.DataFrame({"x": [1, 2, 3, 4]}, index=pd.Index([0, 1, 2, 3]))
    with pytest.raises(ConfigError, match=r"margin=0\.9.*at least 1"):
        local_specialisation(counts, _lattice(2), margin=0.9)
