"""Shared fixtures: real boundaries (from KLASTERGEO_DATA_DIR) and small synthetic lattices."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

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


def lattice(
    n_rows: int,
    n_cols: int,
    *,
    size: float = 1000.0,
    gap: float = 0.0,
    crs: str = "EPSG:32749",
    origin: tuple[float, float] = (400_000.0, 9_100_000.0),
) -> gpd.GeoDataFrame:
    """Square cells of ``size`` metres (minus ``gap``), ids 'r{row}c{col}', row-major."""
    x0, y0 = origin
    cells, ids = [], []
    for r in range(n_rows):
        for c in range(n_cols):
            half = gap / 2.0
            cells.append(
                shapely.box(
                    x0 + c * size + half,
                    y0 + r * size + half,
                    x0 + (c + 1) * size - half,
                    y0 + (r + 1) * size - half,
                )
            )
            ids.append(f"r{r}c{c}")
    return gpd.GeoDataFrame(
        {"name": ids}, geometry=cells, crs=crs, index=pd.Index(ids, name="area_code")
    )


@pytest.fixture
def grid5() -> gpd.GeoDataFrame:
    """A 5 x 5 lattice of 1 km squares in UTM 49S (near Jawa Tengah)."""
    return lattice(5, 5)


def firms_in(
    areas: gpd.GeoDataFrame, counts: dict[str, dict[str, int]], *, seed: int = 0
) -> gpd.GeoDataFrame:
    """Firms (points, EPSG:4326) placed inside areas: counts[area][sector] = n."""
    rng = np.random.default_rng(seed)
    rows = []
    for code, by_sector in counts.items():
        geom = areas.geometry[code]
        minx, miny, maxx, maxy = geom.bounds
        for sector, n in by_sector.items():
            xs = rng.uniform(minx + 1, maxx - 1, n)
            ys = rng.uniform(miny + 1, maxy - 1, n)
            rows += [
                {"sector": sector, "x": x, "y": y, "workers": 2.0, "output": 10.0}
                for x, y in zip(xs, ys, strict=True)
            ]
    frame = pd.DataFrame(rows)
    points = gpd.GeoSeries(gpd.points_from_xy(frame["x"], frame["y"]), crs=areas.crs).to_crs(4326)
    out = gpd.GeoDataFrame(frame.drop(columns=["x", "y"]), geometry=points.values, crs=4326)
    out.index = pd.Index([f"f{i}" for i in range(len(out))], name="record_id")
    return out


def custom_study(
    folder: Path,
    shape: tuple[int, int],
    sentra: dict[str, int],
    *,
    background: dict[str, int] | None = None,
    names: list[str] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """A lattice written as a custom boundaries file (``folder/desa.gpkg``, ids ``kode``
    = 99.00, 99.01, ... in row-major order, names ``nama``) and the registry of firms placed
    in it: ``background`` firms per sector in every cell plus the furniture (31) firms of
    ``sentra`` (cell -> count, each with 2 food firms). Returns the registry (``id``,
    ``lat``, ``lon``, ``kbli``, ``workers``) for the caller to extend and write."""
    areas = lattice(*shape)
    areas["kode"] = [f"99.{i:02d}" for i in range(len(areas))]
    if names is not None:
        areas["nama"] = names
    areas.reset_index(drop=True).to_crs(4326).to_file(folder / "desa.gpkg")
    counts = {c: dict(background or {"10": 3, "31": 1}) for c in areas.index}
    for cell, n in sentra.items():
        counts[cell] = {"10": 2, "31": n}
    firms = firms_in(areas, counts, seed=seed)
    return pd.DataFrame(
        {
            "id": [f"F{i}" for i in range(len(firms))],
            "lat": firms.geometry.y.round(6).to_numpy(),
            "lon": firms.geometry.x.round(6).to_numpy(),
            "kbli": (firms["sector"] + "001").to_numpy(),
            "workers": 1 + np.arange(len(firms)) % 5,
        }
    )


def lattice_args(
    command: str, folder: Path, out: Path, *options: str, records: str = "firms.csv"
) -> list[str]:
    """The command line of ``klastergeo <command>`` on a :func:`custom_study` folder: its
    registry (``records``), its polygons (ids ``kode``), ``out``, then ``options``."""
    return [
        command,
        "--records",
        str(folder / records),
        "--boundaries",
        str(folder / "desa.gpkg"),
        "--area-id-col",
        "kode",
        "--out",
        str(out),
        *options,
    ]


def area_table(
    areas: gpd.GeoDataFrame, firms: dict[str, dict[str, int]], graph, *, seed: int = 0
) -> pd.DataFrame:
    """Counts -> LQ -> specialisation, Gi* and LISA per sector, as the pipeline builds
    the area table."""
    from klastergeo.analysis import aggregate, autocorrelation, specialisation

    rows = [
        {"area_code": a, "sector": s, "workers": 2.0, "output": 5.0}
        for a, by in firms.items()
        for s, n in by.items()
        for _ in range(n)
    ]
    counts = aggregate.count_by_area(pd.DataFrame(rows), areas.index)
    from klastergeo.analysis.concentration import location_quotient

    matrix = aggregate.wide(counts)
    lq = location_quotient(matrix).rename(columns={"p_value": "lq_p"})
    spec = specialisation.local_specialisation(matrix, graph, fdr=True)
    local, _ = autocorrelation.by_sector(matrix, graph, permutations=999, seed=seed)
    return counts.join(lq).join(spec).join(local)


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


@pytest.fixture(scope="session")
def national_page(national_world: tuple, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The national map of ``national_world`` (split by province), saved as
    ``map.html`` with its ``map/`` folder, in English, offline (no tiles)."""
    from klastergeo.publish import maps

    villages, table, found, parents, provinces = national_world
    fmap = maps.build_map(
        maps.MapInput(villages, table, found, parents=parents, provinces=provinces),
        maps.MapStyle(lang="en", tiles="none", source="national.csv"),
    )
    return maps.save_map(fmap, tmp_path_factory.mktemp("national") / "map.html")
