"""The demo's planted truth against what a run found: which planted sentra, types,
stages, related industries and lineage trends ``klastergeo demo`` recovered.

``make demo`` runs ``python -m tests.worlds.demo_truth maps/demo`` after the demo, which
reads the run's outputs (``periods/<year>/sentra.csv``, ``related.csv``,
``dynamics.csv``) and the truth written beside the registry (``<out>-input/truth.csv``,
``truth_<year>.csv``) and prints the recovery::

    planted sentra recovered: 10/10; reported sentra matching no planted one: 0; ...
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from klastergeo.io.datasets.demo import DEMO_PERIODS, EXPECTED_TRENDS
from klastergeo.schema import sentra_ids


def score_recovery(truth: pd.DataFrame, sentra: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Which planted sentra a run found, and how many reported sentra match none.

    A planted sentra is *found* when a reported sentra of the same sector contains its
    core village; a reported sentra *matches* when it shares a village with a planted
    sentra of its sector. Returns one row per planted sentra (``found``, ``sentra_id``,
    ``members_found``, ``members_planted``, ``members_reported`` - areas of the found
    sentra - and, when both tables have them, ``typology``/``stage`` found and
    ``typology_ok``/``stage_ok``) and
    the number of unmatched reported sentra. See :func:`recovery_rates` for recall and
    precision.

    Parameters
    ----------
    truth
        The planted sentra (:attr:`~klastergeo.io.datasets.demo.DemoRegistry.truth`): ``key``, ``sector``,
        ``area_codes`` (``;``-separated), ``core_area`` and optionally ``typology`` and
        ``stage``.
    sentra
        The sentra a run reported, indexed by ``sentra_id`` (or with a ``sentra_id``
        column, as ``sentra.csv`` reads back): ``sector``, ``area_codes`` (``;``-separated)
        and optionally ``typology`` and ``stage``.

    Returns
    -------
    tuple
        The scores (DataFrame) and the number of unmatched reported sentra.
    """
    rows = []
    matched: set[str] = set()
    ids = sentra_ids(sentra)
    members: dict[str, set[str]] = {
        sid: set(str(codes).split(";"))
        for sid, codes in zip(ids, sentra["area_codes"], strict=True)
    }
    sectors = {sid: str(v) for sid, v in zip(ids, sentra["sector"], strict=True)}
    types = dict(zip(ids, sentra["typology"], strict=True)) if "typology" in sentra else {}
    stages = dict(zip(ids, sentra["stage"], strict=True)) if "stage" in sentra else {}
    for planted in truth.itertuples():
        planted_codes = set(str(planted.area_codes).split(";"))
        same_sector = [sid for sid in members if sectors[sid] == str(planted.sector)]
        matched.update(sid for sid in same_sector if members[sid] & planted_codes)
        hit = next((sid for sid in same_sector if planted.core_area in members[sid]), None)
        row: dict[str, object] = {
            "key": planted.key,
            "sector": planted.sector,
            "found": hit is not None,
            "sentra_id": hit,
            "members_found": len(members[hit] & planted_codes) if hit else 0,
            "members_planted": len(planted_codes),
            "members_reported": len(members[hit]) if hit else 0,
        }
        if types and "typology" in truth.columns:
            row["typology"] = types.get(hit) if hit else None
            row["typology_ok"] = hit is not None and types.get(hit) == planted.typology
        if stages and "stage" in truth.columns:
            row["stage"] = stages.get(hit) if hit else None
            row["stage_ok"] = hit is not None and stages.get(hit) == planted.stage
        rows.append(row)
    return pd.DataFrame(rows), len(set(members) - matched)


def recovery_rates(scores: pd.DataFrame, unmatched: int) -> dict[str, float]:
    """Recall and precision of sentra and of their member areas, from
    :func:`score_recovery`.

    ``sentra_recall``: planted sentra found; ``sentra_precision``: reported sentra that
    match a planted one; ``area_recall``: planted villages inside the sentra found for
    them; ``area_precision``: areas of those sentra that are planted villages;
    ``typology_accuracy``: planted sentra found with their planted type;
    ``stage_accuracy``: planted sentra found with their planted development stage. The
    last two are given only when ``scores`` has their columns.

    Parameters
    ----------
    scores, unmatched
        The two results of :func:`score_recovery`.

    Returns
    -------
    dict
        Rates between 0 and 1 by name (NaN for the sentra rates when nothing was planted
        or reported).
    """
    found = int(scores["found"].sum())
    reported = found + unmatched
    out = {
        "sentra_recall": found / len(scores) if len(scores) else float("nan"),
        "sentra_precision": found / reported if reported else float("nan"),
        "area_recall": float(scores["members_found"].sum() / scores["members_planted"].sum()),
        "area_precision": float(
            scores["members_found"].sum() / max(int(scores["members_reported"].sum()), 1)
        ),
    }
    if "typology_ok" in scores.columns:
        out["typology_accuracy"] = float(scores["typology_ok"].mean())
    if "stage_ok" in scores.columns:
        out["stage_accuracy"] = float(scores["stage_ok"].mean())
    return out


def score_trends(lineages: pd.DataFrame, truths: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Which planted sentra's lineage has its planted trend (:data:`~klastergeo.io.datasets.demo.EXPECTED_TRENDS`;
    the others stable).

    A planted sentra's lineage is the one of its sector whose areas hold the sentra's
    core village (in any survey's truth).

    Parameters
    ----------
    lineages
        The lineages (:func:`klastergeo.analysis.dynamics.lineages`), indexed by ``lineage_id``.
    truths
        The planted truth of every survey (``key``, ``sector``, ``core_area``).

    Returns
    -------
    DataFrame
        Per planted key: ``expected``, ``trend`` (empty when no lineage holds it),
        ``lineage_id`` and ``trend_ok``.
    """
    planted = pd.concat(truths, ignore_index=True).drop_duplicates("key")
    members = lineages["area_codes"].astype(str).str.split(";")
    rows = []
    for p in planted.itertuples(index=False):  # planted sentra (about ten)
        holds = (lineages["sector"].astype(str) == p.sector) & members.map(
            lambda codes, core=p.core_area: core in codes
        )
        found = lineages.index[holds.to_numpy()]
        trend = str(lineages.loc[found[0], "trend"]) if len(found) else ""
        expected = EXPECTED_TRENDS.get(str(p.key), "stable")
        rows.append(
            {
                "key": p.key,
                "expected": expected,
                "trend": trend,
                "lineage_id": found[0] if len(found) else "",
                "trend_ok": trend == expected,
            }
        )
    return pd.DataFrame(rows)


def score_related(
    scores: pd.DataFrame, truth: pd.DataFrame, related: pd.DataFrame | None
) -> pd.DataFrame:
    """Whether each planted related industry was found co-located (significant, CLQ
    above 1) with the sentra the run matched to its planted sentra.

    Parameters
    ----------
    scores
        :func:`score_recovery`'s rows (``key``, ``sentra_id`` of the found sentra).
    truth
        The planted sentra with their ``related`` sectors (``;``-joined).
    related
        The run's ``related.csv`` table, or None when co-location was not measured.

    Returns
    -------
    DataFrame
        One row per planted related industry: ``key``, ``related_sector``, ``found``.
    """
    matched = scores.set_index("key")["sentra_id"]
    hits: set[tuple[object, object]] = set()
    if related is not None and len(related):
        shown = related.loc[related["significant"].astype(bool)]
        hits = set(zip(shown["sentra_id"], shown["related_sector"], strict=True))
    rows = [
        {"key": key, "related_sector": sector, "found": (matched.get(key), sector) in hits}
        for key, sectors in zip(truth["key"], truth["related"], strict=True)  # planted (ten)
        for sector in filter(None, str(sectors).split(";"))
    ]
    return pd.DataFrame(rows, columns=["key", "related_sector", "found"])


@dataclass(frozen=True)
class Recovery:
    """How much of the planted truth a demo run recovered."""

    scores: pd.DataFrame  # score_recovery's rows
    unmatched: int  # reported sentra matching no planted one
    rates: dict[str, float]  # recovery_rates
    trends: pd.DataFrame | None = None  # score_trends of the lineages
    related: pd.DataFrame | None = None  # score_related of the planted value chains

    def lines(self) -> list[str]:
        """The recovery, as ``make demo`` prints it."""
        scores, rates = self.scores, self.rates
        out = [
            f"planted sentra recovered: {int(scores['found'].sum())}/{len(scores)}; "
            f"reported sentra matching no planted one: {self.unmatched}; "
            f"member villages: recall {rates['area_recall']:.2f}, "
            f"precision {rates['area_precision']:.2f}"
        ]
        for column, what in (("typology_ok", "Markusen types"), ("stage_ok", "development stages")):
            if column in scores.columns:
                out.append(f"planted {what} recovered: {int(scores[column].sum())}/{len(scores)}")
        if self.related is not None and len(self.related):
            ok = int(self.related["found"].sum())
            out.append(f"planted related industries co-located: {ok}/{len(self.related)}")
        if self.trends is not None:
            ok = int(self.trends["trend_ok"].sum())
            out.append(
                f"planted lineage trends recovered ({' to '.join(DEMO_PERIODS)}): "
                f"{ok}/{len(self.trends)}"
            )
        return out


def _read(path: Path) -> pd.DataFrame:
    """A CSV as text (codes keep their leading zeros, empty cells stay empty)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def score_run(out: str | Path, inputs: str | Path | None = None) -> Recovery:
    """Score the demo run in ``out`` against the truth in ``inputs`` (default:
    ``<out>-input``, where ``klastergeo demo`` writes it)."""
    out = Path(out)
    inputs = Path(inputs) if inputs is not None else out.parent / f"{out.name}-input"
    before, now = DEMO_PERIODS
    current = out / "periods" / now
    truth = _read(inputs / "truth.csv")
    scores, unmatched = score_recovery(truth, _read(current / "sentra.csv"))
    related_path = current / "related.csv"
    related = None
    if related_path.exists():
        related = _read(related_path)
        related["significant"] = related["significant"].map({"True": True, "False": False})
    lineages = _read(out / "dynamics.csv").set_index("lineage_id")
    return Recovery(
        scores=scores,
        unmatched=unmatched,
        rates=recovery_rates(scores, unmatched),
        trends=score_trends(lineages, [_read(inputs / f"truth_{before}.csv"), truth]),
        related=score_related(scores, truth, related),
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Print what the demo run in OUT recovered of its planted truth."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.worlds.demo_truth", description=main.__doc__
    )
    parser.add_argument("out", type=Path, help="the demo's --out folder")
    parser.add_argument("--data", type=Path, help="the demo's --data folder (default: <out>-input)")
    args = parser.parse_args(argv)
    for line in score_run(args.out, args.data).lines():
        print(line)


if __name__ == "__main__":
    main()
