"""Run configuration: TOML, overrides, and errors that name the bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from klastergeo.app.config import RunConfig, load_config, parse_level
from klastergeo.errors import ConfigError


def test_toml_with_relative_paths_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "run.toml").write_text(
        'out = "hasil"\n'
        '[records]\npath = "data/ukm.csv"\ndecimal = ","\n'
        '[columns]\nlat = "lintang"\n'
        '[area]\ncode = "33.11"\nlevel = "kecamatan"\n'
        '[analysis]\npermutations = 99\nsectors = ["13", "31"]\n'
        '[model]\npredictors = ["akses_pasar"]\n'
    )
    config = load_config(
        tmp_path / "run.toml",
        overrides={"analysis.seed": 5, "columns.lon": "bujur", "area.level": None},
    )
    assert config.records.path == tmp_path / "data" / "ukm.csv"
    assert config.out == tmp_path / "hasil"
    assert config.records.decimal == ","
    assert config.columns.lat == "lintang" and config.columns.lon == "bujur"
    assert config.area.level == "kecamatan"  # None overrides nothing
    assert config.analysis.permutations == 99 and config.analysis.seed == 5
    assert config.analysis.sectors == ("13", "31")
    assert config.model.predictors == ("akses_pasar",)
    assert config.to_dict()["records"]["path"] == str(tmp_path / "data" / "ukm.csv")


def test_comma_separated_flags() -> None:
    config = RunConfig().with_overrides({"model.predictors": "a, b,c"})
    assert config.model.predictors == ("a", "b", "c")
    config = RunConfig().with_overrides({"model.kinds": "lpm,probit", "model.robust": "none"})
    assert config.model.kinds == ("lpm", "probit")
    assert config.model.robust is None


def test_profile_sections_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text(
        '[typology]\nownership = "milik"\nlinkages = ["a", "b"]\n'
        "[typology.thresholds]\nhub_top3 = 0.6\n"
        '[diagnosis]\ntable = "d.csv"\n[diagnosis.table_items]\nfinance = "modal"\n'
        '[model]\narea_data = "areas.csv"\nspatial = "error"\n'
    )
    config = load_config(path)
    assert config.typology.linkages == ("a", "b")
    assert config.typology.thresholds == {"hub_top3": 0.6}
    assert config.diagnosis.table == tmp_path / "d.csv"  # relative to the file
    assert config.model.area_data == tmp_path / "areas.csv"
    assert config.model.spatial == "error"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[records]\ndelimeter = ";"\n', r"\[records\] has unknown key\(s\) 'delimeter'"),
        ("[analyse]\nseed = 1\n", r"unknown section\(s\) analyse"),
        ("[analysis]\npermutations = -5\n", r"analysis.permutations=-5 must be zero or positive"),
        ('[analysis]\nweights = "kernel"\n', r"analysis.weights='kernel' is not accepted"),
        ('[area]\ncode = "3311"\n', r"area '3311' is not a Kemendagri code"),
        ('[area]\nlevel = "h3:20"\n', r"h3:RES with RES 0..15"),
        ("[sentra]\nconfidence = 80\n", r"sentra.confidence=80"),
        ("[records\n", r"is not valid TOML"),
        ('[model]\nspatial = "sarar"\n', r"model.spatial='sarar' is not accepted"),
        ('[model]\nrobust = "HC9"\n', r"model.robust='HC9' is not accepted"),
        (
            '[model]\npredictors = ["a"]\ncategorical = ["b"]\n',
            r"model.categorical names \['b'\], which are not model.predictors",
        ),
        ('[sentra]\nmethod = "optics"\n', r"sentra.method='optics' is not accepted"),
        ("[typology.thresholds]\nhub_top3 = 2.0\n", r"typology.hub_top3=2.0"),
        ('[diagnosis.items]\nvibes = "x"\n', r"diagnosis.items has unknown item"),
        ("[pointpattern]\nsimulations = 0\n", r"pointpattern.simulations=0 must be positive"),
    ],
)
def test_bad_configuration_is_explained(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_levels() -> None:
    assert parse_level("kelurahan") == ("desa", None)
    assert parse_level("H3:7") == ("h3", 7)
    with pytest.raises(ConfigError, match="level 'rt' is not known"):
        parse_level("rt")
