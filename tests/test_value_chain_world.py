"""Related industries around sentra on registries the demo never made
(``tests/worlds/value_chain.py``: Lombok Timur, planted suppliers, buyers and related
industries; ``tests/worlds/sentra_chain.py``: Wajo, suppliers and buyers that are sentra
themselves)."""

from __future__ import annotations

import pytest

from klastergeo.analysis import colocation
from tests.worlds import places
from tests.worlds import sentra_chain as chain_mod
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


@pytest.fixture(scope="module")
def wajo_villages(data_dir) -> tuple:
    """Wajo's villages and their contiguity (:mod:`tests.worlds.sentra_chain`)."""
    return places.villages(data_dir, chain_mod.AREA)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_related_industries_that_are_sentra_themselves_are_found(wajo_villages, seed: int) -> None:
    """Weavers (13) and traders (46) each form a sentra of their own across a sarong
    sentra (14), quarries (08) one beside a bricks sentra (23): every planted link is
    significant both ways, with its role; the decoys' sectors (16, 10, 25), sentra
    themselves far away, are linked to neither focal sentra, and neither has more than
    one link that was not planted. (Holding every sentra's firms fixed, as the null did
    before issue 27, none of these links is found.)"""
    areas, graph = wajo_villages
    world = chain_mod.generate(areas, graph, seed)
    firms = world.firms
    links = colocation.sentra_related(
        firms["lon"], firms["lat"], firms["sector"], firms["sentra"],
        permutations=199, seed=seed, linkages=colocation.read_linkages(),
    )  # fmt: skip
    related = links.related.set_index(["sentra_id", "related_sector"])
    for name, sector, role in chain_mod.LINKS:
        row = related.loc[(name, sector)]
        assert row["significant"], (seed, name, sector, row.to_dict())
        assert row["p_value"] < 0.05 and row["clq"] > 1 and row["role"] == role
    planted = {(name, sector) for name, sector, _ in chain_mod.LINKS}
    for name in chain_mod.FOCAL:
        mine = related.loc[name]
        assert set(chain_mod.DECOYS) <= set(mine.index)  # tested, with enough firms
        assert not mine.loc[list(chain_mod.DECOYS), "significant"].any(), (seed, name)
        extra = [s for s in mine.index[mine["significant"]] if (name, s) not in planted]
        assert len(extra) <= 1, (seed, name, extra)
    assert (
        not links.missing.set_index(["sentra_id", "related_sector"]).index.isin(list(planted)).any()
    )
