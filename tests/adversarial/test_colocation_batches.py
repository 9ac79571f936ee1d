"""Issue 24, the adversarial cases of co-location, batches, schedulers and linkage
tables: each asserts the exit code (never 1) and the message (naming the file, key or
value) or the correct result.

- a batch in which every record is rejected (first, last, middle, every batch but one;
  CSV, Parquet and Parquet of dictionary columns; here and on Dask) gives the results of
  the file read whole;
- many sectors (every firm its own 5-digit code) write a small ``colocation.csv`` and
  say in ``summary.json`` how many pairs were computed and written;
- firms sharing one coordinate (a market building) are handled per place;
- running out of memory names the step and what to do there, never "damaged";
- an empty or malformed ``--linkage-table`` is an exit-2 error naming
  ``colocation.linkage_table`` and the expected columns, before any work;
- an unreachable ``--scheduler tcp://...`` is an exit-2 error naming the address before
  any work, whatever the registry's size.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from klastergeo.analysis import colocation
from klastergeo.app.cli import app
from klastergeo.errors import ConfigError
from klastergeo.io import boundaries
from klastergeo.io.registry import batches, distributed
from klastergeo.io.registry.firms import FirmStore
from tests.worlds.lattice import custom_study

runner = CliRunner()

#: Records per batch of the batch cases: the registry is a few batches of it.
BATCH = 100


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 x 6 custom boundaries file, a registry with a sentra (317 firms, a name
    column) and a quick configuration, as in test_exit_codes."""
    folder = tmp_path_factory.mktemp("adversarial")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=2
    )
    registry["nama"] = [f"UD {i}" for i in range(len(registry))]
    registry.to_csv(folder / "firms.csv", index=False)
    (folder / "quick.toml").write_text(
        f'[area]\nboundaries = {json.dumps(str(folder / "desa.gpkg"))}\nid_col = "kode"\n'
        "[analysis]\npermutations = 0\n[pointpattern]\nenabled = false\n"
        '[report]\nfigures = "none"\n[map]\ntiles = "none"\n[model]\nkinds = ["lpm"]\n',
        encoding="utf-8",
    )
    return folder


def _run(study: Path, out: Path, records: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--config",
        str(study / "quick.toml"),
        "--records",
        str(records),
        "--out",
        str(out),
        *extra,
    ]


def _invoke(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, args, catch_exceptions=False)
    output = result.output
    assert (
        "internal error" not in output
        and "galat internal" not in output
        and "Traceback" not in output
    ), output
    return result.exit_code, output


# --------------------------------------------------------------------------------------
# A batch in which every record is rejected
# --------------------------------------------------------------------------------------


def _registry(study: Path) -> pd.DataFrame:
    """The study's registry: codes, ids and names as text, the rest numbers."""
    return pd.read_csv(study / "firms.csv", dtype={"id": str, "kbli": str, "nama": str})


def _outside(registry: pd.DataFrame, n: int, tag: str) -> pd.DataFrame:
    """``n`` records far outside the study area (a sub-area of a sorted registry), their
    name column empty: every one is rejected."""
    rows = registry.iloc[np.arange(n) % len(registry)].copy()
    rows["id"] = [f"{tag}{i}" for i in range(n)]
    rows["lat"], rows["lon"] = -5.0, 114.0 + np.arange(n) * 1e-4
    rows["nama"] = None
    return rows


def _sorted(registry: pd.DataFrame, where: str) -> pd.DataFrame:
    """The registry with whole batches of rejected records first, last, in the middle,
    or around one batch of kept ones (a registry sorted by region, run for a sub-area)."""
    if where == "first":
        parts = [_outside(registry, 2 * BATCH, "A"), registry]
    elif where == "last":
        parts = [registry, _outside(registry, 2 * BATCH, "Z")]
    elif where == "middle":
        parts = [registry.iloc[:150], _outside(registry, 2 * BATCH, "M"), registry.iloc[150:]]
    else:  # every batch but one
        parts = [_outside(registry, 3 * BATCH, "A"), registry.iloc[:BATCH]]
        parts.append(_outside(registry, 3 * BATCH, "Z"))
    return pd.concat(parts, ignore_index=True)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.stem.endswith("dict"):  # dictionary-encoded Parquet columns (categories)
        frame.astype({"id": "category", "kbli": "category", "nama": "category"}).to_parquet(
            path, index=False
        )
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def areas(study: Path):
    source = boundaries.resolve_source(study / "desa.gpkg")
    return boundaries.analysis_areas("desa", source=source, id_col="kode")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sorted.csv", "sorted.parquet", "sorted-dict.parquet"])
@pytest.mark.parametrize("where", ["first", "last", "middle", "all_but_one"])
def test_a_batch_of_rejected_records_reads_as_the_whole_file(
    where: str, name: str, study: Path, areas, tmp_path: Path
) -> None:
    """The kept firms read back by column (the counts' categories: the crash) and whole
    are those of the file read as one batch."""
    path = _write(_sorted(_registry(study), where), tmp_path / name)
    whole = batches.validate_in_batches(
        path, workdir=tmp_path / "w1", batch_size=10**6, areas=areas
    )
    split = batches.validate_in_batches(
        path, workdir=tmp_path / "w2", batch_size=BATCH, areas=areas
    )
    assert split.n_batches > 1 and split.n_kept == whole.n_kept
    wanted = ["area_code", "sector", "workers", "nama"]
    for outcome in (whole, split):
        assert (outcome.rejected["reason"] == "outside_study_area").sum() >= 2 * BATCH
    got = FirmStore(split).columns(wanted, categorical=("area_code", "sector"))
    want = FirmStore(whole).columns(wanted, categorical=("area_code", "sector"))
    pd.testing.assert_frame_equal(got.astype(str), want.astype(str))
    # one schema for every part: a column empty throughout a batch typed as elsewhere
    assert len({pq.read_schema(part).remove_metadata() for part in split.parts}) == 1
    pd.testing.assert_frame_equal(
        split.report().records.drop(columns="geometry").astype(str),
        whole.report().records.drop(columns="geometry").astype(str),
    )


@pytest.mark.slow
@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_a_batch_of_rejected_records_on_dask(
    scheduler: str, study: Path, areas, tmp_path: Path
) -> None:
    path = _write(_sorted(_registry(study), "first"), tmp_path / "s.csv")
    here = batches.validate_in_batches(path, workdir=tmp_path / "w1", batch_size=BATCH, areas=areas)
    there = batches.validate_in_batches(
        path, workdir=tmp_path / "w2", batch_size=BATCH, areas=areas, scheduler=scheduler
    )
    wanted = ["area_code", "sector", "workers"]
    pd.testing.assert_frame_equal(
        FirmStore(there).columns(wanted, categorical=("area_code", "sector")),
        FirmStore(here).columns(wanted, categorical=("area_code", "sector")),
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("where", "name", "extra"),
    [
        ("first", "sorted.csv", ()),
        ("last", "sorted-dict.parquet", ()),
        ("all_but_one", "sorted.parquet", ("--firms-gpkg",)),
        ("middle", "sorted.csv", ("--scheduler", "threads")),
    ],
)
def test_a_run_over_a_sorted_registry_writes_the_whole_files_results(
    where: str, name: str, extra: tuple[str, ...], study: Path, tmp_path: Path
) -> None:
    """``--batch-size 100`` over a registry whose batches are all rejected in places
    exits 0 with the tables of one batch (issue 24: ArrowNotImplementedError)."""
    path = _write(_sorted(_registry(study), where), tmp_path / name)
    # a sub-area of a registry sorted by region: most records outside, on purpose
    extra = (*extra, "--max-outside", "1")
    code, output = _invoke(
        _run(study, tmp_path / "small", path, "--batch-size", str(BATCH), *extra)
    )
    assert code == 0, output
    code, output = _invoke(_run(study, tmp_path / "one", path, "--max-outside", "1"))
    assert code == 0, output
    for table in ("sentra.csv", "colocation.csv", "related.csv", "rejected.csv"):
        assert (tmp_path / "small" / table).read_bytes() == (tmp_path / "one" / table).read_bytes()
    small = json.loads((tmp_path / "small" / "summary.json").read_text())
    assert small["records"]["rejected"] >= 2 * BATCH


# --------------------------------------------------------------------------------------
# Many sectors, tied coordinates
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_firm_its_own_sector_writes_no_quadratic_table(study: Path, tmp_path: Path) -> None:
    """3,000 firms with all-distinct 5-digit codes once wrote a 9,000,001-row
    colocation.csv: no sector has min_firms (5) firms, so no pair is tested, and the
    summary says so."""
    rng = np.random.default_rng(1)
    registry = _registry(study)
    lat0, lon0 = registry["lat"].astype(float).mean(), registry["lon"].astype(float).mean()
    n = 3_000
    distinct = pd.DataFrame(
        {
            "id": [f"D{i}" for i in range(n)],
            "lat": (lat0 + rng.uniform(-0.02, 0.02, n)).round(6),
            "lon": (lon0 + rng.uniform(-0.02, 0.02, n)).round(6),
            "kbli": [f"{10 + i // 1000:02d}{i % 1000:03d}" for i in range(n)],
            "workers": 1,
        }
    )
    distinct.to_csv(tmp_path / "distinct.csv", index=False)
    out = tmp_path / "out"
    code, output = _invoke(_run(study, out, tmp_path / "distinct.csv", "--sector-digits", "5"))
    assert code == 0, output
    located = json.loads((out / "summary.json").read_text())["colocation"]
    assert located["sectors"] == n and located["sectors_tested"] == 0
    assert located["pairs_computed"] == located["pairs_written"] == 0
    assert len(pd.read_csv(out / "colocation.csv")) == 0
    # the global quotients of every one of them (min_firms 1): the pairs that occur
    lon, lat = distinct["lon"].to_numpy(), distinct["lat"].to_numpy()
    table = colocation.global_clq(lon, lat, distinct["kbli"], permutations=9, pairs="observed")
    assert 0 < len(table) <= n  # one nearest neighbour per firm, ties aside
    with pytest.raises(ConfigError, match=r"9,000,000 pairs of 3,000 sectors"):
        colocation.global_clq(lon, lat, distinct["kbli"], permutations=0)


@pytest.mark.slow
def test_a_market_building_is_one_place(study: Path, tmp_path: Path) -> None:
    """2,000 firms at one coordinate: the run ends (exit 0) with the global quotients of
    the sectors, and the tie structure has a size of the places, not of the firm pairs."""
    rng = np.random.default_rng(3)
    registry = _registry(study)
    m = 2_000
    market = pd.DataFrame(
        {
            "id": [f"M{i}" for i in range(m)],
            "lat": registry["lat"].iloc[100],
            "lon": registry["lon"].iloc[100],
            "kbli": rng.choice(["10001", "13134", "31001", "47111"], m),
            "workers": 1,
        }
    )
    path = tmp_path / "market.csv"
    pd.concat([registry, market]).to_csv(path, index=False)
    code, output = _invoke(_run(study, tmp_path / "out", path, "--sector-digits", "5"))
    assert code == 0, output
    located = json.loads((tmp_path / "out" / "summary.json").read_text())["colocation"]
    assert located["sectors_tested"] == 4 and located["pairs_written"] >= 1
    table = pd.read_csv(tmp_path / "out" / "colocation.csv", dtype={"sector": str})
    assert (table["significant"] | table["linked"]).all()
    lon = np.concatenate([registry["lon"].astype(float), np.full(m, float(market["lon"][0]))])
    lat = np.concatenate([registry["lat"].astype(float), np.full(m, float(market["lat"][0]))])
    places = colocation._places(lon, lat)
    src, _, _ = colocation._ties(places)
    assert len(places.xyz) <= len(registry) + 1
    assert len(src) < 4 * len(places.xyz)  # firm by firm: more than 4 million pairs


# --------------------------------------------------------------------------------------
# Running out of memory
# --------------------------------------------------------------------------------------


def _no_memory(*args: object, **kwargs: object) -> None:
    raise MemoryError()


def _no_arrow_memory(*args: object, **kwargs: object) -> None:
    raise pa.ArrowMemoryError("malloc of size 16777216 failed")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "raiser", "message"),
    [
        (
            "klastergeo.app.pipeline.profiling.measure_by_tiles",
            _no_memory,
            r"not enough memory for measuring co-location \(step 'profile'\); leave "
            r"co-location out \(--no-colocation\)",
        ),
        (
            "geopandas.read_file",
            _no_arrow_memory,
            r"not enough memory for reading the boundaries \(step 'boundaries'\); choose "
            r"a smaller study area \(--area\)",
        ),
        (
            "klastergeo.io.registry.batches.check_batch",
            _no_memory,
            r"not enough memory for checking the records \(step 'validate'\); use a "
            r"smaller --batch-size",
        ),
        (
            "klastergeo.analysis.pointpattern.by_sector",
            _no_arrow_memory,
            r"not enough memory for measuring the point patterns \(step 'profile'\)",
        ),
    ],
)
def test_running_out_of_memory_names_the_step(
    target: str,
    raiser: object,
    message: str,
    study: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The advice names the step that ran out and what to do there; the boundaries are
    never called damaged for want of memory (issue 24)."""
    monkeypatch.setattr(target, raiser)
    extra = ("--set", "pointpattern.enabled=true") if "pointpattern" in target else ()
    code, output = _invoke(_run(study, tmp_path / "out", study / "firms.csv", *extra))
    assert code == 2, output
    assert re.search(message, output), output
    assert "damaged" not in output and "cannot read" not in output


# --------------------------------------------------------------------------------------
# Linkage tables
# --------------------------------------------------------------------------------------

LINKAGE_CASES = {
    "empty": (b"", r"is empty; a linkage table is a CSV with the columns from_sector"),
    "blank lines": (b"\n\n", r"is empty"),
    "semicolons": (
        b"from_sector;to_sector;role\n16;31;supplier\n",
        r"lacks the column\(s\) from_sector, to_sector, role .*must be comma-separated",
    ),
    "a column missing": (
        b"from,to_sector,role\n16,31,supplier\n",
        r"lacks the column\(s\) from_sector",
    ),
    "a column twice": (
        b"from_sector,from_sector,to_sector,role\n16,16,31,supplier\n",
        r"names the column\(s\) from_sector more than once",
    ),
    "extra fields": (
        b"from_sector,to_sector,role\n16,31,supplier,x,y\n",
        r"cannot be read as a CSV with the columns from_sector,to_sector,role .*Expected 3 "
        r"fields in line 2, saw 5",
    ),
    "binary": (b"\x00\xff\xfe\x01PK", r"cannot be read as a CSV .*UnicodeDecodeError"),
    "a role": (
        b"from_sector,to_sector,role\n16,31,friend\n",
        r"has role\(s\) 'friend' \(line\(s\) 2\)",
    ),
    "an empty code": (b"from_sector,to_sector,role\n16,31,supplier\n,31,buyer\n", r"line 3 has ''"),
    "a code of text": (b"from_sector,to_sector,role\nkayu,31,supplier\n", r"line 2 has 'kayu'"),
    "a range too wide": (
        b"from_sector,to_sector,role\n10000-99999,31,supplier\n",
        r"line 2 has the range '10000-99999' of more than 1,000 codes",
    ),
}


@pytest.mark.parametrize("case", list(LINKAGE_CASES))
def test_a_bad_linkage_table_is_named_before_any_work(
    case: str, study: Path, tmp_path: Path
) -> None:
    content, message = LINKAGE_CASES[case]
    table = tmp_path / "links.csv"
    table.write_bytes(content)
    out = tmp_path / "out"
    code, output = _invoke(_run(study, out, study / "firms.csv", "--linkage-table", str(table)))
    assert code == 2, output
    assert "colocation.linkage_table (--linkage-table)" in output and "links.csv" in output
    assert "colocation.linkages" not in output
    assert re.search(message, output, flags=re.S), output
    assert not out.exists()  # before the output folder, the boundaries and the records
    with pytest.raises(ConfigError, match=re.escape(str(table))):
        colocation.read_linkages(table)


def test_a_bad_linkage_table_stops_a_run_over_surveys_before_the_split(
    study: Path, tmp_path: Path
) -> None:
    table = tmp_path / "links.csv"
    table.write_bytes(b"")
    out = tmp_path / "out"
    args = _run(study, out, study / "firms.csv", "--records", str(study / "firms.csv"))
    code, output = _invoke([*args, "--periods", "2019,2023", "--linkage-table", str(table)])
    assert code == 2, output
    assert "colocation.linkage_table (--linkage-table)" in output and "is empty" in output
    assert not out.exists()


@pytest.mark.parametrize("where", ["missing.csv", "."])
def test_a_linkage_table_that_is_not_a_file(where: str, study: Path, tmp_path: Path) -> None:
    path = tmp_path / where
    code, output = _invoke(
        _run(study, tmp_path / "out", study / "firms.csv", "--linkage-table", str(path))
    )
    assert code == 2, output
    assert "colocation.linkage_table (--linkage-table)" in output and str(path) in output


@pytest.mark.slow
def test_a_linkage_table_of_a_header_alone_expects_no_links(study: Path, tmp_path: Path) -> None:
    table = tmp_path / "none.csv"
    table.write_text(" From_Sector , TO_SECTOR,Role\n", encoding="utf-8")
    out = tmp_path / "out"
    code, output = _invoke(_run(study, out, study / "firms.csv", "--linkage-table", str(table)))
    assert code == 0, output
    assert len(pd.read_csv(out / "missing_links.csv")) == 0
    related = pd.read_csv(out / "related.csv")
    assert set(related["role"]) <= {"co-located"}


# --------------------------------------------------------------------------------------
# Schedulers
# --------------------------------------------------------------------------------------


@pytest.fixture
def mute_port() -> Iterator[str]:
    """A TCP port that accepts connections and says nothing (not a Dask scheduler)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def accept() -> None:
        held = []
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue
        for connection in held:
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize(
    "address", ["tcp://127.0.0.1:9", "tcp://[::1]:9", "tcp://klastergeo.invalid:8786"]
)
@pytest.mark.parametrize("command", ["run", "validate"])
def test_an_unreachable_scheduler_stops_a_small_run_before_any_work(
    address: str, command: str, study: Path, tmp_path: Path
) -> None:
    """The registry fits one batch (checked here), yet the address is an error: named,
    exit 2, and no output folder (issue 24: it was ignored)."""
    out = tmp_path / "out"
    args = _run(study, out, study / "firms.csv", "--scheduler", address)
    if command == "validate":
        args = ["validate", *args[1:]]
    code, output = _invoke(args)
    assert code == 2, output
    assert f"records.scheduler={address!r} (--scheduler): no dask.distributed scheduler" in output
    assert not out.exists()


def test_a_port_that_is_no_scheduler_is_named(
    mute_port: str, study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT_S", 1)
    code, output = _invoke(
        _run(study, tmp_path / "out", study / "firms.csv", "--scheduler", mute_port)
    )
    assert code == 2, output
    assert f"records.scheduler={mute_port!r}" in output
    with pytest.raises(ConfigError, match=r"no dask\.distributed scheduler answers there"):
        batches.validate_in_batches(
            study / "firms.csv", workdir=tmp_path / "w", scheduler=mute_port
        )
