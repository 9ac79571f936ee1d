r"""``results.xlsx``: the run's tables as one Excel workbook (openpyxl), for people who open
results in a spreadsheet rather than in Python or a GIS.

Sheets, named in the run's language (``map.lang``): a summary (the study area by name),
the sentra, the areas (one row per area; per sector its firms, LQ, specialisation bin and
sentra), the global statistics per sector, the models' coefficients, the rejected records,
and a legend (``Keterangan``: every column of every sheet in one line, with its name in
the CSV files, and every class code). Headers and codes are words of the run's language
(the catalogue's ``columns``, ``column_notes`` and ``codes``); a rejected row's own
columns keep the input file's headers. Numbers are written as numbers with a format (LQ
and z two decimals, p-values three, shares as percentages, counts whole; Excel shows them
in the reader's locale), columns as wide as their longest header or value (capped), with
a filter on every header row and the header row frozen. A run over several surveys has a
workbook of its own (:func:`write_period_workbook`: lineages, links, indicators per period,
emerging hot spots, the sentra of every period; no firm-level rows). A sheet that would
exceed :data:`MAX_CELLS` cells (a national run's areas or rejected rows) holds a note
pointing to the Parquet, CSV or GeoPackage file with the same table instead.

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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from klastergeo.io.files import atomic_path, note
from klastergeo.publish import messages, sentences
from klastergeo.publish.record import RunRecord
from klastergeo.schema import REJECTED_COLUMNS

__all__ = [
    "CELL_LIMIT",
    "KEY_COLUMNS",
    "MAX_CELLS",
    "SHEETS",
    "excel_text",
    "firm_sheets",
    "key_columns",
    "write_period_workbook",
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
    """The areas sheet: code, name, its parents' names, firms, and per sector its firms,
    LQ, specialisation bin and sentra (the other statistics are in ``areas.gpkg``):
    openpyxl writes about a hundred thousand cells a second, so a province's villages
    stay a few seconds.

    Parameters
    ----------
    areas
        The areas wide by sector (:func:`klastergeo.publish.gis.areas_layer` without
        geometry), indexed by ``area_code``.
    """
    from klastergeo.publish.gis_style import PARENT_LEVELS

    # the parents' names tell two villages of one name apart (Tegalrejo, Bayat and Ceper)
    own = ("name", *PARENT_LEVELS, "n_firms")
    keep = [c for c in areas.columns if c in own or any(c.startswith(f"{k}_") for k in KEY_COLUMNS)]
    keep = [c for c in keep if not c.startswith(("lq_low_", "lq_high_"))]
    return areas[keep].reset_index()


def firm_sheets(lang: str) -> tuple[str, ...]:
    """The titles of the sheets of ``results.xlsx`` that hold firm-level rows (the
    rejected records), which a public copy of the workbook leaves out.

    Parameters
    ----------
    lang
        ``"id"`` or ``"en"``: the run's language (the workbook's sheet titles).

    Examples
    --------
    >>> firm_sheets("id"), firm_sheets("en")
    (('Data ditolak',), ('Rejected records',))
    """
    return (messages.text("workbook", lang)["rejected"],)


@dataclass(frozen=True)
class _Table:
    """One sheet's table: its title, the table (columns named as in the files), the file
    holding it whole, and the columns kept as read (a rejected row's input columns)."""

    title: str
    frame: pd.DataFrame
    file: str
    raw: frozenset[str] = frozenset()


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
    roles: Mapping[str, str] | None = None,
) -> Path:
    """Write ``results.xlsx`` (replaced only once written whole).

    Parameters
    ----------
    path
        The workbook's file.
    summary
        The run's summary (``summary.json``): records, areas (the study area's code and
        name), sentra, near misses.
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
        ``"id"`` or ``"en"``: sheet names, headers, codes, summary labels and legend.
    measures
        The statistics of the measures, firms too (``measures.csv``, long); a
        sheet after the global statistics when given and not empty.
    roles
        The registry's column names of mapped roles (``tenaga_kerja`` -> ``workers``):
        the models sheet titles its terms as the model pages do
        (:func:`klastergeo.publish.messages.term_title`).

    Returns
    -------
    Path
        ``path``.
    """
    t = SHEETS[messages.check_lang(lang)]
    plain = sentra.drop(columns="geometry", errors="ignore")
    if plain.index.name == "sentra_id":
        plain = plain.reset_index()
    tables = [
        _Table(t["sentra"], pd.DataFrame(plain), "sentra.csv"),
        _Table(t["areas"], areas, "areas.gpkg / areas.parquet"),
        _Table(t["global"], global_stats.reset_index(), "global.csv"),
    ]
    if measures is not None and len(measures):
        tables.append(_Table(t["measures"], measures, "measures.csv"))
    if coefficients:
        models = pd.concat(
            [c.assign(model=kind) for kind, c in coefficients.items()], ignore_index=True
        )
        models["term"] = [messages.term_title(v, lang, roles) for v in models["term"]]
        tables.append(_Table(t["models"], models, "models/"))
    ours = (*REJECTED_COLUMNS, "sheet_row")  # sheet_row: the row a spreadsheet shows
    own = frozenset(str(c) for c in rejected.columns if c not in ours)
    tables.append(_Table(t["rejected"], rejected, "rejected.csv", own))
    return _write_book(path, _summary(summary, t, lang), tables, summary.created, lang)


def write_period_workbook(
    path: Path,
    *,
    created: str,
    study_area: tuple[str | None, str | None],
    periods: list[str],
    tables: dict[str, pd.DataFrame | None],
    lang: str = "id",
) -> Path:
    """Write the ``results.xlsx`` of a run over several surveys: its lineages, the links
    between the sentra of consecutive periods, the indicators per regency and period, the
    emerging hot spots and every period's sentra, with a summary and the legend; no
    firm-level rows (each period's own workbook has its rejected records).

    Parameters
    ----------
    path
        The workbook's file.
    created
        The run's time (``summary.json`` ``created``): the workbook's dates.
    study_area
        The study area's code and name (either may be None).
    periods
        The periods, in time order.
    tables
        ``lineages`` (``dynamics.csv``), ``links`` (``lineage_links.csv``),
        ``indicators``, ``emerging`` (optional) and ``sentra``, as the CSV files hold
        them (indexes become columns).
    lang
        ``"id"`` or ``"en"``.

    Returns
    -------
    Path
        ``path``.
    """
    t = SHEETS[messages.check_lang(lang)]
    files = {
        "lineages": "dynamics.csv",
        "links": "lineage_links.csv",
        "indicators": "indicators.csv",
        "emerging": "emerging_hot_spots.csv",
        "sentra": "sentra.csv",
    }
    sheets = [
        _Table(t[key], _flat(frame), file)
        for key, file in files.items()
        if (frame := tables.get(key)) is not None
    ]
    lineages = tables.get("lineages")
    rows = [
        (t["study_area"], study_area[1]),
        (t["study_area_code"], study_area[0]),
        (t["periods"], ", ".join(periods)),
        (t["n_lineages"], len(lineages) if lineages is not None else None),
        (t["created"], messages.date(created, lang) or None),
    ]
    summary = pd.DataFrame([r for r in rows if r[1] is not None], columns=["item", "item_value"])
    return _write_book(path, summary, sheets, created, lang, periods=tuple(periods))


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """A table with its named index as columns (as its CSV file has them)."""
    named = [n for n in frame.index.names if n is not None]
    return frame.reset_index() if named else frame


def _write_book(
    path: Path,
    rows: pd.DataFrame,
    tables: list[_Table],
    created: str,
    lang: str,
    *,
    periods: tuple[str, ...] = (),
) -> Path:
    """The workbook of the summary ``rows`` and the ``tables``, their text fitted
    (:func:`_fit_text`), their codes in words, the legend last; written atomically with
    the run's time."""
    from openpyxl import Workbook

    t = SHEETS[lang]
    # text made to fit first, so that the summary sheet (the first) can say what changed
    fitted: list[_Table] = []
    escaped: list[tuple[str, str, int]] = []
    cut: list[tuple[str, str, int]] = []
    for table in tables:
        frame = table.frame
        if _fits(frame):
            frame, changed = _fit_text(
                _in_words(frame, lang, table.raw), table.title, table.file, t, lang
            )
            escaped += changed.escaped
            cut += changed.cut
        fitted.append(_Table(table.title, frame, table.file, table.raw))
    rows, _ = _fit_text(rows, t["summary"], "summary.json", t, lang)
    for kind, cells in (("escaped_note", escaped), ("cut_note", cut)):
        if cells:
            text = t[kind].format(
                where=_places(cells, t, lang), limit=messages.number(CELL_LIMIT, lang)
            )
            rows.loc[len(rows)] = [t["note"], excel_text(text)[:CELL_LIMIT]]
    _report_changes(path.name, escaped, cut)
    book = Workbook(write_only=True)
    _sheet(book, _Table(t["summary"], rows, "summary.json"), t, lang)
    for table in fitted:
        _sheet(book, table, t, lang, periods=periods)
    summary = _Table(t["summary"], rows, "summary.json")
    legend = _Table(t["notes"], _legend([summary, *fitted], lang, periods), "")
    _sheet(book, legend, t, lang, raw_headers=True)
    with atomic_path(path) as tmp:
        scratch = tmp.with_name(tmp.name + ".xlsx")
        try:
            book.save(scratch)
            _repack(scratch, tmp, _run_time(created))
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


def _summary(summary: RunRecord, t: dict[str, str], lang: str) -> pd.DataFrame:
    """The summary sheet's rows (``item``, ``value``): records, the study area by name
    (and its code), areas, sentra, near misses and the run's date."""
    records, areas, near = summary.records, summary.areas, summary.candidates
    code = areas.study_area if areas else None
    name = areas.study_area_name if areas else None
    rows = [
        (t["read"], records.read if records else None),
        (t["kept"], records.kept if records else None),
        (t["rejected_n"], records.rejected if records else None),
        (t["repaired"], records.repaired if records else None),
        *([(t["skipped"], records.skipped)] if records and records.skipped else []),
        (t["level"], areas.level if areas else None),
        (t["study_area"], name or code),
        *([(t["study_area_code"], code)] if name and code else []),
        (t["n_areas"], areas.count if areas else None),
        (t["n_sentra"], summary.sentra),
        (t["near"], near.count if near else None),
        *([(t["created"], messages.date(summary.created, lang))] if summary.created else []),
    ]
    return pd.DataFrame(rows, columns=["item", "item_value"])


def _split(column: str, periods: tuple[str, ...] = ()) -> tuple[str, str]:
    """A column's statistic and its sector or period (``lq_31`` -> ``lq``, ``31``;
    ``n_firms_2019`` -> ``n_firms``, ``2019``); ``""`` for a column of its own."""
    if column in messages.MESSAGES["columns"]["en"]:
        return column, ""
    base, _, suffix = column.rpartition("_")
    if base and (suffix.isdigit() or suffix in periods):
        return base, suffix
    return column, ""


def _header(column: str, lang: str, periods: tuple[str, ...] = ()) -> str:
    """A column's header in ``lang``: from the catalogue, a per-sector (or per-period)
    column as its statistic and sector (``lq_31`` -> ``LQ 31``); other names as they are."""
    base, suffix = _split(column, periods)
    title = messages.label("columns", base, lang)
    return f"{title} {suffix}" if suffix else title


def _note(column: str, lang: str, periods: tuple[str, ...], raw: frozenset[str]) -> str:
    """What a column holds, in one line (the catalogue's ``column_notes``)."""
    t, notes = SHEETS[lang], messages.MESSAGES["column_notes"][lang]
    base, suffix = _split(column, periods)
    if column in raw or base not in notes:
        return t["input_column"]
    if not suffix:
        return notes[base]
    template = t["per_period"] if suffix in periods else t["per_sector"]
    return template.format(text=notes[base].rstrip("."), sector=suffix)


#: Columns holding codes, and the catalogue group naming them (the workbook shows the
#: words; the legend maps each code to its word).
_WORDS = {
    "stage": "stage",
    "typology": "typology",
    "reason": "reasons",
    "trend": "trends",
    "category": "emerging",
    "model": "models",
    "measure": "columns",
    "regency": "columns",
}
#: Bins and quadrants: numbers in the sheets, explained in the legend.
_CLASSES = ("spec_bin", "gi_bin", "lisa_quadrant", "bv_quadrant")


def _in_words(frame: pd.DataFrame, lang: str, raw: frozenset[str]) -> pd.DataFrame:
    """``frame`` with its code columns as words of ``lang`` (one look-up per distinct
    code), its flags and yes/no columns too; the input's own columns as they are."""
    out = frame
    for position, name in enumerate(frame.columns):
        column, base = frame.iloc[:, position], _split(str(name))[0]
        if str(name) in raw:
            continue
        if base == "detail":
            shown = sentences.detail_texts(column, lang)
            out = frame.copy(deep=False) if out is frame else out
            out.isetitem(position, shown.to_numpy(dtype=object))
            continue
        if pd.api.types.is_bool_dtype(column):
            words: dict[Any, str] = {True: messages.label("columns", "True", lang)}
            words[False] = messages.label("columns", "False", lang)
        elif base in _WORDS or base.endswith("_flag"):
            group = _WORDS.get(base)
            values = column.dropna().unique()
            words = {
                v: messages.label(group, v, lang)
                if group
                else messages.MESSAGES["codes"][lang]["flag"]
                for v in values
                if isinstance(v, str) and v
            }
            if not words:
                continue
        else:
            continue
        if out is frame:
            out = frame.copy(deep=False)
        shown = column.astype(object).map(lambda v, w=words: w.get(v, v))
        out.isetitem(position, shown.to_numpy(dtype=object))
    return out


def _codes(column: str, lang: str) -> list[tuple[str, str]]:
    """Each code of a class or code column and what it means, in ``lang``."""
    codes = messages.MESSAGES["codes"][lang]
    named = messages.class_labels(column, lang)
    if named:  # the map's wording, strongest hot spot (or not significant) first
        order = sorted(named, reverse=True) if column in ("spec_bin", "gi_bin") else sorted(named)
        return [(str(code), named[code]) for code in order]
    if column.endswith("_flag"):
        return [("suppressed", codes["flag"])]
    group = _WORDS.get(column)
    if group in (None, "columns"):
        return []
    names = messages.text(group, lang)
    return [(k, v) for k, v in names.items() if k not in ("with_traits", "and")]


def _legend(tables: list[_Table], lang: str, periods: tuple[str, ...]) -> pd.DataFrame:
    """The legend: every column of every sheet (sheet, header, the files' column name,
    what it holds), then every class code of the columns shown."""
    t = SHEETS[lang]
    rows = []
    coded: dict[str, None] = {}
    for table in tables:
        for name in (str(c) for c in table.frame.columns):
            header = name if name in table.raw else _header(name, lang, periods)
            rows.append((table.title, header, name, _note(name, lang, periods, table.raw)))
            base = _split(name, periods)[0]
            if name not in table.raw and (base in _CLASSES or base in _WORDS or "_flag" in base):
                coded[base] = None
    for base in coded:
        header = _header(base, lang)
        rows += [(t["codes"], header, code, text) for code, text in _codes(base, lang)]
    return pd.DataFrame(rows, columns=[t["sheet"], t["column"], t["file_column"], t["meaning"]])


#: Number formats by statistic (Excel's codes; the reader's locale sets the marks).
_FORMATS: dict[str, tuple[str, ...]] = {
    "#,##0": (
        "n_firms", "n_areas", "n_core_areas", "workers", "output", "investment", "value",
        "n_valued", "hot_spot_areas", "sentra", "group_areas", "group_firms",
        "shared_areas", "n_related_firms", "survivors", "exits", "entries",
    ),
    # Rp juta per worker: 0.2 or 27.97, never 0 or 28
    "#,##0.00": ("output_per_worker",),
    "0.00": (
        "lq", "lq_low", "lq_high", "clq", "moran_i", "expected", "z", "spec_ratio", "spec_z",
        "gi_z", "lisa_i", "bv_i", "statistic", "odds_ratio", "odds_ratio_low",
        "odds_ratio_high", "spec_z_max",
        "gi_z_max", "diamond_score", "area_km2", "density_km2", "trend_z", "p_lpm",
        "p_logit", "p_probit", "p_cluster",
    ),
    "p": (
        "p_value", "p_norm", "p_sim", "lq_p", "spec_p", "gi_p", "gi_p_sim", "lisa_p",
        "lisa_p_sim", "bv_p", "spec_p_min", "gi_p_min", "trend_p",
    ),
    "0.0%": (
        "sector_share", "coverage", "hot_share", "cold_share", "overlap", "firms_growth",
        "workers_growth", "output_growth", "investment_growth", "n_firms_change",
        "workers_change", "output_change", "investment_change",
    ),
    "0.00000": ("lat", "lon"),
    # a coefficient per rupiah or per worker is small: as many digits as Excel shows
    "General": ("estimate", "std_error", "conf_low", "conf_high"),
    "0": ("row", "sheet_row"),  # a row number, no thousands mark
}  # fmt: skip
_FORMAT_OF = {base: code for code, bases in _FORMATS.items() for base in bases}


def _number_format(name: str, column: pd.Series, lang: str, periods: tuple[str, ...]) -> str:
    """The number format of a column's numbers: by its statistic, else two decimals
    for fractions and whole numbers as they are; a p-value below 0.001 shows
    ``< 0,001`` (never 0)."""
    code = _FORMAT_OF.get(_split(name, periods)[0])
    if code == "p":
        return f'[<0.001]"{messages.p_value(0, lang)}";0.000'
    if code:
        return code
    return "0" if pd.api.types.is_integer_dtype(column) else "#,##0.00"


def _width(header: str, column: pd.Series, number_format: str) -> float:
    """A column's width in characters: its header's or its longest value's (as shown),
    at least 6 and at most :data:`WIDEST`."""
    longest = math.ceil(len(header) * 1.15)  # the header is bold
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        values = np.abs(values[np.isfinite(values)])
        if len(values):
            big = float(values.max()) * (100 if "%" in number_format else 1)
            decimals = (
                8 if number_format == "General" else number_format.rpartition(".")[2].count("0")
            )
            longest = max(longest, len(f"{big:,.{decimals}f}") + 2)
    elif len(column):
        lengths = column.dropna().astype(str).str.len()
        longest = max(longest, int(lengths.max()) if len(lengths) else 0)
    return float(min(max(longest + 3, 6), WIDEST))


#: The widest column (characters): longer text wraps into the cell's width when opened.
WIDEST = 50


def _sheet(
    book: Any,
    table: _Table,
    t: dict[str, str],
    lang: str,
    *,
    periods: tuple[str, ...] = (),
    raw_headers: bool = False,
) -> None:
    """One sheet of a table (its text fitted: :func:`_fit_text`) with a bold, frozen,
    filtered header, number formats and fitted widths; a note if it is too big."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    sheet = book.create_sheet(title=table.title[:31])
    frame = table.frame
    cells = _cell_count(frame)
    if not _fits(frame):
        sheet.append([t["too_large"].format(cells=messages.number(cells, lang), file=table.file)])
        logger.info("results.xlsx: sheet %r left out (%d cells)", table.title, cells)
        return
    names = [str(c) for c in frame.columns]
    columns = [n if raw_headers or n in table.raw else _header(n, lang, periods) for n in names]
    formats = [_number_format(n, frame.iloc[:, i], lang, periods) for i, n in enumerate(names)]
    for i, (header, number_format) in enumerate(zip(columns, formats, strict=True)):
        width = _width(header, frame.iloc[:, i], number_format)
        sheet.column_dimensions[_column_letter(i + 1)].width = width
    sheet.freeze_panes = "A2"
    if columns and len(frame):
        sheet.auto_filter.ref = f"A1:{_column_letter(len(columns))}{len(frame) + 1}"
    bold = Font(bold=True)
    heads = []
    for c in columns:
        head = WriteOnlyCell(sheet, value=c)
        head.data_type, head.font = "s", bold
        heads.append(head)
    sheet.append(heads)
    styled = [
        _styled(sheet, _cells(frame.iloc[:, i]), frame.iloc[:, i], number_format)
        for i, number_format in enumerate(formats)
    ]
    for row in zip(*styled, strict=True):  # rows of Python scalars, as openpyxl needs
        sheet.append(list(row))


def _styled(sheet: Any, values: list[Any], column: pd.Series, number_format: str) -> list[Any]:
    """A column's cells: numbers with their format, text as text (:func:`_text`). Whole
    numbers below 1,000 are written plain: Excel's General shows them as the format
    would, and a cell with a style costs openpyxl twice the time of a plain value."""
    from openpyxl.cell import WriteOnlyCell

    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        out = [_text(sheet, v) for v in values]
        for i, v in enumerate(out):  # numbers in a column of text (the summary's values)
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[i] = WriteOnlyCell(sheet, value=v)
                out[i].number_format = "#,##0" if isinstance(v, int) else "#,##0.00"
        return out
    if pd.api.types.is_integer_dtype(column) and number_format in ("0", "#,##0"):
        finite = [abs(v) for v in values if v is not None]
        if number_format == "0" or not finite or max(finite) < 1000:
            return values
    out = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        cell = WriteOnlyCell(sheet, value=v)
        cell.number_format = number_format
        out.append(cell)
    return out


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
