"""The registry in batches: memory set by the batch size, not by the number of records.

:func:`validate_in_batches` validates a registry of any size, holding at most one batch
of records at a time; :func:`validate_records` validates records held in memory as one
batch. Both give the same verdicts (kept firms, rejections, repairs and messages):

1. **Stage** (:mod:`klastergeo.io.registry.sources`). A CSV file is read once with
   pyarrow's streaming reader and written as a Parquet file of text, so that the later
   passes read it fast and can fetch rows by position. A Parquet registry is read where
   it is. Excel and GIS files (small by nature) are read whole, as one batch. On the way,
   each numeric column's number-format evidence is counted, so the decimal mark is
   decided for the whole file.
2. **Check** (:func:`klastergeo.io.registry.validation.check_batch`, on this machine's
   cores or on Dask: :mod:`klastergeo.io.registry.distributed`). Each batch gets every
   check of one row alone (:func:`klastergeo.io.registry.checks.check_rows`). Usable rows
   are spilled as candidates, rejected ones with their reason. The 64-bit hash of each
   usable row's duplicate key (its id, or its coordinates) and its position (16 bytes a
   record) are spilled too, into buckets by the hash's top bits.
3. **Duplicates.** Keys whose hash repeats are the suspects, found bucket by bucket.
   Their rows are fetched by position and compared exactly
   (:func:`klastergeo.io.registry.validation.find_duplicates`), so a hash collision
   costs a comparison, never a wrong verdict.
4. **Commit.** The candidates less the duplicates are the kept firms. They are written as
   Parquet parts in file order, and :meth:`BatchValidation.report` loads them when wanted.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from klastergeo._docstrings import fill
from klastergeo.errors import ConfigError
from klastergeo.io.registry import distributed, headers, placement, sheets
from klastergeo.io.registry.checks import Checks, check_missing_ids, sample_outside
from klastergeo.io.registry.columns import Columns
from klastergeo.io.registry.numbers import NumberFormat, check_units, file_decimal
from klastergeo.io.registry.reading import (
    EXAMPLE_REGISTRY,
    RawRecords,
    check_source,
    skipped_frame,
)
from klastergeo.io.registry.sources import (
    SCRATCH,
    Progress,
    Source,
    open_source,
    parquet_batches,
    whole_source,
)
from klastergeo.io.registry.validation import (
    BatchCheck,
    ValidationReport,
    check_batch,
    find_duplicates,
    locate,
    rejected_frame,
)
from klastergeo.options import Decimal

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "BatchValidation",
    "Registry",
    "open_registry",
    "parquet_batches",
    "validate_in_batches",
    "validate_records",
]

logger = logging.getLogger(__name__)

#: The duplicate keys spill into 2**KEY_BITS buckets (a 65-million-record registry:
#: about 16 MB a bucket).
KEY_BITS = 6
KEY_BUCKETS = 1 << KEY_BITS

#: Threads that write the kept firms' parts at the commit.
COMMIT_THREADS = 2

#: Records per batch: about 0.5-1 GB of working memory for a registry of 10-20 columns.
DEFAULT_BATCH_SIZE = 500_000


@dataclass(frozen=True)
class BatchValidation:
    """Outcome of :func:`validate_in_batches`.

    Attributes
    ----------
    parts
        Parquet files of the kept firms, in file order (``record_id`` index, the columns
        of :attr:`klastergeo.io.registry.records.ValidationReport.records` without the geometry).
    rejected, repaired
        As in :class:`~klastergeo.io.registry.records.ValidationReport`, in file order.
    n_read, n_kept
        Records read (malformed lines included) and kept.
    """

    parts: tuple[Path, ...]
    rejected: pd.DataFrame
    repaired: pd.DataFrame
    n_read: int
    n_kept: int
    columns: Columns
    number_formats: dict[str, NumberFormat] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    sector_typed: bool = False
    n_batches: int = 0
    order: tuple[str, ...] = ()  # the kept firms' columns, geometry included
    memory: pd.DataFrame | None = None  # the kept firms of a registry read whole
    units: dict[str, headers.MeasureUnit] = field(default_factory=dict)  # of the measures
    header: tuple[str, ...] = ()  # the file's column names
    #: where (a sample of) the records outside the study area lie, as
    #: :attr:`klastergeo.io.registry.records.ValidationReport.outside`
    outside: NDArray[np.float64] | None = None
    placement: dict[str, int] = field(default_factory=dict)  # kept firms by placement
    skipped: pd.DataFrame | None = None  # rows that are not firms (skip_rows)
    layout: sheets.Layout | None = None  # where a spreadsheet's tables are
    implied: dict[str, str] = field(default_factory=dict)  # roles a column stood for

    def firms(self) -> Iterator[gpd.GeoDataFrame]:
        """The kept firms, one part at a time (points in EPSG:4326)."""
        if self.memory is not None:
            yield self._firms(self.memory)
        for part in self.parts:
            yield self._firms(pd.read_parquet(part))

    def _firms(self, frame: pd.DataFrame) -> gpd.GeoDataFrame:
        lon, lat = frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float)
        points = np.asarray(gpd.points_from_xy(lon, lat), dtype=object)
        points[~(np.isfinite(lon) & np.isfinite(lat))] = None  # placed by area: no point
        firms = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, index=frame.index, crs=4326))
        return firms[list(self.order)] if self.order else firms

    def read(self, columns: Sequence[str]) -> pd.DataFrame:
        """Some columns of every kept firm, in file order (the ``record_id`` index is
        left out): what a step that needs only them reads instead of the whole firms.

        Parameters
        ----------
        columns
            Columns of the kept firms (e.g. ``area_code``, ``sector``, ``workers``).

        Returns
        -------
        DataFrame
            One row per kept firm.
        """
        if self.memory is not None:
            return self.memory[list(columns)].reset_index(drop=True)
        frames = [
            pd.read_parquet(part, columns=list(columns)).reset_index(drop=True)
            for part in self.parts
        ]
        return _concat(frames)

    def report(self, *, whole: bool = True) -> ValidationReport:
        """The verdicts as :func:`klastergeo.io.registry.records.validate_records` returns them.

        Parameters
        ----------
        whole
            Hold every kept firm in the report's ``records`` (in memory); False for
            their columns only, with ``kept`` counting them (a national registry).
        """
        if self.memory is not None:
            kept = self._firms(self.memory if whole else self.memory.iloc[:0])
        elif whole:
            kept = self._firms(_concat([pd.read_parquet(p) for p in self.parts], index=True))
        else:
            kept = self._firms(pq.read_schema(self.parts[0]).empty_table().to_pandas())
        row = "row" if "row" in self.rejected.columns else "row_klastergeo"
        skipped = self.skipped if self.skipped is not None else skipped_frame(None)
        return ValidationReport(
            records=kept,
            rejected=locate(self.rejected, self.layout, row=row),
            repaired=locate(self.repaired, self.layout),
            n_read=self.n_read,
            columns=self.columns,
            number_formats=self.number_formats,
            decimal=file_decimal(self.number_formats),
            renamed=self.renamed,
            sector_typed=self.sector_typed,
            kept=None if whole else self.n_kept,
            units=self.units,
            header=self.header,
            outside=self.outside,
            placement=dict(self.placement),
            skipped=locate(skipped, self.layout, sheet=True),
            layout=self.layout,
            implied=dict(self.implied),
        )


@fill(example_registry=EXAMPLE_REGISTRY)
def validate_in_batches(
    path: str | Path,
    *,
    workdir: str | Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    columns: Columns | None = None,
    areas: gpd.GeoDataFrame | None = None,
    snap_m: float = 100.0,
    sector_digits: int = 2,
    decimal: Decimal = "auto",
    places: placement.Gazetteer | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    layer: str | None = None,
    scheduler: str = "",
    workers: int = distributed.LOCAL_WORKERS,
    progress: Progress | None = None,
    crs: str | None = None,
    units: Mapping[str, str | None] | None = None,
) -> BatchValidation:
    """Read and validate a registry in batches (see the module docstring).

    Parameters
    ----------
    path
        The registry: CSV or Parquet are streamed; Excel and GIS files are read whole.
    workdir
        An empty or missing folder for the staged file and the spilled batches; the kept
        firms' parts stay there (remove it when done with them).
    batch_size
        Records per batch (at least 1).
    columns, areas, snap_m, sector_digits, decimal, places, crs, units
        As for :func:`klastergeo.io.registry.records.validate_records`.
    delimiter, encoding, sheet, layer
        As for :func:`klastergeo.io.registry.records.read_records`.
    scheduler
        Where the batches are checked (:meth:`Registry.validate`): ``""`` here, or a
        Dask scheduler (``"threads"``, ``"processes"``, ``"tcp://HOST:PORT"``).
    workers
        Processes that check the batches here when no scheduler is given
        (:meth:`Registry.validate`).
    progress
        Called as ``progress(stage, done, total)`` after each batch (``stage`` is
        ``"stage"``, with bytes, or ``"check"``/``"commit"``, with records).

    Returns
    -------
    BatchValidation
        The verdicts; ``report()`` gives the
        :class:`~klastergeo.io.registry.records.ValidationReport`
        that :func:`~klastergeo.io.registry.records.validate_records` would.

    Examples
    --------
    {example_registry}
    >>> work = Path(tempfile.mkdtemp()) / "work"
    >>> outcome = validate_in_batches(path, workdir=work, batch_size=2)
    >>> outcome.n_batches, outcome.n_kept, outcome.rejected["reason"].tolist()
    (2, 2, ['duplicate_record', 'out_of_range'])
    """
    registry = open_registry(
        path,
        workdir=workdir,
        batch_size=batch_size,
        columns=columns,
        decimal=decimal,
        delimiter=delimiter,
        encoding=encoding,
        sheet=sheet,
        layer=layer,
        progress=progress,
        crs=crs,
        units=units,
    )
    return registry.validate(
        areas=areas,
        snap_m=snap_m,
        sector_digits=sector_digits,
        scheduler=scheduler,
        workers=workers,
        progress=progress,
        places=places,
    )


@dataclass(frozen=True)
class Registry:
    """A registry opened for validation in batches: staged, with the number formats and
    sector width decided for the whole file (:func:`open_registry`)."""

    source: Source
    work: Path
    batch_size: int

    @property
    def n_read(self) -> int:
        """Records in the file, malformed lines included."""
        return self.source.n_read

    def validate(
        self,
        *,
        areas: gpd.GeoDataFrame | None = None,
        snap_m: float = 100.0,
        sector_digits: int = 2,
        scheduler: str = "",
        workers: int = distributed.LOCAL_WORKERS,
        progress: Progress | None = None,
        places: placement.Gazetteer | None = None,
    ) -> BatchValidation:
        """Check every batch, find the duplicates across batches and write the kept firms.

        Parameters
        ----------
        areas, snap_m, sector_digits, places
            As for :func:`klastergeo.io.registry.records.validate_records`.
        scheduler
            Where the batches are checked: ``""`` (on this machine's cores, see
            ``workers``), Dask's ``"threads"`` or ``"processes"``, or ``"tcp://HOST:PORT"``
            of a running ``dask.distributed`` scheduler, whose workers share the work
            folder and the registry (:mod:`klastergeo.io.registry.distributed`). The
            verdicts are the same.
        workers
            Without a scheduler: processes forked from this one that check the batches
            (at most one per core this process may use; 1 checks them here, one after
            another). The verdicts and files are the same for any number.
        progress
            Called as ``progress(stage, done, total)`` after each batch.

        Returns
        -------
        BatchValidation
            The verdicts.
        """
        tell: Progress = progress or (lambda stage, done, total: None)
        kind = distributed.scheduler_kind(scheduler)
        remote = kind != "none" and self.source.whole is None
        if kind != "none" and not remote:
            # a registry read whole is one batch, checked here; a scheduler that is
            # missing or does not answer is still an error, as for a larger file
            distributed.reach(scheduler)
            logger.info("one batch: checked here, not on the scheduler %s", scheduler)
        checker = _Checker(
            self.source,
            self.work,
            areas=areas,
            snap_m=snap_m,
            sector_digits=sector_digits,
            places=places,
        )
        log = logging.getLogger(__package__)
        with _once(log):
            if self.source.whole is not None:  # one batch, read whole: here
                for batch in self.source.batches(self.batch_size):
                    checker.check(batch)
                    tell("check", checker.done, self.source.n_rows)
            else:
                checks = (
                    distributed.check_batches(
                        self, scheduler=scheduler, areas=areas, snap_m=snap_m,
                        sector_digits=sector_digits, places=places, parts=checker.part,
                        progress=tell,
                    )
                    if remote
                    else distributed.check_here(
                        self, areas=areas, snap_m=snap_m, sector_digits=sector_digits,
                        places=places, parts=checker.part, progress=tell, workers=workers,
                    )
                )  # fmt: skip
                for done in checks:
                    for level, message in done.messages:
                        log.log(level, "%s", message)
                    checker.add(done)
        return checker.commit(checker.duplicates(), tell)


def open_registry(
    path: str | Path,
    *,
    workdir: str | Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    columns: Columns | None = None,
    decimal: Decimal = "auto",
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    layer: str | None = None,
    progress: Progress | None = None,
    formats: bool = True,
    crs: str | None = None,
    units: Mapping[str, str | None] | None = None,
    need_sector: bool = True,
) -> Registry:
    """Open a registry for :meth:`Registry.validate`: stage a CSV file as Parquet, and
    decide each numeric column's number format and the sector column's width from the
    whole file.

    Parameters
    ----------
    path
        The registry: CSV or Parquet are streamed; Excel and GIS files are read whole.
    workdir
        An empty or missing folder for the staged file and the spilled batches.
    batch_size
        Records per batch (at least 1).
    columns, decimal
        As for :func:`klastergeo.io.registry.records.validate_records`.
    delimiter, encoding, sheet, layer
        As for :func:`klastergeo.io.registry.records.read_records`.
    progress
        Called as ``progress("stage", bytes_read, file_size)`` while a CSV is staged.
    formats
        Decide the number formats and the sector column's width (what validation
        needs); False to only stage the rows (e.g. to split them by period), which
        leaves ``formats`` empty and cannot be validated.
    crs
        The coordinates' CRS (``records.crs``; None: WGS84 degrees). Without it,
        coordinates mostly beyond ±180 stop here (:class:`ValidationError`).
    units
        Units of the amounts given by the user (``{"output": "Rp"}``), overriding their
        headers' (:func:`klastergeo.io.registry.headers.measure_units`).
    need_sector
        Whether the command needs a sector column
        (:func:`klastergeo.io.registry.records.resolve_columns`).

    Returns
    -------
    Registry
        The opened registry.
    """
    if batch_size < 1:
        raise ConfigError(f"records.batch_size={batch_size!r} must be at least 1")
    work = Path(workdir)
    if work.exists() and any(work.iterdir()):
        raise ConfigError(f"work folder {str(work)!r} is not empty")
    work.mkdir(parents=True, exist_ok=True)
    source = open_source(
        check_source(path),
        work,
        columns=columns,
        decimal=decimal,
        options={"delimiter": delimiter, "encoding": encoding, "sheet": sheet, "layer": layer},
        batch_size=batch_size,
        tell=progress or (lambda stage, done, total: None),
        formats=formats,
        need_sector=need_sector,
    )
    if formats and crs is None:
        check_units(source.coord_units, source.cols)
    source.crs = crs
    measures = headers.measure_units(vars(source.cols), options=units)
    return Registry(dataclasses.replace(source, units=measures), work, batch_size)


class _Checker:
    """Gathers the batches' checks (:func:`check_batch`), finds the duplicates across
    them and commits the kept firms."""

    def __init__(
        self,
        source: Source,
        work: Path,
        *,
        areas: gpd.GeoDataFrame | None,
        snap_m: float,
        sector_digits: int,
        places: placement.Gazetteer | None = None,
    ) -> None:
        self.source, self.work = source, work
        self.areas, self.snap_m, self.sector_digits = areas, snap_m, sector_digits
        self.places = places
        self.done = 0
        self.n_batches = 0
        # a file read whole is one batch, its keys held; others' keys spill by bucket
        self.keys = _Keys(None if source.whole is not None else work / "keys")
        self.rejected: list[pd.DataFrame] = []
        self.repaired: list[pd.DataFrame] = []
        self.skipped: list[pd.DataFrame] = []
        self.candidates: list[Path] = []
        self.renamed: dict[str, str] = {}
        self.sector_typed = False
        self.order: tuple[str, ...] = ()
        self.memory: pd.DataFrame | None = None
        self.outside = np.empty((0, 3))
        (work / "candidates").mkdir()

    def part(self, index: int) -> Path | None:
        """Where batch ``index`` spills its candidates (None: a file read whole)."""
        if self.source.whole is not None:
            return None
        return self.work / "candidates" / f"part-{index:06d}.parquet"

    def check(self, raw: RawRecords) -> None:
        """Check the next batch here, in this process."""
        self.add(
            check_batch(
                self.source,
                raw,
                batch_size=max(len(raw.frame), 1),
                areas=self.areas,
                snap_m=self.snap_m,
                sector_digits=self.sector_digits,
                part=self.part(self.n_batches),
                places=self.places,
            )
        )

    def add(self, done: BatchCheck) -> None:
        """Take the next batch's check, wherever it ran (batches come in file order)."""
        if done.kept is not None:
            self.memory = done.kept  # one batch, read whole: nothing to spill
        else:
            part = self.part(self.n_batches)
            assert part is not None
            self.candidates.append(part)
        self.keys.add(done.hashes, done.positions)
        self.rejected.append(done.rejected)
        self.repaired.append(done.repaired)
        self.outside = sample_outside(self.outside, done.outside)  # memory: flat
        if done.skipped is not None:
            self.skipped.append(done.skipped)
        self.renamed, self.sector_typed, self.order = done.renamed, done.sector_typed, done.order
        self.done += done.n_rows
        self.n_batches += 1

    def duplicates(self) -> pd.DataFrame:
        """``reason``, ``detail`` and the raw row of every duplicate, by record number."""
        suspects = self.keys.suspects()
        logger.debug("%d record(s) share a duplicate key hash", len(suspects))
        raw = self.source.take(suspects)
        ids = check_missing_ids(raw, self.source.cols, Checks(raw.frame))
        found = find_duplicates(raw.frame, ids, raw.rows, id_name=self.source.cols.id or "id")
        reason = np.full(len(raw.frame), "", dtype=object)
        reason[raw.frame.index.get_indexer(found.index)] = found["reason"].to_numpy()
        detail = pd.Series(pd.NA, index=raw.frame.index, dtype="string")
        detail.loc[found.index] = found["detail"].astype("string")
        return rejected_frame(raw, reason, detail)

    def commit(self, duplicates: pd.DataFrame, tell: Progress) -> BatchValidation:
        """Write the candidates less the duplicates as the kept firms' parts."""
        row = _own(self.source.header, "row")
        gone = duplicates[row].to_numpy(dtype=np.int64)
        (self.work / "firms").mkdir()
        parts: list[Path] = []
        n_kept = 0
        placed: dict[str, int] = {}
        schema = _common_schema(self.candidates)
        targets = [self.work / "firms" / c.name for c in self.candidates]
        with ThreadPoolExecutor(COMMIT_THREADS) as pool:  # Parquet reads and writes in C++
            done = pool.map(_commit_part, self.candidates, targets, repeat(gone), repeat(schema))
            for i, (target, (kept, placements)) in enumerate(zip(targets, done, strict=True)):
                _add(placed, placements)
                parts.append(target)
                n_kept += kept
                tell("commit", i + 1, len(self.candidates))
        shutil.rmtree(self.work / "candidates", ignore_errors=True)
        memory = self.memory
        if memory is not None:
            if len(gone):
                memory = memory.loc[~np.isin(memory["row"].to_numpy(), gone)]
            n_kept += len(memory)
            _tally(placed, memory["placement"])
        rejected = _concat([self._malformed(), *self.rejected, duplicates])
        rejected = rejected.sort_values(row, kind="stable").reset_index(drop=True)
        repaired = _concat(self.repaired)
        if len(gone) and len(repaired):
            keep = ~np.isin(repaired["row"].to_numpy(), gone)
            repaired = repaired.loc[keep].reset_index(drop=True)
        skipped = _concat(self.skipped) if self.skipped else skipped_frame(None)
        n_read = self.source.n_read - len(skipped)
        logger.info(
            "records: %d read, %d kept, %d rejected, %d repaired, %d skipped (not firms) "
            "(%d batch(es))",
            n_read,
            n_kept,
            len(rejected),
            len(repaired),
            len(skipped),
            self.n_batches,
        )
        return BatchValidation(
            parts=tuple(parts),
            rejected=rejected,
            repaired=repaired,
            n_read=n_read,
            n_kept=n_kept,
            columns=self.source.cols,
            number_formats=self.source.formats,
            renamed=self.renamed,
            sector_typed=self.sector_typed,
            n_batches=self.n_batches,
            order=self.order,
            memory=memory,
            units=self.source.units,
            header=tuple(self.source.header),
            outside=self.outside,
            placement=placed,
            skipped=skipped,
            layout=self.source.layout,
            implied=dict(self.source.implied),
        )

    def _malformed(self) -> pd.DataFrame | None:
        """Rejected rows of the malformed CSV lines (None when there are none)."""
        if not len(self.source.malformed):
            return None
        empty = RawRecords(
            frame=pd.DataFrame({name: pd.Series(dtype=object) for name in self.source.header}),
            source=self.source.path,
            format=self.source.format,
            malformed=self.source.malformed,
        )
        return rejected_frame(empty, np.empty(0, dtype=object), pd.Series([], dtype="string"))


def _commit_part(
    candidate: Path, target: Path, gone: NDArray[np.int64], schema: pa.Schema
) -> tuple[int, pd.Series]:
    """Move a batch's candidates to the kept firms' part ``target``, less the rows of
    ``gone`` (duplicates found across batches): their number and placements."""
    table = pq.read_table(candidate)
    rows = table["row"].to_numpy()
    drop = np.isin(rows, gone) if len(gone) else np.zeros(len(rows), dtype=bool)
    placements = table["placement"].to_pandas().loc[~drop]
    if drop.any() or not table.schema.equals(schema):
        # the duplicates left out, and a batch whose column was empty (every record
        # rejected, or a text column blank throughout it) typed as the others: a part's
        # column of Arrow's null type breaks every reader
        table = table.filter(pa.array(~drop)) if drop.any() else table
        pq.write_table(table.cast(schema), target, **SCRATCH)
        candidate.unlink()
    else:
        candidate.rename(target)
    return int((~drop).sum()), placements.value_counts()


class _Keys:
    """The duplicate-key hashes and positions of the usable records (16 bytes each),
    held, or spilled to ``folder`` batch by batch in :data:`KEY_BUCKETS` files by the
    hash's top bits: equal hashes share a bucket, so the repeats are found bucket by
    bucket, and memory holds one bucket, not every record."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.held: list[NDArray[np.uint64]] = []
        if folder is not None:
            folder.mkdir()

    def add(self, hashes: NDArray[np.uint64], positions: NDArray[np.int64]) -> None:
        pairs = np.column_stack([hashes, positions.astype(np.uint64)])
        if self.folder is None:
            self.held.append(pairs)
            return
        bucket = (hashes >> np.uint64(64 - KEY_BITS)).astype(np.intp)
        order = np.argsort(bucket, kind="stable")
        bounds = np.searchsorted(bucket[order], np.arange(KEY_BUCKETS + 1))
        for b in np.flatnonzero(np.diff(bounds)):
            with (self.folder / f"{b:04x}.keys").open("ab") as handle:
                pairs[order[bounds[b] : bounds[b + 1]]].tofile(handle)

    def suspects(self) -> NDArray[np.int64]:
        """Sorted positions of the records whose key hash repeats."""
        if self.folder is None:
            pairs = np.concatenate(self.held) if self.held else np.empty((0, 2), np.uint64)
            self.held = []
            found = [_repeated(pairs)]
        else:
            files = sorted(self.folder.glob("*.keys"))
            found = [_repeated(np.fromfile(f, dtype=np.uint64).reshape(-1, 2)) for f in files]
            shutil.rmtree(self.folder, ignore_errors=True)
        return np.sort(np.concatenate([np.empty(0, np.int64), *found]))


def _repeated(pairs: NDArray[np.uint64]) -> NDArray[np.int64]:
    """Positions (column 1) of the rows whose hash (column 0) repeats."""
    ordered = np.sort(pairs[:, 0])
    same = ordered[1:] == ordered[:-1]
    repeats = np.unique(ordered[1:][same])
    return pairs[np.isin(pairs[:, 0], repeats), 1].astype(np.int64)


def _tally(counts: dict[str, int], placement: pd.Series) -> None:
    """Add the kept firms' placements (``point``, ``code``, ``name``) to ``counts``."""
    _add(counts, placement.value_counts())


def _add(counts: dict[str, int], counted: pd.Series) -> None:
    """Add the placements' ``value_counts`` to ``counts``."""
    for how, n in counted.items():
        counts[str(how)] = counts.get(str(how), 0) + int(n)


def _common_schema(parts: Sequence[Path]) -> pa.Schema:
    """The one schema of the kept firms' parts: each column with its type where some
    batch had a value in it (Arrow's null type only where none had), and the pandas
    metadata of the first part that kept a firm (no columns without parts)."""
    if not parts:
        return pa.schema([])
    files = [pq.ParquetFile(p) for p in parts]
    schemas = [f.schema_arrow for f in files]
    typed = pa.unify_schemas(schemas, promote_options="permissive")
    fuller = next((s for f, s in zip(files, schemas, strict=True) if f.metadata.num_rows), None)
    return typed.with_metadata((fuller or schemas[0]).metadata)


def _own(header: list[str], name: str) -> str:
    """The name klastergeo gives its own column ``name`` in rejected.csv."""
    return f"{name}_klastergeo" if name in header else name


def _concat(frames: Sequence[pd.DataFrame | None], *, index: bool = False) -> pd.DataFrame:
    """Frames one after the other (keeping their index when ``index``), empty ones left
    out but for their columns. A text column that was empty in some batch comes out as
    text, as it would from the whole file."""
    present = [f for f in frames if f is not None]
    full = [f for f in present if len(f)]
    if not full:
        out = present[0] if present else pd.DataFrame()
    elif len(full) == 1:
        out = full[0]
    else:
        out = pd.concat(full, ignore_index=not index)
        mixed = [c for c in out.columns if out[c].dtype == object]
        if mixed:
            out[mixed] = out[mixed].infer_objects()
    return out if index else out.reset_index(drop=True)


class _once:
    """Within the block, each distinct message of ``logger`` is logged once (the same
    warning for every batch says nothing new)."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.levelno, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def __enter__(self) -> _once:
        self.logger.addFilter(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeFilter(self)


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


@fill(example_registry=EXAMPLE_REGISTRY)
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
    """Check every record, reject bad rows with a reason, repair swapped coordinates: the
    records held in memory, validated as one batch (:func:`validate_in_batches` for a
    registry of any size gives the same verdicts).

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
    >>> from klastergeo.io.registry.reading import read_records
    >>> report = validate_records(read_records(path))
    >>> report.n_kept, {reason: n for reason, n in report.by_reason.items() if n}
    (2, {'out_of_range': 1, 'duplicate_record': 1})
    >>> report.records["sector"].tolist()
    ['31', '13']
    """
    source = whole_source(raw, Path(raw.source), columns=columns, decimal=decimal)
    if crs is None:
        check_units(source.coord_units, source.cols)
    source.crs = crs
    measures = headers.measure_units(vars(source.cols), options=units)
    with tempfile.TemporaryDirectory(prefix="klastergeo-") as work:
        registry = Registry(dataclasses.replace(source, units=measures), Path(work), 1)
        outcome = registry.validate(
            areas=areas, snap_m=snap_m, sector_digits=sector_digits, places=places
        )
    return outcome.report()
