"""The one module that writes outputs: every file of a run, into its staging folder
(:class:`klastergeo._io.RunFolder`), then ``summary.json`` with the file manifest and the
commit. Column lists come from :mod:`klastergeo.schema`."""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from klastergeo import __version__, aggregate, diagnosis, models
from klastergeo import records as records_mod
from klastergeo._io import RunFolder, atomic_path, write_json, write_text
from klastergeo.config import RunConfig
from klastergeo.publish import report as report_mod
from klastergeo.publish import site as publish_mod
from klastergeo.schema import AREA_COLUMNS, SENTRA_COLUMNS

__all__ = [
    "area_model_outputs",
    "csv",
    "figures",
    "global_table",
    "model_outputs",
    "rejection_report",
    "report_page",
    "run_tables",
    "validation_reports",
    "versions",
]

logger = logging.getLogger(__name__)

#: Packages whose versions a summary records.
VERSIONED = (
    "numpy",
    "pandas",
    "pyarrow",
    "shapely",
    "geopandas",
    "libpysal",
    "esda",
    "statsmodels",
    "folium",
    "h3",
    "mapclassify",
)


def versions() -> dict[str, str]:
    """klastergeo's version and those of the packages it computes with."""
    out = {"klastergeo": __version__}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def csv(frame: pd.DataFrame, path: Path, *, index: bool = False) -> None:
    """A CSV file, written atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=index, encoding="utf-8")


def validation_reports(folder: Path, report: records_mod.ValidationReport) -> None:
    """``rejected.csv`` and ``repaired.csv`` of a validation."""
    csv(report.rejected, folder / "rejected.csv")
    csv(report.repaired, folder / "repaired.csv")


def rejection_report(
    where: Path,
    config: RunConfig,
    report: records_mod.ValidationReport,
    head: dict[str, Any],
    timings: dict[str, float],
) -> None:
    """The report of a run that stopped at validation, committed as its own folder."""
    with RunFolder(where, kind="rejected") as folder:
        validation_reports(folder.path, report)
        folder.commit(
            {
                **head,
                "records": report.summary(),
                "sentra": None,
                "timings": timings,
                "config": config.to_dict(),
                "versions": versions(),
            }
        )


def model_outputs(
    folder: Path,
    report: records_mod.ValidationReport | None,
    fitted: dict[str, models.ModelResult],
) -> None:
    """The model tables of every kind (``models/``), with the validation reports."""
    if report is not None:
        validation_reports(folder, report)
    for result in fitted.values():
        models.write(result, folder / "models")


def area_model_outputs(
    folder: Path, tables: dict[str, pd.DataFrame], result: dict[str, Any]
) -> None:
    """The area-level model's tables and fit (``models/area_*``)."""
    models_dir = folder / "models"
    csv(tables["coefficients"], models_dir / "area_ols_coefficients.csv")
    csv(tables["diagnostics"], models_dir / "area_diagnostics.csv")
    choice = result["recommended"]
    if choice in tables:
        csv(tables[choice], models_dir / f"area_{choice}_coefficients.csv")
    write_json(models_dir / "area_fit.json", result)


def global_table(
    global_stats: pd.DataFrame, counts: pd.DataFrame, table: pd.DataFrame, sentra: pd.DataFrame
) -> pd.DataFrame:
    """``global.csv``: firms, global Moran's I, hot-spot areas and sentra per sector."""
    firm_totals = counts.groupby(level="sector")["n_firms"].sum()
    stats = global_stats.copy()
    stats.insert(0, "n_firms", firm_totals.reindex(stats.index).to_numpy())
    hot = table["gi_bin"].ge(2).groupby(level="sector").sum()
    stats["hot_spot_areas"] = hot.reindex(stats.index).fillna(0).astype(int).to_numpy()
    stats["sentra"] = (
        sentra["sector"].value_counts().reindex(stats.index).fillna(0).astype(int).to_numpy()
        if len(sentra)
        else 0
    )
    return stats


def run_tables(
    folder: Path,
    *,
    firms: gpd.GeoDataFrame,
    table: pd.DataFrame,
    sentra: gpd.GeoDataFrame,
    global_stats: pd.DataFrame,
    profiles: Any,
    members: pd.DataFrame | None,
    bands: pd.DataFrame | None,
) -> None:
    """The data files of a run: areas, sentra, global statistics, firms and profiles."""
    areas_table = table.reset_index()
    columns = [c for c in AREA_COLUMNS if c in areas_table.columns]
    columns += [c for c in areas_table.columns if c.startswith("p_")]
    with atomic_path(folder / "areas.parquet") as tmp:
        areas_table[columns].to_parquet(tmp, index=False)
    plain = (
        pd.DataFrame(sentra.drop(columns=sentra.geometry.name))
        if len(sentra)
        else pd.DataFrame(columns=list(SENTRA_COLUMNS))
    )
    csv(plain, folder / "sentra.csv")
    geojson = (
        sentra.to_crs(4326).to_json(drop_id=True)
        if len(sentra)
        else '{"type": "FeatureCollection", "features": []}'
    )
    write_text(folder / "sentra.geojson", geojson)
    csv(global_stats, folder / "global.csv", index=True)
    with atomic_path(folder / "firms.parquet") as tmp:
        firms.to_parquet(tmp)
    csv(profiles.concentration, folder / "concentration.csv")
    csv(profiles.typology, folder / "typology.csv", index=True)
    csv(profiles.diagnosis, folder / "diagnosis.csv", index=True)
    if members is not None:
        csv(members.reset_index(), folder / "sentra_areas.csv")
    for name, frame in profiles.patterns.items():
        csv(frame, folder / f"{name}.csv")
    if bands is not None:
        csv(bands, folder / "scale.csv")


def radar_charts(folder: Path, config: RunConfig, diagnosed: pd.DataFrame, sentra: Any) -> None:
    """A radar chart per diagnosed sentra (``diagnosis/``) when configured."""
    if config.diagnosis.charts and diagnosed["n_items"].gt(0).any():
        diagnosis.radar_charts(diagnosed, folder / "diagnosis", sentra=sentra)


def figures(
    folder: Path,
    config: RunConfig,
    *,
    areas: gpd.GeoDataFrame,
    table: pd.DataFrame,
    sentra: pd.DataFrame,
    counts: pd.DataFrame,
    graph: Any,
    analysed: tuple[str, ...],
    outlines: gpd.GeoDataFrame | None,
) -> list[report_mod.Figure]:
    """Static PNGs (``figures/``) of the sectors ``[report] figures`` names: Gi* and LISA
    maps and a Moran scatterplot per sector."""
    from klastergeo.publish import figures as static

    choice = config.report.figures
    if choice == "none":
        return []
    sectors = (
        sorted(str(s) for s in analysed)
        if choice == "all"
        else sorted(set(sentra["sector"].astype(str)))
    )
    if not sectors:
        return []
    target = folder / "figures"
    written = static.sector_figures(
        areas,
        table,
        sectors,
        target,
        lang=config.map.lang,
        outlines=outlines,
        source=Path(str(config.records.path)).name,
    )
    matrix = aggregate.wide(counts, "n_firms")
    out = []
    for path in written:
        kind, sector = path.stem.split("_", 1)
        label = "Gi*" if kind == "gi" else "LISA"
        out.append(report_mod.Figure(f"figures/{path.name}", f"{label}: {sector}"))
    for sector in sectors:  # one scatterplot per sector (tens)
        path = static.moran_scatterplot(
            matrix[sector], graph, target / f"moran_{sector}.png", title=f"{sector}"
        )
        out.append(report_mod.Figure(f"figures/{path.name}", f"Moran: {sector}"))
    return out


def report_page(
    folder: Path,
    config: RunConfig,
    summary: dict[str, Any],
    *,
    sentra: pd.DataFrame,
    global_stats: pd.DataFrame,
    fitted: dict[str, models.ModelResult],
    shown: list[report_mod.Figure],
    has_map: bool,
) -> None:
    """``report.html``."""
    page = report_mod.build_report(
        summary,
        sentra=sentra,
        global_stats=global_stats,
        models=fitted,
        figures=shown,
        map_file="map.html" if has_map else None,
        lang=config.map.lang,
        subtitle=config.map.title or "",
    )
    write_text(folder / "report.html", page)


def index_page(
    folder: Path, config: RunConfig, summary: dict[str, Any], shown: list[report_mod.Figure]
) -> None:
    """``index.html``, the landing page linking the files the run writes."""
    write_text(
        folder / "index.html",
        publish_mod.index_page(
            summary,
            folder,
            lang=config.map.lang,
            title=config.map.title,
            figures=[f.src for f in shown if f.src.startswith("figures/")],
        ),
    )


def run_summary(
    config: RunConfig,
    head: dict[str, Any],
    *,
    report: records_mod.ValidationReport,
    areas: gpd.GeoDataFrame,
    firms_per_area: pd.Series,
    weights_info: dict[str, Any],
    analysed: tuple[str, ...],
    skipped: dict[str, int],
    sentra: pd.DataFrame,
    model_notes: dict[str, Any],
    not_computed: list[dict[str, str]],
    timings: dict[str, float],
) -> dict[str, Any]:
    """The content of a run's ``summary.json`` (the manifest is added at the commit)."""
    return {
        **head,
        "records": report.summary(),
        "areas": {
            "level": config.area.level,
            "study_area": config.area.code,
            "count": len(areas),
            "with_firms": int((firms_per_area > 0).sum()),
            "weights": weights_info,
        },
        "sectors": {"analysed": [str(s) for s in analysed], "skipped_few_firms": skipped},
        "sentra": len(sentra),
        "sentra_by_sector": {
            str(k): int(v) for k, v in sentra["sector"].value_counts().sort_index().items()
        }
        if len(sentra)
        else {},
        "models": model_notes,
        "not_computed": not_computed,
        "timings": timings,
        "config": config.to_dict(),
        "versions": versions(),
    }
