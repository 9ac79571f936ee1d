"""Queen contiguity of Indonesia's 83,402 villages, first call in a fresh process: ours with
the defaults (10 m tolerance, islands linked to their nearest area) against pygeoda's queen
weights.

Target (issue 29, item 5): ours, first call in a new process included, at most 1.5x
pygeoda's ``queen_weights`` (pygeoda's time excludes ``pygeoda.open``, ours excludes
reading the file; both exclude imports).

Every measurement runs in its own interpreter (``subprocess``), the sides alternating round
by round, so that both see the same load on a shared machine; the ratio of each round is
ours / pygeoda of that round. A first, untimed run of ours fills numba's cache (as
``klastergeo compile`` does at install). Also printed: ours at zero tolerance without
islands (GeoDa's definition) and a second, warm call of each side in the same process.

Run: ``python benchmarks/bench_contiguity.py [--rounds 7]`` with ``KLASTERGEO_DATA_DIR``
set (about a minute per round under load). Prints a Markdown table; the one in
``benchmarks/README.md`` comes from this script. ``--before SRC`` adds the defaults of
another tree (its ``src`` folder, e.g. from ``git archive``) as a fourth side, in the same
rotation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

OURS = """
    import logging, time, warnings
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    import geopandas as gpd
    from klastergeo.analysis import weights
    areas = gpd.read_parquet({path!r}).set_index("kode")
    start, cpu = time.perf_counter(), time.process_time()
    graph = weights.contiguity(areas{options})
    first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    weights.contiguity(areas{options})
    print(first, time.perf_counter() - start, graph.n_edges, first_cpu)
"""

GEODA = """
    import time
    import geopandas as gpd
    import pygeoda
    areas = gpd.read_parquet({path!r}).set_index("kode")
    data = pygeoda.open(areas.reset_index())
    start, cpu = time.perf_counter(), time.process_time()
    queen = pygeoda.queen_weights(data)
    first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    pygeoda.queen_weights(data)
    second = time.perf_counter() - start
    links = sum(len(queen.get_neighbors(i)) for i in range(queen.num_obs))
    print(first, second, links, first_cpu)
"""

SIDES = {
    "ours, defaults (10 m, islands linked)": ("ours", ""),
    "pygeoda queen_weights": ("geoda", ""),
    "ours, 0 m, islands kept (GeoDa's rule)": ("ours", ", tolerance=0.0, islands='keep'"),
}


def run(
    side: str, path: Path, options: str, src: str | None = None
) -> tuple[float, float, int, float]:
    """First and second call (seconds), the number of links and the first call's CPU time
    (seconds), from a new interpreter (importing klastergeo from ``src`` when given)."""
    script = (OURS if side == "ours" else GEODA).format(path=str(path), options=options)
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    first, second, links, cpu = out.strip().splitlines()[-1].split()
    return float(first), float(second), int(links), float(cpu)


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boundaries", default=os.environ.get("KLASTERGEO_DATA_DIR"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", help="src folder of another tree: its defaults too")
    args = parser.parse_args()
    if not args.boundaries:
        sys.exit("set KLASTERGEO_DATA_DIR or pass --boundaries")
    path = Path(args.boundaries) / "desa.parquet"
    sides: dict[str, tuple[str, str, str | None]] = {
        name: (side, options, None) for name, (side, options) in SIDES.items()
    }
    if args.before:
        sides["before: defaults (10 m, islands linked)"] = ("ours", "", args.before)
    for side, options, src in sides.values():  # fill numba's cache, untimed
        if side == "ours":
            run(side, path, options, src)
    before = load()
    times: dict[str, list[tuple[float, float, int, float]]] = {name: [] for name in sides}
    names = list(sides)
    for round_ in range(args.rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            side, options, src = sides[name]
            times[name].append(run(side, path, options, src))
        print(
            f"round {round_ + 1}: " + ", ".join(f"{times[n][-1][0]:.2f}" for n in names), flush=True
        )
    geoda = [run_[0] for run_ in times["pygeoda queen_weights"]]
    geoda_cpu = [run_[3] for run_ in times["pygeoda queen_weights"]]
    print(f"\n{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; load before {before}, after {load()}")
    print(f"{args.rounds} rounds, each side in a fresh process per round, order rotating\n")
    print(
        "| side | first call: wall (median, min) | ratio to pygeoda (rounds) "
        "| first call: CPU (median) | CPU ratio | warm call (median) | links |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in names:
        firsts = [run_[0] for run_ in times[name]]
        cpus = [run_[3] for run_ in times[name]]
        warm = statistics.median(run_[1] for run_ in times[name])
        ratios = [first / other for first, other in zip(firsts, geoda, strict=True)]
        cpu_ratios = [cpu / other for cpu, other in zip(cpus, geoda_cpu, strict=True)]
        print(
            f"| {name} | {statistics.median(firsts):.2f} s, {min(firsts):.2f} s "
            f"| {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) "
            f"| {statistics.median(cpus):.2f} s | {statistics.median(cpu_ratios):.2f}x "
            f"| {warm:.2f} s | {times[name][0][2]:,} |"
        )


if __name__ == "__main__":
    main()
