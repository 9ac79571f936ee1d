"""Column roles and units: which registry column holds what, read from its header.

One synonyms table (:data:`SYNONYMS`) names the headers Indonesian registries use for
each role (``Jml TK``, ``Nilai Produksi (Rp. 000)``, ``KBLI 2020``, ``Desa/Kelurahan``,
``Nama Perusahaan``, ...). How a header is matched:

- **Normalised.** Case, spacing and punctuation are ignored: ``Jml. TK``, ``jml_tk``
  and ``JmlTK`` are the same header (compared without any separator).
- **Units and annotations set aside.** A unit in parentheses or brackets
  (``(Rp. 000)``, ``[Rp juta]``, ``(orang)``), or written after the role's words
  (``Nilai Produksi Rp juta``, ``Investasi ribuan rupiah``, ``TK org``), is read as the
  column's unit (:func:`parse_unit`) and is not part of the words matched; so are
  ``per tahun`` and notes such as ``(derajat desimal)``. Bracketed text that is not a
  unit (``Tenaga Kerja (tetap)``) stays part of the header's words.
- **Whole phrases only.** A header is a role's column only when its words, once its
  unit is set aside, are one of the role's phrases. A header with more words is another
  column: ``Jumlah Tenaga Kerja Laki-laki`` is never the workers column (where no
  workers column is found it is named as a similar column, to pass with
  ``--workers-col`` if it is the one).
- **Kinds of unit.** A measure's unit must be of its kind: a count (``orang``, ``org``,
  ``jiwa``) for workers, an amount of rupiah for output and investment; a header whose
  unit is of another kind is not the role's column.
- **One column per role.** Headers that differ only in case, punctuation or unit
  (``Nilai Produksi (Rp)`` beside ``nilai_produksi``) are an error naming them (pass the
  column to use). Two different phrases of one role (``TK`` and ``Jumlah Tenaga
  Kerja``) are decided by the table's order, the first phrase listed wins, and the
  column passed over is named in the log, ``summary.json`` and the report.

Amounts are converted to one stated unit (:data:`STATED_UNITS`: Rp juta for output and
investment, as the tables, map and report label them). A header with a unit converts
(``Nilai Produksi (Rp)``: values divided by 1,000,000); a header without one is taken as
already in Rp juta (the behaviour before units were read); ``--output-unit`` and
``--investment-unit`` override both.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "MEASURES",
    "STATED_UNITS",
    "SYNONYMS",
    "Detection",
    "Header",
    "MeasureUnit",
    "Unit",
    "compact",
    "detect",
    "measure_units",
    "parse_header",
    "parse_unit",
    "unit_problem",
]

logger = logging.getLogger(__name__)

#: Header phrases of each role, in order of preference (the first phrase found wins over
#: later ones), written with ``_`` between words; a header matches a phrase when both
#: are equal without separators and case (see the module docstring). A new role (e.g.
#: one column holding both coordinates) is one more entry.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": (
        "id",
        "record_id",
        "id_usaha",
        "id_ukm",
        "id_ikm",
        "id_umkm",
        "id_perusahaan",
        "kode_usaha",
        "kode_perusahaan",
        "kode_ikm",
        "nib",
        "no_nib",
        "nomor_nib",
        "nomor_induk_berusaha",
        "firm_id",
    ),
    "lat": (
        "lat",
        "latitude",
        "lintang",
        "y",
        "koordinat_lintang",
        "garis_lintang",
        "koordinat_y",
        "lat_dd",
        "northing",
    ),
    "lon": (
        "lon",
        "lng",
        "long",
        "longitude",
        "bujur",
        "x",
        "koordinat_bujur",
        "garis_bujur",
        "koordinat_x",
        "lon_dd",
        "easting",
    ),
    # both in one cell, as copied from a web map or a map link
    "coordinates": (
        "koordinat",
        "titik_koordinat",
        "coordinates",
        "latlong",
        "lat_long",
        "lat_lon",
        "lat_lng",
        "latlon",
        "koordinat_lokasi",
        "link_maps",
        "link_google_maps",
        "google_maps",
        "gmaps",
        "link_lokasi",
        "lokasi_gmaps",
        "lokasi_maps",
        "titik_lokasi",
    ),
    "sector": (
        "kbli",
        "kode_kbli",
        "kbli_2020",
        "kode_kbli_2020",
        "kbli_2017",
        "kbli_2015",
        "no_kbli",
        "nomor_kbli",
        "kbli_code",
        "sector",
        "sektor",
        "kode_sektor",
    ),
    "workers": (
        "workers",
        "tenaga_kerja",
        "jumlah_tenaga_kerja",
        "jml_tenaga_kerja",
        "total_tenaga_kerja",
        "jumlah_tk",
        "jml_tk",
        "total_tk",
        "tk",
        "pekerja",
        "jumlah_pekerja",
        "jml_pekerja",
        "karyawan",
        "jumlah_karyawan",
        "jml_karyawan",
        "employees",
        "employment",
        "tenaga_kerja_jumlah",
        "tk_jumlah",
        "jumlah_tk_total",
        "tenaga_kerja_total",
        "tenaga_kerja_l_p",
    ),
    "output": (
        "output",
        "nilai_produksi",
        "jumlah_nilai_produksi",
        "nilai_output",
        "production_value",
        "omzet",
        "omset",
        "nilai_penjualan",
        "turnover",
    ),
    "investment": (
        "investment",
        "investasi",
        "nilai_investasi",
        "jumlah_investasi",
        "total_investasi",
        "jml_investasi",
    ),
    "name": (
        "name",
        "nama_usaha",
        "nama_perusahaan",
        "nama_ikm",
        "nama_ukm",
        "nama_umkm",
        "nama_unit_usaha",
        "nama_badan_usaha",
        "firm_name",
        "business_name",
        "nama",
    ),
    "area_code": (
        "kode_wilayah",
        "kode_desa",
        "kode_kelurahan",
        "kode_desa_kelurahan",
        "kode_kelurahan_desa",
        "kode_desa_kel",
        "kode_kel_desa",
        "kode_kemendagri",
        "kode_wil",
        "kdwil",
        "area_code",
    ),
    "desa": (
        "desa",
        "kelurahan",
        "desa_kelurahan",
        "kelurahan_desa",
        "desa_kel",
        "kel_desa",
        "ds_kel",
        "nama_desa",
        "nama_kelurahan",
        "nama_desa_kelurahan",
        "village",
    ),
    "kecamatan": ("kecamatan", "kec", "nama_kecamatan", "district"),
    "kabupaten": (
        "kabupaten",
        "kabupaten_kota",
        "kab_kota",
        "kota_kabupaten",
        "kota_kab",
        "kab",
        "nama_kabupaten",
        "nama_kabupaten_kota",
        "nama_kab_kota",
        "regency",
    ),
}

#: The measures whose headers carry units, and the unit each is stated in (the label of
#: every table, map and report: "Nilai produksi (Rp juta)").
MEASURES = ("workers", "output", "investment")
STATED_UNITS: dict[str, str] = {"workers": "orang", "output": "Rp juta", "investment": "Rp juta"}
_KIND_OF: dict[str, str] = {"workers": "count", "output": "money", "investment": "money"}

# -- units ------------------------------------------------------------------------------

_MONEY = {"rp", "rupiah", "idr"}
_SCALE = {
    "ribu": 1e3,
    "ribuan": 1e3,
    "rb": 1e3,
    "thousand": 1e3,
    "thousands": 1e3,
    "juta": 1e6,
    "jutaan": 1e6,
    "jt": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "mio": 1e6,
    "miliar": 1e9,
    "milyar": 1e9,
    "miliaran": 1e9,
    "milyaran": 1e9,
    "billion": 1e9,
    "triliun": 1e12,
}
_COUNT = {"orang", "org", "jiwa", "people", "persons", "person"}
#: Words a unit may carry that change nothing: the period (amounts are per year) and
#: ways of saying "in".
_PERIOD = {"per", "tahun", "th", "thn", "setahun", "pertahun", "year", "yr", "annual", "tahunan"}
_FILLER = {"dalam", "dlm", "satuan"}
#: Notes on a coordinate or code column that are not part of its name.
_NOTES = {
    "dd",
    "derajat",
    "desimal",
    "decimal",
    "degree",
    "degrees",
    "deg",
    "wgs",
    "wgs84",
    "digit",
}
_MONEY_NAMES = {1.0: "Rp", 1e3: "Rp ribu", 1e6: "Rp juta", 1e9: "Rp miliar", 1e12: "Rp triliun"}


@dataclass(frozen=True)
class Unit:
    """A unit read from a header or an option: ``kind`` is ``money`` (``scale`` rupiah
    per written unit: 1,000 for ``Rp ribu``), ``count`` (people) or ``none`` (a note
    without a unit, such as ``per tahun``)."""

    kind: Literal["money", "count", "none"]
    scale: float = 1.0

    @property
    def name(self) -> str:
        """The unit as the outputs write it: ``Rp``, ``Rp ribu``, ``Rp juta``, ``orang``."""
        if self.kind == "count":
            return "orang"
        if self.kind == "none":
            return ""
        return _MONEY_NAMES.get(self.scale, f"Rp x {self.scale:,.0f}")


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]+|\d+(?:[.,]\d+)*", text.lower())


def _words(tokens: Sequence[str]) -> Unit | None:
    """The unit these words say, or None when any word is not one of a unit's."""
    if not tokens:
        return None
    scale, money, count, note = 1.0, False, False, False
    for token in tokens:
        digits = re.sub(r"[.,]", "", token)
        if digits.isdigit():
            if re.fullmatch(r"1?(000)+", digits):  # 000, 1000, 000.000, 1.000.000
                scale *= 10.0 ** (len(digits) - digits.startswith("1"))
                money = True
                continue
            if "digit" in tokens:  # (5 digit)
                continue
            return None
        if token in _MONEY:
            money = True
        elif token in _SCALE:
            scale *= _SCALE[token]
            money = True
        elif token in _COUNT:
            count = True
        elif token in _NOTES:
            note = True
        elif token not in _PERIOD and token not in _FILLER:
            return None
    if money and (count or note):
        return None
    if money:
        return Unit("money", scale)
    if count and not note:
        return Unit("count")
    return Unit("none")


def parse_unit(text: str) -> Unit | None:
    """The unit written in ``text`` (a header's parentheses, or an option's value);
    None when it is not one.

    Amounts: ``Rp``, ``Rp.``, ``rupiah``, ``IDR``; scaled by ``ribu``/``ribuan``/``000``
    (thousands), ``juta``/``jutaan``/``000.000`` (millions), ``miliar``/``milyar``
    (thousands of millions), in any order (``(000 Rp)``, ``ribuan rupiah``). Counts:
    ``orang``, ``org``, ``jiwa``. ``per tahun`` and ``dalam`` add nothing.

    Parameters
    ----------
    text
        The unit as written.

    Examples
    --------
    >>> [parse_unit(t).name for t in ("Rp. 000", "juta rupiah", "000 Rp", "Rp", "org")]
    ['Rp ribu', 'Rp juta', 'Rp ribu', 'Rp', 'orang']
    >>> parse_unit("tetap") is None
    True
    """
    return _words(_tokens(text))


def unit_problem(key: str, value: str | None) -> str | None:
    """Why an amount's unit option cannot be used (None when it can).

    Parameters
    ----------
    key
        The option's key, for the message (``records.output_unit``).
    value
        The option's value; None (read the header) is accepted.
    """
    if value is None:
        return None
    unit = parse_unit(value)
    if unit is None or unit.kind != "money":
        return (
            f"{key}={value!r} is not a unit of rupiah; use Rp, Rp ribu (or Rp 000), "
            "Rp juta or Rp miliar"
        )
    return None


# -- headers ----------------------------------------------------------------------------


def compact(text: str) -> str:
    """A phrase without case and separators, as headers are compared.

    Parameters
    ----------
    text
        A header or a phrase of :data:`SYNONYMS`.

    Examples
    --------
    >>> compact("Jml. T/K"), compact("jml_tk")
    ('jmltk', 'jmltk')
    """
    return "".join(re.findall(r"[^\W_]+", str(text).lower()))


@dataclass(frozen=True)
class Header:
    """A header read: its words (:func:`compact`, the unit set aside) and the unit it
    states (None: none)."""

    key: str
    unit: Unit | None


_BRACKETS = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")


def parse_header(header: str) -> Header:
    """A header's words and unit (see the module docstring).

    Parameters
    ----------
    header
        The column's name as written.

    Examples
    --------
    >>> h = parse_header("Nilai Produksi (Rp. 000)")
    >>> h.key, h.unit.name
    ('nilaiproduksi', 'Rp ribu')
    >>> parse_header("Investasi Rp juta").unit.name, parse_header("TK (tetap)").key
    ('Rp juta', 'tktetap')
    """
    text = str(header)
    units: list[Unit] = []

    def bracket(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        unit = parse_unit(inner)
        if unit is None:
            return f" {inner} "
        units.append(unit)
        return " "

    words = _tokens(_BRACKETS.sub(bracket, text))
    # a unit written after the role's words: the longest tail that is one, leaving words
    for start in range(1, len(words)):
        tail = _words(words[start:])
        if tail is not None:
            units.append(tail)
            words = words[:start]
            break
    named = [u for u in units if u.kind != "none"]
    unit: Unit | None = named[0] if named else None
    if len({(u.kind, u.scale) for u in named}) > 1:
        unit = Unit("none", math.nan)  # two different units: none that can be trusted
    return Header(compact("".join(words)), unit)


def _fits(role: str, unit: Unit | None) -> bool:
    """Whether a header's unit can be the unit of ``role``'s values."""
    if unit is None:
        return True
    if unit.kind == "none":
        return not math.isnan(unit.scale)
    return _KIND_OF.get(role) == unit.kind


_PHRASES: dict[str, dict[str, int]] = {}


def _phrases() -> dict[str, dict[str, int]]:
    """Role -> compact phrase -> its preference (0 first), built once."""
    if not _PHRASES:
        for role, phrases in SYNONYMS.items():
            ranks: dict[str, int] = {}
            for rank, phrase in enumerate(phrases):
                ranks.setdefault(compact(phrase), rank)
            _PHRASES[role] = ranks
    return _PHRASES


@dataclass(frozen=True)
class Detection:
    """What the headers say about each role: the columns matching it, grouped by phrase
    in order of preference (``found[role][0]`` is the best phrase's columns), and for
    each role the columns that have its words and more (``similar``)."""

    found: dict[str, list[list[str]]]
    similar: dict[str, list[str]]

    def passed_over(self, role: str) -> list[str]:
        """Columns of ``role``'s later phrases (not taken: an earlier phrase won).

        Parameters
        ----------
        role
            A role of :data:`SYNONYMS`.
        """
        return [c for group in self.found.get(role, [])[1:] for c in group]


def detect(columns: Sequence[str], *, skip: Sequence[str] = ()) -> Detection:
    """Match a file's headers to the roles of :data:`SYNONYMS`.

    Parameters
    ----------
    columns
        The file's column names.
    skip
        Columns given for a role explicitly (they are no other role's column).

    Returns
    -------
    Detection
        The matching columns of every role, and the similar ones.

    Examples
    --------
    >>> found = detect(["Jml TK", "Jumlah Tenaga Kerja Laki-laki", "Nilai Produksi (Rp)"])
    >>> found.found["workers"], found.found["output"], found.similar["workers"]
    ([['Jml TK']], [['Nilai Produksi (Rp)']], [])
    >>> detect(["Jumlah Tenaga Kerja Laki-laki"]).similar["workers"]
    ['Jumlah Tenaga Kerja Laki-laki']
    """
    phrases = _phrases()
    parsed = [(str(c), parse_header(str(c))) for c in columns if str(c) not in set(skip)]
    found: dict[str, list[list[str]]] = {}
    similar: dict[str, list[str]] = {}
    for role, ranks in phrases.items():
        groups: dict[int, list[str]] = {}
        near: list[str] = []
        for name, header in parsed:
            rank = ranks.get(header.key)
            if rank is not None and _fits(role, header.unit):
                groups.setdefault(rank, []).append(name)
            elif rank is not None or any(
                len(p) >= 5 and p != header.key and header.key.startswith(p) for p in ranks
            ):
                near.append(name)
        found[role] = [groups[r] for r in sorted(groups)]
        similar[role] = near if not groups else []
    return Detection(found, similar)


# -- units of the measures --------------------------------------------------------------


@dataclass(frozen=True)
class MeasureUnit:
    """The unit of a measure's column and its conversion to the stated unit.

    ``written``: the unit its header states (None: none); ``unit``: the unit its values
    are read in (the option's, else the header's, else the stated unit); ``source``:
    ``option``, ``header`` or ``assumed``; ``factor``: what a value is multiplied by to
    be in ``stated``.
    """

    role: str
    column: str
    written: str | None
    unit: str
    stated: str
    factor: float
    source: Literal["option", "header", "assumed"]

    def to_dict(self) -> dict[str, Any]:
        """The entry of ``summary.json``'s ``records.roles``."""
        return {
            "column": self.column,
            "unit": self.unit,
            "unit_from": self.source,
            "written_unit": self.written,
            "stated_unit": self.stated,
            "factor": self.factor,
        }


def measure_units(
    columns: Mapping[str, str | None], *, options: Mapping[str, str | None] | None = None
) -> dict[str, MeasureUnit]:
    """The unit of each measure column found, and the factor to the stated unit.

    Parameters
    ----------
    columns
        Role -> column name (``vars(Columns)``); roles without a column are left out.
    options
        Role -> unit given by the user (``records.output_unit``,
        ``records.investment_unit``), which overrides the header's.

    Examples
    --------
    >>> units = measure_units({"output": "Nilai Produksi (Rp. 000)", "investment": "investasi"})
    >>> units["output"].factor, units["investment"].factor, units["investment"].source
    (0.001, 1.0, 'assumed')
    >>> measure_units({"output": "Omzet (Rp)"}, options={"output": "Rp juta"})["output"].factor
    1.0
    """
    out: dict[str, MeasureUnit] = {}
    given = options or {}
    for role in MEASURES:
        column = columns.get(role)
        if column is None:
            continue
        stated = STATED_UNITS[role]
        header = parse_header(column)
        written = header.unit if header.unit is not None and header.unit.kind != "none" else None
        if role == "workers":
            out[role] = MeasureUnit(
                role, column, written.name if written else None, stated, stated, 1.0,
                "header" if written else "assumed",
            )  # fmt: skip
            continue
        option = given.get(role)
        unit = parse_unit(option) if option is not None else None
        source: Literal["option", "header", "assumed"] = "option"
        if unit is None or unit.kind != "money":
            unit = written if written is not None and written.kind == "money" else None
            source = "header" if unit is not None else "assumed"
        scale = unit.scale if unit is not None else 1e6
        if option is not None and written is not None and written.scale != scale:
            logger.warning(
                "column %r says its unit is %s; --%s-unit %s overrides it",
                column, written.name, role, option,
            )  # fmt: skip
        out[role] = MeasureUnit(
            role,
            column,
            written.name if written else None,
            unit.name if unit is not None else stated,
            stated,
            scale / 1e6,
            source,
        )
    return out
