"""Co-location of sectors: which industries sit next to which, globally and around each
sentra, and which expected links of a value chain are missing.

**Global co-location quotient** (Leslie and Kronenfeld 2011). For sectors A and B,

    CLQ(A -> B) = (C(A -> B) / N_A) / (N'_B / (N - 1)),

where C(A -> B) counts the firms of A whose nearest neighbour is of B (a firm with
several nearest neighbours at the same distance gives each ``1 / ties``), N_A and N_B
are the sectors' firms, N all firms and N'_B = N_B - 1 when B is A (a firm is not its
own neighbour), else N_B. Under random labelling CLQ is about 1; above 1, B is found next
to A more often than its share predicts. Inference relabels the firms at random (the
locations stay): ``p_value`` is the share of relabellings with a CLQ at least the
observed one (co-location), ``p_isolation`` at most (both counting the observed one).
``z`` is the pair count's departure from its exact mean under random labelling, in
exact standard deviations (the moments of join counts, Cliff and Ord 1981, for the
nearest-neighbour pairs); above ``max_permuted`` firms the p-values are its normal tails.

**Local co-location quotient** (Cromley, Hanink and Bentley 2014; the form of ArcGIS
Pro's Colocation Analysis). For a firm i of A, its k nearest neighbours j (not i) get
Gaussian weights w_ij = f_ij exp(-0.5 d_ij^2 / b_i^2), with the adaptive bandwidth b_i
the distance to the k-th neighbour (all weights 1 when the k neighbours share i's place),
and

    LCLQ_i(A -> B) = (sum_j w_ij [j in B] / sum_j w_ij) / (N'_B / (N - 1)).

Ties at the k-th distance share the slots: the m < k firms nearer than b_i count fully
(f = 1), the t firms at b_i share the k - m slots left (f = (k - m) / t each, so the
memberships sum to k), the others not at all. This is the mean of the quotient over
every order of the tied firms, so it does not depend on the order of the input rows (a
firm among 40 at a village centre with k = 8 has the 39 others as neighbours, 8/39 each).
Its p-value is conditional: i stays, the labels of all its neighbours (nearer and tied)
are drawn at random without replacement from the other N - 1 firms.

**Per sentra** the CLQ towards B is the mean LCLQ of the sentra's focal firms (its firms
of its sector A), with the same neighbours and tie rule (so it does not depend on the
order of the rows either: a sentra at a village centre has every other firm there as
neighbour). Its p-value relabels, for each sentra on its own, every firm not of A: the
firms of A keep their sector (the sentra's and those elsewhere) and the other firms keep
their places and get the sectors of the firms not of A in a random order (a sample
without replacement). The firms of other sentra are relabelled like any other, so a
related sector that forms a sentra of its own next door is tested as one that does not;
so are the sentra's own firms of other sectors, and neighbours shared by several of the
sentra's firms (nearer or tied) share their random label. This is random labelling of
every other sector given A's firms. Relabelling A's firms outside the sentra as well
would be wrong: the sentra's firms that are not focal are by definition not of A, and a
null that put A's labels there would inflate every other sector's quotient (registries
with random sectors and sentra drawn over areas: 35 % of the p-values below 0.05 instead
of 4 %, A holding 40 % of the firms). A related sector counts (``significant``) when its
CLQ is above 1, its p-value below alpha and at least ``min_related_firms`` of its firms
are among the neighbours: with twenty-odd sectors tested per sentra, one rare firm next
door passes the test by chance too often to be called a supply base.

Distances are in metres along the chord of a sphere of the Earth's mean radius: a k-d
tree on 3-D points, exact in order for any extent (the whole country) and within 0.01 %
of the great-circle distance up to 100 km.

**Places.** Firms at exactly the same coordinates (a market building, firms geocoded to a
village centre) are one place: the nearest neighbours are found between places and the
pair counts are products of the sectors present at each end, so 60,000 firms at one point
cost about what 60,000 scattered firms cost, with the same quotients as firm by firm. The
local quotient finds a firm's neighbours as places too (a place's tied firms are one
entry whatever their number). Distances within :data:`TIE_M` (a micrometre) are tied.

**By tiles.** :func:`tiled_colocation` finds the same neighbours tile by tile
(:mod:`klastergeo.analysis.tiles`): each tile's firms with a halo of the firms around it,
one k-d tree for both quotients. A firm's search (its nearest distance, or its k-th, plus
:data:`TIE_M`) is kept only when it stays inside what the halo is known to hold (a lower
bound of the distance to any firm beyond it); the others are searched again among
every firm within the radius first found (an upper bound of the true one). The global
counts and the five sums of the exact moments are added tile by tile (a pair whose
reverse lies in another tile is matched at the end; each place's incoming weight is kept
at its first firm, a number per firm); only the relabellings (at most
``max_permuted`` firms) hold every pair. The local entries are those of the sentra's
focal firms. The results are the whole-set functions': the same pairs, quotients and,
for the same seed, p-values.

**Sectors tested.** With ``min_firms``, sectors with fewer firms get no quotient (their
firms are still firms and neighbours), and ``pairs="observed"`` gives only the pairs that
are nearest neighbours at least once (the others have CLQ 0 and p = 1) and those asked
for: memory and time follow the firms and those pairs, not the number of sectors squared.

**Value chains.** A linkage table (``from_sector,to_sector,role``) says that
``from_sector`` is a ``supplier``, ``buyer``, ``supporting`` or ``related`` industry of
``to_sector``; ``to_sector`` may be a range (``10-33``, KBLI divisions). The default
table (``klastergeo/data/linkages.csv``) is a documented assumption, not data: a few
textbook links between KBLI divisions, to be replaced by a user's own.
"""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree
from scipy.stats import norm

from klastergeo._docstrings import fill
from klastergeo.analysis.tiles import (
    CELL_DEG,
    TileFirms,
    Tiling,
    halo_needed,
    outside_distance,
    wrapped,
)
from klastergeo.errors import ConfigError, DataError, preview

__all__ = [
    "DEFAULT_LINKAGES",
    "LINKAGE_COLUMNS",
    "MAX_ALL_PAIRS",
    "ROLES",
    "TIE_M",
    "LocalCLQ",
    "SentraLinks",
    "TiledColocation",
    "global_clq",
    "linked_pairs",
    "local_clq",
    "read_linkages",
    "sector_codes",
    "sentra_related",
    "tiled_colocation",
]

logger = logging.getLogger(__name__)

#: What a related industry is to a sentra's sector, as a linkage table names it.
ROLES = ("supplier", "buyer", "supporting", "related")
#: The shipped default linkage table (an assumption between KBLI divisions, not data).
DEFAULT_LINKAGES = Path(str(files("klastergeo") / "data" / "linkages.csv"))
#: The Earth's mean radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
#: Distances closer than this (metres, absolute) are tied. A point on the sphere is held
#: to about 1e-9 m (a double's precision at the Earth's radius) and a longitude stored
#: as degrees to about 1.5e-9 m, so the rounding of a distance is a few nanometres
#: whatever its length: a micrometre is a thousand times that, and ten thousand times
#: finer than the 7th decimal of a degree (1 cm).
TIE_M = 1e-6
#: The firms' parameters of every co-location function.
_FIRMS = """lon, lat
    Each firm's coordinates (degrees, EPSG:4326).
labels
    Each firm's sector."""


@dataclass(frozen=True)
class SentraLinks:
    """The industries around each sentra (:func:`sentra_related`).

    ``related``: one row per sentra and related sector; ``missing``: the linkage table's
    links that are not co-located; ``firms``: the firms behind ``n_related_firms``, one
    row per sentra, related sector and firm (``firm``, a position in the input) found
    among the neighbours of the sentra's firms.
    """

    related: pd.DataFrame
    missing: pd.DataFrame
    firms: pd.DataFrame


def _points(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
    """Longitude/latitude (degrees) as 3-D points on a sphere of the Earth's radius."""
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    if not (np.isfinite(lam).all() and np.isfinite(phi).all()):
        raise DataError("co-location needs finite coordinates for every firm")
    cos_phi = np.cos(phi)
    return EARTH_RADIUS_M * np.column_stack(
        [cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)]
    )


def _labels(labels: ArrayLike) -> tuple[NDArray[np.int64], pd.Index]:
    """Each firm's sector as a code into the sorted sector names (text)."""
    cat = _categorical(labels)
    if cat is not None and not (cat.codes < 0).any():
        # a national registry's sectors: a small code per firm, no text per firm
        names = np.asarray(cat.categories.astype(str), dtype=object)
        rank = _ranks(names)
        if rank is not None:
            order = np.argsort(rank)
            return rank[cat.codes], pd.Index(names[order], name="sector")
    codes, uniques = pd.factorize(pd.Series(np.asarray(labels)).astype(str), sort=True)
    return codes.astype(np.int64), pd.Index(uniques, name="sector")


def _categorical(values: Any) -> pd.Categorical | None:
    """``values`` as a pandas Categorical without its unused categories, if it is one."""
    values = values.array if isinstance(values, pd.Series) else values
    if isinstance(values, pd.Categorical):
        return values.remove_unused_categories()
    return None


def _ranks(names: NDArray[Any]) -> NDArray[np.int64] | None:
    """Each name's rank in sorted order; None when two are the same text."""
    order = np.argsort(names, kind="stable")
    if len(names) > 1 and (names[order][1:] == names[order][:-1]).any():
        return None
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    return rank


def _groups(sentra_of: ArrayLike) -> tuple[NDArray[np.bool_], NDArray[Any], NDArray[np.int64]]:
    """Which firms lie in a sentra, the sentra ids (sorted text) and each member's
    sentra as a position among them (missing or empty ids: in none)."""
    cat = _categorical(sentra_of)
    if cat is not None:
        text = np.asarray(cat.categories.astype(str), dtype=object)
        codes = cat.codes.astype(np.int64)
        member = codes >= 0
        member[member] = text[codes[member]] != ""
        rank = _ranks(text)
        if rank is not None:
            used = np.unique(codes[member])
            position = np.full(len(text), -1, dtype=np.int64)
            position[used[np.argsort(rank[used])]] = np.arange(len(used))
            names = text[used][np.argsort(rank[used])]
            return member, names, position[codes[member]]
    sentra = pd.Series(np.asarray(sentra_of, dtype=object)).where(
        lambda v: v.notna() & (v.astype(str) != ""), None
    )
    member = sentra.notna().to_numpy()
    names, group = np.unique(sentra[member].astype(str).to_numpy(), return_inverse=True)
    return member, names, group.astype(np.int64)


#: Multiplier of the coordinates' hash (Fibonacci hashing): finding the firms that share
#: a place is one sort of 64-bit keys, then an exact comparison of the few that repeat.
_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class _Places:
    """The firms' distinct places (exactly the same coordinates: a market building,
    firms geocoded to a village centre). Ties are found between places, so a thousand
    firms at one point cost what one firm costs.

    ``xyz`` holds each place's point. With shared places, ``of`` is each firm's place,
    ``size`` its number of firms and the firms of place ``p``, by position, are
    ``order[start[p]:start[p] + size[p]]``; these are None when every firm has a place
    of its own (the places are the firms, in order).
    """

    xyz: NDArray[np.float64]
    of: NDArray[np.int64] | None = None
    size: NDArray[np.int64] | None = None
    order: NDArray[np.int64] | None = None
    start: NDArray[np.int64] | None = None

    @property
    def n(self) -> int:
        """Firms."""
        return len(self.xyz) if self.of is None else len(self.of)

    def firm(self, place: NDArray[np.integer[Any]]) -> NDArray[np.integer[Any]]:
        """The first firm (by position) of each of ``place``."""
        if self.order is None or self.start is None:
            return place
        return self.order[self.start[place]]


def _places(lon: ArrayLike, lat: ArrayLike) -> _Places:
    """The firms grouped by place (see :class:`_Places`), places numbered in the order
    of their first firm."""
    xyz = _points(lon, lat)
    # -0.0 as 0.0 (one place, one key); one coordinate array at a time besides the keys
    key = (np.asarray(lon, dtype=np.float64) + 0.0).view(np.uint64) * _MIX
    key ^= (np.asarray(lat, dtype=np.float64) + 0.0).view(np.uint64)
    ordered = np.sort(key)
    repeats = ordered[1:] == ordered[:-1]
    if not repeats.any():
        return _Places(xyz)
    repeated = ordered[1:][repeats]
    del ordered, repeats
    x = np.asarray(lon, dtype=np.float64) + 0.0
    y = np.asarray(lat, dtype=np.float64) + 0.0
    n = len(key)
    # the firms whose key repeats, grouped by their exact coordinates (a hash collision
    # of two places costs a comparison, never a merge), by position within a place
    shared = np.flatnonzero(np.isin(key, repeated))
    grouped = shared[np.lexsort((shared, y[shared], x[shared]))]
    head = np.ones(len(grouped), dtype=bool)
    head[1:] = (x[grouped][1:] != x[grouped][:-1]) | (y[grouped][1:] != y[grouped][:-1])
    group = np.cumsum(head) - 1
    heads = np.flatnonzero(head)
    first = np.arange(n)
    first[grouped] = grouped[heads][group]
    leads = first == np.arange(n)
    of = (np.cumsum(leads) - 1)[first]
    size = np.bincount(of)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    rank = np.zeros(n, dtype=np.int64)
    rank[grouped] = np.arange(len(grouped)) - heads[group]
    order = np.empty(n, dtype=np.int64)
    order[start[of] + rank] = np.arange(n)
    return _Places(xyz[leads], of, size, order, start)


def _knn(
    tree: cKDTree, xyz: NDArray[np.float64], k: int, rows: NDArray[np.int64] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The ``k`` nearest neighbours of the points ``rows`` (default: all), each point
    itself left out even when others share its place."""
    rows = np.arange(len(xyz)) if rows is None else rows
    k = min(k, len(xyz) - 1)
    dist, idx = tree.query(xyz[rows], k=k + 1, workers=-1)  # every core, as the engine
    dist, idx = dist.reshape(len(rows), k + 1), idx.reshape(len(rows), k + 1)
    if (idx[:, 0] == rows).all():  # each point first among its own (no other at it)
        return dist[:, 1:], idx[:, 1:]
    own = idx == rows[:, None]
    # a point not among its own k + 1 neighbours (more than k others at its place): drop
    # the last one instead
    own[~own.any(axis=1), k] = True
    keep = ~own
    return dist[keep].reshape(len(rows), k), idx[keep].reshape(len(rows), k)


#: Focal firms whose k nearest neighbours are gathered at a time, when places are shared
#: (up to (k + 1)^2 candidates each).
_FOCAL_CHUNK = 1 << 16


#: Points whose nearest neighbours are looked up at a time (bounds the query's memory).
_NEAREST_CHUNK = 1 << 20


def _ties(
    places: _Places,
) -> tuple[NDArray[np.integer[Any]], NDArray[np.integer[Any]], NDArray[np.float64]]:
    """Each place's nearest places with ties (see :func:`_nearest`)."""
    src, dst, w, _, _ = _nearest(places, cKDTree(places.xyz, balanced_tree=False))
    return src, dst, w


def _nearest(
    places: _Places, tree: cKDTree, sources: NDArray[np.int64] | None = None
) -> tuple[
    NDArray[np.integer[Any]],
    NDArray[np.integer[Any]],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.float64],
]:
    """The nearest places with ties of the places ``sources`` (default: all) on
    ``tree`` (of ``places.xyz``): (place, neighbour place, weight of each neighbour
    firm), positions in int32 when they fit, and each source (in the order done) with
    its nearest distance; looked up :data:`_NEAREST_CHUNK` places at a time.

    A firm's nearest neighbours are every firm at the smallest distance from it (within
    :data:`TIE_M`), each weighing ``1 / ties``. For a place of one firm these are the
    firms of its nearest places; for a place of several, the other firms there
    (distance 0) and those of any place within :data:`TIE_M` (then the place is its own
    neighbour)."""
    xyz, size = places.xyz, places.size
    u = len(xyz)
    kind = np.int32 if u <= np.iinfo(np.int32).max else np.int64
    src, dst, weights, done_at, reach = [], [], [], [], []
    # in the tree's order: neighbouring queries walk the same nodes (4x faster at 8 M)
    walk = tree.indices.astype(np.int64)
    if sources is not None:
        rank = np.empty(u, dtype=np.int64)
        rank[walk] = np.arange(u)
        walk = sources[np.argsort(rank[sources])]
    for start in range(0, len(walk), _NEAREST_CHUNK):
        todo = walk[start : start + _NEAREST_CHUNK]
        k = 2  # most places have one nearest place: a tie of two asks for more
        while len(todo):  # a few rounds: places whose k neighbours all tie ask for more
            if size is None:  # a place per firm: its k nearest others, compact
                dist, idx = _knn(tree, xyz, k, todo)
                valid: Any = True
                lone: Any = True
            else:  # a place of several firms is its own nearest (its other firms, at 0)
                q = min(k + 1, u)
                dist, idx = tree.query(xyz[todo], k=q, workers=-1)
                dist, idx = dist.reshape(len(todo), q), idx.reshape(len(todo), q)
                lone = size[todo] == 1
                own = (idx == todo[:, None]) & lone[:, None]
                # a place of one firm missing among its own q (others at its very
                # point): the last one is left out instead
                own[lone & ~own.any(axis=1), q - 1] = True
                valid = ~own
                dist = np.where(valid, dist, np.inf)
            nearest = dist.min(axis=1, keepdims=True)
            tied = (dist <= nearest + TIE_M) & valid
            more = (tied == valid).all(axis=1) & (idx.shape[1] < u - (size is None))
            if more.any():
                done = ~more
                tied, idx, nearest = tied[done], idx[done], nearest[done]
                here, lone = todo[done], lone if size is None else lone[done]
            else:  # every search done (most rounds): no copies
                here = todo
            r, c = np.nonzero(tied)
            if size is None:
                firms = tied.sum(axis=1)
            else:  # the firms at the tied places, the place's own firm left out
                firms = np.where(tied, size[idx], 0).sum(axis=1) - ~lone
            src.append(here[r].astype(kind))
            dst.append(idx[r, c].astype(kind))
            weights.append((1.0 / firms)[r])
            done_at.append(here)
            reach.append(nearest[:, 0])
            todo, k = todo[more], k * 4
    if not src:
        none = np.zeros(0, dtype=np.int64)
        return none.astype(kind), none.astype(kind), np.zeros(0), none, np.zeros(0)
    return (
        np.concatenate(src),
        np.concatenate(dst),
        np.concatenate(weights),
        np.concatenate(done_at),
        np.concatenate(reach),
    )


@dataclass(frozen=True)
class _Pairs:
    """The nearest-neighbour relation as the pair counts read it: firm pairs between
    places of one firm each (``rows``, ``cols``, ``weights``), and place pairs with a
    place of several firms at one end (``src``, ``dst``: places numbered among those
    ``groups``; ``w``, the weight of each neighbour firm; ``loop``: a place its own
    neighbour), whose firms ``members`` lie in ``member_place``."""

    rows: NDArray[np.integer[Any]]
    cols: NDArray[np.integer[Any]]
    weights: NDArray[np.float64]
    src: NDArray[np.int64]
    dst: NDArray[np.int64]
    w: NDArray[np.float64]
    loop: NDArray[np.bool_]
    members: NDArray[np.int64]
    member_place: NDArray[np.int64]
    groups: int


def _pairs(
    places: _Places,
    src: NDArray[np.integer[Any]],
    dst: NDArray[np.integer[Any]],
    w: NDArray[np.float64],
) -> _Pairs:
    """The place-level ties as :class:`_Pairs`."""
    none = np.zeros(0, dtype=np.int64)
    if places.size is None:
        return _Pairs(src, dst, w, none, none, np.zeros(0), none.astype(bool), none, none, 0)
    assert places.order is not None and places.start is not None
    size, order, start = places.size, places.order, places.start
    plain = (size[src] == 1) & (size[dst] == 1)
    kind = src.dtype
    rows = order[start[src[plain]]].astype(kind)
    cols = order[start[dst[plain]]].astype(kind)
    g_src, g_dst = src[~plain].astype(np.int64), dst[~plain].astype(np.int64)
    involved = np.unique(np.concatenate([g_src, g_dst]))
    lengths = size[involved]
    at = np.repeat(start[involved] - (np.cumsum(lengths) - lengths), lengths)
    members = order[at + np.arange(int(lengths.sum()))]
    return _Pairs(
        rows=rows,
        cols=cols,
        weights=w[plain],
        src=np.searchsorted(involved, g_src),
        dst=np.searchsorted(involved, g_dst),
        w=w[~plain],
        loop=g_src == g_dst,
        members=members,
        member_place=np.repeat(np.arange(len(involved)), lengths),
        groups=len(involved),
    )


def _sector_pairs(
    codes: NDArray[np.integer[Any]], pairs: _Pairs, width: int
) -> tuple[NDArray[np.integer[Any]], NDArray[np.float64]]:
    """The (ties-weighted) nearest-neighbour pairs of one labelling as sector pairs:
    keys ``a * width + b`` and weights, a key once per firm pair and per sector pair of
    a place pair. Sector ``width - 1`` stands for every sector not tested: its firms
    are neighbours, but its pairs are not counted from the places of several firms."""
    wide = np.int32 if width * width < 2**31 else np.int64
    keys = codes[pairs.rows].astype(wide) * width + codes[pairs.cols]
    if not pairs.groups:
        return keys, pairs.weights
    # a place pair (L, M) adds w c_L[a] (c_M[b] - [L = M][a = b]) to (a, b): the products
    # of the sectors present at each end, not of their firms
    sector = codes[pairs.members].astype(np.int64)
    keep = sector < width - 1
    present, count = np.unique(pairs.member_place[keep] * width + sector[keep], return_counts=True)
    bounds = np.searchsorted(present // width, np.arange(pairs.groups + 1))
    begin, many = bounds[:-1], np.diff(bounds)
    left, right = many[pairs.src], many[pairs.dst]
    terms = left * right
    edge = np.repeat(np.arange(len(terms)), terms)
    offset = np.arange(int(terms.sum())) - np.repeat(np.cumsum(terms) - terms, terms)
    ia = begin[pairs.src][edge] + offset // right[edge]
    ib = begin[pairs.dst][edge] + offset % right[edge]
    a, b = present[ia] % width, present[ib] % width
    own = np.where(pairs.loop[edge] & (ia == ib), count[ia], 0)
    weight = pairs.w[edge] * (count[ia] * count[ib] - own)
    return (
        np.concatenate([keys.astype(np.int64), a * width + b]),
        np.concatenate([pairs.weights, weight]),
    )


def _count_at(
    keys: NDArray[np.integer[Any]],
    weights: NDArray[np.float64],
    wanted: NDArray[np.int64],
    width: int,
) -> NDArray[np.float64]:
    """The summed weights of the sector pairs ``wanted`` (sorted keys): one
    ``bincount`` over every pair when there are few sectors, else a search of each key
    among the wanted ones (memory follows the pairs, not the sectors squared)."""
    if width * width <= _DENSE_PAIRS:
        full = np.bincount(keys, weights=weights, minlength=width * width)
        return np.asarray(full[wanted], dtype=np.float64)
    if not len(wanted):
        return np.zeros(0)
    at = np.minimum(np.searchsorted(wanted, keys), len(wanted) - 1)
    hit = wanted[at] == keys
    found = np.bincount(at[hit], weights=weights[hit], minlength=len(wanted))
    return np.asarray(found, dtype=np.float64)


#: Sector pairs counted in one dense array (more sectors: only the pairs that occur).
_DENSE_PAIRS = 1 << 22
#: Pairs :func:`global_clq` gives with ``pairs="all"`` at most (a thousand sectors).
MAX_ALL_PAIRS = 1_000_000


def _small(values: NDArray[np.integer[Any]], most: int) -> NDArray[np.integer[Any]]:
    """Non-negative integers below ``most`` in the smallest of int16/int32/int64: a
    relabelling shuffles and gathers a quarter of the bytes of int64."""
    for kind in (np.int16, np.int32):
        if most <= np.iinfo(kind).max:
            return values.astype(kind)
    return values.copy()  # a copy in every case: the relabellings shuffle it in place


@fill(firms=_FIRMS)
def global_clq(
    lon: ArrayLike,
    lat: ArrayLike,
    labels: ArrayLike,
    *,
    permutations: int = 99,
    seed: int = 0,
    max_permuted: int = 2_000_000,
    min_firms: int = 1,
    pairs: str = "all",
    also: Iterable[tuple[str, str]] = (),
) -> pd.DataFrame:
    """The global co-location quotient of the ordered pairs of sectors, with
    permutation inference (see the module's text).

    Parameters
    ----------
    {firms}
    permutations
        Random relabellings of the firms (0: no p-values).
    seed
        Seed of the relabellings (``numpy.random.default_rng``).
    max_permuted
        With more firms, the p-values come from the normal approximation with the exact
        mean and variance under random labelling (``z``) instead of relabellings: a
        relabelling of tens of millions of firms takes seconds, and with that many
        firms the count is a sum of millions of weakly dependent terms.
    min_firms
        Sectors with fewer firms are not tested (neither row nor column); their firms
        still count as firms and as neighbours.
    pairs
        ``"all"``: every ordered pair of tested sectors (at most :data:`MAX_ALL_PAIRS`:
        for a few hundred sectors); ``"observed"``: the pairs that are nearest
        neighbours at least once (the others have a CLQ of 0 and a ``p_value`` of 1),
        plus ``also``: memory and time follow the firms, not the sectors squared.
    also
        (sector, related sector) pairs to give in any case (of tested sectors; others
        are left out).

    Returns
    -------
    DataFrame
        Indexed by (``sector``, ``related_sector``): ``n_sector``, ``n_related``,
        ``clq``, ``z`` (its departure from random labelling in standard deviations,
        from the exact moments), ``p_value`` (co-location) and ``p_isolation``.

    Examples
    --------
    >>> out = global_clq([0, 0.001, 1, 1.001], [0, 0, 0, 0], ["a", "a", "b", "b"])
    >>> float(out.loc[("a", "a"), "clq"]), float(out.loc[("a", "b"), "clq"])
    (3.0, 0.0)
    >>> global_clq([0, 0.001, 1, 1.001], [0, 0, 0, 0], ["a", "a", "b", "b"],
    ...            pairs="observed").index.tolist()
    [('a', 'a'), ('b', 'b')]
    """
    _check_options(permutations=(permutations, 0), max_permuted=(max_permuted, 0), seed=(seed, 0))
    _check_firms(lon, lat, labels)
    codes, sectors = _labels(labels)
    # a stated order (longitude, latitude, sector), not the rows': firms alike in all
    # three are interchangeable, so the seeded relabellings give the same p-values
    # whatever order the rows come in
    x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    order = np.lexsort((codes, y, x))
    codes, lon, lat = codes[order], x[order], y[order]
    n = len(codes)
    every, tested = _tested_sectors(codes, len(sectors), min_firms, pairs)
    t = len(tested)
    width = t + 1  # the last sector: every one below min_firms
    remap = np.full(len(sectors), t, dtype=np.int64)
    remap[tested] = np.arange(t)
    names = sectors[tested]
    places = _places(lon, lat)
    src, dst, w = _ties(places)
    sums = _graph_sums(places, src, dst, w)
    graph = _pairs(places, src, dst, w)
    del src, dst, w
    keys, weights = _sector_pairs(remap[codes], graph, width)
    wanted = _wanted(keys, weights, pairs, also, names, t)
    observed = _count_at(keys, weights, wanted, width)
    del keys, weights
    counts = every[tested].astype(np.float64)
    out, scale = _clq_table(observed, wanted, width, counts, n, sums, names)
    if not permutations:
        return out
    if n > max_permuted:
        logger.info(
            "co-location: %d firms (more than %d): global p-values from the exact moments",
            n,
            max_permuted,
        )
        undefined = out["clq"].isna().to_numpy()
        out["p_value"] = np.where(undefined, np.nan, norm.sf(out["z"].to_numpy()))
        out["p_isolation"] = np.where(undefined, np.nan, norm.cdf(out["z"].to_numpy()))
        return out
    return _permutation_p(out, remap[codes], graph, (wanted, width, scale), permutations, seed)


def _tested_sectors(
    codes: NDArray[np.int64], s: int, min_firms: int, pairs: str
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The firms of each of the ``s`` sectors and the sectors tested (with ``min_firms``
    firms), after checking the options of :func:`global_clq`."""
    n = len(codes)
    if n < 3:
        raise DataError(f"co-location needs at least 3 firms, got {n}")
    if pairs not in ("all", "observed"):
        raise ConfigError(f"pairs={pairs!r}: use 'all' or 'observed'")
    if min_firms < 1:
        raise ConfigError(f"colocation.min_firms={min_firms!r} must be at least 1")
    every = np.bincount(codes, minlength=s)
    tested = np.flatnonzero(every >= min_firms)
    t = len(tested)
    if pairs == "all" and t * t > MAX_ALL_PAIRS:
        raise ConfigError(
            f"pairs='all' asks for {t * t:,} pairs of {t:,} sectors (at most "
            f"{MAX_ALL_PAIRS:,}); use pairs='observed', name the pairs wanted (also=...) "
            "or raise min_firms"
        )
    return every, tested


def _clq_table(
    observed: NDArray[np.float64],
    wanted: NDArray[np.int64],
    width: int,
    counts: NDArray[np.float64],
    n: int,
    sums: _GraphSums,
    names: pd.Index,
) -> tuple[pd.DataFrame, NDArray[np.float64]]:
    """The global CLQ of the ``wanted`` pairs (``a * width + b``) of the tested sectors
    (``counts`` firms each, of ``n`` firms) from their ``observed`` weighted counts, with
    ``z`` from the exact moments under random labelling; and the scale that turns a count
    into a CLQ."""
    a, b = wanted // width, wanted % width
    same = a == b
    expected = (counts[b] - same) / (n - 1)  # N'_B / (N - 1), per (A, B)
    with np.errstate(divide="ignore", invalid="ignore"):
        # undefined (NaN) for a sector of one firm towards itself: it has no other firm
        scale = np.where(expected > 0, 1.0 / (counts[a] * expected), np.nan)
    clq = observed * scale
    mean, variance = _null_moments(sums, counts[a], counts[b], same)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, (observed - mean) / np.sqrt(variance), np.nan)
    levels: list[Any] = [names, names]  # codes into the sectors: no text per pair
    positions: list[Any] = [a, b]
    index = pd.MultiIndex(levels=levels, codes=positions, names=["sector", "related_sector"])
    out = pd.DataFrame(
        {
            "n_sector": counts[a].astype(np.int64),
            "n_related": counts[b].astype(np.int64),
            "clq": clq,
            "z": np.where(np.isnan(clq), np.nan, z),
        },
        index=index,
    )
    return out, scale


def _permutation_p(
    out: pd.DataFrame,
    labels: NDArray[np.int64],
    graph: _Pairs,
    wanted: tuple[NDArray[np.int64], int, NDArray[np.float64]],
    permutations: int,
    seed: int,
) -> pd.DataFrame:
    """``out`` with the permutation p-values of co-location (``p_value``) and isolation
    (``p_isolation``) of its pairs, from ``permutations`` random relabellings of the
    firms' sector ``labels`` (``wanted``: the pairs, the width of their keys and the scale
    of their counts)."""
    pairs, width, scale = wanted
    clq = out["clq"].to_numpy()
    undefined = np.isnan(clq)
    above = np.zeros(len(pairs))
    below = np.zeros(len(pairs))
    rng = np.random.default_rng(seed)
    shuffled = _small(labels, width)
    n = len(labels)
    small = dataclasses.replace(graph, rows=_small(graph.rows, n), cols=_small(graph.cols, n))
    for _ in range(permutations):  # relabellings; each is one count of the pairs
        rng.shuffle(shuffled)  # in place: a random relabelling of the last one is one too
        sim = _count_at(*_sector_pairs(shuffled, small, width), pairs, width) * scale
        above += sim >= clq - 1e-12
        below += sim <= clq + 1e-12
    out["p_value"] = np.where(undefined, np.nan, (above + 1) / (permutations + 1))
    out["p_isolation"] = np.where(undefined, np.nan, (below + 1) / (permutations + 1))
    return out


def _wanted(
    keys: NDArray[np.integer[Any]],
    weights: NDArray[np.float64],
    pairs: str,
    also: Iterable[tuple[str, str]],
    names: pd.Index,
    t: int,
) -> NDArray[np.int64]:
    """The sorted keys of the sector pairs to give: all of them, or those that are
    nearest neighbours at least once, and those asked for."""
    width = t + 1
    if pairs == "all":
        grid = np.arange(t, dtype=np.int64)
        return (grid[:, None] * width + grid[None, :]).ravel()
    if width * width <= _DENSE_PAIRS:
        total = np.bincount(keys, weights=weights, minlength=width * width)
        met = np.flatnonzero(total > 0)
    else:
        present, inverse = np.unique(keys, return_inverse=True)
        met = present[np.bincount(inverse, weights=weights) > 0].astype(np.int64)
    met = met[(met // width < t) & (met % width < t)]  # untested sectors are no pair
    given = list(also)
    if given:
        asked = pd.DataFrame(given, columns=["a", "b"], dtype=str)
        a = names.get_indexer(pd.Index(asked["a"]))
        b = names.get_indexer(pd.Index(asked["b"]))
        ok = (a >= 0) & (b >= 0)
        met = np.union1d(met, a[ok].astype(np.int64) * width + b[ok])
    return np.asarray(met, dtype=np.int64)


@dataclass(frozen=True)
class _GraphSums:
    """What the exact moments of every pair count need of the nearest-neighbour graph
    (its five sums, :func:`_null_moments`), and the number of firms."""

    n: float
    w_total: float
    w_sq: float
    shared_source: float
    shared_target: float
    mutual: float
    chain: float


def _graph_sums(
    places: _Places,
    src: NDArray[np.integer[Any]],
    dst: NDArray[np.integer[Any]],
    w: NDArray[np.float64],
) -> _GraphSums:
    """The graph's sums over the firm pairs, from the place pairs: a place pair
    (L, M) stands for s_L (s_M - [L = M]) firm pairs of weight w."""
    u = len(places.xyz)
    if places.size is None:  # a place per firm: the firm pairs themselves
        w_total, w_sq = float(w.sum()), float((w**2).sum())
        out = np.bincount(src, weights=w, minlength=u)
        into = np.bincount(dst, weights=w, minlength=u)
        size: Any = 1.0
        pair_firms: Any = 1.0
    else:
        size = places.size.astype(np.float64)
        s_src, loop = size[src], src == dst
        others = size[dst] - loop  # neighbour firms of each source firm through the pair
        w_total = float((s_src * w * others).sum())
        w_sq = float((s_src * w**2 * others).sum())
        out = np.bincount(src, weights=w * others, minlength=u)  # per firm of each place
        into = np.bincount(dst, weights=w * (s_src - loop), minlength=u)
        pair_firms = s_src * size[dst]
    shared_source = float((size * out**2).sum()) - w_sq  # the w^2 per source add to w_sq
    shared_target = float((size * into**2).sum()) - w_sq
    # mutual neighbours: the two directions of a place pair share one key, next to each
    # other once sorted (a sort, not a search per pair: cache-friendly at 26 M pairs);
    # a place its own neighbour: each ordered pair of its firms
    key = np.minimum(src, dst).astype(np.int64) * u + np.maximum(src, dst)
    order = np.argsort(key)
    twin = np.flatnonzero(key[order][1:] == key[order][:-1])
    del key
    first, second = order[twin], order[twin + 1]
    firms = pair_firms if places.size is None else pair_firms[first]
    mutual = 2.0 * float((firms * w[first] * w[second]).sum())
    if places.size is not None:
        mutual += float((s_src * (s_src - 1) * w**2)[loop].sum())
    chain = float((size * out * into).sum()) - mutual  # one's target is the other's source
    return _GraphSums(
        n=float(places.n),
        w_total=w_total,
        w_sq=w_sq,
        shared_source=shared_source,
        shared_target=shared_target,
        mutual=mutual,
        chain=chain,
    )


def _null_moments(
    sums: _GraphSums,
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    same: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The exact mean and variance of the pair counts C(A -> B) = sum_p w_p [i_p in A]
    [j_p in B] over the nearest-neighbour pairs p = (i_p, j_p, w_p) when the sectors'
    labels are shuffled at random (drawn without replacement), for sectors of ``a`` and
    ``b`` firms (``same``: A is B).

    E[C] = W P(2) with W = sum w. E[C^2] adds, over ordered pairs of pairs, the weight
    products of each way two pairs can share firms (the same source: ties; the same
    target; one's target the other's source; each other's reverse; none) times the
    chance that the three or four firms involved carry the labels asked for: a falling
    factorial ratio, as for join counts (Cliff and Ord 1981). Only the pair graph's
    five sums are needed, once, for every sector pair."""
    n = sums.n
    disjoint = (
        sums.w_total**2
        - sums.w_sq
        - sums.shared_source
        - sums.shared_target
        - sums.mutual
        - 2 * sums.chain
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        p2 = a * (b - same) / (n * (n - 1))
        p_source = p2 * (b - 1 - same) / (n - 2)  # A, then two of B
        p_target = p2 * (a - 1 - same) / (n - 2)  # two of A, then B
        p_four = p2 * (a - 1 - same) * (b - 1 - 2 * same) / ((n - 2) * (n - 3))
        p_three_same = np.where(same, p_source, 0.0)  # a chain: three firms, all of A
        p_mutual = np.where(same, p2, 0.0)  # each other's reverse: two firms, both A
        second = (
            sums.w_sq * p2
            + sums.shared_source * p_source
            + sums.shared_target * p_target
            + sums.mutual * p_mutual
            + 2 * sums.chain * p_three_same
            + disjoint * p_four
        )
    mean = sums.w_total * p2
    return mean, np.maximum(second - mean**2, 0.0)


@dataclass(frozen=True)
class LocalCLQ:
    """Local co-location quotients of the focal firms towards every tested sector.

    ``clq`` and ``p_value`` are indexed by the focal firms' positions, one column per
    sector with at least ``min_firms`` firms; ``p_value`` is None without permutations.
    ``neighbours`` has a row per focal firm and neighbour place, nearest first:
    ``focal`` (position), ``firm`` (the place's first firm in input order, a position),
    ``firms`` (its firms among the neighbours, the focal firm left out), ``tied`` (at the
    k-th distance: these firms share the remaining slots) and ``weight`` (each such
    firm's normalised weight: ``firms x weight`` sums to 1 per focal firm).
    """

    clq: pd.DataFrame
    p_value: pd.DataFrame | None
    neighbours: pd.DataFrame


@dataclass(frozen=True)
class _Around:
    """Each focal firm's neighbour places with the tie rule of :func:`local_clq`, one
    entry per (focal firm, place), by focal row then distance: ``row`` (the focal
    firm's row among the focal firms), ``place``, ``firms`` (the neighbour firms there,
    the focal firm left out), ``weight`` (each such firm's normalised weight) and
    ``tied`` (at the k-th distance)."""

    row: NDArray[np.int64]
    place: NDArray[np.int64]
    firms: NDArray[np.int64]
    weight: NDArray[np.float64]
    tied: NDArray[np.bool_]


def _around(places: _Places, k: int, rows: NDArray[np.int64]) -> _Around:
    """The neighbours of the firms ``rows`` (see :class:`_Around`): the firms nearer
    than the k-th distance D_k count fully, the t firms at D_k (within :data:`TIE_M`)
    share the m < k slots left, (k - m) / t each, and every firm weighs
    exp(-0.5 d^2 / D_k^2) (1 when D_k is 0) times its membership (see
    :func:`_around_on`)."""
    of = np.arange(places.n) if places.of is None else places.of
    tree = cKDTree(places.xyz, balanced_tree=False)
    found, _ = _around_on(places, tree, min(k, places.n - 1), of[rows])
    return found


def _around_on(
    places: _Places, tree: cKDTree, k: int, home: NDArray[np.int64]
) -> tuple[_Around, NDArray[np.float64]]:
    """The neighbours (:class:`_Around`, ``row`` a position in ``home``) of firms at
    the places ``home`` among the places of ``tree``, with ``k`` slots, and each firm's
    k-th distance D_k (infinite when the tree holds fewer than ``k`` other firms).
    Found between places: k + 2 nearest places at first, more (four times) only for
    the firms whose places at D_k may go on beyond those found."""
    u = len(places.xyz)
    size = np.ones(u, dtype=np.int64) if places.size is None else places.size
    parts: list[tuple[NDArray[Any], ...]] = [
        (np.zeros(0, np.int64),) * 3 + (np.zeros(0),) + (np.zeros(0, bool),)
    ]
    bands = np.full(len(home), np.inf)
    for begin in range(0, len(home), _FOCAL_CHUNK):  # chunks of focal firms: memory bounded
        todo = np.arange(begin, min(begin + _FOCAL_CHUNK, len(home)))
        # k + 1 places hold k other firms; one more tells whether the k-th distance
        # goes on beyond them (else every firm would need a second, wider round)
        q = min(k + 2, u)
        while len(todo):
            dist, near = tree.query(places.xyz[home[todo]], k=q, workers=-1)
            dist, near = dist.reshape(len(todo), q), near.reshape(len(todo), q)
            avail = size[near] - (near == home[todo][:, None])
            enough = np.cumsum(avail, axis=1) >= k
            kth = np.argmax(enough, axis=1)
            band = dist[np.arange(len(todo)), kth][:, None]
            more = ((dist[:, -1] <= band[:, 0] + TIE_M) | ~enough[:, -1]) & (q < u)
            done = ~more & enough[:, -1]
            dist, near, avail, band = dist[done], near[done], avail[done], band[done]
            bands[todo[done]] = band[:, 0]
            inner = dist < band - TIE_M
            tied = ~inner & (dist <= band + TIE_M) & (avail > 0)
            inner &= avail > 0
            left = k - (avail * inner).sum(axis=1, keepdims=True)
            share = np.where(
                tied, left / np.maximum((avail * tied).sum(axis=1, keepdims=True), 1), 1.0
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                kernel = np.exp(-0.5 * (np.where(tied, band, dist) / band) ** 2)
            a = np.where(band > 0, kernel, 1.0) * share * (inner | tied)
            a /= (a * avail).sum(axis=1, keepdims=True)
            r, c = np.nonzero(inner | tied)
            parts.append((todo[done][r], near[r, c], avail[r, c], a[r, c], tied[r, c]))
            todo, q = todo[more], min(q * 4, u)
    row, place, firms, weight, is_tied = (np.concatenate(p) for p in zip(*parts, strict=True))
    order = np.argsort(row, kind="stable")  # by focal row, each nearest first
    found = _Around(
        row[order].astype(np.int64),
        place[order].astype(np.int64),
        firms[order].astype(np.int64),
        weight[order],
        is_tied[order],
    )
    return found, bands


def _place_sectors(
    places: _Places, codes: NDArray[np.int64], s: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The sectors present at each place: for the sorted keys ``place * s + sector``,
    their firms, and where each place's keys begin (one more than the places)."""
    of = np.arange(places.n) if places.of is None else places.of
    present, count = np.unique(of * s + codes, return_counts=True)
    begin = np.searchsorted(present // s, np.arange(len(places.xyz) + 1))
    return present, count, begin


def _local_shares(
    around: _Around,
    at: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
    home: NDArray[np.int64],
    own: NDArray[np.int64],
    s: int,
) -> NDArray[np.float64]:
    """Each focal firm's weighted share of every sector (focal rows x ``s``) among its
    neighbours, from the sectors present at each neighbour place (``at``); ``home`` and
    ``own`` are the focal firms' places and sectors (a firm is not its own neighbour)."""
    present, count, begin = at
    lo, hi = begin[around.place], begin[around.place + 1]
    many = hi - lo
    entry = np.repeat(np.arange(len(many)), many)
    key = lo[entry] + np.arange(int(many.sum())) - np.repeat(np.cumsum(many) - many, many)
    flat = around.row[entry] * s + present[key] % s
    out = np.bincount(flat, weights=around.weight[entry] * count[key], minlength=len(home) * s)
    mine = np.flatnonzero(around.place == home[around.row])  # the focal firm's own place
    np.subtract.at(out, around.row[mine] * s + own[around.row[mine]], around.weight[mine])
    return np.asarray(out, dtype=np.float64).reshape(len(home), s)


@fill(firms=_FIRMS)
def local_clq(
    lon: ArrayLike,
    lat: ArrayLike,
    labels: ArrayLike,
    *,
    focal: ArrayLike | None = None,
    k: int = 8,
    permutations: int = 99,
    seed: int = 0,
    chunk: int = 20_000,
    min_firms: int = 1,
    p_sectors: ArrayLike | None = None,
) -> LocalCLQ:
    """The local co-location quotient of each focal firm towards every sector (see the
    module's text), with conditional-permutation p-values.

    Parameters
    ----------
    {firms}
    focal
        Which firms to compute it for (a boolean mask or positions; default: all).
    k
        Neighbours of each firm (ArcGIS Pro's default is 8). Firms tied at the k-th
        distance share the slots left (a firm among a market building's many has every
        other firm there as neighbour, each weighing ``k / others``): the quotients do not
        depend on the order of the rows.
    permutations
        Conditional permutations per focal firm (0: no p-values).
    seed
        Seed of the permutations.
    chunk
        Focal firms simulated at a time (memory: chunk x permutations x sectors).
    min_firms
        Sectors with fewer firms get no column (their firms are still neighbours).
    p_sectors
        The sectors whose p-values are wanted (default: every tested sector); the
        quotients cover every tested sector either way. The permutations are the same
        draws, so each p-value is the one the default gives; only the others are not
        counted (most of the time of the permutations goes to counting every sector).

    Returns
    -------
    LocalCLQ
        The quotients and p-values, indexed by focal position, a column per tested
        sector (of ``p_sectors`` among them for the p-values), and the neighbours behind
        them.

    Examples
    --------
    >>> out = local_clq([0, 0, 0, 0.01], [0, 0, 0, 0], ["a", "a", "b", "b"], k=1,
    ...                 permutations=0)
    >>> out.clq.round(3).values.tolist()  # firm 0's one slot: firms 1 (a) and 2 (b), half each
    [[1.5, 0.75], [1.5, 0.75], [1.5, 0.0], [1.0, 1.0]]
    """
    _check_options(
        k=(k, 1), permutations=(permutations, 0), chunk=(chunk, 1), min_firms=(min_firms, 1)
    )
    n = _check_firms(lon, lat, labels)
    if n < 2:
        raise DataError(f"co-location needs at least 2 firms, got {n}")
    codes, sectors = _labels(labels)
    s = len(sectors)
    rows = _focal_rows(focal, n)
    every = np.bincount(codes, minlength=s)
    tested = np.flatnonzero(every >= min_firms)
    t = len(tested)
    remap = np.full(s, t, dtype=np.int64)
    remap[tested] = np.arange(t)
    mine = remap[codes]  # the last code: every sector below min_firms
    places = _places(lon, lat)
    around = _around(places, k, rows)
    home = (np.arange(n) if places.of is None else places.of)[rows]
    share = _local_shares(around, _place_sectors(places, mine, t + 1), home, mine[rows], t + 1)
    counts = every[tested].astype(np.float64)
    # N'_B / (N - 1) for each focal firm: its own sector has one firm fewer to meet
    expected = (counts[None, :] - (mine[rows][:, None] == np.arange(t))) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        clq = share[:, :t] / expected
    columns = sectors[tested]
    p_value = None
    if permutations:
        wanted = _p_columns(columns, p_sectors)
        draws = _Draws.of(mine, rows, around, min(k, n - 1))
        above = draws.above(share, permutations, np.random.default_rng(seed), chunk, wanted)
        p_value = pd.DataFrame(
            (above + 1) / (permutations + 1), index=rows, columns=columns[wanted]
        )
    first = places.firm(around.place)
    neighbours = pd.DataFrame(
        {
            "focal": rows[around.row],
            "firm": np.asarray(first, dtype=np.int64),
            "firms": around.firms,
            "tied": around.tied,
            "weight": around.weight,
        }
    )
    return LocalCLQ(
        clq=pd.DataFrame(clq, index=rows, columns=columns), p_value=p_value, neighbours=neighbours
    )


def _p_columns(columns: pd.Index, p_sectors: ArrayLike | None) -> NDArray[np.int64]:
    """The positions among the tested sectors ``columns`` of those in ``p_sectors``
    (all of them for None)."""
    if p_sectors is None:
        return np.arange(len(columns))
    given = pd.Index(np.atleast_1d(np.asarray(p_sectors)))
    return np.flatnonzero(columns.isin(given))


def _check_firms(lon: ArrayLike, lat: ArrayLike, labels: ArrayLike) -> int:
    """The number of firms, after checking that each has one finite longitude and
    latitude in degrees and a sector."""
    cat = _categorical(labels)
    missing = np.flatnonzero(cat.isna() if cat is not None else pd.isna(np.asarray(labels)))
    if len(missing):
        raise DataError(
            f"co-location needs a sector for every firm: {len(missing)} labels are missing "
            f"(rows {preview(missing.tolist(), quote=False)})"
        )
    sectors = len(cat) if cat is not None else np.shape(labels)[0]
    try:
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"co-location needs numeric coordinates (degrees): {exc}") from None
    if x.ndim != 1 or x.shape != y.shape or len(x) != sectors:
        raise DataError(
            "co-location needs one longitude, latitude and sector per firm: got "
            f"{x.size} longitudes, {y.size} latitudes and {sectors} sectors"
        )
    bad = np.flatnonzero(
        ~(np.isfinite(x) & np.isfinite(y)) | (np.abs(y) > 90) | (x < -180) | (x > 360)
    )
    if len(bad):
        raise DataError(
            f"co-location needs finite coordinates in degrees (longitude -180 to 360, "
            f"latitude -90 to 90): {len(bad)} firm(s) have others (rows "
            f"{preview(bad.tolist(), quote=False)}; first lon={float(x[bad[0]])!r}, "
            f"lat={float(y[bad[0]])!r}); drop or fix them"
        )
    return len(x)


def _check_options(**given: tuple[int, int]) -> None:
    """The options of a co-location function that must be whole numbers, each given
    with its least value, checked at once."""
    problems = []
    for name, (value, least) in given.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            problems.append(f"{name}={value!r} (a whole number >= {least})")
    if problems:
        raise ConfigError("co-location options out of range: " + "; ".join(problems))


def _focal_rows(focal: ArrayLike | None, n: int) -> NDArray[np.int64]:
    """The focal firms' positions from a boolean mask or positions (of ``n`` firms)."""
    if focal is None:
        return np.arange(n)
    given = np.asarray(focal)
    if given.dtype == bool:
        if given.shape != (n,):
            raise DataError(f"focal: a mask of {given.size} values for {n} firms (one per firm)")
        return np.flatnonzero(given)
    if given.size and not np.issubdtype(given.dtype, np.integer):
        raise DataError(f"focal: positions must be whole numbers, got {given.dtype} values")
    rows = given.astype(np.int64).reshape(-1)
    bad = rows[(rows < 0) | (rows >= n)]
    if len(bad):
        raise DataError(
            f"focal: positions {preview(bad.tolist(), quote=False)} outside 0 to {n - 1}"
        )
    return rows


#: A focal firm whose neighbours (nearer ones and those tied at the k-th distance) are
#: at most this many times ``k`` has their labels drawn firm by firm; beyond (a firm
#: among hundreds at a village centre), the tied firms' sectors are drawn as counts.
_SLOTS = 4


@dataclass(frozen=True)
class _Draws:
    """The conditional permutations of :func:`local_clq`: the focal firm keeps its
    sector, every other firm's label is shuffled, so the labels of its neighbours (the
    nearer ones and the tied ones) are a draw without replacement from the n - 1 others.
    The nearer ones and small tied groups are drawn firm by firm (distinct positions);
    a large tied group (more than :data:`_SLOTS` x k firms in all) as the counts of each
    sector among them (a multivariate hypergeometric draw from the labels left)."""

    mine: NDArray[np.int64]  # each firm's code (the last: every untested sector)
    rows: NDArray[np.int64]  # the focal firms
    slots: NDArray[np.float64]  # each focal firm's weight per drawn firm (zero padded)
    bulk: NDArray[np.int64]  # tied firms drawn as counts per focal firm (0: none)
    bulk_weight: NDArray[np.float64]  # each such firm's weight

    @classmethod
    def of(
        cls, mine: NDArray[np.int64], rows: NDArray[np.int64], around: _Around, k: int
    ) -> _Draws:
        """The draws for the focal firms ``rows`` with neighbours ``around`` (of ``k``
        slots), the firms' codes being ``mine``."""
        m = len(rows)
        involved = np.bincount(around.row, weights=around.firms, minlength=m)
        big = involved > _SLOTS * k
        bulk_entry = big[around.row] & around.tied
        bulk = np.bincount(around.row[bulk_entry], weights=around.firms[bulk_entry], minlength=m)
        bulk_weight = np.zeros(m)
        bulk_weight[around.row[bulk_entry]] = around.weight[bulk_entry]
        keep = ~bulk_entry
        row, firms = around.row[keep], around.firms[keep]
        slot_row = np.repeat(row, firms)
        per = np.bincount(slot_row, minlength=m)
        rank = np.arange(len(slot_row)) - np.repeat(np.cumsum(per) - per, per)
        slots = np.zeros((m, max(1, int(per.max(initial=0)))))
        slots[slot_row, rank] = np.repeat(around.weight[keep], firms)
        return cls(mine, rows, slots, bulk.astype(np.int64), bulk_weight)

    def above(
        self,
        share: NDArray[np.float64],
        permutations: int,
        rng: np.random.Generator,
        chunk: int,
        wanted: NDArray[np.int64],
    ) -> NDArray[np.float64]:
        """How many permutations give each focal firm a share of each wanted sector (codes
        ``wanted``) at least its observed ``share`` (focal rows x codes, the last column
        untested). Only the wanted sectors are counted among the drawn labels (the
        draws are the same whichever are wanted); a focal firm among a large tied
        group counts every sector, which its hypergeometric draw needs."""
        n, width = len(self.mine), share.shape[1]
        total = np.bincount(self.mine, minlength=width)
        # each firm's position among the wanted sectors (-1: not wanted)
        slot = np.full(width, -1, dtype=np.int64)
        slot[wanted] = np.arange(len(wanted))
        firm_slot = slot[self.mine]
        above = np.zeros((len(self.rows), len(wanted)))
        for start in range(0, len(self.rows), chunk):  # chunks of focal firms
            part = slice(start, start + chunk)
            weights = self.slots[part]
            used = int(max(1, (weights > 0).sum(axis=1).max(initial=0)))
            drawn = _draw_others(rng, self.rows[part], n, used, permutations)
            if len(wanted) == width - 1:  # every sector: one count of all the labels
                sim = _shares(self.mine[drawn], weights[:, None, :used], width)[..., :-1]
            else:
                sim = _shares_of(firm_slot[drawn], weights[:, :used], len(wanted))
            bulk = np.flatnonzero(self.bulk[part] > 0)
            if len(bulk):  # the labels left after the firm and its nearer neighbours
                labels = self.mine[drawn[bulk]]
                every = _shares(labels, weights[bulk, None, :used], width)
                taken = _shares(labels, (weights[bulk, None, :used] > 0).astype(np.float64), width)
                own = self.mine[self.rows[part][bulk]][:, None] == np.arange(width)
                pool = total - taken - own[:, None, :]
                counts = _hypergeometric(rng, pool, self.bulk[part][bulk])
                every += self.bulk_weight[part][bulk, None, None] * counts
                sim[bulk] = every[..., wanted]
            above[part] = (sim >= share[part, None, wanted] - 1e-12).sum(axis=1)
        return above


def _hypergeometric(
    rng: np.random.Generator, labels: NDArray[np.float64], draws: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Counts of each label among ``draws`` items drawn without replacement from a
    pool of ``labels`` (..., codes: how many of each), one draw per leading position
    (``draws`` per focal firm, the first axis): a hypergeometric draw per code, of
    those left."""
    pool = np.rint(labels).astype(np.int64)
    out = np.zeros(pool.shape, dtype=np.float64)
    left = np.broadcast_to(draws.reshape((-1,) + (1,) * (pool.ndim - 2)), pool.shape[:-1]).copy()
    rest = pool.sum(axis=-1)
    for code in range(pool.shape[-1]):  # a loop over sectors, never over firms
        rest = rest - pool[..., code]
        got = rng.hypergeometric(pool[..., code], rest, left)
        out[..., code] = got
        left = left - got
    return out


def _shares(labels: NDArray[np.int64], weights: NDArray[np.float64], s: int) -> NDArray[np.float64]:
    """Weighted share of each sector among neighbours: ``labels`` (..., k) and their
    ``weights`` (broadcastable) -> (..., s)."""
    weights = np.broadcast_to(weights, labels.shape)
    lead = int(np.prod(labels.shape[:-1]))
    flat = np.repeat(np.arange(lead), labels.shape[-1]) * s + labels.reshape(-1)
    out = np.bincount(flat, weights=weights.reshape(-1), minlength=lead * s).astype(np.float64)
    return out.reshape(*labels.shape[:-1], s)


def _shares_of(
    slots: NDArray[np.int64], weights: NDArray[np.float64], s: int
) -> NDArray[np.float64]:
    """Weighted share of each wanted sector among the drawn neighbours: ``slots``
    (focal x permutations x k: the drawn firm's position among the ``s`` wanted sectors,
    -1 for the others) with ``weights`` (focal x k) -> focal x permutations x s. The
    same sums as :func:`_shares` for those sectors (the same terms, added in the same
    order), from the drawn firms of a wanted sector only."""
    m, p, k = slots.shape
    hit = np.flatnonzero(slots.reshape(-1) >= 0)
    lead, seat = np.divmod(hit, k)  # (focal, permutation) and the neighbour slot
    out = np.bincount(
        lead * s + slots.reshape(-1)[hit], weights=weights[lead // p, seat], minlength=m * p * s
    )
    return np.asarray(out, dtype=np.float64).reshape(m, p, s)


def _draw_others(
    rng: np.random.Generator, rows: NDArray[np.int64], n: int, k: int, permutations: int
) -> NDArray[np.int64]:
    """For each focal firm, ``permutations`` sets of ``k`` other firms (positions),
    drawn without replacement from the n - 1 firms that are not it."""
    m = len(rows)
    if n - 1 <= 4 * k:  # few others: k distinct of them by random keys
        block = max(1, 10_000_000 // (permutations * (n - 1)))
        parts = []
        for start in range(0, m, block):  # blocks of focal firms: memory stays bounded
            keys = rng.random((min(block, m - start), permutations, n - 1))
            parts.append(
                np.argpartition(keys, k - 1, axis=-1)[..., :k] if k < n - 1 else np.argsort(keys)
            )
        drawn = np.concatenate(parts) if parts else np.zeros((0, permutations, k), np.int64)
    else:  # rejection: a set with a repeat is drawn again, so sets are uniform and distinct
        drawn = rng.integers(0, n - 1, size=(m, permutations, k))
        where = np.nonzero(_repeats(drawn))
        while len(where[0]):  # rounds: only the sets with a repeat are drawn again
            drawn[where] = rng.integers(0, n - 1, size=(len(where[0]), k))
            again = _repeats(drawn[where])
            where = tuple(w[again] for w in where)
    # positions 0..n-2 skip the focal firm itself
    return drawn + (drawn >= rows[:, None, None])


def _repeats(sets: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Whether each set (the last axis, a few values) holds a value twice: k(k-1)/2
    comparisons of whole columns (cheaper than sorting every set for k up to about 16)."""
    k = sets.shape[-1]
    if k > 16:
        ordered = np.sort(sets, axis=-1)
        return np.asarray((np.diff(ordered, axis=-1) == 0).any(axis=-1))
    slots = np.ascontiguousarray(np.moveaxis(sets, -1, 0))  # slot by slot, contiguous
    out = np.zeros(sets.shape[:-1], dtype=bool)
    for i in range(1, k):  # a loop over the k slots, never over firms
        for j in range(i):
            out |= slots[i] == slots[j]
    return out


#: The columns of a linkage table (``note`` optional), as messages name them.
LINKAGE_COLUMNS = "from_sector,to_sector,role (and optionally note)"
#: Codes a range of a linkage table may span, and rows the expanded table may have: a
#: range is matched by prefix, so ``10-33`` already covers every code under them.
_MAX_RANGE = 1_000
_MAX_LINKS = 100_000


def read_linkages(path: str | Path | None = None) -> pd.DataFrame:
    """A linkage table: which sector is a supplier, buyer, supporting or related
    industry of which (see the module's text).

    Parameters
    ----------
    path
        A comma-separated CSV with ``from_sector``, ``to_sector`` and ``role`` (``note``
        optional; names compared without case or surrounding spaces); ``to_sector`` and
        ``from_sector`` may be ranges of KBLI codes of one length (``10-33``). A header
        without rows is a table of no links. None for the shipped default
        (:data:`DEFAULT_LINKAGES`).

    Returns
    -------
    DataFrame
        One row per (``from_sector``, ``to_sector``) with ranges expanded: ``role`` and
        ``note``.

    Raises
    ------
    ConfigError
        The file cannot be read, is empty, lacks a column, or has a role, code or range
        that is not accepted; the message names ``colocation.linkage_table``
        (``--linkage-table``), the file, the row and the value.

    Examples
    --------
    >>> table = read_linkages()
    >>> table.loc[table["from_sector"] == "16", ["to_sector", "role"]].values.tolist()
    [['31', 'supplier']]
    """
    source = DEFAULT_LINKAGES if path is None else Path(path)
    where = _where(source)
    try:
        # no header row for pandas: a line with more fields than the header is an
        # error, not a shift of its first fields into an index
        raw = pd.read_csv(
            source, dtype=str, header=None, keep_default_na=False, encoding="utf-8-sig"
        )
    except pd.errors.EmptyDataError as err:
        raise ConfigError(
            f"{where} is empty; a linkage table is a CSV with the columns {LINKAGE_COLUMNS}, "
            "one link per row (a header alone: no links)"
        ) from err
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ConfigError(
            f"{where} cannot be read as a CSV with the columns {LINKAGE_COLUMNS} "
            f"({type(err).__name__}: {str(err).strip()})"
        ) from err
    header = [unicodedata.normalize("NFKC", str(c)).strip().lower() for c in raw.iloc[0]]
    table = raw.iloc[1:].set_axis(header, axis=1).reset_index(drop=True).fillna("")
    missing = [c for c in ("from_sector", "to_sector", "role") if c not in header]
    if missing:
        found = ", ".join(repr(c) for c in header[:6])
        hint = ""
        if len(header) == 1 and any(d in header[0] for d in ";\t|"):
            hint = "; the file must be comma-separated"
        raise ConfigError(
            f"{where} lacks the column(s) {', '.join(missing)} (found: {found}); it needs "
            f"{LINKAGE_COLUMNS}{hint}"
        )
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise ConfigError(
            f"{where} names the column(s) {', '.join(twice)} more than once; it needs "
            f"{LINKAGE_COLUMNS}, once each"
        )
    if "note" not in table.columns:
        table["note"] = ""
    table = table[["from_sector", "to_sector", "role", "note"]]
    table = table.assign(role=table["role"].str.strip().str.lower())
    bad = table["role"].isin(ROLES)
    if not bad.all():
        lines = np.flatnonzero(~bad.to_numpy()) + 2  # the header is line 1
        raise ConfigError(
            f"{where} has role(s) {preview(table['role'][~bad].unique())} (line(s) "
            f"{preview(lines, quote=False)}); accepted: {', '.join(ROLES)}"
        )
    if not len(table):
        logger.info("%s has no rows: no links are expected", where)
    rows: list[tuple[str, str, str, str]] = []
    for line, record in enumerate(table.itertuples(index=False), start=2):  # tens of rows
        froms = _expand(str(record.from_sector), where, line)
        tos = _expand(str(record.to_sector), where, line)
        if len(rows) + len(froms) * len(tos) > _MAX_LINKS:
            raise ConfigError(
                f"{where}: line {line} ({record.from_sector!r} -> {record.to_sector!r}) "
                f"makes the table more than {_MAX_LINKS:,} links; write ranges at a "
                "shorter length (10-33 matches every code under divisions 10 to 33)"
            )
        rows.extend((a, b, str(record.role), str(record.note)) for a in froms for b in tos)
    out = pd.DataFrame(rows, columns=["from_sector", "to_sector", "role", "note"])
    return out.drop_duplicates(["from_sector", "to_sector"], keep="first").reset_index(drop=True)


def _where(source: Path) -> str:
    """How messages name the linkage table (the option and the file)."""
    return f"colocation.linkage_table (--linkage-table) {str(source)!r}"


def _kbli(text: str) -> bool:
    """Whether ``text`` is a KBLI code: one to five ASCII digits."""
    return text.isascii() and text.isdigit() and len(text) <= 5


def _expand(text: str, where: str, line: int) -> list[str]:
    """``"10-33"`` as the codes 10 to 33, ``"08"`` as itself (full-width digits and
    dashes read as ASCII)."""
    text = unicodedata.normalize("NFKC", text).strip()
    if "-" not in text:
        if not _kbli(text):
            raise ConfigError(
                f"{where}: line {line} has {text!r}, which is not a KBLI code (1 to 5 "
                "digits, e.g. 31 or 16221) or a range of them such as 10-33"
            )
        return [text]
    low, high = (part.strip() for part in text.split("-", 1))
    if not (_kbli(low) and _kbli(high) and len(low) == len(high) and low <= high):
        raise ConfigError(
            f"{where}: line {line} has {text!r}, which is not a range of KBLI codes of "
            "one length, low to high, such as 10-33"
        )
    if int(high) - int(low) >= _MAX_RANGE:
        raise ConfigError(
            f"{where}: line {line} has the range {text!r} of more than {_MAX_RANGE:,} "
            "codes; write it at a shorter length (10-33 matches every code under "
            "divisions 10 to 33)"
        )
    return [str(v).zfill(len(low)) for v in range(int(low), int(high) + 1)]


def _under(prefixes: ArrayLike, values: ArrayLike) -> pd.DataFrame:
    """Every (``i``, ``j``) with ``values[j]`` starting with ``prefixes[i]``, ordered by
    ``i`` then ``j``: one join per prefix length (KBLI codes have one to five digits),
    not a comparison of every prefix with every value."""
    head = pd.Series(np.asarray(prefixes, dtype=object)).astype(str)
    tail = pd.Series(np.asarray(values, dtype=object)).astype(str)
    wide, long = head.str.len().to_numpy(), tail.str.len().to_numpy()
    parts = [pd.DataFrame({"i": np.zeros(0, np.int64), "j": np.zeros(0, np.int64)})]
    for length in np.unique(wide):
        left = pd.DataFrame({"i": np.flatnonzero(wide == length), "key": head[wide == length]})
        fit = long >= length
        right = pd.DataFrame({"j": np.flatnonzero(fit), "key": tail[fit].str[:length]})
        parts.append(left.merge(right, on="key")[["i", "j"]])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["i", "j"], kind="stable").reset_index(drop=True)


def _matches(linkages: pd.DataFrame, sectors: ArrayLike, related: ArrayLike) -> pd.DataFrame:
    """The (``row``, ``a``, ``b``) with ``sectors[a]`` under the table row's
    ``to_sector`` and ``related[b]`` under its ``from_sector``."""
    to = _under(linkages["to_sector"], sectors).rename(columns={"i": "row", "j": "a"})
    of = _under(linkages["from_sector"], related).rename(columns={"i": "row", "j": "b"})
    return to.merge(of, on="row")


def _roles(linkages: pd.DataFrame, sector: pd.Series, related: pd.Series) -> NDArray[Any]:
    """What each ``related`` is to each ``sector`` by the table: the role of the first
    row that matches, codes compared at the table's length (a 4-digit 3101 is division
    31); None where no row does."""
    out = np.full(len(sector), None, dtype=object)
    if not len(linkages) or not len(sector):
        return out
    a_codes, a = np.unique(sector.astype(str).to_numpy(), return_inverse=True)
    b_codes, b = np.unique(related.astype(str).to_numpy(), return_inverse=True)
    found = _matches(linkages, a_codes, b_codes).groupby(["a", "b"])["row"].min()
    if not len(found):
        return out
    key = pd.Series(
        found.to_numpy(),
        index=found.index.get_level_values(0) * len(b_codes) + found.index.get_level_values(1),
    )
    row = key.reindex(a * len(b_codes) + b).to_numpy()
    hit = ~np.isnan(row)
    out[hit] = linkages["role"].astype(str).to_numpy()[row[hit].astype(np.int64)]
    return out


def linked_pairs(linkages: pd.DataFrame, sectors: ArrayLike) -> pd.DataFrame:
    """The (``sector``, ``related_sector``) pairs among ``sectors`` that a linkage
    table names: ``related_sector`` under a row's ``from_sector`` and ``sector`` under
    its ``to_sector`` (the pairs :func:`global_clq` is asked for with ``also``).

    Parameters
    ----------
    linkages
        A linkage table (:func:`read_linkages`).
    sectors
        The sectors present (codes as text).

    Returns
    -------
    DataFrame
        ``sector`` and ``related_sector``, each pair once, in the sectors' order.

    Examples
    --------
    >>> linked_pairs(read_linkages(), ["16", "31", "46"]).values.tolist()
    [['16', '46'], ['31', '16'], ['31', '46']]
    """
    names = np.asarray([str(x) for x in np.asarray(sectors, dtype=object)], dtype=object)
    pairs = _matches(linkages, names, names)[["a", "b"]].drop_duplicates()
    pairs = pairs.sort_values(["a", "b"], kind="stable")
    return pd.DataFrame(
        {
            "sector": names[pairs["a"].to_numpy()],
            "related_sector": names[pairs["b"].to_numpy()],
        }
    )


@fill(firms=_FIRMS)
def sentra_related(
    lon: ArrayLike,
    lat: ArrayLike,
    labels: ArrayLike,
    sentra_of: ArrayLike,
    *,
    k: int = 8,
    permutations: int = 99,
    seed: int = 0,
    alpha: float = 0.05,
    min_firms: int = 5,
    min_related_firms: int = 3,
    linkages: pd.DataFrame | None = None,
) -> SentraLinks:
    """The industries co-located with each sentra and the expected ones that are not
    (see the module's text).

    The null of a sentra of sector A: every firm of A keeps its sector (the sentra's
    focal firms and A's firms elsewhere); every other firm, of other sentra and of
    the sentra itself included, gets a sector drawn at random without replacement from
    the sectors of the firms not of A. A related sector's ``p_value`` is the share of
    the relabellings (and the observed labels) whose mean CLQ is at least the observed
    one; each sentra's relabellings are its own.

    Parameters
    ----------
    {firms}
    sentra_of
        Each firm's sentra id (missing for a firm in none); a sentra's focal firms are
        those of its sector (the sector of most of its firms).
    k
        Neighbours of each firm for the local quotient (firms tied at the k-th distance
        share the slots left, as in :func:`local_clq`).
    permutations
        Relabellings of the firms not of the sentra's sector, each sentra's own (see
        the module's text; 0: no p-values).
    seed
        Seed of the relabellings.
    alpha
        Significance of a co-location (``p_value < alpha`` and ``clq > 1``).
    min_firms
        Related sectors need this many firms in the registry.
    min_related_firms
        A co-located sector needs this many firms among the neighbours of the
        sentra's firms (``n_related_firms``) to be ``significant``.
    linkages
        A linkage table (:func:`read_linkages`); None for none (every co-located
        sector is ``co-located``).

    Returns
    -------
    SentraLinks
        ``related``: one row per sentra and related sector with ``sentra_id``,
        ``sector``, ``related_sector``, ``clq`` (mean local CLQ of the sentra's firms),
        ``p_value``, ``n_related_firms`` (distinct firms of the related sector among the
        sentra firms' neighbours), ``significant`` and ``role`` (from the table, else
        ``co-located``), sorted by sentra and CLQ; and ``missing``: the links the table
        expects that are not co-located, with ``sentra_id``, ``sector``,
        ``related_sector``, ``role``, ``clq``, ``p_value`` and ``reason``
        (``not_in_registry`` when the registry has fewer than ``min_firms`` of that
        sector, ``too_few_nearby`` when one to ``min_related_firms`` - 1 of its firms
        are near the sentra, else ``not_colocated``); and ``firms``: the related firms
        of every row of ``related`` (``sentra_id``, ``related_sector``, ``firm``: a
        position).
    """
    codes, sectors = _labels(labels)
    n, s = len(codes), len(sectors)
    member, names, group = _groups(sentra_of)
    own = _own_sector(codes[member], group, len(names), s)
    focal = np.flatnonzero(member)[codes[member] == own[group]]
    focal_group = group[codes[member] == own[group]]
    if not len(focal):
        return SentraLinks(_empty_related(), _empty_missing(), _empty_firms())
    if k < 1:
        raise ConfigError(f"colocation.k={k!r} must be at least 1")
    if n < 2:
        raise DataError(f"co-location needs at least 2 firms, got {n}")
    places = _places(lon, lat)
    group, firm, weight = _sentra_neighbours(
        places, _around(places, k, focal), focal_group, codes, own, lon, lat
    )
    return _sentra_links(
        (codes, sectors),
        (names, own, focal_group),
        (group, firm, weight),
        permutations=permutations,
        seed=seed,
        alpha=alpha,
        min_firms=min_firms,
        min_related_firms=min_related_firms,
        linkages=linkages,
    )


def _sentra_links(
    labelled: tuple[NDArray[np.integer[Any]], pd.Index],
    sentra: tuple[NDArray[Any], NDArray[np.int64], NDArray[np.int64]],
    neighbours: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
    *,
    permutations: int,
    seed: int,
    alpha: float,
    min_firms: int,
    min_related_firms: int,
    linkages: pd.DataFrame | None,
) -> SentraLinks:
    """The tables of :func:`sentra_related` from every firm's sector code and the
    sectors (``labelled``), the sentra (names, sector, each focal firm's sentra) and
    the firms around them (:func:`_sentra_neighbours`)."""
    codes, sectors = labelled
    names, own, focal_group = sentra
    group, firm, weight = neighbours
    n, s, m = len(codes), len(sectors), len(names)
    counts = np.bincount(codes, minlength=s).astype(np.float64)
    mean_clq = _MeanCLQ.of(counts, own, focal_group, group, weight)
    observed = mean_clq(codes[firm])
    pool = _Pool.of(codes, own, group)
    p_value = _relabelled_p(mean_clq, observed, pool, permutations, seed)
    near, around = _related_firms(group, firm, codes, m, s, n)
    related = _related_table(names, sectors, own, observed, p_value, near, counts, min_firms)
    related["significant"] = (
        (related["p_value"] < alpha)
        & (related["clq"] > 1)
        & (related["n_related_firms"] >= min_related_firms)
    )
    table = linkages if linkages is not None else _no_linkages()
    roles = _roles(table, related["sector"], related["related_sector"])
    related["role"] = np.where(pd.isna(roles), "co-located", roles).astype(object)
    missing = _missing(names, sectors, own, related, table, counts, min_firms, min_related_firms)
    return SentraLinks(related, missing, _firms_of(around, related, names, sectors, codes, n))


def _sentra_neighbours(
    places: _Places,
    around: _Around,
    focal_group: NDArray[np.int64],
    codes: NDArray[np.int64],
    own: NDArray[np.int64],
    lon: ArrayLike,
    lat: ArrayLike,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """The firms not of a sentra's sector among the neighbours of its focal firms
    (``around``, the tie rule of :func:`local_clq`), one entry per distinct (sentra, firm):
    the sentra, the firm (a position) and the weight the firm's label carries in the sum
    of the sentra's local quotients (its weight summed over the sentra's focal firms).

    The entries come by sentra, then place in the order of their coordinates, so the
    relabellings, which hand their draws to the entries in this order, do not depend on
    the order of the input rows: a place's firms carry one weight each, so which of them
    gets which draw does not change the quotient. The sentra's own firms are left out
    (they keep their sector; a focal firm is never its own neighbour)."""
    used, local = np.unique(around.place, return_inverse=True)  # only the places met
    u = max(len(used), 1)
    lead = places.firm(used)
    by_place = np.lexsort(
        (
            np.asarray(lat, dtype=np.float64)[lead] + 0.0,
            np.asarray(lon, dtype=np.float64)[lead] + 0.0,
        )
    )
    rank = np.empty(len(used), dtype=np.int64)
    rank[by_place] = np.arange(len(used))
    key, inverse = np.unique(
        focal_group[around.row] * u + rank[local.reshape(-1)], return_inverse=True
    )
    weight = np.bincount(inverse.reshape(-1), weights=around.weight, minlength=len(key))
    group, place = key // u, used[by_place[key % u]]
    many = np.ones(len(place), dtype=np.int64) if places.size is None else places.size[place]
    entry = np.repeat(np.arange(len(key)), many)
    if places.order is None or places.start is None:
        firm = place
    else:  # the firms of each place
        within = np.arange(len(entry)) - np.repeat(np.cumsum(many) - many, many)
        firm = places.order[places.start[place][entry] + within]
    keep = codes[firm] != own[group[entry]]
    return group[entry][keep], firm[keep].astype(np.int64), weight[entry][keep]


@dataclass(frozen=True)
class _MeanCLQ:
    """Each sentra's mean local CLQ towards every sector, from the sector labels of the
    distinct neighbours of its focal firms (:func:`_sentra_neighbours`); the column of
    the sentra's own sector is not computed (its firms are left out)."""

    slots: NDArray[np.int64]  # each neighbour's row (sentra * s) in the table
    weights: NDArray[np.float64]  # each neighbour's weight, summed over the focal firms
    size: NDArray[np.float64]  # focal firms per sentra
    expected: NDArray[np.float64]  # N'_B / (N - 1) per (sentra, sector)

    @classmethod
    def of(
        cls,
        counts: NDArray[np.float64],
        own: NDArray[np.int64],
        focal_group: NDArray[np.int64],
        group: NDArray[np.int64],
        weight: NDArray[np.float64],
    ) -> _MeanCLQ:
        """The quotient of sentra whose sector is ``own``, with focal firms in
        ``focal_group`` and neighbours of sentra ``group`` weighing ``weight``, among
        firms of ``counts`` per sector."""
        m, s, n = len(own), len(counts), float(counts.sum())
        expected = np.tile(counts, (m, 1))
        expected[np.arange(m), own] -= 1
        expected /= n - 1
        size = np.bincount(focal_group, minlength=m).astype(np.float64)
        return cls(group * s, weight, size, expected)

    def __call__(self, labels_at: NDArray[np.integer[Any]]) -> NDArray[np.float64]:
        m, s = self.expected.shape
        total = np.bincount(self.slots + labels_at, weights=self.weights, minlength=m * s)
        with np.errstate(divide="ignore", invalid="ignore"):
            return total.reshape(m, s) / self.size[:, None] / self.expected


def _relabelled_p(
    mean_clq: _MeanCLQ,
    observed: NDArray[np.float64],
    pool: _Pool,
    permutations: int,
    seed: int,
) -> NDArray[np.float64]:
    """The p-value of each sentra's ``observed`` mean CLQ towards each sector from
    ``permutations`` relabellings of its :class:`_Pool` (NaN without any)."""
    if not permutations:
        return np.full_like(observed, np.nan)
    # only the labels of the sentra firms' neighbours matter: per sentra, a sample
    # without replacement of its pool's labels, one per distinct relabelled neighbour
    above = np.zeros_like(observed)
    rng = np.random.default_rng(seed)
    for _ in range(permutations):  # relabellings; each costs the neighbours, not n
        r = _distinct(rng, pool.group, pool.size)
        above += mean_clq(pool.labels[r + pool.skip * (r >= pool.start)]) >= observed - 1e-12
    result: NDArray[np.float64] = (above + 1) / (permutations + 1)
    return result


@dataclass(frozen=True)
class _Pool:
    """What each sentra's relabellings draw from (see the module's text): the labels of
    the firms not of its sector. Every firm's label, sorted (``labels``), holds each
    sector's firms as one block; a distinct neighbour of a sentra (``group`` its
    sentra, sorted) draws a position ``r`` in ``[0, size)`` of the labels outside its
    sentra's sector block, read as ``labels[r]`` before the block (``r < start``) and
    ``labels[r + skip]`` after it."""

    group: NDArray[np.int64]  # each neighbour's sentra (sorted)
    labels: NDArray[np.int64]  # every firm's label, sorted
    start: NDArray[np.int64]  # each neighbour's sentra's sector block: first position
    skip: NDArray[np.int64]  # and its length
    size: NDArray[np.int64]  # each neighbour's pool: n - skip

    @classmethod
    def of(
        cls, codes: NDArray[np.integer[Any]], own: NDArray[np.int64], group: NDArray[np.int64]
    ) -> _Pool:
        """The pool of the neighbours of sentra ``group``, sentra whose sector is ``own``."""
        n = len(codes)
        count = np.bincount(codes, minlength=int(own.max(initial=0)) + 1)
        first = (np.cumsum(count) - count)[own]
        skip = count[own][group]
        return cls(group, np.sort(codes), first[group], skip, n - skip)


def _distinct(
    rng: np.random.Generator, group: NDArray[np.int64], size: NDArray[np.int64]
) -> NDArray[np.int64]:
    """For each item, a random integer in ``[0, size)``, distinct among the items of a
    group (``group`` sorted; ``size`` the same within a group): uniform over such draws,
    a sample without replacement per group."""
    out = np.empty(len(group), dtype=np.int64)
    if not len(group):
        return out
    items = np.bincount(group)
    dense = (2 * items > np.bincount(group, weights=size) / np.maximum(items, 1))[group]
    if dense.any():  # a group drawing most of its pool: its pool in a random order
        out[dense] = _first_of_shuffled(rng, group[dense], size[dense])
    sparse = np.flatnonzero(~dense)
    g, high = group[sparse], size[sparse]
    r = rng.integers(0, high)
    wide = int(high.max(initial=0)) + 1
    check = np.arange(len(sparse))
    while len(check):  # a value repeated within a group: the later items draw again
        key = np.sort(g[check] * wide + r[check])
        hit = key[1:][key[1:] == key[:-1]] // wide  # groups with a repeat (few)
        if not len(hit):
            break
        check = check[np.isin(g[check], hit)]
        key = g[check] * wide + r[check]
        order = np.argsort(key, kind="stable")
        repeat = check[order[1:][key[order][1:] == key[order][:-1]]]
        r[repeat] = rng.integers(0, high[repeat])
        check = np.flatnonzero(np.isin(g, g[repeat]))
    out[sparse] = r
    return out


def _first_of_shuffled(
    rng: np.random.Generator, group: NDArray[np.int64], size: NDArray[np.int64]
) -> NDArray[np.int64]:
    """For the items of each group (sorted), the first positions of a random order of
    ``[0, size)`` (random keys sorted within each group)."""
    groups, first, items = np.unique(group, return_index=True, return_counts=True)
    pool = size[first]
    segment = np.repeat(np.arange(len(groups)), pool)
    begin = np.cumsum(pool) - pool
    order = np.lexsort((rng.random(len(segment)), segment))
    local = order - begin[segment]  # each shuffled position's value in its group
    take = np.repeat(begin, items) + (np.arange(len(group)) - np.repeat(first, items))
    return local[take]


def _own_sector(
    codes: NDArray[np.integer[Any]], group: NDArray[np.int64], m: int, s: int
) -> NDArray[np.int64]:
    """The sector of most of each sentra's firms."""
    table = np.bincount(group * s + codes, minlength=m * s).reshape(m, s)
    return table.argmax(axis=1)


def _related_firms(
    group: NDArray[np.int64],
    firm: NDArray[np.int64],
    codes: NDArray[np.integer[Any]],
    m: int,
    s: int,
    n: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Distinct firms of each sector among the neighbours of each sentra's firms (a
    sentra x sector table), and those (sentra, firm) pairs as ``sentra * n + firm``,
    sorted."""
    near = np.bincount(group * s + codes[firm], minlength=m * s).reshape(m, s)
    return near, np.sort(group * n + firm)


def _firms_of(
    pairs: NDArray[np.int64],
    related: pd.DataFrame,
    names: NDArray[Any],
    sectors: pd.Index,
    codes: NDArray[np.integer[Any]],
    n: int,
) -> pd.DataFrame:
    """The (sentra, firm) neighbour pairs whose firm's sector is a row of ``related``
    (not the sentra's own sector, enough firms in the registry)."""
    sentra, firm = pairs // n, pairs % n
    out = pd.DataFrame(
        {
            "sentra_id": names[sentra],
            "related_sector": np.asarray(sectors)[codes[firm]],
            "firm": firm,
        }
    )
    keys = related[["sentra_id", "related_sector"]]
    return out.merge(keys, on=["sentra_id", "related_sector"], how="inner")[
        ["sentra_id", "related_sector", "firm"]
    ]


def _related_table(
    names: NDArray[Any],
    sectors: pd.Index,
    own: NDArray[np.int64],
    clq: NDArray[np.float64],
    p_value: NDArray[np.float64],
    near: NDArray[np.int64],
    counts: NDArray[np.float64],
    min_firms: int,
) -> pd.DataFrame:
    m, s = clq.shape
    out = pd.DataFrame(
        {
            "sentra_id": np.repeat(names, s),
            "sector": np.asarray(sectors)[np.repeat(own, s)],
            "related_sector": np.tile(np.asarray(sectors), m),
            "clq": clq.ravel(),
            "p_value": p_value.ravel(),
            "n_related_firms": near.ravel(),
            "_other": (np.arange(s)[None, :] != own[:, None]).ravel(),
            "_enough": np.tile(counts >= min_firms, m),
        }
    )
    out = out.loc[out["_other"] & out["_enough"]].drop(columns=["_other", "_enough"])
    out = out.sort_values(["sentra_id", "clq"], ascending=[True, False], kind="stable")
    return out.reset_index(drop=True)


def _missing(
    names: NDArray[Any],
    sectors: pd.Index,
    own: NDArray[np.int64],
    related: pd.DataFrame,
    linkages: pd.DataFrame,
    counts: NDArray[np.float64],
    min_firms: int,
    min_related_firms: int,
) -> pd.DataFrame:
    """The table's expected links of each sentra that are not co-located (by joins:
    sentra x their sector's links x the registry's sectors under each link)."""
    codes = np.asarray([str(x) for x in sectors], dtype=object)
    present = pd.Series(counts, index=codes)
    # the links each sentra sector expects: its sector under a row's to_sector
    mine = np.asarray(sorted({codes[c] for c in own}), dtype=object)
    rows = _under(linkages["to_sector"], mine).sort_values(["j", "i"], kind="stable")
    expects = pd.DataFrame(
        {
            "sector": mine[rows["j"].to_numpy()],
            "link": linkages["from_sector"].astype(str).to_numpy()[rows["i"].to_numpy()],
            "role": linkages["role"].astype(str).to_numpy()[rows["i"].to_numpy()],
        }
    )
    own_sectors = pd.DataFrame({"sentra_id": names, "sector": codes[own]})
    wanted = own_sectors.merge(expects, on="sector")
    if not len(wanted):
        return _empty_missing()
    links = wanted["link"].unique()
    found = _under(links, codes)
    under = pd.DataFrame(
        {"link": links[found["i"].to_numpy()], "related_sector": codes[found["j"].to_numpy()]}
    )
    hits = wanted.merge(under, on="link", how="left")
    hits = hits.loc[hits["related_sector"] != hits["sector"]]
    hits = hits.merge(
        related[
            ["sentra_id", "related_sector", "clq", "p_value", "n_related_firms", "significant"]
        ],
        on=["sentra_id", "related_sector"],
        how="left",
    )
    hits["firms"] = present.reindex(hits["related_sector"]).fillna(0).to_numpy()
    keys = ["sentra_id", "sector", "link", "role"]
    hits["significant"] = hits["significant"].astype("boolean").fillna(False).astype(bool)
    hits["_clq"] = hits["clq"].fillna(-np.inf)
    best = hits.sort_values("_clq", ascending=False, kind="stable").groupby(keys, sort=False)
    summary = best.agg(
        found=("significant", "any"), clq=("clq", "first"), p_value=("p_value", "first"),
        firms=("firms", "sum"), near=("n_related_firms", "sum"),
    ).reset_index()  # fmt: skip
    out = wanted[keys].merge(summary, on=keys, how="left")
    out = out.loc[~out["found"].fillna(False).astype(bool)]
    near = out["near"].fillna(0)
    out["reason"] = np.select(
        [out["firms"].fillna(0) < min_firms, (near > 0) & (near < min_related_firms)],
        ["not_in_registry", "too_few_nearby"],
        "not_colocated",
    )
    out = out.rename(columns={"link": "related_sector"})
    return out[list(_empty_missing().columns)].reset_index(drop=True)


def _no_linkages() -> pd.DataFrame:
    return pd.DataFrame(columns=["from_sector", "to_sector", "role", "note"])


def _empty_related() -> pd.DataFrame:
    columns = ["sentra_id", "sector", "related_sector", "clq", "p_value", "n_related_firms"]
    return pd.DataFrame(columns=[*columns, "significant", "role"])


def _empty_firms() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sentra_id": pd.Series(dtype=object),
            "related_sector": pd.Series(dtype=object),
            "firm": pd.Series(dtype=np.int64),
        }
    )


def _empty_missing() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["sentra_id", "sector", "related_sector", "role", "clq", "p_value", "reason"]
    )


# --- by tiles -------------------------------------------------------------------------
#: Search radius (metres) kept clear of the halo's edge beyond a tie (a search found
#: within a tile's core and halo is the whole registry's when its radius, plus this,
#: stays inside).
_SAFE_M = 1e-3


@dataclass(frozen=True)
class TiledColocation:
    """What :func:`tiled_colocation` found: the global quotients (as
    :func:`global_clq`; None when not asked for) and each sentra's related industries
    (as :func:`sentra_related`; None without sentra)."""

    table: pd.DataFrame | None
    links: SentraLinks | None
    tiles: int = 0
    rounds: int = 0


@dataclass(frozen=True)
class _Round:
    """One k-d tree of a tile: its core and halo firms (``positions`` in the registry,
    core first), their places, each place's first firm (``lead``, a position) and
    size, and the number of the core's places (numbered first)."""

    places: _Places
    tree: cKDTree
    positions: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    lead: NDArray[np.int64]
    size: NDArray[np.int64]
    core: int
    core_firms: int
    everything: bool


def _round(core: TileFirms, halo: TileFirms, n: int) -> _Round:
    """The tree of a tile's ``core`` and ``halo`` firms (of ``n`` in all)."""
    positions = np.concatenate([core.positions, halo.positions]).astype(np.int64)
    lon = np.concatenate([core.lon, halo.lon])
    lat = np.concatenate([core.lat, halo.lat])
    places = _places(lon, lat)
    u = len(places.xyz)
    first = places.firm(np.arange(u))
    size = np.ones(u, dtype=np.int64) if places.size is None else places.size
    of = np.arange(len(positions)) if places.of is None else places.of
    core_places = int(of[: len(core)].max()) + 1 if len(core) else 0
    return _Round(
        places=places,
        tree=cKDTree(places.xyz, balanced_tree=False),
        positions=positions,
        lon=lon,
        lat=lat,
        lead=positions[first],
        size=size,
        core=core_places,
        core_firms=len(core),
        everything=len(positions) >= n,
    )


#: A tile's work on one of its trees: given the tree, what is still to do (positions:
#: of the places' first firms, or of the focal firms; None on the first tree: the
#: core's) and each core place's distance to the halo's edge, what is left (positions),
#: at which places of the tree, and how far their searches reached (metres).
_Step = Callable[
    [_Round, NDArray[np.int64] | None, NDArray[np.float64]],
    tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
]
#: Trees on the searches left of a tile before its last one holds every firm.
_RETRIES = 3


def _tile(tiling: Tiling, tile: int, n: int, least: int, steps: list[_Step]) -> int:
    """Run ``steps`` on the trees of ``tile``: first its firms and a halo of
    :data:`~klastergeo.analysis.tiles.CELL_DEG`; then, for the searches that went
    beyond what the halo holds (far neighbours), their places and every firm within
    the reach found (an upper bound of the true one) of them, until each step is done.
    Gives the number of trees built."""
    core = tiling.core(tile)
    if not len(core):
        return 0
    box, width = tiling.boxes[tile], CELL_DEG
    halo = tiling.halo(tile, width)
    while len(core) + len(halo) < min(n, least) and np.isfinite(width):
        width = width * 4 if width < 360 else np.inf  # too few firms to search among
        halo = tiling.halo(tile, width)
    todo: list[NDArray[np.int64] | None] = [None] * len(steps)
    rounds = 0
    while True:
        now = _round(core, halo, n)
        rounds += 1
        lead_local = now.places.firm(np.arange(now.core))
        bound = outside_distance(now.lon[lead_local], now.lat[lead_local], box, width)
        if now.everything:
            bound = np.full(now.core, np.inf)
        places, reaches = [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
        for i, step in enumerate(steps):
            given = todo[i]
            if given is not None and not len(given):
                continue
            todo[i], at, reach = step(now, given, bound)
            places.append(at)
            reaches.append(reach)
        at, reach = np.concatenate(places), np.concatenate(reaches)
        if not len(at):
            return rounds
        lead_local = now.places.firm(at)
        x, y = wrapped(now.lon[lead_local]), now.lat[lead_local]
        box = np.array([x.min(), x.max(), y.min(), y.max()])
        need = halo_needed(y, reach + TIE_M + 2 * _SAFE_M)
        width = need * 1.05 + 1e-9 if np.isfinite(need) and rounds <= _RETRIES else np.inf
        core = _place_firms(now, np.unique(at))
        every = tiling.within(box, width)
        other = ~np.isin(every.positions, core.positions)
        halo = TileFirms(every.positions[other], every.lon[other], every.lat[other])


def _place_firms(now: _Round, places: NDArray[np.int64]) -> TileFirms:
    """The firms of ``places`` of the tree ``now``, by position."""
    if now.places.order is None or now.places.start is None:
        local = places
    else:
        many = now.size[places]
        within = np.arange(int(many.sum())) - np.repeat(np.cumsum(many) - many, many)
        local = now.places.order[np.repeat(now.places.start[places], many) + within]
    local = local[np.argsort(now.positions[local])]
    return TileFirms(now.positions[local], now.lon[local], now.lat[local])


def _place_of_lead(now: _Round, leads: NDArray[np.int64]) -> NDArray[np.int64]:
    """The core places of ``now`` whose first firms are at ``leads`` (positions)."""
    order = np.argsort(now.lead[: now.core])
    return np.asarray(order[np.searchsorted(now.lead[: now.core][order], leads)])


class _GlobalTiles:
    """The global quotient's nearest-neighbour pairs, tile by tree (a :data:`_Step`):
    their sector-pair counts and the graph's sums of :class:`_GraphSums`, and, when the
    firms are relabelled (``keep``), the pairs themselves. ``codes`` is every firm's
    sector and ``tested`` each sector's tested code (``width - 1``: untested)."""

    def __init__(
        self,
        codes: NDArray[np.integer[Any]],
        tested: NDArray[np.integer[Any]],
        width: int,
        *,
        keep: bool,
    ) -> None:
        n = len(codes)
        self.codes, self.tested, self.width, self.keep = codes, tested, width, keep
        self.dense = width * width <= _DENSE_PAIRS
        self.totals: Any = np.zeros(width * width) if self.dense else []
        self.sums = dict.fromkeys(("w_total", "w_sq", "shared_source", "mutual", "chain"), 0.0)
        self.into = np.zeros(n)  # each place's incoming weight, at its first firm
        none = np.zeros(0, dtype=np.int64)
        self.multi: list[tuple[NDArray[np.int64], NDArray[np.int64]]] = [(none, none)]
        # pairs whose twin (if any) is on another tree
        self.open: list[tuple[NDArray[Any], ...]] = [(none, none, np.zeros(0), np.zeros(0))]
        self.graphs: list[_Pairs] = []

    def __call__(
        self, now: _Round, given: NDArray[np.int64] | None, bound: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        if given is None:
            sources = np.arange(now.core)
            shared = now.size[: now.core] > 1
            self.multi.append((now.lead[: now.core][shared], now.size[: now.core][shared]))
        else:
            sources = _place_of_lead(now, given)
        src, dst, w, done, reach = _nearest(now.places, now.tree, sources)
        ok = (reach + TIE_M + _SAFE_M < bound[done]) | now.everything
        accepted = np.zeros(len(now.places.xyz), dtype=bool)
        accepted[done[ok]] = True
        keep = accepted[src]
        self._add(now, src[keep].astype(np.int64), dst[keep].astype(np.int64), w[keep], accepted)
        return now.lead[done[~ok]], done[~ok], reach[~ok]

    def _add(
        self,
        now: _Round,
        src: NDArray[np.int64],
        dst: NDArray[np.int64],
        w: NDArray[np.float64],
        accepted: NDArray[np.bool_],
    ) -> None:
        """Count the pairs of the sources ``accepted`` on the tree ``now``."""
        size = now.size.astype(np.float64)
        s_src, loop = size[src], src == dst
        others = size[dst] - loop
        self.sums["w_total"] += float((s_src * w * others).sum())
        w_sq = float((s_src * w**2 * others).sum())
        self.sums["w_sq"] += w_sq
        out = np.bincount(src, weights=w * others, minlength=len(size))
        self.sums["shared_source"] += float((size * out**2).sum()) - w_sq
        incoming = w * (s_src - loop)
        self.sums["chain"] += float((incoming * size[dst]).sum())  # each firm's out is 1
        into = np.bincount(dst, weights=incoming, minlength=len(size))
        met = np.flatnonzero(into)
        self.into[now.lead[met]] += into[met]
        firms = s_src * size[dst]
        self.sums["mutual"] += float((s_src * (s_src - 1) * w**2)[loop].sum())
        here = accepted[dst] & ~loop  # both ends done on this tree: their twins are here
        u = len(size)
        key = np.minimum(src[here], dst[here]) * u + np.maximum(src[here], dst[here])
        order = np.argsort(key)
        twin = np.flatnonzero(key[order][1:] == key[order][:-1])
        first, second = order[twin], order[twin + 1]
        self.sums["mutual"] += 2.0 * float(
            (firms[here][first] * w[here][first] * w[here][second]).sum()
        )
        away = ~accepted[dst]
        self.open.append((now.lead[src[away]], now.lead[dst[away]], w[away], firms[away]))
        graph = _pairs(now.places, src, dst, w)  # firms of the tree
        mine = self.tested[self.codes[now.positions]]  # the tree's tested sectors
        keys, weights = _sector_pairs(mine, graph, self.width)
        if self.dense:
            self.totals += np.bincount(keys, weights=weights, minlength=self.width**2)
        else:
            present, inverse = np.unique(keys, return_inverse=True)
            self.totals.append((present, np.bincount(inverse.reshape(-1), weights=weights)))
        if self.keep:
            self.graphs.append(
                dataclasses.replace(
                    graph,
                    rows=now.positions[graph.rows],
                    cols=now.positions[graph.cols],
                    members=now.positions[graph.members],
                )
            )

    def graph_sums(self, n: int) -> _GraphSums:
        """The sums of every tile's pairs (:class:`_GraphSums`)."""
        a, b, w, firms = (np.concatenate(p) for p in zip(*self.open, strict=True))
        key = np.minimum(a, b) * n + np.maximum(a, b)
        order = np.argsort(key)
        twin = np.flatnonzero(key[order][1:] == key[order][:-1])
        first, second = order[twin], order[twin + 1]
        mutual = self.sums["mutual"] + 2.0 * float((firms[first] * w[first] * w[second]).sum())
        lead, size = (np.concatenate(p) for p in zip(*self.multi, strict=True))
        into_sq = float((self.into**2).sum()) + float(((size - 1) * self.into[lead] ** 2).sum())
        w_sq = self.sums["w_sq"]
        return _GraphSums(
            n=float(n),
            w_total=self.sums["w_total"],
            w_sq=w_sq,
            shared_source=self.sums["shared_source"],
            shared_target=into_sq - w_sq,
            mutual=mutual,
            chain=self.sums["chain"] - mutual,
        )

    def counts(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The sector pairs met (keys) and their summed weights."""
        if self.dense:
            met = np.flatnonzero(self.totals)
            return met.astype(np.int64), np.asarray(self.totals[met])
        keys, weights = (np.concatenate(p) for p in zip(*self.totals, strict=True))
        present, inverse = np.unique(keys, return_inverse=True)
        summed = np.bincount(inverse.reshape(-1), weights=weights)
        return present.astype(np.int64), np.asarray(summed, dtype=np.float64)

    def graph(self, rank: NDArray[np.int64]) -> _Pairs:
        """Every tile's pairs as one :class:`_Pairs`, firms renumbered by ``rank``."""
        parts, offset = [], 0
        for g in self.graphs:
            parts.append(
                dataclasses.replace(
                    g,
                    rows=rank[g.rows],
                    cols=rank[g.cols],
                    members=rank[g.members],
                    src=g.src + offset,
                    dst=g.dst + offset,
                    member_place=g.member_place + offset,
                )
            )
            offset += g.groups
        fields = ("rows", "cols", "weights", "src", "dst", "w", "loop", "members", "member_place")
        joined = {f: np.concatenate([getattr(p, f) for p in parts]) for f in fields}
        return _Pairs(**joined, groups=offset)


class _LocalTiles:
    """The neighbours of the sentra's focal firms (positions ``focal``, sorted) with
    ``k`` slots, tile by tree (a :data:`_Step`): one entry per (focal firm, neighbour
    place) and the places met (their first firm, coordinates and firms)."""

    def __init__(self, focal: NDArray[np.int64], k: int) -> None:
        self.focal, self.k = focal, k
        none = np.zeros(0, dtype=np.int64)
        self.entries: list[tuple[NDArray[Any], ...]] = [(none, none, np.zeros(0))]
        self.met: list[tuple[NDArray[Any], ...]] = [(none, np.zeros(0), np.zeros(0), none, none)]

    def __call__(
        self, now: _Round, given: NDArray[np.int64] | None, bound: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        core = now.positions[: now.core_firms]  # sorted
        if given is None:
            at = np.minimum(np.searchsorted(self.focal, core), max(len(self.focal) - 1, 0))
            given = np.flatnonzero(self.focal[at] == core) if len(self.focal) else at[:0]
        else:
            given = np.searchsorted(core, given)
        of = np.arange(len(now.positions)) if now.places.of is None else now.places.of
        home = of[given]
        found, band = _around_on(now.places, now.tree, self.k, home)
        ok = (band + TIE_M + _SAFE_M < bound[home]) | (now.everything & np.isfinite(band))
        take = ok[found.row]
        row, place = found.row[take], found.place[take]
        which = np.searchsorted(self.focal, now.positions[given[row]])
        self.entries.append((which, now.lead[place], found.weight[take]))
        used = np.unique(place)
        many = now.size[used]
        lead_local = now.places.firm(used)
        if now.places.order is None or now.places.start is None:
            firms = now.positions[used]
        else:
            within = np.arange(int(many.sum())) - np.repeat(np.cumsum(many) - many, many)
            firms = now.positions[
                now.places.order[np.repeat(now.places.start[used], many) + within]
            ]
        self.met.append((now.lead[used], now.lon[lead_local], now.lat[lead_local], many, firms))
        return now.positions[given[~ok]], home[~ok], band[~ok]

    def neighbours(
        self,
        focal_group: NDArray[np.int64],
        codes: NDArray[np.integer[Any]],
        own: NDArray[np.int64],
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """The firms around each sentra as :func:`_sentra_neighbours` gives them (the
        same entries, in the same order)."""
        which, lead, weight = (np.concatenate(p) for p in zip(*self.entries, strict=True))
        leads, x, y, many, firms = (np.concatenate(p) for p in zip(*self.met, strict=True))
        begin = np.cumsum(many) - many
        used, first = np.unique(leads, return_index=True)  # a place met on several trees
        local = np.searchsorted(used, lead)
        u = max(len(used), 1)
        by_place = np.lexsort((y[first] + 0.0, x[first] + 0.0))
        rank = np.empty(len(used), dtype=np.int64)
        rank[by_place] = np.arange(len(used))
        key, inverse = np.unique(focal_group[which] * u + rank[local], return_inverse=True)
        total = np.bincount(inverse.reshape(-1), weights=weight, minlength=len(key))
        group, place = key // u, first[by_place[key % u]]
        size = many[place]
        entry = np.repeat(np.arange(len(key)), size)
        within = np.arange(len(entry)) - np.repeat(np.cumsum(size) - size, size)
        firm = firms[begin[place][entry] + within]
        keep = codes[firm] != own[group[entry]]
        return group[entry][keep], firm[keep].astype(np.int64), total[entry][keep]


def sector_codes(labels: ArrayLike) -> tuple[NDArray[np.integer[Any]], pd.Index]:
    """Each firm's sector as a small code (int16 for up to 32,767 sectors) into the
    sorted sector names, and those names: what :func:`tiled_colocation` takes.

    Parameters
    ----------
    labels
        Each firm's sector label (a sequence, array, Series or categorical; a
        categorical is read by its own codes).

    Examples
    --------
    >>> codes, sectors = sector_codes(["31", "16", "31"])
    >>> codes.tolist(), sectors.tolist(), codes.dtype.name
    ([1, 0, 1], ['16', '31'], 'int16')

    Raises
    ------
    DataError
        A firm has no sector.
    """
    values = labels.array if isinstance(labels, pd.Series) else labels
    if isinstance(values, pd.Categorical):
        # the categorical's own small codes, read a million at a time (pandas' removal
        # of unused categories makes int64 copies of every code), ranked by a table
        raw = np.asarray(values.codes)
        used = np.zeros(len(values.categories), dtype=bool)
        least = 0
        for start in range(0, len(raw), 1 << 20):
            seen = np.unique(raw[start : start + (1 << 20)])
            least = min(least, int(seen.min(initial=0)))
            used[seen[seen >= 0]] = True
        if least < 0:
            missing = np.flatnonzero(raw < 0)
            raise DataError(
                f"co-location needs a sector for every firm: {len(missing)} labels are "
                f"missing (rows {preview(missing.tolist(), quote=False)})"
            )
        names = np.asarray(values.categories.astype(str), dtype=object)[used]
        rank = _ranks(names)
        if rank is not None:
            table = np.full(len(used), -1, dtype=np.int64)
            table[used] = rank
            small = _small(table, max(len(names), 1))
            return small[raw], pd.Index(names[np.argsort(rank)], name="sector")
    _check_firms(np.zeros(np.shape(labels)[0]), np.zeros(np.shape(labels)[0]), labels)
    codes, sectors = _labels(labels)
    return _small(codes, max(len(sectors), 1)), sectors


def tiled_colocation(
    tiling: Tiling,
    codes: ArrayLike,
    sectors: pd.Index,
    *,
    sentra: tuple[ArrayLike, ArrayLike] | None = None,
    globally: bool = True,
    k: int = 8,
    permutations: int = 99,
    seed: int = 0,
    max_permuted: int = 2_000_000,
    min_firms: int = 1,
    pairs: str = "all",
    also: Iterable[tuple[str, str]] = (),
    alpha: float = 0.05,
    min_related_firms: int = 3,
    linkages: pd.DataFrame | None = None,
) -> TiledColocation:
    """The global quotients (:func:`global_clq`) and each sentra's related industries
    (:func:`sentra_related`) of firms cut into tiles: one k-d tree per tile and its
    halo (:mod:`klastergeo.analysis.tiles`), shared by both; a search that may reach
    beyond the halo is done again among every firm within its radius. The
    coordinates, trees and neighbour pairs held at a time are a tile's; the results
    are those of the whole-set functions (the same pairs and quotients; the same
    p-values for the same seed).

    Parameters
    ----------
    tiling
        The firms' positions and coordinates, tile by tile (:class:`Tiling`).
    codes
        Every firm's sector, a code into ``sectors`` (:func:`sector_codes`), by position.
    sectors
        The sector names, sorted.
    sentra
        The firms in a sentra: their positions and sentra ids; None for no
        ``links``.
    globally
        Whether to measure the global quotients (``table``).
    k, alpha, min_related_firms, linkages
        As :func:`sentra_related`.
    permutations, seed, max_permuted, pairs, also
        As :func:`global_clq` (``permutations`` and ``seed`` for both).
    min_firms
        Sectors with fewer firms are not tested (both).

    Returns
    -------
    TiledColocation
        ``table`` as :func:`global_clq` gives it, ``links`` as :func:`sentra_related`.
    """
    _check_options(permutations=(permutations, 0), max_permuted=(max_permuted, 0), seed=(seed, 0))
    n = tiling.n
    code = np.asarray(codes)
    if code.shape != (n,):
        raise DataError(f"co-location by tiles: {code.size} sector codes for {n} firms")
    steps: list[_Step] = []
    acc = local = None
    if globally:
        every, tested = _tested_sectors(code, len(sectors), min_firms, pairs)
        width = len(tested) + 1
        remap = np.full(len(sectors), width - 1, dtype=np.int64)
        remap[tested] = np.arange(width - 1)
        keep = bool(permutations) and n <= max_permuted
        acc = _GlobalTiles(code, _small(remap, width), width, keep=keep)
        steps.append(acc)
    focus = _focus(code, len(sectors), sentra, k, n)
    if focus is not None:
        local = _LocalTiles(focus[3], min(k, n - 1))
        steps.append(local)
    tiles = len(tiling.boxes)
    rounds = sum(_tile(tiling, t, n, k + 2, steps) for t in range(tiles)) if steps else 0
    logger.info("co-location by tiles: %d firms, %d tiles, %d k-d trees", n, tiles, rounds)
    table = None
    if acc is not None:
        names = sectors[tested]
        counts = every[tested].astype(np.float64)
        options = (permutations, seed, max_permuted, pairs, also)
        table = _tiled_table(acc, tiling, code, remap, names, counts, options)
        steps.remove(acc)
        acc = None  # its weight per firm is not needed for the sentra's tables
    links = None
    if sentra is not None:
        links = SentraLinks(_empty_related(), _empty_missing(), _empty_firms())
    if focus is not None and local is not None:
        names_s, own, focal_group, _ = focus
        links = _sentra_links(
            (code, sectors),
            (names_s, own, focal_group),
            local.neighbours(focal_group, code, own),
            permutations=permutations,
            seed=seed,
            alpha=alpha,
            min_firms=min_firms,
            min_related_firms=min_related_firms,
            linkages=linkages,
        )
    return TiledColocation(table, links, tiles, rounds)


def _focus(
    codes: NDArray[np.integer[Any]],
    s: int,
    sentra: tuple[ArrayLike, ArrayLike] | None,
    k: int,
    n: int,
) -> tuple[NDArray[Any], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]] | None:
    """The sentra (names, sector) and their focal firms (each one's sentra, and their
    positions, sorted) from the members' positions and sentra ids; None without any."""
    if sentra is None:
        return None
    positions = np.asarray(sentra[0], dtype=np.int64)
    ids = pd.Series(np.asarray(sentra[1], dtype=object))
    order = np.argsort(positions, kind="stable")
    positions, ids = positions[order], ids.iloc[order].reset_index(drop=True)
    member, names, group = _groups(ids)
    positions = positions[member]
    own = _own_sector(codes[positions], group, len(names), s)
    mine = codes[positions] == own[group]
    if not mine.any():
        return None
    if k < 1:
        raise ConfigError(f"colocation.k={k!r} must be at least 1")
    if n < 2:
        raise DataError(f"co-location needs at least 2 firms, got {n}")
    return names, own, group[mine], positions[mine]


def _tiled_table(
    acc: _GlobalTiles,
    tiling: Tiling,
    codes: NDArray[np.integer[Any]],
    remap: NDArray[np.int64],
    names: pd.Index,
    counts: NDArray[np.float64],
    options: tuple[int, int, int, str, Iterable[tuple[str, str]]],
) -> pd.DataFrame:
    """The global table of :func:`tiled_colocation` from the tiles' counts and sums."""
    permutations, seed, max_permuted, pairs, also = options
    n, width = len(codes), acc.width
    keys, weights = acc.counts()
    wanted = _wanted(keys, weights, pairs, also, names, width - 1)
    observed = _count_at(keys, weights, wanted, width)
    out, scale = _clq_table(observed, wanted, width, counts, n, acc.graph_sums(n), names)
    if not permutations:
        return out
    if n > max_permuted:
        undefined = out["clq"].isna().to_numpy()
        out["p_value"] = np.where(undefined, np.nan, norm.sf(out["z"].to_numpy()))
        out["p_isolation"] = np.where(undefined, np.nan, norm.cdf(out["z"].to_numpy()))
        return out
    # the relabellings of global_clq: firms in the order of their longitude, latitude
    # and sector (a few million at most: max_permuted)
    x, y = np.zeros(n), np.zeros(n)
    for t in range(len(tiling.boxes)):
        core = tiling.core(t)
        x[core.positions], y[core.positions] = core.lon, core.lat
    order = np.lexsort((codes, y, x))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    labels = remap[codes][order]
    return _permutation_p(out, labels, acc.graph(rank), (wanted, width, scale), permutations, seed)
