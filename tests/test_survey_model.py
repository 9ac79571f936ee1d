"""``klastergeo model`` on a plain survey table (no coordinates, no sector): the Tumang
study's situation, here with Spector and Mazzeo's published data (statsmodels)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from typer.testing import CliRunner

from klastergeo.app.cli import app


def _model(folder: Path, predictors: str):
    """``klastergeo model`` of GRADE on Spector and Mazzeo's table, written as a CSV."""
    sm.datasets.spector.load_pandas().data.to_csv(folder / "survey.csv", index=False)
    return CliRunner().invoke(
        app,
        [
            "model",
            "--records",
            str(folder / "survey.csv"),
            "--outcome",
            "GRADE",
            "--predictors",
            predictors,
            "--out",
            str(folder / "out"),
        ],
    )


def test_a_logit_of_a_plain_table_equals_statsmodels(tmp_path: Path) -> None:
    spector = sm.datasets.spector.load_pandas().data
    out = tmp_path / "out"
    result = _model(tmp_path, "GPA,TUCE,PSI")
    assert result.exit_code == 0, result.output
    ours = pd.read_csv(out / "models" / "logit_coefficients.csv").set_index("term")
    theirs = sm.Logit(spector["GRADE"], sm.add_constant(spector[["GPA", "TUCE", "PSI"]])).fit(
        disp=0
    )
    assert np.allclose(ours["estimate"].reindex(theirs.params.index), theirs.params, atol=1e-6)
    # the published estimates (Spector and Mazzeo 1980; statsmodels' documentation)
    published = {"const": -13.0213, "GPA": 2.8261, "TUCE": 0.0952, "PSI": 2.3787}
    for term, value in published.items():
        assert abs(ours.loc[term, "estimate"] - value) < 1e-4, term
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["records"] == {"read": 32, "kind": "plain table"}
    assert "moran" not in json.dumps(summary["models"]["logit"]).lower()


def test_a_missing_predictor_is_named(tmp_path: Path) -> None:
    result = _model(tmp_path, "GPA,AGE")
    assert result.exit_code == 2
    assert "AGE" in result.output and "GPA, TUCE, PSI, GRADE" in result.output
