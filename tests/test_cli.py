"""The command line: exit codes 0 (success), 2 (bad input or config), 1 (internal error)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.app import pipeline
from klastergeo.app.cli import app
from tests.worlds.lattice import firms_in, lattice, lattice_args

runner = CliRunner()


@pytest.fixture(scope="module")
def small_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 x 12 villages (a custom polygon file) and a registry with one planted sentra."""
    folder = tmp_path_factory.mktemp("small")
    areas = lattice(12, 12)
    areas["kode"] = areas.index.str.replace("r", "99.").str.replace("c", ".")
    counts = {c: {"10": 3, "31": 1} for c in areas.index}
    counts["r4c4"] = {"10": 2, "31": 45}
    counts["r4c5"] = {"10": 2, "31": 25}
    firms = firms_in(areas, counts, seed=1)
    areas.reset_index(drop=True).set_index("kode").to_crs(4326).to_file(folder / "desa.gpkg")
    registry = pd.DataFrame(
        {
            "id": firms.index,
            "lat": firms.geometry.y.round(6),
            "lon": firms.geometry.x.round(6),
            "kbli": firms["sector"] + "001",
            "workers": 2,
        }
    )
    registry.to_csv(folder / "firms.csv", index=False)
    bad = pd.concat([registry, registry.iloc[:1]])  # one exact duplicate row
    bad.to_csv(folder / "firms_bad.csv", index=False)
    return folder


def _run(*args: str) -> object:
    return runner.invoke(app, list(args), catch_exceptions=False)


def _run_small(study: Path, out: Path, *options: str, records: str = "firms.csv") -> object:
    """``klastergeo run`` on the small study's registry and polygon file."""
    return _run(*lattice_args("run", study, out, *options, records=records))


@pytest.mark.slow
def test_run_succeeds_and_writes_outputs(small_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run_small(
        small_study, out, "--permutations", "99", "--seed", "3", "--lang", "en", "--tiles", "none"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sentra"] == 1
    assert summary["seed"] == 3
    sentra = pd.read_csv(out / "sentra.csv", dtype=str)
    assert sentra.loc[0, "area_codes"] == "99.4.4;99.4.5"
    assert "Sentra (1)" in result.output


@pytest.mark.slow
def test_sentra_command_profiles_without_models_or_map(small_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "sentra"
    result = _run(*lattice_args("sentra", small_study, out, "--permutations", "99"))
    assert result.exit_code == 0, result.output
    for name in (
        "sentra.csv",
        "sentra.geojson",
        "sentra_areas.csv",
        "concentration.csv",
        "typology.csv",
        "diagnosis.csv",
        "clark_evans.csv",
        "ripley.csv",
    ):
        assert (out / name).exists(), name
    assert not (out / "map.html").exists()
    assert not (out / "models").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert "models" not in summary["timings"] and "map" not in summary["timings"]
    sentra = pd.read_csv(out / "sentra.csv", dtype=str)
    assert sentra.loc[0, "area_codes"] == "99.4.4;99.4.5"
    # no ownership column: the type is not guessed
    assert sentra.loc[0, "typology"] == "not_available"
    assert sentra.loc[0, "stage"] == "unknown"  # no diagnosis items configured
    concentration = pd.read_csv(out / "concentration.csv", dtype={"sector": str})
    assert set(concentration["level"]) == {"areas"}  # custom ids: no code-prefix levels
    assert "Sentra (1)" in result.output


@pytest.mark.slow
def test_run_on_an_h3_grid(small_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "h3"
    result = _run_small(
        small_study, out, "--level", "h3:8", "--min-firms", "10", "--permutations", "0"
    )
    assert result.exit_code == 0, result.output
    areas = pd.read_parquet(out / "areas.parquet")
    assert areas["area_code"].str.match(r"^88[0-9a-f]{13}$").all()  # H3 resolution-8 cells
    cells = areas.groupby("area_code")["n_firms"].sum()
    assert (cells == 0).any()  # empty cells inside the study area are kept
    summary = json.loads((out / "summary.json").read_text())
    assert cells.sum() == summary["records"]["kept"]
    sentra = pd.read_csv(out / "sentra.csv", dtype=str)
    assert set(sentra["sector"]) == {"31"}
    # the planted villages r4c4/r4c5 span 404-406 km east, 9,104-9,105 km north (UTM 49S)
    import geopandas as gpd

    points = gpd.GeoSeries(
        gpd.points_from_xy(sentra["lon"].astype(float), sentra["lat"].astype(float)), crs=4326
    )
    xy = points.to_crs(32749)
    assert ((xy.x > 403_500) & (xy.x < 406_500) & (xy.y > 9_103_500) & (xy.y < 9_105_500)).all()


def test_validate_writes_reports(small_study: Path, tmp_path: Path) -> None:
    result = _run(
        "validate", "--records", str(small_study / "firms_bad.csv"), "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    rejected = pd.read_csv(tmp_path / "rejected.csv")
    assert rejected["reason"].tolist() == ["duplicate_record"]
    assert json.loads((tmp_path / "validation.json").read_text())["rejected"] == 1


@pytest.mark.slow
def test_strict_turns_problems_into_exit_2(small_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "strict"
    ok = _run_small(small_study, out, "--permutations", "0", "--tiles", "none")
    assert ok.exit_code == 0, ok.output
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = _run_small(small_study, out, "--strict", records="firms_bad.csv")
    assert result.exit_code == 2
    assert "--strict: 1 record(s) rejected" in result.output
    report = tmp_path / "strict.rejected" / "rejected.csv"
    assert "the outputs in" in result.output and "are unchanged" in result.output
    assert str(report) in result.output.replace("\n", "")
    assert pd.read_csv(report)["reason"].tolist() == ["duplicate_record"]
    # the failed run left the previous run's outputs exactly as they were
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    checked = tmp_path / "checked"
    result = _run(
        "validate",
        "--records",
        str(small_study / "firms_bad.csv"),
        "--out",
        str(checked),
        "--strict",
    )
    assert result.exit_code == 2
    assert "--strict: 1 rejected" in result.output
    assert pd.read_csv(checked / "rejected.csv")["reason"].tolist() == ["duplicate_record"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # the library's English: --lang en (Indonesian: tests/test_language_errors.py)
        (["run", "--records", "missing.csv", "--lang", "en"], "does not exist"),
        (["run"], "no records file given"),
        (["run", "--records", "x.csv", "--level", "rt"], "level 'rt' is not known"),
        (
            ["run", "--config", "missing.toml", "--lang", "en"],
            "config file 'missing.toml' does not exist",
        ),
        (["boundaries", "download", "--level", "dusun"], "level(s) 'dusun' are not one of"),
    ],
)
def test_bad_input_exits_2(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run(*args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_internal_error_exits_1(
    small_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unexpected state")

    monkeypatch.setattr(pipeline, "run", broken)
    result = _run("run", "--records", str(small_study / "firms.csv"), "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "galat internal: RuntimeError: unexpected state" in result.output


def test_usage_errors_exit_2() -> None:
    assert _run("run", "--no-such-flag").exit_code == 2


def test_version_and_boundaries_info(data_dir: Path) -> None:
    assert "klastergeo 0.1.0" in _run("--version").output
    result = _run("boundaries", "info", "--boundaries", str(data_dir))
    assert result.exit_code == 0
    assert "83,402" in result.output


def test_compile_caches_the_kernels() -> None:
    result = _run("compile")
    assert result.exit_code == 0
    assert "kernels compiled and cached" in result.output


def test_flags_come_from_the_configuration_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every flag of run/sentra/validate/model is a configuration key's (declared once in
    klastergeo.app.config), reaches that key, and --set reaches any key."""
    from klastergeo.app import cli, console
    from klastergeo.app.config import options

    for command in ("run", "sentra", "validate", "model"):
        names = {p.name for p in cli._parameters(command)}
        keys = {o.key.replace(".", "__") for o in options().values() if command in o.commands}
        assert names == {"config", "set_", "out"} | keys, command
    seen = {}
    monkeypatch.setattr(
        console, "run_pipeline", lambda settings, **k: seen.update(settings=settings)
    )
    result = _run(
        "run",
        "--records",
        "x.csv",
        "--tolerance",
        "5",
        "--seed",
        "3",
        "--no-fdr",
        "--predictors",
        "a,b",
        "--lang",
        "en",
        "--set",
        "analysis.alpha=0.1",
        "--set",
        "sentra.min_samples=4",
        "--set",
        "map.title=Peta sentra Jawa",
    )
    assert result.exit_code == 0, result.output
    settings = seen["settings"]
    assert settings.analysis.tolerance_m == 5.0 and settings.analysis.seed == 3
    assert settings.model.predictors == ("a", "b") and settings.map.lang == "en"
    assert settings.analysis.alpha == 0.1 and settings.sentra.min_samples == 4
    assert settings.map.title == "Peta sentra Jawa"
    bad = _run("run", "--set", "analysis.nope=1", "--lang", "en")
    assert bad.exit_code == 2 and "'analysis.nope' is not a configuration key" in bad.output
    # the help of every command shows the table's help texts
    for command, own in (("sentra", "Borders closer than"), ("model", "0/1 column to explain")):
        text = runner.invoke(app, [command, "--help"]).output
        flat = " ".join(text.replace("│", " ").split())
        assert "TOML run configuration" in flat and "-c" in flat, command
        assert "Enterprise registry" in flat and own in flat, command


def test_model_command_area_level_with_spatial_diagnostics(
    small_study: Path, tmp_path: Path
) -> None:
    """A planted spatial lag over the small study's 144 areas: the LM tests pick 'lag'."""
    from klastergeo.analysis import weights
    from klastergeo.io import boundaries

    areas = boundaries.analysis_areas("desa", source=small_study / "desa.gpkg", id_col="kode")
    graph = weights.contiguity(areas, tolerance=10.0).transform("r")
    rng = np.random.default_rng(3)
    n = len(areas)
    x = rng.normal(size=n)
    inverse = np.linalg.inv(np.eye(n) - 0.7 * graph.sparse.toarray())
    y = inverse @ (2.0 + 1.5 * x + rng.normal(size=n))
    pd.DataFrame({"kode": list(graph.unique_ids), "y": y, "x": x}).to_csv(
        tmp_path / "areas.csv", index=False
    )
    out = tmp_path / "area_model"
    result = _run(
        "model",
        "--area-data",
        str(tmp_path / "areas.csv"),
        "--area-id",
        "kode",
        "--outcome",
        "y",
        "--predictors",
        "x",
        "--boundaries",
        str(small_study / "desa.gpkg"),
        "--area-id-col",
        "kode",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "Model LAG: y" in result.output  # Indonesian, the default
    fit = json.loads((out / "models" / "area_fit.json").read_text())
    assert fit["recommended"] == "lag"
    lag = pd.read_csv(out / "models" / "area_lag_coefficients.csv").set_index("term")
    assert abs(lag.loc["rho", "estimate"] - 0.7) < 3 * lag.loc["rho", "std_error"]
    assert (out / "models" / "area_diagnostics.csv").exists()
    missing = _run(
        "model",
        "--area-data",
        str(tmp_path / "areas.csv"),
        "--area-id",
        "code",
        "--outcome",
        "y",
        "--predictors",
        "x",
        "--boundaries",
        str(small_study / "desa.gpkg"),
        "--area-id-col",
        "kode",
        "--out",
        str(out),
    )
    assert missing.exit_code == 2
    assert "model.area_id='code'" in missing.output


@pytest.mark.slow
def test_publish_writes_a_static_site(small_study: Path, tmp_path: Path) -> None:
    import re

    out = tmp_path / "run"
    assert _run_small(small_study, out, "--permutations", "99", "--tiles", "none").exit_code == 0
    assert (out / "index.html").exists() and (out / "report.html").exists()
    site = tmp_path / "site"
    result = _run("publish", str(out), "--site", str(site))
    assert result.exit_code == 0, result.output
    assert "<iframe" in result.output
    for name in ("index.html", "map.html", "report.html", "embed.html", "sentra.geojson"):
        assert (site / name).exists(), name
    areas = pd.read_csv(site / "areas.csv", dtype={"sector": str})
    assert len(areas) == len(pd.read_parquet(out / "areas.parquet"))
    assert not (site / "firms.geojson").exists()  # firm data only on request
    index = (site / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'(?:href|src)="([^"#:]+)"', index)
    assert "map.html" in links and "sentra.geojson" in links
    assert all((site / link).exists() for link in links), links
    assert (site / "embed.html").read_text().startswith('<iframe src="map.html"')
    with_firms = _run("publish", str(out), "--site", str(tmp_path / "site2"), "--with-firms")
    assert with_firms.exit_code == 0
    assert (tmp_path / "site2" / "firms.geojson").exists()
    missing = _run("publish", str(tmp_path), "--site", str(tmp_path / "site3"))
    assert missing.exit_code == 2
    assert "no summary.json" in missing.output
