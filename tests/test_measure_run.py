"""A run with ``--measure workers,output``: measures.csv holds the statistics the
analysis function gives, suppressed sums are blank and what would give them back is
withheld; without the option the outputs are those of a firm-count run."""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from libpysal.graph import Graph
from openpyxl import load_workbook
from typer.testing import CliRunner

from klastergeo.analysis import measure
from klastergeo.app.cli import app
from klastergeo.app.config import load_config
from klastergeo.app.pipeline import firm_output
from klastergeo.errors import ConfigError
from klastergeo.publish import maps, messages
from klastergeo.schema import MEASURE_COLUMNS
from tests.worlds.browser import CHROMIUM, FLAGS
from tests.worlds.decoding import varints
from tests.worlds.lattice import custom_study

runner = CliRunner()
QUICK = (
    '[area]\nboundaries = "desa.gpkg"\nid_col = "kode"\n'
    "[analysis]\npermutations = 99\nmin_sector_firms = 5\n[pointpattern]\nenabled = false\n"
    '[report]\nfigures = "none"\n[map]\ntiles = "none"\n'
)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 x 6 lattice with a furniture sentra; skewed workers and output, some missing,
    and one big firm alone in its cell (dominance)."""
    folder = tmp_path_factory.mktemp("measures")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 40, "r2c3": 25}, background={"10": 8, "31": 1}, seed=4
    )
    rng = np.random.default_rng(4)
    n = len(registry)
    registry["workers"] = np.round(rng.lognormal(1.5, 0.4, n)) + 1
    registry["output"] = np.round(rng.gamma(1.5, 30.0, n), 1)
    registry.loc[rng.random(n) < 0.1, "workers"] = np.nan  # missing, not 0
    registry.to_csv(folder / "firms.csv", index=False)
    (folder / "quick.toml").write_text(QUICK, encoding="utf-8")
    return folder


def _run(study: Path, out: Path, *extra: str) -> Path:
    args = [
        "run",
        "--config",
        str(study / "quick.toml"),
        "--records",
        str(study / "firms.csv"),
        "--out",
        str(out),
        *extra,
    ]
    done = runner.invoke(app, args, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return out


@pytest.fixture(scope="module")
def runs(study: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A firm-count run, one with workers and output, and one with workers and no
    disclosure control."""
    base = tmp_path_factory.mktemp("runs")
    return (
        _run(study, base / "firms"),
        _run(study, base / "measures", "--measure", "workers,output"),
        _run(
            study,
            base / "open",
            "--measure",
            "workers",
            "--set",
            "disclosure.enabled=false",
            "--set",
            "analysis.spec_margin=1.1",
        ),
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _measures(out: Path) -> pd.DataFrame:
    table = pd.read_csv(
        out / "measures.csv", dtype={"area_code": str, "sector": str, "value_flag": object}
    )
    assert tuple(table.columns) == MEASURE_COLUMNS
    return table.set_index(["measure", "area_code", "sector"])


def test_firm_count_outputs_are_unchanged(runs) -> None:
    plain, measured, _ = runs
    assert not (plain / "measures.csv").exists()
    for name in ("areas.parquet", "sentra.csv", "global.csv", "concentration.csv"):
        assert _digest(plain / name) == _digest(measured / name), name


def test_measures_csv_holds_the_analysis_functions_numbers(study: Path, runs) -> None:
    """Without disclosure control, every column equals measure_statistics on the run's
    firms and weights (queen contiguity of the lattice), with the run's
    ``analysis.spec_margin`` (1.1 there; the default's p-values differ)."""
    _, _, open_run = runs
    table = _measures(open_run)
    assert set(table.index.get_level_values("measure")) == {"firms", "workers"}
    firms = firm_output.read_firms(open_run)
    areas = gpd.read_file(study / "desa.gpkg").set_index("kode").to_crs(32749)
    graph = Graph.build_contiguity(areas, rook=False)  # queen, as the run's
    written = table.xs("workers", level="measure")
    analysed = sorted(written.index.get_level_values("sector").unique())
    ours = measure.measure_statistics(
        firms, graph, measure="workers", sectors=analysed, permutations=99, seed=0, spec_fdr=True,
        margin=1.1,
    )  # fmt: skip
    default = measure.measure_statistics(
        firms, graph, measure="workers", sectors=analysed, permutations=99, seed=0, spec_fdr=True
    )
    assert not np.allclose(default["spec_p"], ours["spec_p"])
    written = written.reindex(ours.index)
    assert (written["value_flag"].fillna("") == "").all()
    for column in ours.columns:
        np.testing.assert_allclose(
            written[column].to_numpy(float), ours[column].to_numpy(float), rtol=1e-9,
            err_msg=column,
        )  # fmt: skip
    assert np.isfinite(written["gi_z"]).all() and np.isfinite(written["lq"]).any()
    # some firms have no workers: coverage below 1 somewhere, never above
    assert (written["coverage"].dropna() <= 1).all() and (written["coverage"] < 1).any()
    # the firms' rows: the firm counts' statistics (the area table's) and their bivariate
    counted = table.xs("firms", level="measure")
    theirs = measure.measure_statistics(
        firms, graph, measure="firms", sectors=analysed, permutations=99, seed=0, spec_fdr=True,
        margin=1.1,
    )  # fmt: skip
    counted = counted.reindex(theirs.index)
    for column in theirs.columns:
        np.testing.assert_allclose(
            counted[column].to_numpy(float), theirs[column].to_numpy(float), rtol=1e-9,
            err_msg=column,
        )  # fmt: skip
    areas_table = pd.read_parquet(open_run / "areas.parquet").set_index(["area_code", "sector"])
    for column in ("lq", "spec_p", "spec_bin", "gi_z", "lisa_quadrant"):
        np.testing.assert_allclose(
            counted[column].to_numpy(float),
            areas_table[column].reindex(counted.index).to_numpy(float),
            rtol=1e-9,
            err_msg=column,
        )


def test_the_bivariate_local_moran_is_esdas_on_the_runs_sums(study: Path, runs) -> None:
    """bv_i of every measure (firms and workers) is esda's Moran_Local_BV of the sector's
    area sums against all firms' sums of the measure (every sector, firms without a value
    left out), summed here from the run's firms with pandas; the quadrants are GeoDa's
    where bv_p is at most 0.05 and 0 elsewhere."""
    import warnings

    import esda

    _, _, open_run = runs
    table = _measures(open_run)
    firms = firm_output.read_firms(open_run)
    areas = gpd.read_file(study / "desa.gpkg").set_index("kode").to_crs(32749)
    graph = Graph.build_contiguity(areas, rook=False)
    ids = pd.Index(graph.unique_ids)
    checked = 0
    for name in ("firms", "workers"):
        rows = table.xs(name, level="measure")
        kept = firms if name == "firms" else firms.dropna(subset=[name])
        weight = 1.0 if name == "firms" else kept[name]
        sums = (
            kept.assign(v=weight)
            .groupby(["area_code", "sector"])["v"]
            .sum()
            .unstack(fill_value=0.0)
            .reindex(ids, fill_value=0.0)
        )
        for sector in rows.index.get_level_values("sector").unique():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = esda.Moran_Local_BV(
                    sums[sector].to_numpy(), sums.sum(axis=1).to_numpy(), graph.transform("r"),
                    permutations=0, geoda_quads=True,
                )  # fmt: skip
            ours = rows.xs(sector, level="sector").reindex(ids)
            np.testing.assert_allclose(ours["bv_i"], ref.Is, rtol=1e-9)
            significant = (ours["bv_p"] <= 0.05).to_numpy()
            assert (ours["bv_quadrant"].to_numpy()[significant] == ref.q[significant]).all()
            assert (ours["bv_quadrant"].to_numpy()[~significant] == 0).all()
            checked += 1
    assert checked >= 4
    assert (table["bv_quadrant"] > 0).any() and table["bv_p"].between(0, 1).all()


def test_suppressed_sums_and_what_gives_them_back_are_blank(runs) -> None:
    """The cells the area table suppresses are blank in measures.csv too (sum and
    quotient), a sum of fewer than three reporting firms is never published, and a
    sector with a suppressed cell publishes no continuous statistic of its sums (bins,
    quadrants and pseudo p-values stay)."""
    _, measured, open_run = runs
    table = _measures(measured)
    areas = pd.read_parquet(measured / "areas.parquet").set_index(["area_code", "sector"])
    raw = _measures(open_run).xs("workers", level="measure")
    for name in ("workers", "output"):
        rows = table.xs(name, level="measure")
        flags = areas[f"{name}_flag"].reindex(rows.index).fillna("")
        hidden = rows["value_flag"].fillna("") == "suppressed"
        assert hidden.any() and (~hidden).sum() > 20
        assert (hidden.to_numpy() == (flags == "suppressed").to_numpy()).all()
        assert rows.loc[hidden, ["value", "lq", "lq_low", "lq_high"]].isna().all().all()
        # no area with a suppressed cell publishes a quotient: value / lq would give its
        # total up to a constant per sector, and the total less the rest the hidden cell
        holding = rows.index[hidden.to_numpy()].get_level_values("area_code").unique()
        in_holding = rows.index.get_level_values("area_code").isin(holding)
        assert rows.loc[in_holding, ["lq", "lq_low", "lq_high", "lq_p"]].isna().all().all()
        assert _area_totals_recovered(rows, hidden).index.intersection(holding).empty
        few = (rows["n_valued"] > 0) & (rows["n_valued"] < 3)
        assert few.any() and rows.loc[few, "value"].isna().all()
        sectors = set(rows.index[hidden.to_numpy()].get_level_values("sector"))
        for sector in sectors:
            blank = rows.xs(sector, level="sector")
            statistics = ["gi_z", "gi_p", "lisa_i", "lisa_p", "spec_ratio", "bv_i"]
            assert blank[statistics].isna().all().all()
            assert blank["gi_bin"].notna().all() and blank["lisa_p_sim"].notna().all()
            assert blank["bv_p"].notna().all() and blank["bv_quadrant"].notna().all()
        if name == "workers":  # what is published is the open run's number
            shown = rows["value"].notna()
            np.testing.assert_allclose(
                rows.loc[shown, "value"], raw.reindex(rows.index).loc[shown, "value"]
            )


def _area_totals_recovered(rows: pd.DataFrame, hidden: pd.Series) -> pd.Series:
    """The attack on published quotients: value / lq = area total x (sector total / grand
    total); the sector factors from the areas whose cells are all published (their total
    is the sum of its published values), then every area with a published value and
    quotient gets its total (``hidden``: the suppressed cells)."""
    frame = rows[["value", "lq"]].reset_index()
    area, sector = frame["area_code"].to_numpy(), frame["sector"].to_numpy()
    value, lq = frame["value"].to_numpy(float), frame["lq"].to_numpy(float)
    complete = pd.Series(~hidden.to_numpy()).groupby(area).all()  # no cell suppressed
    sums = pd.Series(np.nan_to_num(value)).groupby(area).sum()
    usable = ~np.isnan(value) & ~np.isnan(lq) & (lq > 0)
    ratio = pd.Series(np.where(usable, value / np.where(usable, lq, 1.0), np.nan))
    known = usable & complete.reindex(area).to_numpy()
    factor = (ratio[known] / sums.reindex(area[known]).to_numpy()).groupby(sector[known]).median()
    has = usable & np.isin(sector, factor.index)
    total = ratio[has] / factor.reindex(sector[has]).to_numpy()
    return total.groupby(area[has]).median()


def _page_payload(html: str) -> dict:
    """The JSON argument of the map page's sector view."""
    start = html.index("{", html.index("klastergeo.sectorView("))
    return json.JSONDecoder().raw_decode(html[start:])[0]


def test_layers_workbook_report_and_map_carry_the_measures(runs) -> None:
    plain, measured, _ = runs
    table = _measures(measured)
    # GIS: one layer per measure, a column per statistic and sector
    layers = pyogrio.list_layers(measured / "measures.gpkg")[:, 0].tolist()
    assert layers == ["firms", "workers", "output", "layer_styles"]
    layer = gpd.read_file(measured / "measures.gpkg", layer="workers").set_index("area_code")
    rows = table.xs(("workers", "31"), level=("measure", "sector")).reindex(layer.index)
    np.testing.assert_array_equal(layer["gi_bin_31"], rows["gi_bin"])
    np.testing.assert_array_equal(layer["bv_31"], rows["bv_quadrant"])
    np.testing.assert_allclose(layer["bv_i_31"], rows["bv_i"])  # NaN where withheld
    np.testing.assert_allclose(layer["value_31"], rows["value"])  # NaN where suppressed
    assert not (plain / "measures.gpkg").exists()
    # workbook: a sheet of measures.csv
    lang = "id"
    sheet = messages.MESSAGES["workbook"][lang]["measures"]
    assert sheet in load_workbook(measured / "results.xlsx").sheetnames
    assert sheet not in load_workbook(plain / "results.xlsx").sheetnames
    # report: the section, once, in the measured run only
    heading = html.escape(messages.MESSAGES["report"][lang]["measures"])
    assert (measured / "report.html").read_text("utf-8").count(heading) == 1
    assert heading not in (plain / "report.html").read_text("utf-8")
    # map: the selector's codes are the measure's bins, as the firms' are coded
    page = _page_payload((measured / "map.html").read_text("utf-8"))
    assert page["measures"]["names"] == ["firms", "workers", "output"]
    codes = page["measures"]["values"]["output"]["gi"]["31"]
    output = table.xs(("output", "31"), level=("measure", "sector"))
    assert (maps.decode_codes(codes) - 3).tolist() == output["gi_bin"].tolist()
    assert "measures" not in _page_payload((plain / "map.html").read_text("utf-8"))


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_the_measure_selector_recolours_the_map(runs) -> None:
    """Choosing workers colours every area by the workers' specialisation bins of the
    shown sector; choosing firms again gives the firm counts' colours back."""
    sync_api = pytest.importorskip("playwright.sync_api")
    _, measured, _ = runs
    table = _measures(measured)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = chromium.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((measured / "map.html").as_uri(), wait_until="load")
            page.wait_for_function("window.klastergeo && window.klastergeo.view !== undefined")
            sector = page.evaluate("klastergeo.view.state.sector")
            n = page.evaluate("klastergeo.view.count")
            colours = f"Array.from({{length: {n}}}, (_, i) => klastergeo.view.colourOf(i))"
            firms = page.evaluate(colours)
            heading = (
                "Array.from(document.querySelectorAll('.klastergeo-legend b'))"
                ".map(b => b.textContent).join('|')"
            )
            before = page.evaluate(heading)
            page.select_option(".klastergeo-measure", "workers")
            workers = page.evaluate(colours)
            under = page.evaluate(heading)
            page.select_option(".klastergeo-measure", "firms")
            again = page.evaluate(colours)
            back = page.evaluate(heading)
        finally:
            chromium.close()
    assert errors == []
    # the legend names the measure (the firms' heading says "density")
    assert under != before and back == before
    words = maps.TEXT["id"]  # the runs are in Indonesian (the default)
    named = words["spec_of"].format(measure=words["workers"].lower())
    assert any(part.startswith(named + ":") for part in under.split("|")), under
    assert not any(part.startswith(named) for part in before.split("|"))
    bins = table.xs(("workers", sector), level=("measure", "sector"))["spec_bin"]
    assert workers == [maps.GISTAR_COLOURS.get(int(b)) for b in bins]
    assert again == firms and workers != firms


def _explore_payload(page: str) -> dict:
    start = page.index("{", page.index("klastergeo.explore("))
    return json.JSONDecoder().raw_decode(page[start:])[0]


def test_suppressed_sums_never_reach_the_map(runs) -> None:
    """The scatterplot's values of a measure are measures.csv's published sums: every
    suppressed one is absent (0), and so are its p-values' sides where unknown; the
    filter's p-values are the measure's own (lisa_p_sim up to 0.05)."""
    _, measured, _ = runs
    table = _measures(measured)
    data = _explore_payload((measured / "map.html").read_text("utf-8"))
    assert set(data["measures"]) == {"firms", "workers", "output"}
    left_out = 0
    for name in ("workers", "output"):
        for sector, entry in data["measures"][name].items():
            rows = table.xs((name, sector), level=("measure", "sector"))
            hidden = (rows["value_flag"].fillna("") == "suppressed").to_numpy()
            x = np.array(varints(entry["x"]))
            assert (x[hidden] == 0).all() and (x[~hidden] > 0).all(), (name, sector)
            shown = (x[~hidden] - 1) / entry["scale"]
            np.testing.assert_allclose(shown, rows["value"].fillna(0).to_numpy()[~hidden])
            assert entry["o"] == hidden.sum()
            left_out += int(hidden.sum())
        lisa = data["filters"][name]["lisa"]
        for sector, raw in lisa.items():
            p = table.xs((name, sector), level=("measure", "sector"))["lisa_p_sim"].to_numpy()
            at = np.cumsum(np.array(varints(raw["i"]), dtype=np.int64))
            np.testing.assert_array_equal(at, np.flatnonzero(p <= 0.05))
            np.testing.assert_allclose(np.array(varints(raw["p"])) / raw["u"], p[at])
    assert left_out > 0


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_the_scatterplot_follows_the_measure(study: Path, runs) -> None:
    """With workers chosen, the scatterplot's points are the workers' sums of the areas
    whose sums are published, standardised and lagged over them: esda's z and
    libpysal's lag on the weights restricted to those areas; the suppressed areas are
    not points, and the panel says how many are left out. The filter then colours the
    areas whose workers' LISA p-value passes."""
    import warnings

    import esda
    from libpysal.weights import lag_spatial, w_subset

    sync_api = pytest.importorskip("playwright.sync_api")
    _, measured, _ = runs
    table = _measures(measured)
    workers = table.xs("workers", level="measure")
    hidden_by = (workers["value_flag"].fillna("") == "suppressed").groupby(level="sector").sum()
    sector = str(hidden_by[hidden_by > 0].idxmin())  # some suppressed, most shown
    rows = workers.xs(sector, level="sector")
    hidden = rows["value_flag"].fillna("") == "suppressed"
    assert 0 < hidden.sum() < len(rows) - 10
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = chromium.new_page(viewport={"width": 1200, "height": 850})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((measured / "map.html").as_uri(), wait_until="load")
            page.wait_for_function("window.klastergeo && window.klastergeo.exploration")
            page.select_option(".klastergeo-sector", sector)
            at_points = f"klastergeo.exploration.panel.points({sector!r}).decoded"
            firms = page.evaluate(f"{at_points}.length")
            page.select_option(".klastergeo-measure", "workers")
            points = page.evaluate(f"{at_points}.map(d => [d.i, d.z, d.lag])")
            title = page.inner_text(".klastergeo-scatter-title")
            note = page.inner_text(".klastergeo-scatter-note")
            passing = (workers["lisa_p_sim"] <= 0.05).groupby(level="sector").sum()
            busiest = str(passing.idxmax())  # the sector with most areas passing
            page.select_option(".klastergeo-sector", busiest)
            page.select_option(".klastergeo-stat", "lisa")
            page.select_option(".klastergeo-level", "0.05")
            n = page.evaluate("klastergeo.view.count")
            coloured = page.evaluate(
                f"Array.from({{length: {n}}}, (_, i) => klastergeo.view.codeOf('lisa', i))"
            )
        finally:
            chromium.close()
    assert errors == []
    areas = gpd.read_file(study / "desa.gpkg").set_index("kode").to_crs(32749)
    graph = Graph.build_contiguity(areas, rook=False)  # queen, as the run's
    shown = rows.index[~hidden.to_numpy()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = w_subset(graph.to_W(), list(shown))
        w.transform = "r"
        y = rows["value"].fillna(0).reindex(w.id_order).to_numpy(float)
        z = esda.Moran(y, w, permutations=0).z
        lag = lag_spatial(w, z)
    at = rows.index.get_indexer(pd.Index(w.id_order))  # the page's areas: measures.csv's order
    by_page = {int(i): (zi, li) for i, zi, li in points}
    assert firms == len(rows) and len(points) == len(shown)
    assert set(by_page) == set(at.tolist())  # no suppressed area is a point
    np.testing.assert_allclose([by_page[i][0] for i in at], z, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([by_page[i][1] for i in at], lag, rtol=1e-9, atol=1e-12)
    words = messages.text("explore", "id")  # the run's map is in Indonesian
    assert title.endswith(f"({words['measure_workers']})")
    assert note == words["suppressed_out"].replace("{n}", str(int(hidden.sum())))
    # the workers' own LISA p-values decide (every area passing has a side: its
    # published quadrant, or its quadrant among the areas shown)
    busy = workers.xs(busiest, level="sector")
    p = busy["lisa_p_sim"].to_numpy()
    sided = (busy["lisa_quadrant"].to_numpy() > 0) | (busy["value_flag"].fillna("") == "")
    assert sum(c > 0 for c in coloured) == int(((p <= 0.05) & sided).sum()) > 0


def test_a_measure_nobody_reports_is_noted_not_written(study: Path, tmp_path: Path) -> None:
    out = _run(study, tmp_path / "investment", "--measure", "investment")
    assert not (out / "measures.csv").exists() and not (out / "measures.gpkg").exists()
    notes = json.loads((out / "summary.json").read_text("utf-8"))["not_computed"]
    assert {"step": "statistics", "what": "statistics of investment"}.items() <= next(
        n for n in notes if n["what"] == "statistics of investment"
    ).items()


def test_a_bad_measure_is_named() -> None:
    with pytest.raises(ConfigError, match=r"analysis\.measures='jobs' is not accepted"):
        load_config(overrides={"analysis.measures": "workers,jobs"})
    with pytest.raises(ConfigError, match="names a measure twice"):
        load_config(overrides={"analysis.measures": "workers,workers"})
    assert load_config().analysis.measures == ("firms",)
    assert load_config(overrides={"analysis.measures": "workers, output"}).analysis.measures == (
        "workers",
        "output",
    )
