"""The Python API: ``klastergeo.run`` returns areas with statistics, per-sector views and
the sentra, from a file or a DataFrame."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

import klastergeo
from klastergeo.errors import ConfigError
from tests.worlds.lattice import custom_study

_QUICK = {
    "analysis.permutations": 0,
    "pointpattern.enabled": False,
    "report.figures": "none",
    "map.tiles": "none",
    "area.id_col": "kode",
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("api")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=2
    )
    return klastergeo.run(
        registry, boundaries=folder / "desa.gpkg", out=folder / "out", options=_QUICK
    )


def test_areas_are_a_geodataframe_with_statistics(result) -> None:
    areas = result.areas
    assert isinstance(areas, gpd.GeoDataFrame) and areas.crs.to_epsg() == 4326
    assert areas.index.name == "area_code" and len(areas) == 36
    for column in ("name", "n_firms", "n_firms_31", "lq_31", "lq_low_31", "spec_bin_31"):
        assert column in areas.columns
    long = result.table.xs("31", level="sector")
    assert areas["n_firms_31"].tolist() == long["n_firms"].reindex(areas.index).tolist()
    assert areas.loc["99.14", "sentra_31"] == "31-01"
    assert isinstance(result.sentra, gpd.GeoDataFrame) and result.sentra["sentra_id"].tolist() == [
        "31-01"
    ]


def test_one_sector_has_every_statistic(result) -> None:
    furniture = result.sector("31")
    assert isinstance(furniture, gpd.GeoDataFrame) and len(furniture) == 36
    for column in ("n_firms", "lq", "lq_p", "spec_z", "spec_p", "spec_bin", "gi_z", "gi_bin"):
        assert column in furniture.columns
    assert np.allclose(furniture["lq"], result.areas["lq_31"], equal_nan=True)
    with pytest.raises(ConfigError, match="sector '99'"):
        result.sector("99")


def test_options_are_checked_as_on_the_command_line(result, tmp_path: Path) -> None:
    """A file path with a bad option: the ConfigError names the option, and no output
    folder is made."""
    folder = result.out.parent
    path = tmp_path / "firms.csv"
    path.write_text("id,lat,lon,kbli\nA,-7.5,110.2,10001\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sentra\.min_firms"):
        klastergeo.run(
            path,
            boundaries=folder / "desa.gpkg",
            out=tmp_path / "bad",
            options={**_QUICK, "sentra.min_firms": 0},
        )
    assert not (tmp_path / "bad").exists()
