"""over_blocks without a scheduler: the blocks on processes forked from this one, the
results handed back in block order, the same as one block after another here."""

import logging
import os
import warnings

import numpy as np
import pytest

from klastergeo.app.pipeline import spread
from klastergeo.errors import ConfigError, DataError
from tests.worlds.stores import store_of, synthetic_firms

pytestmark = pytest.mark.skipif(
    (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1) < 2,
    reason="needs two cores for two forked processes",
)


def sums(store, *, only, size, scale):
    """A block's start, the process that ran it and its summed workers, scaled."""
    ((start, block),) = store.blocks(["workers"], only=only, size=size)
    values = block.column("workers").to_numpy(zero_copy_only=False).astype(float)
    return start, os.getpid(), float(np.nansum(values)) * scale


def dies(store, *, only, size):
    os._exit(3)  # a process killed (as the kernel does when memory runs out)


@pytest.fixture
def store(tmp_path):
    return store_of(synthetic_firms(90)[["sector", "workers"]], [20, 35, 35], tmp_path)


def test_forked_blocks_come_back_in_order_and_equal_the_blocks_run_here(store):
    seen = []
    forked = list(
        spread.over_blocks(
            sums, store, size=7, workers=2, kwargs={"scale": 2.0},
            progress=lambda done, n: seen.append((done, n)),
        )
    )  # fmt: skip
    here = list(spread.over_blocks(sums, store, size=7, workers=1, kwargs={"scale": 2.0}))
    assert [s for s, _, _ in forked] == [s for s, _, _ in here] == list(range(0, 90, 7))
    assert [v for *_, v in forked] == [v for *_, v in here]
    assert {pid for _, pid, _ in here} == {os.getpid()}
    assert os.getpid() not in {pid for _, pid, _ in forked}
    assert seen == [(k, 13) for k in range(1, 14)]
    assert spread._SHARED == {}  # nothing of the step left behind


def test_a_process_that_dies_is_an_error_naming_the_step(store):
    with pytest.raises(ConfigError, match=r"dies.*fewer local workers"):
        list(spread.over_blocks(dies, store, size=7, workers=2))
    assert spread._SHARED == {}


def measured(values, *, scale):
    """A small result, a log record and a warning, from wherever it ran."""
    logging.getLogger("klastergeo.tests.forked").info("measured %d values", len(values))
    warnings.warn("a warning of the work", UserWarning, stacklevel=1)
    return os.getpid(), float(np.sum(values)) * scale


def fails(values):
    raise DataError(f"no pattern in {len(values)} values")


def killed_elsewhere(values, *, parent):
    """Killed (as the kernel does when memory runs out) in any process but ``parent``."""
    if os.getpid() != parent:
        os._exit(3)
    return sum(values)


def test_forked_work_runs_in_another_process_and_hands_back_its_logs_and_warnings(caplog):
    values = np.arange(1_000, dtype=float)
    caplog.set_level(logging.INFO, logger="klastergeo.tests.forked")
    with pytest.warns(UserWarning, match="a warning of the work"):
        pid, total = spread.Forked(measured, values, scale=2.0, workers=2).result()
    assert pid != os.getpid()
    assert total == 2.0 * 499_500  # closed form: 2 * n(n-1)/2
    assert "measured 1000 values" in caplog.text
    with pytest.warns(UserWarning, match="a warning of the work"):
        here = spread.Forked(measured, values, scale=2.0, workers=1).result()
    assert here == (os.getpid(), total)


def test_forked_work_raises_its_error_here():
    with pytest.raises(DataError, match="no pattern in 3 values"):
        spread.Forked(fails, [1, 2, 3], workers=2).result()


def test_a_forked_process_that_dies_is_replaced_by_the_work_run_here(caplog):
    work = spread.Forked(killed_elsewhere, [1, 2], parent=os.getpid(), workers=2)
    with caplog.at_level(logging.WARNING, logger="klastergeo.app.pipeline.spread"):
        assert work.result() == 3
    assert "stopped" in caplog.text and "computed here" in caplog.text
