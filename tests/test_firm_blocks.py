"""FirmStore.blocks: the kept firms in fixed blocks of positions, whatever the parts."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from klastergeo.io.registry import batches
from klastergeo.io.registry.columns import Columns
from klastergeo.io.registry.firms import FirmStore


def _firms(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "sector": rng.choice(["10", "13", "31"], n),
            "workers": rng.integers(1, 50, n).astype(float),
            "lon": rng.uniform(110, 111, n),
        },
        index=pd.Index([f"r{i}" for i in range(n)], name="record_id"),
    )


def _store(firms: pd.DataFrame, sizes: list[int] | None, folder: Path) -> FirmStore:
    empty = pd.DataFrame()
    common = {"rejected": empty, "repaired": empty, "n_read": len(firms), "n_kept": len(firms)}
    order = (*firms.columns, "geometry")
    if sizes is None:
        return FirmStore(
            batches.BatchValidation(
                parts=(), columns=Columns(), memory=firms, order=order, **common
            )
        )
    parts, start = [], 0
    for i, size in enumerate(sizes):
        path = folder / f"part-{i}.parquet"
        firms.iloc[start : start + size].to_parquet(path)
        parts.append(path)
        start += size
    assert start == len(firms)
    return FirmStore(
        batches.BatchValidation(parts=tuple(parts), columns=Columns(), order=order, **common)
    )


@pytest.mark.parametrize("sizes", [None, [40], [7, 0, 13, 5, 1, 14], [1] * 40, [39, 1]])
@pytest.mark.parametrize("size", [1, 6, 13, 40, 64])
def test_blocks_cut_the_firms_at_fixed_positions(tmp_path, sizes, size):
    firms = _firms(40)
    store = _store(firms, sizes, tmp_path)
    got = list(store.blocks(["sector", "workers", "absent"], size=size))
    assert len(got) == store.n_blocks(size) == -(-40 // size)
    assert [start for start, _ in got] == list(range(0, 40, size))
    for start, table in got:
        assert table.column_names == ["sector", "workers"]
        expected = firms.iloc[start : start + size][["sector", "workers"]].reset_index(drop=True)
        pd.testing.assert_frame_equal(table.to_pandas(), expected)


def test_only_the_wanted_blocks(tmp_path):
    firms = _firms(40)
    store = _store(firms, [7, 0, 13, 5, 1, 14], tmp_path)
    got = dict(store.blocks(["workers"], size=6, only=[2, 5]))
    assert list(got) == [12, 30]
    assert got[30].column("workers").to_pylist() == firms["workers"].iloc[30:36].tolist()


def test_no_firm_gives_one_empty_block(tmp_path):
    store = _store(_firms(0), None, tmp_path)
    got = list(store.blocks(["sector", "workers"]))
    assert len(got) == 1 and got[0][1].num_rows == 0
    assert got[0][1].column_names == ["sector", "workers"]
