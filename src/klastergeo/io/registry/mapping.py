"""Column mapping: which column of a registry plays each role (:func:`resolve_columns`),
and the columns of lists or records made single values."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from klastergeo.errors import Phrase, ValidationError, preview
from klastergeo.io.registry import headers
from klastergeo.io.registry.columns import Columns
from klastergeo.schema import FIRM_COLUMNS, RESERVED_FIRM_COLUMNS

__all__ = [
    "CANDIDATES",
    "NUMERIC_ROLES",
    "PLACEMENT_ROLES",
    "REQUIRED_ROLES",
    "RESERVED",
    "STANDARD",
    "TYPE_OF",
    "known_names",
    "own_name",
    "resolve_columns",
    "single_values",
]

#: The ingest engine's one logger (what the batches' de-duplication of messages and the
#: workers' capture follow).
logger = logging.getLogger(__package__)


#: Header phrases of each role, detected when a role is not mapped explicitly: the one
#: synonyms table of :mod:`klastergeo.io.registry.headers` (matching ignores case, punctuation,
#: spacing and the unit; see there).
CANDIDATES: dict[str, tuple[str, ...]] = headers.SYNONYMS


REQUIRED_ROLES = ("lat", "lon", "sector")


#: Roles that place a record by its area when it has no usable coordinates.
PLACEMENT_ROLES = ("area_code", "desa", "kecamatan", "kabupaten")


NUMERIC_ROLES = ("workers", "output", "investment")


#: Output columns the validated records use; input columns of these names are renamed.
STANDARD = FIRM_COLUMNS


#: Every column name klastergeo gives kept firms (see :mod:`klastergeo.schema`).
RESERVED = RESERVED_FIRM_COLUMNS


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


# --------------------------------------------------------------------------------------
# Column mapping
# --------------------------------------------------------------------------------------


def _flag(role: str) -> str:
    """The option that names the column of ``role`` (``--workers-col``)."""
    return "--coords-col" if role == "coordinates" else f"--{role.replace('_', '-')}-col"


def _absent(chosen: str, role: str, frame_columns: list[str]) -> str:
    """The problem of a column named for ``role`` that the file does not have (with the
    names like it)."""
    close = difflib.get_close_matches(chosen, frame_columns, n=3)
    hint = f" (did you mean {preview(close)}?)" if close else ""
    problem = f"column {chosen!r} for {role} is not in the file{hint}"
    named = {"column": repr(chosen), "flag": _flag(role), "close": preview(close)}
    return Phrase(problem, "column_absent_close" if close else "column_absent", named)


def _required(
    resolved: Mapping[str, str | None],
    problems: list[str],
    *,
    has_geometry: bool,
    need_sector: bool,
) -> list[str]:
    """The problems of the roles a registry needs and that no column plays (those already
    named in ``problems`` as ambiguous left out): coordinates (unless the file has a
    geometry, a pair column or area columns to place by) and the sector."""
    missing: list[str] = []
    placed_by_area = any(resolved.get(role) is not None for role in PLACEMENT_ROLES)
    paired = resolved.get("coordinates") is not None
    for role in REQUIRED_ROLES:
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
            key = "no_coordinate_column" if role in ("lat", "lon") else "no_sector_column"
            missing.append(
                Phrase(f"no {role} column found; pass {flag} NAME{where}", key, {"flag": flag})
            )
    return missing


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
                problems.append(_absent(chosen, role, frame_columns))
            resolved[role] = chosen
            continue
        groups = detection.found.get(role, [])
        if groups and len(groups[0]) > 1:
            flag = f"--{role.replace('_', '-')}-col"
            problem = (
                f"columns {preview(groups[0])} differ only in case, punctuation or unit and "
                f"could each be the {role} column; pass {flag} with the one to use"
            )
            named = {"columns": preview(groups[0]), "flag": flag}
            problems.append(Phrase(problem, "columns_alike", named))
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
    problems += _required(resolved, problems, has_geometry=has_geometry, need_sector=need_sector)
    if problems:
        raise ValidationError(
            "; ".join(problems) + f". The file's columns are: {', '.join(frame_columns)}",
            key="columns_problems",
            params={"problems": problems, "columns": ", ".join(frame_columns)},
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
TYPE_OF = np.frompyfunc(type, 1, 1)


#: Whether each value is a list, tuple, dict, set or array (a nested Parquet value).
_NESTED = np.frompyfunc(lambda v: isinstance(v, list | tuple | dict | set | np.ndarray), 1, 1)


def own_name(columns: Any, name: str) -> str:
    return f"{name}_klastergeo" if name in columns else name
