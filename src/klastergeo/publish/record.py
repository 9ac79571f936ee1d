"""The run record: what a run did, typed, as its ``summary.json`` holds it.

:class:`RunRecord` is the one shape of a run's summary. The pipeline's writer
(:mod:`klastergeo.app.pipeline.writer`) builds it from the steps and commits it as
``summary.json`` (:meth:`RunRecord.to_json`); the report, the start page, ``publish``,
the maps and the console read its attributes; :meth:`RunRecord.load` reads it back from
a run folder. ``to_json(from_json(d)) == d`` for every summary a run writes (a run, a
run that stopped at validation, a run over surveys), key for key and in the same order.

Sections a page reads are dataclasses of their own (:class:`RecordsRecord`,
:class:`AreasRecord`, :class:`NearMisses`, :class:`DisclosureRecord`,
:class:`ConfigRecord`...); blocks the pages show whole or not at all (the weights' and
the models' fit statistics, the number formats, versions, timings) stay mappings.
Reading is lenient, as a hand-edited ``summary.json`` may be: a missing or mistyped
entry reads as its default.

The record lives in the publish layer because its readers (report, site, maps) are
there and the app layer above writes it; the configuration's settings the pages name
are mirrored in :class:`ConfigRecord` (the configuration itself, :mod:`klastergeo.app.config`,
is a layer above), and a test checks the mirror against the configuration's keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from klastergeo.errors import DataError
from klastergeo.publish import messages

__all__ = [
    "MANIFEST",
    "AreasRecord",
    "ConfigRecord",
    "DisclosureRecord",
    "LeftOut",
    "NearMisses",
    "NotComputed",
    "OutputNote",
    "RecordsRecord",
    "RoleRecord",
    "RunRecord",
    "SectorsRecord",
    "SheetLayout",
    "SkippedSheet",
    "TableLayout",
]

#: The file a run folder's record is saved as.
MANIFEST = "summary.json"


def _dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a dict, else an empty one (a hand-edited summary.json)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _int(value: Any, default: int = 0) -> int:
    """A count: ``value`` if it is a number, else ``default``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return default


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _ints(value: Any) -> dict[str, int]:
    return {str(k): _int(v) for k, v in _dict(value).items()}


def _strs(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _dict(value).items()}


def _lists(value: Any) -> dict[str, list[str]]:
    return {str(k): [str(x) for x in _list(v)] for k, v in _dict(value).items()}


def _opt(value: Any) -> Any:
    """A setting as written, or None for a missing one (``None`` never a dict)."""
    return None if isinstance(value, dict | list) else value


# -- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleRecord:
    """The column taken for one role (``records.roles``), with the unit of a measure."""

    column: str
    #: Whether the role is a measure with a unit (the entries below are written).
    measured: bool = False
    unit: str | None = None
    unit_from: str | None = None
    written_unit: str | None = None
    stated_unit: str | None = None
    factor: float = 1.0

    @classmethod
    def from_json(cls, data: Any) -> RoleRecord:
        entry = _dict(data)
        if "unit" not in entry:
            return cls(column=_str(entry.get("column")))
        factor = entry.get("factor", 1.0)
        return cls(
            column=_str(entry.get("column")),
            measured=True,
            unit=entry.get("unit"),
            unit_from=entry.get("unit_from"),
            written_unit=entry.get("written_unit"),
            stated_unit=entry.get("stated_unit", entry.get("unit")),
            factor=factor if isinstance(factor, int | float) else 1.0,
        )

    def to_json(self) -> dict[str, Any]:
        if not self.measured:
            return {"column": self.column}
        return {
            "column": self.column,
            "unit": self.unit,
            "unit_from": self.unit_from,
            "written_unit": self.written_unit,
            "stated_unit": self.stated_unit,
            "factor": self.factor,
        }


@dataclass(frozen=True)
class TableLayout:
    """Where one table of a registry's file was found (``records.layout.tables``)."""

    sheet: str | None
    header_rows: list[int]
    header_found: bool = True
    first_record_row: int | None = None
    records: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> TableLayout:
        entry = _dict(data)
        found = entry.get("header_found", True)
        return cls(
            sheet=entry.get("sheet"),
            header_rows=[_int(r) for r in _list(entry.get("header_rows"))],
            header_found=found if isinstance(found, bool) else True,
            first_record_row=entry.get("first_record_row"),
            records=entry.get("records"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "header_rows": list(self.header_rows),
            "header_found": self.header_found,
            "first_record_row": self.first_record_row,
            "records": self.records,
        }


@dataclass(frozen=True)
class SkippedSheet:
    """A sheet left out of a workbook, and why."""

    sheet: str
    why: str


@dataclass(frozen=True)
class SheetLayout:
    """Where the records were found in the file (``records.layout``)."""

    tables: list[TableLayout] = field(default_factory=list)
    sheets_skipped: list[SkippedSheet] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> SheetLayout | None:
        if not isinstance(data, dict):
            return None
        return cls(
            tables=[TableLayout.from_json(t) for t in _list(data.get("tables"))],
            sheets_skipped=[
                SkippedSheet(_str(_dict(s).get("sheet")), _str(_dict(s).get("why")))
                for s in _list(data.get("sheets_skipped"))
            ],
            notes=[str(n) for n in _list(data.get("notes"))],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "tables": [t.to_json() for t in self.tables],
            "sheets_skipped": [{"sheet": s.sheet, "why": s.why} for s in self.sheets_skipped],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class RecordsRecord:
    """What validation read, kept, rejected and repaired, and how the columns were read
    (the ``records`` block, :meth:`klastergeo.io.registry.records.ValidationReport.summary`)."""

    read: int = 0
    kept: int = 0
    rejected: int = 0
    repaired: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    repaired_by_reason: dict[str, int] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    number_formats: dict[str, dict[str, Any]] = field(default_factory=dict)
    renamed_columns: dict[str, str] = field(default_factory=dict)
    sector_column_numeric: Any = None
    placement: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    skipped_by_kind: dict[str, int] = field(default_factory=dict)
    layout: SheetLayout | None = None
    implied_columns: dict[str, str] = field(default_factory=dict)
    roles: dict[str, RoleRecord] = field(default_factory=dict)
    roles_not_found: list[str] = field(default_factory=list)
    similar_columns: dict[str, list[str]] = field(default_factory=dict)
    passed_over: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> RecordsRecord:
        block = _dict(data)
        return cls(
            read=_int(block.get("read")),
            kept=_int(block.get("kept")),
            rejected=_int(block.get("rejected")),
            repaired=_int(block.get("repaired")),
            by_reason=_ints(block.get("by_reason")),
            repaired_by_reason=_ints(block.get("repaired_by_reason")),
            columns=_strs(block.get("columns")),
            number_formats={
                str(k): _dict(v) for k, v in _dict(block.get("number_formats")).items()
            },
            renamed_columns=_strs(block.get("renamed_columns")),
            sector_column_numeric=block.get("sector_column_numeric"),
            placement=_ints(block.get("placement")),
            skipped=_int(block.get("skipped")),
            skipped_by_kind=_ints(block.get("skipped_by_kind")),
            layout=SheetLayout.from_json(block.get("layout")),
            implied_columns=_strs(block.get("implied_columns")),
            roles={str(k): RoleRecord.from_json(v) for k, v in _dict(block.get("roles")).items()},
            roles_not_found=[str(r) for r in _list(block.get("roles_not_found"))],
            similar_columns=_lists(block.get("similar_columns")),
            passed_over=_lists(block.get("passed_over")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "kept": self.kept,
            "rejected": self.rejected,
            "repaired": self.repaired,
            "by_reason": dict(self.by_reason),
            "repaired_by_reason": dict(self.repaired_by_reason),
            "columns": dict(self.columns),
            "number_formats": {k: dict(v) for k, v in self.number_formats.items()},
            "renamed_columns": dict(self.renamed_columns),
            "sector_column_numeric": self.sector_column_numeric,
            "placement": dict(self.placement),
            "skipped": self.skipped,
            "skipped_by_kind": dict(self.skipped_by_kind),
            "layout": self.layout.to_json() if self.layout is not None else None,
            "implied_columns": dict(self.implied_columns),
            "roles": {k: v.to_json() for k, v in self.roles.items()},
            "roles_not_found": list(self.roles_not_found),
            "similar_columns": {k: list(v) for k, v in self.similar_columns.items()},
            "passed_over": {k: list(v) for k, v in self.passed_over.items()},
        }


# -- areas, sentra, notes -----------------------------------------------------------------


@dataclass(frozen=True)
class AreasRecord:
    """The areas of analysis (``areas``): their level, study area (its code and, from
    Kemendagri boundaries, its name: ``Kabupaten Klaten``), how many (with firms), and
    the weights' summary (:class:`~klastergeo.app.pipeline.weighting.Weights` ``info``:
    ``kind`` and the kind's parameters)."""

    level: str = ""
    study_area: str | None = None
    study_area_name: str | None = None
    count: int = 0
    with_firms: int = 0
    weights: dict[str, Any] = field(default_factory=dict)

    @property
    def weights_kind(self) -> str:
        """The kind of spatial weights (``queen``, ``knn``, ...; empty when unknown)."""
        return _str(self.weights.get("kind"))

    @classmethod
    def from_json(cls, data: Any) -> AreasRecord:
        block = _dict(data)
        return cls(
            level=_str(block.get("level")),
            study_area=block.get("study_area"),
            study_area_name=block.get("study_area_name"),
            count=_int(block.get("count")),
            with_firms=_int(block.get("with_firms")),
            weights=_dict(block.get("weights")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "study_area": self.study_area,
            "study_area_name": self.study_area_name,
            "count": self.count,
            "with_firms": self.with_firms,
            "weights": dict(self.weights),
        }


@dataclass(frozen=True)
class SectorsRecord:
    """The analysed sectors, and the sectors skipped for too few firms with their firms."""

    analysed: list[str] = field(default_factory=list)
    skipped_few_firms: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> SectorsRecord:
        block = _dict(data)
        return cls(
            analysed=[str(s) for s in _list(block.get("analysed"))],
            skipped_few_firms=_ints(block.get("skipped_few_firms")),
        )

    def to_json(self) -> dict[str, Any]:
        return {"analysed": list(self.analysed), "skipped_few_firms": dict(self.skipped_few_firms)}


@dataclass(frozen=True)
class NearMisses:
    """The near misses of the sentra rules (``candidates``): how many, how many failed
    each rule, and the reasons of the largest."""

    count: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    largest: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> NearMisses:
        block = _dict(data)
        return cls(
            count=_int(block.get("count")),
            failed=_ints(block.get("failed")),
            largest=[str(x) for x in _list(block.get("largest"))],
        )

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "failed": dict(self.failed), "largest": list(self.largest)}


@dataclass(frozen=True)
class NotComputed:
    """What a step could not compute (or computed on part of the data), and why.

    ``what`` and ``why`` are in English; ``what_key``, ``why_key`` and ``params`` name the
    catalogue's sentences (``notes`` group) that :meth:`said` writes in any language (a
    ``summary.json`` written before they were recorded has only the English)."""

    step: str
    what: str
    why: str
    partly: bool = False
    what_key: str = ""
    why_key: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> NotComputed:
        item = _dict(data)
        return cls(
            step=_str(item.get("step")),
            what=_str(item.get("what")),
            why=_str(item.get("why")),
            partly=item.get("computed") == "partly",
            what_key=_str(item.get("what_key")),
            why_key=_str(item.get("why_key")),
            params=dict(_dict(item.get("params"))),
        )

    def said(self, lang: str) -> tuple[str, str]:
        """What was not computed, and why, in ``lang``; the recorded English when the
        record names no sentence of the catalogue (or one it no longer has, or without
        its values).

        Parameters
        ----------
        lang
            ``"id"`` or ``"en"``.
        """
        notes = messages.text("notes", lang)
        if self.what_key in notes and self.why_key in notes:
            try:
                return messages.note(self.what_key, self.why_key, self.params, lang)
            except (KeyError, IndexError, ValueError):  # a hand-edited summary.json
                pass
        return self.what, self.why

    def to_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"step": self.step, "what": self.what, "why": self.why}
        if self.what_key:
            item |= {"what_key": self.what_key, "why_key": self.why_key}
            item["params"] = dict(self.params)
        if self.partly:
            item["computed"] = "partly"
        return item


@dataclass(frozen=True)
class LeftOut:
    """A default predictor the models went without (``no_column`` or ``no_values``)."""

    predictor: str
    column: str | None
    reason: str

    @classmethod
    def from_json(cls, data: Any) -> LeftOut:
        item = _dict(data)
        column = item.get("column")
        return cls(
            predictor=_str(item.get("predictor")),
            column=None if column is None else str(column),
            reason=_str(item.get("reason")),
        )

    def to_json(self) -> dict[str, Any]:
        return {"predictor": self.predictor, "column": self.column, "reason": self.reason}


@dataclass(frozen=True)
class OutputNote:
    """What a writer changed to fit a format (a column renamed, a cell cut)."""

    file: str
    note: str


@dataclass(frozen=True)
class DisclosureRecord:
    """The disclosure rules a run applied and what they suppressed (``disclosure``)."""

    enabled: bool = False
    min_firms: int = 3
    dominance_n: int = 2
    dominance_k: float = 0.85
    grid_m: float = 250.0
    suppressed: dict[str, Any] = field(default_factory=dict)
    #: False for counts per area, whose sums have no single firm's value to check.
    dominance_applied: bool = True
    dominance_note: str = ""
    #: False when the rules cannot be read (an edited summary): :attr:`written` holds them.
    readable: bool = True
    written: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> DisclosureRecord:
        """The block as written (:meth:`klastergeo.app.pipeline.protection.Protection.summary`);
        a rule that cannot be read raises ``ValueError`` or ``TypeError``."""
        block = _dict(data)
        applied = block.get("dominance_applied", True)
        return cls(
            enabled=block.get("enabled") is True,
            min_firms=int(block.get("min_firms", 3)),
            dominance_n=int(block.get("dominance_n", 2)),
            dominance_k=float(block.get("dominance_k", 0.85)),
            grid_m=float(block.get("grid_m", 250.0)),
            suppressed=_dict(block.get("suppressed")),
            dominance_applied=applied is not False,
            dominance_note=_str(block.get("dominance_note")),
        )

    def to_json(self) -> dict[str, Any]:
        if not self.readable:
            return dict(self.written)
        out: dict[str, Any] = {}
        if not self.dominance_applied:
            out["dominance_applied"] = False
            out["dominance_note"] = self.dominance_note
        return {
            **out,
            "enabled": self.enabled,
            "min_firms": self.min_firms,
            "dominance_n": self.dominance_n,
            "dominance_k": self.dominance_k,
            "grid_m": self.grid_m,
            "suppressed": self.suppressed,
        }


# -- the configuration --------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigRecord:
    """The run's configuration (``config``): every section as written (:attr:`sections`,
    what :meth:`to_json` gives back), with the settings the pages name typed.

    The typed settings mirror :class:`klastergeo.app.config.RunConfig`'s (a layer above);
    :data:`SETTINGS` lists each one's ``section.key``, which a test checks against the
    configuration, so a renamed setting fails there instead of printing an empty cell.
    """

    sections: dict[str, Any] = field(default_factory=dict)
    records_path: str | None = None
    counts_path: str | None = None
    area_level: str = ""
    map_lang: str = "id"
    map_title: str | None = None
    csv_locale: str = "en"
    permutations: Any = None
    fdr: Any = None
    alternative: Any = None
    gi_inference: Any = None
    min_firms: Any = None
    lq_threshold: Any = None
    confidence: Any = None
    colocation_alpha: float = 0.05
    min_related_firms: int = 3
    model_predictors: list[str] = field(default_factory=list)

    #: Each typed setting's ``section.key`` in the configuration.
    SETTINGS: ClassVar[Mapping[str, str]] = {
        "records_path": "records.path",
        "counts_path": "counts.path",
        "area_level": "area.level",
        "map_lang": "map.lang",
        "map_title": "map.title",
        "csv_locale": "output.csv_locale",
        "permutations": "analysis.permutations",
        "fdr": "analysis.fdr",
        "alternative": "analysis.alternative",
        "gi_inference": "analysis.gi_inference",
        "min_firms": "sentra.min_firms",
        "lq_threshold": "sentra.lq_threshold",
        "confidence": "sentra.confidence",
        "colocation_alpha": "colocation.alpha",
        "min_related_firms": "colocation.min_related_firms",
        "model_predictors": "model.predictors",
    }

    @classmethod
    def from_json(cls, data: Any) -> ConfigRecord:
        sections = _dict(data)

        def setting(name: str) -> Any:
            section, key = cls.SETTINGS[name].split(".")
            return _opt(_dict(sections.get(section)).get(key))

        path, counts, title = setting("records_path"), setting("counts_path"), setting("map_title")
        alpha, least = setting("colocation_alpha"), setting("min_related_firms")
        predictors = _dict(sections.get("model")).get("predictors")
        return cls(
            sections=sections,
            records_path=None if path is None else str(path),
            counts_path=None if counts is None else str(counts),
            area_level=_str(setting("area_level")),
            map_lang=_str(setting("map_lang"), "id"),
            map_title=title if isinstance(title, str) else None,
            csv_locale=_str(setting("csv_locale"), "en"),
            permutations=setting("permutations"),
            fdr=setting("fdr"),
            alternative=setting("alternative"),
            gi_inference=setting("gi_inference"),
            min_firms=setting("min_firms"),
            lq_threshold=setting("lq_threshold"),
            confidence=setting("confidence"),
            colocation_alpha=float(alpha) if isinstance(alpha, int | float) else 0.05,
            min_related_firms=int(least) if isinstance(least, int | float) else 3,
            model_predictors=[str(p) for p in _list(predictors)],
        )

    def to_json(self) -> dict[str, Any]:
        return self.sections

    @property
    def source(self) -> str:
        """The registry's (or counts file's) path as given, or empty."""
        return self.records_path or self.counts_path or ""


# -- the record ---------------------------------------------------------------------------


@dataclass
class RunRecord:
    """A run's ``summary.json``, typed.

    The first four (:attr:`klastergeo`, :attr:`status`, :attr:`created`, :attr:`seed`)
    head every summary; a run adds what it read (:attr:`records`), its areas, sectors,
    sentra, near misses, models' fit, notes, timings and configuration; the run folder
    adds :attr:`kind` and the :attr:`files` manifest when it commits. A run that stopped
    at validation has no areas (:attr:`areas` None) and ``sentra`` null; a run over
    surveys names its :attr:`periods`, with ``sentra`` per period.
    """

    klastergeo: str = ""
    status: str = ""
    created: str = ""
    seed: int | None = None
    #: The survey period of a period's run that stopped at validation.
    period: str | None = None
    periods: list[str] | None = None
    #: A run over surveys: how its period labels were read, their spellings, and the
    #: records without a period.
    period_format: str | None = None
    period_labels: dict[str, Any] | None = None
    records_without_period: int | None = None
    records: RecordsRecord | None = None
    areas: AreasRecord | None = None
    sectors: SectorsRecord | None = None
    #: How many sentra (per period, for a run over surveys); None when it stopped early.
    sentra: int | dict[str, int] | None = None
    sentra_by_sector: dict[str, int] | None = None
    #: A run over surveys: its sentra lineages per trend.
    lineages: dict[str, int] | None = None
    #: A run over surveys (three periods or more): the emerging hot-spot categories
    #: possible with its periods, the fewest periods of each, the areas per category.
    emerging: dict[str, Any] | None = None
    candidates: NearMisses | None = None
    #: What co-location measured and wrote (sectors tested, pairs computed).
    colocation: dict[str, Any] | None = None
    #: Per model kind, its fit statistics, or why it was skipped (``skipped``).
    models: dict[str, dict[str, Any]] | None = None
    predictors_left_out: list[LeftOut] | None = None
    not_computed: list[NotComputed] | None = None
    #: Seconds taken by each step.
    timings: dict[str, float] | None = None
    config: ConfigRecord = field(default_factory=ConfigRecord)
    versions: dict[str, str] = field(default_factory=dict)
    disclosure: DisclosureRecord | None = None
    #: The counts file's reading (a run from counts per area).
    counts: dict[str, Any] | None = None
    #: Peak resident memory (MB) at each step's end.
    peak_rss_mb: dict[str, float] | None = None
    output_notes: list[OutputNote] | None = None
    #: ``run``, ``rejected`` or ``site``: what committed the folder.
    kind: str | None = None
    #: The files of the folder with their sizes and hashes.
    files: dict[str, Any] | None = None
    #: Entries this version does not name (a run over surveys' own), as written.
    extra: dict[str, Any] = field(default_factory=dict)
    #: The keys' order as read, which :meth:`to_json` keeps.
    order: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        """The record of a ``summary.json``'s content (missing entries read as empty)."""
        known = {f for f in cls.__dataclass_fields__ if f not in ("extra", "order")}
        sentra = data.get("sentra")
        periods = data.get("periods")
        seed = data.get("seed")
        return cls(
            klastergeo=_str(data.get("klastergeo")),
            status=_str(data.get("status")),
            created=_str(data.get("created")),
            seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
            period=None if data.get("period") is None else str(data["period"]),
            periods=[str(p) for p in periods] if isinstance(periods, list) else None,
            period_format=_str(data["period_format"]) if "period_format" in data else None,
            period_labels=_dict(data["period_labels"]) if "period_labels" in data else None,
            records_without_period=_int(data["records_without_period"])
            if "records_without_period" in data
            else None,
            records=RecordsRecord.from_json(data["records"]) if "records" in data else None,
            areas=AreasRecord.from_json(data["areas"]) if "areas" in data else None,
            sectors=SectorsRecord.from_json(data["sectors"]) if "sectors" in data else None,
            sentra=_sentra_count(sentra),
            sentra_by_sector=_ints(data["sentra_by_sector"])
            if "sentra_by_sector" in data
            else None,
            lineages=_ints(data["lineages"]) if "lineages" in data else None,
            emerging=_dict(data["emerging"]) if "emerging" in data else None,
            candidates=NearMisses.from_json(data["candidates"]) if "candidates" in data else None,
            colocation=_dict(data["colocation"]) if "colocation" in data else None,
            models=_dict(data["models"]) if "models" in data else None,
            predictors_left_out=[LeftOut.from_json(x) for x in _list(data["predictors_left_out"])]
            if "predictors_left_out" in data
            else None,
            not_computed=[NotComputed.from_json(x) for x in _list(data["not_computed"])]
            if "not_computed" in data
            else None,
            timings=_dict(data["timings"]) if "timings" in data else None,
            config=ConfigRecord.from_json(data.get("config")),
            versions=_strs(data.get("versions")),
            disclosure=_disclosure(data["disclosure"]) if "disclosure" in data else None,
            counts=_dict(data["counts"]) if "counts" in data else None,
            peak_rss_mb=_dict(data["peak_rss_mb"]) if "peak_rss_mb" in data else None,
            output_notes=[
                OutputNote(_str(_dict(x).get("file")), _str(_dict(x).get("note")))
                for x in _list(data["output_notes"])
            ]
            if "output_notes" in data
            else None,
            kind=None if data.get("kind") is None else str(data["kind"]),
            files=data["files"] if isinstance(data.get("files"), dict) else None,
            extra={k: v for k, v in data.items() if k not in known},
            order=tuple(data),
        )

    def to_json(self) -> dict[str, Any]:
        """The ``summary.json`` content: every entry the record holds, in the order it
        was read (a new record: the order a run writes)."""
        out: dict[str, Any] = {
            "klastergeo": self.klastergeo,
            "status": self.status,
            "created": self.created,
            "seed": self.seed,
        }
        if self.period is not None:
            out["period"] = self.period
        if self.periods is not None:
            out["periods"] = list(self.periods)
        surveys = {
            "period_format": self.period_format,
            "period_labels": self.period_labels,
            "records_without_period": self.records_without_period,
        }
        out.update({k: v for k, v in surveys.items() if v is not None})
        if self.records is not None:
            out["records"] = self.records.to_json()
        if self.areas is not None:
            out["areas"] = self.areas.to_json()
        if self.sectors is not None:
            out["sectors"] = self.sectors.to_json()
        # null: a run stopped at validation (a record read back keeps what it had)
        stopped = self.records is not None and (not self.order or "sentra" in self.order)
        if self.sentra is not None or stopped:
            out["sentra"] = dict(self.sentra) if isinstance(self.sentra, dict) else self.sentra
        optional: dict[str, Any] = {
            "sentra_by_sector": self.sentra_by_sector,
            "lineages": self.lineages,
            "emerging": self.emerging,
            "candidates": None if self.candidates is None else self.candidates.to_json(),
            "colocation": self.colocation,
            "models": self.models,
            "predictors_left_out": None
            if self.predictors_left_out is None
            else [x.to_json() for x in self.predictors_left_out],
            "not_computed": None
            if self.not_computed is None
            else [x.to_json() for x in self.not_computed],
            "timings": self.timings,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        out["config"] = self.config.to_json()
        out["versions"] = dict(self.versions)
        late: dict[str, Any] = {
            "disclosure": None if self.disclosure is None else self.disclosure.to_json(),
            "counts": self.counts,
            "peak_rss_mb": self.peak_rss_mb,
            "output_notes": None
            if self.output_notes is None
            else [{"file": n.file, "note": n.note} for n in self.output_notes],
        }
        out.update({k: v for k, v in late.items() if v is not None})
        out.update(self.extra)
        if self.kind is not None:
            out["kind"] = self.kind
        if self.files is not None:
            out["files"] = self.files
        if self.order:  # as read: the same order back
            rank = {k: i for i, k in enumerate(self.order)}
            out = dict(sorted(out.items(), key=lambda kv: rank.get(kv[0], len(rank))))
        return out

    @classmethod
    def load(cls, folder: str | Path) -> RunRecord:
        """The record of the run folder ``folder`` (its ``summary.json``).

        Raises :class:`~klastergeo.errors.DataError` when the folder has none, or it is
        not a klastergeo summary.
        """
        path = Path(folder) / MANIFEST
        if not path.is_file():
            raise DataError(
                f"{str(folder)!r} is not a klastergeo run folder (no summary.json); "
                "run `klastergeo run --out DIR` first"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise DataError(f"cannot read {str(path)!r}: {err}") from err
        if not isinstance(data, dict) or "klastergeo" not in data:
            raise DataError(f"{str(path)!r} is not the summary of a klastergeo run")
        return cls.from_json(data)

    def replace(self, **changes: Any) -> RunRecord:
        """A copy with ``changes`` (the keys' order kept).

        Parameters
        ----------
        **changes
            New values of fields, by name.
        """
        return replace(self, **changes)


def _sentra_count(value: Any) -> int | dict[str, int] | None:
    """``sentra``: a count, a count per period (a run over surveys), or None."""
    if value is None:
        return None
    return _ints(value) if isinstance(value, dict) else _int(value)


def _disclosure(data: Any) -> DisclosureRecord:
    """The disclosure block; rules that cannot be read (an edited summary) are kept as
    they were written, and marked (:func:`klastergeo.publish.site.publish` refuses them)."""
    try:
        return DisclosureRecord.from_json(data)
    except (TypeError, ValueError):
        block = _dict(data)
        return DisclosureRecord(enabled=block.get("enabled") is True, readable=False, written=block)
