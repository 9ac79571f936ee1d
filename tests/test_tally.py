"""CellTally against count_by_area and disclosure.sizes over the whole firms at once."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from klastergeo.analysis import aggregate
from klastergeo.analysis import disclosure as sdc
from klastergeo.analysis.tally import CellTally, block_tally

AREAS = [f"33{i:02d}" for i in range(12)]


def _firms(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    area = rng.choice([*AREAS[:10], "9999", None], n, p=[0.09] * 10 + [0.05, 0.05])
    firms = pd.DataFrame(
        {
            "area_code": area,
            "sector": rng.choice(["10", "13", "31", "47", None], n, p=[0.3, 0.3, 0.2, 0.15, 0.05]),
            "workers": np.where(rng.random(n) < 0.2, np.nan, rng.integers(1, 90, n)),
            "output": np.round(rng.lognormal(3, 1.5, n), 2),
        }
    )
    firms.loc[firms["sector"] == "47", "output"] = np.nan  # a sector nobody reports
    return firms


_LABELS = {
    "numpy": lambda column: column.to_numpy(dtype=object),
    "arrow": lambda column: pa.array(column, type=pa.string(), from_pandas=True),
    "category": lambda column: column.astype("category"),
}


def _tally(firms: pd.DataFrame, cuts: list[int], *, areas=AREAS, kind="numpy") -> CellTally:
    tally = CellTally(areas=areas, top=3)
    for lo, hi in zip([0, *cuts], [*cuts, len(firms)], strict=True):
        block = firms.iloc[lo:hi]
        labels = _LABELS[kind]
        values = {m: block[m].to_numpy(dtype=float) for m in ("workers", "output") if m in block}
        tally.add(labels(block["area_code"]), labels(block["sector"]), values)
    return tally


@pytest.mark.parametrize("kind", ["numpy", "arrow", "category"])
@pytest.mark.parametrize("cuts", [[], [1], [500, 501, 1700], list(range(100, 3000, 100))])
def test_counts_equal_count_by_area(cuts, kind):
    firms = _firms(3000, seed=len(cuts))
    expected = aggregate.count_by_area(firms, pd.Index(AREAS))
    got = _tally(firms, cuts, kind=kind).counts(AREAS)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    assert got["investment"].isna().all()  # no column: missing, never 0
    sector_47 = got.xs("47", level="sector")
    assert sector_47.loc[sector_47["n_firms"] > 0, "output"].isna().all()


def test_sizes_equal_disclosure_sizes_of_the_whole():
    firms = _firms(5000, seed=3)
    tally = _tally(firms, [1234, 1235, 4000])
    sectors = sorted(firms["sector"].dropna().unique())
    index = pd.MultiIndex.from_product([AREAS, sectors])
    row = pd.Series(np.arange(len(index)), index=index)
    cells = row.reindex(pd.MultiIndex.from_arrays([firms["area_code"], firms["sector"]]))
    cell = cells.fillna(-1).to_numpy(dtype=np.int64)
    for m in ("workers", "output"):
        values = firms[m].to_numpy(dtype=float)
        expected = sdc.sizes(values, cell, len(index), top=3)
        got = tally.sizes(m, AREAS, sectors)
        np.testing.assert_array_equal(got.n, expected.n)
        np.testing.assert_allclose(got.total, expected.total, rtol=1e-12)
        np.testing.assert_array_equal(got.top, expected.top)
        sector = pd.Index(sectors).get_indexer(firms["sector"])
        sector = np.where(cell >= 0, sector, -1)
        squares = sdc.sizes(values**2, sector, len(sectors), top=3)
        got_squares = tally.sector_squares(m, sectors)
        np.testing.assert_array_equal(got_squares.n, squares.n)
        np.testing.assert_allclose(got_squares.total, squares.total, rtol=1e-12)
        np.testing.assert_array_equal(got_squares.top, squares.top)
    assert tally.sizes("investment", AREAS, sectors).n.sum() == 0


def test_one_block_sums_in_file_order():
    # the sums of a block are bincount's, in file order: exactly those of the whole
    firms = _firms(4000, seed=9)
    got = _tally(firms, []).counts(AREAS)
    expected = aggregate.count_by_area(firms, pd.Index(AREAS))
    assert (got["n_firms"] == expected["n_firms"]).all()


def test_merged_tallies_equal_one_tally():
    # a worker's tally of each block, merged in block order: the tally of one process
    firms = _firms(4000, seed=5)
    whole = _tally(firms, [1000, 2000, 3000])
    first = _tally(firms.iloc[:1000], [])
    for lo in (1000, 2000, 3000):
        block = firms.iloc[lo : lo + 1000]
        values = {m: block[m].to_numpy(dtype=float) for m in ("workers", "output")}
        first.merge(block_tally(block["area_code"], block["sector"], values, top=3))
    pd.testing.assert_frame_equal(first.counts(AREAS), whole.counts(AREAS))
    sectors = sorted(firms["sector"].dropna().unique())
    for m in ("workers", "output"):
        a, b = first.sizes(m, AREAS, sectors), whole.sizes(m, AREAS, sectors)
        assert np.array_equal(a.n, b.n) and np.array_equal(a.top, b.top)
        assert np.array_equal(a.total, b.total)  # the same blocks, added in the same order


def test_a_block_sent_is_small_and_negative_values_keep_their_place():
    firms = _firms(3000, seed=2)
    firms.loc[::7, "output"] = -firms.loc[::7, "output"]  # losses, reported as such
    whole = _tally(firms, [1000, 2000])
    merged = _tally(firms.iloc[:0], [])
    for lo in (0, 1000, 2000):
        part = firms.iloc[lo : lo + 1000]
        values = {m: part[m].to_numpy(dtype=float) for m in ("workers", "output")}
        block = block_tally(part["area_code"], part["sector"], values, top=3)
        assert len(block.area) <= 11 * 5  # cells with firms, not every area x sector
        merged.merge(block)
    sectors = sorted(firms["sector"].dropna().unique())
    a, b = merged.sizes("output", AREAS, sectors), whole.sizes("output", AREAS, sectors)
    assert np.array_equal(a.top, b.top) and np.array_equal(a.total, b.total)
    pd.testing.assert_frame_equal(merged.counts(AREAS), whole.counts(AREAS))


def test_growing_areas_for_h3_cells():
    firms = _firms(2000, seed=11)
    tally = _tally(firms, [700], areas=None)
    cells = sorted(x for x in firms["area_code"].dropna().unique())
    expected = aggregate.count_by_area(firms, pd.Index(cells))
    pd.testing.assert_frame_equal(tally.counts(cells), expected, check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("measure", ["n_firms", "workers", "output"])
def test_concentration_from_the_tally_equals_that_of_the_firms(measure):
    from klastergeo.analysis import concentration

    rng = np.random.default_rng(8)
    n = 4000
    codes = [f"33.{k:02d}.{c:02d}.{d:04d}" for k in (1, 2, 3) for c in (1, 2) for d in (1, 2, 3)]
    firms = pd.DataFrame(
        {
            "area_code": rng.choice(codes, n),
            "sector": rng.choice(["10", "13", "31"], n, p=[0.5, 0.3, 0.2]),
            "workers": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 60, n)),
            "output": np.round(rng.lognormal(3, 1.2, n), 2),
        }
    )
    expected = concentration.indices_by_level(firms, measure=measure)
    tally = CellTally(areas=codes)
    for lo in range(0, n, 700):
        block = firms.iloc[lo : lo + 700]
        values = {m: block[m].to_numpy(float) for m in ("workers", "output")}
        tally.add(block["area_code"].to_numpy(object), block["sector"].to_numpy(object), values)
    got = concentration.indices_from_plant_sums(tally.plant_sums(measure, codes), measure=measure)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-10)
    assert expected["plant_herfindahl"].notna().all()


@pytest.mark.parametrize("max_cells", [10**6, 500, 40, 4])
def test_grid_tally_block_by_block_is_the_grid_of_all_points(max_cells):
    from klastergeo.analysis.tally import GridTally

    rng = np.random.default_rng(12)
    n = 20_000
    lon = np.concatenate([rng.uniform(95, 141, n // 2), rng.normal(110.6, 0.02, n // 2)])
    lat = np.concatenate([rng.uniform(-11, 6, n // 2), rng.normal(-7.7, 0.02, n // 2)])
    lon[::97] = np.nan  # placed by their area: not counted
    grid = GridTally()
    for lo in range(0, n, 3_001):
        part = GridTally()
        part.add(lon[lo : lo + 3_001], lat[lo : lo + 3_001])
        grid.merge(part.keys, part.counts)
    # brute force: the finest grid of 0.005 x 2^k degrees with at most max_cells cells
    ok = np.isfinite(lon)
    cell = 0.005
    while True:
        pairs = np.column_stack([np.floor(lon[ok] / cell), np.floor(lat[ok] / cell)])
        cells, counts = np.unique(pairs, axis=0, return_counts=True)
        if len(cells) <= max_cells:
            break
        cell *= 2
    got_cell, ix, iy, got_counts = grid.cells(max_cells)
    assert got_cell == cell and grid.n_firms == ok.sum()
    order = np.lexsort((iy, ix))
    np.testing.assert_array_equal(np.column_stack([ix, iy])[order], cells.astype(np.int64))
    np.testing.assert_array_equal(got_counts[order], counts)


def test_counts_of_chosen_areas_and_sectors_in_any_order():
    """Areas and sectors asked in another order, or unknown to the tally: the known
    cells are the whole table's, the unknown ones hold no firm."""
    firms = _firms(3000, seed=11)
    tally = _tally(firms, [700, 2100])
    whole = tally.counts(AREAS)
    sectors = sorted(firms["sector"].dropna().unique())
    areas, chosen = [AREAS[2], "nowhere", AREAS[0]], [sectors[-1], "xx", sectors[0]]
    got = tally.counts(areas, sectors=chosen)
    assert list(got.index) == [(a, s) for a in areas for s in chosen]
    known = [(a, s) for a, s in got.index if a != "nowhere" and s != "xx"]
    pd.testing.assert_frame_equal(got.loc[known], whole.loc[known])
    unknown = got.drop(index=known)
    assert (unknown["n_firms"] == 0).all() and (unknown[["workers", "output"]] == 0).all().all()
