"""Boundaries: loading, study areas, the source SQL parser and the downloader."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from klastergeo.errors import BoundaryError, ConfigError, DownloadError
from klastergeo.io import boundaries

# --------------------------------------------------------------------------------------
# Loading real boundaries (counts from the data set's README)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "count"), [("kabupaten", 35), ("kecamatan", 576), ("desa", 8563)]
)
def test_jawa_tengah_counts(data_dir: Path, level: str, count: int) -> None:
    areas = boundaries.load_areas(level, area="33", source=data_dir)
    assert len(areas) == count
    assert areas.index.name == "area_code"
    assert areas.index.is_monotonic_increasing
    assert areas.crs.to_epsg() == 4326
    assert set(areas.geom_type) <= {"Polygon", "MultiPolygon"}


def test_area_prefix_respects_dots(data_dir: Path) -> None:
    gatak = boundaries.load_areas("desa", area="33.11.11", source=data_dir)
    assert len(gatak) == 14
    assert gatak.loc["33.11.11.2013", "name"] == "Trangsan"
    # '33.1' must not select 33.10..33.19: codes are matched on whole parts
    with pytest.raises(ConfigError, match="is not a Kemendagri code"):
        boundaries.load_areas("desa", area="33.1", source=data_dir)


def test_unknown_area_is_explained(data_dir: Path) -> None:
    with pytest.raises(BoundaryError, match=r"area '33\.99' selects no kecamatan"):
        boundaries.load_areas("kecamatan", area="33.99", source=data_dir)


def test_study_area_is_the_unit_itself(data_dir: Path) -> None:
    jateng = boundaries.study_area("33", source=data_dir)
    assert list(jateng.index) == ["33"]
    sukoharjo = boundaries.study_area("33.11", source=data_dir)
    assert list(sukoharjo.index) == ["33.11"]


def test_load_names_without_geometry(data_dir: Path) -> None:
    names = boundaries.load_names("kecamatan", area="33.11", source=data_dir)
    assert names["33.11.11"] == "Gatak"
    assert len(names) == 12


def test_resolution_order(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KLASTERGEO_DATA_DIR", raising=False)
    with pytest.raises(BoundaryError, match="klastergeo boundaries download --area CODE"):
        boundaries.resolve_source(None)
    monkeypatch.setenv("KLASTERGEO_DATA_DIR", str(data_dir))
    assert boundaries.resolve_source(None) == data_dir
    local = tmp_path / "data" / "boundaries"
    local.mkdir(parents=True)
    shutil.copy(data_dir / "provinsi.parquet", local / "provinsi.parquet")
    assert boundaries.resolve_source(None) == data_dir  # the environment comes before data/
    monkeypatch.delenv("KLASTERGEO_DATA_DIR")
    assert boundaries.resolve_source(None) == Path("data/boundaries")
    assert boundaries.resolve_source(local) == local  # the flag comes first
    with pytest.raises(BoundaryError, match="neither a polygon file"):
        boundaries.resolve_source(tmp_path / "missing")


def test_custom_polygon_file(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"ID_DESA": ["A-1", "A-2", "B-1"], "NAMA_DESA": ["Satu", "Dua", "Tiga"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(5, 5, 6, 6)],
        crs=4326,
    )
    path = tmp_path / "desa.gpkg"
    frame.to_file(path)
    areas = boundaries.load_areas(source=path, id_col="ID_DESA", name_col="NAMA_DESA", area="A")
    assert list(areas.index) == ["A-1", "A-2"]
    assert areas.loc["A-2", "name"] == "Dua"
    with pytest.raises(BoundaryError, match="cannot tell the id column; pass --area-id-col"):
        boundaries.load_areas(source=path)
    with pytest.raises(BoundaryError, match="have no column 'KODE'"):
        boundaries.load_areas(source=path, id_col="KODE")
    frame.assign(ID_DESA=["X", "X", "Y"]).to_file(tmp_path / "dupes.gpkg")
    with pytest.raises(BoundaryError, match="repeated ids 'X'"):
        boundaries.load_areas(source=tmp_path / "dupes.gpkg", id_col="ID_DESA")


# --------------------------------------------------------------------------------------
# The SQL parser
# --------------------------------------------------------------------------------------

SQL = """/* header comment with 'quotes' */
DELETE FROM wilayah_boundaries WHERE kode BETWEEN '99.00' AND '99.99';
INSERT INTO wilayah_boundaries(kode,nama,lat,lng,path) VALUES
\t('99.01','Kab. D\\'Arcy',-1.5,100.5,'[[[-1.0,100.0],[-1.0,101.0],[-2.0,101.0],[-2.0,100.0],[-1.0,100.0]]]'),
\t('99.02','Bow''tie',-1.5,102.5,'[[[-1.0,102.0],[-2.0,103.0],[-1.0,103.0],[-2.0,102.0],[-1.0,102.0]]]'),
\t('99.03','Multi',NULL,NULL,'[[[[1.0,100.0],[1.0,101.0],[0.0,101.0],[1.0,100.0]]],[[[3.0,100.0],[3.0,101.0],[2.0,101.0],[3.0,100.0]]]]');
"""


def test_parser_flips_lat_lng_and_unescapes_names() -> None:
    frame = boundaries.parse_wilayah_sql(SQL).set_index("kode")
    assert list(frame.index) == ["99.01", "99.02", "99.03"]
    assert frame.loc["99.01", "nama"] == "Kab. D'Arcy"
    assert frame.loc["99.02", "nama"] == "Bow'tie"
    assert frame.loc["99.01", "kode_prov"] == "99"
    # [lat, lng] pairs become x = longitude, y = latitude
    assert frame.geometry["99.01"].bounds == (100.0, -2.0, 101.0, -1.0)


def test_parser_repairs_invalid_rings_and_keeps_multipolygons() -> None:
    frame = boundaries.parse_wilayah_sql(SQL).set_index("kode")
    bowtie = frame.geometry["99.02"]
    assert bowtie.is_valid
    assert bowtie.geom_type == "MultiPolygon"
    assert len(bowtie.geoms) == 2
    assert bowtie.area == pytest.approx(0.5)  # two triangles of 0.25 square degrees
    assert frame.geometry["99.03"].geom_type == "MultiPolygon"
    assert len(frame.geometry["99.03"].geoms) == 2


def test_parser_rejects_text_without_rows() -> None:
    with pytest.raises(BoundaryError, match="no 'INSERT INTO wilayah_boundaries' rows"):
        boundaries.parse_wilayah_sql("SELECT 1;")


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("wilayah_boundaries_kab_31.sql", "kabupaten"),
        ("wilayah_boundaries_kec_34.sql", "kecamatan"),
    ],
)
def test_parser_reproduces_the_shared_geoparquet(
    source_sample: Path, data_dir: Path, name: str, level: str
) -> None:
    """The converted sample equals the independently converted shared data set."""
    parsed = boundaries.parse_wilayah_sql((source_sample / name).read_text(encoding="utf-8"))
    parsed = parsed.set_index("kode")
    prov = parsed["kode_prov"].iloc[0]
    shared = gpd.read_parquet(
        data_dir / f"{level}.parquet", filters=[("kode_prov", "=", prov)]
    ).set_index("kode")
    assert sorted(parsed.index) == sorted(shared.index)
    assert (parsed["nama"] == shared["nama"].reindex(parsed.index)).all()
    same = parsed.geometry.geom_equals_exact(shared.geometry.reindex(parsed.index), tolerance=1e-9)
    assert same.all()


def test_source_files_selection() -> None:
    assert [f.path for f in boundaries.source_files("kabupaten", "31")] == [
        "db/kab/wilayah_boundaries_kab_31.sql"
    ]
    desa_33 = boundaries.source_files("desa", "33")
    assert len(desa_33) == 35
    assert [f.path for f in boundaries.source_files("desa", "33.11.11")] == [
        "db/kel/33/wilayah_boundaries_kel_33.11.sql"
    ]
    assert len(boundaries.source_files("provinsi", "33")) == 8  # province files are numbered
    assert all(len(f.sha256) == 64 for f in desa_33)


# --------------------------------------------------------------------------------------
# The downloader, against a mirror served from 127.0.0.1
# --------------------------------------------------------------------------------------


@pytest.fixture
def mirror(tmp_path: Path, source_sample: Path) -> Iterator[str]:
    root = tmp_path / "mirror"
    (root / "db" / "kab").mkdir(parents=True)
    (root / "db" / "kec").mkdir(parents=True)
    shutil.copy(source_sample / "wilayah_boundaries_kab_31.sql", root / "db" / "kab")
    shutil.copy(source_sample / "wilayah_boundaries_kec_34.sql", root / "db" / "kec")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_download_converts_and_merges(mirror: str, tmp_path: Path, data_dir: Path) -> None:
    dest = tmp_path / "boundaries"
    cache = tmp_path / "cache"
    seen: list[str] = []
    written = boundaries.download(
        "31",
        levels=["kabupaten"],
        dest=dest,
        base_url=mirror,
        cache_dir=cache,
        progress=lambda d, i, n: seen.append(d),
    )
    assert written == [dest / "kabupaten.parquet"]
    assert seen
    jakarta = gpd.read_parquet(dest / "kabupaten.parquet")
    assert list(jakarta.columns) == ["kode", "nama", "geometry", "kode_prov"]
    assert sorted(jakarta["kode"]) == ["31.01", "31.71", "31.72", "31.73", "31.74", "31.75"]
    # the converted file is loadable by the toolkit like the shared data set
    areas = boundaries.load_areas("kabupaten", area="31", source=dest)
    shared = boundaries.load_areas("kabupaten", area="31", source=data_dir)
    assert areas.geometry.geom_equals_exact(shared.geometry, tolerance=1e-9).all()

    # re-downloading an area replaces its rows and keeps those of other provinces
    yogya = gpd.read_parquet(data_dir / "kabupaten.parquet", filters=[("kode_prov", "=", "34")])
    stale = pd.concat([yogya, jakarta.assign(nama="OLD")], ignore_index=True)
    gpd.GeoDataFrame(stale, crs=4326).to_parquet(dest / "kabupaten.parquet")
    boundaries.download("31", levels=["kabupaten"], dest=dest, base_url=mirror, cache_dir=cache)
    merged = gpd.read_parquet(dest / "kabupaten.parquet").set_index("kode")
    assert len(merged) == len(yogya) + 6
    assert not (merged["nama"] == "OLD").any()
    assert merged.index.is_monotonic_increasing

    boundaries.download("34", levels=["kecamatan"], dest=dest, base_url=mirror, cache_dir=cache)
    assert len(gpd.read_parquet(dest / "kecamatan.parquet")) == 78


def test_download_checks_sha256(mirror: str, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "path,bytes,sha256\ndb/kab/wilayah_boundaries_kab_31.sql,33445," + "0" * 64 + "\n"
    )
    with pytest.raises(DownloadError, match="failed its sha256 check"):
        _download_kabupaten("31", mirror, tmp_path, manifest=manifest)
    assert not (tmp_path / "out" / "kabupaten.parquet").exists()


def test_download_reports_missing_files(mirror: str, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"cannot download .*kab_32\.sql"):
        _download_kabupaten("32", mirror, tmp_path)


def _download_kabupaten(area: str, mirror: str, tmp_path: Path, **kwargs: object) -> None:
    boundaries.download(
        area,
        levels=["kabupaten"],
        dest=tmp_path / "out",
        base_url=mirror,
        cache_dir=tmp_path / "cache",
        **kwargs,
    )  # type: ignore[arg-type]


def test_level_of_code() -> None:
    assert [boundaries.level_of_code(c) for c in ("33", "33.11", "33.11.11", "33.11.11.2013")] == [
        "provinsi",
        "kabupaten",
        "kecamatan",
        "desa",
    ]
