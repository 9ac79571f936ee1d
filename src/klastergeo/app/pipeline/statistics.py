"""The statistics step: which sectors are analysed, their local statistics (Gi*, LISA)
and global Moran's I, and what could not be computed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from klastergeo.analysis import aggregate, autocorrelation, measure, specialisation
from klastergeo.app.config import AnalysisOptions
from klastergeo.app.pipeline._steps import Notes
from klastergeo.app.pipeline.counting import Counts
from klastergeo.app.pipeline.weighting import Weights
from klastergeo.errors import ConfigError, preview

__all__ = ["Statistics", "analyse", "analysed_sectors", "measure_tables"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Statistics:
    """The area table with every statistic (``spec_*``, ``gi_*``, ``lisa_*``), global Moran's I per
    analysed sector, the analysed sectors and those skipped for too few firms; ``measures``:
    per measure of ``analysis.measures`` other than firms (and then firms too), the
    statistics of its sums (:func:`klastergeo.analysis.measure.measure_statistics`,
    analysed sectors only)."""

    table: pd.DataFrame
    global_stats: pd.DataFrame
    analysed: tuple[str, ...]
    skipped: dict[str, int]
    measures: dict[str, pd.DataFrame] = field(default_factory=dict)


def analysed_sectors(
    options: AnalysisOptions, totals: pd.Series
) -> tuple[list[str], dict[str, int]]:
    """The sectors to analyse (enough firms, and named in ``analysis.sectors`` when that
    is set) and the skipped ones with their firm counts.

    Parameters
    ----------
    options
        The ``[analysis]`` options: ``min_sector_firms`` and ``sectors`` (a sector named
        there that no kept firm has is a :class:`~klastergeo.errors.ConfigError`).
    totals
        Kept firms per sector, indexed by sector.

    Returns
    -------
    analysed
        The sectors to analyse, in the order of ``totals``.
    skipped
        Every other sector, with its number of firms.
    """
    absent = [s for s in options.sectors if s not in totals.index]
    if absent:
        raise ConfigError(
            f"analysis.sectors names {preview(absent)}, which no kept firm has; the "
            f"registry's sectors are {', '.join(map(str, totals.index))}"
        )
    analysed = [
        s
        for s in totals.index
        if totals[s] >= options.min_sector_firms and (not options.sectors or s in options.sectors)
    ]
    skipped = {str(s): int(totals[s]) for s in totals.index if s not in analysed}
    return analysed, skipped


def analyse(
    options: AnalysisOptions,
    counts: Counts,
    weights: Weights,
    notes: Notes,
    progress: Callable[[str, int, int], None] | None = None,
) -> Statistics:
    """Local and global statistics of every analysed sector (the ``statistics`` step).

    Parameters
    ----------
    options
        The ``[analysis]`` options: which sectors are analysed (:func:`analysed_sectors`)
        and the inference (``permutations``, ``seed``, ``alpha``, ``fdr``,
        ``alternative``, ``gi_inference``, ``lisa_inference``).
    counts
        The counts: ``counts`` (firms per area and sector, the statistics' values),
        ``table`` (joined with the statistics), ``areas`` and the firms per sector.
    weights
        The spatial weights; the statistics use their ``graph``.
    notes
        Where statistics the data do not define are noted (one sector, too few firms or
        areas, no variation).
    progress
        Called with ``(detail, done, total)`` as the sectors are computed; None for no
        progress.
    """
    totals = counts.firms_per_sector
    analysed, skipped = analysed_sectors(options, totals)
    n_areas = len(counts.areas)
    _note_undefined(notes, options, totals, analysed, n_areas)
    if options.fdr and options.permutations > 0:
        _warn_fdr_floor(options, n_areas)
    sectors = analysed if n_areas >= autocorrelation.MIN_AREAS_LOCAL else []
    everything = aggregate.wide(counts.counts, "n_firms")
    local, global_stats = autocorrelation.by_sector(
        everything[sectors],
        weights.graph,
        permutations=options.permutations,
        seed=options.seed,
        alpha=options.alpha,
        fdr=options.fdr,
        alternative=options.alternative,
        gi_inference=options.gi_inference,
        lisa_inference=options.lisa_inference,
        progress=progress,
    )
    spec = specialisation.local_specialisation(
        everything,
        weights.graph,
        sectors=list(analysed),
        fdr=options.spec_fdr,
        margin=options.spec_margin,
    )
    table = counts.table.join(local).join(spec)
    table["spec_bin"] = table["spec_bin"].fillna(0).astype(np.int64)
    table["gi_bin"] = table["gi_bin"].fillna(0).astype(np.int64)
    table["lisa_quadrant"] = table["lisa_quadrant"].fillna(0).astype(np.int64)
    if n_areas >= autocorrelation.MIN_AREAS_GLOBAL:
        undefined = [str(s) for s in global_stats.index[global_stats["moran_i"].isna()]]
        if undefined:
            notes.add("statistics", "global_moran_of", "no_variation", sectors=undefined)
    measures = measure_tables(options, counts, weights, sectors, notes)
    return Statistics(table, global_stats, tuple(analysed), skipped, measures)


def measure_tables(
    options: AnalysisOptions,
    counts: Counts,
    weights: Weights,
    sectors: list[str],
    notes: Notes,
) -> dict[str, pd.DataFrame]:
    """The statistics of every measure of ``analysis.measures`` other than firms, per
    analysed sector, and then those of the firms too (the area table's statistics with
    the bivariate local Moran of the counts, ``measures.csv``'s firms rows; first).

    Parameters
    ----------
    options
        The ``[analysis]`` options: ``measures`` and the inference options.
    counts
        The counts; their ``firms`` carry each firm's values (none for a counts file).
    weights
        The spatial weights; the statistics use their ``graph``.
    sectors
        The analysed sectors.
    notes
        Where measures that cannot be computed are noted (no firms' values, none
        recorded).
    """
    asked = [m for m in options.measures if m != "firms"]
    if not asked or not sectors:
        return {}
    if counts.source is not None:
        notes.add("statistics", "measure_statistics", "counts_measures", measures=asked)
        return {}
    out: dict[str, pd.DataFrame] = {}
    for name in ["firms", *asked]:
        if name != "firms" and (name not in counts.firms or not counts.firms[name].notna().any()):
            notes.add(
                "statistics", "measure_statistics", "no_values", measures=[name], measure=name
            )
            continue
        out[name] = measure.measure_statistics(
            counts.firms,
            weights.graph,
            measure=name,
            sectors=sectors,
            permutations=options.permutations,
            seed=options.seed,
            alpha=options.alpha,
            fdr=options.fdr,
            spec_fdr=options.spec_fdr,
            gi_inference=options.gi_inference,
            lisa_inference=options.lisa_inference,
            alternative=options.alternative,
            margin=options.spec_margin,
        )
    return out if len(out) > 1 else {}


def _note_undefined(
    notes: Notes,
    options: AnalysisOptions,
    totals: pd.Series,
    analysed: list[str],
    n_areas: int,
) -> None:
    """Say which statistics the data do not define, before computing the others."""
    if len(totals) == 1:
        notes.add("statistics", "sentra", "one_sector")
    if not analysed:
        notes.add(
            "statistics",
            "statistics_sentra",
            "few_firms",
            min_firms=options.min_sector_firms,
            option="analysis.min_sector_firms",
        )
    elif n_areas < autocorrelation.MIN_AREAS_LOCAL:
        notes.add(
            "statistics",
            "local_statistics",
            "few_areas_local",
            areas=n_areas,
            needed=autocorrelation.MIN_AREAS_LOCAL,
        )
    elif n_areas < autocorrelation.MIN_AREAS_GLOBAL:
        notes.add(
            "statistics",
            "global_moran",
            "few_areas_global",
            areas=n_areas,
            needed=autocorrelation.MIN_AREAS_GLOBAL,
        )


def _warn_fdr_floor(options: AnalysisOptions, n_areas: int) -> None:
    floor = 1.0 / (options.permutations + 1)
    needed = int(np.ceil(floor * n_areas / 0.05))
    logger.warning(
        "FDR with %d permutations: the smallest pseudo p-value is %.4f, so an area can only be "
        "significant at 95 %% when at least %d of the %d areas are; use more permutations or "
        "--permutations 0 (analytical z) with FDR",
        options.permutations,
        floor,
        needed,
        n_areas,
    )
