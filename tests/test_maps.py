"""The web map: layers, popups, language, offline tiles (browser tests arrive with issue 6)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from klastergeo.publish import maps


def _html(fmap) -> str:
    return fmap.get_root().render()


def _payload(html: str, function: str = "klastergeo.sectorView(") -> dict:
    """The JSON argument of the page's call to ``function``."""
    start = html.index(function)
    start = html.index("{", start)
    return json.JSONDecoder().raw_decode(html[start:])[0]


def _firms(html: str) -> dict:
    """The firm data block of a map page."""
    start = html.index(f'id="{maps.FIRMS_ID}">') + len(f'id="{maps.FIRMS_ID}">')
    return json.loads(html[start : html.index("</script>", start)])


def _decode(ring: list[int]) -> list[tuple[float, float]]:
    xy = np.cumsum(np.asarray(ring).reshape(-1, 2), axis=0) / 1e5
    return [tuple(p) for p in xy]


def test_layers_and_popups(map_world, full_map, tmp_path: Path) -> None:
    _, _, found, _ = map_world
    fmap = full_map
    html = _html(fmap)
    for layer in ("Sentra", "Firms (points)", "Boundaries"):
        assert layer in html, layer
    assert "klastergeo.sectorView(" in html and "klastergeo.layers(" in html
    assert f'id="{maps.FIRMS_ID}"' in html  # the firm data block
    assert found.index[0] in html
    assert "tile.openstreetmap.org" not in html  # offline map: no tiles
    assert "test.csv" in html
    path = maps.save_map(fmap, tmp_path / "map.html")
    saved = path.read_text(encoding="utf-8")
    assert saved.startswith("<!DOCTYPE html>")
    # self-contained: every script and stylesheet is inlined, none is fetched
    assert "<script src=" not in saved
    assert '<link rel="stylesheet"' not in saved
    assert "L.MarkerClusterGroup" in saved and "leaflet-control-zoom-fullscreen" in saved
    assert "KG.sectorView = function" in saved


def test_sector_view_payload_matches_the_table(map_world, full_map) -> None:
    areas, table, _, _ = map_world
    data = _payload(_html(full_map))
    assert data["sectors"] == ["10", "31"]  # every analysed sector
    assert data["initial"] == "31"  # the first sector with a sentra
    assert data["stats"] == ["gi", "lisa", "lq", "prob"]
    assert len(data["shapes"]) == len(data["names"]) == len(areas)
    rows = table.xs("31", level="sector").reindex(areas.index)
    gi = [ord(c) - 48 - 3 for c in data["values"]["gi"]["31"]]
    assert gi == rows["gi_bin"].astype(int).tolist()
    lisa = [ord(c) - 48 for c in data["values"]["lisa"]["31"]]
    assert lisa == rows["lisa_quadrant"].astype(int).tolist()
    lq = [ord(c) - 48 for c in data["values"]["lq"]["31"]]
    assert lq == maps._classify(rows["lq"].fillna(0), maps.LQ_BREAKS).tolist()
    assert set(data["prob"]) == {"3"}  # 0.6 everywhere: the 0.50-0.75 class
    # the geometry round-trips to 1e-5 degrees: r0c0's first vertex
    first = _decode(data["shapes"][0][0][0])[0]
    lon_lat = np.asarray(areas.to_crs(4326).geometry.iloc[0].exterior.coords)
    assert np.abs(lon_lat - np.asarray(first)).sum(axis=1).min() < 2e-5
    firms = _firms(_html(full_map))
    assert firms["n"] == 23 and len(firms["xy"]) == 46


def test_language_switch(map_world) -> None:
    areas, table, found, _ = map_world
    indonesian = _html(maps.build_map(areas, table, found, lang="id", tiles="none"))
    data = _payload(indonesian)
    assert data["sectorLabels"]["31"] == "31 Industri furnitur"
    assert data["text"]["stats"]["gi"] == "Hot spot Gi*"
    assert "Furniture" not in indonesian


def test_classes_put_breaks_above() -> None:
    values = pd.Series([0.5, 1.0, 1.5, 2.0, 7.0, 10.0, 50.0])
    assert maps._classify(values, maps.LQ_BREAKS).tolist() == [0, 1, 1, 2, 3, 4, 4]


def test_sentra_popup_shows_typology_and_stage(map_world) -> None:
    areas, table, found, _ = map_world
    profiled = found.assign(
        typology_label="Marshallian with hub-and-spoke traits", stage="advance", diamond_score=3.1
    )
    html = _html(maps.build_map(areas, table, profiled, lang="en", tiles="none"))
    popups = _payload(html, "klastergeo.layers(")["sentra"]["popups"]
    assert len(popups) == 1
    rows = dict(popups[0])
    assert rows["Type (Markusen)"] == "Marshallian with hub-and-spoke traits"
    assert rows["Development stage"] == "advance"
    assert rows["Porter diamond score (1-5)"] == "3.10"
    assert rows["ID"] == found.index[0]
    indonesian = _html(maps.build_map(areas, table, profiled, lang="id", tiles="none"))
    assert "Tahap perkembangan" in indonesian


def test_many_firms_become_counts_on_a_grid(map_world) -> None:
    """Above ``max_firms`` the page gets no firm, only counts per grid cell: the counts
    add up to the firms, every firm lies in its cell, and names are gone."""
    areas, table, found, _ = map_world
    rng = np.random.default_rng(8)
    lon, lat = rng.uniform(110.0, 110.3, 5_000), rng.uniform(-7.4, -7.2, 5_000)
    firms = gpd.GeoDataFrame(
        {"sector": ["31"] * len(lon), "name": ["UD Rahasia"] * len(lon)},
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )
    html = _html(maps.build_map(areas, table, found, firms=firms, tiles="none", max_firms=100))
    block = _firms(html)
    assert "UD Rahasia" not in html and "names" not in block
    assert sum(block["w"]) == 5_000 and block["firms"] == 5_000
    centres = np.cumsum(np.asarray(block["xy"]).reshape(-1, 2), axis=0) / block["q"]
    cell = block["cell"]
    ix, iy = np.floor(lon / cell), np.floor(lat / cell)
    expected = pd.Series(1, index=pd.MultiIndex.from_arrays([ix, iy])).groupby(level=[0, 1]).sum()
    got = pd.Series(
        block["w"],
        index=pd.MultiIndex.from_arrays(
            [np.floor(centres[:, 0] / cell), np.floor(centres[:, 1] / cell)]
        ),
    )
    assert got.sort_index().equals(expected.sort_index())
    small = _html(
        maps.build_map(areas, table, found, firms=firms.head(50), tiles="none", max_firms=100)
    )
    assert "w" not in _firms(small) and _firms(small)["n"] == 50
    # a national run passes the firms' coordinates only (no point object per firm)
    plain = pd.DataFrame({"lon": lon, "lat": lat, "sector": "31"})
    html = _html(maps.build_map(areas, table, found, firms=plain, tiles="none", max_firms=100))
    assert _firms(html) == block
