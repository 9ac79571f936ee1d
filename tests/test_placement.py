"""Placement by area: records placed by the Kemendagri code or the names of the area they
name (:mod:`klastergeo.io.registry.placement`), through validation and the command line.

Truths: the boundaries' own codes (every village placed back by its name), a brute-force
count of names that repeat in a scope (ambiguity), and distances computed by hand on a
lattice in metres."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.io import boundaries
from klastergeo.io.registry import placement
from klastergeo.io.registry.records import read_records, validate_records
from tests.worlds.lattice import custom_study

runner = CliRunner()


@pytest.mark.parametrize(
    ("written", "key", "kind"),
    [
        ("Tegalrejo", "tegalrejo", ""),
        ("KEL. TEGAL REJO", "tegalrejo", "kelurahan"),
        ("Ds.Tegal-Rejo", "tegalrejo", "desa"),
        ("Desa  Jetís ", "jetis", "desa"),
        ("Poigar III", "poigar3", ""),
        ("Poigar Tiga", "poigar3", ""),
        ("Ilir Timur 1", "ilirtimur1", ""),
        ("Bagan Batu Kota", "baganbatukota", ""),  # a kind word inside a name stays
        ("Kabupaten Klaten", "klaten", "kabupaten"),
        ("Kab. Klaten", "klaten", "kabupaten"),
        ("KOTA SURAKARTA", "surakarta", "kota"),
        ("Kota Adm. Jakarta Selatan", "jakartaselatan", "kota"),
        ("Kecamatan Ceper", "ceper", ""),
        ("Kota", "kota", "kota"),  # a name that is only a kind word stays itself
        ("", "", ""),
    ],
)
def test_names_are_folded_without_case_punctuation_spacing_or_kind_words(
    written: str, key: str, kind: str
) -> None:
    folded = placement.fold_names(pd.Series([written]))
    assert folded.loc[0, "key"] == key
    assert folded.loc[0, "kind"] == kind


def test_missing_names_fold_to_empty_keys() -> None:
    folded = placement.fold_names(pd.Series([None, np.nan, "Jetis"], dtype=object))
    assert folded["key"].tolist() == ["", "", "jetis"]


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("33.10.11.2015", "33.10.11.2015"),
        ("3310112015", "33.10.11.2015"),
        ("3310112015.0", "33.10.11.2015"),  # a number cell
        (" 33 10 11 2015 ", "33.10.11.2015"),
        ("33.10.1.2015", "33.10.01.2015"),  # a part that lost its zero
        ("33-10-11", "33.10.11"),
        ("331011", "33.10.11"),
        ("3310", "33.10"),
        ("33", "33"),
        ("331011201", None),  # nine digits: no level has nine
        ("33.10.11.20155", None),
        ("Klaten", None),
        ("", None),
    ],
)
def test_codes_are_read_with_or_without_dots(written: str, code: str | None) -> None:
    got = placement.normalise_codes(pd.Series([written])).iloc[0]
    assert (pd.isna(got) and code is None) or got == code


def test_codes_from_number_cells() -> None:
    got = placement.normalise_codes(pd.Series([3310112015.0, 3310.0, np.nan]))
    assert got.iloc[:2].tolist() == ["33.10.11.2015", "33.10"]
    assert pd.isna(got.iloc[2])


# --------------------------------------------------------------------------------------
# The real boundaries: every village of a regency placed back by its names
# --------------------------------------------------------------------------------------

#: A regency of another province than the demo's (Kabupaten Gianyar, Bali).
REGENCY = "51.04"


@pytest.fixture(scope="module")
def gianyar(data_dir: Path) -> tuple[placement.Gazetteer, pd.DataFrame]:
    """The gazetteer of the regency (the whole country's names) and its villages with
    their district and regency names."""
    areas = boundaries.load_areas("desa", area=REGENCY, source=data_dir)
    names = {lvl: boundaries.load_names(lvl, source=data_dir) for lvl in placement.LEVELS}
    gaz = placement.gazetteer(areas, level="desa", study=REGENCY, names=names)
    villages = names["desa"].loc[names["desa"].index.str.startswith(REGENCY + ".")]
    truth = pd.DataFrame(
        {
            "code": villages.index.to_numpy(dtype=object),
            "desa": villages.to_numpy(dtype=object),
            "kecamatan": names["kecamatan"].reindex(villages.index.str[:8]).to_numpy(),
            "kabupaten": names["kabupaten"].reindex(villages.index.str[:5]).to_numpy(),
        }
    )
    return gaz, truth


def _placed_codes(gaz: placement.Gazetteer, placed: placement.Placed) -> np.ndarray:
    codes = np.asarray(gaz.codes, dtype=object)
    return np.where(placed.area_pos >= 0, codes[np.maximum(placed.area_pos, 0)], "")


def test_every_village_is_placed_back_by_its_names(
    gianyar: tuple[placement.Gazetteer, pd.DataFrame],
) -> None:
    gaz, truth = gianyar
    frame = truth.assign(
        desa="Desa " + truth["desa"].str.upper(), kabupaten="Kab. " + truth["kabupaten"]
    )
    placed = placement.place(
        frame, gaz=gaz, desa="desa", kecamatan="kecamatan", kabupaten="kabupaten"
    )
    assert (_placed_codes(gaz, placed) == truth["code"].to_numpy()).all()
    assert set(placed.how) == {"name"}


def test_every_village_is_placed_back_by_its_code_without_dots(
    gianyar: tuple[placement.Gazetteer, pd.DataFrame],
) -> None:
    gaz, truth = gianyar
    frame = pd.DataFrame({"kode": truth["code"].str.replace(".", "", regex=False)})
    placed = placement.place(frame, gaz=gaz, code="kode")
    assert (_placed_codes(gaz, placed) == truth["code"].to_numpy()).all()
    assert set(placed.how) == {"code"}


def test_a_name_is_ambiguous_exactly_where_it_repeats_in_its_scope(
    gianyar: tuple[placement.Gazetteer, pd.DataFrame],
) -> None:
    """Village names alone (no district): ambiguous exactly for the names whose folded
    form occurs more than once in the regency (counted by brute force)."""
    gaz, truth = gianyar
    keys = placement.fold_names(truth["desa"])["key"]
    repeated = keys.map(keys.value_counts()).to_numpy() > 1
    placed = placement.place(truth[["desa"]], gaz=gaz, desa="desa")
    assert ((placed.reason == "ambiguous_area") == repeated).all()
    assert (_placed_codes(gaz, placed)[~repeated] == truth["code"].to_numpy()[~repeated]).all()


def test_a_typo_places_the_village_unless_another_name_is_as_close(
    gianyar: tuple[placement.Gazetteer, pd.DataFrame],
) -> None:
    """One letter dropped from every village name (a planted typo): the village is found
    in its district, or the record is rejected; never placed in another village unless
    the typed name is exactly another village's name in that district."""
    gaz, truth = gianyar
    typed = truth["desa"].str.slice(0, -1)
    placed = placement.place(truth.assign(desa=typed), gaz=gaz, desa="desa", kecamatan="kecamatan")
    got = _placed_codes(gaz, placed)
    wrong = (got != "") & (got != truth["code"].to_numpy())
    keys = placement.fold_names(truth["desa"])["key"]
    own = set(zip(truth["code"].str[:8], keys, strict=True))
    typed_keys = placement.fold_names(typed)["key"]
    exact_other = np.array(
        [(c[:8], k) in own for c, k in zip(truth["code"], typed_keys, strict=True)]
    )
    assert not (wrong & ~exact_other).any()
    assert (got == truth["code"].to_numpy()).mean() > 0.95
    unplaced = placed.reason[got == ""]
    assert set(unplaced) <= {"ambiguous_area", "unknown_area"}


def test_an_unknown_name_lists_the_closest_names(
    gianyar: tuple[placement.Gazetteer, pd.DataFrame],
) -> None:
    gaz, truth = gianyar
    district = truth["kecamatan"].iloc[0]
    frame = pd.DataFrame({"desa": ["Xyzzyqux"], "kecamatan": [district]})
    placed = placement.place(frame, gaz=gaz, desa="desa", kecamatan="kecamatan")
    assert placed.reason[0] == "unknown_area"
    assert "Xyzzyqux" in placed.detail[0] and "closest" in placed.detail[0]


def test_a_district_outside_the_study_area_is_outside(
    gianyar: tuple[placement.Gazetteer, pd.DataFrame], data_dir: Path
) -> None:
    gaz, _ = gianyar
    frame = pd.DataFrame({"kode": ["33.10.11.2015", "3310112015"], "kabupaten": ["", ""]})
    placed = placement.place(frame, gaz=gaz, code="kode")
    assert placed.reason.tolist() == ["outside_study_area"] * 2
    assert "51.04" in placed.detail[0]


def test_a_district_code_is_too_coarse_for_villages(
    gianyar: tuple[placement.Gazetteer, pd.DataFrame],
) -> None:
    gaz, truth = gianyar
    district = truth["code"].iloc[0][:8]
    placed = placement.place(pd.DataFrame({"kode": [district]}), gaz=gaz, code="kode")
    assert placed.reason[0] == "area_too_coarse"
    assert "--level kecamatan" in placed.detail[0]


def test_city_and_regency_of_one_name_are_told_apart(data_dir: Path) -> None:
    """Jawa Tengah has Kabupaten Semarang (33.22) and Kota Semarang (33.74)."""
    areas = boundaries.load_areas("kabupaten", area="33", source=data_dir)
    names = {lvl: boundaries.load_names(lvl, source=data_dir) for lvl in placement.LEVELS}
    gaz = placement.gazetteer(areas, level="kabupaten", study="33", names=names)
    frame = pd.DataFrame({"kab": ["Kota Semarang", "Kab. Semarang", "Semarang", "KOTA  SEMARANG"]})
    placed = placement.place(frame, gaz=gaz, kabupaten="kab")
    codes = _placed_codes(gaz, placed)
    assert codes.tolist()[:2] == ["33.74", "33.22"]
    assert placed.reason[2] == "ambiguous_area" and codes[3] == "33.74"


# --------------------------------------------------------------------------------------
# Through validation and the command line (a lattice in metres)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lattice_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A 6 x 6 lattice of 1 km cells (ids 99.00 ..., names r0c0 ...) and its registry,
    each firm with the code and name of the cell its point lies in."""
    folder = tmp_path_factory.mktemp("placement")
    registry = custom_study(folder, (6, 6), {"r2c2": 30, "r2c3": 25}, seed=4)
    areas = gpd.read_file(folder / "desa.gpkg")
    points = gpd.GeoDataFrame(
        registry, geometry=gpd.points_from_xy(registry["lon"], registry["lat"]), crs=4326
    )
    joined = gpd.sjoin(points, areas[["kode", "name", "geometry"]], predicate="within")
    registry["kode_desa"] = joined["kode"].reindex(registry.index).to_numpy()
    registry["desa"] = joined["name"].reindex(registry.index).to_numpy()
    assert registry["kode_desa"].notna().all()
    return folder, registry


def _args(folder: Path, records: Path, out: Path, *options: str) -> list[str]:
    return [
        "validate",
        "--records",
        str(records),
        "--boundaries",
        str(folder / "desa.gpkg"),
        "--area-id-col",
        "kode",
        "--out",
        str(out),
        *options,
    ]


def test_records_without_coordinates_are_placed_by_code_or_name(
    lattice_study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, registry = lattice_study
    frame = registry.copy()
    frame.loc[frame.index[::2], ["lat", "lon"]] = np.nan
    frame.loc[frame.index[1::4], "kode_desa"] = ""  # these keep their point
    frame.loc[frame.index[::4], "kode_desa"] = ""  # these have only a name
    areas = gpd.read_file(folder / "desa.gpkg").set_index("kode")
    report = validate_records(
        read_records(_write(tmp_path / "r.csv", frame)),
        areas=areas,
        places=placement.gazetteer(areas, level="custom"),
    )
    kept = report.records
    assert report.n_kept == len(frame) and report.n_rejected == 0
    assert (kept["area_code"].to_numpy() == registry["kode_desa"].to_numpy()).all()
    no_point = frame["lat"].isna().to_numpy()
    expected = np.where(~no_point, "point", np.where(frame["kode_desa"] != "", "code", "name"))
    assert kept["placement"].tolist() == expected.tolist()
    assert kept["lat"].isna().to_numpy().tolist() == no_point.tolist()
    assert report.placement == pd.Series(expected).value_counts().to_dict()


def _write(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_a_point_far_from_its_named_area_is_an_area_mismatch(
    lattice_study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """Points moved by a known distance (metres, on the lattice's own CRS) from the cell
    their record names: beyond 500 m they are listed, within it not."""
    folder, registry = lattice_study
    areas = gpd.read_file(folder / "desa.gpkg").set_index("kode")
    metric = areas.to_crs(32749)
    frame = registry.iloc[:4].copy()
    # the firms' cells, and points 200 m and 1,700 m east of each cell's east edge
    cells = metric.geometry.loc[frame["kode_desa"]]
    east = cells.bounds["maxx"].to_numpy()
    y = cells.centroid.y.to_numpy()
    shifted = gpd.GeoSeries(
        gpd.points_from_xy(east + np.array([200, 1700, 200, 1700]), y), crs=32749
    ).to_crs(4326)
    frame["lat"], frame["lon"] = shifted.y.to_numpy(), shifted.x.to_numpy()
    path = _write(tmp_path / "mismatch.csv", frame)
    # the details in the run's language (Indonesian by default)
    settle = (("area", "menurut wilayah yang disebut"), ("point", "menurut titik"))
    for prefer, settled in settle:
        out = tmp_path / f"out-{prefer}"
        result = runner.invoke(app, _args(folder, path, out, "--place-by", prefer))
        assert result.exit_code == 0, result.output
        repaired = pd.read_csv(out / "repaired.csv", dtype={"detail": str})
        assert repaired["reason"].tolist() == ["area_mismatch", "area_mismatch"]
        assert repaired["row"].tolist() == [2, 4]
        distances = repaired["detail"].str.extract(r"berjarak ([\d.]+) m")[
            0
        ]  # 1.700: Indonesian marks
        assert distances.str.replace(".", "").astype(int).tolist() == [1700, 1700]
        assert repaired["detail"].str.contains(settled).all()
        summary = json.loads((out / "summary.json").read_text())
        assert summary["records"]["repaired_by_reason"]["area_mismatch"] == 2


def test_mismatch_tolerance_is_an_option(
    lattice_study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, registry = lattice_study
    areas = gpd.read_file(folder / "desa.gpkg").set_index("kode")
    frame = registry.iloc[:1].copy()
    cell = areas.to_crs(32749).geometry.loc[frame["kode_desa"].iloc[0]]
    moved = gpd.GeoSeries(
        gpd.points_from_xy([cell.bounds[2] + 300], [cell.centroid.y]), crs=32749
    ).to_crs(4326)
    frame["lat"], frame["lon"] = moved.y.to_numpy(), moved.x.to_numpy()
    kept = {}
    for tolerance in (500, 100):
        report = validate_records(
            read_records(_write(tmp_path / "one.csv", frame)),
            areas=areas,
            places=placement.gazetteer(areas, level="custom", tolerance_m=tolerance),
        )
        kept[tolerance] = report.repaired_by_reason["area_mismatch"]
        assert report.records["area_code"].iloc[0] == frame["kode_desa"].iloc[0]
    assert kept == {500: 0, 100: 1}


def test_rejections_for_areas_carry_their_reason_and_detail(
    lattice_study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, registry = lattice_study
    frame = registry.iloc[:3].copy()
    frame[["lat", "lon"]] = np.nan
    frame["kode_desa"] = ["77.77", "", ""]
    frame["desa"] = ["", "Nowhere", ""]
    out = tmp_path / "out"
    result = runner.invoke(app, _args(folder, _write(tmp_path / "bad.csv", frame), out))
    assert result.exit_code == 2, result.output
    rejected = pd.read_csv(out / "rejected.csv", dtype=str)  # validate reports into --out
    assert rejected["reason"].tolist() == ["unknown_area", "unknown_area", "missing_coordinates"]
    assert "'77.77'" in rejected["detail"].iloc[0]
    assert "Nowhere" in rejected["detail"].iloc[1] and "terdekat" in rejected["detail"].iloc[1]
    assert "tidak menyebut wilayah" in rejected["detail"].iloc[2]


def test_an_h3_grid_does_not_place_firms_by_area(
    lattice_study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, registry = lattice_study
    areas = gpd.read_file(folder / "desa.gpkg").set_index("kode")
    frame = registry.iloc[:2].copy()
    frame.loc[frame.index[0], ["lat", "lon"]] = np.nan
    report = validate_records(
        read_records(_write(tmp_path / "h3.csv", frame)),
        areas=areas,
        places=placement.gazetteer(areas, level="h3"),
    )
    assert report.rejected["reason"].tolist() == ["area_too_coarse"]
    assert "H3" in report.rejected["detail"].iloc[0]


def test_a_name_column_of_codes_places_by_code(
    gianyar: tuple[placement.Gazetteer, pd.DataFrame],
) -> None:
    """Exports write the village code in a ``desa`` column: it places as a code does."""
    gaz, truth = gianyar
    placed = placement.place(truth[["code"]].rename(columns={"code": "desa"}), gaz=gaz, desa="desa")
    assert (_placed_codes(gaz, placed) == truth["code"].to_numpy()).all()
    assert set(placed.how) == {"code"}


def test_the_regency_of_a_district_study_area_is_not_outside(data_dir: Path) -> None:
    """A study area of one kecamatan (Ceper, 33.10.11): records naming their regency,
    Klaten, are inside it, placed by their village."""
    areas = boundaries.load_areas("desa", area="33.10.11", source=data_dir)
    names = {lvl: boundaries.load_names(lvl, source=data_dir) for lvl in placement.LEVELS}
    gaz = placement.gazetteer(areas, level="desa", study="33.10.11", names=names)
    village = names["desa"].loc["33.10.11.2015"]
    frame = pd.DataFrame({"desa": [village], "kab": ["Kab. Klaten"], "kec": ["Ceper"]})
    placed = placement.place(frame, gaz=gaz, desa="desa", kecamatan="kec", kabupaten="kab")
    assert _placed_codes(gaz, placed).tolist() == ["33.10.11.2015"]
    other = pd.DataFrame({"desa": ["Jetis"], "kab": ["Kab. Klaten"], "kec": ["Juwiring"]})
    placed = placement.place(other, gaz=gaz, desa="desa", kecamatan="kec", kabupaten="kab")
    assert placed.reason.tolist() == ["outside_study_area"]


# --------------------------------------------------------------------------------------
# Names as an adversarial review typed them (real boundaries outside Java)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def national(data_dir: Path) -> dict[str, pd.Series]:
    return {lvl: boundaries.load_names(lvl, source=data_dir) for lvl in placement.LEVELS}


def _gaz(data_dir: Path, national: dict[str, pd.Series], study: str) -> placement.Gazetteer:
    areas = boundaries.load_areas("desa", area=study, source=data_dir)
    return placement.gazetteer(areas, level="desa", study=study, names=national)


def _one(village: pd.Series, pattern: str) -> str:
    hits = village.loc[village.str.fullmatch(pattern)]
    assert len(hits) == 1, hits
    return str(hits.index[0])


def test_village_numbers_are_never_taken_for_one_another(
    data_dir: Path, national: dict[str, pd.Series]
) -> None:
    """Poigar I, II, III (Kab. Bolaang Mongondow): 2, Dua and II are the same village; a
    number that is none of them (IV) is unknown; the bare name is ambiguous."""
    gaz = _gaz(data_dir, national, "71.01")
    villages = national["desa"].loc[national["desa"].index.str.startswith("71.01.")]
    one, two = _one(villages, "Poigar I"), _one(villages, "Poigar II")
    frame = pd.DataFrame(
        {"desa": ["Poigar 2", "Poigar Dua", "Poigar II", "Poigar 1", "Poigar IV", "Poigar"]}
    )
    placed = placement.place(frame, gaz=gaz, desa="desa")
    codes = _placed_codes(gaz, placed).tolist()
    assert codes[:4] == [two, two, two, one]
    assert placed.reason.tolist()[4:] == ["unknown_area", "ambiguous_area"]


def test_an_exact_name_outside_comes_before_a_similar_one_inside(
    data_dir: Path, national: dict[str, pd.Series]
) -> None:
    """Rantetayo is a village of Kabupaten Tana Toraja (73.18); Kabupaten Toraja Utara
    (73.26) has a Rantepao: a record of Rantetayo is outside, not in Rantepao."""
    gaz = _gaz(data_dir, national, "73.26")
    placed = placement.place(
        pd.DataFrame({"desa": ["Desa Rantetayo"], "kec": ["Kec. Rantetayo"]}),
        gaz=gaz,
        desa="desa",
        kecamatan="kec",
    )
    assert placed.reason.tolist() == ["outside_study_area"]


def test_a_regency_column_keeps_typos_readable(
    data_dir: Path, national: dict[str, pd.Series]
) -> None:
    """A regency named and no district: the village is looked for among the regency's,
    typos included (a letter changed in every name)."""
    gaz = _gaz(data_dir, national, "73.26")
    villages = national["desa"].loc[national["desa"].index.str.startswith("73.26.")]
    keys = placement.fold_names(villages)["key"]
    unique = villages.loc[keys.map(keys.value_counts()).to_numpy() == 1]
    typed = unique.str.slice(0, -1) + "x"
    frame = pd.DataFrame({"desa": typed.to_numpy(), "kab": "Kab. Toraja Utara"})
    placed = placement.place(frame, gaz=gaz, desa="desa", kabupaten="kab")
    got = _placed_codes(gaz, placed)
    assert (got == unique.index.to_numpy()).mean() > 0.9
    assert not ((got != "") & (got != unique.index.to_numpy())).any()


def test_kind_words_inside_a_name_stay(data_dir: Path, national: dict[str, pd.Series]) -> None:
    """Kabupaten Kotabaru (63.02) typed "Kab. Kota Baru" or "Kota Baru"; a village named
    "... Kota" beside its twin keeps the word (Rokan Hilir, 14.07)."""
    areas = boundaries.load_areas("kabupaten", area="63", source=data_dir)
    gaz = placement.gazetteer(areas, level="kabupaten", study="63", names=national)
    placed = placement.place(
        pd.DataFrame({"kab": ["Kab. Kota Baru", "Kotabaru"]}), gaz=gaz, kabupaten="kab"
    )
    assert _placed_codes(gaz, placed).tolist() == ["63.02", "63.02"]
    villages = national["desa"].loc[national["desa"].index.str.startswith("14.07.")]
    twins = villages.loc[villages.str.endswith(" Kota")]
    if len(twins):
        name = twins.iloc[0].removesuffix(" Kota")
        plain = villages.loc[villages == name]
        gaz = _gaz(data_dir, national, "14.07")
        frame = pd.DataFrame({"desa": [twins.iloc[0], name]})
        got = _placed_codes(gaz, placement.place(frame, gaz=gaz, desa="desa")).tolist()
        assert got[0] == twins.index[0]
        if len(plain) == 1:
            assert got[1] == plain.index[0]


def test_kelurahan_and_desa_of_one_name_are_told_apart(
    data_dir: Path, national: dict[str, pd.Series]
) -> None:
    """Kemendagri numbers a kelurahan 1xxx and a desa 2xxx: "Kel. X" and "Desa X" of one
    district go to each (found in the boundaries themselves)."""
    desa = national["desa"]
    frame = pd.DataFrame({"code": desa.index, "name": desa.to_numpy(), "kec": desa.index.str[:8]})
    frame["kind"] = frame["code"].str.slice(9, 10)
    both = frame.groupby(["kec", "name"])["kind"].agg(lambda k: set(k) == {"1", "2"})
    kec, name = both.loc[both].index[0]
    study = kec[:5]
    gaz = _gaz(data_dir, national, study)
    placed = placement.place(
        pd.DataFrame(
            {"desa": [f"Kel. {name}", f"Desa {name}", name], "kec": national["kecamatan"][kec]}
        ),
        gaz=gaz,
        desa="desa",
        kecamatan="kec",
    )
    got = _placed_codes(gaz, placed).tolist()
    assert got[0][9] == "1" and got[1][9] == "2"
    assert placed.reason[2] == "ambiguous_area"


def test_a_district_code_narrows_a_village_name(
    data_dir: Path, national: dict[str, pd.Series]
) -> None:
    """A kecamatan code column beside a village name: the name is looked for in it; a
    district name found nowhere (a sheet called "Sheet1") is passed over."""
    gaz = _gaz(data_dir, national, "51.04")
    villages = national["desa"].loc[national["desa"].index.str.startswith("51.04.")]
    code = villages.index[0]
    frame = pd.DataFrame({"kode": [code[:8]], "desa": [villages.iloc[0]]})
    placed = placement.place(frame, gaz=gaz, code="kode", desa="desa")
    assert _placed_codes(gaz, placed).tolist() == [code]
    keys = placement.fold_names(villages)["key"]
    single = villages.loc[keys.map(keys.value_counts()).to_numpy() == 1].iloc[:1]
    frame = pd.DataFrame({"kec": ["Sheet1"], "desa": single.to_numpy()})
    placed = placement.place(frame, gaz=gaz, kecamatan="kec", desa="desa")
    assert _placed_codes(gaz, placed).tolist() == [single.index[0]]
