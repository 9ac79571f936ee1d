"""Sentra on a registry the demo generator did not make (``tests/worlds/sentra.py``):
Jawa Timur's real villages, sentra of many small kelurahan, dispersed, across a regency
border, along a road, twins in two regencies, a hub, and two decoys. Planted truth from
the generator; three seeds (places and counts)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from klastergeo.analysis import sentra, weights
from klastergeo.io import boundaries
from tests.worlds import places
from tests.worlds import sentra as sentra_world

SEEDS = (1, 2, 3)


@pytest.fixture(scope="module", params=SEEDS)
def outcome(request, east_java_villages) -> tuple:
    areas, graph = east_java_villages
    world = sentra_world.generate(areas, graph, request.param)
    table = sentra_world.table(world)
    found, members = sentra.delineate(table, graph, areas)
    return world, table, found, members


def _best(found: pd.DataFrame, sector: str, codes: tuple[str, ...]) -> set[str]:
    """The planted villages of the sentra of ``sector`` that holds most of them."""
    best: set[str] = set()
    for area_codes in found.loc[found["sector"] == sector, "area_codes"]:
        overlap = set(area_codes.split(";")) & set(codes)
        best = overlap if len(overlap) > len(best) else best
    return best


def test_every_planted_shape_is_found(outcome) -> None:
    """Each planted sentra is one reported sentra of its sector holding all its villages."""
    world, _, found, _ = outcome
    for name, (sector, codes) in world.planted.items():
        assert _best(found, sector, codes) == set(codes), name


def test_every_reported_sentra_is_a_planted_one(outcome) -> None:
    """Precision: every sentra shares villages and sector with a planted one (the issue
    asks for at least 95 %), and at least 90 % of member villages are planted ones."""
    world, _, found, members = outcome
    planted = [(s, set(c)) for s, c in world.planted.values()]
    matched = [
        any(row.sector == s and set(row.area_codes.split(";")) & c for s, c in planted)
        for row in found.itertuples()
    ]
    assert np.mean(matched) >= 0.95, found.loc[~np.array(matched), ["name", "area_codes"]]
    truth = {(code, s) for s, codes in planted for code in codes}
    rows = set(members.index)
    assert len(rows & truth) / len(rows) >= 0.9


def test_decoys_have_no_sentra_and_are_quiet(outcome) -> None:
    """A dense mixed city and an industrial estate with every sector dense: no sentra
    area, at most 2 % of their area x sector cells hot on the specialisation statistic,
    while raw-count Gi* (density) is hot in most of them."""
    world, table, _, members = outcome
    decoy = [c for codes in world.decoys.values() for c in codes]
    assert not members.index.get_level_values("area_code").isin(decoy).any()
    cells = table.loc[table.index.get_level_values("area_code").isin(decoy)]
    assert (cells["spec_bin"] >= 1).mean() <= 0.02
    assert (cells["gi_bin"] >= 2).mean() > 0.5


def test_the_same_sentra_whatever_the_analysis_seed(east_java_villages) -> None:
    """The specialisation statistic is exact: the sentra do not depend on the seed of
    the permutations (which Gi* and LISA use)."""
    areas, graph = east_java_villages
    world = sentra_world.generate(areas, graph, 1)
    first = sentra.delineate(sentra_world.table(world, seed=0), graph, areas)[0]
    again = sentra.delineate(sentra_world.table(world, seed=99), graph, areas)[0]
    pd.testing.assert_frame_equal(first.drop(columns="geometry"), again.drop(columns="geometry"))


def _kecamatan_table(world, regency: str, kecamatan, graph) -> pd.DataFrame:
    codes = world.counts.index
    inside = world.counts.loc[codes.str.startswith(regency + ".")]
    by_kec = inside.groupby(inside.index.str[:8]).sum().reindex(kecamatan.index, fill_value=0)
    view = sentra_world.World(kecamatan, graph, by_kec, world.planted, world.decoys)
    return sentra_world.table(view)


@pytest.mark.parametrize("seed", SEEDS)
def test_kecamatan_level_in_one_regency(data_dir: Path, east_java_villages, seed: int) -> None:
    """At kecamatan level, one regency at a time (Kota Malang has 5 kecamatan: the LQ
    test decides; Kabupaten Malang 33: the specialisation statistic): every planted
    sentra whose kecamatan has LQ >= 2 and >= 50 firms of the sector is found there."""
    areas, graph = east_java_villages
    world = sentra_world.generate(areas, graph, seed)
    checked = 0
    for regency in ("35.73", "35.07", "35.14", "35.09", "35.25", "35.15"):
        kecamatan = boundaries.load_areas("kecamatan", area=regency, source=data_dir)
        kec_graph = weights.contiguity(kecamatan)
        table = _kecamatan_table(world, regency, kecamatan, kec_graph)
        _, members = sentra.delineate(table, kec_graph, kecamatan)
        for name, (sector, codes) in world.planted.items():
            for kec in {c[:8] for c in codes if c.startswith(regency + ".")}:
                row = table.loc[(kec, sector)]
                if row["lq"] >= 2 and row["n_firms"] >= 50:
                    checked += 1
                    assert (kec, sector) in members.index, (name, kec, row["lq"], row["n_firms"])
    assert checked >= 3  # the rule is exercised, not vacuous


@pytest.mark.slow
def test_the_whole_pipeline_finds_them_from_a_registry(east_java_villages, tmp_path: Path) -> None:
    """The same world as firms with coordinates (inside their villages), through
    ``klastergeo run --area 35 --level desa``: every planted sentra is a reported one,
    every reported one is planted, no decoy village is in a sentra."""
    from typer.testing import CliRunner

    from klastergeo.app.cli import app

    areas, graph = east_java_villages
    world = sentra_world.generate(areas, graph, 2)
    long = world.counts.stack()
    long = long[long > 0]
    owner = np.repeat(areas.index.get_indexer(long.index.get_level_values(0)), long.to_numpy())
    sector = np.repeat(long.index.get_level_values(1).to_numpy(), long.to_numpy())
    x, y = places.points_in(areas, owner, np.random.default_rng(2))
    registry = pd.DataFrame(
        {
            "id": [f"J{i}" for i in range(len(owner))],
            "lat": np.round(y, 6),
            "lon": np.round(x, 6),
            "kbli": [f"{s}001" for s in sector],
            "workers": 1 + np.arange(len(owner)) % 7,
        }
    )
    registry.to_csv(tmp_path / "jatim.csv", index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--records",
            str(tmp_path / "jatim.csv"),
            "--area",
            "35",
            "--level",
            "desa",
            "--out",
            str(out),
            "--permutations",
            "99",
            "--tiles",
            "none",
            "--set",
            "report.figures=none",
            "--set",
            "pointpattern.enabled=false",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    found = pd.read_csv(out / "sentra.csv", dtype={"sector": str})
    for name, (sector_code, codes) in world.planted.items():
        # a point inside one village may fall to an overlapping neighbour (real borders)
        assert len(_best(found, sector_code, codes)) >= len(codes) - 1, name
    planted = [(s, set(c)) for s, c in world.planted.values()]
    assert all(
        any(row.sector == s and set(row.area_codes.split(";")) & c for s, c in planted)
        for row in found.itertuples()
    ), found[["sector", "name", "area_codes"]]
    members = pd.read_csv(out / "sentra_areas.csv", dtype=str)
    decoy = {c for codes in world.decoys.values() for c in codes}
    assert not set(members["area_code"]) & decoy
