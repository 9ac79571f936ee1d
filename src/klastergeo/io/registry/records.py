"""Enterprise records: read any registry file, map its columns, validate every row.

Reading keeps the file's values as they are (text for CSV), so that rejected rows can be
written back unchanged. Validation is vectorised and collects every problem at once; each
rejected row keeps one ``reason`` (the first that applies, in :data:`REASONS` order) and a
human ``detail``. Nothing is dropped silently: every input row ends up either kept or
rejected, and repaired coordinates are listed.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from klastergeo import kbli
from klastergeo._docstrings import fill
from klastergeo.analysis.geometry import firm_points, locate_points
from klastergeo.errors import ValidationError, preview
from klastergeo.io.registry import coordinates, headers, placement, sheets
from klastergeo.io.registry.columns import Columns
from klastergeo.options import Decimal
from klastergeo.schema import FIRM_COLUMNS, RESERVED_FIRM_COLUMNS

__all__ = [
    "OUTSIDE_SAMPLE",
    "REASONS",
    "Checked",
    "CsvLayout",
    "NumberFormat",
    "RawRecords",
    "StagedFrame",
    "ValidationReport",
    "check_rows",
    "check_units",
    "coordinate_units",
    "csv_layout",
    "duplicate_keys",
    "file_decimal",
    "file_formats",
    "find_duplicates",
    "implied_roles",
    "known_names",
    "locate",
    "merge_formats",
    "number_format",
    "numeric_column",
    "numeric_columns",
    "parse_numbers",
    "read_records",
    "resolve_columns",
    "sample_outside",
    "sector_lengths",
    "single_values",
    "skip_rows",
    "stage_frame",
    "validate_records",
]

logger = logging.getLogger(__name__)

#: Rejection reasons, in the order in which they take precedence for one row.
REASONS: tuple[str, ...] = (
    "malformed_row",
    "missing_coordinates",
    "zero_coordinates",
    "out_of_range",
    "outside_study_area",
    "unknown_area",
    "ambiguous_area",
    "area_too_coarse",
    "invalid_sector",
    "invalid_value",
    "missing_id",
    "duplicate_record",
    "duplicate_id",
)

#: Repairs listed in ``repaired.csv``: coordinates swapped back, a KBLI code's leading
#: zero put back, a point more than ``area.mismatch_m`` from the area the record names
#: (``area_mismatch``), coordinates that are no position (zero, out of range) replaced by
#: the area the record names (``placed_by_area``).
REPAIRS: tuple[str, ...] = (
    "swapped_coordinates",
    "kbli_leading_zero",
    "area_mismatch",
    "placed_by_area",
)

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
_PARQUET_SUFFIXES = {".parquet", ".geoparquet", ".pq"}
_GIS_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".zip", ".gml", ".kml"}
_DELIMITERS = (",", ";", "\t", "|")
_NA_TOKENS = ["", "na", "n/a", "nan", "null", "none", "-", "--", "#n/a"]

#: Header phrases of each role, detected when a role is not mapped explicitly: the one
#: synonyms table of :mod:`klastergeo.io.registry.headers` (matching ignores case, punctuation,
#: spacing and the unit; see there).
CANDIDATES: dict[str, tuple[str, ...]] = headers.SYNONYMS
_REQUIRED = ("lat", "lon", "sector")
#: Roles that place a record by its area when it has no usable coordinates.
PLACEMENT_ROLES = ("area_code", "desa", "kecamatan", "kabupaten")
_NUMERIC_ROLES = ("workers", "output", "investment")
#: Largest accepted value of each numeric attribute (and 0 the smallest): beyond these a
#: value is a typing error or an overflow (``1e999``), rejected as ``invalid_value``.
VALUE_BOUNDS: dict[str, float] = {
    "workers": 1_000_000,
    "output": 1e15,
    "investment": 1e15,
}
#: Output columns the validated records use; input columns of these names are renamed.
STANDARD = FIRM_COLUMNS
#: Every column name klastergeo gives kept firms (see :mod:`klastergeo.schema`).
RESERVED = RESERVED_FIRM_COLUMNS


@dataclass(frozen=True)
class RawRecords:
    """A registry as read: values untouched, one row per input record, in file order.

    ``frame`` has the file's own column names and a RangeIndex (position in the file).
    For GIS formats with point geometry, ``xy`` holds longitude/latitude (EPSG:4326) and
    ``frame`` the geometry as WKT in a ``geometry`` column. ``malformed`` lists CSV lines
    that could not be split into the header's number of fields.

    A spreadsheet (and a CSV file with title rows) also has its ``layout`` (where its
    header was, the row the spreadsheet shows for each record number:
    :class:`klastergeo.io.registry.sheets.Layout`); ``typed_columns`` names the columns read from
    number cells (their codes lost any leading zero); ``implied`` maps a role to the
    column that stands for it where no column names it (``--sheet all``: the sheet's
    name for the kecamatan).
    """

    frame: pd.DataFrame
    source: Path
    format: str
    delimiter: str | None = None
    encoding: str | None = None
    xy: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
    malformed: pd.DataFrame = field(default_factory=pd.DataFrame)
    numbers: NDArray[np.int64] | None = None
    typed_columns: frozenset[str] = frozenset()
    layout: sheets.Layout | None = None
    implied: Mapping[str, str] = field(default_factory=dict)

    @property
    def n_read(self) -> int:
        """Records in the file, malformed lines included."""
        return len(self.frame) + len(self.malformed)

    @property
    def rows(self) -> NDArray[np.int64]:
        """1-based record number in the file of each row of ``frame``.

        Counts malformed lines too, so numbers point at the same record in the file. A
        batch of a larger file carries its rows' numbers (``numbers``).
        """
        if self.numbers is not None:
            return self.numbers
        if not len(self.malformed):
            return np.arange(1, len(self.frame) + 1, dtype=np.int64)
        skipped = self.malformed["row"].dropna().to_numpy(dtype=np.int64)
        numbers = np.setdiff1d(np.arange(1, self.n_read + 1, dtype=np.int64), skipped)
        return numbers[: len(self.frame)]


def _per(frame: pd.DataFrame, column: str, kinds: Sequence[str]) -> dict[str, int]:
    """Rows of ``frame`` per value of ``column``, every one of ``kinds`` listed."""
    counts = frame[column].value_counts().to_dict() if len(frame) else {}
    return {kind: int(counts.get(kind, 0)) for kind in kinds}


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of :func:`validate_records`.

    Attributes
    ----------
    records
        Kept records, indexed by record id (``record_id``), with standard columns ``row``
        (1-based position in the file), ``lat``, ``lon``, ``kbli``, ``sector``, ``workers``,
        ``output``, ``investment``, ``name``, ``area_code`` (when a study area was given),
        the file's other columns as read (text for CSV; see :func:`numeric_column`), and
        point geometry in EPSG:4326.
    rejected
        Rejected input rows unchanged, plus ``row``, ``reason`` and ``detail``.
    repaired
        Kept rows whose latitude and longitude were swapped back, with the original values.
    columns
        The column mapping actually used (after auto-detection).
    kept
        Records kept, when ``records`` holds none of them (a run that keeps its firms on
        disk: :class:`klastergeo.io.registry.firms.FirmStore`); None when ``records`` holds
        every kept record.
    outside
        Record number, longitude and latitude (one row each) of the records rejected as
        ``outside_study_area``, or of a uniform sample of :data:`OUTSIDE_SAMPLE` of them
        (:func:`sample_outside`): where they lie is named from them
        (:mod:`klastergeo.app.pipeline.coverage`). None when not gathered.
    skipped
        Rows that are not firms (totals, footnotes, blank rows, the header repeated;
        :func:`klastergeo.io.registry.sheets.classify_rows`): ``row`` (record number), ``sheet_row``
        and ``sheet`` where the file has a layout, ``kind`` and ``text``. They are not
        records: ``n_read`` does not count them.
    layout
        Where the header of each table was, in a spreadsheet or a CSV file with title
        rows (``rejected`` and ``repaired`` then have ``sheet_row`` after ``row``).
    implied
        Role -> the column that stood for it because no column named it (``--sheet all``:
        ``{"kecamatan": "sheet"}``).
    """

    records: gpd.GeoDataFrame
    rejected: pd.DataFrame
    repaired: pd.DataFrame
    n_read: int
    columns: Columns
    number_formats: Mapping[str, NumberFormat] = field(default_factory=dict)
    decimal: str | None = None
    renamed: Mapping[str, str] = field(default_factory=dict)
    sector_typed: bool = False
    kept: int | None = None
    units: Mapping[str, headers.MeasureUnit] = field(default_factory=dict)
    header: tuple[str, ...] = ()
    outside: NDArray[np.float64] | None = field(default=None, repr=False)
    #: Kept records by how they were placed (``point``, ``code``, ``name``).
    placement: Mapping[str, int] = field(default_factory=dict)
    skipped: pd.DataFrame = field(default_factory=lambda: _skipped_frame(None))
    layout: sheets.Layout | None = None
    implied: Mapping[str, str] = field(default_factory=dict)

    @property
    def n_kept(self) -> int:
        return len(self.records) if self.kept is None else self.kept

    @property
    def n_skipped(self) -> int:
        return len(self.skipped)

    @property
    def skipped_by_kind(self) -> dict[str, int]:
        """Rows skipped as not firms, per kind (every kind listed, zeros included)."""
        return _per(self.skipped, "kind", sheets.SKIP_KINDS)

    @property
    def n_rejected(self) -> int:
        return len(self.rejected)

    @property
    def n_repaired(self) -> int:
        return len(self.repaired)

    @property
    def by_reason(self) -> dict[str, int]:
        """Rejected rows per reason, every reason listed (zeros included)."""
        return _per(self.rejected, "reason", REASONS)

    def summary(self) -> dict[str, Any]:
        """The ``records`` block of ``summary.json``."""
        return {
            "read": self.n_read,
            "kept": self.n_kept,
            "rejected": self.n_rejected,
            "repaired": self.n_repaired,
            "by_reason": self.by_reason,
            "repaired_by_reason": self.repaired_by_reason,
            "columns": {k: v for k, v in vars(self.columns).items() if v is not None},
            "number_formats": {k: v.to_dict() for k, v in self.number_formats.items()},
            "renamed_columns": dict(self.renamed),
            "sector_column_numeric": self.sector_typed,
            "placement": dict(self.placement),
            "skipped": self.n_skipped,
            "skipped_by_kind": self.skipped_by_kind,
            "layout": self.layout.summary() if self.layout is not None else None,
            "implied_columns": dict(self.implied),
            **self.roles(),
        }

    def roles(self) -> dict[str, Any]:
        """Which column was taken for each role, with the unit of the measures and the
        factor to the stated unit (``roles``); the optional roles no column was found for
        (``roles_not_found``); columns with a role's words and more, for a role not found
        (``similar_columns``: ``Jumlah Tenaga Kerja Laki-laki``); and columns of a
        later phrase of a role that was found (``passed_over``)."""
        taken = {k: v for k, v in vars(self.columns).items() if v is not None}
        roles: dict[str, dict[str, Any]] = {}
        for role, column in taken.items():
            unit = self.units.get(role)
            roles[role] = unit.to_dict() if unit is not None else {"column": column}
        detection = headers.detect(list(self.header), skip=list(taken.values()))
        missing = [r for r in vars(self.columns) if r not in taken and r not in _REQUIRED]
        return {
            "roles": roles,
            "roles_not_found": missing,
            "similar_columns": {
                r: detection.similar[r] for r in missing if detection.similar.get(r)
            },
            "passed_over": {
                r: [c for group in detection.found[r] for c in group]
                for r in taken
                if detection.found.get(r)
            },
        }

    @property
    def repaired_by_reason(self) -> dict[str, int]:
        """Repaired rows per repair (:data:`REPAIRS`)."""
        return _per(self.repaired, "reason", REPAIRS)


#: Most records outside the study area whose coordinates a validation keeps to name
#: where they lie (:attr:`ValidationReport.outside`): 4.8 MB, whatever the registry.
OUTSIDE_SAMPLE = 200_000


def _row_keys(rows: NDArray[np.float64]) -> NDArray[np.uint64]:
    """A pseudo-random key per record number (splitmix64): a sample that keeps the
    lowest keys is uniform, the same for any batch size, and reproducible."""
    z = rows.astype(np.int64).astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def sample_outside(
    *parts: NDArray[np.float64] | None, limit: int = OUTSIDE_SAMPLE
) -> NDArray[np.float64]:
    """The records of ``parts`` (arrays of rows ``record number, longitude, latitude``)
    whose record numbers have the ``limit`` lowest keys: all of them when they are
    fewer, else a uniform sample that does not depend on how the file was batched.

    Parameters
    ----------
    *parts
        Arrays of shape (n, 3); None is an empty one.
    limit
        Most rows kept.

    Returns
    -------
    ndarray
        Shape (k, 3), k <= ``limit``, in record order.

    Examples
    --------
    >>> first = np.array([[1, 110.1, -7.1], [2, 110.2, -7.2]])
    >>> sample_outside(first, np.array([[7, 110.7, -7.7]]), limit=5)[:, 0].tolist()
    [1.0, 2.0, 7.0]
    """
    arrays = [np.asarray(p, dtype=np.float64).reshape(-1, 3) for p in parts if p is not None]
    joined = np.concatenate(arrays) if arrays else np.empty((0, 3))
    if len(joined) > limit:
        keys = _row_keys(joined[:, 0])
        joined = joined[np.argpartition(keys, limit - 1)[:limit]]
    return joined[np.argsort(joined[:, 0], kind="stable")]


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


# doctest piece: a small registry as spreadsheets export it (see klastergeo._docstrings)
_EXAMPLE_REGISTRY = r"""
>>> import tempfile
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / "registry.csv"
>>> _ = path.write_text(
...     "id_usaha;nama_usaha;lintang;bujur;kbli;tenaga_kerja\n"
...     "A1;Mebel Jaya;-7,5412;110,7701;31001;4\n"
...     "A2;Tenun Sari;-7,5391;110,7712;13134;\n"
...     "A1;Mebel Jaya;-7,5412;110,7701;31001;4\n"
...     "A3;Roti Enak;110,7705;-7,5401;10710;2\n",
...     encoding="utf-8-sig",
... )
"""


@fill(example_registry=_EXAMPLE_REGISTRY)
def read_records(
    path: str | Path,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    layer: str | None = None,
    what: str = "records",
    columns: Columns | None = None,
) -> RawRecords:
    """Read an enterprise registry without changing any value.

    Parameters
    ----------
    path
        CSV/TXT/TSV, Excel (``.xlsx``), GeoPackage, GeoJSON, Shapefile, FlatGeobuf, or
        (Geo)Parquet.
    delimiter
        CSV field separator; sniffed from the first lines when None (``,``, ``;``, tab, ``|``).
    encoding
        CSV text encoding; when None, UTF-8 (with or without BOM) and otherwise Windows-1252
        / Latin-1, as Indonesian spreadsheet exports use.
    sheet, layer
        Excel sheet name (default the first) or GIS layer name (default the first).
    what
        What the file is, in messages (``"records"``, ``"area data"``, ...).
    columns
        Column names given by the user: a spreadsheet's header row is the first that
        names two column roles, by these names or those of :data:`CANDIDATES`.

    Examples
    --------
    A semicolon-separated export with decimal commas and a byte-order mark, as
    spreadsheets write them:

    {example_registry}
    >>> raw = read_records(path)
    >>> raw.delimiter, raw.encoding, len(raw.frame)
    (';', 'utf-8-sig', 4)
    """
    source = check_source(path, what=what)
    suffix = source.suffix.lower()
    try:
        if suffix in _CSV_SUFFIXES:
            return _read_csv(source, delimiter=delimiter, encoding=encoding, columns=columns)
        if suffix in _EXCEL_SUFFIXES:
            return _read_excel(source, sheet=sheet, columns=columns)
        if suffix in _PARQUET_SUFFIXES:
            return _read_parquet(source)
        if suffix in _GIS_SUFFIXES:
            return _read_gis(source, layer=layer)
    except OSError as err:
        raise ValidationError(
            f"cannot read records file {str(source)!r}: {err.strerror or err}"
        ) from err
    raise ValidationError(
        f"records file {str(source)!r} has an unknown type {suffix!r}; use CSV, Excel "
        "(.xlsx), GeoPackage (.gpkg), GeoJSON, Shapefile (.shp) or Parquet"
    )


def check_source(path: str | Path, *, what: str = "records") -> Path:
    """A table file (the records, an area table), checked before anything is read: it
    exists, is a file and has a type klastergeo reads (:class:`ValidationError`
    otherwise).

    Parameters
    ----------
    path
        The file; its suffix must be one of CSV, Excel, Parquet or a GIS format.
    what
        What the file is, as error messages name it (e.g. ``"records"``).

    Returns
    -------
    Path
        ``path`` as a Path.
    """
    source = Path(path)
    if not source.exists():
        raise ValidationError(f"{what} file {str(source)!r} does not exist")
    if source.is_dir():
        raise ValidationError(f"{what} path {str(source)!r} is a directory, not a file")
    suffix = source.suffix.lower()
    if suffix not in _CSV_SUFFIXES | _EXCEL_SUFFIXES | _PARQUET_SUFFIXES | _GIS_SUFFIXES:
        raise ValidationError(
            f"{what} file {str(source)!r} has an unknown type {suffix!r}; use CSV, Excel "
            "(.xlsx), GeoPackage (.gpkg), GeoJSON, Shapefile (.shp) or Parquet"
        )
    return source


def _detect_encoding(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    # The sample may end inside a multi-byte character: judge it up to its last newline.
    cut = head.rfind(b"\n")
    sample = head[: cut + 1] if cut > 0 else head
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first lines into the same, largest field count."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        raise ValidationError("records file is empty")
    best, best_score = ",", (-1, -1)
    for delim in _DELIMITERS:
        counts = [len(row) for row in csv.reader(lines[:-1] or lines, delimiter=delim)]
        # the field count most lines share (title rows above the header may have fewer)
        usual = [c for c in counts if c >= 2]
        if not usual:
            continue
        width = max(set(usual), key=lambda c: (usual.count(c), c))
        consistent = usual.count(width)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    if best_score[0] < 0:
        raise ValidationError(
            "cannot tell the CSV delimiter: the header has a single column with ',', ';', "
            "tab and '|'; pass --delimiter"
        )
    return best


@dataclass(frozen=True)
class CsvLayout:
    """How a CSV file is written: encoding, delimiter and header (from its first 64 KiB).

    ``skip`` is the number of rows up to the last row of the header (1 when the header is
    the first line; more below title rows, for a two-row header or a row of column
    numbers); ``header_rows`` are the header's rows (1-based) and ``found`` whether a row
    named the known columns (:func:`klastergeo.io.registry.sheets.find_header`).
    """

    encoding: str
    delimiter: str
    header: list[str]
    skip: int = 1
    header_rows: tuple[int, ...] = (1,)
    found: bool = True

    def layout(self, n_rows: int) -> sheets.Layout | None:
        """Where the records are, when the header is not just the first line (None).

        Parameters
        ----------
        n_rows
            Records in the file (malformed lines included).
        """
        if self.skip == 1:
            return None
        part = sheets.SheetPart(None, self.header_rows, 1, n_rows, self.skip, self.found)
        return sheets.Layout((part,))

    def options(
        self, on_invalid: Any, *, encoding: str | None = None, threads: bool = True
    ) -> dict[str, Any]:
        """Keyword arguments of ``pyarrow.csv.read_csv``/``open_csv``: every column as
        text, malformed lines passed to ``on_invalid``.

        Parameters
        ----------
        on_invalid
            pyarrow's ``invalid_row_handler``.
        encoding
            The encoding to read with (default: the detected one).
        threads
            Whether pyarrow may use threads (only a single-threaded read reports the
            line numbers of malformed rows).
        """
        return {
            "read_options": pacsv.ReadOptions(
                encoding=_arrow_encoding(encoding or self.encoding),
                column_names=self.header,
                skip_rows=self.skip,
                use_threads=threads,
                block_size=1 << 24,
            ),
            "parse_options": pacsv.ParseOptions(
                delimiter=self.delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            "convert_options": pacsv.ConvertOptions(
                column_types=dict.fromkeys(self.header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        }


def known_names(columns: Columns | None = None) -> dict[str, tuple[str, ...]]:
    """The column names that name each role: :data:`CANDIDATES`, and first the names
    the user gave (``columns``).

    Parameters
    ----------
    columns
        The column mapping given, or None.

    Examples
    --------
    >>> known_names(Columns(lat="Y_dd"))["lat"][:2]
    ('Y_dd', 'lat')
    """
    given = columns or Columns()
    return {
        role: (*([getattr(given, role)] if getattr(given, role) else []), *names)
        for role, names in CANDIDATES.items()
    }


def csv_layout(
    source: Path,
    *,
    delimiter: str | None,
    encoding: str | None,
    columns: Columns | None = None,
) -> CsvLayout:
    """Detect the encoding and delimiter of a CSV file and read its header.

    Parameters
    ----------
    source
        The CSV file.
    delimiter
        The delimiter, or None to sniff it.
    encoding
        The encoding, or None to detect it (UTF-8 with or without BOM, else Windows-1252).
    columns
        Column names given by the user, which name roles as :data:`CANDIDATES` do (to
        find the header below title lines).

    Returns
    -------
    CsvLayout
        The layout; raises :class:`ValidationError` for an empty file or a bad header.
    """
    with source.open("rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        raise ValidationError(f"records file {str(source)!r} is empty")
    enc = encoding or _detect_encoding(head)
    text = head.decode(enc, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        delim = delimiter or _sniff_delimiter(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        first = [row for _, row in zip(range(sheets.SCAN_ROWS), reader, strict=False)]
        if not first:
            raise StopIteration("no lines")
    except (csv.Error, StopIteration) as err:
        raise ValidationError(
            f"cannot read the header line of {str(source)!r} as CSV: {err}"
        ) from err
    width = max(len(row) for row in first)
    grid = [[*row, *[None] * (width - len(row))] for row in first]
    try:
        found = sheets.find_header(grid, candidates=known_names(columns), where=repr(str(source)))
    except ValidationError:  # nothing names a role: the first line, as it always was
        found = None
    if found is None or found.rows == (0,):
        header = [h.strip() for h in first[0]]
        _check_header(header, source)
        return CsvLayout(enc, delim, header, found=found is not None and found.found)
    # as many columns as the records have (a title line may be wider)
    width = max((len(row) for row in first[found.end :]), default=len(found.names))
    header = list(found.names)[:width]
    rows = tuple(r + 1 for r in found.rows)
    logger.info(
        "%s: header in line(s) %s, below %d title line(s)",
        source.name,
        ", ".join(map(str, rows)),
        rows[0] - 1,
    )
    _check_header(header, source)
    return CsvLayout(enc, delim, header, skip=found.end, header_rows=rows, found=found.found)


def _read_csv(
    source: Path, *, delimiter: str | None, encoding: str | None, columns: Columns | None = None
) -> RawRecords:
    layout = csv_layout(source, delimiter=delimiter, encoding=encoding, columns=columns)
    enc, delim, header = layout.encoding, layout.delimiter, layout.header
    malformed: list[dict[str, Any]] = []

    def on_invalid(row: Any) -> str:
        malformed.append({"line": row.number, "raw_line": row.text})
        return "skip"

    def attempt(enc_name: str, threads: bool = True) -> pa.Table:
        malformed.clear()
        return pacsv.read_csv(
            source, **layout.options(on_invalid, encoding=enc_name, threads=threads)
        )

    try:
        try:
            table = attempt(enc)
        except pa.ArrowInvalid as err:
            if not ("UTF8" in str(err) and encoding is None and enc.startswith("utf-8")):
                raise
            logger.warning(
                "%s is not valid UTF-8 throughout; reading it as Windows-1252", source.name
            )
            enc = "cp1252"
            table = attempt(enc)
        if malformed and any(m["line"] is None for m in malformed):
            # Only a single-threaded read reports the line numbers of malformed rows.
            table = attempt(enc, threads=False)
    except MemoryError:  # not the file's fault: the guard says which step ran out
        raise
    except (pa.ArrowException, UnicodeError, LookupError, ValueError) as err:
        raise ValidationError(
            f"cannot read CSV {str(source)!r} (delimiter {delim!r}, encoding {enc}): {err}"
        ) from err
    frame = table.to_pandas()
    logger.info(
        "read %d rows x %d columns from %s (delimiter %r, encoding %s)",
        len(frame),
        len(header),
        source.name,
        delim,
        enc,
    )
    bad = pd.DataFrame(malformed, columns=["line", "raw_line"])
    # Record number (header excluded) of each malformed line; exact unless a quoted field
    # before it spans several lines.
    bad["row"] = bad["line"].astype("Int64") - layout.skip
    if len(bad):
        logger.warning("%d line(s) of %s do not have %d fields", len(bad), source.name, len(header))
    return RawRecords(
        frame=frame,
        source=source,
        format="csv",
        delimiter=delim,
        encoding=enc,
        malformed=bad,
        layout=layout.layout(len(frame) + len(bad)),
    )


def _arrow_encoding(name: str) -> str:
    # pyarrow skips a UTF-8 BOM itself and names UTF-8 'utf8'.
    return "utf8" if name.lower().replace("-", "") in ("utf8", "utf8sig") else name


def _check_header(header: list[str], source: Path) -> None:
    if any(not h for h in header):
        positions = [i + 1 for i, h in enumerate(header) if not h]
        raise ValidationError(
            f"records file {str(source)!r} has unnamed column(s) at position(s) "
            f"{preview(positions)}; give every column a header"
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise ValidationError(
            f"records file {str(source)!r} repeats column name(s) {preview(dupes)}; "
            "column names must be unique"
        )


def _read_excel(source: Path, *, sheet: str | None, columns: Columns | None = None) -> RawRecords:
    """A workbook's records: the header found below title rows, merged and two-row
    headers read, number cells as their digits
    (:func:`klastergeo.io.registry.sheets.read_workbook`)."""
    table = sheets.read_workbook(source, sheet=sheet, candidates=known_names(columns))
    _check_header(list(table.frame.columns), source)
    return RawRecords(
        frame=table.frame,
        source=source,
        format="excel",
        numbers=table.rows,
        typed_columns=table.typed,
        layout=table.layout,
        implied=table.implied,
    )


def _read_parquet(source: Path) -> RawRecords:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(source)
        names = [str(n) for n in schema.names]
        _check_header(names, source)
        metadata = schema.metadata or {}
        if b"geo" in metadata:
            geo = gpd.read_parquet(source)
            return _from_geodataframe(_as_text(geo, source), source, "geoparquet")
        frame = _as_text(pq.read_table(source).to_pandas(), source)
    except ValidationError:
        raise
    except MemoryError:  # not the file's fault: the guard says which step ran out
        raise
    except Exception as err:  # pyarrow raises many types for a damaged file
        raise ValidationError(
            f"cannot read {str(source)!r} as Parquet ({type(err).__name__}: {err})"
        ) from err
    return RawRecords(frame=frame.reset_index(drop=True), source=source, format="parquet")


def _as_text(frame: pd.DataFrame, source: Path) -> pd.DataFrame:
    """Binary columns (Parquet ``binary``) as UTF-8 text; bytes that are not UTF-8 are
    refused, naming the column (no value is silently replaced)."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object or isinstance(values.dtype, gpd.array.GeometryDtype):
            continue
        raw = values.map(lambda v: isinstance(v, bytes | bytearray))
        if not raw.any():
            continue
        try:
            decoded = values[raw].map(lambda v: bytes(v).decode("utf-8"))
        except UnicodeDecodeError as err:
            raise ValidationError(
                f"column {column!r} of {str(source)!r} holds binary values that are not "
                f"UTF-8 text ({err.reason} at byte {err.start}); store it as text"
            ) from None
        frame[column] = values.where(~raw, decoded)
    return frame


def _read_gis(source: Path, *, layer: str | None) -> RawRecords:
    try:
        frame = gpd.read_file(source, layer=layer, engine="pyogrio")
    except MemoryError:  # not the file's fault: the guard says which step ran out
        raise
    except Exception as err:  # pyogrio raises its own DataSourceError family
        raise ValidationError(f"cannot read {str(source)!r} as a GIS file: {err}") from err
    return _from_geodataframe(frame, source, source.suffix.lower().lstrip("."))


def _from_geodataframe(frame: gpd.GeoDataFrame, source: Path, fmt: str) -> RawRecords:
    frame = frame.reset_index(drop=True)
    geometry = frame.geometry
    xy = None
    if len(frame) and geometry.notna().any():
        kinds = set(geometry.dropna().geom_type.unique())
        if kinds <= {"Point"}:
            _check_point_units(geometry, source)
            if geometry.crs is None:
                logger.warning(
                    "%s has no CRS; reading its points as longitude/latitude", source.name
                )
            elif geometry.crs.to_epsg() != 4326:
                geometry = geometry.to_crs(4326)
            empty = (geometry.isna() | geometry.is_empty).to_numpy()
            xs = np.full(len(frame), np.nan)
            ys = np.full(len(frame), np.nan)
            xs[~empty] = geometry[~empty].x.to_numpy(dtype=float)
            ys[~empty] = geometry[~empty].y.to_numpy(dtype=float)
            xy = (xs, ys)
        else:
            logger.warning(
                "%s has %s geometries, not points; coordinates must come from columns",
                source.name,
                ", ".join(sorted(kinds)),
            )
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    plain["geometry"] = frame.geometry.to_wkt()
    return RawRecords(frame=plain, source=source, format=fmt, xy=xy)


def _check_point_units(geometry: gpd.GeoSeries, source: Path) -> None:
    """Points in the units of their CRS: most of them within +-180/+-90 where there
    is no CRS (they are read as degrees) or a geographic one; not all of them in that
    range under a projected CRS (degrees labelled wrongly). A few points out of range
    are rows to reject (``out_of_range``), not a wrong CRS."""
    points = geometry[geometry.notna() & ~geometry.is_empty]
    if not len(points):
        return
    x, y = points.x.to_numpy(dtype=float), points.y.to_numpy(dtype=float)
    degrees = (np.abs(x) <= 180) & (np.abs(y) <= 90)
    shown = ", ".join(
        f"{axis} {_number(np.nanmin(v))} to {_number(np.nanmax(v))}"
        for axis, v in (("x", x), ("y", y))
    )
    crs = geometry.crs
    if crs is not None and not crs.is_geographic:
        if degrees.all():
            raise ValidationError(
                f"{str(source)!r} declares a projected CRS ({crs.name}), but every point "
                f"({shown}) fits in the range of degrees: the CRS is wrong; set the one "
                "the coordinates are in (EPSG:4326 for longitude/latitude; a GeoDataFrame: "
                "frame.set_crs(4326, allow_override=True))"
            )
        return
    if degrees.mean() >= 0.5:
        return
    said = "has no CRS" if crs is None else f"declares a geographic CRS ({crs.name})"
    raise ValidationError(
        f"{str(source)!r} {said}, but {int((~degrees).sum())} of its {len(points)} points "
        f"({shown}) are not degrees (longitude within +-180, latitude within +-90): they "
        "are projected. Set the CRS they are in, e.g. EPSG:32749 (UTM zone 49S) with "
        "ogr2ogr -a_srs EPSG:32749, or for a GeoDataFrame frame.set_crs(32749, "
        "allow_override=True)"
    )


def _number(value: float) -> str:
    """A coordinate for a message: metres whole (9,100,020), degrees as written."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.6g}"


# --------------------------------------------------------------------------------------
# DataFrames (the Python API)
# --------------------------------------------------------------------------------------

#: What pyarrow raises for a pandas column it cannot convert or Parquet cannot store.
_ARROW_ERRORS = (pa.ArrowException, TypeError, ValueError, OverflowError, UnicodeError)
#: The id column a DataFrame's unnamed index becomes (a name :data:`CANDIDATES` knows).
INDEX_ID = "record_id"
_FRAME = "the records DataFrame"


@dataclass(frozen=True)
class StagedFrame:
    """A DataFrame written as a registry file by :func:`stage_frame`.

    ``id_col`` is the column holding the frame's index when the index gives the record
    ids (pass it as the id column); None when the frame has its own id column or its
    rows are numbered.
    """

    path: Path
    id_col: str | None
    n_rows: int


def stage_frame(
    frame: pd.DataFrame, path: str | Path, *, columns: Columns | None = None
) -> StagedFrame:
    """Write a registry held in a DataFrame to ``path`` as (Geo)Parquet, the way a
    registry file is read: every frame gives a file or a :class:`ValidationError`
    naming the column and what is accepted.

    - **Index.** The default index (unnamed, 0, 1, ..., n-1) is row positions: records
      are numbered 1, 2, ... in frame order, as the rows of a file. Any other index is
      data: its named levels become columns of that name; and when the frame has no id
      column (none named by ``columns.id``, none of the recognised names such as ``id``
      or ``id_usaha``), a one-level index gives the record ids as text (``id_col`` of
      the result): a named index, or the labels of a filtered or sorted frame, so that
      firms join back to the frame's rows. A MultiIndex cannot be the id: name one
      column instead. An unnamed index beside an id column is dropped.
    - **Column names** are text, unique and not empty; a MultiIndex of columns is
      refused (flatten it first).
    - **Values.** Numbers, text, booleans, dates, categoricals and the nullable
      extension types (``Int64``, ``string``, ``boolean``) are written as they are;
      sparse columns densified and ``float16`` widened to ``float32``; what Parquet
      cannot hold (numbers and text mixed in one ``object`` column, complex numbers,
      Python objects) is written as text, as a CSV file would hold it (a whole number
      stored as a float as ``31001``, not ``31001.0``). Text that is not valid Unicode
      (a lone surrogate) or bytes that are not UTF-8 are refused.
    - **Geometry.** A GeoDataFrame keeps its active geometry and CRS (points give the
      coordinates, reprojected to degrees when read); its other geometry columns and
      those of a plain DataFrame holding more than one are written as WKT text; a
      plain DataFrame with one geometry column is read as a GeoDataFrame of it.

    Parameters
    ----------
    frame
        The registry, one row per record.
    path
        The Parquet file to write (its folder must exist).
    columns
        The column mapping of the run; ``columns.id`` decides whether the frame has an
        id column.

    Returns
    -------
    StagedFrame
        The file, the id column the index became (or None) and the number of rows.

    Raises
    ------
    ValidationError
        If the frame cannot be a registry (no rows or columns, repeated or empty column
        names, an index that cannot be the id, text that is not Unicode).

    Examples
    --------
    Ids held in the index (a frame indexed by the business id):

    >>> import tempfile
    >>> frame = pd.DataFrame(
    ...     {"lat": [-7.5, -7.6], "lon": [110.2, 110.3], "kbli": ["31001", "10710"]},
    ...     index=pd.Index(["B-17", "B-20"], name="nib"),
    ... )
    >>> staged = stage_frame(frame, Path(tempfile.mkdtemp()) / "records.parquet")
    >>> staged.id_col, read_records(staged.path).frame["nib"].tolist()
    ('nib', ['B-17', 'B-20'])
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(
            f"records must be a pandas DataFrame or a file path, not {type(frame).__name__}"
        )
    out_path = Path(path)
    table = _frame_columns(frame)
    table, id_col = _index_columns(table, frame.index, columns)
    if not len(table.columns):
        raise ValidationError(
            f"{_FRAME} has no columns; it needs at least latitude, longitude and KBLI columns"
        )
    if not len(table):
        raise ValidationError(
            f"{_FRAME} has no rows (columns: {', '.join(map(str, table.columns))}); a run "
            "needs at least one record"
        )
    table = _frame_geometry(table)
    geometry = table.geometry.name if isinstance(table, gpd.GeoDataFrame) else None
    plain, arrow = _storable(pd.DataFrame(table.drop(columns=[geometry] if geometry else [])))
    try:
        if geometry is not None:
            gpd.GeoDataFrame(
                plain.assign(**{geometry: table.geometry.to_numpy()}),
                geometry=geometry,
                crs=table.crs,
            ).to_parquet(out_path, index=False)
        else:
            import pyarrow.parquet as pq

            pq.write_table(arrow, out_path)
    except OSError as err:
        from klastergeo.errors import OutputError

        raise OutputError(
            f"cannot write {_FRAME} to the temporary file {str(out_path)!r}: "
            f"{err.strerror or err}; set TMPDIR to a folder with room"
        ) from err
    return StagedFrame(out_path, id_col, len(table))


def _frame_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with text column names, each present, unique and valid Unicode."""
    if isinstance(frame.columns, pd.MultiIndex):
        raise ValidationError(
            f"{_FRAME} has {frame.columns.nlevels} levels of column names (a MultiIndex, "
            f"e.g. {frame.columns[0]!r}); give it one name per column, e.g. "
            "frame.columns = ['_'.join(map(str, c)) for c in frame.columns]"
        )
    names = list(frame.columns)
    problems = []
    unnamed = [i + 1 for i, n in enumerate(names) if _missing_name(n)]
    if unnamed:
        problems.append(f"unnamed column(s) at position(s) {preview(unnamed)}")
    text = ["" if _missing_name(n) else str(n) for n in names]
    bad = [t for t in text if not _unicode(t)]
    if bad:
        problems.append(f"column name(s) {preview(bad)} that are not valid Unicode text")
    counts = pd.Series(text).value_counts()
    repeated = [t for t in counts.index[counts > 1] if t]
    if repeated:
        where = "; ".join(
            f"{t!r} at positions {', '.join(str(i + 1) for i, n in enumerate(text) if n == t)}"
            for t in repeated[:5]
        )
        problems.append(f"repeated column name(s) ({where})")
    if problems:
        raise ValidationError(
            f"{_FRAME} has " + "; ".join(problems) + ": every column needs its own name "
            "(rename them, e.g. frame.columns = [...], or drop the extra ones)"
        )
    out = frame.copy(deep=False)
    out.columns = pd.Index(text, dtype=object)
    return out


def _missing_name(name: object) -> bool:
    if name is None or (isinstance(name, str) and not name.strip()):
        return True
    try:
        return bool(pd.isna(name))  # type: ignore[call-overload]
    except (TypeError, ValueError):  # a tuple or other container as a name
        return False


def _utf8(value: bytes | bytearray) -> bool:
    try:
        bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _index_columns(
    table: pd.DataFrame, index: pd.Index, columns: Columns | None
) -> tuple[pd.DataFrame, str | None]:
    """The frame's index as data (see :func:`stage_frame`), and the id column it gives."""
    table = table.reset_index(drop=True)
    if index.nlevels == 1 and index.name is None and index.equals(pd.RangeIndex(len(index))):
        return table, None  # the default index, 0 .. n-1: row positions
    levels = [index.get_level_values(i) for i in range(index.nlevels)]
    names = [None if _missing_name(n) else str(n) for n in index.names]
    for level, name in zip(levels, names, strict=True):
        if name is None:
            continue
        if name in table.columns:
            same = table[name].reset_index(drop=True).equals(pd.Series(level, name=name))
            if same:  # frame.set_index("id", drop=False): the column is the index
                continue
            raise ValidationError(
                f"{_FRAME} has an index level and a column both named {name!r} with "
                "different values; rename one (frame.rename_axis(...) or frame.rename(...))"
            )
        table[name] = level
    given = columns.id if columns is not None else None
    found = headers.detect([str(c) for c in table.columns if c not in names]).found
    has_id = given is not None or bool(found["id"])
    if has_id:
        return table, None
    if index.nlevels > 1:
        shown = ", ".join(repr(n) if n else "unnamed" for n in names)
        raise ValidationError(
            f"{_FRAME} has no id column and a {index.nlevels}-level index ({shown}); a "
            "record id is one column: index the frame by one column, or reset the index "
            "and name the id column (options={'columns.id': ...})"
        )
    if names[0] is not None:
        return table, names[0]
    name = INDEX_ID
    while name in table.columns:
        name = f"_{name}"
    table[name] = levels[0]
    logger.info("the records DataFrame's index gives the record ids (column %r)", name)
    return table, name


def _frame_geometry(table: pd.DataFrame) -> pd.DataFrame:
    """One active geometry at most: a GeoDataFrame's own, or a plain frame's only
    geometry column; other geometry columns as WKT text."""
    active = None
    if isinstance(table, gpd.GeoDataFrame) and table.active_geometry_name in table.columns:
        active = table.active_geometry_name
    kinds = [c for c in table.columns if isinstance(table[c].dtype, gpd.array.GeometryDtype)]
    if active is None and len(kinds) == 1:
        active = kinds[0]
    plain = pd.DataFrame(table)
    for column in kinds:
        if column != active:
            logger.info("geometry column %r of %s is kept as WKT text", column, _FRAME)
            plain[column] = gpd.GeoSeries(plain[column]).to_wkt()
    if active is None:
        return plain
    return gpd.GeoDataFrame(plain, geometry=active, crs=gpd.GeoSeries(plain[active]).crs)


def _storable(frame: pd.DataFrame) -> tuple[pd.DataFrame, pa.Table]:
    """Each column as Parquet can hold it (see :func:`stage_frame`), and the frame as an
    Arrow table (one conversion of the whole frame when every column converts as it is)."""
    frame = frame.copy(deep=False)
    for column in frame.columns:
        dtype = frame[column].dtype
        if isinstance(dtype, pd.SparseDtype):
            frame[column] = pd.Series(np.asarray(frame[column]), index=frame.index)
        elif dtype == np.float16:
            frame[column] = frame[column].astype(np.float32)
        elif pd.api.types.is_complex_dtype(dtype):
            frame[column] = _text_column(frame[column], column)
    table = _arrow(frame)
    if table is not None:
        return frame, table
    for column in frame.columns:
        if frame[column].dtype.kind in "biufmM":  # numpy numbers and times always convert
            continue
        if _arrow(frame[[column]]) is None:
            logger.info("column %r of %s is written as text", column, _FRAME)
            frame[column] = _text_column(frame[column], column)
    table = _arrow(frame)
    if table is None:  # pragma: no cover - text columns always convert
        raise ValidationError(f"{_FRAME} cannot be stored; convert its columns to numbers or text")
    return frame, table


def _arrow(frame: pd.DataFrame) -> pa.Table | None:
    """``frame`` as an Arrow table, or None where pyarrow cannot convert a column or
    Parquet cannot store its type."""
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table.schema.empty_table(), io.BytesIO())
    except _ARROW_ERRORS:
        return None
    return table


def _text_column(values: pd.Series, column: str) -> pd.Series:
    """A column as text, the way a CSV file holds it: missing values stay missing,
    whole numbers stored as floats lose their '.0', bytes are decoded as UTF-8. Each
    kind of value is converted as an array (``str()`` called from numpy's C loop)."""
    objects = values.astype(object).to_numpy(dtype=object)
    kinds = _TYPE(objects)  # the builtin type(), called from C
    texts = objects.copy()
    missing = pd.isna(objects)
    floats = ~missing & _kind(kinds, float, np.float64)
    if floats.any():
        numbers = objects[floats].astype(float)
        whole = np.isfinite(numbers) & (np.abs(numbers) < 2**53)
        whole &= np.floor(np.where(whole, numbers, 0.0)) == np.where(whole, numbers, 0.0)
        shown = numbers.astype(str).astype(object)
        shown[whole] = numbers[whole].astype(np.int64).astype(str).astype(object)
        texts[floats] = shown
    raw = ~missing & _kind(kinds, bytes, bytearray)
    if raw.any():
        try:
            texts[raw] = [bytes(v).decode("utf-8") for v in objects[raw]]
        except UnicodeDecodeError:
            bad = [i for i in np.flatnonzero(raw) if not _utf8(objects[i])]
            raise ValidationError(
                f"column {column!r} of {_FRAME} holds bytes that are not UTF-8 text (rows "
                f"{preview(np.asarray(bad) + 1)}); decode them (e.g. .str.decode('cp1252')) "
                "or drop them"
            ) from None
    rest = ~missing & ~floats & ~raw & ~_kind(kinds, str)
    if rest.any():  # ints, booleans, complex numbers, Python objects
        texts[rest] = objects[rest].astype(str).astype(object)
    texts[missing] = None
    # an object Series, not Series.map: no dtype is inferred (pandas would make text
    # holding a lone surrogate an Arrow string, and fail)
    out = pd.Series(texts, index=values.index, dtype=object)
    try:
        pa.array(out, type=pa.large_string(), from_pandas=True)
    except UnicodeEncodeError:
        bad = np.frompyfunc(lambda t: isinstance(t, str) and not _unicode(t), 1, 1)(texts).astype(
            bool
        )
        raise ValidationError(
            f"column {column!r} of {_FRAME} holds text that is not valid Unicode (a lone "
            f"surrogate such as {preview(texts[bad][:1])}) in {int(bad.sum())} row(s) "
            f"({preview(np.flatnonzero(bad) + 1)}); repair it, e.g. "
            ".str.encode('utf-8', 'replace').str.decode('utf-8')"
        ) from None
    return out


def _kind(kinds: NDArray[np.object_], *types: type) -> NDArray[np.bool_]:
    """Whether each of ``kinds`` (the types of an object array's values) is one of
    ``types``."""
    return np.isin(kinds, np.asarray(types, dtype=object))


# --------------------------------------------------------------------------------------
# Column mapping
# --------------------------------------------------------------------------------------


def resolve_columns(
    frame_columns: list[str],
    columns: Columns | None = None,
    *,
    has_geometry: bool = False,
    need_sector: bool = True,
    implied: Mapping[str, str] | None = None,
) -> Columns:
    """Complete a column mapping: check the given names, detect the missing ones.

    Raises :class:`ValidationError` naming the missing role, the file's columns and the
    flag to pass.

    Parameters
    ----------
    frame_columns
        The file's column names.
    columns
        Names given by the user; a given name must be in ``frame_columns``. Roles left
        None are detected from :data:`CANDIDATES` (:func:`klastergeo.io.registry.headers.detect`:
        ignoring case, spacing, punctuation and the unit, a header being a role's column
        only when its words are one of the role's phrases). Where columns of two
        phrases of a role are found, the phrase listed first wins (logged; see
        :meth:`ValidationReport.summary`); columns that differ only in case,
        punctuation or unit are an error. None detects every role.
    has_geometry
        Whether the file has a geometry (a GIS layer), so that latitude and longitude
        columns are not required.
    need_sector
        Whether the command needs each record's sector (finding sentra does); False for
        one that does not (``klastergeo model`` of a registry column on a survey
        without KBLI codes), which then leaves ``sector`` None when none is found.
    implied
        Role -> a column that stands for the role where no column is given or detected
        for it (:attr:`RawRecords.implied`: the sheet's name for the kecamatan).

    Returns
    -------
    Columns
        The mapping, with every detected column filled in (optional roles not found stay
        None).

    Examples
    --------
    >>> resolve_columns(["id_usaha", "lintang", "bujur", "kbli"]).lat
    'lintang'
    >>> cols = resolve_columns(["Lintang", "Bujur", "KBLI 2020", "Jml TK", "Nilai Produksi (Rp)"])
    >>> cols.sector, cols.workers, cols.output
    ('KBLI 2020', 'Jml TK', 'Nilai Produksi (Rp)')
    """
    given = columns or Columns()
    explicit = [v for v in vars(given).values() if v is not None]
    detection = headers.detect(frame_columns, skip=explicit)
    resolved: dict[str, str | None] = {}
    problems: list[str] = []
    for role in vars(given):
        chosen = getattr(given, role)
        if chosen is not None:
            if chosen not in frame_columns:
                close = difflib.get_close_matches(chosen, frame_columns, n=3)
                hint = f" (did you mean {preview(close)}?)" if close else ""
                problems.append(f"column {chosen!r} for {role} is not in the file{hint}")
            resolved[role] = chosen
            continue
        groups = detection.found.get(role, [])
        if groups and len(groups[0]) > 1:
            flag = f"--{role.replace('_', '-')}-col"
            problems.append(
                f"columns {preview(groups[0])} differ only in case, punctuation or unit and "
                f"could each be the {role} column; pass {flag} with the one to use"
            )
            resolved[role] = None
            continue
        resolved[role] = groups[0][0] if groups else None
        if groups:
            logger.info("using column %r as %s", groups[0][0], role)
        passed = detection.passed_over(role)
        if passed:
            flag = f"--{role.replace('_', '-')}-col"
            logger.warning(
                "column %r is taken as %s before %s (its name comes first in the synonyms "
                "table); pass %s to take another",
                groups[0][0], role, preview(passed), flag,
            )  # fmt: skip
    for role, column in (implied or {}).items():
        if resolved.get(role) is None and column in frame_columns:
            resolved[role] = column
            logger.warning(
                "no %s column: column %r (each sheet's name) stands for it", role, column
            )
    placed_by_area = any(resolved.get(role) is not None for role in PLACEMENT_ROLES)
    paired = resolved.get("coordinates") is not None
    for role in _REQUIRED:
        if role in ("lat", "lon") and (has_geometry or placed_by_area or paired):
            continue
        if role == "sector" and not need_sector:
            continue
        if resolved[role] is None and not any(f"be the {role} column" in p for p in problems):
            flag = {"lat": "--lat-col", "lon": "--lon-col", "sector": "--sector-col"}[role]
            where = (
                " (or --coords-col NAME for one column holding both, or place records by "
                "area: --area-code-col, --desa-col, --kecamatan-col)"
                if role in ("lat", "lon")
                else " (the KBLI code of each firm: sentra are found per sector; "
                "`klastergeo model --outcome COLUMN` needs none)"
            )
            problems.append(f"no {role} column found; pass {flag} NAME{where}")
    if problems:
        raise ValidationError(
            "; ".join(problems) + f". The file's columns are: {', '.join(frame_columns)}"
        )
    return Columns(**resolved)


def single_values(frame: pd.DataFrame, cols: Columns) -> pd.DataFrame:
    """``frame`` with lists, arrays and records in its mapped columns (id, coordinates,
    KBLI, amounts, name) written as text, as a CSV file would hold them: they are then
    checked as any other value (a list of codes is an invalid sector, a list of numbers
    an invalid value), not a crash. Other columns are carried as they are.

    Parameters
    ----------
    frame
        Records (or one batch of them), as read.
    cols
        The column mapping (:func:`resolve_columns`).

    Returns
    -------
    DataFrame
        ``frame`` itself when no mapped column holds such values, else a copy.

    Examples
    --------
    >>> frame = pd.DataFrame({"kbli": [["31001", "10710"], "13134"], "tags": [[1], [2]]})
    >>> single_values(frame, Columns(sector="kbli"))["kbli"].tolist()
    ["['31001', '10710']", '13134']
    """
    out = frame
    for name in dict.fromkeys(v for v in vars(cols).values() if v is not None):
        if name not in frame.columns or frame[name].dtype != object:
            continue
        values = frame[name].to_numpy(dtype=object)
        nested = _NESTED(values).astype(bool)
        if nested.any():
            if out is frame:
                out = frame.copy()
            values = values.copy()
            values[nested] = [
                repr(v.tolist() if isinstance(v, np.ndarray) else v) for v in values[nested]
            ]
            out[name] = pd.Series(values, index=frame.index, dtype=object)
    return out


#: The type of each value of an object array.
_TYPE = np.frompyfunc(type, 1, 1)
#: Whether each value is a list, tuple, dict, set or array (a nested Parquet value).
_NESTED = np.frompyfunc(lambda v: isinstance(v, list | tuple | dict | set | np.ndarray), 1, 1)


# --------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------

#: Number formats of each decimal mark (after blanks and a leading "Rp" are removed):
#: plain numbers with an optional decimal part and exponent, and three-digit groups.
_FORMATS: dict[str, tuple[str, ...]] = {
    ".": (
        r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$",  # 110.25, -7.5, 15, 1e3
        r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$",  # 1,234,567 and 1,234.5
    ),
    ",": (
        r"^[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?$",  # -7,5 and 15
        r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$",  # 1.234.567 and 1.234,5
    ),
}


@dataclass(frozen=True)
class NumberFormat:
    """How one column writes its numbers, decided once for the whole column.

    ``decimal`` is the decimal mark ("." or ","); the other mark may only group thousands.
    ``decided_by`` says why: ``"values"`` (its values show it: ``-7,5`` or ``1.234,5`` show
    a decimal comma, ``110.25`` or ``1,234.5`` a decimal point; a coordinate's single mark
    is always decimal), ``"file"`` (the column's values fit both, e.g. ``1.234``, and the
    file's other columns decide), ``"delimiter"`` (nothing in the file decides: a
    ``;``-delimited file, as spreadsheets of a decimal-comma locale export, uses ``,``,
    any other ``.``), ``"option"`` (``records.decimal``) or ``"typed"`` (the file stores
    numbers, not text). ``comma``/``point`` count the values that show each mark;
    ``conflicts`` those that contradict the decision (they are invalid).
    """

    decimal: str
    decided_by: str
    comma: int = 0
    point: int = 0
    conflicts: int = 0

    def to_dict(self) -> dict[str, Any]:
        thousands = {".": ",", ",": "."}.get(self.decimal)
        return {
            "decimal": self.decimal,
            "thousands": thousands,
            "decided_by": self.decided_by,
            "values_with_comma": self.comma,
            "values_with_point": self.point,
            "conflicts": self.conflicts,
        }


def _delimiter_default(delimiter: str | None) -> str:
    return "," if delimiter == ";" else "."


def _matches(text: pa.Array, decimal: str) -> NDArray[np.bool_]:
    first, second = _FORMATS[decimal]
    either = pc.or_(pc.match_substring_regex(text, first), pc.match_substring_regex(text, second))
    return _np(either)


def _evidence(
    text: pa.Array, empty: NDArray[np.bool_], *, coordinate: bool = False
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Values that can only be read with a decimal comma, and with a decimal point.

    A value that fits both (``1.234``, ``15``) shows neither. In a coordinate a single
    mark is always decimal (no latitude or longitude has thousands)."""
    n_comma = _np(pc.count_substring(text, ","))
    n_dot = _np(pc.count_substring(text, "."))
    marked = ~empty & ((n_comma > 0) | (n_dot > 0))
    comma = np.zeros(len(empty), dtype=bool)
    point = np.zeros(len(empty), dtype=bool)
    if not marked.any():
        return comma, point
    rows = np.flatnonzero(marked)
    subset = text if len(rows) == len(text) else text.take(pa.array(rows))
    as_comma = _matches(subset, ",")
    as_point = _matches(subset, ".")
    comma[rows] = as_comma & ~as_point
    point[rows] = as_point & ~as_comma
    if coordinate:
        single = (n_comma[rows] + n_dot[rows]) == 1
        comma[rows] |= single & (n_comma[rows] == 1) & as_comma
        point[rows] |= single & (n_dot[rows] == 1) & as_point
    return comma, point


def _prepare(values: pd.Series) -> tuple[pa.Array, NDArray[np.bool_]]:
    text = _clean_text(_arrow_text(values))
    empty = _np(pc.is_in(pc.utf8_lower(text), value_set=pa.array(_NA_TOKENS)))
    return text, empty


def number_format(
    values: pd.Series,
    *,
    decimal: Decimal = "auto",
    fallback: str | None = None,
    delimiter: str | None = None,
    coordinate: bool = False,
) -> NumberFormat:
    """Decide how a column writes its numbers (see :class:`NumberFormat`).

    ``fallback`` is the file's decimal mark, used when the column's own values fit both
    marks; without it the delimiter decides.

    Parameters
    ----------
    values
        The column. A numeric or boolean column is ``"typed"`` with a decimal point.
    decimal
        ``"auto"`` to decide from the values, or ``"."`` or ``","`` to force the mark
        (``records.decimal``).
    fallback
        The file's decimal mark (:func:`file_decimal`), or None.
    delimiter
        The CSV delimiter, the last resort: ``;`` means a decimal comma, anything else
        (or None) a decimal point.
    coordinate
        Whether the column holds latitudes or longitudes, in which a single mark is
        always decimal.

    Returns
    -------
    NumberFormat
        The decision, with its reason and the evidence counted.

    Examples
    --------
    >>> number_format(pd.Series(["1.234", "-7,5"])).decimal
    ','
    >>> number_format(pd.Series(["1.234", "15"]), delimiter=",").decided_by
    'delimiter'
    """
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return NumberFormat(decimal=".", decided_by="typed")
    text, empty = _prepare(values)
    comma, point = _evidence(text, empty, coordinate=coordinate)
    return _decide(
        int(comma.sum()), int(point.sum()), decimal=decimal, fallback=fallback, delimiter=delimiter
    )


def _decide(
    n_comma: int, n_point: int, *, decimal: Decimal, fallback: str | None, delimiter: str | None
) -> NumberFormat:
    """The decimal mark of a column whose values show ``n_comma`` and ``n_point``."""
    chosen: str
    if decimal != "auto":
        chosen, why = str(decimal), "option"
    elif n_comma != n_point:
        chosen, why = ("," if n_comma > n_point else "."), "values"
    elif fallback is not None:
        chosen, why = fallback, "file"
    else:
        chosen, why = _delimiter_default(delimiter), "delimiter"
    conflicts = n_point if chosen == "," else n_comma
    return NumberFormat(chosen, why, comma=n_comma, point=n_point, conflicts=conflicts)


def file_decimal(formats: Mapping[str, NumberFormat]) -> str | None:
    """The decimal mark the columns of one file show between them (None if none does).

    Parameters
    ----------
    formats
        The :func:`number_format` of each column, by name; ``"typed"`` columns do not
        count. The mark shown by more values wins; a tie gives None.

    Returns
    -------
    str or None
        ``"."``, ``","`` or None.
    """
    comma = sum(f.comma for f in formats.values() if f.decided_by != "typed")
    point = sum(f.point for f in formats.values() if f.decided_by != "typed")
    if comma == point:
        return None
    return "," if comma > point else "."


def parse_numbers(
    values: pd.Series,
    *,
    decimal: Decimal = "auto",
    delimiter: str | None = None,
    fmt: NumberFormat | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """Parse text numbers as Indonesian and international spreadsheets write them.

    Returns ``(numbers, empty, invalid)``: floats (NaN where empty or invalid), a mask of
    empty cells and a mask of non-empty cells that are not finite numbers in the column's
    format (``inf``, ``1e999`` and 400-digit numbers are invalid).

    One rule reads the whole column: ``fmt`` (default: :func:`number_format` of the column
    with ``decimal`` and ``delimiter``). Thousands groups must have three digits, so codes
    such as ``33.74.07.1010`` stay text. With a decimal comma ``1.234`` is 1234 and
    ``1,5`` is 1.5; with a decimal point ``1.234`` is 1.234 and ``1,234`` is 1234. A value
    written with the other convention (``110.25`` in a decimal-comma column) is invalid.

    Parameters
    ----------
    values
        The column; numeric and boolean columns are taken as they are (only non-finite
        values are invalid).
    decimal, delimiter
        Passed to :func:`number_format` when ``fmt`` is None.
    fmt
        The column's number format, decided beforehand (e.g. with the file's decimal
        mark as fallback); None decides it here.

    Examples
    --------
    >>> nums, empty, bad = parse_numbers(pd.Series(["-7,5", "1.234,5", "110,25", "", "x"]))
    >>> nums.round(2).tolist()[:3], empty.tolist(), bad.tolist()
    ([-7.5, 1234.5, 110.25], [False, False, False, True, False], [False, False, False, False, True])
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype("Int64")
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = np.array(
            pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        )
        empty = values.isna().to_numpy()
        invalid = ~empty & ~np.isfinite(numbers)
        numbers[invalid] = np.nan
        return numbers, empty, invalid
    if fmt is None:
        fmt = number_format(values, decimal=decimal, delimiter=delimiter)
    text, empty = _prepare(values)
    numbers = np.full(len(values), np.nan)
    n_comma = _np(pc.count_substring(text, ","))
    n_dot = _np(pc.count_substring(text, "."))
    if not n_comma.any() and (fmt.decimal == "." or not n_dot.any()):
        # Fast path: plain numbers, which Arrow casts in one pass.
        try:
            cast = pc.cast(pc.if_else(pa.array(empty), None, text), pa.float64())
        except MemoryError:  # not the file's fault: the guard says which step ran out
            raise
        except pa.ArrowException:  # not all plain numbers: check each below
            pass
        else:
            numbers = np.array(_np(cast.fill_null(np.nan)), dtype=float)
            invalid = ~empty & ~np.isfinite(numbers)
            numbers[invalid] = np.nan
            return numbers, empty, invalid
    todo = ~empty
    if todo.any():
        rows = np.flatnonzero(todo)
        subset = text if len(rows) == len(text) else text.take(pa.array(rows))
        hit = _matches(subset, fmt.decimal)
        if hit.any():
            chosen = subset if hit.all() else subset.filter(pa.array(hit))
            if fmt.decimal == ",":
                chosen = pc.replace_substring(pc.replace_substring(chosen, ".", ""), ",", ".")
            else:
                chosen = pc.replace_substring(chosen, ",", "")
            numbers[rows[hit]] = _np(pc.cast(chosen, pa.float64()))
    invalid = ~empty & ~np.isfinite(numbers)
    numbers[invalid] = np.nan
    return numbers, empty, invalid


def _arrow_text(values: pd.Series) -> pa.Array:
    """The values as an Arrow string array (zero-copy for Arrow-backed text), nulls as ''."""
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array(values.astype("string"), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):  # large pandas columns hold several chunks
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        try:
            array = pc.cast(array, pa.large_string())
        except MemoryError:  # not the file's fault: the guard says which step ran out
            raise
        except pa.ArrowException:  # lists, structs: no number can be read from them
            array = pa.array(values.astype(str).to_numpy(dtype=object), type=pa.large_string())
    return array.fill_null("")


def _clean_text(text: pa.Array) -> pa.Array:
    """Trim blanks; drop inner blanks, apostrophes and a leading 'Rp' where present."""
    text = pc.utf8_trim(text, characters=" \t\u00a0")
    dirty = pc.match_substring_regex(text, "[\\s\u00a0']|^[Rr][Pp]")
    if not pc.any(dirty).as_py():
        return text
    cleaned = pc.replace_substring_regex(text.filter(dirty), pattern=r"(?i)^rp\.?", replacement="")
    cleaned = pc.replace_substring_regex(cleaned, pattern="[\\s\u00a0']", replacement="")
    return pc.replace_with_mask(text, dirty, cleaned)


def numeric_column(
    values: pd.Series,
    *,
    name: str = "column",
    decimal: Decimal = "auto",
    delimiter: str | None = None,
    fallback: str | None = None,
) -> pd.Series:
    """A column of numbers as floats, parsed as :func:`parse_numbers` does (its format
    decided once, with ``fallback``, the file's decimal mark, where its values fit both).

    Raises :class:`ValidationError` naming the column and offending values when a
    non-empty cell is not a finite number in the column's format.

    Parameters
    ----------
    values
        The column.
    name
        The column's name, as the error message gives it.
    decimal, delimiter, fallback
        As for :func:`number_format`.

    Returns
    -------
    Series
        Floats (NaN where empty), with the index and name of ``values``.

    Examples
    --------
    >>> numeric_column(pd.Series(["0,5", "", "2"]), name="skor").tolist()
    [0.5, nan, 2.0]
    """
    fmt = number_format(values, decimal=decimal, fallback=fallback, delimiter=delimiter)
    numbers, _, invalid = parse_numbers(values, fmt=fmt)
    if invalid.any():
        mark = {".": "a decimal point", ",": "a decimal comma"}[fmt.decimal]
        raise ValidationError(
            f"column {name!r} is not numeric: {int(invalid.sum())} value(s) such as "
            f"{preview(pd.Series(values).iloc[np.flatnonzero(invalid)].unique())} are not "
            f"finite numbers with {mark} ({fmt.decided_by}) as its other values use"
        )
    return pd.Series(numbers, index=values.index, name=values.name)


def _np(array: pa.Array) -> NDArray[Any]:
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _codes_as_text(values: pd.Series) -> pd.Series:
    """Sector codes as text; integral floats from typed files lose their '.0' (values
    that are not whole numbers of at most 9 digits stay as written, and are invalid)."""
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        codes = np.isfinite(numbers) & (np.abs(numbers) < 1e9)
        codes &= np.floor(np.where(codes, numbers, 0.0)) == np.where(codes, numbers, 0.0)
        text = values.astype("string")
        if codes.any():
            whole = pd.Series(np.where(codes, numbers, 0.0), index=values.index)
            text = text.mask(codes, whole.astype(np.int64).astype("string"))
        return text
    return values.astype("string")


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


@fill(example_registry=_EXAMPLE_REGISTRY)
def validate_records(
    raw: RawRecords,
    *,
    columns: Columns | None = None,
    areas: gpd.GeoDataFrame | None = None,
    snap_m: float = 100.0,
    sector_digits: int = 2,
    decimal: Decimal = "auto",
    units: Mapping[str, str | None] | None = None,
    places: placement.Gazetteer | None = None,
    crs: str | None = None,
) -> ValidationReport:
    """Check every record, reject bad rows with a reason, repair swapped coordinates.

    Parameters
    ----------
    raw
        Records from :func:`read_records`.
    columns
        Column mapping; unmapped roles are auto-detected (see :data:`CANDIDATES`).
    areas
        Study area polygons indexed by area code (any CRS). When given, records outside
        every area (beyond ``snap_m`` metres) are rejected, records whose swapped
        coordinates fall inside are repaired, and kept records get their ``area_code``.
    snap_m
        Records in a gap between areas or just off the coast within this distance go to
        the nearest area.
    sector_digits
        KBLI digits that make a sector (2 = division).
    decimal
        Decimal mark of text numbers (see :func:`parse_numbers`).
    units
        Units of the amounts given by the user (``{"output": "Rp"}``), overriding the
        unit their headers state; amounts are converted to Rp juta
        (:func:`klastergeo.io.registry.headers.measure_units`).
    places
        The study area's gazetteer: records without usable coordinates are placed by
        the area they name (see :func:`check_rows`).
    crs
        Coordinate reference system of the coordinates when they are not WGS84 degrees
        (``records.crs``, e.g. ``"EPSG:32749"``); they are transformed to WGS84. Without
        it, coordinates that are mostly beyond ±180 stop the validation
        (:class:`ValidationError`: they are metres of a projected CRS).

    Examples
    --------
    The registry of :func:`read_records`' example: a row repeated and a row whose
    latitude is 110 (its coordinates swapped; with ``areas`` it would be repaired).

    {example_registry}
    >>> report = validate_records(read_records(path))
    >>> report.n_kept, {reason: n for reason, n in report.by_reason.items() if n}
    (2, {'out_of_range': 1, 'duplicate_record': 1})
    >>> report.records["sector"].tolist()
    ['31', '13']
    """
    cols = resolve_columns(
        list(raw.frame.columns),
        columns,
        has_geometry=raw.xy is not None,
        implied=raw.implied,
    )
    raw, skipped = skip_rows(raw, cols)
    raw = dataclasses.replace(raw, frame=single_values(raw.frame, cols))
    # one number format per column; where a column's values fit both decimal marks, the
    # file's other columns decide
    formats = _number_formats(raw.frame, cols, decimal=decimal, delimiter=raw.delimiter)
    if crs is None:
        check_units(coordinate_units(raw.frame, cols), cols)
    measures = headers.measure_units(vars(cols), options=units)
    checked = check_rows(
        raw,
        cols,
        formats,
        areas=areas,
        snap_m=snap_m,
        sector_digits=sector_digits,
        places=places,
        crs=crs,
        units=measures,
    )
    _check_duplicates(checked)
    reason, detail = checked.checks.resolve()
    keep = reason == ""
    kept, renamed = checked.kept(keep, areas, sector_digits=sector_digits)
    rejected = _rejected_frame(raw, reason, detail)
    report = ValidationReport(
        records=kept,
        rejected=locate(rejected, raw.layout, row=_own_name(raw.frame.columns, "row")),
        repaired=locate(checked.repaired(keep), raw.layout),
        n_read=raw.n_read,
        columns=cols,
        number_formats=formats,
        decimal=file_decimal(formats),
        renamed=renamed,
        sector_typed=checked.sectors.typed,
        units=measures,
        header=tuple(map(str, raw.frame.columns)),
        outside=checked.outside(reason),
        placement=placements(kept),
        skipped=locate(skipped, raw.layout, sheet=True),
        layout=raw.layout,
        implied=implied_roles(raw, cols, columns),
    )
    logger.info(
        "records: %d read, %d kept, %d rejected, %d repaired, %d skipped (not firms)",
        report.n_read,
        report.n_kept,
        report.n_rejected,
        report.n_repaired,
        report.n_skipped,
    )
    return report


def placements(kept: pd.DataFrame) -> dict[str, int]:
    """Kept records by how they were placed (``point``, ``code``, ``name``).

    Parameters
    ----------
    kept
        Kept records (or one batch of them), with their ``placement`` column.
    """
    if "placement" not in kept:
        return {}
    counts = kept["placement"].value_counts()
    return {str(k): int(v) for k, v in counts.items()}


#: Formats whose rows people type, among which totals and footnotes sit.
_TYPED_FORMATS = ("csv", "excel")


def skip_rows(raw: RawRecords, cols: Columns) -> tuple[RawRecords, pd.DataFrame]:
    """The records less the rows that are not firms (totals, footnotes, blank rows, the
    header repeated: :func:`klastergeo.io.registry.sheets.classify_rows`), and those rows as
    ``skipped.csv`` lists them (``row``, ``kind``, ``text``). Only CSV and Excel files
    are looked at: other formats are written by programs.

    Parameters
    ----------
    raw
        The records, or one batch of them (with its record numbers).
    cols
        The column mapping (:func:`resolve_columns`).

    Returns
    -------
    tuple
        The records left (their record numbers kept) and the skipped rows.
    """
    if raw.format not in _TYPED_FORMATS or not len(raw.frame):
        return raw, _skipped_frame(None)
    implied = set(raw.implied.values())
    placing = [c for c in (cols.sector, cols.lat, cols.lon) if c is not None]
    others = [getattr(cols, r) for r in ("id", "name", "area_code", *PLACEMENT_ROLES[1:])]
    identifying = [c for c in dict.fromkeys([*placing, *others]) if c and c not in implied]
    kinds = sheets.classify_rows(raw.frame, identifying=identifying, placing=placing)
    skip = kinds != ""
    if not skip.any():
        return raw, _skipped_frame(None)
    rows = raw.rows
    text = np.full(int(skip.sum()), "", dtype=object)
    worded = (kinds != "blank")[skip]  # a blank row's text is empty: not looked at
    if worded.any():
        said = raw.frame.loc[skip & (kinds != "blank")]
        text[worded] = sheets.row_text(said).to_numpy(dtype=object)
    skipped = _skipped_frame(pd.DataFrame({"row": rows[skip], "kind": kinds[skip], "text": text}))
    counts = pd.Series(kinds[skip]).value_counts()
    logger.info(
        "%d row(s) of %s are not firms and are skipped: %s",
        int(skip.sum()),
        raw.source.name,
        ", ".join(f"{n} {kind}" for kind, n in counts.items()),
    )
    left = dataclasses.replace(raw, frame=raw.frame.loc[~skip], numbers=rows[~skip])
    return left, skipped


def _skipped_frame(frame: pd.DataFrame | None) -> pd.DataFrame:
    """``skipped.csv``'s rows (``row``, ``kind``, ``text``), empty when None."""
    if frame is None:
        frame = pd.DataFrame(
            {
                "row": pd.Series(dtype=np.int64),
                "kind": pd.Series(dtype=object),
                "text": pd.Series(dtype=object),
            }
        )
    return frame.reset_index(drop=True)


def locate(
    frame: pd.DataFrame, layout: sheets.Layout | None, *, row: str = "row", sheet: bool = False
) -> pd.DataFrame:
    """``frame`` (rows with their record number in column ``row``) with ``sheet_row``,
    the row the spreadsheet shows (and ``sheet``, its sheet, when ``sheet``), after
    ``row``; unchanged when the file has no layout (its header is its first line).

    Parameters
    ----------
    frame
        ``rejected``, ``repaired`` or ``skipped`` rows.
    layout
        The file's layout (:attr:`RawRecords.layout`), or None.
    row
        The column of record numbers.
    sheet
        Add the sheet's name too.
    """
    if layout is None:
        return frame
    return layout.locate(frame, row=row, sheet=sheet)


def _own_name(columns: Any, name: str) -> str:
    return f"{name}_klastergeo" if name in columns else name


def implied_roles(raw: RawRecords, cols: Columns, given: Columns | None) -> dict[str, str]:
    """The roles taken by a column that stands for them (:attr:`RawRecords.implied`)
    because no column was given or found for them.

    Parameters
    ----------
    raw
        The records as read.
    cols
        The column mapping used.
    given
        The mapping the user gave (None: none).
    """
    return {
        role: column
        for role, column in raw.implied.items()
        if getattr(cols, role) == column and (given is None or getattr(given, role) is None)
    }


@dataclass(frozen=True)
class _Place:
    """Coordinates as kept (swaps repaired; NaN for a record placed by its area alone),
    which rows were swapped, the position of each row's area in the study area (-1:
    none), how each row was placed (``point``, ``code``, ``name``), and the repairs of
    placement by area (``area_mismatch``, ``placed_by_area``: reason, detail and the
    coordinates as read)."""

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    repaired: NDArray[np.bool_]
    area_pos: NDArray[np.int64]
    how: NDArray[np.object_] | None = None
    area_repair: NDArray[np.object_] | None = None
    area_detail: NDArray[np.object_] | None = None
    input_lat: NDArray[np.float64] | None = None
    input_lon: NDArray[np.float64] | None = None


@dataclass(frozen=True)
class _Sectors:
    """KBLI codes as kept, which lost a leading zero that was put back, and whether the
    column held numbers."""

    codes: pd.Series
    restored: NDArray[np.bool_]
    typed: bool


@dataclass(frozen=True)
class Checked:
    """A batch of records after every check that looks at one row alone (all but the
    duplicates, which :func:`_check_duplicates` or the batch validation add)."""

    raw: RawRecords
    cols: Columns
    checks: _Checks
    place: _Place
    sectors: _Sectors
    numbers: dict[str, NDArray[np.float64]]
    ids: pd.Series

    def kept(
        self,
        keep: NDArray[np.bool_],
        areas: gpd.GeoDataFrame | None,
        *,
        sector_digits: int,
        points: bool = True,
    ) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
        """The rows of ``keep`` as kept firms (see :class:`ValidationReport`), and the
        input columns renamed because they bear one of klastergeo's names.

        Parameters
        ----------
        keep
            Which rows are kept.
        areas
            The study area (kept firms get the ``area_code`` of theirs), or None.
        sector_digits
            KBLI digits that make a sector.
        points
            Whether to make the point geometry (False: a plain frame, with ``lat`` and
            ``lon``, and no ``geometry`` column).
        """
        kept, renamed = _kept_frame(
            self.raw.frame,
            self.cols,
            keep,
            self.ids,
            self.place.lat,
            self.place.lon,
            self.sectors.codes,
            self.numbers,
            sector_digits,
            self.raw.rows,
            self.raw.xy is None,
            points,
        )
        if areas is not None:
            kept["area_code"] = np.asarray(areas.index, dtype=object)[self.place.area_pos[keep]]
        how = self.place.how
        kept["placement"] = how[keep] if how is not None else "point"
        return kept, renamed

    def outside(self, reason: NDArray[np.object_]) -> NDArray[np.float64]:
        """Record number, longitude and latitude of the rows rejected as
        ``outside_study_area`` (a sample of :data:`OUTSIDE_SAMPLE`, :func:`sample_outside`).

        Parameters
        ----------
        reason
            Each row's rejection reason (``""``: kept), as :meth:`_Checks.resolve` gives.
        """
        mask = np.asarray(reason == "outside_study_area", dtype=bool)
        rows = np.asarray(self.raw.rows, dtype=np.float64)[mask]
        return sample_outside(np.column_stack([rows, self.place.lon[mask], self.place.lat[mask]]))

    def repaired(self, keep: NDArray[np.bool_]) -> pd.DataFrame:
        """``repaired.csv`` rows of the kept rows.

        Parameters
        ----------
        keep
            Which rows are kept (a repaired row not kept is not listed).
        """
        return _repaired_frame(self.raw, keep, self.ids, self.place, self.sectors, self.cols.sector)


def check_rows(
    raw: RawRecords,
    cols: Columns,
    formats: Mapping[str, NumberFormat],
    *,
    areas: gpd.GeoDataFrame | None,
    snap_m: float,
    sector_digits: int,
    sector_lengths: NDArray[np.int64] | None = None,
    units: Mapping[str, headers.MeasureUnit] | None = None,
    places: placement.Gazetteer | None = None,
    crs: str | None = None,
) -> Checked:
    """Every check of one row alone: coordinates (and the study area), sector, values and
    a missing id.

    Parameters
    ----------
    raw
        The records, or one batch of them (with its record numbers).
    cols
        The column mapping (:func:`resolve_columns`).
    formats
        The number format of each numeric column, decided for the whole file.
    areas
        Study area polygons indexed by area code, or None for no location check.
    snap_m
        Snapping distance to the nearest area, in metres.
    sector_digits
        KBLI digits that make a sector.
    sector_lengths
        The whole sector column's :func:`klastergeo.kbli.length_counts` when ``raw`` is
        one batch of a file (:func:`sector_lengths`).
    units
        The unit of each measure column and its factor to the stated unit
        (:func:`klastergeo.io.registry.headers.measure_units`); None reads them from the headers.
    places
        The study area's gazetteer (:func:`klastergeo.io.registry.placement.gazetteer`): records
        without usable coordinates are placed by the area code or names they give, and
        a point far from the area named is listed; None: coordinates alone place.
    crs
        The CRS the coordinates are written in (``records.crs``); None: WGS84 degrees.

    Returns
    -------
    Checked
        The masks and details of every rejection so far, with the parsed values.
    """
    checks = _Checks(raw.frame)
    place = _check_coordinates(
        raw, cols, formats, checks, areas=areas, snap_m=snap_m, places=places, crs=crs
    )
    if cols.sector is None:  # a survey without KBLI codes (klastergeo model): no sector
        sectors = _Sectors(
            pd.Series(pd.NA, index=raw.frame.index, dtype=object),
            np.zeros(len(raw.frame), dtype=bool),
            False,
        )
    else:
        sectors = _check_sectors(
            raw.frame,
            cols.sector,
            checks,
            sector_digits=sector_digits,
            lengths=sector_lengths,
            typed=cols.sector in raw.typed_columns,
        )
    if units is None:
        units = headers.measure_units(vars(cols))
    numbers = _check_values(raw.frame, cols, formats, checks, units)
    ids = _check_missing_ids(raw, cols, checks)
    return Checked(raw, cols, checks, place, sectors, numbers, ids)


def sector_lengths(values: pd.Series) -> NDArray[np.int64]:
    """The KBLI-length evidence of a sector column (or one batch of it; counts add up).

    Parameters
    ----------
    values
        The sector column as read.

    Returns
    -------
    ndarray
        :func:`klastergeo.kbli.length_counts` of its codes.

    Examples
    --------
    >>> sector_lengths(pd.Series(["13134", "13134", "1110", "x"])).tolist()
    [0, 0, 0, 0, 1, 2, 0, 0]
    """
    position, distinct = pd.factorize(values, use_na_sentinel=False)
    return _weighted_lengths(pd.Series(distinct), np.bincount(position, minlength=len(distinct)))


def _weighted_lengths(distinct: pd.Series, counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """:func:`klastergeo.kbli.length_counts` of a column given as its distinct codes
    and how often each occurs."""
    text = kbli.normalise(_codes_as_text(distinct)).astype("string")
    valid = kbli.is_valid(text).to_numpy(dtype=bool)
    length = text.str.len().fillna(0).to_numpy(dtype=np.int64)
    out = np.bincount(length[valid], weights=counts[valid], minlength=kbli.MAX_DIGITS + 2)
    zero = text.str.startswith("0").fillna(False).to_numpy(dtype=bool)
    return np.append(out, counts[valid & zero].sum()).astype(np.int64)


def _check_coordinates(
    raw: RawRecords,
    cols: Columns,
    formats: Mapping[str, NumberFormat],
    checks: _Checks,
    *,
    areas: gpd.GeoDataFrame | None,
    snap_m: float,
    places: placement.Gazetteer | None = None,
    crs: str | None = None,
) -> _Place:
    """Missing, zero and out-of-range coordinates, records outside the study area, and
    swapped coordinates repaired where the swapped point lies in it; then placement by
    the area a record names (:func:`_place_by_area`).

    The coordinates are read first, on their own (:func:`klastergeo.io.registry.coordinates.parse`:
    each value by its own notation and decimal mark, transformed from ``crs``), then
    checked."""
    frame, n = raw.frame, len(raw.frame)
    written = [c for c in (cols.lat, cols.lon, cols.coordinates) if c is not None]
    separate = cols.lat is not None and cols.lon is not None
    if separate or cols.coordinates is not None:
        parsed = coordinates.parse(
            frame,
            lat=cols.lat if separate else None,
            lon=cols.lon if separate else None,
            pair=cols.coordinates,
            crs=crs,
            decimals={name: fmt.decimal for name, fmt in formats.items()},
        )
        lat, lon = parsed.lat, parsed.lon
        names = tuple(written if separate else [cols.coordinates])
        missing = ~parsed.usable
        why = parsed.why
        accepted = coordinates.ACCEPTED if separate else coordinates.ACCEPTED_PAIR
        if separate and cols.coordinates is not None:
            accepted += "; or, in " + repr(cols.coordinates) + ", " + coordinates.ACCEPTED_PAIR
    elif raw.xy is not None:
        lon, lat = raw.xy
        names = ("geometry",)
        missing = ~(np.isfinite(lat) & np.isfinite(lon))
        why = np.full(n, "", dtype=object)
        accepted = "a point geometry"
    else:  # placed by area columns alone
        lat = lon = np.full(n, np.nan)
        names = ()
        missing = np.ones(n, dtype=bool)
        why = np.full(n, "", dtype=object)
        accepted = ""

    def text(rows: pd.Index) -> pd.Series:
        if not names:
            return pd.Series("the file has no coordinate columns;", index=rows, dtype=object)
        quoted = [f"{c} " + frame.loc[rows, c].astype("string").fillna("").map(repr) for c in names]
        out = quoted[0]
        for more in quoted[1:]:
            out = out + ", " + more
        return out

    def not_read(rows: pd.Index) -> pd.Series:
        if not names or names == ("geometry",):
            return text(rows) + " is not a pair of numbers"
        reason = pd.Series(why[frame.index.get_indexer(rows)], index=rows, dtype=object)
        empty = reason == ""
        said = text(rows) + ": " + reason.astype(str)
        said[empty] = text(rows[empty.to_numpy()]) + ": no coordinates written"
        return said + f" (accepted: {accepted})"

    zero = ~missing & (lat == 0) & (lon == 0)
    in_range = ~missing & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    swapped_in_range = ~missing & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
    repaired = np.zeros(n, dtype=bool)
    area_pos = np.full(n, -1, dtype=np.int64)
    outside = np.zeros(n, dtype=bool)
    if areas is not None:
        area_pos, repaired, outside = _check_study_area(
            lat, lon, in_range & ~zero, swapped_in_range & ~zero, areas, snap_m=snap_m
        )
        lat, lon = np.where(repaired, lon, lat), np.where(repaired, lat, lon)
        in_range |= repaired
    out_of_range = ~missing & ~zero & ~in_range
    place = _Place(lat, lon, repaired, area_pos)
    by_area = np.zeros(n, dtype=bool)  # rows the area they name places or rejects
    if places is not None and areas is not None:
        place, by_area = _place_by_area(
            frame,
            cols,
            checks,
            place,
            places,
            areas,
            unusable=missing | zero | out_of_range | outside,
        )
    elif any(getattr(cols, role) for role in PLACEMENT_ROLES):
        logger.warning("records are placed by area only in a study area (--area or --boundaries)")
    unplaced = (
        "; the record names no area" if any(getattr(cols, r) for r in PLACEMENT_ROLES) else ""
    )
    checks.add("missing_coordinates", missing & ~by_area, lambda rows: not_read(rows) + unplaced)
    checks.add("zero_coordinates", zero & ~by_area, lambda rows: text(rows) + " is (0, 0)")
    also = " (also when swapped, and not in the study area)" if areas is not None else ""
    checks.add(
        "out_of_range",
        out_of_range & ~by_area,
        lambda rows: text(rows) + " is outside latitude -90..90 / longitude -180..180" + also,
    )
    checks.add(
        "outside_study_area",
        outside & ~out_of_range & ~by_area,
        lambda rows: text(rows) + f" is more than {snap_m:g} m from every area of the study area",
    )
    return place


def _place_by_area(
    frame: pd.DataFrame,
    cols: Columns,
    checks: _Checks,
    place: _Place,
    places: placement.Gazetteer,
    areas: gpd.GeoDataFrame,
    *,
    unusable: NDArray[np.bool_],
) -> tuple[_Place, NDArray[np.bool_]]:
    """Place records by the area they name: those without a usable point go to that
    area (their coordinates kept as read in ``repaired.csv`` where they had some, and
    their own reason where the area places nothing); a usable point more than
    ``places.tolerance_m`` from the area named is an ``area_mismatch``, settled by
    ``places.prefer``. Returns the placement and the rows the area decided (placed, or
    rejected for the area they name)."""
    n = len(frame)
    named = placement.place(
        frame,
        gaz=places,
        code=cols.area_code,
        desa=cols.desa,
        kecamatan=cols.kecamatan,
        kabupaten=cols.kabupaten,
    )
    lat, lon = place.lat.copy(), place.lon.copy()
    area_pos = place.area_pos.copy()
    how = np.full(n, "point", dtype=object)
    repair = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    stated = named.area_pos
    ok = stated >= 0
    codes = np.asarray(places.codes, dtype=object)
    # usable points that name an area: how far from it?
    both = ~unusable & ok & (area_pos != stated)
    metres = placement.distances_m(lon, lat, np.where(both, stated, -1), areas, gaz=places)
    far = both & (metres > places.tolerance_m)
    if places.prefer == "area":
        area_pos[both] = stated[both]
        how[both] = named.how[both]
        lat[far], lon[far] = np.nan, np.nan  # a point far from its area is not trusted
    repair[far] = "area_mismatch"
    if far.any():
        rows = np.flatnonzero(far)
        said = np.where(area_pos[rows] >= 0, codes[np.maximum(place.area_pos[rows], 0)], "outside")
        settled = (
            "placed by the area named"
            if places.prefer == "area"
            else "placed by the point (--place-by point)"
        )
        detail[rows] = [
            f"the point lies {m:,.0f} m from {codes[s]} ({named.how[r]}), in {p}; {settled}"
            for r, m, s, p in zip(rows, metres[rows], stated[rows], said, strict=True)
        ]
    # rows without a usable point: the area they name places them, or rejects them
    moved = unusable & ok
    area_pos[moved] = stated[moved]
    how[moved] = named.how[moved]
    had_point = moved & np.isfinite(place.lat) & np.isfinite(place.lon)
    position = (np.abs(place.lat) <= 90) & (np.abs(place.lon) <= 180)
    position &= (place.lat != 0) | (place.lon != 0)
    away = had_point & position  # a real point, outside the study area
    repair[away] = "area_mismatch"
    detail[away] = [
        f"the point lies outside the study area; placed by {codes[s]} ({named.how[r]})"
        for r, s in zip(np.flatnonzero(away), stated[away], strict=True)
    ]
    junk = had_point & ~position
    repair[junk] = "placed_by_area"
    detail[junk] = [
        f"the coordinates are no position; placed by {codes[s]} ({named.how[r]})"
        for r, s in zip(np.flatnonzero(junk), stated[junk], strict=True)
    ]
    lat[moved], lon[moved] = np.nan, np.nan
    failed = unusable & ~ok & named.named & (named.reason != "")
    for reason in placement.REASONS:
        hit = failed & (named.reason == reason)
        if hit.any():
            checks.add(reason, hit, lambda rows: _details(named.detail, frame, rows))
    placed = _Place(
        lat,
        lon,
        place.repaired & ~moved,
        area_pos,
        how=how,
        area_repair=repair,
        area_detail=detail,
        input_lat=place.lat,
        input_lon=place.lon,
    )
    return placed, moved | failed


def _details(values: NDArray[np.object_], frame: pd.DataFrame, rows: pd.Index) -> pd.Series:
    """The entries of a per-row array for the rows (labels of ``frame``) asked for."""
    return pd.Series(values[frame.index.get_indexer(rows)], index=rows, dtype=object)


def _check_sectors(
    frame: pd.DataFrame,
    name: str,
    checks: _Checks,
    *,
    sector_digits: int,
    lengths: NDArray[np.int64] | None = None,
    typed: bool = False,
) -> _Sectors:
    """KBLI codes: valid, long enough, leading zeros restored or ambiguous. ``typed``:
    the column was read from number cells (a spreadsheet's), though held as text."""
    typed = typed or pd.api.types.is_numeric_dtype(frame[name].dtype)
    if typed:
        logger.warning(
            "column %r holds KBLI codes as numbers, which lose the leading zero of "
            "divisions 01-09; store them as text",
            name,
        )
    # every verdict is a function of the code as written: decide each distinct code once
    # (a registry has at most a few thousand), then spread the verdicts over the rows
    position, distinct = pd.factorize(frame[name], use_na_sentinel=False)
    written_codes = pd.Series(distinct)
    if lengths is None:
        counts = np.bincount(position, minlength=len(distinct))
        lengths = _weighted_lengths(written_codes, counts)
    unique_codes, unique_restored, unique_ambiguous = kbli.restore_leading_zero(
        kbli.normalise(_codes_as_text(written_codes)), typed=typed, lengths=lengths
    )
    long_enough = unique_codes.astype("string").str.len().fillna(0).to_numpy() >= sector_digits
    unique_bad = ~(kbli.is_valid(unique_codes).to_numpy() & long_enough) | unique_ambiguous
    codes = pd.Series(
        unique_codes.to_numpy(dtype=object)[position], index=frame.index, dtype=object
    )
    restored = unique_restored[position]
    ambiguous = unique_ambiguous[position]
    bad = unique_bad[position]

    def text(rows: pd.Index) -> pd.Series:
        written = frame.loc[rows, name].astype("string").fillna("")
        plain = (
            f"{name} "
            + written.map(repr)
            + f" is not a KBLI code of {sector_digits} to 5 digits in a known division"
        )
        doubt = (
            f"{name} "
            + written.map(repr)
            + " is ambiguous in a column of numbers: a KBLI code as written, or the same "
            "with the leading zero numbers drop (0"
            + written.str.strip()
            + "); store KBLI codes as text"
        )
        return doubt.where(pd.Series(ambiguous, index=frame.index).loc[rows], plain)

    checks.add("invalid_sector", bad, text)
    return _Sectors(codes, restored, typed)


def _check_values(
    frame: pd.DataFrame,
    cols: Columns,
    formats: Mapping[str, NumberFormat],
    checks: _Checks,
    units: Mapping[str, headers.MeasureUnit],
) -> dict[str, NDArray[np.float64]]:
    """Workers, output and investment: finite numbers within their bounds, converted to
    the stated unit (``units``: Rp juta for amounts). A blank is missing (NaN), never 0."""
    numbers: dict[str, NDArray[np.float64]] = {}
    problems: dict[str, NDArray[np.bool_]] = {}
    limits: dict[str, float] = {}
    for role in _NUMERIC_ROLES:
        name = getattr(cols, role)
        if name is None:
            continue
        values, _, bad = parse_numbers(frame[name], fmt=formats[name])
        factor = units[role].factor if role in units else 1.0
        if factor < 1.0:  # divided by a whole number (1,000): 1500 Rp ribu is 1.5 exactly
            values = values / round(1.0 / factor)
        elif factor > 1.0:
            values = values * factor
        numbers[role] = values
        limits[name] = VALUE_BOUNDS[role] / factor  # as the column writes its values
        problems[name] = bad | (values < 0) | (values > VALUE_BOUNDS[role])

    def text(rows: pd.Index) -> pd.Series:
        out = pd.Series(pd.NA, index=rows, dtype="string")
        for name, problem in problems.items():
            hit = pd.Series(problem, index=frame.index).loc[rows] & out.isna()
            mark = {".": "a decimal point", ",": "a decimal comma"}[formats[name].decimal]
            out = out.mask(
                hit,
                f"{name} "
                + frame.loc[rows, name].astype("string").fillna("").map(repr)
                + f" is not a number from 0 to {limits[name]:,.0f} written with {mark}"
                + f" (as column {name!r} writes them)",
            )
        return out

    flagged = np.logical_or.reduce([np.zeros(len(frame), bool), *problems.values()])
    checks.add("invalid_value", flagged, text)
    return numbers


def _check_missing_ids(raw: RawRecords, cols: Columns, checks: _Checks) -> pd.Series:
    """Missing ids; returns each row's id (its record number where the file has no id
    column)."""
    frame, n = raw.frame, len(raw.frame)
    if cols.id is not None:
        ids = frame[cols.id].astype("string").str.strip()
        missing_id = (ids.isna() | (ids == "")).fillna(True).to_numpy(dtype=bool)
    else:
        ids = pd.Series(raw.rows, index=frame.index).astype("string")
        missing_id = np.zeros(n, dtype=bool)
    id_name = cols.id or "id"
    checks.add("missing_id", missing_id, lambda rows: pd.Series(f"{id_name} is empty", index=rows))
    return ids


def duplicate_keys(checked: Checked) -> pd.DataFrame:
    """What an exact duplicate row repeats: its id, or without an id column its
    coordinates. Rows whose key is unique cannot be duplicates of any kind.

    Parameters
    ----------
    checked
        The checked records (:func:`check_rows`).

    Returns
    -------
    DataFrame
        One row per record, in the order of ``checked.raw.frame``.
    """
    if checked.cols.id is not None:
        return checked.ids.to_frame()
    return pd.DataFrame(
        {"lat": checked.place.lat, "lon": checked.place.lon}, index=checked.raw.frame.index
    )


def find_duplicates(
    frame: pd.DataFrame, ids: pd.Series, numbers: NDArray[np.int64], *, id_name: str
) -> pd.DataFrame:
    """Exact duplicate rows and repeated ids among usable records, the first one kept.

    Parameters
    ----------
    frame
        The records as read, in file order: all usable ones whose key repeats (see
        :func:`duplicate_keys`); the others cannot be duplicates.
    ids
        Each row's id, indexed like ``frame``.
    numbers
        Each row's record number in the file.
    id_name
        The id column's name, for the messages.

    Returns
    -------
    DataFrame
        ``reason`` (``duplicate_record`` or ``duplicate_id``) and ``detail`` of the rows
        that are duplicates, indexed like ``frame``.
    """
    comparable = _comparable(frame)
    same = comparable.duplicated(keep="first").to_numpy()
    record_rows = frame.index[same]
    record_detail = "same values as row " + _first_same_row(
        comparable.set_axis(pd.RangeIndex(len(frame))), pd.Index(np.flatnonzero(same)), numbers
    )
    alive = ~same
    alive_ids = ids[alive]
    repeated = alive_ids.duplicated(keep="first").to_numpy()
    shared = alive_ids[alive_ids.duplicated(keep=False).to_numpy()]
    id_rows = alive_ids.index[repeated]
    shared_pos = pd.Series(shared.to_numpy(), index=frame.index.get_indexer(shared.index))
    wanted = ids.loc[id_rows]
    id_detail = (
        f"{id_name} "
        + wanted.map(repr)
        + " is already used by row "
        + _first_row_of_id(shared_pos, wanted, numbers)
    )
    return pd.DataFrame(
        {
            "reason": ["duplicate_record"] * len(record_rows) + ["duplicate_id"] * len(id_rows),
            "detail": np.concatenate(
                [record_detail.to_numpy(dtype=object), id_detail.to_numpy(dtype=object)]
            ),
        },
        index=record_rows.append(id_rows),
    )


def _check_duplicates(checked: Checked) -> None:
    """Add the duplicate rows and repeated ids of a whole file to its checks."""
    frame, n = checked.raw.frame, len(checked.raw.frame)
    alive_rows = np.flatnonzero(~checked.checks.any())
    keys = duplicate_keys(checked)
    suspects = alive_rows[keys.iloc[alive_rows].duplicated(keep=False).to_numpy()]
    found = find_duplicates(
        frame.iloc[suspects],
        checked.ids.iloc[suspects],
        checked.raw.rows[suspects],
        id_name=checked.cols.id or "id",
    )
    for reason in ("duplicate_record", "duplicate_id"):
        hits = found.loc[found["reason"] == reason, "detail"]
        mask = np.zeros(n, dtype=bool)
        mask[frame.index.get_indexer(hits.index)] = True
        checked.checks.add(reason, mask, lambda rows, hits=hits: hits.reindex(rows))


def _repaired_frame(
    raw: RawRecords,
    keep: NDArray[np.bool_],
    ids: pd.Series,
    place: _Place,
    sectors: _Sectors,
    sector_name: str | None,
) -> pd.DataFrame:
    """``repaired.csv``: kept rows whose coordinates were swapped back, and kept rows
    whose KBLI code got its leading zero back."""
    fixed = place.repaired & keep
    zero_fixed = sectors.restored & keep
    lat, lon = place.lat, place.lon
    swaps = pd.DataFrame(
        {
            "record_id": ids[fixed].to_numpy(dtype=object),
            "row": raw.rows[fixed],
            "reason": "swapped_coordinates",
            "input_lat": lon[fixed],
            "input_lon": lat[fixed],
            "lat": lat[fixed],
            "lon": lon[fixed],
        }
    )
    if sector_name is None:  # no sector column: nothing to restore
        return swaps.reset_index(drop=True)
    zeros = pd.DataFrame(
        {
            "record_id": ids[zero_fixed].to_numpy(dtype=object),
            "row": raw.rows[zero_fixed],
            "reason": "kbli_leading_zero",
            "input_kbli": raw.frame.loc[zero_fixed, sector_name].astype("string").to_numpy(),
            "kbli": sectors.codes[zero_fixed].to_numpy(dtype=object),
        }
    )
    parts = [swaps, zeros] if len(zeros) else [swaps]
    if place.area_repair is not None:
        moved = (place.area_repair != "") & keep
        if moved.any():
            assert place.input_lat is not None and place.input_lon is not None
            parts.append(
                pd.DataFrame(
                    {
                        "record_id": ids[moved].to_numpy(dtype=object),
                        "row": raw.rows[moved],
                        "reason": place.area_repair[moved],
                        "input_lat": place.input_lat[moved],
                        "input_lon": place.input_lon[moved],
                        "lat": place.lat[moved],
                        "lon": place.lon[moved],
                        "detail": place.area_detail[moved] if place.area_detail is not None else "",
                    }
                )
            )
    if len(parts) == 1:
        return swaps.reset_index(drop=True)
    joined = pd.concat(parts, ignore_index=True).sort_values("row", kind="stable")
    return joined.reset_index(drop=True)


def _number_formats(
    frame: pd.DataFrame, cols: Columns, *, decimal: Decimal, delimiter: str | None
) -> dict[str, NumberFormat]:
    """The number format of every numeric column of the standard roles, decided once: by
    its own values, else by the file's other amount columns (workers, output,
    investment: typed in the spreadsheet's locale), else by its coordinates (often pasted
    from a GPS with a decimal point whatever the locale), else by the delimiter."""
    own = {
        name: number_format(
            frame[name], decimal=decimal, delimiter=delimiter, coordinate=coordinate
        )
        for name, coordinate in numeric_columns(cols).items()
    }
    return file_formats(own, cols)


def coordinate_units(frame: pd.DataFrame, cols: Columns) -> tuple[int, int, tuple[str, ...]]:
    """Whether the coordinates are degrees: ``(rows with numbers, rows beyond ±180, a
    few of those values)``, read as degrees (add the counts up over a file's batches).

    Parameters
    ----------
    frame
        The records, or one batch of them.
    cols
        The column mapping.

    Examples
    --------
    >>> frame = pd.DataFrame({"y": ["9147234.5", "-7.7"], "x": ["449123.4", "110.6"]})
    >>> coordinate_units(frame, Columns(lat="y", lon="x"))
    (2, 1, ('(y 9147234.5, x 449123.4)',))
    """
    separate = cols.lat is not None and cols.lon is not None
    if not separate and cols.coordinates is None:
        return 0, 0, ()
    parsed = coordinates.parse(
        frame,
        lat=cols.lat if separate else None,
        lon=cols.lon if separate else None,
        pair=cols.coordinates,
    )
    numbers, beyond = coordinates.looks_projected(parsed.lat, parsed.lon)
    if not beyond:
        return numbers, beyond, ()
    far = (np.abs(np.nan_to_num(parsed.lat)) > 180) | (np.abs(np.nan_to_num(parsed.lon)) > 180)
    rows = np.flatnonzero(far)[:3]
    names = [cols.lat, cols.lon] if separate else [cols.coordinates]
    examples = [
        "(" + ", ".join(f"{name} {frame[name].iloc[i]}" for name in names if name) + ")"
        for i in rows
    ]
    return numbers, beyond, tuple(examples)


def check_units(evidence: tuple[int, int, tuple[str, ...]], cols: Columns) -> None:
    """Stop with :class:`ValidationError` when the coordinates look projected (metres)
    and no ``records.crs`` says so (:func:`klastergeo.io.registry.coordinates.check_degrees`).

    Parameters
    ----------
    evidence
        :func:`coordinate_units` of the whole file (summed over its batches).
    cols
        The column mapping (the message names its coordinate columns).
    """
    separate = cols.lat is not None and cols.lon is not None
    names = [cols.lat, cols.lon] if separate else [cols.coordinates]
    coordinates.check_degrees(
        evidence[:2],
        columns="columns " + " and ".join(repr(n) for n in names if n),
        examples=evidence[2],
    )


def numeric_columns(cols: Columns) -> dict[str, bool]:
    """The numeric columns of the mapping, each with whether it holds coordinates.

    Parameters
    ----------
    cols
        The column mapping.

    Returns
    -------
    dict
        Column name -> True for latitude and longitude, False for the amounts.
    """
    numeric = {cols.lat: True, cols.lon: True}
    numeric.update({getattr(cols, role): False for role in _NUMERIC_ROLES})
    return {name: coordinate for name, coordinate in numeric.items() if name is not None}


def merge_formats(
    parts: Sequence[Mapping[str, NumberFormat]],
    *,
    decimal: Decimal = "auto",
    delimiter: str | None = None,
) -> dict[str, NumberFormat]:
    """The number format of each column from the evidence of every batch of a file, as
    :func:`number_format` decides it for the whole column.

    Parameters
    ----------
    parts
        Each batch's :func:`number_format` per column.
    decimal
        ``records.decimal``.
    delimiter
        The CSV delimiter, the last resort.

    Returns
    -------
    dict
        Column name -> :class:`NumberFormat`, before the file's other columns decide
        (:func:`file_formats`).

    Examples
    --------
    >>> one = {"x": number_format(pd.Series(["1.234"]))}
    >>> two = {"x": number_format(pd.Series(["7,5"]))}
    >>> merge_formats([one, two])["x"].decimal
    ','
    """
    out: dict[str, NumberFormat] = {}
    for name in parts[0] if parts else {}:
        seen = [part[name] for part in parts]
        if all(f.decided_by == "typed" for f in seen):
            out[name] = seen[0]
            continue
        out[name] = _decide(
            sum(f.comma for f in seen),
            sum(f.point for f in seen),
            decimal=decimal,
            fallback=None,
            delimiter=delimiter,
        )
    return out


def file_formats(own: Mapping[str, NumberFormat], cols: Columns) -> dict[str, NumberFormat]:
    """Each column's own format, where its values fit both marks decided by the file's
    other columns: its amounts (typed in the spreadsheet's locale), else its coordinates.

    Parameters
    ----------
    own
        Each numeric column's format from its own values.
    cols
        The column mapping (which columns are coordinates).

    Returns
    -------
    dict
        Column name -> :class:`NumberFormat`.
    """
    numeric = numeric_columns(cols)
    amounts = {name: fmt for name, fmt in own.items() if not numeric[name]}
    coords = {name: fmt for name, fmt in own.items() if numeric[name]}
    mark = file_decimal(amounts) or file_decimal(coords)
    decided = {
        name: (
            dataclasses.replace(
                fmt,
                decimal=mark,
                decided_by="file",
                conflicts=fmt.point if mark == "," else fmt.comma,
            )
            if mark is not None and fmt.decided_by == "delimiter"
            else fmt
        )
        for name, fmt in own.items()
    }
    # a coordinate has a known range, so each value that shows its mark is read by it
    # (-7.710251 beside -7,710251): the column's mark only reads the values that do not
    # (:func:`klastergeo.io.registry.coordinates.read_values`), and none is a conflict
    return {
        name: dataclasses.replace(fmt, conflicts=0) if numeric[name] else fmt
        for name, fmt in decided.items()
    }


class _Checks:
    """Row masks per reason, with details computed only for the rows that get the reason."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.index = frame.index
        self.masks: dict[str, NDArray[np.bool_]] = {}
        self.details: dict[str, Any] = {}

    def add(self, reason: str, mask: NDArray[np.bool_], detail: Any) -> None:
        """Reject the rows of ``mask`` for ``reason`` (added to the rows a reason given
        before already has, each row keeping the detail of the check that found it)."""
        mask = np.asarray(mask, dtype=bool)
        if reason in self.masks:
            first, first_detail, index = self.masks[reason], self.details[reason], self.index

            def both(rows: pd.Index) -> pd.Series:
                earlier = pd.Series(first, index=index).loc[rows].to_numpy(dtype=bool)
                out = pd.Series(pd.NA, index=rows, dtype=object)
                if earlier.any():
                    out[earlier] = first_detail(rows[earlier]).to_numpy(dtype=object)
                if (~earlier).any():
                    out[~earlier] = detail(rows[~earlier]).to_numpy(dtype=object)
                return out

            mask, detail = first | mask, both
        self.masks[reason] = mask
        self.details[reason] = detail

    def any(self) -> NDArray[np.bool_]:
        return np.logical_or.reduce(list(self.masks.values()))

    def resolve(self) -> tuple[NDArray[Any], pd.Series]:
        order = [r for r in REASONS if r in self.masks]
        reason = np.select([self.masks[r] for r in order], order, default="")
        detail = pd.Series(pd.NA, index=self.index, dtype="string")
        for name in order:
            rows = self.index[reason == name]
            if len(rows):
                detail.loc[rows] = self.details[name](rows).astype("string").to_numpy()
        return reason, detail


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with values that cannot be hashed (lists, arrays and dicts from nested
    Parquet or GIS columns) written as text, so that whole rows can be compared (``frame``
    is the few rows whose id repeats)."""
    nested = [
        column
        for column in frame.columns
        if frame[column].dtype == object
        and frame[column].map(lambda v: isinstance(v, list | dict | set | np.ndarray)).any()
    ]
    if not nested:
        return frame
    out = frame.copy()
    for column in nested:
        out[column] = frame[column].map(repr)
    return out


def _first_same_row(
    suspects: pd.DataFrame, rows: pd.Index, numbers: NDArray[np.int64]
) -> pd.Series:
    """Record number of the first earlier row with identical values."""
    dupes = suspects.loc[suspects.duplicated(keep=False)]
    groups = dupes.groupby(list(dupes.columns), sort=False, dropna=False).ngroup()
    first = (
        pd.Series(numbers[dupes.index.to_numpy()], index=dupes.index)
        .groupby(groups.to_numpy())
        .transform("min")
    )
    return first.reindex(rows).astype("Int64").astype("string")


def _first_row_of_id(
    shared_ids: pd.Series, wanted: pd.Series, numbers: NDArray[np.int64]
) -> pd.Series:
    """Record number of the first kept row with the same id."""
    first = (
        pd.Series(numbers[shared_ids.index.to_numpy()], index=shared_ids.to_numpy())
        .groupby(level=0)
        .min()
    )
    return (
        pd.Series(first.reindex(wanted.to_numpy()).to_numpy(), index=wanted.index)
        .astype("Int64")
        .astype("string")
    )


def _check_study_area(
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    usable: NDArray[np.bool_],
    swappable: NDArray[np.bool_],
    areas: gpd.GeoDataFrame,
    *,
    snap_m: float,
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.bool_]]:
    """Locate points in the study area; try the swapped point for those that miss."""
    geoms = (
        areas.geometry
        if areas.crs is None or areas.crs.is_geographic
        else areas.geometry.to_crs(4326)
    )
    n = len(lat)
    pos = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(usable)
    pos[idx] = locate_points(lon[idx], lat[idx], geoms, snap_m=snap_m)
    retry = np.flatnonzero(swappable & (pos < 0))
    swapped_pos = locate_points(lat[retry], lon[retry], geoms, snap_m=snap_m)
    hit = retry[swapped_pos >= 0]
    repaired = np.zeros(n, dtype=bool)
    repaired[hit] = True
    pos[hit] = swapped_pos[swapped_pos >= 0]
    outside = usable & (pos < 0)
    return pos, repaired, outside


def _rejected_frame(raw: RawRecords, reason: NDArray[Any], detail: pd.Series) -> pd.DataFrame:
    frame = raw.frame
    mask = reason != ""
    own = {
        key: (f"{key}_klastergeo" if key in frame.columns else key)
        for key in ("row", "reason", "detail")
    }
    rejected = frame.loc[mask].copy()
    rejected[own["row"]] = raw.rows[mask]
    rejected[own["reason"]] = reason[mask]
    rejected[own["detail"]] = detail[mask].to_numpy()
    if len(raw.malformed):
        extra = pd.DataFrame(
            {
                own["row"]: raw.malformed["row"].to_numpy(),
                own["reason"]: "malformed_row",
                own["detail"]: f"line does not split into the header's {len(frame.columns)} "
                "fields: " + raw.malformed["raw_line"].astype(str),
            }
        )
        rejected = pd.concat([extra, rejected], ignore_index=True)
        rejected = rejected.sort_values(own["row"], kind="stable")  # back into file order
    return rejected.reset_index(drop=True)


def _kept_frame(
    frame: pd.DataFrame,
    cols: Columns,
    keep: NDArray[np.bool_],
    ids: pd.Series,
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    codes: pd.Series,
    numbers: dict[str, NDArray[np.float64]],
    sector_digits: int,
    rows: NDArray[np.int64],
    keep_geometry_column: bool,
    points: bool = True,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    # the area columns that placed a record stay as the file wrote them
    mapped = {v for k, v in vars(cols).items() if v is not None and k not in PLACEMENT_ROLES}
    n_kept = int(keep.sum())
    data: dict[str, Any] = {
        "row": rows[keep],
        "lat": lat[keep],
        "lon": lon[keep],
        "kbli": codes[keep].to_numpy(dtype=object),
        "sector": kbli.sector_of(codes[keep], digits=sector_digits).to_numpy(dtype=object),
    }
    for role in _NUMERIC_ROLES:
        data[role] = numbers[role][keep] if role in numbers else np.full(n_kept, np.nan)
    data["name"] = (
        frame.loc[keep, cols.name].to_numpy(dtype=object)
        if cols.name
        else np.full(n_kept, None, dtype=object)
    )
    kept = pd.DataFrame(data, index=pd.Index(ids[keep].to_numpy(dtype=object), name="record_id"))
    # The file's other columns, as read (one take keeps Arrow-backed text as it is). A
    # column named like one of the tool's own is kept as <name>_input, never clobbered.
    # (A GIS file's geometry became lat/lon; a text file's "geometry" column is data.)
    extra = [
        c for c in frame.columns if c not in mapped and (keep_geometry_column or c != "geometry")
    ]
    renamed: dict[str, str] = {}
    if extra:
        others = frame.loc[keep, extra]
        taken = set(RESERVED) | {str(c) for c in extra}
        names = []
        for column in extra:
            name = str(column)
            if name in RESERVED:
                new = f"{name}_input"
                while new in taken:
                    new += "_"
                taken.add(new)
                renamed[name] = new
                name = new
            names.append(name)
        others.columns = pd.Index(names)
        others.index = kept.index
        kept = pd.concat([kept, others], axis=1)
    if renamed:
        logger.warning(
            "input column(s) named like klastergeo's own are kept as %s",
            ", ".join(f"{k!r} -> {v!r}" for k, v in renamed.items()),
        )
    if not points:  # the caller makes the points later (batches spill lat/lon only)
        return kept, renamed
    shapes = firm_points(kept["lon"], kept["lat"])  # none where placed by area
    return gpd.GeoDataFrame(kept, geometry=shapes, crs=4326), renamed
