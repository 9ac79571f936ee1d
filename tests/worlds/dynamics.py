"""A generator of multi-period registries with planted sentra trends, unlike the demo's
single survey and unlike :mod:`tests.worlds.sentra` (Bali, not Java; three surveys: 2016, 2019,
2023).

Every one of Bali's 716 villages gets background firms in every period, drawn anew each
survey (a seeded multinomial mix of ten sectors, about 12 firms a village, towns denser).
On top, at seeded, disjoint places (each sentra a few contiguous villages):

==========  ======  =====================================================================
lineage     sector  firms per village in 2016 / 2019 / 2023
==========  ======  =====================================================================
growing     31      12 / 20 / 30 (three villages)
declining   13      30 / 20 / 11 (three villages)
stable      14      20 / 21 / 19 (three villages)
new         23      - / 16 / 18 (three villages)
gone        25      25 / 22 / - (three villages)
split       16      15 / 15 / 15 in a chain of five villages whose middle one empties in
                    2023, leaving two sentra of two villages
merged      32      two pairs of villages with a gap village between them, 16 each;
                    in 2023 the gap fills (16) and the five villages are one sentra
==========  ======  =====================================================================

"-" is the background only. The planted truth is each lineage's trend.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

PERIODS = (2016, 2019, 2023)
#: The province whose real villages the world is made on (Bali).
AREA = "51"
SECTORS = ("10", "47", "56", "13", "14", "16", "23", "25", "31", "32")
SHARES = np.array([0.32, 0.28, 0.12, 0.04, 0.05, 0.04, 0.04, 0.04, 0.04, 0.03])
#: Lineage -> (sector, firms per village per period; 0 is the background only).
PLAN = {
    "growing": ("31", (12, 20, 30)),
    "declining": ("13", (30, 20, 11)),
    "stable": ("14", (20, 21, 19)),
    "new": ("23", (0, 16, 18)),
    "gone": ("25", (25, 22, 0)),
}


@dataclass(frozen=True)
class World:
    areas: gpd.GeoDataFrame
    graph: object
    counts: dict[int, pd.DataFrame]  # period -> villages x sectors
    trends: dict[str, tuple[str, tuple[str, ...]]]  # trend -> (sector, planted villages)


def _chain(graph, size: int, taken: set[str], rng: np.random.Generator) -> tuple[str, ...]:
    """``size`` villages in a chain (each next to the one before), none taken or next
    to a taken one, from a seeded start."""
    codes = list(graph.unique_ids)
    for _ in range(10_000):
        chain = [codes[int(rng.integers(len(codes)))]]
        while len(chain) < size:
            options = [
                c
                for c in graph[chain[-1]].index
                if c not in chain
                and not any(n in chain[:-1] for n in graph[c].index)  # no shortcut
            ]
            if not options:
                break
            chain.append(options[int(rng.integers(len(options)))])
        around = set(chain) | {n for c in chain for n in graph[c].index}
        if len(chain) == size and not around & taken:
            return tuple(chain)
    raise RuntimeError("no free chain of villages")


def generate(areas: gpd.GeoDataFrame, graph, seed: int) -> World:
    """The world of the module docstring, seeded (places and counts)."""
    rng = np.random.default_rng(seed)
    codes = areas.index
    town = codes.str.match(r"51\.7\d\.")
    taken: set[str] = set()
    places = {}
    for name in (*PLAN, "split", "merged"):
        size = {"split": 5, "merged": 5}.get(name, 3)
        places[name] = _chain(graph, size, taken, rng)
        taken |= set(places[name]) | {n for c in places[name] for n in graph[c].index}
    counts = {}
    for k, period in enumerate(PERIODS):
        totals = rng.poisson(np.where(town, 30.0, 12.0))
        frame = pd.DataFrame(
            rng.multinomial(totals, SHARES), index=codes, columns=list(SECTORS), dtype=np.int64
        )
        for name, (sector, per_village) in PLAN.items():
            if per_village[k]:
                frame.loc[list(places[name]), sector] += per_village[k]
        split = list(places["split"])
        keep = split if k < 2 else split[:2] + split[3:]  # the middle village empties
        frame.loc[keep, "16"] += 15
        merged = list(places["merged"])
        pairs = merged if k == 2 else merged[:2] + merged[3:]  # the gap fills in 2023
        frame.loc[pairs, "32"] += 16
        counts[period] = frame
    trends = {
        **{name: (sector, places[name]) for name, (sector, _) in PLAN.items()},
        "split": ("16", places["split"]),
        "merged": ("32", places["merged"]),
    }
    return World(areas, graph, counts, trends)


def table(world: World, period: int) -> pd.DataFrame:
    """The area x sector table of one period's counts, as the pipeline builds it."""
    from klastergeo.analysis import aggregate, autocorrelation, specialisation
    from klastergeo.analysis.concentration import location_quotient

    long = world.counts[period].stack().rename("n_firms")
    long.index = long.index.set_names(["area_code", "sector"])
    counts = long.to_frame().assign(workers=long * 2.0, output=long * 5.0)
    matrix = aggregate.wide(counts)
    lq = location_quotient(matrix).rename(columns={"p_value": "lq_p"})
    spec = specialisation.local_specialisation(matrix, world.graph, fdr=True)
    local, _ = autocorrelation.by_sector(matrix, world.graph, permutations=0)
    return counts.join(lq).join(spec).join(local)
