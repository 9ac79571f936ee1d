"""Local specialisation: does a neighbourhood hold more firms of a sector than its firms
of all sectors predict?

Gi* of raw counts measures *density*: a city with many firms of every sector is a hot
spot of every sector. A sentra is a place *specialised* in one product, so klastergeo's
sentra and default map use this statistic instead:

- the neighbourhood of area *i* is *i* and its neighbours in the spatial weights (Gi*'s
  neighbourhood, every link counted once whatever its weight);
- *S* is the neighbourhood's firms of sector *s* and *M* its firms of all sectors;
- **null hypothesis: random labelling.** The sectors of the study area's *N* firms are
  a random permutation (each area keeps its number of firms, each sector its *N_s*).
  Then *S* is hypergeometric: *M* firms drawn without replacement from *N*, of which
  *N_s* are of the sector. The p-value needs no permutations and no normal
  approximation, whatever the number of areas: ``spec_p`` is two-sided, twice the
  smaller tail, capped at 1. The tails are the hypergeometric ones, exact; for a
  neighbourhood holding less than 1 % of the study area's firms
  (:data:`BINOMIAL_SHARE`), where drawing with or without replacement differs by less
  than 1 % in variance, the binomial ones (a thousand times faster);
- ``spec_z`` is the normal score of that p-value, signed by the tail (positive: more
  firms of the sector than expected), and ``spec_bin`` the ArcGIS-style bin of it (-3 to
  3: 99, 95 and 90 % confidence), as ``gi_bin`` is for density;
- ``spec_ratio`` is *S* divided by its expectation *M N_s / N*: the neighbourhood's
  location quotient.

**A minimum effect** (``margin`` *m*, default :data:`MARGIN`). A dense neighbourhood (an
industrial estate with every sector eight times denser, same mix) has the power to call a
ratio of 1.05 significant, and random labelling alone puts 5 % of any cells in the upper
90 % bin. So the bins test whether the ratio lies outside [1/m, m], not whether it differs
from 1: the upper tail is P(S >= observed) with the sector's share multiplied by m, the
lower tail P(S <= observed) with it divided by m, and ``spec_p`` is twice the smaller,
capped at 1. Binomial tails use the shares m N_s / N (at most 1) and N_s / (m N);
hypergeometric ones a sector of ceil(m N_s) firms (at most N) and floor(N_s / m): rounded
away from the observed count, so each tail is at least the one of the unrounded share.
Under random labelling the ratio's law is that of m = 1, stochastically below the upper
tail's null and above the lower's, so the test is conservative: fewer than 2.5 % of cells
in the 95 % hot bins (far fewer in practice), as the exact test gives at most. ``margin=1``
is the exact test of random labelling. ``spec_ratio`` is unchanged.

With ``fdr=True`` a cell's bin is decided on the larger of its margin p-value and the
Benjamini-Hochberg adjusted p-value of the exact test (margin 1) within its sector: a
discovery of the exact test, under false discovery rate control, whose ratio is also
beyond the margin (an intersection of the two tests). Adjusting the margin p-values
themselves would be needlessly strict: they are conservative (most near 1), and BH
divides the evidence by the rank among them (a two-village sentra in a city with p
0.0007 would rank third among 1,552 villages and be lost).

With ``margin=1``, under random labelling each area's p-value is valid (exact, and
conservative where counts are small, since a count is discrete), so about 5 % or fewer of
the areas of a sector fall in the 95 % bins; with a margin, far fewer. An area that is
dense in every sector has *S* near its expectation and is not significant. With
``fdr=True`` the bins are decided on Benjamini-Hochberg adjusted p-values within each
sector (``spec_p`` stays the raw one).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from libpysal.graph import Graph
from numpy.typing import NDArray
from scipy import sparse, special, stats

from klastergeo.analysis._graph import accepts_w
from klastergeo.analysis.autocorrelation import fdr_adjust, hot_spot_bins
from klastergeo.analysis.concentration import whole_counts
from klastergeo.errors import ConfigError, DataError

__all__ = ["COLUMNS", "MARGIN", "local_specialisation"]

logger = logging.getLogger(__name__)

#: The columns :func:`local_specialisation` adds to the area x sector table.
COLUMNS = ("spec_ratio", "spec_z", "spec_p", "spec_bin")

#: Neighbourhoods holding less than this share of the study area's firms are tested with
#: the binomial tails (the finite-population correction is then under 1 % of the
#: variance); larger ones with the exact hypergeometric tails.
BINOMIAL_SHARE = 0.01

#: The default least ratio (and its inverse) the bins must exceed: 1.25, a common
#: threshold of specialisation in cluster mapping (an LQ of 1.25).
MARGIN = 1.25

#: The normal score given to p-values too small for a double (about 1e-308).
_Z_LIMIT = 37.5


@accepts_w
def local_specialisation(
    counts: pd.DataFrame,
    graph: Graph,
    *,
    sectors: list[str] | None = None,
    fdr: bool = False,
    margin: float = MARGIN,
) -> pd.DataFrame:
    """The local specialisation of every area in every sector (see the module docstring).

    Parameters
    ----------
    counts
        Firms per area (rows, indexed by area code) and sector (columns): every sector,
        since an area's firms of all sectors are the sum of its row. Whole numbers
        (a float column of whole numbers is fine); anything else is a :class:`DataError`.
    graph
        Spatial weights over the same areas (its ``unique_ids``); only which areas are
        neighbours matters, not the weights.
    sectors
        The sectors to return (default: every column of ``counts``).
    fdr
        Decide the bins on Benjamini-Hochberg adjusted p-values within each sector: a
        cell is significant when the exact test's adjusted p-value and the margin
        test's p-value both are.
    margin
        The least effect: the bins test whether the neighbourhood's ratio lies above
        ``margin`` or below ``1 / margin`` (at least 1; 1 for the exact test of
        random labelling).

    Returns
    -------
    DataFrame
        Indexed by (``area_code``, ``sector``), areas outer in the graph's order, with
        :data:`COLUMNS`.

    Examples
    --------
    Six areas in a row; the fourth holds most of sector "b" (its neighbourhood, areas 3
    to 5, holds 34 of its 66 firms in "b", against 21.7 expected at b's share of the
    144 firms):

    >>> from libpysal.graph import Graph
    >>> g = Graph.from_adjacency(pd.DataFrame({
    ...     "focal": [1, 2, 2, 3, 3, 4, 4, 5, 5, 6],
    ...     "neighbor": [2, 1, 3, 2, 4, 3, 5, 4, 6, 5], "weight": 1.0}))
    >>> counts = pd.DataFrame({"a": [20, 20, 20, 4, 20, 20], "b": [2, 2, 2, 30, 2, 2]},
    ...                       index=pd.Index(range(1, 7), name="area_code"))
    >>> out = local_specialisation(counts, g)
    >>> round(float(out.loc[(4, "b"), "spec_ratio"]), 3), int(out.loc[(4, "b"), "spec_bin"])
    (1.569, 2)
    >>> int(local_specialisation(counts, g, margin=1)["spec_bin"].loc[(4, "b")])  # ratio > 1
    3
    >>> int(out.loc[(1, "b"), "spec_bin"])  # 2 of 22 firms where 28 % are expected
    -2
    """
    if not (np.isfinite(margin) and margin >= 1):
        raise ConfigError(
            f"margin={margin!r}: the least ratio the bins test for must be a number of at "
            "least 1 (1.25: a ratio above 1.25 or below 0.8; 1: the exact test)"
        )
    ids = pd.Index(graph.unique_ids)
    wanted = _wanted(counts, ids, sectors)
    index = pd.MultiIndex.from_product(
        [ids, pd.Index(wanted, dtype=object)], names=["area_code", "sector"]
    )
    if not wanted or not len(ids):
        return pd.DataFrame({c: pd.Series(dtype=float) for c in COLUMNS}, index=index).astype(
            {"spec_bin": np.int64}
        )
    table = counts.reindex(ids)
    whole_counts(table)
    n = table.to_numpy(dtype=np.float64)
    total = n.sum()
    by_sector = n.sum(axis=0)
    columns = table.columns.get_indexer(pd.Index(wanted))
    hood = _neighbourhoods(graph, len(ids))
    found = hood @ n[:, columns]  # S: the neighbourhoods' firms of each sector
    firms = hood @ n.sum(axis=1)  # M: the neighbourhoods' firms of all sectors
    args = (found, firms[:, None], by_sector[columns][None, :], total)
    z, p, ratio = _exact(*args, margin)
    decide = p
    if fdr:  # the exact test's discoveries (BH within each sector) beyond the margin
        exact = p if margin == 1 else _exact(*args, 1.0)[1]
        adjusted = np.column_stack([fdr_adjust(exact[:, k]) for k in range(p.shape[1])])
        decide = np.maximum(p, adjusted)
    bins = hot_spot_bins(z, decide)
    return pd.DataFrame(
        {
            "spec_ratio": ratio.reshape(-1),
            "spec_z": z.reshape(-1),
            "spec_p": p.reshape(-1),
            "spec_bin": bins.reshape(-1),
        },
        index=index,
    )


def _wanted(counts: pd.DataFrame, ids: pd.Index, sectors: list[str] | None) -> list[str]:
    """The sectors asked for, after checking that ``counts`` has a row per area ``ids``
    and a column per sector."""
    missing = ids.difference(counts.index)
    if len(missing):
        raise DataError(
            f"counts: {len(missing)} area(s) of the weights have no row (e.g. "
            f"{missing[0]!r}); give every area a row, with zeros where it has no firms"
        )
    wanted = list(counts.columns) if sectors is None else list(sectors)
    absent = [s for s in wanted if s not in counts.columns]
    if absent:
        raise DataError(f"sectors {absent!r} are not columns of counts ({list(counts.columns)})")
    return wanted


def _neighbourhoods(graph: Graph, n_areas: int) -> sparse.csr_matrix:
    """Each area and its neighbours (0/1, rows in the graph's order), isolates alone."""
    adjacency = graph.sparse.tocsr().astype(bool).astype(np.float64)
    adjacency.setdiag(1.0)
    adjacency.eliminate_zeros()
    assert adjacency.shape == (n_areas, n_areas)
    return adjacency


def _tails(
    k: NDArray[np.float64],
    m: NDArray[np.float64],
    s: NDArray[np.float64],
    total: float,
    margin: float = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """P(S >= k) and P(S <= k) under random labelling: hypergeometric (``m`` firms drawn
    from ``total``, ``s`` of them in the sector); where ``m`` is below
    :data:`BINOMIAL_SHARE` of ``total`` the binomial tails with the sector's share,
    whose variance differs by the finite-population factor ``(total - m) / (total - 1)``
    only (scipy's hypergeometric tails cost about 0.1 ms a cell at tens of thousands of
    firms; the binomial's, a microsecond). With a ``margin``, the upper tail's sector
    is ``margin`` times larger and the lower tail's ``margin`` times smaller (see the
    module's text)."""
    k, m, s = (np.ravel(np.asarray(a, dtype=float)) for a in (k, m, s))
    upper = np.empty(len(k))
    lower = np.empty(len(k))
    small = m < BINOMIAL_SHARE * total
    share = s / total if total > 0 else np.zeros_like(s)
    high, low = np.minimum(share * margin, 1.0), share / margin
    upper[small] = stats.binom.sf(k[small] - 1, m[small], high[small])
    lower[small] = stats.binom.cdf(k[small], m[small], low[small])
    exact = ~small
    # whole sectors, rounded away from the observed count (1e-9: margin 1 keeps s)
    s_high = np.minimum(np.ceil(s[exact] * margin - 1e-9), total)
    s_low = np.floor(s[exact] / margin + 1e-9)
    upper[exact] = stats.hypergeom.sf(k[exact] - 1, total, s_high, m[exact])
    lower[exact] = stats.hypergeom.cdf(k[exact], total, s_low, m[exact])
    return upper, lower


def _exact(
    found: NDArray[np.float64],
    firms: NDArray[np.float64],
    sector_total: NDArray[np.float64],
    total: float,
    margin: float = 1.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Two-sided hypergeometric p-values (of a ratio outside [1/margin, margin]), their
    signed normal scores and the ratios of found to expected firms."""
    expected = firms * sector_total / total if total > 0 else np.zeros_like(found)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, found / expected, np.nan)
    shape = np.broadcast_shapes(found.shape, firms.shape, sector_total.shape)
    k = np.broadcast_to(found, shape)
    m = np.broadcast_to(firms, shape)
    s = np.broadcast_to(sector_total, shape)
    upper, lower = _tails(k, m, s, total, margin)
    p = np.minimum(1.0, 2.0 * np.minimum(upper, lower))
    sign = np.where(found > expected, 1.0, np.where(found < expected, -1.0, 0.0))
    p = p.reshape(shape)
    z = sign * np.minimum(-special.ndtri(np.maximum(p, 1e-300) / 2.0), _Z_LIMIT)
    z = np.where(p >= 1.0, 0.0, z)
    return z, np.nan_to_num(p, nan=1.0), ratio
