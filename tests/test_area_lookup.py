"""Looking an area up by name: ``klastergeo boundaries find`` and ``--area NAME``, on the
real boundaries (names and codes from the Kemendagri files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.errors import ConfigError
from klastergeo.io import boundaries

runner = CliRunner()


def test_find_ignores_case_accents_and_the_kind_of_area(data_dir: Path) -> None:
    found = boundaries.find_areas("  BOYOLALI ", source=data_dir)
    assert found.loc[0, ["area_code", "name", "level", "match"]].tolist() == [
        "33.09",
        "Kabupaten Boyolali",
        "kabupaten",
        "exact",
    ]
    assert found.loc[0, "parent"] == "Jawa Tengah"
    assert "33.09.05" in set(found["area_code"])  # the district of the same name
    partial = boundaries.find_areas("cepog", levels=["kecamatan"], source=data_dir)
    assert partial.loc[0, ["area_code", "match", "parent"]].tolist() == [
        "33.09.03",
        "prefix",
        "Kabupaten Boyolali",
    ]
    assert boundaries.find_areas("Atlantis", source=data_dir).empty


def test_a_unique_name_resolves_and_others_list_the_candidates(data_dir: Path) -> None:
    assert boundaries.resolve_area_name("Boyolali", source=data_dir) == "33.09"  # the regency
    assert boundaries.resolve_area_name("kota malang", source=data_dir) == "35.73"
    with pytest.raises(ConfigError, match=r"35\.07 Kabupaten Malang.*35\.73 Kota Malang"):
        boundaries.resolve_area_name("Malang", source=data_dir)
    with pytest.raises(ConfigError, match="boundaries find 'Atlantis'"):
        boundaries.resolve_area_name("Atlantis", source=data_dir)


def test_the_command_line_finds_and_resolves(data_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["boundaries", "find", "Cepogo", "--boundaries", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "33.09.03" in result.output and "Kabupaten Boyolali" in result.output
    (tmp_path / "firms.csv").write_text("id,lat,lon,kbli\nA,-7.5,110.6,10001\n")
    refused = runner.invoke(
        app,
        [
            "validate",
            "--records",
            str(tmp_path / "firms.csv"),
            "--area",
            "Malang",
            "--out",
            str(tmp_path / "out"),
        ],
        env={"KLASTERGEO_DATA_DIR": str(data_dir)},
    )
    assert refused.exit_code == 2
    assert "35.07" in refused.output and "35.73" in refused.output
    named = runner.invoke(
        app,
        [
            "validate",
            "--records",
            str(tmp_path / "firms.csv"),
            "--area",
            "Boyolali",
            "--out",
            str(tmp_path / "out"),
        ],
        env={"KLASTERGEO_DATA_DIR": str(data_dir)},
    )
    assert named.exit_code == 0, named.output
    summary = (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    assert '"code": "33.09"' in summary
