"""How a run's result shows itself in Python: a short ``repr`` (one line with the study
area, the firms, areas, sectors, sentra and the output folder) and, in a notebook, a
small HTML summary in the run's language with links to its pages
(:class:`klastergeo.app.pipeline.RunResult`)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from klastergeo.publish import messages

__all__ = ["TOP_SENTRA", "result_html", "result_repr"]

#: How many sentra (the largest by firms) the notebook summary lists.
TOP_SENTRA = 5

#: The pages a notebook summary links, with the ``terminal`` texts naming them.
_PAGES = (("map.html", "map"), ("report.html", "report"), ("index.html", "start_page"))


def _study_area(result: Any, whole: str) -> str:
    """The study area's name, code and level (``Kabupaten Klaten 33.10 (desa)``), or
    ``whole`` without a code."""
    areas = result.record.areas
    code = areas.study_area if areas is not None else None
    name = areas.study_area_name if areas is not None else None
    level = areas.level if areas is not None else ""
    shown = (f"{name} {code}" if name else str(code)) if code else whole
    return f"{shown} ({level})" if level else shown


def result_repr(result: Any) -> str:
    """One line naming what a run found and where its files are.

    Parameters
    ----------
    result
        A :class:`klastergeo.app.pipeline.RunResult`.

    Examples
    --------
    >>> result_repr(result)  # doctest: +SKIP
    "RunResult(study area 33.10 (desa): 1,238 of 1,240 firms kept, 144 areas, 2 sectors,
    1 sentra; out='/tmp/run')"
    """
    records = result.record.records
    read, kept = (records.read, records.kept) if records is not None else (0, 0)
    sectors = result.record.sectors
    analysed = len(sectors.analysed) if sectors is not None else 0
    return (
        f"RunResult(study area {_study_area(result, 'all areas')}: {kept:,} of {read:,} "
        f"firms kept, {len(result.areas):,} areas, {analysed} sectors, "
        f"{len(result.sentra):,} sentra; out={str(result.out)!r})"
    )


def result_html(result: Any) -> str:
    """A notebook's view of a run, in its language: the records read, kept and rejected,
    the areas, sectors and sentra, the largest sentra, and links to its pages (``file://``
    addresses of the pages that exist); every text escaped.

    Parameters
    ----------
    result
        A :class:`klastergeo.app.pipeline.RunResult`.
    """
    lang = result.record.config.map_lang if result.record.config is not None else "id"
    lang = lang if lang in messages.LANGS else "id"
    said = messages.text("terminal", lang)
    records = result.record.records
    sectors = result.record.sectors
    counts = [
        (said["read"], records.read if records is not None else 0),
        (said["kept"], records.kept if records is not None else 0),
        (said["rejected"], records.rejected if records is not None else 0),
        (said["areas"], len(result.areas)),
        (said["sectors"], len(sectors.analysed) if sectors is not None else 0),
        ("sentra", len(result.sentra)),
    ]
    rows = "".join(
        f"<tr><th>{_e(name)}</th><td>{_e(messages.number(n, lang))}</td></tr>" for name, n in counts
    )
    parts = [
        f"<div class='klastergeo-run' lang='{_e(lang)}'>",
        f"<strong>{_e(said['notebook'])}</strong> &middot; {_e(said['study_area'])}: "
        f"{_e(_study_area(result, said['whole']))}",
        f"<table>{rows}</table>",
        _top_sentra(result.sentra, lang),
        _links(Path(result.out), said),
        "</div>",
    ]
    return "\n".join(p for p in parts if p)


def _top_sentra(sentra: Any, lang: str) -> str:
    """The largest sentra by firms: id, name, sector, firms, LQ."""
    if not len(sentra):
        return ""
    said = messages.text("terminal", lang)
    top = sentra.sort_values("n_firms", ascending=False, kind="stable").head(TOP_SENTRA)
    heads = "".join(
        f"<th>{_e(said[k])}</th>" for k in ("sentra_id", "name", "sector", "firms", "lq")
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{_e(v)}</td>"
            for v in (
                messages.cell_text(row["sentra_id"]),
                messages.cell_text(row.get("name")),
                messages.cell_text(row.get("sector")),
                messages.number(row.get("n_firms"), lang),
                messages.number(row.get("lq"), lang, 2),
            )
        )
        + "</tr>"
        for _, row in top.iterrows()
    )
    title = f"{said['top_sentra']} ({messages.number(len(top), lang)})"
    return f"<p>{_e(title)}</p><table><tr>{heads}</tr>{body}</table>"


def _links(out: Path, said: Any) -> str:
    """Links to the run's pages that exist, and its folder."""
    links = [
        f"<a href='{_e((out / name).resolve().as_uri())}' target='_blank'>{_e(said[what])}</a>"
        for name, what in _PAGES
        if (out / name).is_file()
    ]
    shown = f"{_e(said['pages'])}: {' &middot; '.join(links)}<br>" if links else ""
    return f"<p>{shown}{_e(said['folder'])}: <code>{_e(str(out))}</code></p>"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
