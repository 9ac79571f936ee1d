"""The firms output: every kept firm with what the run found about it, as GeoParquet
partitioned by province (``firms/province=33/part-0.parquet``).

The firms are streamed block by block from their store (:class:`~.firms.FirmStore`):
each block gets the columns the run added (``sentra_id``, ``in_sentra``; for H3 runs the
cell as ``area_code`` and the administrative ``admin_code``), the models' ``p_*``
predicted for that block from its own predictors, and point geometry (here, or on Dask's
workers with a scheduler, :func:`~.spread.over_blocks`); here it is split by province and
appended to that province's file in row groups of :data:`ROW_GROUP` firms, on
:data:`THREADS` threads while the next block is completed (Arrow takes, encodes and
compresses the rows without Python's lock, so the write uses both cores of a small
machine). Memory is set by two blocks and the row groups, not by the number of firms;
firms keep the registry's order within a province, and the files are the same bytes
wherever the blocks ran and however many threads wrote them.

``geopandas.read_parquet("firms")`` (or ``pyarrow.dataset``, DuckDB, QGIS with GDAL
3.8+) reads the folder as one table, with the province as a partition column, and a
filter such as ``filters=[("province", "=", "33")]`` reads one province only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyproj
from numpy.typing import NDArray

from klastergeo.app.pipeline.spread import over_blocks
from klastergeo.errors import preview
from klastergeo.io.files import note, writing
from klastergeo.io.registry.firms import FirmStore
from klastergeo.publish.gis import (
    MAX_FIELDS,
    NUL_ESCAPE,
    fixed_gdal_time,
    gpkg_names,
    note_nul,
)
from klastergeo.schema import RESERVED_FIRM_COLUMNS

__all__ = ["FOLDER", "GPKG", "ROW_GROUP", "point_wkb", "read_firms", "write_firms"]

logger = logging.getLogger(__name__)

#: The output folder of the firms, inside a run's outputs.
FOLDER = "firms"
#: The optional GeoPackage of the firms (``[output] firms_gpkg``).
GPKG = "firms.gpkg"
#: Firms per Parquet row group (the unit a reader filters and decompresses).
ROW_GROUP = 131_072
#: Threads that encode, compress and write the files of the firms while the next block
#: is completed (:func:`write_firms`).
THREADS = 2


def point_wkb(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> pa.BinaryArray:
    """Little-endian WKB points of the coordinates, built with numpy (21 bytes a point,
    no geometry object per firm).

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes (EPSG:4326); where either is NaN (a firm placed by
        its area) the point is null.

    Examples
    --------
    >>> import shapely
    >>> wkb = point_wkb(np.array([110.5]), np.array([-7.25]))
    >>> shapely.from_wkb(wkb[0].as_py()).wkt
    'POINT (110.5 -7.25)'
    """
    n = len(lon)
    # a firm placed by its area's code or name has no point: a null geometry (no bytes),
    # never POINT (nan nan) and never its village's centre
    valid = np.isfinite(lon) & np.isfinite(lat)
    m = int(valid.sum())
    record = np.zeros(m, dtype=[("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])
    record["order"], record["kind"] = 1, 1
    record["x"], record["y"] = lon[valid], lat[valid]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.where(valid, 21, 0), out=offsets[1:])
    bitmap = None if m == n else pa.array(valid).buffers()[1]
    return pa.BinaryArray.from_buffers(
        pa.binary(),
        n,
        [bitmap, pa.py_buffer(offsets), pa.py_buffer(record.tobytes())],
        null_count=n - m,
    )


def _geo_metadata() -> bytes:
    """GeoParquet 1.1 metadata of the ``geometry`` column (points in EPSG:4326)."""
    return json.dumps(
        {
            "version": "1.1.0",
            "primary_column": "geometry",
            "columns": {
                "geometry": {
                    "encoding": "WKB",
                    "geometry_types": ["Point"],
                    "crs": pyproj.CRS.from_epsg(4326).to_json_dict(),
                }
            },
        }
    ).encode()


class _Province:
    """One province's file: rows buffered and written a full row group at a time."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.buffer: list[pa.Table] = []
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        self.buffer.append(table)
        self.rows += table.num_rows
        while self.rows >= ROW_GROUP:
            joined = pa.concat_tables(self.buffer)
            self.writer.write_table(joined.slice(0, ROW_GROUP), row_group_size=ROW_GROUP)
            rest = joined.slice(ROW_GROUP)
            self.buffer, self.rows = [rest], rest.num_rows

    def close(self, *, rest: bool = True) -> None:
        """Write the last (partial) row group unless ``rest`` is False, and close."""
        try:
            if self.rows and rest:
                self.writer.write_table(pa.concat_tables(self.buffer), row_group_size=ROW_GROUP)
        finally:
            self.buffer, self.rows = [], 0
            self.writer.close()


class _Files:
    """The files of the partitions, written on ``threads`` threads while the next block
    is completed (Arrow encodes and compresses without holding Python's lock).

    A block's partitions, their rows taken from the block here, are handed over
    together and written at once, each on one thread (a file is only ever written by
    one thread at a time); the next block is handed over once the last is written
    (:meth:`wait`), so the rows of a file keep their order and at most one block is
    written while the next is completed. With ``threads=0`` everything is written
    here, in order.
    """

    def __init__(self, target: Path, schema: pa.Schema, by_province: bool, threads: int):
        self.target, self.schema, self.by_province = target, schema, by_province
        self.provinces: dict[str, _Province] = {}
        self.pool = (
            ThreadPoolExecutor(threads, thread_name_prefix="klastergeo-firms") if threads else None
        )
        self.pending: list[Future[None]] = []

    def add(self, table: pa.Table, keys: pa.Array) -> None:
        """Hand over a block and each row's partition (after the last block is
        written): every partition's rows are taken from the block here (Arrow's
        ``take``; the block is not held after it), then written on the threads."""
        parts = _by_province(table, keys)
        if self.pool is None:
            for key, piece in parts:
                self._province(key).add(piece)
            return
        self.wait()
        for key, piece in parts:
            self.pending.append(self.pool.submit(self._province(key).add, piece))

    def _province(self, key: str) -> _Province:
        """The file of partition ``key`` (opened here at its first rows)."""
        if key not in self.provinces:
            name = f"province={key}" if self.by_province else "."
            self.provinces[key] = _Province(self.target / name / "part-0.parquet", self.schema)
        return self.provinces[key]

    def wait(self) -> None:
        """Wait until every partition handed over is written; a thread's error is raised
        here (the first, in the order handed over)."""
        pending, self.pending = self.pending, []
        wait(pending)
        for future in pending:
            future.result()

    def close(self, *, failed: bool) -> None:
        """Write every file's last row group and close it; the first error of a thread
        is raised here. After an error (``failed``, or of a thread) the files are only
        closed, and nothing is raised over the caller's error."""
        pending, self.pending = self.pending, []
        wait(pending)
        errors = [f.exception() for f in pending]
        rest = not (failed or any(errors))
        try:
            closing = [
                self.pool.submit(p.close, rest=rest)
                if self.pool is not None
                else _done(p.close, rest=rest)
                for p in self.provinces.values()
            ]
            wait(closing)
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)
        first = next((e for e in [*errors, *(f.exception() for f in closing)] if e), None)
        if first is not None and not failed:
            raise first


def _done(call: Callable[..., None], **kwargs: bool) -> Future[None]:
    """``call(**kwargs)`` run now, as a finished future (its error held, not raised)."""
    future: Future[None] = Future()
    try:
        call(**kwargs)
    except Exception as err:
        future.set_exception(err)
    else:
        future.set_result(None)
    return future


def write_firms(
    folder: Path,
    store: FirmStore,
    added: pd.DataFrame | Callable[[int, pa.Table], pd.DataFrame],
    *,
    by_province: bool = True,
    progress: Callable[[int, int], None] | None = None,
    gpkg: bool = False,
    created: str | datetime | None = None,
    predict: Callable[[int, pa.Table], dict[str, NDArray[np.float64]]] | None = None,
    scheduler: str = "",
    workers: int | None = 1,
    threads: int = THREADS,
) -> Path:
    """Write every firm with the run's columns into ``folder / "firms"`` (and, when
    asked, into ``folder / "firms.gpkg"``, layer ``firms``, in the same pass).

    Parameters
    ----------
    folder
        The run's (staging) output folder.
    store
        The kept firms.
    added
        The run's columns of every firm, in the store's order (``sentra_id``,
        ``in_sentra``, ``p_*``; ``area_code`` and ``admin_code`` replace the store's); or
        what makes them for a part (``added(position of its first firm, part)``, e.g.
        :meth:`~.firm_columns.FirmColumns.added`: nothing held for every firm).
    by_province
        Partition by province (the first two characters of the Kemendagri area code,
        or of ``admin_code`` in an H3 run); False for one file (custom polygons).
    progress
        Called as ``progress(firms written, firms)`` after each part.
    gpkg
        Also append every part to a GeoPackage (pyogrio, points in EPSG:4326), for a GIS
        that reads no GeoParquet (GDAL before 3.8, as in QGIS on Debian 12). Columns a
        GeoPackage cannot take as they are (``fid``, ``geom``, names equal but for case)
        are renamed there, with a note (:func:`~klastergeo.publish.gis.gpkg_names`).
    created
        The run's time, the GeoPackage's ``last_change``; None for the time of writing.
    predict
        The models' probabilities of a part (``predict(position of its first firm,
        part)`` -> ``{"p_logit": values, ...}``, :meth:`~.probabilities.Models.predict`),
        added after ``added``'s columns: computed here, part by part, so that no
        probability is held for every firm; None for none.
    scheduler
        Where the blocks of firms are completed (their columns, probabilities and
        points): ``""`` on this machine's cores, or a ``records.scheduler`` value
        (:func:`~.spread.over_blocks`); the files are written here, in the store's order.
    workers
        Processes of this machine that complete the blocks without a scheduler (None:
        ``records.workers``' default). One by default: a completed block of a million
        firms is a table of about 200 MB to send back, and two processes did not make
        the write step faster (57-58 s at 26.7 M firms either way).
    threads
        Threads that write the files (:data:`THREADS`) while the next block is
        completed here; 0 writes them here, between the blocks (as with forked
        processes, ``workers`` other than 1). The files are the same bytes either way.

    Returns
    -------
    Path
        The folder written.
    """
    target = folder / FOLDER
    target.mkdir()
    if not scheduler and workers != 1:
        threads = 0  # no thread of ours holds a lock while the blocks' processes are forked
    files: _Files | None = None
    total = len(store)
    nul = 0  # texts whose NUL characters firms.gpkg holds as escapes
    done = 0  # firms handed over in the blocks before the last
    # a full disk: Arrow's error names no file, so the folder is named
    with writing(target), fixed_gdal_time(created if gpkg else None):
        failed = True
        try:
            for start, table, ours in _completed(store, added, predict, scheduler, workers):
                if files is None:
                    files = _Files(target, _schema(store, table), by_province, threads)
                table = table.cast(files.schema)
                if gpkg:
                    nul += _append_gpkg(folder / GPKG, table, first=start == 0, ours=ours)
                files.add(table, _province_keys(table, by_province))
                if progress is not None and start:  # the last block is written
                    progress(done, total)
                done = start + table.num_rows
                del table  # only its partitions, being written, while the next is completed
            failed = False
        finally:
            if files is not None:
                files.close(failed=failed)
    if progress is not None:
        progress(done, total)
    provinces = len(files.provinces) if files is not None else 0
    if nul:
        note_nul(GPKG, nul)
    if gpkg and not total:
        logger.warning("firms.gpkg: no firm was kept, so there is no layer to write")
    logger.info("firms: %d written in %d file(s)", total, provinces)
    return target


Added = pd.DataFrame | Callable[[int, pa.Table], pd.DataFrame]
Predict = Callable[[int, pa.Table], dict[str, NDArray[np.float64]]]


def _completed(
    store: FirmStore, added: Added, predict: Predict | None, scheduler: str, workers: int | None
) -> Iterator[tuple[int, pa.Table, frozenset[str]]]:
    """Every firm with the run's columns and its point, a block at a time in the
    store's order (:func:`completed_block`, run here, on this machine's cores or on
    Dask), with the names of the run's columns."""
    if not len(store):  # no firm: the store's (empty) tables, for the schema
        for start, part in store.tables():
            table, ours = completed_block(
                store, only=[], size=1, added=added, predict=predict, part=(start, part)
            )
            yield start, table, ours
        return
    start = 0
    for table, ours in over_blocks(
        completed_block,
        store,
        scheduler=scheduler,
        workers=workers,
        kwargs={"added": added, "predict": predict},
    ):
        n = table.num_rows
        yield start, table, ours
        del table  # not held while the next block is completed
        start += n


def completed_block(
    store: FirmStore,
    *,
    only: Sequence[int],
    size: int,
    added: Added,
    predict: Predict | None,
    part: tuple[int, pa.Table] | None = None,
) -> tuple[pa.Table, frozenset[str]]:
    """A block of the firms (every column, :meth:`~.FirmStore.blocks`) with the run's
    columns, the models' probabilities and the point geometry (a task of
    :func:`~.spread.over_blocks`), and the names of the run's columns.

    Parameters
    ----------
    store
        The kept firms.
    only, size
        The block and the block size.
    added, predict
        As for :func:`write_firms`.
    part
        A table to complete instead of a block (its first firm's position, the table).
    """
    ((start, table),) = [part] if part is not None else store.blocks(None, only=only, size=size)
    columns = added(start, table) if callable(added) else added.iloc[start : start + table.num_rows]
    ours = frozenset({*RESERVED_FIRM_COLUMNS, *columns.columns})
    if predict is not None:
        columns = columns.assign(**predict(start, table))
    return _with_columns(table, columns), ours


def _append_gpkg(
    path: Path, table: pa.Table, *, first: bool, ours: frozenset[str] = frozenset()
) -> int:
    """Append a part of the firms to the GeoPackage layer ``firms`` (created by the
    first part); the WKB points become the layer's geometry. Columns a GeoPackage
    cannot take as they are renamed; a registry with more columns than a layer holds
    (:data:`~klastergeo.publish.gis.MAX_FIELDS`) keeps the run's columns (``ours``) and
    its first ones (both noted with the first part); NUL characters of texts are
    written as ``\\x00`` (GDAL would end the text there); a full or read-only disk is an
    ``OSError`` naming ``path``. Returns how many texts held a NUL."""
    from pyogrio.raw import write_arrow

    plain = table.replace_schema_metadata(None)  # pandas metadata is not GIS metadata
    plain = plain.drop_columns([c for c in ("lon", "lat") if c in plain.column_names])
    names = [c for c in plain.column_names if c != "geometry"]
    if len(names) > MAX_FIELDS:
        room = MAX_FIELDS - sum(1 for c in names if c in ours)
        theirs = [c for c in names if c not in ours]
        left_out = theirs[room:]
        if first:
            note(
                path.name,
                f"the registry's {len(theirs):,} other columns and the run's are more than "
                f"a GeoPackage layer holds ({MAX_FIELDS:,}); the first {room:,} are kept, "
                f"{len(left_out):,} left out ({preview(left_out)}); firms/ (GeoParquet) has "
                "them all",
            )
        plain = plain.drop_columns(left_out)
        names = [c for c in names if c not in set(left_out)]
    renamed = gpkg_names(names, file=path.name if first else "")
    if renamed:
        plain = plain.rename_columns([renamed.get(c, c) for c in plain.column_names])
    plain, nul = _nul_free(plain)
    # a column empty in every row has Arrow's null type, which OGR has no field for
    plain = plain.cast(
        pa.schema(
            [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in plain.schema]
        )
    )
    with writing(path):
        write_arrow(
            plain,
            path,
            layer="firms",
            driver="GPKG",
            geometry_name="geometry",
            geometry_type="Point",
            crs=pyproj.CRS.from_epsg(4326).to_wkt(),
            append=not first,
        )
    return nul


def _nul_free(table: pa.Table) -> tuple[pa.Table, int]:
    """``table`` with the NUL characters of its text columns written as ``\\x00``, and
    how many values held one (Arrow compute, no Python step per firm)."""
    count = 0
    for i, field in enumerate(table.schema):
        kind = field.type
        if pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type):
            kind = pa.string()
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            continue
        column = table.column(i).cast(kind)
        found = pc.sum(pc.match_substring(column, "\x00")).as_py() or 0
        if found:
            fixed = pc.replace_substring(column, "\x00", NUL_ESCAPE)
            table = table.set_column(i, field.with_type(kind), fixed)
            count += int(found)
    return table, count


def _with_columns(table: pa.Table, added: pd.DataFrame) -> pa.Table:
    """A part of the store (Arrow, no pandas objects) with the run's columns and the
    point geometry."""
    table = table.drop_columns([c for c in added.columns if c in table.column_names])
    for name in added.columns:
        column = added[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            values = pa.array(column.array).cast(pa.string())  # dictionary -> text
        else:
            values = pa.array(column.to_numpy())
        table = table.append_column(name, values)
    lon = table.column("lon").to_numpy().astype(float)
    lat = table.column("lat").to_numpy().astype(float)
    return table.append_column("geometry", point_wkb(lon, lat))


def _schema(store: FirmStore, first: pa.Table) -> pa.Schema:
    """The schema of every file: the parts' types unified (a column empty in one part is
    typed by the others), with the pandas and GeoParquet metadata."""
    if store.validation.memory is None and len(store.validation.parts) > 1:
        parts = pa.unify_schemas(
            [pq.read_schema(p) for p in store.validation.parts], promote_options="permissive"
        )
        fields = [
            parts.field(f.name) if f.name in parts.names and pa.types.is_null(f.type) else f
            for f in first.schema
        ]
        schema = pa.schema(fields)
    else:
        schema = first.schema
    metadata = dict(first.schema.metadata or {})
    metadata[b"geo"] = _geo_metadata()
    return schema.with_metadata(metadata)


def _by_province(table: pa.Table, keys: pa.Array) -> Iterator[tuple[str, pa.Table]]:
    """The rows of ``table`` of each partition ``keys`` name, in the order of the keys
    and, within one, of the table (:func:`_partitions`), each partition's rows taken
    into a table of their own (not a slice, which would keep the whole block alive in a
    province's buffer)."""
    for key, rows in _partitions(keys):
        yield key, _taken(table, rows)


def _partitions(keys: pa.Array) -> list[tuple[str, NDArray[np.intp] | None]]:
    """Each partition ``keys`` name, in key order, with the positions of its rows in
    order (None: every row): one stable sort, not a pass over the keys per partition."""
    encoded = pc.dictionary_encode(keys)
    names = encoded.dictionary.to_pylist()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    if len(names) == 1:
        return [(names[0], None)]
    rank = np.argsort(np.argsort(np.asarray(names, dtype=object)))  # codes by key order
    order = np.argsort(rank[codes], kind="stable")
    sizes = np.bincount(rank[codes], minlength=len(names))
    ends = np.cumsum(sizes)
    return [
        (key, order[end - size : end])
        for key, size, end in zip(sorted(names), sizes.tolist(), ends.tolist(), strict=True)
    ]


def _taken(table: pa.Table, rows: NDArray[np.intp] | None) -> pa.Table:
    """The rows of ``table`` at ``rows`` (None: the table)."""
    return table if rows is None else table.take(pa.array(rows))


def _province_keys(table: pa.Table, by_province: bool) -> pa.Array:
    """Each row's partition: its province code (the code's first two characters), or
    one partition."""
    if not by_province:
        return pa.array(np.full(table.num_rows, "."), pa.string())
    name = "admin_code" if "admin_code" in table.column_names else "area_code"
    codes = table.column(name).combine_chunks().cast(pa.string())
    return pc.fill_null(pc.utf8_slice_codeunits(codes, 0, 2), "unknown")


def read_firms(out: str | Path, **kwargs: object) -> pd.DataFrame:
    """The firms output of a run, as one GeoDataFrame indexed by record id.

    Parameters
    ----------
    out
        The run's output folder (or its ``firms`` folder).
    **kwargs
        Passed to :func:`geopandas.read_parquet` (e.g. ``columns``, or ``filters`` such
        as ``[("province", "=", "33")]``).
    """
    import geopandas as gpd

    path = Path(out)
    if path.name != FOLDER:
        path = path / FOLDER
    firms = gpd.read_parquet(path, **kwargs)
    if "province" in firms.columns:
        firms = firms.drop(columns="province")
    if "row" in firms.columns:  # the provinces' files back in the registry's order
        firms = firms.sort_values("row", kind="stable")
    return firms
