"""Cluster diagnosis: score each sentra on Porter's diamond and assign a development stage.

Before helping a cluster, policy maps its strengths and weaknesses on Porter's diamond
(see the policy study in ``DOMAIN.md``). The items, by dimension (:data:`ITEMS`):

- **factor conditions**: location, infrastructure, environment, contribution to the local
  economy, training, raw materials (availability and distance), access to finance,
  information services;
- **demand conditions**: demand trend, demand quality;
- **related and supporting industries**: local inputs, government support, business
  development services, research institutes;
- **strategy, rivalry and cooperation**: strategy, rivalry, cooperation.

**Scoring scheme.** Every item is scored on a 1-5 scale (1 very weak ... 5 very strong).
The user supplies items per firm (registry columns) or per sentra (a table keyed by
``sentra_id`` or by any member ``area_code``):

- a per-firm Likert item (values 1-5) scores the sentra's mean over its firms;
- a per-firm 0/1 item (e.g. "received training") scores ``1 + 4 * share of firms with 1``;
- a per-sentra value is taken as given (it must lie in 1-5).

A dimension's score is the mean of its items that were supplied; the overall score is the
mean of the dimensions scored. An item at or above ``strong`` (3.5) is a strength, at or
below ``weak`` (2.5) a weakness.

**Stage** (from the scores, thresholds are parameters):

- ``mature``: overall >= 3.5 and no dimension below 3.0;
- ``advance``: overall >= 2.5 (and not mature);
- ``survival``: below that.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from klastergeo.errors import ConfigError, DataError
from klastergeo.schema import sentra_ids

__all__ = ["DIMENSIONS", "ITEMS", "StageRules", "score"]

logger = logging.getLogger(__name__)

#: Diamond dimensions and their items (the keys users map their columns to).
ITEMS: dict[str, tuple[str, ...]] = {
    "factor_conditions": (
        "location",
        "infrastructure",
        "environment",
        "local_economy",
        "training",
        "raw_materials",
        "finance",
        "information",
    ),
    "demand_conditions": ("demand_trend", "demand_quality"),
    "related_supporting": ("local_inputs", "government_support", "bds", "research"),
    "strategy_cooperation": ("strategy", "rivalry", "cooperation"),
}
DIMENSIONS = tuple(ITEMS)
_DIMENSION_OF = {item: dim for dim, items in ITEMS.items() for item in items}


@dataclass(frozen=True)
class StageRules:
    """Thresholds of the stage and of strengths/weaknesses, on the 1-5 scale."""

    mature_overall: float = 3.5
    mature_min_dimension: float = 3.0
    advance_overall: float = 2.5
    strong: float = 3.5
    weak: float = 2.5

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 1.0 <= float(value) <= 5.0:
                raise ConfigError(f"diagnosis.{name}={value!r} must lie on the 1-5 scale")
        if self.advance_overall > self.mature_overall:
            raise ConfigError("diagnosis.advance_overall must not exceed mature_overall")


def _check_items(mapping: Mapping[str, str], where: str) -> None:
    unknown = sorted(set(mapping) - set(_DIMENSION_OF))
    if unknown:
        raise ConfigError(
            f"{where} has unknown diamond item(s) {unknown}; known items: {sorted(_DIMENSION_OF)}"
        )


def _firm_scores(firms: pd.DataFrame, items: Mapping[str, str], sentra: str) -> pd.DataFrame:
    """Per-sentra 1-5 scores of the per-firm items."""
    missing = [c for c in items.values() if c not in firms.columns]
    if missing:
        raise ConfigError(
            f"diagnosis item column(s) {missing} are not in the registry; "
            f"columns: {list(firms.columns)}"
        )
    inside = firms.loc[firms[sentra].notna()]
    out = {}
    for item, column in items.items():  # a loop over items (tens), not firms
        values = pd.to_numeric(inside[column], errors="coerce")
        present = values.dropna()
        binary = present.isin([0, 1]).all()
        if not binary and not present.between(1, 5).all():
            bad = present[~present.between(1, 5)]
            raise ConfigError(
                f"diagnosis item {item!r} (column {column!r}) has value(s) "
                f"{sorted(bad.unique().tolist())[:5]}; use 1-5 scores or 0/1"
            )
        mean = values.groupby(inside[sentra].astype(str)).mean()
        out[item] = 1.0 + 4.0 * mean if binary else mean
    return pd.DataFrame(out)


def _sentra_scores(
    table: pd.DataFrame, sentra: pd.DataFrame, items: Mapping[str, str]
) -> pd.DataFrame:
    """Per-sentra items given in a table keyed by sentra_id or a member area_code."""
    if "sentra_id" in table.columns:
        key = table["sentra_id"].astype(str)
    elif "area_code" in table.columns:
        lookup = {
            code: sid
            for sid, codes in zip(sentra_ids(sentra), sentra["area_codes"], strict=True)
            for code in str(codes).split(";")
        }
        key = table["area_code"].astype(str).map(lookup)
        if key.isna().any():
            logger.warning(
                "diagnosis: %d row(s) name an area in no sentra (%s); ignored",
                int(key.isna().sum()),
                ", ".join(table.loc[key.isna(), "area_code"].astype(str).head(3)),
            )
    else:
        raise DataError("the per-sentra diagnosis table needs a sentra_id or area_code column")
    missing = [c for c in items.values() if c not in table.columns]
    if missing:
        raise DataError(f"diagnosis table lacks column(s) {missing}")
    values = table[list(items.values())].apply(pd.to_numeric, errors="coerce")
    values.columns = list(items)
    bad = values.notna() & ~values.apply(lambda c: c.between(1, 5))
    if bad.any().any():
        raise ConfigError(
            f"diagnosis table has {int(bad.sum().sum())} score(s) outside 1-5 "
            f"(items {sorted(values.columns[bad.any()].tolist())})"
        )
    values = values.loc[key.notna().to_numpy()]
    return values.groupby(key.dropna().to_numpy()).mean()


def score(
    sentra: pd.DataFrame,
    *,
    firms: pd.DataFrame | None = None,
    firm_items: Mapping[str, str] | None = None,
    table: pd.DataFrame | None = None,
    table_items: Mapping[str, str] | None = None,
    rules: StageRules | None = None,
) -> pd.DataFrame:
    """Diamond scores and stage of every sentra.

    Parameters
    ----------
    sentra
        The sentra table: indexed by ``sentra_id`` (or with a ``sentra_id`` column), with
        ``area_codes``.
    firms, firm_items
        Firms with ``sentra_id`` and the item columns; ``firm_items`` maps an item of
        :data:`ITEMS` to its column.
    table, table_items
        Per-sentra scores (1-5) keyed by ``sentra_id`` or ``area_code``; they take
        precedence over firm items for the same item.
    rules
        Stage and strength thresholds.

    Returns
    -------
    DataFrame indexed by ``sentra_id``: one column per item scored, one per dimension
    (``dim_<name>``), ``overall``, ``stage``, ``strengths`` and ``weaknesses`` (``;``-joined
    items), ``n_items``. Sentra without any item have NaN scores and stage ``unknown``.

    Examples
    --------
    >>> s = pd.DataFrame({"sentra_id": ["13-01"], "area_codes": ["a"]})
    >>> t = pd.DataFrame({"sentra_id": ["13-01"], "infra": [4], "trend": [5], "coop": [4]})
    >>> out = score(s, table=t, table_items={"infrastructure": "infra",
    ...     "demand_trend": "trend", "cooperation": "coop"})
    >>> round(out.loc["13-01", "overall"], 3), out.loc["13-01", "stage"]
    (np.float64(4.333), 'mature')
    """
    rules = rules or StageRules()
    parts = []
    if firm_items:
        _check_items(firm_items, "diagnosis.items")
        if firms is None:
            raise ConfigError("firm_items were given without firms")
        parts.append(_firm_scores(firms, firm_items, "sentra_id"))
    if table_items:
        _check_items(table_items, "diagnosis.table_items")
        if table is None:
            raise ConfigError("table_items were given without a table")
        parts.append(_sentra_scores(table, sentra, table_items))
    ids = sentra_ids(sentra)
    items = pd.DataFrame(index=ids)
    for part in parts:  # later parts (the per-sentra table) take precedence
        for column in part.columns:
            items[column] = part[column].reindex(ids)
    ordered = [i for d in DIMENSIONS for i in ITEMS[d] if i in items.columns]
    items = items[ordered]
    out = items.copy()
    for dim in DIMENSIONS:
        cols = [i for i in ITEMS[dim] if i in items.columns]
        out[f"dim_{dim}"] = items[cols].mean(axis=1) if cols else np.nan
    dims = out[[f"dim_{d}" for d in DIMENSIONS]]
    out["overall"] = dims.mean(axis=1)
    out["n_items"] = items.notna().sum(axis=1)
    lowest = dims.min(axis=1)
    out["stage"] = np.select(
        [
            out["overall"].isna(),
            (out["overall"] >= rules.mature_overall) & (lowest >= rules.mature_min_dimension),
            out["overall"] >= rules.advance_overall,
        ],
        ["unknown", "mature", "advance"],
        "survival",
    )
    strong = items >= rules.strong
    weak = items <= rules.weak
    names = np.asarray(items.columns, dtype=object)
    out["strengths"] = [";".join(names[row]) for row in strong.to_numpy(dtype=bool)]
    out["weaknesses"] = [";".join(names[row]) for row in weak.to_numpy(dtype=bool)]
    return out
