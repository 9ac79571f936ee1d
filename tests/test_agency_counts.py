"""Counts per village as input (``--counts``, issue 25 item 6): a PODES-style wide table
or a long table (area, sector, count) gives the same location quotients, Gi*, LISA,
specialisation, sentra and concentration as a registry of firms with those counts
placed by points (planted truth: the counts of :func:`tests.worlds.lattice.custom_study`);
wrong files stop with exit 2 naming the file, the column and the value."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.io.registry import area_counts
from tests.worlds.lattice import custom_study

runner = CliRunner()

SHAPE = (6, 6)
SENTRA = {"r2c2": 45, "r2c3": 30}
BACKGROUND = {"10": 6, "31": 1}
#: The statistics of areas.parquet compared between a registry and its counts.
STATISTICS = [
    "n_firms",
    "lq",
    "lq_low",
    "lq_high",
    "lq_p",
    "spec_ratio",
    "spec_z",
    "spec_p",
    "spec_bin",
    "gi_z",
    "gi_p",
    "gi_bin",
    "lisa_i",
    "lisa_quadrant",
    "lisa_p",
    "sentra_id",
    "sentra_role",
]


def planted() -> pd.DataFrame:
    """The firms per area code and sector that :func:`custom_study` places (its
    definition: ``BACKGROUND`` in every cell, ``{"10": 2, "31": n}`` in a sentra cell),
    rows in the code order of its boundaries (99.00, 99.01, ... row-major)."""
    rows = []
    for i in range(SHAPE[0] * SHAPE[1]):
        cell = f"r{i // SHAPE[1]}c{i % SHAPE[1]}"
        by = {"10": 2, "31": SENTRA[cell]} if cell in SENTRA else BACKGROUND
        rows.append({"kode": f"99.{i:02d}", "10": by["10"], "31": by["31"]})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 6 x 6 custom study, its registry of firms, and the registry's run."""
    folder = tmp_path_factory.mktemp("counts")
    registry = custom_study(folder, SHAPE, SENTRA, background=BACKGROUND, seed=2)
    registry.to_csv(folder / "firms.csv", index=False)
    (folder / "quick.toml").write_text(
        f'[area]\nboundaries = "{folder / "desa.gpkg"}"\nid_col = "kode"\n'
        "[analysis]\npermutations = 0\n[pointpattern]\nenabled = false\n"
        '[report]\nfigures = "none"\n[map]\ntiles = "none"\n',
        encoding="utf-8",
    )
    done = runner.invoke(app, _args(folder, folder / "registry", "--records", "firms.csv"))
    assert done.exit_code == 0, done.output
    return folder


def _args(folder: Path, out: Path, *given: str, command: str = "run") -> list[str]:
    resolved = [str(folder / g) if g.endswith((".csv", ".xlsx")) else g for g in given]
    return [command, "--config", str(folder / "quick.toml"), "--out", str(out), *resolved]


def _areas(out: Path) -> pd.DataFrame:
    table = pd.read_parquet(out / "areas.parquet")
    table = table.astype({"area_code": str, "sector": str}).set_index(["area_code", "sector"])
    return table[STATISTICS].sort_index()


def _podes(counts: pd.DataFrame) -> pd.DataFrame:
    """The planted counts as PODES publishes them: a code column, a name, an industry
    group per column (food and drink is KBLI 10), a KBLI division column, a row total,
    and a totals row at the bottom."""
    wide = pd.DataFrame(
        {
            "No": np.arange(1, len(counts) + 1),
            "Kode Wilayah": counts["kode"],
            "Nama Desa": [f"Desa {i}" for i in range(len(counts))],
            "Industri Makanan dan Minuman": counts["10"],
            "KBLI 31": counts["31"],
        }
    )
    wide["Jumlah"] = wide["Industri Makanan dan Minuman"] + wide["KBLI 31"]
    total = {
        "No": "",
        "Kode Wilayah": "Jumlah",
        "Nama Desa": "",
        "Industri Makanan dan Minuman": counts["10"].sum(),
        "KBLI 31": counts["31"].sum(),
        "Jumlah": wide["Jumlah"].sum(),
    }
    return pd.concat([wide, pd.DataFrame([total])], ignore_index=True)


def _run(study: Path, tmp: Path, frame: pd.DataFrame, *extra: str, name: str = "podes.csv"):
    path = tmp / name
    if name.endswith(".xlsx"):
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return runner.invoke(app, _args(study, tmp / "out", "--counts", str(path), *extra))


# -- the same statistics as the registry ----------------------------------------------------


@pytest.mark.slow
def test_wide_podes_table_gives_the_registrys_statistics(study: Path, tmp_path: Path) -> None:
    done = _run(study, tmp_path, _podes(planted()))
    assert done.exit_code == 0, done.output
    pd.testing.assert_frame_equal(
        _areas(tmp_path / "out"), _areas(study / "registry"), check_exact=True
    )
    concentration = pd.read_csv(tmp_path / "out" / "concentration.csv")
    expected = pd.read_csv(study / "registry" / "concentration.csv")
    pd.testing.assert_frame_equal(concentration, expected)  # every plant counts 1: exact
    sentra = pd.read_csv(tmp_path / "out" / "sentra.csv", dtype={"sector": str})
    assert sentra[["sentra_id", "sector", "n_firms", "area_codes"]].values.tolist() == [
        ["31-01", "31", 75, "99.14;99.15"]
    ]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"]["sectors"] == {"Industri Makanan dan Minuman": "10", "KBLI 31": "31"}
    assert summary["counts"]["firms"] == int(planted()[["10", "31"]].to_numpy().sum())
    assert len(pd.read_csv(tmp_path / "out" / "rejected.csv")) == 0
    skipped = pd.read_csv(tmp_path / "out" / "skipped.csv")
    assert skipped[["row", "kind"]].values.tolist() == [[37, "total"]]
    what = {n["what"] for n in summary["not_computed"]}
    assert {"firm-level models", "co-location", "firms output (firms/) and firm markers"} <= what
    assert not (tmp_path / "out" / "firms").exists()
    assert summary["disclosure"]["dominance_applied"] is False
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "podes.csv" in page and "tidak diterapkan: data jumlah usaha per wilayah" in page


def test_long_table_and_codes_without_dots_give_the_same(study: Path, tmp_path: Path) -> None:
    counts = planted()
    long = counts.melt(id_vars="kode", var_name="KBLI", value_name="Jumlah Usaha")
    long["kode"] = long["kode"].str.replace(".", "", regex=False)  # 9900, 9901, ...
    long = long.rename(columns={"kode": "Kode Desa"}).sample(frac=1.0, random_state=3)
    long = long.loc[long["Jumlah Usaha"] > 0]  # a long table lists what exists
    done = _run(study, tmp_path, long, name="imk_long.csv")
    assert done.exit_code == 0, done.output
    pd.testing.assert_frame_equal(
        _areas(tmp_path / "out"), _areas(study / "registry"), check_exact=True
    )
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"]["layout"] == "long"
    assert summary["counts"]["columns"] == {
        "area_code": "Kode Desa",
        "sector": "KBLI",
        "count": "Jumlah Usaha",
    }


def test_a_long_tables_sums_are_read_with_their_units(study: Path, tmp_path: Path) -> None:
    """``Nilai Produksi (Rp. 000)`` in a long table is the output column, in thousands of
    rupiah: the areas' output is the file's sum / 1,000 (Rp juta), as in a registry."""
    counts = planted()
    long = counts.melt(id_vars="kode", var_name="KBLI", value_name="Jumlah Usaha")
    long = long.loc[long["Jumlah Usaha"] > 0].reset_index(drop=True)
    long["Nilai Produksi (Rp. 000)"] = long["Jumlah Usaha"] * 25_000.0
    done = _run(study, tmp_path, long, name="imk_long.csv")
    assert done.exit_code == 0, done.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"]["columns"]["output"] == "Nilai Produksi (Rp. 000)"
    areas = pd.read_parquet(tmp_path / "out" / "areas.parquet")
    published = areas["output"].dropna()
    firms = areas.loc[published.index, "n_firms"]
    assert len(published) and np.allclose(published, firms * 25.0)  # Rp juta per firm


def test_excel_podes_table_with_sentra_command(study: Path, tmp_path: Path) -> None:
    done = runner.invoke(
        app,
        [
            *_args(study, tmp_path / "out", command="sentra"),
            "--counts",
            str(_excel(tmp_path, _podes(planted()))),
        ],
    )
    assert done.exit_code == 0, done.output
    pd.testing.assert_frame_equal(
        _areas(tmp_path / "out"), _areas(study / "registry"), check_exact=True
    )


def _excel(tmp: Path, frame: pd.DataFrame) -> Path:
    path = tmp / "podes.xlsx"
    frame.to_excel(path, index=False)
    return path


# -- missing is not zero ------------------------------------------------------------------


def test_blank_cell_leaves_its_area_out_and_dash_is_zero(study: Path, tmp_path: Path) -> None:
    """A blank count is unknown: its area is left out of the analysis, exactly as a
    registry without that area (its polygon removed) would give; BPS's '-' is 0."""
    counts = planted()
    wide = _podes(counts).astype({"Industri Makanan dan Minuman": object, "KBLI 31": object})
    wide.loc[0, "KBLI 31"] = ""  # 99.00: furniture unknown
    wide.loc[wide["KBLI 31"] == 1, "KBLI 31"] = "1"
    wide.loc[5, "Industri Makanan dan Minuman"] = "-"  # 99.05: nihil
    done = _run(study, tmp_path, wide)
    assert done.exit_code == 0, done.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"]["areas_unknown"] == ["99.00"]
    table = _areas(tmp_path / "out")
    assert "99.00" not in table.index.get_level_values("area_code")
    assert table.loc[("99.05", "10"), "n_firms"] == 0
    # the same as the counts without 99.00 and with 0 food firms in 99.05, by closed form
    from klastergeo.analysis.concentration import location_quotient

    known = counts.set_index("kode").drop(index="99.00")
    known.loc["99.05", "10"] = 0
    expected = location_quotient(known[["10", "31"]].astype(float))["lq"]
    got = table["lq"].unstack("sector")[["10", "31"]]
    np.testing.assert_allclose(got.to_numpy(), expected.unstack().to_numpy(), rtol=1e-12)


# -- disclosure: the threshold rule on the sums ----------------------------------------


def test_sums_of_fewer_than_min_firms_are_suppressed(study: Path, tmp_path: Path) -> None:
    counts = planted()
    long = counts.melt(id_vars="kode", var_name="sektor", value_name="jumlah")
    long["tenaga_kerja"] = long["jumlah"] * 3
    done = _run(study, tmp_path, long, name="long.csv")
    assert done.exit_code == 0, done.output
    table = pd.read_parquet(tmp_path / "out" / "areas.parquet")
    few = table["n_firms"] < 3
    assert few.any() and (~few).any()
    assert table.loc[few, "workers"].isna().all()
    assert (table.loc[few, "workers_flag"] == "suppressed").all()
    shown = table.loc[~few]
    np.testing.assert_array_equal(shown["workers"], shown["n_firms"] * 3)
    sentra = pd.read_csv(tmp_path / "out" / "sentra.csv")
    assert sentra["workers"].tolist() == [75 * 3]


# -- rows and files that cannot be used ---------------------------------------------------


def test_bad_rows_are_rejected_with_their_reason(study: Path, tmp_path: Path) -> None:
    wide = _podes(planted()).astype(object)
    wide.loc[1, "KBLI 31"] = "-4"
    wide.loc[2, "KBLI 31"] = "2,5"
    wide.loc[3, "Industri Makanan dan Minuman"] = "banyak"
    wide.loc[4, "Kode Wilayah"] = "99.77"
    extra = wide.loc[[6]].assign(**{"KBLI 31": 9})
    footnote = pd.DataFrame([{"Kode Wilayah": "Sumber: PODES 2021"}])
    wide = pd.concat([wide, extra, footnote], ignore_index=True)
    done = _run(study, tmp_path, wide)
    assert done.exit_code == 0, done.output
    rejected = pd.read_csv(tmp_path / "out" / "rejected.csv", dtype=str)
    got = dict(zip(rejected["row"].astype(int), rejected["reason"], strict=True))
    assert got == {
        2: "invalid_count",
        3: "invalid_count",
        4: "invalid_count",
        5: "unknown_area",
        38: "duplicate_area",
    }
    skipped = pd.read_csv(tmp_path / "out" / "skipped.csv", dtype=str)
    assert skipped[["row", "kind"]].values.tolist() == [["37", "total"], ["39", "footnote"]]
    detail = dict(zip(rejected["row"].astype(int), rejected["detail"], strict=True))
    # the details in the run's language (Indonesian by default), the values as written
    assert detail[2] == "kolom 'KBLI 31': '-4' negatif"
    assert detail[3] == "kolom 'KBLI 31': '2,5' bukan bilangan bulat jumlah usaha"
    assert detail[4] == "kolom 'Industri Makanan dan Minuman': 'banyak' bukan angka jumlah usaha"
    assert "sudah ada di baris 7" in detail[38]
    reasons = dict(zip(rejected["row"].astype(int), rejected["reason_text"], strict=True))
    assert reasons[2] == "jumlah usaha tidak sah" and reasons[38] == "wilayah ganda"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    # the areas of rejected rows have unknown counts: left out, not counted as 0
    assert summary["counts"]["areas_unknown"] == ["99.01", "99.02", "99.03"]
    assert summary["records"]["by_reason"]["invalid_count"] == 3


def test_strict_stops_on_a_bad_row_but_not_on_a_totals_row(study: Path, tmp_path: Path) -> None:
    done = _run(study, tmp_path, _podes(planted()), "--strict")
    assert done.exit_code == 0, done.output
    wide = _podes(planted()).astype(object)
    wide.loc[1, "KBLI 31"] = "-4"
    done = _run(study, tmp_path, wide, "--strict")
    assert done.exit_code == 2
    assert "--strict: 1 record(s) rejected" in done.output
    assert "podes.csv" in done.output and "invalid_count: 1" in done.output


def test_nothing_usable_exits_2(study: Path, tmp_path: Path) -> None:
    wide = _podes(planted()).astype(object)
    wide["Kode Wilayah"] = wide["Kode Wilayah"].str.replace("99.", "98.", regex=False)
    done = _run(study, tmp_path, wide, "--lang", "en")  # the library's English message
    assert done.exit_code == 2
    assert "none kept" in done.output and "unknown_area: 36" in done.output


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            pd.DataFrame({"Nama Usaha": ["a"], "KBLI 31": [3]}),
            "has no area code or area name column; its columns: ['Nama Usaha', 'KBLI 31']",
        ),
        (
            pd.DataFrame({"kode_wilayah": ["99.00"], "Penduduk": [3]}),
            "has no column of counts",
        ),
        (
            pd.DataFrame({"kode_wilayah": ["99.00"], "Industri kayu": [""]}),
            "no sector column holds a count ('Industri kayu': no count in any row",
        ),
    ],
)
def test_wrong_files_exit_2_naming_the_column(
    study: Path, tmp_path: Path, frame: pd.DataFrame, expected: str
) -> None:
    done = _run(study, tmp_path, frame)
    assert done.exit_code == 2, done.output
    text = " ".join(done.output.split())
    assert "podes.csv" in text and expected in text


def test_counts_and_records_together_exit_2(study: Path, tmp_path: Path) -> None:
    done = _run(study, tmp_path, _podes(planted()), "--records", str(study / "firms.csv"))
    assert done.exit_code == 2
    text = " ".join(done.output.split())
    assert "drop --records to analyse the counts, or --counts to analyse the registry" in text


def test_point_sentra_with_counts_exit_2(study: Path, tmp_path: Path) -> None:
    done = _run(study, tmp_path, _podes(planted()), "--set", "sentra.method=dbscan")
    assert done.exit_code == 2
    assert "use sentra.method='areas' with --counts" in " ".join(done.output.split())


# -- headers as PODES and agencies write them -----------------------------------------------


@pytest.mark.parametrize(
    ("header", "sector"),
    [
        ("Industri dari Kulit", "15"),
        ("Industri dari kayu", "16"),
        ("Industri Kayu", "16"),
        ("Industri logam mulia dan bahan-bahan dari logam", "25"),
        ("Industri Anyaman", "anyaman"),
        ("Industri anyaman bambu/rotan", "anyaman"),
        ("Industri Gerabah/Keramik/Batu", "23"),
        ("Industri dari kain/tenun", "13"),
        ("Industri Kain/Tenun", "13"),
        ("Industri Makanan dan Minuman", "10"),
        ("IND. MAKANAN & MINUMAN", "10"),
        ("Industri Lainnya", "lainnya"),
        ("31", "31"),
        ("KBLI 13", "13"),
        ("kbli_2511", "25"),
        ("10 - Industri makanan", "10"),
        ("Nama Desa", None),
        ("2019", None),
        ("Jumlah", None),
    ],
)
def test_sector_of_header(header: str, sector: str | None) -> None:
    assert area_counts.sector_of_header(header) == sector


def test_sector_mapping_wins() -> None:
    mapping = {"industri dari kayu": "31"}
    assert area_counts.sector_of_header("Industri dari Kayu", sectors=mapping) == "31"


def test_bps_code_gets_a_hint() -> None:
    index = pd.Index(["33.10.11.2015", "33.10.11.2016"])
    reason, detail = area_counts._why_unknown("3310110015", index, "33.10")
    assert reason == "unknown_area"
    assert "33.10.11 is" in detail
    reason, detail = area_counts._why_unknown("3311010001", index, "33.10")
    assert (reason, detail) == (
        "outside_study_area",
        "area '3311010001' (33.11.01.0001) is outside --area 33.10",
    )


# -- periods -----------------------------------------------------------------------------


def _grown(counts: pd.DataFrame) -> pd.DataFrame:
    """The second survey: the sentra grown by 10 furniture firms in 99.14."""
    later = counts.copy()
    later.loc[later["kode"] == "99.14", "31"] += 10
    return later


@pytest.mark.slow
def test_periods_from_a_period_column(study: Path, tmp_path: Path) -> None:
    first = planted().melt(id_vars="kode", var_name="kbli", value_name="jumlah")
    second = _grown(planted()).melt(id_vars="kode", var_name="kbli", value_name="jumlah")
    both = pd.concat([first.assign(tahun="2019"), second.assign(tahun="2023")])
    done = _run(study, tmp_path, both, "--period-col", "tahun", name="imk.csv")
    assert done.exit_code == 0, done.output
    out = tmp_path / "out"
    pd.testing.assert_frame_equal(_areas(out / "periods" / "2019"), _areas(study / "registry"))
    lineages = pd.read_csv(out / "dynamics.csv")
    assert len(lineages) == 1
    assert lineages[["n_firms_2019", "n_firms_2023"]].values.tolist() == [[75, 85]]


@pytest.mark.slow
def test_periods_from_one_counts_file_each(study: Path, tmp_path: Path) -> None:
    _podes(planted()).to_csv(tmp_path / "podes_2018.csv", index=False)
    _podes(_grown(planted())).to_csv(tmp_path / "podes_2021.csv", index=False)
    done = runner.invoke(
        app,
        [
            *_args(study, tmp_path / "out"),
            "--counts",
            str(tmp_path / "podes_2018.csv"),
            "--counts",
            str(tmp_path / "podes_2021.csv"),
        ],
    )
    assert done.exit_code == 0, done.output
    lineages = pd.read_csv(tmp_path / "out" / "dynamics.csv")
    assert lineages[["n_firms_2018", "n_firms_2021"]].values.tolist() == [[75, 85]]


# -- areas by name (klastergeo.io.registry.placement) ---------------------------------------------------

VILLAGES = [
    "Sukamaju",
    "Sukamulya",
    "Karanganyar",
    "Tegalrejo",
    "Jatisari",
    "Mojosari",
    "Sidomulyo",
    "Banjarsari",
    "Wonosari",
    "Purwosari",
    "Ngadirejo",
    "Kedungwaru",
    "Sumberejo",
    "Tanjungsari",
    "Gondang",
    "Pucanglaban",
    "Bendiljati",
    "Ringinpitu",
    "Kalangbret",
    "Boyolangu",
    "Campurdarat",
    "Besuki",
    "Bandung",
    "Pakel",
    "Kauman",
    "Ngunut",
    "Rejotangan",
    "Kalidawir",
    "Tulungrejo",
    "Ngantru",
    "Sendang",
    "Pagerwojo",
    "Gedangan",
    "Tapan",
    "Beji",
    "Sobontoro",
]


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same study with village names (``nama``), and the registry's run."""
    folder = tmp_path_factory.mktemp("named")
    registry = custom_study(folder, SHAPE, SENTRA, background=BACKGROUND, names=VILLAGES, seed=2)
    registry.to_csv(folder / "firms.csv", index=False)
    (folder / "quick.toml").write_text(
        f'[area]\nboundaries = "{folder / "desa.gpkg"}"\nid_col = "kode"\nname_col = "nama"\n'
        "[analysis]\npermutations = 0\n[pointpattern]\nenabled = false\n"
        '[report]\nfigures = "none"\n[map]\ntiles = "none"\n',
        encoding="utf-8",
    )
    done = runner.invoke(app, _args(folder, folder / "registry", "--records", "firms.csv"))
    assert done.exit_code == 0, done.output
    return folder


@pytest.mark.slow
def test_village_names_as_agencies_write_them(named: Path, tmp_path: Path) -> None:
    """Names in capitals, with kind words and a typo place the rows as codes do."""
    counts = planted()
    written = [f"Ds. {v.upper()}" if i % 3 == 0 else v for i, v in enumerate(VILLAGES)]
    written[6] = "Sidomulya"  # a typo (similarity above the threshold)
    wide = pd.DataFrame(
        {
            "Desa/Kelurahan": written,
            "Industri Makanan dan Minuman": counts["10"],
            "Industri Furnitur (KBLI 31)": counts["31"],
        }
    )
    done = _run(
        named, tmp_path, wide, "--set", "counts.sectors={'Industri Furnitur (KBLI 31)' = '31'}"
    )
    assert done.exit_code == 0, done.output
    pd.testing.assert_frame_equal(
        _areas(tmp_path / "out"), _areas(named / "registry"), check_exact=True
    )


def test_unknown_village_name_is_rejected_with_the_closest(named: Path, tmp_path: Path) -> None:
    counts = planted()
    wide = pd.DataFrame(
        {"Desa": VILLAGES, "Industri Makanan dan Minuman": counts["10"], "KBLI 31": counts["31"]}
    )
    wide.loc[0, "Desa"] = "Antah Berantah"
    done = _run(named, tmp_path, wide)
    assert done.exit_code == 0, done.output
    rejected = pd.read_csv(tmp_path / "out" / "rejected.csv", dtype=str)
    assert rejected[["row", "reason"]].values.tolist() == [["1", "unknown_area"]]
    assert "Antah Berantah" in rejected["detail"].iloc[0]


# -- real boundaries: one regency -----------------------------------------------------------


@pytest.mark.slow
def test_village_counts_of_a_regency_summed_per_kecamatan(tmp_path: Path, data_dir: Path) -> None:
    """Village codes without dots (as PODES exports them) analysed per kecamatan: each
    kecamatan's count is the sum of its villages' (closed form)."""
    villages = pd.read_parquet(data_dir / "desa.parquet", columns=["kode", "nama"])
    villages = villages.loc[villages["kode"].str.startswith("35.04.")].reset_index(drop=True)
    rng = np.random.default_rng(1)
    food, wood = rng.poisson(5, len(villages)), rng.poisson(2, len(villages))
    wide = pd.DataFrame(
        {
            "Kode Desa": villages["kode"].str.replace(".", "", regex=False),
            "Nama Desa": villages["nama"],
            "Industri Makanan dan Minuman": food,
            "Industri dari Kayu": wood,
        }
    )
    bps = {"Kode Desa": "3504050001", "Nama Desa": "x", "Industri Makanan dan Minuman": 1}
    wide = pd.concat([wide, pd.DataFrame([bps])], ignore_index=True)
    wide.to_csv(tmp_path / "podes.csv", index=False)
    args = ["run", "--counts", str(tmp_path / "podes.csv"), "--area", "35.04"]
    args += ["--level", "kecamatan", "--boundaries", str(data_dir), "--out", str(tmp_path / "o")]
    args += ["--permutations", "0", "--set", "report.figures=none", "--set", "map.tiles=none"]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    table = pd.read_parquet(tmp_path / "o" / "areas.parquet").astype({"area_code": str})
    got = table.pivot_table(index="area_code", columns="sector", values="n_firms")
    kecamatan = villages["kode"].str[:8]
    expected = pd.DataFrame({"10": food, "16": wood}).groupby(kecamatan.to_numpy()).sum()
    np.testing.assert_array_equal(got[["10", "16"]].to_numpy(), expected.to_numpy())
    rejected = pd.read_csv(tmp_path / "o" / "rejected.csv", dtype=str)
    assert rejected["reason"].tolist() == ["unknown_area"]
    assert (
        rejected["detail"]
        .iloc[0]
        .endswith(  # area_counts.BPS_HINT, in the run's language
            "; kode BPS (PODES, sensus) berbeda dari kode Kemendagri di bawah kabupaten/kota: "
            "berikan kode Kemendagri atau nama desanya"
        )
    )


def test_excel_table_as_bps_publishes_it(study: Path, tmp_path: Path) -> None:
    """A title above the table, a header over two rows (the area label merged down,
    the industry groups below 'Jenis Industri'), the row of column numbers, a workers
    column per group (a sum, not firms), a totals row and a source note."""
    counts = planted()
    top = ["Kode Wilayah", "Jenis Industri", "", "Tenaga Kerja Industri Kayu"]
    below = ["", "Industri Makanan dan Minuman", "KBLI 31", ""]
    body = [[k, f, w, 3 * w] for k, f, w in counts[["kode", "10", "31"]].to_numpy()]
    lines = [
        ["Tabel 5.3 Jumlah Industri Mikro dan Kecil menurut Desa, 2021", "", "", ""],
        ["", "", "", ""],
        top,
        below,
        ["(1)", "(2)", "(3)", "(4)"],
        *body,
        ["Jumlah", counts["10"].sum(), counts["31"].sum(), ""],
        ["Sumber: BPS, Potensi Desa 2021", "", "", ""],
    ]
    path = tmp_path / "tabel.xlsx"
    pd.DataFrame(lines).to_excel(path, index=False, header=False)
    done = runner.invoke(app, [*_args(study, tmp_path / "out"), "--counts", str(path)])
    assert done.exit_code == 0, done.output
    pd.testing.assert_frame_equal(
        _areas(tmp_path / "out"), _areas(study / "registry"), check_exact=True
    )
    assert len(pd.read_csv(tmp_path / "out" / "rejected.csv")) == 0
    skipped = pd.read_csv(tmp_path / "out" / "skipped.csv", dtype=str)
    assert skipped["kind"].tolist() == ["column_numbers", "total", "footnote"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"]["sectors"] == {"Industri Makanan dan Minuman": "10", "KBLI 31": "31"}
    assert "Tenaga Kerja Industri Kayu" in summary["counts"]["dropped_columns"]


@pytest.mark.parametrize(
    ("cell", "count"),
    [("12", 12.0), ("-", 0.0), ("", np.nan), ("...", np.nan), ("x", np.nan), ("1.234", 1234.0)],
)
def test_count_cells_as_bps_writes_them(cell: str, count: float) -> None:
    numbers, problem, _ = area_counts._counts(pd.Series([cell, "5"]), "Industri kayu")
    np.testing.assert_array_equal(numbers[:1], [count])
    assert problem.tolist() == ["", ""]


def test_missing_counts_file_and_h3_exit_2(study: Path, tmp_path: Path) -> None:
    args = [*_args(study, tmp_path / "out"), "--counts", "nowhere.csv"]
    done = runner.invoke(app, [*args, "--lang", "en"])  # the library's English message
    assert done.exit_code == 2
    assert "counts file 'nowhere.csv' does not exist" in done.output
    done = _run(study, tmp_path, _podes(planted()), "--level", "h3:8")
    assert done.exit_code == 2
    assert "counts per area (--counts) have none" in " ".join(done.output.split())


@pytest.mark.slow
def test_workers_quotients_need_every_sum(study: Path, tmp_path: Path) -> None:
    long = planted().melt(id_vars="kode", var_name="sektor", value_name="jumlah")
    long["tenaga_kerja"] = (long["jumlah"] * 2).astype(object)
    off = ("--set", "disclosure.enabled=false")  # the quotients of 1-firm cells shown
    done = _run(study, tmp_path, long, "--set", "sentra.lq_measure=workers", *off, name="l.csv")
    assert done.exit_code == 0, done.output
    # workers are twice the firms in every cell: the same quotients as of firms
    by_workers = _areas(tmp_path / "out")["lq"]
    pd.testing.assert_series_equal(by_workers, _areas(study / "registry")["lq"])
    long.loc[3, "tenaga_kerja"] = ""
    done = _run(study, tmp_path, long, "--set", "sentra.lq_measure=workers", name="l.csv")
    assert done.exit_code == 2
    assert "1 area x sector cell(s)" in " ".join(done.output.split())


def test_long_table_of_other_sectors_rejects_only_those_rows(study: Path, tmp_path: Path) -> None:
    """A long table listing trade beside manufacturing: the trade rows are rejected
    (invalid_sector), as a registry's records of no sector are, and every area stays."""
    long = planted().melt(id_vars="kode", var_name="kbli", value_name="jumlah")
    trade = planted()[["kode"]].assign(kbli="Perdagangan eceran", jumlah=4)
    done = _run(study, tmp_path, pd.concat([long, trade]), name="long.csv")
    assert done.exit_code == 0, done.output
    pd.testing.assert_frame_equal(
        _areas(tmp_path / "out"), _areas(study / "registry"), check_exact=True
    )
    rejected = pd.read_csv(tmp_path / "out" / "rejected.csv", dtype=str)
    assert set(rejected["reason"]) == {"invalid_sector"} and len(rejected) == 36


def test_run_counts_from_python(study: Path, tmp_path: Path) -> None:
    import klastergeo

    path = tmp_path / "podes.csv"
    _podes(planted()).to_csv(path, index=False)
    result = klastergeo.run_counts(
        path,
        boundaries=study / "desa.gpkg",
        out=tmp_path / "out",
        options={
            "area.id_col": "kode",
            "analysis.permutations": 0,
            "pointpattern.enabled": False,
            "report.figures": "none",
            "map.tiles": "none",
        },
    )
    assert result.sentra["n_firms"].tolist() == [75]
    assert len(result.firms) == 0
    pd.testing.assert_frame_equal(
        _areas(tmp_path / "out"), _areas(study / "registry"), check_exact=True
    )


def test_counts_without_a_period_with_strict_exit_2(study: Path, tmp_path: Path) -> None:
    first = planted().melt(id_vars="kode", var_name="kbli", value_name="jumlah")
    both = pd.concat([first.assign(tahun="2019"), first.assign(tahun="2023")])
    both.iloc[0, both.columns.get_loc("tahun")] = ""
    done = _run(study, tmp_path, both, "--period-col", "tahun", "--strict", name="imk.csv")
    assert done.exit_code == 2
    text = " ".join(done.output.split())
    assert "--strict: 1 record(s) of" in text and "imk.csv' have no period in 'tahun'" in text


@pytest.mark.slow
def test_counts_of_another_regency_stop_naming_where_they_lie(
    tmp_path: Path, data_dir: Path
) -> None:
    villages = pd.read_parquet(data_dir / "desa.parquet", columns=["kode"])
    villages = villages.loc[villages["kode"].str.startswith("35.04.")].reset_index(drop=True)
    wide = pd.DataFrame({"Kode Desa": villages["kode"], "Industri dari Kayu": 3})
    wide.to_csv(tmp_path / "podes.csv", index=False)
    args = ["run", "--counts", str(tmp_path / "podes.csv"), "--area", "35.05"]
    args += ["--boundaries", str(data_dir), "--out", str(tmp_path / "o"), "--lang", "en"]
    done = runner.invoke(app, args)
    assert done.exit_code == 2
    text = " ".join(done.output.split())
    assert "271 of the 271 records of" in text and "podes.csv" in text
    assert "35.04 Kabupaten Tulungagung: 271" in text
