"""``klastergeo run --records ikm_klaten_2024.csv --area Sleman`` (the wrong regency:
every firm lies in Klaten) stopped with "galat internal: RecursionError" instead of
exit 2 naming where the records lie: a reason added twice to the validation's checks
(points outside the study area, then names found nowhere in it) made a detail function
that called itself."""

from __future__ import annotations

import numpy as np
import pandas as pd

from klastergeo.io.registry.checks import Checks


def test_a_reason_added_twice_keeps_each_rows_own_detail() -> None:
    frame = pd.DataFrame({"x": range(5)}, index=pd.RangeIndex(10, 15))
    checks = Checks(frame)

    def by_point(rows: pd.Index) -> pd.Series:
        return pd.Series([f"point {r}" for r in rows], index=rows)

    def by_name(rows: pd.Index) -> pd.Series:
        return pd.Series([f"name {r}" for r in rows], index=rows)

    checks.add("outside_study_area", np.array([1, 0, 0, 1, 0], bool), by_point)
    checks.add("outside_study_area", np.array([0, 1, 0, 1, 0], bool), by_name)
    reason, detail = checks.resolve()
    assert reason.tolist() == ["outside_study_area"] * 2 + [""] + ["outside_study_area", ""]
    # a row both checks found keeps the first check's detail
    assert detail.tolist()[:2] == ["point 10", "name 11"]
    assert detail.iloc[3] == "point 13"
    assert detail.isna().tolist() == [False, False, True, False, True]
