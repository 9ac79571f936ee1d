"""Concentration and specialisation indices: LQ with inference, Hoover, locational Gini,
Herfindahl, Krugman specialisation and the Ellison-Glaeser index.

All functions are vectorised over areas and sectors. Inputs are either an areas x sectors
matrix (a DataFrame of firm counts, workers or output, as :func:`klastergeo.analysis.aggregate.wide`
returns) or, for the plant-level Ellison-Glaeser index, the firms themselves. Results are
indexed by sector (per-sector indices), by area code (per-area indices) or by both.

Notation: ``v[a, s]`` is the measure of sector s in area a, ``v[a] = sum_s v[a, s]``,
``V[s] = sum_a v[a, s]`` and ``V = sum v``. The sector's share of area a is
``s_a = v[a, s] / V[s]``; the area's share of everything is ``x_a = v[a] / V``.

References
----------
- Moineddin, Beyene & Boyle (2003), On the location quotient confidence interval,
  *Geographical Analysis* 35(3): 249-256 (delta-method interval of ln LQ).
- Krugman (1991), *Geography and Trade* (locational Gini, specialisation index).
- Hoover (1936), The measurement of industrial localization, *Review of Economic
  Statistics* 18(4): 162-171.
- Ellison & Glaeser (1997), Geographic concentration in U.S. manufacturing industries: a
  dartboard approach, *Journal of Political Economy* 105(5): 889-927.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from klastergeo._docstrings import fill
from klastergeo.errors import ConfigError, DataError, preview

__all__ = [
    "CODE_LEVELS",
    "ellison_glaeser",
    "herfindahl",
    "hoover",
    "indices_by_level",
    "indices_from_counts",
    "indices_from_plant_sums",
    "krugman_specialisation",
    "location_quotient",
    "locational_gini",
    "whole_counts",
]

logger = logging.getLogger(__name__)

#: Kemendagri code length of each administrative level (``33.09.03.2013``).
CODE_LEVELS: dict[str, int] = {"provinsi": 2, "kabupaten": 5, "kecamatan": 8, "desa": 13}


# numpydoc piece shared by the per-sector indices (see klastergeo._docstrings)
_MATRIX_TOTALS = """
Parameters
----------
matrix
    Areas x sectors amounts (index: area codes, columns: sectors), non-negative.
totals
    Per-area totals over all sectors when ``matrix`` holds only some of them (each at
    least the area's row sum); default: the row sums.
"""


def _matrix(matrix: pd.DataFrame, name: str = "matrix") -> NDArray[np.float64]:
    if not isinstance(matrix, pd.DataFrame):
        raise ConfigError(f"{name} must be an areas x sectors DataFrame, got {type(matrix)}")
    values = matrix.to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        rows, cols = np.nonzero(bad)
        raise ConfigError(
            f"{name} has {int(bad.sum())} negative or missing value(s) "
            f"(first at area {matrix.index[rows[0]]!r}, sector {matrix.columns[cols[0]]!r}); "
            "concentration indices need non-negative amounts"
        )
    return values


def whole_counts(values: pd.DataFrame | pd.Series, *, name: str = "counts") -> None:
    """Check that ``values`` are counts of firms: finite, not negative and whole numbers
    (a float column holding whole numbers is fine). Statistics of counts (exact
    binomial and hypergeometric tails) give p = 1 everywhere to fractions, silently.

    Parameters
    ----------
    values
        A table (a column per sector) or one column of counts.
    name
        What the message calls the input.

    Raises
    ------
    DataError
        Naming the column, one offending value and its row.

    Examples
    --------
    >>> whole_counts(pd.DataFrame({"10": [3.0, 0.0], "31": [1, 2]}))
    >>> try:
    ...     whole_counts(pd.DataFrame({"10": [3.0, 0.5]}, index=["a", "b"]))
    ... except DataError as err:
    ...     print(str(err)[:68])
    counts: column '10' holds 1 value(s) that are not whole numbers of f
    """
    frame = values.to_frame() if isinstance(values, pd.Series) else values
    for column in frame.columns:
        v = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(v) | (v < 0)
        what = "missing, infinite or negative" if bad.any() else "not whole numbers of firms"
        bad |= v != np.round(v)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{name}: column {column!r} holds {int(bad.sum())} value(s) that are {what} "
                f"(e.g. {preview([frame[column].iloc[first]])} at row "
                f"{preview([frame.index[first]])}); give "
                "firm counts (workers, output and other measures are not counts)"
            )


def _area_totals(
    matrix: pd.DataFrame, values: NDArray[np.float64], totals: pd.Series | None
) -> NDArray[np.float64]:
    """Per-area totals over all sectors (``totals`` when the matrix holds only some)."""
    if totals is None:
        return values.sum(axis=1)
    out = totals.reindex(matrix.index).to_numpy(dtype=float)
    if np.isnan(out).any() or (out + 1e-9 < values.sum(axis=1)).any():
        raise ConfigError(
            "totals must give every area of the matrix a total at least its sectors' sum"
        )
    return out


def location_quotient(
    matrix: pd.DataFrame,
    *,
    totals: pd.Series | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Location quotient of every area x sector, with a confidence interval and a test.

    ``LQ = (v[a, s] / v[a]) / (V[s] / V)``. For counts (firms) the interval is the
    delta-method interval of ln LQ of Moineddin et al. (2003),
    ``exp(ln LQ +- z sqrt(1/v[a,s] - 1/v[a] + 1/V[s] - 1/V))``, and ``p_value`` is the
    exact one-sided binomial test of specialisation: the probability that an area with
    ``v[a]`` firms, each of the sector with the region's share ``V[s]/V``, has at least
    ``v[a, s]`` of them. For non-integer measures (workers, output) both are NaN: they
    are not counts of independent units.

    Parameters
    ----------
    matrix
        Areas x sectors amounts (index: area codes, columns: sectors).
    totals
        Per-area totals over all sectors when ``matrix`` holds only some of them.
    confidence
        Level of the interval (between 0 and 1).

    Returns
    -------
    DataFrame indexed by (``area_code``, ``sector``) with ``lq``, ``lq_low``, ``lq_high``
    and ``p_value``. Areas with nothing at all have NaN everywhere; ``lq_low``/``lq_high``
    are NaN where the count is 0 (the log interval is undefined there).

    Examples
    --------
    >>> m = pd.DataFrame({"13": [30, 2], "31": [10, 58]}, index=["a", "b"])
    >>> location_quotient(m).round(3).loc[("a", "13")].tolist()
    [2.344, 1.673, 3.283, 0.0]
    """
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence={confidence!r} must lie between 0 and 1 (e.g. 0.95)")
    values = _matrix(matrix)
    area_total = _area_totals(matrix, values, totals)
    sector_total = values.sum(axis=0)
    grand = area_total.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = sector_total / grand
        lq = (values / area_total[:, None]) / share[None, :]
    lq[area_total == 0] = np.nan
    low = np.full(values.shape, np.nan)
    high = np.full(values.shape, np.nan)
    p_value = np.full(values.shape, np.nan)
    integer = bool(np.all(values == np.round(values))) and (
        totals is None or bool(np.all(area_total == np.round(area_total)))
    )
    if integer and grand > 0:
        z = stats.norm.ppf(0.5 + confidence / 2.0)
        positive = (values > 0) & (area_total[:, None] > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            variance = (
                1.0 / values - 1.0 / area_total[:, None] + 1.0 / sector_total[None, :] - 1.0 / grand
            )
        half = z * np.sqrt(np.clip(variance[positive], 0.0, None))
        log_lq = np.log(lq[positive])
        low[positive] = np.exp(log_lq - half)
        high[positive] = np.exp(log_lq + half)
        counts = np.broadcast_to(area_total[:, None], values.shape)
        shares = np.broadcast_to(share[None, :], values.shape)
        # P(X >= v) = sf(v - 1); exact where the area has firms
        has = area_total > 0
        p_value[has] = stats.binom.sf(values[has] - 1, counts[has], shares[has])
    out = pd.DataFrame(
        {
            "lq": lq.reshape(-1),
            "lq_low": low.reshape(-1),
            "lq_high": high.reshape(-1),
            "p_value": p_value.reshape(-1),
        },
        index=pd.MultiIndex.from_product(
            [
                pd.Index(matrix.index, name="area_code"),
                pd.Index(matrix.columns, name="sector"),
            ]
        ),
    )
    return out


def _shares(
    matrix: pd.DataFrame, totals: pd.Series | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(s, x): each sector's distribution over areas (areas x sectors, columns sum to 1,
    NaN for empty sectors) and the areas' share of everything (sums to 1)."""
    values = _matrix(matrix)
    area_total = _area_totals(matrix, values, totals)
    grand = area_total.sum()
    if grand <= 0:
        raise DataError("the matrix is empty: no area has anything to measure")
    with np.errstate(divide="ignore", invalid="ignore"):
        s = values / values.sum(axis=0)[None, :]
    return s, area_total / grand


@fill(matrix_totals=_MATRIX_TOTALS)
def hoover(matrix: pd.DataFrame, *, totals: pd.Series | None = None) -> pd.Series:
    """Hoover's coefficient of localisation per sector: ``0.5 * sum_a |s_a - x_a|``.

    0 when the sector is spread like all activity, towards 1 when it sits where little
    else is. NaN for a sector with nothing.

    {matrix_totals}

    Returns
    -------
    Series ``hoover`` indexed by sector.

    Examples
    --------
    >>> m = pd.DataFrame({"13": [8, 2], "31": [2, 8]}, index=["a", "b"])
    >>> hoover(m).round(3).tolist()
    [0.3, 0.3]
    """
    s, x = _shares(matrix, totals)
    return _per_sector(
        matrix, s, 0.5 * np.abs(s - x[:, None]).sum(axis=0, where=np.isfinite(s)), "hoover"
    )


def _per_sector(
    matrix: pd.DataFrame, s: NDArray[np.float64], values: NDArray[np.float64], name: str
) -> pd.Series:
    """``values`` per sector (column of ``matrix``), NaN for sectors with nothing."""
    return pd.Series(
        np.where(np.isfinite(s).all(axis=0), values, np.nan),
        index=pd.Index(matrix.columns, name="sector"),
        name=name,
    )


@fill(matrix_totals=_MATRIX_TOTALS)
def locational_gini(matrix: pd.DataFrame, *, totals: pd.Series | None = None) -> pd.Series:
    """Krugman's locational Gini per sector.

    Areas are ordered by the sector's LQ (``s_a / x_a``); the Lorenz curve plots the
    cumulative share of the sector (``s``) against the cumulative share of all activity
    (``x``), and the Gini is one minus twice the area under it. 0 when the sector is
    distributed like all activity, towards 1 when concentrated in a small part of it.
    Areas with no activity at all carry no weight.

    {matrix_totals}

    Returns
    -------
    Series ``locational_gini`` indexed by sector.

    Examples
    --------
    >>> m = pd.DataFrame({"13": [0, 10], "31": [10, 10]}, index=["a", "b"])
    >>> locational_gini(m).round(4).tolist()
    [0.3333, 0.1667]
    """
    s, x = _shares(matrix, totals)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(x[:, None] > 0, s / x[:, None], np.inf)
    order = np.argsort(ratio, axis=0, kind="stable")
    s_sorted = np.take_along_axis(s, order, axis=0)
    x_sorted = x[order]
    cum_s = np.cumsum(s_sorted, axis=0)
    previous = np.vstack([np.zeros((1, s.shape[1])), cum_s[:-1]])
    area = (x_sorted * (cum_s + previous)).sum(axis=0)  # twice the area under the curve
    return _per_sector(matrix, s, 1.0 - area, "locational_gini")


def herfindahl(matrix: pd.DataFrame) -> pd.Series:
    """Herfindahl index of each sector over areas: ``sum_a s_a**2``.

    1 when the whole sector is in one area, ``1/n`` when spread evenly over n areas.

    Parameters
    ----------
    matrix
        Areas x sectors amounts (index: area codes, columns: sectors), non-negative.

    Returns
    -------
    Series ``herfindahl`` indexed by sector (NaN for a sector with nothing).

    Examples
    --------
    >>> m = pd.DataFrame({"13": [5, 5], "31": [10, 0]}, index=["a", "b"])
    >>> herfindahl(m).tolist()
    [0.5, 1.0]
    """
    s, _ = _shares(matrix, None)
    return _per_sector(matrix, s, np.nansum(s * s, axis=0), "herfindahl")


def krugman_specialisation(matrix: pd.DataFrame, *, totals: pd.Series | None = None) -> pd.Series:
    """Krugman's specialisation index per area: ``sum_s |v[a,s]/v[a] - V[s]/V|``.

    The distance between the area's sector mix and the mix of the whole study area: 0 for
    an area with the average mix, up to 2 for one whose activity is all in sectors absent
    elsewhere. NaN for an area with nothing.

    Parameters
    ----------
    matrix
        Areas x sectors amounts (index: area codes, columns: sectors), non-negative.
    totals
        Per-area totals over all sectors when ``matrix`` holds only some of them (each at
        least the area's row sum); the sectors left out then count as one more
        sector. Default: the row sums.

    Returns
    -------
    Series ``krugman`` indexed by area code.

    Examples
    --------
    >>> m = pd.DataFrame({"13": [8, 2], "31": [2, 8]}, index=["a", "b"])
    >>> krugman_specialisation(m).round(3).tolist()
    [0.6, 0.6]
    """
    values = _matrix(matrix)
    area_total = _area_totals(matrix, values, totals)
    grand = area_total.sum()
    if grand <= 0:
        raise DataError("the matrix is empty: no area has anything to measure")
    with np.errstate(divide="ignore", invalid="ignore"):
        mix = values / area_total[:, None]
    # sectors outside the matrix (totals > row sums) form one remaining category
    rest = 1.0 - mix.sum(axis=1)
    rest_share = 1.0 - values.sum() / grand
    index = np.abs(mix - (values.sum(axis=0) / grand)[None, :]).sum(axis=1) + np.abs(
        rest - rest_share
    )
    index[area_total == 0] = np.nan
    return pd.Series(index, index=pd.Index(matrix.index, name="area_code"), name="krugman")


def ellison_glaeser(
    firms: pd.DataFrame,
    *,
    area: str = "area_code",
    sector: str = "sector",
    size: str | None = "workers",
) -> pd.DataFrame:
    """The Ellison-Glaeser index of every sector, from the plants themselves.

    ``gamma = (G / (1 - sum_a x_a**2) - H) / (1 - H)``, with the raw concentration
    ``G = sum_a (s_a - x_a)**2`` (``s_a``: area's share of the sector's employment,
    ``x_a``: area's share of all employment) and the plant Herfindahl
    ``H = sum_k z_k**2`` (``z_k``: plant k's share of its sector). Unlike some published
    code, ``G`` is divided by ``1 - sum x**2``: without it the index is biased upwards
    wherever few areas hold most activity. Under the dartboard model (plants placed at
    random with probabilities ``x_a``, no spillovers) ``E[gamma] = 0``; about 0.05 and more
    is commonly read as highly concentrated.

    Parameters
    ----------
    firms
        One row per plant with an area code, a sector and (optionally) a size.
    area, sector, size
        Column names. ``size=None`` weights every plant equally (``H = 1/N``).

    Returns
    -------
    DataFrame indexed by sector with ``n_plants``, ``G``, ``H``, ``sum_x2`` and ``gamma``
    (NaN for a sector of one plant: ``H = 1``).

    Examples
    --------
    >>> f = pd.DataFrame({"area_code": ["a", "a", "b", "b"], "sector": ["13", "13", "31", "31"],
    ...                   "workers": [1, 1, 1, 1]})
    >>> ellison_glaeser(f)["gamma"].round(3).tolist()
    [1.0, 1.0]
    """
    missing = [c for c in (area, sector, size) if c is not None and c not in firms.columns]
    if missing:
        raise ConfigError(
            f"ellison_glaeser needs column(s) {missing}; firms have {list(firms.columns)}"
        )
    located = firms.loc[firms[area].notna() & firms[sector].notna()]
    if size is None:
        weight = np.ones(len(located))
    else:
        weight = pd.to_numeric(located[size], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(weight) | (weight < 0)
        if bad.any():
            raise ConfigError(
                f"column {size!r} has {int(bad.sum())} missing or negative value(s) "
                f"(e.g. record {located.index[np.flatnonzero(bad)[0]]!r}); "
                "clean them or pass size=None to weight plants equally"
            )
    return _eg_from_cells(
        _cells(located[area], located[sector], pd.Series(weight, index=located.index))
    )


def _cells(area: pd.Series, sector: pd.Series, weight: pd.Series) -> pd.DataFrame:
    """Plants summed per (area, sector): ``n`` plants, ``w`` their summed size and
    ``w2`` their summed squared size (all the Ellison-Glaeser index needs of plants).
    Works on text or categorical columns, without a Python object per plant."""
    # .array keeps categories as categories (no Python string per plant)
    frame = pd.DataFrame(
        {"area": area.array, "sector": sector.array, "w": weight.to_numpy(dtype=float)}
    )
    frame["w2"] = frame["w"] * frame["w"]
    grouped = frame.groupby(["area", "sector"], sort=False, observed=True)
    cells = grouped.agg(n=("w", "size"), w=("w", "sum"), w2=("w2", "sum")).reset_index()
    cells["area"] = cells["area"].astype(object)
    cells["sector"] = cells["sector"].astype(object)
    return cells


def _eg_from_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """:func:`ellison_glaeser` from plants summed per (area, sector) (:func:`_cells`)."""
    total = cells["w"].sum()
    if total <= 0:
        raise DataError("no plant has a positive size; the index is undefined")
    area_w = cells.groupby("area", sort=False)["w"].sum()
    x = area_w / total
    sum_x2 = float((x * x).sum())
    sector_w = cells.groupby("sector", sort=True)["w"].sum()
    cell = cells.groupby(["sector", "area"], sort=False)["w"].sum()
    sectors_of_cell = cell.index.get_level_values("sector")
    s = cell.to_numpy() / sector_w.reindex(sectors_of_cell).to_numpy()
    x_cell = x.reindex(cell.index.get_level_values("area")).to_numpy()
    # G = sum over all areas of (s - x)^2 = sum_{areas with the sector} [(s - x)^2 - x^2]
    #     + sum_x2, since s = 0 elsewhere
    part = pd.Series((s - x_cell) ** 2 - x_cell**2, index=sectors_of_cell)
    g = part.groupby(level=0, sort=True).sum().reindex(sector_w.index) + sum_x2
    # H = sum_k z_k^2 with z_k = w_k / W_sector: the plants' summed squares per sector
    h = cells.groupby("sector", sort=True)["w2"].sum().reindex(sector_w.index) / sector_w**2
    n_plants = cells.groupby("sector", sort=True)["n"].sum().reindex(sector_w.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = (g / (1.0 - sum_x2) - h) / (1.0 - h)
    gamma[h >= 1.0 - 1e-12] = np.nan
    out = pd.DataFrame(
        {"n_plants": n_plants.astype(np.int64), "G": g, "H": h, "sum_x2": sum_x2, "gamma": gamma}
    )
    out.index.name = "sector"
    return out


def indices_by_level(
    firms: pd.DataFrame,
    *,
    levels: Mapping[str, int] | None = None,
    measure: str = "workers",
    area: str = "area_code",
) -> pd.DataFrame:
    """Every per-sector index at several region levels, one row per level x sector.

    Areas of a coarser level are Kemendagri code prefixes of the firms' area codes
    (``33.09.03.2013`` -> kecamatan ``33.09.03``, kabupaten ``33.09``).

    Parameters
    ----------
    firms
        Plants with ``area`` (finest level code), ``sector`` and the ``measure`` column.
    levels
        Level name -> code length in characters (default: the levels of
        :data:`CODE_LEVELS` no finer than the firms' codes). Levels with only one area
        are skipped.
    measure
        ``"n_firms"`` (count plants), ``"workers"`` or ``"output"``: what shares are of.
        Missing amounts count as 0.
    area
        Column of ``firms`` with the area codes, dotted Kemendagri codes of the finest
        level; a level's areas are the codes cut to the level's length. Firms without a
        code are left out.

    Returns
    -------
    DataFrame with ``level``, ``sector``, ``n_areas``, ``n_firms``, ``amount``, ``hoover``,
    ``locational_gini``, ``herfindahl`` (over areas), ``plant_herfindahl``, ``eg_G`` and
    ``eg_gamma``.
    """
    if measure not in ("n_firms", "workers", "output"):
        raise ConfigError(f"measure={measure!r}; use 'n_firms', 'workers' or 'output'")
    if measure != "n_firms" and measure not in firms.columns:
        raise DataError(f"measure {measure!r} is not a column of the firms")
    placed = firms[area].notna()
    located = firms if placed.all() else firms.loc[placed]  # no copy of a national frame
    size = None if measure == "n_firms" else measure
    amounts = (
        np.ones(len(located))
        if size is None
        else pd.to_numeric(located[size], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    )
    # plants summed per (finest area, sector) once; every level sums these cells
    finest = _cells(located[area], located["sector"], pd.Series(amounts, index=located.index))
    return _indices_of_cells(finest, levels=levels, measure=measure)


def indices_from_counts(
    counts: pd.DataFrame,
    *,
    levels: Mapping[str, int] | None = None,
    measure: str = "n_firms",
) -> pd.DataFrame:
    """:func:`indices_by_level` of counts per area and sector instead of plants (a
    counts file: the village census, agency tables).

    Every index of area shares is the same as from the plants; the plant Herfindahl
    and Ellison-Glaeser's gamma need each plant's size: with ``measure="n_firms"``
    every plant counts 1 (so they are exact), with a summed measure (``workers``) they
    are NaN.

    Parameters
    ----------
    counts
        Indexed by (``area_code``, ``sector``) with ``n_firms`` and, for another
        measure, its sums.
    levels, measure
        As for :func:`indices_by_level`.

    Examples
    --------
    >>> counts = pd.DataFrame(
    ...     {"n_firms": [3, 1, 0, 4]},
    ...     index=pd.MultiIndex.from_tuples(
    ...         [("33.01", "10"), ("33.01", "31"), ("33.02", "10"), ("33.02", "31")],
    ...         names=["area_code", "sector"],
    ...     ),
    ... )
    >>> indices_from_counts(counts)["n_firms"].tolist()
    [3, 5]
    """
    if measure not in ("n_firms", "workers", "output"):
        raise ConfigError(f"measure={measure!r}; use 'n_firms', 'workers' or 'output'")
    if measure not in counts.columns:
        raise DataError(f"measure {measure!r} is not a column of the counts")
    whole_counts(counts["n_firms"])
    n = counts["n_firms"].to_numpy(dtype=float)
    w = counts[measure].to_numpy(dtype=float)
    cells = pd.DataFrame(
        {
            "area": counts.index.get_level_values(0).astype(str).to_numpy(dtype=object),
            "sector": counts.index.get_level_values(1).astype(str).to_numpy(dtype=object),
            "n": n,
            "w": np.nan_to_num(w, nan=0.0),
            "w2": n if measure == "n_firms" else np.full(len(n), np.nan),
        }
    )
    cells = cells.loc[cells["n"] > 0].reset_index(drop=True)
    cells["n"] = cells["n"].astype(np.int64)
    return _indices_of_cells(cells, levels=levels, measure=measure)


def indices_from_plant_sums(
    cells: pd.DataFrame, *, levels: Mapping[str, int] | None = None, measure: str = "workers"
) -> pd.DataFrame:
    """:func:`indices_by_level` from plants already summed per (finest area, sector): what
    a count of the firms block by block keeps
    (:meth:`klastergeo.analysis.tally.CellTally.plant_sums`), the same indices as from the
    plants themselves.

    Parameters
    ----------
    cells
        One row per (area, sector) with plants: ``area`` (the finest level's code),
        ``sector``, ``n`` plants, ``w`` their summed size and ``w2`` their summed
        squared size.
    levels, measure
        As for :func:`indices_by_level`.
    """
    if measure not in ("n_firms", "workers", "output"):
        raise ConfigError(f"measure={measure!r}; use 'n_firms', 'workers' or 'output'")
    cells = cells.loc[cells["area"].notna() & cells["sector"].notna()].reset_index(drop=True)
    return _indices_of_cells(cells, levels=levels, measure=measure)


def _indices_of_cells(
    finest: pd.DataFrame, *, levels: Mapping[str, int] | None, measure: str
) -> pd.DataFrame:
    """The indices of :func:`indices_by_level` from plants summed per (finest area,
    sector) (:func:`_cells`)."""
    codes = finest["area"].astype(str)
    if levels is None:
        longest = int(codes.str.len().max()) if len(codes) else 0
        levels = {name: n for name, n in CODE_LEVELS.items() if n <= longest}
    frames = []
    for name, length in levels.items():
        level_codes = codes.str[:length]
        if level_codes.nunique() < 2:
            logger.info("concentration: level %s has one area only; skipped", name)
            continue
        cells = (
            finest.assign(area=level_codes.to_numpy(dtype=object))
            .groupby(["area", "sector"], sort=False)[["n", "w", "w2"]]
            .sum(min_count=1)
            .reset_index()
        )
        matrix = cells.pivot_table(
            index="area", columns="sector", values="w", aggfunc="sum", fill_value=0.0
        )
        matrix.index.name = "area_code"
        eg = _eg_from_cells(cells)
        frame = pd.DataFrame(
            {
                "level": name,
                "n_areas": len(matrix),
                "n_firms": cells.groupby("sector")["n"].sum().reindex(matrix.columns).to_numpy(),
                "amount": matrix.sum(axis=0).to_numpy(),
                "hoover": hoover(matrix).to_numpy(),
                "locational_gini": locational_gini(matrix).to_numpy(),
                "herfindahl": herfindahl(matrix).to_numpy(),
                "plant_herfindahl": eg["H"].reindex(matrix.columns).to_numpy(),
                "eg_G": eg["G"].reindex(matrix.columns).to_numpy(),
                "eg_gamma": eg["gamma"].reindex(matrix.columns).to_numpy(),
            },
            index=pd.Index(matrix.columns, name="sector"),
        )
        frames.append(frame.reset_index())
    if not frames:
        raise DataError("no region level has at least two areas; concentration is undefined")
    out = pd.concat(frames, ignore_index=True)
    out.insert(2, "measure", measure)
    return out
