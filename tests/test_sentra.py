"""Sentra delineation on lattices with planted concentrations (ground truth by construction)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from klastergeo.analysis import sentra, weights
from klastergeo.app.pipeline.delineation import with_sector_labels
from klastergeo.errors import ConfigError, DataError
from klastergeo.publish import sentences
from klastergeo.schema import NEAR_MISS_COLUMNS
from tests.worlds.lattice import area_table, lattice


@pytest.fixture
def world():
    """9 x 9 villages; background of 2 food (10) and 1 furniture (31) firm in each;
    a furniture sentra in r2c2 + r2c3; a lone weaving village r6c6 (13); a dense 'city'
    r6c1 + r6c2 with many firms of both sectors in background proportions."""
    areas = lattice(9, 9)
    graph = weights.contiguity(areas)
    firms: dict[str, dict[str, int]] = {c: {"10": 2, "31": 1} for c in areas.index}
    firms["r2c2"] = {"10": 2, "31": 60}
    firms["r2c3"] = {"10": 2, "31": 30}
    firms["r6c6"] = {"10": 2, "31": 1, "13": 45}
    firms["r6c1"] = {"10": 80, "31": 40}
    firms["r6c2"] = {"10": 80, "31": 40}
    return areas, graph, area_table(areas, firms, graph)


def test_planted_sentra_found_and_decoy_city_not(world) -> None:
    areas, graph, table = world
    found, members = sentra.delineate(table, graph, areas)
    assert len(found) == 2
    by_sector = found.set_index("sector")
    assert by_sector.loc["31", "area_codes"] == "r2c2;r2c3"
    assert by_sector.loc["31", "n_firms"] == 90
    assert by_sector.loc["31", "n_areas"] == 2
    assert by_sector.loc["31", "core_area"] == "r2c2"
    assert by_sector.loc["13", "area_codes"] == "r6c6"
    # the dense city is hot for furniture but not specialised (LQ about 1)
    assert table.loc[("r6c1", "31"), "gi_bin"] >= 2
    assert table.loc[("r6c1", "31"), "lq"] < 2
    assert not members.index.get_level_values("area_code").isin(["r6c1", "r6c2"]).any()
    assert set(members["sentra_id"]) == set(found.index)
    assert found.index.name == "sentra_id"
    assert list(members.columns) == list(sentra.MEMBER_COLUMNS)
    assert (members["role"] == "core").all()
    assert list(found.columns[: len(sentra.COLUMNS)]) == list(sentra.COLUMNS)
    labelled = with_sector_labels(found, "en")
    assert list(labelled.columns[: len(sentra.SENTRA_COLUMNS)]) == list(sentra.SENTRA_COLUMNS)


def test_sentra_ids_names_and_geometry(world) -> None:
    areas, graph, table = world
    parents = pd.Series("Kecamatan X", index=areas.index)
    found, _ = sentra.delineate(table, graph, areas, parents=parents)
    found = with_sector_labels(found, "en")
    assert found.index[found["sector"] == "31"].tolist() == ["31-01"]
    row = found.loc["31-01"]
    assert row["name"] == "r2c2 & r2c3, Kecamatan X"
    assert row["sector_label"] == "Furniture"
    assert row["geometry"].area == pytest.approx(2e6)  # two 1 km2 squares merged
    assert row["lq"] > 2


def test_non_contiguous_members_make_separate_sentra() -> None:
    areas = lattice(15, 15)
    graph = weights.contiguity(areas)
    firms: dict[str, dict[str, int]] = {c: {"10": 4, "31": 1} for c in areas.index}
    firms["r2c2"] = {"10": 2, "31": 50}
    firms["r10c10"] = {"10": 2, "31": 40}
    table = area_table(areas, firms, graph)
    found, _ = sentra.delineate(table, graph, areas)
    assert found["area_codes"].tolist() == ["r2c2", "r10c10"]
    assert found.index.tolist() == ["31-01", "31-02"]  # larger first
    # the hot neighbours of a sentra village are not members: too few firms
    assert (table.xs("31", level="sector").loc[["r1c1", "r3c3"], "gi_bin"] >= 2).all()


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("min_firms", 100, set()),  # the group's 90 firms are too few
        ("min_firms", 90, {"r2c2", "r2c3"}),
        ("min_area_firms", 35, {"r2c2"}),
        ("lq_threshold", 50, set()),
        ("confidence", 99, {"r2c2", "r2c3"}),
    ],
)
def test_rules_are_parameters(world, rule: str, value: float, expected: set[str]) -> None:
    areas, graph, table = world
    _, members = sentra.delineate(table, graph, areas, extend=False, **{rule: value})
    codes = set(members.xs("31", level="sector").index) if len(members) else set()
    assert codes == expected


def test_is_member_needs_every_area_rule() -> None:
    t = pd.DataFrame(
        {
            "n_firms": [30, 30, 4, 30, 30, 30],
            "lq": [3.0, 1.1, 9.0, np.nan, 3.0, 3.0],
            "lq_low": [2.0, 0.9, 3.0, np.nan, 0.95, 2.0],
            "spec_bin": [2, 3, 3, 3, 3, 1],
        }
    )
    assert sentra.is_member(t, n_areas=100).tolist() == [True, False, False, False, False, False]
    assert sentra.is_member(t, n_areas=100, confidence=90).tolist()[-1]
    with pytest.raises(ConfigError, match="confidence=80"):
        sentra.is_member(t, confidence=80)
    with pytest.raises(DataError, match="lacks column"):
        sentra.is_member(t.drop(columns="lq"), n_areas=100)
    with pytest.raises(DataError, match="lq_p"):  # few areas: the LQ test decides
        sentra.is_member(t, n_areas=10)


def test_no_sentra_gives_empty_tables() -> None:
    areas = lattice(4, 4)
    graph = weights.contiguity(areas)
    table = area_table(areas, {c: {"10": 2} for c in areas.index}, graph)
    found, members = sentra.delineate(table, graph, areas)
    assert found.empty and members.empty
    assert list(found.columns)[: len(sentra.COLUMNS)] == list(sentra.COLUMNS)
    labelled = with_sector_labels(found, "id")
    assert list(labelled.columns)[: len(sentra.SENTRA_COLUMNS)] == list(sentra.SENTRA_COLUMNS)


def test_sentra_measures(world) -> None:
    areas, graph, table = world
    found, _ = sentra.delineate(table, graph, areas)
    row = found.set_index("sector").loc["31"]
    furniture = table.xs("31", level="sector")["n_firms"].sum()
    assert row["area_km2"] == pytest.approx(2.0)  # two 1 km2 lattice cells
    assert row["density_km2"] == pytest.approx(90 / 2.0)
    assert row["sector_share"] == pytest.approx(90 / furniture)
    assert row["n_core_areas"] == 2
    assert row["core_areas"] == "r2c2;r2c3"
    rows = table.loc[[("r2c2", "31"), ("r2c3", "31")]]
    assert row["spec_z_max"] == pytest.approx(rows["spec_z"].max())
    assert row["spec_p_min"] == pytest.approx(rows["spec_p"].min())
    assert row["gi_z_max"] == pytest.approx(rows["gi_z"].max())
    assert row["gi_p_min"] == pytest.approx(rows["gi_p"].min())
    everything = table.groupby(level="area_code")["n_firms"].sum()
    expected_lq = (90 / everything[["r2c2", "r2c3"]].sum()) / (furniture / everything.sum())
    assert row["lq"] == pytest.approx(expected_lq)


def _spill_world() -> tuple:
    """A furniture sentra r4c4 (60 firms) with a spill-over neighbour r4c5 (12 firms) and
    a like village r0c8 far away; background 4 food + 1 furniture firm per village."""
    areas = lattice(9, 9)
    graph = weights.contiguity(areas)
    firms: dict[str, dict[str, int]] = {c: {"10": 4, "31": 1} for c in areas.index}
    firms["r4c4"] = {"10": 2, "31": 60}
    firms["r4c5"] = {"10": 2, "31": 12}
    firms["r0c8"] = {"10": 2, "31": 12}
    return areas, graph, area_table(areas, firms, graph)


def test_a_small_specialised_neighbour_joins_the_group() -> None:
    """r4c5's 12 firms pass every area rule: it is a candidate, and its group with r4c4
    holds 72 firms; r0c8, alike but alone in a corner, is a near miss (its neighbourhood
    of four villages is not significantly specialised)."""
    areas, graph, table = _spill_world()
    found, members = sentra.delineate(table, graph, areas)
    assert found["area_codes"].tolist() == ["r4c4;r4c5"]
    assert found["core_areas"].tolist() == ["r4c4;r4c5"]
    assert members["rule"].tolist() == ["specialisation", "specialisation"]
    assert ("r0c8", "31") not in members.index
    near = sentra.near_misses(table, graph, members)
    assert near.loc[("r0c8", "31"), "failed"] == "specialisation"
    reasons = sentences.near_miss_reasons(
        near, "en", n_areas=81, confidence=95, lq_threshold=1.5, min_firms=20
    )
    said = dict(zip(near.index, reasons, strict=True))
    assert said[("r0c8", "31")].startswith(
        "LQ 2.54, 12 firms: specialisation not significant at 95 % (p 0.385, spec_bin 0; 81 areas)"
    )
    indonesian = sentences.near_miss_reasons(
        near, "id", n_areas=81, confidence=95, lq_threshold=1.5, min_firms=20
    )
    assert indonesian[reasons.index(said[("r0c8", "31")])].startswith(
        "LQ 2,54, 12 usaha: spesialisasi tidak signifikan pada 95 % (p 0,385, kelas "
        "spesialisasi 0; 81 wilayah)"
    )
    assert list(near.columns) == list(NEAR_MISS_COLUMNS)
    assert not near.index.isin(members.index).any()


def test_extension_takes_in_a_specialised_neighbour_only() -> None:
    """With candidates of 15 firms or more, r4c5 (12) is no candidate but joins its
    neighbour's sentra as an extension; r0c8, alike but next to no sentra, does not."""
    areas, graph, table = _spill_world()
    found, members = sentra.delineate(table, graph, areas, min_area_firms=15)
    assert found["area_codes"].tolist() == ["r4c4;r4c5"]
    assert found["core_areas"].tolist() == ["r4c4"]
    assert members.loc[("r4c5", "31"), "role"] == "extension"
    assert members.loc[("r4c5", "31"), "rule"] == "extension"
    assert ("r0c8", "31") not in members.index
    assert found["n_firms"].tolist() == [72]
    plain, members = sentra.delineate(table, graph, areas, min_area_firms=15, extend=False)
    assert plain["area_codes"].tolist() == ["r4c4"]
    strict, _ = sentra.delineate(table, graph, areas, min_area_firms=15, extend_min_firms=13)
    assert strict["area_codes"].tolist() == ["r4c4"]


def test_a_sentra_of_many_small_areas_is_found_as_a_group() -> None:
    """Ten contiguous kelurahan with 7-18 furniture firms each (none reaches 20 alone),
    in a city of 15 x 15 kelurahan with 30 food and 1 furniture firm each: one sentra of
    the ten; under the old per-area rule there was none."""
    areas = lattice(15, 15)
    graph = weights.contiguity(areas)
    firms: dict[str, dict[str, int]] = {c: {"10": 30, "31": 1} for c in areas.index}
    planted = ["r5c5", "r5c6", "r5c7", "r5c8", "r6c5", "r6c6", "r6c7", "r6c8", "r7c6", "r7c7"]
    for cell, n in zip(planted, [7, 9, 12, 18, 10, 15, 8, 11, 13, 9], strict=True):
        firms[cell] = {"10": 30, "31": n}
    table = area_table(areas, firms, graph)
    found, members = sentra.delineate(table, graph, areas)
    assert found["area_codes"].tolist() == [";".join(sorted(planted))]
    assert found["n_firms"].tolist() == [112]
    assert set(members["role"]) == {"core"}
    # asked for 150 firms, the ten are near misses for that reason alone
    none, nobody = sentra.delineate(table, graph, areas, min_firms=150)
    near = sentra.near_misses(table, graph, nobody, min_firms=150)
    assert none.empty
    assert sorted(near.index.get_level_values("area_code")) == sorted(planted)
    assert set(near["failed"]) == {"group_firms"}
    reasons = sentences.near_miss_reasons(
        near, "en", n_areas=225, confidence=95, lq_threshold=1.5, min_firms=150
    )
    assert dict(zip(near.index, reasons, strict=True))[("r5c8", "31")] == (
        f"LQ {table.loc[('r5c8', '31'), 'lq']:.2f}, 18 firms: its group of 10 area(s) "
        "holds 112 firms < min_firms 150"
    )


def test_few_areas_use_the_lq_test() -> None:
    """A regency of 20 kecamatan (fewer than MIN_AREAS_SPECIALISATION): a kecamatan with
    261 metal-craft firms and LQ about 4 is a sentra by its exact LQ test; its ordinary
    neighbours are not."""
    areas = lattice(4, 5)
    graph = weights.contiguity(areas)
    assert len(areas) < sentra.MIN_AREAS_SPECIALISATION
    firms: dict[str, dict[str, int]] = {c: {"10": 300, "25": 30} for c in areas.index}
    firms["r1c2"] = {"10": 280, "25": 261}
    table = area_table(areas, firms, graph)
    found, members = sentra.delineate(table, graph, areas)
    assert found["area_codes"].tolist() == ["r1c2"]
    assert members["rule"].tolist() == ["lq test"]
    assert table.loc[("r1c2", "25"), "lq"] > 3.5


def _points(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """20 x 20 km of background firms (food 80 %, furniture 20 %), a dense city with
    1,500 firms of both sectors in the same mix within 1 km, and a furniture sentra of 60
    firms within 150 m. Coordinates in metres (EPSG:32749)."""
    n_bg = 2000
    bx, by = rng.uniform(0, 20_000, n_bg), rng.uniform(0, 20_000, n_bg)
    cx, cy = 5_000 + rng.normal(0, 500, 1500), 5_000 + rng.normal(0, 500, 1500)
    sx, sy = 15_000 + rng.normal(0, 75, 60), 15_000 + rng.normal(0, 75, 60)
    sector = np.concatenate(
        [rng.choice(["10", "31"], n_bg + 1500, p=[0.8, 0.2]), np.full(60, "31")]
    )
    x = np.concatenate([bx, cx, sx]) + 400_000
    y = np.concatenate([by, cy, sy]) + 9_100_000
    return gpd.GeoDataFrame(
        {"sector": sector, "workers": 2.0, "planted": np.arange(len(x)) >= n_bg + 1500},
        geometry=shapely.points(x, y),
        crs="EPSG:32749",
    )


@pytest.mark.parametrize("method", ["hdbscan", "dbscan"])
def test_point_delineation_finds_the_sentra_not_the_city(method: str) -> None:
    firms = _points(np.random.default_rng(5))
    found, firm_sentra = sentra.delineate_points(firms, method=method, eps_m=200.0)
    assert found["sector"].tolist() == ["31"]
    assert found.index.tolist() == ["31-01"]
    in_sentra = firm_sentra.notna().to_numpy()
    planted = firms["planted"].to_numpy()
    recall = (in_sentra & planted).sum() / planted.sum()
    precision = (in_sentra & planted).sum() / in_sentra.sum()
    assert recall >= 0.9
    assert precision >= 0.9
    assert found.iloc[0]["lq"] >= 2
    assert found.iloc[0]["workers"] == pytest.approx(2.0 * in_sentra.sum())
    assert found.geometry.iloc[0].contains(
        shapely.MultiPoint(firms.geometry[in_sentra].to_list()).convex_hull
    )


def test_point_delineation_names_areas_and_rejects_bad_options() -> None:
    firms = _points(np.random.default_rng(6))
    grid = lattice(20, 20)  # 1 km cells over the same ground
    col = ((firms.geometry.x - 400_000) // 1000).astype(int).clip(0, 19)
    row = ((firms.geometry.y - 9_100_000) // 1000).astype(int).clip(0, 19)
    firms["area_code"] = "r" + row.astype(str) + "c" + col.astype(str)
    found, _ = sentra.delineate_points(firms, areas=grid, eps_m=200.0)
    main = firms.loc[firms["planted"], "area_code"].value_counts().index[0]
    assert found.iloc[0]["core_area"] == main  # the cell with most of the sentra's firms
    assert {"r14c14", "r14c15", "r15c14", "r15c15"} <= set(found.iloc[0]["area_codes"].split(";"))
    assert found.iloc[0]["name"].startswith(main)
    with pytest.raises(ConfigError, match="method='optics'"):
        sentra.delineate_points(firms, method="optics")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="eps_m"):
        sentra.delineate_points(firms, eps_m=0)


def _one_sentra_world(rng: np.random.Generator, shape: str) -> gpd.GeoDataFrame:
    """A second generator, unlike :func:`_points`: 30 x 30 km in UTM 50S (East Java) with
    4,000 food and crafts firms (10, 16) spread evenly, a market town of 2,000 such firms and
    *no* sentra of them, 50 rattan firms (16) scattered alone, and at most one rattan
    sentra whose shape varies: a round ``blob`` (70 firms, sd 180 m), a ``street`` (90 firms
    along 2.5 km of road), a ``wide`` cluster (250 firms, sd 450 m) or ``none``."""
    bg = rng.uniform(0, 30_000, (4_000, 2))
    town = rng.normal(20_000, 800, (2_000, 2))
    scattered = rng.uniform(0, 30_000, (50, 2))
    if shape == "blob":
        planted = rng.normal((8_000, 22_000), 180, (70, 2))
    elif shape == "street":
        along = rng.uniform(0, 2_500, 90)
        planted = np.column_stack([6_000 + 0.8 * along, 5_000 + 0.6 * along])
        planted += rng.normal(0, 50, planted.shape)
    elif shape == "wide":
        planted = rng.normal((24_000, 7_000), 450, (250, 2))
    else:
        planted = np.empty((0, 2))
    xy = np.vstack([bg, town, scattered, planted]) + np.array([600_000, 9_100_000])
    other = rng.choice(["10", "13"], 6_000, p=[0.7, 0.3])
    sector = np.concatenate([other, np.full(50 + len(planted), "16")])
    return gpd.GeoDataFrame(
        {"sector": sector, "planted": np.arange(len(xy)) >= 6_050},
        geometry=shapely.points(xy),
        crs="EPSG:32750",
    )


@pytest.mark.parametrize("method", ["hdbscan", "dbscan"])
@pytest.mark.parametrize("shape", ["blob", "street", "wide", "none"])
def test_point_delineation_finds_a_sector_s_only_sentra(method: str, shape: str) -> None:
    """A sector with a single sentra: HDBSCAN's tree then has one cluster, its root, which
    it used to leave unselected (nothing was found). Planted truth from the generator."""
    firms = _one_sentra_world(np.random.default_rng(11), shape)
    found, firm_sentra = sentra.delineate_points(firms, method=method)
    planted = firms["planted"].to_numpy()
    if shape == "none":
        assert found.empty and firm_sentra.isna().all()
        return
    assert found.index.tolist() == ["16-01"]
    in_sentra = firm_sentra.notna().to_numpy()
    assert (in_sentra & planted).sum() / planted.sum() >= 0.8  # recall
    assert (in_sentra & planted).sum() / in_sentra.sum() >= 0.95  # precision


def test_one_screen_serves_delineation_and_near_misses() -> None:
    """The rules applied once (sentra.screen) and passed to both give what each gives
    applying them itself."""
    areas, graph, table = _spill_world()
    screened = sentra.screen(table, graph)
    found, members = sentra.delineate(table, graph, areas, screened=screened)
    alone, alone_members = sentra.delineate(table, graph, areas)
    pd.testing.assert_frame_equal(found.drop(columns="geometry"), alone.drop(columns="geometry"))
    pd.testing.assert_frame_equal(members, alone_members)
    pd.testing.assert_frame_equal(
        sentra.near_misses(table, graph, members, screened=screened),
        sentra.near_misses(table, graph, members),
    )
    assert screened.loc[("r4c4", "31"), "core"] and not screened.loc[("r0c8", "31"), "core"]
