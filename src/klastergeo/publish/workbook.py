r"""``results.xlsx``: the run's tables as one Excel workbook (openpyxl), for people who open
results in a spreadsheet rather than in Python or a GIS.

Sheets, named in the run's language (``map.lang``): a summary, the sentra, the areas
(one row per area; per sector its firms, LQ, specialisation bin and sentra), the global
statistics per sector, the models' coefficients, and the rejected records. Numbers are
written as numbers (Excel shows them in the reader's locale), with a filter on every
header row and the header row frozen. A sheet that would exceed :data:`MAX_CELLS` cells
(a national run's areas or rejected rows) holds a note pointing to the Parquet, CSV or
GeoPackage file with the same table instead.

No value breaks the workbook: control characters XML cannot hold (``\x00``-``\x1f`` but
tab and line breaks) are written as their escapes (``\x0b``), as the command line prints
them; a text longer than Excel's :data:`CELL_LIMIT` characters is cut with a note in the
cell saying how long it was and which file holds it whole; text starting with ``=``
stays text. The summary sheet, the log and ``summary.json`` (``output_notes``) say which
cells were changed. The workbook's dates (``docProps/core.xml`` and every zip entry) are
the run's time (``summary.json`` ``created``), so a re-run with the same timestamp writes
the same bytes.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from klastergeo.io.files import atomic_path, note
from klastergeo.publish import messages
from klastergeo.publish.record import RunRecord

__all__ = [
    "CELL_LIMIT",
    "KEY_COLUMNS",
    "MAX_CELLS",
    "SHEETS",
    "excel_text",
    "key_columns",
    "write_workbook",
]

logger = logging.getLogger(__name__)

#: Cells beyond which a sheet holds a note instead of the table (Excel's own limit is
#: 1,048,576 rows; openpyxl writes about a hundred thousand cells a second).
MAX_CELLS = 1_500_000

#: Sheet names and labels per language (the ``workbook`` group of the catalogue).
SHEETS = messages.MESSAGES["workbook"]
#: The most characters an Excel cell holds, and the rows and columns of a sheet
#: (Excel's specifications and limits).
CELL_LIMIT = 32_767
EXCEL_ROWS = 1_048_576
EXCEL_COLUMNS = 16_384
#: Characters XML 1.0 (and so a workbook) cannot hold: the C0 controls but tab, line feed
#: and carriage return, lone surrogates, U+FFFE and U+FFFF (openpyxl refuses the first
#: with ``IllegalCharacterError``).
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Cells named in a note before "... (N in all)".
_SHOWN = 5


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape", "backslashreplace").decode("ascii")


def excel_text(text: str) -> str:
    r"""``text`` with the characters a workbook cannot hold written as their escapes, as
    the command line prints control characters (``\x0b``, ``\x00``).

    Parameters
    ----------
    text
        A cell's text.

    Examples
    --------
    >>> print(excel_text("Toko\x0bBaru"), excel_text("UD Jati"))
    Toko\x0bBaru UD Jati
    """
    return ILLEGAL.sub(_escape, text)


@dataclass(frozen=True)
class _Changed:
    """Cells whose text was changed to fit a workbook: (sheet, column, row) of each."""

    escaped: tuple[tuple[str, str, int], ...] = ()
    cut: tuple[tuple[str, str, int], ...] = ()


#: The per-sector columns of the areas sheet (``areas.gpkg`` has them all).
KEY_COLUMNS = ("n_firms", "lq", "spec_bin", "sentra")


def key_columns(areas: pd.DataFrame) -> pd.DataFrame:
    """The areas sheet: code, name, firms, and per sector its firms, LQ, specialisation
    bin and sentra (the other statistics are in ``areas.gpkg``): openpyxl writes about
    a hundred thousand cells a second, so a province's villages stay a few seconds.

    Parameters
    ----------
    areas
        The areas wide by sector (:func:`klastergeo.publish.gis.areas_layer` without
        geometry), indexed by ``area_code``.
    """
    keep = [
        c
        for c in areas.columns
        if c in ("name", "n_firms") or any(c.startswith(f"{k}_") for k in KEY_COLUMNS)
    ]
    keep = [c for c in keep if not c.startswith(("lq_low_", "lq_high_"))]
    return areas[keep].reset_index()


def write_workbook(
    path: Path,
    *,
    summary: RunRecord,
    sentra: pd.DataFrame,
    areas: pd.DataFrame,
    global_stats: pd.DataFrame,
    coefficients: dict[str, pd.DataFrame],
    rejected: pd.DataFrame,
    lang: str = "id",
    measures: pd.DataFrame | None = None,
) -> Path:
    """Write ``results.xlsx`` (replaced only once written whole).

    Parameters
    ----------
    path
        The workbook's file.
    summary
        The run's summary (``summary.json``): records, areas, sentra, near misses.
    sentra
        The sentra table (without geometry), with ``sentra_id`` as a column or the index.
    areas
        The areas wide by sector (the attributes of ``areas.gpkg``, no geometry).
    global_stats
        The global statistics per sector (``global.csv``).
    coefficients
        Per model kind, its coefficients table.
    rejected
        The rejected records with their reasons (``rejected.csv``).
    lang
        ``"id"`` or ``"en"``: sheet names and summary labels.
    measures
        The statistics of the measures, firms too (``measures.csv``, long); a
        sheet after the global statistics when given and not empty.

    Returns
    -------
    Path
        ``path``.
    """
    from openpyxl import Workbook

    t = SHEETS[lang]
    plain = sentra.drop(columns="geometry", errors="ignore")
    if plain.index.name == "sentra_id":
        plain = plain.reset_index()
    sheets = [
        (t["sentra"], pd.DataFrame(plain), "sentra.csv"),
        (t["areas"], areas, "areas.gpkg / areas.parquet"),
        (t["global"], global_stats.reset_index(), "global.csv"),
    ]
    if measures is not None and len(measures):
        sheets.append((t["measures"], measures, "measures.csv"))
    if coefficients:
        models = pd.concat(
            [c.assign(**{t["model"]: kind}) for kind, c in coefficients.items()],
            ignore_index=True,
        )
        sheets.append((t["models"], models, "models/"))
    sheets.append((t["rejected"], rejected, "rejected.csv"))
    # text made to fit first, so that the summary sheet (the first) can say what changed
    fitted: list[tuple[str, pd.DataFrame, str]] = []
    escaped: list[tuple[str, str, int]] = []
    cut: list[tuple[str, str, int]] = []
    for title, frame, file in sheets:
        if _fits(frame):
            frame, changed = _fit_text(frame, title, file, t, lang)
            escaped += changed.escaped
            cut += changed.cut
        fitted.append((title, frame, file))
    rows, _ = _fit_text(_summary(summary, t), t["summary"], "summary.json", t, lang)
    for kind, cells in (("escaped_note", escaped), ("cut_note", cut)):
        if cells:
            text = t[kind].format(
                where=_places(cells, t, lang), limit=messages.number(CELL_LIMIT, lang)
            )
            rows.loc[len(rows)] = [t["note"], excel_text(text)[:CELL_LIMIT]]
    _report_changes(path.name, escaped, cut)
    book = Workbook(write_only=True)
    _sheet(book, t["summary"], rows, t, "summary.json", lang)
    for title, frame, file in fitted:
        _sheet(book, title, frame, t, file, lang)
    with atomic_path(path) as tmp:
        scratch = tmp.with_name(tmp.name + ".xlsx")
        try:
            book.save(scratch)
            _repack(scratch, tmp, _run_time(summary.created))
        finally:
            scratch.unlink(missing_ok=True)
    return path


def _cell_count(frame: pd.DataFrame) -> int:
    return int(frame.shape[0]) * max(int(frame.shape[1]), 1)


def _fits(frame: pd.DataFrame) -> bool:
    """Whether a sheet holds ``frame``: at most :data:`MAX_CELLS` cells, and within
    Excel's rows and columns with the header row."""
    rows, columns = frame.shape
    return _cell_count(frame) <= MAX_CELLS and rows < EXCEL_ROWS and columns <= EXCEL_COLUMNS


def _fit_text(
    frame: pd.DataFrame, title: str, file: str, t: dict[str, str], lang: str
) -> tuple[pd.DataFrame, _Changed]:
    """``frame`` with its text made to fit a workbook (column by column, vectorised):
    characters XML cannot hold escaped, text over :data:`CELL_LIMIT` characters cut with
    a note in the cell; and which cells were changed. Column names are fitted too."""
    out = frame
    escaped: list[tuple[str, str, int]] = []
    cut: list[tuple[str, str, int]] = []
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if not (
            pd.api.types.is_object_dtype(column)
            or pd.api.types.is_string_dtype(column)
            or isinstance(column.dtype, pd.CategoricalDtype)
        ):
            continue
        # as Python text: the pattern holds surrogates, which Arrow's strings cannot
        column = column.astype(object)
        try:
            bad = column.str.contains(ILLEGAL).eq(True).to_numpy(dtype=bool, na_value=False)
        except AttributeError:  # no text in this object column
            continue
        fixed = column
        header = excel_text(_header(str(frame.columns[position]), lang))
        if bad.any():
            fixed = column.copy()
            fixed[bad] = column[bad].str.replace(ILLEGAL, _escape, regex=True)
            escaped += [(title, header, int(i) + 2) for i in np.flatnonzero(bad)]
        lengths = fixed.str.len().fillna(0).to_numpy()
        long = lengths > CELL_LIMIT
        if long.any():
            fixed = fixed.copy() if fixed is column else fixed
            for i in np.flatnonzero(long).tolist():  # a few cells: one Python step each
                fixed.iloc[i] = _cut(str(fixed.iloc[i]), file, t, lang)
            cut += [(title, header, int(i) + 2) for i in np.flatnonzero(long)]
        if bad.any() or long.any():
            if out is frame:
                out = frame.copy(deep=False)
            out.isetitem(position, fixed.to_numpy())
    names = [str(c) for c in frame.columns]
    clean = [excel_text(n)[:CELL_LIMIT] for n in names]
    if clean != names and not isinstance(frame.columns, pd.MultiIndex):
        escaped += [(title, c, 1) for n, c in zip(names, clean, strict=True) if n != c]
        out = frame.copy(deep=False) if out is frame else out
        out.columns = clean
    return out, _Changed(tuple(escaped), tuple(cut))


def _cut(text: str, file: str, t: dict[str, str], lang: str) -> str:
    """``text`` cut to :data:`CELL_LIMIT` characters, ending with how long it was and
    where it is whole."""
    tail = t["cut_cell"].format(n=messages.number(len(text), lang), file=file)
    return text[: CELL_LIMIT - len(tail)] + tail


def _places(cells: list[tuple[str, str, int]], t: dict[str, str], lang: str) -> str:
    """The first cells of a note, "sheet, column c, row r; ... (N in all)"."""
    shown = "; ".join(
        t["where"].format(sheet=sheet, column=column, row=messages.number(row, lang))
        for sheet, column, row in cells[:_SHOWN]
    )
    if len(cells) > _SHOWN:
        shown += f"; ... ({messages.number(len(cells), lang)})"
    return shown


def _report_changes(
    file: str, escaped: list[tuple[str, str, int]], cut: list[tuple[str, str, int]]
) -> None:
    """The changed cells in the log and in ``summary.json`` (``output_notes``)."""

    def where(cells: list[tuple[str, str, int]]) -> str:
        shown = "; ".join(f"sheet {s!r}, column {c!r}, row {r}" for s, c, r in cells[:_SHOWN])
        return shown + (f"; ... ({len(cells):,} in all)" if len(cells) > _SHOWN else "")

    if escaped:
        note(
            file,
            f"{len(escaped):,} cell(s) held control characters a workbook cannot hold, "
            f"written as escapes such as \\x0b ({where(escaped)})",
        )
    if cut:
        note(
            file,
            f"{len(cut):,} cell(s) longer than Excel's {CELL_LIMIT:,} characters were cut, "
            f"each ending with its length and the file holding it whole ({where(cut)})",
        )


def _run_time(created: str) -> datetime:
    """The run's time (``summary.json`` ``created``), in UTC; now when there is none."""
    try:
        when = datetime.fromisoformat(created)
    except ValueError:
        return datetime.now(UTC)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _repack(source: Path, target: Path, when: datetime) -> None:
    """Copy the workbook ``source`` to ``target`` with every date the run's time: the
    creation and modification in ``docProps/core.xml`` (openpyxl writes the time of
    saving) and each zip entry's date (the time each part was written)."""
    stamp = max(when.replace(tzinfo=None), datetime(1980, 1, 1))  # zip dates start in 1980
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with (
        zipfile.ZipFile(source) as packed,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as out,
    ):
        for info in packed.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.create_system = 3  # as on Unix, wherever the workbook is written
            if info.filename == "docProps/core.xml":
                core = _CORE_DATES.sub(rb"\g<1>" + iso + rb"\g<2>", packed.read(info))
                out.writestr(entry, core)
                continue
            with packed.open(info) as part, out.open(entry, "w", force_zip64=True) as copy:
                shutil.copyfileobj(part, copy, 1 << 20)


def _summary(summary: RunRecord, t: dict[str, str]) -> pd.DataFrame:
    records, areas, near = summary.records, summary.areas, summary.candidates
    rows = [
        (t["read"], records.read if records else None),
        (t["kept"], records.kept if records else None),
        (t["rejected_n"], records.rejected if records else None),
        (t["repaired"], records.repaired if records else None),
        *([(t["skipped"], records.skipped)] if records and records.skipped else []),
        (t["level"], areas.level if areas else None),
        (t["study_area"], areas.study_area if areas else None),
        (t["n_areas"], areas.count if areas else None),
        (t["n_sentra"], summary.sentra),
        (t["near"], near.count if near else None),
    ]
    return pd.DataFrame(rows, columns=[t["item"], t["value"]])


def _header(column: str, lang: str) -> str:
    """A column's header in ``lang``: from the catalogue, a per-sector column as its
    statistic and sector (``lq_31`` -> ``LQ 31``); other names as they are."""
    base, _, sector = column.rpartition("_")
    if base and sector.isdigit() and base in messages.MESSAGES["columns"][lang]:
        return f"{messages.label('columns', base, lang)} {sector}"
    return messages.label("columns", column, lang)


def _sheet(
    book: Any, title: str, frame: pd.DataFrame, t: dict[str, str], file: str, lang: str
) -> None:
    """One sheet of ``frame`` (its text fitted: :func:`_fit_text`) with a frozen,
    filtered header; a note if it is too big."""
    sheet = book.create_sheet(title=title[:31])
    cells = _cell_count(frame)
    if not _fits(frame):
        sheet.append([t["too_large"].format(cells=messages.number(cells, lang), file=file)])
        logger.info("results.xlsx: sheet %r left out (%d cells)", title, cells)
        return
    columns = [_header(str(c), lang) for c in frame.columns]
    sheet.freeze_panes = "A2"
    if columns and len(frame):
        sheet.auto_filter.ref = f"A1:{_column_letter(len(columns))}{len(frame) + 1}"
    sheet.append([_text(sheet, c) for c in columns])
    values = [_cells(frame[c]) for c in frame.columns]
    texts = [not (pd.api.types.is_numeric_dtype(frame[c])) for c in frame.columns]
    for row in zip(*values, strict=True):  # rows of Python scalars, as openpyxl needs
        sheet.append([_text(sheet, v) if text else v for v, text in zip(row, texts, strict=True)])


def _text(sheet: Any, value: Any) -> Any:
    """Text that Excel would read as a formula (``=...``) stays text: a registry's
    ``=HYPERLINK(...)`` must never run in the reader's spreadsheet."""
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def _cells(column: pd.Series) -> list[Any]:
    """A column as Excel cell values: numbers as numbers, missing as empty, the rest as
    text."""
    if pd.api.types.is_bool_dtype(column):
        return [None if pd.isna(v) else bool(v) for v in column]
    if pd.api.types.is_integer_dtype(column):
        return [None if pd.isna(v) else int(v) for v in column]
    if pd.api.types.is_float_dtype(column):
        array = column.to_numpy(dtype=float, na_value=np.nan)
        return [None if not math.isfinite(v) else float(v) for v in array]
    return [_scalar(v) for v in column]


def _scalar(value: Any) -> Any:
    """A value of a mixed column: numbers stay numbers, missing is empty, the rest text."""
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return value
    return excel_text(str(value))[:CELL_LIMIT]  # bytes, lists: their text, made to fit


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _column_letter(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
