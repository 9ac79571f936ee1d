"""The statistics engine against closed forms, published values and esda.

Tolerances: statistics and analytical moments equal esda's to 1e-9 (relative). Pseudo
p-values come from other random draws than esda's, so they agree within Monte-Carlo
error: for P permutations the standard error of a pseudo p-value p is sqrt(p (1 - p) / P);
two independent estimates differ by at most 4 * sqrt(2) of that plus 2 / (P + 1) in all but
a tiny share of areas.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
from libpysal.graph import Graph
from scipy import stats

from klastergeo.analysis import autocorrelation as ac
from klastergeo.analysis import weights
from klastergeo.analysis._engine.kernels import draw_table
from klastergeo.errors import ConfigError, DataError
from klastergeo.io import boundaries
from tests.worlds.lattice import lattice

RTOL = 1e-9


@contextmanager
def _quiet() -> Iterator[None]:
    """esda and libpysal warn about their own deprecations; not ours to fix here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _mc_agree(ours: np.ndarray, ref: np.ndarray, permutations: int) -> float:
    """Share of areas whose pseudo p-values agree within Monte-Carlo error."""
    p = np.clip((ours + ref) / 2, 1.0 / (permutations + 1), 1.0)
    bound = 4 * np.sqrt(2) * np.sqrt(p * (1 - p) / permutations) + 2.0 / (permutations + 1)
    ok = np.isfinite(ours) & np.isfinite(ref)
    return float((np.abs(ours - ref)[ok] <= bound[ok]).mean())


@pytest.fixture(scope="module")
def villages(data_dir: Path):
    """Sukoharjo's villages (real borders) and their queen contiguity."""
    areas = boundaries.load_areas("desa", area="33.11", source=data_dir)
    return areas, weights.contiguity(areas, islands="keep")


@pytest.fixture(scope="module")
def counts(villages) -> pd.Series:
    areas, _ = villages
    rng = np.random.default_rng(5)
    y = pd.Series(rng.poisson(2.0, len(areas)).astype(float), index=areas.index)
    y.iloc[:10] += 40  # a hot cluster of codes that sort together (one kecamatan)
    return y


@pytest.fixture(scope="module")
def continuous(villages) -> pd.Series:
    areas, _ = villages
    return pd.Series(np.random.default_rng(9).lognormal(1.0, 0.8, len(areas)), index=areas.index)


def _hot_cluster(areas) -> pd.Series:
    y = pd.Series(1.0, index=areas.index)
    for code in ("r2c2", "r2c3", "r3c2", "r3c3"):
        y[code] = 40.0
    y["r6c6"] = 0.0
    return y


# --------------------------------------------------------------------------------------
# Closed forms and published values
# --------------------------------------------------------------------------------------


def test_checkerboard_moran_is_minus_one() -> None:
    """A checkerboard on rook weights has Moran's I = -1 exactly."""
    areas = lattice(6, 6)
    graph = weights.contiguity(areas, rook=True, islands="keep")
    rows = np.array([int(c.split("c")[0][1:]) for c in areas.index])
    cols = np.array([int(c.split("c")[1]) for c in areas.index])
    y = pd.Series(((rows + cols) % 2).astype(float), index=areas.index)
    result = ac.global_moran(y, graph, permutations=99, seed=1)
    assert pytest.approx(-1.0) == result.value
    assert result.expected == pytest.approx(-1 / 35)
    assert result.z_rand < -5
    assert result.p_sim == pytest.approx(2 / 100)  # the most extreme of 99: two-sided


def test_published_columbus_moran() -> None:
    """Columbus CRIME, queen contiguity, row-standardised: I = 0.500189 (PySAL docs)."""
    frame = gpd.read_file(libpysal.examples.get_path("columbus.shp"))
    graph = weights.contiguity(frame, islands="keep")
    result = ac.global_moran(frame["CRIME"], graph, permutations=0)
    assert result.value == pytest.approx(0.500189, abs=5e-7)


def test_published_st_louis_moran() -> None:
    """St Louis homicide rates HR8893 with the published stl.gal weights: I = 0.243656."""
    with _quiet():
        w = libpysal.io.open(libpysal.examples.get_path("stl.gal")).read()
        rates = np.array(
            libpysal.io.open(libpysal.examples.get_path("stl_hom.txt")).by_col["HR8893"]
        )
    y = pd.Series(rates, index=pd.Index(w.id_order))
    result = ac.global_moran(y, Graph.from_W(w), permutations=0)
    assert result.value == pytest.approx(0.243656, abs=5e-7)


def test_gstar_statistic_and_z_closed_form() -> None:
    """G*_i = sum of y over i and its neighbours / sum of y; z by Getis and Ord (1995)."""
    areas = lattice(7, 7)
    graph = weights.contiguity(areas, islands="keep")
    y = _hot_cluster(areas)
    local = ac.local_gstar(y, graph, permutations=0)
    n, total = len(y), y.sum()
    mean, sd = y.mean(), np.sqrt((y**2).mean() - y.mean() ** 2)
    for code in ("r2c2", "r0c0", "r6c6"):
        hood = [*graph[code].index, code]
        w = len(hood)
        assert local.loc[code, "statistic"] == pytest.approx(y[hood].sum() / total)
        z = (y[hood].sum() - mean * w) / (sd * np.sqrt((n * w - w**2) / (n - 1)))
        assert local.loc[code, "z"] == pytest.approx(z)
        assert local.loc[code, "p_norm"] == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_pseudo_p_converges_to_the_exact_conditional_probability() -> None:
    """Area r0c0 has one neighbour in a 1 x 5 row (rook). Its neighbour value is drawn
    from the other four values, so P(draw >= observed) is a count over those four."""
    areas = lattice(1, 5)
    graph = weights.contiguity(areas, rook=True, islands="keep")
    y = pd.Series([10.0, 3.0, 1.0, 7.0, 5.0], index=areas.index)
    # r0c0's neighbour is r0c1 (3.0); the others are 3, 1, 7, 5: 3 of 4 are >= 3
    result = ac.local_gstar(y, graph, permutations=99_999, seed=2, alternative="greater")
    assert result.loc["r0c0", "p_sim"] == pytest.approx(3 / 4, abs=0.01)
    lesser = ac.local_gstar(y, graph, permutations=99_999, seed=2, alternative="lesser")
    assert lesser.loc["r0c0", "p_sim"] == pytest.approx(2 / 4, abs=0.01)  # 3 and 1


@pytest.mark.slow
def test_ties_do_not_make_empty_areas_significant() -> None:
    """Sparse counts: an empty area among empty neighbours is the most common case, not an
    extreme one. esda counts ties on one side only, so its folded pseudo p-value makes such
    an area a significant Gi* cold spot (p = 0.001); ours counts ties on both sides."""
    areas = lattice(10, 10)
    graph = weights.contiguity(areas, islands="keep")
    y = pd.Series(0.0, index=areas.index)
    y[["r5c5", "r5c6", "r2c8", "r7c2"]] = [6.0, 4.0, 1.0, 2.0]
    ours = ac.local_gstar(
        y, graph, permutations=999, seed=3, alternative="folded", inference="permutation"
    )
    with _quiet():
        ref = esda.G_Local(
            y.to_numpy(),
            graph.transform("b"),
            transform="B",
            star=True,
            permutations=999,
            seed=3,
            n_jobs=1,
        )
    empty_corner = list(areas.index).index("r0c0")
    assert ref.p_sim[empty_corner] <= 0.002
    assert ours.loc["r0c0", "p_sim"] > 0.5
    assert ours.loc["r0c0", "bin"] == 0


# --------------------------------------------------------------------------------------
# Equality with esda on real villages
# --------------------------------------------------------------------------------------


def test_local_moran_equals_esda(villages, continuous) -> None:
    _, graph = villages
    ours = ac.local_moran(continuous, graph, permutations=999, seed=11, alternative="folded")
    with _quiet():
        ref = esda.Moran_Local(
            continuous.to_numpy(),
            graph.transform("r"),
            permutations=999,
            seed=11,
            n_jobs=1,
            geoda_quads=True,
        )
    np.testing.assert_allclose(ours["statistic"], ref.Is, rtol=RTOL)
    np.testing.assert_allclose(ours["z"], (ref.Is - ref.EI) / np.sqrt(ref.VI), rtol=RTOL)
    assert _mc_agree(ours["p_sim"].to_numpy(), ref.p_sim, 999) >= 0.995
    significant = ours["p_sim"] <= 0.05
    assert (ours.loc[significant, "quadrant"].to_numpy() == ref.q[significant.to_numpy()]).all()


@pytest.mark.slow
def test_gstar_and_gi_equal_esda(villages, continuous) -> None:
    """Continuous values, so that the engines' different treatment of ties (count data)
    does not enter the comparison of pseudo p-values."""
    _, graph = villages
    for star in (True, False):
        ours = ac.local_gstar(
            continuous, graph, permutations=999, seed=4, star=star, alternative="folded"
        )
        with _quiet():
            ref = esda.G_Local(
                continuous.to_numpy(),
                graph.transform("b"),
                transform="B",
                star=star,
                permutations=999,
                seed=4,
                n_jobs=1,
            )
        np.testing.assert_allclose(ours["statistic"], ref.Gs, rtol=RTOL)
        np.testing.assert_allclose(ours["z"], ref.Zs, rtol=RTOL)
        assert _mc_agree(ours["p_sim"].to_numpy(), ref.p_sim, 999) >= 0.99


def test_local_join_count_equals_esda(villages, counts) -> None:
    """0/1 data are all ties: compare the upper tail (more 1-neighbours than chance), where
    esda's pseudo p-value counts the same permutations as our one-sided 'greater'."""
    _, graph = villages
    binary = (counts >= 3).astype(float)
    ours = ac.local_join_count(binary, graph, permutations=999, seed=8)
    with _quiet():
        ref = esda.Join_Counts_Local(connectivity=graph, permutations=999, seed=8).fit(
            binary.to_numpy()
        )
    np.testing.assert_allclose(ours["statistic"], ref.LJC, rtol=RTOL)
    defined = np.isfinite(ref.p_sim)
    assert (np.isfinite(ours["p_sim"].to_numpy()) == defined).all()
    # esda folds: where fewer permutations reach the observed count, its p is the upper
    # tail; elsewhere it reports the lower tail, which 'greater' does not look at.
    greater = ours["p_sim"].to_numpy()
    upper = defined & (np.nan_to_num(greater, nan=1.0) < 0.4)
    assert upper.sum() > 5
    assert _mc_agree(ours["p_sim"].to_numpy()[upper], ref.p_sim[upper], 999) >= 0.95


def test_global_statistics_equal_esda(villages, continuous, counts) -> None:
    _, graph = villages
    with _quiet():
        moran = esda.Moran(continuous.to_numpy(), graph.transform("r"), permutations=999)
        gear = esda.Geary(continuous.to_numpy(), graph, permutations=999)
        g = esda.G(counts.to_numpy(), graph, permutations=999)
        jc = esda.Join_Counts((counts >= 3).astype(int).to_numpy(), graph, permutations=999)
    ours = ac.global_moran(continuous, graph, permutations=999, seed=1)  # two-sided
    assert ours.value == pytest.approx(moran.I, rel=RTOL)
    assert ours.variance_norm == pytest.approx(moran.VI_norm, rel=RTOL)
    assert ours.variance_rand == pytest.approx(moran.VI_rand, rel=RTOL)
    assert ours.z_rand == pytest.approx(moran.z_rand, rel=RTOL)
    assert ours.p_norm == pytest.approx(moran.p_norm, rel=1e-6)  # esda: two-tailed
    folded = ac.global_moran(continuous, graph, permutations=999, seed=1, alternative="folded")
    assert _mc_agree(np.array([folded.p_sim]), np.array([moran.p_sim]), 999) == 1.0
    c = ac.geary(continuous, graph, permutations=999, seed=1, alternative="folded")
    assert c.value == pytest.approx(gear.C, rel=RTOL)
    assert c.z_norm == pytest.approx(gear.z_norm, rel=RTOL)
    assert c.z_rand == pytest.approx(gear.z_rand, rel=RTOL)
    assert c.p_rand == pytest.approx(gear.p_rand, rel=1e-6)
    gg = ac.general_g(counts, graph, permutations=999, seed=1, alternative="folded")
    assert gg.value == pytest.approx(g.G, rel=RTOL)
    assert gg.expected == pytest.approx(g.EG, rel=RTOL)
    assert gg.variance_norm == pytest.approx(g.VG, rel=RTOL)
    assert gg.z_norm == pytest.approx(g.z_norm, rel=RTOL)
    joins = ac.join_counts((counts >= 3).astype(float), graph, permutations=999, seed=1)
    assert (joins.bb, joins.bw, joins.ww) == pytest.approx((jc.bb, jc.bw, jc.ww))
    assert joins.joins == pytest.approx(jc.J)


def test_join_count_moments_match_free_sampling() -> None:
    """Planted: with each area 1 with probability p independently, BB's mean and variance
    over simulations match the Cliff-Ord free-sampling moments."""
    areas = lattice(8, 8)
    graph = weights.contiguity(areas, islands="keep")
    rng = np.random.default_rng(12)
    p = 0.3
    y = pd.Series((rng.random(len(areas)) < p).astype(float), index=areas.index)
    y[:] = 0.0
    y.iloc[: int(p * len(y))] = 1.0  # exact share p for the moments
    result = ac.join_counts(y, graph, permutations=0)
    a = graph.sparse.toarray()
    draws = (rng.random((20_000, len(areas))) < y.mean()).astype(float)
    bb = 0.5 * np.einsum("ki,ij,kj->k", draws, a, draws)
    assert result.mean_bb == pytest.approx(bb.mean(), rel=0.01)
    assert result.variance_bb == pytest.approx(bb.var(), rel=0.05)


# --------------------------------------------------------------------------------------
# Many sectors in one call, reproducibility, inference options
# --------------------------------------------------------------------------------------


def test_two_d_y_equals_column_by_column(villages, counts, continuous) -> None:
    _, graph = villages
    frame = pd.DataFrame({"13": counts, "31": continuous}).rename_axis(columns="sector")
    both = ac.local_moran(frame, graph, permutations=499, seed=21)
    assert both.index.names == ["area_code", "sector"]
    for column in frame.columns:
        alone = ac.local_moran(frame[column], graph, permutations=499, seed=21)
        part = both.xs(column, level="sector")
        pd.testing.assert_frame_equal(part, alone, check_names=False)


def test_seed_reproduces_and_changes_draws(villages, counts) -> None:
    _, graph = villages
    a = ac.local_gstar(counts, graph, permutations=199, seed=1)["p_sim"]
    b = ac.local_gstar(counts, graph, permutations=199, seed=1)["p_sim"]
    c = ac.local_gstar(counts, graph, permutations=199, seed=2)["p_sim"]
    pd.testing.assert_series_equal(a, b)
    assert not a.equals(c)


def test_gstar_bins_and_inference(villages, counts) -> None:
    _, graph = villages
    analytical = ac.local_gstar(counts, graph, permutations=199, seed=3)
    assert set(analytical["bin"].unique()) <= set(range(-3, 4))
    hot = analytical.index[analytical["bin"] == 3]
    assert set(counts.index[:10]) & set(hot)
    permuted = ac.local_gstar(counts, graph, permutations=199, seed=3, inference="permutation")
    assert not permuted["bin"].equals(analytical["bin"])
    controlled = ac.local_gstar(counts, graph, permutations=199, seed=3, fdr=True)
    assert (controlled["bin"].abs() <= analytical["bin"].abs()).all()


def test_alternatives_relate() -> None:
    areas = lattice(6, 6)
    graph = weights.contiguity(areas, islands="keep")
    y = _hot_cluster(lattice(6, 6)).reindex(areas.index).fillna(1.0)
    kw = {"permutations": 199, "seed": 5}
    two = ac.local_gstar(y, graph, alternative="two-sided", **kw)["p_sim"]
    folded = ac.local_gstar(y, graph, alternative="folded", **kw)["p_sim"]
    greater = ac.local_gstar(y, graph, alternative="greater", **kw)["p_sim"]
    lesser = ac.local_gstar(y, graph, alternative="lesser", **kw)["p_sim"]
    np.testing.assert_allclose(two, np.minimum(1, 2 * folded))
    np.testing.assert_allclose(folded, np.minimum(greater, lesser))
    with pytest.raises(ConfigError, match="alternative='both'"):
        ac.local_gstar(y, graph, alternative="both")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Undefined cases: defined results or clear errors
# --------------------------------------------------------------------------------------


def test_isolates_constants_and_empty_sectors(caplog: pytest.LogCaptureFixture) -> None:
    import shapely

    areas = lattice(3, 3)
    far = gpd.GeoDataFrame(
        {"name": ["x"]},
        geometry=[shapely.box(0, 0, 10, 10)],
        crs=areas.crs,
        index=pd.Index(["x"], name="area_code"),
    )
    areas = pd.concat([areas, far])
    graph = weights.contiguity(areas, islands="keep")
    frame = pd.DataFrame({"ok": np.arange(10.0), "constant": 2.0, "empty": 0.0}, index=areas.index)
    with caplog.at_level("WARNING"):
        lisa = ac.local_moran(frame, graph, permutations=99, seed=0)
        gi = ac.local_gstar(frame, graph, permutations=99, seed=0)
    assert lisa.xs("x")["statistic"].isna().all()  # no neighbours
    assert (lisa.xs("x")["quadrant"] == 0).all()
    for column in ("constant", "empty"):
        assert lisa.xs(column, level=1)["statistic"].isna().all()
        assert (gi.xs(column, level=1)["bin"] == 0).all()
    assert lisa.xs("ok", level=1).drop(index="x")["statistic"].notna().all()
    assert "constant variable(s) ['constant', 'empty']" in caplog.text
    assert "without neighbours" in caplog.text
    assert np.isnan(ac.global_moran(frame["empty"], graph, permutations=9).value)


def test_bad_inputs_are_explained() -> None:
    areas = lattice(3, 3)
    graph = weights.contiguity(areas)
    y = pd.Series(np.arange(9.0), index=areas.index)
    with pytest.raises(DataError, match=r"1 missing or infinite value\(s\)"):
        ac.local_moran(y.where(y != 4), graph)
    with pytest.raises(DataError, match="no value for 1 area"):
        ac.local_gstar(y.iloc[1:], graph)
    with pytest.raises(DataError, match="non-negative"):
        ac.local_gstar(y - 5, graph)
    with pytest.raises(DataError, match="0/1 values"):
        ac.local_join_count(y, graph)
    with pytest.raises(ConfigError, match="permutations=-1"):
        ac.local_moran(y, graph, permutations=-1)


# --------------------------------------------------------------------------------------
# Multiple testing and the kernel's draws
# --------------------------------------------------------------------------------------


def test_fdr_and_bonferroni() -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(4).uniform(0, 0.2, 200)
    np.testing.assert_allclose(ac.fdr_adjust(p), multipletests(p, method="fdr_bh")[1])
    np.testing.assert_allclose(ac.bonferroni(p), multipletests(p, method="bonferroni")[1])
    assert np.isnan(ac.fdr_adjust(np.array([0.01, np.nan, 0.02]))[1])


def test_hot_spot_bins() -> None:
    z = np.array([3.0, 2.0, 1.7, 0.5, -2.1, -3.0, np.nan])
    p = np.array([0.001, 0.03, 0.09, 0.6, 0.03, 0.004, np.nan])
    assert ac.hot_spot_bins(z, p).tolist() == [3, 2, 1, 0, -2, -3, 0]


@pytest.mark.parametrize(("n", "k"), [(100, 8), (20, 10), (1000, 60)])
def test_draw_table_rows_are_distinct_and_in_range(n: int, k: int) -> None:
    table = draw_table(n, k, 500, np.random.default_rng(0))
    assert table.shape == (500, k)
    assert table.min() >= 0 and table.max() <= n - 2
    ordered = np.sort(table, axis=1)
    assert not (ordered[:, 1:] == ordered[:, :-1]).any()
    # every value is drawn about equally often
    frequency = np.bincount(table.ravel(), minlength=n - 1) / table.size
    assert frequency.max() < 3 / (n - 1)


def test_by_sector_shapes(villages, counts, continuous) -> None:
    _, graph = villages
    matrix = pd.DataFrame({"13": counts, "31": continuous.round()})
    seen = []
    local, global_ = ac.by_sector(
        matrix, graph, permutations=99, seed=0, progress=lambda d, i, n: seen.append((d, i, n))
    )
    assert local.index.names == ["area_code", "sector"]
    assert len(local) == 2 * len(counts)
    assert list(global_.index) == ["13", "31"]
    assert {
        "gi_z",
        "gi_p",
        "gi_p_sim",
        "gi_bin",
        "lisa_i",
        "lisa_p",
        "lisa_p_sim",
        "lisa_quadrant",
    } <= set(local.columns)
    assert seen[-1] == ("done", 2, 2)
    assert global_.loc["13", "moran_i"] > 0.05


def test_too_few_areas_is_the_projects_own_error() -> None:
    """local_moran with 2 areas and global_moran with 3 divided by zero; the statistics
    are undefined there (variance divides by n - 2, resp. (n - 1)(n - 2)(n - 3))."""
    from klastergeo.errors import StatisticsError

    two = lattice(1, 2)
    graph = weights.contiguity(two)
    y = pd.Series([1.0, 5.0], index=two.index)
    for function in (ac.local_moran, ac.local_gstar):
        with pytest.raises(StatisticsError, match=r"needs at least 3 areas; the data have 2"):
            function(y, graph, permutations=99)
    three = lattice(1, 3)
    graph3 = weights.contiguity(three)
    y3 = pd.Series([1.0, 5.0, 2.0], index=three.index)
    for function in (
        ac.global_moran,
        ac.geary,
        ac.general_g,
    ):
        with pytest.raises(StatisticsError, match=r"needs at least 4 areas; the data have 3"):
            function(y3, graph3, permutations=0)
    assert len(ac.local_moran(y3, graph3, permutations=99)) == 3  # defined
    local, global_ = ac.by_sector(y3.to_frame("31"), graph3, permutations=99)
    assert len(local) == 3 and np.isnan(global_.loc["31", "moran_i"])
