"""What makes a run's GeoPackages readable in QGIS: field titles and stored styles.

- **Field titles.** Every column of a layer gets a title in the run's language
  (``spec_bin_31`` -> "Kelas spesialisasi - 31 Industri furnitur") and, for class codes,
  a description saying what each code means. They go into the GeoPackage schema
  extension's ``gpkg_data_columns`` table (``name`` and ``title``: the title,
  ``description``: the codes), which GDAL reads as each field's *alternative name* and
  *comment* and QGIS shows as the field's alias. The code columns stay numeric.
- **Styles.** Each layer gets a QGIS style (QML, and the same classes as SLD) in the
  ``layer_styles`` table QGIS itself writes, marked ``useAsDefault``, so the layer opens
  styled: an areas layer by the specialisation classes (``spec_bin``, -3 to 3, the map's
  colours) of its leading sector (the sector with the most sentra, then the most
  firms), the sentra as outlines by sector with their names as labels.

:func:`describe` writes both into a GeoPackage after pyogrio has written its layers
(pyogrio cannot set alternative names); the styles are written through GDAL, the
titles with ``sqlite3``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from klastergeo import kbli
from klastergeo.publish import messages

__all__ = [
    "PARENT_LEVELS",
    "STAT_TITLES",
    "LayerStyle",
    "areas_style",
    "code_meanings",
    "describe",
    "field_titles",
    "leading_sector",
    "sentra_style",
]

#: The parents of an area a layer names, finest first (``kecamatan``, ``kabupaten``
#: for a regency or city, ``provinsi``): one column each, when the boundaries have them.
PARENT_LEVELS = ("kecamatan", "kabupaten", "provinsi")
#: Per-sector columns of the areas and measures layers: field prefix -> key of the
#: ``gis`` catalogue group holding its title (with ``{sector}``).
STAT_TITLES = {
    "n_firms": "n_firms_of",
    "lq": "lq_of",
    "lq_low": "lq_low_of",
    "lq_high": "lq_high_of",
    "spec_bin": "spec_bin_of",
    "gi_bin": "gi_bin_of",
    "lisa": "lisa_of",
    "sentra": "sentra_of",
    "value": "value_of",
    "coverage": "coverage_of",
    "bv_i": "bv_i_of",
    "bv_p": "bv_p_of",
    "bv": "bv_of",
}
#: Colour of areas without a significant class (0), and of every area's outline.
NEUTRAL_FILL = "#f2f2f2"
OUTLINE = "#9a9a9a"
#: The geometry column pyogrio gives a GeoPackage layer.
GEOMETRY = "geom"


def _sector_of(column: str) -> tuple[str, str] | None:
    """``(prefix, sector)`` of a per-sector column (``spec_bin_31`` -> ``spec_bin``,
    ``31``), or None."""
    prefix, _, sector = column.rpartition("_")
    if prefix in STAT_TITLES and sector:
        return prefix, sector
    return None


def code_meanings(prefix: str, lang: str) -> dict[int, str]:
    """What each code of a class column means (``spec_bin``, ``gi_bin``: hot and cold
    spots; ``lisa``, ``bv``: LISA quadrants); empty for other columns.

    Parameters
    ----------
    prefix
        The column's prefix (``spec_bin``, ``lisa``...).
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> code_meanings("lisa", "id")[1]
    'Tinggi-Tinggi'
    """
    return messages.class_labels(prefix, lang)


def field_titles(columns: Sequence[str], *, lang: str) -> dict[str, tuple[str, str]]:
    """Each column's title and description (the meaning of its codes, or empty) in
    ``lang``; columns the catalogue has no title for are left out. Titles are unique.

    Parameters
    ----------
    columns
        A layer's columns (the geometry not among them).
    lang
        ``"id"`` or ``"en"``.

    Examples
    --------
    >>> field_titles(["kecamatan", "lisa_31"], lang="en")["lisa_31"][0]
    'LISA cluster - 31 Furniture'
    """
    gis = messages.text("gis", lang)
    groups = [gis, messages.text("columns", lang), messages.text("map", lang)]
    out: dict[str, tuple[str, str]] = {}
    taken: set[str] = set()
    for column in columns:  # a layer's columns (hundreds at most)
        name = str(column)
        split = _sector_of(name)
        description = ""
        found = next((g[name] for g in groups if name in g), None)  # sentra_id: not a sector
        if found is not None:
            title = found
        elif split is not None:
            prefix, sector = split
            title = gis[STAT_TITLES[prefix]].format(sector=kbli.titled(sector, lang=lang))
            codes = code_meanings(prefix, lang)
            description = "; ".join(f"{code} = {text}" for code, text in codes.items())
        else:
            continue
        if title.casefold() in taken:  # gpkg_data_columns: one title per name in a table
            title = f"{title} ({name})"
        taken.add(title.casefold())
        out[name] = (title, description)
    return out


def leading_sector(layer: pd.DataFrame) -> str | None:
    """The sector an areas layer is styled by: the one with the most sentra
    (``sentra_<s>``), then the most firms (``n_firms_<s>``), then the most areas with a
    specialisation class other than 0; None without ``spec_bin`` columns.

    Parameters
    ----------
    layer
        An areas or measures layer (wide by sector).

    Examples
    --------
    >>> leading_sector(pd.DataFrame({"spec_bin_10": [0, 0], "spec_bin_31": [2, 0]}))
    '31'
    """
    sectors = [s for c in layer.columns if (s := _spec_sector(str(c))) is not None]
    if not sectors:
        return None

    def rank(sector: str) -> tuple[int, float, int]:
        sentra = layer.get(f"sentra_{sector}")
        firms = layer.get(f"n_firms_{sector}")
        return (
            int(sentra.dropna().nunique()) if sentra is not None else 0,
            float(firms.fillna(0).sum()) if firms is not None else 0.0,
            int(layer[f"spec_bin_{sector}"].fillna(0).ne(0).sum()),
        )

    best = max(sectors, key=rank)  # max keeps the first of equals: the layer's order
    return best


def _spec_sector(column: str) -> str | None:
    split = _sector_of(column)
    return split[1] if split is not None and split[0] == "spec_bin" else None


@dataclass(frozen=True)
class LayerStyle:
    """A style of one layer as QGIS stores it (a row of ``layer_styles``)."""

    layer: str
    name: str
    qml: str
    sld: str
    description: str = ""


def _rgb(colour: str) -> str:
    """``#d62f27`` as QML writes a colour: ``214,47,39,255``."""
    value = colour.lstrip("#")
    return ",".join(str(int(value[i : i + 2], 16)) for i in (0, 2, 4)) + ",255"


def _fill_symbol(name: int, fill: str | None, outline: str, width: float) -> str:
    """A QGIS fill symbol (``fill`` None: no fill, an outline only)."""
    options = {
        "color": _rgb(fill or "#ffffff"),
        "outline_color": _rgb(outline),
        "outline_style": "solid",
        "outline_width": f"{width:g}",
        "outline_width_unit": "MM",
        "style": "solid" if fill else "no",
        "joinstyle": "bevel",
    }
    option = "".join(f'<Option name="{k}" type="QString" value="{v}"/>' for k, v in options.items())
    # the properties twice, as QGIS 3 writes them: an Option map, and props for older ones
    props = "".join(f'<prop k="{k}" v="{v}"/>' for k, v in options.items())
    return (
        f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">'
        f'<Option type="Map">{option}</Option>{props}</layer></symbol>'
    )


def _aliases(titles: Mapping[str, tuple[str, str]], fields: Sequence[str]) -> str:
    items = "".join(
        f"<alias field={quoteattr(f)} index={quoteattr(str(i))} "
        f"name={quoteattr(titles[f][0] if f in titles else '')}/>"
        for i, f in enumerate(fields)
    )
    return f"<aliases>{items}</aliases>"


def _qml(
    attribute: str,
    categories: Sequence[tuple[str, str, str | None]],
    *,
    outline: str,
    width: float,
    aliases: str,
    label_field: str | None = None,
) -> str:
    """A QGIS style (QML) with a categorized renderer on ``attribute``: one category per
    ``(value, label, fill)``, and labels from ``label_field``."""
    cats = "".join(
        f"<category value={quoteattr(v)} label={quoteattr(lab)} symbol={quoteattr(str(i))} "
        'render="true"/>'
        for i, (v, lab, _) in enumerate(categories)
    )
    symbols = "".join(
        _fill_symbol(i, fill, outline, width) for i, (_, _, fill) in enumerate(categories)
    )
    labeling = ""
    if label_field is not None:
        labeling = (
            '<labeling type="simple"><settings calloutType="simple">'
            f'<text-style fieldName={quoteattr(label_field)} isExpression="0" fontSize="9" '
            f'fontSizeUnit="Point" fontWeight="75" textColor="{_rgb(outline)}" '
            'textOpacity="1" namedStyle="Bold"><text-buffer bufferDraw="1" bufferSize="1" '
            'bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="1"/>'
            '</text-style><placement placement="1" dist="0" priority="5"/>'
            '<rendering obstacle="1" scaleVisibility="0" drawLabels="1"/></settings></labeling>'
        )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.28.0" styleCategories="Symbology|Labeling|Fields" '
        f'labelsEnabled="{int(label_field is not None)}">'
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attribute)} '
        'symbollevels="0" enableorderby="0" forceraster="0" referencescale="-1">'
        f"<categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>"
        f"{labeling}{aliases}<layerGeometryType>2</layerGeometryType></qgis>\n"
    )


def _sld(
    layer: str,
    attribute: str,
    categories: Sequence[tuple[str, str, str | None]],
    *,
    outline: str,
    width: float,
    label_field: str | None = None,
) -> str:
    """The same classes as a Styled Layer Descriptor (SLD 1.1, as QGIS exports it)."""
    rules = []
    for value, label, fill in categories:
        paint = (
            f'<se:Fill><se:SvgParameter name="fill">{fill}</se:SvgParameter></se:Fill>'
            if fill
            else ""
        )
        text = ""
        if label_field is not None:
            text = (
                "<se:TextSymbolizer><se:Label><ogc:PropertyName>"
                f"{escape(label_field)}</ogc:PropertyName></se:Label></se:TextSymbolizer>"
            )
        rules.append(
            f"<se:Rule><se:Name>{escape(value)}</se:Name><se:Description><se:Title>"
            f"{escape(label)}</se:Title></se:Description><ogc:Filter><ogc:PropertyIsEqualTo>"
            f"<ogc:PropertyName>{escape(attribute)}</ogc:PropertyName><ogc:Literal>"
            f"{escape(value)}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>"
            f"<se:PolygonSymbolizer>{paint}<se:Stroke>"
            f'<se:SvgParameter name="stroke">{outline}</se:SvgParameter>'
            f'<se:SvgParameter name="stroke-width">{width * 3.78:.2f}</se:SvgParameter>'
            f"</se:Stroke></se:PolygonSymbolizer>{text}</se:Rule>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<StyledLayerDescriptor version="1.1.0" '
        'xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" '
        'xmlns:ogc="http://www.opengis.net/ogc">'
        f"<NamedLayer><se:Name>{escape(layer)}</se:Name><UserStyle><se:Name>{escape(layer)}"
        f"</se:Name><se:FeatureTypeStyle>{''.join(rules)}</se:FeatureTypeStyle></UserStyle>"
        "</NamedLayer></StyledLayerDescriptor>\n"
    )


def areas_style(layer: pd.DataFrame, name: str, *, lang: str) -> LayerStyle | None:
    """An areas (or measure) layer's style: its leading sector's specialisation classes
    (:func:`leading_sector`; -3 to 3 with the map's colours, labelled as the map labels
    them), every area outlined; None for a layer without ``spec_bin`` columns.

    Parameters
    ----------
    layer
        The layer as written (its columns as in the GeoPackage).
    name
        The layer's name in the GeoPackage.
    lang
        The run's language (labels, field aliases, the style's name).
    """
    from klastergeo.publish.maps import GISTAR_COLOURS

    sector = leading_sector(layer)
    if sector is None:
        return None
    labels = messages.class_labels("spec_bin", lang)
    categories = [
        (str(code), labels[code], GISTAR_COLOURS.get(code, NEUTRAL_FILL)) for code in labels
    ]
    field = f"spec_bin_{sector}"
    fields = [str(c) for c in layer.columns if c != GEOMETRY]
    titles = field_titles(fields, lang=lang)
    title = messages.text("gis", lang)["style_areas"].format(sector=kbli.titled(sector, lang=lang))
    return LayerStyle(
        layer=name,
        name=title,
        qml=_qml(field, categories, outline=OUTLINE, width=0.1, aliases=_aliases(titles, fields)),
        sld=_sld(name, field, categories, outline=OUTLINE, width=0.1),
        description=titles.get(field, (field, ""))[1],
    )


def sentra_style(layer: pd.DataFrame, name: str, *, lang: str) -> LayerStyle:
    """The sentra layer's style: outlines (no fill) by sector, labelled with each
    sentra's name.

    Parameters
    ----------
    layer
        The sentra as written (``sector`` and ``name`` among the columns).
    name
        The layer's name in the GeoPackage.
    lang
        The run's language.
    """
    from klastergeo.publish.maps import SENTRA_COLOUR

    sectors = sorted({str(s) for s in layer["sector"].dropna()}) if "sector" in layer else []
    categories: list[tuple[str, str, str | None]] = [
        (s, kbli.titled(s, lang=lang), None) for s in sectors
    ]
    fields = [str(c) for c in layer.columns if c != GEOMETRY]
    titles = field_titles(fields, lang=lang)
    label = "name" if "name" in fields else None
    return LayerStyle(
        layer=name,
        name=messages.text("gis", lang)["style_sentra"],
        qml=_qml(
            "sector",
            categories,
            outline=SENTRA_COLOUR,
            width=0.6,
            aliases=_aliases(titles, fields),
            label_field=label,
        ),
        sld=_sld(name, "sector", categories, outline=SENTRA_COLOUR, width=0.6, label_field=label),
    )


_DATA_COLUMNS = (
    "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name "
    "TEXT NOT NULL, name TEXT, title TEXT, description TEXT, mime_type TEXT, "
    "constraint_name TEXT, CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), "
    "CONSTRAINT gdc_tn UNIQUE (table_name, name))"
)
_EXTENSIONS = (
    "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, "
    "extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, "
    "CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"
)
_SCHEMA_EXTENSION = "http://www.geopackage.org/spec121/#extension_schema"


def describe(
    path: Path,
    *,
    titles: Mapping[str, Mapping[str, tuple[str, str]]],
    styles: Sequence[LayerStyle] = (),
    created: str | datetime | None = None,
) -> None:
    """Store field titles and layer styles in a GeoPackage written by pyogrio.

    Parameters
    ----------
    path
        The GeoPackage (complete: its layers are written).
    titles
        Per layer, per column: its title and description (:func:`field_titles`).
    styles
        The layers' default styles (a ``layer_styles`` table, as QGIS writes it).
    created
        The run's time, the styles' ``update_time`` (the time of writing when None).
    """
    if styles:
        import pyogrio

        when = _when(created)
        table = pd.DataFrame(
            {
                "f_table_catalog": "",
                "f_table_schema": "",
                "f_table_name": [s.layer for s in styles],
                "f_geometry_column": GEOMETRY,
                "styleName": [s.name for s in styles],
                "styleQML": [s.qml for s in styles],
                "styleSLD": [s.sld for s in styles],
                "useAsDefault": True,
                "description": [s.description for s in styles],
                "owner": "",
                "ui": "",
                "update_time": pd.Series([when] * len(styles), dtype="datetime64[ms, UTC]"),
            }
        )
        pyogrio.write_dataframe(table, path, layer="layer_styles", driver="GPKG")
    rows = [
        (layer, column, title, title, description or None)
        for layer, columns in titles.items()
        for column, (title, description) in columns.items()
    ]
    if not rows:
        return
    with sqlite3.connect(path) as db:
        db.execute(_EXTENSIONS)
        db.execute(_DATA_COLUMNS)
        db.execute(
            "INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, extension_name, "
            "definition, scope) VALUES ('gpkg_data_columns', NULL, 'gpkg_schema', ?, "
            "'read-write')",
            (_SCHEMA_EXTENSION,),
        )
        db.executemany(
            "INSERT INTO gpkg_data_columns (table_name, column_name, name, title, "
            "description) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    db.close()


def _when(created: str | datetime | None) -> datetime:
    if created is None:
        return datetime.now(UTC)
    when = created if isinstance(created, datetime) else datetime.fromisoformat(str(created))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
