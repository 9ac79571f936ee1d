"""Static figures: colours land on the right areas, the Moran slope is Moran's I."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

from klastergeo.analysis import autocorrelation, weights
from klastergeo.analysis.geometry import to_metric
from klastergeo.errors import ConfigError, DataError
from klastergeo.publish import figures as static
from tests.worlds.lattice import area_table, lattice


def _has_colour(path: Path, hex_colour: str) -> bool:
    pixels = image.imread(path)[:, :, :3]
    target = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return bool((np.abs(pixels - target).max(axis=2) < 0.02).any())


def test_canvas_paints_and_repaints(tmp_path: Path) -> None:
    areas = lattice(6, 6)
    canvas = static.AreaCanvas(areas)
    try:
        first = canvas.paint(
            pd.Series({"r2c2": "#d62f27"}),
            tmp_path / "a.png",
            title="A",
            legend={"hot": "#d62f27"},
        )
        second = canvas.paint(
            pd.Series({"r2c2": "#4575b5"}),
            tmp_path / "b.png",
            title="B",
            legend={"cold": "#4575b5"},
        )
    finally:
        canvas.close()
    assert first.read_bytes().startswith(b"\x89PNG")
    assert _has_colour(first, "#d62f27")
    assert _has_colour(second, "#4575b5")
    # the area and the legend take the new colour; the old one is gone everywhere
    assert not _has_colour(second, "#d62f27")


def test_sector_figures_write_specialisation_gi_and_lisa_maps(tmp_path: Path) -> None:
    areas = lattice(9, 9)
    graph = weights.contiguity(areas)
    counts = {c: {"10": 2, "31": 1} for c in areas.index}
    counts["r4c4"] = {"10": 2, "31": 60}
    table = area_table(areas, counts, graph)
    assert table.loc[("r4c4", "31"), "spec_bin"] == 3
    written = static.sector_figures(areas, table, ["31"], tmp_path, lang="en")
    names = ["spec_31.png", "gi_31.png", "lisa_31.png", "lisa_sig_31.png"]
    assert [p.name for p in written] == names
    # the significance map beside the cluster map, with GeoDa's four greens in its legend
    assert all(_has_colour(written[3], c) for c in static.SIGNIFICANCE_COLOURS)
    assert _has_colour(written[0], "#d62f27")  # the 99 % hot spot of specialisation
    assert _has_colour(written[1], "#d62f27")  # ... and of density
    # a table without the specialisation still gets its density maps
    older = static.sector_figures(
        areas, table.drop(columns="spec_bin"), ["31"], tmp_path / "old", lang="en"
    )
    assert [p.name for p in older] == ["gi_31.png", "lisa_31.png", "lisa_sig_31.png"]
    with pytest.raises(ConfigError, match="lang='fr'"):
        static.sector_figures(areas, table, ["31"], tmp_path, lang="fr")


def test_moran_scatterplot_slope_is_morans_i(tmp_path: Path) -> None:
    areas = lattice(8, 8)
    graph = weights.contiguity(areas)
    y = pd.Series(np.random.default_rng(0).poisson(3, len(areas)).astype(float), index=areas.index)
    z = (y - y.mean()) / y.std(ddof=0)
    lag = graph.transform("r").sparse @ z.reindex(graph.unique_ids).to_numpy()
    slope = static.moran_slope(z.reindex(graph.unique_ids).to_numpy(), lag)
    assert slope == pytest.approx(autocorrelation.global_moran(y, graph).value, rel=1e-12)
    path = static.moran_scatterplot(y, graph, tmp_path / "m.png", title="y")
    assert path.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(DataError, match="constant"):
        static.moran_scatterplot(y * 0 + 1, graph, tmp_path / "c.png")


@pytest.mark.parametrize("raster_parts", [0, 10_000])  # an image, and vector paths
def test_every_area_gets_its_colour_in_both_modes(tmp_path: Path, raster_parts: int) -> None:
    """The pixel at each area's centre has the area's colour, drawn as an image (what a
    country's villages get) or as paths (a province's)."""
    areas = lattice(6, 7)
    palette = ["#d62f27", "#4575b5", "#fdae61", "#1a9850"]
    rng = np.random.default_rng(1)
    colours = pd.Series(rng.choice(palette, len(areas)), index=areas.index)
    geographic = areas.to_crs(4326)
    canvas = static.AreaCanvas(geographic, raster_parts=raster_parts)
    try:
        assert canvas.raster == (raster_parts == 0)
        path = canvas.paint(colours, tmp_path / "map.png", title="T", legend={})
        centres = to_metric(geographic).geometry.centroid  # the canvas's CRS
        display = canvas.axes.transData.transform(np.column_stack([centres.x, centres.y]))
        height = canvas.figure.bbox.height
    finally:
        canvas.close()
    pixels = image.imread(path)[:, :, :3]
    for (x, y), want in zip(display, colours, strict=True):
        got = pixels[int(height - y), int(x)]
        target = np.array([int(want[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        assert np.abs(got - target).max() < 0.02, (want, got)


def test_moran_scatterplot_colours_clusters_and_keeps_outliers_off_the_axes(
    tmp_path: Path,
) -> None:
    """Points take their LISA cluster's colour (GeoDa's); one extreme area is drawn on the
    edge, so the others are not squeezed: the plot keeps most of its colour pixels for
    the bulk (compared with the same data without the outlier)."""
    from klastergeo.publish.maps import LISA_COLOURS

    areas = lattice(10, 10)
    graph = weights.contiguity(areas)
    rng = np.random.default_rng(4)
    y = pd.Series(rng.poisson(5, len(areas)).astype(float), index=areas.index)
    quadrant = pd.Series(0, index=areas.index)
    quadrant.iloc[:10] = 1  # some high-high
    plain = static.moran_scatterplot(
        y, graph, tmp_path / "plain.png", title="31 Furniture", quadrant=quadrant, p_value=0.0
    )
    assert _has_colour(plain, LISA_COLOURS[1])
    extreme = y.copy()
    extreme.iloc[50] = 10_000.0
    with_outlier = static.moran_scatterplot(
        extreme, graph, tmp_path / "outlier.png", quadrant=quadrant, lang="id"
    )
    spread = [
        int((np.abs(image.imread(p)[:, :, :3] - 0.6).max(axis=2) < 0.05).sum())
        for p in (plain, with_outlier)
    ]
    assert spread[1] > 0.3 * spread[0]  # the grey points still spread over the axes


def test_significance_classes_are_geodas() -> None:
    """p <= 0.0001, 0.001, 0.01, 0.05 take GeoDa's four greens, darkest first; above
    0.05 or missing, grey."""
    p = pd.Series([0.00005, 0.0001, 0.0005, 0.005, 0.03, 0.05, 0.2, np.nan])
    colours, legend = static._significance(p, "id")
    dark, mid, light, lightest = static.SIGNIFICANCE_COLOURS
    assert colours.tolist() == [dark, dark, mid, light, lightest, lightest, "#eeeeee", "#eeeeee"]
    labels = list(legend)
    assert labels[0] == "p <= 0,0001" and labels[-1] == "Tidak signifikan"
