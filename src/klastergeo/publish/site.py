"""Publishing: a static folder an agency can put on any web server (or open from a disk).

:func:`index_page` is the landing page a run writes as ``index.html`` (the map embedded,
key numbers, downloads, figures and an iframe snippet to embed the map elsewhere).
:func:`publish` copies what is meant for the public from a run's output folder into a site
folder - map, report, index, figures and data downloads (GeoJSON/CSV, the GeoPackages of
the areas and sentra, the workbook without its firm-level sheet; no firm-level data unless
asked) - and writes ``embed.html`` with the iframe snippet. Every index page lists each
output of its folder with one line on what it holds (:func:`downloads`). A run over surveys
becomes its start page, change map and aggregate tables with every period's site in
``periods/<period>/``. Every link is relative, so the folder works from ``https://...``
and from ``file://`` alike.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from klastergeo.errors import ConfigError, DataError
from klastergeo.io.files import RunFolder, environment_cause, write_csv, write_json, write_text
from klastergeo.publish import messages
from klastergeo.publish.record import ConfigRecord, DisclosureRecord, RunRecord

__all__ = [
    "DOWNLOADS",
    "FIRM_DECIMALS",
    "PERIOD_PAGES",
    "PERIOD_TABLES",
    "PUBLIC_FILES",
    "downloads",
    "downloads_html",
    "embed_snippet",
    "firm_sheets",
    "index_page",
    "public_summary",
    "public_workbook",
    "publish",
]

logger = logging.getLogger(__name__)

#: Decimal degrees of published firm coordinates (3: about 110 m).
FIRM_DECIMALS = 3
#: What each output of a run holds: file (a folder ends with ``/``) -> description,
#: per language (the ``downloads`` group of :mod:`klastergeo.publish.messages`), in the
#: order the index page lists them.
DOWNLOADS: dict[str, dict[str, str]] = {
    name: {lang: messages.MESSAGES["downloads"][lang][name] for lang in messages.LANGS}
    for name in messages.MESSAGES["downloads"]["en"]
}
#: Files of a run a site publishes as they are (the workbook without its firm-level
#: sheets, :func:`public_workbook`; the area table as ``areas.csv``): pages, area-level
#: layers and aggregate tables, all written through disclosure control.
PUBLIC_FILES = (
    "report.html",
    "areas.gpkg",
    "sentra.gpkg",
    "measures.gpkg",
    "sentra.geojson",
    "sentra.csv",
    "sentra_areas.csv",
    "global.csv",
    "concentration.csv",
    "typology.csv",
    "diagnosis.csv",
    "clark_evans.csv",
)
#: The pages of a folder that link the others (never listed among its files).
_START = "index.html"
#: The index page's texts per language (the ``site`` group of the catalogue).
_TEXT = messages.MESSAGES["site"]


def embed_snippet(title: str, *, src: str = "map.html") -> str:
    """An iframe that embeds the map in another page.

    Parameters
    ----------
    title
        The iframe's title (what screen readers announce).
    src
        The map page, relative to the page that embeds it.

    Examples
    --------
    >>> embed_snippet("Sentra").startswith('<iframe src="map.html" title="Sentra"')
    True
    """
    import html

    return (
        f'<iframe src="{html.escape(src)}" title="{html.escape(title)}" width="100%" '
        'height="600" style="border:0" loading="lazy"></iframe>'
    )


def _size(path: Path, lang: str) -> str:
    """A file's or folder's size as a reader takes it in: ``0,3 MB``, ``12 kB`` (never
    ``0 kB``: a file of a few bytes is ``1 kB``)."""
    if path.is_dir():
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    else:
        size = path.stat().st_size
    if size >= 1e5:
        return f"{messages.number(size / 1e6, lang, 1)} MB"
    return f"{messages.number(max(1, round(size / 1e3)), lang)} kB"


def downloads(folder: str | Path, lang: str) -> list[dict[str, str]]:
    """The outputs in ``folder`` with one line each on what they hold, in ``lang``:
    every file and folder of :data:`DOWNLOADS` present (``summary.json`` always: it is
    written last, when a run folder is committed), in that order.

    Parameters
    ----------
    folder
        A run folder or a published site.
    lang
        ``"id"`` or ``"en"``.

    Returns
    -------
    list of dict
        ``name`` (a folder ends with ``/``), ``href`` (empty for a folder: a web server
        may not list it), ``what`` and ``size``.
    """
    folder = Path(folder)
    lang = messages.check_lang(lang)
    out = []
    for name, what in DOWNLOADS.items():
        path = folder / name.rstrip("/")
        present = path.is_dir() if name.endswith("/") else path.is_file()
        if not (present or name == "summary.json"):
            continue
        out.append(
            {
                "name": name,
                "href": "" if name.endswith("/") else name,
                "what": what[lang],
                "size": _size(path, lang) if present else "",
            }
        )
    return out


def downloads_html(folder: str | Path, lang: str) -> str:
    """:func:`downloads` as the list a page shows (``<ul class="files">``), escaped.

    Parameters
    ----------
    folder
        A run folder or a published site.
    lang
        ``"id"`` or ``"en"``.
    """
    import html

    items = []
    for item in downloads(folder, lang):
        name = html.escape(item["name"])
        load = "" if name.endswith(".html") else " download"  # a page opens, a file downloads
        link = f'<a href="{name}"{load}>{name}</a>' if item["href"] else f"<code>{name}</code>"
        size = f" ({html.escape(item['size'])})" if item["size"] else ""
        items.append(f"<li>{link} &ndash; {html.escape(item['what'])}{size}</li>")
    return '<ul class="files">\n' + "\n".join(items) + "\n</ul>"


def index_page(
    summary: RunRecord,
    folder: str | Path,
    *,
    lang: str = "id",
    title: str | None = None,
    figures: Sequence[str] = (),
    captions: Mapping[str, str] | None = None,
) -> str:
    """The landing page of a run folder: its key numbers, map, figures and every output
    present in ``folder`` with what it holds (:func:`downloads`).

    Parameters
    ----------
    summary
        The run's record (``summary.json``: records, areas, sentra, config, created).
    folder
        The run folder; the downloads, map, report and figures present in it are linked.
    lang
        ``"id"`` or ``"en"``.
    title
        The page's heading (default: the language's standard title), followed by the
        study area's name when it does not name it.
    figures
        Figures to show, as paths relative to ``folder`` (``figures/...``).
    captions
        Each figure's caption (its alternative text); the file name when missing.
    """
    import jinja2
    import markupsafe

    from klastergeo.publish.maps import map_title

    folder = Path(folder)
    t = _TEXT[messages.check_lang(lang)]
    # the study area by name, as the map and the report head theirs
    place = summary.areas.study_area_name if summary.areas else None
    heading = map_title(title or t["title"], lang, place)
    template = jinja2.Environment(autoescape=True).from_string(
        resources.files("klastergeo.publish").joinpath("templates/index.html.j2").read_text("utf-8")
    )
    path = summary.config.records_path
    return template.render(
        lang=lang,
        t=t,
        title=heading,
        created=messages.date(summary.created, lang),
        version=summary.klastergeo,
        source=Path(path).name if path else "",  # the name, never the machine's path
        n_sentra=summary.sentra if isinstance(summary.sentra, int) else 0,
        kept=messages.number(summary.records.kept if summary.records else 0, lang),
        n_areas=messages.number(summary.areas.count if summary.areas else 0, lang),
        has_map=(folder / "map.html").exists(),
        has_report=(folder / "report.html").exists(),
        downloads=markupsafe.Markup(downloads_html(folder, lang)),  # escaped there
        figures=[
            {"src": f, "alt": (captions or {}).get(f, Path(f).name)}
            for f in figures
            if (folder / f).exists()
        ],
        embed=embed_snippet(heading),
    )


def _file_name(path: Any) -> str:
    """The last part of a path written on any system (``C:\\data\\ukm.csv`` too)."""
    return re.split(r"[\\/]", str(path))[-1]


def public_summary(summary: RunRecord) -> RunRecord:
    """A run's record as a site may show it: file paths of the machine reduced to file
    names, the output folder and the file manifest left out.

    Parameters
    ----------
    summary
        The run's record (it is not modified).
    """
    from klastergeo.options import PATH_KEYS, PATH_LIST_KEYS

    sections = summary.config.sections
    config = {k: dict(v) if isinstance(v, dict) else v for k, v in sections.items()}
    config.pop("out", None)
    for section, key in PATH_KEYS | PATH_LIST_KEYS:  # every path the configuration declares
        block = config.get(section)
        if not isinstance(block, dict) or not block.get(key):
            continue
        value = block[key]
        block[key] = (
            [_file_name(v) for v in value] if isinstance(value, list | tuple) else _file_name(value)
        )
    return summary.replace(files=None, config=ConfigRecord.from_json(config))


def publish(
    run_folder: str | Path,
    site: str | Path,
    *,
    with_firms: bool = False,
    firm_decimals: int = FIRM_DECIMALS,
    lang: str | None = None,
) -> list[Path]:
    """Copy a run's public outputs into ``site`` (replaced atomically) and write its
    ``index.html`` and ``embed.html``.

    Nothing firm-level is published unless asked: the map loses its firm data block, the
    workbook its rejected-records sheet (:func:`public_workbook`), and the records,
    rejected rows and firm table stay behind.

    A run over surveys (``--period-col`` or several ``--records``) is published whole:
    its start page (``index.html``, in the run's language), change map and aggregate
    tables (:data:`PERIOD_PAGES`, :data:`PERIOD_TABLES`), and every period's public site
    in ``periods/<period>/``, made as a run's is (its ``index.html`` in ``lang``).

    Parameters
    ----------
    run_folder
        The ``--out`` folder of ``klastergeo run`` (of one registry or over surveys).
    site
        The folder to publish (created; replaced whole, and only once the new one is
        complete; it must not hold files of anything else).
    with_firms
        Also publish firm locations: the map's firm layers and ``firms.geojson`` (id,
        name, KBLI code, sector, area and sentra of each firm; no other attribute), with
        coordinates rounded to ``firm_decimals``, and the workbook whole. Off by
        default: registries may hold personal or confidential data.
    firm_decimals
        Decimal degrees kept of published firm coordinates: 3 (about 110 m, the default),
        2 (about 1.1 km) ... 5 (about 1 m).
    lang
        Language of the index page (default: the run's map language).

    Returns
    -------
    The files of the site.
    """
    if isinstance(firm_decimals, bool) or not isinstance(firm_decimals, int):
        raise ConfigError(f"firm_decimals={firm_decimals!r} must be an integer from 0 to 5")
    if not 0 <= firm_decimals <= 5:
        raise ConfigError(
            f"firm_decimals={firm_decimals!r} must be 0 to 5 decimal degrees "
            "(3 is about 110 m, 5 about 1 m)"
        )
    if lang is not None:
        messages.check_lang(lang)
    source = Path(run_folder)
    summary = _run_record(source)
    surveys = _surveys(source, summary)
    target = Path(site)
    if target.resolve() == source.resolve() or source.resolve() in target.resolve().parents:
        raise ConfigError(
            f"--site {str(target)!r} must be a folder outside the run folder {str(source)!r}"
        )
    with RunFolder(target, what="--site", kind="site") as stage:
        if surveys is None:
            public = _publish_run(
                source, stage.path, summary,
                with_firms=with_firms, firm_decimals=firm_decimals, lang=lang,
            )  # fmt: skip
        else:
            public = _publish_surveys(
                source, stage.path, summary, surveys,
                with_firms=with_firms, firm_decimals=firm_decimals, lang=lang,
            )  # fmt: skip
        files = stage.commit(public.to_json())
    logger.info("published %d file(s) to %s", len(files), target)
    return files


def _publish_run(
    source: Path,
    stage: Path,
    summary: RunRecord,
    *,
    with_firms: bool,
    firm_decimals: int,
    lang: str | None,
) -> RunRecord:
    """One run's public site in ``stage``: its public files, ``index.html`` and
    ``embed.html``; returns the site's summary (``summary.json`` is left to the
    caller)."""
    guarded = summary.disclosure is not None and summary.disclosure.enabled
    if not (guarded or with_firms):
        raise DataError(
            f"the run in {str(source)!r} was made without disclosure control "
            "([disclosure] enabled = false, or by an earlier version of klastergeo): its "
            "tables may carry single firms' workers, output or investment. Run it again "
            "with disclosure control (the default), or publish with --with-firms if the "
            "firms' data may be published"
        )
    weak = None if with_firms else _weaker_than_rules(summary)
    if weak is not None:
        raise DataError(
            f"the run in {str(source)!r} {weak}, or publish with --with-firms if the firms' "
            "data may be published"
        )
    config = summary.config
    language = messages.check_lang(lang or config.map_lang)
    locale = config.csv_locale
    stage.mkdir(parents=True, exist_ok=True)
    _copy_public(source, stage, with_firms=with_firms, firm_decimals=firm_decimals, locale=locale)
    figures = sorted(f"figures/{p.name}" for p in (stage / "figures").glob("*.png"))
    title = config.map_title
    public = _published(summary, with_firms=with_firms, firm_decimals=firm_decimals)
    write_text(stage / "embed.html", embed_snippet(title or _TEXT[language]["title"]) + "\n")
    write_text(
        stage / "index.html", index_page(public, stage, lang=language, title=title, figures=figures)
    )
    return public


def _weaker_than_rules(summary: RunRecord) -> str | None:
    """Why a run made with disclosure control still gives single firms away (what its
    rules let through, or areas smaller than its grid), or None.

    Rules that publish a sum of one or two firms (``min_firms`` below 3 with a
    dominance rule that does not catch them) give a firm's value to anyone, or to the
    other firm; H3 cells smaller than the grid point-based sentra are drawn from
    (``grid_m``) place a cell's firms within tens of metres by their count."""
    rules = summary.disclosure or DisclosureRecord()
    if not rules.readable:
        return "has disclosure rules that cannot be read (was summary.json edited?); run it again"
    min_firms, top, k, grid_m = rules.min_firms, rules.dominance_n, rules.dominance_k, rules.grid_m
    # one firm is all of its sum, two are all of theirs: the dominance rule catches
    # them unless it is off (k = 1), or looks at the largest firm only (a pair)
    single = min_firms < 2 and k >= 1
    if single or (min_firms < 3 and (k >= 1 or top < 2)):
        few = (
            "a single firm, which give its workers, output and investment to anyone"
            if single
            else "two firms, which give each firm's workers, output and investment to the other"
        )
        return (
            f"was made with disclosure.min_firms = {min_firms}, dominance_n = {top} and "
            f"dominance_k = {k:g}: its tables carry sums of {few}. Run it again with "
            "min_firms = 3 (the default) or more"
        )
    level = summary.config.area_level
    match = re.fullmatch(r"h3:(\d{1,2})", level)
    if match:
        import h3

        resolution = int(match.group(1))
        cell_m2 = float(h3.average_hexagon_area(resolution, unit="m^2"))
        if cell_m2 < grid_m**2:
            coarser = resolution
            while coarser > 0 and h3.average_hexagon_area(coarser, unit="m^2") < grid_m**2:
                coarser -= 1
            edge = float(h3.average_hexagon_edge_length(resolution, unit="m"))
            return (
                f"counts firms in H3 cells of about {cell_m2:,.0f} m2 (level {level}), "
                f"smaller than the disclosure grid's {grid_m:g} m cells "
                f"(disclosure.grid_m): a cell's firm count places its firms within about "
                f"{edge:.0f} m. Run it at h3:{coarser} or coarser"
            )
    return None


def _published(summary: RunRecord, *, with_firms: bool, firm_decimals: int) -> RunRecord:
    """A run's record as its site publishes it, with how it was published."""
    public = public_summary(summary)
    published = {"with_firms": with_firms, "firm_decimals": firm_decimals if with_firms else None}
    return public.replace(extra={**public.extra, "published": published})


#: The top-level pages of a run over surveys that a site publishes: the start page
#: (lineages, indicators, links to every period) and the change map.
PERIOD_PAGES = ("index.html", "map.html")
#: The top-level tables of a run over surveys that a site publishes, all aggregates (of
#: sentra lineages, regencies and areas; ``areas.parquet``, ``sentra.csv`` and
#: ``rejected_period.csv`` stay behind: every period's site has its own area and sentra
#: tables, and records without a period are firm-level). The one list: publishing copies
#: these (:func:`_copy_surveys_public`) and the start page links them.
PERIOD_TABLES = ("dynamics.csv", "lineage_links.csv", "indicators.csv", "emerging_hot_spots.csv")


def _surveys(source: Path, summary: RunRecord) -> list[str] | None:
    """The period folders of a run over surveys (``periods/<p>/``, time order), each a
    complete run; None for a run of one registry."""
    if summary.status != "periods":
        return None
    periods = summary.periods
    listed = summary.files or {}
    if not periods:
        raise DataError(
            f"{str(source / 'summary.json')!r} names no periods (was it edited?); run "
            "`klastergeo run` again, then publish"
        )
    folders = [str(p) for p in periods]
    lost = [p for p in folders if f"periods/{p}/summary.json" not in listed]
    if lost:
        raise DataError(
            f"the run over surveys in {str(source)!r} has no run of period(s) "
            f"{', '.join(map(repr, lost))} in periods/ (written by an earlier version, or "
            "edited); run `klastergeo run` again, then publish"
        )
    for folder in folders:  # periods (a few): each a complete run, checked above
        _run_record(source / "periods" / folder, verify=False)
    return folders


def _publish_surveys(
    source: Path,
    stage: Path,
    summary: RunRecord,
    periods: Sequence[str],
    *,
    with_firms: bool,
    firm_decimals: int,
    lang: str | None,
) -> RunRecord:
    """A run over surveys' public site in ``stage``: its start page, change map and
    aggregate tables (:func:`_copy_surveys_public`), and every period's public site in
    ``periods/<p>/`` as :func:`publish` makes a run's; returns the site's summary."""
    _copy_surveys_public(source, stage, with_firms=with_firms)
    for period in periods:  # periods (a few)
        folder = source / "periods" / period
        own = _run_record(folder, verify=False)
        public = _publish_run(
            folder,
            stage / "periods" / period,
            own,
            with_firms=with_firms,
            firm_decimals=firm_decimals,
            lang=lang,
        )
        write_json(stage / "periods" / period / "summary.json", public.to_json())
    if (stage / "map.html").exists():
        title = summary.config.map_title
        language = messages.check_lang(lang or summary.config.map_lang)
        heading = title if title is not None else messages.text("dynamics", language)["title"]
        write_text(stage / "embed.html", embed_snippet(heading) + "\n")
    if (stage / _START).exists():  # the start page lists what the site holds
        page = (stage / _START).read_text(encoding="utf-8")
        listed = downloads_html(stage, summary.config.map_lang)
        write_text(stage / _START, _FILES_LIST.sub(lambda _: listed, page, count=1))
    return _published(summary, with_firms=with_firms, firm_decimals=firm_decimals)


#: The list of files on a start page (:func:`downloads_html`).
_FILES_LIST = re.compile(r'<ul class="files">.*?</ul>', re.DOTALL)


def _copy_surveys_public(source: Path, stage: Path, *, with_firms: bool = False) -> None:
    """Copy the top level of a run over surveys that is public: :data:`PERIOD_PAGES`
    (the change map without firm data), :data:`PERIOD_TABLES`, its workbook when it has
    one (without firm-level sheets unless ``with_firms``) and the figures of the sentra
    per period."""
    from klastergeo.publish import maps

    for name in PERIOD_PAGES:
        if not (source / name).exists():
            continue
        page = (source / name).read_text(encoding="utf-8")
        write_text(stage / name, maps.without_firms(page) if name == "map.html" else page)
    for name in PERIOD_TABLES:
        if (source / name).exists():
            shutil.copy2(source / name, stage / name)
    if (source / "results.xlsx").exists():  # a workbook of the run over surveys
        if with_firms:
            shutil.copy2(source / "results.xlsx", stage / "results.xlsx")
        else:
            public_workbook(source / "results.xlsx", stage / "results.xlsx")
    if (source / "figures").is_dir():
        shutil.copytree(source / "figures", stage / "figures")


def _run_record(source: Path, *, verify: bool = True) -> RunRecord:
    """The record of a complete run in ``source`` whose files are unchanged
    (``verify=False``: a period's run, whose files the run over surveys' manifest
    lists and which are checked with it)."""
    from klastergeo.io.files import same_file

    summary = RunRecord.load(source)
    summary_path = source / "summary.json"
    if summary.kind != "run":
        written = (
            f"klastergeo {summary.kind}" if summary.kind is not None else "an earlier klastergeo"
        )
        raise DataError(
            f"{str(source)!r} holds the outputs of {written}, not of a run of this version; "
            "run `klastergeo run` into it again, then publish"
        )
    if summary.files is None:
        raise DataError(
            f"{str(summary_path)!r} lists no files (was it edited?); run `klastergeo run` "
            "again, then publish"
        )
    if summary.status not in ("complete", "sentra", "periods"):
        raise DataError(
            f"the run in {str(source)!r} stopped early (status {summary.status!r}); "
            "there is nothing to publish"
        )
    listed = summary.files.items() if verify else ()
    changed = [n for n, e in listed if not same_file(source / n, e)]
    if changed:
        raise DataError(
            f"the run folder {str(source)!r} was changed after the run wrote it "
            f"({', '.join(changed[:5])}); run it again, then publish"
        )
    return summary


def _copy_public(
    source: Path, stage: Path, *, with_firms: bool, firm_decimals: int, locale: str = "en"
) -> None:
    """Copy the run's public files into ``stage``: the map without firm data (or with
    rounded firms) and its province scripts, the area table as CSV (in the run's
    ``csv_locale``), figures, diagnosis, the aggregate tables and area-level layers
    (:data:`PUBLIC_FILES`), and the workbook without its firm-level sheets (whole with
    ``with_firms``)."""
    from klastergeo.publish import maps

    for name in PUBLIC_FILES:
        if (source / name).exists():
            _copy(source / name, stage / name)
    if (source / "results.xlsx").exists():
        if with_firms:
            _copy(source / "results.xlsx", stage / "results.xlsx")
        else:
            public_workbook(source / "results.xlsx", stage / "results.xlsx")
    if (source / "map.html").exists():
        page = (source / "map.html").read_text(encoding="utf-8")
        page = (
            maps.with_rounded_firms(page, decimals=firm_decimals)
            if with_firms
            else maps.without_firms(page)
        )
        write_text(stage / "map.html", page)
    if (source / "map").is_dir():  # a split map's province scripts: areas, no firms
        _copy(source / "map", stage / "map")
    if (source / "areas.parquet").exists():
        write_csv(pd.read_parquet(source / "areas.parquet"), stage / "areas.csv", locale=locale)
    for folder in ("figures", "diagnosis"):
        if (source / folder).is_dir():
            _copy(source / folder, stage / folder)
    if with_firms and (source / "firms").is_dir():
        write_text(stage / "firms.geojson", _public_firms(source, firm_decimals))


def _copy(source: Path, target: Path) -> None:
    """Copy a file or a folder; a full or read-only disk is an ``OSError`` naming the
    file written (``shutil`` names the file read, and ``copytree`` gathers one error per
    file into ``shutil.Error``), which the site folder reports as exit 2."""
    try:
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    except OSError as err:
        cause = environment_cause(err, target)
        if cause is None:
            raise
        if cause is err:  # copy2: filename is the source, filename2 the copy
            cause = OSError(err.errno, err.strerror, os.fsdecode(err.filename2 or target))
        raise cause from err


def firm_sheets(lang: str) -> list[str]:
    """The titles of the workbook's sheets that hold one row per firm (the rejected
    records), in ``lang``.

    Parameters
    ----------
    lang
        The workbook's language (the run's).
    """
    from klastergeo.publish import workbook

    own = getattr(workbook, "firm_sheets", None)  # the workbook's own list, when it has one
    if callable(own):
        return list(own(lang))
    return [workbook.SHEETS[messages.check_lang(lang)]["rejected"]]


def _prune_legend(book: Any, removed: Sequence[str], headers: set[str]) -> None:
    """Drop from the legend sheet ("Keterangan") the rows of the ``removed`` sheets and
    the class codes of their columns (``headers``) that no kept sheet shows: a published
    workbook explains only what it holds."""
    from klastergeo.publish import workbook

    if not removed:
        return
    for lang in messages.LANGS:
        t = workbook.SHEETS[lang]
        if t["notes"] not in book.sheetnames:
            continue
        legend = book[t["notes"]]
        kept = {
            str(c.value)
            for sheet in book.worksheets
            if sheet.title != t["notes"]
            for c in sheet[1]
            if c.value is not None
        }
        gone = [
            row[0].row
            for row in legend.iter_rows(min_row=2)
            if row[0].value in removed
            or (row[0].value == t["codes"] and row[1].value in headers - kept)
        ]
        for number in reversed(gone):  # from the bottom: the rows above keep their numbers
            legend.delete_rows(number)
        if legend.auto_filter.ref:
            legend.auto_filter.ref = f"A1:{legend.cell(1, legend.max_column).column_letter}"
            legend.auto_filter.ref += str(legend.max_row)


def public_workbook(source: Path, target: Path) -> Path:
    """Copy the workbook ``source`` to ``target`` without the sheets holding firm-level
    rows (:func:`firm_sheets`, in either language); every other sheet, its formats and
    the workbook's dates as they were (each part's date is the source's, so that the
    same run publishes the same bytes).

    Parameters
    ----------
    source
        A run's ``results.xlsx``.
    target
        The copy (written whole, then moved into place).
    """
    import zipfile

    from openpyxl import load_workbook

    from klastergeo.io.files import atomic_path

    book = load_workbook(source)
    firm = {title for lang in messages.LANGS for title in firm_sheets(lang)}
    removed = [t for t in book.sheetnames if t in firm]
    headers = {str(c.value) for t in removed for c in book[t][1] if c.value is not None}
    for title in removed:
        del book[title]
    _prune_legend(book, removed, headers)
    with atomic_path(target) as tmp:
        scratch = tmp.with_name(tmp.name + ".xlsx")
        try:
            book.save(scratch)
            with zipfile.ZipFile(source) as original:
                dates = {i.filename: i.date_time for i in original.infolist()}
                core = original.read("docProps/core.xml")
            stamp = next(iter(dates.values()), (1980, 1, 1, 0, 0, 0))
            with (
                zipfile.ZipFile(scratch) as saved,
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out,
            ):
                for info in saved.infolist():
                    when = dates.get(info.filename, stamp)
                    entry = zipfile.ZipInfo(info.filename, date_time=when)
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    entry.external_attr = 0o644 << 16
                    entry.create_system = 3
                    data = core if info.filename == "docProps/core.xml" else saved.read(info)
                    out.writestr(entry, data)
        finally:
            scratch.unlink(missing_ok=True)
    return target


#: Firm attributes a site publishes with ``--with-firms``.
_PUBLIC_FIRM_COLUMNS = ("name", "kbli", "sector", "area_code", "sentra_id")


def _public_firms(source: Path, decimals: int) -> str:
    import geopandas as gpd
    import shapely

    names = pq.read_schema(next((source / "firms").rglob("*.parquet"))).names
    columns = [c for c in (*_PUBLIC_FIRM_COLUMNS, "row") if c in names]
    firms = gpd.read_parquet(source / "firms", columns=[*columns, "geometry"]).to_crs(4326)
    if "row" in firms.columns:  # the provinces' files back in the registry's order
        firms = firms.sort_values("row", kind="stable")
    kept = [c for c in _PUBLIC_FIRM_COLUMNS if c in firms.columns]
    public = firms[[*kept, firms.geometry.name]].reset_index()
    rounded = shapely.transform(public.geometry.to_numpy(), lambda xy: np.round(xy, decimals))
    public = public.set_geometry(gpd.GeoSeries(rounded, index=public.index, crs=4326))
    return str(public.to_json(drop_id=True))
