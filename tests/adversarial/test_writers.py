"""Writers that the data cannot break, environment errors that name the path, and re-runs
that write the same bytes (issue 24, parts 4 and 5).

Each case is a command line on a small synthetic study (a 6 x 6 custom boundaries file)
whose registry and area names carry what broke the writers: control characters, a
40,000-character name, text Excel would run as a formula, many sectors, GeoPackage
reserved column names; a full disk is simulated where the write happens (GDAL, shutil,
Arrow). Every case asserts the exit code (never 1) and the message, or the result.
"""

from __future__ import annotations

import csv
import errno
import json
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.app.console import literal
from klastergeo.io import files as _io
from klastergeo.publish import gis, messages, workbook
from klastergeo.publish.record import RunRecord
from tests.worlds.lattice import custom_study

runner = CliRunner()

#: The first characters by which a spreadsheet runs a cell as a formula: OWASP, "CSV
#: Injection" (https://owasp.org/www-community/attacks/CSV_Injection).
OWASP = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limit of characters in a cell ("Excel specifications and limits").
EXCEL_CELL = 32_767
#: The run's time, and what GDAL and the workbook write of it (in UTC).
STAMP = "2024-01-31T08:00:00+07:00"
#: The files that carry the run's time (docs/guide/publishing.md, "Reproducible runs"): with another
#: timestamp, exactly these change.
TIME_FILES = {
    "summary.json",
    "report.html",
    "index.html",
    "map.html",
    "results.xlsx",
    "areas.gpkg",
    "sentra.gpkg",
    "firms.gpkg",
}
LONG_NAME = "A" * 40_000
#: Area names: text Excel would run, a control character; 14 and 15 hold the sentra.
AREA_NAMES = {
    0: "@SUM(A1)",
    1: "-2+3",
    14: '=HYPERLINK("http://x","klik")',
    15: "Desa\x01Satu",
}
#: Firm names of rejected rows (latitude "x"): what broke results.xlsx and rejected.csv.
REJECTED_NAMES = [
    "Toko\x0bBaru",
    "Toko\x00Nul",
    "=cmd|' /C calc'!A0",
    "+1+2",
    "@SUM(1)",
    "\tTab",
    "-7.5",
    LONG_NAME,
]


def _unsafe(field: str) -> bool:
    """Whether a spreadsheet would run a CSV field as a formula: it starts with one of
    OWASP's characters and is not a number (``-7.5`` is read as the number)."""
    if not field.startswith(OWASP):
        return False
    try:
        float(field.replace(",", "."))
    except ValueError:
        return True
    return False


def _fields(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [field for row in csv.reader(handle) for field in row]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 6 x 6 study: area names and rejected rows that carry what broke the writers,
    one row rejected for its sector (its latitude, ``-8.1...``, must stay a number), and
    a quick configuration with the figures of the sentra's sector."""
    folder = tmp_path_factory.mktemp("writers")
    names = [AREA_NAMES.get(i, f"Desa {i}") for i in range(36)]
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, names=names
    )
    registry["nama"] = [f"UD {i}" for i in range(len(registry))]
    registry.loc[0, "nama"] = "UD\x00Nol"  # a kept firm
    bad = pd.DataFrame(
        {
            "id": [f"X{i}" for i in range(len(REJECTED_NAMES))],
            "lat": "x",
            "lon": "110.1",
            "kbli": "31001",
            "workers": 1,
            "nama": REJECTED_NAMES,
        }
    )
    sector = registry.iloc[[0]].assign(id="X_sector", kbli="abc")
    pd.concat([registry, bad, sector], ignore_index=True).to_csv(folder / "firms.csv", index=False)
    (folder / "quick.toml").write_text(
        '[area]\nboundaries = "desa.gpkg"\nid_col = "kode"\n'
        "[analysis]\npermutations = 0\n[pointpattern]\nenabled = false\n"
        '[report]\nfigures = "sentra"\n[map]\ntiles = "none"\n',
        encoding="utf-8",
    )
    return folder


def _args(study: Path, out: Path, *extra: str, command: str = "run") -> list[str]:
    return [
        command,
        "--config",
        str(study / "quick.toml"),
        "--records",
        str(study / "firms.csv"),
        "--out",
        str(out),
        *extra,
    ]


def _invoke(args: list[str]) -> Any:
    result = runner.invoke(app, args, catch_exceptions=False)
    assert (
        "Traceback" not in result.output
        and "internal error" not in result.output
        and "galat internal" not in result.output
    )
    return result


@pytest.fixture(scope="module")
def run(study: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A run of the study with a fixed timestamp and firms.gpkg: its folder and output."""
    out = tmp_path_factory.mktemp("run") / "out"
    result = _invoke(_args(study, out, "--timestamp", STAMP, "--firms-gpkg"))
    assert result.exit_code == 0, result.output
    return out, result.output


# -- one control character, a 40,000-character cell, text Excel would run -------------


@pytest.mark.slow
def test_control_characters_are_escaped_in_the_workbook(run: tuple[Path, str]) -> None:
    """``Toko\\x0bBaru`` and ``Toko\\x00Nul`` (rejected rows) and ``Desa\\x01Satu`` (an
    area name) raised openpyxl's IllegalCharacterError (exit 1). Now the run completes;
    the cells show the characters as the command line prints them (``\\x0b``)."""
    from openpyxl import load_workbook

    out, _ = run
    book = load_workbook(out / "results.xlsx")
    rejected = [v for row in book["Data ditolak"].iter_rows(values_only=True) for v in row]
    assert "Toko\\x0bBaru" in rejected and "Toko\\x00Nul" in rejected
    # the boundaries' reader already turned the area name's control character into
    # U+FFFD (boundaries.load_areas), so it reaches the workbook as a name it can hold
    areas = [v for row in book["Wilayah"].iter_rows(values_only=True) for v in row]
    assert "Desa\ufffdSatu" in areas
    sentra = [v for row in book["Sentra"].iter_rows(values_only=True) for v in row]
    assert any(isinstance(v, str) and "Desa\ufffdSatu" in v for v in sentra)  # its name


def test_the_changed_cells_are_named_in_the_workbook_summary_and_log(
    run: tuple[Path, str],
) -> None:
    """Which cells were escaped or cut is said in the workbook's summary sheet, in
    summary.json (``output_notes``) and on the console."""
    from openpyxl import load_workbook

    out, output = run
    book = load_workbook(out / "results.xlsx")
    notes = [r[1] for r in book["Ringkasan"].iter_rows(values_only=True) if r[0] == "Catatan"]
    assert len(notes) == 2, notes
    assert "ditulis sebagai kode seperti \\x0b" in notes[0]
    assert "Data ditolak, kolom nama, baris" in notes[0]
    assert notes[1].startswith("Sel melebihi batas Excel (32.767 karakter), dipotong")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    texts = [n["note"] for n in summary["output_notes"] if n["file"] == "results.xlsx"]
    assert any("written as escapes such as \\x0b" in t for t in texts)
    cut = next(t for t in texts if "longer than Excel's 32,767 characters" in t)
    assert re.search(r"sheet 'Data ditolak', column 'nama', row \d+", cut)
    assert "catatan: results.xlsx: 1 cell(s) longer than Excel" in " ".join(output.split())


def test_an_overlong_cell_is_cut_with_its_length_and_the_whole_file(
    run: tuple[Path, str],
) -> None:
    """A 40,000-character name was written whole (Excel cuts or refuses it without a
    word); now the cell holds Excel's 32,767 characters, ending with the name's length
    and the file that holds it whole, and rejected.csv keeps all 40,000."""
    from openpyxl import load_workbook

    out, _ = run
    book = load_workbook(out / "results.xlsx")
    cells = [v for row in book["Data ditolak"].iter_rows(values_only=True) for v in row]
    cut = [v for v in cells if isinstance(v, str) and v.startswith("AAAA")]
    assert len(cut) == 1 and len(cut[0]) == EXCEL_CELL
    assert cut[0].endswith(" … [dipotong dari 40.000 karakter; teks utuh di rejected.csv]")
    rejected = pd.read_csv(out / "rejected.csv", dtype=str, keep_default_na=False)
    assert LONG_NAME in set(rejected["nama"])


def test_nul_characters_are_escaped_in_the_geopackages(
    run: tuple[Path, str], tmp_path: Path
) -> None:
    """GDAL ends a text at its first NUL: ``UD\\x00Nol`` (a kept firm) was stored as
    ``UD`` in firms.gpkg, and an area named ``Desa\\x00Dua`` (from a Parquet boundaries
    file; a GeoPackage one cannot hold it) as ``Desa`` in areas.gpkg, without a word.
    Now both hold the escape, with a note; firms/ (Parquet) keeps the text as it is."""
    import geopandas as gpd
    import pyogrio
    import shapely

    from klastergeo.app.pipeline.firm_output import read_firms

    out, output = run
    firms = pyogrio.read_dataframe(out / "firms.gpkg", layer="firms")
    assert "UD\\x00Nol" in set(firms["name"])
    assert "UD\x00Nol" in set(read_firms(out)["name"])
    assert "catatan: firms.gpkg: 1 text value(s) held NUL characters" in " ".join(output.split())
    layer = gpd.GeoDataFrame(
        {"name": ["Desa\x00Dua", "Desa 1"], "n_firms": [1, 2]},
        geometry=[shapely.box(110, -7, 110.1, -6.9)] * 2,
        crs=4326,
        index=pd.Index(["a", "b"], name="area_code"),
    )
    sentra = gpd.GeoDataFrame(
        {"sector": pd.Series([], dtype=str)}, geometry=[], crs=4326
    ).rename_axis("sentra_id")
    gis.write_layers(tmp_path, layer=layer, sentra=sentra)
    areas = pyogrio.read_dataframe(tmp_path / "areas.gpkg", layer="areas")
    assert areas["name"].tolist() == ["Desa\\x00Dua", "Desa 1"]


def test_formula_text_stays_text_in_the_workbook(run: tuple[Path, str]) -> None:
    from openpyxl import load_workbook

    out, _ = run
    book = load_workbook(out / "results.xlsx")
    cells = [c for row in book["Data ditolak"].iter_rows(min_row=2) for c in row]
    formula = [c for c in cells if c.value == "=cmd|' /C calc'!A0"]
    assert len(formula) == 1 and formula[0].data_type == "s"


def test_rejected_csv_neutralises_formulas_and_keeps_numbers(run: tuple[Path, str]) -> None:
    """rejected.csv kept ``=cmd|' /C calc'!A0`` as it was, which Excel runs. Now every
    text starting with one of OWASP's characters is prefixed with ``'``; ``-7.5`` and a
    latitude given as ``-8.13...`` stay numbers."""
    out, _ = run
    rejected = pd.read_csv(out / "rejected.csv", dtype=str, keep_default_na=False)
    names = dict(zip(rejected["id"], rejected["nama"], strict=True))
    assert names["X2"] == "'=cmd|' /C calc'!A0"
    assert names["X3"] == "'+1+2" and names["X4"] == "'@SUM(1)" and names["X5"] == "'\tTab"
    assert names["X6"] == "-7.5"  # a number
    by_id = rejected.set_index("id")
    assert re.fullmatch(r"-\d+\.\d+", by_id.loc["X_sector", "lat"])


def test_every_csv_of_a_run_and_its_site_is_safe_in_a_spreadsheet(
    run: tuple[Path, str], tmp_path: Path
) -> None:
    """Every CSV file a run writes, and every one of the site published from it, goes
    through the one CSV writer: no field starts with a formula character unless it is a
    number. The area names ``=HYPERLINK(...)``, ``@SUM(A1)`` and ``-2+3`` reach
    sentra.csv, sentra_areas.csv and the site's areas.csv; the check can fail (the
    prefixed fields are there)."""
    out, _ = run
    site = tmp_path / "site"
    published = _invoke(["publish", str(out), "--site", str(site)])
    assert published.exit_code == 0, published.output
    files = sorted(out.rglob("*.csv")) + sorted(site.rglob("*.csv"))
    names = {p.name for p in files}
    assert {"rejected.csv", "sentra.csv", "sentra_areas.csv", "global.csv", "areas.csv"} <= names
    assert {"colocation.csv", "concentration.csv", "lpm_coefficients.csv"} <= names
    prefixed = 0
    for path in files:
        fields = _fields(path)
        assert not [f for f in fields if _unsafe(f)], path
        prefixed += sum(f.startswith(("'=", "'@", "'-", "'+", "'\t")) for f in fields)
    sentra = pd.read_csv(out / "sentra.csv", dtype=str)
    assert sentra.loc[0, "name"].startswith("'=HYPERLINK")
    areas = pd.read_csv(site / "areas.csv", dtype=str)
    assert {"'@SUM(A1)", "'-2+3"} <= set(areas["area_name"])
    assert prefixed >= 8


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-7.5", "-7.5"),
        ("+62812345", "+62812345"),
        ("-7,5", "-7,5"),
        ("-1e5", "-1e5"),
        ("UD -Jati", "UD -Jati"),
    ],
)
def test_the_csv_writer_follows_owasp(value: str, written: str, tmp_path: Path) -> None:
    """OWASP's six characters (as a column name, a value and an index value) get the
    ``'``; a number written as text stays; numeric columns are never touched."""
    frame = pd.DataFrame(
        {value: [value, "x"], "number": [-7.5, 2.0]},
        index=pd.Index([value, "y"], name="key"),
    )
    path = _io.write_csv(frame, tmp_path / "t.csv", index=True)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["key", written, "number"]
    assert rows[1] == [written, written, "-7.5"]
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back.shape == (2, 3) and back.iloc[0].tolist() == [written, written, "-7.5"]


# -- many sectors: a layer wider than a GeoPackage holds -------------------------------


def test_gdal_refuses_a_layer_wider_than_max_fields(tmp_path: Path) -> None:
    """Where :data:`gis.MAX_FIELDS` comes from: GDAL writes 1,998 attribute columns into
    a GeoPackage layer and refuses 1,999 (SQLite's 2,000 with the id and geometry)."""
    import geopandas as gpd
    import pyogrio
    import shapely

    def layer(n: int) -> gpd.GeoDataFrame:
        values = pd.DataFrame(np.zeros((1, n)), columns=[f"c{i}" for i in range(n)])
        return gpd.GeoDataFrame(values, geometry=[shapely.Point(110, -7)], crs=4326)

    layer(gis.MAX_FIELDS).to_file(tmp_path / "ok.gpkg", driver="GPKG", engine="pyogrio")
    assert len(pyogrio.read_info(tmp_path / "ok.gpkg")["fields"]) == gis.MAX_FIELDS
    with pytest.raises(pyogrio.errors.FieldError):
        layer(gis.MAX_FIELDS + 1).to_file(tmp_path / "no.gpkg", driver="GPKG", engine="pyogrio")


@pytest.mark.slow
def test_many_sectors_split_areas_gpkg_into_layers(study: Path, tmp_path: Path) -> None:
    """At --sector-digits 5, 260 analysed sectors need 3 + 260 x 8 = 2,083 columns:
    areas.gpkg failed with FieldError (exit 1). Now the sectors go whole into layers
    ``areas`` ((1,998 - 3) // 8 = 249 sectors) and ``areas_2`` (11), with a table
    ``sectors``; the values equal areas.parquet's, and the split is noted."""
    import pyogrio

    rng = np.random.default_rng(0)
    codes = [f"{10 + i // 11:02d}{i % 11 // 2}{i % 2}{rng.integers(0, 9)}" for i in range(260)]
    registry = pd.read_csv(study / "firms.csv", dtype=str).iloc[:300]
    registry = registry.loc[registry["lat"] != "x"].sample(260 * 6, replace=True, random_state=1)
    registry["id"] = [f"W{i}" for i in range(len(registry))]
    registry["kbli"] = [codes[i % 260] for i in range(len(registry))]
    records = tmp_path / "wide.csv"
    registry.to_csv(records, index=False)
    args = _args(study, tmp_path / "out", "--sector-digits", "5", command="sentra")
    args[args.index("--records") + 1] = str(records)
    args += ["--set", "analysis.min_sector_firms=5", "--set", "colocation.enabled=false"]
    args += ["--set", 'report.figures="none"']
    result = _invoke(args)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    analysed = json.loads((out / "summary.json").read_text())["sectors"]["analysed"]
    assert len(analysed) == 260
    layers = [name for name, _ in pyogrio.list_layers(out / "areas.gpkg")]
    assert layers == ["areas", "areas_2", "sectors", "layer_styles"]
    first = pyogrio.read_info(out / "areas.gpkg", layer="areas")
    second = pyogrio.read_info(out / "areas.gpkg", layer="areas_2")
    assert len(first["fields"]) == 3 + 249 * 8 <= gis.MAX_FIELDS
    assert len(second["fields"]) == 3 + 11 * 8
    assert list(second["fields"][:3]) == ["area_code", "name", "n_firms"]
    index = pyogrio.read_dataframe(out / "areas.gpkg", layer="sectors")
    assert index["sector"].tolist() == analysed
    assert index["layer"].value_counts().to_dict() == {"areas": 249, "areas_2": 11}
    sector = analysed[-1]
    layer = pyogrio.read_dataframe(out / "areas.gpkg", layer="areas_2").set_index("area_code")
    long = pd.read_parquet(out / "areas.parquet")
    expected = long.loc[long["sector"] == sector].set_index("area_code")["n_firms"]
    assert layer[f"n_firms_{sector}"].tolist() == expected.reindex(layer.index).tolist()
    assert "written as 2 layers of whole sectors (areas: 249 sector(s)" in " ".join(
        result.output.split()
    )


# -- --firms-gpkg: names a GeoPackage cannot take, more columns than a layer holds ------


@pytest.mark.slow
def test_firms_gpkg_renames_reserved_and_case_duplicate_columns(
    study: Path, tmp_path: Path
) -> None:
    """Input columns ``fid``, ``geom``, ``GEOM`` and ``Catatan`` beside ``catatan`` made
    firms.gpkg fail (exit 1). Now they are renamed there (``fid_input``,
    ``geom_input``, ``GEOM_input_2``: unique without case, ``catatan_2``) with a note;
    firms/ keeps the names."""
    import pyogrio

    from klastergeo.app.pipeline.firm_output import read_firms

    registry = pd.read_csv(study / "firms.csv", dtype=str)
    registry = registry.assign(fid="a", geom="b", GEOM="c", Catatan="d", catatan="e")
    records = tmp_path / "names.csv"
    registry.to_csv(records, index=False)
    args = _args(study, tmp_path / "out", "--firms-gpkg", command="sentra")
    args[args.index("--records") + 1] = str(records)
    result = _invoke([*args, "--set", 'report.figures="none"'])
    assert result.exit_code == 0, result.output
    layer = pyogrio.read_dataframe(tmp_path / "out" / "firms.gpkg")
    for column, value in (
        ("fid_input", "a"),
        ("geom_input", "b"),
        ("GEOM_input_2", "c"),
        ("Catatan", "d"),
        ("catatan_2", "e"),
    ):
        assert set(layer[column]) == {value}, column
    assert {"fid", "geom", "GEOM", "catatan"} <= set(read_firms(tmp_path / "out").columns)
    text = " ".join(result.output.split())
    assert "'fid' -> 'fid_input', 'geom' -> 'geom_input', 'GEOM' -> 'GEOM_input_2'" in text
    assert "'catatan' -> 'catatan_2'" in text


@pytest.mark.slow
def test_firms_gpkg_of_a_registry_wider_than_a_layer(study: Path, tmp_path: Path) -> None:
    """A registry with 2,000 more columns made firms.gpkg fail (exit 1: limit of 2,000
    columns). Now the run's columns and the registry's first ones are kept up to
    :data:`gis.MAX_FIELDS`, the rest named in a note; firms/ keeps them all."""
    import pyogrio

    registry = pd.read_csv(study / "firms.csv", dtype=str)
    extra = pd.DataFrame({f"x{i}": "v" for i in range(2000)}, index=registry.index)
    records = tmp_path / "wide.csv"
    pd.concat([registry, extra], axis=1).to_csv(records, index=False)
    args = _args(study, tmp_path / "out", "--firms-gpkg", command="sentra")
    args[args.index("--records") + 1] = str(records)
    result = _invoke([*args, "--set", 'report.figures="none"'])
    assert result.exit_code == 0, result.output
    fields = list(pyogrio.read_info(tmp_path / "out" / "firms.gpkg")["fields"])
    assert len(fields) == gis.MAX_FIELDS
    assert {"record_id", "sentra_id", "in_sentra", "area_code", "x0"} <= set(fields)
    assert "x1999" not in fields
    assert re.search(r"left out \('x\d+', .*; firms/ \(GeoParquet\) has them all", result.output)


# -- the environment: a full disk where GDAL, shutil or Arrow write ---------------------


def _gdal_fails(monkeypatch: pytest.MonkeyPatch, message: str, *, free: int | None) -> None:
    """areas.gpkg's write fails as GDAL fails on a full disk, and the disk has ``free``
    bytes left (None: as it is)."""
    import geopandas as gpd
    import pyogrio

    original = gpd.GeoDataFrame.to_file

    def to_file(self: Any, filename: Any, *args: Any, **kwargs: Any) -> Any:
        if "areas.gpkg" in str(filename):
            raise pyogrio.errors.DataSourceError(message)
        return original(self, filename, *args, **kwargs)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", to_file)
    if free is not None:
        monkeypatch.setattr(_io, "_free_bytes", lambda path: free)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("message", "free", "expected"),
    [
        ("Failed to commit transaction", 0, "No space left on device; free some disk space"),
        ("sqlite3_exec(COMMIT) failed: database or disk is full", None, "No space left on"),
        (
            "sqlite3_exec(INSERT INTO gpkg_contents ...) failed: no such table: gpkg_contents",
            4096,
            "No space left on device",
        ),
        (
            "Failed to commit transaction",
            None,
            "GDAL: Failed to commit transaction; the disk reported an error; check it",
        ),
        ("attempt to write a readonly database", None, "choose a writable --out"),
    ],
)
def test_a_failed_geopackage_write_is_exit_2_naming_the_file(
    message: str,
    free: int | None,
    expected: str,
    study: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GDAL's errors carry no errno (``DataSourceError: Failed to commit transaction``
    was exit 1); its words, or a disk with less than 1 MB free, say what failed."""
    _gdal_fails(monkeypatch, message, free=free)
    out = tmp_path / "out"
    args = [*_args(study, out, command="sentra"), "--set", 'report.figures="none"']
    result = _invoke(
        [*args, "--lang", "en"]
    )  # the library's words (Indonesian: test_language_errors)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"cannot write '{out / 'areas.gpkg'}' (writing the --out folder)" in text
    assert expected in text
    assert not out.exists() and not list(tmp_path.glob(".out.staging-*"))


@pytest.mark.slow
def test_a_gdal_error_that_is_not_the_disk_stays_a_bug(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mapping can fail: a GDAL error with room on the disk and no word of it is a
    bug (exit 1), not an error of the environment."""
    _gdal_fails(monkeypatch, "Cannot create field x: bad name", free=10 << 30)
    result = runner.invoke(app, [*_args(study, tmp_path / "out", command="sentra")])
    assert result.exit_code == 1 and "galat internal: DataSourceError" in result.output


def _full_disk(path: Path, option: str) -> str:
    """The message of a full disk met writing ``path`` of the ``option`` folder, in
    Indonesian (the catalogue's ``errors`` group)."""
    said = messages.text("errors", "id")
    return said["output_unwritable"].format(
        path=repr(str(path)),
        what=said["doing_writing"].format(folder=option),
        why=said["why_enospc"],
        hint=said["hint_space"].format(option=option),
    )


def test_a_full_disk_met_by_arrow_names_the_file(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arrow's and ``write()``'s errors name no file: the message said "cannot write
    'writing the --out folder'". Now it names the file being written."""

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    out = tmp_path / "out"
    args = [*_args(study, out, command="sentra"), "--set", 'report.figures="none"']
    result = _invoke([*args, "--lang", "en"])  # the library's English message
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"cannot write '{out / 'areas.parquet'}' (writing the --out folder)" in text
    assert "free some disk space or choose --out on another disk" in text


def test_publish_onto_a_full_disk_names_the_site_file(
    run: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``shutil.copy2`` names the file it read (the run's) and the one it wrote as
    filename2; the message names the site's file and says --site."""

    def copy2(source: Any, target: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(source), None, str(target))

    monkeypatch.setattr(shutil, "copy2", copy2)
    site = tmp_path / "site"
    result = _invoke(["publish", str(run[0]), "--site", str(site)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    # the run's language (Indonesian): publish speaks it (the English: test above)
    assert _full_disk(site / "report.html", "--site") in text
    assert not site.exists()


def test_publish_copytree_errors_are_exit_2(
    run: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``copytree`` gathers one error per file into ``shutil.Error`` (exit 1 before);
    the first error of the environment is reported."""
    out = run[0]
    assert (out / "figures").is_dir()

    def copytree(source: Any, target: Any, **kwargs: Any) -> None:
        errors = [
            (str(Path(source) / name), str(Path(target) / name), f"[Errno 28] No space: {name}")
            for name in ("gi_31.png", "lisa_31.png")
        ]
        raise shutil.Error(errors)

    monkeypatch.setattr(shutil, "copytree", copytree)
    site = tmp_path / "site"
    result = _invoke(["publish", str(out), "--site", str(site)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert _full_disk(site / "figures" / "gi_31.png", "--site") in text


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("sqlite3_exec(COMMIT) failed: database or disk is full", errno.ENOSPC),
        ("Failed to write: No space left on device", errno.ENOSPC),
        ("sqlite3_open(x.gpkg) failed: Permission denied", errno.EACCES),
        ("attempt to write a readonly database", errno.EROFS),
        ("Read-only file system", errno.EROFS),
        ("Disk quota exceeded", errno.EDQUOT),
        ("disk I/O error", errno.EIO),
        ("Cannot create field geom. It has the same name as the geometry field.", None),
    ],
)
def test_gdal_messages_map_to_errno(error: str, code: int | None) -> None:
    """The words GDAL and SQLite use for the environment (as seen on a full tmpfs and in
    SQLite's result codes), with room on the disk."""
    import pyogrio

    cause = _io.environment_cause(pyogrio.errors.FeatureError(error), None)
    assert (cause.errno if cause is not None else None) == code


# -- byte-identical re-runs ---------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _summary(data: bytes) -> dict[str, Any]:
    """A summary without what measures the run (seconds and memory per step) and its
    output folder."""
    summary = json.loads(data)
    for key in ("timings", "peak_rss_mb"):
        summary.pop(key)
    summary["config"].pop("out")
    return summary


@pytest.mark.slow
def test_a_rerun_with_the_same_seed_and_timestamp_writes_the_same_bytes(
    study: Path, run: tuple[Path, str], tmp_path: Path
) -> None:
    """Every file of a second run equals the first's, byte for byte (map.html,
    report.html, index.html, results.xlsx, the GeoPackages and the figures included),
    and summary.json lists the same files with the same SHA-256; only its timings and
    peak memory differ (and ``config.out``: the second run goes elsewhere)."""
    first = _files(run[0])
    again = tmp_path / "again"
    result = _invoke(_args(study, again, "--timestamp", STAMP, "--firms-gpkg"))
    assert result.exit_code == 0, result.output
    second = _files(again)
    assert set(first) == set(second)
    assert {"map.html", "results.xlsx", "areas.gpkg", "firms.gpkg", "figures/gi_31.png"} <= set(
        first
    )
    assert [n for n in first if n != "summary.json" and first[n] != second[n]] == []
    one, two = _summary(first["summary.json"]), _summary(second["summary.json"])
    assert one["files"] == two["files"] and one == two


@pytest.mark.slow
def test_another_time_changes_exactly_the_files_that_carry_it(
    study: Path, run: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list of files that carry the run's time is complete and not more: a run at
    another time (``SOURCE_DATE_EPOCH``, reproducible builds' variable) differs from the
    first in exactly these; the time is in each of them."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1719716400")  # 2024-06-30T03:00:00Z
    later = tmp_path / "later"
    result = _invoke(_args(study, later, "--firms-gpkg"))
    assert result.exit_code == 0, result.output
    first, second = _files(run[0]), _files(later)
    changed = {n for n in first if first[n] != second[n]}
    assert changed == TIME_FILES
    summary = json.loads(second["summary.json"])
    assert summary["created"] == "2024-06-30T03:00:00+00:00"
    assert "Dibuat: 30 Juni 2024 (klastergeo)" in second["map.html"].decode()
    assert "30 Juni 2024" in second["report.html"].decode()


def test_the_run_time_is_in_the_workbook_and_the_geopackages(run: tuple[Path, str]) -> None:
    """``--timestamp 2024-01-31T08:00:00+07:00`` is 01:00 UTC: the workbook's created and
    modified, its zip entries' dates and each GeoPackage's ``last_change``."""
    out, _ = run
    with zipfile.ZipFile(out / "results.xlsx") as book:
        core = book.read("docProps/core.xml").decode()
        assert {i.date_time for i in book.infolist()} == {(2024, 1, 31, 1, 0, 0)}
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]*)<", core) == [
        "2024-01-31T01:00:00Z",
        "2024-01-31T01:00:00Z",
    ]
    for name in ("areas.gpkg", "sentra.gpkg", "firms.gpkg"):
        with sqlite3.connect(out / name) as db:
            stamps = {r[0] for r in db.execute("SELECT last_change FROM gpkg_contents")}
        assert stamps == {"2024-01-31T01:00:00.000Z"}, name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["created"] == STAMP


@pytest.mark.slow
def test_map_ids_are_counted_not_random(map_world: tuple, tmp_path: Path) -> None:
    """folium's element ids are random (``os.urandom``): two builds of one map wrote two
    pages. Now the ids are counted; every element name the page uses is defined in it
    (the layer control's name, taken when the map was built, included)."""
    from klastergeo.publish import maps

    areas, table, found, firms = map_world

    def page(name: str) -> bytes:
        fmap = maps.build_map(
            maps.MapInput(areas, table, found, firms=firms),
            maps.MapStyle(lang="en", tiles="none", made="2024-01-31"),
        )
        return maps.save_map(fmap, tmp_path / name).read_bytes()

    one, two = page("one.html"), page("two.html")
    assert one == two
    text = one.decode()
    names = set(re.findall(r"\b([a-z_]+_[0-9a-f]{32})\b", text))
    assert any(n.startswith("map_") for n in names) and any("layer_control" in n for n in names)
    defined = set(re.findall(r"(?:var|let|const) ([a-z_]+_[0-9a-f]{32}) =", text))
    defined |= set(re.findall(r'id="([a-z_]+_[0-9a-f]{32})"', text))
    assert names <= defined, names - defined


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("yesterday", "output.timestamp='yesterday' is not accepted; use now or an ISO 8601"),
        ("2024-13-01", "output.timestamp='2024-13-01' is not accepted"),
    ],
)
def test_a_timestamp_that_is_not_a_time_is_exit_2(
    value: str, problem: str, study: Path, tmp_path: Path
) -> None:
    result = _invoke(_args(study, tmp_path / "out", "--timestamp", value))
    assert result.exit_code == 2 and problem in " ".join(result.output.split())


def test_a_source_date_epoch_that_is_not_seconds_is_exit_2(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "2024-01-31")
    result = _invoke(_args(study, tmp_path / "out"))
    assert result.exit_code == 2
    assert "SOURCE_DATE_EPOCH='2024-01-31' is not accepted: it must be whole seconds" in (
        " ".join(result.output.split())
    )


# -- the workbook's text, unit by unit -----------------------------------------------------


def test_excel_text_escapes_as_the_command_line_prints() -> None:
    """Every character XML 1.0 cannot hold is shown as :func:`_console.literal` shows
    it; tab, line feed and carriage return (legal) stay."""
    illegal = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"]
    assert len(illegal) == 29
    for char in illegal:
        assert workbook.excel_text(f"a{char}b") == f"a{literal(char)}b"
    assert workbook.excel_text("a\tb\nc\rd") == "a\tb\nc\rd"
    assert workbook.excel_text("\ufffe\ud800") == "\\ufffe\\ud800"


def test_write_workbook_takes_every_illegal_character_and_any_length(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    text = "".join(chr(c) for c in range(0x20)) + "\ufffe" + "\ud800"
    rejected = pd.DataFrame(
        {"nama\x01": pd.Series([text, "x" * 40_000, "=1+1"], dtype=object), "n": [1, 2, 3]}
    )
    path = workbook.write_workbook(
        tmp_path / "r.xlsx",
        summary=RunRecord(created=STAMP),
        sentra=pd.DataFrame({"sentra_id": pd.Series([], dtype=str)}),
        areas=pd.DataFrame({"area_code": ["a"], "name": ["x\x1fy"]}),
        global_stats=pd.DataFrame(),
        coefficients={},
        rejected=rejected,
        lang="en",
    )
    book = load_workbook(path)
    rows = list(book["Rejected records"].iter_rows(values_only=True))
    assert rows[0][0] == "nama\\x01"
    # (XML reads a carriage return back as a line feed)
    assert rows[1][0] == workbook.excel_text(text).replace("\r", "\n")
    assert "\\x00" in rows[1][0]
    assert len(rows[2][0]) == EXCEL_CELL and rows[2][0].endswith(
        "the whole text is in rejected.csv]"
    )
    assert rows[3][0] == "=1+1"
    notes = [r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0] == "Note"]
    assert "Rejected records, column nama\\x01, row 1" in notes[0]
    assert "Areas, column Name, row 2" in notes[0]
    assert notes[1] == (
        "Cells over Excel's limit (32,767 characters), cut: Rejected records, column "
        "nama\\x01, row 3"
    )


def test_no_module_writes_a_csv_but_the_one_writer() -> None:
    """Every CSV goes through :func:`klastergeo.io.files.write_csv`: no other module of the
    package calls ``to_csv`` or opens a ``csv.writer``."""
    import ast

    import klastergeo

    package = Path(klastergeo.__file__).parent
    calls = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).as_posix() == "io/files.py":  # the writer
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("to_csv", "writer", "DictWriter")
            ):
                calls.append(f"{path.relative_to(package)}:{node.lineno} {node.func.attr}")
    assert calls == []
