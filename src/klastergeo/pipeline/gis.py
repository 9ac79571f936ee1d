"""GIS layers of a run: ``areas.gpkg`` (the areas with their statistics, wide by sector)
and ``sentra.gpkg``, for QGIS, ArcGIS or any GDAL reader.

``areas.parquet`` keeps the long table (one row per area and sector) without geometry;
a GIS user wants one layer of polygons with a column per statistic and sector, so
``areas.gpkg`` has one row per area: ``area_code``, ``name``, ``n_firms`` (all sectors),
then for every analysed sector ``s``: ``n_firms_s``, ``lq_s``, ``lq_low_s``, ``lq_high_s``,
``spec_bin_s`` (specialisation), ``gi_bin_s`` (density of firms), ``lisa_s`` (LISA
cluster code) and ``sentra_s`` (the sentra id, empty outside one). Both files are
GeoPackages in EPSG:4326 written with pyogrio; their layers are named ``areas`` and
``sentra``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from klastergeo._io import atomic_path

__all__ = ["WIDE_COLUMNS", "areas_layer", "write_layers"]

logger = logging.getLogger(__name__)

#: Per analysed sector, the ``areas.gpkg`` field prefix of each table column.
WIDE_COLUMNS = {
    "n_firms": "n_firms",
    "lq": "lq",
    "lq_low": "lq_low",
    "lq_high": "lq_high",
    "spec_bin": "spec_bin",
    "gi_bin": "gi_bin",
    "lisa_quadrant": "lisa",
    "sentra_id": "sentra",
}


def areas_layer(
    areas: gpd.GeoDataFrame, table: pd.DataFrame, sectors: Sequence[str]
) -> gpd.GeoDataFrame:
    """The areas with their statistics, one row per area and a column per statistic and
    sector (see the module docstring), in EPSG:4326.

    Parameters
    ----------
    areas
        The areas of analysis, indexed by area code, with ``name`` and geometry.
    table
        The area x sector table (indexed by ``area_code`` and ``sector``).
    sectors
        The analysed sectors, whose columns the layer gets (in this order).

    Returns
    -------
    GeoDataFrame
        One row per area, in the order of ``areas``, indexed by ``area_code``.
    """
    codes = areas.index
    out = pd.DataFrame(
        {"name": areas["name"].astype(str).to_numpy()},
        index=pd.Index(codes, name="area_code"),
    )
    totals = table["n_firms"].groupby(level="area_code").sum()
    out["n_firms"] = totals.reindex(codes).fillna(0).astype("int64").to_numpy()
    present = [c for c in WIDE_COLUMNS if c in table.columns]
    names = [str(x) for x in sectors]
    # each row's place in the wide layer: its area's row and its sector's column
    row = codes.get_indexer(table.index.get_level_values("area_code"))
    col = pd.Index(names).get_indexer(table.index.get_level_values("sector").astype(str))
    keep = (row >= 0) & (col >= 0)
    row, col = row[keep], col[keep]
    grids = {}
    for column in present:  # a few columns; areas and sectors are vectorised
        values = table[column].to_numpy()[keep]
        if column in ("n_firms", "spec_bin", "gi_bin", "lisa_quadrant"):
            grid = np.zeros((len(codes), len(names)), dtype=np.int64)
            grid[row, col] = pd.Series(values).fillna(0).to_numpy(dtype=np.int64)
        elif column == "sentra_id":
            grid = np.full((len(codes), len(names)), None, dtype=object)
            grid[row, col] = values
        else:
            grid = np.full((len(codes), len(names)), np.nan)
            grid[row, col] = values.astype(float)
        grids[column] = grid
    columns: dict[str, object] = {}
    for j, sector in enumerate(names):
        for column in present:
            values = grids[column][:, j]
            columns[f"{WIDE_COLUMNS[column]}_{sector}"] = (
                pd.array(values, dtype="string") if column == "sentra_id" else values
            )
    out = pd.concat([out, pd.DataFrame(columns, index=out.index)], axis=1)
    geometry = areas.geometry
    if geometry.crs is not None and not geometry.crs.equals(4326):  # to_crs would transform
        geometry = geometry.to_crs(4326)
    return gpd.GeoDataFrame(out, geometry=geometry.to_numpy(), crs=4326)


def write_layers(folder: Path, *, layer: gpd.GeoDataFrame, sentra: gpd.GeoDataFrame) -> list[Path]:
    """Write ``areas.gpkg`` and ``sentra.gpkg`` (each replaced only once written whole).

    Parameters
    ----------
    folder
        The output folder.
    layer
        The areas with their statistics (:func:`areas_layer`).
    sentra
        The sentra (with geometry), indexed by ``sentra_id``; an empty layer when none.

    Returns
    -------
    list of Path
        The files written.
    """
    written = [_write(layer.reset_index(), folder / "areas.gpkg", "areas")]
    shapes = sentra.reset_index()
    if shapes.crs is not None:
        shapes = shapes.to_crs(4326)
    for column in shapes.columns:  # ids and labels as text, whatever pandas inferred
        if shapes[column].dtype == object and column != shapes.geometry.name:
            shapes[column] = shapes[column].astype("string")
    written.append(_write(shapes, folder / "sentra.gpkg", "sentra"))
    logger.info("GIS layers: %d areas, %d sentra", len(layer), len(shapes))
    return written


def _write(frame: gpd.GeoDataFrame, path: Path, layer: str) -> Path:
    with atomic_path(path) as tmp:
        # GDAL wants a new file named .gpkg: written beside, then moved onto the temporary
        scratch = tmp.with_name(tmp.name + ".gpkg")
        try:
            frame.to_file(scratch, driver="GPKG", layer=layer, engine="pyogrio")
            scratch.replace(tmp)
        finally:
            scratch.unlink(missing_ok=True)
    return path
