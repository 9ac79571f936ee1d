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
import math
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, Union, get_args, get_origin

from klastergeo._errors import ConfigError

__all__ = [
    "ADMIN_LEVELS",
    "AnalysisOptions",
    "AreaOptions",
    "Columns",
    "DiagnosisOptions",
    "MapOptions",
    "ModelOptions",
    "PointPatternOptions",
    "ReadOptions",
    "ReportOptions",
    "RunConfig",
    "SentraOptions",
    "TypologyOptions",
    "load_config",
    "parse_level",
]

#: Base maps by name (lower case) -> the tile provider folium knows (None: no tiles).
BASE_MAPS: dict[str, str | None] = {
    "none": None,
    "openstreetmap": "OpenStreetMap",
    "cartodb positron": "CartoDB positron",
    "esri imagery": "Esri.WorldImagery",
}
#: Indonesian administrative levels, coarse to fine.
ADMIN_LEVELS: tuple[str, ...] = ("provinsi", "kabupaten", "kecamatan", "desa")
_LEVEL_ALIASES = {
    "kelurahan": "desa",
    "village": "desa",
    "district": "kecamatan",
    "kota": "kabupaten",
    "regency": "kabupaten",
    "province": "provinsi",
}
_AREA_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")

Decimal = Literal["auto", ".", ","]
WeightsKind = Literal["queen", "rook", "knn", "auto"]
IslandPolicy = Literal["nearest", "keep"]
InferenceKind = Literal["analytical", "permutation"]
AlternativeKind = Literal["two-sided", "greater", "lesser", "folded"]
LqMeasure = Literal["firms", "workers", "output"]
SentraMethod = Literal["areas", "hdbscan", "dbscan"]
SpatialModel = Literal["auto", "lag", "error", "none"]
ModelKind = Literal["lpm", "logit", "probit"]
Lang = Literal["id", "en"]


#: Largest permutation count: GeoDa's largest choice. Beyond it the pseudo p-value floor
#: (1e-5) no longer matters; use the analytical z (permutations = 0) instead.
MAX_PERMUTATIONS = 99_999
#: Largest number of simulations of a point-pattern envelope.
MAX_SIMULATIONS = 9_999


def _conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of the declared type ``hint`` (floats finite, bools not ints)."""
    if hint is Any:
        return True
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_conforms(value, arg) for arg in get_args(hint))
    if hint is type(None):
        return value is None
    if origin is Literal:
        return any(type(value) is type(a) and value == a for a in get_args(hint))
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    if hint is str:
        return isinstance(value, str)
    if hint is Path:
        return isinstance(value, str | os.PathLike)
    if origin is tuple:
        args = get_args(hint)
        return isinstance(value, tuple) and all(_conforms(v, args[0]) for v in value)
    if origin is dict:
        key, item = get_args(hint)
        return isinstance(value, dict) and all(
            _conforms(k, key) and _conforms(v, item) for k, v in value.items()
        )
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    """What a type hint accepts, in words."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        parts = [_describe(a) for a in get_args(hint) if a is not type(None)]
        return " or ".join(parts)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(hint))
    if origin is tuple:
        return f"a list of {_describe(get_args(hint)[0])} values"
    if origin is dict:
        return f"a table of names = {_describe(get_args(hint)[1])}"
    return {
        bool: "true or false",
        int: "a whole number",
        float: "a finite number",
        str: "text (in quotes)",
        Path: "a path (in quotes)",
    }.get(hint, getattr(hint, "__name__", str(hint)))


def _check_types(options: Any) -> None:
    """Check every field of an options dataclass against its declared type.

    Raises :class:`ConfigError` naming ``section.key``, the value and what is accepted,
    e.g. ``area.code=33.09 is a number; it must be text (in quotes): code = "33.09"``.
    """
    section = getattr(options, "SECTION", type(options).__name__)
    hints = typing.get_type_hints(type(options))
    for item in fields(options):
        value = getattr(options, item.name)
        hint = hints[item.name]
        if _conforms(value, hint):
            continue
        name = f"{section}.{item.name}"
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{name}={value!r} is not accepted: it must be a finite number")
        wanted = _describe(hint)
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and _conforms(str(value), hint)
        ):
            raise ConfigError(
                f'{name}={value!r} is a number; it must be {wanted}: {item.name} = "{value}"'
            )
        raise ConfigError(f"{name}={value!r} is not accepted: it must be {wanted}")


def parse_level(level: str) -> tuple[str, int | None]:
    """Split an analysis level into its kind and H3 resolution.

    >>> parse_level("desa")
    ('desa', None)
    >>> parse_level("h3:8")
    ('h3', 8)
    """
    text = str(level).strip().lower()
    if text.startswith("h3"):
        match = re.fullmatch(r"h3:(\d{1,2})", text)
        if not match or not 0 <= int(match.group(1)) <= 15:
            raise ConfigError(
                f"level {level!r} is not a valid H3 level; use h3:RES with RES 0..15 "
                "(h3:7 is about 5 km2 a cell, h3:8 about 0.7 km2)"
            )
        return "h3", int(match.group(1))
    text = _LEVEL_ALIASES.get(text, text)
    if text not in ADMIN_LEVELS:
        raise ConfigError(
            f"level {level!r} is not known; use one of {', '.join(ADMIN_LEVELS)} or h3:RES"
        )
    return text, None


def check_area_code(code: str | None) -> str | None:
    """Validate a study-area code prefix such as ``33`` or ``33.11``."""
    if code is None:
        return None
    text = str(code).strip()
    if not _AREA_CODE.match(text):
        raise ConfigError(
            f"area {code!r} is not a Kemendagri code; use a province (33), regency (33.11), "
            "district (33.11.11) or village (33.11.11.2013) code"
        )
    return text


def _choice(name: str, value: object, allowed: object) -> None:
    options = get_args(allowed)
    if value not in options:
        raise ConfigError(
            f"{name}={value!r} is not accepted; use one of {', '.join(map(repr, options))}"
        )


def _positive(name: str, value: float, *, strict: bool = True, integer: bool = False) -> None:
    bad = value <= 0 if strict else value < 0
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{name}={value!r} must be an integer")
    if bad:
        sign = "positive" if strict else "zero or positive"
        raise ConfigError(f"{name}={value!r} must be {sign}")


@dataclass(frozen=True)
class Columns:
    """Which input column holds what; ``None`` means auto-detect (or absent, if optional)."""

    SECTION: ClassVar[str] = "columns"

    id: str | None = None
    lat: str | None = None
    lon: str | None = None
    sector: str | None = None
    workers: str | None = None
    output: str | None = None
    investment: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _check_types(self)


@dataclass(frozen=True)
class ReadOptions:
    """How to read the registry file."""

    SECTION: ClassVar[str] = "records"

    path: Path | None = None
    delimiter: str | None = None
    encoding: str | None = None
    decimal: Decimal = "auto"
    sheet: str | None = None
    layer: str | None = None
    sector_digits: int = 2
    strict: bool = False

    def __post_init__(self) -> None:
        _check_types(self)
        _choice("records.decimal", self.decimal, Decimal)
        if self.sector_digits not in (2, 3, 4, 5):
            raise ConfigError(
                f"records.sector_digits={self.sector_digits!r} is not a KBLI level; "
                "use 2 (division), 3, 4 or 5"
            )
        if self.delimiter is not None and (
            len(self.delimiter) != 1 or self.delimiter in '"\r\n' or not self.delimiter.isascii()
        ):
            raise ConfigError(
                f"records.delimiter={self.delimiter!r} must be one character such as ';', "
                "',', '|' or a tab (ASCII; not a quote or a line break)"
            )
        if self.encoding is not None:
            try:
                info = codecs.lookup(self.encoding)
                # hex, rot13, base64 and the like are codecs, but not text encodings
                if not getattr(info, "_is_text_encoding", True) or info.name in (
                    "idna",
                    "punycode",
                ):
                    raise LookupError(self.encoding)
            except LookupError:
                raise ConfigError(
                    f"records.encoding={self.encoding!r} is not a known text encoding; use "
                    "e.g. 'utf-8', 'cp1252' (Windows-1252) or 'latin-1', or leave it out to "
                    "detect it"
                ) from None


@dataclass(frozen=True)
class AreaOptions:
    """Study area, boundaries and the unit of analysis."""

    SECTION: ClassVar[str] = "area"

    boundaries: Path | None = None
    code: str | None = None
    level: str = "desa"
    id_col: str | None = None
    name_col: str | None = None
    snap_m: float = 100.0

    def __post_init__(self) -> None:
        _check_types(self)
        parse_level(self.level)
        if self.id_col is None:  # custom boundaries may use any id scheme
            check_area_code(self.code)
        _positive("area.snap_m", self.snap_m, strict=False)


@dataclass(frozen=True)
class AnalysisOptions:
    """Spatial weights and local statistics."""

    SECTION: ClassVar[str] = "analysis"

    seed: int = 0
    permutations: int = 999
    fdr: bool = False
    alpha: float = 0.05
    weights: WeightsKind = "queen"
    tolerance_m: float = 10.0
    k: int = 6
    islands: IslandPolicy = "nearest"
    alternative: AlternativeKind = "two-sided"
    gi_inference: InferenceKind = "analytical"
    lisa_inference: InferenceKind = "permutation"
    min_sector_firms: int = 20
    sectors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_types(self)
        _positive("analysis.permutations", self.permutations, strict=False, integer=True)
        if self.permutations > MAX_PERMUTATIONS:
            raise ConfigError(
                f"analysis.permutations={self.permutations!r} is too many; use at most "
                f"{MAX_PERMUTATIONS:,} (p-values below 1e-5 need the analytical z: "
                "permutations = 0)"
            )
        _positive("analysis.seed", self.seed, strict=False, integer=True)
        if not 0 < self.alpha < 1:
            raise ConfigError(f"analysis.alpha={self.alpha!r} must lie between 0 and 1")
        _choice("analysis.weights", self.weights, WeightsKind)
        _choice("analysis.islands", self.islands, IslandPolicy)
        _choice("analysis.alternative", self.alternative, AlternativeKind)
        _choice("analysis.gi_inference", self.gi_inference, InferenceKind)
        _choice("analysis.lisa_inference", self.lisa_inference, InferenceKind)
        _positive("analysis.tolerance_m", self.tolerance_m, strict=False)
        _positive("analysis.k", self.k, integer=True)
        _positive("analysis.min_sector_firms", self.min_sector_firms, strict=False, integer=True)


@dataclass(frozen=True)
class SentraOptions:
    """Rules that make an area part of a sector's sentra."""

    SECTION: ClassVar[str] = "sentra"

    min_firms: int = 20
    lq_threshold: float = 2.0
    confidence: int = 95
    lq_measure: LqMeasure = "firms"
    extend: bool = True
    extend_min_firms: int = 5
    extend_lq: float | None = None
    method: SentraMethod = "areas"
    eps_m: float = 300.0
    min_density_km2: float = 2.0

    def __post_init__(self) -> None:
        _check_types(self)
        _positive("sentra.min_firms", self.min_firms, integer=True)
        _positive("sentra.lq_threshold", self.lq_threshold, strict=False)
        if self.confidence not in (90, 95, 99):
            raise ConfigError(f"sentra.confidence={self.confidence!r}; use 90, 95 or 99")
        _choice("sentra.lq_measure", self.lq_measure, LqMeasure)
        _positive("sentra.extend_min_firms", self.extend_min_firms, integer=True)
        if self.extend_lq is not None:
            _positive("sentra.extend_lq", self.extend_lq, strict=False)
        _choice("sentra.method", self.method, SentraMethod)
        _positive("sentra.eps_m", self.eps_m)
        _positive("sentra.min_density_km2", self.min_density_km2, strict=False)


@dataclass(frozen=True)
class TypologyOptions:
    """Markusen typology: which columns give ownership and local linkages, and the
    thresholds of :class:`klastergeo.typology.TypologyRules` to change."""

    SECTION: ClassVar[str] = "typology"

    ownership: str | None = None
    linkages: tuple[str, ...] = ()
    thresholds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_types(self)
        from klastergeo.typology import TypologyRules

        known = {f.name for f in fields(TypologyRules)}
        unknown = sorted(set(self.thresholds) - known)
        if unknown:
            raise ConfigError(
                f"typology.thresholds has unknown key(s) {unknown}; known: {sorted(known)}"
            )
        TypologyRules(**self.thresholds)


FiguresChoice = Literal["sentra", "all", "none"]


@dataclass(frozen=True)
class ReportOptions:
    """The report page and its static figures (Gi*, LISA, Moran per sector)."""

    SECTION: ClassVar[str] = "report"

    figures: FiguresChoice = "sentra"

    def __post_init__(self) -> None:
        _check_types(self)
        _choice("report.figures", self.figures, FiguresChoice)


@dataclass(frozen=True)
class PointPatternOptions:
    """Ripley's K/L envelopes and Clark-Evans per sector and per sentra."""

    SECTION: ClassVar[str] = "pointpattern"

    enabled: bool = True
    simulations: int = 99
    max_points: int = 1000

    def __post_init__(self) -> None:
        _check_types(self)
        _positive("pointpattern.simulations", self.simulations, integer=True)
        if self.simulations > MAX_SIMULATIONS:
            raise ConfigError(
                f"pointpattern.simulations={self.simulations!r} is too many; use at most "
                f"{MAX_SIMULATIONS:,}"
            )
        _positive("pointpattern.max_points", self.max_points, integer=True)
        if self.max_points < 3:
            raise ConfigError(f"pointpattern.max_points={self.max_points!r} must be at least 3")


@dataclass(frozen=True)
class DiagnosisOptions:
    """Porter's-diamond diagnosis: item -> registry column (``items``), a per-sentra
    table of 1-5 scores (``table`` with ``table_items``), stage thresholds and charts."""

    SECTION: ClassVar[str] = "diagnosis"

    items: dict[str, str] = field(default_factory=dict)
    table: Path | None = None
    table_items: dict[str, str] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    charts: bool = True

    def __post_init__(self) -> None:
        _check_types(self)
        from klastergeo.diagnosis import ITEMS, StageRules

        known = {i for items in ITEMS.values() for i in items}
        for name, mapping in (("items", self.items), ("table_items", self.table_items)):
            unknown = sorted(set(mapping) - known)
            if unknown:
                raise ConfigError(
                    f"diagnosis.{name} has unknown item(s) {unknown}; known: {sorted(known)}"
                )
        if self.table_items and self.table is None:
            raise ConfigError("diagnosis.table_items needs diagnosis.table (a CSV path)")
        stage_keys = {f.name for f in fields(StageRules)}
        unknown = sorted(set(self.thresholds) - stage_keys)
        if unknown:
            raise ConfigError(
                f"diagnosis.thresholds has unknown key(s) {unknown}; known: {sorted(stage_keys)}"
            )
        StageRules(**self.thresholds)


@dataclass(frozen=True)
class ModelOptions:
    """Cluster-probability models of 'firm lies in a sentra'."""

    SECTION: ClassVar[str] = "model"

    predictors: tuple[str, ...] = ()
    kinds: tuple[ModelKind, ...] = ("lpm", "logit")
    cutoff: float = 0.5
    outcome: str = "in_sentra"
    categorical: tuple[str, ...] = ()
    reference: dict[str, str] = field(default_factory=dict)
    log: tuple[str, ...] = ()
    standardise: bool | tuple[str, ...] = False
    robust: str | None = "auto"
    area_data: Path | None = None
    area_id: str = "area_code"
    spatial: SpatialModel = "auto"

    def __post_init__(self) -> None:
        _check_types(self)
        for kind in self.kinds:
            _choice("model.kinds", kind, ModelKind)
        if not 0 < self.cutoff < 1:
            raise ConfigError(f"model.cutoff={self.cutoff!r} must lie between 0 and 1")
        for name in ("categorical", "log"):
            extra = [c for c in getattr(self, name) if self.predictors and c not in self.predictors]
            if extra:
                raise ConfigError(f"model.{name} names {extra}, which are not model.predictors")
        _choice("model.spatial", self.spatial, SpatialModel)
        if isinstance(self.robust, str) and self.robust.lower() == "none":
            object.__setattr__(self, "robust", None)  # TOML has no null
        if self.robust not in (None, "auto", "HC0", "HC1", "HC2", "HC3"):
            raise ConfigError(
                f"model.robust={self.robust!r} is not accepted; use auto, HC0, HC1, HC2, HC3 "
                "or none"
            )


@dataclass(frozen=True)
class MapOptions:
    """The interactive web map."""

    SECTION: ClassVar[str] = "map"

    lang: Lang = "id"
    tiles: str = "OpenStreetMap"
    title: str | None = None
    #: Attribution of a custom tile URL (required with one; shown as text).
    attribution: str | None = None

    def __post_init__(self) -> None:
        _check_types(self)
        _choice("map.lang", self.lang, Lang)
        if self.tiles.strip().lower() in BASE_MAPS:
            return
        url = self.tiles.strip()
        placeholders = re.findall(r"\{[^{}]*\}", url)
        if (
            not re.fullmatch(r"https?://[^\s<>\"']+", url)
            or not {"{z}", "{x}", "{y}"} <= set(placeholders)
            or not set(placeholders) <= {"{s}", "{z}", "{x}", "{y}", "{r}"}
            or url.count("{") != len(placeholders)
            or url.count("}") != len(placeholders)
        ):
            raise ConfigError(
                f"map.tiles={self.tiles!r} is not a base map; use one of "
                f"{', '.join(repr(k) for k in BASE_MAPS)} or a tile URL such as "
                "'https://tile.example.org/{z}/{x}/{y}.png' with map.attribution"
            )
        if not self.attribution:
            raise ConfigError(
                f"map.tiles={self.tiles!r} is a custom tile URL; give its map.attribution "
                "(the data's copyright holder), as tile providers require"
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
    out: Path = Path("out")

    def with_overrides(self, overrides: dict[str, Any]) -> RunConfig:
        """Return a copy with ``{"section.key": value}`` overrides applied (None is skipped).

        >>> RunConfig().with_overrides({"analysis.seed": 7}).analysis.seed
        7
        """
        sections: dict[str, dict[str, Any]] = {}
        top: dict[str, Any] = {}
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
            if section not in _SECTIONS:
                raise ConfigError(
                    f"unknown option {section}.{', '.join(values)}; sections: "
                    f"{', '.join(_SECTIONS)}"
                )
            current = getattr(self, section)
            changes[section] = _build(type(current), values, section, base=current)
        for key, value in top.items():
            if key != "out":
                raise ConfigError(f"unknown option {key!r}")
            if not isinstance(value, str | os.PathLike) or "\0" in str(value):
                raise ConfigError(f"out={value!r} must be a folder path")
            changes[key] = Path(value)
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


_SECTIONS: dict[str, type] = {
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
}
#: Keys whose values are lists of column names (a comma-separated string also works).
_LIST_KEYS = ("sectors", "predictors", "linkages", "categorical", "log")
_PATH_KEYS = {
    ("records", "path"),
    ("area", "boundaries"),
    ("diagnosis", "table"),
    ("model", "area_data"),
}


def _build(
    cls: type, values: dict[str, Any], section: str, *, base: Any = None, root: Path | None = None
) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(
            f"[{section}] has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(known)}"
        )
    converted: dict[str, Any] = {}
    for key, value in values.items():
        if (section, key) in _PATH_KEYS and value is not None:
            if not isinstance(value, str | os.PathLike) or "\0" in str(value):
                raise ConfigError(
                    f"{section}.{key}={value!r} is not accepted: it must be a path (in quotes)"
                )
            path = Path(value).expanduser()
            if root is not None and not path.is_absolute():
                path = Path(os.path.normpath(root / path))
            value = path
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


def load_config(
    path: str | Path | None = None, *, overrides: dict[str, Any] | None = None
) -> RunConfig:
    """Read a TOML run configuration and apply flag overrides.

    Parameters
    ----------
    path
        A TOML file, or None for defaults only.
    overrides
        ``{"section.key": value}`` from the command line; None values are ignored.

    Examples
    --------
    >>> load_config(None, overrides={"records.path": "firms.csv", "area.code": "33"}).area.code
    '33'
    """
    config = RunConfig()
    if path is not None:
        file = Path(path)
        try:
            # a BOM (Notepad on Windows writes one) is not TOML; read past it
            data = tomllib.loads(file.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ConfigError(f"config file {str(file)!r} does not exist") from None
        except IsADirectoryError:
            raise ConfigError(f"config file {str(file)!r} is a folder, not a file") from None
        except UnicodeDecodeError as err:
            raise ConfigError(
                f"config file {str(file)!r} is not UTF-8 text (byte "
                f"{err.object[err.start : err.start + 1]!r} at position {err.start}); "
                "save it as UTF-8, as TOML requires"
            ) from None
        except OSError as err:
            raise ConfigError(
                f"cannot read config file {str(file)!r}: {err.strerror or err}"
            ) from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"config file {str(file)!r} is not valid TOML: {err}") from None
        root = file.resolve().parent
        unknown = sorted(set(data) - set(_SECTIONS) - {"out"})
        if unknown:
            raise ConfigError(
                f"config file {str(file)!r} has unknown section(s) {', '.join(unknown)}; "
                f"known sections: {', '.join(_SECTIONS)}"
            )
        changes: dict[str, Any] = {}
        for section, cls in _SECTIONS.items():
            if section in data:
                if not isinstance(data[section], dict):
                    raise ConfigError(f"[{section}] in {str(file)!r} must be a table")
                changes[section] = _build(cls, data[section], section, root=root)
        if "out" in data:
            if not isinstance(data["out"], str) or "\0" in data["out"]:
                raise ConfigError(
                    f"out={data['out']!r} in {str(file)!r} must be a folder path in quotes"
                )
            out = Path(data["out"])
            changes["out"] = out if out.is_absolute() else Path(os.path.normpath(root / out))
        config = dataclasses.replace(config, **changes)
    if overrides:
        config = config.with_overrides(overrides)
    return config
