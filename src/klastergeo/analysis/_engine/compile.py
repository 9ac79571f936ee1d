"""Compile and cache the numba kernels ahead of the first real call.

numba compiles a kernel on its first call and, with ``cache=True``, stores the machine code
under ``NUMBA_CACHE_DIR`` (or ``__pycache__``). Running every kernel once on a tiny lattice
at install time (``klastergeo compile``, called by ``make``) moves the few seconds of
compilation out of the user's first analysis. Each kernel is compiled for the argument
types the library passes, so the tiny run covers the same signatures as a national one.
"""

from __future__ import annotations

import logging
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["compile_kernels"]

logger = logging.getLogger(__name__)


def _lattice(rows: int = 4, cols: int = 4) -> gpd.GeoDataFrame:
    x, y = np.meshgrid(np.arange(cols, dtype=float), np.arange(rows, dtype=float))
    cells = shapely.box(x.ravel(), y.ravel(), x.ravel() + 1, y.ravel() + 1)
    ids = pd.Index([f"c{i:02d}" for i in range(rows * cols)], name="area_code")
    return gpd.GeoDataFrame(geometry=cells, index=ids, crs="EPSG:32749")


def compile_kernels() -> float:
    """Run every compiled kernel once on a 4 x 4 lattice; returns the seconds it took."""
    from klastergeo.analysis import autocorrelation, weights

    start = time.perf_counter()
    areas = _lattice()
    queen = weights.contiguity(areas)
    weights.contiguity(areas, rook=True)
    weights.contiguity(areas, tolerance=0.5)
    island = gpd.GeoDataFrame(
        geometry=[shapely.box(90, 90, 91, 91)], index=["island"], crs=areas.crs
    )
    weights.contiguity(pd.concat([areas, island]))  # the nearest-area search of islands
    values = pd.DataFrame(
        np.random.default_rng(0).poisson(3.0, (len(areas), 2)).astype(float), index=areas.index
    )
    quiet = logging.getLogger("klastergeo")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        for graph in (queen, weights.kernel(areas, bandwidth=2.5)):  # shared, general counts
            autocorrelation.local_moran(values, graph, permutations=9, seed=0)
            autocorrelation.local_gstar(values, graph, permutations=9, seed=0)
            autocorrelation.local_gstar(values, graph, star=False, permutations=9, seed=0)
        autocorrelation.local_join_count((values > 3).astype(float), queen, permutations=9)
        from klastergeo.analysis.geometry import locate_points

        corners = areas.geometry.total_bounds
        grid = np.linspace(corners[0] - 0.5, corners[2] + 0.5, 9)
        locate_points(grid, np.linspace(corners[1] - 0.5, corners[3] + 0.5, 9), areas.geometry)
    finally:
        quiet.setLevel(level)
    seconds = time.perf_counter() - start
    logger.info("compiled the kernels in %.1f s", seconds)
    return seconds
