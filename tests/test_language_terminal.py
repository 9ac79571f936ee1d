"""The terminal speaks the run's language: what ``klastergeo run`` prints (the progress
lines, the data-quality table, the sentra, the summary's lines) and the pages of
``klastergeo model --lang id`` carry none of the listed English words, while an English
run stays English; the time left of a progress bar moves while a step runs; a run over
several surveys prints a line per survey and step, and each survey's data quality."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
import statsmodels.api as sm
from rich.console import Console
from rich.progress import Progress
from typer.testing import CliRunner

from klastergeo.app import console as _console
from klastergeo.app.cli import app
from klastergeo.publish import messages
from tests.worlds.language import english, visible
from tests.worlds.lattice import custom_study, lattice_args

runner = CliRunner()


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 x 6 lattice with one furniture sentra and two rows without coordinates."""
    folder = tmp_path_factory.mktemp("terminal")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=3
    )
    bad = registry.iloc[:2].assign(lat="bukan angka")
    pd.concat([registry, bad], ignore_index=True).to_csv(folder / "firms.csv", index=False)
    return folder


def _printed(study: Path, *options: str) -> str:
    """What ``klastergeo run`` printed (standard output and error), the study's folder
    left out (its path has words of its own)."""
    out = study / f"out{len(options)}{'-'.join(options)}"
    result = runner.invoke(
        app,
        lattice_args(
            "run", study, out, "--permutations", "19", "--tiles", "none",
            "--set", "pointpattern.enabled=false", "--set", "report.figures=none", *options,
        ),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output.replace(str(study), "")


@pytest.fixture(scope="module")
def indonesian(study: Path) -> str:
    return _printed(study)  # Indonesian: the default


def test_an_indonesian_run_prints_no_english_word(indonesian: str) -> None:
    words = messages.text("terminal", "id")
    steps = messages.text("progress", "id")
    # the progress lines, the data-quality table, the sentra table and the summary
    assert f"langkah 8/13: {steps['profile']}" in indonesian
    assert f"{steps['checking records']}: 319/319" in indonesian
    assert words["quality"] in indonesian and words["rejected"] in indonesian
    assert messages.label("reasons", "missing_coordinates", "id") in indonesian
    assert "Sentra (1)" in indonesian and words["timings"] in indonesian
    assert f"{words['start_page']}: /out0/index.html" in indonesian
    assert not english(indonesian), english(indonesian)


def test_an_english_run_stays_english(study: Path) -> None:
    """The check can fail: the same run in English prints many of the listed words."""
    printed = _printed(study, "--lang", "en")
    assert "step 8/13: profile" in printed and "Data quality" in printed
    assert len(english(printed)) >= 10, english(printed)


def test_model_pages_in_the_run_language(tmp_path: Path) -> None:
    """``klastergeo model --lang id`` on Spector and Mazzeo's survey (statsmodels): its
    pages are Indonesian (``lang="id"``, no listed English word); ``--lang en`` keeps
    them English."""
    sm.datasets.spector.load_pandas().data.to_csv(tmp_path / "survey.csv", index=False)
    pages = {}
    for lang in ("id", "en"):
        out = tmp_path / lang
        args = ["model", "--records", str(tmp_path / "survey.csv"), "--outcome", "GRADE"]
        result = runner.invoke(
            app, [*args, "--predictors", "GPA,TUCE,PSI", "--out", str(out), "--lang", lang]
        )
        assert result.exit_code == 0, result.output
        pages[lang] = sorted((out / "models").glob("*.html"))
        assert pages[lang], lang
    for page in pages["id"]:
        text = page.read_text(encoding="utf-8")
        assert '<html lang="id">' in text, page.name
        assert not english(visible(text)), (page.name, english(visible(text)))
        assert messages.text("model_pages", "id")["h_coefficients"] in text
    for page in pages["en"]:
        text = page.read_text(encoding="utf-8")
        assert '<html lang="en">' in text and len(english(visible(text))) >= 5, page.name


class _Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_time_left_counts_down_while_a_step_runs() -> None:
    """Four steps, the first done in 10 s: 30 s are left, and with no new progress the
    time left falls second by second (rich's own column stays frozen); once the step
    runs longer than the first took, the estimate grows with it."""
    clock = _Clock()
    bars = Progress(
        _console.TimeLeftColumn(),
        console=Console(file=io.StringIO(), width=80),
        auto_refresh=False,
        get_time=clock,
    )
    reporter = _console.RichReporter(bars, ("a", "b", "c", "d"), "en")
    reporter.step("a")
    task = bars.tasks[0]
    assert _console.time_left(task) is None  # nothing done: no estimate
    clock.now = 10.0
    reporter.step("b")
    shown = []
    for now in (10.0, 13.0, 16.0, 20.0):
        clock.now = now
        shown.append(_console.time_left(task))
    assert shown == [30.0, 27.0, 24.0, 20.0]
    column = _console.TimeLeftColumn()
    clock.now = 13.0
    assert column.render(task).plain == "0:00:27"
    clock.now = 25.0  # step b overran: c and d take the mean of a and b so far
    assert _console.time_left(task) == pytest.approx(2 * 25.0 / 2)
    clock.now = 30.0
    assert _console.time_left(task) == pytest.approx(2 * 30.0 / 2)
    reporter.finish()
    assert _console.time_left(task) == 0.0


def test_a_run_over_surveys_prints_each_survey(tmp_path: Path) -> None:
    parts = []
    for year, (a, b) in {2019: (30, 25), 2023: (45, 30)}.items():
        part = custom_study(
            tmp_path, (6, 6), {"r2c2": a, "r2c3": b}, background={"10": 6, "31": 1}, seed=year
        )
        parts.append(part.assign(id=part["id"] + f"-{year}", tahun=str(year)))
    pd.concat(parts, ignore_index=True).to_csv(tmp_path / "ukm.csv", index=False)
    result = runner.invoke(
        app,
        lattice_args(
            "sentra", tmp_path, tmp_path / "out", "--period-col", "tahun",
            "--permutations", "0", "--set", "report.figures=none",
            "--set", "pointpattern.enabled=false", records="ukm.csv",
        ),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = result.output
    lines = printed.splitlines()
    for number, year in enumerate(("2019", "2023"), 1):
        survey = [i for i, line in enumerate(lines) if line.endswith(f"survei {number}/2: {year}")]
        assert len(survey) == 1, printed
        # the survey's steps follow its line, each named
        after = lines[survey[0] + 1 : survey[0] + 4]
        assert re.search(r"langkah 1/\d+: batas wilayah$", after[0]), after
        assert f"Mutu data: {year}" in printed
    assert sum("langkah 1/" in line for line in lines) == 2
    assert not english(printed.replace(str(tmp_path), "")), english(printed)


def test_the_progress_bar_names_each_survey_and_starts_its_steps_again() -> None:
    clock = _Clock()
    bars = Progress(
        console=Console(file=io.StringIO(), width=80), auto_refresh=False, get_time=clock
    )
    reporter = _console.RichReporter(bars, ("read", "profile"), "id")
    reporter.survey("2019", 1, 2)
    reporter.step("read")
    clock.now = 5.0
    reporter.step("profile")
    task = bars.tasks[0]
    assert task.description == "survei 1/2: 2019 | langkah: profil"
    assert task.completed == 1
    clock.now = 9.0
    reporter.survey("2023", 2, 2)
    reporter.step("read")
    assert task.description == "survei 2/2: 2023 | langkah: membaca"
    assert task.completed == 0 and task.start_time == 9.0  # its own time left
    reporter.finish()
    assert task.description == "selesai"
