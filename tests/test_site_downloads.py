"""The index page lists every output of the run with one line on what it holds, in the
run's language; ``klastergeo publish`` adds the area-level downloads (the workbook
without its firm-level sheet, ``areas.gpkg``, ``sentra.gpkg``) and nothing firm-level
unless ``--with-firms``; the published index lists what the site holds."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.publish import site as publish
from klastergeo.publish import workbook
from klastergeo.publish.record import RunRecord
from tests.worlds.language import english, visible
from tests.worlds.lattice import custom_study, lattice_args

runner = CliRunner()

#: What a run writes that holds one row per firm.
FIRM_LEVEL = {
    "firms/",
    "firms.gpkg",
    "firms.geojson",
    "rejected.csv",
    "repaired.csv",
    "skipped.csv",
}


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Indonesian run (the default) with a sentra, rejected rows, models, figures and
    the firms as a GeoPackage too."""
    folder = tmp_path_factory.mktemp("unduh")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=3
    )
    registry["nama"] = [f"UD {i}" for i in range(len(registry))]
    bad = registry.iloc[:2].assign(lat="bukan angka")
    pd.concat([registry, bad], ignore_index=True).to_csv(folder / "usaha.csv", index=False)
    (folder / "uji.toml").write_text(
        '[area]\nboundaries = "desa.gpkg"\nid_col = "kode"\n'
        "[analysis]\npermutations = 99\n[pointpattern]\nenabled = false\n"
        '[map]\ntiles = "none"\n',
        encoding="utf-8",
    )
    out = folder / "keluaran"
    result = runner.invoke(
        app,
        ["run", "--config", str(folder / "uji.toml"), "--records", str(folder / "usaha.csv"),
         "--out", str(out), "--firms-gpkg", "--timestamp", "2024-01-31T08:00:00+07:00"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _entries(folder: Path) -> set[str]:
    """The files and folders (``name/``) of a folder, but its start page."""
    return {p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()} - {"index.html"}


def _listed(page: str) -> dict[str, str]:
    """The index page's list of files: name -> the line on what it holds."""
    block = re.search(r'<ul class="files">(.*?)</ul>', page, re.DOTALL)
    assert block is not None
    out = {}
    for item in re.findall(r"<li>(.*?)</li>", block.group(1), re.DOTALL):
        name = re.search(r"<(?:a [^>]*|code)>([^<]+)</(?:a|code)>", item)
        assert name is not None, item
        out[name.group(1)] = visible(item.split("&ndash;", 1)[1]).strip()
    return out


@pytest.mark.slow
def test_the_index_lists_every_output_of_the_run(run_folder: Path) -> None:
    """The listed set is the set of files the run wrote: an output without a line in
    the catalogue's ``downloads`` is missing from the page, and this fails."""
    listed = _listed((run_folder / "index.html").read_text(encoding="utf-8"))
    written = _entries(run_folder)
    assert {"results.xlsx", "areas.gpkg", "sentra.gpkg", "rejected.csv", "candidates.csv",
            "firms/", "firms.gpkg", "models/", "summary.json", "map.html"} <= written  # fmt: skip
    assert set(listed) == written
    assert all(listed.values()), listed  # one line each on what it holds
    lines = " ".join(listed.values())
    assert not english(lines), english(lines)
    assert "buku kerja" in listed["results.xlsx"] and "QGIS" in listed["areas.gpkg"]
    assert "tingkat usaha" in listed["rejected.csv"]
    # in English the same files, and English words (the check can fail)
    summary = RunRecord.load(run_folder)
    english_page = publish.index_page(summary, run_folder, lang="en")
    assert set(_listed(english_page)) == written
    assert len(english(" ".join(_listed(english_page).values()))) >= 5


@pytest.mark.slow
def test_publish_leaves_firm_level_data_behind(run_folder: Path, tmp_path: Path) -> None:
    site = tmp_path / "situs"
    publish.publish(run_folder, site)
    held = _entries(site)
    assert not held & FIRM_LEVEL, held & FIRM_LEVEL
    assert {"results.xlsx", "areas.gpkg", "sentra.gpkg"} <= held
    # the published index lists what the site holds
    assert set(_listed((site / "index.html").read_text(encoding="utf-8"))) == held
    # the workbook: every sheet of the run's but the rejected records, cell for cell
    rejected = workbook.SHEETS["id"]["rejected"]
    ours, theirs = load_workbook(run_folder / "results.xlsx"), load_workbook(site / "results.xlsx")
    assert rejected in ours.sheetnames
    assert theirs.sheetnames == [s for s in ours.sheetnames if s != rejected]
    notes = workbook.SHEETS["id"]["notes"]
    for title in theirs.sheetnames:
        kept = [list(r) for r in ours[title].values]
        if title == notes:  # the legend explains only the sheets published
            kept = [r for r in kept if r[0] != rejected]
            kept = [r for r in kept if r[0] != workbook.SHEETS["id"]["codes"] or r[1] != "Alasan"]
        assert [list(r) for r in theirs[title].values] == kept
    # everything else published is a file the run wrote (through disclosure control):
    # the same bytes as listed in the run's manifest
    files = RunRecord.load(run_folder).files or {}
    derived = {"index.html", "embed.html", "summary.json", "map.html", "areas.csv", "results.xlsx"}
    copied = [p for p in site.rglob("*") if p.is_file() and p.name not in derived]
    assert {"areas.gpkg", "sentra.gpkg"} <= {p.name for p in copied}
    for path in copied:
        name = path.relative_to(site).as_posix()
        assert name in files, name
        assert path.read_bytes() == (run_folder / name).read_bytes(), name
    # published again: the same workbook, byte for byte
    again = tmp_path / "lagi"
    publish.publish(run_folder, again)
    assert (again / "results.xlsx").read_bytes() == (site / "results.xlsx").read_bytes()


@pytest.mark.slow
def test_with_firms_the_site_holds_them(run_folder: Path, tmp_path: Path) -> None:
    site = tmp_path / "dengan-usaha"
    result = runner.invoke(app, ["publish", str(run_folder), "--site", str(site), "--with-firms"])
    assert result.exit_code == 0, result.output
    assert "firms.geojson" in _entries(site)
    book = load_workbook(site / "results.xlsx")
    assert workbook.SHEETS["id"]["rejected"] in book.sheetnames
    assert set(_listed((site / "index.html").read_text(encoding="utf-8"))) == _entries(site)


@pytest.fixture(scope="module")
def surveys_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run over two surveys (column ``tahun``) of a growing furniture sentra, with a
    record without a period."""
    folder = tmp_path_factory.mktemp("survei")
    parts = []
    for year, (a, b) in {2019: (30, 20), 2023: (45, 30)}.items():
        part = custom_study(
            folder, (6, 6), {"r2c2": a, "r2c3": b}, background={"10": 6, "31": 1}, seed=year
        )
        parts.append(part.assign(id=part["id"] + f"-{year}", tahun=str(year)))
    registry = pd.concat(parts, ignore_index=True)
    registry.loc[len(registry) - 1, "tahun"] = ""  # no period: rejected_period.csv
    registry.to_csv(folder / "firms.csv", index=False)
    out = folder / "keluaran"
    args = lattice_args(
        "run", folder, out, "--period-col", "tahun", "--permutations", "0", "--tiles", "none",
        "--set", "report.figures=none", "--set", "pointpattern.enabled=false",
    )  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_a_run_over_surveys_lists_and_publishes_its_outputs(
    surveys_folder: Path, tmp_path: Path
) -> None:
    """The start page lists every output of the top folder; the published start page
    lists what the site holds, and no firm-level file is among them."""
    listed = _listed((surveys_folder / "index.html").read_text(encoding="utf-8"))
    written = _entries(surveys_folder)
    assert {"dynamics.csv", "periods/", "rejected_period.csv", "summary.json"} <= written
    assert set(listed) == written
    assert not english(" ".join(listed.values())), english(" ".join(listed.values()))
    site = tmp_path / "situs"
    publish.publish(surveys_folder, site)
    held = _entries(site)
    assert "rejected_period.csv" not in held and not held & FIRM_LEVEL
    assert set(_listed((site / "index.html").read_text(encoding="utf-8"))) == held
    for period in ("2019", "2023"):  # each period's site: its area-level downloads
        own = site / "periods" / period
        assert {"results.xlsx", "areas.gpkg", "sentra.gpkg"} <= _entries(own)
        assert set(_listed((own / "index.html").read_text(encoding="utf-8"))) == _entries(own)
        sheets = load_workbook(own / "results.xlsx").sheetnames
        assert workbook.SHEETS["id"]["rejected"] not in sheets
