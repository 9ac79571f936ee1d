"""Spatial weights as ``libpysal.graph.Graph``, built for real, imperfect borders.

Real boundaries are simplified independently per unit, so neighbours often do not share
vertices exactly. :func:`contiguity` therefore takes a snapping ``tolerance`` in metres:
areas whose borders come closer than that are neighbours.

**Islands policy.** Areas with no neighbour at all (small islands) are handled by
``islands=``:

- ``"nearest"`` (default): each such area is linked to its nearest area and that area
  back to it, keeping the graph symmetric. Every area then has a neighbourhood, and a
  sentra on an island can still be detected.
- ``"keep"``: the area stays without neighbours. Local statistics are undefined there and
  are reported as missing (quadrant and bin 0), as GeoDa does.
"""

from __future__ import annotations

import logging
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph

from klastergeo._errors import ConfigError
from klastergeo._spatial import to_metric

__all__ = ["attach_islands", "contiguity", "h3_neighbours", "knn"]

logger = logging.getLogger(__name__)

IslandPolicy = Literal["nearest", "keep"]


def contiguity(
    areas: gpd.GeoDataFrame,
    *,
    rook: bool = False,
    tolerance: float = 0.0,
    islands: IslandPolicy = "nearest",
) -> Graph:
    """Queen (or rook) contiguity of areas, tolerant of gaps between borders.

    Parameters
    ----------
    areas
        Polygons indexed by area code, in any CRS (projected to their UTM zone when
        geographic, so that ``tolerance`` is in metres).
    rook
        Neighbours must share an edge, not only a vertex. Only with ``tolerance=0``.
    tolerance
        Metres: borders closer than this count as shared. With 0, areas are neighbours
        when they share a vertex (queen) or an edge (rook), as GeoDa builds them.
    islands
        What to do with areas that have no neighbour (see the module docstring).

    Returns
    -------
    libpysal.graph.Graph with binary weights, ids = ``areas.index``.

    Examples
    --------
    >>> g = contiguity(villages, tolerance=10)  # doctest: +SKIP
    >>> g.cardinalities.mean()  # doctest: +SKIP
    6.03
    """
    if tolerance < 0:
        raise ConfigError(f"tolerance={tolerance!r} must be zero or positive (metres)")
    if rook and tolerance > 0:
        raise ConfigError(
            "rook contiguity is only defined for shared edges; use tolerance=0 with rook, "
            "or queen contiguity with a tolerance"
        )
    if not areas.index.is_unique:
        raise ConfigError("area ids (the index) must be unique to build weights")
    metric = to_metric(areas)
    if tolerance > 0:
        graph = Graph.build_fuzzy_contiguity(metric, buffer=tolerance / 2.0)
    else:
        graph = Graph.build_contiguity(metric, rook=rook, strict=False)
    graph = graph.transform("b")
    logger.info(
        "contiguity: %d areas, %d links, %d without neighbours",
        graph.n,
        graph.n_edges,
        len(graph.isolates),
    )
    return attach_islands(graph, metric, how=islands)


def attach_islands(
    graph: Graph, areas: gpd.GeoDataFrame, *, how: IslandPolicy = "nearest"
) -> Graph:
    """Apply the islands policy: link each area without neighbours to its nearest area.

    The link is added in both directions with weight 1. ``how="keep"`` returns ``graph``
    unchanged.
    """
    if how not in ("nearest", "keep"):
        raise ConfigError(f"islands={how!r} is not accepted; use 'nearest' or 'keep'")
    isolates = graph.isolates
    if how == "keep" or len(isolates) == 0 or graph.n < 2:
        return graph
    metric = to_metric(areas).reindex(graph.unique_ids)
    geoms = np.asarray(metric.geometry.values, dtype=object)
    tree = shapely.STRtree(geoms)
    positions = metric.index.get_indexer(isolates)
    pairs = tree.query_nearest(geoms[positions], exclusive=True, all_matches=False)
    focal = np.asarray(isolates, dtype=object)[pairs[0]]
    nearest = np.asarray(metric.index, dtype=object)[pairs[1]]
    adjacency = graph.adjacency
    keep = ~adjacency.index.get_level_values("focal").isin(isolates)
    extra = pd.Series(
        np.ones(2 * len(focal)),
        index=pd.MultiIndex.from_arrays(
            [np.concatenate([focal, nearest]), np.concatenate([nearest, focal])],
            names=["focal", "neighbor"],
        ),
        name="weight",
    )
    combined = pd.concat([adjacency[keep], extra])
    combined = combined[~combined.index.duplicated()]
    # Graph orders ids by their first appearance as focal: keep the original order.
    ids = pd.Index(graph.unique_ids)
    order = np.lexsort(
        (
            ids.get_indexer(combined.index.get_level_values("neighbor")),
            ids.get_indexer(combined.index.get_level_values("focal")),
        )
    )
    combined = combined.iloc[order]
    logger.info("linked %d area(s) without neighbours to their nearest area", len(focal))
    return Graph(combined, transformation="B")


def knn(areas: gpd.GeoDataFrame, *, k: int = 6) -> Graph:
    """k-nearest-neighbour weights between area centroids (or points), in metres.

    >>> knn(villages, k=6).cardinalities.unique()  # doctest: +SKIP
    array([6])
    """
    if k < 1 or k >= len(areas):
        raise ConfigError(
            f"k={k!r} must be at least 1 and below the number of areas ({len(areas)})"
        )
    metric = to_metric(areas)
    points = (
        metric.geometry
        if (metric.geom_type == "Point").all()
        else metric.geometry.representative_point()
    )
    return Graph.build_knn(points, k=k, coplanar="jitter").transform("b")


def h3_neighbours(cells: pd.Index) -> Graph:
    """First-order neighbours of H3 cells (binary weights); cells on the edge have fewer.

    Cells without any neighbour in ``cells`` stay isolated (H3 grids are contiguous, so
    this happens only for lone cells).
    """
    ids = pd.Index(cells)
    graph = Graph.build_h3(ids, order=1, weight="binary").transform("b")
    # build_h3 leaves out cells that have no neighbour (lone island cells); put them back
    # as isolates (a zero self-weight, libpysal's convention) in the order of ``cells``.
    adjacency = graph.adjacency
    missing = ids.difference(pd.Index(graph.unique_ids))
    if len(missing):
        lone = pd.Series(
            np.zeros(len(missing)),
            index=pd.MultiIndex.from_arrays([missing, missing], names=["focal", "neighbor"]),
            name="weight",
        )
        adjacency = pd.concat([adjacency, lone])
    order = np.lexsort(
        (
            ids.get_indexer(adjacency.index.get_level_values("neighbor")),
            ids.get_indexer(adjacency.index.get_level_values("focal")),
        )
    )
    return Graph(adjacency.iloc[order], transformation="B")
