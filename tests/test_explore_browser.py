"""The map's exploration in a real browser (headless Chromium via Playwright), offline:
the linked Moran scatterplot (brushing points outlines their villages, clicking a village
rings its point, no point outside the plot) and the significance filter (the areas it
colours are those Python finds from the same p-values)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from klastergeo.analysis.autocorrelation import fdr_adjust
from klastergeo.publish import explore, maps
from tests.worlds.browser import CHROMIUM
from tests.worlds.explore import explore_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]


@pytest.fixture(scope="module")
def world():
    return explore_world()


@pytest.fixture(scope="module")
def page_path(world, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from klastergeo.analysis import sentra

    areas, graph, table, counts = world
    found, _ = sentra.delineate(table, graph, areas)
    data = maps.MapInput(
        areas, table, found, explore=explore.ExploreInput({"firms": counts}, graph)
    )
    fmap = maps.build_map(data, maps.MapStyle(lang="en", tiles="none"))
    return maps.save_map(fmap, tmp_path_factory.mktemp("explore") / "map.html")


def _open(browser, path: Path, sector: str = "31"):
    page = browser.new_page(viewport={"width": 1200, "height": 850})
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("window.klastergeo && window.klastergeo.exploration !== undefined")
    page.select_option(".klastergeo-sector", sector)
    return page


def _reference(world, sector: str) -> tuple[np.ndarray, np.ndarray]:
    """Each area's standardised value (esda's Moran z) and its lag (libpysal), in the
    map's order."""
    import esda
    from libpysal.weights import lag_spatial

    areas, graph, _, counts = world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = graph.to_W()
        w.transform = "r"
        moran = esda.Moran(counts[sector].reindex(w.id_order).to_numpy(float), w, permutations=0)
        lag = lag_spatial(w, moran.z)
    order = pd.Index(w.id_order).get_indexer(areas.index)
    return moran.z[order], lag[order]


def _between(values: np.ndarray, near: float) -> float:
    """A cut between two neighbouring distinct values around ``near`` (no point on it)."""
    distinct = np.unique(values)
    k = int(np.searchsorted(distinct, near))
    return float((distinct[k - 1] + distinct[k]) / 2)


@pytest.mark.parametrize("sector", ["31", "10"])
def test_the_page_computes_esdas_values_and_lags(browser, page_path: Path, world, sector):
    """The page standardises the firm counts of its tooltips and lags them on the
    weights it holds: esda's z, libpysal's lag_spatial and Moran's I, to 1e-9."""
    import esda

    areas, graph, _, counts = world
    z, lag = _reference(world, sector)
    page = _open(browser, page_path, sector)
    try:
        points = page.evaluate(
            f"klastergeo.exploration.panel.points({sector!r}).decoded.map(d => [d.i, d.z, d.lag])"
        )
        slope = page.evaluate(f"klastergeo.exploration.panel.points({sector!r}).slope")
    finally:
        page.close()
    at = np.array([p[0] for p in points])
    np.testing.assert_array_equal(at, np.arange(len(areas)))
    np.testing.assert_allclose([p[1] for p in points], z, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([p[2] for p in points], lag, rtol=1e-9, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = graph.to_W()
        moran = esda.Moran(counts[sector].reindex(w.id_order).to_numpy(float), w, permutations=0)
    assert slope == pytest.approx(moran.I, rel=1e-9)


def test_brushing_points_outlines_their_villages(browser, page_path: Path, world, tmp_path):
    z, lag = _reference(world, "31")
    z_cut, lag_cut = _between(z, 1.0), _between(lag, 0.5)
    expected = set(np.flatnonzero((z > z_cut) & (lag > lag_cut)).tolist())
    page = _open(browser, page_path)
    try:
        # every point, the sentra's extreme ones included, inside the plot's frame
        frame = page.evaluate(
            "(() => { const r = document.querySelector('.klastergeo-scatter-plot rect');"
            " return [+r.getAttribute('x'), +r.getAttribute('y'),"
            " +r.getAttribute('width'), +r.getAttribute('height')]; })()"
        )
        dots = page.evaluate(
            "[...document.querySelectorAll('.klastergeo-scatter-plot g circle')]"
            ".map(c => [+c.getAttribute('cx'), +c.getAttribute('cy'), +c.dataset.i])"
        )
        box = page.locator(".klastergeo-scatter-plot").bounding_box()
        corner = page.evaluate(f"klastergeo.exploration.panel.toPixel({z_cut}, {float(lag.max())})")
        far = page.evaluate(f"klastergeo.exploration.panel.toPixel({float(z.max())}, {lag_cut})")
        page.mouse.move(box["x"] + corner[0], box["y"] + corner[1] - 4)
        page.mouse.down()
        page.mouse.move(box["x"] + far[0] + 4, box["y"] + far[1], steps=5)
        page.mouse.up()
        selected = page.evaluate("klastergeo.exploration.panel.selected")
        outlined = page.evaluate(
            "klastergeo.view.part.layers.map((l, i) => [i, l.options.weight, l.options.color])"
            ".filter(x => x[1] === 2.5 && x[2] === '#000000').map(x => x[0])"
        )
        count_text = page.inner_text(".klastergeo-scatter-count")
        page.screenshot(path=str(tmp_path / "brush.png"))
        print("KG", sorted(expected), selected, count_text, tmp_path)
        assert page.errors == []
    finally:
        page.close()
    x0, y0, width, height = frame
    assert len(dots) == len(z)
    for cx, cy, _ in dots:
        assert x0 <= cx <= x0 + width and y0 <= cy <= y0 + height
    assert set(selected) == expected and len(expected) >= 3
    assert set(outlined) == expected
    assert count_text.startswith(str(len(expected)))


def test_clicking_a_village_rings_its_point(browser, page_path: Path, world) -> None:
    areas = world[0]
    i = int(areas.index.get_loc("r6c6"))  # the sentra's village with the most firms
    page = _open(browser, page_path)
    try:
        # the village in the middle of the map, away from the controls, then a real click
        page.evaluate(
            f"(() => {{ const l = klastergeo.view.part.layers[{i}];"
            " l._map.setView(l.getBounds().getCenter(), 15, {animate: false}); })()"
        )
        point = page.evaluate(
            f"(() => {{ const l = klastergeo.view.part.layers[{i}];"
            " const p = l._map.latLngToContainerPoint(l.getBounds().getCenter());"
            " const r = l._map.getContainer().getBoundingClientRect();"
            " return [p.x + r.left, p.y + r.top]; })()"
        )
        page.mouse.click(point[0], point[1])
        marks = page.evaluate(
            "[...document.querySelectorAll('.klastergeo-scatter-mark')]"
            ".map(c => [+c.dataset.i, +c.getAttribute('cx'), +c.getAttribute('cy')])"
        )
        dot = page.evaluate(
            f"(() => {{ const c = document.querySelector("
            f"'.klastergeo-scatter-plot g circle[data-i=\"{i}\"]');"
            " return [+c.getAttribute('cx'), +c.getAttribute('cy')]; })()"
        )
        assert page.errors == []
    finally:
        page.close()
    assert [m[0] for m in marks] == [i]
    assert marks[0][1:] == pytest.approx(dot)


def _coloured(page) -> int:
    return page.evaluate(
        "(() => { let n = 0; for (let i = 0; i < klastergeo.view.count; i++) {"
        " if (klastergeo.view.colourOf(i)) n++; } return n; })()"
    )


@pytest.mark.parametrize(
    ("stat", "column"), [("spec", "spec_p"), ("gi", "gi_p"), ("lisa", "lisa_p_sim")]
)
def test_the_filter_colours_the_areas_python_finds(
    browser, page_path: Path, world, stat: str, column: str
) -> None:
    table = world[2]
    p = table.xs("31", level="sector")[column].to_numpy(dtype=float)
    p = p[np.isfinite(p)]
    counts = {}
    page = _open(browser, page_path)
    try:
        page.select_option(".klastergeo-stat", stat)
        as_run = _coloured(page)
        for level in ("0.05", "0.01", "0.001"):
            page.select_option(".klastergeo-level", level)
            for fdr in (False, True):
                page.set_checked(".klastergeo-fdr", fdr)
                counts[(float(level), fdr)] = _coloured(page)
        page.select_option(".klastergeo-level", "")
        back = _coloured(page)
        assert page.errors == []
    finally:
        page.close()
    print("KG", stat, as_run, counts)
    for (level, fdr), n in counts.items():
        assert n == int(((fdr_adjust(p) if fdr else p) <= level).sum()), (level, fdr)
    assert back == as_run
    assert counts[(0.05, False)] > counts[(0.01, True)]  # the filter changes something


def test_the_change_map_colours_emerging_hot_spots(browser, tmp_path: Path) -> None:
    from klastergeo.publish import change_map
    from tests.worlds.explore import emerging_world

    areas, sentra, lineages, emerging, periods = emerging_world()
    areas = areas.assign(name=[f"<img src=x onerror=window.__kg=1>{k}" for k in range(len(areas))])
    fmap = change_map.build_change_map(
        sentra, lineages, periods=periods, lang="en", tiles="none",
        areas=areas, emerging=emerging,
    )  # fmt: skip
    path = maps.save_map(fmap, tmp_path / "change.html")
    page = browser.new_page(viewport={"width": 1000, "height": 760})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("window.klastergeo && window.klastergeo.emerging")
    try:
        page.select_option(".klastergeo-emerging-sector", "31")
        fills = page.evaluate(
            "klastergeo.emerging.layer.getLayers().map(l => l.options.fill === false"
            " ? null : l.options.fillColor)"
        )
        legend = page.locator(".klastergeo-emerging-legend").inner_text()
        page.evaluate("klastergeo.emerging.layer.getLayers()[0].openTooltip()")
        tip = page.locator(".leaflet-tooltip").inner_text()
        markup = page.evaluate("document.querySelectorAll('.leaflet-tooltip img').length")
        page.screenshot(path=str(tmp_path / "emerging.png"))
        page.select_option(".klastergeo-emerging-sector", "10")
        fills_10 = page.evaluate(
            "klastergeo.emerging.layer.getLayers().filter(l => l.options.fill !== false).length"
        )
        assert page.errors == []
    finally:
        page.close()
    shown = emerging.xs("31", level="sector")["category"].sort_index()
    assert fills == [change_map.EMERGING_COLOURS[c] for c in shown]  # None: not drawn
    for category in shown.loc[shown != "no pattern"]:
        assert category in legend
    assert "no pattern" not in legend
    assert fills_10 == 1
    assert tip.startswith("<img src=x") and markup == 0  # an area's name is text


def test_the_colocation_layer_shows_a_pair_of_firms(browser, tmp_path: Path) -> None:
    from klastergeo.app.config import load_config
    from klastergeo.app.pipeline import colocated_firms
    from tests.worlds.explore import colocation_world
    from tests.worlds.lattice import lattice

    firms, pairs = colocation_world()
    firms = firms.assign(name="<img src=x onerror=window.__kg=1>UD")
    config = load_config(None, overrides={"colocation.permutations": 199})
    categories = colocated_firms.firm_colocation(config, pairs, firms)
    assert categories is not None
    areas = lattice(3, 3)
    index = pd.MultiIndex.from_product([areas.index, ["31"]], names=["area_code", "sector"])
    table = pd.DataFrame(
        {"n_firms": 1, "lq": 1.0, "gi_z": 0.0, "gi_bin": 0, "lisa_quadrant": 0}, index=index
    )
    fmap = maps.build_map(
        maps.MapInput(areas, table, areas.iloc[:0].assign(sector=[]), firms=firms,
                      colocation=explore.FirmColocation(categories)),
        maps.MapStyle(lang="en", tiles="none"),
    )  # fmt: skip
    path = maps.save_map(fmap, tmp_path / "map.html")
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("window.klastergeo && window.klastergeo.colocation")
    shown = {}
    try:
        page.hover(".leaflet-control-layers")
        page.locator(".leaflet-control-layers-overlays label", has_text="Co-location").click()
        for pair in ("31>16", "16>31"):
            page.select_option(".klastergeo-colocation-pair", pair)
            shown[pair] = page.evaluate(
                "klastergeo.colocation.group.getLayers().map(l => l.options.fillColor)"
            )
        page.select_option(".klastergeo-colocation-pair", "31>16")
        # the panel: in the top-right corner with the other controls, clear of the
        # map's middle, folded and unfolded by its button
        corner = page.evaluate(
            """() => {
              const panel = document.querySelector('.klastergeo-colocation');
              const r = panel.getBoundingClientRect();
              const m = document.querySelector('.leaflet-container').getBoundingClientRect();
              return { corner: !!panel.closest('.leaflet-top.leaflet-right'),
                       box: [r.left, r.top, r.right, r.bottom],
                       map: [m.left, m.top, m.right, m.bottom] };
            }"""
        )
        fold = page.locator(".klastergeo-colocation-fold")
        fold.click()
        folded = page.locator(".klastergeo-colocation-pair").is_visible()
        folded_box = page.locator(".klastergeo-colocation").bounding_box()
        fold.click()
        unfolded = page.locator(".klastergeo-colocation-pair").is_visible()
        page.evaluate(
            "klastergeo.colocation.group._map.fitBounds(klastergeo.colocation.group.getBounds())"
        )
        page.evaluate("klastergeo.colocation.group.getLayers()[0].openTooltip()")
        tip = page.locator(".leaflet-tooltip").inner_text()
        markup = page.evaluate("document.querySelectorAll('.leaflet-tooltip img').length")
        page.mouse.move(5, 790)
        page.screenshot(path=str(tmp_path / "colocation.png"))
        assert page.errors == []
    finally:
        page.close()
    colours = dict(zip((1, 2, 3), explore.COLOCATION_COLOURS, strict=True))
    for pair, fills in shown.items():
        codes = categories[pair].to_numpy()
        assert sorted(fills) == sorted(colours[c] for c in codes[codes > 0]), pair
    assert len(set(shown["31>16"])) == 3  # co-located, isolated and not significant firms
    left, top, right, bottom = corner["box"]
    map_left, map_top, map_right, map_bottom = corner["map"]
    middle = ((map_left + map_right) / 2, (map_top + map_bottom) / 2)
    assert corner["corner"], corner
    assert middle[0] < left and right <= map_right, corner  # the top-right quarter
    assert map_top <= top and bottom < middle[1], corner
    assert not folded and unfolded
    assert folded_box is not None and folded_box["height"] < 40  # its title alone
    assert tip.startswith("<img src=x") and markup == 0  # a firm's name is text


def test_the_page_adjusts_p_values_as_fdr_adjust(browser, page_path: Path) -> None:
    """The page's Benjamini-Hochberg (``klastergeo.bhAdjust``) on p-values with ties,
    a count of tests above the values shipped (as the page has them), against
    :func:`fdr_adjust` of the whole family."""
    rng = np.random.default_rng(7)
    shipped = np.concatenate([rng.integers(1, 50, 40) / 1000, [0.001, 0.001, 0.05, 0.05]])
    family = np.concatenate([shipped, rng.uniform(0.05, 1, 160)])  # never shipped: > 0.05
    page = _open(browser, page_path)
    try:
        q = page.evaluate(f"klastergeo.bhAdjust({shipped.tolist()}, {len(family)})")
    finally:
        page.close()
    np.testing.assert_allclose(q, fdr_adjust(family)[: len(shipped)], rtol=1e-12)


def test_clicking_a_point_selects_its_village(browser, page_path: Path, world) -> None:
    z, lag = _reference(world, "31")
    i = int(np.argmax(z))  # the sentra's extreme village
    page = _open(browser, page_path)
    try:
        at = page.evaluate(f"klastergeo.exploration.panel.toPixel({z[i]}, {lag[i]})")
        box = page.locator(".klastergeo-scatter-plot").bounding_box()
        page.mouse.click(box["x"] + at[0], box["y"] + at[1])
        selected = page.evaluate("klastergeo.exploration.panel.selected")
        weight = page.evaluate(f"klastergeo.view.part.layers[{i}].options.weight")
        page.click(".klastergeo-scatter-zoom")
        shown = page.evaluate(
            f"klastergeo.view.layer._map.getBounds().contains("
            f"klastergeo.view.part.layers[{i}].getBounds())"
        )
    finally:
        page.close()
    assert selected == [i] and weight == 2.5 and shown


def test_a_statistic_without_raw_p_values_stays_as_computed(browser, world, tmp_path) -> None:
    """Gi* decided on FDR-adjusted analytical p-values has no raw p-values in the
    table: the filter leaves its classes and says so."""
    from klastergeo.analysis import sentra

    areas, graph, table, counts = world
    found, _ = sentra.delineate(table, graph, areas)
    data = maps.MapInput(
        areas,
        table,
        found,
        explore=explore.ExploreInput({"firms": counts}, graph, {"lisa": "lisa_p_sim"}),
    )
    path = maps.save_map(
        maps.build_map(data, maps.MapStyle(lang="en", tiles="none")), tmp_path / "map.html"
    )
    page = _open(browser, path)
    try:
        page.select_option(".klastergeo-stat", "gi")
        before = _coloured(page)
        page.select_option(".klastergeo-level", "0.001")
        after = _coloured(page)
        note = page.inner_text(".klastergeo-filter-note")
        page.select_option(".klastergeo-stat", "lisa")
        lisa_note = page.inner_text(".klastergeo-filter-note")
        assert page.errors == []
    finally:
        page.close()
    assert after == before > 0
    assert "as computed" in note and lisa_note == ""


def test_the_scatterplot_starts_folded_on_a_small_map(browser, page_path: Path) -> None:
    """In a frame the size of the report's (560 px high) the plot would cover half the
    map: it starts folded and one click opens it; on a large map it starts open."""
    small = browser.new_page(viewport={"width": 900, "height": 560})
    try:
        small.goto(page_path.as_uri(), wait_until="load")
        small.wait_for_function("window.klastergeo && window.klastergeo.exploration !== undefined")
        assert not small.locator(".klastergeo-scatter-plot").is_visible()
        small.click(".klastergeo-scatter-fold")
        assert small.locator(".klastergeo-scatter-plot").is_visible()
    finally:
        small.close()
    large = _open(browser, page_path)
    try:
        assert large.locator(".klastergeo-scatter-plot").is_visible()
    finally:
        large.close()
