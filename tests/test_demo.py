"""The demo generator (:mod:`klastergeo.io.datasets.demo`): reproducible, planted where the
studies are, faults as declared; and ``klastergeo demo`` scored against its planted truth
(:mod:`tests.worlds.demo_truth`)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from klastergeo.app.demo import run_demo
from klastergeo.io import boundaries
from klastergeo.io.datasets import demo
from klastergeo.io.registry.records import read_records, validate_records
from klastergeo.publish import messages
from tests.worlds import demo_truth
from tests.worlds.language import english, visible


@pytest.fixture(scope="module")
def villages(data_dir: Path):
    return boundaries.load_areas("desa", area="33", source=data_dir)


def test_same_seed_same_registry(villages) -> None:
    a = demo.generate_registry(villages, n_background=3000, n_decoy=500, seed=5)
    b = demo.generate_registry(villages, n_background=3000, n_decoy=500, seed=5)
    c = demo.generate_registry(villages, n_background=3000, n_decoy=500, seed=6)
    pd.testing.assert_frame_equal(a.registry, b.registry)
    assert not a.registry["lintang"].equals(c.registry["lintang"])


def test_planted_firms_lie_in_their_villages(villages) -> None:
    generated = demo.generate_registry(villages, n_background=3000, n_decoy=500, seed=1)
    registry = generated.registry
    for planted in demo.PLANTED:
        for code, n in planted.villages:
            in_village = registry.loc[
                (registry["desa"] == code) & (registry["kbli"] == planted.kbli)
            ]
            assert len(in_village) >= n * 0.9, (planted.key, code)  # a few may be damaged
    # the village column is the truth: every clean firm lies in its village polygon
    report = validate_records(read_records_from(registry), areas=villages)
    kept = report.records
    assert (kept["area_code"] == kept["desa"]).mean() > 0.99
    # a firm placed elsewhere lies in an overlap of its village and the one it got
    other = kept.loc[kept["area_code"] != kept["desa"]]
    points = shapely.points(other.geometry.x.to_numpy(), other.geometry.y.to_numpy())
    for column in ("desa", "area_code"):
        shapes = villages.to_crs(other.crs).geometry.reindex(other[column]).to_numpy()
        assert shapely.contains(shapes, points).all(), column


def read_records_from(frame: pd.DataFrame):
    from klastergeo.io.registry.records import RawRecords

    return RawRecords(frame=frame, source=Path("demo.csv"), format="csv", delimiter=";")


def test_export_logit_signs(villages) -> None:
    generated = demo.generate_registry(villages, n_background=20_000, n_decoy=0, seed=2)
    frame = generated.registry
    numbers = {
        c: pd.to_numeric(frame[c], errors="coerce") for c in demo.EXPORT_LOGIT if c != "const"
    }
    X = pd.DataFrame(numbers)
    y = pd.to_numeric(frame["ekspor"])
    import statsmodels.api as sm

    ok = X.notna().all(axis=1)
    fit = sm.Logit(y[ok], sm.add_constant(X[ok])).fit(disp=0)
    for name, beta in demo.EXPORT_LOGIT.items():
        low, high = fit.conf_int().loc[name]
        assert low <= beta <= high, name


def test_written_registry_reads_back(villages, tmp_path: Path) -> None:
    generated = demo.generate_registry(villages, n_background=2000, n_decoy=200, seed=3)
    paths = demo.write_registry(generated, tmp_path)
    assert paths["registry"].read_bytes().startswith(b"\xef\xbb\xbf")
    raw = read_records(paths["registry"])
    assert raw.delimiter == ";"
    report = validate_records(raw, areas=villages)
    assert report.by_reason["duplicate_record"] == demo.FAULTS["duplicate_record"]
    assert report.n_repaired == demo.SWAPPED
    truth = pd.read_csv(paths["truth"], dtype=str)
    assert list(truth["key"]) == [p.key for p in demo.PLANTED]
    assert np.isin(truth["core_area"], villages.index).all()


def test_model_command_on_the_demo_registry(villages, tmp_path: Path) -> None:
    """The Tumang export logit, from the CLI: coefficients and the studies' table."""
    from typer.testing import CliRunner

    from klastergeo.app.cli import app

    generated = demo.generate_registry(villages, n_background=4000, n_decoy=0, seed=4)
    paths = demo.write_registry(generated, tmp_path)
    predictors = ",".join(k for k in demo.EXPORT_LOGIT if k != "const")
    result = CliRunner().invoke(
        app,
        [
            "model",
            "--records",
            str(paths["registry"]),
            "--outcome",
            "ekspor",
            "--predictors",
            predictors,
            "--kind",
            "logit",
            "--out",
            str(tmp_path / "out"),
            "--lang",
            "en",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    for text in ("Logit: ekspor", "Classification table", "ekspor = 1", "overall"):
        assert text in result.output, text
    models_dir = tmp_path / "out" / "models"
    for name in (
        "logit_coefficients.csv",
        "logit_fit.json",
        "logit_classification.csv",
        "logit_marginal_effects.csv",
        "logit.md",
        "logit.tex",
    ):
        assert (models_dir / name).exists(), name
    table = pd.read_csv(models_dir / "logit_classification.csv", dtype={"actual": str})
    table = table.set_index("actual")
    assert table.loc["1", "n"] + table.loc["0", "n"] == table.loc["all", "n"]
    assert table.loc["1", "mean_probability"] > table.loc["0", "mean_probability"]
    # every kept record is used; without a study area, swapped coordinates cannot be
    # repaired (they are rejected as out of range) and nothing is "outside"
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert table.loc["all", "n"] == summary["records"]["kept"]
    rejected = summary["records"]["by_reason"]
    assert rejected["out_of_range"] == demo.FAULTS["out_of_range"] + demo.SWAPPED
    assert rejected["outside_study_area"] == 0


def test_the_earlier_survey_plants_the_changes(villages) -> None:
    """2019's sentra: Tumang smaller, Troso larger, Juwana absent, and a roof-tile sentra
    in two neighbouring Kebumen villages that 2023 no longer has."""
    earlier = {p.key: p for p in demo.earlier_planted(villages)}
    now = {p.key: p for p in demo.PLANTED}
    assert "juwana" not in earlier and "genteng" not in now
    assert earlier["tumang"].n_firms < now["tumang"].n_firms * 0.7
    assert earlier["troso"].n_firms > now["troso"].n_firms * 1.3
    (a, _), (b, _) = earlier["genteng"].villages
    assert a.startswith("33.05.") and b.startswith("33.05.")
    assert villages.geometry[a].touches(villages.geometry[b])
    untouched = set(now) - set(demo.EARLIER_SHARE)
    assert all(earlier[k].villages == now[k].villages for k in untouched)


@pytest.mark.slow
def test_the_demo_follows_its_sentra_across_two_surveys(data_dir, tmp_path) -> None:
    """The demo end to end on a smaller background: both surveys analysed, every
    planted sentra of 2023 found, and every planted lineage with its trend."""
    made = run_demo(tmp_path / "demo", boundaries=data_dir, background=4000, permutations=0)
    scored = demo_truth.score_run(tmp_path / "demo")  # from the files, as `make demo` does
    assert scored.scores["found"].all() and scored.unmatched == 0
    assert scored.trends is not None and scored.trends["trend_ok"].all(), scored.trends
    # the files give what the run's own tables give
    truth = pd.read_csv(made.truth["truth"], dtype=str, keep_default_na=False)
    in_memory, unmatched = demo_truth.score_recovery(truth, made.result.sentra)
    pd.testing.assert_frame_equal(in_memory, scored.scores)
    assert unmatched == scored.unmatched
    # the planted value chains: copper-sheet rollers (24) at Tumang, fabric (13) at Bergas
    assert scored.related is not None and len(scored.related) == 2, scored.related
    assert scored.related["found"].all(), scored.related
    report = (tmp_path / "demo" / "periods" / "2023" / "report.html").read_text(encoding="utf-8")
    # Tumang's section (villages of Cepogo): its supplier of metal sheets in the table of related industries
    tumang = re.search(r"<h3>25-\d+ - Cepogo[^<]*</h3>(.*?)<h[23]>", report, re.S)
    assert tumang is not None
    assert '24 Industri logam dasar</td><td class="text">pemasok</td>' in tumang.group(1)
    assert (
        dict(zip(scored.trends["key"], scored.trends["expected"], strict=True))["juwana"] == "new"
    )
    assert (tmp_path / "demo" / "periods" / "2019" / "map.html").exists()
    # two surveys: the start page says why there are no emerging hot spots (issue 27)
    start = (tmp_path / "demo" / "index.html").read_text(encoding="utf-8")
    said = messages.text("dynamics", "id")["emerging_too_few"].format(periods=2)
    assert html.escape(said) in start
    assert not english(visible(start)), english(visible(start))  # figures' alt texts too
    assert 'alt="Sentra menurut arah riwayatnya, 2019"' in start
    assert made.result.out == tmp_path / "demo" / "periods" / "2023"
    assert "planted lineage trends recovered (2019 to 2023): 11/11" in scored.lines()[-1]
    # the regencies of the indicators are named from the boundaries' kabupaten layer
    indicators = pd.read_csv(
        tmp_path / "demo" / "indicators.csv", dtype={"sector": str, "regency": str}
    )
    kabupaten = pd.read_parquet(data_dir / "kabupaten.parquet", columns=["kode", "nama"])
    expected = kabupaten.set_index("kode")["nama"]
    named = indicators.set_index("regency")["regency_name"]
    assert (named == expected.reindex(named.index)).all()
    tiles = indicators.loc[(indicators["regency"] == "33.05") & (indicators["sector"] == "23")]
    assert tiles["n_firms_change"].iloc[0] < 0  # the roof-tile sentra is gone by 2023
