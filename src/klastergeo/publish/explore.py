"""Exploration in the run's map page: a Moran scatterplot linked to the map and a
significance filter (``assets/klastergeo-explore.js`` draws both).

**Scatterplot.** For the selected sector and measure (the payload is keyed by measure,
then sector: the firm counts, and with ``--measure`` each measure's area sums, the values
its LISA used) each area is a point: its value standardised over the areas of the
spatial weights (x) against the row-standardised spatial lag of that standardised value
(y), as in GeoDa; the slope of the line through the origin is Moran's I. A measure's
area sums suppressed by the disclosure rules (blank in ``measures.csv``) never reach the
page: those areas are left out of the scatterplot, the others standardised and lagged
over the areas shown (the lag over their shown neighbours), and the panel says how many
areas are left out (the Moran's I shown is then that of the areas shown). The page draws
both axes on an inverse hyperbolic sine scale (linear near 0, logarithmic beyond), with
ticks labelled in standardised units, so the sentra villages (the extreme high-high
points) are inside the plot, never clipped. Points are coloured by the area's LISA
cluster as the map shows it (after the filter). Dragging a rectangle over points
highlights their areas on the map; clicking an area highlights its point.

Size: the page computes the values' standardisation, their lags and Moran's I itself,
from the spatial weights shipped once for every sector (:func:`graph_payload`: a
pair of neighbours costs one or two characters, about 40,000 for the 8,563 villages
of Jawa Tengah) and the firm counts its tooltips hold already; another measure ships its
values (:func:`scatter_payload` with ``index``: an integer per area, one character for
an area without the sector's firms). So the lags are exact, and the
scatterplot costs next to nothing per sector.

**Filter.** At 0.05, 0.01 or 0.001, with or without Benjamini-Hochberg control of the
false discovery rate (within each sector and statistic, as
:func:`klastergeo.analysis.autocorrelation.fdr_adjust`), an area of the shown statistic
(specialisation, Gi*, LISA) whose p-value does not pass is drawn not significant; one
that passes gets its class from its p-value (Gi* and specialisation: the ArcGIS bins by
confidence, +-3 at 0.01, +-2 at 0.05; LISA: its quadrant). The p-values are the raw ones
(before any correction the run applied); only those at or below the largest level
(0.05) are shipped, with the count of tests per sector (which is all BH needs to decide
at 0.05 or below): in thousandths when they are permutation p-values (k / 1000, exact),
else in millionths. With measures, each measure has its own p-values (``filters``), and
the page filters the measure chosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from klastergeo.publish import messages
from klastergeo.publish.maps import LISA_COLOURS, varint_text

if TYPE_CHECKING:
    from libpysal.graph import Graph

__all__ = [
    "COLOCATION_COLOURS",
    "FILTER_LEVELS",
    "P_UNITS",
    "ExploreInput",
    "FirmColocation",
    "colocation_payload",
    "explore_payload",
    "filter_payload",
    "graph_payload",
    "scatter_payload",
    "value_scale",
    "zigzag",
]

#: p-values are shipped in millionths.
P_UNITS = 1_000_000
#: The filter's levels; the largest decides which p-values are shipped.
FILTER_LEVELS = (0.05, 0.01, 0.001)
#: The colours of a firm's co-location category (co-located, isolated, not significant).
COLOCATION_COLOURS = ("#d7301f", "#2b8cbe", "#bdbdbd")
#: The statistics the filter applies to and their raw p-value column by default.
DEFAULT_P_COLUMNS: Mapping[str, str] = {"spec": "spec_p", "gi": "gi_p", "lisa": "lisa_p_sim"}


@dataclass(frozen=True)
class ExploreInput:
    """What the scatterplot and the filter need besides the map's table.

    Parameters
    ----------
    values
        Per measure (``"firms"``, ``"workers"`` ...), a wide frame: one row per area
        (the ids of ``graph``), one column per sector: the values the LISA used; NaN
        for a suppressed sum (measures other than firms), which the page never gets.
    graph
        The spatial weights of the run (row-standardised for the lag).
    p_columns
        Per statistic (``spec``, ``gi``, ``lisa``), the table's column of its raw
        p-value (before any FDR correction); a statistic left out is not filtered.
    global_p
        Global Moran's I p-value per sector (shown beside I); or None.
    tables
        Per measure other than firms, its published statistics per (``area_code``,
        ``sector``) (``measures.csv``): the filter's p-values of that measure.
    """

    values: Mapping[str, pd.DataFrame]
    graph: Graph
    p_columns: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_P_COLUMNS))
    global_p: pd.Series | None = None
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def payload(
        self, table: pd.DataFrame, index: pd.Index, sectors: Sequence[str], lang: str
    ) -> dict[str, Any]:
        """The page's data (:func:`explore_payload`).

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
        return explore_payload(self, table, index, sectors, lang)


@dataclass(frozen=True)
class FirmColocation:
    """Each firm's co-location category per sector pair, for the map's layer.

    Parameters
    ----------
    categories
        Indexed like the map's firms, one column per pair ``"31>16"``: 0 a firm of
        another sector, 1 co-located, 2 isolated, 3 not significant.
    """

    categories: pd.DataFrame

    def payload(self, index: pd.Index, order: np.ndarray, lang: str) -> dict[str, Any]:
        """The layer's data for the firms drawn (:func:`colocation_payload`).

        Parameters
        ----------
        index
            The index of the firms drawn.
        order
            Their order in the firm data block.
        lang
            ``"id"`` or ``"en"``.
        """
        return colocation_payload(self.categories.reindex(index), order, lang)


def zigzag(values: np.ndarray) -> np.ndarray:
    """Signed integers as non-negative ones (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...).

    Parameters
    ----------
    values
        Integers.

    Examples
    --------
    >>> zigzag(np.array([0, -1, 1, -2])).tolist()
    [0, 1, 2, 3]
    """
    v = np.asarray(values, dtype=np.int64)
    return np.where(v < 0, -2 * v - 1, 2 * v)


def _standardised_lag(
    values: np.ndarray, graph: Graph, shown: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``values`` standardised (population standard deviation, as GeoDa and esda) and
    their row-standardised spatial lag; with ``shown``, over the areas shown only (the
    lag over an area's shown neighbours, 0 without any), 0 for the others."""
    if shown is None or shown.all():
        sd = values.std()
        z = (values - values.mean()) / sd
        return z, np.asarray(graph.transform("r").sparse @ z)
    kept = values[shown]
    z = np.zeros(len(values))
    z[shown] = (kept - kept.mean()) / kept.std()
    matrix = graph.sparse.tocsr()[shown][:, shown]
    totals = np.asarray(matrix.sum(axis=1)).ravel()
    lag = np.zeros(len(values))
    with np.errstate(divide="ignore", invalid="ignore"):
        lag[shown] = np.where(totals > 0, (matrix @ z[shown]) / totals, 0.0)
    return z, lag


def value_scale(values: np.ndarray) -> int:
    """The power of ten that makes ``values`` (not negative) integers, or, when none up to
    10^6 does, the largest that keeps them below 2^50 (exact in a page's numbers).

    Parameters
    ----------
    values
        Finite values, not negative.

    Examples
    --------
    >>> value_scale(np.array([3.0, 12.5, 0.25]))
    100
    """
    top = float(np.max(values)) if len(values) else 0.0
    for k in range(7):
        scale = 10**k
        scaled = values * scale
        if top * scale >= 2.0**50:
            return max(1, scale // 10)
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return scale
    return 10**6


def graph_payload(graph: Graph, index: pd.Index) -> dict[str, Any]:
    """The spatial weights among the map's areas, for the page to compute the lags.

    Parameters
    ----------
    graph
        The spatial weights.
    index
        The map's areas, in its order.

    Returns
    -------
    dict
        ``deg``: per area its number of neighbours plus one (0: outside the graph);
        ``nb``: per area in turn, its neighbours' positions in ``index``, the first as
        its distance to the area (zigzag-encoded), the next as gaps; ``w``: the weights
        in thousandths in the same order, or None when every weight is 1 (contiguity,
        k nearest, distance band). Both as variable-length characters. When the
        weights are ``symmetric`` (contiguity, distance bands), each pair is listed once,
        under its lower position (``deg`` counts those), and holds both ways.
    """
    edges = graph.adjacency.reset_index()
    focal = index.get_indexer(pd.Index(edges.iloc[:, 0]))
    other = index.get_indexer(pd.Index(edges.iloc[:, 1]))
    weight = edges.iloc[:, 2].to_numpy(dtype=float)
    keep = (focal >= 0) & (other >= 0) & (weight != 0)  # an island's self-loop of 0 goes
    focal, other, weight = focal[keep], other[keep], weight[keep]
    order = np.lexsort((other, focal))
    focal, other, weight = focal[order], other[order], weight[order]
    # symmetric weights (contiguity, distance bands): each pair once, from its lower end
    back = np.lexsort((focal, other))
    symmetric = bool(
        np.array_equal(focal, other[back])
        and np.array_equal(other, focal[back])
        and np.array_equal(weight, weight[back])
    )
    if symmetric:
        upper = other > focal
        focal, other, weight = focal[upper], other[upper], weight[upper]
    first = np.r_[True, focal[1:] != focal[:-1]] if len(focal) else np.zeros(0, dtype=bool)
    steps = np.where(first, zigzag(other - focal), np.r_[0, np.diff(other)])
    inside = index.isin(pd.Index(graph.unique_ids))
    degree = np.bincount(focal, minlength=len(index))
    binary = bool(np.all(weight == 1.0))
    return {
        "deg": varint_text(np.where(inside, degree + 1, 0)),
        "nb": varint_text(steps),
        "w": None if binary else varint_text(np.round(weight * 1000).astype(np.int64)),
        "symmetric": symmetric,
    }


def scatter_payload(
    values: pd.DataFrame,
    graph: Graph,
    sectors: Sequence[str],
    *,
    index: pd.Index | None = None,
    scale: int | None = None,
    global_p: pd.Series | None = None,
) -> dict[str, Any]:
    """Per sector, what the page needs besides the weights to draw its scatterplot.

    Parameters
    ----------
    values
        One row per area of ``graph``, one column per sector; NaN for an area left out
        (a suppressed sum; only with ``index``).
    graph
        The spatial weights.
    sectors
        The sectors of the map's selector.
    index
        The map's areas, in its order, to ship the values in (a measure the page does
        not hold); None for firm counts, which the page's tooltips hold already.
    scale
        Shipped values are ``round(value * scale)``; None: per sector, the power of ten
        that keeps them exact (:func:`value_scale`).
    global_p
        Global Moran's I p-value per sector; or None.

    Returns
    -------
    dict
        Per sector: ``I`` (Moran's I of the areas shown, a check of the page's own),
        ``p`` (its p-value, or None) and, with ``index``, ``x`` (the values as integers
        plus one, 0 for an area outside the graph or left out), ``scale`` and ``o`` (the
        areas of the graph left out). A sector constant over the areas shown has none.
    """
    ids = pd.Index(graph.unique_ids)
    out: dict[str, Any] = {}
    for sector in sectors:  # a loop over sectors (tens); areas are vectorised
        if sector not in values.columns:
            continue
        column = values[sector].reindex(ids).to_numpy(dtype=float)
        shown = np.isfinite(column)
        if (index is None and not shown.all()) or shown.sum() < 2:
            continue
        if column[shown].std() == 0:
            continue
        z, lag = _standardised_lag(column, graph, shown)
        p = None
        if global_p is not None and sector in global_p.index and np.isfinite(global_p[sector]):
            p = float(f"{float(global_p[sector]):.3g}")
        slope = (z[shown] @ lag[shown]) / (z[shown] @ z[shown])
        entry: dict[str, Any] = {"I": round(float(slope), 4), "p": p}
        if index is not None:
            factor = value_scale(column[shown]) if scale is None else scale
            where = ids.get_indexer(index)
            x = np.zeros(len(index), dtype=np.int64)
            at = np.flatnonzero(where >= 0)
            v = column[where[at]]
            x[at] = np.where(np.isfinite(v), np.round(np.nan_to_num(v) * factor) + 1, 0)
            entry.update(
                {"x": varint_text(np.maximum(x, 0)), "scale": factor, "o": int((~shown).sum())}
            )
        out[str(sector)] = entry
    return out


def _quadrants(z: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """GeoDa's LISA codes by the signs (1 HH, 2 LL, 3 LH, 4 HL), as the engine has them."""
    return np.where(z > 0, np.where(lag > 0, 1, 4), np.where(lag > 0, 3, 2))


def filter_payload(
    table: pd.DataFrame,
    index: pd.Index,
    sectors: Sequence[str],
    *,
    p_columns: Mapping[str, str],
    lisa_sides: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Per statistic and sector, the raw p-values at or below 0.05 of the areas of
    ``index`` (the map's order), with the side of each (hot/cold, or the LISA quadrant).

    Parameters
    ----------
    table
        The area x sector table (``spec_z``, ``gi_z`` and the ``p_columns``).
    index
        The map's areas, in its order.
    sectors
        The sectors of the map's selector.
    p_columns
        Per statistic, the column of its raw p-value.
    lisa_sides
        Per sector, each area's LISA quadrant by sign (1-4, 0 without one), in the
        order of ``index``; without it the LISA is not filtered.

    Returns
    -------
    dict
        ``{stat: {sector: {"m": tests, "u": units, "i": positions (gaps), "p": the
        p-values in units of 1 / u, "s": sides}}}``; ``u`` is 1,000 when every shipped
        p-value is a multiple of 0.001 (permutations), else 1,000,000; ``s`` is one
        character per shipped area: ``"0"``/``"1"`` cold/hot, or the quadrant
        ``"1"``-``"4"``. A sector without any raw p-value of a statistic (withheld by
        disclosure control) has no entry: the page shows it as computed and says so.
    """
    out: dict[str, Any] = {}
    for stat, column in p_columns.items():
        if column not in table.columns or (stat == "lisa" and lisa_sides is None):
            continue
        if stat != "lisa" and f"{stat}_z" not in table.columns:
            continue
        by_sector = {}
        for sector in sectors:  # a loop over sectors (tens); areas are vectorised
            rows = pd.DataFrame(table.xs(sector, level="sector")).reindex(index)
            p = rows[column].to_numpy(dtype=float)
            if stat == "lisa":
                assert lisa_sides is not None
                if sector not in lisa_sides:
                    continue
                side = lisa_sides[sector]
                known = np.ones(len(p), dtype=bool)
            else:
                side, known = _hot_side(rows, stat)
            finite = np.isfinite(p)
            if not finite.any():  # withheld (disclosure) or not computed: the page says
                continue  # it shows this sector as computed, never "nothing passes"
            keep = np.flatnonzero(finite & known & (p <= max(FILTER_LEVELS)))
            # permutation p-values (k / 1000) in thousandths, the others in millionths
            thousandths = p[keep] * 1000
            unit = 1000 if np.allclose(thousandths, np.round(thousandths), atol=1e-6) else P_UNITS
            by_sector[str(sector)] = {
                "m": int(finite.sum()),
                "u": unit,
                "i": varint_text(np.diff(keep, prepend=0)),
                "p": varint_text(np.round(p[keep] * unit).astype(np.int64)),
                "s": "".join(map(chr, (np.asarray(side)[keep] + 48).tolist())),
            }
        out[stat] = by_sector
    return out


def _hot_side(rows: pd.DataFrame, stat: str) -> tuple[np.ndarray, np.ndarray]:
    """Each area's side (1 hot, 0 cold) of ``spec`` or ``gi`` by the sign of its z-score,
    or, where the z-score is blank (a measure's sector with a suppressed sum), of its bin;
    and whether the side is known (not where both are blank or 0)."""
    z = rows[f"{stat}_z"].to_numpy(dtype=float)
    column = f"{stat}_bin"
    bins = rows[column].fillna(0).to_numpy(dtype=float) if column in rows else np.zeros(len(z))
    finite = np.isfinite(z)
    hot = np.where(finite, z > 0, bins > 0)
    return hot.astype(np.int64), finite | (bins != 0)


def explore_payload(
    data: ExploreInput, table: pd.DataFrame, index: pd.Index, sectors: Sequence[str], lang: str
) -> dict[str, Any]:
    """The page's exploration data: the scatterplots, the filter and their texts.

    Parameters
    ----------
    data
        The values per measure, the graph and the raw p-value columns.
    table
        The area x sector table of the map.
    index
        The map's areas, in its order.
    sectors
        The sectors of the map's selector.
    lang
        ``"id"`` or ``"en"``.
    """
    t = messages.text("explore", lang)
    measures = {  # firm counts are in the page's tooltips already
        measure: scatter_payload(
            frame,
            data.graph,
            sectors,
            index=None if measure == "firms" else index,
            global_p=data.global_p if measure == "firms" else None,
        )
        for measure, frame in data.values.items()
    }
    sides = _lisa_sides(data, index, sectors)
    filters = {  # each measure's own p-values
        measure: filter_payload(
            data.tables[measure],
            index,
            [s for s in sectors if s in set(data.tables[measure].index.get_level_values("sector"))],
            p_columns=data.p_columns,
            lisa_sides=_measure_sides(data, measure, index, sectors),
        )
        for measure in measures
        if measure != "firms" and measure in data.tables
    }
    return {
        "measure": next(iter(measures), None),
        "measures": measures,
        "measureLabels": {m: t.get(f"measure_{m}", m) for m in measures},
        "graph": graph_payload(data.graph, index),
        "pUnits": P_UNITS,
        "levels": list(FILTER_LEVELS),
        "filter": filter_payload(table, index, sectors, p_columns=data.p_columns, lisa_sides=sides),
        "filters": filters,
        "lisaColours": [None, *(LISA_COLOURS[q] for q in (1, 2, 3, 4))],
        "text": {
            key: t[key]
            for key in (
                "scatter",
                "x",
                "y",
                "filter",
                "as_run",
                "fdr",
                "selected",
                "clear",
                "hint",
                "no_scatter",
                "hide",
                "show",
                "zoom",
                "not_filtered",
                "suppressed_out",
            )
        },
    }


def _measure_sides(
    data: ExploreInput, measure: str, index: pd.Index, sectors: Sequence[str]
) -> dict[str, Any]:
    """Per sector, each area's LISA quadrant of a measure: the published one where the
    run found it significant, else by the signs of its standardised value and lag over
    the areas shown (0 for an area left out: its sum is suppressed)."""
    frame = data.values[measure]
    table = data.tables[measure]
    ids = pd.Index(data.graph.unique_ids)
    where = ids.get_indexer(index)
    out = {}
    for sector in sectors:  # sectors (tens)
        if sector not in frame.columns or sector not in table.index.get_level_values("sector"):
            continue
        column = frame[sector].reindex(ids).to_numpy(dtype=float)
        shown = np.isfinite(column)
        codes = np.zeros(len(index), dtype=np.int64)
        if shown.sum() >= 2 and column[shown].std() > 0:
            z, lag = _standardised_lag(column, data.graph, shown)
            by_sign = np.where(shown, _quadrants(z, lag), 0)
            codes[where >= 0] = by_sign[where[where >= 0]]
        published = table.xs(sector, level="sector")["lisa_quadrant"].reindex(index)
        published = published.fillna(0).to_numpy(dtype=np.int64)
        out[sector] = np.where(published > 0, published, codes)
    return out


def _lisa_sides(data: ExploreInput, index: pd.Index, sectors: Sequence[str]) -> dict[str, Any]:
    """Per sector, each area's LISA quadrant by the signs of its standardised firm count
    and lag (0 outside the graph)."""
    frame = data.values.get("firms")
    if frame is None:
        return {}
    ids = pd.Index(data.graph.unique_ids)
    where = ids.get_indexer(index)
    out = {}
    for sector in sectors:  # sectors (tens)
        if sector not in frame.columns:
            continue
        column = frame[sector].reindex(ids).to_numpy(dtype=float)
        if np.isnan(column).any() or column.std() == 0:
            continue
        z, lag = _standardised_lag(column, data.graph)
        codes = np.zeros(len(index), dtype=np.int64)
        codes[where >= 0] = _quadrants(z, lag)[where[where >= 0]]
        out[sector] = codes
    return out


def colocation_payload(categories: pd.DataFrame, order: np.ndarray, lang: str) -> dict[str, Any]:
    """The per-firm co-location layer's data, part of the page's firm data block.

    Parameters
    ----------
    categories
        Per firm (in the order of the firms given to the map), one column per pair
        ``"31>16"``: 0 another sector, 1 co-located, 2 isolated, 3 not significant.
    order
        The firms' order in the firm data block (:func:`klastergeo.publish.maps.firm_order`).
    lang
        ``"id"`` or ``"en"``.

    Returns
    -------
    dict
        ``pairs``; per pair, its ``label``, the positions of its focal firms in the block
        (``i``, gaps as variable-length characters) and their categories (``c``, one
        character each, ``"1"``-``"3"``); ``colours`` and ``labels`` of the categories.
    """
    from klastergeo import kbli

    t = messages.text("explore", lang)
    pairs = []
    for pair in categories.columns:  # pairs (a few); firms are vectorised
        codes = categories[pair].fillna(0).to_numpy(dtype=np.int64)[order]
        at = np.flatnonzero(codes)
        a, b = str(pair).split(">", 1)
        pairs.append(
            {
                "pair": str(pair),
                "label": f"{kbli.titled(a, lang=lang)} \u2192 {kbli.titled(b, lang=lang)}",
                "i": varint_text(np.diff(at, prepend=0)),
                "c": "".join(map(chr, (codes[at] + 48).tolist())),
            }
        )
    return {
        "pairs": pairs,
        "colours": list(COLOCATION_COLOURS),
        "labels": [t["colocated"], t["isolated"], t["coloc_not_sig"]],
        "text": {
            "title": t["colocation"],
            "pair": t["coloc_pair"],
            "note": t["coloc_note"],
            "hide": t["coloc_hide"],
            "show": t["coloc_show"],
        },
    }
