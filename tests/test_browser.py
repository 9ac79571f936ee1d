"""The saved map in a real browser (headless Chromium via Playwright), offline.

Chromium comes from Debian's package (``.ci/run`` installs it); Playwright never downloads
a browser here. The page must work from ``file://`` with no network.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from klastergeo.io import boundaries
from klastergeo.publish import maps
from tests.worlds.browser import CHROMIUM
from tests.worlds.lattice import related_firms

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]


@pytest.fixture(scope="module")
def page_path(full_map, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return maps.save_map(full_map, tmp_path_factory.mktemp("map") / "map.html")


def _open(browser, path: Path):
    """A page on ``path`` (offline), with console errors and requests recorded."""
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.errors = []
    page.requests = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("window.klastergeo && window.klastergeo.view !== undefined")
    return page


def _layers(page) -> None:
    """Open the collapsed layer control (it expands under the pointer)."""
    page.hover(".leaflet-control-layers")
    page.wait_for_selector(".leaflet-control-layers-expanded")


def test_map_loads_offline_without_errors(browser, page_path: Path, map_world) -> None:
    areas, firms_frame = map_world[0], map_world[3]
    page = _open(browser, page_path)
    try:
        count = page.evaluate("klastergeo.view.count")
        drawn = page.evaluate("klastergeo.view.layer.getLayers().length")
        collapsed = page.locator(".leaflet-control-layers-expanded").count()
        _layers(page)
        overlays = page.locator(".leaflet-control-layers-overlays label").count()
        sentra = page.evaluate("klastergeo.sentraLayer.getLayers().length")
        page.locator(".leaflet-control-layers-overlays label", has_text="Firms").click()
        page.wait_for_function("window.klastergeo.firmCount !== undefined")
        firms = [page.evaluate("klastergeo.firmCount")]
        page.locator(".leaflet-control-layers-overlays label", has_text="heat map").click()
        page.wait_for_function("window.klastergeo.heatCount !== undefined")
        heat = [page.evaluate("klastergeo.heatCount")]
        heat_canvas = page.locator("canvas.leaflet-heatmap-layer").count()
        # the firms follow the sector selector: markers and heat map alike
        page.select_option(".klastergeo-sector", "10")
        firms.append(page.evaluate("klastergeo.firmCount"))
        heat.append(page.evaluate("klastergeo.heatCount"))
        assert page.errors == []
    finally:
        page.close()
    assert [u for u in page.requests if not u.startswith(("file:", "data:"))] == []
    assert count == drawn == len(areas)  # one shared geometry for every sector and statistic
    assert collapsed == 0  # the layer control does not cover the map until asked
    assert sentra == 1
    assert overlays == 4  # boundaries, sentra, firms as points and as a heat map
    by_sector = firms_frame["sector"].value_counts()
    assert firms == heat == [by_sector["31"], by_sector["10"]] == [20, 3]
    assert heat_canvas == 1


def test_area_tooltip_shows_the_numbers(browser, page_path: Path, map_world) -> None:
    """Hovering an area shows its name, the sector's firms, LQ with its interval, and
    the statistic's class with z and p, from the table."""
    _, table, _, _ = map_world
    page = _open(browser, page_path)
    try:
        point = page.evaluate(
            """() => {
              const map = Object.values(window).find(v => v instanceof L.Map);
              map.removeLayer(klastergeo.sentraLayer);  // the sentra would take the pointer
              const area = klastergeo.view.layer.getLayers()
                .find(l => l.feature.properties.i === 20);
              map.setView(area.getBounds().getCenter(), 13, { animate: false });
              const p = map.latLngToContainerPoint(area.getBounds().getCenter());
              const box = map.getContainer().getBoundingClientRect();
              return [p.x + box.left, p.y + box.top];
            }"""
        )
        page.wait_for_timeout(300)
        page.mouse.move(point[0] + 3, point[1] + 3)
        page.wait_for_selector(".leaflet-tooltip")
        tip = page.locator(".leaflet-tooltip").inner_text()
        page.select_option(".klastergeo-stat", "gi")  # an open tooltip follows the view
        gi_tip = page.locator(".leaflet-tooltip").inner_text()
        assert page.errors == []
    finally:
        page.close()
    row = table.loc[("r2c2", "31")]
    assert "r2c2" in tip and f"Firms\t{int(row['n_firms'])}" in tip
    assert f"{row['lq']:.1f} ({row['lq_low']:.1f} - {row['lq_high']:.1f})" in tip
    assert f"Hot spot 99 % (z = {row['spec_z']:.1f}; p < 0.001)" in tip
    assert f"(z = {row['gi_z']:.1f}; p " in gi_tip and "Density of firms" in gi_tip


def test_switching_sector_and_statistic_restyles_the_areas(browser, page_path: Path) -> None:
    page = _open(browser, page_path)
    try:
        # r2c2 (row-major index 20) is the furniture sentra's core: a 99 % hot spot in 31
        assert page.evaluate("klastergeo.view.state.sector") == "31"
        hot = page.evaluate("klastergeo.view.colourOf(20)")
        before = page.screenshot()
        page.select_option(".klastergeo-sector", "10")
        food = page.evaluate("klastergeo.view.colourOf(20)")
        after = page.screenshot()
        page.select_option(".klastergeo-stat", "lq")
        lq = page.evaluate("klastergeo.view.colourOf(20)")
        legend = page.locator(".klastergeo-legend").inner_text()
        assert page.errors == []
    finally:
        page.close()
    assert hot == maps.GISTAR_COLOURS[3]
    assert food != hot
    assert before != after  # the canvas was redrawn
    assert lq is None  # r2c2 has 2 food firms among 62: LQ well below 1, not drawn
    assert "Location quotient (LQ): 10" in legend


def _runs_of(rng, n: int, choices: list[int]) -> list[int]:
    """``n`` codes in runs of 1 to 30 (long runs of the first choice, as a page has)."""
    out: list[int] = []
    while len(out) < n:
        code = choices[0] if rng.random() < 0.5 else int(rng.choice(choices))
        out += [code] * int(rng.integers(1, 31))
    return out[:n]


def test_the_page_decodes_every_class_as_the_table(browser, map_world, tmp_path) -> None:
    """Classes written in runs (``maps.encode_codes``) are decoded by the page: every
    area's class under every statistic, sector and measure is the table's."""
    import numpy as np

    areas, table, found, _ = map_world
    rng = np.random.default_rng(3)
    n = len(table)
    planted = table.assign(
        spec_bin=_runs_of(rng, n, [0, -3, -2, -1, 1, 2, 3]),
        gi_bin=_runs_of(rng, n, [0, 3, -3, 2]),
        lisa_quadrant=_runs_of(rng, n, [0, 1, 2, 3, 4]),
        p_cluster=np.array(_runs_of(rng, n, [0, 1, 2, 3, 4])) * 0.2 + 0.05,
    )
    workers = planted.assign(gi_bin=_runs_of(rng, n, [0, -1, 1, 3]))
    fmap = maps.build_map(
        maps.MapInput(areas, planted, found, measures={"workers": workers}),
        maps.MapStyle(lang="en", tiles="none"),
    )
    path = maps.save_map(fmap, tmp_path / "map.html")
    shown: dict[tuple[str, str, str], list[int]] = {}
    page = _open(browser, path)
    try:
        for measure in ("firms", "workers"):
            page.select_option(".klastergeo-measure", measure)
            for sector in ("10", "31"):
                for stat in ("spec", "gi", "lisa", "prob"):
                    shown[(measure, sector, stat)] = page.evaluate(
                        f"(() => {{ const v = klastergeo.view; v.state.sector = {sector!r};"
                        f" return Array.from({{length: v.count}}, (_, i) => v.codeOf({stat!r}, i));"
                        " })()"
                    )
        assert page.errors == []
    finally:
        page.close()
    for (measure, sector, stat), codes in shown.items():
        rows = (workers if measure == "workers" else planted).xs(sector, level="sector")
        rows = rows.reindex(areas.index)
        expected = {
            "spec": rows["spec_bin"] + 3,
            "gi": rows["gi_bin"] + 3,
            "lisa": rows["lisa_quadrant"],
            "prob": maps._classify(rows["p_cluster"], maps.P_BREAKS),
        }[stat]
        assert codes == np.asarray(expected).tolist(), (measure, sector, stat)
    assert shown[("firms", "31", "gi")] != shown[("workers", "31", "gi")]


def test_sentra_popup_search_and_screenshot(browser, page_path: Path, map_world) -> None:
    _, _, found, _ = map_world
    page = _open(browser, page_path)
    try:
        point = page.evaluate(
            """() => {
              const map = Object.values(window).find(v => v instanceof L.Map);
              const sentra = klastergeo.sentraLayer;
              const p = map.latLngToContainerPoint(sentra.getBounds().getCenter());
              const box = map.getContainer().getBoundingClientRect();
              return [p.x + box.left, p.y + box.top];
            }"""
        )
        page.mouse.click(point[0], point[1])
        page.wait_for_selector(".leaflet-popup-content")
        popup = page.locator(".leaflet-popup-content").inner_text()
        zoom_before = page.evaluate("Object.values(window).find(v => v instanceof L.Map).getZoom()")
        page.fill(".klastergeo-search", "r7c7")
        page.dispatch_event(".klastergeo-search", "change")
        page.wait_for_timeout(400)
        zoom_after = page.evaluate("Object.values(window).find(v => v instanceof L.Map).getZoom()")
        shot = page.screenshot()
        # partial, any case: typing suggests, Enter finds; a name that is not there says so
        page.fill(".klastergeo-search", "R5C")
        page.dispatch_event(".klastergeo-search", "input")
        suggested = page.evaluate(
            "Array.from(document.querySelectorAll('#klastergeo-names option')).map(o => o.value)"
        )
        page.fill(".klastergeo-search", "R5C4")
        page.press(".klastergeo-search", "Enter")
        page.wait_for_function("klastergeo.view.selected !== null")
        selected = page.evaluate("klastergeo.view.selected")
        page.fill(".klastergeo-search", "Atlantis")
        page.press(".klastergeo-search", "Enter")
        missing = page.locator(".klastergeo-notfound").inner_text()
        assert page.errors == []
    finally:
        page.close()
    assert found.index[0] in popup and found.iloc[0]["name"] in popup
    assert zoom_after > zoom_before
    assert suggested and all(s.lower().startswith("r5c") for s in suggested)
    assert selected == "r5c4"
    assert missing == "not found"
    image = pytest.importorskip("PIL.Image")
    import io

    colours = image.open(io.BytesIO(shot)).convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # not blank


def test_a_sentra_popup_shows_the_firms_of_a_related_industry(
    browser, map_world, tmp_path: Path
) -> None:
    """The popup's button per related industry puts that industry's firms around the
    sentra on the map (their count, their names as text); a page without firm data has
    no buttons."""
    areas, table, found, firms = map_world
    related = related_firms(found)
    built = maps.build_map(
        maps.MapInput(areas, table, found, firms=firms, related_firms=related),
        maps.MapStyle(lang="en", tiles="none"),
    )
    path = maps.save_map(built, tmp_path / "map.html")
    bare = tmp_path / "bare.html"
    bare.write_text(maps.without_firms(path.read_text(encoding="utf-8")), encoding="utf-8")
    popup = """() => {
      const layer = klastergeo.sentraAll[0];
      layer.openPopup(layer.getBounds().getCenter());
    }"""
    page = _open(browser, path)
    try:
        page.evaluate(popup)
        page.wait_for_selector(".klastergeo-related")
        buttons = page.locator(".klastergeo-related").all_inner_texts()
        page.locator(".klastergeo-related", has_text="Wood").click()
        shown = page.evaluate("klastergeo.relatedShown")
        drawn = page.evaluate("klastergeo.layerGroups.related.getLayers().length")
        tips = page.evaluate(
            "klastergeo.layerGroups.related.getLayers().map(m => m.getTooltip().getContent()"
            ".textContent)"
        )
        on_map = page.evaluate(
            "Object.values(window).find(v => v instanceof L.Map)"
            ".hasLayer(klastergeo.layerGroups.related)"
        )
        page.wait_for_selector(".leaflet-popup-content", state="detached")  # faded out
        note = page.locator(".klastergeo-related-note").inner_text()
        open_popups = page.locator(".leaflet-popup-content").count()
        bold = page.locator(".leaflet-tooltip b").count()
        assert page.errors == []
    finally:
        page.close()
    page = _open(browser, bare)
    try:
        page.evaluate(popup)
        page.wait_for_selector(".leaflet-popup-content")
        none = page.locator(".klastergeo-related").count()
        assert page.errors == []
    finally:
        page.close()
    assert buttons == ["16 Wood, bamboo and rattan products (3)", "46 Wholesale trade (2)"]
    assert shown["count"] == drawn == 3 and shown["sector"] == "16" and on_map
    assert sorted(tips) == sorted(
        ["</script><b>CV Kayu</b> (16 Wood, bamboo and rattan products)",
         "16 Wood, bamboo and rattan products",
         "CV Jati (16 Wood, bamboo and rattan products)"]
    )  # fmt: skip
    assert open_popups == 0 and bold == 0
    sid = str(found.index[0])
    assert (
        note
        == f"Firms of a related industry: 16 Wood, bamboo and rattan products (3), sentra {sid}"
    )
    assert none == 0


def test_indonesian_page(browser, map_world, tmp_path: Path) -> None:
    areas, table, found, _ = map_world
    path = maps.save_map(
        maps.build_map(maps.MapInput(areas, table, found), maps.MapStyle(lang="id", tiles="none")),
        tmp_path / "peta.html",
    )
    page = _open(browser, path)
    try:
        control = page.locator(".klastergeo-control").inner_text()
        legend = page.locator(".klastergeo-legend").inner_text()
        titles = [
            page.get_attribute(selector, "title")
            for selector in (
                ".leaflet-control-zoom-in",
                ".leaflet-control-layers-toggle",
                ".leaflet-control-zoom-fullscreen",
            )
        ]
        # only the selected sector's sentra are drawn: the furniture sentra, then none
        drawn = [page.evaluate("klastergeo.sentraLayer.getLayers().length")]
        page.select_option(".klastergeo-sector", "10")
        drawn.append(page.evaluate("klastergeo.sentraLayer.getLayers().length"))
        page.select_option(".klastergeo-stat", "lq")
        lq_legend = page.locator(".klastergeo-legend").inner_html()
        assert page.errors == []
    finally:
        page.close()
    assert titles == ["Perbesar", "Lapisan", "Layar penuh"]  # Leaflet's controls too
    assert "Sektor" in control and "Statistik" in control
    assert "31 Industri furnitur" in control
    assert "Spesialisasi (titik panas): 31 Industri furnitur" in legend  # the default view
    assert drawn == [len(found), 0]
    # every swatch is labelled, "Sentra" once, the areas not drawn are named
    assert legend.count("Sentra") == 1 and "tidak signifikan" in legend
    assert "mapclassify" not in lq_legend
    assert lq_legend.count("klastergeo-swatch") == 5  # sentra + LQ 1-2, 2-5, 5-10, >= 10
    assert "</span></div>" not in lq_legend  # no swatch without its label


def test_many_firms_draw_a_heat_map_of_grid_counts(browser, map_world, tmp_path: Path) -> None:
    """Above ``max_firms`` the page has a heat-map overlay of grid counts and no markers."""
    import geopandas as gpd
    import numpy as np

    areas, table, found, _ = map_world
    rng = np.random.default_rng(9)
    lon, lat = rng.uniform(110.0, 110.3, 3_000), rng.uniform(-7.4, -7.2, 3_000)
    firms = gpd.GeoDataFrame(
        {"sector": ["31"] * len(lon)}, geometry=gpd.points_from_xy(lon, lat), crs=4326
    )
    fmap = maps.build_map(
        maps.MapInput(areas, table, found, firms=firms),
        maps.MapStyle(tiles="none", lang="en", max_firms=10),
    )
    path = maps.save_map(fmap, tmp_path / "grid.html")
    page = _open(browser, path)
    try:
        _layers(page)
        labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        assert not any(label.strip() == "Firms" for label in labels)
        page.locator(".leaflet-control-layers-overlays label", has_text="heat map").click()
        page.wait_for_function("window.klastergeo.heatCount !== undefined")
        cells = page.evaluate("klastergeo.heatCount")
        assert page.locator("canvas.leaflet-heatmap-layer").count() == 1
        assert page.evaluate("window.klastergeo.firmCount === undefined")
        assert page.errors == []
    finally:
        page.close()
    assert 1 < cells < 3_000


@pytest.fixture
def http_folder(national_page: Path):
    """The national map's folder served by ``http.server`` on 127.0.0.1 (a free port);
    yields the page's URL."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # the test's output stays clean
            pass

    handler = functools.partial(Quiet, directory=str(national_page.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{national_page.name}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _open_url(browser, url: str, received: list[int]):
    """A page on ``url`` that records errors, requests and response body sizes."""
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.errors = []
    page.requests = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("requestfinished", lambda r: received.append(r.sizes()["responseBodySize"]))
    page.goto(url, wait_until="load")
    page.wait_for_function("window.klastergeo && window.klastergeo.view !== undefined")
    return page


def _search(page, text: str) -> dict:
    """Type ``text`` into the search box and press Enter (a native change event: one,
    not another when the box loses focus); the village selected."""
    page.fill(".klastergeo-search", text)
    page.press(".klastergeo-search", "Enter")
    page.wait_for_function("klastergeo.view.selected !== null")
    return page.evaluate("klastergeo.view.selected")


def test_national_map_over_http(
    browser,
    http_folder: str,
    national_world,
    data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The national village map from a local http server: at most 10 MB at open, the
    38 provinces drawn and no village loaded; a village of a province not loaded is
    found by name, its province loaded and the village shown; clicking a province and
    zooming into another load their villages."""
    villages, _, _, parents, _ = national_world
    papua = villages.index[villages.index.str.startswith("95.")][7]
    wanted = f"{villages.loc[papua, 'name']}, {parents[papua]}"
    shots = tmp_path_factory.mktemp("shots")
    received: list[int] = []
    page = _open_url(browser, http_folder, received)
    try:
        opened = sum(received)
        provinces = page.evaluate("klastergeo.view.layer.getLayers().length")
        loaded_at_open = page.evaluate("klastergeo.view.loaded.slice()")
        page.screenshot(path=str(shots / "national.png"))
        page.fill(".klastergeo-search", wanted[:6])
        page.dispatch_event(".klastergeo-search", "input")
        options = page.evaluate(
            "Array.from(document.querySelectorAll('#klastergeo-names option')).map(o => o.value)"
        )
        selected = _search(page, wanted)
        tooltip = page.locator(".leaflet-tooltip").inner_text()
        papua_drawn = page.evaluate(
            "klastergeo.view.parts[klastergeo.view.loaded.indexOf('95') >= 0 ? "
            "klastergeo.provinceIndex('95') : -1].layer.getLayers().length"
        )
        page.screenshot(path=str(shots / "province.png"))
        # a click on Jawa Tengah (its centre, at the national view) loads its villages
        page.evaluate("klastergeo.view.open(klastergeo.provinceIndex('33'), true)")
        page.wait_for_function("klastergeo.view.loaded.indexOf('33') >= 0")
        map_js = "Object.values(window).find(v => v instanceof L.Map)"
        page.evaluate(f"{map_js}.setView([-7.5, 110.2], 6, {{animate: false}})")
        page.wait_for_timeout(300)
        point = page.evaluate(
            f"""() => {{
              const map = {map_js};
              const p = map.latLngToContainerPoint([-8.4, 115.2]);
              const box = map.getContainer().getBoundingClientRect();
              return [p.x + box.left, p.y + box.top];
            }}"""
        )
        page.mouse.click(point[0], point[1])  # Bali (51), not loaded yet
        page.wait_for_function("klastergeo.view.loaded.indexOf('51') >= 0")
        # zooming into Jambi (15) loads it by itself
        page.evaluate(f"{map_js}.setView([-1.6, 103.6], 10, {{animate: false}})")
        page.wait_for_function("klastergeo.view.loaded.indexOf('15') >= 0")
        counts = page.evaluate(
            "['33', '51', '15'].map(c => klastergeo.view.parts[klastergeo.provinceIndex(c)]"
            ".layer.getLayers().length)"
        )
        page.select_option(".klastergeo-sector", "10")
        assert page.errors == []
    finally:
        page.close()
    assert opened <= 10_000_000, opened
    assert opened > 1_000_000  # the page, its scripts and the search index were counted
    assert [u for u in page.requests if not u.startswith(("http://127.0.0.1:", "data:"))] == []
    assert provinces == 38 and loaded_at_open == []
    assert any(o.startswith(villages.loc[papua, "name"]) for o in options)
    # the list names the kabupaten and the province too (villages of one name told apart)
    _, _, _, _, provinces = national_world
    regencies = boundaries.load_names("kabupaten", source=data_dir)
    kabupaten = regencies[papua.rsplit(".", 2)[0]]
    assert f"{wanted}, {kabupaten} ({provinces.loc['95', 'name']})" in options
    assert selected["province"] == "95" and selected["name"] == wanted
    assert villages.loc[papua, "name"] in tooltip
    prefix = villages.index.str[:2]
    assert papua_drawn == (prefix == "95").sum()
    assert counts == [(prefix == c).sum() for c in ("33", "51", "15")]


def test_split_map_opens_from_a_file(browser, national_page: Path, national_world) -> None:
    """From ``file://`` the province scripts load through script tags: a search loads
    its province."""
    villages, _, _, parents, _ = national_world
    code = villages.index[villages.index.str.startswith("33.")][0]
    page = _open(browser, national_page)
    try:
        selected = _search(page, f"{villages.loc[code, 'name']}, {parents[code]}")
        # provinces whose box meets the view of the village are loaded too; the loaded
        # ones and those in view read together (a province whose script arrives between
        # two reads made them disagree)
        loaded, in_view = page.evaluate(
            """() => {
              const map = Object.values(window).find(v => v instanceof L.Map);
              const view = map.getBounds();
              const loaded = klastergeo.view.loaded.slice();
              return [loaded, loaded.filter(c => view.intersects(
                klastergeo.view.layer.getLayers()[klastergeo.provinceIndex(c)].getBounds()))];
            }"""
        )
        colour = page.evaluate("klastergeo.view.colourOf(0, '33')")
        assert page.errors == []
    finally:
        page.close()
    assert [u for u in page.requests if not u.startswith(("file:", "data:"))] == []
    assert selected == {
        "province": "33",
        "index": 0,
        "name": f"{villages.loc[code, 'name']}, {parents[code]}",
    }
    # the searched province first, and in the final view (one crossed by the animated
    # move to the village may be loaded too)
    assert loaded[0] == "33" and "33" in in_view
    assert colour is None or colour.startswith("#")


def test_the_printed_report_has_every_figure(browser, tmp_path: Path) -> None:
    """Chromium's print to PDF (A4) of a run's report.html holds every figure: none is
    left out by lazy loading. The PDF's image objects are counted."""
    import re

    from typer.testing import CliRunner

    from klastergeo.app.cli import app
    from tests.worlds.lattice import custom_study, lattice_args

    registry = custom_study(
        tmp_path, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=2
    )
    registry.to_csv(tmp_path / "firms.csv", index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        lattice_args("run", tmp_path, out, "--permutations", "0", "--tiles", "none"),
    )
    assert result.exit_code == 0, result.output
    figures = sorted((out / "figures").glob("*.png"))
    assert len(figures) >= 4  # specialisation, density, LISA and Moran of the sector
    page = browser.new_page()
    try:
        page.goto((out / "report.html").as_uri(), wait_until="load")
        pdf = page.pdf(format="A4", print_background=True)
    finally:
        page.close()
    images = len(re.findall(rb"/Subtype\s*/Image", pdf))
    assert images >= len(figures), (images, len(figures))
    assert str(tmp_path).encode() not in pdf  # no machine path in what gets printed


def test_the_change_map_switches_periods(browser, tmp_path: Path) -> None:
    """A multi-period run's map: the change view first, then each period's sentra; the
    legend names every trend; popups are text."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from klastergeo.analysis import dynamics
    from klastergeo.publish import change_map

    box = shapely.box
    sentra = gpd.GeoDataFrame(
        {
            "period": ["2019", "2023", "2023"],
            "sentra_id": ["25-01", "25-01", "31-01"],
            "sector": ["25", "25", "31"],
            "name": ["Cepogo <b>", "Cepogo <b>", "Trangsan"],
            "area_codes": ["a;b", "a;b;c", "x"],
            "n_firms": [100, 180, 40],
        },
        geometry=[box(110.5, -7.5, 110.6, -7.4), box(110.5, -7.5, 110.65, -7.4),
                  box(110.8, -7.6, 110.9, -7.5)],
        crs=4326,
    )  # fmt: skip
    lineages, _ = dynamics.lineages(sentra, periods=["2019", "2023"])
    lineage = dynamics.lineage_of(lineages, ["2019", "2023"])
    keys = pd.MultiIndex.from_arrays([sentra["period"], sentra["sentra_id"]])
    sentra["lineage_id"] = lineage.reindex(keys).to_numpy()
    fmap = change_map.build_change_map(
        sentra, lineages, periods=["2019", "2023"], lang="en", tiles="none"
    )
    path = maps.save_map(fmap, tmp_path / "change.html")
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("window.klastergeo && window.klastergeo.changeShown")
    try:
        shown = [page.evaluate("klastergeo.changeShown")]
        legend = page.locator(".klastergeo-legend").inner_text()
        page.select_option(".klastergeo-period", "2019")
        shown.append(page.evaluate("klastergeo.changeShown"))
        assert page.errors == []
    finally:
        page.close()
    assert shown == ["change", "2019"]
    for word in ("growing", "new", "declining", "gone", "split", "merged", "stable"):
        assert word in legend
