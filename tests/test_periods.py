"""A run over several surveys (``--period-col``): a run per period with the same areas,
the sentra followed across periods, and the top folder's tables."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.app.cli import app
from tests.worlds.lattice import custom_study, lattice_args

runner = CliRunner()
#: Furniture firms of the two sentra villages per survey: the sentra grows.
SURVEYS = {2016: (20, 15), 2019: (30, 25), 2023: (45, 30)}


@pytest.fixture(scope="module")
def periods_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("periods")
    parts = []
    for year, (a, b) in SURVEYS.items():
        part = custom_study(
            folder, (6, 6), {"r2c2": a, "r2c3": b}, background={"10": 6, "31": 1}, seed=year
        )
        parts.append(part.assign(id=part["id"] + f"-{year}", tahun=str(year)))
    registry = pd.concat(parts, ignore_index=True)
    registry.loc[len(registry)] = {**registry.iloc[0].to_dict(), "id": "no-year", "tahun": ""}
    registry.to_csv(folder / "ukm.csv", index=False)
    out = folder / "out"
    result = runner.invoke(
        app,
        lattice_args(
            "run", folder, out, "--period-col", "tahun", "--permutations", "0",
            "--tiles", "none", "--set", "report.figures=none",
            "--set", "pointpattern.enabled=false", records="ukm.csv",
        ),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, registry


@pytest.mark.slow
def test_every_period_is_a_run_of_its_own(periods_run) -> None:
    out, _ = periods_run
    for year in SURVEYS:
        folder = out / "periods" / str(year)
        for name in (
            "map.html", "report.html", "sentra.csv", "areas.parquet", "summary.json",
            "colocation.csv", "related.csv", "missing_links.csv",
        ):  # fmt: skip
            assert (folder / name).exists(), (year, name)
        page = (folder / "map.html").read_text(encoding="utf-8")
        # the title names the survey (maps.map_title), the source its file
        assert f", {year}</b>" in page and f"ukm_{year}.parquet" in page
    areas = pd.read_parquet(out / "areas.parquet")
    assert sorted(areas["period"].unique()) == ["2016", "2019", "2023"]
    assert len(areas) == 3 * 36 * 2  # the same 36 areas and 2 sectors in every period
    firms = areas.loc[areas["sector"] == "31"].groupby("period")["n_firms"].sum()
    # one furniture firm in each of the 34 other villages, plus the two sentra villages'
    assert firms.to_dict() == {"2016": 34 + 35, "2019": 34 + 55, "2023": 34 + 75}


@pytest.mark.slow
def test_the_sentra_is_followed_and_grows(periods_run) -> None:
    out, _ = periods_run
    sentra = pd.read_csv(out / "sentra.csv", dtype=str)
    assert sentra[["period", "sentra_id"]].values.tolist() == [
        ["2016", "31-01"], ["2019", "31-01"], ["2023", "31-01"],
    ]  # fmt: skip
    lineages = pd.read_csv(out / "dynamics.csv", dtype={"sector": str})
    assert lineages["lineage_id"].tolist() == ["L31-01"]
    row = lineages.iloc[0]
    assert row["trend"] == "growing" and row["area_codes"] == "99.14;99.15"
    # the sentra's firms: its two villages' furniture makers (and food firms when the
    # sentra counts every sector's firms, as n_firms does)
    period_sentra = sentra.set_index("period")["n_firms"].astype(float)
    assert [row[f"n_firms_{y}"] for y in SURVEYS] == [period_sentra[str(y)] for y in SURVEYS]
    assert row["n_firms_2023"] > row["n_firms_2019"] > row["n_firms_2016"]
    first, last = row["workers_2016"], row["workers_2023"]  # growth, first to last period
    assert row["workers_growth"] == pytest.approx((last - first) / first)
    # no output column: missing, never zero
    assert pd.isna(row["output_2016"]) and pd.isna(row["output_growth"])
    assert row["workers_2023"] == float(sentra.set_index("period").loc["2023", "workers"])
    links = pd.read_csv(out / "lineage_links.csv")
    assert len(links) == 2 and (links["shared_areas"] == 2).all()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "tumbuh" in index and 'href="periods/2023/map.html"' in index


@pytest.mark.slow
def test_records_without_a_period_are_kept_with_their_reason(periods_run) -> None:
    out, registry = periods_run
    missing = pd.read_csv(out / "rejected_period.csv", dtype=str)
    assert missing["id"].tolist() == ["no-year"] and missing["reason"].tolist() == [
        "missing_period"
    ]
    assert int(missing["row"].iloc[0]) == len(registry)  # its row in the file
    kept = sum(
        pd.read_csv(
            out / "periods" / str(y) / "summary.json".replace("summary.json", "sentra.csv")
        ).shape[0]
        for y in SURVEYS
    )
    assert kept == 3


@pytest.mark.slow
def test_emerging_hot_spots_and_indicators(periods_run) -> None:
    out, _ = periods_run
    emerging = pd.read_csv(out / "emerging_hot_spots.csv", dtype={"sector": str, "area_code": str})
    core = emerging.loc[(emerging["area_code"] == "99.14") & (emerging["sector"] == "31")]
    assert core["category"].tolist() == ["persistent hot spot"]  # three periods: no trend
    indicators = pd.read_csv(out / "indicators.csv", dtype={"sector": str})
    furniture = indicators.loc[indicators["sector"] == "31"].iloc[0]
    assert furniture["n_firms_2016"] == 69 and furniture["n_firms_2023"] == 109
    assert furniture["n_firms_change"] == pytest.approx(40 / 69)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Indikator per kabupaten/kota" in index and "58 %" in index  # 40 / 69
    assert "<td>titik panas menetap</td>" in index
    # three surveys: no significant trend, nothing historical, and the page says so
    assert "titik panas menguat (5)" in index and "titik panas historis (10)" in index
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["emerging"]["possible"] == [
        "persistent", "oscillating", "new", "consecutive", "sporadic"
    ]  # fmt: skip
    assert summary["emerging"]["minimum_periods"]["intensifying"] == 5
    assert summary["emerging"]["areas"]["persistent hot spot"] >= 1


@pytest.mark.slow
def test_firm_flows_with_stable_ids(tmp_path: Path) -> None:
    """With ``dynamics.stable_ids`` the lineage's survivors, exits and entries between
    surveys equal the set arithmetic of the firms each period's run put in the sentra."""
    from klastergeo.app.pipeline.firm_output import read_firms

    parts = []
    for year, (a, b) in list(SURVEYS.items())[1:]:
        part = custom_study(
            tmp_path, (6, 6), {"r2c2": a, "r2c3": b}, background={"10": 6, "31": 1}, seed=year
        )
        parts.append(part.assign(tahun=str(year)))  # ids F0, F1 ... name the same firms
    pd.concat(parts, ignore_index=True).to_csv(tmp_path / "ukm.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        lattice_args(
            "sentra", tmp_path, out, "--period-col", "tahun", "--permutations", "0",
            "--set", "report.figures=none", "--set", "pointpattern.enabled=false",
            "--set", "dynamics.stable_ids=true", records="ukm.csv",
        ),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lineage = pd.read_csv(out / "dynamics.csv").iloc[0]
    firms = {
        y: set(read_firms(out / "periods" / y).query("sentra_id.notna()").index)  # record ids
        for y in ("2019", "2023")
    }
    assert lineage["survivors_2023"] == len(firms["2019"] & firms["2023"])
    assert lineage["exits_2023"] == len(firms["2019"] - firms["2023"])
    assert lineage["entries_2023"] == len(firms["2023"] - firms["2019"])
    assert lineage["entries_2023"] > 0 and lineage["survivors_2023"] > 0


@pytest.mark.slow
def test_the_change_map_shows_every_period_and_the_trend(periods_run) -> None:
    """map.html: the change view (one lineage, growing, in its last shape) and each
    period's sentra, every text as JSON data of the page."""
    import json

    out, _ = periods_run
    page = (out / "map.html").read_text(encoding="utf-8")
    start = page.index("klastergeo.changeView(")
    data, _ = json.JSONDecoder().raw_decode(page, page.index("{", start))
    assert data["periods"] == ["2016", "2019", "2023"]
    assert data["change"]["trends"] == ["growing"]
    assert [len(v["shapes"]) for v in data["views"].values()] == [1, 1, 1]
    popup = dict(data["change"]["popups"][0])
    assert popup["Arah"] == "tumbuh" and popup["Usaha 2016"] and popup["Usaha 2023"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<iframe src="map.html"' in index


@pytest.mark.slow
def test_one_registry_per_period_gives_the_same_lineages(periods_run, tmp_path: Path) -> None:
    """``--records a --records b --records c`` (in any order, in several formats, labels
    from the file names) follows the sentra exactly as the period column does."""
    out, registry = periods_run
    folder = out.parent
    dated = registry.loc[registry["tahun"] != ""]
    names = {"2023": "survei_2023.csv", "2016": "ukm-2016.parquet", "2019": "data2019.csv"}
    for year, name in names.items():
        part = dated.loc[dated["tahun"] == year].drop(columns="tahun")
        if name.endswith(".parquet"):
            part.astype(str).to_parquet(tmp_path / name, index=False)
        else:
            part.to_csv(tmp_path / name, index=False)
    again = tmp_path / "out"
    files = [arg for name in names.values() for arg in ("--records", str(tmp_path / name))]
    args = lattice_args(
        "run", folder, again, "--permutations", "0", "--tiles", "none",
        "--set", "report.figures=none", "--set", "pointpattern.enabled=false",
    )  # fmt: skip
    at = args.index("--records")
    args[at : at + 2] = files
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (again / "periods").iterdir()) == ["2016", "2019", "2023"]
    mine = pd.read_csv(again / "dynamics.csv")
    theirs = pd.read_csv(out / "dynamics.csv")
    pd.testing.assert_frame_equal(mine, theirs)
    pd.testing.assert_frame_equal(
        pd.read_parquet(again / "areas.parquet"), pd.read_parquet(out / "areas.parquet")
    )
    left_out = pd.read_csv(again / "rejected_period.csv")
    assert len(left_out) == 0 and {"row", "reason"} <= set(left_out.columns)
    index = (again / "index.html").read_text(encoding="utf-8")
    assert "survei_2023.csv" in (again / "map.html").read_text(encoding="utf-8")
    assert 'href="periods/2016/report.html"' in index


def test_the_split_streams_in_batches(tmp_path: Path) -> None:
    """The registry is split batch by batch: any batch size gives the same period files
    and the same records left out (with their numbers in the file)."""
    from klastergeo.app.config import load_config
    from klastergeo.app.pipeline.periods import split_by_period

    lines = ["id,lon,lat,kbli,tahun"]
    lines += [
        f"f{k},110.{k:03d},-7.5,{31 if k % 3 else 10},{2019 + 4 * (k % 2)}" for k in range(40)
    ]
    lines[9] = "f8,110.008,-7.5,31,"  # no period
    lines[20] = "f19,110.019,-7.5,31,2023,extra"  # malformed: one field too many
    lines[30] = "f29,110.029,-7.5,31,2019.0"  # a spreadsheet's year
    (tmp_path / "ukm.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    base = load_config(
        None, overrides={"records.path": str(tmp_path / "ukm.csv"), "records.period_col": "tahun"}
    )
    results = {}
    for size in (1, 7, 1000):
        config = base.with_overrides({"records.batch_size": size})
        folder = tmp_path / f"split-{size}"
        folder.mkdir()
        split = split_by_period(config, folder)
        files = {p: pd.read_parquet(path) for p, path in split.files.items()}
        results[size] = (files, split.missing)
        assert not (folder / "staged").exists()
    files, missing = results[1000]
    assert list(files) == ["2019", "2023"]
    assert len(files["2019"]) + len(files["2023"]) == 38
    assert "f29" in set(files["2019"]["id"])
    assert missing["reason"].tolist() == ["missing_period", "malformed_row"]
    assert missing["row"].astype(int).tolist() == [9, 20]
    for size in (1, 7):
        other, left = results[size]
        assert list(other) == list(files)
        for p in files:
            pd.testing.assert_frame_equal(other[p], files[p])
        pd.testing.assert_frame_equal(
            left[["row", "reason"]].astype(str), missing[["row", "reason"]].astype(str)
        )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--records", "a_2019.csv"], "needs at least 2"),
        (["--records", "a_2019.csv", "--records", "b_2019.csv"], "same period label"),
        (["--records", "a_2019.csv", "--records", "b_2023.csv", "--periods", "2019"], "one label"),
        (
            ["--records", "a_2019.csv", "--records", "b_2023.csv", "--periods", "x,x"],
            "repeats a label",
        ),
        (
            ["--records", "a_2019.csv", "--records", "b_2023.csv", "--period-col", "tahun"],
            "both give the periods",
        ),
    ],
)
def test_several_registries_are_checked(tmp_path: Path, flags: list[str], message: str) -> None:
    for name in ("a_2019.csv", "b_2019.csv", "b_2023.csv"):
        (tmp_path / name).write_text("id,lon,lat,kbli\n1,110,-7,31\n", encoding="utf-8")
    flags = [str(tmp_path / f) if f.endswith(".csv") else f for f in flags]
    if flags.count("--records") == 1:  # one registry as records.files (TOML)
        flags = ["--set", f'records.files=["{flags[1]}"]']
    result = runner.invoke(app, ["run", *flags, "--area", "33", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "o").exists()


def test_validate_reads_one_registry(tmp_path: Path) -> None:
    for name in ("a_2019.csv", "b_2023.csv"):
        (tmp_path / name).write_text("id,lon,lat,kbli\n1,110,-7,31\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "validate", "--records", str(tmp_path / "a_2019.csv"),
            "--records", str(tmp_path / "b_2023.csv"), "--out", str(tmp_path / "o"),
        ],
    )  # fmt: skip
    assert result.exit_code == 2 and "reads one" in " ".join(result.output.split())


# Period labels as time (klastergeo.io.registry.period_labels) ---------------------------------------

#: Labels as registries write them -> the period each names (None: a missing value).
READINGS = {
    "years and their spellings": (
        ["2023", "2019", " 2019 ", "2019.0", "2.019e3", "２０１９", "٢٠٢١", "\u200b2021"],
        "%Y",
        {"2023": "2023", "2019": "2019", " 2019 ": "2019", "2019.0": "2019", "2.019e3": "2019",
         "２０１９": "2019", "٢٠٢١": "2021", "\u200b2021": "2021"},
    ),
    "day-first dates": (
        ["15/06/2019", "01/03/2023", "01/03/2021"],
        "%d/%m/%Y",
        {"15/06/2019": "2019-06-15", "01/03/2023": "2023-03-01", "01/03/2021": "2021-03-01"},
    ),
    "month-first only when a day is over 12": (
        ["03/15/2023", "01/03/2021"],
        "%m/%d/%Y",
        {"03/15/2023": "2023-03-15", "01/03/2021": "2021-01-03"},
    ),
    "month names, English and Indonesian": (
        ["Sep 2019", "MARET 2023", "agt. 2021"],
        "%b %Y",
        {"Sep 2019": "2019-09", "MARET 2023": "2023-03", "agt. 2021": "2021-08"},
    ),
    "ISO dates with a midnight time": (
        ["2019-03-01 00:00:00", "2019-09-01"],
        "%Y-%m-%d",
        {"2019-03-01 00:00:00": "2019-03-01", "2019-09-01": "2019-09-01"},
    ),
    "quarters": (["2019 Q4", "2020Q1"], "%Y Q%q", {"2019 Q4": "2019-Q4", "2020Q1": "2020-Q1"}),
    "missing values": (
        ["NA", "n/a", "nan", "NULL", "None", "-", "—", "", "  ", "#N/A", "2019", "2023"],
        "%Y",
        {"NA": None, "n/a": None, "nan": None, "NULL": None, "None": None, "-": None, "—": None,
         "": None, "  ": None, "#N/A": None, "2019": "2019", "2023": "2023"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(READINGS))
def test_period_labels_are_read_as_time(case: str) -> None:
    """Each label names the period a person reads in it; the periods are in time order."""
    from klastergeo.io.registry.period_labels import read_periods

    labels, pattern, expected = READINGS[case]
    got = read_periods(labels, where="column 'tahun'")
    assert got.format == pattern and dict(got.of) == expected
    assert list(got.periods) == sorted({p for p in expected.values() if p is not None})


@pytest.mark.parametrize(
    ("pattern", "labels", "periods"),
    [
        ("%b-%y", ["Sep-99", "Mar-19", "Jan-68"], ("1999-09", "2019-03", "2068-01")),
        ("year", ["2019", "2019.000"], ("2019",)),
        ("%d %B %Y", ["17 Agustus 2019", "1 Desember 2020"], ("2019-08-17", "2020-12-01")),
        ("Triwulan %q %Y", ["Triwulan 1 2019", "triwulan 4 2018"], ("2018-Q4", "2019-Q1")),
        ("%m/%d/%Y", ["01/03/2021", "02/01/2021"], ("2021-01-03", "2021-02-01")),
    ],
)
def test_a_declared_period_format(pattern: str, labels: list[str], periods: tuple) -> None:
    """A declared format reads every label (two-digit years as POSIX strptime does:
    69-99 are 19xx, 00-68 are 20xx)."""
    from klastergeo.io.registry.period_labels import read_periods

    assert read_periods(labels, period_format=pattern, where="x").periods == periods


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("%Y-%j", "%j is not a period directive"),
        ("%d/%Y", "a day (%d) needs a month"),
        ("%m/%d", "needs one year"),
        ("%Y-%m-%m", "%m appears twice"),
        ("%Y-Q%q-%m", "a quarter (%q) cannot go with a month"),
        ("%Y%", "a lone % is not a period directive"),
    ],
)
def test_a_bad_period_format_is_a_configuration_error(pattern: str, problem: str) -> None:
    from klastergeo.app.config import load_config
    from klastergeo.errors import ConfigError

    with pytest.raises(ConfigError, match=re.escape(f"records.period_format={pattern!r}")) as err:
        load_config(None, overrides={"records.period_format": pattern})
    assert problem in str(err.value)
