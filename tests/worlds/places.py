"""The real villages of an area, as every world over real boundaries starts from, and
firms' points drawn inside them."""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray


def load(data_dir: str | Path, area: str) -> gpd.GeoDataFrame:
    """The villages (``desa``) of ``area`` from the real boundaries in ``data_dir``."""
    from klastergeo.io import boundaries

    return boundaries.load_areas("desa", area=area, source=data_dir)


def villages(data_dir: str | Path, area: str) -> tuple[gpd.GeoDataFrame, object]:
    """The villages of ``area`` and their queen contiguity."""
    from klastergeo.analysis import weights

    areas = load(data_dir, area)
    return areas, weights.contiguity(areas)


def points_in(
    areas: gpd.GeoDataFrame, owner: NDArray[np.int64], rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Uniform points (six decimals) inside ``areas.geometry[owner]``, drawn as the demo
    registry draws its firms (:func:`klastergeo.io.datasets.demo.sample_in`)."""
    from klastergeo.io.datasets.demo import sample_in

    return sample_in(areas.geometry.to_numpy(), owner, rng)


def points_alone_in(
    villages: gpd.GeoDataFrame, owner: NDArray[np.int64], rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Uniform points (six decimals, as written) inside ``villages.geometry[owner]`` and
    inside no other village (real borders overlap a little), by vectorised rejection."""
    geoms = np.asarray(villages.geometry.values, dtype=object)
    shapely.prepare(geoms)
    tree = shapely.STRtree(geoms)
    bounds = shapely.bounds(geoms)
    x = np.full(len(owner), np.nan)
    y = np.full(len(owner), np.nan)
    todo = np.arange(len(owner))
    for _ in range(200):
        if not len(todo):
            break
        b = bounds[owner[todo]]
        cx = np.round(rng.uniform(b[:, 0], b[:, 2]), 6)
        cy = np.round(rng.uniform(b[:, 1], b[:, 3]), 6)
        points = shapely.points(cx, cy)
        pairs = tree.query(points, predicate="intersects")
        hits = np.bincount(pairs[0], minlength=len(todo))
        own = np.zeros(len(todo), dtype=bool)
        mine = pairs[1] == owner[todo][pairs[0]]
        own[pairs[0][mine]] = True
        ok = own & (hits == 1)
        x[todo[ok]], y[todo[ok]] = cx[ok], cy[ok]
        todo = todo[~ok]
    if len(todo):
        raise RuntimeError(f"no point found inside {len(todo)} village(s) alone")
    return x, y


def grow(
    start: str, size: int, graph, allowed: Container[str], rng: np.random.Generator
) -> tuple[str, ...]:
    """``size`` contiguous villages from ``start`` within ``allowed`` (seeded breadth-first
    growth, taking a random frontier village each time); fewer if ``allowed`` runs out."""
    chosen = [start]
    frontier: list[str] = []
    while len(chosen) < size:
        for code in graph[chosen[-1]].index:
            if code in allowed and code not in chosen and code not in frontier:
                frontier.append(code)
        if not frontier:
            break
        chosen.append(frontier.pop(int(rng.integers(len(frontier)))))
    return tuple(chosen)
