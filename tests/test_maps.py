"""The web map: layers, popups, language, offline tiles (browser tests arrive with issue 6)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from klastergeo import maps


def _html(fmap) -> str:
    return fmap.get_root().render()


def test_layers_and_popups(map_world, full_map, tmp_path: Path) -> None:
    _, _, found, _ = map_world
    fmap = full_map
    html = _html(fmap)
    for layer in (
        "Gi* hot spots: 31 Furniture",
        "LISA clusters: 31 Furniture",
        "Location quotient: 31 Furniture",
        "Sentra",
        "Firms (points)",
        "Cluster probability",
        "Boundaries",
    ):
        assert layer in html, layer
    assert found.loc[0, "sentra_id"] in html
    assert "sentra_id" in html  # popup fields
    assert "tile.openstreetmap.org" not in html  # offline map: no tiles
    assert "test.csv" in html
    path = maps.save_map(fmap, tmp_path / "map.html")
    saved = path.read_text(encoding="utf-8")
    assert saved.startswith("<!DOCTYPE html>")
    # self-contained: every script and stylesheet is inlined, none is fetched
    assert "<script src=" not in saved
    assert '<link rel="stylesheet"' not in saved
    assert "L.MarkerClusterGroup" in saved and "leaflet-control-zoom-fullscreen" in saved


def test_language_switch(map_world) -> None:
    areas, table, found, _ = map_world
    indonesian = _html(maps.build_map(areas, table, found, lang="id", tiles="none"))
    assert "Hot spot Gi*: 31 Industri furnitur" in indonesian
    assert "Furniture" not in indonesian


def _feature_sets(html: str) -> list[set[str]]:
    """Area codes of each GeoJSON layer embedded in the page."""
    blocks = re.findall(r"geo_json_[0-9a-f]+_add\((\{.*?\})\);", html, flags=re.S)
    out = []
    for block in blocks:
        features = json.loads(block)["features"]
        out.append({f["properties"].get("code") for f in features})
    return out


def test_only_informative_areas_are_drawn(map_world) -> None:
    areas, table, found, _ = map_world
    html = _html(maps.build_map(areas, table, found, lang="en", tiles="OpenStreetMap"))
    gi = table.xs("31", level="sector")
    hot = set(gi.index[gi["gi_bin"] != 0])
    lisa = set(gi.index[gi["lisa_quadrant"].isin([1, 4])])
    layers = _feature_sets(html)
    assert hot and hot in layers  # the Gi* layer holds exactly the hot and cold spots
    assert lisa in layers or not lisa
    assert all(len(codes) < len(areas) for codes in layers)
    assert "tile.openstreetmap.org" in html


def test_classes_put_breaks_above() -> None:
    values = pd.Series([0.5, 1.0, 1.5, 2.0, 7.0, 10.0, 50.0])
    assert maps._classify(values, maps.LQ_BREAKS).tolist() == [0, 1, 1, 2, 3, 4, 4]


def test_sentra_popup_shows_typology_and_stage(map_world) -> None:
    areas, table, found, _ = map_world
    profiled = found.assign(
        typology_label="Marshallian with hub-and-spoke traits", stage="advance", diamond_score=3.1
    )
    html = _html(maps.build_map(areas, table, profiled, lang="en", tiles="none"))
    assert "Type (Markusen)" in html and "Development stage" in html
    blocks = re.findall(r"geo_json_[0-9a-f]+_add\((\{.*?\})\);", html, flags=re.S)
    properties = [
        f["properties"]
        for b in blocks
        for f in json.loads(b)["features"]
        if "stage" in f["properties"]
    ]
    assert properties == [
        {
            **properties[0],
            "typology_label": "Marshallian with hub-and-spoke traits",
            "stage": "advance",
        }
    ]
    indonesian = _html(maps.build_map(areas, table, profiled, lang="id", tiles="none"))
    assert "Tahap perkembangan" in indonesian
