"""Co-location quotients against a brute force on small data, their behaviour under
random labelling, and the linkage table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from klastergeo.analysis import colocation
from klastergeo.errors import ConfigError


def _chords(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Every pair's distance (metres along the chord), computed independently."""
    lam, phi = np.radians(lon), np.radians(lat)
    p = colocation.EARTH_RADIUS_M * np.column_stack(
        [np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)]
    )
    return np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(axis=-1))


def _world(n: int, seed: int, *, duplicates: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lon = 110 + rng.random(n) * 0.05
    lat = -7 + rng.random(n) * 0.05
    if duplicates:  # firms sharing a place (a village centroid, one building)
        lon[-duplicates:], lat[-duplicates:] = lon[0], lat[0]
        lon[1:3], lat[1:3] = lon[5], lat[5]
    labels = rng.choice(np.array(["10", "13", "25", "31"]), n, p=[0.4, 0.3, 0.2, 0.1])
    return lon, lat, labels


@pytest.mark.parametrize("duplicates", [0, 4])
def test_global_clq_is_the_brute_force(duplicates: int) -> None:
    """Nearest neighbours from the full distance matrix, ties split equally, as Leslie
    and Kronenfeld define it."""
    lon, lat, labels = _world(70, 1, duplicates=duplicates)
    d = _chords(lon, lat)
    np.fill_diagonal(d, np.inf)
    n = len(labels)
    sectors = sorted(set(labels))
    count = {s: int((labels == s).sum()) for s in sectors}
    c = {(a, b): 0.0 for a in sectors for b in sectors}
    for i in range(n):
        tied = np.flatnonzero(d[i] <= d[i].min() + 1e-9)
        for j in tied:
            c[(labels[i], labels[j])] += 1 / len(tied)
    out = colocation.global_clq(lon, lat, labels, permutations=0)
    for a in sectors:
        for b in sectors:
            nb = count[b] - (a == b)
            expected = (c[(a, b)] / count[a]) / (nb / (n - 1))
            assert out.loc[(a, b), "clq"] == pytest.approx(expected, rel=1e-9), (a, b)
    assert "p_value" not in out.columns
    if duplicates:
        assert (out["clq"] > 0).any()


def test_a_sector_of_one_firm_has_no_quotient_towards_itself() -> None:
    out = colocation.global_clq([0, 0.01, 0.02, 0.5], [0, 0, 0, 0], ["a", "a", "a", "b"])
    assert np.isnan(out.loc[("b", "b"), "clq"]) and np.isnan(out.loc[("b", "b"), "p_value"])
    assert out.loc[("b", "a"), "clq"] == pytest.approx(1.0)  # its neighbour is an a


@pytest.mark.slow
def test_global_clq_under_random_labelling_averages_one_and_is_calibrated() -> None:
    """Random labels on random places: the CLQ's mean is 1 (Leslie and Kronenfeld's
    expectation) and the co-location p-value is uniform (rejections near alpha)."""
    clq, p = [], []
    for seed in range(300):
        rng = np.random.default_rng(1000 + seed)
        lon, lat = rng.random(150), rng.random(150)
        labels = rng.choice(np.array(["a", "b", "c"]), 150, p=[0.5, 0.3, 0.2])
        out = colocation.global_clq(lon, lat, labels, permutations=99, seed=seed)
        clq.append(out.loc[("a", "b"), "clq"])
        p.append(out.loc[("a", "b"), "p_value"])
    assert np.mean(clq) == pytest.approx(1.0, abs=0.03)
    p = np.array(p)
    assert 0.02 <= (p <= 0.05).mean() <= 0.09
    assert 0.07 <= (p <= 0.10).mean() <= 0.14
    assert np.mean(p) == pytest.approx(0.5, abs=0.05)


def test_local_clq_is_the_brute_force() -> None:
    """k nearest neighbours, Gaussian weights with the k-th distance as bandwidth, the
    weighted share over the sector's share among the others (Cromley et al. 2014)."""
    lon, lat, labels = _world(80, 2)
    k = 6
    d = _chords(lon, lat)
    np.fill_diagonal(d, np.inf)
    n = len(labels)
    focal = np.flatnonzero(labels == "31")
    out = colocation.local_clq(lon, lat, labels, focal=labels == "31", k=k, permutations=0)
    assert list(out.clq.index) == list(focal)
    for i in focal:
        near = np.argsort(d[i])[:k]
        band = d[i, near[-1]]
        w = np.exp(-0.5 * (d[i, near] / band) ** 2)
        for b in ("10", "13", "25", "31"):
            share = w[labels[near] == b].sum() / w.sum()
            nb = (labels == b).sum() - (labels[i] == b)
            assert out.clq.loc[i, b] == pytest.approx(share / (nb / (n - 1)), rel=1e-9)


def test_local_clq_p_values_are_calibrated_under_random_labelling() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    lon, lat = 110 + rng.random(n), -7 + rng.random(n)
    labels = rng.choice(np.array(["a", "b", "c"]), n, p=[0.3, 0.4, 0.3])
    out = colocation.local_clq(lon, lat, labels, focal=labels == "a", k=8, permutations=199)
    assert out.p_value is not None
    p = out.p_value["b"].to_numpy()
    # a share of 8 weighted neighbours is discrete, so the test is conservative
    assert 0.01 <= (p <= 0.05).mean() <= 0.06
    assert out.clq["b"].mean() == pytest.approx(1.0, abs=0.05)


def test_small_registries_draw_distinct_neighbours() -> None:
    """In a village survey the conditional draws are without replacement: with every
    other firm of sector b, the simulated share is always 1 and p is 1."""
    lon = np.array([0.0, 0.001, 0.002, 0.003, 0.004, 0.005])
    lat = np.zeros(6)
    labels = np.array(["a", "b", "b", "b", "b", "b"])
    out = colocation.local_clq(lon, lat, labels, focal=[0], k=5, permutations=19)
    assert out.clq.loc[0, "b"] == pytest.approx(1.0)
    assert out.p_value is not None and out.p_value.loc[0, "b"] == 1.0


@pytest.mark.parametrize("n", [12, 40, 5000])
def test_conditional_draws_are_distinct_others_and_uniform(n: int) -> None:
    from klastergeo.analysis.colocation import _draw_others

    rng = np.random.default_rng(0)
    rows = np.array([0, n // 2, n - 1])
    drawn = _draw_others(rng, rows, n, 8, 400)
    assert drawn.shape == (3, 400, 8)
    assert (np.sort(drawn, axis=-1)[..., 1:] != np.sort(drawn, axis=-1)[..., :-1]).all()
    assert not (drawn == rows[:, None, None]).any() and drawn.min() >= 0 and drawn.max() < n
    if n == 12:  # every other firm equally often: 400 x 8 / 11 each
        counts = np.bincount(drawn[0].ravel(), minlength=n)[1:]
        assert counts.min() > 0.8 * 400 * 8 / 11 and counts.max() < 1.2 * 400 * 8 / 11


def test_linkage_tables(tmp_path: Path) -> None:
    default = colocation.read_linkages()
    wood = default.loc[(default["from_sector"] == "16") & (default["to_sector"] == "31")]
    assert wood["role"].tolist() == ["supplier"]
    buyers = default.loc[(default["from_sector"] == "46") & (default["role"] == "buyer")]
    assert sorted(buyers["to_sector"]) == [str(v) for v in range(10, 34)]
    (tmp_path / "bad.csv").write_text("from_sector,to_sector,role\n16,31,friend\n")
    with pytest.raises(ConfigError, match="friend"):
        colocation.read_linkages(tmp_path / "bad.csv")
    (tmp_path / "cols.csv").write_text("from,to,role\n16,31,supplier\n")
    with pytest.raises(ConfigError, match="from_sector"):
        colocation.read_linkages(tmp_path / "cols.csv")
    (tmp_path / "range.csv").write_text("from_sector,to_sector,role\n16,33-31,supplier\n")
    with pytest.raises(ConfigError, match="33-31"):
        colocation.read_linkages(tmp_path / "range.csv")


def test_sentra_related_finds_a_planted_supplier_and_lists_the_missing_buyer() -> None:
    """A furniture sentra with wood workshops among its firms: 16 is co-located as its
    supplier; the table's wholesale buyers (46), present elsewhere, are missing."""
    rng = np.random.default_rng(3)
    background = 2000
    lon = list(110 + rng.random(background))
    lat = list(-7 + rng.random(background))
    labels = list(
        rng.choice(np.array(["10", "13", "46", "16"]), background, p=[0.5, 0.3, 0.15, 0.05])
    )
    sentra = [None] * background
    for sector, count in (("31", 120), ("16", 30)):
        lon += list(110.5 + rng.normal(0, 0.002, count))
        lat += list(-7.5 + rng.normal(0, 0.002, count))
        labels += [sector] * count
        sentra += ["31-01"] * count if sector == "31" else [None] * count
    links = colocation.sentra_related(
        lon, lat, labels, sentra, permutations=99, linkages=colocation.read_linkages()
    )
    related, missing = links.related, links.missing
    wood = related.set_index("related_sector").loc["16"]
    assert wood["role"] == "supplier" and wood["significant"] and wood["clq"] > 1
    assert wood["n_related_firms"] >= 20
    others = related.loc[related["significant"] & (related["related_sector"] != "16")]
    assert len(others) <= 1
    assert set(missing["related_sector"]) >= {"46"}
    assert missing.set_index("related_sector").loc["46", "reason"] == "not_colocated"
    assert missing.set_index("related_sector").loc["47", "reason"] == "not_in_registry"
    assert list(pd.unique(related["sentra_id"])) == ["31-01"]
    # the related firms: of that sector among the sentra firms' 8 nearest neighbours, by
    # the full distance matrix
    lon, lat, labels = np.array(lon), np.array(lat), np.array(labels)
    d = _chords(lon, lat)
    np.fill_diagonal(d, np.inf)
    focal = np.flatnonzero(np.array([x == "31-01" for x in sentra]) & (labels == "31"))
    near = np.unique(np.argsort(d[focal], axis=1)[:, :8])
    for sector in ("16", "10"):
        mine = links.firms.loc[links.firms["related_sector"] == sector, "firm"]
        assert sorted(mine) == sorted(near[labels[near] == sector])
        n_firms = related.set_index("related_sector").loc[sector, "n_related_firms"]
        assert len(mine) == n_firms
    assert set(links.firms["related_sector"]) <= set(related["related_sector"])


def test_the_command_line_can_leave_co_location_out(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from klastergeo.app.cli import app
    from tests.worlds.lattice import custom_study, lattice_args

    registry = custom_study(tmp_path, (5, 5), {"r2c2": 40}, background={"10": 5, "16": 1})
    registry.to_csv(tmp_path / "firms.csv", index=False)
    runner = CliRunner()
    options = ("--permutations", "0", "--set", "report.figures=none",
               "--set", "pointpattern.enabled=false")  # fmt: skip
    made = runner.invoke(app, lattice_args("sentra", tmp_path, tmp_path / "a", *options))
    assert made.exit_code == 0, made.output
    related = pd.read_csv(tmp_path / "a" / "related.csv", dtype=str)
    assert set(related["related_sector"]) <= {"10", "16"} and len(related)
    diagnosis = pd.read_csv(tmp_path / "a" / "diagnosis.csv")
    assert "links_score" in diagnosis.columns
    off = runner.invoke(
        app, lattice_args("sentra", tmp_path, tmp_path / "b", *options, "--no-colocation")
    )
    assert off.exit_code == 0, off.output
    assert not (tmp_path / "b" / "related.csv").exists()
    assert not (tmp_path / "b" / "colocation.csv").exists()


def test_one_firm_is_no_related_industry() -> None:
    """A lone firm of a rare sector in the middle of a sentra is co-located by the
    quotient (CLQ > 1, p < alpha) but one firm is no local supply base: it counts only
    when ``min_related_firms`` allows one."""
    rng = np.random.default_rng(8)
    background = 3000
    lon = np.concatenate([110 + rng.random(background), 110.5 + rng.normal(0, 0.002, 120), [110.5]])
    lat = np.concatenate([-7 + rng.random(background), -7.5 + rng.normal(0, 0.002, 120), [-7.5]])
    labels = np.concatenate(
        [rng.choice(np.array(["10", "13", "47"]), background), ["31"] * 120, ["99"]]
    )
    labels[:19] = "99"  # 20 firms of 99 in all: enough to be tested
    sentra = np.array([None] * background + ["31-01"] * 120 + [None], dtype=object)
    found, missing = {}, {}
    table = pd.DataFrame({"from_sector": ["99"], "to_sector": ["31"], "role": ["supplier"]})
    for least in (1, 3):
        links = colocation.sentra_related(
            lon, lat, labels, sentra, permutations=299, seed=2, min_related_firms=least,
            linkages=table,
        )  # fmt: skip
        found[least] = links.related.set_index("related_sector").loc["99"]
        missing[least] = links.missing
    assert found[1]["n_related_firms"] == 1
    assert found[1]["clq"] > 1 and found[1]["p_value"] < 0.05 and found[1]["significant"]
    assert found[3]["clq"] == found[1]["clq"] and not found[3]["significant"]
    # the expected supplier: found with one firm allowed, else too few near the sentra
    assert missing[1].empty
    assert missing[3][["related_sector", "reason"]].values.tolist() == [["99", "too_few_nearby"]]


def test_a_run_marks_the_related_firms_and_maps_them(tmp_path: Path) -> None:
    """Wood workshops (16) among a furniture sentra's firms: the run finds 16 related,
    marks exactly its firms among the sentra firms' neighbours with the sentra's id
    (``colocated_with``), and the map's firm block holds the same firms for the popup."""
    import json

    from typer.testing import CliRunner

    from klastergeo.app.cli import app
    from klastergeo.app.pipeline.firm_output import read_firms
    from klastergeo.publish import maps
    from tests.worlds.lattice import custom_study, lattice_args

    registry = custom_study(tmp_path, (5, 5), {"r2c2": 60}, background={"10": 5, "47": 1})
    sentra_firms = registry.loc[registry["kbli"] == "31001"]
    rng = np.random.default_rng(5)
    picks = sentra_firms.sample(15, random_state=1)
    wood = pd.DataFrame(
        {
            "id": [f"W{i}" for i in range(15)],
            "lat": (picks["lat"] + rng.normal(0, 1e-4, 15)).round(6).to_numpy(),
            "lon": (picks["lon"] + rng.normal(0, 1e-4, 15)).round(6).to_numpy(),
            "kbli": "16001",
            "workers": 2,
        }
    )
    far = registry.loc[registry["kbli"] == "10001"].head(10).assign(kbli="16001")
    far["id"] = [f"X{i}" for i in range(len(far))]
    pd.concat([registry, wood, far]).to_csv(tmp_path / "firms.csv", index=False)
    options = ("--permutations", "0", "--set", "report.figures=none",
               "--set", "pointpattern.enabled=false", "--set", "model.kinds=[\"lpm\"]")  # fmt: skip
    made = CliRunner().invoke(app, lattice_args("run", tmp_path, tmp_path / "out", *options))
    assert made.exit_code == 0, made.output
    related = pd.read_csv(tmp_path / "out" / "related.csv", dtype={"related_sector": str})
    row = related.set_index("related_sector").loc["16"]
    assert row["significant"] and row["role"] == "supplier"
    firms = read_firms(tmp_path / "out")
    marked = firms.loc[firms["colocated_with"].notna()]
    assert set(marked["colocated_with"]) == {row["sentra_id"]}
    assert (
        len(marked)
        == row["n_related_firms"]
        == related.loc[related["significant"], "n_related_firms"].sum()
    )
    assert set(marked.index) <= set(wood["id"]) | set(far["id"])
    page = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    start = page.index(f'id="{maps.FIRMS_ID}">') + len(f'id="{maps.FIRMS_ID}">')
    links = json.loads(page[start : page.index("</script>", start)])["links"]
    assert [r[:2] for r in links["runs"]] == [[row["sentra_id"], "16"]]
    assert links["n"] == len(marked)
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert f"<h3>{row['sentra_id']}" in report


def test_categories_and_chunks_give_the_same_quotients(monkeypatch) -> None:
    """A national run passes its sectors and sentra ids as categories (unused ones
    included) and looks up nearest neighbours in chunks: the results are those of text
    labels in one piece."""
    lon, lat, labels = _world(400, 6, duplicates=5)
    sentra = np.where((labels == "31") & (lon < 110.02), "31-01", None).astype(object)
    sentra[(labels == "10") & (lon > 110.04)] = "10-01"
    sentra[-3:] = ""  # no sentra
    plain_global = colocation.global_clq(lon, lat, labels, permutations=19, seed=3)
    plain = colocation.sentra_related(lon, lat, labels, sentra, permutations=19, seed=3)
    as_categories = pd.Series(pd.Categorical(labels, categories=["99", "31", "25", "13", "10"]))
    ids = pd.Series(pd.Categorical(sentra, categories=["zz-09", "", "31-01", "10-01"]))
    monkeypatch.setattr(colocation, "_NEAREST_CHUNK", 37)
    chunked_global = colocation.global_clq(lon, lat, as_categories, permutations=19, seed=3)
    fast = colocation.sentra_related(lon, lat, as_categories, ids, permutations=19, seed=3)
    pd.testing.assert_frame_equal(chunked_global, plain_global)
    pd.testing.assert_frame_equal(fast.related, plain.related)
    pd.testing.assert_frame_equal(fast.missing, plain.missing)
    pd.testing.assert_frame_equal(fast.firms, plain.firms)
    assert set(plain.related["sentra_id"]) == {"10-01", "31-01"}


@pytest.mark.slow
@pytest.mark.parametrize("duplicates", [0, 6])
def test_the_exact_moments_are_those_of_random_labelling(duplicates: int) -> None:
    """The closed-form mean and variance of every pair count equal those of 40,000
    random relabellings (within Monte Carlo error), ties and mutual neighbours
    included; and a national-size run's z p-values agree with the relabellings'."""
    rng = np.random.default_rng(1)
    lon, lat, labels = _world(120, 11, duplicates=duplicates)
    codes, sectors = colocation._labels(labels)
    s = len(sectors)
    places = colocation._places(lon, lat)
    src, dst, w = colocation._ties(places)
    graph = colocation._pairs(places, src, dst, w)
    counts = np.bincount(codes, minlength=s).astype(float)
    a, b = np.repeat(np.arange(s), s), np.tile(np.arange(s), s)
    sums = colocation._graph_sums(places, src, dst, w)
    mean, variance = colocation._null_moments(sums, counts[a], counts[b], a == b)
    wanted = a * (s + 1) + b

    def pair_counts(relabelled: np.ndarray) -> np.ndarray:
        keys, weights = colocation._sector_pairs(relabelled, graph, s + 1)
        return colocation._count_at(keys, weights, wanted, s + 1)

    sims = np.array([pair_counts(rng.permutation(codes)) for _ in range(40_000)])
    se_mean = np.sqrt(variance / len(sims))
    assert np.all(np.abs(sims.mean(axis=0) - mean) <= 4 * se_mean + 1e-9)
    np.testing.assert_allclose(sims.var(axis=0), variance, rtol=0.05)
    # above max_permuted the p-values come from z; both tests agree on a planted pair
    lon, lat, labels = _world(3000, 12)
    labels[(lon < 110.01) & (labels != "31")] = "25"  # a patch of 25: co-located with itself
    permuted = colocation.global_clq(lon, lat, labels, permutations=199, seed=1)
    normal = colocation.global_clq(lon, lat, labels, permutations=199, max_permuted=100)
    assert permuted.loc[("25", "25"), "p_value"] == pytest.approx(1 / 200)
    assert normal.loc[("25", "25"), "p_value"] < 1e-6 and normal.loc[("25", "25"), "z"] > 5
    calm = permuted["p_value"].between(0.1, 0.9)  # the unplanted pairs
    np.testing.assert_allclose(normal.loc[calm, "p_value"], permuted.loc[calm, "p_value"], atol=0.1)


def _tied(seed: int, layout: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Small registries whose firms share places: a market building (30 firms at one
    point), firms geocoded to five village centres, a market and centres together, and
    every firm at one point."""
    lon, lat, labels = _world(120, seed)
    rng = np.random.default_rng(seed)
    if layout in ("market", "both"):
        lon[:30], lat[:30] = lon[30], lat[30]
    if layout in ("centres", "both"):
        pick = rng.integers(60, 65, 40)
        lon[-40:], lat[-40:] = lon[pick], lat[pick]
    if layout == "one point":
        lon[:], lat[:] = lon[0], lat[0]
    return lon, lat, labels


def _brute_pairs(lon: np.ndarray, lat: np.ndarray, codes: np.ndarray, s: int) -> np.ndarray:
    """Leslie and Kronenfeld's pair counts from the full distance matrix: each firm's
    nearest neighbours (ties within the module's tolerance), 1 / ties each."""
    d = _chords(lon, lat)
    np.fill_diagonal(d, np.inf)
    counts = np.zeros((s, s))
    for i in range(len(codes)):
        tied = np.flatnonzero(d[i] <= d[i].min() * (1 + 1e-12) + 1e-9)
        np.add.at(counts, (codes[i], codes[tied]), 1 / len(tied))
    return counts


@pytest.mark.parametrize("layout", ["market", "centres", "both", "one point"])
def test_firms_sharing_places_are_the_brute_force(layout: str) -> None:
    """Ties counted per place (products of the sectors present at each end) give the
    quotients, the exact moments and, relabelling for relabelling, the p-values of the
    firm-by-firm brute force (same seed, same shuffles)."""
    lon, lat, labels = _tied(4, layout)
    # the relabellings are drawn over the firms in global_clq's stated order
    order = np.lexsort((colocation._labels(labels)[0], lat, lon))
    lon, lat, labels = lon[order], lat[order], labels[order]
    codes, sectors = colocation._labels(labels)
    n, s = len(codes), len(sectors)
    counts = np.bincount(codes, minlength=s).astype(float)
    expected = (counts[None, :] - np.eye(s)) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(expected > 0, 1 / (counts[:, None] * expected), np.nan)
    observed = _brute_pairs(lon, lat, codes, s) * scale
    permutations, above = 49, np.zeros((s, s))
    rng = np.random.default_rng(7)
    shuffled = codes.copy()
    for _ in range(permutations):
        rng.shuffle(shuffled)
        above += _brute_pairs(lon, lat, shuffled, s) * scale >= observed - 1e-12
    out = colocation.global_clq(lon, lat, labels, permutations=permutations, seed=7)
    np.testing.assert_allclose(out["clq"].to_numpy(), observed.ravel(), rtol=1e-9)
    want = np.where(np.isnan(observed), np.nan, (above + 1) / (permutations + 1)).ravel()
    np.testing.assert_array_equal(out["p_value"].to_numpy(), want)
    if layout != "one point":  # the moments: those of the firm-by-firm graph
        places = colocation._places(lon, lat)
        alone = colocation._Places(
            places.xyz if places.of is None else colocation._points(lon, lat)
        )
        a, b = np.repeat(np.arange(s), s), np.tile(np.arange(s), s)
        mine = colocation._null_moments(
            colocation._graph_sums(places, *colocation._ties(places)), counts[a], counts[b], a == b
        )
        firm_by_firm = colocation._graph_sums(alone, *colocation._ties(alone))
        assert firm_by_firm.w_total == pytest.approx(n)
        theirs = colocation._null_moments(firm_by_firm, counts[a], counts[b], a == b)
        np.testing.assert_allclose(mine, theirs, rtol=1e-9)


def test_places_group_exactly_the_same_coordinates() -> None:
    lon = np.array([1.0, 2.0, 1.0, -0.0, 0.0, 1.0 + 1e-12, 2.0])
    lat = np.array([5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 6.0])
    places = colocation._places(lon, lat)
    assert places.of is not None and places.size is not None and places.order is not None
    # places in the order of their first firm; -0.0 is 0.0; 1e-12 apart is another place
    assert places.of.tolist() == [0, 1, 0, 2, 2, 3, 4]
    assert places.size.tolist() == [2, 1, 2, 1, 1]
    assert places.order.tolist() == [0, 2, 1, 3, 4, 5, 6]
    assert colocation._places([1.0, 2.0, 3.0], [0.0, 0.0, 0.0]).of is None


def test_tied_firms_cost_their_places() -> None:
    """60,000 firms at one point among 300: the tie structure and the neighbour lists
    have the size of the places and the firms, not of the firm pairs (3.6 billion)."""
    rng = np.random.default_rng(0)
    lon = np.concatenate([np.full(60_000, 110.4), 110 + rng.random(300) * 0.5])
    lat = np.concatenate([np.full(60_000, -7.0), -7.2 + rng.random(300) * 0.5])
    labels = rng.choice(np.array(["10", "13", "31"]), len(lon))
    places = colocation._places(lon, lat)
    src, dst, w = colocation._ties(places)
    assert len(places.xyz) == 301 and len(src) < 4 * 301
    pairs = colocation._pairs(places, src, dst, w)
    keys, _ = colocation._sector_pairs(colocation._labels(labels)[0], pairs, 4)
    assert len(keys) < 4 * 301 + 9 * len(src)  # at most 3 x 3 sector pairs a place pair
    out = colocation.global_clq(lon, lat, labels, permutations=9)
    # at the market a firm's neighbours are the others there: a CLQ of about 1 each
    np.testing.assert_allclose(out["clq"], 1.0, atol=0.05)
    # a firm at the market has the 59,999 others there as neighbours, 8 / 59,999 each:
    # one entry (its place), not 59,999
    around = colocation._around(places, 8, np.array([0, 59_999, 60_000]))
    assert around.row.tolist()[:2] == [0, 1] and around.firms.tolist()[:2] == [59_999] * 2
    np.testing.assert_allclose(around.weight[:2], 1 / 59_999)


def test_min_firms_and_the_observed_pairs() -> None:
    """Sectors below min_firms are neither row nor column (their firms still
    neighbours); ``pairs="observed"`` is ``"all"`` less the pairs that are never nearest
    neighbours (CLQ 0, p 1), plus those asked for; the sparse count (many sectors)
    equals the dense one."""
    lon, lat, labels = _tied(6, "both")
    labels = labels.astype(object)
    labels[:3] = "99"  # three firms of 99: below min_firms 5
    labels[[66, 68, 70, 72, 74, 76]] = "47"  # six scattered: rarely each other's nearest
    every = colocation.global_clq(lon, lat, labels, permutations=19, seed=2, min_firms=5)
    assert "99" not in every.index.get_level_values(0)
    assert "99" not in every.index.get_level_values(1)
    plain = colocation.global_clq(lon, lat, labels, permutations=19, seed=2)
    common = plain.loc[every.index]
    np.testing.assert_allclose(every["clq"], common["clq"], rtol=1e-12)
    np.testing.assert_array_equal(every["p_value"], common["p_value"])
    never = every.loc[every["clq"] == 0]
    assert len(never) and (never["p_value"] == 1).all()
    asked = never.index[0]
    met = colocation.global_clq(
        lon, lat, labels, permutations=19, seed=2, min_firms=5, pairs="observed",
        also=[asked, ("99", "10"), ("nope", "10")],
    )  # fmt: skip
    assert set(met.index) == (set(every.index) - set(never.index)) | {asked}
    pd.testing.assert_frame_equal(met, every.loc[met.index])


def test_the_sparse_count_of_many_sectors_is_the_dense_one(monkeypatch) -> None:
    lon, lat, labels = _tied(7, "both")
    dense = colocation.global_clq(lon, lat, labels, permutations=19, seed=1, pairs="observed")
    monkeypatch.setattr(colocation, "_DENSE_PAIRS", 4)
    sparse = colocation.global_clq(lon, lat, labels, permutations=19, seed=1, pairs="observed")
    pd.testing.assert_frame_equal(sparse, dense)


@pytest.mark.slow
def test_linked_pairs_and_roles_are_the_prefix_rule() -> None:
    """A pair or a role comes from the first table row whose to_sector starts the
    sector and from_sector the related one (codes compared at the table's length), as a
    loop over every row and pair finds it."""
    table = colocation.read_linkages()
    table = pd.concat(
        [table, pd.DataFrame({"from_sector": ["161"], "to_sector": ["3100"],
                              "role": ["related"], "note": [""]})],
    )  # fmt: skip
    rng = np.random.default_rng(0)
    codes = sorted({str(c) for c in rng.choice(np.arange(100, 50_000), 60)} | {"16101", "31001"})
    codes = [c.zfill(5) for c in codes] + ["46", "16", "31"]

    def first(sector: str, related: str) -> str | None:
        for row in table.itertuples(index=False):
            if sector.startswith(row.to_sector) and related.startswith(row.from_sector):
                return str(row.role)
        return None

    want = [(a, b) for a in codes for b in codes if first(a, b) is not None]
    got = colocation.linked_pairs(table, codes)
    assert sorted(map(tuple, got.values.tolist())) == sorted(want)
    sector = pd.Series([a for a, _ in want[:500]] + ["10", "99999"])
    related = pd.Series([b for _, b in want[:500]] + ["99", "16"])
    roles = colocation._roles(table.reset_index(drop=True), sector, related)
    assert roles.tolist() == [first(a, b) for a, b in zip(sector, related, strict=True)]


# ---------------------------------------------------------------------------------------
# The null of sentra_related (issue 27): for a sentra of sector A, every firm of A keeps
# its sector and every other firm (other sentra included) gets a sector drawn at random
# without replacement from the firms not of A. References: exact enumeration, a plain
# loop of rng.permutation per sentra and permutation, and random labelling.
# ---------------------------------------------------------------------------------------


def _sentra_quotients(
    lon: np.ndarray, lat: np.ndarray, focal: np.ndarray, k: int, relabelled: np.ndarray
) -> np.ndarray:
    """Mean local CLQ of the ``focal`` firms towards every sector code, for each row of
    ``relabelled`` (labellings x firms), from the full distance matrix: the others
    nearer than the k-th distance D count fully, the t others at D (within TIE_M) share
    the k - m slots left, Gaussian weights exp(-0.5 d^2 / D^2) (1 when D is 0)."""
    d = _chords(lon, lat)
    n = len(lon)
    w = np.zeros((len(focal), n))
    for row, i in enumerate(focal):
        others = np.flatnonzero(np.arange(n) != i)
        band = np.sort(d[i, others])[k - 1]
        inner = others[d[i, others] < band - colocation.TIE_M]
        tied = others[np.abs(d[i, others] - band) <= colocation.TIE_M]
        kernel = np.exp(-0.5 * (np.minimum(d[i], band) / band) ** 2) if band > 0 else np.ones(n)
        w[row, inner] = kernel[inner]
        w[row, tied] = kernel[tied] * (k - len(inner)) / len(tied)
        w[row] /= w[row].sum()
    s = int(relabelled.max()) + 1
    own = relabelled[0, focal[0]]
    counts = np.bincount(relabelled[0], minlength=s)
    expected = (counts - (np.arange(s) == own)) / (n - 1)
    onehot = (relabelled[..., None] == np.arange(s)).astype(float)  # labellings x n x s
    share = np.einsum("fn,lns->lfs", w, onehot)
    return share.mean(axis=1) / expected


def _brute_sentra(
    lon: np.ndarray, lat: np.ndarray, codes: np.ndarray, members: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A sentra's sector (most of its ``members``), its focal firms and the positions of
    the firms not of its sector."""
    own = np.bincount(codes[members]).argmax()
    return own, members[codes[members] == own], np.flatnonzero(codes != own)


def _tiny_chain(tied: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Eleven firms: sentra g (three firms of 31 and one of 10), sentra h (three of 16)
    right beside it, and others (10, 46) around. ``tied``: firms geocoded to village
    centres (g's firms at one point, h's at another, two others at a third)."""
    rng = np.random.default_rng(5)
    lon = 110 + np.concatenate([rng.normal(0, 0.001, 4), 0.002 + rng.normal(0, 0.001, 3),
                                rng.uniform(-0.006, 0.008, 4)])  # fmt: skip
    lat = -7 + np.concatenate([rng.normal(0, 0.001, 7), rng.uniform(-0.006, 0.006, 4)])
    if tied:
        for members in ([0, 1, 2, 3], [4, 5, 6], [7, 8]):
            lon[members], lat[members] = lon[members[0]], lat[members[0]]
    labels = np.array(["31", "31", "31", "10", "16", "16", "16", "10", "10", "46", "46"])
    sentra = np.array(["g"] * 4 + ["h"] * 3 + [None] * 4, dtype=object)
    return lon, lat, labels, sentra


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("k", [3, 7])
def test_the_sentra_null_is_the_exact_enumeration(k: int, tied: bool) -> None:
    """On eleven firms every relabelling of the firms not of the sentra's sector can be
    listed (8! each): the p-values of ``sentra_related`` are the exact ones within Monte
    Carlo error, for both sentra, the other sentra's firms relabelled too. With k = 3
    a sentra's relabelled neighbours are a few of its pool (distinct draws by
    rejection); with k = 7 most of it (the pool in a random order). ``tied``: firms at
    village centres, whose tied firms share the k-th slots (a tied firm shared by
    several focal firms draws one label)."""
    from itertools import permutations as arrangements

    lon, lat, labels, sentra = _tiny_chain(tied)
    codes, sectors = colocation._labels(labels)
    draws = 3999
    links = colocation.sentra_related(
        lon, lat, labels, sentra, k=k, permutations=draws, seed=1, min_firms=1,
        min_related_firms=0,
    )  # fmt: skip
    got = links.related.set_index(["sentra_id", "related_sector"])
    checked = 0
    for name in ("g", "h"):
        own, focal, free = _brute_sentra(lon, lat, codes, np.flatnonzero(sentra == name), k)
        orders = np.array(list(arrangements(range(len(free)))))
        relabelled = np.tile(codes, (len(orders), 1))
        relabelled[:, free] = codes[free][orders]
        sims = _sentra_quotients(lon, lat, focal, k, relabelled)
        observed = sims[0]  # the identity arrangement comes first
        exact = (sims >= observed - 1e-12).mean(axis=0)
        for b in np.flatnonzero(np.arange(len(sectors)) != own):
            row = got.loc[(name, sectors[b])]
            assert row["clq"] == pytest.approx(observed[b], rel=1e-9)
            p = exact[b]
            mean = (draws * p + 1) / (draws + 1)
            assert abs(row["p_value"] - mean) <= 4 * np.sqrt(p * (1 - p) / draws) + 1e-9, (
                name, sectors[b], row["p_value"], p,
            )  # fmt: skip
            checked += 1
    assert checked == 6
    # the test can fail: holding the other sentra's firms too (the null before issue 27)
    # gives other exact p-values for g
    own, focal, _ = _brute_sentra(lon, lat, codes, np.flatnonzero(sentra == "g"), k)
    held = np.flatnonzero(pd.isna(sentra) | (sentra == "g") & (codes != own))
    orders = np.array(list(arrangements(range(len(held)))))
    relabelled = np.tile(codes, (len(orders), 1))
    relabelled[:, held] = codes[held][orders]
    sims = _sentra_quotients(lon, lat, focal, k, relabelled)
    before = (sims >= sims[0] - 1e-12).mean(axis=0)
    now = got.loc["g"].reindex(sectors)["p_value"].to_numpy()
    assert np.nanmax(np.abs(before - now)) > 0.2, (before, now)


def test_the_sentra_null_is_a_plain_permutation_per_sentra() -> None:
    """Four sentra among 330 firms (two of 31, one of 16 beside the first, one of 10):
    the p-values equal those of a plain loop over permutations and sentra that shuffles
    the sectors of the firms not of the sentra's sector (rng.permutation), within Monte
    Carlo error of both; the planted link 31 -> 16 is found by both."""
    rng = np.random.default_rng(11)
    lon = list(110 + rng.random(250) * 0.05)
    lat = list(-7 + rng.random(250) * 0.05)
    labels = list(rng.choice(np.array(["10", "13", "46", "16"]), 250, p=[0.4, 0.3, 0.2, 0.1]))
    sentra: list[str | None] = [None] * 250
    for name, sector, x, y, count in (("a", "31", 110.01, -6.99, 25), ("b", "16", 110.012, -6.99, 15),
                                      ("c", "31", 110.04, -6.96, 20), ("d", "10", 110.04, -6.99, 20)):  # fmt: skip
        lon += list(x + rng.normal(0, 0.002, count))
        lat += list(y + rng.normal(0, 0.002, count))
        labels += [sector] * count
        sentra += [name] * count
    lon, lat, labels = np.array(lon), np.array(lat), np.array(labels)
    members = np.array(sentra, dtype=object)
    codes, sectors = colocation._labels(labels)
    k, draws, loops = 8, 1999, 2000
    links = colocation.sentra_related(
        lon, lat, labels, members, k=k, permutations=draws, seed=2, min_related_firms=0
    )
    got = links.related.set_index(["sentra_id", "related_sector"])["p_value"]
    plain = np.random.default_rng(3)
    checked = 0
    for name in ("a", "b", "c", "d"):
        own, focal, free = _brute_sentra(lon, lat, codes, np.flatnonzero(members == name), k)
        relabelled = np.tile(codes, (loops + 1, 1))
        for i in range(1, loops + 1):  # the plain null: one shuffle per permutation
            relabelled[i, free] = plain.permutation(codes[free])
        sims = _sentra_quotients(lon, lat, focal, k, relabelled)
        p_plain = ((sims[1:] >= sims[0] - 1e-12).sum(axis=0) + 1) / (loops + 1)
        for b in np.flatnonzero(np.arange(len(sectors)) != own):
            p, q = got.loc[(name, sectors[b])], p_plain[b]
            bar = (p + q) / 2
            assert abs(p - q) <= 4.5 * np.sqrt(bar * (1 - bar) * (1 / draws + 1 / loops)) + 1e-3, (
                name, sectors[b], p, q,
            )  # fmt: skip
            checked += 1
    assert checked == 16
    assert got.loc[("a", "16")] < 0.01 and got.loc[("c", "16")] > 0.05


def test_sentra_p_values_are_uniform_under_random_labelling() -> None:
    """Sectors drawn at random for every firm (shares 40/30/20/10 %), nine sentra drawn
    over discs (every firm of a disc a member). No pair is planted: of 20 registries'
    540 p-values, about 5 % fall below 0.05 (within 3.5 binomial standard deviations)
    and their mean is about 1/2. The null before issue 27 (every sentra's focal firms
    held, the rest of the sentra's sector relabelled into the places of its other
    firms) finds 29 % below 0.05 on these registries, and holding only the sentra's own
    focal firms 35 %. Members of other sectors change nothing: only the firms of the
    disc's commonest sector as members (as the pipeline delineates) give the same
    p-values."""
    values = []
    for rep in range(20):
        rng = np.random.default_rng(rep)
        n = 1500
        lon, lat = 110 + rng.random(n) * 0.2, -7 + rng.random(n) * 0.2
        labels = rng.choice(np.array(["10", "13", "25", "31"]), n, p=[0.4, 0.3, 0.2, 0.1])
        cx = np.repeat(110.02 + 0.08 * np.arange(3), 3)
        cy = np.tile(-6.98 + 0.08 * np.arange(3), 3)
        d = np.hypot(lon[:, None] - cx, lat[:, None] - cy)
        disc = np.where(d.min(axis=1) < 0.02, d.argmin(axis=1), -1)
        sentra = np.where(disc >= 0, np.char.add("S", disc.astype(str)), None).astype(object)
        links = colocation.sentra_related(
            lon, lat, labels, sentra, permutations=199, seed=rep, min_related_firms=0
        )
        values.append(links.related["p_value"].to_numpy())
        if rep < 2:
            commonest = pd.Series(labels).groupby(disc).agg(lambda v: v.value_counts().index[0])
            sentra[labels != commonest.reindex(disc).to_numpy()] = None
            alone = colocation.sentra_related(
                lon, lat, labels, sentra, permutations=199, seed=rep, min_related_firms=0
            )
            pd.testing.assert_frame_equal(alone.related, links.related)
    p = np.concatenate(values)
    assert len(p) == 540
    sd = np.sqrt(0.05 * 0.95 / len(p))
    assert abs((p < 0.05).mean() - 0.05) <= 3.5 * sd, (p < 0.05).mean()
    assert abs(p.mean() - 0.5) <= 3.5 * np.sqrt(1 / 12 / len(p)) + 1 / 200


def _villages(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """400 firms, most geocoded to twelve village centres on a lattice (equidistant
    centres: ties at the k-th distance between places too), the rest scattered nearby;
    sentra A and B are the firms at centres 0 and 5 (mostly of 31), C at centre 7 (mostly
    of 16)."""
    rng = np.random.default_rng(seed)
    grid = np.array([(i, j) for i in range(4) for j in range(3)])
    n = 400
    at = rng.integers(0, len(grid), n)
    lon, lat = 110.2 + 0.002 * grid[at, 0], -7.3 + 0.002 * grid[at, 1]
    loose = rng.random(n) < 0.15
    lon[loose] += rng.normal(0, 0.001, loose.sum())
    lat[loose] += rng.normal(0, 0.001, loose.sum())
    labels = rng.choice(np.array(["10", "13", "16", "25", "31"]), n, p=[0.3, 0.2, 0.2, 0.2, 0.1])
    labels[np.isin(at, [0, 5]) & (rng.random(n) < 0.6)] = "31"
    labels[(at == 7) & (rng.random(n) < 0.6)] = "16"
    sentra = np.full(n, None, dtype=object)
    for name, centre in (("A", 0), ("B", 5), ("C", 7)):
        sentra[(at == centre) & ~loose] = name
    return lon, lat, labels, sentra


@pytest.mark.parametrize("seed", range(3))
def test_sentra_related_does_not_depend_on_the_order_of_the_rows(seed: int) -> None:
    """Firms geocoded to village centres: shuffled rows give the same related table
    (quotients, p-values, related firms, significance) and the same related firms. The
    sentra's quotient is the mean local CLQ of its focal firms (the tie rule of
    local_clq: before, the k neighbours among tied firms were the first in input order,
    so the same sentra got other quotients when the rows came in another order)."""
    lon, lat, labels, sentra = _villages(seed)
    kw = {"k": 8, "permutations": 99, "seed": 4, "min_related_firms": 0}
    out = colocation.sentra_related(lon, lat, labels, sentra, **kw)
    keys = ["sentra_id", "related_sector"]
    want = out.related.sort_values(keys).reset_index(drop=True)
    assert len(want) == 12 and want["p_value"].between(0, 1).all()
    # the mean of the local quotients of the sentra's focal firms, tie rule included
    for name, sector in (("A", "31"), ("B", "31"), ("C", "16")):
        focal = np.flatnonzero((sentra == name) & (labels == sector))
        local = colocation.local_clq(lon, lat, labels, focal=focal, k=8, permutations=0)
        mine = want.loc[want["sentra_id"] == name].set_index("related_sector")["clq"]
        np.testing.assert_allclose(mine, local.clq.mean().reindex(mine.index), rtol=1e-9)
        # the layout exercises the rule: tied firms beyond the slots left at the k-th distance
        tied = local.neighbours.loc[local.neighbours["tied"]].groupby("focal")["firms"].sum()
        inner = local.neighbours.loc[~local.neighbours["tied"]].groupby("focal")["firms"].sum()
        assert (tied > 8 - inner.reindex(tied.index, fill_value=0)).any()
    firms = out.firms.sort_values([*keys, "firm"]).reset_index(drop=True)
    for shuffle in range(3):
        order = np.random.default_rng([seed, shuffle]).permutation(len(labels))
        again = colocation.sentra_related(
            lon[order], lat[order], labels[order], sentra[order], **kw
        )
        got = again.related.sort_values(keys).reset_index(drop=True)
        np.testing.assert_allclose(got["clq"], want["clq"], rtol=1e-12)
        pd.testing.assert_frame_equal(got.drop(columns="clq"), want.drop(columns="clq"))
        back = again.firms.assign(firm=order[again.firms["firm"].to_numpy()])
        back = back.sort_values([*keys, "firm"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(back, firms)
        pd.testing.assert_frame_equal(
            again.missing.sort_values(keys).reset_index(drop=True),
            out.missing.sort_values(keys).reset_index(drop=True),
        )


@pytest.mark.parametrize("seed", range(2))
def test_global_clq_does_not_depend_on_the_order_of_the_rows(seed: int) -> None:
    """The same firms in another row order, with the same seed, give the same global
    table: quotients and permutation p-values (before, the relabellings were drawn over
    the rows as given, so reversing a Wajo registry changed which pairs were significant
    in colocation.csv)."""
    lon, lat, labels, _ = _villages(seed)
    kw = {"permutations": 49, "seed": 3}
    want = colocation.global_clq(lon, lat, labels, **kw)
    assert want["p_value"].between(0, 1).all()
    for shuffle in range(2):
        order = np.random.default_rng([seed, shuffle]).permutation(len(labels))
        got = colocation.global_clq(lon[order], lat[order], labels[order], **kw)
        np.testing.assert_allclose(got["clq"], want["clq"], rtol=1e-12)
        pd.testing.assert_frame_equal(
            got.drop(columns=["clq", "z"]), want.drop(columns=["clq", "z"])
        )


# --- ties (issue 27): a micrometre's tolerance, local quotients independent of row order


def test_equidistant_nearest_neighbours_tie_at_javas_longitudes() -> None:
    """Firm b sits halfway between a and c: its two nearest neighbours tie although the
    stored longitudes make the distances differ by a few nanometres."""
    out = colocation.global_clq(
        [110.122, 110.123, 110.124], [-7.456] * 3, ["a", "b", "c"], permutations=0
    )
    assert out.loc[("b", "a"), "clq"] == pytest.approx(1.0)
    assert out.loc[("b", "c"), "clq"] == pytest.approx(1.0)
    lclq = colocation.local_clq(
        [110.122, 110.123, 110.124], [-7.456] * 3, ["a", "b", "c"], k=1, permutations=0
    )
    assert lclq.clq.loc[1, "a"] == pytest.approx(1.0) and lclq.clq.loc[1, "c"] == pytest.approx(1.0)


def _brute_local(lon: np.ndarray, lat: np.ndarray, labels: np.ndarray, k: int) -> pd.DataFrame:
    """The local CLQ firm by firm in plain Python: the others nearer than the k-th
    distance D count fully, the t others at D (within TIE_M) share the k - m slots left,
    each weighing exp(-0.5 d^2 / D^2) (1 when D is 0)."""
    d = _chords(lon, lat)
    n = len(labels)
    sectors = sorted(set(labels.tolist()))
    rows = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        kk = min(k, n - 1)
        band = sorted(d[i, j] for j in others)[kk - 1]
        inner = [j for j in others if d[i, j] < band - colocation.TIE_M]
        tied = [j for j in others if abs(d[i, j] - band) <= colocation.TIE_M]
        member = dict.fromkeys(inner, 1.0) | {j: (kk - len(inner)) / len(tied) for j in tied}
        weight = {
            j: f * (math.exp(-0.5 * (min(d[i, j], band) / band) ** 2) if band > 0 else 1.0)
            for j, f in member.items()
        }
        total = sum(weight.values())
        row = {}
        for b in sectors:
            share = sum(w for j, w in weight.items() if labels[j] == b) / total
            others_b = sum(1 for j in others if labels[j] == b)
            row[b] = share / (others_b / (n - 1)) if others_b else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=sectors)


def _crowded(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A small layout where most firms share a few places (village centres) and some
    places lie on a lattice (equidistant neighbours)."""
    rng = np.random.default_rng(seed)
    centres = np.column_stack(
        [110.1 + 0.001 * rng.integers(0, 4, 6), -7.4 + 0.001 * rng.integers(0, 4, 6)]
    )
    at = rng.integers(0, len(centres), n)
    lon, lat = centres[at, 0].copy(), centres[at, 1].copy()
    loose = rng.random(n) < 0.2
    lon[loose] = 110.1 + rng.random(loose.sum()) * 0.004
    lat[loose] = -7.4 + rng.random(loose.sum()) * 0.004
    labels = rng.choice(np.array(["10", "13", "25"]), n, p=[0.5, 0.3, 0.2])
    return lon, lat, labels


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 3, 8])
def test_local_clq_with_ties_is_the_brute_force(seed: int, k: int) -> None:
    lon, lat, labels = _crowded(seed, 12 + 7 * seed)
    out = colocation.local_clq(lon, lat, labels, k=k, permutations=0)
    want = _brute_local(lon, lat, labels, k)
    np.testing.assert_allclose(
        out.clq.to_numpy(), want[list(out.clq.columns)].to_numpy(), rtol=1e-9
    )
    sums = (
        out.neighbours.assign(mass=lambda f: f["firms"] * f["weight"])
        .groupby("focal")["mass"]
        .sum()
    )
    np.testing.assert_allclose(sums.to_numpy(), 1.0)


@pytest.mark.parametrize("seed", range(5))
def test_local_clq_does_not_depend_on_the_order_of_the_rows(seed: int) -> None:
    """Shuffled rows give every firm the same quotients (before, a firm among many at a
    village centre got 0.667 or 1.333 depending on which of them came first)."""
    lon, lat, labels = _crowded(100 + seed, 60)
    out = colocation.local_clq(lon, lat, labels, k=8, permutations=0)
    order = np.random.default_rng(seed).permutation(len(labels))
    again = colocation.local_clq(lon[order], lat[order], labels[order], k=8, permutations=0)
    back = again.clq.set_axis(order).sort_index()
    np.testing.assert_allclose(back.to_numpy(), out.clq.to_numpy(), rtol=1e-12)
    glob = colocation.global_clq(lon[order], lat[order], labels[order], permutations=0)
    np.testing.assert_allclose(
        glob["clq"], colocation.global_clq(lon, lat, labels, permutations=0)["clq"], rtol=1e-12
    )


def _brute_p(lon: np.ndarray, lat: np.ndarray, labels: np.ndarray, i: int, k: int, b: str) -> float:
    """The exact conditional p-value of firm i's local share of b when the other firms'
    labels are shuffled: its neighbours' labels are a draw without replacement from the
    others', so the share's law follows by enumerating how many b firms each weight
    group (the nearer places, the tied group) receives (a multivariate hypergeometric)."""
    from itertools import product

    from scipy.stats import hypergeom

    d = _chords(lon, lat)[i]
    n = len(labels)
    others = [j for j in range(n) if j != i]
    band = sorted(d[j] for j in others)[k - 1]
    groups: dict[float, int] = {}
    inner = [j for j in others if d[j] < band - colocation.TIE_M]
    tied = [j for j in others if abs(d[j] - band) <= colocation.TIE_M]
    for j in inner:
        w = math.exp(-0.5 * (d[j] / band) ** 2) if band > 0 else 1.0
        groups[w] = groups.get(w, 0) + 1
    w_tied = (k - len(inner)) / len(tied) * (math.exp(-0.5) if band > 0 else 1.0)
    sizes = [*groups.values(), len(tied)]
    weights = [*groups.keys(), w_tied]
    total = sum(w * s for w, s in zip(weights, sizes, strict=True))
    near = [math.exp(-0.5 * (d[j] / band) ** 2) if band > 0 else 1.0 for j in inner]
    share = sum(w for j, w in zip(inner, near, strict=True) if labels[j] == b)
    share = (share + w_tied * sum(labels[j] == b for j in tied)) / total
    good, pool = sum(labels[j] == b for j in others), n - 1
    p = 0.0
    for got in product(*(range(s + 1) for s in sizes)):
        prob, g, left = 1.0, good, pool
        for s, x in zip(sizes, got, strict=True):
            prob *= hypergeom(left, g, s).pmf(x)
            g, left = g - x, left - s
        if sum(w * x for w, x in zip(weights, got, strict=True)) / total >= share - 1e-12:
            p += prob
    return p


@pytest.mark.parametrize("slots", [1_000, 0])
def test_local_p_values_are_the_exact_conditional_law_with_ties(
    slots: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Firm 0 has two nearer neighbours and 40 others tied at its k-th distance (a
    village centre): the permutation p-value is the exact one, whether the tied firms'
    labels are drawn firm by firm or as counts."""
    monkeypatch.setattr(colocation, "_SLOTS", slots)
    rng = np.random.default_rng(3)
    lon = np.concatenate(
        [[110.0, 110.0001, 110.0], np.full(40, 110.0005), 110.01 + rng.random(40) * 0.01]
    )
    lat = np.concatenate([[-7.0, -7.0, -7.0001], np.full(40, -7.0), -7.01 + rng.random(40) * 0.01])
    labels = np.array(
        ["a"] + ["b", "a"] + ["b"] * 14 + ["a"] * 26 + list(rng.choice(["a", "b"], 40))
    )
    permutations = 1999
    out = colocation.local_clq(lon, lat, labels, focal=[0], k=5, permutations=permutations, seed=1)
    assert out.p_value is not None
    exact = _brute_p(lon, lat, labels, 0, 5, "b")
    mc = (out.p_value.loc[0, "b"] * (permutations + 1) - 1) / permutations
    assert abs(mc - exact) < 4 * math.sqrt(exact * (1 - exact) / permutations) + 1e-9, (mc, exact)
    assert out.clq.loc[0, "b"] == pytest.approx(
        _brute_local(lon, lat, labels, 5).loc[0, "b"], rel=1e-9
    )


@pytest.mark.parametrize(("seed", "n", "wanted"), [(0, 60, ["13"]), (1, 400, ["10", "25"])])
def test_p_values_of_some_sectors_are_those_of_all(seed: int, n: int, wanted: list[str]) -> None:
    """``p_sectors`` counts only some sectors among the drawn neighbours: the same draws
    (firm by firm, large tied groups as counts, sets with a repeat drawn again), so the
    p-values are those of every sector's, to the bit."""
    lon, lat, labels = _crowded(seed, n)
    everything = colocation.local_clq(lon, lat, labels, k=8, permutations=49, seed=seed, chunk=17)
    some = colocation.local_clq(
        lon, lat, labels, k=8, permutations=49, seed=seed, chunk=17, p_sectors=wanted
    )
    assert everything.p_value is not None and some.p_value is not None
    assert list(some.p_value.columns) == wanted
    pd.testing.assert_frame_equal(some.p_value, everything.p_value[wanted])
    pd.testing.assert_frame_equal(some.clq, everything.clq)
    assert (everything.p_value < 1).any().any()  # some firms are tested against something


def test_repeated_draws_are_found() -> None:
    sets = np.random.default_rng(0).integers(0, 6, size=(500, 3, 5))
    brute = np.array([[len(set(s)) < len(s) for s in row] for row in sets])
    np.testing.assert_array_equal(colocation._repeats(sets), brute)
    wide = np.random.default_rng(1).integers(0, 400, size=(200, 20))
    np.testing.assert_array_equal(colocation._repeats(wide), [len(set(s)) < len(s) for s in wide])


def test_co_location_inputs_are_checked() -> None:
    from klastergeo.errors import DataError

    lon, lat, labels = [110.0, 110.1, 110.2], [-7.0, -7.0, -7.0], ["a", "b", "a"]
    with pytest.raises(DataError, match="2 latitudes and 3 sectors"):
        colocation.global_clq(lon, lat[:2], labels)
    with pytest.raises(DataError, match=r"1 firm\(s\).*rows 1.*lat=nan"):
        colocation.local_clq(lon, [-7.0, np.nan, -7.0], labels)
    with pytest.raises(DataError, match="lon=400"):
        colocation.global_clq([110.0, 400.0, 110.2], lat, labels)
    with pytest.raises(ConfigError, match=r"k=0 \(a whole number >= 1\); permutations=-1"):
        colocation.local_clq(lon, lat, labels, k=0, permutations=-1)
    with pytest.raises(ConfigError, match="permutations=-5"):
        colocation.global_clq(lon, lat, labels, permutations=-5)
    with pytest.raises(DataError, match="positions 3 outside 0 to 2"):
        colocation.local_clq(lon, lat, labels, focal=[0, 3])
    with pytest.raises(DataError, match="mask of 2 values for 3 firms"):
        colocation.local_clq(lon, lat, labels, focal=[True, False])
    with pytest.raises(DataError, match="missing"):
        colocation.global_clq(lon, lat, ["a", None, "b"])


def test_no_focal_firm_gives_empty_tables() -> None:
    lon, lat, labels = _crowded(0, 20)
    out = colocation.local_clq(lon, lat, labels, focal=np.zeros(20, dtype=bool), permutations=9)
    assert out.clq.shape == (0, 3) and out.p_value is not None and out.p_value.shape == (0, 3)
    assert out.neighbours.empty
