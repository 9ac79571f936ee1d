"""Excel (and CSV) as agencies type them (issue 25, item 4): the header below title rows,
two-row and merged headers, totals rows and footnotes skipped and listed, one sheet per
kecamatan (``--sheet all``), code columns from number cells with their leading zeros
back, and clear errors for workbooks that cannot be read.

Every workbook is built here with openpyxl; the truths are planted: which sheet rows hold
firms, totals, footnotes, which codes lost a zero.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.app.config import Columns
from klastergeo.app.pipeline import writer
from klastergeo.errors import ValidationError
from klastergeo.io.registry import batches, records, sheets

runner = CliRunner()

TITLE = [["DAFTAR IKM KABUPATEN KLATEN"], ["Tahun 2023"], []]
#: A two-row header with merged cells, as agencies draw it, and a row of column numbers.
TOP = ["No", "Nama Usaha", "Koordinat", None, "KBLI", "Nilai (Rp)", None, "Lokasi", None]
BELOW = [None, None, "Lintang", "Bujur", None, "Produksi", "Investasi", "Desa", "Kecamatan"]
MERGES = ("A4:A5", "B4:B5", "C4:D4", "E4:E5", "F4:G4", "H4:I4")
NAMES = [
    "No",
    "Nama Usaha",
    "Koordinat Lintang",
    "Koordinat Bujur",
    "KBLI",
    "Nilai Produksi (Rp)",
    "Nilai Investasi (Rp)",
    "Desa",
    "Kecamatan",
]


def _firm(i: int, kbli: Any, *, kec: str = "Ceper") -> list[Any]:
    return [i, f"UD Usaha {i}", -7.70 - i / 1000, 110.60 + i / 1000, kbli, 1000 * i, 10 * i,
            f"Desa {i % 3}", kec]  # fmt: skip


def _book(path: Path, sheets_rows: dict[str, list[list[Any]]], merges: dict[str, tuple[str, ...]]
          | None = None) -> Path:  # fmt: skip
    book = openpyxl.Workbook()
    first = True
    for name, rows in sheets_rows.items():
        ws = book.active if first else book.create_sheet()
        first = False
        ws.title = name
        for row in rows:
            ws.append(row)
        for ref in (merges or {}).get(name, ()):
            ws.merge_cells(ref)
    book.save(path)
    return path


def _agency_sheet(firms: list[list[Any]], tail: list[list[Any]] | None = None) -> list[list[Any]]:
    return [*TITLE, TOP, BELOW, [f"({i})" for i in range(1, 10)], *firms, *(tail or [])]


# -- 1, 2: the header below title rows; merged and two-row headers ------------------------


def test_header_below_title_rows_with_merged_two_row_header(tmp_path: Path) -> None:
    firms = [_firm(i, 13134) for i in range(1, 6)]
    path = _book(tmp_path / "ikm.xlsx", {"Ceper": _agency_sheet(firms)}, {"Ceper": MERGES})
    raw = records.read_records(path)
    assert list(raw.frame.columns) == NAMES
    assert raw.layout is not None
    (part,) = raw.layout.parts
    assert part.header_rows == (4, 5, 6)  # the header, its second row, column numbers
    assert raw.rows.tolist() == [1, 2, 3, 4, 5]
    # the first record sits in sheet row 7: record number + offset
    assert raw.layout.sheet_rows(raw.rows)[1].tolist() == [7, 8, 9, 10, 11]
    cols = records.resolve_columns(list(raw.frame.columns))
    assert (cols.lat, cols.lon, cols.sector, cols.name) == (
        "Koordinat Lintang",
        "Koordinat Bujur",
        "KBLI",
        "Nama Usaha",
    )
    assert (cols.desa, cols.kecamatan) == ("Desa", "Kecamatan")


def test_two_row_header_without_merged_cells_in_a_csv(tmp_path: Path) -> None:
    """A CSV export keeps a merged cell's text in its first column only: the same names."""
    lines = [
        "DAFTAR IKM KABUPATEN KLATEN;;;;;;;;",
        "Tahun 2023;;;;;;;;",
        ";;;;;;;;",
        ";".join(v or "" for v in TOP),
        ";".join(v or "" for v in BELOW),
        "1;UD Usaha 1;-7,701;110,601;13134;1000;10;Desa 1;Ceper",
        "2;UD Usaha 2;-7,702;110,602;31001;2000;20;Desa 2;Ceper",
    ]
    path = tmp_path / "ikm.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = records.read_records(path)
    assert list(raw.frame.columns) == NAMES
    assert raw.layout is not None and raw.layout.parts[0].header_rows == (4, 5)
    report = records.validate_records(raw)
    assert report.n_kept == 2
    assert report.records["lat"].tolist() == [-7.701, -7.702]


def test_combine_names_one_column_per_header_cell() -> None:
    roles = sheets._role_keys(records.CANDIDATES)
    assert sheets.combine("Nilai (Rp)", "Produksi", roles=roles) == "Nilai Produksi (Rp)"
    assert sheets.combine("Lokasi", "Desa", roles=roles) == "Desa"
    assert sheets.combine("Koordinat", "Lintang", roles=roles) == "Koordinat Lintang"
    assert sheets.combine("Tenaga Kerja", "Laki-laki", roles=roles) == "Tenaga Kerja Laki-laki"
    assert sheets.combine("No", "No", roles=roles) == "No"
    assert sheets.header_key("Tenaga Kerja (orang)") == "tenaga_kerja"


def test_header_on_the_first_row_is_read_as_before(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"ID": ["E1", "E2"], "Lintang": [-7.1, -7.2], "Bujur": [110.1, 110.2], "KBLI": ["01111", "13134"]}
    )  # fmt: skip
    path = tmp_path / "plain.xlsx"
    frame.to_excel(path, index=False)
    raw = records.read_records(path)
    assert list(raw.frame.columns) == ["ID", "Lintang", "Bujur", "KBLI"]
    assert raw.layout is not None and raw.layout.parts[0].header_rows == (1,)
    report = records.validate_records(raw)
    assert report.records["row"].tolist() == [1, 2]  # record numbers, as before
    assert report.records.loc["E1", "kbli"] == "01111"  # a text cell keeps its zero


def test_names_given_by_the_user_find_the_header(tmp_path: Path) -> None:
    rows = [["Rekap usaha"], ["Y koord", "X koord", "Kode Lap"], [-7.7, 110.6, "31001"]]
    path = _book(tmp_path / "own.xlsx", {"S": rows})
    with pytest.raises(ValidationError, match=r"no header row found .*--sector-col"):
        records.read_records(path)
    given = Columns(lat="Y koord", lon="X koord", sector="Kode Lap")
    raw = records.read_records(path, columns=given)
    assert list(raw.frame.columns) == ["Y koord", "X koord", "Kode Lap"]
    assert records.validate_records(raw, columns=given).n_kept == 1


def test_merged_cells_among_the_records_give_every_row_their_value(tmp_path: Path) -> None:
    """A kecamatan written once in a cell merged over the rows of its firms."""
    firms = [_firm(i, 31001, kec="Ceper" if i == 1 else None) for i in range(1, 4)]
    firms += [_firm(i, 31001, kec="Pedan" if i == 4 else None) for i in range(4, 6)]
    path = _book(
        tmp_path / "merged.xlsx",
        {"S": _agency_sheet(firms)},
        {"S": (*MERGES, "I7:I9", "I10:I11")},
    )
    raw = records.read_records(path)
    assert raw.frame["Kecamatan"].tolist() == ["Ceper"] * 3 + ["Pedan"] * 2


def test_a_header_cell_merged_over_columns_without_subheaders(tmp_path: Path) -> None:
    rows = [
        ["Nama Usaha", "Alamat", None, None, "KBLI", "Lintang", "Bujur"],
        ["UD Maju", "Jl. Merdeka 1", "RT 02/RW 03", None, "31001", -7.7, 110.6],
    ]
    path = _book(tmp_path / "alamat.xlsx", {"S": rows}, {"S": ("B1:D1",)})
    frame = records.read_records(path).frame
    assert list(frame.columns) == ["Nama Usaha", "Alamat", "Alamat 2", "KBLI", "Lintang", "Bujur"]
    assert frame["Alamat 2"].tolist() == ["RT 02/RW 03"]


def test_a_row_of_units_under_the_header(tmp_path: Path) -> None:
    rows = [
        ["Nama Usaha", "KBLI", "Lintang", "Bujur", "Tenaga Kerja", "Nilai Produksi"],
        [None, None, None, None, "(orang)", "(Rp juta)"],
        ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"],
        ["UD Maju", "31001", -7.7, 110.6, 4, 120],
    ]
    raw = records.read_records(_book(tmp_path / "units.xlsx", {"S": rows}))
    assert list(raw.frame.columns)[4:] == ["Tenaga Kerja (orang)", "Nilai Produksi (Rp juta)"]
    assert raw.layout is not None and raw.layout.parts[0].header_rows == (1, 2, 3)
    assert len(raw.frame) == 1


# -- 3: totals, footnotes and blank rows are skipped and listed -------------------------------


def _with_totals(tmp_path: Path) -> Path:
    firms = [_firm(i, 31001) for i in range(1, 5)]
    firms.append([5, "Total Jaya", -7.705, 110.605, 31001, 5000, 50, "Desa 2", "Ceper"])
    firms.append([6, "UD Tanpa KBLI", -7.706, 110.606, None, 10, 1, "Desa 0", "Ceper"])
    tail = [
        [None, "Jumlah", None, None, None, 15000, 150, None, None],  # sheet row 13
        [None, None, None, None, None, 15000, 150, None, None],  # a sum alone, row 14
        [],  # row 15
        ["Sumber: Dinas Perindustrian Kab. Klaten"],  # row 16
        ["*) angka sementara"],  # row 17
    ]
    return _book(tmp_path / "ikm.xlsx", {"Ceper": _agency_sheet(firms, tail)}, {"Ceper": MERGES})


def test_totals_footnotes_and_blank_rows_are_skipped_not_rejected(tmp_path: Path) -> None:
    path = _with_totals(tmp_path)
    report = records.validate_records(records.read_records(path))
    skipped = report.skipped
    assert skipped["sheet_row"].tolist() == [13, 14, 15, 16, 17]
    assert skipped["kind"].tolist() == ["total", "total", "blank", "footnote", "footnote"]
    assert skipped["sheet"].tolist() == ["Ceper"] * 5
    assert skipped["text"].iloc[0] == "Jumlah | 15000 | 150"
    assert report.n_read == 6  # the firms only
    assert report.n_kept == 5  # "Total Jaya" is a firm
    assert "Total Jaya" in report.records["name"].tolist()
    (rejected,) = report.rejected.itertuples()
    assert rejected.reason == "invalid_sector" and rejected.sheet_row == 12
    # the sheet row given is where the firm is
    ws = openpyxl.load_workbook(path).active
    assert ws.cell(row=rejected.sheet_row, column=2).value == "UD Tanpa KBLI"
    block = report.summary()
    assert block["skipped"] == 5
    assert block["skipped_by_kind"]["total"] == 2 and block["skipped_by_kind"]["footnote"] == 2
    writer.validation_reports(tmp_path, report)
    written = pd.read_csv(tmp_path / "skipped.csv", encoding="utf-8-sig")
    assert written.columns.tolist() == ["row", "sheet_row", "sheet", "kind", "text"]
    assert written["sheet_row"].tolist() == [13, 14, 15, 16, 17]


def test_merged_totals_label_and_footnote_block(tmp_path: Path) -> None:
    """ "Jumlah" merged over the first five columns (KBLI among them) and a footnote
    merged over a block of two rows are still a total and footnotes."""
    firms = [_firm(i, 31001) for i in range(1, 4)]  # sheet rows 7-9
    tail = [
        ["Jumlah", None, None, None, None, 6000, 60, None, None],  # row 10
        ["Keterangan: data sementara"],  # rows 11-12, merged over A:I
        [],
        ["*) angka sementara"],  # row 13
    ]
    path = _book(
        tmp_path / "merged_tail.xlsx",
        {"S": _agency_sheet(firms, tail)},
        {"S": (*MERGES, "A10:E10", "A11:I12")},
    )
    report = records.validate_records(records.read_records(path))
    assert report.skipped[["sheet_row", "kind"]].to_numpy().tolist() == [
        [10, "total"],
        [11, "footnote"],
        [12, "footnote"],
        [13, "footnote"],
    ]
    assert report.n_read == 3 and report.n_rejected == 0


def test_batches_give_the_same_skipped_rows(tmp_path: Path) -> None:
    path = _with_totals(tmp_path)
    whole = records.validate_records(records.read_records(path))
    outcome = batches.validate_in_batches(path, workdir=tmp_path / "w", batch_size=2)
    report = outcome.report()
    pd.testing.assert_frame_equal(report.skipped, whole.skipped)
    pd.testing.assert_frame_equal(report.rejected, whole.rejected)
    assert report.n_read == whole.n_read and report.n_kept == whole.n_kept


def test_csv_with_title_rows_and_totals_streamed_in_batches(tmp_path: Path) -> None:
    """The staged CSV path (a file larger than a batch) skips the same rows as the whole
    file read at once, and numbers them as the file does."""
    lines = ["Daftar IKM Kecamatan Ceper,,,,", ",,,,", "id,lintang,bujur,kbli,tk"]
    lines += [f"A{i},-7.7{i},110.6{i},31001,{i}" for i in range(1, 4)]
    lines += ["id,lintang,bujur,kbli,tk"]  # the header again, after a page break
    lines += [f"A{i},-7.7{i},110.6{i},31001,{i}" for i in range(4, 7)]
    lines += ["Jumlah,,,,21", ",,,,", "Sumber: Disperindag,,,,"]
    path = tmp_path / "ikm.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = records.validate_records(records.read_records(path))
    assert whole.skipped["kind"].tolist() == ["header", "total", "blank", "footnote"]
    assert whole.skipped["row"].tolist() == [4, 8, 9, 10]
    assert whole.skipped["sheet_row"].tolist() == [7, 11, 12, 13]  # lines of the file
    assert whole.records["row"].tolist() == [1, 2, 3, 5, 6, 7]
    outcome = batches.validate_in_batches(path, workdir=tmp_path / "w", batch_size=4)
    assert outcome.n_batches > 1
    report = outcome.report()
    pd.testing.assert_frame_equal(report.skipped, whole.skipped)
    assert report.n_read == 6 and report.n_kept == 6


# -- 4: one sheet per kecamatan ----------------------------------------------------------------


def _per_kecamatan(tmp_path: Path) -> Path:
    header = ["No", "Nama Usaha", "Lintang", "Bujur", "KBLI", "Desa"]
    ceper = [header] + [
        [i, f"UD C{i}", -7.70, 110.60 + i / 1000, 31001, "Jetis"] for i in range(1, 4)
    ]
    # another column order, another spelling, a title row
    order = ["No", "KBLI", "nama usaha", "Desa", "Bujur", "Lintang"]
    pedan = [["Kecamatan Pedan"], order] + [
        [i, 13134, f"UD P{i}", "Kaligawe", 110.70 + i / 1000, -7.75] for i in range(1, 3)
    ]
    pedan.append([3, "x", "UD P3", "Kaligawe", 110.703, -7.75])  # sheet row 5: invalid KBLI
    rekap = [["Kecamatan", "Jumlah Unit Usaha", "Tenaga Kerja"], ["Ceper", 3, 10], ["Pedan", 3, 8]]
    path = _book(tmp_path / "per_kec.xlsx", {"Ceper": ceper, "Pedan": pedan, "Rekap": rekap})
    from openpyxl.chart import BarChart, Reference

    book = openpyxl.load_workbook(path)
    chart = BarChart()
    chart.add_data(Reference(book["Rekap"], min_col=2, min_row=1, max_row=3), titles_from_data=True)
    book.create_chartsheet("Grafik").add_chart(chart)
    book.save(path)
    return path


def test_sheet_all_reads_every_kecamatan_sheet(tmp_path: Path) -> None:
    path = _per_kecamatan(tmp_path)
    raw = records.read_records(path, sheet="all")
    assert raw.frame["sheet"].tolist() == ["Ceper"] * 3 + ["Pedan"] * 3
    assert raw.frame["Nama Usaha"].tolist() == [
        "UD C1",
        "UD C2",
        "UD C3",
        "UD P1",
        "UD P2",
        "UD P3",
    ]
    assert raw.rows.tolist() == [1, 2, 3, 4, 5, 6]  # unique across sheets
    assert raw.layout is not None
    assert dict(raw.layout.skipped_sheets).keys() == {"Rekap", "Grafik"}
    report = records.validate_records(raw)
    assert report.columns.kecamatan == "sheet"
    assert report.implied == {"kecamatan": "sheet"}
    assert report.summary()["implied_columns"] == {"kecamatan": "sheet"}
    (bad,) = report.rejected.itertuples()
    assert (bad.sheet, bad.sheet_row) == ("Pedan", 5)
    assert report.records["sheet"].tolist() == ["Ceper"] * 3 + ["Pedan"] * 2


def test_sheet_all_keeps_a_kecamatan_column_when_there_is_one(tmp_path: Path) -> None:
    firms = [_firm(i, 31001, kec="Ceper") for i in range(1, 3)]
    path = _book(
        tmp_path / "two.xlsx",
        {"A": _agency_sheet(firms), "B": _agency_sheet([_firm(3, 13134, kec="Pedan")])},
        {"A": MERGES, "B": MERGES},
    )
    report = records.validate_records(records.read_records(path, sheet="all"))
    assert report.columns.kecamatan == "Kecamatan" and report.implied == {}


def test_a_sheet_that_is_not_there_names_the_sheets(tmp_path: Path) -> None:
    path = _per_kecamatan(tmp_path)
    with pytest.raises(
        ValidationError,
        match=r"sheet 'Klaten' is not in .*its sheets are 'Ceper', 'Pedan', 'Rekap', 'Grafik'.*--sheet all",
    ):
        records.read_records(path, sheet="Klaten")  # fmt: skip
    assert records.read_records(path, sheet="pedan ").frame["nama usaha"].tolist()[0] == "UD P1"


# -- 5: code columns from number cells ---------------------------------------------------------


def _codes() -> list[str]:
    # mostly five-digit classes; 01111 (maize) and 03226 (fish farming) lose their zero
    return ["01111", "13134", "31001", "03226", "10710", "16101", "01111", "25111", "31001"] * 3


def test_kbli_from_number_cells_is_restored_as_from_a_csv(tmp_path: Path) -> None:
    codes = _codes()
    frame = pd.DataFrame(
        {
            "id": [f"F{i}" for i in range(len(codes))],
            "lintang": [-7.7 - i / 1000 for i in range(len(codes))],
            "bujur": [110.6 + i / 1000 for i in range(len(codes))],
            "kbli": codes,
        }
    )
    csv = tmp_path / "r.csv"
    frame.to_csv(csv, index=False)
    xlsx = tmp_path / "r.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["DAFTAR IKM"])
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([row.id, row.lintang, row.bujur, int(row.kbli)])  # number cells
    book.save(xlsx)
    parquet = tmp_path / "r.parquet"
    frame.assign(kbli=frame["kbli"].astype(int)).to_parquet(parquet)

    from_csv = records.validate_records(records.read_records(csv))
    from_xlsx = records.validate_records(records.read_records(xlsx))
    from_parquet = records.validate_records(records.read_records(parquet))
    assert from_xlsx.records["kbli"].tolist() == codes
    assert from_xlsx.records["sector"].tolist() == from_csv.records["sector"].tolist()
    assert from_xlsx.records["kbli"].tolist() == from_csv.records["kbli"].tolist()
    assert from_xlsx.sector_typed and from_xlsx.summary()["sector_column_numeric"] is True
    lost = [i for i, c in enumerate(codes) if c.startswith("0")]
    repaired = from_xlsx.repaired
    assert repaired["reason"].unique().tolist() == ["kbli_leading_zero"]
    assert repaired["record_id"].tolist() == [f"F{i}" for i in lost]
    assert repaired["kbli"].tolist() == [codes[i] for i in lost]
    assert repaired["input_kbli"].tolist() == [codes[i].lstrip("0") for i in lost]
    # the same repairs as the typed path that already restored them (a Parquet column
    # of integers), row for row; the xlsx adds where each row is in the sheet
    columns = ["record_id", "row", "reason", "input_kbli", "kbli"]
    pd.testing.assert_frame_equal(
        repaired[columns], from_parquet.repaired[columns], check_dtype=False
    )
    assert (repaired["sheet_row"] - repaired["row"]).unique().tolist() == [2]


def test_number_cells_are_written_as_their_digits(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["NIB", "Kode Wilayah", "Lintang", "Bujur", "KBLI", "Omzet"])
    ws.append([1234567890123, 3310112015.0, -7.710251, 110.6, 31001, 1.5e15])
    ws.append([912345678901, 3310112016, -7.0000001, 110.123456789012, 1111.0, 0.0000001])
    path = tmp_path / "codes.xlsx"
    book.save(path)
    frame = records.read_records(path).frame
    assert frame["NIB"].tolist() == ["1234567890123", "912345678901"]
    assert frame["Kode Wilayah"].tolist() == ["3310112015", "3310112016"]
    assert frame["Lintang"].tolist() == ["-7.710251", "-7.0000001"]
    assert frame["Bujur"].tolist() == ["110.6", "110.123456789012"]
    assert frame["KBLI"].tolist() == ["31001", "1111"]
    assert frame["Omzet"].tolist() == ["1500000000000000", "0.0000001"]
    assert not frame.map(lambda v: "e" in v.lower()).to_numpy().any()


def test_an_nib_that_lost_its_zero_is_listed_not_changed(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["NIB", "Lintang", "Bujur", "KBLI"])
    ws.append([1234567890123, -7.71, 110.6, 31001])
    ws.append([912345678901, -7.72, 110.6, 31001])  # sheet row 3: 0912345678901
    path = tmp_path / "nib.xlsx"
    book.save(path)
    report = records.validate_records(records.read_records(path))
    assert report.records.index.tolist() == ["1234567890123", "912345678901"]
    (note,) = report.summary()["layout"]["notes"]
    assert "column 'NIB': 1 NIB value(s) read from number cells have fewer than 13" in note
    assert "in rows 3;" in note


# -- 6: workbooks that cannot be read -----------------------------------------------------------


def test_errors_name_the_workbook_and_the_fix(tmp_path: Path) -> None:
    encrypted = tmp_path / "locked.xlsx"
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    with pytest.raises(
        ValidationError, match=r"locked.xlsx' is password-protected .*save it as .xlsx"
    ):
        records.read_records(encrypted)  # fmt: skip
    old = tmp_path / "lama.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    try:
        import xlrd  # noqa: F401
    except ImportError:
        with pytest.raises(
            ValidationError, match=r"lama.xls' is an Excel 97-2003 .*save it as .xlsx"
        ):
            records.read_records(old)  # fmt: skip
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(ValidationError, match=r"cannot read '.*broken.xlsx' as an Excel workbook"):
        records.read_records(broken)
    numbers = _book(tmp_path / "angka.xlsx", {"Data": [[1, 2, 3], [4, 5, 6]]})
    with pytest.raises(
        ValidationError,
        match=r"no header row found in sheet 'Data' of '.*angka.xlsx': rows 1-2 were examined "
        r"for a row of text naming at least two column roles \(id: 'id', lat: 'lat'",
    ):
        records.read_records(numbers)


# -- the command line ---------------------------------------------------------------------------


def test_validate_says_what_was_skipped_and_where_the_header_was(tmp_path: Path) -> None:
    path = _with_totals(tmp_path)
    result = runner.invoke(
        app, ["validate", "--records", str(path), "--out", str(tmp_path / "o"), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "sheet 'Ceper': header in row(s) 4, 5, 6" in text
    assert (
        "skipped 5 row(s) that are not firms: 2 totals, 2 footnotes, 1 blank row; see skipped.csv"
        in text
    )
    assert (tmp_path / "o" / "skipped.csv").exists()
    missing = runner.invoke(
        app, ["validate", "--records", str(path), "--sheet", "Pedan", "--out", str(tmp_path / "p")]
    )
    assert missing.exit_code == 2
    assert "sheet 'Pedan' is not in" in " ".join(missing.output.split())


def test_sheet_all_on_the_command_line(tmp_path: Path) -> None:
    path = _per_kecamatan(tmp_path)
    out = tmp_path / "o"
    result = runner.invoke(
        app,
        ["validate", "--records", str(path), "--sheet", "all", "--out", str(out), "--lang", "en"],
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "sheet 'Rekap' left out" in text and "sheet 'Grafik' left out: a chart" in text
    assert "no kecamatan column: column 'sheet' (the sheet names) stands for it" in text
    rejected = pd.read_csv(out / "rejected.csv", encoding="utf-8-sig")
    assert rejected[["sheet", "sheet_row"]].to_numpy().tolist() == [["Pedan", 5]]


# -- large files ---------------------------------------------------------------------------------


def test_reading_grows_linearly_with_the_rows(tmp_path: Path) -> None:
    """The cells are read in one pass: twice the rows, about twice the cells visited (a
    count, not a clock: the number of cell values handed to the table builder)."""
    seen: list[int] = []
    real = sheets._cell_text

    def counting(values: np.ndarray) -> np.ndarray:
        seen.append(len(values))
        return real(values)

    for n in (50, 100):
        firms = [_firm(i, 31001) for i in range(1, n + 1)]
        path = _book(tmp_path / f"n{n}.xlsx", {"S": _agency_sheet(firms)}, {"S": MERGES})
        sheets._cell_text = counting  # type: ignore[assignment]
        try:
            records.read_records(path)
        finally:
            sheets._cell_text = real  # type: ignore[assignment]
    assert seen == [50] * 9 + [100] * 9


def test_summary_block_is_json(tmp_path: Path) -> None:
    report = records.validate_records(records.read_records(_with_totals(tmp_path)))
    block = json.loads(json.dumps(report.summary()))
    assert block["layout"]["tables"][0]["header_rows"] == [4, 5, 6]
    assert block["layout"]["tables"][0]["first_record_row"] == 7


@pytest.mark.slow
def test_a_run_on_an_agency_workbook(tmp_path: Path) -> None:
    """The whole run on a workbook with title rows, number cells and a totals row: the
    same kept firms and sentra as from the CSV, the totals and footnote skipped."""
    from tests.worlds.lattice import custom_study

    registry = custom_study(tmp_path, (6, 6), {"r2c2": 45}, background={"10": 6, "31": 1}, seed=3)
    registry.to_csv(tmp_path / "firms.csv", index=False)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "IKM"
    ws.append(["DAFTAR IKM KABUPATEN CONTOH"])
    ws.append([])
    ws.append(list(registry.columns))
    for row in registry.itertuples(index=False):
        ws.append([row.id, float(row.lat), float(row.lon), int(row.kbli), int(row.workers)])
    ws.append(["Jumlah", None, None, None, int(registry["workers"].sum())])
    ws.append(["Sumber: Dinas"])
    book.save(tmp_path / "firms.xlsx")
    (tmp_path / "quick.toml").write_text(
        f'[area]\nboundaries = {json.dumps(str(tmp_path / "desa.gpkg"))}\nid_col = "kode"\n'
        "[analysis]\npermutations = 0\n[pointpattern]\nenabled = false\n"
        '[report]\nfigures = "none"\n[map]\ntiles = "none"\n',
        encoding="utf-8",
    )
    outs = {}
    for name in ("firms.csv", "firms.xlsx"):
        out = tmp_path / f"out_{name}"
        args = ["sentra", "--config", str(tmp_path / "quick.toml"), "--records"]
        result = runner.invoke(app, [*args, str(tmp_path / name), "--out", str(out)])
        assert result.exit_code == 0, result.output
        outs[name] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    csv, xlsx = outs["firms.csv"]["records"], outs["firms.xlsx"]["records"]
    assert (xlsx["read"], xlsx["kept"]) == (csv["read"], csv["kept"]) == (len(registry),) * 2
    assert xlsx["skipped_by_kind"]["total"] == 1 and xlsx["skipped_by_kind"]["footnote"] == 1
    assert outs["firms.xlsx"]["sentra"] == outs["firms.csv"]["sentra"] == 1
    assert xlsx["layout"]["tables"][0]["header_rows"] == [3]
    page = (tmp_path / "out_firms.xlsx" / "report.html").read_text(encoding="utf-8")
    assert "Dilewati (bukan usaha)" in page
    skipped = pd.read_csv(tmp_path / "out_firms.xlsx" / "skipped.csv", encoding="utf-8-sig")
    assert skipped["sheet_row"].tolist() == [len(registry) + 4, len(registry) + 5]


def test_csv_title_lines_without_delimiters(tmp_path: Path) -> None:
    """Title lines typed above the table (no delimiters in them) neither hide the
    delimiter nor become the header."""
    path = tmp_path / "judul.csv"
    path.write_text(
        "DAFTAR IKM KABUPATEN KLATEN\nTahun 2023\n\nnama usaha;lintang;bujur;kbli\n"
        "UD Maju;-7,71;110,61;31001\nUD Jaya;-7,72;110,62;13134\nJumlah;;;\n",
        encoding="utf-8",
    )
    report = records.validate_records(records.read_records(path))
    assert report.n_read == 2 and report.n_kept == 2
    assert report.records["lat"].tolist() == [-7.71, -7.72]
    assert report.skipped[["row", "sheet_row", "kind"]].to_numpy().tolist() == [[3, 7, "total"]]


def test_a_header_over_three_lines_with_units_and_merged_cells(tmp_path: Path) -> None:
    """Groups on the first line, names split over two more ("Desa/" above "Kelurahan"),
    units on the third, and KBLI merged down over all three: one name per column, the
    units read (Rp. 000 -> Rp juta) and no header line taken for a firm."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["REKAPITULASI DATA IKM"])
    sheet.append([])
    sheet.append(["Identitas Usaha", None, "Lokasi Usaha", None, "Nilai", None, "Tenaga", "KBLI"])
    sheet.append(["No. Urut", "Nama Usaha", "Desa/", "Kecamatan", "Produksi", "Investasi", "Kerja"])
    sheet.append([None, None, "Kelurahan", None, "(Rp. 000)", "(Rp. 000)", "(orang)"])
    for k in range(1, 4):
        sheet.append([k, f"UD {k}", "Awan", "Awan Rante Karua", 525_900, 262_950, 7, "10792"])
    for cells in ("A3:B3", "C3:D3", "E3:F3", "H3:H5"):
        sheet.merge_cells(cells)
    path = tmp_path / "ikm.xlsx"
    book.save(path)
    raw = records.read_records(path)
    report = records.validate_records(raw)
    assert report.columns.desa == "Desa/ Kelurahan" and report.columns.sector == "KBLI"
    assert report.n_read == 3  # the firms only (without a study area none is placed)
    assert set(report.rejected["reason"]) == {"missing_coordinates"}
    roles = report.summary()["roles"]
    assert roles["output"]["factor"] == roles["investment"]["factor"] == 0.001
    assert roles["workers"]["column"] == "Tenaga Kerja (orang)"


def test_an_instructions_sheet_before_the_data_is_passed_over(tmp_path: Path) -> None:
    """No --sheet: a first sheet of instructions (no header) is left out, and said; the
    first sheet with a table is the registry."""
    book = openpyxl.Workbook()
    book.active.title = "Petunjuk"
    book.active.append(["Petunjuk pengisian: isi satu baris per usaha"])
    data = book.create_sheet("Data")
    data.append(["id", "lintang", "bujur", "kbli"])
    data.append(["A", -7.1, 110.1, "13134"])
    path = tmp_path / "buku.xlsx"
    book.save(path)
    raw = records.read_records(path)
    assert raw.frame["id"].tolist() == ["A"]
    assert raw.layout is not None and "Petunjuk" in json.dumps(raw.layout.summary())
    empty = openpyxl.Workbook()
    empty.active.append(["Petunjuk"])
    empty.create_sheet("Catatan").append(["tidak ada data"])
    empty.save(tmp_path / "kosong.xlsx")
    with pytest.raises(ValidationError, match=r"its sheets: 'Sheet', 'Catatan'.*--sheet NAME"):
        records.read_records(tmp_path / "kosong.xlsx")


def test_a_summary_sheet_with_the_data_sheets_columns_is_left_out(tmp_path: Path) -> None:
    """``--sheet all``: a recap sheet with the kecamatan sheets' very columns ("Rekap per
    Desa") is left out by its name and said, not read as firms."""
    firms = [_firm(i, 31001, kec="Ceper") for i in range(1, 3)]
    recap = [_firm(9, 31001, kec="Ceper")]
    path = _book(
        tmp_path / "rekap.xlsx",
        {"Rekap per Desa": _agency_sheet(recap), "Ceper": _agency_sheet(firms)},
        {"Rekap per Desa": MERGES, "Ceper": MERGES},
    )
    raw = records.read_records(path, sheet="all")
    assert set(raw.frame["sheet"]) == {"Ceper"} and len(raw.frame) == 2
    assert raw.layout is not None
    assert "Rekap per Desa" in dict(raw.layout.skipped_sheets)
