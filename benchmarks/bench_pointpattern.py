"""Ripley's L with a 99-simulation CSR envelope: klastergeo against pointpats, one process.

Why klastergeo counts K itself (``klastergeo.analysis.pointpattern``): pointpats'
``distance_statistics.l_test`` builds all n (n - 1) / 2 pairwise distances for the pattern
and for each simulation and cannot be seeded. This script times both on the same pattern
(a clustered sector of n firms in a 100 x 100 km window) and prints the ratio and the
largest difference of the L curves (same support; pointpats' K uses n^2 and the bounding
box, so the curves are compared after the documented rescaling).

Run: ``make bench-pointpattern`` or ``python benchmarks/bench_pointpattern.py``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import shapely


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000", help="pattern sizes")
    parser.add_argument("--simulations", type=int, default=99)
    args = parser.parse_args()
    from pointpats import distance_statistics as pp

    from klastergeo.analysis import pointpattern

    rng = np.random.default_rng(0)
    window = shapely.box(0, 0, 100_000, 100_000)
    support = np.linspace(250, 5000, 20)
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        parents = rng.uniform(5_000, 95_000, (n // 20, 2))
        xy = np.repeat(parents, 20, axis=0) + rng.normal(0, 800, (n // 20 * 20, 2))
        xy = np.clip(xy, 1, 99_999)
        start = time.perf_counter()
        ours = pointpattern.ripley(
            xy, window=window, distances=support, simulations=args.simulations, max_points=n
        )
        ours_t = time.perf_counter() - start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            theirs = pp.l_test(
                xy, support=support, hull=window, n_simulations=args.simulations, n_jobs=1
            )
            theirs_t = time.perf_counter() - start
        # pointpats: K = A_bbox 2 pairs / n^2; ours: A_window 2 pairs / (n (n - 1))
        box = shapely.box(*xy.min(axis=0), *xy.max(axis=0))
        scale = window.area / box.area * n / (n - 1)
        difference = np.max(np.abs(ours["L"].to_numpy() - theirs.statistic * np.sqrt(scale)))
        rows.append((n, ours_t, theirs_t, difference))
        print(f"n={n}: klastergeo {ours_t:.2f} s, pointpats {theirs_t:.2f} s", flush=True)
    print()
    print("| firms | klastergeo | pointpats l_test (n_jobs=1) | ratio | max L difference (m) |")
    print("|---|---|---|---|---|")
    for n, ours_t, theirs_t, difference in rows:
        print(
            f"| {n:,} | {ours_t:.2f} s | {theirs_t:.2f} s | {theirs_t / ours_t:.0f}x faster "
            f"| {difference:.2e} |"
        )


if __name__ == "__main__":
    main()
