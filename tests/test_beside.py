"""Work drawn beside a run in a child process (:mod:`klastergeo.app.beside`):
the result of the call, the child's log records and warnings re-issued in the run's
process, its errors raised there, a cancelled child stopped; and a run whose figures and
workbook are made beside writes the same files as a run making them inline."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from klastergeo.app import pipeline
from klastergeo.app.beside import Beside, spare_cores
from klastergeo.app.config import load_config
from klastergeo.app.pipeline import writer
from klastergeo.errors import DataError
from tests.worlds import children
from tests.worlds.lattice import custom_study

pytestmark = pytest.mark.skipif(not spare_cores(), reason="one core: nothing runs beside")


def test_the_work_runs_in_another_process() -> None:
    work = Beside(os.getpid)
    assert work.pid is not None and work.pid != os.getpid()
    child = work.pid
    assert work.result() == child
    assert work.pid is None  # collected
    assert Beside(os.getpid, inline=True).result() == os.getpid()
    assert Beside(os.getpid, inline=True).pid is None


def test_the_childs_records_and_warnings_come_back(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO), pytest.warns(UserWarning, match="drawn 3 beside"):
        assert Beside(children.noisy, 3).result() == 6
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("tests.worlds.children", "doubling three")
    ]


def test_the_childs_error_is_raised_here() -> None:
    work = Beside(children.fails, "blank")
    with pytest.raises(DataError, match="column 'x' has a blank value"):
        work.result()


@pytest.mark.parametrize("inline", [False, True])
def test_later_arguments_are_computed_by_the_sender(inline: bool) -> None:
    sent = threading.Event()

    def second() -> str:  # called in the thread that posts the call (or by result())
        sent.set()
        return "B"

    work = Beside(children.joined, "A", later={"second": second}, inline=inline)
    # inline, it is called only once the result is asked for
    assert (not sent.is_set()) if inline else sent.wait(60)
    assert work.result() == "AB"

    def failing() -> str:
        raise DataError("outlines: no kabupaten level")

    with pytest.raises(DataError, match="no kabupaten level"):
        Beside(children.joined, "A", later={"second": failing}, inline=inline).result()


def test_a_cancelled_child_is_stopped() -> None:
    with Beside(time.sleep, 300) as work:
        child = work.pid
        assert child is not None
        os.kill(child, 0)  # alive
    assert work.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


@pytest.mark.slow
def test_figures_and_workbook_made_beside_are_those_made_inline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = custom_study(tmp_path, (8, 8), {"r3c3": 45, "r3c4": 30}, seed=5)
    registry.to_csv(tmp_path / "firms.csv", index=False)
    (tmp_path / "klastergeo.toml").write_text(
        '[records]\npath = "firms.csv"\n'
        '[area]\nboundaries = "desa.gpkg"\nid_col = "kode"\n'
        "[analysis]\npermutations = 99\n[pointpattern]\nenabled = false\n"
        '[map]\ntiles = "none"\n[output]\ntimestamp = "2026-01-01T00:00:00"\n',
        encoding="utf-8",
    )
    config = load_config(tmp_path / "klastergeo.toml")
    files = {}
    assert not writer.beside(64) and writer.beside(8_563) and not writer.beside(83_402)
    for where, least in (("inline", 10**9), ("beside", 0)):
        monkeypatch.setattr(writer, "BESIDE_MIN_AREAS", least)
        out = tmp_path / where
        pipeline.run(config.with_overrides({"out": str(out)}))
        files[where] = {
            p.relative_to(out).as_posix(): p.read_bytes()
            for p in out.rglob("*")
            if p.is_file() and p.suffix not in (".xlsx", ".json")  # zip entries carry a time
        }
        files[where]["results.xlsx"] = _cells(out / "results.xlsx")
    assert any(name.startswith("figures/gi_") for name in files["inline"])
    assert len(files["inline"]["results.xlsx"]) >= 5  # sheets
    assert files["beside"].keys() == files["inline"].keys()
    for name, content in files["inline"].items():
        assert files["beside"][name] == content, name


def _cells(path: Path) -> list[list[tuple]]:
    """Every sheet's values, row by row."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    try:
        return [[tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book]
    finally:
        book.close()
