"""The faster record step gives the verdicts of the general path, exactly.

The compiled passes over the Arrow bytes (:mod:`klastergeo.io.registry.kernels`: plain
decimals, key hashes), the kept firms built from Arrow text and written column by column,
and the batches checked in forked processes are all shortcuts: the reference is the same
validation with every shortcut turned off (each value by the regular expressions, each
kept column through Python objects, each part through ``pa.Table.from_pandas``), which is
the code before them. The outputs (``rejected.csv``, ``repaired.csv``, the kept firms and
the summary) must be the same text, whatever the batch size.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import shapely

from klastergeo.io.registry import batches, checks, kernels, numbers, sheets, sources, validation
from tests.worlds.records import dirty_registry


def _areas() -> gpd.GeoDataFrame:
    """Four 0.1-degree squares near Klaten (EPSG:4326), where the dirty registry lies."""
    boxes = [shapely.box(110.5 + 0.1 * i, -7.8, 110.6 + 0.1 * i, -7.7) for i in range(4)]
    codes = pd.Index([f"33.10.0{i}" for i in range(4)], name="area_code")
    return gpd.GeoDataFrame({"name": list("ABCD")}, geometry=boxes, index=codes, crs=4326)


def _general(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shortcut off: no value is plain to the scan, no column is Arrow text to the
    kept frame, every part goes through pandas."""

    def nothing_plain(text: pa.Array) -> kernels.Scanned:
        n = len(text)
        zeros = np.zeros(n, dtype=np.int8)
        return kernels.Scanned(
            np.zeros(n, np.int64), zeros, zeros, np.full(n, -1, np.int8), np.zeros(n, bool)
        )

    monkeypatch.setattr(kernels, "scan", nothing_plain)
    monkeypatch.setattr(checks, "_kept_text", lambda values, keep: None)
    monkeypatch.setattr(checks, "_text_of", lambda array: None)
    monkeypatch.setattr(validation, "arrow_part", pa.Table.from_pandas)


def _outputs(path: Path, work: Path, batch_size: int) -> dict[str, str]:
    outcome = batches.validate_in_batches(path, workdir=work, batch_size=batch_size, areas=_areas())
    report = outcome.report()
    return {
        "rejected": report.rejected.to_csv(),
        "repaired": report.repaired.to_csv(),
        "kept": report.records.to_csv(),
        "dtypes": repr(report.records.dtypes.to_dict()),
        "summary": repr(report.summary()),
    }


def _registry(tmp_path: Path, fmt: str, amounts: str) -> Path:
    frame = dirty_registry(np.random.default_rng(29), 6000)
    if amounts == "comma":  # Indonesian amounts (1.234,56) and grouped thousands
        swapped = frame["omzet"].str.replace(",", "_").str.replace(".", ",")
        frame["omzet"] = swapped.str.replace("_", ".")
        rng = np.random.default_rng(3)
        invest = [
            f"{v:.{d}f}".replace(".", ",")
            for v, d in zip(
                rng.gamma(2, 900, len(frame)), rng.integers(0, 4, len(frame)), strict=True
            )
        ]
        frame["investasi"] = invest
        frame.loc[frame.index[::97], "investasi"] = "1.250.000"
        frame.loc[frame.index[::89], "investasi"] = " 2.500 "
        frame.loc[frame.index[::83], "investasi"] = "-0"
    path = tmp_path / f"dirty.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False, sep=";")
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fmt", "amounts"), [("csv", "point"), ("csv", "comma"), ("parquet", "point")]
)
def test_shortcuts_give_the_general_paths_outputs_for_any_batch_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, amounts: str
) -> None:
    path = _registry(tmp_path, fmt, amounts)
    sizes = (1_000_000, 997, 2_500)  # read whole, and in batches (checked in processes)
    fast = {size: _outputs(path, tmp_path / f"fast-{size}", size) for size in sizes}
    with monkeypatch.context() as patch:
        _general(patch)
        general = _outputs(path, tmp_path / "general", 1_000_000)
    for size in sizes:
        assert fast[size] == general, size
    # the registry has every kind of dirt the checks look for
    report = batches.validate_in_batches(
        path, workdir=tmp_path / "again", batch_size=997, areas=_areas()
    ).report()
    found = {reason for reason, n in report.by_reason.items() if n}
    assert {
        "missing_coordinates",
        "out_of_range",
        "outside_study_area",
        "invalid_sector",
        "invalid_value",
        "missing_id",
        "duplicate_id",
    } <= found
    assert set(report.repaired["reason"]) == {"swapped_coordinates", "kbli_leading_zero"}


def _plain_texts(rng: np.random.Generator, n: int) -> list[str]:
    """Numbers as registries write them: plain decimals with either mark, signs, blanks,
    leading zeros and minus zero, long digit strings, and some that are not plain."""
    digits = rng.integers(0, 18, n)
    values = rng.uniform(-500, 500, n) * 10.0 ** rng.integers(-3, 6, n)
    out = []
    for value, d, kind in zip(values, digits, rng.random(n), strict=True):
        text = f"{value:.{d}f}"
        if kind < 0.3:
            text = text.replace(".", ",")
        elif kind < 0.35:
            text = f" {text}\t"
        elif kind < 0.38:
            text = "+" + text.lstrip("-")
        elif kind < 0.4:
            text = rng.choice(["-0", "-0,0", "007", "0.000", "1.234", "12,345", "1e5", "",
                               "1.234.567", ".5", "5.", "x1", "- 3", "1,2,3"])  # fmt: skip
        out.append(text)
    return out


def test_the_scan_reads_plain_decimals_as_arrow_casts_them() -> None:
    rng = np.random.default_rng(11)
    texts = _plain_texts(rng, 20_000)
    values, mark = kernels.decimals(pa.array(texts))
    read = mark >= 0
    assert 0.5 < read.mean() < 0.95  # both read and left to the general path
    plain = pc.replace_substring(pc.utf8_trim_whitespace(pa.array(texts)), ",", ".")
    expected = np.asarray(pc.cast(pc.utf8_ltrim(plain.filter(pa.array(read)), "+"), pa.float64()))
    # bit for bit, the sign of a minus zero included
    assert np.array_equal(values[read].view(np.int64), expected.view(np.int64))
    # read: exactly the plain decimals of at most 15 digits, blanks around them
    plain_form = re.compile(r"[+-]?\d+([.,]\d+)?")
    for text, was_read in zip(texts, read, strict=True):
        core = text.strip(" \t\r\n")
        assert was_read == (
            plain_form.fullmatch(core) is not None and sum(c.isdigit() for c in core) <= 15
        ), text


@pytest.mark.parametrize("decimal", [".", ","])
def test_amounts_read_by_the_scan_equal_the_general_path(
    monkeypatch: pytest.MonkeyPatch, decimal: str
) -> None:
    rng = np.random.default_rng(5)
    texts = pd.Series([*_plain_texts(rng, 20_000), "1.250", "1,250", "Rp 1.500", " 2.500 "])
    fmt = numbers.number_format(texts, decimal=decimal)
    fast = numbers.parse_numbers(texts, fmt=fmt)
    evidence = numbers.number_format(texts), numbers.number_format(texts, coordinate=True)
    with monkeypatch.context() as patch:
        _general(patch)
        general = numbers.parse_numbers(texts, fmt=fmt)
        assert (numbers.number_format(texts), numbers.number_format(texts, coordinate=True)) == (
            evidence
        )
    assert np.array_equal(fast[0].view(np.int64), general[0].view(np.int64))
    assert np.array_equal(fast[1], general[1]) and np.array_equal(fast[2], general[2])
    assert fast[2].any() and (~fast[2]).sum() > 5_000  # both valid and invalid values


def test_key_hashes_are_equal_for_equal_texts_only() -> None:
    texts = pa.array(["U1", "U2", "U1", None, "", "U1 ", "1U"] * 3)
    hashes = kernels.hash_text(texts)
    table = pd.Series(texts.to_pylist(), dtype=object)
    for i in range(len(table)):
        for j in range(len(table)):
            same = table[i] == table[j] or (table[i] is None and table[j] is None)
            assert (hashes[i] == hashes[j]) == same
    # chunked and sliced text hash as the whole
    sliced = kernels.hash_text(pa.chunked_array([texts.slice(0, 5), texts.slice(5)]))
    assert np.array_equal(sliced, hashes)
    assert np.array_equal(kernels.hash_text(texts.slice(3, 4)), hashes[3:7])


def test_a_batchs_part_is_the_table_pandas_gives(tmp_path: Path) -> None:
    path = _registry(tmp_path, "parquet", "comma")
    registry = batches.open_registry(path, workdir=tmp_path / "w", batch_size=2_000)
    raw = registry.source.batch(1, 2_000)
    done = validation.check_batch(
        registry.source, raw, batch_size=2_000, areas=_areas(), snap_m=100.0,
        sector_digits=2, part=None,
    )  # fmt: skip
    assert done.kept is not None and len(done.kept) > 1_000
    got = validation.arrow_part(done.kept)
    assert got.equals(pa.Table.from_pandas(done.kept), check_metadata=True)
    # a frame of Python objects goes through pandas itself
    objects = done.kept.astype({"placement": object})
    assert validation.arrow_part(objects).equals(pa.Table.from_pandas(objects), check_metadata=True)


def test_rows_that_are_not_firms_are_found_as_by_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = dirty_registry(np.random.default_rng(8), 3_000)
    header = [str(c) for c in frame.columns]
    planted = [
        ["Jumlah", "", "", "", "", "1.234", "56.789,5", ""],  # a total
        ["", "", "", "", "", "120", "4.500", ""],  # a sum
        header,  # the header repeated
        [h.upper() + " " for h in header],
        [f"({i})" for i in range(1, 9)],  # column numbers
        ["Sumber: BPS Kabupaten Klaten", "", "", "", "", "", "", ""],  # a footnote
        [""] * 8,  # blank
        ["", "", "", "", "", "", "", "Klaten, 5 Desember 2026"],  # a note
        ["U9", "Total Jaya", "-7,75", "110,55", "31001", "3", "12", ""],  # a firm
    ]
    rows = pd.DataFrame(planted, columns=frame.columns)
    mixed = pd.concat([frame, rows, frame.iloc[:50], rows], ignore_index=True).astype("str")
    options = {"identifying": ["id", "nama", "kbli", "lintang", "bujur"],
               "placing": ["kbli", "lintang", "bujur"]}  # fmt: skip
    fast = sheets.classify_rows(mixed, **options)
    with monkeypatch.context() as patch:
        patch.setattr(
            sheets,
            "_numbers",
            lambda text: np.asarray(pc.match_substring_regex(text, sheets._ARROW_NUMBER)),
        )
        patch.setattr(
            sheets, "_named", lambda text, name: np.asarray(pc.equal(pc.utf8_lower(text), name))
        )
        general = sheets.classify_rows(mixed, **options)
    assert fast.tolist() == general.tolist()
    kinds = fast[len(frame) : len(frame) + len(planted)].tolist()
    assert kinds == ["total", "total", "header", "header", "column_numbers", "footnote",
                     "blank", "note", ""]  # fmt: skip


def test_rows_taken_by_position_are_those_of_the_whole_file(tmp_path: Path) -> None:
    """Duplicate suspects are read back row group by row group: the same rows as the
    whole file's ``take``, and Arrow's memory holds about a group, not every group that
    holds a suspect (one suspect per group read the whole file at once before)."""
    rng = np.random.default_rng(29)
    n, group = 200_000, 5_000
    names = np.array([f"usaha {i:07d} {'x' * 40}" for i in range(n)], dtype=object)
    table = pa.table({"name": names, "workers": rng.integers(1, 20, n)})
    path = tmp_path / "registry.parquet"
    pq.write_table(table, path, row_group_size=group)
    every_group = np.sort(rng.choice(n, 300, replace=False))
    for positions in (
        every_group,
        np.arange(group - 2, group + 3),  # across one border
        np.array([n - 1]),
        np.empty(0, dtype=np.int64),
    ):
        got = sources.take_rows(pq.ParquetFile(path), positions)
        assert got.equals(table.take(pa.array(positions, type=pa.int64())))
    # Arrow's buffers keep a bare pointer to their pool: what the proxy allocated is
    # freed before the proxy goes
    pool, before = pa.proxy_memory_pool(pa.default_memory_pool()), pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        parquet = pq.ParquetFile(path)
        got = sources.take_rows(parquet, every_group)
        del got, parquet
    finally:
        pa.set_memory_pool(before)
    assert pool.max_memory() < table.nbytes / 4
