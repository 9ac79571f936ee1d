"""Spatial weights: lattices with known neighbours, gaps, islands, and pygeoda on real data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from klastergeo.analysis import weights
from klastergeo.errors import ConfigError
from klastergeo.io import boundaries
from tests.worlds.lattice import lattice


def _neighbours(graph, area: str) -> set[str]:
    return set(graph[area].index) - {area}


def test_queen_and_rook_on_a_lattice() -> None:
    grid = lattice(3, 3)
    queen = weights.contiguity(grid, islands="keep")
    rook = weights.contiguity(grid, rook=True, islands="keep")
    assert _neighbours(queen, "r1c1") == set(grid.index) - {"r1c1"}
    assert _neighbours(queen, "r0c0") == {"r0c1", "r1c0", "r1c1"}
    assert _neighbours(rook, "r1c1") == {"r0c1", "r1c0", "r1c2", "r2c1"}
    assert queen.n_edges == 40  # 3x3 queen lattice: 20 undirected links
    assert rook.n_edges == 24
    assert queen.asymmetry().empty


def test_tolerance_bridges_gaps_between_borders() -> None:
    gappy = lattice(3, 3, gap=2.0)  # neighbours 2 m apart, corners 2.8 m apart
    strict = weights.contiguity(gappy, tolerance=0.0, islands="keep")
    assert len(strict.isolates) == 9
    assert weights.contiguity(gappy, islands="keep").n_edges == 40  # the default: 10 m
    rook = weights.contiguity(gappy, rook=True, islands="keep")  # rook: edges only
    assert len(rook.isolates) == 9
    tolerant = weights.contiguity(gappy, tolerance=5.0, islands="keep")
    assert _neighbours(tolerant, "r1c1") == set(gappy.index) - {"r1c1"}
    assert tolerant.n_edges == 40
    too_small = weights.contiguity(gappy, tolerance=1.0, islands="keep")
    assert len(too_small.isolates) == 9


def test_islands_policy() -> None:
    grid = lattice(2, 2)
    island = grid.iloc[:1].copy()
    island.index = pd.Index(["island"], name="area_code")
    island.geometry = [shapely.box(410_000, 9_100_000, 410_500, 9_100_500)]  # 8 km east
    areas = pd.concat([grid, island])
    kept = weights.contiguity(areas, islands="keep")
    assert list(kept.isolates) == ["island"]
    linked = weights.contiguity(areas, islands="nearest")
    assert linked.isolates.empty
    # nearest by geometry: the squares of column 1 are closest; ties go to one of them
    partner = _neighbours(linked, "island")
    assert len(partner) == 1 and partner <= {"r0c1", "r1c1"}
    (p,) = partner
    assert "island" in _neighbours(linked, p)
    assert linked.asymmetry().empty
    assert list(linked.unique_ids) == list(areas.index)  # order preserved


def test_bad_options_are_explained() -> None:
    grid = lattice(2, 2)
    with pytest.raises(ConfigError, match="must be zero or positive"):
        weights.contiguity(grid, tolerance=-1)
    with pytest.raises(ConfigError, match="islands='sea'"):
        weights.attach_islands(weights.contiguity(grid), grid, how="sea")
    with pytest.raises(ConfigError, match="k=10"):
        weights.knn(grid, k=10)


def test_knn_has_k_neighbours() -> None:
    grid = lattice(4, 4)
    graph = weights.knn(grid, k=3)
    assert (graph.cardinalities == 3).all()


def _neighbour_sets(graph) -> dict[str, set[str]]:
    adjacency = graph.adjacency.reset_index()
    adjacency = adjacency[adjacency["focal"] != adjacency["neighbor"]]
    return {f: set(g["neighbor"]) for f, g in adjacency.groupby("focal")}


def _geodesic_knn(lon: np.ndarray, lat: np.ndarray, k: int) -> np.ndarray:
    """Brute force: the k nearest by geodesic distance on WGS84 (pyproj), every pair."""
    from pyproj import Geod

    n = len(lon)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    _, _, distance = Geod(ellps="WGS84").inv(
        lon[i.ravel()], lat[i.ravel()], lon[j.ravel()], lat[j.ravel()]
    )
    distance = distance.reshape(n, n)
    np.fill_diagonal(distance, np.inf)
    return np.argsort(distance, axis=1, kind="stable")[:, :k]


@pytest.mark.boundaries
def test_knn_on_lon_lat_is_exact(data_dir: Path) -> None:
    """Jawa Tengah's 576 kecamatan in longitude/latitude: the k nearest by geodesic
    distance (brute force, pyproj), and what a k-d tree finds on UTM-projected points."""
    from scipy.spatial import cKDTree

    from klastergeo.analysis.geometry import to_metric

    areas = boundaries.load_areas("kecamatan", area="33", source=data_dir)
    k = 6
    graph = weights.knn(areas, k=k)
    assert (graph.cardinalities == k).all()
    found = _neighbour_sets(graph)
    points = areas.geometry.representative_point()
    nearest = _geodesic_knn(points.x.to_numpy(), points.y.to_numpy(), k)
    codes = areas.index.to_numpy()
    brute = {codes[i]: set(codes[row]) for i, row in enumerate(nearest)}
    assert found == brute
    metric = to_metric(gpd.GeoDataFrame(geometry=points, crs=4326)).geometry
    xy = np.column_stack([metric.x, metric.y])
    _, utm = cKDTree(xy).query(xy, k=k + 1)
    projected = {codes[i]: set(codes[row[1:]]) for i, row in enumerate(utm)}
    same = sum(found[c] == projected[c] for c in codes) / len(codes)
    assert same == 1.0  # one UTM zone (49S) holds Jawa Tengah: the same neighbours
    assert _neighbour_sets(weights.knn(areas, k=k)) == found  # deterministic


def test_knn_of_planar_points_matches_a_kd_tree() -> None:
    """Columbus (a projected, CRS-less layer): exactly a k-d tree's neighbours, and the same
    twice (libpysal's default jitter moved points and changed them between builds)."""
    import libpysal
    from scipy.spatial import cKDTree

    frame = gpd.read_file(libpysal.examples.get_path("columbus.shp")).set_crs(
        None, allow_override=True
    )
    frame.index = frame["POLYID"].astype(str)
    points = frame.geometry.representative_point()
    xy = np.column_stack([points.x, points.y])
    _, tree = cKDTree(xy).query(xy, k=5)
    expected = {frame.index[i]: set(frame.index[row[1:]]) for i, row in enumerate(tree)}
    first = _neighbour_sets(weights.knn(frame, k=4))
    assert first == expected
    assert _neighbour_sets(weights.knn(frame, k=4)) == first


def test_knn_separates_only_coincident_points_with_a_seed() -> None:
    xs = [110.0, 110.0, 110.0, 110.01, 110.02, 110.03, 110.04]
    points = gpd.GeoSeries(gpd.points_from_xy(xs, [-7.0] * 7), crs=4326)
    points.index = [f"p{i}" for i in range(7)]
    graph = weights.knn(points, k=2)
    sets = _neighbour_sets(graph)
    # the three coincident points are each other's two nearest
    assert sets["p0"] == {"p1", "p2"} and sets["p1"] == {"p0", "p2"}
    assert sets["p3"] == {"p4", "p2"} or sets["p3"] == {"p4", "p1"} or sets["p3"] == {"p4", "p0"}
    assert sets["p5"] == {"p4", "p6"} and sets["p6"] == {"p5", "p4"}
    assert _neighbour_sets(weights.knn(points, k=2, seed=0)) == sets
    # which coincident point is p3's nearest depends on the seed only
    seen = {frozenset(_neighbour_sets(weights.knn(points, k=2, seed=s))["p3"]) for s in range(20)}
    assert len(seen) > 1


def test_h3_neighbours() -> None:
    import h3

    centre = h3.latlng_to_cell(-7.5, 110.5, 8)
    ring = h3.grid_disk(centre, 1)
    graph = weights.h3_neighbours(pd.Index(sorted(ring)))
    assert graph.cardinalities[centre] == 6
    assert graph.n_edges == 6 + 6 * 3  # centre: 6; each ring cell: centre + 2 ring cells
    lone = h3.latlng_to_cell(-5.8, 110.4, 8)  # Karimunjawa, far from the ring
    with_lone = weights.h3_neighbours(pd.Index([*sorted(ring), lone]))
    assert list(with_lone.unique_ids) == [*sorted(ring), lone]
    assert list(with_lone.isolates) == [lone]


@pytest.mark.parametrize("rook", [False, True])
def test_contiguity_equals_pygeoda_on_real_villages(data_dir: Path, rook: bool) -> None:
    """Independent implementation: GeoDa's queen and rook weights at zero tolerance, on
    Jawa Tengah's 8,563 villages (all neighbour sets identical)."""
    pygeoda = pytest.importorskip("pygeoda")
    areas = boundaries.load_areas("desa", area="33", source=data_dir)
    ours = weights.contiguity(areas, rook=rook, tolerance=0.0, islands="keep")
    gda = pygeoda.open(areas.reset_index())
    theirs = pygeoda.rook_weights(gda) if rook else pygeoda.queen_weights(gda)
    ids = list(areas.index)
    matrix = ours.sparse.tocsr()
    same = sum(
        {ids[j] for j in theirs.get_neighbors(i)}
        == {
            ids[j]
            for j in matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]]
            if matrix[i, j] != 0
        }
        for i in range(len(ids))
    )
    assert same == len(ids)
    assert list(ours.unique_ids) == ids


def test_from_pairs_and_isolates() -> None:
    ids = pd.Index(["a", "b", "c"])
    graph = weights.from_pairs(ids, np.array([0, 1]), np.array([1, 0]))
    assert list(graph.isolates) == ["c"]
    assert graph.n_edges == 2
    assert list(graph.unique_ids) == ["a", "b", "c"]


def test_distance_band_and_kernel_need_metres() -> None:
    grid = lattice(3, 3)
    points = grid.geometry.centroid
    band = weights.distance_band(points, threshold=1001)
    assert band.cardinalities["r1c1"] == 4
    inverse = weights.distance_band(points, threshold=1500, binary=False)
    assert inverse.adjacency[("r1c1", "r0c0")] == pytest.approx(1 / np.hypot(1000, 1000))
    with pytest.raises(ConfigError, match="needs a projected CRS"):
        weights.distance_band(points.to_crs(4326), threshold=1000)
    graph = weights.kernel(points, bandwidth=1500)
    assert graph.cardinalities["r1c1"] == 8


def test_default_tolerance_finds_more_real_neighbours(data_dir: Path) -> None:
    villages = boundaries.load_areas("desa", area="33.11", source=data_dir)
    strict = weights.contiguity(villages, tolerance=0.0, islands="keep")
    tolerant = weights.contiguity(villages, tolerance=10, islands="keep")
    assert tolerant.n_edges >= strict.n_edges
    strict_pairs = set(strict.adjacency[strict.adjacency > 0].index)
    tolerant_pairs = set(tolerant.adjacency[tolerant.adjacency > 0].index)
    assert strict_pairs <= tolerant_pairs
    assert np.isclose(tolerant.cardinalities.mean(), tolerant.n_edges / tolerant.n)
