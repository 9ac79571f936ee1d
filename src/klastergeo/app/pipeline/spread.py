"""The steps that go over the firms block by block, here or on Dask.

A step of the firms (counting them per cell, ...) is a *task* run once per block of
:data:`~klastergeo.io.registry.firms.BLOCK` firms: it reads its block from the firm store
(:meth:`~klastergeo.io.registry.firms.FirmStore.blocks` with ``only=[b]``) and returns a
small result (a block's cells, not its firms). The client adds the results up in block
order, so a step gives the same bytes whether its blocks ran here, on Dask's threads or
processes, or on the workers of a ``dask.distributed`` cluster (``--scheduler``).

Without ``--scheduler`` the blocks of a registry in parts run on this machine's cores: a
few processes forked from this one (:data:`~klastergeo.io.registry.distributed.LOCAL_WORKERS`,
where ``fork`` exists) each read and work on one block at a time, and the results come
back in block order as from Dask.

What runs where (``--scheduler`` given):

- **on the workers**: each block's task (reading the block from the Parquet parts of the
  kept firms, which they must see under the client's paths, as for the batch checks);
- **on the client**: adding the blocks' results in order, everything of areas (weights,
  statistics, sentra, maps) and the files.

A registry read whole (its firms in memory, not in parts) is small: its block runs here.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, TypeVar

from klastergeo.app.beside import KeptRecords, outcome_here
from klastergeo.errors import ConfigError
from klastergeo.io.registry import distributed
from klastergeo.io.registry import firms as firm_store
from klastergeo.io.registry.firms import FirmStore

__all__ = ["Forked", "over_blocks"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def over_blocks(
    task: Callable[..., T],
    store: FirmStore,
    *,
    scheduler: str = "",
    kwargs: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    size: int | None = None,
    workers: int | None = None,
) -> Iterator[T]:
    """``task(store, only=[b], size=size, **kwargs)`` of every block ``b``, in block
    order.

    Parameters
    ----------
    task
        A module-level function (Dask sends it by name) taking the store, the blocks to
        read (``only``), their ``size`` and ``kwargs``; its result goes back to the
        client.
    store
        The kept firms.
    scheduler
        ``""`` to run here, or a ``records.scheduler`` value (``threads``,
        ``processes``, ``tcp://HOST:PORT``).
    kwargs
        The task's other arguments (sent with every block).
    progress
        Called as ``progress(blocks done, blocks)``.
    size
        Firms per block (default :data:`~klastergeo.io.registry.firms.BLOCK`, read
        here and sent to the workers).
    workers
        Without a scheduler: processes forked from this one that run the blocks
        (default :data:`~klastergeo.io.registry.distributed.LOCAL_WORKERS`, at most one
        per core this process may use); 1 runs them here, one after another.
    """
    size = firm_store.BLOCK if size is None else size
    options = {**(kwargs or {}), "size": size}
    n = store.n_blocks(size)
    kind = distributed.scheduler_kind(scheduler) if scheduler else "none"
    if store.validation.memory is not None or n == 1:
        kind = "none"  # a registry held whole: small, its block runs here
    if kind == "none":
        count = distributed.forked_processes(
            distributed.LOCAL_WORKERS if workers is None else workers, n
        )
        if count > 1:
            yield from _forked(task, store, options, n, count, progress)
            return
        for b in range(n):
            yield task(store, only=[b], **options)
            if progress is not None:
                progress(b + 1, n)
        return
    logger.info("%d blocks of firms on Dask (%s)", n, scheduler)
    if kind == "tcp":
        yield from _on_cluster(task, store, scheduler.strip(), options, n, progress)
        return
    import dask

    tasks = [dask.delayed(task, pure=False)(store, only=[b], **options) for b in range(n)]
    results = dask.compute(*tasks, scheduler=kind)
    for b, result in enumerate(results):
        if progress is not None:
            progress(b + 1, n)
        yield result


#: What the processes of :func:`_forked` inherit when forked: per running step (a
#: token), its task, store and options.
_SHARED: dict[int, tuple[Callable[..., Any], FirmStore, dict[str, Any]]] = {}


def _shared_block(token: int, b: int) -> Any:
    task, store, options = _SHARED[token]
    return task(store, only=[b], **options)


def _forked(
    task: Callable[..., T],
    store: FirmStore,
    options: dict[str, Any],
    n: int,
    count: int,
    progress: Callable[[int, int], None] | None,
) -> Iterator[T]:
    """The blocks on ``count`` processes forked from this one (the task, the store and
    the options are inherited, not sent); at most two blocks per process are running
    or waiting to be handed on, so the results held here stay few."""
    token = id(options)
    _SHARED[token] = (task, store, options)
    pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork"))
    waiting: deque[Future[Any]] = deque()
    done = [0]

    def handed() -> Any:
        try:
            result = waiting.popleft().result()
        except BrokenProcessPool as err:
            raise ConfigError(
                f"a process working on the firms' blocks of {task.__name__} stopped "
                f"(killed, most likely for lack of memory: {err}); run with fewer local "
                "workers or on a machine with more memory"
            ) from err
        done[0] += 1
        if progress is not None:
            progress(done[0], n)
        return result

    try:
        for b in range(n):
            with distributed.forking():  # a process may be forked at any submission
                waiting.append(pool.submit(_shared_block, token, b))
            if len(waiting) >= 2 * count:
                yield handed()
        while waiting:
            yield handed()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _SHARED.pop(token, None)


def _on_cluster(
    task: Callable[..., T],
    store: FirmStore,
    address: str,
    options: dict[str, Any],
    n: int,
    progress: Callable[[int, int], None] | None,
) -> Iterator[T]:
    """The blocks on a running cluster's workers; results handed on in block order as
    soon as each block and those before it are done (a few wait, never every block)."""
    import distributed as dd

    distributed.reach(address)
    client = dd.Client(address, timeout=distributed.CONNECT_TIMEOUT_S, set_as_default=False)
    with client:
        futures = [client.submit(task, store, only=[b], **options, pure=False) for b in range(n)]
        for b, future in enumerate(futures):
            result = future.result()
            future.release()
            if progress is not None:
                progress(b + 1, n)
            yield result


class Forked(Generic[T]):
    """``fn(*args, **kwargs)`` in a process forked from this one, started now (it
    inherits the arguments, nothing is sent); :meth:`result` waits for it. Work of a step
    that needs none of what the step does meanwhile (the point patterns beside
    co-location) so uses the second core. Its log records and warnings are re-issued here
    when the result is collected, as if it had run here; a process that dies (killed, out
    of memory) is replaced by the work run here. With ``inline=True``, or where no second
    process may run (:func:`~klastergeo.io.registry.distributed.forked_processes`),
    nothing starts and :meth:`result` calls ``fn`` itself.

    Parameters
    ----------
    fn
        The work; its result is pickled back.
    inline
        Run ``fn`` here, when :meth:`result` is called.
    workers
        Processes this run may use (``records.workers``): fewer than 2 runs inline.

    Examples
    --------
    >>> Forked(sum, [1, 2, 3], inline=True).result()
    6
    """

    def __init__(
        self,
        fn: Callable[..., T],
        /,
        *args: Any,
        inline: bool = False,
        workers: int = distributed.LOCAL_WORKERS,
        **kwargs: Any,
    ) -> None:
        self._call = (fn, args, kwargs)
        self._pool: ProcessPoolExecutor | None = None
        self._future: Future[Any] | None = None
        if inline or distributed.forked_processes(workers, 2) < 2:
            return
        self._token = id(self)
        _CALLS[self._token] = (fn, args, kwargs)
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        with distributed.forking():  # the process is forked at the submission
            self._future = self._pool.submit(_forked_call, self._token)

    def result(self) -> T:
        """The value of the call; the child's log records and warnings re-issued here,
        its exception raised here."""
        fn, args, kwargs = self._call
        if self._pool is None or self._future is None:
            return fn(*args, **kwargs)
        pool, future, self._pool, self._future = self._pool, self._future, None, None
        try:
            outcome, value, records, caught = future.result()
        except BrokenProcessPool as err:
            logger.warning(
                "the process computing %s stopped (%s): computed here",
                getattr(fn, "__name__", "its work"),
                err,
            )
            return fn(*args, **kwargs)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            _CALLS.pop(self._token, None)
        return outcome_here(outcome, value, records, caught)

    def cancel(self) -> None:
        """Stop the child if it still runs (a step that stopped before its result)."""
        if self._pool is not None:
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.kill()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = self._future = None
            _CALLS.pop(self._token, None)

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


#: The calls of :class:`Forked` by token, inherited by the processes forked for them.
_CALLS: dict[int, tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = {}


def _forked_call(token: int) -> tuple[str, Any, list[logging.LogRecord], list[Any]]:
    """In the forked process: the call's outcome (its value or error), log records and
    warnings."""
    fn, args, kwargs = _CALLS[token]
    kept = KeptRecords()
    root = logging.getLogger()
    level = root.getEffectiveLevel()
    root.handlers[:] = [kept]  # this process's copies: the run's handlers are not touched
    root.setLevel(level)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value, outcome = fn(*args, **kwargs), "ok"
        except Exception as err:  # raised in the run's process
            value, outcome = err, "error"
    shown = [warnings.WarningMessage(w.message, w.category, w.filename, w.lineno) for w in caught]
    if outcome == "error":
        try:
            pickle.dumps(value)
        except Exception as err:  # an exception that does not pickle: its text does
            value = RuntimeError(f"{type(value).__name__}: {value} ({err})")
    return outcome, value, kept.records, shown
