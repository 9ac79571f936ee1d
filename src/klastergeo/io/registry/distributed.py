"""The batch checks in parallel: the ``check`` stage of :mod:`klastergeo.io.registry.batches`
run by processes forked on this machine (:func:`check_here`, the default), or on Dask: its
threads or processes, or the workers of a running ``dask.distributed`` cluster
(:func:`check_batches`).

What runs where:

- **on the client** (the process that called
:meth:`klastergeo.io.registry.batches.Registry.validate`):
  staging a CSV file as Parquet, the number formats and sector width decided over the
  whole file, the duplicates found across batches and the commit of the kept firms;
- **on the workers**: the check of each batch
  (:func:`klastergeo.io.registry.validation.check_batch`).
  A task gets the index of its batch and reads those rows from the staged file itself;
  it writes the batch's kept firms as a Parquet part in the work folder and hands back
  only its verdicts (key hashes, positions, rejected and repaired rows). The study
  area's polygons travel once: scattered to every worker of a cluster, or written once
  to the work folder for Dask's processes.

Results do not depend on where the batches ran: they are committed in file order, as
the single-machine path commits them. With a ``tcp://`` scheduler the workers must see
the work folder and the registry under the same paths (a shared filesystem); this is
checked before any batch is sent.

Dask is an optional dependency (``pip install 'klastergeo[dask]'``), imported only when
a scheduler is asked for.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import multiprocessing
import os
import pickle
import re
import socket
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol

import geopandas as gpd

from klastergeo.errors import ConfigError
from klastergeo.io.registry.checks import warm_index
from klastergeo.io.registry.sources import Progress, Source
from klastergeo.io.registry.validation import BatchCheck, check_batch

__all__ = [
    "INSTALL_HINT",
    "LOCAL_WORKERS",
    "check_batches",
    "check_here",
    "forked_processes",
    "forking",
    "reach",
    "require",
    "scheduler_kind",
]

logger = logging.getLogger(__name__)

#: How to get the optional dependencies.
INSTALL_HINT = "pip install 'klastergeo[dask]'"
#: How long a ``tcp://`` scheduler may take to answer, and to have a first worker.
CONNECT_TIMEOUT_S = 30

Kind = Literal["none", "threads", "processes", "tcp"]

#: Processes that check the batches of a registry on this machine when no scheduler is
#: given (each holds one batch at a time: about 0.5-1 GB at the default batch size); the
#: default of ``records.workers`` (``--local-workers``).
LOCAL_WORKERS = 2

#: What Python 3.12 and later say on ``fork()`` in a process with threads (a
#: DeprecationWarning; see :func:`check_here`).
_FORK_WARNING = r"This process \(pid=\d+\) is multi-threaded, use of fork\(\) may lead to deadlocks"


class Opened(Protocol):
    """A registry opened for validation in batches
    (:class:`klastergeo.io.registry.batches.Registry`): what the workers need of it."""

    @property
    def source(self) -> Source:
        """The batches' source, staged or Parquet."""

    @property
    def work(self) -> Path:
        """The work folder, which the workers share."""

    @property
    def batch_size(self) -> int:
        """Records per batch."""


#: ``tcp://HOST:PORT`` of a dask.distributed scheduler (a name, IPv4 or [IPv6] host)
_SCHEDULER_ADDRESS = re.compile(r"tcp://(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})")


def scheduler_problem(name: str, value: str) -> str | None:
    """What is wrong with a ``records.scheduler`` value (None: nothing).

    Parameters
    ----------
    name
        How the value is named in the message (``records.scheduler``, ``--scheduler``).
    value
        The value: ``""``, ``"none"``, ``"threads"``, ``"processes"`` or
        ``"tcp://HOST:PORT"``.

    Returns
    -------
    The message naming the value and what is accepted, or None.
    """
    if value.strip().lower() in ("", "none", "threads", "processes"):
        return None
    address = _SCHEDULER_ADDRESS.fullmatch(value.strip())
    if address and 0 < int(address.group(1)) < 65536:
        return None
    return (
        f"{name}={value!r} is not a scheduler; use '' or 'none' (no Dask), 'threads', "
        "'processes' or the address of a dask.distributed scheduler, 'tcp://HOST:PORT'"
    )


def scheduler_kind(scheduler: str) -> Kind:
    """What kind of scheduler a ``records.scheduler`` value names.

    Parameters
    ----------
    scheduler
        ``""`` or ``"none"`` (no Dask: the batches are checked on this machine, see
        :func:`check_here`), ``"threads"``, ``"processes"`` or ``"tcp://HOST:PORT"``.

    Returns
    -------
    str
        ``"none"``, ``"threads"``, ``"processes"`` or ``"tcp"``.

    Examples
    --------
    >>> scheduler_kind(""), scheduler_kind("processes"), scheduler_kind("tcp://10.0.0.5:8786")
    ('none', 'processes', 'tcp')
    """
    problem = scheduler_problem("records.scheduler", scheduler)
    if problem:
        raise ConfigError(problem)
    value = scheduler.strip().lower()
    if value in ("", "none"):
        return "none"
    if value in ("threads", "processes"):
        return value  # type: ignore[return-value]
    return "tcp"


def check_batches(
    registry: Opened,
    *,
    scheduler: str,
    areas: gpd.GeoDataFrame | None,
    snap_m: float,
    sector_digits: int,
    parts: Callable[[int], Path | None],
    progress: Progress | None = None,
    places: Any = None,
) -> list[BatchCheck]:
    """Check every batch of ``registry`` on a Dask scheduler.

    Parameters
    ----------
    registry
        The registry as opened (:func:`klastergeo.io.registry.batches.open_registry`), staged or
        Parquet (a registry read whole is one batch, checked by the caller).
    scheduler
        ``"threads"``, ``"processes"`` or ``"tcp://HOST:PORT"`` (see
        :func:`scheduler_kind`).
    areas, snap_m, sector_digits, places
        As for :meth:`klastergeo.io.registry.batches.Registry.validate`.
    parts
        Where batch ``i`` writes its kept firms (the client's path; the workers get it
        made absolute).
    progress
        Called as ``progress("check", records_done, records_total)`` as batches finish.

    Returns
    -------
    list
        One check per batch, in file order.
    """
    kind = scheduler_kind(scheduler)
    if kind == "none":
        raise ValueError("check_batches needs a Dask scheduler; none was given")
    level = logging.getLogger(__package__).getEffectiveLevel()
    n = registry.source.n_batches(registry.batch_size)
    jobs = [
        _Job(
            index=i,
            part=_absolute(parts(i)),
            batch_size=registry.batch_size,
            snap_m=snap_m,
            sector_digits=sector_digits,
            places=places,
            level=level,
            capture=kind != "threads",  # a thread logs where the client does
        )
        for i in range(n)
    ]
    tally = _Tally(registry.source.n_rows, progress)
    # the workers read the registry where the client does, whatever their own folder
    anywhere = dataclasses.replace(registry.source, path=registry.source.path.resolve())
    if kind == "tcp":
        return _on_cluster(scheduler.strip(), registry, anywhere, areas, jobs, tally)
    return _on_dask(kind, scheduler, registry, anywhere, areas, jobs, tally)


def check_here(
    registry: Opened,
    *,
    areas: gpd.GeoDataFrame | None,
    snap_m: float,
    sector_digits: int,
    parts: Callable[[int], Path | None],
    progress: Progress | None = None,
    places: Any = None,
    workers: int = LOCAL_WORKERS,
) -> Iterator[BatchCheck]:
    """Check every batch of ``registry`` on this machine's cores, without Dask: a pool
    of ``workers`` processes forked from this one (so the source, the areas and their
    point index, built here first, are shared, not sent), each reading its batch from
    the staged file. The checks come back in file order, as the batches were read.

    Parameters
    ----------
    registry
        The registry as opened, staged or Parquet (more than one batch).
    areas, snap_m, sector_digits, places, parts, progress
        As for :func:`check_batches`.
    workers
        Processes (at most one per core this process may use); with one, or without
        ``fork`` (Windows, macOS), the batches are checked here one after another.

    Yields
    ------
    BatchCheck
        The check of each batch, in file order.

    Raises
    ------
    ConfigError
        ``workers`` is below 1.

    Notes
    -----
    Python 3.12 and later warn (DeprecationWarning, hidden by default) when a process
    with threads forks: a lock held by another thread at that moment stays held in the
    child. The other threads here are libraries' worker pools (Arrow's, the BLAS's),
    idle while the pool starts; fork is chosen so that the areas and their point index
    are shared, not sent, and the warning is silenced for the pool's start only.
    """
    if workers < 1:
        raise ConfigError(
            f"workers={workers!r} must be at least 1 (records.workers, --local-workers; "
            "1 checks the batches here, one after another)"
        )
    n = registry.source.n_batches(registry.batch_size)
    level = logging.getLogger(__package__).getEffectiveLevel()
    jobs = [
        _Job(i, _absolute(parts(i)), registry.batch_size, snap_m, sector_digits, places, level,
             capture=True)
        for i in range(n)
    ]  # fmt: skip
    tally = _Tally(registry.source.n_rows, progress)
    count = forked_processes(workers, n)
    if count < 2:
        for job in jobs:
            done = _task(registry.source, areas, dataclasses.replace(job, capture=False))
            tally.add(done)
            yield done
        return
    if areas is not None:
        warm_index(areas)  # built once, here: the forked processes inherit it
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        count, mp_context=context, initializer=_share, initargs=(registry.source, areas)
    ) as pool:
        with forking():  # the processes are forked on the first submit
            checks = pool.map(_shared_task, jobs)
        for done in checks:
            tally.add(done)
            yield done


def forked_processes(workers: int, n: int) -> int:
    """How many processes forked from this one share ``n`` pieces of work: ``workers``,
    at most one per core this process may use and one per piece; 1 where processes
    cannot be forked (Windows, macOS).

    Parameters
    ----------
    workers
        Processes asked for (``records.workers``).
    n
        Pieces of work (batches, blocks).
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(workers, n, cores or 1))


@contextmanager
def forking() -> Iterator[None]:
    """Around the submissions to a pool of forked processes: Python 3.12's warning on
    ``fork()`` in a process with threads is not shown (see :func:`check_here` for why
    forking is safe here); every other warning is."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _FORK_WARNING, DeprecationWarning)
        yield


@dataclass(frozen=True)
class _Job:
    """What a task needs to check one batch, besides the source and the areas."""

    index: int
    part: Path
    batch_size: int
    snap_m: float
    sector_digits: int
    places: Any  # the gazetteer (klastergeo.io.registry.placement.Gazetteer) or None
    level: int
    capture: bool


def _on_dask(
    kind: Kind,
    scheduler: str,
    registry: Opened,
    source: Source,
    areas: gpd.GeoDataFrame | None,
    jobs: list[_Job],
    tally: _Tally,
) -> list[BatchCheck]:
    """The batches on Dask's own threads or processes (``dask.compute``)."""
    dask = _import("dask", scheduler)
    callbacks = _import("dask.callbacks", scheduler)
    shared: gpd.GeoDataFrame | Path | None = areas
    if kind == "processes" and areas is not None:
        # Dask's processes get each task's inputs pickled with it: the areas go through
        # the work folder instead, read once per process (_load_areas)
        shared = registry.work.resolve() / f"areas-{uuid.uuid4().hex}.pickle"
        shared.write_bytes(pickle.dumps(areas, protocol=pickle.HIGHEST_PROTOCOL))
    try:
        # named, so that Dask does not hash the whole source and areas to name them
        batches = dask.delayed(source, name=f"klastergeo-source-{uuid.uuid4().hex}")
        polygons = dask.delayed(shared, name=f"klastergeo-areas-{uuid.uuid4().hex}")
        task = dask.delayed(_task, pure=False)
        tasks = [task(batches, polygons, job) for job in jobs]
        with callbacks.Callback(posttask=lambda key, result, *_: tally.add(result)):
            # one batch per submission: Dask's processes otherwise send tasks in chunks of
            # 6, which puts a registry of up to 6 batches on one process
            done = dask.compute(*tasks, scheduler=kind, chunksize=1)
    finally:
        if isinstance(shared, Path):
            shared.unlink(missing_ok=True)
    return list(done)


def reach(scheduler: str) -> None:
    """Fail now, before any work, when a ``tcp://`` scheduler does not answer: whatever
    the registry's size (a registry that fits one batch is checked here, but an address
    that leads nowhere is a mistake to report, not to ignore). ``""``, ``"threads"``
    and ``"processes"`` need only Dask (:func:`require`).

    A refused connection or an unknown host fails at once (a plain TCP connection comes
    first); a port that answers but is no Dask scheduler (dask.distributed waits for its
    handshake without a limit) fails after ``CONNECT_TIMEOUT_S``.

    Parameters
    ----------
    scheduler
        A ``records.scheduler`` value.

    Raises
    ------
    ConfigError
        Dask is missing, or nothing (or no dask.distributed scheduler) answers at the
        address; the message names it and says what to do.
    """
    kind = scheduler_kind(scheduler)
    if kind == "none":
        return
    require(scheduler)
    if kind != "tcp":
        return
    address = scheduler.strip()
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as err:  # refused, unknown host, no route, timed out
        why = err.strerror or str(err) or type(err).__name__
        raise ConfigError(_unreachable(address, why)) from err
    _handshake(address)
    distributed = _import("distributed", address)
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise ConfigError(_unreachable(address, str(err))) from err
    client.close()


def _handshake(address: str) -> None:
    """dask.distributed's handshake with ``address`` within ``CONNECT_TIMEOUT_S``, on an
    event loop of its own (in a thread: the caller may be running one)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect

    async def greet() -> None:
        comm = await asyncio.wait_for(connect(address), CONNECT_TIMEOUT_S)
        await comm.close()

    with ThreadPoolExecutor(1) as pool:
        try:
            pool.submit(asyncio.run, greet()).result()
        except (OSError, TimeoutError) as err:  # asyncio's timeout is TimeoutError
            why = str(err) or f"no handshake within {CONNECT_TIMEOUT_S} s: not a Dask scheduler"
            raise ConfigError(_unreachable(address, why)) from err


def _unreachable(address: str, why: str) -> str:
    return (
        f"records.scheduler={address!r} (--scheduler): no dask.distributed scheduler "
        f"answers there ({why}); start one (`dask scheduler`), correct the address, or "
        "leave the scheduler out to check the records here"
    )


def _on_cluster(
    address: str,
    registry: Opened,
    source: Source,
    areas: gpd.GeoDataFrame | None,
    jobs: list[_Job],
    tally: _Tally,
) -> list[BatchCheck]:
    """The batches on the workers of a running dask.distributed scheduler."""
    distributed = _import("distributed", address)
    reach(address)  # what answers there, within a time limit
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise ConfigError(_unreachable(address, str(err))) from err
    with client:
        _check_workers(client, registry, address)
        batches = client.scatter(source, broadcast=True, hash=False)
        polygons = None if areas is None else client.scatter(areas, broadcast=True, hash=False)
        futures = [client.submit(_task, batches, polygons, job, pure=False) for job in jobs]
        position = {future.key: i for i, future in enumerate(futures)}
        results: list[BatchCheck | None] = [None] * len(futures)
        for future in distributed.as_completed(futures, loop=client.loop):
            done = future.result()
            results[position[future.key]] = done
            tally.add(done)
            future.release()
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def _check_workers(client: Any, registry: Opened, address: str) -> None:
    """Fail early, with the fix, when the cluster has no worker or a worker does not see
    the work folder and the registry under the client's paths."""
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except TimeoutError as err:
        raise ConfigError(
            f"records.scheduler={address!r}: no worker joined the scheduler within "
            f"{CONNECT_TIMEOUT_S} s; start workers with `dask worker {address}`"
        ) from err
    token = uuid.uuid4().hex
    marker = registry.work.resolve() / f".klastergeo-{token}"
    marker.write_text(token, encoding="utf-8")
    try:
        seen = client.run(
            _sees,
            str(marker),
            token,
            str(registry.source.path.resolve()),
            str((registry.work / "candidates").resolve()),
        )
    finally:
        marker.unlink(missing_ok=True)
    blind = {worker: problem for worker, problem in sorted(seen.items()) if problem}
    if blind:
        shown = "; ".join(f"{worker}: {problem}" for worker, problem in list(blind.items())[:3])
        raise ConfigError(
            f"records.scheduler={address!r}: {len(blind)} of {len(seen)} worker(s) cannot "
            f"use the run's files ({shown}); the work folder (beside --out) and the "
            "registry must be on a filesystem every worker shares, under the same path"
        )


def require(scheduler: str) -> None:
    """Import what ``scheduler`` needs (dask; and distributed for a ``tcp://`` address),
    or raise :class:`~klastergeo.errors.ConfigError` with the install hint.

    Parameters
    ----------
    scheduler
        A ``records.scheduler`` value other than ``""``/``"none"``.
    """
    _import("dask", scheduler)
    if scheduler_kind(scheduler) == "tcp":
        _import("distributed", scheduler)


def _import(name: str, scheduler: str) -> ModuleType:
    """The optional module ``name``, or the error that says how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ConfigError(
            f"records.scheduler={scheduler!r} needs Dask, which is not installed "
            f"({err}); install it with {INSTALL_HINT}, or leave the scheduler out to "
            "check the batches here"
        ) from err


def _absolute(path: Path | None) -> Path:
    assert path is not None, "a registry read whole is checked by the caller, not on Dask"
    return path.resolve()


class _Tally:
    """Progress in records as the batches finish, in whatever order they finish."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.progress, self.done = total, progress, 0

    def add(self, result: object) -> None:
        # Dask calls back for every task, the source and the areas included
        if self.progress is None or not isinstance(result, BatchCheck):
            return
        self.done += result.n_rows
        self.progress("check", self.done, self.total)


# --------------------------------------------------------------------------------------
# What runs on a worker
# --------------------------------------------------------------------------------------


def _task(source: Source, areas: gpd.GeoDataFrame | Path | None, job: _Job) -> BatchCheck:
    """Check batch ``job.index`` where this runs; with ``job.capture``, what the records
    logger says comes back with the verdicts, for the client to log."""
    if isinstance(areas, Path):
        areas = _load_areas(areas)
    with _captured(job.level, job.capture) as messages:
        done = check_batch(
            source,
            job.index,
            batch_size=job.batch_size,
            areas=areas,
            snap_m=job.snap_m,
            sector_digits=job.sector_digits,
            part=job.part,
            places=job.places,
        )
    return dataclasses.replace(done, messages=tuple(messages)) if messages else done


#: What the processes of :func:`check_here` share with the one that forked them.
_SHARED: dict[str, Any] = {}


def _share(source: Source, areas: gpd.GeoDataFrame | None) -> None:
    _SHARED.update(source=source, areas=areas)


def _shared_task(job: _Job) -> BatchCheck:
    return _task(_SHARED["source"], _SHARED["areas"], job)


#: The areas a worker process read from the work folder, by path: read once, and the
#: same object every time, so the point locator's index is built once too.
_AREAS: dict[Path, gpd.GeoDataFrame] = {}
_AREAS_LOCK = threading.Lock()


def _load_areas(path: Path) -> gpd.GeoDataFrame:
    with _AREAS_LOCK:
        if path not in _AREAS:
            _AREAS.clear()  # another run's areas are not needed any more
            _AREAS[path] = pickle.loads(path.read_bytes())  # written by this run's client
        return _AREAS[path]


def _sees(marker: str, token: str, registry: str, candidates: str) -> str | None:
    """On a worker: what keeps it from the run's files (None: nothing)."""
    try:
        if Path(marker).read_text(encoding="utf-8") != token:
            return f"{marker} holds something else: another folder under the same path"
    except OSError as err:
        return f"cannot read the work folder ({err.strerror or err}: {marker})"
    if not Path(registry).is_file():
        return f"cannot see the registry {registry}"
    probe = Path(candidates) / f".probe-{uuid.uuid4().hex}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as err:
        return f"cannot write to {candidates} ({err.strerror or err})"
    return None


class _Collect(logging.Handler):
    """Keeps the messages of one thread (a worker may run several tasks at once)."""

    def __init__(self, into: list[tuple[int, str]]) -> None:
        super().__init__()
        self.into, self.thread = into, threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.into.append((record.levelno, record.getMessage()))


_CAPTURE_LOCK = threading.Lock()
_CAPTURING: list[tuple[int, bool]] = []  # the records logger's own level and propagation


@contextmanager
def _captured(level: int, capture: bool) -> Iterator[list[tuple[int, str]]]:
    """Within the block, the records logger's messages at ``level`` and above go to the
    list yielded, not to this process's handlers (the client logs them)."""
    messages: list[tuple[int, str]] = []
    if not capture:
        yield messages
        return
    log = logging.getLogger(__package__)
    handler = _Collect(messages)
    with _CAPTURE_LOCK:
        if not _CAPTURING:
            _CAPTURING.append((log.level, log.propagate))
            log.setLevel(level)
            log.propagate = False
        else:
            _CAPTURING.append(_CAPTURING[0])
        log.addHandler(handler)
    try:
        yield messages
    finally:
        with _CAPTURE_LOCK:
            log.removeHandler(handler)
            own_level, propagate = _CAPTURING.pop()
            if not _CAPTURING:
                log.setLevel(own_level)
                log.propagate = propagate
