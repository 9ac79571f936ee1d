"""Validation of a batch of records: the one validator. Every check of one row alone
(:mod:`klastergeo.io.registry.checks`), the duplicates, the kept, rejected and repaired
rows. Nothing is dropped silently: every input row ends up either kept or rejected, and
repaired coordinates are listed."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from klastergeo.io.registry import headers, kernels, placement, sheets
from klastergeo.io.registry.checks import REASONS, REPAIRS, Checked, check_rows
from klastergeo.io.registry.columns import Columns
from klastergeo.io.registry.mapping import (
    REQUIRED_ROLES,
)
from klastergeo.io.registry.numbers import (
    NumberFormat,
)
from klastergeo.io.registry.reading import (
    RawRecords,
    skip_rows,
    skipped_frame,
)
from klastergeo.io.registry.sources import SCRATCH, Source

__all__ = [
    "ValidationReport",
    "arrow_part",
    "duplicate_keys",
    "find_duplicates",
    "key_hashes",
    "locate",
    "placements",
    "rejected_frame",
]

#: The ingest engine's one logger (what the batches' de-duplication of messages and the
#: workers' capture follow).
logger = logging.getLogger(__package__)


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
    skipped: pd.DataFrame = field(default_factory=lambda: skipped_frame(None))
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
        missing = [r for r in vars(self.columns) if r not in taken and r not in REQUIRED_ROLES]
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


def key_hashes(checked: Checked, rows: NDArray[np.bool_]) -> NDArray[np.uint64]:
    """A 64-bit hash of the duplicate key (:func:`duplicate_keys`) of each row of
    ``rows``: equal keys, equal hashes (the same in every batch and process), so rows
    whose hash repeats are the only ones compared.

    Parameters
    ----------
    checked
        The checked records.
    rows
        Which rows (the usable ones).

    Returns
    -------
    ndarray
        One ``uint64`` per row of ``rows``.
    """
    ids = checked.ids
    if checked.cols.id is not None and isinstance(ids.dtype, pd.StringDtype):
        text = pa.array(ids.array, from_pandas=True)
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        if pa.types.is_string(text.type) or pa.types.is_large_string(text.type):
            return kernels.hash_text(text.filter(pa.array(rows)))
    keys = duplicate_keys(checked).iloc[np.flatnonzero(rows)]
    return np.asarray(pd.util.hash_pandas_object(keys, index=False), dtype=np.uint64)


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


def rejected_frame(raw: RawRecords, reason: NDArray[Any], detail: pd.Series) -> pd.DataFrame:
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


# --------------------------------------------------------------------------------------
# Checking and committing
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchCheck:
    """One batch's verdicts, small enough to travel back from a worker: the hashes and
    positions of its usable rows' duplicate keys, its rejected and repaired rows, and
    what the kept firms' columns look like. The kept candidates themselves are in the
    Parquet part the check wrote (or in ``kept``, for a file read whole)."""

    n_rows: int
    hashes: NDArray[np.uint64]
    positions: NDArray[np.int64]
    rejected: pd.DataFrame
    repaired: pd.DataFrame
    renamed: dict[str, str]
    sector_typed: bool
    order: tuple[str, ...]
    part: Path | None = None
    kept: pd.DataFrame | None = None
    #: (level, message) of what the records logger said, where it ran on a worker
    messages: tuple[tuple[int, str], ...] = ()
    #: record number, longitude, latitude of (a sample of) the rows outside the study area
    outside: NDArray[np.float64] | None = None
    skipped: pd.DataFrame | None = None  # rows that are not firms (skip_rows)


def check_batch(
    source: Source,
    batch: RawRecords | int,
    *,
    batch_size: int,
    areas: gpd.GeoDataFrame | None,
    snap_m: float,
    sector_digits: int,
    part: Path | None,
    places: placement.Gazetteer | None = None,
) -> BatchCheck:
    """Check one batch: every check of one row alone, the kept candidates written to
    ``part`` (kept in memory when None), the duplicate keys hashed. A pure function of its
    arguments, so it runs anywhere: ``batch`` is the batch itself, or its index, which
    this function reads from ``source`` (a file the caller and it both see).

    Parameters
    ----------
    source
        The registry as a source of batches, with what was decided for the whole file
        (column mapping, number formats, sector widths, units, CRS).
    batch
        The batch's records, or its 0-based index in ``source``.
    batch_size
        Good rows per batch, to read batch ``batch`` from ``source``.
    areas
        Study area polygons indexed by area code, or None for no location check.
    snap_m
        Snapping distance to the nearest area, in metres.
    sector_digits
        KBLI digits that make a sector.
    part
        Scratch Parquet file the kept candidates are written to, or None to keep them
        in memory (``BatchCheck.kept``).
    places
        The study area's gazetteer
        (:func:`klastergeo.io.registry.placement.gazetteer`): records without usable
        coordinates are placed by the area code or names they give; None: coordinates
        alone place.

    Returns
    -------
    BatchCheck
        The batch's verdicts: kept positions and their duplicate-key hashes, rejected,
        repaired and skipped rows.
    """
    raw = source.batch(batch, batch_size) if isinstance(batch, int) else batch
    if source.firms is not None and raw is source.whole:  # a file read whole: sorted out
        raw, skipped = source.firms
    else:
        if len(raw.malformed):  # a file read whole: its malformed lines come in commit()
            raw = dataclasses.replace(raw, malformed=pd.DataFrame(), numbers=raw.rows)
        raw, skipped = skip_rows(raw, source.cols)
    checked = check_rows(
        raw,
        source.cols,
        source.formats,
        areas=areas,
        snap_m=snap_m,
        sector_digits=sector_digits,
        sector_lengths=source.lengths,
        units=source.units,
        places=places,
        crs=source.crs,
    )
    reason, detail = checked.checks.resolve()
    alive = reason == ""
    kept, renamed = checked.kept(alive, areas, sector_digits=sector_digits, points=False)
    # the columns as the whole-file validation orders them: geometry before area_code
    columns = [c for c in kept.columns if c not in ("area_code", "placement")]
    order = (
        *columns,
        "geometry",
        *(["area_code"] if "area_code" in kept else []),
        "placement",
    )
    if part is not None:
        pq.write_table(arrow_part(kept), part, **SCRATCH)
    return BatchCheck(
        n_rows=len(raw.frame),
        hashes=key_hashes(checked, alive),
        positions=raw.frame.index.to_numpy()[alive].astype(np.int64),
        rejected=rejected_frame(raw, reason, detail),
        repaired=checked.repaired(alive),
        renamed=renamed,
        sector_typed=checked.sectors.typed,
        order=order,
        part=part,
        kept=None if part is not None else kept,
        outside=checked.outside(reason),
        skipped=skipped,
    )


def arrow_part(kept: pd.DataFrame) -> pa.Table:
    """``kept`` as ``pa.Table.from_pandas`` makes it (its ``record_id`` index a column,
    pandas' metadata included), column by column without a copy where its columns are
    numbers or pandas ``str`` text: the metadata depends only on their types, so it is
    taken from the first row (from_pandas over the whole frame spends most of its time
    looking at values it then passes through unchanged).

    Parameters
    ----------
    kept
        The kept firms of a batch (:meth:`klastergeo.io.registry.checks.Checked.kept`).

    Returns
    -------
    pyarrow.Table
        The table ``pa.Table.from_pandas(kept)`` gives.
    """
    plain = all(_plain(kind) for kind in kept.dtypes) and not kept.columns.has_duplicates
    if not (len(kept) and plain and isinstance(kept.index.dtype, pd.StringDtype)):
        return pa.Table.from_pandas(kept)
    schema = pa.Table.from_pandas(kept.iloc[:1]).schema
    values = [kept[c].array for c in kept.columns]
    arrays = [  # from_pandas: NaN as null, as pandas writes it
        pa.array(v if isinstance(v.dtype, pd.StringDtype) else v.to_numpy(), from_pandas=True)
        for v in [*values, kept.index.array]
    ]
    try:
        return pa.Table.from_arrays(arrays, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        return pa.Table.from_pandas(kept)


def _plain(kind: Any) -> bool:
    """Numbers, booleans or pandas ``str`` text (no objects, categories or dates)."""
    if isinstance(kind, pd.StringDtype):
        return True
    return isinstance(kind, np.dtype) and kind.kind in "biuf"
