"""The map's exploration payload (publish/explore.py) against independent references:
the scatterplot's standardised values and lags against esda's Moran (``z``) and
libpysal's ``lag_spatial``, Moran's I against esda, the filter's p-values and sides
against the area table and esda's LISA quadrants."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from klastergeo.publish import explore, maps
from tests.worlds.decoding import unzig, varints
from tests.worlds.explore import SENTRA, explore_world


@pytest.fixture(scope="module")
def world():
    return explore_world()


@pytest.fixture(scope="module")
def esda_refs(world):
    """esda's Moran and local Moran of sector 31 on the world's weights (as a W)."""
    import esda
    from libpysal.weights import lag_spatial

    _areas, graph, _, counts = world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = graph.to_W()
        w.transform = "r"
        y = counts["31"].reindex(w.id_order).to_numpy(dtype=float)
        moran = esda.Moran(y, w, permutations=0)
        local = esda.Moran_Local(y, w, permutations=0)
        lag = lag_spatial(w, moran.z)
    return pd.Index(w.id_order), moran, local, lag


def _neighbours(graph_payload: dict) -> list[list[int] | None]:
    """The page's weights decoded: per area its neighbours' positions (None outside)."""
    degree = varints(graph_payload["deg"])
    steps = iter(varints(graph_payload["nb"]))
    out: list[list[int] | None] = [None if d == 0 else [] for d in degree]
    for i, d in enumerate(degree):
        at = i
        for j in range(max(d - 1, 0)):
            step = next(steps)
            at = i + int(unzig(np.array(step))) if j == 0 else at + step
            out[i].append(at)  # type: ignore[union-attr]
            if graph_payload["symmetric"]:
                out[at].append(i)  # type: ignore[union-attr]
    return [None if x is None else sorted(x) for x in out]


def test_the_weights_are_libpysals_neighbours(world):
    """The page's lags are computed from these: libpysal's W neighbours, binary."""
    areas, graph, _, _ = world
    payload = explore.graph_payload(graph, areas.index)
    assert payload["w"] is None  # queen contiguity: every weight 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = graph.to_W()
    position = {code: k for k, code in enumerate(areas.index)}
    decoded = _neighbours(payload)
    for code, k in position.items():
        assert decoded[k] == sorted(position[n] for n in w.neighbors[code])


def test_weights_outside_the_map_and_non_binary(world):
    from libpysal.graph import Graph

    areas, graph, _, _ = world
    index = pd.Index(["nowhere", *areas.index[:3]])
    payload = explore.graph_payload(graph, index)
    assert varints(payload["deg"])[0] == 0  # outside the graph: no point
    kernel = Graph.from_arrays(["a", "a", "b", "c"], ["b", "c", "a", "a"], [0.5, 0.25, 1.0, 1.0])
    weighted = explore.graph_payload(kernel, pd.Index(["a", "b", "c"]))
    assert not weighted["symmetric"] and varints(weighted["w"]) == [500, 250, 1000, 1000]
    assert _neighbours(weighted) == [[1, 2], [0], [0]]
    assert explore.graph_payload(graph, areas.index)["symmetric"]  # contiguity: pairs once


def test_scatter_payload_has_esdas_morans_i(world, esda_refs):
    areas, graph, _, counts = world
    _, moran, _, _ = esda_refs
    payload = explore.scatter_payload(counts, graph, ["10", "31"])
    assert payload["31"]["I"] == pytest.approx(moran.I, abs=5e-5)
    assert "x" not in payload["31"]  # firm counts: the page's tooltips hold them
    # a measure the page does not hold: its values, as integers plus one
    shipped = explore.scatter_payload(counts * 2.5, graph, ["31"], index=areas.index, scale=2)
    x = np.array(varints(shipped["31"]["x"]))
    np.testing.assert_array_equal((x - 1) / 2, np.round(counts["31"] * 2.5 * 2) / 2)
    top = counts["31"].nlargest(len(SENTRA)).index
    assert set(top) == set(SENTRA)  # the sentra villages are the extreme values


def test_a_suppressed_sum_is_left_out_of_the_scatterplot(world):
    """A measure's area sum that is NaN (suppressed) is not shipped (0), and Moran's I
    is that of the areas shown: esda's on the weights restricted to them."""
    import esda
    from libpysal.weights import w_subset

    areas, graph, _, counts = world
    values = counts * 1.5
    gone = [areas.index[3], areas.index[40]]
    values.loc[gone, "31"] = np.nan
    payload = explore.scatter_payload(values, graph, ["31"], index=areas.index)
    entry = payload["31"]
    x = np.array(varints(entry["x"]))
    at = areas.index.get_indexer(gone)
    assert entry["scale"] == 10 and entry["o"] == 2  # 1.5 x counts: tenths are exact
    assert (x[at] == 0).all() and (np.delete(x, at) > 0).all()
    shown = areas.index.difference(gone, sort=False)
    np.testing.assert_array_equal(
        (np.delete(x, at) - 1) / entry["scale"], values["31"].reindex(shown).to_numpy()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = w_subset(graph.to_W(), list(shown))
        w.transform = "r"
        moran = esda.Moran(values["31"].reindex(w.id_order).to_numpy(float), w, permutations=0)
    assert entry["I"] == pytest.approx(moran.I, abs=5e-5)


def test_value_scale_keeps_values_exact() -> None:
    assert explore.value_scale(np.array([0.0, 3.0, 7.0])) == 1
    assert explore.value_scale(np.array([0.1 + 0.2, 12.3])) == 10
    assert explore.value_scale(np.array([1 / 3])) == 10**6  # no power of ten: millionths
    assert explore.value_scale(np.array([2.0**49 + 0.5])) == 1  # below 2^50 whatever it is


def test_a_constant_sector_has_no_scatterplot(world):
    _, graph, _, counts = world
    flat = counts.assign(**{"10": 2})
    assert "10" not in explore.scatter_payload(flat, graph, ["10", "31"])


def test_filter_ships_the_raw_p_values_up_to_005_with_their_sides(world, esda_refs):
    areas, graph, table, counts = world
    ids, _, local, _ = esda_refs
    data = explore.ExploreInput({"firms": counts}, graph)
    payload = explore.explore_payload(data, table, areas.index, ["10", "31"], "en")
    for stat, column, sign in (("spec", "spec_p", "spec_z"), ("gi", "gi_p", "gi_z")):
        f = payload["filter"][stat]["31"]
        rows = table.xs("31", level="sector").reindex(areas.index)
        p = rows[column].to_numpy()
        at = np.cumsum(varints(f["i"]))
        assert f["m"] == int(np.isfinite(p).sum())
        np.testing.assert_array_equal(at, np.flatnonzero(p <= 0.05))
        np.testing.assert_allclose(np.array(varints(f["p"])) / f["u"], p[at], atol=5e-7)
        sides = np.array([int(c) for c in f["s"]])
        np.testing.assert_array_equal(sides, (rows[sign].to_numpy()[at] > 0).astype(int))
    # LISA: the raw permutation p-values and the quadrant of every shipped area, which
    # is esda's (1 HH, 2 LH, 3 LL, 4 HL there; GeoDa's 1 HH, 2 LL, 3 LH, 4 HL here)
    f = payload["filter"]["lisa"]["31"]
    rows = table.xs("31", level="sector").reindex(areas.index)
    at = np.cumsum(varints(f["i"]))
    np.testing.assert_array_equal(at, np.flatnonzero(rows["lisa_p_sim"].to_numpy() <= 0.05))
    geoda = np.array([0, 1, 3, 2, 4])[local.q]
    expected = pd.Series(geoda, index=ids).reindex(areas.index).to_numpy()[at]
    np.testing.assert_array_equal(np.array([int(c) for c in f["s"]]), expected)
    # the significant quadrants of the table are among them, with the same code
    sig = rows["lisa_quadrant"].to_numpy()
    shipped = dict(zip(at.tolist(), (int(c) for c in f["s"]), strict=True))
    for i in np.flatnonzero(sig):
        assert shipped[int(i)] == sig[i]


def test_permutation_p_values_survive_exactly(world):
    """p = k / 1000 in thousandths is exact: a p-value of 0.05 passes at 0.05."""
    areas, _graph, table, _counts = world
    t = table.copy()
    sector = t.index.get_level_values("sector") == "31"
    t.loc[sector, "spec_p"] = np.linspace(0.001, 0.2, int(sector.sum())).round(3)
    t.loc[(areas.index[0], "31"), "spec_p"] = 50 / 1000
    f = explore.filter_payload(t, areas.index, ["31"], p_columns={"spec": "spec_p"})
    units = varints(f["spec"]["31"]["p"])
    assert f["spec"]["31"]["u"] == 1000  # every shipped value a multiple of 0.001
    assert varints(f["spec"]["31"]["i"])[0] == 0 and units[0] == 50


def test_the_page_carries_the_exploration_and_its_script(world, tmp_path):
    from klastergeo.analysis import sentra

    areas, graph, table, counts = world
    found, _ = sentra.delineate(table, graph, areas)
    data = maps.MapInput(
        areas, table, found, explore=explore.ExploreInput({"firms": counts}, graph)
    )
    page = maps.save_map(maps.build_map(data, maps.MapStyle(lang="id", tiles="none")),
                         tmp_path / "map.html").read_text(encoding="utf-8")  # fmt: skip
    assert "klastergeo.explore(" in page
    assert "KG.bhAdjust" in page  # the script is inlined: the page works offline
    assert "klastergeo://" not in page
    assert "Diagram pencar Moran" in page  # the run's language
    plain = maps.build_map(maps.MapInput(areas, table, found), maps.MapStyle(tiles="none"))
    assert "klastergeo.explore(" not in plain.get_root().render()


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[k : k + 2], 16) for k in (1, 3, 5))  # type: ignore[return-value]


def test_emerging_categories_get_arcgis_reds_and_blues():
    from klastergeo.publish import change_map
    from tests.worlds.explore import emerging_world

    areas, _, _, emerging, _ = emerging_world()
    payload = change_map.emerging_payload(areas, emerging, lang="en")
    cats = payload["categories"]
    # an area with no pattern in every sector is left out of the shapes; the others
    # keep their category of each sector ("no pattern" where they have none)
    patterned = emerging.loc[emerging["category"] != "no pattern"]
    kept = sorted(set(patterned.index.get_level_values("area_code")))
    assert payload["names"] == areas.loc[kept, "name"].astype(str).tolist()
    rows = emerging.xs("31", level="sector")["category"]
    decoded = {
        name: cats[ord(c) - 48] for name, c in zip(kept, payload["codes"]["31"], strict=True)
    }
    assert decoded == rows.reindex(kept).to_dict()
    assert len(kept) == len(rows)  # the area without a pattern in 31 has one in 10
    assert len(set(payload["colours"][1:])) == 16  # every category its own colour
    for category, colour in zip(cats, payload["colours"], strict=True):
        if category == "no pattern":
            assert colour is None
            continue
        r, _g, b = _rgb(colour)
        assert (r > b) if "hot" in category else (b > r), (category, colour)
    # ArcGIS Pro's own colours of its first four hot-spot categories
    colours = dict(zip(cats, payload["colours"], strict=True))
    assert colours["new hot spot"] == "#cb0800"
    assert colours["persistent hot spot"] == "#851400"
    assert payload["sectors"] == ["10", "31"]
    assert payload["codes"]["10"].count(chr(48)) == len(kept) - 1


@pytest.mark.parametrize(
    ("overrides", "gi", "lisa"),
    [
        ({}, "gi_p", "lisa_p_sim"),  # the defaults: analytical Gi*, permutation LISA
        ({"analysis.fdr": True}, None, "lisa_p_sim"),  # gi_p is adjusted: not raw
        ({"analysis.gi_inference": "permutation"}, "gi_p_sim", "lisa_p_sim"),
        ({"analysis.permutations": 0}, "gi_p", "lisa_p"),
        ({"analysis.permutations": 0, "analysis.fdr": True}, None, None),
    ],
)
def test_the_filter_reads_the_raw_p_values_the_run_decided_on(world, overrides, gi, lisa):
    """Which column holds each statistic's p-value before any FDR correction."""
    from types import SimpleNamespace

    from klastergeo.app.config import load_config
    from klastergeo.app.pipeline import assembly

    _, graph, table, counts = world
    result = SimpleNamespace(table=table, graph=graph, global_stats=None, measures={})
    data = assembly.explore_input(load_config(None, overrides=overrides), result)  # type: ignore[arg-type]
    expected = {"spec": "spec_p", **({"gi": gi} if gi else {}), **({"lisa": lisa} if lisa else {})}
    assert dict(data.p_columns) == expected
    # the values are the table's firm counts on every area of the graph
    pd.testing.assert_series_equal(
        data.values["firms"]["31"].reindex(counts.index), counts["31"], check_names=False,
        check_dtype=False,
    )  # fmt: skip


def test_a_sector_whose_p_values_are_withheld_is_not_filtered(world):
    """A measure's sector whose Gi* p-values are all withheld (disclosure) ships no
    filter entry, so the page shows it as computed and says so, instead of colouring no
    area at every level (an adversarial run saw 0 areas and no word why)."""
    areas, _graph, table, _counts = world
    t = table.copy()
    t.loc[t.index.get_level_values("sector") == "31", "gi_p"] = np.nan
    f = explore.filter_payload(t, areas.index, ["10", "31"], p_columns={"gi": "gi_p"})
    assert "31" not in f["gi"] and "10" in f["gi"]
