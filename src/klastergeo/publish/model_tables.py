"""The tables of a fitted cluster-probability model as people read them: Markdown, HTML
and LaTeX reports, and every table written into a folder (:func:`write`).

The models and their tidy tables are fitted in :mod:`klastergeo.analysis.regression`;
this module only renders and writes them.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from klastergeo.analysis.regression import ModelResult
from klastergeo.io.files import write_csv, write_json, write_text

__all__ = ["TITLES", "to_html", "to_latex", "to_markdown", "write"]

#: Each model's title (the English one of ``messages`` group ``models``).
TITLES = {
    "lpm": "Linear probability model (OLS, robust SE)",
    "logit": "Logit",
    "probit": "Probit",
}


def _sections(result: ModelResult) -> list[tuple[str, pd.DataFrame, bool]]:
    """(title, table, show index) of every report section, in order."""
    fit_table = pd.DataFrame({"statistic": list(result.fit), "value": list(result.fit.values())})
    out = [
        ("Coefficients", result.coefficients, False),
        (
            "Average marginal effects"
            if result.kind != "lpm"
            else "Marginal effects (the LPM's coefficients)",
            result.marginal_effects,
            False,
        ),
        ("Fit", fit_table, False),
        (
            f"Classification table (cut-off {_fmt(result.fit['cutoff'])})",
            result.classification,
            True,
        ),
        ("Variance inflation factors", result.vif, False),
    ]
    if result.references:
        refs = pd.DataFrame(
            {"predictor": list(result.references), "reference": list(result.references.values())}
        )
        out.append(("Reference levels of categorical predictors", refs, False))
    return out


def to_markdown(result: ModelResult) -> str:
    """A Markdown report: coefficients, marginal effects, fit, classification table, VIF.

    Parameters
    ----------
    result
        A fitted model (see :func:`klastergeo.analysis.regression.fit`).
    """

    def table(frame: pd.DataFrame, index: bool = False) -> str:
        shown = frame.reset_index() if index else frame
        header = "| " + " | ".join(map(str, shown.columns)) + " |"
        rule = "|" + "---|" * len(shown.columns)
        body = [
            "| " + " | ".join(_fmt(v) for v in row) + " |" for row in shown.itertuples(index=False)
        ]
        return "\n".join([header, rule, *body])

    parts = [f"# {TITLES[result.kind]}: {result.outcome}"]
    for title, frame, index in _sections(result):
        parts.append(f"## {title}\n\n{table(frame, index)}")
    return "\n\n".join(parts) + "\n"


def to_html(result: ModelResult) -> str:
    """A standalone HTML page of the same report (for a website or a word processor).

    Parameters
    ----------
    result
        A fitted model (see :func:`klastergeo.analysis.regression.fit`).
    """
    body = [f"<h1>{html.escape(TITLES[result.kind])}: {html.escape(result.outcome)}</h1>"]
    for title, frame, index in _sections(result):
        body.append(f"<h2>{html.escape(title)}</h2>")
        body.append(_rounded(frame).to_html(index=index, na_rep="", border=0))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(TITLES[result.kind])}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{padding:.2em .6em;border-bottom:1px solid #ccc;text-align:right}</style>"
        "</head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def to_latex(result: ModelResult) -> str:
    """LaTeX tables (booktabs) of the same report, to paste into a paper.

    Parameters
    ----------
    result
        A fitted model (see :func:`klastergeo.analysis.regression.fit`).
    """
    parts = [f"% {TITLES[result.kind]}: {result.outcome} (klastergeo)"]
    for title, frame, index in _sections(result):
        body = _rounded(frame).to_latex(index=index, na_rep="", escape=True)
        parts.append(
            "\\begin{table}[ht]\n\\centering\n"
            f"\\caption{{{_latex_escape(title)}}}\n{body}\\end{{table}}"
        )
    return "\n\n".join(parts) + "\n"


def write(result: ModelResult, folder: str | Path, *, locale: str = "en") -> dict[str, Path]:
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
            **result.fit,
        },
    )
    write_text(paths["markdown"], to_markdown(result))
    write_text(paths["html"], to_html(result))
    write_text(paths["latex"], to_latex(result))
    return paths


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column].dtype):
            out[column] = out[column].map(_fmt)
    return out


def _latex_escape(text: str) -> str:
    for char, repl in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_")):
        text = text.replace(char, repl)
    return text


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4f}" if np.isfinite(value) else ("inf" if np.isinf(value) else "")
    return str(value)
