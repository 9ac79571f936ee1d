"""Reading a registry file as it is: CSV (encoding and delimiter sniffed), Excel (its
tables found by :mod:`klastergeo.io.registry.sheets`), Parquet and GIS files.

Reading keeps the file's values as they are (text for CSV), so that rejected rows can be
written back unchanged.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from klastergeo._docstrings import fill
from klastergeo.errors import ValidationError, preview
from klastergeo.io.registry import sheets
from klastergeo.io.registry.columns import Columns
from klastergeo.io.registry.mapping import PLACEMENT_ROLES, known_names

__all__ = [
    "CSV_SUFFIXES",
    "EXAMPLE_REGISTRY",
    "NA_TOKENS",
    "PARQUET_SUFFIXES",
    "CsvLayout",
    "RawRecords",
    "as_text",
    "check_header",
    "check_source",
    "csv_layout",
    "implied_roles",
    "read_records",
    "skip_rows",
    "skipped_frame",
]

#: The ingest engine's one logger (what the batches' de-duplication of messages and the
#: workers' capture follow).
logger = logging.getLogger(__package__)


CSV_SUFFIXES = {".csv", ".txt", ".tsv"}


_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


PARQUET_SUFFIXES = {".parquet", ".geoparquet", ".pq"}


_GIS_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".zip", ".gml", ".kml"}


_DELIMITERS = (",", ";", "\t", "|")


NA_TOKENS = ["", "na", "n/a", "nan", "null", "none", "-", "--", "#n/a"]


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


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


# doctest piece: a small registry as spreadsheets export it (see klastergeo._docstrings)
EXAMPLE_REGISTRY = r"""
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


@fill(example_registry=EXAMPLE_REGISTRY)
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
        if suffix in CSV_SUFFIXES:
            return _read_csv(source, delimiter=delimiter, encoding=encoding, columns=columns)
        if suffix in _EXCEL_SUFFIXES:
            return _read_excel(source, sheet=sheet, columns=columns)
        if suffix in PARQUET_SUFFIXES:
            return _read_parquet(source)
        if suffix in _GIS_SUFFIXES:
            return _read_gis(source, layer=layer)
    except OSError as err:
        raise ValidationError(
            f"cannot read records file {str(source)!r}: {err.strerror or err}",
            key="records_unreadable",
            params={"path": repr(str(source)), "why": err.strerror or err},
        ) from err
    raise ValidationError(
        f"records file {str(source)!r} has an unknown type {suffix!r}; use CSV, Excel "
        "(.xlsx), GeoPackage (.gpkg), GeoJSON, Shapefile (.shp) or Parquet",
        key="records_type",
        params={"path": repr(str(source)), "suffix": repr(suffix)},
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
    named = {"path": repr(str(source)), "suffix": repr(source.suffix.lower())}
    if not source.exists():
        raise ValidationError(
            f"{what} file {str(source)!r} does not exist",
            key={"records": "records_missing", "counts": "counts_missing"}.get(what),
            params=named,
        )
    if source.is_dir():
        raise ValidationError(
            f"{what} path {str(source)!r} is a directory, not a file",
            key={"records": "records_folder", "counts": "counts_folder"}.get(what),
            params=named,
        )
    suffix = source.suffix.lower()
    if suffix not in CSV_SUFFIXES | _EXCEL_SUFFIXES | PARQUET_SUFFIXES | _GIS_SUFFIXES:
        raise ValidationError(
            f"{what} file {str(source)!r} has an unknown type {suffix!r}; use CSV, Excel "
            "(.xlsx), GeoPackage (.gpkg), GeoJSON, Shapefile (.shp) or Parquet",
            key={"records": "records_type", "counts": "counts_type"}.get(what),
            params=named,
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
        raise ValidationError("records file is empty", key="records_blank")
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
            "tab and '|'; pass --delimiter",
            key="csv_delimiter",
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
        raise ValidationError(
            f"records file {str(source)!r} is empty",
            key="records_empty",
            params={"path": repr(str(source))},
        )
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
        check_header(header, source)
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
    check_header(header, source)
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


def check_header(header: list[str], source: Path) -> None:
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
    check_header(list(table.frame.columns), source)
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
        check_header(names, source)
        metadata = schema.metadata or {}
        if b"geo" in metadata:
            geo = gpd.read_parquet(source)
            return _from_geodataframe(as_text(geo, source), source, "geoparquet")
        frame = as_text(pq.read_table(source).to_pandas(), source)
    except ValidationError:
        raise
    except MemoryError:  # not the file's fault: the guard says which step ran out
        raise
    except Exception as err:  # pyarrow raises many types for a damaged file
        raise ValidationError(
            f"cannot read {str(source)!r} as Parquet ({type(err).__name__}: {err})"
        ) from err
    return RawRecords(frame=frame.reset_index(drop=True), source=source, format="parquet")


def as_text(frame: pd.DataFrame, source: Path) -> pd.DataFrame:
    """Binary columns (Parquet ``binary``) as UTF-8 text; bytes that are not UTF-8 are
    refused, naming the column (no value is silently replaced).

    Parameters
    ----------
    frame
        The table as read from a Parquet file; its columns are decoded in place.
    source
        The file it was read from, named in the error.

    Returns
    -------
    pd.DataFrame
        ``frame``, its binary values replaced by text.

    Raises
    ------
    ValidationError
        When a binary value is not UTF-8.
    """
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
        return raw, skipped_frame(None)
    implied = set(raw.implied.values())
    placing = [c for c in (cols.sector, cols.lat, cols.lon) if c is not None]
    others = [getattr(cols, r) for r in ("id", "name", "area_code", *PLACEMENT_ROLES[1:])]
    identifying = [c for c in dict.fromkeys([*placing, *others]) if c and c not in implied]
    kinds = sheets.classify_rows(raw.frame, identifying=identifying, placing=placing)
    skip = kinds != ""
    if not skip.any():
        return raw, skipped_frame(None)
    rows = raw.rows
    text = np.full(int(skip.sum()), "", dtype=object)
    worded = (kinds != "blank")[skip]  # a blank row's text is empty: not looked at
    if worded.any():
        said = raw.frame.loc[skip & (kinds != "blank")]
        text[worded] = sheets.row_text(said).to_numpy(dtype=object)
    skipped = skipped_frame(pd.DataFrame({"row": rows[skip], "kind": kinds[skip], "text": text}))
    counts = pd.Series(kinds[skip]).value_counts()
    logger.info(
        "%d row(s) of %s are not firms and are skipped: %s",
        int(skip.sum()),
        raw.source.name,
        ", ".join(f"{n} {kind}" for kind, n in counts.items()),
    )
    left = dataclasses.replace(raw, frame=raw.frame.loc[~skip], numbers=rows[~skip])
    return left, skipped


def skipped_frame(frame: pd.DataFrame | None) -> pd.DataFrame:
    """``skipped.csv``'s rows (``row``, ``kind``, ``text``), empty when None.

    Parameters
    ----------
    frame
        The skipped rows: record number (``row``), what the row is (``kind``, as
        :func:`klastergeo.io.registry.sheets.classify_rows` says) and its ``text``; None
        for no row skipped.

    Returns
    -------
    pd.DataFrame
        The rows with a fresh RangeIndex, or an empty frame with those three columns.
    """
    if frame is None:
        frame = pd.DataFrame(
            {
                "row": pd.Series(dtype=np.int64),
                "kind": pd.Series(dtype=object),
                "text": pd.Series(dtype=object),
            }
        )
    return frame.reset_index(drop=True)
