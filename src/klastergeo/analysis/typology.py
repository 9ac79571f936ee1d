"""Markusen's (1996) typology of each sentra, from measurable rules with the evidence shown.

Markusen distinguishes four kinds of industrial district:

- **Marshallian**: many small, locally owned firms, trading with each other;
- **hub-and-spoke**: one or a few dominant (locally owned) firms with suppliers around them;
- **satellite platform**: branch plants of firms owned elsewhere, with few local links;
- **state-anchored**: built around a public institution or state firm.

Each type has a *strong* rule and a weaker *trait* rule over the evidence computed from the
sentra's firms (thresholds are the fields of :class:`TypologyRules`):

==================  ============================================  =============================
type                strong                                        trait
==================  ============================================  =============================
Marshallian         top-3 share < 0.30, local ownership >= 0.80,  top-3 share < 0.50, local
                    local linkage >= 0.50                         ownership >= 0.60
hub-and-spoke       top-3 share >= 0.50 and the top 3 mostly      top-3 share >= 0.30 and the
                    local (>= 0.50 of their workers)              top 3 mostly local
satellite platform  branch share >= 0.50, local linkage < 0.50    branch share >= 0.20
state-anchored      state share >= 0.30                           state share >= 0.10
==================  ============================================  =============================

*top-3 share*: workers of the three largest firms over all workers; *local / branch / state
share*: workers of firms by ownership. Every type is defined by ownership (a Marshallian
district is locally owned, a satellite platform is not), so without an ownership column the
type is ``not_available`` rather than guessed; *local linkage*: share of firms buying from
local suppliers and/or selling to local buyers (the mean of the linkage columns given; a
rule on linkage is skipped when there is none).

A sentra whose only strong type is also its only trait gets that type; anything else is
``mixed``: its ``primary`` type is the strong one (or, without one, Marshallian when it is
among the traits, else the first trait in the order state, satellite, hub, Marshallian), and
its label (:func:`klastergeo.publish.messages.typology_label`, in the report's language)
names the other traits: "Marshallian with hub-and-spoke traits" (Tumang's result).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from klastergeo.errors import ConfigError, DataError

__all__ = ["OWNERSHIP", "TYPES", "TypologyRules", "classify", "evidence"]

logger = logging.getLogger(__name__)

#: The four types, in the precedence used to pick a mixed sentra's primary type.
TYPES = ("state_anchored", "satellite_platform", "hub_and_spoke", "marshallian")
#: Accepted ownership values (case-insensitive; Indonesian and English) -> category.
OWNERSHIP = {
    "local": "local",
    "lokal": "local",
    "swasta lokal": "local",
    "branch": "branch",
    "cabang": "branch",
    "outside": "branch",
    "asing": "branch",
    "pma": "branch",
    "state": "state",
    "negara": "state",
    "bumn": "state",
    "bumd": "state",
    "public": "state",
    "pemerintah": "state",
}


@dataclass(frozen=True)
class TypologyRules:
    """Thresholds of the typology rules (shares between 0 and 1); see the module table."""

    marshallian_top3: float = 0.30
    marshallian_top3_trait: float = 0.50
    marshallian_local: float = 0.80
    marshallian_local_trait: float = 0.60
    marshallian_linkage: float = 0.50
    hub_top3: float = 0.50
    hub_top3_trait: float = 0.30
    hub_top_local: float = 0.50
    satellite_branch: float = 0.50
    satellite_branch_trait: float = 0.20
    satellite_linkage: float = 0.50
    state_share: float = 0.30
    state_share_trait: float = 0.10

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0.0 <= float(value) <= 1.0:
                raise ConfigError(f"typology.{name}={value!r} must be a share between 0 and 1")


def evidence(
    firms: pd.DataFrame,
    *,
    sentra: str = "sentra_id",
    workers: str = "workers",
    ownership: str | None = None,
    linkages: tuple[str, ...] = (),
) -> pd.DataFrame:
    """The measured traits of every sentra, from its firms.

    Parameters
    ----------
    firms
        Firms with a ``sentra`` column (missing for firms in no sentra) and ``workers``.
    sentra
        Column of each firm's sentra id; firms where it is missing are left out.
    workers
        Column of each firm's workers; must be a number, zero or more, for every sentra
        firm, as the shares are shares of workers.
    ownership
        Column with each firm's ownership (values of :data:`OWNERSHIP`); None: ownership
        is unknown, and so are the shares that need it (NaN), and :func:`classify` says
        the type is not available rather than guess it.
    linkages
        0/1 columns of local links (e.g. buys from local suppliers, sells to local buyers).

    Returns
    -------
    DataFrame indexed by ``sentra_id``: ``n_firms``, ``workers``, ``top3_share``,
    ``herfindahl`` (of workers), ``top3_local_share``, ``local_share``, ``branch_share``,
    ``state_share`` and ``local_linkage`` (NaN without linkage columns), and
    ``ownership_known`` (False without an ownership column).
    """
    needed = [sentra, workers, *([ownership] if ownership else []), *linkages]
    missing = [c for c in needed if c not in firms.columns]
    if missing:
        raise DataError(f"typology needs column(s) {missing}; the firms have {list(firms.columns)}")
    inside = firms.loc[firms[sentra].notna()]
    size = pd.to_numeric(inside[workers], errors="coerce")
    if size.isna().any() or (size < 0).any():
        bad = inside.index[(size.isna() | (size < 0)).to_numpy()]
        raise DataError(
            f"column {workers!r} has {len(bad)} missing or negative value(s) among sentra "
            f"firms (e.g. record {bad[0]!r}); typology needs firm sizes"
        )
    if ownership:
        text = inside[ownership].astype(str).str.strip().str.lower()
        kind = text.map(OWNERSHIP)
        unknown = sorted(set(text[kind.isna()]))
        if unknown:
            raise ConfigError(
                f"column {ownership!r} has value(s) {unknown[:5]} that are not an ownership; "
                f"accepted: {sorted(OWNERSHIP)}"
            )
    else:
        kind = pd.Series("unknown", index=inside.index)
    frame = pd.DataFrame(
        {
            "sentra": inside[sentra].astype(str).to_numpy(),
            "w": size.to_numpy(dtype=float),
            "kind": kind.to_numpy(dtype=object),
        }
    )
    if linkages:
        links = inside[list(linkages)].apply(pd.to_numeric, errors="coerce")
        frame["link"] = (links.fillna(0).to_numpy() > 0).any(axis=1)
    frame = frame.sort_values(["sentra", "w"], ascending=[True, False], kind="stable")
    grouped = frame.groupby("sentra", sort=True)
    total = grouped["w"].sum()
    top = frame.groupby("sentra", sort=True).head(3)
    top_total = top.groupby("sentra")["w"].sum()
    top_local = top.loc[top["kind"] == "local"].groupby("sentra")["w"].sum()
    share = frame.assign(s=frame["w"] / frame["sentra"].map(total))
    by_kind = frame.pivot_table(
        index="sentra", columns="kind", values="w", aggfunc="sum", fill_value=0.0
    ).reindex(columns=["local", "branch", "state"], fill_value=0.0)
    known = np.nan if ownership is None else 1.0  # shares of an unknown ownership: NaN
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "n_firms": grouped.size(),
                "workers": total,
                "top3_share": top_total / total,
                "herfindahl": (share["s"] ** 2).groupby(share["sentra"]).sum(),
                "top3_local_share": top_local.reindex(total.index, fill_value=0.0)
                / top_total
                * known,
                "local_share": by_kind["local"] / total * known,
                "branch_share": by_kind["branch"] / total * known,
                "state_share": by_kind["state"] / total * known,
                "local_linkage": (
                    grouped["link"].mean() if linkages else pd.Series(np.nan, index=total.index)
                ),
                "ownership_known": ownership is not None,
            }
        )
    out.index.name = "sentra_id"
    return out


def classify(measured: pd.DataFrame, *, rules: TypologyRules | None = None) -> pd.DataFrame:
    """Markusen type of every sentra from :func:`evidence`, with the rules that fired.

    Parameters
    ----------
    measured
        The result of :func:`evidence`, or any table with its ``top3_share``,
        ``top3_local_share``, ``local_share``, ``branch_share``, ``state_share`` and
        ``local_linkage`` columns (NaN linkage skips the rules on linkage).
    rules
        The thresholds; None uses the defaults of :class:`TypologyRules`.

    Returns
    -------
    ``measured`` with ``typology`` (one of :data:`TYPES`, ``mixed``, or ``not_available``
    where ownership is unknown: NaN ``local_share``), ``primary``, ``traits`` (``;``-joined
    types whose trait rule holds) and ``strong`` (types whose strong rule holds); its
    words in a language are :func:`klastergeo.publish.messages.typology_label`'s.

    Examples
    --------
    >>> m = pd.DataFrame({"top3_share": [0.1, 0.8], "top3_local_share": [1.0, 1.0],
    ...     "local_share": [1.0, 1.0], "branch_share": [0.0, 0.0], "state_share": [0.0, 0.0],
    ...     "local_linkage": [0.7, 0.3]}, index=["13-01", "12-01"])
    >>> classify(m)["typology"].tolist()
    ['marshallian', 'hub_and_spoke']
    """
    r = rules or TypologyRules()
    top3 = measured["top3_share"]
    top_local = measured["top3_local_share"]
    local = measured["local_share"]
    branch = measured["branch_share"]
    state = measured["state_share"]
    linkage = measured["local_linkage"]
    no_link = linkage.isna()
    strong = pd.DataFrame(
        {
            "marshallian": (top3 < r.marshallian_top3)
            & (local >= r.marshallian_local)
            & (no_link | (linkage >= r.marshallian_linkage)),
            "hub_and_spoke": (top3 >= r.hub_top3) & (top_local >= r.hub_top_local),
            "satellite_platform": (branch >= r.satellite_branch)
            & (no_link | (linkage < r.satellite_linkage)),
            "state_anchored": state >= r.state_share,
        }
    )
    trait = pd.DataFrame(
        {
            "marshallian": (top3 < r.marshallian_top3_trait) & (local >= r.marshallian_local_trait),
            "hub_and_spoke": (top3 >= r.hub_top3_trait) & (top_local >= r.hub_top_local),
            "satellite_platform": branch >= r.satellite_branch_trait,
            "state_anchored": state >= r.state_share_trait,
        }
    )
    trait = trait | strong
    # ownership unknown: said by evidence(), or, in a table built by hand, no local share
    known = measured["ownership_known"] if "ownership_known" in measured else local.notna()
    unknown = ~known.to_numpy(dtype=bool)
    rows = []
    for k, key in enumerate(measured.index):  # one row per sentra: tens, not records
        if unknown[k]:
            rows.append(_row("not_available", "", [], []))
            continue
        s = [t for t in TYPES if strong.at[key, t]]
        t = [x for x in TYPES if trait.at[key, x]]
        if len(s) == 1 and t == s:
            typology = primary = s[0]
        else:
            typology = "mixed"
            if len(s) == 1:
                primary = s[0]
            elif "marshallian" in t and not s:
                primary = "marshallian"
            else:
                primary = (s or t or ["marshallian"])[0]
        rows.append(_row(typology, primary, s, t))
    return measured.join(pd.DataFrame(rows, index=measured.index))


def _row(typology: str, primary: str, strong: list[str], traits: list[str]) -> dict[str, str]:
    """One sentra's classification."""
    return {
        "typology": typology,
        "primary": primary,
        "strong": ";".join(strong),
        "traits": ";".join(traits),
    }
