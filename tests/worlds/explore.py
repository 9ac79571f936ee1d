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
        code: {"10": int(rng.poisson(4)) + 1, "31": int(rng.poisson(1.5))} for code in areas.index
    }
    for code, n in SENTRA.items():
        firms[code]["31"] = n
    table = area_table(areas, firms, graph, seed=seed)
    counts = pd.DataFrame(firms).T.reindex(areas.index)
    counts.columns.name = "sector"
    return areas, graph, table, counts


def emerging_world() -> tuple:
    """``(areas, sentra, lineages, emerging)`` of a change map over three periods: a
    6 x 6 lattice, one sentra lineage, and every emerging hot-spot category once in
    sector 31 (in the order of :data:`klastergeo.analysis.dynamics.CATEGORIES`, hot then
    cold, then "no pattern"), and a new hot spot of sector 10."""
    import geopandas as gpd

    from klastergeo.analysis import dynamics

    areas = lattice(6, 6)
    periods = ["2016", "2019", "2023"]
    sentra = gpd.GeoDataFrame(
        {
            "period": periods,
            "sentra_id": ["31-01"] * 3,
            "sector": ["31"] * 3,
            "name": ["Trangsan"] * 3,
            "area_codes": ["r2c2"] * 3,
            "n_firms": [40, 60, 90],
        },
        geometry=[areas.geometry["r2c2"]] * 3,
        crs=areas.crs,
    )
    lineages, _ = dynamics.lineages(sentra, periods=periods)
    lineage = dynamics.lineage_of(lineages, periods)
    keys = pd.MultiIndex.from_arrays([sentra["period"], sentra["sentra_id"]])
    sentra["lineage_id"] = lineage.reindex(keys).to_numpy()
    names = [f"{c} {w} spot" for w in ("hot", "cold") for c in dynamics.CATEGORIES]
    names.append("no pattern")
    codes = list(areas.index[: len(names)])
    index = pd.MultiIndex.from_arrays(
        [[*codes, codes[-1]], ["31"] * len(names) + ["10"]], names=["area_code", "sector"]
    )
    emerging = pd.DataFrame({"category": [*names, "new hot spot"]}, index=index)
    return areas, sentra, lineages, emerging, periods


def colocation_world(seed: int = 5) -> tuple:
    """``(firms, pairs)``: 175 firms on a plain, as points: 70 of sector 16 and 50 of
    sector 31 in one place, each a few metres from its own firm of 16 (co-located), 15 of sector 31 and
    40 of sector 10 in another, 11 km east (no firm of 16 near: isolated, as 16 is 40 %
    of the firms, so eight neighbours without one happen by chance 1.7 % of the time);
    ``pairs``, the global CLQ table of every pair with ``significant`` as the pipeline
    marks it (p below 0.05 and CLQ above 1)."""
    import geopandas as gpd

    from klastergeo.analysis import colocation

    rng = np.random.default_rng(seed)
    blocks = [("16", 70, 110.0), ("31", 50, 110.0), ("31", 15, 110.1), ("10", 40, 110.1)]
    sector = np.concatenate([[s] * n for s, n, _ in blocks])
    x0 = np.concatenate([[x] * n for _, n, x in blocks])
    lon = x0 + rng.uniform(0, 0.02, len(sector))
    lat = -7.0 + rng.uniform(0, 0.02, len(sector))
    # each western firm of 31 a few metres from its own firm of 16
    host = rng.choice(70, 50, replace=False)
    lon[70:120] = lon[host] + rng.uniform(-5e-5, 5e-5, 50)
    lat[70:120] = lat[host] + rng.uniform(-5e-5, 5e-5, 50)
    order = rng.permutation(len(sector))  # the sectors' firms interleaved in the input
    firms = gpd.GeoDataFrame(
        {
            "sector": sector[order],
            "name": [f"UD {k}" for k in range(len(sector))],
            "lon": lon[order],
            "lat": lat[order],
        },
        geometry=gpd.points_from_xy(lon[order], lat[order]),
        crs=4326,
    )
    pairs = colocation.global_clq(lon, lat, sector, permutations=199, seed=seed)
    pairs = pairs.assign(significant=(pairs["p_value"] < 0.05) & (pairs["clq"] > 1))
    return firms, pairs
