"""Reading + validating + locating a registry: klastergeo against a plain geopandas pipeline.

Target (issue 2): one million records validated in seconds on a 2-core machine.

The peer does the obvious thing with pandas and geopandas: ``read_csv`` with ``;`` and
decimal commas, numeric coercion, range checks, ``duplicated()``, and ``gpd.sjoin`` of the
points with the villages. It checks less than klastergeo (no swapped-coordinate repair, no
KBLI validation, no reasons kept per row), so the ratio flatters the peer.

Run: ``make bench`` or ``python benchmarks/bench_records.py --rows 1000000``.

``--dask`` times instead :meth:`klastergeo.io.registry.batches.Registry.validate` (the check of
every
batch, the duplicates and the commit; the CSV staged beforehand) with the batches checked
here, one after another, on Dask's processes, and on a local ``dask.distributed`` cluster
of two single-threaded worker processes (started beforehand, its start timed apart):
``python benchmarks/bench_records.py --dask --batch-size 250000``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from klastergeo.io import boundaries
from klastergeo.io.datasets import demo
from klastergeo.io.registry.batches import open_registry, validate_in_batches
from klastergeo.io.registry.records import read_records, validate_records

# The peer's read_csv warns that a column has mixed types (its numbers have decimal commas).
warnings.simplefilter("ignore", pd.errors.DtypeWarning)


def _registry(path: Path, rows: int, villages: gpd.GeoDataFrame) -> None:
    generated = demo.generate_registry(
        villages, n_background=max(rows - 11_500, 1000), n_decoy=10_000, seed=1
    )
    demo.write_registry(generated, path.parent)


def _ours(path: Path, villages: gpd.GeoDataFrame) -> tuple[float, int]:
    start = time.perf_counter()
    report = validate_records(read_records(path), areas=villages)
    return time.perf_counter() - start, report.n_kept


def _batches(path: Path, villages: gpd.GeoDataFrame) -> tuple[float, int]:
    """The path a run takes: validation in batches, kept firms loaded back."""
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        outcome = validate_in_batches(path, workdir=Path(work) / "w", areas=villages)
        outcome.report()
        return time.perf_counter() - start, outcome.n_kept


def _peer(path: Path, villages: gpd.GeoDataFrame) -> tuple[float, int]:
    start = time.perf_counter()
    frame = pd.read_csv(path, sep=";", decimal=",", dtype={"kbli": str}, encoding="utf-8-sig")
    lat = pd.to_numeric(frame["lintang"], errors="coerce")
    lon = pd.to_numeric(frame["bujur"], errors="coerce")
    ok = lat.between(-90, 90) & lon.between(-180, 180) & ~((lat == 0) & (lon == 0))
    ok &= ~frame.duplicated() & ~frame["id_usaha"].duplicated()
    points = gpd.GeoDataFrame(
        frame.loc[ok], geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs=4326
    )
    joined = gpd.sjoin(points, villages[["geometry"]], how="inner", predicate="within")
    kept = joined.index.unique()
    return time.perf_counter() - start, len(kept)


def _validate(
    path: Path, villages: gpd.GeoDataFrame, batch_size: int, scheduler: str
) -> tuple[float, int]:
    """Seconds of ``Registry.validate`` alone (the registry opened and staged before)."""
    with tempfile.TemporaryDirectory() as work:
        registry = open_registry(path, workdir=Path(work) / "w", batch_size=batch_size)
        start = time.perf_counter()
        outcome = registry.validate(areas=villages, scheduler=scheduler)
        return time.perf_counter() - start, outcome.n_kept


def _dask(path: Path, villages: gpd.GeoDataFrame, batch_size: int, repeat: int) -> None:
    from distributed import LocalCluster

    start = time.perf_counter()
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # no dashboard; the scheduler's own HTTP server (always started) on a free port
        # rather than 8787, which another cluster may hold (distributed warns then)
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
    ) as cluster:
        print(f"LocalCluster of 2 workers started in {time.perf_counter() - start:.1f} s")
        where = {
            "here: 2 forked processes (no scheduler)": "",
            "Dask processes (2, started per call)": "processes",
            "LocalCluster, 2 workers x 1 thread": cluster.scheduler_address,
        }
        print(
            f"{'Registry.validate, batches of ' + format(batch_size, ','):<44}"
            f"{'best of ' + str(repeat):>12}{'kept':>12}"
        )
        kept = set()
        for name, scheduler in where.items():
            times = []
            for _ in range(repeat):
                seconds, n_kept = _validate(path, villages, batch_size, scheduler)
                times.append(seconds)
                kept.add(n_kept)
            print(f"{name:<44}{min(times):>11.2f}s{n_kept:>12,}")
        assert len(kept) == 1, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--boundaries", default=os.environ.get("KLASTERGEO_DATA_DIR"))
    parser.add_argument("--dask", action="store_true", help="time the Dask schedulers")
    parser.add_argument("--batch-size", type=int, default=250_000, help="with --dask")
    args = parser.parse_args()

    villages = boundaries.load_areas("desa", area="33", source=args.boundaries)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.csv"
        t0 = time.perf_counter()
        _registry(path, args.rows, villages)
        rows = sum(1 for _ in path.open(encoding="utf-8-sig")) - 1
        print(
            f"registry: {rows:,} rows, {path.stat().st_size / 1e6:.0f} MB "
            f"(generated in {time.perf_counter() - t0:.1f} s); villages: {len(villages):,}"
        )
        if args.dask:
            _dask(path, villages, args.batch_size, args.repeat)
            return
        ours, streamed, peer = [], [], []
        for _ in range(args.repeat):
            seconds, kept_ours = _ours(path, villages)
            ours.append(seconds)
            seconds, kept_batches = _batches(path, villages)
            streamed.append(seconds)
            seconds, kept_peer = _peer(path, villages)
            peer.append(seconds)
        assert kept_batches == kept_ours
        best_ours, best_peer = float(np.min(ours)), float(np.min(peer))
        best_batches = float(np.min(streamed))
        print(f"{'pipeline':<44}{'best of ' + str(args.repeat):>12}{'kept':>12}")
        print(
            f"{'klastergeo read_records + validate_records':<44}{best_ours:>11.2f}s{kept_ours:>12,}"
        )
        print(
            f"{'klastergeo in batches (what a run uses)':<44}{best_batches:>11.2f}s"
            f"{kept_batches:>12,}"
        )
        print(
            f"{'pandas read_csv + checks + gpd.sjoin (peer)':<44}{best_peer:>11.2f}s"
            f"{kept_peer:>12,}"
        )
        print(
            f"ratio peer / klastergeo: {best_peer / best_ours:.2f}x whole file, "
            f"{best_peer / best_batches:.2f}x in batches "
            f"({rows / best_batches / 1e6:.2f} M rows/s in batches)"
        )


if __name__ == "__main__":
    main()
