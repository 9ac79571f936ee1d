"""A small regency written as Kemendagri boundaries (the four ``<level>.parquet`` files of
a boundaries folder) whose villages include two of one name in different kecamatan, as
Kabupaten Klaten has two Tegalrejo (33.10.04.2012 and 33.10.11.2015); and a registry of
firms with workers and output in it.

Province ``99`` (no real province has the code), regency ``99.01`` "Kabupaten Contoh", a
6 x 6 lattice of 1 km villages: columns 0-2 are kecamatan ``99.01.01`` "Barat", columns
3-5 ``99.01.02`` "Timur". The villages at r1c1 (Barat) and r4c4 (Timur) are both named
:data:`TWIN`. A furniture (31) sentra sits in r2c2 + r2c3; r5c0 holds a single firm (of
sector 10), so its workers and output are suppressed by the threshold rule (fewer than
three firms), and so are its totals.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tests.worlds.lattice import firms_in, lattice

#: The name two villages share.
TWIN = "Tegalrejo"
#: The regency's name, as the boundaries write it.
REGENCY = "Kabupaten Contoh"
#: Kecamatan by code.
KECAMATAN = {"99.01.01": "Barat", "99.01.02": "Timur"}
#: The cells named :data:`TWIN`: one per kecamatan.
TWIN_CELLS = ("r1c1", "r4c4")
#: The cell whose one food firm's sums are suppressed.
LONE_CELL = "r5c0"


def village_codes(areas: gpd.GeoDataFrame) -> pd.Series:
    """Each lattice cell's village code (``99.01.0k.20nn``), by cell id."""
    cols = areas.index.str.extract(r"c(\d+)$")[0].astype(int).to_numpy()
    kec = np.where(cols < 3, "99.01.01", "99.01.02")
    serial = pd.Series(kec).groupby(kec).cumcount().to_numpy() + 1
    return pd.Series(
        [f"{k}.{2000 + s}" for k, s in zip(kec, serial, strict=True)], index=areas.index
    )


def _level(frame: gpd.GeoDataFrame, path: Path) -> None:
    frame = frame.to_crs(4326).reset_index(drop=True)
    frame["kode_prov"] = "99"
    frame[["kode", "nama", "kode_prov", "geometry"]].to_parquet(path)


def write_boundaries(folder: Path) -> gpd.GeoDataFrame:
    """The boundaries folder (``desa``, ``kecamatan``, ``kabupaten``, ``provinsi``) in
    ``folder``; returns the villages (lattice ids as index, ``kode`` and ``nama``)."""
    folder.mkdir(parents=True, exist_ok=True)
    areas = lattice(6, 6)
    areas["kode"] = village_codes(areas)
    areas["nama"] = [f"Desa {cell.upper()}" for cell in areas.index]
    areas.loc[list(TWIN_CELLS), "nama"] = TWIN
    _level(areas, folder / "desa.parquet")
    kec = areas.assign(parent=areas["kode"].str[:8]).dissolve(by="parent")
    kec = gpd.GeoDataFrame(
        {"kode": kec.index, "nama": [KECAMATAN[c] for c in kec.index]},
        geometry=kec.geometry.to_numpy(),
        crs=areas.crs,
    )
    _level(kec, folder / "kecamatan.parquet")
    whole = shapely.union_all(areas.geometry.to_numpy())
    _level(
        gpd.GeoDataFrame({"kode": ["99.01"], "nama": [REGENCY]}, geometry=[whole], crs=areas.crs),
        folder / "kabupaten.parquet",
    )
    _level(
        gpd.GeoDataFrame(
            {"kode": ["99"], "nama": ["Provinsi Contoh"]}, geometry=[whole], crs=areas.crs
        ),
        folder / "provinsi.parquet",
    )
    return areas


def registry(areas: gpd.GeoDataFrame, *, seed: int = 3) -> pd.DataFrame:
    """Six food (10) firms in every village, three furniture (31) firms in each village
    of row 0, 45 + 30 furniture firms in r2c2 + r2c3, one food firm alone in
    :data:`LONE_CELL`; workers 1-5 and output 2.5 x workers + 0-4.2 (Rp million),
    coordinates to six decimals."""
    counts: dict[str, dict[str, int]] = {
        c: {"10": 6, "31": 3} if c.startswith("r0") else {"10": 6} for c in areas.index
    }
    counts["r2c2"] = {"10": 2, "31": 45}
    counts["r2c3"] = {"10": 2, "31": 30}
    counts[LONE_CELL] = {"10": 1}
    firms = firms_in(areas, counts, seed=seed)
    workers = 1 + np.arange(len(firms)) % 5
    return pd.DataFrame(
        {
            "id": [f"F{i}" for i in range(len(firms))],
            "lat": firms.geometry.y.round(6).to_numpy(),
            "lon": firms.geometry.x.round(6).to_numpy(),
            "kbli": (firms["sector"] + "001").to_numpy(),
            "workers": workers,
            "output": np.round(2.5 * workers + 0.7 * (np.arange(len(firms)) % 7), 1),
        }
    )
