"""Spatial autocorrelation: closed forms on lattices, esda as the independent reference."""

from __future__ import annotations

import warnings

import esda
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from klastergeo import autocorrelation as ac
from klastergeo import weights
from tests.conftest import lattice


@pytest.fixture
def grid7():
    areas = lattice(7, 7)
    return areas, weights.contiguity(areas, islands="keep")


def _hot_cluster(areas) -> pd.Series:
    y = pd.Series(1.0, index=areas.index)
    for code in ("r2c2", "r2c3", "r3c2", "r3c3"):
        y[code] = 40.0
    y["r6c6"] = 0.0
    return y


def test_checkerboard_moran_is_minus_one() -> None:
    """Closed form: a checkerboard on rook weights has Moran's I = -1."""
    areas = lattice(6, 6)
    graph = weights.contiguity(areas, rook=True, islands="keep")
    rows = np.array([int(c[1]) for c in areas.index.str.split("c").str[0]])
    cols = np.array([int(c.split("c")[1]) for c in areas.index])
    y = pd.Series(((rows + cols) % 2).astype(float), index=areas.index)
    result = ac.global_moran(y, graph, permutations=99, seed=1)
    assert pytest.approx(-1.0) == result.I
    assert result.expected == pytest.approx(-1 / 35)
    assert result.z < -5


def test_constant_variable_gives_nan() -> None:
    areas = lattice(3, 3)
    graph = weights.contiguity(areas)
    y = pd.Series(2.0, index=areas.index)
    assert np.isnan(ac.global_moran(y, graph).I)
    local = ac.local_gstar(y, graph, permutations=9, seed=0)
    assert local["statistic"].isna().all()
    assert (local["bin"] == 0).all()


def test_gstar_statistic_closed_form(grid7) -> None:
    """G*_i = sum of y over i and its neighbours / sum of y (binary weights)."""
    areas, graph = grid7
    y = _hot_cluster(areas)
    local = ac.local_gstar(y, graph, permutations=0)
    total = y.sum()
    for code in ("r2c2", "r0c0", "r6c6"):
        neighbourhood = [*graph[code].index, code]
        assert local.loc[code, "statistic"] == pytest.approx(y[neighbourhood].sum() / total)
    # z by the Getis-Ord (1995) formula
    n = len(y)
    mean, sd = y.mean(), np.sqrt((y**2).mean() - y.mean() ** 2)
    code = "r2c2"
    w = len(graph[code]) + 1
    z = (y[[*graph[code].index, code]].sum() - mean * w) / (sd * np.sqrt((n * w - w**2) / (n - 1)))
    assert local.loc[code, "z"] == pytest.approx(z)
    assert local.loc[code, "p_norm"] == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_gstar_matches_esda_and_bins_hot_spots(grid7) -> None:
    areas, graph = grid7
    y = _hot_cluster(areas)
    ours = ac.local_gstar(y.sample(frac=1.0, random_state=1), graph, permutations=999, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(
            y.to_numpy(),
            graph.transform("b"),
            transform="B",
            star=True,
            permutations=999,
            seed=7,
            n_jobs=1,
        )
    assert ours.index.tolist() == list(graph.unique_ids)  # aligned to the graph, not to y
    np.testing.assert_allclose(ours["statistic"], ref.Gs, rtol=1e-9)
    np.testing.assert_allclose(ours["z"], ref.Zs, rtol=1e-9)
    np.testing.assert_allclose(ours["p_sim"], ref.p_sim)
    assert ours.loc["r2c2", "bin"] == 3
    assert (ours.loc[["r2c2", "r2c3", "r3c2", "r3c3"], "bin"] >= 2).all()
    assert ours.loc["r6c0", "bin"] <= 0


def test_local_moran_quadrants_use_geoda_codes(grid7) -> None:
    areas, graph = grid7
    y = _hot_cluster(areas)
    y["r5c1"] = 40.0  # a high outlier among low neighbours
    lisa = ac.local_moran(y, graph, permutations=999, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.Moran_Local(
            y.to_numpy(), graph.transform("r"), permutations=999, seed=3, n_jobs=1
        )
    np.testing.assert_allclose(lisa["statistic"], ref.Is, rtol=1e-9)
    np.testing.assert_allclose(lisa["p_sim"], ref.p_sim)
    assert lisa.loc["r2c2", "quadrant"] == 1  # HH
    assert lisa.loc["r5c1", "quadrant"] in (0, 4)  # HL when significant
    assert set(lisa["quadrant"].unique()) <= {0, 1, 2, 3, 4}
    high = lisa.loc[lisa["quadrant"] == 1].index
    assert set(high) <= {"r2c2", "r2c3", "r3c2", "r3c3"}
    # esda's raw quadrants are 1 HH, 2 LH, 3 LL, 4 HL; ours follow GeoDa: 2 LL, 3 LH
    low_low = lisa.index[(lisa["quadrant"] == 2)]
    assert all(y[c] <= y.mean() for c in low_low)


def test_fdr_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(4).uniform(0, 0.2, 200)
    ours = ac.fdr_adjust(p)
    ref = multipletests(p, method="fdr_bh")[1]
    np.testing.assert_allclose(ours, ref)
    with_nan = ac.fdr_adjust(np.array([0.01, np.nan, 0.02]))
    assert np.isnan(with_nan[1])


def test_hot_spot_bins() -> None:
    z = np.array([3.0, 2.0, 1.7, 0.5, -2.1, -3.0, np.nan])
    p = np.array([0.001, 0.03, 0.09, 0.6, 0.03, 0.004, np.nan])
    assert ac.hot_spot_bins(z, p).tolist() == [3, 2, 1, 0, -2, -3, 0]


def test_fdr_makes_bins_stricter(grid7) -> None:
    areas, graph = grid7
    y = _hot_cluster(areas)
    plain = ac.local_gstar(y, graph, permutations=0)
    controlled = ac.local_gstar(y, graph, permutations=0, fdr=True)
    assert (controlled["bin"].abs() <= plain["bin"].abs()).all()


def test_isolates_are_undefined() -> None:
    import geopandas as gpd
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
    y = pd.Series(np.arange(10, dtype=float), index=areas.index)
    lisa = ac.local_moran(y, graph, permutations=99, seed=0)
    assert np.isnan(lisa.loc["x", "statistic"])
    assert lisa.loc["x", "quadrant"] == 0


def test_by_sector_shapes(grid7) -> None:
    areas, graph = grid7
    y = _hot_cluster(areas)
    matrix = pd.DataFrame({"13": y, "31": y[::-1].to_numpy()}, index=areas.index)
    seen = []
    local, global_ = ac.by_sector(
        matrix, graph, permutations=99, seed=0, progress=lambda d, i, n: seen.append((d, i, n))
    )
    assert local.index.names == ["area_code", "sector"]
    assert len(local) == 2 * len(areas)
    assert list(global_.index) == ["13", "31"]
    assert {"gi_z", "gi_p", "gi_bin", "lisa_i", "lisa_p", "lisa_quadrant"} <= set(local.columns)
    assert seen[-1] == ("done", 2, 2)
    assert global_.loc["13", "moran_i"] > 0.2


def test_misaligned_y_is_refused(grid7) -> None:
    areas, graph = grid7
    from klastergeo._errors import ConfigError

    with pytest.raises(ConfigError, match="no value for 1 area"):
        ac.local_gstar(pd.Series(1.0, index=areas.index[1:]), graph)
