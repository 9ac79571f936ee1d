"""Sentra: places where many small firms make the same product.

**Area-based delineation** (:func:`delineate`). A sentra is a *contiguous group* of
areas specialised in one sector, holding together at least ``min_firms`` firms of it (20
by default, the statistics office's rule of thumb for a statistical sentra). An area is a
*candidate* of a sector when all of these hold:

1. its location quotient is at least ``lq_threshold`` and its 95 % interval lies above 1
   (``lq_low > 1``): the area is *specialised* in the sector, not merely dense;
2. it has at least ``min_area_firms`` firms of the sector (5 by default), so a group is
   not made of single firms;
3. its specialisation is significant at ``confidence`` (90, 95 or 99 %), by one of two
   rules, named in ``sentra_areas.csv`` (``rule``):

   - ``specialisation``: the local specialisation statistic
     (:mod:`klastergeo.analysis.specialisation`: the area's neighbourhood holds more firms of the
     sector than its firms of all sectors predict, exact under random labelling, bins
     after FDR control by default) is a hot spot at that confidence (``spec_bin``);
   - ``lq test``, when the study area has fewer than :data:`MIN_AREAS_SPECIALISATION`
     (30) areas: each neighbourhood then covers a large part of the study area (a
     regency's 22 kecamatan), so the area's own exact LQ test (``lq_p``, binomial, with
     Benjamini-Hochberg control across the sector's areas) carries the evidence.

Candidates contiguous in the weights graph form a group per sector; a group whose firms of
the sector reach ``min_firms`` is a sentra (its areas are ``core``). The rule applies to
the group, not to each area: a sentra over ten small kelurahan of 7-18 firms each is
found. With ``extend=True`` (the default) a sentra then takes in *extension* areas:
neighbours of its core areas that are not candidates but whose firms belong to the same
concentration - at least ``extend_min_firms`` firms of the sector, an LQ of at least
``extend_lq`` and a positive specialisation z. The extension is one ring deep, so a
sentra cannot creep across a region.

Concentrations that met some of the rules but not all - an area with at least
``min_area_firms`` firms of the sector and either an LQ of at least ``lq_threshold`` or a
significant specialisation with its LQ interval above 1, in no sentra - are the *near
misses* (:func:`near_misses`,
``candidates.csv``), each with the rules it failed and their values.

**Point-based delineation** (:func:`delineate_points`), for registries without boundaries
or at finer scale than villages: density-based clusters (HDBSCAN or DBSCAN) of the sector's
firm coordinates in metres, each kept when it has ``min_firms`` firms and its firms are
specialised (the sector's share of *all* firms inside the cluster's hull at least
``lq_threshold`` times its regional share) and dense (at least ``min_density_km2`` firms of
the sector per km2); the hull, buffered by half the clustering distance, is the sentra
polygon. The default density, 2 firms per km2, asks for 20 firms within 10 km2, where the
statistics office counts 20 firms in *one village* (median Jawa Tengah village: 2.9 km2).
Without it, HDBSCAN also returns loose groups over hundreds of km2 whose LQ reaches 2 by
chance (measured on the demo registry: 22 such groups, all below 1.1 firms per km2, while
the planted sentra have 2.6 and more).

Every sentra, indexed by ``sentra_id``, carries the columns of :data:`COLUMNS` (those of
:data:`SENTRA_COLUMNS` but the sector's name in a language, which the app adds); the
evidence per member area (role, firms, LQ, z, p, bin) is the second table
:func:`delineate` returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from klastergeo.analysis._graph import accepts_w
from klastergeo.analysis.autocorrelation import fdr_adjust
from klastergeo.analysis.geometry import has_point, to_metric
from klastergeo.errors import ConfigError, DataError
from klastergeo.schema import (
    CANDIDATE_COLUMNS,
    MEMBER_COLUMNS,
    NEAR_MISS_COLUMNS,
    SENTRA_COLUMNS,
    SENTRA_INDEX,
)

__all__ = [
    "CANDIDATE_COLUMNS",
    "COLUMNS",
    "MEMBER_COLUMNS",
    "MIN_AREAS_SPECIALISATION",
    "SENTRA_COLUMNS",
    "delineate",
    "delineate_points",
    "is_member",
    "near_misses",
    "screen",
]

logger = logging.getLogger(__name__)

#: The columns of a delineated sentra table: :data:`SENTRA_COLUMNS` but ``sector_label``,
#: the sector's name in the report's language, which the app adds
#: (:func:`klastergeo.app.pipeline.delineation.find_sentra`).
COLUMNS = tuple(c for c in SENTRA_COLUMNS if c != "sector_label")

_CONFIDENCE_BIN = {90: 1, 95: 2, 99: 3}
_CONFIDENCE_ALPHA = {90: 0.10, 95: 0.05, 99: 0.01}

#: With fewer areas, each area's own exact LQ test stands in for the specialisation
#: statistic (a neighbourhood would cover much of the study area).
MIN_AREAS_SPECIALISATION = 30


def is_member(
    table: pd.DataFrame,
    *,
    lq_threshold: float = 2.0,
    confidence: int = 95,
    min_area_firms: int = 5,
    n_areas: int | None = None,
) -> pd.Series:
    """True for the (area, sector) rows that are candidates of a sentra: specialised,
    with enough firms, and significant (see the module docstring; the group's total is
    checked by :func:`delineate`).

    Parameters
    ----------
    table
        Rows of (area, sector) with ``n_firms``, ``lq``, ``lq_low`` and ``spec_bin`` (or,
        with fewer than :data:`MIN_AREAS_SPECIALISATION` areas, ``lq_p``); a missing
        value fails its rule.
    lq_threshold
        Least location quotient of the sector in the area.
    confidence
        Confidence of the specialisation in percent: 90, 95 or 99 (``spec_bin`` at least
        1, 2 or 3; or the LQ test's FDR-adjusted p-value at most 0.10, 0.05 or 0.01).
    min_area_firms
        Least firms of the sector in the area.
    n_areas
        Areas in the study area, which decides the rule (default: the areas of ``table``).

    Returns
    -------
    Series
        Booleans named ``in_sentra``, indexed like ``table``.

    Examples
    --------
    >>> t = pd.DataFrame({"n_firms": [30, 30, 3, 30], "lq": [3.0, 1.1, 9.0, 3.0],
    ...                   "lq_low": [2.1, 0.8, 2.5, 2.0], "spec_bin": [3, 3, 3, 0]})
    >>> is_member(t, n_areas=100).tolist()
    [True, False, False, False]
    """
    return _criteria(
        table,
        lq_threshold=lq_threshold,
        confidence=confidence,
        min_area_firms=min_area_firms,
        n_areas=n_areas,
    )["candidate"].rename("in_sentra")


def _criteria(
    table: pd.DataFrame,
    *,
    lq_threshold: float,
    confidence: int,
    min_area_firms: int,
    n_areas: int | None,
) -> pd.DataFrame:
    """Each rule of a candidate area, per row of ``table`` (booleans), the rule that
    decides significance (``rule``) and ``candidate`` (all of them)."""
    if confidence not in _CONFIDENCE_BIN:
        raise ConfigError(f"confidence={confidence!r} is not accepted; use 90, 95 or 99")
    if min_area_firms < 1:
        raise ConfigError(f"min_area_firms={min_area_firms!r} must be at least 1")
    if n_areas is None:
        n_areas = table.index.get_level_values(0).nunique()
    few = n_areas < MIN_AREAS_SPECIALISATION
    needed = {"n_firms", "lq", "lq_low", "lq_p" if few else "spec_bin"}
    missing = needed - set(table.columns)
    if missing:
        raise DataError(
            f"the area table lacks column(s) {sorted(missing)} for the sentra rules "
            "(spec_bin comes from klastergeo.analysis.specialisation.local_specialisation, lq_low "
            "and lq_p from klastergeo.analysis.concentration.location_quotient)"
        )
    out = pd.DataFrame(index=table.index)
    out["specialised"] = table["lq"].fillna(0).to_numpy() >= lq_threshold
    out["interval"] = table["lq_low"].fillna(0).to_numpy() > 1
    out["enough"] = table["n_firms"].fillna(0).to_numpy() >= min_area_firms
    if few:
        sectors = table.index.get_level_values("sector") if table.index.nlevels > 1 else None
        p = table["lq_p"].astype(float)
        q = (
            p.groupby(sectors).transform(lambda v: fdr_adjust(v.to_numpy()))
            if sectors is not None
            else pd.Series(fdr_adjust(p.to_numpy()), index=p.index)
        )
        out["significant"] = q.fillna(1).to_numpy() <= _CONFIDENCE_ALPHA[confidence]
        out["rule"] = "lq test"
    else:
        out["significant"] = table["spec_bin"].fillna(0).to_numpy() >= _CONFIDENCE_BIN[confidence]
        out["rule"] = "specialisation"
    out["candidate"] = out[["specialised", "interval", "enough", "significant"]].all(axis=1)
    return out


@accepts_w
def delineate(
    table: pd.DataFrame,
    graph: Graph,
    areas: gpd.GeoDataFrame,
    *,
    min_firms: int = 20,
    lq_threshold: float = 2.0,
    confidence: int = 95,
    min_area_firms: int = 5,
    extend: bool = True,
    extend_min_firms: int = 5,
    extend_lq: float | None = None,
    parents: pd.Series | None = None,
    screened: pd.DataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Find the sentra of every sector: contiguous groups of candidate areas with
    ``min_firms`` firms of the sector between them, then extended.

    Parameters
    ----------
    table
        Per area x sector (MultiIndex ``area_code``, ``sector``) with ``n_firms``,
        ``workers``, ``output``, ``lq``, ``lq_low``, ``lq_p``, ``spec_z`` and
        ``spec_bin`` (and, for the evidence, ``spec_p`` and the density statistic's
        ``gi_z``, ``gi_p``, ``gi_bin`` when present).
    graph
        Contiguity between areas (ids = area codes).
    areas
        Areas indexed by code with ``name`` and ``geometry``.
    min_firms
        Least firms of the sector in a sentra's candidate areas together.
    lq_threshold, confidence, min_area_firms
        The rules of a candidate area (:func:`is_member`).
    extend, extend_min_firms, extend_lq
        Take in neighbours of core areas with at least ``extend_min_firms`` firms, an LQ
        of at least ``extend_lq`` (default: ``lq_threshold``) and a positive
        specialisation z.
    parents
        Name of each area's parent (kecamatan of a desa), used in sentra names.
    screened
        The rules already applied to ``table`` with these options (:func:`screen`), for
        a caller that also lists the near misses; None to apply them here.

    Returns
    -------
    sentra
        One row per sentra, indexed by ``sentra_id`` (``{sector}-{rank:02d}``), with the
        columns :data:`COLUMNS` and the dissolved ``geometry``, ordered by sector and
        then size.
    members
        The evidence per member area (:data:`MEMBER_COLUMNS`), indexed by
        (``area_code``, ``sector``): ``role`` is ``core`` or ``extension``, ``rule`` the
        rule that admitted it (``specialisation``, ``lq test`` or ``extension``).

    Examples
    --------
    Six by six villages of 1 km2 with ten food firms (10) each and one furniture firm
    (31), but for three neighbouring villages in the south-west corner that hold 40, 30
    and 25 furniture makers; the table is built as the pipeline builds it:

    >>> from klastergeo.analysis import aggregate, autocorrelation, concentration
    >>> from klastergeo.analysis import specialisation, weights
    >>> codes, r = [f"v{i:02d}" for i in range(36)], range(0, 6000, 1000)
    >>> squares = [shapely.box(x, y, x + 1000, y + 1000) for y in r for x in r]
    >>> villages = gpd.GeoDataFrame({"name": [f"Desa {i}" for i in range(36)]}, geometry=squares,
    ...                             index=pd.Index(codes, name="area_code"), crs=32749)
    >>> furniture = dict.fromkeys(codes, 1) | {"v00": 40, "v01": 30, "v06": 25}
    >>> firms = pd.DataFrame({
    ...     "area_code": codes * 10 + [c for c, n in furniture.items() for _ in range(n)],
    ...     "sector": ["10"] * 360 + ["31"] * sum(furniture.values()),
    ... }).assign(workers=3, output=1.0)
    >>> counts = aggregate.count_by_area(firms, villages.index)
    >>> matrix = aggregate.wide(counts, "n_firms")
    >>> graph = weights.contiguity(villages)
    >>> local, _ = autocorrelation.by_sector(matrix, graph, seed=0)
    >>> lq = concentration.location_quotient(matrix).rename(columns={"p_value": "lq_p"})
    >>> spec = specialisation.local_specialisation(matrix, graph)
    >>> table = counts.join(lq).join(local).join(spec)
    >>> sentra, members = delineate(table, graph, villages)
    >>> sentra[["name", "n_firms", "n_areas"]]
                           name  n_firms  n_areas
    sentra_id
    31-01      Desa 0, Desa 1 +1       95        3
    >>> members["role"].tolist(), members["rule"].tolist()[0]
    (['core', 'core', 'core'], 'specialisation')
    """
    if extend_min_firms < 1:
        raise ConfigError(f"extend_min_firms={extend_min_firms!r} must be at least 1")
    ids = pd.Index(graph.unique_ids)
    adjacency = graph.sparse.tocsr().astype(bool)
    if screened is None:
        criteria: dict[str, Any] = {"min_firms": min_firms, "lq_threshold": lq_threshold}
        criteria |= {"confidence": confidence, "min_area_firms": min_area_firms}
        screened = _screen(table, ids, adjacency, **criteria)
    rules = {"min_firms": extend_min_firms, "lq": lq_threshold if extend_lq is None else extend_lq}
    members = _members(table, screened, ids, adjacency, extension=rules if extend else None)
    if members.empty:
        return _empty_sentra(areas.crs), _empty_members()
    return _grouped_sentra(members, table, ids, adjacency, areas, parents)


def _members(
    table: pd.DataFrame,
    screened: pd.DataFrame,
    ids: pd.Index,
    adjacency: csr_matrix,
    extension: dict[str, float] | None,
) -> pd.DataFrame:
    """The rows of ``table`` in a sentra: the ``screened`` core areas and, with
    ``extension`` rules, their neighbours taken in; with their ``role`` and ``rule``."""
    role = _roles(table, screened["core"], ids, adjacency, extension=extension)
    in_sentra = role.to_numpy() != ""
    rule = np.where(role.to_numpy() == "core", screened["rule"].to_numpy(), "extension")
    return table.loc[in_sentra].assign(role=role.to_numpy()[in_sentra], rule=rule[in_sentra])


def _grouped_sentra(
    members: pd.DataFrame,
    table: pd.DataFrame,
    ids: pd.Index,
    adjacency: csr_matrix,
    areas: gpd.GeoDataFrame,
    parents: pd.Series | None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The sentra of the ``members`` (contiguous groups of each sector) and the evidence
    per member area (see :func:`delineate`)."""
    # extension areas join the group of the core areas they touch (one ring deep)
    members["_group"] = _contiguous_groups(members, ids, adjacency)
    order = _ranked(_describe(members, table, areas, parents), "name")
    members["sentra_id"] = order["sentra_id"].reindex(members["_group"]).to_numpy()
    evidence = members.reindex(columns=list(MEMBER_COLUMNS))  # gi_z, gi_p: NaN if missing
    out = _sentra_frame(order, areas.crs)
    roles = evidence["role"].value_counts()
    logger.info(
        "sentra: %d in %d sector(s), %d core and %d extension area(s)",
        *(len(out), out["sector"].nunique(), roles.get("core", 0), roles.get("extension", 0)),
    )
    return out, evidence


@accepts_w
def screen(
    table: pd.DataFrame,
    graph: Graph,
    *,
    min_firms: int = 20,
    lq_threshold: float = 2.0,
    confidence: int = 95,
    min_area_firms: int = 5,
) -> pd.DataFrame:
    """The sentra rules applied to every row of ``table``: each area rule (booleans
    ``specialised``, ``interval``, ``enough``, ``significant``), the ``rule`` deciding
    significance, ``candidate``, the row's contiguous group of candidates (``group``,
    -1 for none; ``group_areas``, ``group_firms``) and ``core``. What
    :func:`delineate` and :func:`near_misses` both start from: pass it to both to apply
    the rules once.

    Parameters
    ----------
    table, graph
        As for :func:`delineate`.
    min_firms, lq_threshold, confidence, min_area_firms
        The rules, as for :func:`delineate`.
    """
    return _screen(
        table,
        pd.Index(graph.unique_ids),
        graph.sparse.tocsr().astype(bool),
        min_firms=min_firms,
        lq_threshold=lq_threshold,
        confidence=confidence,
        min_area_firms=min_area_firms,
    )


def _screen(
    table: pd.DataFrame,
    ids: pd.Index,
    adjacency: csr_matrix,
    *,
    min_firms: int,
    lq_threshold: float,
    confidence: int,
    min_area_firms: int,
) -> pd.DataFrame:
    """The rules of every row (:func:`_criteria`), its contiguous group of candidates
    (``group``, -1 for none; ``group_areas``, ``group_firms``) and ``core``: a candidate
    whose group holds ``min_firms`` firms of the sector."""
    out = _criteria(
        table,
        lq_threshold=lq_threshold,
        confidence=confidence,
        min_area_firms=min_area_firms,
        n_areas=len(ids),
    )
    candidate = out["candidate"].to_numpy()
    group = np.full(len(table), -1, dtype=np.int64)
    group_firms = np.zeros(len(table))
    group_areas = np.zeros(len(table), dtype=np.int64)
    sectors = table.index.get_level_values("sector")
    codes = table.index.get_level_values("area_code")
    firms = table["n_firms"].fillna(0).to_numpy(dtype=float)
    offset = 0
    for sector in sectors[candidate].unique():
        rows = np.flatnonzero(candidate & (sectors == sector))
        pos = _positions(ids, codes[rows], sector)
        n_groups, labels = connected_components(adjacency[pos][:, pos], directed=False)
        group[rows] = labels + offset
        group_firms[rows] = np.bincount(labels, weights=firms[rows], minlength=n_groups)[labels]
        group_areas[rows] = np.bincount(labels, minlength=n_groups)[labels]
        offset += n_groups
    out["group"], out["group_areas"], out["group_firms"] = group, group_areas, group_firms
    out["core"] = candidate & (group_firms >= min_firms)
    return out


@accepts_w
def near_misses(
    table: pd.DataFrame,
    graph: Graph,
    members: pd.DataFrame,
    *,
    min_firms: int = 20,
    lq_threshold: float = 2.0,
    confidence: int = 95,
    min_area_firms: int = 5,
    screened: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Concentrations that met some sentra rules but not all (``candidates.csv``).

    A row of ``table`` is a near miss when its area has at least ``min_area_firms`` firms
    of the sector, is not a member of a sentra, and either has an LQ of at least
    ``lq_threshold`` or is significantly specialised with an LQ interval above 1.

    Parameters
    ----------
    table, graph
        As for :func:`delineate`.
    members
        The sentra's member areas (:func:`delineate`'s second table), left out.
    min_firms, lq_threshold, confidence, min_area_firms
        The rules, as for :func:`delineate`.
    screened
        The rules already applied (:func:`screen`, as passed to :func:`delineate`);
        None to apply them here.

    Returns
    -------
    DataFrame
        Indexed by (``area_code``, ``sector``) in the order of ``table``, with
        :data:`CANDIDATE_COLUMNS`: ``failed`` names the failed rules (``lq``,
        ``lq_interval``, ``specialisation`` or ``lq test``, ``group_firms``; ``;``-joined)
        with the values tested: codes and numbers (the words, ``candidates.csv``
        ``reason``, are :func:`klastergeo.publish.sentences.near_miss_reasons`).
    """
    if screened is None:
        screened = screen(
            table,
            graph,
            min_firms=min_firms,
            lq_threshold=lq_threshold,
            confidence=confidence,
            min_area_firms=min_area_firms,
        )
    significant = screened["significant"].to_numpy() & screened["interval"].to_numpy()
    near = (
        screened["enough"].to_numpy()
        & (screened["specialised"].to_numpy() | significant)
        & ~table.index.isin(members.index)
    )
    rows = table.loc[near]
    tested = screened.loc[near]
    failed = {
        "lq": ~tested["specialised"].to_numpy(),
        "lq_interval": ~tested["interval"].to_numpy(),
        "significance": ~tested["significant"].to_numpy(),
        "group_firms": tested["candidate"].to_numpy() & ~tested["core"].to_numpy(),
    }
    rule = tested["rule"].to_numpy()
    out = rows.reindex(columns=[c for c in CANDIDATE_COLUMNS if c in MEMBER_COLUMNS])
    candidate = tested["candidate"].to_numpy()
    out["group_areas"] = np.where(candidate, tested["group_areas"].to_numpy(), 0)
    out["group_firms"] = np.where(candidate, tested["group_firms"].to_numpy(), 0.0)
    flags = np.column_stack(list(failed.values()))
    labels = ("lq", "lq_interval", "", "group_firms")  # "": the significance rule's name
    out["failed"] = [
        ";".join(str(rule[i]) if k == 2 else labels[k] for k in np.flatnonzero(flags[i]))
        for i in range(len(flags))
    ]
    return out[list(NEAR_MISS_COLUMNS)]


def _empty_members() -> pd.DataFrame:
    """The evidence table without rows."""
    return pd.DataFrame(
        {c: [] for c in MEMBER_COLUMNS},
        index=pd.MultiIndex.from_tuples([], names=["area_code", "sector"]),
    )


def _roles(
    table: pd.DataFrame,
    core: pd.Series,
    ids: pd.Index,
    adjacency: csr_matrix,
    *,
    extension: dict[str, float] | None,
) -> pd.Series:
    """``"core"``, ``"extension"`` or ``""`` per row of ``table``: extension areas are the
    candidates (``extension`` rules: ``min_firms``, ``lq``) next to a core area of their
    sector; none when ``extension`` is None."""
    role = pd.Series(np.where(core.to_numpy(), "core", ""), index=table.index, dtype=object)
    if extension is None or not core.any():
        return role
    min_firms, lq = extension["min_firms"], extension["lq"]
    z = table["spec_z"] if "spec_z" in table.columns else pd.Series(np.inf, index=table.index)
    candidate = (
        ~core
        & (table["n_firms"] >= min_firms)
        & (table["lq"].fillna(0) >= lq)
        & (z.fillna(-np.inf) > 0)
    ).to_numpy()
    sectors = table.index.get_level_values("sector")
    for sector in sectors[core.to_numpy()].unique():
        rows = sectors == sector
        pos = _positions(ids, table.index.get_level_values("area_code")[rows], sector)
        near = np.zeros(len(ids), dtype=bool)
        near[adjacency[pos[core.to_numpy()[rows]]].indices] = True
        take = candidate[rows] & near[pos]
        role.iloc[np.flatnonzero(rows)[take]] = "extension"
    return role


def _contiguous_groups(
    members: pd.DataFrame, ids: pd.Index, adjacency: csr_matrix
) -> NDArray[np.int64]:
    """A group number per member row: connected member areas of one sector share it."""
    groups = np.full(len(members), -1, dtype=np.int64)
    sectors = members.index.get_level_values("sector")
    offset = 0
    for sector in sorted(sectors.unique()):
        rows = np.flatnonzero(sectors == sector)
        pos = _positions(ids, members.index.get_level_values("area_code")[rows], sector)
        n_groups, labels = connected_components(adjacency[pos][:, pos], directed=False)
        groups[rows] = labels + offset
        offset += n_groups
    return groups


def _sentra_frame(order: pd.DataFrame, crs: object) -> gpd.GeoDataFrame:
    """The sentra table: :data:`COLUMNS` and geometry, indexed by ``sentra_id``, in the
    order of ``order``."""
    return gpd.GeoDataFrame(
        order[list(COLUMNS)].set_axis(pd.Index(order[SENTRA_INDEX], name=SENTRA_INDEX)),
        geometry=gpd.GeoSeries(order["geometry"].to_numpy(), crs=crs).to_numpy(),
        crs=crs,
    )


def _empty_sentra(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: [] for c in COLUMNS},
        geometry=[],
        crs=crs,
        index=pd.Index([], dtype=object, name=SENTRA_INDEX),
    )


def _ranked(sentra: pd.DataFrame, tie: str) -> pd.DataFrame:
    """Sentra ordered by sector and then size (ties by ``tie``), with ``sentra_id``
    ``{sector}-{rank:02d}``."""
    order = sentra.sort_values(
        ["sector", "n_firms", tie], ascending=[True, False, True], kind="stable"
    )
    rank = order.groupby("sector").cumcount() + 1
    order["sentra_id"] = order["sector"] + "-" + rank.map("{:02d}".format)
    return order


def _positions(ids: pd.Index, codes: pd.Index, sector: object) -> NDArray[np.int64]:
    pos = ids.get_indexer(codes)
    if (pos < 0).any():
        raise ConfigError(
            f"the weights graph lacks area(s) {list(codes[pos < 0][:3])} of sector "
            f"{sector!r}; build it on the same areas as the table"
        )
    return np.asarray(pos, dtype=np.int64)


def _describe(
    members: pd.DataFrame,
    table: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    parents: pd.Series | None,
) -> pd.DataFrame:
    """One row per member group: sums, LQ, share, area, density, names, geometry."""
    codes = members.index.get_level_values("area_code")
    sectors = members.index.get_level_values("sector")
    area_totals = table.groupby(level="area_code")["n_firms"].sum()
    sector_totals = table.groupby(level="sector")["n_firms"].sum()
    grand = float(area_totals.sum())
    metric = to_metric(areas[[areas.geometry.name]]) if areas.crs is not None else areas
    km2 = metric.geometry.area.reindex(codes).to_numpy() / 1e6
    frame = pd.DataFrame(
        {
            "_group": members["_group"].to_numpy(),
            "sector": sectors.astype(str),
            "code": codes.astype(str),
            "core": members["role"].to_numpy() == "core",
            "n_firms": members["n_firms"].to_numpy(),
            "workers": members["workers"].to_numpy() if "workers" in members else np.nan,
            "output": members["output"].to_numpy() if "output" in members else np.nan,
            "investment": (members["investment"].to_numpy() if "investment" in members else np.nan),
            "all_firms": area_totals.reindex(codes).to_numpy(dtype=float),
            "km2": km2,
            "spec_z": members["spec_z"].to_numpy() if "spec_z" in members else np.nan,
            "spec_p": members["spec_p"].to_numpy() if "spec_p" in members else np.nan,
            "gi_z": members["gi_z"].to_numpy() if "gi_z" in members else np.nan,
            "gi_p": members["gi_p"].to_numpy() if "gi_p" in members else np.nan,
        }
    )
    # biggest member first within each group: names and the core area follow it
    frame = frame.sort_values(["_group", "n_firms", "code"], ascending=[True, False, True])
    grouped = frame.groupby("_group", sort=True)
    out = grouped.agg(
        sector=("sector", "first"),
        n_areas=("code", "size"),
        n_core_areas=("core", "sum"),
        n_firms=("n_firms", "sum"),
        workers=("workers", "sum"),
        output=("output", "sum"),
        investment=("investment", "sum"),
        all_firms=("all_firms", "sum"),
        area_km2=("km2", "sum"),
        spec_z_max=("spec_z", "max"),
        spec_p_min=("spec_p", "min"),
        gi_z_max=("gi_z", "max"),
        gi_p_min=("gi_p", "min"),
    )
    # a sum nobody reported is missing, never 0: the known values' sum, NaN without any
    measures = ["workers", "output", "investment"]
    out[measures] = grouped[measures].sum(min_count=1)
    out["area_codes"] = grouped["code"].agg(lambda c: ";".join(sorted(c)))
    out["core_areas"] = (
        frame.loc[frame["core"]].groupby("_group")["code"].agg(lambda c: ";".join(sorted(c)))
    )
    out["core_area"] = frame.loc[frame["core"]].groupby("_group")["code"].first()
    out["_codes"] = grouped["code"].agg(list)
    share = out["sector"].map(sector_totals.rename(str)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["lq"] = (out["n_firms"] / out["all_firms"]) / (share / grand)
        out["density_km2"] = out["n_firms"] / out["area_km2"]
    out["sector_share"] = out["n_firms"] / share
    out["name"] = [_name(c, areas["name"], parents) for c in out["_codes"]]
    dissolved = (
        gpd.GeoDataFrame(
            {"_group": frame["_group"].to_numpy()},
            geometry=areas.geometry.reindex(frame["code"]).to_numpy(),
            crs=areas.crs,
        )
        .dissolve(by="_group", sort=True)
        .geometry
    )
    out["geometry"] = dissolved.reindex(out.index).to_numpy()
    shapes = gpd.GeoSeries(out["geometry"].to_numpy(), crs=areas.crs)
    point = shapely.point_on_surface((shapes.to_crs(4326) if areas.crs else shapes).to_numpy())
    out["lat"] = shapely.get_y(point)
    out["lon"] = shapely.get_x(point)
    return out


def delineate_points(
    firms: gpd.GeoDataFrame,
    *,
    method: Literal["hdbscan", "dbscan"] = "hdbscan",
    min_firms: int = 20,
    lq_threshold: float = 2.0,
    eps_m: float = 300.0,
    min_samples: int | None = None,
    min_strength: float = 0.2,
    min_density_km2: float = 2.0,
    sectors: list[str] | None = None,
    areas: gpd.GeoDataFrame | None = None,
    parents: pd.Series | None = None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Sentra from the firms' coordinates alone: density clusters that are specialised.

    Parameters
    ----------
    firms
        Points with a ``sector`` column (and ``workers``, ``output`` when present); any
        CRS (geographic coordinates are projected to their UTM zone for distances).
        Firms without a point (a missing or empty geometry: placed by their area's code
        or name) are left out: in no sentra, and not in the shares the clusters'
        specialisation is measured against.
    method
        ``"hdbscan"`` (clusters of varying density; ``min_cluster_size = min_firms``) or
        ``"dbscan"`` (fixed radius ``eps_m``).
    min_firms
        Smallest sentra, in firms of its sector.
    lq_threshold
        The sector's share of all firms inside the cluster's hull must be at least this
        many times its share of the whole registry (a dense city is not a sentra).
    eps_m
        DBSCAN's radius in metres; for HDBSCAN the distance below which clusters merge
        (``cluster_selection_epsilon``). The hulls of both methods are buffered by half of it.
    min_samples
        Neighbours that make a core point (default: 5 for DBSCAN, ``min(min_firms, 10)``
        for HDBSCAN).
    min_strength
        HDBSCAN only: firms whose membership strength (``probabilities_``, 1 at the
        densest part of a cluster) is below this are left out - the sparse fringe that a
        cluster absorbs before it merges with the background.
    min_density_km2
        A sentra is a place: its firms of the sector per km2 of its (buffered) hull must be
        at least this (2: 20 firms within 10 km2; see the module docstring).
    sectors
        Sectors to look at (default: every sector with at least ``min_firms`` firms).
    areas, parents
        Optional areas (indexed by code, with ``name``) to name the sentra and list the
        areas each hull touches; ``parents`` names each area's parent.

    Returns
    -------
    sentra
        One row per sentra, indexed by ``sentra_id`` (:data:`COLUMNS`; the z and p
        columns are NaN), with the buffered hull as geometry, in the firms' CRS.
    membership
        ``sentra_id`` of every firm (missing for firms in no sentra), indexed like
        ``firms``.

    Examples
    --------
    Two tight groups of furniture makers (31) among food firms (10) spread evenly over
    10 x 10 km:

    >>> rng = np.random.default_rng(0)
    >>> xy = np.vstack([rng.normal(2000, 150, (60, 2)), rng.normal(7000, 150, (40, 2)),
    ...                 rng.uniform(0, 10_000, (400, 2))])
    >>> sector = ["31"] * 100 + ["10"] * 400
    >>> firms = gpd.GeoDataFrame({"sector": sector}, geometry=gpd.points_from_xy(*xy.T), crs=32749)
    >>> found, firm_sentra = delineate_points(firms, min_firms=20)
    >>> found["n_firms"].to_dict()
    {'31-01': 60, '31-02': 40}
    >>> firm_sentra.value_counts().to_dict()
    {'31-01': 60, '31-02': 40}
    """
    options = _PointOptions(
        method=method,
        min_firms=min_firms,
        eps_m=eps_m,
        min_samples=min_samples,
        min_strength=min_strength,
        lq_threshold=lq_threshold,
        min_density_km2=min_density_km2,
    )
    if "sector" not in firms.columns:
        raise DataError("firms need a 'sector' column for point-based delineation")
    found = has_point(firms)
    if not found.all():
        return _with_points_only(firms, found, options, sectors, areas, parents)
    return _point_delineation(firms, options, sectors, areas, parents)


def _with_points_only(
    firms: gpd.GeoDataFrame,
    found: NDArray[np.bool_],
    options: _PointOptions,
    sectors: list[str] | None,
    areas: gpd.GeoDataFrame | None,
    parents: pd.Series | None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """:func:`delineate_points` of the firms with a point (``found``); the others are in
    no sentra."""
    # a firm placed by its area's code or name has no point: in no point sentra (and
    # not in the registry shares the clusters are compared with), never at a centroid
    logger.info(
        "point sentra: %d of %d firms have no point (placed by their area) and are left out",
        int((~found).sum()),
        len(found),
    )
    membership = pd.Series(None, index=firms.index, dtype=object, name="sentra_id")
    if not found.any():
        return _empty_sentra(firms.crs), membership
    at = np.flatnonzero(found)
    sentra, placed = _point_delineation(firms.iloc[at], options, sectors, areas, parents)
    membership.iloc[at] = placed.to_numpy(dtype=object)
    return sentra, membership


def _point_delineation(
    firms: gpd.GeoDataFrame,
    options: _PointOptions,
    sectors: list[str] | None,
    areas: gpd.GeoDataFrame | None,
    parents: pd.Series | None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """:func:`delineate_points` of firms that all have a point."""
    metric, xy = _metric_points(firms)
    sector = firms["sector"].astype(str).to_numpy()
    counts = pd.Series(sector).value_counts()
    chosen = (
        sorted(counts.index[counts >= options.min_firms])
        if sectors is None
        else [str(s) for s in sectors]
    )
    tree = shapely.STRtree(metric.geometry.to_numpy())
    kept = [found for code in chosen for found in _sector_clusters(code, xy, sector, tree, options)]
    return _point_sentra(firms, metric.crs, kept, counts, areas, parents)


@dataclass(frozen=True)
class _PointCluster:
    sector: str
    members: NDArray[np.int64]
    hull: shapely.Geometry
    area_km2: float
    lq: float


def _metric_points(firms: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, NDArray[np.floating]]:
    """The firms' points in metres and their (n, 2) coordinates."""
    metric = to_metric(firms[[firms.geometry.name]])
    xy = shapely.get_coordinates(metric.geometry.to_numpy())
    if len(xy) != len(firms) or not np.isfinite(xy).all():
        raise DataError("some firms have no point geometry; validate the records first")
    return metric, xy


@dataclass(frozen=True)
class _PointOptions:
    """The options of :func:`delineate_points`, checked once."""

    method: str
    min_firms: int
    eps_m: float
    min_samples: int | None
    min_strength: float
    lq_threshold: float
    min_density_km2: float

    def __post_init__(self) -> None:
        if self.method not in ("hdbscan", "dbscan"):
            raise ConfigError(f"method={self.method!r} is not accepted; use 'hdbscan' or 'dbscan'")
        if self.min_firms < 2:
            raise ConfigError(f"min_firms={self.min_firms!r} must be at least 2 for point clusters")
        if self.eps_m <= 0:
            raise ConfigError(f"eps_m={self.eps_m!r} must be a positive distance in metres")
        if self.min_density_km2 < 0:
            raise ConfigError(f"min_density_km2={self.min_density_km2!r} must be zero or positive")


def _sector_clusters(
    code: str,
    xy: NDArray[np.floating],
    sector: NDArray[np.object_],
    tree: shapely.STRtree,
    options: _PointOptions,
) -> list[_PointCluster]:
    """The sentra of sector ``code``: its density clusters with at least ``min_firms``
    firms that are specialised (LQ of the sector among all firms of ``tree`` inside the
    buffered hull) and dense enough."""
    idx = np.flatnonzero(sector == code)
    if len(idx) < options.min_firms:
        return []
    labels = _point_clusters(xy[idx], options)
    if not (labels >= 0).any():
        return []
    in_sector = sector == code
    ids, shapes = _hulls(xy[idx], labels, options.eps_m / 2.0)
    hull_of, firm_at = tree.query(shapes, predicate="intersects")
    inside_all = np.bincount(hull_of, minlength=len(ids))
    inside_sector = np.bincount(
        hull_of, weights=in_sector[firm_at].astype(float), minlength=len(ids)
    )
    share = in_sector.sum() / len(in_sector)
    km2 = shapely.area(shapes) / 1e6
    out = []
    for k, label in enumerate(ids):
        positions = np.flatnonzero(labels == label)
        lq = (inside_sector[k] / inside_all[k]) / share if inside_all[k] else np.nan
        if (
            len(positions) >= options.min_firms
            and lq >= options.lq_threshold
            and len(positions) / km2[k] >= options.min_density_km2
        ):
            out.append(_PointCluster(code, idx[positions], shapes[k], float(km2[k]), float(lq)))
    return out


def _point_clusters(points: NDArray[np.floating], options: _PointOptions) -> NDArray[np.int64]:
    """Cluster label per point (-1: noise) from DBSCAN or HDBSCAN."""
    from sklearn.cluster import DBSCAN, HDBSCAN

    min_samples = options.min_samples
    if options.method == "dbscan":
        labels: NDArray[np.int64] = (
            DBSCAN(eps=options.eps_m, min_samples=min_samples or 5).fit(points).labels_
        )
        return labels
    # A sector with one sentra has one cluster: the root of HDBSCAN's tree, which it never
    # selects unless allowed (it then found nothing). Allowed, the root's members are the
    # points still linked at ``eps_m`` (DBSCAN's radius); clusters closer than that merge.
    settings = {
        "min_cluster_size": options.min_firms,
        "min_samples": min_samples or min(options.min_firms, 10),
        "allow_single_cluster": True,
        "copy": True,
    }
    try:
        model = HDBSCAN(cluster_selection_epsilon=options.eps_m, **settings).fit(points)
    except TypeError as err:
        # scikit-learn's epsilon search fails on NumPy 2 where the condensed tree has
        # tied distances (scikit-learn #33219): the clusters are then not merged at eps_m
        if "0-dimensional" not in str(err):
            raise
        logger.warning(
            "point sentra: HDBSCAN could not merge clusters closer than eps_m=%g m "
            "(scikit-learn issue 33219 on NumPy 2); its clusters are used unmerged",
            options.eps_m,
        )
        model = HDBSCAN(cluster_selection_epsilon=0.0, **settings).fit(points)
    # the sparse fringe joins a cluster late, with a weak membership
    return _relabel(np.where(model.probabilities_ >= options.min_strength, model.labels_, -1))


def _hulls(
    points: NDArray[np.floating], labels: NDArray[np.int64], buffer_m: float
) -> tuple[NDArray[np.int64], NDArray[np.object_]]:
    """The cluster labels and, for each, the convex hull of its points buffered by
    ``buffer_m``."""
    clustered = labels >= 0
    ids = np.unique(labels[clustered])
    order = np.argsort(labels, kind="stable")[np.count_nonzero(~clustered) :]
    shapes = shapely.buffer(
        shapely.convex_hull(
            shapely.multipoints(shapely.points(points[order]), indices=labels[order])
        ),
        buffer_m,
    )[ids]
    return ids, shapes


def _relabel(labels: NDArray[np.int64]) -> NDArray[np.int64]:
    """Labels 0..k-1 for the clusters that kept members, -1 for noise."""
    kept = labels >= 0
    out = np.full(len(labels), -1, dtype=np.int64)
    out[kept] = np.unique(labels[kept], return_inverse=True)[1]
    return out


def _sums(firms: pd.DataFrame, rows: NDArray[np.int64]) -> dict[str, float]:
    """Workers, output and investment of the firms at ``rows``: the sum of the values
    reported (NaN for a column the firms lack or where none of them reports one)."""
    return {
        column: float(pd.to_numeric(firms[column].iloc[rows], errors="coerce").sum(min_count=1))
        if column in firms.columns
        else float("nan")
        for column in ("workers", "output", "investment")
    }


def _point_sentra(
    firms: gpd.GeoDataFrame,
    metric_crs: object,
    clusters: list[_PointCluster],
    counts: pd.Series,
    areas: gpd.GeoDataFrame | None,
    parents: pd.Series | None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    if not clusters:
        return _empty_sentra(firms.crs), pd.Series(
            pd.NA, index=firms.index, dtype=object, name="sentra_id"
        )
    table = pd.DataFrame(
        {
            "sector": c.sector,
            "n_firms": len(c.members),
            **_sums(firms, c.members),
            "area_km2": c.area_km2,
            "lq": c.lq,
            "sector_share": len(c.members) / counts[c.sector],
        }
        for c in clusters
    )
    shapes = gpd.GeoSeries([c.hull for c in clusters], crs=metric_crs)
    table["geometry"] = shapes.to_crs(firms.crs).to_numpy() if firms.crs else shapes.to_numpy()
    touched, main = _touched_areas(firms, clusters, shapes, areas)
    table["n_areas"] = [len(t) for t in touched]
    table["n_core_areas"] = [1 if m else 0 for m in main]
    table["core_area"] = main
    table["core_areas"] = main
    table["area_codes"] = [";".join(sorted(t)) for t in touched]
    table["density_km2"] = table["n_firms"] / table["area_km2"]
    table["spec_z_max"] = table["spec_p_min"] = np.nan
    table["gi_z_max"] = np.nan
    table["gi_p_min"] = np.nan
    if areas is not None:
        table["name"] = [
            _name([m, *sorted(set(t) - {m})], areas["name"], parents) if m else ""
            for m, t in zip(main, touched, strict=True)
        ]
    else:
        table["name"] = [f"{s} cluster {k + 1}" for k, s in enumerate(table["sector"])]
    point = shapely.point_on_surface((shapes.to_crs(4326) if firms.crs else shapes).to_numpy())
    table["lat"] = shapely.get_y(point)
    table["lon"] = shapely.get_x(point)
    table["_row"] = np.arange(len(table))
    table = _ranked(table, "_row")
    ids = table.sort_values("_row")["sentra_id"].to_numpy(dtype=object)
    firm_sentra = np.full(len(firms), None, dtype=object)
    for sentra_id, cluster in zip(ids, clusters, strict=True):
        firm_sentra[cluster.members] = sentra_id
    out = _sentra_frame(table, firms.crs)
    logger.info("point sentra: %d in %d sector(s)", len(out), out["sector"].nunique())
    return out, pd.Series(firm_sentra, index=firms.index, name="sentra_id")


def _touched_areas(
    firms: gpd.GeoDataFrame,
    clusters: list[_PointCluster],
    shapes: gpd.GeoSeries,
    areas: gpd.GeoDataFrame | None,
) -> tuple[list[list[str]], list[str | None]]:
    """Codes of the areas each hull touches and each cluster's main area (where most of
    its firms are located, else the first area touched); empty without ``areas``."""
    touched: list[list[str]] = [[] for _ in clusters]
    main: list[str | None] = [None] * len(clusters)
    if areas is None:
        return touched, main
    area_shapes = areas.geometry.to_crs(shapes.crs) if areas.crs else areas.geometry
    hull_of, area_at = shapely.STRtree(area_shapes.to_numpy()).query(
        shapes.to_numpy(), predicate="intersects"
    )
    codes = np.asarray(areas.index.astype(str))
    for h, a in zip(hull_of, area_at, strict=True):
        touched[h].append(str(codes[a]))
    located = firms["area_code"].astype(str).to_numpy() if "area_code" in firms.columns else None
    for k, cluster in enumerate(clusters):
        if located is not None:
            main[k] = str(pd.Series(located[cluster.members]).value_counts().index[0])
        elif touched[k]:
            main[k] = touched[k][0]
    return touched, main


def _name(codes: list[str], names: pd.Series, parents: pd.Series | None) -> str:
    """'Trangsan, Gatak', 'Trangsan & Luwang, Gatak' or 'Trangsan, Luwang +2, Gatak'.

    ``codes`` are ordered by the sector's firms; repeated names (several H3 cells in one
    village) count once.
    """
    unique = list(dict.fromkeys(str(names.get(c, c)) for c in codes))
    if len(unique) == 1:
        label = unique[0]
    elif len(unique) == 2:
        label = f"{unique[0]} & {unique[1]}"
    else:
        label = f"{unique[0]}, {unique[1]} +{len(unique) - 2}"
    if parents is not None and codes[0] in parents.index and pd.notna(parents[codes[0]]):
        label = f"{label}, {parents[codes[0]]}"
    return label
