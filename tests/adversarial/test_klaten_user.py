"""What an analyst in Kabupaten Klaten met running klastergeo in Indonesian (issue 28,
part F): the sub-step bar named in English for its first drawing and its rate with an
English thousands comma; English thousands commas inside the Indonesian details of
rejected rows; the workbook's rejected sheet with the spreadsheet row (``sheet_row``) as
an English header explained as an input column; a run over several surveys stopped by
its progress bar; a model page with raw fit keys and counts with four decimals."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import statsmodels.api as sm
from rich.console import Console
from rich.progress import Progress, TextColumn

from klastergeo.analysis import regression
from klastergeo.app import console as _console
from klastergeo.publish import messages, model_tables, report, sentences, site, workbook
from klastergeo.publish.record import AreasRecord, NotComputed, RunRecord


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_sub_step_is_named_in_the_run_language_from_its_first_drawing() -> None:
    """The bar of a step's parts is added under its Indonesian name (a refresh between
    adding and updating it drew "writing firms"), and its rate has Indonesian marks."""
    clock = _Clock()
    bars = Progress(
        console=Console(file=io.StringIO(), width=80), auto_refresh=False, get_time=clock
    )
    added: list[str] = []
    add_task = bars.add_task

    def spy(description: str, *args: Any, **kwargs: Any) -> Any:
        added.append(description)
        return add_task(description, *args, **kwargs)

    bars.add_task = spy  # type: ignore[method-assign]
    reporter = _console.RichReporter(bars, ("write",), "id")
    reporter.step("write")
    reporter.advance("writing firms", 0, 30_000)
    assert added[-1] == "  menulis usaha"
    for second in range(1, 4):
        clock.now = float(second)
        reporter.advance("writing firms", 2_500 * second, 30_000)
    rate = bars.tasks[-1].fields["rate"]
    assert rate == "2.500/s", rate


def test_numbers_in_indonesian_details_have_indonesian_marks() -> None:
    """A bound or a distance the reader states (``1,000,000``, ``1,700 m``) reads
    ``1.000.000`` and ``1.700 m`` in Indonesian; a value quoted from the file keeps its
    marks; area codes keep their dots; English is left as it is."""
    details = pd.Series(
        [
            "tenaga_kerja '-4' is not a number from 0 to 1,000,000 written with a decimal "
            "point (as column 'tenaga_kerja' writes them)",
            "the point lies 1,700 m from 33.10.04.2012 (code), in 33.10.11; placed by the "
            "area named",
            "nilai_produksi '1,234,567' is not a number from 0 to 10,000,000 written with a "
            "decimal point (as column 'nilai_produksi' writes them)",
        ]
    )
    said = sentences.detail_texts(details, "id").tolist()
    assert "sampai 1.000.000 yang" in said[0] and "1,000,000" not in said[0]
    assert said[1].startswith("titik berjarak 1.700 m dari 33.10.04.2012 (kode), di 33.10.11;")
    assert "'1,234,567'" in said[2] and "sampai 10.000.000 yang" in said[2]
    assert sentences.detail_texts(details, "en").equals(details)


def _klaten_book(folder: Path) -> Path:
    """A small Indonesian workbook with one rejected record of an Excel registry."""
    rejected = pd.DataFrame(
        {
            "id_usaha": ["KLT1"],
            "row": [1070],
            "sheet_row": [1071],
            "reason": ["outside_study_area"],
            "detail": ["lintang '-9.5' is more than 100 m from every area of the study area"],
        }
    )
    record = RunRecord(
        created="2026-12-07T06:00:00+00:00",
        areas=AreasRecord(level="desa", study_area="33.10", study_area_name="Kabupaten Klaten"),
    )
    path = workbook.write_workbook(
        folder / "results.xlsx",
        summary=record,
        sentra=pd.DataFrame({"sentra_id": ["24-01"], "sector": ["24"], "n_firms": [164]}),
        areas=pd.DataFrame({"area_code": ["33.10.11.2015"], "name": ["Tegalrejo"]}),
        global_stats=pd.DataFrame({"n_firms": [164]}, index=pd.Index(["24"], name="sector")),
        coefficients={},
        rejected=rejected,
        lang="id",
    )
    return path


def test_the_spreadsheet_row_of_a_rejected_record_is_ours(tmp_path: Path) -> None:
    """``sheet_row`` (added by the reader of an Excel registry) is headed and explained
    in Indonesian, as ``row`` is, not as a column of the input file."""
    path = _klaten_book(tmp_path)
    book = openpyxl.load_workbook(path)
    t = workbook.SHEETS["id"]
    sheet = book[t["rejected"]]
    header = [c.value for c in sheet[1]]
    assert header == ["id_usaha", "Baris", "Baris lembar", "Alasan", "Rincian"], header
    assert sheet.cell(2, 3).value == 1071
    assert sheet.cell(2, 3).number_format in ("General", "0")  # no thousands mark
    notes = {(r[0], r[1]): r[3] for r in book[t["notes"]].iter_rows(min_row=2, values_only=True)}
    assert notes[(t["rejected"], "Baris lembar")].startswith("Nomor baris")
    assert notes[(t["rejected"], "id_usaha")] == "Kolom dari berkas data masukan, seperti terbaca."


def test_a_run_over_surveys_keeps_the_rate_column_of_its_bar() -> None:
    """``klastergeo run --records a.csv --records b.csv`` on a terminal stopped at once
    with "galat internal: KeyError: 'rate'": starting a survey reset the bar's fields,
    and the rate column of :func:`klastergeo.app.console.progress` reads one."""
    rate = TextColumn("{task.fields[rate]}")
    bars = Progress(
        rate, console=Console(file=io.StringIO(), width=80), auto_refresh=False, get_time=_Clock()
    )
    reporter = _console.RichReporter(bars, ("read", "profile"), "id")
    reporter.survey("2021", 1, 2)
    reporter.step("read")
    assert rate.render(bars.tasks[0]).plain == ""
    bars.refresh()


def test_a_model_page_names_every_fit_statistic_and_keeps_counts_whole() -> None:
    """``klastergeo model --lang id`` on a registry with firm points: its page listed
    ``residual_moran_moran_i`` ... as raw keys and counts as ``2882,0000``. Spector and
    Mazzeo's survey (statsmodels) with the residual Moran statistics the pipeline adds."""
    data = sm.datasets.spector.load_pandas().data
    result = regression.fit(data, "GRADE", ["GPA", "TUCE", "PSI"], kind="logit")
    result.fit.update(
        {
            "residual_moran_moran_i": 0.29,
            "residual_moran_expected": -0.0025,
            "residual_moran_z": 10.25,
            "residual_moran_p_norm": 1e-24,
            "residual_moran_p_sim": 0.002,
        }
    )
    page = model_tables.to_html(result, lang="id")
    assert "residual_moran" not in page
    assert "I Moran residu per wilayah" in page
    assert "<td>32</td>" in page.replace(" ", "")  # n = 32 firms, not 32,0000
    assert "32,0000" not in page
    assert "-0,0025" in page  # decimals keep theirs


def test_the_report_names_a_step_not_computed_in_the_run_language() -> None:
    """The report's "Tidak dihitung" table gave the step as ``profile``, the terminal
    as ``profil``."""
    summary = RunRecord(
        created="2026-12-07T06:00:00+00:00",
        areas=AreasRecord(level="desa", study_area="33.10", study_area_name="Kabupaten Klaten"),
        not_computed=[NotComputed("profile", "Markusen typology by workers", "no workers")],
    )
    sentra = pd.DataFrame({"sentra_id": ["24-01"], "sector": ["24"], "n_firms": [164]})
    stats = pd.DataFrame({"n_firms": [164]}, index=pd.Index(["24"], name="sector"))
    page = report.build_report(summary, sentra=sentra, global_stats=stats, lang="id")
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    assert "profil" in cells and "profile" not in cells, cells


def test_a_published_workbook_explains_only_the_sheets_it_holds(tmp_path: Path) -> None:
    """``klastergeo publish`` drops the rejected records' sheet; its legend rows (the
    input's column names, the reasons' codes) went on describing the missing sheet."""
    path = site.public_workbook(_klaten_book(tmp_path), tmp_path / "public.xlsx")
    book = openpyxl.load_workbook(path)
    t = workbook.SHEETS["id"]
    assert t["rejected"] not in book.sheetnames
    legend = list(book[t["notes"]].iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in legend} >= {t["summary"], t["sentra"]}
    assert t["rejected"] not in {r[0] for r in legend}
    assert not [r for r in legend if "id_usaha" in r or "outside_study_area" in r]
    shown = {str(c.value) for s in book.worksheets if s.title != t["notes"] for c in s[1]}
    assert {r[1] for r in legend if r[0] != t["codes"]} <= shown
    assert book[t["notes"]].auto_filter.ref in (None, f"A1:D{len(legend) + 1}")


def test_the_areas_sheet_tells_two_villages_of_one_name_apart(tmp_path: Path) -> None:
    """Klaten has two villages named Tegalrejo (33.10.04.2012 in Bayat, 33.10.11.2015 in
    Ceper): the areas sheet gave code and name only; it now gives the parents' names
    that ``areas.gpkg`` has, headed and explained in Indonesian."""
    layer = pd.DataFrame(
        {
            "name": ["Tegalrejo", "Tegalrejo"],
            "kecamatan": ["Bayat", "Ceper"],
            "kabupaten": ["Kabupaten Klaten"] * 2,
            "provinsi": ["Jawa Tengah"] * 2,
            "n_firms": [58, 56],
            "n_firms_24": [0, 48],
            "lq_24": [0.0, 17.1],
            "lq_low_24": [0.0, 14.3],
        },
        index=pd.Index(["33.10.04.2012", "33.10.11.2015"], name="area_code"),
    )
    areas = workbook.key_columns(layer)
    assert list(areas.columns[:5]) == ["area_code", "name", "kecamatan", "kabupaten", "provinsi"]
    record = RunRecord(
        created="2026-12-07T06:00:00+00:00",
        areas=AreasRecord(level="desa", study_area="33.10", study_area_name="Kabupaten Klaten"),
    )
    path = workbook.write_workbook(
        tmp_path / "results.xlsx",
        summary=record,
        sentra=pd.DataFrame({"sentra_id": ["24-01"], "sector": ["24"], "n_firms": [164]}),
        areas=areas,
        global_stats=pd.DataFrame({"n_firms": [164]}, index=pd.Index(["24"], name="sector")),
        coefficients={},
        rejected=pd.DataFrame(columns=["row", "reason", "detail"]),
        lang="id",
    )
    book = openpyxl.load_workbook(path)
    t = workbook.SHEETS["id"]
    rows = list(book[t["areas"]].iter_rows(values_only=True))
    assert rows[0][:5] == ("Kode wilayah", "Nama", "Kecamatan", "Kabupaten/kota", "Provinsi")
    assert {r[1:3] for r in rows[1:]} == {("Tegalrejo", "Bayat"), ("Tegalrejo", "Ceper")}
    notes = {(r[0], r[1]): r[3] for r in book[t["notes"]].iter_rows(values_only=True)}
    assert notes[(t["areas"], "Kecamatan")] == "Nama kecamatan wilayah ini."


def test_an_ambiguous_village_is_explained_in_indonesian() -> None:
    """A Klaten registry placing firms by name: "Tegalrejo" without its kecamatan, and a
    name in a kecamatan, were explained as "desa 'Tegalrejo' names 2 wilayah" and
    "(in kecamatan 'Ceper')"."""
    details = pd.Series(
        [
            "desa 'Tegalrejo' names 2 areas: 33.10.04.2012 Tegalrejo (Bayat); "
            "33.10.11.2015 Tegalrejo (Ceper)",
            "desa 'Tegalreja X' (in kecamatan 'Ceper') is not the name of a desa of the study "
            "area (closest: Meger (31); a similarity of at least 80 is taken)",
            "desa 'Jetis' (in kabupaten 'Klaten') names 4 areas: 33.10.10.2005 Jetis",
        ]
    )
    said = sentences.detail_texts(details, "id").tolist()
    assert said[0].startswith("desa 'Tegalrejo' cocok dengan 2 wilayah: 33.10.04.2012")
    assert said[1].startswith("desa 'Tegalreja X' (di kecamatan 'Ceper') bukan nama desa")
    assert (
        said[2]
        == "desa 'Jetis' (di kabupaten 'Klaten') cocok dengan 4 wilayah: 33.10.10.2005 Jetis"
    )


def test_output_per_worker_keeps_its_decimals(tmp_path: Path) -> None:
    """The workbook of a run over the 2021 and 2024 surveys showed output per worker
    (Rp juta) without decimals: 27.97 and 27.58 both as 28, 0.2 as 0."""
    lineages = pd.DataFrame(
        {
            "lineage_id": ["L13-01", "L23-01"],
            "sector": ["13", "23"],
            "output_per_worker_2021": [27.96504854368932, 0.2],
            "output_per_worker_2024": [27.57826086956522, 0.18],
        }
    )
    path = workbook.write_period_workbook(
        tmp_path / "results.xlsx",
        created="2026-12-07T06:00:00+00:00",
        study_area=("33.10", "Kabupaten Klaten"),
        periods=["2021", "2024"],
        tables={"lineages": lineages},
        lang="id",
    )
    sheet = openpyxl.load_workbook(path)[workbook.SHEETS["id"]["lineages"]]
    header = [c.value for c in sheet[1]]
    column = header.index("Produksi per tenaga kerja 2021") + 1
    cells = [sheet.cell(row, column) for row in (2, 3)]
    assert [c.value for c in cells] == [27.96504854368932, 0.2]
    assert {c.number_format for c in cells} == {"#,##0.00"}


def test_the_terminal_calls_lineages_as_the_workbook_does() -> None:
    """A run over two surveys printed "garis keturunan sentra" (a family tree) where the
    workbook, the index page and the report say "riwayat sentra"."""
    said = messages.text("terminal", "id")
    sheet = workbook.SHEETS["id"]["lineages"]
    assert said["lineages_file"] == sheet.lower() == "riwayat sentra"
    assert said["lineages"].startswith("riwayat sentra: ")


def test_the_index_page_names_the_study_area(tmp_path: Path) -> None:
    """The landing page of the Klaten run was headed "Sentra industri kecil dan
    menengah", while its map and report name Kabupaten Klaten."""
    record = RunRecord(
        created="2026-12-07T06:00:00+00:00",
        areas=AreasRecord(level="desa", study_area="33.10", study_area_name="Kabupaten Klaten"),
    )
    page = site.index_page(record, tmp_path, lang="id")
    assert "<title>Sentra industri kecil dan menengah Kabupaten Klaten</title>" in page
    assert "<h1>Sentra industri kecil dan menengah Kabupaten Klaten</h1>" in page
    named = site.index_page(record, tmp_path, lang="id", title="Sentra IKM Klaten")
    assert "<h1>Sentra IKM Klaten Kabupaten Klaten</h1>" in named
    own = site.index_page(record, tmp_path, lang="id", title="IKM Kabupaten Klaten 2024")
    assert "<h1>IKM Kabupaten Klaten 2024</h1>" in own


def test_the_legend_gives_the_unit_of_output() -> None:
    """The workbook's legend said output was "in the registry's unit"; every table
    states it in Rp juta (a registry in Rp or Rp ribu is converted as it is read)."""
    for lang in ("id", "en"):
        notes = messages.text("column_notes", lang)
        assert "Rp juta" in notes["output"] and "Rp juta" in notes["investment"], lang
