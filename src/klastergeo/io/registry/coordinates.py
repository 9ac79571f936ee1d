"""Coordinates as people write them, read into decimal degrees (WGS84).

One latitude or longitude per cell: decimal degrees with a decimal point or comma
(``-7.710251``, ``-7,710251``, and ``110.603.422``, the same number from a spreadsheet
that took the point for a thousands separator), degrees-minutes-seconds
(``7°42'36.9"S``, ``7° 42' 36.9" LS``, ``S 7 42 36.9``, with ``′ ″``, ``''`` or blanks)
and degrees with decimal minutes (``7°42.615'S``); hemispheres as N/S/E/W or in
Indonesian (LU/LS/BT/BB, utara/selatan/timur/barat). One cell holding both (a
*coordinates* column): ``lat, lon`` as copied from a web map (``-7.710251, 110.603422``,
``-7,710251, 110,603422``) or a map link (Google Maps, OpenStreetMap, ``geo:``).
Projected coordinates (metres, e.g. UTM ``EPSG:32749`` or DGN95 TM-3 ``EPSG:23834``) are
transformed when their CRS is given.

Everything is vectorised over the column with :mod:`pyarrow.compute` regular expressions
and NumPy; a value that cannot be read gets NaN and a short reason (``why``) for the
rejection detail. This module is pure: no files, no configuration, no messages shown to
people beyond those reasons.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from klastergeo.errors import ConfigError, ValidationError
from klastergeo.io.registry import kernels

__all__ = [
    "ACCEPTED",
    "ACCEPTED_PAIR",
    "Parsed",
    "check_crs",
    "check_degrees",
    "looks_projected",
    "parse",
    "read_pairs",
    "read_values",
    "to_wgs84",
]

logger = logging.getLogger(__name__)

#: What a latitude or longitude cell may hold (quoted in rejection details).
ACCEPTED = (
    "decimal degrees (-7.710251 or -7,710251), degrees-minutes-seconds (7°42'36.9\"S, "
    "7 42 36.9 LS, S 7 42 36.9) or degrees and decimal minutes (7°42.615'S)"
)
#: What a coordinates cell may hold.
ACCEPTED_PAIR = (
    "latitude and longitude as copied from a web map (-7.710251, 110.603422) or in "
    "degrees-minutes-seconds (7°42'36.9\"S 110°36'12\"E), or a map link (Google Maps "
    ".../@-7.71,110.60,17z or ?q=-7.71,110.60, OpenStreetMap #map=17/-7.71/110.60, "
    "geo:-7.71,110.60)"
)
#: Cells that say "no value" (compared in lower case).
_EMPTY = ["", "na", "n/a", "nan", "null", "none", "-", "--", "#n/a"]

# ---- numbers ----------------------------------------------------------------------------
_PLAIN = r"^[+-]?\d+(\.\d+)?$"  # the common case, cast at once
_INT = r"^[+-]?\d+$"
_ONE_MARK = r"^[+-]?(\d+[.,]\d*|[.,]\d+)$"  # one decimal (or thousands) mark
_EXPONENT = r"^[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+$"
_DOT_GROUPS = r"^[+-]?\d{1,3}(\.\d{3}){2,}$"  # 110.603.422
_COMMA_GROUPS = r"^[+-]?\d{1,3}(,\d{3}){2,}$"  # 110,603,422
_DOT_GROUPS_COMMA = r"^[+-]?\d{1,3}(\.\d{3})+,\d+$"  # 9.147.234,56
_COMMA_GROUPS_DOT = r"^[+-]?\d{1,3}(,\d{3})+\.\d+$"  # 9,147,234.56

# ---- degrees, minutes, seconds ----------------------------------------------------------
#: Marks and words written in many ways, each brought to one form (on upper-case text).
_HEMISPHERES = {
    "N": r"LINTANG\s*UTARA|UTARA|NORTH|LU|U|N",
    "S": r"LINTANG\s*SELATAN|SELATAN|SOUTH|LS|S",
    "E": r"BUJUR\s*TIMUR|TIMUR|EAST|BT|T|E",
    "W": r"BUJUR\s*BARAT|BARAT|WEST|BB|B|W",
}
_NORMALISE: tuple[tuple[str, str], ...] = (
    ("[\u2212\u2012\u2013\u2014]", "-"),  # minus and dashes
    ("''|\u2032\u2032|[\u2033\u201c\u201d\u201e\u02dd\u3003]", '"'),  # seconds
    ("[\u2032\u2019\u2018\u00b4`\u02b9\u02bc]", "'"),  # minutes
    ("[\u00ba\u02da\u1d52\u2070\u25e6]", "°"),  # degrees
    *(
        (rf"(^|[^A-Z])(?:{words})([^A-Z]|$)", rf"\1{letter}\2")
        for letter, words in _HEMISPHERES.items()
    ),
    # labels and brackets around a pair: "Lat: -7.71, Long: 110.60", "(-7.71, 110.60)"
    (r"(^|[^A-Z])(?:LATITUDE|LAT|LINTANG|LONGITUDE|LONG|LON|LNG|BUJUR) ?[:=]?", r"\1 "),
    (r"[()\[\]{}]", " "),
    (r"\s+", " "),
)
_NUM = r"\d+(?:[.,]\d+)?"
#: The marks as people type them: degrees (also the ordinal sign and a ring), minutes
#: (apostrophes, primes, accents) and seconds (double primes, quotes, two apostrophes).
_DEG = "[\u00b0\u00ba\u02da\u1d52\u2070\u25e6]"
_MIN = "['\u2032\u2019\u2018\u00b4`\u02b9\u02bc]"
_SEC = "(?:''|\u2032\u2032|\u2019\u2019|[\"\u2033\u201c\u201d\u201e\u02dd\u3003])"
_SIGN = "[+\\-\u2212\u2012\u2013\u2014]"
_WORD = r"[A-Za-z]+(?:\s*[A-Za-z]+)?"
#: One coordinate, in one pass: a hemisphere word before or after, a sign, degrees, then
#: optional minutes and seconds, each part separated from the next by its mark or a blank
#: (never run together).
_DMS = (
    rf"^(?P<h1>{_WORD})?\s*(?P<sign>{_SIGN})?\s*(?P<d>{_NUM})"
    rf"(?:(?:\s*{_DEG}\s*|\s+)(?P<m>{_NUM})"
    rf"(?:(?:\s*{_MIN}\s*|\s+)(?P<s>{_NUM})\s*{_SEC}?|\s*{_MIN}?)"
    rf"|\s*(?P<dmark>{_DEG})?)"
    rf"\s*(?P<h2>{_WORD})?$"
)
#: Hemisphere words (upper case, blanks removed) -> N, S, E or W.
_HEMISPHERE_WORDS = {
    word: letter
    for letter, words in {
        "N": ("N", "U", "LU", "UTARA", "NORTH", "LINTANGUTARA"),
        "S": ("S", "LS", "SELATAN", "SOUTH", "LINTANGSELATAN"),
        "E": ("E", "T", "BT", "TIMUR", "EAST", "BUJURTIMUR"),
        "W": ("W", "B", "BB", "BARAT", "WEST", "BUJURBARAT"),
    }.items()
    for word in words
}

# ---- pairs --------------------------------------------------------------------------------
_LINK_NUM = r"[+-]?\d+(?:\.\d+)?"
#: Map links, most precise first (a Google place's !3d!4d before the view's @).
_LINKS = (
    rf"!3d(?P<a>{_LINK_NUM})!4d(?P<b>{_LINK_NUM})",
    rf"(?i)[?&](?:q|query|ll|sll|center|destination|daddr|saddr|coordinates|viewpoint)="
    rf"(?:loc:)? *(?P<a>{_LINK_NUM}) *, *(?P<b>{_LINK_NUM})",
    rf"(?i)[?&]cp=(?P<a>{_LINK_NUM})~(?P<b>{_LINK_NUM})",
    rf"@(?P<a>{_LINK_NUM}), *(?P<b>{_LINK_NUM})",
    rf"(?i)/(?:place|search|dir)/(?P<a>{_LINK_NUM}), *(?P<b>{_LINK_NUM})",
    rf"(?i)[?&]m?lat=(?P<a>{_LINK_NUM})&m?(?:lon|lng)=(?P<b>{_LINK_NUM})",
    rf"(?i)#map=\d+(?:\.\d+)?/(?P<a>{_LINK_NUM})/(?P<b>{_LINK_NUM})",
    rf"(?i)^geo: *(?P<a>{_LINK_NUM}) *, *(?P<b>{_LINK_NUM})",
)
_SHORT_LINK = r"(?i)(goo\.gl/|maps\.app\.|g\.co/|bit\.ly/|s\.id/)"
_ANY_LINK = r"(?i)^(https?://|www\.|geo:|maps\.)"
_SHORT_WHY = (
    "is a short map link, which holds no coordinates (open it and copy the coordinates or "
    "the full link)"
)
#: Ways a cell splits into its two halves (on normalised text), tried in order.
_SPLITS = (
    r"^(?P<a>[NS][^NSEW]*?) ?[,;/|]? ?(?P<b>[EW][^NSEW]*)$",  # S 7 42 36.9 E 110 36 12
    r"^(?P<a>[EW][^NSEW]*?) ?[,;/|]? ?(?P<b>[NS][^NSEW]*)$",
    r"^(?P<a>[^NSEW]*?[NS]) ?[,;/|]? ?(?P<b>[^NSEW]*[EW])$",  # 7°42'S, 110°36'E
    r"^(?P<a>[^NSEW]*?[EW]) ?[,;/|]? ?(?P<b>[^NSEW]*[NS])$",
    r"^(?P<a>[^;|/\t]+?) ?[;|/\t] ?(?P<b>[^;|/\t]+)$",  # -7,71; 110,60
    r"^(?P<a>(?:[^,]|,[^ ])+?) ?, (?P<b>(?:[^,]|,[^ ])+)$",  # -7.71, 110.60; -7,71, 110,60
    r"^(?P<a>[+-]?\d+,\d+),(?P<b>[+-]?\d+,\d+)$",  # -7,710251,110,603422
    r"^(?P<a>[^,]+),(?P<b>[^,]+)$",  # -7.71,110.60
    r"^(?P<a>.+?) (?P<b>[+-]?\d+(?:[.,]\d+)? ?°.*)$",  # -7° 42' 36.9" 110° 36' 12"
    r"^(?P<a>[^ ]+) (?P<b>[^ ]+)$",  # -7.71 110.60
)


@dataclass(frozen=True)
class Parsed:
    """Coordinates read from a table: decimal degrees (WGS84), NaN where unusable.

    ``empty`` marks rows where no coordinate is written at all; ``why`` says, for each
    other unusable row, what is wrong (``""`` where the row is usable).
    """

    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    empty: NDArray[np.bool_]
    why: NDArray[np.object_]

    @property
    def usable(self) -> NDArray[np.bool_]:
        """Rows with a latitude and longitude."""
        return np.isfinite(self.lat) & np.isfinite(self.lon)


def _np(array: pa.Array | pa.ChunkedArray) -> NDArray[Any]:
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _arrow_strings(values: pd.Series | pa.Array) -> pa.Array:
    """The values as one Arrow text array, nulls kept."""
    if isinstance(values, pd.Series):
        try:
            array = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            array = pa.array(values.astype("string"), from_pandas=True)
    else:
        array = values
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        try:
            array = pc.cast(array, pa.large_string())
        except pa.ArrowException:  # lists, records: no coordinate in them
            array = pa.array(
                pd.Series(values).astype(str).to_numpy(dtype=object), type=pa.large_string()
            )
    return array


def _trimmed(array: pa.Array) -> pa.Array:
    """Text trimmed of blanks, nulls as ''."""
    return pc.utf8_trim(array.fill_null(""), characters=" \t\r\n\u00a0\u202f")


def _text(values: pd.Series | pa.Array) -> pa.Array:
    """The values as trimmed Arrow text, nulls as ''."""
    return _trimmed(_arrow_strings(values))


def _strings(n: int, value: str) -> NDArray[np.object_]:
    """An object array of ``n`` times ``value`` (``np.full`` would copy the text ``n``
    times)."""
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def _reasons(
    conditions: list[NDArray[np.bool_]], choices: list[str | tuple[str, NDArray[np.object_]]]
) -> NDArray[np.object_]:
    """What is wrong with each row: the first condition that holds gives its choice (a
    text, or a prefix and per-row texts); ``""`` where none holds. (``np.select`` over
    texts is slow: this selects codes, then fills in the rows of each.)"""
    out = _strings(len(conditions[0]), "")
    code = np.select(conditions, list(range(1, len(conditions) + 1)), 0)
    for i, choice in enumerate(choices, start=1):
        at = np.flatnonzero(code == i)
        if not len(at):
            continue
        if isinstance(choice, str):
            out[at] = choice
        else:
            prefix, texts = choice
            out[at] = prefix + texts[at].astype(object)  # object arrays add elementwise
    return out


def _match(text: pa.Array, pattern: str) -> NDArray[np.bool_]:
    return np.asarray(_np(pc.match_substring_regex(text, pattern)), dtype=bool)


def _take(text: pa.Array, rows: NDArray[np.intp]) -> pa.Array:
    return text if len(rows) == len(text) else text.take(pa.array(rows))


def _cast(text: pa.Array) -> NDArray[np.float64]:
    return np.asarray(_np(pc.cast(pc.utf8_ltrim(text, characters="+"), pa.float64())), float)


def _empty(text: pa.Array) -> NDArray[np.bool_]:
    return np.asarray(_np(pc.is_in(pc.utf8_lower(text), value_set=pa.array(_EMPTY))), bool)


# --------------------------------------------------------------------------------------
# Numbers written in either convention
# --------------------------------------------------------------------------------------


def _numbers(
    text: pa.Array, *, degrees: bool, decimal: str | None
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Plain numbers (no blanks, no letters), each read by its own marks where they show
    the convention; ``(values, read)``.

    A single mark is decimal in degrees (no latitude has thousands); in metres a single
    mark before exactly three digits (``449.123``) is decided by ``decimal``, the column's
    mark. Repeated marks group thousands, except in degrees, where ``110.603.422`` is a
    coordinate whose decimal point a spreadsheet took for a thousands separator: the first
    group is the whole degrees (exact for the 6 decimals of GPS and web maps).
    """
    n = len(text)
    values = np.full(n, np.nan)
    read = np.zeros(n, dtype=bool)
    plain = _match(text, _PLAIN)
    if not degrees and decimal == ",":  # 449.123 groups thousands in this column
        plain &= ~_match(text, r"^[+-]?\d{1,3}\.\d{3}$")
    if plain.any():
        rows = np.flatnonzero(plain)
        values[rows] = _cast(_take(text, rows))
        read[rows] = True
    rest = np.flatnonzero(~plain)
    if len(rest):  # only digits, signs, marks and exponents can be numbers
        rest = rest[_match(_take(text, rest), r"^[0-9+\-.,eE]+$")]
    if not len(rest):
        return values, read
    sub = _take(text, rest)

    def put(mask: NDArray[np.bool_], converted: pa.Array) -> None:
        values[rest[mask]] = _cast(converted)
        read[rest[mask]] = True

    def pick(mask: NDArray[np.bool_]) -> pa.Array:
        return sub.filter(pa.array(mask))

    one = _match(sub, _ONE_MARK)
    if one.any():
        chosen = pick(one)
        mark_is_comma = np.asarray(_np(pc.match_substring(chosen, ",")), dtype=bool)
        thousands = np.zeros(len(chosen), dtype=bool)
        if not degrees and decimal is not None:
            three = np.asarray(_np(pc.match_substring_regex(chosen, r"^[+-]?\d{1,3}[.,]\d{3}$")))
            thousands = three & (mark_is_comma != (decimal == ","))
        as_number = pc.replace_substring_regex(chosen, r"[.,]", ".")
        grouped = pc.replace_substring_regex(chosen, r"[.,]", "")
        put(one, pc.if_else(pa.array(thousands), grouped, as_number))
    exponent = _match(sub, _EXPONENT) & ~one
    if exponent.any():
        put(exponent, pick(exponent))
    for pattern in (_DOT_GROUPS, _COMMA_GROUPS):
        groups = _match(sub, pattern)
        if groups.any():
            if degrees:  # the first group is the whole degrees
                parts = pc.extract_regex(pick(groups), r"^(?P<i>[+-]?\d{1,3})[.,](?P<r>.*)$")
                mark = "." if pattern == _DOT_GROUPS else ","
                digits = pc.replace_substring(parts.field("r"), mark, "")
                whole = parts.field("i")
                put(groups, pc.binary_join_element_wise(whole, digits, pa.scalar(".", whole.type)))
            else:
                put(groups, pc.replace_substring_regex(pick(groups), r"[.,]", ""))
    for pattern, thousands_mark in ((_DOT_GROUPS_COMMA, "."), (_COMMA_GROUPS_DOT, ",")):
        both = _match(sub, pattern)
        if both.any():
            converted = pc.replace_substring(pick(both), thousands_mark, "")
            put(both, pc.replace_substring(converted, ",", "."))
    bad = read & ~np.isfinite(values)
    values[bad] = np.nan
    read &= ~bad
    return values, read


# --------------------------------------------------------------------------------------
# One coordinate per cell
# --------------------------------------------------------------------------------------


def _normalise(text: pa.Array) -> pa.Array:
    """Upper case; one form for each mark, hemisphere and minus; single blanks."""
    text = pc.utf8_upper(text)
    for pattern, replacement in _NORMALISE:
        text = pc.replace_substring_regex(text, pattern, replacement)
    return pc.utf8_trim(text, characters=" ")


def _component(parts: pa.StructArray, name: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """A numeric group of a match (comma or point decimal), and where it has decimals."""
    field = parts.field(name)
    text = pc.replace_substring(field, ",", ".")
    present = np.asarray(_np(pc.not_equal(pc.utf8_length(field), 0)), dtype=bool)
    values = np.zeros(len(field))
    if present.any():
        values[present] = _cast(text.filter(pa.array(present)))
    fraction = np.asarray(_np(pc.match_substring(text, ".")), dtype=bool)
    return values, fraction


def _hemisphere(word: pa.Array) -> tuple[NDArray[np.str_], NDArray[np.bool_]]:
    """Hemisphere words as N/S/E/W ('' where none), and the words that are not one."""
    key = pc.replace_substring_regex(pc.utf8_upper(word), r"\s+", "")
    table = pa.array(list(_HEMISPHERE_WORDS), type=pa.large_string())
    position = np.asarray(_np(pc.index_in(pc.cast(key, pa.large_string()), value_set=table)))
    letters = np.array([*_HEMISPHERE_WORDS.values(), ""])
    unknown = np.asarray(pd.isna(position), dtype=bool)
    where = np.where(unknown, len(letters) - 1, np.nan_to_num(position).astype(np.int64))
    written = np.asarray(_np(pc.not_equal(pc.utf8_length(word), 0)), dtype=bool)
    return letters[where], written & unknown


def _dms(
    text: pa.Array,
) -> tuple[NDArray[np.float64], NDArray[np.int8], NDArray[np.bool_], NDArray[np.object_]]:
    """Degrees-minutes-seconds, degrees-minutes and degrees with hemispheres (one
    regular expression over the column): ``(degrees, axis, notation, why)``, axis 1 for
    N/S, 2 for E/W, 0 for none; ``notation`` marks values written with minutes, marks or
    hemispheres."""
    n = len(text)
    values = np.full(n, np.nan)
    axis = np.zeros(n, dtype=np.int8)
    why = _strings(n, "is not a coordinate")
    notation = np.zeros(n, dtype=bool)
    parts = pc.extract_regex(text, _DMS)
    matched = np.asarray(_np(parts.is_valid()), dtype=bool)
    if not matched.any():
        return values, axis, notation, why
    rows = np.flatnonzero(matched)
    got = parts.filter(pa.array(matched))
    d, d_frac = _component(got, "d")
    m, m_frac = _component(got, "m")
    s, _ = _component(got, "s")
    has_m = np.asarray(_np(pc.not_equal(pc.utf8_length(got.field("m")), 0)), dtype=bool)
    has_s = np.asarray(_np(pc.not_equal(pc.utf8_length(got.field("s")), 0)), dtype=bool)
    h1, h1_unknown = _hemisphere(got.field("h1"))
    h2, h2_unknown = _hemisphere(got.field("h2"))
    both = (h1 != "") & (h2 != "")
    hemi = np.where(h1 != "", h1, h2)
    minus = np.asarray(_np(pc.match_substring_regex(got.field("sign"), r"[^+]")), dtype=bool)
    dmark = np.asarray(_np(pc.not_equal(pc.utf8_length(got.field("dmark")), 0)), dtype=bool)
    problems = [
        (h1_unknown | h2_unknown, "has a word where a hemisphere is expected"),
        (both, "has two hemisphere letters"),
        (has_m & d_frac, "has degrees with decimals and minutes"),
        (has_s & m_frac, "has minutes with decimals and seconds"),
        (has_m & (m >= 60), "has minutes of 60 or more"),
        (has_s & (s >= 60), "has seconds of 60 or more"),
        (minus & np.isin(hemi, ["N", "E"]), "has a minus sign and a hemisphere N or E"),
    ]
    value = d + m / 60.0 + s / 3600.0
    value = np.where(minus | np.isin(hemi, ["S", "W"]), -value, value)
    reason = _reasons([p for p, _ in problems], [r for _, r in problems])
    ok = reason == ""
    values[rows[ok]] = value[ok]
    axis[rows] = np.select([np.isin(hemi, ["N", "S"]), np.isin(hemi, ["E", "W"])], [1, 2], 0)
    notation[rows] = has_m | (hemi != "") | dmark | h1_unknown | h2_unknown
    why[rows] = reason.astype(object)
    return values, axis, notation, why


def read_values(
    values: pd.Series | pa.Array, *, degrees: bool = True, decimal: str | None = None
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.object_], NDArray[np.int8]]:
    """Read one coordinate per cell.

    Parameters
    ----------
    values
        The column (text, or numbers as a typed file holds them).
    degrees
        Whether the values are degrees (False: metres of a projected CRS, read as plain
        numbers only).
    decimal
        The column's decimal mark, used only where a value does not show its own (a
        single mark before three digits in metres); None: the value's mark is decimal.

    Returns
    -------
    tuple
        ``(numbers, empty, why, axis)``: floats (NaN where empty or unreadable), empty
        cells, what is wrong with each other unreadable cell (``""`` where read), and the
        axis a hemisphere letter gives (1 latitude, 2 longitude, 0 none).

    Examples
    --------
    >>> numbers, empty, why, axis = read_values(
    ...     pd.Series(["7°42'36.9\\"S", "-7,710251", "110.603.422", "7 42.615 LS", "", "x"])
    ... )
    >>> numbers.round(6).tolist()[:4], empty.tolist()[4], why.tolist()[5]
    ([-7.71025, -7.710251, 110.603422, -7.71025], True, 'is not a coordinate')
    """
    if isinstance(values, pd.Series) and (
        pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)
    ):
        numbers = np.array(pd.to_numeric(values, errors="coerce"), dtype=float)
        empty = np.asarray(values.isna(), dtype=bool)
        bad = ~empty & ~np.isfinite(numbers)
        numbers[bad] = np.nan
        why = np.where(bad, "is not a finite number", "").astype(object)
        return numbers, empty, why, np.zeros(len(numbers), dtype=np.int8)
    array = _arrow_strings(values)
    if not degrees:
        return _read_text(_trimmed(array), degrees=degrees, decimal=decimal)
    # the common case in one compiled pass; the rest by the general path below
    numbers, mark = kernels.decimals(array)
    rest = np.flatnonzero(mark < 0)
    n = len(numbers)
    empty, why, axis = np.zeros(n, dtype=bool), _strings(n, ""), np.zeros(n, dtype=np.int8)
    if len(rest):
        taken = _trimmed(_take(array, rest))
        numbers[rest], empty[rest], why[rest], axis[rest] = _read_text(
            taken, degrees=degrees, decimal=decimal
        )
    return numbers, empty, why, axis


def _read_text(
    text: pa.Array, *, degrees: bool, decimal: str | None
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.object_], NDArray[np.int8]]:
    """:func:`read_values` of trimmed text, each value by the general path."""
    n = len(text)
    empty = _empty(text)
    numbers, read = _numbers(text, degrees=degrees, decimal=decimal)
    why = _strings(n, "")
    axis = np.zeros(n, dtype=np.int8)
    todo = np.flatnonzero(~read & ~empty)
    if len(todo):
        found, found_axis, notation, found_why = _dms(_take(text, todo))
        if not degrees:  # metres are plain numbers
            found_why = np.where(
                notation & np.isfinite(found), "is in degrees, not metres of --crs", found_why
            ).astype(object)
            found = np.where(notation, np.nan, found)
        numbers[todo] = found
        axis[todo] = found_axis
        why[todo] = np.where(np.isfinite(found), "", found_why)
        two = r"^[+-]?\d+([.,]\d+)?\s*[,;]\s*[+-]?\d"
        pair = _match(_take(text, todo), two) & ~np.isfinite(found)
        why[todo[pair]] = "holds two numbers (a latitude, longitude pair: give it as --coords-col)"
        link = _match(_take(text, todo), _ANY_LINK) & ~np.isfinite(found)
        why[todo[link]] = "is a map link (a column of links is given with --coords-col)"
        short = link & _match(_take(text, todo), _SHORT_LINK)
        why[todo[short]] = _SHORT_WHY
    return numbers, empty, why, axis


# --------------------------------------------------------------------------------------
# Both coordinates in one cell
# --------------------------------------------------------------------------------------


def _extract(text: pa.Array, pattern: str) -> tuple[NDArray[np.bool_], pa.Array, pa.Array]:
    """Where ``pattern`` matches, and its groups ``a`` and ``b`` ('' elsewhere)."""
    parts = pc.extract_regex(text, pattern)
    hit = np.asarray(_np(parts.is_valid()), dtype=bool)
    return hit, parts.field("a").fill_null(""), parts.field("b").fill_null("")


def _read_halves(
    a: pa.Array, b: pa.Array, *, degrees: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.object_]]:
    """Both halves of each pair read: ``(lat, lon, why)`` (x, y in metres), put in order
    where hemisphere letters say longitude first."""
    k = len(a)
    numbers, _, half_why, axis = read_values(pa.concat_arrays([a, b]), degrees=degrees)
    first, second = numbers[:k], numbers[k:]
    a_axis, b_axis = axis[:k], axis[k:]
    flip = (a_axis == 2) | (b_axis == 1)
    first, second = np.where(flip, second, first), np.where(flip, first, second)
    first_bad, second_bad = ~np.isfinite(numbers[:k]), ~np.isfinite(numbers[k:])
    why = _reasons(
        [
            first_bad & second_bad,
            (a_axis != 0) & (a_axis == b_axis),
            first_bad,
            second_bad,
        ],
        [
            "is not a pair of coordinates",
            "has two latitudes or two longitudes",
            ("has a first half that ", half_why[:k]),
            ("has a second half that ", half_why[k:]),
        ],
    )
    first[why != ""] = np.nan
    second[why != ""] = np.nan
    return first, second, why


def read_pairs(
    values: pd.Series | pa.Array, *, degrees: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.object_]]:
    """Read cells that hold both coordinates (``lat, lon`` or a map link).

    A map link is read by its parameters; other text is split into two halves by the
    first of several rules (hemisphere letters, ``;``, ``, ``, one comma, one blank) that
    gives two readable coordinates, each read as :func:`read_values` reads one.

    Parameters
    ----------
    values
        The column.
    degrees
        Whether the values are degrees (False: metres, ``x, y`` of a projected CRS).

    Returns
    -------
    tuple
        ``(first, second, empty, why)``: in degrees latitude and longitude (a pair whose
        hemisphere letters say longitude first is put back in order); in metres the two
        numbers as written. NaN where unreadable, with ``why``.

    Examples
    --------
    >>> lat, lon, empty, why = read_pairs(pd.Series([
    ...     "-7.710251, 110.603422", "https://www.google.com/maps/@-7.71,110.6,17z",
    ...     "110°36'12\\"E 7°42'36.9\\"S", "",
    ... ]))
    >>> lat.round(6).tolist()[:3], lon.round(6).tolist()[:3], empty.tolist()
    ([-7.710251, -7.71, -7.71025], [110.603422, 110.6, 110.603333], [False, False, False, True])
    """
    text = _text(values)
    n = len(text)
    empty = _empty(text)
    first = np.full(n, np.nan)
    second = np.full(n, np.nan)
    why = _strings(n, "")
    rows = np.flatnonzero(~empty)
    if not len(rows):
        return first, second, empty, why
    sub = _take(text, rows)
    k = len(rows)
    done = np.zeros(k, dtype=bool)
    said = _strings(k, "")

    def attempt(source: pa.Array, pattern: str, todo: NDArray[np.bool_]) -> None:
        at = np.flatnonzero(todo & ~done)
        if not len(at):
            return
        hit, a, b = _extract(_take(source, at), pattern)
        if not hit.any():
            return
        got = at[hit]
        chosen = pa.array(hit)
        lat, lon, reason = _read_halves(a.filter(chosen), b.filter(chosen), degrees=degrees)
        ok = reason == ""
        first[rows[got[ok]]] = lat[ok]
        second[rows[got[ok]]] = lon[ok]
        done[got[ok]] = True
        unsaid = got[~ok][said[got[~ok]] == ""]
        said[unsaid] = reason[~ok][said[got[~ok]] == ""]

    # map links: their parameters, with URL-encoded commas and blanks decoded
    decoded = pc.replace_substring_regex(sub, r"(?i)%2C", ",")
    decoded = pc.replace_substring_regex(decoded, r"%20|\+", " ")
    link = _match(sub, _ANY_LINK) | _match(sub, r"(?i)(google\.|openstreetmap|osm\.org|bing\.)")
    for pattern in _LINKS:
        attempt(decoded, pattern, np.ones(k, dtype=bool))
    short = ~done & _match(sub, _SHORT_LINK)
    said[short] = _SHORT_WHY
    said[~done & link & ~short] = "is a link without coordinates in it"
    plain = ~done & ~link
    if plain.any():
        normal = _normalise(sub)
        for pattern in _SPLITS:
            attempt(normal, pattern, plain)
    said[~done & (said == "")] = "is not a pair of coordinates"
    said[done] = ""
    why[rows] = said
    return first, second, empty, why


# --------------------------------------------------------------------------------------
# Projected coordinates
# --------------------------------------------------------------------------------------


def check_crs(crs: str | None, *, name: str = "records.crs") -> str | None:
    """The problem with a CRS given by a user, or None when pyproj knows it.

    Parameters
    ----------
    crs
        E.g. ``"EPSG:32749"``; None or ``""`` for none.
    name
        The option's name, as the message gives it.
    """
    if not crs:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(crs)
    except CRSError:
        return (
            f"{name}={crs!r} is not a coordinate reference system pyproj knows; give an "
            "EPSG code such as EPSG:32749 (WGS 84 / UTM zone 49S) or EPSG:23835 (DGN95 / "
            "Indonesia TM-3 zone 49.1)"
        )
    return None


def _crs(crs: str) -> Any:
    from pyproj import CRS

    problem = check_crs(crs)
    if problem:
        raise ConfigError(problem)
    return CRS.from_user_input(crs)


def to_wgs84(
    x: NDArray[np.float64], y: NDArray[np.float64], *, crs: str, xy: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Transform coordinates of ``crs`` to WGS84 latitude and longitude (one vectorised
    pyproj call); NaN where they cannot be transformed.

    Parameters
    ----------
    x, y
        Easting and northing (or longitude and latitude of a geographic ``crs``); with
        ``xy=False`` the two values in the CRS's own axis order (a pair as written).
    crs
        Anything :class:`pyproj.CRS` reads, e.g. ``"EPSG:32749"``.
    xy
        Whether ``x, y`` are in x/y (easting/northing) order.

    Returns
    -------
    tuple
        ``(lat, lon)`` in degrees.

    Examples
    --------
    >>> lat, lon = to_wgs84(np.array([500000.0]), np.array([10000000.0]), crs="EPSG:32749")
    >>> round(float(lat[0]), 9), round(float(lon[0]), 9)
    (0.0, 111.0)
    """
    from pyproj import Transformer

    source = _crs(crs)
    transformer = Transformer.from_crs(source, "EPSG:4326", always_xy=True)
    if not xy:  # the pair in the CRS's axis order: make it x, y
        first = source.axis_info[0].direction.lower() if source.axis_info else "east"
        if first in ("north", "south"):
            x, y = y, x
    ok = np.isfinite(x) & np.isfinite(y)
    lon = np.full(len(x), np.nan)
    lat = np.full(len(x), np.nan)
    if ok.any():
        out_lon, out_lat = transformer.transform(x[ok], y[ok], errcheck=False)
        lon[ok], lat[ok] = out_lon, out_lat
    bad = ~(np.isfinite(lat) & np.isfinite(lon))
    lat[bad] = lon[bad] = np.nan
    return lat, lon


def looks_projected(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> tuple[int, int]:
    """Evidence that coordinates are metres, not degrees: ``(rows with numbers, rows
    beyond ±180)``; add it up over the batches of a file.

    Parameters
    ----------
    lat, lon
        The coordinates read as degrees (:func:`read_values`).
    """
    number = np.isfinite(lat) | np.isfinite(lon)
    beyond = (np.abs(np.nan_to_num(lat)) > 180) | (np.abs(np.nan_to_num(lon)) > 180)
    return int(number.sum()), int((number & beyond).sum())


def check_degrees(
    evidence: tuple[int, int], *, columns: str, examples: Any = (), crs: str | None = None
) -> None:
    """Stop (:class:`ValidationError`) when most coordinates are beyond ±180 and no
    ``crs`` says what they are: they are projected (metres), not degrees.

    Parameters
    ----------
    evidence
        :func:`looks_projected`, summed over the file.
    columns
        The coordinate columns, as the message names them.
    examples
        A few of the values.
    crs
        ``records.crs``; when given nothing is checked.
    """
    numbers, beyond = evidence
    if crs or not numbers or beyond * 2 <= numbers:
        return
    raise ValidationError(
        f"{columns} hold values such as {'; '.join(examples)} beyond ±180 in "
        f"{beyond:,} of {numbers:,} rows: they look like projected coordinates in metres, "
        "not degrees; give their coordinate reference system with --crs (records.crs), "
        "e.g. --crs EPSG:32749 (WGS 84 / UTM zone 49S: 108°-114°E south of the equator, "
        "Jawa Tengah) or --crs EPSG:23835 (DGN95 / Indonesia TM-3 zone 49.1: 108°-111°E; "
        "zone 48.2 is EPSG:23834). If they are degrees whose decimal point was dropped "
        "(-7710251 for -7.710251, as a spreadsheet of a decimal-comma locale reads a "
        "pasted -7.710251), export the columns again as text"
    )


# --------------------------------------------------------------------------------------
# A table's coordinates
# --------------------------------------------------------------------------------------


def parse(
    frame: pd.DataFrame,
    *,
    lat: str | None = None,
    lon: str | None = None,
    pair: str | None = None,
    crs: str | None = None,
    decimals: Mapping[str, str] | None = None,
) -> Parsed:
    """Read a table's coordinates: separate latitude/longitude columns and/or one
    coordinates column (used where the separate ones are empty).

    Parameters
    ----------
    frame
        The records, as read.
    lat, lon
        Latitude and longitude columns (northing and easting with a projected ``crs``).
    pair
        A column holding both (``lat, lon`` or a map link; ``x, y`` in metres).
    crs
        The CRS the values are written in (None: WGS84 degrees).
    decimals
        Each column's decimal mark, used only where a value does not show its own.

    Returns
    -------
    Parsed
        Latitude and longitude in WGS84 degrees, NaN where unusable, with the reasons.

    Examples
    --------
    >>> frame = pd.DataFrame({"lintang": ["7°42'36.9\\"S", ""], "koordinat": ["", "-7.7, 110.6"],
    ...                       "bujur": ["110°36'12\\"BT", ""]})
    >>> got = parse(frame, lat="lintang", lon="bujur", pair="koordinat")
    >>> got.lat.round(5).tolist(), got.lon.round(5).tolist()
    ([-7.71025, -7.7], [110.60333, 110.6])
    """
    n = len(frame)
    decimals = decimals or {}
    projected = bool(crs) and _crs(str(crs)).is_projected
    degrees = not projected
    out_lat = np.full(n, np.nan)
    out_lon = np.full(n, np.nan)
    empty = np.ones(n, dtype=bool)
    why = _strings(n, "")
    if lat is not None and lon is not None:
        y, y_empty, y_why, _ = read_values(frame[lat], degrees=degrees, decimal=decimals.get(lat))
        x, x_empty, x_why, _ = read_values(frame[lon], degrees=degrees, decimal=decimals.get(lon))
        out_lat, out_lon = y, x
        empty = y_empty & x_empty
        why = _reasons(
            [y_empty & ~x_empty, ~y_empty & x_empty, y_why != "", x_why != ""],
            [f"{lat} is empty", f"{lon} is empty", (f"{lat} ", y_why), (f"{lon} ", x_why)],
        )
        both = np.flatnonzero((y_why != "") & (x_why != ""))
        if len(both):  # say both
            why[both] = f"{lat} " + y_why[both] + f"; {lon} " + x_why[both]
        why[empty] = ""
        if crs:
            out_lat, out_lon = to_wgs84(x, y, crs=str(crs))
    if pair is not None:
        todo = np.flatnonzero(empty)  # rows without separate coordinates
        if len(todo):
            a, b, p_empty, p_why = read_pairs(frame[pair].iloc[todo], degrees=degrees)
            if crs:
                a, b = (
                    to_wgs84(a, b, crs=str(crs), xy=not degrees)
                    if projected
                    else (to_wgs84(b, a, crs=str(crs)))
                )
            out_lat[todo], out_lon[todo] = a, b
            empty[todo] = p_empty
            why[todo] = np.where(p_why != "", f"{pair} " + p_why.astype(str), "").astype(object)
    failed = (why == "") & ~empty & ~(np.isfinite(out_lat) & np.isfinite(out_lon))
    why[failed] = f"cannot be transformed from {crs}" if crs else "is not a coordinate"
    unusable = ~(np.isfinite(out_lat) & np.isfinite(out_lon))
    out_lat[unusable] = out_lon[unusable] = np.nan
    return Parsed(out_lat, out_lon, empty & unusable, why)
