"""Reading and validating enterprise records.

The bad-rows file ``tests/data/registry_bad_rows.csv`` holds one row of every kind of
problem; the expected reason of each row is written down here (planted ground truth).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from klastergeo.app.config import Columns
from klastergeo.errors import ValidationError
from klastergeo.io.registry.records import (
    REASONS,
    numeric_column,
    parse_numbers,
    read_records,
    resolve_columns,
    validate_records,
)

DATA = Path(__file__).parent / "data"
BAD = DATA / "registry_bad_rows.csv"

#: Planted truth for registry_bad_rows.csv: record number -> reason ("" = kept).
EXPECTED = {
    1: "",
    2: "",
    3: "missing_coordinates",
    4: "missing_coordinates",
    5: "zero_coordinates",
    6: "out_of_range",
    7: "",
    8: "outside_study_area",
    9: "invalid_sector",
    10: "invalid_sector",
    11: "invalid_value",
    12: "invalid_value",
    13: "missing_id",
    14: "duplicate_record",
    15: "duplicate_id",
    16: "",
    17: "",
    18: "malformed_row",
    19: "out_of_range",
}


@pytest.fixture
def study_area() -> gpd.GeoDataFrame:
    """Two adjacent boxes sharing the meridian 110.5 E."""
    return gpd.GeoDataFrame(
        {"name": ["Barat", "Timur"]},
        geometry=[shapely.box(110.0, -7.6, 110.5, -7.2), shapely.box(110.5, -7.6, 111.0, -7.2)],
        index=pd.Index(["33.01", "33.02"], name="area_code"),
        crs=4326,
    )


def test_bad_rows_file_every_reason_exact(study_area: gpd.GeoDataFrame) -> None:
    raw = read_records(BAD)
    assert raw.delimiter == ";"
    assert raw.encoding == "utf-8-sig"
    report = validate_records(raw, areas=study_area)

    assert report.n_read == 19
    assert report.n_kept == 5
    assert report.n_rejected == 14
    assert report.n_repaired == 1
    rejected = dict(zip(report.rejected["row"], report.rejected["reason"], strict=True))
    assert rejected == {row: reason for row, reason in EXPECTED.items() if reason}
    assert list(report.records["row"]) == [row for row, reason in EXPECTED.items() if not reason]
    expected_counts = pd.Series([r for r in EXPECTED.values() if r]).value_counts()
    assert report.by_reason == {r: int(expected_counts.get(r, 0)) for r in REASONS}
    assert sum(report.by_reason.values()) == report.n_rejected


def test_rejected_rows_are_unchanged_and_explained(study_area: gpd.GeoDataFrame) -> None:
    raw = read_records(BAD)
    report = validate_records(raw, areas=study_area)
    rejected = report.rejected.set_index("row")
    # The file's own values, as text, untouched.
    original = raw.frame.iloc[2]  # record 3
    assert rejected.loc[3, "lintang"] == original["lintang"] == ""
    assert rejected.loc[6, "lintang"] == "-740"
    assert rejected.loc[11, "tenaga_kerja"] == "dua"
    assert "dua" in rejected.loc[11, "detail"]
    assert "row 1" in rejected.loc[14, "detail"]
    assert "already used by row 2" in rejected.loc[15, "detail"]
    assert "extra" in rejected.loc[18, "detail"]
    assert rejected["detail"].notna().all()
    # file order
    assert list(report.rejected["row"]) == sorted(report.rejected["row"])


def test_kept_records_values(study_area: gpd.GeoDataFrame) -> None:
    report = validate_records(read_records(BAD), areas=study_area)
    kept = report.records
    assert list(kept.index) == ["U01", "U02", "U07", "U16", "U17"]
    assert kept.loc["U02", "kbli"] == "01111"  # leading zero kept: codes are strings
    assert kept.loc["U02", "sector"] == "01"
    assert kept.loc["U02", "output"] == pytest.approx(1250.75)  # Indonesian thousands dot
    assert kept.loc["U01", "lat"] == pytest.approx(-7.40)
    # the swapped record is repaired, and listed
    assert kept.loc["U07", ["lat", "lon"]].tolist() == pytest.approx([-7.40, 110.20])
    repaired = report.repaired.set_index("record_id")
    assert repaired.loc["U07", "input_lat"] == pytest.approx(110.20)
    # a point on the shared border goes to exactly one area, the first
    assert kept.loc["U16", "area_code"] == "33.01"
    # a point 4 m outside, in a gap, snaps to the nearest area
    assert kept.loc["U17", "area_code"] == "33.01"
    assert kept.crs.to_epsg() == 4326


def test_without_study_area_swapped_rows_are_out_of_range() -> None:
    report = validate_records(read_records(BAD))
    rejected = dict(zip(report.rejected["row"], report.rejected["reason"], strict=True))
    assert rejected[7] == "out_of_range"
    assert 8 not in rejected  # nothing says Jawa Timur is outside
    assert report.n_repaired == 0
    assert "area_code" not in report.records.columns


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "lat": ["-7.1", "-7.2"],
            "lon": ["110.1", "110.2"],
            "kbli": ["13134", "31001"],
            "nama": ["Satu", "Dua"],
        }
    )
    path = tmp_path / "r.csv"
    frame.to_csv(path, sep=delimiter, index=False)
    raw = read_records(path)
    assert raw.delimiter == delimiter
    assert list(raw.frame.columns) == list(frame.columns)
    report = validate_records(raw)
    assert report.n_kept == 2
    assert report.records["lon"].tolist() == [110.1, 110.2]


def test_latin1_file_is_read(tmp_path: Path) -> None:
    text = "id;nama;lintang;bujur;kbli\nA1;Kerajinan Pak Hüsein;-7,5;110,4;32901\n"
    path = tmp_path / "latin.csv"
    path.write_bytes(text.encode("latin-1"))
    raw = read_records(path)
    assert raw.encoding in ("cp1252", "latin-1")
    assert raw.frame.loc[0, "nama"] == "Kerajinan Pak Hüsein"
    assert validate_records(raw).records["lat"].iloc[0] == pytest.approx(-7.5)


def test_utf8_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("id,lat,lon,kbli\nA1,-7.5,110.4,10710\n", encoding="utf-8")
    raw = read_records(path)
    assert raw.encoding == "utf-8"
    assert validate_records(raw).n_kept == 1


def _geo_registry() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id_usaha": ["G1", "G2", "G3"], "kbli": ["13134", "01111", "31001"], "pekerja": [3, 4, 5]},
        geometry=gpd.points_from_xy([110.1, 110.2, 110.3], [-7.3, -7.4, -7.5]),
        crs=4326,
    )


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".parquet"])
def test_gis_formats_use_point_geometry(tmp_path: Path, suffix: str) -> None:
    frame = _geo_registry()
    path = tmp_path / f"firms{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_file(path)
    raw = read_records(path)
    assert raw.xy is not None
    report = validate_records(raw)
    assert report.n_kept == 3
    assert report.records["lon"].tolist() == pytest.approx([110.1, 110.2, 110.3])
    assert report.records.loc["G2", "kbli"] == "01111"
    assert report.records["workers"].tolist() == [3.0, 4.0, 5.0]


def test_projected_gis_file_is_reprojected(tmp_path: Path) -> None:
    path = tmp_path / "utm.gpkg"
    _geo_registry().to_crs(32749).to_file(path)
    report = validate_records(read_records(path))
    assert report.records["lat"].tolist() == pytest.approx([-7.3, -7.4, -7.5])


def test_excel_and_plain_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "ID": ["E1", "E2"],
            "Lintang": [-7.1, -7.2],
            "Bujur": [110.1, 110.2],
            "KBLI": ["01111", "13134"],
        }
    )
    xlsx = tmp_path / "r.xlsx"
    frame.to_excel(xlsx, index=False)
    report = validate_records(read_records(xlsx))
    assert report.records.loc["E1", "kbli"] == "01111"
    assert report.records["lat"].tolist() == [-7.1, -7.2]
    parquet = tmp_path / "r.parquet"
    frame.to_parquet(parquet)
    assert validate_records(read_records(parquet)).records["lon"].tolist() == [110.1, 110.2]


def test_missing_column_error_names_file_columns() -> None:
    with pytest.raises(ValidationError, match=r"no sector column found; pass --sector-col"):
        resolve_columns(["id", "lat", "lon", "jenis"])
    with pytest.raises(
        ValidationError,
        match=r"column 'lintangg' for lat is not in the file "
        r"\(did you mean 'lintang'",
    ):
        resolve_columns(["id", "lintang", "bujur", "kbli"], Columns(lat="lintangg"))


def test_explicit_columns_win_over_detection(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("kode;y_koord;x_koord;lat;lon;jenis\nA;-7.1;110.1;0;0;13134\n")
    cols = Columns(id="kode", lat="y_koord", lon="x_koord", sector="jenis")
    report = validate_records(read_records(path), columns=cols)
    assert report.n_kept == 1
    assert report.records["lat"].iloc[0] == -7.1
    # unmapped input columns named like standard ones are kept under another name
    assert "lat_input" in report.records.columns


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        read_records(tmp_path / "nope.csv")
    (tmp_path / "x.docx").write_text("x")
    with pytest.raises(ValidationError, match=r"unknown type '\.docx'"):
        read_records(tmp_path / "x.docx")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValidationError, match="is empty"):
        read_records(tmp_path / "empty.csv")
    (tmp_path / "dupe.csv").write_text("id;lat;lat;kbli\n1;2;3;4\n")
    with pytest.raises(ValidationError, match="repeats column name"):
        read_records(tmp_path / "dupe.csv")


@pytest.mark.parametrize(
    ("text", "decimal", "delimiter", "expected"),
    [
        ("-7,5", "auto", ";", -7.5),
        ("1.234,5", "auto", ";", 1234.5),
        ("1,234.5", "auto", ";", 1234.5),
        ("1.234.567", "auto", ";", 1234567.0),
        ("1,234,567", "auto", ";", 1234567.0),
        # one value that fits both marks: a ';'-delimited file (a decimal-comma locale's
        # export) reads it with a decimal comma, any other file with a decimal point
        ("1.234", "auto", ";", 1234.0),
        ("1,234", "auto", ";", 1.234),
        ("1.234", "auto", "\t", 1.234),
        ("1,234", "auto", ",", 1234.0),
        ("1.234", ",", None, 1234.0),
        ("1,234", ".", None, 1234.0),
        ("Rp 1.500.000", "auto", ";", 1500000.0),
        ("  110.25 ", "auto", ";", 110.25),
        ("1e3", "auto", ";", 1000.0),
    ],
)
def test_parse_numbers_formats(
    text: str, decimal: str, delimiter: str | None, expected: float
) -> None:
    numbers, empty, invalid = parse_numbers(
        pd.Series([text]),
        decimal=decimal,
        delimiter=delimiter,
    )
    assert numbers[0] == pytest.approx(expected)
    assert not empty[0] and not invalid[0]


def test_parse_numbers_rejects_codes_and_text() -> None:
    numbers, empty, invalid = parse_numbers(pd.Series(["33.74.07.1010", "tiga", "", "-", "NA"]))
    assert invalid.tolist() == [True, True, False, False, False]
    assert empty.tolist() == [False, False, True, True, True]
    assert np.isnan(numbers).all()


def test_unmapped_columns_are_kept_as_read(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id;lat;lon;kbli;desa;skor\nA;-7,1;110,1;13134;33.74.07.1010;3,5\n")
    kept = validate_records(read_records(path)).records
    assert kept.loc["A", "desa"] == "33.74.07.1010"
    assert kept.loc["A", "skor"] == "3,5"
    assert numeric_column(kept["skor"], name="skor").tolist() == [3.5]
    with pytest.raises(
        ValidationError,
        match=r"column 'desa' is not numeric: 1 value\(s\) "
        r"such as '33.74.07.1010'",
    ):
        numeric_column(kept["desa"], name="desa")


def test_no_id_column_uses_record_numbers(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("lat,lon,kbli\n-7.1,110.1,13134\n-7.1,110.1,13134\n-7.2,110.2,10710\n")
    report = validate_records(read_records(path))
    assert list(report.records.index) == ["1", "3"]
    assert report.by_reason["duplicate_record"] == 1


@pytest.mark.slow
def test_validation_is_vectorised_at_scale() -> None:
    """200,000 rows with planted problems: counts exact (no timing asserted here)."""
    n = 200_000
    rng = np.random.default_rng(7)
    lat = rng.uniform(-7.5, -7.3, n).round(5).astype(str)
    lon = rng.uniform(110.1, 110.4, n).round(5).astype(str)
    kbli = rng.choice(["13134", "31001", "10710"], n)
    ids = np.char.add("F", np.arange(n).astype(str))
    lat[:1000] = ""
    kbli[1000:1500] = "9"
    frame = pd.DataFrame({"id": ids, "lat": lat, "lon": lon, "kbli": kbli})
    from klastergeo.io.registry.records import RawRecords

    raw = RawRecords(frame=frame, source=Path("mem.csv"), format="csv", delimiter=",")
    report = validate_records(raw)
    assert report.by_reason["missing_coordinates"] == 1000
    assert report.by_reason["invalid_sector"] == 500
    assert report.n_kept == n - 1500


@pytest.mark.parametrize(
    ("values", "expected", "decimal"),
    [
        (["1.234", "1.234,5"], [1234.0, 1234.5], ","),  # the second decides for both
        (["1.234", "2.5"], [1.234, 2.5], "."),
        (["1,234", "2,5"], [1.234, 2.5], ","),
        (["1,234", "1,234.5"], [1234.0, 1234.5], "."),
        (["15", "1.234.567"], [15.0, 1234567.0], ","),
    ],
)
def test_one_decimal_mark_per_column(values, expected, decimal) -> None:
    from klastergeo.io.registry.records import number_format

    series = pd.Series(values)
    fmt = number_format(series, delimiter=",")
    assert fmt.decimal == decimal and fmt.decided_by == "values"
    numbers, _, invalid = parse_numbers(series, fmt=fmt)
    assert numbers.tolist() == pytest.approx(expected)
    assert not invalid.any()


def test_a_value_of_the_other_convention_is_invalid_not_misread() -> None:
    from klastergeo.io.registry.records import number_format

    series = pd.Series(["-7,5", "1.234,5", "110.25"])
    fmt = number_format(series)
    assert (fmt.decimal, fmt.comma, fmt.point, fmt.conflicts) == (",", 2, 1, 1)
    numbers, _, invalid = parse_numbers(series, fmt=fmt)
    assert invalid.tolist() == [False, False, True]
    assert numbers[:2].tolist() == [-7.5, 1234.5]


def test_the_file_decides_columns_that_fit_both_marks(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    # coordinates use a decimal comma; workers' 1.234 fits both marks: the file decides
    path.write_text("id;lat;lon;kbli;workers\nA;-7,1;110,1;13134;1.234\nB;-7,2;110,2;13134;12\n")
    report = validate_records(read_records(path))
    assert report.records.loc["A", "workers"] == 1234.0
    formats = report.summary()["number_formats"]
    assert formats["workers"]["decided_by"] == "file" and formats["workers"]["decimal"] == ","
    assert formats["lat"] == {
        "decimal": ",",
        "thousands": ".",
        "decided_by": "values",
        "values_with_comma": 2,
        "values_with_point": 0,
        "conflicts": 0,
    }


def test_coordinates_with_three_decimals_are_decimal(tmp_path: Path) -> None:
    """In a ';' file with nothing else to decide, -7.123 is a coordinate, not -7123."""
    path = tmp_path / "r.csv"
    path.write_text("id;lat;lon;kbli;workers\nA;-7.123;110.456;13134;1.234\n")
    report = validate_records(read_records(path))
    assert report.records.loc["A", ["lat", "lon"]].tolist() == [-7.123, 110.456]
    assert report.records.loc["A", "workers"] == pytest.approx(1.234)  # the file: point


@pytest.mark.parametrize("value", ["inf", "-inf", "1e999", "9" * 400, "Infinity", "2000000"])
def test_non_finite_and_absurd_values_are_invalid(tmp_path: Path, value: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(f"id,lat,lon,kbli,workers\nA,-7.1,110.1,13134,{value}\nB,-7.2,110.2,13134,3\n")
    report = validate_records(read_records(path))
    assert report.by_reason["invalid_value"] == 1
    detail = report.rejected.loc[0, "detail"]
    assert "is not a number from 0 to 1,000,000" in detail, detail
    assert list(report.records.index) == ["B"]


def test_kbli_that_lost_its_leading_zero_in_a_number_column(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": ["A", "B", "C", "D", "E"],
            "lat": [-7.1, -7.2, -7.3, -7.4, -7.5],
            "lon": [110.1, 110.2, 110.3, 110.4, 110.5],
            # most codes have five digits; 01110 lost its zero; 04110 would be no division
            "kbli": [1110, 13134, 10710, 4110, 31001],
        }
    )
    frame.to_parquet(tmp_path / "r.parquet")
    report = validate_records(read_records(tmp_path / "r.parquet"))
    kept = report.records
    assert kept.loc["A", ["kbli", "sector"]].tolist() == ["01110", "01"]
    assert kept.loc["D", ["kbli", "sector"]].tolist() == ["4110", "41"]  # as written
    assert report.summary()["repaired_by_reason"] == {
        "swapped_coordinates": 0,
        "kbli_leading_zero": 1,
        "area_mismatch": 0,
        "placed_by_area": 0,
    }
    assert report.summary()["sector_column_numeric"] is True
    repaired = report.repaired.set_index("record_id")
    assert repaired.loc["A", ["reason", "input_kbli", "kbli"]].tolist() == [
        "kbli_leading_zero",
        "1110",
        "01110",
    ]


def test_ambiguous_kbli_in_a_number_column_is_rejected(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": ["A", "B", "C", "D"],
            "lat": [-7.1, -7.2, -7.3, -7.4],
            "lon": [110.1, 110.2, 110.3, 110.4],
            "kbli": [1110, 13134, 1130, 31001],  # no length holds most codes
        }
    )
    frame.to_parquet(tmp_path / "r.parquet")
    report = validate_records(read_records(tmp_path / "r.parquet"))
    assert sorted(report.rejected["id"]) == ["A", "C"]
    assert set(report.rejected["reason"]) == {"invalid_sector"}
    assert "ambiguous" in report.rejected.loc[0, "detail"]
    assert "01110" in report.rejected.loc[0, "detail"]


def test_a_text_column_keeps_codes_as_written(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,lat,lon,kbli\nA,-7.1,110.1,1110\nB,-7.2,110.2,13134\nC,-7.3,110.3,01111\n")
    kept = validate_records(read_records(path)).records
    assert kept["kbli"].tolist() == ["1110", "13134", "01111"]


def test_a_text_column_that_lost_every_zero_gets_them_back(tmp_path: Path) -> None:
    """A list typed in a spreadsheet and saved as CSV: text, five-digit classes, and no
    code written with its zero. ``3226`` is fish farming (03226), not group 3226; a
    column that kept its zeros (above) is taken as written."""
    path = tmp_path / "r.csv"
    path.write_text(
        "id,lat,lon,kbli\nA,-7.1,110.1,3226\nB,-7.2,110.2,13134\nC,-7.3,110.3,31001\n"
        "D,-7.4,110.4,1111\nE,-7.5,110.5,10710\n"
    )
    report = validate_records(read_records(path))
    assert report.records["kbli"].tolist() == ["03226", "13134", "31001", "01111", "10710"]
    assert report.records["sector"].tolist() == ["03", "13", "31", "01", "10"]
    assert report.repaired["reason"].tolist() == ["kbli_leading_zero"] * 2
    assert report.repaired["input_kbli"].tolist() == ["3226", "1111"]


def test_four_digit_codes_that_are_no_zero_division_class_stay(tmp_path: Path) -> None:
    """Groups written with four digits among five-digit classes (a mixed registry): a code
    whose zero would make no group of its 0x division (1079 -> 01079: division 01 has
    groups 011-017; 2599 -> 02599; 3100 -> 03100, no subgroup 0310) is kept as written."""
    path = tmp_path / "r.csv"
    rows = [f"{k},-7.{k},110.{k},{code}" for k, code in enumerate(
        ["13134", "31001", "10710", "16221", "14111", "1079", "2599", "3100", "3226"], start=1
    )]  # fmt: skip
    path.write_text("id,lat,lon,kbli\n" + "\n".join(rows) + "\n")
    report = validate_records(read_records(path))
    assert report.records["kbli"].tolist()[5:] == ["1079", "2599", "3100", "03226"]


def test_columns_that_differ_only_in_case_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,lintang,LINTANG,bujur,kbli\nA,-7.1,abc,110.1,13134\n")
    with pytest.raises(ValidationError, match=r"columns 'lintang', 'LINTANG' differ only in case"):
        validate_records(read_records(path))
    report = validate_records(read_records(path), columns=Columns(lat="lintang"))
    assert report.n_kept == 1 and report.records.loc["A", "LINTANG"] == "abc"


def test_columns_named_like_the_tools_own_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    names = ["record_id", "geometry", "in_sentra", "sector", "reason", "row", "detail"]
    path.write_text(
        "id,lat,lon,kbli," + ",".join(names) + "\n"
        "A,-7.1,110.1,13134," + ",".join(f"v{i}" for i in range(len(names))) + "\n"
        "A,-7.1,110.1,13134," + ",".join(f"v{i}" for i in range(len(names))) + "\n"
    )
    report = validate_records(read_records(path))
    kept = report.records
    assert kept.index.tolist() == ["A"]
    for i, name in enumerate(names[:4]):
        assert kept.loc["A", f"{name}_input"] == f"v{i}"
    assert kept.loc["A", "reason"] == "v4" and kept.loc["A", "row"] == 1
    assert report.summary()["renamed_columns"]["geometry"] == "geometry_input"
    # rejected rows keep the input's own reason/row/detail; the tool's get a suffix
    rejected = report.rejected
    assert rejected.loc[0, ["reason", "row", "detail"]].tolist() == ["v4", "v5", "v6"]
    assert rejected.loc[0, "reason_klastergeo"] == "duplicate_record"


def test_amount_columns_decide_before_coordinates(tmp_path: Path) -> None:
    """GPS coordinates with a decimal point beside amounts typed with thousands dots: the
    output column shows the file's convention, and workers (1.200, fitting both) follow it,
    not the coordinates."""
    path = tmp_path / "r.csv"
    path.write_text(
        "id;lat;lon;kbli;workers;output\n"
        "A;-7.123456;110.123456;13134;1.200;1.500.000\n"
        "B;-7.223456;110.223456;13134;12;250.000\n"
    )
    report = validate_records(read_records(path))
    assert report.records.loc["A", "workers"] == 1200.0
    assert report.records.loc["A", "output"] == 1_500_000.0
    assert report.records.loc["A", "lat"] == pytest.approx(-7.123456)
    assert report.summary()["number_formats"]["workers"]["decided_by"] == "file"


def test_odd_typed_values_are_invalid_not_a_crash(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": ["A", "B", "C"],
            "lat": [-7.1, -7.2, -7.3],
            "lon": [110.1, 110.2, 110.3],
            "kbli": [13134.0, float("inf"), 1e20],
            "workers": [[1, 2], [3], [4]],
        }
    )
    frame.to_parquet(tmp_path / "r.parquet")
    report = validate_records(read_records(tmp_path / "r.parquet"))
    assert report.n_kept == 0
    assert dict(zip(report.rejected["id"], report.rejected["reason"], strict=True)) == {
        "A": "invalid_value",
        "B": "invalid_sector",
        "C": "invalid_sector",
    }
