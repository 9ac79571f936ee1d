"""An Indonesian run speaks Indonesian: the report, the start page and the map (its
visible text, legends, selectors, tooltips' labels and popups) contain none of a list of
English words, and the message catalogue has every text in both languages."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from klastergeo.app.cli import app
from klastergeo.errors import ConfigError
from klastergeo.publish import messages
from tests.worlds.lattice import custom_study

runner = CliRunner()

#: English words a reader of an Indonesian page must not meet (whole words, any case);
#: "lag" is not listed: "lag spasial" is the Indonesian statistical term.
ENGLISH = (
    "read", "kept", "rejected", "repaired", "reason", "term", "estimate", "actual",
    "predicted", "probability", "advance", "mature", "survival", "marshallian", "with",
    "traits", "hot", "cold", "spot", "firms", "areas", "sector", "significant", "stage",
    "type", "name", "value", "density", "specialisation", "weights", "permutations",
    "seed", "not", "the", "and", "of", "none", "found", "source", "created", "boundaries",
    "search", "statistic", "cluster", "clusters", "count", "all", "mean", "standardised",
    "spatial", "beyond", "interval", "threshold", "location", "quotient",
    "record", "records", "missing", "duplicate", "outside", "invalid", "heat", "map",
    "points", "layers", "open", "figures", "report", "table", "rule", "rules", "hub",
    "spoke", "satellite", "state", "anchored", "mixed", "available", "unknown", "yes",
    "no", "level", "fit", "error", "low", "high",
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z]+")


class _Visible(HTMLParser):
    """The text a reader sees: everything outside scripts and styles, plus titles and
    placeholders."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        for key, value in attrs:
            if key in ("title", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def _visible(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return " ".join(parser.parts)


def _english(text: str, allowed: set[str] = frozenset()) -> set[str]:
    """The listed English words in ``text`` (file names like ``candidates.csv``, column
    names like ``p_norm`` and command-line flags like ``--with-firms`` are not words)."""
    text = re.sub(r"\S+\.(csv|json|html|geojson|gpkg|parquet|xlsx)\b", " ", text)
    text = re.sub(r"--[a-z][a-z-]*", " ", text)
    words = {w.lower() for w in _WORD.findall(text)}
    return (words & set(ENGLISH)) - allowed


def _strings(value: object) -> list[str]:
    """Every string in a JSON value (the map's texts, labels and popups)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


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
        text = _visible((indonesian_run / page).read_text("utf-8"))
        assert not _english(text), (page, _english(text))
    page = (indonesian_run / "map.html").read_text("utf-8")
    assert not _english(_visible(page)), _english(_visible(page))
    start = page.index("klastergeo.sectorView(")
    data, _ = json.JSONDecoder().raw_decode(page, page.index("{", start))
    shown = [data["text"], data["labels"], data["notes"], data["sectorLabels"]]
    start = page.index("klastergeo.layers(")
    layers, _ = json.JSONDecoder().raw_decode(page, page.index("{", page.index(",", start)))
    shown.append(layers)
    words = _english(" ".join(s for v in shown for s in _strings(v)))
    assert not words, words


@pytest.mark.slow
def test_english_pages_stay_english(indonesian_run: Path, tmp_path: Path) -> None:
    """The check can fail: the same pages in English are full of the listed words."""
    from klastergeo.publish import report
    from klastergeo.publish.record import RunRecord

    summary = RunRecord.load(indonesian_run)
    sentra = pd.read_csv(indonesian_run / "sentra.csv", dtype={"sector": str})
    page = report.build_report(summary, sentra=sentra, global_stats=pd.DataFrame(), lang="en")
    assert len(_english(_visible(page))) >= 10


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
        words = _english(re.sub(r"\{[^}]*\}", " ", " ".join(texts["id"].values())))
        assert not words, (group, words)


def test_numbers_in_each_language() -> None:
    assert messages.number(1114, "id") == "1.114"
    assert messages.number(19164.25, "id", 1) == "19.164,2"
    assert messages.number(19164.25, "en", 1) == "19,164.2"
    assert messages.p_value(0.0, "id") == "< 0,001"
    assert messages.label("stage", "advance", "id") == "maju"
    with pytest.raises(ConfigError, match="lang='fr'"):
        messages.text("report", "fr")
