"""The change map and the start page of a run over several surveys in Kabupaten Klaten
(issue 28, item 6): the villages and kecamatan outlined under the sentra, the page dated
by the run's own timestamp (a re-run writes the same bytes), the start page headed with
the study area's name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.io import boundaries
from klastergeo.publish import messages
from tests.worlds import places

runner = CliRunner()
AREA = "33.10"  # Kabupaten Klaten
STAMP = "2024-03-05T08:00:00+00:00"
#: Furniture firms of the two sentra villages per survey: the sentra grows.
SURVEYS = {2019: 30, 2023: 45}


def _registry(data_dir: Path) -> pd.DataFrame:
    """Two surveys: a furniture sentra in two neighbouring villages (the first village
    and its first neighbour) over background firms (8 food, 1 furniture) in sixty villages."""
    villages = places.load(data_dir, AREA).reset_index(drop=True)
    first = villages.geometry[0]
    neighbour = int(np.flatnonzero(villages.geometry.touches(first))[0])
    rng = np.random.default_rng(28)
    parts = []
    for year, n in SURVEYS.items():
        owner = np.concatenate(
            [np.repeat([0, neighbour], n), np.repeat(np.arange(60), 8), np.arange(60)]
        )
        sector = np.array(["31"] * (2 * n) + ["10"] * 480 + ["31"] * 60)
        x, y = places.points_alone_in(villages, owner, rng)
        parts.append(
            pd.DataFrame(
                {
                    "id": [f"F{year}-{i}" for i in range(len(owner))],
                    "lat": y,
                    "lon": x,
                    "kbli": np.char.add(sector, "001"),
                    "workers": 1 + np.arange(len(owner)) % 5,
                    "tahun": str(year),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _run(folder: Path, out: Path, data_dir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "run", "--records", str(folder / "ukm.csv"), "--boundaries", str(data_dir),
            "--area", AREA, "--level", "desa", "--period-col", "tahun", "--out", str(out),
            "--permutations", "0", "--tiles", "none", "--timestamp", STAMP,
            "--set", "report.figures=none", "--set", "pointpattern.enabled=false",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def klaten_runs(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("klaten_surveys")
    _registry(data_dir).to_csv(folder / "ukm.csv", index=False)
    _run(folder, folder / "one", data_dir)
    _run(folder, folder / "two", data_dir)
    return folder / "one", folder / "two"


def _payload(page: str, call: str) -> dict:
    data, _ = json.JSONDecoder().raw_decode(page, page.index("{", page.index(call)))
    return data


@pytest.mark.slow
def test_the_change_map_outlines_the_villages_and_kecamatan(klaten_runs, data_dir) -> None:
    """Under the sentra: every village of Klaten, then every kecamatan, each a closed
    ring inside Klaten's bounding box; the page stays small."""
    one, _ = klaten_runs
    page = (one / "map.html").read_text(encoding="utf-8")
    data = _payload(page, "klastergeo.changeView(")
    villages = boundaries.load_areas("desa", area=AREA, source=data_dir)
    kecamatan = boundaries.load_areas("kecamatan", area=AREA, source=data_dir)
    assert (len(villages), len(kecamatan)) == (401, 26)
    assert [len(layer) for layer in data["outlines"]] == [len(villages), len(kecamatan)]
    x0, y0, x1, y1 = villages.total_bounds
    for layer in data["outlines"]:
        for polygons in layer:  # rings of 1e-5 degree integers, first vertex then steps
            ring = np.asarray(polygons[0][0], dtype=np.int64).reshape(-1, 2).cumsum(axis=0)
            ring = ring / 1e5
            assert np.allclose(ring[0], ring[-1])
            assert x0 - 0.01 <= ring[:, 0].min() and ring[:, 0].max() <= x1 + 0.01
            assert y0 - 0.01 <= ring[:, 1].min() and ring[:, 1].max() <= y1 + 0.01
    assert len(page.encode("utf-8")) < 400_000  # simplified to 100 m


@pytest.mark.slow
def test_the_change_map_is_dated_by_the_run_and_reproducible(klaten_runs) -> None:
    """The "made" date is the --timestamp's day in the run's language, never today's;
    two runs with one timestamp write the same bytes."""
    one, two = klaten_runs
    page = (one / "map.html").read_text(encoding="utf-8")
    created = json.loads((one / "summary.json").read_text(encoding="utf-8"))["created"]
    assert created == STAMP
    assert messages.date(STAMP, "id") == "5 Maret 2024"
    assert "5 Maret 2024" in page
    assert (one / "map.html").read_bytes() == (two / "map.html").read_bytes()


@pytest.mark.slow
def test_the_start_page_names_the_study_area(klaten_runs, data_dir) -> None:
    one, _ = klaten_runs
    name = boundaries.load_names("kabupaten", source=data_dir)[AREA]
    assert name == "Kabupaten Klaten"
    index = (one / "index.html").read_text(encoding="utf-8")
    title = index[index.index("<title>") + 7 : index.index("</title>")]
    heading = index[index.index("<h1>") + 4 : index.index("</h1>")]
    assert title == heading and title.endswith(name), title
