"""The run's report: one HTML page (jinja2) with data quality, the sentra, global
statistics, model tables, the map embedded, figures, and the method and its parameters.

:func:`build_report` takes what a run produced (its ``summary.json`` content and tables)
and returns the page; the pipeline writes it as ``report.html`` next to ``map.html``.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from klastergeo import kbli
from klastergeo.analysis.regression import ModelResult
from klastergeo.publish import messages
from klastergeo.publish.record import (
    ConfigRecord,
    LeftOut,
    NearMisses,
    RecordsRecord,
    RoleRecord,
    RunRecord,
)
from klastergeo.schema import SENTRA_INDEX

__all__ = ["MIN_AUC", "Figure", "adjusted_count_r2", "build_report", "measure_summary"]

logger = logging.getLogger(__name__)

#: The report's texts per language (the ``report`` group of the catalogue).
TEXT = messages.MESSAGES["report"]
#: The sentra table's columns, in order (headers from the catalogue's ``columns``).
_SENTRA_COLUMNS = (
    "sentra_id",
    "name",
    "sector",
    "sector_label",
    "n_firms",
    "n_areas",
    "lq",
    "typology_label",
    "stage",
    "p_cluster",
)
#: Discrimination (AUC) below which the models are shown only when asked for: 0.7 is
#: Hosmer and Lemeshow's "acceptable" (Applied Logistic Regression, 3rd ed., 2013, 5.2.4).
MIN_AUC = 0.7
#: Sentra with a section of their own in the value-chain part (the largest by firms;
#: the rest are in related.csv and missing_links.csv).
MAX_CHAIN_SECTIONS = 30


@dataclass(frozen=True)
class Figure:
    """A figure of the report: its path relative to the report, a caption, and its kind
    (``sentra``: the static map of the sentra, shown with the map, in print too; empty:
    a figure of the figures section)."""

    src: str
    caption: str
    kind: str = ""


#: The documentation pages the report links (paths under ``docs/``, :func:`messages.docs_url`),
#: by the catalogue key of their link's text.
DOCS_PAGES = {
    "docs_sentra": "method/sentra",
    "docs_statistics": "method/statistics",
    "docs_outputs": "guide/outputs",
}


def _sentra_sentence(sentra: pd.DataFrame, lang: str) -> str:
    """The sentra in one sentence: how many, in how many sectors, the largest (empty
    without sentra)."""
    if not len(sentra) or "n_firms" not in sentra:
        return ""
    largest = sentra.sort_values("n_firms", ascending=False, kind="stable").iloc[0]
    return TEXT[lang]["sentra_sentence"].format(
        n=messages.number(len(sentra), lang),
        k=messages.number(sentra["sector"].nunique(), lang),
        name=largest.get("name", ""),
        sector=largest.get("sector_label", largest.get("sector", "")),
        firms=messages.number(largest["n_firms"], lang),
        areas=messages.number(largest.get("n_areas", 1), lang),
    )


def _quality_sentence(records: RecordsRecord, reasons: Mapping[str, int], lang: str) -> str:
    """The data quality in one sentence: kept of read, rejected, the commonest reason."""
    t = TEXT[lang]
    read = records.read
    if not read:
        return ""
    kept = records.kept
    top = ""
    if reasons:
        reason, count = max(reasons.items(), key=lambda item: item[1])
        top = t["top_reason"].format(
            reason=messages.label("reasons", reason, lang), count=messages.number(count, lang)
        )
    return t["quality_sentence"].format(
        kept=messages.number(kept, lang),
        read=messages.number(read, lang),
        share=messages.number(100 * kept / read, lang, 1),
        rejected=messages.number(records.rejected, lang),
        top=top,
    )


def _unit_text(entry: RoleRecord, lang: str) -> str:
    """A measure's unit and its conversion to the stated unit, in words (empty for a
    role without a unit)."""
    if not entry.measured:
        return ""
    t = TEXT[lang]
    unit, stated = str(entry.unit), str(entry.stated_unit)
    factor = float(entry.factor)
    if entry.unit_from == "assumed" and stated != "orang":
        return t["unit_assumed"].format(stated=stated)
    if factor == 1.0:
        return unit
    how = (
        t["divided"].format(n=messages.number(round(1 / factor), lang))
        if factor < 1
        else t["times"].format(n=messages.number(factor, lang))
    )
    key = "unit_given" if entry.unit_from == "option" else "unit_converted"
    return t[key].format(unit=unit, stated=stated, how=how)


#: Roles not found that the report names (the measures; the area roles are for
#: registries without coordinates, the name and id are not analysed).
_NOTED_MISSING = ("workers", "output", "investment")


def _columns_section(records: RecordsRecord, lang: str) -> str:
    """Which column was taken for each role, with the measures' units and conversions;
    the measures without a column; similar columns not taken; columns passed over."""
    t = TEXT[lang]
    roles = records.roles
    if not roles:
        return ""

    def role(key: str) -> str:
        return messages.label("input_roles", key, lang)

    rows = "".join(
        f'<tr><td class="text">{html.escape(role(r))}</td>'
        f'<td class="text">{html.escape(entry.column)}</td>'
        f'<td class="text">{html.escape(_unit_text(entry, lang))}</td></tr>'
        for r, entry in roles.items()
    )
    head = "".join(
        f'<th class="text">{html.escape(t[k])}</th>'
        for k in ("column_role", "column_name", "column_unit")
    )
    parts = [
        f"<h3>{html.escape(t['columns_used'])}</h3>",
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>",
    ]
    missing = [r for r in records.roles_not_found if r in _NOTED_MISSING]
    if missing:
        text = t["roles_not_found"].format(roles=", ".join(role(r) for r in missing))
        parts.append(f"<p>{html.escape(text)}</p>")
    for r, names in records.similar_columns.items():
        text = t["similar_columns"].format(
            columns=", ".join(f"'{n}'" for n in names),
            role=role(r),
            flag=f"--{r.replace('_', '-')}-col",
        )
        parts.append(f"<p>{html.escape(text)}</p>")
    for r, names in records.passed_over.items():
        text = t["passed_over"].format(
            columns=", ".join(f"'{n}'" for n in names),
            role=role(r),
            column=f"'{roles[r].column if r in roles else ''}'",
        )
        parts.append(f"<p>{html.escape(text)}</p>")
    return "".join(parts)


def _global_sentence(global_stats: pd.DataFrame, lang: str) -> str:
    """Global autocorrelation in one sentence: in how many sectors firms cluster
    significantly, and where most strongly (empty without Moran's I)."""
    if not {"moran_i", "p_norm"} <= set(global_stats.columns) or not len(global_stats):
        return ""
    clustered = global_stats.loc[(global_stats["moran_i"] > 0) & (global_stats["p_norm"] < 0.05)]
    if not len(clustered):
        return ""
    top = clustered["moran_i"].astype(float).idxmax()
    strongest = float(clustered["moran_i"].max())
    sector = kbli.titled(str(top), lang=lang)
    return TEXT[lang]["global_sentence"].format(
        k=messages.number(len(clustered), lang),
        n=messages.number(len(global_stats), lang),
        sector=sector,
        i=messages.significant(strongest, lang, 3),
    )


def _is_p_value(name: str) -> bool:
    """Whether a column holds p-values (``p``, ``p_value``, ``lq_p``, ``moran_p_sim``...),
    not probabilities (``p_lpm``, ``p_cluster``)."""
    return name in ("p", "p_value", "p_norm", "p_sim", "P>|z|", "P>|t|") or name.endswith(
        ("_p", "_p_sim", "_p_norm", "_p_value")
    )


def _table(frame: pd.DataFrame, *, lang: str = "en", index: bool = False, digits: int = 4) -> str:
    """An HTML table; headers from the catalogue, numbers right-aligned, rounded and in
    the language's marks, p-values never 0, text left-aligned and escaped."""
    shown = frame.reset_index() if index else frame
    if shown.empty:
        return "<p>-</p>"
    head = "".join(
        f'<th class="{"num" if pd.api.types.is_numeric_dtype(shown[c]) else "text"}">'
        f"{html.escape(messages.label('columns', c, lang))}</th>"
        for c in shown.columns
    )
    rows = []
    p_columns = [_is_p_value(str(c)) for c in shown.columns]
    for values in shown.itertuples(index=False):
        cells = []
        for value, is_p in zip(values, p_columns, strict=True):
            if isinstance(value, float | np.floating) and is_p:
                cells.append(f"<td>{html.escape(messages.p_value(value, lang))}</td>")
            elif isinstance(value, float | np.floating):
                cells.append(f"<td>{messages.significant(value, lang, digits)}</td>")
            elif isinstance(value, int | np.integer) and not isinstance(value, bool):
                cells.append(f"<td>{messages.number(value, lang)}</td>")
            else:
                text = "" if value is None or value is pd.NA else str(value)
                cells.append(f'<td class="text">{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def build_report(
    summary: RunRecord,
    *,
    sentra: pd.DataFrame,
    global_stats: pd.DataFrame,
    models: Mapping[str, ModelResult] | None = None,
    figures: Sequence[Figure] = (),
    map_file: str | None = "map.html",
    lang: str = "id",
    subtitle: str = "",
    related: pd.DataFrame | None = None,
    missing: pd.DataFrame | None = None,
    measures: Mapping[str, pd.DataFrame] | None = None,
) -> str:
    """The report page of a run.

    Parameters
    ----------
    summary
        The run's record (:class:`~klastergeo.publish.record.RunRecord`: records, areas,
        config, versions, created).
    sentra, global_stats
        The sentra table and the per-sector global statistics.
    models
        Fitted :class:`klastergeo.analysis.regression.ModelResult` by kind.
    figures
        Figures to show (paths relative to the report); one of kind ``sentra`` is the
        static map of the sentra, shown with the map (in print as well).
    map_file
        The map page to embed (relative), or None.
    lang
        ``"id"`` or ``"en"``.
    subtitle
        Text after the title in the page's heading and window title (none when empty).
    related
        The sentra's related industries (``related.csv``: ``sentra_id``,
        ``related_sector``, ``clq``, ``significant``, ``role``); their role and CLQ are
        shown in the value-chain section. None: the sectors alone, from ``sentra``.
    missing
        The links the linkage table expects that a sentra lacks (``missing_links.csv``:
        ``sentra_id``, ``related_sector``, ``role``, ``reason``), listed per sentra.
    measures
        Per measure (firms too, first), its published statistics per (area_code, sector)
        (``measures.csv``): a short section with one row per measure and sector.
    """
    import jinja2

    t = TEXT[messages.check_lang(lang)]
    template = jinja2.Environment(autoescape=True).from_string(
        resources.files("klastergeo.publish")
        .joinpath("templates/report.html.j2")
        .read_text("utf-8")
    )
    records = summary.records or RecordsRecord()
    reasons = {k: v for k, v in records.by_reason.items() if v}
    if sentra.index.name == SENTRA_INDEX:
        sentra = sentra.reset_index()
    config, near = summary.config, summary.candidates or NearMisses()
    model_blocks, models_note = _models_section(models or {}, config, lang)
    if models:
        lost = _left_out_sentences(summary.predictors_left_out or [], lang)
        models_note = " ".join(x for x in (lost, models_note) if x)
    return template.render(
        lang=lang,
        t=t,
        subtitle=subtitle,
        place=summary.areas.study_area_name if summary.areas else None,
        created=messages.date(summary.created, lang),
        version=summary.klastergeo,
        # the file's name, never the machine's path to it (reports get published)
        source=Path(config.source).name,
        map_file=map_file,
        sentra_map=next((f for f in figures if f.kind == "sentra"), None),
        docs=[(t[key], messages.docs_url(page)) for key, page in DOCS_PAGES.items()],
        records_table=Markup(_table(_records_counts(records, lang), lang=lang)),
        columns_section=Markup(_columns_section(records, lang)),
        reasons_table=Markup(_reasons_table(reasons, lang)),
        n_sentra=len(sentra),
        sentra_table=Markup(_sentra_table(sentra, lang)),
        value_chains=Markup(_value_chains(sentra, lang, related, missing, config)),
        near_misses=_near_misses(near, lang),
        sentra_sentence=_sentra_sentence(sentra, lang),
        quality_sentence=_quality_sentence(records, reasons, lang),
        near_examples=[] if len(sentra) else list(near.largest),
        global_sentence=_global_sentence(global_stats, lang),
        global_table=Markup(_table(global_stats, lang=lang, index=True)),
        measures_table=Markup(_table(measure_summary(measures), lang=lang)) if measures else "",
        models=model_blocks,
        models_note=models_note,
        figures=[f for f in figures if f.kind != "sentra"],
        method_table=Markup(_table(_method_table(summary, lang), lang=lang)),
        not_computed=_not_computed(summary, lang),
    )


def _not_computed(summary: RunRecord, lang: str) -> Markup | str:
    """The table of what the run could not compute, and why, in ``lang`` (the step's
    name from the ``progress`` group, the note from the ``notes`` group); empty when
    everything was computed."""
    rows = [
        (messages.label("progress", x.step, lang), *x.said(lang))
        for x in summary.not_computed or []
    ]
    if not rows:
        return ""
    return Markup(_table(pd.DataFrame(rows, columns=["step", "what", "why"]), lang=lang))


def measure_summary(measures: Mapping[str, pd.DataFrame] | None) -> pd.DataFrame:
    """One row per measure and sector: its firms with a value and their share, the areas
    in the 95 % specialisation and Gi* hot bins, the LISA high-high areas and the largest
    published LQ (the report's measures section).

    Parameters
    ----------
    measures
        Per measure, its published statistics per (area_code, sector).

    Examples
    --------
    >>> idx = pd.MultiIndex.from_product([["a", "b"], ["31"]], names=["area_code", "sector"])
    >>> t = pd.DataFrame({"n_firms": [4, 2], "n_valued": [3, 2], "spec_bin": [2, 0],
    ...     "gi_bin": [0, 0], "lisa_quadrant": [1, 0], "lq": [2.5, None]}, index=idx)
    >>> list(measure_summary({"workers": t}).to_dict("records")[0].values())
    ['workers', '31', 5, 0.8333333333333334, 1, 0, 1, 2.5]
    """
    rows = []
    for name, table in (measures or {}).items():
        for sector, part in table.groupby(level="sector", sort=False):
            firms = int(part["n_firms"].sum())
            valued = int(part["n_valued"].sum())
            rows.append(
                {
                    "measure": name,
                    "sector": str(sector),
                    "n_valued": valued,
                    "coverage": valued / firms if firms else float("nan"),
                    "spec_hot": int((part["spec_bin"] >= 2).sum()),
                    "gi_hot": int((part["gi_bin"] >= 2).sum()),
                    "lisa_hh": int((part["lisa_quadrant"] == 1).sum()),
                    "lq_max": float(part["lq"].max()),
                }
            )
    return pd.DataFrame(rows)


def _records_counts(records: RecordsRecord, lang: str) -> pd.DataFrame:
    """The data-quality counts: read, kept, rejected, repaired (and skipped rows), the
    repairs, and how firms were placed when some were placed by their area."""
    steps = {"read": records.read, "kept": records.kept, "rejected": records.rejected}
    steps["repaired"] = records.repaired
    if records.skipped:  # rows of a spreadsheet that are not firms
        steps["skipped"] = records.skipped
    shown = list(steps.items())
    shown += [(repair, n) for repair, n in records.repaired_by_reason.items() if n]
    placed = records.placement
    if set(placed) - {"point"}:  # some firms were placed by the area they name
        shown += [
            (f"placed_{how}", placed[how]) for how in ("point", "code", "name") if how in placed
        ]
    return pd.DataFrame(
        {
            "": [messages.label("columns", k, lang) for k, _ in shown],
            "n": [int(n) for _, n in shown],
        }
    )


def _reasons_table(reasons: Mapping[str, int], lang: str) -> str:
    """The rejections per reason, as a table (empty without any)."""
    if not reasons:
        return ""
    frame = pd.DataFrame(
        {
            "reason": [messages.label("reasons", r, lang) for r in reasons],
            "n": list(reasons.values()),
        }
    )
    return _table(frame, lang=lang)


def _sentra_table(sentra: pd.DataFrame, lang: str) -> str:
    """The sentra as a table: the columns of :data:`_SENTRA_COLUMNS` that exist, the
    stage in the page's language."""
    if not len(sentra):
        return f"<p>{html.escape(TEXT[lang]['none'])}</p>"
    shown = pd.DataFrame(sentra[[c for c in _SENTRA_COLUMNS if c in sentra.columns]])
    if "stage" in shown:
        shown["stage"] = [messages.label("stage", x, lang) for x in shown["stage"]]
    return _table(shown, lang=lang)


def _value_chains(
    sentra: pd.DataFrame,
    lang: str,
    related: pd.DataFrame | None = None,
    missing: pd.DataFrame | None = None,
    options: ConfigRecord | None = None,
) -> str:
    """A section per sentra (the :data:`MAX_CHAIN_SECTIONS` largest): its co-located
    industries with role, CLQ, p-value and firms, and the links the linkage table
    expects that it lacks, with why (empty when co-location was not measured);
    ``options`` are the run's ``[colocation]`` (its ``alpha`` and ``min_related_firms``
    are named in the section's note)."""
    if not len(sentra) or "related_sectors" not in sentra:
        return ""
    t = TEXT[lang]
    options = options or ConfigRecord()
    frame = pd.DataFrame(sentra.reset_index())
    if "n_firms" in frame:
        frame = frame.sort_values("n_firms", ascending=False, kind="stable")
    found = _rows_by_sentra(related, significant=True)
    lacking = _rows_by_sentra(missing)
    parts = [f"<h2>{html.escape(t['value_chains'])}</h2>"]
    note = t["value_chains_note"].format(
        alpha=messages.number(options.colocation_alpha, lang, 2),
        least=messages.number(options.min_related_firms, lang),
    )
    parts.append(f"<p>{html.escape(note)}</p>")
    for row in frame.head(MAX_CHAIN_SECTIONS).itertuples(index=False):  # a few dozen
        sid = str(row.sentra_id)
        title = " - ".join(
            x for x in (sid, messages.cell_text(getattr(row, "name", "")), _sector(row, lang)) if x
        )
        parts.append(f"<h3>{html.escape(title)}</h3>")
        parts.append(_chain_table(found.get(sid), row, lang))
        parts.append(_missing_list(lacking.get(sid), lang))
    if len(frame) > MAX_CHAIN_SECTIONS:
        rest = messages.number(len(frame) - MAX_CHAIN_SECTIONS, lang)
        parts.append(f"<p>{html.escape(t['value_chains_more'].format(count=rest))}</p>")
    return "".join(parts)


def _rows_by_sentra(
    table: pd.DataFrame | None, *, significant: bool = False
) -> dict[str, pd.DataFrame]:
    """The rows of ``related.csv`` or ``missing_links.csv`` of each sentra."""
    if table is None or not len(table):
        return {}
    if significant:
        table = table.loc[table["significant"].astype(bool)]
    return {str(k): rows for k, rows in table.groupby("sentra_id", sort=False)}


def _sector(row: Any, lang: str) -> str:
    sector = messages.cell_text(getattr(row, "sector", ""))
    return kbli.titled(sector, lang=lang) if sector else ""


def _chain_table(rows: pd.DataFrame | None, sentra: Any, lang: str) -> str:
    """A sentra's co-located industries as a table; without the detail of
    ``related.csv``, the codes its ``related_sectors`` lists; else a sentence."""
    t = TEXT[lang]
    if rows is None:
        codes = [
            c for c in messages.cell_text(getattr(sentra, "related_sectors", "")).split(";") if c
        ]
        if not codes:
            return f"<p>{html.escape(t['no_related'])}</p>"
        rows = pd.DataFrame({"related_sector": codes})
    shown = pd.DataFrame(
        {"related_sector": [kbli.titled(str(c), lang=lang) for c in rows["related_sector"]]}
    )
    if "role" in rows:
        shown["role"] = [messages.label("roles", r, lang) for r in rows["role"]]
    for column in ("clq", "p_value", "n_related_firms"):
        if column in rows:
            shown[column] = rows[column].to_numpy()
    return _table(shown, lang=lang, digits=3)


def _missing_list(rows: pd.DataFrame | None, lang: str) -> str:
    """A sentra's missing links as a list of sentences (empty without any)."""
    if rows is None or not len(rows):
        return ""
    t = TEXT[lang]
    roles = {r: messages.label("roles", r, lang) for r in rows["role"].unique()}
    items = [
        t[f"missing_{r.reason}"].format(
            role=roles[r.role][:1].upper() + roles[r.role][1:],
            sector=kbli.titled(str(r.related_sector), lang=lang),
        )
        for r in rows.itertuples(index=False)
    ]
    head = html.escape(t["missing_heading"])
    body = "".join(f"<li>{html.escape(item)}</li>" for item in items)
    return f"<p>{head}</p><ul>{body}</ul>"


def _near_misses(near: NearMisses, lang: str) -> str:
    """The near misses in one sentence (empty without any)."""
    if not near.count:
        return ""
    failed = ", ".join(
        f"{messages.label('rules', k, lang)} {messages.number(v, lang)}"
        for k, v in near.failed.items()
    )
    return TEXT[lang]["near_misses"].format(count=messages.number(near.count, lang), failed=failed)


def _models_section(
    fitted: Mapping[str, ModelResult], config: ConfigRecord, lang: str
) -> tuple[list[dict[str, Any]], str]:
    """The model blocks to show and a note on those left out.

    Models are shown when the user asked for them (predictors named in ``[model]``) or
    when they discriminate at least acceptably (AUC >= :data:`MIN_AUC`); otherwise one
    sentence says why they are not shown (their tables stay in ``models/``). A shown
    model that predicts nobody in a sentra says so by its adjusted count R2 of 0."""
    if not fitted:
        return [], ""
    asked = bool(config.model_predictors)
    shown = {k: r for k, r in fitted.items() if asked or _meaningful(r)}
    if not shown:
        best = float(np.nanmax([float(r.fit.get("auc", np.nan)) for r in fitted.values()]))
        return [], TEXT[lang]["models_weak"].format(auc=messages.number(best, lang, 2))
    return [_model_block(kind, result, lang) for kind, result in shown.items()], ""


def _left_out_sentences(items: Sequence[LeftOut], lang: str) -> str:
    """The predictors the models went without, and why (``predictors_left_out``)."""
    t = TEXT[lang]
    return " ".join(
        t[f"predictor_{item.reason}"].format(
            predictor=messages.label("input_roles", item.predictor, lang),
            column=f"'{item.column}'",
        )
        for item in items
        if f"predictor_{item.reason}" in t
    )


def _meaningful(result: ModelResult) -> bool:
    """Whether a model discriminates (AUC >= :data:`MIN_AUC`)."""
    auc = float(result.fit.get("auc", np.nan))
    return bool(np.isfinite(auc) and auc >= MIN_AUC)


def adjusted_count_r2(classification: pd.DataFrame) -> float:
    """Long's (1997) adjusted count R2 of a classification table: the share of the
    errors of "always the commoner outcome" that the model avoids (0 when it predicts no
    better, whatever its count R2: a model predicting nobody in a sentra scores 0).

    Parameters
    ----------
    classification
        Rows ``0`` and ``1`` (actual outcome) with ``n`` and the shares ``predicted_0``
        and ``predicted_1`` (:func:`klastergeo.analysis.regression.classification_table`).

    Examples
    --------
    >>> table = pd.DataFrame({"n": [90, 10], "predicted_0": [1.0, 1.0],
    ...                       "predicted_1": [0.0, 0.0]}, index=[0, 1])
    >>> adjusted_count_r2(table)  # count R2 0.9, only by always saying 0
    0.0
    """
    rows = classification.rename(index=str)
    n = rows["n"].to_numpy(dtype=float)
    at = {str(k): i for i, k in enumerate(rows.index)}
    n0, n1 = n[at["0"]], n[at["1"]]
    right0 = rows["predicted_0"].to_numpy(dtype=float)[at["0"]]
    right1 = rows["predicted_1"].to_numpy(dtype=float)[at["1"]]
    correct = n0 * right0 + n1 * right1
    majority = max(n0, n1)
    total = n0 + n1
    return float((correct - majority) / (total - majority)) if total > majority else float("nan")


def _model_block(kind: str, result: ModelResult, lang: str) -> dict[str, Any]:
    """Title, coefficient and classification tables and fit line of one model; the count
    R2 comes with Long's adjusted count R2 (a model that always predicts 0 has a count R2
    of the share of 0s, and an adjusted one of 0)."""
    fit = result.fit
    t = TEXT[lang]
    extra = "mcfadden_r2" if "mcfadden_r2" in fit else "r2"
    coefficients = result.coefficients[list(result.coefficients.columns[:7])].copy()
    coefficients["term"] = [messages.label("columns", x, lang) for x in coefficients["term"]]
    classification = result.classification.rename(
        index=lambda x: messages.label("columns", x, lang)
    )
    line = t["fit"].format(
        n=messages.number(fit["n"], lang),
        extra=extra.replace("_r2", " R2").replace("mcfadden", "McFadden"),
        r2=messages.number(fit[extra], lang, 3),
        auc=messages.number(fit["auc"], lang, 3),
        count_r2=messages.number(fit["count_r2"], lang, 3),
        adjusted=messages.number(adjusted_count_r2(result.classification), lang, 3),
    )
    outcome = messages.label("models", result.outcome, lang)
    return {
        "title": f"{messages.label('models', kind, lang)}: {outcome}",
        "coefficients": Markup(_table(coefficients, lang=lang)),
        "classification": Markup(_table(classification, lang=lang, index=True)),
        "fit": line,
    }


def _method_table(summary: RunRecord, lang: str) -> pd.DataFrame:
    """The run's main settings, from its record, named in ``lang``."""
    config, areas = summary.config, summary.areas
    rows: dict[str, Any] = {
        "level": areas.level if areas else "",
        "study_area": areas.study_area if areas else "",
        "areas": areas.count if areas else "",
        "weights": areas.weights_kind if areas else "",
        "permutations": config.permutations,
        "seed": summary.seed,
        "fdr": config.fdr,
        "alternative": config.alternative,
        "gi_inference": config.gi_inference,
        "min_firms": config.min_firms,
        "lq_threshold": config.lq_threshold,
        "confidence": config.confidence,
    }
    disclosure = summary.disclosure
    if disclosure is not None and disclosure.enabled and disclosure.readable:
        k = disclosure.dominance_k * 100
        rows["disclosure_min_firms"] = disclosure.min_firms
        rows["disclosure_dominance"] = (
            f"n = {disclosure.dominance_n}, k = {messages.number(k, lang)} %"
            if disclosure.dominance_applied
            else messages.label("columns", "dominance_not_applied", lang)
        )
    return pd.DataFrame(
        {
            "parameter": [messages.label("columns", k, lang) for k in rows],
            "value": [_setting(v, lang) for v in rows.values()],
        }
    )


def _setting(value: Any, lang: str) -> str:
    """A setting's value as text: words from the catalogue, numbers in the language's
    marks."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return messages.number(value, lang, 0 if float(value).is_integer() else 2)
    return messages.label("columns", "" if value is None else value, lang)
