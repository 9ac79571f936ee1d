"""The study area: the one place that decides between administrative levels, H3 cells
and a custom polygon file, and answers every question that depends on it (the areas of
analysis, their names and parents, the map's outlines)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from klastergeo.analysis import aggregate
from klastergeo.analysis.geometry import dissolve_by_prefix, locate_points
from klastergeo.app.config import ADMIN_LEVELS, RunConfig, parse_level
from klastergeo.errors import ConfigError, DataError
from klastergeo.io import boundaries

__all__ = ["StudyArea", "study_area", "study_area_name"]

logger = logging.getLogger(__name__)

#: Most areas whose parents' outlines are dissolved from them (:meth:`StudyArea.outlines`):
#: a province's villages take seconds; the country's 83,402 take one to three minutes
#: and their 514 kabupaten lines would weigh megabytes on the split national map's first
#: page, which therefore keeps the boundaries' own coarser polygons.
DISSOLVE_MAX_AREAS = 20_000

#: The last dissolved outlines (:meth:`StudyArea.outlines`, asked for by the map and the
#: figures), keyed by the identity of the study's polygons and the level.
_OUTLINES: dict[tuple[int, str], tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]] = {}
#: Outlines being dissolved in a thread (:meth:`StudyArea.prefetch_outlines`), same keys.
_PENDING: dict[tuple[int, str], tuple[gpd.GeoDataFrame, Future[gpd.GeoDataFrame]]] = {}
#: Held while outlines are looked up or dissolved (the map and the figures' sender ask).
_DISSOLVING = threading.Lock()

AreaKind = Literal["admin", "h3", "custom"]


@dataclass(frozen=True)
class StudyArea:
    """Where a run looks: the polygons of the study area and how areas are made of them.

    ``polygons`` are the administrative areas of the level (``kind="admin"``), the
    custom polygons (``"custom"``), or, for H3 (``"h3"``), the outline the grid covers.
    """

    kind: AreaKind
    level: str
    resolution: int | None
    code: str | None
    source: Path
    polygons: gpd.GeoDataFrame

    @property
    def nested(self) -> bool:
        """Whether area codes nest by prefix (Kemendagri codes, and H3 runs over them)."""
        return self.kind in ("admin", "h3")

    def grid(self, cells: list[str]) -> gpd.GeoDataFrame:
        """The H3 cells covering the study area plus ``cells`` (those of the firms),
        named after the village at their centre, with that village's kecamatan as
        ``parent`` when the boundaries are Kemendagri's.

        Parameters
        ----------
        cells
            H3 cell ids to include even where their centre lies outside the study area
            (the cells the firms fall in).
        """
        assert self.resolution is not None
        areas = aggregate.h3_grid(self.polygons, self.resolution, extra_cells=cells)
        if self.source.is_dir():
            names, parents = _cell_names(areas, self.code, self.source)
            areas = areas.assign(name=names, parent=parents)
        return areas

    def parents(self, areas: gpd.GeoDataFrame) -> pd.Series | None:
        """The name of each area's parent unit (the kecamatan of a desa), or None.

        None for custom polygons and for the top level; for H3 cells, the ``parent``
        column of ``areas`` (set by :meth:`grid`).

        Parameters
        ----------
        areas
            The areas of analysis, indexed by area code.
        """
        above = self.ancestors(areas)  # finest first
        return None if above is None else above.iloc[:, 0]

    def ancestors(self, areas: gpd.GeoDataFrame) -> pd.DataFrame | None:
        """The names of each area's parents, a column per level above the areas'
        (``kecamatan``, ``kabupaten``, ``provinsi``, those above the level), indexed
        like ``areas``: two villages of one name are told apart by them. None for
        custom polygons and for provinces; for H3 cells, the ``kecamatan`` of the
        village at their centre (the ``parent`` column set by :meth:`grid`).

        Parameters
        ----------
        areas
            The areas of analysis, indexed by area code.
        """
        if not self.source.is_dir():
            return None
        if self.kind == "h3":
            parent = areas.get("parent")
            return None if parent is None else pd.DataFrame({"kecamatan": parent})
        if self.level not in ADMIN_LEVELS:
            return None
        above = ADMIN_LEVELS[: ADMIN_LEVELS.index(self.level)][::-1]  # finest first
        codes = pd.Series(areas.index.astype(str), index=areas.index)
        out = pd.DataFrame(index=areas.index)
        for level in above:  # three levels at most
            depth = ADMIN_LEVELS.index(level) + 1
            prefix = codes.str.split(".").str[:depth].str.join(".")
            names = boundaries.load_names(
                level, area=self.code[:2] if self.code else None, source=self.source
            )
            out[level] = names.reindex(prefix.to_numpy()).to_numpy()
        return out if len(out.columns) else None

    def outlines(self) -> gpd.GeoDataFrame | None:
        """Administrative outlines for the map, one or two levels above the analysis
        (None for custom polygons, or where the level is missing: decoration only).

        For administrative areas (up to :data:`DISSOLVE_MAX_AREAS` of them) these are the
        areas themselves dissolved by their parent's code, so that the lines follow
        their borders; for H3 grids and larger studies, the boundaries' own polygons."""
        wanted = self._outline_level()
        if wanted is None:
            return None
        try:
            if self._dissolves():
                return self._dissolved(wanted)
            return boundaries.load_areas(wanted, area=self.code, source=self.source)
        except MemoryError:  # not the file's fault: the guard says which step ran out
            raise
        except Exception as err:  # outlines are decoration: a missing level must not fail
            logger.warning("no %s outlines for the map: %s", wanted, err)
            return None

    def prefetch_outlines(self) -> None:
        """Start dissolving the outlines (:meth:`outlines`) in a thread, while the run
        reads and analyses its records: GEOS releases the interpreter's lock, so a
        province's seconds of unions run on a second core. Nothing starts where the
        outlines are read rather than dissolved."""
        wanted = self._outline_level()
        if wanted is None or not self._dissolves():
            return
        key = (id(self.polygons), wanted)
        if key in _OUTLINES or key in _PENDING:
            return
        _PENDING.clear()  # one study area at a time
        pool = ThreadPoolExecutor(1, thread_name_prefix="klastergeo-outlines")
        _PENDING[key] = (self.polygons, pool.submit(self._dissolve, wanted))
        pool.shutdown(wait=False)  # the thread ends with its one task

    def _outline_level(self) -> str | None:
        """The level of :meth:`outlines`, or None where there are none."""
        if not self.source.is_dir():
            return None
        depth = len(self.code.split(".")) if self.code else 0
        if self.kind == "h3":
            # One level below the study area: kabupaten within a province, and so on.
            return ADMIN_LEVELS[min(depth, len(ADMIN_LEVELS) - 1)]
        parent = _parent_level(self.level)
        if parent is None:
            return None
        # Within a province, kabupaten outlines read better than 576 kecamatan.
        return "kabupaten" if parent == "kecamatan" and depth <= 1 else parent

    def _dissolves(self) -> bool:
        return self.kind == "admin" and len(self.polygons) <= DISSOLVE_MAX_AREAS

    def _dissolved(self, level: str) -> gpd.GeoDataFrame:
        """:meth:`_dissolve` once per study area (or the prefetched one); a second
        thread asking waits for the first."""
        key = (id(self.polygons), level)
        with _DISSOLVING:
            cached = _OUTLINES.get(key)
            if cached is not None and cached[0] is self.polygons:
                return cached[1]
            pending = _PENDING.pop(key, None)
            if pending is not None and pending[0] is self.polygons:
                out = pending[1].result()  # its error, if any, raised here as inline
            else:
                out = self._dissolve(level)
            _OUTLINES.clear()  # one study area at a time: a national dissolve is large
            _OUTLINES[key] = (self.polygons, out)
            return out

    def _dissolve(self, level: str) -> gpd.GeoDataFrame:
        """The areas of ``level`` made of the study's own areas (villages dissolved by
        their kecamatan or kabupaten code), so that their lines follow the areas'
        borders: the boundaries' coarser levels are simplified on their own, up to
        hundreds of metres off the villages they hold (503 m in Klaten)."""
        depth = ADMIN_LEVELS.index(level) + 1
        codes = pd.Series(self.polygons.index.astype(str), dtype=object)
        keys = codes.str.split(".").str[:depth].str.join(".")
        shapes = dissolve_by_prefix(self.polygons, keys.to_numpy())
        names = boundaries.load_names(
            level, area=self.code[:2] if self.code else None, source=self.source
        )
        return gpd.GeoDataFrame(
            {"name": names.reindex(shapes.index).to_numpy(dtype=object)},
            geometry=shapes.to_numpy(),
            index=pd.Index(shapes.index, name="area_code"),
            crs=self.polygons.crs,
        )

    def provinces(self) -> gpd.GeoDataFrame | None:
        """The provinces of the study area (drawn by a split national map), or None for
        custom polygons and where the level is missing."""
        if not self.source.is_dir():
            return None
        try:
            return boundaries.load_areas(
                "provinsi", area=self.code[:2] if self.code else None, source=self.source
            )
        except MemoryError:  # not the file's fault: the guard says which step ran out
            raise
        except Exception as err:  # the map dissolves its areas instead
            logger.warning("no provinsi outlines for the map: %s", err)
            return None

    def figure_outlines(self) -> gpd.GeoDataFrame | None:
        """The outlines of the static figures (for desa and kecamatan runs only)."""
        return self.outlines() if self.level in ("desa", "kecamatan") else None

    def name(self) -> str | None:
        """The study area's name (``Kabupaten Klaten``, ``Jawa Tengah``), or None for
        custom polygons and a study area without a code."""
        return None if self.kind == "custom" else study_area_name(self.code, self.source)


def study_area(config: RunConfig) -> StudyArea:
    """Load the study area of ``config.area`` (the ``boundaries`` step); an H3 grid too
    fine for it is refused here, before the registry is read.

    Parameters
    ----------
    config
        The run's configuration; reads ``config.area`` (``level``, ``code``,
        ``boundaries``, ``id_col``, ``name_col``).
    """
    options = config.area
    level, resolution = parse_level(options.level)
    source = boundaries.resolve_source(options.boundaries)
    polygons = boundaries.analysis_areas(
        options.level,
        area=options.code,
        source=source,
        id_col=options.id_col,
        name_col=options.name_col,
    )
    kind: AreaKind = "h3" if level == "h3" else ("admin" if source.is_dir() else "custom")
    if resolution is not None:
        aggregate.check_grid_size(polygons, resolution)
    return StudyArea(kind, level, resolution, options.code, source, polygons)


def study_area_name(code: str | None, source: Path | None) -> str | None:
    """The name of the area with Kemendagri code ``code`` (``33.10`` -> ``Kabupaten
    Klaten``) in the national boundaries ``source``; None without a code, for a
    boundaries file of its own, or where the name is not found (a name is a title,
    never a reason to stop a run).

    Parameters
    ----------
    code
        The study area's code (``--area``).
    source
        The boundaries' folder (:func:`klastergeo.io.boundaries.resolve_source`).
    """
    if not code or source is None or not source.is_dir():
        return None
    level = ADMIN_LEVELS[min(len(code.split(".")), len(ADMIN_LEVELS)) - 1]
    try:
        names = boundaries.load_names(level, area=code, source=source)
    except (ConfigError, DataError, OSError) as err:
        logger.info("no name for the study area %s: %s", code, err)
        return None
    name = names.get(code)
    return str(name) if isinstance(name, str) and name else None


def _parent_level(level: str) -> str | None:
    position = ADMIN_LEVELS.index(level) if level in ADMIN_LEVELS else -1
    return ADMIN_LEVELS[position - 1] if position > 0 else None


def _cell_names(
    areas: gpd.GeoDataFrame, code: str | None, source: Path
) -> tuple[pd.Series, np.ndarray]:
    """H3 cells named after the village at their centre, and that village's kecamatan."""
    villages = boundaries.load_areas("desa", area=code, source=source)
    centres = areas.geometry.representative_point()
    pos = locate_points(centres.x.to_numpy(), centres.y.to_numpy(), villages.geometry, snap_m=2_000)
    codes = np.asarray(villages.index, dtype=object)
    names = np.where(
        pos >= 0,
        villages["name"].to_numpy(dtype=object)[np.clip(pos, 0, None)],
        areas.index.to_numpy(dtype=object),
    )
    kecamatan = boundaries.load_names("kecamatan", area=code, source=source)
    located = pd.Series(codes[pos[pos >= 0]], dtype="string")
    parent_codes = located.str.rsplit(".", n=1).str[0].to_numpy(dtype=object)
    parents = np.full(len(areas), None, dtype=object)
    parents[pos >= 0] = kecamatan.reindex(parent_codes).to_numpy(dtype=object)
    return pd.Series(names, index=areas.index), parents
