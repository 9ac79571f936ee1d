"""The interactive web map of a run: one self-contained HTML page (folium / Leaflet).

Layers: study-area outlines, sentra polygons with popups, and one *sector view* of the
areas: a sector selector and a statistic selector (Gi* hot and cold spots by confidence in
ArcGIS colours, LISA clusters in GeoDa colours, location quotient classes, cluster
probability) restyle the same canvas layer in the page, with a legend for what is shown and
a search by area name. Firms are clustered markers or a heat map, each built only when its
layer is switched on.

Size: the area geometry is sent once for all sectors and statistics (simplified by 50 m,
keeping topology; coordinates quantised to 1e-5 degrees and delta-encoded as integers, so a
vertex costs a few characters), each statistic of each sector is a string of one character
per area with runs of equal classes shortened (:func:`encode_codes`), and firms are
delta-encoded the same way. Styling happens in the browser
(``assets/klastergeo-map.js``).

National maps: up to ``max_areas`` areas, the page holds everything (one file that works
offline). With more areas whose codes are Kemendagri codes (``33.09.12.2001``: the province
is the first two digits), the map is *split*: the page holds the provinces (their outline
and, per sector, the hot-spot areas, firms and sentra in each) and a search index of every
area (names only); each province's areas (shapes and classes) become a script
``<folder>/<province>.js`` that the page loads when the province is zoomed into, clicked or
searched (:func:`save_map` writes them; a script, not a fetch, so the split map opens from
``file://`` as well). Areas of other kinds (H3 cells, custom codes) are never split.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from klastergeo import kbli
from klastergeo.analysis.geometry import has_point, to_metric
from klastergeo.analysis.tally import GridTally
from klastergeo.errors import ConfigError
from klastergeo.io.files import atomic_path
from klastergeo.publish import messages
from klastergeo.schema import SENTRA_INDEX

if TYPE_CHECKING:
    import folium

__all__ = [
    "EXPLORE_JS",
    "FIRMS_ID",
    "GISTAR_COLOURS",
    "LISA_COLOURS",
    "MAX_CODE",
    "MIN_RUN",
    "PAGE_CSS",
    "AreaPart",
    "FirmPart",
    "MapInput",
    "MapStyle",
    "Q",
    "ScriptCall",
    "base_map",
    "build_map",
    "decode_codes",
    "encode_codes",
    "encode_shapes",
    "firm_block",
    "firm_order",
    "fullscreen_button",
    "inline_assets",
    "light_shapes",
    "measure_payload",
    "page_head",
    "raw_element",
    "save_map",
    "script_json",
    "stable_ids",
    "title_block",
    "with_rounded_firms",
    "without_firms",
]

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
#: Firms of the selected sector on the map.
FIRM_COLOUR = "#e6550d"
#: The firms of a related industry chosen in a sentra's popup.
RELATED_COLOUR = "#1b9e77"

#: The map's texts per language (the ``map`` group of :mod:`klastergeo.publish.messages`).
TEXT = messages.MESSAGES["map"]

#: Base maps by name (lower case) -> the tile provider folium knows (None: no tiles).
BASE_MAPS: dict[str, str | None] = {
    "none": None,
    "openstreetmap": "OpenStreetMap",
    "cartodb positron": "CartoDB positron",
    "esri imagery": "Esri.WorldImagery",
}


#: Metres in a degree of longitude at the equator: the most a degree of either
#: coordinate spans on the ground.
_METRES_PER_DEGREE = 111_320.0


def _simplified(areas: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoSeries:
    """The areas' shapes in lon/lat, simplified by at most ``tolerance_m`` metres.

    Shapes in lon/lat are simplified where they are, by ``tolerance_m / 111,320``
    degrees: a degree spans at most 111,320 m on the ground, so no vertex moves further
    than ``tolerance_m`` (and less away from the equator). This spares projecting a
    country's 8.8 million vertices there and back. Shapes in another CRS are simplified
    in their UTM zone."""
    if areas.crs is not None and areas.crs.equals(4326):
        shapes = shapely.simplify(
            areas.geometry.to_numpy(), tolerance_m / _METRES_PER_DEGREE, preserve_topology=True
        )
        return gpd.GeoSeries(shapes, index=areas.index, crs=4326)
    metric = to_metric(areas[[areas.geometry.name]])
    return gpd.GeoSeries(
        shapely.simplify(metric.geometry.to_numpy(), tolerance_m, preserve_topology=True),
        crs=metric.crs,
    ).to_crs(4326)


def light_shapes(frame: gpd.GeoDataFrame, *, tolerance_m: float = 50.0) -> gpd.GeoDataFrame:
    """Simplify in metres, back to lon/lat, coordinates rounded to 5 decimals.

    Parameters
    ----------
    frame
        The areas (any CRS).
    tolerance_m
        Simplification tolerance in metres.
    """
    if frame.empty:
        return frame.to_crs(4326)
    metric = to_metric(frame)
    simple = metric.geometry.simplify(tolerance_m, preserve_topology=True)
    geographic = gpd.GeoSeries(simple, crs=metric.crs).to_crs(4326)
    rounded = shapely.transform(
        np.asarray(geographic.values, dtype=object), lambda xy: np.round(xy, 5)
    )
    return frame.set_geometry(gpd.GeoSeries(rounded, index=frame.index, crs=4326).values, crs=4326)


def _classify(values: pd.Series, breaks: Sequence[float]) -> np.ndarray:
    """The class of each value among ``breaks``: 0 below the first break, ``k`` from
    break ``k`` (a value exactly on a break belongs above it) up to the next, ``len(breaks)``
    from the last; a missing value is classed as a 0 not on a break. The classes of
    ``mapclassify.UserDefined`` (with a class above the last break), from a
    ``searchsorted``: importing mapclassify compiles its numba kernels (2.7 s a run)."""
    finite = values.to_numpy(dtype=float)
    filled = np.nan_to_num(finite, nan=0.0)
    # mapclassify's classes: a value <= a bound belongs to it (searchsorted, side left)
    yb = np.searchsorted(np.asarray(breaks, dtype=float), filled, side="left")
    on_break = np.isin(finite, breaks)
    return np.minimum(yb + on_break, len(breaks))


class AreaPart(Protocol):
    """Data a page adds to its sector view, built once the view's sectors are known
    (:class:`klastergeo.publish.explore.ExploreInput`: the linked scatterplot and the
    significance filter)."""

    def payload(
        self, table: pd.DataFrame, index: pd.Index, sectors: Sequence[str], lang: str
    ) -> dict[str, Any]:
        """The part's data for the areas of ``index`` (the page's order).

        Parameters
        ----------
        table
            The area x sector table of the map.
        index
            The map's areas, in its order.
        sectors
            The sectors of the map's selector.
        lang
            ``"id"`` or ``"en"``.
        """
        ...


class FirmPart(Protocol):
    """Firm-level data a page adds to its firm data block (so that a page published
    without firms has none of it): :class:`klastergeo.publish.explore.FirmColocation`."""

    def payload(self, index: pd.Index, order: np.ndarray, lang: str) -> dict[str, Any]:
        """The part's data for the firms drawn, in the block's order.

        Parameters
        ----------
        index
            The index of the firms drawn.
        order
            Their order in the firm data block (:func:`firm_order`).
        lang
            ``"id"`` or ``"en"``.
        """
        ...


@dataclass(frozen=True)
class MapInput:
    """What a map draws.

    Parameters
    ----------
    areas
        Analysis areas indexed by code, with ``name`` and ``geometry``.
    table
        Per (area_code, sector): ``n_firms``, ``lq``, ``gi_bin``, ``lisa_quadrant``.
    sentra
        The sentra table with dissolved geometries (:func:`klastergeo.analysis.sentra.delineate`).
    firms
        Kept firms (points) with ``name`` and ``sector``; drawn as clustered markers.
        Above :attr:`MapStyle.max_firms` a plain frame of ``lon`` and ``lat`` is enough.
        Firms without a point (placed by their area's code or name) are not drawn.
    outlines
        Administrative outlines drawn as thin lines (e.g. kabupaten).
    probability
        Mean predicted cluster probability per area.
    sectors
        Sectors of the sector selector (default: every analysed sector, i.e. with Gi*
        z-scores; the first with a sentra is shown first).
    parents
        Name of each area's parent (kecamatan of a desa), added to names for the search.
    grandparents
        Name of each area's parent's parent (kabupaten of a desa): the search lists every
        matching area with both its parents.
    provinces
        Provinces (``load_areas("provinsi")``) of a split map; default: areas dissolved.
    related_firms
        The firms of each sentra's related industries (``sentra_id``,
        ``related_sector``, ``lon``, ``lat``, ``name``): a sentra's popup offers to show
        them as a layer. They go into the firm data block, so a map published without
        firms has none; only with the firms drawn one by one (at most ``max_firms``).
    measures
        Per measure (``workers``, ``output``, ``investment``; ``firms``, the page's
        own, is skipped), its published statistics per (area_code, sector)
        (``spec_bin``, ``gi_bin``, ``lisa_quadrant``, ``lq``): a measure selector then
        switches which table the areas are coloured by (:func:`measure_payload`;
        one-page maps only).
    explore
        The values and weights of the linked Moran scatterplot and the raw p-values of
        the significance filter (:mod:`klastergeo.publish.explore`); None for neither.
        Maps split by province have neither.
    colocation
        Each firm's co-location category per sector pair
        (:class:`klastergeo.publish.explore.FirmColocation`): a layer of the firms
        drawn one by one, in the firm data block (gone from a map published without
        firms).
    """

    areas: gpd.GeoDataFrame
    table: pd.DataFrame
    sentra: gpd.GeoDataFrame
    firms: pd.DataFrame | GridTally | None = None
    outlines: gpd.GeoDataFrame | None = None
    probability: pd.Series | None = None
    sectors: Sequence[str] = ()
    parents: pd.Series | None = None
    grandparents: pd.Series | None = None
    provinces: gpd.GeoDataFrame | None = None
    related_firms: pd.DataFrame | None = None
    measures: Mapping[str, pd.DataFrame] | None = None
    explore: AreaPart | None = None
    colocation: FirmPart | None = None


@dataclass(frozen=True)
class MapStyle:
    """How a map looks and what it says (the ``[map]`` options).

    Parameters
    ----------
    lang
        ``"id"`` (Indonesian) or ``"en"``.
    tiles
        ``OpenStreetMap``, ``CartoDB positron`` (needs an API key from CARTO now),
        ``Esri imagery``, ``none`` (offline) or a tile URL template
        (``https://.../{z}/{x}/{y}.png``) with its ``attribution``.
    title
        The map's title (default: the language's standard title).
    source
        The data source named under the title (e.g. the registry's file name); or None.
    attribution
        The attribution of a custom tile URL (required with one; shown as text).
    max_firms
        Most firms embedded one by one (markers and heat map); with more, the page gets
        their counts on a grid of at most :data:`MAX_GRID_CELLS` cells instead (a heat
        map only), so a national registry makes a page of a few megabytes.
    max_areas
        Most areas in the page; with more, split by province (see the module's text).
    made
        The date the map says it was made (the run's date, ``2024-01-31``); default:
        today.
    place
        The study area's name (``Kabupaten Klaten``), named in the title; or None.
    period
        The survey the map is of (a run over surveys: ``Sensus 2016``), named in the
        title; or None.
    """

    lang: str = "id"
    tiles: str = "OpenStreetMap"
    title: str | None = None
    source: str | None = None
    attribution: str | None = None
    max_firms: int = 100_000
    max_areas: int = 20_000
    made: str | None = None
    place: str | None = None
    period: str | None = None


def build_map(data: MapInput, style: MapStyle | None = None) -> folium.Map:
    """Build the run's folium map.

    Parameters
    ----------
    data
        What the map draws: areas, statistics, sentra, and optionally firms, outlines,
        probabilities, parents' names, provinces and related industries' firms.
    style
        Language, tiles, title, source, attribution, limits and date (default:
        :class:`MapStyle`'s defaults, those of ``[map]``).
    """
    import folium

    style = style or MapStyle()
    t = TEXT[style.lang]
    fmap, custom_tiles = base_map(data.areas, style.tiles, style.attribution)
    root = cast(Any, fmap.get_root())
    _area_view(fmap, data, style.lang, style.max_areas)
    fullscreen_button(t["full_screen"], t["exit_full_screen"]).add_to(fmap)
    control = folium.LayerControl(collapsed=True, position="topleft")
    control.add_to(fmap)
    layers_call = _layers(
        control,
        t,
        data.outlines,
        data.sentra,
        style.lang,
        style.tiles if custom_tiles else None,
        style.attribution,
    )
    firms = _drawn_firms(data.firms)
    if firms is not None:
        # the marker-cluster plugin's script and styles, as folium's MarkerCluster has them
        layers_call.default_js = [*_CLUSTER_JS, ("leaflet_heat", _HEAT_JS)]
        layers_call.default_css = list(_CLUSTER_CSS)
        payload = _firms_payload(firms, data.related_firms, style)
        if (
            data.colocation is not None and "names" in payload and isinstance(firms, pd.DataFrame)
        ):  # firms one by one
            payload["colocation"] = data.colocation.payload(
                firms.index, firm_order(firms), style.lang
            )
            layers_call.default_js.append(("klastergeo_explore", EXPLORE_JS))
        root.html.add_child(raw_element(firm_block(payload)))
    layers_call.add_to(fmap)
    heading = map_title(style.title or t["title"], style.lang, style.place, style.period)
    made = messages.date(style.made or date.today().isoformat(), style.lang)
    root.html.add_child(raw_element(title_block(heading, style.source, t, made)))
    root.header.add_child(raw_element(PAGE_CSS))
    page_head(fmap, heading, style.lang)
    return fmap


def page_head(fmap: folium.Map, heading: str, lang: str) -> None:
    """Name the page: a window title (``heading``, escaped) and the page's language,
    which :func:`save_map` writes as ``<html lang="...">`` (screen readers, a browser's
    offer to translate).

    Parameters
    ----------
    fmap
        The map.
    heading
        The map's title, as its title box shows it.
    lang
        ``"id"`` or ``"en"``.
    """
    root = cast(Any, fmap.get_root())
    root.header.add_child(raw_element(f"<title>{html.escape(heading)}</title>"))
    cast(Any, fmap).klastergeo_lang = messages.check_lang(lang)


def map_title(title: str, lang: str, place: str | None = None, period: str | None = None) -> str:
    """The map's heading: ``title``, then the study area and the survey where they are
    known and not named in it already.

    Parameters
    ----------
    title
        The map's title (``map.title``, or the language's standard title).
    lang
        ``"id"`` or ``"en"``.
    place
        The study area's name, or None.
    period
        The survey's label, or None.

    Examples
    --------
    >>> map_title("Klaster industri", "id", "Kabupaten Klaten", "Sensus 2016")
    'Klaster industri Kabupaten Klaten, Sensus 2016'
    >>> map_title("Klaster industri (Sensus 2016)", "id", None, "Sensus 2016")
    'Klaster industri, Sensus 2016'
    """
    t = TEXT[lang]
    if period and title.endswith(f" ({period})"):  # a run over surveys' own title
        title = title[: -len(period) - 3]
    if place and place not in title:
        title = t["title_place"].format(title=title, place=place)
    if period and period not in title:
        title = t["title_period"].format(title=title, period=period)
    return title


def _drawn_firms(firms: pd.DataFrame | GridTally | None) -> pd.DataFrame | GridTally | None:
    """The firms with a point (None without any): a firm placed by its area's code or
    name has no point, and is not drawn, never at its village's centre (the run notes
    how many). Firms already counted on a grid are drawn as they are."""
    if isinstance(firms, GridTally):
        return firms if firms.n_firms else None
    if firms is None or not len(firms):
        return None
    found = has_point(firms)
    if not found.all():
        logger.info(
            "map: %d of %d firms have no point (placed by their area) and are not drawn",
            int((~found).sum()),
            len(found),
        )
        firms = firms.iloc[np.flatnonzero(found)]
    return firms if len(firms) else None


def _firms_payload(
    firms: pd.DataFrame | GridTally, related_firms: pd.DataFrame | None, style: MapStyle
) -> dict[str, Any]:
    """The firm data block's content: the firms one by one (with the related
    industries' firms), or, above ``max_firms`` (or counted on a grid already), their
    counts on a grid."""
    max_firms = style.max_firms
    if isinstance(firms, GridTally):
        return _density_payload(firms)
    one_by_one = len(firms) <= max_firms
    payload = _firm_payload(firms) if one_by_one else _density_payload(firms)
    # the related industries' firms with the firms drawn one by one (a grid of counts
    # holds no name and no single position)
    if one_by_one and related_firms is not None and 0 < len(related_firms) <= max_firms:
        payload["links"] = _links_payload(related_firms, style.lang)
    elif one_by_one and related_firms is not None and len(related_firms):
        logger.warning(
            "map: %d firms of related industries (more than map.max_firms=%d) are "
            "left out of the map; related.csv lists them per sentra",
            len(related_firms),
            max_firms,
        )
    return payload


def _area_view(fmap: folium.Map, data: MapInput, lang: str, max_areas: int) -> None:
    """The sector view of the areas: all in the page, or split by province (then
    ``fmap.klastergeo_split`` holds what :func:`save_map` writes beside the page)."""
    areas, table, sentra, sectors = data.areas, data.table, data.sentra, data.sectors
    probability, parents = data.probability, data.parents
    province_of = _province_codes(areas.index) if len(areas) > max_areas else None
    if len(areas) > max_areas and province_of is None:
        logger.warning(
            "map: %d areas (more than map.max_areas=%d) have no province codes; the map "
            "stays one file",
            len(areas),
            max_areas,
        )
    if province_of is None:
        view = _sector_payload(areas, table, sentra, sectors, probability, lang, parents)
        view["places"] = _runs(_names_of(data.grandparents, areas.index))
        if data.measures:
            view["measures"] = measure_payload(areas.index, data.measures, view["sectors"], lang)
        ScriptCall(
            "klastergeo.sectorView({{ this._parent.get_name() }}, {{ this.payload }});", view
        ).add_to(fmap)
        if data.explore is not None and view["sectors"]:
            _explore_call(data, view["sectors"], lang).add_to(fmap)
    else:
        national, files = _split_payload(
            areas, province_of, table, sentra, sectors, probability, lang, parents, data.provinces
        )
        _add_places(national["index"], province_of, _names_of(data.grandparents, areas.index))
        call = ScriptCall(
            "klastergeo.nationalView({{ this._parent.get_name() }}, {{ this.payload }});",
            national,
        )
        cast(Any, fmap).klastergeo_split = _Split(call.add_to(fmap), national, files)


def _explore_call(data: MapInput, sectors: Sequence[str], lang: str) -> ScriptCall:
    """The page's call that adds the linked scatterplot and the significance filter to
    the sector view (:mod:`klastergeo.publish.explore`)."""
    assert data.explore is not None
    payload = data.explore.payload(data.table, data.areas.index, sectors, lang)
    call = ScriptCall(
        "klastergeo.explore({{ this._parent.get_name() }}, {{ this.payload }});", payload
    )
    call.default_js = [("klastergeo_explore", EXPLORE_JS)]
    return call


def _layers(
    control: folium.LayerControl,
    t: Mapping[str, str],
    outlines: gpd.GeoDataFrame | None,
    sentra: gpd.GeoDataFrame,
    lang: str,
    custom_tiles: str | None,
    attribution: str | None,
) -> ScriptCall:
    """The page's call that draws outlines, sentra and firms and registers them with
    the layer control (every text set as text, never as HTML)."""
    t = dict(t)
    layers: dict[str, Any] = {
        "outlines": _outline_payload(outlines, t) if outlines is not None else None,
        "sentra": _sentra_payload(sentra, t, lang) if len(sentra) else None,
        "firms": {
            "points": t["firms"],
            "heat": t["firms_heat"],
            "colour": FIRM_COLOUR,
            "related": t["related_firms"],
            "show_related": t["show_related"],
            "related_note": t["related_note"],
            "related_colour": RELATED_COLOUR,
        },
        # Leaflet's own control titles, in the page's language
        "controls": {
            ".leaflet-control-zoom-in": t["zoom_in"],
            ".leaflet-control-zoom-out": t["zoom_out"],
            ".leaflet-control-layers-toggle": t["layers"],
        },
        # a custom base map goes through the page's script (script-safe JSON): folium
        # would compile its URL and attribution as templates. Leaflet writes attributions
        # as HTML, so the text is escaped.
        "tiles": {
            "url": custom_tiles.strip(),
            "attribution": html.escape(attribution or ""),
            "name": t["base_map"],
        }
        if custom_tiles
        else None,
    }
    return ScriptCall(
        "klastergeo.layers({{ this._parent.get_name() }}, "
        + control.get_name()
        + ", {{ this.payload }});",
        layers,
    )


def base_map(areas: gpd.GeoDataFrame, tiles: str, attribution: str | None) -> tuple[Any, bool]:
    """A Leaflet-only folium map fitted to ``areas`` with its base tiles; True when the
    tiles are a custom URL (drawn by the page's script).

    Parameters
    ----------
    areas
        The areas the map shows (any CRS).
    tiles
        A base map name of :data:`BASE_MAPS` or a tile URL.
    attribution
        The tiles' attribution (required for a custom URL).
    """
    import folium

    key = tiles.strip().lower()
    custom = key not in BASE_MAPS
    if custom and not attribution:
        raise ConfigError(
            f"tiles={tiles!r} is a custom tile URL; give its attribution (map.attribution)"
        )
    bounds = areas.to_crs(4326).total_bounds
    fmap = folium.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
        tiles=None,
        control_scale=False,  # folium's adds miles: the metric one is added below
        prefer_canvas=True,
        zoom_start=8,
    )
    # Marker clustering needs the map's maxZoom, which folium sets only with a tile layer.
    fmap.options["max_zoom"] = 18
    # Only Leaflet itself: folium's default jQuery, Bootstrap and icon fonts serve marker
    # styles this map does not use, and every asset is inlined when the page is saved.
    fmap.default_js = [*folium.Map.default_js[:1], ("klastergeo_map", _OWN_JS)]
    fmap.default_css = folium.Map.default_css[:1]
    tile_name = None if custom else BASE_MAPS[key]
    if tile_name is not None:
        folium.TileLayer(tile_name, name=tile_name, control=True).add_to(fmap)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    _macro("L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});")().add_to(
        fmap
    )
    return fmap, custom


def title_block(
    heading: str, source: str | None, t: Mapping[str, str], made: str | None = None
) -> str:
    """The page's title box: ``heading``, the data source and the day it was made (the
    words of ``t``: ``source``, ``made``).

    Parameters
    ----------
    heading
        The map's title.
    source
        The data source named under it, if any.
    t
        The page's words in its language (``source``, ``made``).
    made
        The day the map was made as the page writes it (``7 Desember 2026``); today
        (ISO) when None.
    """
    footer = f"{t['source']}: {source}. " if source else ""
    footer += f"{t['made']}: {made or date.today().isoformat()} (klastergeo)"
    return (
        '<div class="klastergeo-title"><b>'
        + html.escape(heading)
        + "</b><br><small>"
        + html.escape(footer)
        + "</small></div>"
    )


#: The id of the firm data block in a map page (see :func:`firm_block`).
FIRMS_ID = "klastergeo-firms"
_FIRM_BLOCK = re.compile(
    r'<script type="application/json" id="' + FIRMS_ID + r'">[^<]*</script>\n?'
)


def script_json(data: Any) -> str:
    """JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e``, ``\\u0026`` and U+2028/2029
    their escapes (as Django's ``json_script`` does), so no value can close the script or
    open a comment; a ``{`` that opens a jinja2 tag in a value is ``\\u007b``. The JSON
    parses to the same data.

    Parameters
    ----------
    data
        Data JSON can write (NaN and infinity are refused).

    Examples
    --------
    >>> script_json({"name": "</script><b>"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    text = text.translate(_SCRIPT_ESCAPES)
    # branca compiles a map's scripts as jinja2 templates once more: "{{", "{%" and "{#"
    # (which compact JSON writes only inside strings) must not open a tag
    for opener in ("{{", "{%", "{#"):
        text = text.replace(opener, "\\u007b" + opener[1])
    return text


_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def firm_block(payload: dict[str, Any]) -> str:
    """The firm data of a map page: a JSON data block the page reads when present.

    Kept apart from the page's script so that :func:`without_firms` can remove it (a
    published map carries no firm-level data unless asked for).

    Parameters
    ----------
    payload
        The firm data: delta-encoded coordinates, names and sectors.
    """
    return f'<script type="application/json" id="{FIRMS_ID}">{script_json(payload)}</script>\n'


def without_firms(page: str) -> str:
    """A saved map page with its firm data block removed (no firm names, ids or
    coordinates left); the page then shows no firm layers.

    Parameters
    ----------
    page
        The HTML of a saved map page.
    """
    return _FIRM_BLOCK.sub("", page)


def with_rounded_firms(page: str, *, decimals: int) -> str:
    """A saved map page whose firm coordinates are rounded to ``decimals`` decimal
    degrees (3: about 110 m, 2: about 1.1 km).

    Parameters
    ----------
    page
        The HTML of a saved map page; returned as it is when it holds no firm data.
    decimals
        Decimal degrees kept, 0 to 5.
    """
    if not 0 <= decimals <= 5:
        raise ConfigError(f"decimals={decimals!r} must be 0 to 5 (decimal degrees)")
    match = _FIRM_BLOCK.search(page)
    if match is None:
        return page
    start = match.group(0).index(">") + 1
    payload = json.loads(match.group(0)[start : match.group(0).index("</script>")])
    step = 10 ** (5 - decimals)
    payload["xy"] = _rounded(payload["xy"], step)
    if "links" in payload:  # the related industries' firms
        payload["links"]["xy"] = _rounded(payload["links"]["xy"], step)
    payload["decimals"] = decimals
    return page[: match.start()] + firm_block(payload) + page[match.end() :]


def _rounded(deltas: list[int], step: int) -> list[int]:
    """Delta-encoded coordinates (units of 1e-5 degrees) rounded to ``step`` units."""
    xy = np.cumsum(np.asarray(deltas, dtype=np.int64).reshape(-1, 2), axis=0)
    xy = np.round(xy / step).astype(np.int64) * step
    xy[1:] = np.diff(xy, axis=0)
    return xy.ravel().tolist()


_OWN_JS = "klastergeo://klastergeo-map.js"
_HEAT_JS = "klastergeo://leaflet-heat.js"
#: The exploration's script (linked scatterplot, filter, emerging hot spots).
EXPLORE_JS = "klastergeo://klastergeo-explore.js"
#: Quantisation of coordinates: 1e-5 degrees (about 1.1 m), as 5 decimals.
Q = 100_000
#: The style of the pages' title, controls and legend; no icon: a browser would ask a
#: server for /favicon.ico (a 404 in its console).
PAGE_CSS = """<link rel="icon" href="data:,">
<style>
.klastergeo-title{position:fixed;top:10px;left:60px;z-index:9999;background:rgba(255,255,255,.92);
padding:6px 10px;border-radius:4px;font:14px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)}
.klastergeo-control{background:rgba(255,255,255,.95);padding:6px 8px;font:12px sans-serif}
.klastergeo-control label{display:block;margin:2px 0}
.klastergeo-notfound{color:#b00000;font-size:11px}
.klastergeo-control select,.klastergeo-control input{max-width:340px;font:12px sans-serif}
.klastergeo-legend{background:rgba(255,255,255,.92);padding:8px 10px;border-radius:4px;
font:12px/1.35 sans-serif;max-height:60vh;overflow:auto;box-shadow:0 1px 4px rgba(0,0,0,.3)}
.klastergeo-links{margin-top:6px;font:12px sans-serif}
.klastergeo-links button{margin:2px 0;font:12px sans-serif;cursor:pointer;text-align:left}
.klastergeo-swatch{display:inline-block;width:12px;height:12px;margin-right:4px;
vertical-align:middle}
.klastergeo-results{max-height:40vh;overflow:auto;max-width:340px}
.klastergeo-results button{display:block;width:100%;margin:2px 0;text-align:left;
font:12px sans-serif;cursor:pointer}
.klastergeo-clear{font:11px sans-serif;margin:2px 0}
.klastergeo-totals{margin-top:4px;font-weight:bold;border-top:1px solid #ccc}
.klastergeo-tip-open .leaflet-control:not(:hover){opacity:.15;transition:opacity .1s}
.klastergeo-tip-shifted:before{display:none}
</style>"""


def encode_shapes(geoms: Sequence[Any]) -> list[list[list[list[int]]]]:
    """Per area, its polygons, their rings as flat integer lists: the first vertex in
    1e-5 degrees, then differences to the previous vertex.

    Parameters
    ----------
    geoms
        The areas' (multi)polygons in degrees, one per area.
    """
    out: list[list[list[list[int]]]] = []
    for geom in geoms:  # one entry per area; vertices are handled by numpy per ring
        polygons = []
        for part in shapely.get_parts(geom):
            rings = []
            for ring in (part.exterior, *part.interiors):
                ints = np.round(np.asarray(ring.coords)[:, :2] * Q).astype(np.int64)
                ints[1:] = np.diff(ints, axis=0)
                rings.append(ints.ravel().tolist())
            polygons.append(rings)
        out.append(polygons)
    return out


#: Codes of an area's class are written ``chr(48 + code)``: ``"0"`` to ``"z"``.
MAX_CODE = 74
#: A run of equal codes at least this long is written as the code and its length.
MIN_RUN = 5
_RUN = re.compile(r"(.)\{(\d+)\}", re.DOTALL)


def encode_codes(values: Any) -> str:
    """Class codes (0 to :data:`MAX_CODE`, one per area) as text: one character per
    area (``chr(48 + code)``), a run of :data:`MIN_RUN` or more equal codes written as
    the code's character and the run's length in braces (``"3{812}"``), which no code
    is (``{`` and ``}`` are 123 and 125, codes end at ``z``, 122). Most areas of most
    sectors share one code (not significant, no firm), so a sector of 8,500 villages
    costs a few hundred characters instead of 8,500. The page decodes a column the
    first time it is drawn (``klastergeo.decodeCodes``); :func:`decode_codes` is the
    inverse.

    Parameters
    ----------
    values
        Integer codes, 0 to :data:`MAX_CODE`.

    Examples
    --------
    >>> encode_codes([3, 3, 3, 3, 3, 3, 5, 0, 0])
    '3{6}500'
    """
    v = np.asarray(values, dtype=np.int64).ravel()
    if not len(v):
        return ""
    if v.min() < 0 or v.max() > MAX_CODE:
        raise ValueError(f"class codes must lie in 0..{MAX_CODE}; got {v.min()}..{v.max()}")
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    lengths = np.diff(np.r_[starts, len(v)])
    chars = [chr(48 + c) for c in v[starts].tolist()]
    return "".join(  # one piece per run of equal codes (areas are vectorised above)
        c * n if n < MIN_RUN else f"{c}{{{n}}}"
        for c, n in zip(chars, lengths.tolist(), strict=True)
    )


def decode_codes(text: str) -> np.ndarray:
    """The class codes of :func:`encode_codes`'s text, one per area.

    Parameters
    ----------
    text
        The text of a page's ``values`` (or ``prob``).

    Examples
    --------
    >>> decode_codes("3{6}500").tolist()
    [3, 3, 3, 3, 3, 3, 5, 0, 0]
    """
    whole = _RUN.sub(lambda m: m.group(1) * int(m.group(2)), text)
    return np.frombuffer(whole.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48


def _sector_payload(
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    sentra: gpd.GeoDataFrame,
    sectors: Sequence[str],
    probability: pd.Series | None,
    lang: str,
    parents: pd.Series | None,
) -> dict[str, Any]:
    """Everything the sector view needs, compactly: shapes, names (``name, parent``),
    per-sector codes and tooltip numbers."""
    meta = _view_meta(table, sentra, sectors, probability, lang)
    classes = _area_classes(areas.index, table, meta["sectors"], probability)
    simple = _simplified(areas, 50.0)
    return {
        **meta,
        "q": Q,
        "shapes": encode_shapes(simple.to_numpy()),
        "names": _full_names(areas, parents).tolist(),
        **_class_codes(classes, slice(None)),
    }


def _names_of(names: pd.Series | None, index: pd.Index) -> np.ndarray:
    """``names`` on ``index`` as text ("" where missing or without names)."""
    if names is None:
        return np.full(len(index), "", dtype=object)
    return names.reindex(index).fillna("").astype(str).to_numpy(dtype=object)


def _full_names(areas: gpd.GeoDataFrame, parents: pd.Series | None) -> pd.Series:
    """Each area's name, followed by its parent's (``Cepogo, Cepogo``) when known."""
    names = areas["name"].astype(str)
    if parents is not None:
        parent = parents.reindex(areas.index)
        names = names.where(parent.isna(), names + ", " + parent.astype(str))
    return names


def _area_classes(
    index: pd.Index,
    table: pd.DataFrame,
    chosen: Sequence[str],
    probability: pd.Series | None,
) -> dict[str, Any]:
    """Per statistic and sector, the class code of every area of ``index`` (integers);
    ``prob``: the probability classes, or None."""
    spec = "spec_bin" in table.columns
    values: dict[str, dict[str, np.ndarray]] = {
        **({"spec": {}} if spec else {}),
        "gi": {},
        "lisa": {},
        "lq": {},
    }
    for sector in chosen:  # a loop over sectors (tens); areas are vectorised
        rows = table.xs(sector, level="sector").reindex(index)
        if spec:
            values["spec"][sector] = rows["spec_bin"].fillna(0).astype(int).to_numpy() + 3
        values["gi"][sector] = rows["gi_bin"].fillna(0).astype(int).to_numpy() + 3
        values["lisa"][sector] = rows["lisa_quadrant"].fillna(0).astype(int).to_numpy()
        values["lq"][sector] = _classify(rows["lq"].fillna(0.0), LQ_BREAKS)
    if _sector_probability(table):
        values["prob"] = {}
        for sector in chosen:
            p = table.xs(sector, level="sector")["p_cluster"].reindex(index)
            values["prob"][sector] = np.where(p.notna(), _classify(p.fillna(0.0), P_BREAKS), 0)
    prob = None
    if probability is not None and probability.notna().any() and "prob" not in values:
        p = probability.reindex(index)
        prob = np.where(p.notna(), _classify(p.fillna(0.0), P_BREAKS), 0)
    return {
        "values": values,
        "prob": prob,
        "tips": _tip_values(index, table, chosen),
        "totals": _area_totals(index, table),
        "n": len(index),
    }


def measure_payload(
    index: pd.Index, measures: Mapping[str, pd.DataFrame], sectors: Sequence[str], lang: str
) -> dict[str, Any]:
    """The measure selector's data: per measure other than firms, the class codes of the
    areas of ``index`` per statistic and sector, coded as the page's own ``values`` (the
    firms' are the page's); the page swaps them in when a measure is chosen. Tooltips
    keep the firm counts.

    Parameters
    ----------
    index
        The page's areas, in their order.
    measures
        Per measure, its published statistics per (area_code, sector).
    sectors
        The sectors of the page's selector.
    lang
        ``"id"`` or ``"en"``: the measures' names.
    """
    t = TEXT[lang]
    values = {}
    measures = {k: v for k, v in measures.items() if k != "firms"}  # the page's own
    for name, table in measures.items():
        present = [s for s in sectors if s in set(table.index.get_level_values("sector"))]
        classes = _area_classes(index, table, present, None)
        classes["tips"] = {}  # the tooltips keep the firm counts
        classes["totals"] = None
        values[name] = _class_codes(classes, slice(None))["values"]
    return {
        "label": t["measure"],
        "names": ["firms", *measures],
        "labels": {"firms": t["firms_n"], **{m: t.get(m, m) for m in measures}},
        "values": values,
        # the legend's heading under a measure (the firms' say "density")
        "stats": {
            m: {s: t[f"{s}_of"].format(measure=t.get(m, m).lower()) for s in ("spec", "gi", "lisa")}
            for m in measures
        },
    }


def _sector_probability(table: pd.DataFrame) -> bool:
    """Whether the table has a cluster probability per area and sector (the mean of
    the sector's firms in the area)."""
    return "p_cluster" in table.columns and bool(table["p_cluster"].notna().any())


#: The numbers of an area's tooltip, per sector (:func:`_tip_values`), as integers:
#: firms; LQ and its interval x 10; specialisation and Gi* z x 10; p-values in
#: thousandths (0: below 0.001, shown "< 0.001"); cluster probability x 100. Each is
#: stored plus one (0: missing), z-scores zigzag-encoded first (0, -1, 1, -2 ... ->
#: 0, 1, 2, 3 ...), and written as variable-length characters (:func:`varint_text`).
#: Workers (``w``) and output (``o``, x 10) are :func:`measure_codes`: 0 not available,
#: 1 suppressed by disclosure control, else the value plus two.
TIP_FIELDS = ("n", "lq", "lo", "hi", "sz", "sp", "gz", "gp", "lp", "pc", "w", "o")
_TIP_COLUMNS = {
    "n": ("n_firms", 1),
    "lq": ("lq", 10),
    "lo": ("lq_low", 10),
    "hi": ("lq_high", 10),
    "sz": ("spec_z", 10),
    "sp": ("spec_p", -1000),
    "gz": ("gi_z", 10),
    "gp": ("gi_p", -1000),
    "lp": ("lisa_p", -1000),
    "pc": ("p_cluster", 100),
}
#: Fields that can be negative (zigzag-encoded).
_SIGNED_TIPS = ("sz", "gz")
#: The sums of a measure in a tooltip: field -> (column, scale); the area's totals
#: (:func:`_area_totals`) are firms, then these.
_MEASURE_TIPS = {"w": ("workers", 1), "o": ("output", 10)}
#: The fields of an area's totals over every sector.
TOTAL_FIELDS = ("n", "w", "o")


def measure_codes(values: Any, suppressed: Any, scale: float = 1) -> np.ndarray:
    """Sums of a measure as the tooltips store them: 0 where not available (no firm
    reported a value), 1 where suppressed by disclosure control (shown as such, never
    as 0), else the sum times ``scale``, rounded, plus two.

    Parameters
    ----------
    values
        The sums (NaN where missing).
    suppressed
        True where the sum is suppressed.
    scale
        Multiplier before rounding (10 keeps one decimal).

    Examples
    --------
    >>> measure_codes([np.nan, np.nan, 0.0, 12.34], [False, True, False, False], 10).tolist()
    [0, 1, 2, 125]
    """
    x = np.asarray(values, dtype=float)
    hidden = np.asarray(suppressed, dtype=bool)
    finite = np.isfinite(x)
    scaled = np.round(np.where(finite, np.maximum(x, 0.0), 0.0) * scale).astype(np.int64) + 2
    return np.where(hidden, 1, np.where(finite, scaled, 0)).astype(np.int64)


def _suppressed(rows: Any, column: str) -> np.ndarray:
    """Where ``rows`` mark ``column`` suppressed (``<column>_flag`` not empty)."""
    flag = rows.get(f"{column}_flag")
    if flag is None:
        return np.zeros(len(rows), dtype=bool)
    text = flag.astype(object).where(flag.notna(), "").astype(str)
    return (text.ne("") & text.ne("0")).to_numpy()


def _area_totals(index: pd.Index, table: pd.DataFrame) -> np.ndarray:
    """Per area of ``index``, its firms, workers and output over every sector of the
    table (:data:`TOTAL_FIELDS`, coded as :func:`measure_codes`). A total of an area with
    a suppressed sum is suppressed too: the total less the published sums would give it
    back (as :func:`klastergeo.analysis.measure.withhold` blanks such an area's LQ)."""
    out = np.zeros((len(index), len(TOTAL_FIELDS)), dtype=np.int64)
    codes = table.index.get_level_values("area_code").astype(str)
    firms = table["n_firms"].groupby(codes).sum() if "n_firms" in table else None
    if firms is not None:
        shown = firms.reindex(index.astype(str))
        out[:, 0] = measure_codes(shown.to_numpy(dtype=float), np.zeros(len(index), bool))
    for k, (column, scale) in enumerate(_MEASURE_TIPS.values(), start=1):
        if column not in table:
            continue
        values = pd.to_numeric(table[column], errors="coerce")
        grouped = values.groupby(codes)
        total = grouped.sum(min_count=1).reindex(index.astype(str))
        hidden = pd.Series(_suppressed(table, column), index=values.index).groupby(codes).any()
        hidden = hidden.reindex(index.astype(str), fill_value=False)
        out[:, k] = measure_codes(total.to_numpy(dtype=float), hidden.to_numpy(dtype=bool), scale)
    return out


def varint_text(values: np.ndarray) -> str:
    """Non-negative integers as text, five bits per character (the polyline encoding:
    a character is 63 + the bits, + 32 when more characters of the number follow), so
    a number below 32 is one character and below 1,024 two.

    Parameters
    ----------
    values
        Non-negative integers.

    Examples
    --------
    >>> varint_text(np.array([0, 31, 32, 1000]))
    '?^_@g^'
    """
    v = np.asarray(values, dtype=np.int64).ravel()
    if not len(v):
        return ""
    if (v < 0).any():
        raise ValueError("varint_text takes non-negative integers")
    width = int(max(1, (int(v.max()).bit_length() + 4) // 5))
    shifts = 5 * np.arange(width, dtype=np.int64)
    chunks = (v[:, None] >> shifts) & 31
    more = (v[:, None] >> (shifts + 5)) > 0
    used = np.ones_like(more)
    used[:, 1:] = more[:, :-1]
    chars = (chunks | (more * 32)) + 63
    return chars[used].astype(np.uint8).tobytes().decode("ascii")


def _tip_values(
    index: pd.Index, table: pd.DataFrame, chosen: Sequence[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per sector, the areas whose tooltip has numbers (positions in ``index``: areas
    with firms of the sector or a significant statistic) and their :data:`TIP_FIELDS`
    as integers (one row per area); the other areas have no firm of the sector and
    nothing significant, which the tooltip says without numbers."""
    out = {}
    lisa_p = "lisa_p_sim" if "lisa_p_sim" in table.columns else "lisa_p"
    for sector in chosen:  # a loop over sectors (tens); areas are vectorised
        rows = table.xs(sector, level="sector").reindex(index)
        keep = (
            rows["n_firms"].fillna(0).to_numpy() > 0
            if "n_firms" in rows
            else np.zeros(len(rows), dtype=bool)
        )
        for column in ("spec_bin", "gi_bin", "lisa_quadrant"):
            if column in rows:
                keep |= rows[column].fillna(0).to_numpy() != 0
        at = np.flatnonzero(keep)
        fields = np.zeros((len(at), len(TIP_FIELDS)), dtype=np.int64)  # 0: missing
        for k, name in enumerate(TIP_FIELDS):
            if name in _MEASURE_TIPS:
                column, factor = _MEASURE_TIPS[name]
                if column in rows:
                    fields[:, k] = measure_codes(
                        pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)[at],
                        _suppressed(rows, column)[at],
                        factor,
                    )
                continue
            column, scale = _TIP_COLUMNS[name]
            column = lisa_p if name == "lp" else column
            if column not in rows:
                continue
            x = rows[column].to_numpy(dtype=float)[at]
            finite = np.isfinite(x)
            x = np.where(finite, x, 0.0)
            if scale < 0:  # a p-value: thousandths, 0 below 0.001 (shown "< 0.001")
                v = np.where(x < 0.001, 0, np.maximum(np.round(x * -scale), 1))
            else:
                v = np.round(x * scale)
            v = v.astype(np.int64)
            if name in _SIGNED_TIPS:
                v = np.where(v < 0, -2 * v - 1, 2 * v)  # zigzag
            fields[:, k] = np.where(finite, np.maximum(v, 0) + 1, 0)
        out[sector] = (at, fields)
    return out


def _class_codes(classes: dict[str, Any], rows: Any) -> dict[str, Any]:
    """The ``values``, ``prob`` and ``tips`` of a page: the classes of the areas at
    ``rows`` (a slice or sorted positions), as :func:`encode_codes` writes them, and the numbers of
    their tooltips (positions delta-encoded, then the fields row by row)."""
    values = {
        stat: {sector: encode_codes(codes[rows]) for sector, codes in by_sector.items()}
        for stat, by_sector in classes["values"].items()
    }
    prob = classes["prob"]
    positions = np.arange(classes["n"])[rows]  # sorted: a slice or sorted positions
    tips = {}
    for sector, (at, fields) in classes["tips"].items():
        local = np.searchsorted(positions, at)
        inside = np.zeros(len(at), dtype=bool)
        if len(positions):
            inside = positions[np.minimum(local, len(positions) - 1)] == at
        local = local[inside]
        tips[sector] = {
            "i": varint_text(np.diff(local, prepend=0)),
            "v": varint_text(fields[inside]),
        }
    totals = classes.get("totals")
    return {
        "values": values,
        "prob": None if prob is None else encode_codes(prob[rows]),
        "tips": tips,
        "totals": None if totals is None else varint_text(totals[rows]),
    }


def _view_meta(
    table: pd.DataFrame,
    sentra: gpd.GeoDataFrame,
    sectors: Sequence[str],
    probability: pd.Series | None,
    lang: str,
) -> dict[str, Any]:
    """What the sector view shows besides the areas: sectors, statistics, palettes,
    labels and the page's texts."""
    t = TEXT[lang]
    analysed = table["gi_z"].notna().groupby(level="sector").any() if "gi_z" in table else None
    chosen = [str(x) for x in sectors] or (
        [str(x) for x in analysed.index[analysed]] if analysed is not None else []
    )
    with_sentra = sorted(set(sentra["sector"].astype(str))) if len(sentra) else []
    initial = next((x for x in with_sentra if x in chosen), chosen[0] if chosen else None)
    # specialisation first (the default view): a sentra is specialised, not merely dense
    stats = (["spec"] if "spec_bin" in table.columns else []) + ["gi", "lisa", "lq"]
    stats = stats if chosen else []
    if (probability is not None and probability.notna().any()) or _sector_probability(table):
        stats.append("prob")
    named = messages.class_labels("gi_bin", lang)
    gi_labels = [named[b] for b in range(-3, 4)]
    spec_named = messages.class_labels("spec_bin", lang)
    quadrants = messages.class_labels("lisa_quadrant", lang)
    prob_edges = [messages.number(b, lang, 2) for b in P_BREAKS]
    return {
        "sectors": chosen,
        "sectorLabels": {x: kbli.titled(x, lang=lang) for x in chosen},
        "initial": initial,
        "stats": stats,
        "palette": {
            "spec": [GISTAR_COLOURS.get(b) for b in range(-3, 4)],
            "gi": [GISTAR_COLOURS.get(b) for b in range(-3, 4)],
            "lisa": [None, *(LISA_COLOURS[q] for q in (1, 2, 3, 4))],
            "lq": [None, *LQ_COLOURS[1:]],  # one colour per class drawn (LQ >= 1)
            "prob": [None, *P_COLOURS[1:]],
        },
        "labels": {
            "spec": [spec_named[b] for b in range(-3, 4)],
            "gi": gi_labels,
            "lisa": [quadrants[q] for q in range(5)],
            "lq": ["< 1", "1 - 2", "2 - 5", "5 - 10", ">= 10"],
            "prob": [f"< {prob_edges[0]}"]
            + [f"{a} - {b}" for a, b in itertools.pairwise(prob_edges)]
            + [f">= {prob_edges[-1]}"],
        },
        "notes": {"lq": t["lq_note"], "prob": t["prob_note"]},
        "sentraColour": SENTRA_COLOUR,
        "firmColour": FIRM_COLOUR,
        "locale": "id-ID" if lang == "id" else "en-GB",
        "probBySector": _sector_probability(table),
        "tipFields": list(TIP_FIELDS),
        "totalFields": list(TOTAL_FIELDS),
        # the sums the tooltips show: those the run has (a column, even if empty)
        "measureTips": [k for k, (column, _) in _MEASURE_TIPS.items() if column in table],
        "outputScale": _MEASURE_TIPS["o"][1],
        "text": {
            "firms": t["firms_n"],
            "workers": t["workers"],
            "output": t["output"],
            "suppressed": t["suppressed"],
            "notAvailable": t["not_available"],
            "totals": t["area_totals"],
            "matches": t["search_matches"],
            "clear": t["search_clear"],
            "lqInterval": t["lq_interval"],
            "prob": t["prob"],
            "sector": t["sector"],
            "statistic": t["statistic"],
            "notSig": t["not_sig"],
            "notFound": t["not_found"],
            "search": t["search"],
            "searchHint": t["search_hint"],
            "sentra": t["sentra"],
            "stats": {
                "spec": t["spec"],
                "gi": t["gi"],
                "lisa": t["lisa"],
                "lq": t["lq"],
                "prob": t["prob"],
                "none": t["none"],
            },
        },
    }


#: A Kemendagri area code: two-digit province, then dotted parts (``33.09.12.2001``).
_KEMENDAGRI = r"\d{2}(?:\.\d+)*"
#: Zoom from which a split map loads the provinces in view by itself.
LOAD_ZOOM = 9
#: Hot-spot areas per province: class breaks and colours of a split map's provinces.
HOT_BREAKS = (1, 10, 50, 200)
HOT_COLOURS = ("#f7f7f7", "#fee0d2", "#fcbba1", "#fb6a4a", "#cb181d")


@dataclass(frozen=True)
class _Split:
    """A split map's page element (its payload gets the folder when saved), the page's
    data and each province's script payload."""

    element: Any
    data: dict[str, Any]
    files: dict[str, dict[str, Any]]


def _province_codes(index: pd.Index) -> np.ndarray | None:
    """Each area's province (the first two digits of a Kemendagri code); None when a
    code is not one (H3 cells, custom polygons)."""
    codes = pd.Series(index.astype(str), dtype=object)
    if not codes.str.fullmatch(_KEMENDAGRI).all():
        return None
    return codes.str[:2].to_numpy(dtype=object)


def _add_places(index: list[dict[str, Any]], province_of: np.ndarray, places: np.ndarray) -> None:
    """Each province's entry of a split map's search index (provinces in code order, as
    :func:`_split_payload` writes them) gets its areas' kabupaten names (``places``)."""
    for entry, code in zip(index, sorted(set(province_of)), strict=True):
        entry["places"] = _runs(places[province_of == code])


def _split_payload(
    areas: gpd.GeoDataFrame,
    province_of: np.ndarray,
    table: pd.DataFrame,
    sentra: gpd.GeoDataFrame,
    sectors: Sequence[str],
    probability: pd.Series | None,
    lang: str,
    parents: pd.Series | None,
    provinces: gpd.GeoDataFrame | None,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The page's data of a split map (provinces, search index, what the sector view
    shows) and each province's script payload (its areas' shapes and classes), in the
    order of ``areas`` within each province."""
    t = TEXT[lang]
    meta = _view_meta(table, sentra, sectors, probability, lang)
    classes = _area_classes(areas.index, table, meta["sectors"], probability)
    simple = _simplified(areas, 50.0).to_numpy()
    codes = sorted(set(province_of))
    outlines = _province_outlines(simple, province_of, codes, provinces)
    parent = (
        parents.reindex(areas.index).fillna("").astype(str).to_numpy(dtype=object)
        if parents is not None
        else np.full(len(areas), "", dtype=object)
    )
    names = areas["name"].astype(str).to_numpy(dtype=object)
    files: dict[str, dict[str, Any]] = {}
    index: list[dict[str, Any]] = []
    for code in codes:  # a loop over provinces (38); areas are vectorised
        rows = np.flatnonzero(province_of == code)
        files[code] = {"shapes": encode_shapes(simple[rows]), **_class_codes(classes, rows)}
        index.append({"names": names[rows].tolist(), "parents": _runs(parent[rows])})
    summary = _province_summary(table, sentra, meta["sectors"], codes)
    meta["text"].update(
        {
            "province": t["province"],
            "hotAreas": t["hot_areas"],
            "firms": t["firms_n"],
            "openHint": t["open_hint"],
        }
    )
    data = {
        **meta,
        "q": Q,
        "folder": None,
        "loadZoom": LOAD_ZOOM,
        "provinces": {
            "codes": codes,
            "names": outlines["name"].tolist(),
            "shapes": encode_shapes(outlines.geometry.to_numpy()),
            "counts": [len(i["names"]) for i in index],
            **summary,
        },
        "hotBreaks": list(HOT_BREAKS),
        "hotColours": list(HOT_COLOURS),
        "index": index,
    }
    return data, files


def _runs(values: np.ndarray) -> list[list[Any]]:
    """Run-length encoding: ``[[value, count], ...]`` (a desa's kecamatan names are
    runs, as the areas are sorted by code)."""
    if not len(values):
        return []
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    counts = np.diff(np.r_[starts, len(values)])
    return [[str(values[s]), int(n)] for s, n in zip(starts, counts, strict=True)]


def _province_outlines(
    simple: np.ndarray,
    province_of: np.ndarray,
    codes: Sequence[str],
    provinces: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """The provinces' outlines in lon/lat, simplified by ``step`` (0.01 degrees, about
    1.1 km, for a country; less for a smaller map), islands under ``step`` squared
    dropped (the areas on them load with their province), indexed by ``codes``.
    Provinces missing from ``provinces`` are dissolved from the areas."""
    x0, y0, x1, y1 = shapely.total_bounds(simple)
    step = min(0.01, max(x1 - x0, y1 - y0) / 500)
    given = (
        provinces.to_crs(4326).set_axis(provinces.index.astype(str))
        if provinces is not None
        else None
    )
    shapes, names = [], []
    for code in codes:
        if given is not None and code in given.index:
            shapes.append(given.geometry[code])
            names.append(str(given.loc[code, "name"]) if "name" in given else code)
            continue
        rows = simple[province_of == code]
        coarse = shapely.set_precision(shapely.simplify(rows, step / 2), step / 2)
        shapes.append(shapely.union_all(coarse, grid_size=step / 2))
        names.append(code)
    kept = []
    for shape in shapes:
        parts = shapely.get_parts(shape)
        size = shapely.area(parts)
        keep = (size >= step**2) | (size == size.max())
        kept.append(shapely.multipolygons(shapely.get_parts(parts[keep])))
    light = shapely.simplify(np.asarray(kept, dtype=object), step, preserve_topology=True)
    return gpd.GeoDataFrame({"name": names}, geometry=light, index=list(codes), crs=4326)


def _province_summary(
    table: pd.DataFrame, sentra: gpd.GeoDataFrame, chosen: Sequence[str], codes: Sequence[str]
) -> dict[str, dict[str, list[int]]]:
    """Per sector and province: its firms, hot-spot areas (specialisation bin > 0, or
    Gi* where the table has none) and sentra."""
    rows = table.reset_index()
    rows = rows.loc[rows["sector"].astype(str).isin(chosen)]
    by = [rows["area_code"].astype(str).str[:2], rows["sector"].astype(str)]
    firms = rows["n_firms"].groupby(by).sum() if "n_firms" in rows else None
    hot_bin = rows["spec_bin"] if "spec_bin" in rows else rows["gi_bin"]
    hot = (hot_bin.fillna(0) > 0).groupby(by).sum()
    count = None
    if len(sentra) and "core_area" in sentra and "sector" in sentra:
        core = sentra["core_area"].astype(str).str[:2]
        count = core.groupby([core, sentra["sector"].astype(str)]).size()

    def per_sector(series: pd.Series | None) -> dict[str, list[int]]:
        if series is None or series.empty:
            return {sector: [0] * len(codes) for sector in chosen}
        wide = series.unstack(fill_value=0).reindex(index=list(codes), columns=list(chosen))
        wide = wide.fillna(0).astype(np.int64)
        return {sector: wide[sector].tolist() for sector in chosen}

    return {"firms": per_sector(firms), "hot": per_sector(hot), "sentra": per_sector(count)}


def _outline_payload(outlines: gpd.GeoDataFrame, t: dict[str, str]) -> dict[str, Any] | None:
    """Administrative outlines: shapes, encoded as the areas are (lines only: the areas'
    tooltips name each area with its parent)."""
    if outlines.empty:
        return None
    light = light_shapes(outlines[["name", outlines.geometry.name]], tolerance_m=50)
    return {
        "q": Q,
        "label": t["outline"],
        "shapes": encode_shapes(light.geometry.to_numpy()),
    }


#: Sentra popup rows: column -> (label key of :data:`TEXT` or a literal label, digits).
_POPUP = (
    ("sentra_id", "sentra_id", None),
    ("name", "name", None),
    ("sector", "sector", None),
    ("n_firms", "firms_n", 0),
    ("workers", "workers", 0),
    ("output", "output", 1),
    ("lq", "LQ", 1),
    ("n_areas", "areas", 0),
    ("typology_label", "typology", None),
    ("stage", "stage", None),
    ("diamond_score", "diamond", 2),
    ("related_sectors", "related", None),
    ("missing_links", "missing_links", None),
    ("p_cluster", "prob", 2),
    ("p_lpm", "prob_lpm", 2),
    ("p_logit", "prob_logit", 2),
    ("p_probit", "prob_probit", 2),
)


#: Popup rows that are sums of a measure: shown as not available when missing.
_MEASURES = ("workers", "output", "investment")


def _sentra_payload(sentra: gpd.GeoDataFrame, t: dict[str, str], lang: str) -> dict[str, Any]:
    """Sentra polygons and their popups as rows of (label, text); the page sets every
    text as text."""
    if sentra.index.name == SENTRA_INDEX:  # the id is a popup row like the others
        sentra = sentra.reset_index()
    light = light_shapes(sentra)
    rows: list[list[list[str]]] = [[] for _ in range(len(light))]
    for column, key, digits in _POPUP:
        if column not in light.columns:
            continue
        label = t.get(key, key)
        values = light[column].tolist()
        if column == "stage":
            values = [
                messages.label("stage", v, lang) if messages.cell_text(v) else "" for v in values
            ]
        if column in ("related_sectors", "missing_links"):  # ;-joined KBLI codes
            values = [
                "; ".join(kbli.titled(c, lang=lang) for c in messages.cell_text(v).split(";") if c)
                for v in values
            ]
        if column == "sector" and "sector_label" in light.columns:
            values = [f"{s} {lab}" for s, lab in zip(values, light["sector_label"], strict=True)]
        # a value the disclosure rules suppressed says so (it is not missing)
        flags = (
            light[f"{column}_flag"].map(messages.cell_text).tolist()
            if f"{column}_flag" in light.columns
            else [""] * len(light)
        )
        for row, value, flag in zip(rows, values, flags, strict=True):
            text = (
                messages.number(value, lang, digits)
                if digits is not None
                else messages.cell_text(value)
            )
            if flag:
                text = t["suppressed"]
            elif not text and column in _MEASURES:
                text = t["not_available"]  # a measure nobody reported: missing, never 0
            if text:
                row.append([label, text])
    tooltips = [
        " - ".join(x for x in (messages.cell_text(n), messages.cell_text(lab)) if x)
        for n, lab in zip(
            light["name"] if "name" in light else [""] * len(light),
            light["sector_label"] if "sector_label" in light else [""] * len(light),
            strict=True,
        )
    ]
    return {
        "q": Q,
        "label": t["sentra"],
        "colour": SENTRA_COLOUR,
        "shapes": encode_shapes(light.geometry.to_numpy()),
        "ids": [messages.cell_text(v) for v in light["sentra_id"]] if "sentra_id" in light else [],
        "sectors": [messages.cell_text(v) for v in light["sector"]] if "sector" in light else [],
        "popups": rows,
        "tooltips": tooltips,
    }


def _firm_payload(firms: gpd.GeoDataFrame) -> dict[str, Any]:
    """Firms as delta-encoded integer coordinates (sorted by longitude), names and a
    sector index."""
    x = np.round(firms.geometry.x.to_numpy() * Q).astype(np.int64)
    y = np.round(firms.geometry.y.to_numpy() * Q).astype(np.int64)
    order = firm_order(firms)
    xy = _deltas(x[order], y[order])
    sector = firms["sector"].astype(str).to_numpy()[order]
    codes, index = np.unique(sector, return_inverse=True)
    names = (
        firms["name"].fillna("").astype(str).to_numpy()[order]
        if "name" in firms.columns
        else np.full(len(firms), "", dtype=object)
    )
    return {
        "q": Q,
        "n": len(firms),
        "xy": xy,
        "names": names.tolist(),
        "sectors": codes.tolist(),
        "sector": index.tolist(),
    }


def firm_order(firms: gpd.GeoDataFrame) -> np.ndarray:
    """The order of the firms in the page's firm data (by quantised longitude, then
    latitude): positions in ``firms``.

    Parameters
    ----------
    firms
        The firms drawn one by one (points).
    """
    x = np.round(firms.geometry.x.to_numpy() * Q).astype(np.int64)
    y = np.round(firms.geometry.y.to_numpy() * Q).astype(np.int64)
    return np.lexsort((y, x))


def _deltas(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Integer coordinates as the flat list of their first pair and the differences."""
    xy = np.column_stack([x, y])
    xy[1:] = np.diff(xy, axis=0)
    return xy.ravel().tolist()


def _links_payload(points: pd.DataFrame, lang: str) -> dict[str, Any]:
    """The firms of each sentra's related industries: delta-encoded coordinates and
    names grouped in runs ``[sentra_id, sector, start, stop]``, and each sector's title."""
    points = points.sort_values(["sentra_id", "related_sector"], kind="stable")
    x = np.round(points["lon"].to_numpy(dtype=float) * Q).astype(np.int64)
    y = np.round(points["lat"].to_numpy(dtype=float) * Q).astype(np.int64)
    keys = points[["sentra_id", "related_sector"]].astype(str)
    first = np.flatnonzero(keys.ne(keys.shift()).any(axis=1).to_numpy())
    stops = [*first[1:].tolist(), len(points)]
    runs = [
        [keys.iat[i, 0], keys.iat[i, 1], int(i), int(stop)]
        for i, stop in zip(first.tolist(), stops, strict=True)  # one per sentra and sector
    ]
    sectors = sorted(set(keys["related_sector"]))
    names = points["name"] if "name" in points else pd.Series("", index=points.index)
    return {
        "q": Q,
        "n": len(points),
        "xy": _deltas(x, y),
        "names": names.fillna("").astype(str).tolist(),
        "runs": runs,
        "titles": {code: kbli.titled(code, lang=lang) for code in sectors},
    }


#: Most cells of the firm-density grid of a map with more than ``max_firms`` firms.
MAX_GRID_CELLS = 100_000


def _density_payload(firms: pd.DataFrame | GridTally) -> dict[str, Any]:
    """Firms counted on a square grid in degrees, as delta-encoded cell centres with
    their counts (``w``): the finest grid of 0.005 x 2^k degrees (about 550 m at k = 0)
    with at most :data:`MAX_GRID_CELLS` occupied cells. No names, no single positions.
    ``firms`` may be points, a plain frame of ``lon`` and ``lat``, or the firms already
    counted block by block (:class:`~klastergeo.analysis.tally.GridTally`: a national
    registry, whose firms are never held)."""
    if isinstance(firms, GridTally):
        grid = firms
    else:
        grid = GridTally()
        if isinstance(firms, gpd.GeoDataFrame):
            grid.add(firms.geometry.x.to_numpy(), firms.geometry.y.to_numpy())
        else:
            grid.add(firms["lon"].to_numpy(dtype=float), firms["lat"].to_numpy(dtype=float))
    cell, ix, iy, weights = grid.cells(MAX_GRID_CELLS)
    x = np.round((ix + 0.5) * cell * Q).astype(np.int64)
    y = np.round((iy + 0.5) * cell * Q).astype(np.int64)
    order = np.lexsort((y, x))
    xy = np.column_stack([x[order], y[order]])
    xy[1:] = np.diff(xy, axis=0)
    return {
        "q": Q,
        "n": len(ix),
        "xy": xy.ravel().tolist(),
        "w": weights[order].tolist(),
        "cell": cell,
        "firms": grid.n_firms,
    }


def raw_element(markup: str) -> Any:
    """A branca element that writes ``markup`` as it is.

    ``folium.Element(text)`` compiles ``text`` as a jinja2 template, so a name holding
    ``{{ ... }}`` or ``{% raw %}`` would be evaluated or break the page; here the text is
    a variable of a fixed template and is never parsed.

    Parameters
    ----------
    markup
        The HTML to write into the page.
    """
    from branca.element import Element
    from jinja2 import Template

    class _Raw(Element):
        _template = Template("{{ this.markup }}")

        def __init__(self, text: str) -> None:
            super().__init__()
            self.markup = text

    return _Raw(markup)


def fullscreen_button(title: str, title_cancel: str) -> Any:
    """The map's full-screen button: what ``folium.plugins.Fullscreen(title=...,
    title_cancel=...)`` adds to a map (the same script, links and options, so the same
    page), without importing ``folium.plugins``, which builds the templates of all its
    forty plugins (about 0.1 s of a run).

    Parameters
    ----------
    title, title_cancel
        The button's titles, to enter and to leave full screen.
    """
    from branca.element import MacroElement
    from folium.elements import JSCSSMixin
    from folium.template import Template
    from folium.utilities import remove_empty

    class Fullscreen(JSCSSMixin, MacroElement):
        _template = Template(_FULLSCREEN_SCRIPT)

        def __init__(self) -> None:
            super().__init__()
            self._name = "Fullscreen"
            self.default_js = list(_FULLSCREEN_JS)
            self.default_css = list(_FULLSCREEN_CSS)
            self.options = remove_empty(
                position="topleft",
                title=title,
                title_cancel=title_cancel,
                force_separate_button=False,
            )

    return Fullscreen()


def _macro(script: str) -> Any:
    """A folium MacroElement class whose script is ``script`` (jinja2)."""
    from branca.element import MacroElement
    from folium.elements import JSCSSMixin
    from jinja2 import Template

    class _Element(JSCSSMixin, MacroElement):  # scripts in default_js go to the header
        _template = Template("{% macro script(this, kwargs) %}" + script + "{% endmacro %}")

    return _Element


class ScriptCall:
    """Adds one call of the page's script, ``script`` (jinja2, with ``{{ this.payload }}``
    standing for ``data`` as script-safe JSON), to a folium map."""

    def __init__(self, script: str, data: dict[str, Any]) -> None:
        self.script = script
        self.data = data
        self.default_js: list[tuple[str, str]] = []
        self.default_css: list[tuple[str, str]] = []

    def add_to(self, fmap: folium.Map) -> Any:
        # the payload is a variable of the template, never part of its source: a value
        # such as "{{ 7*7 }}" stays text
        element = _macro(self.script)()
        element.payload = script_json(self.data)
        if self.default_js:
            element.default_js = self.default_js
            element.default_css = self.default_css
        element.add_to(fmap)
        return element


_JSDELIVR = "https://cdn.jsdelivr.net/npm/"
_CLUSTER = "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"
#: The scripts and styles folium 0.20's ``MarkerCluster`` and ``Fullscreen`` plugins link
#: (named as there; inlined from :data:`_ASSETS`), and the full-screen button's script,
#: as that plugin's template has it.
_CLUSTER_JS = (("markerclusterjs", _CLUSTER + "leaflet.markercluster.js"),)
_CLUSTER_CSS = (
    ("markerclustercss", _CLUSTER + "MarkerCluster.css"),
    ("markerclusterdefaultcss", _CLUSTER + "MarkerCluster.Default.css"),
)
_FULLSCREEN_JS = (
    ("Control.Fullscreen.js", _JSDELIVR + "leaflet.fullscreen@3.0.0/Control.FullScreen.min.js"),
)
_FULLSCREEN_CSS = (
    ("Control.FullScreen.css", _JSDELIVR + "leaflet.fullscreen@3.0.0/Control.FullScreen.css"),
)
_FULLSCREEN_SCRIPT = """
        {% macro script(this, kwargs) %}
            L.control.fullscreen(
                {{ this.options|tojavascript }}
            ).addTo({{this._parent.get_name()}});
        {% endmacro %}
        """
#: CDN addresses folium links -> the vendored copy inlined instead (see assets/README.md).
_ASSETS = {
    _JSDELIVR + "leaflet@1.9.3/dist/leaflet.js": "leaflet.js",
    _JSDELIVR + "leaflet@1.9.3/dist/leaflet.css": "leaflet.css",
    _CLUSTER + "leaflet.markercluster.js": "leaflet.markercluster.js",
    _CLUSTER + "MarkerCluster.css": "MarkerCluster.css",
    _CLUSTER + "MarkerCluster.Default.css": "MarkerCluster.Default.css",
    _JSDELIVR + "leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": "Control.FullScreen.js",
    _JSDELIVR + "leaflet.fullscreen@3.0.0/Control.FullScreen.css": "Control.FullScreen.css",
    _OWN_JS: "klastergeo-map.js",
    _HEAT_JS: "leaflet-heat.js",
    EXPLORE_JS: "klastergeo-explore.js",
}
_SCRIPT = re.compile(r'<script src="([^"]+)"></script>')
_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"\s*/?>')


def _asset(url: str) -> str | None:
    name = _ASSETS.get(url)
    if name is None:
        return None
    return (
        resources.files("klastergeo.publish").joinpath(f"assets/{name}").read_text(encoding="utf-8")
    )


def inline_assets(html: str) -> str:
    """Replace linked scripts and stylesheets by their vendored copies.

    A link with no vendored copy stays (and is logged): the page then needs the network.

    Parameters
    ----------
    html
        The HTML of a rendered map page.
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


def save_map(fmap: folium.Map, path: str | Path) -> Path:
    """Write the map as one self-contained HTML file (scripts and styles inlined), atomically.

    A split map (:func:`build_map` with more than ``max_areas`` areas) also writes its
    province scripts into the folder named like the page, beside it (``map.html``:
    ``map/33.js``, ...), before the page.

    Parameters
    ----------
    fmap
        The folium map (:func:`build_map`).
    path
        The HTML file, replaced only once it is written whole.

    Returns
    -------
    Path
        ``path``.
    """
    split = getattr(fmap, "klastergeo_split", None)
    if split is not None:
        _save_provinces(split, Path(path))
    html = inline_assets(stable_ids(fmap, fmap.get_root().render()))
    lang = getattr(fmap, "klastergeo_lang", None)
    if lang is not None:
        html = html.replace("<html>", f'<html lang="{lang}">', 1)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    size = Path(path).stat().st_size
    logger.info("map: %s (%.1f MB)", path, size / 1e6)
    return Path(path)


def _elements(element: Any) -> Iterator[Any]:
    """``element`` and every element below it, in the order of the page: children in
    the order they were added (a figure's header, body and script parts first)."""
    yield element
    for part in ("header", "html", "script"):
        inner = getattr(element, part, None)
        if inner is not None and hasattr(inner, "_children"):
            yield from _elements(inner)
    for child in getattr(element, "_children", {}).values():
        yield from _elements(child)


def stable_ids(fmap: folium.Map, page: str) -> str:
    """``page`` (the rendered ``fmap``) with folium's element ids, which are random
    (``os.urandom``, so every run wrote another page), replaced by ids counted in the
    order of the map's elements: the same map gives the same bytes.

    An id is replaced wherever the page names its element (``map_<id>``, and the names
    a script took when the map was built), never inside other text: only the ids of the
    map's own elements are looked for, after their ``_``.

    Parameters
    ----------
    fmap
        The folium map.
    page
        Its rendered HTML (``fmap.get_root().render()``).
    """
    ids = list(dict.fromkeys(e._id for e in _elements(fmap.get_root()) if hasattr(e, "_id")))
    if not ids:
        return page
    counted = {
        old: hashlib.sha256(f"klastergeo-element-{n}".encode()).hexdigest()[:32]
        for n, old in enumerate(ids)
    }
    return _ELEMENT_ID.sub(lambda m: "_" + counted.get(m.group(1), m.group(1)), page)


#: An element id where a page names its element: after the ``_`` of ``map_<id>``.
_ELEMENT_ID = re.compile(r"_([0-9a-f]{32})(?![0-9a-f])")


def _save_provinces(split: _Split, path: Path) -> None:
    """A split map's province scripts, in the folder named like the page (``map.html``:
    ``map/``), each written atomically; the page learns the folder's name."""
    folder = path.with_suffix("")
    total = 0
    for code, payload in split.files.items():
        target = folder / f"{code}.js"
        with atomic_path(target) as tmp:
            tmp.write_text(
                f"klastergeo.province({script_json(code)}, {script_json(payload)});\n",
                encoding="utf-8",
            )
        total += target.stat().st_size
    split.element.payload = script_json({**split.data, "folder": folder.name})
    logger.info("map: %d province files in %s (%.1f MB)", len(split.files), folder, total / 1e6)
