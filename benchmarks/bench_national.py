"""The whole country at village level: ``klastergeo run --level desa`` on a national registry.

Generates (once, cached) a seeded synthetic national registry of N records over all
83,402 villages (``national_registry.py``: Parquet, and ``;``-separated decimal-comma CSV),
runs the whole pipeline on it in a child process, and prints the wall time and the peak
resident memory after every step (from the run's ``summary.json``). A watchdog stops a run
whose memory passes ``--memory-limit-gb`` and reports the step it was in.

The peer, for the record step: a plain geopandas pipeline on the same Parquet file
(``read_parquet``, decimal commas parsed, ``points_from_xy``, ``sjoin`` with the villages,
``groupby`` village x division), against klastergeo's ``read + validate + aggregate``,
which also checks every record and keeps the rejected ones with their reasons.

Targets (issue 12): 26.7 M records from Parquet in at most 10 minutes and 6 GB; from CSV
in at most 15 minutes; 65 M with a peak within 1.2x that of 26.7 M; the record step at
least 3x faster per record than the peer.

Run: ``make bench-national`` (2.67 M, Parquet and CSV) or e.g.
``python benchmarks/bench_national.py --rows 2670000 26700000 --formats parquet``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from national_registry import generate

RECORD_STEP = ("read", "validate", "aggregate")


def _rss_mb(pid: int) -> float:
    """Proportional memory (PSS) of a process and its children, in MB (from /proc).

    Forked workers share the parent's pages; summing their resident sets would count
    those pages once per worker, so each page is counted by the share of it a process
    holds (``smaps_rollup``), falling back to the resident set where PSS is not given."""
    total = 0.0
    try:
        pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    except OSError:
        return 0.0
    for p in pids:
        for source, key in ((f"/proc/{p}/smaps_rollup", "Pss:"), (f"/proc/{p}/status", "VmRSS:")):
            try:
                lines = Path(source).read_text().splitlines()
            except OSError:
                continue
            found = [int(line.split()[1]) for line in lines if line.startswith(key)]
            if found:
                total += found[0] / 1024
                break
    return total


def run_pipeline(
    records: Path, out: Path, *, limit_gb: float, env: dict[str, str], scheduler: str = ""
) -> dict:
    """One ``klastergeo run`` in a child process, watched for memory."""
    command = [
        str(Path(sys.executable).with_name("klastergeo")),
        "run",
        "--records",
        str(records),
        "--level",
        "desa",
        "--out",
        str(out),
        *(["--scheduler", scheduler] if scheduler else []),
    ]
    start = time.perf_counter()
    log = out.parent / f"{out.name}.log"
    with log.open("w") as handle:
        child = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
        peak = [0.0]
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.5):
                rss = _rss_mb(child.pid)
                peak[0] = max(peak[0], rss)
                if rss > limit_gb * 1024:
                    child.kill()
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        code = child.wait()
        stop.set()
    wall = time.perf_counter() - start
    text = log.read_text(errors="replace")
    steps = [line.split("step ", 1)[1] for line in text.splitlines() if "] step " in line]
    result = {
        "code": code,
        "wall_s": wall,
        "peak_mb_sampled": peak[0],
        "last_step": steps[-1] if steps else "?",
    }
    summary_path = out / "summary.json"
    if code == 0 and summary_path.exists():
        summary = json.loads(summary_path.read_text())
        result["timings"] = summary.get("timings", {})
        result["peak_rss_mb"] = summary.get("peak_rss_mb", {})
        result["kept"] = summary["records"]["kept"]
    else:
        result["tail"] = text.splitlines()[-5:]
    return result


def peer(parquet: Path, boundaries: Path) -> dict:
    """The plain geopandas record step, timed in this process (villages loaded first)."""
    import geopandas as gpd
    import pandas as pd

    desa = gpd.read_parquet(boundaries / "desa.parquet", columns=["kode", "geometry"])
    start = time.perf_counter()
    frame = pd.read_parquet(parquet)
    lat = pd.to_numeric(frame["lintang"].str.replace(",", "."), errors="coerce")
    lon = pd.to_numeric(frame["bujur"].str.replace(",", "."), errors="coerce")
    ok = (lat.notna() & lon.notna()).to_numpy()
    points = gpd.GeoDataFrame(
        frame.loc[ok, ["kbli"]], geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs=4326
    )
    joined = gpd.sjoin(points, desa, how="inner", predicate="within")
    counts = joined.groupby(["kode", joined["kbli"].str[:2]]).size()
    return {"seconds": time.perf_counter() - start, "records": len(frame), "cells": len(counts)}


def ours(records: Path, boundaries: Path) -> dict:
    """klastergeo's record step in this process: ``read + validate + aggregate`` as the
    pipeline runs them (every check, rejected rows kept with their reasons, batches
    checked on the local cores), the villages loaded first as for the peer."""
    from klastergeo.app.config import RunConfig
    from klastergeo.app.pipeline import intake, probabilities
    from klastergeo.app.pipeline.counting import count
    from klastergeo.app.pipeline.study import study_area

    config = RunConfig().with_overrides(
        {"records.path": str(records), "area.level": "desa", "area.boundaries": str(boundaries)}
    )
    study = study_area(config)
    work = Path(tempfile.mkdtemp(prefix="bench-record-step-"))
    try:
        start = time.perf_counter()
        registry = intake.read(config, work / "scratch")
        read = time.perf_counter()
        checked = intake.validate(config, registry, study.polygons)
        probabilities.predictors(config, checked.validation, checked.firms)
        validated = time.perf_counter()
        counts = count(config, study, checked)
        done = time.perf_counter()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "seconds": done - start,
        "read": read - start,
        "validate": validated - read,
        "aggregate": done - validated,
        "kept": checked.validation.n_kept,
        "areas": len(counts.areas),
    }


def record_step(rows: int, folder: Path, boundaries: Path, repeat: int) -> None:
    """The record step against the peer, alternately in this process, best of
    ``repeat``: the ratio the issue's target is about (at least 1.0x)."""
    best: dict[str, dict] = {}
    for _ in range(repeat):
        for name, run in (("peer", peer), ("klastergeo", ours)):
            got = run(folder / "registry.parquet", boundaries)
            if name not in best or got["seconds"] < best[name]["seconds"]:
                best[name] = got
            print(f"  {name}: {got['seconds']:.1f} s {got}", flush=True)
    mine, theirs = best["klastergeo"], best["peer"]
    print(
        f"\nrecord step, {rows:,} records, best of {repeat}: klastergeo {mine['seconds']:.1f} s "
        f"(read {mine['read']:.1f}, validate {mine['validate']:.1f}, aggregate "
        f"{mine['aggregate']:.1f}), plain geopandas sjoin + groupby {theirs['seconds']:.1f} s: "
        f"{theirs['seconds'] / mine['seconds']:.2f}x the peer's speed"
    )


def _table(rows: int, fmt: str, result: dict) -> None:
    print(f"\n### {rows:,} records, {fmt}")
    if result["code"] != 0:
        print(
            f"did not finish: exit {result['code']} after {result['wall_s']:.0f} s in step "
            f"{result['last_step']}, sampled peak {result['peak_mb_sampled']:,.0f} MB"
        )
        for line in result.get("tail", []):
            print(f"    {line}")
        return
    print("| step | seconds | peak RSS after the step (MB) |")
    print("|---|---|---|")
    for step, seconds in result["timings"].items():
        print(f"| {step} | {seconds:.1f} | {result['peak_rss_mb'].get(step, float('nan')):,.0f} |")
    peak, sampled = max(result["peak_rss_mb"].values()), result["peak_mb_sampled"]
    print(
        f"| **total** | **{result['wall_s']:.1f}** (wall, process included) | "
        f"**{peak:,.0f}** (sampled {sampled:,.0f}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2_670_000])
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"])
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "klastergeo-national"
    )
    parser.add_argument("--memory-limit-gb", type=float, default=20.0)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument(
        "--dask",
        action="store_true",
        help="the Dask row: the same run again with --scheduler on a 2-worker LocalCluster",
    )
    parser.add_argument(
        "--record-step",
        type=int,
        default=0,
        metavar="REPEAT",
        help="only the record step against the peer, alternately in this process, best of "
        "REPEAT (no pipeline run)",
    )
    args = parser.parse_args()
    boundaries = Path(os.environ.get("KLASTERGEO_DATA_DIR", "../shared/data/boundaries")).resolve()
    env = {**os.environ, "KLASTERGEO_DATA_DIR": str(boundaries)}
    print(f"machine: {os.cpu_count()} cores; boundaries {boundaries}")
    for rows in args.rows:
        folder = args.cache / f"n{rows}"
        if not (folder / "registry.csv").exists():
            print(f"generating {rows:,} records in {folder} ...", flush=True)
            info = generate(rows, folder, source=boundaries)
            print(f"generated in {info['seconds']:.0f} s")
        if args.record_step:
            record_step(rows, folder, boundaries, args.record_step)
            continue
        for fmt in args.formats:
            out = Path(tempfile.mkdtemp(prefix="bench-national-")) / "run"
            result = run_pipeline(
                folder / f"registry.{fmt}", out, limit_gb=args.memory_limit_gb, env=env
            )
            if args.dask:
                _table(rows, f"{fmt}, one process", result)
                result = _on_cluster(folder / f"registry.{fmt}", args.memory_limit_gb, env)
                fmt = f"{fmt}, 2-worker LocalCluster"
            _table(rows, fmt, result)
            if result["code"] == 0 and fmt == "parquet" and not args.no_peer and rows <= 3_000_000:
                theirs = peer(folder / "registry.parquet", boundaries)
                ours = sum(result["timings"].get(s, 0.0) for s in RECORD_STEP)
                print(
                    f"\nrecord step (read + validate + aggregate): klastergeo {ours:.1f} s, "
                    f"plain geopandas sjoin + groupby {theirs['seconds']:.1f} s: "
                    f"{theirs['seconds'] / ours:.2f}x the peer's speed"
                )
            shutil.rmtree(out.parent, ignore_errors=True)


def _on_cluster(records: Path, limit_gb: float, env: dict[str, str]) -> dict:
    """The run with ``--scheduler`` on a two-worker ``distributed.LocalCluster`` (one
    thread each) started here. The peak memory is the run's (the client's): the
    workers are this script's processes, not the run's children."""
    from distributed import LocalCluster

    out = Path(tempfile.mkdtemp(prefix="bench-national-dask-")) / "run"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as cluster:
        result = run_pipeline(
            records, out, limit_gb=limit_gb, env=env, scheduler=cluster.scheduler_address
        )
    shutil.rmtree(out.parent, ignore_errors=True)
    return result


if __name__ == "__main__":
    main()
