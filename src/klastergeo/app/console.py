"""What the command line prints: literal text, progress bars and the tables of a run.

Everything the console itself words is in the run's language (``map.lang``, ``--lang``:
the catalogue's ``terminal`` and ``progress`` groups, :mod:`klastergeo.publish.messages`),
and so are the errors a new user meets first (those with a key of the ``errors`` group,
:func:`error_text`); other errors and notes are the library's English. Nothing printed
is read as rich markup (paths, column names and messages may hold ``[``), and control
characters are shown as escapes.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import sys
import time
import traceback
import unicodedata
from collections.abc import Callable, Iterator, Mapping
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
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from klastergeo.errors import KlastergeoError, Phrase, memory_exhausted
from klastergeo.io.files import environment_cause, output_error

if TYPE_CHECKING:  # the CLI starts without pandas: the record's package imports it
    from klastergeo.app.config import RunConfig
    from klastergeo.publish.record import NearMisses, RecordsRecord, RoleRecord, RunRecord

console = Console(stderr=True, markup=False, highlight=False)
out_console = Console(markup=False, highlight=False)

#: The language of what the console words when no run says one (a command without
#: ``--lang``, an error before the options are read): the runs' default.
DEFAULT_LANG = "id"


def words(lang: str) -> Mapping[str, str]:
    """The console's texts in ``lang`` (the catalogue's ``terminal`` group).

    Parameters
    ----------
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> words("id")["quality"], words("en")["quality"]
    ('Mutu data', 'Data quality')
    """
    from klastergeo.publish import messages  # pandas: not at the CLI's start

    return messages.text("terminal", lang)


def step_name(name: str, lang: str) -> str:
    """A step's or a progress detail's name in ``lang`` (the catalogue's ``progress``
    group; a name it does not know as it is).

    Parameters
    ----------
    name
        A step of :data:`klastergeo.app.pipeline.STEPS`, or what a long step reports.
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> step_name("profile", "id"), step_name("checking records", "id")
    ('profil', 'memeriksa catatan')
    """
    from klastergeo.publish import messages

    return messages.label("progress", name, lang)


def error_text(err: KlastergeoError | Phrase, lang: str) -> str:
    """An error's message in ``lang``: the catalogue's ``errors`` text of its key with the
    values it names (each part in ``lang`` too), else the library's English message (a
    key ``group.name`` is the text of another group, e.g. ``reasons.outside_study_area``).

    Parameters
    ----------
    err
        The error (or a part of its message).
    lang
        ``"id"`` or ``"en"``; English is the library's message as it is.

    Examples
    --------
    >>> from klastergeo.errors import ConfigError
    >>> err = ConfigError("config file 'a.toml' does not exist", key="config_missing",
    ...                   params={"path": "'a.toml'"})
    >>> error_text(err, "id")
    "berkas konfigurasi 'a.toml' tidak ada"
    >>> error_text(err, "en")
    "config file 'a.toml' does not exist"
    """
    from klastergeo.publish import messages

    group, _, key = (err.key or "").rpartition(".")  # "reasons.x": another group's text
    texts = messages.text(group or "errors", lang) if lang != "en" else {}
    if not key or key not in texts:
        return str(err)

    def said(value: object) -> str:
        if isinstance(value, (KlastergeoError, Phrase)):
            return error_text(value, lang)
        if isinstance(value, (list, tuple)):
            return "; ".join(said(part) for part in value)
        return str(value)

    try:
        return texts[key].format(**{name: said(v) for name, v in err.params.items()})
    except (KeyError, IndexError, ValueError):  # a text and its values that do not fit
        return str(err)


def _count(value: int, lang: str) -> str:
    """A count with the language's thousands separator (``1.234`` / ``1,234``)."""
    from klastergeo.publish import messages

    return messages.number(value, lang)


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
    exit code 1; Ctrl-C and SIGTERM stop a run cleanly (130, 143). The words the console
    adds (``error:``, the hints) are in ``state["lang"]`` (the run's language)."""
    try:
        yield
    except typer.Exit:
        raise
    except KlastergeoError as err:
        error(words(_lang(state))["error"], error_text(err, _lang(state)))
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        said = words(_lang(state))
        error(said["interrupted"], said["stopped_ctrl_c"], "yellow")
        raise typer.Exit(130) from None
    except Terminated:
        said = words(_lang(state))
        error(said["terminated"], said["stopped_sigterm"], "yellow")
        raise typer.Exit(143) from None
    except MemoryError as err:
        error(words(_lang(state))["error"], _memory_advice(err, _lang(state)))
        raise typer.Exit(2) from None
    except OSError as err:
        _environment(err, state, _lang(state))
    except Exception as err:
        _internal(err, state)


def _lang(state: dict[str, Any]) -> str:
    """The language of the command's run (set once its options are read)."""
    lang = state.get("lang")
    return lang if lang in ("id", "en") else DEFAULT_LANG


def _environment(err: OSError, state: dict[str, Any], lang: str) -> NoReturn:
    """An OS error: exit code 2 when the environment is at fault (memory, a path the
    system cannot use, a disk that cannot take the write), else a bug (1)."""
    said = words(lang)
    if err.errno == errno.ENOMEM:
        error(said["error"], _memory_advice(err, lang))
        raise typer.Exit(2) from None
    cause = environment_cause(err)  # shutil.Error too: one error per file it copied
    if cause is None:
        _internal(err, state)
    if cause.errno in (errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR, errno.ENOENT):
        error(said["error"], said["bad_path"].format(path=repr(cause.filename), why=cause.strerror))
    elif cause.errno == errno.EIO and cause.filename is not None:  # reading or writing
        path = said["bad_path"].format(path=repr(cause.filename), why=cause.strerror)
        error(said["error"], f"{path}; {said['disk']}")
    else:
        error(said["error"], error_text(output_error(cause, "writing outputs"), lang))
    raise typer.Exit(2) from None


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
            said = words(_lang(state))
            ignored = said["ignored"].format(error=type(value).__name__, message=value)
            error(said["warning"], ignored, "yellow")

    return hook


def _memory_advice(err: BaseException, lang: str) -> str:
    """What to do when memory ran out: the step's own advice when a step of the
    pipeline says which (``OutOfMemory``), else what holds memory in any run."""
    if getattr(err, "advice", None):
        return str(err)
    return words(lang)["memory"]


def _internal(err: BaseException, state: dict[str, Any]) -> NoReturn:
    if state.get("debug"):
        console.print(traceback.format_exc())
    said = words(_lang(state))
    error(said["internal"], f"{type(err).__name__}: {err}\n{said['bug']}")
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


def time_left(task: Task) -> float | None:
    """Seconds left of ``task`` at its clock's time, or None before anything is done.

    Each unit of work (a step, a sector, a batch) is taken to last as long as the done
    ones did on average. While a unit runs, its share counts down second by second; once
    it has run longer than that, it is taken to end now and the units after it to last
    as long as all of them so far (the estimate grows). Rich's own column divides by
    the speed of the last updates and stays frozen while a long step runs.

    Parameters
    ----------
    task
        A rich task; ``task.fields["changed"]`` is when its count last changed (the
        start when missing).
    """
    if task.start_time is None or not task.total:
        return None
    done, total = task.completed, task.total
    if done >= total:
        return 0.0
    if done <= 0:
        return None
    now = task.get_time()
    elapsed = now - task.start_time
    running = now - task.fields.get("changed", task.start_time)  # the current unit
    mean = (elapsed - running) / done
    if running <= mean:
        return (total - done) * mean - running
    return (total - done - 1) * elapsed / (done + 1)


class TimeLeftColumn(ProgressColumn):
    """The time left (:func:`time_left`), redrawn at every refresh: it moves while a
    step runs, however long, with no new progress."""

    def render(self, task: Task) -> Text:
        left = time_left(task)
        if left is None:
            return Text("-:--:--", style="progress.remaining")
        minutes, seconds = divmod(math.ceil(left), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"{hours}:{minutes:02d}:{seconds:02d}", style="progress.remaining")


class RichReporter:
    """Shows the pipeline's steps and per-sector progress as rich progress bars, named
    in ``lang``; a run over several surveys names the survey before its steps."""

    def __init__(
        self, progress: Progress, steps: tuple[str, ...], lang: str = DEFAULT_LANG
    ) -> None:
        self.progress = progress
        self.lang = lang
        self.steps = steps
        self.prefix = ""
        now = progress.get_time()
        self.overall = progress.add_task("klastergeo", total=len(steps), rate="", changed=now)
        self.detail: Any = None

    def _set(self, task_id: Any, completed: float, **fields: Any) -> None:
        """Update a task, noting when its count changed (for :func:`time_left`)."""
        task = next(t for t in self.progress.tasks if t.id == task_id)
        if completed != task.completed:
            fields["changed"] = self.progress.get_time()
        self.progress.update(task_id, completed=completed, **fields)

    def survey(self, period: str, number: int, total: int) -> None:
        """The next survey of a run over several: its steps start again."""
        said = words(self.lang)["survey"]
        self.prefix = literal(said.format(number=number, total=total, period=period)) + " | "
        # reset replaces the fields: the rate column needs its own back
        now = self.progress.get_time()
        self.progress.reset(self.overall, total=len(self.steps), rate="", changed=now)
        self._drop_detail()

    def _drop_detail(self) -> None:
        if self.detail is not None:
            self.progress.remove_task(self.detail)
            self.detail = None

    def step(self, name: str) -> None:
        done = self.steps.index(name) if name in self.steps else 0
        shown = words(self.lang)["step_bar"].format(name=step_name(name, self.lang))
        self._set(self.overall, done, description=self.prefix + shown)
        self._drop_detail()

    def advance(self, detail: str, done: int, total: int) -> None:
        shown = f"  {step_name(detail, self.lang)}"
        if self.detail is None:  # named in the run's language from its first drawing
            now = self.progress.get_time()
            self.detail = self.progress.add_task(shown, total=total, rate="", changed=now)
        task = self.progress.tasks[-1] if self.progress.tasks else None
        speed = task.speed if task is not None and task.id == self.detail else None
        rate = _rate(speed, self.lang) if speed else ""
        self.progress.update(self.detail, total=total)
        self._set(self.detail, done, description=shown, rate=rate)

    def finish(self) -> None:
        done = words(self.lang)["done"]
        self._set(self.overall, len(self.steps), description=done)


class LineReporter:
    """Progress as plain lines on stderr when it is not a terminal (CI, a log file, a
    cluster job): one line per step (and per survey of a run over several), and one
    per tenth of a long step's work, named in ``lang``."""

    def __init__(self, steps: tuple[str, ...], lang: str = DEFAULT_LANG) -> None:
        self.steps = steps
        self.lang = lang
        self.started = time.perf_counter()
        self.step_started = self.started
        self.tenth: dict[str, int] = {}
        self.detail_started: dict[str, float] = {}

    def _line(self, text: str) -> None:
        elapsed = time.perf_counter() - self.started
        console.print(Text(f"[{elapsed:7.1f}s] {literal(text)}"), soft_wrap=True)

    def survey(self, period: str, number: int, total: int) -> None:
        """The next survey of a run over several: a line naming it."""
        self._line(words(self.lang)["survey"].format(number=number, total=total, period=period))

    def step(self, name: str) -> None:
        number = self.steps.index(name) + 1 if name in self.steps else 0
        self.step_started = time.perf_counter()
        self.tenth = {}
        self.detail_started = {}
        said = words(self.lang)["step"]
        self._line(
            said.format(number=number, total=len(self.steps), name=step_name(name, self.lang))
        )

    def advance(self, detail: str, done: int, total: int) -> None:
        if total <= 0:
            return
        started = self.detail_started.setdefault(detail, self.step_started)
        tenth = min(10, done * 10 // total)
        if tenth <= self.tenth.get(detail, 0):
            return
        self.tenth[detail] = tenth
        rate = done / max(time.perf_counter() - started, 1e-9)
        speed = _rate(rate, self.lang)
        counted = f"{_count(done, self.lang)}/{_count(total, self.lang)}"
        shown = f"{tenth * 10}%, {speed}" if speed else f"{tenth * 10}%"
        self._line(f"  {step_name(detail, self.lang)}: {counted} ({shown})")
        self.detail_started[detail] = started

    def finish(self) -> None:
        self._line(words(self.lang)["done"])


def _rate(rate: float, lang: str) -> str:
    """Units per second: one decimal below 10; nothing below one a second (parts that
    take many seconds each, whose rate would read 0.0/s)."""
    from klastergeo.publish import messages

    if rate < 1:
        return ""
    return f"{messages.number(rate, lang, 1 if rate < 10 else 0)}/s"


@contextmanager
def progress(
    steps: tuple[str, ...], *, lang: str = DEFAULT_LANG
) -> Iterator[RichReporter | LineReporter]:
    """Progress of ``steps`` while the block runs, named in ``lang``: bars with the rate
    and a time left that moves (redrawn ten times a second) on a terminal, plain lines
    on stderr otherwise (no redrawing thread then)."""
    if not console.is_terminal:
        lines = LineReporter(steps, lang)
        yield lines
        lines.finish()
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeLeftColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bars:
        reporter = RichReporter(bars, steps, lang)
        yield reporter
        reporter.finish()


def print_records(block: RecordsRecord, lang: str = DEFAULT_LANG, *, title: str = "") -> None:
    """The data-quality table of ``summary.json``'s ``records`` block, in ``lang``.

    Parameters
    ----------
    block
        The records block.
    lang
        ``"id"`` or ``"en"``.
    title
        The table's title (default: the language's "Data quality").
    """
    from klastergeo.publish import messages

    said = words(lang)
    table = Table(said["records"], said["count"], title=title or said["quality"])
    for key, count in (
        ("read", block.read),
        ("kept", block.kept),
        ("rejected", block.rejected),
        ("repaired", block.repaired),
    ):
        table.add_row(said[key], _count(count, lang))
    for reason, n in block.by_reason.items():
        if n:
            table.add_row(f"  {messages.label('reasons', reason, lang)}", _count(n, lang))
    for repair, n in block.repaired_by_reason.items():
        if n:
            name = said.get(repair, repair)
            table.add_row(f"  {said['repaired_mark'].format(reason=name)}", _count(n, lang))
    placed = block.placement
    if set(placed) - {"point"}:  # some records were placed by the area they name
        for how in ("point", "code", "name"):
            if placed.get(how):
                by = said["placed_by"].format(how=said[f"how_{how}"])
                table.add_row(by, _count(placed[how], lang))
    out_console.print(table)
    for line in records_notes(block, lang):
        out_console.print(
            Text.assemble((f"{said['note']} ", "yellow"), literal(line)), soft_wrap=True
        )
    print_roles(block, lang)


def records_notes(block: RecordsRecord, lang: str = DEFAULT_LANG) -> list[str]:
    """What the data-quality table does not show, in ``lang``: where the header was
    found, the rows skipped as not firms, the sheets left out (the reasons as the reader
    words them), a role a column stood for."""
    said = words(lang)
    notes = []
    layout = block.layout
    tables = layout.tables if layout is not None else []
    plain = len(tables) == 1 and tables[0].header_rows == [1] and tables[0].header_found
    shown = [] if plain else tables  # a header on the first row goes without saying
    alike = {(tuple(t.header_rows), t.header_found) for t in shown}
    if len(shown) > 3 and len(alike) == 1:  # one sheet per kecamatan: one line
        rows = ", ".join(str(r) for r in shown[0].header_rows)
        notes.append(said["header_each"].format(rows=rows, sheets=len(shown)))
        shown = []
    for table in shown:
        rows = ", ".join(str(r) for r in table.header_rows)
        found = said["header_sheet" if table.sheet else "header_rows"]
        line = found.format(sheet=repr(table.sheet), rows=rows)
        notes.append(line if table.header_found else f"{line} {said['header_unknown']}")
    if layout is not None:
        notes += [
            said["sheet_left_out"].format(sheet=repr(s.sheet), why=s.why)
            for s in layout.sheets_skipped
        ]
        notes += list(layout.notes)
    n = block.skipped
    if n:
        # "one|many" in the catalogue
        forms = {k: said.get(f"skipped_{k}", f"{k}|{k}").split("|") for k in block.skipped_by_kind}
        parts = ", ".join(
            f"{_count(count, lang)} {forms[kind][count != 1]}"
            for kind, count in block.skipped_by_kind.items()
            if count
        )
        notes.append(said["skipped"].format(n=_count(n, lang), parts=parts))
    for role, column in block.implied_columns.items():
        notes.append(said["implied_column"].format(role=_role(role, lang), column=repr(column)))
    return notes


def _role(role: str, lang: str) -> str:
    """An input column's role as the reader names it: in English as its flag does
    (``workers``, ``--workers-col``), in Indonesian by its name (``Tenaga kerja``)."""
    from klastergeo.publish import messages

    return role if lang == "en" else messages.label("input_roles", role, lang)


def unit_text(entry: RoleRecord, lang: str = DEFAULT_LANG) -> str:
    """A measure's unit as read and its conversion (``Rp -> Rp juta (x 1e-06)``), or ``""``
    for a role without a unit.

    Parameters
    ----------
    entry
        One role of ``summary.json``'s ``records.roles``.
    lang
        ``"id"`` or ``"en"``: the words added to the units.
    """
    if not entry.measured:
        return ""
    unit, stated, factor = entry.unit, entry.stated_unit, entry.factor
    source = str(entry.unit_from)
    said = words(lang)
    given = {"option": f" {said['unit_given']}", "assumed": f" {said['unit_assumed']}"}
    if factor == 1:
        return stated if stated == "orang" else f"{stated}{given.get(source, '')}"
    return f"{unit} -> {stated} (x {factor:g}){given.get(source, '')}"


#: Optional roles worth a line when missing (the area roles are for records without
#: coordinates; the name and id are not measures).
_NOTED_MISSING = ("workers", "output", "investment")


def print_roles(block: RecordsRecord, lang: str = DEFAULT_LANG) -> None:
    """Which column was taken for each role (with the unit of the measures), the measures
    not found and the similar columns not taken (``records.roles`` and the keys after it)."""
    roles = block.roles
    if not roles:
        return
    said = words(lang)
    table = Table(said["role"], said["column"], said["unit"], title=said["columns"])
    for role, entry in roles.items():
        table.add_row(_role(role, lang), literal(entry.column), unit_text(entry, lang))
    out_console.print(table)
    missing = [_role(r, lang) for r in block.roles_not_found if r in _NOTED_MISSING]
    if missing:
        text = said["not_found_text"].format(roles=said["or"].join(missing))
        out_console.print(Text.assemble((f"{said['not_found']} ", "yellow"), text))
    for role, names in block.similar_columns.items():
        flag = f"--{role.replace('_', '-')}-col"
        text = said["not_taken_text"].format(
            names=", ".join(map(repr, names)), role=_role(role, lang), flag=flag
        )
        out_console.print(Text.assemble((f"{said['not_taken']} ", "yellow"), literal(text)))
    for role, names in block.passed_over.items():
        taken = roles[role].column if role in roles else ""
        text = said["passed_over_text"].format(
            names=", ".join(map(repr, names)), role=_role(role, lang), taken=repr(taken)
        )
        out_console.print(Text.assemble((f"{said['passed_over']} ", "yellow"), literal(text)))


def print_summary(summary: RunRecord, sentra: Any, out: Path, lang: str = DEFAULT_LANG) -> None:
    """A run's data quality, sentra, what was not computed, timings and outputs, in
    ``lang``.

    Parameters
    ----------
    summary
        The run's record.
    sentra
        The sentra table (``sentra_id`` a column, or the index).
    out
        The run's folder.
    lang
        ``"id"`` or ``"en"``.
    """
    from klastergeo.publish.record import NearMisses, RecordsRecord

    said = words(lang)
    print_records(summary.records or RecordsRecord(), lang)
    if len(sentra):
        _print_sentra(sentra, lang)
    else:
        out_console.print(said["no_sentra"])
    _print_near_misses(summary.candidates or NearMisses(), lang, none_found=not len(sentra))
    for item in summary.not_computed or []:
        label = said["partly_computed" if item.partly else "not_computed"]
        what, why = item.said(lang)
        out_console.print(
            Text.assemble((f"{label} ", "yellow"), literal(f"{what}: {why}")),
            soft_wrap=True,
        )
    for lost in summary.predictors_left_out or []:
        text = _left_out(lost.to_json(), lang)
        out_console.print(Text.assemble((f"{said['models']} ", "yellow"), literal(text)))
    for note in summary.output_notes or []:
        out_console.print(
            Text.assemble((f"{said['note']} ", "yellow"), literal(f"{note.file}: {note.note}")),
            soft_wrap=True,
        )
    timed = summary.timings or {}
    timings = ", ".join(f"{step_name(k, lang)} {_seconds(v, lang)}" for k, v in timed.items())
    out_console.print(f"{said['timings']} {timings}")
    _print_outputs(out, lang, map_drawn="map" in timed)


def _left_out(item: dict[str, Any], lang: str) -> str:
    """A predictor the models went without, and why, in ``lang``
    (:func:`klastergeo.app.pipeline.probabilities.left_out`)."""
    role = str(item["predictor"])
    said = words(lang)
    if item.get("reason") == "no_column":
        flag = f"--{role.replace('_', '-')}-col"
        return said["left_out_column"].format(role=_role(role, lang), flag=flag)
    return said["left_out_values"].format(role=_role(role, lang), column=repr(item.get("column")))


def _seconds(value: float, lang: str) -> str:
    from klastergeo.publish import messages

    return f"{messages.number(value, lang, 1)}s"


def _print_outputs(out: Path, lang: str, *, map_drawn: bool) -> None:
    """The run's folder and its pages (the start page, the report, the map)."""
    said = words(lang)
    out_console.print(Text.assemble(f"{said['outputs']} ", (str(out), "bold")))
    for name, what in (
        ("index.html", "start_page"),
        ("report.html", "report"),
        ("map.html", "map"),
    ):
        if (out / name).exists() and (name != "map.html" or map_drawn):
            shown = Text.assemble(f"  {said[what]}: ", literal(str(out / name)))
            out_console.print(shown, soft_wrap=True)


def _print_sentra(sentra: Any, lang: str) -> None:
    """The sentra table: at 80 columns the sector is its code and the profile columns
    are left out (they are in sentra.csv and the report); wider terminals get them all."""
    from klastergeo.publish import messages

    said = words(lang)
    if "sentra_id" in sentra.columns:
        sentra = sentra.set_index("sentra_id")
    wide = out_console.width >= 110
    columns = [said[c] for c in ("sentra_id", "name", "sector", "firms", "areas", "lq")]
    extra = [said["type"], said["stage"]] if wide else []
    table = Table(*columns, *extra, title=said["sentra"].format(n=len(sentra)))
    for row in sentra.itertuples():
        cells = [
            literal(row.Index),
            literal(row.name),
            f"{row.sector} {row.sector_label}" if wide else str(row.sector),
            _count(row.n_firms, lang),
            str(row.n_areas),
            messages.number(row.lq, lang, 1),
        ]
        if wide:
            stage = getattr(row, "stage", "")
            cells += [
                str(getattr(row, "typology_label", "")),
                messages.label("stage", stage, lang) if stage else "",
            ]
        table.add_row(*cells)
    out_console.print(table)


def _print_near_misses(candidates: NearMisses, lang: str, *, none_found: bool) -> None:
    """How many concentrations met some sentra rules but not all, which rules they
    failed, and (when no sentra was found) the largest of them."""
    from klastergeo.publish import messages

    count = candidates.count
    if not count:
        return
    said = words(lang)
    failed = ", ".join(  # in English the rules' codes, as candidates.csv names them
        f"{k if lang == 'en' else messages.label('rules', k, lang)} {_count(v, lang)}"
        for k, v in candidates.failed.items()
    )
    out_console.print(
        Text.assemble(
            (f"{said['near_misses']} ", "yellow" if none_found else ""),
            literal(said["near_misses_text"].format(n=_count(count, lang), failed=failed)),
        ),
        soft_wrap=True,
    )
    if none_found:
        for reason in candidates.largest:
            out_console.print(Text.assemble("  ", literal(reason)), soft_wrap=True)


def print_model(result: Any, lang: str = DEFAULT_LANG, roles: dict[str, str] | None = None) -> None:
    """Coefficients and the classification table in the source studies' form, in
    ``lang``: terms titled as the workbook titles them (``roles``: the registry's
    column names of mapped roles, ``tenaga_kerja`` -> ``workers``), p-values as
    ``< 0,001`` below 0.001."""
    from klastergeo.publish import messages

    said = words(lang)
    title = said["model_title"].format(
        model=messages.label("models", result.kind, lang),
        outcome=messages.label("models", result.outcome, lang),  # in_sentra: "di sentra"
        n=_count(result.fit["n"], lang),
    )
    heads = (said[k] for k in ("term", "estimate", "std_error", "statistic", "p"))
    coefficients = Table(*heads, title=title)
    for row in result.coefficients.itertuples():
        coefficients.add_row(
            literal(messages.term_title(row.term, lang, roles)),
            messages.number(row.estimate, lang, 4),
            messages.number(row.std_error, lang, 4),
            messages.number(row.statistic, lang, 3),
            messages.p_value(row.p_value, lang),
        )
    out_console.print(coefficients)
    cutoff = messages.significant(result.fit["cutoff"], lang)
    heads = (said[k] for k in ("actual", "n", "predicted_0", "predicted_1", "mean_probability"))
    classification = Table(*heads, title=said["classification"].format(cutoff=cutoff))
    outcome = messages.label("models", result.outcome, lang)
    labels = {"0": f"{outcome} = 0", "1": f"{outcome} = 1", "all": said["overall"]}
    for label, row in result.classification.iterrows():
        classification.add_row(
            labels.get(str(label), str(label)),
            _count(int(row["n"]), lang),
            _percent(row["predicted_0"], lang),
            _percent(row["predicted_1"], lang),
            messages.number(row["mean_probability"], lang, 3),
        )
    out_console.print(classification)
    extra = "mcfadden_r2" if "mcfadden_r2" in result.fit else "r2"
    fit = {k: messages.number(result.fit[k], lang, 4) for k in (extra, "count_r2", "auc")}
    hl = messages.p_value(result.fit["hosmer_lemeshow_p"], lang)
    out_console.print(
        said["fit_line"].format(
            r2_name=messages.label("model_pages", extra, lang),
            r2=fit[extra],
            count_r2=fit["count_r2"],
            auc=fit["auc"],
            hl=hl,
        )
    )


def _percent(value: float, lang: str) -> str:
    from klastergeo.publish import messages

    return f"{messages.number(100 * value, lang, 1)}%"


def print_area_model(result: dict[str, Any], outcome: str, lang: str = DEFAULT_LANG) -> None:
    """The area model's spatial diagnostics and the recommended model, in ``lang``."""
    from klastergeo.publish import messages

    said = words(lang)
    tables = result["tables"]
    diagnostics = Table(
        said["test"],
        said["statistic"],
        said["p"],
        title=said["diagnostics"].format(outcome=outcome),
    )
    for row in tables["diagnostics"].itertuples():
        diagnostics.add_row(
            row.test, messages.number(row.statistic, lang, 4), messages.p_value(row.p_value, lang)
        )
    out_console.print(diagnostics)
    choice = result["recommended"]
    shown = tables.get(choice, tables["coefficients"])
    title = said["area_model"].format(model=choice.upper(), outcome=outcome)
    heads = (said[k] for k in ("term", "estimate", "std_error", "p"))
    coefficients = Table(*heads, title=title)
    for row in shown.itertuples():
        coefficients.add_row(
            literal(messages.term_title(row.term, lang)),
            messages.number(row.estimate, lang, 4),
            messages.number(row.std_error, lang, 4),
            messages.p_value(row.p_value, lang),
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


def print_periods(
    result: Any, out: Path, lang: str = DEFAULT_LANG, *, surveys: bool = True
) -> None:
    """A run over several surveys, in ``lang``: each survey's data quality (with
    ``surveys``), the sentra per period, the lineages by trend, the outputs."""
    from klastergeo.publish import messages
    from klastergeo.publish.record import RecordsRecord

    said = words(lang)
    for period in result.periods if surveys else ():
        block = result.runs[period].record.records or RecordsRecord()
        print_records(block, lang, title=said["survey_quality"].format(period=literal(period)))
    record: RunRecord = result.record
    table = Table(said["period"], "sentra", title=said["periods"])
    per_period = record.sentra if isinstance(record.sentra, dict) else {}
    for period in result.periods:
        table.add_row(literal(period), _count(per_period[period], lang))
    out_console.print(table)
    written = record.period_format
    if written:
        out_console.print(Text.assemble(f"{said['period_format']} ", literal(written)))
    trends = ", ".join(
        f"{messages.label('trends', k, lang)} {v}" for k, v in (record.lineages or {}).items() if v
    )
    out_console.print(
        said["lineages"].format(n=len(result.lineages), trends=trends or said["none"])
    )
    missing = record.records_without_period or 0
    if missing:
        out_console.print(
            Text.assemble((f"{said['without_period']} ", "yellow"), _count(missing, lang)),
            soft_wrap=True,
        )
    out_console.print(Text.assemble(f"{said['outputs']} ", (str(out), "bold")))
    for name, what in (("index.html", "start_page"), ("dynamics.csv", "lineages_file")):
        shown = Text.assemble(f"  {said[what]}: ", literal(str(out / name)))
        out_console.print(shown, soft_wrap=True)


# The commands' runs: progress bars while they work, then what came out -----------------


def run_pipeline(settings: RunConfig, *, sentra_only: bool) -> None:
    """``klastergeo run`` or ``sentra``: one registry, or its surveys (a progress line
    per survey and step), with progress bars; then the summary, in the run's language."""
    from klastergeo.app import pipeline

    lang = settings.map.lang
    steps = pipeline.SENTRA_STEPS if sentra_only else pipeline.STEPS
    if settings.records.period_col or settings.records.files or settings.counts.files:
        from klastergeo.app.pipeline.periods import run_periods

        with progress(steps, lang=lang) as reporter:
            followed = run_periods(settings, reporter=reporter, sentra_only=sentra_only)
        print_periods(followed, settings.out, lang)
        return
    with progress(steps, lang=lang) as reporter:
        result = pipeline.run(settings, reporter=reporter, sentra_only=sentra_only)
    print_summary(result.record, result.sentra, result.out, lang)


def run_validation(settings: RunConfig) -> None:
    """``klastergeo validate``: the registry's validation, its counts and where the
    reports are; raises the problem that makes the exit code 2 (none kept, ...)."""
    from klastergeo.app.pipeline import validate_run, validation_problem
    from klastergeo.publish.record import RecordsRecord

    lang = settings.map.lang
    report = validate_run(settings)
    print_records(RecordsRecord.from_json(report.summary()), lang)
    said = words(lang)["reports_written"]
    out_console.print(Text.assemble(f"{said} ", (str(settings.out), "bold")))
    problem = validation_problem(settings, report)
    if problem is not None:
        raise problem


def run_models(settings: RunConfig) -> None:
    """``klastergeo model``: the firm models (or the area model of ``model.area_data``)
    with progress bars; then their tables and where the outputs are."""
    from klastergeo.app import pipeline

    lang = settings.map.lang
    if settings.model.area_data is not None:
        print_area_model(pipeline.run_area_model(settings), settings.model.outcome, lang)
    else:
        in_sentra = settings.model.outcome == "in_sentra"
        steps = pipeline.STEPS if in_sentra else pipeline.MODEL_STEPS
        with progress(tuple(s for s in steps if s != "map"), lang=lang) as reporter:
            fitted = pipeline.run_models(settings, reporter=reporter)
        for result in fitted.values():
            print_model(result, lang, _model_roles(Path(settings.out), result.kind))
    said = words(lang)["outputs"]
    out_console.print(Text.assemble(f"{said} ", (str(Path(settings.out) / "models"), "bold")))


def _model_roles(out: Path, kind: str) -> dict[str, str]:
    """The registry's column names of the mapped roles a model's predictors hold, as
    its ``models/<kind>_fit.json`` lists them (empty when it does not)."""
    try:
        roles = json.loads((out / "models" / f"{kind}_fit.json").read_text("utf-8"))["roles"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {str(k): str(v) for k, v in roles.items()} if isinstance(roles, dict) else {}


def run_demo(out: Path, *, lang: str = DEFAULT_LANG, **options: Any) -> None:
    """``klastergeo demo``: generate the demo registry and run it with progress bars
    (``options`` as :func:`klastergeo.app.demo.run_demo` takes them), in ``lang``; then
    the summary."""
    from klastergeo.app import pipeline
    from klastergeo.app.demo import run_demo as demo
    from klastergeo.publish.messages import check_lang

    with progress(pipeline.STEPS, lang=check_lang(lang)) as reporter:
        made = demo(
            out,
            reporter=reporter,
            notify=lambda text: console.print(literal(text)),
            lang=lang,
            **options,
        )
    print_summary(made.result.record, made.result.sentra, made.result.out, lang)
    if made.periods is not None:  # the current survey's data quality is in its summary
        print_periods(made.periods, Path(out), lang, surveys=False)


def run_lang(run: Path | None) -> str:
    """The language of the run in folder ``run`` (its ``summary.json``), else the
    default."""
    from klastergeo.publish.record import RunRecord

    try:
        lang = RunRecord.load(run).config.map_lang if run is not None else None
    except (KlastergeoError, OSError, ValueError):  # no readable summary: publish says why
        lang = None
    return lang if lang in ("id", "en") else DEFAULT_LANG


def print_published(
    files: list[Path], site: Path, lang: str | None = None, run: Path | None = None
) -> None:
    """``klastergeo publish``: what was written, and how to embed the map, in ``lang``
    (default: the language of the run in folder ``run``, as its index page)."""
    from klastergeo.publish import embed_snippet

    said = words(lang or run_lang(run))
    published = said["published"].format(n=len(files))
    out_console.print(Text.assemble(f"{published} ", (str(site), "bold")))
    out_console.print(said["embed"].format(page=site / "index.html"))
    out_console.print(embed_snippet("klastergeo"))
