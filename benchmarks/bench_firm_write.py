"""The ``write`` step of a national run, and the firms output in it, before and after.

Runs the whole pipeline in this process on a cached national registry
(``bench_national.py``'s, ``--level desa``) and, at the ``write`` step:

- times each part of the step (validation reports, firms, run tables, layers and
  workbook, model tables, map, radar charts) and, with ``--profile``, writes a cProfile
  of the step (``--profile FILE``; ``python -m pstats FILE``);
- then writes the firms again ``--repeat`` times with each variant, alternately, into
  scratch folders, from the same store and the same run's columns: ``main`` (the
  ``firm_output`` module of ``--base``, default ``main``, loaded from git) and ``ours``
  (this tree's, with ``threads`` 1 and 2); prints the wall time and the peak resident
  memory above the call's start (sampled every 0.05 s), and checks that every variant
  gives the same bytes as the run's own ``firms/``.

``--save DIR`` keeps what the firms output was written from (the store's parts, the
run's columns and models, pickled) and ``--load DIR`` writes the variants from it again
without running the pipeline.

Run: ``python benchmarks/bench_firm_write.py --rows 2670000 --repeat 3``.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _measured(call: Any) -> tuple[float, float, float, float]:
    """Wall seconds of ``call()``, the peak of the bytes Arrow held above the start (MB,
    sampled every 0.05 s; the blocks, the partitions and the row groups are Arrow's),
    and the CPU seconds of this thread and of the process (every thread): on a shared
    machine the wall time depends on the others' load, while ``max(this thread, process
    / 2)`` is what two free cores could not beat."""
    import pyarrow as pa

    def held() -> float:
        return pa.total_allocated_bytes() / 2**20

    base, peak, stop = held(), [0.0], threading.Event()

    def watch() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], held())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start, here, cpu = time.perf_counter(), time.thread_time(), os.times()
    try:
        call()
    finally:
        seconds = time.perf_counter() - start
        here = time.thread_time() - here
        end = os.times()
        cpu = end.user + end.system - cpu.user - cpu.system
        stop.set()
        watcher.join()
    return seconds, max(peak[0], held()) - base, here, cpu


def _digest(folder: Path) -> str:
    """One digest of every file under ``folder`` (names and bytes)."""
    total = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        total.update(str(path.relative_to(folder)).encode())
        total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()[:16]


def _base_module(base: str) -> Any:
    """``firm_output`` as it is at git revision ``base``, as a module of its own."""
    text = subprocess.run(
        ["git", "show", f"{base}:src/klastergeo/app/pipeline/firm_output.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="bench-firm-write-base-")) / "firm_output_base.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("firm_output_base", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shutil.rmtree(path.parent)  # loaded: the copy is not needed any more
    return module


def _timed(owner: Any, name: str, times: dict[str, float]) -> None:
    """Replace ``owner.name`` by a wrapper adding its wall time to ``times[name]``."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            times[name] = times.get(name, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)


def _variants(
    args: Any, base: Any, ours: Any, work: Path, want: str, a: Any, kw: dict[str, Any]
) -> None:
    """Write the firms with each variant, alternately, ``args.repeat`` times."""
    variants: list[tuple[str, Any]] = [("main", base.write_firms)]
    variants += [(f"ours threads={t}", functools.partial(ours, threads=t)) for t in args.threads]
    for i in range(args.repeat):
        for label, write in variants:
            scratch = work / f"v{i}-{label.replace(' ', '_')}"
            scratch.mkdir()
            secs, mb, here, cpu = _measured(lambda w=write, s=scratch: w(s, *a, **kw))
            digest = _digest(scratch / "firms")
            want = want or digest  # without the run's: the first variant's (main's)
            print(
                f"  {i} {label}: {secs:.1f} s wall, CPU {here:.1f} s here + "
                f"{cpu - here:.1f} s other threads, bound {max(here, cpu / 2):.1f} s, "
                f"Arrow peak +{mb:,.0f} MB, same bytes: {digest == want} "
                f"(load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
            shutil.rmtree(scratch)


def _save(folder: Path, written: Path, a: Any, kw: dict[str, Any]) -> None:
    """Keep the store's parts, the arguments (pickled) and the digest of ``written``."""
    import cloudpickle

    folder.mkdir(parents=True, exist_ok=True)
    store = a[0]
    parts = [Path(p) for p in store.validation.parts]
    for i, part in enumerate(parts):
        shutil.copyfile(part, folder / f"part-{i}.parquet")
    options = {k: v for k, v in kw.items() if k != "progress"}
    with (folder / "inputs.pkl").open("wb") as handle:
        cloudpickle.dump({"args": a, "kwargs": options, "parts": parts}, handle)
    (folder / "digest").write_text(_digest(written))
    print(f"saved the firms output's inputs in {folder}", flush=True)


def _from_saved(args: Any) -> None:
    """The variants from what ``--save`` kept (the parts put back where they were)."""
    import pickle

    from klastergeo.app.pipeline import firm_output

    with (args.load / "inputs.pkl").open("rb") as handle:
        saved = pickle.load(handle)
    for i, part in enumerate(saved["parts"]):
        part.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.load / f"part-{i}.parquet", part)
    work = Path(tempfile.mkdtemp(prefix="bench-firm-write-"))
    try:
        base = _base_module(args.base)
        _variants(args, base, firm_output.write_firms, work, "", saved["args"], saved["kwargs"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for part in saved["parts"]:
            part.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_670_000)
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "klastergeo-national"
    )
    parser.add_argument("--repeat", type=int, default=0)
    parser.add_argument("--base", default="main")
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--load", type=Path, default=None)
    args = parser.parse_args()
    if args.load is not None:
        return _from_saved(args)

    from klastergeo.app import pipeline
    from klastergeo.app.config import RunConfig
    from klastergeo.app.pipeline import firm_output, writer
    from klastergeo.publish import gis, maps

    boundaries = Path(os.environ["KLASTERGEO_DATA_DIR"]).resolve()
    work = Path(tempfile.mkdtemp(prefix="bench-firm-write-"))
    config = RunConfig().with_overrides(
        {
            "records.path": str(args.cache / f"n{args.rows}" / "registry.parquet"),
            "area.level": "desa",
            "area.boundaries": str(boundaries),
            "out": str(work / "run"),
        }
    )
    base = _base_module(args.base) if args.repeat else None
    times: dict[str, float] = {}
    for owner, name in (
        (writer, "validation_reports"),
        (writer, "run_tables"),
        (gis, "write_layers"),
        (gis, "write_measure_layers"),
        (writer, "model_outputs"),
        (maps, "save_map"),
        (writer, "radar_charts"),
        (pipeline, "_layers_and_workbook"),
    ):
        _timed(owner, name, times)
    original_write = firm_output.write_firms
    original_step = pipeline._write_files

    def write_firms(folder: Path, *a: Any, **kw: Any) -> Path:
        seconds, peak, _, _ = _measured(lambda: original_write(folder, *a, **kw))
        times["write_firms"] = seconds
        print(f"run's write_firms: {seconds:.1f} s, Arrow +{peak:,.0f} MB", flush=True)
        if args.save is not None:
            _save(args.save, folder / firm_output.FOLDER, a, kw)
        if args.repeat:
            _variants(args, base, original_write, work, _digest(folder / firm_output.FOLDER), a, kw)
        return folder / firm_output.FOLDER

    def step(*a: Any, **kw: Any) -> None:
        profiler = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            original_step(*a, **kw)
        finally:
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile)
            times["_write_files"] = time.perf_counter() - start

    firm_output.write_firms = write_firms
    pipeline._write_files = step
    start = time.perf_counter()
    try:
        pipeline.run(config)
    finally:
        print(f"run: {time.perf_counter() - start:.1f} s (load {os.getloadavg()})")
        for name, seconds in times.items():
            print(f"  {name}: {seconds:.1f} s")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
