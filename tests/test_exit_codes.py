"""The exit-code contract: 0 success, 2 bad input, configuration or environment (with a
message naming the file or key, the bad value and what is accepted), 1 only for a bug.

One case per class of input a new user gives or an environment throws at the tool; none
may exit 1. Messages are printed literally (no markup, control characters escaped).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.io import files as _io
from klastergeo.publish import messages
from tests.worlds.lattice import custom_study, firms_in, lattice

runner = CliRunner()
#: What the console adds to a run's messages, in Indonesian (the runs' default language).
SAID = messages.text("terminal", "id")
NOT_COMPUTED = re.escape(SAID["not_computed"])
#: What a run says it could not compute, and why, in Indonesian.
NOTES = messages.text("notes", "id")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 x 6 custom boundaries file, a registry with a sentra, a quick configuration."""
    folder = tmp_path_factory.mktemp("cases")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=2
    )
    registry["workers"] = registry["workers"].astype(str)
    registry["nama"] = [f"UD {i}" for i in range(len(registry))]
    registry.to_csv(folder / "firms.csv", index=False)
    (folder / "quick.toml").write_text(
        '[area]\nboundaries = "desa.gpkg"\nid_col = "kode"\n'
        "[analysis]\npermutations = 0\n[pointpattern]\nenabled = false\n"
        '[report]\nfigures = "none"\n[map]\ntiles = "none"\n',
        encoding="utf-8",
    )
    return folder


def _quick(study: Path) -> str:
    """The quick configuration, its boundaries path absolute (to be written elsewhere)."""
    text = (study / "quick.toml").read_text(encoding="utf-8")
    return text.replace('"desa.gpkg"', json.dumps(str(study / "desa.gpkg")))


def _registry(study: Path) -> pd.DataFrame:
    return pd.read_csv(study / "firms.csv", dtype=str)


def _write(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def _run(study: Path, tmp: Path, *extra: str, records: Path | None = None) -> list[str]:
    return [
        "run",
        "--config",
        str(study / "quick.toml"),
        "--records",
        str(records or study / "firms.csv"),
        "--out",
        str(tmp / "out"),
        *extra,
    ]


Case = Callable[[Path, Path], tuple[list[str], dict[str, str]]]


def _case_out_is_a_file(study: Path, tmp: Path):
    (tmp / "out").write_text("x")
    return _run(study, tmp), {}


def _case_out_unwritable(study: Path, tmp: Path):
    args = _run(study, tmp)
    args[args.index("--out") + 1] = "/proc/klastergeo-case/out"
    return args, {}


def _case_out_holds_other_files(study: Path, tmp: Path):
    (tmp / "out").mkdir()
    (tmp / "out" / "notes.docx").write_text("mine")
    return _run(study, tmp), {}


def _case_disk_full(study: Path, tmp: Path):
    return _run(study, tmp), {_io.FAULT_ENV: "4:enospc"}


def _case_truncated_boundaries(study: Path, tmp: Path):
    folder = tmp / "bnd"
    folder.mkdir()
    real = Path(__file__).resolve().parents[2] / "shared" / "data" / "boundaries"
    source = real / "kecamatan.parquet"
    data = source.read_bytes()[:5000] if source.exists() else b"PAR1" + b"\0" * 100
    (folder / "kecamatan.parquet").write_bytes(data)
    return _run(study, tmp, "--boundaries", str(folder), "--level", "kecamatan", "--area", "33"), {}


def _case_corrupt_boundaries_file(study: Path, tmp: Path):
    (tmp / "desa.gpkg").write_bytes(np.random.default_rng(0).bytes(4096))
    return _run(study, tmp, "--boundaries", str(tmp / "desa.gpkg")), {}


def _case_unknown_encoding(study: Path, tmp: Path):
    return _run(study, tmp, "--encoding", "klingon"), {}


def _case_latin1_toml(study: Path, tmp: Path):
    path = tmp / "latin.toml"
    path.write_bytes('[map]\ntitle = "Peta caf\xe9"\n'.encode("latin-1"))
    return ["run", "--config", str(path), "--records", str(study / "firms.csv")], {}


def _case_area_code_as_number(study: Path, tmp: Path):
    path = tmp / "num.toml"
    path.write_text("[area]\ncode = 33.09\n", encoding="utf-8")
    return ["run", "--config", str(path), "--records", str(study / "firms.csv")], {}


def _case_nan_in_toml(study: Path, tmp: Path):
    path = tmp / "nan.toml"
    path.write_text("[analysis]\ntolerance_m = nan\n", encoding="utf-8")
    return ["run", "--config", str(path), "--records", str(study / "firms.csv")], {}


def _case_nan_flag(study: Path, tmp: Path):
    return _run(study, tmp, "--lq-threshold", "nan"), {}


def _case_huge_permutations(study: Path, tmp: Path):
    return _run(study, tmp, "--permutations", "1000000000000"), {}


def _case_negative_seed(study: Path, tmp: Path):
    return _run(study, tmp, "--seed", "-1"), {}


def _case_bad_level(study: Path, tmp: Path):
    return _run(study, tmp, "--level", "h3:99"), {}


def _case_quote_delimiter(study: Path, tmp: Path):
    return _run(study, tmp, "--delimiter", '"'), {}


def _case_unknown_base_map(study: Path, tmp: Path):
    return _run(study, tmp, "--tiles", "Google<b>"), {}


def _case_tiles_without_attribution(study: Path, tmp: Path):
    return _run(study, tmp, "--tiles", "https://tiles.example.org/{z}/{x}/{y}.png"), {}


def _case_binary_codec(study: Path, tmp: Path):
    return _run(study, tmp, "--encoding", "hex"), {}


def _case_non_ascii_delimiter(study: Path, tmp: Path):
    return _run(study, tmp, "--delimiter", "é"), {}


def _case_path_too_long(study: Path, tmp: Path):
    return _run(study, tmp, records=tmp / ("x" * 300 + ".csv")), {}


def _case_validate_over_a_run(study: Path, tmp: Path):
    done = runner.invoke(app, _run(study, tmp), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    path = str(study / "firms.csv")
    return ["validate", "--records", path, "--out", str(tmp / "out")], {}


def _case_unknown_key(study: Path, tmp: Path):
    path = tmp / "unknown.toml"
    path.write_text("[records]\nfoo = 1\n", encoding="utf-8")
    return ["run", "--config", str(path), "--records", str(study / "firms.csv")], {}


def _case_config_is_a_folder(study: Path, tmp: Path):
    return ["run", "--config", str(tmp), "--records", str(study / "firms.csv")], {}


def _case_records_is_a_folder(study: Path, tmp: Path):
    return _run(study, tmp, records=tmp), {}


def _case_markup_in_path(study: Path, tmp: Path):
    folder = tmp / "data[bold]x[" / "]"  # a path holding "[/]"
    folder.mkdir(parents=True)
    return _run(study, tmp, records=folder / "[red]missing[" / "].csv"), {}


def _case_control_characters(study: Path, tmp: Path):
    return _run(study, tmp, records=tmp / "evil\x1b[31m\u202e.csv"), {}


def _case_markup_in_header(study: Path, tmp: Path):
    path = tmp / "header.csv"
    path.write_text("[/]bad,[bold]x\n1,2\n", encoding="utf-8")
    return _run(study, tmp, records=path), {}


def _case_empty_csv(study: Path, tmp: Path):
    path = tmp / "empty.csv"
    path.write_text("", encoding="utf-8")
    return _run(study, tmp, records=path), {}


def _case_corrupt_excel(study: Path, tmp: Path):
    path = tmp / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    return _run(study, tmp, records=path), {}


def _case_corrupt_parquet(study: Path, tmp: Path):
    path = tmp / "broken.parquet"
    path.write_bytes(b"PAR1 not really parquet")
    return _run(study, tmp, records=path), {}


def _case_case_colliding_columns(study: Path, tmp: Path):
    frame = _registry(study).rename(columns={"lat": "lintang"}).assign(LINTANG="x")
    return _run(study, tmp, records=_write(tmp / "case.csv", frame)), {}


def _case_nothing_kept(study: Path, tmp: Path):
    frame = _registry(study).assign(kbli="abc")
    return _run(study, tmp, records=_write(tmp / "bad.csv", frame)), {}


def _case_validate_nothing_kept(study: Path, tmp: Path):
    frame = _registry(study).assign(kbli="abc")
    path = _write(tmp / "bad.csv", frame)
    return ["validate", "--records", str(path), "--out", str(tmp / "out")], {}


def _case_one_firm(study: Path, tmp: Path):
    return _run(study, tmp, records=_write(tmp / "one.csv", _registry(study).iloc[:1])), {}


def _case_all_in_one_village(study: Path, tmp: Path):
    frame = _registry(study)
    frame["lat"], frame["lon"] = frame.loc[0, "lat"], frame.loc[0, "lon"]
    return _run(study, tmp, records=_write(tmp / "village.csv", frame)), {}


def _case_one_sector(study: Path, tmp: Path):
    frame = _registry(study).assign(kbli="31001")
    return _run(study, tmp, records=_write(tmp / "sector.csv", frame)), {}


def _case_two_areas(study: Path, tmp: Path):
    areas = lattice(1, 2)
    areas["kode"] = ["99.01", "99.02"]
    areas.reset_index(drop=True).to_crs(4326).to_file(tmp / "two.gpkg")
    firms = firms_in(areas, {"r0c0": {"31": 30}, "r0c1": {"10": 25}})
    frame = pd.DataFrame(
        {
            "id": range(len(firms)),
            "lat": firms.geometry.y,
            "lon": firms.geometry.x,
            "kbli": firms["sector"] + "001",
        }
    )
    return _run(
        study, tmp, "--boundaries", str(tmp / "two.gpkg"), records=_write(tmp / "two.csv", frame)
    ), {}


def _case_tool_column_names(study: Path, tmp: Path):
    frame = _registry(study).assign(
        reason="x", row="y", detail="z", record_id="r", geometry="g", in_sentra="7"
    )
    return _run(study, tmp, records=_write(tmp / "names.csv", frame)), {}


def _case_absurd_numbers(study: Path, tmp: Path):
    frame = _registry(study)
    frame.loc[0, "workers"] = "inf"
    frame.loc[1, "workers"] = "1e999"
    frame.loc[2, "workers"] = "9" * 400
    return _run(study, tmp, records=_write(tmp / "absurd.csv", frame)), {}


def _case_kbli_as_numbers(study: Path, tmp: Path):
    frame = _registry(study)
    typed = frame.assign(kbli=frame["kbli"].astype(int), lat=frame["lat"].astype(float))
    typed["lon"] = typed["lon"].astype(float)
    typed.loc[0, "kbli"] = 1110  # 01110 with its leading zero lost
    typed.to_parquet(tmp / "typed.parquet")
    return _run(study, tmp, records=tmp / "typed.parquet"), {}


def _case_knn_on_lon_lat(study: Path, tmp: Path):
    return _run(study, tmp, "--weights", "knn"), {}


def _case_area_model_constant_predictor(study: Path, tmp: Path):
    areas = pd.DataFrame({"kode": [f"99.{i:02d}" for i in range(36)]})
    areas["y"] = np.arange(36) % 7
    areas["x"] = 1.0
    areas.to_csv(tmp / "areas.csv", index=False)
    return [
        "model",
        "--config",
        str(study / "quick.toml"),
        "--area-data",
        str(tmp / "areas.csv"),
        "--area-id",
        "kode",
        "--outcome",
        "y",
        "--predictors",
        "x",
        "--out",
        str(tmp / "out"),
    ], {}


def _case_publish_not_a_run(study: Path, tmp: Path):
    return ["publish", str(tmp), "--site", str(tmp / "site")], {}


CASES: dict[str, tuple[Case, int, str]] = {
    # output folder and environment, seen before any computing
    "out is a file": (_case_out_is_a_file, 2, r"--out '.*out' is a file; give a folder"),
    "out not writable": (_case_out_unwritable, 2, r"cannot write '/proc/"),
    "out holds other files": (
        _case_out_holds_other_files,
        2,
        r"holds files that no klastergeo run wrote \(notes.docx\)",
    ),
    "disk full": (_case_disk_full, 2, r"No space left on device.*free some disk space"),
    # boundaries
    "truncated boundaries": (
        _case_truncated_boundaries,
        2,
        r"cannot read boundaries '.*kecamatan.parquet'",
    ),
    "corrupt boundaries file": (
        _case_corrupt_boundaries_file,
        2,
        r"cannot read boundaries '.*desa.gpkg'",
    ),
    # configuration
    "unknown encoding": (_case_unknown_encoding, 2, r"records.encoding='klingon' is not a known"),
    "Latin-1 TOML": (_case_latin1_toml, 2, r"latin.toml' is not UTF-8 text \(byte b'\\xe9'"),
    "area code as a number": (
        _case_area_code_as_number,
        2,
        r'area.code=33.09 is a number.*code = "33.09"',
    ),
    "nan in TOML": (
        _case_nan_in_toml,
        2,
        r"analysis.tolerance_m=nan is not accepted: it must be a finite number",
    ),
    "nan flag": (_case_nan_flag, 2, r"sentra.lq_threshold=nan is not accepted"),
    "huge permutations": (_case_huge_permutations, 2, r"too many; use at most 99,999"),
    "negative seed": (_case_negative_seed, 2, r"analysis.seed=-1 must be zero or positive"),
    "bad H3 level": (_case_bad_level, 2, r"level 'h3:99' is not a valid H3 level"),
    "quote as delimiter": (
        _case_quote_delimiter,
        2,
        r"records.delimiter='\"' must be one character",
    ),
    "unknown base map": (_case_unknown_base_map, 2, r"map.tiles='Google<b>' is not a base map"),
    "tile URL without attribution": (
        _case_tiles_without_attribution,
        2,
        r"is a custom tile URL; give its map.attribution",
    ),
    "binary codec as encoding": (_case_binary_codec, 2, r"records.encoding='hex' is not a known"),
    "non-ASCII delimiter": (_case_non_ascii_delimiter, 2, r"records.delimiter='é' must be one"),
    "path too long": (
        _case_path_too_long,
        2,
        r"jalur '.*xxxx.csv' tidak dapat dipakai: File name too long",
    ),
    "validate over a run's folder": (
        _case_validate_over_a_run,
        2,
        r"holds the outputs of klastergeo run; the validate outputs would replace them",
    ),
    "unknown key": (_case_unknown_key, 2, r"\[records\] has unknown key\(s\) 'foo'"),
    "config is a folder": (_case_config_is_a_folder, 2, r"is a folder, not a file"),
    # records
    "records is a folder": (_case_records_is_a_folder, 2, r"is a directory, not a file"),
    "markup in a path": (
        _case_markup_in_path,
        2,
        r"data\[bold\]x\[/\]/\[red\]missing\[/\].csv' does not exist",
    ),
    "control characters": (_case_control_characters, 2, r"evil\\x1b\[31m\\u202e.csv"),
    "markup in a header": (
        _case_markup_in_header,
        2,
        r"The file's columns are: \[/\]bad, \[bold\]x",
    ),
    "empty CSV": (_case_empty_csv, 2, r"empty.csv' is empty"),
    "corrupt Excel": (_case_corrupt_excel, 2, r"cannot read '.*broken.xlsx' as an Excel workbook"),
    "corrupt Parquet": (_case_corrupt_parquet, 2, r"cannot read '.*broken.parquet' as Parquet"),
    "columns differing by case": (
        _case_case_colliding_columns,
        2,
        r"'lintang', 'LINTANG' differ only in case",
    ),
    "nothing kept": (_case_nothing_kept, 2, r"none kept \(invalid_sector: \d+\); the outputs in"),
    "validate, nothing kept": (_case_validate_nothing_kept, 2, r"is usable \(invalid_sector"),
    # degenerate but valid: complete, and say what was not computed
    "one firm": (
        _case_one_firm,
        0,
        rf"{NOT_COMPUTED} .*"
        + re.escape(NOTES["few_firms"].format(min_firms=20, option="analysis.min_sector_firms")),
    ),
    "all firms in one village": (_case_all_in_one_village, 0, SAID["no_sentra"]),
    "one sector": (
        _case_one_sector,
        0,
        rf"{NOT_COMPUTED} sentra: " + re.escape(NOTES["one_sector"]),
    ),
    "two areas": (
        _case_two_areas,
        0,
        rf"{NOT_COMPUTED} .*" + re.escape(NOTES["few_areas_local"].format(areas=2, needed=3)),
    ),
    "input columns named like the tool's": (
        _case_tool_column_names,
        0,
        r"kept as 'row' ->\s+'row_input', 'record_id' ->\s+'record_id_input'",
    ),
    "inf, 1e999, 400 digits": (
        _case_absurd_numbers,
        0,
        messages.label("reasons", "invalid_value", "id") + r" +│ +3",
    ),
    "KBLI as numbers": (_case_kbli_as_numbers, 0, r"lose the leading zero"),
    "knn on lon/lat": (_case_knn_on_lon_lat, 0, r"Sentra \(1\)"),
    # models and publishing
    "area model, constant predictor": (
        _case_area_model_constant_predictor,
        2,
        r"predictor\(s\) 'x' have the same value in every area",
    ),
    "publish, not a run": (_case_publish_not_a_run, 2, r"is not a klastergeo run folder"),
}


# -- found by an adversarial run over 750 inputs ---------------------------------------


def _case_nested_column_with_repeats(study: Path, tmp: Path):
    frame = _registry(study)
    frame = pd.concat([frame, frame.iloc[:2]], ignore_index=True)
    frame["tags"] = [[i, i + 1] for i in range(len(frame))]
    frame.iloc[-2:, frame.columns.get_loc("tags")] = pd.Series([[0, 1], [1, 2]]).to_numpy()
    frame.to_parquet(tmp / "nested.parquet")
    return _run(study, tmp, records=tmp / "nested.parquet"), {}


def _case_firms_stacked_on_points(study: Path, tmp: Path):
    frame = _registry(study)
    frame["lat"] = frame["lat"].astype(float).round(2).astype(str)
    frame["lon"] = frame["lon"].astype(float).round(2).astype(str)
    path = tmp / "quick.toml"
    path.write_text(_quick(study).replace("enabled = false", "enabled = true"), encoding="utf-8")
    args = _run(study, tmp, records=_write(tmp / "stacked.csv", frame))
    args[args.index("--config") + 1] = str(path)
    return args, {}


def _case_areas_without_names(study: Path, tmp: Path):
    import geopandas as gpd

    areas = gpd.read_file(study / "desa.gpkg")
    areas["nama"] = None
    areas.loc[0, "nama"] = "Satu"
    areas.to_file(tmp / "noname.gpkg")
    return _run(study, tmp, "--boundaries", str(tmp / "noname.gpkg")), {}


def _case_boundaries_are_a_table(study: Path, tmp: Path):
    return _run(study, tmp, "--boundaries", str(study / "firms.csv")), {}


def _case_name_column_is_geometry(study: Path, tmp: Path):
    return _run(study, tmp, "--area-name-col", "geometry"), {}


def _case_empty_polygon(study: Path, tmp: Path):
    import geopandas as gpd
    import shapely

    areas = gpd.read_file(study / "desa.gpkg")
    areas.loc[5, "geometry"] = shapely.Polygon()
    areas.to_file(tmp / "empty.gpkg")
    return _run(study, tmp, "--boundaries", str(tmp / "empty.gpkg"), "--weights", "auto"), {}


def _case_binary_text_in_parquet(study: Path, tmp: Path):
    frame = _registry(study)
    frame["nama"] = [b"\xff\xfe" + str(i).encode() for i in range(len(frame))]
    frame.to_parquet(tmp / "binary.parquet")
    return _run(study, tmp, records=tmp / "binary.parquet"), {}


def _case_no_workers(study: Path, tmp: Path):
    frame = _registry(study).drop(columns=["workers"])
    return _run(study, tmp, records=_write(tmp / "noworkers.csv", frame)), {}


def _case_categorical_one_level(study: Path, tmp: Path):
    frame = _registry(study).assign(milik="lokal")
    return [
        *_run(study, tmp, records=_write(tmp / "one_level.csv", frame)),
        "--predictors",
        "workers,milik",
    ], {}


def _case_outcome_is_a_mapped_column(study: Path, tmp: Path):
    frame = _registry(study).rename(columns={"workers": "tenaga_kerja"})
    frame["ekspor"] = (np.arange(len(frame)) % 2).astype(str)
    path = _write(tmp / "mapped.csv", frame)
    return [
        "model",
        "--config",
        str(study / "quick.toml"),
        "--records",
        str(path),
        "--outcome",
        "ekspor",
        "--predictors",
        "tenaga_kerja,nama",
        "--out",
        str(tmp / "out"),
    ], {}


def _case_categorical_with_a_level_per_firm(study: Path, tmp: Path):
    frame = _registry(study)
    frame["ekspor"] = (np.arange(len(frame)) % 2).astype(str)
    frame["kode"] = [f"k{i}" for i in range(len(frame))]
    path = _write(tmp / "levels.csv", frame)
    return [
        "model",
        "--config",
        str(study / "quick.toml"),
        "--records",
        str(path),
        "--outcome",
        "ekspor",
        "--predictors",
        "kode",
        "--categorical",
        "kode",
        "--kind",
        "lpm",
        "--out",
        str(tmp / "out"),
    ], {}


def _case_id_as_predictor(study: Path, tmp: Path):
    args, env = _case_categorical_with_a_level_per_firm(study, tmp)
    return [a if a != "kode" else "id" for a in args], env


def _case_bom_in_toml(study: Path, tmp: Path):
    path = tmp / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (study / "quick.toml").read_bytes())
    return [
        "run",
        "--config",
        str(path),
        "--records",
        str(study / "firms.csv"),
        "--boundaries",
        str(study / "desa.gpkg"),
        "--out",
        str(tmp / "out"),
    ], {}


def _case_rook_weights(study: Path, tmp: Path):
    return _run(study, tmp, "--weights", "rook"), {}


def _case_grid_too_fine(study: Path, tmp: Path):
    return _run(study, tmp, "--level", "h3:15"), {}


def _case_unknown_sector(study: Path, tmp: Path):
    path = tmp / "sectors.toml"
    text = _quick(study).replace("[analysis]\n", '[analysis]\nsectors = ["31", "99"]\n')
    path.write_text(text, encoding="utf-8")
    args = _run(study, tmp)
    args[args.index("--config") + 1] = str(path)
    return args, {}


def _case_area_data_repeats_ids(study: Path, tmp: Path):
    table = pd.DataFrame({"kode": ["99.00", "99.00", "99.01"], "y": [1, 2, 3], "x": [4, 5, 6]})
    table.to_csv(tmp / "areas.csv", index=False)
    return [
        "model",
        "--config",
        str(study / "quick.toml"),
        "--area-data",
        str(tmp / "areas.csv"),
        "--area-id",
        "kode",
        "--outcome",
        "y",
        "--predictors",
        "x",
        "--out",
        str(tmp / "out"),
    ], {}


def _case_publish_a_changed_run(study: Path, tmp: Path):
    done = runner.invoke(app, _run(study, tmp), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    (tmp / "out" / "areas.parquet").write_bytes(b"PAR1 damaged")
    return ["publish", str(tmp / "out"), "--site", str(tmp / "site")], {}


CASES.update(
    {
        "nested column with repeated rows": (_case_nested_column_with_repeats, 0, r"Sentra \(1\)"),
        "firms stacked on a few points": (
            _case_firms_stacked_on_points,
            0,
            re.escape(SAID["outputs"]),
        ),
        "areas without names": (_case_areas_without_names, 0, r"have no name in column"),
        "boundaries are a table": (_case_boundaries_are_a_table, 2, r"have no geometry \(a table"),
        "name column is the geometry": (
            _case_name_column_is_geometry,
            2,
            r"'geometry' is the geometry column",
        ),
        "an empty polygon": (
            _case_empty_polygon,
            2,
            r"1 area\(s\) with an empty geometry \('99.05'\)",
        ),
        "binary text in Parquet": (
            _case_binary_text_in_parquet,
            2,
            r"column 'nama' of '.*binary.parquet' holds binary values that are not UTF-8",
        ),
        "no workers column": (
            _case_no_workers,
            0,
            rf"{NOT_COMPUTED} {NOTES['typology_workers']}: "
            + re.escape(NOTES["no_workers"].format(missing=75)),
        ),
        "text predictor not named categorical": (
            _case_categorical_one_level,
            2,
            r"'milik' cannot be used: .*name it in model.categorical \(--categorical\)",
        ),
        "outcome or predictor is a mapped column": (
            _case_outcome_is_a_mapped_column,
            2,
            r"model predictor 'nama' is the firm name column; it cannot be a predictor",
        ),
        "categorical with a level per firm": (
            _case_categorical_with_a_level_per_firm,
            2,
            r"categorical predictor 'kode' has 317 levels for 317 rows; at most 50",
        ),
        "the record id as a predictor": (
            _case_id_as_predictor,
            2,
            r"model predictor 'id' is the record id column",
        ),
        "TOML with a BOM": (_case_bom_in_toml, 0, r"Sentra \(1\)"),
        "rook weights": (_case_rook_weights, 0, r"Sentra \(1\)"),
        "H3 grid too fine": (
            _case_grid_too_fine,
            2,
            r"level h3:15 over this study area .* cells; at most 1,000,000",
        ),
        "unknown analysis.sectors": (
            _case_unknown_sector,
            2,
            r"analysis.sectors names '99', which no kept firm has",
        ),
        "area data repeats ids": (
            _case_area_data_repeats_ids,
            2,
            r"has 1 area id\(s\) on more than one row",
        ),
        "publish a changed run": (
            _case_publish_a_changed_run,
            2,
            r"was changed after the run wrote it \(areas.parquet\)",
        ),
    }
)


#: Cases that run the whole pipeline (seconds each): ``make test`` runs them, not test-fast.
SLOW_CASES = {
    "validate over a run's folder",
    "publish a changed run",
    "input columns named like the tool's",
    "TOML with a BOM",
    "disk full",
    "two areas",
    "firms stacked on a few points",
    "nested column with repeated rows",
    "areas without names",
    "rook weights",
    "no workers column",
    "inf, 1e999, 400 digits",
    "KBLI as numbers",
    "knn on lon/lat",
    "one sector",
    "all firms in one village",
    "one firm",
}


#: The cases whose message the command line prints in the run's language (the catalogue's
#: ``errors`` group): their English message, matched here, is the one of ``--lang en``
#: (the Indonesian ones: tests/test_language_errors.py).
TRANSLATED = {
    "out not writable", "disk full", "area code as a number", "nan in TOML", "nan flag",
    "negative seed", "unknown key", "config is a folder", "records is a folder",
    "markup in a path", "markup in a header", "empty CSV", "columns differing by case",
    "nothing kept", "validate, nothing kept",
}  # fmt: skip


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_CASES else n for n in CASES]
)
def test_exit_code_and_message(
    name: str, study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    make, code, message = CASES[name]
    args, env = make(study, tmp_path)
    if name in TRANSLATED:
        args = [*args, "--lang", "en"]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = runner.invoke(app, args, catch_exceptions=False)
    output = result.output
    assert result.exit_code == code, output
    assert (
        "internal error" not in output
        and "galat internal" not in output
        and "Traceback" not in output
    )
    assert re.search(message, output), output


@pytest.mark.slow
def test_a_failed_run_leaves_the_previous_outputs(study: Path, tmp_path: Path) -> None:
    """Validation that keeps nothing writes its report beside the old outputs."""
    ok = runner.invoke(app, _run(study, tmp_path), catch_exceptions=False)
    assert ok.exit_code == 0, ok.output
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    args, _ = _case_nothing_kept(study, tmp_path)
    failed = runner.invoke(app, args, catch_exceptions=False)
    assert failed.exit_code == 2
    assert {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == before
    report = tmp_path / "out.rejected"
    assert json.loads((report / "summary.json").read_text())["status"] == "stopped after validation"
    assert len(pd.read_csv(report / "rejected.csv")) == len(_registry(study))


def test_no_sentra_names_the_near_misses(study: Path, tmp_path: Path) -> None:
    """Asked for 200 firms a sentra, the planted 75 furniture firms make none: the run
    succeeds, says so, and lists the two villages as near misses with the rule they
    failed, in the terminal, in candidates.csv, in summary.json and in the report."""
    result = runner.invoke(app, [*_run(study, tmp_path), "--min-firms", "200"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert SAID["no_sentra"] in text
    near_misses = SAID["near_misses_text"].format(n=2, failed="usaha kelompok 2")
    assert f"{SAID['near_misses']} {near_misses}" in text
    # the reason in the run's language (Indonesian by default), as candidates.csv has it
    reason = "kelompoknya yang terdiri atas 2 wilayah memuat 75 usaha < usaha minimum 200"
    assert reason in text
    near = pd.read_csv(tmp_path / "out" / "candidates.csv", dtype={"area_code": str})
    assert near[["area_code", "sector"]].astype(str).values.tolist() == [
        ["99.14", "31"],
        ["99.15", "31"],
    ]
    assert set(near["failed"]) == {"group_firms"}
    assert near["reason"].str.endswith(reason).all()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["candidates"]["count"] == 2
    assert summary["candidates"]["failed"] == {"group_firms": 2}
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "candidates.csv" in report and "usaha minimum 200" in report


@pytest.mark.slow
def test_gis_layers_open_with_gdal(study: Path, tmp_path: Path) -> None:
    """areas.gpkg and sentra.gpkg: GDAL (through pyogrio) reads polygons in EPSG:4326 with
    the statistics of every analysed sector; the values equal areas.parquet's."""
    import pyogrio

    result = runner.invoke(app, _run(study, tmp_path))
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    info = pyogrio.read_info(out / "areas.gpkg", layer="areas")
    assert info["driver"] == "GPKG" and info["crs"] == "EPSG:4326"
    assert info["geometry_type"] in ("Polygon", "MultiPolygon")
    layer = pyogrio.read_dataframe(out / "areas.gpkg", layer="areas")
    long = pd.read_parquet(out / "areas.parquet")
    assert len(layer) == long["area_code"].nunique() == 36
    for sector in ("10", "31"):
        expected = long.loc[long["sector"] == sector].set_index("area_code")
        got = layer.set_index("area_code")
        assert got[f"n_firms_{sector}"].tolist() == expected["n_firms"].reindex(got.index).tolist()
        assert np.allclose(got[f"lq_{sector}"], expected["lq"].reindex(got.index), equal_nan=True)
        assert (
            got[f"spec_bin_{sector}"].tolist() == expected["spec_bin"].reindex(got.index).tolist()
        )
        assert got[f"gi_bin_{sector}"].tolist() == expected["gi_bin"].reindex(got.index).tolist()
    sentra = pyogrio.read_dataframe(out / "sentra.gpkg", layer="sentra")
    csv = pd.read_csv(out / "sentra.csv")
    assert sentra["sentra_id"].tolist() == csv["sentra_id"].tolist() == ["31-01"]
    assert set(layer.loc[layer["sentra_31"].notna(), "area_code"]) == set(
        csv.loc[0, "area_codes"].split(";")
    )


@pytest.mark.slow
def test_firms_gpkg_and_indonesian_csvs_only_when_asked(study: Path, tmp_path: Path) -> None:
    """``--firms-gpkg`` writes every kept firm as a point layer GDAL reads, equal to the
    GeoParquet firms; ``--csv-locale id`` writes ``;`` and decimal commas that read back
    to the same numbers; by default neither happens."""
    import pyogrio

    from klastergeo.app.pipeline.firm_output import read_firms

    plain = tmp_path / "plain"
    result = runner.invoke(app, _run(study, plain))
    assert result.exit_code == 0, result.output
    local = tmp_path / "local"
    local.mkdir()
    records = _write(local / "firms.csv", _registry(study).assign(catatan=""))
    result = runner.invoke(
        app, _run(study, local, "--firms-gpkg", "--csv-locale", "id", records=records)
    )
    assert result.exit_code == 0, result.output
    assert not (plain / "out" / "firms.gpkg").exists()
    info = pyogrio.read_info(local / "out" / "firms.gpkg", layer="firms")
    assert info["geometry_type"] == "Point" and info["crs"] == "EPSG:4326"
    layer = pyogrio.read_dataframe(local / "out" / "firms.gpkg", layer="firms")
    firms = read_firms(local / "out")
    assert len(layer) == len(firms) == info["features"]
    assert layer["record_id"].astype(str).tolist() == firms.index.astype(str).tolist()
    assert np.allclose(layer.geometry.x, firms.geometry.x)
    assert layer["sentra_id"].fillna("").tolist() == firms["sentra_id"].fillna("").tolist()
    assert "catatan" in layer.columns
    for name in ("sentra.csv", "global.csv", "sentra_areas.csv"):
        text = (local / "out" / name).read_text(encoding="utf-8-sig")  # a BOM for Excel
        assert text.splitlines()[0].count(";") > 3, name
        english = pd.read_csv(plain / "out" / name, dtype={"sector": str})
        indonesian = pd.read_csv(
            local / "out" / name, sep=";", decimal=",", dtype={"sector": str}, encoding="utf-8-sig"
        )
        assert list(indonesian.columns) == list(english.columns)
        numbers = [c for c in ("n_firms", "lq", "moran_i", "spec_z") if c in english]
        assert numbers, name
        for column in numbers:
            assert np.allclose(indonesian[column], english[column], equal_nan=True), column


def test_results_workbook_opens_with_openpyxl(study: Path, tmp_path: Path) -> None:
    """results.xlsx: openpyxl loads it; sheets in the run's language (Indonesian by
    default); the sentra, areas (wide by sector) and rejected rows are there as numbers
    and text; a registry value that looks like a formula stays text."""
    from openpyxl import load_workbook

    registry = _registry(study)
    bad = registry.iloc[[0]].assign(id='=HYPERLINK("http://x")', lat="not a number")
    records = _write(tmp_path / "firms.csv", pd.concat([registry, bad]))
    result = runner.invoke(app, _run(study, tmp_path, records=records))
    assert result.exit_code == 0, result.output
    book = load_workbook(tmp_path / "out" / "results.xlsx")
    assert book.sheetnames == [
        "Ringkasan",
        "Sentra",
        "Wilayah",
        "Statistik global",
        "Model",
        "Data ditolak",
        "Keterangan",
    ]
    summary = {row[0]: row[1] for row in book["Ringkasan"].iter_rows(min_row=2, values_only=True)}
    assert summary["Baris data dibaca"] == len(registry) + 1 and summary["Jumlah sentra"] == 1
    sentra = list(book["Sentra"].iter_rows(values_only=True))
    assert sentra[0][:2] == ("ID", "KBLI") and sentra[1][0] == "31-01"  # Indonesian headers
    areas = list(book["Wilayah"].iter_rows(values_only=True))
    header = list(areas[0])
    assert header[:2] == ["Kode wilayah", "Nama"]
    assert len(areas) == 37 and "Usaha 31" in header and "Spesialisasi (kelas) 31" in header
    assert all(isinstance(row[header.index("Usaha 31")], int) for row in areas[1:])
    rejected = book["Data ditolak"]
    cells = [c for row in rejected.iter_rows(min_row=2) for c in row]
    link = [c for c in cells if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")]
    assert len(link) == 1 and link[0].data_type == "s"  # text, not a formula


@pytest.mark.slow
def test_the_summary_fits_80_columns_and_names_the_pages(study: Path, tmp_path: Path) -> None:
    """At 80 columns (CliRunner's width) no line of the run's summary is longer, and the
    end of the run names the start page, the report and the map."""
    result = runner.invoke(app, _run(study, tmp_path), terminal_width=80)
    assert result.exit_code == 0, result.output
    summary = result.output[result.output.index(SAID["quality"]) :]
    table = summary[: summary.index(SAID["timings"])]
    assert max(len(line) for line in table.splitlines()) <= 80
    out = tmp_path / "out"
    for label, name in (
        (SAID["start_page"], "index.html"),
        (SAID["report"], "report.html"),
        (SAID["map"], "map.html"),
    ):
        assert f"  {label}: {out / name}\n" in result.output


@pytest.mark.slow
def test_the_report_says_what_the_numbers_mean(study: Path, tmp_path: Path) -> None:
    """The report's sections open with a sentence: the sentra (how many, the largest) and
    the data quality (kept of read, rejected and why)."""
    registry = _registry(study)
    bad = registry.iloc[[0, 1]].assign(lat="utara")
    records = _write(tmp_path / "firms.csv", pd.concat([registry, bad]))
    result = runner.invoke(app, _run(study, tmp_path, records=records))
    assert result.exit_code == 0, result.output
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    sentra = pd.read_csv(tmp_path / "out" / "sentra.csv").iloc[0]
    expected = (
        f"1 sentra di 1 sektor; yang terbesar {sentra['name']} ({sentra['sector_label']}), "
        f"{sentra['n_firms']} usaha di {sentra['n_areas']} wilayah."
    )
    assert html.escape(expected, quote=False) in report  # names from the data are escaped
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    reason = max(summary["records"]["by_reason"].items(), key=lambda kv: kv[1])[0]
    assert f"{len(registry)} dari {len(registry) + 2} baris data dipakai" in report
    reason = messages.label("reasons", reason, "id")  # in words: "koordinat kosong"
    assert f"2 ditolak, terbanyak karena {reason} (2)." in report


def test_the_slow_cases_are_cases() -> None:
    assert set(CASES) >= SLOW_CASES
