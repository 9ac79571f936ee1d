"""Point-pattern evidence against pointpats, closed forms and planted patterns."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pointpats import distance_statistics as pp
from scipy.spatial.distance import cdist

from klastergeo.analysis import pointpattern
from klastergeo.errors import ConfigError, DataError

SQUARE = shapely.box(0, 0, 10_000, 10_000)


def _thomas(rng: np.random.Generator, parents: int = 15, children: int = 20) -> np.ndarray:
    """Clustered: offspring within about 100 m of parents uniform in 10 x 10 km."""
    centres = rng.uniform(1000, 9000, (parents, 2))
    return np.repeat(centres, children, axis=0) + rng.normal(0, 100, (parents * children, 2))


def test_k_equals_pointpats_on_the_same_window() -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 10_000, (400, 2))
    distances = np.linspace(100, 2000, 12)
    box = shapely.box(*xy.min(axis=0), *xy.max(axis=0))
    ours = pointpattern.ripley(xy, window=box, distances=distances, simulations=5)
    _, theirs = pp.k(xy, support=distances)
    # pointpats divides by n^2 (we by n (n - 1), Ripley's unbiased form); both use the
    # points' bounding box here
    n = len(xy)
    np.testing.assert_allclose(ours["K"].to_numpy(), theirs * n / (n - 1), rtol=1e-9)


def test_csr_is_inside_its_envelope() -> None:
    xy = pointpattern.csr_points(SQUARE, 500, np.random.default_rng(2))
    result = pointpattern.ripley(xy, window=SQUARE, simulations=99, seed=3)
    assert not result["clustered"].any()
    assert not result["dispersed"].any()
    assert result.attrs["n"] == 500
    ce = pointpattern.clark_evans(xy, area=SQUARE.area)
    assert ce["pattern"] == "random"
    assert ce["R"] == pytest.approx(1.0, abs=0.1)


def test_planted_clusters_are_clustered_at_small_distances() -> None:
    xy = _thomas(np.random.default_rng(4))
    result = pointpattern.ripley(
        xy, window=SQUARE, distances=np.array([50.0, 100, 200, 400, 3000]), seed=5
    )
    assert result.loc[[50.0, 100.0, 200.0], "clustered"].all()
    assert (result.loc[[50.0, 100.0, 200.0], "p_value"] == 0.01).all()
    assert (result.loc[[50.0, 100.0, 200.0], "L_minus_d"] > 0).all()
    ce = pointpattern.clark_evans(xy, area=SQUARE.area)
    assert ce["pattern"] == "clustered"
    assert ce["R"] < 0.5


def test_clark_evans_closed_form_and_pointpats_mean_nn() -> None:
    grid = np.stack(np.meshgrid(np.arange(20.0), np.arange(20.0)), -1).reshape(-1, 2) * 50
    # square lattice, spacing s, area n s^2: mean NN = s, expected 0.5 s -> R = 2
    ce = pointpattern.clark_evans(grid, area=400 * 50.0**2)
    assert ce["mean_nn_m"] == pytest.approx(50.0)
    assert ce["R"] == pytest.approx(2.0)
    assert ce["pattern"] == "dispersed"
    xy = np.random.default_rng(6).uniform(0, 1000, (300, 2))
    ours = pointpattern.clark_evans(xy)
    distances = cdist(xy, xy)
    np.fill_diagonal(distances, np.inf)
    assert ours["mean_nn_m"] == pytest.approx(distances.min(axis=1).mean(), rel=1e-12)
    assert ours["correction"] == "donnelly"  # the convex hull's perimeter is known


def test_donnelly_correction_removes_the_edge_bias() -> None:
    """Planted CSR: 2,000 patterns of 50 points in a unit square. Uncorrected, R averages
    well above 1 (edge effect); with Donnelly's correction it averages 1."""
    rng = np.random.default_rng(10)
    plain, corrected, z = [], [], []
    for _ in range(2000):
        xy = rng.uniform(0, 100, (50, 2))
        plain.append(pointpattern.clark_evans(xy, area=1e4)["R"])
        result = pointpattern.clark_evans(xy, area=1e4, perimeter=400)
        corrected.append(result["R"])
        z.append(result["z"])
    se = np.std(corrected) / np.sqrt(2000)
    assert abs(np.mean(corrected) - 1.0) < 3 * se
    assert np.mean(plain) - 1.0 > 10 * se
    # and its standard error is right: z is standard normal under CSR
    assert np.std(z) == pytest.approx(1.0, abs=0.1)


def test_seeded_and_subsampled() -> None:
    xy = _thomas(np.random.default_rng(7), parents=40, children=50)  # 2,000 points
    a = pointpattern.ripley(xy, window=SQUARE, simulations=19, seed=8, max_points=500)
    b = pointpattern.ripley(xy, window=SQUARE, simulations=19, seed=8, max_points=500)
    c = pointpattern.ripley(xy, window=SQUARE, simulations=19, seed=9, max_points=500)
    pd.testing.assert_frame_equal(a, b)
    assert not a["high"].equals(c["high"])
    assert a.attrs["n_used"] == 500


def test_bad_input_is_named() -> None:
    with pytest.raises(DataError, match="at least 3 points"):
        pointpattern.ripley(np.zeros((2, 2)))
    with pytest.raises(ConfigError, match=r"shape \(5,\)"):
        pointpattern.clark_evans(np.zeros(5))
    with pytest.raises(ConfigError, match="increasing"):
        pointpattern.ripley(np.random.default_rng(0).uniform(0, 9, (9, 2)), distances=[3, 1])


def test_by_sector_and_by_sentra_on_a_lattice() -> None:
    from tests.worlds.lattice import firms_in, lattice

    areas = lattice(10, 10)
    counts = {c: {"10": 4} for c in areas.index}
    counts["r3c3"] = {"10": 4, "31": 80}  # furniture only here
    firms = firms_in(areas, counts, seed=2)
    ripley_table, summary = pointpattern.by_sector(firms, areas, simulations=39)
    summary = summary.set_index("sector")
    assert summary.loc["31", "pattern"] == "clustered"
    # 4 food firms in every village: stratified, so at least as regular as CSR
    assert summary.loc["10", "pattern"] != "clustered"
    assert summary.loc["10", "R"] > summary.loc["31", "R"]
    assert set(ripley_table["sector"]) == {"10", "31"}
    assert ripley_table.loc[ripley_table["sector"] == "31", "clustered"].all()
    firms["sentra_id"] = np.where(firms["sector"] == "31", "31-01", None)
    sentra = gpd.GeoDataFrame(
        {"sentra_id": ["31-01"]}, geometry=[areas.geometry["r3c3"]], crs=areas.crs
    )
    curves, per_sentra = pointpattern.by_sentra(firms, sentra, simulations=39)
    # firms_in places firms uniformly inside their village: random within the sentra
    assert per_sentra.loc[0, "pattern"] == "random"
    assert per_sentra.loc[0, "n"] == 80
    assert set(curves["sentra_id"]) == {"31-01"}


def test_projected_xy_equals_geopandas_to_crs() -> None:
    """The firms' metres come from pyproj on coordinate arrays: the same numbers as
    geopandas' ``to_crs`` (which makes a point object per firm)."""
    import shapely

    from klastergeo.analysis.geometry import projected_xy

    rng = np.random.default_rng(4)
    points = gpd.GeoSeries(
        gpd.points_from_xy(rng.uniform(105, 115, 5_000), rng.uniform(-8, -6, 5_000)), crs=4326
    )
    expected = shapely.get_coordinates(points.to_crs(32749).to_numpy())
    assert np.array_equal(projected_xy(points, 32749), expected)
    assert np.array_equal(projected_xy(points.to_crs(32749), 32749), expected)


@pytest.mark.parametrize("seed", range(4))
def test_nearest_neighbour_mean_is_the_brute_force(seed: int) -> None:
    """Ripley's mean nearest-neighbour distance (behind ``R_relative`` and ``p_nn``)
    takes each point's nearest partner among the pairs within the largest distance and
    looks up only the others: the same mean as the distance matrix's row minima
    (clusters, isolated points far beyond the largest distance, and duplicates)."""
    rng = np.random.default_rng(seed)
    xy = np.vstack(
        [
            _thomas(rng, parents=5, children=30),
            rng.uniform(0, 100_000, (40, 2)),
            np.repeat(rng.uniform(0, 10_000, (3, 2)), 2, axis=0),
        ]
    )
    distances = np.linspace(20, 500, 6)
    _, nearest = pointpattern._k(xy, distances, 1e10)
    gaps = cdist(xy, xy)
    np.fill_diagonal(gaps, np.inf)
    assert nearest == pytest.approx(gaps.min(axis=1).mean(), rel=1e-12)
    assert gaps.min(axis=1).max() > distances[-1]  # some points have no pair within 500 m
