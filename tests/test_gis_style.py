"""The GeoPackages open readable in QGIS: each area names its parents, every field has a
title in the run's language (GDAL reads them as alternative names), and each layer has a
default QGIS style in ``layer_styles`` that GDAL reads back: the areas by the
specialisation classes of the leading sector, the sentra as labelled outlines."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from klastergeo import kbli
from klastergeo.publish import gis, gis_style, messages
from klastergeo.publish.maps import GISTAR_COLOURS, SENTRA_COLOUR
from tests.worlds.language import english
from tests.worlds.lattice import lattice

CREATED = "2024-01-31T08:00:00+07:00"


def _world(*, with_sentra: bool = True) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A 3 x 3 lattice: sector 10 has the most firms (90 against 57), sector 31 the only
    sentra (areas r1c1 and r1c2, specialisation class 3 and 2 there)."""
    areas = lattice(3, 3)
    codes = list(areas.index)
    index = pd.MultiIndex.from_product([codes, ["10", "31"]], names=["area_code", "sector"])
    table = pd.DataFrame(
        {
            "n_firms": [10, 1] * 9,
            "lq": 1.0,
            "lq_low": 0.5,
            "lq_high": 1.5,
            "spec_bin": 0,
            "gi_bin": 0,
            "lisa_quadrant": 0,
            "sentra_id": None,
        },
        index=index,
    )
    table.loc[("r1c1", "31"), ["n_firms", "spec_bin", "lisa_quadrant"]] = [30, 3, 1]
    table.loc[("r1c2", "31"), ["n_firms", "spec_bin", "lisa_quadrant"]] = [20, 2, 1]
    table.loc[("r0c0", "10"), "spec_bin"] = -1
    if with_sentra:
        table.loc[[("r1c1", "31"), ("r1c2", "31")], "sentra_id"] = "31-01"
    table["sentra_id"] = table["sentra_id"].astype(object)
    layer = gis.areas_layer(areas, table, ["10", "31"])
    hull = shapely.union_all(areas.geometry.loc[["r1c1", "r1c2"]].to_numpy())
    sentra = gpd.GeoDataFrame(
        {"sector": ["31"], "name": ["Mebel r1c1"], "n_firms": [50]},
        geometry=[hull],
        index=pd.Index(["31-01"], name="sentra_id"),
        crs=areas.crs,
    )
    if not with_sentra:
        sentra = sentra.iloc[:0]
    return layer, sentra


def _styles(path: Path) -> pd.DataFrame:
    """The ``layer_styles`` table, read through GDAL."""
    assert "layer_styles" in pyogrio.list_layers(path)[:, 0].tolist()
    return pyogrio.read_dataframe(path, layer="layer_styles")


def _titles(path: Path, layer: str) -> dict[str, tuple[str, str]]:
    """Each field's alternative name and comment as GDAL reads them (its Arrow schema
    carries OGR's field metadata)."""
    _, table = pyogrio.read_arrow(path, layer=layer)
    out = {}
    for field in table.schema:
        meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        if "GDAL:OGR:alternative_name" in meta:
            out[field.name] = (
                meta["GDAL:OGR:alternative_name"],
                meta.get("GDAL:OGR:comment", ""),
            )
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gis")
    layer, sentra = _world()
    gis.write_layers(folder, layer=layer, sentra=sentra, created=CREATED, lang="id")
    return folder


def test_the_areas_style_is_the_leading_sectors_specialisation(written: Path) -> None:
    styles = _styles(written / "areas.gpkg")
    assert styles["f_table_name"].tolist() == ["areas"]
    row = styles.iloc[0]
    assert bool(row["useAsDefault"]) and row["f_geometry_column"] == "geom"
    assert row["styleName"] == "Spesialisasi 31 Industri furnitur"
    qml = ET.fromstring(row["styleQML"].split("\n", 1)[1])  # after the DOCTYPE
    renderer = qml.find("renderer-v2")
    assert renderer is not None and renderer.get("type") == "categorizedSymbol"
    # sector 31 leads: the only sentra, although sector 10 has more firms
    assert renderer.get("attr") == "spec_bin_31"
    assert "spec_bin_31" in pyogrio.read_info(written / "areas.gpkg", layer="areas")["fields"]
    categories = renderer.findall("categories/category")
    values = [int(c.get("value", "")) for c in categories]
    assert sorted(values) == [-3, -2, -1, 0, 1, 2, 3]
    labels = messages.hot_spot_labels("id")
    assert {int(c.get("value", "")): c.get("label") for c in categories} == labels
    # each category's symbol has the map's colour; the layer's values are all among them
    symbols = {s.get("name"): s for s in renderer.findall("symbols/symbol")}
    for category in categories:
        code = int(category.get("value", ""))
        option = symbols[category.get("symbol")].find(".//Option[@name='color']")
        assert option is not None
        rgb = tuple(int(v) for v in option.get("value", "").split(",")[:3])
        colour = GISTAR_COLOURS.get(code, gis_style.NEUTRAL_FILL).lstrip("#")
        assert rgb == tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))
    layer = pyogrio.read_dataframe(written / "areas.gpkg", layer="areas")
    assert set(layer["spec_bin_31"]) <= set(values)
    assert layer.set_index("area_code").loc[["r1c1", "r1c2"], "spec_bin_31"].tolist() == [3, 2]
    # the SLD has the same classes
    sld = ET.fromstring(row["styleSLD"].split("\n", 1)[1])
    literals = [e.text for e in sld.iter("{http://www.opengis.net/ogc}Literal")]
    assert sorted(int(v) for v in literals if v is not None) == sorted(values)


def test_without_sentra_the_sector_with_the_most_firms_leads() -> None:
    layer, _ = _world(with_sentra=False)
    totals = {s: int(layer[f"n_firms_{s}"].sum()) for s in ("10", "31")}
    assert totals == {"10": 9 * 10, "31": 7 * 1 + 30 + 20}
    assert gis_style.leading_sector(layer) == "10"
    # without firm counts (a measure's layer): the most areas with a class other than 0
    counts = [c for c in layer.columns if str(c).startswith("n_firms_")]
    assert gis_style.leading_sector(layer.drop(columns=counts)) == "31"
    assert gis_style.leading_sector(layer.drop(columns=["spec_bin_10", "spec_bin_31"])) is None


def test_the_sentra_open_as_labelled_outlines(written: Path) -> None:
    row = _styles(written / "sentra.gpkg").iloc[0]
    assert row["f_table_name"] == "sentra" and bool(row["useAsDefault"])
    qml = ET.fromstring(row["styleQML"].split("\n", 1)[1])
    renderer = qml.find("renderer-v2")
    assert renderer is not None and renderer.get("attr") == "sector"
    categories = renderer.findall("categories/category")
    sectors = pyogrio.read_dataframe(written / "sentra.gpkg", layer="sentra")["sector"]
    assert [c.get("value") for c in categories] == sorted(set(sectors)) == ["31"]
    assert categories[0].get("label") == kbli.titled("31", lang="id")
    style = qml.find(".//Option[@name='style']")
    outline = qml.find(".//Option[@name='outline_color']")
    assert style is not None and style.get("value") == "no"  # no fill: an outline
    assert outline is not None and outline.get("value", "").startswith(
        ",".join(str(int(SENTRA_COLOUR[i : i + 2], 16)) for i in (1, 3, 5))
    )
    assert qml.get("labelsEnabled") == "1"
    text = qml.find("labeling/settings/text-style")
    assert text is not None and text.get("fieldName") == "name"


def test_every_field_has_a_title_in_the_runs_language(written: Path, tmp_path: Path) -> None:
    titles = _titles(written / "areas.gpkg", "areas")
    fields = ["area_code", *pyogrio.read_info(written / "areas.gpkg", layer="areas")["fields"]]
    assert set(fields) - {"area_code"} <= set(titles)
    assert titles["spec_bin_31"][0] == "Kelas spesialisasi - 31 Industri furnitur"
    assert titles["area_code"][0] == "Kode wilayah"
    # the class codes stay numbers; their meaning is the field's comment
    assert pyogrio.read_info(written / "areas.gpkg", layer="areas")["dtypes"][
        fields.index("spec_bin_31") - 1
    ].startswith("int")
    assert "3 = Titik panas 99 %" in titles["spec_bin_31"][1]
    assert "1 = Tinggi-Tinggi" in titles["lisa_31"][1]
    assert len({t for t, _ in titles.values()}) == len(titles)  # one title per field
    indonesian = " ".join(f"{t} {d}" for t, d in titles.values())
    assert not english(indonesian), english(indonesian)
    sentra = _titles(written / "sentra.gpkg", "sentra")
    assert sentra["name"][0] == "Nama" and sentra["sentra_id"][0] == "ID"
    # the same layers in English say it in English (the check can fail)
    layer, shapes = _world()
    gis.write_layers(tmp_path, layer=layer, sentra=shapes, created=CREATED, lang="en")
    titles = _titles(tmp_path / "areas.gpkg", "areas")
    assert titles["spec_bin_31"][0] == "Specialisation class - 31 Furniture"
    assert len(english(" ".join(f"{t} {d}" for t, d in titles.values()))) >= 3


def test_the_styles_and_titles_are_reproducible(tmp_path: Path) -> None:
    """Written twice with the run's time, the GeoPackages are the same bytes."""
    layer, sentra = _world()
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        gis.write_layers(tmp_path / name, layer=layer, sentra=sentra, created=CREATED, lang="id")
    for file in ("areas.gpkg", "sentra.gpkg"):
        assert (tmp_path / "one" / file).read_bytes() == (tmp_path / "two" / file).read_bytes()


@pytest.mark.slow
def test_villages_of_one_name_are_told_apart_by_their_parents(
    data_dir: Path, tmp_path: Path
) -> None:
    """Klaten (33.10) has two villages named Tegalrejo: the layer names their kecamatan,
    regency and province, as the boundaries' codes say (the code's prefixes)."""
    from klastergeo.app.pipeline.study import StudyArea
    from klastergeo.io import boundaries

    areas = boundaries.load_areas("desa", area="33.10", source=data_dir)
    study = StudyArea("admin", "desa", None, "33.10", data_dir, areas)
    parents = study.ancestors(areas)
    assert parents is not None and list(parents.columns) == list(gis_style.PARENT_LEVELS)
    table = pd.DataFrame(
        {"n_firms": 1, "spec_bin": 0, "gi_bin": 0, "lisa_quadrant": 0, "lq": 1.0},
        index=pd.MultiIndex.from_product([areas.index, ["31"]], names=["area_code", "sector"]),
    )
    layer = gis.areas_layer(areas, table, ["31"], parents=parents)
    assert list(layer.columns[:5]) == ["name", "kecamatan", "kabupaten", "provinsi", "n_firms"]
    gis.write_layers(
        tmp_path, layer=layer, sentra=gpd.GeoDataFrame(geometry=[], crs=4326), lang="id"
    )
    read = pyogrio.read_dataframe(tmp_path / "areas.gpkg", layer="areas").set_index("area_code")
    twins = read.loc[read["name"] == "Tegalrejo"]
    assert len(twins) == 2 and twins["kecamatan"].nunique() == 2
    for level, depth in (("kecamatan", 3), ("kabupaten", 2), ("provinsi", 1)):
        names = boundaries.load_names(level, source=data_dir)
        prefix = [".".join(str(c).split(".")[:depth]) for c in read.index]
        np.testing.assert_array_equal(read[level].to_numpy(), names.reindex(prefix).to_numpy())
    assert set(read["kabupaten"]) == {boundaries.load_names("kabupaten", source=data_dir)["33.10"]}
    titles = _titles(tmp_path / "areas.gpkg", "areas")
    assert [titles[c][0] for c in ("kecamatan", "kabupaten", "provinsi")] == [
        "Nama kecamatan",
        "Nama kabupaten/kota",
        "Nama provinsi",
    ]


def test_each_measure_layer_opens_styled(tmp_path: Path) -> None:
    """measures.gpkg: a style per measure layer, by its leading sector's classes (no
    sentra or firm counts there: the sector with the most areas in a class)."""
    areas = lattice(3, 3)
    index = pd.MultiIndex.from_product(
        [list(areas.index), ["10", "31"]], names=["area_code", "sector"]
    )
    table = pd.DataFrame(
        0, index=index, columns=["spec_bin", "gi_bin", "lisa_quadrant", "bv_quadrant"]
    )
    table = table.assign(
        value=1.0, coverage=1.0, lq=1.0, lq_low=0.5, lq_high=1.5, bv_i=0.0, bv_p=0.5, n_valued=1
    )
    workers = table.copy()
    workers.loc[[("r0c0", "31"), ("r0c1", "31")], "spec_bin"] = 2
    gis.write_measure_layers(
        tmp_path, areas=areas, measures={"firms": table, "workers": workers}, lang="id"
    )
    styles = _styles(tmp_path / "measures.gpkg").set_index("f_table_name")
    assert list(styles.index) == ["firms", "workers"]
    attrs = {
        name: ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2").get("attr")  # type: ignore[union-attr]
        for name, qml in styles["styleQML"].items()
    }
    assert attrs == {"firms": "spec_bin_10", "workers": "spec_bin_31"}  # firms: a tie, the first
    titles = _titles(tmp_path / "measures.gpkg", "workers")
    assert titles["bv_31"][0] == "Klaster LISA bivariat - 31 Industri furnitur"
