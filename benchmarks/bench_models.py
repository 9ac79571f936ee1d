"""The firm-level models over millions of firms: memory and time of checking the
predictors, the ``models`` step and the firms output's probabilities, for two registry
sizes, with the code of this tree and with another tree's (``--before``: a ``src``
folder, e.g. the commit before the models were computed by parts, unpacked with
``git archive <commit> src | tar -x -C /tmp/before``).

The firms are synthetic (seeded; :func:`tests.worlds.model_firms.write_synthetic`):
Parquet parts of ``--part-size`` firms with workers, a text score (``1.234``) and an
owner type (categorical), the three predictors of every model, and the run's columns
of every firm (area, sector, sentra, outcome) in memory, loaded before the measure
starts. Each (code, size) runs in a process of its own; the peak printed is the
process's maximum resident set during the three steps above what it held before
(``/proc/self/clear_refs`` resets the maximum), and ``traced`` tracemalloc's peak.

Run: ``python benchmarks/bench_models.py --rows 2000000 4000000 --before /tmp/before/src``.

``--national``: the ``models`` step of a national run (``klastergeo run --level desa`` on a
registry of ``bench_national.py``). ``--snapshot REGISTRY FOLDER`` runs the pipeline up to
the ``models`` step once (with the code of the tree on ``PYTHONPATH``), copies the kept
firms' Parquet parts into ``FOLDER`` and pickles what the step takes (configuration,
predictors, area weights, the firms' store and run columns), then stops;
``--national FOLDER [FOLDER ...]`` times :func:`fit_models` on each snapshot with this tree
and with ``--before``'s, alternately (``--rounds``), each in a process of its own, and
prints the step's time, its peak resident memory above what the process held before, and
a digest of every output of the step (fits, mean probabilities, sample): equal digests,
equal outputs. Run: ``python benchmarks/bench_models.py --snapshot
/tmp/klastergeo-national/n2670000/registry.parquet /tmp/snap-2m`` (with the before tree
on ``PYTHONPATH``, so that both trees read the pickle) then ``python
benchmarks/bench_models.py --national /tmp/snap-2m --before /tmp/before/src``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OVERRIDES = {
    "model.predictors": "workers,skor,milik",
    "model.categorical": "milik",
    "model.log": "workers",
}


def _rss(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0


def child(folder: Path, template_dir: Path, max_firms: int, trace: bool) -> dict[str, float]:
    """Run the three steps in this process and measure them."""
    import tracemalloc

    from tests.worlds import model_firms

    from klastergeo.app.config import RunConfig
    from klastergeo.app.pipeline import probabilities

    areas = model_firms.grid_areas()
    work = Path(tempfile.mkdtemp(dir=template_dir)) / "w"
    template = model_firms.validate(template_dir / "r.csv", work, 500, areas)
    store, firms = model_firms.open_synthetic(folder, template)
    report = template.report(whole=False)
    config = RunConfig().with_overrides({**OVERRIDES, "model.max_firms": max_firms})
    Path("/proc/self/clear_refs").write_text("5")  # the maximum resident set from here
    before = _rss("VmRSS:")
    if trace:
        tracemalloc.start()
    times = {}
    start = time.perf_counter()
    chosen = probabilities.predictors(config, report, store)
    times["check"] = time.perf_counter() - start
    start = time.perf_counter()
    models = probabilities.fit_models(config, firms, chosen, None, report, store)
    times["models"] = time.perf_counter() - start
    start = time.perf_counter()
    rows = 0
    for begin, table in store.tables():  # as the firms output reads its parts
        if hasattr(models, "predict"):
            got = models.predict(begin, table)
        else:  # the code before: every firm's probability held since the models step
            got = {
                k: v.iloc[begin : begin + table.num_rows] for k, v in models.probabilities.items()
            }
        rows += len(next(iter(got.values())))
        del table, got
    times["predict"] = time.perf_counter() - start
    assert rows == len(firms)
    out = {**times, "peak_mb": (_rss("VmHWM:") - before) / 2**20}
    if trace:
        out["traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    out["coef"] = float(models.fitted["logit"].coefficients["estimate"].iloc[1])
    return out


def snapshot(registry: Path, folder: Path) -> None:
    """Run the pipeline on ``registry`` up to the ``models`` step and keep what it takes
    in ``folder`` (the process ends there)."""
    import dataclasses
    import pickle
    import shutil

    import klastergeo.app.pipeline as pipeline
    from klastergeo.app import cli
    from klastergeo.io.registry.firms import FirmStore

    def keep(config, steps, firms, predictors, weights, records, columns, **_):  # type: ignore[no-untyped-def]
        parts = folder / "parts"
        parts.mkdir(parents=True, exist_ok=True)
        copied = []
        for i, part in enumerate(records.firms.validation.parts):
            copied.append(parts / f"{i:05d}.parquet")
            shutil.copyfile(part, copied[-1])
        store = FirmStore(dataclasses.replace(records.firms.validation, parts=tuple(copied)))
        state = {
            "config": config,
            "n": len(firms),
            "predictors": predictors,
            "graph": weights.graph,
            "validation": records.validation,
            "store": store,
            "columns": dataclasses.replace(columns, store=store),
            "steps": steps.timings if hasattr(steps, "timings") else None,
        }
        with (folder / "state.pkl").open("wb") as out:
            pickle.dump(state, out)
        print(f"snapshot of {len(firms):,} firms in {folder}", flush=True)
        os._exit(0)

    pipeline._fit = keep  # type: ignore[assignment]
    out = folder / "run"
    cli.main(["run", "--records", str(registry), "--level", "desa", "--out", str(out)])


def _digest(models: object) -> str:
    """A digest of every output of the models step (equal digests: equal outputs)."""
    import hashlib

    import pandas as pd

    h = hashlib.sha256()
    for kind, result in models.fitted.items():  # type: ignore[attr-defined]
        h.update(kind.encode())
        h.update(result.coefficients.to_csv().encode())
        h.update(repr(sorted((k, repr(v)) for k, v in result.fit.items())).encode())
    means = models.means  # type: ignore[attr-defined]
    for frame in (means.cells, means.sentra, means.areas, models.sample):  # type: ignore[attr-defined]
        if isinstance(frame, pd.DataFrame):
            h.update(frame.to_csv().encode())
            h.update(repr([frame.index.dtype, *frame.dtypes]).encode())
    return h.hexdigest()[:16]


def national_child(folder: Path) -> dict[str, object]:
    """The ``models`` step of a snapshot in this process, measured."""
    import pickle

    from klastergeo.app.pipeline import probabilities
    from klastergeo.app.pipeline.firm_columns import LazyFirms

    with (folder / "state.pkl").open("rb") as source:
        state = pickle.load(source)

    def never() -> object:
        raise AssertionError("the models step asked for the firms' frame")

    firms = LazyFirms(never, state["n"])  # type: ignore[arg-type]
    Path("/proc/self/clear_refs").write_text("5")
    before = _rss("VmRSS:")
    start, cpu = time.perf_counter(), time.process_time()
    models = probabilities.fit_models(
        state["config"], firms, state["predictors"], state["graph"], state["validation"],
        state["store"], run=state["columns"],
    )  # fmt: skip
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = (_rss("VmHWM:") - before) / 2**20
    tree = str(Path(probabilities.__file__).parents[3])
    return {"models": seconds, "cpu": cpu, "peak_mb": peak, "digest": _digest(models), "tree": tree}


def national(folders: list[Path], before: Path | None, rounds: int, after: Path) -> None:
    """Time the models step of every snapshot with ``after``'s tree and ``before``'s."""
    trees = {"after": after, **({"before": before} if before else {})}
    print("| snapshot | code | round | models s | CPU s | peak MB | digest |")
    print("|---|---|---|---|---|---|---|")
    for folder in folders:
        for r in range(rounds):
            for name, src in trees.items():
                env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}"}
                command = [sys.executable, __file__, "--national-child", str(folder)]
                done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
                if done.returncode:
                    print(done.stderr[-3000:], file=sys.stderr)
                    continue
                got = json.loads(done.stdout.strip().splitlines()[-1])
                print(
                    f"| {folder.name} | {name} | {r + 1} | {got['models']:.1f} | "
                    f"{got['cpu']:.1f} | {got['peak_mb']:.0f} | {got['digest']} |",
                    f"<!-- {got['tree']} -->",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2_000_000, 4_000_000])
    parser.add_argument("--part-size", type=int, default=500_000)
    parser.add_argument("--max-firms", type=int, default=1_000_000)
    parser.add_argument("--before", type=Path, default=None, help="another tree's src folder")
    parser.add_argument("--trace", action="store_true", help="also tracemalloc (slower)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--snapshot", nargs=2, type=Path, metavar=("REGISTRY", "FOLDER"))
    parser.add_argument("--national", nargs="+", type=Path, metavar="FOLDER")
    parser.add_argument("--national-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--after", type=Path, default=ROOT / "src", help="the src folder timed as 'after'"
    )
    args = parser.parse_args()
    if args.snapshot:
        snapshot(*args.snapshot)
        return
    if args.national_child:
        print(json.dumps(national_child(args.national_child)))
        return
    if args.national:
        national(args.national, args.before, args.rounds, args.after)
        return
    if args.child:
        folder, template, max_firms = args.child
        print(json.dumps(child(Path(folder), Path(template), int(max_firms), args.trace)))
        return
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))
    from tests.worlds import model_firms

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        areas = model_firms.grid_areas()
        (base / "t").mkdir()
        model_firms.model_registry(base / "t" / "r.csv", 600)
        template = model_firms.validate(base / "t" / "r.csv", base / "t" / "w", 500, areas)
        trees = {"after": ROOT / "src", **({"before": args.before} if args.before else {})}
        print("| firms | code | check s | models s | predict s | peak MB | traced MB |")
        print("|---|---|---|---|---|---|---|")
        for n in args.rows:
            folder = base / f"n{n}"
            model_firms.write_synthetic(folder, template, n, part_size=args.part_size)
            for name, src in trees.items():
                env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}"}
                command = [
                    sys.executable,
                    __file__,
                    "--child",
                    str(folder),
                    str(base / "t"),
                    str(args.max_firms),
                ]
                if args.trace:
                    command.append("--trace")
                done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
                if done.returncode:
                    print(done.stderr[-3000:], file=sys.stderr)
                    continue
                got = json.loads(done.stdout.strip().splitlines()[-1])
                print(
                    f"| {n:,} | {name} | {got['check']:.1f} | {got['models']:.1f} | "
                    f"{got['predict']:.1f} | {got['peak_mb']:.0f} | "
                    f"{got.get('traced_mb', float('nan')):.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
