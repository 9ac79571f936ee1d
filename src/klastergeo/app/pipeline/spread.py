"""The steps that go over the firms block by block, here or on Dask.

A step of the firms (counting them per cell, ...) is a *task* run once per block of
:data:`~klastergeo.io.registry.firms.BLOCK` firms: it reads its block from the firm store
(:meth:`~klastergeo.io.registry.firms.FirmStore.blocks` with ``only=[b]``) and returns a
small result (a block's cells, not its firms). The client adds the results up in block
order, so a step gives the same bytes whether its blocks ran here, on Dask's threads or
processes, or on the workers of a ``dask.distributed`` cluster (``--scheduler``).

What runs where (``--scheduler`` given):

- **on the workers**: each block's task (reading the block from the Parquet parts of the
  kept firms, which they must see under the client's paths, as for the batch checks);
- **on the client**: adding the blocks' results in order, everything of areas (weights,
  statistics, sentra, maps) and the files.

A registry read whole (its firms in memory, not in parts) is small: its block runs here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from klastergeo.io.registry import distributed
from klastergeo.io.registry import firms as firm_store
from klastergeo.io.registry.firms import FirmStore

__all__ = ["over_blocks"]

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
    """
    size = firm_store.BLOCK if size is None else size
    options = {**(kwargs or {}), "size": size}
    n = store.n_blocks(size)
    kind = distributed.scheduler_kind(scheduler) if scheduler else "none"
    if kind == "none" or store.validation.memory is not None or n == 1:
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
