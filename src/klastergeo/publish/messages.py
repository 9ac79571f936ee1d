"""Every user-visible text of klastergeo's pages, figures and summaries, in Indonesian
(``id``) and English (``en``), and numbers written as each language writes them.

The catalogue :data:`MESSAGES`, read from one TOML file per language
(``klastergeo/publish/catalogue/<lang>.toml``: edit the texts there), is grouped by where
a text appears (``report``, ``map``, ``site``, ``workbook``, ``figures``) and by what it
names (``columns``: table headers; ``reasons``: why a record was rejected; ``typology``,
``stage`` and ``diagnosis``: the classification's labels; ``models``: model titles and
terms). Every group has the same keys in both languages (a test checks it); :func:`text`
returns a group for a language and :func:`label` one entry, falling back to the key
itself for a name the catalogue does not know (a registry's own column, say).

Numbers: Indonesian writes ``1.234,5`` where English writes ``1,234.5``
(:func:`number`); p-values below 0.001 are written ``< 0,001`` / ``< 0.001``
(:func:`p_value`), never ``0``.

Machine-readable files (CSV, Parquet, GeoPackage, ``summary.json``) keep their column
names and codes in English whatever the language: they are read by programs; the sentences
they carry for people (``candidates.csv`` ``reason``, ``rejected.csv`` ``detail`` and
``reason_text``: :mod:`klastergeo.publish.sentences`) are in the run's language. What
people read in the pages, figures and workbook is translated, and so is what the command
line prints around a run (its tables, progress and the frame of errors: the ``terminal``
and ``progress`` groups) and the errors a new user meets first (the ``errors`` group, by
the keys of :mod:`klastergeo.errors`); log lines, the other error messages, ``str()`` of
every error and the command's help stay in English.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

import pandas as pd

from klastergeo.errors import ConfigError

__all__ = [
    "CATALOGUE",
    "DOCS_URL",
    "LANGS",
    "MESSAGES",
    "cell_text",
    "check_lang",
    "class_labels",
    "docs_url",
    "hot_spot_labels",
    "label",
    "note",
    "number",
    "p_value",
    "significant",
    "term_title",
    "text",
    "typology_label",
    "typology_labels",
]

#: The languages of the catalogue.
LANGS = ("id", "en")

#: The documentation site (``site_url`` of mkdocs.yml): pages point readers there, never
#: to a file name.
DOCS_URL = "https://klastergeo.github.io/klastergeo/"


def docs_url(page: str = "") -> str:
    """The address of a page of the documentation (a path of ``docs/`` without ``.md``,
    as mkdocs publishes it: ``method/sentra`` -> ``.../method/sentra/``).

    Parameters
    ----------
    page
        The page's path under ``docs/`` without ``.md``; empty for the home page.

    Examples
    --------
    >>> docs_url("method/sentra")
    'https://klastergeo.github.io/klastergeo/method/sentra/'
    """
    return DOCS_URL + (page.strip("/") + "/" if page.strip("/") else "")


#: Where the catalogue's texts are: one TOML file per language, group -> key -> text.
CATALOGUE = "catalogue"


def _load(lang: str) -> dict[str, dict[str, str]]:
    """The catalogue's texts in ``lang``, from ``catalogue/<lang>.toml``."""
    source = resources.files("klastergeo.publish").joinpath(f"{CATALOGUE}/{lang}.toml")
    loaded: dict[str, dict[str, str]] = tomllib.loads(source.read_text(encoding="utf-8"))
    return loaded


_BY_LANG = {lang: _load(lang) for lang in LANGS}

#: The catalogue: group -> language -> key -> text (read from the files of
#: :data:`CATALOGUE`).
MESSAGES: dict[str, dict[str, dict[str, str]]] = {
    group: {lang: _BY_LANG[lang][group] for lang in LANGS} for group in _BY_LANG["en"]
}


def check_lang(lang: str) -> str:
    """``lang`` if the catalogue has it, else a :class:`ConfigError` naming the accepted
    ones.

    Parameters
    ----------
    lang
        A language code.
    """
    if lang not in LANGS:
        raise ConfigError(f"lang={lang!r} is not accepted; use one of {list(LANGS)}")
    return lang


def text(group: str, lang: str) -> Mapping[str, str]:
    """The texts of one group of the catalogue in one language.

    Parameters
    ----------
    group
        A key of :data:`MESSAGES` (``report``, ``map``, ...).
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> text("report", "id")["title"]
    'Laporan klaster industri'
    """
    return MESSAGES[group][check_lang(lang)]


def label(group: str, key: Any, lang: str) -> str:
    """One entry of the catalogue; the key itself (as text) when the group has none.

    Parameters
    ----------
    group
        A key of :data:`MESSAGES`.
    key
        The entry (a column name, a reason, a stage...).
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> label("stage", "advance", "id"), label("columns", "kode_desa", "id")
    ('maju', 'kode_desa')
    """
    return MESSAGES[group][check_lang(lang)].get(str(key), str(key))


_SWAP_MARKS = {ord(","): ".", ord("."): ","}


def cell_text(value: Any) -> str:
    """A table value as text: empty for a missing one (None, NaN, infinity, ``pd.NA``).

    Parameters
    ----------
    value
        A value of a table cell.

    Examples
    --------
    >>> cell_text(None), cell_text(float("nan")), cell_text("31-01")
    ('', '', '31-01')
    """
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return str(value)


def number(value: Any, lang: str, digits: int = 0) -> str:
    """A number as the language writes it: ``1.234,5`` in Indonesian, ``1,234.5`` in
    English; empty for a missing value, text as it is.

    Parameters
    ----------
    value
        The number.
    lang
        ``"id"`` or ``"en"``.
    digits
        Decimals shown.

    Examples
    --------
    >>> number(19164.25, "id", 1), number(19164.25, "en", 1), number(float("nan"), "id")
    ('19.164,2', '19,164.2', '')
    >>> number(-0.004, "id", 2)
    '0,00'
    """
    if isinstance(value, bool):
        return label("columns", str(value), lang)
    return _formatted(value, lang, f",.{digits}f")


#: Parameters of a note that name entries of another group (translated, not shown as
#: they are): ``{model}`` is a model's kind, ``{measure}`` and ``{measures}`` measures
#: (``workers``: "tenaga kerja" in a sentence).
_NOTE_LABELS = {"model": "models", "measure": "input_roles", "measures": "input_roles"}


def note(what: str, why: str, params: Mapping[str, Any], lang: str) -> tuple[str, str]:
    """What a run could not compute, and why, in ``lang``: the ``what`` and ``why``
    entries of the ``notes`` group filled with ``params`` (numbers as the language writes
    them, lists joined with commas, a model's kind as its title, a measure by its name
    in ``lang``, any other text as it is: an option's name, a library's message).

    Parameters
    ----------
    what, why
        Keys of the ``notes`` group.
    params
        The values of the entries' placeholders.
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> note("statistics_sentra", "few_firms", {"min_firms": 1500, "option": "x"}, "id")[1]
    'tidak ada sektor dengan 1.500 usaha atau lebih (x)'
    >>> note("model", "error", {"model": "logit", "error": "singular"}, "en")
    ('Logit', 'cannot be computed: singular')
    """
    t = text("notes", lang)
    values = {key: _note_value(key, value, lang) for key, value in params.items()}
    return t[what].format(**values), t[why].format(**values)


def _note_value(key: str, value: Any, lang: str) -> str:
    """One parameter of a note as text in ``lang``."""
    if isinstance(value, list | tuple):
        return ", ".join(_note_value(key, v, lang) for v in value)
    if key == "model":
        return label("models", value, lang)
    if key in _NOTE_LABELS:  # inside a sentence: "statistik tenaga kerja"
        named = label(_NOTE_LABELS[key], value, lang)
        return named[:1].lower() + named[1:]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value, lang)
    return str(value)


def date(value: Any, lang: str) -> str:
    """A date as the language writes it (``7 Desember 2026``, ``7 December 2026``), from
    an ISO timestamp (a run's ``created``, in UTC) or a date; empty when missing, text
    that is not a date as it is.

    Parameters
    ----------
    value
        An ISO date or timestamp (a timestamp's own day, as written), or a date.
    lang
        ``"id"`` or ``"en"``.

    Returns
    -------
    str
        The day, the month's name in the language and the year.

    Examples
    --------
    >>> date("2026-12-06T23:10:00+00:00", "id"), date("2026-01-31", "en")
    ('6 Desember 2026', '31 January 2026')
    >>> date(None, "id"), date("soon", "en")
    ('', 'soon')
    """
    if value is None or value is pd.NA or value == "":
        return ""
    try:
        when = pd.Timestamp(value)
    except (ValueError, TypeError):
        return str(value)
    if pd.isna(when):
        return ""
    months = text("calendar", lang)["months"].split(",")
    return f"{when.day} {months[when.month - 1].strip()} {when.year}"


def _formatted(value: Any, lang: str, spec: str) -> str:
    """``value`` formatted by ``spec`` with the language's marks; empty when missing,
    text as it is."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if not math.isfinite(x):
        return ""
    out = format(x, spec)
    if out.startswith("-") and not any(c in "123456789" for c in out.split("e")[0]):
        out = out[1:]  # -0.004 shown with two decimals is 0.00, not -0.00
    return out.translate(_SWAP_MARKS) if lang == "id" else out


def significant(value: Any, lang: str, digits: int = 4) -> str:
    """A number with ``digits`` significant digits (Python's ``g`` format: no
    thousands separator, an exponent for large or tiny numbers), in the language's
    decimal mark.

    Parameters
    ----------
    value
        The number.
    lang
        ``"id"`` or ``"en"``.
    digits
        Significant digits.

    Examples
    --------
    >>> significant(0.012345, "id"), significant(123456.0, "en")
    ('0,01235', '1.235e+05')
    """
    return _formatted(value, lang, f".{digits}g")


def hot_spot_labels(lang: str) -> dict[int, str]:
    """Hot- and cold-spot bins (3 .. -3: 99, 95 and 90 % confidence) as the map and the
    figures name them, strongest hot spot first.

    Parameters
    ----------
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> hot_spot_labels("id")[3], hot_spot_labels("en")[0]
    ('Titik panas 99 %', 'not significant')
    """
    t = text("map", lang)
    confidence = {3: 99, 2: 95, 1: 90}
    return {
        b: f"{t['hot'] if b > 0 else t['cold']} {confidence[abs(b)]} %" if b else t["not_sig"]
        for b in (3, 2, 1, 0, -1, -2, -3)
    }


#: Class columns (bins and quadrants) by their name or a layer's prefix -> kind.
CLASS_COLUMNS = {
    "spec_bin": "bins",
    "gi_bin": "bins",
    "lisa_quadrant": "quadrants",
    "bv_quadrant": "quadrants",
    "lisa": "quadrants",
    "bv": "quadrants",
}


def class_labels(column: str, lang: str) -> dict[int, str]:
    """What each code of a class column means, the one wording of the map, the
    figures, the GIS layers' styles and descriptions, the workbook's legend and the
    report: the hot- and cold-spot bins of ``spec_bin`` and ``gi_bin`` (the area's
    neighbourhood, not the area alone: :func:`hot_spot_labels`) and the LISA
    quadrants of ``lisa_quadrant`` and ``bv_quadrant`` (``lisa``, ``bv`` in a layer);
    empty for any other column.

    Parameters
    ----------
    column
        The column's name (``spec_bin``, ``lisa_quadrant``...) or a layer's prefix
        (``lisa``, ``bv``).
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> class_labels("spec_bin", "id")[3], class_labels("lisa_quadrant", "en")[1]
    ('Titik panas 99 %', 'High-High')
    >>> class_labels("n_firms", "en")
    {}
    """
    kind = CLASS_COLUMNS.get(column)
    if kind == "bins":
        return hot_spot_labels(lang)
    if kind == "quadrants":
        t = text("map", lang)
        return {1: t["HH"], 2: t["LL"], 3: t["LH"], 4: t["HL"], 0: t["not_sig"]}
    return {}


def term_title(term: Any, lang: str, roles: Mapping[str, str] | None = None) -> str:
    """A model term as the workbook titles it (the catalogue's ``columns``): ``const``
    -> "Konstanta", a role's column -> its title ("Tenaga kerja"), ``log(x)`` and a
    categorical predictor's dummy ``x[level]`` with ``x`` titled; other names as they
    are.

    Parameters
    ----------
    term
        The term (``const``, ``workers``, ``log(tenaga_kerja)``, ``jenis[mebel]``...).
    lang
        ``"id"`` or ``"en"``.
    roles
        The registry's column names of mapped roles (``tenaga_kerja`` -> ``workers``):
        a predictor keeps the user's name, titled by its role.

    Examples
    --------
    >>> term_title("const", "id"), term_title("log(tk)", "id", {"tk": "workers"})
    ('Konstanta', 'log(Tenaga kerja)')
    >>> term_title("jenis[mebel]", "en")
    'jenis[mebel]'
    """
    name = str(term)
    if name.startswith("log(") and name.endswith(")"):
        return f"log({term_title(name[4:-1], lang, roles)})"
    head, bracket, level = name.partition("[")
    if bracket and level.endswith("]"):
        return f"{term_title(head, lang, roles)}[{level}"
    return label("columns", (roles or {}).get(name, name), lang)


def p_value(value: Any, lang: str = "en") -> str:
    """A p-value as a reader expects it: three decimals, and ``< 0.001`` below that
    (never ``0``: a p-value is not zero, only smaller than what is shown); the decimal
    mark of the language.

    Parameters
    ----------
    value
        The p-value; NaN gives an empty string.
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> [p_value(v) for v in (0.0, 1e-20, 0.00049, 0.0123, 0.5)]
    ['< 0.001', '< 0.001', '< 0.001', '0.012', '0.500']
    >>> p_value(0.0001, "id"), p_value(0.0456, "id")
    ('< 0,001', '0,046')
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        return ""
    return "< " + _formatted(0.001, lang, ".3f") if x < 0.001 else _formatted(x, lang, ".3f")


def typology_label(typology: str, primary: str, traits: str, lang: str) -> str:
    """A sentra's Markusen type as a reader names it (the ``label`` column of
    ``typology.csv``), from :func:`klastergeo.analysis.typology.classify`'s ``typology``,
    ``primary`` and ``traits`` (``;``-joined).

    Parameters
    ----------
    typology, primary, traits
        The classification of one sentra.
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> typology_label("mixed", "marshallian", "hub_and_spoke;marshallian", "en")
    'Marshallian with hub-and-spoke traits'
    >>> typology_label("not_available", "", "", "id")[:15]
    'tidak tersedia '
    """
    names = text("typology", lang)
    others_of = [x for x in str(traits).split(";") if x]
    if typology == "not_available":
        return names["not_available"]
    if typology == "mixed" and not others_of:
        return names["mixed"]
    label = names[primary][0].upper() + names[primary][1:]
    others = [names[x] for x in others_of if x != primary]
    if others:
        label = names["with_traits"].format(primary=label, others=names["and"].join(others))
    return label


def typology_labels(classified: pd.DataFrame, lang: str) -> list[str]:
    """:func:`typology_label` of every row of a classified table (``typology``,
    ``primary``, ``traits``).

    Parameters
    ----------
    classified
        The typology table (``typology``, ``primary``, ``traits``).
    lang
        The language: ``id`` or ``en``.
    """
    return [
        typology_label(t, p, s, lang)
        for t, p, s in zip(
            classified["typology"], classified["primary"], classified["traits"], strict=True
        )
    ]
