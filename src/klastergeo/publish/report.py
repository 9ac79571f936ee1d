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

from klastergeo._errors import ConfigError
from klastergeo.schema import SENTRA_INDEX

__all__ = ["Figure", "build_report"]

logger = logging.getLogger(__name__)

TEXT = {
    "id": {
        "title": "Laporan klaster industri",
        "created": "Dibuat",
        "source": "Sumber data",
        "map": "Peta interaktif",
        "open_map": "Buka peta di halaman penuh",
        "no_map": "Peta tidak dibuat pada proses ini.",
        "quality": "Kualitas data",
        "rejected_by_reason": "Data ditolak menurut alasan",
        "sentra": "Sentra",
        "global": "Autokorelasi spasial global per sektor",
        "classification": "Tabel klasifikasi",
        "figures": "Gambar",
        "method": "Metode dan parameter",
        "method_note": (
            "Sentra: kelompok wilayah bersebelahan yang terspesialisasi (LQ minimum dengan "
            "selang di atas 1, spesialisasi lokal signifikan) dengan jumlah usaha minimum "
            "bersama. Rincian di README klastergeo."
        ),
        "none": "Tidak ada sentra yang ditemukan.",
        "sentra_sentence": (
            "{n} sentra di {k} sektor; yang terbesar {name} ({sector}), {firms} usaha di "
            "{areas} wilayah."
        ),
        "quality_sentence": (
            "{kept} dari {read} record dipakai ({share} %); {rejected} ditolak{top}."
        ),
        "top_reason": ", terbanyak karena {reason} ({count})",
        "near_misses": (
            "{count} konsentrasi memenuhi sebagian aturan sentra tetapi tidak semuanya "
            "(gagal: {failed}); daftarnya ada di candidates.csv."
        ),
        "not_computed": "Tidak dihitung",
        "not_computed_note": "Statistik berikut tidak terdefinisi untuk data ini:",
    },
    "en": {
        "title": "Industrial cluster report",
        "created": "Created",
        "source": "Data source",
        "map": "Interactive map",
        "open_map": "Open the map full page",
        "no_map": "No map was drawn in this run.",
        "quality": "Data quality",
        "rejected_by_reason": "Rejected records by reason",
        "sentra": "Sentra",
        "global": "Global spatial autocorrelation per sector",
        "classification": "Classification table",
        "figures": "Figures",
        "method": "Method and parameters",
        "method_note": (
            "Sentra: contiguous groups of specialised areas (a minimum LQ with its interval "
            "above 1, a significant local specialisation) with a minimum number of firms "
            "together. Details in klastergeo's README."
        ),
        "none": "No sentra found.",
        "sentra_sentence": (
            "{n} sentra in {k} sector(s); the largest is {name} ({sector}), {firms} firms in "
            "{areas} area(s)."
        ),
        "quality_sentence": "{kept} of {read} records kept ({share} %); {rejected} rejected{top}.",
        "top_reason": ", most often for {reason} ({count})",
        "near_misses": (
            "{count} concentration(s) met some sentra rules but not all (failed: {failed}); "
            "they are listed in candidates.csv."
        ),
        "not_computed": "Not computed",
        "not_computed_note": "These statistics are not defined for these data:",
    },
}
_SENTRA_COLUMNS = {
    "sentra_id": "ID",
    "name": "name",
    "sector": "KBLI",
    "sector_label": "sector",
    "n_firms": "firms",
    "n_areas": "areas",
    "lq": "LQ",
    "typology_label": "type",
    "stage": "stage",
    "p_cluster": "p",
}


@dataclass(frozen=True)
class Figure:
    """A figure of the report: its path relative to the report, and a caption."""

    src: str
    caption: str


def _sentra_sentence(sentra: pd.DataFrame, t: Mapping[str, str]) -> str:
    """The sentra in one sentence: how many, in how many sectors, the largest (empty
    without sentra)."""
    if not len(sentra) or "n_firms" not in sentra:
        return ""
    largest = sentra.sort_values("n_firms", ascending=False, kind="stable").iloc[0]
    return t["sentra_sentence"].format(
        n=f"{len(sentra):,}",
        k=f"{sentra['sector'].nunique():,}",
        name=largest.get("name", ""),
        sector=largest.get("sector_label", largest.get("sector", "")),
        firms=f"{int(largest['n_firms']):,}",
        areas=f"{int(largest.get('n_areas', 1)):,}",
    )


def _quality_sentence(
    records: Mapping[str, Any], reasons: Mapping[str, int], t: Mapping[str, str]
) -> str:
    """The data quality in one sentence: kept of read, rejected, the commonest reason."""
    read = int(records.get("read", 0) or 0)
    if not read:
        return ""
    kept = int(records.get("kept", 0) or 0)
    top = ""
    if reasons:
        reason, count = max(reasons.items(), key=lambda item: item[1])
        top = t["top_reason"].format(reason=reason, count=f"{count:,}")
    return t["quality_sentence"].format(
        kept=f"{kept:,}",
        read=f"{read:,}",
        share=f"{100 * kept / read:.1f}",
        rejected=f"{int(records.get('rejected', 0) or 0):,}",
        top=top,
    )


def _is_p_value(name: str) -> bool:
    """Whether a column holds p-values (``p``, ``p_value``, ``lq_p``, ``moran_p_sim``...),
    not probabilities (``p_lpm``, ``p_cluster``)."""
    return name in ("p", "p_value", "p_norm", "p_sim", "P>|z|", "P>|t|") or name.endswith(
        ("_p", "_p_sim", "_p_norm", "_p_value")
    )


def format_p(value: float) -> str:
    """A p-value as a reader expects it: three decimals, and ``< 0.001`` below that
    (never ``0``: a p-value is not zero, only smaller than what is shown).

    Parameters
    ----------
    value
        The p-value; NaN gives an empty string.

    Examples
    --------
    >>> [format_p(v) for v in (0.0, 1e-20, 0.00049, 0.0123, 0.5)]
    ['< 0.001', '< 0.001', '< 0.001', '0.012', '0.500']
    """
    if not np.isfinite(value):
        return ""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _table(frame: pd.DataFrame, *, index: bool = False, digits: int = 4) -> str:
    """An HTML table; numbers right-aligned and rounded, text left-aligned and escaped."""
    shown = frame.reset_index() if index else frame
    if shown.empty:
        return "<p>-</p>"
    head = "".join(
        f'<th class="{"num" if pd.api.types.is_numeric_dtype(shown[c]) else "text"}">'
        f"{html.escape(str(c))}</th>"
        for c in shown.columns
    )
    rows = []
    p_columns = [_is_p_value(str(c)) for c in shown.columns]
    for values in shown.itertuples(index=False):
        cells = []
        for value, is_p in zip(values, p_columns, strict=True):
            if isinstance(value, float | np.floating) and is_p:
                cells.append(f"<td>{html.escape(format_p(float(value)))}</td>")
            elif isinstance(value, float | np.floating):
                text = f"{value:.{digits}g}" if np.isfinite(value) else ""
                cells.append(f"<td>{text}</td>")
            elif isinstance(value, int | np.integer):
                cells.append(f"<td>{int(value):,}</td>")
            else:
                text = "" if value is None or value is pd.NA else str(value)
                cells.append(f'<td class="text">{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def build_report(
    summary: Mapping[str, Any],
    *,
    sentra: pd.DataFrame,
    global_stats: pd.DataFrame,
    models: Mapping[str, Any] | None = None,
    figures: Sequence[Figure] = (),
    map_file: str | None = "map.html",
    lang: str = "id",
    subtitle: str = "",
) -> str:
    """The report page of a run.

    Parameters
    ----------
    summary
        The run's ``summary.json`` content (records, areas, config, versions, created).
    sentra, global_stats
        The sentra table and the per-sector global statistics.
    models
        Fitted :class:`klastergeo.models.ModelResult` by kind.
    figures
        Figures to show (paths relative to the report).
    map_file
        The map page to embed (relative), or None.
    lang
        ``"id"`` or ``"en"``.
    subtitle
        Text after the title in the page's heading and window title (none when empty).
    """
    import jinja2

    if lang not in TEXT:
        raise ConfigError(f"lang={lang!r} is not accepted; use 'id' or 'en'")
    t = TEXT[lang]
    template = jinja2.Environment(autoescape=True).from_string(
        resources.files("klastergeo.publish")
        .joinpath("templates/report.html.j2")
        .read_text("utf-8")
    )
    records = summary.get("records", {})
    counts = pd.DataFrame(
        {
            "": ["read", "kept", "rejected", "repaired"],
            "n": [int(records.get(k, 0)) for k in ("read", "kept", "rejected", "repaired")],
        }
    )
    reasons = {k: v for k, v in records.get("by_reason", {}).items() if v}
    reasons_table = (
        _table(pd.DataFrame({"reason": list(reasons), "n": list(reasons.values())}))
        if reasons
        else ""
    )
    if sentra.index.name == SENTRA_INDEX:
        sentra = sentra.reset_index()
    shown = [c for c in _SENTRA_COLUMNS if c in sentra.columns]
    sentra_table = (
        _table(pd.DataFrame(sentra[shown]).rename(columns=_SENTRA_COLUMNS))
        if len(sentra)
        else f"<p>{t['none']}</p>"
    )
    sentra_sentence = _sentra_sentence(sentra, t)
    quality_sentence = _quality_sentence(records, reasons, t)
    near = summary.get("candidates") or {}
    near_misses = ""
    if near.get("count"):
        failed = ", ".join(f"{k} {v:,}" for k, v in (near.get("failed") or {}).items())
        near_misses = t["near_misses"].format(count=f"{near['count']:,}", failed=failed)
    near_examples = [] if len(sentra) else list(near.get("largest") or [])
    config = summary.get("config", {})
    not_computed = summary.get("not_computed")
    return template.render(
        lang=lang,
        t=t,
        subtitle=subtitle,
        created=summary.get("created", ""),
        version=summary.get("klastergeo", ""),
        # the file's name, never the machine's path to it (reports get published)
        source=Path(str((config.get("records") or {}).get("path") or "")).name,
        map_file=map_file,
        records_table=Markup(_table(counts)),
        reasons_table=Markup(reasons_table),
        n_sentra=len(sentra),
        sentra_table=Markup(sentra_table),
        near_misses=near_misses,
        sentra_sentence=sentra_sentence,
        quality_sentence=quality_sentence,
        near_examples=near_examples,
        global_table=Markup(_table(global_stats, index=True)),
        models=[_model_block(kind, result) for kind, result in (models or {}).items()],
        figures=list(figures),
        method_table=Markup(_table(_method_table(summary))),
        not_computed=Markup(_table(pd.DataFrame(not_computed, columns=["step", "what", "why"])))
        if not_computed
        else "",
    )


def _model_block(kind: str, result: Any) -> dict[str, Any]:
    """Title, coefficient and classification tables and fit line of one model."""
    from klastergeo.models import TITLES

    fit = result.fit
    extra = "mcfadden_r2" if "mcfadden_r2" in fit else "r2"
    return {
        "title": f"{TITLES[kind]}: {result.outcome}",
        "coefficients": Markup(_table(result.coefficients[list(result.coefficients.columns[:7])])),
        "classification": Markup(_table(result.classification, index=True)),
        "fit": (
            f"n = {fit['n']:,}; {extra} = {fit[extra]:.4f}; AUC = {fit['auc']:.4f}; "
            f"count R2 = {fit['count_r2']:.4f}"
        ),
    }


def _method_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """The run's main settings, from its summary."""
    config = summary.get("config", {})
    analysis = config.get("analysis", {})
    sentra = config.get("sentra", {})
    areas = summary.get("areas", {})
    rows = {
        "level": areas.get("level", ""),
        "study area": areas.get("study_area", ""),
        "areas": areas.get("count", ""),
        "weights": (areas.get("weights") or {}).get("kind", ""),
        "permutations": analysis.get("permutations", ""),
        "seed": summary.get("seed", ""),
        "FDR": analysis.get("fdr", ""),
        "alternative": analysis.get("alternative", ""),
        "Gi* inference": analysis.get("gi_inference", ""),
        "sentra: min firms": sentra.get("min_firms", ""),
        "sentra: LQ threshold": sentra.get("lq_threshold", ""),
        "sentra: confidence": sentra.get("confidence", ""),
    }
    return pd.DataFrame({"parameter": list(rows), "value": [str(v) for v in rows.values()]})
