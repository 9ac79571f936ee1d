"""The batch checks on Dask give exactly the verdicts of the single-machine path: the
same kept firms, rejections, repairs and per-(area, sector) counts, on Dask's threads,
its processes and a two-worker ``distributed.LocalCluster``; and a whole run with
``--scheduler tcp://...`` writes the same tables as one without."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
from typer.testing import CliRunner

from klastergeo.analysis import aggregate
from klastergeo.app.cli import app
from klastergeo.app.config import ReadOptions
from klastergeo.errors import ConfigError
from klastergeo.io.registry import batches, distributed
from tests.worlds.cluster import local_cluster
from tests.worlds.lattice import lattice, quick_run

N_RECORDS = 3_500
BATCH = 1_000  # four batches: the planted duplicates fall in different ones


def _areas() -> gpd.GeoDataFrame:
    """Four 0.1-degree squares near Klaten (EPSG:4326)."""
    boxes = [shapely.box(110.5 + 0.1 * i, -7.8, 110.6 + 0.1 * i, -7.7) for i in range(4)]
    codes = pd.Index([f"33.10.0{i}" for i in range(4)], name="area_code")
    return gpd.GeoDataFrame({"name": list("ABCD")}, geometry=boxes, index=codes, crs=4326)


def _registry(path: Path) -> Path:
    """A seeded registry of 3,500 records with planted problems: an exact duplicate row
    and a reused id, each in another batch than its first occurrence; a malformed line;
    swapped coordinates (repaired); points in the sea; empty coordinates; unknown KBLI
    codes; decimal commas throughout."""
    rng = np.random.default_rng(2024)
    n = N_RECORDS
    lat = rng.uniform(-7.8, -7.7, n)
    lon = rng.uniform(110.5, 110.9, n)
    frame = pd.DataFrame(
        {
            "id": [f"U{i:05d}" for i in range(n)],
            "lintang": np.round(lat, 5).astype(str),
            "bujur": np.round(lon, 5).astype(str),
            "kbli": rng.choice(["13134", "31001", "16221", "10792", "99999"], n),
            "tenaga_kerja": rng.integers(1, 20, n).astype(str),
            "omzet": np.round(rng.lognormal(3, 1, n), 2).astype(str),
        }
    )
    frame.loc[rng.random(n) < 0.02, "lintang"] = ""
    sea = rng.random(n) < 0.02
    frame.loc[sea, "lintang"] = "-6.5"
    swapped = [17, 1_234, 2_999]
    frame.loc[swapped, ["lintang", "bujur"]] = frame.loc[swapped, ["bujur", "lintang"]].to_numpy()
    frame.loc[2_500] = frame.loc[100]  # an exact duplicate, two batches later
    frame.loc[2_700, "id"] = frame.loc[200, "id"]  # a reused id, another record
    for name in ("lintang", "bujur", "omzet"):
        frame[name] = frame[name].str.replace(".", ",", regex=False)
    lines = frame.to_csv(index=False, sep=";").splitlines()
    lines.insert(1_500, "U99999;Rusak;-7,75;110,55;13134;2;3;lebih")  # one field too many
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _registry(tmp_path_factory.mktemp("registry") / "firms.csv")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local dask.distributed cluster of two worker processes, one thread each."""
    with local_cluster() as address:
        yield address


def _validate(
    path: Path, work: Path, scheduler: str
) -> tuple[batches.BatchValidation, pd.DataFrame]:
    areas = _areas()
    told: list[tuple[str, int, int]] = []
    outcome = batches.validate_in_batches(
        path,
        workdir=work,
        batch_size=BATCH,
        areas=areas,
        scheduler=scheduler,
        progress=lambda stage, done, total: told.append((stage, done, total)),
    )
    # progress in records checked, up to all of them, as batches finish in any order
    checked = [(done, total) for stage, done, total in told if stage == "check"]
    assert len(checked) == 4 and checked[-1] == (N_RECORDS, N_RECORDS)
    assert [done for done, _ in checked] == sorted(done for done, _ in checked)
    columns = outcome.read(["area_code", "sector", "workers", "output"])
    return outcome, aggregate.count_by_area(columns, areas.index)


@pytest.fixture(scope="module")
def sequential(
    registry: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[batches.BatchValidation, pd.DataFrame]:
    return _validate(registry, tmp_path_factory.mktemp("sequential") / "work", "")


def test_the_planted_problems_are_found(sequential) -> None:
    outcome, counts = sequential
    assert outcome.n_batches == 4 and outcome.n_read == N_RECORDS + 1
    reasons = outcome.rejected.set_index("row")["reason"]
    assert reasons[2_502] == "duplicate_record"  # record numbers: 1-based, line 1_500 extra
    assert reasons[2_702] == "duplicate_id"
    assert reasons[1_500] == "malformed_row"
    assert outcome.repaired["reason"].eq("swapped_coordinates").sum() >= len([17, 1_234, 2_999])
    assert counts["n_firms"].sum() == outcome.n_kept


@pytest.mark.slow
@pytest.mark.parametrize("where", ["threads", "processes", "cluster"])
def test_dask_gives_the_verdicts_of_one_machine(
    where: str, registry: Path, sequential, cluster: str, tmp_path: Path
) -> None:
    scheduler = cluster if where == "cluster" else where
    outcome, counts = _validate(registry, tmp_path / "work", scheduler)
    want, want_counts = sequential
    assert outcome.n_batches == want.n_batches == 4
    assert (outcome.n_read, outcome.n_kept) == (want.n_read, want.n_kept)
    assert [p.name for p in outcome.parts] == [p.name for p in want.parts]
    got, expected = outcome.report(), want.report()
    pd.testing.assert_frame_equal(got.records, expected.records)
    pd.testing.assert_frame_equal(outcome.rejected, want.rejected)
    pd.testing.assert_frame_equal(outcome.repaired, want.repaired)
    pd.testing.assert_frame_equal(counts, want_counts)
    assert got.summary() == expected.summary()


def test_a_worker_reads_its_own_batch(registry: Path, tmp_path: Path) -> None:
    """Random access by batch index gives the batches of the sequential reader."""
    opened = batches.open_registry(registry, workdir=tmp_path / "w", batch_size=BATCH)
    streamed = list(opened.source.batches(BATCH))
    assert opened.source.n_batches(BATCH) == len(streamed) == 4
    for i, batch in enumerate(streamed):
        alone = opened.source.batch(i, BATCH)
        pd.testing.assert_frame_equal(alone.frame, batch.frame)
        np.testing.assert_array_equal(alone.rows, batch.rows)


@pytest.mark.slow
def test_warnings_of_the_workers_reach_the_client_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The same warning from every batch is logged once, as on one machine."""
    path = tmp_path / "typed.parquet"
    rng = np.random.default_rng(5)
    pd.DataFrame(
        {
            "id": [f"T{i}" for i in range(300)],
            "lat": rng.uniform(-7.8, -7.7, 300),
            "lon": rng.uniform(110.5, 110.9, 300),
            "kbli": rng.choice([13134, 31001], 300),  # numbers: the leading-zero warning
        }
    ).to_parquet(path)
    with caplog.at_level(logging.WARNING, logger="klastergeo.io.registry.records"):
        batches.validate_in_batches(
            path, workdir=tmp_path / "w", batch_size=100, scheduler="processes"
        )
    said = [r.getMessage() for r in caplog.records if "KBLI codes as numbers" in r.getMessage()]
    assert len(said) == 1


def _cli_run(study: Path, out: Path, *options: str) -> object:
    return quick_run(study, out, *options)


@pytest.mark.slow
def test_a_whole_run_on_a_cluster_writes_the_same_tables(cluster: str, tmp_path: Path) -> None:
    study = tmp_path / "study"
    study.mkdir()
    areas = lattice(6, 6)
    areas["kode"] = [f"99.{i:02d}" for i in range(len(areas))]
    areas.reset_index(drop=True).to_crs(4326).to_file(study / "desa.gpkg")
    rng = np.random.default_rng(9)
    n = 700
    points = gpd.GeoSeries(
        gpd.points_from_xy(rng.uniform(400_010, 405_990, n), rng.uniform(9_100_010, 9_105_990, n)),
        crs=32749,
    ).to_crs(4326)
    firms = pd.DataFrame(
        {
            "id": [f"F{i}" for i in range(n)],
            "lat": points.y.round(6),
            "lon": points.x.round(6),
            "kbli": rng.choice(["10001", "31001", "13134"], n),
            "workers": rng.integers(1, 6, n),
        }
    )
    firms.loc[650] = firms.loc[3]  # a duplicate across batches of 150
    firms.to_csv(study / "firms.csv", index=False)
    here = _cli_run(study, tmp_path / "here")
    there = _cli_run(study, tmp_path / "there", "--scheduler", cluster)
    assert here.exit_code == 0, here.output
    assert there.exit_code == 0, there.output
    for name in ("rejected.csv", "repaired.csv", "sentra.csv", "concentration.csv"):
        want = pd.read_csv(tmp_path / "here" / name, dtype=str)
        got = pd.read_csv(tmp_path / "there" / name, dtype=str)
        pd.testing.assert_frame_equal(got, want)
    # the per-area counts, and the kept firms (a folder of parts)
    for name in ["areas.parquet", *sorted(p.name for p in (tmp_path / "here" / "firms").iterdir())]:
        where = "" if name == "areas.parquet" else "firms"
        want = pd.read_parquet(tmp_path / "here" / where / name)
        got = pd.read_parquet(tmp_path / "there" / where / name)
        pd.testing.assert_frame_equal(got, want)
    summary = json.loads((tmp_path / "there" / "summary.json").read_text())
    assert summary["config"]["records"]["scheduler"] == cluster


def test_without_dask_the_error_says_how_to_install_it(
    registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dask", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'klastergeo\[dask\]'"):
        batches.validate_in_batches(registry, workdir=tmp_path / "w", scheduler="processes")
    result = CliRunner().invoke(
        app, ["validate", "--records", str(registry), "--scheduler", "threads"]
    )
    assert result.exit_code == 2
    assert "klastergeo[dask]" in result.output


@pytest.mark.parametrize(
    "value", ["spark", "tcp://", "tcp://host", "tcp://host:0", "http://host:8786", "threads2"]
)
def test_a_bad_scheduler_is_refused(value: str, registry: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"records\.scheduler=.* is not a scheduler"):
        ReadOptions(scheduler=value)
    with pytest.raises(ConfigError, match="tcp://HOST:PORT"):
        batches.validate_in_batches(registry, workdir=tmp_path / "w", scheduler=value)
    result = CliRunner().invoke(app, ["validate", "--records", str(registry), "--scheduler", value])
    assert result.exit_code == 2 and "is not a scheduler" in result.output


@pytest.mark.parametrize(
    ("value", "kind"),
    [("", "none"), ("None", "none"), ("threads", "threads"), ("tcp://[::1]:8786", "tcp")],
)
def test_scheduler_values(value: str, kind: str) -> None:
    assert distributed.scheduler_kind(value) == kind


def test_an_unreachable_scheduler_is_named(
    registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ConfigError, match=r"no dask.distributed scheduler answers there"):
        batches.validate_in_batches(
            registry, workdir=tmp_path / "w", batch_size=BATCH, scheduler="tcp://127.0.0.1:9"
        )


def test_a_worker_that_cannot_see_the_work_folder_is_named(registry: Path, tmp_path: Path) -> None:
    opened = batches.open_registry(registry, workdir=tmp_path / "w", batch_size=BATCH)
    (tmp_path / "w" / "candidates").mkdir()

    class Blind:
        """A client whose one worker sees another filesystem."""

        def wait_for_workers(self, n: int, timeout: float) -> None:
            pass

        def run(self, function, *args):
            return {"tcp://10.0.0.7:40000": function(str(tmp_path / "elsewhere"), *args[1:])}

    with pytest.raises(ConfigError, match=r"1 of 1 worker\(s\) cannot use .*shares"):
        distributed._check_workers(Blind(), opened, "tcp://10.0.0.6:8786")
    problem = distributed._sees(str(tmp_path / "nowhere"), "x", str(registry), str(tmp_path))
    assert problem is not None and "cannot read the work folder" in problem


@pytest.mark.slow
def test_a_batch_with_every_record_rejected_on_a_cluster(
    registry: Path, cluster: str, tmp_path: Path
) -> None:
    """A whole batch outside the study area (a registry sorted by region): the kept
    firms' parts share one schema and read back as on one machine (issue 24)."""
    from klastergeo.io.registry.firms import FirmStore

    frame = pd.read_csv(registry, sep=";", dtype=str, skiprows=[1_500])
    frame.loc[1_000:1_999, "lintang"] = "-5,0"  # a batch of records far from the areas
    path = tmp_path / "sorted.csv"
    frame.to_csv(path, sep=";", index=False)
    areas = _areas()
    here = batches.validate_in_batches(path, workdir=tmp_path / "a", batch_size=BATCH, areas=areas)
    there = batches.validate_in_batches(
        path, workdir=tmp_path / "b", batch_size=BATCH, areas=areas, scheduler=cluster
    )
    wanted = ["area_code", "sector", "workers"]
    pd.testing.assert_frame_equal(
        FirmStore(there).columns(wanted, categorical=("area_code", "sector")),
        FirmStore(here).columns(wanted, categorical=("area_code", "sector")),
    )
    assert len({pq.read_schema(p).remove_metadata() for p in there.parts}) == 1


def test_a_registry_of_one_batch_is_checked_here_once_the_cluster_answers(
    cluster: str, tmp_path: Path
) -> None:
    """A registry read whole is one batch, checked on the client; the scheduler is
    reached first all the same (an address that leads nowhere fails, see
    test_an_unreachable_scheduler_is_named)."""
    path = tmp_path / "small.csv"
    small = pd.read_csv(_registry(tmp_path / "r.csv"), sep=";", dtype=str, nrows=50)
    small.to_csv(path, sep=";", index=False)
    distributed.reach(cluster)
    here = batches.validate_in_batches(path, workdir=tmp_path / "a", areas=_areas())
    there = batches.validate_in_batches(
        path, workdir=tmp_path / "b", areas=_areas(), scheduler=cluster
    )
    assert there.n_batches == here.n_batches == 1
    pd.testing.assert_frame_equal(there.report().records, here.report().records)


@pytest.mark.slow
@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "tcp://klastergeo.invalid:8786"])
def test_an_unreachable_scheduler_is_named_for_a_registry_of_one_batch(
    address: str, tmp_path: Path
) -> None:
    path = _registry(tmp_path / "r.csv")
    with pytest.raises(ConfigError, match=re.escape(f"records.scheduler={address!r}")):
        batches.validate_in_batches(path, workdir=tmp_path / "w", scheduler=address)
    with pytest.raises(ConfigError, match=r"no dask\.distributed scheduler answers there"):
        distributed.reach(address)
