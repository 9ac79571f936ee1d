"""Firms to areas: assignment, counts, location quotients, H3 cells."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from klastergeo.analysis import aggregate
from klastergeo.analysis.concentration import location_quotient
from klastergeo.analysis.geometry import locate_points
from klastergeo.io import boundaries
from tests.worlds.lattice import lattice


def _assign(
    points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, snap_m: float = 100.0
) -> pd.Series:
    """The area each point lies in, as validation assigns firms (None: in none)."""
    geoms = areas.geometry.to_crs(points.crs)
    pos = locate_points(
        points.geometry.x.to_numpy(), points.geometry.y.to_numpy(), geoms, snap_m=snap_m
    )
    codes = np.asarray(areas.index, dtype=object)
    out = np.full(len(pos), None, dtype=object)
    out[pos >= 0] = codes[pos[pos >= 0]]
    return pd.Series(out, index=points.index, dtype=object)


@pytest.fixture
def two_boxes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["A", "B"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
        index=pd.Index(["a", "b"], name="area_code"),
        crs=32749,
    )


def _points(xy: list[tuple[float, float]], crs: int = 32749) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        geometry=[shapely.Point(x, y) for x, y in xy],
        crs=crs,
        index=pd.Index([f"p{i}" for i in range(len(xy))], name="record_id"),
    )


def test_border_points_go_to_one_area(two_boxes: gpd.GeoDataFrame) -> None:
    pts = _points([(500, 500), (1000, 500), (1000, 0), (1500, 500)])
    codes = _assign(pts, two_boxes, snap_m=0)
    assert codes.tolist() == ["a", "a", "a", "b"]


def test_gaps_snap_within_tolerance_else_missing(two_boxes: gpd.GeoDataFrame) -> None:
    pts = _points([(1500, 1050), (1500, 1200), (-30, 500)])
    codes = _assign(pts, two_boxes, snap_m=100)
    assert codes.tolist() == ["b", None, "a"]


def test_assignment_agrees_with_geopandas_sjoin(data_dir: Path) -> None:
    """Independent implementation: a plain geopandas spatial join."""
    areas = boundaries.load_areas("desa", area="33.11", source=data_dir)
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = areas.total_bounds
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(
            rng.uniform(minx, maxx, 20_000), rng.uniform(miny, maxy, 20_000)
        ),
        crs=4326,
    )
    ours = _assign(pts, areas, snap_m=0)
    joined = gpd.sjoin(pts, areas[["geometry"]].reset_index(), how="left", predicate="within")
    single = joined.groupby(level=0)["area_code"].agg(["first", "size"])
    inside = single["size"].eq(1) & single["first"].notna()
    assert inside.sum() > 10_000
    assert (ours[inside.to_numpy()] == single.loc[inside, "first"]).all()
    # points in no area per sjoin are unassigned by us too (without snapping)
    outside = single["first"].isna().to_numpy()
    assert ours[outside].isna().all()


def test_counts_keep_empty_areas_and_sum_values() -> None:
    firms = pd.DataFrame(
        {
            "area_code": ["a", "a", "b", None],
            "sector": ["13", "31", "13", "13"],
            "workers": [2.0, np.nan, 5.0, 1.0],
            "output": [10.0, 20.0, 30.0, 40.0],
            "investment": [1.0, 2.0, np.nan, 4.0],
        }
    )
    counts = aggregate.count_by_area(firms, pd.Index(["a", "b", "c"]))
    assert counts.shape == (6, 4)
    assert counts.loc[("a", "31"), "investment"] == 2.0
    # a cell whose firms report no value is missing, never 0 (issue 25)
    assert np.isnan(counts.loc[("b", "13"), "investment"])
    assert counts.loc[("a", "13"), "n_firms"] == 1
    assert counts.loc[("c", "31"), "n_firms"] == 0
    assert np.isnan(counts.loc[("a", "31"), "workers"])  # unknown workers: missing
    assert counts.loc[("c", "31"), "workers"] == 0.0  # no firms: nothing to sum
    assert counts.loc[("b", "13"), "output"] == 30.0
    assert counts["n_firms"].sum() == 3  # the unlocated firm is not counted


def test_location_quotient_closed_form() -> None:
    matrix = pd.DataFrame({"13": [8, 2, 0], "31": [2, 8, 0]}, index=["a", "b", "c"])
    lq = location_quotient(matrix)["lq"].unstack("sector")
    # a: share 0.8 of its firms in 13, region share 0.5 -> 1.6
    assert lq.loc["a", "13"] == pytest.approx(1.6)
    assert lq.loc["b", "13"] == pytest.approx(0.4)
    assert lq.loc["c"].isna().all()
    # with totals over more sectors than shown
    totals = pd.Series([20, 10, 0], index=["a", "b", "c"])
    lq_t = location_quotient(matrix, totals=totals)["lq"].unstack("sector")
    assert lq_t.loc["a", "13"] == pytest.approx((8 / 20) / (10 / 30))


def test_h3_cells_match_h3() -> None:
    rng = np.random.default_rng(0)
    lat = rng.uniform(-8, -6, 1000)
    lon = rng.uniform(108, 111, 1000)
    ours = aggregate.h3_cells(lat, lon, 8)
    ref = [h3.latlng_to_cell(a, b, 8) for a, b in zip(lat, lon, strict=True)]
    assert ours.tolist() == ref


def test_h3_grid_covers_study_area_with_empty_cells() -> None:
    outline = gpd.GeoDataFrame(geometry=[shapely.box(110.0, -7.6, 110.2, -7.4)], crs=4326)
    far_cell = h3.latlng_to_cell(-7.35, 110.1, 7)  # a firm just outside the outline
    grid = aggregate.h3_grid(outline, 7, extra_cells=[far_cell])
    assert far_cell in grid.index
    centres = [h3.cell_to_latlng(c) for c in grid.index]
    inside = sum(-7.6 <= la <= -7.4 and 110.0 <= lo <= 110.2 for la, lo in centres)
    assert inside == len(grid) - 1
    assert set(grid.geom_type) == {"Polygon"}
    # each hexagon geometry contains its cell centre
    lat, lon = zip(*centres, strict=True)
    assert shapely.contains_xy(grid.geometry.values, np.array(lon), np.array(lat)).all()


def test_lattice_assignment_is_complete() -> None:
    grid = lattice(3, 3)
    pts = grid.geometry.representative_point()
    codes = _assign(gpd.GeoDataFrame(geometry=pts.values, crs=grid.crs), grid)
    assert codes.tolist() == list(grid.index)
