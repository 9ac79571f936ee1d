"""Firms counted per (area, sector) cell block by block: memory follows the cells, not the
firms.

A national registry has tens of millions of firms and a few million cells. :class:`CellTally`
takes the firms a block at a time (their area and sector labels and their values) and keeps
per cell what the later steps need of them: the firms, and per measure the firms that report
it, their sum and their largest values (:class:`klastergeo.analysis.disclosure.Sizes`, for
the dominance rule), and per sector the sizes of the squared values (the plant Herfindahl's
check). Blocks are added in file order and each is summed in file order, so the sums depend
on where the blocks start (fixed positions), never on how the registry was stored or on
which worker counted a block (:meth:`CellTally.merge` adds tallies of consecutive blocks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from klastergeo.analysis import disclosure as sdc

__all__ = ["BlockTally", "CellTally", "GridTally", "Vocabulary", "block_tally"]

VALUE_COLUMNS = ("workers", "output", "investment")


class Vocabulary:
    """Labels numbered in order of first appearance; or a fixed list (labels not in it
    get -1)."""

    def __init__(self, fixed: Iterable[Any] | None = None) -> None:
        self.fixed = fixed is not None
        self.labels: list[Any] = [] if fixed is None else list(fixed)
        self.position: dict[Any, int] = {label: i for i, label in enumerate(self.labels)}

    def __len__(self) -> int:
        return len(self.labels)

    def codes(self, labels: ArrayLikeLabels) -> NDArray[np.int64]:
        """The number of each label (-1 for a missing one, or one outside a fixed list).

        Parameters
        ----------
        labels
            The labels (a NumPy array, a pandas Series or Categorical, an Arrow array).
        """
        return self.numbered(*_distinct(labels))

    def numbered(self, values: list[Any], inverse: NDArray[np.int64]) -> NDArray[np.int64]:
        """The numbers of labels given as their distinct values and indices.

        Parameters
        ----------
        values
            The distinct labels.
        inverse
            Each label's index into ``values`` (-1: missing).
        """
        mapping = np.empty(len(values) + 1, dtype=np.int64)
        for i, value in enumerate(values):  # distinct labels only (areas, sectors)
            if value not in self.position and not self.fixed:
                self.position[value] = len(self.labels)
                self.labels.append(value)
            mapping[i] = self.position.get(value, -1)
        mapping[-1] = -1
        return mapping[inverse]


ArrayLikeLabels = Any  # a NumPy array, a pandas Series or Categorical, an Arrow array


def _distinct(labels: ArrayLikeLabels) -> tuple[list[Any], NDArray[np.int64]]:
    """The distinct labels and each label's index into them (-1 for a missing one)."""
    if isinstance(labels, pa.ChunkedArray | pa.Array):
        encoded = pc.dictionary_encode(labels)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        return encoded.dictionary.to_pylist(), np.asarray(indices, dtype=np.int64)
    if isinstance(getattr(labels, "dtype", None), pd.CategoricalDtype):
        cat = labels if isinstance(labels, pd.Categorical) else labels.array
        return list(cat.categories), np.asarray(cat.codes, dtype=np.int64)
    codes, uniques = pd.factorize(pd.Series(np.asarray(labels, dtype=object)), use_na_sentinel=True)
    return list(uniques), np.asarray(codes, dtype=np.int64)


@dataclass(frozen=True)
class BlockTally:
    """What a :class:`CellTally` counted, by cell with firms: the labels it numbered
    (``listed``: the sectors of firms with an area label), each cell's area and sector
    (numbers into them), its firms, and per measure its
    :class:`~klastergeo.analysis.disclosure.Sizes` and the sizes of the squares per
    sector."""

    areas: list[Any]
    sectors: list[Any]
    listed: NDArray[np.bool_]
    area: NDArray[np.int64]
    sector: NDArray[np.int64]
    n_firms: NDArray[np.int64]
    cells: dict[str, sdc.Sizes]
    squares: dict[str, sdc.Sizes]
    cell_squares: dict[str, NDArray[np.float64]]


class CellTally:
    """Firms, and per measure their reported values' count, sum and largest values, per
    (area, sector) cell, added block by block.

    Parameters
    ----------
    areas
        The areas of analysis (firms of other areas are not counted in a cell, their
        sector still is listed); None to number areas as they come (H3 cells).
    measures
        The value columns tallied.
    top
        Largest values kept per cell and sector (the dominance rule's ``dominance_n``).
    """

    def __init__(
        self,
        *,
        areas: Sequence[Any] | None = None,
        measures: Sequence[str] = VALUE_COLUMNS,
        top: int = 2,
    ) -> None:
        self.areas = Vocabulary(areas)
        self.sectors = Vocabulary()
        self.measures, self.top = tuple(measures), int(top)
        self.present: set[str] = set()  # measures some block had as a column
        self.n_firms = np.zeros((0, 0), dtype=np.int64)
        self.cells: dict[str, sdc.Sizes] = {}
        self.squares: dict[str, sdc.Sizes] = {}  # per sector
        self.cell_squares: dict[str, NDArray[np.float64]] = {}  # summed squares per cell
        self._shape = (0, 0)
        self._listed = np.zeros(0, dtype=bool)  # sectors of firms with an area label
        self._area_index: pd.Index | None = None

    def add(
        self,
        area: ArrayLikeLabels,
        sector: ArrayLikeLabels,
        values: Mapping[str, NDArray[np.floating]],
    ) -> None:
        """Count a block of firms (:func:`block_tally`, then :meth:`merge`).

        Parameters
        ----------
        area, sector
            Each firm's area and sector label (missing: not counted; a firm with an area
            label names its sector even when its area is not one of ``areas``).
        values
            The block's value columns it has (NaN where a firm reports none).
        """
        areas = self.areas.labels if self.areas.fixed else None
        tally = block_tally(area, sector, values, areas=areas, measures=self.measures, top=self.top)
        self.merge(tally)

    def merge(self, later: BlockTally) -> None:
        """Add what the block that follows this tally's blocks counted
        (:func:`block_tally`, a worker's).

        Sums are added as they come: merging the tallies of single blocks in block order
        gives, to the last bit, the sums one tally of every block gives. Only the block's
        cells are touched.

        Parameters
        ----------
        later
            The block's counts.
        """
        a = self._area_codes(later.areas)
        s = self.sectors.codes(np.asarray(later.sectors, dtype=object))
        self._grow(len(self.areas), len(self.sectors))
        self._listed[s[later.listed & (s >= 0)]] = True
        n_s = self._shape[1]
        ca, cs = a[later.area], s[later.sector]
        ok = (ca >= 0) & (cs >= 0)
        every = bool(ok.all())  # the usual case: no copy of the block's columns
        rows = ca * n_s + cs if every else (ca * n_s + cs)[ok]  # distinct: a block's cells

        def kept(values: NDArray[Any]) -> NDArray[Any]:
            return values if every else values[ok]

        self.n_firms.ravel()[rows] += kept(later.n_firms)
        self.present |= set(later.cells)
        for m, sizes in later.cells.items():
            mine, n = self.cells[m], kept(sizes.n)
            before = mine.n[rows]
            merged = np.array(kept(sizes.top))  # a cell new to the tally: the block's
            seen = np.flatnonzero(before > 0)
            if len(seen):
                merged[seen] = _merged_top(
                    before[seen], mine.top[rows[seen]], n[seen], merged[seen]
                )
            mine.n[rows] = before + n
            mine.total[rows] += kept(sizes.total)
            mine.top[rows] = merged
            self.cell_squares[m][rows] += kept(later.cell_squares[m])
            self.squares[m] = _added(self.squares[m], _moved(later.squares[m], s, n_s))

    def _area_codes(self, labels: list[Any]) -> NDArray[np.int64]:
        """The numbers of a block's area labels: one hash look-up for the areas of
        analysis (a fixed list), else numbered as they come (H3 cells)."""
        if not self.areas.fixed:
            return self.areas.codes(np.asarray(labels, dtype=object))
        if self._area_index is None:
            self._area_index = pd.Index(self.areas.labels)
        return np.asarray(
            self._area_index.get_indexer(pd.Index(labels, dtype=object)), dtype=np.int64
        )

    def _grow(self, n_areas: int, n_sectors: int) -> None:
        """Make room for new areas and sectors (a cell keeps its counts)."""
        old_a, old_s = self._shape
        new_a = n_areas if self.areas.fixed else max(old_a, _room(n_areas))
        # the first block names nearly every sector: room for just those, doubled when
        # a later block names more
        new_s = n_sectors if old_s == 0 or n_sectors <= old_s else max(old_s, _room(n_sectors))
        if (new_a, new_s) == (old_a, old_s) and self.cells:
            return
        self.n_firms = _padded(self.n_firms.reshape(old_a, old_s), new_a, new_s)
        for m in self.measures:
            old = self.cells.get(m) or _empty(old_a * old_s, self.top)
            self.cells[m] = sdc.Sizes(
                n=_padded(old.n.reshape(old_a, old_s), new_a, new_s).ravel(),
                total=_padded(old.total.reshape(old_a, old_s), new_a, new_s).ravel(),
                top=_padded(old.top.reshape(old_a, old_s, self.top), new_a, new_s).reshape(
                    -1, self.top
                ),
            )
            flat = self.cell_squares.get(m, np.zeros(0)).reshape(old_a, old_s)
            self.cell_squares[m] = _padded(flat, new_a, new_s).ravel()
            squares = self.squares.get(m) or _empty(old_s, self.top)
            self.squares[m] = sdc.Sizes(
                n=np.pad(squares.n, (0, new_s - old_s)),
                total=np.pad(squares.total, (0, new_s - old_s)),
                top=np.pad(squares.top, ((0, new_s - old_s), (0, 0))),
            )
        self._listed = np.pad(self._listed, (0, new_s - old_s))
        self._shape = (new_a, new_s)

    def counts(self, areas: Sequence[Any], sectors: Sequence[Any] | None = None) -> pd.DataFrame:
        """The counts as :func:`klastergeo.analysis.aggregate.count_by_area` gives them:
        ``n_firms`` and the measures' sums per (``area_code``, ``sector``), every area x
        every sector (default: the sectors counted, sorted); a sum is missing where a
        cell's firms report no value, and everywhere when no firm reports one.

        Parameters
        ----------
        areas
            The areas of the table, in its order.
        sectors
            Its sectors, in order; None for the sectors counted, sorted.
        """
        a, s, index = self._cells(areas, sectors)
        out = pd.DataFrame({"n_firms": self._take(self.n_firms.ravel(), a, s, 0)}, index=index)
        for m in VALUE_COLUMNS:
            if m not in self.present or m not in self.cells or not self.cells[m].n.sum():
                out[m] = np.nan  # a measure nobody reports: missing, not 0
                continue
            sizes = self.cells[m]
            total = self._take(sizes.total, a, s, 0.0)
            valued = self._take(sizes.n, a, s, 0)
            firms = out["n_firms"].to_numpy()
            out[m] = np.where((firms > 0) & (valued == 0), np.nan, total)
        out["n_firms"] = out["n_firms"].astype(np.int64)
        return out

    def sizes(self, measure: str, areas: Sequence[Any], sectors: Sequence[Any]) -> sdc.Sizes:
        """The contributions to every cell of (``areas`` x ``sectors``, areas outer) of the
        firms' ``measure`` (no contribution anywhere when no firm has the column).

        Parameters
        ----------
        measure
            A value column (``workers``, ``output``, ``investment``).
        areas, sectors
            The cells' areas and sectors, in order.
        """
        a, s, _ = self._cells(areas, sectors)
        n = len(a) * len(s)
        if measure not in self.present:
            return _empty(n, self.top)
        sizes = self.cells[measure]
        return sdc.Sizes(
            n=self._take(sizes.n, a, s, 0).astype(np.int64),
            total=self._take(sizes.total, a, s, 0.0),
            top=np.stack(
                [self._take(sizes.top[:, k], a, s, 0.0) for k in range(self.top)], axis=1
            ).reshape(n, self.top),
        )

    def plant_sums(
        self, measure: str, areas: Sequence[Any], sectors: Sequence[Any] | None = None
    ) -> pd.DataFrame:
        """The firms summed per cell with firms, as the concentration indices take them
        (:func:`klastergeo.analysis.concentration.indices_from_plant_sums`): ``area``,
        ``sector``, ``n`` firms, ``w`` their summed ``measure`` (a value not reported
        counts 0) and ``w2`` its summed squares; ``measure="n_firms"`` counts each firm 1.

        Parameters
        ----------
        measure
            ``n_firms`` or a value column.
        areas
            The areas of analysis, in order.
        sectors
            The sectors, in order; None for those counted, sorted.
        """
        a, s, index = self._cells(areas, sectors)
        n = self._take(self.n_firms.ravel(), a, s, 0).astype(np.int64)
        if measure == "n_firms":
            w = w2 = n.astype(np.float64)
        elif measure in self.present:
            w = self._take(self.cells[measure].total, a, s, 0.0)
            w2 = self._take(self.cell_squares[measure], a, s, 0.0)
        else:
            w = w2 = np.zeros(len(n))
        keep = n > 0
        return pd.DataFrame(
            {
                "area": index.get_level_values(0).to_numpy(dtype=object)[keep],
                "sector": index.get_level_values(1).to_numpy(dtype=object)[keep],
                "n": n[keep],
                "w": w[keep],
                "w2": w2[keep],
            }
        )

    def sector_squares(self, measure: str, sectors: Sequence[Any]) -> sdc.Sizes:
        """The contributions of the firms' squared ``measure`` to each of ``sectors``.

        Parameters
        ----------
        measure
            A value column.
        sectors
            The sectors, in order.
        """
        s = np.asarray(self.sectors.codes(np.asarray(list(sectors), dtype=object)), np.int64)
        if measure not in self.present:
            return _empty(len(s), self.top)
        squares, ok = self.squares[measure], s >= 0
        at = np.where(ok, s, 0)
        return sdc.Sizes(
            n=np.where(ok, squares.n[at], 0).astype(np.int64),
            total=np.where(ok, squares.total[at], 0.0),
            top=np.where(ok[:, None], squares.top[at], 0.0),
        )

    def _cells(
        self, areas: Sequence[Any], sectors: Sequence[Any] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], pd.MultiIndex]:
        listed = [x for x, ok in zip(self.sectors.labels, self._listed, strict=False) if ok]
        chosen = sorted(listed) if sectors is None else list(sectors)
        a = np.asarray(
            [self.areas.position.get(x, -1) for x in areas], dtype=np.int64
        )  # the areas of analysis: one look-up each
        s = np.asarray([self.sectors.position.get(x, -1) for x in chosen], dtype=np.int64)
        index = pd.MultiIndex.from_product(
            [pd.Index(list(areas), name="area_code"), pd.Index(chosen, name="sector")]
        )
        return a, s, index

    def _take(
        self, flat: NDArray[Any], a: NDArray[np.int64], s: NDArray[np.int64], fill: float
    ) -> NDArray[Any]:
        if not len(flat):
            return np.full(len(a) * len(s), fill)
        ok_a, ok_s = a >= 0, s >= 0
        grid = flat.reshape(self._shape)  # areas x sectors
        every_row = len(a) == grid.shape[0] and bool((a == np.arange(len(a))).all())
        rows = grid if every_row else grid[np.where(ok_a, a, 0)]  # the usual: every area
        out = rows[:, np.where(ok_s, s, 0)]
        out[~ok_a] = fill
        out[:, ~ok_s] = fill
        return out.ravel()


def block_tally(
    area: ArrayLikeLabels,
    sector: ArrayLikeLabels,
    values: Mapping[str, NDArray[np.floating]],
    *,
    areas: Sequence[Any] | None = None,
    measures: Sequence[str] = VALUE_COLUMNS,
    top: int = 2,
) -> BlockTally:
    """A block of firms counted per (area, sector) cell: its cells with firms only (a
    worker sends these, never every area x every sector).

    Parameters
    ----------
    area, sector
        Each firm's area and sector label (missing: not counted).
    areas
        The areas of analysis: a firm of another area is in no cell (its sector is still
        listed); None for any area.
    values
        The block's value columns it has (NaN where a firm reports none).
    measures
        The value columns tallied.
    top
        Largest values kept per cell and sector.
    """
    a_labels, a = _distinct(area)
    s_labels, s = _distinct(sector)
    listed = np.zeros(len(s_labels), dtype=bool)
    listed[s[(a >= 0) & (s >= 0)]] = True  # named by firms with an area label
    if areas is not None:  # a firm of another area is in no cell
        known = pd.Index(a_labels, dtype=object).isin(list(areas))
        inside = np.append(np.asarray(known, dtype=bool), False)  # the last: missing (-1)
        a = np.where(inside[a], a, -1)
    placed = (a >= 0) & (s >= 0)
    key = a * max(len(s_labels), 1) + s
    cells, group = np.unique(key[placed], return_inverse=True)
    g = np.full(len(key), -1, dtype=np.int64)
    g[placed] = group
    sector_group = np.where(placed, s, -1)
    out = BlockTally(
        areas=a_labels,
        sectors=s_labels,
        listed=listed,
        area=cells // max(len(s_labels), 1),
        sector=cells % max(len(s_labels), 1),
        n_firms=np.bincount(group, minlength=len(cells)).astype(np.int64),
        cells={},
        squares={},
        cell_squares={},
    )
    for m in measures:
        if m not in values:
            continue
        v = np.asarray(values[m], dtype=np.float64)
        out.cells[m] = sdc.sizes(v, g, len(cells), top=top)
        out.squares[m] = sdc.sizes(v * v, sector_group, len(s_labels), top=top)
        known = placed & np.isfinite(v)
        out.cell_squares[m] = np.bincount(
            g[known], weights=v[known] * v[known], minlength=len(cells)
        ).astype(np.float64)
    return out


def _merged_top(
    n_before: NDArray[np.int64],
    before: NDArray[np.float64],
    n_block: NDArray[np.int64],
    block: NDArray[np.float64],
) -> NDArray[np.float64]:
    """The largest values of groups before and of a block's (slots beyond a group's
    firms are padding, 0, never compared with a negative value)."""
    k = before.shape[1]
    slots = np.arange(k)
    old = np.where(slots < n_before[:, None], before, -np.inf)
    new = np.where(slots < n_block[:, None], block, -np.inf)
    merged = -np.sort(-np.concatenate([old, new], axis=1), axis=1)[:, :k]
    return np.where(np.isfinite(merged), merged, 0.0)


def _room(n: int) -> int:
    """Capacity for ``n`` labels (doubling, so growth is rare)."""
    return 0 if n == 0 else 1 << int(np.ceil(np.log2(n)))


def _filled(codes: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """``codes`` followed by -1 up to ``n`` (a tally's unused room)."""
    return np.concatenate([codes, np.full(n - len(codes), -1, dtype=np.int64)])


def _padded(array: NDArray[Any], rows: int, columns: int) -> NDArray[Any]:
    """``array`` with zero rows and columns added (its first two axes), in a new array."""
    out = np.zeros((rows, columns, *array.shape[2:]), dtype=array.dtype)
    out[: array.shape[0], : array.shape[1]] = array
    return out


def _empty(n: int, top: int) -> sdc.Sizes:
    return sdc.Sizes(n=np.zeros(n, np.int64), total=np.zeros(n), top=np.zeros((n, top)))


def _added(before: sdc.Sizes, block: sdc.Sizes) -> sdc.Sizes:
    """The contributions of the firms before and of a block (the same groups)."""
    top = before.top
    touched = np.flatnonzero(block.n > 0)
    if len(touched):
        top = top.copy()
        top[touched] = _merged_top(
            before.n[touched], before.top[touched], block.n[touched], block.top[touched]
        )
    return sdc.Sizes(n=before.n + block.n, total=before.total + block.total, top=top)


def _taken(sizes: sdc.Sizes, at: NDArray[np.int64]) -> sdc.Sizes:
    return sdc.Sizes(n=sizes.n[at], total=sizes.total[at], top=sizes.top[at])


def _moved(sizes: sdc.Sizes, target: NDArray[np.int64], n: int) -> sdc.Sizes:
    """``sizes`` of groups renumbered to ``target`` (-1: dropped) among ``n`` groups."""
    out = _empty(n, sizes.top.shape[1])
    ok = target >= 0
    out.n[target[ok]] = sizes.n[: len(target)][ok]
    out.total[target[ok]] = sizes.total[: len(target)][ok]
    out.top[target[ok]] = sizes.top[: len(target)][ok]
    return out


#: The finest cell of :class:`GridTally`, in degrees (about 550 m at the equator).
FINEST_CELL = 0.005


class GridTally:
    """Firms counted on a square grid in degrees, block by block: the finest grid of
    :data:`FINEST_CELL` degrees, coarsened by doubling the cell until few enough cells
    are occupied (:meth:`cells`). Memory follows the occupied cells, not the firms."""

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype=np.int64)  # x in the high 32 bits, y in the low
        self.counts = np.empty(0, dtype=np.int64)

    @property
    def n_firms(self) -> int:
        return int(self.counts.sum())

    def add(self, lon: NDArray[np.floating], lat: NDArray[np.floating]) -> None:
        """Count a block of firms (points with NaN coordinates are not counted).

        Parameters
        ----------
        lon, lat
            The firms' coordinates in degrees.
        """
        lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        ok = np.isfinite(lon) & np.isfinite(lat)
        ix = np.floor(lon[ok] / FINEST_CELL).astype(np.int64)
        iy = np.floor(lat[ok] / FINEST_CELL).astype(np.int64)
        keys, counts = np.unique(_packed(ix, iy), return_counts=True)
        self.merge(keys, counts)

    def merge(self, keys: NDArray[np.int64], counts: NDArray[np.int64]) -> None:
        """Add cells counted elsewhere (another block's).

        Parameters
        ----------
        keys
            The cells' keys (column in the high 32 bits, row offset in the low).
        counts
            The firms in each cell.
        """
        both = np.concatenate([self.keys, keys])
        self.keys, inverse = np.unique(both, return_inverse=True)
        self.counts = np.bincount(
            inverse, weights=np.concatenate([self.counts, counts]), minlength=len(self.keys)
        ).astype(np.int64)

    def cells(
        self, max_cells: int
    ) -> tuple[float, NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """The grid of the finest cell, doubled until at most ``max_cells`` cells are
        occupied: the cell size in degrees, each occupied cell's column and row
        (``floor(lon / cell)``, ``floor(lat / cell)``) and its firms.

        Parameters
        ----------
        max_cells
            The most cells the grid may have occupied.
        """
        ix, iy, counts, cell = (
            self.keys >> 32,
            (self.keys & 0xFFFFFFFF) - 2**31,
            self.counts,
            FINEST_CELL,
        )
        while len(counts) > max_cells and cell < 360.0:  # a cell never spans the globe
            cell *= 2
            keys, inverse = np.unique(_packed(ix // 2, iy // 2), return_inverse=True)
            counts = np.bincount(inverse, weights=counts, minlength=len(keys)).astype(np.int64)
            ix, iy = keys >> 32, (keys & 0xFFFFFFFF) - 2**31
        return cell, ix, iy, counts


def _packed(ix: NDArray[np.int64], iy: NDArray[np.int64]) -> NDArray[np.int64]:
    """One int64 key per cell (column in the high bits, row offset in the low): a 1-d
    unique, many times faster than a unique of rows."""
    return (ix << 32) | (iy + 2**31)
