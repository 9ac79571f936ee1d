"""From firms to areas: assign each firm to one area, count per area x sector, LQ, H3 grid."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from klastergeo.errors import ConfigError

__all__ = [
    "count_by_area",
    "h3_cells",
    "h3_grid",
    "wide",
]

logger = logging.getLogger(__name__)

VALUE_COLUMNS = ("workers", "output", "investment")


def h3_cells(
    lat: NDArray[np.floating], lon: NDArray[np.floating], resolution: int
) -> NDArray[np.object_]:
    """H3 cell (hex string) of each point, vectorised.

    Parameters
    ----------
    lat, lon
        Latitudes and longitudes of the points, in decimal degrees (WGS 84), same length.
    resolution
        H3 resolution, 0 (coarsest) to 15 (finest).

    Returns
    -------
    Object array of cell ids as hex strings, one per point.

    Examples
    --------
    >>> h3_cells(np.array([-7.5]), np.array([110.8]), 8).tolist()
    ['888d8cc0b9fffff']
    """
    from h3ronpy import cells_to_string
    from h3ronpy.vector import coordinates_to_cells

    cells = coordinates_to_cells(
        np.asarray(lat, dtype=float), np.asarray(lon, dtype=float), resolution
    )
    return np.asarray(cells_to_string(cells).to_pylist(), dtype=object)


#: Most H3 cells a grid may have (about the national grid at h3:7; the country's villages
#: are 83,402). Finer grids over large areas are refused before any work.
MAX_GRID_CELLS = 1_000_000


def check_grid_size(outline: gpd.GeoDataFrame, resolution: int) -> int:
    """The number of cells an H3 grid of ``outline`` would about have; raises
    :class:`ConfigError` when it is above :data:`MAX_GRID_CELLS`.

    Parameters
    ----------
    outline
        The study area, in any CRS (its area is measured in an equal-area projection).
    resolution
        H3 resolution of the intended grid; the error names the finest one that fits.

    Returns
    -------
    The estimated number of cells: the outline's area over the average cell area.
    """
    import h3

    # an equal-area projection (EPSG:6933) measures the outline anywhere on earth
    area_m2 = float(outline.to_crs(6933).geometry.area.sum())
    estimate = int(area_m2 / h3.average_hexagon_area(resolution, unit="m^2"))
    if estimate > MAX_GRID_CELLS:
        coarser = resolution
        while (
            coarser > 0 and area_m2 / h3.average_hexagon_area(coarser, unit="m^2") > MAX_GRID_CELLS
        ):
            coarser -= 1
        raise ConfigError(
            f"level h3:{resolution} over this study area ({area_m2 / 1e6:,.0f} km2) makes "
            f"about {estimate:,} cells; at most {MAX_GRID_CELLS:,} are accepted: use h3:"
            f"{coarser} or a smaller --area"
        )
    return estimate


def h3_grid(
    outline: gpd.GeoDataFrame, resolution: int, *, extra_cells: Sequence[str] = ()
) -> gpd.GeoDataFrame:
    """Hexagons of one H3 resolution covering the study area outline.

    Cells whose centre lies in the outline are included, plus ``extra_cells`` (the cells of
    firms near the edge), so every firm has a cell and empty cells are kept.

    Parameters
    ----------
    outline
        The study area, in any CRS; all its parts are covered. Grids estimated at more
        than :data:`MAX_GRID_CELLS` cells raise :class:`ConfigError` before any work.
    resolution
        H3 resolution, 0 (coarsest) to 15 (finest).
    extra_cells
        Cell ids (hex strings) added to the grid even when their centre is outside the
        outline.

    Returns
    -------
    GeoDataFrame indexed by cell (``area_code``) with ``name`` and hexagon geometry in
    EPSG:4326.
    """
    import h3
    from h3ronpy import cells_parse
    from h3ronpy.vector import cells_to_wkb_polygons

    check_grid_size(outline, resolution)
    shape = outline.to_crs(4326).geometry.union_all()
    cells: set[str] = set()
    for part in shapely.get_parts(shape):
        cells.update(h3.geo_to_cells(part, resolution))
    cells.update(str(c) for c in extra_cells)
    if not cells:
        raise ConfigError(f"resolution h3:{resolution} gives no cell inside the study area")
    ids = np.asarray(sorted(cells), dtype=object)
    wkb = cells_to_wkb_polygons(cells_parse(ids.tolist()))
    geoms = shapely.from_wkb(np.asarray(wkb.to_pylist(), dtype=object))
    logger.info("H3 grid: %d cells at resolution %d", len(ids), resolution)
    return gpd.GeoDataFrame(
        {"name": ids}, geometry=geoms, crs=4326, index=pd.Index(ids, name="area_code")
    )


def count_by_area(
    records: pd.DataFrame,
    areas: pd.Index,
    *,
    by: str = "area_code",
    sectors: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Firms, workers, output and investment per area x sector, with every combination
    present.

    Parameters
    ----------
    records
        Firms with columns ``by`` (area code), ``sector``, ``workers``, ``output`` and
        ``investment`` (each may be absent or hold missing values). Firms without an
        area code are left out.
    areas
        All area codes of the study area; areas without firms get zeros.
    by
        Name of the column of ``records`` holding each firm's area code.
    sectors
        Sectors to report (default: every sector present).

    Returns
    -------
    DataFrame with a MultiIndex (``area_code``, ``sector``) and columns ``n_firms``,
    ``workers``, ``output``, ``investment``. A measure is the sum of the values its firms
    report (a firm with a missing value adds nothing); missing (NaN), never 0, where
    firms are but none of them reports one, and everywhere when the records lack the
    measure or no firm reports it. A cell without firms is 0.

    Examples
    --------
    >>> firms = pd.DataFrame({
    ...     "area_code": ["a", "a", "b"],
    ...     "sector": ["31", "31", "10"],
    ...     "workers": [4, None, 2],
    ...     "output": [1.5, 2.0, 1.0],
    ... })
    >>> count_by_area(firms, pd.Index(["a", "b", "c"])).loc["a"]
            n_firms  workers  output  investment
    sector
    10            0      0.0     0.0         NaN
    31            2      4.0     3.5         NaN
    """
    located = records.loc[records[by].notna()]
    chosen = sorted(located["sector"].dropna().unique()) if sectors is None else list(sectors)
    grouped = located.groupby([by, "sector"], sort=False, observed=True)
    present = [c for c in VALUE_COLUMNS if c in located.columns]
    table = grouped.agg(n_firms=("sector", "size"))
    if present:  # the known values' sum; NaN where none of a cell's firms reports one
        sums = grouped[present].sum(min_count=1)
        table[present] = sums.astype(float)
    full = pd.MultiIndex.from_product(
        [pd.Index(areas, name="area_code"), pd.Index(chosen, name="sector")]
    )
    table.index = table.index.set_names(["area_code", "sector"])
    out = table.reindex(full, fill_value=0)
    for column in VALUE_COLUMNS:
        if column not in out.columns or not located[column].notna().any():
            out[column] = np.nan  # a measure nobody reports: missing, not 0
    out["n_firms"] = out["n_firms"].astype(np.int64)
    return out[["n_firms", *VALUE_COLUMNS]]


def wide(counts: pd.DataFrame, column: str = "n_firms") -> pd.DataFrame:
    """Areas x sectors matrix of one column of :func:`count_by_area`.

    Parameters
    ----------
    counts
        The table of :func:`count_by_area` (MultiIndex ``area_code``, ``sector``).
    column
        Which column to spread: ``n_firms``, ``workers`` or ``output``.

    Returns
    -------
    DataFrame with one row per area and one column per sector (missing cells are 0).
    """
    return counts[column].unstack("sector", fill_value=0)
