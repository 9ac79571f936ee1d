"""Sentences the data files carry, in the run's language: why a near miss of the sentra
rules is no sentra (``candidates.csv`` ``reason``) and why a record was rejected or
repaired (``rejected.csv`` ``reason_text`` and ``detail``, ``repaired.csv`` ``detail``).
The analysis gives codes and numbers (:func:`klastergeo.analysis.sentra.near_misses`:
``failed`` and the values tested); the words come from the catalogue (``near_miss``,
``reasons``). The registry's reader (:mod:`klastergeo.io`, below this layer) writes a
rejection's detail in English phrases around the values it quotes; :func:`detail_texts`
puts each phrase it knows (the catalogue's ``details``) into the run's language, the
quoted values as they are."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pandas as pd

from klastergeo.publish import messages

__all__ = ["CODE_TEXTS", "code_texts", "detail_texts", "near_miss_reasons", "reason_texts"]


def near_miss_reasons(
    candidates: pd.DataFrame,
    lang: str,
    *,
    n_areas: int,
    confidence: int,
    lq_threshold: float,
    min_firms: int,
) -> list[str]:
    """The failed rules of each near miss in words, with their values: ``"LQ 2,54, 12
    usaha: spesialisasi tidak signifikan pada 95 % (...)"``.

    Parameters
    ----------
    candidates
        The near misses (``failed``: the failed rules, ``;``-joined; ``lq``, ``lq_low``,
        ``lq_p``, ``spec_p``, ``spec_bin``, ``group_areas``, ``group_firms``,
        ``n_firms``); a value blanked by disclosure control is left out of the sentence.
    lang
        ``"id"`` or ``"en"``.
    n_areas
        The areas tested (the multiple-testing family).
    confidence, lq_threshold, min_firms
        The sentra rules.

    Examples
    --------
    >>> row = pd.DataFrame({"failed": ["lq"], "lq": [1.234], "n_firms": [21]})
    >>> near_miss_reasons(row, "id", n_areas=9, confidence=95, lq_threshold=1.5, min_firms=20)
    ['LQ 1,23, 21 usaha: LQ 1,23 < 1,5']
    """
    t = messages.text("near_miss", lang)

    def num(value: Any, digits: int = 2) -> str:
        return messages.number(value, lang, digits) or "-"  # blank: suppressed

    def sig(value: Any, digits: int = 3) -> str:
        return messages.significant(value, lang, digits) or "-"

    values = candidates.to_dict("list")
    reasons = []
    for i, failed in enumerate(candidates["failed"].astype(str)):  # tens of rows
        rules = failed.split(";")
        lq = values["lq"][i]
        parts = []
        if "lq" in rules:
            parts.append(t["lq"].format(lq=num(lq), threshold=sig(lq_threshold, 6)))
        if "lq_interval" in rules:
            parts.append(t["lq_interval"].format(low=num(values["lq_low"][i])))
        if "lq test" in rules:
            p = sig(values["lq_p"][i])
            parts.append(t["lq_test"].format(confidence=confidence, p=p, areas=n_areas))
        if "specialisation" in rules:
            spec_bin = values["spec_bin"][i]
            parts.append(
                t["specialisation"].format(
                    confidence=confidence,
                    p=sig(values["spec_p"][i]),
                    bin="-" if pd.isna(spec_bin) else int(spec_bin),
                    areas=n_areas,
                )
            )
        if "group_firms" in rules:
            parts.append(
                t["group_firms"].format(
                    group=int(values["group_areas"][i]),
                    firms=sig(values["group_firms"][i], 6),
                    min_firms=min_firms,
                )
            )
        head = t["head"].format(lq=num(lq), firms=sig(values["n_firms"][i], 6))
        reasons.append(f"{head}: {'; '.join(parts)}")
    return reasons


#: CSV files whose columns carry codes: file stem -> column -> the catalogue group
#: naming each code; the file gets a ``<column>_text`` beside it (the code stays).
CODE_TEXTS: dict[str, dict[str, str]] = {
    "missing_links": {"role": "roles", "reason": "missing_links"},
    "related": {"role": "roles"},
    "clark_evans": {"pattern": "patterns"},
    "diagnosis": {"stage": "stage"},
}


def code_texts(frame: pd.DataFrame, stem: str, lang: str) -> pd.DataFrame:
    """``frame`` (the table of ``<stem>.csv``) with a ``<column>_text`` right after each
    of its code columns (:data:`CODE_TEXTS`): the codes in words of ``lang``, one
    look-up per distinct code; a frame without them as it is.

    Parameters
    ----------
    frame
        The table as written (``missing_links.csv``, ``related.csv``...).
    stem
        The file's name without ``.csv``.
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> t = pd.DataFrame({"sector": ["31"], "pattern": ["clustered"]})
    >>> code_texts(t, "clark_evans", "id").columns.tolist()
    ['sector', 'pattern', 'pattern_text']
    >>> code_texts(t, "clark_evans", "id")["pattern_text"].tolist()
    ['mengelompok']
    """
    out = frame
    for column, group in CODE_TEXTS.get(stem, {}).items():
        if column not in out.columns or f"{column}_text" in out.columns:
            continue
        codes = out[column]
        words = {v: messages.label(group, v, lang) for v in codes.dropna().unique()}
        out = out.copy() if out is frame else out
        at = list(out.columns).index(column) + 1  # right after the code
        out.insert(at, f"{column}_text", codes.map(words).astype(object))
    return out


def reason_texts(reasons: pd.Series, lang: str) -> pd.Series:
    """Each rejection or repair code in words (``missing_coordinates`` -> ``koordinat
    kosong``; one look-up per distinct code).

    Parameters
    ----------
    reasons
        The codes (``rejected.csv`` ``reason``).
    lang
        ``"id"`` or ``"en"``.
    """
    words = {v: messages.label("reasons", v, lang) for v in reasons.dropna().unique()}
    return reasons.map(words).astype(object)


@cache
def _phrases(lang: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """The catalogue's detail phrases in ``lang`` and one pattern finding any of them
    (the longest first, so a phrase inside a longer one is not taken alone)."""
    table = dict(messages.text("details", lang))
    ordered = sorted(table, key=len, reverse=True)
    return re.compile("|".join(re.escape(p) for p in ordered)), table


def detail_texts(details: pd.Series, lang: str) -> pd.Series:
    """The details of rejected or repaired records with the phrases the catalogue knows
    in ``lang`` (``lat 'x': lat is not a coordinate`` -> ``lat 'x': lat bukan
    koordinat``); the values they quote, and a phrase it does not know, as they are
    (one pass per distinct detail).

    Parameters
    ----------
    details
        The details (``rejected.csv`` ``detail``).
    lang
        ``"id"`` or ``"en"`` (English: as they are).

    Examples
    --------
    >>> detail_texts(pd.Series(["id 'A7' is already used by row 3"]), "id").tolist()
    ["id 'A7' sudah dipakai baris 3"]
    """
    if messages.check_lang(lang) == "en" or not len(details):
        return details
    pattern, table = _phrases(lang)
    words = {
        v: _grouped(pattern.sub(lambda m: table[m.group()], v), lang)
        for v in details.dropna().unique()
        if isinstance(v, str)
    }
    return details.astype(object).map(lambda v: words.get(v, v))


#: A quoted value (as ``repr`` quotes it) or a number with English thousands commas.
_QUOTED_OR_GROUPED = re.compile(r"""'[^']*'|"[^"]*"|\b\d{1,3}(?:,\d{3})+(?![.,]?\d)""")


def _grouped(text: str, lang: str) -> str:
    """The numbers a detail states with English thousands commas (``1,000,000``) in
    ``lang``'s marks (``1.000.000``); quoted values, as read from the file, as they are."""

    def mark(m: re.Match[str]) -> str:
        found = m.group()
        if found[0] in "'\"":
            return found
        return messages.number(int(found.replace(",", "")), lang)

    return _QUOTED_OR_GROUPED.sub(mark, text)
