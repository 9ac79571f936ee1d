"""A run over several survey periods: each period analysed as a run of its own, with the
same areas, weights and settings, and the sentra followed from one period to the next.

With ``[records] period_col`` (``--period-col tahun``) the registry is split by that
column, batch by batch (:func:`split_by_period`); with ``[records] files`` (``--records``
repeated) each registry is a period, labelled by ``[records] periods`` or the year in its
file name (:func:`period_files`). The labels are read as time in one format
(:mod:`klastergeo.io.registry.period_labels`, ``[records] period_format``): periods are named
``2019``, ``2019-Q1``, ``2019-03`` or ``2019-03-01`` and sorted in time, labels naming the
same period are one, a missing value (NA, null, -, empty) is no period, and a label that
cannot be read stops the run before any period is analysed. Each period's records become
a run in
``periods/<period>/`` (map, report, sentra,
every output of a single run): the study area and its boundaries are the same, so the
areas and the contiguity weights are the same in every period. Then, in the top folder:

- ``areas.parquet`` and ``sentra.csv``: every period's, with a ``period`` column;
- ``dynamics.csv``: the sentra lineages (:func:`klastergeo.analysis.dynamics.lineages`), one row
  per lineage with its trend, its sentra, firms, workers, output and investment per
  period; with
  ``[dynamics] stable_ids`` (record ids name the same firm in every survey), the firms
  that stayed, left and entered between periods (:func:`klastergeo.analysis.dynamics.firm_flows`);
  ``lineage_links.csv``: which sentra of one period continue which of the next;
- ``emerging_hot_spots.csv`` (three periods or more): per area and sector with a
  significant specialisation in some period, its emerging hot-spot category and the
  Mann-Kendall trend of ``spec_z`` (:func:`klastergeo.analysis.dynamics.emerging_hot_spots`);
- ``indicators.csv``: firms, workers, output and investment per regency (the code's first two
  parts, for desa and kecamatan areas; else the whole study area) and sector, per
  period, with the change from the first period;
- ``rejected_period.csv``: records without a period (kept out of every period's run);
  with ``--strict`` any such record stops the run and this file goes beside the outputs,
  to ``<out>.rejected/``, where a period's run stopped by ``--strict`` puts its
  ``rejected.csv`` too;
- ``index.html``: the lineages (or a sentence saying no period has a sentra), links to
  every period's map and report, and the public tables (what ``klastergeo publish``
  publishes, :data:`klastergeo.publish.site.PERIOD_TABLES`).

Records of a period are read as text, as the registry holds them, so each period's run
validates them exactly as a single run would. Boundaries must be the same in every
period: an area code that changed between surveys is out of scope.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from klastergeo.analysis import dynamics
from klastergeo.app.config import RunConfig
from klastergeo.app.pipeline import intake
from klastergeo.app.pipeline._steps import Reporter, header
from klastergeo.app.pipeline.counting import check_counts
from klastergeo.app.pipeline.profiling import check_colocation
from klastergeo.app.pipeline.protection import flag_column, regency_codes
from klastergeo.app.pipeline.study import study_area_name
from klastergeo.app.pipeline.writer import versions
from klastergeo.errors import ConfigError, DataError, ValidationError, preview
from klastergeo.io import boundaries
from klastergeo.io.files import RunFolder, atomic_path, write_csv, write_text
from klastergeo.io.registry import batches, period_labels
from klastergeo.io.registry import records as records_mod
from klastergeo.publish import messages, workbook
from klastergeo.publish.record import RunRecord

__all__ = ["PeriodsResult", "period_files", "run_periods", "split_by_period", "split_counts"]

logger = logging.getLogger(__name__)

#: Where each period's run goes, inside the output folder.
PERIODS_FOLDER = "periods"


@dataclass
class PeriodsResult:
    """The periods' runs and what follows them across periods."""

    periods: list[str]
    runs: dict[str, Any]  # period -> RunResult
    sentra: pd.DataFrame  # every period's sentra, with ``period``
    lineages: pd.DataFrame  # indexed by lineage_id
    links: pd.DataFrame
    emerging: pd.DataFrame | None  # None with fewer than three periods
    indicators: pd.DataFrame
    summary: dict[str, Any]

    @property
    def record(self) -> RunRecord:
        """The run over surveys' record (:attr:`summary`, typed)."""
        return RunRecord.from_json(self.summary)


#: The most distinct labels a period column may hold: more is not a column of survey
#: periods (record ids, free text), and every period is a run of its own.
MAX_LABELS = 10_000


@dataclass(frozen=True)
class _Split:
    """The registry split by period: one file per period (time order), the records
    that have no period (or could not be read as a row), and how the labels were read."""

    files: dict[str, Path]
    missing: pd.DataFrame
    labels: period_labels.PeriodLabels | None = None


def split_by_period(config: RunConfig, folder: Path) -> _Split:
    """Split the registry by ``records.period_col`` into one Parquet file of text per
    period in ``folder``, batch by batch (memory follows ``records.batch_size``, not the
    registry).

    A first pass reads the period column alone and its distinct labels are read as
    periods in one format (:func:`klastergeo.io.registry.period_labels.read_periods`: a label that
    cannot be read stops here, before any period is analysed); the second pass writes
    each record to its period's file, in the registry's order. Records whose label is a
    missing value are left out, with their reason.

    Parameters
    ----------
    config
        The run's configuration (``[records]``: path, delimiter, encoding, sheet, layer,
        batch_size, ``period_col`` and ``period_format``; ``[columns]``).
    folder
        Where the period files are written.

    Returns
    -------
    _Split
        The files by period (time order), the records left out, with ``row`` (the
        record's number in the file), ``reason`` and ``detail``, and the labels read.
    """
    options = config.records
    column = options.period_col
    assert options.path is not None and column is not None
    name = options.path.name
    registry = batches.open_registry(
        options.path,
        workdir=folder / "staged",
        batch_size=options.batch_size,
        columns=config.columns,
        decimal=options.decimal,
        delimiter=options.delimiter,
        encoding=options.encoding,
        sheet=options.sheet,
        layer=options.layer,
        formats=False,  # each period's run decides its own
    )
    source = registry.source
    if column not in source.header:
        raise DataError(
            f"records.period_col={column!r} is not a column of {name!r}; its columns: "
            f"{source.header}"
        )
    labels = _read_labels(source, config)
    writers = _PeriodFiles(folder, options.path.stem)
    missing: list[pd.DataFrame] = []
    if len(source.malformed):
        missing.append(source.malformed.assign(reason="malformed_row"))
    for raw in source.batches(options.batch_size):  # batches; their rows are vectorised
        frame = raw.frame
        if raw.xy is not None:  # a GIS registry: its points as text coordinates
            frame = frame.drop(columns="geometry", errors="ignore").assign(
                lon=raw.xy[0].astype(str), lat=raw.xy[1].astype(str)
            )
        codes, uniques = pd.factorize(_text(frame[column]))
        period = pd.Series(
            np.asarray([labels.of[u] for u in uniques], dtype=object)[codes], index=frame.index
        )  # the batch's distinct labels (a few) mapped, then spread to its rows
        absent = period.isna().to_numpy()
        if absent.any():
            detail = np.asarray([_why_missing(u, column) for u in uniques], dtype=object)
            missing.append(
                frame.loc[absent].assign(
                    row=raw.rows[absent], reason="missing_period", detail=detail[codes[absent]]
                )
            )
        writers.add(frame.loc[~absent], period.loc[~absent])
    files = writers.close()
    if len(labels.periods) < 2:
        without = sum(len(m) for m in missing)
        raise DataError(
            f"records.period_col={column!r} of {name!r} holds {len(labels.periods)} period(s) "
            f"({', '.join(labels.periods) or 'none'}) and {without:,} record(s) without one; "
            "following sentra over time needs at least 2"
        )
    shutil.rmtree(folder / "staged", ignore_errors=True)
    out = (
        pd.concat(missing, ignore_index=True)
        if missing
        else pd.DataFrame(columns=["row", "reason", "detail"])
    )
    if len(out):
        out = out.sort_values("row", kind="stable").reset_index(drop=True)
    return _Split({p: files[p] for p in labels.periods}, out, labels)


def split_counts(config: RunConfig, folder: Path) -> _Split:
    """Split a counts file by ``records.period_col`` into one Parquet file of text per
    period in ``folder`` (a counts file has a row per area, or per area and sector: it
    is read whole). Rows whose label is a missing value are left out, with their
    reason.

    Parameters
    ----------
    config
        The run's configuration: ``counts.path``, ``records.period_col`` and
        ``period_format``, and how the file is read.
    folder
        Where the period files are written.
    """
    options = config.records
    column = options.period_col
    path = config.counts.path
    assert path is not None and column is not None
    raw = records_mod.read_records(
        path,
        delimiter=options.delimiter,
        encoding=options.encoding,
        sheet=options.sheet,
        what="counts",
    )
    frame = raw.frame
    if column not in frame.columns:
        raise DataError(
            f"records.period_col={column!r} is not a column of counts file {path.name!r}; "
            f"its columns: {[str(c) for c in frame.columns]}"
        )
    text = _text(frame[column])
    counts = {str(k): int(v) for k, v in text.value_counts().items()}
    first = {
        str(k): int(v)
        for k, v in pd.Series(raw.rows, index=text.to_numpy()).groupby(level=0).first().items()
    }
    labels = period_labels.read_periods(
        list(counts),
        period_format=options.period_format,
        where=f"records.period_col={column!r} of {path.name!r}",
        counts=counts,
        rows=first,
    )
    period = text.map(labels.of)
    absent = period.isna().to_numpy()
    writers = _PeriodFiles(folder, path.stem)
    writers.add(frame.loc[~absent].drop(columns=column), period.loc[~absent])
    files = writers.close()
    if len(labels.periods) < 2:
        raise DataError(
            f"records.period_col={column!r} of {path.name!r} holds {len(labels.periods)} "
            f"period(s) ({', '.join(labels.periods) or 'none'}); following sentra over time "
            "needs at least 2"
        )
    missing = frame.loc[absent].assign(
        row=raw.rows[absent],
        reason="missing_period",
        detail=[_why_missing(v, column) for v in text.to_numpy()[absent]],
    )
    return _Split({p: files[p] for p in labels.periods}, missing.reset_index(drop=True), labels)


def _text(values: pd.Series) -> pd.Series:
    """A period column's values as the text they were written as (missing: empty)."""
    return values.astype("string").fillna("")


def _read_labels(source: Any, config: RunConfig) -> period_labels.PeriodLabels:
    """The first pass of the split: the distinct labels of the period column, their
    records and first record, read as periods."""
    options = config.records
    column = options.period_col
    assert column is not None and options.path is not None
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    for values, rows in source.column(column, options.batch_size):  # batches
        codes, uniques = pd.factorize(_text(values))
        n = np.bincount(codes, minlength=len(uniques))
        _, at = np.unique(codes, return_index=True)
        for k, label in enumerate(uniques):  # the batch's distinct labels (a few)
            counts[label] = counts.get(label, 0) + int(n[k])
            first.setdefault(label, int(rows[at[k]]))
        if len(counts) > MAX_LABELS:
            raise DataError(
                f"records.period_col={column!r} of {options.path.name!r} holds more than "
                f"{MAX_LABELS:,} different values (e.g. {preview(list(counts)[:3])}); a period "
                "column holds each record's survey period (a year, quarter, month or date), "
                "and every period is a run of its own"
            )
    labels = period_labels.read_periods(
        counts,
        period_format=options.period_format,
        where=f"records.period_col={column!r} of {options.path.name!r}",
        counts=counts,
        rows=first,
    )
    logger.info(
        "periods of %r read as %s (%s): %s", column, labels.unit, labels.format, labels.periods
    )
    return labels


def _why_missing(label: str, column: str) -> str:
    """The detail of a record without a period."""
    if not period_labels.normalise(label):
        return f"no value in {column!r}"
    return f"{label!r} in {column!r} is a missing value"


def period_files(config: RunConfig) -> _Split:
    """The registries of ``records.files`` by their period, in time order.

    Parameters
    ----------
    config
        The run's configuration: ``records.files`` and their labels ``records.periods``
        (default: the year in each file name), read as periods in
        ``records.period_format``.

    Returns
    -------
    _Split
        The files by period (time order); no record is left out here.
    """
    options = config.records
    counted = bool(config.counts.files)
    listed = config.counts.files if counted else options.files
    files = [
        records_mod.check_source(path, what="counts" if counted else "records") for path in listed
    ]
    given = list(options.periods)
    written = given or _labels_from_names(files)
    where = "records.periods (--periods)" if given else "the years in records.files' names"
    labels = period_labels.read_periods(
        written, period_format=options.period_format, where=where, error=ConfigError
    )
    chosen: dict[str, Path] = {}
    for label, path in zip(written, files, strict=True):  # registries (a few)
        period = labels.of[label]
        if period is None:
            raise ConfigError(
                f"{where}: the period of {path.name!r} is {label!r}, a missing value; give "
                "every registry its period, e.g. --periods 2019,2023"
            )
        if period in chosen:
            raise ConfigError(
                f"{where}: {chosen[period].name!r} and {path.name!r} are both period "
                f"{period} (labels {written!r}); give every registry a period of its own"
            )
        chosen[period] = path
    return _Split(
        {p: chosen[p] for p in labels.periods},
        pd.DataFrame(columns=["row", "reason", "detail"]),
        labels,
    )


def _labels_from_names(files: Sequence[Path]) -> list[str]:
    """A period label per registry: the one year (1900-2099) in its file name."""
    years = [sorted(set(re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", f.stem))) for f in files]
    unnamed = [f.name for y, f in zip(years, files, strict=True) if len(y) != 1]
    if unnamed:
        raise ConfigError(
            f"records.files: the period of {preview(unnamed)} is not one year in the file "
            "name; name each registry's period with --periods (records.periods), in the "
            "order of the files, e.g. --periods 2019,2023"
        )
    labels = [y[0] for y in years]
    if len(set(labels)) < len(labels):
        raise ConfigError(
            f"records.files {[f.name for f in files]} give the same period label "
            f"{labels}; name each registry's period with --periods (records.periods), "
            "e.g. --periods 2019,2023"
        )
    return labels


class _PeriodFiles:
    """One Parquet file of text per period, appended batch by batch."""

    def __init__(self, folder: Path, stem: str) -> None:
        self.folder, self.stem = folder, stem
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.paths: dict[str, Path] = {}
        self.schema: pa.Schema | None = None

    def add(self, frame: pd.DataFrame, label: pd.Series) -> None:
        """Append each row of ``frame`` to the file of its ``label``."""
        if self.schema is None:
            self.schema = pa.schema([(str(c), pa.string()) for c in frame.columns])
        text = frame.astype("string")
        codes, uniques = pd.factorize(label)
        for k, period in enumerate(uniques):  # the periods of a batch (a few)
            if period not in self.writers:  # named as the pages cite it: ukm_2019.parquet
                path = (
                    self.folder / f"p{len(self.writers)}" / f"{self.stem}_{_safe(period)}.parquet"
                )
                path.parent.mkdir()
                self.paths[period] = path
                self.writers[period] = pq.ParquetWriter(path, self.schema)
            table = pa.Table.from_pandas(
                text.loc[codes == k], schema=self.schema, preserve_index=False
            )
            self.writers[period].write_table(table)

    def close(self) -> dict[str, Path]:
        for writer in self.writers.values():
            writer.close()
        return self.paths


def _source(config: RunConfig) -> str:
    """The registry's file name (or the registries'), as the pages cite it."""
    if config.counts.given:
        paths = config.counts.files or (config.counts.path,)
        return ", ".join(Path(str(path)).name for path in paths)
    paths = config.records.files or (config.records.path,)
    return ", ".join(Path(str(path)).name for path in paths)


def _boundaries(config: RunConfig) -> Path | None:
    """The run's boundaries source, or None where it cannot be resolved (a title only)."""
    try:
        return boundaries.resolve_source(config.area.boundaries)
    except (ConfigError, DataError, OSError):
        return None


def _safe(label: str) -> str:
    """A period label as a file or folder name (letters, digits, ``-`` and ``_``)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in label) or "_"


def run_periods(
    config: RunConfig, *, reporter: Reporter | None = None, sentra_only: bool = False
) -> PeriodsResult:
    """Run every period of the registry and follow the sentra across them (see the
    module's text).

    Parameters
    ----------
    config
        The run's configuration, with ``records.period_col``; every other option
        applies to each period's run; ``[dynamics]`` sets how lineages are linked and
        classified.
    reporter
        Receives the progress of every period's steps; one with a ``survey(period,
        number, total)`` method is told when each period's run starts.
    sentra_only
        Each period's run stops after the sentra and their profiles (no models, no map),
        as ``klastergeo sentra``.

    Returns
    -------
    PeriodsResult
        Each period's run and the lineages, emerging hot spots and indicators.
    """
    from klastergeo.app.pipeline import run

    counted = config.counts.given
    given = period_files(config) if config.records.files or config.counts.files else None
    if given is None and counted:
        check_counts(config)
    elif given is None:
        intake.check_records(config)
    if not counted:
        check_colocation(config)  # a bad linkage table: before the split, not in its first run
    with RunFolder(config.out) as folder:
        if given is not None:
            split = given
        elif counted:
            split = split_counts(config, folder.scratch())
        else:
            split = split_by_period(config, folder.scratch())
        if config.records.strict and len(split.missing):
            _stop_without_periods(config, split)
        periods = list(split.files)
        runs = {}
        for number, (period, path) in enumerate(split.files.items(), 1):  # a few
            logger.info("period %s: %s", period, path.name)
            survey_started = getattr(reporter, "survey", None)
            if survey_started is not None:  # the console's: a line per survey, then steps
                survey_started(period, number, len(periods))
            counts = config.counts
            if counted:  # one counts file per period
                records = dataclasses.replace(config.records, files=(), periods=())
                counts = dataclasses.replace(counts, path=path, files=())
                if given is None:  # the split's files: Parquet of text
                    records = dataclasses.replace(
                        records, period_col=None, delimiter=None, encoding=None
                    )
            else:
                records = dataclasses.replace(config.records, path=path, files=(), periods=())
                if given is None:  # the split's files: Parquet of text
                    records = dataclasses.replace(
                        records, period_col=None, delimiter=None, encoding=None
                    )
            title = config.map.title or messages.text("map", config.map.lang)["title"]
            sub = dataclasses.replace(
                config,
                records=records,
                counts=counts,
                map=dataclasses.replace(config.map, title=f"{title} ({period})"),
                out=folder.path / PERIODS_FOLDER / _safe(period),
            )
            survey = intake.Survey(period, config)
            runs[period] = run(sub, reporter=reporter, sentra_only=sentra_only, survey=survey)
        result = _follow(config, periods, runs, folder.path)
        result.summary = _write(folder, config, split, result)
    for period, made in runs.items():  # committed: the periods' runs are in config.out
        made.out = Path(config.out) / PERIODS_FOLDER / _safe(period)
    logger.info(
        "periods finished: %d periods, %d lineages, outputs in %s",
        len(periods),
        len(result.lineages),
        config.out,
    )
    return result


def _stop_without_periods(config: RunConfig, split: _Split) -> None:
    """``--strict`` and records without a period (or malformed lines): the report of
    those records goes where a single run's rejection report goes, beside ``--out``
    (:func:`~klastergeo.app.pipeline.intake.rejection_folder`), and the run stops before
    any period is analysed."""
    where = intake.rejection_folder(config.out)
    with RunFolder(where, kind="rejected") as folder:
        locale = config.output.csv_locale
        write_csv(split.missing, folder.path / "rejected_period.csv", locale=locale)
        reasons = split.missing["reason"].value_counts()
        folder.commit(
            {
                **header("stopped after validation", config.analysis.seed),
                "records_without_period": len(split.missing),
                "reasons": {str(k): int(v) for k, v in reasons.items()},
                "config": config.to_dict(),
                "versions": versions(),
            }
        )
    counted = ", ".join(f"{k}: {v}" for k, v in reasons.items())
    source = config.counts.path or config.records.path
    raise ValidationError(
        f"--strict: {len(split.missing):,} record(s) of {str(source)!r} have no "
        f"period in {config.records.period_col!r} ({counted}); the outputs in "
        f"{str(config.out)!r} are unchanged; see {str(where / 'rejected_period.csv')!r}"
    )


def _follow(
    config: RunConfig, periods: list[str], runs: dict[str, Any], stage: Path
) -> PeriodsResult:
    """Lineages, emerging hot spots and indicators from the periods' runs (written
    below ``stage``), and, with stable record ids, the lineages' firm flows."""
    options = config.dynamics
    sentra = pd.concat(
        [
            pd.DataFrame(runs[p].sentra.drop(columns="geometry", errors="ignore")).assign(period=p)
            for p in periods
        ],
        ignore_index=True,
    )
    table, links = dynamics.lineages(
        sentra, periods=periods, min_overlap=options.min_overlap, change=options.change
    )
    if options.stable_ids and len(table):
        table = table.join(_flows(table, periods, stage))
    table = _suppressed_lineages(table, sentra, periods)
    long = pd.concat(
        [runs[p].table.reset_index().assign(period=p) for p in periods], ignore_index=True
    )
    emerging = _emerging(long, periods, options.alpha) if len(periods) >= 3 else None
    return PeriodsResult(
        periods=periods,
        runs=runs,
        sentra=sentra,
        lineages=table,
        links=links,
        emerging=emerging,
        indicators=_indicators(long, periods, runs, source=config.area.boundaries),
        summary={},
    )


def _flows(table: pd.DataFrame, periods: list[str], stage: Path) -> pd.DataFrame:
    """Entries, exits and survivors of each lineage, from each period's firms output
    (``record_id`` and ``sentra_id``)."""
    from klastergeo.app.pipeline.firm_output import FOLDER

    lineage = dynamics.lineage_of(table, periods)
    parts = []
    for p in periods:  # periods (a few); firms are vectorised
        folder = stage / PERIODS_FOLDER / _safe(p) / FOLDER
        firms = pd.read_parquet(folder, columns=["record_id", "sentra_id"])
        if "record_id" not in firms.columns:  # pandas made the stored index the index
            firms = firms.reset_index()
        inside = firms.loc[firms["sentra_id"].notna()]
        keys = pd.MultiIndex.from_arrays([[p] * len(inside), inside["sentra_id"].astype(str)])
        parts.append(
            pd.DataFrame(
                {
                    "period": p,
                    "record_id": inside["record_id"].astype(str).to_numpy(),
                    "lineage_id": lineage.reindex(keys).to_numpy(),
                }
            )
        )
    members = pd.concat(parts, ignore_index=True).dropna(subset=["lineage_id"])
    return dynamics.firm_flows(members, periods)


def _emerging(long: pd.DataFrame, periods: list[str], alpha: float) -> pd.DataFrame:
    """Emerging hot-spot categories of every area and sector significant (specialised
    or de-specialised) in at least one period."""
    if "spec_bin" not in long.columns:
        raise DataError("emerging hot spots need the specialisation statistic (spec_bin)")
    wide_bin = long.pivot_table(
        index=["area_code", "sector"], columns="period", values="spec_bin", aggfunc="first"
    ).reindex(columns=periods)
    wide_z = long.pivot_table(
        index=["area_code", "sector"], columns="period", values="spec_z", aggfunc="first"
    ).reindex(columns=periods)
    ever = (wide_bin.fillna(0) != 0).any(axis=1)
    out = dynamics.emerging_hot_spots(
        wide_bin.loc[ever].fillna(0), wide_z.loc[ever].fillna(0.0), alpha=alpha
    )
    bins = wide_bin.loc[ever].fillna(0).astype(int)
    bins.columns = [f"spec_bin_{p}" for p in periods]
    return out.join(bins)


def _emerging_record(result: PeriodsResult, alpha: float) -> dict[str, Any]:
    """What the emerging hot spots could show with the periods given: the categories
    possible, the fewest periods of each (:func:`klastergeo.analysis.dynamics.minimum_periods`)
    and how many areas fell in each category."""
    least = dynamics.minimum_periods(alpha)
    found: dict[Any, int] = (
        result.emerging["category"].value_counts().to_dict() if result.emerging is not None else {}
    )
    return {
        "periods": len(result.periods),
        "alpha": alpha,
        "possible": list(dynamics.possible_categories(len(result.periods), alpha=alpha)),
        "minimum_periods": {c: int(v) for c, v in least.dropna().items()},
        "areas": {str(c): int(n) for c, n in found.items()},
    }


def _suppressed_lineages(
    table: pd.DataFrame, sentra: pd.DataFrame, periods: list[str]
) -> pd.DataFrame:
    """The lineages with ``suppressed``: their values the disclosure rules withhold
    (``workers_2019;output_2023``), those of a period where one of its sentra has that
    value suppressed (the lineage's sum would give it back)."""
    out = table.copy()
    names: list[list[str]] = [[] for _ in range(len(out))]
    for p in periods:  # periods and measures (a few); lineages are few
        column = f"sentra_id_{p}"
        if column not in out:
            continue
        ids = [set(filter(None, str(v).split(";"))) for v in out[column].fillna("")]
        here = sentra.loc[sentra["period"] == p]
        for m in dynamics.LINEAGE_VALUES:
            flag = flag_column(m)
            if flag not in here:
                continue
            hidden = set(here.loc[here[flag].fillna("").astype(str) != "", "sentra_id"].astype(str))
            for row, members in enumerate(ids):
                if members & hidden:
                    names[row].append(f"{m}_{p}")
    out["suppressed"] = [";".join(n) for n in names]
    return out


def _indicators(
    long: pd.DataFrame,
    periods: list[str],
    runs: dict[str, Any],
    *,
    source: Path | None = None,
) -> pd.DataFrame:
    """Firms, workers, output and investment per regency and sector, per period, and
    the change from the first period. The regency is a Kemendagri code's first two parts
    where the areas are finer (kecamatan, desa), named from the boundaries' kabupaten
    (``source``) when they have them; with coarser or custom areas, the whole study area
    (``all``) (:func:`~.protection.regency_codes`). Workers, output and investment are
    the sums the period's disclosure control allows (:class:`~.protection.Protection`
    ``regencies``): a suppressed one is empty and named in ``suppressed``."""
    codes = pd.Index(long["area_code"].astype(str))
    regency = pd.Series(regency_codes(codes), index=long.index)
    firms = long.assign(regency=regency).pivot_table(
        index=["regency", "sector"], columns="period", values="n_firms", aggfunc="sum"
    )
    out = pd.DataFrame(index=firms.index)
    hidden = pd.Series("", index=out.index, dtype=object)
    values = ["n_firms"]
    for p in periods:
        out[f"n_firms_{p}"] = firms[p] if p in firms.columns else np.nan
    for m in dynamics.LINEAGE_VALUES:
        if m not in long.columns:
            continue
        values.append(m)
        for p in periods:
            guard = getattr(runs[p], "disclosure", None)
            groups = guard.regencies if guard is not None else None
            if groups is None or f"{m}_total" not in groups:
                out[f"{m}_{p}"] = np.nan
                continue
            rows = groups.reindex(out.index)
            shown = (rows[f"{m}_flag"].fillna(0) == 0) & (rows[f"{m}_n"].fillna(0) > 0)
            out[f"{m}_{p}"] = rows[f"{m}_total"].where(shown)
            withheld = (rows[f"{m}_flag"].fillna(0) > 0).to_numpy()
            hidden[withheld] = hidden[withheld] + f";{m}_{p}"
    for value in values:
        first, last = out[f"{value}_{periods[0]}"], out[f"{value}_{periods[-1]}"]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{value}_change"] = np.where(first > 0, (last - first) / first, np.nan)
    order = [f"{v}_{p}" for v in values for p in periods] + [f"{v}_change" for v in values]
    out = out[order]
    out["suppressed"] = hidden.str.lstrip(";").to_numpy()
    out = out.loc[out[[f"n_firms_{p}" for p in periods]].sum(axis=1) > 0]
    finer = bool((regency != "all").all())
    names = _regency_names(list(regency.unique()), source) if finer else None
    if names is not None:
        out.insert(0, "regency_name", names.reindex(out.index.get_level_values(0)).to_numpy())
    return out


def _regency_names(codes: Sequence[str], source: Path | None) -> pd.Series | None:
    """The kabupaten names of ``codes`` from the national boundaries, or None where the
    boundaries are a file of their own or have no kabupaten level."""
    from klastergeo.io import boundaries

    try:
        names = boundaries.load_names("kabupaten", source=source)
    except (ConfigError, DataError, OSError) as err:
        logger.info("regency names not available: %s", err)
        return None
    return names.reindex(list(codes)) if len(names) else None


def _write(
    folder: RunFolder, config: RunConfig, split: _Split, result: PeriodsResult
) -> dict[str, Any]:
    """The top folder's files and its summary (committed: all at once)."""
    stage, locale = folder.path, config.output.csv_locale
    long = pd.concat(
        [
            pd.read_parquet(stage / PERIODS_FOLDER / _safe(p) / "areas.parquet").assign(period=p)
            for p in result.periods
        ],
        ignore_index=True,
    )
    with atomic_path(stage / "areas.parquet") as tmp:
        long.to_parquet(tmp, index=False)
    front = ["period", "sentra_id"]
    sentra = result.sentra[front + [c for c in result.sentra.columns if c not in front]]
    write_csv(sentra, stage / "sentra.csv", locale=locale)
    write_csv(result.lineages, stage / "dynamics.csv", index=True, locale=locale)
    write_csv(result.links, stage / "lineage_links.csv", locale=locale)
    if result.emerging is not None:
        write_csv(result.emerging, stage / "emerging_hot_spots.csv", index=True, locale=locale)
    write_csv(result.indicators, stage / "indicators.csv", index=True, locale=locale)
    write_csv(split.missing, stage / "rejected_period.csv", locale=locale)
    head = header("periods", config.analysis.seed, timestamp=config.output.timestamp)
    _workbook(stage, config, result, sentra, str(head.get("created", "")))
    figures = _pictures(stage, config, result, created=str(head.get("created", "")))
    has_map = (stage / "map.html").exists()
    write_text(stage / "index.html", _index(config, result, figures, has_map=has_map, stage=stage))
    trends = result.lineages["trend"].value_counts()
    summary = {
        **head,
        "periods": result.periods,
        "period_format": split.labels.format if split.labels else "",
        "period_labels": split.labels.spellings() if split.labels else {},
        "records_without_period": len(split.missing),
        "sentra": {p: len(result.runs[p].sentra) for p in result.periods},
        "lineages": {t: int(trends.get(t, 0)) for t in dynamics.TRENDS},
        **(
            {"emerging": _emerging_record(result, config.dynamics.alpha)}
            if result.emerging is not None
            else {}
        ),
        "config": config.to_dict(),
        "versions": versions(),
    }
    folder.commit(summary)
    return summary


def _workbook(
    stage: Path, config: RunConfig, result: PeriodsResult, sentra: pd.DataFrame, created: str
) -> None:
    """``results.xlsx``: the lineages, links, indicators, emerging hot spots and every
    period's sentra (no firm-level rows;
    :func:`klastergeo.publish.workbook.write_period_workbook`)."""
    code = config.area.code
    try:
        source = boundaries.resolve_source(config.area.boundaries)
    except (ConfigError, DataError, OSError):
        source = None
    workbook.write_period_workbook(
        stage / "results.xlsx",
        created=created,
        study_area=(code, study_area_name(code, source)),
        periods=list(result.periods),
        tables={
            "lineages": result.lineages,
            "links": result.links,
            "indicators": result.indicators,
            "emerging": result.emerging,
            "sentra": sentra,
        },
        lang=config.map.lang,
    )


def _geo_sentra(result: PeriodsResult) -> gpd.GeoDataFrame:
    """Every period's sentra polygons with ``period`` and ``lineage_id``."""
    lineage = dynamics.lineage_of(result.lineages, result.periods)
    frames = [
        result.runs[p].sentra.assign(period=p) for p in result.periods if len(result.runs[p].sentra)
    ]
    if not frames:
        return gpd.GeoDataFrame({"period": [], "sentra_id": [], "lineage_id": []}, geometry=[])
    geo = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    keys = pd.MultiIndex.from_arrays([geo["period"], geo["sentra_id"].astype(str)])
    return geo.assign(lineage_id=lineage.reindex(keys).to_numpy())


def _pictures(stage: Path, config: RunConfig, result: PeriodsResult, *, created: str) -> list[str]:
    """The change map (``map.html``, dated ``created``: the run's time) and the small
    multiples of the sentra per period (``figures/trend_<period>.png``, when the run
    draws figures); the figures' paths."""
    from klastergeo.publish import change_map, maps
    from klastergeo.publish import figures as static

    geo = _geo_sentra(result)
    lang = config.map.lang
    last = stage / PERIODS_FOLDER / _safe(result.periods[-1])
    if len(geo) and (last / "map.html").exists():  # not for `klastergeo sentra`
        # the title names the study area and the surveys (the first to the last)
        title = maps.map_title(
            config.map.title or messages.text("dynamics", lang)["title"],
            lang,
            study_area_name(config.area.code, boundaries.resolve_source(config.area.boundaries)),
            f"{result.periods[0]} - {result.periods[-1]}",
        )
        fmap = change_map.build_change_map(
            geo,
            result.lineages,
            periods=result.periods,
            lang=lang,
            tiles=config.map.tiles,
            attribution=config.map.attribution,
            title=title,
            source=_source(config),
            areas=result.runs[result.periods[-1]].areas,
            emerging=result.emerging,
            outlines=_outlines(config, result.runs[result.periods[-1]].areas),
            created=created or None,
        )
        maps.save_map(fmap, stage / "map.html")
    if config.report.figures == "none" or not len(geo):
        return []
    trend = result.lineages["trend"].reindex(geo["lineage_id"]).to_numpy()
    members = pd.DataFrame(
        {
            "period": geo["period"].repeat(geo["area_codes"].str.count(";") + 1).to_numpy(),
            "area_code": np.concatenate(geo["area_codes"].str.split(";").to_numpy()),
            "trend": np.repeat(trend, geo["area_codes"].str.count(";").to_numpy() + 1),
        }
    )
    latest = result.runs[result.periods[-1]]
    written = static.trend_maps(
        latest.areas, members, stage / "figures", periods=result.periods, lang=lang,
        source=_source(config),
    )  # fmt: skip
    return [f"figures/{path.name}" for path in written]


#: The most areas the change map outlines (beyond, a province's or the country's
#: villages, only the coarser administrative outlines: the page stays small).
MAX_OUTLINED_AREAS = 2_000


def _outlines(config: RunConfig, areas: gpd.GeoDataFrame | None) -> list[gpd.GeoDataFrame]:
    """The change map's outlines, finest first: the areas (up to
    :data:`MAX_OUTLINED_AREAS` of them), then the study area's administrative outlines
    as the period maps draw them (:meth:`~.study.StudyArea.outlines`; none for custom
    polygons or where the level is missing: decoration only)."""
    from klastergeo.app.pipeline.study import study_area

    out = []
    if areas is not None and 0 < len(areas) <= MAX_OUTLINED_AREAS:
        out.append(areas)
    try:
        coarse = study_area(config).outlines()
    except (ConfigError, DataError, OSError) as err:
        logger.warning("no outlines for the change map: %s", err)
        coarse = None
    if coarse is not None and len(coarse):
        out.append(coarse)
    return out


def _index(
    config: RunConfig,
    result: PeriodsResult,
    figures: Sequence[str] = (),
    *,
    has_map: bool,
    stage: Path,
) -> str:
    """The top page: the change map, a link to each period's map and report, the
    lineages, the indicators per regency, the emerging hot spots and the sentra per
    period (small multiples)."""
    from klastergeo.publish import maps
    from klastergeo.publish.site import downloads_html

    lang = config.map.lang
    t = messages.text("dynamics", lang)
    links = "".join(
        f"<li>{html.escape(p)}: "
        + " &middot; ".join(
            f'<a href="{PERIODS_FOLDER}/{_safe(p)}/{page}.html">{html.escape(t[page])}</a>'
            for page in ("map", "report")
            if (stage / PERIODS_FOLDER / _safe(p) / f"{page}.html").exists()
        )
        + "</li>"
        for p in result.periods
    )
    firms = {f"n_firms_{p}": f"{t['firms']} {p}" for p in result.periods}
    columns = {"lineage_id": t["lineage_id"], "name": t["name"], "sector": t["sector"],
               "trend": t["trend"], **firms, "firms_growth": t["firms_growth"]}  # fmt: skip
    lineages = (
        _table(result.lineages.reset_index(), columns, lang) + f"<p>{html.escape(t['note'])}</p>"
        if len(result.lineages)
        else f"<p>{html.escape(t['none'])}</p>"  # no period has a sentra
    )
    downloads = downloads_html(stage, lang)  # every output of the folder, what it holds
    # the study area by name, as the single runs' pages head theirs
    place = study_area_name(config.area.code, _boundaries(config))
    title = html.escape(maps.map_title(config.map.title or t["title"], lang, place))
    change = (
        f'<iframe src="map.html" title="{html.escape(t["change"])}" style="width:100%;'
        'height:520px;border:1px solid #ccc"></iframe>'
        if has_map
        else ""
    )
    pictures = "".join(
        f'<img src="{html.escape(src)}" loading="eager" style="width:48%;margin:1%" '
        f'alt="{html.escape(t["trend_figure"].format(period=Path(src).stem[6:]))}">'
        for src in figures  # figures/trend_<period>.png
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:"
        "1100px;margin:auto;padding:1.5em}td,th{padding:.2em .6em;border-bottom:1px solid "
        "#ddd;text-align:left}td:first-child{white-space:nowrap}@media print{iframe{display:"
        f"none}}img{{break-inside:avoid}}}}</style></head><body><h1>{title}</h1>"
        f"{change}<h2>{html.escape(t['periods'])}</h2><ul>{links}</ul>"
        f"<h2>{html.escape(t['lineages'])}</h2>{lineages}"
        f"{_indicator_section(result, lang)}"
        f"{_emerging_section(result, lang, config.dynamics.alpha)}{pictures}"
        f"<h2>{html.escape(t['downloads'])}</h2>{downloads}"
        "</body></html>\n"
    )


def _indicator_section(result: PeriodsResult, lang: str) -> str:
    """The indicators of the regencies and sectors that have a lineage's area."""
    t = messages.text("dynamics", lang)
    table = result.indicators.reset_index()
    if not len(table) or not len(result.lineages):
        return ""
    codes = result.lineages["area_codes"].str.split(";").explode()
    sectors = result.lineages["sector"].reindex(codes.index).to_numpy()
    regency = (
        codes.str.extract(r"^([^.]+\.[^.]+)")[0] if (table["regency"] != "all").any() else "all"
    )
    wanted = pd.MultiIndex.from_arrays([np.broadcast_to(regency, len(codes)), sectors])
    keys = pd.MultiIndex.from_frame(table[["regency", "sector"]])
    table = table.loc[keys.isin(wanted.unique())]
    names = {"regency": t["regency"], "regency_name": t["name"], "sector": t["sector"]}
    names |= {f"n_firms_{p}": f"{t['firms']} {p}" for p in result.periods}
    names |= {"n_firms_change": t["firms_growth"]}
    names |= {f"{v}_change": t[f"{v}_change"] for v in dynamics.LINEAGE_VALUES}
    shown = {c: n for c, n in names.items() if c in table.columns}
    return (
        f"<h2>{html.escape(t['indicators'])}</h2>{_table(table, shown, lang)}"
        f"<p>{html.escape(t['indicators_note'])}</p>"
    )


def _emerging_section(result: PeriodsResult, lang: str, alpha: float) -> str:
    """How many areas of each sector fall in each emerging hot-spot category (three
    periods or more), and the categories the number of periods rules out."""
    t = messages.text("dynamics", lang)
    if result.emerging is None:  # fewer than three periods: none computed, say so
        return (
            f"<h2>{html.escape(t['emerging'])}</h2>"
            f"<p>{html.escape(t['emerging_too_few'].format(periods=len(result.periods)))}</p>"
        )
    if not len(result.emerging):
        return ""
    least = dynamics.minimum_periods(alpha)
    ruled_out = [
        c for c in dynamics.CATEGORIES if least[c] is pd.NA or least[c] > len(result.periods)
    ]
    impossible = ""
    if ruled_out:
        names = ", ".join(
            f"{messages.label('emerging', f'{c} hot spot', lang)} ({least[c]})" for c in ruled_out
        )
        trend = least["intensifying"]
        impossible = (
            "<p>"
            + html.escape(
                t["emerging_impossible"].format(
                    periods=len(result.periods),
                    categories=names,
                    alpha=messages.number(alpha, lang, max(2, len(f"{alpha:g}".split(".")[-1]))),
                    trend="" if trend is pd.NA else trend,
                )
            )
            + "</p>"
        )
    counts = (
        result.emerging.reset_index()
        .groupby(["sector", "category"], observed=True)
        .size()
        .rename("areas")
        .reset_index()
    )
    table = _table(
        counts, {"sector": t["sector"], "category": t["category"], "areas": t["areas"]}, lang
    )
    return (
        f"<h2>{html.escape(t['emerging'])}</h2>{table}"
        f"<p>{html.escape(t['emerging_note'])}</p>{impossible}"
    )


def _table(frame: pd.DataFrame, names: dict[str, str], lang: str) -> str:
    """``frame``'s columns ``names`` (column -> header) as an HTML table, every cell as
    the page's language writes it and escaped."""
    head = "".join(f"<th>{html.escape(name)}</th>" for name in names.values())
    cells = [frame[c].map(lambda v, c=c: html.escape(_cell(v, c, lang))) for c in names]
    body = "".join(
        "<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in zip(*cells, strict=True)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any, column: str, lang: str) -> str:
    """A table cell as the page's language writes it."""
    if column == "trend":
        return messages.label("trends", value, lang)
    if column == "category":
        return messages.label("emerging", value, lang)
    if column.endswith(("_growth", "_change")):
        return "" if pd.isna(value) else f"{messages.number(100 * value, lang, 0)} %"
    if column.startswith(("n_firms_", "workers_", "output_", "investment_")) or column == "areas":
        return "" if pd.isna(value) else messages.number(value, lang)
    return str(value)
