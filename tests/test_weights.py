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


def _geos_queen(
    areas: gpd.GeoDataFrame, tolerance: float, *, link: bool = True
) -> dict[str, set[str]]:
    """Reference of queen contiguity with a tolerance, from GEOS directly: neighbours are the
    areas within ``tolerance`` (CRS units; a shared vertex is distance 0), and (``link``) an
    area with none is linked both ways to the area the STR tree finds nearest."""
    geoms = np.asarray(areas.geometry.values, dtype=object)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=tolerance)
    keep = i != j
    i, j = i[keep], j[keep]
    alone = np.setdiff1d(np.arange(len(geoms)), i) if link else np.zeros(0, dtype=int)
    near = tree.query_nearest(geoms[alone], exclusive=True, all_matches=False)
    focal, nearest = alone[near[0]], near[1]
    ids = areas.index.to_numpy()
    sets: dict[str, set[str]] = {code: set() for code in ids}
    for a, b in zip(
        np.concatenate([i, focal, nearest]), np.concatenate([j, nearest, focal]), strict=True
    ):
        sets[ids[a]].add(ids[b])
    return sets


def _sets(graph) -> dict[str, set[str]]:
    found = _neighbour_sets(graph)
    return {code: found.get(code, set()) for code in graph.unique_ids}


def _odd_world() -> gpd.GeoDataFrame:
    """Villages where borders meet in every way the tolerance must handle (metres, UTM):
    a 3 x 3 lattice with gaps of 9.99 m and 10.01 m, an enclave in a hole with a 4 m ring of
    sea around it, a village lying inside another without a hole (no border within reach),
    a village of two islands, a sliver 10 m from a long concave border, and two islands
    as far from two villages each (a tie for the nearest)."""
    x0, y0 = 400_000.0, 9_100_000.0
    cells = {}
    for r in range(3):
        for c in range(3):
            gap = 9.99 if r < 2 else 10.01
            cells[f"r{r}c{c}"] = shapely.box(
                x0 + c * 1000 + gap / 2,
                y0 + r * 1000,
                x0 + (c + 1) * 1000 - gap / 2,
                y0 + (r + 1) * 1000 - 0.5,
            )
    hole = shapely.box(x0 + 5000, y0, x0 + 5200, y0 + 200)
    cells["holed"] = shapely.box(x0 + 4500, y0 - 500, x0 + 5700, y0 + 700).difference(hole)
    cells["enclave"] = hole.buffer(-4.0, join_style="mitre")
    cells["big"] = shapely.box(x0 + 8000, y0, x0 + 9000, y0 + 1000)
    cells["inside"] = shapely.box(
        x0 + 8400, y0 + 400, x0 + 8600, y0 + 600
    )  # overlaps, no border near
    cells["two_islands"] = shapely.MultiPolygon(
        [
            shapely.box(x0, y0 - 2000, x0 + 300, y0 - 1700),
            shapely.box(x0 + 2500, y0 - 2000, x0 + 2800, y0 - 1700),
        ]
    )
    cells["comb"] = shapely.Polygon(
        [
            (x0 + 12000, y0),
            (x0 + 13000, y0),
            (x0 + 13000, y0 + 1000),
            (x0 + 12900, y0 + 1000),
            (x0 + 12900, y0 + 100),
            (x0 + 12100, y0 + 100),
            (x0 + 12100, y0 + 1000),
            (x0 + 12000, y0 + 1000),
        ]
    )
    cells["sliver"] = shapely.box(x0 + 12110, y0 + 110, x0 + 12890, y0 + 900)  # 10 m from the comb
    cells["tie_a"] = shapely.box(x0 + 20000, y0, x0 + 20100, y0 + 100)
    cells["tie_b"] = shapely.box(x0 + 20300, y0, x0 + 20400, y0 + 100)
    cells["tie_island"] = shapely.box(
        x0 + 20150, y0 + 3000, x0 + 20250, y0 + 3100
    )  # as far from both
    cells["far_island"] = shapely.box(x0 + 30000, y0 + 30000, x0 + 30050, y0 + 30050)
    return gpd.GeoDataFrame(
        geometry=list(cells.values()), index=pd.Index(list(cells), name="area_code"), crs=32749
    )


@pytest.mark.parametrize("tolerance", [1e-6, 4.0, 9.999, 10.0, 10.005, 10.02, 25.0])
def test_tolerance_and_islands_equal_geos_on_odd_borders(tolerance: float) -> None:
    """The compiled search finds what GEOS finds (distance within the tolerance, nearest
    area of the tree for areas left alone), on borders built to be hard: gaps on either side
    of the tolerance, holes, containment, multipolygons, concave borders and ties. (At zero
    tolerance neighbours share a vertex, as GeoDa's: see the pygeoda test.)"""
    areas = _odd_world()
    kept = _sets(weights.contiguity(areas, tolerance=tolerance, islands="keep"))
    assert kept == _geos_queen(areas, tolerance, link=False)
    assert "big" in kept["inside"]  # containment: distance 0 though no border is near
    found = _sets(weights.contiguity(areas, tolerance=tolerance))
    assert found == _geos_queen(areas, tolerance)
    if tolerance >= 4.0:
        assert "holed" in found["enclave"]  # the ring of sea is bridged
    assert len(found["tie_island"] & {"tie_a", "tie_b"}) == 1  # the tree settles the tie
    assert found["far_island"] == {"tie_island"}


@pytest.mark.boundaries
def test_default_contiguity_equals_geos_on_real_villages(data_dir: Path) -> None:
    """Jawa Tengah's 8,563 villages (UTM metres, Karimunjawa's islands included): the
    default tolerance and islands policy give GEOS's neighbours exactly."""
    areas = boundaries.load_areas("desa", area="33", source=data_dir).to_crs(32749)
    for tolerance in (10.0, 50.0):
        found = _sets(weights.contiguity(areas, tolerance=tolerance))
        assert found == _geos_queen(areas, tolerance)


@pytest.mark.slow
@pytest.mark.boundaries
def test_default_contiguity_equals_geos_on_all_villages(data_dir: Path) -> None:
    """All 83,402 villages in longitude/latitude at the default 10 m: the same neighbours as
    GEOS's distance test and nearest-area search (what contiguity was built on before)."""
    areas = gpd.read_parquet(data_dir / "desa.parquet").set_index("kode")
    _, south, _, north = areas.total_bounds
    from klastergeo.analysis.geometry import METRES_PER_DEGREE

    widest = max(abs(south), abs(north))
    degrees = 10.0 / (METRES_PER_DEGREE * np.cos(np.radians(widest)))
    found = _sets(weights.contiguity(areas))
    assert found == _geos_queen(areas, degrees)
