"""The report's figures of a national run: drawn inline and beside the run, from the same
inputs, alternately.

``--capture``: runs ``klastergeo run --records REGISTRY --level desa`` in this process and
pickles the inputs :func:`klastergeo.app.pipeline.writer.figures` is called with (a
national run draws inline before issue 29: the whole villages, table and counts) to
``--inputs``. Then (or with ``--inputs`` of an earlier capture) each round draws them
through :func:`~klastergeo.app.pipeline.writer.figures_beside` inline and beside, each
in a fresh process, and prints the wall time, the CPU time of the process and of its
child, the process's peak RSS and the child's sampled peak PSS, and whether the files
are byte-identical to those of the first draw (or of ``--reference``, a folder of PNGs
such as the captured run's ``figures/``). On a loaded machine compare the CPU times.

Run: ``python benchmarks/bench_national_figures.py --capture
/tmp/klastergeo-national/n2670000/registry.parquet --rounds 1``
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def capture(registry: Path, inputs: Path) -> Path:
    """Run the pipeline here and pickle the figures' inputs; returns the run's figures."""
    from klastergeo.app.cli import main
    from klastergeo.app.pipeline import writer

    drawn = writer.figures

    def kept(*args: Any, **kwargs: Any) -> Any:
        with inputs.open("wb") as handle:
            pickle.dump((args, kwargs), handle, protocol=pickle.HIGHEST_PROTOCOL)
        return drawn(*args, **kwargs)

    writer.figures = kept  # type: ignore[assignment]
    out = Path(tempfile.mkdtemp(prefix="bench-figures-")) / "run"
    try:
        main(["run", "--records", str(registry), "--level", "desa", "--out", str(out)])
    except SystemExit as stop:
        if stop.code:
            raise
    return out / "figures"


def _pss_mb(pid: int) -> float:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0.0
    return next((int(x.split()[1]) / 1024 for x in lines if x.startswith("Pss:")), 0.0)


def draw(inputs: Path, mode: str) -> dict[str, Any]:
    """One draw (in this process): ``inline`` or ``beside``."""
    from klastergeo.app.pipeline import writer

    if mode == "inline":
        writer.BESIDE_MIN_AREAS = 10**12
    args, kwargs = pickle.loads(inputs.read_bytes())
    loaded = resource.getrusage(resource.RUSAGE_SELF)
    outlines = kwargs.pop("outlines")
    kwargs.pop("simplified", None)
    out = Path(tempfile.mkdtemp(prefix="bench-figures-"))
    start = time.perf_counter()
    work = writer.figures_beside(out, args[1], outlines=lambda: outlines, **kwargs)
    started = time.perf_counter() - start
    peak, stop, pid = [0.0], threading.Event(), work.pid

    def watch() -> None:
        while pid is not None and not stop.wait(0.2):
            peak[0] = max(peak[0], _pss_mb(pid))

    threading.Thread(target=watch, daemon=True).start()
    shown = work.result()
    wall = time.perf_counter() - start
    stop.set()
    own, child = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return {
        "mode": mode,
        "figures": len(shown),
        "folder": str(out / "figures"),
        "wall_s": round(wall, 1),
        "main_thread_s": round(started, 2),
        "cpu_s": round(own.ru_utime + own.ru_stime - loaded.ru_utime - loaded.ru_stime, 1),
        "child_cpu_s": round(child.ru_utime + child.ru_stime, 1),
        "peak_rss_mb": round(own.ru_maxrss / 1024),
        "rss_after_loading_mb": round(loaded.ru_maxrss / 1024),
        "child_peak_pss_mb": round(peak[0]),
    }


def same_files(reference: Path, folder: Path) -> str:
    """How many of ``folder``'s PNGs are byte-identical to ``reference``'s."""
    names = sorted(p.name for p in folder.glob("*.png"))
    wanted = sorted(p.name for p in reference.glob("*.png"))
    same = [
        n
        for n in names
        if (reference / n).exists() and filecmp.cmp(reference / n, folder / n, shallow=False)
    ]
    return f"{len(same)}/{len(wanted)}" + ("" if names == wanted else " (other names)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", type=Path, metavar="REGISTRY")
    parser.add_argument(
        "--inputs", type=Path, default=Path(tempfile.gettempdir()) / "bench-national-figures.pkl"
    )
    parser.add_argument("--reference", type=Path)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--draw", choices=["inline", "beside"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.draw:  # one draw, in a fresh process
        print(json.dumps(draw(args.inputs, args.draw)))
        return
    reference = args.reference
    if args.capture:
        reference = capture(args.capture, args.inputs)
    print(
        f"machine: {os.cpu_count()} cores; inputs {args.inputs} "
        f"({args.inputs.stat().st_size / 1e6:.0f} MB)"
    )
    for _ in range(args.rounds):
        for mode in ("inline", "beside"):
            load = os.getloadavg()[0]
            command = [sys.executable, __file__, "--draw", mode, "--inputs", str(args.inputs)]
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            got = json.loads(done.stdout.splitlines()[-1])
            reference = reference or Path(got["folder"])
            got["same_as_reference"] = same_files(reference, Path(got["folder"]))
            print(f"load {load:.1f}: {got}", flush=True)


if __name__ == "__main__":
    main()
