"""Safe, truthful outputs: nothing from a registry runs in a browser, a published site
holds no firm-level data unless asked, and a run's folder is all old or all new.

The payload registry carries script and markup in every text that can reach a page: firm
names, the levels of a categorical predictor, area names of a custom boundaries file, the
map title and the records file's name. A payload that ran would open a dialog, set
``window.__kg_pwned`` or add an element with ``data-kg-payload``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from klastergeo.app import pipeline
from klastergeo.app.config import load_config
from klastergeo.io import files as _io
from klastergeo.publish import maps, messages
from klastergeo.publish import site as publish
from tests.worlds.lattice import custom_study

PAYLOADS = (
    "</script><script>window.__kg_pwned=1;alert(1)</script>",
    '<img src=x onerror="window.__kg_pwned=2;alert(2)">',
    '"><svg onload="window.__kg_pwned=3">',
    "'-alert(4)-'",
    '<b data-kg-payload="1">bold</b>',
    "{{ 7*7 }} {% raw %}",
    "line\u2028separator\u2029 <!-- ]]>",
    "$x^$ \\frac{1}{0}",
)
FILE_NAME = 'daftar<svg onload="alert(5)">.csv'
TITLE = "<script>window.__kg_pwned=6</script>Peta <i data-kg-payload=1>sentra</i>"


def _payload(i: int) -> str:
    return PAYLOADS[i % len(PAYLOADS)]


@pytest.fixture(scope="module")
def payload_study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 9 x 9 custom boundaries file whose area names are payloads, a registry whose
    firm names and ownership levels are payloads (with one furniture sentra), a run of it
    and two sites published from that run (without and with firms)."""
    folder = tmp_path_factory.mktemp("payload")
    names = [f"{_payload(i)} desa {i}" for i in range(81)]
    registry = custom_study(folder, (9, 9), {"r4c4": 45, "r4c5": 30}, names=names, seed=3)
    n = len(registry)
    registry["id"] = [f"FIRMID{i:05d}" for i in range(n)]
    registry["nama"] = [f"FIRMNAME{i:05d} {_payload(i)}" for i in range(n)]
    registry["workers"] = 1 + np.arange(n) % 7
    registry["kepemilikan"] = [PAYLOADS[i % 3] for i in range(n)]
    records = folder / FILE_NAME
    registry.to_csv(records, index=False)
    config = load_config(
        None,
        overrides={
            "records.path": records,
            "columns.name": "nama",
            "area.boundaries": folder / "desa.gpkg",
            "area.id_col": "kode",
            "area.name_col": "nama",
            "analysis.permutations": 99,
            "model.predictors": "workers,kepemilikan",
            "model.categorical": "kepemilikan",
            "map.title": TITLE,
            "map.tiles": "none",
            "map.lang": "en",
            "out": folder / "run",
        },
    )
    result = pipeline.run(config)
    assert result.summary["sentra"] == 1
    private = publish.publish(folder / "run", folder / "site")
    assert private
    publish.publish(folder / "run", folder / "site-firms", with_firms=True, firm_decimals=3)
    return {
        "folder": folder,
        "run": folder / "run",
        "site": folder / "site",
        "site_firms": folder / "site-firms",
        "registry": records,
    }


@pytest.mark.slow
def test_pages_embed_no_payload_as_markup(payload_study) -> None:
    """No page holds a payload's markup outside escaped text: every ``<script`` in a page
    is one of ours, and no payload tag appears unescaped."""
    pages = [
        *payload_study["run"].glob("*.html"),
        *payload_study["run"].glob("models/*.html"),
        *payload_study["site"].glob("*.html"),
        *payload_study["site_firms"].glob("*.html"),
    ]
    assert len(pages) >= 9
    raw = [p for p in (*PAYLOADS, TITLE, FILE_NAME) if "<" in p]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for payload in raw:
            assert payload not in text, (page.name, payload)


def test_script_json_is_inert() -> None:
    data = {"a": PAYLOADS[0], "b": "\u2028\u2029", "c": "<!-- & -->"}
    text = maps.script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == data


def test_a_custom_base_map_attribution_is_text(tmp_path: Path) -> None:
    """Leaflet writes attributions and layer names as HTML: a configured attribution is
    escaped, the layer is named by the map, not by its URL."""
    from tests.worlds.lattice import lattice

    areas = lattice(3, 3)
    table = pd.DataFrame(
        {"n_firms": 1, "lq": 1.0, "gi_z": 0.0, "gi_bin": 0, "lisa_quadrant": 0},
        index=pd.MultiIndex.from_product([areas.index, ["31"]], names=["area_code", "sector"]),
    )
    empty = gpd.GeoDataFrame({"sector": []}, geometry=[], crs=areas.crs)
    url = "https://tiles.example.org/{z}/{x}/{y}.png?key=1"
    attribution = PAYLOADS[1] + " {{ cycler.__init__.__globals__.os.getcwd() }} {% raw %}"
    fmap = maps.build_map(
        maps.MapInput(areas, table, empty),
        maps.MapStyle(tiles=url, attribution=attribution, lang="en"),
    )
    page = maps.save_map(fmap, tmp_path / "map.html").read_text(encoding="utf-8")
    assert PAYLOADS[1] not in page
    # escaped as HTML, then by the script JSON: the page shows the text, runs nothing,
    # and the template tags stay text (folium would have run them)
    assert "\\u0026lt;img src=x onerror=" in page
    assert "\\u007b{ cycler.__init__.__globals__.os.getcwd() }}" in page
    assert str(Path.cwd()) not in page
    assert '"name":"Base map"' in page
    from klastergeo.app.config import MapOptions

    for bad in (
        "https://t.org/{z}/{x}/{y}.png?k={{8*8}}",
        "https://t.org/{z}/{x}.png",
        "https://t.org/{z}/{x}/{y}/{foo}.png",
        'https://t.org/{z}/{x}/{y}.png"><script>',
    ):
        with pytest.raises(Exception, match="is not a base map"):
            MapOptions(tiles=bad, attribution="x")


@pytest.mark.browser
def test_payloads_do_not_run_in_chromium(payload_study) -> None:
    """The run's and the published site's pages in real Chromium: no dialog, no payload
    ran, the DOM holds no payload element, and the map still works with the payloads
    shown as text."""
    from tests.worlds.browser import CHROMIUM, FLAGS

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    pages = [
        payload_study["run"] / "map.html",
        payload_study["run"] / "index.html",
        payload_study["run"] / "report.html",
        payload_study["site"] / "map.html",
        payload_study["site"] / "index.html",
        payload_study["site"] / "report.html",
        payload_study["site"] / "embed.html",
        payload_study["site_firms"] / "map.html",
    ]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for path in pages:
                _check_page(browser, path)
        finally:
            browser.close()


def _check_page(browser, path: Path) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(300)
        if path.name == "map.html":
            page.wait_for_function("window.klastergeo && window.klastergeo.view !== undefined")
            _exercise_map(page, firms="site-firms" in str(path) or path.parent.name == "run")
        for frame in page.frames:  # index.html and report.html embed the map
            try:
                frame.wait_for_load_state("load")
            except Exception:  # a lazy iframe that never loaded holds nothing to check
                continue
            pwned = frame.evaluate("window.__kg_pwned === undefined ? null : window.__kg_pwned")
            injected = frame.evaluate("document.querySelectorAll('[data-kg-payload]').length")
            assert pwned is None, (path, frame.url, pwned)
            assert injected == 0, (path, frame.url)
        assert dialogs == [], (path, dialogs)
        assert errors == [], (path, errors)
    finally:
        page.close()


def _exercise_map(page, *, firms: bool) -> None:
    """Open the sentra popup, hover areas, search a payload name, switch the firm layer."""
    assert page.evaluate("klastergeo.view.count") == 81
    point = page.evaluate(
        """() => {
          const map = Object.values(window).find(v => v instanceof L.Map);
          const p = map.latLngToContainerPoint(klastergeo.sentraLayer.getBounds().getCenter());
          const box = map.getContainer().getBoundingClientRect();
          return [p.x + box.left, p.y + box.top];
        }"""
    )
    page.mouse.move(point[0], point[1])
    page.mouse.click(point[0], point[1])
    page.wait_for_selector(".leaflet-popup-content")
    popup = page.locator(".leaflet-popup-content").inner_text()
    # the sentra is named after its areas: their payload names are shown as text
    assert "desa 40" in popup or "desa 41" in popup, popup
    assert any(p.split(" ")[0][:12] in popup for p in PAYLOADS), popup
    page.fill(".klastergeo-search", f"{_payload(40)} desa 40")
    page.dispatch_event(".klastergeo-search", "change")
    page.wait_for_timeout(200)
    page.hover(".leaflet-control-layers")  # the layer control opens under the pointer
    overlays = page.locator(".leaflet-control-layers-overlays label")
    labels = overlays.all_inner_texts()
    assert any("Firms" in t for t in labels) == firms, labels
    if firms:
        overlays.filter(has_text="Firms of the selected sector (points)").click()
        page.wait_for_function("window.klastergeo.firmCount !== undefined")
        page.mouse.move(point[0] + 5, point[1] + 5)
        page.wait_for_timeout(200)


@pytest.mark.slow
def test_a_site_without_firms_holds_no_firm_data(payload_study) -> None:
    """Every file of the site, text or binary: no firm name, id or coordinate (as the
    registry writes them, to 5 or 6 decimals, or as the map's quantised integers), and
    the map has no firm data block."""
    registry = pd.read_csv(payload_study["registry"], dtype=str)
    site = payload_study["site"]
    blobs = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert any(p.name == "map.html" for p in blobs)
    lat = registry["lat"].astype(float).to_numpy()
    lon = registry["lon"].astype(float).to_numpy()
    for path, data in blobs.items():
        for needle in (b"FIRMNAME", b"FIRMID", f'id="{maps.FIRMS_ID}"'.encode()):
            assert needle not in data, (path.name, needle)
    # A coordinate is a pair: a firm's latitude with its longitude close by (a lone number,
    # or a coarser one, matches a sentra's centroid or an area's vertex by chance).
    pairs = [
        (f"{y:.{d}f}".encode(), f"{x:.{d}f}".encode())
        for y, x in zip(lat, lon, strict=True)
        for d in (5, 6)
    ] + [
        (str(round(y * 1e5)).encode(), str(round(x * 1e5)).encode())
        for y, x in zip(lat, lon, strict=True)
    ]
    for path, data in blobs.items():
        for first, second in pairs:
            start = data.find(first)
            while start >= 0:
                window = data[max(0, start - 120) : start + 120]
                assert second not in window, (path.name, first, second)
                start = data.find(first, start + 1)
    summary = json.loads((site / "summary.json").read_text(encoding="utf-8"))
    assert summary["config"]["records"]["path"] == FILE_NAME  # a name, not a path
    assert "out" not in summary["config"]
    assert str(payload_study["folder"]) not in json.dumps(summary)
    assert summary["published"] == {"with_firms": False, "firm_decimals": None}
    names = {p.name for p in site.iterdir()}
    assert not names & {"firms.geojson", "firms.parquet", "rejected.csv", "repaired.csv"}


@pytest.mark.slow
def test_a_site_with_firms_rounds_their_coordinates(payload_study) -> None:
    site = payload_study["site_firms"]
    page = (site / "map.html").read_text(encoding="utf-8")
    start = page.index(f'id="{maps.FIRMS_ID}">') + len(f'id="{maps.FIRMS_ID}">')
    block = json.loads(page[start : page.index("</script>", start)])
    xy = np.cumsum(np.asarray(block["xy"]).reshape(-1, 2), axis=0)
    assert block["decimals"] == 3 and (xy % 100 == 0).all()  # 1e-5 units: 3 decimals
    firms = gpd.read_file(site / "firms.geojson")
    assert set(firms.columns) == {
        "record_id",
        "name",
        "kbli",
        "sector",
        "area_code",
        "sentra_id",
        "geometry",
    }
    coords = np.column_stack([firms.geometry.x, firms.geometry.y])
    assert np.allclose(coords, np.round(coords, 3), atol=1e-12)
    with pytest.raises(Exception, match="firm_decimals"):
        publish.publish(payload_study["run"], site, with_firms=True, firm_decimals=7)


# -- all old or all new -------------------------------------------------------------------


@pytest.fixture(scope="module")
def fault_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fault")
    registry = custom_study(folder, (8, 8), {"r3c3": 45, "r3c4": 30}, seed=5)
    registry.to_csv(folder / "firms.csv", index=False)
    (folder / "klastergeo.toml").write_text(
        'out = "run"\n[records]\npath = "firms.csv"\n'
        '[area]\nboundaries = "desa.gpkg"\nid_col = "kode"\n'
        "[analysis]\npermutations = 99\n[pointpattern]\nenabled = false\n"
        '[map]\ntiles = "none"\n',
        encoding="utf-8",
    )
    return folder


def _tree(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _is_complete(tree: dict[str, bytes], seed: int) -> bool:
    """A complete run of ``seed``: its summary lists exactly the files present, each
    with its recorded size and hash."""
    import hashlib

    summary = json.loads(tree["summary.json"])
    files = summary["files"]
    if summary["seed"] != seed or set(files) != set(tree) - {"summary.json"}:
        return False
    return all(
        hashlib.sha256(tree[name]).hexdigest() == entry["sha256"] for name, entry in files.items()
    )


@pytest.mark.slow
def test_a_run_stopped_at_any_write_boundary_leaves_old_or_new(
    fault_study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole pipeline stopped after its N-th written file or commit step, for every N:
    the output folder is the previous run (seed 0), byte for byte, or the new one (seed 1)
    complete; nothing is left beside it."""
    out = fault_study / "run"
    config = load_config(fault_study / "klastergeo.toml")
    pipeline.run(config)
    old = _tree(out)
    assert _is_complete(old, 0)
    new_config = config.with_overrides({"analysis.seed": 1})
    counted: list[int] = []
    original = _io.RunFolder.commit

    def counting(self, summary=None):
        files = original(self, summary)
        counted.append(self.boundaries)
        return files

    monkeypatch.setattr(_io.RunFolder, "commit", counting)
    pipeline.run(new_config.with_overrides({"out": str(fault_study / "probe")}))
    monkeypatch.setattr(_io.RunFolder, "commit", original)
    total = counted[0]
    assert json.loads((fault_study / "probe" / "summary.json").read_text())["sentra"] == 1
    assert total >= 25  # every output file (models, report, map...), then the commit
    outcomes = []
    for n in range(1, total + 1):
        monkeypatch.setenv(_io.FAULT_ENV, f"{n}:raise")
        with pytest.raises(_io.FaultInjected):
            pipeline.run(new_config)
        monkeypatch.delenv(_io.FAULT_ENV)
        now = _tree(out)
        if now == old:
            outcomes.append("old")
        else:
            assert _is_complete(now, 1), n
            outcomes.append("new")
            pipeline.run(config)  # back to the old run
            old = _tree(out)
        leftovers = [p.name for p in fault_study.iterdir() if p.name.startswith(".run.")]
        assert leftovers == [], (n, leftovers)
    assert outcomes[0] == "old" and outcomes[-1] == "new"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve().parents[1] / "cli.py"), *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_killed_and_terminated_runs_keep_the_old_outputs(fault_study: Path) -> None:
    """A run killed at once (``os._exit``, as SIGKILL) mid-way and a run sent SIGTERM:
    the folder is the old run; the next run removes what the killed one left."""
    out = fault_study / "run"
    pipeline.run(load_config(fault_study / "klastergeo.toml"))
    old = _tree(out)
    config = str(fault_study / "klastergeo.toml")
    killed = _cli("run", "--config", config, "--seed", "1", env={_io.FAULT_ENV: "5:exit"})
    killed.communicate(timeout=300)
    assert killed.returncode == 86
    assert _tree(out) == old
    assert [p for p in fault_study.iterdir() if p.name.startswith(".run.staging-")]
    terminated = _cli("run", "--config", config, "--seed", "2", "--permutations", "9999")
    staging = f".run.staging-{terminated.pid}-"
    deadline = time.monotonic() + 120
    while terminated.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(staging) for p in fault_study.iterdir()):
            break  # the run is under way (its folder is staged)
        time.sleep(0.05)
    terminated.send_signal(signal.SIGTERM)
    _, stderr = terminated.communicate(timeout=300)
    assert terminated.returncode == 143, stderr
    said = messages.text("terminal", "id")  # the run's language: Indonesian by default
    assert said["terminated"] in stderr and said["stopped_sigterm"] in stderr
    assert _tree(out) == old
    done = _cli("run", "--config", config, "--seed", "3")
    done.communicate(timeout=300)
    assert done.returncode == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 3
    assert [p.name for p in fault_study.iterdir() if p.name.startswith(".run.")] == []


@pytest.mark.slow
def test_a_split_map_shows_payloads_as_text(tmp_path: Path) -> None:
    """A map split by province (``max_areas`` below its areas): area, parent and province
    names that are payloads stay text in the page and in the province scripts, and in
    Chromium none runs while the search finds a payload name and loads its province."""
    from tests.worlds.browser import CHROMIUM, FLAGS
    from tests.worlds.lattice import lattice

    areas = lattice(6, 6)
    codes = [f"{33 + (i % 6 >= 3)}.01.01.{2000 + i}" for i in range(36)]
    areas = areas.set_axis(pd.Index(codes, name="area_code"))
    areas["name"] = [f"{_payload(i)} desa {i}" for i in range(36)]
    parents = pd.Series([_payload(i + 3) for i in range(36)], index=areas.index)
    provinces = gpd.GeoDataFrame(
        {"name": [PAYLOADS[0], PAYLOADS[1]]},
        geometry=[
            areas.loc[areas.index.str.startswith(p)].to_crs(4326).union_all() for p in ("33", "34")
        ],
        index=["33", "34"],
        crs=4326,
    )
    table = pd.DataFrame(
        {"n_firms": 1, "lq": 1.0, "gi_z": 0.0, "gi_bin": 1, "lisa_quadrant": 0},
        index=pd.MultiIndex.from_product([areas.index, ["31"]], names=["area_code", "sector"]),
    )
    empty = gpd.GeoDataFrame({"sector": []}, geometry=[], crs=4326)
    fmap = maps.build_map(maps.MapInput(areas, table, empty, parents=parents, provinces=provinces), maps.MapStyle(tiles="none", lang="en", title=TITLE, source=FILE_NAME, max_areas=10))  # fmt: skip
    page_path = maps.save_map(fmap, tmp_path / "map.html")
    files = [page_path, *sorted((tmp_path / "map").glob("*.js"))]
    assert len(files) == 3
    for path in files:
        text = path.read_text(encoding="utf-8")
        for payload in (p for p in (*PAYLOADS, TITLE, FILE_NAME) if "<" in p):
            assert payload not in text, (path.name, payload)
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            dialogs: list[str] = []
            errors: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_function("window.klastergeo && window.klastergeo.view !== undefined")
            wanted = f"{_payload(4)} desa 4, {_payload(7)}"  # column 4: province 34
            page.fill(".klastergeo-search", "desa 4")
            page.dispatch_event(".klastergeo-search", "input")
            page.fill(".klastergeo-search", wanted)
            page.press(".klastergeo-search", "Enter")
            page.wait_for_function("klastergeo.view.selected !== null")
            selected = page.evaluate("klastergeo.view.selected")
            tooltip = page.locator(".leaflet-tooltip").inner_text()
            page.mouse.move(500, 350)
            page.wait_for_timeout(200)
            pwned = page.evaluate("window.__kg_pwned === undefined ? null : window.__kg_pwned")
            injected = page.evaluate("document.querySelectorAll('[data-kg-payload]').length")
        finally:
            browser.close()
    assert selected == {"province": "34", "index": 1, "name": wanted}
    assert f"desa 4, {_payload(7)}" in tooltip
    assert pwned is None and injected == 0
    assert dialogs == [] and errors == []
