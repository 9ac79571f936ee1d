"""The national desa map (83,402 villages) opened over http: bytes and time to interactive.

Builds a split map (``map.max_areas`` below the national count) of every village of
Indonesia with 21 sectors (statistics synthetic and seeded, as in ``bench_map.py``; geometry
and names real), the kabupaten outlines and a firm-density grid of N seeded random firms,
saves it, serves the folder from ``http.server`` on 127.0.0.1 and opens ``map.html`` in
headless Chromium (Debian's). It prints the bytes transferred until the page signals
ready (``klastergeo.view``) and the time that took, then the same for a search of a
village in a province not yet loaded (until the village is selected), and the sizes of
the files written.

Targets (issue 12): at most 10 MB transferred and interactive within 5 s.

Run: ``python benchmarks/bench_national_map.py`` (needs ``KLASTERGEO_DATA_DIR``).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from bench_map import FLAGS, synthetic_table

SECTORS = [f"{k:02d}" for k in (10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 22, 23, 24, 25, 26,
                                  27, 28, 29, 31, 32, 33)]  # fmt: skip


def random_firms(areas, n: int, seed: int = 0):
    """``n`` firms at random points of the villages' bounding boxes (their density grid
    is what the page gets)."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    bounds = areas.geometry.bounds.to_numpy()
    pick = rng.integers(0, len(areas), n)
    lon = rng.uniform(bounds[pick, 0], bounds[pick, 2])
    lat = rng.uniform(bounds[pick, 1], bounds[pick, 3])
    return gpd.GeoDataFrame(
        {"sector": rng.choice(SECTORS, n)}, geometry=gpd.points_from_xy(lon, lat), crs=4326
    )


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def measure(url: str, village: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            received: list[int] = []
            page.on("requestfinished", lambda r: received.append(r.sizes()["responseBodySize"]))
            start = time.perf_counter()
            page.goto(url + "map.html", wait_until="load", timeout=600_000)
            page.wait_for_function("window.klastergeo && klastergeo.view !== undefined")
            ready = time.perf_counter() - start
            opened = sum(received)
            page.screenshot(path="/tmp/national-map.png")
            start = time.perf_counter()
            page.evaluate("name => klastergeo.view.find(name)", village)
            page.wait_for_function("klastergeo.view.selected !== null", timeout=600_000)
            found = time.perf_counter() - start
            page.wait_for_timeout(500)
            page.screenshot(path="/tmp/national-map-province.png")
            return {"ready": ready, "bytes": opened, "found": found,
                    "province_bytes": sum(received) - opened}  # fmt: skip
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boundaries", default=os.environ.get("KLASTERGEO_DATA_DIR"))
    parser.add_argument("--firms", type=int, default=2_000_000)
    args = parser.parse_args()
    if not args.boundaries:
        raise SystemExit("set KLASTERGEO_DATA_DIR or pass --boundaries")
    import geopandas as gpd

    from klastergeo.io import boundaries
    from klastergeo.publish import maps

    source = Path(args.boundaries)
    villages = boundaries.load_areas("desa", source=source)
    provinces = boundaries.load_areas("provinsi", source=source)
    kabupaten = boundaries.load_areas("kabupaten", source=source)
    parents = boundaries.load_names("kecamatan", source=source)
    parent = parents.reindex(villages.index.str[:8]).set_axis(villages.index)
    table = synthetic_table(villages.index, SECTORS)
    firms = random_firms(villages, args.firms)
    empty = gpd.GeoDataFrame({"sector": []}, geometry=[], crs=4326)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        start = time.perf_counter()
        fmap = maps.build_map(
            villages, table, empty, firms=firms, outlines=kabupaten, parents=parent,
            provinces=provinces, tiles="none", lang="en",
        )  # fmt: skip
        page = maps.save_map(fmap, out / "map.html")
        build = time.perf_counter() - start
        files = sorted((out / "map").glob("*.js"))
        sizes = [f.stat().st_size / 1e6 for f in files]
        print(f"built and saved in {build:.1f} s: map.html {page.stat().st_size / 1e6:.2f} MB; "
              f"{len(files)} province files, {sum(sizes):.1f} MB in all, largest "
              f"{max(sizes):.2f} MB", flush=True)  # fmt: skip
        # a village of Papua Pegunungan (95), a province the national view does not load
        village = str(villages.loc[villages.index.str.startswith("95."), "name"].iloc[0])
        server, url = serve(out)
        try:
            got = measure(url, village)
        finally:
            server.shutdown()
            server.server_close()
    print(f"open over http: {got['bytes'] / 1e6:.2f} MB transferred, interactive in "
          f"{got['ready']:.2f} s (targets: <= 10 MB, <= 5 s)")  # fmt: skip
    print(f"search {village!r}: its province loaded and the village selected in "
          f"{got['found']:.2f} s ({got['province_bytes'] / 1e6:.2f} MB more)")  # fmt: skip


if __name__ == "__main__":
    main()
