"""Cluster dynamics across survey periods: trends of a statistic per area (Mann-Kendall),
emerging hot spots, and sentra followed as lineages from one period to the next.

**Mann-Kendall trend test** (:func:`mann_kendall`). For a series x_1..x_T, S is the sum
of sign(x_j - x_i) over i < j; under no trend (exchangeable values) S has mean 0 and
variance (T(T-1)(2T+5) - sum over tie groups t(t-1)(2t+5)) / 18 (Kendall 1975). The
z-score uses the continuity correction, z = (S - sign(S)) / sqrt(Var S), and the p-value
is two-sided normal. Kendall's tau-b between the series and time is reported as well
(equal to scipy's ``kendalltau(range(T), x)``). The smallest p-value a series of T periods
can get (:func:`smallest_trend_p`: its values in order, over every way they can tie) is
0.30 at T = 3, 0.089 at T = 4, 0.028 at T = 5 and 0.0085 at T = 6, so at alpha 0.05 a
trend needs **five** periods or more (the exact permutation law of S agrees: its
smallest two-sided p is 2 / T!, 0.083 at T = 4 and 0.017 at T = 5). ArcGIS asks for ten.

**Emerging hot spots** (:func:`emerging_hot_spots`), the categories of ArcGIS Pro's
Emerging Hot Spot Analysis, from each area's bin per period (hot > 0, cold < 0, as
``spec_bin``) and the Mann-Kendall trend of its z-scores. Hot side (cold is the mirror),
with *share* the share of periods in which the area is a hot spot and *90 %* meaning
at least ``ceil(0.9 T)`` periods:

============  ===========================================================================
category      rule (checked in this order)
============  ===========================================================================
intensifying  hot in >= 90 % of the periods, the last included; z trend up (p < alpha)
diminishing   hot in >= 90 % of the periods, the last included; z trend down (p < alpha)
persistent    hot in >= 90 % of the periods, the last included; no significant trend
historical    hot in >= 90 % of the periods, but not in the last one
oscillating   hot in the last period, cold in some earlier one, < 90 % hot
new           hot in the last period only (never before), never cold
consecutive   hot in the last two or more periods in one run, never before, < 90 % hot,
              never cold
sporadic      hot in the last period, hot on and off before, never cold, < 90 % hot
no pattern    none of these
============  ===========================================================================

An area whose last period is neither hot nor cold and that is not historical has no
pattern. The result's ``category`` is ``"<rule> hot spot"`` / ``"<rule> cold spot"`` or
``"no pattern"``.

Not every category can occur with few periods (:func:`minimum_periods`, computed from the
rules and the smallest trend p-values, not written down): at alpha 0.05 ``persistent``,
``oscillating`` and ``new`` need 2 periods, ``consecutive`` and ``sporadic`` 3,
``intensifying`` and ``diminishing`` 5 (a significant trend) and ``historical`` 10 (hot in
90 % of the periods but not the last: ceil(0.9 T) <= T - 1). With four surveys no area
can be intensifying or diminishing, only persistent; :func:`possible_categories` says
which categories the periods given allow, and :func:`emerging_hot_spots` puts it in its
result's ``attrs["possible"]``.

**Lineages** (:func:`lineages`). Sentra of consecutive periods are linked when they are of
the same sector and share member areas (the overlap is at least ``min_overlap`` of the
smaller one's areas). The connected groups of links over all periods are the lineages.
A lineage's trend, in this order:

- ``split``: some sentra of it is linked to two or more of the next period;
- ``merged``: two or more sentra of one period are linked to the same one of the next;
- ``new``: it has no sentra in the first period;
- ``gone``: it has no sentra in the last period;
- ``growing`` / ``declining``: its firms in the last period differ from the first by
  more than ``change`` (default 30 %) up / down;
- ``stable``: otherwise.

Boundaries are the same in every period: the areas are matched by code, and a code that
changed between the surveys (a village split or renamed) is out of scope.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse, stats

from klastergeo.errors import DataError

__all__ = [
    "CATEGORIES",
    "TRENDS",
    "emerging_hot_spots",
    "firm_flows",
    "lineage_of",
    "lineages",
    "mann_kendall",
    "minimum_periods",
    "possible_categories",
    "smallest_trend_p",
]

logger = logging.getLogger(__name__)

#: Emerging hot-spot rules, in the order they are checked (each for hot and cold).
CATEGORIES = (
    "intensifying",
    "diminishing",
    "persistent",
    "historical",
    "oscillating",
    "new",
    "consecutive",
    "sporadic",
)
#: Lineage trends, in the order they are decided.
TRENDS = ("split", "merged", "new", "gone", "growing", "declining", "stable")

#: What a lineage sums per period besides its firms (when its sentra have them).
LINEAGE_VALUES = ("workers", "output", "investment")


def mann_kendall(values: NDArray[np.floating] | pd.DataFrame) -> pd.DataFrame:
    """The Mann-Kendall trend test of every row of ``values`` (one series per row, one
    period per column, in time order), vectorised over rows.

    Parameters
    ----------
    values
        A 2-D array or a DataFrame (rows: series, e.g. areas; columns: periods). A row
        with a missing value gets NaN statistics.

    Returns
    -------
    DataFrame
        ``S``, ``var_S``, ``z``, ``p_value`` (two-sided, normal with continuity
        correction) and ``tau`` (Kendall's tau-b against time), indexed like ``values``.

    Examples
    --------
    >>> mann_kendall(np.array([[1.0, 2, 3, 4, 5], [5, 4, 3, 2, 1]]))[["S", "tau"]]
         S  tau
    0 10.0  1.0
    1 -10.0 -1.0
    """
    index = values.index if isinstance(values, pd.DataFrame) else None
    x = np.asarray(values, dtype=float)
    if x.ndim != 2:
        raise DataError(f"mann_kendall takes one series per row (2-D); got {x.ndim}-D")
    n, t = x.shape
    if t < 2:
        raise DataError(f"a trend needs at least 2 periods; got {t}")
    i, j = np.triu_indices(t, k=1)
    signs = np.sign(x[:, j] - x[:, i])
    s = signs.sum(axis=1)
    # ties: for each value, how many equal values the row holds (tie group sizes)
    equal = x[:, :, None] == x[:, None, :]
    group = equal.sum(axis=2)  # each member of a tie group of t counts t
    # sum over groups of t(t-1)(2t+5) = sum over members of (t-1)(2t+5)
    ties = ((group - 1) * (2 * group + 5)).sum(axis=1)
    var = (t * (t - 1) * (2 * t + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
        pairs = t * (t - 1) / 2
        tied_x = ((group - 1).sum(axis=1)) / 2  # pairs tied in x
        tau = s / np.sqrt(pairs * (pairs - tied_x))
    p = 2 * stats.norm.sf(np.abs(z))
    missing = np.isnan(x).any(axis=1)
    out = pd.DataFrame(
        {"S": s, "var_S": var, "z": z, "p_value": p, "tau": tau},
        index=index if index is not None else pd.RangeIndex(n),
    )
    out.loc[missing] = np.nan
    return out


def _tie_groups(t: int, most: int | None = None) -> list[tuple[int, ...]]:
    """Every way ``t`` values can fall into tie groups: the integer partitions of ``t``
    (parts of at most ``most``), largest part first."""
    most = t if most is None else most
    if t == 0:
        return [()]
    return [
        (first, *rest)
        for first in range(min(t, most), 0, -1)
        for rest in _tie_groups(t - first, first)
    ]


def smallest_trend_p(periods: int) -> float:
    """The smallest two-sided p-value :func:`mann_kendall` gives any series of
    ``periods`` values.

    For tie groups of sizes g (an integer partition of T), S is at most
    T(T-1)/2 - sum g(g-1)/2 (the values in order: every untied pair rising), with the
    tie-corrected variance; the p-value falls as S grows, so the smallest over every
    partition is the smallest of all (exact, by enumeration of the partitions).

    Parameters
    ----------
    periods
        The number of periods T (at least 2).

    Returns
    -------
    float
        The smallest attainable p-value (1.0 when no series has a trend).

    Examples
    --------
    >>> [round(smallest_trend_p(t), 4) for t in (3, 4, 5, 6)]
    [0.2963, 0.0894, 0.0275, 0.0085]
    """
    t = int(periods)
    if t < 2:
        raise DataError(f"a trend needs at least 2 periods; got {periods!r}")
    best = 1.0
    for groups in _tie_groups(t):
        g = np.asarray(groups, dtype=float)
        var = (t * (t - 1) * (2 * t + 5) - (g * (g - 1) * (2 * g + 5)).sum()) / 18.0
        s = t * (t - 1) / 2 - (g * (g - 1) / 2).sum()
        if var > 0 and s > 0:
            best = min(best, float(2 * stats.norm.sf((s - 1) / math.sqrt(var))))
    return best


#: Periods up to which :func:`minimum_periods` looks for a category's first pattern and
#: for a significant trend (3^12 bin patterns; a trend at T = 40 reaches p < 1e-13).
_MOST_PERIODS = 12
_MOST_TREND_PERIODS = 40


@functools.lru_cache(maxsize=16)
def _minimum_periods(alpha: float) -> pd.Series:
    """:func:`minimum_periods`, computed once per ``alpha``."""
    return _search_minimum_periods(alpha)


def minimum_periods(alpha: float = 0.05) -> pd.Series:
    """The fewest periods with which each emerging hot-spot category can occur.

    Computed, not written down: for T = 2, 3, ... every sequence of hot / neither /
    cold periods (3^T of them) goes through the rules of :func:`emerging_hot_spots`,
    once without a significant trend and, where :func:`smallest_trend_p` of T is below
    ``alpha``, once with a rising and once with a falling one (z-scores rising or
    falling through hot periods are possible); a category's minimum is the first T at
    which some sequence falls in it.

    Parameters
    ----------
    alpha
        The trend's significance level (as for :func:`emerging_hot_spots`).

    Returns
    -------
    Series
        Indexed by :data:`CATEGORIES` (the same for hot and cold spots): the minimum
        number of periods (``<NA>`` if none up to 40 periods, for a tiny ``alpha``).

    Examples
    --------
    >>> minimum_periods(0.05).to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'intensifying': 5, 'diminishing': 5, 'persistent': 2, 'historical': 10,
     'oscillating': 2, 'new': 2, 'consecutive': 3, 'sporadic': 3}
    """
    if not 0 < alpha < 1:
        raise DataError(f"alpha={alpha!r} must lie in (0, 1)")
    return _minimum_periods(float(alpha)).copy()


def _search_minimum_periods(alpha: float) -> pd.Series:
    """The search of :func:`minimum_periods`."""
    found: dict[str, int] = {}
    trend_from = next(
        (t for t in range(2, _MOST_TREND_PERIODS + 1) if smallest_trend_p(t) < alpha), None
    )
    for t in range(2, _MOST_PERIODS + 1):
        patterns = np.array(list(itertools.product((-1, 0, 1), repeat=t)), dtype=float)
        none = np.zeros(len(patterns), dtype=bool)
        trends = [(none, none)]
        if trend_from is not None and t >= trend_from:
            trends += [(~none, none), (none, ~none)]
        for up, down in trends:
            for name in _categories(patterns, up, down):
                rule = name.rsplit(" ", 2)[0]
                if rule in CATEGORIES:
                    found.setdefault(rule, t)
        if all(c in found or c in ("intensifying", "diminishing") for c in CATEGORIES):
            break
    if trend_from is not None:  # the trend rules need a trend and a persistent pattern
        for rule in ("intensifying", "diminishing"):
            found[rule] = max(trend_from, found.get("persistent", 2))
    return pd.Series(
        [found.get(c, pd.NA) for c in CATEGORIES],
        index=pd.Index(CATEGORIES, name="category"),
        name="minimum_periods",
        dtype="Int64",
    )


def possible_categories(periods: int, *, alpha: float = 0.05) -> tuple[str, ...]:
    """The emerging hot-spot categories (:data:`CATEGORIES`) that can occur with
    ``periods`` periods at trend significance ``alpha`` (:func:`minimum_periods`).

    Parameters
    ----------
    periods
        The number of periods.
    alpha
        The trend's significance level.

    Examples
    --------
    >>> possible_categories(4)
    ('persistent', 'oscillating', 'new', 'consecutive', 'sporadic')
    """
    least = minimum_periods(alpha)
    return tuple(c for c in CATEGORIES if not pd.isna(least[c]) and least[c] <= periods)


def _categories(
    b: NDArray[np.float64], up: NDArray[np.bool_], down: NDArray[np.bool_]
) -> NDArray[np.object_]:
    """The category of every row of bins ``b`` (rows x periods) whose z trend is
    significantly ``up`` or ``down``: the first rule of :data:`CATEGORIES` that holds,
    hot side first."""
    t = b.shape[1]
    category = np.full(len(b), "no pattern", dtype=object)
    decided = np.zeros(len(b), dtype=bool)
    for sign, word, rising in ((1, "hot", up), (-1, "cold", down)):
        side = b * sign > 0
        other = b * sign < 0
        rules = _side_rules(side, other, rising, (down if sign > 0 else up), t)
        for name in CATEGORIES:
            hit = rules[name] & ~decided
            category[hit] = f"{name} {word} spot"
            decided |= hit
    return category


def emerging_hot_spots(bins: pd.DataFrame, z: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """ArcGIS's emerging hot-spot category of every row (e.g. an area of one sector)
    from its hot/cold bin and z-score per period (see the module's table).

    Parameters
    ----------
    bins
        One row per area, one column per period in time order: the bin (-3..3; > 0 a
        significant hot spot, < 0 a significant cold spot, 0 neither), e.g. ``spec_bin``.
    z
        The z-scores of the same rows and periods (e.g. ``spec_z``); their Mann-Kendall
        trend tells intensifying from persistent and diminishing.
    alpha
        The trend's significance level.

    Returns
    -------
    DataFrame
        ``category`` (e.g. ``"new hot spot"``, ``"no pattern"``), ``hot_share``,
        ``cold_share``, ``trend_z``, ``trend_p``, indexed like ``bins``; its
        ``attrs["possible"]`` names the categories the number of periods allows
        (:func:`possible_categories`: with four periods, not intensifying, diminishing
        or historical).

    Examples
    --------
    >>> bins = pd.DataFrame([[0, 0, 2], [2, 2, 3], [0, 2, 2], [-2, 0, 2]],
    ...                     index=["a", "b", "c", "d"])
    >>> emerging_hot_spots(bins, bins.astype(float))["category"].tolist()
    ['new hot spot', 'persistent hot spot', 'consecutive hot spot', 'oscillating hot spot']
    """
    if bins.shape != z.shape:
        raise DataError(f"bins {bins.shape} and z {z.shape} must have the same shape")
    b = np.nan_to_num(np.asarray(bins, dtype=float), nan=0.0)
    t = b.shape[1]
    if t < 2:
        raise DataError(f"emerging hot spots need at least 2 periods; got {t}")
    trend = mann_kendall(np.asarray(z, dtype=float))
    up = (trend["p_value"].to_numpy() < alpha) & (trend["S"].to_numpy() > 0)
    down = (trend["p_value"].to_numpy() < alpha) & (trend["S"].to_numpy() < 0)
    out = pd.DataFrame(
        {
            "category": _categories(b, up, down),
            "hot_share": (b > 0).mean(axis=1),
            "cold_share": (b < 0).mean(axis=1),
            "trend_z": trend["z"].to_numpy(),
            "trend_p": trend["p_value"].to_numpy(),
        },
        index=bins.index,
    )
    out.attrs["possible"] = possible_categories(t, alpha=alpha)
    return out


def _side_rules(
    side: NDArray[np.bool_],
    other: NDArray[np.bool_],
    stronger: NDArray[np.bool_],
    weaker: NDArray[np.bool_],
    t: int,
) -> dict[str, NDArray[np.bool_]]:
    """Each rule of :data:`CATEGORIES` for one side (hot or cold): ``side`` marks the
    periods significant on that side, ``other`` on the opposite one; ``stronger`` /
    ``weaker`` are the significant z trends towards / away from the side (a cold spot
    intensifies as its z falls)."""
    last = side[:, -1]
    most = side.sum(axis=1) >= math.ceil(0.9 * t)
    before = side[:, :-1]
    # the final run of periods on this side, and whether the side was reached before it
    run = np.zeros(len(side), dtype=np.int64)
    still = np.ones(len(side), dtype=bool)
    for k in range(t - 1, -1, -1):  # periods (a few), rows vectorised
        still &= side[:, k]
        run += still
    earlier = np.zeros(len(side), dtype=bool)
    for k in range(t):
        earlier |= side[:, k] & (k < t - run)
    ever_other = other[:, :-1].any(axis=1)
    return {
        "intensifying": last & most & stronger,
        "diminishing": last & most & weaker,
        "persistent": last & most,
        "historical": ~last & most,
        "oscillating": last & ~most & ever_other,
        "new": last & ~before.any(axis=1) & ~ever_other,
        "consecutive": last & (run >= 2) & ~earlier & ~most & ~ever_other,
        "sporadic": last & ~most & ~ever_other & earlier,
    }


def lineages(
    sentra: pd.DataFrame,
    *,
    periods: Sequence[object],
    min_overlap: float = 0.3,
    change: float = 0.3,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Follow the sentra from period to period: link those of consecutive periods that
    share member areas, group the links into lineages and classify each (see the
    module's list).

    Parameters
    ----------
    sentra
        One row per sentra and period: ``period``, ``sentra_id``, ``sector``,
        ``area_codes`` (``;``-joined) and ``n_firms``; ``workers``, ``output`` and
        ``investment`` are summed when present.
    periods
        The periods in time order (every ``period`` value must be one of them).
    min_overlap
        The shared areas, as a share of the smaller sentra's areas, from which two
        sentra of consecutive periods are the same lineage.
    change
        The relative change of firms from the first to the last period beyond which a
        lineage grows or declines.

    Returns
    -------
    tuple of DataFrame
        The lineages (indexed by ``lineage_id``: ``sector``, ``name`` (of its sentra in
        the last period it has one, when the sentra have names), ``trend``,
        ``area_codes`` over all periods, then per period ``sentra_id_<p>``, ``n_firms_<p>``,
        ``workers_<p>``, ``output_<p>``, ``investment_<p>``, ``output_per_worker_<p>``,
        and ``firms_growth``, the relative change of firms from its first to its last
        period with a sentra, NaN for a lineage of one period; ``workers_growth``,
        ``output_growth`` and ``investment_growth`` likewise), and the links (``period``,
        ``sentra_id``, ``next_period``, ``next_sentra_id``, ``shared_areas``,
        ``overlap``).

    Examples
    --------
    >>> s = pd.DataFrame({"period": [2019, 2023, 2023], "sentra_id": ["25-01"] * 2 + ["25-02"],
    ...     "sector": "25", "area_codes": ["a;b;c", "a;b", "x;y"], "n_firms": [100, 160, 40]})
    >>> table, _ = lineages(s, periods=[2019, 2023])
    >>> table[["trend", "n_firms_2019", "n_firms_2023"]]
                 trend  n_firms_2019  n_firms_2023
    lineage_id
    L25-01     growing         100.0         160.0
    L25-02         new           NaN          40.0
    """
    names = [unicodedata.normalize("NFKC", str(p)) for p in periods]
    if len(set(names)) < len(names):
        raise DataError(
            f"the periods {list(periods)!r} name the same period twice (as the columns "
            "n_firms_<period> name them); give every period one label"
        )
    order = {p: k for k, p in enumerate(periods)}
    frame = _checked_sentra(sentra, order)
    links = _links(frame, periods, min_overlap)
    # lineages: connected components of the links
    n = len(frame)
    graph = sparse.coo_matrix(
        (np.ones(len(links)), (links["_a"].to_numpy(), links["_b"].to_numpy())), shape=(n, n)
    )
    _, component = sparse.csgraph.connected_components(graph, directed=False)
    frame["lineage"] = component
    rows = [_lineage_row(group, links, periods, change) for _, group in frame.groupby("lineage")]
    table = pd.DataFrame(rows, columns=[*_lineage_columns(periods), "_first", "_first_id"])
    # named by sector and first appearance: L<sector>-01, -02 ... (stable across reruns)
    table = table.sort_values(["sector", "_first", "_first_id"], kind="stable")
    table["lineage_id"] = _lineage_ids(table["sector"])
    table = table.drop(columns=["_first", "_first_id"]).set_index("lineage_id")
    public_links = links.drop(columns=["_a", "_b"]).reset_index(drop=True)
    return table, public_links


def _lineage_columns(periods: Sequence[object]) -> list[str]:
    """The columns of the lineage table, in order (also when no period has a sentra)."""
    per_period = [
        f"{value}_{p}"
        for p in periods
        for value in ("sentra_id", "n_firms", *LINEAGE_VALUES, "output_per_worker")
    ]
    growth = [f"{value}_growth" for value in ("firms", *LINEAGE_VALUES)]
    return ["sector", "name", "trend", "area_codes", *per_period, *growth]


def _growth(values: Mapping[int, float], first: int, last: int) -> float:
    """The relative change from period ``first`` to ``last`` (NaN for one period, or
    from zero or a missing value)."""
    a, b = values.get(first, np.nan), values.get(last, np.nan)
    if last <= first or not np.isfinite(a) or not a:
        return float("nan")
    return float((b - a) / a)


def _lineage_ids(sectors: pd.Series) -> list[str]:
    """``L<sector>-NN``, numbered within each sector in the table's order."""
    number = sectors.groupby(sectors, sort=False).cumcount() + 1
    return [f"L{s}-{k:02d}" for s, k in zip(sectors, number, strict=True)]


def _checked_sentra(sentra: pd.DataFrame, order: Mapping[object, int]) -> pd.DataFrame:
    """The sentra with their period's position (``pos``) and area sets, checked."""
    needed = {"period", "sentra_id", "sector", "area_codes", "n_firms"}
    missing = sorted(needed - set(sentra.columns))
    if missing:
        raise DataError(
            f"lineages need column(s) {missing}; the sentra have {list(sentra.columns)}"
        )
    unknown = sorted({repr(p) for p in sentra["period"] if p not in order})
    if unknown:
        raise DataError(
            f"sentra of period(s) {', '.join(unknown)} are not among the periods "
            f"{list(order)!r} (a period must equal its label: 2019 is not '2019')"
        )
    frame = sentra.reset_index(drop=True).copy()
    frame["pos"] = frame["period"].map(order).astype(int)
    sets: list[frozenset[str]] = [frozenset(str(a).split(";")) for a in frame["area_codes"]]
    frame["area_set"] = pd.Series(sets, index=frame.index, dtype=object)
    return frame


def _links(frame: pd.DataFrame, periods: Sequence[object], min_overlap: float) -> pd.DataFrame:
    """Links between sentra of consecutive periods: same sector, shared areas at least
    ``min_overlap`` of the smaller one's."""
    rows = []
    for t in range(len(periods) - 1):  # periods (a few); sentra per period are tens
        now = frame.loc[frame["pos"] == t]
        then = frame.loc[frame["pos"] == t + 1]
        pairs = now.reset_index().merge(then.reset_index(), on="sector", suffixes=("_a", "_b"))
        sets_a: list[frozenset[str]] = pairs["area_set_a"].tolist()
        sets_b: list[frozenset[str]] = pairs["area_set_b"].tolist()
        for k in range(len(pairs)):  # sentra pairs of one sector (tens)
            shared = len(sets_a[k] & sets_b[k])
            smaller = min(len(sets_a[k]), len(sets_b[k]))
            if shared and shared >= min_overlap * smaller:
                rows.append(
                    {
                        "period": periods[t],
                        "sentra_id": pairs["sentra_id_a"].iat[k],
                        "next_period": periods[t + 1],
                        "next_sentra_id": pairs["sentra_id_b"].iat[k],
                        "shared_areas": shared,
                        "overlap": shared / smaller,
                        "_a": pairs["index_a"].iat[k],
                        "_b": pairs["index_b"].iat[k],
                    }
                )
    columns = ["period", "sentra_id", "next_period", "next_sentra_id", "shared_areas", "overlap"]
    return pd.DataFrame(rows, columns=[*columns, "_a", "_b"])


def _lineage_row(
    group: pd.DataFrame, links: pd.DataFrame, periods: Sequence[object], change: float
) -> dict[str, object]:
    """One lineage: its sentra per period, sums, and trend."""
    members = set(group.index)
    own = links.loc[links["_a"].isin(members)]
    split = bool(own["_a"].value_counts().gt(1).any())
    merged = bool(own["_b"].value_counts().gt(1).any())
    present = sorted(set(group["pos"]))
    latest = group.loc[group["pos"] == max(present)]
    row: dict[str, object] = {
        "sector": str(group["sector"].iloc[0]),
        "name": "; ".join(latest["name"].astype(str)) if "name" in group else "",
        "area_codes": ";".join(sorted(set().union(*group["area_set"]))),
    }
    firms: dict[int, float] = {}
    sums: dict[str, dict[int, float]] = {value: {} for value in LINEAGE_VALUES}
    for t, p in enumerate(periods):
        at = group.loc[group["pos"] == t]
        row[f"sentra_id_{p}"] = ";".join(at["sentra_id"].astype(str)) if len(at) else ""
        n = float(at["n_firms"].sum()) if len(at) else np.nan
        firms[t] = n
        row[f"n_firms_{p}"] = n
        for value in LINEAGE_VALUES:  # three sums
            # a sum with a missing (or suppressed) sentra value is missing, never less
            known = len(at) and value in at and bool(at[value].notna().all())
            total = float(at[value].sum()) if known else np.nan
            row[f"{value}_{p}"] = sums[value][t] = total
        workers, output = sums["workers"][t], sums["output"][t]
        row[f"output_per_worker_{p}"] = output / workers if workers else np.nan
    first, last = present[0], present[-1]
    # a change needs two periods: none for a sentra seen once
    growth = _growth(firms, first, last)
    row["firms_growth"] = growth
    for value in LINEAGE_VALUES:
        row[f"{value}_growth"] = _growth(sums[value], first, last)
    if split:
        trend = "split"
    elif merged:
        trend = "merged"
    elif first > 0:
        trend = "new"
    elif last < len(periods) - 1:
        trend = "gone"
    elif growth > change:
        trend = "growing"
    elif growth < -change:
        trend = "declining"
    else:
        trend = "stable"
    row["trend"] = trend
    row["_first"] = first
    row["_first_id"] = str(group.sort_values("pos")["sentra_id"].iloc[0])
    return row


def lineage_of(table: pd.DataFrame, periods: Sequence[object]) -> pd.Series:
    """The lineage of every sentra of every period, from the result of
    :func:`lineages`.

    Parameters
    ----------
    table
        The lineages (indexed by ``lineage_id``, with ``sentra_id_<p>`` per period).
    periods
        The periods, as given to :func:`lineages`.

    Returns
    -------
    Series
        ``lineage_id`` indexed by (``period``, ``sentra_id``).
    """
    pairs = []
    for p in periods:  # periods (a few); lineages (tens)
        for lineage, ids in table[f"sentra_id_{p}"].items():
            pairs += [(p, sid, lineage) for sid in str(ids).split(";") if sid]
    frame = pd.DataFrame(pairs, columns=["period", "sentra_id", "lineage_id"])
    return frame.set_index(["period", "sentra_id"])["lineage_id"]


def firm_flows(members: pd.DataFrame, periods: Sequence[object]) -> pd.DataFrame:
    """Entries, exits and survivors of every lineage between consecutive periods, for
    registries whose record ids name the same firm in every period.

    Parameters
    ----------
    members
        One row per firm in a sentra and period: ``period``, ``record_id`` and
        ``lineage_id``.
    periods
        The periods in time order.

    Returns
    -------
    DataFrame
        Indexed by ``lineage_id``; for each period *q* after the first:
        ``survivors_<q>`` (in the lineage in the period before and in *q*),
        ``exits_<q>`` (in it before, not in *q*) and ``entries_<q>`` (in it in *q*, not
        before). Counts are 0 where the lineage has no sentra in one of the two periods
        (its firms all enter or all exit).

    Examples
    --------
    >>> m = pd.DataFrame({"period": [1, 1, 1, 2, 2], "record_id": ["a", "b", "c", "a", "d"],
    ...                   "lineage_id": "L25-01"})
    >>> firm_flows(m, [1, 2]).loc["L25-01"].to_dict()
    {'survivors_2': 1, 'exits_2': 2, 'entries_2': 1}
    """
    keys = members[["period", "record_id", "lineage_id"]].drop_duplicates()
    lineages_seen = pd.Index(sorted(keys["lineage_id"].unique()), name="lineage_id")
    out = pd.DataFrame(index=lineages_seen)
    for before, now in itertools.pairwise(periods):  # periods (a few)
        a = keys.loc[keys["period"] == before, ["record_id", "lineage_id"]]
        b = keys.loc[keys["period"] == now, ["record_id", "lineage_id"]]
        both = a.merge(b, on=["record_id", "lineage_id"])
        survivors = both.groupby("lineage_id").size()
        out[f"survivors_{now}"] = survivors.reindex(lineages_seen, fill_value=0)
        out[f"exits_{now}"] = (
            a.groupby("lineage_id").size().reindex(lineages_seen, fill_value=0)
            - out[f"survivors_{now}"]
        )
        out[f"entries_{now}"] = (
            b.groupby("lineage_id").size().reindex(lineages_seen, fill_value=0)
            - out[f"survivors_{now}"]
        )
    return out.astype(np.int64)
