"""The weights step: the spatial weights of the areas of analysis, as configured."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
from libpysal.graph import Graph

from klastergeo.analysis import scale as scale_mod
from klastergeo.analysis import weights as weights_mod
from klastergeo.analysis.geometry import to_metric
from klastergeo.app.config import AnalysisOptions

__all__ = ["Weights", "build_weights"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Weights:
    """The graph of the statistics, its summary for ``summary.json`` (``info``) and,
    for an automatic scale, the table of the bands it tried (``bands``)."""

    graph: Graph
    info: dict[str, Any]
    bands: pd.DataFrame | None = None


def build_weights(
    options: AnalysisOptions, areas: gpd.GeoDataFrame, totals: pd.Series, *, h3: bool = False
) -> Weights:
    """The spatial weights of ``areas`` (the ``weights`` step).

    Parameters
    ----------
    options
        The ``[analysis]`` options: ``weights`` (``queen``, ``rook``, ``knn`` or
        ``auto``), ``k``, ``seed``, ``tolerance_m`` and ``islands`` (what becomes of
        areas without neighbours).
    areas
        The areas of analysis, indexed by area code.
    totals
        Firms per area, for the automatic scale only (areas missing from it count 0).
    h3
        The areas are H3 cells, whose neighbours are the adjacent cells (unless the
        weights are ``auto``).

    Returns
    -------
    Weights
        The graph, its summary (``info``) and, for the automatic scale, the bands tried.
    """
    info: dict[str, Any] = {"kind": options.weights}
    bands = None
    islands_before = 0
    if options.weights == "auto":
        points = to_metric(areas).geometry.representative_point()
        choice = scale_mod.choose_scale(points, totals.reindex(areas.index).fillna(0), k=options.k)
        graph = scale_mod.scale_graph(points, choice)
        kind = f"auto ({choice.method.replace('_', ' ')})"
        info.update({"kind": kind, "distance_m": choice.distance, "k": choice.k})
        info["reason"] = choice.reason
        bands = choice.bands
        logger.info("automatic scale: %s", choice.reason)
    elif h3:
        graph = weights_mod.h3_neighbours(areas.index)
        info["kind"] = "h3 first-order neighbours"
        islands_before = len(graph.isolates)
        graph = weights_mod.attach_islands(graph, areas, how=options.islands)
    elif options.weights == "knn":
        graph = weights_mod.knn(areas, k=options.k, seed=options.seed)
        info["k"] = options.k
    else:
        rook = options.weights == "rook"
        raw = weights_mod.contiguity(
            areas, rook=rook, tolerance=options.tolerance_m, islands="keep"
        )
        islands_before = len(raw.isolates)
        graph = weights_mod.attach_islands(raw, areas, how=options.islands)
        info["tolerance_m"] = 0.0 if rook else options.tolerance_m
    info.update(
        {
            "links": int(graph.n_edges),
            "mean_neighbours": round(float(graph.cardinalities.mean()), 3),
            "areas_without_neighbours": islands_before,
            "islands_policy": options.islands,
        }
    )
    return Weights(graph=graph, info=info, bands=bands)
