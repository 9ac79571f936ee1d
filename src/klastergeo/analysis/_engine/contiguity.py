"""Fast polygon contiguity: neighbours by shared vertices (queen) or shared edges (rook).

GeoDa decides contiguity by exact matches of the polygons' vertex coordinates; so does this
module. Instead of comparing polygons pair by pair, every vertex (or edge) is looked up in
a hash table keyed by its exact coordinates, which groups equal vertices in one linear pass;
polygons that meet in a group are neighbours. Both kernels are compiled with numba and
cached on disk. Pairs whose borders only come *close* (gaps between independently simplified
borders) are added by :func:`near_pairs`, which tests polygon distances.

The result equals GeoDa's queen and rook weights (tested against pygeoda on the 83,402
villages of Indonesia).
"""

from __future__ import annotations

import numpy as np
import shapely
from numba import njit
from numpy.typing import NDArray

from klastergeo.errors import DataError

__all__ = ["near_pairs", "shared_edge_pairs", "shared_vertex_pairs", "unique_pairs"]

Pairs = tuple[NDArray[np.int64], NDArray[np.int64]]


#: Items are hashed bucket by bucket, so that each bucket's table stays in cache.
BUCKETS = 512


@njit(cache=True)
def _group_ids(
    first: NDArray[np.uint64],
    second: NDArray[np.uint64],
    bucket: NDArray[np.int64],
    n_buckets: int,
) -> NDArray[np.int64]:
    """Group id per item: equal (first, second) keys get the same id.

    Equal keys must fall in the same ``bucket``. Items are counting-sorted by bucket and
    each bucket is grouped with its own small open-addressing hash table.
    """
    m = first.shape[0]
    start = np.zeros(n_buckets + 1, dtype=np.int64)
    for v in range(m):
        start[bucket[v] + 1] += 1
    largest = 0
    for b in range(n_buckets):
        largest = max(largest, start[b + 1])
        start[b + 1] += start[b]
    fill = start[:-1].copy()
    order = np.empty(m, dtype=np.int64)
    for v in range(m):
        order[fill[bucket[v]]] = v
        fill[bucket[v]] += 1
    size = 1
    while size < 2 * largest:
        size <<= 1
    table = np.empty((size, 3), dtype=np.uint64)  # key a, key b, group + 1 (0 = empty)
    out = np.empty(m, dtype=np.int64)
    offset = 0
    for b in range(n_buckets):
        count = start[b + 1] - start[b]
        if count == 0:
            continue
        local = 1
        while local < 2 * count:
            local <<= 1
        mask = np.uint64(local - 1)
        table[:local, 2] = 0
        n_groups = 0
        for t in range(start[b], start[b + 1]):
            v = order[t]
            a = first[v]
            c = second[v]
            h = a * np.uint64(0x9E3779B97F4A7C15) ^ c * np.uint64(0xC2B2AE3D27D4EB4F)
            h ^= h >> np.uint64(29)
            slot = h & mask
            while True:
                g = table[slot, 2]
                if g == 0:
                    table[slot, 0] = a
                    table[slot, 1] = c
                    n_groups += 1
                    table[slot, 2] = np.uint64(n_groups)
                    out[v] = offset + n_groups - 1
                    break
                if table[slot, 0] == a and table[slot, 1] == c:
                    out[v] = offset + np.int64(g) - 1
                    break
                slot = (slot + np.uint64(1)) & mask
        offset += n_groups
    return out


@njit(cache=True)
def _vertex_groups(xy: NDArray[np.float64], bits: NDArray[np.uint64]) -> NDArray[np.int32]:
    """Group id per vertex: vertices with the same exact coordinates get the same id.

    ``bits`` is ``xy`` viewed as unsigned integers (-0.0 counts as 0.0). As
    :func:`_group_ids`, with the buckets (equal spans of x) and keys read from the
    coordinates in place.
    """
    m = xy.shape[0]
    low, high = np.inf, -np.inf
    for v in range(m):
        low, high = min(low, xy[v, 0]), max(high, xy[v, 0])
    scale = (BUCKETS - 1) / (high - low) if np.isfinite(high - low) and high > low else 0.0
    bucket = np.empty(m, dtype=np.int16)
    start = np.zeros(BUCKETS + 1, dtype=np.int64)
    for v in range(m):
        f = (xy[v, 0] - low) * scale
        b = int(f) if f >= 0 and f <= BUCKETS - 1 else (BUCKETS - 1 if f > 0 else 0)
        bucket[v] = b
        start[b + 1] += 1
    largest = 0
    for b in range(BUCKETS):
        largest = max(largest, start[b + 1])
        start[b + 1] += start[b]
    fill = start[:-1].copy()
    order = np.empty(m, dtype=np.int32)
    for v in range(m):
        order[fill[bucket[v]]] = v
        fill[bucket[v]] += 1
    size = 1
    while size < 2 * largest:
        size <<= 1
    table = np.empty((size, 3), dtype=np.uint64)  # key a, key b, group + 1 (0 = empty)
    out = np.empty(m, dtype=np.int32)
    negative_zero = np.uint64(1) << np.uint64(63)
    offset = 0
    for b in range(BUCKETS):
        count = start[b + 1] - start[b]
        if count == 0:
            continue
        local = 1
        while local < 2 * count:
            local <<= 1
        mask = np.uint64(local - 1)
        table[:local, 2] = 0
        n_groups = 0
        for t in range(start[b], start[b + 1]):
            v = order[t]
            a = bits[v, 0]
            c = bits[v, 1]
            a = np.uint64(0) if a == negative_zero else a
            c = np.uint64(0) if c == negative_zero else c
            h = a * np.uint64(0x9E3779B97F4A7C15) ^ c * np.uint64(0xC2B2AE3D27D4EB4F)
            h ^= h >> np.uint64(29)
            slot = h & mask
            while True:
                g = table[slot, 2]
                if g == 0:
                    table[slot, 0] = a
                    table[slot, 1] = c
                    n_groups += 1
                    table[slot, 2] = np.uint64(n_groups)
                    out[v] = offset + n_groups - 1
                    break
                if table[slot, 0] == a and table[slot, 1] == c:
                    out[v] = offset + np.int64(g) - 1
                    break
                slot = (slot + np.uint64(1)) & mask
        offset += n_groups
    return out


@njit(cache=True)
def _vertex_pairs(
    group: NDArray[np.int32], vertex_start: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Ordered pairs of distinct polygons that share a vertex group (as
    :func:`_pairs_from_groups`, the vertices of polygon ``g`` being
    ``vertex_start[g] .. vertex_start[g + 1] - 1``)."""
    m = group.shape[0]
    n_owners = vertex_start.shape[0] - 1
    n_groups = 0
    for v in range(m):
        n_groups = max(n_groups, group[v] + 1)
    start = np.zeros(n_groups + 1, dtype=np.int32)  # the vertices of a national map fit
    for v in range(m):
        start[group[v] + 1] += 1
    for g in range(n_groups):
        start[g + 1] += start[g]
    fill = start[:-1].copy()
    members = np.empty(m, dtype=np.int32)
    for a in range(n_owners):
        for v in range(vertex_start[a], vertex_start[a + 1]):
            members[fill[group[v]]] = a
            fill[group[v]] += 1
    last = np.full(n_owners, -1, dtype=np.int64)
    count = 0
    for phase in range(2):  # count, then fill
        if phase == 1:
            out_i = np.empty(count, dtype=np.int64)
            out_j = np.empty(count, dtype=np.int64)
            last[:] = -1
            count = 0
        for a in range(n_owners):
            for v in range(vertex_start[a], vertex_start[a + 1]):
                g = group[v]
                if start[g + 1] - start[g] < 2:
                    continue
                for t in range(start[g], start[g + 1]):
                    b = members[t]
                    if b != a and last[a] != b:
                        if phase == 1:
                            out_i[count] = a
                            out_j[count] = b
                        last[a] = b
                        count += 1
    return out_i, out_j


def _x_buckets(x: NDArray[np.float64]) -> NDArray[np.int64]:
    """Bucket of each x: equal values share a bucket; buckets span equal x ranges."""
    low, high = float(np.min(x)), float(np.max(x))
    span = high - low
    if not np.isfinite(span) or span == 0:
        return np.zeros(len(x), dtype=np.int64)
    raw = ((x - low) * ((BUCKETS - 1) / span)).astype(np.int64)
    return np.clip(raw, 0, BUCKETS - 1)


@njit(cache=True)
def _pairs_from_groups(
    group: NDArray[np.int64], owner: NDArray[np.int64], n_owners: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Ordered pairs of distinct owners that share a group, visiting items in order.

    Consecutive items of one owner usually meet the same neighbour (vertices along a shared
    border), so a pair is skipped when it repeats the owner's previous one; the remaining
    repeats are merged by the caller.
    """
    m = group.shape[0]
    n_groups = 0
    for v in range(m):
        if group[v] + 1 > n_groups:
            n_groups = group[v] + 1
    start = np.zeros(n_groups + 1, dtype=np.int64)
    for v in range(m):
        start[group[v] + 1] += 1
    for g in range(n_groups):
        start[g + 1] += start[g]
    fill = start[:-1].copy()
    members = np.empty(m, dtype=np.int64)
    for v in range(m):
        members[fill[group[v]]] = owner[v]
        fill[group[v]] += 1
    last = np.full(n_owners, -1, dtype=np.int64)
    count = 0
    for phase in range(2):  # count, then fill
        if phase == 1:
            out_i = np.empty(count, dtype=np.int64)
            out_j = np.empty(count, dtype=np.int64)
            last[:] = -1
            count = 0
        for v in range(m):
            a = owner[v]
            g = group[v]
            if start[g + 1] - start[g] < 2:
                continue
            for t in range(start[g], start[g + 1]):
                b = members[t]
                if b != a and last[a] != b:
                    if phase == 1:
                        out_i[count] = a
                        out_j[count] = b
                    last[a] = b
                    count += 1
    return out_i, out_j


def _bits(values: NDArray[np.float64]) -> NDArray[np.uint64]:
    """Exact bit patterns of floats, with -0.0 folded into 0.0."""
    return np.ascontiguousarray(values + 0.0).view(np.uint64)


def unique_pairs(i: NDArray[np.int64], j: NDArray[np.int64], n: int) -> Pairs:
    """Distinct (i, j) pairs, sorted by i then j (a CSR matrix merges repeats)."""
    from scipy import sparse

    matrix = sparse.csr_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.sort_indices()
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(matrix.indptr))
    return rows, matrix.indices.astype(np.int64)


def shared_vertex_pairs(
    geoms: NDArray[np.object_],
    *,
    coords: NDArray[np.float64] | None = None,
    counts: NDArray[np.int64] | None = None,
) -> Pairs:
    """Queen contiguity: ordered pairs of polygons that share at least one vertex.

    ``coords`` and ``counts`` (``shapely.get_coordinates(geoms)`` and
    ``shapely.get_num_coordinates(geoms)``) are read from ``geoms`` unless given.

    Examples
    --------
    >>> squares = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 1, 2, 2)])
    >>> [a.tolist() for a in shared_vertex_pairs(squares)]
    [[0, 1], [1, 0]]
    """
    if coords is None or counts is None:
        coords = shapely.get_coordinates(geoms)
        counts = shapely.get_num_coordinates(geoms)
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    if len(coords) >= 2**31 - 1:  # the kernels count vertices in 32 bits
        raise DataError(f"{len(coords):,} vertices are too many for contiguity (at most 2**31)")
    vertex_start = np.zeros(len(geoms) + 1, dtype=np.int64)
    np.cumsum(counts, out=vertex_start[1:])
    group = _vertex_groups(coords, coords.view(np.uint64))
    i, j = _vertex_pairs(group, vertex_start)
    return unique_pairs(i, j, len(geoms))


def shared_edge_pairs(geoms: NDArray[np.object_]) -> Pairs:
    """Rook contiguity: ordered pairs of polygons that share at least one edge.

    An edge is a pair of consecutive vertices of a ring, in either direction.

    >>> squares = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1),
    ...                     shapely.box(1, 1, 2, 2)])
    >>> [a.tolist() for a in shared_edge_pairs(squares)]
    [[0, 1, 1, 2], [1, 0, 2, 1]]
    """
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    vertex = _group_ids(_bits(coords[:, 0]), _bits(coords[:, 1]), _x_buckets(coords[:, 0]), BUCKETS)
    same_ring = ring_of[1:] == ring_of[:-1]
    start, end = vertex[:-1][same_ring], vertex[1:][same_ring]
    distinct = start != end  # a repeated vertex makes no edge
    low = np.minimum(start, end)[distinct].astype(np.uint64)
    high = np.maximum(start, end)[distinct].astype(np.uint64)
    owner = part_owner[ring_part[ring_of[:-1][same_ring][distinct]]].astype(np.int64)
    edge = _group_ids(low, high, (low % BUCKETS).astype(np.int64), BUCKETS)
    i, j = _pairs_from_groups(edge, owner, len(geoms))
    return unique_pairs(i, j, len(geoms))


def near_pairs(geoms: NDArray[np.object_], distance: float) -> Pairs:
    """Ordered pairs of polygons whose borders come within ``distance`` (CRS units).

    Overlapping and touching polygons are included (their distance is 0).
    """
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=distance)
    other = i != j
    return unique_pairs(i[other].astype(np.int64), j[other].astype(np.int64), len(geoms))
