"""Square lattices of villages and firms placed in them: small worlds built without real
boundaries (ids ``r{row}c{col}``, UTM 49S near Jawa Tengah), and study folders written from
them for the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


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


def related_firms(found: pd.DataFrame) -> pd.DataFrame:
    """Five firms of two related industries around the first sentra of ``found`` (the
    ``map_world`` fixture's), one with markup in its name."""
    sid = str(found.index[0])
    return pd.DataFrame(
        {
            "sentra_id": [sid] * 5,
            "related_sector": ["16", "46", "16", "16", "46"],
            "lon": [110.012345, 110.02, 110.013, 110.0145678, 110.021],
            "lat": [-7.01, -7.02, -7.011, -7.0123456, -7.022],
            "name": ["</script><b>CV Kayu</b>", "UD Dagang", None, "CV Jati", "UD Niaga"],
        }
    )


def quick_run(folder: Path, out: Path, *options: str, batch: int = 150) -> Any:
    """``klastergeo run`` through the CLI on a :func:`custom_study` folder with 99
    permutations, no map tiles and batches of ``batch`` records, then ``options``;
    returns typer's result (exceptions raised, not caught)."""
    from typer.testing import CliRunner

    from klastergeo.app.cli import app

    arguments = ["--permutations", "99", "--tiles", "none", "--batch-size", str(batch)]
    return CliRunner().invoke(
        app, lattice_args("run", folder, out, *arguments, *options), catch_exceptions=False
    )
