"""Column roles and units as agencies write them (issue 25, item 5), and a measure that
is absent shown as missing, never 0 ("Missing shown as zero").

Header variants are table-driven (each variant -> its role and unit); unit conversions
are checked against closed forms (a value in Rp is a millionth of itself in Rp juta);
whole runs on the small synthetic study of :func:`tests.worlds.lattice.custom_study` check
what a reader sees: files, workbook, map popups, report and terminal.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.analysis import aggregate
from klastergeo.app.cli import app
from klastergeo.app.config import Columns, ReadOptions
from klastergeo.errors import ConfigError, ValidationError
from klastergeo.io.registry import headers, records
from tests.worlds.lattice import custom_study

runner = CliRunner()

# -- header variants --------------------------------------------------------------------

#: (header as agencies write it, role, unit read from it or None)
VARIANTS = [
    ("Tenaga Kerja (orang)", "workers", "orang"),
    ("Jml TK", "workers", None),
    ("Jml. TK", "workers", None),
    ("Jumlah TK", "workers", None),
    ("TK (org)", "workers", "orang"),
    ("Jumlah Tenaga Kerja (Jiwa)", "workers", "orang"),
    ("JUMLAH_TENAGA_KERJA", "workers", None),
    ("Tenaga Kerja [orang]", "workers", "orang"),
    ("Jumlah Karyawan", "workers", None),
    ("Nilai Produksi (Rp)", "output", "Rp"),
    ("Nilai Produksi (Rp.)", "output", "Rp"),
    ("Nilai Produksi (Rp. 000)", "output", "Rp ribu"),
    ("Nilai Produksi (Rp 000)", "output", "Rp ribu"),
    ("Nilai Produksi (000 Rp)", "output", "Rp ribu"),
    ("Nilai Produksi (Rp ribu)", "output", "Rp ribu"),
    ("Nilai Produksi (ribuan rupiah)", "output", "Rp ribu"),
    ("Nilai Produksi Rp juta", "output", "Rp juta"),
    ("Nilai Produksi (juta rupiah)", "output", "Rp juta"),
    ("Nilai Produksi (Rp. 000.000)", "output", "Rp juta"),
    ("Nilai Produksi (Rp miliar)", "output", "Rp miliar"),
    ("Nilai Produksi per Tahun (Rp)", "output", "Rp"),
    ("nilai_produksi_rp", "output", "Rp"),
    ("Omzet (Rp)", "output", "Rp"),
    ("Nilai Investasi (Rp. 000)", "investment", "Rp ribu"),
    ("Investasi (Rp juta)", "investment", "Rp juta"),
    ("Nilai Investasi", "investment", None),
    ("KBLI 2020", "sector", None),
    ("KBLI", "sector", None),
    ("Kode KBLI", "sector", None),
    ("Kode KBLI (5 digit)", "sector", None),
    ("Desa/Kelurahan", "desa", None),
    ("Kelurahan/Desa", "desa", None),
    ("Nama Desa", "desa", None),
    ("Kecamatan", "kecamatan", None),
    ("Kab/Kota", "kabupaten", None),
    ("Kabupaten/Kota", "kabupaten", None),
    ("Kode Wilayah", "area_code", None),
    ("Kode Desa", "area_code", None),
    ("Nama Perusahaan", "name", None),
    ("Nama IKM", "name", None),
    ("Nama Usaha", "name", None),
    ("NIB", "id", None),
    ("ID Usaha", "id", None),
    ("Lintang", "lat", None),
    ("Latitude (DD)", "lat", None),
    ("Bujur", "lon", None),
    ("Koordinat X", "lon", None),
]


@pytest.mark.parametrize(("header", "role", "unit"), VARIANTS)
def test_each_header_variant_is_its_role_with_its_unit(
    header: str, role: str, unit: str | None
) -> None:
    found = headers.detect([header]).found
    assert [r for r, groups in found.items() if groups] == [role]
    parsed = headers.parse_header(header)
    assert (parsed.unit.name if parsed.unit and parsed.unit.kind != "none" else None) == unit


#: Headers with a role's words and more: other columns, never the role's.
NOT_THE_ROLE = [
    ("Jumlah Tenaga Kerja Laki-laki", "workers"),
    ("Jumlah Tenaga Kerja Perempuan", "workers"),
    ("Tenaga Kerja (tetap)", "workers"),
    ("Nilai Produksi per Bulan", "output"),
    ("Nilai Produksi (orang)", "output"),  # a count is not an amount
    ("Tenaga Kerja (Rp)", "workers"),  # an amount is not a count
    ("Nama Pemilik", "name"),
]


@pytest.mark.parametrize(("header", "role"), NOT_THE_ROLE)
def test_a_header_with_more_words_is_not_the_role_but_is_named_as_similar(
    header: str, role: str
) -> None:
    found = headers.detect([header])
    assert not found.found[role]
    if role != "name":  # "Nama Pemilik" has no phrase of five letters or more in common
        assert found.similar[role] == [header]


def test_the_role_column_is_taken_before_its_qualified_siblings() -> None:
    frame = [
        "Lintang", "Bujur", "KBLI",
        "Jumlah Tenaga Kerja Laki-laki", "Jumlah Tenaga Kerja", "Jumlah Tenaga Kerja Perempuan",
    ]  # fmt: skip
    assert records.resolve_columns(frame).workers == "Jumlah Tenaga Kerja"


def test_columns_differing_only_in_case_punctuation_or_unit_are_an_error() -> None:
    with pytest.raises(
        ValidationError, match=r"differ only in case, punctuation or unit.*--output-col"
    ):
        records.resolve_columns(["lat", "lon", "kbli", "Nilai Produksi (Rp)", "nilai_produksi"])


def test_two_phrases_of_a_role_the_first_listed_wins_and_the_other_is_said(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.csv"
    pd.DataFrame(
        {
            "lat": [-7.5],
            "lon": [110.5],
            "kbli": ["31001"],
            "TK": ["3"],
            "Jumlah Tenaga Kerja": ["4"],
        }
    ).to_csv(path, index=False)
    report = records.validate_records(records.read_records(path))
    assert report.columns.workers == "Jumlah Tenaga Kerja"  # listed before "tk"
    assert report.records["workers"].tolist() == [4.0]
    assert report.summary()["passed_over"] == {"workers": ["TK"]}


def test_a_role_not_found_is_listed_with_its_similar_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    pd.DataFrame(
        {"lat": [-7.5], "lon": [110.5], "kbli": ["31001"],
         "Nilai Produksi per Bulan (Rp)": ["1000"], "Jumlah Tenaga Kerja Laki-laki": ["2"]}
    ).to_csv(path, index=False)  # fmt: skip
    block = records.validate_records(records.read_records(path)).summary()
    assert {"workers", "output", "investment", "name", "id"} <= set(block["roles_not_found"])
    assert block["similar_columns"] == {
        "workers": ["Jumlah Tenaga Kerja Laki-laki"],
        "output": ["Nilai Produksi per Bulan (Rp)"],
    }


def test_the_synonyms_table_is_the_one_records_reads_and_no_phrase_has_two_roles() -> None:
    assert records.CANDIDATES is headers.SYNONYMS
    seen: dict[str, str] = {}
    for role, phrases in headers.SYNONYMS.items():
        for phrase in phrases:
            key = headers.compact(phrase)
            assert seen.setdefault(key, role) == role, (phrase, role, seen[key])
    # every role of the configuration has its phrases
    assert set(vars(Columns())) <= set(headers.SYNONYMS)


def test_a_given_column_is_no_other_roles_column() -> None:
    cols = records.resolve_columns(
        ["lat", "lon", "kbli", "nama", "Kecamatan"], Columns(name="Kecamatan")
    )
    assert cols.name == "Kecamatan" and cols.kecamatan is None


# -- units ------------------------------------------------------------------------------

#: (unit as written, rupiah per written unit)
SCALES = [
    ("Rp", 1.0),
    ("Rp.", 1.0),
    ("rupiah", 1.0),
    ("IDR", 1.0),
    ("Rp ribu", 1e3),
    ("(Rp. 000)", 1e3),
    ("Rp 000", 1e3),
    ("000 Rp", 1e3),
    ("ribuan rupiah", 1e3),
    ("Rp 1.000", 1e3),
    ("Rp juta", 1e6),
    ("juta rupiah", 1e6),
    ("Rp 000.000", 1e6),
    ("Rp miliar", 1e9),
    ("milyar rupiah", 1e9),
]


@pytest.mark.parametrize(("text", "scale"), SCALES)
def test_units_of_rupiah_and_their_factor_to_rp_juta(text: str, scale: float) -> None:
    unit = headers.parse_unit(text)
    assert unit is not None and unit.kind == "money" and unit.scale == scale
    header = f"Nilai Produksi ({text})"
    measured = headers.measure_units({"output": header})["output"]
    assert measured.factor == pytest.approx(scale / 1e6, rel=1e-15)
    assert measured.stated == "Rp juta" and measured.source == "header"


@pytest.mark.parametrize("text", ["orang", "org", "jiwa"])
def test_workers_units_are_counts(text: str) -> None:
    measured = headers.measure_units({"workers": f"Tenaga Kerja ({text})"})["workers"]
    assert (measured.unit, measured.factor) == ("orang", 1.0)


def _registry(path: Path, columns: dict[str, list[str]], sep: str = ",") -> Path:
    base = {"lat": ["-7.5", "-7.6", "-7.7"], "lon": ["110.1", "110.2", "110.3"],
            "kbli": ["31001", "31001", "10710"]}  # fmt: skip
    pd.DataFrame({**base, **columns}).to_csv(path, index=False, sep=sep)
    return path


def test_amounts_are_converted_to_rp_juta_by_their_headers_unit(tmp_path: Path) -> None:
    path = _registry(
        tmp_path / "r.csv",
        {
            "Nilai Produksi (Rp)": ["150000000", "", "2500000"],
            "Nilai Investasi (Rp. 000)": ["1500", "20", ""],
            "Jml TK (orang)": ["3", "", "5"],
        },
    )
    report = records.validate_records(records.read_records(path))
    firms = report.records
    # closed forms: Rp / 1e6, Rp ribu / 1e3, blanks missing (never 0), counts unchanged
    np.testing.assert_array_equal(firms["output"], [150.0, np.nan, 2.5])
    np.testing.assert_array_equal(firms["investment"], [1.5, 0.02, np.nan])
    np.testing.assert_array_equal(firms["workers"], [3.0, np.nan, 5.0])
    roles = report.summary()["roles"]
    assert roles["output"] == {
        "column": "Nilai Produksi (Rp)", "unit": "Rp", "unit_from": "header",
        "written_unit": "Rp", "stated_unit": "Rp juta", "factor": 1e-06,
    }  # fmt: skip
    assert roles["investment"]["factor"] == 0.001


def test_amounts_with_thousands_separators_in_a_semicolon_file(tmp_path: Path) -> None:
    path = _registry(
        tmp_path / "r.csv",
        {"lat": ["-7,5", "-7,6", "-7,7"], "lon": ["110,1", "110,2", "110,3"],
         "Nilai Produksi (Rp)": ["1.234.567", "12.500.000,5", "0"]},
        sep=";",
    )  # fmt: skip
    output = records.validate_records(records.read_records(path)).records["output"]
    np.testing.assert_allclose(output, [1.234567, 12.5000005, 0.0], rtol=1e-15)


def test_a_header_without_a_unit_keeps_the_values_as_rp_juta(tmp_path: Path) -> None:
    path = _registry(tmp_path / "r.csv", {"nilai_produksi": ["12.5", "3", "7"]})
    report = records.validate_records(records.read_records(path))
    assert report.records["output"].tolist() == [12.5, 3.0, 7.0]
    assert report.units["output"].source == "assumed"
    assert report.summary()["roles"]["output"]["unit"] == "Rp juta"


def test_the_unit_option_overrides_the_header(tmp_path: Path) -> None:
    path = _registry(tmp_path / "r.csv", {"Nilai Produksi (Rp)": ["1500", "20", "3"]})
    report = records.validate_records(records.read_records(path), units={"output": "Rp ribu"})
    assert report.records["output"].tolist() == [1.5, 0.02, 0.003]
    assert report.summary()["roles"]["output"]["unit_from"] == "option"
    # in batches too, as a run reads the registry
    from klastergeo.io.registry import batches

    outcome = batches.validate_in_batches(
        path, workdir=tmp_path / "work", batch_size=2, units={"output": "Rp miliar"}
    )
    assert outcome.report().records["output"].tolist() == [1_500_000.0, 20_000.0, 3000.0]


def test_a_value_beyond_the_bound_is_judged_in_the_stated_unit(tmp_path: Path) -> None:
    # 1e15 Rp juta is the largest output; in Rp that is 1e21
    path = _registry(tmp_path / "r.csv", {"Nilai Produksi (Rp)": ["1e21", "2e21", "5"]})
    report = records.validate_records(records.read_records(path))
    assert report.n_kept == 2
    assert report.rejected["detail"].str.contains("from 0 to 1,000,000,000,000,000,000,000").all()


@pytest.mark.parametrize("bad", ["USD", "orang", "Rp per bulan"])
def test_a_unit_option_that_is_not_rupiah_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"records.output_unit=.*not a unit of rupiah; use Rp"):
        ReadOptions(output_unit=bad)


# -- missing is never 0 -----------------------------------------------------------------


def test_sums_of_a_partly_missing_measure_are_the_known_values_sum() -> None:
    firms = pd.DataFrame(
        {
            "area_code": ["a", "a", "a", "b", "b"],
            "sector": ["31", "31", "10", "31", "31"],
            "workers": [2.0, np.nan, 4.0, np.nan, np.nan],
            "output": [1.5, 2.0, np.nan, 0.0, np.nan],
        }
    )
    counts = aggregate.count_by_area(firms, pd.Index(["a", "b", "c"]))
    assert counts.loc[("a", "31"), "workers"] == 2.0  # the one reported
    assert np.isnan(counts.loc[("b", "31"), "workers"])  # nobody reported: missing
    assert counts.loc[("b", "31"), "output"] == 0.0  # a reported 0 is 0
    assert counts.loc[("c", "31"), "workers"] == 0.0  # no firms: nothing
    assert counts["investment"].isna().all()  # no column: missing everywhere


def test_a_popup_says_not_available_for_a_missing_measure_and_confidential_for_a_suppressed_one() -> (
    None
):
    import shapely

    from klastergeo.publish import maps

    sentra = gpd.GeoDataFrame(
        {"sector": ["31", "25"], "n_firms": [40, 25], "workers": [np.nan, np.nan],
         "workers_flag": ["suppressed", ""], "output": [np.nan, 0.0], "output_flag": ["", ""]},
        geometry=[shapely.box(110, -7, 110.01, -6.99), shapely.box(111, -7, 111.01, -6.99)],
        index=pd.Index(["31-01", "25-01"], name="sentra_id"), crs=4326,
    )  # fmt: skip
    for lang in ("id", "en"):
        t = dict(maps.TEXT[lang])
        first, second = (dict(r) for r in maps._sentra_payload(sentra, t, lang)["popups"])
        assert first[t["workers"]] == t["suppressed"]
        assert first[t["output"]] == t["not_available"]
        assert second[t["workers"]] == t["not_available"]
        assert second[t["output"]] in ("0,0", "0.0")  # a reported zero stays zero


# -- whole runs -------------------------------------------------------------------------

_QUICK = (
    '[area]\nboundaries = "desa.gpkg"\nid_col = "kode"\n'
    "[analysis]\npermutations = 0\n[pointpattern]\nenabled = false\n"
    '[report]\nfigures = "none"\n[map]\ntiles = "none"\n'
)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("agency")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=2
    )
    registry["nama"] = [f"UD {i}" for i in range(len(registry))]
    (folder / "quick.toml").write_text(_QUICK, encoding="utf-8")
    return folder, registry


def _run(folder: Path, records_file: str, out: str, *extra: str) -> tuple[int, str, Path]:
    result = runner.invoke(
        app,
        ["run", "--config", str(folder / "quick.toml"), "--records", str(folder / records_file),
         "--out", str(folder / out), *extra],
    )  # fmt: skip
    return result.exit_code, result.output, folder / out


@pytest.fixture(scope="module")
def no_amounts(study: tuple[Path, pd.DataFrame]) -> tuple[Path, str]:
    """A run of a registry with workers but no output or investment column."""
    folder, registry = study
    registry.to_csv(folder / "tanpa_nilai.csv", index=False)
    code, output, out = _run(folder, "tanpa_nilai.csv", "out_missing")
    assert code == 0, output
    return out, output


def test_a_run_without_amounts_shows_them_missing_in_the_files(
    no_amounts: tuple[Path, str],
) -> None:
    out, _ = no_amounts
    sentra = pd.read_csv(out / "sentra.csv", dtype=str, keep_default_na=False)
    assert len(sentra)
    assert (sentra["output"] == "").all() and (sentra["investment"] == "").all()
    assert (sentra["workers"] != "").all()  # a measure that is there stays
    for table in (
        pd.read_parquet(out / "areas.parquet"),
        gpd.read_file(out / "areas.gpkg", layer="areas"),
    ):
        if "output" in table:
            assert table["output"].isna().all() and table["investment"].isna().all()


def test_a_run_without_amounts_leaves_the_workbook_cells_blank(
    no_amounts: tuple[Path, str],
) -> None:
    out, _ = no_amounts
    book = openpyxl.load_workbook(out / "results.xlsx")  # read whole: the file is closed once read
    checked = 0
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        if not rows:
            continue
        for j, name in enumerate(rows[0]):
            if name in ("output", "investment") or "produksi" in str(name).lower():
                values = [r[j] for r in rows[1:]]
                assert all(v is None or v == "" for v in values), (sheet.title, name, values)
                checked += 1
    assert checked >= 2


def test_a_run_without_amounts_says_not_available_in_the_map_popups(
    no_amounts: tuple[Path, str],
) -> None:
    out, _ = no_amounts
    page = (out / "map.html").read_text("utf-8")
    label = json.dumps("Nilai produksi (Rp juta)")
    assert f"{label},{json.dumps('tidak tersedia')}" in page
    assert f"{label},{json.dumps('0,0')}" not in page and f"{label},{json.dumps('0')}" not in page


def test_a_run_without_amounts_says_which_columns_and_which_roles_were_not_found(
    no_amounts: tuple[Path, str],
) -> None:
    out, terminal = no_amounts
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    block = summary["records"]
    assert block["roles"]["workers"]["column"] == "workers"
    assert block["roles"]["sector"] == {"column": "kbli"}
    assert {"output", "investment"} <= set(block["roles_not_found"])
    # the terminal speaks the run's language (Indonesian, the default)
    missing = "kolom Nilai produksi atau Nilai investasi tidak ada: nilai dan jumlahnya kosong"
    assert missing in " ".join(terminal.split())
    report = (out / "report.html").read_text("utf-8")
    assert "Kolom yang dipakai" in report
    assert "Tidak ada kolom untuk: Nilai produksi, Nilai investasi" in report


def test_a_model_that_loses_predictors_says_so(no_amounts: tuple[Path, str]) -> None:
    out, terminal = no_amounts
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["predictors_left_out"] == [
        {"predictor": "output", "column": None, "reason": "no_column"},
        {"predictor": "investment", "column": None, "reason": "no_column"},
    ]
    assert "Nilai produksi tidak dipakai dalam model" in " ".join(terminal.split())
    report = (out / "report.html").read_text("utf-8")
    assert "Nilai produksi tidak dipakai dalam model" in report


@pytest.mark.slow
def test_an_empty_amount_column_is_a_predictor_left_out_for_lack_of_values(
    study: tuple[Path, pd.DataFrame],
) -> None:
    folder, registry = study
    registry.assign(**{"Nilai Produksi (Rp)": ""}).to_csv(folder / "kosong.csv", index=False)
    code, output, out = _run(folder, "kosong.csv", "out_empty")
    assert code == 0, output
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert {"predictor": "output", "column": "Nilai Produksi (Rp)", "reason": "no_values"} in (
        summary["predictors_left_out"]
    )
    assert pd.read_csv(out / "sentra.csv")["output"].isna().all()


@pytest.mark.slow
def test_a_run_of_agency_headers_converts_rupiah_and_the_sentra_sums_follow(
    study: tuple[Path, pd.DataFrame],
) -> None:
    """The registry of the issue's Klaten file in shape: Indonesian headers with units."""
    folder, registry = study
    rupiah = (registry["workers"].to_numpy() * 37_500_000).astype(np.int64)  # Rp per firm
    thousands = (registry["workers"].to_numpy() * 12_000).astype(np.int64)  # Rp ribu
    frame = pd.DataFrame(
        {
            "NIB": registry["id"],
            "Nama Perusahaan": registry["nama"],
            "Lintang": registry["lat"],
            "Bujur": registry["lon"],
            "KBLI 2020": registry["kbli"],
            "Tenaga Kerja (orang)": registry["workers"],
            "Jumlah Tenaga Kerja Laki-laki": registry["workers"] // 2,
            "Nilai Produksi (Rp)": rupiah,
            "Nilai Investasi (Rp. 000)": thousands,
        }
    )
    frame.to_csv(folder / "rupiah.csv", index=False)
    code, output, out = _run(folder, "rupiah.csv", "out_rupiah")
    assert code == 0, output
    assert "Rp -> Rp juta (x 1e-06)" in output and "Rp ribu -> Rp juta (x 0.001)" in output
    block = json.loads((out / "summary.json").read_text("utf-8"))["records"]
    taken = {role: entry["column"] for role, entry in block["roles"].items()}
    assert taken == {
        "id": "NIB", "lat": "Lintang", "lon": "Bujur", "sector": "KBLI 2020",
        "workers": "Tenaga Kerja (orang)", "output": "Nilai Produksi (Rp)",
        "investment": "Nilai Investasi (Rp. 000)", "name": "Nama Perusahaan",
    }  # fmt: skip
    assert block["roles"]["output"]["factor"] == 1e-06
    assert block["roles"]["investment"]["factor"] == 0.001
    firms = pd.read_parquet(out / "firms").sort_values("row")
    at = firms["row"].to_numpy() - 1
    np.testing.assert_allclose(firms["output"], rupiah[at] / 1e6, rtol=1e-15)
    np.testing.assert_allclose(firms["investment"], thousands[at] / 1e3, rtol=1e-15)
    sentra = pd.read_csv(out / "sentra.csv").set_index("sentra_id")
    shown = sentra["output"].dropna()
    assert len(shown)
    truth = firms.groupby("sentra_id")["output"].sum()  # an independent sum
    np.testing.assert_allclose(shown, truth.reindex(shown.index), rtol=1e-12)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["predictors_left_out"] == []  # every amount was found


def test_location_quotients_of_an_absent_measure_stop_with_exit_2(
    study: tuple[Path, pd.DataFrame], no_amounts: tuple[Path, str]
) -> None:
    folder, _ = study
    code, output, _ = _run(
        folder, "tanpa_nilai.csv", "out_lq", "--set", 'sentra.lq_measure="output"'
    )
    assert code == 2, output
    assert "sentra.lq_measure='output', but no kept firm has a value of output" in " ".join(
        output.split()
    )


def test_an_output_unit_that_is_not_rupiah_exits_2(study: tuple[Path, pd.DataFrame]) -> None:
    folder, registry = study
    registry.to_csv(folder / "unit.csv", index=False)
    code, output, _ = _run(folder, "unit.csv", "out_unit", "--output-unit", "USD")
    assert code == 2, output
    assert "records.output_unit='USD' is not a unit of rupiah" in " ".join(output.split())
