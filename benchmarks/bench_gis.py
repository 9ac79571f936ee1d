"""GIS and spreadsheet outputs at national size: ``areas.gpkg`` (83,402 villages x 21
sectors, wide) and the ``results.xlsx`` areas sheet, against the plain geopandas call a
user would write, in one run.

klastergeo: :func:`klastergeo.publish.gis.areas_layer` (long table -> one row per area)
then :func:`~klastergeo.publish.gis.write_layers` (pyogrio, EPSG:4326, written to a
temporary file and moved). Peer: ``table.unstack()`` to the same wide frame and
``GeoDataFrame.to_file(driver="GPKG")`` (geopandas' pyogrio engine). The statistics are
synthetic (seeded); the villages are real. Prints each time, the ratio, the file size and
the peak memory of the process.

Run: ``python benchmarks/bench_gis.py`` (needs KLASTERGEO_DATA_DIR).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd


def synthetic(areas: pd.Index, sectors: list[str], seed: int = 0) -> pd.DataFrame:
    """An area x sector table with the columns ``areas.gpkg`` takes (seeded)."""
    rng = np.random.default_rng(seed)
    index = pd.MultiIndex.from_product([areas, sectors], names=["area_code", "sector"])
    n = len(index)
    lq = rng.gamma(1.0, 1.0, n)
    return pd.DataFrame(
        {
            "n_firms": rng.poisson(3, n),
            "lq": lq,
            "lq_low": lq * 0.6,
            "lq_high": lq * 1.6,
            "spec_bin": rng.integers(-3, 4, n),
            "gi_bin": rng.integers(-3, 4, n),
            "lisa_quadrant": rng.integers(0, 5, n),
            "sentra_id": np.where(rng.random(n) < 0.001, "25-01", None),
        },
        index=index,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sectors", type=int, default=21)
    parser.add_argument("--level", default="desa")
    args = parser.parse_args()
    from klastergeo.io import boundaries
    from klastergeo.publish import gis, workbook
    from klastergeo.publish.record import RunRecord

    source = Path(os.environ.get("KLASTERGEO_DATA_DIR", "../shared/data/boundaries"))
    areas = boundaries.load_areas(args.level, source=source)
    sectors = [str(10 + k) for k in range(args.sectors)]
    table = synthetic(areas.index, sectors)
    sentra = gpd.GeoDataFrame(
        {"name": ["x"]}, geometry=[areas.geometry.iloc[0]], crs=areas.crs,
        index=pd.Index(["25-01"], name="sentra_id"),
    )  # fmt: skip
    folder = Path(tempfile.mkdtemp())
    start = time.perf_counter()
    layer = gis.areas_layer(areas, table, sectors)
    layer_s = time.perf_counter() - start
    gis.write_layers(folder, layer=layer, sentra=sentra)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    wide = table.drop(columns="sentra_id").unstack("sector")
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    peer_frame = gpd.GeoDataFrame(
        areas[["name"]].join(wide), geometry=areas.geometry, crs=areas.crs
    ).to_crs(4326)
    peer_frame.to_file(folder / "peer.gpkg", layer="areas", driver="GPKG")
    peer = time.perf_counter() - start
    start = time.perf_counter()
    sheet = workbook.key_columns(pd.DataFrame(layer.drop(columns=layer.geometry.name)))
    cells = sheet.shape[0] * sheet.shape[1]
    workbook.write_workbook(
        folder / "results.xlsx", summary=RunRecord(), sentra=pd.DataFrame(sentra), areas=sheet,
        global_stats=pd.DataFrame(), coefficients={}, rejected=pd.DataFrame(),
    )  # fmt: skip
    xlsx = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = (folder / "areas.gpkg").stat().st_size / 1e6
    print(f"areas: {len(areas):,} x {len(sectors)} sectors -> {layer.shape[1]} fields")
    print(
        f"klastergeo areas.gpkg {ours:.1f} s (wide layer {layer_s:.1f} s); geopandas unstack "
        f"+ to_file {peer:.1f} s; ratio {peer / ours:.2f}x; {size:.0f} MB"
    )
    kept = "written" if cells <= workbook.MAX_CELLS else "a note (over MAX_CELLS)"
    print(f"results.xlsx areas sheet: {cells:,} cells, {xlsx:.1f} s ({kept})")
    print(f"peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
