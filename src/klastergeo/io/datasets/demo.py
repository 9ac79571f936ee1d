"""A seeded, realistic synthetic enterprise registry over Jawa Tengah's villages.

The registry looks like what a Dinas Koperasi & UKM holds: one row per small firm with
coordinates, KBLI code, workers, production value, investment and the attributes the source
studies surveyed. It is written as a ``;``-delimited CSV with decimal commas and a UTF-8
BOM, as Indonesian spreadsheets export it. It contains

- background firms of many sectors in every village, denser in towns (kelurahan) and cities;
- a *decoy*: Kota Semarang with many firms of every sector (dense, not specialised), which a
  sentra method must not report;
- planted sentra at the real places of the source studies (:data:`PLANTED`);
- a known number of faulty rows of every kind (:data:`FAULTS`), so that validation can be
  checked exactly.

Firm attributes are drawn so that the studies' signs hold: sentra firms have lower natural-
resource intensity and production value and better market access (Surakarta LPM), while
scale, investment, partnership and innovation do not differ; export orientation follows a
known logit in labour, firm age, largest-buyer network and promotion, with zero effects of
training, equipment technology and supplier network (Tumang logit).

The planted truth is written beside the registry (``truth.csv``); how a run is scored
against it lives outside the package (``tests/worlds/demo_truth.py``, which ``make demo``
runs after ``klastergeo demo``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from klastergeo.errors import BoundaryError
from klastergeo.io.files import atomic_path, write_csv

__all__ = [
    "DIAMOND_COLUMNS",
    "EXPORT_LOGIT",
    "FAULTS",
    "PLANTED",
    "DemoRegistry",
    "PlantedSentra",
    "earlier_planted",
    "generate_registry",
    "sample_in",
    "write_config",
    "write_registry",
]

logger = logging.getLogger(__name__)

DEMO_AREA = "33"  # Jawa Tengah
#: Seed and number of background firms of the demo registry.
DEMO_SEED = 20261122
DEMO_BACKGROUND = 40_000
DECOY_AREA = "33.74"  # Kota Semarang


@dataclass(frozen=True)
class PlantedSentra:
    """A sentra planted in the demo: where, what, and how many firms per village."""

    key: str
    label: str
    kbli: str
    villages: tuple[tuple[str, int], ...]
    #: Expected Markusen type (see :mod:`klastergeo.analysis.typology`).
    typology: str = "marshallian"
    #: Dominant firms in the first village, as (workers, ownership); part of its count.
    anchors: tuple[tuple[int, str], ...] = ()
    #: Share of the other firms that are branch plants of outside firms.
    branch_share: float = 0.0
    #: Probability that a firm buys from local suppliers (and, separately, sells locally).
    local_links: float = 0.6
    #: Expected development stage (Porter's-diamond diagnosis,
    #: :mod:`klastergeo.analysis.diagnosis`).
    stage: str = "advance"
    #: Firms of related industries mixed into its villages: (KBLI, village, firms). They
    #: are not sentra firms; the co-location analysis should find their sectors.
    suppliers: tuple[tuple[str, str, int], ...] = ()

    @property
    def sector(self) -> str:
        return self.kbli[:2]

    @property
    def n_firms(self) -> int:
        return sum(n for _, n in self.villages)


#: The sentra of the source studies, at their real villages (Kemendagri codes).
PLANTED: tuple[PlantedSentra, ...] = (
    PlantedSentra(
        "tumang",
        "Kerajinan tembaga Tumang, Cepogo (Boyolali)",
        "25999",
        (("33.09.03.2013", 150), ("33.09.03.2010", 35), ("33.09.03.2012", 25)),
        typology="mixed",  # Marshallian with hub-and-spoke traits, as the study found
        # the top three about a third of the workers: mid-way in the mixed band (0.30-0.50)
        anchors=((200, "lokal"), (150, "lokal"), (120, "lokal")),
        suppliers=(("24201", "33.09.03.2013", 12),),  # copper sheet from metal rollers
    ),
    PlantedSentra(
        "trangsan",
        "Mebel rotan Trangsan, Gatak (Sukoharjo)",
        "31002",
        (("33.11.11.2013", 220), ("33.11.11.2008", 45)),
        stage="mature",
    ),
    PlantedSentra(
        "troso",
        "Tenun ikat Troso, Pecangaan (Jepara)",
        "13121",
        (("33.20.02.2006", 200), ("33.20.02.2004", 30)),
        stage="mature",
    ),
    PlantedSentra(
        "juwana",
        "Kerajinan kuningan Juwana (Pati)",
        "24320",
        (("33.18.08.2022", 80), ("33.18.08.2021", 40)),
        stage="survival",
    ),
    PlantedSentra(
        "pekalongan",
        "Batik Pekalongan (Kota Pekalongan)",
        "13134",
        (("33.75.02.1004", 70), ("33.75.02.1002", 35), ("33.75.02.1007", 25)),
        stage="mature",
    ),
    PlantedSentra(
        "laweyan",
        "Batik Laweyan (Kota Surakarta)",
        "13134",
        (("33.72.01.1002", 90), ("33.72.01.1008", 30)),
    ),
    PlantedSentra(
        "talang",
        "Logam dan suku cadang Talang (Tegal)",
        "29300",
        (("33.28.12.2010", 100), ("33.28.12.2013", 30), ("33.28.11.2014", 40)),
    ),
    PlantedSentra(
        "kudus",
        "Rokok kretek Kudus: pabrik besar dan pemasok kecil (Kota Kudus)",
        "12011",
        (("33.19.02.2022", 45), ("33.19.02.2023", 25)),
        typology="hub_and_spoke",
        anchors=((900, "lokal"), (500, "lokal"), (300, "lokal")),
        stage="mature",
    ),
    PlantedSentra(
        "bergas",
        "Garmen pabrik cabang perusahaan luar (Bergas, Semarang)",
        "14111",
        (("33.22.13.1002", 35), ("33.22.13.2003", 25)),
        typology="satellite_platform",
        branch_share=0.6,
        local_links=0.1,
        suppliers=(("13121", "33.22.13.1002", 12), ("13121", "33.22.13.2003", 6)),  # fabric
    ),
    PlantedSentra(
        "cepu",
        "Pengolahan kayu jati sekitar Perhutani (Cepu, Blora)",
        "16220",
        (("33.16.05.1014", 45), ("33.16.05.1013", 25)),
        typology="state_anchored",
        anchors=((350, "negara"),),
        stage="survival",
    ),
)

#: Faulty rows planted in the registry: validation reason -> number of rows.
FAULTS: dict[str, int] = {
    "missing_coordinates": 60,
    "zero_coordinates": 30,
    "out_of_range": 20,
    "outside_study_area": 25,
    "invalid_sector": 25,
    "invalid_value": 10,
    "duplicate_record": 30,
    "duplicate_id": 20,
}
#: Rows whose latitude and longitude are swapped (repaired by validation, not rejected).
SWAPPED = 40
#: Rows without coordinates that keep their village code (``desa``): placed by the code,
#: kept without a point. (The rows of the coordinate faults above name no village:
#: nothing places them.)
PLACED_BY_CODE = 40

#: Background sector mix of small manufacturing firms: KBLI division -> (share, codes).
SECTOR_MIX: dict[str, tuple[float, tuple[str, ...]]] = {
    "10": (0.30, ("10710", "10392", "10794", "10771")),
    "11": (0.02, ("11040",)),
    "12": (0.02, ("12011",)),
    "13": (0.06, ("13121", "13134", "13913")),
    "14": (0.09, ("14111", "14120")),
    "15": (0.02, ("15201", "15122")),
    "16": (0.12, ("16220", "16291", "16292")),
    "17": (0.01, ("17091",)),
    "18": (0.02, ("18111",)),
    "20": (0.01, ("20231",)),
    "22": (0.02, ("22299",)),
    "23": (0.10, ("23921", "23931", "23951")),
    "24": (0.005, ("24320",)),
    "25": (0.05, ("25999", "25930")),
    "26": (0.005, ("26400",)),
    "27": (0.005, ("27320",)),
    "28": (0.01, ("28250",)),
    "29": (0.005, ("29300",)),
    "31": (0.06, ("31001", "31002")),
    "32": (0.05, ("32901", "32902", "32114")),
    "33": (0.02, ("33121",)),
}

#: True logit of export orientation (Tumang study): intercept and coefficients.
EXPORT_LOGIT: dict[str, float] = {
    "const": -4.0,
    "tenaga_kerja": 0.25,
    "umur_usaha": 0.08,
    "jaringan_pembeli": 1.5,
    "promosi": 1.2,
    "pelatihan": 0.0,
    "teknologi": 0.0,
    "jaringan_pemasok": 0.0,
}

_NAME_PREFIX = np.array(["UD", "CV", "PD", "Industri Rumahan", "KUB", "UD", "CV", ""])
_NAME_WORDS = np.array(
    [
        "Sumber",
        "Rejeki",
        "Jaya",
        "Makmur",
        "Abadi",
        "Sentosa",
        "Mulya",
        "Barokah",
        "Karya",
        "Maju",
        "Lancar",
        "Sari",
        "Sejahtera",
        "Mandiri",
        "Agung",
        "Putra",
        "Putri",
        "Tunggal",
        "Sinar",
        "Harapan",
        "Berkah",
        "Indah",
        "Utama",
        "Mekar",
        "Luhur",
        "Rahayu",
        "Santoso",
        "Widodo",
        "Manunggal",
        "Gemilang",
    ]
)


#: The demo's two surveys: an earlier one and the current one (the registry of PLANTED).
DEMO_PERIODS = ("2019", "2023")
#: Firms of a planted sentra in the earlier survey, as a share of the current survey's
#: (0: not yet a sentra); the others are as they are now.
EARLIER_SHARE = {"tumang": 0.6, "troso": 1.7, "juwana": 0.0}
#: The lineage trend of each planted sentra from 2019 to 2023 (the others: stable); the
#: roof-tile sentra of Kebumen is in the earlier survey only.
EXPECTED_TRENDS = {"tumang": "growing", "troso": "declining", "juwana": "new", "genteng": "gone"}
#: Where the earlier survey's vanished sentra is: Kabupaten Kebumen.
GONE_REGENCY = "33.05"


def earlier_planted(villages: gpd.GeoDataFrame) -> tuple[PlantedSentra, ...]:
    """The sentra of the earlier survey: :data:`PLANTED` scaled by
    :data:`EARLIER_SHARE`, and a roof-tile (23) sentra in two neighbouring villages of
    Kebumen that the current survey no longer has.

    Parameters
    ----------
    villages
        Jawa Tengah's desa (where the vanished sentra's villages are chosen: the first
        village of Kebumen, by code, with a neighbour in Kebumen).
    """
    out = []
    for planted in PLANTED:
        share = EARLIER_SHARE.get(planted.key, 1.0)
        if share:
            scaled = tuple((c, max(1, round(n * share))) for c, n in planted.villages)
            out.append(dataclasses.replace(planted, villages=scaled))
    kebumen = villages.loc[villages.index.str.startswith(GONE_REGENCY + ".")].sort_index()
    shapes = kebumen.geometry.to_numpy()
    for k, code in enumerate(kebumen.index):  # villages in code order; the first pair wins
        touching = np.flatnonzero(shapely.touches(shapes, shapes[k]))
        if len(touching):
            pair = (code, kebumen.index[touching[0]])
            break
    else:
        raise BoundaryError(f"no two neighbouring villages in {GONE_REGENCY}")
    out.append(
        PlantedSentra(
            "genteng",
            "Genteng Sokka (Kebumen)",
            "23922",
            ((pair[0], 60), (pair[1], 30)),
        )
    )
    return tuple(out)


@dataclass(frozen=True)
class DemoRegistry:
    """The generated registry (text values, as written) and its ground truth."""

    registry: pd.DataFrame
    truth: pd.DataFrame
    expected_rejected: dict[str, int]
    expected_repaired: int


def sample_in(
    geoms: NDArray[np.object_], owner: NDArray[np.int64], rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Uniform random points inside ``geoms[owner]``, by vectorised rejection sampling
    (six decimals, as the registry writes them).

    Parameters
    ----------
    geoms
        The villages' polygons.
    owner
        For each point, the position of its village in ``geoms``.
    rng
        The random generator the points are drawn from.

    Returns
    -------
    tuple
        The points' x and y.
    """
    shapely.prepare(geoms)
    bounds = shapely.bounds(geoms)
    x = np.full(len(owner), np.nan)
    y = np.full(len(owner), np.nan)
    todo = np.arange(len(owner))
    for _ in range(60):
        if not len(todo):
            break
        b = bounds[owner[todo]]
        # rounded as the registry writes them (6 decimals), so the written point is the
        # one inside its village, never a hair outside in a gap between two villages
        cx = np.round(rng.uniform(b[:, 0], b[:, 2]), 6)
        cy = np.round(rng.uniform(b[:, 1], b[:, 3]), 6)
        ok = shapely.contains_xy(geoms[owner[todo]], cx, cy)
        x[todo[ok]], y[todo[ok]] = cx[ok], cy[ok]
        todo = todo[~ok]
    if len(todo):  # slivers: fall back to a point surely inside
        inside = shapely.point_on_surface(geoms[owner[todo]])
        x[todo], y[todo] = shapely.get_x(inside), shapely.get_y(inside)
    return x, y


def _firm_attributes(
    n: int, in_sentra: NDArray[np.bool_], rng: np.random.Generator
) -> pd.DataFrame:
    s = in_sentra
    # Firm size does not differ between sentra and other firms (scale has no effect in the
    # Surakarta study); production value does, through lower output per worker of sentra
    # craft firms.
    workers = np.maximum(1, np.round(np.exp(rng.normal(1.1, 0.7, n)))).astype(int)
    productivity = np.exp(rng.normal(np.where(s, np.log(22.0), np.log(40.0)), 0.45, n))
    output = np.round(workers * productivity, 1)  # Rp juta per year
    # Capital follows production value, so it adds nothing once output is known.
    investment = np.round(output * np.exp(rng.normal(np.log(0.4), 0.6, n)), 1)
    age = np.round(1 + rng.exponential(np.where(s, 12.0, 8.0)), 0).astype(int)
    frame = pd.DataFrame(
        {
            "tenaga_kerja": workers,
            "nilai_produksi": output,
            "investasi": investment,
            "umur_usaha": age,
            "skala_ekonomi": rng.integers(1, 6, n),
            "intensitas_sda": np.round(rng.beta(np.where(s, 3.0, 4.0), np.where(s, 4.0, 3.0)), 3),
            "akses_pasar": np.clip(np.round(rng.normal(np.where(s, 3.6, 2.8), 0.8)), 1, 5).astype(
                int
            ),
            "jaringan_kemitraan": rng.binomial(1, 0.35, n),
            "inovasi": rng.binomial(1, 0.3, n),
            "jaringan_pembeli": rng.binomial(1, np.where(s, 0.45, 0.2)),
            "promosi": rng.binomial(1, np.where(s, 0.5, 0.3)),
            "pelatihan": rng.binomial(1, 0.4, n),
            "teknologi": rng.binomial(1, 0.35, n),
            "jaringan_pemasok": rng.binomial(1, 0.5, n),
        }
    )
    return frame


#: Mean 1-5 score of the diamond items of a sentra at each stage, and of other firms.
STAGE_LEVEL = {"mature": 4.2, "advance": 3.0, "survival": 1.9}
_BACKGROUND_LEVEL = 2.8
#: Per-firm diamond items of the demo registry (1-5 scores) -> diagnosis item.
DIAMOND_COLUMNS = {
    "infrastruktur": "infrastructure",
    "bahan_baku": "raw_materials",
    "akses_modal": "finance",
    "tren_permintaan": "demand_trend",
    "mutu_permintaan": "demand_quality",
    "dukungan_pemerintah": "government_support",
    "layanan_bds": "bds",
    "kerja_sama": "cooperation",
    "persaingan": "rivalry",
}


def _diamond_items(
    attrs: pd.DataFrame,
    first: int,
    rng: np.random.Generator,
    planted_sentra: Sequence[PlantedSentra] = PLANTED,
) -> None:
    """1-5 survey scores of the diamond items, centred on each sentra's stage level."""
    level = np.full(len(attrs), _BACKGROUND_LEVEL)
    start = first
    for planted in planted_sentra:
        level[start : start + planted.n_firms] = STAGE_LEVEL[planted.stage]
        start += planted.n_firms
    for column in DIAMOND_COLUMNS:
        attrs[column] = np.clip(np.round(rng.normal(level, 0.8)), 1, 5).astype(int)


def _draw_export(attrs: pd.DataFrame, rng: np.random.Generator) -> None:
    """Export orientation from the true logit :data:`EXPORT_LOGIT` (in place)."""
    eta = np.full(len(attrs), EXPORT_LOGIT["const"])
    for name, beta in EXPORT_LOGIT.items():
        if name != "const":
            eta = eta + beta * attrs[name].to_numpy(dtype=float)
    attrs["ekspor"] = rng.binomial(1, 1.0 / (1.0 + np.exp(-eta)))


#: Background ownership of firms: local, branch plant of an outside firm, state.
_OWNERSHIP_MIX = {"lokal": 0.97, "cabang": 0.025, "negara": 0.005}


def _plant_structure(
    attrs: pd.DataFrame,
    first: int,
    rng: np.random.Generator,
    planted_sentra: Sequence[PlantedSentra] = PLANTED,
) -> None:
    """Ownership, local linkages and the dominant firms of the planted sentra (in place).

    Rows from ``first`` on are the planted firms, in the order of :data:`PLANTED` and
    their villages. Anchors take the first rows of their sentra; branch plants are
    factories of 80-300 workers. Production value and investment stay as drawn: the
    Surakarta model's planted effects are about the small firms' attributes, and a few
    factories' outputs, hundreds of times larger, would dominate a linear model of them.
    """
    n = len(attrs)
    kinds = np.array(list(_OWNERSHIP_MIX))
    weights = np.array(list(_OWNERSHIP_MIX.values()))
    ownership = rng.choice(kinds, size=n, p=weights / weights.sum()).astype(object)
    link_p = np.full(n, 0.35)
    workers = attrs["tenaga_kerja"].to_numpy(dtype=float).copy()
    start = first
    for planted in planted_sentra:  # a loop over the planted sentra, not over firms
        size = planted.n_firms
        rows = np.arange(start, start + size)
        ownership[rows] = "lokal"
        link_p[rows] = planted.local_links
        branches = rows[len(planted.anchors) :][
            rng.random(size - len(planted.anchors)) < planted.branch_share
        ]
        ownership[branches] = "cabang"
        workers[branches] = rng.integers(80, 300, len(branches))
        for k, (size_k, owner_k) in enumerate(planted.anchors):
            workers[start + k] = size_k
            ownership[start + k] = owner_k
        start += size
    attrs["tenaga_kerja"] = workers.astype(int)
    attrs["kepemilikan"] = ownership
    attrs["pemasok_lokal"] = rng.binomial(1, link_p)
    attrs["pembeli_lokal"] = rng.binomial(1, link_p)


def generate_registry(
    villages: gpd.GeoDataFrame,
    *,
    n_background: int = DEMO_BACKGROUND,
    n_decoy: int = 10_000,
    seed: int = DEMO_SEED,
    planted: Sequence[PlantedSentra] = PLANTED,
) -> DemoRegistry:
    """Generate the demo registry over ``villages`` (Jawa Tengah desa, indexed by code).

    Parameters
    ----------
    villages
        Desa polygons of Jawa Tengah (``load_areas("desa", area="33")``).
    n_background
        Firms spread over all villages.
    n_decoy
        Extra firms of every sector in Kota Semarang.
    seed
        Seed of every random draw.
    planted
        The sentra to plant (default :data:`PLANTED`, the current survey;
        :func:`earlier_planted` gives the earlier one's).
    """
    rng = np.random.default_rng(seed)
    missing = [c for p in planted for c, _ in p.villages if c not in villages.index]
    if missing:
        raise BoundaryError(f"the demo needs Jawa Tengah villages; missing {missing[:3]}")
    codes = np.asarray(villages.index, dtype=object)
    owner_bg, kbli = _background_firms(villages, n_background, n_decoy, rng)
    position = {c: i for i, c in enumerate(codes)}
    chains = [(k, c, n) for p in planted for k, c, n in p.suppliers]  # value chains
    owner_bg = np.concatenate([owner_bg, *(np.full(n, position[c]) for _, c, n in chains)])
    kbli = np.concatenate([kbli, *(np.full(n, k, dtype=object) for k, _, n in chains)])
    owner_s = np.concatenate([np.full(n, position[c]) for p in planted for c, n in p.villages])
    kbli_s = np.concatenate(
        [np.full(n, p.kbli, dtype=object) for p in planted for _, n in p.villages]
    )
    key_s = np.concatenate(
        [np.full(n, p.key, dtype=object) for p in planted for _, n in p.villages]
    )
    owner = np.concatenate([owner_bg, owner_s])
    in_sentra = np.concatenate([np.zeros(len(owner_bg), bool), np.ones(len(owner_s), bool)])
    planted_key = np.concatenate([np.full(len(owner_bg), "", dtype=object), key_s])
    geoms = np.asarray(villages.to_crs(4326).geometry.values, dtype=object)
    lon, lat = sample_in(geoms, owner, rng)
    n = len(owner)
    attrs = _firm_attributes(n, in_sentra, rng)
    _plant_structure(attrs, len(owner_bg), rng, planted)
    _diamond_items(attrs, len(owner_bg), rng, planted)
    _draw_export(attrs, rng)
    firms = pd.DataFrame(
        {
            "nama_usaha": _firm_names(n, rng),
            "lintang": lat,
            "bujur": lon,
            "kbli": np.concatenate([kbli, kbli_s]),
            "desa": codes[owner],
            **{c: attrs[c].to_numpy() for c in attrs.columns},
        }
    )
    order = rng.permutation(n)  # registries are not sorted by place or sector
    firms = firms.iloc[order].reset_index(drop=True)
    planted_key = planted_key[order]
    firms.insert(
        0, "id_usaha", np.char.add("UKM-33-", np.char.zfill(np.arange(1, n + 1).astype(str), 6))
    )
    text, repaired = _plant_faults(_as_text(firms), rng)
    logger.info(
        "demo registry: %d rows (%d planted sentra firms, %d faulty rows)",
        len(text),
        len(owner_s),
        sum(FAULTS.values()),
    )
    return DemoRegistry(
        registry=text,
        truth=_truth(planted_key, planted),
        expected_rejected=dict(FAULTS),
        expected_repaired=repaired,
    )


def _background_firms(
    villages: gpd.GeoDataFrame, n_background: int, n_decoy: int, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.object_]]:
    """Village position and KBLI code of the background firms (spread over every village,
    more in towns) and of the decoys (every sector, in Kota Semarang)."""
    codes = np.asarray(villages.index, dtype=object)
    area_km2 = villages.to_crs(32749).area.to_numpy() / 1e6
    code_text = pd.Series(codes).astype(str)
    urban = (code_text.str[9] == "1").to_numpy()  # kelurahan codes start with 1
    city = (code_text.str[3:5].astype(int) >= 71).to_numpy()
    weight = np.where(urban, 4.0, 1.0 + 0.1 * area_km2) * np.where(city, 1.5, 1.0)
    weight *= rng.gamma(2.0, 0.5, len(codes))  # villages differ
    bg_counts = rng.multinomial(n_background, weight / weight.sum())
    decoy = code_text.str.startswith(DECOY_AREA + ".").to_numpy()
    decoy_weight = np.where(decoy, rng.gamma(1.5, 1.0, len(codes)), 0.0)
    decoy_counts = rng.multinomial(n_decoy, decoy_weight / decoy_weight.sum())
    owner = np.repeat(np.arange(len(codes)), bg_counts + decoy_counts)
    divisions = np.array(list(SECTOR_MIX))
    shares = np.array([SECTOR_MIX[d][0] for d in divisions])
    division = rng.choice(divisions, size=len(owner), p=shares / shares.sum())
    kbli = np.empty(len(owner), dtype=object)
    for d in divisions:  # a loop over the 21 divisions, not over firms
        hit = division == d
        kbli[hit] = rng.choice(np.array(SECTOR_MIX[d][1]), size=int(hit.sum()))
    return owner, kbli


def _firm_names(n: int, rng: np.random.Generator) -> NDArray[np.str_]:
    names = np.char.add(
        np.char.add(np.char.add(rng.choice(_NAME_PREFIX, n), " "), rng.choice(_NAME_WORDS, n)),
        np.char.add(" ", rng.choice(_NAME_WORDS, n)),
    )
    return np.char.strip(names)


def _truth(
    planted_key: NDArray[np.object_], planted_sentra: Sequence[PlantedSentra] = PLANTED
) -> pd.DataFrame:
    """The planted sentra, with how many of their firms the registry holds."""
    return pd.DataFrame(
        [
            {
                "key": p.key,
                "label": p.label,
                "sector": p.sector,
                "kbli": p.kbli,
                "area_codes": ";".join(c for c, _ in p.villages),
                "core_area": p.villages[0][0],
                "n_firms": p.n_firms,
                "n_firms_registry": int((planted_key == p.key).sum()),
                "typology": p.typology,
                "stage": p.stage,
                "related": ";".join(sorted({k[:2] for k, _, _ in p.suppliers})),
            }
            for p in planted_sentra
        ]
    )


def _decimal_comma(values: NDArray[np.floating], digits: int) -> NDArray[np.str_]:
    return np.char.replace(np.char.mod(f"%.{digits}f", values), ".", ",")


def _as_text(firms: pd.DataFrame) -> pd.DataFrame:
    """Format as an Indonesian spreadsheet export: decimal commas, text everywhere."""
    out = pd.DataFrame(index=firms.index)
    for column in firms.columns:
        values = firms[column]
        if column in ("lintang", "bujur"):
            out[column] = _decimal_comma(values.to_numpy(dtype=float), 6)
        elif column in ("nilai_produksi", "investasi", "intensitas_sda"):
            out[column] = _decimal_comma(
                values.to_numpy(dtype=float), 3 if column == "intensitas_sda" else 1
            )
        else:
            out[column] = values.astype(str)
    return out


def _plant_faults(text: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, int]:
    """Damage a known number of rows per reason, and swap the coordinates of others."""
    n = len(text)
    need = sum(v for k, v in FAULTS.items() if not k.startswith("duplicate"))
    need += SWAPPED + PLACED_BY_CODE
    victims = rng.choice(n, size=need + FAULTS["duplicate_id"], replace=False)
    cursor = 0

    def take(k: int) -> NDArray[np.int64]:
        nonlocal cursor
        rows = victims[cursor : cursor + k]
        cursor += k
        return rows

    text = text.copy()
    rows = take(FAULTS["missing_coordinates"])
    text.loc[rows, ["lintang", "desa"]] = ""
    rows = take(FAULTS["zero_coordinates"])
    text.loc[rows, ["lintang", "bujur"]] = "0"
    text.loc[rows, "desa"] = ""
    rows = take(FAULTS["out_of_range"])  # a lost decimal comma: -7512345 instead of -7,512345
    text.loc[rows, "lintang"] = text.loc[rows, "lintang"].str.replace(",", "", regex=False)
    text.loc[rows, "desa"] = ""
    rows = take(FAULTS["outside_study_area"])  # firms in Jawa Timur
    text.loc[rows, "lintang"] = _decimal_comma(rng.uniform(-7.9, -7.3, len(rows)), 6)
    text.loc[rows, "bujur"] = _decimal_comma(rng.uniform(112.3, 112.9, len(rows)), 6)
    text.loc[rows, "desa"] = ""
    rows = take(PLACED_BY_CODE)  # no coordinates, the village code only
    text.loc[rows, ["lintang", "bujur"]] = ""
    rows = take(FAULTS["invalid_sector"])
    text.loc[rows, "kbli"] = rng.choice(np.array(["", "1", "ab", "00"]), len(rows))
    rows = take(FAULTS["invalid_value"])
    text.loc[rows, "tenaga_kerja"] = rng.choice(np.array(["tiga", "-2", "5 orang"]), len(rows))
    rows = take(SWAPPED)
    text.loc[rows, ["lintang", "bujur"]] = text.loc[rows, ["bujur", "lintang"]].to_numpy()
    # Duplicate ids: a clean row takes the id of another clean row (different content).
    pairs = take(FAULTS["duplicate_id"])
    clean = np.setdiff1d(np.arange(n), victims)
    donors = rng.choice(clean, size=len(pairs), replace=False)
    text.loc[pairs, "id_usaha"] = text.loc[donors, "id_usaha"].to_numpy()
    # Exact duplicates of clean rows, inserted at random places.
    originals = rng.choice(
        np.setdiff1d(clean, donors), size=FAULTS["duplicate_record"], replace=False
    )
    copies = text.loc[originals]
    combined = pd.concat([text, copies], ignore_index=True)
    # Each copy goes after its original, so the original is the one kept.
    keys = np.concatenate(
        [np.arange(n, dtype=float), originals + rng.uniform(0.1, 0.9, len(originals))]
    )
    combined = combined.iloc[np.argsort(keys, kind="stable")].reset_index(drop=True)
    return combined, SWAPPED


def write_registry(
    demo: DemoRegistry,
    directory: str | Path,
    *,
    earlier: DemoRegistry | None = None,
) -> dict[str, Path]:
    """Write ``registry.csv`` (``;``, decimal commas, UTF-8 BOM) and ``truth.csv``.

    Parameters
    ----------
    demo
        The registry and its ground truth, from :func:`generate_registry`.
    directory
        Folder to write into; created if missing. Existing files of those names are
        replaced.
    earlier
        The earlier survey's registry: both then go into ``registry.csv`` with their
        survey year in a column ``tahun`` (:data:`DEMO_PERIODS`), the earlier one first,
        and the earlier survey's truth into ``truth_<year>.csv``.

    Returns
    -------
    dict
        ``{"registry": path, "truth": path}`` and, with ``earlier``,
        ``"earlier_truth": path``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"registry": directory / "registry.csv", "truth": directory / "truth.csv"}
    registry = demo.registry
    if earlier is not None:
        before, now = DEMO_PERIODS
        registry = pd.concat(
            [earlier.registry.assign(tahun=before), registry.assign(tahun=now)],
            ignore_index=True,
        )
        paths["earlier_truth"] = directory / f"truth_{before}.csv"
        write_csv(earlier.truth, paths["earlier_truth"])
    write_csv(registry, paths["registry"], sep=";", bom=True)
    write_csv(demo.truth, paths["truth"])
    return paths


DEMO_CONFIG = """\
# klastergeo run configuration written by `klastergeo demo`.
# Re-run with: klastergeo run --config {config}
out = "{out}"                # the run's folder (replaced whole by every run)

[records]
path = "registry.csv"       # ';'-delimited, decimal commas, UTF-8 with BOM
decimal = "auto"
sector_digits = 2

[columns]
id = "id_usaha"
lat = "lintang"
lon = "bujur"
sector = "kbli"
workers = "tenaga_kerja"
output = "nilai_produksi"
investment = "investasi"
name = "nama_usaha"

[area]
code = "33"                 # Jawa Tengah
level = "desa"

[analysis]
permutations = {permutations}
seed = {seed}
weights = "queen"
tolerance_m = 10.0
islands = "nearest"

[sentra]
min_firms = 20
lq_threshold = 2.0
confidence = 95

[typology]
# Markusen typology: ownership (lokal / cabang / negara) and local linkages (0/1)
ownership = "kepemilikan"
linkages = ["pemasok_lokal", "pembeli_lokal"]

[diagnosis.items]
# Porter's diamond: diagnosis item = registry column (1-5 survey scores; 0/1 also works)
infrastructure = "infrastruktur"
raw_materials = "bahan_baku"
finance = "akses_modal"
demand_trend = "tren_permintaan"
demand_quality = "mutu_permintaan"
government_support = "dukungan_pemerintah"
bds = "layanan_bds"
cooperation = "kerja_sama"
rivalry = "persaingan"
training = "pelatihan"

[model]
# The Surakarta study's firm attributes (linear probability model of sentra membership).
predictors = ["skala_ekonomi", "intensitas_sda", "jaringan_kemitraan", "nilai_produksi",
              "inovasi", "akses_pasar", "investasi"]
kinds = ["lpm", "logit", "probit"]

[map]
lang = "id"
"""


def write_config(
    directory: str | Path,
    *,
    out: str | Path | None = None,
    permutations: int = 999,
    seed: int = 0,
    periods: bool = False,
) -> Path:
    """Write the demo's run configuration (``klastergeo.toml``) next to its registry;
    ``out`` (default: ``<directory>/run``) is written relative to it.

    Parameters
    ----------
    directory
        Folder holding the registry (``registry.csv``); the configuration goes there.
    out
        The run's output folder, written as a path relative to ``directory``; None means
        ``<directory>/run``.
    permutations, seed
        ``analysis.permutations`` and ``analysis.seed`` of the configuration.
    periods
        The registry holds both surveys (``tahun``): the run analyses each and follows
        the sentra across them (``records.period_col``).

    Returns
    -------
    Path
        The written ``klastergeo.toml``.
    """
    directory = Path(directory)
    path = directory / "klastergeo.toml"
    target = Path(out) if out is not None else directory / "run"
    relative = Path(os.path.relpath(target.absolute(), directory.absolute())).as_posix()
    text = DEMO_CONFIG.format(config=path, out=relative, permutations=permutations, seed=seed)
    if periods:
        text = text.replace(
            "sector_digits = 2\n",
            'sector_digits = 2\nperiod_col = "tahun"           # the survey year: 2019 or 2023\n',
        )
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
