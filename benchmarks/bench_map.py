"""Map size and load time: klastergeo's map against a naive folium map, in one run.

Layers: every statistic (Gi* bins, LISA codes, LQ classes) of every sector, on Jawa
Tengah's 8,563 villages (21 sectors, the demo's count), plus a national kecamatan map
(7,285 areas). Statistics are synthetic (seeded); geometry and sizes are real. The naive
peer is what folium users write: one ``folium.GeoJson`` of the (50 m simplified) areas per
sector and statistic, with the value as a property. It is built for 3 sectors (9 layers)
and its size per layer is reported; all 63 layers would not fit a browser tab.

Load time: headless Chromium (Debian's), offline, from ``file://``: until klastergeo's
sector view is ready, or until folium's last layer is on the map.

Targets (issue 6): Jawa Tengah with every layer and all sectors <= 6 MB and interactive
within 3 s; national kecamatan <= 10 MB.

Run: ``make bench-map``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def synthetic_table(areas: pd.Index, sectors: list[str], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(areas) * len(sectors)
    table = pd.DataFrame(
        {
            "n_firms": rng.poisson(1.0, n),
            "lq": rng.gamma(1.0, 1.0, n),
            "gi_z": rng.normal(0, 1.5, n),
            "gi_bin": rng.choice([-3, -2, -1, 0, 0, 0, 0, 1, 2, 3], n),
            "lisa_quadrant": rng.choice([0, 0, 0, 0, 1, 2, 3, 4], n),
        },
        index=pd.MultiIndex.from_product([areas, sectors], names=["area_code", "sector"]),
    )
    return table


def load_seconds(path: Path, ready: str) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            start = time.perf_counter()
            page.goto(path.as_uri(), wait_until="load", timeout=600_000)
            page.wait_for_function(ready, timeout=600_000)
            return time.perf_counter() - start
        finally:
            browser.close()


def naive_map(areas, table: pd.DataFrame, sectors: list[str]):
    import folium

    from klastergeo.publish.maps import _light

    light = _light(areas[["name", areas.geometry.name]])
    fmap = folium.Map(location=[-7.2, 110.2], zoom_start=8, tiles=None, prefer_canvas=True)
    for sector in sectors:
        rows = table.xs(sector, level="sector").reindex(light.index)
        for column in ("gi_bin", "lisa_quadrant", "lq"):
            frame = light.assign(value=rows[column].round(3).to_numpy())
            folium.GeoJson(
                frame.to_json(drop_id=True),
                name=f"{column} {sector}",
                show=False,
                style_function=lambda f: {"weight": 0.3, "fillOpacity": 0.6},
            ).add_to(fmap)
    folium.LayerControl().add_to(fmap)
    return fmap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boundaries", default=os.environ.get("KLASTERGEO_DATA_DIR"))
    args = parser.parse_args()
    if not args.boundaries:
        raise SystemExit("set KLASTERGEO_DATA_DIR or pass --boundaries")
    import geopandas as gpd

    from klastergeo.io import boundaries
    from klastergeo.publish import maps

    source = Path(args.boundaries)
    sectors = [f"{k:02d}" for k in (10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 22, 23, 24, 25, 26,
                                      27, 28, 29, 31, 32, 33)]  # fmt: skip
    empty = gpd.GeoDataFrame({"sector": []}, geometry=[], crs=4326)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        villages = boundaries.load_areas("desa", area="33", source=source)
        table = synthetic_table(villages.index, sectors)
        start = time.perf_counter()
        ours = maps.build_map(villages, table, empty, tiles="none", lang="en")
        path = maps.save_map(ours, out / "ours.html")
        build = time.perf_counter() - start
        size = path.stat().st_size / 1e6
        load = load_seconds(path, "window.klastergeo && window.klastergeo.view !== undefined")
        rows.append(("Jawa Tengah villages, 21 sectors x 3 statistics (63 views)", size, build,
                     load, "<= 6 MB, <= 3 s"))  # fmt: skip
        print(f"ours: {size:.2f} MB, built in {build:.1f} s, interactive in {load:.2f} s",
              flush=True)  # fmt: skip

        start = time.perf_counter()
        naive = naive_map(villages, table, sectors[:3])
        naive_path = out / "naive.html"
        naive_path.write_text(maps.inline_assets(naive.get_root().render()), encoding="utf-8")
        naive_build = time.perf_counter() - start
        naive_size = naive_path.stat().st_size / 1e6
        naive_load = load_seconds(
            naive_path,
            "document.querySelectorAll('.leaflet-control-layers-overlays label').length === 9",
        )
        rows.append(("naive folium, 3 sectors x 3 statistics (9 layers)", naive_size,
                     naive_build, naive_load, f"{naive_size / 9:.1f} MB per layer"))  # fmt: skip
        print(f"naive: {naive_size:.2f} MB, built in {naive_build:.1f} s, loaded in "
              f"{naive_load:.2f} s", flush=True)  # fmt: skip

        kecamatan = boundaries.load_areas("kecamatan", source=source)
        table = synthetic_table(kecamatan.index, sectors, seed=1)
        start = time.perf_counter()
        national = maps.build_map(kecamatan, table, empty, tiles="none", lang="en")
        national_path = maps.save_map(national, out / "national.html")
        national_build = time.perf_counter() - start
        national_size = national_path.stat().st_size / 1e6
        national_load = load_seconds(
            national_path, "window.klastergeo && window.klastergeo.view !== undefined"
        )
        rows.append((f"national kecamatan ({len(kecamatan):,}), 21 sectors", national_size,
                     national_build, national_load, "<= 10 MB"))  # fmt: skip
    print()
    print("| map | HTML size | build | load (headless Chromium) | target |")
    print("|---|---|---|---|---|")
    for name, size, build, load, target in rows:
        print(f"| {name} | {size:.2f} MB | {build:.1f} s | {load:.2f} s | {target} |")
    ratio = (naive_size / 9 * 63) / rows[0][1]
    print(f"\nnaive folium extrapolated to the same 63 layers: {naive_size / 9 * 63:.0f} MB "
          f"({ratio:.0f}x ours)")  # fmt: skip


if __name__ == "__main__":
    main()
