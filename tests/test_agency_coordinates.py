"""Coordinates as agencies write them (issue 25, item 3): degrees-minutes-seconds,
decimal minutes, either decimal mark value by value, ``lat, lon`` in one cell, map links,
and projected metres with ``--crs``.

Expected degrees are computed here by the closed form d + m/60 + s/3600 (sign from the
hemisphere); projected cases use pyproj's forward transformation as the independent
implementation, plus points whose UTM coordinates are known in closed form.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from typer.testing import CliRunner

from klastergeo import KlastergeoError
from klastergeo.app.cli import app
from klastergeo.app.config import Columns, ReadOptions
from klastergeo.io.registry import coordinates
from klastergeo.io.registry.batches import validate_in_batches
from klastergeo.io.registry.records import read_records, resolve_columns, validate_records
from tests.worlds.lattice import custom_study, lattice_args

runner = CliRunner()

#: Alun-alun Klaten (the town square), about: a known point in UTM zone 49S.
KLATEN = (-7.70565, 110.60616)


def dms(d: float, m: float = 0.0, s: float = 0.0, hemisphere: str = "") -> float:
    """The closed form: d + m/60 + s/3600, negative in the south and west."""
    value = d + m / 60.0 + s / 3600.0
    return -value if hemisphere in ("S", "W") else value


# --------------------------------------------------------------------------------------
# One coordinate per cell
# --------------------------------------------------------------------------------------

SINGLE = [
    # decimal degrees, either mark
    ("-7.710251", -7.710251),
    ("-7,710251", -7.710251),
    ("110.603422", 110.603422),
    ("110,603422", 110.603422),
    (" +7.5 ", 7.5),
    ("\u22127.5", -7.5),  # a typographic minus
    ("-7", -7.0),
    ("1.5e1", 15.0),
    # a spreadsheet took the decimal point for thousands separators
    ("110.603.422", 110.603422),
    ("-7.710.251", -7.710251),
    ("110,603,422", 110.603422),
    # degrees-minutes-seconds
    ("7°42'36.9\"S", dms(7, 42, 36.9, "S")),
    ("7° 42' 36.9\" LS", dms(7, 42, 36.9, "S")),
    ("7°42′36.9″S", dms(7, 42, 36.9, "S")),
    ("7°42'36.9''S", dms(7, 42, 36.9, "S")),
    ("7º42'36,9\"LS", dms(7, 42, 36.9, "S")),  # ordinal sign and a decimal comma
    ("110°36'12\"E", dms(110, 36, 12, "E")),
    ("110°36'12\"BT", dms(110, 36, 12, "E")),
    ("110° 36' 12\" Bujur Timur", dms(110, 36, 12, "E")),
    ("S 7 42 36.9", dms(7, 42, 36.9, "S")),
    ("LS 7° 42' 36.9\"", dms(7, 42, 36.9, "S")),
    ("7 42 36.9 S", dms(7, 42, 36.9, "S")),
    ("-7 42 36.9", -dms(7, 42, 36.9)),
    ("-7°42'36.9\"", -dms(7, 42, 36.9)),
    ("-7°42'36.9\" LS", dms(7, 42, 36.9, "S")),  # minus and south say the same
    ("0°30'0\"LU", dms(0, 30, 0, "N")),
    ("3°35'N", dms(3, 35, 0, "N")),
    ("98 40 30 BT", dms(98, 40, 30, "E")),
    ("70°10'5\"W", dms(70, 10, 5, "W")),
    ("70°10'5\"BB", dms(70, 10, 5, "W")),
    ("7°42'36.9\"s", dms(7, 42, 36.9, "S")),  # lower case
    # degrees and decimal minutes
    ("7°42.615'S", dms(7, 42.615, 0, "S")),
    ("7°42,615'LS", dms(7, 42.615, 0, "S")),
    ("7 42.615 S", dms(7, 42.615, 0, "S")),
    ("S 7° 42.615'", dms(7, 42.615, 0, "S")),
    # decimal degrees with a hemisphere
    ("7.710251 LS", -7.710251),
    ("7,710251° S", -7.710251),
    ("110.603422°BT", 110.603422),
]


@pytest.mark.parametrize(("text", "expected"), SINGLE)
def test_one_coordinate_as_written(text: str, expected: float) -> None:
    numbers, empty, why, _ = coordinates.read_values(pd.Series([text]))
    assert not empty[0]
    assert why[0] == ""
    assert numbers[0] == pytest.approx(expected, abs=1e-12)


REFUSED = [
    ("7°72'S", "minutes of 60 or more"),
    ("7°42'60\"S", "seconds of 60 or more"),
    ("7.5°30'S", "degrees with decimals and minutes"),
    ("7°42.5'30\"S", "minutes with decimals and seconds"),
    ("S 7°42' S", "two hemisphere letters"),
    ("-7°42' LU", "minus sign and a hemisphere N or E"),
    ("Klaten", "is not a coordinate"),
    ("7 .. 5", "is not a coordinate"),
    ("742'S", "is not a coordinate"),
    ("-7.71, 110.60", "holds two numbers"),
    ("inf", "is not a coordinate"),
    ("1e999", "is not a coordinate"),
]


@pytest.mark.parametrize(("text", "why"), REFUSED)
def test_what_is_not_a_coordinate_says_why(text: str, why: str) -> None:
    numbers, empty, reasons, _ = coordinates.read_values(pd.Series([text]))
    assert np.isnan(numbers[0]) and not empty[0]
    assert why in reasons[0]


@pytest.mark.parametrize("text", ["", "  ", "NA", "n/a", "-", "null", None])
def test_empty_cells_are_empty_not_unreadable(text: str | None) -> None:
    numbers, empty, why, _ = coordinates.read_values(pd.Series([text], dtype=object))
    assert np.isnan(numbers[0]) and empty[0] and why[0] == ""


def test_a_hemisphere_letter_says_which_axis() -> None:
    _, _, _, axis = coordinates.read_values(
        pd.Series(["7°42'S", "110°36'BT", "-7.71", "3°N", "70°W"])
    )
    assert axis.tolist() == [1, 2, 0, 1, 2]


def test_typed_columns_are_taken_as_numbers() -> None:
    numbers, empty, why, _ = coordinates.read_values(pd.Series([-7.5, np.nan, np.inf]))
    assert numbers[0] == -7.5 and empty.tolist() == [False, True, False]
    assert why[2] == "is not a finite number"


# --------------------------------------------------------------------------------------
# Both in one cell, and map links
# --------------------------------------------------------------------------------------

LAT, LON = -7.710251, 110.603422
PAIRS = [
    ("-7.710251, 110.603422", (LAT, LON)),
    ("-7.710251,110.603422", (LAT, LON)),
    ("-7.710251 110.603422", (LAT, LON)),
    ("-7.710251; 110.603422", (LAT, LON)),
    ("-7,710251, 110,603422", (LAT, LON)),
    ("-7,710251,110,603422", (LAT, LON)),
    ("-7,710251;110,603422", (LAT, LON)),
    ("-7,710251 110,603422", (LAT, LON)),
    ("(-7.710251, 110.603422)", (LAT, LON)),
    ("[-7.710251; 110.603422]", (LAT, LON)),
    ("Lat: -7.710251, Long: 110.603422", (LAT, LON)),
    ("lintang -7,710251 bujur 110,603422", (LAT, LON)),
    (
        "Lintang Selatan 7°42'36.9\" Bujur Timur 110°36'12\"",
        (dms(7, 42, 36.9, "S"), dms(110, 36, 12)),
    ),
    ("7°42'36.9\"S 110°36'12\"E", (dms(7, 42, 36.9, "S"), dms(110, 36, 12, "E"))),
    ("7°42'36.9\"S, 110°36'12\"E", (dms(7, 42, 36.9, "S"), dms(110, 36, 12, "E"))),
    ("7° 42' 36.9\" LS 110° 36' 12\" BT", (dms(7, 42, 36.9, "S"), dms(110, 36, 12, "E"))),
    ("S 7 42 36.9 E 110 36 12", (dms(7, 42, 36.9, "S"), dms(110, 36, 12, "E"))),
    ("-7° 42' 36.9\" 110° 36' 12\"", (-dms(7, 42, 36.9), dms(110, 36, 12))),
    # longitude first, as the hemisphere letters say: put back in order
    ("110°36'12\"E 7°42'36.9\"S", (dms(7, 42, 36.9, "S"), dms(110, 36, 12, "E"))),
    ("7°42.615'S 110°36.2'E", (dms(7, 42.615, 0, "S"), dms(110, 36.2, 0, "E"))),
]

LINKS = [
    "https://www.google.com/maps/@-7.71,110.6,17z",
    "https://www.google.com/maps/place/Alun-alun+Klaten/@-7.7,110.5,15z/data=!3m1!4b1!4m6"
    "!3m5!1s0x2e7a:0x1!8m2!3d-7.71!4d110.6!16s",
    "https://maps.google.com/?q=-7.71,110.6",
    "https://www.google.com/maps?q=-7.71,+110.6&z=17",
    "https://www.google.com/maps/search/?api=1&query=-7.71%2C110.6",
    "http://maps.google.co.id/maps?ll=-7.71,110.6&spn=0.01",
    "https://www.google.com/maps/dir/?api=1&destination=-7.71,110.6",
    "https://www.openstreetmap.org/#map=17/-7.71/110.6",
    "https://www.openstreetmap.org/?mlat=-7.71&mlon=110.6#map=17/-7.7/110.5",
    "geo:-7.71,110.6",
    "geo:-7.71,110.6?z=17",
    "https://www.bing.com/maps?cp=-7.71~110.6&lvl=17",
]


@pytest.mark.parametrize(("text", "expected"), PAIRS)
def test_lat_lon_in_one_cell(text: str, expected: tuple[float, float]) -> None:
    lat, lon, empty, why = coordinates.read_pairs(pd.Series([text]))
    assert why[0] == "" and not empty[0]
    assert (lat[0], lon[0]) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("link", LINKS)
def test_map_links(link: str) -> None:
    lat, lon, _, why = coordinates.read_pairs(pd.Series([link]))
    assert why[0] == ""
    assert (lat[0], lon[0]) == pytest.approx((-7.71, 110.6), abs=1e-12)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("https://maps.app.goo.gl/Xy12AbCdEf", "short map link"),
        ("https://goo.gl/maps/abc", "short map link"),
        ("https://www.google.com/maps/place/Klaten", "link without coordinates"),
        ("Jl. Pemuda 5, Klaten", "is not a pair"),
        ("-7.71", "is not a pair"),
        ("-7.71, 110.6, 12", "is not a pair"),
        ("7°42'S 8°10'S", "two latitudes or two longitudes"),
        ("7°72'S, 110°E", "first half that has minutes of 60 or more"),
    ],
)
def test_what_is_not_a_pair_says_why(text: str, why: str) -> None:
    lat, lon, _, reasons = coordinates.read_pairs(pd.Series([text]))
    assert np.isnan(lat[0]) and np.isnan(lon[0])
    assert why in reasons[0]


# --------------------------------------------------------------------------------------
# Projected coordinates
# --------------------------------------------------------------------------------------


def test_utm_points_known_in_closed_form() -> None:
    # UTM 49S: central meridian 111°E, false easting 500 km, false northing 10,000 km; on
    # the central meridian at the equator a point is (500000, 10000000)
    lat, lon = coordinates.to_wgs84(np.array([500000.0]), np.array([1e7]), crs="EPSG:32749")
    assert (lat[0], lon[0]) == pytest.approx((0.0, 111.0), abs=1e-9)
    # every point of the central meridian keeps longitude 111°
    lat, lon = coordinates.to_wgs84(
        np.full(3, 500000.0), np.array([9_000_000.0, 9_147_000.0, 9_900_000.0]), crs="EPSG:32749"
    )
    assert lon == pytest.approx(111.0, abs=1e-9)
    assert np.all(np.diff(lat) > 0)


@pytest.mark.parametrize(
    ("crs", "how"),
    [
        ("EPSG:32749", "{:.3f}"),  # UTM 49S, as a GPS shows it
        ("EPSG:32749", "grouped-comma"),  # 456.789,123 as an Indonesian spreadsheet shows it
        ("EPSG:23835", "{:.2f}"),  # DGN95 / Indonesia TM-3 zone 49.1 (Klaten)
        ("EPSG:23834", "{:.2f}"),  # TM-3 zone 48.2, as the issue names it
    ],
)
def test_projected_registry_is_transformed(tmp_path: Path, crs: str, how: str) -> None:
    """Klaten's Alun-alun and points around it, projected by pyproj's forward
    transformation (the independent implementation), read back as degrees."""
    rng = np.random.default_rng(3)
    lat = KLATEN[0] + rng.uniform(-0.05, 0.05, 20)
    lon = KLATEN[1] + rng.uniform(-0.05, 0.05, 20)
    lat[0], lon[0] = KLATEN
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    if crs == "EPSG:32749":  # the known point lies where UTM 49S puts Klaten
        assert 455_000 < x[0] < 457_000 and 9_147_000 < y[0] < 9_149_000

    def written(v: float) -> str:
        if how == "grouped-comma":
            return f"{v:,.3f}".replace(",", " ").replace(".", ",").replace(" ", ".")
        return how.format(v)

    path = tmp_path / "utm.csv"
    frame = pd.DataFrame(
        {
            "id": [f"A{i}" for i in range(20)],
            "y": [written(v) for v in y],
            "x": [written(v) for v in x],
            "kbli": "31001",
            "nilai_produksi": "1.500,5",
        }
    )
    frame.to_csv(path, sep=";", index=False)
    report = validate_records(read_records(path), crs=crs)
    assert report.n_kept == 20, report.rejected
    kept = report.records.loc[frame["id"]]
    assert kept["lat"].to_numpy() == pytest.approx(lat, abs=1e-7)
    assert kept["lon"].to_numpy() == pytest.approx(lon, abs=1e-7)


def test_projected_pairs_in_one_cell() -> None:
    x, y = Transformer.from_crs(4326, 32749, always_xy=True).transform(KLATEN[1], KLATEN[0])
    frame = pd.DataFrame({"koordinat": [f"{x:.2f}, {y:.2f}", f"{x:.2f} {y:.2f}", "7°42'S"]})
    got = coordinates.parse(frame, pair="koordinat", crs="EPSG:32749")
    assert got.lat[:2] == pytest.approx([KLATEN[0]] * 2, abs=1e-7)
    assert got.lon[:2] == pytest.approx([KLATEN[1]] * 2, abs=1e-7)
    assert np.isnan(got.lat[2]) and "not a pair" in got.why[2]


def test_degrees_in_a_projected_column_are_refused() -> None:
    frame = pd.DataFrame({"y": ["9147921.5", "7°42'36.9\"S"], "x": ["456123.4", "110°36'E"]})
    got = coordinates.parse(frame, lat="y", lon="x", crs="EPSG:32749")
    assert np.isfinite(got.lat[0]) and np.isnan(got.lat[1])
    assert (
        got.why[1] == "y is in degrees, not metres of --crs; x is in degrees, not metres of --crs"
    )


def test_metres_without_crs_stop_with_the_option_named(tmp_path: Path) -> None:
    x, y = Transformer.from_crs(4326, 32749, always_xy=True).transform(
        np.full(5, KLATEN[1]), np.full(5, KLATEN[0])
    )
    path = tmp_path / "utm.csv"
    pd.DataFrame(
        {"id": list("ABCDE"), "lintang": y.round(1), "bujur": x.round(1), "kbli": "31001"}
    ).to_csv(path, index=False)
    with pytest.raises(KlastergeoError, match=r"look like projected.*--crs EPSG:32749"):
        validate_records(read_records(path))
    with pytest.raises(KlastergeoError, match=r"columns 'lintang' and 'bujur'.*5 of 5 rows"):
        validate_in_batches(path, workdir=tmp_path / "work", batch_size=2)


def test_a_few_stray_values_are_out_of_range_not_projected(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    pd.DataFrame(
        {
            "id": list("ABCD"),
            "lat": ["-7.71", "-7.72", "-7.73", "9147921"],
            "lon": ["110.60", "110.61", "110.62", "456123"],
            "kbli": "31001",
        }
    ).to_csv(path, index=False)
    report = validate_records(read_records(path))
    assert report.n_kept == 3
    assert report.rejected["reason"].tolist() == ["out_of_range"]


def test_an_unknown_crs_is_a_configuration_error() -> None:
    problem = coordinates.check_crs("EPSG:999999")
    assert problem is not None and "EPSG:32749" in problem
    assert coordinates.check_crs("EPSG:23834") is None
    with pytest.raises(KlastergeoError, match=r"records\.crs='UTM49'"):
        ReadOptions(crs="UTM49")


# --------------------------------------------------------------------------------------
# The coordinate columns decide their own number format
# --------------------------------------------------------------------------------------


def _semicolon_registry(path: Path) -> pd.DataFrame:
    """A ``;`` file whose amounts use decimal commas and thousands dots, and whose
    coordinates are written with a point, a comma, thousands dots and DMS."""
    text = (
        "id;nama_usaha;lintang;bujur;kbli;tenaga_kerja;nilai_produksi\n"
        "A1;Mebel Jaya;-7.710251;110.603422;31001;4;1.234,5\n"
        "A2;Tenun Sari;-7,710251;110,603422;13134;12;250.000\n"
        "A3;Roti Enak;-7.710.251;110.603.422;10710;2;12,5\n"
        "A4;Batik;7°42'36.9\"LS;110°36'12\"BT;13134;3;1.500.000\n"
        "A5;Gerabah;-7.710251;110,603422;23931;1.200;7,25\n"
    )
    path.write_text(text, encoding="utf-8")
    return pd.read_csv(path, sep=";", dtype=str)


def test_dot_coordinates_in_a_decimal_comma_file_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "dinas.csv"
    _semicolon_registry(path)
    for report in (
        validate_records(read_records(path)),
        validate_in_batches(path, workdir=tmp_path / "work", batch_size=2).report(),
    ):
        assert report.n_kept == 5, report.rejected
        kept = report.records
        exact = ["A1", "A2", "A3", "A5"]
        assert kept.loc[exact, "lat"].tolist() == pytest.approx([-7.710251] * 4, abs=1e-12)
        assert kept.loc[exact, "lon"].tolist() == pytest.approx([110.603422] * 4, abs=1e-12)
        assert kept.loc["A4", "lat"] == pytest.approx(dms(7, 42, 36.9, "S"))
        # the amounts keep the file's decimal comma and thousands dots
        assert kept["output"].tolist() == [1234.5, 250_000.0, 12.5, 1_500_000.0, 7.25]
        assert kept.loc["A5", "workers"] == 1200.0
        formats = report.summary()["number_formats"]
        assert formats["nilai_produksi"]["decimal"] == ","
        assert formats["lintang"]["conflicts"] == 0


def test_rejected_coordinates_keep_their_text_and_say_what_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "id;lintang;bujur;kbli\n"
        "A;7°72'36\"LS;110°36'12\"BT;31001\n"
        "B;;110,6;31001\n"
        "C;Klaten;110,6;31001\n"
        "D;-7,71;110,6;31001\n"
        "E;-97°;110,6;31001\n"
        "F;7°72'S;https://maps.app.goo.gl/x;31001\n",
        encoding="utf-8",
    )
    report = validate_records(read_records(path))
    rejected = report.rejected.set_index("id")
    assert rejected["reason"].to_dict() == {
        "A": "missing_coordinates",
        "B": "missing_coordinates",
        "C": "missing_coordinates",
        "E": "out_of_range",
        "F": "missing_coordinates",
    }
    # values as written
    assert rejected.loc["A", "lintang"] == "7°72'36\"LS"
    detail = rejected["detail"]
    assert detail["A"].startswith("lintang '7°72\\'36\"LS', bujur '110°36\\'12\"BT'")
    assert "lintang has minutes of 60 or more" in detail["A"]
    assert "(accepted: decimal degrees (-7.710251 or -7,710251)" in detail["A"]
    assert "lintang is empty" in detail["B"]
    assert "lintang is not a coordinate" in detail["C"]
    assert "outside latitude -90..90" in detail["E"]
    assert "lintang has minutes of 60 or more; bujur is a short map link" in detail["F"]


# --------------------------------------------------------------------------------------
# The coordinates column
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["Koordinat", "Titik Koordinat", "lat_long", "LatLong", "Link Maps", "Google Maps",
     "link_lokasi", "Lokasi GMaps", "Titik Lokasi"],
)  # fmt: skip
def test_the_coordinates_column_is_found_and_replaces_lat_lon(header: str) -> None:
    cols = resolve_columns(["id", header, "kbli"])
    assert cols.coordinates == header and cols.lat is None and cols.lon is None


def test_a_lokasi_column_is_not_taken_for_coordinates() -> None:
    """``Lokasi`` alone is an address as often as a place (or a survey item scored 1-5):
    it is no coordinates column unless named with --coords-col."""
    cols = resolve_columns(["id", "lintang", "bujur", "kbli", "lokasi"])
    assert cols.coordinates is None
    assert resolve_columns(["id", "lokasi", "kbli"], Columns(coordinates="lokasi")).coordinates


def test_no_coordinates_at_all_names_the_new_flag() -> None:
    with pytest.raises(KlastergeoError, match="--coords-col"):
        resolve_columns(["id", "alamat", "kbli"])


def test_a_pair_column_fills_rows_without_lat_lon(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    pd.DataFrame(
        {
            "id": ["A", "B", "C", "D"],
            "lat": ["-7.5", "", "", ""],
            "lon": ["110.5", "", "", ""],
            "koordinat": ["", "-7.71, 110.6", "https://www.google.com/maps/@-7.72,110.61,17z", ""],
            "kbli": "31001",
        }
    ).to_csv(path, index=False)
    report = validate_records(read_records(path))
    assert report.records["lat"].to_dict() == {"A": -7.5, "B": -7.71, "C": -7.72}
    assert report.rejected["reason"].tolist() == ["missing_coordinates"]
    assert "no coordinates written" in report.rejected["detail"].iloc[0]


# --------------------------------------------------------------------------------------
# End to end: klastergeo validate on the small synthetic study
# --------------------------------------------------------------------------------------


def _as_dms(value: float, positive: str, negative: str) -> str:
    """A coordinate written as degrees-minutes-seconds with an Indonesian hemisphere."""
    total = round(abs(value) * 3600 * 100)  # hundredths of a second
    d, rest = divmod(total, 360000)
    m, s = divmod(rest, 6000)
    return f"{d}°{m:02d}'{s / 100:05.2f}\"{negative if value < 0 else positive}"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("coords")
    registry = custom_study(folder, (6, 6), {"r2c2": 30}, seed=5)
    registry.to_csv(folder / "firms.csv", index=False)
    return folder, registry


def _validate(folder: Path, records: str, out: Path, *options: str) -> object:
    args = lattice_args("validate", folder, out, *options, records=records)
    return runner.invoke(app, args, catch_exceptions=False)


@pytest.mark.slow
def test_cli_registry_in_agency_notations_keeps_every_firm(
    study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """The same firms written as a Dinas would: DMS with LS/BT, one coordinates column
    mixing web-map pairs and links, and UTM metres with --crs; every notation keeps every
    firm in its cell, at the point of the plain registry."""
    folder, registry = study
    n = len(registry)
    plain = _validate(folder, "firms.csv", tmp_path / "plain")
    assert plain.exit_code == 0, plain.output
    truth = pd.read_json(tmp_path / "plain" / "validation.json", typ="series")
    assert truth["kept"] == n

    dms_file = registry.assign(
        lat=[_as_dms(v, "LU", "LS") for v in registry["lat"]],
        lon=[_as_dms(v, "BT", "BB") for v in registry["lon"]],
    ).rename(columns={"lat": "Lintang", "lon": "Bujur"})
    dms_file.to_csv(folder / "dms.csv", sep=";", index=False)

    links = np.where(
        np.arange(n) % 3 == 0,
        "https://www.google.com/maps/@" + registry["lat"].map("{:.6f}".format)
        + "," + registry["lon"].map("{:.6f}".format) + ",17z",
        registry["lat"].map("{:.6f}".format).str.replace(".", ",")
        + ", " + registry["lon"].map("{:.6f}".format).str.replace(".", ","),
    )  # fmt: skip
    registry.drop(columns=["lat", "lon"]).assign(**{"Titik Koordinat": links}).to_csv(
        folder / "pairs.csv", sep=";", index=False
    )
    registry.drop(columns=["lat", "lon"]).assign(posisi=links).to_csv(
        folder / "posisi.csv", index=False
    )

    x, y = Transformer.from_crs(4326, 32749, always_xy=True).transform(
        registry["lon"].to_numpy(), registry["lat"].to_numpy()
    )
    registry.drop(columns=["lat", "lon"]).assign(x=x.round(3), y=y.round(3)).to_csv(
        folder / "utm.csv", index=False
    )

    for name, options, tolerance in (
        ("dms.csv", (), 1e-5),  # hundredths of a second
        ("pairs.csv", (), 1e-9),
        ("posisi.csv", ("--coords-col", "posisi"), 1e-9),  # a header only the user knows
        ("utm.csv", ("--crs", "EPSG:32749"), 1e-7),
    ):
        out = tmp_path / name
        done = _validate(folder, name, out, *options)
        assert done.exit_code == 0, (name, done.output)
        summary = json.loads((out / "validation.json").read_text())
        assert summary["kept"] == n and summary["rejected"] == 0, (name, summary)
        rejected = pd.read_csv(out / "rejected.csv")
        assert rejected.empty
        crs = options[1] if options[:1] == ("--crs",) else None
        given = Columns(coordinates=options[1]) if options[:1] == ("--coords-col",) else None
        kept = validate_records(read_records(folder / name), columns=given, crs=crs).records
        kept = kept.loc[registry["id"]]
        assert kept["lat"].to_numpy() == pytest.approx(registry["lat"], abs=tolerance)
        assert kept["lon"].to_numpy() == pytest.approx(registry["lon"], abs=tolerance)

    utm = runner.invoke(app, lattice_args("validate", folder, tmp_path / "u2", records="utm.csv"))
    assert utm.exit_code == 2
    assert "--crs" in utm.output and "projected" in utm.output


def test_cli_rejected_csv_keeps_values_as_written(
    study: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    folder, registry = study
    bad = registry.astype({"lat": str, "lon": str})
    bad.loc[0, "lat"] = "7°61'00\"LS"
    bad.loc[1, "lon"] = "https://maps.app.goo.gl/abc"
    bad.to_csv(folder / "bad.csv", index=False)
    done = _validate(folder, "bad.csv", tmp_path / "out")
    assert done.exit_code == 0, done.output
    rejected = pd.read_csv(tmp_path / "out" / "rejected.csv", dtype=str)
    assert rejected["lat"].tolist()[0] == "7°61'00\"LS"
    assert rejected["lon"].tolist()[1] == "https://maps.app.goo.gl/abc"
    # the details in the run's language (Indonesian by default), the values as written
    assert "menit 60 atau lebih" in rejected["detail"].iloc[0]
    assert "tautan peta pendek" in rejected["detail"].iloc[1]


# --------------------------------------------------------------------------------------
# Fuzz: formatted coordinates read back; any text never crashes
# --------------------------------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None)


def _write_dms(value: float, axis: str, style: int, hemi: int, minutes_only: bool) -> str:
    hemispheres = {"lat": [("N", "S"), ("LU", "LS"), ("U", "S")],
                   "lon": [("E", "W"), ("BT", "BB"), ("T", "B")]}[axis]  # fmt: skip
    marks = [("°", "'", '"'), ("°", "′", "″"), ("°", "'", "''"), (" ", " ", ""), ("º ", "' ", '" ')]
    deg, mnt, sec = marks[style]
    if minutes_only:
        total = round(abs(value) * 60 * 10**6)  # millionths of a minute
        d, m = divmod(total, 60 * 10**6)
        body = f"{d}{deg}{m / 10**6:.6f}{mnt}".strip()
    else:
        total = round(abs(value) * 3600 * 10**4)  # 1/10000 of a second
        d, rest = divmod(total, 3600 * 10**4)
        m, s = divmod(rest, 60 * 10**4)
        body = f"{d}{deg}{m}{mnt}{s / 10**4:.4f}{sec}".strip()
    if hemi == 0:
        return ("-" if value < 0 else "") + body
    letter = hemispheres[hemi - 1][value < 0]
    return f"{letter} {body}" if style == 3 and hemi == 2 else f"{body} {letter}"


@st.composite
def written(draw: st.DrawFn, axis: str) -> tuple[float, str]:
    bound = 90.0 if axis == "lat" else 180.0
    value = draw(st.floats(-bound, bound, allow_nan=False))
    kind = draw(st.sampled_from(["point", "comma", "grouped", "dms", "dm"]))
    if kind == "point":
        return value, f"{value:.7f}"
    if kind == "comma":
        return value, f"{value:.7f}".replace(".", ",")
    if kind == "grouped":  # 6 decimals, regrouped by a spreadsheet: 110.603.422
        digits = f"{abs(value):.6f}".replace(".", "")
        whole = len(digits) - 6
        groups = [digits[:whole]] + [digits[i : i + 3] for i in range(whole, len(digits), 3)]
        return value, ("-" if value < 0 else "") + ".".join(groups)
    style = draw(st.integers(0, 4))
    hemi = draw(st.integers(0, 3))
    if style == 3 and hemi == 0:  # blanks only: the sign keeps it one value
        hemi = 1
    return value, _write_dms(value, axis, style, hemi, minutes_only=kind == "dm")


@pytest.mark.slow
@FUZZ
@given(written("lat"))
def test_fuzz_latitudes_read_back(case: tuple[float, str]) -> None:
    value, text = case
    numbers, _, why, _ = coordinates.read_values(pd.Series([text]))
    assert why[0] == "", text
    assert abs(numbers[0] - value) <= 1e-6, text


@pytest.mark.slow
@FUZZ
@given(written("lon"))
def test_fuzz_longitudes_read_back(case: tuple[float, str]) -> None:
    value, text = case
    numbers, _, why, _ = coordinates.read_values(pd.Series([text]))
    assert why[0] == "", text
    assert abs(numbers[0] - value) <= 1e-6, text


@pytest.mark.slow
@FUZZ
@given(written("lat"), written("lon"), st.sampled_from([", ", "; ", " , ", "link"]))
def test_fuzz_pairs_read_back(
    lat: tuple[float, str], lon: tuple[float, str], separator: str
) -> None:
    if separator == "link":
        text = f"https://www.google.com/maps/place/x/@{lat[0]:.7f},{lon[0]:.7f},17z"
    else:
        text = lat[1] + separator + lon[1]
    got_lat, got_lon, _, why = coordinates.read_pairs(pd.Series([text]))
    assert why[0] == "", text
    assert abs(got_lat[0] - lat[0]) <= 1e-6 and abs(got_lon[0] - lon[0]) <= 1e-6, text


@pytest.mark.slow
@FUZZ
@given(
    st.lists(
        st.one_of(
            st.text(max_size=30),
            st.text(alphabet="0123456789.,-+ °'\"′″NSEWLUBT:/@?=&#", max_size=30),
        ),
        min_size=1,
        max_size=8,
    ),
    st.booleans(),
)
def test_fuzz_any_text_is_read_or_refused_with_a_reason(texts: list[str], degrees: bool) -> None:
    series = pd.Series(texts, dtype=object)
    for numbers, empty, why in (
        coordinates.read_values(series, degrees=degrees, decimal=",")[:3],
        coordinates.read_pairs(series, degrees=degrees)[1:],
    ):
        finite = np.isfinite(numbers)
        assert np.all(finite | empty | (why != ""))
        assert not np.any(finite & (why != ""))
    frame = pd.DataFrame({"a": texts, "b": texts[::-1], "c": texts})
    got = coordinates.parse(frame, lat="a", lon="b", pair="c")
    assert np.all(np.isnan(got.lat) == np.isnan(got.lon))


# --------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_million_dms_strings(capsys: pytest.CaptureFixture[str]) -> None:
    """Parse 1,000,000 distinct DMS strings (reported, never a time limit)."""
    rng = np.random.default_rng(0)
    lat = rng.uniform(-11, 6, 1_000_000)
    total = np.round(np.abs(lat) * 36000).astype(np.int64)  # tenths of a second
    d, rest = np.divmod(total, 36000)
    m, s = np.divmod(rest, 600)
    text = (
        pd.Series(d).astype(str) + "°" + pd.Series(m).astype(str) + "'"
        + pd.Series(s / 10).map("{:.1f}".format) + '"' + np.where(lat < 0, "LS", "LU")
    )  # fmt: skip
    start = time.perf_counter()
    numbers, _, why, _ = coordinates.read_values(text)
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n1,000,000 DMS strings parsed in {seconds:.2f} s")
    assert (why == "").all()
    assert np.abs(numbers - np.sign(lat) * total / 36000).max() < 1e-9
    assert not math.isnan(seconds)
