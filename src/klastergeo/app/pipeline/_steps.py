"""What every step shares: progress reporting, timings and the notes of what could not
be computed."""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, Protocol, TypeVar

from klastergeo.errors import memory_exhausted
from klastergeo.publish import messages

__all__ = [
    "LogReporter",
    "Notes",
    "OutOfMemory",
    "Reporter",
    "Steps",
    "arrow_pool",
    "memory_for",
    "peak_rss_mb",
]

logger = logging.getLogger("klastergeo.app.pipeline")

P = ParamSpec("P")
T = TypeVar("T")


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1 << 20 if sys.platform == "darwin" else 1 << 10), 1)


@contextmanager
def arrow_pool() -> Iterator[None]:
    """Arrow allocates from the system allocator for the duration of a run (then the
    previous pool is back).

    Arrow's default pool (mimalloc or jemalloc) keeps memory it freed for reuse; a run
    reads and frees hundreds of Parquet parts and one pool kept about 0.8 GB more at the
    peak of a national run (2.67 M firms: 3.2 GB instead of 4.0). An explicit
    ``ARROW_DEFAULT_MEMORY_POOL`` in the environment is left alone.
    """
    import os

    import pyarrow as pa

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _release_unused() -> None:
    """Give memory a step freed back to the system (Arrow's pool; under the system
    allocator of :func:`arrow_pool` this trims the C heap), so that the next step starts
    from what is still held rather than from what was once used."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


#: What to do when a step runs out of memory: what holds the memory there.
_MORE_MEMORY = "or run it on a machine with more memory"
ADVICE = {
    "boundaries": (
        "reading the boundaries",
        f"choose a smaller study area (--area) or a coarser --level, {_MORE_MEMORY}",
    ),
    "read": (
        "reading the records",
        f"use a smaller --batch-size (records held at a time), {_MORE_MEMORY}",
    ),
    "validate": (
        "checking the records",
        f"use a smaller --batch-size (records held at a time), {_MORE_MEMORY}",
    ),
    "profile": (
        "profiling the sentra (co-location, point patterns)",
        "leave co-location out (--no-colocation) or the point patterns "
        f"([pointpattern] enabled = false), {_MORE_MEMORY}",
    ),
    "models": (
        "fitting the models",
        f"run klastergeo sentra (no models, no map) or use fewer predictors, {_MORE_MEMORY}",
    ),
    "map": ("drawing the map", f"run klastergeo sentra (no map), {_MORE_MEMORY}"),
    "report": ("drawing the report's figures", f"use --figures none, {_MORE_MEMORY}"),
}
_AREAS = (
    "the analysis of the areas",
    "use a smaller study area (--area), a coarser --level or fewer --permutations, " + _MORE_MEMORY,
)


class OutOfMemory(MemoryError):
    """A step ran out of memory: ``step`` (its name), ``what`` it was doing and the
    ``advice`` the command line prints."""

    def __init__(self, step: str, what: str, advice: str) -> None:
        super().__init__(f"not enough memory for {what} (step {step!r}); {advice}")
        self.step, self.what, self.advice = step, what, advice


@contextmanager
def memory_for(step: str, what: str | None = None, advice: str | None = None) -> Iterator[None]:
    """Within the block, running out of memory (a MemoryError, or a library saying so in
    its own words) raises :class:`OutOfMemory` naming ``step`` and what to do: the
    advice of the step (:data:`ADVICE`), or ``what`` and ``advice`` when given. An
    inner block's more precise :class:`OutOfMemory` passes through."""
    try:
        yield
    except OutOfMemory:
        raise
    except Exception as err:
        if not memory_exhausted(err):
            raise
        known, hint = ADVICE.get(step, _AREAS)
        raise OutOfMemory(step, what or known, advice or hint) from err


class Reporter(Protocol):
    """Receives progress; the CLI shows it, the library only logs. A run over several
    surveys also calls a reporter's ``survey(period, number, total)``, when it has one,
    before each survey's steps."""

    def step(self, name: str) -> None: ...

    def advance(self, detail: str, done: int, total: int) -> None: ...


class LogReporter:
    """The library's reporter: steps at INFO, details at DEBUG."""

    def step(self, name: str) -> None:
        logger.info("step: %s", name)

    def advance(self, detail: str, done: int, total: int) -> None:
        logger.debug("%s (%d/%d)", detail, done, total)


class Notes:
    """What a run could not compute, and why (``summary.json`` ``not_computed``, the
    report and the console say so).

    Each note names a ``what`` and a ``why`` entry of the catalogue's ``notes`` group and
    the values of their placeholders: ``summary.json`` keeps the keys and values
    (``what_key``, ``why_key``, ``params``) and the sentences in English (``what``,
    ``why``); the report and the console write them in the run's language
    (:func:`klastergeo.publish.messages.note`)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(
        self,
        step: str,
        what: str,
        why: str,
        *,
        warn: bool = True,
        partly: bool = False,
        **params: Any,
    ) -> None:
        """Note that ``what`` of ``step`` was not computed (``partly``: computed on part
        of the data, e.g. the firms that have a point), and ``why``: keys of the
        catalogue's ``notes`` group, whose placeholders ``params`` fill (numbers, texts,
        lists of texts)."""
        what_text, why_text = messages.note(what, why, params, "en")
        if warn:
            logger.warning("%s: %s not computed: %s", step, what_text, why_text)
        item: dict[str, Any] = {
            "step": step,
            "what": what_text,
            "why": why_text,
            "what_key": what,
            "why_key": why,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
        }
        if partly:
            item["computed"] = "partly"
        self.items.append(item)


class Steps:
    """Runs the steps of a run: reports each, times it, keeps the notes."""

    def __init__(self, reporter: Reporter | None = None) -> None:
        self.reporter: Reporter = reporter or LogReporter()
        self.timings: dict[str, float] = {}
        self.memory: dict[str, float] = {}  # peak resident memory (MB) at each step's end
        self.notes = Notes()

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """A ``with steps.timed("step"):`` block reported and timed as step ``name``."""
        self.reporter.step(name)
        start = time.perf_counter()
        with memory_for(name):
            yield
        self.timings[name] = round(time.perf_counter() - start, 3)
        self.memory[name] = peak_rss_mb()
        _release_unused()

    def __call__(self, name: str, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``function(*args, **kwargs)`` as step ``name``."""
        with self.timed(name):
            return function(*args, **kwargs)

    def progress(self, detail: str, done: int, total: int) -> None:
        """Progress within the current step (per-sector statistics, downloads)."""
        self.reporter.advance(detail, done, total)


def header(status: str, seed: int, *, timestamp: str = "now") -> dict[str, Any]:
    """The first keys of every ``summary.json``; ``created`` is the run's time
    (``[output] timestamp``: now, a given time, or ``SOURCE_DATE_EPOCH``;
    :func:`klastergeo.app.config.run_time`), which the pages, the workbook and the
    GeoPackages then carry."""
    from klastergeo import __version__
    from klastergeo.app.config import run_time

    return {
        "klastergeo": __version__,
        "status": status,
        "created": run_time(timestamp).isoformat(timespec="seconds"),
        "seed": seed,
    }
