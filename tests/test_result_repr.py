"""A run's result in Python: ``sentra_id`` a column as in every file, a short ``repr``
naming what was found, and a notebook view (``_repr_html_``) in the run's language with
its headline numbers and links to its pages, every name escaped."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pandas as pd
import pytest

import klastergeo
from klastergeo.publish import messages
from tests.worlds.lattice import custom_study

_QUICK = {
    "analysis.permutations": 0,
    "pointpattern.enabled": False,
    "report.figures": "none",
    "map.tiles": "none",
    "area.id_col": "kode",
    "area.name_col": "nama",
}
#: A village name carrying markup: a page that shows it unescaped would render bold.
_MARKED = "<b>Tegal</b>&rejo"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory):
    """A 6 x 6 lattice whose sentra villages are named with markup (Indonesian run)."""
    folder = tmp_path_factory.mktemp("repr")
    names = [f"Desa {i}" for i in range(36)]
    names[14] = names[15] = _MARKED  # r2c2 and r2c3: the planted sentra
    registry = custom_study(
        folder,
        (6, 6),
        {"r2c2": 45, "r2c3": 30},
        background={"10": 6, "31": 1},
        names=names,
        seed=2,
    )
    return klastergeo.run(
        registry, boundaries=folder / "desa.gpkg", out=folder / "out", options=_QUICK
    )


def test_sentra_id_is_a_column_as_in_sentra_csv(result) -> None:
    assert "sentra_id" in result.sentra.columns
    assert result.sentra["sentra_id"].tolist() == ["31-01"]
    assert result.sentra.index.tolist() == [0]
    written = pd.read_csv(result.out / "sentra.csv", dtype={"sentra_id": str, "sector": str})
    assert written["sentra_id"].tolist() == result.sentra["sentra_id"].tolist()
    assert written["n_firms"].tolist() == result.sentra["n_firms"].tolist()


def test_repr_is_short_and_names_the_counts(result) -> None:
    text = repr(result)
    assert len(text) < 500, len(text)
    records = result.record.records
    assert f"{records.kept:,} of {records.read:,} firms kept" in text
    assert f"{len(result.areas):,} areas" in text
    assert f"{len(result.record.sectors.analysed)} sectors" in text
    assert "1 sentra" in text
    assert str(result.out) in text
    assert repr(result) == str(result)


def test_notebook_view_escapes_names_and_links_the_pages(result) -> None:
    page = result._repr_html_()
    assert "sentra terbesar" in page  # the run's language (Indonesian, the default)
    name = result.sentra.loc[0, "name"]
    assert _MARKED in name  # the sentra is named after its villages
    assert "<b>" not in page and html.escape(name) in page
    links = re.findall(r"href='([^']+)'", page)
    for page_name in ("map.html", "report.html", "index.html"):
        target = (result.out / page_name).resolve().as_uri()
        assert target in links, (page_name, links)
        assert Path(result.out / page_name).is_file()
    records = result.record.records
    for count in (records.read, records.kept, len(result.areas)):
        assert f"<td>{messages.number(count, 'id')}</td>" in page
    assert "31-01" in page


def test_notebook_view_in_english_for_an_english_run(result) -> None:
    config = dataclasses.replace(result.record.config, map_lang="en")
    english = dataclasses.replace(result, record=result.record.replace(config=config))
    page = english._repr_html_()
    assert "largest sentra" in page and "sentra terbesar" not in page
    assert "<b>" not in page
