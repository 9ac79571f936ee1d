"""A small Kemendagri-style world for disclosure tests: a boundaries folder of one fictional
province (91) with two regencies, four kecamatan and 64 villages, and a registry whose
planted cells break every rule an attacker would try (single firms, a dominant firm,
a sentra across the regency border, one state firm in a sentra).

Not the demo's places: a 8 x 8 grid of 1 km villages near 121.5 E, 2.5 S.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Lower-left corner of the grid (degrees) and a village's side (degrees, about 1.1 km).
ORIGIN = (121.5, -2.5)
SIDE = 0.01


def boundaries(folder: Path) -> Path:
    """Write ``provinsi``/``kabupaten``/``kecamatan``/``desa`` GeoParquet files as the
    national files have them (``kode``, ``nama``, ``kode_prov``, EPSG:4326)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(8):
        for j in range(8):
            regency = 1 + j // 4  # west and east halves
            kecamatan = 1 + (i // 4) + 2 * (j // 4)
            village = 2001 + (i % 4) * 4 + (j % 4)
            rows.append(
                {
                    "kode": f"91.{regency:02d}.{kecamatan:02d}.{village}",
                    "nama": f"Desa {i}-{j}",
                    "geometry": shapely.box(
                        ORIGIN[0] + j * SIDE,
                        ORIGIN[1] + i * SIDE,
                        ORIGIN[0] + (j + 1) * SIDE,
                        ORIGIN[1] + (i + 1) * SIDE,
                    ),
                }
            )
    desa = gpd.GeoDataFrame(rows, crs=4326)
    desa["kode_prov"] = "91"
    levels = {"desa": desa}
    for level, width in (("kecamatan", 8), ("kabupaten", 5), ("provinsi", 2)):
        parent = desa.assign(kode=desa["kode"].str[:width]).dissolve(by="kode", as_index=False)
        parent["nama"] = [f"{level.title()} {c}" for c in parent["kode"]]
        parent["kode_prov"] = "91"
        levels[level] = parent[["kode", "nama", "geometry", "kode_prov"]]
    for level, frame in levels.items():
        frame[["kode", "nama", "geometry", "kode_prov"]].to_parquet(folder / f"{level}.parquet")
    return folder


def _at(rng: np.random.Generator, i: int, j: int, n: int, spread: float = 0.35) -> np.ndarray:
    """``n`` points inside village (row ``i``, column ``j``), around its centre."""
    centre = np.array([ORIGIN[0] + (j + 0.5) * SIDE, ORIGIN[1] + (i + 0.5) * SIDE])
    return centre + rng.uniform(-spread, spread, (n, 2)) * SIDE


def registry(seed: int = 0) -> pd.DataFrame:
    """Firms with ``id``, ``nama``, ``lintang``, ``bujur``, ``kbli``, ``tenaga_kerja``,
    ``nilai_produksi``, ``investasi`` and ``kepemilikan``.

    - a furniture sentra (KBLI 31) of 90 firms in villages (3, 3) and (3, 4), across the
      border of the two regencies, one of them a state firm with 400 workers;
    - a food background (10) of 2-6 firms in every village;
    - lone firms of KBLI 25 and 13 in some villages (cells of one firm);
    - one village with a dominant metal firm (25) beside four small ones.
    """
    rng = np.random.default_rng(seed)
    parts = []

    def add(xy: np.ndarray, kbli: str, workers: np.ndarray, owner: str = "lokal") -> None:
        parts.append(
            pd.DataFrame(
                {
                    "bujur": xy[:, 0].round(6),
                    "lintang": xy[:, 1].round(6),
                    "kbli": kbli,
                    "tenaga_kerja": workers,
                    "kepemilikan": owner,
                }
            )
        )

    add(_at(rng, 3, 3, 55, 0.3), "31011", rng.integers(2, 12, 55))
    add(_at(rng, 3, 4, 34, 0.3), "31011", rng.integers(2, 12, 34))
    add(_at(rng, 3, 4, 1, 0.1), "31011", np.array([400]), owner="negara")
    for i in range(8):
        for j in range(8):
            n = int(rng.integers(2, 7))
            add(_at(rng, i, j, n), "10710", rng.integers(1, 8, n))
    for i, j in ((0, 0), (1, 5), (6, 2), (7, 7), (5, 5)):
        add(_at(rng, i, j, 1), "25991", rng.integers(1, 9, 1))
        add(_at(rng, i, j, 1), "13121", rng.integers(1, 9, 1))
    add(_at(rng, 6, 6, 1), "25991", np.array([900]))
    add(_at(rng, 6, 6, 4), "25991", rng.integers(1, 4, 4))
    frame = pd.concat(parts, ignore_index=True)
    frame["nilai_produksi"] = (frame["tenaga_kerja"] * rng.uniform(20, 60, len(frame))).round(1)
    frame["investasi"] = (frame["tenaga_kerja"] * rng.uniform(5, 30, len(frame))).round(1)
    frame.insert(0, "id", [f"R{k:04d}" for k in range(len(frame))])
    frame.insert(1, "nama", [f"UD Rahasia {k}" for k in range(len(frame))])
    return frame


def pinned(rows: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
    """The attacker's algebra: firms whose value is a combination of the published sums (and of the firms in
    ``known``, whose own values the attacker holds)."""
    n = rows.shape[1]
    free = np.ones(n, dtype=bool) if known is None else ~known
    matrix = rows[:, free]
    if not len(matrix):
        return np.zeros(n, dtype=bool)
    _, s, vt = np.linalg.svd(matrix, full_matrices=False)
    basis = vt[s > 1e-9 * max(s.max(), 1.0)]
    out = np.zeros(n, dtype=bool)
    out[free] = np.einsum("ij,ij->j", basis, basis) > 1 - 1e-9
    return out
