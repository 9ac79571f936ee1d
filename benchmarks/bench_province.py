"""A province end to end: ``klastergeo run --area 33 --level desa`` against a plain script.

Target (issue 29, item 4; issue 12 asked 4x): a registry of about 74,000 firms in Jawa
Tengah (province 33, 8,563 villages) end to end at least 3x faster than a plain geopandas
+ esda + folium script doing only the hot spots and one map.

The registry is ``national_registry.py``'s, restricted to the province: its generator run
on Jawa Tengah's villages only (seeded; Parquet and ``;``-separated decimal-comma CSV with
``id_usaha``, ``nama_usaha``, ``lintang``, ``bujur``, ``kbli``, ``tenaga_kerja``,
``nilai_produksi``, ``investasi``; 24 KBLI classes in 20 divisions, denser small villages,
0.5 % of the points moved 0.5-3 km, and its dirty rows), plus ``--sentra`` planted sentra
(default 10): groups of 3-6 neighbouring villages with 250-550 firms of one manufacturing
class each, about 4,000 of the records. (At about 9 firms per village, the national
generator's own specialty villages hold about 4 firms of their class, too few for a
sentra.) It is written once under ``--cache`` (in the temporary folder) and reused.

Both sides run as fresh child processes (Python start and imports included), timed by
wall clock, their resident memory (the process and its children) sampled from /proc every
0.1 s:

- **klastergeo**: ``klastergeo run --records REGISTRY --area 33 --level desa --out DIR``,
  i.e. everything a run does: read and validate every record (coordinates, swapped
  coordinates, duplicates, KBLI codes, the village of every firm, rejected rows kept with
  their reasons), counts per village x sector, queen contiguity, location quotients,
  LISA and Gi* (999 permutations) for every sector, sentra, profiles and point patterns,
  models, the web map of all sectors and statistics, the figures and the report, and
  every output file. The per-step times and memory come from the run's ``summary.json``.
- **peer**: only the hot spots and one map, as a competent user writes them with the
  standard stack: ``pandas.read_parquet`` of the registry (decimal commas parsed),
  ``geopandas.points_from_xy``, the province's villages read with a pyarrow filter,
  ``geopandas.sjoin`` (within), ``groupby`` village x KBLI division, queen contiguity with
  ``libpysal.graph.Graph.build_contiguity`` (binary), ``esda.G_Local(star=True,
  permutations=999, seed=...)`` for every division (esda's defaults otherwise:
  row-standardised, ``n_jobs=-1``; ``--peer-jobs 1`` runs it in one process), and one
  ``folium`` map (``folium.GeoJson`` of the villages coloured by the Gi* hot-spot bins of
  the largest division, with a tooltip) saved to HTML. It does no validation, no LQ,
  LISA, sentra, profiles, models or report. esda's numba kernels are not cached on disk,
  so a fresh script compiles them: the peer warms them up on a 10 x 10 lattice first,
  that warm-up is timed apart, and the ratio is printed with and without it.

Run: ``make bench-province`` or
``python benchmarks/bench_province.py --rows 74000 --repeat 2 --format parquet``
(``--only ours`` or ``--only peer``: one side, no ratio; ``--before SRC``: another tree's
run too, alternately; ``--by-process``: the CPU of klastergeo's run and of each child
process it starts, the figures' and the workbook's, each printed by the process itself as
it exits).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the peer's child process times its own imports
    import geopandas as gpd
    import pyarrow as pa

PROVINCE = "33"

#: ``--by-process``: a ``sitecustomize`` put first on the run's path (its children, which
#: inherit the path, load it too) that prints each process's CPU when it exits; a child
#: is named by what it imported (matplotlib: the figures; openpyxl: the workbook).
_BY_PROCESS = """\
import atexit, os, sys


def _cpu_at_exit():
    times = os.times()
    child = "klastergeo.app.beside" in " ".join(sys.orig_argv)
    role = (
        "run" if not child
        else "figures child" if "matplotlib" in sys.modules
        else "workbook child" if "openpyxl" in sys.modules
        else "child"
    )
    print(f"{MARK}\\t{role}\\t{times.user:.2f}\\t{times.system:.2f}\\t{len(sys.modules)}",
          file=sys.stderr, flush=True)


MARK = "[bench-province-cpu]"
atexit.register(_cpu_at_exit)
"""
_MARK = "[bench-province-cpu]"


def _watched(command: list[str], log: Path, env: dict[str, str]) -> dict:
    """Run ``command`` as a child process: exit code, wall time, sampled peak memory."""
    from bench_national import _rss_mb  # the same /proc sampler as the national benchmark

    start = time.perf_counter()
    # CPU of the waited-for children (the run, its workers and its beside processes)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    with log.open("w") as handle:
        child = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
        peak = [0.0]
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.1):
                peak[0] = max(peak[0], _rss_mb(child.pid))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        code = child.wait()
        stop.set()
        watcher.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
    return {
        "code": code,
        "wall_s": time.perf_counter() - start,
        "cpu_s": cpu,
        "peak_mb_sampled": peak[0],
    }


def _plant_sentra(villages: gpd.GeoDataFrame, count: int, seed: int) -> pa.Table:
    """The sentra records: ``count`` groups of 3-6 neighbouring villages (a seeded village
    and its nearest by centroid), each with 250-550 firms of one manufacturing class, in
    the national generator's schema (text coordinates with decimal commas)."""
    import numpy as np
    import pyarrow as pa
    import shapely
    from national_registry import CLASSES, WORDS, _decimal_comma, _points_in

    rng = np.random.default_rng(seed + 1)
    geoms = villages.geometry.to_numpy()
    shapely.prepare(geoms)
    bounds = villages.geometry.bounds.to_numpy()
    centre = shapely.get_coordinates(shapely.point_on_surface(geoms))
    owner, kbli = [], []
    for cls in rng.choice(CLASSES[4:18], count, replace=False):
        first = rng.integers(len(villages))
        near = np.argsort(((centre - centre[first]) ** 2).sum(1))[: rng.integers(3, 7)]
        n = int(rng.integers(250, 551))
        owner.append(rng.choice(near, n))
        kbli.append(np.full(n, cls))
    owners, classes = np.concatenate(owner), np.concatenate(kbli)
    n = len(owners)
    x, y = _points_in(geoms, bounds, owners, rng)
    names = np.char.add(np.char.add("CV ", WORDS[rng.integers(0, len(WORDS), n)]), " ")
    names = np.char.add(names, WORDS[rng.integers(0, len(WORDS), n)])
    table = pa.table(
        {
            "id_usaha": np.char.add("UMK-S", np.char.zfill((np.arange(n) + 1).astype(str), 8)),
            "nama_usaha": names,
            "lintang": _decimal_comma(y, 6),
            "bujur": _decimal_comma(x, 6),
            "kbli": classes,
            "tenaga_kerja": rng.integers(1, 40, n),
            "nilai_produksi": np.round(rng.lognormal(4.5, 1, n), 1),
            "investasi": np.round(rng.lognormal(3.5, 1, n), 1),
        }
    )
    return table


def registry(rows: int, cache: Path, boundaries: Path, seed: int, sentra: int) -> Path:
    """The province's registry folder, generated once: ``national_registry.generate`` on
    a copy of the province's villages, plus ``sentra`` planted sentra (the national
    generator's specialty villages hold about 4 firms of their class at this density,
    below a sentra's minimum of 20)."""
    folder = cache / f"p{PROVINCE}-n{rows}-s{seed}-k{sentra}"
    done = folder / "done.json"
    if done.exists():
        return folder
    import geopandas as gpd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    from national_registry import _decimal_comma, generate

    source = cache / f"boundaries-{PROVINCE}"
    source.mkdir(parents=True, exist_ok=True)
    villages = gpd.read_parquet(
        boundaries / "desa.parquet",
        columns=["kode", "geometry"],
        filters=[("kode_prov", "=", PROVINCE)],
    )
    villages = villages.sort_values("kode").reset_index(drop=True)
    villages.to_parquet(source / "desa.parquet")
    planted = _plant_sentra(villages, sentra, seed)
    n_planted = planted.num_rows
    print(
        f"generating {rows:,} records ({n_planted:,} of them in {sentra} planted sentra) "
        f"over {len(villages):,} villages in {folder} ..."
    )
    start = time.perf_counter()
    generate(rows - n_planted, folder, source=source, seed=seed)
    parquet = folder / "registry.parquet"
    background = pq.read_table(parquet)
    planted = planted.cast(background.schema)
    pq.write_table(pa.concat_tables([background, planted]), parquet, compression="zstd")
    as_text = pa.table(
        {
            name: (
                _decimal_comma(planted[name].to_numpy(), 1)
                if name in ("nilai_produksi", "investasi")
                else pc.cast(planted[name], pa.string())
            )
            for name in planted.column_names
        }
    )
    with (folder / "registry.csv").open("ab") as handle:
        pacsv.write_csv(
            as_text,
            handle,
            write_options=pacsv.WriteOptions(
                include_header=False, delimiter=";", quoting_style="needed"
            ),
        )
    done.write_text(
        json.dumps({"rows": rows, "seed": seed, "villages": len(villages), "planted": n_planted})
    )
    print(f"generated in {time.perf_counter() - start:.1f} s")
    return folder


def run_ours(records: Path, work: Path, env: dict[str, str]) -> dict:
    """``klastergeo run`` in a child process, its steps from ``summary.json``."""
    out = work / "run"
    command = [
        str(Path(sys.executable).with_name("klastergeo")),
        "run",
        "--records",
        str(records),
        "--area",
        PROVINCE,
        "--level",
        "desa",
        "--out",
        str(out),
    ]
    log = work / "run.log"
    result = _watched(command, log, env)
    result["processes"] = [  # --by-process: role, user and system CPU, modules
        line.split("\t")[1:]
        for line in log.read_text(errors="replace").splitlines()
        if line.startswith(_MARK)
    ]
    summary_path = out / "summary.json"
    if result["code"] == 0 and summary_path.exists():
        summary = json.loads(summary_path.read_text())
        result["timings"] = summary.get("timings", {})
        result["peak_rss_mb"] = summary.get("peak_rss_mb", {})
        result["kept"] = summary.get("records", {}).get("kept")
        result["sectors"] = len(summary.get("sectors", {}).get("analysed", []))
        result["sentra"] = summary.get("sentra")
        result["skipped"] = summary.get("sectors", {}).get("skipped_few_firms", {})
        result["not_computed"] = summary.get("not_computed", [])
        result["peak_mb"] = max(result["peak_mb_sampled"], *result["peak_rss_mb"].values())
    else:
        result["tail"] = log.read_text(errors="replace").splitlines()[-8:]
    return result


def run_peer(records: Path, work: Path, env: dict[str, str], boundaries: Path, jobs: int) -> dict:
    """The plain script (:func:`peer`) in a child process; its parts from its last line."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--peer-child",
        str(records),
        "--boundaries",
        str(boundaries),
        "--out",
        str(work / "peer"),
        "--peer-jobs",
        str(jobs),
    ]
    log = work / "peer.log"
    result = _watched(command, log, env)
    lines = log.read_text(errors="replace").splitlines()
    if result["code"] == 0 and lines and lines[-1].startswith("{"):
        result.update(json.loads(lines[-1]))
        result["peak_mb"] = max(result["peak_mb_sampled"], result["maxrss_mb"])
    else:
        result["tail"] = lines[-8:]
    return result


def peer(records: Path, boundaries: Path, out: Path, *, seed: int = 0, jobs: int = -1) -> dict:
    """The hot spots and one map with pandas, geopandas, libpysal, esda and folium.

    Returns the seconds of every part, the sizes, and this process's peak memory.
    """
    parts: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        parts[name] = now - clock[0]
        clock[0] = now

    import esda
    import folium
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from libpysal.graph import Graph
    from libpysal.weights import lat2W

    lap("imports")
    desa = gpd.read_parquet(
        boundaries / "desa.parquet",
        columns=["kode", "nama", "geometry"],
        filters=[("kode_prov", "=", PROVINCE)],
    )
    desa = desa.sort_values("kode").reset_index(drop=True)
    lap("read villages")
    frame = pd.read_parquet(records, columns=["lintang", "bujur", "kbli"])
    lat = pd.to_numeric(frame["lintang"].str.replace(",", "."), errors="coerce")
    lon = pd.to_numeric(frame["bujur"].str.replace(",", "."), errors="coerce")
    lap("read registry")
    ok = (lat.notna() & lon.notna()).to_numpy()
    points = gpd.GeoDataFrame(
        {"sector": frame.loc[ok, "kbli"].str[:2].to_numpy()},
        geometry=gpd.points_from_xy(lon[ok], lat[ok]),
        crs=desa.crs,
    )
    lap("points")
    joined = gpd.sjoin(points, desa[["kode", "geometry"]], how="inner", predicate="within")
    lap("sjoin")
    counts = joined.groupby(["kode", "sector"]).size().unstack(fill_value=0).reindex(desa["kode"])
    counts = counts.fillna(0).astype(float)
    lap("groupby")
    # binary: esda's Gi* then adds a self-weight of 1 and row-standardises
    graph = Graph.build_contiguity(desa.set_index("kode"), rook=False).transform("B")
    lap("queen contiguity")
    # esda's kernels are compiled on first use (not cached on disk): warm them up apart.
    lattice = Graph.from_W(lat2W(10, 10, rook=False)).transform("B")
    esda.G_Local(np.arange(100.0), lattice, star=True, permutations=99, seed=seed, n_jobs=jobs)
    lap("esda warm-up (numba compilation)")
    z = {}
    bins = {}
    for sector in counts.columns:
        gi = esda.G_Local(
            counts[sector].to_numpy(),
            graph,
            star=True,
            permutations=999,
            seed=seed,
            keep_simulations=False,
            n_jobs=jobs,
        )
        z[sector] = gi.Zs
        # villages without neighbours get no z (NaN): no bin
        bins[sector] = np.sign(np.nan_to_num(gi.Zs)) * (
            (gi.p_sim <= 0.10).astype(int)
            + (gi.p_sim <= 0.05).astype(int)
            + (gi.p_sim <= 0.01).astype(int)
        )
    lap(f"G_Local x {len(counts.columns)} sectors")
    largest = counts.sum().idxmax()
    shown = desa.assign(
        firms=counts[largest].to_numpy().astype(int),
        gi_z=np.round(z[largest], 2),
        hot_spot=bins[largest].astype(int),
    )
    colours = {
        -3: "#2166ac",
        -2: "#67a9cf",
        -1: "#d1e5f0",
        0: "#f7f7f7",
        1: "#fddbc7",
        2: "#ef8a62",
        3: "#b2182b",
    }
    bounds = shown.total_bounds
    page = folium.Map(tiles="OpenStreetMap")
    page.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    folium.GeoJson(
        shown,
        name=f"Gi* KBLI {largest}",
        style_function=lambda f: {
            "fillColor": colours[f["properties"]["hot_spot"]],
            "color": "#666666",
            "weight": 0.3,
            "fillOpacity": 0.7,
        },
        tooltip=folium.GeoJsonTooltip(fields=["kode", "nama", "firms", "gi_z", "hot_spot"]),
    ).add_to(page)
    out.mkdir(parents=True, exist_ok=True)
    html = out / "map.html"
    page.save(html)
    lap("folium map")
    maxrss = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return {
        "parts": parts,
        "records": len(frame),
        "located": len(joined),
        "sectors": len(counts.columns),
        "map_sector": str(largest),
        "hot_spots": int((bins[largest] > 0).sum()),
        "no_z": int(np.isnan(z[largest]).sum()),
        "map_mb": html.stat().st_size / 1e6,
        "maxrss_mb": maxrss / 1024,
    }


def _run_before(records: Path, work: Path, env: dict[str, str], src: Path) -> dict:
    """``klastergeo run`` of another tree (its ``src`` first on the path)."""
    path = os.pathsep.join([str(src.resolve()), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return run_ours(records, work, {**env, "PYTHONPATH": path})


def _before_after(before: dict, after: dict, runs: int) -> None:
    """The steps of the other tree's run (``--before``) beside this tree's."""
    if before["code"] != 0 or after["code"] != 0:
        return
    print(f"\n### before and after (best of {runs} by wall time; steps from summary.json)")
    print("| step | before s | after s |")
    print("|---|---|---|")
    for step in dict.fromkeys([*before["timings"], *after["timings"]]):
        b, a = before["timings"].get(step, float("nan")), after["timings"].get(step, float("nan"))
        print(f"| {step} | {b:.2f} | {a:.2f} |")
    for name, key in (("wall", "wall_s"), ("CPU (process and children)", "cpu_s")):
        print(f"| **{name}** | **{before[key]:.2f}** | **{after[key]:.2f}** |")
    by_role = [  # --by-process: each process's user + system CPU
        {role: float(user) + float(system) for role, user, system, _ in r.get("processes", [])}
        for r in (before, after)
    ]
    for role in dict.fromkeys([*by_role[0], *by_role[1]]):
        b, a = (cpu.get(role, float("nan")) for cpu in by_role)
        print(f"| CPU of the {role} | {b:.2f} | {a:.2f} |")


def _best(results: list[dict]) -> dict:
    done = [r for r in results if r["code"] == 0]
    return min(done, key=lambda r: r["wall_s"]) if done else results[-1]


def _steps(ours: dict, runs: int) -> None:
    """klastergeo's steps (from its summary.json) and its wall time."""
    if ours["code"] != 0:
        print(f"\nklastergeo failed (exit {ours['code']} after {ours['wall_s']:.1f} s):")
        for line in ours.get("tail", []):
            print(f"    {line}")
        return
    print(f"\n### klastergeo run, steps (best of {runs} by wall time; from summary.json)")
    print("| step | seconds | peak RSS after the step (MB) |")
    print("|---|---|---|")
    for step, seconds in ours["timings"].items():
        print(f"| {step} | {seconds:.2f} | {ours['peak_rss_mb'].get(step, float('nan')):,.0f} |")
    steps = sum(ours["timings"].values())
    print(f"| start and imports (wall - steps) | {ours['wall_s'] - steps:.2f} | |")
    print(f"| **total (wall)** | **{ours['wall_s']:.2f}** | **{ours['peak_mb']:,.0f}** |")
    if ours.get("processes"):
        print("\n| process (--by-process) | user CPU s | system CPU s | modules imported |")
        print("|---|---|---|---|")
        for role, user, system, modules in ours["processes"]:
            print(f"| {role} | {user} | {system} | {int(modules):,} |")


def _report(ours: dict, theirs: dict, runs: int) -> None:
    for name, result in (("klastergeo", ours), ("peer", theirs)):
        if result["code"] != 0:
            print(f"\n{name} failed (exit {result['code']} after {result['wall_s']:.1f} s):")
            for line in result.get("tail", []):
                print(f"    {line}")
    if ours["code"] != 0 or theirs["code"] != 0:
        return
    _steps(ours, runs)

    print(f"\n### peer, parts (best of {runs} by wall time)")
    print("| part | seconds |")
    print("|---|---|")
    for part, seconds in theirs["parts"].items():
        print(f"| {part} | {seconds:.2f} |")
    inside = sum(theirs["parts"].values())
    print(f"| Python start (wall - parts) | {theirs['wall_s'] - inside:.2f} |")
    print(f"| **total (wall)** | **{theirs['wall_s']:.2f}** |")
    print(
        f"peer: {theirs['records']:,} records, {theirs['located']:,} in a village, "
        f"{theirs['sectors']} sectors; map of KBLI {theirs['map_sector']} "
        f"({theirs['hot_spots']} hot-spot villages, {theirs['no_z']} without a z), "
        f"{theirs['map_mb']:.1f} MB of HTML; peak of its main process "
        f"{theirs['maxrss_mb']:,.0f} MB (the sampled peak adds esda's worker processes)"
    )

    warm = theirs["parts"].get("esda warm-up (numba compilation)", 0.0)
    print("\n### klastergeo against the peer")
    print("| | klastergeo (everything) | peer (hot spots + one map) | peer / klastergeo |")
    print("|---|---|---|---|")
    print(
        f"| wall time, fresh process | {ours['wall_s']:.1f} s | {theirs['wall_s']:.1f} s | "
        f"**{theirs['wall_s'] / ours['wall_s']:.2f}x** (target >= 3x) |"
    )
    print(
        f"| wall time, peer without esda's compilation | {ours['wall_s']:.1f} s | "
        f"{theirs['wall_s'] - warm:.1f} s | {(theirs['wall_s'] - warm) / ours['wall_s']:.2f}x |"
    )
    print(
        f"| peak memory (process and children) | {ours['peak_mb']:,.0f} MB | "
        f"{theirs['peak_mb']:,.0f} MB | {theirs['peak_mb'] / ours['peak_mb']:.2f}x |"
    )
    print(
        f"\nklastergeo kept {ours['kept']:,} records, analysed {ours['sectors']} sectors, found"
        f" {ours['sentra']} sentra and did everything a run does (validation,"
        " LQ, LISA and Gi* for every sector, sentra, profiles, models, the map of all sectors"
        " and statistics, figures, report, output files); the peer only located the firms,"
        " counted them, ran Gi* for every sector and drew one map."
    )
    if ours["skipped"]:
        print(f"klastergeo skipped sectors with few firms: {ours['skipped']}")
    for note in ours["not_computed"]:
        print(f"klastergeo did not compute: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=74_000)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--sentra", type=int, default=10, help="planted sentra")
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side (best kept)")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "klastergeo-province"
    )
    parser.add_argument(
        "--boundaries",
        type=Path,
        default=Path(os.environ.get("KLASTERGEO_DATA_DIR", "../shared/data/boundaries")),
    )
    parser.add_argument(
        "--peer-jobs", type=int, default=-1, help="esda's n_jobs in the peer (its default, -1)"
    )
    parser.add_argument(
        "--only", choices=["ours", "peer"], help="run one side only (no ratio is printed)"
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="another tree's src folder: its klastergeo run too, alternately with this one",
    )
    parser.add_argument(
        "--by-process",
        action="store_true",
        help="print the CPU of klastergeo's run and of each of its child processes",
    )
    parser.add_argument("--peer-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    boundaries = args.boundaries.resolve()
    if args.peer_child is not None:
        print(json.dumps(peer(args.peer_child, boundaries, args.out, jobs=args.peer_jobs)))
        return

    env = {**os.environ, "KLASTERGEO_DATA_DIR": str(boundaries)}
    ours_env = dict(env)  # the peer's process gets no hook (its last line is its result)
    if args.by_process:
        hook = Path(tempfile.mkdtemp(prefix="bench-province-hook-"))
        atexit.register(shutil.rmtree, hook, True)
        (hook / "sitecustomize.py").write_text(_BY_PROCESS)
        ours_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(hook), env.get("PYTHONPATH", "")) if p
        )
    print(f"machine: {os.cpu_count()} cores; boundaries {boundaries}")
    folder = registry(args.rows, args.cache, boundaries, args.seed, args.sentra)
    records = folder / f"registry.{args.format}"
    print(f"registry: {records} ({records.stat().st_size / 1e6:.1f} MB)")
    ours, theirs, before = [], [], []
    for i in range(args.repeat):
        work = Path(tempfile.mkdtemp(prefix="bench-province-"))
        try:
            # other jobs on a shared machine show in the load average (1 min) around a run
            load = os.getloadavg()[0]
            if args.before is not None and args.only != "peer":
                before.append(_run_before(records, work, ours_env, args.before))
                print(
                    f"run {i + 1}: before {before[-1]['wall_s']:.1f} s, CPU "
                    f"{before[-1]['cpu_s']:.1f} s (load {load:.2f} before, "
                    f"{os.getloadavg()[0]:.2f} after)",
                    flush=True,
                )
                shutil.rmtree(work / "run", ignore_errors=True)
                load = os.getloadavg()[0]
            if args.only != "peer":
                ours.append(run_ours(records, work, ours_env))
                print(
                    f"run {i + 1}: klastergeo {ours[-1]['wall_s']:.1f} s, CPU "
                    f"{ours[-1]['cpu_s']:.1f} s "
                    f"(load {load:.2f} before, {os.getloadavg()[0]:.2f} after)",
                    flush=True,
                )
                load = os.getloadavg()[0]
            if args.only != "ours":
                theirs.append(run_peer(records, work, env, boundaries, args.peer_jobs))
                print(
                    f"run {i + 1}: peer {theirs[-1]['wall_s']:.1f} s "
                    f"(load {load:.2f} before, {os.getloadavg()[0]:.2f} after)",
                    flush=True,
                )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if before and ours:
        _before_after(_best(before), _best(ours), args.repeat)
    if ours and theirs:
        _report(_best(ours), _best(theirs), args.repeat)
    elif ours:
        _steps(_best(ours), args.repeat)


if __name__ == "__main__":
    main()
