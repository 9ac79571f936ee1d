"""``results.xlsx``: the run's tables as one Excel workbook (openpyxl), for people who open
results in a spreadsheet rather than in Python or a GIS.

Sheets, named in the run's language (``map.lang``): a summary, the sentra, the areas
(one row per area; per sector its firms, LQ, specialisation bin and sentra), the global
statistics per sector, the models' coefficients, and the rejected records. Numbers are
written as numbers (Excel shows them in the reader's locale), with a filter on every
header row and the header row frozen. A sheet that would exceed :data:`MAX_CELLS` cells
(a national run's areas or rejected rows) holds a note pointing to the Parquet, CSV or
GeoPackage file with the same table instead.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from klastergeo import messages
from klastergeo._io import atomic_path

__all__ = ["KEY_COLUMNS", "MAX_CELLS", "SHEETS", "key_columns", "write_workbook"]

logger = logging.getLogger(__name__)

#: Cells beyond which a sheet holds a note instead of the table (Excel's own limit is
#: 1,048,576 rows; openpyxl writes about a hundred thousand cells a second).
MAX_CELLS = 1_500_000

#: Sheet names and labels per language (the ``workbook`` group of the catalogue).
SHEETS = messages.MESSAGES["workbook"]


#: The per-sector columns of the areas sheet (``areas.gpkg`` has them all).
KEY_COLUMNS = ("n_firms", "lq", "spec_bin", "sentra")


def key_columns(areas: pd.DataFrame) -> pd.DataFrame:
    """The areas sheet: code, name, firms, and per sector its firms, LQ, specialisation
    bin and sentra (the other statistics are in ``areas.gpkg``): openpyxl writes about
    a hundred thousand cells a second, so a province's villages stay a few seconds.

    Parameters
    ----------
    areas
        The areas wide by sector (:func:`klastergeo.pipeline.gis.areas_layer` without
        geometry), indexed by ``area_code``.
    """
    keep = [
        c
        for c in areas.columns
        if c in ("name", "n_firms") or any(c.startswith(f"{k}_") for k in KEY_COLUMNS)
    ]
    keep = [c for c in keep if not c.startswith(("lq_low_", "lq_high_"))]
    return areas[keep].reset_index()


def write_workbook(
    path: Path,
    *,
    summary: dict[str, Any],
    sentra: pd.DataFrame,
    areas: pd.DataFrame,
    global_stats: pd.DataFrame,
    coefficients: dict[str, pd.DataFrame],
    rejected: pd.DataFrame,
    lang: str = "id",
) -> Path:
    """Write ``results.xlsx`` (replaced only once written whole).

    Parameters
    ----------
    path
        The workbook's file.
    summary
        The run's summary (``summary.json``): records, areas, sentra, near misses.
    sentra
        The sentra table (without geometry), with ``sentra_id`` as a column or the index.
    areas
        The areas wide by sector (the attributes of ``areas.gpkg``, no geometry).
    global_stats
        The global statistics per sector (``global.csv``).
    coefficients
        Per model kind, its coefficients table.
    rejected
        The rejected records with their reasons (``rejected.csv``).
    lang
        ``"id"`` or ``"en"``: sheet names and summary labels.

    Returns
    -------
    Path
        ``path``.
    """
    from openpyxl import Workbook

    t = SHEETS[lang]
    book = Workbook(write_only=True)
    _sheet(book, t["summary"], _summary(summary, t), t, "summary.json", lang)
    plain = sentra.drop(columns="geometry", errors="ignore")
    if plain.index.name == "sentra_id":
        plain = plain.reset_index()
    _sheet(book, t["sentra"], pd.DataFrame(plain), t, "sentra.csv", lang)
    _sheet(book, t["areas"], areas, t, "areas.gpkg / areas.parquet", lang)
    _sheet(book, t["global"], global_stats.reset_index(), t, "global.csv", lang)
    if coefficients:
        models = pd.concat(
            [c.assign(**{t["model"]: kind}) for kind, c in coefficients.items()],
            ignore_index=True,
        )
        _sheet(book, t["models"], models, t, "models/", lang)
    _sheet(book, t["rejected"], rejected, t, "rejected.csv", lang)
    with atomic_path(path) as tmp:
        book.save(tmp)
    return path


def _summary(summary: dict[str, Any], t: dict[str, str]) -> pd.DataFrame:
    records = summary.get("records") or {}
    areas = summary.get("areas") or {}
    rows = [
        (t["read"], records.get("read")),
        (t["kept"], records.get("kept")),
        (t["rejected_n"], records.get("rejected")),
        (t["repaired"], records.get("repaired")),
        (t["level"], areas.get("level")),
        (t["study_area"], areas.get("study_area")),
        (t["n_areas"], areas.get("count")),
        (t["n_sentra"], summary.get("sentra")),
        (t["near"], (summary.get("candidates") or {}).get("count")),
    ]
    return pd.DataFrame(rows, columns=[t["item"], t["value"]])


def _header(column: str, lang: str) -> str:
    """A column's header in ``lang``: from the catalogue, a per-sector column as its
    statistic and sector (``lq_31`` -> ``LQ 31``); other names as they are."""
    base, _, sector = column.rpartition("_")
    if base and sector.isdigit() and base in messages.MESSAGES["columns"][lang]:
        return f"{messages.label('columns', base, lang)} {sector}"
    return messages.label("columns", column, lang)


def _sheet(
    book: Any, title: str, frame: pd.DataFrame, t: dict[str, str], file: str, lang: str
) -> None:
    """One sheet of ``frame`` with a frozen, filtered header; a note if it is too big."""
    sheet = book.create_sheet(title=title[:31])
    cells = int(frame.shape[0]) * max(int(frame.shape[1]), 1)
    if cells > MAX_CELLS:
        sheet.append([t["too_large"].format(cells=messages.number(cells, lang), file=file)])
        logger.info("results.xlsx: sheet %r left out (%d cells)", title, cells)
        return
    columns = [_header(str(c), lang) for c in frame.columns]
    sheet.freeze_panes = "A2"
    if columns and len(frame):
        sheet.auto_filter.ref = f"A1:{_column_letter(len(columns))}{len(frame) + 1}"
    sheet.append([_text(sheet, c) for c in columns])
    values = [_cells(frame[c]) for c in frame.columns]
    texts = [not (pd.api.types.is_numeric_dtype(frame[c])) for c in frame.columns]
    for row in zip(*values, strict=True):  # rows of Python scalars, as openpyxl needs
        sheet.append([_text(sheet, v) if text else v for v, text in zip(row, texts, strict=True)])


def _text(sheet: Any, value: Any) -> Any:
    """Text that Excel would read as a formula (``=...``) stays text: a registry's
    ``=HYPERLINK(...)`` must never run in the reader's spreadsheet."""
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def _cells(column: pd.Series) -> list[Any]:
    """A column as Excel cell values: numbers as numbers, missing as empty, the rest as
    text."""
    if pd.api.types.is_bool_dtype(column):
        return [None if pd.isna(v) else bool(v) for v in column]
    if pd.api.types.is_integer_dtype(column):
        return [None if pd.isna(v) else int(v) for v in column]
    if pd.api.types.is_float_dtype(column):
        array = column.to_numpy(dtype=float, na_value=np.nan)
        return [None if not math.isfinite(v) else float(v) for v in array]
    return [_scalar(v) for v in column]


def _scalar(value: Any) -> Any:
    """A value of a mixed column: numbers stay numbers, missing is empty, the rest text."""
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return str(value)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _column_letter(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
