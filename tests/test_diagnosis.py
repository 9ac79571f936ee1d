"""Cluster diagnosis: the documented scoring scheme by hand, stages, charts, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from klastergeo.analysis import diagnosis
from klastergeo.errors import ConfigError
from klastergeo.publish import radar

SENTRA = pd.DataFrame(
    {
        "sentra_id": ["13-01", "31-01", "25-01"],
        "name": ["Troso, Pecangaan", "Trangsan, Gatak", "Tumang, Cepogo"],
        "area_codes": ["a1;a2", "b1", "c1"],
    }
)
FIRMS = pd.DataFrame(
    {
        "sentra_id": ["13-01"] * 4 + ["31-01"] * 2 + [None] * 2,
        "infra": [5, 4, 4, 5, 2, 1, 5, 5],
        "trained": [1, 1, 1, 0, 0, 0, 1, 1],
        "trend": [4, 5, 4, 4, 2, 3, 1, 1],
        "coop": [4, 4, 5, 4, 2, 2, 5, 5],
    }
)
ITEMS = {
    "infrastructure": "infra",
    "training": "trained",
    "demand_trend": "trend",
    "cooperation": "coop",
}


def test_firm_items_follow_the_scheme_by_hand() -> None:
    out = diagnosis.score(SENTRA, firms=FIRMS, firm_items=ITEMS)
    troso = out.loc["13-01"]
    assert troso["infrastructure"] == pytest.approx(4.5)  # Likert: the mean
    assert troso["training"] == pytest.approx(1 + 4 * 0.75)  # 0/1: 1 + 4 x share
    assert troso["dim_factor_conditions"] == pytest.approx((4.5 + 4.0) / 2)
    assert troso["dim_demand_conditions"] == pytest.approx(4.25)
    assert troso["dim_strategy_cooperation"] == pytest.approx(4.25)
    assert np.isnan(troso["dim_related_supporting"])  # no item supplied
    assert troso["overall"] == pytest.approx((4.25 + 4.25 + 4.25) / 3)
    assert troso["stage"] == "mature"
    assert troso["strengths"] == "infrastructure;training;demand_trend;cooperation"
    trangsan = out.loc["31-01"]
    assert trangsan["overall"] == pytest.approx(((1.5 + 1.0) / 2 + 2.5 + 2.0) / 3)
    assert trangsan["stage"] == "survival"
    assert trangsan["weaknesses"] == "infrastructure;training;demand_trend;cooperation"
    assert out.loc["25-01", "stage"] == "unknown"  # no firm data
    assert out.loc["25-01", "n_items"] == 0


def test_stage_thresholds() -> None:
    table = pd.DataFrame(
        {
            "sentra_id": ["13-01", "31-01", "25-01"],
            "f": [4.0, 3.0, 5.0],
            "d": [4.0, 3.0, 5.0],
            "s": [4.0, 3.0, 2.9],  # 25-01: overall 4.3 but one dimension below 3.0
        }
    )
    items = {"finance": "f", "demand_quality": "d", "strategy": "s"}
    out = diagnosis.score(SENTRA, table=table, table_items=items)
    assert out["stage"].tolist() == ["mature", "advance", "advance"]
    lenient = diagnosis.score(
        SENTRA,
        table=table,
        table_items=items,
        rules=diagnosis.StageRules(mature_min_dimension=2.5),
    )
    assert lenient.loc["25-01", "stage"] == "mature"
    with pytest.raises(ConfigError, match="1-5 scale"):
        diagnosis.StageRules(strong=7)


def test_sentra_table_by_area_code_takes_precedence() -> None:
    table = pd.DataFrame({"area_code": ["a2", "zz"], "infra_score": [1.0, 5.0]})
    out = diagnosis.score(
        SENTRA,
        firms=FIRMS,
        firm_items=ITEMS,
        table=table,
        table_items={"infrastructure": "infra_score", "research": "infra_score"},
    )
    assert out.loc["13-01", "infrastructure"] == 1.0  # the table, not the firms' 4.5
    assert out.loc["13-01", "research"] == 1.0
    assert np.isnan(out.loc["31-01", "research"])


def test_radar_charts_are_pngs(tmp_path: Path) -> None:
    out = diagnosis.score(SENTRA, firms=FIRMS, firm_items=ITEMS)
    written = radar.radar_charts(out, tmp_path / "charts", sentra=SENTRA)
    assert [p.name for p in written] == ["13-01.png", "31-01.png"]  # 25-01 has no scores
    for path in written:
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) > 10_000
    assert not list((tmp_path / "charts").glob(".*tmp"))


def test_errors_name_the_item_and_value() -> None:
    with pytest.raises(ConfigError, match="unknown diamond item"):
        diagnosis.score(SENTRA, firms=FIRMS, firm_items={"vibes": "infra"})
    bad = FIRMS.assign(infra=[5, 4, 9, 5, 2, 1, 5, 5])
    with pytest.raises(
        ConfigError, match=r"'infrastructure' \(column 'infra'\) has value\(s\) \[9"
    ):
        diagnosis.score(SENTRA, firms=bad, firm_items=ITEMS)
    with pytest.raises(ConfigError, match="not in the registry"):
        diagnosis.score(SENTRA, firms=FIRMS, firm_items={"finance": "modal"})
    with pytest.raises(ConfigError, match="outside 1-5"):
        diagnosis.score(
            SENTRA,
            table=pd.DataFrame({"sentra_id": ["13-01"], "x": [0]}),
            table_items={"finance": "x"},
        )


def test_without_items_every_stage_is_unknown() -> None:
    out = diagnosis.score(SENTRA)
    assert out["stage"].tolist() == ["unknown"] * 3
    assert (out["strengths"] == "").all()
    assert out["overall"].isna().all()
