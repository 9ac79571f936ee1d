"""The interactive web map of a run: one self-contained HTML page (folium / Leaflet).

Layers: study-area outlines, sentra polygons with popups, Gi* hot and cold spots by
confidence (ArcGIS colours), LISA clusters (GeoDa colours), location quotients, firms as
clustered markers and the mean predicted cluster probability. To keep the page light,
per-sector layers are made for the sectors that have a sentra, only informative areas are
drawn (Gi* hot and cold spots at 90 % or more, significant high-high and high-low LISA
clusters, LQ of 2 or more, probability of 0.1 or more), and geometries are simplified by
50 m and rounded to 5 decimals.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from klastergeo import kbli
from klastergeo._io import atomic_path
from klastergeo._spatial import to_metric

__all__ = ["GISTAR_COLOURS", "LISA_COLOURS", "build_map", "inline_assets", "save_map"]

logger = logging.getLogger(__name__)

#: ArcGIS hot-spot colours by confidence bin.
GISTAR_COLOURS = {
    3: "#d62f27",
    2: "#ed7551",
    1: "#fab984",
    -1: "#c0ccbe",
    -2: "#849eba",
    -3: "#4575b5",
}
#: GeoDa LISA cluster colours by quadrant code.
LISA_COLOURS = {1: "#ff0000", 2: "#0000ff", 3: "#a7adf9", 4: "#f4ada8"}
LQ_BREAKS = (1.0, 2.0, 5.0, 10.0)
LQ_COLOURS = ("#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026")
P_BREAKS = (0.1, 0.25, 0.5, 0.75)
P_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
SENTRA_COLOUR = "#6a3d9a"

TEXT = {
    "id": {
        "outline": "Batas wilayah",
        "sentra": "Sentra",
        "gi": "Hot spot Gi*",
        "lisa": "Klaster LISA",
        "lq": "Location quotient",
        "firms": "Usaha (titik)",
        "prob": "Probabilitas klaster",
        "hot": "Hot spot",
        "cold": "Cold spot",
        "HH": "Tinggi-Tinggi",
        "LL": "Rendah-Rendah",
        "LH": "Rendah-Tinggi",
        "HL": "Tinggi-Rendah",
        "sector": "Sektor",
        "firms_n": "Jumlah usaha",
        "workers": "Tenaga kerja",
        "output": "Nilai produksi (Rp juta)",
        "areas": "Wilayah",
        "typology": "Tipologi (Markusen)",
        "stage": "Tahap perkembangan",
        "diamond": "Skor diamond Porter (1-5)",
        "source": "Sumber",
        "made": "Dibuat",
        "name": "Nama",
        "classes": "kelas tetap",
        "title": "Sentra industri kecil dan menengah",
    },
    "en": {
        "outline": "Boundaries",
        "sentra": "Sentra",
        "gi": "Gi* hot spots",
        "lisa": "LISA clusters",
        "lq": "Location quotient",
        "firms": "Firms (points)",
        "prob": "Cluster probability",
        "hot": "Hot spot",
        "cold": "Cold spot",
        "HH": "High-High",
        "LL": "Low-Low",
        "LH": "Low-High",
        "HL": "High-Low",
        "sector": "Sector",
        "firms_n": "Firms",
        "workers": "Workers",
        "output": "Output (Rp million)",
        "areas": "Areas",
        "typology": "Type (Markusen)",
        "stage": "Development stage",
        "diamond": "Porter diamond score (1-5)",
        "source": "Source",
        "made": "Made",
        "name": "Name",
        "classes": "fixed classes",
        "title": "Small and medium industry clusters (sentra)",
    },
}

_TILES = {
    "none": None,
    "openstreetmap": "OpenStreetMap",
    "cartodb positron": "CartoDB positron",
    "esri imagery": "Esri.WorldImagery",
}


def _light(frame: gpd.GeoDataFrame, *, tolerance_m: float = 50.0) -> gpd.GeoDataFrame:
    """Simplify in metres, back to lon/lat, coordinates rounded to 5 decimals."""
    if frame.empty:
        return frame.to_crs(4326)
    metric = to_metric(frame)
    simple = metric.geometry.simplify(tolerance_m, preserve_topology=True)
    geographic = gpd.GeoSeries(simple, crs=metric.crs).to_crs(4326)
    rounded = shapely.transform(
        np.asarray(geographic.values, dtype=object), lambda xy: np.round(xy, 5)
    )
    return frame.set_geometry(gpd.GeoSeries(rounded, index=frame.index, crs=4326).values, crs=4326)


def _geojson(frame: gpd.GeoDataFrame, properties: Sequence[str]) -> dict[str, Any]:
    """GeoJSON with only the properties shown (NaN as null)."""
    subset = frame[[*properties, frame.geometry.name]].copy()
    for column in properties:
        if pd.api.types.is_float_dtype(subset[column].dtype):
            subset[column] = (
                subset[column].round(3).astype(object).where(subset[column].notna(), None)
            )
    return json.loads(subset.to_json(na="null", drop_id=True))


def _legend_html(lang: str, lq_note: str) -> str:
    t = TEXT[lang]

    def row(colour: str, label: str, outline: bool = False) -> str:
        style = (
            f"border:2px solid {colour};background:transparent"
            if outline
            else f"background:{colour}"
        )
        return (
            f'<div><span style="display:inline-block;width:12px;height:12px;'
            f'margin-right:4px;{style}"></span>{label}</div>'
        )

    confidence = {3: 99, 2: 95, 1: 90}
    gi = "".join(
        row(GISTAR_COLOURS[b], f"{t['hot'] if b > 0 else t['cold']} {confidence[abs(b)]} %")
        for b in (3, 2, 1, -1, -2, -3)
    )
    lisa = "".join(row(LISA_COLOURS[q], t[k]) for q, k in ((1, "HH"), (4, "HL")))
    edges = ["2 - 5", "5 - 10", "≥ 10"]
    lq = "".join(row(c, e) for c, e in zip(LQ_COLOURS[2:], edges, strict=True))
    p_edges = ["0.10 - 0.25", "0.25 - 0.50", "0.50 - 0.75", "≥ 0.75"]
    prob = "".join(row(c, e) for c, e in zip(P_COLOURS[1:], p_edges, strict=True))
    return (
        '<div id="klastergeo-legend" style="position:fixed;bottom:24px;right:10px;z-index:9999;'
        "background:rgba(255,255,255,.92);padding:8px 10px;border-radius:4px;font:12px/1.35 "
        'sans-serif;max-height:70vh;overflow:auto;box-shadow:0 1px 4px rgba(0,0,0,.3)">'
        f"<b>{t['sentra']}</b>{row(SENTRA_COLOUR, t['sentra'], outline=True)}"
        f"<b>{t['gi']}</b>{gi}<b>{t['lisa']}</b>{lisa}"
        f"<b>{t['lq']}</b> <small>({lq_note})</small>{lq}<b>{t['prob']}</b>{prob}</div>"
    )


def _classify(values: pd.Series, breaks: Sequence[float]) -> np.ndarray:
    import mapclassify

    finite = values.to_numpy(dtype=float)
    upper = max(float(np.nanmax(finite)) if np.isfinite(finite).any() else 0.0, breaks[-1]) + 1.0
    classifier = mapclassify.UserDefined(np.nan_to_num(finite, nan=0.0), bins=[*breaks, upper])
    # UserDefined puts x <= bin into that class; values exactly on a break belong above it.
    yb = np.asarray(classifier.yb)
    on_break = np.isin(finite, breaks)
    return np.minimum(yb + on_break, len(breaks))


def build_map(
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    sentra: gpd.GeoDataFrame,
    *,
    firms: gpd.GeoDataFrame | None = None,
    outlines: gpd.GeoDataFrame | None = None,
    probability: pd.Series | None = None,
    sectors: Sequence[str] = (),
    lang: str = "id",
    tiles: str = "OpenStreetMap",
    title: str | None = None,
    source: str | None = None,
) -> Any:
    """Build the run's folium map.

    Parameters
    ----------
    areas
        Analysis areas indexed by code, with ``name`` and ``geometry``.
    table
        Per (area_code, sector): ``n_firms``, ``lq``, ``gi_bin``, ``lisa_quadrant``.
    sentra
        The sentra table with dissolved geometries (:func:`klastergeo.sentra.delineate`).
    firms
        Kept firms (points) with ``name`` and ``sector``; drawn as clustered markers.
    outlines
        Administrative outlines drawn as thin lines (e.g. kabupaten).
    probability
        Mean predicted cluster probability per area.
    sectors
        Sectors that get their own statistic layers (default: those with a sentra).
    lang
        ``"id"`` (Indonesian) or ``"en"``.
    tiles
        ``OpenStreetMap``, ``CartoDB positron`` (needs an API key from CARTO now),
        ``Esri imagery`` or ``none`` (offline).
    """
    import folium
    from folium.plugins import FastMarkerCluster, Fullscreen

    t = TEXT[lang]
    tile_name = _TILES.get(tiles.lower(), tiles)
    bounds = areas.to_crs(4326).total_bounds
    centre = [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2]
    fmap = folium.Map(
        location=centre,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
        zoom_start=8,
    )
    # Marker clustering needs the map's maxZoom, which folium sets only with a tile layer.
    fmap.options["max_zoom"] = 18
    # Only Leaflet itself: folium's default jQuery, Bootstrap and icon fonts serve marker
    # styles this map does not use, and every asset is inlined when the page is saved.
    fmap.default_js = folium.Map.default_js[:1]
    fmap.default_css = folium.Map.default_css[:1]
    if tile_name is not None:
        folium.TileLayer(tile_name, name=tile_name, control=True).add_to(fmap)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])

    if outlines is not None and not outlines.empty:
        light = _light(outlines[["name", outlines.geometry.name]], tolerance_m=100)
        folium.GeoJson(
            _geojson(light, ["name"]),
            name=t["outline"],
            style_function=lambda _: {"color": "#555555", "weight": 1, "fill": False},
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[t["name"]]),
        ).add_to(fmap)

    chosen = list(sectors)
    if not chosen and len(sentra):
        chosen = sorted(sentra["sector"].unique())
    shown_first = True
    lite_areas = _light(areas[["name", areas.geometry.name]])
    for sector in chosen:
        rows = table.loc[table.index.get_level_values("sector") == sector].droplevel("sector")
        label = f"{sector} {kbli.label(sector, lang=lang)}"
        # Every Gi* bin, but only the high side of LISA: with sparse counts, ties make the
        # folded pseudo p-values call thousands of empty villages low-low or low-high.
        _stat_layer(
            fmap,
            lite_areas,
            rows,
            "gi_bin",
            GISTAR_COLOURS,
            f"{t['gi']}: {label}",
            show=shown_first,
            values=(-3, -2, -1, 1, 2, 3),
        )
        _stat_layer(
            fmap,
            lite_areas,
            rows,
            "lisa_quadrant",
            LISA_COLOURS,
            f"{t['lisa']}: {label}",
            show=False,
            values=(1, 4),
        )
        _lq_layer(fmap, lite_areas, rows, f"{t['lq']}: {label}", show=False)
        shown_first = False

    if probability is not None and probability.notna().any():
        _probability_layer(fmap, lite_areas, probability, t["prob"])

    if len(sentra):
        light = _light(sentra)
        shown = [
            "sentra_id",
            "name",
            "sector",
            "sector_label",
            "n_firms",
            "workers",
            "output",
            "lq",
            "n_areas",
        ]
        profile = [
            (c, t[key])
            for c, key in (
                ("typology_label", "typology"),
                ("stage", "stage"),
                ("diamond_score", "diamond"),
            )
            if c in light.columns
        ]
        shown += [c for c, _ in profile]
        shown += [c for c in ("p_lpm", "p_logit") if c in light.columns]
        aliases = [
            "ID",
            t["name"],
            t["sector"],
            "KBLI",
            t["firms_n"],
            t["workers"],
            t["output"],
            "LQ",
            t["areas"],
            *[label for _, label in profile],
            *[c for c in ("p_lpm", "p_logit") if c in light.columns],
        ]
        folium.GeoJson(
            _geojson(light, shown),
            name=t["sentra"],
            style_function=lambda _: {
                "color": SENTRA_COLOUR,
                "weight": 3,
                "fillOpacity": 0.1,
                "fillColor": SENTRA_COLOUR,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "sector_label"], aliases=[t["name"], t["sector"]]
            ),
            popup=folium.GeoJsonPopup(fields=shown, aliases=aliases),
        ).add_to(fmap)

    if firms is not None and len(firms):
        data = (
            pd.DataFrame(
                {
                    "lat": firms.geometry.y.round(5).to_numpy(),
                    "lon": firms.geometry.x.round(5).to_numpy(),
                    "label": (
                        firms["name"].fillna("").astype(str)
                        + " ("
                        + firms["sector"].astype(str)
                        + ")"
                    ).to_numpy(dtype=object),
                }
            )
            .to_numpy(dtype=object)
            .tolist()
        )
        callback = (
            "function (row) {var m = L.circleMarker(new L.LatLng(row[0], row[1]), "
            "{radius: 4, weight: 1, color: '#333', fillOpacity: 0.7}); "
            "m.bindTooltip(row[2]); return m;}"
        )
        # FastMarkerCluster always adds itself to its parent; a hidden group keeps the
        # firms off until the reader switches them on.
        firms_group = folium.FeatureGroup(name=t["firms"], show=False)
        FastMarkerCluster(data, callback=callback, control=False).add_to(firms_group)
        firms_group.add_to(fmap)

    Fullscreen().add_to(fmap)
    overlays = 3 * len(chosen) + 4
    folium.LayerControl(collapsed=overlays > 10).add_to(fmap)
    heading = title or t["title"]
    footer = f"{t['source']}: {source}. " if source else ""
    footer += f"{t['made']}: {date.today().isoformat()} (klastergeo)"
    cast(Any, fmap.get_root()).html.add_child(
        folium.Element(
            '<div style="position:fixed;top:10px;left:60px;z-index:9999;background:rgba(255,255,'
            "255,.92);padding:6px 10px;border-radius:4px;font:14px sans-serif;box-shadow:0 1px 4px "
            f'rgba(0,0,0,.3)"><b>{heading}</b><br><small>{footer}</small></div>'
        )
    )
    cast(Any, fmap.get_root()).html.add_child(
        folium.Element(_legend_html(lang, "mapclassify UserDefined"))
    )
    return fmap


def _stat_layer(
    fmap: Any,
    areas: gpd.GeoDataFrame,
    rows: pd.DataFrame,
    column: str,
    colours: dict[int, str],
    name: str,
    *,
    show: bool,
    values: Sequence[int],
) -> None:
    import folium

    codes = rows.index[rows[column].fillna(0).astype(int).isin(list(values))]
    group = folium.FeatureGroup(name=name, show=show)
    if len(codes):
        frame = areas.loc[areas.index.intersection(codes)].copy()
        frame["code"] = frame.index
        frame["value"] = rows.loc[frame.index, column].astype(int).to_numpy()
        frame["n_firms"] = rows.loc[frame.index, "n_firms"].astype(int).to_numpy()
        folium.GeoJson(
            _geojson(frame, ["code", "name", "value", "n_firms"]),
            style_function=lambda f: {
                "color": colours.get(f["properties"]["value"], "#999"),
                "weight": 0.5,
                "fillOpacity": 0.7,
                "fillColor": colours.get(f["properties"]["value"], "#999"),
            },
            tooltip=folium.GeoJsonTooltip(fields=["name", "value", "n_firms"]),
        ).add_to(group)
    group.add_to(fmap)


def _lq_layer(
    fmap: Any, areas: gpd.GeoDataFrame, rows: pd.DataFrame, name: str, *, show: bool
) -> None:
    import folium

    present = rows.index[(rows["n_firms"] > 0) & (rows["lq"] >= LQ_BREAKS[1])]
    group = folium.FeatureGroup(name=name, show=show)
    if len(present):
        frame = areas.loc[areas.index.intersection(present)].copy()
        frame["lq"] = rows.loc[frame.index, "lq"].to_numpy(dtype=float)
        frame["n_firms"] = rows.loc[frame.index, "n_firms"].astype(int).to_numpy()
        frame["k"] = _classify(frame["lq"], LQ_BREAKS)
        folium.GeoJson(
            _geojson(frame, ["name", "lq", "n_firms", "k"]),
            style_function=lambda f: {
                "color": "#666",
                "weight": 0.3,
                "fillOpacity": 0.75,
                "fillColor": LQ_COLOURS[int(f["properties"]["k"])],
            },
            tooltip=folium.GeoJsonTooltip(fields=["name", "lq", "n_firms"]),
        ).add_to(group)
    group.add_to(fmap)


def _probability_layer(
    fmap: Any, areas: gpd.GeoDataFrame, probability: pd.Series, name: str
) -> None:
    import folium

    known = probability[probability >= P_BREAKS[0]]
    frame = areas.loc[areas.index.intersection(known.index)].copy()
    frame["p"] = known.reindex(frame.index).to_numpy(dtype=float)
    frame["k"] = _classify(frame["p"], P_BREAKS)
    group = folium.FeatureGroup(name=name, show=False)
    folium.GeoJson(
        _geojson(frame, ["name", "p", "k"]),
        style_function=lambda f: {
            "color": "#666",
            "weight": 0.2,
            "fillOpacity": 0.75,
            "fillColor": P_COLOURS[int(f["properties"]["k"])],
        },
        tooltip=folium.GeoJsonTooltip(fields=["name", "p"]),
    ).add_to(group)
    group.add_to(fmap)


_JSDELIVR = "https://cdn.jsdelivr.net/npm/"
_CLUSTER = "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
#: CDN addresses folium links -> the vendored copy inlined instead (see assets/README.md).
_ASSETS = {
    _JSDELIVR + "leaflet@1.9.3/dist/leaflet.js": "leaflet.js",
    _JSDELIVR + "leaflet@1.9.3/dist/leaflet.css": "leaflet.css",
    _CLUSTER + "leaflet.markercluster.js": "leaflet.markercluster.js",
    _CLUSTER + "MarkerCluster.css": "MarkerCluster.css",
    _CLUSTER + "MarkerCluster.Default.css": "MarkerCluster.Default.css",
    _JSDELIVR + "leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": "Control.FullScreen.js",
    _JSDELIVR + "leaflet.fullscreen@3.0.0/Control.FullScreen.css": "Control.FullScreen.css",
}
_SCRIPT = re.compile(r'<script src="([^"]+)"></script>')
_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"\s*/?>')


def _asset(url: str) -> str | None:
    name = _ASSETS.get(url)
    if name is None:
        return None
    return resources.files("klastergeo").joinpath(f"assets/{name}").read_text(encoding="utf-8")


def inline_assets(html: str) -> str:
    """Replace linked scripts and stylesheets by their vendored copies.

    A link with no vendored copy stays (and is logged): the page then needs the network.
    """
    missing: list[str] = []

    def script(match: re.Match[str]) -> str:
        text = _asset(match.group(1))
        if text is None:
            missing.append(match.group(1))
            return match.group(0)
        return "<script>" + text.replace("</script", "<\\/script") + "</script>"

    def stylesheet(match: re.Match[str]) -> str:
        text = _asset(match.group(1))
        if text is None:
            missing.append(match.group(1))
            return match.group(0)
        return "<style>" + text + "</style>"

    html = _STYLESHEET.sub(stylesheet, _SCRIPT.sub(script, html))
    if missing:
        logger.warning(
            "map links assets that are not vendored (needs the network): %s", ", ".join(missing)
        )
    return html


def save_map(fmap: Any, path: str | Path) -> Path:
    """Write the map as one self-contained HTML file (scripts and styles inlined), atomically."""
    html = inline_assets(fmap.get_root().render())
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    size = Path(path).stat().st_size
    logger.info("map: %s (%.1f MB)", path, size / 1e6)
    return Path(path)
