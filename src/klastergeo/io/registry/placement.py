"""Placing records by the area they name: a Kemendagri code, or the names of their
village (desa/kelurahan), district (kecamatan) and regency (kabupaten/kota).

Most registries agencies hold place a firm by its village, not by coordinates. This
module matches those codes and names to the areas of analysis of a run:

* codes are read with or without dots (``33.10.11.2015``, ``3310112015``, a number cell
  ``3310112015.0``), parts that lost a zero are padded (``33.10.1.2015``); a village
  code places a firm in its district or regency when the unit of analysis is coarser;
* names are compared without case, accents, punctuation, spacing or the kind words
  (``Ds.``, ``Desa``, ``Kel.``, ``Kelurahan``, ``Kec.``, ``Kab.``, ``Kabupaten``,
  ``Kota``): ``KEL. TEGAL REJO`` is ``Tegalrejo``; ``Kota`` and ``Kabupaten`` still tell
  a city from the regency of the same name;
* a name without an exact match takes the one name of its scope whose similarity
  (rapidfuzz's normalised Indel similarity, 0-100) is at least
  :attr:`Gazetteer.similarity` (default :data:`SIMILARITY`) and higher than every other
  name's; two names equally close make it ambiguous;
* each level narrows the next: a village is looked for in the district its kecamatan
  column names, the district in the regency its kabupaten column names. A name found
  twice in its scope is ``ambiguous_area`` (with the candidates), a name found nowhere
  ``unknown_area`` (with the closest names), a name or code of an area outside the study
  area ``outside_study_area``, and a code or name coarser than the unit of analysis (a
  district where villages are analysed) ``area_too_coarse``.

The work is done once per distinct combination of code and names (a registry has at
most a few per village), never per record, and remembered across batches.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

__all__ = [
    "LEVELS",
    "REASONS",
    "SIMILARITY",
    "Gazetteer",
    "Placed",
    "distances_m",
    "fold_names",
    "gazetteer",
    "normalise_codes",
    "place",
]

logger = logging.getLogger(__name__)

#: The administrative levels, largest first; a Kemendagri code has one part per level.
LEVELS = ("provinsi", "kabupaten", "kecamatan", "desa")
#: Digits of each part of a Kemendagri code (``33.10.11.2015``).
_WIDTHS = (2, 2, 2, 4)
#: Characters of a dotted code of each depth (``33``, ``33.10``, ``33.10.11``, ...).
_LENGTH = {1: 2, 2: 5, 3: 8, 4: 13}
#: Digits of a code of each level written without dots.
_PLAIN = {2: 1, 4: 2, 6: 3, 10: 4}
#: Why a record's area did not place it (rejection reasons, in precedence order).
REASONS = ("outside_study_area", "unknown_area", "ambiguous_area", "area_too_coarse")
#: Lowest similarity (0-100, rapidfuzz ``fuzz.ratio``) at which a name with a typo is
#: taken for an area's name: one wrong letter in a 10-letter name scores 90, in a
#: 5-letter name 80; one letter left out of 9 scores 94.
SIMILARITY = 80.0
#: Words of an area's kind, ignored when names are compared.
_KIND_WORDS = (
    "ds",
    "desa",
    "kel",
    "kelurahan",
    "kec",
    "kecamatan",
    "kab",
    "kabupaten",
    "kota",
    "kodya",
    "kotamadya",
    "kot",
    "adm",
    "administrasi",
    "prov",
    "provinsi",
)
_KIND_RE = r"\b(?:" + "|".join(_KIND_WORDS) + r")\b"
#: A name as its leading kind words (``kind``) and the name (``rest``).
_LEAD_RE = r"^(?P<kind>(?:(?:" + "|".join(_KIND_WORDS) + r")(?: |$))*)(?P<rest>.*)$"
#: Roman numerals and Indonesian number words (whole words) as digits.
_NUMERALS: tuple[tuple[str, str], ...] = tuple(
    (rf"(^| ){word}( |$)", rf"\1{digit}\2")
    for digit, words in enumerate(
        (
            (),
            ("i", "satu"),
            ("ii", "dua"),
            ("iii", "tiga"),
            ("iv", "empat"),
            ("v", "lima"),
            ("vi", "enam"),
            ("vii", "tujuh"),
            ("viii", "delapan"),
            ("ix", "sembilan"),
            ("x", "sepuluh"),
        )
    )
    for word in words
)

How = Literal["code", "name"]


def fold_names(values: pd.Series) -> pd.DataFrame:
    """Area names as they are compared: ``key`` without case, accents, punctuation,
    spacing or the kind words the name starts with (numbers as digits: ``II``, ``2`` and
    ``Dua`` alike), and ``kind`` (``"kota"``, ``"kabupaten"``, ``"desa"``,
    ``"kelurahan"`` or ``""``), which tells a city from the regency of the same name and
    a kelurahan from the desa.

    Parameters
    ----------
    values
        Names as written (any dtype; missing values give an empty key).

    Returns
    -------
    DataFrame
        ``key`` and ``kind``, indexed like ``values``.

    Examples
    --------
    >>> fold_names(pd.Series(["KEL. Tegal Rejo", "Kab. Klaten", "Kota Surakarta", "Ds Jetís"]))
             key       kind
    0  tegalrejo  kelurahan
    1     klaten  kabupaten
    2  surakarta       kota
    3      jetis       desa
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    position, distinct = pd.factorize(values.astype("string"), use_na_sentinel=True)
    # pyarrow's RE2 on each distinct name (a registry repeats its villages)
    text = _words(pa.array(np.asarray(distinct, dtype=object), type=pa.string()))
    # the kind words an area's name starts with (Kab. Kota Baru: only "Kab.")
    lead = pc.extract_regex(text, _LEAD_RE)
    said = pc.struct_field(lead, "kind")
    city = pc.match_substring_regex(said, r"\b(?:kota|kodya|kotamadya)\b").to_numpy(False)
    regency = pc.match_substring_regex(said, r"\b(?:kab|kabupaten)\b").to_numpy(False)
    village = pc.match_substring_regex(said, r"\b(?:ds|desa)\b").to_numpy(False)
    ward = pc.match_substring_regex(said, r"\b(?:kel|kelurahan)\b").to_numpy(False)
    kind = np.where(city & ~regency, "kota", np.where(regency & ~city, "kabupaten", ""))
    kind = np.where(village & ~ward, "desa", np.where(ward & ~village, "kelurahan", kind))
    plain = pc.replace_substring(text, " ", "")
    rest = pc.replace_substring(pc.struct_field(lead, "rest"), " ", "")
    key = pc.if_else(pc.greater(pc.utf8_length(rest), 0), rest, plain).to_numpy(False)
    found = position >= 0
    keys = np.full(len(values), "", dtype=object)
    kinds = np.full(len(values), "", dtype=object)
    keys[found] = key[position[found]]
    kinds[found] = kind[position[found]]
    return pd.DataFrame({"key": keys, "kind": kinds}, index=values.index)


def normalise_codes(values: pd.Series) -> pd.Series:
    """Kemendagri codes as the boundaries write them (``33.10.11.2015``), from codes
    with or without dots, with blanks, as number cells (``3310112015.0``) or with a part
    that lost its zero (``33.10.1.2015``); missing where a value is not such a code.

    Parameters
    ----------
    values
        Codes as written.

    Returns
    -------
    Series
        Dotted codes (``string`` dtype), indexed like ``values``.

    Examples
    --------
    >>> normalise_codes(pd.Series(["3310112015", "33.10.1.2015", 3310.0, "33-10", "x1"])).tolist()
    ['33.10.11.2015', '33.10.01.2015', '33.10', '33.10', <NA>]
    """
    position, distinct = pd.factorize(values.astype("string"), use_na_sentinel=True)
    text = pd.Series(distinct, dtype="string").str.strip()
    text = text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)  # a number cell
    dotted = text.str.fullmatch(r"\d{1,2}(?:[.\-\s/]+\d{1,4}){1,3}")
    parts = text.str.split(r"[.\-\s/]+", regex=True)
    out = pd.Series(pd.NA, index=text.index, dtype="string")
    n_parts = parts.map(lambda p: len(p) if isinstance(p, list) else 0)
    for depth in range(2, 5):
        at = (dotted & (n_parts == depth)).fillna(False)
        if not at.any():
            continue
        padded = [
            parts[at].str[i].str.zfill(_WIDTHS[i]).where(parts[at].str[i].str.len() <= _WIDTHS[i])
            for i in range(depth)
        ]
        joined = padded[0]
        for piece in padded[1:]:
            joined = joined + "." + piece
        out[at] = joined
    plain = text.str.fullmatch(r"\d+").fillna(False) & text.str.len().isin(list(_PLAIN))
    for length, depth in _PLAIN.items():
        at = plain & (text.str.len() == length)
        if not at.any():
            continue
        cuts = np.cumsum((0, *_WIDTHS[:depth]))
        pieces = [text[at].str.slice(int(a), int(b)) for a, b in itertools.pairwise(cuts)]
        joined = pieces[0]
        for piece in pieces[1:]:
            joined = joined + "." + piece
        out[at] = joined
    single = text.str.fullmatch(r"\d{2}").fillna(False)
    out[single] = text[single]
    result = np.full(len(values), pd.NA, dtype=object)
    found = position >= 0
    result[found] = out.to_numpy(dtype=object)[position[found]]
    return pd.Series(result, index=values.index, dtype="string")


@dataclass(frozen=True)
class Placed:
    """Where each record's area places it.

    ``area_pos`` is the position of its area of analysis (-1: not placed), ``how``
    ``"code"`` or ``"name"`` (``""``: not placed), ``reason`` a rejection reason of
    :data:`REASONS` (``""`` where placed or where the record names no area) and
    ``detail`` what was looked for and found.
    """

    area_pos: NDArray[np.int64]
    how: NDArray[np.object_]
    reason: NDArray[np.object_]
    detail: NDArray[np.object_]
    named: NDArray[np.bool_]  # the record names an area (a code or a name)


@dataclass(frozen=True)
class Gazetteer:
    """The areas records may name, and the areas of analysis they are placed in.

    Built by :func:`gazetteer`. ``units`` holds every named unit (indexed by code:
    ``level``, ``name``, ``key``, ``kind``, ``inside`` the study area); ``codes`` are
    the areas of analysis in the order positions refer to.
    """

    codes: pd.Index
    level: str  # "provinsi" ... "desa", "custom" (a polygon file) or "h3"
    units: pd.DataFrame
    study: str | None = None
    similarity: float = SIMILARITY
    tolerance_m: float = 500.0
    prefer: Literal["area", "point"] = "area"
    metric: Any = None  # a CRS in metres for distances to areas (pyproj CRS)
    _memo: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def nested(self) -> bool:
        """Whether codes nest by prefix (Kemendagri boundaries)."""
        return self.level in LEVELS


def gazetteer(
    areas: gpd.GeoDataFrame,
    *,
    level: str,
    study: str | None = None,
    names: Mapping[str, pd.Series] | None = None,
    similarity: float = SIMILARITY,
    tolerance_m: float = 500.0,
    prefer: Literal["area", "point"] = "area",
) -> Gazetteer:
    """The gazetteer of a study area.

    Parameters
    ----------
    areas
        The areas of analysis, indexed by area code, with a ``name`` column.
    level
        Their level (``desa``, ``kecamatan``, ...), ``custom`` for a polygon file's
        areas (matched by their own ids and names only) or ``h3`` (no area places a firm
        in a hexagon: it needs its coordinates).
    study
        The study area's code prefix (Kemendagri), None for the whole country.
    names
        Names of every unit of each administrative level, indexed by code
        (:func:`klastergeo.io.boundaries.load_names`; the whole country, so that an area
        outside the study area is told from an unknown one); None: only ``areas``.
    similarity, tolerance_m, prefer
        See :class:`Gazetteer`.
    """
    frames = []
    if names:
        for unit_level, series in names.items():
            frames.append(_units(series, unit_level))
    elif level != "h3":
        frames.append(
            _units(
                areas["name"]
                if "name" in areas
                else pd.Series(areas.index.astype(str), index=areas.index),
                level,
            )
        )
    units = pd.concat(frames) if frames else _units(pd.Series(dtype=object), level)
    codes = units.index.astype(str)
    if study and level in LEVELS:
        # the study area, its areas, and the areas it lies in (a record of Kecamatan
        # Ceper names its regency, Klaten: that is no area outside)
        ancestor = np.array([study.startswith(f"{c}.") for c in codes], dtype=bool)
        units["inside"] = (codes == study) | codes.str.startswith(study + ".") | ancestor
    else:
        units["inside"] = True
    metric = None
    if level != "h3" and len(areas) and areas.crs is not None:
        metric = areas.crs if areas.crs.is_projected else areas.estimate_utm_crs()
    return Gazetteer(
        codes=pd.Index(areas.index.astype(str), name="area_code"),
        level=level,
        units=units,
        study=study,
        similarity=similarity,
        tolerance_m=tolerance_m,
        prefer=prefer,
        metric=metric,
    )


def _units(series: pd.Series, level: str) -> pd.DataFrame:
    folded = fold_names(pd.Series(series.to_numpy(dtype=object)))
    codes = pd.Index(series.index.astype(str), name="area_code")
    kind = folded["kind"].to_numpy(dtype=object)
    if level == "desa":  # Kemendagri: a village's number starts with 1 (kelurahan) or 2
        digit = pd.Series(codes).str.slice(9, 10).to_numpy(dtype=object)
        kind = np.where(digit == "1", "kelurahan", np.where(digit == "2", "desa", kind))
    plain = fold_plain(pd.Series(series.to_numpy(dtype=object)))
    return pd.DataFrame(
        {
            "level": level,
            "name": series.to_numpy(dtype=object),
            "key": folded["key"].to_numpy(dtype=object),
            "kind": kind,
            "plain": plain.to_numpy(dtype=object),
        },
        index=codes,
    )


def fold_plain(values: pd.Series) -> pd.Series:
    """A name's key with its kind words kept (``Kota Baru`` -> ``kotabaru``): a second
    key, for names whose kind word is part of the name (Kotabaru, Kotawaringin).

    Parameters
    ----------
    values
        Names as written.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = _words(
        pa.array(values.astype("string").fillna("").to_numpy(dtype=object), type=pa.string())
    )
    return pd.Series(pc.replace_substring(text, " ", "").to_numpy(False), index=values.index)


def _words(text: Any) -> Any:
    """Names as lower-case words (pyarrow's RE2): accents, punctuation and repeated
    blanks gone, numbers in one form (Poigar I = Poigar 1 = Poigar Satu, never one for
    another)."""
    import pyarrow.compute as pc

    text = pc.replace_substring_regex(pc.utf8_normalize(text, form="NFKD"), r"\p{Mn}+", "")
    text = pc.replace_substring_regex(pc.utf8_lower(text), r"[^\p{L}\p{N}]+", " ")
    text = pc.utf8_trim_whitespace(text)
    for pattern, digit in _NUMERALS:
        text = pc.replace_substring_regex(text, pattern, digit)
    return text


def place(
    frame: pd.DataFrame,
    *,
    gaz: Gazetteer,
    code: str | None = None,
    desa: str | None = None,
    kecamatan: str | None = None,
    kabupaten: str | None = None,
) -> Placed:
    """Place every row of ``frame`` by the area it names.

    A code is tried first; where it places nothing, the names. Each distinct
    combination of values is resolved once (and remembered in ``gaz``).

    Parameters
    ----------
    frame
        Records (or one batch of them), as read.
    gaz
        The study area's gazetteer (:func:`gazetteer`).
    code, desa, kecamatan, kabupaten
        The columns holding an area code and the names of the village, district and
        regency (None: the file has no such column).

    Returns
    -------
    Placed
        Per row.
    """
    n = len(frame)
    used = [
        (role, c)
        for role, c in (
            ("code", code),
            ("kabupaten", kabupaten),
            ("kecamatan", kecamatan),
            ("desa", desa),
        )
        if c
    ]
    if not used or n == 0:
        empty = np.full(n, "", dtype=object)
        return Placed(
            np.full(n, -1, np.int64), empty, empty.copy(), empty.copy(), np.zeros(n, bool)
        )
    texts = {}
    for role, column in used:
        values = frame[column].astype("string").str.strip()
        texts[role] = values.where(values.str.len() > 0).fillna("")
    if "code" not in texts:  # a name column that holds codes (``desa``: 33.10.11.2015)
        for role in [r for r in texts if _holds_codes(texts[r])][-1:]:
            texts["code"] = texts.pop(role)
            logger.info("column %r holds area codes: records are placed by them", role)
    used = [(role, role) for role in ("code", *_ORDER) if role in texts]
    table = pd.DataFrame(texts, index=frame.index)
    position, distinct = pd.factorize(pd.MultiIndex.from_frame(table), use_na_sentinel=False)
    combos = pd.DataFrame(list(distinct), columns=list(texts))
    every = combos.copy()
    for role, _ in used:  # names are compared folded: fold each distinct one once
        if role != "code":
            folded = fold_names(combos[role])
            every[role + "\0key"] = folded["key"].to_numpy(dtype=object)
            every[role + "\0kind"] = folded["kind"].to_numpy(dtype=object)
    columns = list(every.columns)
    # the usual case, vectorised: a code, or names that match exactly and once
    pos, how = _exact(gaz, every, [r for r, _ in used])
    reason = np.full(len(every), "", dtype=object)
    detail = np.full(len(every), "", dtype=object)
    rest = np.flatnonzero(pos < 0)
    for i, row in zip(rest, every.iloc[rest].itertuples(index=False, name=None), strict=True):
        pos[i], how[i], reason[i], detail[i] = _resolve(gaz, dict(zip(columns, row, strict=True)))
    named = (combos != "").any(axis=1).to_numpy(dtype=bool)
    return Placed(pos[position], how[position], reason[position], detail[position], named[position])


def _holds_codes(values: pd.Series) -> bool:
    """Whether most written values of a column are Kemendagri codes of a village or a
    district (a ``desa`` column of codes, as exports write it)."""
    written = values.loc[values != ""]
    if not len(written):
        return False
    sample = written.iloc[:: max(1, len(written) // 1000)]
    codes = normalise_codes(sample)
    deep = codes.str.len().fillna(0).to_numpy() >= _LENGTH[3]
    return bool(deep.mean() > 0.5)


def _exact(
    gaz: Gazetteer, every: pd.DataFrame, roles: list[str]
) -> tuple[NDArray[np.int64], NDArray[np.object_]]:
    """Positions (-1: left to :func:`_resolve`) and ``how`` of the combinations whose
    code is a known area of the study area at or below the unit of analysis, or whose
    names match every given level exactly and one unit only (a Kemendagri gazetteer)."""
    n = len(every)
    pos = np.full(n, -1, dtype=np.int64)
    how = np.full(n, "", dtype=object)
    if not gaz.nested or n == 0:
        return pos, how
    depth = LEVELS.index(gaz.level) + 1
    codes = pd.Index(np.asarray(gaz.codes, dtype=object))
    if "code" in roles:
        written = normalise_codes(every["code"])
        cut = written.str.slice(0, _LENGTH[depth])
        deep = (written.str.len() >= _LENGTH[depth]).fillna(False).to_numpy(dtype=bool)
        known = written.isin(gaz.units.index).fillna(False).to_numpy(dtype=bool)
        found = codes.get_indexer(cut.fillna("").to_numpy(dtype=object))
        hit = deep & known & (found >= 0)
        pos[hit], how[hit] = found[hit], "code"
    names = [r for r in _ORDER if r in roles]
    if not names:
        return pos, how
    finest = names[-1]
    if LEVELS.index(finest) + 1 < depth:  # coarser than the analysis: _resolve says so
        return pos, how
    chain = _chains(gaz, tuple(names))
    wanted = every[[f"{r}\0key" for r in names]].copy()
    wanted.columns = list(names)
    todo = (pos < 0) & (every[names] != "").all(axis=1).to_numpy(dtype=bool)
    if "kabupaten" in names:  # a city or a regency said: the unit's kind must agree
        kind = every["kabupaten\0kind"].to_numpy(dtype=object)
    else:
        kind = np.full(n, "", dtype=object)
    matched = wanted.merge(chain, how="left", on=list(names))
    unit = matched["code"].to_numpy(dtype=object)
    agree = (kind == "") | (matched["kind"].to_numpy(dtype=object) == kind)
    hit = todo & pd.notna(unit) & agree
    if hit.any():
        cut = pd.Series(unit[hit], dtype="string").str.slice(0, _LENGTH[depth])
        found = codes.get_indexer(cut.to_numpy(dtype=object))
        rows = np.flatnonzero(hit)[found >= 0]
        pos[rows], how[rows] = found[found >= 0], "name"
    return pos, how


def _chains(gaz: Gazetteer, names: tuple[str, ...]) -> pd.DataFrame:
    """The units of the finest of ``names`` inside the study area, by the keys of their
    own name and their parents' at the given levels (``code`` and the regency's ``kind``),
    keeping only the chains that name one unit."""
    memo_key = ("__chain__", *names)
    found = gaz._memo.get(memo_key)
    if found is not None:
        return found
    units = gaz.units
    finest = names[-1]
    mine = units.loc[(units["level"].to_numpy() == finest) & units["inside"].to_numpy(dtype=bool)]
    codes = pd.Series(mine.index.astype(str), index=mine.index, dtype="string")
    table = pd.DataFrame({"code": codes.to_numpy(dtype=object)})
    keys = units["key"]
    kinds = units["kind"]
    for role in names:
        own = codes.str.slice(0, _LENGTH[LEVELS.index(role) + 1]).to_numpy(dtype=object)
        table[role] = keys.reindex(own).to_numpy(dtype=object)
        if role == "kabupaten":
            table["kind"] = kinds.reindex(own).to_numpy(dtype=object)
    if "kind" not in table:
        table["kind"] = ""
    table = table.drop_duplicates(list(names), keep=False)
    gaz._memo[memo_key] = table
    return table


def _resolve(gaz: Gazetteer, given: dict[str, str]) -> tuple[int, str, str, str]:
    """(position, how, reason, detail) of one combination of code and names (with each
    name's folded ``<role>\\0key`` and ``<role>\\0kind``)."""
    key = tuple(f"{k}={v}" for k, v in given.items() if "\0" not in k)
    if key in gaz._memo:
        return gaz._memo[key]
    result = _resolve_uncached(gaz, given)
    gaz._memo[key] = result
    return result


def _resolve_uncached(gaz: Gazetteer, given: dict[str, str]) -> tuple[int, str, str, str]:
    if not any(v for k, v in given.items() if "\0" not in k):
        return -1, "", "", ""
    if gaz.level == "h3":
        return (
            -1,
            "",
            "area_too_coarse",
            "an H3 grid places a firm by its coordinates, not by the area it names",
        )
    outcome: tuple[int, str, str, str] | None = None
    if given.get("code"):
        outcome = _by_code(gaz, given["code"])
        if outcome[0] >= 0:
            return outcome
    names = {k: v for k, v in given.items() if k != "code" and "\0" not in k and v}
    if names:
        folded = {k: (given[k + "\0key"], given[k + "\0kind"]) for k in names}
        coarse = outcome is not None and outcome[2] == "area_too_coarse"
        within = str(normalise_codes(pd.Series([given["code"]])).iloc[0]) if coarse else None
        by_name = _by_names(gaz, names, folded, within=within)
        if by_name[0] >= 0 or outcome is None:
            return by_name
        return outcome[0], outcome[1], outcome[2], f"{outcome[3]}; {by_name[3]}"
    assert outcome is not None
    return outcome


def _analysis_position(gaz: Gazetteer, unit: str, how: str, said: str) -> tuple[int, str, str, str]:
    """The area of analysis a unit's code lies in (its own, or its parent's)."""
    if gaz.nested:
        depth = LEVELS.index(gaz.level) + 1
        parts = unit.split(".")
        if len(parts) < depth:
            level = LEVELS[len(parts) - 1]
            return (
                -1,
                "",
                "area_too_coarse",
                f"{said} is a {level} ({unit}); the unit of analysis is {gaz.level}: "
                f"name the {gaz.level} too, or analyse by --level {level}",
            )
        unit = ".".join(parts[:depth])
    positions = gaz._memo.get(("__positions__",))
    if positions is None:
        positions = {}
        for i, code in enumerate(gaz.codes):
            positions.setdefault(str(code), i)  # the first area of a repeated id
        gaz._memo[("__positions__",)] = positions
    found = positions.get(unit)
    if found is None:
        return -1, "", "unknown_area", f"{said} ({unit}) has no area in the boundaries"
    return int(found), how, "", ""


def _by_code(gaz: Gazetteer, written: str) -> tuple[int, str, str, str]:
    said = f"code {written!r}"
    if not gaz.nested:
        wanted = re.sub(r"[\W_]+", "", written.casefold())
        keys = pd.Series(gaz.codes).str.casefold().str.replace(r"[\W_]+", "", regex=True)
        hits = np.flatnonzero(keys.to_numpy(dtype=object) == wanted)
        if len(hits) == 1:
            return int(hits[0]), "code", "", ""
        return (-1, "", "unknown_area", f"{said} is not the id of an area of the boundaries")
    code = normalise_codes(pd.Series([written])).iloc[0]
    if pd.isna(code):
        return (
            -1,
            "",
            "unknown_area",
            f"{said} is not a Kemendagri area code (2, 4, 6 or 10 digits, e.g. "
            "33.10.11.2015 or 3310112015)",
        )
    code = str(code)
    inside = code == gaz.study or code.startswith(f"{gaz.study}.")
    if gaz.study and not inside and not gaz.study.startswith(code + "."):
        return (
            -1,
            "",
            "outside_study_area",
            f"{said} ({code}) lies outside the study area {gaz.study}",
        )
    if gaz.level in LEVELS and code not in gaz.units.index:
        bps = (
            "; BPS (census) codes differ from Kemendagri's: give the Kemendagri code, or "
            "the area's names"
            if len(code) == _LENGTH[4] and code[9] not in "12"
            else ""
        )
        return (-1, "", "unknown_area", f"{said} ({code}) is not an area of the boundaries{bps}")
    return _analysis_position(gaz, code, "code", said)


_ORDER = ("kabupaten", "kecamatan", "desa")


@dataclass(frozen=True)
class _Level:
    """The units of one level, indexed for matching: codes by key (inside and outside
    the study area), and the keys of each parent's units (for similar names)."""

    inside: dict[str, list[str]]
    outside: dict[str, list[str]]
    children: dict[str, tuple[list[str], list[str]]]  # parent -> (keys, codes)
    kinds: dict[str, str]


def _level(gaz: Gazetteer, level: str) -> _Level:
    memo_key = ("__level__", level)
    found = gaz._memo.get(memo_key)
    if isinstance(found, _Level):
        return found
    units = gaz.units.loc[gaz.units["level"].to_numpy() == level]
    codes = units.index.astype(str).to_numpy(dtype=object)
    keys = units["key"].to_numpy(dtype=object)
    inside = units["inside"].to_numpy(dtype=bool)
    parents = (
        pd.Series(codes).str.rsplit(".", n=1).str[0].where(pd.Series(codes).str.contains(r"\."), "")
    ).to_numpy(dtype=object)
    plains = units["plain"].to_numpy(dtype=object) if "plain" in units else keys
    by_inside: dict[str, list[str]] = {}
    by_outside: dict[str, list[str]] = {}
    children: dict[str, tuple[list[str], list[str]]] = {"": ([], [])}
    for code, key, plain, ins, parent in zip(codes, keys, plains, inside, parents, strict=True):
        for said in dict.fromkeys((key, plain)):  # the name, and with its kind words
            (by_inside if ins else by_outside).setdefault(said, []).append(code)
        if ins:
            # every area above it is a scope (a village of a regency named, no district)
            scopes = [parent[:n] for n in (2, 5, 8) if len(parent) >= n] + [""]
            for scope in dict.fromkeys(scopes):
                pair = children.setdefault(scope, ([], []))
                pair[0].append(key)
                pair[1].append(code)
    made = _Level(by_inside, by_outside, children, dict(zip(codes, units["kind"], strict=True)))
    gaz._memo[memo_key] = made
    return made


def _by_names(
    gaz: Gazetteer,
    names: dict[str, str],
    folded: dict[str, tuple[str, str]],
    *,
    within: str | None = None,
) -> tuple[int, str, str, str]:
    if not gaz.nested:  # a polygon file: its own names, matched by the finest given
        role = next(r for r in reversed(_ORDER) if r in names)
        code, reason, detail = _match(
            gaz, gaz.level, names[role], folded[role], role, scope=None, said=""
        )
        if not code:
            return -1, "", reason, detail
        return _analysis_position(gaz, code, "name", f"{role} {names[role]!r}")
    scope: str | None = within
    said = f"code {within}" if within else ""
    given = [r for r in _ORDER if names.get(r)]
    passed: tuple[str, str] | None = None  # a parent's name found nowhere, passed over
    for role in given:
        if scope is not None and LEVELS.index(role) + 1 <= scope.count(".") + 1:
            continue  # the code already names this level
        text = names[role]
        code, reason, detail = _match(gaz, role, text, folded[role], role, scope=scope, said=said)
        if not code:
            if reason == "unknown_area" and role != given[-1] and "of that name" not in detail:
                # a parent name found nowhere (a sheet called "Sheet1" standing for the
                # kecamatan, a typo beyond the similarity): the child may still place it
                passed = (reason, detail)
                continue
            return -1, "", reason, detail
        scope = code
        said = f"{role} {text!r}"
    if scope is None:
        assert passed is not None
        return -1, "", passed[0], passed[1]
    if passed is not None:
        logger.debug("placed without a parent name found nowhere: %s", passed[1])
    return _analysis_position(gaz, scope, "name", said)


def _match(
    gaz: Gazetteer,
    level: str,
    text: str,
    folded: tuple[str, str],
    role: str,
    *,
    scope: str | None,
    said: str,
) -> tuple[str, str, str]:
    """(code, reason, detail) of one name among the units of ``level`` within ``scope``
    (a parent's code; None: the whole study area)."""
    key, kind = folded
    memo = ("__match__", level, scope or "", key, kind)
    known = gaz._memo.get(memo)
    if known is not None:  # found before (a failure is looked at again: its detail)
        return known, "", ""
    code, reason, detail = _match_once(gaz, level, text, folded, role, scope=scope, said=said)
    if code:
        gaz._memo[memo] = code
    return code, reason, detail


def _match_once(
    gaz: Gazetteer,
    level: str,
    text: str,
    folded: tuple[str, str],
    role: str,
    *,
    scope: str | None,
    said: str,
) -> tuple[str, str, str]:
    from rapidfuzz import fuzz, process

    index = _level(gaz, level)
    key, kind = folded
    what = f"{role} {text!r}" + (f" (in {said})" if said else "")
    within = (lambda c: c.startswith(scope + ".")) if scope else (lambda c: True)
    exact: list[str] = []
    for wanted in _alternates(text, key):  # Kab. Kota Baru: "baru", then "kotabaru"
        exact = [c for c in index.inside.get(wanted, []) if within(c)]
        if exact:
            break
    if kind and len(exact) > 1:
        exact = [c for c in exact if index.kinds.get(c) == kind] or exact
    if len(exact) == 1:
        return exact[0], "", ""
    if len(exact) > 1:
        return "", "ambiguous_area", f"{what} names {len(exact)} areas: {_listed(gaz, exact)}"
    # the name itself outside the study area comes before a similar one inside it
    far = [c for c in index.outside.get(key, []) if within(c)]
    if far:
        return (
            "",
            "outside_study_area",
            f"{what} lies outside the study area {gaz.study}: {_listed(gaz, far)}",
        )
    keys, codes = index.children.get(scope or "", ([], []))
    if keys:
        numbers = re.findall(r"\d+", key)
        scored = [
            hit
            for hit in process.extract(
                key, keys, scorer=fuzz.ratio, score_cutoff=gaz.similarity, limit=None
            )
            # Poigar 2 is never Poigar I: where both have numbers, they agree
            if not numbers
            or not re.findall(r"\d+", hit[0])
            or re.findall(r"\d+", hit[0]) == numbers
        ]
        if scored:
            best = max(s[1] for s in scored)
            top = sorted({codes[int(i)] for _, s, i in scored if s == best})
            if len(top) == 1:
                logger.debug("%s taken for %s (similarity %.0f)", what, top[0], best)
                return top[0], "", ""
            return (
                "",
                "ambiguous_area",
                f"{what} is as close to {len(top)} areas: {_listed(gaz, top)}",
            )
    elsewhere = index.inside.get(key, [])
    if scope and elsewhere:
        return (
            "",
            "unknown_area",
            f"{what}: no such {role} there; {role} of that name: {_listed(gaz, elsewhere)}",
        )
    close = process.extract(key, keys, scorer=fuzz.ratio, limit=3) if keys else []
    names = gaz.units["name"]
    hint = ", ".join(f"{names.get(codes[int(i)])} ({s:.0f})" for _, s, i in close) or "none"
    return (
        "",
        "unknown_area",
        f"{what} is not the name of a {role} of the study area (closest: {hint}; "
        f"a similarity of at least {gaz.similarity:g} is taken)",
    )


def _alternates(text: str, key: str) -> list[str]:
    """The keys a name is looked up by: without its leading kind words (``key``), then
    with fewer of them (``Kab. Kota Baru``: ``baru``, ``kotabaru``, ``kabkotabaru``)."""
    tokens = re.sub(r"[^\w]+", " ", str(text).casefold()).split()
    lead = 0
    while lead < len(tokens) and tokens[lead] in _KIND_WORDS:
        lead += 1
    out = [key]
    for start in range(min(lead, len(tokens) - 1), -1, -1):
        candidate = str(fold_plain(pd.Series([" ".join(tokens[start:])])).iloc[0])
        if candidate and candidate not in out:
            out.append(candidate)
    return out


def _listed(gaz: Gazetteer, codes: list[str], most: int = 5) -> str:
    """Candidates as ``code name (parent)``."""
    names = gaz.units["name"]
    shown = []
    for code in codes[:most]:
        parent = code.rsplit(".", 1)[0] if "." in code else ""
        above = names.get(parent) if parent else None
        shown.append(
            f"{code} {names.get(code)}" + (f" ({above})" if isinstance(above, str) else "")
        )
    more = f" and {len(codes) - most} more" if len(codes) > most else ""
    return "; ".join(shown) + more


def distances_m(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    area_pos: NDArray[np.int64],
    areas: gpd.GeoDataFrame,
    *,
    gaz: Gazetteer,
) -> NDArray[np.float64]:
    """Metres from each point (WGS84) to the area of analysis at ``area_pos`` (0 inside
    it; NaN where there is no point or no area).

    Parameters
    ----------
    lon, lat
        Points in degrees.
    area_pos
        Positions in ``areas`` (-1: none).
    areas
        The areas of analysis (any CRS); only those at ``area_pos`` are projected.
    gaz
        The gazetteer (its CRS in metres).
    """
    out = np.full(len(lon), np.nan)
    rows = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat) & (area_pos >= 0))
    if gaz.metric is None or len(rows) == 0:
        return out
    wanted, where = np.unique(area_pos[rows], return_inverse=True)
    shapes = areas.geometry.iloc[wanted].to_crs(gaz.metric)
    points = gpd.GeoSeries(gpd.points_from_xy(lon[rows], lat[rows]), crs=4326)
    points = points.to_crs(gaz.metric)
    polygons = np.asarray(shapes.values, dtype=object)[where]
    out[rows] = shapely.distance(np.asarray(points.values, dtype=object), polygons)
    return out
