"""The compiled point locator against shapely (the reference): same area for every point,
including points on borders, vertices, in holes, islands, overlaps and gaps."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from klastergeo.analysis._engine.locate import UNDECIDED, area_index, locate_xy
from klastergeo.analysis.geometry import _intersecting, locate_points
from tests.worlds.lattice import lattice


def _tricky_areas() -> gpd.GeoSeries:
    """A ring with a hole holding an island, a two-part area, two overlapping squares, a
    triangle with a horizontal edge, a sliver and an empty area."""
    ring = shapely.Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(3, 3), (7, 3), (7, 7), (3, 7)]]
    )
    island = shapely.box(4, 4, 6, 6)
    two_parts = shapely.MultiPolygon([shapely.box(12, 0, 14, 2), shapely.box(12, 5, 14, 9)])
    overlap_a, overlap_b = shapely.box(20, 0, 25, 5), shapely.box(23, 3, 28, 8)
    triangle = shapely.Polygon([(30, 0), (36, 0), (33, 6)])
    sliver = shapely.Polygon([(40, 0), (50, 0.001), (40, 0.002)])
    return gpd.GeoSeries(
        [ring, island, two_parts, overlap_a, overlap_b, triangle, sliver, shapely.Polygon()]
    )


def _check(x: np.ndarray, y: np.ndarray, areas: gpd.GeoSeries) -> None:
    geoms = np.asarray(areas.values, dtype=object)
    expected = _intersecting(x, y, geoms)
    assert locate_points(x, y, areas).tolist() == expected.tolist()
    raw = locate_xy(area_index(geoms), x, y)
    decided = raw != UNDECIDED
    assert (raw[decided] == expected[decided]).all()  # the kernel is never wrong ...
    assert decided.mean() > 0.5  # ... and decides most points itself


def test_tricky_shapes_match_shapely() -> None:
    areas = _tricky_areas()
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-2, 52, 5_000), np.arange(-1, 52, 0.5)])
    y = np.concatenate([rng.uniform(-2, 12, 5_000), np.full(106, 3.0)])  # a row on edges
    vertices = shapely.get_coordinates(areas.values)
    x = np.concatenate([x, vertices[:, 0], [5, 24, 33, np.nan]])
    y = np.concatenate([y, vertices[:, 1], [5, 4, 0, 1]])  # island, overlap, bottom edge
    _check(x, y, areas)
    found = locate_points(np.array([5.0, 24.0, 1.0]), np.array([5.0, 4.0, 1.0]), areas)
    assert found.tolist() == [1, 3, 0]  # the island, the first of two overlapping, the ring


def test_lattice_borders_match_shapely() -> None:
    """Points on 100 m steps over 1 km squares: one in ten lies on a border."""
    areas = lattice(30, 30).geometry
    rng = np.random.default_rng(4)
    x = 400_000 + np.round(rng.uniform(-500, 30_500, 20_000), -2)
    y = 9_100_000 + np.round(rng.uniform(-500, 30_500, 20_000), -2)
    _check(x, y, areas)


def test_real_villages_match_shapely(data_dir) -> None:
    """The villages of Kabupaten Klaten and Sukoharjo (gaps, overlaps, slivers) and points
    at 6 decimals, as registries write them, many on the villages' own vertices."""
    from klastergeo.io import boundaries

    parts = [
        boundaries.load_areas("desa", area=code, source=data_dir) for code in ("33.10", "33.11")
    ]
    areas = gpd.GeoSeries(pd.concat([part.geometry for part in parts]).to_numpy(), crs=4326)
    rng = np.random.default_rng(5)
    lo, hi = areas.total_bounds[:2], areas.total_bounds[2:]
    x = np.round(rng.uniform(lo[0], hi[0], 50_000), 6)
    y = np.round(rng.uniform(lo[1], hi[1], 50_000), 6)
    vertices = shapely.get_coordinates(areas.values)[::7]
    _check(np.concatenate([x, vertices[:, 0]]), np.concatenate([y, vertices[:, 1]]), areas)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 100, allow_nan=False),
            st.floats(0, 100, allow_nan=False),
            st.floats(1, 40, allow_nan=False),
            st.integers(3, 9),
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 2**32 - 1),
)
def test_random_polygons_match_shapely(shapes, seed) -> None:
    """Star-shaped polygons of 3-9 vertices (convex or not), overlapping at will."""
    rng = np.random.default_rng(seed)
    polygons = []
    for cx, cy, radius, k in shapes:
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radii = radius * rng.uniform(0.2, 1.0, k)
        polygon = shapely.Polygon(
            np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
        )
        polygons.append(shapely.make_valid(polygon))
    areas = gpd.GeoSeries(polygons)
    x = np.round(rng.uniform(-10, 140, 3_000), 1)
    y = np.round(rng.uniform(-10, 140, 3_000), 1)
    x = np.concatenate([x, shapely.get_coordinates(areas.values)[:, 0]])
    y = np.concatenate([y, shapely.get_coordinates(areas.values)[:, 1]])
    geoms = np.asarray(areas.values, dtype=object)
    assert locate_points(x, y, areas).tolist() == _intersecting(x, y, geoms).tolist()


@pytest.mark.parametrize("n", [0, 1, 70_000])
def test_sizes_and_order(n: int) -> None:
    """Results come back in the points' order, whatever their number (two threads)."""
    areas = lattice(10, 10).geometry
    rng = np.random.default_rng(n)
    x = rng.uniform(400_000, 410_000, n)
    y = rng.uniform(9_100_000, 9_110_000, n)
    expected = (np.floor((y - 9_100_000) / 1000) * 10 + np.floor((x - 400_000) / 1000)).astype(int)
    assert locate_points(x, y, areas).tolist() == expected.tolist()


def test_index_is_built_once_per_geometry_array() -> None:
    import gc

    from klastergeo.analysis._engine import locate

    areas = lattice(3, 3).geometry
    first = area_index(np.asarray(areas.values, dtype=object), key=areas.values)
    assert area_index(np.asarray(areas.values, dtype=object), key=areas.values) is first
    number = id(areas.values)
    del areas
    gc.collect()
    assert number not in locate._CACHE  # dropped with its key
