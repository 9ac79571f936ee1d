"""The report page: content from the run, escaped text, language, figures and map."""

from __future__ import annotations

import pandas as pd
import pytest
import statsmodels.api as sm

from klastergeo.analysis import regression as models
from klastergeo.errors import ConfigError
from klastergeo.publish import report
from klastergeo.publish.record import RunRecord

SUMMARY_JSON = {
    "klastergeo": "0.1.0",
    "created": "2026-11-22T10:00:00+00:00",
    "records": {
        "read": 1000,
        "kept": 950,
        "rejected": 50,
        "repaired": 3,
        "by_reason": {"missing_coordinates": 30, "duplicate_id": 20, "invalid_value": 0},
    },
    "areas": {"level": "desa", "study_area": "33", "count": 8563, "weights": {"kind": "queen"}},
    "seed": 7,
    "config": {
        "records": {"path": "ukm.csv"},
        "analysis": {"permutations": 999, "fdr": True, "alternative": "two-sided"},
        "sentra": {"min_firms": 20, "lq_threshold": 2.0, "confidence": 95},
    },
}
SUMMARY = RunRecord.from_json(SUMMARY_JSON)
SENTRA = pd.DataFrame(
    {
        "sentra_id": ["31-01"],
        "name": ["Trangsan <b>&</b> Luwang, Gatak"],
        "sector": ["31"],
        "sector_label": ["Industri furnitur"],
        "n_firms": [265],
        "n_areas": [2],
        "lq": [21.4],
        "typology_label": ["Marshallian"],
        "stage": ["mature"],
    }
)
GLOBAL = pd.DataFrame({"n_firms": [3000], "moran_i": [0.123456]}, index=pd.Index(["31"]))


def test_report_carries_the_run(tmp_path) -> None:
    spector = sm.datasets.spector.load_pandas().data
    logit = models.fit(spector, "GRADE", ["GPA", "TUCE", "PSI"], kind="logit")
    page = report.build_report(
        SUMMARY,
        sentra=SENTRA,
        global_stats=GLOBAL,
        models={"logit": logit},
        figures=[report.Figure("figures/gi_31.png", "Gi*: 31")],
        lang="en",
    )
    assert page.startswith("<!DOCTYPE html>")
    for text in (
        "Industrial cluster report",
        "950",  # kept records
        "missing coordinates",  # the reason, in words
        "31-01",
        "Marshallian",
        "mature",
        "0.1235",  # global Moran's I, 4 significant digits
        "Logit: GRADE",
        "2.826",  # GPA's logit coefficient
        "Classification table",
        '<iframe src="map.html"',
        'src="figures/gi_31.png"',
        "999",  # permutations in the method table
    ):
        assert text in page, text
    assert "invalid value" not in page  # reasons with no rejected record are left out
    assert "<b>&</b>" not in page and "&lt;b&gt;&amp;&lt;/b&gt;" in page  # escaped


def test_report_language_and_no_map() -> None:
    page = report.build_report(
        SUMMARY, sentra=SENTRA.iloc[:0], global_stats=GLOBAL, map_file=None, lang="id"
    )
    assert "Laporan klaster industri" in page
    assert "Tidak ada sentra yang ditemukan." in page
    assert "<iframe" not in page
    # the run's date as the language writes it, not an ISO UTC timestamp (issue 28)
    assert "22 November 2026" in page and "2026-11-22T10:00" not in page
    with pytest.raises(ConfigError, match="lang='fr'"):
        report.build_report(SUMMARY, sentra=SENTRA, global_stats=GLOBAL, lang="fr")


def test_p_values_are_never_shown_as_zero() -> None:
    """p-value columns show three decimals or "< 0.001"; probabilities (p_logit) and
    other numbers keep their digits."""
    import pandas as pd

    from klastergeo.publish.report import _table

    html = _table(
        pd.DataFrame(
            {"sector": ["10"], "moran_p": [0.0], "lq_p": [0.0234], "p_logit": [0.0001], "z": [12.5]}
        )
    )
    assert "<td>&lt; 0.001</td>" in html and "<td>0.023</td>" in html
    assert "<td>0.0001</td>" in html and "<td>12.5</td>" in html
    assert "<td>0</td>" not in html


def test_adjusted_count_r2_is_longs() -> None:
    """Spector and Mazzeo's logit classifies 26 of 32 students right; always predicting
    the commoner outcome (no grade improvement) gets 21: Long's adjusted count R2 is
    (26 - 21) / (32 - 21) = 5/11, and the report shows it beside the count R2."""
    spector = sm.datasets.spector.load_pandas().data
    logit = models.fit(spector, "GRADE", ["GPA", "TUCE", "PSI"], kind="logit")
    assert logit.fit["count_r2"] == pytest.approx(26 / 32)
    assert report.adjusted_count_r2(logit.classification) == pytest.approx(5 / 11)
    page = report.build_report(
        SUMMARY, sentra=SENTRA, global_stats=GLOBAL, models={"logit": logit}, lang="en"
    )
    assert "count R2 = 0.812; adjusted count R2 (Long) = 0.455" in page


def test_models_that_do_not_discriminate_are_not_shown() -> None:
    """A logit on noise (AUC near 0.5) is left out of the report unless its predictors
    were asked for; one sentence says why."""
    import numpy as np

    rng = np.random.default_rng(4)
    noise = pd.DataFrame({"y": rng.integers(0, 2, 400), "x": rng.normal(size=400)})
    weak = models.fit(noise, "y", ["x"], kind="logit")
    assert weak.fit["auc"] < report.MIN_AUC
    page = report.build_report(
        SUMMARY, sentra=SENTRA, global_stats=GLOBAL, models={"logit": weak}, lang="en"
    )
    assert "Models not shown" in page and "Classification table" not in page
    asked = RunRecord.from_json(
        {**SUMMARY_JSON, "config": {**SUMMARY_JSON["config"], "model": {"predictors": ["x"]}}}
    )
    page = report.build_report(
        asked, sentra=SENTRA, global_stats=GLOBAL, models={"logit": weak}, lang="en"
    )
    assert "Models not shown" not in page and "Classification table" in page


def test_a_value_chain_section_per_sentra() -> None:
    """Each sentra's section lists its significant related industries (role, CLQ,
    firms) and the links it lacks with the reason; the largest MAX_CHAIN_SECTIONS
    sentra get one, the others are counted."""
    n = report.MAX_CHAIN_SECTIONS + 2
    sentra = pd.DataFrame(
        {
            "sentra_id": [f"31-{i:02d}" for i in range(n)],
            "name": ["Trangsan <b>&</b>"] + [f"Desa {i}" for i in range(1, n)],
            "sector": ["31"] * n,
            "n_firms": list(range(1000, 1000 - n, -1)),
            "related_sectors": ["16"] + [""] * (n - 1),
            "missing_links": ["46"] + [""] * (n - 1),
        }
    )
    related = pd.DataFrame(
        {
            "sentra_id": ["31-00", "31-00"],
            "sector": ["31", "31"],
            "related_sector": ["16", "10"],
            "clq": [3.25, 0.4],
            "p_value": [0.01, 0.9],
            "n_related_firms": [17, 2],
            "significant": [True, False],
            "role": ["supplier", "co-located"],
        }
    )
    missing = pd.DataFrame(
        {
            "sentra_id": ["31-00", "31-00", "31-00"],
            "sector": ["31", "31", "31"],
            "related_sector": ["46", "47", "20"],
            "role": ["buyer", "buyer", "supplier"],
            "clq": [0.5, None, 1.8],
            "p_value": [0.7, None, 0.04],
            "reason": ["not_colocated", "not_in_registry", "too_few_nearby"],
        }
    )
    page = report.build_report(
        SUMMARY, sentra=sentra, global_stats=GLOBAL, lang="en", related=related, missing=missing
    )
    section = page[page.index("<h3>31-00") : page.index("<h3>31-01")]
    assert "Trangsan &lt;b&gt;&amp;&lt;/b&gt;" in section and "<b>&" not in section
    assert (
        '<td class="text">16 Wood, bamboo and rattan products</td><td class="text">supplier</td>'
        in (section.replace("\n", ""))
    )
    assert "<td>3.25</td>" in section and "<td>17</td>" in section
    assert "10 Food products" not in section  # not significant
    assert "Buyer: 46 Wholesale trade" in section and "is in the registry, but not" in section
    assert "Buyer: 47 Retail trade" in section and "absent from the registry" in section
    assert "Supplier: too few firms of 20 " in section
    assert "No other industry is significantly co-located" in page  # 31-01 has none
    assert "p &lt; 0.05, at least 3 of their firms near the sentra" in page  # the defaults
    assert page.count("<h3>31-") == report.MAX_CHAIN_SECTIONS
    assert "2 more sentra: see related.csv" in page


def test_the_value_chain_note_names_the_run_s_thresholds() -> None:
    summary = RunRecord.from_json({**SUMMARY_JSON, "config": {**SUMMARY_JSON["config"],
               "colocation": {"alpha": 0.01, "min_related_firms": 4}}})  # fmt: skip
    sentra = SENTRA.assign(related_sectors="")
    page = report.build_report(summary, sentra=sentra, global_stats=GLOBAL, lang="id")
    assert "p &lt; 0,01, paling sedikit 4 usahanya di sekitar sentra" in page
