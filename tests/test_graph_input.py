"""A libpysal ``W`` is accepted wherever a ``Graph`` is: the same results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from libpysal import weights as lpw

from klastergeo.analysis import autocorrelation, sentra, specialisation
from klastergeo.analysis.weights import contiguity
from klastergeo.errors import ConfigError
from tests.worlds.lattice import area_table, lattice


def test_w_and_graph_give_the_same_statistics_and_sentra() -> None:
    areas = lattice(7, 7)
    graph = contiguity(areas)
    w = lpw.Queen.from_dataframe(areas, use_index=True, silence_warnings=True)
    firms = {c: {"10": 4, "31": 1} for c in areas.index}
    firms["r3c3"] = {"10": 2, "31": 40}
    table = area_table(areas, firms, graph)
    matrix = table["n_firms"].unstack("sector")
    by_graph, global_graph = autocorrelation.by_sector(matrix, graph, permutations=0)
    by_w, global_w = autocorrelation.by_sector(matrix, w, permutations=0)
    pd.testing.assert_frame_equal(by_graph, by_w)
    pd.testing.assert_frame_equal(global_graph, global_w)
    assert autocorrelation.global_moran(matrix["31"], w).value == pytest.approx(
        autocorrelation.global_moran(matrix["31"], graph).value, rel=1e-12
    )
    pd.testing.assert_frame_equal(
        specialisation.local_specialisation(matrix, graph),
        specialisation.local_specialisation(matrix, w),
    )
    found_graph, _ = sentra.delineate(table, graph, areas)
    found_w, members = sentra.delineate(table, graph=w, areas=areas)
    assert found_w["area_codes"].tolist() == found_graph["area_codes"].tolist() == ["r3c3"]
    assert np.array_equal(members.index, sentra.delineate(table, graph, areas)[1].index)
    with pytest.raises(ConfigError, match="Graph or W, not dict"):
        specialisation.local_specialisation(matrix, {"r0c0": ["r0c1"]})
