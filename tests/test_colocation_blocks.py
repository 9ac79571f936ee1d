"""Co-location measured from the firms read block by block (their points, sectors and
sentra: ``FirmColumns.placed``) equals co-location of the firms' frame, firms without a
point left out and noted alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from klastergeo.app.config import RunConfig
from klastergeo.app.pipeline._steps import Notes
from klastergeo.app.pipeline.firm_columns import FirmColumns
from klastergeo.app.pipeline.profiling import _colocation
from klastergeo.io.registry import firms as firm_store
from tests.worlds.stores import store_of


def _world(n: int = 4_000, seed: int = 3) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Firms over 6 x 6 villages of 0.01 degrees: weavers (13) clustered in villages 14
    and 15 with their dyers (20) around them, other sectors spread; a tenth placed by
    their village only (no point)."""
    rng = np.random.default_rng(seed)
    areas = [f"99.{i:02d}" for i in range(36)]
    sector = rng.choice(["10", "13", "20", "31", "47"], n, p=[0.3, 0.2, 0.1, 0.2, 0.2])
    cell = rng.integers(0, 36, n)
    cluster = np.isin(sector, ["13", "20"]) & (rng.random(n) < 0.8)
    cell[cluster] = rng.choice([14, 15], int(cluster.sum()))
    lon = 110 + (cell % 6) * 0.01 + rng.uniform(0, 0.01, n)
    lat = -7 + (cell // 6) * 0.01 + rng.uniform(0, 0.01, n)
    pointless = rng.random(n) < 0.1
    lon[pointless] = lat[pointless] = np.nan
    firms = pd.DataFrame(
        {
            "area_code": np.asarray(areas, dtype=object)[cell],
            "sector": sector,
            "lon": lon,
            "lat": lat,
        },
        index=pd.Index([f"f{i}" for i in range(n)], name="record_id"),
    )
    return firms, areas, sorted(set(sector))


@pytest.mark.parametrize("sizes", [None, [1_000, 3_000], [997, 2_500, 503]])
def test_blocks_give_the_frame_s_co_location(tmp_path: Path, monkeypatch, sizes) -> None:
    monkeypatch.setattr(firm_store, "BLOCK", 1_500)
    firms, areas, sectors = _world()
    store = store_of(firms, sizes, tmp_path)
    columns = _columns(store, areas, sectors)
    sentra_ids = columns.sentra_ids
    codes = columns.sentra_codes(0, pd.DataFrame(firms).pipe(_arrow))
    frame = pd.DataFrame(
        {
            "area_code": firms["area_code"].astype("category").to_numpy(),
            "sector": pd.Categorical(firms["sector"], categories=pd.unique(firms["sector"])),
            "lon": firms["lon"].to_numpy(),
            "lat": firms["lat"].to_numpy(),
            "sentra_id": pd.Categorical.from_codes(codes, categories=sentra_ids),
        }
    )
    config = RunConfig().with_overrides(
        {"colocation.permutations": 99, "colocation.min_firms": 20, "analysis.seed": 5}
    )
    notes_blocks, notes_frame = Notes(), Notes()
    by_blocks = _colocation(config, frame, notes_blocks, store, columns)
    by_frame = _colocation(config, frame, notes_frame, None, None)
    assert by_blocks is not None and by_frame is not None
    assert (by_blocks.related["related_sector"] == "20").any()  # the dyers are found
    pd.testing.assert_frame_equal(by_blocks.table, by_frame.table)
    pd.testing.assert_frame_equal(by_blocks.related, by_frame.related)
    pd.testing.assert_frame_equal(by_blocks.firms, by_frame.firms)
    assert by_blocks.info == by_frame.info
    assert notes_blocks.items == notes_frame.items and notes_blocks.items  # the pointless


def _arrow(frame: pd.DataFrame):
    import pyarrow as pa

    return pa.Table.from_pandas(frame[["area_code", "sector"]], preserve_index=False)


def _columns(store, areas: list[str], sectors: list[str], *, point: bool = False) -> FirmColumns:
    row_sentra = np.full(len(areas) * len(sectors), -1, dtype=np.int32)
    for village in (14, 15):  # the weavers' sentra: villages 14 and 15, sector 13
        row_sentra[village * len(sectors) + sectors.index("13")] = 0
    columns = FirmColumns(
        store=store,
        areas=pd.Index(areas),
        sectors=pd.Index(sectors),
        sentra_ids=pd.Index(["13-01"], name="sentra_id"),
        row_sentra=row_sentra,
    )
    if not point:
        return columns
    # the same sentra as a code per firm (point-based sentra), every 7th firm left out
    wanted = ["area_code", "sector"]
    codes = np.concatenate(
        [columns.sentra_codes(start, block) for start, block in store.blocks(wanted)]
    )
    codes[::7] = -1
    return FirmColumns(
        store=store,
        areas=columns.areas,
        sectors=columns.sectors,
        sentra_ids=columns.sentra_ids,
        point_sentra=codes.astype(np.int32),
    )


@pytest.mark.parametrize(
    ("scheduler", "point"), [("", False), ("threads", False), ("", True), ("threads", True)]
)
@pytest.mark.parametrize(("sizes", "block"), [(None, 1_500), ([997, 2_500, 503], 700)])
def test_one_read_of_the_blocks_gives_what_the_passes_of_their_own_give(
    tmp_path: Path, monkeypatch, sizes, block, scheduler, point
) -> None:
    """The profile step's one read (members, co-location's points, sectors and sentra,
    the thinning, the tiles' cells) against the separate passes: the sentra's members
    and firms with a point read block by block, the thinning's own pass, the frame's
    co-location and the grid cells counted from the firms' points."""
    from klastergeo.analysis.tiles import cell_of
    from klastergeo.app.pipeline.firm_scan import scan_firms
    from klastergeo.app.pipeline.thinning import note_drawn, thinned_firms

    if scheduler:
        pytest.importorskip("dask")
    monkeypatch.setattr(firm_store, "BLOCK", block)
    firms, areas, sectors = _world()
    (tmp_path / "store").mkdir()
    store = store_of(firms, sizes, tmp_path / "store")
    config = RunConfig().with_overrides(
        {"colocation.permutations": 99, "colocation.min_firms": 20, "analysis.seed": 5,
         "pointpattern.max_firms": 1_000, "records.scheduler": scheduler}
    )  # fmt: skip
    alone = _columns(store, areas, sectors, point=point)
    scanned = _columns(store, areas, sectors, point=point)
    (tmp_path / "points").mkdir()
    scan = scan_firms(config, store, scanned, tmp_path / "points")
    for got, expected in zip(scanned.members, alone.members, strict=True):
        np.testing.assert_array_equal(got, expected)
    assert len(scanned.members[0]) > 100  # the weavers of villages 14 and 15
    at, sector, sentra, n = alone.placed()
    np.testing.assert_array_equal(scan.at, at)
    pd.testing.assert_extension_array_equal(scan.sectors, sector)
    pd.testing.assert_extension_array_equal(scan.sentra, sentra)
    assert scan.n == n == len(firms)
    notes_scan, notes_alone = Notes(), Notes()
    assert scan.drawn is not None
    note_drawn(scan.drawn, 1_000, notes_scan)
    pd.testing.assert_frame_equal(scan.drawn.firms, thinned_firms(config, store, notes_alone))
    assert notes_scan.items == notes_alone.items and len(notes_scan.items) == 2
    placed = firms.dropna(subset=["lon"])
    cells, counts = np.unique(cell_of(placed["lon"], placed["lat"]), return_counts=True)
    np.testing.assert_array_equal(scan.cells, cells)
    np.testing.assert_array_equal(scan.counts, counts)
    frame = firms.assign(
        sector=pd.Categorical(firms["sector"], categories=pd.unique(firms["sector"])),
        sentra_id=pd.Categorical.from_codes(
            alone.sentra_codes(0, _arrow(firms)), categories=alone.sentra_ids
        ),
    )[["sector", "lon", "lat", "sentra_id"]]
    by_scan = _colocation(config, frame, Notes(), store, scanned, scan)
    by_frame = _colocation(config, frame, Notes(), None, None)
    assert by_scan is not None and by_frame is not None
    assert (by_scan.related["related_sector"] == "20").any()  # the dyers are found
    pd.testing.assert_frame_equal(by_scan.table, by_frame.table)
    pd.testing.assert_frame_equal(by_scan.related, by_frame.related)
    pd.testing.assert_frame_equal(by_scan.firms, by_frame.firms)
    assert list((tmp_path / "points").iterdir()) == []  # each block's points read once
