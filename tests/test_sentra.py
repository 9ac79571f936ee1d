"""Sentra delineation on lattices with planted concentrations (ground truth by construction)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from klastergeo import sentra, weights
from klastergeo._errors import ConfigError
from tests.conftest import area_table, lattice


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
    found, membership = sentra.delineate(table, graph, areas)
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
    assert not membership.index.get_level_values("area_code").isin(["r6c1", "r6c2"]).any()
    assert set(membership) == set(found["sentra_id"])
    assert list(found.columns[: len(sentra.SENTRA_COLUMNS)]) == list(sentra.SENTRA_COLUMNS)


def test_sentra_ids_names_and_geometry(world) -> None:
    areas, graph, table = world
    parents = pd.Series("Kecamatan X", index=areas.index)
    found, _ = sentra.delineate(table, graph, areas, parents=parents, lang="en")
    row = found.set_index("sector").loc["31"]
    assert row["sentra_id"] == "31-01"
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
    assert found["sentra_id"].tolist() == ["31-01", "31-02"]  # larger first
    # the hot neighbours of a sentra village are not members: too few firms
    assert (table.xs("31", level="sector").loc[["r1c1", "r3c3"], "gi_bin"] >= 2).all()


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ("min_firms", 35, {"r2c2"}),
        ("lq_threshold", 50, set()),
        ("confidence", 99, {"r2c2", "r2c3"}),
    ],
)
def test_rules_are_parameters(world, rule: str, value: float, expected: set[str]) -> None:
    areas, graph, table = world
    _, membership = sentra.delineate(table, graph, areas, **{rule: value})
    members = set(membership.xs("31", level="sector").index) if len(membership) else set()
    assert members == expected


def test_is_member_needs_all_three_rules() -> None:
    t = pd.DataFrame(
        {"n_firms": [30, 30, 5, 30], "lq": [3.0, 1.1, 9.0, np.nan], "gi_bin": [3, 3, 3, 3]}
    )
    assert sentra.is_member(t).tolist() == [True, False, False, False]
    with pytest.raises(ConfigError, match="confidence=80"):
        sentra.is_member(t, confidence=80)
    with pytest.raises(ConfigError, match="lacks column"):
        sentra.is_member(t.drop(columns="lq"))


def test_no_sentra_gives_empty_tables() -> None:
    areas = lattice(4, 4)
    graph = weights.contiguity(areas)
    table = area_table(areas, {c: {"10": 2} for c in areas.index}, graph)
    found, membership = sentra.delineate(table, graph, areas)
    assert found.empty and membership.empty
    assert list(found.columns)[: len(sentra.SENTRA_COLUMNS)] == list(sentra.SENTRA_COLUMNS)
