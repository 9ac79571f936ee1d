"""Sentra lineages on registries the demo never made (``tests/worlds/dynamics.py``:
Bali, three surveys): every planted lineage is recovered with its trend, and nothing
else is called a trend of a planted place. Three seeds (places and counts)."""

from __future__ import annotations

import pandas as pd
import pytest

from klastergeo.analysis import dynamics, sentra
from tests.worlds import dynamics as dynamics_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=(1, 2, 3))
def followed(request, bali_villages) -> tuple:
    areas, graph = bali_villages
    world = dynamics_world.generate(areas, graph, request.param)
    found = []
    for period in dynamics_world.PERIODS:
        table = dynamics_world.table(world, period)
        period_sentra, _ = sentra.delineate(table, graph, areas)
        found.append(period_sentra.reset_index().assign(period=period))
    all_sentra = pd.concat(found, ignore_index=True)
    table, links = dynamics.lineages(all_sentra, periods=list(dynamics_world.PERIODS))
    return world, table, links


def test_every_planted_lineage_has_its_trend(followed) -> None:
    world, table, _ = followed
    members = table["area_codes"].str.split(";").map(set)
    for trend, (sector, villages) in world.trends.items():
        touches = members.map(set(villages).intersection).map(bool)
        ours = table.loc[(table["sector"] == sector) & touches]
        assert len(ours) == 1, (trend, ours)
        assert ours["trend"].iloc[0] == trend, (trend, ours.iloc[0].to_dict())


def test_no_other_lineage_on_planted_sectors(followed) -> None:
    """Every lineage of a planted sector is the planted one (background firms make no
    sentra of their own in these sectors)."""
    world, table, _ = followed
    planted = {sector for sector, _ in world.trends.values()}
    assert (table["sector"].isin(planted)).sum() == len(world.trends)
