"""GIS layers of a run: ``areas.gpkg`` (the areas with their statistics, wide by sector)
and ``sentra.gpkg``, for QGIS, ArcGIS or any GDAL reader.

``areas.parquet`` keeps the long table (one row per area and sector) without geometry;
a GIS user wants one layer of polygons with a column per statistic and sector, so
``areas.gpkg`` has one row per area: ``area_code``, ``name``, its parents' names
(``kecamatan``, ``kabupaten``, ``provinsi``, when the boundaries have them), ``n_firms``
(all sectors),
then for every analysed sector ``s``: ``n_firms_s``, ``lq_s``, ``lq_low_s``, ``lq_high_s``,
``spec_bin_s`` (specialisation), ``gi_bin_s`` (density of firms), ``lisa_s`` (LISA
cluster code) and ``sentra_s`` (the sentra id, empty outside one). Both files are
GeoPackages in EPSG:4326 written with pyogrio; their layers are named ``areas`` and
``sentra``. Each layer carries its fields' titles in the run's language and a default
QGIS style (:mod:`klastergeo.publish.gis_style`).

A GeoPackage layer holds at most :data:`MAX_FIELDS` attribute columns (SQLite's 2,000
columns less the feature id and the geometry), about 249 sectors of 8 statistics. With
more sectors, the sectors go in order into layers ``areas``, ``areas_2``, ``areas_3``...
(each with ``area_code``, ``name``, ``n_firms`` and whole sectors), and a table
``sectors`` in the same file says which layer holds which sector: each layer opens in
QGIS as an ordinary polygon layer.

Column names a GeoPackage cannot take as they are (:func:`gpkg_names`: ``fid`` and
``geom``, which GDAL keeps for the feature id and the geometry, and names equal but for
case, which SQLite takes for one) are renamed with a note. The layers' ``last_change``
(``gpkg_contents``) is the run's time, so that a re-run with the same timestamp writes
the same bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from klastergeo.io.files import atomic_path, note, writing
from klastergeo.publish import gis_style
from klastergeo.publish.gis_style import PARENT_LEVELS

__all__ = [
    "MAX_FIELDS",
    "MEASURE_WIDE",
    "NUL_ESCAPE",
    "RESERVED",
    "WIDE_COLUMNS",
    "areas_layer",
    "fixed_gdal_time",
    "gdal_time",
    "gpkg_names",
    "head_count",
    "layer_groups",
    "measure_layer",
    "note_nul",
    "write_layers",
    "write_measure_layers",
]

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
#: Attribute columns a GeoPackage layer holds with GDAL: SQLite's limit of 2,000
#: columns less the feature id and the geometry (GDAL refuses the 1,999th with
#: ``FieldError``).
MAX_FIELDS = 1998
#: Column names GDAL keeps for itself in a GeoPackage layer: the feature id and the
#: geometry column (compared without case, as SQLite compares names).
RESERVED = ("fid", "geom")


def areas_layer(
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    sectors: Sequence[str],
    *,
    parents: pd.DataFrame | None = None,
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
    parents
        The names of each area's parents, indexed by area code, a column per level
        (:data:`~klastergeo.publish.gis_style.PARENT_LEVELS`: ``kecamatan``,
        ``kabupaten``, ``provinsi``; those present), written after ``name``; None for
        none (custom polygons).

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
    for level in PARENT_LEVELS:
        if parents is not None and level in parents.columns:
            out[level] = parents[level].reindex(codes).astype("string").to_numpy()
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


def gpkg_names(names: Sequence[str], *, file: str = "") -> dict[str, str]:
    """New names for the columns a GeoPackage layer cannot take as they are: ``fid`` and
    ``geom`` (any case; GDAL keeps them for the feature id and the geometry) become
    ``fid_input``, ``geom_input``; a name equal to an earlier one but for case (SQLite
    takes ``Catatan`` and ``catatan`` for one column) gets ``_2``, ``_3``...; an empty
    name becomes ``column_<position>``. Each new name is unique, without case, among
    all. With ``file``, the renaming is noted (log and ``summary.json``).

    Parameters
    ----------
    names
        The columns, in order (the geometry not among them).
    file
        The file's name, for the note; no note when empty.

    Returns
    -------
    dict
        ``{old: new}`` for the renamed columns only.

    Examples
    --------
    >>> gpkg_names(["id", "FID", "Catatan", "catatan", "geom"])
    {'FID': 'FID_input', 'catatan': 'catatan_2', 'geom': 'geom_input'}
    """
    taken = {str(n).casefold() for n in names}
    seen: set[str] = set()
    renamed: dict[str, str] = {}
    for position, name in enumerate(names):
        text = str(name)
        key = text.casefold()
        if not text.strip():
            stem = f"column_{position + 1}"
        elif key in RESERVED:
            stem = f"{text}_input"
        elif key in seen:
            stem = text
        else:
            seen.add(key)
            continue
        new, n = stem, 1
        while new.casefold() in taken | seen or (new == stem and stem == text):
            n += 1
            new = f"{stem}_{n}"
        seen.add(new.casefold())
        renamed[text] = new
    if file and renamed:
        pairs = ", ".join(f"{old!r} -> {new!r}" for old, new in renamed.items())
        note(
            file,
            f"column(s) renamed, as a GeoPackage layer cannot hold them as they are "
            f"(fid and geom are GDAL's; names equal but for case are one column): {pairs}",
        )
    return renamed


def head_count(columns: Sequence[str]) -> int:
    """How many first columns of a wide layer are the area's own (``name``, its parents'
    names, ``n_firms``; ``area_code`` is the index), before the sectors' columns.

    Parameters
    ----------
    columns
        The layer's attribute columns, in order.

    Examples
    --------
    >>> head_count(["name", "kecamatan", "n_firms", "lq_10"])
    3
    """
    own = {"name", "n_firms", *PARENT_LEVELS}
    count = 0
    for column in columns:
        if str(column) not in own:
            break
        count += 1
    return count


def layer_groups(columns: Sequence[str], *, base: int | None = None) -> list[list[str]]:
    """The attribute columns of each layer a wide areas layer is written as: the first
    ``base`` columns (:func:`head_count` when None: ``name``, the parents' names,
    ``n_firms``; ``area_code`` is the index) in every layer,
    then whole sectors (the columns sharing a suffix after the last ``_``, in order) as
    long as a layer holds at most :data:`MAX_FIELDS` attributes with ``area_code``.

    Parameters
    ----------
    columns
        The layer's attribute columns (:func:`areas_layer` without geometry), in order.
    base
        How many first columns every layer repeats.

    Examples
    --------
    >>> layer_groups(["name", "n_firms", "lq_10", "gi_bin_10", "lq_31", "gi_bin_31"])
    [['name', 'n_firms', 'lq_10', 'gi_bin_10', 'lq_31', 'gi_bin_31']]
    """
    base = head_count(columns) if base is None else base
    head, rest = list(columns[:base]), list(columns[base:])
    blocks: list[list[str]] = []
    for column in rest:
        sector = str(column).rpartition("_")[2]
        if blocks and str(blocks[-1][0]).rpartition("_")[2] == sector:
            blocks[-1].append(column)
        else:
            blocks.append([column])
    room = MAX_FIELDS - 1 - len(head)  # area_code is written too
    groups: list[list[str]] = [[]]
    for block in blocks:
        if len(block) > room:
            raise ValueError(f"one sector has {len(block)} columns, more than a layer holds")
        if len(groups[-1]) + len(block) > room:
            groups.append([])
        groups[-1].extend(block)
    return [head + group for group in groups]


def gdal_time(created: str | datetime | None) -> str | None:
    """The run's time as GDAL writes a GeoPackage's ``last_change``
    (``2024-01-31T01:00:00.000Z``); None for none.

    Parameters
    ----------
    created
        The run's time (``summary.json`` ``created``, ISO 8601; UTC without an offset).

    Examples
    --------
    >>> gdal_time("2024-01-31T08:00:00+07:00")
    '2024-01-31T01:00:00.000Z'
    """
    if created is None:
        return None
    when = created if isinstance(created, datetime) else datetime.fromisoformat(str(created))
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@contextmanager
def fixed_gdal_time(created: str | datetime | None) -> Iterator[None]:
    """GDAL writes ``created`` as the ``last_change`` of the GeoPackage layers written
    inside (GDAL's ``OGR_CURRENT_DATE``), instead of the time of writing; the setting
    before is restored after.

    Parameters
    ----------
    created
        The run's time (:func:`gdal_time`); None leaves GDAL's own.
    """
    stamp = gdal_time(created)
    if stamp is None:
        yield
        return
    import pyogrio

    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": stamp})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})


def write_layers(
    folder: Path,
    *,
    layer: gpd.GeoDataFrame,
    sentra: gpd.GeoDataFrame,
    created: str | datetime | None = None,
    lang: str = "id",
) -> list[Path]:
    """Write ``areas.gpkg`` and ``sentra.gpkg`` (each replaced only once written whole),
    each with its fields' titles and a default QGIS style
    (:mod:`~klastergeo.publish.gis_style`).

    Parameters
    ----------
    folder
        The output folder.
    layer
        The areas with their statistics (:func:`areas_layer`); wider than a GeoPackage
        layer holds, it is written as several layers (see the module docstring).
    sentra
        The sentra (with geometry), indexed by ``sentra_id``; an empty layer when none.
    created
        The run's time (``summary.json`` ``created``), written as the layers'
        ``last_change``; None for the time of writing.
    lang
        The run's language: the fields' titles and the styles' labels.

    Returns
    -------
    list of Path
        The files written.
    """
    look = _Look(lang=lang, created=created)
    with fixed_gdal_time(created):
        written = [_write_areas(layer, folder / "areas.gpkg", look)]
        shapes = sentra.reset_index()
        if shapes.crs is not None:
            shapes = shapes.to_crs(4326)
        for column in shapes.columns:  # ids and labels as text, whatever pandas inferred
            if shapes[column].dtype == object and column != shapes.geometry.name:
                shapes[column] = shapes[column].astype("string")
        written.append(_write(shapes, folder / "sentra.gpkg", "sentra", look=look))
    logger.info("GIS layers: %d areas, %d sentra", len(layer), len(shapes))
    return written


@dataclass(frozen=True)
class _Look:
    """How a GeoPackage's layers are described: the language of their titles and
    styles, and the run's time."""

    lang: str
    created: str | datetime | None


def _write_areas(layer: gpd.GeoDataFrame, path: Path, look: _Look) -> Path:
    """``areas.gpkg``: one layer ``areas``, or, too wide for one, whole sectors in layers
    ``areas``, ``areas_2``... and a table ``sectors`` (sector -> layer)."""
    attributes = [c for c in layer.columns if c != layer.geometry.name]
    groups = layer_groups(attributes)
    frames = [layer[[*group, layer.geometry.name]].reset_index() for group in groups]
    if len(groups) == 1:
        return _write(frames[0], path, "areas", look=look)
    names = ["areas", *(f"areas_{i}" for i in range(2, len(groups) + 1))]
    base = head_count(attributes)
    index = pd.DataFrame(
        [
            (sector, name)
            for name, group in zip(names, groups, strict=True)
            for sector in dict.fromkeys(str(c).rpartition("_")[2] for c in group[base:])
        ],
        columns=["sector", "layer"],
    )
    sectors = index.groupby("layer", sort=False)["sector"]
    spans = "; ".join(
        f"{name}: {len(codes)} sector(s), {codes.iloc[0]} to {codes.iloc[-1]}"
        for name, codes in sectors
    )
    note(
        path.name,
        f"{len(attributes) + 1:,} columns are more than a GeoPackage layer holds "
        f"({MAX_FIELDS:,}); written as {len(groups)} layers of whole sectors ({spans}), "
        "each with area_code, name and n_firms; the table 'sectors' says which layer holds "
        "which sector",
    )
    return _write(frames, path, names, table=index, look=look)


#: What a NUL character in a text is written as in a GeoPackage.
NUL_ESCAPE = "\\x00"


def note_nul(file: str, count: int) -> None:
    """Note that ``count`` texts of ``file`` held NUL characters, written as ``\\x00``.

    Parameters
    ----------
    file
        The GeoPackage's name.
    count
        How many text values held a NUL.
    """
    note(
        file,
        f"{count:,} text value(s) held NUL characters, at which GDAL would end the text "
        f"without a word; written as {NUL_ESCAPE} (as the console prints them)",
    )


def _nul_free(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """``frame`` with the NUL characters of its text written as ``\\x00`` (GDAL's
    strings end at the first NUL: ``Desa\\x00Satu`` would be stored as ``Desa``), and
    how many values held one; column by column, vectorised."""
    out, count = frame, 0
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if column.name == frame.geometry.name or not (
            pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)
        ):
            continue
        try:
            found = column.str.contains("\x00", regex=False)
        except AttributeError:  # no text in this object column
            continue
        has = found.eq(True).to_numpy(dtype=bool, na_value=False)  # NA: no text
        if has.any():
            fixed = column.astype(object)
            fixed[has] = column[has].str.replace("\x00", NUL_ESCAPE, regex=False)
            out = out.copy() if out is frame else out
            out.isetitem(position, fixed.to_numpy())
            count += int(has.sum())
    return out, count


def _write(
    frames: gpd.GeoDataFrame | list[gpd.GeoDataFrame],
    path: Path,
    layers: str | list[str],
    *,
    table: pd.DataFrame | None = None,
    look: _Look | None = None,
) -> Path:
    """Write one layer (or several, and an attribute ``table`` named ``sectors``) into
    a new GeoPackage, replaced only once written whole; columns a GeoPackage cannot take
    as they are renamed (:func:`gpkg_names`), NUL characters of texts escaped (with a
    note); with ``look``, the fields' titles and the layers' styles stored
    (:func:`_describe`). A full or read-only disk is an ``OSError``
    naming ``path`` (:func:`klastergeo.io.files.writing`, inside :func:`atomic_path`)."""
    frames = frames if isinstance(frames, list) else [frames]
    layers = layers if isinstance(layers, list) else [layers]
    with atomic_path(path) as tmp:
        # GDAL wants a new file named .gpkg: written beside, then moved onto the temporary
        scratch = tmp.with_name(tmp.name + ".gpkg")
        try:
            # the disk is looked at while the partial file still takes its space
            with writing(path):
                nul = 0
                written = []
                for frame, name in zip(frames, layers, strict=True):
                    columns = [c for c in frame.columns if c != frame.geometry.name]
                    renamed = gpkg_names(columns, file=path.name if name == layers[0] else "")
                    if renamed:
                        frame = frame.rename(columns=renamed)
                    frame, found = _nul_free(frame)
                    nul = nul if name != layers[0] else found  # the layers share the names
                    frame.to_file(scratch, driver="GPKG", layer=name, engine="pyogrio")
                    written.append((name, frame))
                if nul:
                    note_nul(path.name, nul)
                if table is not None:
                    import pyogrio

                    pyogrio.write_dataframe(table, scratch, layer="sectors", driver="GPKG")
                if look is not None:
                    _describe(scratch, written, look)
            scratch.replace(tmp)
        finally:
            scratch.unlink(missing_ok=True)
    return path


def _describe(path: Path, layers: list[tuple[str, gpd.GeoDataFrame]], look: _Look) -> None:
    """Store each layer's field titles and default style in the GeoPackage ``path``:
    an areas or measure layer styled by its specialisation classes, the sentra as
    outlines."""
    titles, styles = {}, []
    for name, frame in layers:  # a few layers
        attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        titles[name] = gis_style.field_titles(list(attributes.columns), lang=look.lang)
        if name == "sentra":
            styles.append(gis_style.sentra_style(attributes, name, lang=look.lang))
        else:
            style = gis_style.areas_style(attributes, name, lang=look.lang)
            styles += [style] if style is not None else []
    gis_style.describe(path, titles=titles, styles=styles, created=look.created)


#: The statistics of a measure ``measures.gpkg`` holds per sector (its column prefixes).
MEASURE_WIDE = {
    "value": "value",
    "coverage": "coverage",
    "lq": "lq",
    "lq_low": "lq_low",
    "lq_high": "lq_high",
    "spec_bin": "spec_bin",
    "gi_bin": "gi_bin",
    "lisa_quadrant": "lisa",
    "bv_i": "bv_i",
    "bv_p": "bv_p",
    "bv_quadrant": "bv",
}


def measure_layer(areas: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The areas with the statistics of one measure, a column per statistic and sector
    (``value_31``, ``lq_31``, ``gi_bin_31`` ...; :data:`MEASURE_WIDE`), in EPSG:4326.

    Parameters
    ----------
    areas
        The areas (the run's areas layer), indexed by area code, with ``name``.
    table
        The measure's published statistics, indexed by (``area_code``, ``sector``).

    Returns
    -------
    GeoDataFrame
        One row per area, in the order of ``areas``: ``name``, its parents' names (as in
        ``areas``), ``n_firms`` (the firms
        with a value of the measure) and the columns above, sector by sector.
    """
    codes = areas.index
    out = pd.DataFrame({"name": areas["name"].astype(str).to_numpy()}, index=codes)
    for level in PARENT_LEVELS:  # the areas layer's parents' names, when it has them
        if level in areas.columns:
            out[level] = areas[level].to_numpy()
    valued = table["n_valued"].groupby(level="area_code").sum()
    out["n_firms"] = valued.reindex(codes).fillna(0).astype("int64").to_numpy()
    sectors = [str(s) for s in table.index.get_level_values("sector").unique()]
    columns: dict[str, object] = {}
    for sector in sectors:
        rows = table.xs(sector, level="sector").reindex(codes)
        for column, prefix in MEASURE_WIDE.items():
            values = rows[column]
            if column.endswith(("_bin", "_quadrant")):
                values = values.fillna(0).astype("int64")
            columns[f"{prefix}_{sector}"] = values.to_numpy()
    out = pd.concat([out, pd.DataFrame(columns, index=codes)], axis=1)
    geometry = areas.geometry
    if geometry.crs is not None and not geometry.crs.equals(4326):
        geometry = geometry.to_crs(4326)
    return gpd.GeoDataFrame(out, geometry=geometry.to_numpy(), crs=4326)


def write_measure_layers(
    folder: Path,
    *,
    areas: gpd.GeoDataFrame,
    measures: dict[str, pd.DataFrame],
    created: str | datetime | None = None,
    lang: str = "id",
) -> Path | None:
    """Write ``measures.gpkg``: one layer per measure (:func:`measure_layer`; a measure
    too wide for one layer continues in ``<measure>_2``...). Nothing without measures.

    Parameters
    ----------
    folder
        The output folder.
    areas
        The run's areas layer (indexed by area code, with ``name`` and geometry).
    measures
        Per measure (firms too, first), its published statistics.
    created
        The run's time, written as the layers' ``last_change``.
    lang
        The run's language: the fields' titles and the styles' labels.
    """
    if not measures:
        return None
    frames: list[gpd.GeoDataFrame] = []
    names: list[str] = []
    for measure, table in measures.items():
        layer = measure_layer(areas, table)
        attributes = [c for c in layer.columns if c != layer.geometry.name]
        for i, group in enumerate(layer_groups(attributes), start=1):
            frames.append(layer[[*group, layer.geometry.name]].reset_index())
            names.append(measure if i == 1 else f"{measure}_{i}")
    with fixed_gdal_time(created):
        return _write(
            frames, folder / "measures.gpkg", names, look=_Look(lang=lang, created=created)
        )
