"""An Indonesian run speaks Indonesian: the report, the start page and the map (its
visible text, legends, selectors, tooltips' labels and popups) contain none of a list of
English words, and the message catalogue has every text in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.errors import ConfigError
from klastergeo.publish import messages
from tests.worlds.language import english, strings, visible
from tests.worlds.lattice import custom_study

runner = CliRunner()


@pytest.fixture(scope="module")
def indonesian_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Indonesian run (the default) with a sentra, rejected rows, models, figures
    and the firms on the map."""
    folder = tmp_path_factory.mktemp("bahasa")
    registry = custom_study(
        folder, (6, 6), {"r2c2": 45, "r2c3": 30}, background={"10": 6, "31": 1}, seed=3
    )
    registry["nama"] = [f"UD {i}" for i in range(len(registry))]
    bad = registry.iloc[:2].assign(lat="bukan angka")
    registry = pd.concat([registry, bad], ignore_index=True)  # two rejected rows
    registry.to_csv(folder / "usaha.csv", index=False)
    (folder / "uji.toml").write_text(
        '[area]\nboundaries = "desa.gpkg"\nid_col = "kode"\n'
        "[analysis]\npermutations = 99\n[pointpattern]\nenabled = false\n"
        '[map]\ntiles = "none"\n',
        encoding="utf-8",
    )
    out = folder / "keluaran"
    result = runner.invoke(
        app,
        ["run", "--config", str(folder / "uji.toml"), "--records", str(folder / "usaha.csv"),
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_indonesian_pages_have_no_english_words(indonesian_run: Path) -> None:
    for page in ("report.html", "index.html"):
        text = visible((indonesian_run / page).read_text("utf-8"))
        assert not english(text), (page, english(text))
    page = (indonesian_run / "map.html").read_text("utf-8")
    assert not english(visible(page)), english(visible(page))
    start = page.index("klastergeo.sectorView(")
    data, _ = json.JSONDecoder().raw_decode(page, page.index("{", start))
    shown = [data["text"], data["labels"], data["notes"], data["sectorLabels"]]
    start = page.index("klastergeo.layers(")
    layers, _ = json.JSONDecoder().raw_decode(page, page.index("{", page.index(",", start)))
    shown.append(layers)
    words = english(" ".join(s for v in shown for s in strings(v)))
    assert not words, words


@pytest.mark.slow
def test_english_pages_stay_english(indonesian_run: Path, tmp_path: Path) -> None:
    """The check can fail: the same pages in English are full of the listed words."""
    from klastergeo.publish import report
    from klastergeo.publish.record import RunRecord

    summary = RunRecord.load(indonesian_run)
    sentra = pd.read_csv(indonesian_run / "sentra.csv", dtype={"sector": str})
    page = report.build_report(summary, sentra=sentra, global_stats=pd.DataFrame(), lang="en")
    assert len(english(visible(page))) >= 10


def test_the_catalogue_has_every_text_in_both_languages() -> None:
    for group, by_lang in messages.MESSAGES.items():
        assert set(by_lang) == set(messages.LANGS), group
        assert set(by_lang["id"]) == set(by_lang["en"]), group
        # placeholders agree, so a translation cannot lose a number
        for key, text in by_lang["id"].items():
            fields = set(re.findall(r"\{(\w+)", text))
            assert fields == set(re.findall(r"\{(\w+)", by_lang["en"][key])), (group, key)


def test_indonesian_catalogue_has_no_english_words() -> None:
    """Figure titles, legends, radar charts, typology and stage labels are all drawn
    from the catalogue; its Indonesian side has none of the listed words (brand and
    method names such as Moran, LISA, Gi*, KBLI, logit are not on the list)."""
    for group, texts in messages.MESSAGES.items():
        words = english(re.sub(r"\{[^}]*\}", " ", " ".join(texts["id"].values())))
        assert not words, (group, words)


def test_numbers_in_each_language() -> None:
    assert messages.number(1114, "id") == "1.114"
    assert messages.number(19164.25, "id", 1) == "19.164,2"
    assert messages.number(19164.25, "en", 1) == "19,164.2"
    assert messages.p_value(0.0, "id") == "< 0,001"
    assert messages.label("stage", "advance", "id") == "maju"
    with pytest.raises(ConfigError, match="lang='fr'"):
        messages.text("report", "fr")


@pytest.mark.slow
def test_each_class_code_has_one_label_across_the_outputs(indonesian_run: Path) -> None:
    """A class code (``spec_bin`` 3, a LISA quadrant...) reads the same on the map, in
    the GeoPackage's style and field descriptions and in the workbook's legend: the
    map's wording of the neighbourhood's hot spot, not "specialised" (an area without
    firms of the sector can lie in one)."""
    import sqlite3
    import xml.etree.ElementTree as ET

    import openpyxl

    page = (indonesian_run / "map.html").read_text("utf-8")
    start = page.index("klastergeo.sectorView(")
    data, _ = json.JSONDecoder().raw_decode(page, page.index("{", start))
    on_map = {
        "spec_bin": dict(zip(range(-3, 4), data["labels"]["spec"], strict=True)),
        "gi_bin": dict(zip(range(-3, 4), data["labels"]["gi"], strict=True)),
        "lisa_quadrant": dict(enumerate(data["labels"]["lisa"])),
    }
    assert on_map["spec_bin"][3] == "Titik panas 99 %"
    with sqlite3.connect(indonesian_run / "areas.gpkg") as db:
        described = dict(
            db.execute("SELECT column_name, description FROM gpkg_data_columns").fetchall()
        )
        qml = db.execute("SELECT styleQML FROM layer_styles").fetchone()[0]
    in_gpkg: dict[str, dict[int, str]] = {}
    for column, prefix in (("spec_bin", "spec_bin"), ("gi_bin", "gi_bin"), ("lisa", "lisa")):
        text = described[f"{prefix}_31"]
        pairs = (part.split(" = ", 1) for part in text.split("; "))
        in_gpkg["lisa_quadrant" if column == "lisa" else column] = {
            int(code): label for code, label in pairs
        }
    categories = {int(c.get("value")): c.get("label") for c in ET.fromstring(qml).iter("category")}
    book = openpyxl.load_workbook(indonesian_run / "results.xlsx")
    legend = list(book.worksheets[-1].iter_rows(values_only=True))
    titles = messages.text("columns", "id")
    explained = set()
    for column, labels in on_map.items():
        assert in_gpkg[column] == labels, column
        assert labels == messages.class_labels(column, "id")
        shown = {int(r[2]): r[3] for r in legend if r[1] == titles[column] and r[2] is not None
                 and str(r[2]).lstrip("-").isdigit()}  # fmt: skip
        if shown:  # the legend explains the class columns its sheets show
            assert shown == labels, column
            explained.add(column)
    assert categories == on_map["spec_bin"]
    assert "spec_bin" in explained
