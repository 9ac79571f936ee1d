"""Industrial estates that must stay quiet, and sentra that must still be found: Banten
(not Jawa Timur, not the demo's Jawa Tengah), real village boundaries.

Every one of the province's 1,552 villages gets background firms (a seeded multinomial
mix of ten sectors; the kelurahan of its four cities denser; the rural south, Pandeglang
and Lebak, with 1.7 times the food processing, so the province's mix is not the north's and
a northern estate's ratios depart from 1 by a few percent: what a dense neighbourhood has
the power to call significant). On top, at seeded places in different regencies, no two
of them touching:

- five **estates**, each a few contiguous villages where every sector is several times
  denser than the background, drawn from the same mix (an industrial estate of many
  sectors, or firms of every kind registered at an estate's office): sizes 2 to 8
  villages, densities 4 to 30 times (:data:`ESTATES`);
- six **sentra**, each one to five contiguous villages with 12 to 30 extra firms of
  their sector per village (:data:`SENTRA`), one of them in a city.

The area x sector table is built as the pipeline builds it (LQ, specialisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from tests.worlds.places import grow

#: The province whose real villages the world is made on (Banten).
AREA = "36"
SECTORS = ("10", "47", "56", "13", "14", "16", "22", "23", "25", "31")
SHARES = np.array([0.28, 0.26, 0.12, 0.04, 0.06, 0.05, 0.04, 0.05, 0.06, 0.04])
#: The rural south's mix (Pandeglang 36.01, Lebak 36.02): food processing 1.7 times as common.
SOUTH = np.array([0.48, 0.20, 0.08, 0.03, 0.04, 0.04, 0.03, 0.03, 0.04, 0.03])
#: Estates: (regency prefix, villages, times the background density).
ESTATES = (
    ("36.03", 8, 8.0),  # Kabupaten Tangerang: a large estate, eight times denser
    ("36.04", 5, 15.0),  # Kabupaten Serang (Cikande-like)
    ("36.72", 3, 30.0),  # Kota Cilegon: a small, very dense estate
    ("36.71", 4, 4.0),  # Kota Tangerang: dense city, four times denser still
    ("36.02", 2, 8.0),  # Lebak: two villages
)
#: Sentra: (name, regency prefix, sector, villages, least and most extra firms each).
SENTRA = (
    ("pandeglang_printing", "36.01", "22", 3, 12, 20),
    ("lebak_wood", "36.02", "16", 4, 12, 20),
    ("serang_ceramics", "36.04", "23", 2, 20, 30),
    ("tangerang_apparel", "36.03", "14", 5, 12, 20),
    ("city_metal", "36.71", "25", 2, 15, 25),
    ("serang_furniture", "36.73", "31", 1, 25, 30),
)


@dataclass(frozen=True)
class World:
    areas: gpd.GeoDataFrame  # Banten's villages, indexed by code
    graph: object  # queen contiguity
    counts: pd.DataFrame  # villages x sectors
    planted: dict[str, tuple[str, tuple[str, ...]]]  # name -> (sector, village codes)
    estates: dict[str, tuple[str, ...]]  # name -> village codes


def _place(
    areas: gpd.GeoDataFrame, graph, prefix: str, size: int, taken: set[str], rng
) -> tuple[str, ...]:
    """``size`` contiguous villages of ``prefix``, none of them touching ``taken`` (which
    then holds them and their neighbours)."""
    inside = {c for c in areas.index if c.startswith(prefix + ".")}
    free = inside - taken
    for _ in range(200):  # tries (a few): a start whose group reaches its size
        start = sorted(free)[int(rng.integers(len(free)))]
        chosen = grow(start, size, graph, free, rng)
        if len(chosen) == size:
            taken.update(chosen)
            taken.update(n for c in chosen for n in graph[c].index)
            return chosen
    raise RuntimeError(f"no room for {size} villages in {prefix}")


def generate(areas: gpd.GeoDataFrame, graph, seed: int) -> World:
    """The world of the module docstring, seeded (places and counts)."""
    rng = np.random.default_rng(seed)
    codes = areas.index
    city = codes.str.match(r"36\.7\d\.")
    mean = np.where(city, 35.0, 12.0)
    south = codes.str.match(r"36\.0[12]\.")
    firms = rng.poisson(mean)
    mix = np.where(south[:, None], SOUTH[None, :], SHARES[None, :])
    counts = pd.DataFrame(
        np.vstack([rng.multinomial(n, p) for n, p in zip(firms, mix, strict=True)]),
        index=codes,
        columns=list(SECTORS),
        dtype=np.int64,
    )
    taken: set[str] = set()
    estates: dict[str, tuple[str, ...]] = {}
    for k, (prefix, size, density) in enumerate(ESTATES):
        chosen = _place(areas, graph, prefix, size, taken, rng)
        base = np.where(city[codes.get_indexer(list(chosen))], 35.0, 12.0)
        counts.loc[list(chosen)] = rng.multinomial(rng.poisson(base * density), SHARES)
        estates[f"estate_{k}_{prefix}"] = chosen
    planted: dict[str, tuple[str, tuple[str, ...]]] = {}
    for name, prefix, sector, size, low, high in SENTRA:
        chosen = _place(areas, graph, prefix, size, taken, rng)
        counts.loc[list(chosen), sector] += rng.integers(low, high + 1, len(chosen))
        planted[name] = (sector, chosen)
    return World(areas, graph, counts, planted, estates)


def table(world: World, *, fdr: bool = True, margin: float | None = None) -> pd.DataFrame:
    """The area x sector table of the world's counts, as the pipeline builds it (the
    specialisation statistic with ``fdr`` and ``margin``, default: the library's)."""
    from klastergeo.analysis import aggregate, specialisation
    from klastergeo.analysis.concentration import location_quotient

    long = world.counts.stack().rename("n_firms")
    long.index = long.index.set_names(["area_code", "sector"])
    counts = long.to_frame().assign(workers=long * 2.0, output=long * 5.0)
    matrix = aggregate.wide(counts)
    lq = location_quotient(matrix).rename(columns={"p_value": "lq_p"})
    margin = specialisation.MARGIN if margin is None else margin
    spec = specialisation.local_specialisation(matrix, world.graph, fdr=fdr, margin=margin)
    return counts.join(lq).join(spec)


#: The worker-heavy sentra of :func:`firms`: this sector's firms in a village of Kota
#: Tangerang Selatan (a city no estate or sentra is placed in) and its neighbours employ
#: ``HEAVY_TIMES`` as many workers (their number of firms unchanged).
HEAVY_SECTOR, HEAVY_REGENCY, HEAVY_TIMES = "10", "36.74", 10.0


def firms(world: World, seed: int) -> pd.DataFrame:
    """One row per firm of the world's counts (``area_code``, ``sector``, ``workers``):
    workers drawn per firm (seeded lognormal, median 3, the same law everywhere, the
    estates' firms too), except the worker-heavy sentra (:data:`HEAVY_SECTOR` in
    :func:`heavy_villages`, :data:`HEAVY_TIMES` as many workers)."""
    rng = np.random.default_rng(seed)
    long = world.counts.stack()
    cells = long.index.to_frame(index=False)
    repeat = long.to_numpy()
    area = np.repeat(cells.iloc[:, 0].to_numpy(dtype=object), repeat)
    sector = np.repeat(cells.iloc[:, 1].to_numpy(dtype=object), repeat)
    workers = np.round(rng.lognormal(np.log(3.0), 0.6, len(area))) + 1.0
    heavy = np.isin(area, list(heavy_villages(world))) & (sector == HEAVY_SECTOR)
    workers[heavy] *= HEAVY_TIMES
    return pd.DataFrame({"area_code": area, "sector": sector, "workers": workers})


def heavy_villages(world: World) -> tuple[str, ...]:
    """The villages of the worker-heavy sentra of :func:`firms`: the middle village (by
    code) of :data:`HEAVY_REGENCY` and its neighbours."""
    inside = sorted(c for c in world.areas.index if c.startswith(HEAVY_REGENCY + "."))
    start = inside[len(inside) // 2]
    return (start, *sorted(world.graph[start].index))
