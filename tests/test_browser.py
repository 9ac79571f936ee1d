"""The saved map in a real browser (headless Chromium via Playwright), offline.

Chromium comes from Debian's package (``.ci/run`` installs it); Playwright never downloads
a browser here. The page must work from ``file://`` with no network.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from klastergeo import maps

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def page_path(full_map, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return maps.save_map(full_map, tmp_path_factory.mktemp("map") / "map.html")


def test_map_loads_offline_without_errors(page_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_function("document.querySelector('.leaflet-control-layers') !== null")
            features = page.evaluate(
                "Object.keys(window).filter(k => k.startsWith('geo_json_')"
                " && typeof window[k].getLayers === 'function')"
                ".map(k => window[k].getLayers().length)"
            )
            overlays = page.locator(".leaflet-control-layers-overlays label").count()
        finally:
            browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert sum(features) > 0 and all(n > 0 for n in features)
    assert overlays >= 5
