"""The firms the sector point patterns are measured on, drawn block by block: every firm
with a point up to ``pointpattern.max_firms``, else those with the smallest position draws
(a brute force over every firm), the same for any parts, block size or Dask."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from klastergeo.analysis.draws import position_uniform
from klastergeo.app.config import RunConfig
from klastergeo.app.pipeline._steps import Notes
from klastergeo.app.pipeline.thinning import thinned_firms
from klastergeo.io.registry import firms as firm_store
from tests.worlds.stores import store_of, synthetic_firms


def _firms(n: int) -> pd.DataFrame:
    firms = synthetic_firms(n, seed=4)
    rng = np.random.default_rng(5)
    firms["lat"] = rng.uniform(-8, -7, n)
    firms.loc[rng.random(n) < 0.1, ["lon", "lat"]] = np.nan  # placed by their area
    return firms


def _config(cap: int, scheduler: str = "") -> RunConfig:
    return RunConfig().with_overrides(
        {"pointpattern.max_firms": cap, "analysis.seed": 11, "records.scheduler": scheduler}
    )


def test_every_firm_with_a_point_under_the_cap(tmp_path: Path) -> None:
    firms = _firms(3_000)
    notes = Notes()
    got = thinned_firms(_config(5_000), store_of(firms, [1_000, 2_000], tmp_path), notes)
    placed = np.flatnonzero(firms["lon"].notna().to_numpy())
    assert got.index.tolist() == placed.tolist()
    np.testing.assert_array_equal(got["lat"].to_numpy(), firms["lat"].to_numpy()[placed])
    assert got["sector"].tolist() == firms["sector"].iloc[placed].tolist()
    (note,) = notes.items  # the firms without a point, no thinning
    assert note["what_key"] == "point_patterns" and note["params"]["missing"] == 3_000 - len(placed)


@pytest.mark.parametrize("sizes", [None, [3_000], [1, 999, 1_500, 500]])
@pytest.mark.parametrize("block", [64, 1_000, 1 << 20])
def test_the_smallest_draws_whatever_the_parts_and_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sizes, block
) -> None:
    monkeypatch.setattr(firm_store, "BLOCK", block)
    firms = _firms(3_000)
    notes = Notes()
    got = thinned_firms(_config(1_000), store_of(firms, sizes, tmp_path), notes)
    # brute force: the 1,000 firms with a point of smallest draw, in file order
    placed = np.flatnonzero(firms["lon"].notna().to_numpy())
    u = position_uniform(placed, seed=11)
    expected = np.sort(placed[np.argsort(u, kind="stable")[:1_000]])
    assert got.index.tolist() == expected.tolist()
    assert [n["what_key"] for n in notes.items] == ["point_patterns", "patterns_all"]


def test_dask_threads_draw_the_same_firms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("dask")
    monkeypatch.setattr(firm_store, "BLOCK", 250)
    firms = _firms(3_000)
    store = store_of(firms, [1_200, 1_800], tmp_path)
    here = thinned_firms(_config(1_000), store)
    there = thinned_firms(_config(1_000, "threads"), store)
    assert len(here) == 1_000
    pd.testing.assert_frame_equal(here, there)
