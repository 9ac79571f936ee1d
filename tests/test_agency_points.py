"""Firms placed by their area's code or name (issue 25, item 1): they have no point
(``lat``/``lon`` NaN), count in their area like every firm, and every step that needs
positions uses the firms that have one and says in ``not_computed`` what it left out.

Until placement by area reaches the command line, a record is placed by its area the way
:mod:`klastergeo.placement` does it: validation keeps it in its area with NaN
coordinates. The seam is :func:`klastergeo.records._check_coordinates`, which places
every record; the records marked ``by_area`` keep their area and lose their point
(:func:`_placed_by_area`). The numbers the tests compare with come from the same step
run on the firms that have a point (an independent run of the same function on the
subset), or from the same registry with every point kept (area statistics).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from typer.testing import CliRunner

from klastergeo import disclosure, pointpattern, records
from klastergeo import sentra as sentra_mod
from klastergeo._spatial import firm_points, has_point
from klastergeo.cli import app
from klastergeo.pipeline import points as points_mod
from klastergeo.pipeline._steps import Notes
from klastergeo.pipeline.firm_output import point_wkb
from klastergeo.publish import maps
from tests.conftest import custom_study, firms_in, lattice

runner = CliRunner()

# --------------------------------------------------------------------------------------
# The seam: records placed by their area, without a point
# --------------------------------------------------------------------------------------

#: The registry column that marks a record as placed by its area (test data only).
MARK = "by_area"


@pytest.fixture
def placed_by_area(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation places the records whose ``by_area`` column is ``1`` by their area:
    kept in the area their coordinates lie in, with NaN ``lat``/``lon`` (as placement by
    area code leaves them)."""
    original = records._check_coordinates

    def placed(raw: records.RawRecords, *args: object, **kwargs: object) -> object:
        place = original(raw, *args, **kwargs)  # type: ignore[arg-type]
        if MARK not in raw.frame.columns:
            return place
        by_area = (raw.frame[MARK].astype(str) == "1").to_numpy()
        lat = np.where(by_area, np.nan, place.lat)
        lon = np.where(by_area, np.nan, place.lon)
        return dataclasses.replace(place, lat=lat, lon=lon)

    monkeypatch.setattr(records, "_check_coordinates", placed)


# --------------------------------------------------------------------------------------
# Points and null geometries
# --------------------------------------------------------------------------------------


def test_a_firm_without_coordinates_has_a_null_geometry_not_a_nan_point() -> None:
    shapes = firm_points([110.5, np.nan, 110.6, 110.7], [-7.2, np.nan, np.nan, -7.3])
    assert shapes.isna().tolist() == [False, True, True, False]
    assert shapely.get_x(shapes[0]) == 110.5
    # a frame's point test: missing, empty and NaN points have none
    frame = gpd.GeoDataFrame(
        geometry=[shapely.Point(1, 2), None, shapely.Point(), shapely.Point(np.nan, np.nan)]
    )
    assert has_point(frame).tolist() == [True, False, False, False]
    plain = pd.DataFrame({"lon": [1.0, np.nan, 3.0], "lat": [2.0, 2.0, np.nan]})
    assert has_point(plain).tolist() == [True, False, False]


def test_wkb_of_the_firms_output_is_null_where_a_firm_has_no_point() -> None:
    lon = np.array([110.5, np.nan, 111.0, np.nan])
    lat = np.array([-7.25, np.nan, -7.0, -7.1])
    wkb = point_wkb(lon, lat)
    assert wkb.null_count == 2
    values = wkb.to_pylist()
    assert values[1] is None and values[3] is None
    assert shapely.from_wkb(values[0]).equals(shapely.Point(110.5, -7.25))
    assert shapely.from_wkb(values[2]).equals(shapely.Point(111.0, -7.0))
    # every firm without a point: all null, still one value per firm
    none = point_wkb(np.full(3, np.nan), np.full(3, np.nan))
    assert len(none) == 3 and none.null_count == 3


def test_the_note_says_how_many_firms_were_left_out_in_both_languages() -> None:
    assert points_mod.left_out(0, 10, "en") is None
    assert points_mod.left_out(1234, 5000, "en") == (
        "1,234 of 5,000 firms placed by area name or code have no point and are left out; "
        "they still count in their area"
    )
    assert points_mod.left_out(1234, 5000, "id").startswith("1.234 dari 5.000 usaha")
    assert points_mod.left_out(7, 7, "en") == (
        "no firm has a point: all 7 firms are placed by area name or code"
    )
    notes = Notes()
    firms = pd.DataFrame({"lon": [110.0, np.nan, 110.2], "lat": [-7.0, np.nan, -7.2]})
    kept, at = points_mod.with_points(
        firms, notes, step="profile", what="colocation", lang="en"
    )
    assert at is not None and at.tolist() == [0, 2] and len(kept) == 2
    assert notes.items == [
        {
            "step": "profile",
            "what": "co-location (related industries, missing links)",
            "why": "1 of 3 firms placed by area name or code have no point and are left "
            "out; they still count in their area",
        }
    ]
    every, at = points_mod.with_points(
        firms.iloc[[0, 2]], notes, step="profile", what="colocation", lang="en"
    )
    assert at is None and len(every) == 2 and len(notes.items) == 1  # nothing to say


# --------------------------------------------------------------------------------------
# The steps that need points, one by one: the firms without one change nothing
# --------------------------------------------------------------------------------------


def _with_unplaced(firms: gpd.GeoDataFrame, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``firms`` with ``n`` firms without a point (null geometry) spread among them,
    of the firms' own sectors; the firms with a point stay in their order (so that a
    step run on them alone draws the same random numbers)."""
    rng = np.random.default_rng(seed)
    extra = firms.iloc[rng.integers(0, len(firms), n)].copy()
    extra.index = pd.Index([f"area-{i}" for i in range(n)], name=firms.index.name)
    extra = extra.set_geometry(gpd.GeoSeries([None] * n, index=extra.index, crs=firms.crs))
    mixed = pd.concat([firms, extra])
    # a random interleaving: sort by random keys, the firms' keys sorted among themselves
    keys = rng.uniform(size=len(mixed))
    keys[: len(firms)] = np.sort(keys[: len(firms)])
    return gpd.GeoDataFrame(mixed.iloc[np.argsort(keys, kind="stable")], crs=firms.crs)


def test_point_patterns_leave_out_firms_without_a_point() -> None:
    areas = lattice(4, 4)
    counts = {c: {"10": 6, "31": 1} for c in areas.index}
    counts["r1c1"] = {"10": 2, "31": 40}
    firms = firms_in(areas, counts, seed=3)
    mixed = _with_unplaced(firms, 60, seed=4)
    options = {"simulations": 19, "seed": 5, "max_points": 500}
    expected = pointpattern.by_sector(firms, areas, **options)
    found = pointpattern.by_sector(mixed, areas, **options)
    # the same firms with a point, in another order: the same statistics
    pd.testing.assert_frame_equal(found[0], expected[0])
    pd.testing.assert_frame_equal(found[1], expected[1])
    # a plain frame of lon/lat with NaN (a national registry's columns)
    plain = pd.DataFrame(
        {
            "sector": mixed["sector"].to_numpy(),
            "lon": shapely.get_x(mixed.geometry.to_numpy()),
            "lat": shapely.get_y(mixed.geometry.to_numpy()),
        }
    )
    assert np.isnan(plain["lon"]).sum() == 60
    from_plain = pointpattern.by_sector(plain, areas, **options)
    assert from_plain[1]["n"].tolist() == expected[1]["n"].tolist()
    # per sentra: the members without a point are in no pattern
    sentra = gpd.GeoDataFrame(
        {"sentra_id": ["31-01"]}, geometry=[areas.geometry["r1c1"]], crs=areas.crs
    ).set_index("sentra_id")
    members = mixed.assign(sentra_id=np.where(mixed["sector"] == "31", "31-01", None))
    own = firms.assign(sentra_id=np.where(firms["sector"] == "31", "31-01", None))
    by_members = pointpattern.by_sentra(members, sentra, simulations=19, seed=1)[1]
    by_own = pointpattern.by_sentra(own, sentra, simulations=19, seed=1)[1]
    assert by_members["n"].tolist() == by_own["n"].tolist()
    assert by_members["R"].tolist() == pytest.approx(by_own["R"].tolist())


def test_point_sentra_leave_out_firms_without_a_point() -> None:
    rng = np.random.default_rng(0)
    xy = np.vstack(
        [
            rng.normal(2000, 150, (60, 2)),
            rng.normal(7000, 150, (40, 2)),
            rng.uniform(0, 10_000, (400, 2)),
        ]
    )
    sector = ["31"] * 100 + ["10"] * 400
    firms = gpd.GeoDataFrame(
        {"sector": sector}, geometry=gpd.points_from_xy(*xy.T), crs=32749
    ).rename_axis("record_id")
    firms.index = pd.Index([f"f{i}" for i in range(len(firms))], name="record_id")
    mixed = _with_unplaced(firms, 80, seed=1)
    expected, own = sentra_mod.delineate_points(firms, min_firms=20)
    found, membership = sentra_mod.delineate_points(mixed, min_firms=20)
    assert found["n_firms"].to_dict() == expected["n_firms"].to_dict() == {
        "31-01": 60,
        "31-02": 40,
    }
    assert membership.index.equals(mixed.index)
    unplaced = mixed.index.str.startswith("area-")
    assert membership[unplaced].isna().all()
    pd.testing.assert_series_equal(
        membership[~unplaced].reindex(firms.index), own, check_dtype=False
    )
    # no firm with a point: no sentra, every membership missing, no error
    nowhere = mixed.loc[unplaced]
    none, blank = sentra_mod.delineate_points(nowhere, min_firms=20)
    assert len(none) == 0 and blank.isna().all() and len(blank) == 80


def test_grid_hulls_put_no_firm_without_a_point_in_a_cell() -> None:
    rng = np.random.default_rng(0)
    xy = rng.uniform(1000, 1500, (40, 2))
    labels = np.zeros(40, dtype=int)
    expected = disclosure.grid_hulls(xy, labels, 1, grid_m=250, min_firms=3)[0]
    mixed = np.vstack([xy, np.full((5, 2), np.nan)])
    found = disclosure.grid_hulls(
        mixed, np.concatenate([labels, np.zeros(5, dtype=int)]), 1, grid_m=250, min_firms=3
    )[0]
    assert found.equals(expected)


def test_the_map_draws_no_firm_without_a_point(tmp_path: Path) -> None:
    areas = lattice(3, 3).to_crs(4326)
    counts = {c: {"10": 3, "31": 2} for c in areas.index}
    firms = firms_in(lattice(3, 3), counts, seed=1)
    firms["name"] = [f"UD {i}" for i in range(len(firms))]
    mixed = _with_unplaced(firms, 12, seed=2)
    payload = maps._firm_payload(firms)
    table = pd.DataFrame(
        {"n_firms": 1},
        index=pd.MultiIndex.from_product([areas.index, ["10", "31"]], names=["area_code", "sector"]),
    )
    empty = sentra_mod._empty_sentra(4326)
    page = maps.build_map(areas, table, empty, firms=mixed, tiles="none")
    path = maps.save_map(page, tmp_path / "map.html")
    html = path.read_text(encoding="utf-8")
    block = html.split(f'id="{maps.FIRMS_ID}">', 1)[1].split("</script>", 1)[0]
    drawn = json.loads(block)
    assert drawn["n"] == len(firms) == payload["n"]
    assert sorted(drawn["names"]) == sorted(payload["names"])
    # the density grid of a national map counts the firms with a point only
    grid = maps.build_map(areas, table, empty, firms=mixed, tiles="none", max_firms=5)
    html = maps.save_map(grid, tmp_path / "grid.html").read_text(encoding="utf-8")
    block = html.split(f'id="{maps.FIRMS_ID}">', 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["firms"] == len(firms)
    # no firm with a point: no firm data at all
    unplaced = mixed.loc[mixed.geometry.isna()]
    html = maps.save_map(
        maps.build_map(areas, table, empty, firms=unplaced, tiles="none"), tmp_path / "no.html"
    ).read_text(encoding="utf-8")
    assert f'id="{maps.FIRMS_ID}"' not in html


# --------------------------------------------------------------------------------------
# H3 cells are made from points
# --------------------------------------------------------------------------------------


def test_an_h3_run_rejects_a_firm_placed_by_area_as_no_point_for_grid(
    tmp_path: Path, placed_by_area: None
) -> None:
    from klastergeo import batches

    areas = lattice(2, 2).to_crs(4326)
    firms = firms_in(lattice(2, 2), {c: {"10": 3} for c in lattice(2, 2).index}, seed=0)
    registry = pd.DataFrame(
        {
            "id": [f"F{i}" for i in range(len(firms))],
            "lat": firms.geometry.y.to_numpy(),
            "lon": firms.geometry.x.to_numpy(),
            "kbli": "10001",
            MARK: ["1" if i % 3 == 0 else "0" for i in range(len(firms))],
        }
    )
    registry.loc[1, ["lat", "lon"]] = np.nan  # no coordinates and no area: its own reason
    registry.loc[1, MARK] = "0"
    path = tmp_path / "firms.csv"
    registry.to_csv(path, index=False)
    opened = batches.open_registry(path, workdir=tmp_path / "work", batch_size=5)
    outcome = opened.validate(areas=areas, points_required=True)
    report = outcome.report()
    by_area = int((registry[MARK] == "1").sum())
    assert report.by_reason["no_point_for_grid"] == by_area
    assert report.by_reason["missing_coordinates"] == 1
    assert report.n_kept == len(registry) - by_area - 1
    assert has_point(report.records).all()
    detail = report.rejected.loc[report.rejected["reason"] == "no_point_for_grid", "detail"]
    assert detail.str.contains("--level desa").all()
    # the same registry at an area level keeps them, in their area, without a point
    again = batches.open_registry(path, workdir=tmp_path / "work2", batch_size=5)
    kept = again.validate(areas=areas).report()
    assert kept.n_kept == len(registry) - 1
    assert int(kept.records.geometry.isna().sum()) == by_area
    assert kept.records["area_code"].notna().all()


# --------------------------------------------------------------------------------------
# Whole runs through the command line
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 x 6 custom study with a furniture sentra in two cells; the registry in three
    forms: every firm with its point, a third of them placed by area, all placed by
    area."""
    folder = tmp_path_factory.mktemp("points")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=2
    )
    registry["nama"] = [f"UD {i}" for i in range(len(registry))]
    registry[MARK] = "0"
    registry.to_csv(folder / "points.csv", index=False)
    mixed = registry.assign(**{MARK: np.where(np.arange(len(registry)) % 3 == 0, "1", "0")})
    mixed.to_csv(folder / "mixed.csv", index=False)
    registry.assign(**{MARK: "1"}).to_csv(folder / "areas.csv", index=False)
    few = registry.assign(**{MARK: np.where(np.arange(len(registry)) % 8 == 0, "1", "0")})
    few.to_csv(folder / "few.csv", index=False)
    quick = (
        f'[area]\nboundaries = {json.dumps(str(folder / "desa.gpkg"))}\nid_col = "kode"\n'
        "[analysis]\npermutations = 0\n[pointpattern]\nsimulations = 9\n"
        '[report]\nfigures = "none"\n[map]\ntiles = "none"\nlang = "en"\n'
        "[colocation]\npermutations = 9\n"
    )
    (folder / "quick.toml").write_text(quick, encoding="utf-8")
    (folder / "points.toml").write_text(
        quick + '[sentra]\nmethod = "hdbscan"\n', encoding="utf-8"
    )
    return folder


def _run(
    study: Path, out: Path, records_name: str, *extra: str, config: str = "quick.toml"
) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [
            "run",
            "--config",
            str(study / config),
            "--records",
            str(study / records_name),
            "--out",
            str(out),
            *extra,
        ],
    )
    return result.exit_code, result.output


def _summary(out: Path) -> dict[str, object]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _notes(out: Path) -> dict[str, str]:
    items = _summary(out)["not_computed"]
    assert isinstance(items, list)
    return {item["what"]: item["why"] for item in items}


def _area_stats(out: Path) -> pd.DataFrame:
    table = pd.read_parquet(out / "areas.parquet")
    columns = [c for c in ("n_firms", "lq", "gi_z", "lisa_quadrant") if c in table]
    return table[columns].sort_index()


@pytest.fixture(scope="module")
def runs(study: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The three registries run (placed by area through the seam)."""
    mp = pytest.MonkeyPatch()
    original = records._check_coordinates

    def placed(raw: records.RawRecords, *args: object, **kwargs: object) -> object:
        place = original(raw, *args, **kwargs)  # type: ignore[arg-type]
        if MARK not in raw.frame.columns:
            return place
        by_area = (raw.frame[MARK].astype(str) == "1").to_numpy()
        return dataclasses.replace(
            place,
            lat=np.where(by_area, np.nan, place.lat),
            lon=np.where(by_area, np.nan, place.lon),
        )

    mp.setattr(records, "_check_coordinates", placed)
    base = tmp_path_factory.mktemp("runs")
    outs = {}
    cases = {
        "points": ("points.csv", (), "quick.toml"),
        "mixed": ("mixed.csv", (), "quick.toml"),
        "areas": ("areas.csv", (), "quick.toml"),
        "hdbscan": ("few.csv", (), "points.toml"),
        "hdbscan_points": ("points.csv", (), "points.toml"),
        "h3": ("mixed.csv", ("--level", "h3:8"), "quick.toml"),
    }
    try:
        for name, (registry, extra, config) in cases.items():
            code, output = _run(study, base / name, registry, *extra, config=config)
            assert code == 0, output
            outs[name] = base / name
        # every record placed by area, in H3 cells: nothing can be counted
        code, output = _run(study, base / "h3_areas", "areas.csv", "--level", "h3:8")
        (base / "h3_areas.txt").write_text(f"{code}\n{output}", encoding="utf-8")
        outs["h3_areas"] = base / "h3_areas.txt"
        yield outs
    finally:
        mp.undo()


def test_area_statistics_are_the_same_whether_firms_have_points_or_not(
    runs: dict[str, Path],
) -> None:
    expected = _area_stats(runs["points"])
    for name in ("mixed", "areas"):
        pd.testing.assert_frame_equal(_area_stats(runs[name]), expected)
    # the area-based sentra are those of the areas, whatever the points
    sentra = {
        name: pd.read_csv(runs[name] / "sentra.csv")[["sentra_id", "n_firms", "area_codes"]]
        for name in ("points", "mixed", "areas")
    }
    pd.testing.assert_frame_equal(sentra["mixed"], sentra["points"])
    pd.testing.assert_frame_equal(sentra["areas"], sentra["points"])
    assert len(sentra["points"]) >= 1


def test_steps_that_need_points_say_what_they_left_out(
    runs: dict[str, Path], study: Path
) -> None:
    registry = pd.read_csv(study / "mixed.csv", dtype=str)
    n, by_area = len(registry), int((registry[MARK] == "1").sum())
    why = f"{by_area:,} of {n:,} firms placed by area name or code have no point"
    notes = _notes(runs["mixed"])
    for what in (
        "co-location (related industries, missing links)",
        "point patterns (Ripley K/L, nearest neighbour)",
        "firm markers on the map",
    ):
        assert notes[what].startswith(why), (what, notes)
    assert not any("point" in w for w in _notes(runs["points"]))
    # the point patterns counted the firms with a point only
    clark = pd.read_csv(runs["mixed"] / "clark_evans.csv")
    sector = clark.loc[clark["scope"] == "sector"].set_index("key")["n"]
    with_point = registry.loc[registry[MARK] == "0", "kbli"].str[:2].value_counts()
    for code, count in sector.items():
        assert count == with_point[str(code)]


def test_firms_output_has_null_geometries_for_firms_placed_by_area(
    runs: dict[str, Path], study: Path
) -> None:
    registry = pd.read_csv(study / "mixed.csv", dtype=str).set_index("id")
    firms = gpd.read_parquet(runs["mixed"] / "firms")
    by_area = registry.loc[firms.index, MARK] == "1"
    assert firms.geometry.isna().to_numpy().tolist() == by_area.to_numpy().tolist()
    assert firms.loc[~by_area.to_numpy()].geometry.notna().all()
    assert firms["lat"].isna().to_numpy().tolist() == by_area.to_numpy().tolist()
    assert firms["area_code"].notna().all()  # they count in their area
    # no firm has a POINT (nan nan) or a village centre: the points are the registry's
    shown = firms.loc[~by_area.to_numpy()]
    np.testing.assert_allclose(
        shown.geometry.y.to_numpy(), registry.loc[shown.index, "lat"].astype(float).to_numpy()
    )
    parquet = pq.read_metadata(next((runs["mixed"] / "firms").rglob("*.parquet")))
    assert parquet.num_rows == len(firms)


def test_a_run_with_every_firm_placed_by_area_has_no_firm_geometry(
    runs: dict[str, Path], study: Path
) -> None:
    out = runs["areas"]
    summary = _summary(out)
    assert summary["records"]["kept"] == len(pd.read_csv(study / "areas.csv"))  # type: ignore[index]
    notes = _notes(out)
    for what in (
        "co-location (related industries, missing links)",
        "point patterns (Ripley K/L, nearest neighbour)",
        "firm markers on the map",
    ):
        assert notes[what].startswith("no firm has a point"), notes
    html = (out / "map.html").read_text(encoding="utf-8")
    assert f'id="{maps.FIRMS_ID}"' not in html  # no markers, no firm data block
    firms = gpd.read_parquet(out / "firms")
    assert firms.geometry.isna().all()
    for name in ("colocation.csv", "related.csv"):
        assert not (out / name).exists() or len(pd.read_csv(out / name)) == 0
    clark = out / "clark_evans.csv"
    assert not clark.exists() or (pd.read_csv(clark)["scope"] != "sector").all()


def test_colocation_uses_the_firms_with_a_point_and_names_them_among_all() -> None:
    from klastergeo.config import RunConfig
    from klastergeo.pipeline.profiling import _colocation

    rng = np.random.default_rng(7)
    centre = np.array([110.40, -7.20])
    parts = [
        ("31", "31-01", centre + rng.normal(0, 0.002, (40, 2))),  # the sentra
        ("16", None, centre + rng.normal(0, 0.003, (15, 2))),  # its wood suppliers
        ("10", None, centre + rng.uniform(-0.1, 0.1, (200, 2))),  # food, everywhere
        ("16", None, centre + rng.uniform(-0.1, 0.1, (20, 2))),
    ]
    firms = pd.DataFrame(
        [
            {"sector": s, "sentra_id": sid, "lon": x, "lat": y}
            for s, sid, xy in parts
            for x, y in xy
        ]
    )
    firms.index = pd.Index([f"f{i}" for i in range(len(firms))])
    extra = firms.iloc[rng.integers(0, len(firms), 90)].assign(lon=np.nan, lat=np.nan)
    extra.index = pd.Index([f"area-{i}" for i in range(len(extra))])
    keys = rng.uniform(size=len(firms) + len(extra))
    keys[: len(firms)] = np.sort(keys[: len(firms)])
    mixed = pd.concat([firms, extra]).iloc[np.argsort(keys, kind="stable")]

    def measured(frame: pd.DataFrame, notes: Notes) -> object:
        positional = frame.reset_index(drop=True).assign(
            sector=lambda f: pd.Categorical(f["sector"]),
            sentra_id=lambda f: pd.Categorical(f["sentra_id"]),
        )
        config = RunConfig().with_overrides(
            {"colocation.permutations": 99, "colocation.min_firms": 5, "map.lang": "en"}
        )
        return _colocation(config, positional, notes)

    quiet, noted = Notes(), Notes()
    expected = measured(firms, quiet)
    found = measured(mixed, noted)
    assert expected is not None and found is not None
    assert quiet.items == []
    assert noted.items[0]["why"].startswith("90 of 365 firms placed by area name or code")
    pd.testing.assert_frame_equal(found.table, expected.table)
    pd.testing.assert_frame_equal(found.related, expected.related)
    pd.testing.assert_frame_equal(found.missing, expected.missing)
    assert found.related["significant"].any()  # the suppliers are found
    # the related firms are positions among every firm: the same firms by id, with points
    ids = mixed.index.to_numpy()[found.firms["firm"].to_numpy()]
    assert sorted(ids) == sorted(firms.index.to_numpy()[expected.firms["firm"].to_numpy()])
    assert not any(str(i).startswith("area-") for i in ids)
    assert len(ids) == len(expected.firms) > 0


def test_point_sentra_are_made_of_firms_with_a_point(runs: dict[str, Path], study: Path) -> None:
    registry = pd.read_csv(study / "few.csv", dtype=str).set_index("id")
    n, by_area = len(registry), int((registry[MARK] == "1").sum())
    notes = _notes(runs["hdbscan"])
    assert notes["sentra from the firms' points"] == (
        f"{by_area} of {n} firms placed by area name or code have no point and are left "
        "out; they still count in their area"
    )
    sentra = pd.read_csv(runs["hdbscan"] / "sentra.csv")
    assert len(sentra) >= 1  # the planted sentra is still found from the others
    firms = gpd.read_parquet(runs["hdbscan"] / "firms")
    members = firms.loc[firms["sentra_id"].notna()]
    assert len(members) == int(sentra["n_firms"].sum())
    assert (registry.loc[members.index, MARK] == "0").all()  # every member has a point
    assert members.geometry.notna().all()
    # the published shape is made of points (no NaN corner from a firm without one)
    shapes = gpd.read_file(runs["hdbscan"] / "sentra.geojson")
    assert np.isfinite(shapely.get_coordinates(shapes.geometry.to_numpy())).all()
    assert (shapely.area(shapes.geometry.to_numpy()) > 0).all()
    assert not _notes(runs["hdbscan_points"]).get("sentra from the firms' points")


def test_h3_cells_hold_only_firms_with_a_point(runs: dict[str, Path], study: Path) -> None:
    registry = pd.read_csv(study / "mixed.csv", dtype=str)
    n, by_area = len(registry), int((registry[MARK] == "1").sum())
    summary = _summary(runs["h3"])
    records_ = summary["records"]
    assert isinstance(records_, dict)
    assert records_["kept"] == n - by_area
    assert records_["by_reason"]["no_point_for_grid"] == by_area
    rejected = pd.read_csv(runs["h3"] / "rejected.csv", dtype=str)
    assert set(rejected["id"]) == set(registry.loc[registry[MARK] == "1", "id"])
    assert (rejected["reason"] == "no_point_for_grid").all()
    cells = pd.read_parquet(runs["h3"] / "areas.parquet")
    assert int(cells["n_firms"].sum()) == n - by_area
    # every record placed by area: stopped before computing, with what to do
    code, output = runs["h3_areas"].read_text(encoding="utf-8").split("\n", 1)
    assert code == "2"
    assert f"none kept (no_point_for_grid: {n})" in " ".join(output.split())
    assert "use --level desa" in " ".join(output.split())
