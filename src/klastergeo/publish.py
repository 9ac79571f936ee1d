"""Publishing: a static folder an agency can put on any web server (or open from a disk).

:func:`index_page` is the landing page a run writes as ``index.html`` (the map embedded,
key numbers, downloads, figures and an iframe snippet to embed the map elsewhere).
:func:`publish` copies what is meant for the public from a run's output folder into a site
folder - map, report, index, figures and data downloads (GeoJSON/CSV; no firm-level data
unless asked) - and writes ``embed.html`` with the iframe snippet. Every link is relative,
so the folder works from ``https://...`` and from ``file://`` alike.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from klastergeo._errors import ConfigError
from klastergeo._io import StagedOutput, write_text

__all__ = ["DOWNLOADS", "embed_snippet", "index_page", "publish"]

logger = logging.getLogger(__name__)

#: Public downloads of a run: file -> description, per language.
DOWNLOADS: dict[str, dict[str, str]] = {
    "sentra.geojson": {
        "en": "sentra polygons (GeoJSON, EPSG:4326)",
        "id": "poligon sentra (GeoJSON, EPSG:4326)",
    },
    "sentra.csv": {"en": "sentra table", "id": "tabel sentra"},
    "sentra_areas.csv": {
        "en": "member areas of each sentra and their evidence",
        "id": "wilayah anggota tiap sentra dan buktinya",
    },
    "areas.csv": {
        "en": "statistics per area and sector (Gi*, LISA, LQ, cluster probability)",
        "id": "statistik per wilayah dan sektor (Gi*, LISA, LQ, probabilitas klaster)",
    },
    "global.csv": {
        "en": "global Moran's I per sector",
        "id": "Moran's I global per sektor",
    },
    "concentration.csv": {
        "en": "concentration indices per region level and sector",
        "id": "indeks konsentrasi per tingkat wilayah dan sektor",
    },
    "typology.csv": {"en": "Markusen typology per sentra", "id": "tipologi Markusen per sentra"},
    "diagnosis.csv": {
        "en": "Porter's-diamond diagnosis per sentra",
        "id": "diagnosis diamond Porter per sentra",
    },
    "clark_evans.csv": {
        "en": "nearest-neighbour index per sector and sentra",
        "id": "indeks tetangga terdekat per sektor dan sentra",
    },
    "summary.json": {
        "en": "run summary: records, parameters, timings, versions",
        "id": "ringkasan proses: data, parameter, waktu, versi",
    },
    "firms.geojson": {
        "en": "firms (only when published with --with-firms)",
        "id": "usaha (hanya bila diterbitkan dengan --with-firms)",
    },
}
_TEXT = {
    "id": {
        "created": "Dibuat",
        "source": "Sumber data",
        "sentra": "sentra",
        "firms": "usaha (data bersih)",
        "areas": "wilayah",
        "open_map": "Buka peta",
        "open_report": "Buka laporan",
        "downloads": "Unduh data",
        "figures": "Gambar",
        "embed": "Sematkan peta",
        "embed_note": "Salin kode ini ke halaman web Anda (peta.html di folder yang sama):",
        "title": "Sentra industri kecil dan menengah",
    },
    "en": {
        "created": "Created",
        "source": "Data source",
        "sentra": "sentra",
        "firms": "firms (clean records)",
        "areas": "areas",
        "open_map": "Open the map",
        "open_report": "Open the report",
        "downloads": "Downloads",
        "figures": "Figures",
        "embed": "Embed the map",
        "embed_note": "Copy this code into your web page (map.html in the same folder):",
        "title": "Small and medium industry clusters (sentra)",
    },
}


def embed_snippet(title: str, *, src: str = "map.html") -> str:
    """An iframe that embeds the map in another page.

    >>> embed_snippet("Sentra").startswith('<iframe src="map.html" title="Sentra"')
    True
    """
    import html

    return (
        f'<iframe src="{html.escape(src)}" title="{html.escape(title)}" width="100%" '
        'height="600" style="border:0" loading="lazy"></iframe>'
    )


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"


def index_page(
    summary: Mapping[str, Any],
    folder: str | Path,
    *,
    lang: str = "id",
    title: str | None = None,
    figures: Sequence[str] = (),
) -> str:
    """The landing page of a run folder (links only to files present in ``folder``)."""
    import jinja2

    if lang not in _TEXT:
        raise ConfigError(f"lang={lang!r} is not accepted; use 'id' or 'en'")
    folder = Path(folder)
    t = _TEXT[lang]
    heading = title or t["title"]
    downloads = [
        {"href": name, "what": what[lang], "size": _size(folder / name)}
        for name, what in DOWNLOADS.items()
        if (folder / name).exists()
    ]
    template = jinja2.Environment(autoescape=True).from_string(
        resources.files("klastergeo").joinpath("templates/index.html.j2").read_text("utf-8")
    )
    records = summary.get("records") or {}
    return template.render(
        lang=lang,
        t=t,
        title=heading,
        created=summary.get("created", ""),
        version=summary.get("klastergeo", ""),
        source=Path(str((summary.get("config") or {}).get("records", {}).get("path", ""))).name,
        n_sentra=summary.get("sentra") or 0,
        kept=f"{int(records.get('kept', 0)):,}",
        n_areas=f"{int((summary.get('areas') or {}).get('count', 0)):,}",
        has_map=(folder / "map.html").exists(),
        has_report=(folder / "report.html").exists(),
        downloads=downloads,
        figures=[f for f in figures if (folder / f).exists()],
        embed=embed_snippet(heading),
    )


def publish(
    run_folder: str | Path,
    site: str | Path,
    *,
    with_firms: bool = False,
    lang: str | None = None,
) -> list[Path]:
    """Copy a run's public outputs into ``site`` (replaced atomically) and write its
    ``index.html`` and ``embed.html``.

    Parameters
    ----------
    run_folder
        The ``--out`` folder of ``klastergeo run``.
    site
        The folder to publish (created; its previous content is replaced only once the new
        one is complete).
    with_firms
        Also publish ``firms.geojson`` (firm locations and attributes). Off by default:
        registries may hold personal or confidential data.
    lang
        Language of the index page (default: the run's map language).

    Returns
    -------
    The files of the site.
    """
    source = Path(run_folder)
    summary_path = source / "summary.json"
    if not summary_path.exists():
        raise ConfigError(
            f"{str(source)!r} is not a klastergeo run folder (no summary.json); "
            "run `klastergeo run --out DIR` first"
        )
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    if summary.get("sentra") is None:
        raise ConfigError(
            f"the run in {str(source)!r} stopped after validation; there is nothing to publish"
        )
    config = summary.get("config") or {}
    language = lang or (config.get("map") or {}).get("lang", "id")
    target = Path(site)
    if target.resolve() == source.resolve():
        raise ConfigError("the site folder must differ from the run folder")
    with StagedOutput(target) as stage:
        for name in ("map.html", "report.html", *DOWNLOADS):
            if (source / name).exists() and name != "areas.csv":
                shutil.copy2(source / name, stage.path / name)
        if (source / "areas.parquet").exists():
            pd.read_parquet(source / "areas.parquet").to_csv(stage.path / "areas.csv", index=False)
        for folder in ("figures", "diagnosis"):
            if (source / folder).is_dir():
                shutil.copytree(source / folder, stage.path / folder)
        if with_firms and (source / "firms.parquet").exists():
            import geopandas as gpd

            firms = gpd.read_parquet(source / "firms.parquet")
            write_text(stage.path / "firms.geojson", firms.to_crs(4326).to_json(drop_id=True))
        figures = sorted(f"figures/{p.name}" for p in (stage.path / "figures").glob("*.png"))
        title = (config.get("map") or {}).get("title")
        write_text(
            stage.path / "index.html",
            index_page(summary, stage.path, lang=language, title=title, figures=figures),
        )
        write_text(
            stage.path / "embed.html", embed_snippet(title or _TEXT[language]["title"]) + "\n"
        )
        files = sorted(p.relative_to(stage.path) for p in stage.path.rglob("*") if p.is_file())
    logger.info("published %d file(s) to %s", len(files), target)
    return [target / f for f in files]
