"""FirmStore.blocks: the kept firms in fixed blocks of positions, whatever the parts."""

import pandas as pd
import pytest

from tests.worlds.stores import store_of, synthetic_firms


def _firms(n: int) -> pd.DataFrame:
    return synthetic_firms(n)[["sector", "workers", "lon"]]


@pytest.mark.parametrize("sizes", [None, [40], [7, 0, 13, 5, 1, 14], [1] * 40, [39, 1]])
@pytest.mark.parametrize("size", [1, 6, 13, 40, 64])
def test_blocks_cut_the_firms_at_fixed_positions(tmp_path, sizes, size):
    firms = _firms(40)
    store = store_of(firms, sizes, tmp_path)
    got = list(store.blocks(["sector", "workers", "absent"], size=size))
    assert len(got) == store.n_blocks(size) == -(-40 // size)
    assert [start for start, _ in got] == list(range(0, 40, size))
    for start, table in got:
        assert table.column_names == ["sector", "workers"]
        expected = firms.iloc[start : start + size][["sector", "workers"]].reset_index(drop=True)
        pd.testing.assert_frame_equal(table.to_pandas(), expected)


def test_only_the_wanted_blocks(tmp_path):
    firms = _firms(40)
    store = store_of(firms, [7, 0, 13, 5, 1, 14], tmp_path)
    got = dict(store.blocks(["workers"], size=6, only=[2, 5]))
    assert list(got) == [12, 30]
    expected = firms["workers"].iloc[30:36].reset_index(drop=True)
    pd.testing.assert_series_equal(got[30].column("workers").to_pandas(), expected)


def test_no_firm_gives_one_empty_block(tmp_path):
    store = store_of(_firms(0), None, tmp_path)
    got = list(store.blocks(["sector", "workers"]))
    assert len(got) == 1 and got[0][1].num_rows == 0
    assert got[0][1].column_names == ["sector", "workers"]
