"""Co-location by tiles: the same neighbour pairs, quotients and p-values as the
whole-set functions, a tile's tree and halo at a time (brief: issue 29, item 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from klastergeo.analysis import colocation, tiles
from klastergeo.app.pipeline.colocation_tiles import SpilledTiling, point_chunks
from tests.worlds import tiled_firms

OPTIONS = {"seed": 5, "min_firms": 2}


def _whole(lon, lat, sector, sentra, *, permutations, max_permuted, k, pairs="all"):
    table = colocation.global_clq(
        lon, lat, sector, permutations=permutations, max_permuted=max_permuted,
        pairs=pairs, also=[("10", "11")], **OPTIONS,
    )  # fmt: skip
    links = colocation.sentra_related(
        lon, lat, sector, sentra, k=k, permutations=permutations, **OPTIONS
    )
    return table, links


def _tiled(tiling, sector, sentra, *, permutations, max_permuted, k, pairs="all"):
    codes, names = colocation.sector_codes(sector)
    return colocation.tiled_colocation(
        tiling, codes, names, sentra=tiled_firms.members(sentra), k=k,
        permutations=permutations, max_permuted=max_permuted, pairs=pairs,
        also=[("10", "11")], **OPTIONS,
    )  # fmt: skip


def _same(whole, tiled) -> None:
    table, links = whole
    pd.testing.assert_frame_equal(table, tiled.table, rtol=1e-9)
    pd.testing.assert_frame_equal(links.related, tiled.links.related, rtol=1e-9)
    pd.testing.assert_frame_equal(links.firms, tiled.links.firms)
    pd.testing.assert_frame_equal(links.missing, tiled.links.missing)


@pytest.mark.parametrize("kind", tiled_firms.KINDS)
@pytest.mark.parametrize(
    ("firms", "permutations", "max_permuted", "k", "pairs"),
    [
        (60, 9, 10**7, 8, "all"),  # many small tiles, relabellings
        (500, 9, 10, 3, "observed"),  # exact moments (above max_permuted)
    ],
)
def test_tiles_give_the_whole_set_results(kind, firms, permutations, max_permuted, k, pairs):
    lon, lat, sector, sentra = tiled_firms.firms(kind)
    options = {"permutations": permutations, "max_permuted": max_permuted, "k": k, "pairs": pairs}
    tiling = tiles.GridTiling(lon, lat, firms=firms)
    found = _tiled(tiling, sector, sentra, **options)
    assert found.tiles == len(tiling.boxes) > 1
    _same(_whole(lon, lat, sector, sentra, **options), found)


def test_far_neighbours_grow_the_halo_and_a_short_halo_would_miss_them(monkeypatch):
    lon, lat, sector, sentra = tiled_firms.firms("sparse", seed=1)
    options = {"permutations": 9, "max_permuted": 10**7, "k": 8}
    whole = _whole(lon, lat, sector, sentra, **options)
    tiling = tiles.GridTiling(lon, lat, firms=60)
    found = _tiled(tiling, sector, sentra, **options)
    assert found.rounds > found.tiles  # some tiles needed a wider halo
    _same(whole, found)
    # trusting the first halo (every search taken as inside it) gives other pairs
    monkeypatch.setattr(colocation, "outside_distance", lambda lon, *_: np.full(len(lon), np.inf))
    short = _tiled(tiling, sector, sentra, **options)
    assert short.rounds == short.tiles
    with pytest.raises(AssertionError):
        _same(whole, short)


def test_many_sectors_count_the_pairs_met_as_the_whole_set(monkeypatch):
    monkeypatch.setattr(colocation, "_DENSE_PAIRS", 1)  # the sparse count of sector pairs
    lon, lat, sector, sentra = tiled_firms.firms("market", seed=2)
    options = {"permutations": 9, "max_permuted": 10**7, "k": 8, "pairs": "observed"}
    found = _tiled(tiles.GridTiling(lon, lat, firms=300), sector, sentra, **options)
    assert len(found.table) >= 2  # several sector pairs met, counted the sparse way
    _same(_whole(lon, lat, sector, sentra, **options), found)


def test_the_distance_out_of_a_halo_is_a_lower_bound():
    rng = np.random.default_rng(0)
    for box, width in [
        ((110, 111, -7, -6), 0.2),
        ((179, 180, 60, 70), 1.5),
        ((-180, -179, -5, 5), 0.1),
    ]:
        box = np.asarray(box, dtype=float)
        lon, lat = rng.uniform(box[0], box[1], 300), rng.uniform(box[2], box[3], 300)
        bound = tiles.outside_distance(lon, lat, box, width)
        # points anywhere, and many just beyond the grown box
        grown = box + np.array([-1, 1, -1, 1]) * (width + 0.02)
        far_lon = np.concatenate([rng.uniform(-180, 180, 5_000), rng.uniform(*grown[:2], 20_000)])
        far_lat = np.concatenate(
            [np.degrees(np.arcsin(rng.uniform(-1, 1, 5_000))), rng.uniform(*grown[2:], 20_000)]
        )
        out = ~tiles.halo_mask(far_lon, far_lat, box, width)
        p = colocation._points(lon, lat)
        q = colocation._points(far_lon[out], far_lat[out])
        nearest = np.sqrt(((p[:, None, :] - q[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
        assert (bound <= nearest).all()
        assert (bound > 0.5 * nearest).mean() > 0.9  # not a useless bound either
        reach = rng.uniform(0, 50_000, 300)  # a halo wide enough for a reach holds it
        wide = tiles.halo_needed(lat, reach)
        assert (tiles.outside_distance(lon, lat, box, wide) >= reach).all()


def test_tiles_cut_every_firm_once_and_hold_their_firms():
    lon, lat, _, _ = tiled_firms.firms("sparse")
    tiling = tiles.GridTiling(lon, lat, firms=200)
    seen = np.concatenate([tiling.core(t).positions for t in range(len(tiling.boxes))])
    assert np.array_equal(np.sort(seen), np.arange(len(lon)))
    for t, box in enumerate(tiling.boxes):
        core = tiling.core(t)
        x = tiles.wrapped(core.lon)
        assert ((x >= box[0]) & (x <= box[1]) & (core.lat >= box[2]) & (core.lat <= box[3])).all()
        halo = tiling.halo(t, 0.5)  # every other firm within the grown box
        inside = tiles.halo_mask(lon, lat, box, 0.5) & ~np.isin(np.arange(len(lon)), core.positions)
        assert np.array_equal(halo.positions, np.flatnonzero(inside))
    assert (tiles.tile_sizes(tiling) <= 200).sum() == len(tiling.boxes)


def test_tiles_spilled_to_files_are_those_in_memory(tmp_path: Path):
    lon, lat, sector, sentra = tiled_firms.firms("antimeridian")
    memory = tiles.GridTiling(lon, lat, firms=150)
    spilled = SpilledTiling.write(point_chunks(lon, lat), tmp_path, firms=150)
    assert spilled.n == memory.n and np.array_equal(spilled.boxes, memory.boxes)
    for t in range(len(memory.boxes)):
        for width in (0.05, 0.7, np.inf):
            a, b = memory.halo(t, width), spilled.halo(t, width)
            assert np.array_equal(a.positions, b.positions) and np.array_equal(a.lon, b.lon)
        assert np.array_equal(memory.core(t).lat, spilled.core(t).lat)
    box = np.array([179.5, 179.9, -0.5, 0.6])  # across the antimeridian once grown
    for width in (0.05, 0.3, np.inf):
        a, b = memory.within(box, width), spilled.within(box, width)
        inside = np.flatnonzero(tiles.halo_mask(lon, lat, box, width))
        assert np.array_equal(a.positions, inside) and np.array_equal(b.positions, inside)
    assert (tiles.wrapped(lon[memory.within(box, 0.3).positions]) < 0).any()
    options = {"permutations": 9, "max_permuted": 10**7, "k": 8}
    _same(_whole(lon, lat, sector, sentra, **options), _tiled(spilled, sector, sentra, **options))


def test_the_pipeline_measures_categories_by_tiles_as_the_whole_set(tmp_path: Path):
    from klastergeo.app.config import ColocationOptions
    from klastergeo.app.pipeline.colocation_tiles import measure_by_tiles

    lon, lat, sector, sentra = tiled_firms.firms("market", seed=3)
    sentra[sentra == "S1"] = ""  # an empty id is no sentra
    options = ColocationOptions(permutations=9, min_firms=2, k=4)
    linkages = colocation.read_linkages()
    table, links = measure_by_tiles(
        point_chunks(lon, lat), pd.Categorical(sector), pd.Series(pd.Categorical(sentra)),
        options, seed=5, pairs="observed", also=[("10", "11")], linkages=linkages,
        scratch=tmp_path,
    )  # fmt: skip
    assert list(tmp_path.iterdir()) == []  # the tiles' files are gone
    whole = colocation.global_clq(
        lon, lat, sector, permutations=9, pairs="observed", also=[("10", "11")], **OPTIONS
    )
    related = colocation.sentra_related(
        lon, lat, sector, sentra, k=4, permutations=9, linkages=linkages, **OPTIONS
    )
    assert set(links.related["sentra_id"]) == {"S0", "S2", "S3", "S4"}
    pd.testing.assert_frame_equal(whole, table, rtol=1e-9)
    pd.testing.assert_frame_equal(related.related, links.related, rtol=1e-9)
    pd.testing.assert_frame_equal(related.missing, links.missing)


def test_sector_codes_are_the_sorted_sectors_and_need_every_sector():
    from klastergeo.errors import DataError

    rng = np.random.default_rng(4)
    text = rng.choice(["46", "10", "31", "16"], 3_000_000)  # more than a million: chunks
    given = pd.Categorical(text, categories=["99", "46", "31", "16", "10"])  # 99 unused
    codes, sectors = colocation.sector_codes(pd.Series(given))
    assert codes.dtype == np.int16 and sectors.tolist() == ["10", "16", "31", "46"]
    assert np.array_equal(sectors[codes], text)
    plain, names = colocation.sector_codes(text)
    assert np.array_equal(plain, codes) and names.equals(sectors)
    for missing in (pd.Categorical(["10", None, "16"]), np.array(["10", None], dtype=object)):
        with pytest.raises(DataError, match="1 labels are missing"):
            colocation.sector_codes(missing)


def test_the_store_gives_the_points_part_by_part_in_the_order_of_the_pointed_firms(
    tmp_path: Path,
):
    from types import SimpleNamespace

    from klastergeo.app.pipeline.colocation_tiles import store_chunks
    from klastergeo.io.registry.firms import FirmStore

    lon, lat, _, _ = tiled_firms.firms("market", seed=4)
    lon, lat = lon.copy(), lat.copy()
    lon[::7] = np.nan  # placed by their area: no point
    frame = pd.DataFrame({"lon": lon, "lat": lat})
    store = FirmStore(SimpleNamespace(memory=frame, parts=(), order=["lon", "lat"]))
    pointed = np.isfinite(lon)
    parts = list(store_chunks(store)())
    positions = np.concatenate([p for p, _, _ in parts])
    assert np.array_equal(positions, np.arange(pointed.sum()))
    assert np.array_equal(np.concatenate([x for _, x, _ in parts]), lon[pointed])
    spilled = SpilledTiling.write(store_chunks(store), tmp_path, firms=400)
    memory = tiles.GridTiling(lon[pointed], lat[pointed], firms=400)
    assert spilled.n == pointed.sum() and np.array_equal(spilled.boxes, memory.boxes)
    for t in range(len(memory.boxes)):
        assert np.array_equal(spilled.core(t).positions, memory.core(t).positions)


def test_the_sentra_alone_or_no_sentra():
    lon, lat, sector, sentra = tiled_firms.firms("lattice", seed=1)
    codes, names = colocation.sector_codes(sector)
    tiling = tiles.GridTiling(lon, lat, firms=300)
    alone = colocation.tiled_colocation(
        tiling, codes, names, sentra=tiled_firms.members(sentra), globally=False,
        permutations=9, **OPTIONS,
    )  # fmt: skip
    whole = colocation.sentra_related(lon, lat, sector, sentra, permutations=9, **OPTIONS)
    assert alone.table is None
    pd.testing.assert_frame_equal(whole.related, alone.links.related, rtol=1e-9)
    none = colocation.tiled_colocation(tiling, codes, names, permutations=0, **OPTIONS)
    assert none.links is None and "p_value" not in none.table
    pd.testing.assert_frame_equal(
        none.table, colocation.global_clq(lon, lat, sector, permutations=0, **OPTIONS), rtol=1e-9
    )
