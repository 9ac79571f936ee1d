"""Sources of batches: a registry file staged for reading in batches (a CSV file read once
into a Parquet file of text; a Parquet registry read where it is), or a file read whole as
one batch (Excel, GIS, or any registry that fits one batch), with what is decided for the
whole file on the way: each numeric column's number format, the sector column's KBLI
width and whether the coordinates are degrees.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import NDArray

from klastergeo.errors import ValidationError
from klastergeo.io.registry import headers, sheets
from klastergeo.io.registry.checks import sector_lengths
from klastergeo.io.registry.columns import Columns
from klastergeo.io.registry.mapping import resolve_columns, single_values
from klastergeo.io.registry.numbers import (
    NumberFormat,
    coordinate_units,
    file_formats,
    merge_formats,
    number_format,
    numeric_columns,
)
from klastergeo.io.registry.reading import (
    CSV_SUFFIXES,
    PARQUET_SUFFIXES,
    CsvLayout,
    RawRecords,
    as_text,
    check_header,
    csv_layout,
    implied_roles,
    read_records,
    skip_rows,
)
from klastergeo.options import Decimal

__all__ = ["SCRATCH", "Progress", "Source", "open_source", "parquet_batches", "whole_source"]

logger = logging.getLogger(__name__)


Progress = Callable[[str, int, int], None]


#: The staged registry and the spilled batches live only as long as the run, on local
#: disk: lz4 writes several times faster than zstd for a little more space.
SCRATCH_COMPRESSION = "lz4"


#: Options of every scratch Parquet file: no dictionaries or statistics (nobody filters
#: on them), which makes writing text columns about twice as fast.
SCRATCH: dict[str, Any] = {
    "compression": SCRATCH_COMPRESSION,
    "use_dictionary": False,
    "write_statistics": False,
}


# --------------------------------------------------------------------------------------
# Sources of batches
# --------------------------------------------------------------------------------------


@dataclass
class Source:
    """Raw records to validate: a Parquet file read in batches, or one in-memory batch."""

    path: Path
    format: str
    cols: Columns
    formats: dict[str, NumberFormat]
    n_rows: int
    n_read: int
    delimiter: str | None = None
    encoding: str | None = None
    malformed: pd.DataFrame = field(default_factory=pd.DataFrame)
    header: list[str] = field(default_factory=list)
    whole: RawRecords | None = None
    #: the records read whole less the rows that are not firms, and those rows
    #: (:func:`klastergeo.io.registry.reading.skip_rows`, done once)
    firms: tuple[RawRecords, pd.DataFrame] | None = None
    text: bool = False  # binary Parquet columns need decoding (as_text)
    nested: tuple[str, ...] = ()  # mapped columns of lists or records (single_values)
    units: dict[str, headers.MeasureUnit] = field(default_factory=dict)  # of the measures
    lengths: NDArray[np.int64] | None = None  # the sector column's KBLI lengths
    #: whether the coordinates are degrees (:func:`klastergeo.io.registry.records.coordinate_units`)
    coord_units: tuple[int, int, tuple[str, ...]] = (0, 0, ())
    crs: str | None = None  # records.crs: the coordinates' CRS (None: WGS84 degrees)
    layout: sheets.Layout | None = None  # where the records are in a spreadsheet
    implied: dict[str, str] = field(default_factory=dict)  # roles a column stood for

    def numbers(self, positions: NDArray[np.int64]) -> NDArray[np.int64]:
        """Record numbers of the good rows at ``positions`` (malformed CSV lines are
        counted in the numbers but have no row).

        Parameters
        ----------
        positions
            0-based positions among the good rows (those a batch holds).

        Returns
        -------
        ndarray
            The 1-based record number in the file of each.
        """
        k = np.asarray(positions, dtype=np.int64) + 1
        if not len(self.malformed):
            return k
        skipped = np.sort(self.malformed["row"].dropna().to_numpy(dtype=np.int64))
        shifted = skipped - np.arange(len(skipped))
        return k + np.searchsorted(shifted, k, side="right")

    def raw(self, frame: pd.DataFrame, start: int) -> RawRecords:
        if self.text:
            frame = as_text(frame, self.path)
        if self.nested:
            frame = single_values(frame, self.cols)
        frame.index = pd.RangeIndex(start, start + len(frame))
        return RawRecords(
            frame=frame,
            source=self.path,
            format=self.format,
            delimiter=self.delimiter,
            encoding=self.encoding,
            numbers=self.numbers(np.arange(start, start + len(frame))),
        )

    def batches(self, batch_size: int) -> Iterator[RawRecords]:
        """The good rows in batches, each indexed by position, with record numbers.

        Parameters
        ----------
        batch_size
            Good rows per batch (the last batch may be shorter); a source held whole
            gives its one batch whatever the size.

        Returns
        -------
        Iterator of RawRecords
            The batches, in file order.
        """
        if self.whole is not None:
            yield self.whole
            return
        start = 0
        for table in parquet_batches(self.path, batch_size):
            frame = table.to_pandas()
            yield self.raw(frame, start)
            start += len(frame)

    def column(self, name: str, batch_size: int) -> Iterator[tuple[pd.Series, NDArray[np.int64]]]:
        """One column's values batch by batch, as :meth:`batches` gives them, with their
        record numbers; only that column is read (e.g. the period of every record,
        before the registry is split by it).

        Parameters
        ----------
        name
            The column, by its name in the file.
        batch_size
            Good rows per batch, as for :meth:`batches`.

        Returns
        -------
        Iterator of tuple
            For each batch, the column's values and the record numbers of its rows.
        """
        if self.whole is not None:
            yield self.whole.frame[name], self.whole.rows
            return
        start = 0
        for table in parquet_batches(self.path, batch_size, columns=[name]):
            frame = table.to_pandas()
            if self.text:
                frame = as_text(frame, self.path)
            yield frame[name], self.numbers(np.arange(start, start + len(frame)))
            start += len(frame)

    def n_batches(self, batch_size: int) -> int:
        """How many batches of ``batch_size`` good rows the source holds.

        Parameters
        ----------
        batch_size
            Good rows per batch, as for :meth:`batches`.

        Returns
        -------
        int
            The number of batches (1 for a source held whole).
        """
        return 1 if self.whole is not None else -(-self.n_rows // batch_size)

    def batch(self, index: int, batch_size: int) -> RawRecords:
        """Batch ``index`` alone (the rows :meth:`batches` gives as its ``index``-th), read
        from the row groups that hold it: what a worker reads for itself.

        Parameters
        ----------
        index
            The batch's 0-based number.
        batch_size
            Good rows per batch, as for :meth:`batches`.

        Returns
        -------
        RawRecords
            The batch, indexed by position, with its record numbers.

        Raises
        ------
        IndexError
            When the source has no batch ``index``.
        """
        if self.whole is not None:
            return self.whole
        parquet = pq.ParquetFile(self.path)
        start = index * batch_size
        stop = min(start + batch_size, self.n_rows)
        if stop <= start:
            raise IndexError(f"batch {index} of {self.n_batches(batch_size)}")
        bounds = _group_bounds(parquet)
        first, last = np.searchsorted(bounds, [start, stop - 1], side="right") - 1
        table = parquet.read_row_groups(range(int(first), int(last) + 1))
        frame = table.slice(start - int(bounds[first]), stop - start).to_pandas()
        return self.raw(frame, start)

    def take(self, positions: NDArray[np.int64]) -> RawRecords:
        """The good rows at ``positions`` (sorted), in that order.

        Parameters
        ----------
        positions
            Sorted 0-based positions among the good rows.

        Returns
        -------
        RawRecords
            Those rows, indexed by their positions, with their record numbers.
        """
        if self.whole is not None:
            whole = self.whole
            return RawRecords(
                frame=whole.frame.iloc[positions],
                source=whole.source,
                format=whole.format,
                xy=None if whole.xy is None else (whole.xy[0][positions], whole.xy[1][positions]),
                numbers=whole.rows[positions],
            )
        frame = take_rows(pq.ParquetFile(self.path), positions).to_pandas()
        if self.text:
            frame = as_text(frame, self.path)
        if self.nested:
            frame = single_values(frame, self.cols)
        frame.index = pd.Index(positions)
        return RawRecords(
            frame=frame, source=self.path, format=self.format, numbers=self.numbers(positions)
        )


def parquet_batches(
    path: Path, batch_size: int, *, columns: Sequence[str] | None = None
) -> Iterator[pa.Table]:
    """A Parquet file's rows in batches of ``batch_size`` (the last one shorter), read
    row group by row group.

    ``ParquetFile.iter_batches`` would do the same, but with pyarrow 26 its memory grows
    with every batch until it holds the whole file (measured: 17 MB a batch of 500,000
    rows of seven text columns; apache/arrow#39808 reports the same for datasets). Here
    the memory is one batch and one row group; a file written as one huge row group is
    read whole.

    Parameters
    ----------
    path
        The Parquet file.
    batch_size
        Rows per batch (at least 1).
    columns
        The columns to read (default: all).

    Returns
    -------
    Iterator of pyarrow.Table
        The batches, in file order.
    """
    parquet = pq.ParquetFile(path)
    pending: list[pa.Table] = []
    held = 0
    for group in range(parquet.metadata.num_row_groups):  # row groups; rows are columnar
        table = parquet.read_row_group(group, columns=columns)
        while len(table):
            take = min(batch_size - held, len(table))
            pending.append(table.slice(0, take))
            held += take
            table = table.slice(take)
            if held == batch_size:
                yield pa.concat_tables(pending)
                pending, held = [], 0
    if held:
        yield pa.concat_tables(pending)


def take_rows(parquet: pq.ParquetFile, positions: NDArray[np.int64]) -> pa.Table:
    """The rows of ``parquet`` at sorted ``positions``, in that order, read row group by
    row group: memory holds one row group and the rows taken, not every group that
    holds one of them (a national registry's duplicate suspects lie in all of them, and
    reading those groups at once held the whole file: 3 GB at 26.7 M records).

    Parameters
    ----------
    parquet
        The Parquet file.
    positions
        Sorted 0-based row positions.

    Returns
    -------
    pyarrow.Table
        Those rows (the file's schema when there are none).
    """
    if not len(positions):
        return parquet.schema_arrow.empty_table()
    bounds = _group_bounds(parquet)
    group = np.searchsorted(bounds, positions, side="right") - 1
    groups, first = np.unique(group, return_index=True)
    ends = np.append(first[1:], len(positions))
    taken = [
        parquet.read_row_group(int(g)).take(pa.array(positions[lo:hi] - bounds[g]))
        for g, lo, hi in zip(groups, first, ends, strict=True)
    ]
    return pa.concat_tables(taken)


def _group_bounds(parquet: pq.ParquetFile) -> NDArray[np.int64]:
    """The first row of each row group of ``parquet``, and its number of rows last."""
    sizes = [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
    return np.cumsum([0, *sizes], dtype=np.int64)


def open_source(
    path: Path,
    work: Path,
    *,
    columns: Columns | None,
    decimal: Decimal,
    options: dict[str, Any],
    batch_size: int,
    tell: Progress,
    formats: bool = True,
    need_sector: bool = True,
) -> Source:
    """The registry as a source of batches, with what is decided for the whole file
    (unless ``formats`` is False).

    A CSV or Parquet file with more than ``batch_size`` records is read in batches (a
    CSV file is first staged in ``work`` as Parquet); any other file, or a smaller one,
    is read whole (:func:`whole_source`).

    Parameters
    ----------
    path
        The registry file.
    work
        The work folder, where a large CSV file is staged as ``registry.parquet``.
    columns
        The column mapping as given (``[columns]``), or None to detect every role
        (:func:`klastergeo.io.registry.mapping.resolve_columns`).
    decimal
        ``"auto"`` to decide each numeric column's decimal mark from its values, or
        ``"."`` or ``","`` to force it (``records.decimal``).
    options
        Keyword options of :func:`klastergeo.io.registry.reading.read_records`
        (``delimiter``, ``encoding``, ``sheet``, ``layer``).
    batch_size
        Records per batch; a file with no more is read whole.
    tell
        Called as ``tell(stage, done, total)`` while a CSV file is staged.
    formats
        Whether to decide the number formats, sector widths and coordinate units of the
        whole file (False: the rows are only staged).
    need_sector
        Whether the command needs a sector column
        (:func:`klastergeo.io.registry.mapping.resolve_columns`).

    Returns
    -------
    Source
        The source of batches.
    """
    suffix = path.suffix.lower()
    if not _fits_one_batch(path, batch_size):
        if suffix in CSV_SUFFIXES:
            return _stage_csv(
                path, work, columns=columns, decimal=decimal, options=options, tell=tell,
                formats=formats, need_sector=need_sector,
            )  # fmt: skip
        if suffix in PARQUET_SUFFIXES and not _geoparquet(path):
            return _parquet(
                path, columns=columns, decimal=decimal, batch_size=batch_size, formats=formats,
                need_sector=need_sector,
            )  # fmt: skip
    raw = read_records(path, **options, columns=columns)
    return whole_source(raw, path, columns=columns, decimal=decimal, need_sector=need_sector)


def whole_source(
    raw: RawRecords,
    path: Path,
    *,
    columns: Columns | None,
    decimal: Decimal,
    need_sector: bool = True,
) -> Source:
    """Records held whole in memory (a file read whole, or a table) as a source of one
    batch, with what is decided for the whole of it: the column mapping, each numeric
    column's number format, the sector column's width and the coordinates' units.

    Parameters
    ----------
    raw
        The records as read (:func:`klastergeo.io.registry.reading.read_records`).
    path
        Where they were read from.
    columns, decimal
        As for :func:`klastergeo.io.registry.batches.validate_records`.
    need_sector
        Whether the command needs a sector column
        (:func:`klastergeo.io.registry.mapping.resolve_columns`).

    Returns
    -------
    Source
        The one-batch source.
    """
    cols = resolve_columns(
        list(raw.frame.columns),
        columns,
        has_geometry=raw.xy is not None,
        implied=raw.implied,
        need_sector=need_sector,
    )
    raw = dataclasses.replace(raw, frame=single_values(raw.frame, cols))
    # the malformed lines come in the commit, apart; the record numbers stay
    good = dataclasses.replace(raw, malformed=pd.DataFrame(), numbers=raw.rows)
    firms = skip_rows(good if len(raw.malformed) else raw, cols)
    evidence = _Evidence(cols, decimal, raw.delimiter)
    evidence.add(firms[0].frame)
    return Source(
        path=path,
        format=raw.format,
        cols=cols,
        formats=evidence.decided(),
        n_rows=len(raw.frame),
        n_read=raw.n_read,
        malformed=raw.malformed,
        header=list(raw.frame.columns),
        whole=raw,
        firms=firms,
        lengths=evidence.lengths,
        coord_units=evidence.units,
        layout=raw.layout,
        implied=implied_roles(raw, cols, columns),
    )


def _fits_one_batch(path: Path, batch_size: int) -> bool:
    """Whether a CSV or Parquet registry holds at most ``batch_size`` records: it is then
    read and checked whole, in memory (no staging, no spilling). A CSV file's lines are
    counted (at least its records); other files count as fitting (they are read whole)."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        try:
            return int(pq.ParquetFile(path).metadata.num_rows) <= batch_size
        except MemoryError:  # not the file's fault: the guard says which step ran out
            raise
        except Exception:  # a damaged file: the reader names the problem
            return True
    if suffix not in CSV_SUFFIXES:
        return True
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            lines += chunk.count(b"\n")
            if lines > batch_size + 1:
                return False
    return True


def _geoparquet(path: Path) -> bool:
    """Whether a Parquet file has GeoParquet metadata (read whole, as a GIS file)."""
    try:
        return b"geo" in (pq.read_schema(path).metadata or {})
    except MemoryError:  # not the file's fault: the guard says which step ran out
        raise
    except Exception:  # a damaged file: the reader names the problem
        return True


@dataclass
class _Evidence:
    """What decides a column for the whole file, summed batch by batch: the number
    formats' evidence and the KBLI lengths of the sector column."""

    cols: Columns
    decimal: Decimal
    delimiter: str | None
    formats: list[dict[str, NumberFormat]] = field(default_factory=list)
    lengths: NDArray[np.int64] | None = None
    active: bool = True  # False: rows are only staged, nothing is decided
    units: tuple[int, int, tuple[str, ...]] = (0, 0, ())

    @property
    def wanted(self) -> list[str]:
        sector = [self.cols.sector] if self.cols.sector is not None else []
        pair = [self.cols.coordinates] if self.cols.coordinates else []
        return list(dict.fromkeys([*numeric_columns(self.cols), *pair, *sector]))

    def add(self, frame: pd.DataFrame) -> None:
        if not self.active:
            return
        self.formats.append(
            {
                name: number_format(
                    frame[name], decimal=self.decimal, delimiter=self.delimiter, coordinate=c
                )
                for name, c in numeric_columns(self.cols).items()
            }
        )
        if self.cols.sector is None:  # a survey without KBLI codes (klastergeo model)
            return
        counts = sector_lengths(frame[self.cols.sector])
        self.lengths = counts if self.lengths is None else self.lengths + counts
        numbers, beyond, examples = coordinate_units(frame, self.cols)
        seen = self.units
        self.units = (seen[0] + numbers, seen[1] + beyond, (*seen[2], *examples)[:3])

    def decided(self) -> dict[str, NumberFormat]:
        if not self.active:
            return {}
        own = merge_formats(self.formats, decimal=self.decimal, delimiter=self.delimiter)
        return file_formats(own, self.cols)


def _parquet(
    path: Path,
    *,
    columns: Columns | None,
    decimal: Decimal,
    batch_size: int,
    formats: bool = True,
    need_sector: bool = True,
) -> Source:
    """A plain Parquet registry, read where it is; a first pass reads the numeric and
    sector columns for the evidence."""
    try:
        parquet = pq.ParquetFile(path)
        names = [str(n) for n in parquet.schema_arrow.names]
    except MemoryError:  # not the file's fault: the guard says which step ran out
        raise
    except Exception as err:  # pyarrow raises many types for a damaged file
        raise ValidationError(
            f"cannot read {str(path)!r} as Parquet ({type(err).__name__}: {err})"
        ) from err
    check_header(names, path)
    cols = resolve_columns(names, columns, has_geometry=False, need_sector=need_sector)
    mapped = {v for v in vars(cols).values() if v is not None}
    nested = tuple(
        field.name
        for field in parquet.schema_arrow
        if field.name in mapped and pa.types.is_nested(field.type)
    )
    evidence = _Evidence(cols, decimal, None, active=formats)
    wanted = evidence.wanted if formats else []
    for table in parquet_batches(path, batch_size, columns=wanted) if wanted else ():
        evidence.add(single_values(as_text(table.to_pandas(), path), cols))
    if not evidence.formats:
        empty = parquet.schema_arrow.empty_table().select(evidence.wanted).to_pandas()
        evidence.add(empty)
    n = parquet.metadata.num_rows
    return Source(
        path=path,
        format="parquet",
        cols=cols,
        formats=evidence.decided(),
        n_rows=n,
        n_read=n,
        header=names,
        text=True,
        lengths=evidence.lengths,
        coord_units=evidence.units,
        nested=nested,
    )


def _stage_csv(
    path: Path,
    work: Path,
    *,
    columns: Columns | None,
    decimal: Decimal,
    options: dict[str, Any],
    tell: Progress,
    formats: bool = True,
    need_sector: bool = True,
) -> Source:
    """Read a CSV file once, in blocks, into a Parquet file of text."""
    layout = csv_layout(
        path, delimiter=options.get("delimiter"), encoding=options.get("encoding"), columns=columns
    )
    cols = resolve_columns(layout.header, columns, has_geometry=False, need_sector=need_sector)
    encoding = layout.encoding

    def stage(encoding: str) -> tuple[Path, _Evidence, list[dict[str, Any]]]:
        evidence = _Evidence(cols, decimal, layout.delimiter, active=formats)
        return _csv_to_parquet(path, work, layout, encoding, evidence, tell)

    try:
        try:
            staged, evidence, malformed = stage(encoding)
        except pa.ArrowInvalid as err:
            if not (
                "UTF8" in str(err)
                and options.get("encoding") is None
                and encoding.startswith("utf-8")
            ):
                raise
            logger.warning(
                "%s is not valid UTF-8 throughout; reading it as Windows-1252", path.name
            )
            encoding = "cp1252"
            staged, evidence, malformed = stage(encoding)
    except MemoryError:  # not the file's fault: the guard says which step ran out
        raise
    except (pa.ArrowException, UnicodeError, LookupError, ValueError) as err:
        raise ValidationError(
            f"cannot read CSV {str(path)!r} (delimiter {layout.delimiter!r}, "
            f"encoding {encoding}): {err}"
        ) from err
    n_rows = pq.ParquetFile(staged).metadata.num_rows
    bad = pd.DataFrame(malformed, columns=["line", "raw_line"])
    bad["row"] = bad["line"].astype("Int64") - layout.skip
    if len(bad):
        logger.warning(
            "%d line(s) of %s do not have %d fields", len(bad), path.name, len(layout.header)
        )
    logger.info(
        "read %d rows x %d columns from %s (delimiter %r, encoding %s)",
        n_rows,
        len(layout.header),
        path.name,
        layout.delimiter,
        encoding,
    )
    if not evidence.formats:
        evidence.add(pd.DataFrame({name: pd.Series(dtype=object) for name in layout.header}))
    return Source(
        path=staged,
        format="csv",
        cols=cols,
        formats=evidence.decided(),
        n_rows=n_rows,
        n_read=n_rows + len(bad),
        delimiter=layout.delimiter,
        encoding=encoding,
        malformed=bad,
        header=layout.header,
        lengths=evidence.lengths,
        coord_units=evidence.units,
        layout=layout.layout(n_rows + len(bad)),
    )


def _csv_to_parquet(
    path: Path,
    work: Path,
    layout: CsvLayout,
    encoding: str,
    evidence: _Evidence,
    tell: Progress,
) -> tuple[Path, _Evidence, list[dict[str, Any]]]:
    staged = work / "registry.parquet"
    malformed: list[dict[str, Any]] = []

    def on_invalid(row: Any) -> str:
        malformed.append({"line": row.number, "raw_line": row.text})
        return "skip"

    size = max(path.stat().st_size, 1)
    schema = pa.schema([(name, pa.string()) for name in layout.header])
    with (
        path.open("rb") as handle,
        pq.ParquetWriter(staged, schema, **SCRATCH) as writer,
    ):
        reader = pacsv.open_csv(
            handle, **layout.options(on_invalid, encoding=encoding, threads=False)
        )
        for batch in reader:
            writer.write_batch(batch, row_group_size=1 << 17)
            if evidence.active:
                evidence.add(pa.Table.from_batches([batch]).select(evidence.wanted).to_pandas())
            tell("stage", min(handle.tell(), size), size)
    return staged, evidence, malformed
