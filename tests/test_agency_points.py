"""Firms placed by their area's code or name (issue 25, item 1): they have no point
(``lat``/``lon`` NaN, a null geometry), count in their area like every firm, and every
step that needs positions uses the firms that have one and says in ``not_computed``
what it left out; where none has one, the step is not computed.

The numbers the tests compare with come from the same step run on the firms that have
a point (the same function on the subset), or from the same registry with every point
kept (the area statistics); the command-line runs place records by their village code
(``kode_desa``) on the small synthetic study of :func:`tests.worlds.lattice.custom_study`.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from typer.testing import CliRunner

from klastergeo.analysis import disclosure, pointpattern
from klastergeo.analysis import sentra as sentra_mod
from klastergeo.analysis.geometry import firm_points, has_point
from klastergeo.app.cli import app
from klastergeo.app.pipeline import points as points_mod
from klastergeo.app.pipeline._steps import Notes
from klastergeo.app.pipeline.firm_output import point_wkb
from klastergeo.publish import maps
from tests.worlds.lattice import custom_study, firms_in, lattice

runner = CliRunner()

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
    kept, at = points_mod.with_points(firms, notes, step="profile", what="colocation")
    assert at is not None and at.tolist() == [0, 2] and len(kept) == 2
    assert notes.items == [
        {
            "step": "profile",
            "what": "co-location (related industries, missing links)",
            "why": "1 of 3 firms placed by area name or code have no point and are left "
            "out; they still count in their area",
            "what_key": "colocation",
            "why_key": "points_some",
            "params": {"missing": 1, "total": 3},
            "computed": "partly",  # on the firms with a point
        }
    ]
    every, at = points_mod.with_points(firms.iloc[[0, 2]], notes, step="profile", what="colocation")
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
    assert (
        found["n_firms"].to_dict()
        == expected["n_firms"].to_dict()
        == {
            "31-01": 60,
            "31-02": 40,
        }
    )
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
        index=pd.MultiIndex.from_product(
            [areas.index, ["10", "31"]], names=["area_code", "sector"]
        ),
    )
    empty = sentra_mod._empty_sentra(4326)
    page = maps.build_map(
        maps.MapInput(areas, table, empty, firms=mixed), maps.MapStyle(tiles="none")
    )
    path = maps.save_map(page, tmp_path / "map.html")
    html = path.read_text(encoding="utf-8")
    block = html.split(f'id="{maps.FIRMS_ID}">', 1)[1].split("</script>", 1)[0]
    drawn = json.loads(block)
    assert drawn["n"] == len(firms) == payload["n"]
    assert sorted(drawn["names"]) == sorted(payload["names"])
    # the density grid of a national map counts the firms with a point only
    grid = maps.build_map(
        maps.MapInput(areas, table, empty, firms=mixed), maps.MapStyle(tiles="none", max_firms=5)
    )
    html = maps.save_map(grid, tmp_path / "grid.html").read_text(encoding="utf-8")
    block = html.split(f'id="{maps.FIRMS_ID}">', 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["firms"] == len(firms)
    # no firm with a point: no firm data at all
    unplaced = mixed.loc[mixed.geometry.isna()]
    html = maps.save_map(
        maps.build_map(
            maps.MapInput(areas, table, empty, firms=unplaced), maps.MapStyle(tiles="none")
        ),
        tmp_path / "no.html",
    ).read_text(encoding="utf-8")
    assert f'id="{maps.FIRMS_ID}"' not in html


# --------------------------------------------------------------------------------------
# Whole runs through the command line
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 x 6 custom study with a furniture sentra in two cells, and its registry in
    forms that differ only in how records are placed: every record with its point
    (``points.csv``); every third with its village code only, no coordinates
    (``mixed.csv``); every eighth so (``few.csv``); every record by its code alone
    (``areas.csv``, no coordinate columns at all)."""
    folder = tmp_path_factory.mktemp("points")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=2
    )
    registry["nama"] = [f"UD {i}" for i in range(len(registry))]
    cells = gpd.read_file(folder / "desa.gpkg")
    located = gpd.sjoin(
        gpd.GeoDataFrame(geometry=gpd.points_from_xy(registry["lon"], registry["lat"]), crs=4326),
        cells[["kode", "geometry"]],
        predicate="within",
    )
    registry["kode_desa"] = located["kode"].reindex(registry.index).to_numpy()
    assert registry["kode_desa"].notna().all()
    text = registry.astype(object)
    text.to_csv(folder / "points.csv", index=False)
    for name, every in (("mixed", 3), ("few", 8)):
        by_code = np.arange(len(text)) % every == 0
        text.assign(
            lat=np.where(by_code, "", text["lat"].astype(str)),
            lon=np.where(by_code, "", text["lon"].astype(str)),
        ).to_csv(folder / f"{name}.csv", index=False)
    text.drop(columns=["lat", "lon"]).to_csv(folder / "areas.csv", index=False)
    quick = (
        f'[area]\nboundaries = {json.dumps(str(folder / "desa.gpkg"))}\nid_col = "kode"\n'
        "[analysis]\npermutations = 0\n[pointpattern]\nsimulations = 9\n"
        '[report]\nfigures = "none"\n[map]\ntiles = "none"\nlang = "en"\n'
        "[colocation]\npermutations = 9\n"
    )
    (folder / "quick.toml").write_text(quick, encoding="utf-8")
    (folder / "points.toml").write_text(quick + '[sentra]\nmethod = "hdbscan"\n', encoding="utf-8")
    return folder


def _by_code(study: Path, name: str) -> pd.Series:
    """Which records of registry ``name`` are placed by their village code (no
    coordinates), indexed by record id."""
    registry = pd.read_csv(study / f"{name}.csv", dtype=str).set_index("id")
    if "lat" not in registry:
        return pd.Series(True, index=registry.index)
    return registry["lat"].isna()


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
def runs(study: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The registries run through the command line (each must exit 0), and an H3 run of
    records placed by code alone (its exit code and output in a text file)."""
    base = tmp_path_factory.mktemp("runs")
    cases = {
        "points": ("points.csv", (), "quick.toml"),
        "mixed": ("mixed.csv", ("--firms-gpkg",), "quick.toml"),
        "areas": ("areas.csv", (), "quick.toml"),
        "hdbscan": ("few.csv", (), "points.toml"),
        "hdbscan_points": ("points.csv", (), "points.toml"),
        "h3": ("mixed.csv", ("--level", "h3:8"), "quick.toml"),
    }
    outs = {}
    for name, (registry, extra, config) in cases.items():
        code, output = _run(study, base / name, registry, *extra, config=config)
        assert code == 0, output
        outs[name] = base / name
    code, output = _run(study, base / "h3_areas", "areas.csv", "--level", "h3:8")
    (base / "h3_areas.txt").write_text(f"{code}\n{output}", encoding="utf-8")
    outs["h3_areas"] = base / "h3_areas.txt"
    return outs


@pytest.mark.slow
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
    # and every other table made of area counts: concentration, global statistics, the
    # sentra's member areas and their Markusen types
    # and the firm models (in a sentra or not: no positions)
    models = sorted(p.name for p in (runs["points"] / "models").glob("*_coefficients.csv"))
    assert models
    tables = ["concentration.csv", "global.csv", "sentra_areas.csv", "typology.csv"]
    for table in [*tables, *(f"models/{m}" for m in models)]:
        expected_table = pd.read_csv(runs["points"] / table)
        for name in ("mixed", "areas"):
            pd.testing.assert_frame_equal(pd.read_csv(runs[name] / table), expected_table)


@pytest.mark.slow
def test_steps_that_need_points_say_what_they_left_out(runs: dict[str, Path], study: Path) -> None:
    registry = pd.read_csv(study / "mixed.csv", dtype=str)
    by_code = _by_code(study, "mixed")
    n, by_area = len(registry), int(by_code.sum())
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
    with_point = registry.loc[~by_code.to_numpy(), "kbli"].str[:2].value_counts()
    for code, count in sector.items():
        assert count == with_point[str(code)]


@pytest.mark.slow
def test_firms_output_has_null_geometries_for_firms_placed_by_area(
    runs: dict[str, Path], study: Path
) -> None:
    registry = pd.read_csv(study / "points.csv", dtype=str).set_index("id")
    firms = gpd.read_parquet(runs["mixed"] / "firms")
    by_area = _by_code(study, "mixed").loc[firms.index]
    assert by_area.any() and not by_area.all()
    # how each firm was placed, as the intake says it
    assert (firms["placement"] == np.where(by_area, "code", "point")).all()
    assert firms.geometry.isna().to_numpy().tolist() == by_area.to_numpy().tolist()
    assert firms.loc[~by_area.to_numpy()].geometry.notna().all()
    assert firms["lat"].isna().to_numpy().tolist() == by_area.to_numpy().tolist()
    # they count in their area: the one of their code, the one their point lies in
    assert (firms["area_code"] == registry.loc[firms.index, "kode_desa"]).all()
    # no firm has a POINT (nan nan) or a village centre: the points are the registry's
    shown = firms.loc[~by_area.to_numpy()]
    np.testing.assert_allclose(
        shown.geometry.y.to_numpy(), registry.loc[shown.index, "lat"].astype(float).to_numpy()
    )
    parquet = pq.read_metadata(next((runs["mixed"] / "firms").rglob("*.parquet")))
    assert parquet.num_rows == len(firms)
    # the GeoPackage layer too: null geometries, not POINT (nan nan)
    layer = gpd.read_file(runs["mixed"] / "firms.gpkg").set_index("record_id")
    assert layer.geometry.isna().loc[firms.index].tolist() == by_area.tolist()
    assert np.isfinite(shapely.get_coordinates(layer.geometry.dropna().to_numpy())).all()


@pytest.mark.slow
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
    from klastergeo.app.config import RunConfig
    from klastergeo.app.pipeline.profiling import _colocation

    rng = np.random.default_rng(7)
    centre = np.array([110.40, -7.20])
    parts = [
        ("31", "31-01", centre + rng.normal(0, 0.002, (40, 2))),  # the sentra
        ("16", None, centre + rng.normal(0, 0.003, (15, 2))),  # its wood suppliers
        ("10", None, centre + rng.uniform(-0.1, 0.1, (200, 2))),  # food, everywhere
        ("16", None, centre + rng.uniform(-0.1, 0.1, (20, 2))),
    ]
    firms = pd.DataFrame(
        [{"sector": s, "sentra_id": sid, "lon": x, "lat": y} for s, sid, xy in parts for x, y in xy]
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


@pytest.mark.slow
def test_point_sentra_are_made_of_firms_with_a_point(runs: dict[str, Path], study: Path) -> None:
    by_code = _by_code(study, "few")
    n, by_area = len(by_code), int(by_code.sum())
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
    assert not by_code.loc[members.index].any()  # every member has a point
    assert members.geometry.notna().all()
    # the published shape is made of points (no NaN corner from a firm without one)
    shapes = gpd.read_file(runs["hdbscan"] / "sentra.geojson")
    assert np.isfinite(shapely.get_coordinates(shapes.geometry.to_numpy())).all()
    assert (shapely.area(shapes.geometry.to_numpy()) > 0).all()
    assert not _notes(runs["hdbscan_points"]).get("sentra from the firms' points")


@pytest.mark.slow
def test_h3_cells_hold_only_firms_with_a_point(runs: dict[str, Path], study: Path) -> None:
    by_code = _by_code(study, "mixed")
    n, by_area = len(by_code), int(by_code.sum())
    summary = _summary(runs["h3"])
    records_ = summary["records"]
    assert isinstance(records_, dict)
    assert records_["kept"] == n - by_area
    # an H3 cell is made from a point: a record placed by its code is rejected, listed
    # (never counted in no cell unseen, nor put in the cell of its village's centre)
    assert records_["by_reason"]["area_too_coarse"] == by_area
    rejected = pd.read_csv(runs["h3"] / "rejected.csv", dtype=str)
    assert set(rejected["id"]) == set(by_code.index[by_code])
    assert (rejected["reason"] == "area_too_coarse").all()
    cells = pd.read_parquet(runs["h3"] / "areas.parquet")
    assert int(cells["n_firms"].sum()) == n - by_area
    # every record placed by area: stopped before computing, with what to do
    code, output = runs["h3_areas"].read_text(encoding="utf-8").split("\n", 1)
    assert code == "2"
    assert f"none kept (area_too_coarse: {n})" in " ".join(output.split())
    assert "use --level desa" in " ".join(output.split())


@pytest.mark.slow
def test_the_maps_and_the_published_firms_hold_only_points(
    runs: dict[str, Path], study: Path, tmp_path: Path
) -> None:
    by_code = _by_code(study, "mixed")
    html = (runs["mixed"] / "map.html").read_text(encoding="utf-8")
    block = html.split(f'id="{maps.FIRMS_ID}">', 1)[1].split("</script>", 1)[0]
    drawn = json.loads(block)
    assert drawn["n"] == int((~by_code).sum())  # one marker per firm with a point
    names = pd.read_csv(study / "mixed.csv", dtype=str).set_index("id")["nama"]
    assert sorted(drawn["names"]) == sorted(names[~by_code])
    # published with --with-firms: the map's markers are the same, and firms.geojson
    # lists a firm placed by its area without a geometry (its area code says where)
    site = tmp_path / "site"
    result = runner.invoke(
        app, ["publish", str(runs["mixed"]), "--site", str(site), "--with-firms"]
    )
    assert result.exit_code == 0, result.output
    published = json.loads((site / "firms.geojson").read_text(encoding="utf-8"))["features"]
    unplaced = {f["properties"]["record_id"] for f in published if f["geometry"] is None}
    assert unplaced == set(by_code.index[by_code])
    assert all(f["properties"]["area_code"] for f in published)
    page = (site / "map.html").read_text(encoding="utf-8")
    block = page.split(f'id="{maps.FIRMS_ID}">', 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["n"] == int((~by_code).sum())


def test_a_firm_without_a_point_is_in_no_h3_cell(caplog: pytest.LogCaptureFixture) -> None:
    from klastergeo.analysis import aggregate
    from klastergeo.app.pipeline.counting import _cells

    firms = pd.DataFrame({"lat": [-7.5, np.nan, -7.6], "lon": [110.8, np.nan, 110.9]})
    with caplog.at_level("WARNING"):
        cells = _cells(firms, 8)
    expected = aggregate.h3_cells(np.array([-7.5, -7.6]), np.array([110.8, 110.9]), 8)
    assert cells[1] is None and [cells[0], cells[2]] == expected.tolist()
    assert "1 of 3 firms have no point" in caplog.text
