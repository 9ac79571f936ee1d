"""Related industries around sentra on registries the demo never made
(``tests/worlds/value_chain.py``: Lombok Timur, planted suppliers, buyers and related
industries)."""

from __future__ import annotations

import pytest

from klastergeo.analysis import colocation
from tests.worlds import value_chain as world_mod


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_planted_related_sector_is_found(lombok_villages, seed: int) -> None:
    areas, graph = lombok_villages
    world = world_mod.generate(areas, graph, seed)
    firms = world.firms
    links = colocation.sentra_related(
        firms["lon"], firms["lat"], firms["sector"], firms["sentra"],
        permutations=99, seed=seed, linkages=colocation.read_linkages(),
    )  # fmt: skip
    related, missing = links.related, links.missing
    for name, (sector, _, _, planted) in world_mod.PLAN.items():
        mine = related.loc[related["sentra_id"] == name].set_index("related_sector")
        assert (mine["sector"] == sector).all()
        for s in planted:  # every planted related sector: p < 0.05 and CLQ > 1
            assert mine.loc[s, "significant"], (seed, name, s, mine.loc[s].to_dict())
            assert mine.loc[s, "p_value"] < 0.05 and mine.loc[s, "clq"] > 1
        others = mine.loc[mine["significant"] & ~mine.index.isin(list(planted))]
        assert len(others) <= 1, (seed, name, others)
    roles = related.set_index(["sentra_id", "related_sector"])["role"]
    assert roles[("furniture", "16")] == "supplier" and roles[("furniture", "46")] == "buyer"
    assert roles[("metal", "28")] == "related" and roles[("apparel", "13")] == "supplier"
    tiles = missing.loc[missing["sentra_id"] == "tiles"].set_index("related_sector")
    assert set(tiles.index) == {"46", "47"}  # no planted buyer: missing, never absent
    assert set(tiles["reason"]) <= {"not_colocated", "too_few_nearby"}
    assert "08" not in set(missing.loc[missing["sentra_id"] == "tiles", "related_sector"])
