"""Parent outlines made of the villages: ``dissolve_by_prefix`` against geopandas' plain
``dissolve``.

Jawa Tengah's 8,563 villages to its 35 kabupaten and 576 kecamatan, and all 83,402
villages of Indonesia to the 514 kabupaten: wall time (the fastest of ``--repeat``
alternating runs: the machine is shared) and peak memory (the child's maximum resident
set, above what loading the villages took), each side in a process of its own.
Correctness is printed beside: the holes left inside the dissolved polygons (a plain
dissolve keeps every sliver between independently simplified villages as an outline ring
drawn inside the regency) and the largest relative area difference between the two (the
area of the slivers filled).

Run: ``python benchmarks/bench_outlines.py`` (about 6 minutes).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

CASES = (
    ("Jawa Tengah, kabupaten", "33", 5),
    ("Jawa Tengah, kecamatan", "33", 8),
    ("Indonesia, kabupaten", None, 5),
)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(method: str, province: str | None, width: int, queue: multiprocessing.Queue) -> None:
    from klastergeo.analysis.geometry import dissolve_by_prefix

    source = Path(os.environ.get("KLASTERGEO_DATA_DIR", "../shared/data/boundaries"))
    filters = [("kode_prov", "=", province)] if province else None
    villages = gpd.read_parquet(
        source / "desa.parquet", columns=["kode", "geometry"], filters=filters
    )
    keys = villages["kode"].str[:width].to_numpy()
    before = _maxrss_mb()
    start = time.perf_counter()
    if method == "klastergeo":
        shapes = dissolve_by_prefix(villages, keys).to_numpy()
    else:
        shapes = villages[["geometry"]].assign(key=keys).dissolve("key").geometry.to_numpy()
    seconds = time.perf_counter() - start
    holes = int(shapely.get_num_interior_rings(shapely.get_parts(shapes)).sum())
    queue.put((seconds, max(_maxrss_mb() - before, 0.0), holes, shapely.area(shapes)))


def measure(method: str, province: str | None, width: int) -> tuple:
    """Time, peak memory above the loaded villages, holes and areas of one side."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_run, args=(method, province, width, queue))
    child.start()
    out = queue.get()
    child.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province-only", action="store_true", help="skip the national case")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each side, alternating; the fastest counts"
    )
    args = parser.parse_args()
    print(
        "| case | groups | klastergeo | geopandas dissolve | ratio | peak MB (ours / peer) "
        "| holes (ours / peer) | max area diff |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, province, width in CASES:
        if args.province_only and province is None:
            continue
        runs = 1 if province is None else args.repeat  # the country: one run each
        pairs = [
            (measure("klastergeo", province, width), measure("geopandas", province, width))
            for _ in range(runs)
        ]
        ours = min((pair[0] for pair in pairs), key=lambda run: run[0])
        peer = min((pair[1] for pair in pairs), key=lambda run: run[0])
        diff = float(np.max(np.abs(ours[3] - peer[3]) / peer[3]))
        print(
            f"| {label} | {len(ours[3])} | {ours[0]:.2f} s | {peer[0]:.2f} s "
            f"| {ours[0] / peer[0]:.2f} | {ours[1]:.0f} / {peer[1]:.0f} "
            f"| {ours[2]} / {peer[2]} | {diff:.1e} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
