"""Registries that try the co-location by tiles (:func:`klastergeo.analysis.colocation.
tiled_colocation`) where a tile's halo could miss a neighbour: ties on a lattice whose
points lie on the tiles' cell edges, clusters hundreds of kilometres apart with lone
firms between them (far k-th neighbours), a market building of thousands of firms at
one point and a place on a cell corner, and firms across the antimeridian with
longitudes written two ways (-0.001 and 359.999). Each has sentra of planted sectors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = ("lattice", "sparse", "market", "antimeridian")


def firms(kind: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``lon``, ``lat``, ``sector`` and ``sentra_id`` (None outside sentra) of a
    registry of ``kind`` (one of :data:`KINDS`)."""
    rng = np.random.default_rng(seed)
    if kind == "lattice":  # every point on a 0.025-degree lattice: ties, cell edges
        step = np.arange(0, 1.5, 0.025)
        x, y = np.meshgrid(110 + step, -7 + step)
        lon, lat = x.ravel(), y.ravel()
        lon, lat = np.concatenate([lon, lon[:300]]), np.concatenate([lat, lat[:300]])
    elif kind == "sparse":
        centre = rng.uniform([95, -11], [141, 6], (25, 2))
        which = rng.integers(0, 25, 2500)
        lon = np.concatenate(
            [centre[which, 0] + rng.normal(0, 0.01, 2500), rng.uniform(95, 141, 40)]
        )
        lat = np.concatenate(
            [centre[which, 1] + rng.normal(0, 0.01, 2500), rng.uniform(-11, 6, 40)]
        )
    elif kind == "market":
        lon = np.concatenate([np.full(1500, 110.45), 110 + rng.random(2500)])
        lat = np.concatenate([np.full(1500, -7.0), -7.5 + rng.random(2500)])
        lon[1500:1600], lat[1500:1600] = 110.5, -7.0  # a place on a cell corner
    elif kind == "antimeridian":
        lon, lat = rng.uniform(179, 181, 2500), rng.uniform(-1, 1, 2500)
        lon[:80], lon[80:160], lat[:160] = 359.999, -0.001, 0.5
    else:
        raise ValueError(f"kind={kind!r}: one of {KINDS}")
    n = len(lon)
    sector = rng.choice([str(s) for s in range(10, 18)], n)
    sentra = np.full(n, None, dtype=object)
    for j, start in enumerate(rng.choice(n - 60, 5, replace=False)):
        sentra[start : start + 30] = f"S{j}"
        sector[start : start + 25] = str(10 + j)
    return lon, lat, sector, sentra


def members(sentra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions and sentra ids of the firms in a sentra."""
    inside = np.flatnonzero(pd.notna(sentra))
    return inside, sentra[inside]
