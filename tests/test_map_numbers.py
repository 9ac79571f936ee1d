"""The numbers a map page ships for its tooltips, read back from the page: the areas'
totals over every sector (a total with a suppressed sum is suppressed), the sums of each
sector (suppressed, missing and zero told apart), and the names of the areas' parents and
the study area, escaped."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from klastergeo.analysis import weights
from klastergeo.publish import maps
from tests.worlds.decoding import varints
from tests.worlds.lattice import area_table, lattice

_MARKUP = "</script><b>x</b>"


def _page(**style: str) -> tuple[str, pd.DataFrame, pd.Index]:
    """A 3 x 3 lattice map whose table has workers and output (one sum suppressed, one
    missing), with kabupaten names holding markup."""
    areas = lattice(3, 3)
    counts = {c: {"10": 4, "31": 2} for c in areas.index}
    counts["r1c1"] = {"10": 4, "31": 9}
    table = area_table(areas, counts, weights.contiguity(areas))
    table["workers"] = table["n_firms"] * 3.0
    table["output"] = table["n_firms"] * 2.25
    table["workers_flag"] = ""
    table.loc[("r0c0", "31"), ["workers", "workers_flag"]] = [np.nan, "suppressed"]
    table.loc[("r2c2", "10"), "output"] = np.nan  # nobody reported: not available
    from klastergeo.analysis import sentra

    found, _ = sentra.delineate(table, weights.contiguity(areas), areas)
    grand = pd.Series(_MARKUP, index=areas.index)
    fmap = maps.build_map(
        maps.MapInput(areas, table, found, grandparents=grand),
        maps.MapStyle(lang="id", tiles="none", **style),
    )
    return fmap.get_root().render(), table, areas.index


def _view(page: str) -> dict:
    found = re.search(r"klastergeo\.sectorView\([^,]+, (\{.*?\})\);\n", page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_totals_and_sums_are_told_apart() -> None:
    page, table, index = _page()
    view = _view(page)
    rows = np.asarray(varints(view["totals"])).reshape(len(index), 3)
    by_area = table.groupby(level="area_code")
    firms = by_area["n_firms"].sum().reindex(index)
    assert view["totalFields"] == ["n", "w", "o"]
    assert (rows[:, 0] == firms.to_numpy() + 2).all()
    at = {code: k for k, code in enumerate(index)}
    # r0c0 holds a suppressed workers sum: its total is suppressed (1), never a sum
    assert rows[at["r0c0"], 1] == 1
    # r2c2's food firms reported no output: a cell's sum is of the firms that report a
    # value, and so is the area's total (the furniture firms' sum here), missing only
    # where no firm of the area reported one
    assert rows[at["r2c2"], 2] == round(table.loc[("r2c2", "31"), "output"] * 10) + 2
    for code in ("r0c1", "r1c1", "r2c1"):
        assert rows[at[code], 1] == round(table.loc[code, "workers"].sum()) + 2
        assert rows[at[code], 2] == round(table.loc[code, "output"].sum() * 10) + 2
    # the sector's own sums in the tooltip rows: w and o are the last two fields
    tips = view["tips"]["31"]
    positions = np.cumsum(varints(tips["i"]))
    fields = np.asarray(varints(tips["v"])).reshape(len(positions), len(view["tipFields"]))
    w, o = view["tipFields"].index("w"), view["tipFields"].index("o")
    tip = dict(zip(positions.tolist(), fields.tolist(), strict=True))
    assert tip[at["r0c0"]][w] == 1  # suppressed
    assert tip[at["r1c1"]][w] == 9 * 3 + 2 and tip[at["r1c1"]][o] == round(9 * 2.25 * 10) + 2
    assert view["measureTips"] == ["w", "o"]


def test_parents_and_title_are_escaped() -> None:
    page, _, index = _page(title="Klaster <i>", place=_MARKUP, period="Sensus 2016")
    view = _view(page)
    assert view["places"] == [[_MARKUP, len(index)]]  # as data, set as text by the page
    assert "<b>x</b>" not in page and "<i>" not in page
    heading = re.search(r'<div class="klastergeo-title"><b>(.*?)</b>', page)
    assert heading is not None
    assert heading.group(1) == "Klaster &lt;i&gt; &lt;/script&gt;&lt;b&gt;x&lt;/b&gt;, Sensus 2016"
