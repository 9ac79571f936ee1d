"""Validation in batches gives the verdicts of the whole-file validation, whatever the
batch size: the reference is :func:`records.validate_records` on the file read whole."""

from __future__ import annotations

import multiprocessing
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from klastergeo.errors import ConfigError
from klastergeo.io.registry import batches, records, validation
from tests.worlds.records import random_registry

DATA = Path(__file__).parent / "data"


def _areas() -> gpd.GeoDataFrame:
    """Four 0.1-degree squares near Klaten (EPSG:4326)."""
    boxes = [shapely.box(110.5 + 0.1 * i, -7.8, 110.6 + 0.1 * i, -7.7) for i in range(4)]
    codes = pd.Index([f"33.10.0{i}" for i in range(4)], name="area_code")
    return gpd.GeoDataFrame({"name": list("ABCD")}, geometry=boxes, index=codes, crs=4326)


def _edge_registry(path: Path) -> Path:
    """Records built so that every cross-batch case falls on a boundary of batches of 4:
    row 4 repeated exactly at row 5 (next batch), id U02 reused at row 9, a swapped
    record at row 8 (last of batch 2), a malformed line, a missing id, decimal commas
    (the only evidence in row 11)."""
    lines = [
        "id;nama;lintang;bujur;kbli;tenaga_kerja;omzet",
        "U01;Satu;-7,75;110,55;13134;5;12",
        "U02;Dua;-7,72;110,65;31001;3;1.250",
        "U03;Tiga;-7,74;110,75;31001;2;7",
        "U04;Empat;-7,71;110,85;16221;4;9",
        "U04;Empat;-7,71;110,85;16221;4;9",
        "U06;Enam;-7,73;110,56;16221;1;3",
        "U07;Tujuh;-7,79;110,57;13134;2;3",
        "U08;Delapan;110,58;-7,76;13134;2;4",
        "U02;Dua lagi;-7,70;110,66;31001;2;5",
        "U10;Sepuluh;-7,77;110,59;13134;1;2;lebih",
        "U11;Sebelas;-7,75;110,61;1111;2;2,5",
        ";Tanpa id;-7,75;110,62;13134;2;2",
        "U13;Laut;-6,00;110,62;13134;2;2",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _same(outcome: batches.BatchValidation, whole: records.ValidationReport) -> None:
    """Same values (a text column may be object in one and string in the other: both
    write the same files, which are compared too)."""
    report = outcome.report()
    for got, want in [
        (report.records, whole.records),
        (report.rejected, whole.rejected),
        (report.repaired, whole.repaired),
    ]:
        pd.testing.assert_frame_equal(got, want, check_dtype=False, check_index_type=False)
        assert got.to_csv() == want.to_csv()
    assert report.n_read == whole.n_read
    assert report.number_formats == whole.number_formats
    assert report.summary() == whole.summary()


@pytest.mark.parametrize("batch_size", [1, 4, 1_000, 1_000_000])
def test_batch_edges_give_the_whole_file_verdicts(tmp_path: Path, batch_size: int) -> None:
    path = _edge_registry(tmp_path / "edge.csv")
    areas = _areas()
    whole = records.validate_records(records.read_records(path), areas=areas)
    outcome = batches.validate_in_batches(
        path, workdir=tmp_path / "work", batch_size=batch_size, areas=areas
    )
    _same(outcome, whole)
    # the planted cases, by construction of the file
    reasons = outcome.rejected.set_index("row")["reason"].to_dict()
    assert reasons == {
        5: "duplicate_record",
        9: "duplicate_id",
        10: "malformed_row",
        12: "missing_id",
        13: "outside_study_area",
    }
    # row 11's 1111 among five-digit codes of a text column that kept no zero: 01111
    assert outcome.repaired["reason"].tolist() == ["swapped_coordinates", "kbli_leading_zero"]
    assert outcome.number_formats["omzet"].decimal == ","
    assert outcome.n_batches == -(-12 // batch_size)  # 12 good rows


@pytest.mark.parametrize("batch_size", [3, 7, 1_000_000])
def test_bad_rows_file_in_batches(tmp_path: Path, batch_size: int) -> None:
    path = DATA / "registry_bad_rows.csv"
    whole = records.validate_records(records.read_records(path))
    outcome = batches.validate_in_batches(path, workdir=tmp_path / "w", batch_size=batch_size)
    _same(outcome, whole)
    # 19 records, 1 malformed line: one batch per batch_size good rows, or read whole
    assert outcome.n_batches == (1 if batch_size >= 18 else -(-18 // batch_size))
    assert outcome.n_read == 19 and outcome.n_kept + len(outcome.rejected) == 19


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_random_registries_in_batches(tmp_path: Path, fmt: str) -> None:
    rng = np.random.default_rng(7)
    frame = random_registry(rng, 600)
    path = tmp_path / f"random.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    areas = _areas()
    whole = records.validate_records(records.read_records(path), areas=areas)
    assert whole.by_reason["duplicate_record"] > 10 and whole.by_reason["duplicate_id"] > 10
    for size in (50, 1_000_000):
        work = tmp_path / f"w{size}"
        _same(batches.validate_in_batches(path, workdir=work, batch_size=size, areas=areas), whole)


def test_numeric_kbli_column_in_batches(tmp_path: Path) -> None:
    """A Parquet column of KBLI numbers: leading zeros put back batch by batch."""
    frame = pd.DataFrame(
        {
            "id": [f"F{i}" for i in range(9)],
            "lat": [-7.75] * 9,
            "lon": [110.55 + 0.01 * i for i in range(9)],
            "kbli": [13134, 1111, 31001, 16221, 1111, 13134, 47111, 1111, 10710],
        }
    )
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path, index=False)
    whole = records.validate_records(records.read_records(path))
    outcome = batches.validate_in_batches(path, workdir=tmp_path / "w", batch_size=2)
    _same(outcome, whole)
    assert outcome.sector_typed
    assert outcome.repaired["reason"].tolist() == ["kbli_leading_zero"] * 3


def test_hash_collisions_cost_a_comparison_not_a_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every key hashed alike: every usable row is a suspect, compared exactly."""
    path = _edge_registry(tmp_path / "edge.csv")
    whole = records.validate_records(records.read_records(path))
    monkeypatch.setattr(
        validation, "key_hashes", lambda checked, rows: np.zeros(int(rows.sum()), np.uint64)
    )
    outcome = batches.validate_in_batches(path, workdir=tmp_path / "w", batch_size=3)
    _same(outcome, whole)
    reasons = outcome.rejected.set_index("row")["reason"]
    assert reasons[5] == "duplicate_record" and reasons[9] == "duplicate_id"


def test_excel_and_gis_files_are_one_batch(tmp_path: Path) -> None:
    points = gpd.GeoDataFrame(
        {"id": ["a", "b", "b"], "kbli": ["13134", "31001", "31001"]},
        geometry=gpd.points_from_xy([110.55, 110.65, 110.65], [-7.75, -7.72, -7.72]),
        crs=4326,
    )
    path = tmp_path / "firms.gpkg"
    points.to_file(path)
    whole = records.validate_records(records.read_records(path))
    outcome = batches.validate_in_batches(path, workdir=tmp_path / "w", batch_size=1)
    assert outcome.n_batches == 1
    _same(outcome, whole)


def test_bad_options_and_busy_work_folder(tmp_path: Path) -> None:
    path = _edge_registry(tmp_path / "edge.csv")
    with pytest.raises(ConfigError, match="batch_size=0"):
        batches.validate_in_batches(path, workdir=tmp_path / "w", batch_size=0)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        batches.validate_in_batches(path, workdir=busy)
    assert (busy / "keep.txt").read_text() == "mine"


def test_counts_from_the_parts_equal_counts_from_the_firms(tmp_path: Path) -> None:
    """The counting step reads four columns of the parts instead of the whole firms: the
    same rows in the same order, so exactly the same sums."""
    from klastergeo.analysis import aggregate

    rng = np.random.default_rng(12)
    frame = random_registry(rng, 900)
    frame["omzet"] = np.round(rng.lognormal(3, 1, len(frame)), 3).astype(str)
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    areas = _areas()
    outcome = batches.validate_in_batches(path, workdir=tmp_path / "w", batch_size=64, areas=areas)
    columns = outcome.read(["area_code", "sector", "workers", "output"])
    assert len(columns) == outcome.n_kept
    pd.testing.assert_frame_equal(
        aggregate.count_by_area(columns, areas.index),
        aggregate.count_by_area(outcome.report().records, areas.index),
    )


@pytest.mark.parametrize(("group", "size"), [(7, 5), (5, 5), (3, 10), (50, 4), (7, 1000)])
def test_parquet_batches_are_the_file_in_order(tmp_path: Path, group: int, size: int) -> None:
    """Batches of ``size`` rows read row group by row group (groups of ``group`` rows)
    are the batches pyarrow's own iterator gives: same boundaries, same rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from klastergeo.io.registry.batches import parquet_batches

    table = pa.table({"id": [f"r{k}" for k in range(23)], "x": [str(k * k) for k in range(23)]})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=group)
    mine = list(parquet_batches(tmp_path / "t.parquet", size))
    theirs = list(pq.ParquetFile(tmp_path / "t.parquet").iter_batches(batch_size=size))
    assert [len(b) for b in mine] == [len(b) for b in theirs]
    assert pa.concat_tables(mine).equals(table)
    only = list(parquet_batches(tmp_path / "t.parquet", size, columns=["x"]))
    assert only[0].column_names == ["x"]


@pytest.mark.parametrize("batch_size", [1, 4])
def test_batches_of_rejected_records_leave_parts_of_one_schema(
    tmp_path: Path, batch_size: int
) -> None:
    """Whole batches of records outside the areas (a registry sorted by region, run for
    a sub-area), their names empty: the parts of the batches that keep nothing have the
    columns of the others (not Arrow's null type), so the kept firms read back by column
    and as categories, as the counts read them (issue 24: ArrowNotImplementedError)."""
    import pyarrow.parquet as pq

    from klastergeo.io.registry.firms import FirmStore

    lines = ["id,nama,lintang,bujur,kbli"]
    lines += [f"L{i},,-6.{i},110.55,13134" for i in range(4)]  # in the sea: rejected
    lines += [f"K{i},Toko {i},-7.75,110.{55 + i},31001" for i in range(4)]
    lines += [f"S{i},,-6.{i},110.65,13134" for i in range(8)]  # in the sea: rejected
    path = tmp_path / "sorted.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    areas = _areas()
    outcome = batches.validate_in_batches(
        path, workdir=tmp_path / "work", batch_size=batch_size, areas=areas
    )
    sizes = [pq.ParquetFile(p).metadata.num_rows for p in outcome.parts]
    assert sizes.count(0) >= 3 and sum(sizes) == 4  # first, middle, last batches empty
    assert len({pq.read_schema(p).remove_metadata() for p in outcome.parts}) == 1
    columns = FirmStore(outcome).columns(
        ["area_code", "sector", "name"], categorical=("area_code", "sector", "name")
    )
    whole = records.validate_records(records.read_records(path), areas=areas).records
    assert columns["area_code"].astype(str).tolist() == whole["area_code"].astype(str).tolist()
    assert columns["name"].astype(str).tolist() == whole["name"].astype(str).tolist()


class _CountedPool(ProcessPoolExecutor):
    """The local check pool, counted: a test of the pool must see it started."""

    started = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        type(self).started += 1
        super().__init__(*args, **kwargs)


@pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2 or "fork" not in multiprocessing.get_all_start_methods(),
    reason="the local pool needs two cores and fork",
)
def test_one_or_two_local_workers_write_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``records.workers``: the batches checked by a pool of two forked processes or here,
    one after another, give the same kept firms' files byte for byte and the same
    verdicts. Python 3.12 warns (DeprecationWarning, an error under pytest) when a process
    with threads forks: the warning is planted on every fork here, as 3.12 raises it, and
    must not stop the pool."""
    from klastergeo.io.registry import distributed

    rng = np.random.default_rng(29)
    frame = random_registry(rng, 700)
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    areas = _areas()
    fork = os.fork

    def warning_fork() -> int:
        pid = fork()
        if pid:  # the parent warns, as Python 3.12 does
            warnings.warn(
                f"This process (pid={os.getpid()}) is multi-threaded, use of fork() may lead "
                "to deadlocks in the child.",
                DeprecationWarning,
                stacklevel=2,
            )
        return pid

    monkeypatch.setattr(distributed, "ProcessPoolExecutor", _CountedPool)
    monkeypatch.setattr(os, "fork", warning_fork)
    outcomes = {
        workers: batches.validate_in_batches(
            path, workdir=tmp_path / f"w{workers}", batch_size=64, areas=areas, workers=workers
        )
        for workers in (1, 2)
    }
    assert _CountedPool.started == 1  # workers=2 ran the pool, workers=1 did not
    one, two = outcomes[1], outcomes[2]
    assert one.n_batches == two.n_batches == 11
    assert [p.name for p in one.parts] == [p.name for p in two.parts]
    for mine, theirs in zip(one.parts, two.parts, strict=True):
        assert mine.read_bytes() == theirs.read_bytes()
    pd.testing.assert_frame_equal(one.rejected, two.rejected)
    pd.testing.assert_frame_equal(one.repaired, two.repaired)
    assert one.report().summary() == two.report().summary()
    with pytest.raises(ConfigError, match="workers=0"):
        batches.validate_in_batches(path, workdir=tmp_path / "w0", batch_size=64, workers=0)
