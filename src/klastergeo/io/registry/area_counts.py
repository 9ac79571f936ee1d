"""Counts of firms per area as input: the village census (PODES) and agency tables that
give, per village, how many firms of each industry it has, instead of one row per firm.

Two shapes are read (``[counts] format``, default ``auto``):

- **wide**: one row per area (a Kemendagri code column, with or without dots, or area
  names) and one column per sector or industry group, as PODES and the *Kecamatan Dalam
  Angka* tables publish it (``Industri dari kayu``, ``Industri logam mulia dan bahan dari
  logam``, ``Industri anyaman``, ``Industri gerabah/keramik/batu``, ``Industri dari
  kain/tenun``, ``Industri makanan dan minuman``, ``Industri lainnya``), or a column per
  KBLI division (``31``, ``KBLI 13``);
- **long**: one row per area and sector (``kbli``/``sektor``/``jenis industri``) with the
  count (``jumlah``, ``jumlah usaha``, ``unit usaha``, ...) and, optionally, the workers,
  production value and investment summed over those firms.

A column's sector is, in this order: ``[counts] sectors`` (header or value -> sector
label), a KBLI code (bare two digits ``31``, or ``KBLI 3112`` cut to
``records.sector_digits``), or a PODES industry group (:data:`PODES_GROUPS`: the group's
KBLI division where one exists, else the group's own label).

Cells are read as BPS publishes them: a number is the count; ``-`` is *nihil* (0, the
BPS convention); an empty cell, ``NA``, ``...`` (not available) or ``x`` (withheld) is
**unknown**, never 0. A wide column empty in every row is not a column of counts and is
left out (said so). An area with an unknown count in some sector is left out of the
analysis, as if outside the study area (its neighbours then have one neighbour fewer),
and listed in ``summary.json``: every statistic is then computed on areas whose counts
are all known, exactly as a registry of their firms would give them. Areas of the study
area that the file does not list have no firms (a long table lists only the areas and
sectors that have some; a registry lists only firms that exist).

Rows that cannot be used are kept with their reason (``rejected.csv``): ``invalid_count``
(a count that is negative, not whole or not a number, naming the column and the value),
``unknown_area`` (a code that is no area of the study area, with the nearest known
parent), ``outside_study_area`` (a code of another region than ``--area``),
``missing_area``, ``duplicate_area`` (an area, or in a long table an area and sector,
given again: the first row counts). Rows that are the table's layout, not areas, are
listed in ``skipped.csv`` as a registry's are: totals (``Jumlah``, ``Total``), notes
(``Sumber: ...``), the row of column numbers ``(1) (2) ...`` and blank rows.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from klastergeo import kbli
from klastergeo.errors import ValidationError, preview
from klastergeo.io.registry import headers
from klastergeo.io.registry import records as records_mod
from klastergeo.io.registry.columns import Columns

__all__ = [
    "COUNT_REASONS",
    "PODES_GROUPS",
    "AreaCounts",
    "CountsReport",
    "read_counts",
    "sector_of_header",
]

logger = logging.getLogger(__name__)

#: Why a row of a counts file is not used (beside :data:`klastergeo.io.registry.records.REASONS`).
COUNT_REASONS: tuple[str, ...] = (
    "invalid_count",
    "unknown_area",
    "missing_area",
    "duplicate_area",
)
#: PODES industry groups (*industri mikro dan kecil menurut bahan baku utama*): a word of
#: the column header (or of a long table's sector value) -> the sector label it is
#: counted as. Where the group is one KBLI division the label is the division; a group
#: spanning several (``anyaman``: bamboo and rattan goods of 16 and rattan furniture of
#: 31) or none (``lainnya``) keeps its own name. Checked in this order (``Industri
#: anyaman bambu`` is ``anyaman``, not ``kayu``). Food and drink (10 and 11) are counted
#: as 10, textiles and clothing (``kain/tenun``, ``konveksi``) as 13, precious metals and
#: metal goods as 25: PODES does not split them.
PODES_GROUPS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("anyaman", "bambu", "rotan", "pandan", "mendong"), "anyaman"),
    (("kulit", "sepatu", "alas kaki"), "15"),
    (("kayu", "mebel", "meubel"), "16"),
    (("logam", "besi", "perhiasan"), "25"),
    (("gerabah", "keramik", "batu", "genteng", "tembikar"), "23"),
    (("kain", "tenun", "tekstil", "konveksi", "batik", "sandang"), "13"),
    (("makanan", "minuman", "pangan"), "10"),
    (("lainnya", "lain lain", "lain"), "lainnya"),
)

#: Header words of a long table's count column.
COUNT_CANDIDATES = (
    "jumlah",
    "jumlah_usaha",
    "jumlah_unit_usaha",
    "jumlah_unit",
    "unit_usaha",
    "jumlah_perusahaan",
    "jumlah_industri",
    "jumlah_ikm",
    "jumlah_umkm",
    "banyaknya",
    "banyak_usaha",
    "n_firms",
    "firms",
    "count",
)
#: Header words of a long table's sector column (beside ``records.CANDIDATES``).
SECTOR_CANDIDATES = (
    *records_mod.CANDIDATES["sector"],
    "jenis_industri",
    "kelompok_industri",
    "jenis_usaha",
    "industri",
    "golongan_pokok",
)
#: Text of a cell that is unknown (empty, not available, withheld), in lower case.
_UNKNOWN = {"", "na", "n/a", "nan", "null", "none", "...", "..", "…", "x", "#n/a", "tt", "td"}
#: Text of a cell that is zero: BPS's *nihil*.
_NIL = {"-", "--", "–", "—"}
#: An area cell that is a sum of the rows above or a note below the table.
_TOTALS = re.compile(r"^(jumlah|total|sub ?total|grand total|jml)\b", re.IGNORECASE)
_NUMBERING = re.compile(r"^\(?\d{1,2}\)?$")
_FOOTNOTE = re.compile(r"^(sumber|source|catatan|note|keterangan|ket)\s*[:.]", re.IGNORECASE)
#: Words of a header that sums workers or values (``Tenaga kerja industri kayu``,
#: ``Nilai produksi industri makanan``): not a count of firms.
_SUMS = r" (tenaga kerja|tk|pekerja|karyawan|nilai|produksi|investasi|omzet|omset|rp|persen) "
#: Columns that are neither an area nor a sector: row numbers, a row total.
_IGNORED = {"no", "nomor", "no_urut", "nourut", "jumlah", "total", "jml", "jumlah_total"}


def _key(name: object) -> str:
    """A header or value compared as words: lower case, punctuation as spaces."""
    return re.sub(r"[^0-9a-z]+", " ", str(name).lower()).strip()


def _snake(name: object) -> str:
    return _key(name).replace(" ", "_")


def sector_of_header(
    name: str, *, sectors: Mapping[str, str] | None = None, digits: int = 2
) -> str | None:
    """The sector a wide column (or a long table's sector value) counts, or None.

    Parameters
    ----------
    name
        The column header or the value.
    sectors
        ``[counts] sectors``: header or value -> sector label (compared ignoring case
        and punctuation); it wins over the rules below.
    digits
        KBLI digits of a sector (``records.sector_digits``).

    Examples
    --------
    >>> sector_of_header("Industri dari Kayu"), sector_of_header("KBLI 3112")
    ('16', '31')
    >>> sector_of_header("Industri Anyaman"), sector_of_header("Industri Lainnya")
    ('anyaman', 'lainnya')
    >>> sector_of_header("31"), sector_of_header("Nama Desa")
    ('31', None)
    """
    key = _key(name)
    for given, label in (sectors or {}).items():
        if _key(given) == key:
            return str(label)
    if re.search(_SUMS, f" {key} "):  # workers or values of an industry, not its firms
        return None
    code = re.fullmatch(r"(?:kbli\s*)?(\d{2})|kbli\s*(\d{2,5})(?:\s.*)?|(\d{2})\s+\D.*", key)
    if code is not None:
        found = next(g for g in code.groups() if g)
        if found[:2] in kbli.DIVISIONS:
            return found[:digits] if len(found) >= digits else found
        return None
    words = f" {key} "
    for keys, label in PODES_GROUPS:
        if any(f" {k} " in words for k in keys):
            return label
    return None


@dataclass(frozen=True)
class CountsReport(records_mod.ValidationReport):
    """The validation report of a counts file: ``rejected`` rows with their reason
    (:data:`COUNT_REASONS` beside the registry's), no firms (``kept`` counts the rows
    used)."""

    @property
    def by_reason(self) -> dict[str, int]:
        counts = self.rejected["reason"].value_counts().to_dict() if len(self.rejected) else {}
        return {
            reason: int(counts.get(reason, 0)) for reason in (*records_mod.REASONS, *COUNT_REASONS)
        }


@dataclass(frozen=True)
class AreaCounts:
    """A counts file as read: ``cells`` indexed by (``area_code``, ``sector``) with
    ``n_firms`` and the sums ``workers``, ``output`` and ``investment`` (NaN where the
    file does not give them); ``unknown`` are the areas with an unknown count (left out
    of the analysis), ``report`` the rows used and rejected, ``layout`` ``wide`` or
    ``long``, ``sectors`` the column (or value) -> sector read, ``dropped`` the columns
    left out, with why."""

    cells: pd.DataFrame
    unknown: tuple[str, ...]
    report: CountsReport
    layout: str
    sectors: dict[str, str]
    roles: dict[str, str]
    dropped: dict[str, str] = field(default_factory=dict)
    absent_areas: int = 0

    def summary(self) -> dict[str, Any]:
        """The ``counts`` block of ``summary.json``."""
        return {
            "layout": self.layout,
            "columns": dict(self.roles),
            "sectors": dict(self.sectors),
            "dropped_columns": dict(self.dropped),
            "areas_unknown": list(self.unknown),
            "areas_not_listed": self.absent_areas,
            "firms": int(np.nansum(self.cells["n_firms"].to_numpy(dtype=float))),
        }


# -- reading ------------------------------------------------------------------------------


def _read_table(
    source: Path, *, delimiter: str | None, encoding: str | None, sheet: str | None
) -> tuple[pd.DataFrame, NDArray[np.int64], int]:
    """The counts file's rows as read, their record numbers and how many were read."""
    try:
        raw = records_mod.read_records(
            source, delimiter=delimiter, encoding=encoding, sheet=sheet, what="counts"
        )
        frame, rows, n_read = raw.frame, raw.rows, raw.n_read
    except ValidationError:
        # a workbook's header is found by two column roles of a registry; a counts
        # table has one (the area) beside its sectors: read the sheet as it is and find
        # the header below (:func:`_find_header`)
        if source.suffix.lower() not in (".xlsx", ".xlsm", ".xls"):
            raise
        frame = _sheet_as_is(source, sheet)
        rows, n_read = np.arange(1, len(frame) + 1, dtype=np.int64), len(frame)
    return frame, rows, n_read


def _row_reasons(
    frame: pd.DataFrame,
    rows: NDArray[np.int64],
    places: dict[str, str],
    written: dict[str, pd.Series],
    used: Any,
    layout_rows: NDArray[np.object_],
    found: tuple[NDArray[np.object_], NDArray[np.object_]],
    *,
    areas: gpd.GeoDataFrame,
    study_code: str | None,
    gaz: Any,
    ignore: set[str],
) -> tuple[NDArray[Any], NDArray[np.object_], NDArray[np.object_], NDArray[np.bool_], NDArray[Any]]:
    """The area code of every row, then the row checks in order (the first reason
    stands): the area, the cells' reasons ``found``, the same area written twice. Returns
    the codes, each row's reason and detail, which rows count, and the layout rows (blank
    rows among them)."""
    reasons, details = found
    area_text = _written_area(written)
    # the area of every row, then the row checks in order: the first reason stands
    if gaz is not None:
        codes, area_reason, area_detail = _placed(frame, places, gaz)
    else:
        codes, area_reason, area_detail = _match_areas(area_text, areas, study_code)
    empty_row = area_text.eq("").to_numpy() & _blank_rows(frame, ignore)
    layout_rows = np.where(empty_row & (layout_rows == ""), "blank", layout_rows)
    reason = np.full(len(frame), "", dtype=object)
    detail = np.full(len(frame), "", dtype=object)
    todo = layout_rows == ""
    for r, d in ((area_reason, area_detail), (reasons, details)):
        hit = todo & (r != "")
        reason = np.where(hit, r, reason)
        detail = np.where(hit, d, detail)
        todo &= ~hit
    # the same area written twice (at a coarser level several villages add up: the
    # area as written is compared, not the area of analysis)
    key = _area_key(written).to_numpy(dtype=object)
    key = key if used is None else key + "\x00" + used
    duplicate = pd.Series(key).where(todo).duplicated(keep="first").to_numpy() & todo
    if duplicate.any():
        first = pd.Series(rows[todo], index=key[todo]).groupby(level=0).first()
        where = first.reindex(key[duplicate]).to_numpy()
        reason[duplicate] = "duplicate_area"
        detail[duplicate] = [
            f"area {c!r} already given in row {int(w)}; the first row counts"
            for c, w in zip(area_text.to_numpy()[duplicate], where, strict=True)
        ]
        todo &= ~duplicate
    return codes, reason, detail, todo, layout_rows


def _skipped(
    frame: pd.DataFrame, rows: NDArray[np.int64], layout_rows: NDArray[Any]
) -> pd.DataFrame:
    """The rows that are no areas (titles, totals, blank rows), as ``skipped.csv`` lists
    a registry's."""
    laid = layout_rows != ""  # not areas: listed in skipped.csv, as a registry's are
    text = frame.loc[laid].astype("string").fillna("")
    skipped = pd.DataFrame(
        {
            "row": rows[laid].astype(np.int64),
            "kind": layout_rows[laid],
            "text": text.apply(lambda r: " | ".join(v for v in r if v.strip()), axis=1)
            if len(text)
            else pd.Series([], dtype=object),
        }
    ).reset_index(drop=True)
    return skipped


def _read_cells(
    frame: pd.DataFrame,
    chosen: tuple[str, ...],
    places: dict[str, str],
    area_text: pd.Series,
    columns: Columns,
    sectors: Mapping[str, str] | None,
    sector_digits: int,
    ignore: set[str],
    source: Path,
) -> tuple[pd.DataFrame, Any, Any, Any, dict[str, str], dict[str, str], dict[str, str]]:
    """The count cells of a long or wide table (:func:`_long`, :func:`_wide`), each row's
    reason and detail, the sector values used (None: wide), the roles of the columns, the
    wide table's sectors by header and the headers dropped."""
    header = [str(c) for c in frame.columns]
    if chosen[0] == "long":
        _, sector_col, n_col = chosen
        cells, reasons, details, used, roles = _long(
            frame, area_text, sector_col, n_col, columns, sectors, sector_digits, header
        )
        wide_sectors: dict[str, str] = {}
        dropped: dict[str, str] = {}
        roles = {**places, **roles}
    else:
        cells, reasons, details, wide_sectors, dropped = _wide(
            frame, header, ignore, sectors, sector_digits, source
        )
        used = None
        roles = dict(places)
    return cells, reasons, details, used, roles, wide_sectors, dropped


def _count_table(
    cells: pd.DataFrame,
    codes: NDArray[Any],
    reason: NDArray[Any],
    todo: NDArray[np.bool_],
    used: Any,
    wide_sectors: dict[str, str],
    areas: gpd.GeoDataFrame,
) -> tuple[pd.DataFrame, Any, pd.Series]:
    """The counts of the rows that count, by area and sector (:func:`_cells`), the areas
    whose count is unknown, and the codes of the rows that count."""
    kept_codes = pd.Series(codes[todo])
    if used is None:
        long_cells = _wide_to_long(cells.loc[todo], kept_codes)
        long_cells["column"] = long_cells["column"].map(wide_sectors)
    else:
        long_cells = cells.loc[todo].assign(area_code=kept_codes.to_numpy())
    # a rejected row leaves its area's count unknown; not a repeated row (the first
    # counts), a layout row, or a sector that is none (rejected, as a registry's record
    # with an invalid sector is: not counted anywhere)
    kept_out = np.isin(reason, ["", "duplicate_area", "invalid_sector"])
    unread = ~kept_out & (codes != "")
    table, unknown = _cells(long_cells, areas.index, set(codes[unread]))
    return table, unknown, kept_codes


def _counts_report(
    frame: pd.DataFrame,
    rows: NDArray[np.int64],
    reason: NDArray[Any],
    detail: NDArray[Any],
    layout_rows: NDArray[Any],
    n_read: int,
    columns: Columns,
    places: dict[str, str],
    todo: NDArray[np.bool_],
) -> CountsReport:
    """The validation report of a counts file: its rejected and skipped rows."""
    rejected = frame.loc[reason != ""].assign(
        row=rows[reason != ""], reason=reason[reason != ""], detail=detail[reason != ""]
    )
    skipped = _skipped(frame, rows, layout_rows)
    report = CountsReport(
        records=gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=4326)),
        rejected=rejected.reset_index(drop=True),
        repaired=pd.DataFrame(columns=["row", "reason", "detail"]),
        skipped=skipped,
        outside=_outside(rows, reason),
        n_read=n_read,
        columns=dataclasses.replace(columns, **places),  # what placed the rows
        kept=int(todo.sum()),
    )
    return report


def read_counts(
    path: str | Path,
    *,
    areas: gpd.GeoDataFrame,
    layout: str = "auto",
    sectors: Mapping[str, str] | None = None,
    columns: Columns | None = None,
    count_col: str | None = None,
    sector_digits: int = 2,
    study_code: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    period_col: str | None = None,
    gaz: Any = None,
) -> AreaCounts:
    """Read and check a counts file against the areas of analysis.

    Parameters
    ----------
    path
        CSV, Excel or Parquet: one row per area (``wide``) or per area and sector
        (``long``).
    areas
        The areas of analysis, indexed by area code (their ``name`` is used for names).
    layout
        ``auto`` (long when a sector column and a count column are found), ``wide`` or
        ``long``.
    sectors
        Header (wide) or value (long) -> sector label; wins over KBLI codes and PODES
        groups.
    columns
        The configured columns: ``area_code`` (else detected), ``sector``, ``workers``,
        ``output``, ``investment``.
    count_col
        The count column of a long table (else detected).
    sector_digits
        KBLI digits of a sector.
    study_code
        The study area's code prefix (``--area``): a code of another region is
        ``outside_study_area``.
    delimiter, encoding, sheet
        How the file is read (:func:`klastergeo.io.registry.records.read_records`).
    period_col
        A column of periods, left out of the counts (the run over surveys splits by it).
    gaz
        The study area's gazetteer (:func:`klastergeo.io.registry.placement.gazetteer`): codes with
        or without dots, village codes in a coarser unit of analysis, and names
        (desa, kecamatan, kabupaten columns) are placed as a registry's records are;
        None: codes of ``areas`` only (with or without dots).

    Returns
    -------
    AreaCounts

    Raises
    ------
    ValidationError
        When the file has no area column or no column of counts (naming its columns).
    """
    columns = columns or Columns()
    source = Path(path)
    frame, rows, n_read = _read_table(source, delimiter=delimiter, encoding=encoding, sheet=sheet)
    frame, rows, header_row = _find_header(frame, rows, columns, sectors, sector_digits)
    header = [str(c) for c in frame.columns]
    places = _area_columns(header, columns, source)
    chosen = _choose_layout(header, layout, columns, count_col, sectors, sector_digits, source)
    ignore = {*places.values(), *([period_col] if period_col else [])}
    written = {
        role: frame[col].astype("string").fillna("").str.strip() for role, col in places.items()
    }
    area_text = _written_area(written)
    layout_rows = _layout_rows(written)
    if header_row:
        logger.info("counts file %s: header in row %d, below a title", source.name, header_row)
    cells, reasons, details, used, roles, wide_sectors, dropped = _read_cells(
        frame, chosen, places, area_text, columns, sectors, sector_digits, ignore, source
    )
    if header_row:
        roles["header_row"] = str(header_row)
    codes, reason, detail, todo, layout_rows = _row_reasons(
        frame, rows, places, written, used, layout_rows, (reasons, details),
        areas=areas, study_code=study_code, gaz=gaz, ignore=ignore,
    )  # fmt: skip
    table, unknown, kept_codes = _count_table(cells, codes, reason, todo, used, wide_sectors, areas)
    report = _counts_report(frame, rows, reason, detail, layout_rows, n_read, columns, places, todo)
    listed = set(kept_codes) | set(codes[(reason != "") & (codes != "")])
    return AreaCounts(
        cells=table,
        unknown=tuple(unknown),
        report=report,
        layout=chosen[0],
        sectors=wide_sectors if used is None else _value_sectors(used[todo]),
        roles=roles,
        dropped=dropped,
        absent_areas=int((~areas.index.isin(list(listed))).sum()),
    )


def _outside(rows: np.ndarray, reason: np.ndarray) -> np.ndarray:
    """The rows placed outside the study area by the area they name (record number,
    no point): where they lie is named from their codes (the study-area check)."""
    out = rows[reason == "outside_study_area"].astype(np.float64)
    nan = np.full(len(out), np.nan)
    return records_mod.sample_outside(np.column_stack([out, nan, nan]))


def _sheet_as_is(source: Path, sheet: str | None) -> pd.DataFrame:
    """A sheet's cells as text, its first row as the header (title rows included)."""
    try:
        frame = pd.read_excel(
            source, sheet_name=sheet if sheet is not None else 0, dtype=str, header=None
        )
    except MemoryError:
        raise
    except Exception as err:  # openpyxl raises many types for a damaged workbook
        raise ValidationError(
            f"cannot read counts file {str(source)!r} as an Excel workbook "
            f"({type(err).__name__}: {err})"
        ) from err
    frame = frame.fillna("")
    header = [str(v).strip() for v in frame.iloc[0]] if len(frame) else []
    header = [h if h and h not in header[:k] else f"Unnamed: {k}" for k, h in enumerate(header)]
    return frame.iloc[1:].set_axis(header, axis=1).reset_index(drop=True)


#: Rows searched for the header below a table's title.
HEADER_ROWS = 20


def _find_header(
    frame: pd.DataFrame,
    rows: np.ndarray,
    columns: Columns,
    sectors: Mapping[str, str] | None,
    digits: int,
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """The table below its title rows: where the file's first line is a title
    (``Tabel 5.3 Jumlah Industri ...``), the header is the first of the next rows that
    names an area column and a sector; a cell left empty there (a header merged over
    two rows) takes the label above it. Returns the frame with that header, its rows'
    numbers and the header's row number (0: the file's first line)."""

    def usable(names: list[str]) -> bool:
        snake = {_snake(n) for n in names}
        wanted = {c for r in records_mod.PLACEMENT_ROLES for c in records_mod.CANDIDATES[r]}
        given = {getattr(columns, r) for r in records_mod.PLACEMENT_ROLES} - {None}
        placed = bool(snake & (wanted | {"kode"})) or bool(given & set(names))
        return placed and any(sector_of_header(n, sectors=sectors, digits=digits) for n in names)

    header = ["" if str(c).startswith("Unnamed:") else str(c).strip() for c in frame.columns]
    if usable(header) or not len(frame):
        return frame, rows, 0
    text = frame.head(HEADER_ROWS).astype("string").fillna("")
    above = header
    for i in range(len(text)):  # the first rows (a title is a few lines)
        cells = [str(v).strip() for v in text.iloc[i]]
        names = [c if c else a for c, a in zip(cells, above, strict=True)]
        if usable(names):
            unique = []
            for k, name in enumerate(names):  # a name given twice: numbered
                unique.append(name if name and names.index(name) == k else f"{name}_{k + 1}")
            out = frame.iloc[i + 1 :].set_axis(unique, axis=1)
            return out.reset_index(drop=True), rows[i + 1 :], int(rows[i])
        above = cells
    return frame, rows, 0


def _area_columns(header: list[str], columns: Columns, source: Path) -> dict[str, str]:
    """The columns placing each row (role -> column): the configured ``columns``
    (``area_code``, ``desa``, ``kecamatan``, ``kabupaten``), else the detected ones."""
    found: dict[str, str] = {}
    for role in records_mod.PLACEMENT_ROLES:
        given = getattr(columns, role)
        if given is not None:
            if given not in header:
                raise ValidationError(
                    f"columns.{role}={given!r} is not a column of counts file "
                    f"{str(source)!r}; its columns: {header}"
                )
            found[role] = given
    if found:
        return found
    wanted = {role: records_mod.CANDIDATES[role] for role in records_mod.PLACEMENT_ROLES}
    wanted["area_code"] = (*wanted["area_code"], "kode", "kode_wilayah_kemendagri")
    for role, names in wanted.items():
        hit = next((n for n in header if _snake(n) in names), None)
        if hit is not None:
            found[role] = hit
    if not found:
        raise ValidationError(
            f"counts file {str(source)!r} has no area code or area name column; its columns: "
            f"{header}; name it with --area-code-col (Kemendagri codes, with or without "
            "dots) or --desa-col (with --kecamatan-col and --kabupaten-col where names repeat)"
        )
    return found


def _written_area(written: Mapping[str, pd.Series]) -> pd.Series:
    """The area of each row as written, for messages: its code, else its names."""
    parts = [written[r] for r in ("area_code", "desa", "kecamatan", "kabupaten") if r in written]
    text = parts[0]
    for more in parts[1:]:
        text = text.where(text != "", more)
    return text


def _area_key(written: Mapping[str, pd.Series]) -> pd.Series:
    """The area as written, compared without case, dots or spacing (codes) and kind
    words (names): the same village written twice has the same key."""
    from klastergeo.io.registry import placement

    pieces = []
    for role, values in written.items():
        if role == "area_code":
            codes = placement.normalise_codes(values)
            pieces.append(codes.fillna(values.str.lower()).astype(str))
        else:
            pieces.append(placement.fold_names(values)["key"].astype(str).set_axis(values.index))
    key = pieces[0]
    for more in pieces[1:]:
        key = key + "|" + more
    return key


def _placed(
    frame: pd.DataFrame, places: Mapping[str, str], gaz: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's area of analysis by :func:`klastergeo.io.registry.placement.place` ('' where
    none), with the reason and detail of rows without one."""
    from klastergeo.io.registry import placement

    placed = placement.place(
        frame,
        gaz=gaz,
        code=places.get("area_code"),
        desa=places.get("desa"),
        kecamatan=places.get("kecamatan"),
        kabupaten=places.get("kabupaten"),
    )
    known = placed.area_pos >= 0
    codes = np.full(len(frame), "", dtype=object)
    codes[known] = np.asarray(gaz.codes, dtype=object)[placed.area_pos[known]]
    reason = np.where(known, "", placed.reason).astype(object)
    detail = np.where(known, "", placed.detail).astype(object)
    unnamed = ~known & ~placed.named
    reason[unnamed] = "missing_area"
    detail[unnamed] = "no area code or name"
    vague = ~known & placed.named & (reason == "")
    reason[vague] = "unknown_area"
    if "area_code" in places:  # a village code of the right regency that is no village
        village = placement.normalise_codes(frame[places["area_code"]]).str.count(r"\.") == 3
        hint = (reason == "unknown_area") & village.fillna(False).to_numpy(dtype=bool)
        detail[hint] = detail[hint] + BPS_HINT
    return codes, reason, detail


def _choose_layout(
    header: list[str],
    layout: str,
    columns: Columns,
    count_col: str | None,
    sectors: Mapping[str, str] | None,
    digits: int,
    source: Path,
) -> tuple[str, str, str]:
    """``("long", sector column, count column)`` or ``("wide", "", "")``."""
    snake = {name: _snake(name) for name in header}
    sector_col = columns.sector if columns.sector in header else None
    if sector_col is None:
        sector_col = next((n for n in header if snake[n] in SECTOR_CANDIDATES), None)
    n_col = count_col if count_col in header else None
    if n_col is None:
        n_col = next((n for n in header if snake[n] in COUNT_CANDIDATES), None)
    if count_col is not None and count_col not in header:
        raise ValidationError(
            f"counts.count_col={count_col!r} is not a column of {str(source)!r}; its "
            f"columns: {header}"
        )
    if layout == "long" or (layout == "auto" and sector_col and n_col):
        missing = [
            what
            for what, col in (
                ("a sector column (--sector-col)", sector_col),
                ("a count column (counts.count_col)", n_col),
            )
            if col is None
        ]
        if missing:
            raise ValidationError(
                f"counts file {str(source)!r} read as a long table (area, sector, count) "
                f"has no {' and no '.join(missing)}; its columns: {header}"
            )
        assert sector_col is not None and n_col is not None
        return ("long", sector_col, n_col)
    if not any(sector_of_header(n, sectors=sectors, digits=digits) for n in header):
        raise ValidationError(
            f"counts file {str(source)!r} has no column of counts: no header is a KBLI "
            "division (31, KBLI 13) or a PODES industry group (Industri kayu, Industri "
            f"makanan dan minuman, ...); its columns: {header}; map headers to sectors "
            "with [counts] sectors, or give a long table (area, sector, count)"
        )
    return ("wide", "", "")


def _layout_rows(written: Mapping[str, pd.Series]) -> np.ndarray:
    """``total``, ``footnote`` or ``column_numbers`` (the kinds of
    :data:`klastergeo.io.registry.sheets.SKIP_KINDS`) for rows that are part of the table's layout
    (the
    word in any of the area columns: ``Jumlah`` often stands in the name column)."""
    n = len(next(iter(written.values())))
    out = np.full(n, "", dtype=object)
    # the row of column numbers under a BPS table's header: (1) (2) (3) ...
    numbers = [v.str.fullmatch(_NUMBERING).fillna(False) for v in written.values()]
    numbered = np.logical_and.reduce([m.to_numpy(dtype=bool) for m in numbers])
    numbered &= np.array([v.str.startswith("(").fillna(False) for v in written.values()]).any(0)
    out[numbered] = "column_numbers"
    for values in written.values():  # the area columns (one to four)
        out[(out == "") & values.str.match(_TOTALS).fillna(False).to_numpy(dtype=bool)] = "total"
        out[(out == "") & values.str.match(_FOOTNOTE).fillna(False).to_numpy(dtype=bool)] = (
            "footnote"
        )
    return out


def _blank_rows(frame: pd.DataFrame, ignore: set[str]) -> np.ndarray:
    """Rows with no value at all (spacing rows of a typed table)."""
    text = frame.astype("string").fillna("")
    return (text.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()


def _counts(values: pd.Series, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A column of counts: numbers (NaN unknown), and per row the problem and its
    detail ('' where none)."""
    text = values.astype("string").fillna("").str.strip()
    lower = text.str.lower()
    unknown = lower.isin(_UNKNOWN).to_numpy()
    nil = lower.isin(_NIL).to_numpy()
    candidates = text.where(~(unknown | nil), "").astype(object)
    # counts are whole: where a value reads both ways (1.234), the dot groups thousands
    fmt = records_mod.number_format(candidates, fallback=",")
    numbers, _empty, invalid = records_mod.parse_numbers(candidates, fmt=fmt)
    numbers = np.where(nil, 0.0, numbers)
    numbers = np.where(unknown, np.nan, numbers)
    problem = np.full(len(values), "", dtype=object)
    detail = np.full(len(values), "", dtype=object)
    shown = text.to_numpy(dtype=object)
    negative = ~invalid & (numbers < 0)
    fraction = ~invalid & ~negative & np.isfinite(numbers) & (numbers != np.round(numbers))
    for mask, why in (
        (invalid, "is not a number of firms"),
        (negative, "is negative"),
        (fraction, "is not a whole number of firms"),
    ):
        problem[mask] = "invalid_count"
        detail[mask] = [f"column {column!r}: {v!r} {why}" for v in shown[mask]]
    return np.where(problem == "", numbers, np.nan), problem, detail


def _wide(
    frame: pd.DataFrame,
    header: list[str],
    ignore: set[str],
    sectors: Mapping[str, str] | None,
    digits: int,
    source: Path,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict[str, str], dict[str, str]]:
    """The counts of a wide table per row and sector column, and each row's problem."""
    found: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for name in header:  # columns (a few dozen)
        if name in ignore:
            continue
        sector = sector_of_header(name, sectors=sectors, digits=digits)
        if sector is None:
            if re.search(_SUMS, f" {_key(name)} "):
                dropped[name] = "a sum of workers or values, not a count of firms"
            elif _snake(name) not in _IGNORED and not _is_area_role(name):
                dropped[name] = "not a sector or industry group"
            continue
        found[name] = sector
    values: dict[str, np.ndarray] = {}
    problem = np.full(len(frame), "", dtype=object)
    detail = np.full(len(frame), "", dtype=object)
    for name in list(found):  # sector columns (a few)
        numbers, bad, why = _counts(frame[name], name)
        if np.isnan(numbers).all() and not (bad != "").any():
            dropped[name] = "no count in any row"
            del found[name]
            continue
        values[name] = numbers
        first = (problem == "") & (bad != "")
        problem[first], detail[first] = bad[first], why[first]
    if not found:
        raise ValidationError(
            f"counts file {str(source)!r}: no sector column holds a count "
            f"({', '.join(f'{k!r}: {v}' for k, v in dropped.items())})"
        )
    for name, reason in dropped.items():
        logger.warning("counts file %s: column %r left out: %s", source.name, name, reason)
    return pd.DataFrame(values, index=frame.index), problem, detail, found, dropped


#: Said of a village code that is not a Kemendagri village of the study area.
BPS_HINT = (
    "; BPS codes (PODES, the census) differ from Kemendagri codes below the regency: "
    "give Kemendagri codes or the village names"
)


def _is_area_role(name: str) -> bool:
    snake = _snake(name)
    return any(snake in records_mod.CANDIDATES[r] for r in records_mod.PLACEMENT_ROLES)


def _long(
    frame: pd.DataFrame,
    area: pd.Series,
    sector_col: str,
    n_col: str,
    columns: Columns,
    sectors: Mapping[str, str] | None,
    digits: int,
    header: list[str],
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, dict[str, str]]:
    """The counts and sums of a long table per row, each row's sector and problem."""
    text = frame[sector_col].astype("string").fillna("").str.strip()
    distinct = pd.Series(text.unique())
    mapped = {v: sector_of_header(v, sectors=sectors, digits=digits) for v in distinct}
    for value in distinct:  # distinct sector values (a few dozen)
        if mapped[value] is None and re.fullmatch(r"\d{2,5}", str(value)):
            code = str(value)
            mapped[value] = code[:digits] if code[:2] in kbli.DIVISIONS else None
    sector = text.map(mapped).astype(object).to_numpy()
    numbers, problem, detail = _counts(frame[n_col], n_col)
    no_sector = (problem == "") & pd.isna(sector)
    problem[no_sector] = "invalid_sector"
    detail[no_sector] = [
        f"column {sector_col!r}: {v!r} is not a KBLI code or an industry group"
        for v in text.to_numpy()[no_sector]
    ]
    out = pd.DataFrame({"sector": sector, "n_firms": numbers}, index=frame.index)
    roles = {"sector": sector_col, "count": n_col}
    # sums' columns as a registry's are found (synonyms, units set aside) and converted
    detection = headers.detect([str(n) for n in header], skip=[sector_col, n_col])
    for role in ("workers", "output", "investment"):
        col = getattr(columns, role)
        if col is None:
            groups = detection.found.get(role, [])
            col = groups[0][0] if groups else None
        if col is None or col not in header:
            out[role] = np.nan
            continue
        roles[role] = col
        nums, _empty, invalid = records_mod.parse_numbers(frame[col].astype(object))
        unit = headers.measure_units({role: str(col)}).get(role)
        if unit is not None and unit.factor != 1:
            nums = nums * unit.factor  # to the stated unit (Rp juta)
        bad = (problem == "") & (invalid | (nums < 0))
        problem[bad] = "invalid_value"
        detail[bad] = [f"column {col!r}: {v!r} is not a sum" for v in frame[col].to_numpy()[bad]]
        out[role] = nums
    used = np.where(pd.isna(sector), "", sector).astype(object)
    return out, problem, detail, used, roles


def _value_sectors(values: np.ndarray) -> dict[str, str]:
    return {str(v): str(v) for v in sorted(set(values))}


def _wide_to_long(values: pd.DataFrame, codes: pd.Series) -> pd.DataFrame:
    """One row per (area, sector column) of the kept rows of a wide table."""
    if not len(values):
        return pd.DataFrame(columns=["area_code", "column", "n_firms"])
    frame = values.reset_index(drop=True).assign(area_code=codes.to_numpy())
    return frame.melt(id_vars="area_code", var_name="column", value_name="n_firms")


def _cells(
    frame: pd.DataFrame, areas: pd.Index, unread: set[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Counts per (area, sector) over every area of analysis (an area not listed has no
    firms), and the areas with an unknown count (a blank cell, or a rejected row of
    theirs: ``unread``), whose counts are NaN."""
    if "column" in frame.columns:  # wide: columns of the same sector are summed
        frame = frame.rename(columns={"column": "sector"})
    frame = frame.assign(
        sector=frame["sector"].astype(str), area_code=frame["area_code"].astype(str)
    )
    for role in ("workers", "output", "investment"):
        if role not in frame.columns:
            frame[role] = np.nan
    blank = frame["n_firms"].isna()
    unknown = sorted(set(frame.loc[blank, "area_code"]) | unread)
    grouped = frame.groupby(["area_code", "sector"], sort=False)
    table = grouped[["n_firms", "workers", "output", "investment"]].sum(min_count=1)
    table["n_firms"] = table["n_firms"].fillna(0.0)
    sectors = sorted(table.index.get_level_values("sector").unique(), key=_sector_order)
    full = pd.MultiIndex.from_product(
        [pd.Index(areas, name="area_code"), pd.Index(sectors, name="sector")]
    )
    table = table.reindex(full)
    table["n_firms"] = table["n_firms"].fillna(0.0)  # not listed: no firms
    table.loc[table.index.get_level_values("area_code").isin(unknown), "n_firms"] = np.nan
    return table, unknown


def _sector_order(label: str) -> tuple[int, str]:
    """KBLI codes first, in order; named groups after them."""
    return (0, label) if label[:2].isdigit() else (1, label)


def _match_areas(
    area: pd.Series, areas: gpd.GeoDataFrame, study_code: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's area code in ``areas`` ('' where none), with the reason and detail of
    rows without one."""
    index = pd.Index(areas.index.astype(str))
    keys = pd.Series(index, index=[_code_key(c) for c in index])
    keys = keys[~keys.index.duplicated(keep=False)]
    distinct = pd.Series(area.unique())
    found: dict[str, str] = {}
    for value in distinct:  # distinct area codes (thousands at most)
        k = _code_key(value)
        hit = keys.get(k)
        if hit is None and re.fullmatch(r"\d+\.0", str(value)):  # an Excel number cell
            hit = keys.get(_code_key(str(value)[:-2]))
        found[value] = "" if hit is None else str(hit)
    codes = area.map(found).fillna("").to_numpy(dtype=object)
    reason = np.full(len(area), "", dtype=object)
    detail = np.full(len(area), "", dtype=object)
    missing = codes == ""
    empty = missing & area.eq("").to_numpy()
    reason[empty] = "missing_area"
    detail[empty] = "no area code"
    rest = missing & ~empty
    if rest.any():
        why = {v: _why_unknown(v, index, study_code) for v in pd.unique(area.to_numpy()[rest])}
        reason[rest] = [why[v][0] for v in area.to_numpy()[rest]]
        detail[rest] = [why[v][1] for v in area.to_numpy()[rest]]
    return codes, reason, detail


def _code_key(value: object) -> str:
    """An area code compared without dots, spaces, dashes or case."""
    return re.sub(r"[\s.\-/_]", "", str(value)).lower()


def _dotted(code: str) -> str:
    """A Kemendagri code of 2, 4, 6 or 10 digits with its dots (else unchanged).

    Parameters
    ----------
    code
        A code without dots.

    Examples
    --------
    >>> _dotted("3310112015"), _dotted("331011"), _dotted("33.10")
    ('33.10.11.2015', '33.10.11', '33.10')
    """
    digits = str(code)
    if not re.fullmatch(r"\d+", digits) or len(digits) not in (2, 4, 6, 10):
        return digits
    parts = [digits[:2], digits[2:4], digits[4:6], digits[6:]]
    return ".".join(p for p in parts if p)


def _why_unknown(value: str, index: pd.Index, study_code: str | None) -> tuple[str, str]:
    """Why an area code is not one of the study area's, with the nearest known parent."""
    code = _dotted(_code_key(value)) if re.fullmatch(r"[\d.\s]+", value) else value
    if study_code and re.fullmatch(r"[\d.]+", code) and not code.startswith(study_code):
        return "outside_study_area", f"area {value!r} ({code}) is outside --area {study_code}"
    parts = code.split(".")
    for n in range(len(parts) - 1, 0, -1):  # the nearest known parent
        parent = ".".join(parts[:n])
        if index.str.startswith(parent + ".").any():
            hint = ""
            if n <= 2 and len(parts) == 4:
                hint = (
                    "; BPS codes (PODES) differ from Kemendagri codes below the regency: "
                    "give Kemendagri codes"
                )
            return (
                "unknown_area",
                f"area {value!r} ({code}) is not an area of the study area; {parent} is{hint}",
            )
    near = ", ".join(preview(list(index[:3])).split(", ")[:3])
    return "unknown_area", f"area {value!r} is not an area of the study area (e.g. {near})"
