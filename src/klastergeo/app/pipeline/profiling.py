"""The profile step: concentration indices, the Markusen typology, the Porter's-diamond
diagnosis and the point-pattern evidence of every sentra."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from klastergeo.analysis import colocation, concentration, diagnosis, pointpattern, typology
from klastergeo.analysis.geometry import has_point
from klastergeo.analysis.tally import CellTally
from klastergeo.app.config import ColocationOptions, RunConfig
from klastergeo.app.pipeline._steps import Notes, memory_for
from klastergeo.app.pipeline.colocation_tiles import (
    Chunks,
    measure_by_tiles,
    point_chunks,
    store_chunks,
)
from klastergeo.app.pipeline.counting import lq_column
from klastergeo.app.pipeline.firm_columns import FirmColumns, LazyFirms, frame_of
from klastergeo.app.pipeline.firm_scan import FirmScan, point_chunks_of, scan_firms
from klastergeo.app.pipeline.points import note_pointless, with_points
from klastergeo.app.pipeline.spread import Forked
from klastergeo.app.pipeline.study import StudyArea
from klastergeo.app.pipeline.thinning import note_drawn, thinned_firms
from klastergeo.errors import DataError
from klastergeo.io.registry import records as records_mod
from klastergeo.io.registry.firms import FirmStore
from klastergeo.publish import messages

__all__ = ["Colocation", "Profiles", "check_colocation", "profile", "profile_counts"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profiles:
    """Concentration per region level and sector, the typology and diagnosis of every
    sentra (indexed by ``sentra_id``), and the point-pattern tables (``ripley``,
    ``clark_evans``; empty when disabled)."""

    concentration: pd.DataFrame
    typology: pd.DataFrame
    diagnosis: pd.DataFrame
    patterns: dict[str, pd.DataFrame]
    colocation: Colocation | None = None


@dataclass(frozen=True)
class Colocation:
    """Co-location of the sectors: ``table`` (the global CLQ of the pairs written to
    colocation.csv: the significant ones and those the linkage table names, or all with
    ``[colocation] pairs = "all"``, with ``significant`` and ``linked``), ``related``
    (per sentra and related sector) and ``missing`` (the linkage table's links not
    co-located with a sentra), as :mod:`klastergeo.analysis.colocation` gives them; ``firms``:
    the firms of each significant related sector around each sentra (``sentra_id``,
    ``related_sector``, ``firm``: a position among the firms); ``info``: what was
    measured and written (``summary.json`` ``colocation``)."""

    table: pd.DataFrame
    related: pd.DataFrame
    missing: pd.DataFrame
    firms: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)


def check_colocation(config: RunConfig) -> None:
    """Fail now on a ``--linkage-table`` that cannot be used (before the boundaries and
    the registry are read, not after the statistics).

    Parameters
    ----------
    config
        The run's configuration; reads ``[colocation]`` ``enabled`` and
        ``linkage_table``.
    """
    if config.colocation.enabled and config.colocation.linkage_table is not None:
        colocation.read_linkages(config.colocation.linkage_table)


def profile(
    config: RunConfig,
    study: StudyArea,
    firms: pd.DataFrame | LazyFirms,
    sentra: gpd.GeoDataFrame,
    analysed: tuple[str, ...],
    notes: Notes,
    store: FirmStore | None = None,
    *,
    tally: CellTally | None = None,
    columns: FirmColumns | None = None,
) -> Profiles:
    """Profile the sentra (the ``profile`` step).

    Parameters
    ----------
    config
        The configuration: ``sentra.lq_measure`` (what concentration is measured on),
        ``[typology]``, ``[diagnosis]``, ``[pointpattern]`` and ``analysis.seed``.
    study
        The study area: whether its area codes nest (concentration per region level),
        and its ``polygons``, the window of the point patterns.
    firms
        The firms with their ``area_code``, ``sector``, ``lon``, ``lat``, the measure
        and ``sentra_id`` (a GeoDataFrame, or the few columns of
        :class:`~.counting.Counts`); in an H3 run, their ``admin_code`` is the area their
        concentration is measured in.
    sentra
        The sentra table (``sentra_id``, ``area_codes``, geometry).
    analysed
        The analysed sectors, whose point patterns are measured.
    notes
        Where profiles that cannot be computed are noted.
    store
        Where the sentra's firms are read whole from (their typology and diagnosis
        columns); None when ``firms`` are whole.
    tally
        The firms counted per (area, sector) cell of the study area's areas, which the
        concentration indices are computed from (None: from ``firms``).
    columns
        How each firm's sentra is found block by block (None: from ``firms``).
    """
    try:
        table = _concentration(config, study, firms, tally)
    except DataError as err:
        notes.add("profile", "concentration", "error", error=str(err))
        table = pd.DataFrame()
    # one read of the firm blocks for the members, co-location's points and the thinning
    with tempfile.TemporaryDirectory(prefix="profile-", dir=_beside(store)) as scratch:
        scan = _scan(config, store, columns, Path(scratch))
        members = _members(
            firms, store, _member_columns(config), None if store is None else columns
        )
        with memory_for("profile", "measuring the point patterns", _patterns_hint(config)):
            # they need nothing co-location finds: measured meanwhile, in a process
            # forked from this one, where a second core is free and they are worth it
            placed = _sector_firms(config, firms, store, notes, scan)
            patterns = Forked(
                _point_patterns,
                config,
                placed,
                members.iloc[has_point(members)] if config.pointpattern.enabled else members,
                study.polygons,
                _largest(config, sentra, notes),
                analysed,
                inline=not _patterns_beside(config, len(placed)),
                workers=config.records.workers,
            )
        with patterns:  # stopped if co-location fails
            with memory_for(
                "profile",
                "measuring co-location",
                "leave co-location out (--no-colocation), or lower [colocation] permutations "
                f"(now {config.colocation.permutations}), or run it on a machine with more "
                "memory",
            ):
                located = _colocation(config, firms, notes, store, columns, scan)
            with memory_for("profile", "measuring the point patterns", _patterns_hint(config)):
                measured = patterns.result()
    types = _typology(config, members, sentra, notes.add)
    diagnosed = _with_links(_diagnosis(config, members, sentra), located)
    return Profiles(
        concentration=table,
        typology=types,
        diagnosis=diagnosed,
        colocation=located,
        patterns=measured,
    )


def profile_counts(
    config: RunConfig,
    study: StudyArea,
    counts: pd.DataFrame,
    sentra: gpd.GeoDataFrame,
    notes: Notes,
) -> Profiles:
    """Profile the sentra of a run on counts per area (the ``profile`` step of
    ``--counts``): the concentration indices (of counts, exact with
    ``sentra.lq_measure = "firms"``), the diagnosis from a per-sentra table; the
    typology, co-location and point patterns need firms and are noted as not computed.

    Parameters
    ----------
    config
        The configuration: ``sentra.lq_measure``, ``[diagnosis]``, ``[colocation]`` and
        ``[pointpattern]``.
    study
        The study area: whether its area codes nest (concentration per region level).
    counts
        Counts and sums per (``area_code``, ``sector``).
    sentra
        The sentra table (``sentra_id``, ``area_codes``).
    notes
        Where what is not computed is noted.
    """
    measure = lq_column(config)
    try:
        table = concentration.indices_from_counts(
            counts, measure=measure, levels=None if study.nested else {"areas": 10_000}
        )
    except DataError as err:
        notes.add("profile", "concentration", "error", error=str(err))
        table = pd.DataFrame()
    if len(table) and measure != "n_firms":
        notes.add("profile", "herfindahl", "counts_sizes", warn=False, measure=measure)
    if len(sentra):
        notes.add("profile", "typology", "counts_typology", warn=False)
    if config.colocation.enabled:
        notes.add("profile", "co_location", "counts_colocation", warn=False)
    if config.pointpattern.enabled:
        notes.add("profile", "patterns", "counts_patterns", warn=False)
    members = pd.DataFrame(
        {"sentra_id": pd.Series([], dtype=object), "area_code": pd.Series([], dtype=object)}
    )
    types = pd.DataFrame(columns=["typology", "label"], index=pd.Index([], name="sentra_id"))
    return Profiles(
        concentration=table,
        typology=types,
        diagnosis=_diagnosis(config, members, sentra),
        patterns={},
        colocation=None,
    )


#: Firms with a point from which a run measures its point patterns in a forked process
#: while co-location is measured (fewer take well under a second).
PATTERNS_BESIDE_FIRMS = 20_000


def _patterns_beside(config: RunConfig, placed: int) -> bool:
    """Whether the point patterns of ``placed`` firms are measured beside co-location
    (:class:`~.spread.Forked`): both asked for, enough firms, no Dask scheduler (whose
    client's threads a fork would copy)."""
    return (
        config.pointpattern.enabled
        and config.colocation.enabled
        and not config.records.scheduler
        and placed >= PATTERNS_BESIDE_FIRMS
    )


def _patterns_hint(config: RunConfig) -> str:
    """What to do when the point patterns do not fit in memory."""
    return (
        "leave them out ([pointpattern] enabled = false) or lower [pointpattern] "
        f"max_firms (now {config.pointpattern.max_firms:,}), or run it on a machine with "
        "more memory"
    )


def _concentration(
    config: RunConfig, study: StudyArea, firms: pd.DataFrame | LazyFirms, tally: CellTally | None
) -> pd.DataFrame:
    """The concentration indices of every sector at each region level: from the cells
    counted block by block, or from the firms (an H3 run's are of their ``admin_code``)."""
    measure = lq_column(config)
    # Kemendagri codes nest by prefix; other ids (custom polygons) do not
    levels = None if study.nested else {"areas": 10_000}
    if tally is not None:
        if measure != "n_firms" and measure not in tally.present:
            raise DataError(f"measure {measure!r} is not a column of the firms")
        cells = tally.plant_sums(measure, list(tally.areas.labels))
        return concentration.indices_from_plant_sums(cells, levels=levels, measure=measure)
    firms = frame_of(firms)
    admin = firms.assign(area_code=firms["admin_code"]) if "admin_code" in firms else firms
    return concentration.indices_by_level(admin, measure=measure, levels=levels)


def _beside(store: FirmStore | None) -> Path | None:
    """The folder of the kept firms' Parquet parts (the run's work folder, which a
    cluster's workers see: they write the blocks' points there), None for firms read
    whole or none (the system's temporary folder)."""
    if store is None or store.validation.memory is not None or not store.validation.parts:
        return None
    return Path(store.validation.parts[0]).parent


def _scan(
    config: RunConfig, store: FirmStore | None, columns: FirmColumns | None, scratch: Path
) -> FirmScan | None:
    """The firm blocks read once (:func:`~.firm_scan.scan_firms`; co-location's points
    written below ``scratch``), or None when the firms are whole."""
    if store is None or columns is None or not len(store):
        return None
    return scan_firms(config, store, columns, scratch if config.colocation.enabled else None)


def _sector_firms(
    config: RunConfig,
    firms: pd.DataFrame | LazyFirms,
    store: FirmStore | None,
    notes: Notes,
    scan: FirmScan | None = None,
) -> pd.DataFrame:
    """The firms the sector point patterns are measured on: drawn block by block from
    the store (in the blocks' one read, ``scan``, or :func:`~.thinning.thinned_firms`),
    or from ``firms`` when they are whole."""
    if not config.pointpattern.enabled:
        return pd.DataFrame()
    if scan is not None and scan.drawn is not None:  # thinned in the read, noted now
        note_drawn(scan.drawn, config.pointpattern.max_firms, notes)
        return scan.drawn.firms
    if store is not None:
        return thinned_firms(config, store, notes)
    return _thinned(config, _placed(config, frame_of(firms), notes), notes)


def _placed(config: RunConfig, firms: pd.DataFrame, notes: Notes) -> pd.DataFrame:
    """The firms the point patterns are measured on: those with a point (noted when
    some, or all, have none: placed by their area's code or name)."""
    if not config.pointpattern.enabled:
        return firms
    if not isinstance(firms, gpd.GeoDataFrame):  # the columns the patterns read, no copy
        firms = firms[[c for c in ("lon", "lat", "sector") if c in firms]]
    placed, _ = with_points(firms, notes, step="profile", what="point_patterns")
    return placed


def _thinned(config: RunConfig, firms: pd.DataFrame, notes: Notes) -> pd.DataFrame:
    """The firms the sector patterns are measured on: all of them, or a seeded uniform
    thinning to ``pointpattern.max_firms`` (noted)."""
    cap = config.pointpattern.max_firms
    if len(firms) <= cap or not config.pointpattern.enabled:
        return firms
    rng = np.random.default_rng(config.analysis.seed)
    keep = np.sort(rng.choice(len(firms), cap, replace=False))
    notes.add(
        "profile",
        "patterns_all",
        "thinned",
        warn=False,
        cap=cap,
        firms=len(firms),
        option="pointpattern.max_firms",
    )
    return firms.iloc[keep]


def _largest(config: RunConfig, sentra: gpd.GeoDataFrame, notes: Notes) -> gpd.GeoDataFrame:
    """The ``pointpattern.max_sentra`` largest sentra (by firms, in their own order);
    the others are noted as having no point-pattern evidence."""
    cap = config.pointpattern.max_sentra
    if len(sentra) <= cap or not config.pointpattern.enabled:
        return sentra
    top = sentra["n_firms"].sort_values(ascending=False, kind="stable").index[:cap]
    notes.add(
        "profile",
        "patterns_sentra",
        "largest",
        warn=False,
        cap=cap,
        sentra=len(sentra),
        smaller=len(sentra) - cap,
        option="pointpattern.max_sentra",
    )
    return sentra.loc[sentra.index.isin(top)]


def _member_columns(config: RunConfig) -> list[str]:
    """The firm columns the profiles of the sentra read: sizes, sector, area, and the
    typology's and diagnosis' registry columns."""
    options = config.typology
    return [
        "area_code",
        "sector",
        "workers",
        "output",
        *([options.ownership] if options.ownership else []),
        *options.linkages,
        *config.diagnosis.items.values(),
    ]


def _members(
    firms: pd.DataFrame | LazyFirms,
    store: FirmStore | None,
    columns: Sequence[str],
    run_columns: FirmColumns | None = None,
) -> gpd.GeoDataFrame:
    """The sentra's firms (record id, the profiles' ``columns``, point geometry), with
    their ``sentra_id``: found block by block (``run_columns``) and read from the store by
    position, or taken from ``firms`` when they are whole."""
    if run_columns is not None:
        inside, codes = run_columns.members
        ids = run_columns.sentra_ids.to_numpy(dtype=object)[codes]
    else:
        firms = frame_of(firms)
        inside = np.flatnonzero(firms["sentra_id"].notna().to_numpy())
        ids = firms["sentra_id"].iloc[inside].to_numpy(dtype=object)
    # read in file order, as the positions are
    if store is None:
        return frame_of(firms).iloc[inside].assign(sentra_id=ids)
    return store.frame(inside, columns=columns).assign(sentra_id=ids)


def _typology(
    config: RunConfig,
    firms: pd.DataFrame,
    sentra: pd.DataFrame,
    note: Callable[..., None],
) -> pd.DataFrame:
    """Markusen evidence and type of every sentra (empty without sentra). Without a firm
    size for every sentra firm the shares are of firms, not workers (and ``note`` says so)."""
    options = config.typology
    if not len(sentra):
        return pd.DataFrame(columns=["typology", "label"], index=pd.Index([], name="sentra_id"))
    members = firms["sentra_id"].notna() if "sentra_id" in firms.columns else None
    sizes = firms.loc[members, "workers"] if "workers" in firms and members is not None else None
    if sizes is None or sizes.isna().any():
        missing = len(firms) if sizes is None else int(sizes.isna().sum())
        note("profile", "typology_workers", "no_workers", missing=missing)
        firms = firms.assign(workers=1.0)
    measured = typology.evidence(
        firms,
        workers="workers",
        ownership=options.ownership,
        linkages=options.linkages,
    )
    classified = typology.classify(measured, rules=typology.TypologyRules(**options.thresholds))
    if "typology" not in classified:  # no sentra measured: no classification either
        return classified
    return classified.assign(label=messages.typology_labels(classified, config.map.lang))


def _colocation(
    config: RunConfig,
    firms: pd.DataFrame | LazyFirms,
    notes: Notes,
    store: FirmStore | None = None,
    columns: FirmColumns | None = None,
    scan: FirmScan | None = None,
) -> Colocation | None:
    """Global co-location quotients and each sentra's related industries and missing
    links (None when ``[colocation] enabled`` is false). Only sectors with
    ``min_firms`` firms are measured; the global table keeps the significant pairs and
    those the linkage table names (``[colocation] pairs``). The points are read part by
    part from ``store`` when given (its firms are ``firms``' rows), from the files of the
    blocks' one read when ``scan`` is given."""
    options = config.colocation
    if not options.enabled:
        return None
    frame, at, sectors, sentra_of, every_firm = _placed_firms(firms, notes, store, columns, scan)
    n_placed = len(sectors)
    if not n_placed:
        return None  # noted: no firm has a point
    if n_placed < 3:
        notes.add("profile", "co_location", "too_few_points", firms=n_placed)
        return None
    seed = config.analysis.seed
    linkages = colocation.read_linkages(options.linkage_table)
    sizes = sectors.value_counts()  # per category: no text per firm
    sizes = pd.Series(sizes.to_numpy(), index=sizes.index.astype(str)).loc[lambda v: v > 0]
    tested = sizes.index[sizes.to_numpy() >= options.min_firms]
    linked = colocation.linked_pairs(linkages, sorted(tested))
    every = options.pairs == "all"
    if every and len(tested) ** 2 > colocation.MAX_ALL_PAIRS:
        every = False
        notes.add(
            "profile",
            "colocation_pairs",
            "too_many_pairs",
            sectors=len(tested),
            min_firms=options.min_firms,
            pairs=len(tested) ** 2,
            most=colocation.MAX_ALL_PAIRS,
        )
    # by tiles (a k-d tree per tile and its halo, shared by the global and the local
    # quotients): the trees and neighbour pairs held are a tile's, not every firm's
    table, links = measure_by_tiles(
        _chunks(frame, store, every_firm, scan),
        sectors,
        sentra_of,
        options,
        seed=seed,
        pairs="all" if every else "observed",
        also=zip(linked["sector"], linked["related_sector"], strict=True),
        linkages=linkages,
        counted=None if scan is None else (scan.cells, scan.counts),
    )
    table = _marked(table, linked, options.alpha)
    written = table if every else table.loc[table["significant"] | table["linked"]]
    info = {
        "min_firms": options.min_firms,
        "sectors": len(sizes),
        "sectors_tested": len(tested),
        "pairs_possible": len(tested) ** 2,
        "pairs_computed": len(table),
        "pairs_significant": int(table["significant"].sum()),
        "pairs_linked": int(table["linked"].sum()),
        "pairs_written": len(written),
        "written": "all" if every else "significant and linked",
        "significance": _significance(options, n_placed),
    }
    related, missing = links.related, links.missing
    logger.info(
        "co-location: %d of %d sectors tested (min_firms %d); %d sector pairs computed, "
        "%d written (%d significant); %d significant related sectors of %d sentra, %d "
        "missing links",
        len(tested),
        len(sizes),
        options.min_firms,
        len(table),
        len(written),
        info["pairs_significant"],
        int(related["significant"].sum()),
        related["sentra_id"].nunique(),
        len(missing),
    )
    shown = related.loc[related["significant"], ["sentra_id", "related_sector"]]
    firms_of = links.firms.merge(shown, on=["sentra_id", "related_sector"])
    if at is not None:  # positions among the firms with a point -> among every firm
        firms_of["firm"] = at[firms_of["firm"].to_numpy(dtype=np.int64)]
    return Colocation(table=written, related=related, missing=missing, firms=firms_of, info=info)


def _chunks(
    frame: pd.DataFrame | None, store: FirmStore | None, every_firm: int, scan: FirmScan | None
) -> Chunks:
    """Co-location's points, part by part: the files of the blocks' one read, the
    store's parts or the frame."""
    if scan is not None:
        points = scan.points
        return lambda: point_chunks_of(points)
    if store is not None and len(store) == every_firm:
        return store_chunks(store)
    return point_chunks(_coordinates(frame, "lon"), _coordinates(frame, "lat"))


def _placed_firms(
    firms: pd.DataFrame | LazyFirms,
    notes: Notes,
    store: FirmStore | None,
    columns: FirmColumns | None,
    scan: FirmScan | None = None,
) -> tuple[pd.DataFrame | None, NDArray[np.int64] | None, Any, Any, int]:
    """The firms co-location measures: those with a point (the others left out and
    noted), block by block (no frame: None) or from the frame; the positions of those
    firms among every firm (None: all have one), their sectors and sentra (categories),
    and how many firms there are in all (the related firms found are mapped back)."""
    if scan is not None:  # the blocks' one read
        note_pointless(notes, scan.n - len(scan.sectors), scan.n, step="profile", what="colocation")
        return None, scan.at, scan.sectors, scan.sentra, scan.n
    if columns is not None and store is not None and len(store):  # block by block
        at, sectors, codes, n = columns.placed()
        note_pointless(notes, n - len(sectors), n, step="profile", what="colocation")
        return None, at, sectors, codes, n
    whole = frame_of(firms)
    used = [c for c in ("lon", "lat", "sector", "sentra_id") if c in whole]
    frame, positions = with_points(whole[used], notes, step="profile", what="colocation")
    sentra_of: Any = np.full(len(frame), None, dtype=object)
    if "sentra_id" in frame:
        sentra_of = frame["sentra_id"]
    # categories: a small code per firm, no text per firm
    return frame, positions, frame["sector"], sentra_of, len(whole)


def _coordinates(frame: pd.DataFrame | None, name: str) -> NDArray[np.float64]:
    assert frame is not None
    return np.asarray(frame[name].to_numpy(float), dtype=np.float64)


def _significance(options: ColocationOptions, n: int) -> str:
    """How the global pairs' p-values were found (``summary.json``)."""
    permutations = options.permutations
    if not permutations:
        return "none: no p-values (colocation.permutations = 0), no pair is significant"
    if n > options.max_permuted_firms:
        return "normal tails of z, the exact moments (more than max_permuted_firms firms)"
    return f"{permutations} random relabellings"


def _marked(table: pd.DataFrame, linked: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """The global table with ``significant`` (co-located: p below ``alpha`` and CLQ
    above 1; none without p-values) and ``linked`` (a pair the linkage table names)."""
    p_value = table["p_value"] if "p_value" in table else pd.Series(np.nan, index=table.index)
    named = pd.MultiIndex.from_frame(linked[["sector", "related_sector"]])
    return table.assign(
        significant=(p_value < alpha).to_numpy() & (table["clq"] > 1).to_numpy(),
        linked=table.index.isin(named),
    )


def _with_links(scores: pd.DataFrame, located: Colocation | None) -> pd.DataFrame:
    """The diagnosis with the measured evidence on related and supporting industries
    beside the survey's answers: ``links_found`` (the linkage table's roles co-located
    with the sentra), ``links_missing`` (those expected and present in the registry but
    not co-located, or with too few firms near the sentra) and ``links_score``
    (1 + 4 x found / expected, the 1-5 scale of the items; not part of the stage, which
    stays the survey's)."""
    if located is None:
        return scores
    related = located.related
    linked = related.loc[related["significant"] & (related["role"] != "co-located")]
    found = linked.groupby("sentra_id")["related_sector"].agg(lambda v: ";".join(v))
    missing = located.missing.loc[located.missing["reason"] != "not_in_registry"]
    absent = missing.groupby("sentra_id")["related_sector"].agg(lambda v: ";".join(v))
    n_found = linked.groupby("sentra_id").size().reindex(scores.index, fill_value=0)
    n_missing = missing.groupby("sentra_id").size().reindex(scores.index, fill_value=0)
    expected = n_found + n_missing
    out = scores.copy()
    out["links_found"] = found.reindex(scores.index).fillna("").to_numpy()
    out["links_missing"] = absent.reindex(scores.index).fillna("").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["links_score"] = np.where(expected > 0, 1 + 4 * n_found / expected, np.nan)
    return out


def _diagnosis(config: RunConfig, firms: pd.DataFrame, sentra: pd.DataFrame) -> pd.DataFrame:
    """Porter's-diamond scores and stage of every sentra (stage 'unknown' without items)."""
    options = config.diagnosis
    table = None
    if options.table is not None:
        table = records_mod.read_records(options.table, what="diagnosis table").frame
    if not (options.items or options.table_items):
        logger.info("diagnosis: no items configured ([diagnosis] items); stages are unknown")
    frame = pd.DataFrame(sentra[["area_codes"]])  # indexed by sentra_id
    return diagnosis.score(
        frame,
        firms=firms,
        firm_items=options.items or None,
        table=table,
        table_items=options.table_items or None,
        rules=diagnosis.StageRules(**options.thresholds),
    )


def _point_patterns(
    config: RunConfig,
    firms: pd.DataFrame,
    members: gpd.GeoDataFrame,
    outline: gpd.GeoDataFrame,
    sentra: gpd.GeoDataFrame,
    sectors: Sequence[str],
) -> dict[str, pd.DataFrame]:
    """Ripley's L envelopes and Clark-Evans per analysed sector and per sentra."""
    options = config.pointpattern
    if not options.enabled:
        return {}
    simulations, seed, cap = options.simulations, config.analysis.seed, options.max_points
    curves, per_sector = pointpattern.by_sector(
        firms,
        outline,
        sectors=[str(s) for s in sectors],
        simulations=simulations,
        seed=seed,
        max_points=cap,
    )
    sentra_curves, per_sentra = pointpattern.by_sentra(
        members, sentra, simulations=simulations, seed=seed, max_points=cap
    )
    ripley = pd.concat(
        [
            curves.rename(columns={"sector": "key"}).assign(scope="sector"),
            sentra_curves.rename(columns={"sentra_id": "key"}).assign(scope="sentra"),
        ],
        ignore_index=True,
    )
    clark = pd.concat(
        [
            per_sector.rename(columns={"sector": "key"}).assign(scope="sector"),
            per_sentra.rename(columns={"sentra_id": "key"}).assign(scope="sentra"),
        ],
        ignore_index=True,
    )
    front = ["scope", "key"]
    return {
        "ripley": ripley[front + [c for c in ripley.columns if c not in front]],
        "clark_evans": clark[front + [c for c in clark.columns if c not in front]],
    }
