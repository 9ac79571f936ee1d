"""A generator of firm registries whose related industries are sentra themselves: the
supplier and the buyer of a sentra each form a sentra of their own beside or across
it, as weavers, sarong makers and silk traders do around Sengkang. Wajo (South
Sulawesi, 190 real villages), unlike the demo (Java) and
:mod:`tests.worlds.value_chain` (Lombok Timur, related firms mixed into the sentra's
villages around their centres).

Every village gets background firms (Poisson, mean 12) of twelve sectors. Planted
sentra are whole villages; every firm, background or planted, lies uniformly inside
its village (:func:`tests.worlds.places.points_in`), so a sentra spreads over its
villages' shapes instead of a point. A sentra's members are the firms of its sector in
its villages, as the pipeline delineates them (by village and sector).

=========  ======  ==========================================================
sentra     sector  villages x planted firms
=========  ======  ==========================================================
sarong     14      v1 x 45, v2 x 45 (v1 and v2 adjacent)
weavers    13      v2 x 25 (across the sarong sentra), v3 x 40 (v3 beside v2)
traders    46      v1 x 25 (across the sarong sentra), v0 x 40 (v0 beside v1)
bricks     23      w1 x 50, far from the sarong chain
quarries   08      w2 x 40 (beside w1), w1 x 10
decoys     16, 10  one village each, three or more contiguity steps from every
           25      village above and from each other: concentrated, not linked
=========  ======  ==========================================================

The planted truth (:data:`LINKS`): sarong's supplier 13 and buyer 46 and bricks'
supplier 08 are co-located, and each related sentra finds its focal sentra back; no
focal sentra is linked to a decoy's sector (:data:`DECOYS`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from tests.worlds.places import points_in

AREA = "73.13"
SECTORS = ("10", "47", "56", "01", "96", "46", "13", "16", "25", "08", "23", "14")
SHARES = np.array([0.22, 0.22, 0.12, 0.1, 0.08, 0.05, 0.04, 0.04, 0.04, 0.03, 0.03, 0.03])
#: sentra -> (sector, {village role: planted firms}); roles are placed by :func:`_places`.
PLAN = {
    "sarong": ("14", {"v1": 45, "v2": 45}),
    "weavers": ("13", {"v2": 25, "v3": 40}),
    "traders": ("46", {"v1": 25, "v0": 40}),
    "bricks": ("23", {"w1": 50}),
    "quarries": ("08", {"w2": 40, "w1": 10}),
    "wood": ("16", {"d16": 50}),
    "food": ("10", {"d10": 60}),
    "metal": ("25", {"d25": 50}),
}
#: (sentra, related sector, role in the default linkage table) planted as co-located.
LINKS = (
    ("sarong", "13", "supplier"),
    ("sarong", "46", "buyer"),
    ("bricks", "08", "supplier"),
    ("weavers", "14", "co-located"),
    ("traders", "14", "co-located"),
    ("quarries", "23", "co-located"),
)
#: The focal sentra and the decoys' sectors, concentrated far away: never linked.
FOCAL = ("sarong", "bricks")
DECOYS = ("16", "10", "25")
#: Contiguity steps between a decoy and every other planted village.
FAR = 3


@dataclass(frozen=True)
class World:
    firms: pd.DataFrame  # lon, lat, sector, sentra (its sentra's name or None)
    places: dict[str, str]  # village role (v0 ... d25) -> village code


def _steps(graph, start: set[str]) -> dict[str, int]:
    """Contiguity steps from the villages ``start`` to every village reached."""
    seen = dict.fromkeys(start, 0)
    todo = deque(start)
    while todo:
        here = todo.popleft()
        for there in graph[here].index:
            if there not in seen:
                seen[there] = seen[here] + 1
                todo.append(there)
    return seen


def _beside(graph, code: str, avoid: set[str], rng: np.random.Generator) -> str | None:
    options = sorted(c for c in graph[code].index if c not in avoid)
    return options[int(rng.integers(len(options)))] if options else None


def _chain(graph, codes: list[str], rng: np.random.Generator) -> dict[str, str] | None:
    """v0 - v1 - v2 - v3 (each beside the one before, v0 and v3 not beside v2 and v1),
    and w1 - w2 at least ``FAR`` steps from them."""
    v1 = codes[int(rng.integers(len(codes)))]
    v2 = _beside(graph, v1, {v1}, rng)
    if v2 is None:
        return None
    v3 = _beside(graph, v2, {v1, v2, *graph[v1].index}, rng)
    v0 = _beside(graph, v1, {v1, v2, *graph[v2].index}, rng)
    if v3 is None or v0 is None or v3 in graph[v0].index:
        return None
    steps = _steps(graph, {v0, v1, v2, v3})
    far = sorted(c for c in codes if steps.get(c, FAR) >= FAR)
    if not far:
        return None
    w1 = far[int(rng.integers(len(far)))]
    w2 = _beside(graph, w1, {w1}, rng)
    if w2 is None or steps.get(w2, FAR) < FAR:
        return None
    return {"v0": v0, "v1": v1, "v2": v2, "v3": v3, "w1": w1, "w2": w2}


def _places(graph, rng: np.random.Generator) -> dict[str, str]:
    """The village of every role: the chains, then each decoy ``FAR`` steps from all."""
    codes = sorted(graph.unique_ids)
    for _ in range(10_000):
        found = _chain(graph, codes, rng)
        if found is None:
            continue
        for decoy in ("d16", "d10", "d25"):
            steps = _steps(graph, set(found.values()))
            far = sorted(c for c in codes if steps.get(c, FAR) >= FAR)
            if not far:
                break
            found[decoy] = far[int(rng.integers(len(far)))]
        else:
            return found
    raise RuntimeError("no place for the planted sentra")


def generate(areas: gpd.GeoDataFrame, graph, seed: int) -> World:
    """A registry of Wajo with the planted sentra of :data:`PLAN` (see the module's
    text); ``areas`` indexed by village code, ``graph`` their contiguity."""
    rng = np.random.default_rng(seed)
    places = _places(graph, rng)
    index = {code: k for k, code in enumerate(areas.index)}
    owner = [np.repeat(np.arange(len(areas)), rng.poisson(12, len(areas)))]
    sector = [rng.choice(np.array(SECTORS), len(owner[0]), p=SHARES)]
    for s, villages in PLAN.values():
        for role, count in villages.items():
            owner.append(np.full(count, index[places[role]]))
            sector.append(np.full(count, s))
    at, of = np.concatenate(owner), np.concatenate(sector)
    lon, lat = points_in(areas, at, rng)
    # members: the firms of a sentra's sector in its villages (background ones too)
    sentra = np.full(len(at), None, dtype=object)
    for name, (s, villages) in PLAN.items():
        mine = np.isin(at, [index[places[role]] for role in villages]) & (of == s)
        sentra[mine] = name
    firms = pd.DataFrame({"lon": lon, "lat": lat, "sector": of, "sentra": sentra})
    return World(
        firms=firms.sample(frac=1, random_state=seed).reset_index(drop=True), places=places
    )
