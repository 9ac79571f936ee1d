"""Placement by area names at national size: records placed by their village, district
and regency names (typed as agencies type them) against the code a user would write by
hand, in one run.

Records are synthetic (seeded) over the 83,402 real villages (``KLASTERGEO_DATA_DIR``):
a village drawn per record, its names written with kind words (``Ds.``, ``Kec.``,
``Kab.``) on a third, upper case on a fifth, and one letter dropped on a tenth.

klastergeo: :func:`klastergeo.io.registry.placement.place` in batches of 500,000 (as validation runs
it), against the whole country's gazetteer. Peer: pandas ``merge`` on the lower-cased
names (village, district, regency), then rapidfuzz ``process.extractOne`` among the
villages of the record's district for each record left (the by-hand recipe). Each side
runs in a process of its own; prints each time, the share placed in the right village,
the ratio and the peak memory.

Run: ``make bench-placement`` (``python benchmarks/bench_placement.py``; ``--records``
for another size).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

BATCH = 500_000


def _source() -> Path:
    configured = os.environ.get("KLASTERGEO_DATA_DIR")
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared"
    return path if (path / "desa.parquet").exists() else path / "data" / "boundaries"


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """Records with the names of their village (``truth``: its code) as typed."""
    from klastergeo.io import boundaries

    source = _source()
    desa = boundaries.load_names("desa", source=source)
    kec = boundaries.load_names("kecamatan", source=source)
    kab = boundaries.load_names("kabupaten", source=source)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(desa), n)
    codes = desa.index.to_numpy(dtype=object)[pick]
    # the typing is drawn per distinct village name (a registry repeats its villages)
    village = pd.Series(desa.to_numpy(dtype=object)[pick])
    kind = rng.random(n) < 1 / 3
    upper = rng.random(n) < 1 / 5
    typo = rng.random(n) < 1 / 10
    written = village.where(~typo, village.str.slice(0, -2) + village.str.slice(-1))
    written = written.where(~upper, written.str.upper())
    written = written.where(~kind, "Ds. " + written)
    district = pd.Series(kec.reindex(pd.Index(codes).str[:8]).to_numpy(dtype=object))
    district = district.where(~kind, "Kec. " + district)
    regency = pd.Series(kab.reindex(pd.Index(codes).str[:5]).to_numpy(dtype=object))
    regency = regency.str.replace("Kabupaten ", "Kab. ", regex=False)
    return pd.DataFrame(
        {"desa": written, "kecamatan": district, "kabupaten": regency, "truth": codes}
    )


def ours(records: pd.DataFrame) -> dict[str, float]:
    from klastergeo.io import boundaries
    from klastergeo.io.registry import placement

    source = _source()
    start = time.perf_counter()
    names = {lvl: boundaries.load_names(lvl, source=source) for lvl in placement.LEVELS}
    areas = pd.DataFrame({"name": names["desa"]})
    areas.index.name = "area_code"
    import geopandas as gpd

    gaz = placement.gazetteer(
        gpd.GeoDataFrame(areas, geometry=[None] * len(areas)), level="desa", names=names
    )
    codes = np.asarray(gaz.codes, dtype=object)
    right = 0
    placed = 0
    for begin in range(0, len(records), BATCH):
        batch = records.iloc[begin : begin + BATCH]
        found = placement.place(
            batch, gaz=gaz, desa="desa", kecamatan="kecamatan", kabupaten="kabupaten"
        )
        ok = found.area_pos >= 0
        placed += int(ok.sum())
        right += int((codes[found.area_pos[ok]] == batch["truth"].to_numpy()[ok]).sum())
    return {"seconds": time.perf_counter() - start, "placed": placed, "right": right}


def peer(records: pd.DataFrame) -> dict[str, float]:
    from rapidfuzz import fuzz, process

    from klastergeo.io import boundaries

    source = _source()
    start = time.perf_counter()
    desa = boundaries.load_names("desa", source=source)
    kec = boundaries.load_names("kecamatan", source=source)
    kab = boundaries.load_names("kabupaten", source=source)
    table = pd.DataFrame(
        {
            "code": desa.index,
            "d": desa.str.lower().to_numpy(),
            "k": kec.reindex(desa.index.str[:8]).str.lower().to_numpy(),
            "b": kab.reindex(desa.index.str[:5]).str.lower().to_numpy(),
        }
    ).drop_duplicates(["d", "k", "b"], keep=False)
    typed = pd.DataFrame(
        {
            "d": records["desa"].str.lower().str.replace("ds. ", "", regex=False),
            "k": records["kecamatan"].str.lower().str.replace("kec. ", "", regex=False),
            "b": records["kabupaten"].str.lower().str.replace("kab. ", "kabupaten ", regex=False),
        }
    )
    merged = typed.merge(table, on=["d", "k", "b"], how="left")
    by_district = {str(k): g for k, g in table.groupby("k")}
    left = np.flatnonzero(merged["code"].isna().to_numpy())
    codes = merged["code"].to_numpy(dtype=object)
    for row in left:  # the by-hand recipe: one fuzzy search per record left
        group = by_district.get(typed["k"].iat[row])
        if group is None:
            continue
        hit = process.extractOne(
            typed["d"].iat[row], group["d"].tolist(), scorer=fuzz.ratio, score_cutoff=80
        )
        if hit is not None:
            codes[row] = group["code"].iat[hit[2]]
    ok = pd.notna(codes)
    right = int((codes[ok] == records["truth"].to_numpy()[ok]).sum())
    return {"seconds": time.perf_counter() - start, "placed": int(ok.sum()), "right": right}


def _child(side: str, n: int) -> None:
    records = synthetic(n)
    out = ours(records) if side == "ours" else peer(records)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--side", choices=["ours", "peer"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        _child(args.side, args.records)
        return
    results = {}
    for side in ("ours", "peer"):
        run = subprocess.run(
            [sys.executable, __file__, "--records", str(args.records), "--side", side],
            capture_output=True,
            text=True,
            check=True,
        )
        results[side] = json.loads(run.stdout.strip().splitlines()[-1])
    n = args.records
    for label, side in (("klastergeo", "ours"), ("pandas merge + rapidfuzz per record", "peer")):
        r = results[side]
        print(
            f"{label}: {r['seconds']:.1f} s, placed {r['placed'] / n:.1%}, right "
            f"{r['right'] / n:.2%} of {n:,}; peak {r['peak_mb']:,.0f} MB"
        )
    a, b = results["ours"], results["peer"]
    print(
        f"ratio (ours / peer): time {a['seconds'] / b['seconds']:.2f}, "
        f"memory {a['peak_mb'] / b['peak_mb']:.2f}"
    )


if __name__ == "__main__":
    main()
