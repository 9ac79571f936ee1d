"""Splitting a multi-survey registry by its period column (``--period-col tahun``), at
census size, against the plain pandas call a user would write, in one run.

klastergeo: :func:`klastergeo.app.pipeline.periods.split_by_period`, which streams the CSV
in batches (``records.batch_size``) into one Parquet file of text per period. Peer:
``pandas.read_csv(dtype=str)`` of the whole file, then one ``to_parquet`` per period.
Each side runs in a process of its own, so the peak memory printed (the process's
maximum resident set) is its own. The registry is synthetic (seeded) and generated here
in a temporary folder, never committed.

Run: ``python benchmarks/bench_periods.py --rows 3000000``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

YEARS = ("2016", "2019", "2023")


def write_registry(path: Path, rows: int, *, seed: int = 0) -> None:
    """A registry of ``rows`` firms over three surveys, written in chunks."""
    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        frame = pd.DataFrame(
            {
                "id": np.char.add("F", np.arange(start, start + n).astype(str)),
                "lon": np.round(rng.uniform(95, 141, n), 6),
                "lat": np.round(rng.uniform(-11, 6, n), 6),
                "kbli": rng.choice(["10750", "13134", "25920", "31001", "47111"], n),
                "tenaga_kerja": rng.integers(1, 20, n),
                "nilai_produksi": np.round(rng.gamma(2.0, 50.0, n), 1),
                "tahun": rng.choice(YEARS, n),
            }
        )
        frame.to_csv(path, mode="a", header=start == 0, index=False)


def ours(registry: Path, out: Path, batch_size: int) -> dict[str, int]:
    from klastergeo.app.config import load_config
    from klastergeo.app.pipeline.periods import split_by_period

    config = load_config(
        None,
        overrides={
            "records.path": str(registry),
            "records.period_col": "tahun",
            "records.batch_size": batch_size,
        },
    )
    split = split_by_period(config, out)
    return {p: pq.ParquetFile(path).metadata.num_rows for p, path in split.files.items()}


def peer(registry: Path, out: Path) -> dict[str, int]:
    frame = pd.read_csv(registry, dtype=str, keep_default_na=False)
    counts = {}
    for year, part in frame.groupby("tahun", sort=True):
        part.to_parquet(out / f"{year}.parquet", index=False)
        counts[str(year)] = len(part)
    return counts


def _child(side: str, registry: Path, out: Path, batch_size: int) -> None:
    if side == "ours":  # imports are not timed (pandas' neither)
        import klastergeo.app.pipeline.periods  # noqa: F401

    start = time.perf_counter()
    counts = ours(registry, out, batch_size) if side == "ours" else peer(registry, out)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB (Linux: kB)
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "counts": counts}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--batch-size", type=int, default=500_000)
    parser.add_argument("--child", choices=["ours", "peer"])
    parser.add_argument("--registry", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.registry, args.out, args.batch_size)
        return
    with tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp) / "registry.csv"
        write_registry(registry, args.rows)
        size = registry.stat().st_size / 1e6
        print(f"registry: {args.rows:,} rows, {size:,.0f} MB, periods {', '.join(YEARS)}")
        results = {}
        for side in ("ours", "peer"):
            out = Path(tmp) / side
            out.mkdir()
            command = [
                sys.executable, __file__, "--child", side, "--registry", str(registry),
                "--out", str(out), "--batch-size", str(args.batch_size),
            ]  # fmt: skip
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            results[side] = json.loads(done.stdout.strip().splitlines()[-1])
        if results["ours"]["counts"] != results["peer"]["counts"]:
            raise SystemExit(f"the splits differ: {results}")
        for side, name in (("ours", "klastergeo split_by_period"), ("peer", "pandas")):
            r = results[side]
            print(f"{name:28s} {r['seconds']:7.1f} s   peak {r['peak_mb']:7,.0f} MB")
        ratio = results["ours"]["seconds"] / results["peer"]["seconds"]
        memory = results["ours"]["peak_mb"] / results["peer"]["peak_mb"]
        print(f"time ratio (ours / pandas): {ratio:.2f}; peak memory ratio: {memory:.2f}")


if __name__ == "__main__":
    main()
