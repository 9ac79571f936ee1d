"""Adversarial cases of runs over surveys (issue 24): periods as time, stray labels,
runs in which no survey has a sentra, ``--strict``, ``publish`` and ``model`` of a run
over surveys, and a fuzzing round over period labels.

Every case asserts the exit code (never 1) and the message (naming the file, key or
label) or the correct result. The surveys are the planted world of ``tests/test_periods``:
a furniture sentra in two villages of a 6 x 6 lattice that grows from survey to survey.
"""

from __future__ import annotations

import csv
import json
import os
import re
import string
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from klastergeo import KlastergeoError
from klastergeo.app.cli import app
from klastergeo.app.config import load_config
from klastergeo.app.pipeline.periods import split_by_period
from klastergeo.io.registry.period_labels import read_periods
from tests.worlds.lattice import custom_study, lattice_args

runner = CliRunner()

#: The planted surveys: year -> furniture firms of the two sentra villages (it grows).
SURVEYS = {2019: (20, 15), 2021: (30, 25), 2023: (45, 30)}
#: The same three surveys labelled three ways. In the old text order the dates and the
#: months sorted 2021, 2023, 2019 and 2023, 2019, 2021: the sentra "declined".
LABELS = {
    "years": {2019: "2019", 2021: "2021", 2023: "2023"},
    "dates": {2019: "15/06/2019", 2021: "01/03/2021", 2023: "10/01/2023"},
    "months": {2019: "Jun 2019", 2021: "Mar 2021", 2023: "Jan 2023"},
}
#: What each labelling's periods are named (time order).
NAMES = {
    "years": ["2019", "2021", "2023"],
    "dates": ["2019-06-15", "2021-03-01", "2023-01-10"],
    "months": ["2019-06", "2021-03", "2023-01"],
}
#: Other ways of writing the same period, given to some records of every survey.
VARIANTS = {
    "years": lambda label: [f" {label} ", f"{label}.0", label.translate(_FULL_WIDTH)],
    "dates": lambda label: [label.translate(_FULL_WIDTH), f"{label} 00:00:00"],
    "months": lambda label: [label.upper(), label.replace(" ", "  ")],
}
_FULL_WIDTH = str.maketrans(string.digits, "０１２３４５６７８９")
#: Missing values written as registries write them: records without a period.
MISSING = ["", "NA", "nan", "null", "-", "N/A", "None"]
QUICK = (
    "--permutations", "0", "--tiles", "none", "--set", "report.figures=none",
    "--set", "pointpattern.enabled=false",
)  # fmt: skip


def _flat(text: str) -> str:
    return " ".join(text.split())


def _surveys(folder: Path, labels: dict[int, str], *, sentra: bool = True) -> pd.DataFrame:
    """The planted surveys in one registry (``ukm.csv``), period column ``tahun``; some
    records of each survey write its label another way, and the last few have a
    missing value instead of a period."""
    parts = []
    for year, (a, b) in SURVEYS.items():
        if year not in labels:
            continue
        cells = {"r2c2": a, "r2c3": b} if sentra else {}
        part = custom_study(folder, (6, 6), cells, background={"10": 6, "31": 1}, seed=year)
        part = part.assign(id=part["id"] + f"-{year}", tahun=labels[year])
        variants = VARIANTS.get(_kind(labels), lambda label: [])(labels[year])
        for k, variant in enumerate(variants):  # a few records of each survey
            part.loc[part.index[k :: 7 + k], "tahun"] = variant
        parts.append(part)
    registry = pd.concat(parts, ignore_index=True)
    for token in MISSING:  # copies of a background firm, without a period
        registry.loc[len(registry)] = {
            **registry.iloc[-1].to_dict(),
            "id": f"x{token}",
            "tahun": token,
        }
    registry.to_csv(folder / "ukm.csv", index=False)
    return registry


def _kind(labels: dict[int, str]) -> str:
    return next((k for k, v in LABELS.items() if v == labels), "")


def _run(folder: Path, out: Path, *options: str, command: str = "run") -> object:
    args = lattice_args(command, folder, out, "--period-col", "tahun", *QUICK, *options,
                        records="ukm.csv")  # fmt: skip
    return runner.invoke(app, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three labellings' runs over surveys (the years' a full run, with its map;
    the others ``klastergeo sentra``, which makes the same tables faster)."""
    outs = {}
    for kind, labels in LABELS.items():
        folder = tmp_path_factory.mktemp(kind)
        _surveys(folder, labels)
        result = _run(folder, folder / "out", command="run" if kind == "years" else "sentra")
        assert result.exit_code == 0, result.output
        outs[kind] = folder / "out"
    return outs


def _as_positions(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """``frame`` with each period's name (in columns and cells) as its position in time
    (P1, P2 ...): what must not depend on how the periods were written."""
    to = {name: f"P{k + 1}" for k, name in enumerate(names)}
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    out = frame.rename(columns=lambda c: pattern.sub(lambda m: to[m.group(0)], c))
    return out.replace(to)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["dynamics.csv", "lineage_links.csv", "emerging_hot_spots.csv", "indicators.csv"]
)
def test_trends_do_not_depend_on_how_the_dates_are_written(labelled, name: str) -> None:
    """The same surveys labelled as years, as day-first dates and as month names (and,
    within each, in other spellings: full-width digits, 2019.0, upper case, a midnight
    time) give the same lineages, links, emerging hot spots and indicators, up to the
    period names; the periods are in time order in every one."""
    tables = {}
    for kind, out in labelled.items():
        assert sorted(p.name for p in (out / "periods").iterdir()) == NAMES[kind]
        assert json.loads((out / "summary.json").read_text())["periods"] == NAMES[kind]
        frame = pd.read_csv(out / name, dtype=str, keep_default_na=False)
        tables[kind] = _as_positions(frame, NAMES[kind])
    for kind in ("dates", "months"):
        pd.testing.assert_frame_equal(tables[kind], tables["years"])
    if name == "dynamics.csv":  # the planted sentra grows from the first survey to the last
        assert tables["years"]["trend"].tolist() == ["growing"]
        firms = tables["years"].iloc[0][["n_firms_P1", "n_firms_P2", "n_firms_P3"]].astype(float)
        assert firms.is_monotonic_increasing


@pytest.mark.slow
def test_spellings_of_one_period_are_one_period(labelled) -> None:
    """2019, ' 2019 ', 2019.0 and ２０１９ are the period 2019 (one folder, their records
    together); the missing values are no period: their records are in
    rejected_period.csv with their token."""
    out = labelled["years"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["period_format"] == "%Y"
    assert set(summary["period_labels"]["2019"]) == {"2019", " 2019 ", "2019.0", "２０１９"}
    registry = pd.read_csv(out.parent / "ukm.csv", dtype=str, keep_default_na=False)
    per_survey = registry["id"].str.extract(r"-(\d{4})$")[0].value_counts()
    for year in ("2019", "2021", "2023"):
        sentra = pd.read_csv(out / "periods" / year / "sentra.csv")
        kept = json.loads((out / "periods" / year / "summary.json").read_text())["records"]
        assert kept["read"] == per_survey[year] and len(sentra) == 1
    left = pd.read_csv(out / "rejected_period.csv", dtype=str, keep_default_na=False)
    assert left["reason"].unique().tolist() == ["missing_period"]
    assert left["tahun"].tolist() == MISSING
    assert left["detail"].iloc[0] == "no value in 'tahun'"
    assert left["detail"].iloc[1] == "'NA' in 'tahun' is a missing value"


@pytest.mark.slow
def test_publish_a_run_over_surveys(labelled, tmp_path: Path) -> None:
    """publish: the start page (with the change map and lineage table), the aggregate
    tables and every period's public site; firm-level files stay behind, and every
    link of the start page resolves inside the site."""
    out, site = labelled["years"], tmp_path / "site"
    result = runner.invoke(app, ["publish", str(out), "--site", str(site)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    top = {p.name for p in site.iterdir()}
    assert top == {
        "index.html", "map.html", "embed.html", "summary.json", "periods", "dynamics.csv",
        "lineage_links.csv", "indicators.csv", "emerging_hot_spots.csv", "results.xlsx",
    }  # fmt: skip
    for year in NAMES["years"]:
        own = {p.name for p in (site / "periods" / year).iterdir()}
        assert {"index.html", "map.html", "report.html", "sentra.csv", "areas.csv"} <= own
        assert not own & {"firms", "firms.geojson", "rejected.csv", "repaired.csv"}
        page = json.loads((site / "periods" / year / "summary.json").read_text())
        assert page["published"] == {"with_firms": False, "firm_decimals": None}
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<iframe src="map.html"' in index and "tumbuh" in index
    for href in re.findall(r'(?:href|src)="([^"#]+)"', index):
        assert (site / href).is_file(), href
    for path in site.rglob("*"):  # no machine path of the run leaves with the site
        if path.suffix in (".json", ".html", ".csv"):
            assert str(out.parent) not in path.read_text(encoding="utf-8"), path
    pd.testing.assert_frame_equal(
        pd.read_csv(site / "dynamics.csv"), pd.read_csv(out / "dynamics.csv")
    )


@pytest.mark.slow
def test_publish_with_firms_and_a_sentra_only_run(labelled, tmp_path: Path) -> None:
    """--with-firms publishes each period's firms (rounded) and nothing firm-level at the
    top; a `klastergeo sentra` run over surveys (no maps) publishes its start page,
    whose every link resolves."""
    site = tmp_path / "firms"
    args = ["publish", str(labelled["years"]), "--site", str(site), "--with-firms"]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert all((site / "periods" / y / "firms.geojson").exists() for y in NAMES["years"])
    assert not list(site.glob("firms*")) and not (site / "rejected_period.csv").exists()
    site = tmp_path / "sentra"
    result = runner.invoke(app, ["publish", str(labelled["months"]), "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert not (site / "map.html").exists() and (site / "dynamics.csv").exists()
    index = (site / "index.html").read_text(encoding="utf-8")
    for href in re.findall(r'(?:href|src)="([^"#]+)"', index):
        assert (site / href).is_file(), href
    assert 'href="periods/2019-06/report.html"' in index


def test_a_column_of_ids_is_no_period_column(tmp_path: Path) -> None:
    """--period-col naming a column of ids (more than 10,000 different values): exit 2
    before any period is analysed, not ten thousand runs."""
    custom_study(tmp_path, (3, 3), {})
    rows = [f"F{k},110.1,-7.5,31001,2019" for k in range(10_050)]
    (tmp_path / "ukm.csv").write_text("id,lon,lat,kbli,tahun\n" + "\n".join(rows) + "\n")
    args = lattice_args("run", tmp_path, tmp_path / "out", "--period-col", "id",
                        records="ukm.csv")  # fmt: skip
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert (
        "records.period_col='id' of 'ukm.csv' holds more than 10,000 different values "
        "(e.g. 'F0', 'F1', 'F2')" in _flat(result.output)
    )


@pytest.mark.slow
def test_no_survey_with_a_sentra_is_a_complete_run(tmp_path: Path) -> None:
    """No survey has a sentra: exit 0, empty lineage tables with their columns, and the
    start page says there is none (it used to end with KeyError: 'sector')."""
    _surveys(tmp_path, {2019: "2019", 2023: "2023"}, sentra=False)
    result = _run(tmp_path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    lineages = pd.read_csv(out / "dynamics.csv")
    assert len(lineages) == 0
    assert {"lineage_id", "trend", "n_firms_2019", "n_firms_2023", "firms_growth"} <= set(
        lineages.columns
    )
    assert len(pd.read_csv(out / "lineage_links.csv")) == 0
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Tidak ada sentra pada periode mana pun" in index and "<table" not in index
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sentra"] == {"2019": 0, "2023": 0} and sum(summary["lineages"].values()) == 0
    site = tmp_path / "site"
    published = runner.invoke(app, ["publish", str(out), "--site", str(site)])
    assert published.exit_code == 0, published.output
    assert (site / "periods" / "2023" / "index.html").exists()


def test_strict_stops_with_the_report_beside_the_outputs(tmp_path: Path) -> None:
    """--strict and a rejected record in one survey: exit 2 naming the registry, the
    period and the report, which is in <out>.rejected/ (it used to be written in the
    staging folder and deleted with it)."""
    registry = _surveys(tmp_path, {2019: "2019", 2023: "2023"}).iloc[: -len(MISSING)]
    registry["lat"] = registry["lat"].astype(object)
    registry.loc[3, "lat"] = "utara"
    registry.to_csv(tmp_path / "ukm.csv", index=False)
    out = tmp_path / "out"
    result = _run(tmp_path, out, "--strict")
    assert result.exit_code == 2, result.output
    report = tmp_path / "out.rejected" / "rejected.csv"
    assert (
        f"--strict: 1 record(s) rejected and 0 repaired in {str(tmp_path / 'ukm.csv')!r} "
        f"(period 2019)" in _flat(result.output)
    )
    assert f"see {str(report)!r}" in _flat(result.output)
    assert pd.read_csv(report, dtype=str)["id"].tolist() == [registry.loc[3, "id"]]
    summary = json.loads((report.parent / "summary.json").read_text())
    assert summary["period"] == "2019" and summary["config"]["records"]["path"].endswith("ukm.csv")
    assert not out.exists() and not list(tmp_path.glob(".out.staging-*"))


def test_strict_stops_at_records_without_a_period(tmp_path: Path) -> None:
    """--strict and records whose period is a missing value: exit 2 before any period
    is analysed, their report in <out>.rejected/rejected_period.csv."""
    _surveys(tmp_path, {2019: "2019", 2023: "2023"})
    result = _run(tmp_path, tmp_path / "out", "--strict")
    assert result.exit_code == 2, result.output
    report = tmp_path / "out.rejected" / "rejected_period.csv"
    assert f"have no period in 'tahun' (missing_period: {len(MISSING)})" in _flat(result.output)
    assert f"see {str(report)!r}" in _flat(result.output)
    assert pd.read_csv(report, dtype=str, keep_default_na=False)["tahun"].tolist() == MISSING
    assert not (tmp_path / "out").exists()


def _labels_case(tmp_path: Path, labels: list[str], *options: str) -> object:
    """A run over surveys whose records carry ``labels`` (in turn)."""
    registry = custom_study(tmp_path, (4, 4), {}, background={"10": 2, "31": 1})
    registry["tahun"] = [labels[k % len(labels)] for k in range(len(registry))]
    registry.to_csv(tmp_path / "ukm.csv", index=False)
    return _run(tmp_path, tmp_path / "out", *options)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("labels", "options", "message"),
    [
        (["2019", "2023", "Mar 2023"], (),
         "records.period_col='tahun' of 'ukm.csv': no one period format reads every label: "
         "'2019', '2023' read as a year in the format '%Y', but 'Mar 2023' (16 records, first "
         "at row 3) cannot"),
        (["2019", "2019.5"], (), "but '2019.5' (24 records, first at row 2) cannot"),
        (["15/06/2019", "31/04/2021"], (), "but '31/04/2021' (24 records, first at row 2) cannot"),
        (["15/06/2019", "01/03/2023"], ("--period-format", "year"),
         "period label(s) '15/06/2019' (24 records, first at row 1), '01/03/2023' (24 records, "
         "first at row 2) cannot be read as '%Y' (records.period_format='year')"),
        (["Mar-19", "Sep-23"], (), "'Mar-19' (24 records, first at row 1), 'Sep-23'"),
        (["2019", "1850"], (), "but '1850' (24 records, first at row 2) cannot"),
        (["2019", "NA", "-"], (), "holds 1 period(s) (2019) and 32 record(s) without one"),
        (["2019", "2023"], ("--period-format", "%Y-%j"),
         "records.period_format='%Y-%j' is not accepted: %j is not a period directive"),
    ],
    ids=["a month beside years", "a fraction of a year", "31 April", "dates as year",
         "two-digit years", "1850", "one period", "a bad pattern"],
)  # fmt: skip
def test_an_unreadable_label_is_exit_2_naming_it(
    tmp_path: Path, labels: list[str], options: tuple[str, ...], message: str
) -> None:
    result = _labels_case(tmp_path, labels, *options)
    assert result.exit_code == 2, result.output
    assert message in _flat(result.output), result.output
    assert "accepted" in result.output or "period(s)" in result.output
    assert not (tmp_path / "out").exists()


def test_declared_two_digit_years_are_read(tmp_path: Path) -> None:
    """--period-format %b-%y reads Mar-19 as March 2019 (POSIX: 00-68 are 20xx)."""
    from klastergeo.io.registry.period_labels import read_periods

    got = read_periods(["Sep-23", "Mar-19"], period_format="%b-%y", where="x")
    assert got.periods == ("2019-03", "2023-09")


def test_several_registries_labelled_as_one_period(tmp_path: Path) -> None:
    """--periods 2019,２０１９ (or 2019.0) give two registries the same period: exit 2
    naming both files; a file name without a year asks for --periods."""
    custom_study(tmp_path, (3, 3), {})
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("id,lon,lat,kbli\n1,110,-7,31\n", encoding="utf-8")
    base = ["run", "--records", str(tmp_path / "a.csv"), "--records", str(tmp_path / "b.csv"),
            "--boundaries", str(tmp_path / "desa.gpkg"), "--area-id-col", "kode",
            "--out", str(tmp_path / "out")]  # fmt: skip
    for labels in ("2019,２０１９", "2019,2019.0"):
        result = runner.invoke(app, [*base, "--periods", labels], catch_exceptions=False)
        assert result.exit_code == 2, result.output
        assert "'a.csv' and 'b.csv' are both period 2019" in _flat(result.output)
    result = runner.invoke(app, [*base, "--periods", "2019,Mar 2023"], catch_exceptions=False)
    assert result.exit_code == 2 and "'Mar 2023'" in _flat(result.output)
    result = runner.invoke(app, base, catch_exceptions=False)
    assert result.exit_code == 2
    assert "the period of 'a.csv', 'b.csv' is not one year in the file name" in _flat(result.output)
    assert not (tmp_path / "out").exists()


def test_model_over_surveys_says_what_to_do(tmp_path: Path) -> None:
    """klastergeo model --period-col: exit 2 in the user's terms (no internal names)."""
    _surveys(tmp_path, {2019: "2019", 2023: "2023"})
    args = lattice_args("model", tmp_path, tmp_path / "out", "--period-col", "tahun",
                        records="ukm.csv")  # fmt: skip
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 2, result.output
    text = _flat(result.output)
    assert "records.period_col='tahun' (--period-col) asks for several survey periods" in text
    assert "`klastergeo run --period-col tahun` fits every period's models" in text
    assert "run_periods" not in text and "pipeline" not in text


# Fuzzing round -------------------------------------------------------------------------

EXAMPLES = int(os.environ.get("KLASTERGEO_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("KLASTERGEO_FUZZ_RANDOM") is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
#: How a period of each unit may be written, and the pattern that reads it; the last
#: ones of "day" are month first (read so by auto only when some day is over 12).
STYLES: dict[str, list[tuple[str, str]]] = {
    "year": [("%Y", "{Y}"), ("%Y", "{Y}.0"), ("%Y", "{Y}.00"), ("%Y", "{Y0}.{Y1}e3")],
    "quarter": [("%Y-Q%q", "{Y}-Q{q}"), ("%Y Q%q", "{Y}Q{q}"), ("Q%q %Y", "Q{q} {Y}")],
    "month": [("%Y-%m", "{Y}-{m}"), ("%m/%Y", "{m}/{Y}"), ("%b %Y", "{b} {Y}"),
              ("%b %Y", "{B} {Y}"), ("%Y/%m", "{Y}/{m}")],
    "day": [("%Y-%m-%d", "{Y}-{m}-{d}"), ("%d/%m/%Y", "{d}/{m}/{Y}"),
            ("%d.%m.%Y", "{d}.{m}.{Y}"), ("%d %b %Y", "{d} {B} {Y}"),
            ("%Y%m%d", "{Y}{m}{d}"), ("%m/%d/%Y", "{m}/{d}/{Y}")],
}  # fmt: skip
_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
       "September", "Oktober", "November", "Desember"]  # fmt: skip
#: Decimal digits of other scripts (full-width, Arabic-Indic, Devanagari, Thai,
#: mathematical bold): each counts as its ASCII digit.
SCRIPTS = [0xFF10, 0x0660, 0x0966, 0x0E50, 0x1D7CE]
SPACES = ["", " ", "\u00a0", "\t", "\u200b", "\ufeff", "  "]
MISSING_WRITTEN = ["", " ", "NA", "n/a", "N/A", "nan", "NaN", "null", "NULL", "None", "-",
                   "--", "\u2014", "?", "#N/A", "<NA>", "NaT"]  # fmt: skip


def _canonical(day: date, unit: str) -> str:
    quarter = (day.month - 1) // 3 + 1
    return {"year": f"{day.year}", "quarter": f"{day.year}-Q{quarter}",
            "month": f"{day:%Y-%m}", "day": f"{day:%Y-%m-%d}"}[unit]  # fmt: skip


def _named(label: str, message: str) -> bool:
    """Whether ``message`` names ``label`` (a long one by its first 57 characters)."""
    return repr(label if len(label) <= 60 else label[:57] + "...") in message


@st.composite
def written(draw: st.DrawFn, *, least: int = 1, strays: int = 2) -> dict[str, object]:
    """Labels of ``least`` to 5 planted periods in one style, each decorated (other
    digits, whitespace, case), with missing values and, in about ``strays`` draws out of
    four, a stray label."""
    unit = draw(st.sampled_from(list(STYLES)))
    pattern, style = draw(st.sampled_from(STYLES[unit]))
    days = draw(
        st.lists(st.dates(date(1950, 1, 1), date(2090, 12, 31)), min_size=least, max_size=5)
    )
    labels, planted = [], {}
    for day in days:
        text = style.format(
            Y=day.year, Y0=str(day.year)[0], Y1=str(day.year)[1:], m=f"{day.month:02d}",
            d=f"{day.day:02d}", q=(day.month - 1) // 3 + 1, b=_EN[day.month - 1],
            B=draw(st.sampled_from([_ID, _EN]))[day.month - 1],
        )  # fmt: skip
        script = draw(st.sampled_from([None, *SCRIPTS]))
        if script is not None:
            text = "".join(chr(script + int(c)) if c.isdigit() else c for c in text)
        text = draw(st.sampled_from([text, text.upper(), text.lower()]))
        text = draw(st.sampled_from(SPACES)) + text + draw(st.sampled_from(SPACES))
        labels.append(text)
        planted[text] = day
    labels += draw(st.lists(st.sampled_from(MISSING_WRITTEN), max_size=3))
    stray = (
        None
        if draw(st.integers(0, 3)) >= strays
        else draw(
            st.one_of(
                st.none(),
                st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
                st.text(st.characters(blacklist_categories=("Cs",)), min_size=61, max_size=200),
                st.sampled_from(["2019.5", "1850", "31/02/2020", "Triwulan I 2019", "Sep-19", "0"]),
            )
        )
    )
    if stray is not None:
        labels.append(stray)
    order = draw(st.permutations(labels))
    declared = draw(st.booleans())
    return {"labels": order, "unit": unit, "pattern": pattern, "planted": planted,
            "stray": stray, "format": pattern if declared else "auto"}  # fmt: skip


@pytest.mark.slow
@FUZZ
@given(case=written())
def test_fuzz_period_labels(case: dict[str, object]) -> None:
    """Never an unexpected exception: either an error (exit 2) naming a label, or
    periods in time order with every label read as what it was meant to be."""
    labels = list(case["labels"])  # type: ignore[call-overload]
    try:
        got = read_periods(labels, period_format=str(case["format"]), where="column 'tahun'")
    except KlastergeoError as err:
        event("exit 2, a stray label" if case["stray"] is not None else "exit 2")
        assert any(_named(label, str(err)) for label in labels), str(err)
        assert "column 'tahun'" in str(err) and "accepted" in str(err)
        return
    event(f"read: {got.unit}, {'declared' if case['format'] != 'auto' else 'auto'}")
    assert list(got.periods) == sorted(set(got.periods))  # time order, each once
    assert all(re.fullmatch(r"\d{4}(-Q[1-4]|-\d\d(-\d\d)?)?", p) for p in got.periods)
    assert set(got.of) == set(labels)
    for label in MISSING_WRITTEN:
        if label in got.of:
            assert got.of[label] is None
    planted: dict[str, date] = case["planted"]  # type: ignore[assignment]
    ambiguous = case["format"] == "auto" and case["pattern"] == "%m/%d/%Y"
    if case["stray"] is None and not ambiguous:
        unit = str(case["unit"])
        for label, day in planted.items():
            assert got.of[label] == _canonical(day, unit), (label, got.of[label])


@pytest.mark.slow
@settings(FUZZ, max_examples=max(EXAMPLES // 3, 10))
@given(case=written(least=2, strays=1), size=st.sampled_from([1, 3, 1000]))
def test_fuzz_split_by_period(case: dict[str, object], size: int, tmp_path_factory) -> None:
    """The split of a CSV registry whose period column holds fuzzed labels: a clear
    error (exit 2) naming a label or the column, or one file per period in time order,
    each with exactly its records, and the missing values left out with their reason."""
    folder = tmp_path_factory.mktemp("split")
    labels = list(case["labels"])  # type: ignore[call-overload]
    if any(c in label for label in labels for c in "\r\n\x00"):
        labels = [re.sub(r"[\r\n\x00]", "", label) for label in labels]
    with (folder / "ukm.csv").open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, quoting=csv.QUOTE_ALL)
        out.writerow(["id", "lon", "lat", "kbli", "tahun"])
        for k in range(2 * len(labels)):
            out.writerow([f"f{k}", "110.1", "-7.5", "31001", labels[k % len(labels)]])
    config = load_config(None, overrides={
        "records.path": str(folder / "ukm.csv"), "records.period_col": "tahun",
        "records.period_format": str(case["format"]), "records.batch_size": size,
    })  # fmt: skip
    (folder / "work").mkdir()
    try:
        split = split_by_period(config, folder / "work")
    except KlastergeoError as err:
        text = str(err)
        event("exit 2, a stray label" if case["stray"] is not None else "exit 2")
        assert "'tahun'" in text and "'ukm.csv'" in text, text
        assert any(_named(label, text) for label in labels) or "period(s)" in text, text
        return
    event(f"split into {len(split.files)} periods")
    assert list(split.files) == sorted(split.files) and len(split.files) >= 2
    got = read_periods(labels, period_format=str(case["format"]), where="x")
    assert tuple(split.files) == got.periods
    for period, path in split.files.items():
        ids = pd.read_parquet(path)["id"].str[1:].astype(int)
        assert sorted(got.of[labels[k % len(labels)]] for k in ids) == [period] * len(ids)
    rows = split.missing["row"].astype(int) - 1
    assert all(got.of[labels[k % len(labels)]] is None for k in rows)
    assert set(split.missing["reason"]) <= {"missing_period"}
    assert len(rows) + sum(len(pd.read_parquet(p)) for p in split.files.values()) == 2 * len(labels)
