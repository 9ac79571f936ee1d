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
Gaussian weights w_ij = exp(-0.5 d_ij^2 / b_i^2), with the adaptive bandwidth b_i the
distance to the k-th neighbour (all weights 1 when the k neighbours share i's place), and

    LCLQ_i(A -> B) = (sum_j w_ij [j in B] / sum_j w_ij) / (N'_B / (N - 1)).

Its p-value is conditional: i stays, the labels of its k neighbours are drawn at random
from the other N - 1 firms.

**Per sentra** the CLQ towards B is the mean LCLQ of the sentra's firms of its sector.
Its p-value comes from relabelling every firm outside the sentra at random (the sentra's
firms keep their sector), so neighbours shared by several of the sentra's firms share
their random label. A related sector counts (``significant``) when its CLQ is above 1,
its p-value below alpha and at least ``min_related_firms`` of its firms are among the
neighbours: with twenty-odd sectors tested per sentra, one rare firm next door passes
the test by chance too often to be called a supply base.

Distances are in metres along the chord of a sphere of the Earth's mean radius: a k-d
tree on 3-D points, exact in order for any extent (the whole country) and within 0.01 %
of the great-circle distance up to 100 km.

**Value chains.** A linkage table (``from_sector,to_sector,role``) says that
``from_sector`` is a ``supplier``, ``buyer``, ``supporting`` or ``related`` industry of
``to_sector``; ``to_sector`` may be a range (``10-33``, KBLI divisions). The default
table (``klastergeo/data/linkages.csv``) is a documented assumption, not data: a few
textbook links between KBLI divisions, to be replaced by a user's own.
"""

from __future__ import annotations

import logging
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
from klastergeo._errors import ConfigError, DataError

__all__ = [
    "DEFAULT_LINKAGES",
    "ROLES",
    "LocalCLQ",
    "SentraLinks",
    "global_clq",
    "local_clq",
    "read_linkages",
    "sentra_related",
]

logger = logging.getLogger(__name__)

#: What a related industry is to a sentra's sector, as a linkage table names it.
ROLES = ("supplier", "buyer", "supporting", "related")
#: The shipped default linkage table (an assumption between KBLI divisions, not data).
DEFAULT_LINKAGES = Path(str(files("klastergeo") / "data" / "linkages.csv"))
#: The Earth's mean radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
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


def _knn(
    tree: cKDTree, xyz: NDArray[np.float64], k: int, rows: NDArray[np.int64] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The ``k`` nearest neighbours of the points ``rows`` (default: all), each point
    itself left out even when others share its place."""
    rows = np.arange(len(xyz)) if rows is None else rows
    k = min(k, len(xyz) - 1)
    dist, idx = tree.query(xyz[rows], k=k + 1, workers=-1)  # every core, as the engine
    dist, idx = dist.reshape(len(rows), k + 1), idx.reshape(len(rows), k + 1)
    own = idx == rows[:, None]
    # a point not among its own k + 1 neighbours (more than k others at its place): drop
    # the last one instead
    own[~own.any(axis=1), k] = True
    keep = ~own
    return dist[keep].reshape(len(rows), k), idx[keep].reshape(len(rows), k)


#: Points whose nearest neighbours are looked up at a time (bounds the query's memory).
_NEAREST_CHUNK = 1 << 20


def _nearest(
    xyz: NDArray[np.float64],
) -> tuple[NDArray[np.integer[Any]], NDArray[np.integer[Any]], NDArray[np.float64]]:
    """Every point's nearest neighbours with ties: (point, neighbour, 1 / ties), the
    positions in int32 when they fit; looked up :data:`_NEAREST_CHUNK` points at a time."""
    n = len(xyz)
    tree = cKDTree(xyz, balanced_tree=False)
    kind = np.int32 if n <= np.iinfo(np.int32).max else np.int64
    rows, cols, weights = [], [], []
    # in the tree's order: neighbouring queries walk the same nodes (4x faster at 8 M)
    for start in range(0, n, _NEAREST_CHUNK):
        todo = tree.indices[start : start + _NEAREST_CHUNK].astype(np.int64)
        k = 2  # most points have one nearest neighbour: a tie of two asks for more
        while len(todo):  # a few rounds: points whose k neighbours all tie ask for more
            dist, idx = _knn(tree, xyz, k, todo)
            tied = dist <= dist[:, :1] * (1 + 1e-12) + 1e-9
            full = tied.all(axis=1) & (idx.shape[1] < n - 1)
            done = ~full
            r, c = np.nonzero(tied[done])
            share = 1.0 / tied[done].sum(axis=1)
            rows.append(todo[done][r].astype(kind))
            cols.append(idx[done][r, c].astype(kind))
            weights.append(share[r])
            todo, k = todo[full], k * 4
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)


def _pair_counts(
    codes: NDArray[np.integer[Any]],
    rows: NDArray[np.integer[Any]],
    cols: NDArray[np.integer[Any]],
    weights: NDArray[np.float64],
    s: int,
) -> NDArray[np.float64]:
    """The (ties-weighted) count of nearest-neighbour pairs of every sector pair."""
    wide = np.int32 if s * s < 2**31 else np.int64
    flat = codes[rows].astype(wide) * s + codes[cols]
    out = np.bincount(flat, weights=weights, minlength=s * s).astype(np.float64)
    return out.reshape(s, s)


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
) -> pd.DataFrame:
    """The global co-location quotient of every ordered pair of sectors, with
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
    """
    codes, sectors = _labels(labels)
    n, s = len(codes), len(sectors)
    if n < 3:
        raise DataError(f"co-location needs at least 3 firms, got {n}")
    rows, cols, weights = _nearest(_points(lon, lat))
    counts = np.bincount(codes, minlength=s).astype(np.float64)
    expected = (counts[None, :] - np.eye(s)) / (n - 1)  # N'_B / (N - 1), per (A, B)
    with np.errstate(divide="ignore", invalid="ignore"):
        # undefined (NaN) for a sector of one firm towards itself: it has no other firm
        scale = np.where(expected > 0, 1.0 / (counts[:, None] * expected), np.nan)
    pairs = _pair_counts(codes, rows, cols, weights, s)
    observed = pairs * scale
    mean, variance = _null_moments(rows, cols, weights, counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, (pairs - mean) / np.sqrt(variance), np.nan)
    index = pd.MultiIndex.from_product([sectors, sectors.rename("related_sector")])
    out = pd.DataFrame(
        {
            "n_sector": np.repeat(counts, s).astype(np.int64),
            "n_related": np.tile(counts, s).astype(np.int64),
            "clq": observed.ravel(),
            "z": np.where(np.isnan(observed), np.nan, z).ravel(),
        },
        index=index,
    )
    if not permutations:
        return out
    undefined = np.isnan(observed).ravel()
    if n > max_permuted:
        logger.info(
            "co-location: %d firms (more than %d): global p-values from the exact moments",
            n,
            max_permuted,
        )
        out["p_value"] = np.where(undefined, np.nan, norm.sf(out["z"].to_numpy()))
        out["p_isolation"] = np.where(undefined, np.nan, norm.cdf(out["z"].to_numpy()))
        return out
    above = np.zeros((s, s))
    below = np.zeros((s, s))
    rng = np.random.default_rng(seed)
    shuffled = _small(codes, s)
    near, nearest = _small(rows, n), _small(cols, n)
    for _ in range(permutations):  # relabellings; each is one bincount over all firms
        rng.shuffle(shuffled)  # in place: a random relabelling of the last one is one too
        sim = _pair_counts(shuffled, near, nearest, weights, s) * scale
        above += sim >= observed - 1e-12
        below += sim <= observed + 1e-12
    out["p_value"] = np.where(undefined, np.nan, ((above + 1) / (permutations + 1)).ravel())
    out["p_isolation"] = np.where(undefined, np.nan, ((below + 1) / (permutations + 1)).ravel())
    return out


def _null_moments(
    rows: NDArray[np.integer[Any]],
    cols: NDArray[np.integer[Any]],
    weights: NDArray[np.float64],
    counts: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The exact mean and variance of every pair count C(A -> B) = sum_p w_p [i_p in A]
    [j_p in B] over the nearest-neighbour pairs p = (i_p, j_p, w_p) when the sectors'
    labels are shuffled at random (drawn without replacement).

    E[C] = W P(2) with W = sum w. E[C^2] adds, over ordered pairs of pairs, the weight
    products of each way two pairs can share firms (the same source: ties; the same
    target; one's target the other's source; each other's reverse; none) times the
    chance that the three or four firms involved carry the labels asked for: a falling
    factorial ratio, as for join counts (Cliff and Ord 1981). Only the pair graph's
    five sums are needed, once, for every sector pair."""
    n = float(counts.sum())
    m = int(n)
    w_total, w_sq = float(weights.sum()), float((weights**2).sum())
    out = np.bincount(rows, weights=weights, minlength=m)
    into = np.bincount(cols, weights=weights, minlength=m)
    shared_source = float((out**2).sum()) - w_sq  # the sums of w^2 per source add to w_sq
    shared_target = float((into**2).sum()) - w_sq
    # mutual neighbours: the two directions of a firm pair share one key, next to each
    # other once sorted (a sort, not a search per pair: cache-friendly at 26 M pairs)
    key = np.minimum(rows, cols).astype(np.int64) * m + np.maximum(rows, cols)
    order = np.argsort(key)
    twin = np.flatnonzero(key[order][1:] == key[order][:-1])
    mutual = 2.0 * float((weights[order][twin] * weights[order][twin + 1]).sum())
    chain = float((out * into).sum()) - mutual  # one's target is the other's source
    disjoint = w_total**2 - w_sq - shared_source - shared_target - mutual - 2 * chain
    a, b = counts[:, None], counts[None, :]
    same = np.eye(len(counts), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        p2 = a * (b - same) / (n * (n - 1))
        p_source = p2 * (b - 1 - same) / (n - 2)  # A, then two of B
        p_target = p2 * (a - 1 - same) / (n - 2)  # two of A, then B
        p_four = p2 * (a - 1 - same) * (b - 1 - 2 * same) / ((n - 2) * (n - 3))
        p_three_same = np.where(same, p_source, 0.0)  # a chain: three firms, all of A
        p_mutual = np.where(same, p2, 0.0)  # each other's reverse: two firms, both A
    second = (
        w_sq * p2
        + shared_source * p_source
        + shared_target * p_target
        + mutual * p_mutual
        + 2 * chain * p_three_same
        + disjoint * p_four
    )
    mean = w_total * p2
    return mean, np.maximum(second - mean**2, 0.0)


@dataclass(frozen=True)
class LocalCLQ:
    """Local co-location quotients of the focal firms towards every sector.

    ``clq`` and ``p_value`` are indexed by the focal firms' positions, one column per
    sector; ``p_value`` is None without permutations. ``neighbours`` and ``weights``
    are each focal firm's k neighbours (positions) and their normalised kernel weights.
    """

    clq: pd.DataFrame
    p_value: pd.DataFrame | None
    neighbours: NDArray[np.int64]
    weights: NDArray[np.float64]


def _kernel(dist: NDArray[np.float64]) -> NDArray[np.float64]:
    """Gaussian weights with the distance to the k-th neighbour as bandwidth, each row
    summing to 1 (all equal when the bandwidth is 0)."""
    band = dist[:, -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(band > 0, np.exp(-0.5 * (dist / np.where(band > 0, band, 1.0)) ** 2), 1.0)
    return w / w.sum(axis=1, keepdims=True)


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
) -> LocalCLQ:
    """The local co-location quotient of each focal firm towards every sector (see the
    module's text), with conditional-permutation p-values.

    Parameters
    ----------
    {firms}
    focal
        Which firms to compute it for (a boolean mask or positions; default: all).
    k
        Neighbours of each firm (ArcGIS Pro's default is 8).
    permutations
        Conditional permutations per focal firm (0: no p-values).
    seed
        Seed of the permutations.
    chunk
        Focal firms simulated at a time (memory: chunk x permutations x sectors).

    Returns
    -------
    LocalCLQ
        The quotients and p-values, indexed by focal position, a column per sector.
    """
    codes, sectors = _labels(labels)
    n, s = len(codes), len(sectors)
    if k < 1:
        raise ConfigError(f"colocation.k={k!r} must be at least 1")
    if n < 2:
        raise DataError(f"co-location needs at least 2 firms, got {n}")
    rows = np.arange(n) if focal is None else np.asarray(focal)
    rows = np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64)
    xyz = _points(lon, lat)
    dist, idx = _knn(cKDTree(xyz, balanced_tree=False), xyz, k, rows)
    weights = _kernel(dist)
    counts = np.bincount(codes, minlength=s).astype(np.float64)
    # N'_B / (N - 1) for each focal firm: its own sector has one firm fewer to meet
    expected = (counts[None, :] - np.eye(s)[codes[rows]]) / (n - 1)
    share = _shares(codes[idx], weights, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        clq = share / expected
    p_value = None
    if permutations:
        rng = np.random.default_rng(seed)
        above = np.zeros_like(share)
        for start in range(0, len(rows), chunk):  # chunks of focal firms
            part = slice(start, start + chunk)
            drawn = _draw_others(rng, rows[part], n, idx.shape[1], permutations)
            sim = _shares(codes[drawn], weights[part][:, None, :], s)  # (m, perms, s)
            above[part] = (sim >= share[part][:, None, :] - 1e-12).sum(axis=1)
        p_value = pd.DataFrame((above + 1) / (permutations + 1), index=rows, columns=sectors)
    return LocalCLQ(
        clq=pd.DataFrame(clq, index=rows, columns=sectors),
        p_value=p_value,
        neighbours=idx,
        weights=weights,
    )


def _shares(labels: NDArray[np.int64], weights: NDArray[np.float64], s: int) -> NDArray[np.float64]:
    """Weighted share of each sector among neighbours: ``labels`` (..., k) and their
    ``weights`` (broadcastable) -> (..., s)."""
    weights = np.broadcast_to(weights, labels.shape)
    lead = int(np.prod(labels.shape[:-1]))
    flat = np.repeat(np.arange(lead), labels.shape[-1]) * s + labels.reshape(-1)
    out = np.bincount(flat, weights=weights.reshape(-1), minlength=lead * s).astype(np.float64)
    return out.reshape(*labels.shape[:-1], s)


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
        repeat = np.ones(drawn.shape[:2], dtype=bool)
        while True:  # rounds: only the sets with a repeat are drawn again
            ordered = np.sort(drawn[repeat], axis=-1)
            again = (np.diff(ordered, axis=-1) == 0).any(axis=-1)
            if not again.any():
                break
            where = tuple(w[again] for w in np.nonzero(repeat))
            drawn[where] = rng.integers(0, n - 1, size=(int(again.sum()), k))
            repeat = np.zeros_like(repeat)
            repeat[where] = True
    # positions 0..n-2 skip the focal firm itself
    return drawn + (drawn >= rows[:, None, None])


def read_linkages(path: str | Path | None = None) -> pd.DataFrame:
    """A linkage table: which sector is a supplier, buyer, supporting or related
    industry of which (see the module's text).

    Parameters
    ----------
    path
        A CSV with ``from_sector``, ``to_sector`` and ``role`` (``note`` optional);
        ``to_sector`` and ``from_sector`` may be ranges of KBLI divisions (``10-33``).
        None for the shipped default (:data:`DEFAULT_LINKAGES`).

    Returns
    -------
    DataFrame
        One row per (``from_sector``, ``to_sector``) with ranges expanded: ``role`` and
        ``note``.
    """
    source = DEFAULT_LINKAGES if path is None else Path(path)
    try:
        table = pd.read_csv(source, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ConfigError(f"colocation.linkages={str(source)!r} cannot be read: {err}") from err
    missing = {"from_sector", "to_sector", "role"} - set(table.columns)
    if missing:
        raise ConfigError(
            f"colocation.linkages={str(source)!r} lacks column(s) {sorted(missing)}; it needs "
            "from_sector,to_sector,role (and may have note)"
        )
    table = table.assign(role=table["role"].str.strip().str.lower())
    bad = sorted(set(table["role"]) - set(ROLES))
    if bad:
        raise ConfigError(
            f"colocation.linkages={str(source)!r} has role(s) {bad}; accepted: {list(ROLES)}"
        )
    if "note" not in table.columns:
        table["note"] = ""
    rows = []
    for record in table.itertuples(index=False):  # a table of tens of rows
        for a in _expand(str(record.from_sector), source):
            for b in _expand(str(record.to_sector), source):
                rows.append((a, b, record.role, record.note))
    out = pd.DataFrame(rows, columns=["from_sector", "to_sector", "role", "note"])
    return out.drop_duplicates(["from_sector", "to_sector"], keep="first").reset_index(drop=True)


def _expand(text: str, source: Path) -> list[str]:
    """``"10-33"`` as the divisions 10 to 33, ``"08"`` as itself."""
    text = text.strip()
    if "-" not in text:
        if not text.isdigit():
            raise ConfigError(f"colocation.linkages={str(source)!r}: {text!r} is not a KBLI code")
        return [text]
    low, high = (part.strip() for part in text.split("-", 1))
    if not (low.isdigit() and high.isdigit() and len(low) == len(high) and low <= high):
        raise ConfigError(
            f"colocation.linkages={str(source)!r}: {text!r} is not a range of KBLI codes "
            "such as 10-33"
        )
    return [str(v).zfill(len(low)) for v in range(int(low), int(high) + 1)]


def _role_of(linkages: pd.DataFrame, sector: str, related: str) -> str | None:
    """What ``related`` is to ``sector`` by the table (codes compared at the table's
    length: a 4-digit sector 3101 is division 31)."""
    for row in linkages.itertuples(index=False):  # tens of rows
        if sector.startswith(str(row.to_sector)) and related.startswith(str(row.from_sector)):
            return str(row.role)
    return None


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

    Parameters
    ----------
    {firms}
    sentra_of
        Each firm's sentra id (missing for a firm in none); a sentra's focal firms are
        those of its sector (the sector of most of its firms).
    k
        Neighbours of each firm for the local quotient.
    permutations
        Relabellings of the firms outside the sentra (0: no p-values).
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
    local = local_clq(lon, lat, labels, focal=focal, k=k, permutations=0)
    counts = np.bincount(codes, minlength=s).astype(np.float64)
    m = len(names)
    expected = (counts[None, :] - np.eye(s)[own]) / (n - 1)  # (sentra, sector)
    size = np.bincount(focal_group, minlength=m).astype(np.float64)

    slots = np.repeat(focal_group, local.neighbours.shape[1]) * s  # each neighbour's row
    weights = local.weights.ravel()

    def mean_clq(labels_at: NDArray[np.int64]) -> NDArray[np.float64]:
        """Each sentra's mean LCLQ towards every sector, its firms' neighbours labelled
        ``labels_at`` (one per neighbour slot)."""
        total = np.bincount(slots + labels_at, weights=weights, minlength=m * s)
        with np.errstate(divide="ignore", invalid="ignore"):
            return total.reshape(m, s) / size[:, None] / expected

    at = local.neighbours.ravel()
    observed = mean_clq(codes[at])
    above = np.zeros_like(observed)
    if permutations:
        # relabelling every firm outside the sentra at random: only the labels of the
        # sentra firms' neighbours matter, a sample without replacement of the free labels
        rng = np.random.default_rng(seed)
        fixed = np.zeros(n, dtype=bool)
        fixed[focal] = True
        pool = codes[~fixed]
        free = ~fixed[at]
        shown, slot = np.unique(at[free], return_inverse=True)
        labels_at = codes[at]
        for _ in range(permutations):  # relabellings; each costs the neighbours, not n
            labels_at[free] = pool[rng.choice(len(pool), len(shown), replace=False)][slot]
            above += mean_clq(labels_at) >= observed - 1e-12
    p_value = (above + 1) / (permutations + 1) if permutations else np.full_like(observed, np.nan)
    near, around = _related_firms(local.neighbours, focal_group, codes, m, s, n)
    related = _related_table(names, sectors, own, observed, p_value, near, counts, min_firms)
    related["significant"] = (
        (related["p_value"] < alpha)
        & (related["clq"] > 1)
        & (related["n_related_firms"] >= min_related_firms)
    )
    table = linkages if linkages is not None else _no_linkages()
    pairs = related[["sector", "related_sector"]].drop_duplicates()
    roles = {
        (a, b): _role_of(table, a, b)
        for a, b in zip(pairs["sector"], pairs["related_sector"], strict=True)  # <= s^2
    }
    keys = zip(related["sector"], related["related_sector"], strict=True)
    related["role"] = [roles[key] or "co-located" for key in keys]
    missing = _missing(names, sectors, own, related, table, counts, min_firms, min_related_firms)
    return SentraLinks(related, missing, _firms_of(around, related, names, sectors, codes, n))


def _own_sector(
    codes: NDArray[np.int64], group: NDArray[np.int64], m: int, s: int
) -> NDArray[np.int64]:
    """The sector of most of each sentra's firms."""
    table = np.bincount(group * s + codes, minlength=m * s).reshape(m, s)
    return table.argmax(axis=1)


def _related_firms(
    neighbours: NDArray[np.int64],
    focal_group: NDArray[np.int64],
    codes: NDArray[np.int64],
    m: int,
    s: int,
    n: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Distinct firms of each sector among the neighbours of each sentra's firms (a
    sentra x sector table), and those (sentra, firm) pairs as ``sentra * n + firm``."""
    pairs = np.unique(np.repeat(focal_group, neighbours.shape[1]) * n + neighbours.ravel())
    sentra, firm = pairs // n, pairs % n
    return np.bincount(sentra * s + codes[firm], minlength=m * s).reshape(m, s), pairs


def _firms_of(
    pairs: NDArray[np.int64],
    related: pd.DataFrame,
    names: NDArray[Any],
    sectors: pd.Index,
    codes: NDArray[np.int64],
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
    codes = [str(x) for x in sectors]
    present = pd.Series(counts, index=codes)
    # the links each sentra sector expects (a table of tens of rows, sectors of tens)
    expects = pd.DataFrame(
        [
            (x, str(link.from_sector), str(link.role))
            for x in sorted({codes[c] for c in own})
            for link in linkages.itertuples(index=False)
            if x.startswith(str(link.to_sector))
        ],
        columns=["sector", "link", "role"],
    )
    own_sectors = pd.DataFrame({"sentra_id": names, "sector": [codes[c] for c in own]})
    wanted = own_sectors.merge(expects, on="sector")
    if not len(wanted):
        return _empty_missing()
    under = pd.DataFrame(
        [(link, x) for link in wanted["link"].unique() for x in codes if x.startswith(link)],
        columns=["link", "related_sector"],
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
