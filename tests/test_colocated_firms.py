"""The map's per-firm co-location layer: the categories against the local CLQ and a
brute-force isolation probability, its place in the firm data block, and its absence
from a page published without firms."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest

from klastergeo.analysis import colocation
from klastergeo.app.config import load_config
from klastergeo.app.pipeline import colocated_firms
from klastergeo.publish import explore, maps
from tests.worlds.explore import colocation_world


@pytest.mark.parametrize(("n", "related", "k", "same"), [(11, 5, 2, False), (9, 4, 3, True)])
def test_isolation_probability_is_the_brute_force_share(n, related, k, same):
    """Every way to pick k of the other n - 1 firms, counted."""
    others = ["r"] * (related - (1 if same else 0))
    others += ["o"] * (n - 1 - len(others))
    picks = list(itertools.combinations(range(n - 1), k))
    none = sum(all(others[j] != "r" for j in pick) for pick in picks)
    assert colocated_firms.isolation_p(n, related, k, same=same) == pytest.approx(
        none / len(picks), rel=1e-12
    )


@pytest.fixture(scope="module")
def world():
    return colocation_world()


@pytest.fixture(scope="module")
def config():
    return load_config(None, overrides={"colocation.permutations": 199})


def test_categories_follow_the_local_clq(world, config):
    firms, pairs = world
    assert bool(pairs.loc[("31", "16"), "significant"])
    out = colocated_firms.firm_colocation(config, pairs, firms)
    assert out is not None and "31>16" in out.columns
    codes = out["31>16"].to_numpy()
    sector = firms["sector"].to_numpy()
    west = firms["lon"].to_numpy() < 110.05
    assert (codes[sector != "31"] == 0).all()
    # the same local CLQ (the focal firms: those of both significant pairs, 31>16 and
    # 16>31, as the layer computes them in one call), 199 permutations, seed 0
    assert set(out.columns) == {"31>16", "16>31"}
    local = colocation.local_clq(
        firms["lon"], firms["lat"], sector, focal=np.isin(sector, ["16", "31"]), k=8,
        permutations=199, seed=0,
    )  # fmt: skip
    rows = local.clq.index.to_numpy()
    rows = rows[sector[rows] == "31"]
    clq = local.clq.loc[rows, "16"].to_numpy()
    p = local.p_value.loc[rows, "16"].to_numpy()
    expected = np.where((clq > 1) & (p <= 0.05), 1, np.where(clq == 0, 2, 3))
    np.testing.assert_array_equal(codes[rows], expected)
    # the planted truth: isolated in the east; in the west never isolated, and some
    # co-located (with 16 at 40 % of the firms, eight neighbours cannot show a CLQ much
    # above 1.5: a single firm is significant only when its nearest are all of 16)
    west_codes = codes[(sector == "31") & west]
    assert set(west_codes) == {colocated_firms.COLOCATED, colocated_firms.NOT_SIGNIFICANT}
    assert (west_codes == colocated_firms.COLOCATED).sum() >= 5
    assert (codes[(sector == "31") & ~west] == colocated_firms.ISOLATED).all()


def test_no_significant_pair_no_layer(world, config):
    firms, pairs = world
    assert colocated_firms.firm_colocation(config, pairs.assign(significant=False), firms) is None
    assert colocated_firms.firm_colocation(config, None, firms) is None


def _block(page: str) -> dict | None:
    match = re.search(
        r'<script type="application/json" id="klastergeo-firms">([^<]*)</script>', page
    )
    return json.loads(match.group(1)) if match else None


def test_the_layer_lives_in_the_firm_block_and_leaves_with_it(world, config, tmp_path):
    from tests.worlds.lattice import lattice

    firms, pairs = world
    categories = colocated_firms.firm_colocation(config, pairs, firms)
    areas = lattice(3, 3)
    table = _empty_table(areas)
    sentra = areas.iloc[:0].assign(sector=[])
    fmap = maps.build_map(
        maps.MapInput(
            areas, table, sentra, firms=firms, colocation=explore.FirmColocation(categories)
        ),
        maps.MapStyle(lang="en", tiles="none"),
    )
    page = maps.save_map(fmap, tmp_path / "map.html").read_text(encoding="utf-8")
    block = _block(page)
    assert block is not None
    layer = block["colocation"]
    assert [p["pair"] for p in layer["pairs"]] == list(categories.columns)
    # the focal firms in the block's order, with their categories
    order = maps.firm_order(firms)
    first = layer["pairs"][0]
    codes = categories[first["pair"]].to_numpy()[order]
    assert first["c"] == "".join(str(c) for c in codes[codes > 0])
    focal = {block["sectors"][block["sector"][int(i)]] for i in np.flatnonzero(codes)}
    assert focal == {first["pair"].split(">")[0]}
    assert np.cumsum([ord(c) - 63 for c in first["i"]]).tolist()[:1] == [
        int(np.flatnonzero(codes)[0])
    ]
    # published without firms: no block, no layer, no pair
    public = maps.without_firms(page)
    assert _block(public) is None
    assert '"pairs"' not in public and "31\\u003e16" not in public
    # published with rounded firms: the layer stays, on the rounded points
    rounded = _block(maps.with_rounded_firms(page, decimals=3))
    assert rounded is not None and rounded["colocation"] == layer


def _empty_table(areas):
    import pandas as pd

    index = pd.MultiIndex.from_product([areas.index, ["31"]], names=["area_code", "sector"])
    return pd.DataFrame(
        {"n_firms": 1, "lq": 1.0, "gi_z": 0.0, "gi_bin": 0, "lisa_quadrant": 0}, index=index
    )


@pytest.mark.slow
def test_a_site_without_firms_has_no_colocation_layer(tmp_path):
    """A whole run with a co-located related industry (sector 16 a few metres from the
    sentra's furniture firms): its map holds the layer in the firm data block; the site
    published without ``--with-firms`` holds neither, the one with firms keeps it."""
    import pandas as pd

    from klastergeo.app import pipeline
    from klastergeo.publish import site as publish
    from tests.worlds.lattice import custom_study

    registry = custom_study(tmp_path, (9, 9), {"r4c4": 45, "r4c5": 30}, seed=3)
    rng = np.random.default_rng(1)
    near = registry.loc[registry["kbli"] == "31001"].sample(40, random_state=1)
    related = pd.DataFrame(
        {
            "id": [f"S{i}" for i in range(40)],
            "lat": near["lat"].to_numpy() + rng.uniform(-1e-4, 1e-4, 40),
            "lon": near["lon"].to_numpy() + rng.uniform(-1e-4, 1e-4, 40),
            "kbli": "16001",
            "workers": 2,
        }
    )
    pd.concat([registry, related], ignore_index=True).to_csv(tmp_path / "reg.csv", index=False)
    config = load_config(
        None,
        overrides={
            "records.path": tmp_path / "reg.csv",
            "area.boundaries": tmp_path / "desa.gpkg",
            "area.id_col": "kode",
            "area.name_col": "name",
            "analysis.permutations": 99,
            "map.tiles": "none",
            "out": tmp_path / "run",
        },
    )
    result = pipeline.run(config)
    assert result.colocation is not None
    assert bool(result.colocation.loc[("31", "16"), "significant"])
    run_block = _block((tmp_path / "run" / "map.html").read_text(encoding="utf-8"))
    assert run_block is not None
    assert "31>16" in [p["pair"] for p in run_block["colocation"]["pairs"]]
    publish.publish(tmp_path / "run", tmp_path / "site")
    publish.publish(tmp_path / "run", tmp_path / "site-firms", with_firms=True, firm_decimals=3)
    public = (tmp_path / "site" / "map.html").read_text(encoding="utf-8")
    assert _block(public) is None
    assert '"pairs"' not in public and "31\\u003e16" not in public
    assert "klastergeo.explore(" in public  # the area-level exploration stays
    kept = _block((tmp_path / "site-firms" / "map.html").read_text(encoding="utf-8"))
    assert kept is not None and kept["colocation"] == run_block["colocation"]
