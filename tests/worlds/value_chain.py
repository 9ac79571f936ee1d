"""A generator of firm registries with planted value chains around sentra: suppliers,
buyers and related industries mixed into the sentra's villages, unlike the demo (Lombok
Timur, NTB, 254 real villages; not Java).

Every village gets background firms (Poisson, mean 14) of eleven sectors, placed
uniformly in its bounding box around its centroid. At seeded, disjoint places:

=========  ======  ===========================  =====================================
sentra     sector  villages x firms a village   planted around it (firms a village)
=========  ======  ===========================  =====================================
furniture  31      3 x 40                       supplier 16 (8), buyer 46 (6)
apparel    14      2 x 50                       supplier 13 (10)
metal      25      1 x 60                       supplier 24 (10), related 28 (8)
tiles      23      4 x 25 (a chain)             supplier 08 (6); no buyer: 46 and 47
                                                are present elsewhere, so missing
=========  ======  ===========================  =====================================

A sentra's firms and its planted related firms are drawn together around the village's
centroid (a normal spread of about 250 m), as workshops and their suppliers share a
hamlet. The planted truth: each sentra's related sectors, and the tiles sentra's missing
buyers.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

AREA = "52.03"
SECTORS = ("10", "47", "56", "46", "16", "13", "24", "28", "08", "01", "96")
SHARES = np.array([0.25, 0.25, 0.12, 0.06, 0.05, 0.05, 0.04, 0.04, 0.04, 0.05, 0.05])
#: sentra -> (sector, villages, firms a village, {related sector: firms a village}).
PLAN = {
    "furniture": ("31", 3, 40, {"16": 8, "46": 6}),
    "apparel": ("14", 2, 50, {"13": 10}),
    "metal": ("25", 1, 60, {"24": 10, "28": 8}),
    "tiles": ("23", 4, 25, {"08": 6}),
}
#: Degrees of about 250 m at this latitude (8.6 S).
SPREAD = 0.0023


@dataclass(frozen=True)
class World:
    firms: pd.DataFrame  # lon, lat, sector, sentra (planted sentra name or None)
    places: dict[str, tuple[str, ...]]  # sentra -> its villages


def _places(graph, rng: np.random.Generator) -> dict[str, tuple[str, ...]]:
    """Contiguous, disjoint and non-touching villages for every planted sentra."""
    codes = list(graph.unique_ids)
    taken: set[str] = set()
    out: dict[str, tuple[str, ...]] = {}
    for name, (_, size, _, _) in PLAN.items():
        for _ in range(10_000):
            chain = [codes[int(rng.integers(len(codes)))]]
            while len(chain) < size:
                options = [c for c in graph[chain[-1]].index if c not in chain]
                if not options:
                    break
                chain.append(options[int(rng.integers(len(options)))])
            around = set(chain) | {n for c in chain for n in graph[c].index}
            if len(chain) == size and not around & taken:
                out[name] = tuple(chain)
                taken |= around
                break
        else:
            raise RuntimeError(f"no place for {name}")
    return out


def generate(areas: gpd.GeoDataFrame, graph, seed: int) -> World:
    rng = np.random.default_rng(seed)
    places = _places(graph, rng)
    centre = areas.geometry.representative_point()
    bounds = areas.geometry.bounds
    n = rng.poisson(14, len(areas))
    which = np.repeat(np.arange(len(areas)), n)
    # uniform in a box of half the village's extent around a point inside it
    half_w = ((bounds["maxx"] - bounds["minx"]) / 4).to_numpy()[which]
    half_h = ((bounds["maxy"] - bounds["miny"]) / 4).to_numpy()[which]
    frames = [
        pd.DataFrame(
            {
                "lon": centre.x.to_numpy()[which] + rng.uniform(-1, 1, len(which)) * half_w,
                "lat": centre.y.to_numpy()[which] + rng.uniform(-1, 1, len(which)) * half_h,
                "sector": rng.choice(np.array(SECTORS), len(which), p=SHARES),
                "sentra": None,
            }
        )
    ]
    index = {code: k for k, code in enumerate(areas.index)}
    for name, (sector, _, firms, related) in PLAN.items():
        for code in places[name]:
            spot = centre.iloc[index[code]]
            for s, count in {sector: firms, **related}.items():
                frames.append(
                    pd.DataFrame(
                        {
                            "lon": spot.x + rng.normal(0, SPREAD, count),
                            "lat": spot.y + rng.normal(0, SPREAD, count),
                            "sector": s,
                            "sentra": name if s == sector else None,
                        }
                    )
                )
    firms = pd.concat(frames, ignore_index=True)
    return World(
        firms=firms.sample(frac=1, random_state=seed).reset_index(drop=True), places=places
    )
