"""Co-location quotients at national scale: 1 million firms, 24 sectors, 99
permutations, against the plain scipy + pandas code a user would write, in one run.

klastergeo: :func:`klastergeo.colocation.global_clq` (nearest neighbours with ties on a
k-d tree of 3-D points, relabellings as one ``bincount`` each) and
:func:`~klastergeo.colocation.sentra_related` (local CLQ of every sentra firm, k = 8,
and the conditional relabellings of the firms outside the sentra). Peer: a k-d tree on
projected coordinates with ``query(k=2)`` (ties ignored) and ``pandas.crosstab`` of the
relabelled pairs per permutation, for the global CLQ only. Firms are synthetic (seeded,
uniform over Indonesia's extent), with 2,000 sentra of 25 firms each. Prints each time,
the ratio and the peak memory.

Run: ``python benchmarks/bench_colocation.py`` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(95, 141, n), rng.uniform(-11, 6, n)
    labels = rng.choice(np.array([str(s) for s in range(10, 34)]), n)
    sentra = np.full(n, None, dtype=object)
    centres = rng.choice(n, 2000, replace=False)
    members = (centres[:, None] + np.arange(25)[None, :]).ravel() % n
    lon[members] = np.repeat(lon[centres], 25) + rng.normal(0, 0.002, len(members))
    lat[members] = np.repeat(lat[centres], 25) + rng.normal(0, 0.002, len(members))
    labels[members] = np.repeat(labels[centres], 25)
    sentra[members] = np.repeat([f"S{k}" for k in range(2000)], 25)
    return lon, lat, labels, sentra


def peer(lon: np.ndarray, lat: np.ndarray, labels: np.ndarray, permutations: int) -> pd.DataFrame:
    x = np.radians(lon) * np.cos(np.radians(lat.mean())) * 6_371_008.8
    y = np.radians(lat) * 6_371_008.8
    _, idx = cKDTree(np.column_stack([x, y])).query(np.column_stack([x, y]), k=2)
    rows, cols = np.arange(len(x)), idx[:, 1]
    counts = pd.Series(labels).value_counts()
    n = len(labels)

    def clq(lab: np.ndarray) -> pd.DataFrame:
        pairs = pd.crosstab(lab[rows], lab[cols])
        expected = pd.DataFrame(
            np.add.outer(np.zeros(len(counts)), counts.to_numpy()) - np.eye(len(counts)),
            index=counts.index,
            columns=counts.index,
        ).loc[pairs.index, pairs.columns]
        return pairs.div(counts.loc[pairs.index], axis=0) / (expected / (n - 1))

    observed = clq(labels)
    above = observed * 0
    rng = np.random.default_rng(0)
    for _ in range(permutations):
        above += clq(rng.permutation(labels)) >= observed
    return (above + 1) / (permutations + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=1_000_000)
    parser.add_argument("--permutations", type=int, default=99)
    args = parser.parse_args()
    from klastergeo import colocation

    lon, lat, labels, sentra = synthetic(args.firms)
    print(f"{args.firms:,} firms, 24 sectors, 2,000 sentra, {args.permutations} permutations")
    start = time.perf_counter()
    table = colocation.global_clq(lon, lat, labels, permutations=args.permutations)
    ours_global = time.perf_counter() - start
    start = time.perf_counter()
    related = colocation.sentra_related(
        lon, lat, labels, sentra, permutations=args.permutations,
        linkages=colocation.read_linkages(),
    ).related  # fmt: skip
    ours_related = time.perf_counter() - start
    ours_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    peer(lon, lat, labels, args.permutations)
    theirs = time.perf_counter() - start
    print(f"klastergeo global_clq        {ours_global:7.1f} s  ({len(table):,} pairs)")
    print(f"klastergeo sentra_related    {ours_related:7.1f} s  ({len(related):,} rows)")
    total = ours_global + ours_related
    print(f"klastergeo total             {total:7.1f} s  peak {ours_peak:,.0f} MB")
    print(f"peer scipy+pandas global     {theirs:7.1f} s")
    print(f"global CLQ time ratio (ours / peer): {ours_global / theirs:.2f}")


if __name__ == "__main__":
    main()
