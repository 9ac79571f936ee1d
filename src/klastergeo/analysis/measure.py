"""Statistics of a measure of the firms: firms, workers, output or investment.

Firm counts are one measure among four. For each measure this module gives, per area and
sector, the location quotient (with an interval), the local specialisation of the
neighbourhood, Getis-Ord Gi* and local Moran (LISA) of the area sums, and a bivariate
local Moran. The columns are those of the firm-count statistics of the area table
(``lq``, ``spec_*``, ``gi_*``, ``lisa_*``), so a table per measure reads like the firms'.

What is summed
--------------
``v[f]`` is firm f's value of the measure (1 for ``firms``). ``V[a, s]`` is the sum over
the firms of sector s in area a **that have a value**. A firm with no value recorded (a
missing number of workers) is missing, never 0: the statistics are those of the firms
with a value, as if the others were not in the registry, and ``n_valued`` and
``coverage`` (``n_valued / n_firms``) say per area and sector how many firms carry the
measure. ``value`` is NaN (not 0) in a cell whose firms all lack a value, and so is its
``lq``. Values must be finite and not negative.

The nulls (which permutation each statistic uses, and why)
----------------------------------------------------------
For ``firms`` the statistics are exactly those of the firm counts
(:func:`klastergeo.analysis.concentration.location_quotient`,
:func:`klastergeo.analysis.specialisation.local_specialisation`,
:func:`klastergeo.analysis.autocorrelation.by_sector`): exact binomial and
hypergeometric tests and conditional permutation of areas. For the other measures a sum
of values is not a count of independent units, so the nulls permute **the firms**, and a
permuted area sum is the sum of the values its firms get:

- **LQ and specialisation: random labelling.** The firms keep their area and their
  value; the sectors are permuted among the firms with a value. Each area's total and
  each sector's total stay fixed, and the sector's sum in an area (in a neighbourhood)
  is the sum of the values of a random subset of its firms of the size the sector has
  there. This is the null of the firm counts' tests (their binomial and hypergeometric
  tails are its closed form when every value is 1). ``lq_p`` is one-sided (more of the
  measure than expected, as the firm counts' binomial test), ``spec_p`` two-sided.
  The specialisation has the firm counts' **minimum effect** (``margin`` m, the run's
  ``analysis.spec_margin``): its bins test whether the neighbourhood's ratio lies
  outside [1/m, m], not whether it differs from 1 (see :func:`_value_specialisation`),
  so an industrial estate (every sector denser, its workers too) stays quiet.
- **Gi* and LISA: the sector's values permuted among the sector's firms.** The firms
  keep their area and their sector; the values of the sector's firms are shuffled
  among them. The number of the sector's firms in each area stays fixed, so
  ``gi_p_sim`` and ``lisa_p_sim`` ask whether the *measure* clusters beyond what the
  firms' locations give: whether the large firms sit together, not only the firms.
  ``gi_z`` / ``gi_p_norm`` and ``lisa_z`` are the usual analytical values on the area
  sums (equal to esda's ``G_Local`` and ``Moran_Local``); ``gi_inference`` and
  ``lisa_inference`` say which p-value decides ``gi_bin`` and ``lisa_quadrant``.

Permuted statistics are compared with the observed ones by counting; each permutation is
one ``np.bincount`` of the firms and one sparse product over the areas, so memory is that
of a few areas x sectors tables whatever the number of permutations.

The LQ interval
---------------
For firms, Moineddin et al.'s (2003) delta-method interval of ln LQ. For a sum of values
the same formula with each count replaced by Kish's effective number of firms
``(sum v)^2 / sum v^2`` of the cell, area, sector and region: the variance of ln LQ of a
sum of independent values, which is the firm counts' interval exactly when every value
is 1 and wider when a few large firms carry the sum. It is an approximation (as the
counts' is); ``lq_p`` is the permutation test.

Bivariate local Moran
---------------------
Every measure's table carries the bivariate local Moran of each sector's sums against
the sums of all firms (``bv_i``, ``bv_p``, ``bv_quadrant``; :func:`sector_bivariate`).
:func:`bivariate_moran` is Anselin's bivariate LISA ``I_i = (n - 1) zx_i (W zy)_i /
sum zx^2`` of the area sums of one sector (x) against all firms or another sector (y),
with row-standardised weights, equal to esda's ``Moran_Local_BV``; its pseudo p-values
use esda's conditional permutation (x_i fixed, the y of the other areas drawn without
replacement, one draw per permutation shared by all areas).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from libpysal.graph import Graph
from numpy.typing import NDArray
from scipy import sparse, special, stats

from klastergeo.analysis import autocorrelation, concentration, specialisation
from klastergeo.analysis._graph import accepts_w
from klastergeo.analysis.disclosure import MARK
from klastergeo.errors import ConfigError, DataError
from klastergeo.schema import MEASURE_COLUMNS

__all__ = [
    "BIVARIATE",
    "COLUMNS",
    "MEASURES",
    "area_sums",
    "bivariate_moran",
    "firm_values",
    "measure_bivariate",
    "measure_statistics",
    "sector_bivariate",
    "withhold",
]

logger = logging.getLogger(__name__)

#: The measures a registry can carry: ``firms`` counts them, the others sum the firms'
#: column of that name (:data:`klastergeo.schema.FIRM_COLUMNS`).
MEASURES = ("firms", "workers", "output", "investment")

#: The columns of :func:`measure_statistics`, indexed by (``area_code``, ``sector``): those
#: of ``measures.csv`` (:data:`klastergeo.schema.MEASURE_COLUMNS`) but the measure and
#: ``value_flag`` (:func:`withhold` adds it).
COLUMNS = tuple(c for c in MEASURE_COLUMNS[3:] if c != "value_flag")

#: The Gi* and LISA columns of a measure's table.
_LOCAL = ("gi_z", "gi_p", "gi_p_sim", "gi_bin", "lisa_i", "lisa_p", "lisa_p_sim", "lisa_quadrant")
#: The bivariate local Moran's columns of a measure's table (:func:`sector_bivariate`).
BIVARIATE = ("bv_i", "bv_p", "bv_quadrant")

Inference = Literal["analytical", "permutation"]
_Z_LIMIT = 37.5


@dataclass(frozen=True)
class _Nulls:
    """Counts of permuted statistics at least (``ge``) and at most (``le``) the observed
    ones, areas x sectors: ``sum`` (the sector's sum in the area, random labelling),
    ``hood`` (in the neighbourhood, random labelling, with the minimum effect: a
    permuted sum times the margin at least the observed one, divided by it at most),
    ``exact`` (the same without margin), ``gstar`` and ``moran`` (the sector's values
    permuted among its firms)."""

    permutations: int
    sum_ge: NDArray[np.int64]
    hood_ge: NDArray[np.int64]
    hood_le: NDArray[np.int64]
    exact_ge: NDArray[np.int64]
    exact_le: NDArray[np.int64]
    gstar_ge: NDArray[np.int64]
    gstar_le: NDArray[np.int64]
    moran_ge: NDArray[np.int64]
    moran_le: NDArray[np.int64]


def _check_measure(measure: str) -> None:
    if measure not in MEASURES:
        raise ConfigError(f"measure={measure!r} is not accepted; use one of {', '.join(MEASURES)}")


def firm_values(firms: pd.DataFrame, measure: str) -> NDArray[np.float64]:
    """Each firm's value of ``measure``: 1 for ``firms``, else its column (NaN: missing).

    Parameters
    ----------
    firms
        The firms, with a column named ``measure`` unless it is ``firms``.
    measure
        One of :data:`MEASURES`.

    Returns
    -------
    Float array, one value per firm; NaN where the firm has no value.

    Examples
    --------
    >>> firm_values(pd.DataFrame({"workers": [3, None]}), "workers").tolist()
    [3.0, nan]
    """
    _check_measure(measure)
    if measure == "firms":
        return np.ones(len(firms))
    if measure not in firms.columns:
        return np.full(len(firms), np.nan)
    values = pd.to_numeric(firms[measure], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isinf(values) | (values < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"firms: column {measure!r} has {int(bad.sum())} negative or infinite value(s) "
            f"(first at position {first}: {values[first]!r}); sums of a measure need values "
            "that are finite and not negative (leave unknown ones empty)"
        )
    return values


@dataclass(frozen=True)
class _Coded:
    """Firms with a value as integer codes (area, sector) and their values."""

    area: NDArray[np.int64]
    sector: NDArray[np.int64]
    value: NDArray[np.float64]
    n_areas: int
    n_sectors: int

    def sums(
        self,
        value: NDArray[np.float64] | None = None,
        sector: NDArray[np.int64] | None = None,
    ) -> NDArray[np.float64]:
        """Areas x sectors sums of ``value`` (default: the firms' own) with ``sector``."""
        v = self.value if value is None else value
        s = self.sector if sector is None else sector
        flat = np.bincount(
            self.area * self.n_sectors + s, weights=v, minlength=self.n_areas * self.n_sectors
        )
        return np.asarray(flat, dtype=np.float64).reshape(self.n_areas, self.n_sectors)


def _codes(labels: pd.Series | NDArray, index: pd.Index) -> NDArray[np.int64]:
    return np.asarray(index.get_indexer(pd.Index(np.asarray(labels, dtype=object))), np.int64)


def area_sums(
    firms: pd.DataFrame,
    areas: Sequence[str] | pd.Index,
    *,
    measure: str,
    sectors: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Firms, firms with a value, coverage and the sum of ``measure`` per area x sector.

    Parameters
    ----------
    firms
        Firms with ``area_code``, ``sector`` and the measure's column; firms whose area
        is not in ``areas`` (or missing) are left out.
    areas
        The areas of analysis, in their order.
    measure
        One of :data:`MEASURES`.
    sectors
        The sectors, in their order (default: those of the firms, sorted).

    Returns
    -------
    DataFrame indexed by (``area_code``, ``sector``), areas outer, with ``n_firms``,
    ``n_valued``, ``coverage`` (NaN without firms) and ``value`` (the sum over the firms
    with a value; NaN where the cell has firms but none has a value; 0 without firms).

    Examples
    --------
    >>> firms = pd.DataFrame({"area_code": ["a", "a", "b"], "sector": ["x", "x", "x"],
    ...                       "workers": [4.0, None, 2.0]})
    >>> area_sums(firms, ["a", "b"], measure="workers").to_dict("list")["value"]
    [4.0, 2.0]
    """
    coded, n_firms, n_valued = _prepare(firms, pd.Index(areas), measure, sectors)
    total = coded.sums()
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.where(n_firms > 0, n_valued / n_firms, np.nan)
    value = np.where((n_firms > 0) & (n_valued == 0), np.nan, total)
    index = _index(pd.Index(areas), _sector_index(firms, sectors))
    return pd.DataFrame(
        {
            "n_firms": n_firms.reshape(-1).astype(np.int64),
            "n_valued": n_valued.reshape(-1).astype(np.int64),
            "coverage": coverage.reshape(-1),
            "value": value.reshape(-1),
        },
        index=index,
    )


def _sector_index(firms: pd.DataFrame, sectors: Sequence[str] | None) -> pd.Index:
    if sectors is not None:
        return pd.Index(list(sectors), dtype=object)
    present = pd.Series(np.asarray(firms["sector"], dtype=object)).dropna().unique()
    return pd.Index(sorted(present), dtype=object)


def _index(areas: pd.Index, sectors: pd.Index) -> pd.MultiIndex:
    return pd.MultiIndex.from_product(
        [pd.Index(areas, name="area_code"), pd.Index(sectors, name="sector", dtype=object)]
    )


def _prepare(
    firms: pd.DataFrame, areas: pd.Index, measure: str, sectors: Sequence[str] | None
) -> tuple[_Coded, NDArray[np.float64], NDArray[np.float64]]:
    """The firms with a value as codes (ordered by area, sector and value), and the firms
    and valued firms per cell."""
    for column in ("area_code", "sector"):
        if column not in firms.columns:
            raise DataError(f"firms: no column {column!r}; the firms need area_code and sector")
    values = firm_values(firms, measure)
    sector_index = _sector_index(firms, sectors)
    area = _codes(firms["area_code"], areas)
    sector = _codes(firms["sector"], sector_index)
    placed = (area >= 0) & (sector >= 0)
    n, k = len(areas), len(sector_index)
    everyone = np.bincount(area[placed] * k + sector[placed], minlength=n * k).reshape(n, k)
    valued = placed & np.isfinite(values)
    # a stated order (area, sector, value), not the registry's rows: firms alike in all
    # three are interchangeable, so the seeded permutations give the same p-values
    # whatever order the registry's rows come in
    order = np.lexsort((values[valued], sector[valued], area[valued]))
    coded = _Coded(area[valued][order], sector[valued][order], values[valued][order], n, k)
    counted = np.bincount(coded.area * k + coded.sector, minlength=n * k).reshape(n, k)
    return coded, everyone.astype(float), counted.astype(float)


def _hood(graph: Graph) -> sparse.csr_matrix:
    """Gi*'s neighbourhood: each area and its neighbours, binary (isolates alone)."""
    adjacency = graph.sparse.tocsr().astype(bool).astype(np.float64)
    adjacency.setdiag(1.0)
    adjacency.eliminate_zeros()
    return sparse.csr_matrix(adjacency)


def _row_standardised(graph: Graph) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix(graph.sparse.tocsr().astype(np.float64))
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    with np.errstate(divide="ignore"):
        scale = np.where(sums > 0, 1.0 / sums, 0.0)
    return sparse.csr_matrix(sparse.diags(scale) @ matrix)


def _moran_values(y: NDArray[np.float64], row: sparse.csr_matrix) -> NDArray[np.float64]:
    """Local Moran ``(n - 1) z (W z) / sum z^2`` of every column of ``y`` (scale-free)."""
    z = y - y.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (len(y) - 1) * z * (row @ z) / (z * z).sum(axis=0)


def _within_sector(
    rng: np.random.Generator, coded: _Coded, order: NDArray[np.int64]
) -> NDArray[np.float64]:
    """The firms' values shuffled among the firms of each sector (``order``: the firms
    sorted by sector)."""
    shuffled = order[np.lexsort((rng.random(len(order)), coded.sector[order]))]
    out = np.empty_like(coded.value)
    out[order] = coded.value[shuffled]
    return out


def _firm_nulls(
    coded: _Coded,
    graph: Graph,
    columns: NDArray[np.int64],
    *,
    permutations: int,
    seed: int | None,
    margin: float = 1.0,
) -> _Nulls:
    """Count how often the permuted statistics reach the observed ones (see the module
    docstring for the two permutations and the ``margin`` of the specialisation); one
    loop over the permutations only."""
    rng = np.random.default_rng(seed)
    hood = _hood(graph)
    row = _row_standardised(graph)
    observed = coded.sums()
    cell, near = observed[:, columns], hood @ observed[:, columns]
    moran = _moran_values(cell, row)
    shape = cell.shape
    names = ("s", "hg", "hl", "eg", "el", "gg", "gl", "mg", "ml")
    counts = {k: np.zeros(shape, np.int64) for k in names}
    order = np.argsort(coded.sector, kind="stable")
    tol = 1e-9 * max(float(np.abs(observed).max(initial=0.0)), 1.0)
    for _ in range(permutations):
        labelled = coded.sums(sector=coded.sector[rng.permutation(len(coded.sector))])
        lab = labelled[:, columns]
        counts["s"] += lab >= cell - tol
        lab_near = hood @ lab
        counts["hg"] += lab_near * margin >= near - tol
        counts["hl"] += lab_near / margin <= near + tol
        counts["eg"] += lab_near >= near - tol
        counts["el"] += lab_near <= near + tol
        moved = coded.sums(value=_within_sector(rng, coded, order))[:, columns]
        moved_near = hood @ moved
        counts["gg"] += moved_near >= near - tol
        counts["gl"] += moved_near <= near + tol
        moved_moran = _moran_values(moved, row)
        m_tol = 1e-9 * np.maximum(np.abs(moran), 1e-12)
        counts["mg"] += moved_moran >= moran - m_tol
        counts["ml"] += moved_moran <= moran + m_tol
    return _Nulls(permutations, *(counts[k] for k in names))


def _two_sided(ge: NDArray, le: NDArray, permutations: int) -> NDArray[np.float64]:
    return np.minimum(1.0, 2.0 * (np.minimum(ge, le) + 1.0) / (permutations + 1.0))


def _signed_z(p: NDArray[np.float64], sign: NDArray[np.float64]) -> NDArray[np.float64]:
    z = np.sign(sign) * np.minimum(-special.ndtri(np.maximum(p, 1e-300) / 2.0), _Z_LIMIT)
    return np.where(p >= 1.0, 0.0, z)


def _fdr(p: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.column_stack([autocorrelation.fdr_adjust(p[:, k]) for k in range(p.shape[1])])


def _value_lq(
    coded: _Coded, confidence: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """LQ of the sums and its interval from Kish's effective numbers of firms."""
    total = coded.sums()
    square = coded.sums(value=coded.value**2)
    area, area_sq = total.sum(axis=1), square.sum(axis=1)
    sector, sector_sq = total.sum(axis=0), square.sum(axis=0)
    grand, grand_sq = total.sum(), square.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = (total / area[:, None]) / (sector / grand)[None, :]
        variance = (
            square / total**2
            - (area_sq / area**2)[:, None]
            + (sector_sq / sector**2)[None, :]
            - grand_sq / grand**2
        )
    lq[area == 0] = np.nan
    half = stats.norm.ppf(0.5 + confidence / 2.0) * np.sqrt(np.clip(variance, 0.0, None))
    positive = (total > 0) & np.isfinite(lq)
    low = np.full(lq.shape, np.nan)
    high = np.full(lq.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        low[positive] = np.exp(np.log(lq[positive]) - half[positive])
        high[positive] = np.exp(np.log(lq[positive]) + half[positive])
    return lq, low, high


@accepts_w
def measure_statistics(
    firms: pd.DataFrame,
    graph: Graph,
    *,
    measure: str,
    sectors: Sequence[str] | None = None,
    permutations: int = 999,
    seed: int | None = 0,
    alpha: float = 0.05,
    fdr: bool = False,
    spec_fdr: bool = False,
    gi_inference: Inference = "analytical",
    lisa_inference: Inference = "permutation",
    alternative: autocorrelation.Alternative = "two-sided",
    confidence: float = 0.95,
    margin: float = specialisation.MARGIN,
) -> pd.DataFrame:
    """LQ, specialisation, Gi* and LISA of one measure, per area and sector.

    Parameters
    ----------
    firms
        The firms: ``area_code``, ``sector`` and the measure's column (one row a firm).
        Every sector of the registry should be there: an area's total is the sum of all
        its firms.
    graph
        Spatial weights over the areas of analysis (its ``unique_ids`` are the areas).
    measure
        One of :data:`MEASURES` (see the module docstring for the nulls of each).
    sectors
        The sectors whose statistics are returned (default: every sector).
    permutations
        Permutations of the firms (conditional permutations of areas for ``firms``); 0:
        no permutation p-values (NaN).
    seed
        Seed of the permutations (``numpy.random.default_rng``).
    alpha
        Significance level of the LISA quadrants.
    fdr
        Decide Gi* bins and LISA quadrants on Benjamini-Hochberg adjusted p-values.
    spec_fdr
        The same for the specialisation bins.
    gi_inference, lisa_inference
        ``"analytical"`` or ``"permutation"``: which p-value decides ``gi_bin`` and
        ``lisa_quadrant``.
    alternative
        Of the Gi* and LISA p-values (analytical and permutation):
        ``"two-sided"``, ``"greater"``, ``"lesser"`` or ``"folded"``
        (:mod:`klastergeo.analysis.autocorrelation`). ``lq_p`` is one-sided and
        ``spec_p`` two-sided whatever it is, as for the firm counts.
    confidence
        Level of the LQ interval.
    margin
        The least effect of the specialisation bins (a ratio above ``margin`` or below
        its inverse; 1: none), as the firm counts' (see the module docstring).

    Returns
    -------
    DataFrame indexed by (``area_code``, ``sector``), areas outer in the graph's order,
    with :data:`COLUMNS` (``bv_*``: :func:`sector_bivariate`, with ``alpha``,
    ``alternative`` and ``fdr``).

    Examples
    --------
    >>> from libpysal.graph import Graph
    >>> g = Graph.from_adjacency(pd.DataFrame({"focal": ["a", "b", "b", "c"],
    ...     "neighbor": ["b", "a", "c", "b"], "weight": 1.0}))
    >>> firms = pd.DataFrame({"area_code": ["a", "a", "b", "c", "c"],
    ...     "sector": ["x", "y", "x", "y", "y"], "workers": [10.0, 2.0, 4.0, 3.0, None]})
    >>> out = measure_statistics(firms, g, measure="workers", permutations=0)
    >>> round(float(out.loc[("a", "x"), "lq"]), 3), float(out.loc[("c", "y"), "coverage"])
    (1.131, 0.5)
    """
    _check_options(permutations, confidence, margin)
    areas = pd.Index(graph.unique_ids)
    every = _sector_index(firms, None)
    wanted = list(every) if sectors is None else list(sectors)
    absent = [s for s in wanted if s not in every]
    if absent:
        raise DataError(f"sectors {absent!r} have no firm; the firms' sectors are {list(every)}")
    base = area_sums(firms, areas, measure=measure, sectors=list(every))
    options: dict = {"permutations": permutations, "seed": seed, "alpha": alpha, "fdr": fdr}
    options |= {"gi_inference": gi_inference, "lisa_inference": lisa_inference}
    options |= {"alternative": alternative, "margin": margin}
    if measure == "firms":
        stats_ = _firm_count_statistics(base, graph, wanted, spec_fdr, confidence, options)
    else:
        coded, _, _ = _prepare(firms, areas, measure, list(every))
        stats_ = _value_statistics(coded, base, graph, wanted, spec_fdr, confidence, options)
    cells = base.loc[pd.IndexSlice[:, wanted], :].reindex(_index(areas, pd.Index(wanted)))
    sums = base["value"].fillna(0.0).unstack("sector").reindex(areas)
    bivariate = sector_bivariate(sums, graph, sectors=wanted, **_bivariate_options(options))
    out = cells.join(stats_).join(bivariate)
    for column in ("spec_bin", "gi_bin", "lisa_quadrant", "bv_quadrant"):
        out[column] = out[column].fillna(0).astype(np.int64)
    return out[list(COLUMNS)]


def _bivariate_options(options: dict) -> dict:
    """The options of :func:`sector_bivariate` among those of :func:`measure_statistics`."""
    return {k: options[k] for k in ("permutations", "seed", "alpha", "alternative", "fdr")}


def _check_options(permutations: int, confidence: float, margin: float) -> None:
    if permutations < 0:
        raise ConfigError(f"permutations={permutations!r} must be zero or positive")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence={confidence!r} must lie between 0 and 1 (e.g. 0.95)")
    if not (np.isfinite(margin) and margin >= 1):
        raise ConfigError(
            f"margin={margin!r}: the least ratio the specialisation bins test for must be a "
            "number of at least 1 (1.25: a ratio above 1.25 or below 0.8; 1: no margin)"
        )


def _firm_count_statistics(
    base: pd.DataFrame,
    graph: Graph,
    wanted: list[str],
    spec_fdr: bool,
    confidence: float,
    options: dict,
) -> pd.DataFrame:
    """The firm counts' own statistics (the area table's), for ``measure="firms"``."""
    matrix = base["n_firms"].unstack("sector").reindex(columns=base.index.unique(level="sector"))
    matrix = matrix.reindex(base.index.get_level_values(0).unique())
    lq = concentration.location_quotient(matrix, confidence=confidence)
    lq = lq.rename(columns={"p_value": "lq_p"})
    enough = len(matrix) >= autocorrelation.MIN_AREAS_LOCAL
    local, _ = autocorrelation.by_sector(
        matrix[wanted if enough else []], graph, progress=None, **_local_options(options)
    )
    spec = specialisation.local_specialisation(
        matrix, graph, sectors=wanted, fdr=spec_fdr, margin=options["margin"]
    )
    return lq.join(local).join(spec)


def _value_statistics(
    coded: _Coded,
    base: pd.DataFrame,
    graph: Graph,
    wanted: list[str],
    spec_fdr: bool,
    confidence: float,
    options: dict,
) -> pd.DataFrame:
    """LQ, specialisation, Gi* and LISA of a sum of values under the firms' nulls."""
    every = base.index.unique(level="sector")
    areas = pd.Index(graph.unique_ids)
    columns = every.get_indexer(pd.Index(wanted)).astype(np.int64)
    total = coded.sums()
    lq, low, high = _value_lq(coded, confidence)
    unknown = (base["n_firms"].to_numpy() > 0) & (base["n_valued"].to_numpy() == 0)
    lq = np.where(unknown.reshape(lq.shape), np.nan, lq)
    permutations = int(options["permutations"])
    nulls = _firm_nulls(
        coded,
        graph,
        columns,
        permutations=permutations,
        seed=options["seed"],
        margin=options["margin"],
    )
    index = _index(areas, pd.Index(wanted))
    frame = pd.DataFrame(
        {
            "lq": lq[:, columns].reshape(-1),
            "lq_low": low[:, columns].reshape(-1),
            "lq_high": high[:, columns].reshape(-1),
        },
        index=index,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        lq_p = (nulls.sum_ge + 1.0) / (permutations + 1.0)
    has = total.sum(axis=1) > 0
    frame["lq_p"] = np.where(has[:, None] & (permutations > 0), lq_p, np.nan).reshape(-1)
    spec = _value_specialisation(total, graph, columns, nulls, spec_fdr)
    local = _value_local(total[:, columns], graph, wanted, nulls, options)
    return frame.join(spec.set_axis(index)).join(local.set_axis(index))


def _value_specialisation(
    total: NDArray[np.float64],
    graph: Graph,
    columns: NDArray[np.int64],
    nulls: _Nulls,
    fdr: bool,
) -> pd.DataFrame:
    """The neighbourhood's share of the measure against random labelling, with a
    minimum effect.

    S is the neighbourhood's sum of the sector's values, E = M V_s / V its expectation
    (M the neighbourhood's sum of every sector, V_s the sector's and V the study area's
    totals; all three fixed under random labelling), R = S / E the ratio and R* its
    permuted value (``nulls``: the sector labels permuted among the firms with a
    value). With margin m the bins ask whether R lies outside [1/m, m]:

    - upper tail: the share of permutations (the observed labelling counted) with
      m R* >= R; lower tail: with R* / m <= R; ``spec_p`` is twice the smaller, capped
      at 1, and ``spec_z`` its signed normal score, as for the firm counts.

    Why: m R* is the law of the ratio when the sector's values in the neighbourhood are
    m times those random labelling gives it (a ratio of m, the upper boundary of the
    null [1/m, m] taken as a multiplicative effect on the measure), R* / m at the lower
    boundary; so the upper p-value is that of the boundary hypothesis "R = m" against
    "R > m", and any ratio inside [1/m, m] is less likely still to reach the observed
    one. A sum has no binomial law to shift the share in, as the firm counts' tails do;
    scaling the permutation law is the shift a sum allows, and it is wider than the
    counts' shifted binomial (the spread is multiplied by m, the binomial's by about
    sqrt m), so it is the more cautious of the two. Under random labelling itself
    (R ~ R*) each tail is at least the plain one, P(m R* >= R) >= P(R* >= R) for m >= 1
    as R* >= 0, so the test stays valid (conservative). At m = 1 both tails are the
    plain permutation tails, the statistic of before.

    With ``fdr`` the bins are decided as the firm counts' are
    (:func:`~klastergeo.analysis.specialisation.local_specialisation`): on the larger of
    the margin p-value and the Benjamini-Hochberg adjusted plain p-value (m = 1) within
    the sector, a discovery of the plain test whose ratio is also beyond the margin (at
    m = 1, the adjusted p-value alone, as before).
    """
    hood = _hood(graph)
    found = hood @ total[:, columns]
    everything = hood @ total.sum(axis=1)
    grand = total.sum()
    expected = everything[:, None] * total[:, columns].sum(axis=0)[None, :] / grand
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, found / expected, np.nan)
    if nulls.permutations > 0:
        p = _two_sided(nulls.hood_ge, nulls.hood_le, nulls.permutations)
        plain = _two_sided(nulls.exact_ge, nulls.exact_le, nulls.permutations)
    else:
        p = plain = np.full(found.shape, np.nan)
    z = _signed_z(np.nan_to_num(p, nan=1.0), found - expected)
    bins = autocorrelation.hot_spot_bins(z, np.maximum(p, _fdr(plain)) if fdr else p)
    return pd.DataFrame(
        {
            "spec_ratio": ratio.reshape(-1),
            "spec_z": z.reshape(-1),
            "spec_p": p.reshape(-1),
            "spec_bin": bins.reshape(-1),
        }
    )


def _local_options(options: dict) -> dict:
    """The options of :func:`klastergeo.analysis.autocorrelation.by_sector` among the
    run's (not the specialisation's margin)."""
    return {k: v for k, v in options.items() if k != "margin"}


def _value_local(
    sums: NDArray[np.float64],
    graph: Graph,
    wanted: list[str],
    nulls: _Nulls,
    options: dict,
) -> pd.DataFrame:
    """Gi* and LISA of the area sums: analytical values as the firm counts', pseudo
    p-values from the sector's values permuted among its firms."""
    areas = pd.Index(graph.unique_ids)
    matrix = pd.DataFrame(sums, index=areas, columns=pd.Index(wanted, name="sector"))
    if len(areas) < autocorrelation.MIN_AREAS_LOCAL:
        return pd.DataFrame({c: np.full(sums.size, np.nan) for c in _LOCAL})
    analytic = {**_local_options(options), "permutations": 0}
    local, _ = autocorrelation.by_sector(matrix, graph, **analytic)
    permutations = nulls.permutations
    shape = sums.shape
    gi_z = local["gi_z"].to_numpy().reshape(shape)
    lisa_i = local["lisa_i"].to_numpy().reshape(shape)
    if permutations > 0:
        gi_sim = np.where(
            np.isfinite(gi_z),
            autocorrelation.pseudo_p(
                nulls.gstar_ge, nulls.gstar_le, permutations, options["alternative"]
            ),
            np.nan,
        )
        lisa_sim = np.where(
            np.isfinite(lisa_i),
            autocorrelation.pseudo_p(
                nulls.moran_ge, nulls.moran_le, permutations, options["alternative"]
            ),
            np.nan,
        )
    else:
        gi_sim = lisa_sim = np.full(shape, np.nan)
    gi_p = local["gi_p"].to_numpy().reshape(shape)
    gi_bin = local["gi_bin"].to_numpy().reshape(shape)
    if options["gi_inference"] == "permutation" and permutations > 0:
        gi_p = _fdr(gi_sim) if options["fdr"] else gi_sim
        gi_bin = autocorrelation.hot_spot_bins(gi_z, gi_p)
    lisa_p = local["lisa_p"].to_numpy().reshape(shape)
    quadrant = local["lisa_quadrant"].to_numpy().reshape(shape)
    if options["lisa_inference"] == "permutation" and permutations > 0:
        lisa_p = _fdr(lisa_sim) if options["fdr"] else lisa_sim
        quadrant = np.where(lisa_p <= options["alpha"], _quadrants(sums, graph), 0)
    return pd.DataFrame(
        {
            "gi_z": gi_z.reshape(-1),
            "gi_p": gi_p.reshape(-1),
            "gi_p_sim": gi_sim.reshape(-1),
            "gi_bin": gi_bin.reshape(-1),
            "lisa_i": lisa_i.reshape(-1),
            "lisa_p": lisa_p.reshape(-1),
            "lisa_p_sim": lisa_sim.reshape(-1),
            "lisa_quadrant": quadrant.reshape(-1),
        }
    )


def _quadrants(
    x: NDArray[np.float64], graph: Graph, y: NDArray[np.float64] | None = None
) -> NDArray[np.int64]:
    """GeoDa's quadrants of x against the lag of y (default x): 1 HH, 2 LL, 3 LH, 4 HL;
    0 where a lag is undefined (no neighbour) or x is constant."""
    y = x if y is None else y
    zx = x - x.mean(axis=0)
    lag = _row_standardised(graph) @ (y - y.mean(axis=0))
    high, near = zx > 0, lag > 0
    out = np.where(high & near, 1, np.where(~high & ~near, 2, np.where(near, 3, 4)))
    isolated = np.asarray(abs(graph.sparse).sum(axis=1)).ravel() == 0
    defined = ~isolated[:, None] if x.ndim == 2 else ~isolated
    return np.where(defined & (zx != 0), out, 0).astype(np.int64)


@accepts_w
def bivariate_moran(
    x: pd.Series,
    y: pd.Series,
    graph: Graph,
    *,
    permutations: int = 999,
    seed: int | None = 0,
    alpha: float = 0.05,
    alternative: autocorrelation.Alternative = "two-sided",
    fdr: bool = False,
) -> pd.DataFrame:
    """Bivariate local Moran of ``x`` against the spatial lag of ``y`` (Anselin et al.
    2002; esda's ``Moran_Local_BV``).

    ``I_i = (n - 1) zx_i (W zy)_i / sum zx^2`` with row-standardised weights and ``zx``,
    ``zy`` the standardised values. Pseudo p-values come from conditional permutation:
    ``x_i`` stays, the ``y`` of the other areas are drawn without replacement for its
    neighbours; as in esda one draw of ``max_k`` ids per permutation serves every area
    (ids at or after the area's own position are shifted by one), so a permutation costs
    one pass over the weights' links.

    Parameters
    ----------
    x, y
        Values indexed by area code (e.g. a sector's workers and all firms' workers per
        area); aligned to the graph's ids, no missing values.
    graph
        Spatial weights; row-standardised here.
    permutations
        Conditional permutations for ``p_sim`` (0: NaN).
    seed
        Seed of the permutations (``numpy.random.default_rng``).
    alpha
        Significance level of ``quadrant``.
    alternative
        ``"two-sided"`` (twice the smaller tail), ``"folded"`` (the smaller tail, esda's
        ``p_sim``), ``"greater"`` or ``"lesser"``.
    fdr
        Decide ``quadrant`` on Benjamini-Hochberg adjusted p-values.

    Returns
    -------
    DataFrame indexed by area: ``statistic``, ``p_sim``, ``quadrant`` (GeoDa's 1 HH, 2 LL,
    3 LH, 4 HL of x against the lag of y; 0 not significant or undefined).

    Examples
    --------
    >>> from libpysal.graph import Graph
    >>> g = Graph.from_adjacency(pd.DataFrame({"focal": [0, 1, 1, 2, 2, 3],
    ...     "neighbor": [1, 0, 2, 1, 3, 2], "weight": 1.0}))
    >>> x = pd.Series([4.0, 1.0, 0.0, 0.0]); y = pd.Series([3.0, 5.0, 1.0, 0.0])
    >>> bivariate_moran(x, y, g, permutations=0)["statistic"].round(3).tolist()
    [1.802, 0.015, -0.074, 0.372]
    """
    ids = pd.Index(graph.unique_ids)
    values = []
    for name, series in (("x", x), ("y", y)):
        aligned = pd.Series(series).reindex(ids).to_numpy(dtype=float)
        if np.isnan(aligned).any():
            raise DataError(
                f"{name}: {int(np.isnan(aligned).sum())} area(s) of the weights have no "
                "value; give every area a value (0 where it has nothing)"
            )
        values.append(aligned)
    vx, vy = values
    n = len(ids)
    if n < autocorrelation.MIN_AREAS_LOCAL:
        raise DataError(
            f"the bivariate local Moran needs at least {autocorrelation.MIN_AREAS_LOCAL} "
            f"areas; the weights have {n}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        zx = (vx - vx.mean()) / vx.std()
        zy = (vy - vy.mean()) / vy.std()
    row = _row_standardised(graph)
    scale = (n - 1) / (zx * zx).sum()
    statistic = scale * zx * (row @ zy)
    p_sim = np.full(n, np.nan)
    if permutations > 0:
        ge, le = _conditional_counts(zx, zy, row, statistic, scale, permutations, seed)
        p_sim = autocorrelation.pseudo_p(ge, le, permutations, alternative)
        p_sim[~np.isfinite(statistic)] = np.nan
    decide = autocorrelation.fdr_adjust(p_sim) if fdr else p_sim
    quadrant = np.where(decide <= alpha, _quadrants(vx, graph, vy), 0).astype(np.int64)
    return pd.DataFrame(
        {"statistic": statistic, "p_sim": p_sim, "quadrant": quadrant},
        index=pd.Index(ids, name="area_code"),
    )


@accepts_w
def sector_bivariate(
    sums: pd.DataFrame,
    graph: Graph,
    *,
    sectors: Sequence[str] | None = None,
    permutations: int = 999,
    seed: int | None = 0,
    alpha: float = 0.05,
    alternative: autocorrelation.Alternative = "two-sided",
    fdr: bool = False,
) -> pd.DataFrame:
    """Bivariate local Moran of each sector's sums against the sums of all sectors, per
    area (:func:`bivariate_moran`, x the sector's, y every sector's: where the sector is
    strong next to where all firms are, and where not).

    Parameters
    ----------
    sums
        Sums per area (rows, every area of the graph; missing: 0) and sector (columns,
        every sector: their row sums are the areas' totals).
    graph
        Spatial weights over the areas.
    sectors
        The sectors whose statistics are returned (default: every column).
    permutations, seed, alpha, alternative, fdr
        As :func:`bivariate_moran` (one seed for every sector).

    Returns
    -------
    DataFrame indexed by (``area_code``, ``sector``), areas outer in the graph's order,
    with :data:`BIVARIATE`: ``bv_i`` (the statistic), ``bv_p`` (its pseudo p-value),
    ``bv_quadrant`` (GeoDa's 1 HH, 2 LL, 3 LH, 4 HL; 0 not significant or undefined).
    All NaN (quadrant 0) with fewer than
    :data:`~klastergeo.analysis.autocorrelation.MIN_AREAS_LOCAL` areas.

    Examples
    --------
    >>> from libpysal.graph import Graph
    >>> g = Graph.from_adjacency(pd.DataFrame({"focal": [0, 1, 1, 2, 2, 3],
    ...     "neighbor": [1, 0, 2, 1, 3, 2], "weight": 1.0}))
    >>> sums = pd.DataFrame({"x": [4.0, 1.0, 0.0, 0.0], "z": [1.0, 4.0, 1.0, 0.0]})
    >>> sector_bivariate(sums, g, sectors=["x"], permutations=0)["bv_i"].round(3).tolist()
    [1.243, -0.013, 0.063, 0.439]
    """
    areas = pd.Index(graph.unique_ids)
    wanted = list(sums.columns) if sectors is None else list(sectors)
    index = _index(areas, pd.Index(wanted))
    table = sums.reindex(areas).fillna(0.0)
    if len(areas) < autocorrelation.MIN_AREAS_LOCAL or not wanted:
        empty = np.full(len(index), np.nan)
        return pd.DataFrame(
            {"bv_i": empty, "bv_p": empty, "bv_quadrant": np.zeros(len(index), np.int64)},
            index=index,
        )
    total = table.sum(axis=1)
    parts = [
        bivariate_moran(
            table[sector],
            total,
            graph,
            permutations=permutations,
            seed=seed,
            alpha=alpha,
            alternative=alternative,
            fdr=fdr,
        )
        for sector in wanted  # a loop over sectors; each is one pass per permutation
    ]
    return pd.DataFrame(
        {
            name: np.column_stack([part[column].to_numpy() for part in parts]).reshape(-1)
            for name, column in zip(BIVARIATE, ("statistic", "p_sim", "quadrant"), strict=True)
        },
        index=index,
    ).astype({"bv_quadrant": np.int64})


@accepts_w
def measure_bivariate(
    firms: pd.DataFrame,
    graph: Graph,
    *,
    measure: str,
    sector: str,
    other: str | None = None,
    permutations: int = 999,
    seed: int | None = 0,
    alpha: float = 0.05,
    alternative: autocorrelation.Alternative = "two-sided",
    fdr: bool = False,
) -> pd.DataFrame:
    """Bivariate local Moran of one sector's sums of ``measure`` against the sums of all
    firms (``other=None``) or of another sector, per area (:func:`bivariate_moran`).

    Parameters
    ----------
    firms
        The firms: ``area_code``, ``sector`` and the measure's column (firms without a
        value are left out, as in :func:`measure_statistics`).
    graph
        Spatial weights over the areas of analysis.
    measure
        One of :data:`MEASURES`.
    sector
        The sector whose sums are x (at each area).
    other
        The sector whose sums are y (in the neighbours); None: every sector's.
    permutations, seed, alpha, alternative, fdr
        As :func:`bivariate_moran`.

    Returns
    -------
    DataFrame indexed by area: ``statistic``, ``p_sim``, ``quadrant``.
    """
    areas = pd.Index(graph.unique_ids)
    sums = area_sums(firms, areas, measure=measure)["value"].fillna(0.0).unstack("sector")
    sums = sums.reindex(areas)
    for name in (sector, other):
        if name is not None and name not in sums.columns:
            raise DataError(
                f"sector {name!r} has no firm; the firms' sectors are {list(sums.columns)}"
            )
    y = sums.sum(axis=1) if other is None else sums[other]
    return bivariate_moran(
        sums[sector],
        y,
        graph,
        permutations=permutations,
        seed=seed,
        alpha=alpha,
        alternative=alternative,
        fdr=fdr,
    )


def _conditional_counts(
    zx: NDArray[np.float64],
    zy: NDArray[np.float64],
    row: sparse.csr_matrix,
    observed: NDArray[np.float64],
    scale: float,
    permutations: int,
    seed: int | None,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Counts of conditionally permuted statistics >= and <= the observed ones."""
    rng = np.random.default_rng(seed)
    n = len(zx)
    degree = np.diff(row.indptr)
    owner = np.repeat(np.arange(n), degree)
    rank = np.arange(row.nnz) - np.repeat(row.indptr[:-1], degree)  # position in its row
    most = int(degree.max(initial=0))
    ge = np.zeros(n, np.int64)
    le = np.zeros(n, np.int64)
    tol = 1e-9 * np.maximum(np.abs(observed), 1e-12)
    for _ in range(permutations):
        drawn = rng.choice(n - 1, size=min(most, n - 1), replace=False)
        ids = drawn[rank]
        ids = ids + (ids >= owner)  # skip the area itself
        lag = np.bincount(owner, weights=row.data * zy[ids], minlength=n)
        simulated = scale * zx * lag
        ge += simulated >= observed - tol
        le += simulated <= observed + tol
    return ge, le


#: Statistics that are continuous functions of the sums of a sector (with its area or
#: neighbourhood totals): with the published sums they could give a suppressed sum back.
SECTOR_VALUES = ("spec_ratio", "gi_z", "gi_p", "lisa_i", "lisa_p", "bv_i")
#: Those of them that also read the neighbours' totals of all sectors.
_NEAR_VALUES = ("spec_ratio", "bv_i")
#: The location quotient, its interval and its test: blank with the cell's sum.
LQ_VALUES = ("lq", "lq_low", "lq_high", "lq_p")


def withhold(table: pd.DataFrame, hidden: pd.Series, graph: Graph) -> pd.DataFrame:
    """The statistics of a measure as they may be published when some of its sums are
    suppressed (disclosure control; see :mod:`klastergeo.analysis.disclosure`).

    - ``value`` is blank in every suppressed cell (``value_flag`` says ``suppressed``)
      (the suppressed cells include the secondary ones, chosen so that no sum can be
      computed back from the others);
    - the location quotient, its interval and ``lq_p`` are blank in every cell of an
      area that holds a suppressed cell: ``value / lq`` is the area's total times a
      constant of the sector (the sector's share), so the quotients of the published
      cells would give the area's total, and the total less the published cells the
      suppressed one;
    - ``spec_ratio``, ``gi_z``, ``gi_p``, ``lisa_i`` and ``lisa_p`` are blank in every
      sector that holds a suppressed cell: the Gi* z-scores and local Moran values of a
      sector are linear in its area sums up to the sector's mean and spread, so the
      published values of the other areas would give the suppressed sums back; and
      ``spec_ratio`` is also blank wherever the neighbourhood holds an area with a
      suppressed cell of any sector (its expectation needs the neighbourhood's total);
    - ``bv_i``, the bivariate local Moran, as ``spec_ratio``: blank in a sector with a
      suppressed cell (it is linear in the sector's standardised sums) and wherever the
      neighbourhood holds an area with a suppressed cell (it reads the neighbours'
      totals of all sectors);
    - the bins, quadrants and pseudo p-values (``spec_z``, ``spec_p``, ``spec_bin``,
      ``gi_p_sim``, ``gi_bin``, ``lisa_p_sim``, ``lisa_quadrant``, ``bv_p``,
      ``bv_quadrant``) stay: they are
      counts of permutations, coarse by construction; so do the firm counts and the
      coverage.

    Parameters
    ----------
    table
        The statistics of :func:`measure_statistics`, indexed by (``area_code``,
        ``sector``).
    hidden
        True for a suppressed cell, indexed by (``area_code``, ``sector``) (cells not in
        it are published).
    graph
        The spatial weights the statistics used (the neighbourhoods of ``spec_ratio``).

    Returns
    -------
    A copy of ``table`` with the values above blank and a ``value_flag`` column after
    ``value`` (``"suppressed"`` or empty).

    Examples
    --------
    >>> from libpysal.graph import Graph
    >>> g = Graph.from_adjacency(pd.DataFrame({"focal": ["a", "b", "b", "c"],
    ...     "neighbor": ["b", "a", "c", "b"], "weight": 1.0}))
    >>> firms = pd.DataFrame({"area_code": ["a", "a", "b", "c", "c"],
    ...     "sector": ["x", "y", "x", "y", "y"], "workers": [10.0, 2.0, 4.0, 3.0, 5.0]})
    >>> out = measure_statistics(firms, g, measure="workers", permutations=0)
    >>> hidden = pd.Series(True, index=pd.MultiIndex.from_tuples([("b", "x")]))
    >>> shown = withhold(out, hidden, g)
    >>> bool(np.isnan(shown.loc[("b", "x"), "value"])), shown.loc[("b", "x"), "value_flag"]
    (True, 'suppressed')
    >>> bool(shown.loc[("a", "x"), ["gi_z", "lisa_i"]].isna().all())
    True
    """
    out = table.copy()
    cell = hidden.reindex(out.index).fillna(False).to_numpy(dtype=bool)
    flagged = hidden.to_numpy(dtype=bool)
    bad_areas = pd.Index(hidden.index.get_level_values(0)[flagged])
    bad_sectors = pd.Index(hidden.index.get_level_values(1)[flagged])
    areas = out.index.get_level_values("area_code")
    in_sector = out.index.get_level_values("sector").isin(bad_sectors)
    ids = pd.Index(graph.unique_ids)
    touched = _hood(graph) @ ids.isin(bad_areas).astype(np.float64) > 0
    near = areas.isin(ids[touched])
    out["value"] = out["value"].mask(cell)
    out.insert(
        list(out.columns).index("value") + 1,
        "value_flag",
        np.where(cell, MARK, "").astype(object),
    )
    # an LQ is the cell's share of its area's total over the sector's share: value / lq
    # gives the area's total up to a constant per sector, and with it a suppressed cell
    # of that area as the total less the published cells; so no quotient is published
    # in an area that holds a suppressed cell
    in_area = areas.isin(bad_areas)
    for column in LQ_VALUES:
        out[column] = out[column].mask(cell | in_area)
    for column in SECTOR_VALUES:
        out[column] = out[column].mask(in_sector | (near if column in _NEAR_VALUES else False))
    return out
