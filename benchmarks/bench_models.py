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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2_000_000, 4_000_000])
    parser.add_argument("--part-size", type=int, default=500_000)
    parser.add_argument("--max-firms", type=int, default=1_000_000)
    parser.add_argument("--before", type=Path, default=None, help="another tree's src folder")
    parser.add_argument("--trace", action="store_true", help="also tracemalloc (slower)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
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
