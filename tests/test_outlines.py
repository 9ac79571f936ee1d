"""Parent outlines made of the villages (``dissolve_by_prefix``, ``StudyArea.outlines``):
on real boundaries the lines follow the village borders, which the boundaries' own
kecamatan polygons (simplified on their own) do not."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from klastergeo.analysis.geometry import dissolve_by_prefix, utm_crs
from klastergeo.app.pipeline.study import StudyArea
from klastergeo.io import boundaries
from klastergeo.publish.maps import light_shapes

KLATEN = "33.10"
GAP_M = 25.0


@pytest.fixture(scope="module")
def klaten(data_dir: Path) -> gpd.GeoDataFrame:
    """Kabupaten Klaten's 401 villages, in metres (UTM 49S)."""
    villages = boundaries.load_areas("desa", area=KLATEN, source=data_dir)
    return villages.to_crs(utm_crs(villages))


def _kecamatan(codes: object) -> np.ndarray:
    return np.array([code.rsplit(".", 1)[0] for code in codes], dtype=object)


def _vertex_distances(lines: np.ndarray, target: object) -> np.ndarray:
    """Distance of every vertex of ``lines`` to the nearest of the lines ``target``."""
    parts = shapely.get_parts(np.atleast_1d(np.asarray(target, dtype=object)))
    points = shapely.points(shapely.get_coordinates(lines))
    _, distance = shapely.STRtree(parts).query_nearest(
        points, return_distance=True, all_matches=False
    )
    return distance


def test_squares_slit_filled_enclave_kept_overlap_unioned() -> None:
    frame = gpd.GeoSeries(
        [
            shapely.box(0, 0, 100, 100),
            shapely.box(100.5, 0, 200, 100),  # a 0.5 m slit to its neighbour ...
            shapely.box(0, 100, 200, 150),  # ... closed above ...
            shapely.box(0, -50, 200, 0),  # ... and below: a sliver hole
            shapely.box(150, 50, 250, 150),  # overlaps two of them
            shapely.box(0, 200, 300, 500).difference(shapely.box(100, 300, 200, 400)),
        ],
        crs=32749,
    )
    keys = ["a", "a", "a", "a", "a", "b"]
    out = dissolve_by_prefix(frame, keys, gap_m=5.0)
    assert out.index.tolist() == ["a", "b"]
    a = shapely.union_all([shapely.box(0, -50, 200, 150), shapely.box(150, 50, 250, 150)])
    assert out["a"].area == pytest.approx(a.area, rel=1e-12)
    assert shapely.get_num_interior_rings(out["a"]) == 0
    assert out["b"].area == pytest.approx(300 * 300 - 100 * 100, rel=1e-12)
    assert shapely.get_num_interior_rings(out["b"]) == 1  # 50 m from its edge: an enclave
    plain = dissolve_by_prefix(frame, keys, gap_m=0)
    assert plain["a"].area == pytest.approx(a.area - 0.5 * 100, rel=1e-12)  # the slit stays
    assert shapely.get_num_interior_rings(plain["a"]) == 1


def test_klaten_from_its_villages_equals_their_union(klaten: gpd.GeoDataFrame) -> None:
    geoms = klaten.geometry.to_numpy()
    union = shapely.union_all(geoms)
    plain = dissolve_by_prefix(klaten, [KLATEN] * len(klaten), gap_m=0)
    assert plain[KLATEN].area == pytest.approx(union.area, rel=1e-6)
    out = dissolve_by_prefix(klaten, [KLATEN] * len(klaten), gap_m=GAP_M)
    # what was added is exactly the union's holes no 25 m circle fits in (told apart here
    # by a negative buffer, not by the inscribed circle the function uses)
    rings = [shapely.Polygon(r) for p in shapely.get_parts(union) for r in p.interiors]
    narrow = [r for r in rings if shapely.buffer(r, -GAP_M * 1.01).is_empty]
    wide = [r for r in rings if not shapely.buffer(r, -GAP_M * 0.99).is_empty]
    assert len(narrow) > 100  # the real villages leave slivers between them
    filled = sum(r.area for r in narrow)
    assert out[KLATEN].area == pytest.approx(union.area + filled, rel=1e-6)
    assert filled < 1e-3 * union.area
    assert shapely.get_num_interior_rings(shapely.get_parts(out[KLATEN])).sum() == len(wide)
    # its line is the villages' outer border: every vertex on the union's boundary, and
    # its exterior within a metre (Hausdorff) of the union's
    assert _vertex_distances(out[KLATEN].boundary, union.boundary).max() < 0.01
    outer = shapely.multilinestrings(shapely.get_exterior_ring(shapely.get_parts(union)))
    mine = shapely.multilinestrings(shapely.get_exterior_ring(shapely.get_parts(out[KLATEN])))
    assert shapely.hausdorff_distance(mine, outer) < 1.0


def test_kecamatan_outlines_lie_on_village_borders(
    klaten: gpd.GeoDataFrame, data_dir: Path
) -> None:
    borders = shapely.boundary(klaten.geometry.to_numpy())
    outlines = dissolve_by_prefix(klaten, _kecamatan(klaten.index), gap_m=GAP_M)
    assert len(outlines) == 26
    near = _vertex_distances(shapely.boundary(outlines.to_numpy()), borders)
    assert near.max() < 0.5
    along = shapely.segmentize(shapely.boundary(outlines.to_numpy()), 10.0)
    assert _vertex_distances(along, borders).max() < 0.5
    # as the page draws them (simplified by 50 m like the villages, rounded to 1e-5
    # degrees): its vertices are village vertices, and points along its lines stay near
    # a village border (the topology-preserving simplifier overshoots its tolerance a
    # little: 67 m at most here)
    page = light_shapes(
        gpd.GeoDataFrame({"name": outlines.index}, geometry=outlines.to_numpy(), crs=klaten.crs),
        tolerance_m=50,
    ).to_crs(klaten.crs)
    assert _vertex_distances(shapely.boundary(page.geometry.to_numpy()), borders).max() < 2.0
    along = shapely.segmentize(shapely.boundary(page.geometry.to_numpy()), 10.0)
    assert _vertex_distances(along, borders).max() < 75.0
    # the boundaries' own kecamatan polygons cut through villages, kilometres off
    files = boundaries.load_areas("kecamatan", area=KLATEN, source=data_dir).to_crs(klaten.crs)
    assert _vertex_distances(shapely.boundary(files.geometry.to_numpy()), borders).max() < 10
    along = shapely.segmentize(shapely.boundary(files.geometry.to_numpy()), 10.0)
    assert _vertex_distances(along, borders).max() > 400.0  # their vertices are, not lines


def test_study_area_outlines_dissolve_its_villages(data_dir: Path) -> None:
    polygons = boundaries.analysis_areas("desa", area=KLATEN, source=data_dir)
    study = StudyArea("admin", "desa", None, KLATEN, data_dir, polygons)
    outlines = study.outlines()
    assert outlines is not None
    names = boundaries.load_names("kecamatan", area=KLATEN, source=data_dir)
    assert outlines.index.tolist() == names.index.tolist()
    assert outlines["name"].tolist() == names.tolist()
    assert study.figure_outlines() is outlines  # dissolved once for the map and figures
    metric = utm_crs(polygons)
    borders = shapely.boundary(polygons.to_crs(metric).geometry.to_numpy())
    lines = shapely.boundary(outlines.to_crs(metric).geometry.to_numpy())
    assert _vertex_distances(lines, borders).max() < 0.5


def test_a_study_beyond_the_limit_keeps_the_boundaries_polygons(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from klastergeo.app.pipeline import study as study_mod

    polygons = boundaries.analysis_areas("desa", area=KLATEN, source=data_dir)
    monkeypatch.setattr(study_mod, "DISSOLVE_MAX_AREAS", len(polygons) - 1)
    outlines = StudyArea("admin", "desa", None, KLATEN, data_dir, polygons).outlines()
    files = boundaries.load_areas("kecamatan", area=KLATEN, source=data_dir)
    assert outlines is not None
    assert outlines.geometry.geom_equals_exact(files.geometry, tolerance=0).all()


def test_custom_polygons_have_no_outlines(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    gpd.GeoDataFrame(
        {"kode": ["Z1", "Z2"], "nama": ["Barat", "Timur"]},
        geometry=[shapely.box(110.7, -7.6, 110.8, -7.5), shapely.box(110.8, -7.6, 110.9, -7.5)],
        crs=4326,
    ).to_file(path)
    polygons = boundaries.load_areas(source=path)
    study = StudyArea("custom", "desa", None, None, path, polygons)
    assert study.outlines() is None
    assert study.figure_outlines() is None
