"""Automatic scale: incremental spatial autocorrelation with planted clustering scales."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from klastergeo.analysis import autocorrelation as ac
from klastergeo.analysis import scale, weights
from klastergeo.errors import ConfigError, DataError


def _grid(side: int, spacing: float = 100.0) -> gpd.GeoSeries:
    xs, ys = np.meshgrid(np.arange(side) * spacing, np.arange(side) * spacing)
    index = pd.Index([f"p{i}" for i in range(side * side)], name="area_code")
    return gpd.GeoSeries(
        gpd.points_from_xy(xs.ravel() + 400_000, ys.ravel() + 9_100_000), crs=32749, index=index
    )


def _blobs(points: gpd.GeoSeries, radius: float, centres: list[tuple[float, float]]) -> pd.Series:
    x, y = points.x.to_numpy(), points.y.to_numpy()
    values = np.zeros(len(points))
    for cx, cy in centres:
        values += 50.0 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2))
    noise = np.random.default_rng(3).poisson(1.0, len(points))
    return pd.Series(np.round(values) + noise, index=points.index)


def test_bands_equal_the_general_moran() -> None:
    points = _grid(15)
    y = _blobs(points, 200, [(400_500, 9_100_500)])
    table = scale.incremental_autocorrelation(points, y, bands=4, start=150, increment=100)
    for row in table.itertuples():
        graph = weights.distance_band(points, threshold=row.distance)
        ref = ac.global_moran(y, graph, permutations=0, transform="b")
        assert row.moran_i == pytest.approx(ref.value, rel=1e-9)
        assert row.z == pytest.approx(ref.z_rand, rel=1e-9)
    assert list(table["distance"]) == [150, 250, 350, 450]


def test_planted_cluster_scale_gives_a_peak() -> None:
    points = _grid(40)
    centres = [
        (400_000 + cx, 9_100_000 + cy) for cx in (600, 2000, 3400) for cy in (600, 2000, 3400)
    ]
    y = _blobs(points, 250, centres)
    choice = scale.choose_scale(points, y)
    assert choice.method == "distance_band"
    assert "first peak" in choice.reason
    assert 100 <= choice.distance <= 1200
    graph = scale.scale_graph(points, choice)
    assert graph.isolates.empty


def test_no_clustering_falls_back_to_knn() -> None:
    points = _grid(20)
    y = pd.Series(np.random.default_rng(1).permutation(np.arange(400.0)), index=points.index)
    choice = scale.choose_scale(points, y, k=6)
    assert choice.method == "knn" and choice.k == 6
    assert "nearest neighbours" in choice.reason
    assert (scale.scale_graph(points, choice).cardinalities == 6).all()


def test_defaults_skip_locational_outliers() -> None:
    points = _grid(10)
    far = gpd.GeoSeries(
        gpd.points_from_xy([450_000], [9_150_000]),
        crs=32749,
        index=pd.Index(["island"], name="area_code"),
    )
    points = pd.concat([points, far])
    y = pd.Series(np.arange(len(points), dtype=float), index=points.index)
    table = scale.incremental_autocorrelation(points, y, bands=3)
    assert table["distance"].iloc[0] == pytest.approx(100.0)  # not the island's 50 km
    assert (table["without_neighbours"] == 1).all()


def test_errors() -> None:
    points = _grid(5)
    y = pd.Series(1.0, index=points.index)
    with pytest.raises(ConfigError, match="projected CRS"):
        scale.choose_scale(points.to_crs(4326), y)
    with pytest.raises(DataError, match="every area has the same number"):
        scale.choose_scale(points, y)
