"""Statistics of a measure of the firms (``analysis.measure``): the firm counts' own
statistics for ``firms``; for workers and output the closed-form LQ, esda's Gi*, local
Moran and bivariate local Moran on the area sums, and pseudo p-values against an exact
enumeration of the firms' permutations on small registries.

Tolerances: statistics equal their references to 1e-9 (relative); pseudo p-values agree
with the exact enumeration within four Monte-Carlo standard errors."""

from __future__ import annotations

import itertools
import warnings

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from libpysal.graph import Graph

from klastergeo.analysis import autocorrelation, concentration, measure, specialisation
from klastergeo.errors import ConfigError, DataError

RTOL = 1e-9


def _lattice(side: int) -> Graph:
    """Queen contiguity of a ``side`` x ``side`` grid, ids "a0000".. row-major."""
    cells = [shapely.box(c, r, c + 1, r + 1) for r in range(side) for c in range(side)]
    ids = [f"a{r:02d}{c:02d}" for r in range(side) for c in range(side)]
    areas = gpd.GeoDataFrame(geometry=cells, index=pd.Index(ids, name="area_code"))
    return Graph.build_contiguity(areas, rook=False)


def _path(n: int) -> Graph:
    """Areas 'p0'..'p{n-1}' in a row, each linked to the next."""
    focal = [f"p{i}" for i in range(n - 1)] + [f"p{i + 1}" for i in range(n - 1)]
    neighbor = [f"p{i + 1}" for i in range(n - 1)] + [f"p{i}" for i in range(n - 1)]
    return Graph.from_adjacency(pd.DataFrame({"focal": focal, "neighbor": neighbor, "weight": 1.0}))


def _registry(graph: Graph, n: int, seed: int) -> pd.DataFrame:
    """``n`` firms in the graph's areas, three sectors, skewed workers and output."""
    rng = np.random.default_rng(seed)
    ids = np.asarray(graph.unique_ids, dtype=object)
    area = rng.choice(ids, n)
    sector = rng.choice(["10", "13", "31"], n, p=[0.5, 0.3, 0.2])
    # sector 31 gathers in the first areas, with larger firms there
    first = np.isin(area, ids[: len(ids) // 3])
    sector = np.where(first & (rng.random(n) < 0.5), "31", sector)
    workers = np.round(rng.lognormal(1.0, 0.8, n) * np.where(first, 3.0, 1.0))
    return pd.DataFrame(
        {
            "area_code": area,
            "sector": sector,
            "workers": workers + 1.0,
            "output": rng.gamma(1.5, 20.0, n),
        }
    )


@pytest.fixture(scope="module")
def world() -> tuple[Graph, pd.DataFrame]:
    graph = _lattice(7)
    return graph, _registry(graph, 600, 3)


# --------------------------------------------------------------------------------------
# Sums, coverage and the location quotient in closed form
# --------------------------------------------------------------------------------------


def test_lq_of_workers_by_hand() -> None:
    graph = _path(3)
    firms = pd.DataFrame(
        {
            "area_code": ["p0", "p0", "p1", "p2", "p2"],
            "sector": ["x", "y", "x", "y", "y"],
            "workers": [10.0, 2.0, 4.0, 3.0, None],
        }
    )
    out = measure.measure_statistics(firms, graph, measure="workers", permutations=0)
    # workers: p0 x 10 y 2, p1 x 4, p2 y 3 (the fifth firm has no value); x 14 of 19
    assert out.loc[("p0", "x"), "lq"] == pytest.approx((10 / 12) / (14 / 19), rel=RTOL)
    assert out.loc[("p1", "x"), "lq"] == pytest.approx((4 / 4) / (14 / 19), rel=RTOL)
    assert out.loc[("p2", "y"), "lq"] == pytest.approx((3 / 3) / (5 / 19), rel=RTOL)
    assert out.loc[("p2", "y"), "coverage"] == 0.5
    assert out.loc[("p2", "y"), ["n_firms", "n_valued"]].tolist() == [2, 1]
    assert out.loc[("p1", "y"), "value"] == 0.0  # no firm: 0
    # Kish's effective counts: (10)^2/100 = 1 firm in the cell, 144/104 in the area ...
    variance = 1 / 1 - 1 / (144 / 104) + 1 / (196 / 116) - 1 / (361 / 129)
    half = 1.959963984540054 * np.sqrt(variance)
    lq = (10 / 12) / (14 / 19)
    assert out.loc[("p0", "x"), "lq_low"] == pytest.approx(lq * np.exp(-half), rel=1e-9)
    assert out.loc[("p0", "x"), "lq_high"] == pytest.approx(lq * np.exp(half), rel=1e-9)


def test_a_cell_whose_firms_have_no_value_is_missing_not_zero() -> None:
    graph = _path(3)
    firms = pd.DataFrame(
        {
            "area_code": ["p0", "p1", "p1", "p2"],
            "sector": ["x", "x", "y", "y"],
            "workers": [5.0, None, 4.0, 2.0],
        }
    )
    out = measure.measure_statistics(firms, graph, measure="workers", permutations=0)
    assert np.isnan(out.loc[("p1", "x"), "value"])
    assert np.isnan(out.loc[("p1", "x"), "lq"])
    assert out.loc[("p1", "x"), "coverage"] == 0.0
    assert out.loc[("p0", "y"), "value"] == 0.0  # no firm there at all
    # the valued firms alone give the same statistics
    alone = measure.measure_statistics(
        firms.dropna(), graph, measure="workers", permutations=0, sectors=["x", "y"]
    )
    stats_cols = ["lq_low", "lq_high", "spec_ratio", "gi_z", "lisa_i"]
    pd.testing.assert_frame_equal(out[stats_cols], alone[stats_cols])


def test_unit_values_give_the_firm_counts_lq_and_interval(world) -> None:
    graph, firms = world
    ones = firms.assign(workers=1.0)
    values = measure.measure_statistics(ones, graph, measure="workers", permutations=0)
    counts = measure.measure_statistics(firms, graph, measure="firms", permutations=0)
    for column in ("lq", "lq_low", "lq_high", "spec_ratio", "gi_z", "lisa_i"):
        np.testing.assert_allclose(values[column], counts[column], rtol=RTOL)


def test_firms_are_the_firm_counts_own_statistics(world) -> None:
    graph, firms = world
    out = measure.measure_statistics(firms, graph, measure="firms", permutations=99, seed=5)
    matrix = (
        firms.groupby(["area_code", "sector"])
        .size()
        .unstack(fill_value=0)
        .reindex(graph.unique_ids)
    )
    lq = concentration.location_quotient(matrix)
    local, _ = autocorrelation.by_sector(matrix, graph, permutations=99, seed=5)
    spec = specialisation.local_specialisation(matrix, graph)
    np.testing.assert_array_equal(out["lq"], lq["lq"])
    np.testing.assert_array_equal(out["lq_low"], lq["lq_low"])
    np.testing.assert_array_equal(out["lq_p"], lq["p_value"])
    for column in local.columns:
        np.testing.assert_array_equal(out[column], local[column])
    for column in spec.columns:
        np.testing.assert_array_equal(out[column], spec[column])


@pytest.mark.parametrize("name", ["workers", "output"])
def test_the_registry_row_order_does_not_change_the_permutation_p_values(world, name) -> None:
    """The same firms in another row order, with the same seed, give the same p-values,
    bins and quadrants (a registry sorted otherwise is the same registry)."""
    graph, firms = world
    kwargs = {"measure": name, "permutations": 49, "seed": 7}
    forward = measure.measure_statistics(firms, graph, **kwargs)
    order = np.random.default_rng(1).permutation(len(firms))
    shuffled = measure.measure_statistics(firms.iloc[order], graph, **kwargs)
    pd.testing.assert_frame_equal(shuffled, forward)


def test_bad_input_is_named() -> None:
    graph = _path(3)
    firms = pd.DataFrame({"area_code": ["p0"], "sector": ["x"], "workers": [-1.0]})
    with pytest.raises(DataError, match="'workers' has 1 negative"):
        measure.measure_statistics(firms, graph, measure="workers")
    with pytest.raises(ConfigError, match="measure='jobs' is not accepted"):
        measure.measure_statistics(firms, graph, measure="jobs")
    with pytest.raises(DataError, match=r"sectors \['z'\] have no firm"):
        measure.measure_statistics(
            firms.assign(workers=1.0), graph, measure="workers", sectors=["z"]
        )


# --------------------------------------------------------------------------------------
# Against esda on the area sums
# --------------------------------------------------------------------------------------


def _sums(firms: pd.DataFrame, graph: Graph, column: str) -> pd.DataFrame:
    return (
        firms.groupby(["area_code", "sector"])[column]
        .sum()
        .unstack(fill_value=0.0)
        .reindex(graph.unique_ids, fill_value=0.0)
    )


def test_gstar_and_local_moran_of_sums_equal_esda(world) -> None:
    graph, firms = world
    out = measure.measure_statistics(firms, graph, measure="output", permutations=0)
    sums = _sums(firms, graph, "output")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sector in sums.columns:
            y = sums[sector].to_numpy()
            ours = out.xs(sector, level="sector")
            gi = esda.G_Local(y, graph.transform("b"), transform="B", star=True, permutations=0)
            np.testing.assert_allclose(ours["gi_z"], gi.Zs, rtol=RTOL)
            lisa = esda.Moran_Local(y, graph.transform("r"), permutations=0)
            np.testing.assert_allclose(ours["lisa_i"], lisa.Is, rtol=RTOL)
            np.testing.assert_allclose(ours["value"], y, rtol=RTOL)


def _mc_agree(ours: np.ndarray, ref: np.ndarray, permutations: int) -> float:
    """Share of areas whose pseudo p-values agree within Monte-Carlo error."""
    p = np.clip((ours + ref) / 2, 1.0 / (permutations + 1), 1.0)
    bound = 4 * np.sqrt(2) * np.sqrt(p * (1 - p) / permutations) + 2.0 / (permutations + 1)
    ok = np.isfinite(ours) & np.isfinite(ref)
    return float((np.abs(ours - ref)[ok] <= bound[ok]).mean())


@pytest.mark.slow  # esda's permutation kernel compiles on its first call (about 20 s)
@pytest.mark.parametrize("other", [None, "10"])
def test_bivariate_moran_equals_esda(world, other) -> None:
    """A sector's output against all firms' output, or against another sector's."""
    graph, firms = world
    sums = _sums(firms, graph, "output")
    x = sums["31"]
    y = sums.sum(axis=1) if other is None else sums[other]
    ours = measure.bivariate_moran(x, y, graph, permutations=999, seed=2, alternative="folded")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.Moran_Local_BV(
            x.to_numpy(),
            y.to_numpy(),
            graph.transform("r"),
            permutations=999,
            seed=2,
            geoda_quads=True,
        )
    np.testing.assert_allclose(ours["statistic"], ref.Is, rtol=RTOL)
    assert _mc_agree(ours["p_sim"].to_numpy(), ref.p_sim, 999) >= 0.97
    significant = (ours["p_sim"] <= 0.05).to_numpy()
    assert (ours["quadrant"].to_numpy()[significant] == ref.q[significant]).all()
    assert (ours["quadrant"].to_numpy()[~significant] == 0).all()


def test_bivariate_of_a_measure_uses_the_sums_of_firms_with_a_value(world) -> None:
    """A sector's workers against all firms' workers: esda's statistic on the area sums
    of the firms that report workers (one in ten reports none)."""
    graph, firms = world
    gaps = firms.assign(workers=firms["workers"].mask(np.arange(len(firms)) % 10 == 0))
    ours = measure.measure_bivariate(gaps, graph, measure="workers", sector="31", permutations=0)
    sums = _sums(gaps.dropna(subset=["workers"]), graph, "workers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.Moran_Local_BV(
            sums["31"].to_numpy(), sums.sum(axis=1).to_numpy(), graph.transform("r"),
            permutations=0,
        )  # fmt: skip
    np.testing.assert_allclose(ours["statistic"], ref.Is, rtol=RTOL)
    other = measure.measure_bivariate(
        gaps, graph, measure="workers", sector="31", other="10", permutations=0
    )
    assert not np.allclose(other["statistic"], ours["statistic"])


# --------------------------------------------------------------------------------------
# The firms' nulls against an exact enumeration
# --------------------------------------------------------------------------------------


def _exact_two_sided(stat: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Two-sided p of every entry from all equally likely permuted statistics."""
    ge = (stat >= observed - 1e-9).mean(axis=0)
    le = (stat <= observed + 1e-9).mean(axis=0)
    return np.minimum(1.0, 2.0 * np.minimum(ge, le))


def _brute_statistics(area, sector, value, n_areas, hood, row):
    """Sums per (area, sector), neighbourhood sums and local Moran, by plain loops."""
    sums = [[0.0, 0.0] for _ in range(n_areas)]
    for a, s, v in zip(area, sector, value, strict=True):
        sums[a][s] += v
    out = np.array(sums)
    near = np.array([[sum(out[j][k] for j in hood[i]) for k in range(2)] for i in range(n_areas)])
    moran = np.zeros((n_areas, 2))
    for k in range(2):
        mean = sum(out[i][k] for i in range(n_areas)) / n_areas
        z = [out[i][k] - mean for i in range(n_areas)]
        m2 = sum(zi * zi for zi in z)
        for i in range(n_areas):
            lag = sum(z[j] for j in row[i]) / len(row[i])
            moran[i][k] = (n_areas - 1) * z[i] * lag / m2
    return out, near, moran


def test_firm_nulls_equal_an_exact_enumeration() -> None:
    """Eight firms in four areas in a row, two sectors: every relabelling of the sectors
    (random labelling: LQ and specialisation) and every shuffle of each sector's values
    among its firms (Gi*, LISA), enumerated by plain loops."""
    graph = _path(4)
    area = [0, 0, 1, 1, 1, 2, 3, 3]
    sector = [1, 1, 1, 0, 0, 0, 0, 1]
    value = [9.0, 5.0, 7.0, 1.0, 2.0, 3.0, 4.0, 1.5]
    row = {0: [1], 1: [0, 2], 2: [1, 3], 3: [2]}
    hood = {i: [i, *row[i]] for i in row}
    observed, near, moran = _brute_statistics(area, sector, value, 4, hood, row)
    labelled_sums, labelled_near = [], []
    for order in itertools.permutations(range(8)):
        sums, hood_sums, _ = _brute_statistics(
            area, [sector[o] for o in order], value, 4, hood, row
        )
        labelled_sums.append(sums)
        labelled_near.append(hood_sums)
    shuffled_near, shuffled_moran = [], []
    firms_of = {k: [f for f in range(8) if sector[f] == k] for k in (0, 1)}
    for first in itertools.permutations(firms_of[0]):
        for second in itertools.permutations(firms_of[1]):
            moved = list(value)
            for k, order in ((0, first), (1, second)):
                for f, g in zip(firms_of[k], order, strict=True):
                    moved[f] = value[g]
            _, hood_sums, lisa = _brute_statistics(area, sector, moved, 4, hood, row)
            shuffled_near.append(hood_sums)
            shuffled_moran.append(lisa)
    exact_lq = (np.array(labelled_sums) >= observed - 1e-9).mean(axis=0)
    exact_spec = _exact_two_sided(np.array(labelled_near), near)
    exact_gi = _exact_two_sided(np.array(shuffled_near), near)
    exact_lisa = _exact_two_sided(np.array(shuffled_moran), moran)

    firms = pd.DataFrame(
        {
            "area_code": [f"p{a}" for a in area],
            "sector": [["s0", "s1"][s] for s in sector],
            "workers": value,
        }
    )
    permutations = 20_000
    out = measure.measure_statistics(
        firms, graph, measure="workers", permutations=permutations, seed=1, margin=1.0
    )
    # the minimum effect m: the permuted neighbourhood sums times m (upper tail) and
    # divided by m (lower tail) against the observed ones
    m = 1.25
    labelled = np.array(labelled_near)
    upper = (labelled * m >= near - 1e-9).mean(axis=0)
    lower = (labelled / m <= near + 1e-9).mean(axis=0)
    exact_margin = np.minimum(1.0, 2.0 * np.minimum(upper, lower))
    assert (exact_margin >= exact_spec - 1e-12).all() and (exact_margin > exact_spec).any()
    with_margin = measure.measure_statistics(
        firms, graph, measure="workers", permutations=permutations, seed=1, margin=m
    )
    for column, exact, table in (
        ("lq_p", exact_lq, out),
        ("spec_p", exact_spec, out),
        ("gi_p_sim", exact_gi, out),
        ("lisa_p_sim", exact_lisa, out),
        ("spec_p", exact_margin, with_margin),
    ):
        ours = table[column].to_numpy().reshape(4, 2)
        se = np.sqrt(exact * (1 - exact) / permutations) * (2 if column != "lq_p" else 1)
        assert (np.abs(ours - np.minimum(1, exact)) <= 4 * se + 2.0 / permutations).all(), column


def test_calibrated_when_nothing_is_planted() -> None:
    """Firms, sectors and workers drawn independently of place: about 5 % of the cells
    (and no more) are significant at 5 % under each null."""
    graph = _lattice(15)
    rng = np.random.default_rng(11)
    n = 6000
    firms = pd.DataFrame(
        {
            "area_code": rng.choice(np.asarray(graph.unique_ids, dtype=object), n),
            "sector": rng.choice(["10", "13", "16", "25", "31"], n),
            "workers": rng.lognormal(1.0, 1.0, n),
        }
    )
    out = measure.measure_statistics(
        firms, graph, measure="workers", permutations=199, seed=3, margin=1.0
    )
    for column in ("lq_p", "spec_p", "gi_p_sim", "lisa_p_sim"):
        rate = float((out[column] <= 0.05).mean())
        assert 0.02 <= rate <= 0.08, (column, rate)
    # with the minimum effect the test is conservative: fewer cells, never more
    margin = measure.measure_statistics(firms, graph, measure="workers", permutations=199, seed=3)
    assert (margin["spec_p"] >= out["spec_p"]).all()
    assert float((margin["spec_p"] <= 0.05).mean()) < 0.01


def test_the_alternative_applies_to_the_gi_and_lisa_pseudo_p_values(world) -> None:
    graph, firms = world
    kwargs = {"measure": "output", "permutations": 99, "seed": 4}
    two = measure.measure_statistics(firms, graph, **kwargs)
    folded = measure.measure_statistics(firms, graph, alternative="folded", **kwargs)
    for column in ("gi_p_sim", "lisa_p_sim"):
        np.testing.assert_allclose(np.minimum(1.0, 2.0 * folded[column]), two[column])
        assert (folded[column] < two[column]).any()
    np.testing.assert_array_equal(folded["spec_p"], two["spec_p"])  # always two-sided


def test_large_firms_gathered_where_firms_are_not_are_found() -> None:
    """Planted truth: every area has the same firms of every sector, but the furniture
    firms of a 3 x 3 block are ten times larger. The firm counts see nothing there; the
    workers' Gi* (values permuted among the sector's firms) and specialisation (sectors
    relabelled; at 95 % without margin, at 90 % or more beyond the margin 1.25) find the
    block."""
    graph = _lattice(12)
    ids = np.asarray(graph.unique_ids, dtype=object)
    block = {f"a{r:02d}{c:02d}" for r in range(4, 7) for c in range(4, 7)}
    rng = np.random.default_rng(5)
    rows = [
        (area, sector, rng.lognormal(1.0, 0.3) * (10.0 if area in block and sector == "31" else 1))
        for area in ids
        for sector in ("10", "31")
        for _ in range(6)
    ]
    firms = pd.DataFrame(rows, columns=["area_code", "sector", "workers"])
    workers = measure.measure_statistics(firms, graph, measure="workers", permutations=199, seed=1)
    counts = measure.measure_statistics(firms, graph, measure="firms", permutations=199, seed=1)
    furniture = workers.xs("31", level="sector")
    inside = furniture.index.isin(sorted(block))
    assert (furniture.loc[inside, "gi_bin"] >= 2).all()
    assert (furniture.loc[inside, "gi_p_sim"] <= 0.01).all()
    assert (furniture.loc[inside, "spec_bin"] >= 1).all()  # beyond the margin 1.25
    plain = measure.measure_statistics(
        firms, graph, measure="workers", permutations=199, seed=1, margin=1.0
    ).xs("31", level="sector")
    assert (plain.loc[inside, "spec_bin"] >= 2).all()
    assert (furniture.loc[~inside, "gi_bin"] >= 2).mean() < 0.1
    assert (counts.xs("31", level="sector")["spec_bin"] == 0).all()  # counts: nothing


# --------------------------------------------------------------------------------------
# The minimum effect of the measures' specialisation (analysis.spec_margin)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fdr", [False, True])
def test_the_margin_is_the_firm_counts_rule_and_one_is_no_margin(world, fdr: bool) -> None:
    """Margin 1 is the plain permutation test (its bins decided on the raw or, with FDR,
    the Benjamini-Hochberg adjusted p-values, as before the margin); with a margin the
    bins are decided as local_specialisation decides them: on the margin p-value, or
    with FDR on the larger of it and the adjusted plain p-value within the sector; the
    same permutations give both (one seed)."""
    graph, firms = world
    kwargs = {"measure": "workers", "permutations": 199, "seed": 7}
    plain = measure.measure_statistics(firms, graph, margin=1.0, spec_fdr=fdr, **kwargs)
    out = measure.measure_statistics(firms, graph, margin=1.25, spec_fdr=fdr, **kwargs)
    for table, p in ((plain, None), (out, out["spec_p"])):
        raw = plain["spec_p"] if p is None else p
        decide = raw
        if fdr:
            adjusted = (
                plain["spec_p"]
                .groupby(level="sector")
                .transform(
                    lambda v: pd.Series(autocorrelation.fdr_adjust(v.to_numpy()), index=v.index)
                )
            )
            decide = np.maximum(raw, adjusted)
        bins = autocorrelation.hot_spot_bins(table["spec_z"].to_numpy(), decide.to_numpy())
        np.testing.assert_array_equal(table["spec_bin"].to_numpy(), bins)
    assert (out["spec_p"] >= plain["spec_p"]).all() and (out["spec_p"] > plain["spec_p"]).any()
    np.testing.assert_array_equal(out["spec_ratio"], plain["spec_ratio"])
    firm_counts = measure.measure_statistics(
        firms, graph, measure="firms", margin=1.0, permutations=0
    )
    matrix = firms.groupby(["area_code", "sector"]).size().unstack(fill_value=0)
    spec = specialisation.local_specialisation(matrix.reindex(graph.unique_ids), graph, margin=1.0)
    np.testing.assert_array_equal(firm_counts["spec_p"], spec["spec_p"])
    with pytest.raises(ConfigError, match=r"margin=0.9"):
        measure.measure_statistics(firms, graph, margin=0.9, **kwargs)


@pytest.fixture(scope="module")
def banten(data_dir) -> tuple:
    from tests.worlds import estates, places

    return places.villages(data_dir, estates.AREA)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_estates_stay_quiet_in_the_workers_and_a_worker_heavy_sentra_is_found(
    banten, seed: int
) -> None:
    """Banten's villages with five estates (every sector 4 to 30 times denser, their
    firms' workers drawn as everywhere; tests/worlds/estates.py) and a worker-heavy
    sentra (food firms of seven city villages with ten times the workers, their number
    unchanged). With the margin 1.25 at most 2 % of the estates' cells are in the
    workers' hot bins, with or without FDR (margin 1 without FDR: more than 2 %, what
    the margin is for); the worker-heavy villages are all in hot bins (95 % or more)
    with the margin, where the firm counts see nothing."""
    from tests.worlds import estates

    areas, graph = banten
    world = estates.generate(areas, graph, seed)
    firms = estates.firms(world, seed)
    inside = [c for codes in world.estates.values() for c in codes]
    heavy = list(estates.heavy_villages(world))
    assert not set(heavy) & set(inside)
    kwargs = {"measure": "workers", "permutations": 199, "seed": seed}

    def hot(table: pd.DataFrame) -> float:
        cells = table.loc[table.index.get_level_values("area_code").isin(inside)]
        assert len(cells) == len(inside) * len(estates.SECTORS)
        return float((cells["spec_bin"] >= 1).mean())

    for fdr in (False, True):
        out = measure.measure_statistics(firms, graph, spec_fdr=fdr, **kwargs)
        assert hot(out) <= 0.02, fdr
        if not fdr:
            found = out.xs(estates.HEAVY_SECTOR, level="sector").loc[heavy, "spec_bin"]
            assert (found >= 2).all(), found.tolist()
    assert hot(measure.measure_statistics(firms, graph, margin=1.0, **kwargs)) > 0.02
    counts = measure.measure_statistics(firms, graph, measure="firms", permutations=0)
    assert (counts.xs(estates.HEAVY_SECTOR, level="sector").loc[heavy, "spec_bin"] == 0).all()


# --------------------------------------------------------------------------------------
# The bivariate local Moran in every measure's table
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["firms", "workers"])
def test_every_measure_carries_the_bivariate_against_all_firms(world, name: str) -> None:
    """bv_i, bv_p and bv_quadrant of a measure's table are measure_bivariate of each
    sector against all firms (same seed and options), whose statistic is esda's
    Moran_Local_BV of the area sums; withheld as spec_ratio (the sector with a
    suppressed cell, and the neighbourhoods of the areas holding one), p and quadrant
    kept."""
    graph, firms = world
    options = {"permutations": 99, "seed": 3, "alternative": "folded"}
    out = measure.measure_statistics(firms, graph, measure=name, **options)
    sums = _sums(firms, graph, name) if name != "firms" else None
    for sector in ("10", "13", "31"):
        ref = measure.measure_bivariate(firms, graph, measure=name, sector=sector, **options)
        rows = out.xs(sector, level="sector")
        np.testing.assert_allclose(rows["bv_i"], ref["statistic"], rtol=RTOL)
        np.testing.assert_array_equal(rows["bv_p"], ref["p_sim"])
        np.testing.assert_array_equal(rows["bv_quadrant"], ref["quadrant"])
        if sums is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                esda_bv = esda.Moran_Local_BV(
                    sums[sector].to_numpy(), sums.sum(axis=1).to_numpy(), graph.transform("r"),
                    permutations=0,
                )  # fmt: skip
            np.testing.assert_allclose(rows["bv_i"], esda_bv.Is, rtol=RTOL)
    assert (out["bv_quadrant"] > 0).any()
    ids = list(graph.unique_ids)
    hidden = pd.Series(True, index=pd.MultiIndex.from_tuples([(ids[0], "31")]))
    shown = measure.withhold(out, hidden, graph)
    near = {ids[0], *graph[ids[0]].index}
    assert shown.xs("31", level="sector")["bv_i"].isna().all()
    ten = shown.xs("10", level="sector")["bv_i"]
    assert ten[ten.index.isin(near)].isna().all() and ten[~ten.index.isin(near)].notna().all()
    pd.testing.assert_series_equal(shown["bv_p"], out["bv_p"])
    pd.testing.assert_series_equal(shown["bv_quadrant"], out["bv_quadrant"])
