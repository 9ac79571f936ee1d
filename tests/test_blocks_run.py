"""A run counts its firms block by block (``FirmStore.blocks``): its files are the same bytes
whatever the batch size the registry was validated in, and whether the blocks were counted
here or on the workers of a two-worker ``distributed.LocalCluster`` (``--scheduler``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from klastergeo.io.registry import firms as firm_store
from tests.worlds.cluster import local_cluster
from tests.worlds.lattice import lattice, quick_run

#: Files whose bytes hold the run's own times or options (the scheduler, the batch size).
VARYING = {"summary.json", "run.log"}


def _study(folder: Path) -> Path:
    """A 7 x 7 lattice of villages (EPSG:4326) and 2,400 firms: a planted cluster of
    weavers (13) in three neighbouring villages, the rest spread evenly, with workers,
    output (decimals, some not reported) and investment."""
    folder.mkdir()
    areas = lattice(7, 7)
    areas["kode"] = [f"99.{i:02d}" for i in range(len(areas))]
    areas.reset_index(drop=True).to_crs(4326).to_file(folder / "desa.gpkg")
    rng = np.random.default_rng(29)
    n_spread, n_cluster = 2_000, 400
    cells = np.concatenate([rng.integers(0, 49, n_spread), rng.choice([23, 24, 30], n_cluster)])
    row, col = cells // 7, cells % 7
    x = 400_000 + col * 1000 + rng.uniform(20, 980, len(cells))
    y = 9_100_000 + row * 1000 + rng.uniform(20, 980, len(cells))
    points = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=32749).to_crs(4326)
    sector = np.concatenate(
        [rng.choice(["10", "31", "47", "16"], n_spread), np.full(n_cluster, "13")]
    )
    output = np.round(rng.lognormal(3, 1, len(cells)), 2).astype(object)
    output[rng.random(len(cells)) < 0.1] = ""  # not reported: missing, not 0
    firms = pd.DataFrame(
        {
            "id": [f"F{i}" for i in range(len(cells))],
            "lat": points.y.round(6),
            "lon": points.x.round(6),
            "kbli": [f"{s}{rng.integers(100, 999)}" for s in sector],
            "workers": rng.integers(1, 30, len(cells)),
            "output": output,
            "investment": np.round(rng.lognormal(2, 1, len(cells)), 1),
        }
    ).sample(frac=1.0, random_state=3)  # the cluster's firms among the others
    firms.to_csv(folder / "firms.csv", index=False)
    return folder


def _run(study: Path, out: Path, batch: int, *options: str) -> Path:
    result = quick_run(
        study, out, "--timestamp", "2026-12-07T10:00:00", "--lang", "en",
        "--set", "map.max_firms=1000",  # a grid of counts, counted block by block
        *options, batch=batch,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _files(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in VARYING
    }


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _study(tmp_path_factory.mktemp("blocks") / "study")


@pytest.fixture()
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(firm_store, "BLOCK", 97)  # 25 blocks of the 2,400 firms


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local dask.distributed cluster of two worker processes, one thread each."""
    with local_cluster() as address:
        yield address


@pytest.mark.slow
@pytest.mark.usefixtures("small_blocks")
def test_any_batch_size_and_a_cluster_write_the_same_bytes(
    study: Path, tmp_path: Path, cluster: str
) -> None:
    here = _files(_run(study, tmp_path / "here", 150))
    assert any(name.startswith("firms") for name in here) and "areas.parquet" in here
    assert b'"cell":' in here["map.html"]  # the firms counted on a grid
    sentra = pd.read_csv(tmp_path / "here" / "sentra.csv", dtype=str)
    assert (sentra["sector"] == "13").any()  # the planted weavers are found
    for name, out in [
        ("batches of 1,000", _run(study, tmp_path / "wide", 1_000)),
        ("read whole", _run(study, tmp_path / "whole", 100_000)),
        ("a cluster", _run(study, tmp_path / "there", 150, "--scheduler", cluster)),
    ]:
        there = _files(out)
        assert sorted(there) == sorted(here), name
        differ = [f for f in here if here[f] != there[f]]
        assert differ == [], f"{name}: {differ}"


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_dask_threads_and_processes_count_what_one_process_counts(
    tmp_path: Path, scheduler: str
) -> None:
    from klastergeo.analysis.tally import CellTally
    from klastergeo.app.pipeline.counting import tally_block
    from klastergeo.app.pipeline.spread import over_blocks
    from tests.worlds.stores import parts_store

    store, firms = parts_store(tmp_path, n=5_000, sizes=[1_300, 1_700, 2_000])
    areas = sorted(firms["area_code"].unique())
    counted = {}
    for where in ("", scheduler):
        tally = CellTally(areas=areas, top=2)
        blocks = over_blocks(
            tally_block, store, scheduler=where, kwargs={"areas": areas, "top": 2}, size=333
        )
        for done in blocks:
            tally.merge(done)
        counted[where] = tally.counts(areas)
    assert counted[""]["n_firms"].sum() == len(firms)
    pd.testing.assert_frame_equal(counted[scheduler], counted[""], check_exact=True)


@pytest.mark.slow
def test_models_on_a_sample_write_the_same_bytes_for_any_batch_size(
    study: Path, tmp_path: Path
) -> None:
    """Above ``model.max_firms`` the models step reads the firms part by part (the sample
    drawn in one pass, each part's areas, sectors and sentra made from the part): the
    same files for batches of 150 and the registry read whole."""
    sampled = ("--set", "model.max_firms=500")
    here = _files(_run(study, tmp_path / "here", 150, *sampled))
    sample = pd.read_csv(tmp_path / "here" / "models" / "sample.csv")
    assert sample["n_sample"].sum() == pytest.approx(500, abs=20)
    assert sample["n_firms"].sum() == 2_400
    there = _files(_run(study, tmp_path / "whole", 100_000, *sampled))
    assert sorted(there) == sorted(here)
    assert [f for f in here if here[f] != there[f]] == []


@pytest.mark.slow
def test_point_patterns_measured_in_a_forked_process_are_those_measured_here(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above ``PATTERNS_BESIDE_FIRMS`` firms the point patterns are measured in a process
    forked from the run while co-location is measured: the same files as measured in the
    run's process, one after the other."""
    from klastergeo.app.pipeline import profiling

    measure = profiling._point_patterns
    where = tmp_path / "pid"

    def noted(*args, **kwargs):  # which process measured them
        where.write_text(str(os.getpid()))
        return measure(*args, **kwargs)

    monkeypatch.setattr(profiling, "_point_patterns", noted)
    monkeypatch.setattr(profiling, "PATTERNS_BESIDE_FIRMS", 10**9)
    here = _files(_run(study, tmp_path / "here", 150))
    assert where.read_text() == str(os.getpid())
    assert "clark_evans.csv" in here and "ripley.csv" in here
    monkeypatch.setattr(profiling, "PATTERNS_BESIDE_FIRMS", 0)
    there = _files(_run(study, tmp_path / "there", 150))
    if len(os.sched_getaffinity(0)) > 1:
        assert where.read_text() != str(os.getpid())
    assert sorted(there) == sorted(here)
    assert [f for f in here if here[f] != there[f]] == []
