"""Spatial-statistics engine against esda and pygeoda on Indonesia's 83,402 villages.

Targets (issue 3, 2-core machine):
- contiguity at most 1.5x pygeoda's time, neighbour sets identical for >= 99.9 % of areas;
- local Moran and Gi* with 999 permutations at least 8x faster than esda (warm) and 10x
  faster than pygeoda; 16 sectors of a province in one call at most 3x the time of one;
- first call in a fresh process at most 5 s including compilation (cached);
- no dense areas x permutations matrix (peak memory reported).

Run: ``make bench-stats`` or ``python benchmarks/bench_stats.py`` (about 4 minutes; add
``--skip-libpysal`` to leave out libpysal's 40-second contiguity builder). Prints a
Markdown table; the one in ``benchmarks/README.md`` comes from this script.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from klastergeo.analysis import autocorrelation, weights

warnings.simplefilter("ignore")  # esda and libpysal deprecation chatter
logging.getLogger("klastergeo").setLevel(logging.ERROR)  # "6 areas without neighbours"


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def run_all(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    return [call() for call in calls]


def rss_growth(fn: Callable[[], Any]) -> int:
    """Peak growth of the resident set (bytes) while ``fn`` runs, sampled every millisecond
    from /proc (tracemalloc does not see the buffers numba allocates)."""
    page = os.sysconf("SC_PAGE_SIZE")

    def rss() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * page

    base = rss()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        fn()
    finally:
        done.set()
        sampler.join()
    return max(peak[0], rss()) - base


def on_fresh_graph(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` as its first call on a graph: drop the weights matrices klastergeo caches per
    graph (built from the libpysal Graph on first use), so the conversion is timed too."""

    def call() -> Any:
        autocorrelation._MATRICES.clear()
        autocorrelation._ROW_SUMS.clear()
        return fn()

    return call


def fresh_process(script: str, cache: str) -> list[float]:
    """Run ``script`` in a new interpreter with ``cache`` as numba's cache directory; the
    numbers it prints on its last line."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    return [float(v) for v in out.strip().splitlines()[-1].split()]


FIRST_CALL = """
    import time, warnings, logging
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    import numpy as np, pandas as pd, geopandas as gpd
    d = gpd.read_parquet({path!r}).set_index("kode")
    y = pd.Series(np.random.default_rng(0).poisson(2, len(d)).astype(float), d.index)
    from klastergeo.analysis import weights
    from klastergeo.analysis import autocorrelation
    t = time.perf_counter(); g = weights.contiguity(d, tolerance=0.0, islands="keep")
    t1 = time.perf_counter(); autocorrelation.local_moran(y, g, permutations=999, seed=1)
    t2 = time.perf_counter()
    print(t1 - t, t2 - t1)
"""

ESDA_FIRST_CALL = """
    import time, warnings
    warnings.simplefilter("ignore")
    import numpy as np, geopandas as gpd
    d = gpd.read_parquet({path!r}).set_index("kode")
    y = np.random.default_rng(0).poisson(2, len(d)).astype(float)
    from klastergeo.analysis import weights
    w = weights.contiguity(d, tolerance=0.0, islands="keep").transform("r").to_W()
    import esda
    t = time.perf_counter()
    esda.Moran_Local(y, w, permutations=999, seed=1, n_jobs=-1, keep_simulations=False)
    print(time.perf_counter() - t)
"""

COMPILE = """
    from klastergeo.analysis._engine.compile import compile_kernels
    print(compile_kernels())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boundaries", default=os.environ.get("KLASTERGEO_DATA_DIR"))
    parser.add_argument("--skip-libpysal", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.boundaries:
        sys.exit("set KLASTERGEO_DATA_DIR or pass --boundaries")
    import esda
    import pygeoda
    from libpysal.graph import Graph

    rows: list[tuple[str, str, str, str]] = []
    villages = gpd.read_parquet(Path(args.boundaries) / "desa.parquet").set_index("kode")
    n = len(villages)
    print(f"villages: {n:,}; cores: {os.cpu_count()}", flush=True)

    # Contiguity ------------------------------------------------------------------------
    ours_t, graph = best(
        lambda: weights.contiguity(villages, tolerance=0.0, islands="keep"), args.repeat
    )
    start = time.perf_counter()
    gda = pygeoda.open(villages.reset_index())
    open_t = time.perf_counter() - start
    geoda_t, queen = best(lambda: pygeoda.queen_weights(gda), args.repeat)
    matrix = graph.sparse.tocsr()
    same = sum(
        set(queen.get_neighbors(i))
        == set(
            matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]][
                matrix.data[matrix.indptr[i] : matrix.indptr[i + 1]] != 0
            ]
        )
        for i in range(n)
    )
    rows.append(
        (
            "queen contiguity",
            f"{ours_t:.2f} s",
            f"pygeoda {geoda_t:.2f} s (+{open_t:.1f} s to open the data)",
            f"{ours_t / geoda_t:.2f}x pygeoda's time; identical sets {same / n:.2%}",
        )
    )
    if not args.skip_libpysal:
        start = time.perf_counter()
        Graph.build_contiguity(villages, rook=False, strict=False)
        lib_t = time.perf_counter() - start
        rows.append(("", "", f"libpysal {lib_t:.1f} s", f"{lib_t / ours_t:.0f}x faster"))
    print("contiguity done", flush=True)

    # Local statistics, 999 permutations ----------------------------------------------
    y = pd.Series(np.random.default_rng(0).poisson(2, n).astype(float), index=villages.index)
    row_w = graph.transform("r")
    binary = graph.transform("b")
    esda.Moran_Local(y.to_numpy(), row_w, permutations=99, n_jobs=-1, keep_simulations=False)
    esda.G_Local(y.to_numpy(), binary, transform="B", star=True, permutations=99)  # compile
    for name, ours_fn, esda_fn, geoda_fn in (
        (
            "local Moran, 999 permutations",
            lambda: autocorrelation.local_moran(y, graph, permutations=999, seed=1),
            lambda: esda.Moran_Local(
                y.to_numpy(), row_w, permutations=999, seed=1, n_jobs=-1, keep_simulations=False
            ),
            lambda: pygeoda.local_moran(queen, list(y), permutations=999, cpu_threads=2),
        ),
        (
            "Gi*, 999 permutations",
            lambda: autocorrelation.local_gstar(y, graph, permutations=999, seed=1),
            lambda: esda.G_Local(
                y.to_numpy(),
                binary,
                transform="B",
                star=True,
                permutations=999,
                seed=1,
                keep_simulations=False,
            ),
            lambda: pygeoda.local_gstar(queen, list(y), permutations=999, cpu_threads=2),
        ),
    ):
        ours_t, _ = best(ours_fn, args.repeat)
        fresh_t, _ = best(on_fresh_graph(ours_fn), args.repeat)
        esda_t, _ = best(esda_fn, 2)
        geoda_t, _ = best(geoda_fn, 1)
        rows.append(
            (
                name,
                f"{ours_t * 1e3:.0f} ms ({fresh_t * 1e3:.0f} ms on a fresh graph)",
                f"esda {esda_t:.2f} s (warm, 2 cores)",
                f"{esda_t / ours_t:.0f}x faster ({esda_t / fresh_t:.0f}x)",
            )
        )
        rows.append(
            (
                "",
                "",
                f"pygeoda {geoda_t:.2f} s (2 threads)",
                f"{geoda_t / ours_t:.0f}x faster ({geoda_t / fresh_t:.0f}x)",
            )
        )
        print(name, "done", flush=True)

    # 16 sectors of a province in one call ----------------------------------------------
    jateng = villages[villages["kode_prov"] == "33"]
    province = weights.contiguity(jateng, tolerance=0.0, islands="keep")
    sectors = pd.DataFrame(
        np.random.default_rng(1).poisson(1.5, (len(jateng), 16)).astype(float), index=jateng.index
    )
    for label, fn in (
        ("local Moran", autocorrelation.local_moran),
        ("Gi*", autocorrelation.local_gstar),
    ):
        one_sector = partial(fn, sectors[0], province, permutations=999, seed=1)
        all_sectors = partial(fn, sectors, province, permutations=999, seed=1)
        for protocol, wrap in (("graph cached", lambda f: f), ("fresh graph", on_fresh_graph)):
            one, _ = best(wrap(one_sector), 7)
            all16, _ = best(wrap(all_sectors), 7)
            rows.append(
                (
                    f"16 sectors of Jawa Tengah in one call, {label} ({protocol})",
                    f"{all16 * 1e3:.1f} ms",
                    f"one sector {one * 1e3:.1f} ms",
                    f"{all16 / one:.2f}x the time of one",
                )
            )
        one_by_one = [partial(fn, sectors[c], province, permutations=999, seed=1) for c in sectors]
        separate, _ = best(partial(run_all, one_by_one), 3)
        rows.append(("", "", f"16 separate calls {separate * 1e3:.1f} ms", ""))

    # First call in a fresh process ----------------------------------------------------
    path = str(Path(args.boundaries) / "desa.parquet")
    with tempfile.TemporaryDirectory() as cache:
        cold = fresh_process(FIRST_CALL.format(path=path), cache)
    with tempfile.TemporaryDirectory() as cache:
        (compile_t,) = fresh_process(COMPILE, cache)
        warm = fresh_process(FIRST_CALL.format(path=path), cache)
    with tempfile.TemporaryDirectory() as cache:
        (esda_cold,) = fresh_process(ESDA_FIRST_CALL.format(path=path), cache)
    rows.append(
        (
            "first call in a fresh process, after `klastergeo compile` (run by make install, "
            f"{compile_t:.1f} s once)",
            f"contiguity {warm[0]:.2f} s + local Moran {warm[1]:.2f} s",
            f"esda local Moran {esda_cold:.1f} s (first call, compiles)",
            f"{esda_cold / warm[1]:.0f}x faster",
        )
    )
    rows.append(
        (
            "first call in a fresh process, empty numba cache",
            f"contiguity {cold[0]:.2f} s + local Moran {cold[1]:.2f} s",
            "",
            "",
        )
    )
    print("first calls done", flush=True)

    # Memory ----------------------------------------------------------------------------
    tracemalloc.start()
    peak_rss = rss_growth(lambda: autocorrelation.local_moran(y, graph, permutations=999, seed=1))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dense = n * 999 * 8
    rows.append(
        (
            "extra memory of a national local Moran (999 permutations)",
            f"{peak / 1e6:.0f} MB traced by tracemalloc, {peak_rss / 1e6:.0f} MB resident growth",
            f"one dense areas x permutations matrix: {dense / 1e6:.0f} MB",
            "",
        )
    )

    print("\n| step | klastergeo | peer | ratio |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
