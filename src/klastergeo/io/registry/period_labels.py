"""Survey periods as time: labels read as years, quarters, months or dates in one format
per run, sorted in time and named in one canonical, sortable, file-safe way.

People write a survey's period as they write dates: ``2019``, ``2019.0`` (a spreadsheet's
number), ``15/06/2019``, ``Sep 2019``, ``Maret 2023``, ``２０１９`` (full-width digits).
:func:`read_periods` reads the distinct labels of a run:

1. every label is normalised: Unicode NFKC (full-width digits and spaces become ASCII),
   any other Unicode decimal digit (Arabic-Indic, Devanagari, ...) its ASCII digit,
   invisible format characters (zero-width space, byte-order mark, soft hyphen) dropped,
   whitespace runs one space, no space around ``-``, ``/``, ``.`` or ``,``, and a
   midnight time after a date (``2019-03-01 00:00:00``, as spreadsheets export dates)
   dropped;
2. missing-value tokens are missing, not periods (:data:`MISSING`: empty, NA, N/A,
   #N/A, nan, NaT, null, none, nil, ``-``, ``--``, ``?`` ..., in any case): their
   records are kept out of every period, with a reason;
3. every other label is read in ONE format: the one declared (``[records]
   period_format``), or, with ``auto``, the first of :data:`AUTO_FORMATS` that reads
   every label. A label that format cannot read is an error naming it.

Formats are strptime-like patterns: ``%Y`` (a year, 1900-2099), ``%y`` (two digits:
69-99 are 1969-1999 and 00-68 are 2000-2068, as POSIX strptime reads them), ``%m``
(month, 1-12), ``%b`` or ``%B`` (a month's name or abbreviation, English or Indonesian,
any case, e.g. Mar, March, Maret, Agt, Des), ``%d`` (day of the month), ``%q`` (quarter,
1-4) and ``%%`` (a percent sign); any other character stands for itself (a space also
matches no space). ``year`` is ``%Y``. In ``%Y`` alone, a number with an integral value
is the year it equals: ``2019.0`` and ``2.019e3`` (a spreadsheet's year) are 2019, while
``2019.5`` is no year and is an error.

Day before month: with ``auto``, ``01/03/2023`` is 1 March 2023, as Indonesia writes
dates; the labels are read month first (``%m/%d/%Y``) only when some day is over 12
(``03/15/2023``) and then all of them are.

A period is named by the finest unit of its format, ISO 8601 style: ``2019`` (year),
``2019-Q1`` (quarter), ``2019-03`` (month), ``2019-03-01`` (date). The names sort in time
as text, hold only digits, ``-`` and ``Q``, and name the folders ``periods/<period>/``
and the columns of ``dynamics.csv`` (``n_firms_2019-03``). Labels naming the same period
(``2019``, ``2019.0``, ``２０１９``) are one period.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from klastergeo.errors import ConfigError, DataError, KlastergeoError

__all__ = [
    "ACCEPTED",
    "AUTO_FORMATS",
    "MISSING",
    "PeriodLabels",
    "check_format",
    "is_missing",
    "normalise",
    "read_periods",
]

#: Labels that are a missing value, not a period (compared in lower case, after
#: normalisation); labels made only of dashes, dots, question marks or underscores are
#: missing too.
MISSING = frozenset(
    {
        "",
        "na",
        "n/a",
        "n.a",
        "n.a.",
        "#n/a",
        "<na>",
        "nan",
        "nat",
        "null",
        "none",
        "nil",
        "missing",
        "unknown",
        "tidak ada",
        "tidak diketahui",
        "tidak tahu",
    }
)
_BLANK = re.compile(r"[-\u2010-\u2015\u2212.?_]*")

#: The formats ``auto`` tries, in this order; the first that reads every label is the
#: run's. Day-first dates come before month-first ones (see the module's text).
AUTO_FORMATS = (
    "%Y",
    "%Y-Q%q",
    "%Y Q%q",
    "Q%q %Y",
    "Q%q-%Y",
    "%Y-%m",
    "%Y/%m",
    "%m/%Y",
    "%m-%Y",
    "%b %Y",
    "%b-%Y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%m/%d/%Y",
    "%m-%d-%Y",
    "%d %b %Y",
    "%d-%b-%Y",
    "%b %d, %Y",
)

#: What a period label may be, for messages.
ACCEPTED = (
    "a year from 1900 to 2099 (2019; 2019.0 as a spreadsheet writes it), a quarter "
    "(2019-Q1), a month (2019-03, 03/2019, Mar 2019, Maret 2019) or a date (2019-03-01, "
    "01/03/2019, 1 Maret 2019), in one format for every label; declare another layout with "
    "records.period_format (--period-format), e.g. '%b-%y' for Mar-19; missing values "
    "(empty, NA, N/A, nan, null, none, -) are left out with their records"
)

#: Month names and abbreviations, English and Indonesian (old spellings included).
MONTHS = {
    **dict.fromkeys(("jan", "january", "januari"), 1),
    **dict.fromkeys(("feb", "february", "februari", "peb", "pebruari"), 2),
    **dict.fromkeys(("mar", "march", "maret"), 3),
    **dict.fromkeys(("apr", "april"), 4),
    **dict.fromkeys(("may", "mei"), 5),
    **dict.fromkeys(("jun", "june", "juni"), 6),
    **dict.fromkeys(("jul", "july", "juli"), 7),
    **dict.fromkeys(("aug", "august", "agu", "agt", "ags", "agus", "agustus"), 8),
    **dict.fromkeys(("sep", "sept", "september"), 9),
    **dict.fromkeys(("oct", "october", "okt", "oktober"), 10),
    **dict.fromkeys(("nov", "november", "nop", "nopember"), 11),
    **dict.fromkeys(("dec", "december", "des", "desember"), 12),
}

_DIRECTIVES = {
    "Y": r"(?P<Y>\d{4})",
    "y": r"(?P<y>\d{2})",
    "m": r"(?P<m>\d{1,2})",
    "d": r"(?P<d>\d{1,2})",
    "b": r"(?P<b>[^\W\d_]+)\.?",
    "q": r"(?P<q>\d)",
}
_FIRST_YEAR, _LAST_YEAR = 1900, 2099
_NUMBER = re.compile(r"\+?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_MIDNIGHT = re.compile(r"(?<=\d)(?:[ T]|, )00[:.]00(?:[:.]00(?:\.0+)?)?$")
_SPACED = re.compile(r" ?([-/.,]) ?")
_WORDS = {"year": "a year", "quarter": "a quarter", "month": "a month", "day": "a date"}


@dataclass(frozen=True)
class _Format:
    """A period format compiled: its pattern, regular expression and unit."""

    pattern: str
    regex: re.Pattern[str]
    unit: str
    fields: frozenset[str]


@dataclass(frozen=True)
class PeriodLabels:
    """The periods of a run's labels.

    Attributes
    ----------
    format
        The pattern every label was read in (``"%Y"``, ``"%d/%m/%Y"``); ``""`` when
        every label is missing.
    unit
        ``"year"``, ``"quarter"``, ``"month"`` or ``"day"``: the unit of the periods.
    periods
        The canonical period names, in time order.
    of
        Every label given -> its period (None for a missing value).
    """

    format: str
    unit: str
    periods: tuple[str, ...]
    of: Mapping[str, str | None]

    def spellings(self, limit: int = 5) -> dict[str, list[str]]:
        """Each period's labels as written, for the run's summary.

        Parameters
        ----------
        limit
            The most labels listed per period.
        """
        out: dict[str, list[str]] = {p: [] for p in self.periods}
        for label, period in self.of.items():
            if period is not None and len(out[period]) < limit:
                out[period].append(label)
        return out


def normalise(label: str) -> str:
    """A label as its format is matched: NFKC, ASCII digits, no invisible characters,
    single spaces, none around ``-/.,``, no midnight time (see the module's text).

    Parameters
    ----------
    label
        A period label as written.

    Examples
    --------
    >>> normalise("\\u200b２０１９ ")
    '2019'
    >>> normalise("01 / 03 / 2023 00:00:00")
    '01/03/2023'
    """
    text = unicodedata.normalize("NFKC", label)
    if not text.isascii():
        text = "".join(_ascii(c) for c in text)
    text = " ".join(text.split())
    text = _SPACED.sub(r"\1", text)
    return _MIDNIGHT.sub("", text)


def _ascii(char: str) -> str:
    """A decimal digit of any script as its ASCII digit; invisible format characters
    (category Cf) as nothing; anything else as it is."""
    digit = unicodedata.decimal(char, None)
    if digit is not None:
        return str(digit)
    return "" if unicodedata.category(char) == "Cf" else char


def is_missing(normalised: str) -> bool:
    """Whether a normalised label is a missing-value token (:data:`MISSING`).

    Parameters
    ----------
    normalised
        A label as :func:`normalise` returns it.
    """
    return normalised.casefold() in MISSING or bool(_BLANK.fullmatch(normalised))


def check_format(pattern: str) -> str | None:
    """Why ``pattern`` is not a period format (``auto``, ``year`` or a pattern), or None.

    Parameters
    ----------
    pattern
        The ``[records] period_format`` given.

    Examples
    --------
    >>> check_format("%d/%m/%Y") is None
    True
    >>> check_format("%d/%Y")
    'a day (%d) needs a month (%m or %b)'
    """
    if pattern in ("auto", "year"):
        return None
    try:
        _compile(pattern)
    except ValueError as err:
        return str(err)
    return None


def _compile(pattern: str) -> _Format:
    """A pattern as a regular expression (raises ValueError naming the problem)."""
    if pattern == "year":
        pattern = "%Y"
    parts: list[str] = []
    seen: list[str] = []
    literal = ""
    k = 0
    while k < len(pattern):
        char = pattern[k]
        if char != "%":
            literal += char
            k += 1
            continue
        code = pattern[k + 1 : k + 2]
        k += 2
        if code == "%":
            literal += "%"
            continue
        key = "b" if code == "B" else code
        if key not in _DIRECTIVES:
            shown = f"%{code}" if code else "a lone %"
            raise ValueError(
                f"{shown} is not a period directive; use %Y or %y (year), %m "
                "or %b (month, number or name), %d (day), %q (quarter), %% (a percent sign)"
            )
        if key in seen:
            raise ValueError(f"%{code} appears twice")
        parts.append(_literal(literal))
        literal = ""
        parts.append(_DIRECTIVES[key])
        seen.append(key)
    parts.append(_literal(literal))
    fields = frozenset(seen)
    if len(fields & {"Y", "y"}) != 1:
        raise ValueError("a period format needs one year (%Y or %y)")
    if len(fields & {"m", "b"}) > 1:
        raise ValueError("the month is given twice (%m and %b)")
    if "d" in fields and not fields & {"m", "b"}:
        raise ValueError("a day (%d) needs a month (%m or %b)")
    if "q" in fields and fields & {"m", "b", "d"}:
        raise ValueError("a quarter (%q) cannot go with a month or a day")
    unit = (
        "day" if "d" in fields else "month" if fields & {"m", "b"} else "quarter"
        if "q" in fields else "year"
    )  # fmt: skip
    regex = re.compile("".join(parts), re.IGNORECASE)
    return _Format(pattern, regex, unit, fields)


def _literal(text: str) -> str:
    """Literal characters of a pattern, normalised as labels are; a space also matches
    no space (``Sep2019`` is ``%b %Y``)."""
    core = normalise(text)
    if not core:
        tidy = text[:1]  # a space (or nothing)
    else:  # spaces that part the literal from a directive stay (``%Y Q%q``)
        lead = " " if text[0].isspace() and core[0] not in "-/.," else ""
        trail = " " if text[-1].isspace() and core[-1] not in "-/.," else ""
        tidy = lead + core + trail
    return "".join(" ?" if c == " " else re.escape(c) for c in tidy)


def _read(labels: pd.Series, fmt: _Format) -> pd.Series:
    """Each normalised label's period in ``fmt`` (NA where it cannot be read);
    vectorised over the labels."""
    text = labels
    if fmt.pattern == "%Y":  # a spreadsheet's number: 2019.0, 2.019e3
        text = labels.map(_integral)
    parts = text.str.extract(f"^(?:{fmt.regex.pattern})$", flags=re.IGNORECASE)
    if "Y" in fmt.fields:
        year = pd.to_numeric(parts["Y"], errors="coerce")
    else:
        short = pd.to_numeric(parts["y"], errors="coerce")
        year = short + np.where(short >= 69, 1900, 2000)
    ok = year.between(_FIRST_YEAR, _LAST_YEAR)
    month = pd.Series(1.0, index=labels.index)
    if "m" in fmt.fields:
        month = pd.to_numeric(parts["m"], errors="coerce")
    elif "b" in fmt.fields:
        month = parts["b"].str.casefold().map(MONTHS).astype(float)
    day = pd.to_numeric(parts["d"], errors="coerce") if "d" in fmt.fields else month * 0 + 1
    ok &= month.between(1, 12) & day.between(1, 31)
    if "q" in fmt.fields:
        quarter = pd.to_numeric(parts["q"], errors="coerce")
        ok &= quarter.between(1, 4)
    dates = pd.to_datetime(
        pd.DataFrame({"year": year.where(ok, 2000), "month": month.where(ok, 1),
                      "day": day.where(ok, 1)}),
        errors="coerce",
    )  # fmt: skip
    ok &= dates.notna()  # 31/04 is no date
    if fmt.unit == "day":
        names = dates.dt.strftime("%Y-%m-%d")
    elif fmt.unit == "month":
        names = dates.dt.strftime("%Y-%m")
    elif fmt.unit == "quarter":
        names = dates.dt.strftime("%Y") + "-Q" + quarter.fillna(0).astype(int).astype(str)
    else:
        names = dates.dt.strftime("%Y")
    return names.astype("string").mask(~ok)


def _integral(label: str) -> str:
    """A number with an integral value as its digits (``2.019e3`` -> ``2019``); anything
    else as it is."""
    if not _NUMBER.fullmatch(label):
        return label
    value = float(label)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    return label


def read_periods(
    labels: Iterable[str],
    *,
    period_format: str = "auto",
    where: str,
    counts: Mapping[str, int] | None = None,
    rows: Mapping[str, int] | None = None,
    error: type[KlastergeoError] = DataError,
) -> PeriodLabels:
    """The periods of ``labels``, read in one format and sorted in time (see the
    module's text).

    Parameters
    ----------
    labels
        The distinct labels as written (text; the caller reads the rest as text too).
    period_format
        ``"auto"``, ``"year"`` or a pattern (:func:`check_format`).
    where
        What holds the labels, for messages (e.g. ``"column 'tahun' of 'ukm.csv'"``).
    counts, rows
        Each label's number of records and its first record's number, for messages.
    error
        The exception raised for a label that cannot be read (:class:`DataError` for a
        registry's column, :class:`ConfigError` for labels given as options).

    Returns
    -------
    PeriodLabels
        The format, the unit, the periods in time order and each label's period.

    Raises
    ------
    DataError
        (or ``error``) naming every label the format cannot read, ``where`` and the
        accepted formats.

    Examples
    --------
    >>> got = read_periods(["15/06/2019", "01/03/2023", "NA", "01/03/2021"], where="x")
    >>> got.format, got.periods
    ('%d/%m/%Y', ('2019-06-15', '2021-03-01', '2023-03-01'))
    >>> read_periods(["2019", "２０１９", "2.019e3", "2023"], where="x").of["２０１９"]
    '2019'
    """
    if period_format != "auto" and (problem := check_format(period_format)) is not None:
        raise ConfigError(f"records.period_format={period_format!r} is not accepted: {problem}")
    given = list(dict.fromkeys(labels))
    tidy = pd.Series([normalise(str(label)) for label in given], index=given, dtype=object)
    missing = tidy.map(is_missing).astype(bool)
    present = tidy.loc[~missing].astype("string")
    unique = pd.Series(present.unique(), dtype="string")
    candidates = AUTO_FORMATS if period_format == "auto" else (period_format,)
    best: tuple[_Format, pd.Series] | None = None
    for pattern in candidates:  # formats (a few dozen); labels vectorised
        fmt = _compile(pattern)
        read = pd.Series(_read(unique, fmt).to_numpy(), index=unique.to_numpy())
        if read.notna().all():
            of: dict[str, str | None] = dict.fromkeys(tidy.index[missing])
            of |= dict(zip(present.index, read.reindex(present.to_numpy()), strict=True))
            periods = tuple(sorted(set(read)))
            return PeriodLabels(fmt.pattern if len(unique) else "", fmt.unit, periods, of)
        if best is None or read.notna().sum() > best[1].notna().sum():
            best = (fmt, read)
    assert best is not None
    raise error(_unread(best, present, where, period_format, counts or {}, rows or {}))


def _unread(
    best: tuple[_Format, pd.Series],
    present: pd.Series,
    where: str,
    period_format: str,
    counts: Mapping[str, int],
    rows: Mapping[str, int],
) -> str:
    """The message for labels that cannot be read: which, how many records, where."""
    fmt, read = best
    failed = set(read.index[read.isna()])
    bad = [str(label) for label, tidy in present.items() if tidy in failed]
    good = [str(label) for label, tidy in present.items() if tidy not in failed]

    def shown(label: str) -> str:
        n, row = counts.get(label), rows.get(label)
        more = [f"{n:,} record{'s' if n != 1 else ''}"] if n is not None else []
        more += [f"first at row {row}"] if row is not None else []
        return _quoted(label) + (f" ({', '.join(more)})" if more else "")

    listed = ", ".join(shown(label) for label in bad[:5])
    if len(bad) > 5:
        listed += f", ... ({len(bad)} labels in all)"
    if period_format != "auto":
        return (
            f"{where}: period label(s) {listed} cannot be read as {fmt.pattern!r} "
            f"(records.period_format={period_format!r}); accepted: {ACCEPTED}"
        )
    if good:
        return (
            f"{where}: no one period format reads every label: "
            f"{', '.join(_quoted(g) for g in good[:3])}{' ...' if len(good) > 3 else ''} read "
            f"as {_WORDS[fmt.unit]} in the format {fmt.pattern!r}, but {listed} cannot; write "
            f"every period the same way or declare the format; accepted: {ACCEPTED}"
        )
    return f"{where}: {listed} cannot be read as a period; accepted: {ACCEPTED}"


def _quoted(label: str, limit: int = 60) -> str:
    """A label quoted for a message, its first ``limit`` characters when longer (a cell
    of free text is no period, and a message names it, not all of it)."""
    return repr(label if len(label) <= limit else label[: limit - 3] + "...")
