"""The study area checked against the data: a run whose records lie mostly outside
``--area`` (a district given where its regency was meant, another regency's code) stops
before it computes anything, naming where the records lie.

A record is *placed* when validation found where it is: kept, or rejected for a reason
found after its place (its sector, a value, its id, a duplicate), or placed outside
the study area: rejected as ``outside_study_area`` (its point lies in no area of the
study area) or ``unknown_area`` (placed by an area code or names that match nothing in
the study area). When more than ``area.max_outside`` of the placed records lie outside,
:func:`check` gives the error that stops the run: the outside points (a uniform sample of
at most :data:`klastergeo.records.OUTSIDE_SAMPLE`, gathered batch by batch, so memory
does not grow with the registry) are located in the national regency polygons and
counted per regency and province; the codes of records placed by code are read for
their regency; with a single polygon file (``--boundaries``) there is nothing to name
them by, and the message says so and gives their extent.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from klastergeo import boundaries
from klastergeo import records as records_mod
from klastergeo._errors import BoundaryError, ValidationError
from klastergeo._spatial import locate_points
from klastergeo.config import RunConfig

__all__ = ["OUTSIDE_REASONS", "Coverage", "check", "coverage"]

logger = logging.getLogger(__name__)

#: Rejection reasons of a record placed outside the study area: by its point, or by an
#: area code or names that match nothing in it (placement by area).
OUTSIDE_REASONS = ("outside_study_area", "unknown_area")
#: Rejection reasons found after a record was placed inside the study area (a record
#: outside is rejected as outside first): it lies inside, whatever else is wrong with it.
INSIDE_REASONS = (
    "invalid_sector",
    "invalid_value",
    "missing_id",
    "duplicate_record",
    "duplicate_id",
)
#: Most regencies or provinces a message lists.
_LISTED = 5


@dataclass(frozen=True)
class Coverage:
    """Where the placed records lie with respect to the study area.

    Attributes
    ----------
    placed
        Records placed: inside the study area or outside it.
    outside
        Records placed outside (:data:`OUTSIDE_REASONS`).
    regencies
        Records per regency (index: its code), ``name`` and ``records`` (the records
        inside the study area counted in its regency when the study area is a regency
        or lies in one; those outside estimated from the sample when it is one);
        empty when they cannot be named (a single polygon file).
    provinces
        The same per province (index: its code).
    sampled
        Outside points located (all of them, or the sample).
    with_points
        Records outside that have a point (``outside_study_area``).
    nowhere
        Estimated records outside whose points lie in no regency (the sea, abroad,
        coordinates of another kind).
    by_name
        Records placed by names that match nothing in the study area (not located).
    extent
        Longitude and latitude range of the outside points (min x, min y, max x, max y),
        or None.
    note
        Why the records cannot be named ("" when they can).
    """

    placed: int
    outside: int
    regencies: pd.DataFrame
    provinces: pd.DataFrame
    sampled: int = 0
    with_points: int = 0
    nowhere: int = 0
    by_name: int = 0
    extent: tuple[float, float, float, float] | None = None
    note: str = ""

    @property
    def share(self) -> float:
        """The share of the placed records that lie outside (0 when none is placed)."""
        return self.outside / self.placed if self.placed else 0.0


def _count(report: records_mod.ValidationReport, reasons: tuple[str, ...]) -> int:
    counts = _reasons(report).value_counts()
    return int(sum(int(counts.get(reason, 0)) for reason in reasons))


def _reasons(report: records_mod.ValidationReport) -> pd.Series:
    """Each rejected row's reason (the column is ``reason_klastergeo`` when the file has
    a ``reason`` column of its own)."""
    frame = report.rejected
    name = "reason_klastergeo" if "reason_klastergeo" in frame.columns else "reason"
    if name not in frame.columns:
        return pd.Series([], dtype=object)
    return frame[name].astype(object)


def coverage(
    report: records_mod.ValidationReport,
    *,
    study: str | None,
    source: Path,
    snap_m: float = 100.0,
) -> Coverage:
    """Where the placed records of a validation lie with respect to the study area.

    Parameters
    ----------
    report
        The validation report: its rejections by reason, its kept count and the points
        of the records outside (:attr:`~klastergeo.records.ValidationReport.outside`).
    study
        The study area's code (``--area``), or None for all of ``source``.
    source
        The boundaries: a directory of national ``<level>.parquet`` files (the records
        are then named by regency and province) or a single polygon file (they cannot).
    snap_m
        A point within this many metres of a regency is counted in it (the coast).

    Returns
    -------
    Coverage
        The counts and where the records lie.
    """
    outside = _count(report, OUTSIDE_REASONS)
    inside = report.n_kept + _count(report, INSIDE_REASONS)
    with_points = _count(report, ("outside_study_area",))
    points = report.outside if report.outside is not None else np.empty((0, 3))
    empty = pd.DataFrame({"name": pd.Series(dtype=object), "records": pd.Series(dtype=float)})
    extent = None
    if len(points):
        x, y = points[:, 1], points[:, 2]
        extent = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
    base = Coverage(
        placed=inside + outside,
        outside=outside,
        regencies=empty,
        provinces=empty,
        sampled=len(points),
        with_points=with_points,
        extent=extent,
    )
    if not outside:
        return base
    if not source.is_dir():
        note = (
            f"the boundaries are one polygon file ({source.name}), with no regencies or "
            "provinces to name where the others lie"
        )
        return dataclasses.replace(base, note=note)
    try:
        regencies = boundaries.load_areas("kabupaten", source=source)
        provinces = boundaries.load_names("provinsi", source=source)
    except BoundaryError as err:  # a partial download: say so rather than fail
        return dataclasses.replace(base, note=f"the boundaries hold no regencies ({err})")
    counts = pd.Series(0.0, index=regencies.index)
    nowhere = 0
    if len(points):
        pos = locate_points(points[:, 1], points[:, 2], regencies.geometry, snap_m=snap_m)
        scale = with_points / len(points)  # 1 unless the points are a sample
        located = np.bincount(pos[pos >= 0], minlength=len(regencies)).astype(float)
        counts += located * scale
        nowhere = round(float((pos < 0).sum()) * scale)
    coded, by_name = _placed_by_code(report)
    counts = counts.add(coded.astype(float), fill_value=0.0)
    if study is not None and len(study.split(".")) >= 2 and study[:5] in counts.index:
        counts[study[:5]] += inside  # the study area lies in one regency
    counts = counts.loc[counts.round() > 0].round()
    names = regencies["name"].reindex(counts.index)
    table = pd.DataFrame({"name": names.fillna("").to_numpy(), "records": counts.to_numpy()})
    table.index = counts.index
    by_province = counts.groupby(counts.index.str[:2]).sum()
    if study is not None and len(study.split(".")) == 1:
        by_province = by_province.add(pd.Series({study: float(inside)}), fill_value=0.0)
    provincial = pd.DataFrame(
        {"name": provinces.reindex(by_province.index).fillna("").to_numpy(), "records": by_province}
    )
    order = ["records"]
    return dataclasses.replace(
        base,
        regencies=table.sort_values(order, ascending=False, kind="stable"),
        provinces=provincial.sort_values(order, ascending=False, kind="stable"),
        nowhere=nowhere,
        by_name=by_name,
    )


def _placed_by_code(report: records_mod.ValidationReport) -> tuple[pd.Series, int]:
    """Records rejected as ``unknown_area`` per regency of their area code (codes with
    or without dots: its first four digits), and how many have no usable code (placed by
    names, which are not looked up beyond the study area)."""
    reasons = _reasons(report)
    unknown = report.rejected.loc[(reasons == "unknown_area").to_numpy()]
    if unknown.empty:
        return pd.Series(dtype=float), 0
    column = getattr(report.columns, "area_code", None)
    codes = pd.Series(pd.NA, index=unknown.index, dtype="string")
    if column is not None and column in unknown.columns:
        digits = unknown[column].astype("string").str.replace(r"\D", "", regex=True)
        usable = digits.str.len() >= 4
        codes = (digits.str[:2] + "." + digits.str[2:4]).where(usable)
    counted = codes.dropna().value_counts().astype(float)
    return counted, int(codes.isna().sum())


def check(
    config: RunConfig,
    report: records_mod.ValidationReport,
    *,
    source: Path | None = None,
    where: Path | None = None,
    registry: str | None = None,
) -> ValidationError | None:
    """The error that stops a run whose placed records lie mostly outside the study area
    (more than ``area.max_outside`` of them), naming where they lie; None to go on.

    Parameters
    ----------
    config
        The run's configuration: ``area`` (``code``, ``boundaries``, ``max_outside``,
        ``snap_m``) and ``records.path`` for the message.
    report
        The validation report.
    source
        The boundaries as resolved; None resolves ``area.boundaries``.
    where
        The folder of the rejection report, named in the message; None names none.
    registry
        How the message names the registry (a period of a run over surveys); None for
        ``records.path``.
    """
    area = config.area
    if area.code is None and area.boundaries is None:
        return None  # no study area: nothing was checked against one
    outside = _count(report, OUTSIDE_REASONS)
    placed = outside + report.n_kept + _count(report, INSIDE_REASONS)
    if not placed or outside <= area.max_outside * placed:
        return None
    source = source if source is not None else boundaries.resolve_source(area.boundaries)
    found = coverage(report, study=area.code, source=source, snap_m=area.snap_m)
    registry = registry or repr(str(config.records.path))
    return ValidationError(_message(config, found, source, where, registry))


def _message(
    config: RunConfig, found: Coverage, source: Path, where: Path | None, registry: str
) -> str:
    area = config.area
    held = found.placed - found.outside
    label = _study_label(area.code, source, area.boundaries)
    text = (
        f"{found.outside:,} of the {found.placed:,} records of {registry} placed (by "
        "point or area) lie outside the study "
        f"area ({found.share:.0%}, more than area.max_outside={area.max_outside:g}); "
    )
    about = "about " if found.sampled < found.with_points else ""
    if found.note:
        text += f"{label} holds {held:,}; {found.note}"
        if found.extent is not None:
            x0, y0, x1, y1 = found.extent
            text += (
                f"; their points lie within longitude {x0:.4f} to {x1:.4f}, latitude "
                f"{y0:.4f} to {y1:.4f}"
            )
        text += ". "
    else:
        text += f"the records lie in {_where(found, about)}; {label} holds {held:,}. "
        if about:
            text += (
                f"(Counts outside estimated from a uniform sample of {found.sampled:,} of "
                f"their {found.with_points:,} points.) "
            )
    better = _suggestion(found)
    hint = f"pass --area {better}" if better else "check --area (and --boundaries)"
    text += (
        f"The study area is likely the wrong one: {hint}, or go on anyway with "
        f"--max-outside 1 (area.max_outside)"
    )
    if where is not None:
        text += f"; the rejected records are in {str(where / 'rejected.csv')!r}"
    return text


def _where(found: Coverage, about: str) -> str:
    """``33.10 Kabupaten Klaten: 30,004 of 30,004`` for the regencies holding most
    records, or the provinces when the records spread over many regencies."""
    total = found.placed
    table = found.regencies
    spread = len(table) > _LISTED and table["records"].head(_LISTED).sum() < 0.8 * total
    if spread:
        table = found.provinces
    head = table.head(_LISTED)
    parts = [
        f"{code} {name}: {about}{round(count):,} of {total:,}"
        for code, name, count in zip(
            head.index, head["name"], head["records"].to_numpy(dtype=float), strict=True
        )
    ]
    rest = float(table["records"].iloc[_LISTED:].sum())
    if rest:
        kind = "provinces" if spread else "regencies"
        parts.append(f"{len(table) - _LISTED} other {kind}: {about}{int(rest):,}")
    if spread:
        parts.append(f"(over {len(found.regencies):,} regencies)")
    if found.nowhere:
        parts.append(f"in no regency (the sea, abroad, or not degrees): {about}{found.nowhere:,}")
    if found.by_name:
        parts.append(f"placed by names that match nothing in the study area: {found.by_name:,}")
    return "; ".join(parts) if parts else "no regency"


def _suggestion(found: Coverage) -> str | None:
    """The regency, else the province, holding at least 90 % of the placed records."""
    for table in (found.regencies, found.provinces):
        if len(table) and table["records"].iloc[0] >= 0.9 * found.placed:
            return str(table.index[0])
    return None


def _study_label(code: str | None, source: Path, given: Path | None) -> str:
    """``--area 33.10.11 (Ceper, kecamatan)``, or the polygon file."""
    if code is None:
        return f"--boundaries {str(given or source)!r}"
    if not source.is_dir():
        return f"--area {code} of {source.name}"
    level = boundaries.level_of_code(code)
    try:
        name = boundaries.load_names(level, area=code, source=source).get(code)
    except BoundaryError:
        name = None
    return f"--area {code} ({name}, {level})" if name else f"--area {code}"
