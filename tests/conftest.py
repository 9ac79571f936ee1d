"""Shared fixtures: real boundaries (from KLASTERGEO_DATA_DIR), the worlds of
:mod:`tests.worlds` built on them, and small synthetic lattices."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from tests.worlds import places
from tests.worlds.browser import CHROMIUM, FLAGS
from tests.worlds.lattice import area_table, firms_in, lattice

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "boundaries"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers that are true by construction: a test that uses the real boundaries (the
    ``data_dir`` fixture, directly or through another fixture) is ``boundaries``."""
    for item in items:
        if {"data_dir", "source_sample"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.boundaries)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real Indonesian boundaries; a missing folder fails loudly (CI must not skip)."""
    configured = os.environ.get("KLASTERGEO_DATA_DIR")
    path = Path(configured) if configured else SHARED
    if not (path / "desa.parquet").exists():
        pytest.fail(
            f"real boundaries not found at {path}: set KLASTERGEO_DATA_DIR or run the tests "
            "with `make test` (which points it at ../shared/data/boundaries)"
        )
    return path


@pytest.fixture(scope="session")
def source_sample(data_dir: Path) -> Path:
    return data_dir / "source-sample"


@pytest.fixture(scope="session")
def east_java_villages(data_dir: Path) -> tuple:
    """Jawa Timur's villages and their contiguity (:mod:`tests.worlds.sentra`)."""
    from tests.worlds.sentra import AREA

    return places.villages(data_dir, AREA)


@pytest.fixture(scope="session")
def bali_villages(data_dir: Path) -> tuple:
    """Bali's villages and their contiguity (:mod:`tests.worlds.dynamics`)."""
    from tests.worlds.dynamics import AREA

    return places.villages(data_dir, AREA)


@pytest.fixture(scope="session")
def lombok_villages(data_dir: Path) -> tuple:
    """Lombok Timur's villages and their contiguity (:mod:`tests.worlds.value_chain`)."""
    from tests.worlds.value_chain import AREA

    return places.villages(data_dir, AREA)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright, one per test module (skipped without
    Playwright)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def grid5() -> gpd.GeoDataFrame:
    """A 5 x 5 lattice of 1 km squares in UTM 49S (near Jawa Tengah)."""
    return lattice(5, 5)


@pytest.fixture(scope="module")
def map_world() -> tuple:
    """9 x 9 villages with a furniture sentra in r2c2 + r2c3, its area table, the sentra
    and a few firms: what a map needs."""
    from klastergeo.analysis import sentra, weights

    areas = lattice(9, 9)
    graph = weights.contiguity(areas)
    counts = {c: {"10": 3, "31": 1} for c in areas.index}
    counts["r2c2"] = {"10": 2, "31": 60}
    counts["r2c3"] = {"10": 2, "31": 30}
    table = area_table(areas, counts, graph)
    found, _ = sentra.delineate(table, graph, areas)
    firms = firms_in(areas, {"r2c2": {"31": 20}, "r0c0": {"10": 3}})
    firms["name"] = "UD Contoh"
    return areas, table, found, firms


@pytest.fixture(scope="module")
def full_map(map_world: tuple):
    """The map of ``map_world`` with every layer, in English, offline (no tiles)."""
    from klastergeo.publish import maps

    areas, table, found, firms = map_world
    return maps.build_map(
        maps.MapInput(
            areas,
            table,
            found,
            firms=firms,
            outlines=areas.iloc[:4],
            probability=pd.Series(0.6, index=areas.index),
        ),
        maps.MapStyle(lang="en", tiles="none", source="test.csv"),
    )


#: Sectors of the national map fixture.
NATIONAL_SECTORS = ("10", "13", "31")


@pytest.fixture(scope="session")
def national_world(data_dir: Path) -> tuple:
    """Every village of Indonesia (83,402) with a seeded synthetic table of three sectors
    (Poisson counts, random Gi* bins, LISA quadrants and LQs), their kecamatan names,
    the provinces and one sentra in Jawa Tengah: what a national map needs."""
    from klastergeo.io import boundaries

    villages = boundaries.load_areas("desa", source=data_dir)
    provinces = boundaries.load_areas("provinsi", source=data_dir)
    names = boundaries.load_names("kecamatan", source=data_dir)
    codes = pd.Series(villages.index, index=villages.index).str.rsplit(".", n=1).str[0]
    parents = pd.Series(names.reindex(codes.to_numpy()).to_numpy(), index=villages.index)
    rng = np.random.default_rng(12)
    n = len(villages) * len(NATIONAL_SECTORS)
    table = pd.DataFrame(
        {
            "n_firms": rng.poisson(2.0, n),
            "lq": rng.gamma(1.0, 1.0, n),
            "gi_z": rng.normal(0, 1.5, n),
            "gi_bin": rng.choice([-3, -2, -1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3], n),
            "lisa_quadrant": rng.choice([0, 0, 0, 0, 0, 1, 2, 3, 4], n),
        },
        index=pd.MultiIndex.from_product(
            [villages.index, list(NATIONAL_SECTORS)], names=["area_code", "sector"]
        ),
    )
    core = villages.index[villages.index.str.startswith("33.")][100]
    found = gpd.GeoDataFrame(
        {"sector": ["31"], "name": ["Sentra uji"], "n_firms": [50], "core_area": [core]},
        geometry=[villages.geometry[core]],
        crs=4326,
        index=pd.Index(["31-01"], name="sentra_id"),
    )
    return villages, table, found, parents, provinces


def national_regencies(villages: pd.DataFrame, source: Path) -> pd.Series:
    """Each village's kabupaten/kota name (its code's first two parts), from the real
    boundaries."""
    from klastergeo.io import boundaries

    names = boundaries.load_names("kabupaten", source=source)
    codes = pd.Series(villages.index, index=villages.index).str.rsplit(".", n=2).str[0]
    return pd.Series(names.reindex(codes.to_numpy()).to_numpy(), index=villages.index)


@pytest.fixture(scope="session")
def national_page(
    national_world: tuple, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The national map of ``national_world`` (split by province), saved as
    ``map.html`` with its ``map/`` folder, in English, offline (no tiles)."""
    from klastergeo.publish import maps

    villages, table, found, parents, provinces = national_world
    fmap = maps.build_map(
        maps.MapInput(
            villages,
            table,
            found,
            parents=parents,
            grandparents=national_regencies(villages, data_dir),
            provinces=provinces,
        ),
        maps.MapStyle(lang="en", tiles="none", source="national.csv"),
    )
    return maps.save_map(fmap, tmp_path_factory.mktemp("national") / "map.html")
