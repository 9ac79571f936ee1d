"""A second generator of sentra, unlike the demo's: Jawa Timur (not Jawa Tengah), real
village boundaries, and the shapes the demo lacks.

Every one of the province's 8,500 villages gets background firms (a seeded multinomial mix
of twelve sectors; kelurahan of the cities denser than villages). On top, at seeded places:

- ``urban``: ten contiguous kelurahan of Kota Malang with 7-18 apparel (14) firms each,
  none reaching 20 alone;
- ``dispersed``: nine contiguous villages of Kabupaten Malang with 8-12 weavers (13);
- ``border``: two villages each side of the Malang-Pasuruan regency border with 12-20
  ceramics (23) firms;
- ``roadside``: the villages along 12 km of a straight road in Kabupaten Jember, 6-12
  wood (16) firms each;
- ``twin_pasuruan`` and ``twin_gresik``: two furniture (31) sentra of three villages in
  different regencies, 15-30 firms each;
- ``hub``: three villages of Sidoarjo with 20-30 metal-product (25) firms, a few of them
  very large (workers do not change the counts);

and two decoys, where no sentra may be found:

- ``city``: nine central kelurahan of Surabaya with 15 times the background, same mix;
- ``estate``: four villages of Gresik with eight times the background's firms, every
  sector as dense (drawn from the same mix).

The table is built from the counts as the pipeline builds it (LQ, specialisation, Gi*).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tests.worlds.places import grow

#: The province whose real villages the world is made on (Jawa Timur).
AREA = "35"
SECTORS = ("10", "47", "56", "13", "14", "15", "16", "22", "23", "25", "31", "32")
SHARES = np.array([0.30, 0.25, 0.10, 0.04, 0.05, 0.03, 0.04, 0.03, 0.04, 0.05, 0.04, 0.03])


@dataclass(frozen=True)
class World:
    areas: gpd.GeoDataFrame  # Jawa Timur's villages, indexed by code
    graph: object  # queen contiguity
    counts: pd.DataFrame  # villages x sectors
    planted: dict[str, tuple[str, tuple[str, ...]]]  # name -> (sector, village codes)
    decoys: dict[str, tuple[str, ...]]  # name -> village codes


def _in(areas: gpd.GeoDataFrame, prefix: str) -> pd.Index:
    return areas.index[areas.index.str.startswith(prefix + ".")]


def _interior(areas, graph, prefix: str, rng: np.random.Generator) -> str:
    """A village of ``prefix`` whose neighbours are all in ``prefix`` too."""
    inside = _in(areas, prefix)
    options = [c for c in inside if all(n.startswith(prefix + ".") for n in graph[c].index)]
    return options[int(rng.integers(len(options)))]


def generate(areas: gpd.GeoDataFrame, graph, seed: int) -> World:
    """The world of the module docstring, seeded (places and counts)."""
    rng = np.random.default_rng(seed)
    codes = areas.index
    city = codes.str.match(r"35\.7\d\.")
    mean = np.where(city, 40.0, 12.0)
    totals = rng.poisson(mean)
    counts = pd.DataFrame(
        rng.multinomial(totals, SHARES), index=codes, columns=list(SECTORS), dtype=np.int64
    )
    planted: dict[str, tuple[str, tuple[str, ...]]] = {}

    def plant(name: str, sector: str, chosen: tuple[str, ...], low: int, high: int) -> None:
        counts.loc[list(chosen), sector] += rng.integers(low, high + 1, len(chosen))
        planted[name] = (sector, chosen)

    malang_kota = _in(areas, "35.73")
    start = _interior(areas, graph, "35.73", rng)
    plant("urban", "14", grow(start, 10, graph, malang_kota, rng), 7, 18)
    malang = _in(areas, "35.07")
    plant(
        "dispersed",
        "13",
        grow(_interior(areas, graph, "35.07", rng), 9, graph, malang, rng),
        8,
        12,
    )
    # the border: a Malang village touching Pasuruan, one more on each side
    pasuruan = _in(areas, "35.14")
    edge = [c for c in malang if any(n in pasuruan for n in graph[c].index)]
    a = edge[int(rng.integers(len(edge)))]
    b = next(n for n in graph[a].index if n in pasuruan)
    side_a = grow(a, 2, graph, malang, rng)
    side_b = grow(b, 2, graph, pasuruan, rng)
    plant("border", "23", side_a + side_b, 12, 20)
    plant("roadside", "16", _road(areas, graph, rng), 6, 12)
    for name, prefix in (("twin_pasuruan", "35.14"), ("twin_gresik", "35.25")):
        inside = _in(areas, prefix)
        plant(name, "31", grow(_interior(areas, graph, prefix, rng), 3, graph, inside, rng), 15, 30)
    sidoarjo = _in(areas, "35.15")
    plant("hub", "25", grow(_interior(areas, graph, "35.15", rng), 3, graph, sidoarjo, rng), 20, 30)
    # decoys: dense in every sector, in the background's mix
    surabaya = _in(areas, "35.78")
    centre = grow(_interior(areas, graph, "35.78", rng), 9, graph, surabaya, rng)
    counts.loc[list(centre)] = rng.multinomial(rng.poisson(40 * 15, len(centre)), SHARES)
    gresik = _in(areas, "35.25").difference(list(planted["twin_gresik"][1]))
    taken = set(planted["twin_gresik"][1]) | {
        n for c in planted["twin_gresik"][1] for n in graph[c].index
    }
    allowed = gresik.difference(list(taken))
    estate = grow(allowed[int(rng.integers(len(allowed)))], 4, graph, allowed, rng)
    counts.loc[list(estate)] = rng.multinomial(rng.poisson(12 * 8, len(estate)), SHARES)
    return World(areas, graph, counts, planted, {"city": centre, "estate": estate})


def _road(areas: gpd.GeoDataFrame, graph, rng: np.random.Generator) -> tuple[str, ...]:
    """The villages a straight 12 km road crosses, inside Kabupaten Jember, in a seeded
    direction from a seeded interior village (at least four of them, contiguous)."""
    jember = areas.loc[_in(areas, "35.09")]
    metric = jember.to_crs(32749)
    while True:
        start = metric.geometry.iloc[int(rng.integers(len(metric)))].representative_point()
        angle = rng.uniform(0, np.pi)
        end = shapely.Point(start.x + 12_000 * np.cos(angle), start.y + 12_000 * np.sin(angle))
        road = shapely.LineString([start, end])
        crossed = metric.index[metric.geometry.intersects(road)]
        if 4 <= len(crossed) <= 12 and _contiguous(crossed, graph):
            return tuple(crossed)


def _contiguous(codes: pd.Index, graph) -> bool:
    seen = {codes[0]}
    stack = [codes[0]]
    while stack:
        for n in graph[stack.pop()].index:
            if n in codes and n not in seen:
                seen.add(n)
                stack.append(n)
    return len(seen) == len(codes)


def table(world: World, *, seed: int = 0) -> pd.DataFrame:
    """The area x sector table of the world's counts, as the pipeline builds it."""
    from klastergeo.analysis import aggregate, autocorrelation, specialisation
    from klastergeo.analysis.concentration import location_quotient

    long = world.counts.stack().rename("n_firms")
    long.index = long.index.set_names(["area_code", "sector"])
    counts = long.to_frame().assign(workers=long * 2.0, output=long * 5.0)
    matrix = aggregate.wide(counts)
    lq = location_quotient(matrix).rename(columns={"p_value": "lq_p"})
    spec = specialisation.local_specialisation(matrix, world.graph, fdr=True)
    local, _ = autocorrelation.by_sector(matrix, world.graph, permutations=0, seed=seed)
    return counts.join(lq).join(spec).join(local)
