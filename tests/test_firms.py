"""The firms after validation: read back from their store (parts on disk or one frame in
memory), written as GeoParquet by province, and sampled for the models. The reference
is the whole-file validation report (:meth:`BatchValidation.report`)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

from klastergeo.app.pipeline import firm_output
from klastergeo.app.pipeline.probabilities import stratified_sample
from klastergeo.io.registry import batches
from klastergeo.io.registry.firms import FirmStore
from tests.worlds.lattice import custom_study, lattice_args
from tests.worlds.records import random_registry


def _two_provinces() -> gpd.GeoDataFrame:
    """Four 0.1-degree squares near Klaten, two in province 33 and two in 34."""
    boxes = [shapely.box(110.5 + 0.1 * i, -7.8, 110.6 + 0.1 * i, -7.7) for i in range(4)]
    codes = pd.Index(["33.10.01", "33.10.02", "34.04.01", "34.04.02"], name="area_code")
    return gpd.GeoDataFrame({"name": list("ABCD")}, geometry=boxes, index=codes, crs=4326)


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> dict[int, batches.BatchValidation]:
    """One random registry of 700 records validated in parts of 64 and read whole."""
    folder = tmp_path_factory.mktemp("store")
    rng = np.random.default_rng(5)
    frame = random_registry(rng, 700)
    path = folder / "r.csv"
    frame.to_csv(path, index=False)
    return {
        size: batches.validate_in_batches(
            path, workdir=folder / f"w{size}", batch_size=size, areas=_two_provinces()
        )
        for size in (64, 1_000_000)
    }


def test_the_store_reads_what_the_report_holds(validated) -> None:
    """Columns (text as categories), whole firms at positions and the parts: the same
    firms in the same order as the whole-file report, from parts or from memory."""
    for size, outcome in validated.items():
        store = FirmStore(outcome)
        whole = outcome.report().records
        assert len(store) == len(whole) == outcome.n_kept
        assert (size == 64) == (outcome.memory is None)
        columns = store.columns(["area_code", "sector", "workers"], categorical=["sector"])
        assert isinstance(columns["sector"].dtype, pd.CategoricalDtype)
        assert columns.index.equals(pd.RangeIndex(len(whole)))
        assert columns["sector"].astype(str).tolist() == whole["sector"].astype(str).tolist()
        np.testing.assert_array_equal(columns["workers"], whole["workers"])
        positions = np.array([len(whole) - 1, 0, 65, 64, 63, 200])
        picked = store.frame(positions)
        expected = whole.iloc[np.sort(positions)]
        pd.testing.assert_frame_equal(picked, expected, check_dtype=False)
        assert picked.crs == whole.crs
        starts = [start for start, _ in store.parts()]
        assert starts == list(np.concatenate([[0], np.cumsum(store.sizes)[:-1]]))
        found = store.positions_where("area_code", ["34.04.02"])
        np.testing.assert_array_equal(found, np.flatnonzero(whole["area_code"] == "34.04.02"))
        assert store.columns(["no such column"]).shape == (len(whole), 0)


def test_the_firms_output_is_geoparquet_by_province(
    validated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One file per province, row groups of ROW_GROUP firms, registry order within a
    province; read back (in file order) it is the report's firms plus the run's
    columns, points in EPSG:4326; the same bytes for any batch size."""
    monkeypatch.setattr(firm_output, "ROW_GROUP", 50)
    written = {}
    for size, outcome in validated.items():
        store = FirmStore(outcome)
        whole = outcome.report().records
        added = pd.DataFrame(
            {
                "sentra_id": pd.Categorical(
                    np.where(np.arange(len(whole)) % 7 == 0, "31-01", None)
                ),
                "in_sentra": (np.arange(len(whole)) % 7 == 0).astype(np.int64),
                "p_logit": np.linspace(0, 1, len(whole)),
            }
        )
        out = tmp_path / str(size)
        out.mkdir()
        seen: list[tuple[int, int]] = []
        firm_output.write_firms(out, store, added, progress=lambda d, t, s=seen: s.append((d, t)))
        assert seen[-1] == (len(whole), len(whole))
        files = sorted(p.relative_to(out).as_posix() for p in (out / "firms").rglob("*.parquet"))
        assert files == ["firms/province=33/part-0.parquet", "firms/province=34/part-0.parquet"]
        for file in files:
            meta = pq.ParquetFile(out / file).metadata
            sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
            assert all(n == 50 for n in sizes[:-1]) and 0 < sizes[-1] <= 50
            assert b"geo" in meta.metadata
        province = gpd.read_parquet(out / files[0])
        assert province["row"].is_monotonic_increasing
        back = firm_output.read_firms(out)
        assert back.crs.to_epsg() == 4326 and back.index.name == "record_id"
        expected = whole.assign(**{c: added[c].to_numpy() for c in added})
        pd.testing.assert_frame_equal(
            pd.DataFrame(back[expected.columns].drop(columns="geometry")),
            pd.DataFrame(expected.drop(columns="geometry")),
            check_dtype=False,
            check_categorical=False,
        )
        assert back.geometry.geom_equals(expected.geometry).all()
        written[size] = [(out / f).read_bytes() for f in files]
    assert written[64] == written[1_000_000]


def test_point_wkb_is_what_shapely_writes() -> None:
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(95, 141, 500), rng.uniform(-11, 6, 500)
    ours = firm_output.point_wkb(lon, lat).to_pylist()
    assert ours == shapely.to_wkb(shapely.points(lon, lat), byte_order=1).tolist()


def test_stratified_sample_is_proportional_seeded_and_in_file_order() -> None:
    """Every (sector, outcome) stratum gives the same fraction of its firms (at least
    one); the draw is fixed by the seed; positions are sorted and distinct."""
    rng = np.random.default_rng(3)
    n = 20_000
    sector = pd.Series(
        pd.Categorical(rng.choice(["10", "13", "31", "47"], n, p=[0.5, 0.3, 0.19, 0.01]))
    )
    outcome = pd.Series((rng.random(n) < 0.1).astype(float))
    outcome[:5] = np.nan
    sample = stratified_sample(sector, outcome, size=2_000, seed=7)
    again = stratified_sample(sector, outcome, size=2_000, seed=7)
    other = stratified_sample(sector, outcome, size=2_000, seed=8)
    np.testing.assert_array_equal(sample.positions, again.positions)
    assert not np.array_equal(sample.positions, other.positions)
    assert np.all(np.diff(sample.positions) > 0)
    strata = sample.strata
    assert strata["n_firms"].sum() == n
    assert strata["n_sample"].sum() == len(sample.positions)
    assert abs(len(sample.positions) - 2_000) <= len(strata)
    assert (strata["n_sample"] >= 1).all()
    np.testing.assert_allclose(strata["n_sample"], np.maximum(1, np.round(strata["n_firms"] / 10)))
    np.testing.assert_allclose(strata["weight"], strata["n_firms"] / strata["n_sample"])
    # the strata as counted from the sampled firms themselves
    drawn = pd.DataFrame(
        {
            "sector": sector.iloc[sample.positions].astype(str),
            "y": outcome.iloc[sample.positions].fillna(-1),
        }
    )
    counted = drawn.groupby(["sector", "y"]).size()
    for row in strata.fillna({"outcome": -1}).itertuples():
        assert counted.loc[(row.sector, row.outcome)] == row.n_sample


@pytest.mark.slow
def test_a_run_gives_the_same_outputs_for_batch_sizes_1000_and_1000000(tmp_path: Path) -> None:
    """A registry of about 1,600 records, with a duplicate row and a duplicate id in
    different batches, run whole (one batch) and in batches of 1,000: every output file
    is the same, with the models estimated on a stratified sample in both."""
    from typer.testing import CliRunner

    from klastergeo.app.cli import app

    registry = custom_study(
        tmp_path, (12, 12), {"r4c4": 45, "r4c5": 30}, background={"10": 7, "31": 3}, seed=4
    )
    registry["output"] = np.round(np.random.default_rng(9).lognormal(2, 1, len(registry)), 2)
    duplicated = pd.concat([registry, registry.iloc[[3]]])  # the same row near the end
    duplicated.iloc[-2, duplicated.columns.get_loc("id")] = registry["id"].iloc[10]
    assert len(duplicated) > 1_000
    duplicated.to_csv(tmp_path / "firms.csv", index=False)
    outs = {}
    for size in ("1000", "1000000"):
        out = tmp_path / f"out{size}"
        result = CliRunner().invoke(
            app,
            lattice_args(
                "run",
                tmp_path,
                out,
                "--permutations",
                "99",
                "--tiles",
                "none",
                "--batch-size",
                size,
                "--set",
                "model.max_firms=500",
            ),
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        outs[size] = out
    small, large = outs["1000"], outs["1000000"]
    rejected = pd.read_csv(small / "rejected.csv")
    assert set(rejected["reason"]) == {"duplicate_record", "duplicate_id"}
    sample = pd.read_csv(small / "models" / "sample.csv")
    assert sample["n_sample"].sum() == pytest.approx(500, abs=len(sample))
    names = sorted(
        p.relative_to(small).as_posix()
        for p in small.rglob("*")
        if p.suffix in (".csv", ".parquet", ".geojson") and "figures" not in p.parts
    )
    assert "firms/province=99/part-0.parquet" not in names  # custom ids: one file
    assert "firms/part-0.parquet" in names and "areas.parquet" in names
    for name in names:
        assert (small / name).read_bytes() == (large / name).read_bytes(), name


def test_point_patterns_of_the_largest_sentra_only() -> None:
    """Above ``pointpattern.max_sentra`` only the largest sentra (by firms) keep their
    point patterns, in their own order, and the run notes how many have none."""
    from klastergeo.app.config import RunConfig
    from klastergeo.app.pipeline._steps import Notes
    from klastergeo.app.pipeline.profiling import _largest

    sentra = gpd.GeoDataFrame(
        {"n_firms": [30, 90, 20, 90, 55]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(5)],
        index=pd.Index(["10-01", "10-02", "13-01", "31-01", "31-02"], name="sentra_id"),
        crs=4326,
    )
    notes = Notes()
    config = RunConfig().with_overrides({"pointpattern.max_sentra": 3})
    kept = _largest(config, sentra, notes)
    assert kept.index.tolist() == ["10-02", "31-01", "31-02"]
    assert "3 largest of 5" in notes.items[0]["why"]
    everything = RunConfig().with_overrides({"pointpattern.max_sentra": 5})
    assert _largest(everything, sentra, Notes()).index.tolist() == sentra.index.tolist()


def test_sector_patterns_of_a_seeded_thinning() -> None:
    """Above ``pointpattern.max_firms`` the sector patterns get a seeded uniform
    thinning: the cap's number of distinct firms in file order, the same for a seed."""
    from klastergeo.app.config import RunConfig
    from klastergeo.app.pipeline._steps import Notes
    from klastergeo.app.pipeline.profiling import _thinned

    rng = np.random.default_rng(2)
    firms = pd.DataFrame({"lon": rng.uniform(110, 111, 5_000), "sector": "31"})
    config = RunConfig().with_overrides({"pointpattern.max_firms": 1_000})
    notes = Notes()
    thin = _thinned(config, firms, notes)
    assert len(thin) == 1_000 and thin.index.is_monotonic_increasing and thin.index.is_unique
    assert thin.index.equals(_thinned(config, firms, Notes()).index)
    assert "1,000 of the 5,000" in notes.items[0]["why"]
    # a thinning is uniform: the kept share is about the same in each half of the file
    assert abs((thin.index < 2_500).mean() - 0.5) < 0.05
    assert _thinned(RunConfig(), firms, Notes()) is firms


def test_a_column_of_nulls_goes_into_the_geopackage(tmp_path) -> None:
    """A registry column empty in every row has Arrow's null type, which OGR has no
    field type for: firms.gpkg writes it as an empty text field."""
    import numpy as np
    import pyarrow as pa
    import pyogrio

    from klastergeo.app.pipeline import firm_output

    lon, lat = np.array([110.1, 110.2]), np.array([-7.1, -7.2])
    table = pa.table(
        {
            "record_id": ["a", "b"],
            "note": pa.nulls(2),
            "lon": lon,
            "lat": lat,
            "geometry": firm_output.point_wkb(lon, lat),
        }
    )
    path = tmp_path / "firms.gpkg"
    firm_output._append_gpkg(path, table, first=True)
    firm_output._append_gpkg(path, table, first=False)  # a second part appends
    layer = pyogrio.read_dataframe(path, layer="firms")
    assert layer["record_id"].tolist() == ["a", "b", "a", "b"]
    assert layer["note"].isna().all() and "lon" not in layer.columns
    assert np.allclose(layer.geometry.x, [110.1, 110.2, 110.1, 110.2])


def test_a_province_of_a_block_holds_its_rows_only():
    """A province's rows of a block wait in its buffer until a row group is full: they
    must not keep the whole block alive (a slice would: 26.7 M firms peaked at 9.2 GB)."""
    n = 10_000
    keys = np.where(np.arange(n) % 100 == 0, "33", "34")
    table = pa.table({"row": np.arange(n), "name": [f"firm {i:05d}" for i in range(n)]})
    got = dict(firm_output._by_province(table, pa.array(keys)))
    assert list(got) == ["33", "34"]
    assert got["33"]["row"].to_pylist() == list(range(0, n, 100))  # file order kept
    assert got["34"].num_rows == n - n // 100
    assert got["33"].get_total_buffer_size() < table.get_total_buffer_size() / 20


def _many_blocks(
    validated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int, name: str
) -> tuple[Path, list[tuple[int, int]]]:
    """The firms of the registry validated in parts of 64, written in blocks of 100
    (seven) and row groups of 50 with ``threads`` writing threads."""
    from klastergeo.io.registry import firms as firm_store

    monkeypatch.setattr(firm_output, "ROW_GROUP", 50)
    monkeypatch.setattr(firm_store, "BLOCK", 100)
    store = FirmStore(validated[64])
    n = len(store)
    added = pd.DataFrame(
        {"sentra_id": pd.Categorical(np.where(np.arange(n) % 5 == 0, "31-01", None))}
    )
    out = tmp_path / name
    out.mkdir()
    seen: list[tuple[int, int]] = []
    firm_output.write_firms(
        out, store, added, progress=lambda d, t: seen.append((d, t)), threads=threads
    )
    return out, seen


def test_writing_threads_give_the_same_bytes_as_writing_here(
    validated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files are written on threads while the next block is completed: the same
    bytes as written here between the blocks (0 threads), for 1, 2 and 3 threads; the
    threads did write them; the progress counts every firm once, in order."""
    import threading

    where: list[str] = []
    add = firm_output._Province.add

    def noted(self: object, table: pa.Table) -> None:
        where.append(threading.current_thread().name)
        add(self, table)  # type: ignore[arg-type]

    monkeypatch.setattr(firm_output._Province, "add", noted)
    files = {}
    for threads in (0, 1, 2, 3):
        where.clear()
        out, seen = _many_blocks(validated, tmp_path, monkeypatch, threads, f"t{threads}")
        n = seen[-1][1]
        assert [d for d, _ in seen] == [*range(100, n, 100), n]
        assert (set(where) == {"MainThread"}) == (threads == 0)
        files[threads] = {
            p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.parquet"))
        }
    assert len(files[0]) == 2 and sum(pq.read_metadata(out / f).num_rows for f in files[3]) == n
    assert files[0] == files[1] == files[2] == files[3]


def test_an_error_of_a_writing_thread_is_raised_with_its_class(
    validated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk met by a writing thread is the run's ``OSError`` naming the folder,
    raised once every file is closed; a bug there stays its own class."""
    import errno
    import threading

    add = firm_output._Province.add
    calls: list[int] = []

    def failing(error: Exception):
        def add_or_fail(self: object, table: pa.Table) -> None:
            calls.append(1)
            if len(calls) == 5 and threading.current_thread().name != "MainThread":
                raise error
            add(self, table)  # type: ignore[arg-type]

        return add_or_fail

    closed: list[bool] = []
    close = firm_output._Province.close

    def noted_close(self: firm_output._Province, *, rest: bool = True) -> None:
        close(self, rest=rest)
        closed.append(not self.writer.is_open)

    monkeypatch.setattr(firm_output._Province, "close", noted_close)
    for error, kind in (
        (OSError(errno.ENOSPC, "No space left on device"), OSError),
        (ValueError("a bug"), ValueError),
    ):
        calls.clear()
        closed.clear()
        monkeypatch.setattr(firm_output._Province, "add", failing(error))
        with pytest.raises(kind) as raised:
            _many_blocks(validated, tmp_path, monkeypatch, 2, f"{kind.__name__}")
        assert raised.value.args[-1] == error.args[-1]
        if kind is OSError:
            assert raised.value.errno == errno.ENOSPC
            assert raised.value.filename == str(tmp_path / "OSError" / "firms")
        assert closed == [True, True]  # both provinces' files, none left open


def test_a_full_disk_met_by_a_writing_thread_leaves_no_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose firms' file meets a full disk on a writing thread stops with the
    full-disk exit (2) and message, and leaves no output folder."""
    import errno
    import threading

    from typer.testing import CliRunner

    from klastergeo.app.cli import app

    registry = custom_study(tmp_path, (6, 6), {"r2c2": 30}, background={"10": 3}, seed=2)
    registry.to_csv(tmp_path / "firms.csv", index=False)
    threads: list[str] = []

    def full(self: firm_output._Province, table: pa.Table) -> None:
        threads.append(threading.current_thread().name)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(firm_output._Province, "add", full)
    out = tmp_path / "out"
    arguments = ["--permutations", "99", "--tiles", "none", "--batch-size", "100", "--lang", "en"]
    result = CliRunner().invoke(
        app, lattice_args("run", tmp_path, out, *arguments), catch_exceptions=False
    )
    assert threads and "MainThread" not in threads
    assert result.exit_code == 2, result.output
    assert "free some disk space" in result.output
    assert str(out / "firms") in result.output.replace("\n", "")
    assert not out.exists()
