"""The tables of a fitted cluster-probability model as people read them: Markdown, HTML
and LaTeX reports, and every table written into a folder (:func:`write`).

The reports are in a language (``id`` or ``en``: headings, column names and fit
statistics from the catalogue's ``model_pages`` and ``models`` groups); the CSV and JSON
files keep their English column names, as every machine-readable output does. The
models and their tidy tables are fitted in :mod:`klastergeo.analysis.regression`; this
module only renders and writes them.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from klastergeo.analysis.regression import ModelResult
from klastergeo.io.files import write_csv, write_json, write_text
from klastergeo.publish import messages

__all__ = ["TITLES", "to_html", "to_latex", "to_markdown", "write"]

#: Each model's title (the English one of ``messages`` group ``models``).
TITLES = {
    "lpm": "Linear probability model (OLS, robust SE)",
    "logit": "Logit",
    "probit": "Probit",
}


#: Report columns holding p-values (shown ``< 0,001``, never ``0,0000``).
P_COLUMNS = ("p_value",)
#: Report columns holding a model's terms or predictors (titled as in the workbook).
TERM_COLUMNS = ("term", "predictor")


def _sections(
    result: ModelResult, lang: str = "en", roles: Mapping[str, str] | None = None
) -> list[tuple[str, pd.DataFrame, bool]]:
    """(title, table, show index) of every report section, in order, in ``lang``: terms
    titled as the workbook titles them, p-values as :func:`messages.p_value` writes."""
    said = messages.text("model_pages", lang)
    fit_table = pd.DataFrame(
        {
            "statistic": [messages.label("model_pages", k, lang) for k in result.fit],
            # object: a count (n, degrees of freedom) stays whole beside the decimals
            "value": pd.Series(
                [messages.p_value(v, lang) if _is_p(k) else v for k, v in result.fit.items()],
                dtype=object,
            ),
        }
    )
    classification = result.classification.rename(
        index=lambda label: said["all"] if str(label) == "all" else label
    )
    out = [
        (said["h_coefficients"], result.coefficients, False),
        (
            said["h_marginal"] if result.kind != "lpm" else said["h_marginal_lpm"],
            result.marginal_effects,
            False,
        ),
        (said["h_fit"], fit_table, False),
        (
            said["h_classification"].format(cutoff=_fmt(result.fit["cutoff"], lang)),
            classification,
            True,
        ),
        (said["h_vif"], result.vif, False),
    ]
    if result.references:
        refs = pd.DataFrame(
            {"predictor": list(result.references), "reference": list(result.references.values())}
        )
        out.append((said["h_references"], refs, False))
    return [(title, _named(frame, lang, roles), index) for title, frame, index in out]


def _is_p(statistic: str) -> bool:
    """Whether a fit statistic is a p-value (``hosmer_lemeshow_p``, ``lr_p_value``...)."""
    return statistic.endswith(("_p", "_p_value", "_p_norm", "_p_sim"))


def _named(frame: pd.DataFrame, lang: str, roles: Mapping[str, str] | None) -> pd.DataFrame:
    """``frame`` in ``lang``: its column and index names, its terms (as the workbook
    titles them) and its p-values as text."""
    out = frame.copy()
    for column in out.columns:
        if column in TERM_COLUMNS:
            out[column] = [messages.term_title(v, lang, roles) for v in out[column]]
        elif column in P_COLUMNS:
            out[column] = pd.Series(
                [messages.p_value(v, lang) for v in out[column]], index=out.index, dtype=object
            )
    out = out.rename(columns=lambda c: messages.label("model_pages", c, lang))
    if out.index.name is not None:
        out.index.name = messages.label("model_pages", out.index.name, lang)
    return out


def _title(result: ModelResult, lang: str, roles: Mapping[str, str] | None = None) -> str:
    """The report's title: the model and its outcome (``in_sentra`` -> "di sentra")."""
    outcome = messages.label("models", result.outcome, lang)
    if outcome == result.outcome:
        outcome = messages.term_title(result.outcome, lang, roles)
    return f"{messages.label('models', result.kind, lang)}: {outcome}"


def to_markdown(
    result: ModelResult, *, lang: str = "en", roles: Mapping[str, str] | None = None
) -> str:
    """A Markdown report: coefficients, marginal effects, fit, classification table, VIF.

    Parameters
    ----------
    result
        A fitted model (see :func:`klastergeo.analysis.regression.fit`).
    lang
        The report's language: ``"id"`` or ``"en"``.
    roles
        The registry's column names of mapped roles (``tenaga_kerja`` -> ``workers``),
        so that a predictor is titled by its role (:func:`messages.term_title`).
    """

    def table(frame: pd.DataFrame, index: bool = False) -> str:
        shown = frame.reset_index() if index else frame
        header = "| " + " | ".join(map(str, shown.columns)) + " |"
        rule = "|" + "---|" * len(shown.columns)
        body = [
            "| " + " | ".join(_fmt(v, lang) for v in row) + " |"
            for row in shown.itertuples(index=False)
        ]
        return "\n".join([header, rule, *body])

    parts = [f"# {_title(result, lang, roles)}"]
    for title, frame, index in _sections(result, lang, roles):
        parts.append(f"## {title}\n\n{table(frame, index)}")
    return "\n\n".join(parts) + "\n"


def to_html(
    result: ModelResult, *, lang: str = "en", roles: Mapping[str, str] | None = None
) -> str:
    """A standalone HTML page of the same report (for a website or a word processor),
    in ``lang`` (its ``lang`` attribute too); every text escaped.

    Parameters
    ----------
    result
        A fitted model (see :func:`klastergeo.analysis.regression.fit`).
    lang
        The page's language: ``"id"`` or ``"en"``.
    roles
        As for :func:`to_markdown`.
    """
    title = html.escape(_title(result, lang, roles))
    body = [f"<h1>{title}</h1>"]
    for heading, frame, index in _sections(result, lang, roles):
        body.append(f"<h2>{html.escape(heading)}</h2>")
        body.append(_rounded(frame, lang).to_html(index=index, na_rep="", border=0))
    return (
        f'<!DOCTYPE html>\n<html lang="{messages.check_lang(lang)}"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{padding:.2em .6em;border-bottom:1px solid #ccc;text-align:right}</style>"
        "</head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def to_latex(
    result: ModelResult, *, lang: str = "en", roles: Mapping[str, str] | None = None
) -> str:
    """LaTeX tables (booktabs) of the same report, to paste into a paper.

    Parameters
    ----------
    result
        A fitted model (see :func:`klastergeo.analysis.regression.fit`).
    lang
        The tables' language: ``"id"`` or ``"en"``.
    roles
        As for :func:`to_markdown`.
    """
    parts = [f"% {_title(result, lang, roles)} (klastergeo)"]
    for title, frame, index in _sections(result, lang, roles):
        body = _rounded(frame, lang).to_latex(index=index, na_rep="", escape=True)
        parts.append(
            "\\begin{table}[ht]\n\\centering\n"
            f"\\caption{{{_latex_escape(title)}}}\n{body}\\end{{table}}"
        )
    return "\n\n".join(parts) + "\n"


def write(
    result: ModelResult,
    folder: str | Path,
    *,
    locale: str = "en",
    lang: str = "en",
    roles: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Write every table of ``result`` into ``folder`` (atomically, file by file):
    ``<kind>_coefficients.csv``, ``<kind>_marginal_effects.csv``,
    ``<kind>_classification.csv``, ``<kind>_vif.csv``, ``<kind>_fit.json``, ``<kind>.md``,
    ``<kind>.html`` and ``<kind>.tex``.

    Parameters
    ----------
    result
        A fitted model (see :func:`klastergeo.analysis.regression.fit`); ``<kind>`` is
        its ``kind``.
    folder
        Where the files go; created when missing, files of the same name are replaced.
    locale
        The CSV style: ``"en"`` (``,``, decimal point) or ``"id"`` (``;``, decimal
        comma).
    lang
        The language of the reports (Markdown, HTML, LaTeX): ``"id"`` or ``"en"``; the
        CSV and JSON files keep their English names.
    roles
        The registry's column names of mapped roles (``tenaga_kerja`` -> ``workers``):
        the reports title a predictor by its role; the CSV and JSON files keep the
        user's name (``<kind>_fit.json`` lists the mapping as ``roles``).

    Returns
    -------
    The path of every file written, by name (``coefficients``, ``fit``, ``markdown``,
    ...).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    kind = result.kind
    paths = {
        "coefficients": folder / f"{kind}_coefficients.csv",
        "marginal_effects": folder / f"{kind}_marginal_effects.csv",
        "classification": folder / f"{kind}_classification.csv",
        "vif": folder / f"{kind}_vif.csv",
        "fit": folder / f"{kind}_fit.json",
        "markdown": folder / f"{kind}.md",
        "html": folder / f"{kind}.html",
        "latex": folder / f"{kind}.tex",
    }
    for name in ("coefficients", "marginal_effects", "vif"):
        write_csv(getattr(result, name), paths[name], locale=locale)
    write_csv(result.classification, paths["classification"], index=True, locale=locale)
    write_json(
        paths["fit"],
        {
            "kind": kind,
            "outcome": result.outcome,
            "predictors": list(result.predictors),
            "references": result.references,
            "roles": dict(roles or {}),  # the registry's column -> the role it holds
            **result.fit,
        },
    )
    write_text(paths["markdown"], to_markdown(result, lang=lang, roles=roles))
    write_text(paths["html"], to_html(result, lang=lang, roles=roles))
    write_text(paths["latex"], to_latex(result, lang=lang, roles=roles))
    return paths


def _rounded(frame: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        # floats, and the fit table's values (numbers and counts)
        if pd.api.types.is_float_dtype(out[column].dtype) or out[column].dtype == object:
            out[column] = out[column].map(lambda v: _fmt(v, lang))
    return out


def _latex_escape(text: str) -> str:
    for char, repl in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_")):
        text = text.replace(char, repl)
    return text


def _fmt(value: Any, lang: str = "en") -> str:
    """A value of a report's table: four decimals (the language's decimal mark), ``inf``
    for an infinite one, empty for a missing one."""
    if isinstance(value, float | np.floating):
        if np.isinf(value):
            return "inf"
        shown = f"{value:.4f}" if np.isfinite(value) else ""
        return shown.replace(".", ",") if lang == "id" else shown
    return str(value)
