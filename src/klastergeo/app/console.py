"""What the command line prints: literal text, progress bars and the tables of a run.

Nothing printed is read as rich markup (paths, column names and messages may hold ``[``),
and control characters are shown as escapes.
"""

from __future__ import annotations

import errno
import logging
import sys
import time
import traceback
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from klastergeo.errors import KlastergeoError, memory_exhausted
from klastergeo.io.files import environment_cause, output_error

if TYPE_CHECKING:  # the CLI starts without pandas: the record's package imports it
    from klastergeo.app.config import RunConfig
    from klastergeo.publish.record import NearMisses, RecordsRecord, RoleRecord, RunRecord

console = Console(stderr=True, markup=False, highlight=False)
out_console = Console(markup=False, highlight=False)


def literal(text: object) -> str:
    """``text`` with control and format characters shown as escapes (``\\x1b``,
    ``\\u202e``), so that a message cannot move the cursor, recolour the terminal or
    reorder what follows; newlines and tabs stay.

    >>> literal("bad\\x1b[31m name\\u202e")
    'bad\\\\x1b[31m name\\\\u202e'
    """
    out = []
    for char in str(text):
        if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp"):
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that a run unwinds as on Ctrl-C."""


def on_sigterm(signum: int, frame: object) -> None:
    """The SIGTERM handler: unwind as on Ctrl-C."""
    raise Terminated()


@contextmanager
def guard(state: dict[str, Any]) -> Iterator[None]:
    """Map bad input and environment problems to exit code 2 and anything unexpected to
    exit code 1; Ctrl-C and SIGTERM stop a run cleanly (130, 143)."""
    try:
        yield
    except typer.Exit:
        raise
    except KlastergeoError as err:
        error("error:", err)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        error("interrupted:", "stopped by Ctrl-C; earlier outputs are unchanged", "yellow")
        raise typer.Exit(130) from None
    except Terminated:
        error("terminated:", "stopped by SIGTERM; earlier outputs are unchanged", "yellow")
        raise typer.Exit(143) from None
    except MemoryError as err:
        error("error:", _memory_advice(err))
        raise typer.Exit(2) from None
    except OSError as err:
        if err.errno == errno.ENOMEM:
            error("error:", _memory_advice(err))
            raise typer.Exit(2) from None
        cause = environment_cause(err)  # shutil.Error too: one error per file it copied
        if cause is None:
            _internal(err, state)
        # a path the system cannot use or a disk that cannot take the write: the
        # environment, not a bug
        if cause.errno in (errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR, errno.ENOENT):
            error("error:", f"cannot use the path {cause.filename!r}: {cause.strerror}")
        elif cause.errno == errno.EIO and cause.filename is not None:  # reading or writing
            error(
                "error:",
                f"cannot use the path {cause.filename!r}: {cause.strerror}; the disk "
                "reported an error, check it",
            )
        else:
            error("error:", output_error(cause, "writing outputs"))
        raise typer.Exit(2) from None
    except Exception as err:
        _internal(err, state)


def unraisable(state: dict[str, Any]) -> Callable[[Any], None]:
    """A ``sys.unraisablehook`` for the command line: an exception Python cannot raise
    (in a finaliser, at garbage collection: a library's cleanup after memory ran out)
    is one line on standard error, its traceback only with ``--debug``; one that says
    memory ran out is left out (the error that stops the run says so)."""
    default = sys.unraisablehook

    def hook(info: Any) -> None:
        if state.get("debug"):
            default(info)
        elif info.exc_value is not None and not memory_exhausted(info.exc_value):
            value = info.exc_value
            error("warning:", f"ignored {type(value).__name__}: {value}", "yellow")

    return hook


def _memory_advice(err: BaseException) -> str:
    """What to do when memory ran out: the step's own advice when a step of the
    pipeline says which (``OutOfMemory``), else what holds memory in any run."""
    if getattr(err, "advice", None):
        return str(err)
    return (
        "not enough memory; use a smaller --batch-size (records held at a time), a smaller "
        "study area (--area) or a coarser --level, leave co-location out "
        "(--no-colocation), or run it on a machine with more memory"
    )


def _internal(err: BaseException, state: dict[str, Any]) -> NoReturn:
    if state.get("debug"):
        console.print(traceback.format_exc())
    error(
        "internal error:",
        f"{type(err).__name__}: {err}\nThis is a bug in klastergeo; rerun with --debug for "
        "the traceback and report it.",
    )
    raise typer.Exit(1) from None


class _LiteralFormatter(logging.Formatter):
    """Log lines as plain text, control characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return literal(super().format(record))


def setup_logging(level: int) -> None:
    """klastergeo's log lines through rich on standard error, as plain text."""
    handler = RichHandler(console=console, show_path=False, show_time=False, markup=False)
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    handler.setFormatter(_LiteralFormatter("%(message)s"))
    logging.getLogger("klastergeo").setLevel(level)


def error(label: str, message: object, style: str = "bold red") -> None:
    """An error line on standard error, unwrapped: a path in it stays whole."""
    console.print(Text.assemble((label, style), " ", literal(message)), soft_wrap=True)


class RichReporter:
    """Shows the pipeline's steps and per-sector progress as rich progress bars."""

    def __init__(self, progress: Progress, steps: tuple[str, ...]) -> None:
        self.progress = progress
        self.overall = progress.add_task("klastergeo", total=len(steps), rate="")
        self.detail: Any = None
        self.steps = steps

    def step(self, name: str) -> None:
        done = self.steps.index(name) if name in self.steps else 0
        self.progress.update(self.overall, completed=done, description=f"step: {name}")
        if self.detail is not None:
            self.progress.remove_task(self.detail)
            self.detail = None

    def advance(self, detail: str, done: int, total: int) -> None:
        if self.detail is None:
            self.detail = self.progress.add_task(detail, total=total, rate="")
        task = self.progress.tasks[-1] if self.progress.tasks else None
        speed = task.speed if task is not None and task.id == self.detail else None
        rate = f"{speed:,.0f}/s" if speed else ""
        self.progress.update(
            self.detail, completed=done, total=total, description=f"  {detail}", rate=rate
        )

    def finish(self) -> None:
        self.progress.update(self.overall, completed=len(self.steps), description="done")


class LineReporter:
    """Progress as plain lines on stderr when it is not a terminal (CI, a log file, a
    cluster job): one line per step, and one per tenth of a long step's work."""

    def __init__(self, steps: tuple[str, ...]) -> None:
        self.steps = steps
        self.started = time.perf_counter()
        self.step_started = self.started
        self.tenth: dict[str, int] = {}
        self.detail_started: dict[str, float] = {}

    def _line(self, text: str) -> None:
        elapsed = time.perf_counter() - self.started
        console.print(Text(f"[{elapsed:7.1f}s] {text}"), soft_wrap=True)

    def step(self, name: str) -> None:
        number = self.steps.index(name) + 1 if name in self.steps else 0
        self.step_started = time.perf_counter()
        self.tenth = {}
        self.detail_started = {}
        self._line(f"step {number}/{len(self.steps)}: {name}")

    def advance(self, detail: str, done: int, total: int) -> None:
        if total <= 0:
            return
        started = self.detail_started.setdefault(detail, self.step_started)
        tenth = min(10, done * 10 // total)
        if tenth <= self.tenth.get(detail, 0):
            return
        self.tenth[detail] = tenth
        rate = done / max(time.perf_counter() - started, 1e-9)
        speed = f"{rate:,.1f}/s" if rate < 10 else f"{rate:,.0f}/s"
        self._line(f"  {detail}: {done:,}/{total:,} ({tenth * 10}%, {speed})")
        self.detail_started[detail] = started

    def finish(self) -> None:
        self._line("done")


@contextmanager
def progress(steps: tuple[str, ...]) -> Iterator[RichReporter | LineReporter]:
    """Progress of ``steps`` while the block runs: bars with the rate and the time left
    on a terminal, plain lines on stderr otherwise."""
    if not console.is_terminal:
        lines = LineReporter(steps)
        yield lines
        lines.finish()
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bars:
        reporter = RichReporter(bars, steps)
        yield reporter
        reporter.finish()


def print_records(block: RecordsRecord) -> None:
    """The data-quality table of ``summary.json``'s ``records`` block."""
    table = Table("records", "count", title="Data quality")
    for key, count in (
        ("read", block.read),
        ("kept", block.kept),
        ("rejected", block.rejected),
        ("repaired", block.repaired),
    ):
        table.add_row(key, f"{count:,}")
    for reason, n in block.by_reason.items():
        if n:
            table.add_row(f"  {reason}", f"{n:,}")
    for repair, n in block.repaired_by_reason.items():
        if n:
            table.add_row(f"  {repair} (repaired)", f"{n:,}")
    placed = block.placement
    if set(placed) - {"point"}:  # some records were placed by the area they name
        for how in ("point", "code", "name"):
            if placed.get(how):
                table.add_row(f"placed by {how}", f"{placed[how]:,}")
    out_console.print(table)
    for line in records_notes(block):
        out_console.print(Text.assemble(("note: ", "yellow"), literal(line)), soft_wrap=True)
    print_roles(block)


def records_notes(block: RecordsRecord) -> list[str]:
    """What the data-quality table does not show: where the header was found, the rows
    skipped as not firms, the sheets left out, a role a column stood for."""
    notes = []
    layout = block.layout
    tables = layout.tables if layout is not None else []
    plain = len(tables) == 1 and tables[0].header_rows == [1] and tables[0].header_found
    shown = [] if plain else tables  # a header on the first row goes without saying
    alike = {(tuple(t.header_rows), t.header_found) for t in shown}
    if len(shown) > 3 and len(alike) == 1:  # one sheet per kecamatan: one line
        rows = ", ".join(str(r) for r in shown[0].header_rows)
        notes.append(f"header in row(s) {rows} of each of the {len(shown)} sheets")
        shown = []
    for table in shown:
        rows = ", ".join(str(r) for r in table.header_rows)
        where = f"sheet {table.sheet!r}: " if table.sheet else ""
        how = "" if table.header_found else " (no row names known columns)"
        notes.append(f"{where}header in row(s) {rows}{how}")
    if layout is not None:
        notes += [f"sheet {s.sheet!r} left out: {s.why}" for s in layout.sheets_skipped]
        notes += list(layout.notes)
    n = block.skipped
    if n:
        kinds = {
            "total": ("total", "totals"),
            "footnote": ("footnote", "footnotes"),
            "blank": ("blank row", "blank rows"),
            "header": ("header repeated", "headers repeated"),
            "column_numbers": ("row of column numbers", "rows of column numbers"),
            "note": ("note without a firm", "notes without a firm"),
        }
        parts = ", ".join(
            f"{count:,} {kinds.get(kind, (kind, kind))[count != 1]}"
            for kind, count in block.skipped_by_kind.items()
            if count
        )
        notes.append(f"skipped {n:,} row(s) that are not firms: {parts}; see skipped.csv")
    for role, column in block.implied_columns.items():
        notes.append(f"no {role} column: column {column!r} (the sheet names) stands for it")
    return notes


def unit_text(entry: RoleRecord) -> str:
    """A measure's unit as read and its conversion (``Rp -> Rp juta (x 1e-06)``), or ``""``
    for a role without a unit.

    Parameters
    ----------
    entry
        One role of ``summary.json``'s ``records.roles``.
    """
    if not entry.measured:
        return ""
    unit, stated, factor = entry.unit, entry.stated_unit, entry.factor
    source = str(entry.unit_from)
    said = {"option": " (given)", "assumed": " (no unit in the header: assumed)"}.get(source, "")
    if factor == 1:
        return stated if stated == "orang" else f"{stated}{said}"
    return f"{unit} -> {stated} (x {factor:g}){said}"


#: Optional roles worth a line when missing (the area roles are for records without
#: coordinates; the name and id are not measures).
_NOTED_MISSING = ("workers", "output", "investment")


def print_roles(block: RecordsRecord) -> None:
    """Which column was taken for each role (with the unit of the measures), the measures
    not found and the similar columns not taken (``records.roles`` and the keys after it)."""
    roles = block.roles
    if not roles:
        return
    table = Table("role", "column", "unit", title="Columns")
    for role, entry in roles.items():
        table.add_row(role, literal(entry.column), unit_text(entry))
    out_console.print(table)
    missing = [r for r in block.roles_not_found if r in _NOTED_MISSING]
    if missing:
        out_console.print(
            Text.assemble(
                ("not found: ", "yellow"),
                f"no {' or '.join(missing)} column: its values and sums are missing (not "
                "available, never 0) and the models go without it",
            ),
        )
    for role, names in block.similar_columns.items():
        out_console.print(
            Text.assemble(
                ("not taken: ", "yellow"),
                literal(
                    f"{', '.join(map(repr, names))} (the words of the {role} column and "
                    f"more; pass --{role.replace('_', '-')}-col to use one)"
                ),
            ),
        )
    for role, names in block.passed_over.items():
        out_console.print(
            Text.assemble(
                ("passed over: ", "yellow"),
                literal(
                    f"{', '.join(map(repr, names))} (also a {role} column; "
                    f"{roles[role].column if role in roles else ''!r} was taken)"
                ),
            ),
        )


def print_summary(summary: RunRecord, sentra: Any, out: Path) -> None:
    """A run's data quality, sentra, what was not computed, timings and outputs."""
    from klastergeo.publish.record import NearMisses, RecordsRecord

    print_records(summary.records or RecordsRecord())
    if len(sentra):
        # at 80 columns the sector is its code and the profile columns are left out
        # (they are in sentra.csv and the report); wider terminals get them all
        wide = out_console.width >= 110
        columns = ["sentra_id", "name", "sector", "firms", "areas", "LQ"]
        table = Table(
            *columns, *(["type", "stage"] if wide else []), title=f"Sentra ({len(sentra)})"
        )
        for row in sentra.itertuples():
            cells = [
                literal(row.Index),
                literal(row.name),
                f"{row.sector} {row.sector_label}" if wide else str(row.sector),
                f"{row.n_firms:,}",
                str(row.n_areas),
                f"{row.lq:.1f}",
            ]
            if wide:
                cells += [
                    str(getattr(row, "typology_label", "")),
                    str(getattr(row, "stage", "")),
                ]
            table.add_row(*cells)
        out_console.print(table)
    else:
        out_console.print("no sentra found")
    _print_near_misses(summary.candidates or NearMisses(), none_found=not len(sentra))
    for item in summary.not_computed or []:
        said = "partly computed: " if item.partly else "not computed: "
        out_console.print(
            Text.assemble((said, "yellow"), literal(f"{item.what}: {item.why}")),
            soft_wrap=True,
        )
    from klastergeo.app.pipeline.probabilities import left_out_text

    for lost in summary.predictors_left_out or []:
        out_console.print(
            Text.assemble(("models: ", "yellow"), literal(left_out_text(lost.to_json())))
        )
    for note in summary.output_notes or []:
        out_console.print(
            Text.assemble(("note: ", "yellow"), literal(f"{note.file}: {note.note}")),
            soft_wrap=True,
        )
    timed = summary.timings or {}
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in timed.items())
    out_console.print(f"timings: {timings}")
    out_console.print(Text.assemble("outputs: ", (str(out), "bold")))
    pages = [
        (name, what)
        for name, what in (
            ("index.html", "start page"),
            ("report.html", "report"),
            ("map.html", "map"),
        )
        if (out / name).exists() and (name != "map.html" or "map" in timed)
    ]
    for name, what in pages:
        out_console.print(Text.assemble(f"  {what}: ", literal(str(out / name))), soft_wrap=True)


def _print_near_misses(candidates: NearMisses, *, none_found: bool) -> None:
    """How many concentrations met some sentra rules but not all, which rules they
    failed, and (when no sentra was found) the largest of them."""
    count = candidates.count
    if not count:
        return
    failed = ", ".join(f"{k} {v:,}" for k, v in candidates.failed.items())
    out_console.print(
        Text.assemble(
            ("near misses: ", "yellow" if none_found else ""),
            literal(
                f"{count:,} concentration(s) met some sentra rules but not all "
                f"(failed: {failed}); see candidates.csv"
            ),
        ),
        soft_wrap=True,
    )
    if none_found:
        for reason in candidates.largest:
            out_console.print(Text.assemble("  ", literal(reason)), soft_wrap=True)


def print_model(result: Any) -> None:
    """Coefficients and the classification table in the source studies' form."""
    from klastergeo.publish.model_tables import TITLES

    coefficients = Table(
        "term",
        "estimate",
        "std. error",
        "z/t",
        "p",
        title=f"{TITLES[result.kind]}: {result.outcome} (n = {result.fit['n']:,})",
    )
    for row in result.coefficients.itertuples():
        coefficients.add_row(
            literal(row.term),
            f"{row.estimate:.4f}",
            f"{row.std_error:.4f}",
            f"{row.statistic:.3f}",
            f"{row.p_value:.4f}",
        )
    out_console.print(coefficients)
    table = result.classification
    classification = Table(
        "actual",
        "n",
        "predicted 0",
        "predicted 1",
        "mean probability",
        title=f"Classification table (cut-off {result.fit['cutoff']:g})",
    )
    labels = {"0": f"{result.outcome} = 0", "1": f"{result.outcome} = 1", "all": "overall"}
    for label, row in table.iterrows():
        classification.add_row(
            labels.get(str(label), str(label)),
            f"{int(row['n']):,}",
            f"{row['predicted_0']:.1%}",
            f"{row['predicted_1']:.1%}",
            f"{row['mean_probability']:.3f}",
        )
    out_console.print(classification)
    extra = "mcfadden_r2" if "mcfadden_r2" in result.fit else "r2"
    out_console.print(
        f"{extra}: {result.fit[extra]:.4f}, count R2: {result.fit['count_r2']:.4f}, "
        f"AUC: {result.fit['auc']:.4f}, Hosmer-Lemeshow p: {result.fit['hosmer_lemeshow_p']:.3f}"
    )


def print_area_model(result: dict[str, Any], outcome: str) -> None:
    """The area model's spatial diagnostics and the recommended model."""
    tables = result["tables"]
    diagnostics = Table("test", "statistic", "p", title=f"Spatial diagnostics of OLS: {outcome}")
    for row in tables["diagnostics"].itertuples():
        diagnostics.add_row(row.test, f"{row.statistic:.4f}", f"{row.p_value:.4f}")
    out_console.print(diagnostics)
    choice = result["recommended"]
    shown = tables.get(choice, tables["coefficients"])
    coefficients = Table(
        "term", "estimate", "std. error", "p", title=f"{choice.upper()} model: {outcome}"
    )
    for row in shown.itertuples():
        coefficients.add_row(
            literal(row.term), f"{row.estimate:.4f}", f"{row.std_error:.4f}", f"{row.p_value:.4f}"
        )
    out_console.print(coefficients)


def print_boundaries(source: Path, levels: Any) -> None:
    """Where boundaries come from and the areas of each level."""
    table = Table("level", "areas", "file")
    for row in levels.itertuples():
        table.add_row(row.level, f"{row.areas:,}" if row.areas >= 0 else "?", str(row.file))
    out_console.print(Text.assemble("boundaries from ", (str(source), "bold")))
    out_console.print(table)


def print_areas_found(name: str, found: Any) -> None:
    """The areas a name search found, with their codes (``klastergeo boundaries find``)."""
    if not len(found):
        out_console.print(Text.assemble("no area is named like ", literal(repr(name))))
        return
    table = Table("code", "name", "level", "in", title=f"areas named like {name!r}")
    for row in found.itertuples():
        table.add_row(
            literal(row.area_code), literal(row.name), row.level, literal(row.parent or "")
        )
    out_console.print(table)


def print_periods(result: Any, out: Path) -> None:
    """A multi-period run: sentra per period, the lineages by trend, the outputs."""
    record: RunRecord = result.record
    table = Table("period", "sentra", title="Periods")
    per_period = record.sentra if isinstance(record.sentra, dict) else {}
    for period in result.periods:
        table.add_row(literal(period), f"{per_period[period]:,}")
    out_console.print(table)
    written = record.period_format
    if written:
        out_console.print(Text.assemble("period labels read as ", literal(written)))
    trends = ", ".join(f"{k} {v}" for k, v in (record.lineages or {}).items() if v)
    out_console.print(f"lineages: {len(result.lineages)} ({trends or 'none'})")
    missing = record.records_without_period or 0
    if missing:
        out_console.print(
            Text.assemble(("records without a period: ", "yellow"), f"{missing:,}"),
            soft_wrap=True,
        )
    out_console.print(Text.assemble("outputs: ", (str(out), "bold")))
    for name, what in (("index.html", "start page"), ("dynamics.csv", "lineages")):
        out_console.print(Text.assemble(f"  {what}: ", literal(str(out / name))), soft_wrap=True)


# The commands' runs: progress bars while they work, then what came out -----------------


def run_pipeline(settings: RunConfig, *, sentra_only: bool) -> None:
    """``klastergeo run`` or ``sentra``: one registry, or its periods, with progress bars;
    then the summary."""
    from klastergeo.app import pipeline

    if settings.records.period_col or settings.records.files or settings.counts.files:
        from klastergeo.app.pipeline.periods import run_periods

        print_periods(run_periods(settings, sentra_only=sentra_only), settings.out)
        return
    steps = pipeline.SENTRA_STEPS if sentra_only else pipeline.STEPS
    with progress(steps) as reporter:
        result = pipeline.run(settings, reporter=reporter, sentra_only=sentra_only)
    print_summary(result.record, result.sentra, result.out)


def run_validation(settings: RunConfig) -> None:
    """``klastergeo validate``: the registry's validation, its counts and where the
    reports are; raises the problem that makes the exit code 2 (none kept, ...)."""
    from klastergeo.app.pipeline import validate_run, validation_problem
    from klastergeo.publish.record import RecordsRecord

    report = validate_run(settings)
    print_records(RecordsRecord.from_json(report.summary()))
    out_console.print(Text.assemble("reports written to ", (str(settings.out), "bold")))
    problem = validation_problem(settings, report)
    if problem is not None:
        raise problem


def run_models(settings: RunConfig) -> None:
    """``klastergeo model``: the firm models (or the area model of ``model.area_data``)
    with progress bars; then their tables and where the outputs are."""
    from klastergeo.app import pipeline

    if settings.model.area_data is not None:
        print_area_model(pipeline.run_area_model(settings), settings.model.outcome)
    else:
        in_sentra = settings.model.outcome == "in_sentra"
        steps = pipeline.STEPS if in_sentra else pipeline.MODEL_STEPS
        with progress(tuple(s for s in steps if s != "map")) as reporter:
            fitted = pipeline.run_models(settings, reporter=reporter)
        for result in fitted.values():
            print_model(result)
    out_console.print(Text.assemble("outputs: ", (str(Path(settings.out) / "models"), "bold")))


def run_demo(out: Path, **options: Any) -> None:
    """``klastergeo demo``: generate the demo registry and run it with progress bars
    (``options`` as :func:`klastergeo.app.demo.run_demo` takes them); then the summary."""
    from klastergeo.app import pipeline
    from klastergeo.app.demo import run_demo as demo

    with progress(pipeline.STEPS) as reporter:
        made = demo(
            out, reporter=reporter, notify=lambda text: console.print(literal(text)), **options
        )
    print_summary(made.result.record, made.result.sentra, made.result.out)
    if made.periods is not None:
        print_periods(made.periods, Path(out))


def print_published(files: list[Path], site: Path) -> None:
    """``klastergeo publish``: what was written, and how to embed the map."""
    from klastergeo.publish import embed_snippet

    out_console.print(Text.assemble(f"published {len(files)} files to ", (str(site), "bold")))
    out_console.print(f"open {site / 'index.html'}; embed the map with:")
    out_console.print(embed_snippet("klastergeo"))
