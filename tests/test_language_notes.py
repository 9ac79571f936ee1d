"""What a run could not compute, in the run's language (issue 28, item 5): every note is
a ``what`` and a ``why`` key of the catalogue's ``notes`` group with its values, so the
report's "Tidak dihitung" table, the console and the workbook of an Indonesian run carry
no English sentence, while ``summary.json`` keeps the English and the keys (machine
readable) and an English run keeps its English sentences."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import klastergeo.app.pipeline as pipeline_pkg
from klastergeo.app.cli import app
from klastergeo.app.pipeline._steps import Notes
from klastergeo.publish import messages
from klastergeo.publish.record import NotComputed
from tests.worlds.language import english, visible
from tests.worlds.lattice import custom_study, firms_in, lattice

runner = CliRunner()
NOTES = messages.MESSAGES["notes"]
#: The console's labels of a note, in Indonesian.
LABELS = tuple(messages.text("terminal", "id")[k] for k in ("not_computed", "partly_computed"))
#: Option names (``analysis.min_sector_firms``) are code, as flags and file names are.
OPTION = re.compile(r"\b[a-z]+\.[a-z]+_[a-z_]+\b")


def _english(text: str, errors: list[str] | tuple[str, ...] = ()) -> set[str]:
    """The listed English words of ``text`` but in option names and in the library's
    own messages (``errors``: they stay English, their frame is translated)."""
    for error in errors:
        text = text.replace(error, " ")
    return english(OPTION.sub(" ", text))


def _errors(out: Path) -> list[str]:
    """The library's messages the notes of a run carry."""
    items = json.loads((out / "summary.json").read_text("utf-8"))["not_computed"]
    return [item["params"]["error"] for item in items if "error" in item["params"]]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 x 6 custom study; its registry of one sector with every third firm placed by
    its village code alone (no point); a registry of two sectors and its counts per
    village (a long table); a study of two villages and its firms."""
    folder = tmp_path_factory.mktemp("notes")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=2
    )
    registry.to_csv(folder / "firms.csv", index=False)
    cells = pd.read_csv(folder / "firms.csv", dtype=str)
    by_code = np.arange(len(cells)) % 3 == 0
    codes = _village_codes(folder, registry)
    cells.assign(
        kbli="31001",
        kode_desa=codes,
        lat=np.where(by_code, "", cells["lat"]),
        lon=np.where(by_code, "", cells["lon"]),
    ).to_csv(folder / "one_sector.csv", index=False)
    counts = (
        pd.DataFrame({"kode": codes, "KBLI": registry["kbli"].str[:2]})
        .value_counts()
        .rename("Jumlah Usaha")
        .reset_index()
    )
    counts.to_csv(folder / "counts.csv", index=False)
    two = lattice(1, 2)
    two["kode"] = ["99.01", "99.02"]
    two.reset_index(drop=True).to_crs(4326).to_file(folder / "two.gpkg")
    firms = firms_in(two, {"r0c0": {"31": 30}, "r0c1": {"10": 25}})
    pd.DataFrame(
        {
            "id": range(len(firms)),
            "lat": firms.geometry.y,
            "lon": firms.geometry.x,
            "kbli": firms["sector"] + "001",
        }
    ).to_csv(folder / "two.csv", index=False)
    (folder / "quick.toml").write_text(
        f'[area]\nboundaries = {json.dumps(str(folder / "desa.gpkg"))}\nid_col = "kode"\n'
        "[analysis]\npermutations = 0\n[pointpattern]\nsimulations = 9\n"
        '[report]\nfigures = "none"\n[map]\ntiles = "none"\n'
        "[colocation]\npermutations = 9\n",
        encoding="utf-8",
    )
    quick = (folder / "quick.toml").read_text(encoding="utf-8")
    (folder / "few.toml").write_text(
        quick.replace("permutations = 0\n", "permutations = 0\nmin_sector_firms = 500\n", 1),
        encoding="utf-8",
    )
    return folder


def _village_codes(folder: Path, registry: pd.DataFrame) -> np.ndarray:
    import geopandas as gpd

    cells = gpd.read_file(folder / "desa.gpkg")
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(registry["lon"], registry["lat"]), crs=4326
    )
    located = gpd.sjoin(points, cells[["kode", "geometry"]], predicate="within")
    codes = located["kode"].reindex(registry.index)
    assert codes.notna().all()
    return codes.to_numpy()


def _run(study: Path, out: Path, lang: str, config: str, *given: str) -> str:
    done = runner.invoke(
        app,
        ["run", "--config", str(study / config), "--out", str(out), "--lang", lang, *given],
        catch_exceptions=False,
    )
    assert done.exit_code == 0, done.output
    return done.output


@pytest.fixture(scope="module")
def runs(study: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Each run's folder and console output: one sector with firms without a point and
    a measure nobody reports (Indonesian and English); counts per village with a measure
    asked (every firm-level step noted); two sectors with too few firms each."""
    base = tmp_path_factory.mktemp("runs")
    one = ("--records", str(study / "one_sector.csv"), "--measure", "investment")
    counts = ("--counts", str(study / "counts.csv"), "--measure", "workers")
    few = ("--records", str(study / "firms.csv"))
    two = ("--records", str(study / "two.csv"), "--boundaries", str(study / "two.gpkg"))
    made = {
        "one_id": ("id", "quick.toml", one),
        "one_en": ("en", "quick.toml", one),
        "counts_id": ("id", "quick.toml", counts),
        "few_id": ("id", "few.toml", few),
        "two_id": ("id", "quick.toml", two),
    }
    return {
        name: (base / name, _run(study, base / name, lang, config, *given))
        for name, (lang, config, given) in made.items()
    }


def _keys(out: Path) -> set[tuple[str, str]]:
    items = json.loads((out / "summary.json").read_text("utf-8"))["not_computed"]
    return {(item["what_key"], item["why_key"]) for item in items}


def _report_section(out: Path, lang: str) -> str:
    page = (out / "report.html").read_text("utf-8")
    heading = messages.text("report", lang)["not_computed"]
    section = page.split(f"<h2>{heading}</h2>", 1)[1].split("<h2", 1)[0]
    return visible(section)


def _console_notes(output: str, labels: tuple[str, ...]) -> list[str]:
    return [line for line in output.splitlines() if line.strip().startswith(labels)]


def test_the_runs_note_what_they_could_not_compute(runs: dict[str, tuple[Path, str]]) -> None:
    """The notes these tests read are there (else the language checks would pass on
    nothing)."""
    assert {
        ("sentra", "one_sector"),
        ("measure_statistics", "no_values"),
        ("colocation", "points_some"),
        ("point_patterns", "points_some"),
    } <= _keys(runs["one_id"][0])
    assert _keys(runs["one_id"][0]) == _keys(runs["one_en"][0])
    assert {
        ("measure_statistics", "counts_measures"),
        ("firm_output", "counts_firms"),
        ("firm_models", "counts_models"),
        ("co_location", "counts_colocation"),
        ("patterns", "counts_patterns"),
    } <= _keys(runs["counts_id"][0])
    assert ("statistics_sentra", "few_firms") in _keys(runs["few_id"][0])
    assert ("local_statistics", "few_areas_local") in _keys(runs["two_id"][0])


@pytest.mark.parametrize("name", ["one_id", "counts_id", "few_id", "two_id"])
def test_indonesian_notes_have_no_english_words(
    runs: dict[str, tuple[Path, str]], name: str
) -> None:
    out, output = runs[name]
    errors = _errors(out)
    section = _report_section(out, "id")
    assert section.strip() and not _english(section, errors), _english(section, errors)
    steps = {
        item["step"] for item in json.loads((out / "summary.json").read_text())["not_computed"]
    }
    for step in steps:  # the step column in the run's language
        shown = messages.label("progress", step, "id")
        assert shown in section and (shown == step or step not in section.split()), step
    lines = _console_notes(output, LABELS)
    assert len(lines) == len(json.loads((out / "summary.json").read_text())["not_computed"])
    for line in lines:
        assert not _english(line, errors), (line, _english(line, errors))
    # summary.json keeps the English and the keys; its notes read back in Indonesian
    record = json.loads((out / "summary.json").read_text("utf-8"))["not_computed"]
    for item in record:
        what, why = NotComputed.from_json(item).said("id")
        assert not _english(f"{what} {why}", errors), (what, why)
        assert (item["what"], item["why"]) == NotComputed.from_json(item).said("en")
    # the workbook carries none of the English sentences
    cells = " ".join(
        str(value)
        for sheet in load_workbook(
            out / "results.xlsx"
        )  # not read-only: the file is closed once read
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if isinstance(value, str)
    )
    for item in record:
        assert item["why"] not in cells


def test_english_run_keeps_english_sentences(runs: dict[str, tuple[Path, str]]) -> None:
    out, output = runs["one_en"]
    section = _report_section(out, "en")
    said = messages.text("notes", "en")
    assert said["one_sector"] in section and "profile" in section
    assert _english(section) >= {"the", "sector", "firms"}
    labels = tuple(messages.text("terminal", "en")[k] for k in ("not_computed", "partly_computed"))
    assert any(said["one_sector"] in line for line in _console_notes(output, labels))
    assert not any(said["one_sector"] in line for line in _console_notes(runs["one_id"][1], LABELS))


def test_every_note_key_is_used_and_in_both_languages() -> None:
    """Every key of the ``notes`` group is written as a string in the pipeline (a key
    nobody uses is a sentence nobody reads), in both languages with the same
    placeholders."""
    folder = Path(pipeline_pkg.__file__).parent
    written = {
        node.value
        for path in folder.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert set(NOTES["en"]) - written == set()
    assert set(NOTES["id"]) == set(NOTES["en"])
    for key, text in NOTES["en"].items():
        fields = set(re.findall(r"\{(\w+)", text))
        assert fields == set(re.findall(r"\{(\w+)", NOTES["id"][key])), key
    assert not _english(re.sub(r"\{[^}]*\}", " ", " ".join(NOTES["id"].values())))


def test_a_note_keeps_its_keys_and_reads_in_each_language(caplog: pytest.LogCaptureFixture) -> None:
    notes = Notes()
    notes.add("statistics", "local_statistics", "few_areas_local", areas=2, needed=3)
    notes.add("profile", "patterns_all", "thinned", warn=False, cap=1500, firms=20000, option="x")
    item = notes.items[0]
    assert item["why"] == "the study area has 2 area(s); local statistics need at least 3"
    assert (item["what_key"], item["why_key"], item["params"]) == (
        "local_statistics",
        "few_areas_local",
        {"areas": 2, "needed": 3},
    )
    assert "local statistics need at least 3" in caplog.text  # warned, in English
    again = NotComputed.from_json(json.loads(json.dumps(notes.items[1])))
    assert again.to_json() == notes.items[1]
    assert "1.500 dari 20.000 usaha" in again.said("id")[1]
    assert "1,500 of the 20,000 firms" in again.said("en")[1]
    # measures and models named in the language; a library's message kept, framed
    notes.add("statistics", "measure_statistics", "counts_measures", measures=("workers",))
    notes.add("models", "model", "error", warn=False, model="lpm", error="singular matrix")
    measures, model = (NotComputed.from_json(x) for x in notes.items[2:])
    assert measures.said("id")[0] == "statistik tenaga kerja"
    assert measures.said("en")[0] == measures.what == "statistics of workers"
    assert model.said("id") == (
        "Model probabilitas linear (OLS, galat baku kokoh)",
        "tidak dapat dihitung: singular matrix",
    )
    assert model.said("en")[0] == "Linear probability model (OLS, robust SE)"


def test_an_older_summary_reads_as_it_was_written() -> None:
    """A ``summary.json`` written before the keys were recorded (or hand-edited) keeps
    its sentences, in whatever language they were written."""
    old = NotComputed.from_json({"step": "profile", "what": "co-location", "why": "too few"})
    assert old.said("id") == ("co-location", "too few") and old.to_json() == {
        "step": "profile",
        "what": "co-location",
        "why": "too few",
    }
    broken = {"step": "x", "what": "a", "why": "b", "what_key": "thinned", "why_key": "thinned"}
    assert NotComputed.from_json(broken).said("id") == ("a", "b")  # no values for {cap}
