"""The checks of one row alone: coordinates (and the study area), sector, values and a
missing id; each rejected row keeps one ``reason`` (the first that applies, in
:data:`REASONS` order) and a human ``detail``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from klastergeo import kbli
from klastergeo.analysis.geometry import firm_points, locate_points
from klastergeo.io.registry import coordinates, headers, placement
from klastergeo.io.registry.columns import Columns
from klastergeo.io.registry.mapping import NUMERIC_ROLES, PLACEMENT_ROLES, RESERVED
from klastergeo.io.registry.numbers import NumberFormat, codes_as_text, parse_numbers
from klastergeo.io.registry.reading import RawRecords

__all__ = [
    "OUTSIDE_SAMPLE",
    "REASONS",
    "REPAIRS",
    "VALUE_BOUNDS",
    "Checked",
    "Checks",
    "check_missing_ids",
    "check_rows",
    "sample_outside",
    "sector_lengths",
    "warm_index",
]

#: The ingest engine's one logger (what the batches' de-duplication of messages and the
#: workers' capture follow).
logger = logging.getLogger(__package__)


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


#: Largest accepted value of each numeric attribute (and 0 the smallest): beyond these a
#: value is a typing error or an overflow (``1e999``), rejected as ``invalid_value``.
VALUE_BOUNDS: dict[str, float] = {
    "workers": 1_000_000,
    "output": 1e15,
    "investment": 1e15,
}


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
    #: the distinct codes as kept, and each row's position among them (None: no sector)
    distinct: NDArray[np.object_] | None = None
    position: NDArray[np.intp] | None = None


@dataclass(frozen=True)
class Checked:
    """A batch of records after every check that looks at one row alone (all but the
    duplicates, which :func:`_check_duplicates` or the batch validation add)."""

    raw: RawRecords
    cols: Columns
    checks: Checks
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
            self.sectors,
            self.numbers,
            sector_digits,
            self.raw.rows,
            self.raw.xy is None,
            points,
        )
        if areas is not None:
            code = _text_of(pa.array(np.asarray(areas.index, dtype=object), from_pandas=True))
            kept["area_code"] = _column(
                code.take(pa.array(self.place.area_pos[keep])) if code is not None else None,
                lambda: np.asarray(areas.index, dtype=object)[self.place.area_pos[keep]],
            )
        how = self.place.how
        if how is not None:
            kept["placement"] = how[keep]
        else:
            kept["placement"] = _column(
                pa.repeat(pa.scalar("point", pa.large_string()), len(kept)),
                lambda: np.full(len(kept), "point", dtype=object),
            )
        return kept, renamed

    def outside(self, reason: NDArray[np.object_]) -> NDArray[np.float64]:
        """Record number, longitude and latitude of the rows rejected as
        ``outside_study_area`` (a sample of :data:`OUTSIDE_SAMPLE`, :func:`sample_outside`).

        Parameters
        ----------
        reason
            Each row's rejection reason (``""``: kept), as :meth:`Checks.resolve` gives.
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
    checks = Checks(raw.frame)
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
    ids = check_missing_ids(raw, cols, checks)
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
    text = kbli.normalise(codes_as_text(distinct)).astype("string")
    valid = kbli.is_valid(text).to_numpy(dtype=bool)
    length = text.str.len().fillna(0).to_numpy(dtype=np.int64)
    out = np.bincount(length[valid], weights=counts[valid], minlength=kbli.MAX_DIGITS + 2)
    zero = text.str.startswith("0").fillna(False).to_numpy(dtype=bool)
    return np.append(out, counts[valid & zero].sum()).astype(np.int64)


@dataclass(frozen=True)
class _Written:
    """The coordinates of a batch as read (NaN where unusable), the columns they were
    read from, why each unusable one could not be read and what is accepted, for the
    messages of :func:`_check_coordinates`."""

    frame: pd.DataFrame
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    names: tuple[str, ...]
    missing: NDArray[np.bool_]
    why: NDArray[np.object_]
    accepted: str

    def text(self, rows: pd.Index) -> pd.Series:
        """The coordinates of ``rows`` as written, for a message."""
        frame, names = self.frame, self.names
        if not names:
            return pd.Series("the file has no coordinate columns;", index=rows, dtype=object)
        quoted = [f"{c} " + frame.loc[rows, c].astype("string").fillna("").map(repr) for c in names]
        out = quoted[0]
        for more in quoted[1:]:
            out = out + ", " + more
        return out

    def not_read(self, rows: pd.Index) -> pd.Series:
        """Why the coordinates of ``rows`` could not be read."""
        text, names = self.text, self.names
        if not names or names == ("geometry",):
            return text(rows) + " is not a pair of numbers"
        reason = pd.Series(self.why[self.frame.index.get_indexer(rows)], index=rows, dtype=object)
        empty = reason == ""
        said = text(rows) + ": " + reason.astype(str)
        said[empty] = text(rows[empty.to_numpy()]) + ": no coordinates written"
        return said + f" (accepted: {self.accepted})"


def _read_coordinates(
    raw: RawRecords, cols: Columns, formats: Mapping[str, NumberFormat], *, crs: str | None
) -> _Written:
    """The coordinates read on their own (:func:`klastergeo.io.registry.coordinates.parse`:
    each value by its own notation and decimal mark, transformed from ``crs``), from the
    point geometry, or none (records placed by area columns alone)."""
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
        names: tuple[str, ...] = tuple(written if separate else [str(cols.coordinates)])
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
    return _Written(frame, lat, lon, names, missing, why, accepted)


def _check_coordinates(
    raw: RawRecords,
    cols: Columns,
    formats: Mapping[str, NumberFormat],
    checks: Checks,
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
    written = _read_coordinates(raw, cols, formats, crs=crs)
    lat, lon, missing = written.lat, written.lon, written.missing
    text, not_read = written.text, written.not_read

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
    checks: Checks,
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
    checks: Checks,
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
        kbli.normalise(codes_as_text(written_codes)), typed=typed, lengths=lengths
    )
    long_enough = unique_codes.astype("string").str.len().fillna(0).to_numpy() >= sector_digits
    unique_bad = ~(kbli.is_valid(unique_codes).to_numpy() & long_enough) | unique_ambiguous
    as_kept = unique_codes.to_numpy(dtype=object)
    codes = pd.Series(as_kept[position], index=frame.index, dtype=object)
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
    return _Sectors(codes, restored, typed, as_kept, position)


def _check_values(
    frame: pd.DataFrame,
    cols: Columns,
    formats: Mapping[str, NumberFormat],
    checks: Checks,
    units: Mapping[str, headers.MeasureUnit],
) -> dict[str, NDArray[np.float64]]:
    """Workers, output and investment: finite numbers within their bounds, converted to
    the stated unit (``units``: Rp juta for amounts). A blank is missing (NaN), never 0."""
    numbers: dict[str, NDArray[np.float64]] = {}
    problems: dict[str, NDArray[np.bool_]] = {}
    limits: dict[str, float] = {}
    for role in NUMERIC_ROLES:
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


def check_missing_ids(raw: RawRecords, cols: Columns, checks: Checks) -> pd.Series:
    """Missing ids; returns each row's id (its record number where the file has no id
    column).

    Parameters
    ----------
    raw
        The records, or one batch of them (with its record numbers).
    cols
        The column mapping (:func:`resolve_columns`); ``cols.id`` names the id column,
        None when the file has none.
    checks
        The rejections found so far; rows with an empty id are added as
        ``missing_id``.

    Returns
    -------
    pd.Series
        Each row's id as text, stripped of blanks (NA or empty where it is missing).
    """
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


class Checks:
    """Row masks per reason, with details computed only for the rows that get the reason."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.index = frame.index
        self.masks: dict[str, NDArray[np.bool_]] = {}
        self.details: dict[str, Any] = {}

    def add(self, reason: str, mask: NDArray[np.bool_], detail: Any) -> None:
        """Reject the rows of ``mask`` for ``reason`` (added to the rows a reason given
        before already has, each row keeping the detail of the check that found it).

        Parameters
        ----------
        reason
            The rejection reason (one of :data:`REASONS`).
        mask
            One flag per row of the frame: True rejects the row for ``reason``.
        detail
            A callable given the index of the rejected rows that returns the detail
            text of each (a Series on those rows); called only when the rejections
            are resolved.
        """
        mask = np.asarray(mask, dtype=bool)
        if reason in self.masks:
            first, first_detail, index = self.masks[reason], self.details[reason], self.index
            later = detail  # bound now: ``detail`` becomes ``both`` below (no recursion)

            def both(rows: pd.Index) -> pd.Series:
                earlier = pd.Series(first, index=index).loc[rows].to_numpy(dtype=bool)
                out = pd.Series(pd.NA, index=rows, dtype=object)
                if earlier.any():
                    out[earlier] = first_detail(rows[earlier]).to_numpy(dtype=object)
                if (~earlier).any():
                    out[~earlier] = later(rows[~earlier]).to_numpy(dtype=object)
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


def _degrees(areas: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The study area's polygons in degrees (the same object while ``areas`` is WGS84)."""
    if areas.crs is None or areas.crs.is_geographic:
        return areas.geometry
    return areas.geometry.to_crs(4326)


def warm_index(areas: gpd.GeoDataFrame) -> None:
    """Build the point index of the study area now (it is kept with the polygons, and
    processes forked later share it).

    Parameters
    ----------
    areas
        The study area's polygons.
    """
    locate_points(np.zeros(1), np.zeros(1), _degrees(areas))


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
    geoms = _degrees(areas)
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


def _kept_frame(
    frame: pd.DataFrame,
    cols: Columns,
    keep: NDArray[np.bool_],
    ids: pd.Series,
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    sectors: _Sectors,
    numbers: dict[str, NDArray[np.float64]],
    sector_digits: int,
    rows: NDArray[np.int64],
    keep_geometry_column: bool,
    points: bool = True,
) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    # the area columns that placed a record stay as the file wrote them
    mapped = {v for k, v in vars(cols).items() if v is not None and k not in PLACEMENT_ROLES}
    n_kept = int(keep.sum())
    index = pd.Index(
        _column(_kept_text(ids, keep), lambda: ids[keep].to_numpy(dtype=object)),
        name="record_id",
    )
    data: dict[str, Any] = {
        "row": rows[keep],
        "lat": lat[keep],
        "lon": lon[keep],
        **_kept_codes(sectors, keep, sector_digits),
    }
    for role in NUMERIC_ROLES:
        data[role] = numbers[role][keep] if role in numbers else np.full(n_kept, np.nan)
    data["name"] = (
        _column(
            _kept_text(frame[cols.name], keep),
            lambda: frame.loc[keep, cols.name].to_numpy(dtype=object),
        )
        if cols.name
        else np.full(n_kept, None, dtype=object)
    )
    kept = pd.DataFrame(data, index=index)
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


def _text_of(array: pa.Array | pa.ChunkedArray) -> pa.Array | None:
    """Arrow text as one ``large_string`` array; None where the values are not text."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_string(array.type):
        return array.cast(pa.large_string())
    return array if pa.types.is_large_string(array.type) else None


def _kept_text(values: pd.Series, keep: NDArray[np.bool_]) -> pa.Array | None:
    """The kept rows of a pandas text column (``str`` or ``string``) as Arrow text, with
    no copy to Python strings; None for a column of any other type."""
    if not isinstance(values.dtype, pd.StringDtype):
        return None
    text = _text_of(pa.array(values.array, from_pandas=True))
    return text.filter(pa.array(keep)) if text is not None else None


def _column(text: pa.Array | None, objects: Callable[[], NDArray[Any]]) -> Any:
    """A kept text column as pandas ``str`` straight from Arrow; where the column is not
    text, or has no value, the Python objects ``objects()`` gives, for pandas to type
    (as every kept column was built before Arrow)."""
    if text is None or len(text) == 0 or text.null_count == len(text):
        return objects()
    return text.to_pandas().array


def _kept_codes(sectors: _Sectors, keep: NDArray[np.bool_], sector_digits: int) -> dict[str, Any]:
    """The kept rows' KBLI codes and sectors, each decided once per distinct code."""
    codes = sectors.codes
    if sectors.distinct is None or sectors.position is None:
        return {
            "kbli": codes[keep].to_numpy(dtype=object),
            "sector": kbli.sector_of(codes[keep], digits=sector_digits).to_numpy(dtype=object),
        }
    at = pa.array(sectors.position[keep])
    distinct = pd.Series(sectors.distinct, dtype=object)
    sector = kbli.sector_of(distinct, digits=sector_digits).to_numpy(dtype=object)
    code_text = _text_of(pa.array(sectors.distinct, from_pandas=True))
    sector_text = _text_of(pa.array(sector, from_pandas=True))
    return {
        "kbli": _column(
            code_text.take(at) if code_text is not None else None,
            lambda: codes[keep].to_numpy(dtype=object),
        ),
        "sector": _column(
            sector_text.take(at) if sector_text is not None else None,
            lambda: kbli.sector_of(codes[keep], digits=sector_digits).to_numpy(dtype=object),
        ),
    }
