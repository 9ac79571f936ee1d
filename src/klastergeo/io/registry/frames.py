"""DataFrames (the Python API): an in-memory table written as a registry file
(:func:`stage_frame`), its index and geometry made columns."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from klastergeo.errors import ValidationError, preview
from klastergeo.io.registry import headers
from klastergeo.io.registry.columns import Columns
from klastergeo.io.registry.mapping import TYPE_OF

__all__ = [
    "INDEX_ID",
    "StagedFrame",
    "stage_frame",
]

#: The ingest engine's one logger (what the batches' de-duplication of messages and the
#: workers' capture follow).
logger = logging.getLogger(__package__)


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
    >>> from klastergeo.io.registry.reading import read_records
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
    _write_frame(table, out_path)
    return StagedFrame(out_path, id_col, len(table))


def _write_frame(table: pd.DataFrame, out_path: Path) -> None:
    """Write the records (a GeoDataFrame keeps its geometry) as the Parquet file
    :func:`stage_frame` gives."""
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
    kinds = TYPE_OF(objects)  # the builtin type(), called from C
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
