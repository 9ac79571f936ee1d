"""The whole pipeline on the demo registry over Jawa Tengah's 8,563 real villages.

Ground truth is planted by the demo generator: the sentra of the source studies, a dense
decoy city, and a known number of faulty rows of every kind.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from klastergeo.app import pipeline
from klastergeo.app.config import load_config
from klastergeo.io import boundaries
from klastergeo.io.datasets import demo
from klastergeo.io.registry.records import REASONS
from klastergeo.publish import maps
from tests.worlds.demo_truth import recovery_rates, score_recovery

pytestmark = [pytest.mark.boundaries, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory, data_dir: Path):
    inputs = tmp_path_factory.mktemp("demo")
    villages = boundaries.load_areas("desa", area="33", source=data_dir)
    generated = demo.generate_registry(villages)
    demo.write_registry(generated, inputs)
    config = load_config(
        demo.write_config(inputs, permutations=199), overrides={"area.boundaries": data_dir}
    )
    result = pipeline.run(config)
    assert result.out == inputs / "run"
    return generated, result, result.out


def test_every_planted_sentra_is_recovered(demo_run) -> None:
    generated, result, _ = demo_run
    scores, unmatched = score_recovery(generated.truth, result.sentra)
    assert scores["found"].all(), scores
    assert unmatched == 0
    # and with their planted villages (members), and nothing much else
    assert (scores["members_found"] == scores["members_planted"]).all(), scores
    rates = recovery_rates(scores, unmatched)
    assert rates["sentra_recall"] == rates["sentra_precision"] == 1.0
    assert rates["area_recall"] == 1.0
    assert rates["area_precision"] >= 0.9, scores


def test_the_run_record_is_its_summary_json(demo_run) -> None:
    """summary.json is the run's record: read back, it gives the same JSON, key for key
    and in the same order; the result's record is the file without the manifest."""
    import json

    from klastergeo.publish.record import RunRecord

    _, result, out = demo_run
    text = (out / "summary.json").read_text("utf-8")
    loaded = RunRecord.load(out)
    assert json.dumps(loaded.to_json()) == json.dumps(json.loads(text))
    assert loaded.kind == "run" and loaded.files
    assert result.record.to_json() == loaded.replace(kind=None, files=None).to_json()
    assert result.summary == result.record.to_json()
    assert loaded.records is not None and loaded.records.kept == result.validation.n_kept
    assert loaded.areas is not None and loaded.areas.count == len(result.areas)
    assert loaded.sentra == len(result.sentra)


def test_planted_typologies_and_stages_come_out_right(demo_run) -> None:
    generated, result, out = demo_run
    scores, _ = score_recovery(generated.truth, result.sentra)
    assert scores["typology_ok"].all(), scores[["key", "typology"]]
    assert set(generated.truth["typology"]) >= {
        "marshallian",
        "hub_and_spoke",
        "satellite_platform",
        "state_anchored",
        "mixed",
    }
    assert scores["stage_ok"].all(), scores[["key", "stage"]]
    assert set(generated.truth["stage"]) == {"mature", "advance", "survival"}
    diagnosed = pd.read_csv(out / "diagnosis.csv").set_index("sentra_id")
    assert (diagnosed["n_items"] == 10).all()
    assert sorted(p.stem for p in (out / "diagnosis").glob("*.png")) == sorted(diagnosed.index)
    tumang = scores.set_index("key").loc["tumang", "sentra_id"]
    typology = pd.read_csv(out / "typology.csv").set_index("sentra_id")
    assert typology.loc[tumang, "primary"] == "marshallian"
    assert typology.loc[tumang, "traits"] == "hub_and_spoke;marshallian"
    # the label is in the run's language (the demo's is Indonesian)
    assert typology.loc[tumang, "label"] == "Distrik Marshall dengan ciri pusat dan jari-jari"


def test_point_based_delineation_finds_the_planted_sentra(demo_run) -> None:
    """HDBSCAN on the firms' coordinates alone: every planted sentra, no other."""
    from klastergeo.analysis import sentra

    generated, result, _ = demo_run
    found, firm_sentra = sentra.delineate_points(
        result.firms, sectors=list(result.summary["sectors"]["analysed"]), areas=result.areas
    )
    scores, _ = score_recovery(generated.truth, found)
    assert scores["found"].all(), scores
    # No other sentra, but the related-industry firms planted in a sentra's villages (its
    # suppliers) are a planted concentration of their own sector too: Bergas's 18 fabric
    # makers (13) are two short of min_firms, and the background's textile firms there can
    # make them a cluster of 20 that meets every rule of delineate_points. They are
    # scored as planted (need not be found): a reported sentra may match them, no other.
    chains = pd.DataFrame(
        {
            "key": f"{p.key} {k[:2]}",
            "sector": k[:2],
            "area_codes": ";".join(c for s, c, _ in p.suppliers if s[:2] == k[:2]),
            "core_area": c,
        }
        for p in demo.PLANTED
        for k, c, _ in p.suppliers
    ).drop_duplicates("key")
    _, unmatched = score_recovery(pd.concat([generated.truth, chains]), found)
    assert unmatched == 0, found[["sector", "name", "n_firms", "lq", "area_codes"]]
    assert firm_sentra.index.equals(result.firms.index)
    assert firm_sentra.notna().sum() == found["n_firms"].sum()


def test_point_patterns_find_the_planted_sectors(demo_run) -> None:
    """Against all firms (random labelling), the sectors whose sentra are a large share
    of them are clustered; Ripley's curves cover every analysed sector and sentra."""
    _, result, out = demo_run
    clark = pd.read_csv(out / "clark_evans.csv", dtype={"key": str})
    sectors = clark.loc[clark["scope"] == "sector"].set_index("key")
    for sector in ("13", "24", "29"):  # weaving/batik, brass, metal parts
        assert sectors.loc[sector, "p_global"] <= 0.05, sector
        assert sectors.loc[sector, "R_relative"] < 1, sector
    assert set(sectors.index) == set(result.summary["sectors"]["analysed"])
    per_sentra = clark.loc[clark["scope"] == "sentra"]
    assert set(per_sentra["key"]) == set(result.sentra["sentra_id"])
    assert (per_sentra["correction"] == "donnelly").all()
    ripley = pd.read_csv(out / "ripley.csv", dtype={"key": str})
    assert {"distance_m", "L_minus_d", "low", "high", "clustered"} <= set(ripley.columns)


@pytest.mark.parametrize(
    "options",
    [
        {},  # the run's settings: Gi* bins on the analytical z (LISA varies with the seed)
        {"fdr": True},  # analytical p after Benjamini-Hochberg
        # bins on the pseudo p-value (no FDR: with 999 permutations the smallest p_sim,
        # 0.001, cannot pass BH over 8,563 villages unless ~170 areas share it)
        {"gi_inference": "permutation"},
    ],
    ids=["analytical", "analytical-fdr", "permutation"],
)
def test_delineation_is_stable_across_seeds_and_permutations(demo_run, options) -> None:
    """Seed 0 vs 1 at 999 permutations, and 999 vs 9,999: no sentra changes by more
    than one member area."""
    from klastergeo.analysis import aggregate, autocorrelation, sentra

    _, result, _ = demo_run
    base = result.table.drop(
        columns=[c for c in result.table.columns if c.startswith(("gi_", "lisa_", "sentra"))]
    )
    counts = aggregate.wide(base, "n_firms")[list(result.summary["sectors"]["analysed"])]

    def members(seed: int, permutations: int) -> dict[str, set[str]]:
        local, _ = autocorrelation.by_sector(
            counts, result.graph, permutations=permutations, seed=seed, **options
        )
        table = base.join(local)
        table["gi_bin"] = table["gi_bin"].fillna(0).astype(int)
        found, _ = sentra.delineate(table, result.graph, result.areas)
        return {
            f"{s}:{min(codes.split(';'))}": set(codes.split(";"))
            for s, codes in zip(found["sector"], found["area_codes"], strict=True)
        }

    reference = members(0, 999)
    assert len(reference) >= len(demo.PLANTED)
    for seed, permutations in ((1, 999), (0, 9999)):
        other = members(seed, permutations)
        for key, codes in reference.items():
            match = next((o for o in other.values() if o & codes), set())
            assert len(codes ^ match) <= 1, (key, seed, permutations, codes ^ match)
        unmatched = [k for k, o in other.items() if not any(o & c for c in reference.values())]
        assert not unmatched, unmatched


def test_decoy_city_is_dense_but_not_a_sentra(demo_run) -> None:
    _, result, _ = demo_run
    semarang = result.table.loc[
        result.table.index.get_level_values("area_code").str.startswith(demo.DECOY_AREA + ".")
    ]
    assert (semarang["gi_bin"] >= 2).sum() > 50  # many hot spots in the dense city ...
    assert semarang["sentra_id"].isna().all()  # ... but no sentra: it is not specialised


def test_record_counts_are_exact(demo_run) -> None:
    generated, result, out = demo_run
    records = result.summary["records"]
    assert records["read"] == len(generated.registry)
    for reason, expected in generated.expected_rejected.items():
        assert records["by_reason"][reason] == expected, reason
    assert records["rejected"] == sum(generated.expected_rejected.values())
    assert records["repaired"] == generated.expected_repaired
    assert records["kept"] == records["read"] - records["rejected"]
    # the rows without coordinates that keep their village code are placed by it (and
    # the few points a hair across their village's border go to the village named)
    firms = result.firms
    assert int(firms["lat"].isna().sum()) == demo.PLACED_BY_CODE
    assert (firms.loc[firms["lat"].isna(), "placement"] == "code").all()
    assert sum(records["placement"].values()) == records["kept"]
    rejected = pd.read_csv(out / "rejected.csv", dtype=str, keep_default_na=False)
    assert len(rejected) == records["rejected"]
    assert set(rejected["reason"]) <= set(REASONS)
    # rejected rows are the input rows, unchanged
    registry = generated.registry
    rows = rejected["row"].astype(int) - 1
    for column in ("id_usaha", "lintang", "bujur", "kbli", "tenaga_kerja"):
        assert (rejected[column].to_numpy() == registry.loc[rows, column].to_numpy()).all()


def test_output_contract(demo_run) -> None:
    _, result, out = demo_run
    summary = json.loads((out / "summary.json").read_text())
    assert {"read", "kept", "rejected", "repaired", "by_reason"} <= set(summary["records"])
    assert summary["sentra"] == len(result.sentra) == len(demo.PLANTED)
    assert set(summary["timings"]) == set(pipeline.STEPS)
    index = (out / "index.html").read_text(encoding="utf-8")  # the demo's landing page
    assert '<iframe src="map.html"' in index and 'href="report.html"' in index
    report_page = (out / "report.html").read_text(encoding="utf-8")
    assert '<iframe src="map.html"' in report_page
    for planted in result.sentra["sentra_id"]:
        assert planted in report_page
    figures = {p.name for p in (out / "figures").glob("*.png")}
    for sector in set(result.sentra["sector"]):
        assert {f"gi_{sector}.png", f"lisa_{sector}.png", f"moran_{sector}.png"} <= figures
    for name in (
        "concentration.csv",
        "typology.csv",
        "sentra_areas.csv",
        "diagnosis.csv",
        "clark_evans.csv",
        "ripley.csv",
    ):
        assert (out / name).exists(), name
    concentration = pd.read_csv(out / "concentration.csv", dtype={"sector": str})
    assert {"kabupaten", "kecamatan", "desa"} <= set(concentration["level"])
    assert {"hoover", "locational_gini", "eg_gamma", "herfindahl"} <= set(concentration.columns)
    assert summary["seed"] == 0
    assert summary["config"]["analysis"]["permutations"] == 199
    assert "esda" in summary["versions"]

    sentra_csv = pd.read_csv(out / "sentra.csv", dtype={"sector": str})
    assert {
        "sentra_id",
        "sector",
        "name",
        "n_firms",
        "workers",
        "output",
        "area_codes",
        "lat",
        "lon",
        "area_km2",
        "density_km2",
        "lq",
        "sector_share",
        "core_areas",
        "typology",
        "typology_label",
        "stage",
        "diamond_score",
    } <= set(sentra_csv.columns)
    geo = gpd.read_file(out / "sentra.geojson")
    assert len(geo) == len(sentra_csv)

    areas = pd.read_parquet(out / "areas.parquet")
    assert {
        "area_code",
        "sector",
        "n_firms",
        "lq",
        "gi_z",
        "gi_p",
        "gi_bin",
        "lisa_quadrant",
        "lisa_p",
    } <= set(areas.columns)
    n_sectors = areas["sector"].nunique()
    assert len(areas) == 8563 * n_sectors
    assert set(areas["gi_bin"].unique()) <= set(range(-3, 4))
    assert set(areas["lisa_quadrant"].unique()) <= {0, 1, 2, 3, 4}
    assert areas["n_firms"].sum() == summary["records"]["kept"]

    firms = gpd.read_parquet(out / "firms")
    assert len(firms) == summary["records"]["kept"]
    assert firms.index.name == "record_id"
    assert (out / "map.html").stat().st_size > 100_000
    for name in (
        "lpm_coefficients.csv",
        "lpm_fit.json",
        "lpm_classification.csv",
        "lpm.md",
        "logit_coefficients.csv",
    ):
        assert (out / "models" / name).exists(), name


def test_studies_signs_hold_in_the_lpm(demo_run) -> None:
    """The demo draws firm attributes so that the Surakarta study's findings hold."""
    _, result, _ = demo_run
    lpm = result.models["lpm"].coefficients.set_index("term")
    for term, sign in (("intensitas_sda", -1), ("nilai_produksi", -1), ("akses_pasar", 1)):
        assert lpm.loc[term, "p_value"] < 0.01, term
        assert (lpm.loc[term, "estimate"] > 0) == (sign > 0), term
    for term in ("skala_ekonomi", "investasi"):
        assert lpm.loc[term, "p_value"] > 0.01, term
    table = result.models["lpm"].classification
    assert table.loc["1", "mean_probability"] > table.loc["0", "mean_probability"]


def test_cluster_probability_on_the_map_and_in_the_tables(demo_run) -> None:
    _, result, out = demo_run
    assert set(result.models) == {"lpm", "logit", "probit"}
    areas = pd.read_parquet(out / "areas.parquet")
    assert {"p_lpm", "p_logit", "p_probit", "p_cluster"} <= set(areas.columns)
    # p_cluster is the logit's mean firm probability per area and sector
    assert areas["p_cluster"].equals(areas["p_logit"])
    with_firms = areas.loc[areas["n_firms"] > 0]
    # a mean of fewer than disclosure.min_firms (3) firms' probabilities is theirs, and
    # one of a cell whose sums are suppressed gives them back (the LPM is linear in them)
    flags = with_firms[["workers_flag", "output_flag", "investment_flag"]].fillna("")
    shown = (with_firms["n_firms"] >= 3) & (flags == "").all(axis=1)
    assert with_firms.loc[shown, "p_cluster"].notna().all()
    assert with_firms.loc[~shown, "p_cluster"].isna().all() and (~shown).any()
    assert areas.loc[areas["n_firms"] == 0, "p_cluster"].isna().all()
    sentra_csv = pd.read_csv(out / "sentra.csv")
    sums = sentra_csv[["workers_flag", "output_flag", "investment_flag"]].isna().all(axis=1)
    assert sentra_csv.loc[sums, "p_cluster"].between(0, 1).all() and sums.any()
    assert sentra_csv.loc[~sums, "p_cluster"].isna().all()
    # members of sentra have a higher mean probability than the areas without a sentra
    members = with_firms["sentra_id"].notna()
    assert (
        with_firms.loc[members & shown, "p_cluster"].mean()
        > with_firms.loc[~members & shown, "p_cluster"].mean()
    )
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "Probabilitas klaster" in html or "Cluster probability" in html
    fit = result.models["logit"].fit
    assert {"residual_moran_moran_i", "residual_moran_p_sim", "hosmer_lemeshow_p"} <= set(fit)
    for name in ("probit_marginal_effects.csv", "logit.tex", "lpm.html", "logit_vif.csv"):
        assert (out / "models" / name).exists(), name


def test_failed_run_keeps_previous_outputs(demo_run, monkeypatch: pytest.MonkeyPatch) -> None:
    _, result, out = demo_run
    before = (out / "summary.json").read_text()
    config = load_config(
        out.parent / "klastergeo.toml",
        overrides={
            "area.boundaries": result.summary["config"]["area"]["boundaries"],
            "analysis.permutations": 0,
        },
    )

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("map failed")

    monkeypatch.setattr(maps, "build_map", broken)
    with pytest.raises(RuntimeError, match="map failed"):
        pipeline.run(config)
    assert (out / "summary.json").read_text() == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.staging")]


@pytest.mark.browser
def test_demo_map_in_a_browser(demo_run) -> None:
    """The demo's own map (8,563 villages, every analysed sector, 51k firms) in headless
    Chromium, offline (tile requests are refused): no page error, one feature per village,
    every analysed sector selectable, the firms layer builds every firm."""
    from tests.worlds.browser import CHROMIUM, FLAGS

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    _, result, out = demo_run
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route(
                "**/*",
                lambda r: (
                    r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()
                ),
            )
            page.goto((out / "map.html").as_uri(), wait_until="load")
            page.wait_for_function("window.klastergeo && window.klastergeo.view !== undefined")
            count = page.evaluate("klastergeo.view.count")
            options = page.locator(".klastergeo-sector option").evaluate_all(
                "os => os.map(o => o.value)"
            )
            page.select_option(".klastergeo-sector", "13")
            sector = page.evaluate("klastergeo.view.state.sector")
            page.hover(".leaflet-control-layers")  # the layer control opens under the pointer
            page.locator(".leaflet-control-layers-overlays label").nth(2).click()
            page.wait_for_function("window.klastergeo.firmCount !== undefined", timeout=60_000)
            firms = page.evaluate("klastergeo.firmCount")
        finally:
            browser.close()
    assert errors == []
    assert count == result.summary["areas"]["count"] == 8563
    assert options == sorted(result.summary["sectors"]["analysed"])
    assert sector == "13"
    # the firms of the selected sector (13) are drawn
    assert firms == result.table.xs("13", level="sector")["n_firms"].sum()
    assert (out / "map.html").stat().st_size < 6_000_000  # the size budget
