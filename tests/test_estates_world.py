"""Industrial estates stay quiet on the specialisation statistic and sentra are still
found (``tests/worlds/estates.py``: Banten's real villages, five estates of 2 to 8
villages, 4 to 30 times denser in every sector, and six planted sentra); three seeds."""

from __future__ import annotations

import pandas as pd
import pytest

from klastergeo.analysis import sentra
from tests.worlds import estates, places

SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def banten_villages(data_dir) -> tuple:
    return places.villages(data_dir, estates.AREA)


@pytest.fixture(scope="module", params=SEEDS)
def world(request, banten_villages) -> estates.World:
    areas, graph = banten_villages
    return estates.generate(areas, graph, request.param)


def _estate_cells(world: estates.World, table: pd.DataFrame) -> pd.DataFrame:
    inside = [c for codes in world.estates.values() for c in codes]
    return table.loc[table.index.get_level_values("area_code").isin(inside)]


@pytest.mark.parametrize("fdr", [False, True])
def test_estates_have_at_most_two_percent_of_cells_in_hot_bins(world, fdr: bool) -> None:
    """Every sector denser, the north's mix: at most 2 % of the estates' area x sector
    cells in a hot bin (90 % or more) with the margin; the exact test (margin 1)
    without FDR puts more than 2 % there (what the margin is for)."""
    cells = _estate_cells(world, estates.table(world, fdr=fdr))
    assert len(cells) == sum(len(c) for c in world.estates.values()) * len(estates.SECTORS)
    assert (cells["spec_bin"] >= 1).mean() <= 0.02
    if not fdr:
        exact = _estate_cells(world, estates.table(world, fdr=False, margin=1.0))
        assert (exact["spec_bin"] >= 1).mean() > 0.02


@pytest.mark.parametrize("fdr", [False, True])
def test_planted_sentra_are_still_found_and_no_estate_is_one(world, fdr: bool) -> None:
    """Recall: every planted sentra is one sentra of its sector holding all its
    villages, with the margin as with the exact test; no estate village is a member."""
    areas, graph = world.areas, world.graph
    found, members = sentra.delineate(estates.table(world, fdr=fdr), graph, areas)
    for name, (sector, codes) in world.planted.items():
        best: set[str] = set()
        for area_codes in found.loc[found["sector"] == sector, "area_codes"]:
            overlap = set(area_codes.split(";")) & set(codes)
            best = overlap if len(overlap) > len(best) else best
        assert best == set(codes), name
    inside = [c for codes in world.estates.values() for c in codes]
    assert not members.index.get_level_values("area_code").isin(inside).any()
