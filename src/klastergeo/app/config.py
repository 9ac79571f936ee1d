"""Run configuration: a TOML file and/or command-line flags, validated once.

A configuration has one section per pipeline concept::

    [records]                    # the enterprise registry
    path = "registry.csv"        # CSV, Excel, GeoPackage, GeoJSON, Shapefile, (Geo)Parquet
    decimal = "auto"             # "auto", "." or ","

    [columns]                    # which input column holds what (auto-detected when absent)
    id = "id_usaha"
    lat = "lintang"
    lon = "bujur"
    sector = "kbli"

    [area]
    code = "33"                  # study area: a Kemendagri code prefix
    level = "desa"               # desa | kecamatan | kabupaten | provinsi | h3:RES

    [analysis]
    permutations = 999
    seed = 0

    [sentra]
    min_firms = 20

Relative paths are resolved against the directory of the TOML file. Flags override the file.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime
import difflib
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal

from klastergeo.areas import ADMIN_LEVELS, check_area_code, is_area_code, parse_level
from klastergeo.errors import ConfigError, Phrase
from klastergeo.io.registry.columns import Columns
from klastergeo.io.registry.headers import unit_problem
from klastergeo.io.registry.period_labels import check_format
from klastergeo.options import (
    PATH_KEYS,
    PATH_LIST_KEYS,
    Decimal,
    Options,
    at_least,
    at_most,
    choice_problem,
    opt,
    positive,
)

if typing.TYPE_CHECKING:
    from klastergeo.analysis.disclosure import Rules

__all__ = [
    "ADMIN_LEVELS",
    "SECTIONS",
    "AnalysisOptions",
    "AreaOptions",
    "Columns",
    "DiagnosisOptions",
    "DisclosureOptions",
    "DynamicsOptions",
    "MapOptions",
    "ModelOptions",
    "Option",
    "OutputOptions",
    "PointPatternOptions",
    "ReadOptions",
    "ReportOptions",
    "RunConfig",
    "SentraOptions",
    "TypologyOptions",
    "is_area_code",
    "load_config",
    "options",
    "parse_assignment",
    "parse_level",
    "reference",
    "run_time",
]

WeightsKind = Literal["queen", "rook", "knn", "auto"]
IslandPolicy = Literal["nearest", "keep"]
InferenceKind = Literal["analytical", "permutation"]
AlternativeKind = Literal["two-sided", "greater", "lesser", "folded"]
LqMeasure = Literal["firms", "workers", "output"]
#: What the statistics can be of (:data:`klastergeo.analysis.measure.MEASURES`).
MeasureKind = Literal["firms", "workers", "output", "investment"]
SentraMethod = Literal["areas", "hdbscan", "dbscan"]
SpatialModel = Literal["auto", "lag", "error", "none"]
ModelKind = Literal["lpm", "logit", "probit"]
Lang = Literal["id", "en"]
CountsLayout = Literal["auto", "wide", "long"]
CsvLocale = Literal["en", "id"]
#: Which sector pairs ``colocation.csv`` holds (``[colocation] pairs``).
ColocationPairs = Literal["significant", "all"]


#: Largest permutation count: GeoDa's largest choice. Beyond it the pseudo p-value floor
#: (1e-5) no longer matters; use the analytical z (permutations = 0) instead.
MAX_PERMUTATIONS = 99_999
#: Largest number of simulations of a point-pattern envelope.
MAX_SIMULATIONS = 9_999


@dataclass(frozen=True)
class ReadOptions(Options):
    """How to read the registry file."""

    SECTION: ClassVar[str] = "records"

    path: Path | None = opt(
        None,
        "Enterprise registry: CSV, Excel, GeoPackage, GeoJSON, Shapefile or Parquet "
        "(repeat --records for one registry per survey period: records.files).",
        flag="--records",
        short="-r",
        more="records.files",
    )
    files: tuple[Path, ...] = opt(
        (),
        "One registry per survey period, in time order (or repeat --records): each is "
        "analysed as a run of its own in periods/<period>/ and the sentra are followed "
        "across them; records.periods are their labels.",
    )
    periods: tuple[str, ...] = opt(
        (),
        "Periods of the registries in records.files, in the same order, e.g. 2019,2023 "
        "(read as records.period_format says; default: the one year in each file name).",
        flag="--periods",
    )
    delimiter: str | None = opt(None, "CSV delimiter (default: sniffed).", flag="--delimiter")
    encoding: str | None = opt(
        None,
        "CSV encoding (default: UTF-8 with or without BOM, else Windows-1252).",
        flag="--encoding",
    )
    decimal: Decimal = opt(
        "auto", "Decimal mark of text numbers: auto, '.' or ','.", flag="--decimal"
    )
    crs: str | None = opt(
        None,
        "Coordinate reference system of the coordinates when they are not WGS84 degrees, "
        "e.g. EPSG:32749 (UTM zone 49S, metres) or EPSG:23834 (DGN95 / Indonesia TM-3 "
        "48.2); they are transformed to WGS84.",
        flag="--crs",
    )
    sheet: str | None = opt(
        None,
        "Excel sheet name (default: the first), or 'all' for every sheet holding the "
        "table (one sheet per kecamatan: the sheet's name is a column, 'sheet').",
        flag="--sheet",
    )
    layer: str | None = opt(None, "GIS layer name (default: the first).", flag="--layer")
    sector_digits: int = opt(
        2, "KBLI digits of a sector: 2 (division) to 5.", flag="--sector-digits"
    )
    output_unit: str | None = opt(
        None,
        "Unit of the production values: Rp, Rp ribu (Rp 000), Rp juta or Rp miliar; they "
        "are converted to Rp juta (default: the unit in the column's header, e.g. "
        "'Nilai Produksi (Rp. 000)', else Rp juta).",
        flag="--output-unit",
    )
    investment_unit: str | None = opt(
        None,
        "Unit of the investment values, as for --output-unit (default: the header's unit, "
        "else Rp juta).",
        flag="--investment-unit",
    )
    strict: bool = opt(
        False, "Any rejected or repaired record stops the run with exit code 2.", flag="--strict"
    )
    batch_size: int = opt(
        500_000,
        "Records validated per batch of a CSV or Parquet registry (memory follows it).",
        flag="--batch-size",
    )
    period_col: str | None = opt(
        None,
        "Column of each record's survey period (e.g. tahun): every period is analysed as "
        "a run of its own in periods/<period>/, and the sentra are followed across them.",
        flag="--period-col",
    )
    period_format: str = opt(
        "auto",
        "How period labels are read: auto (the one format that reads every label: a year "
        "2019, a quarter 2019-Q1, a month 2019-03, 03/2019 or Mar 2019, a date 2019-03-01 or "
        "01/03/2019, day first), year, or a pattern such as %d/%m/%Y or %b-%y (%Y year, %y "
        "its last two digits, %m month, %b month name, %d day, %q quarter). Periods are "
        "named 2019, 2019-Q1, 2019-03 or 2019-03-01; NA, null, - and empty are missing.",
        flag="--period-format",
        commands=("run", "sentra"),
    )
    scheduler: str = opt(
        "",
        "Where the batches are checked: on this machine ('', the default: records.workers "
        "processes), Dask's 'threads' or 'processes', or a running dask.distributed "
        "scheduler ('tcp://HOST:PORT'); needs klastergeo[dask].",
        flag="--scheduler",
    )
    workers: int = opt(
        2,
        "Processes that check the batches on this machine when no scheduler is given, "
        "each holding one batch, and that run the later steps' blocks of firms (at most "
        "one per core; 1 runs them one after another in this process). The outputs are "
        "the same for any number.",
        flag="--local-workers",
    )

    def _problems(self) -> list[str | None]:
        problems = [
            choice_problem("records.decimal", self.decimal, Decimal),
            *self._period_problems(),
        ]
        from klastergeo.io.registry.distributed import scheduler_problem

        problems.append(scheduler_problem("records.scheduler", self.scheduler))
        problems.append(unit_problem("records.output_unit", self.output_unit))
        problems.append(unit_problem("records.investment_unit", self.investment_unit))
        if self.batch_size < 1:
            problems.append(f"records.batch_size={self.batch_size!r} must be at least 1")
        if self.workers < 1:
            problems.append(
                f"records.workers={self.workers!r} must be at least 1 (1: no pool of processes)"
            )
        return problems + self._reading_problems()

    def _period_problems(self) -> list[str]:
        """Several registries (``files``) and their labels (``periods``)."""
        problems = []
        if self.files and self.path is not None:
            problems.append(
                f"records.path={str(self.path)!r} and records.files={len(self.files)} files "
                "both name registries; give one registry (path) or one per period (files)"
            )
        if self.files and self.period_col:
            problems.append(
                f"records.period_col={self.period_col!r} and records.files both give the "
                "periods; use a period column in one registry or one registry per period"
            )
        if len(self.files) == 1:
            problems.append(
                f"records.files holds one registry ({str(self.files[0])!r}); following sentra "
                "over time needs at least 2 (else use records.path)"
            )
        if self.periods and len(self.periods) != len(self.files):
            problems.append(
                f"records.periods={list(self.periods)!r} has {len(self.periods)} label(s) for "
                f"{len(self.files)} registries in records.files; give one label per registry"
            )
        if len(set(self.periods)) < len(self.periods):
            problems.append(f"records.periods={list(self.periods)!r} repeats a label")
        wrong = check_format(self.period_format)
        if wrong is not None:
            problems.append(
                f"records.period_format={self.period_format!r} is not accepted: {wrong}; use "
                "auto, year or a pattern such as %Y, %Y-%m, %d/%m/%Y or %b %Y"
            )
        return problems

    def _reading_problems(self) -> list[str | None]:
        """Delimiter, encoding and the rest of how a file is read."""
        from klastergeo.io.registry.coordinates import check_crs

        problems: list[str | None] = [check_crs(self.crs)]
        if self.sector_digits not in (2, 3, 4, 5):
            problems.append(
                f"records.sector_digits={self.sector_digits!r} is not a KBLI level; "
                "use 2 (division), 3, 4 or 5"
            )
        if self.delimiter is not None and (
            len(self.delimiter) != 1 or self.delimiter in '"\r\n' or not self.delimiter.isascii()
        ):
            problems.append(
                f"records.delimiter={self.delimiter!r} must be one character such as ';', "
                "',', '|' or a tab (ASCII; not a quote or a line break)"
            )
        if self.encoding is not None and not _text_encoding(self.encoding):
            problems.append(
                f"records.encoding={self.encoding!r} is not a known text encoding; use "
                "e.g. 'utf-8', 'cp1252' (Windows-1252) or 'latin-1', or leave it out to "
                "detect it"
            )
        return problems


def _text_encoding(name: str) -> bool:
    try:
        info = codecs.lookup(name)
    except LookupError:
        return False
    # hex, rot13, base64 and the like are codecs, but not text encodings
    return bool(getattr(info, "_is_text_encoding", True)) and info.name not in (
        "idna",
        "punycode",
    )


@dataclass(frozen=True)
class AreaOptions(Options):
    """Study area, boundaries and the unit of analysis."""

    SECTION: ClassVar[str] = "area"

    boundaries: Path | None = opt(
        None,
        "Directory of <level>.parquet boundaries or one polygon file (default: "
        "$KLASTERGEO_DATA_DIR, then data/boundaries).",
        flag="--boundaries",
        short="-b",
    )
    code: str | None = opt(
        None,
        "Study area code prefix, e.g. 33 (Jawa Tengah) or 33.11, or its name as typed: "
        "Klaten, 'Kab. Klaten', 'Kota Semarang' (a typo is read as placement reads one).",
        flag="--area",
        short="-a",
    )
    level: str = opt(
        "desa",
        "Unit of analysis: desa, kecamatan, kabupaten, provinsi or h3:RES.",
        flag="--level",
        short="-l",
    )
    id_col: str | None = opt(
        None, "Id column of a polygon file given with --boundaries.", flag="--area-id-col"
    )
    name_col: str | None = opt(None, "Name column of a polygon file.", flag="--area-name-col")
    snap_m: float = opt(
        100.0, "Records in a gap or off the coast within this many metres go to the nearest area."
    )
    name_similarity: float = opt(
        80.0,
        "Lowest similarity (0-100, rapidfuzz ratio) at which an area name with a typo is "
        "taken for the study area's name (one wrong letter in 10 scores 90).",
        flag="--name-similarity",
    )
    mismatch_m: float = opt(
        500.0,
        "A point farther than this many metres from the area its record names is listed "
        "in repaired.csv as area_mismatch.",
        flag="--mismatch-m",
    )
    place_by: str = opt(
        "area",
        "What places a record whose point and named area disagree (area_mismatch): area or point.",
        flag="--place-by",
    )
    max_outside: float = opt(
        0.5,
        "Largest share of the placed records that may lie outside the study area: more "
        "stops the run (exit 2) before it computes, naming where they lie (the wrong "
        "--area); 1 goes on whatever.",
        flag="--max-outside",
    )

    def _problems(self) -> list[str | None]:
        problems: list[str | None] = []
        try:
            parse_level(self.level)
            if self.id_col is None:  # custom boundaries may use any id scheme
                check_area_code(self.code)
        except ConfigError as err:
            problems.append(str(err))
        problems.append(at_least("area.snap_m", self.snap_m, 0))
        problems.append(at_least("area.mismatch_m", self.mismatch_m, 0))
        if not 50 <= self.name_similarity <= 100:
            problems.append(
                f"area.name_similarity={self.name_similarity!r} must be from 50 to 100 "
                "(100: exact names only)"
            )
        if self.place_by not in ("area", "point"):
            problems.append(f"area.place_by={self.place_by!r} must be 'area' or 'point'")
        if not 0 <= self.max_outside <= 1:
            problems.append(
                f"area.max_outside={self.max_outside!r} is a share of the records: use a "
                "number from 0 to 1 (0.5: stop when more than half lie outside; 1: never)"
            )
        return problems


@dataclass(frozen=True)
class AnalysisOptions(Options):
    """Spatial weights and local statistics."""

    SECTION: ClassVar[str] = "analysis"

    seed: int = opt(0, "Seed of the permutations (and of every random draw).", flag="--seed")
    permutations: int = opt(
        999, "Conditional permutations (0 = analytical inference only).", flag="--permutations"
    )
    fdr: bool = opt(False, "Control the false discovery rate (Benjamini-Hochberg).", flag="--fdr")
    alpha: float = opt(0.05, "Significance level of the FDR control.")
    spec_fdr: bool = opt(
        True,
        "Decide the specialisation bins (spec_bin), and so the sentra, on Benjamini-Hochberg "
        "adjusted p-values within each sector.",
    )
    spec_margin: float = opt(
        1.25,
        "Least effect of the specialisation bins (spec_bin): a neighbourhood is hot when "
        "its location quotient is significantly above this (cold: below its inverse), not "
        "merely above 1, so dense estates of every sector stay quiet; 1 for the exact test "
        "of random labelling.",
    )
    weights: WeightsKind = opt(
        "queen",
        "queen, rook, knn or auto (a distance band chosen by incremental spatial autocorrelation).",
        flag="--weights",
    )
    tolerance_m: float = opt(
        10.0, "Borders closer than this many metres count as shared (queen).", flag="--tolerance"
    )
    k: int = opt(6, "Neighbours of knn weights (and of the automatic scale's fallback).")
    islands: IslandPolicy = opt(
        "nearest",
        "Areas without neighbours: nearest (link to the nearest area) or keep.",
        flag="--islands",
    )
    alternative: AlternativeKind = opt(
        "two-sided", "Alternative of the tests: two-sided, greater, lesser or folded."
    )
    gi_inference: InferenceKind = opt(
        "analytical", "Gi* bins from the analytical z or the permutations."
    )
    lisa_inference: InferenceKind = opt(
        "permutation", "LISA codes from the permutations or the analytical z."
    )
    min_sector_firms: int = opt(20, "Sectors with fewer firms are not analysed.")
    sectors: tuple[str, ...] = opt((), "Only these sectors (default: every sector).")
    measures: tuple[str, ...] = opt(
        ("firms",),
        "What the statistics are of: firms, workers, output, investment (several allowed, "
        "e.g. workers,output). Firms are always analysed (areas.parquet); each other "
        "measure is written to measures.csv and measures.gpkg.",
        flag="--measure",
    )

    def _problems(self) -> list[str | None]:
        return [
            *(choice_problem("analysis.measures", m, MeasureKind) for m in self.measures),
            None
            if len(set(self.measures)) == len(self.measures)
            else f"analysis.measures={self.measures!r} names a measure twice",
            at_least("analysis.permutations", self.permutations, 0, integer=True),
            at_most(
                "analysis.permutations",
                self.permutations,
                MAX_PERMUTATIONS,
                " (p-values below 1e-5 need the analytical z: permutations = 0)",
            ),
            at_least("analysis.seed", self.seed, 0, integer=True),
            None if 0 < self.alpha < 1 else _between("analysis.alpha", self.alpha),
            choice_problem("analysis.weights", self.weights, WeightsKind),
            choice_problem("analysis.islands", self.islands, IslandPolicy),
            choice_problem("analysis.alternative", self.alternative, AlternativeKind),
            choice_problem("analysis.gi_inference", self.gi_inference, InferenceKind),
            choice_problem("analysis.lisa_inference", self.lisa_inference, InferenceKind),
            at_least("analysis.tolerance_m", self.tolerance_m, 0),
            at_least("analysis.k", self.k, 1, integer=True),
            at_least("analysis.spec_margin", self.spec_margin, 1),
            at_least("analysis.min_sector_firms", self.min_sector_firms, 0, integer=True),
        ]


@dataclass(frozen=True)
class SentraOptions(Options):
    """Rules that make an area part of a sector's sentra."""

    SECTION: ClassVar[str] = "sentra"

    min_firms: int = opt(
        20,
        "Minimum firms of the sector in a sentra (its contiguous candidate areas together, "
        "or a point cluster).",
        flag="--min-firms",
    )
    lq_threshold: float = opt(
        2.0, "Minimum location quotient of a sentra area.", flag="--lq-threshold"
    )
    confidence: int = opt(
        95, "Confidence of a candidate area's specialisation (spec_bin): 90, 95 or 99."
    )
    min_area_firms: int = opt(5, "Minimum firms of the sector in each candidate area.")
    lq_measure: LqMeasure = opt("firms", "Location quotients of firms, workers or output.")
    extend: bool = opt(True, "Add specialised neighbours of the core areas to each sentra.")
    extend_min_firms: int = opt(5, "Minimum firms of the sector in an added neighbour.")
    extend_lq: float | None = opt(None, "Minimum LQ of an added neighbour (default: lq_threshold).")
    method: SentraMethod = opt(
        "areas", "Delineation: areas, or firms' points by hdbscan or dbscan."
    )
    eps_m: float = opt(
        300.0, "DBSCAN neighbourhood radius in metres; HDBSCAN merges clusters closer than this."
    )
    min_density_km2: float = opt(2.0, "Minimum firms per km2 of a point-based sentra.")
    min_samples: int | None = opt(
        None,
        "Core-point neighbours of the clustering (default: 5 for DBSCAN, "
        "min(min_firms, 10) for HDBSCAN).",
    )
    min_strength: float = opt(0.2, "HDBSCAN membership strength a firm needs to count.")

    def _problems(self) -> list[str | None]:
        return [
            at_least("sentra.min_firms", self.min_firms, 1, integer=True),
            at_least("sentra.lq_threshold", self.lq_threshold, 0),
            None
            if self.confidence in (90, 95, 99)
            else f"sentra.confidence={self.confidence!r}; use 90, 95 or 99",
            choice_problem("sentra.lq_measure", self.lq_measure, LqMeasure),
            at_least("sentra.min_area_firms", self.min_area_firms, 1, integer=True),
            at_least("sentra.extend_min_firms", self.extend_min_firms, 1, integer=True),
            None if self.extend_lq is None else at_least("sentra.extend_lq", self.extend_lq, 0),
            choice_problem("sentra.method", self.method, SentraMethod),
            positive("sentra.eps_m", self.eps_m),
            at_least("sentra.min_density_km2", self.min_density_km2, 0),
            None
            if self.min_samples is None
            else at_least("sentra.min_samples", self.min_samples, 1, integer=True),
            None
            if 0 <= self.min_strength <= 1
            else _between("sentra.min_strength", self.min_strength),
        ]


@dataclass(frozen=True)
class TypologyOptions(Options):
    """Markusen typology: which columns give ownership and local linkages, and the
    thresholds of :class:`klastergeo.analysis.typology.TypologyRules` to change."""

    SECTION: ClassVar[str] = "typology"

    ownership: str | None = opt(None, "Ownership column (lokal / cabang / negara).")
    linkages: tuple[str, ...] = opt((), "0/1 columns of local supplier and buyer links.")
    thresholds: dict[str, float] = opt(dict, "Typology rule thresholds to change.")

    def _problems(self) -> list[str | None]:
        from klastergeo.analysis.typology import TypologyRules

        known = {f.name for f in fields(TypologyRules)}
        unknown = sorted(set(self.thresholds) - known)
        if unknown:
            return [f"typology.thresholds has unknown key(s) {unknown}; known: {sorted(known)}"]
        try:
            TypologyRules(**self.thresholds)
        except ConfigError as err:
            return [str(err)]
        return []


FiguresChoice = Literal["sentra", "all", "none"]


@dataclass(frozen=True)
class ReportOptions(Options):
    """The report page and its static figures (Gi*, LISA, Moran per sector)."""

    SECTION: ClassVar[str] = "report"

    figures: FiguresChoice = opt("sentra", "Figures of the sectors with a sentra, all or none.")

    def _problems(self) -> list[str | None]:
        return [choice_problem("report.figures", self.figures, FiguresChoice)]


@dataclass(frozen=True)
class PointPatternOptions(Options):
    """Ripley's K/L envelopes and Clark-Evans per sector and per sentra."""

    SECTION: ClassVar[str] = "pointpattern"

    enabled: bool = opt(True, "Compute point-pattern evidence.")
    simulations: int = opt(99, "Simulations of each envelope.")
    max_points: int = opt(1000, "Firms sampled (seeded) from larger patterns.")
    max_firms: int = opt(
        1_000_000,
        "Firms the sector patterns are measured on: with more, a seeded uniform thinning "
        "of them (a thinned pattern keeps its clustering; Clark-Evans and the envelopes "
        "are measured on the thinned one).",
    )
    max_sentra: int = opt(
        200,
        "Sentra whose point patterns are measured: the largest, by firms (a national run "
        "finds thousands; each costs a simulation envelope).",
    )

    def _problems(self) -> list[str | None]:
        return [
            at_least("pointpattern.max_sentra", self.max_sentra, 0, integer=True),
            at_least("pointpattern.max_firms", self.max_firms, 1_000, integer=True),
            at_least("pointpattern.simulations", self.simulations, 1, integer=True),
            at_most("pointpattern.simulations", self.simulations, MAX_SIMULATIONS),
            at_least("pointpattern.max_points", self.max_points, 3, integer=True),
        ]


@dataclass(frozen=True)
class DiagnosisOptions(Options):
    """Porter's-diamond diagnosis: item -> registry column (``items``), a per-sentra
    table of 1-5 scores (``table`` with ``table_items``), stage thresholds and charts."""

    SECTION: ClassVar[str] = "diagnosis"

    items: dict[str, str] = opt(dict, "Diamond item -> registry column (1-5 or 0/1 answers).")
    table: Path | None = opt(None, "A per-sentra table of 1-5 scores.")
    table_items: dict[str, str] = opt(dict, "Diamond item -> column of the per-sentra table.")
    thresholds: dict[str, float] = opt(dict, "Stage thresholds to change.")
    charts: bool = opt(True, "Draw a radar chart per sentra.")

    def _problems(self) -> list[str | None]:
        from klastergeo.analysis.diagnosis import ITEMS, StageRules

        problems: list[str | None] = []
        known = {i for items in ITEMS.values() for i in items}
        for name, mapping in (("items", self.items), ("table_items", self.table_items)):
            unknown = sorted(set(mapping) - known)
            if unknown:
                problems.append(
                    f"diagnosis.{name} has unknown item(s) {unknown}; known: {sorted(known)}"
                )
        if self.table_items and self.table is None:
            problems.append("diagnosis.table_items needs diagnosis.table (a CSV path)")
        stage_keys = {f.name for f in fields(StageRules)}
        unknown = sorted(set(self.thresholds) - stage_keys)
        if unknown:
            problems.append(
                f"diagnosis.thresholds has unknown key(s) {unknown}; known: {sorted(stage_keys)}"
            )
        else:
            try:
                StageRules(**self.thresholds)
            except ConfigError as err:
                problems.append(str(err))
        return problems


@dataclass(frozen=True)
class ModelOptions(Options):
    """Cluster-probability models of 'firm lies in a sentra'."""

    SECTION: ClassVar[str] = "model"

    predictors: tuple[str, ...] = opt(
        (),
        "Comma-separated predictor columns (default: workers, output, investment).",
        flag="--predictors",
        commands=("run", "sentra", "model"),
    )
    kinds: tuple[ModelKind, ...] = opt(
        ("lpm", "logit"), "lpm, logit or probit; comma-separated for several.", flag="--kind"
    )
    cutoff: float = opt(0.5, "Probability predicted as 1.", flag="--cutoff")
    outcome: str = opt(
        "in_sentra",
        "0/1 column to explain, or in_sentra (the firm lies in a sentra; runs the sentra "
        "analysis first).",
        flag="--outcome",
    )
    categorical: tuple[str, ...] = opt(
        (), "Predictors to treat as categories (dummies).", flag="--categorical"
    )
    reference: dict[str, str] = opt(dict, "Reference level per categorical predictor.")
    log: tuple[str, ...] = opt((), "Predictors to log-transform (positive).", flag="--log")
    standardise: bool | tuple[str, ...] = opt(
        False, "z-score the numeric predictors (or those listed).", flag="--standardise"
    )
    robust: str | None = opt(
        "auto",
        "Standard errors: auto (HC1 for the LPM, maximum likelihood for logit and probit), "
        "HC0-HC3 or none.",
        flag="--robust",
    )
    max_firms: int = opt(
        1_000_000,
        "Most firms the firm-level models are estimated on; with more, on a seeded sample "
        "stratified by sector and outcome (proportional: every firm has the same weight), "
        "written to models/sample.csv; every firm is still predicted.",
    )
    area_data: Path | None = opt(
        None,
        "Area-level table (one row per area, --area-id column): fit OLS with spatial "
        "diagnostics and the spatial lag/error model they recommend instead.",
        flag="--area-data",
    )
    area_id: str = opt("area_code", "Area code column of --area-data.", flag="--area-id")
    spatial: SpatialModel = opt(
        "auto", "Area model: auto (LM tests decide), lag, error or none.", flag="--spatial"
    )

    def __post_init__(self) -> None:
        if isinstance(self.robust, str) and self.robust.lower() == "none":
            object.__setattr__(self, "robust", None)  # TOML has no null
        super().__post_init__()

    def _problems(self) -> list[str | None]:
        problems = [choice_problem("model.kinds", kind, ModelKind) for kind in self.kinds]
        if self.max_firms < 100:
            problems.append(f"model.max_firms={self.max_firms!r} must be at least 100")
        if not 0 < self.cutoff < 1:
            problems.append(_between("model.cutoff", self.cutoff))
        for name in ("categorical", "log"):
            extra = [c for c in getattr(self, name) if self.predictors and c not in self.predictors]
            if extra:
                problems.append(f"model.{name} names {extra}, which are not model.predictors")
        problems.append(choice_problem("model.spatial", self.spatial, SpatialModel))
        if self.robust not in (None, "auto", "HC0", "HC1", "HC2", "HC3"):
            problems.append(
                f"model.robust={self.robust!r} is not accepted; use auto, HC0, HC1, HC2, HC3 "
                "or none"
            )
        return problems


@dataclass(frozen=True)
class MapOptions(Options):
    """The interactive web map."""

    SECTION: ClassVar[str] = "map"

    lang: Lang = opt(
        "id",
        "Language of the pages (map, report, model tables) and of what the command prints: "
        "id or en.",
        flag="--lang",
        commands=("run", "sentra", "validate", "model"),
    )
    tiles: str = opt(
        "OpenStreetMap",
        "Base map: OpenStreetMap, 'CartoDB positron', 'Esri imagery', none, or a tile URL "
        "https://.../{z}/{x}/{y}.png with --attribution.",
        flag="--tiles",
    )
    title: str | None = opt(None, "Title of the map, the report and the landing page.")
    attribution: str | None = opt(
        None, "Attribution of a custom tile URL (--tiles).", flag="--attribution"
    )
    max_firms: int = opt(
        100_000,
        "Most firms the map embeds one by one; with more, their counts on a grid (heat map).",
    )
    max_areas: int = opt(
        20_000,
        "Most areas map.html embeds; with more (a national desa map), it embeds the "
        "provinces and a search index, and each province's areas are a file map/<code>.js "
        "loaded when the province is opened.",
    )

    def _problems(self) -> list[str | None]:
        from klastergeo.publish.maps import BASE_MAPS

        problems = [choice_problem("map.lang", self.lang, Lang)]
        if self.max_firms < 0:
            problems.append(f"map.max_firms={self.max_firms!r} must be 0 or more")
        if self.max_areas < 1:
            problems.append(f"map.max_areas={self.max_areas!r} must be 1 or more")
        if self.tiles.strip().lower() in BASE_MAPS:
            return problems
        url = self.tiles.strip()
        placeholders = re.findall(r"\{[^{}]*\}", url)
        if (
            not re.fullmatch(r"https?://[^\s<>\"']+", url)
            or not {"{z}", "{x}", "{y}"} <= set(placeholders)
            or not set(placeholders) <= {"{s}", "{z}", "{x}", "{y}", "{r}"}
            or url.count("{") != len(placeholders)
            or url.count("}") != len(placeholders)
        ):
            problems.append(
                f"map.tiles={self.tiles!r} is not a base map; use one of "
                f"{', '.join(repr(k) for k in BASE_MAPS)} or a tile URL such as "
                "'https://tile.example.org/{z}/{x}/{y}.png' with map.attribution"
            )
        elif not self.attribution:
            problems.append(
                f"map.tiles={self.tiles!r} is a custom tile URL; give its map.attribution "
                "(the data's copyright holder), as tile providers require"
            )
        return problems


@dataclass(frozen=True)
class DynamicsOptions(Options):
    """Sentra across survey periods (with ``[records] period_col``): how they are linked
    into lineages and classified (:mod:`klastergeo.analysis.dynamics`)."""

    SECTION: ClassVar[str] = "dynamics"

    min_overlap: float = opt(
        0.3,
        "Shared member areas, as a share of the smaller sentra's, from which two sentra of "
        "consecutive periods are one lineage.",
    )
    change: float = opt(0.3, "Relative change of firms beyond which a lineage grows or declines.")
    alpha: float = opt(0.05, "Significance of the Mann-Kendall trend of emerging hot spots.")
    stable_ids: bool = opt(
        False,
        "Record ids name the same firm in every period: count each lineage's entries, "
        "exits and survivors between periods.",
    )

    def _problems(self) -> list[str | None]:
        problems: list[str | None] = []
        if not 0 < self.min_overlap <= 1:
            problems.append(f"dynamics.min_overlap={self.min_overlap!r} must lie in (0, 1]")
        if not self.change > 0:
            problems.append(f"dynamics.change={self.change!r} must be above 0")
        if not 0 < self.alpha < 1:
            problems.append(f"dynamics.alpha={self.alpha!r} must lie in (0, 1)")
        return problems


@dataclass(frozen=True)
class ColocationOptions(Options):
    """Related industries around each sentra: co-location quotients and the links of a
    value chain (:mod:`klastergeo.analysis.colocation`)."""

    SECTION: ClassVar[str] = "colocation"

    enabled: bool = opt(
        True,
        "Measure which sectors are co-located with each sentra (related.csv, "
        "missing_links.csv) and in the whole study area (colocation.csv).",
        flag="--colocation",
    )
    k: int = opt(8, "Nearest neighbours of each firm for the local co-location quotient.")
    permutations: int = opt(
        99, "Random relabellings of the firms for the co-location p-values (0: none)."
    )
    alpha: float = opt(0.05, "Significance of a co-location (p below it and CLQ above 1).")
    min_firms: int = opt(
        5,
        "Firms a sector needs in the registry to be tested: as a related industry of a "
        "sentra and in the global quotients (smaller sectors' firms still count as "
        "neighbours).",
    )
    max_permuted_firms: int = opt(
        2_000_000,
        "With more firms, the global quotients' p-values come from the normal "
        "approximation with their exact moments under random labelling instead of "
        "relabellings (each takes seconds at national size).",
    )
    min_related_firms: int = opt(
        3,
        "Firms of a related industry a sentra needs around it (among its firms' "
        "neighbours) to count it as co-located: one or two firms are no local supply base.",
    )
    linkage_table: Path | None = opt(
        None,
        "CSV from_sector,to_sector,role (supplier, buyer, supporting, related) saying "
        "which sector is what to which (ranges such as 10-33 allowed); default: the "
        "shipped table of textbook links between KBLI divisions, an assumption, not data.",
        flag="--linkage-table",
    )
    pairs: ColocationPairs = opt(
        "significant",
        "Sector pairs written to colocation.csv: significant (co-located: p below alpha "
        "and CLQ above 1) and those the linkage table names, or all (every pair of "
        "sectors with min_firms firms, up to a million). Only pairs of sectors with "
        "min_firms firms are measured.",
        flag="--colocation-pairs",
    )

    def _problems(self) -> list[str | None]:
        return [
            at_least("colocation.k", self.k, 1, integer=True),
            at_least("colocation.permutations", self.permutations, 0, integer=True),
            at_least("colocation.min_firms", self.min_firms, 1, integer=True),
            at_least("colocation.min_related_firms", self.min_related_firms, 1, integer=True),
            at_least("colocation.max_permuted_firms", self.max_permuted_firms, 3, integer=True),
            None if 0 < self.alpha < 1 else f"colocation.alpha={self.alpha!r} must lie in (0, 1)",
            choice_problem("colocation.pairs", self.pairs, ColocationPairs),
        ]


@dataclass(frozen=True)
class OutputOptions(Options):
    """How the data files are written, and the optional firm-level GIS layer."""

    SECTION: ClassVar[str] = "output"

    csv_locale: CsvLocale = opt(
        "en",
        "CSV files: en (comma-separated, decimal point) or id (semicolon-separated, "
        "decimal comma: what Excel in an Indonesian locale opens as columns and numbers).",
        flag="--csv-locale",
    )
    firms_gpkg: bool = opt(
        False,
        "Also write firms.gpkg (every kept firm as a point with its sector, area, sentra "
        "and probabilities; firm-level data, so off unless asked).",
        flag="--firms-gpkg",
    )
    timestamp: str = opt(
        "now",
        "The time a run records as its own (summary.json created, the pages, the "
        "workbook's and GeoPackages' dates): now, or an ISO 8601 time such as "
        "2024-01-31T08:00:00+07:00 (without an offset: UTC), so that a re-run writes the "
        "same bytes; with now, the environment's SOURCE_DATE_EPOCH (reproducible builds) "
        "is used when set.",
        flag="--timestamp",
    )

    def _problems(self) -> list[str | None]:
        return [
            choice_problem("output.csv_locale", self.csv_locale, CsvLocale),
            _timestamp_problem(self.timestamp),
        ]


#: The reproducible-builds variable: a fixed time, in seconds since 1970-01-01 UTC
#: (https://reproducible-builds.org/specs/source-date-epoch/).
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"


def run_time(timestamp: str = "now") -> datetime.datetime:
    """The time a run records as its own (``[output] timestamp``).

    An ISO 8601 ``timestamp`` is that time (UTC without an offset); ``now`` is the
    environment's ``SOURCE_DATE_EPOCH`` when it is set (as reproducible builds use it),
    else the present time in UTC.

    Parameters
    ----------
    timestamp
        ``now`` or an ISO 8601 date or time.

    Raises
    ------
    ConfigError
        If ``timestamp`` or ``SOURCE_DATE_EPOCH`` is not a time.

    Examples
    --------
    >>> run_time("2024-01-31T08:00:00+07:00").isoformat()
    '2024-01-31T08:00:00+07:00'
    >>> run_time("2024-01-31").isoformat()
    '2024-01-31T00:00:00+00:00'
    """
    problem = _timestamp_problem(timestamp)
    if problem:
        raise ConfigError(problem)
    if timestamp.strip().lower() != "now":
        when = datetime.datetime.fromisoformat(timestamp.strip())
        return when if when.tzinfo is not None else when.replace(tzinfo=datetime.UTC)
    epoch = os.environ.get(SOURCE_DATE_EPOCH, "").strip()
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
    return datetime.datetime.now(datetime.UTC)


def _timestamp_problem(timestamp: object) -> str | None:
    """What is wrong with ``[output] timestamp`` (or, with ``now``, with the
    environment's ``SOURCE_DATE_EPOCH``); None when nothing is."""
    if not isinstance(timestamp, str):
        return None  # the type check names it
    if timestamp.strip().lower() != "now":
        try:
            datetime.datetime.fromisoformat(timestamp.strip())
        except ValueError:
            return (
                f"output.timestamp={timestamp!r} is not accepted; use now or an ISO 8601 "
                "time such as 2024-01-31T08:00:00+07:00 (or the date alone, 2024-01-31)"
            )
        return None
    epoch = os.environ.get(SOURCE_DATE_EPOCH, "").strip()
    if epoch and not (epoch.isascii() and epoch.isdigit() and int(epoch) <= 253402300799):
        return (
            f"the environment variable {SOURCE_DATE_EPOCH}={epoch!r} is not accepted: it "
            "must be whole seconds since 1970-01-01 UTC, as `date +%s` prints them "
            "(reproducible-builds.org); fix or unset it, or set output.timestamp"
        )
    return None


@dataclass(frozen=True)
class CountsOptions(Options):
    """Counts of firms per area as input instead of a registry of firms (the village
    census PODES, agency tables): see :mod:`klastergeo.io.registry.area_counts`."""

    SECTION: ClassVar[str] = "counts"

    path: Path | None = opt(
        None,
        "Counts of firms per area instead of a registry (--records): one row per area "
        "(Kemendagri code) and one column per sector or PODES industry group (Industri "
        "kayu, Industri makanan dan minuman, KBLI 31), or one row per area and sector "
        "with a count; a blank cell is unknown, '-' is 0. Repeat --counts for one file "
        "per survey period (counts.files). Firm-level steps are not computed.",
        flag="--counts",
        more="counts.files",
        commands=("run", "sentra"),
    )
    files: tuple[Path, ...] = opt(
        (),
        "One counts file per survey period, in time order (or repeat --counts); their "
        "labels are records.periods (default: the one year in each file name).",
    )
    format: CountsLayout = opt(
        "auto",
        "Shape of the counts file: wide (a column per sector), long (area, sector, count) "
        "or auto (long when a sector column and a count column are found).",
        flag="--counts-format",
        commands=("run", "sentra"),
    )
    count_col: str | None = opt(None, "Count column of a long counts file (default: detected).")
    sectors: dict[str, str] = opt(
        dict,
        "Column header (wide) or sector value (long) -> sector label, e.g. "
        "{'Industri kayu' = '31'}; wins over KBLI codes and the PODES groups.",
    )

    def _problems(self) -> list[str | None]:
        problems: list[str | None] = []
        if self.files and self.path is not None:
            problems.append(
                f"counts.path={str(self.path)!r} and counts.files={len(self.files)} files both "
                "name counts files; give one (path) or one per period (files)"
            )
        if len(self.files) == 1:
            problems.append(
                f"counts.files holds one file ({str(self.files[0])!r}); following sentra over "
                "time needs at least 2 (else use counts.path)"
            )
        problems.append(choice_problem("counts.format", self.format, CountsLayout))
        return problems

    @property
    def given(self) -> bool:
        """Whether the run reads counts instead of a registry."""
        return self.path is not None or bool(self.files)


@dataclass(frozen=True)
class DisclosureOptions(Options):
    """Statistical disclosure control of every table, layer, page and workbook a run writes
    (firm-level files aside): sums of workers, output and investment of too few firms, or
    dominated by one or two, are suppressed and marked (:mod:`klastergeo.analysis.disclosure`)."""

    SECTION: ClassVar[str] = "disclosure"

    enabled: bool = opt(
        True,
        "Apply the rules below. Off, the tables carry single firms' values: for use on this "
        "machine only (publish then refuses the run unless --with-firms).",
    )
    min_firms: int = opt(
        3,
        "Threshold rule: fewest firms reporting a value for a published sum of it (and for "
        "a mean of their answers or probabilities).",
        flag="--min-cell-firms",
    )
    dominance_n: int = opt(
        2, "Dominance rule: how many of the largest firms are compared with the sum."
    )
    dominance_k: float = opt(
        0.85,
        "Dominance rule: a sum whose dominance_n largest firms make more than this share of "
        "it is suppressed (1 turns the rule off).",
    )
    grid_m: float = opt(
        250.0,
        "Point-based sentra are drawn from a fixed grid of cells of this side (m) holding "
        "at least min_firms of their firms, never from the firms' own positions.",
    )

    def _problems(self) -> list[str | None]:
        try:
            self.rules()
        except ConfigError as err:
            return [str(err)]
        return []

    def rules(self) -> Rules:
        """The :class:`klastergeo.analysis.disclosure.Rules` of these options."""
        from klastergeo.analysis.disclosure import Rules

        return Rules(
            min_firms=self.min_firms,
            dominance_n=self.dominance_n,
            dominance_k=float(self.dominance_k),
            grid_m=float(self.grid_m),
        )


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs. Build with :func:`load_config` or directly."""

    records: ReadOptions = field(default_factory=ReadOptions)
    columns: Columns = field(default_factory=Columns)
    area: AreaOptions = field(default_factory=AreaOptions)
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    sentra: SentraOptions = field(default_factory=SentraOptions)
    typology: TypologyOptions = field(default_factory=TypologyOptions)
    diagnosis: DiagnosisOptions = field(default_factory=DiagnosisOptions)
    pointpattern: PointPatternOptions = field(default_factory=PointPatternOptions)
    report: ReportOptions = field(default_factory=ReportOptions)
    model: ModelOptions = field(default_factory=ModelOptions)
    map: MapOptions = field(default_factory=MapOptions)
    output: OutputOptions = field(default_factory=OutputOptions)
    dynamics: DynamicsOptions = field(default_factory=DynamicsOptions)
    colocation: ColocationOptions = field(default_factory=ColocationOptions)
    disclosure: DisclosureOptions = field(default_factory=DisclosureOptions)
    counts: CountsOptions = field(default_factory=CountsOptions)
    out: Path = Path("out")

    def __post_init__(self) -> None:
        if not self.counts.given:
            return
        problems = []
        if self.records.path is not None or self.records.files:
            given = "--counts" if self.counts.path is not None else "counts.files"
            registry = (
                f"--records {str(self.records.path)!r}"
                if self.records.path is not None
                else f"records.files ({len(self.records.files)} registries)"
            )
            problems.append(
                f"{given} and {registry} both give the firms: a run reads counts per area or "
                "a registry of firms, not both; drop --records to analyse the counts, or "
                "--counts to analyse the registry"
            )
        if self.sentra.method != "areas":
            problems.append(
                f"sentra.method={self.sentra.method!r} delineates sentra from the firms' "
                "points, which counts per area do not have; use sentra.method='areas' "
                "with --counts"
            )
        if self.area.level.startswith("h3"):
            problems.append(
                f"--level {self.area.level} puts firms in H3 cells by their points; counts "
                "per area (--counts) have none: use an administrative level (desa, "
                "kecamatan) or the boundaries the counts are of"
            )
        if self.dynamics.stable_ids:
            problems.append(
                "dynamics.stable_ids follows firms by their record ids, which counts per "
                "area do not have; leave it out with --counts"
            )
        if self.counts.files and self.records.period_col:
            problems.append(
                f"records.period_col={self.records.period_col!r} and counts.files both give "
                "the periods; use a period column in one counts file or one file per period"
            )
        if problems:
            raise ConfigError("; ".join(problems))

    def with_overrides(self, overrides: dict[str, Any]) -> RunConfig:
        """Return a copy with ``{"section.key": value}`` overrides applied (None is skipped);
        every problem of every section is raised at once.

        Parameters
        ----------
        overrides
            ``{"section.key": value}``; the only key without a section is ``out`` (the
            output folder). Values of None are skipped, so unset flags change nothing.

        Returns
        -------
        RunConfig
            A new, validated configuration; ``self`` is unchanged.

        Raises
        ------
        ConfigError
            Naming every unknown key and every value not accepted.

        Examples
        --------
        >>> RunConfig().with_overrides({"analysis.seed": 7}).analysis.seed
        7
        """
        sections: dict[str, dict[str, Any]] = {}
        top: dict[str, Any] = {}
        problems: list[str] = []
        for dotted, value in overrides.items():
            if value is None:
                continue
            if "." in dotted:
                section, key = dotted.split(".", 1)
                sections.setdefault(section, {})[key] = value
            else:
                top[dotted] = value
        changes: dict[str, Any] = {}
        for section, values in sections.items():
            if section not in SECTIONS:
                problems.append(
                    f"unknown option {section}.{', '.join(values)}; sections: {', '.join(SECTIONS)}"
                )
                continue
            current = getattr(self, section)
            try:
                changes[section] = _build(type(current), values, section, base=current)
            except ConfigError as err:
                problems.append(_part(err))
        for key, value in top.items():
            if key != "out":
                problems.append(f"unknown option {key!r}")
            elif not isinstance(value, str | os.PathLike) or "\0" in str(value):
                problems.append(f"out={value!r} must be a folder path")
            else:
                changes[key] = Path(value)
        if problems:
            raise ConfigError("; ".join(problems), key="problems", params={"problems": problems})
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict (paths as strings), as written to ``summary.json``."""

        def convert(value: Any) -> Any:
            if isinstance(value, Path):
                return str(value)
            if isinstance(value, tuple):
                return list(value)
            return value

        return {
            f.name: (
                {k: convert(v) for k, v in dataclasses.asdict(getattr(self, f.name)).items()}
                if dataclasses.is_dataclass(getattr(self, f.name))
                else convert(getattr(self, f.name))
            )
            for f in fields(self)
        }


#: The configuration's sections, in the order of a TOML file.
SECTIONS: dict[str, Any] = {
    "records": ReadOptions,
    "columns": Columns,
    "area": AreaOptions,
    "analysis": AnalysisOptions,
    "sentra": SentraOptions,
    "typology": TypologyOptions,
    "diagnosis": DiagnosisOptions,
    "pointpattern": PointPatternOptions,
    "report": ReportOptions,
    "model": ModelOptions,
    "map": MapOptions,
    "output": OutputOptions,
    "dynamics": DynamicsOptions,
    "colocation": ColocationOptions,
    "disclosure": DisclosureOptions,
    "counts": CountsOptions,
}
#: Keys whose values are lists of column names (a comma-separated string also works).
_LIST_KEYS = ("sectors", "predictors", "linkages", "categorical", "log", "periods", "measures")
#: The commands whose flags a section's options become (a field's ``commands`` wins).
_COMMANDS = {
    "records": ("run", "sentra", "validate", "model"),
    "columns": ("run", "sentra", "validate", "model"),
    "area": ("run", "sentra", "validate", "model"),
    "analysis": ("run", "sentra"),
    "sentra": ("run", "sentra"),
    "map": ("run", "sentra"),
    "output": ("run", "sentra"),
    "colocation": ("run", "sentra"),
    "disclosure": ("run", "sentra"),
    "model": ("model",),
}


@dataclass(frozen=True)
class Option:
    """One configuration key as the CLI and the documentation see it."""

    key: str
    hint: Any
    default: Any
    help: str
    flag: str | None = None
    short: str | None = None
    commands: tuple[str, ...] = ()
    more: str | None = None  # the key a repeated flag's further values go to


def options() -> dict[str, Option]:
    """Every configuration key (``section.key``) with its type, default, help text and
    command-line flag, read from the section dataclasses - the one place an option is
    declared.

    >>> options()["analysis.tolerance_m"].flag
    '--tolerance'
    """
    out: dict[str, Option] = {}
    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for item in fields(cls):
            default = (
                item.default_factory()
                if item.default_factory is not dataclasses.MISSING
                else item.default
            )
            meta = item.metadata
            flag = meta.get("flag")
            out[f"{section}.{item.name}"] = Option(
                key=f"{section}.{item.name}",
                hint=hints[item.name],
                default=default,
                help=meta.get("help", ""),
                flag=flag,
                short=meta.get("short"),
                more=meta.get("more"),
                commands=tuple(meta.get("commands", _COMMANDS.get(section, ()))) if flag else (),
            )
    return out


def reference() -> str:
    """The configuration reference in Markdown: one table per section with every key,
    its default, its command-line flag and its help text (the docs' option reference,
    ``docs/options.md``, is this text, written when the site is built).

    Returns
    -------
    str
        Markdown, a ``#### [section]`` heading and table per section.

    Examples
    --------
    >>> print(reference().splitlines()[0])
    #### `[records]` How to read the registry file.
    """
    known = options()
    blocks = []
    for section, cls in SECTIONS.items():
        lines = [
            f"#### `[{section}]` {_markdown((cls.__doc__ or '').split(chr(10) * 2)[0])}",
            "",
            "| key | default | flag | meaning |",
            "| --- | --- | --- | --- |",
        ]
        for item in fields(cls):
            option = known[f"{section}.{item.name}"]
            flag = f"`{option.flag}`" if option.flag else ""
            text = _markdown(option.help).replace("|", "\\|")
            lines.append(f"| `{item.name}` | {_as_toml(option.default)} | {flag} | {text} |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _markdown(text: str) -> str:
    """reST text (``code``, :class:`name`) as one line of Markdown."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", " ".join(text.split()))
    return text.replace("``", "`")


def _as_toml(value: Any) -> str:
    """A default as it would be written in the TOML file (empty when there is none)."""
    if value is None or value == {} or value is dataclasses.MISSING:
        return ""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str | Path):
        return f'`"{value}"`'
    if isinstance(value, tuple | list):
        return "`[" + ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in value) + "]`"
    return f"`{value}`"


def parse_assignment(text: str) -> tuple[str, Any]:
    """``section.key=value`` (``--set``) as a key and a value; the value is read as TOML
    (``3``, ``true``, ``["a", "b"]``, ``"text"``) and otherwise taken as text.

    Parameters
    ----------
    text
        One assignment, e.g. ``analysis.permutations=99``; the key must be a known
        configuration key (see :func:`options`). Spaces around key and value are dropped.

    Returns
    -------
    tuple
        The key and the value.

    Raises
    ------
    ConfigError
        If ``text`` is not ``section.key=value`` or the key is not known (close matches
        are suggested).

    Examples
    --------
    >>> parse_assignment("analysis.permutations=99")
    ('analysis.permutations', 99)
    >>> parse_assignment("map.title=Peta sentra")
    ('map.title', 'Peta sentra')
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or "." not in key:
        raise ConfigError(
            f"--set {text!r} is not section.key=value, e.g. --set analysis.permutations=99"
        )
    known = options()
    if key not in known:
        close = difflib.get_close_matches(key, list(known), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(
            f"--set {key!r} is not a configuration key{hint}",
            key="set_unknown_close" if close else "set_unknown",
            params={"key": repr(key), "close": ", ".join(close)},
        )
    try:
        return key, tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return key, value.strip()


def _path_value(name: str, value: Any, root: Path | None) -> Path:
    """A path of the configuration, relative ones resolved from ``root`` (the TOML
    file's folder)."""
    if not isinstance(value, str | os.PathLike) or "\0" in str(value):
        raise ConfigError(f"{name}={value!r} is not accepted: it must be a path (in quotes)")
    path = Path(value).expanduser()
    if root is not None and not path.is_absolute():
        path = Path(os.path.normpath(root / path))
    return path


def _build(
    cls: type, values: dict[str, Any], section: str, *, base: Any = None, root: Path | None = None
) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(
            f"[{section}] has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(known)}",
            key="config_unknown_keys",
            params={
                "section": f"[{section}]",
                "keys": ", ".join(map(repr, unknown)),
                "known": ", ".join(known),
            },
        )
    converted: dict[str, Any] = {}
    for key, value in values.items():
        if (section, key) in PATH_KEYS and value is not None:
            value = _path_value(f"{section}.{key}", value, root)
        elif (section, key) in PATH_LIST_KEYS and isinstance(value, list | tuple):
            value = tuple(_path_value(f"{section}.{key}", v, root) for v in value)
        elif isinstance(value, list):
            value = tuple(str(v) if key in _LIST_KEYS else v for v in value)
        elif key in (*_LIST_KEYS, "kinds") and isinstance(value, str):
            value = tuple(v.strip() for v in value.split(",") if v.strip())
        converted[key] = value
    try:
        if base is not None:
            return dataclasses.replace(base, **converted)
        return cls(**converted)
    except TypeError as err:
        raise ConfigError(f"[{section}]: {err}") from err


def _between(name: str, value: float) -> str:
    """The problem of a value that must lie between 0 and 1."""
    problem = f"{name}={value!r} must lie between 0 and 1"
    return Phrase(problem, "option_between", {"name": name, "value": repr(value)})


def _part(err: ConfigError) -> str:
    """An error as a part of a message that collects several (its key kept)."""
    return Phrase(str(err), err.key, err.params) if err.key else str(err)


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        # a BOM (Notepad on Windows writes one) is not TOML; read past it
        return tomllib.loads(file.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(
            f"config file {str(file)!r} does not exist",
            key="config_missing",
            params={"path": repr(str(file))},
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"config file {str(file)!r} is a folder, not a file",
            key="config_folder",
            params={"path": repr(str(file))},
        ) from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"config file {str(file)!r} is not UTF-8 text (byte "
            f"{err.object[err.start : err.start + 1]!r} at position {err.start}); "
            "save it as UTF-8, as TOML requires"
        ) from None
    except OSError as err:
        raise ConfigError(f"cannot read config file {str(file)!r}: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        where = re.search(r"at line (\d+), column (\d+)", str(err))
        raise ConfigError(
            f"config file {str(file)!r} is not valid TOML: {err}",
            key="config_toml" if where else None,
            params={"path": repr(str(file)), "line": where[1], "column": where[2]} if where else {},
        ) from None


def load_config(
    path: str | Path | None = None, *, overrides: dict[str, Any] | None = None
) -> RunConfig:
    """Read a TOML run configuration and apply flag overrides.

    Every problem of every section is collected and raised at once, as one
    :class:`ConfigError` naming each ``section.key``.

    Parameters
    ----------
    path
        A TOML file, or None for defaults only.
    overrides
        ``{"section.key": value}`` from the command line; None values are ignored.

    Returns
    -------
    RunConfig
        The validated configuration.

    Examples
    --------
    >>> load_config(None, overrides={"records.path": "firms.csv", "area.code": "33"}).area.code
    '33'
    """
    config = RunConfig()
    if path is not None:
        file = Path(path)
        data = _read_toml(file)
        root = file.resolve().parent
        unknown = sorted(set(data) - set(SECTIONS) - {"out"})
        if unknown:
            raise ConfigError(
                f"config file {str(file)!r} has unknown section(s) {', '.join(unknown)}; "
                f"known sections: {', '.join(SECTIONS)}",
                key="config_unknown_sections",
                params={
                    "path": repr(str(file)),
                    "sections": ", ".join(unknown),
                    "known": ", ".join(SECTIONS),
                },
            )
        changes: dict[str, Any] = {}
        problems: list[str] = []
        for section, cls in SECTIONS.items():
            if section not in data:
                continue
            if not isinstance(data[section], dict):
                problems.append(f"[{section}] in {str(file)!r} must be a table")
                continue
            try:
                changes[section] = _build(cls, data[section], section, root=root)
            except ConfigError as err:
                problems.append(_part(err))
        if "out" in data:
            if not isinstance(data["out"], str) or "\0" in data["out"]:
                problems.append(
                    f"out={data['out']!r} in {str(file)!r} must be a folder path in quotes"
                )
            else:
                out = Path(data["out"])
                changes["out"] = out if out.is_absolute() else Path(os.path.normpath(root / out))
        if problems:
            raise ConfigError(
                f"config file {str(file)!r}: " + "; ".join(problems),
                key="config_problems",
                params={"path": repr(str(file)), "problems": problems},
            )
        config = dataclasses.replace(config, **changes)
    if overrides:
        config = config.with_overrides(overrides)
    return config


def command_config(
    path: str | Path | None, overrides: dict[str, Any], *, out: str | Path | None = None
) -> RunConfig:
    """The configuration of a command: its TOML file, then the command line's
    ``overrides`` (``--set`` and flags, None values left to the file) and ``out``.

    A repeatable key given several times (``--records a.csv --records b.csv``) sets its
    list key (``records.files``); an ``area.code`` that is a name (``--area Boyolali``,
    ``"Kab. Klaten"``) is looked up in the national boundaries.

    Parameters
    ----------
    path
        The command's TOML file (``--config``), or None for defaults only.
    overrides
        ``{"section.key": value}`` from ``--set`` and the command's flags.
    out
        The command's ``--out``; None leaves it to the file.

    Returns
    -------
    RunConfig
        The validated configuration.
    """
    overrides = dict(overrides)
    for option in options().values():  # --records a.csv --records b.csv: records.files
        given = overrides.get(option.key)
        if option.more and isinstance(given, list):
            overrides[option.key] = given[0] if len(given) == 1 else None
            if given:
                overrides[option.more] = tuple(given) if len(given) > 1 else ()
    overrides["out"] = out
    area = overrides.get("area.code")
    given = overrides.get("area.boundaries")
    national = not given or Path(str(given)).expanduser().is_dir()  # not a polygon file
    if area is not None and not is_area_code(str(area)) and national:
        from klastergeo.io.boundaries import resolve_area_name

        similarity = overrides.get("area.name_similarity")  # as placement reads names
        overrides["area.code"] = resolve_area_name(
            str(area),
            source=given or None,
            **({} if similarity is None else {"similarity": float(similarity)}),
        )
    return load_config(path, overrides=overrides)
