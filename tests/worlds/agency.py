"""Registries as agencies hold them, over a regency outside Jawa Tengah (issue 25).

One seeded world of small firms over the real villages of one regency (default Kabupaten
Tulungagung, 35.04, Jawa Timur; also Kabupaten Gianyar, 51.04, Bali) with **planted
sentra** (a few neighbouring villages where many firms of one KBLI class concentrate,
two of them of divisions 01 and 03 whose codes start with a zero) and background firms
over every village. The SAME firms are then written in the shapes agencies hold, one
function per shape, each returning the file and a record of what was planted or typed
(:class:`Written`), so that tests can compare what a reader makes of the file with the
truth:

=====================  ================================================================
:func:`write_truth`     CSV with decimal-degree coordinates inside their villages
:func:`write_dinas`     Dinas Perindustrian workbook: title rows, merged two-row header,
                        column-number row, names only (kind words, typos), KBLI as number
                        cells, units in headers, ``Jumlah`` rows, footnotes, blanks
:func:`write_sheets`    the same, one sheet per kecamatan (no kecamatan column)
:func:`write_siinas`    SIINas/OSS export: area codes only, ``;`` and decimal commas
:func:`write_coordinates`  coordinates as people write them: DMS, decimal minutes, one
                        ``lat, lon`` column, map links, projected metres; some points
                        more than 500 m outside their stated village (``area_mismatch``)
:func:`write_counts`    PODES-style counts per village (wide or long)
:func:`write_names`     village and kecamatan names, with names that only the kecamatan
                        resolves and names nothing resolves (``ambiguous_area``,
                        ``unknown_area``)
=====================  ================================================================

Unknown values (a blank workers, production or investment cell) are part of the world:
every shape that carries a measure leaves the same firms' cells blank, so that every
shape holds the same information as the truth file.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from tests.worlds.places import points_alone_in

__all__ = [
    "GIANYAR",
    "REGENCIES",
    "TULUNGAGUNG",
    "Expected",
    "Planted",
    "Regency",
    "World",
    "Written",
    "duplicated_names",
    "generate",
    "load_regency",
    "typed_kecamatan",
    "typed_villages",
    "typo_table",
    "utm_crs",
    "write_all",
    "write_coordinates",
    "write_counts",
    "write_dinas",
    "write_dinas_csv",
    "write_names",
    "write_sheets",
    "write_siinas",
    "write_truth",
]

#: Seed of :func:`generate` (issue 25).
SEED = 2025
#: Least distance (m) between a planted ``area_mismatch`` point and its stated village:
#: well beyond the 500 m tolerance the issue names, so that no choice of a tolerance up
#: to 1 km and no simplification of a border can call it a match.
MISMATCH_MIN_M = 1500.0
#: Least similarity (rapidfuzz ``fuzz.ratio`` of the lower-case names) between a village
#: name with a planted typo and the true name, and the least margin by which the true
#: name must beat every other village name of the regency: a typo is "small" and has one
#: clear answer.
TYPO_MIN_RATIO = 88.0
TYPO_MARGIN = 8.0
TYPO_MIN_LENGTH = 6


@dataclass(frozen=True)
class Planted:
    """A planted sentra: its KBLI class and its villages (Kemendagri code, firms)."""

    key: str
    label: str
    kbli: str
    villages: tuple[tuple[str, int], ...]

    @property
    def sector(self) -> str:
        return self.kbli[:2]

    @property
    def n_firms(self) -> int:
        return sum(n for _, n in self.villages)


@dataclass(frozen=True)
class Regency:
    """A regency, its planted sentra and its background mix of KBLI classes."""

    code: str
    name: str  # as the boundaries name it ("Kabupaten Tulungagung")
    agency: str  # the Dinas that keeps the IKM list
    planted: tuple[Planted, ...]
    mix: Mapping[str, float]  # KBLI class -> share of the background firms
    background: int  # background firms at size 1.0


#: Kabupaten Tulungagung (Jawa Timur): 271 villages in 19 kecamatan, 16 village names
#: that occur twice (Bono, Wates, Tugu, Kauman, ...). Three planted sentra have such a
#: village at their core or among their members, so a reader that ignores the kecamatan
#: puts them in the wrong place.
TULUNGAGUNG = Regency(
    code="35.04",
    name="Kabupaten Tulungagung",
    agency="Dinas Perindustrian dan Perdagangan Kabupaten Tulungagung",
    planted=(
        Planted(
            "marmer",
            "Kerajinan marmer Campurdarat",
            "23961",
            (("35.04.16.2004", 60), ("35.04.16.2005", 35), ("35.04.16.2006", 30)),
        ),  # Gamping, Campurdarat, Wates (another Wates is in Sumbergempol)
        Planted(
            "ikan",
            "Budidaya ikan air tawar Boyolangu",
            "03226",
            (("35.04.02.2007", 50), ("35.04.02.2006", 30), ("35.04.02.2008", 25)),
        ),  # Bono (another Bono is in Pakel), Kendalbulur, Waung
        Planted(
            "tanaman_hias",
            "Tanaman hias Rejotangan",
            "01301",
            (("35.04.13.2004", 40), ("35.04.13.2001", 25)),
        ),  # Tugu (another Tugu is in Sendang), Tenggur
        Planted(
            "kerupuk",
            "Kerupuk Sumberingin, Ngunut",
            "10794",
            (("35.04.11.2008", 45), ("35.04.11.2007", 30)),
        ),  # Sumberingin Kidul, Sumberingin Kulon (names one word apart)
    ),
    mix={
        "01111": 0.03,
        "01301": 0.02,
        "03226": 0.02,
        "03111": 0.01,
        "10710": 0.12,
        "10794": 0.08,
        "10392": 0.06,
        "10750": 0.05,
        "11040": 0.02,
        "13121": 0.03,
        "14111": 0.05,
        "14120": 0.03,
        "16220": 0.06,
        "16292": 0.04,
        "22299": 0.02,
        "23921": 0.05,
        "23961": 0.03,
        "25999": 0.06,
        "31001": 0.06,
        "32901": 0.04,
        "33121": 0.02,
    },
    background=2000,
)

#: Kabupaten Gianyar (Bali): 70 villages in 7 kecamatan, no repeated village name; names
#: that differ by one word (Batubulan, Batubulan Kangin).
GIANYAR = Regency(
    code="51.04",
    name="Kabupaten Gianyar",
    agency="Dinas Perindustrian dan Perdagangan Kabupaten Gianyar",
    planted=(
        Planted(
            "perak",
            "Kerajinan perak Celuk",
            "32111",
            (("51.04.01.2005", 60), ("51.04.01.2006", 25)),
        ),  # Celuk, Singapadu
        Planted(
            "patung_batu",
            "Patung batu Batubulan",
            "23963",
            (("51.04.01.2001", 45), ("51.04.01.2009", 25)),
        ),  # Batubulan, Batubulan Kangin
        Planted(
            "ikan_laut",
            "Perikanan tangkap Lebih",
            "03111",
            (("51.04.03.2004", 40), ("51.04.03.2001", 22)),
        ),  # Lebih, Tulikup
    ),
    mix={
        "01111": 0.03,
        "03111": 0.02,
        "10710": 0.15,
        "10794": 0.08,
        "11040": 0.03,
        "13121": 0.05,
        "14111": 0.06,
        "16292": 0.10,
        "23963": 0.03,
        "25999": 0.05,
        "31001": 0.06,
        "32111": 0.02,
        "32901": 0.08,
        "33121": 0.02,
    },
    background=700,
)

REGENCIES = {r.code: r for r in (TULUNGAGUNG, GIANYAR)}

#: What the firms of a KBLI class make (the ``Komoditi`` column of a Dinas list).
PRODUCTS = {
    "01111": "Jagung",
    "01301": "Tanaman hias",
    "03111": "Ikan laut",
    "03226": "Ikan lele dan gurami",
    "10710": "Roti dan kue",
    "10794": "Kerupuk",
    "10392": "Keripik singkong",
    "10750": "Makanan siap saji",
    "11040": "Minuman ringan",
    "13121": "Kain tenun",
    "14111": "Konveksi",
    "14120": "Pakaian jadi rajutan",
    "16220": "Kusen dan pintu",
    "16292": "Ukiran kayu",
    "22299": "Barang plastik",
    "23921": "Batu bata",
    "23961": "Kerajinan marmer",
    "23963": "Patung batu",
    "25999": "Barang logam",
    "31001": "Mebel kayu",
    "32111": "Perhiasan perak",
    "32901": "Kerajinan lainnya",
    "33121": "Reparasi mesin",
}

_PREFIX = np.array(["UD", "CV", "UD", "PD", "KUB", "IRT", "", ""])
# fmt: off
_WORDS = np.array([
    "Sumber", "Rejeki", "Jaya", "Makmur", "Abadi", "Sentosa", "Mulya", "Barokah", "Karya",
    "Maju", "Lancar", "Sari", "Sejahtera", "Mandiri", "Agung", "Putra", "Putri", "Tunggal",
    "Sinar", "Harapan", "Berkah", "Indah", "Utama", "Mekar", "Luhur", "Rahayu", "Santoso",
    "Widodo", "Manunggal", "Gemilang",
])
_OWNERS = np.array([
    "Suparman", "Sutrisno", "Siti Aminah", "Sri Wahyuni", "Mujiono", "Slamet", "Ngatini",
    "Wagiman", "Suwarni", "Bambang", "Eko Prasetyo", "Dwi Lestari", "Tri Handayani",
    "Agus Salim", "Nur Hidayah", "Ketut Sudana", "Made Wirawan", "Wayan Sukarta",
    "Nyoman Ariani", "Kadek Suartini",
])
# fmt: on
_DUSUN = np.array(["Krajan", "Dukuh", "Sumber", "Ngemplak", "Banjar Kaja", "Tegal"])


@dataclass(frozen=True)
class World:
    """The firms of one regency and the planted truth.

    ``firms`` (one row per firm, in no order of place or sector): ``id`` (a 13-digit NIB,
    text), ``nama_usaha``, ``pemilik``, ``alamat``, ``kbli`` (five digits, text),
    ``komoditi``, ``tenaga_kerja`` (float, NaN where the agency does not know it),
    ``nilai_produksi`` and ``nilai_investasi`` (Rp, float, NaN where unknown), ``lat``,
    ``lon`` (six decimals, inside the village and no other), ``area_code`` (the
    village), ``desa`` (its name), ``kecamatan_code``, ``kecamatan`` and ``planted`` (the
    sentra key, "" for background firms). ``truth``: one row per planted sentra (``key``,
    ``label``, ``sector``, ``kbli``, ``area_codes`` ``;``-joined, ``core_area``,
    ``n_firms``), the shape :func:`tests.worlds.demo_truth.score_recovery` reads. ``villages``:
    the regency's desa (index ``area_code``; ``name``, ``kecamatan_code``,
    ``kecamatan``, ``geometry``).
    """

    regency: Regency
    villages: gpd.GeoDataFrame
    firms: pd.DataFrame
    truth: pd.DataFrame
    seed: int

    @property
    def n_firms(self) -> int:
        return len(self.firms)

    def counts(self, digits: int = 2) -> pd.DataFrame:
        """Firms per village (rows: every village) and sector (columns), zeros kept."""
        sector = self.firms["kbli"].str[:digits]
        table = pd.crosstab(self.firms["area_code"], sector)
        return table.reindex(self.villages.index, fill_value=0)


@dataclass(frozen=True)
class Expected:
    """What a reader of a written file should report, from what was planted.

    ``read``: records the file holds (firms and the rows that should be rejected; not
    title, header, totals or footnote rows). ``kept``: firms kept. ``rejected``: reason
    -> record ids. ``skipped``: row numbers (1-based, as a spreadsheet shows them; for a
    workbook of several sheets, ``"sheet!row"``) that are not records: totals rows and
    footnotes. ``placement``: how each kept firm is placed (record id -> ``point``,
    ``code`` or ``name``). ``repaired``: reason -> record ids listed in ``repaired.csv``.
    """

    read: int
    kept: int
    rejected: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    placement: Mapping[str, str] = field(default_factory=dict)
    repaired: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Written:
    """A written file, its shape, what a reader should report and what was typed.

    ``features`` names what the file holds, for tests of the file itself (which rows are
    titles, headers and totals, the header texts per role, the unit of each amount, the
    planted typos, ...); each writer's docstring lists its keys.
    """

    path: Path
    shape: str
    expected: Expected
    features: Mapping[str, Any]


# -- the world -------------------------------------------------------------------------


def load_regency(data_dir: str | Path, code: str = TULUNGAGUNG.code) -> gpd.GeoDataFrame:
    """The regency's villages from the real boundaries (``desa.parquet`` and
    ``kecamatan.parquet`` of ``data_dir``), with their kecamatan code and name.

    Parameters
    ----------
    data_dir
        Folder of the boundaries (``KLASTERGEO_DATA_DIR``).
    code
        The regency's dotted code.
    """
    from klastergeo.io import boundaries
    from tests.worlds import places

    villages = places.load(data_dir, code)
    names = boundaries.load_names("kecamatan", area=code, source=data_dir)
    villages = villages.to_crs(4326)
    kec = villages.index.str[:8]
    villages["kecamatan_code"] = kec
    villages["kecamatan"] = names.reindex(kec).to_numpy()
    return villages[["name", "kecamatan_code", "kecamatan", "geometry"]]


def utm_crs(villages: gpd.GeoDataFrame) -> str:
    """The UTM zone (south) of the villages' centre, as an EPSG code."""
    minx, _, maxx, _ = villages.total_bounds
    zone = int(((minx + maxx) / 2 + 180) // 6) + 1
    return f"EPSG:{32700 + zone}"


def generate(
    villages: gpd.GeoDataFrame,
    *,
    regency: Regency = TULUNGAGUNG,
    size: float = 1.0,
    seed: int = SEED,
    unknown_share: Mapping[str, float] | None = None,
) -> World:
    """The firms of ``regency``: background firms over every village (more in kelurahan
    and large villages) and the planted sentra.

    Parameters
    ----------
    villages
        The regency's villages (:func:`load_regency`).
    regency
        Which regency, with its planted sentra and background mix.
    size
        Scale of the firm counts (background and planted): 1.0 gives a few thousand
        firms, fast in tests; 10 a larger registry.
    seed
        Seed of every draw.
    unknown_share
        Share of firms whose ``tenaga_kerja``, ``nilai_produksi``, ``nilai_investasi``
        the agency does not know (blank cells); default 3 %, 6 %, 12 %.
    """
    rng = np.random.default_rng(seed)
    codes = villages.index.to_numpy(dtype=object)
    missing = [c for p in regency.planted for c, _ in p.villages if c not in villages.index]
    if missing:
        raise ValueError(f"planted villages not in the boundaries of {regency.code}: {missing}")
    area = villages.to_crs(utm_crs(villages)).area.to_numpy() / 1e6
    urban = villages.index.str[9].to_numpy() == "1"  # kelurahan codes start with 1
    weight = np.where(urban, 3.0, 1.0) * (1.0 + 0.1 * area) * rng.gamma(3.0, 1 / 3, len(codes))
    n_background = round(regency.background * size)
    owner_bg = np.repeat(
        np.arange(len(codes)), rng.multinomial(n_background, weight / weight.sum())
    )
    classes = np.array(list(regency.mix))
    shares = np.array(list(regency.mix.values()))
    kbli_bg = rng.choice(classes, size=len(owner_bg), p=shares / shares.sum())
    position = pd.Series(np.arange(len(codes)), index=codes)
    sizes = [max(1, round(n * size)) for p in regency.planted for _, n in p.villages]
    owner_p = np.repeat(
        position[[c for p in regency.planted for c, _ in p.villages]].to_numpy(), sizes
    )
    kbli_p = np.repeat([p.kbli for p in regency.planted for _ in p.villages], sizes)
    key_p = np.repeat([p.key for p in regency.planted for _ in p.villages], sizes)
    owner = np.concatenate([owner_bg, owner_p])
    kbli = np.concatenate([kbli_bg, kbli_p]).astype(object)
    planted = np.concatenate([np.full(len(owner_bg), ""), key_p]).astype(object)
    n = len(owner)
    lon, lat = points_alone_in(villages, owner, rng)
    workers = np.maximum(1, np.round(np.exp(rng.normal(1.1, 0.7, n)))).astype(float)
    output = np.round(workers * np.exp(rng.normal(np.log(25.0), 0.5, n)) * 1e6, -3)
    investment = np.round(output * np.exp(rng.normal(np.log(0.4), 0.6, n)), -3)
    share = {"tenaga_kerja": 0.03, "nilai_produksi": 0.06, "nilai_investasi": 0.12}
    share.update(unknown_share or {})
    measures = {"tenaga_kerja": workers, "nilai_produksi": output, "nilai_investasi": investment}
    for column, values in measures.items():
        values[rng.random(n) < share[column]] = np.nan
    nib = 9_120_000_000_000 + rng.choice(900_000_000, size=n, replace=False)
    names = pd.Series(rng.choice(_PREFIX, n)) + " " + rng.choice(_WORDS, n)
    names = (names + " " + rng.choice(_WORDS, n)).str.strip()
    address = (
        "Dsn. "
        + pd.Series(rng.choice(_DUSUN, n))
        + " RT "
        + pd.Series(rng.integers(1, 12, n)).astype(str).str.zfill(3)
        + " RW "
        + pd.Series(rng.integers(1, 6, n)).astype(str).str.zfill(3)
    )
    firms = pd.DataFrame(
        {
            "id": nib.astype(str),
            "nama_usaha": names.to_numpy(),
            "pemilik": rng.choice(_OWNERS, n),
            "alamat": address.to_numpy(),
            "kbli": kbli,
            "komoditi": pd.Series(kbli).map(PRODUCTS).to_numpy(),
            "tenaga_kerja": workers,
            "nilai_produksi": output,
            "nilai_investasi": investment,
            "lat": lat,
            "lon": lon,
            "area_code": codes[owner],
            "desa": villages["name"].to_numpy()[owner],
            "kecamatan_code": villages["kecamatan_code"].to_numpy()[owner],
            "kecamatan": villages["kecamatan"].to_numpy()[owner],
            "planted": planted,
        }
    )
    firms = firms.iloc[rng.permutation(n)].reset_index(drop=True)
    truth = pd.DataFrame(
        [
            {
                "key": p.key,
                "label": p.label,
                "sector": p.sector,
                "kbli": p.kbli,
                "area_codes": ";".join(c for c, _ in p.villages),
                "core_area": p.villages[0][0],
                "n_firms": int((firms["planted"] == p.key).sum()),
            }
            for p in regency.planted
        ]
    )
    return World(regency=regency, villages=villages, firms=firms, truth=truth, seed=seed)


def _rng(world: World, salt: int) -> np.random.Generator:
    """A generator of its own for each writer, so that writing one shape does not change
    another."""
    return np.random.default_rng([world.seed, salt])


def _background(world: World, k: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """``k`` positions of background firms (never a planted one: the planted sentra stay
    whole whatever happens to the chosen records)."""
    pool = np.flatnonzero(world.firms["planted"].to_numpy() == "")
    return np.sort(rng.choice(pool, size=k, replace=False))


# -- names as typed ---------------------------------------------------------------------


def duplicated_names(villages: gpd.GeoDataFrame) -> pd.Series:
    """Village names (lower case) that occur more than once in the regency -> codes."""
    lower = villages["name"].str.lower()
    repeated = lower[lower.duplicated(keep=False)]
    return repeated.groupby(repeated).apply(lambda s: tuple(sorted(s.index)))


def _one_edit(name: str, rng: np.random.Generator) -> list[tuple[str, str]]:
    """Single-edit variants of a name as typists make them (never the first letter; none
    for names shorter than :data:`TYPO_MIN_LENGTH`, where one letter is too much of the
    name): a letter dropped, a letter doubled, two letters swapped, a vowel for another."""
    out: list[tuple[str, str]] = []
    if len(name) < TYPO_MIN_LENGTH:
        return out
    letters = [i for i in range(1, len(name)) if name[i].isalpha()]
    for i in rng.permutation(letters)[:6]:
        i = int(i)
        out.append((name[:i] + name[i + 1 :], "dropped"))
        out.append((name[:i] + name[i] + name[i:], "doubled"))
        if i + 1 < len(name) and name[i + 1].isalpha() and name[i + 1] != name[i]:
            out.append((name[:i] + name[i + 1] + name[i] + name[i + 2 :], "swapped"))
        vowels = {"a": "o", "o": "a", "e": "i", "i": "e", "u": "o"}
        if name[i].lower() in vowels:
            swap = vowels[name[i].lower()]
            out.append(
                (name[:i] + (swap.upper() if name[i].isupper() else swap) + name[i + 1 :], "vowel")
            )
    return out


def typo_table(villages: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """For each village name, up to three one-edit variants that are still clearly that
    name: similarity to it at least :data:`TYPO_MIN_RATIO`, and better than to any other
    village name of the regency by :data:`TYPO_MARGIN` (a loop over the distinct names).

    Returns one row per variant: ``name``, ``typo``, ``kind``, ``ratio``, ``runner_up``.
    """
    names = sorted(set(villages["name"]))
    lower = [n.lower() for n in names]
    rows = []
    for name in names:  # the distinct village names (a few hundred)
        kept = 0
        for typo, kind in _one_edit(name, rng):
            if kept == 3:
                break
            if typo.lower() in lower:
                continue
            best = process.extract(typo.lower(), lower, scorer=fuzz.ratio, limit=3)
            mine = fuzz.ratio(typo.lower(), name.lower())
            others = [score for other, score, _ in best if other != name.lower()]
            runner = others[0] if others else 0.0
            if mine >= TYPO_MIN_RATIO and mine - runner >= TYPO_MARGIN:
                rows.append(
                    {"name": name, "typo": typo, "kind": kind, "ratio": mine, "runner_up": runner}
                )
                kept += 1
    return pd.DataFrame(rows, columns=["name", "typo", "kind", "ratio", "runner_up"])


#: Kind words before a village name as lists write them, with their shares (the rest is
#: the bare name): desa (codes x.x.x.2xxx) and kelurahan (x.x.x.1xxx).
DESA_WORDS = {"Ds. ": 0.25, "Desa ": 0.15, "DS. ": 0.05}
KELURAHAN_WORDS = {"Kel. ": 0.35, "Kelurahan ": 0.15}
KECAMATAN_WORDS = {"Kec. ": 0.3, "Kecamatan ": 0.05}


def _with_words(
    names: pd.Series, kelurahan: NDArray[np.bool_], rng: np.random.Generator
) -> tuple[pd.Series, pd.Series]:
    """Names with a kind word in front for a share of them (and a share in capitals)."""
    u = rng.random(len(names))
    word = np.full(len(names), "", dtype=object)
    for words, where in ((DESA_WORDS, ~kelurahan), (KELURAHAN_WORDS, kelurahan)):
        edges = np.cumsum(list(words.values()))
        pick = np.searchsorted(edges, u, side="right")
        hit = where & (pick < len(words))
        word[hit] = np.array(list(words), dtype=object)[pick[hit]]
    out = pd.Series(word, index=names.index) + names
    upper = rng.random(len(names)) < 0.15
    out[upper] = out[upper].str.upper()
    return out, pd.Series(word, index=names.index).str.strip()


def typed_villages(
    world: World, rng: np.random.Generator, *, typo_share: float = 0.05
) -> tuple[pd.Series, pd.DataFrame, pd.Series]:
    """Each firm's village name as typed: kind words, capitals and a share of one-edit
    typos (only such that the name stays clearly itself, see :func:`typo_table`).

    Returns the typed names (aligned with ``world.firms``), the planted typos (``id``,
    ``written``, ``true``, ``kind``, ``ratio``) and the kind word of each firm.
    """
    firms = world.firms
    table = typo_table(world.villages if typo_share > 0 else world.villages.iloc[:0], rng)
    names = firms["desa"].copy()
    chosen = rng.random(len(firms)) < typo_share
    has = firms["desa"].isin(table["name"]).to_numpy()
    victims = np.flatnonzero(chosen & has)
    per_name = table.groupby("name").indices
    picks = []
    for name, rows in (
        firms["desa"].iloc[victims].groupby(firms["desa"].iloc[victims]).indices.items()
    ):
        options = per_name[name]  # a loop over the distinct victim names
        picks.append(pd.Series(rng.choice(options, len(rows)), index=victims[rows]))
    pick = pd.concat(picks).sort_index() if picks else pd.Series(dtype=int)
    names.iloc[pick.index] = table["typo"].to_numpy()[pick.to_numpy()]
    typed, words = _with_words(names, firms["area_code"].str[9].to_numpy() == "1", rng)
    typos = pd.DataFrame(
        {
            "id": firms["id"].to_numpy()[pick.index],
            "written": typed.to_numpy()[pick.index],
            "true": firms["desa"].to_numpy()[pick.index],
            "kind": table["kind"].to_numpy()[pick.to_numpy()],
            "ratio": table["ratio"].to_numpy()[pick.to_numpy()],
        }
    )
    return typed, typos, words


def typed_kecamatan(names: pd.Series, rng: np.random.Generator) -> pd.Series:
    """Kecamatan names as typed: ``Kec.`` in front of a share, capitals for another."""
    u = rng.random(len(names))
    edges = np.cumsum(list(KECAMATAN_WORDS.values()))
    pick = np.searchsorted(edges, u, side="right")
    words = np.array([*KECAMATAN_WORDS, ""], dtype=object)[pick]
    out = pd.Series(words, index=names.index) + names
    upper = rng.random(len(names)) < 0.15
    out[upper] = out[upper].str.upper()
    return out


# -- a. the truth -------------------------------------------------------------------------


def _plain(values: pd.Series, digits: int = 0) -> pd.Series:
    """Numbers as text with a decimal point, blank where missing."""
    numbers = pd.to_numeric(values).to_numpy(dtype=float)
    text = np.char.mod(f"%.{digits}f", numbers).astype(object)
    text[np.isnan(numbers)] = ""
    return pd.Series(text, index=values.index)


def write_truth(world: World, folder: str | Path, *, name: str = "truth.csv") -> Written:
    """The firms with decimal-degree coordinates (``,``, a decimal point, six decimals):
    what the other shapes are compared with.

    Columns ``id_usaha`` (the NIB, text), ``nama_usaha``, ``kbli`` (text, five digits),
    ``tenaga_kerja``, ``nilai_produksi``, ``investasi`` (Rp; blank where unknown),
    ``lintang``, ``bujur``. Features: ``columns``.
    """
    firms = world.firms
    frame = pd.DataFrame(
        {
            "id_usaha": firms["id"],
            "nama_usaha": firms["nama_usaha"],
            "kbli": firms["kbli"],
            "tenaga_kerja": _plain(firms["tenaga_kerja"]),
            "nilai_produksi": _plain(firms["nilai_produksi"]),
            "investasi": _plain(firms["nilai_investasi"]),
            "lintang": _plain(firms["lat"], 6),
            "bujur": _plain(firms["lon"], 6),
        }
    )
    path = Path(folder) / name
    frame.to_csv(path, index=False)
    n = len(frame)
    return Written(
        path=path,
        shape="truth",
        expected=Expected(read=n, kept=n, placement=dict.fromkeys(firms["id"], "point")),
        features={"columns": list(frame.columns)},
    )


# -- b. and c. Dinas Perindustrian workbooks ---------------------------------------------------------


#: Labels of a kecamatan's totals row and of the grand total, as lists write them.
TOTAL_LABELS = ("Jumlah", "JUMLAH", "Jumlah Kec. {kec}", "Sub Jumlah")
GRAND_LABELS = ("JUMLAH TOTAL", "Total", "JUMLAH KABUPATEN")

_MERGED_HEADER = (
    # (top cell, bottom cell or None when the top cell spans both rows, role)
    ("No", None, None),
    ("Nama Perusahaan", None, "name"),
    ("Nama Pemilik", None, None),
    ("NIB", None, "id"),
    ("KBLI", None, "sector"),
    ("Komoditi", None, None),
    ("Alamat", None, None),
    ("Lokasi", "Desa/Kelurahan", "desa"),
    ("Lokasi", "Kecamatan", "kecamatan"),
    ("Tenaga Kerja (orang)", None, "workers"),
    ("Nilai (Rp)", "Produksi", "output"),
    ("Nilai (Rp)", "Investasi", "investment"),
)
_FLAT_HEADER = (
    ("No", None),
    ("Nama Perusahaan", "name"),
    ("Nama Pemilik", None),
    ("NIB", "id"),
    ("KBLI", "sector"),
    ("Komoditi", None),
    ("Alamat", None),
    ("Desa/Kelurahan", "desa"),
    ("Kecamatan", "kecamatan"),
    ("Tenaga Kerja (orang)", "workers"),
    ("Nilai Produksi (Rp)", "output"),
    ("Nilai Investasi (Rp. 000)", "investment"),
)
#: Rupiah per unit of each amount's column, by header style.
UNITS = {"merged": {"output": 1, "investment": 1}, "flat": {"output": 1, "investment": 1000}}


def _cells(values: pd.Series, unit: int = 1) -> list[Any]:
    """Numbers as Excel number cells (int when whole), None (a blank cell) where missing."""
    scaled = (values / unit).to_numpy(dtype=float)
    missing = np.isnan(scaled)
    whole = ~missing & (scaled == np.round(scaled))
    out = scaled.astype(object)
    out[whole] = np.round(scaled[whole]).astype(np.int64).astype(object)
    out[missing] = None
    return out.tolist()


def _firm_rows(
    world: World, rng: np.random.Generator, *, style: str, typo_share: float
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """The firms as a Dinas list holds them (sorted by kecamatan and village, values as
    cells), the planted typos and the kind words."""
    firms = world.firms
    desa, typos, words = typed_villages(world, rng, typo_share=typo_share)
    kec = typed_kecamatan(firms["kecamatan"], rng)
    unit = UNITS[style]
    table = pd.DataFrame(
        {
            "id": firms["id"],
            "kecamatan_code": firms["kecamatan_code"],
            "sort": firms["desa"],
            "name": firms["nama_usaha"],
            "owner": firms["pemilik"],
            "nib": firms["id"].astype(np.int64),
            "kbli": firms["kbli"].astype(int),  # a number cell: 03226 -> 3226
            "product": firms["komoditi"],
            "address": firms["alamat"],
            "desa": desa,
            "kecamatan": kec,
            "workers": _cells(firms["tenaga_kerja"]),
            "output": _cells(firms["nilai_produksi"], unit["output"]),
            "investment": _cells(firms["nilai_investasi"], unit["investment"]),
        }
    )
    table = table.sort_values(["kecamatan_code", "sort", "id"], kind="stable")
    return table, typos, words


def _sum(values: pd.Series) -> Any:
    total = pd.to_numeric(values, errors="coerce").sum(min_count=1)
    return None if pd.isna(total) else (int(total) if float(total).is_integer() else float(total))


def _title(world: World, what: str) -> list[str]:
    return [
        f"DATA INDUSTRI KECIL DAN MENENGAH (IKM) {what}",
        f"{world.regency.name.upper()} TAHUN 2024",
    ]


def _footer(world: World, ws: Any, row: int, *, signature: bool) -> list[int]:
    """Footnotes below a table from ``row`` on (a blank row first); their row numbers."""
    place = world.regency.name.split(" ", 1)[1]
    rows = [
        (1, f"Sumber: {world.regency.agency}"),
        (1, "Keterangan: sel kosong = data tidak tersedia"),
    ]
    if signature:  # the signature block sits on the right, over the amounts' columns
        rows += [
            (10, f"{place}, 30 Desember 2024"),
            (10, "Kepala Dinas Perindustrian dan Perdagangan"),
            (10, "Drs. Bambang Setiawan, M.Si"),
            (10, "NIP. 19680412 199303 1 007"),
        ]
    written = []
    r = row + 1  # one blank row between the table and its notes
    for column, text in rows:
        ws.cell(row=r, column=column, value=text)
        written.append(r)
        r += 1 if column == 1 or "Kepala" not in text else 3  # room for the signature
    return written


def write_dinas(
    world: World,
    folder: str | Path,
    *,
    name: str = "dinas_ikm.xlsx",
    style: Literal["merged", "flat"] = "merged",
    typo_share: float = 0.05,
) -> Written:
    """The Dinas Perindustrian list of IKM as one sheet (``IKM 2024``): names only.

    Two title rows (``DATA INDUSTRI KECIL DAN MENENGAH (IKM) ...``, ``KABUPATEN ...
    TAHUN 2024``) and a blank row; a header of two rows (``style="merged"``: ``Lokasi``
    merged over ``Desa/Kelurahan`` and ``Kecamatan``, ``Nilai (Rp)`` over ``Produksi`` and
    ``Investasi``, the other header cells merged down both rows) or one row
    (``style="flat"``: ``Nilai Produksi (Rp)``, ``Nilai Investasi (Rp. 000)``); a row of
    column numbers (1, 2, ...); the firms grouped by kecamatan, each group closed by a
    ``Jumlah`` row (sums of workers and amounts; label in the name column, or merged over
    the first nine columns in the merged style) and a grand total at the end; footnotes
    (``Sumber: ...``, ``Keterangan: ...``, a signature block on the right). Village names
    carry kind words (``Ds.``, ``Desa``, ``Kel.``), capitals and a share of one-edit
    typos; kecamatan names ``Kec.``; KBLI codes and NIBs are number cells (``03226`` is
    written 3226); unknown values are blank cells.

    Features: ``sheet``, ``title_rows``, ``header_rows``, ``number_row``, ``first_row``
    (of the firms), ``firm_rows`` (id -> row), ``totals_rows`` (kecamatan code -> row),
    ``grand_total_row``, ``footnote_rows``, ``merged`` (the merged ranges), ``headers``
    (role -> header text, the two rows joined by a space), ``units`` (role -> Rp per
    unit), ``typos`` (DataFrame), ``kind_words`` (word -> firms), ``lost_zero`` (ids whose
    KBLI lost its leading zero), ``blank`` (role -> ids with a blank cell).
    """
    from openpyxl import Workbook

    rng = _rng(world, 1)
    table, typos, words = _firm_rows(world, rng, style=style, typo_share=typo_share)
    wb = Workbook()
    ws = wb.active
    ws.title = "IKM 2024"
    titles = _title(world, "")
    for r, text in enumerate(titles, start=1):
        ws.cell(row=r, column=1, value=text.strip())
    top = len(titles) + 2  # a blank row between the titles and the header
    headers: dict[str, str] = {}
    merged: list[str] = []
    if style == "merged":
        header_rows = [top, top + 1]
        col = 1
        while col <= len(_MERGED_HEADER):
            text, below, _ = _MERGED_HEADER[col - 1]
            span = [i for i, h in enumerate(_MERGED_HEADER, start=1) if h[0] == text]
            ws.cell(row=top, column=col, value=text)
            if below is None:
                _merge(ws, merged, top, col, top + 1, col)
            else:
                _merge(ws, merged, top, span[0], top, span[-1])
                for c in span:
                    ws.cell(row=top + 1, column=c, value=_MERGED_HEADER[c - 1][1])
            col = span[-1] + 1
        for text, below, role in _MERGED_HEADER:
            if role is not None:
                headers[role] = text if below is None else f"{text} {below}"
        roles_order = [h[2] for h in _MERGED_HEADER]
    else:
        header_rows = [top]
        for c, (text, role) in enumerate(_FLAT_HEADER, start=1):
            ws.cell(row=top, column=c, value=text)
            if role is not None:
                headers[role] = text
        roles_order = [h[1] for h in _FLAT_HEADER]
    number_row = header_rows[-1] + 1
    for c in range(1, len(roles_order) + 1):
        ws.cell(row=number_row, column=c, value=c)
    row = number_row + 1
    first_row = row
    firm_rows: dict[str, int] = {}
    totals_rows: dict[str, int] = {}
    columns = ["name", "owner", "nib", "kbli", "product", "address", "desa", "kecamatan"]
    amounts = ["workers", "output", "investment"]
    kec_names = _kecamatan_names(world)
    number = 1
    for k, (kec_code, group) in enumerate(table.groupby("kecamatan_code", sort=True)):
        values = group[["id", *columns, *amounts]].to_numpy(dtype=object).tolist()
        for record in values:  # cells are written one by one (openpyxl has no bulk write)
            for c, value in enumerate([number, *record[1:]], start=1):
                ws.cell(row=row, column=c, value=value)
            firm_rows[record[0]] = row
            row += 1
            number += 1
        label = TOTAL_LABELS[k % len(TOTAL_LABELS)].format(kec=kec_names[str(kec_code)])
        _totals(ws, row, label, group, style, merged)
        totals_rows[str(kec_code)] = row
        row += 1
    grand = GRAND_LABELS[int(rng.integers(len(GRAND_LABELS)))]
    _totals(ws, row, grand, table, style, merged)
    grand_row = row
    footnotes = _footer(world, ws, row, signature=True)
    path = Path(folder) / name
    wb.save(path)
    firms = world.firms
    return Written(
        path=path,
        shape=f"dinas-{style}",
        expected=Expected(
            read=len(firms),
            kept=len(firms),
            skipped=tuple(str(r) for r in [*totals_rows.values(), grand_row, *footnotes]),
            placement=dict.fromkeys(firms["id"], "name"),
        ),
        features={
            "sheet": ws.title,
            "title_rows": list(range(1, len(titles) + 1)),
            "header_rows": header_rows,
            "number_row": number_row,
            "first_row": first_row,
            "firm_rows": firm_rows,
            "totals_rows": totals_rows,
            "grand_total_row": grand_row,
            "footnote_rows": footnotes,
            "merged": merged,
            "headers": headers,
            "units": UNITS[style],
            "typos": typos,
            "kind_words": words[words != ""].value_counts().to_dict(),
            "lost_zero": tuple(firms.loc[firms["kbli"].str.startswith("0"), "id"]),
            "blank": _blanks(firms),
        },
    )


def _merge(ws: Any, merged: list[str], r1: int, c1: int, r2: int, c2: int) -> None:
    """Merge a range of cells and note it (``A4:A5``)."""
    from openpyxl.utils import get_column_letter

    coord = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"
    ws.merge_cells(coord)
    merged.append(coord)


def _kecamatan_names(world: World) -> dict[str, str]:
    v = world.villages
    return dict(zip(v["kecamatan_code"], v["kecamatan"], strict=True))


def _blanks(firms: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    columns = {
        "workers": "tenaga_kerja",
        "output": "nilai_produksi",
        "investment": "nilai_investasi",
    }
    return {role: tuple(firms.loc[firms[c].isna(), "id"]) for role, c in columns.items()}


def _totals(
    ws: Any, row: int, label: str, group: pd.DataFrame, style: str, merged: list[str]
) -> None:
    """A totals row: the label (merged over the first nine columns in the merged style,
    else in the name column) and the sums of workers and amounts (blank cells skipped)."""
    if style == "merged":
        ws.cell(row=row, column=1, value=label)
        _merge(ws, merged, row, 1, row, 9)
    else:
        ws.cell(row=row, column=2, value=label)
    for c, column in ((10, "workers"), (11, "output"), (12, "investment")):
        ws.cell(row=row, column=c, value=_sum(group[column]))


def write_sheets(
    world: World,
    folder: str | Path,
    *,
    name: str = "dinas_per_kecamatan.xlsx",
    typo_share: float = 0.05,
    summary_sheet: bool = False,
) -> Written:
    """The Dinas list as one sheet per kecamatan, named after it (``Campurdarat``,
    ``Kec. Ngunut``, ``BOYOLANGU``, as typed): no kecamatan column, the sheet's name
    stands for it.

    Each sheet: two title rows (``DATA IKM KECAMATAN ...``, ``KABUPATEN ... TAHUN
    2024``), a blank row, a one-row header (``Desa/Kelurahan``, ``Tenaga Kerja (orang)``,
    ``Nilai Produksi (Rp)``, ``Nilai Investasi (Rp. 000)``, ...), a row of column numbers,
    the firms, a ``Jumlah`` row and a ``Sumber:`` footnote. With ``summary_sheet`` a first
    sheet ``REKAP`` holds firms per kecamatan (a table of counts, not firms).

    Features: ``sheets`` (sheet name -> kecamatan code), ``firms_per_sheet``,
    ``header_row``, ``number_row``, ``firm_rows`` (id -> ``"sheet!row"``),
    ``totals_rows`` (sheet -> row), ``footnote_rows`` (sheet -> rows), ``headers``,
    ``units``, ``typos``, ``kind_words``, ``lost_zero``, ``blank``, ``summary_sheet``.
    """
    from openpyxl import Workbook

    rng = _rng(world, 2)
    table, typos, words = _firm_rows(world, rng, style="flat", typo_share=typo_share)
    header = [(t, r) for t, r in _FLAT_HEADER if r != "kecamatan"]
    columns = ["name", "owner", "nib", "kbli", "product", "address", "desa"]
    kec_names = _kecamatan_names(world)
    wb = Workbook()
    first = wb.active
    sheets: dict[str, str] = {}
    per_sheet: dict[str, int] = {}
    firm_rows: dict[str, str] = {}
    totals_rows: dict[str, int] = {}
    footnote_rows: dict[str, list[int]] = {}
    if summary_sheet:
        first.title = "REKAP"
        first.append([f"REKAP IKM {world.regency.name.upper()} TAHUN 2024"])
        first.append([])
        first.append(["No", "Kecamatan", "Jumlah IKM", "Tenaga Kerja (orang)"])
        for i, (kec_code, group) in enumerate(table.groupby("kecamatan_code", sort=True), 1):
            first.append([i, kec_names[str(kec_code)], len(group), _sum(group["workers"])])
    else:
        wb.remove(first)
    header_row, number_row = 4, 5
    for k, (kec_code, group) in enumerate(table.groupby("kecamatan_code", sort=True)):
        kec = kec_names[str(kec_code)]
        sheet = (kec, f"Kec. {kec}", kec.upper())[k % 3][:31]
        ws = wb.create_sheet(sheet)
        sheets[sheet] = str(kec_code)
        per_sheet[sheet] = len(group)
        ws.cell(row=1, column=1, value=f"DATA IKM KECAMATAN {kec.upper()}")
        ws.cell(row=2, column=1, value=f"{world.regency.name.upper()} TAHUN 2024")
        for c, (text, _) in enumerate(header, start=1):
            ws.cell(row=header_row, column=c, value=text)
            ws.cell(row=number_row, column=c, value=c)
        row = number_row + 1
        values = group[["id", *columns, "workers", "output", "investment"]]
        for number, record in enumerate(values.to_numpy(dtype=object).tolist(), start=1):
            for c, value in enumerate([number, *record[1:]], start=1):
                ws.cell(row=row, column=c, value=value)
            firm_rows[record[0]] = f"{sheet}!{row}"
            row += 1
        ws.cell(row=row, column=2, value="Jumlah")
        for c, column in ((9, "workers"), (10, "output"), (11, "investment")):
            ws.cell(row=row, column=c, value=_sum(group[column]))
        totals_rows[sheet] = row
        ws.cell(row=row + 2, column=1, value=f"Sumber: {world.regency.agency}")
        footnote_rows[sheet] = [row + 2]
    path = Path(folder) / name
    wb.save(path)
    firms = world.firms
    skipped = [f"{s}!{r}" for s, r in totals_rows.items()]
    skipped += [f"{s}!{r}" for s, rows in footnote_rows.items() for r in rows]
    return Written(
        path=path,
        shape="dinas-sheets",
        expected=Expected(
            read=len(firms),
            kept=len(firms),
            skipped=tuple(skipped),
            placement=dict.fromkeys(firms["id"], "name"),
        ),
        features={
            "sheets": sheets,
            "firms_per_sheet": per_sheet,
            "header_row": header_row,
            "number_row": number_row,
            "firm_rows": firm_rows,
            "totals_rows": totals_rows,
            "footnote_rows": footnote_rows,
            "headers": {role: text for text, role in header if role is not None},
            "units": UNITS["flat"],
            "typos": typos,
            "kind_words": words[words != ""].value_counts().to_dict(),
            "lost_zero": tuple(firms.loc[firms["kbli"].str.startswith("0"), "id"]),
            "blank": _blanks(firms),
            "summary_sheet": summary_sheet,
        },
    )


def write_dinas_csv(
    world: World,
    folder: str | Path,
    *,
    name: str = "dinas_ikm.csv",
    typo_share: float = 0.05,
) -> Written:
    """The Dinas list as Excel saves it "as CSV" in an Indonesian locale: ``;``-separated,
    one header row (``Desa/Kelurahan``, ``Kecamatan``, ``Tenaga Kerja (orang)``,
    ``Nilai Produksi (Rp)``, ``Nilai Investasi (Rp. 000)``), no titles or totals, KBLI codes
    as the number cells showed them (``3226`` for ``03226``), village names as typed (kind
    words, capitals, the same share of one-edit typos as :func:`write_dinas`), blanks for
    unknown values. The names shape without the workbook's layout.

    Features: ``typos``, ``kind_words``, ``lost_zero``, ``blank``, ``units``, ``headers``.
    """
    rng = _rng(world, 6)
    table, typos, words = _firm_rows(world, rng, style="flat", typo_share=typo_share)
    columns = {
        text: key
        for (text, _), key in zip(
            _FLAT_HEADER,
            [
                "",
                "name",
                "owner",
                "nib",
                "kbli",
                "product",
                "address",
                "desa",
                "kecamatan",
                "workers",
                "output",
                "investment",
            ],
            strict=True,
        )
        if key
    }
    frame = pd.DataFrame({text: table[key].to_numpy() for text, key in columns.items()})
    for text in ("Tenaga Kerja (orang)", "Nilai Produksi (Rp)", "Nilai Investasi (Rp. 000)"):
        frame[text] = _plain(pd.Series(frame[text].to_numpy(dtype=float)))
    path = Path(folder) / name
    frame.to_csv(path, sep=";", index=False, encoding="utf-8")
    firms = world.firms
    return Written(
        path=path,
        shape="dinas-csv",
        expected=Expected(
            read=len(firms), kept=len(firms), placement=dict.fromkeys(firms["id"], "name")
        ),
        features={
            "typos": typos,
            "kind_words": words[words != ""].value_counts().to_dict(),
            "lost_zero": tuple(firms.loc[firms["kbli"].str.startswith("0"), "id"]),
            "blank": _blanks(firms),
            "units": UNITS["flat"],
            "headers": {role: text for text, role in _FLAT_HEADER if role is not None},
        },
    )


# -- d. SIINas / OSS export ------------------------------------------------------------------


def _comma(values: pd.Series, digits: int) -> pd.Series:
    """Numbers with a decimal comma (``1250000,00``), blank where missing."""
    return _plain(values, digits).str.replace(".", ",", regex=False)


def write_siinas(
    world: World,
    folder: str | Path,
    *,
    name: str = "siinas_export.csv",
    dotted_share: float = 0.2,
) -> Written:
    """A SIINas/OSS-like export: ``;``-separated, UTF-8 with a byte-order mark, amounts
    with decimal commas and two decimals, and the place as an area code only
    (``Kode Wilayah``: ten digits without dots, a share with dots).

    Columns: ``NIB``, ``Nama Perusahaan``, ``Alamat Usaha``, ``Kode Wilayah``, ``KBLI``
    (text, zero kept), ``Judul KBLI``, ``Jumlah Tenaga Kerja``, ``Nilai Investasi``,
    ``Nilai Produksi``, ``Skala Usaha``.

    Features: ``sep``, ``decimal``, ``dotted`` (ids whose code has dots),
    ``undotted`` (the others), ``columns``.
    """
    rng = _rng(world, 3)
    firms = world.firms
    dotted = rng.random(len(firms)) < dotted_share
    code = firms["area_code"].str.replace(".", "", regex=False)
    code = code.where(~dotted, firms["area_code"])
    frame = pd.DataFrame(
        {
            "NIB": firms["id"],
            "Nama Perusahaan": firms["nama_usaha"].str.upper(),
            "Alamat Usaha": firms["alamat"],
            "Kode Wilayah": code,
            "KBLI": firms["kbli"],
            "Judul KBLI": firms["komoditi"],
            "Jumlah Tenaga Kerja": _plain(firms["tenaga_kerja"]),
            "Nilai Investasi": _comma(firms["nilai_investasi"], 2),
            "Nilai Produksi": _comma(firms["nilai_produksi"], 2),
            "Skala Usaha": np.where(firms["tenaga_kerja"].fillna(1) >= 5, "Kecil", "Mikro"),
        }
    )
    path = Path(folder) / name
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL)
    n = len(frame)
    return Written(
        path=path,
        shape="siinas",
        expected=Expected(read=n, kept=n, placement=dict.fromkeys(firms["id"], "code")),
        features={
            "sep": ";",
            "decimal": ",",
            "dotted": tuple(firms.loc[dotted, "id"]),
            "undotted": tuple(firms.loc[~dotted, "id"]),
            "columns": list(frame.columns),
        },
    )


# -- e. coordinates as people write them ------------------------------------------------------


def _dms(
    values: NDArray[np.float64], pos: str, neg: str, variant: NDArray[np.int64]
) -> tuple[pd.Series, NDArray[np.float64]]:
    """Degrees, minutes and seconds to a tenth (``7°42'36.9"S``; variant 1 with blanks
    ``7° 42' 36.9" S``; variant 2 hemisphere first ``S 7°42'36.9"``) and the value a
    correct reader gets back."""
    tenths = np.round(np.abs(values) * 36000).astype(np.int64)
    deg, rest = np.divmod(tenths, 36000)
    minutes, sec = np.divmod(rest, 600)
    hemi = np.where(values < 0, neg, pos)
    d = pd.Series(deg).astype(str)
    m = pd.Series(minutes).astype(str).str.zfill(2)
    s = pd.Series(sec // 10).astype(str).str.zfill(2) + "." + pd.Series(sec % 10).astype(str)
    h = pd.Series(hemi, dtype=object)
    plain: pd.Series = d + "°" + m + "'" + s + '"' + h
    spaced: pd.Series = d + "° " + m + "' " + s + '" ' + h
    first: pd.Series = h + " " + d + "°" + m + "'" + s + '"'
    text: pd.Series = plain.where(variant == 0, spaced.where(variant == 1, first))
    back = np.sign(values) * tenths / 36000.0
    return text, back


def _minutes(
    values: NDArray[np.float64], pos: str, neg: str
) -> tuple[pd.Series, NDArray[np.float64]]:
    """Degrees and decimal minutes (``7°42.615'S``) and the value read back."""
    thousandths = np.round(np.abs(values) * 60000).astype(np.int64)
    deg, rest = np.divmod(thousandths, 60000)
    whole, frac = np.divmod(rest, 1000)
    hemi = np.where(values < 0, neg, pos)
    text: pd.Series = (
        pd.Series(deg).astype(str)
        + "°"
        + pd.Series(whole).astype(str).str.zfill(2)
        + "."
        + pd.Series(frac).astype(str).str.zfill(3)
        + "'"
        + hemi
    )
    return text, np.sign(values) * thousandths / 60000.0


def _inside_own(
    world: World, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Whether each point lies in its firm's village (the rounding of a written format
    can carry a point near a border across it)."""
    geoms = world.villages.geometry.reindex(world.firms["area_code"]).to_numpy()
    return shapely.contains_xy(geoms, lon, lat)


def mismatched_points(
    world: World, rows: NDArray[np.int64], rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.object_]]:
    """For the firms at ``rows``: points in another village of the regency, at least
    :data:`MISMATCH_MIN_M` from the firm's own village; their lon, lat, distance to the
    own village (m) and the village they lie in."""
    crs = utm_crs(world.villages)
    metric = world.villages.to_crs(crs).geometry
    own = world.firms["area_code"].to_numpy()[rows]
    chosen = np.empty(len(rows), dtype=object)
    for code in np.unique(own):  # a loop over the distinct stated villages (a few)
        far = metric.distance(metric[code]) >= MISMATCH_MIN_M + 200.0
        hit = own == code
        chosen[hit] = rng.choice(metric.index[far.to_numpy()], size=int(hit.sum()))
    owner = world.villages.index.get_indexer(chosen)
    lon, lat = points_alone_in(world.villages, owner.astype(np.int64), rng)
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(crs)
    distance = points.distance(gpd.GeoSeries(metric.reindex(own).to_numpy(), crs=crs)).to_numpy()
    return lon, lat, distance, chosen


def write_coordinates(
    world: World,
    folder: str | Path,
    *,
    layout: Literal["decimal", "columns", "combined", "projected"] = "columns",
    name: str | None = None,
    n_mismatch: int = 12,
    with_names: bool = True,
) -> Written:
    """Coordinates as people write them, with the stated village and kecamatan names
    (``with_names``; else coordinates only): ``;``-separated, amounts with decimal
    commas, coordinates with a decimal point.

    ``layout="decimal"``: ``Lintang`` and ``Bujur`` in decimal degrees (what readers
    know today: the shape that tests a mismatch alone). ``layout="columns"``: ``Lintang``
    and ``Bujur`` columns, each record in one of
    decimal degrees (``-8.071234``), degrees-minutes-seconds (``8°04'16.4"S``, with
    blanks, or with the hemisphere first) or degrees and decimal minutes
    (``8°04.273'S``). ``layout="combined"``: one ``Koordinat`` column holding
    ``lat, lon`` as copied from a web map, a Google Maps link (``?q=lat,lon``,
    ``/@lat,lon,17z``) or a DMS pair as Google shows it. ``layout="projected"``: ``X``
    and ``Y`` in metres of the regency's UTM zone (read with ``--crs``).

    With names, ``n_mismatch`` background firms get a point in another village at least
    :data:`MISMATCH_MIN_M` from their stated village (planted ``area_mismatch``; by
    default the stated area places them, so their expected placement is ``name``);
    every other point, as a correct reader gets it back, lies in its stated village.

    Features: ``layout``, ``crs`` (for ``projected``), ``formats`` (id -> format),
    ``points`` (DataFrame id, lon, lat as written and read back), ``mismatch``
    (DataFrame: id, distance_m, point_area), ``columns``.
    """
    rng = _rng(world, 4)
    firms = world.firms
    n = len(firms)
    lon = firms["lon"].to_numpy(dtype=float).copy()
    lat = firms["lat"].to_numpy(dtype=float).copy()
    rows = _background(world, n_mismatch if with_names else 0, rng)
    m_lon, m_lat, distance, point_area = mismatched_points(world, rows, rng)
    lon[rows], lat[rows] = m_lon, m_lat
    formats = np.full(n, "decimal", dtype=object)
    columns: dict[str, Any] = {}
    back_lon, back_lat = lon.copy(), lat.copy()
    crs = None
    if layout == "decimal":
        columns = {"Lintang": _plain(pd.Series(lat), 6), "Bujur": _plain(pd.Series(lon), 6)}
    elif layout == "columns":
        u = rng.random(n)
        variant = rng.integers(0, 3, n)
        lat_dms, lat_dms_back = _dms(lat, "N", "S", variant)
        lon_dms, lon_dms_back = _dms(lon, "E", "W", variant)
        lat_min, lat_min_back = _minutes(lat, "N", "S")
        lon_min, lon_min_back = _minutes(lon, "E", "W")
        dms = (u < 0.3) & _inside_own(world, lon_dms_back, lat_dms_back)
        dms[rows] = u[rows] < 0.3
        mins = (u >= 0.3) & (u < 0.5) & _inside_own(world, lon_min_back, lat_min_back)
        mins[rows] = (u[rows] >= 0.3) & (u[rows] < 0.5)
        formats[dms] = np.array(["dms", "dms-spaced", "dms-hemisphere-first"])[variant[dms]]
        formats[mins] = "decimal-minutes"
        lat_text = _plain(pd.Series(lat), 6).where(~dms, lat_dms).where(~mins, lat_min)
        lon_text = _plain(pd.Series(lon), 6).where(~dms, lon_dms).where(~mins, lon_min)
        back_lat = np.where(dms, lat_dms_back, np.where(mins, lat_min_back, lat))
        back_lon = np.where(dms, lon_dms_back, np.where(mins, lon_min_back, lon))
        columns = {"Lintang": lat_text, "Bujur": lon_text}
    elif layout == "combined":
        u = rng.random(n)
        lat_dms, lat_back = _dms(lat, "N", "S", np.zeros(n, dtype=np.int64))
        lon_dms, lon_back = _dms(lon, "E", "W", np.zeros(n, dtype=np.int64))
        dms = (u >= 0.8) & _inside_own(world, lon_back, lat_back)
        dms[rows] = u[rows] >= 0.8
        la, lo = _plain(pd.Series(lat), 6), _plain(pd.Series(lon), 6)
        pair = la + ", " + lo
        query = "https://www.google.com/maps?q=" + la + "," + lo
        at = "https://www.google.com/maps/@" + la + "," + lo + ",17z"
        text = pair.where(
            u < 0.45, query.where(u < 0.6, at.where(u < 0.8, lat_dms + " " + lon_dms))
        )
        text[u >= 0.8] = pair[u >= 0.8]
        text[dms] = (lat_dms + " " + lon_dms)[dms]
        formats[:] = np.where(
            u < 0.45, "pair", np.where(u < 0.6, "link-q", np.where(u < 0.8, "link-at", "pair"))
        )
        formats[dms] = "dms-pair"
        back_lat = np.where(dms, lat_back, lat)
        back_lon = np.where(dms, lon_back, lon)
        columns = {"Koordinat": text}
    else:
        crs = utm_crs(world.villages)
        points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(crs)
        x, y = np.round(points.x.to_numpy(), 1), np.round(points.y.to_numpy(), 1)
        back = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=crs).to_crs(4326)
        back_lon, back_lat = back.x.to_numpy(), back.y.to_numpy()
        keep = _inside_own(world, back_lon, back_lat)
        keep[rows] = True
        if not keep.all():  # rounding to 0.1 m carried a point across a border
            raise RuntimeError(f"{int((~keep).sum())} projected point(s) left their village")
        formats[:] = "projected"
        columns = {"X": _plain(pd.Series(x), 1), "Y": _plain(pd.Series(y), 1)}
    frame = pd.DataFrame(
        {
            "id_usaha": firms["id"],
            "nama_usaha": firms["nama_usaha"],
            "kbli": firms["kbli"],
            "tenaga_kerja": _plain(firms["tenaga_kerja"]),
            "nilai_produksi": _comma(firms["nilai_produksi"], 2),
            "desa": firms["desa"],
            "kecamatan": firms["kecamatan"],
            **columns,
        }
    )
    if not with_names:
        frame = frame.drop(columns=["desa", "kecamatan"])
    path = Path(folder) / (name or f"koordinat_{layout}{'' if with_names else '_only'}.csv")
    frame.to_csv(path, sep=";", index=False, encoding="utf-8")
    ids = firms["id"].to_numpy()
    mismatch = pd.DataFrame({"id": ids[rows], "distance_m": distance, "point_area": point_area})
    placement = dict.fromkeys(ids, "point")
    placement.update(dict.fromkeys(ids[rows], "name"))
    return Written(
        path=path,
        shape=f"coordinates-{layout}" + ("" if with_names else "-only"),
        expected=Expected(
            read=n,
            kept=n,
            placement=placement,
            repaired={"area_mismatch": tuple(ids[rows])} if with_names else {},
        ),
        features={
            "layout": layout,
            "with_names": with_names,
            "crs": crs,
            "formats": dict(zip(ids, formats, strict=True)),
            "points": pd.DataFrame({"id": ids, "lon": back_lon, "lat": back_lat}),
            "mismatch": mismatch,
            "columns": list(frame.columns),
        },
    )


# -- f. counts per village (PODES style) ------------------------------------------------------


def write_counts(
    world: World,
    folder: str | Path,
    *,
    form: Literal["wide", "long"] = "wide",
    header: Literal["code", "label"] = "code",
    name: str | None = None,
) -> Written:
    """Firms per village and KBLI division, PODES style, in a CSV file.

    ``form="wide"``: one row per village of the regency (zeros included): ``Kode Desa``
    (dotted), ``Nama Desa``, ``Kecamatan``, then one column per division, headed by the
    two-digit code (``header="code"``: ``03``, ``10``, ...) or the division's Indonesian
    label (``header="label"``: ``Perikanan``, ``Industri makanan``, ...).
    ``form="long"``: one row per village and division with firms: ``kode_wilayah``,
    ``kbli`` (two digits, text), ``jumlah_usaha``, ``tenaga_kerja`` (sum over the firms
    whose workers are known; blank where none is).

    Features: ``counts`` (villages x divisions), ``columns``, ``labels`` (column ->
    division, for ``header="label"``), ``total``.
    """
    from klastergeo.kbli import DIVISIONS

    counts = world.counts(2)
    labels = {code: DIVISIONS[code][0] for code in counts.columns}
    if form == "wide":
        frame = pd.DataFrame(
            {
                "Kode Desa": counts.index,
                "Nama Desa": world.villages["name"].reindex(counts.index).to_numpy(),
                "Kecamatan": world.villages["kecamatan"].reindex(counts.index).to_numpy(),
            }
        )
        body = counts.rename(columns=labels) if header == "label" else counts
        frame = pd.concat([frame, body.reset_index(drop=True)], axis=1)
    else:
        firms = world.firms.assign(sector=world.firms["kbli"].str[:2])
        grouped = firms.groupby(["area_code", "sector"])
        frame = pd.DataFrame(
            {
                "jumlah_usaha": grouped.size(),
                "tenaga_kerja": grouped["tenaga_kerja"].sum(min_count=1),
            }
        ).reset_index()
        frame = frame.rename(columns={"area_code": "kode_wilayah", "sector": "kbli"})
        frame["tenaga_kerja"] = _plain(frame["tenaga_kerja"])
    path = Path(folder) / (name or f"podes_{form}.csv")
    frame.to_csv(path, index=False)
    return Written(
        path=path,
        shape=f"counts-{form}",
        expected=Expected(read=len(frame), kept=len(frame)),
        features={
            "counts": counts,
            "columns": list(frame.columns),
            "labels": {v: k for k, v in labels.items()} if header == "label" else {},
            "total": int(counts.to_numpy().sum()),
        },
    )


# -- g. names that only the kecamatan resolves, and names nothing resolves ---------------------


#: Village names of other provinces (sentra of Jawa Tengah's studies): in no regency here.
UNKNOWN_NAMES = ("Trangsan", "Tumang", "Troso", "Laweyan", "Juwana", "Kasongan", "Kajen")


def write_names(
    world: World,
    folder: str | Path,
    *,
    name: str = "nama_wilayah.csv",
    n_ambiguous: int = 6,
    n_unknown: int = 5,
    blank_kecamatan: float = 0.15,
) -> Written:
    """Firms placed by names only (``desa``, ``kecamatan``, ``kabupaten``), where the
    regency has village names that occur in two kecamatan.

    Every firm of a village whose name repeats in the regency has its kecamatan: it can
    only be placed through it. Of the other firms, a share has no kecamatan (the village
    name alone places them). ``n_ambiguous`` background firms of a repeated name have no
    kecamatan (planted ``ambiguous_area``, with the candidate villages); ``n_unknown``
    background firms have a village name of another province (:data:`UNKNOWN_NAMES`,
    planted ``unknown_area``). Kind words and capitals as in :func:`typed_villages`, no
    typos; ``kabupaten`` as ``Kab. X``, ``Kabupaten X`` or ``X``.

    Features: ``repeated`` (name -> codes), ``by_kecamatan`` (ids of firms only the
    kecamatan places), ``no_kecamatan`` (ids placed by the village name alone),
    ``ambiguous`` (id -> candidate codes), ``unknown`` (id -> name written).
    """
    rng = _rng(world, 5)
    firms = world.firms
    n = len(firms)
    repeated = duplicated_names(world.villages)
    is_repeated = firms["desa"].str.lower().isin(repeated.index).to_numpy()
    desa, _, _ = typed_villages(world, rng, typo_share=0.0)
    kec = typed_kecamatan(firms["kecamatan"], rng)
    blank = (rng.random(n) < blank_kecamatan) & ~is_repeated
    pool = np.flatnonzero((world.firms["planted"].to_numpy() == "") & is_repeated)
    if len(pool) < n_ambiguous:
        raise ValueError(
            f"{world.regency.name} has {len(pool)} background firm(s) in villages whose name "
            f"repeats, fewer than n_ambiguous={n_ambiguous}; choose a regency with repeated "
            "village names (e.g. 35.04) or a smaller n_ambiguous"
        )
    ambiguous = np.sort(rng.choice(pool, size=n_ambiguous, replace=False))
    rest = np.setdiff1d(np.flatnonzero(world.firms["planted"].to_numpy() == ""), ambiguous)
    unknown = np.sort(rng.choice(rest, size=n_unknown, replace=False))
    blank[ambiguous] = True
    kec = kec.where(~blank, "")
    desa = desa.copy()
    desa.iloc[unknown] = rng.choice(np.array(UNKNOWN_NAMES), size=n_unknown)
    regency = world.regency.name.split(" ", 1)[1]
    kab = rng.choice(np.array([f"Kab. {regency}", f"Kabupaten {regency}", regency]), size=n)
    frame = pd.DataFrame(
        {
            "id_usaha": firms["id"],
            "nama_usaha": firms["nama_usaha"],
            "kbli": firms["kbli"],
            "tenaga_kerja": _plain(firms["tenaga_kerja"]),
            "desa": desa,
            "kecamatan": kec,
            "kabupaten": kab,
        }
    )
    path = Path(folder) / name
    frame.to_csv(path, index=False)
    ids = firms["id"].to_numpy()
    lower = firms["desa"].str.lower().to_numpy()
    rejected = {"ambiguous_area": tuple(ids[ambiguous]), "unknown_area": tuple(ids[unknown])}
    out = set(np.concatenate([ambiguous, unknown]).tolist())
    kept = np.array([i not in out for i in range(n)])
    return Written(
        path=path,
        shape="names",
        expected=Expected(
            read=n,
            kept=int(kept.sum()),
            rejected=rejected,
            placement=dict.fromkeys(ids[kept], "name"),
        ),
        features={
            "repeated": repeated.to_dict(),
            "by_kecamatan": tuple(ids[is_repeated & kept]),
            "no_kecamatan": tuple(ids[blank & kept]),
            "ambiguous": {ids[i]: repeated[lower[i]] for i in ambiguous},
            "unknown": dict(zip(ids[unknown], desa.iloc[unknown], strict=True)),
        },
    )


def write_all(world: World, folder: str | Path) -> dict[str, Written]:
    """Every shape of the world's firms into ``folder``, by shape name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: Sequence[Written] = (
        write_truth(world, folder),
        write_dinas(world, folder),
        write_dinas(world, folder, style="flat", name="dinas_ikm_flat.xlsx"),
        write_sheets(world, folder),
        write_dinas_csv(world, folder),
        write_siinas(world, folder),
        write_coordinates(world, folder, layout="decimal"),
        write_coordinates(world, folder, layout="columns"),
        write_coordinates(world, folder, layout="combined"),
        write_coordinates(world, folder, layout="projected"),
        write_coordinates(world, folder, layout="columns", with_names=False),
        write_coordinates(world, folder, layout="combined", with_names=False),
        write_coordinates(world, folder, layout="projected", with_names=False),
        write_counts(world, folder, form="wide"),
        write_counts(world, folder, form="long"),
        write_names(world, folder),
    )
    return {w.shape: w for w in written}


def main(argv: Sequence[str] | None = None) -> None:
    """Write every shape into a folder, to look at them or run klastergeo on them:
    ``python -m tests.worlds.agency OUT [--regency 35.04] [--size 1] [--seed 2025]``."""
    import argparse
    import os

    parser = argparse.ArgumentParser(prog="python -m tests.worlds.agency", description=main.__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--regency", default=TULUNGAGUNG.code, choices=sorted(REGENCIES))
    parser.add_argument("--size", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--boundaries", default=os.environ.get("KLASTERGEO_DATA_DIR"))
    args = parser.parse_args(argv)
    if not args.boundaries:
        parser.error("pass --boundaries DIR or set KLASTERGEO_DATA_DIR")
    regency = REGENCIES[args.regency]
    world = generate(
        load_regency(args.boundaries, regency.code),
        regency=regency,
        size=args.size,
        seed=args.seed,
    )
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    written = (
        dict(write_all(world, folder))
        if regency is TULUNGAGUNG
        else {
            w.shape: w
            for w in (
                write_truth(world, folder),
                write_dinas(world, folder),
                write_sheets(world, folder),
                write_siinas(world, folder),
                write_coordinates(world, folder),
                write_counts(world, folder),
            )
        }
    )
    world.truth.to_csv(folder / "planted.csv", index=False)
    for shape, w in written.items():
        e = w.expected
        rejected = {k: len(v) for k, v in e.rejected.items()}
        repaired = {k: len(v) for k, v in e.repaired.items()}
        print(
            f"{shape:28} {w.path.name:30} read {e.read:6} kept {e.kept:6} "
            f"rejected {rejected or 0} repaired {repaired or 0} skipped {len(e.skipped)}"
        )


if __name__ == "__main__":
    main()
