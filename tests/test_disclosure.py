"""Statistical disclosure control (:mod:`klastergeo.analysis.disclosure`) against brute force,
closed forms and an exact linear-algebra attacker."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from klastergeo.analysis import disclosure as sdc
from klastergeo.errors import ConfigError

RULES = sdc.Rules()


def _brute_sizes(values: np.ndarray, groups: np.ndarray, n_groups: int, k: int) -> sdc.Sizes:
    """One group at a time, the plain way."""
    n = np.zeros(n_groups, dtype=np.int64)
    total = np.zeros(n_groups)
    top = np.zeros((n_groups, k))
    for g in range(n_groups):
        v = values[(groups == g) & np.isfinite(values)]
        n[g], total[g] = len(v), v.sum()
        best = np.sort(v)[::-1][:k]
        top[g, : len(best)] = best
    return sdc.Sizes(n=n, total=total, top=top)


@pytest.mark.parametrize("seed", range(6))
def test_sizes_equal_a_brute_force_with_ties_and_missing_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 6, 400).astype(float)  # many ties
    values[rng.random(400) < 0.2] = np.nan
    groups = rng.integers(-1, 40, 400)
    for k in (1, 2, 3):
        got = sdc.sizes(values, groups, 45, top=k)
        want = _brute_sizes(values, groups, 45, k)
        np.testing.assert_array_equal(got.n, want.n)
        np.testing.assert_allclose(got.total, want.total)
        np.testing.assert_array_equal(got.top, want.top)


def test_combine_equals_the_sizes_of_the_union() -> None:
    rng = np.random.default_rng(1)
    values = rng.lognormal(2, 1.5, 2000)
    cell = rng.integers(0, 300, 2000)
    union_of_cell = rng.integers(-1, 25, 300)
    cells = sdc.sizes(values, cell, 300, top=3)
    got = sdc.combine(cells, union_of_cell, 25)
    want = sdc.sizes(values, union_of_cell[cell], 25, top=3)
    np.testing.assert_array_equal(got.n, want.n)
    np.testing.assert_allclose(got.total, want.total)
    np.testing.assert_allclose(got.top, want.top)


def test_the_primary_rules_by_hand() -> None:
    """Threshold (fewer than 3 firms) and (2, 85 %) dominance, at their edges."""
    values = [
        *[10, 10],  # 0: two firms
        *[10, 10, 10],  # 1: three equal firms: 2/3 < 0.85
        *[50, 35, 15],  # 2: exactly 85 %: not more than k
        *[50, 36, 14],  # 3: 86 %: dominated
        *[0, 0, 0],  # 4: three zeros: the sum says each firm reports zero
    ]
    groups = np.repeat(np.arange(5), [2, 3, 3, 3, 3])
    flags = sdc.primary(sdc.sizes(values, groups, 6), RULES)
    assert flags.tolist() == [1, 0, 0, 2, 4, 0]  # group 5 has no firm: nothing to protect
    off = sdc.Rules(min_firms=1, dominance_k=1.0)
    assert sdc.primary(sdc.sizes(values, groups, 6), off).tolist() == [0] * 6


def test_rules_name_the_bad_option() -> None:
    with pytest.raises(ConfigError, match=r"disclosure.min_firms=0 must be at least 1"):
        sdc.Rules(min_firms=0)
    with pytest.raises(ConfigError, match=r"disclosure.dominance_k=1.5"):
        sdc.Rules(dominance_k=1.5)
    with pytest.raises(ConfigError, match=r"disclosure.grid_m=0"):
        sdc.Rules(grid_m=0)


def _world(seed: int, n_cells: int = 60, firms: int = 900) -> tuple:
    """Firms in cells; cells in regencies (nested) and in cross-cutting 'sentra'."""
    rng = np.random.default_rng(seed)
    # skewed cells: many with one or two firms, some large, a few dominated by one firm
    cell = rng.choice(n_cells, firms, p=rng.dirichlet(np.full(n_cells, 0.4)))
    values = rng.lognormal(1.0, 1.2, firms)
    big = rng.choice(firms, 8, replace=False)
    values[big] *= 200
    regency = np.repeat(np.arange(n_cells // 10), 10)[:n_cells]
    sentra = np.full(n_cells, -1)
    for s, members in enumerate(np.array_split(rng.permutation(n_cells)[:24], 4)):
        sentra[members] = s  # across regencies
    return values, cell, regency, sentra


def _published_rows(
    cell: np.ndarray,
    groupings: list[np.ndarray],
    cell_flags: np.ndarray,
    firms: int,
    n_cells: int,
    cells: sdc.Sizes,
    group_flags: tuple[np.ndarray, ...] | None = None,
) -> np.ndarray:
    """The attacker's equations over firm values: every published cell and every group
    total that is published (passes the primary rules and was not withdrawn)."""
    member = np.zeros((n_cells, firms))
    member[cell, np.arange(firms)] = 1.0
    rows = [member[cell_flags == 0]]
    for i, labels in enumerate(groupings):
        n_groups = int(labels.max()) + 1
        whole = sdc.combine(cells, labels, n_groups)
        flags = sdc.primary(whole, RULES) if group_flags is None else group_flags[i]
        for g in np.flatnonzero((flags == 0) & (whole.n > 0)):
            rows.append(member[labels == g].sum(axis=0, keepdims=True))
    return np.vstack(rows)


def _recoverable(rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Which target vectors (sums over firms) lie in the row space of ``rows``: exactly
    what an attacker can compute from the published numbers by adding and
    subtracting."""
    _, s, vt = np.linalg.svd(rows, full_matrices=False)
    basis = vt[s > 1e-9 * s.max()]
    residual = targets - (targets @ basis.T) @ basis
    return np.abs(residual).max(axis=1) < 1e-6


@pytest.mark.parametrize("seed", range(12))
def test_no_suppressed_cell_can_be_computed_back(seed: int) -> None:
    """An attacker with every published cell and every published total (regencies and
    sentra that cut across them) recovers no primary-suppressed cell, and every
    published group's suppressed cells together pass the rules."""
    values, cell, regency, sentra = _world(seed)
    firms, n_cells = len(values), int(cell.max()) + 1
    regency, sentra = regency[:n_cells], sentra[:n_cells]
    cells = sdc.sizes(values, cell, n_cells)
    done = sdc.suppress(cells, [regency, sentra], RULES)
    flags = done.cells
    first = sdc.primary(cells, RULES)
    assert ((flags > 0) >= (first > 0)).all()  # primary suppressions stay
    assert (flags[first > 0] == first[first > 0]).all()
    assert (first > 0).any() and (flags == sdc.SECONDARY).any()  # the case is not trivial
    for labels, group_flags in zip((regency, sentra), done.groups, strict=True):
        n_groups = int(labels.max()) + 1
        whole = sdc.combine(cells, labels, n_groups)
        hidden = sdc.combine(cells, np.where(flags > 0, labels, -1), n_groups)
        shown = (group_flags == 0) & (whole.n > 0)
        assert not ((sdc.primary(hidden, RULES) > 0) & shown & (hidden.n > 0)).any()
    rows = _published_rows(cell, [regency, sentra], flags, firms, n_cells, cells, done.groups)
    sensitive = np.flatnonzero((first > 0) & (cells.n > 0))
    targets = np.zeros((len(sensitive), firms))
    for i, c in enumerate(sensitive):
        targets[i, cell == c] = 1.0
    assert not _recoverable(rows, targets).any()
    # and no single firm's value at all
    assert not _recoverable(rows, np.eye(firms)).any()


def test_a_regency_total_alone_would_give_its_single_firm_away() -> None:
    """The suppression is needed: with the primary suppressions alone, the published
    totals give suppressed cells back."""
    found = 0
    for seed in range(12):
        values, cell, regency, sentra = _world(seed)
        firms, n_cells = len(values), int(cell.max()) + 1
        cells = sdc.sizes(values, cell, n_cells)
        first = sdc.primary(cells, RULES)
        groupings = [regency[:n_cells], sentra[:n_cells]]
        rows = _published_rows(cell, groupings, first, firms, n_cells, cells)
        sensitive = np.flatnonzero((first > 0) & (cells.n > 0))
        targets = np.zeros((len(sensitive), firms))
        for i, c in enumerate(sensitive):
            targets[i, cell == c] = 1.0
        found += int(_recoverable(rows, targets).sum())
    assert found > 0


def _points_case(extra_in_b: int, member_of_b: int) -> tuple:
    """Cell A: 10 firms, all in the sentra; cell B: ``extra_in_b`` firms outside it and
    ``member_of_b`` inside it."""
    values = np.concatenate([np.full(10, 5.0), np.full(extra_in_b + member_of_b, 7.0)])
    cell = np.concatenate([np.zeros(10, int), np.ones(extra_in_b + member_of_b, int)])
    sentra = np.concatenate(
        [np.zeros(10, int), -np.ones(extra_in_b, int), np.zeros(member_of_b, int)]
    )
    cells = sdc.sizes(values, cell, 2)
    flags = sdc.suppress(cells, [], RULES).cells
    own = sdc.primary(sdc.sizes(values, sentra, 1), RULES)
    return sdc.point_sentra_flags(values, cell, sentra, flags, own, RULES)[0]


def test_a_point_sentra_that_would_give_a_firm_away_is_suppressed() -> None:
    # sentra - cell A = the one firm it takes from cell B
    assert _points_case(extra_in_b=5, member_of_b=1) == sdc.SECONDARY
    # cell B - (sentra - cell A) = the one firm of B it leaves out
    assert _points_case(extra_in_b=1, member_of_b=5) == sdc.SECONDARY
    # three firms on either side: safe
    assert _points_case(extra_in_b=3, member_of_b=3) == sdc.PUBLISHED
    # whole cells only: the sentra is their sum
    assert _points_case(extra_in_b=0, member_of_b=4) == sdc.PUBLISHED


def test_two_point_sentra_sharing_a_cell_leave_its_other_firm_protected() -> None:
    """Cell C holds 4 firms of sentra 0, 4 of sentra 1 and one in neither; each sentra
    also holds a whole cell. C - (S0 - A0) - (S1 - A1) is that one firm."""
    values = np.array([3.0] * 5 + [4.0] * 5 + [2.0] * 9)
    cell = np.array([0] * 5 + [1] * 5 + [2] * 9)
    sentra = np.array([0] * 5 + [1] * 5 + [0] * 4 + [1] * 4 + [-1])
    cells = sdc.sizes(values, cell, 3)
    flags = sdc.suppress(cells, [], RULES).cells
    own = sdc.primary(sdc.sizes(values, sentra, 2), RULES)
    out = sdc.point_sentra_flags(values, cell, sentra, flags, own, RULES)
    assert (out == sdc.SECONDARY).all()


def test_grid_hulls_have_grid_corners_and_ignore_where_in_its_cell_a_firm_lies() -> None:
    rng = np.random.default_rng(4)
    xy = np.vstack([rng.normal(5_000, 200, (60, 2)), rng.normal(9_000, 120, (30, 2))])
    labels = np.repeat([0, 1], [60, 30])
    hulls = sdc.grid_hulls(xy, labels, 2, grid_m=250, min_firms=3)
    for hull in hulls:
        corners = shapely.get_coordinates(hull)
        np.testing.assert_allclose(corners % 250, 0, atol=1e-6)
    # every cell the hull is built from holds at least 3 of the group's firms, and the
    # hull contains most of them
    cell = np.floor(xy / 250).astype(int)
    for g, hull in enumerate(hulls):
        mine = labels == g
        inside = shapely.contains_xy(hull, xy[mine, 0], xy[mine, 1])
        assert inside.mean() > 0.5
    # moving a firm within its grid cell changes nothing
    moved = xy.copy()
    moved[:, :] = (cell + rng.uniform(0.01, 0.99, cell.shape)) * 250
    again = sdc.grid_hulls(moved, labels, 2, grid_m=250, min_firms=3)
    assert all(a.equals(b) for a, b in zip(hulls, again, strict=True))


def test_a_sparse_group_gets_a_coarser_grid_not_its_firms() -> None:
    xy = np.array([[0.0, 0.0], [900.0, 50.0], [1800.0, 20.0], [100.0, 1700.0]]) + 10_013.5
    hull = sdc.grid_hulls(xy, np.zeros(4, int), 1, grid_m=250, min_firms=3)[0]
    assert not hull.is_empty
    corners = shapely.get_coordinates(hull)
    assert not np.isin(np.round(corners, 6), np.round(xy, 6)).all(axis=1).any()
    np.testing.assert_allclose(corners % 250, 0, atol=1e-6)


def test_suppress_is_vectorised_over_many_groups() -> None:
    """A national-sized table: 1.75 M cells in 500 regencies (no wall-clock limit; the
    assertion is on the result)."""
    rng = np.random.default_rng(0)
    n_cells = 200_000
    cell = rng.integers(0, n_cells, 1_000_000)
    values = rng.lognormal(1, 1, len(cell))
    cells = sdc.sizes(values, cell, n_cells)
    regency = np.arange(n_cells) // 400
    flags = sdc.suppress(cells, [regency], RULES).cells
    frame = pd.DataFrame({"r": regency, "hidden": flags > 0, "n": cells.n})
    assert frame.groupby("r")["hidden"].sum().ne(1).all()  # never a lone suppression


def test_a_suppressed_sentra_value_says_why_in_the_map_popup() -> None:
    """A flagged value is 'confidential' in the popup, not missing, not zero."""
    import geopandas as gpd

    from klastergeo.publish import maps

    sentra = gpd.GeoDataFrame(
        {
            "sector": ["31", "25"],
            "n_firms": [40, 25],
            "workers": [np.nan, 310.0],
            "workers_flag": ["suppressed", ""],
            "output": [np.nan, np.nan],
            "output_flag": ["suppressed", ""],
        },
        geometry=[shapely.box(110, -7, 110.01, -6.99), shapely.box(111, -7, 111.01, -6.99)],
        index=pd.Index(["31-01", "25-01"], name="sentra_id"),
        crs=4326,
    )
    for lang, words in (("id", "dirahasiakan"), ("en", "confidential")):
        payload = maps._sentra_payload(sentra, dict(maps.TEXT[lang]), lang)
        first, second = (dict(rows) for rows in payload["popups"])
        label = maps.TEXT[lang]["workers"]
        assert first[label].startswith(words)
        assert second[label] == "310"
        # not reported: said to be missing (issue 25), never 0, and not "confidential"
        assert second[maps.TEXT[lang]["output"]] == maps.TEXT[lang]["not_available"]
        assert first[maps.TEXT[lang]["output"]] != "0"


def test_a_published_summary_names_files_never_their_paths() -> None:
    """Every path the configuration declares (the linkage table too) is reduced to its
    file name; the output folder and the file manifest are left out."""
    import json

    from klastergeo.app.config import PATH_KEYS, PATH_LIST_KEYS, load_config
    from klastergeo.publish.site import public_summary

    config = load_config(None, overrides={"out": "/home/analis/rahasia/out"}).to_dict()
    for section, key in PATH_KEYS:
        config[section][key] = f"/home/analis/rahasia/{section}_{key}.csv"
    for section, key in PATH_LIST_KEYS:
        config[section][key] = ["/home/analis/rahasia/a_2019.csv", "C:\\\\data\\\\b_2023.csv"]
    from klastergeo.publish.record import RunRecord

    record = RunRecord.from_json({"config": config, "files": {"x": 1}, "kind": "run"})
    public = public_summary(record).to_json()
    text = json.dumps(public)
    assert "rahasia" not in text and "/home" not in text and "files" not in public
    assert public["config"]["colocation"]["linkage_table"] == "colocation_linkage_table.csv"
    assert public["config"]["records"]["files"] == ["a_2019.csv", "b_2023.csv"]
    assert "C:" not in text
