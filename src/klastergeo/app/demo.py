"""``klastergeo demo``: generate the demo registry (:mod:`klastergeo.io.datasets.demo`) over
Jawa Tengah and run the whole pipeline on its two surveys.

What the run recovered of the planted truth is scored outside the package
(``tests/worlds/demo_truth.py``; ``make demo`` prints it after the run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from klastergeo.io.datasets.demo import (
    DEMO_AREA,
    DEMO_BACKGROUND,
    DEMO_PERIODS,
    DEMO_SEED,
    earlier_planted,
    generate_registry,
    write_config,
    write_registry,
)

__all__ = ["DEMO_BACKGROUND", "DEMO_SEED", "DemoRun", "run_demo"]


@dataclass(frozen=True)
class DemoRun:
    """What :func:`run_demo` made: the run and where its inputs are."""

    result: Any  # the current survey's run (klastergeo.app.pipeline.RunResult)
    registry: Path
    config: Path
    rows: int
    truth: dict[str, Path]  # "truth" (current survey) and "earlier_truth": planted truth
    periods: Any = None  # the two surveys' run (klastergeo.app.pipeline.periods)


def run_demo(
    out: str | Path = "maps/demo",
    *,
    data: str | Path | None = None,
    boundaries: str | Path | None = None,
    seed: int = DEMO_SEED,
    background: int = DEMO_BACKGROUND,
    permutations: int = 999,
    reporter: Any = None,
    notify: Callable[[str], None] | None = None,
    lang: str | None = None,
) -> DemoRun:
    """Generate the demo registry over Jawa Tengah and run the whole pipeline on it into
    ``out``.

    The registry, its planted truth and its configuration go to ``data`` (default:
    ``<out>-input`` beside ``out``); boundaries are found as
    :func:`klastergeo.io.boundaries.resolve_source` does, else Jawa Tengah's are downloaded.

    Parameters
    ----------
    out
        The run's output folder; checked before anything is generated.
    data
        Folder for the registry, its truth and its configuration; None means
        ``<out>-input`` beside ``out``.
    boundaries
        Boundaries as for :func:`klastergeo.io.boundaries.resolve_source`; None looks in the
        usual places and downloads Jawa Tengah's if none are found.
    seed
        Seed of the generated registry (the analysis keeps seed 0).
    background
        Background firms spread over all villages.
    permutations
        Conditional permutations of the local statistics (``analysis.permutations``).
    reporter
        Progress receiver passed to :func:`klastergeo.app.pipeline.run`; None only logs.
    notify
        Called with one-line messages (boundaries used, files written); None says nothing.
    lang
        The pages' language (``map.lang``: ``id`` or ``en``); None keeps the
        configuration's (Indonesian).

    Returns
    -------
    DemoRun
        The run's result and the input paths.
    """
    from klastergeo.app.config import load_config
    from klastergeo.app.pipeline.periods import run_periods
    from klastergeo.io import boundaries as bnd
    from klastergeo.io.files import check_output

    out = Path(out)
    inputs = Path(data) if data is not None else out.parent / f"{out.name}-input"
    check_output(out)  # before the registry is generated
    source = bnd.resolve_or_download(boundaries, area=DEMO_AREA, notify=notify)
    if notify is not None:
        notify(f"boundaries: {source}")
    villages = bnd.load_areas("desa", area=DEMO_AREA, source=source)
    generated = generate_registry(villages, n_background=background, seed=seed)
    earlier = generate_registry(
        villages, n_background=background, seed=seed + 1, planted=earlier_planted(villages)
    )
    paths = write_registry(generated, inputs, earlier=earlier)
    config_path = write_config(inputs, out=out, permutations=permutations, periods=True)
    if notify is not None:
        notify(
            f"demo registry: {paths['registry']} ({len(earlier.registry):,} rows of "
            f"{DEMO_PERIODS[0]}, {len(generated.registry):,} of {DEMO_PERIODS[1]}); "
            f"configuration: {config_path}"
        )
    overrides: dict[str, Any] = {"area.boundaries": source}
    if lang is not None:
        overrides["map.lang"] = lang
    settings = load_config(config_path, overrides=overrides)
    followed = run_periods(settings, reporter=reporter)
    return DemoRun(
        result=followed.runs[DEMO_PERIODS[1]],  # the current survey
        registry=paths["registry"],
        config=config_path,
        rows=len(generated.registry) + len(earlier.registry),
        truth={k: v for k, v in paths.items() if k != "registry"},
        periods=followed,
    )
