"""Adversarial cases of issue 24 for the Python API's DataFrames and custom boundaries.

Every frame a user can pass to ``klastergeo.run`` gives the result a file holding the same
records would give, or a :class:`~klastergeo.KlastergeoError` (exit 2 on the command
line) naming the column and what is accepted; the scratch copy of the frame never stays
in the temporary folder. Every custom boundaries file is read (repairs logged) or refused
with exit 2 naming the file and the areas. Numbers come from the planted registry of
``tests.worlds.lattice.custom_study`` (its ids, coordinates and codes).

The fuzz rounds at the end build random frames and boundary files (hypothesis);
``KLASTERGEO_FUZZ_EXAMPLES`` sets their number of examples (default 60 each, and 3 full
runs), ``KLASTERGEO_FUZZ_RANDOM`` makes them random rather than derandomised.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import klastergeo
from klastergeo import KlastergeoError
from klastergeo.app import api
from klastergeo.app.cli import app
from klastergeo.app.config import load_config
from klastergeo.app.pipeline import intake
from klastergeo.errors import BoundaryError, ConfigError, ValidationError
from klastergeo.io import boundaries
from klastergeo.io.registry import records
from klastergeo.io.registry.records import ValidationReport
from tests.worlds.lattice import custom_study, lattice

runner = CliRunner()

EXAMPLES = int(os.environ.get("KLASTERGEO_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("KLASTERGEO_FUZZ_RANDOM") is None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
QUICK = {
    "analysis.permutations": 0,
    "pointpattern.enabled": False,
    "report.figures": "none",
    "map.tiles": "none",
    "area.id_col": "kode",
}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A 6 x 6 lattice (``desa.gpkg``, ids ``kode`` 99.00 ... 99.35), its registry with a
    furniture sentra (ids F0 ... F316, all inside), a quick configuration."""
    folder = tmp_path_factory.mktemp("adversarial-api")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=2
    )
    registry["kbli"] = registry["kbli"].astype(object)
    registry.to_csv(folder / "firms.csv", index=False)
    (folder / "quick.toml").write_text(
        '[area]\nid_col = "kode"\n[analysis]\npermutations = 0\n[pointpattern]\n'
        'enabled = false\n[report]\nfigures = "none"\n[map]\ntiles = "none"\n',
        encoding="utf-8",
    )
    return folder, registry


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty temporary folder the code under test uses (``tempfile.tempdir`` and
    ``TMPDIR``), to list what is left in it."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _left(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


_AREAS: dict[Path, gpd.GeoDataFrame] = {}


def _validate(study: tuple[Path, pd.DataFrame], frame: pd.DataFrame, **options) -> ValidationReport:
    """The records of ``frame`` as a run validates them (read, checked against the
    lattice), without the rest of the run."""
    folder, _ = study
    if folder not in _AREAS:
        _AREAS[folder] = boundaries.load_areas(source=folder / "desa.gpkg", id_col="kode")
    config = load_config(None, overrides={**QUICK, **options, "out": str(folder / "unused")})
    work = Path(tempfile.mkdtemp(prefix="validate-", dir=folder))
    with api.staged(frame, config) as settings_:
        registry = intake.read(settings_, work)
        outcome = registry.validate(
            areas=_AREAS[folder],
            snap_m=settings_.area.snap_m,
            sector_digits=2,
            scheduler=settings_.records.scheduler,
        )
        return outcome.report(whole=True)


def _words(text: str) -> str:
    """Output with its line wrapping undone."""
    return " ".join(text.split())


# --------------------------------------------------------------------------------------
# The record ids a DataFrame's index holds
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_ids_in_a_named_index_are_the_record_ids(study, scratch: Path) -> None:
    """The reported case: ``frame.set_index("id")`` gave record ids 1..N; now the ids of
    a whole run are the index's (F0 ... F316), and nothing stays in the temporary
    folder."""
    folder, registry = study
    result = klastergeo.run(
        registry.set_index("id"),
        boundaries=folder / "desa.gpkg",
        out=scratch.parent / "out",
        options=QUICK,
    )
    assert sorted(result.firms.index) == sorted(registry["id"])
    assert result.sentra["sentra_id"].tolist() == ["31-01"]
    assert _left(scratch) == []


INDEX_CASES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    # a named index of any name
    "named index": lambda r: r.drop(columns="id").set_axis(pd.Index(r["id"], name="kode_ukm")),
    "unnamed index of labels": lambda r: r.drop(columns="id").set_axis(
        pd.Index(r["id"].to_numpy())
    ),
    # the labels of the rows a filter kept (a RangeIndex with a step, an Index of int)
    "sliced frame": lambda r: r.drop(columns="id").iloc[::2],
    "filtered frame": lambda r: r.drop(columns="id").loc[lambda f: f["kbli"] == "31001"],
    "sorted frame": lambda r: r.drop(columns="id").sort_values("lat"),
    "named RangeIndex": lambda r: r.drop(columns="id").rename_axis("nomor"),
}


@pytest.mark.parametrize("case", list(INDEX_CASES))
def test_an_index_gives_the_ids_when_there_is_no_id_column(study, case: str) -> None:
    """The ids are the index's labels as text, so firms join back to the frame."""
    _, registry = study
    frame = INDEX_CASES[case](registry)
    report = _validate(study, frame)
    assert report.n_kept == len(frame)
    assert sorted(report.records.index) == sorted(str(v) for v in frame.index)
    kept = report.records.loc[[str(v) for v in frame.index]]
    assert (
        np.allclose(kept["lat"], frame["lat"]) and kept["kbli"].tolist() == frame["kbli"].tolist()
    )


def test_a_plain_range_index_numbers_the_rows_and_an_id_column_wins(study) -> None:
    """The default RangeIndex is row positions: records are numbered 1..N as in a file;
    an id column beside any index gives the ids."""
    _, registry = study
    numbered = _validate(study, registry.drop(columns="id"))
    assert numbered.records.index.tolist()[:3] == ["1", "2", "3"]
    both = _validate(study, registry.set_axis(pd.Index(np.arange(len(registry)) * 7)))
    assert sorted(both.records.index) == sorted(registry["id"])


def test_multiindex_levels_are_columns_and_cannot_be_the_id(study) -> None:
    _, registry = study
    frame = registry.set_index(["kbli", "workers"], drop=False).rename_axis(["kode", "tk"])
    report = _validate(study, frame)
    assert sorted(report.records.index) == sorted(registry["id"])
    assert report.records["kode"].tolist() == report.records["kbli"].tolist()
    no_id = frame.drop(columns="id")
    with pytest.raises(ValidationError, match=r"no id column and a 2-level index \('kode', 'tk'\)"):
        _validate(study, no_id)


def test_an_index_and_a_column_of_one_name(study) -> None:
    _, registry = study
    same = registry.set_index("id", drop=False)  # the column is the index
    assert sorted(_validate(study, same).records.index) == sorted(registry["id"])
    other = registry.set_axis(pd.Index([f"X{i}" for i in range(len(registry))], name="id"))
    with pytest.raises(
        ValidationError, match=r"an index level and a column both named 'id' with different"
    ):
        _validate(study, other)


# --------------------------------------------------------------------------------------
# Column types: read as a file holding the same records would be
# --------------------------------------------------------------------------------------


def _mixed(values: pd.Series, every: int = 3) -> pd.Series:
    """Every ``every``-th value that is a number as a Python int or float, the others
    as text: numbers and text in one object column."""
    out = values.astype(object).copy()
    numbers = pd.to_numeric(values, errors="coerce")
    for i in range(0, len(out), every):
        if np.isfinite(numbers.iloc[i]):
            number = float(numbers.iloc[i])
            out.iloc[i] = int(number) if number.is_integer() else number
    return out


DTYPE_CASES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    # the reported ArrowInvalid: numbers and text in one object column
    "kbli mixed int and text": lambda r: r.assign(kbli=_mixed(r["kbli"])),
    "kbli mixed float and text": lambda r: r.assign(
        kbli=_mixed(r["kbli"]).map(lambda v: float(v) if isinstance(v, int) else v)
    ),
    "coordinates mixed float and text": lambda r: r.assign(
        lat=_mixed(r["lat"].astype(str)), lon=_mixed(r["lon"].astype(str), 2)
    ),
    "extra column mixed": lambda r: r.assign(catatan=_mixed(pd.Series(["1", "x"] * 200)[: len(r)])),
    "kbli categorical": lambda r: r.assign(kbli=r["kbli"].astype("category")),
    "ids string[pyarrow]": lambda r: r.assign(id=r["id"].astype("string[pyarrow]")),
    "ids as bytes": lambda r: r.assign(id=[s.encode() for s in r["id"]]),
    "workers Int64": lambda r: r.assign(workers=r["workers"].astype("Int64")),
    "workers sparse": lambda r: r.assign(workers=pd.arrays.SparseArray(r["workers"].to_numpy())),
    "workers float16": lambda r: r.assign(workers=r["workers"].astype(np.float16)),
    "complex extra": lambda r: r.assign(z=np.full(len(r), 1 + 2j)),
    "sparse extra": lambda r: r.assign(s=pd.arrays.SparseArray(np.arange(len(r)) % 2)),
    "boolean extra": lambda r: r.assign(b=pd.array([True, None] * 200, dtype="boolean")[: len(r)]),
    "bool extra": lambda r: r.assign(b=np.arange(len(r)) % 2 == 0),
    "datetime extras": lambda r: r.assign(
        t=pd.Timestamp("2023-01-02", tz="Asia/Jakarta"), d=pd.Timedelta("3D")
    ),
    "python objects extra": lambda r: r.assign(o=[object()] * len(r)),
    "geodataframe in UTM": lambda r: gpd.GeoDataFrame(
        r.drop(columns=["lat", "lon"]),
        geometry=gpd.points_from_xy(r["lon"], r["lat"], crs=4326),
    ).to_crs(32749),
    "plain frame with a geometry column": lambda r: r.drop(columns=["lat", "lon"]).assign(
        geometry=gpd.points_from_xy(r["lon"], r["lat"], crs=4326)
    ),
}


@pytest.mark.parametrize("case", list(DTYPE_CASES))
def test_column_types_give_the_records_of_the_plain_frame(study, case: str) -> None:
    """Planted truth: every record of the registry is kept with its id, coordinates
    (to 1e-6 degrees, the registry's rounding) and KBLI code, whatever the dtypes."""
    _, registry = study
    report = _validate(study, DTYPE_CASES[case](registry))
    assert report.n_kept == len(registry) and report.n_rejected == 0
    kept = report.records.loc[registry["id"]]
    assert np.allclose(kept["lat"], registry["lat"], atol=1e-6)
    assert np.allclose(kept["lon"], registry["lon"], atol=1e-6)
    assert kept["kbli"].tolist() == registry["kbli"].astype(str).tolist()
    assert kept["workers"].tolist() == registry["workers"].astype(float).tolist()


def test_odd_columns_are_carried_as_text(study) -> None:
    _, registry = study
    frame = registry.assign(
        z=1 + 2j, catatan=_mixed(pd.Series(["7", "ada"] * 200)[: len(registry)])
    )
    kept = _validate(study, frame).records.loc[registry["id"]]
    assert set(kept["z"]) == {"(1+2j)"}
    assert kept["catatan"].tolist()[:4] == ["7", "ada", "7", "ada"]  # 7 as a number: '7'


# --------------------------------------------------------------------------------------
# Frames that cannot be a registry: the project's error, naming the column
# --------------------------------------------------------------------------------------


def _renamed(r: pd.DataFrame, names: list[object]) -> pd.DataFrame:
    out = r.copy()
    out.columns = names
    return out


ERROR_CASES: dict[str, tuple[Callable[[pd.DataFrame], object], type, str]] = {
    "repeated column names": (
        lambda r: pd.concat([r, r[["kbli"]]], axis=1),
        ValidationError,
        r"repeated column name\(s\) \('kbli' at positions 4, 6\)",
    ),
    "names equal as text": (
        lambda r: _renamed(r.assign(x=1, y=2), [*r.columns, 1, "1"]),
        ValidationError,
        r"repeated column name\(s\) \('1' at positions 6, 7\)",
    ),
    "unnamed column": (
        lambda r: _renamed(r, [*r.columns[:-1], None]),
        ValidationError,
        r"unnamed column\(s\) at position\(s\) 5",
    ),
    "MultiIndex columns": (
        lambda r: pd.concat({"firm": r}, axis=1),
        ValidationError,
        r"2 levels of column names .*'_'.join",
    ),
    "no rows": (
        lambda r: r.iloc[:0],
        ValidationError,
        r"the records DataFrame has no rows \(columns: id, lat, lon, kbli, workers\)",
    ),
    "no columns": (lambda r: pd.DataFrame(), ValidationError, r"has no columns"),
    "lone surrogate": (
        lambda r: r.assign(nama=pd.Series(["Toko \ud800"] * len(r), dtype=object)),
        ValidationError,
        r"column 'nama' of the records DataFrame holds text that is not valid Unicode",
    ),
    "bytes not UTF-8 among text": (
        lambda r: r.assign(
            nama=pd.Series(["Toko", b"\xff\xfe"] * (len(r) // 2) + ["x"], dtype=object)
        ),
        ValidationError,
        r"column 'nama' of the records DataFrame holds binary values that are not UTF-8 text",
    ),
    "bytes not UTF-8 among numbers": (
        lambda r: r.assign(nama=pd.Series([7, b"\xff\xfe"] * (len(r) // 2) + [1], dtype=object)),
        ValidationError,
        r"column 'nama' of the records DataFrame holds bytes that are not UTF-8 text \(rows 2, 4",
    ),
    "binary column not UTF-8": (
        lambda r: r.assign(nama=[b"\xff"] * len(r)),
        ValidationError,
        r"column 'nama' of the records DataFrame holds binary values that are not UTF-8",
    ),
    "lists as KBLI codes": (
        lambda r: r.assign(kbli=[["31001", "10710"]] * len(r)),
        ValidationError,
        r"317 record\(s\) rejected and 0 repaired in the records DataFrame, none kept "
        r"\(invalid_sector: 317\)",
    ),
    "no coordinates": (
        lambda r: r.drop(columns=["lat", "lon"]),
        ValidationError,
        r"no lat column found; pass --lat-col NAME",
    ),
    "points in metres without a CRS": (
        lambda r: (
            gpd.GeoDataFrame(
                r.drop(columns=["lat", "lon"]),
                geometry=gpd.points_from_xy(r["lon"], r["lat"], crs=4326),
            )
            .to_crs(32749)
            .set_crs(None, allow_override=True)
        ),
        ValidationError,
        r"the records DataFrame has no CRS, but 317 of its 317 points \(x 400,",
    ),
    "degrees under a UTM CRS": (
        lambda r: gpd.GeoDataFrame(
            r.drop(columns=["lat", "lon"]),
            geometry=gpd.points_from_xy(r["lon"], r["lat"]),
            crs=32749,
        ),
        ValidationError,
        r"declares a projected CRS \(WGS 84 / UTM zone 49S\), but every point",
    ),
    "not a DataFrame": (
        lambda r: r.to_dict("records"),
        ConfigError,
        r"records must be a file path or a pandas DataFrame, not list",
    ),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_frames_that_cannot_be_read_raise_the_projects_error(
    study, scratch: Path, case: str
) -> None:
    """A KlastergeoError (exit 2 on the command line) naming the frame and the column;
    no scratch copy and no output folder left behind (``out`` not given)."""
    folder, registry = study
    make, error, message = ERROR_CASES[case]
    with pytest.raises(error, match=message) as caught:
        klastergeo.run(make(registry), boundaries=folder / "desa.gpkg", options=QUICK)  # type: ignore[arg-type]
    assert isinstance(caught.value, KlastergeoError)
    assert "klastergeo-records-" not in str(caught.value)  # the frame, not its scratch copy
    reports = [Path(p) for p in re.findall(r"see '([^']+rejected.csv)'", str(caught.value))]
    assert all(p.exists() for p in reports)  # a rejection report the message names is kept
    assert _left(scratch) == [p.parents[1].name for p in reports]


# --------------------------------------------------------------------------------------
# The temporary folder: removed after success, error and Ctrl-C
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_temporary_folder_is_cleaned_after_success_error_and_interrupt(
    study, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, registry = study
    out = scratch.parent / "out"
    klastergeo.run(registry, boundaries=folder / "desa.gpkg", out=out, options=QUICK)
    assert _left(scratch) == []  # success: the scratch copy is gone
    result = klastergeo.run(registry, boundaries=folder / "desa.gpkg", options=QUICK)
    assert _left(scratch) == [result.out.parent.name]  # out not given: only the outputs
    assert result.out.parent.name.startswith("klastergeo-") and (result.out / "map.html").exists()
    for path in scratch.iterdir():
        shutil.rmtree(path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    staging = records.stage_frame

    def staged_then_interrupted(*args, **kwargs):
        staging(*args, **kwargs)  # the scratch copy is written whole
        raise KeyboardInterrupt

    for where, replaced, by in (
        ("while staging", records, ("stage_frame", staged_then_interrupted)),
        ("in the middle of the run", intake, ("validate", interrupted)),
    ):
        with monkeypatch.context() as patch:
            patch.setattr(replaced, *by)
            for target in (out, None):  # Ctrl-C
                with pytest.raises(KeyboardInterrupt):
                    klastergeo.run(
                        registry, boundaries=folder / "desa.gpkg", out=target, options=QUICK
                    )
                assert _left(scratch) == [], where
    assert (out / "map.html").exists()  # the earlier outputs in out are untouched


def test_a_run_that_keeps_nothing_names_the_frame_and_keeps_its_report(
    study, scratch: Path
) -> None:
    """Every record outside the study area: the error names the DataFrame (not its
    scratch file), says where the report is, and that report exists."""
    folder, registry = study
    far = registry.assign(lat=registry["lat"] + 3.0)
    with pytest.raises(ValidationError) as caught:
        klastergeo.run(far, boundaries=folder / "desa.gpkg", options=QUICK)
    message = str(caught.value)
    assert "rejected and 0 repaired in the records DataFrame, none kept" in message
    assert "not one record lies in the study area" in message
    report = Path(re.findall(r"see '([^']+)'", message)[-1])
    assert report.exists()
    assert _left(scratch) == [report.parents[1].name]


# --------------------------------------------------------------------------------------
# Custom boundaries files (the command line: exit codes)
# --------------------------------------------------------------------------------------


def _areas(study) -> gpd.GeoDataFrame:
    return gpd.read_file(study[0] / "desa.gpkg")


def _bowtie(geometry: shapely.Geometry) -> shapely.Geometry:
    x0, y0, x1, y1 = geometry.bounds
    return shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])


def _first(frame: gpd.GeoDataFrame, column: str, value: object) -> gpd.GeoDataFrame:
    out = frame.copy()
    values = out[column].astype(object).tolist()
    values[0] = value
    out[column] = values if column != "geometry" else gpd.GeoSeries(values, crs=out.crs)
    return out


BoundaryCase = Callable[[gpd.GeoDataFrame, Path], Path]


def _gpkg(frame: gpd.GeoDataFrame, path: Path) -> Path:
    with warnings.catch_warnings():  # a layer without a CRS is the point of some cases
        warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
        frame.to_file(path)
    return path


def _nan_polygon() -> shapely.Polygon:
    """A triangle with a vertex that is not a number (as a broken export writes it)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        return shapely.Polygon([(110.1, -8.1), (110.2, np.nan), (110.2, -8.1)])


def _empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


BOUNDARY_CASES: dict[str, tuple[BoundaryCase, int, str]] = {
    "UTM without a CRS": (
        lambda a, p: _gpkg(a.to_crs(32749).set_crs(None, allow_override=True), p / "b.gpkg"),
        2,
        r"b.gpkg' have no CRS, but their coordinates \(x 400,000 to 406,000, y 9,100,000 to "
        r"9,106,000\) are not degrees .* Set the file's CRS to the one they are in, e.g. "
        r"ogr2ogr -a_srs EPSG:32749",
    ),
    "UTM in a GeoJSON": (
        lambda a, p: _gpkg(a.to_crs(32749).set_crs(None, allow_override=True), p / "b.geojson"),
        2,
        r"b.geojson' declare a geographic CRS \(WGS 84\), but their coordinates",
    ),
    "degrees labelled UTM": (
        lambda a, p: _gpkg(a.set_crs(32749, allow_override=True), p / "b.gpkg"),
        2,
        r"declare a projected CRS \(WGS 84 / UTM zone 49S\), but every coordinate .* the CRS "
        r"is wrong",
    ),
    "no areas": (lambda a, p: _gpkg(a.iloc[:0], p / "b.gpkg"), 2, r"b.gpkg' hold no areas"),
    "a zero-byte file": (
        lambda a, p: _empty_file(p / "b.gpkg"),
        2,
        r"cannot read boundaries '.*b.gpkg'",
    ),
    "no id column": (
        lambda a, p: _gpkg(a.drop(columns="kode"), p / "b.gpkg"),
        2,
        r"b.gpkg' have no column 'kode'; columns: name",
    ),
    "repeated ids": (
        lambda a, p: _gpkg(_first(a, "kode", "99.01"), p / "b.gpkg"),
        2,
        r"cannot be used: repeated ids '99.01'",
    ),
    "a blank id": (
        lambda a, p: _gpkg(_first(a, "kode", "  "), p / "b.gpkg"),
        2,
        r"cannot be used: 1 area\(s\) without an id \(empty or blank\)",
    ),
    "an id with a control character": (
        lambda a, p: _gpkg(_first(a, "kode", "99\x0100"), p / "b.gpkg"),
        2,
        r"ids holding control characters or ';' \('99\\x0100'\)",
    ),
    "an id with ';'": (
        lambda a, p: _gpkg(_first(a, "kode", "99;00"), p / "b.gpkg"),
        2,
        r"ids holding control characters or ';' \('99;00'\)",
    ),
    "decimal ids": (
        lambda a, p: _gpkg(a.assign(kode=[33.0 + i / 100 for i in range(len(a))]), p / "b.gpkg"),
        2,
        r"id column 'kode' holds decimal numbers \(33.01, 33.02, .*lost its last zero: store "
        r"the id column as text",
    ),
    "a missing geometry": (
        lambda a, p: _gpkg(_first(a, "geometry", None), p / "b.gpkg"),
        2,
        r"1 area\(s\) without geometry \('99.00'\)",
    ),
    "points": (
        lambda a, p: _gpkg(a.assign(geometry=shapely.centroid(a.geometry.values)), p / "b.gpkg"),
        2,
        r"geometries that are not polygons \(Point '99.00', '99.01', .*\(36 in all\)\); areas "
        r"must be polygons",
    ),
    "a line among polygons": (
        lambda a, p: _gpkg(_first(a, "geometry", a.geometry[0].boundary), p / "b.gpkg"),
        2,
        r"geometries that are not polygons \(LineString '99.00'\)",
    ),
    "coordinates that are not numbers": (
        lambda a, p: (
            _first(a, "geometry", _nan_polygon()).to_parquet(p / "b.parquet") or p / "b.parquet"
        ),
        2,
        r"coordinates that are not numbers in area\(s\) '99.00'",
    ),
    "boundaries of another place": (
        lambda a, p: _gpkg(a.set_geometry(a.geometry.translate(5.0, 0.0)), p / "b.gpkg"),
        2,
        r"none kept \(outside_study_area: 317\): not one record lies in the study area; check "
        r"that the records and the boundaries .* CRS",
    ),
    # read, with the repair logged
    "a self-intersecting polygon": (
        lambda a, p: _gpkg(_first(a, "geometry", _bowtie(a.geometry[0])), p / "b.gpkg"),
        0,
        r"1 invalid polygon\(s\) repaired \('99.00'\)",
    ),
    "geometry collections of polygons": (
        lambda a, p: _gpkg(
            a.assign(geometry=[shapely.GeometryCollection([g]) for g in a.geometry]), p / "b.gpkg"
        ),
        0,
        r"36 area\(s\) are geometry collections; their polygons are used",
    ),
    "whole-number ids stored as reals": (
        lambda a, p: _gpkg(a.assign(kode=np.arange(len(a)) + 3300.0), p / "b.gpkg"),
        0,
        r"Sentra \(1\)",
    ),
    "names with control characters and HTML": (
        lambda a, p: _gpkg(
            a.assign(name=["Desa\x01Baru\nLor", "<script>alert(1)</script>", *a["name"][2:]]),
            p / "b.gpkg",
        ),
        0,
        r"1 area name\(s\) of b.gpkg hold control characters \(areas '99.00'\); blanks among "
        r"them are read as spaces, the others as U\+FFFD",
    ),
    "blank names": (
        lambda a, p: _gpkg(_first(a, "name", " "), p / "b.gpkg"),
        0,
        r"1 area\(s\) of b.gpkg have no name in column 'name'; their codes stand in",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BOUNDARY_CASES))
def test_custom_boundaries_are_read_or_refused_clearly(
    study, tmp_path: Path, scratch: Path, case: str
) -> None:
    folder, _ = study
    make, code, message = BOUNDARY_CASES[case]
    path = make(_areas(study), tmp_path)
    result = runner.invoke(
        app,
        [
            "run",
            "--config",
            str(folder / "quick.toml"),
            "--records",
            str(folder / "firms.csv"),
            "--boundaries",
            str(path),
            "--out",
            str(tmp_path / "out"),
            "--lang",  # the library's English messages (Indonesian: test_language_errors)
            "en",
        ],
        catch_exceptions=False,
    )
    output = result.output
    assert result.exit_code == code, output
    assert (
        "Traceback" not in output
        and "internal error" not in output
        and "galat internal" not in output
    )
    assert re.search(message, _words(output)), output
    assert _left(scratch) == []


def test_odd_names_and_number_ids_are_read_as_text(study, tmp_path: Path) -> None:
    """What the boundaries become: control characters as a space (blanks) or U+FFFD,
    HTML kept as text (pages escape it), whole-number ids without '.0', repairs valid."""
    areas = _areas(study)
    areas["name"] = ["Desa\x01Baru\nLor", "<b>Kidul</b>", *areas["name"][2:]]
    areas["kode"] = np.arange(len(areas)) + 3300.0
    areas.loc[2, "geometry"] = _bowtie(areas.geometry[2])
    areas.to_file(tmp_path / "b.gpkg")
    loaded = boundaries.load_areas(source=tmp_path / "b.gpkg", id_col="kode")
    assert loaded.index[:3].tolist() == ["3300", "3301", "3302"]
    assert loaded.loc["3300", "name"] == "Desa\ufffdBaru Lor"
    assert loaded.loc["3301", "name"] == "<b>Kidul</b>"
    assert loaded.geometry.is_valid.all() and loaded.crs.to_epsg() == 4326
    # the bowtie's two triangles: half the area of the box it is drawn in
    cell = lattice(6, 6).to_crs(4326).geometry.iloc[2]
    assert loaded.geometry["3302"].area == pytest.approx(shapely.box(*cell.bounds).area / 2)


@pytest.mark.slow
def test_html_in_area_names_reaches_no_page_as_markup(study, tmp_path: Path) -> None:
    _, registry = study
    areas = _areas(study)
    areas["name"] = ["<script>alert(1)</script>", *areas["name"][1:]]
    areas.to_file(tmp_path / "b.gpkg")
    result = klastergeo.run(
        registry, boundaries=tmp_path / "b.gpkg", out=tmp_path / "out", options=QUICK
    )
    assert result.areas.loc["99.00", "name"] == "<script>alert(1)</script>"
    for page in ("map.html", "report.html"):
        text = (tmp_path / "out" / page).read_text(encoding="utf-8")
        assert "<script>alert(1)</script>" not in text, page


# --------------------------------------------------------------------------------------
# Fuzz rounds
# --------------------------------------------------------------------------------------

LATTICE = lattice(3, 3).to_crs(4326)
_X0, _Y0, _X1, _Y1 = LATTICE.total_bounds
NAMES = st.one_of(
    st.sampled_from(["id", "lat", "lon", "kbli", "workers", "nama", "extra", "geometry", "row"]),
    st.text(max_size=6),  # any Unicode but surrogates, control characters included
    st.integers(-2, 3),
    st.none(),
)
KINDS = (
    "float",
    "int",
    "Int64",
    "object",
    "str",
    "string[pyarrow]",
    "bool",
    "boolean",
    "category",
    "float category",
    "datetime",
    "datetime tz",
    "timedelta",
    "complex",
    "sparse",
    "float16",
    "bytes",
    "list",
    "surrogate",
)


@st.composite
def _column(draw: st.DrawFn, n: int, role: str) -> pd.Series:
    """One column of ``n`` values of a random dtype (half the time the one a file gives
    the role), numbers near the role's."""
    usual = {"lat": "float", "lon": "float", "workers": "int"}.get(role, "str")
    kind = draw(st.one_of(st.just(usual), st.sampled_from(KINDS)))
    finite = {"lat": st.floats(_Y0, _Y1), "lon": st.floats(_X0, _X1)}.get(
        role, st.integers(-5, 99_999).map(float)
    )
    number = st.one_of(finite, finite, finite, st.floats(allow_nan=True, allow_infinity=True))
    codes = st.sampled_from(["31001", "10710", "1071", "", "abc", "1,5"])
    text = st.one_of(number.map(str), codes, st.text(max_size=5))
    if role in ("kbli", "id"):
        text = st.one_of(codes if role == "kbli" else st.text(max_size=5), text)
    nums = np.array(draw(st.lists(number, min_size=n, max_size=n)), dtype=float)
    texts = draw(st.lists(text, min_size=n, max_size=n))
    whole = np.where(np.isfinite(nums) & (np.abs(nums) < 1e15), nums, 0).astype(np.int64)
    if kind == "float":
        return pd.Series(nums)
    if kind == "int":
        return pd.Series(whole)
    if kind == "Int64":
        return pd.Series(pd.array(whole, dtype="Int64")).mask(np.isnan(nums))
    if kind == "object":
        pool = st.sampled_from([None, np.nan, b"31001", True, 7])
        picks = [draw(st.one_of(st.just(nums[i]), st.just(texts[i]), pool)) for i in range(n)]
        return pd.Series(picks, dtype=object)
    if kind in ("str", "string[pyarrow]"):
        return pd.Series(texts, dtype=kind)
    if kind == "bool":
        return pd.Series(whole % 2 == 0)
    if kind == "boolean":
        return pd.Series(pd.array(whole % 2 == 0, dtype="boolean")).mask(np.isnan(nums))
    if kind == "category":
        return pd.Series(pd.Categorical(texts))
    if kind == "float category":
        return pd.Series(pd.Categorical(nums))
    if kind == "datetime":
        return pd.Series(pd.to_datetime(whole % 10_000, unit="D"))
    if kind == "datetime tz":
        return pd.Series(pd.to_datetime(whole % 10_000, unit="D").tz_localize("Asia/Jakarta"))
    if kind == "timedelta":
        return pd.Series(pd.to_timedelta(whole % 10_000, unit="D"))
    if kind == "complex":
        return pd.Series(nums + 1j)
    if kind == "sparse":
        return pd.Series(pd.arrays.SparseArray(nums))
    if kind == "float16":
        return pd.Series(np.clip(np.nan_to_num(nums), -6e4, 6e4).astype(np.float16))
    if kind == "bytes":
        return pd.Series([t.encode("utf-8") for t in texts], dtype=object)
    if kind == "list":
        return pd.Series([[1, 2]] * n, dtype=object)
    return pd.Series([t + "\ud800" for t in texts], dtype=object)  # surrogate


INDEXES = (
    "range",
    "shuffled",
    "labels",
    "named",
    "multi",
    "named range",
    "repeated",
    "nan",
    "dates",
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    """A registry as a DataFrame: the roles a run needs (sometimes renamed to odd or
    repeated names), extra columns, random dtypes, any kind of index, sometimes a
    GeoDataFrame of points in degrees, UTM or no CRS."""
    n = draw(st.integers(0, 6))
    roles = draw(st.sampled_from([["lat", "lon", "kbli"], ["id", "lat", "lon", "kbli", "workers"]]))
    extras = st.sampled_from([r for r in ("nama", "x1", "x2", "id") if r not in roles])
    roles = roles + draw(st.lists(extras, max_size=2, unique=True))
    columns = [draw(_column(n, role)) for role in roles]
    odd = draw(st.integers(0, 3)) == 0  # a quarter of the frames: a column renamed oddly
    names = [draw(NAMES) if odd and draw(st.booleans()) else role for role in roles]
    frame = pd.DataFrame(dict(enumerate(columns)))
    frame.columns = pd.Index(names, dtype=object)
    kind = draw(st.one_of(st.just("range"), st.sampled_from(INDEXES)))
    labels = [f"F{i}" for i in range(n)]
    frame.index = {
        "range": pd.RangeIndex(n),
        "shuffled": pd.Index(np.arange(n)[::-1] * 3),
        "labels": pd.Index(labels, dtype=object),
        "named": pd.Index(labels, name=draw(NAMES)),
        "multi": pd.MultiIndex.from_arrays([np.arange(n), labels], names=[draw(NAMES), None]),
        "named range": pd.RangeIndex(n, name="nib"),
        "repeated": pd.Index(["A"] * n, name="id"),
        "nan": pd.Index([np.nan if i % 2 else float(i) for i in range(n)]),
        "dates": pd.date_range("2020-01-01", periods=n),
    }[kind]
    crs = draw(st.sampled_from([None, None, 4326, 32749, "none"]))
    if crs is not None and "geometry" not in frame.columns:
        points = gpd.GeoSeries(
            gpd.points_from_xy(np.linspace(_X0, _X1, n), np.linspace(_Y0, _Y1, n)), crs=4326
        )
        if crs == 32749:
            points = points.to_crs(32749)
        if crs == "none":
            points = points.set_crs(None, allow_override=True)
        frame = gpd.GeoDataFrame(frame, geometry=points.to_numpy())
    return frame


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-api")


@pytest.mark.slow
def test_fuzz_frames_read_and_validated(fuzz_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random frames through the API's staging and the run's read and validate steps:
    only the project's errors; every row kept or rejected once; ids from the index are
    the index's; nothing left in the temporary folder."""
    tmp = fuzz_folder / "tmp"
    tmp.mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    config = load_config(None, overrides={"out": str(fuzz_folder / "out")})
    seen = {"examples": 0, "validated": 0, "kept": 0, "refused": 0}

    @FUZZ
    @given(frames())
    def check(frame: pd.DataFrame) -> None:
        seen["examples"] += 1
        work = Path(tempfile.mkdtemp(prefix="work-", dir=fuzz_folder))
        try:
            with api.staged(frame, config) as settings_:
                registry = intake.read(settings_, work)
                report = registry.validate(
                    areas=LATTICE, snap_m=100.0, sector_digits=2, scheduler="threads"
                ).report(whole=True)
                from_index = settings_.columns.id is not None  # config had none
        except KlastergeoError:
            seen["refused"] += 1
        else:
            seen["validated"] += 1
            seen["kept"] += bool(report.n_kept)
            assert report.n_kept + report.n_rejected == len(frame)
            if from_index:  # the ids are the index's labels, as text
                seen["ids from the index"] = seen.get("ids from the index", 0) + 1
                assert set(report.records.index) <= {str(v) for v in frame.index}
        finally:
            shutil.rmtree(work, ignore_errors=True)
        assert _left(tmp) == []

    check()
    print(f"API frame fuzz: {seen}")  # the counts of the report (pytest -s)
    assert seen["validated"] and seen["refused"] and seen["kept"]


@pytest.mark.slow
def test_fuzz_full_runs(study, scratch: Path) -> None:
    """A few whole runs of the lattice registry with random dtypes in its columns:
    a result or the project's error, nothing left in the temporary folder."""
    folder, registry = study
    outcomes = []

    plain = [c for c in DTYPE_CASES if "geo" not in c]
    geo = [c for c in DTYPE_CASES if "geo" in c]

    @settings(FUZZ, max_examples=max(3, EXAMPLES // 30))
    @given(st.lists(st.sampled_from(plain), max_size=4, unique=True), st.sampled_from([*geo, ""]))
    def check(cases: list[str], last: str) -> None:
        frame = registry.copy()
        for case in [*cases, last] if last else cases:  # the geometry last: it drops lat/lon
            frame = DTYPE_CASES[case](frame)
        try:
            result = klastergeo.run(frame, boundaries=folder / "desa.gpkg", options=QUICK)
        except KlastergeoError as err:
            outcomes.append(type(err).__name__)
        else:
            outcomes.append(len(result.firms))
            shutil.rmtree(result.out.parent)
        assert _left(scratch) == []

    check()
    print(f"API full-run fuzz: {len(outcomes)} runs: {outcomes}")
    assert len(registry) in outcomes


POLYGONS = ("box", "multi", "bowtie", "empty", "none", "point", "line", "collection", "lines")


@st.composite
def boundary_files(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, str]:
    """A polygon layer: ids of one kind (odd text, whole or decimal numbers, repeats,
    blanks), odd names, geometries of any kind, degrees or UTM with or without a CRS."""
    n = draw(st.integers(1, 6))
    cells = lattice(2, 3).to_crs(4326).geometry.tolist()
    id_kind = draw(st.sampled_from(["text", "int", "float", "decimal"]))
    if id_kind == "text":
        ids: list[object] = draw(
            st.lists(
                st.one_of(st.text(max_size=6), st.sampled_from(["33.01", " ", ";"])),
                min_size=n,
                max_size=n,
            )
        )
    elif id_kind == "int":
        ids = draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n))
    else:
        base = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
        ids = [b + (0.5 if id_kind == "decimal" else 0.0) for b in base]
    names = draw(
        st.lists(
            st.one_of(st.none(), st.text(max_size=8), st.just("<i>x</i>")), min_size=n, max_size=n
        )
    )
    geometries = []
    for i in range(n):
        cell = cells[i % len(cells)]
        kind = draw(st.one_of(st.just("box"), st.just("box"), st.sampled_from(POLYGONS)))
        geometries.append(
            {
                "box": cell,
                "multi": shapely.MultiPolygon([cell, cells[(i + 3) % len(cells)]]),
                "bowtie": _bowtie(cell),
                "empty": shapely.Polygon(),
                "none": None,
                "point": cell.centroid,
                "line": cell.boundary,
                "collection": shapely.GeometryCollection([cell, cell.boundary]),
                "lines": shapely.GeometryCollection([cell.boundary]),
            }[kind]
        )
    frame = gpd.GeoDataFrame({"kode": ids, "nama": names}, geometry=geometries, crs=4326)
    crs = draw(st.sampled_from(["degrees", "utm", "utm without crs", "degrees without crs"]))
    if crs.startswith("utm"):
        frame = frame.to_crs(32749)
    if crs.endswith("without crs"):
        frame = frame.set_crs(None, allow_override=True)
    return frame, draw(st.sampled_from([".parquet", ".parquet", ".parquet", ".gpkg"]))


@pytest.mark.slow
def test_fuzz_boundary_files(tmp_path: Path) -> None:
    """Random polygon files: a BoundaryError, or areas with unique printable text ids,
    names, valid non-empty polygons in EPSG:4326, one per feature."""
    seen = {"examples": 0, "read": 0, "refused": 0, "unwritable": 0}

    @FUZZ
    @given(boundary_files())
    def check(case: tuple[gpd.GeoDataFrame, str]) -> None:
        frame, suffix = case
        seen["examples"] += 1
        path = tmp_path / f"areas{suffix}"
        try:
            if suffix == ".parquet":
                frame.to_parquet(path)
            else:
                _gpkg(frame, path)
        except Exception:  # a layer GDAL cannot write is no input anyone can give
            seen["unwritable"] += 1
            reject()
        try:
            areas = boundaries.load_areas(source=path, id_col="kode", name_col="nama")
        except BoundaryError:
            seen["refused"] += 1
            return
        seen["read"] += 1
        assert len(areas) == len(frame) and areas.crs.to_epsg() == 4326
        assert areas.index.is_unique and not areas.index.hasnans
        assert not areas.index.to_series().str.contains(r"[\x00-\x1f;]").any()
        assert areas.geometry.is_valid.all() and not areas.geometry.is_empty.any()
        assert set(areas.geom_type) <= {"Polygon", "MultiPolygon"}
        assert not areas["name"].str.contains(r"[\x00-\x08\x0e-\x1f]").any()

    check()
    print(f"boundary file fuzz: {seen}")
    assert seen["read"] and seen["refused"]
