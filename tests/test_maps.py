"""The web map: layers, popups, language, offline tiles (browser tests arrive with issue 6)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from klastergeo.io import boundaries
from klastergeo.publish import maps
from tests.worlds.decoding import varints
from tests.worlds.lattice import related_firms


def _html(fmap) -> str:
    return fmap.get_root().render()


def _payload(html: str, function: str = "klastergeo.sectorView(") -> dict:
    """The JSON argument of the page's call to ``function``."""
    start = html.index(function)
    start = html.index("{", start)
    return json.JSONDecoder().raw_decode(html[start:])[0]


def _firms(html: str) -> dict:
    """The firm data block of a map page."""
    start = html.index(f'id="{maps.FIRMS_ID}">') + len(f'id="{maps.FIRMS_ID}">')
    return json.loads(html[start : html.index("</script>", start)])


def _decode(ring: list[int]) -> list[tuple[float, float]]:
    xy = np.cumsum(np.asarray(ring).reshape(-1, 2), axis=0) / 1e5
    return [tuple(p) for p in xy]


def test_layers_and_popups(map_world, full_map, tmp_path: Path) -> None:
    _, _, found, _ = map_world
    fmap = full_map
    html = _html(fmap)
    for layer in ("Sentra", "Firms of the selected sector (points)", "Boundaries"):
        assert layer in html, layer
    assert "klastergeo.sectorView(" in html and "klastergeo.layers(" in html
    assert f'id="{maps.FIRMS_ID}"' in html  # the firm data block
    assert found.index[0] in html
    assert "tile.openstreetmap.org" not in html  # offline map: no tiles
    assert "test.csv" in html
    path = maps.save_map(fmap, tmp_path / "map.html")
    saved = path.read_text(encoding="utf-8")
    assert saved.startswith("<!DOCTYPE html>")
    # self-contained: every script and stylesheet is inlined, none is fetched
    assert "<script src=" not in saved
    assert '<link rel="stylesheet"' not in saved
    assert "L.MarkerClusterGroup" in saved and "leaflet-control-zoom-fullscreen" in saved
    assert "KG.sectorView = function" in saved


def test_sector_view_payload_matches_the_table(map_world, full_map) -> None:
    areas, table, _, _ = map_world
    data = _payload(_html(full_map))
    assert data["sectors"] == ["10", "31"]  # every analysed sector
    assert data["initial"] == "31"  # the first sector with a sentra
    assert data["stats"] == ["spec", "gi", "lisa", "lq", "prob"]  # specialisation first
    assert len(data["shapes"]) == len(data["names"]) == len(areas)
    rows = table.xs("31", level="sector").reindex(areas.index)
    spec = (maps.decode_codes(data["values"]["spec"]["31"]) - 3).tolist()
    assert spec == rows["spec_bin"].astype(int).tolist()
    gi = (maps.decode_codes(data["values"]["gi"]["31"]) - 3).tolist()
    assert gi == rows["gi_bin"].astype(int).tolist()
    lisa = maps.decode_codes(data["values"]["lisa"]["31"]).tolist()
    assert lisa == rows["lisa_quadrant"].astype(int).tolist()
    lq = maps.decode_codes(data["values"]["lq"]["31"]).tolist()
    assert lq == maps._classify(rows["lq"].fillna(0), maps.LQ_BREAKS).tolist()
    assert maps.decode_codes(data["prob"]).tolist() == [3] * len(
        areas
    )  # 0.6 everywhere: the 0.50-0.75 class
    # the geometry round-trips to 1e-5 degrees: r0c0's first vertex
    first = _decode(data["shapes"][0][0][0])[0]
    lon_lat = np.asarray(areas.to_crs(4326).geometry.iloc[0].exterior.coords)
    assert np.abs(lon_lat - np.asarray(first)).sum(axis=1).min() < 2e-5
    firms = _firms(_html(full_map))
    assert firms["n"] == 23 and len(firms["xy"]) == 46


def test_probability_and_tooltips_follow_the_sector(map_world) -> None:
    """With the mean probability of each sector's firms per area (``p_cluster``), the
    probability layer has classes per sector; every area with firms of a sector has its
    tooltip numbers (firms, LQ and interval x 100, z x 10, p in thousandths)."""
    areas, table, found, _ = map_world
    sector = table.index.get_level_values("sector")
    table = table.assign(p_cluster=np.where(sector == "31", 0.8, 0.05))
    data = _payload(
        _html(
            maps.build_map(
                maps.MapInput(areas, table, found), maps.MapStyle(lang="en", tiles="none")
            )
        )
    )
    assert data["stats"][-1] == "prob" and data["probBySector"] is True
    assert set(maps.decode_codes(data["values"]["prob"]["31"])) == {4}  # >= 0.75
    assert set(maps.decode_codes(data["values"]["prob"]["10"])) == {0}  # < 0.1: not drawn
    tips, fields = data["tips"]["31"], data["tipFields"]
    at = np.cumsum(varints(tips["i"]))
    values = np.asarray(varints(tips["v"])).reshape(len(at), len(fields))
    rows = table.xs("31", level="sector").reindex(areas.index)
    with_firms = np.flatnonzero(rows["n_firms"].to_numpy() > 0)
    assert set(with_firms) <= set(at.tolist())
    k = int(np.flatnonzero(at == areas.index.get_loc("r2c2"))[0])
    got = dict(zip(fields, (values[k] - 1).tolist(), strict=True))  # stored plus one
    row = rows.loc["r2c2"]
    assert got["n"] == row["n_firms"] and got["lq"] == round(row["lq"] * 10)
    assert got["lo"] == round(row["lq_low"] * 10) and got["hi"] == round(row["lq_high"] * 10)
    z = round(row["spec_z"] * 10)
    assert got["sz"] == (2 * z if z >= 0 else -2 * z - 1)  # zigzag
    assert got["sp"] == (0 if row["spec_p"] < 0.001 else round(row["spec_p"] * 1000))
    assert got["pc"] == 80


def test_varint_text_round_trips() -> None:
    values = np.random.default_rng(3).integers(0, 2**40, 2_000)
    values[:5] = [0, 1, 31, 32, 1023]
    assert varints(maps.varint_text(values)) == values.tolist()


def test_language_switch(map_world) -> None:
    areas, table, found, _ = map_world
    indonesian = _html(
        maps.build_map(maps.MapInput(areas, table, found), maps.MapStyle(lang="id", tiles="none"))
    )
    data = _payload(indonesian)
    assert data["sectorLabels"]["31"] == "31 Industri furnitur"
    assert data["text"]["stats"]["spec"] == "Spesialisasi (titik panas)"
    assert data["text"]["stats"]["gi"] == "Kepadatan usaha (titik panas Gi*)"
    assert "Furniture" not in indonesian


def test_classes_put_breaks_above() -> None:
    values = pd.Series([0.5, 1.0, 1.5, 2.0, 7.0, 10.0, 50.0])
    assert maps._classify(values, maps.LQ_BREAKS).tolist() == [0, 1, 1, 2, 3, 4, 4]


def test_sentra_popup_shows_typology_and_stage(map_world) -> None:
    areas, table, found, _ = map_world
    profiled = found.assign(
        typology_label="Marshallian with hub-and-spoke traits", stage="advance", diamond_score=3.1
    )
    html = _html(
        maps.build_map(
            maps.MapInput(areas, table, profiled), maps.MapStyle(lang="en", tiles="none")
        )
    )
    popups = _payload(html, "klastergeo.layers(")["sentra"]["popups"]
    assert len(popups) == 1
    rows = dict(popups[0])
    assert rows["Type (Markusen)"] == "Marshallian with hub-and-spoke traits"
    assert rows["Development stage"] == "advance"
    assert rows["Porter diamond score (1-5)"] == "3.10"
    assert rows["ID"] == found.index[0]
    indonesian = _html(
        maps.build_map(
            maps.MapInput(areas, table, profiled), maps.MapStyle(lang="id", tiles="none")
        )
    )
    assert "Tahap perkembangan" in indonesian


def test_many_firms_become_counts_on_a_grid(map_world) -> None:
    """Above ``max_firms`` the page gets no firm, only counts per grid cell: the counts
    add up to the firms, every firm lies in its cell, and names are gone."""
    areas, table, found, _ = map_world
    rng = np.random.default_rng(8)
    lon, lat = rng.uniform(110.0, 110.3, 5_000), rng.uniform(-7.4, -7.2, 5_000)
    firms = gpd.GeoDataFrame(
        {"sector": ["31"] * len(lon), "name": ["UD Rahasia"] * len(lon)},
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )
    html = _html(
        maps.build_map(
            maps.MapInput(areas, table, found, firms=firms),
            maps.MapStyle(tiles="none", max_firms=100),
        )
    )
    block = _firms(html)
    assert "UD Rahasia" not in html and "names" not in block
    assert sum(block["w"]) == 5_000 and block["firms"] == 5_000
    centres = np.cumsum(np.asarray(block["xy"]).reshape(-1, 2), axis=0) / block["q"]
    cell = block["cell"]
    ix, iy = np.floor(lon / cell), np.floor(lat / cell)
    expected = pd.Series(1, index=pd.MultiIndex.from_arrays([ix, iy])).groupby(level=[0, 1]).sum()
    got = pd.Series(
        block["w"],
        index=pd.MultiIndex.from_arrays(
            [np.floor(centres[:, 0] / cell), np.floor(centres[:, 1] / cell)]
        ),
    )
    assert got.sort_index().equals(expected.sort_index())
    small = _html(
        maps.build_map(
            maps.MapInput(areas, table, found, firms=firms.head(50)),
            maps.MapStyle(tiles="none", max_firms=100),
        )
    )
    assert "w" not in _firms(small) and _firms(small)["n"] == 50
    # a national run passes the firms' coordinates only (no point object per firm)
    plain = pd.DataFrame({"lon": lon, "lat": lat, "sector": "31"})
    html = _html(
        maps.build_map(
            maps.MapInput(areas, table, found, firms=plain),
            maps.MapStyle(tiles="none", max_firms=100),
        )
    )
    assert _firms(html) == block


def _province_file(path: Path) -> tuple[str, dict]:
    """The province code and payload of a split map's ``map/<code>.js``."""
    text = path.read_text(encoding="utf-8")
    prefix = "klastergeo.province("
    assert text.startswith(prefix) and text.endswith(");\n")
    decoder = json.JSONDecoder()
    code, end = decoder.raw_decode(text, len(prefix))
    assert text[end : end + 2] == ", "
    payload, end = decoder.raw_decode(text, end + 2)
    assert text[end:] == ");\n"
    return code, payload


def test_a_national_map_is_split_by_province(
    national_world, national_page: Path, data_dir: Path
) -> None:
    """Above ``max_areas``, the page holds the 38 provinces and a search index of every
    village (in the order of its province's file), and each province's villages with
    their classes are a script of their own."""
    villages, table, _, parents, provinces = national_world
    regencies = boundaries.load_names("kabupaten", source=data_dir)
    html = national_page.read_text(encoding="utf-8")
    assert "klastergeo.sectorView(" not in html
    data = _payload(html, "klastergeo.nationalView(")
    assert data["folder"] == "map"
    codes = data["provinces"]["codes"]
    assert codes == sorted(provinces.index) and len(codes) == 38
    assert data["provinces"]["names"] == provinces["name"].tolist()
    assert len(data["provinces"]["shapes"]) == 38
    assert sum(data["provinces"]["counts"]) == len(villages) == 83_402
    assert national_page.stat().st_size < 10e6  # the budget of what a browser opens
    files = sorted((national_page.parent / "map").glob("*.js"))
    assert [f.stem for f in files] == codes
    prefix = villages.index.str[:2]
    for k, code in enumerate(codes):
        entry = data["index"][k]
        mine = villages.loc[prefix == code]
        assert entry["names"] == mine["name"].tolist(), code
        runs = [name for name, n in entry["parents"] for _ in range(n)]
        assert runs == parents.reindex(mine.index).fillna("").tolist(), code
        places = [name for name, n in entry["places"] for _ in range(n)]
        kabupaten = mine.index.str.rsplit(".", n=2).str[0]  # the search lists them too
        assert places == [regencies[c] for c in kabupaten], code
    code, payload = _province_file(national_page.parent / "map" / "33.js")
    mine = villages.loc[prefix == "33"]
    assert code == "33" and len(payload["shapes"]) == len(mine) == 8_563
    rows = table.xs("31", level="sector").reindex(mine.index)
    assert (maps.decode_codes(payload["values"]["gi"]["31"]) - 3).tolist() == rows[
        "gi_bin"
    ].tolist()
    lisa = maps.decode_codes(payload["values"]["lisa"]["10"]).tolist()
    assert lisa == table.xs("10", level="sector").reindex(mine.index)["lisa_quadrant"].tolist()
    # the first vertex of a village round-trips to 1e-5 degrees
    first = _decode(payload["shapes"][0][0][0])[0]
    ring = np.asarray(shapely.get_parts(mine.geometry.iloc[0])[0].exterior.coords)
    assert np.abs(ring - np.asarray(first)).sum(axis=1).min() < 2e-5


def test_a_national_map_summarises_each_province(national_world, national_page: Path) -> None:
    """Per sector and province: firms, hot-spot villages and sentra, as counted from the
    table directly."""
    _, table, _, _, _ = national_world
    data = _payload(national_page.read_text(encoding="utf-8"), "klastergeo.nationalView(")
    codes = data["provinces"]["codes"]
    for sector in ("10", "31"):
        rows = table.xs(sector, level="sector")
        province = rows.index.str[:2]
        firms = rows["n_firms"].groupby(province).sum().reindex(codes).tolist()
        hot = (rows["gi_bin"] > 0).groupby(province).sum().reindex(codes).tolist()
        assert data["provinces"]["firms"][sector] == firms
        assert data["provinces"]["hot"][sector] == hot
    sentra = data["provinces"]["sentra"]
    assert sentra["31"][codes.index("33")] == 1 and sum(sentra["31"]) == 1
    assert sum(sentra["10"]) == 0


def test_a_province_map_stays_one_file(data_dir: Path, tmp_path: Path) -> None:
    """Jawa Tengah's 8,563 villages are below ``max_areas``: one self-contained page, as
    before, and no folder beside it."""
    from klastergeo.io import boundaries

    villages = boundaries.load_areas("desa", area="33", source=data_dir)
    table = pd.DataFrame(
        {"n_firms": 1, "lq": 1.0, "gi_z": 0.0, "gi_bin": 0, "lisa_quadrant": 0},
        index=pd.MultiIndex.from_product([villages.index, ["31"]], names=["area_code", "sector"]),
    )
    empty = gpd.GeoDataFrame({"sector": []}, geometry=[], crs=4326)
    fmap = maps.build_map(maps.MapInput(villages, table, empty), maps.MapStyle(tiles="none"))
    assert not hasattr(fmap, "klastergeo_split")
    path = maps.save_map(fmap, tmp_path / "map.html")
    data = _payload(path.read_text(encoding="utf-8"))
    assert len(data["shapes"]) == len(data["names"]) == 8_563
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]


def _kemendagri_lattice() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """A 6 x 6 lattice whose villages carry Kemendagri codes of two provinces (left half
    33, right half 34), and a table with hot spots in 34 only."""
    from tests.worlds.lattice import lattice

    areas = lattice(6, 6)
    codes = [
        f"{33 + (i % 6 >= 3)}.01.01.{2000 + i}"
        for i in range(len(areas))  # column 0-2: 33, 3-5: 34
    ]
    areas = areas.set_axis(pd.Index(codes, name="area_code")).assign(
        name=[f"V{i}" for i in range(36)]
    )
    gi = [2 if code.startswith("34") else 0 for code in codes]
    table = pd.DataFrame(
        {"n_firms": 3, "lq": 1.5, "gi_z": 0.0, "gi_bin": gi, "lisa_quadrant": 0},
        index=pd.MultiIndex.from_arrays([codes, ["31"] * 36], names=["area_code", "sector"]),
    )
    return areas, table


def test_split_without_provinces_dissolves_the_areas(tmp_path: Path) -> None:
    """Without province polygons, a split map dissolves its areas by province (named by
    code); the folder is named after the page."""
    areas, table = _kemendagri_lattice()
    empty = gpd.GeoDataFrame({"sector": []}, geometry=[], crs=4326)
    fmap = maps.build_map(
        maps.MapInput(areas, table, empty), maps.MapStyle(tiles="none", max_areas=10)
    )
    path = maps.save_map(fmap, tmp_path / "peta.html")
    data = _payload(path.read_text(encoding="utf-8"), "klastergeo.nationalView(")
    assert data["folder"] == "peta"
    assert data["provinces"]["codes"] == data["provinces"]["names"] == ["33", "34"]
    assert data["provinces"]["hot"]["31"] == [0, 18]
    assert data["provinces"]["firms"]["31"] == [54, 54]
    assert sorted(p.name for p in (tmp_path / "peta").iterdir()) == ["33.js", "34.js"]
    # each province is one 3 x 6 km block: its outline covers its 18 villages
    outline = shapely.Polygon(_decode(data["provinces"]["shapes"][0][0][0]))
    block = areas.to_crs(4326).loc[areas.index.str.startswith("33")].union_all()
    assert outline.symmetric_difference(block).area < 0.02 * block.area
    one = maps.build_map(
        maps.MapInput(areas, table, empty), maps.MapStyle(tiles="none")
    )  # 36 <= max_areas
    assert not hasattr(one, "klastergeo_split")


def test_areas_without_province_codes_stay_one_file(map_world) -> None:
    """Lattice cells (``r0c0``, no province in the code) above ``max_areas``: one file."""
    areas, table, found, _ = map_world
    fmap = maps.build_map(
        maps.MapInput(areas, table, found), maps.MapStyle(tiles="none", max_areas=10)
    )
    assert not hasattr(fmap, "klastergeo_split")
    assert len(_payload(_html(fmap))["shapes"]) == 81


def test_runs_encode_parents() -> None:
    values = np.array(["A", "A", "B", "", "", "A"], dtype=object)
    assert maps._runs(values) == [["A", 2], ["B", 1], ["", 2], ["A", 1]]
    assert maps._runs(np.array([], dtype=object)) == []


def test_a_run_writes_and_publishes_a_split_map(tmp_path: Path) -> None:
    """A run whose areas pass ``map.max_areas`` writes ``map/<province>.js`` into its
    folder (listed in its summary), and a published site copies it."""
    from klastergeo.app import pipeline
    from klastergeo.app.config import load_config
    from klastergeo.publish import site
    from tests.worlds.lattice import custom_study

    registry = custom_study(tmp_path, (6, 6), {"r2c2": 45, "r2c3": 30}, seed=4)
    registry.to_csv(tmp_path / "firms.csv", index=False)
    config = load_config(
        None,
        overrides={
            "records.path": tmp_path / "firms.csv",
            "area.boundaries": tmp_path / "desa.gpkg",
            "area.id_col": "kode",
            "analysis.permutations": 99,
            "pointpattern.enabled": False,
            "map.tiles": "none",
            "map.max_areas": 10,
            "out": tmp_path / "run",
        },
    )
    pipeline.run(config)
    run = tmp_path / "run"
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert "map/99.js" in summary["files"]  # custom codes 99.00 ... 99.35: province 99
    assert "klastergeo.nationalView(" in (run / "map.html").read_text(encoding="utf-8")
    site.publish(run, tmp_path / "site")
    assert (tmp_path / "site" / "map" / "99.js").read_bytes() == (
        run / "map" / "99.js"
    ).read_bytes()


def test_related_firms_travel_in_the_firm_block(map_world, tmp_path: Path) -> None:
    """The related industries' firms are grouped by sentra and sector in the firm data
    block (coordinates to 1e-5 degrees), so removing or rounding the firms covers them."""
    areas, table, found, firms = map_world
    related = related_firms(found)
    fmap = maps.build_map(
        maps.MapInput(areas, table, found, firms=firms, related_firms=related),
        maps.MapStyle(lang="en", tiles="none"),
    )
    html = maps.save_map(fmap, tmp_path / "map.html").read_text(encoding="utf-8")
    links = _firms(html)["links"]
    sid = str(found.index[0])
    assert links["runs"] == [[sid, "16", 0, 3], [sid, "46", 3, 5]]
    assert links["titles"] == {
        "16": "16 Wood, bamboo and rattan products",
        "46": "46 Wholesale trade",
    }
    xy = np.cumsum(np.asarray(links["xy"]).reshape(-1, 2), axis=0) / 1e5
    ordered = related.sort_values(["sentra_id", "related_sector"], kind="stable")
    np.testing.assert_allclose(xy[:, 0], ordered["lon"], atol=5e-6)
    np.testing.assert_allclose(xy[:, 1], ordered["lat"], atol=5e-6)
    assert links["names"] == ["</script><b>CV Kayu</b>", "", "CV Jati", "UD Dagang", "UD Niaga"]
    assert "</script><b>CV" not in html  # the block's JSON escapes markup
    bare = maps.without_firms(html)
    assert "CV Jati" not in bare and "UD Niaga" not in bare
    rounded = _firms(maps.with_rounded_firms(html, decimals=2))["links"]
    xy2 = np.cumsum(np.asarray(rounded["xy"]).reshape(-1, 2), axis=0) / 1e5
    np.testing.assert_allclose(xy2, np.round(xy, 2), atol=1e-9)
    # more related firms than the map embeds: none, the page says nothing false
    few = maps.build_map(maps.MapInput(areas, table, found, firms=firms, related_firms=related), maps.MapStyle(lang="en", tiles="none", max_firms=4))  # fmt: skip
    assert "links" not in _firms(_html(few))


#: Runs of class codes: every code, lengths from 1 to well past a run's marker.
_RUNS = st.lists(
    st.tuples(st.integers(0, maps.MAX_CODE), st.integers(1, 3_000)), min_size=0, max_size=40
)


@settings(max_examples=300, deadline=None)
@given(_RUNS)
def test_class_codes_round_trip(runs: list[tuple[int, int]]) -> None:
    """Any codes 0..74 with any runs (adjacent runs of one code merge) decode to
    themselves; a run of MIN_RUN or more is written shorter, never longer."""
    codes = np.array([c for c, n in runs for _ in range(n)], dtype=np.int64)
    text = maps.encode_codes(codes)
    np.testing.assert_array_equal(maps.decode_codes(text), codes)
    assert len(text) <= len(codes)
    # JSON, as the page gets it, keeps the text
    assert json.loads(maps.script_json(text)) == text


def test_class_codes_shorten_long_runs_only() -> None:
    every = np.arange(maps.MAX_CODE + 1)
    assert maps.encode_codes(every) == "".join(chr(48 + c) for c in every)  # no run
    assert maps.encode_codes([3] * (maps.MIN_RUN - 1)) == "3" * (maps.MIN_RUN - 1)
    assert maps.encode_codes([3] * 8_000 + [5] + [0] * 6) == "3{8000}50{6}"
    assert maps.decode_codes("").tolist() == []
    with pytest.raises(ValueError, match=r"0\.\.74"):
        maps.encode_codes([75])


def test_the_page_holds_runs_of_classes(map_world, full_map) -> None:
    """The 81 villages' classes of a sector: mostly one class, a few characters."""
    areas, table, _, _ = map_world
    data = _payload(_html(full_map))
    text = data["values"]["gi"]["10"]
    rows = table.xs("10", level="sector").reindex(areas.index)
    assert (maps.decode_codes(text) - 3).tolist() == rows["gi_bin"].tolist()
    assert len(text) < len(areas) / 2


def test_the_title_writes_the_day_in_the_pages_language() -> None:
    """The map's title box names the day as its language writes it (issue 28)."""
    t = maps.TEXT["id"]
    from klastergeo.publish import messages

    box = maps.title_block("Peta", "data.csv", t, messages.date("2026-12-06", "id"))
    assert "6 Desember 2026" in box and "2026-12-06" not in box


@pytest.mark.parametrize("titles", [("Layar penuh", "Keluar"), ("Full {{ 7*7 }}", "<b>x</b>")])
def test_fullscreen_button_is_folium_plugins_fullscreen(titles: tuple[str, str]) -> None:
    """The map's full-screen button (built without importing ``folium.plugins``) gives
    the page folium's ``Fullscreen`` plugin gives: the same script, links and options,
    and the cluster links are its ``MarkerCluster``'s."""
    import folium
    from folium.plugins import Fullscreen, MarkerCluster

    pages = []
    for make in (
        lambda: Fullscreen(title=titles[0], title_cancel=titles[1]),
        lambda: maps.fullscreen_button(*titles),
    ):
        fmap = folium.Map(location=[-7.0, 110.0], tiles=None, zoom_start=8)
        make().add_to(fmap)
        pages.append(maps.stable_ids(fmap, fmap.get_root().render()))
    assert pages[0] == pages[1]
    assert "L.control.fullscreen(" in pages[1] and "Control.FullScreen.min.js" in pages[1]
    assert list(maps._CLUSTER_JS) == MarkerCluster.default_js
    assert list(maps._CLUSTER_CSS) == MarkerCluster.default_css
    assert list(maps._FULLSCREEN_JS) == Fullscreen.default_js
    assert list(maps._FULLSCREEN_CSS) == Fullscreen.default_css
