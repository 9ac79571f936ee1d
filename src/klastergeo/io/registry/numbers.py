"""Number formats: the decimal mark and thousands groups of each numeric column, decided
for the whole file, and text parsed as numbers."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from klastergeo.errors import ValidationError, preview
from klastergeo.io.registry import coordinates, kernels
from klastergeo.io.registry.columns import Columns
from klastergeo.io.registry.mapping import NUMERIC_ROLES
from klastergeo.io.registry.reading import NA_TOKENS
from klastergeo.options import Decimal

__all__ = [
    "NumberFormat",
    "check_units",
    "codes_as_text",
    "column_formats",
    "coordinate_units",
    "file_decimal",
    "file_formats",
    "merge_formats",
    "number_format",
    "numeric_column",
    "numeric_columns",
    "parse_numbers",
]


# --------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------

#: Number formats of each decimal mark (after blanks and a leading "Rp" are removed):
#: plain numbers with an optional decimal part and exponent, and three-digit groups.
_FORMATS: dict[str, tuple[str, ...]] = {
    ".": (
        r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$",  # 110.25, -7.5, 15, 1e3
        r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$",  # 1,234,567 and 1,234.5
    ),
    ",": (
        r"^[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?$",  # -7,5 and 15
        r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$",  # 1.234.567 and 1.234,5
    ),
}


@dataclass(frozen=True)
class NumberFormat:
    """How one column writes its numbers, decided once for the whole column.

    ``decimal`` is the decimal mark ("." or ","); the other mark may only group thousands.
    ``decided_by`` says why: ``"values"`` (its values show it: ``-7,5`` or ``1.234,5`` show
    a decimal comma, ``110.25`` or ``1,234.5`` a decimal point; a coordinate's single mark
    is always decimal), ``"file"`` (the column's values fit both, e.g. ``1.234``, and the
    file's other columns decide), ``"delimiter"`` (nothing in the file decides: a
    ``;``-delimited file, as spreadsheets of a decimal-comma locale export, uses ``,``,
    any other ``.``), ``"option"`` (``records.decimal``) or ``"typed"`` (the file stores
    numbers, not text). ``comma``/``point`` count the values that show each mark;
    ``conflicts`` those that contradict the decision (they are invalid).
    """

    decimal: str
    decided_by: str
    comma: int = 0
    point: int = 0
    conflicts: int = 0

    def to_dict(self) -> dict[str, Any]:
        thousands = {".": ",", ",": "."}.get(self.decimal)
        return {
            "decimal": self.decimal,
            "thousands": thousands,
            "decided_by": self.decided_by,
            "values_with_comma": self.comma,
            "values_with_point": self.point,
            "conflicts": self.conflicts,
        }


def _delimiter_default(delimiter: str | None) -> str:
    return "," if delimiter == ";" else "."


def _matches(text: pa.Array, decimal: str) -> NDArray[np.bool_]:
    first, second = _FORMATS[decimal]
    either = pc.or_(pc.match_substring_regex(text, first), pc.match_substring_regex(text, second))
    return _np(either)


def _evidence(
    text: pa.Array, empty: NDArray[np.bool_], *, coordinate: bool = False
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Values that can only be read with a decimal comma, and with a decimal point.

    A value that fits both (``1.234``, ``15``) shows neither. In a coordinate a single
    mark is always decimal (no latitude or longitude has thousands)."""
    n_comma = _np(pc.count_substring(text, ","))
    n_dot = _np(pc.count_substring(text, "."))
    marked = ~empty & ((n_comma > 0) | (n_dot > 0))
    comma = np.zeros(len(empty), dtype=bool)
    point = np.zeros(len(empty), dtype=bool)
    if not marked.any():
        return comma, point
    rows = np.flatnonzero(marked)
    subset = text if len(rows) == len(text) else text.take(pa.array(rows))
    as_comma = _matches(subset, ",")
    as_point = _matches(subset, ".")
    comma[rows] = as_comma & ~as_point
    point[rows] = as_point & ~as_comma
    if coordinate:
        single = (n_comma[rows] + n_dot[rows]) == 1
        comma[rows] |= single & (n_comma[rows] == 1) & as_comma
        point[rows] |= single & (n_dot[rows] == 1) & as_point
    return comma, point


def _prepare(values: pd.Series) -> tuple[pa.Array, NDArray[np.bool_]]:
    text = _clean_text(_arrow_text(values))
    empty = _np(pc.is_in(pc.utf8_lower(text), value_set=pa.array(NA_TOKENS)))
    return text, empty


def number_format(
    values: pd.Series,
    *,
    decimal: Decimal = "auto",
    fallback: str | None = None,
    delimiter: str | None = None,
    coordinate: bool = False,
) -> NumberFormat:
    """Decide how a column writes its numbers (see :class:`NumberFormat`).

    ``fallback`` is the file's decimal mark, used when the column's own values fit both
    marks; without it the delimiter decides.

    Parameters
    ----------
    values
        The column. A numeric or boolean column is ``"typed"`` with a decimal point.
    decimal
        ``"auto"`` to decide from the values, or ``"."`` or ``","`` to force the mark
        (``records.decimal``).
    fallback
        The file's decimal mark (:func:`file_decimal`), or None.
    delimiter
        The CSV delimiter, the last resort: ``;`` means a decimal comma, anything else
        (or None) a decimal point.
    coordinate
        Whether the column holds latitudes or longitudes, in which a single mark is
        always decimal.

    Returns
    -------
    NumberFormat
        The decision, with its reason and the evidence counted.

    Examples
    --------
    >>> number_format(pd.Series(["1.234", "-7,5"])).decimal
    ','
    >>> number_format(pd.Series(["1.234", "15"]), delimiter=",").decided_by
    'delimiter'
    """
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return NumberFormat(decimal=".", decided_by="typed")
    array = _arrow_text(values)
    n_comma, n_point = _plain_counts(array, coordinate)
    return _decide(n_comma, n_point, decimal=decimal, fallback=fallback, delimiter=delimiter)


def _counts(array: pa.Array, coordinate: bool = False) -> tuple[int, int]:
    """Values that can only be read with a decimal comma, and with a decimal point."""
    text = _clean_text(array)
    empty = _np(pc.is_in(pc.utf8_lower(text), value_set=pa.array(NA_TOKENS)))
    comma, point = _evidence(text, empty, coordinate=coordinate)
    return int(comma.sum()), int(point.sum())


def _plain_counts(array: pa.Array, coordinate: bool) -> tuple[int, int]:
    """:func:`_counts` in one compiled pass over the plain decimals
    (:func:`klastergeo.io.registry.kernels.scan`): one mark shows itself, but in an
    amount ``1.234`` (one to three digits, a mark, three digits) fits both; the other
    values are looked at one by one."""
    scanned = kernels.scan(array)
    mark = scanned.mark
    shows = ~_three(scanned) if not coordinate else np.ones(len(mark), dtype=bool)
    n_comma, n_point = int(((mark == 2) & shows).sum()), int(((mark == 1) & shows).sum())
    rest = np.flatnonzero(mark < 0)
    if len(rest):
        taken = array if len(rest) == len(array) else array.take(pa.array(rest))
        comma, point = _counts(taken, coordinate=coordinate)
        n_comma, n_point = n_comma + comma, n_point + point
    return n_comma, n_point


def _decide(
    n_comma: int, n_point: int, *, decimal: Decimal, fallback: str | None, delimiter: str | None
) -> NumberFormat:
    """The decimal mark of a column whose values show ``n_comma`` and ``n_point``."""
    chosen: str
    if decimal != "auto":
        chosen, why = str(decimal), "option"
    elif n_comma != n_point:
        chosen, why = ("," if n_comma > n_point else "."), "values"
    elif fallback is not None:
        chosen, why = fallback, "file"
    else:
        chosen, why = _delimiter_default(delimiter), "delimiter"
    conflicts = n_point if chosen == "," else n_comma
    return NumberFormat(chosen, why, comma=n_comma, point=n_point, conflicts=conflicts)


def file_decimal(formats: Mapping[str, NumberFormat]) -> str | None:
    """The decimal mark the columns of one file show between them (None if none does).

    Parameters
    ----------
    formats
        The :func:`number_format` of each column, by name; ``"typed"`` columns do not
        count. The mark shown by more values wins; a tie gives None.

    Returns
    -------
    str or None
        ``"."``, ``","`` or None.
    """
    comma = sum(f.comma for f in formats.values() if f.decided_by != "typed")
    point = sum(f.point for f in formats.values() if f.decided_by != "typed")
    if comma == point:
        return None
    return "," if comma > point else "."


def parse_numbers(
    values: pd.Series,
    *,
    decimal: Decimal = "auto",
    delimiter: str | None = None,
    fmt: NumberFormat | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """Parse text numbers as Indonesian and international spreadsheets write them.

    Returns ``(numbers, empty, invalid)``: floats (NaN where empty or invalid), a mask of
    empty cells and a mask of non-empty cells that are not finite numbers in the column's
    format (``inf``, ``1e999`` and 400-digit numbers are invalid).

    One rule reads the whole column: ``fmt`` (default: :func:`number_format` of the column
    with ``decimal`` and ``delimiter``). Thousands groups must have three digits, so codes
    such as ``33.74.07.1010`` stay text. With a decimal comma ``1.234`` is 1234 and
    ``1,5`` is 1.5; with a decimal point ``1.234`` is 1.234 and ``1,234`` is 1234. A value
    written with the other convention (``110.25`` in a decimal-comma column) is invalid.

    Parameters
    ----------
    values
        The column; numeric and boolean columns are taken as they are (only non-finite
        values are invalid).
    decimal, delimiter
        Passed to :func:`number_format` when ``fmt`` is None.
    fmt
        The column's number format, decided beforehand (e.g. with the file's decimal
        mark as fallback); None decides it here.

    Examples
    --------
    >>> nums, empty, bad = parse_numbers(pd.Series(["-7,5", "1.234,5", "110,25", "", "x"]))
    >>> nums.round(2).tolist()[:3], empty.tolist(), bad.tolist()
    ([-7.5, 1234.5, 110.25], [False, False, False, True, False], [False, False, False, False, True])
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype("Int64")
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = np.array(
            pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        )
        empty = values.isna().to_numpy()
        invalid = ~empty & ~np.isfinite(numbers)
        numbers[invalid] = np.nan
        return numbers, empty, invalid
    if fmt is None:
        fmt = number_format(values, decimal=decimal, delimiter=delimiter)
    # the common case in one compiled pass: digits with at most the column's decimal
    # mark, or its thousands mark before three digits; the rest as below
    array = _arrow_text(values)
    scanned = kernels.scan(array)
    own = 2 if fmt.decimal == "," else 1
    grouped = (scanned.mark == 3 - own) & _three(scanned)
    plain = (scanned.mark == 0) | (scanned.mark == own) | grouped
    numbers = np.where(plain, scanned.value(grouped), np.nan)
    empty = np.zeros(len(numbers), dtype=bool)
    rest = np.flatnonzero(~plain)
    if len(rest):
        taken = array if len(rest) == len(array) else array.take(pa.array(rest))
        numbers[rest], empty[rest], _ = _parse_text(taken, fmt)
    invalid = ~empty & ~np.isfinite(numbers)
    numbers[invalid] = np.nan
    return numbers, empty, invalid


def _three(scanned: kernels.Scanned) -> NDArray[np.bool_]:
    """Values with one to three digits, a mark and three digits (``1.234``): a decimal,
    or thousands grouped."""
    return (scanned.whole <= 3) & (scanned.fraction == 3)


def _parse_text(
    array: pa.Array, fmt: NumberFormat
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """:func:`parse_numbers` of text (nulls as ''), each value by the general path."""
    text = _clean_text(array)
    empty = _np(pc.is_in(pc.utf8_lower(text), value_set=pa.array(NA_TOKENS)))
    numbers = np.full(len(text), np.nan)
    n_comma = _np(pc.count_substring(text, ","))
    n_dot = _np(pc.count_substring(text, "."))
    if not n_comma.any() and (fmt.decimal == "." or not n_dot.any()):
        # Fast path: plain numbers, which Arrow casts in one pass.
        try:
            cast = pc.cast(pc.if_else(pa.array(empty), None, text), pa.float64())
        except MemoryError:  # not the file's fault: the guard says which step ran out
            raise
        except pa.ArrowException:  # not all plain numbers: check each below
            pass
        else:
            numbers = np.array(_np(cast.fill_null(np.nan)), dtype=float)
            invalid = ~empty & ~np.isfinite(numbers)
            numbers[invalid] = np.nan
            return numbers, empty, invalid
    todo = ~empty
    if todo.any():
        rows = np.flatnonzero(todo)
        subset = text if len(rows) == len(text) else text.take(pa.array(rows))
        hit = _matches(subset, fmt.decimal)
        if hit.any():
            chosen = subset if hit.all() else subset.filter(pa.array(hit))
            if fmt.decimal == ",":
                chosen = pc.replace_substring(pc.replace_substring(chosen, ".", ""), ",", ".")
            else:
                chosen = pc.replace_substring(chosen, ",", "")
            numbers[rows[hit]] = _np(pc.cast(chosen, pa.float64()))
    invalid = ~empty & ~np.isfinite(numbers)
    numbers[invalid] = np.nan
    return numbers, empty, invalid


def _arrow_text(values: pd.Series) -> pa.Array:
    """The values as an Arrow string array (zero-copy for Arrow-backed text), nulls as ''."""
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = pa.array(values.astype("string"), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):  # large pandas columns hold several chunks
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        try:
            array = pc.cast(array, pa.large_string())
        except MemoryError:  # not the file's fault: the guard says which step ran out
            raise
        except pa.ArrowException:  # lists, structs: no number can be read from them
            array = pa.array(values.astype(str).to_numpy(dtype=object), type=pa.large_string())
    return array.fill_null("")


def _clean_text(text: pa.Array) -> pa.Array:
    """Trim blanks; drop inner blanks, apostrophes and a leading 'Rp' where present."""
    text = pc.utf8_trim(text, characters=" \t\u00a0")
    dirty = pc.match_substring_regex(text, "[\\s\u00a0']|^[Rr][Pp]")
    if not pc.any(dirty).as_py():
        return text
    cleaned = pc.replace_substring_regex(text.filter(dirty), pattern=r"(?i)^rp\.?", replacement="")
    cleaned = pc.replace_substring_regex(cleaned, pattern="[\\s\u00a0']", replacement="")
    return pc.replace_with_mask(text, dirty, cleaned)


def numeric_column(
    values: pd.Series,
    *,
    name: str = "column",
    decimal: Decimal = "auto",
    delimiter: str | None = None,
    fallback: str | None = None,
) -> pd.Series:
    """A column of numbers as floats, parsed as :func:`parse_numbers` does (its format
    decided once, with ``fallback``, the file's decimal mark, where its values fit both).

    Raises :class:`ValidationError` naming the column and offending values when a
    non-empty cell is not a finite number in the column's format.

    Parameters
    ----------
    values
        The column.
    name
        The column's name, as the error message gives it.
    decimal, delimiter, fallback
        As for :func:`number_format`.

    Returns
    -------
    Series
        Floats (NaN where empty), with the index and name of ``values``.

    Examples
    --------
    >>> numeric_column(pd.Series(["0,5", "", "2"]), name="skor").tolist()
    [0.5, nan, 2.0]
    """
    fmt = number_format(values, decimal=decimal, fallback=fallback, delimiter=delimiter)
    numbers, _, invalid = parse_numbers(values, fmt=fmt)
    if invalid.any():
        mark = {".": "a decimal point", ",": "a decimal comma"}[fmt.decimal]
        raise ValidationError(
            f"column {name!r} is not numeric: {int(invalid.sum())} value(s) such as "
            f"{preview(pd.Series(values).iloc[np.flatnonzero(invalid)].unique())} are not "
            f"finite numbers with {mark} ({fmt.decided_by}) as its other values use"
        )
    return pd.Series(numbers, index=values.index, name=values.name)


def _np(array: pa.Array) -> NDArray[Any]:
    return np.asarray(array.to_numpy(zero_copy_only=False))


def codes_as_text(values: pd.Series) -> pd.Series:
    """Sector codes as text; integral floats from typed files lose their '.0' (values
    that are not whole numbers of at most 9 digits stay as written, and are invalid).

    Parameters
    ----------
    values
        A sector (KBLI) column as read: text, or floats where a spreadsheet or typed
        file stored the codes as numbers.

    Returns
    -------
    pd.Series
        The codes as pandas strings, on the same index.
    """
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        codes = np.isfinite(numbers) & (np.abs(numbers) < 1e9)
        codes &= np.floor(np.where(codes, numbers, 0.0)) == np.where(codes, numbers, 0.0)
        text = values.astype("string")
        if codes.any():
            whole = pd.Series(np.where(codes, numbers, 0.0), index=values.index)
            text = text.mask(codes, whole.astype(np.int64).astype("string"))
        return text
    return values.astype("string")


def column_formats(
    frame: pd.DataFrame, cols: Columns, *, decimal: Decimal, delimiter: str | None
) -> dict[str, NumberFormat]:
    """The number format of every numeric column of the standard roles, decided once: by
    its own values, else by the file's other amount columns (workers, output,
    investment: typed in the spreadsheet's locale), else by its coordinates (often pasted
    from a GPS with a decimal point whatever the locale), else by the delimiter.

    Parameters
    ----------
    frame
        The records, or a sample of them (with the file's own column names).
    cols
        The column mapping (:func:`resolve_columns`); its numeric roles (coordinates,
        amounts) are the columns looked at.
    decimal
        ``"auto"`` to decide from the values, or ``"."`` or ``","`` to force the mark
        (``records.decimal``).
    delimiter
        The CSV delimiter, the last resort: ``;`` means a decimal comma, anything else
        (or None) a decimal point.

    Returns
    -------
    dict
        Each numeric column's name mapped to its :class:`NumberFormat`.
    """
    own = {
        name: number_format(
            frame[name], decimal=decimal, delimiter=delimiter, coordinate=coordinate
        )
        for name, coordinate in numeric_columns(cols).items()
    }
    return file_formats(own, cols)


def coordinate_units(frame: pd.DataFrame, cols: Columns) -> tuple[int, int, tuple[str, ...]]:
    """Whether the coordinates are degrees: ``(rows with numbers, rows beyond ±180, a
    few of those values)``, read as degrees (add the counts up over a file's batches).

    Parameters
    ----------
    frame
        The records, or one batch of them.
    cols
        The column mapping.

    Examples
    --------
    >>> frame = pd.DataFrame({"y": ["9147234.5", "-7.7"], "x": ["449123.4", "110.6"]})
    >>> coordinate_units(frame, Columns(lat="y", lon="x"))
    (2, 1, ('(y 9147234.5, x 449123.4)',))
    """
    separate = cols.lat is not None and cols.lon is not None
    if not separate and cols.coordinates is None:
        return 0, 0, ()
    parsed = coordinates.parse(
        frame,
        lat=cols.lat if separate else None,
        lon=cols.lon if separate else None,
        pair=cols.coordinates,
    )
    numbers, beyond = coordinates.looks_projected(parsed.lat, parsed.lon)
    if not beyond:
        return numbers, beyond, ()
    far = (np.abs(np.nan_to_num(parsed.lat)) > 180) | (np.abs(np.nan_to_num(parsed.lon)) > 180)
    rows = np.flatnonzero(far)[:3]
    names = [cols.lat, cols.lon] if separate else [cols.coordinates]
    examples = [
        "(" + ", ".join(f"{name} {frame[name].iloc[i]}" for name in names if name) + ")"
        for i in rows
    ]
    return numbers, beyond, tuple(examples)


def check_units(evidence: tuple[int, int, tuple[str, ...]], cols: Columns) -> None:
    """Stop with :class:`ValidationError` when the coordinates look projected (metres)
    and no ``records.crs`` says so (:func:`klastergeo.io.registry.coordinates.check_degrees`).

    Parameters
    ----------
    evidence
        :func:`coordinate_units` of the whole file (summed over its batches).
    cols
        The column mapping (the message names its coordinate columns).
    """
    separate = cols.lat is not None and cols.lon is not None
    names = [cols.lat, cols.lon] if separate else [cols.coordinates]
    coordinates.check_degrees(
        evidence[:2],
        columns="columns " + " and ".join(repr(n) for n in names if n),
        examples=evidence[2],
    )


def numeric_columns(cols: Columns) -> dict[str, bool]:
    """The numeric columns of the mapping, each with whether it holds coordinates.

    Parameters
    ----------
    cols
        The column mapping.

    Returns
    -------
    dict
        Column name -> True for latitude and longitude, False for the amounts.
    """
    numeric = {cols.lat: True, cols.lon: True}
    numeric.update({getattr(cols, role): False for role in NUMERIC_ROLES})
    return {name: coordinate for name, coordinate in numeric.items() if name is not None}


def merge_formats(
    parts: Sequence[Mapping[str, NumberFormat]],
    *,
    decimal: Decimal = "auto",
    delimiter: str | None = None,
) -> dict[str, NumberFormat]:
    """The number format of each column from the evidence of every batch of a file, as
    :func:`number_format` decides it for the whole column.

    Parameters
    ----------
    parts
        Each batch's :func:`number_format` per column.
    decimal
        ``records.decimal``.
    delimiter
        The CSV delimiter, the last resort.

    Returns
    -------
    dict
        Column name -> :class:`NumberFormat`, before the file's other columns decide
        (:func:`file_formats`).

    Examples
    --------
    >>> one = {"x": number_format(pd.Series(["1.234"]))}
    >>> two = {"x": number_format(pd.Series(["7,5"]))}
    >>> merge_formats([one, two])["x"].decimal
    ','
    """
    out: dict[str, NumberFormat] = {}
    for name in parts[0] if parts else {}:
        seen = [part[name] for part in parts]
        if all(f.decided_by == "typed" for f in seen):
            out[name] = seen[0]
            continue
        out[name] = _decide(
            sum(f.comma for f in seen),
            sum(f.point for f in seen),
            decimal=decimal,
            fallback=None,
            delimiter=delimiter,
        )
    return out


def file_formats(own: Mapping[str, NumberFormat], cols: Columns) -> dict[str, NumberFormat]:
    """Each column's own format, where its values fit both marks decided by the file's
    other columns: its amounts (typed in the spreadsheet's locale), else its coordinates.

    Parameters
    ----------
    own
        Each numeric column's format from its own values.
    cols
        The column mapping (which columns are coordinates).

    Returns
    -------
    dict
        Column name -> :class:`NumberFormat`.
    """
    numeric = numeric_columns(cols)
    amounts = {name: fmt for name, fmt in own.items() if not numeric[name]}
    coords = {name: fmt for name, fmt in own.items() if numeric[name]}
    mark = file_decimal(amounts) or file_decimal(coords)
    decided = {
        name: (
            dataclasses.replace(
                fmt,
                decimal=mark,
                decided_by="file",
                conflicts=fmt.point if mark == "," else fmt.comma,
            )
            if mark is not None and fmt.decided_by == "delimiter"
            else fmt
        )
        for name, fmt in own.items()
    }
    # a coordinate has a known range, so each value that shows its mark is read by it
    # (-7.710251 beside -7,710251): the column's mark only reads the values that do not
    # (:func:`klastergeo.io.registry.coordinates.read_values`), and none is a conflict
    return {
        name: dataclasses.replace(fmt, conflicts=0) if numeric[name] else fmt
        for name, fmt in decided.items()
    }
