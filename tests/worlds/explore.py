"""A world for the map's exploration (linked Moran scatterplot, significance filter):
a 14 x 14 lattice of villages with seeded Poisson counts of two sectors and a planted
sentra of sector 31 whose counts are far above the rest (so a clipped axis would hide
them), its area table as the pipeline builds it, and the map's exploration input."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.worlds.lattice import area_table, lattice

#: The planted sentra of sector 31: village -> firms of the sector.
SENTRA = {"r6c6": 400, "r6c7": 250, "r7c6": 180, "r7c7": 120, "r5c6": 60}


def explore_world(seed: int = 3) -> tuple:
    """``(areas, graph, table, counts)``: the lattice, its queen weights, the area table
    (specialisation, Gi* and LISA with 999 permutations) and the firm counts per area
    and sector (areas x sectors, the values of the LISA)."""
    from klastergeo.analysis import weights

    rng = np.random.default_rng(seed)
    areas = lattice(14, 14)
    graph = weights.contiguity(areas)
    firms = {
        code: {"10": int(rng.poisson(4)) + 1, "31": int(rng.poisson(1.5))}
        for code in areas.index
    }
    for code, n in SENTRA.items():
        firms[code]["31"] = n
    table = area_table(areas, firms, graph, seed=seed)
    counts = pd.DataFrame(firms).T.reindex(areas.index)
    counts.columns.name = "sector"
    return areas, graph, table, counts
