"""Statistical disclosure control: which published sums and shapes could reveal one firm.

A registry's firms are confidential one by one; what a run publishes are sums over groups
of them (an area's firms of a sector, a sentra, a regency). Statistics offices publish such
magnitude tables under two primary rules, and this module applies them as they do:

- **threshold rule**: a sum of fewer than ``min_firms`` (3) firms that report the value is
  not published (with two, either firm learns the other's value by subtracting its own);
- **dominance rule** (*n*, *k*): a sum whose ``dominance_n`` (2) largest contributions make
  more than ``dominance_k`` (85 %) of it is not published (it is close to those firms'
  own values, and the second largest learns about the largest).

A published total must not give a suppressed cell back by subtraction either
(*secondary suppression*): within every published group of cells (a sentra's member
areas, a regency), the suppressed cells together must pass the same rules; where they do
not, the published cell that protects them at the least loss is suppressed too
(:func:`suppress`, to a fixed point over all groupings). Point-based sentra, whose firms
are not whole cells, are checked against the cells they cut (:func:`point_sentra_flags`),
and their shapes are drawn from a fixed grid of cells that each hold several firms, never
from the firms' own positions (:func:`grid_hulls`).

Everything here is about numbers and shapes, as esda and libpysal are: no files, no
language. Flags are small integers (:data:`PUBLISHED`, :data:`THRESHOLD`,
:data:`DOMINANCE`, :data:`ZERO`, :data:`SECONDARY`), named by :data:`FLAGS`; what is
published marks every suppressed value alike (:data:`MARK`): a reason would be a bound
(the dominance flag says the two largest firms hold most of the sum).

References: Hundepool et al. (2012), *Statistical Disclosure Control*, Wiley, ch. 4
(magnitude tables: the threshold, (n, k) dominance and secondary suppression rules);
Eurostat (2019), *Handbook on Statistical Disclosure Control*.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from klastergeo.errors import ConfigError

__all__ = [
    "DOMINANCE",
    "FLAGS",
    "MARK",
    "MEASURES",
    "PUBLISHED",
    "SECONDARY",
    "THRESHOLD",
    "ZERO",
    "Rules",
    "Sizes",
    "Suppression",
    "combine",
    "grid_hulls",
    "point_sentra_flags",
    "primary",
    "sizes",
    "suppress",
]

logger = logging.getLogger(__name__)

#: The magnitudes a run sums per area, sentra and regency (what the rules protect).
MEASURES = ("workers", "output", "investment")
#: A value published as it is.
PUBLISHED = 0
#: Suppressed: fewer than ``min_firms`` firms report it.
THRESHOLD = 1
#: Suppressed: its ``dominance_n`` largest contributions make more than ``dominance_k`` of it.
DOMINANCE = 2
#: Suppressed so that a suppressed value cannot be found by subtraction.
SECONDARY = 3
#: Suppressed: every firm that reports it reports zero, so the sum gives each its value.
ZERO = 4
#: The name of each flag (in counts of what was suppressed; published: empty).
FLAGS = ("", "threshold", "dominance", "secondary", "zero")
#: How published tables mark a suppressed value, whatever its reason.
MARK = "suppressed"


@dataclass(frozen=True)
class Rules:
    """The disclosure rules (``[disclosure]`` of a run's configuration).

    Parameters
    ----------
    min_firms
        Threshold rule: fewest firms reporting a value for a sum of it to be published.
    dominance_n, dominance_k
        Dominance rule: a sum is suppressed when its ``dominance_n`` largest contributions
        make more than ``dominance_k`` (a share, 0-1) of it.
    grid_m
        Side in metres of the grid cells point-based sentra are drawn from.
    """

    min_firms: int = 3
    dominance_n: int = 2
    dominance_k: float = 0.85
    grid_m: float = 250.0

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.min_firms, bool) or not isinstance(self.min_firms, int):
            problems.append(f"disclosure.min_firms={self.min_firms!r} must be a whole number")
        elif self.min_firms < 1:
            problems.append(f"disclosure.min_firms={self.min_firms!r} must be at least 1")
        if isinstance(self.dominance_n, bool) or not isinstance(self.dominance_n, int):
            problems.append(f"disclosure.dominance_n={self.dominance_n!r} must be a whole number")
        elif not 1 <= self.dominance_n <= 10:
            problems.append(f"disclosure.dominance_n={self.dominance_n!r} must be 1 to 10")
        if not 0 < float(self.dominance_k) <= 1:
            problems.append(
                f"disclosure.dominance_k={self.dominance_k!r} must be a share above 0 and at "
                "most 1 (1 turns the dominance rule off)"
            )
        if not float(self.grid_m) > 0:
            problems.append(f"disclosure.grid_m={self.grid_m!r} must be a positive distance (m)")
        if problems:
            raise ConfigError("; ".join(problems))


@dataclass(frozen=True)
class Sizes:
    """The contributions to each of a set of groups: ``n`` firms that report the value,
    their ``total`` and their ``top`` largest values (one row per group, descending,
    0 where a group has fewer firms)."""

    n: NDArray[np.int64]
    total: NDArray[np.float64]
    top: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.n)


@dataclass(frozen=True)
class Suppression:
    """The flags :func:`suppress` gives the cells and, per grouping, the groups."""

    cells: NDArray[np.int8]
    groups: tuple[NDArray[np.int8], ...]
    #: Per grouping, whether each group's total is published (after the audit).
    published: tuple[NDArray[np.bool_], ...] = ()


def _largest(
    values: NDArray[np.float64], groups: NDArray[np.int64], n_groups: int, k: int
) -> NDArray[np.float64]:
    """The ``k`` largest ``values`` of every group (0 where a group has fewer), in one
    pass per rank: the group maxima, then each group's maximum taken out (one firm of
    it: tied firms hold the same value)."""
    out = np.zeros((n_groups, k))
    remaining = values.astype(np.float64, copy=True)
    for rank in range(k):
        best = np.full(n_groups, -np.inf)
        np.maximum.at(best, groups, remaining)
        out[:, rank] = np.where(np.isfinite(best), best, 0.0)
        if rank + 1 < k:
            hit = np.flatnonzero(remaining == best[groups])
            winner = np.full(n_groups, -1, dtype=np.int64)
            winner[groups[hit]] = hit  # any one of tied firms: they hold the same value
            remaining[winner[winner >= 0]] = -np.inf
    return out


def sizes(values: ArrayLike, groups: ArrayLike, n_groups: int, *, top: int = 2) -> Sizes:
    """The contributions of firms' ``values`` to each group.

    Parameters
    ----------
    values
        One value per firm, zero or more; NaN where the firm does not report it (it
        then does not contribute).
    groups
        Each firm's group, 0 to ``n_groups - 1``; negative for none.
    n_groups
        Number of groups.
    top
        How many of the largest contributions to keep per group (the dominance rule's
        ``dominance_n``).

    Returns
    -------
    Sizes

    Examples
    --------
    >>> s = sizes([5.0, 1.0, np.nan, 2.0, 7.0], [0, 0, 0, 1, -1], 3)
    >>> s.n.tolist(), s.total.tolist(), s.top.tolist()
    ([2, 1, 0], [6.0, 2.0, 0.0], [[5.0, 1.0], [2.0, 0.0], [0.0, 0.0]])
    """
    v = np.asarray(values, dtype=np.float64)
    g = np.asarray(groups, dtype=np.int64)
    if v.shape != g.shape:
        raise ValueError(f"values ({v.shape}) and groups ({g.shape}) differ in length")
    ok = (g >= 0) & np.isfinite(v)
    v, g = v[ok], g[ok]
    return Sizes(
        n=np.bincount(g, minlength=n_groups).astype(np.int64),
        total=np.bincount(g, weights=v, minlength=n_groups).astype(np.float64),
        top=_largest(v, g, n_groups, top),
    )


def combine(parts: Sizes, groups: ArrayLike, n_groups: int) -> Sizes:
    """The contributions to unions of groups: ``parts`` (e.g. cells) gathered into
    ``n_groups`` larger groups (e.g. regencies).

    Parameters
    ----------
    parts
        The parts' contributions.
    groups
        The union each part belongs to, 0 to ``n_groups - 1``; negative for none.
    n_groups
        Number of unions.

    Examples
    --------
    >>> cells = sizes([4.0, 1.0, 3.0, 9.0], [0, 0, 1, 2], 3)
    >>> union = combine(cells, [0, 0, -1], 1)
    >>> union.n.tolist(), union.total.tolist(), union.top.tolist()
    ([3], [8.0], [[4.0, 3.0]])
    """
    g = np.asarray(groups, dtype=np.int64)
    if len(g) != len(parts):
        raise ValueError(f"groups ({len(g)}) and parts ({len(parts)}) differ in length")
    inside = g >= 0
    k = parts.top.shape[1]
    flat = parts.top[inside].ravel()
    return Sizes(
        n=np.bincount(g[inside], weights=parts.n[inside], minlength=n_groups).astype(np.int64),
        total=np.bincount(g[inside], weights=parts.total[inside], minlength=n_groups).astype(
            np.float64
        ),
        top=_largest(flat, np.repeat(g[inside], k), n_groups, k),
    )


def primary(contributions: Sizes, rules: Rules) -> NDArray[np.int8]:
    """The primary flag of every group: :data:`THRESHOLD`, :data:`DOMINANCE`,
    :data:`ZERO` (every firm reports zero: the sum says so of each; not with
    ``min_firms`` 1, which publishes single firms anyway) or :data:`PUBLISHED` (also for
    a group nobody reports: there is nothing to protect).

    Parameters
    ----------
    contributions
        The groups' contributions (:func:`sizes`).
    rules
        The thresholds.

    Examples
    --------
    >>> s = sizes([5, 5, 5, 90, 5, 5, 1], [0, 0, 0, 1, 1, 1, 2], 3)
    >>> primary(s, Rules()).tolist()  # three equal firms; one of 90 in 100; a single firm
    [0, 2, 1]
    >>> primary(sizes([0, 0, 0], [0, 0, 0], 1), Rules()).tolist()  # three zeros
    [4]
    """
    n, total = contributions.n, contributions.total
    flags = np.zeros(len(n), dtype=np.int8)
    few = (n > 0) & (n < rules.min_firms)
    lead = contributions.top[:, : rules.dominance_n].sum(axis=1)
    dominated = (n > 0) & ~few & (lead > rules.dominance_k * total) & (rules.dominance_k < 1)
    flags[few] = THRESHOLD
    flags[dominated] = DOMINANCE
    # values are never negative: a sum of zero says every firm in it reports zero
    if rules.min_firms > 1:
        flags[(n > 0) & (flags == PUBLISHED) & (total == 0)] = ZERO
    return flags


def suppress(
    cells: Sizes,
    groupings: Sequence[ArrayLike],
    rules: Rules,
    *,
    flags: ArrayLike | None = None,
    published: Sequence[ArrayLike | None] | None = None,
) -> Suppression:
    """Primary and secondary suppression of cells whose groups' totals are published.

    A published group total minus its published cells gives the sum of its suppressed
    cells; that sum must pass the rules too. Where it does not, one more cell of the
    group is suppressed - the smallest that brings the suppressed sum within the
    dominance rule (or the smallest, for the threshold rule) - and the groupings are
    gone through again until no group changes (each cell may lie in one group of every
    grouping, e.g. its regency and its sentra). Where groupings cut across each other,
    the published totals are then audited as an attacker would solve them, alone or as
    the firm of a suppressed cell of one firm (which knows that cell): no cell the
    primary rules protect may be a combination of them (:func:`_audit`), else a
    neighbour of it is suppressed too, and both steps repeat until neither changes.

    Parameters
    ----------
    cells
        The cells' contributions.
    groupings
        Per grouping, each cell's group (0, 1, ...; negative for none). Groups whose own
        total fails the primary rules are not published, so they protect nothing.
    rules
        The thresholds.
    flags
        The cells' flags to start from (default: :func:`primary`).
    published
        Per grouping, which groups' totals are published whatever the rules say of
        them (e.g. an area's total over its sectors, which its location quotients of
        a measure give away); None (for a grouping, or for all): the groups whose total
        passes the primary rules.

    Returns
    -------
    Suppression
        The flag of every cell, and of every group of every grouping (its primary flag,
        or :data:`SECONDARY` where its total had to be withdrawn: its cells left no
        other way to protect one of them).

    Examples
    --------
    A regency of three villages: one village has a single firm (suppressed); the
    regency's total would give it back, so the smaller other village goes too.

    >>> cells = sizes([7, 1, 2, 3, 5, 6, 4, 9], [0, 1, 1, 1, 2, 2, 2, 2], 3)
    >>> suppress(cells, [np.array([0, 0, 0])], Rules()).cells.tolist()
    [1, 3, 0]
    """
    out = primary(cells, rules) if flags is None else np.array(flags, dtype=np.int8, copy=True)
    active = cells.n > 0
    prepared = []
    group_flags = []
    shown = list(published) if published is not None else [None] * len(groupings)
    if len(shown) != len(groupings):
        raise ValueError(f"published has {len(shown)} entries for {len(groupings)} groupings")
    for labels, given in zip(groupings, shown, strict=True):
        lab = np.asarray(labels, dtype=np.int64)
        if len(lab) != len(cells):
            raise ValueError(f"a grouping has {len(lab)} labels for {len(cells)} cells")
        lab = np.where(active, lab, -1)
        n_groups = max(int(np.asarray(labels).max()) + 1 if len(lab) else 0, 0)
        whole = combine(cells, lab, n_groups)
        own = primary(whole, rules)
        group_flags.append(own)
        if given is None:
            public = own == PUBLISHED
        else:
            public = np.zeros(n_groups, dtype=bool)
            mark = np.asarray(given, dtype=bool)[:n_groups]
            public[: len(mark)] = mark
        prepared.append((lab, n_groups, public & (whole.n > 0)))
    for _ in range(len(cells) + 1):
        _residuals(cells, prepared, out, rules)
        if not _audit(cells, prepared, out, primary(cells, rules), group_flags):
            break
    return Suppression(
        cells=out, groups=tuple(group_flags), published=tuple(p[2].copy() for p in prepared)
    )


def _residuals(
    cells: Sizes,
    prepared: list[tuple[NDArray[np.int64], int, NDArray[np.bool_]]],
    out: NDArray[np.int8],
    rules: Rules,
) -> None:
    """Secondary suppression until every published group's suppressed cells together
    pass the rules (``out`` is updated in place)."""
    for _ in range(len(cells) + 1):
        changed = False
        for lab, n_groups, published in prepared:
            hidden = np.where(out > PUBLISHED, lab, -1)
            rest = combine(cells, hidden, n_groups)
            rest_flags = primary(rest, rules)
            unsafe = published & (rest.n > 0) & (rest_flags > PUBLISHED)
            if not unsafe.any():
                continue
            at = np.flatnonzero((lab >= 0) & (out == PUBLISHED))
            at = at[unsafe[lab[at]]]
            if not len(at):  # all suppressed: only a total published whatever the rules
                continue
            # the suppressed sum needs this much more to pass the dominance rule
            lead = rest.top[:, : rules.dominance_n].sum(axis=1)
            need = np.where(rest_flags == DOMINANCE, lead / rules.dominance_k - rest.total, 0.0)
            group = lab[at]
            total = cells.total[at]
            enough = total >= need[group]
            # per group: the smallest cell that is enough, else the largest
            order = np.lexsort((at, np.where(enough, total, -total), ~enough, group))
            first = order[np.r_[True, group[order][1:] != group[order][:-1]]]
            out[at[first]] = SECONDARY
            changed = True
        if not changed:
            break


def _audit(
    cells: Sizes,
    prepared: list[tuple[NDArray[np.int64], int, NDArray[np.bool_]]],
    out: NDArray[np.int8],
    first: NDArray[np.int8],
    group_flags: list[NDArray[np.int8]],
) -> bool:
    """The attacker's view: with every published cell known, each published group total
    is an equation over its suppressed cells. A cell the rules protect must not be a
    combination of those equations (where groupings cut across each other, e.g. sentra
    across regencies, they can pin one down), nor - a cell of one firm or a dominated
    one - of those equations and a suppressed cell of one firm, which that firm knows.
    Each such cell gets one more suppressed neighbour in the group the combination leans
    on most (the smallest cell there); one per cell and equation a round. Returns
    whether anything changed.

    The equations are solved per connected set of suppressed cells and groups (a
    regency alone, or regencies joined by the sentra crossing them), so the matrices
    stay small."""
    hidden = np.flatnonzero((out > PUBLISHED) & (cells.n > 0))
    if not len(hidden) or not prepared:
        return False
    sets = _equation_sets(hidden, prepared)
    if sets is None:
        return False
    cell_at, row_at, offsets, comp_cells, solve = sets
    changed = False
    for comp in solve:  # a loop over connected sets (few), not cells
        pick = comp_cells == comp
        pins = _Pins(cells, prepared, out, group_flags, offsets)
        changed |= pins.break_all(hidden, first, cell_at[pick], row_at[pick])
    return changed


def _equation_sets(
    hidden: NDArray[np.int64],
    prepared: list[tuple[NDArray[np.int64], int, NDArray[np.bool_]]],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], Any] | None:
    """The equations over the ``hidden`` cells, as (cell, row) edges: rows are the
    (grouping, group) of published groups holding a hidden cell, numbered from each
    grouping's offset; each edge's connected set, and the sets to solve (None: no
    equation)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges_cell, edges_row, row_of = [], [], 0
    group_rows = []
    for lab, n_groups, published in prepared:
        g = lab[hidden]
        keep = (g >= 0) & (published[np.maximum(g, 0)] if n_groups else False)
        edges_cell.append(np.flatnonzero(keep))
        edges_row.append(row_of + g[keep])
        group_rows.append(row_of)
        row_of += n_groups
    cell_at = np.concatenate(edges_cell)
    row_at = np.concatenate(edges_row)
    if not len(cell_at):
        return None
    size = len(hidden) + row_of
    graph = coo_matrix((np.ones(len(cell_at)), (cell_at, len(hidden) + row_at)), shape=(size, size))
    _, component = connected_components(graph, directed=False)
    comp_cells = component[cell_at]
    pairs = np.unique(np.stack([comp_cells, row_at], axis=1), axis=0)
    rows_per = np.bincount(pairs[:, 0], minlength=size)
    cells_per = np.bincount(component[: len(hidden)], minlength=size)
    # one equation over several unknowns pins none: only the other sets are solved
    solve = np.flatnonzero((rows_per > 1) | ((rows_per == 1) & (cells_per == 1)))
    return cell_at, row_at, np.array(group_rows), comp_cells, solve


@dataclass
class _Pins:
    """Breaks the pins of one connected set of suppressed cells and group equations
    (:func:`_audit`), updating ``out``, ``prepared`` and ``group_flags`` in place."""

    cells: Sizes
    prepared: list[tuple[NDArray[np.int64], int, NDArray[np.bool_]]]
    out: NDArray[np.int8]
    group_flags: list[NDArray[np.int8]]
    offsets: NDArray[np.int64]  # the first row of each grouping

    def break_all(
        self,
        hidden: NDArray[np.int64],
        first: NDArray[np.int8],
        cell_at: NDArray[np.int64],
        row_at: NDArray[np.int64],
    ) -> bool:
        """One more unknown in an equation of each protected cell the set's equations
        pin; whether anything changed."""
        local_cells, c_index = np.unique(cell_at, return_inverse=True)
        local_rows, r_index = np.unique(row_at, return_inverse=True)
        matrix = np.zeros((len(local_rows), len(local_cells)))
        matrix[r_index, c_index] = 1.0
        flags = first[hidden[local_cells]]
        protected = np.flatnonzero(flags > PUBLISHED)
        # a cell of one firm is known to that firm: it must not pin a firm either (a
        # cell of one, or a dominated one: a sum of two others gives neither away)
        alone = np.flatnonzero(self.cells.n[hidden[local_cells]] == 1)
        shown = _revealed(matrix, protected, alone)
        single = (self.cells.n[hidden[local_cells]] == 1) | (flags == DOMINANCE)
        shown[:, 1:] &= single[protected][:, None]
        touched: set[int] = set()
        leaks = np.argwhere(shown)
        changed = False
        # one fix per pinned cell, then solve again (a fix in a row another pin uses
        # may already break that one)
        for goal, via in leaks[np.unique(leaks[:, 0], return_index=True)[1]]:
            # the equations that pin it: one more unknown in one of them breaks it
            target = np.zeros(len(local_cells))
            target[protected[goal]] = 1.0
            known = np.eye(len(local_cells))[alone[via - 1 : via] if via else alone[:0]]
            weights = np.linalg.lstsq(np.vstack([matrix, known]).T, target, rcond=None)[0]
            weight = np.abs(weights[: len(local_rows)])
            # the rows the combination leans on most first (where groupings cut across
            # each other, the smallest combination spreads a little over every row)
            rows = local_rows[np.argsort(-weight, kind="stable")[: int((weight > 1e-9).sum())]]
            if int(rows[0]) in touched:
                continue  # this round changed that equation already
            self._one_more_unknown(rows, local_rows[weight > 1e-9], touched)
            changed = True
        return changed

    def _one_more_unknown(
        self, rows: NDArray[np.int64], involved: NDArray[np.int64], touched: set[int]
    ) -> None:
        """Suppress the smallest published cell of the first of ``rows`` that has one;
        when every cell of those groups is suppressed, withdraw the last ``involved``
        group total."""
        offsets, out = self.offsets, self.out
        which = np.searchsorted(offsets, rows, side="right") - 1
        for grouping, row in zip(which.tolist(), rows.tolist(), strict=True):
            lab = self.prepared[grouping][0]
            free = np.flatnonzero((lab == row - offsets[grouping]) & (out == PUBLISHED))
            if len(free):
                out[int(free[np.argmin(self.cells.total[free])])] = SECONDARY
                touched.add(row)
                return
        last = np.searchsorted(offsets, involved, side="right") - 1
        grouping, row = int(last[-1]), int(involved[-1])
        touched.add(row)
        self.prepared[grouping][2][row - offsets[grouping]] = False
        self.group_flags[grouping][row - offsets[grouping]] = SECONDARY


def point_sentra_flags(
    values: ArrayLike,
    cell: ArrayLike,
    sentra: ArrayLike,
    cell_flags: ArrayLike,
    sentra_flags: ArrayLike,
    rules: Rules,
    *,
    groupings: Sequence[tuple[ArrayLike, ArrayLike]] = (),
) -> NDArray[np.int8]:
    """Sentra totals that are not sums of whole cells, checked against those cells.

    A point-based sentra takes some of the firms of the cells it crosses. With the
    published cells, its total gives (1) its firms outside the published cells it holds
    whole, and (2), where every cell it crosses is published, the other firms of the
    cells it crosses in part; together with neighbouring sentra that share those cells,
    (3) the firms of those cells in none of them. Each of these sums must pass the rules;
    a sentra whose total would give one away is suppressed (:data:`SECONDARY`). Then
    the published sentra, cells and group totals are audited together as an attacker
    would solve them (:func:`_atom_audit`): no suppressed cell, and no group of a
    cell's firms in one sentra (or in none) that fails the rules, may be a combination
    of them - nor become one for a firm that knows its own value - else the smallest
    sentra involved is suppressed too.

    Parameters
    ----------
    values
        One value per firm (NaN: not reported).
    cell
        Each firm's cell (area x sector row; negative for none).
    sentra
        Each firm's sentra, 0 to ``len(sentra_flags) - 1``; negative for none.
    cell_flags
        The cells' flags (after :func:`suppress`).
    sentra_flags
        The sentra's primary flags.
    rules
        The thresholds.
    groupings
        The published groups of cells (regencies, ...): per grouping, each cell's
        group (negative for none) and whether each group's total is published
        (:attr:`Suppression.published`).

    Returns
    -------
    The sentra's flags.
    """
    v = np.asarray(values, dtype=np.float64)
    c = np.asarray(cell, dtype=np.int64)
    s = np.asarray(sentra, dtype=np.int64)
    cflags = np.asarray(cell_flags)
    out = np.array(sentra_flags, dtype=np.int8, copy=True)
    n_sentra = len(out)
    ok = np.isfinite(v) & (c >= 0)
    v, c, s = v[ok], c[ok], s[ok]
    if not n_sentra or not len(v):
        return out
    k = rules.dominance_n
    n_cells = int(c.max()) + 1
    inside = s >= 0
    # cells each sentra crosses: (sentra, cell) pairs of its firms, and whether whole
    pairs, members = np.unique(s[inside] * n_cells + c[inside], return_counts=True)
    pair_sentra, pair_cell = pairs // n_cells, pairs % n_cells
    reporting = np.bincount(c, minlength=n_cells)
    whole = members == reporting[pair_cell]
    published = cflags[pair_cell] == PUBLISHED
    # (1) its firms outside the published cells it holds whole
    key = s[inside] * n_cells + c[inside]
    covered = np.isin(key, pairs[whole & published])
    rest = sizes(v[inside], np.where(covered, -1, s[inside]), n_sentra, top=k)
    unsafe = (rest.n > 0) & (primary(rest, rules) > PUBLISHED)
    # (2) the others of the cells it crosses in part, where every cell it crosses is
    # published (a suppressed one leaves the difference unknown)
    any_hidden = np.zeros(n_sentra, dtype=bool)
    np.logical_or.at(any_hidden, pair_sentra, ~published)
    partial = ~whole
    p_sentra, p_cell = pair_sentra[partial], pair_cell[partial]
    if len(p_cell):
        # every firm of a partly crossed cell, once per sentra crossing it, if not its own
        order = np.argsort(c, kind="stable")
        starts = np.searchsorted(c[order], p_cell)
        stops = np.searchsorted(c[order], p_cell, side="right")
        lengths = stops - starts
        firm = order[np.repeat(starts, lengths) + _ramp(lengths)]
        owner = np.repeat(p_sentra, lengths)
        other = s[firm] != owner
        rest2 = sizes(v[firm[other]], owner[other], n_sentra, top=k)
        unsafe |= ~any_hidden & (rest2.n > 0) & (primary(rest2, rules) > PUBLISHED)
        # (3) sentra sharing partly crossed cells: the cells' firms in none of them
        unsafe |= _shared_rest(v, s, c, p_sentra, p_cell, any_hidden, out, rules)
    out[unsafe & (out == PUBLISHED)] = SECONDARY
    _atom_audit(v, c, s, cflags, out, groupings, rules)
    return out


def _atom_audit(
    v: NDArray[np.float64],
    c: NDArray[np.int64],
    s: NDArray[np.int64],
    cell_flags: NDArray[Any],
    out: NDArray[np.int8],
    groupings: Sequence[tuple[ArrayLike, ArrayLike]],
    rules: Rules,
) -> None:
    """The attacker's view of point sentra (``out`` is updated in place).

    The unknowns are the sums of the firms of a cell in one sentra or in none (its
    *parts*) of the cells the sentra cross and of the suppressed cells; parts that
    every published equation holds together are one unknown (only their sum is ever
    seen). The equations are the published cells the sentra cross, the published
    group totals and the published sentra. Protected are an unknown whose firms fail
    the rules and a suppressed cell the primary rules protect; each must stay out of
    the equations' row space, also for a firm that alone makes an unknown (it knows
    that one). Pins the cells and groups give without any sentra are the cell
    audit's (:func:`suppress`) and are not counted; for the others, the smallest
    published sentra of the connected set is suppressed until none is left."""
    n_cells, n_sentra = len(cell_flags), len(out)
    inside = s >= 0
    if not inside.any() or not (out == PUBLISHED).any():
        return
    crossed = np.zeros(n_cells, dtype=bool)
    crossed[c[inside]] = True
    hidden = np.asarray(cell_flags) > PUBLISHED
    atoms = _Atoms.of(c, s, crossed | hidden, hidden, n_sentra, groupings)
    at, unknown, p_cell, p_sentra = atoms.at, atoms.unknown, atoms.p_cell, atoms.p_sentra
    sizes_u = sizes(v[at], unknown[atoms.of_part], atoms.n_unknown, top=rules.dominance_n)
    failing = (sizes_u.n > 0) & (primary(sizes_u, rules) > PUBLISHED)
    single = sizes_u.n == 1
    # suppressed cells the primary rules protect, where their parts are theirs alone
    cell_primary = primary(sizes(v, c, n_cells, top=rules.dominance_n), rules)
    owners = np.zeros(atoms.n_unknown, dtype=np.int64)
    np.maximum.at(owners, unknown, p_cell + 1)
    shared = np.zeros(atoms.n_unknown, dtype=bool)
    np.logical_or.at(shared, unknown, owners[unknown] != p_cell + 1)
    protected = hidden & (cell_primary > PUBLISHED)
    part_comp, order, bounds = atoms.connected_sets()
    for comp in np.unique(part_comp[p_sentra >= 0]):  # sets with a sentra (a loop over sets)
        parts = order[bounds[comp] : bounds[comp + 1]]
        local, index = np.unique(unknown[parts], return_inverse=True)
        index = index.ravel()
        base = _rows_over(index, atoms.fixed[parts], len(local))
        # goals: unknowns failing the rules, and protected cells whose parts are theirs
        goals = [np.eye(len(local))[failing[local]]]
        cells_here = np.unique(p_cell[parts][protected[p_cell[parts]]])
        if len(cells_here):
            mine = (p_cell[parts], shared[unknown[parts]], index)
            goals.append(_cell_goals(mine, cells_here, n_cells, len(local)))
        target = np.vstack(goals)
        if not len(target):
            continue
        known = np.flatnonzero(single[local])
        _suppress_leaking_sentra(base, target, known, p_sentra[parts], index, out)


def _cell_goals(
    parts: tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64]],
    cells_here: NDArray[np.int64],
    n_cells: int,
    n_local: int,
) -> NDArray[np.float64]:
    """One goal row per protected cell of ``cells_here`` whose parts are its own: the
    sum of its unknowns. ``parts``: each part's cell, whether its unknown is shared with
    another cell's parts, and its unknown (of ``n_local``)."""
    cell_of, shared, index = parts
    mine = np.isin(cell_of, cells_here)
    owned = np.ones(n_cells, dtype=bool)
    owned[cell_of[mine & shared]] = False
    which = cells_here[owned[cells_here]]
    rows_c = np.searchsorted(which, cell_of)
    hit = mine & np.isin(cell_of, which)
    vectors = np.zeros((len(which), n_local))
    vectors[rows_c[hit], index[hit]] = 1.0
    return vectors


def _suppress_leaking_sentra(
    base: NDArray[np.float64],
    target: NDArray[np.float64],
    known: NDArray[np.int64],
    by_sentra: NDArray[np.int64],
    index: NDArray[np.int64],
    out: NDArray[np.int8],
) -> None:
    """Suppress published sentra of one connected set (parts in sentra ``by_sentra``, at
    unknowns ``index``) until their equations with the ``base`` ones reveal no
    ``target`` the base alone does not (also for a firm that knows an unknown of
    ``known``): each round, the smallest sentra the first leak needs."""
    n_local = base.shape[1]
    before = _revealed(base, target, known)
    for _ in range(len(out)):
        live = np.unique(by_sentra[by_sentra >= 0])
        live = live[out[live] == PUBLISHED]
        if not len(live):
            break
        rows_s = np.zeros((len(live), n_local))
        at_live = np.isin(by_sentra, live)
        rows_s[np.searchsorted(live, by_sentra[at_live]), index[at_live]] = 1.0
        matrix = np.vstack([base, rows_s])
        leak = np.argwhere(_revealed(matrix, target, known) & ~before)
        if not len(leak):
            break
        # the sentra whose equation the first leak needs; the smallest of them goes
        goal, via = leak[0]
        system = matrix if via == 0 else np.vstack([matrix, np.eye(n_local)[known[via - 1]]])
        weights = np.linalg.lstsq(system.T, target[goal], rcond=None)[0]
        needed = np.abs(weights[len(base) : len(base) + len(live)]) > 1e-9
        candidates = live[needed] if needed.any() else live
        firms_in = np.bincount(
            np.searchsorted(live, by_sentra[at_live]),
            weights=np.ones(int(at_live.sum())),
            minlength=len(live),
        )
        firms_in = firms_in[np.searchsorted(live, candidates)]
        out[candidates[int(np.argmin(firms_in))]] = SECONDARY


@dataclass(frozen=True)
class _Atoms:
    """The unknowns of the point-sentra audit: the firms ``at`` in a crossed or
    suppressed cell, the parts they make (a cell's firms in one sentra or in none:
    ``p_cell``, ``p_sentra``; firm ``k`` in part ``of_part[k]``), the rows each part lies
    in (``fixed``: its cell's and its groups' published equations, -1 for none;
    ``sentra_row``) and the unknown of each part (parts in the same rows are one)."""

    at: NDArray[np.int64]
    of_part: NDArray[np.int64]
    p_cell: NDArray[np.int64]
    p_sentra: NDArray[np.int64]
    fixed: NDArray[np.int64]
    sentra_row: NDArray[np.int64]
    offset: int  # the first sentra row
    n_sentra: int
    unknown: NDArray[np.int64]
    n_unknown: int

    @classmethod
    def of(
        cls,
        c: NDArray[np.int64],
        s: NDArray[np.int64],
        involved: NDArray[np.bool_],
        hidden: NDArray[np.bool_],
        n_sentra: int,
        groupings: Sequence[tuple[ArrayLike, ArrayLike]],
    ) -> _Atoms:
        """The parts of the firms in ``involved`` cells (``c``, sentra ``s``), the
        ``hidden`` cells lying in no published cell equation."""
        at = np.flatnonzero(involved[c])
        # the parts, and the equations (rows) each lies in: its cell's (published cells),
        # its groups' (published totals), its sentra's
        part, of_part = np.unique(c[at] * (n_sentra + 1) + (s[at] + 1), return_inverse=True)
        p_cell, p_sentra = part // (n_sentra + 1), part % (n_sentra + 1) - 1
        memberships = [np.where(hidden[p_cell], -1, p_cell)]
        offset = len(hidden)
        for labels, published in groupings:
            lab = np.asarray(labels, dtype=np.int64)[p_cell]
            shown = np.asarray(published, dtype=bool)
            ok = (
                (lab >= 0) & shown[np.clip(lab, 0, max(len(shown) - 1, 0))]
                if len(shown)
                else lab < -1
            )
            memberships.append(np.where(ok, offset + lab, -1))
            offset += len(shown)
        fixed = np.stack(memberships, axis=1)  # rows every observer has (no sentra)
        sentra_row = np.where(p_sentra >= 0, offset + p_sentra, -1)
        # parts in the same rows are one unknown
        signature = np.concatenate([fixed, sentra_row[:, None]], axis=1)
        _, unknown = np.unique(signature, axis=0, return_inverse=True)
        unknown = unknown.ravel()
        return cls(
            at=at,
            of_part=of_part,
            p_cell=p_cell,
            p_sentra=p_sentra,
            fixed=fixed,
            sentra_row=sentra_row,
            offset=offset,
            n_sentra=n_sentra,
            unknown=unknown,
            n_unknown=int(unknown.max()) + 1,
        )

    def connected_sets(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """The connected set of each part's unknown (unknowns joined by any row), the
        parts ordered by set, and where each set starts in that order."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        rows = np.concatenate([self.fixed, self.sentra_row[:, None]], axis=1)
        edge_u = np.repeat(self.unknown, rows.shape[1])
        edge_r = rows.ravel()
        keep = edge_r >= 0
        size = self.n_unknown + self.offset + self.n_sentra
        graph = coo_matrix(
            (np.ones(int(keep.sum())), (edge_u[keep], self.n_unknown + edge_r[keep])),
            shape=(size, size),
        )
        _, component = connected_components(graph, directed=False)
        part_comp = component[self.unknown]
        order = np.argsort(part_comp, kind="stable")  # the parts of each set together
        bounds = np.searchsorted(part_comp[order], np.arange(int(component.max()) + 2))
        return part_comp, order, bounds


def _rows_over(
    unknown: NDArray[np.int64], memberships: NDArray[np.int64], n_unknown: int
) -> NDArray[np.float64]:
    """The equations (one row each) over ``n_unknown`` unknowns of the parts whose
    unknown and rows (``memberships``: one column per grouping, -1 for none) are given."""
    pairs = np.unique(
        np.stack([np.repeat(unknown, memberships.shape[1]), memberships.ravel()], axis=1), axis=0
    )
    pairs = pairs[pairs[:, 1] >= 0]
    ids, row = np.unique(pairs[:, 1], return_inverse=True)
    matrix = np.zeros((len(ids), n_unknown))
    matrix[row.ravel(), pairs[:, 0]] = 1.0
    return matrix


def _revealed(
    matrix: NDArray[np.float64], goals: NDArray[Any], known: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Per goal, and per unknown of ``known`` (one firm knows it), whether the goal is a
    combination of the rows of ``matrix`` (and of that unknown): ``(len(goals), 1 +
    len(known))``. ``goals`` are rows over the unknowns, or the positions of single
    unknowns (integers).

    With ``P`` the projection on the row space, a goal ``g`` lies in it when its
    residual ``g - Pg`` is zero, and in it with unknown ``a`` added when that residual
    is parallel to ``a``'s, ``e_a - P e_a``: their product is ``g[a] - (Pg)[a]``, their
    squared lengths ``|g|^2 - |Bg|^2`` and ``1 - |B[:, a]|^2`` (``B``: an orthonormal
    basis of the row space), so nothing of the size of the unknowns squared is formed."""
    n = matrix.shape[1]
    if len(matrix):
        _, sv, vt = np.linalg.svd(matrix, full_matrices=False)
        basis = vt[sv > 1e-9 * max(float(sv.max()), 1.0)]
    else:
        basis = np.zeros((0, n))
    units = goals.ndim == 1
    projected = basis[:, goals] if units else basis @ goals.T  # B g, one column per goal
    length = np.ones(len(goals)) if units else np.einsum("ij,ij->i", goals, goals)
    g_norm = np.sqrt(np.maximum(length - np.einsum("ij,ij->j", projected, projected), 0.0))
    out = np.zeros((len(goals), 1 + len(known)), dtype=bool)
    tiny = np.sqrt(1e-9)  # as the cell audit: a squared residual below 1e-9 is none
    out[:, 0] = g_norm < tiny
    if len(known):
        k_basis = basis[:, known]
        k_norm = np.sqrt(np.maximum(1.0 - np.einsum("ij,ij->j", k_basis, k_basis), 0.0))
        held = (goals[:, None] == known[None, :]) if units else goals[:, known]
        product = held - projected.T @ k_basis  # g[a] - (Pg)[a]
        cosine = np.abs(product) / np.maximum(np.outer(g_norm, k_norm), 1e-300)
        # a goal that holds the known unknown is not revealed by it (it is its own)
        out[:, 1:] = (cosine > 1 - 1e-9) & (k_norm[None, :] > tiny) & (held == 0)
        out[:, 1:] &= ~out[:, :1]
    return out


def _ramp(lengths: NDArray[np.int64]) -> NDArray[np.int64]:
    """0, 1, ..., n-1 for every n of ``lengths``, concatenated."""
    total = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total, dtype=np.int64) - starts


def _shared_rest(
    v: NDArray[np.float64],
    s: NDArray[np.int64],
    c: NDArray[np.int64],
    p_sentra: NDArray[np.int64],
    p_cell: NDArray[np.int64],
    any_hidden: NDArray[np.bool_],
    flags: NDArray[np.int8],
    rules: Rules,
) -> NDArray[np.bool_]:
    """Sentra joined by partly crossed cells (connected components of sentra and
    cells): where all of them and their cells are published, the cells' firms in none
    of them must pass the rules, else every sentra of the component is unsafe."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n_sentra = len(flags)
    cells, cell_at = np.unique(p_cell, return_inverse=True)
    size = n_sentra + len(cells)
    graph = coo_matrix((np.ones(len(p_sentra)), (p_sentra, n_sentra + cell_at)), shape=(size, size))
    _, component = connected_components(graph, directed=False)
    crossing = np.bincount(cell_at, minlength=len(cells))
    shared = np.zeros(len(cells), dtype=bool)
    shared[np.flatnonzero(crossing > 1)] = True
    if not shared.any():
        return np.zeros(n_sentra, dtype=bool)
    # the firms of shared cells that are in no sentra
    at = np.isin(c, cells[shared]) & (s < 0)
    comp_of_cell = component[n_sentra + np.searchsorted(cells, c[at])]
    n_comp = int(component.max()) + 1
    rest = sizes(v[at], comp_of_cell, n_comp, top=rules.dominance_n)
    bad_comp = (rest.n > 0) & (primary(rest, rules) > PUBLISHED)
    # a component with a hidden cell or a suppressed sentra gives no such difference
    blocked = np.zeros(n_comp, dtype=bool)
    np.logical_or.at(blocked, component[:n_sentra], any_hidden | (flags > PUBLISHED))
    return (bad_comp & ~blocked)[component[:n_sentra]]


def grid_hulls(
    xy: ArrayLike,
    labels: ArrayLike,
    n_groups: int,
    *,
    grid_m: float,
    min_firms: int,
    max_doublings: int = 4,
) -> list[shapely.Geometry]:
    """Shapes of point groups that no firm's position can be read from.

    Each group's points are counted on a square grid of ``grid_m`` metres fixed to the
    coordinate origin; its shape is the convex hull of the grid cells holding at least
    ``min_firms`` of its points. Its corners are corners of the grid, and every cell
    it is built from holds several firms. Where such cells hold fewer than half of the
    group's points the grid is doubled (up to ``max_doublings`` times); beyond that the
    hull of every cell with a point is used (each still at least ``grid_m * 2 **
    max_doublings`` wide).

    Parameters
    ----------
    xy
        (n, 2) projected coordinates in metres; NaN for a firm without a point (placed
        by its area), which is in no group's shape.
    labels
        Each point's group, 0 to ``n_groups - 1`` (negative: no group).
    n_groups
        Number of groups.
    grid_m
        The grid's side in metres.
    min_firms
        Points a cell needs to be drawn.
    max_doublings
        How often the grid may be doubled for a sparse group.

    Returns
    -------
    One polygon per group (empty for a group without points).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pts = rng.uniform(1000, 1500, (40, 2))
    >>> hull = grid_hulls(pts, np.zeros(40, dtype=int), 1, grid_m=250, min_firms=3)[0]
    >>> sorted({x % 250 for x, _ in hull.exterior.coords}), hull.area
    ([0.0], 250000.0)
    """
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    group = np.asarray(labels, dtype=np.int64)
    # a firm without a point (placed by its area: NaN coordinates) is in no cell
    group = np.where(np.isfinite(points).all(axis=1), group, -1)
    out: list[shapely.Geometry] = [shapely.Polygon() for _ in range(n_groups)]
    todo = np.arange(n_groups)
    side = float(grid_m)
    for attempt in range(max_doublings + 1):
        last = attempt == max_doublings
        member = np.isin(group, todo) & (group >= 0)
        g, p = group[member], points[member]
        ix = np.floor(p[:, 0] / side).astype(np.int64)
        iy = np.floor(p[:, 1] / side).astype(np.int64)
        keys = np.stack([g, ix, iy], axis=1)
        unique, counts = np.unique(keys, axis=0, return_counts=True)
        dense = counts >= (1 if last else min_firms)
        held = np.bincount(unique[dense, 0], weights=counts[dense], minlength=n_groups)
        points_per = np.bincount(g, minlength=n_groups)
        done = todo[(held[todo] * 2 >= points_per[todo]) & (points_per[todo] > 0)]
        if last:
            done = todo[points_per[todo] > 0]
        if len(done):
            chosen = dense & np.isin(unique[:, 0], done)
            u = unique[chosen]
            corners = np.concatenate(
                [
                    np.stack([(u[:, 1] + dx) * side, (u[:, 2] + dy) * side], axis=1)
                    for dx, dy in ((0, 0), (1, 0), (1, 1), (0, 1))
                ]
            )
            owner = np.tile(u[:, 0], 4)
            order = np.argsort(owner, kind="stable")
            ids, index = np.unique(owner[order], return_inverse=True)
            hulls = shapely.convex_hull(
                shapely.multipoints(shapely.points(corners[order]), indices=index)
            )
            for gid, hull in zip(ids.tolist(), hulls.tolist(), strict=True):
                out[gid] = hull
        todo = np.setdiff1d(todo, done)
        if not len(todo):
            break
        side *= 2
    return out
