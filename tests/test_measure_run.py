"""A run with ``--measure workers,output``: measures.csv holds the statistics the
analysis function gives, suppressed sums are blank and what would give them back is
withheld; without the option the outputs are those of a firm-count run."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from libpysal.graph import Graph
from typer.testing import CliRunner

from klastergeo.analysis import measure
from klastergeo.app.cli import app
from klastergeo.app.pipeline import firm_output
from klastergeo.schema import MEASURE_COLUMNS
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
        _run(study, base / "open", "--measure", "workers", "--set", "disclosure.enabled=false"),
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
    firms and weights (queen contiguity of the lattice)."""
    _, _, open_run = runs
    table = _measures(open_run)
    assert set(table.index.get_level_values("measure")) == {"workers"}
    firms = firm_output.read_firms(open_run)
    areas = gpd.read_file(study / "desa.gpkg").set_index("kode").to_crs(32749)
    graph = Graph.build_contiguity(areas, rook=False)  # queen, as the run's
    written = table.xs("workers", level="measure")
    analysed = sorted(written.index.get_level_values("sector").unique())
    ours = measure.measure_statistics(
        firms, graph, measure="workers", sectors=analysed, permutations=99, seed=0, spec_fdr=True
    )
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
        few = (rows["n_valued"] > 0) & (rows["n_valued"] < 3)
        assert few.any() and rows.loc[few, "value"].isna().all()
        sectors = set(rows.index[hidden.to_numpy()].get_level_values("sector"))
        for sector in sectors:
            blank = rows.xs(sector, level="sector")
            assert blank[["gi_z", "gi_p", "lisa_i", "lisa_p", "spec_ratio"]].isna().all().all()
            assert blank["gi_bin"].notna().all() and blank["lisa_p_sim"].notna().all()
        if name == "workers":  # what is published is the open run's number
            shown = rows["value"].notna()
            np.testing.assert_allclose(
                rows.loc[shown, "value"], raw.reindex(rows.index).loc[shown, "value"]
            )
