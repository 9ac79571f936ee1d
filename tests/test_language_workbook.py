"""The workbook and the CSV texts speak the run's language (issue 28, items 1-2): every
header, label and text cell of an Indonesian ``results.xlsx`` is free of a list of English
words, numbers carry formats, columns are fitted, the legend (``Keterangan``) names every
column of every sheet, the summary names the study area; a run over several surveys has a
workbook of its own; the CSV files' sentences are Indonesian too."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.publish import messages, sentences, workbook
from klastergeo.publish.record import AreasRecord, RunRecord
from tests.worlds.language import english
from tests.worlds.lattice import custom_study, lattice_args

openpyxl = pytest.importorskip("openpyxl")
runner = CliRunner()
#: A cell that is a code kept as text (an area code, a sentra id, a KBLI code, a snake_case
#: code of a machine-readable column): not a sentence.
CODE = re.compile(r"^[a-z0-9_.;:\-]*$")


def _registry(folder: Path) -> pd.DataFrame:
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=3
    )
    registry["nama"] = [f"UD {i}" for i in range(len(registry))]
    return registry


@pytest.fixture(scope="module")
def indonesian_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Indonesian run with a sentra, a near miss or two, models and rejected rows."""
    folder = tmp_path_factory.mktemp("buku")
    registry = _registry(folder)
    bad = registry.iloc[:2].assign(lat="bukan angka")
    pd.concat([registry, bad], ignore_index=True).to_csv(folder / "usaha.csv", index=False)
    out = folder / "keluaran"
    result = runner.invoke(
        app,
        lattice_args(
            "run", folder, out, "--permutations", "99", "--tiles", "none",
            "--set", "pointpattern.enabled=false", "--set", "report.figures=none",
            records="usaha.csv",
        ),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _sheets(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path)
    return {s.title: list(s.iter_rows(values_only=True)) for s in book.worksheets}


def _legend_columns(rows: list[tuple], titles: set[str]) -> dict[str, set[str]]:
    """The legend's column rows: sheet -> the headers it explains."""
    out: dict[str, set[str]] = {}
    for sheet, header, _, _ in rows[1:]:
        if sheet in titles:
            out.setdefault(sheet, set()).add(header)
    return out


@pytest.mark.slow
def test_indonesian_workbook_has_no_english_words(indonesian_run: Path) -> None:
    sheets = _sheets(indonesian_run / "results.xlsx")
    t = workbook.SHEETS["id"]
    assert list(sheets)[-1] == t["notes"] == "Keterangan"
    rejected = sheets[t["rejected"]]
    own = {"id", "lat", "lon", "kbli", "workers", "nama"}  # the registry's own columns
    found: dict[str, set[str]] = {}
    for title, rows in sheets.items():
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if not isinstance(value, str) or CODE.match(value):
                    continue
                if title == t["notes"] and c == 2 and r > 0:
                    continue  # the files' column names and codes: the mapping column
                if title == t["rejected"] and rejected[0][c] in own:
                    continue  # the input row as read
                words = english(value)
                if words:
                    found.setdefault(title, set()).update(words)
    assert not found, found
    assert [row[0] for row in rejected[1:]] and {row[7] for row in rejected[1:]} == {
        "koordinat kosong"
    }
    assert all("lat bukan koordinat (diterima: " in row[8] for row in rejected[1:])


def test_detail_phrases_in_indonesian() -> None:
    """The detail sentences of the registry's reader, phrase by phrase, the quoted
    values kept; English stays as it was."""
    details = pd.Series(
        [
            "kbli 'abc' is not a KBLI code of 2 to 5 digits in a known division",
            "id 'A7' is already used by row 3",
            "lat '0', lon '0' is (0, 0)",
            "workers '-3' is not a number from 0 to 100,000 written with a decimal point "
            "(as column 'workers' writes them)",
            "the point lies 1,700 m from 99.00 (code), in 99.01; placed by the area named",
            "desa 'Nowhere' is not the name of a desa of the study area (closest: r0c0 (40); "
            "a similarity of at least 80 is taken)",
            None,
        ]
    )
    said = sentences.detail_texts(details, "id")
    assert said.tolist()[:5] == [
        "kbli 'abc' bukan kode KBLI 2 sampai 5 digit dalam golongan pokok yang dikenal",
        "id 'A7' sudah dipakai baris 3",
        "lat '0', lon '0' bernilai (0, 0)",
        "workers '-3' bukan angka dari 0 sampai 100.000 yang ditulis dengan titik desimal "
        "(seperti kolom 'workers' menuliskannya)",
        "titik berjarak 1.700 m dari 99.00 (kode), di 99.01; ditempatkan menurut wilayah "
        "yang disebut",
    ]
    assert said.iloc[5] == (
        "desa 'Nowhere' bukan nama desa di wilayah studi (terdekat: r0c0 (40); kemiripan "
        "paling sedikit 80 diterima)"
    )
    assert pd.isna(said.iloc[6])
    assert not english(" ".join(said.dropna()).replace("'workers'", ""))
    assert sentences.detail_texts(details, "en").equals(details)


def test_english_workbook_stays_english(tmp_path: Path) -> None:
    """The check can fail: the English workbook is full of the listed words."""
    path = _small_book(tmp_path, "en")
    text = " ".join(
        str(v) for rows in _sheets(path).values() for row in rows for v in row if v is not None
    )
    assert len(english(text)) >= 10, english(text)


def _small_book(
    folder: Path,
    lang: str,
    terms: tuple[str, str] = ("const", "workers"),
    roles: dict[str, str] | None = None,
) -> Path:
    sentra = pd.DataFrame(
        {
            "sentra_id": ["31-01"],
            "sector": ["31"],
            "name": ["Tumang"],
            "n_firms": [75],
            "workers": [1944],
            "lq": [2.76100336778539],
            "sector_share": [0.6880733944954128],
            "spec_p_min": [1.2e-9],
            "stage": ["advance"],
            "typology": ["marshallian"],
        }
    )
    areas = pd.DataFrame(
        {
            "area_code": ["33.09.03.2001", "33.09.03.2002"],
            "name": ["Tumang", "Cepogo"],
            "n_firms": [50, 3],
            "lq_31": [2.5, 0.4],
            "spec_bin_31": [3, -1],
        }
    )
    global_stats = pd.DataFrame(
        {"n_firms": [109], "moran_i": [0.065], "p_norm": [0.0134]},
        index=pd.Index(["31"], name="sector"),
    )
    rejected = pd.DataFrame(
        {"id": ["X1"], "row": [7], "reason": ["invalid_sector"], "detail": ["kbli 'abc'"]}
    )
    record = RunRecord(
        created="2026-12-06T23:10:00+00:00",
        areas=AreasRecord(level="desa", study_area="33.10", study_area_name="Kabupaten Klaten"),
    )
    return workbook.write_workbook(
        folder / f"{lang}.xlsx",
        summary=record,
        sentra=sentra,
        areas=areas,
        global_stats=global_stats,
        coefficients={
            "logit": pd.DataFrame(
                {"term": list(terms), "estimate": [-4.07, 1.2e-5], "p_value": [1e-5, 0.2]}
            )
        },
        rejected=rejected,
        lang=lang,
        roles=roles,
    )


def test_formats_widths_legend_and_study_area(tmp_path: Path) -> None:
    path = _small_book(tmp_path, "id")
    book = openpyxl.load_workbook(path)
    t = workbook.SHEETS["id"]
    sentra = book[t["sentra"]]
    header = {c.value: c.column_letter for c in sentra[1]}
    assert sentra[f"{header['LQ']}2"].number_format == "0.00"
    assert sentra[f"{header['Pangsa sektor']}2"].number_format == "0.0%"
    p_cell = sentra[f"{header['p spesialisasi terkecil']}2"]
    assert p_cell.number_format == '[<0.001]"< 0,001";0.000'
    assert sentra[f"{header['Tenaga kerja']}2"].number_format == "#,##0"
    assert sentra[f"{header['Usaha']}2"].number_format == "General"  # 75: shown alike
    assert sentra[f"{header['Tahap']}2"].value == "maju"  # the code in words
    assert sentra[f"{header['Tipe Markusen']}2"].value == "Distrik Marshall"
    width = {k: sentra.column_dimensions[v].width for k, v in header.items()}
    assert width["p spesialisasi terkecil"] > width["LQ"] >= 6
    assert sentra.freeze_panes == "A2" and sentra.auto_filter.ref
    models = list(book[t["models"]].iter_rows(min_row=1, max_row=3))
    names = [c.value for c in models[0]]
    assert names == ["Variabel", "Koefisien", "p", "Model"]
    assert [c.value for c in models[2]] == ["Tenaga kerja", 1.2e-5, 0.2, "Logit"]
    assert models[2][1].number_format == "General"  # a small coefficient keeps its digits
    assert models[1][2].number_format == models[2][2].number_format == p_cell.number_format
    # the summary names the study area, then gives its code
    summary = {r[0]: r[1] for r in book[t["summary"]].iter_rows(values_only=True)}
    assert summary[t["study_area"]] == "Kabupaten Klaten"
    assert summary[t["study_area_code"]] == "33.10"
    assert summary[t["created"]] == "6 Desember 2026"
    # the legend names every column of every sheet, and the class codes shown
    sheets = _sheets(path)
    legend = sheets[t["notes"]]
    titles = {s for s in sheets if s != t["notes"]}
    explained = _legend_columns(legend, titles)
    assert explained == {s: set(sheets[s][0]) for s in titles}
    codes = {(r[1], r[2]): r[3] for r in legend if r[0] == t["codes"]}
    assert codes[("Spesialisasi (kelas)", "3")] == "Titik panas 99 %"
    assert codes[("Tahap", "advance")] == "maju"
    assert codes[("Alasan", "invalid_sector")] == "kode sektor tidak sah"
    assert ("Kuadran LISA", "0") not in codes  # only the columns shown
    assert workbook.firm_sheets("id") == (t["rejected"],)


@pytest.mark.slow
def test_indonesian_csv_texts(indonesian_run: Path) -> None:
    """Every CSV text column holds codes or Indonesian sentences (the rejected rows'
    own columns aside: the input as read); codes stay text (area codes with leading
    zeros)."""
    found: dict[tuple[str, str], set[str]] = {}
    for path in sorted(indonesian_run.rglob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            for column, value in row.items():
                if path.name == "rejected.csv" and column in ("lat", "nama"):
                    continue
                if not value or CODE.match(value) or re.fullmatch(r"[-+0-9.eE]+", value):
                    continue
                words = english(value)
                if words:
                    found.setdefault((path.name, column), set()).update(words)
    assert not found, found
    candidates = pd.read_csv(indonesian_run / "candidates.csv", dtype=str)
    if len(candidates):
        assert candidates["reason"].str.contains("usaha").all()
    rejected = pd.read_csv(indonesian_run / "rejected.csv", dtype=str)
    assert set(rejected["reason"]) == {"missing_coordinates"}
    assert set(rejected["reason_text"]) == {"koordinat kosong"}
    assert (
        rejected["detail"]
        .str.contains("bukan koordinat (diterima: derajat desimal", regex=False)
        .all()
    )
    sentra = pd.read_csv(indonesian_run / "sentra.csv", dtype=str)
    assert sentra["core_area"].str.match(r"^\d{2}\.\d{2}$").all()
    diagnosis = pd.read_csv(indonesian_run / "diagnosis.csv", dtype=str)
    assert len(diagnosis) and set(diagnosis["stage"]) == {"unknown"}  # no survey
    assert set(diagnosis["stage_text"]) == {"tidak tersedia"}  # the code in words


@pytest.mark.slow
def test_a_run_over_several_surveys_has_a_workbook(tmp_path: Path) -> None:
    parts = []
    for year, (a, b) in {2016: (20, 15), 2019: (30, 25), 2023: (45, 30)}.items():
        part = custom_study(
            tmp_path, (6, 6), {"r2c2": a, "r2c3": b}, background={"10": 6, "31": 1}, seed=year
        )
        parts.append(part.assign(id=part["id"] + f"-{year}", tahun=str(year)))
    pd.concat(parts, ignore_index=True).to_csv(tmp_path / "ukm.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        lattice_args(
            "run", tmp_path, out, "--period-col", "tahun", "--permutations", "0",
            "--tiles", "none", "--set", "report.figures=none",
            "--set", "pointpattern.enabled=false", records="ukm.csv",
        ),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sheets = _sheets(out / "results.xlsx")
    t = workbook.SHEETS["id"]
    assert t["rejected"] not in sheets  # no firm-level rows
    lineages = sheets[t["lineages"]]
    assert {"Usaha 2016", "Usaha 2019", "Usaha 2023", "Arah"} <= set(lineages[0])
    assert lineages[1][lineages[0].index("Arah")] == "tumbuh"
    indicators = sheets[t["indicators"]]
    assert {"Usaha 2016", "Usaha 2023", "Perubahan usaha"} <= set(indicators[0])
    assert "Semua" in {row[0] for row in indicators[1:]}
    titles = {s for s in sheets if s != t["notes"]}
    explained = _legend_columns(sheets[t["notes"]], titles)
    assert explained == {s: set(sheets[s][0]) for s in titles}
    text = " ".join(
        str(v)
        for title, rows in sheets.items()
        for row in rows
        for c, v in enumerate(row)
        if isinstance(v, str) and not CODE.match(v) and not (title == t["notes"] and c == 2)
    )
    assert not english(text), english(text)


def test_the_study_area_is_named_from_the_boundaries(data_dir: Path) -> None:
    """The name the summary sheet shows comes from the national boundaries."""
    from klastergeo.app.pipeline.study import study_area_name

    assert study_area_name("33.10", data_dir) == "Kabupaten Klaten"
    assert study_area_name("33", data_dir) == "Jawa Tengah"
    assert study_area_name("33.99", data_dir) is None  # no such regency
    assert study_area_name(None, data_dir) is None
    assert study_area_name("33.10", data_dir / "desa.parquet") is None  # a file of its own


#: Every code the analysis writes into a CSV code column, by file and column
#: (analysis.colocation: roles and missing-link reasons; analysis.pointpattern: the
#: Clark-Evans pattern; analysis.diagnosis: the stage).
CSV_CODES = {
    "missing_links": {
        "role": ["supplier", "buyer", "supporting", "related"],
        "reason": ["not_in_registry", "too_few_nearby", "not_colocated"],
    },
    "related": {"role": ["supplier", "buyer", "supporting", "related", "co-located"]},
    "clark_evans": {"pattern": ["clustered", "dispersed", "random"]},
    "diagnosis": {"stage": ["survival", "advance", "mature", "unknown"]},
}


def test_csv_code_columns_get_texts_in_the_runs_language() -> None:
    """``missing_links.csv`` ``reason`` (``not_in_registry``), ``related.csv`` ``role``,
    ``clark_evans.csv`` ``pattern``, ``diagnosis.csv`` ``stage``: each gets a
    ``<column>_text`` right after it (the code stays), Indonesian in an Indonesian run
    and English in an English one."""
    said: dict[str, list[str]] = {"id": [], "en": []}
    for stem, columns in CSV_CODES.items():
        longest = max(len(codes) for codes in columns.values())
        frame = pd.DataFrame(
            {c: (codes * longest)[:longest] for c, codes in columns.items()}
        ).assign(n=1)
        for lang in said:
            out = sentences.code_texts(frame, stem, lang)
            names = list(out.columns)
            for column in columns:
                assert names[names.index(column) + 1] == f"{column}_text", (stem, names)
                assert out[column].tolist() == frame[column].tolist()  # the codes stay
                texts = out[f"{column}_text"]
                group = sentences.CODE_TEXTS[stem][column]
                assert set(frame[column]) <= set(messages.text(group, lang)), (stem, column)
                said[lang] += texts.tolist()
    assert not english(" ".join(said["id"])), english(" ".join(said["id"]))
    assert len(english(" ".join(said["en"]))) >= 8, english(" ".join(said["en"]))
    assert all(a != b for a, b in zip(said["id"], said["en"], strict=True))
    assert list(sentences.code_texts(pd.DataFrame({"x": [1]}), "related", "id")) == ["x"]


def test_the_models_sheet_titles_terms_as_the_model_pages(tmp_path: Path) -> None:
    """A predictor keeps the registry's name (``tenaga_kerja``, read as ``workers``):
    the models sheet titles it by its role, a logged one too, as the model pages do."""

    roles = {"tenaga_kerja": "workers"}
    path = _small_book(tmp_path, "id", ("const", "log(tenaga_kerja)"), roles)
    sheet = openpyxl.load_workbook(path)[workbook.SHEETS["id"]["models"]]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        "Konstanta",
        "log(Tenaga kerja)",
    ]
    assert [messages.term_title(t, "id", roles) for t in ("const", "log(tenaga_kerja)")] == [
        "Konstanta",
        "log(Tenaga kerja)",
    ]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_class_codes_read_alike_in_the_legend_and_the_gis_layers(lang: str, tmp_path: Path) -> None:
    """``spec_bin`` 3 was "terspesialisasi, keyakinan 99 %" in the legend and "Titik
    panas 99 %" on the map and in the layers: one wording in both languages, the
    neighbourhood's hot spot (an area without firms of the sector can be in one)."""
    from klastergeo.publish import gis_style

    labels = messages.class_labels("spec_bin", lang)
    assert labels[3] == {"id": "Titik panas 99 %", "en": "Hot spot 99 %"}[lang]
    book = openpyxl.load_workbook(_small_book(tmp_path, lang))
    t = workbook.SHEETS[lang]
    header = messages.label("columns", "spec_bin", lang)
    legend = {
        int(r[2]): r[3]
        for r in book[t["notes"]].iter_rows(values_only=True)
        if r[0] == t["codes"] and r[1] == header
    }
    assert legend == labels
    described = gis_style.field_titles(["spec_bin_31"], lang=lang)["spec_bin_31"][1]
    assert described == "; ".join(f"{code} = {text}" for code, text in labels.items())
