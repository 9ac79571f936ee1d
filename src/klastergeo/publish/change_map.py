"""The map of a multi-period run: the sentra of every period and how each lineage
changed, in one self-contained page (folium / Leaflet, the same page script as the run's
map).

A selector shows either one period's sentra, each coloured by its lineage's trend, or the
*change* view: every lineage once, in the shape of its last period, coloured by its
trend, with its indicators per period (firms, workers, output) and their change in the
popup. Every text reaches the page as JSON and is set as text.

With three periods or more, the areas' emerging hot-spot categories
(:func:`klastergeo.analysis.dynamics.emerging_hot_spots`) lie under the sentra, one
sector at a time (a selector), coloured as ArcGIS Pro's Emerging Hot Spot Analysis
colours them (:data:`EMERGING_COLOURS`: hot spots in reds, cold spots in blues, no
pattern not drawn), with a legend of the categories shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from klastergeo import kbli
from klastergeo.publish import messages
from klastergeo.publish.figures import TREND_COLOURS
from klastergeo.publish.maps import (
    EXPLORE_JS,
    PAGE_CSS,
    Q,
    ScriptCall,
    base_map,
    encode_shapes,
    light_shapes,
    page_head,
    raw_element,
    title_block,
)

__all__ = ["EMERGING_COLOURS", "build_change_map", "emerging_payload"]

#: The fill of each emerging hot-spot category, as ArcGIS Pro's Emerging Hot Spot Analysis
#: output has them (new, consecutive, intensifying and persistent hot spots in its
#: colours; the other hot spots graded reds, every cold spot the blue of its hot twin);
#: "no pattern" is not drawn. In the legend's order (ArcGIS's).
EMERGING_COLOURS: dict[str, str | None] = {
    "new hot spot": "#cb0800",
    "consecutive hot spot": "#bd6d5e",
    "intensifying hot spot": "#e01709",
    "persistent hot spot": "#851400",
    "diminishing hot spot": "#f4a582",
    "sporadic hot spot": "#e7846e",
    "oscillating hot spot": "#d6604d",
    "historical hot spot": "#fddbc7",
    "new cold spot": "#0008cb",
    "consecutive cold spot": "#5e6dbd",
    "intensifying cold spot": "#0917e0",
    "persistent cold spot": "#001485",
    "diminishing cold spot": "#92c5de",
    "sporadic cold spot": "#6e84e7",
    "oscillating cold spot": "#4d60d6",
    "historical cold spot": "#d1e5f0",
    "no pattern": None,
}


def build_change_map(
    sentra: gpd.GeoDataFrame,
    lineages: pd.DataFrame,
    *,
    periods: Sequence[str],
    lang: str = "id",
    tiles: str = "OpenStreetMap",
    attribution: str | None = None,
    title: str | None = None,
    source: str | None = None,
    areas: gpd.GeoDataFrame | None = None,
    emerging: pd.DataFrame | None = None,
    outlines: Sequence[gpd.GeoDataFrame] = (),
    created: Any = None,
) -> Any:
    """The change map (see the module's text).

    Parameters
    ----------
    sentra
        Every period's sentra polygons with ``period``, ``sentra_id`` and ``lineage_id``.
    lineages
        The lineages (:func:`klastergeo.analysis.dynamics.lineages`), indexed by ``lineage_id``.
    periods
        The periods in time order.
    lang
        ``"id"`` or ``"en"``.
    tiles, attribution
        The base map, as for :func:`klastergeo.publish.maps.build_map`.
    title
        The page's title (default: the language's title of a multi-period run).
    source
        The data source named under the title; or None.
    areas
        The areas (indexed by code, ``name`` and ``geometry``) of the emerging hot
        spots; None for no emerging hot-spot layer.
    emerging
        The emerging hot-spot categories (``category``), indexed by ``area_code`` and
        ``sector``; None (or with ``areas`` None) for no layer.
    outlines
        Outlines drawn faintly under the sentra, finest first (e.g. the areas, then the
        study area's kecamatan), each simplified to 100 m and drawn a little stronger
        than the one before: with ``tiles="none"`` the sentra do not float on grey.
    created
        The run's time (an ISO timestamp, summary.json's ``created``, or a date): the
        page's "made" date; None for today (a page outside a run).

    Returns
    -------
    folium.Map
        The map; :func:`klastergeo.publish.maps.save_map` writes it.
    """
    t = messages.text("dynamics", lang)
    trend_names = messages.text("trends", lang)
    fmap, _ = base_map(sentra, tiles, attribution)
    views: dict[str, Any] = {}
    for period in periods:  # periods (a few); sentra (tens)
        rows = sentra.loc[sentra["period"].astype(str) == str(period)]
        views[str(period)] = _view(rows, lineages, periods, lang)
    last = (
        sentra.assign(
            _order=sentra["period"].astype(str).map({str(p): k for k, p in enumerate(periods)})
        )
        .sort_values("_order")
        .dissolve(by=["lineage_id", "_order"], as_index=False)
        .drop_duplicates("lineage_id", keep="last")
    )
    payload = {
        "q": Q,
        "periods": [str(p) for p in periods],
        "views": views,
        "change": _view(last, lineages, periods, lang),
        "colours": TREND_COLOURS,
        "trends": {k: trend_names[k] for k in TREND_COLOURS},
        "text": {"period": t["periods"], "change": t["change"], "trend": t["trend"]},
        "outlines": [_outline_shapes(frame) for frame in outlines if not frame.empty],
    }
    ScriptCall(
        "klastergeo.changeView({{ this._parent.get_name() }}, {{ this.payload }});", payload
    ).add_to(fmap)
    if areas is not None and emerging is not None and len(emerging):
        call = ScriptCall(
            "klastergeo.emergingView({{ this._parent.get_name() }}, {{ this.payload }});",
            emerging_payload(areas, emerging, lang=lang),
        )
        call.default_js = [("klastergeo_explore", EXPLORE_JS)]
        call.add_to(fmap)
    root = cast(Any, fmap.get_root())
    map_text = messages.text("map", lang)
    # the run's own day (a re-run with its timestamp writes the same bytes), as the
    # language writes it, never ISO
    made = messages.date(date.today() if created is None else created, lang)
    root.html.add_child(raw_element(title_block(title or t["title"], source, map_text, made)))
    root.header.add_child(raw_element(PAGE_CSS))
    page_head(fmap, title or t["title"], lang)
    return fmap


def _outline_shapes(outlines: gpd.GeoDataFrame) -> list[Any]:
    """The outlines' encoded polygons (simplified to 100 m; drawn unfilled)."""
    shapes = light_shapes(outlines[[outlines.geometry.name]], tolerance_m=100)
    return list(encode_shapes(shapes.geometry.to_numpy()))


def _view(
    rows: gpd.GeoDataFrame, lineages: pd.DataFrame, periods: Sequence[str], lang: str
) -> dict[str, Any]:
    """One view's shapes, trends, tooltips and popups (rows of label and text)."""
    t = messages.text("dynamics", lang)
    trend_names = messages.text("trends", lang)
    light = light_shapes(rows[["lineage_id", rows.geometry.name]].reset_index(drop=True))
    info = lineages.reindex(rows["lineage_id"].to_numpy())
    popups = []
    for lineage, row in zip(rows["lineage_id"], info.itertuples(), strict=True):  # tens
        lines = [
            [t["lineage_id"], str(lineage)],
            [t["name"], str(getattr(row, "name", "") or "")],
            [t["sector"], kbli.titled(str(row.sector), lang=lang)],
            [t["trend"], trend_names.get(str(row.trend), str(row.trend))],
        ]
        data = lineages.loc[lineage]
        for period in periods:
            firms = data.get(f"n_firms_{period}", np.nan)
            if pd.notna(firms):
                lines.append([f"{t['firms']} {period}", messages.number(firms, lang)])
        growth = data.get("firms_growth", np.nan)
        if pd.notna(growth):
            lines.append([t["firms_growth"], f"{messages.number(100 * growth, lang, 0)} %"])
        popups.append(lines)
    return {
        "shapes": encode_shapes(light.geometry.to_numpy()),
        "trends": [str(x) for x in info["trend"]],
        "tooltips": [
            f"{name} - {trend_names.get(str(trend), str(trend))}"
            for name, trend in zip(info["name"].astype(str), info["trend"], strict=True)
        ],
        "popups": popups,
    }


def emerging_payload(
    areas: gpd.GeoDataFrame, emerging: pd.DataFrame, *, lang: str = "id"
) -> dict[str, Any]:
    """The emerging hot-spot layer's data: the shapes of the areas with a category other
    than "no pattern" in some sector, and per sector one character per such area (the
    position of its category in ``categories``; 0 is "no pattern").

    Parameters
    ----------
    areas
        The areas, indexed by code, with ``name`` and ``geometry``.
    emerging
        ``category`` per (``area_code``, ``sector``).
    lang
        ``"id"`` or ``"en"``: the categories' and sectors' names.
    """
    named = messages.text("emerging", lang)
    t = messages.text("explore", lang)
    categories = ["no pattern", *(c for c in EMERGING_COLOURS if c != "no pattern")]
    frame = emerging.reset_index()
    frame = frame.loc[
        frame["category"].astype(str).isin(categories[1:]) & frame["area_code"].isin(areas.index)
    ]
    codes = pd.Index(sorted(set(frame["area_code"])))
    shown = light_shapes(areas.loc[codes, ["name", areas.geometry.name]])
    sectors = sorted(set(frame["sector"].astype(str)))
    position = codes.get_indexer(pd.Index(frame["area_code"]))
    code = pd.Index(categories).get_indexer(pd.Index(frame["category"].astype(str)))
    by_sector = {}
    for sector in sectors:  # sectors (tens); areas are vectorised
        column = np.zeros(len(codes), dtype=np.int64)
        mine = (frame["sector"].astype(str) == sector).to_numpy()
        column[position[mine]] = code[mine]
        by_sector[sector] = "".join(map(chr, (column + 48).tolist()))
    return {
        "q": Q,
        "shapes": encode_shapes(shown.geometry.to_numpy()),
        "names": shown["name"].astype(str).tolist(),
        "sectors": sectors,
        "sectorLabels": {x: kbli.titled(x, lang=lang) for x in sectors},
        "categories": categories,
        "labels": [named.get(c, c) for c in categories],
        "colours": [EMERGING_COLOURS[c] for c in categories],
        "codes": by_sector,
        "text": {"title": t["emerging"], "sector": t["emerging_sector"], "none": t["no_layer"]},
    }
