"""The map of a multi-period run: the sentra of every period and how each lineage
changed, in one self-contained page (folium / Leaflet, the same page script as the run's
map).

A selector shows either one period's sentra, each coloured by its lineage's trend, or the
*change* view: every lineage once, in the shape of its last period, coloured by its
trend, with its indicators per period (firms, workers, output) and their change in the
popup. Every text reaches the page as JSON and is set as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from klastergeo import kbli
from klastergeo.publish import messages
from klastergeo.publish.figures import TREND_COLOURS
from klastergeo.publish.maps import (
    PAGE_CSS,
    Q,
    ScriptCall,
    base_map,
    encode_shapes,
    light_shapes,
    raw_element,
    title_block,
)

__all__ = ["build_change_map"]


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
    }
    ScriptCall(
        "klastergeo.changeView({{ this._parent.get_name() }}, {{ this.payload }});", payload
    ).add_to(fmap)
    root = cast(Any, fmap.get_root())
    map_text = messages.text("map", lang)
    root.html.add_child(raw_element(title_block(title or t["title"], source, map_text)))
    root.header.add_child(raw_element(PAGE_CSS))
    return fmap


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
