"""Work drawn beside a run in a child process (:mod:`klastergeo.app.beside`):
the result of the call, the child's log records and warnings re-issued in the run's
process, its errors raised there, a cancelled child stopped; and a run whose figures and
workbook are made beside writes the same files as a run making them inline."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from libpysal.graph import Graph

from klastergeo.analysis import weights
from klastergeo.app import pipeline
from klastergeo.app.beside import SENDER, Beside, spare_cores
from klastergeo.app.config import RunConfig, load_config
from klastergeo.app.pipeline import writer
from klastergeo.errors import DataError
from klastergeo.publish import figures as static
from tests.worlds import children
from tests.worlds.lattice import custom_study, lattice

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
    assert writer.figures_beside_from(8_563) and writer.figures_beside_from(83_402)
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


@pytest.mark.slow
def test_a_countrys_figures_drawn_beside_are_those_drawn_inline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past :data:`~writer.BESIDE_MAX_AREAS` (lowered here: a country's 83,402 villages),
    the figures are drawn beside too, from the shapes simplified before they are sent
    and the drawn sector's columns: the same files as :func:`writer.figures` draws from
    the whole inputs, and as drawn inline. The villages are three parts each, more parts
    than :data:`~static.RASTER_PARTS` (drawn as an image, as a country's are), with
    borders of collinear points the simplification takes off."""
    areas, table, counts, sentra, graph = _village_world(82, 82, seed=3)
    parts = shapely.get_num_geometries(areas.geometry.to_numpy()).sum()
    assert parts > static.RASTER_PARTS
    coordinates = shapely.get_num_coordinates(areas.geometry.to_numpy()).sum()
    simple = shapely.get_num_coordinates(static.figure_shapes(areas.geometry).to_numpy()).sum()
    assert simple < coordinates / 5  # what the child gets
    config = RunConfig().with_overrides({"records.path": "firms.csv"})
    inputs = {
        "sentra": sentra,
        "counts": counts,
        "graph": graph,
        "analysed": ("10", "31"),
        "global_stats": pd.DataFrame({"p_norm": [0.2, 0.001]}, index=["10", "31"]),
        "place": "Negeri $Contoh$",
    }
    monkeypatch.setattr(writer, "BESIDE_MAX_AREAS", 1_000)
    monkeypatch.setattr(writer, "BESIDE_MIN_AREAS", 100)
    assert not writer.beside(len(areas)) and writer.figures_beside_from(len(areas))
    shown = {
        "whole": writer.figures(
            tmp_path / "whole", config, areas=areas, table=table, outlines=None, **inputs
        )
    }
    for where, least in (("beside", 100), ("inline", 10**9)):
        monkeypatch.setattr(writer, "BESIDE_MIN_AREAS", least)
        work = writer.figures_beside(
            tmp_path / where, config, areas=areas, table=table, outlines=lambda: None, **inputs
        )
        assert (work.pid is not None) == (where == "beside")
        shown[where] = work.result()
    files = {
        where: {p.name: p.read_bytes() for p in (tmp_path / where / "figures").iterdir()}
        for where in shown
    }
    names = ["gi_31.png", "lisa_31.png", "lisa_sig_31.png", "moran_31.png", "sentra.png"]
    assert sorted(files["whole"]) == [*names, "spec_31.png"]  # sector 10 has no sentra
    for where in ("beside", "inline"):
        assert shown[where] == shown["whole"]
        assert files[where].keys() == files["whole"].keys()
        for name, content in files["whole"].items():
            assert files[where][name] == content, (where, name)
    # no figures: no child, nothing simplified, nothing written
    none = config.with_overrides({"report.figures": "none"})
    work = writer.figures_beside(
        tmp_path / "none", none, areas=areas, table=table, outlines=lambda: None, **inputs
    )
    assert work.pid is None and work.result() == [] and not (tmp_path / "none").exists()


def _village_world(
    n_rows: int, n_cols: int, *, seed: int
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame, Graph]:
    """A lattice of villages of three parts each (strips 20 m apart, borders with a point
    every 100 m), the area x sector table's classes drawn at random for sectors 10 and
    31 (with a column the figures do not read), the counts (every village with both
    sectors), a sentra of sector 31 and the lattice's contiguity."""
    rng = np.random.default_rng(seed)
    cells = lattice(n_rows, n_cols)
    minx, miny, maxx, maxy = shapely.bounds(cells.geometry.to_numpy()).T
    third = (maxx - minx) / 3
    strips = [
        shapely.box(minx + k * third + 10, miny, minx + (k + 1) * third - 10, maxy)
        for k in range(3)
    ]
    villages = shapely.segmentize(shapely.multipolygons(np.column_stack(strips)), 100.0)
    areas = gpd.GeoDataFrame(geometry=villages, crs=cells.crs, index=cells.index)
    index = pd.MultiIndex.from_product([areas.index, ["10", "31"]], names=["area_code", "sector"])
    n = len(index)
    table = pd.DataFrame(
        {
            "n_firms": rng.poisson(3, n),
            "lq": rng.random(n),
            "spec_bin": rng.choice([-3, -2, -1, 0, 1, 2, 3], n),
            "gi_bin": rng.choice([-3, 0, 0, 0, 1, 2, 3], n),
            "lisa_quadrant": rng.choice([0, 0, 0, 1, 2, 3, 4], n),
            "lisa_p_sim": rng.random(n) ** 3,
        },
        index=index,
    )
    counts = table[["n_firms"]].assign(workers=2.0 * table["n_firms"])
    sentra = gpd.GeoDataFrame(
        {"sector": ["31"], "name": ["Mebel Contoh"]},
        geometry=[shapely.union_all(areas.geometry.iloc[:200].to_numpy())],
        crs=areas.crs,
        index=pd.Index(["S31-1"], name="sentra_id"),
    )
    return areas, table, counts, sentra, weights.contiguity(cells)


def _cells(path: Path) -> list[list[tuple]]:
    """Every sheet's values, row by row."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    try:
        return [[tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book]
    finally:
        book.close()


def test_a_child_cancelled_while_its_call_is_sent_leaves_no_pipe_open() -> None:
    """The sender meets a closed pipe (the child stopped before reading the call): it
    still closes its end, so nothing warns when the pipe is collected."""
    with Beside(len, b"x" * 50_000_000):  # more than a pipe holds: the sender waits
        pass  # cancelled at once
    for _ in range(200):
        if not any(t.name == SENDER for t in threading.enumerate()):
            break
        time.sleep(0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
