"""A local ``dask.distributed`` cluster for the tests that run work on Dask's workers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def local_cluster() -> Iterator[str]:
    """A cluster of two worker processes on 127.0.0.1, one thread each; yields the
    scheduler's address (the test is skipped without ``distributed``)."""
    local = pytest.importorskip("distributed").LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # no dashboard; the scheduler's own HTTP server (always started) on a free port
        # rather than 8787, which another cluster may hold (distributed warns then)
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
    )
    with local:
        yield local.scheduler_address
