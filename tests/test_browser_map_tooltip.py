"""An Indonesian run's map in a real browser (headless Chromium, offline), over boundaries
with two villages of one name in different kecamatan (:mod:`tests.worlds.twin_villages`):
the tooltip gives every number of the area (firms, workers, output, LQ with its interval,
the class with z and p, the area's totals) as ``areas.parquet`` has them; every area is
outlined; the scale bar is metric; the title names the regency; a search lists both
villages with their parents and the one chosen stays outlined."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.worlds import twin_villages as world
from tests.worlds.browser import CHROMIUM
from tests.worlds.language import english

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]

_MAP = "Object.values(window).find(v => v instanceof L.Map)"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The world's run (``--lang id``, no tiles) and its ``areas.parquet``."""
    from typer.testing import CliRunner

    from klastergeo.app.cli import app

    folder = tmp_path_factory.mktemp("twins")
    villages = world.write_boundaries(folder / "boundaries")
    world.registry(villages).to_csv(folder / "firms.csv", index=False)
    out = folder / "out"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--records",
            str(folder / "firms.csv"),
            "--boundaries",
            str(folder / "boundaries"),
            "--area",
            "99.01",
            "--level",
            "desa",
            "--out",
            str(out),
            "--permutations",
            "0",
            "--tiles",
            "none",
            "--lang",
            "id",
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / "areas.parquet").set_index(["area_code", "sector"])
    return out, table


def _id(x: float, digits: int) -> str:
    """A number as Indonesian writes it (1.234,5): written here, not by klastergeo."""
    return f"{x:,.{digits}f}".translate(str.maketrans(",.", ".,"))


def _open(browser, out: Path):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.errors = []
    page.requests = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto((out / "map.html").as_uri(), wait_until="load")
    page.wait_for_function("window.klastergeo && window.klastergeo.view !== undefined")
    return page


def _position(page, name: str) -> int:
    """The page's position of the area whose tooltip title is ``name``."""
    return page.evaluate(
        """(name) => {
          const v = klastergeo.view;
          for (let i = 0; i < v.count; i += 1) { if (v.part.names(i) === name) return i; }
          return -1;
        }""",
        name,
    )


def _hover(page, i: int) -> str:
    """The tooltip's text over area ``i`` (the sentra layer removed: it takes the
    pointer)."""
    point = page.evaluate(
        f"""(i) => {{
          const map = {_MAP};
          if (map.hasLayer(klastergeo.sentraLayer)) map.removeLayer(klastergeo.sentraLayer);
          map.eachLayer(l => {{ if (l.closeTooltip) l.closeTooltip(); }});
          const area = klastergeo.view.part.layers[i];
          map.setView(area.getBounds().getCenter(), 15, {{ animate: false }});
          const p = map.latLngToContainerPoint(area.getBounds().getCenter());
          const box = map.getContainer().getBoundingClientRect();
          return [p.x + box.left, p.y + box.top];
        }}""",
        i,
    )
    page.wait_for_timeout(200)
    page.mouse.move(point[0] + 3, point[1] + 3)
    page.wait_for_selector(".leaflet-tooltip")
    return page.locator(".leaflet-tooltip").inner_text()


def _code(cell: str) -> str:
    return world.village_codes(world.lattice(6, 6))[cell]


def test_the_tooltip_gives_every_number_of_the_area(browser, run) -> None:
    out, table = run
    page = _open(browser, out)
    try:
        page.select_option(".klastergeo-sector", "10")
        twin = _hover(page, _position(page, f"{world.TWIN}, Timur"))
        both = _hover(page, _position(page, "Desa R0C0, Barat"))
        lone = _hover(page, _position(page, f"Desa {world.LONE_CELL.upper()}, Barat"))
        # the panels a tooltip could pass under are faded while it is open, not after
        faded = "() => getComputedStyle(document.querySelector('.klastergeo-legend')).opacity"
        page.wait_for_timeout(300)
        assert float(page.evaluate(faded)) < 0.5
        page.mouse.move(5, 700)  # off the areas: the tooltip closes
        page.wait_for_timeout(300)
        assert float(page.evaluate(faded)) == 1.0
        assert page.errors == []
    finally:
        page.close()
    assert [u for u in page.requests if not u.startswith(("file:", "data:"))] == []
    row = table.loc[(_code("r4c4"), "10")]
    lines = twin.splitlines()
    assert f"Jumlah usaha\t{int(row['n_firms'])}" in lines
    assert f"Tenaga kerja\t{_id(row['workers'], 0)}" in lines
    assert f"Nilai produksi (Rp juta)\t{_id(row['output'], 1)}" in lines
    lq = f"{_id(row['lq'], 1)} ({_id(row['lq_low'], 1)} - {_id(row['lq_high'], 1)})"
    assert f"LQ (selang 95%)\t{lq}" in lines
    assert row["spec_bin"] == 3 and row["spec_p"] < 0.001  # the world's planted hot spot
    assert f"Titik panas 99 % (z = {_id(row['spec_z'], 1)}; p < 0,001)" in twin
    # the area's totals over every sector: r0c0 has food and furniture firms
    cells = table.loc[_code("r0c0")]
    assert len(cells) == 2 and cells["workers"].notna().all() and cells["output"].notna().all()
    totals = both.split("Semua sektor di wilayah ini")[1].splitlines()
    assert f"Jumlah usaha\t{int(cells['n_firms'].sum())}" in totals
    assert f"Tenaga kerja\t{_id(cells['workers'].sum(), 0)}" in totals
    assert f"Nilai produksi (Rp juta)\t{_id(cells['output'].sum(), 1)}" in totals
    # one firm alone: its sums are confidential, in the sector and in the totals, never 0
    alone = table.loc[(_code(world.LONE_CELL), "10")]
    assert alone["n_firms"] == 1 and pd.isna(alone["workers"]) and alone["workers_flag"]
    hidden = "dirahasiakan (kerahasiaan usaha)"
    assert lone.count(f"Tenaga kerja\t{hidden}") == 2
    assert lone.count(f"Nilai produksi (Rp juta)\t{hidden}") == 2
    assert "Tenaga kerja\t0" not in lone
    for text in (twin, both, lone):
        assert english(text) == set(), text


def test_outlines_scale_title_and_search(browser, run) -> None:
    out, table = run
    n_areas = table.index.get_level_values("area_code").nunique()
    page = _open(browser, out)
    try:
        # an area without colour keeps a faint outline: every area's layer strokes
        strokes = page.evaluate(
            """klastergeo.view.part.layers.map(l => {
                 const o = klastergeo.view.part.style(l.feature);
                 return o.stroke !== false && o.weight > 0 && (o.opacity === undefined ||
                   o.opacity > 0);
               })"""
        )
        uncoloured = page.evaluate(
            "klastergeo.view.part.layers.filter((l, i) => !klastergeo.view.colourOf(i)).length"
        )
        scale = page.locator(".leaflet-control-scale-line").all_inner_texts()
        title = page.locator(".klastergeo-title b").inner_text()
        page.fill(".klastergeo-search", world.TWIN)
        page.press(".klastergeo-search", "Enter")
        page.wait_for_selector(".klastergeo-result")
        listed = page.locator(".klastergeo-result").all_inner_texts()
        chosen_before = page.evaluate("klastergeo.view.highlighted")
        page.locator(".klastergeo-result", has_text="Timur").click()
        page.wait_for_function("klastergeo.view.highlighted !== null")
        chosen = page.evaluate("klastergeo.view.part.names(klastergeo.view.highlighted)")
        outlined = page.evaluate(
            f"""() => {{
              const found = [];
              {_MAP}.eachLayer(l => {{
                if (l.options && l.options.color === "#00bcd4" && l.feature) found.push(l);
              }});
              return found.length;
            }}"""
        )
        page.mouse.move(600, 400)  # the pointer elsewhere: the outline stays
        page.wait_for_timeout(300)
        kept = page.evaluate("klastergeo.view.highlighted")
        page.click(".klastergeo-clear")
        cleared = page.evaluate("klastergeo.view.highlighted")
        assert page.errors == []
    finally:
        page.close()
    assert len(strokes) == n_areas and all(strokes)
    assert uncoloured > 0  # some areas have no colour, and are outlined all the same
    assert len(scale) == 1 and scale[0].endswith(("m", "km"))
    assert not any(unit in scale[0] for unit in ("mi", "ft"))
    assert world.REGENCY in title
    assert sorted(listed) == [
        f"{world.TWIN}, Barat, {world.REGENCY}",
        f"{world.TWIN}, Timur, {world.REGENCY}",
    ]
    assert chosen_before is None
    assert chosen == f"{world.TWIN}, Timur"
    assert outlined == 1 and kept is not None
    assert cleared is None


def _hover_at(page, i: int, corner: tuple[float, float]) -> dict:
    """Hover area ``i`` with its centre placed at ``corner`` (fractions of the map's
    width and height); the tooltip's and the map's boxes and the tooltip's text."""
    point = page.evaluate(
        f"""([i, fx, fy]) => {{
          const map = {_MAP};
          if (map.hasLayer(klastergeo.sentraLayer)) map.removeLayer(klastergeo.sentraLayer);
          map.eachLayer(l => {{ if (l.closeTooltip) l.closeTooltip(); }});
          const area = klastergeo.view.part.layers[i];
          const centre = area.getBounds().getCenter();
          map.setView(centre, 15, {{ animate: false }});
          const size = map.getSize();
          const p = map.latLngToContainerPoint(centre);
          map.panBy([p.x - fx * size.x, p.y - fy * size.y], {{ animate: false }});
          const q = map.latLngToContainerPoint(centre);
          const box = map.getContainer().getBoundingClientRect();
          return [q.x + box.left, q.y + box.top];
        }}""",
        [i, *corner],
    )
    page.wait_for_timeout(200)
    page.mouse.move(point[0] - 2, point[1] - 2)
    page.mouse.move(point[0], point[1])
    page.wait_for_selector(".leaflet-tooltip")
    return page.evaluate(
        f"""() => {{
          const tip = document.querySelector(".leaflet-tooltip").getBoundingClientRect();
          const box = {_MAP}.getContainer().getBoundingClientRect();
          return {{ tip: [tip.left, tip.top, tip.right, tip.bottom],
                    box: [box.left, box.top, box.right, box.bottom],
                    text: document.querySelector(".leaflet-tooltip").innerText }};
        }}"""
    )


@pytest.mark.parametrize("corner", [(0.5, 0.97), (0.97, 0.97), (0.97, 0.5)])
def test_a_tooltip_at_the_edge_stays_inside_the_map(browser, run, corner) -> None:
    """The tooltip of an area at the bottom edge, the bottom-right corner or the right
    edge lies inside the map, its totals shown (Leaflet centres a sticky tooltip on the
    pointer vertically: this one, taller than twice the pointer's distance from the
    bottom, crossed the edge)."""
    out, _ = run
    page = _open(browser, out)
    try:
        page.select_option(".klastergeo-sector", "10")
        got = _hover_at(page, _position(page, "Desa R0C0, Barat"), corner)
        page.screenshot(path=str(out / f"edge_{corner[0]}_{corner[1]}.png"))
        assert page.errors == []
    finally:
        page.close()
    left, top, right, bottom = got["tip"]
    box_left, box_top, box_right, box_bottom = got["box"]
    assert "Semua sektor di wilayah ini" in got["text"]  # the totals, at the tooltip's end
    pointer_y = box_top + corner[1] * (box_bottom - box_top)
    if corner[1] > 0.9:  # Leaflet's placement would cross the bottom edge
        assert pointer_y + (bottom - top) / 2 > box_bottom
    assert box_left <= left and right <= box_right, got
    assert box_top <= top and bottom <= box_bottom, got
