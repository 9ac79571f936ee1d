"""Administrative boundaries: find them, load a study area, download and convert the source.

Indonesian boundaries come as GeoParquet files named after their level (``provinsi``,
``kabupaten``, ``kecamatan``, ``desa``) with columns ``kode`` (dotted Kemendagri code),
``nama``, ``kode_prov`` and ``geometry`` in EPSG:4326, as in ``data/boundaries/README.md``.
Any other polygon file works too when its id column is named.

Where boundaries are looked for, in order: the ``boundaries`` argument (``--boundaries``),
the ``KLASTERGEO_DATA_DIR`` environment variable, ``data/boundaries/`` in the working
directory. ``klastergeo boundaries download`` fills ``data/boundaries/`` from the public
source (:func:`download`).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from klastergeo.areas import ADMIN_LEVELS, check_area_code
from klastergeo.errors import BoundaryError, ConfigError, DownloadError, Phrase, preview
from klastergeo.io.files import atomic_path
from klastergeo.io.registry import placement

__all__ = [
    "NAME_SIMILARITY",
    "SOURCE_COMMIT",
    "SOURCE_REPOSITORY",
    "analysis_areas",
    "download",
    "find_areas",
    "level_of_code",
    "load_areas",
    "load_names",
    "name_table",
    "parse_wilayah_sql",
    "resolve_area_name",
    "resolve_source",
    "source_files",
    "split_kind",
    "study_area",
]

logger = logging.getLogger(__name__)

ENV_DATA_DIR = "KLASTERGEO_DATA_DIR"
ENV_BASE_URL = "KLASTERGEO_BOUNDARIES_URL"
DEFAULT_DIR = Path("data") / "boundaries"
SOURCE_REPOSITORY = "cahyadsn/wilayah_boundaries"
SOURCE_COMMIT = "3c5a7960f4d227a38489094d84252bdbb3f978a5"
DEFAULT_BASE_URL = f"https://raw.githubusercontent.com/{SOURCE_REPOSITORY}/{SOURCE_COMMIT}/"
#: Grid the converted coordinates are snapped to (degrees), as in the shared data set.
PRECISION = 1e-6


def level_of_code(code: str) -> str:
    """Administrative level of a Kemendagri code.

    Parameters
    ----------
    code
        A dotted code; its number of parts gives the level (1 ``provinsi``,
        2 ``kabupaten``, 3 ``kecamatan``, 4 ``desa``).

    Returns
    -------
    str
        The level's name.

    Examples
    --------
    >>> level_of_code("33.11")
    'kabupaten'
    """
    return ADMIN_LEVELS[len(str(code).split(".")) - 1]


def resolve_source(boundaries: str | Path | None = None) -> Path:
    """Find the boundaries: the argument, ``$KLASTERGEO_DATA_DIR``, then ``data/boundaries``.

    The first candidate that is a file, or a directory holding ``*.parquet`` files, wins.

    Parameters
    ----------
    boundaries
        Directory of ``<level>.parquet`` files or one polygon file (``--boundaries``; a
        leading ``~`` is expanded). None looks in the environment and the default
        directory. Given but unusable, it is an error rather than falling through.

    Returns
    -------
    Path
        A directory of ``<level>.parquet`` files or a single polygon file.

    Raises
    ------
    BoundaryError
        If ``boundaries`` is unusable or no candidate holds boundaries.
    """
    tried: list[str] = []
    candidates: list[tuple[str, str | os.PathLike[str] | None]] = [
        ("--boundaries", boundaries),
        (f"${ENV_DATA_DIR}", os.environ.get(ENV_DATA_DIR) or None),
        ("data/boundaries", DEFAULT_DIR),
    ]
    for origin, candidate in candidates:
        if candidate is None:
            continue
        path = Path(candidate).expanduser()
        if path.is_file() or (path.is_dir() and any(path.glob("*.parquet"))):
            logger.info("boundaries from %s (%s)", path, origin)
            return path
        tried.append(f"{origin} = {str(path)!r}")
        if origin == "--boundaries":
            raise BoundaryError(
                f"boundaries {str(path)!r} is neither a polygon file nor a directory of "
                "<level>.parquet files",
                key="boundaries_missing",
                params={"path": repr(str(path))},
            )
    raise BoundaryError(
        "no boundaries found (tried " + "; ".join(tried) + "). Pass --boundaries PATH, set "
        f"{ENV_DATA_DIR}, or fetch them with: klastergeo boundaries download --area CODE "
        "(a province, e.g. 33)"
    )


def _level_file(source: Path, level: str) -> Path:
    path = source / f"{level}.parquet"
    if not path.exists():
        present = sorted(p.stem for p in source.glob("*.parquet"))
        raise BoundaryError(
            f"no {level} boundaries in {str(source)!r} (found: {', '.join(present) or 'none'}); "
            f"run: klastergeo boundaries download --level {level}",
            key="boundaries_level",
            params={
                "level": level,
                "path": repr(str(source)),
                "found": ", ".join(present),
                "download": f"klastergeo boundaries download --level {level}",
            },
        )
    return path


def _read_level(path: Path, *, geometry: bool = True, **options: Any) -> pd.DataFrame:
    """Read a level's GeoParquet; an unreadable file is a :class:`BoundaryError` that names
    it (a truncated download, a file of something else)."""
    try:
        if geometry:
            return gpd.read_parquet(path, **options)
        return pd.read_parquet(path, **options)
    except BoundaryError:
        raise
    except MemoryError:  # not the file's fault: the guard says which step ran out
        raise
    except Exception as err:  # pyarrow and geopandas raise many types for a bad file
        raise BoundaryError(
            f"cannot read boundaries {str(path)!r} ({type(err).__name__}: {err}); the file "
            "is damaged or not GeoParquet: download it again with klastergeo boundaries "
            "download, or point --boundaries elsewhere"
        ) from err


def _prefix_mask(codes: pd.Series, area: str, *, dotted: bool = True) -> NDArray[np.bool_]:
    text = codes.astype("string")
    mask = (text == area) | text.str.startswith(area + ".") if dotted else text.str.startswith(area)
    return mask.fillna(False).to_numpy(dtype=bool)


def _in_degrees(out: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """The areas in EPSG:4326 (assumed when the file has no CRS)."""
    if out.crs is None:
        logger.warning("boundaries %s have no CRS; assuming EPSG:4326", path)
        out = out.set_crs(4326)
    elif out.crs.to_epsg() != 4326:
        crs = out.crs
        out = out.to_crs(4326)
        if not np.isfinite(shapely.get_coordinates(out.geometry.to_numpy())).all():
            raise BoundaryError(
                f"boundaries {str(path)!r}: their coordinates cannot be converted from "
                f"their CRS ({crs.name}) to longitude/latitude; check the file's CRS"
            )
    return out


def load_areas(
    level: str = "desa",
    *,
    area: str | None = None,
    source: str | Path | None = None,
    id_col: str | None = None,
    name_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Load the areas of one level, optionally only those within a study area.

    Parameters
    ----------
    level
        ``provinsi``, ``kabupaten``, ``kecamatan`` or ``desa`` (ignored for a single file).
    area
        Code prefix of the study area (``33``, ``33.11``); None for all areas.
    source
        Directory of ``<level>.parquet`` files or one polygon file (GeoPackage, GeoJSON,
        Shapefile, GeoParquet); None resolves with :func:`resolve_source`.
    id_col, name_col
        Id and name columns of a polygon file (default ``kode``/``nama``).

    Returns
    -------
    GeoDataFrame indexed by ``area_code`` (sorted) with ``name`` and ``geometry``
    (EPSG:4326).

    Raises
    ------
    BoundaryError
        Naming the file and every problem at once: no areas; ids missing, blank,
        repeated, holding control characters or ``;``, or stored as decimal numbers
        (whole numbers stored as floats are read without ``.0``); geometries missing,
        empty, not polygons or with vertices that are not numbers; coordinates not in
        the units of the file's CRS (metres without a CRS, or in a GeoJSON file, which
        is always degrees; degrees under a projected CRS). Invalid polygons of a
        polygon file are repaired (``make_valid``) and control characters in names
        replaced, with a warning naming the areas.

    Examples
    --------
    The kecamatan of Kabupaten Sukoharjo from the national files (needs them, see
    :func:`resolve_source`):

    >>> load_areas("kecamatan", area="33.11").loc["33.11.11", "name"]  # doctest: +SKIP
    'Gatak'

    Custom polygons, here two planning zones in a GeoJSON file:

    >>> import tempfile
    >>> import shapely
    >>> path = Path(tempfile.mkdtemp()) / "zones.geojson"
    >>> gpd.GeoDataFrame(
    ...     {"kode": ["Z2", "Z1"], "nama": ["Zona Timur", "Zona Barat"]},
    ...     geometry=[shapely.box(110.8, -7.6, 110.9, -7.5), shapely.box(110.7, -7.6, 110.8, -7.5)],
    ...     crs=4326,
    ... ).to_file(path)
    >>> zones = load_areas(source=path)
    >>> zones.index.tolist(), zones["name"].tolist()
    (['Z1', 'Z2'], ['Zona Barat', 'Zona Timur'])
    """
    path = resolve_source(source)
    filters = None
    if path.is_dir():
        if id_col is None and area is not None:
            area = check_area_code(area)
        filters = [("kode_prov", "=", area[:2])] if area and id_col is None else None
        frame = _read_level(_level_file(path, level), filters=filters)
        id_col, name_col = id_col or "kode", name_col or "nama"
    else:
        frame = _read_polygon_file(path)
        id_col = id_col or _guess(frame, ("kode", "code", "id", "area_code"), "id", path)
        name_col = name_col or _guess(frame, ("nama", "name", "area_name"), None, path)
    _check_columns(frame, path, id_col, name_col)
    if frame.empty and filters:  # no province of the code's first two digits
        assert area is not None and id_col is not None
        raise _selects_nothing(area, level, path, id_col)
    if frame.empty:
        raise BoundaryError(f"boundaries {str(path)!r} hold no areas")
    assert id_col is not None
    codes = _area_codes(frame[id_col], path, id_col)
    if area is not None:
        keep = _prefix_mask(codes, area, dotted=path.is_dir() or "." in area)
        frame, codes = frame.loc[keep], codes.loc[keep]
        if frame.empty:
            raise _selects_nothing(area, level, path, id_col)
    names = _area_names(frame, codes, name_col, path)
    out = gpd.GeoDataFrame(
        {"name": names.astype(object).to_numpy()},
        geometry=frame.geometry.to_numpy(),
        index=pd.Index(codes.to_numpy(dtype=object), name="area_code"),
        crs=frame.crs,
    )
    # the national files were repaired when converted (_repair); a polygon file may not be
    out = _polygons(out, path, repair=not path.is_dir())
    _check_units(out, path)
    out = _in_degrees(out, path)
    return out.sort_index()


#: Characters an area code may not hold: controls, and ';', which separates the codes
#: of a sentra's areas in every table (``area_codes``).
_BAD_CODE = r"[\x00-\x1f\x7f-\x9f;]"
#: Control characters in names: blanks among them read as a space, the rest as U+FFFD
#: (no output format shows them, and Excel's cannot hold them).
_BLANK_CONTROL = r"[\t\n\r\x0b\x0c\x85]"
_OTHER_CONTROL = r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]"


def _area_codes(values: pd.Series, path: Path, id_col: str) -> pd.Series:
    """Area codes as text: whole numbers stored as floats (a GeoPackage or shapefile
    ``real`` column) without '.0'; decimal numbers refused, since a code such as 33.10
    stored as a number has lost its last zero. Blank codes are missing."""
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(numbers)
        whole = finite & (np.abs(np.where(finite, numbers, 0.0)) < 2**53)
        whole &= np.floor(np.where(whole, numbers, 0.0)) == np.where(whole, numbers, 0.0)
        if (finite & ~whole).any():
            raise BoundaryError(
                f"boundaries {str(path)!r}: id column {id_col!r} holds decimal numbers "
                f"({preview(pd.unique(numbers[finite & ~whole]))}), not codes; a code "
                "such as 33.10 stored as a number has lost its last zero: store the id "
                "column as text in the file (or name another one with --area-id-col)"
            )
        text = pd.Series(pd.NA, index=values.index, dtype="string")
        text[whole] = pd.Series(numbers[whole].astype(np.int64), index=values.index[whole]).astype(
            "string"
        )
        return text
    text = values.astype("string")
    return text.mask(text.str.strip() == "")


def _check_units(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Coordinates in the units of the file's CRS: degrees (longitude within +-180,
    latitude within +-90) where it has none (they are read as degrees) or a geographic
    one; a projected CRS whose coordinates all fit in those ranges is degrees labelled
    wrongly (the whole file would lie within 180 m of the projection's origin)."""
    x0, y0, x1, y1 = frame.total_bounds
    degrees = max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90
    crs = frame.crs
    if crs is not None and not crs.is_geographic:
        if degrees:
            raise BoundaryError(
                f"boundaries {str(path)!r} declare a projected CRS ({crs.name}), but every "
                f"coordinate (x {x0:g} to {x1:g}, y {y0:g} to {y1:g}) fits in the range of "
                "degrees: the CRS is wrong. Set it to the one the coordinates are in, e.g. "
                f"ogr2ogr -a_srs EPSG:4326 fixed.gpkg {str(path)!r}"
            )
        return
    if degrees:
        return
    said = "have no CRS" if crs is None else f"declare a geographic CRS ({crs.name})"
    raise BoundaryError(
        f"boundaries {str(path)!r} {said}, but their coordinates (x {x0:,.0f} to "
        f"{x1:,.0f}, y {y0:,.0f} to {y1:,.0f}) are not degrees (longitude within +-180, "
        "latitude within +-90): they are projected. Set the file's CRS to the one they "
        f"are in, e.g. ogr2ogr -a_srs EPSG:32749 fixed.gpkg {str(path)!r}, or in Python "
        "gpd.read_file(path).set_crs(32749, allow_override=True).to_file('fixed.gpkg') "
        "(EPSG:32749 is UTM zone 49S, as for Jawa Tengah; a GeoJSON file is always read "
        "as degrees: convert it to GeoPackage with its CRS)"
    )


def _check_columns(
    frame: gpd.GeoDataFrame, path: Path, id_col: str | None, name_col: str | None
) -> None:
    """The id and name columns exist and are not the geometry."""
    for column, flag in ((id_col, "--area-id-col"), (name_col, "--area-name-col")):
        if column is not None and column not in frame.columns:
            columns = ", ".join(map(str, frame.columns))
            raise BoundaryError(
                f"boundaries {str(path)!r} have no column {column!r}; columns: {columns}",
                key="boundaries_column",
                params={
                    "path": repr(str(path)),
                    "column": repr(column),
                    "flag": flag,
                    "columns": columns,
                },
            )
        if column is not None and column == frame.geometry.name:
            raise BoundaryError(
                f"boundaries {str(path)!r}: {column!r} is the geometry column; the id and "
                "name must be text or number columns"
            )


def _area_names(
    frame: gpd.GeoDataFrame, codes: pd.Series, name_col: str | None, path: Path
) -> pd.Series:
    """Each area's name; an area without one is shown (and searched) by its code."""
    if not name_col:
        return codes.astype(object)
    names = frame[name_col].astype("string")
    names = names.mask(names.str.strip() == "")
    controls = names.str.contains(f"{_BLANK_CONTROL}|{_OTHER_CONTROL}", regex=True)
    if controls.fillna(False).any():
        shown = codes[controls.fillna(False).to_numpy()]
        logger.warning(
            "%d area name(s) of %s hold control characters (areas %s); blanks among them "
            "are read as spaces, the others as U+FFFD",
            len(shown),
            path.name,
            preview(shown),
        )
        names = names.str.replace(_BLANK_CONTROL, " ", regex=True)
        names = names.str.replace(_OTHER_CONTROL, "\ufffd", regex=True)
    if names.isna().any():
        logger.warning(
            "%d area(s) of %s have no name in column %r; their codes stand in",
            int(names.isna().sum()),
            path.name,
            name_col,
        )
        names = names.fillna(codes)
    return names


def _read_polygon_file(path: Path) -> gpd.GeoDataFrame:
    try:
        with warnings.catch_warnings():  # NaN vertices: _polygons names their areas
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            if path.suffix.lower() in (".parquet", ".geoparquet"):
                frame = gpd.read_parquet(path)
            else:
                frame = gpd.read_file(path, engine="pyogrio")
    except MemoryError:  # not the file's fault: the guard says which step ran out
        raise
    except Exception as err:  # pyogrio/pyarrow raise many types for unreadable files
        raise BoundaryError(f"cannot read boundaries {str(path)!r}: {err}") from err
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise BoundaryError(
            f"boundaries {str(path)!r} have no geometry (a table, not a map layer); give a "
            "polygon file: GeoPackage, GeoJSON, Shapefile or GeoParquet"
        )
    return frame


def _guess(frame: pd.DataFrame, names: Iterable[str], role: str | None, path: Path) -> str | None:
    lower = {str(c).lower(): str(c) for c in frame.columns}
    for name in names:
        if name in lower:
            return lower[name]
    if role is None:
        return None
    raise BoundaryError(
        f"boundaries {str(path)!r}: cannot tell the {role} column; pass --area-id-col "
        f"(columns: {', '.join(map(str, frame.columns))})"
    )


def _selects_nothing(area: str, level: str, path: Path, id_col: str) -> BoundaryError:
    """The error of a study area whose code selects no area of the level."""
    codes = preview(_sample_codes(path, level, id_col))
    return BoundaryError(
        f"area {area!r} selects no {level} in {str(path)!r}; codes look like {codes}",
        key="area_code_unknown",
        params={"area": repr(area), "level": level, "path": repr(str(path)), "codes": codes},
    )


def _sample_codes(path: Path, level: str, id_col: str) -> list[str]:
    if path.is_dir():
        table = _read_level(_level_file(path, level), geometry=False, columns=[id_col])
    else:
        table = pd.DataFrame(_read_polygon_file(path)[[id_col]])
    return table[id_col].astype(str).head(5).tolist()


def _polygons(frame: gpd.GeoDataFrame, path: Path, *, repair: bool = True) -> gpd.GeoDataFrame:
    """The areas as valid polygons, or every problem of the file at once: missing,
    blank, repeated or unusable ids; missing, empty, non-polygonal or non-finite
    geometries. With ``repair`` (a polygon file; the national files were checked and
    repaired when converted), vertices that are not numbers are refused and invalid
    polygons made valid (``make_valid``, polygonal parts kept). Geometry collections
    holding polygons are read as those polygons. Each repair is logged."""
    problems = []
    index = frame.index
    if index.hasnans:
        problems.append(f"{int(index.isna().sum())} area(s) without an id (empty or blank)")
    dupes = index[index.duplicated() & index.notna()].unique()
    if len(dupes):
        problems.append(f"repeated ids {preview(dupes)}")
    bad = pd.Series(index, dtype="string").str.contains(_BAD_CODE, regex=True)
    bad_codes = bad.fillna(False).to_numpy(dtype=bool)
    if bad_codes.any():
        problems.append(
            f"ids holding control characters or ';' ({preview(index[bad_codes])}); an id "
            "is printable text without ';' (the separator of area lists)"
        )
    geometry = frame.geometry.to_numpy().copy()
    kinds = shapely.get_type_id(geometry)  # -1: missing
    collection = kinds == shapely.GeometryType.GEOMETRYCOLLECTION
    if collection.any():  # those holding polygons; the others are not polygons (below)
        parts = np.asarray([_polygonal(g) for g in geometry[collection]], dtype=object)
        collection[collection] = ~shapely.is_empty(parts)
        geometry[collection] = parts[~shapely.is_empty(parts)]
    if collection.any():
        logger.warning(
            "boundaries %s: %d area(s) are geometry collections; their polygons are used (%s)",
            path.name,
            int(collection.sum()),
            preview(index[collection]),
        )
        kinds = shapely.get_type_id(geometry)
    missing = kinds == -1
    if missing.any():
        problems.append(
            f"{int(missing.sum())} area(s) without geometry ({preview(index[missing])})"
        )
    polygonal = np.isin(kinds, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
    other = ~missing & ~polygonal
    if other.any():
        types = np.asarray([g.geom_type for g in geometry[other]])
        listed = "; ".join(
            f"{kind} {preview(index[other][types == kind])}" for kind in sorted(set(types))
        )
        problems.append(f"geometries that are not polygons ({listed}); areas must be polygons")
    empty = polygonal & shapely.is_empty(geometry)
    if empty.any():
        problems.append(
            f"{int(empty.sum())} area(s) with an empty geometry ({preview(index[empty])})"
        )
    if repair:  # every vertex: a polygon file's, not the national files' (checked once)
        coordinates, owner = shapely.get_coordinates(geometry, return_index=True)
        broken = np.unique(owner[~np.isfinite(coordinates).all(axis=1)])
        if len(broken):
            problems.append(f"coordinates that are not numbers in area(s) {preview(index[broken])}")
    if problems:
        raise BoundaryError(f"boundaries {str(path)!r} cannot be used: " + "; ".join(problems))
    invalid = ~shapely.is_valid(geometry) if repair else np.zeros(len(frame), dtype=bool)
    if invalid.any():
        repaired = np.asarray(
            [_polygonal(g) for g in shapely.make_valid(geometry[invalid])], dtype=object
        )
        lost = shapely.is_empty(repaired)
        if lost.any():
            raise BoundaryError(
                f"boundaries {str(path)!r} cannot be used: area(s) "
                f"{preview(index[invalid][lost])} have invalid polygons with no area left "
                "once repaired (a line or a point drawn as a polygon); fix or remove them"
            )
        geometry[invalid] = repaired
        logger.warning(
            "boundaries %s: %d invalid polygon(s) repaired (%s): self-intersecting rings "
            "or holes outside their shell, made valid as GIS tools do",
            path.name,
            int(invalid.sum()),
            preview(index[invalid]),
        )
    return frame.set_geometry(gpd.GeoSeries(geometry, index=index, crs=frame.crs))


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a geometry (a collection's polygonal parts) as one
    (Multi)Polygon; an empty Polygon when it has none."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [
        q
        for p in shapely.get_parts(geometry)
        if p.geom_type in ("Polygon", "MultiPolygon")
        for q in shapely.get_parts(p)
        if not q.is_empty
    ]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def load_names(
    level: str, *, area: str | None = None, source: str | Path | None = None
) -> pd.Series:
    """Names of the areas of a level, indexed by code, without reading geometries.

    Parameters
    ----------
    level
        ``provinsi``, ``kabupaten``, ``kecamatan`` or ``desa``.
    area
        Code prefix of the study area (``33``, ``33.11``); None for all areas.
    source
        Boundaries as for :func:`resolve_source`. A single polygon file gives an empty
        Series: only the national ``<level>.parquet`` files are read here.

    Returns
    -------
    Series
        Area names indexed by ``area_code``, sorted by code.

    Examples
    --------
    >>> load_names("kecamatan", area="33.11")["33.11.11"]  # doctest: +SKIP
    'Gatak'
    """
    path = resolve_source(source)
    if not path.is_dir():
        return pd.Series(dtype=object, name="name")
    filters = [("kode_prov", "=", area[:2])] if area else None
    table = _read_level(
        _level_file(path, level), geometry=False, columns=["kode", "nama"], filters=filters
    )
    if area:
        table = table.loc[_prefix_mask(table["kode"], area)]
    return pd.Series(
        table["nama"].to_numpy(dtype=object),
        index=pd.Index(table["kode"].to_numpy(dtype=object), name="area_code"),
        name="name",
    ).sort_index()


def _fold(text: pd.Series) -> pd.Series:
    """Names compared without case, accents, punctuation or repeated blanks."""
    import unicodedata

    def fold(value: str) -> str:
        plain = unicodedata.normalize("NFKD", value)
        plain = "".join(c for c in plain if not unicodedata.combining(c))
        return " ".join("".join(c if c.isalnum() else " " for c in plain.casefold()).split())

    return text.astype(str).map(fold)


#: The kind words an area's name may start with (folded: ``Kab.`` is ``kab``), longest
#: first, and the kind each says: ``kabupaten`` and ``kota`` are both regency-level areas
#: (a regency and a city), ``desa`` stands for villages and urban villages (kelurahan).
#: Jakarta's are ``Kabupaten Administrasi`` and ``Kota Administrasi`` (``Kota Adm.``);
#: the special provinces are written ``DKI``, ``DI`` or in full.
_KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("kabupaten administrasi", "kabupaten"),
    ("kabupaten adm", "kabupaten"),
    ("kab administrasi", "kabupaten"),
    ("kab adm", "kabupaten"),
    ("kota administrasi", "kota"),
    ("kota adm", "kota"),
    ("kotamadya", "kota"),
    ("kodya", "kota"),
    ("kabupaten", "kabupaten"),
    ("kab", "kabupaten"),
    ("kota", "kota"),
    ("daerah khusus ibukota", "provinsi"),
    ("daerah istimewa", "provinsi"),
    ("provinsi", "provinsi"),
    ("propinsi", "provinsi"),
    ("prov", "provinsi"),
    ("dki", "provinsi"),
    ("di", "provinsi"),
    ("kecamatan", "kecamatan"),
    ("kec", "kecamatan"),
    ("kelurahan", "desa"),
    ("kel", "desa"),
    ("desa", "desa"),
    ("ds", "desa"),
)
#: The level of the areas each kind names.
_KIND_LEVEL = {
    "provinsi": "provinsi",
    "kabupaten": "kabupaten",
    "kota": "kabupaten",
    "kecamatan": "kecamatan",
    "desa": "desa",
}
#: Least similarity (0-100) of a name written with a typo to the area it is read as: the
#: one placement uses (:data:`klastergeo.io.registry.placement.SIMILARITY`,
#: ``area.name_similarity``):
#: rapidfuzz ``fuzz.ratio`` of the names folded as placement folds them
#: (:func:`klastergeo.io.registry.placement.fold_names`: no case, accents, blanks or kind words).
#: ``Klatem`` for ``Klaten`` scores 83, ``Bojolali`` for ``Boyolali`` 88.
NAME_SIMILARITY = placement.SIMILARITY


def split_kind(name: str, *, level: str | None = None) -> tuple[str, str]:
    """An area name folded (case, accents, punctuation and blanks ignored) and split into
    the kind its first words say and the rest.

    Parameters
    ----------
    name
        An area name as written, e.g. ``"Kab. Klaten"`` or ``"KOTA ADM. JAKARTA PUSAT"``.
    level
        The level the name is known to be of (a name read from that level's file): only
        kind words of that level are split off, so that the district ``Kota Kudus``
        keeps its ``Kota``. None splits any kind word.

    Returns
    -------
    tuple of str
        The kind (``provinsi``, ``kabupaten``, ``kota``, ``kecamatan``, ``desa``, or
        ``""`` when the name says none) and the name without it, folded.

    Examples
    --------
    >>> split_kind("Kab. Klaten"), split_kind("Kota Adm. Jakarta Pusat")
    (('kabupaten', 'klaten'), ('kota', 'jakarta pusat'))
    >>> split_kind("Kota Kudus", level="kecamatan")
    ('', 'kota kudus')
    """
    folded = _fold(pd.Series([name])).iloc[0]
    for words, kind in _KIND_WORDS:
        if level is not None and _KIND_LEVEL[kind] != level:
            continue
        if folded == words or folded.startswith(words + " "):
            return kind, folded[len(words) + 1 :]
    return "", folded


def name_table(levels: Sequence[str], source: str | Path | None) -> pd.DataFrame:
    """The areas of ``levels`` with their names folded: ``area_code``, ``name``,
    ``level``, ``rank`` (0 for the first level), ``kind`` (what the name's first words
    say, :func:`split_kind`, or ``kota``/``kabupaten`` as placement reads it), ``key``
    (the name as placement compares it, :func:`klastergeo.io.registry.placement.fold_names`) and
    ``full`` (the whole name folded, with its blanks and kind words).

    Parameters
    ----------
    levels
        Area levels to read (``provinsi``, ``kabupaten``, ...), in the order that sets
        ``rank``.
    source
        Boundaries as for :func:`resolve_source`; their names are read with
        :func:`load_names`, without geometries.
    """
    frames = []
    for rank, level in enumerate(levels):
        series = load_names(level, source=source)
        full = _fold(series)
        kind = pd.Series("", index=series.index, dtype=object)
        core = full.copy()
        for words, said in _KIND_WORDS:  # longest first: each name loses one kind
            if _KIND_LEVEL[said] != level:
                continue
            hit = (kind == "") & ((core == words) | core.str.startswith(words + " "))
            kind = kind.where(~hit, said)
            core = core.where(~hit, core.str[len(words) + 1 :])
        folded = placement.fold_names(core)
        if level == "kabupaten":  # "Kota Administrasi ...": placement's kota
            kind = kind.where(kind != "", folded["kind"])
        frames.append(
            pd.DataFrame(
                {
                    "area_code": series.index.astype(str),
                    "name": series.to_numpy(dtype=object),
                    "level": level,
                    "rank": rank,
                    "kind": kind.to_numpy(dtype=object),
                    "key": folded["key"].to_numpy(dtype=object),
                    "full": full.to_numpy(dtype=object),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _key(text: str) -> tuple[str, str, str]:
    """A name as written: its kind (:func:`split_kind`), its key as placement folds
    it and the whole name folded."""
    kind, rest = split_kind(text)
    key = str(placement.fold_names(pd.Series([rest])).iloc[0]["key"]) if rest else ""
    return kind, key, _fold(pd.Series([text])).iloc[0]


def _kind_fits(table: pd.DataFrame, kind: str) -> NDArray[np.bool_]:
    """Which areas a name of ``kind`` may be: all for no kind, else those of its level
    whose own name says the same kind or none (``Kota Semarang`` is not the regency)."""
    if not kind:
        return np.ones(len(table), dtype=bool)
    level = table["level"].to_numpy() == _KIND_LEVEL[kind]
    said = table["kind"].to_numpy(dtype=object)
    return level & ((said == kind) | (said == ""))


def _similarity(query: str, keys: pd.Series) -> NDArray[np.float64]:
    """rapidfuzz ``fuzz.ratio`` (0-100) of ``query`` to each of ``keys``, as placement
    scores a name with a typo; computed once per distinct key."""
    from rapidfuzz import fuzz, process

    if not len(keys):
        return np.empty(0)
    distinct, position = np.unique(keys.to_numpy(dtype=str), return_inverse=True)
    scores = process.cdist([query], list(distinct), scorer=fuzz.ratio, dtype=np.float64)[0]
    return np.asarray(scores, dtype=np.float64)[position]


def _match(query: str, table: pd.DataFrame, *, similarity: float) -> pd.DataFrame:
    """The areas of ``table`` (:func:`name_table`) a name may be, each with ``match``
    ``exact``, ``prefix``, ``contains`` or ``similar`` (at least ``similarity``, at the
    levels above villages: among 83,000 village names a made-up word is close to some)
    and its ``score``; the kind words of the query limit the candidates
    (:func:`_kind_fits`), and the whole name as written matches too (the district
    ``Kota Kudus``)."""
    kind, key, full = _key(query)
    if not full:
        raise ConfigError(f"an area name to look for is needed (e.g. 'Boyolali'), not {query!r}")
    # a kind word alone ("Kab.") is matched as written only (the district "Kota")
    fits = _kind_fits(table, kind) if key else np.zeros(len(table), dtype=bool)
    keys, fulls = table["key"].astype(str), table["full"].astype(str)
    exact = (fits & (keys == key).to_numpy()) | (fulls == full).to_numpy()
    prefix = ~exact & (
        (fits & keys.str.startswith(key).to_numpy()) | fulls.str.startswith(full).to_numpy()
    )
    contains = (
        ~exact
        & ~prefix
        & (
            (fits & keys.str.contains(key, regex=False).to_numpy())
            | fulls.str.contains(full, regex=False).to_numpy()
        )
    )
    score = np.zeros(len(table))
    scored = fits & (table["level"].to_numpy() != "desa")
    score[scored] = _similarity(key, keys[scored])
    similar = ~exact & ~prefix & ~contains & (score >= similarity)
    match = np.select(
        [exact, prefix, contains, similar], ["exact", "prefix", "contains", "similar"], ""
    )
    found = table.assign(match=match, score=np.where(exact, 100.0, score))
    found = found.loc[match != ""]
    order = found["match"].map({"exact": 0, "prefix": 1, "contains": 2, "similar": 3})
    found = found.assign(_order=order, _minus=-found["score"])
    return found.sort_values(["_order", "_minus", "rank", "area_code"], kind="stable")


def find_areas(
    name: str,
    *,
    levels: Sequence[str] | None = None,
    source: str | Path | None = None,
    limit: int = 20,
    similarity: float = NAME_SIMILARITY,
) -> pd.DataFrame:
    """Areas whose name matches ``name``, with their codes: for ``--area`` and
    ``klastergeo boundaries find``.

    Names are compared as placement compares them: case, accents, punctuation and the
    kind words (``Kab.``, ``Kabupaten``, ``Kota``, ``Kota Adm.``, ``Kabupaten
    Administrasi``, ``Provinsi``, ``DKI``, ``Kec.``, ``Desa``, ``Kel.``, ...) are ignored,
    but a kind word that is written limits the search to its kind (``Kota Semarang`` is
    the city, not the regency). Exact names come first, then names that start with
    ``name``, then names that contain it, then names of provinces, regencies and
    districts within a typo or two (similarity at least ``similarity``, as placement
    scores it); within each, the most similar
    first, then larger areas before smaller ones, then by code.

    Parameters
    ----------
    name
        A name or part of one (``"boyolali"``, ``"Cepogo"``, ``"Kab. Klaten"``).
    levels
        The levels searched (default: all four, provinces first).
    source
        Boundaries as for :func:`resolve_source` (national ``<level>.parquet`` files).
    limit
        Most rows returned.
    similarity
        Least similarity of a name with a typo (``area.name_similarity``).

    Returns
    -------
    DataFrame
        ``area_code``, ``name``, ``level``, ``parent`` (the name of the area it lies in),
        ``match`` (``exact``, ``prefix``, ``contains`` or ``similar``) and ``score`` (the
        similarity of the names without their kind words, 100 for an exact match).

    Examples
    --------
    >>> find_areas("Kab. Boyolali", levels=["kabupaten"])[["area_code", "name"]]  # doctest: +SKIP
      area_code               name
    0     33.09  Kabupaten Boyolali
    """
    if not _fold(pd.Series([name])).iloc[0]:
        raise ConfigError("an area name to look for is needed (e.g. 'Boyolali')")
    table = name_table(levels or ADMIN_LEVELS, source)
    columns = ["area_code", "name", "level", "parent", "match", "score"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    found = _match(name, table, similarity=similarity).head(limit)
    if found.empty:
        return pd.DataFrame(columns=columns)
    found["parent"] = _parents(found["area_code"], source)
    return found[columns].reset_index(drop=True)


def _parents(codes: pd.Series, source: str | Path | None) -> list[str]:
    """The name of the area each code lies in (empty for a province)."""
    parent_codes = codes.str.rsplit(".", n=1).str[0].where(codes.str.contains("."), "")
    out = pd.Series("", index=codes.index, dtype=object)
    for level in ADMIN_LEVELS[:-1]:
        depth = ADMIN_LEVELS.index(level) + 1
        at = parent_codes.str.count(r"\.") + 1 == depth
        at &= parent_codes != ""
        if at.any():
            names = load_names(level, source=source)
            out.loc[at] = names.reindex(parent_codes.loc[at]).fillna("").to_numpy()
    return out.tolist()


def resolve_area_name(
    text: str, *, source: str | Path | None = None, similarity: float = NAME_SIMILARITY
) -> str:
    """The Kemendagri code of the area named ``text`` (``--area Boyolali``), among
    provinces, regencies and districts (villages are too many alike).

    Names are compared as :func:`find_areas` compares them (``Kab. Klaten``,
    ``Kabupaten Klaten``, ``KABUPATEN KLATEN`` and ``Klaten`` are one regency; ``Kota
    Semarang`` is the city, ``Kabupaten Semarang`` the regency). The one exact match at
    the largest level that has one wins (a regency and its capital district often share
    a name, and the regency is meant). Without an exact match, a name within a typo is
    read as the one most similar area (similarity of the names without their kind words
    at least ``similarity``, and no other area as similar at the same level),
    with a warning that says so. Otherwise a :class:`~klastergeo.errors.ConfigError`
    lists the candidates with their codes.

    Parameters
    ----------
    text
        An area name, e.g. ``"Boyolali"``, ``"Kab. Boyolali"`` or ``"Kota Surakarta"``.
    source
        Boundaries as for :func:`resolve_source`.
    similarity
        Least similarity of a name with a typo (``area.name_similarity``; 100: exact
        names only).

    Returns
    -------
    str
        The area's code.

    Examples
    --------
    >>> resolve_area_name("Kab. Klaten")  # doctest: +SKIP
    '33.10'
    """
    if not _fold(pd.Series([text])).iloc[0]:
        raise ConfigError(f"--area {text!r} is empty; give a code (e.g. 33.10) or a name")
    table = name_table(("provinsi", "kabupaten", "kecamatan"), source)
    found = _match(text, table, similarity=similarity) if not table.empty else table
    for label in ("exact", "similar"):
        hits = found.loc[found["match"] == label]
        if label == "similar":
            hits = hits.loc[hits["score"] == hits["score"].max()] if len(hits) else hits
        # a regency and its capital district often share a name: the larger area is meant
        hits = hits.loc[hits["rank"] == hits["rank"].min()] if len(hits) else hits
        if len(hits) == 1:
            row = hits.iloc[0]
            if label == "exact":
                logger.info(
                    "area %r is %s (%s, %s)", text, row["area_code"], row["name"], row["level"]
                )
            else:
                logger.warning(
                    "area %r is no area's name; read as the most similar, %s %s (%s): "
                    "similarity %.0f of 100 (rapidfuzz ratio of the names as placement "
                    "compares them; from %.0f, area.name_similarity, a name is read so); "
                    "pass --area %s to say so",
                    text,
                    row["area_code"],
                    row["name"],
                    row["level"],
                    row["score"],
                    similarity,
                    row["area_code"],
                )
            return str(row["area_code"])
        if len(hits) > 1:
            raise _ambiguous(text, hits, label, source)
    raise _unknown_area(text, found, table, similarity, source)


def _ambiguous(text: str, hits: pd.DataFrame, label: str, source: str | Path | None) -> ConfigError:
    """The error of an area name that fits several areas equally (``label``: exactly or
    as similarly)."""
    named = {
        "area": repr(text),
        "n": len(hits),
        "areas": _listed(hits, source),
        "code": hits.iloc[0]["area_code"],
        "kind_name": repr(_with_kind(hits.iloc[-1])),
    }
    return ConfigError(
        f"area {text!r} "
        + ("matches" if label == "exact" else "is as similar to")
        + f" {len(hits)} areas: {_listed(hits, source)}; pass a code (e.g. --area "
        f"{hits.iloc[0]['area_code']}) or a kind word and the name (e.g. --area "
        f"{_with_kind(hits.iloc[-1])!r})",
        key="area_ambiguous" if label == "exact" else "area_ambiguous_similar",
        params=named,
    )


def _unknown_area(
    text: str,
    found: pd.DataFrame,
    table: pd.DataFrame,
    similarity: float,
    source: str | Path | None,
) -> ConfigError:
    """The error of an area name that is no area's: the names like it, else the closest
    ones (and the areas of another kind with the name)."""
    shown = found.loc[found["match"] != "exact"]
    hint: str = ""
    if len(shown):
        hint = Phrase(
            f"; areas named like it: {_listed(shown, source)}",
            "area_alike",
            {"areas": _listed(shown, source)},
        )
    example = str(shown["area_code"].iloc[0]) if len(shown) else "33.09"
    if not len(shown) and not table.empty:  # the closest names, as placement lists them
        kind, key, _ = _key(text)
        fits = _kind_fits(table, kind) if key else np.zeros(len(table), dtype=bool)
        near = table.loc[fits].assign(score=_similarity(key, table.loc[fits, "key"]))
        near = near.sort_values(["score", "rank"], ascending=[False, True]).head(3)
        listed = "; ".join(
            f"{code} {name} ({score:.0f})"
            for code, name, score in near[["area_code", "name", "score"]].itertuples(index=False)
        )
        hint = Phrase(
            f"; closest names: {listed} (similarity 0-100; from {similarity:g}, "
            "area.name_similarity, a name is read as the area)",
            "area_closest",
            {"names": listed, "similarity": f"{similarity:g}"},
        )
        other = table.loc[(table["key"] == key).to_numpy() & bool(key) & bool(kind)]
        if len(other):  # "Kota Klaten": the name is an area of another kind
            areas = _listed(other, source)
            hint = Phrase(
                f"{hint}; of another kind: {areas}",
                "area_other_kind",
                {"closest": hint, "areas": areas},
            )
            example = str(other["area_code"].iloc[0])
    return ConfigError(
        f"area {text!r} is not the name of a province, regency or district{hint}; pass a "
        f"code (e.g. --area {example}), or look one up with klastergeo boundaries find "
        f"{text!r}",
        key="area_unknown",
        params={
            "area": repr(text),
            "hint": hint,
            "example": example,
            "find": f"klastergeo boundaries find {text!r}",
        },
    )


def _listed(found: pd.DataFrame, source: str | Path | None) -> str:
    """Candidates as ``33.22 Kabupaten Semarang (kabupaten, Jawa Tengah)``."""
    shown = found.head(8)
    parents = _parents(shown["area_code"].astype(str), source)
    return "; ".join(
        f"{code} {name} ({level}{', ' + parent if parent else ''})"
        for (code, name, level), parent in zip(
            shown[["area_code", "name", "level"]].itertuples(index=False), parents, strict=True
        )
    )


def _with_kind(row: pd.Series) -> str:
    """The area's name with a kind word that tells it apart (its own, or its level's)."""
    if row["kind"]:
        return str(row["name"])
    word = {"provinsi": "Provinsi", "kabupaten": "Kabupaten", "kecamatan": "Kec."}
    return f"{word.get(str(row['level']), '')} {row['name']}".strip()


def study_area(area: str | None = None, *, source: str | Path | None = None) -> gpd.GeoDataFrame:
    """The polygon(s) of the study area at its own level (all provinces when ``area`` is None).

    ``33`` gives the province polygon, ``33.11`` the regency polygon. Used as the outline
    of an H3 grid.

    Parameters
    ----------
    area
        Kemendagri code of the study area, checked with
        :func:`~klastergeo.app.config.check_area_code`; None for every province.
    source
        Boundaries as for :func:`resolve_source`.

    Returns
    -------
    GeoDataFrame
        As :func:`load_areas` returns it.
    """
    if area is None:
        return load_areas("provinsi", source=source)
    area = check_area_code(area)
    assert area is not None
    return load_areas(level_of_code(area), area=area, source=source)


def analysis_areas(
    level: str,
    *,
    area: str | None = None,
    source: str | Path | None = None,
    id_col: str | None = None,
    name_col: str | None = None,
) -> gpd.GeoDataFrame:
    """The polygons a run checks records against and aggregates to.

    For an administrative ``level`` these are its areas within ``area``; for ``h3:RES``
    the study area outline (:func:`study_area`), which the hexagon grid then covers. A single
    polygon file is used as it is (filtered by ``area``).

    Parameters
    ----------
    level
        Unit of analysis: an administrative level or ``h3:RES`` (see
        :func:`~klastergeo.app.config.parse_level`). Ignored for a single polygon file.
    area
        Code prefix of the study area; None for all areas.
    source
        Boundaries as for :func:`resolve_source`.
    id_col, name_col
        Id and name columns of a single polygon file (guessed when None); not used with a
        directory of ``<level>.parquet`` files.

    Returns
    -------
    GeoDataFrame
        As :func:`load_areas` returns it.
    """
    from klastergeo.areas import parse_level

    kind, _ = parse_level(level)
    path = resolve_source(source)
    if not path.is_dir():
        return load_areas(area=area, source=path, id_col=id_col, name_col=name_col)
    if kind == "h3":
        return study_area(area, source=path)
    return load_areas(kind, area=area, source=path)


# --------------------------------------------------------------------------------------
# The public source: SQL dumps of github.com/cahyadsn/wilayah_boundaries
# --------------------------------------------------------------------------------------

_QUOTED = r"'((?:[^'\\]|\\.|'')*)'"
_NUMBER = r"(-?[\d.]+(?:[eE][-+]?\d+)?|NULL)"
_ROW = re.compile(
    r"\(\s*"
    + _QUOTED
    + r"\s*,\s*"
    + _QUOTED
    + r"\s*,\s*"
    + _NUMBER
    + r"\s*,\s*"
    + _NUMBER
    + r"\s*,\s*'(\[[^']*\])'\s*\)"
)
_UNESCAPE = re.compile(r"\\(.)|''")


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: m.group(1) if m.group(1) is not None else "'", text)


def parse_wilayah_sql(text: str) -> gpd.GeoDataFrame:
    """Parse one SQL dump of the wilayah_boundaries source into a GeoDataFrame.

    Rows look like ``('33.01.01','Kedungreja',-7.51,108.77,'[[[lat,lng],...]]')``: the
    ``path`` JSON holds rings, polygons or multipolygons with **[latitude, longitude]**
    pairs, which are flipped to (x=longitude, y=latitude). Invalid rings are repaired
    (polygonal parts only) and coordinates snapped to a 1e-6 degree grid.

    Parameters
    ----------
    text
        The SQL text of one source file.

    Returns
    -------
    GeoDataFrame
        Columns ``kode``, ``nama``, ``kode_prov``, ``geometry`` (EPSG:4326).

    Raises
    ------
    BoundaryError
        If the text holds no rows, or a row's path is not a ring, polygon or multipolygon.
    """
    codes, names, geoms = [], [], []
    for match in _ROW.finditer(text):
        codes.append(_unescape(match.group(1)))
        names.append(_unescape(match.group(2)))
        geoms.append(_path_to_geometry(json.loads(match.group(5)), codes[-1]))
    if not codes:
        raise BoundaryError("no 'INSERT INTO wilayah_boundaries' rows found in the SQL text")
    geometry = _repair(np.asarray(geoms, dtype=object))
    frame = gpd.GeoDataFrame(
        {"kode": codes, "nama": names, "kode_prov": [c[:2] for c in codes]},
        geometry=geometry,
        crs=4326,
    )
    empty = frame.geometry.is_empty | frame.geometry.isna()
    if empty.any():
        logger.warning(
            "%d area(s) have no usable polygon after repair: %s",
            int(empty.sum()),
            preview(frame.loc[empty, "kode"]),
        )
    return frame[["kode", "nama", "geometry", "kode_prov"]]


def _depth(value: object) -> int:
    depth = 0
    while isinstance(value, list) and value:
        value = value[0]
        depth += 1
    return depth


def _ring(points: list[list[float]]) -> NDArray[np.float64]:
    array = np.asarray(points, dtype=float).reshape(-1, 2)[:, ::-1]  # [lat, lng] -> (x, y)
    if len(array) and not np.array_equal(array[0], array[-1]):
        array = np.vstack([array, array[:1]])
    return array


def _polygon(rings: list[list[list[float]]]) -> shapely.Polygon:
    usable = [_ring(r) for r in rings if len(r) >= 3]
    if not usable:
        return shapely.Polygon()
    return shapely.Polygon(usable[0], usable[1:])


def _path_to_geometry(path: object, code: str) -> shapely.Geometry:
    depth = _depth(path)
    assert isinstance(path, list)
    if depth == 2:
        return _polygon([path])
    if depth == 3:
        return _polygon(path)
    if depth == 4:
        return shapely.MultiPolygon(
            [p for p in (_polygon(rings) for rings in path) if not p.is_empty]
        )
    raise BoundaryError(
        f"area {code!r}: path nesting depth {depth} is not a ring, polygon or multipolygon"
    )


def _repair(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Make valid, keep polygonal parts only, snap to the 1e-6 grid."""
    fixed = shapely.make_valid(geoms)
    out = np.empty(len(fixed), dtype=object)
    for i, geom in enumerate(fixed):
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            out[i] = geom
            continue
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        polys = [q for p in parts for q in shapely.get_parts(p)]
        out[i] = (
            shapely.MultiPolygon(polys)
            if len(polys) > 1
            else (polys[0] if polys else shapely.Polygon())
        )
    snapped = shapely.set_precision(out, PRECISION)
    return np.asarray(
        [
            g
            if g.geom_type in ("Polygon", "MultiPolygon") or g.is_empty
            else shapely.MultiPolygon([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"])
            for g in snapped
        ],
        dtype=object,
    )


@dataclass(frozen=True)
class SourceFile:
    """One SQL file of the source, as listed in the manifest."""

    path: str
    size: int
    sha256: str


def _manifest(manifest: str | Path | None = None) -> dict[str, SourceFile]:
    if manifest is None:
        text = (
            resources.files("klastergeo")
            .joinpath("data/source-manifest.csv")
            .read_text(encoding="utf-8")
        )
    else:
        text = Path(manifest).read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {r["path"]: SourceFile(r["path"], int(r["bytes"]), r["sha256"]) for r in rows}


def source_files(
    level: str, area: str | None = None, *, manifest: str | Path | None = None
) -> list[SourceFile]:
    """The manifest entries holding ``level`` boundaries of ``area`` (all when None).

    Parameters
    ----------
    level
        ``provinsi``, ``kabupaten``, ``kecamatan`` or ``desa``.
    area
        Kemendagri code of the study area. Province and coarser files are chosen by its
        first two digits; ``desa`` files, one per regency, by its first five characters
        when it is a regency code or finer. None selects every province.
    manifest
        A CSV with columns ``path``, ``bytes`` and ``sha256``; None uses the one shipped
        with the package (the pinned source commit).

    Returns
    -------
    list of SourceFile
        The entries, sorted by path.

    Raises
    ------
    BoundaryError
        If the level is not known or no file matches.

    Examples
    --------
    >>> [f.path for f in source_files("kecamatan", "34")]
    ['db/kec/wilayah_boundaries_kec_34.sql']
    """
    if level not in ADMIN_LEVELS:
        raise BoundaryError(f"level {level!r} is not one of {', '.join(ADMIN_LEVELS)}")
    area = check_area_code(area)
    files = _manifest(manifest)
    prov = area[:2] if area else r"\d{2}"
    kab = re.escape(area[:5]) if area and len(area) >= 5 else prov + r"\.\d{2}"
    pattern = {
        "provinsi": r"db/prov/wilayah_boundaries_prov_\d+\.sql",
        "kabupaten": rf"db/kab/wilayah_boundaries_kab_{prov}\.sql",
        "kecamatan": rf"db/kec/wilayah_boundaries_kec_{prov}\.sql",
        "desa": rf"db/kel/{prov}/wilayah_boundaries_kel_{kab}\.sql",
    }[level]
    chosen = [f for p, f in sorted(files.items()) if re.fullmatch(pattern, p)]
    if not chosen:
        raise BoundaryError(f"the source has no {level} file for area {area!r}")
    return chosen


def download(
    area: str | None = None,
    *,
    levels: Iterable[str] = ADMIN_LEVELS,
    dest: str | Path = DEFAULT_DIR,
    base_url: str | None = None,
    cache_dir: str | Path | None = None,
    manifest: str | Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Path]:
    """Fetch the source SQL files, check their sha256, convert them to GeoParquet.

    Files come from ``base_url`` (default: the pinned commit on raw.githubusercontent.com,
    or ``$KLASTERGEO_BOUNDARIES_URL``), are cached by pooch in ``cache_dir`` and checked
    against the manifest. Each level is written to ``dest/<level>.parquet``; areas of
    other provinces already in that file are kept.

    Parameters
    ----------
    area
        Kemendagri code of the study area; only its areas are kept. None downloads the
        whole country (large: the ``desa`` SQL files alone are about 360 MB).
    levels
        Levels to fetch; items may also be comma-separated, as flags give them.
    dest
        Directory the ``<level>.parquet`` files are written to.
    base_url
        Mirror of the source repository; None uses ``$KLASTERGEO_BOUNDARIES_URL``, else
        the pinned commit on raw.githubusercontent.com.
    cache_dir
        Where pooch keeps the downloaded SQL files; None uses the user cache directory
        (per source commit).
    manifest
        Manifest CSV, as for :func:`source_files`.
    progress
        Called as ``progress(label, done, total)`` before each file and before each
        level's conversion; None reports nothing.

    Returns
    -------
    list of Path
        The written GeoParquet files, one per level.

    Raises
    ------
    DownloadError
        If a file cannot be fetched or fails its sha256 check.
    """
    import pooch

    area = check_area_code(area)
    # levels may be repeated or comma-separated, as flags give them
    levels = [v.strip() for item in levels for v in str(item).split(",") if v.strip()]
    unknown = [name for name in levels if name not in ADMIN_LEVELS]
    if unknown:
        raise ConfigError(f"level(s) {preview(unknown)} are not one of {', '.join(ADMIN_LEVELS)}")
    base = (base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL).rstrip("/") + "/"
    cache = Path(cache_dir) if cache_dir else Path(pooch.os_cache("klastergeo")) / SOURCE_COMMIT
    dest = Path(dest)
    written = []
    for level in levels:
        files = source_files(level, area, manifest=manifest)
        frames = []
        for i, entry in enumerate(files):
            if progress:
                progress(f"{level}: {Path(entry.path).name}", i, len(files))
            try:
                local = pooch.retrieve(
                    url=base + entry.path,
                    known_hash=f"sha256:{entry.sha256}",
                    fname=entry.path.replace("/", "__"),
                    path=cache,
                    progressbar=False,
                )
            except ValueError as err:  # pooch's checksum mismatch
                raise DownloadError(
                    f"{entry.path} from {base} failed its sha256 check ({err}); the mirror "
                    "serves a different file than the pinned commit"
                ) from err
            except Exception as err:  # requests' connection and HTTP errors
                raise DownloadError(f"cannot download {base + entry.path}: {err}") from err
            frames.append(parse_wilayah_sql(Path(local).read_text(encoding="utf-8")))
        if progress:
            progress(f"{level}: converting", len(files), len(files))
        new = pd.concat(frames, ignore_index=True)
        if area is not None:
            new = new.loc[_prefix_mask(new["kode"], area)]
        written.append(
            _merge_into(dest / f"{level}.parquet", gpd.GeoDataFrame(new, crs=4326), area)
        )
    return written


def _merge_into(path: Path, new: gpd.GeoDataFrame, area: str | None) -> Path:
    if path.exists() and area is not None:
        old = _read_level(path)
        keep = old.loc[~_prefix_mask(old["kode"], area) & ~old["kode"].isin(new["kode"])]
        new = gpd.GeoDataFrame(pd.concat([keep, new], ignore_index=True), crs=4326)
    new = new.sort_values("kode").reset_index(drop=True)[["kode", "nama", "geometry", "kode_prov"]]
    with atomic_path(path) as tmp:
        new.to_parquet(tmp, index=False)
    logger.info("wrote %d areas to %s", len(new), path)
    return path


def describe(source: str | Path | None = None) -> pd.DataFrame:
    """The levels a boundaries source holds: ``level``, ``areas`` (-1 where the file type
    does not say without reading it) and ``file``, from Parquet metadata only.

    Parameters
    ----------
    source
        Boundaries as for :func:`resolve_source`.

    Returns
    -------
    DataFrame
        One row per file.

    Examples
    --------
    >>> describe("data/boundaries").set_index("level")["areas"]["desa"]  # doctest: +SKIP
    83402
    """
    import pyarrow.parquet as pq

    path = resolve_source(source)
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    rows = []
    for file in files:
        try:
            areas = pq.ParquetFile(file).metadata.num_rows if file.suffix == ".parquet" else -1
        except MemoryError:  # not the file's fault: the guard says which step ran out
            raise
        except Exception as err:  # pyarrow raises many types for a damaged file
            raise BoundaryError(f"cannot read boundaries {str(file)!r}: {err}") from err
        rows.append({"level": file.stem, "areas": areas, "file": str(file)})
    return pd.DataFrame(rows, columns=["level", "areas", "file"])


def resolve_or_download(
    boundaries: str | Path | None,
    *,
    area: str,
    levels: Iterable[str] = ("kabupaten", "kecamatan", "desa"),
    dest: str | Path = DEFAULT_DIR,
    notify: Callable[[str], None] | None = None,
) -> Path:
    """The boundaries :func:`resolve_source` finds, else those of ``area`` downloaded
    from the public source into ``dest`` (an explicit ``boundaries`` that cannot be used
    is an error, never replaced by a download).

    Parameters
    ----------
    boundaries
        As for :func:`resolve_source`.
    area
        Kemendagri code of the area to download when nothing is found.
    levels
        Levels to download when nothing is found.
    dest
        Directory to download into.
    notify
        Called with a one-line message before a download starts; None says nothing.

    Returns
    -------
    Path
        The boundaries found, or ``dest``.
    """
    try:
        return resolve_source(boundaries)
    except BoundaryError:
        if boundaries is not None:
            raise
    if notify is not None:
        notify(
            f"no boundaries found; downloading area {area} into {dest} from the public source ..."
        )
    download(area, levels=tuple(levels), dest=dest)
    return Path(dest)
