"""The study area checked against the data: a run whose records lie mostly outside
``--area`` (a district given where its regency was meant, another regency's code) stops
before it computes anything, naming where the records lie.

A record is *placed* when validation found where it is: kept, or rejected for a reason
found once it was placed inside the study area (a name of two of its areas, a code
coarser than the unit of analysis, its sector, a value, its id, a duplicate), or placed
outside it: rejected as ``outside_study_area`` (its point, or the area code or names it
gives, lie outside) or ``unknown_area`` (a code or names that match no area). When more
than ``area.max_outside`` of the placed records lie outside, :func:`check` gives the
error that stops the run: the outside points (a uniform sample of at most
:data:`klastergeo.io.registry.records.OUTSIDE_SAMPLE`, gathered batch by batch, so memory does not
grow with the registry) are located in the national regency polygons and counted per
regency and province; records placed by the area they name are counted in the regency
of their code or kabupaten/kota name; with a single polygon file (``--boundaries``)
there is nothing to name them by, and the message says so and gives their extent.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from klastergeo.analysis.geometry import locate_points
from klastergeo.app.config import Columns, RunConfig
from klastergeo.errors import BoundaryError, Phrase, ValidationError
from klastergeo.io import boundaries
from klastergeo.io.registry import placement
from klastergeo.io.registry import records as records_mod

__all__ = ["OUTSIDE_REASONS", "Coverage", "check", "coverage"]

logger = logging.getLogger(__name__)

#: Rejection reasons of a record placed outside the study area: by its point, or by an
#: area code or names that match nothing in it (placement by area).
OUTSIDE_REASONS = ("outside_study_area", "unknown_area")
#: Rejection reasons of a record that lies inside the study area (a record outside is
#: rejected as outside first): a name of two of its areas, a code or name coarser than
#: the unit of analysis (placement by area), or what is wrong with it once placed.
INSIDE_REASONS = records_mod.REASONS[records_mod.REASONS.index("ambiguous_area") :]
#: Share of the placed records outside the study area from which a run that goes on
#: warns.
_WARN = 0.1
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
    drawn_from
        Records rejected as ``outside_study_area``, of which ``sampled`` are located
        (all of them unless there are more than
        :data:`~klastergeo.io.registry.records.OUTSIDE_SAMPLE`).
    nowhere
        Estimated records outside whose points lie in no regency (the sea, abroad,
        coordinates of another kind).
    by_name
        Records placed outside by names that name no regency (a village or district
        name alone), or that match no area at all (``unknown_area``).
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
    drawn_from: int = 0
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
        of the records outside (:attr:`~klastergeo.io.registry.records.ValidationReport.outside`).
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
    drawn_from = _count(report, ("outside_study_area",))
    points = report.outside if report.outside is not None else np.empty((0, 3))
    finite = np.isfinite(points[:, 1]) & np.isfinite(points[:, 2])
    empty = pd.DataFrame({"name": pd.Series(dtype=object), "records": pd.Series(dtype=float)})
    extent = None
    if finite.any():
        x, y = points[finite, 1], points[finite, 2]
        extent = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
    base = Coverage(
        placed=inside + outside,
        outside=outside,
        regencies=empty,
        provinces=empty,
        sampled=len(points),
        drawn_from=drawn_from,
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
    scale = drawn_from / len(points) if len(points) else 1.0  # 1 unless a sample
    pos = locate_points(points[finite, 1], points[finite, 2], regencies.geometry, snap_m=snap_m)
    counts += np.bincount(pos[pos >= 0], minlength=len(regencies)) * scale
    nowhere = round(float((pos < 0).sum()) * scale)
    # placed outside by the area they name (no point): the regency of their code or name
    rows = _rows(report.rejected, points[~finite, 0])
    named, unnamed = _by_area(rows, report.columns, source)
    counts = counts.add(named * scale, fill_value=0.0)
    by_name = unnamed * scale
    unknown = report.rejected.loc[(_reasons(report) == "unknown_area").to_numpy()]
    named, unnamed = _by_area(unknown, report.columns, source)  # every one: not sampled
    counts = counts.add(named, fill_value=0.0)
    by_name += unnamed
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
        by_name=round(by_name),
    )


def _rows(rejected: pd.DataFrame, numbers: NDArray[np.float64]) -> pd.DataFrame:
    """The rejected rows of the given record numbers."""
    column = "row_klastergeo" if "row_klastergeo" in rejected.columns else "row"
    if not len(numbers) or column not in rejected.columns:
        return rejected.iloc[:0]
    wanted = np.isin(rejected[column].to_numpy(dtype=np.int64), numbers.astype(np.int64))
    return rejected.loc[wanted]


def _by_area(rows: pd.DataFrame, columns: Columns, source: Path) -> tuple[pd.Series, int]:
    """Records placed by the area they name, per regency: the regency of their area code
    (:func:`klastergeo.io.registry.placement.normalise_codes`), else of their kabupaten/kota name
    where it names one regency of the country (folded as placement folds it, ``Kota``
    and ``Kabupaten`` told apart); and how many name no regency (a village or district
    name alone is not looked up in the whole country)."""
    if rows.empty:
        return pd.Series(dtype=float), 0
    regency = pd.Series(pd.NA, index=rows.index, dtype="string")
    if columns.area_code is not None and columns.area_code in rows.columns:
        codes = placement.normalise_codes(rows[columns.area_code].astype("string"))
        regency = codes.where(codes.str.len() >= 5).str[:5].astype("string")
    if columns.kabupaten is not None and columns.kabupaten in rows.columns:
        missing = regency.isna()
        folded = placement.fold_names(rows.loc[missing, columns.kabupaten])
        table = boundaries.name_table(("kabupaten",), source)
        found = []
        for (key, kind), group in folded.groupby(["key", "kind"]):  # per distinct name
            hits = table.loc[table["key"] == key]
            if kind:  # "Kota Semarang" is not the regency
                hits = hits.loc[hits["kind"].isin([kind, ""])]
            if len(hits) == 1:
                found.append(pd.Series(hits["area_code"].iloc[0], index=group.index))
        if found:
            regency.loc[pd.concat(found).index] = pd.concat(found)
    counted = regency.dropna().value_counts().astype(float)
    return counted, int(regency.isna().sum())


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
        if outside >= _WARN * placed and outside:
            logger.warning(
                "%s of the %s placed records lie outside the study area (%.0f%%); they are "
                "rejected (rejected.csv: outside_study_area, unknown_area); a run stops "
                "above area.max_outside=%g",
                f"{outside:,}",
                f"{placed:,}",
                100 * outside / placed,
                area.max_outside,
            )
        return None
    source = source if source is not None else boundaries.resolve_source(area.boundaries)
    if report.n_kept == 0 and not source.is_dir():
        # nothing in a polygon file of one's own: records and boundaries of two places
        # (or another CRS), which the stop for "none kept" explains
        return None
    found = coverage(report, study=area.code, source=source, snap_m=area.snap_m)
    registry = registry or repr(str(config.records.path))
    return ValidationError(
        _message(config, found, source, where, registry),
        key=None if found.note else "outside_area",
        params=_named(config, found, source, where, registry),
    )


def _named(
    config: RunConfig, found: Coverage, source: Path, where: Path | None, registry: str
) -> dict[str, object]:
    """The values :func:`_message` names, for the message in the run's language (when
    the records are placed and counted, not ``found.note``)."""
    area = config.area
    better = _suggestion(found)
    about = "about " if found.sampled < found.drawn_from else ""
    rejected = str(where / "rejected.csv") if where is not None else ""
    return {
        "outside": f"{found.outside:,}",
        "placed": f"{found.placed:,}",
        "path": registry,
        "share": f"{found.share:.0%}",
        "max": f"{area.max_outside:g}",
        "where": _where(found, about),
        "label": _study_label(area.code, source, area.boundaries),
        "held": f"{found.placed - found.outside:,}",
        "sampled": Phrase(
            f"(Counts outside estimated from a uniform sample of {found.sampled:,} of "
            f"the {found.drawn_from:,} records outside.) ",
            "outside_sampled",
            {"sampled": f"{found.sampled:,}", "drawn": f"{found.drawn_from:,}"},
        )
        if about
        else "",
        "hint": Phrase(f"pass --area {better}", "area_better", {"code": better})
        if better
        else Phrase("check --area (and --boundaries)", "area_check"),
        "rejected": Phrase(
            f"; the rejected records are in {rejected!r}", "rejected_in", {"path": repr(rejected)}
        )
        if rejected
        else "",
    }


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
    about = "about " if found.sampled < found.drawn_from else ""
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
        text += f"{_where(found, about)}; {label} holds {held:,}. "
        if about:
            text += (
                f"(Counts outside estimated from a uniform sample of {found.sampled:,} of "
                f"the {found.drawn_from:,} records outside.) "
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
    parts: list[str] = [
        Phrase(
            f"{code} {name}: {about}{round(count):,} of {total:,}",
            "count_of",
            {"area": f"{code} {name}", "about": _about(about), "n": f"{round(count):,}"}
            | {"total": f"{total:,}"},
        )
        for code, name, count in zip(
            head.index, head["name"], head["records"].to_numpy(dtype=float), strict=True
        )
    ]
    rest = float(table["records"].iloc[_LISTED:].sum())
    if rest:
        kind = "provinces" if spread else "regencies"
        other = f"{len(table) - _LISTED} other {kind}: {about}{int(rest):,}"
        counted = {"n": len(table) - _LISTED, "about": _about(about), "count": f"{int(rest):,}"}
        key = {"provinces": "other_provinces", "regencies": "other_regencies"}[kind]
        parts.append(Phrase(other, key, counted))
    if spread:
        parts.append(f"(over {len(found.regencies):,} regencies)")
    if found.nowhere:
        parts.append(f"in no regency (the sea, abroad, or not degrees): {about}{found.nowhere:,}")
    named = (
        f"{found.by_name:,} name a village or district found nowhere in the study area "
        "(unknown_area in rejected.csv; check --area, and the names with their closest "
        "matches there)"
        if found.by_name
        else ""
    )
    if not parts:
        return named or "the records lie in no regency"
    text = "the records lie in " + "; ".join(parts) + (f"; {named}" if named else "")
    return Phrase(text, "records_lie_in", {"parts": parts, "named": f"; {named}" if named else ""})


def _about(about: str) -> str:
    """``about `` before an estimated count, as a part of a message."""
    return Phrase(about, "about") if about else ""


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
