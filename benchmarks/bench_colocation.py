"""Co-location quotients at national scale: 1 million firms, 24 sectors, 99
permutations, against the plain scipy + pandas code a user would write, in one run.

klastergeo: :func:`klastergeo.analysis.colocation.global_clq` (nearest neighbours with ties on a
k-d tree of 3-D points, relabellings as one ``bincount`` each) and
:func:`~klastergeo.analysis.colocation.sentra_related` (local CLQ of every sentra firm, k = 8,
and, per sentra, the relabellings of the firms not of its sector). Peer: a k-d tree on
projected coordinates with ``query(k=2)`` (ties ignored) and ``pandas.crosstab`` of the
relabelled pairs per permutation, for the global CLQ only. Firms are synthetic (seeded,
uniform over Indonesia's extent), with 2,000 sentra of 25 firms each. Prints each time,
the ratio and the peak memory (each side runs in a process of its own).

Run: ``make bench-colocation`` (``python benchmarks/bench_colocation.py``, about 2
minutes).

Tied coordinates: ``python benchmarks/bench_colocation.py --tied 60000`` times ours alone
on that many firms at one point (a market building) among 3,000 firms scattered over 50 km,
20 sectors and a sentra of 50 firms inside the market (firm by firm, the ties of one
point made the global quotient quadratic in them: 77 s and 2.8 GB for 6,000).

The profile step: ``python benchmarks/bench_colocation.py --profile-step REGISTRY --before
SRC [--repeat 2]`` runs ``klastergeo run --level desa`` on a registry up to the end of the
profile step, in a process of its own, for this checkout and for the one whose ``src``
folder is SRC, alternately; prints the step's wall and CPU time (every thread), its peak
memory and its parts' times.

Tiles: ``python benchmarks/bench_colocation.py --tiles [--firms 26700000] [--repeat 2]``
times the whole-set functions against the pipeline's path
(:func:`~klastergeo.analysis.colocation.tiled_colocation` on points spilled to a file per
tile), alternately, each in a process of its own, with the peak memory above the inputs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


def tied(n: int, background: int = 3_000, seed: int = 0) -> tuple[np.ndarray, ...]:
    """``n`` firms at one point among ``background`` scattered firms, 20 sectors, a
    sentra of the market's first 50 firms (one sector)."""
    rng = np.random.default_rng(seed)
    lon = np.concatenate([np.full(n, 110.4), 110 + rng.random(background) * 0.5])
    lat = np.concatenate([np.full(n, -7.0), -7.2 + rng.random(background) * 0.5])
    labels = rng.choice(np.array([str(s) for s in range(10, 30)]), n + background)
    sentra = np.full(n + background, None, dtype=object)
    labels[:50], sentra[:50] = "10", "S1"
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


def ours(firms: int, permutations: int, at_one_point: int = 0) -> dict[str, float]:
    from klastergeo.analysis import colocation

    lon, lat, labels, sentra = tied(at_one_point) if at_one_point else synthetic(firms)
    start = time.perf_counter()
    table = colocation.global_clq(lon, lat, labels, permutations=permutations)
    middle = time.perf_counter()
    links = colocation.sentra_related(
        lon, lat, labels, sentra, permutations=permutations,
        linkages=colocation.read_linkages(),
    )  # fmt: skip
    end = time.perf_counter()
    return {
        "global": middle - start,
        "related": end - middle,
        "total": end - start,
        "pairs": len(table),
        "rows": len(links.related),
        "significant": int(links.related["significant"].sum()),
        "related_firms": len(links.firms),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _inputs_held() -> float:
    """Forget the peak memory so far (the inputs' making: ``clear_refs`` 5 resets
    ``VmHWM``) and give the memory held now (the inputs), MB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _rss_mb("VmRSS")


def _rss_mb(field: str) -> float:
    """This process's resident memory (``VmRSS``) or its peak (``VmHWM``), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def whole(firms: int, permutations: int) -> dict[str, float]:
    """The whole-set functions (one k-d tree over every firm), with the peak memory
    above that of the inputs."""
    from klastergeo.analysis import colocation

    lon, lat, labels, sentra = synthetic(firms)
    labels = pd.Categorical(labels)  # as the pipeline holds sectors
    base = _inputs_held()
    start = time.perf_counter()
    table = colocation.global_clq(lon, lat, labels, permutations=permutations)
    middle = time.perf_counter()
    links = colocation.sentra_related(
        lon, lat, labels, sentra, permutations=permutations,
        linkages=colocation.read_linkages(),
    )  # fmt: skip
    end = time.perf_counter()
    return {
        "global": middle - start, "related": end - middle, "total": end - start,
        "pairs": len(table), "rows": len(links.related),
        "above_inputs_mb": _rss_mb("VmHWM") - base, "peak_mb": _rss_mb("VmHWM"),
    }  # fmt: skip


def tiled(firms: int, permutations: int, tile_firms: int) -> dict[str, float]:
    """The pipeline's path: the points spilled to per-tile files part by part, then one
    pass of a k-d tree per tile and halo for both quotients."""
    import tempfile

    from klastergeo.analysis import colocation
    from klastergeo.app.pipeline.colocation_tiles import SpilledTiling, point_chunks

    lon, lat, labels, sentra = synthetic(firms)
    labels = pd.Categorical(labels)
    base = _inputs_held()
    start = time.perf_counter()
    codes, names = colocation.sector_codes(labels)
    inside = np.flatnonzero(pd.notna(sentra))
    with tempfile.TemporaryDirectory() as folder:
        tiling = SpilledTiling.write(point_chunks(lon, lat), Path(folder), firms=tile_firms)
        middle = time.perf_counter()
        found = colocation.tiled_colocation(
            tiling, codes, names, sentra=(inside, sentra[inside]), permutations=permutations,
            min_firms=5, linkages=colocation.read_linkages(),
        )  # fmt: skip
    end = time.perf_counter()
    assert found.table is not None and found.links is not None
    return {
        "spill": middle - start, "pass": end - middle, "total": end - start,
        "tiles": found.tiles, "trees": found.rounds,
        "pairs": len(found.table), "rows": len(found.links.related),
        "above_inputs_mb": _rss_mb("VmHWM") - base, "peak_mb": _rss_mb("VmHWM"),
    }  # fmt: skip


def compare(firms: int, permutations: int, tile_firms: int, repeat: int) -> None:
    """Whole set against tiles, alternately, each run in a process of its own."""
    print(f"{firms:,} firms, 24 sectors, 2,000 sentra, {permutations} permutations, "
          f"tiles of about {tile_firms:,} firms")  # fmt: skip
    for _ in range(repeat):
        for side in ("whole", "tiles"):
            command = [sys.executable, __file__, "--side", side, "--firms", str(firms),
                       "--permutations", str(permutations),
                       "--tile-firms", str(tile_firms)]  # fmt: skip
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            print(side, done.stdout.strip().splitlines()[-1], flush=True)


#: The profile step's parts timed by ``--profile-step`` (those a checkout has).
PROFILE_PARTS = (
    "_concentration", "_scan", "_members", "_colocation", "measure_by_tiles",
    "_sector_firms", "_point_patterns",
)  # fmt: skip


def _rss(field: str) -> float:
    """This process's ``VmRSS`` or ``VmHWM``, MB."""
    return _rss_mb(field)


def profile_step(records: str, out: str) -> dict[str, float]:
    """``klastergeo run --level desa`` up to the end of the profile step (then stopped):
    the step's wall and CPU time (every thread), its peak resident memory, and each of
    its parts' times (:data:`PROFILE_PARTS`)."""
    import functools

    import klastergeo.app.pipeline as pipeline
    from klastergeo.app.cli import main as cli
    from klastergeo.app.pipeline import profiling

    parts: dict[str, list[float]] = {}

    def timed(name: str, f: Any) -> Any:
        @functools.wraps(f)
        def g(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return f(*args, **kwargs)
            finally:
                got = parts.setdefault(name, [0.0, 0.0])
                got[0] += time.perf_counter() - wall
                got[1] += time.process_time() - cpu

        return g

    for name in PROFILE_PARTS:
        if hasattr(profiling, name):
            setattr(profiling, name, timed(name, getattr(profiling, name)))
    result: dict[str, float] = {}
    step = pipeline.profile

    def stop_after(*args: Any, **kwargs: Any) -> None:
        before = _inputs_held()
        wall, cpu = time.perf_counter(), time.process_time()
        step(*args, **kwargs)
        result.update(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu)
        result.update(before_mb=before, peak_mb=_rss("VmHWM"))
        result.update({f"{k}_wall": v[0] for k, v in parts.items()})
        result.update({f"{k}_cpu": v[1] for k, v in parts.items()})
        raise SystemExit(0)

    pipeline.profile = stop_after
    with contextlib.suppress(SystemExit):  # stopped after the step
        cli(["run", "--records", records, "--level", "desa", "--out", out])
    return result


def compare_profile_step(records: str, before: str, repeat: int) -> None:
    """The profile step of this checkout and of the one whose ``src`` is ``before``,
    alternately, each in a process of its own."""
    import os
    import tempfile

    here = str(Path(__file__).resolve().parents[1] / "src")
    print(f"profile step on {records}: ours ({here}) and before ({before}), alternately")
    for _ in range(repeat):
        for side, source in (("before", before), ("ours", here)):
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, str(Path(here).parent)])}
            with tempfile.TemporaryDirectory() as out:
                command = [sys.executable, __file__, "--side", "profile", "--records", records,
                           "--out", str(Path(out) / "run")]  # fmt: skip
                done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
            got = json.loads(done.stdout.strip().splitlines()[-1])
            shown = ", ".join(
                f"{k.removesuffix('_wall')} {got[k]:.1f}/{got[k[:-5] + '_cpu']:.1f}"
                for k in got if k.endswith("_wall")
            )  # fmt: skip
            print(f"{side:6s} wall {got['wall']:6.1f} s cpu {got['cpu']:6.1f} s, peak "
                  f"{got['peak_mb']:,.0f} MB ({got['before_mb']:,.0f} before); "
                  f"wall/cpu s: {shown}", flush=True)  # fmt: skip


def theirs(firms: int, permutations: int) -> dict[str, float]:
    lon, lat, labels, _ = synthetic(firms)
    start = time.perf_counter()
    peer(lon, lat, labels, permutations)
    return {
        "global": time.perf_counter() - start,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=1_000_000)
    parser.add_argument("--permutations", type=int, default=99)
    parser.add_argument("--no-peer", action="store_true", help="time klastergeo alone")
    parser.add_argument(
        "--tied", type=int, default=0, help="firms at one point among 3,000 (ours alone)"
    )
    parser.add_argument(
        "--tiles", action="store_true", help="the whole-set functions against the tiled pass"
    )
    parser.add_argument("--tile-firms", type=int, default=500_000)
    parser.add_argument(
        "--profile-step", metavar="REGISTRY",
        help="time the pipeline's profile step on this registry, ours against --before",
    )  # fmt: skip
    parser.add_argument("--before", help="the src folder of the checkout to compare with")
    parser.add_argument("--records", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--side", choices=["ours", "peer", "whole", "tiles", "profile"], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.profile_step:
        compare_profile_step(args.profile_step, args.before, args.repeat)
        return
    if args.side == "profile":
        print(json.dumps(profile_step(args.records, args.out)))
        return
    if args.tiles:
        compare(args.firms, args.permutations, args.tile_firms, args.repeat)
        return
    if args.side:  # one side in a process of its own: its own peak memory
        if args.side == "whole":
            print(json.dumps(whole(args.firms, args.permutations)))
        elif args.side == "tiles":
            print(json.dumps(tiled(args.firms, args.permutations, args.tile_firms)))
        elif args.side == "ours":
            print(json.dumps(ours(args.firms, args.permutations, args.tied)))
        else:
            print(json.dumps(theirs(args.firms, args.permutations)))
        return
    if args.tied:
        command = [sys.executable, __file__, "--side", "ours", "--tied", str(args.tied),
                   "--permutations", str(args.permutations)]  # fmt: skip
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        a = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{args.tied:,} firms at one point among 3,000, 20 sectors, "
              f"{args.permutations} permutations")  # fmt: skip
        print(f"klastergeo global_clq        {a['global']:7.2f} s  ({a['pairs']:,} pairs)")
        print(f"klastergeo sentra_related    {a['related']:7.2f} s  ({a['rows']:,} rows)")
        print(f"klastergeo total             {a['total']:7.2f} s  peak {a['peak_mb']:,.0f} MB")
        return
    print(f"{args.firms:,} firms, 24 sectors, 2,000 sentra, {args.permutations} permutations")
    result = {}
    for side in ("ours",) if args.no_peer else ("ours", "peer"):
        command = [sys.executable, __file__, "--side", side, "--firms", str(args.firms),
                   "--permutations", str(args.permutations)]  # fmt: skip
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        result[side] = json.loads(done.stdout.strip().splitlines()[-1])
    a = result["ours"]
    print(f"klastergeo global_clq        {a['global']:7.1f} s  ({a['pairs']:,} pairs)")
    print(
        f"klastergeo sentra_related    {a['related']:7.1f} s  ({a['rows']:,} rows, "
        f"{a['significant']:,} significant, {a['related_firms']:,} related firms)"
    )
    print(f"klastergeo total             {a['total']:7.1f} s  peak {a['peak_mb']:,.0f} MB")
    if args.no_peer:
        return
    b = result["peer"]
    print(f"peer scipy+pandas global     {b['global']:7.1f} s  peak {b['peak_mb']:,.0f} MB")
    print(f"global CLQ time ratio (ours / peer): {a['global'] / b['global']:.2f}")
    ratio = a["peak_mb"] / b["peak_mb"]
    print(f"peak memory ratio (ours, both quotients / peer, global): {ratio:.2f}")


if __name__ == "__main__":
    main()
