"""Tables as agencies type them: title rows above the header, two-row and merged headers,
a row of column numbers, totals rows and footnotes among the records, and workbooks of one
sheet per kecamatan.

Three rules, general rather than fitted to one file:

- **The header** is the first of the first :data:`SCAN_ROWS` rows whose non-empty cells
  are mostly text (not numbers) and name at least two known column roles (the names of
  :data:`klastergeo.io.registry.records.CANDIDATES`, compared by :func:`header_key`: case,
  punctuation
  and units in parentheses ignored). A row of text below it that names what the header
  leaves blank or spans with a merged cell is its second row (``Nilai (Rp)`` over
  ``Produksi`` and ``Investasi``; ``Lokasi`` over ``Desa`` and ``Kecamatan``); each column
  is named by :func:`combine`. A row of column numbers (``(1) (2) (3)``, as statistics
  tables print) below the header is part of it. When no row names two roles, the first
  row is the header if it holds at least two text cells (as before), else the sheet has
  no header (:class:`~klastergeo.errors.ValidationError`).
- **Rows that are not firms** (:func:`classify_rows`): blank rows, totals (the first text
  cell ``Jumlah``, ``Total``, ``Sub Total``, ``Grand Total``...; or a row of numbers only,
  with every column that identifies or places a firm empty), footnotes (``Sumber: ...``,
  ``Keterangan: ...``, ``Catatan: ...``, ``*) ...``), the header repeated (page breaks)
  and rows of column numbers. They are skipped and listed (``skipped.csv``), not rejected.
- **Row numbers.** ``row`` is the record number, as for every registry: the line below the
  header, 1-based, skipped rows counted (so it stays unique across sheets). ``sheet_row``
  is the row the spreadsheet shows (:class:`Layout`).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from klastergeo.errors import ValidationError, preview
from klastergeo.io.registry import kernels

__all__ = [
    "SCAN_ROWS",
    "SKIP_KINDS",
    "Header",
    "Layout",
    "SheetPart",
    "SheetTable",
    "classify_rows",
    "combine",
    "find_header",
    "header_key",
    "read_workbook",
]

logger = logging.getLogger(__name__)

#: Rows of a sheet (or lines of a CSV file) searched for the header.
SCAN_ROWS = 30
#: Kinds of rows that are not firms, as ``skipped.csv`` names them.
SKIP_KINDS: tuple[str, ...] = ("total", "footnote", "blank", "header", "column_numbers", "note")
#: Names of sheets that summarise the others (left out when several sheets are read).
_RECAP = r"(?i)^\s*(rekap|rekapitulasi|ringkasan|resume|summary|total|jumlah|grafik|chart)\b"
#: ``--sheet all``: every sheet of the workbook.
ALL_SHEETS = "all"

_UNITS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NUMBER = re.compile(r"^[+-]?(\d[\d.,\s]*|[.,]\d[\d\s]*)([eE][+-]?\d+)?$")
_COLUMN_NUMBER = re.compile(r"^\(\s*(\d{1,3})\s*\)$|^(\d{1,3})$")
# RE2 patterns (pyarrow) for the first text cell of a row
_TOTAL = (
    r"(?i)^\s*(grand\s*total|sub\s*-?\s*(total|jumlah|jml)|jumlah|jml|total|"
    r"rekap(itulasi)?)\b"
)
_FOOTNOTE = r"(?i)^\s*((sumber|keterangan|ket|catatan|nb|note|notes|source)\s*[:.]|\*+\s*\)|\*+\s)"
_ARROW_NUMBER = r"^[+-]?(\d[\d.,\s]*|[.,]\d[\d\s]*)([eE][+-]?\d+)?$"


def header_key(text: object) -> str:
    """A header as compared with the known column names: lower case, units in parentheses
    or brackets left out, every run of other characters one underscore.

    Parameters
    ----------
    text
        A header cell.

    Examples
    --------
    >>> header_key("Tenaga Kerja (orang)"), header_key("Desa/Kelurahan"), header_key(" KBLI ")
    ('tenaga_kerja', 'desa_kelurahan', 'kbli')
    """
    plain = _UNITS.sub(" ", str(text).lower())
    return re.sub(r"[^0-9a-z]+", "_", plain).strip("_")


def _role_keys(candidates: Mapping[str, Sequence[str]]) -> dict[str, str]:
    return {header_key(name): role for role, names in candidates.items() for name in names}


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _numeric(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_NUMBER.match(value.strip()))


def _text(value: object) -> str:
    """A header cell as one line of text."""
    return " ".join(str(value).split()) if not _empty(value) else ""


@dataclass(frozen=True)
class Header:
    """The header found in the first rows of a table.

    ``names`` has one name per column (``""`` where none); ``rows`` are the 0-based
    positions of the rows that make it (its second row and a row of column numbers
    included); ``found`` is False when no row named two roles and the first row was taken;
    ``roles`` the roles its names name.
    """

    names: list[str]
    rows: tuple[int, ...]
    found: bool
    roles: tuple[str, ...]

    @property
    def end(self) -> int:
        """The position of the first row below the header."""
        return self.rows[-1] + 1


def combine(parent: str, child: str, *, roles: Mapping[str, str]) -> str:
    """The name of a column under a two-row header: the upper cell (``parent``, a merged
    cell spanning several columns) and the lower one (``child``).

    The parent's words come first and its unit last (``Nilai (Rp)`` over ``Produksi``:
    ``Nilai Produksi (Rp)``, as agencies write it in one row); the child's own unit wins.
    Where that name is no known column name but the child alone is (``Lokasi`` over
    ``Desa``), the child alone.

    Parameters
    ----------
    parent, child
        The two cells' text (``""`` when blank).
    roles
        Known header keys (:func:`header_key`) -> role.

    Examples
    --------
    >>> roles = {"nilai_produksi": "output", "desa": "desa"}
    >>> combine("Nilai (Rp)", "Produksi", roles=roles), combine("Lokasi", "Desa", roles=roles)
    ('Nilai Produksi (Rp)', 'Desa')
    >>> combine("Tenaga Kerja", "Laki-laki", roles=roles)
    'Tenaga Kerja Laki-laki'
    """
    if not child or child == parent:
        return parent
    if not parent:
        return child
    units = _UNITS.findall(parent)
    base = " ".join(_UNITS.sub(" ", parent).split())
    own = _UNITS.findall(child)
    name = " ".join([base, child, *([] if own else units)]).strip()
    if header_key(name) not in roles and header_key(child) in roles:
        return child
    return name


def _merged_across(merges: Sequence[tuple[int, int, int, int]], row: int) -> set[int]:
    """Columns (0-based) of row ``row`` that lie in a merged cell spanning columns."""
    out: set[int] = set()
    for r0, c0, r1, c1 in merges:
        if r0 <= row <= r1 and c1 > c0:
            out.update(range(c0, c1 + 1))
    return out


def _two_rows(
    top: list[str],
    below: list[Any],
    across: set[int],
    roles: Mapping[str, str],
) -> list[str] | None:
    """The names of a two-row header (``top`` over ``below``), or None when ``below``
    is not its second row: a row of text only that names what ``top`` leaves blank or
    spans with a merged cell."""
    cells = [_text(v) for v in below]
    filled = [i for i, v in enumerate(below) if not _empty(v)]
    if not filled or any(_numeric(below[i]) for i in filled):
        return None
    if _column_numbers(below):
        return None
    under = [i for i in filled if (not top[i] or i in across) and cells[i] != top[i]]
    if not under:
        return None
    # the parent of a blank upper cell: the nearest upper cell to its left that heads a
    # block of lower cells (a merged cell's text sits in its first column)
    parents = list(top)
    for i in range(len(top)):
        if not parents[i] and cells[i] and i > 0 and cells[i - 1] and parents[i - 1]:
            parents[i] = parents[i - 1]
    names = [combine(p, c, roles=roles) for p, c in zip(parents, cells, strict=True)]
    # a child's name alone that repeats another column's: the combined name instead
    for i, name in enumerate(names):
        if names.count(name) > 1 and parents[i] and cells[i]:
            units = _UNITS.findall(parents[i])
            base = " ".join(_UNITS.sub(" ", parents[i]).split())
            names[i] = " ".join([base, cells[i], *units]).strip()
    return names


def _units(row: Sequence[Any]) -> bool:
    """Whether a row holds the columns' units only (``(orang)``, ``(Rp juta)``), as
    statistics tables print them under the header."""
    filled = [str(v).strip() for v in row if not _empty(v)]
    if not filled or _column_numbers(row):
        return False
    units = [bool(re.fullmatch(r"\(.*[^\d\s].*\)|\[.*\]", v)) for v in filled]
    if all(units):
        return True
    # a header's third line: units beside the ends of words split over the lines
    # ("Desa/" above "Kelurahan"), and no number
    return any(units) and not any(_numeric(v) for v in row if not _empty(v))


def _column_numbers(row: Sequence[Any]) -> bool:
    """Whether a row holds the columns' numbers (``(1) (2) (3)`` or ``1 2 3``),
    increasing, in at least two cells."""
    numbers = []
    for value in row:
        if _empty(value):
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))
        else:
            text = str(value).strip()
        match = _COLUMN_NUMBER.match(text)
        if match is None:
            return False
        numbers.append(int(match.group(1) or match.group(2)))
    if len(numbers) < 2 or numbers[0] > 2:
        return False
    return all(b == a + 1 for a, b in itertools.pairwise(numbers))


def find_header(
    grid: Sequence[Sequence[Any]],
    *,
    candidates: Mapping[str, Sequence[str]],
    merges: Sequence[tuple[int, int, int, int]] = (),
    where: str = "the file",
) -> Header:
    """Find the header in the first rows of a table (see the module docstring).

    Parameters
    ----------
    grid
        The table's first rows (up to :data:`SCAN_ROWS`), each a sequence of cell values
        (text, numbers, None), all of one width; merged cells filled with their value.
    candidates
        Role -> known column names (:data:`klastergeo.io.registry.records.CANDIDATES`).
    merges
        Merged cells as 0-based ``(first_row, first_col, last_row, last_col)``.
    where
        What the table is, for the error message (``"sheet 'Ceper' of 'x.xlsx'"``).

    Returns
    -------
    Header
        The header.

    Raises
    ------
    ValidationError
        When no row names two roles and the first row holds fewer than two text cells.

    Examples
    --------
    >>> grid = [["DAFTAR IKM", None, None], [None, None, None],
    ...         ["Nama Usaha", "KBLI", "Desa"], ["UD Maju", "10710", "Jetis"]]
    >>> h = find_header(grid, candidates={"name": ["nama_usaha"], "sector": ["kbli"],
    ...                                    "desa": ["desa"]})
    >>> h.rows, h.names
    ((2,), ['Nama Usaha', 'KBLI', 'Desa'])
    """
    roles = _role_keys(candidates)
    rows = [list(r) for r in grid[:SCAN_ROWS]]
    for i, row in enumerate(rows):
        filled = [v for v in row if not _empty(v)]
        if len(filled) < 2 or sum(not _numeric(v) for v in filled) < 0.75 * len(filled):
            continue
        top = [_text(v) for v in row]
        names: list[str] = top
        used: tuple[int, ...] = (i,)
        if i + 1 < len(rows):
            two = _two_rows(top, rows[i + 1], _merged_across(merges, i), roles)
            if two is not None:
                names, used = two, (i, i + 1)
        named = {roles[header_key(n)] for n in [*names, *top] if header_key(n) in roles}
        if len(named) < 2:
            continue
        if used[-1] + 1 < len(rows) and _units(rows[used[-1] + 1]):
            below = [_text(v) for v in rows[used[-1] + 1]]
            # a cell merged down over the header's lines repeats its text: once is enough
            names = [
                f"{n} {u}".strip() if u and not n.endswith(u) else n
                for n, u in zip(names, below, strict=True)
            ]
            used = (*used, used[-1] + 1)
        if used[-1] + 1 < len(rows) and _column_numbers(rows[used[-1] + 1]):
            used = (*used, used[-1] + 1)
        found = {roles[header_key(n)] for n in names if header_key(n) in roles}
        return Header(names, used, True, tuple(sorted(found)))
    if rows:
        first = [v for v in rows[0] if not _empty(v)]
        if len(first) >= 2 and sum(not _numeric(v) for v in first) >= 0.75 * len(first):
            names = [_text(v) for v in rows[0]]
            first_rows: tuple[int, ...] = (0,)
            if len(rows) > 1 and _column_numbers(rows[1]):
                first_rows = (0, 1)
            found = {roles[header_key(n)] for n in names if header_key(n) in roles}
            return Header(names, first_rows, False, tuple(sorted(found)))
    examples = ", ".join(f"{role}: {names[0]!r}" for role, names in candidates.items() if names)
    shown = "; ".join(
        f"row {i + 1}: {preview([_text(v) for v in r if not _empty(v)])}"
        for i, r in enumerate(rows[:3])
        if any(not _empty(v) for v in r)
    )
    raise ValidationError(
        f"no header row found in {where}: rows 1-{max(len(rows), 1)} were examined for a "
        f"row of text naming at least two column roles ({examples}; case, punctuation and "
        f"units in parentheses ignored), and none does"
        + (f" (it begins: {shown})" if shown else " (the sheet is empty)")
        + "; put the column names in one row above the records, or pass the names of "
        "two of its columns (e.g. --sector-col and --name-col)"
    )


# --------------------------------------------------------------------------------------
# Where a record is in the spreadsheet
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetPart:
    """One table of a registry: the records ``first`` to ``last`` (record numbers) of
    sheet ``sheet`` (None for a CSV file), under the header in ``header_rows`` (1-based
    rows as the spreadsheet shows them); a record's row there is its number plus
    ``offset``."""

    sheet: str | None
    header_rows: tuple[int, ...]
    first: int
    last: int
    offset: int
    found: bool = True
    columns: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "header_rows": list(self.header_rows),
            "header_found": self.found,
            "first_record_row": self.first + self.offset,
            "records": self.last - self.first + 1,
        }


@dataclass(frozen=True)
class Layout:
    """Where the records of a spreadsheet (or a CSV file with title rows) are: the header
    of each table and the sheets left out, so that each record number gives the row the
    spreadsheet shows (:meth:`locate`)."""

    parts: tuple[SheetPart, ...]
    skipped_sheets: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()  # what reading found doubtful (an NIB that lost a zero)

    def sheet_rows(self, rows: NDArray[np.int64]) -> tuple[NDArray[Any], NDArray[np.int64]]:
        """The sheet and the spreadsheet's row of each record number in ``rows``.

        Parameters
        ----------
        rows
            Record numbers (``row``).
        """
        rows = np.asarray(rows, dtype=np.int64)
        firsts = np.array([p.first for p in self.parts], dtype=np.int64)
        which = np.clip(np.searchsorted(firsts, rows, side="right") - 1, 0, len(self.parts) - 1)
        offsets = np.array([p.offset for p in self.parts], dtype=np.int64)
        names = np.array([p.sheet or "" for p in self.parts], dtype=object)
        return names[which], rows + offsets[which]

    def locate(self, frame: pd.DataFrame, *, row: str = "row", sheet: bool = False) -> pd.DataFrame:
        """``frame`` (rows with a record number in column ``row``) with ``sheet_row`` (and
        ``sheet`` when ``sheet``) after that column; ``<name>_klastergeo`` where the frame
        has a column of that name.

        Parameters
        ----------
        frame
            Rejected, repaired or skipped rows.
        row
            The column of record numbers.
        sheet
            Add the sheet's name too.
        """
        if row not in frame.columns:
            return frame
        names, numbers = self.sheet_rows(frame[row].to_numpy(dtype=np.int64))
        out = frame.copy()
        at = list(out.columns).index(row) + 1
        added = {"sheet_row": numbers, **({"sheet": names} if sheet else {})}
        for offset, (name, values) in enumerate(added.items()):
            own = f"{name}_klastergeo" if name in out.columns else name
            out.insert(at + offset, own, values)
        return out

    def summary(self) -> dict[str, Any]:
        """The ``layout`` entry of ``summary.json``'s ``records`` block."""
        return {
            "tables": [p.to_dict() for p in self.parts],
            "sheets_skipped": [{"sheet": s, "why": why} for s, why in self.skipped_sheets],
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------------------
# Rows that are not firms
# --------------------------------------------------------------------------------------


def _arrow(values: pd.Series) -> pa.Array:
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array(values.astype("string"), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pa.array(values.astype("string"), from_pandas=True)
    return pc.utf8_trim(array.fill_null(""), characters=" \t\u00a0\r\n")


def _np(array: Any) -> NDArray[Any]:
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _numbers(text: pa.Array) -> NDArray[np.bool_]:
    """Cells that are numbers (:data:`_ARROW_NUMBER`): plain decimals found by the
    compiled scan (:func:`klastergeo.io.registry.kernels.scan`, all of them numbers),
    the regular expression for the others where the column is mostly numbers."""
    plain = kernels.scan(text).mark >= 0
    if plain.sum() * 2 < len(plain):  # a column of words: one pass of the expression
        return np.asarray(_np(pc.match_substring_regex(text, _ARROW_NUMBER)), dtype=bool)
    rest = np.flatnonzero(~plain)
    if len(rest):
        plain[rest] = _np(pc.match_substring_regex(text.take(pa.array(rest)), _ARROW_NUMBER))
    return plain


def _named(text: pa.Array, name: str) -> NDArray[np.bool_]:
    """Cells whose text in lower case is ``name`` (the column's header repeated): only
    cells of its length are lowered (Arrow lowers a character to one character)."""
    out = np.zeros(len(text), dtype=bool)
    rows = np.flatnonzero(_np(pc.equal(pc.utf8_length(text), len(name))))
    if len(rows):
        out[rows] = _np(pc.equal(pc.utf8_lower(text.take(pa.array(rows))), name))
    return out


def classify_rows(
    frame: pd.DataFrame,
    *,
    identifying: Sequence[str] = (),
    placing: Sequence[str] = (),
    header: Sequence[str] = (),
) -> NDArray[np.object_]:
    """The kind of each row that is not a firm (:data:`SKIP_KINDS`), ``""`` for records.

    Vectorised over the rows (one pass of Arrow kernels per column).

    Parameters
    ----------
    frame
        Records as read (text).
    identifying
        Columns that identify or place a firm (id, name, KBLI, coordinates, area code and
        names): a row of numbers only with all of them empty is a sum, a row of words
        with all of them empty a note (a signature block, a place and date).
    placing
        The KBLI and coordinate columns: a row whose first text says ``Jumlah`` or
        ``Total`` is a total only when they are empty (a firm named "Total Jaya" is not).
    header
        The header's names, to find the header repeated (default: the frame's columns).

    Examples
    --------
    >>> frame = pd.DataFrame({"nama": ["UD Maju", "Jumlah", "", "Sumber: BPS", "Total Jaya"],
    ...                       "kbli": ["10710", "", "", "", "31001"],
    ...                       "tk": ["4", "120", "", "", "3"]})
    >>> classify_rows(frame, identifying=["kbli", "nama"], placing=["kbli"]).tolist()
    ['', 'total', 'blank', 'footnote', '']
    """
    n = len(frame)
    kinds = np.full(n, "", dtype=object)
    if not n or not len(frame.columns):
        return kinds
    names = list(header) if header else [str(c) for c in frame.columns]
    filled = np.zeros(n, dtype=np.int64)
    words = np.zeros(n, dtype=np.int64)  # non-empty cells that are not numbers
    repeats = np.zeros(n, dtype=np.int64)
    numbered = np.ones(n, dtype=bool)
    first: pa.Array | None = None
    first_word: pa.Array | None = None
    texts: list[pa.Array] = []
    empties: dict[str, NDArray[np.bool_]] = {}
    for column, name in zip(frame.columns, names, strict=True):
        text = _arrow(frame[column])
        empty = _np(pc.equal(text, ""))
        number = _numbers(text) & ~empty
        empties[str(column)] = empty
        filled += ~empty
        words += ~empty & ~number
        repeats += _named(text, name.strip().lower()) & ~empty
        numbered &= empty | _np(pc.match_substring_regex(text, r"^\(\s*\d{1,3}\s*\)$"))
        texts.append(text)
        first = text if first is None else pc.if_else(pc.equal(first, ""), text, first)
        word = pc.if_else(pa.array(number), "", text)
        first_word = (
            word if first_word is None else pc.if_else(pc.equal(first_word, ""), word, first_word)
        )
    assert first is not None and first_word is not None
    blank = filled == 0
    # a note merged over several cells repeats its text in each: those count once
    copies = sum((_np(pc.equal(text, first)) for text in texts), np.zeros(n, dtype=np.int64))
    footnote = _np(pc.match_substring_regex(first, _FOOTNOTE)) & (filled - copies <= 1)
    key = [c for c in identifying if c in empties]
    placed = [c for c in placing if c in empties]
    unplaced = np.logical_and.reduce([empties[c] for c in placed]) if placed else np.ones(n, bool)
    total = _np(pc.match_substring_regex(first_word, _TOTAL)) & (words <= 3) & unplaced
    nothing = np.logical_and.reduce([empties[c] for c in key]) if key else np.zeros(n, bool)
    sums = nothing & (words == 0) & (filled > 0)
    repeated = (repeats >= 2) & (repeats * 2 >= filled)
    column_numbers = numbered & (filled >= 2)
    # text that names no firm (no id, name, KBLI, point or area): a signature block, a
    # place and date, a title repeated below the table
    note = nothing & (words > 0) if key else np.zeros(n, bool)
    for kind, mask in (
        ("blank", blank),
        ("footnote", footnote),
        ("header", repeated),
        ("column_numbers", column_numbers),
        ("total", total | sums),
        ("note", note),
    ):
        kinds[(kinds == "") & mask] = kind
    return kinds


def row_text(frame: pd.DataFrame) -> pd.Series:
    """Each row's non-empty cells joined by `` | `` (what ``skipped.csv`` shows).

    Parameters
    ----------
    frame
        Rows as read (few: the skipped ones).
    """
    if not len(frame):
        return pd.Series([], index=frame.index, dtype=object)
    cells = frame.astype("string").fillna("")
    return cells.apply(lambda r: " | ".join(v.strip() for v in r if v.strip()), axis=1)


# --------------------------------------------------------------------------------------
# Excel workbooks
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetTable:
    """A workbook's records as read: text (number cells written as digits, never in
    scientific notation), the columns that held number cells, the record numbers, and
    where each table was."""

    frame: pd.DataFrame
    typed: frozenset[str]
    rows: NDArray[np.int64]
    layout: Layout
    implied: dict[str, str] = field(default_factory=dict)


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_workbook(
    source: Path, *, sheet: str | None, candidates: Mapping[str, Sequence[str]]
) -> SheetTable:
    """Read an Excel workbook's records (see the module docstring).

    Parameters
    ----------
    source
        An ``.xlsx``/``.xlsm`` workbook (``.xls`` needs xlrd).
    sheet
        A sheet's name, None for the first sheet, or ``"all"`` for every sheet that
        holds a table of records (one sheet per kecamatan): their rows one after the
        other, with the sheet's name in a column ``sheet``, which stands for the
        kecamatan where no column names it.
    candidates
        Role -> known column names, to find the header.

    Returns
    -------
    SheetTable
        The records.
    """
    with source.open("rb") as handle:
        magic = handle.read(8)
    suffix = source.suffix.lower()
    if suffix == ".xls" or magic == _OLE:
        return _read_old(source, sheet=sheet, candidates=candidates, magic=magic)
    import openpyxl

    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as err:  # zipfile, KeyError, XML errors: a damaged workbook
        raise ValidationError(
            f"cannot read {str(source)!r} as an Excel workbook ({type(err).__name__}: "
            f"{err}); open it in Excel or LibreOffice and save it again as .xlsx"
        ) from err
    try:
        names = list(book.sheetnames)
        chosen = _chosen_sheets(names, sheet, source)
        # no sheet named: the first sheet holding a table (a cover or instructions sheet
        # before the data is passed over, and said so)
        tried = names if sheet is None else chosen
        tables: list[tuple[str, pd.DataFrame, frozenset[str], Header, NDArray[np.int64]]] = []
        skipped: list[tuple[str, str]] = []
        first_error: ValidationError | None = None
        for name in tried:
            ws = book[name]
            if not hasattr(ws, "iter_rows"):
                skipped.append((name, "a chart, not a table"))
                continue
            if len(tried) > 1 and re.match(_RECAP, name):
                skipped.append((name, "a summary of the other sheets (by its name), not firms"))
                continue
            values, numbers, merges = _sheet_cells(book, ws)
            where = f"sheet {name!r} of {str(source)!r}"
            try:
                table = _table(values, numbers, merges, candidates=candidates, where=where)
            except ValidationError as err:
                if len(tried) == 1:
                    raise
                first_error = first_error or err
                skipped.append((name, "no header row naming two column roles"))
                logger.info("%s", err)
                continue
            tables.append((name, *table))
            if sheet is None:
                break  # the first table is the registry
        if sheet is None and not tables and first_error is not None:
            raise ValidationError(
                f"{first_error}; no sheet of the workbook has such a row (its sheets: "
                f"{', '.join(map(repr, names))}): pass --sheet NAME for the one to read"
            )
    except MemoryError:
        raise
    except ValidationError:
        raise
    except Exception as err:  # a damaged sheet
        raise ValidationError(
            f"cannot read {str(source)!r} as an Excel workbook ({type(err).__name__}: {err})"
        ) from err
    finally:
        book.close()
    return _assemble(tables, skipped, source, all_sheets=len(chosen) > 1, candidates=candidates)


def _chosen_sheets(names: list[str], sheet: str | None, source: Path) -> list[str]:
    if not names:
        raise ValidationError(f"workbook {str(source)!r} has no sheets")
    if sheet is None:
        return [names[0]]
    if sheet in names:
        return [sheet]
    if sheet.strip().lower() == ALL_SHEETS:
        return names
    loose = [n for n in names if n.strip().lower() == sheet.strip().lower()]
    if len(loose) == 1:
        logger.info("sheet %r read as %r", sheet, loose[0])
        return loose
    raise ValidationError(
        f"sheet {sheet!r} is not in {str(source)!r}; its sheets are {preview(names, 50)}: "
        f"pass --sheet with one of them, or --sheet {ALL_SHEETS} to read every sheet"
    )


def _sheet_cells(
    book: Any, ws: Any
) -> tuple[NDArray[np.object_], NDArray[np.bool_], list[tuple[int, int, int, int]]]:
    """A sheet's values (rows x columns, None where empty), which cells are numbers, and
    its merged cells (0-based bounds), read in one pass over its XML."""
    from openpyxl.utils.cell import range_boundaries

    ri: list[int] = []
    ci: list[int] = []
    vals: list[Any] = []
    refs: list[str] = []
    try:
        from openpyxl.worksheet._reader import WorkSheetParser
    except ImportError:  # pragma: no cover - an openpyxl without it: no merged cells
        WorkSheetParser = None
    if WorkSheetParser is not None and hasattr(ws, "_get_source"):
        with ws._get_source() as src:
            parser = WorkSheetParser(
                src,
                ws._shared_strings,
                data_only=True,
                epoch=book.epoch,
                date_formats=book._date_formats,
                timedelta_formats=book._timedelta_formats,
            )
            for _, cells in parser.parse():
                for cell in cells:
                    value = cell["value"]
                    if value is not None:
                        ri.append(cell["row"])
                        ci.append(cell["column"])
                        vals.append(value)
            merged = parser.merged_cells
            refs = [str(m.ref) for m in merged.mergeCell] if merged is not None else []
    else:  # pragma: no cover
        ws.reset_dimensions()
        for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ri.append(r)
                    ci.append(c)
                    vals.append(value)
    if not vals:
        return np.empty((0, 0), dtype=object), np.empty((0, 0), dtype=bool), []
    rows = np.asarray(ri, dtype=np.int64) - 1
    cols = np.asarray(ci, dtype=np.int64) - 1
    flat = np.empty(len(vals), dtype=object)
    flat[:] = vals
    del ri, ci, vals  # the arrays hold them now
    kinds = _types(flat)
    number = np.isin(kinds, np.asarray([int, float], dtype=object))
    shape = (int(rows.max()) + 1, int(cols.max()) + 1)
    values = np.full(shape, None, dtype=object)
    values[rows, cols] = flat
    numbers = np.zeros(shape, dtype=bool)
    numbers[rows, cols] = number
    merges: list[tuple[int, int, int, int]] = []
    for ref in refs:
        c0, r0, c1, r1 = range_boundaries(ref)
        if c0 is None or r0 is None or c1 is None or r1 is None:
            continue
        bounds = (r0 - 1, c0 - 1, min(r1, shape[0]) - 1, min(c1, shape[1]) - 1)
        if bounds[0] >= shape[0] or bounds[1] >= shape[1]:
            continue
        merges.append(bounds)
    return values, numbers, merges


def _fill(
    values: NDArray[np.object_],
    numbers: NDArray[np.bool_],
    merges: Sequence[tuple[int, int, int, int]],
    *,
    rows: tuple[int, int],
    across: bool,
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Copies of ``values`` and ``numbers`` with the merged cells that start in rows
    ``rows`` (a range) given their first cell's value: every merged cell where
    ``across``, else only those spanning several rows (a kecamatan written once over the
    rows of its firms; a label merged along one row, "Jumlah" or a footnote, stays one
    cell)."""
    chosen = [m for m in merges if rows[0] <= m[0] < rows[1] and (across or m[2] > m[0])]
    if not chosen:
        return values, numbers
    values, numbers = values.copy(), numbers.copy()
    for a, b, c, d in chosen:
        values[a : c + 1, b : d + 1] = values[a, b]
        numbers[a : c + 1, b : d + 1] = numbers[a, b]
    return values, numbers


_TYPE = np.frompyfunc(type, 1, 1)


def _types(values: NDArray[np.object_]) -> NDArray[np.object_]:
    """The type of each value of an object array."""
    return np.asarray(_TYPE(values), dtype=object)


def _table(
    values: NDArray[np.object_],
    numbers: NDArray[np.bool_],
    merges: list[tuple[int, int, int, int]],
    *,
    candidates: Mapping[str, Sequence[str]],
    where: str,
) -> tuple[pd.DataFrame, frozenset[str], Header, NDArray[np.int64]]:
    """One sheet's table: its text frame, the columns of number cells, its header and the
    sheet row of each line below the header."""
    if not values.size:
        raise ValidationError(f"no header row found in {where}: the sheet is empty")
    first = slice(0, SCAN_ROWS)
    top, _ = _fill(values[first], numbers[first], merges, rows=(0, SCAN_ROWS), across=True)
    header = find_header(
        top[:SCAN_ROWS].tolist(), candidates=candidates, merges=merges, where=where
    )
    below, typed_cells = _fill(
        values, numbers, merges, rows=(header.end, len(values)), across=False
    )
    body = below[header.end :]
    typed = typed_cells[header.end :]
    names = list(header.names)
    has_data = (body != None).any(axis=0) if len(body) else np.zeros(len(names), bool)  # noqa: E711
    keep = [i for i, name in enumerate(names) if name or has_data[i]]
    # a header cell merged over several columns with nothing below it to tell them apart:
    # the first column keeps the name, the others without data go, those with data are
    # numbered ("Alamat", "Alamat 2")
    for i in list(keep):
        if i in keep and names[i] and i - 1 in keep and names[i] == names[i - 1]:
            run = [j for j in keep if j >= i and names[j] == names[i]]
            run = [j for k, j in enumerate(run) if j == i + k]
            for k, j in enumerate(run, start=2):
                if has_data[j]:
                    names[j] = f"{names[j]} {k}"
                else:
                    keep.remove(j)
    from openpyxl.utils.cell import get_column_letter

    for i in keep:
        if not names[i]:
            names[i] = f"column_{get_column_letter(i + 1)}"
            logger.warning("%s: column %s has no header; named %r", where, names[i][7:], names[i])
    frame = pd.DataFrame(
        {names[i]: pd.Series(_cell_text(body[:, i]), dtype=str) for i in keep},
        index=pd.RangeIndex(len(body)),
    )
    columns = [names[i] for i in keep]
    if len(set(columns)) < len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise ValidationError(
            f"{where} repeats column name(s) {preview(dupes)} in its header (rows "
            f"{', '.join(str(r + 1) for r in header.rows)}); column names must be unique"
        )
    typed_columns = frozenset(names[i] for i in keep if typed[:, i].any())
    sheet_rows = np.arange(header.end + 1, header.end + 1 + len(body), dtype=np.int64)
    return frame, typed_columns, header, sheet_rows


def _is(kinds: NDArray[np.object_], kind: type) -> NDArray[np.bool_]:
    """Which of ``kinds`` (the types of an object array's values) are ``kind``."""
    return np.isin(kinds, np.asarray([kind], dtype=object))


def _cell_text(values: NDArray[np.object_]) -> NDArray[np.object_]:
    """Cells as text: whole numbers as their digits (``3310112015``, never ``3.31e9`` or
    ``3310112015.0``), other numbers in positional notation, empty cells ``""``."""
    out = np.full(len(values), "", dtype=object)
    if not len(values):
        return out
    kinds = _types(values)
    text = _is(kinds, str)
    out[text] = values[text]
    ints = _is(kinds, int)
    if ints.any():
        out[ints] = values[ints].astype(str)
    floats = _is(kinds, float)
    if floats.any():
        numbers = values[floats].astype(float)
        whole = np.isfinite(numbers) & (np.abs(numbers) < 2**53)
        whole &= np.floor(np.where(whole, numbers, 0.0)) == np.where(whole, numbers, 0.0)
        shown = numbers.astype(str).astype(object)
        shown[whole] = numbers[whole].astype(np.int64).astype(str)
        odd = np.flatnonzero(~whole & np.isfinite(numbers))
        for i in odd[np.char.find(shown[odd].astype(str), "e") >= 0]:
            shown[i] = np.format_float_positional(numbers[i], trim="-")
        out[floats] = shown
    rest = ~text & ~ints & ~floats & (values != None)  # noqa: E711
    if rest.any():  # dates, booleans, errors
        out[rest] = values[rest].astype(str)
    return out


def _assemble(
    tables: list[tuple[str, pd.DataFrame, frozenset[str], Header, NDArray[np.int64]]],
    skipped: list[tuple[str, str]],
    source: Path,
    *,
    all_sheets: bool,
    candidates: Mapping[str, Sequence[str]],
) -> SheetTable:
    """The tables of the sheets read, one after the other (columns matched by their
    :func:`header_key`, the first sheet's spelling kept), and their layout."""
    if not tables:
        shown = "; ".join(f"{s!r}: {why}" for s, why in skipped)
        raise ValidationError(
            f"no sheet of {str(source)!r} holds a table of records ({shown}); each table "
            "needs a header row naming at least two column roles (e.g. 'Nama Usaha', 'KBLI')"
        )
    if all_sheets:
        tables, skipped = _same_tables(tables, skipped)
    spelled: dict[str, str] = {}
    frames: list[pd.DataFrame] = []
    parts: list[SheetPart] = []
    typed: set[str] = set()
    rows: list[NDArray[np.int64]] = []
    done = 0
    notes: list[str] = []
    for name, frame, types, header, sheet_rows in tables:
        notes += _short_codes(frame, types, sheet_rows, where=f"sheet {name!r}")
        renames = {}
        for column in frame.columns:
            key = header_key(column) or column
            spelled.setdefault(key, column)
            renames[column] = spelled[key]
        frame = frame.rename(columns=renames)
        typed |= {renames[c] for c in types}
        numbers = np.arange(done + 1, done + 1 + len(frame), dtype=np.int64)
        offset = int(sheet_rows[0] - numbers[0]) if len(frame) else header.end - done
        parts.append(
            SheetPart(
                sheet=name,
                header_rows=tuple(r + 1 for r in header.rows),
                first=done + 1,
                last=done + len(frame),
                offset=offset,
                found=header.found,
                columns=len(frame.columns),
            )
        )
        logger.info(
            "sheet %r of %s: header in row(s) %s%s, %d line(s) below it",
            name,
            source.name,
            ", ".join(str(r + 1) for r in header.rows),
            "" if header.found else " (no row names two column roles: the first row taken)",
            len(frame),
        )
        if all_sheets:
            column = "sheet" if "sheet" not in frame.columns else "sheet_name"
            frame = frame.assign(**{column: pd.Series(name, index=frame.index, dtype=str)})
        frames.append(frame)
        rows.append(numbers)
        done += len(frame)
    for name, why in skipped:
        logger.warning("sheet %r of %s left out: %s", name, source.name, why)
    if len(frames) == 1:
        whole = frames[0]
    else:
        whole = pd.concat(frames, ignore_index=True).fillna("")
        whole = whole.astype(dict.fromkeys(whole.columns, str))
    implied = {}
    if all_sheets:
        implied = {"kecamatan": "sheet" if "sheet" in whole.columns else "sheet_name"}
    return SheetTable(
        frame=whole.reset_index(drop=True),
        typed=frozenset(typed),
        rows=np.concatenate(rows) if rows else np.empty(0, np.int64),
        layout=Layout(tuple(parts), tuple(skipped), tuple(notes)),
        implied=implied,
    )


#: Header keys of the business registration number (NIB, 13 digits), and its length.
_NIB_KEYS = ("nib", "no_nib", "nomor_nib", "nomor_induk_berusaha", "nib_oss")
_NIB_DIGITS = 13


def _short_codes(
    frame: pd.DataFrame, typed: frozenset[str], sheet_rows: NDArray[np.int64], *, where: str
) -> list[str]:
    """Notes on NIB columns read from number cells whose values have fewer than 13
    digits: a leading zero a number cannot keep. They are listed (the log, the summary),
    not changed: an NIB is an identifier, and only its owner can say what it was."""
    notes = []
    for column in frame.columns:
        if column not in typed or header_key(column) not in _NIB_KEYS:
            continue
        text = frame[column].astype("string").fillna("")
        short = (
            text.str.fullmatch(r"\d+").fillna(False) & (text.str.len() < _NIB_DIGITS)
        ).to_numpy(dtype=bool)
        if not short.any():
            continue
        note = (
            f"{where}, column {column!r}: {int(short.sum())} NIB value(s) read from number "
            f"cells have fewer than {_NIB_DIGITS} digits (a leading zero lost?), in rows "
            f"{preview(sheet_rows[short])}; they are kept as read: store NIB as text"
        )
        logger.warning("%s", note)
        notes.append(note)
    return notes


def _same_tables(
    tables: list[tuple[str, pd.DataFrame, frozenset[str], Header, NDArray[np.int64]]],
    skipped: list[tuple[str, str]],
) -> tuple[list[Any], list[tuple[str, str]]]:
    """Of every sheet with a header, those whose columns are the table's: the sheet with
    the most roles named is the reference; a sheet sharing fewer than half of its columns
    (a "Rekap" of totals per kecamatan, a list of something else) is left out."""
    reference = max(tables, key=lambda t: len(t[3].roles))
    keys = {header_key(c) for c in reference[1].columns}
    kept, out = [], list(skipped)
    for table in tables:
        own = {header_key(c) for c in table[1].columns}
        shared = len(own & keys)
        if table is reference or shared * 2 >= len(keys):
            kept.append(table)
        else:
            out.append(
                (
                    table[0],
                    f"its columns are not those of sheet {reference[0]!r} (shares {shared} "
                    f"of {len(keys)})",
                )
            )
    return kept, out


def _read_old(
    source: Path, *, sheet: str | None, candidates: Mapping[str, Sequence[str]], magic: bytes
) -> SheetTable:
    """An Excel 97-2003 workbook (``.xls``) through xlrd, when it is installed; an
    encrypted workbook is refused."""
    if magic == _OLE and source.suffix.lower() != ".xls":
        raise ValidationError(
            f"{str(source)!r} is password-protected (an encrypted workbook) or an old .xls "
            "workbook under another name; open it in Excel or LibreOffice, remove the "
            "password (File > Info > Protect Workbook) and save it as .xlsx"
        )
    import importlib.util

    if importlib.util.find_spec("xlrd") is None:
        raise ValidationError(
            f"{str(source)!r} is an Excel 97-2003 workbook (.xls), which needs the xlrd "
            "package (not installed); open it in Excel or LibreOffice and save it as "
            ".xlsx (or pip install xlrd)"
        )
    try:
        book = pd.read_excel(source, sheet_name=None, header=None, dtype=object, engine="xlrd")
    except MemoryError:
        raise
    except Exception as err:  # xlrd raises many types; an encrypted .xls among them
        raise ValidationError(
            f"cannot read {str(source)!r} as an Excel workbook ({type(err).__name__}: {err}); "
            "if it has a password, remove it and save the workbook as .xlsx"
        ) from err
    names = list(book)
    chosen = _chosen_sheets(names, sheet, source)
    tables, skipped = [], []
    for name in chosen:
        grid = book[name].astype(object).where(book[name].notna(), None).to_numpy()
        number = (
            np.isin(_types(grid), np.asarray([int, float], dtype=object))
            if grid.size
            else (np.zeros(grid.shape, dtype=bool))
        )
        where = f"sheet {name!r} of {str(source)!r}"
        try:
            tables.append((name, *_table(grid, number, [], candidates=candidates, where=where)))
        except ValidationError:
            if len(chosen) == 1:
                raise
            skipped.append((name, "no header row naming two column roles"))
    return _assemble(tables, skipped, source, all_sheets=len(chosen) > 1, candidates=candidates)
