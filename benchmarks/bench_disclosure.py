"""Disclosure control at national size: 26.7 million firms in 83,402 villages x 21
sectors (1.75 M cells), against the plain pandas code a user would write, in one run.

klastergeo: :func:`klastergeo.analysis.disclosure.sizes` (firms, totals and the two largest per
cell, one ``bincount`` and two ``maximum.at`` passes) and
:func:`~klastergeo.analysis.disclosure.suppress` (threshold and (2, 85 %) dominance rules, then
secondary suppression within the 514 regencies and the audit) for one measure. Peer:
``groupby`` with ``sum``, ``size`` and ``nlargest(2)`` per cell and the two primary rules
only (no secondary suppression, which the peer does not have). Firms are synthetic
(seeded): village sizes and firm sizes log-normal, as registries are skewed. Each side
runs in a process of its own; prints each time, the ratio and the peak memory.

Run: ``make bench-disclosure`` (``python benchmarks/bench_disclosure.py``; ``--firms``
for another size).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

VILLAGES, SECTORS, REGENCIES = 83_402, 21, 514


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each firm's cell (village x sector) and its workers (NaN for 5 % not reported)."""
    rng = np.random.default_rng(seed)
    weight = rng.lognormal(0, 1.2, VILLAGES)
    village = rng.choice(VILLAGES, n, p=weight / weight.sum())
    sector = rng.choice(SECTORS, n, p=np.linspace(3, 1, SECTORS) / np.linspace(3, 1, SECTORS).sum())
    workers = np.round(rng.lognormal(1.0, 1.0, n)) + 1
    workers[rng.random(n) < 0.05] = np.nan
    return village * SECTORS + sector, workers


def ours(cell: np.ndarray, workers: np.ndarray) -> dict[str, float]:
    from klastergeo.analysis import disclosure as sdc

    start = time.perf_counter()
    cells = sdc.sizes(workers, cell, VILLAGES * SECTORS)
    primary = sdc.primary(cells, sdc.Rules())
    mid = time.perf_counter()
    regency = (np.arange(VILLAGES * SECTORS) // SECTORS) * REGENCIES // VILLAGES
    labels = regency * SECTORS + np.arange(VILLAGES * SECTORS) % SECTORS
    done = sdc.suppress(cells, [labels], sdc.Rules(), flags=primary)
    end = time.perf_counter()
    return {
        "primary_s": mid - start,
        "total_s": end - start,
        "primary": int((primary > 0).sum()),
        "secondary": int((done.cells == sdc.SECONDARY).sum()),
    }


def peer(cell: np.ndarray, workers: np.ndarray) -> dict[str, float]:
    start = time.perf_counter()
    frame = pd.DataFrame({"cell": cell, "w": workers}).dropna()
    grouped = frame.groupby("cell")["w"]
    total, size = grouped.sum(), grouped.size()
    top2 = grouped.nlargest(2).groupby(level=0).sum()
    flagged = (size < 3) | (top2 > 0.85 * total)
    return {"primary_s": time.perf_counter() - start, "primary": int(flagged.sum())}


def _child(side: str, n: int) -> None:
    cell, workers = synthetic(n)
    out = ours(cell, workers) if side == "ours" else peer(cell, workers)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--firms", type=int, default=26_700_000)
    parser.add_argument("--side", choices=["ours", "peer"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        _child(args.side, args.firms)
        return
    results = {}
    for side in ("ours", "peer"):
        run = subprocess.run(
            [sys.executable, __file__, "--firms", str(args.firms), "--side", side],
            capture_output=True,
            text=True,
            check=True,
        )
        results[side] = json.loads(run.stdout.strip().splitlines()[-1])
    a, b = results["ours"], results["peer"]
    print(f"{args.firms:,} firms, {VILLAGES * SECTORS:,} cells")
    print(
        f"klastergeo: primary rules {a['primary_s']:.1f} s, with secondary suppression and "
        f"audit {a['total_s']:.1f} s; {a['primary']:,} primary, {a['secondary']:,} "
        f"secondary; peak {a['peak_mb']:,.0f} MB"
    )
    print(
        f"pandas groupby + nlargest (primary rules only): {b['primary_s']:.1f} s; "
        f"{b['primary']:,} primary; peak {b['peak_mb']:,.0f} MB"
    )
    print(
        f"ratio (ours / peer), primary rules: time {a['primary_s'] / b['primary_s']:.2f}, "
        f"memory {a['peak_mb'] / b['peak_mb']:.2f}"
    )


if __name__ == "__main__":
    main()
