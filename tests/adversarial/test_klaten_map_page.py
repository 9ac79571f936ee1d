"""The map page of an Indonesian run had no window title (a browser tab read
``map.html``) and no language (``<html>``): it now says both, its title escaped."""

from __future__ import annotations

import re
from pathlib import Path

from klastergeo.publish import maps


def test_the_map_page_has_a_title_and_a_language(map_world: tuple, tmp_path: Path) -> None:
    areas, table, found, _ = map_world
    style = maps.MapStyle(lang="id", tiles="none", place="Kabupaten <b>Klaten</b>", period="2024")
    fmap = maps.build_map(maps.MapInput(areas, table, found), style)
    page = maps.save_map(fmap, tmp_path / "map.html").read_text(encoding="utf-8")
    assert re.search(r"<html lang=\"id\">", page)
    titles = re.findall(r"<title>(.*?)</title>", page)
    assert len(titles) == 1, titles
    assert "Kabupaten &lt;b&gt;Klaten&lt;/b&gt;" in titles[0] and "2024" in titles[0]
    english = maps.build_map(
        maps.MapInput(areas, table, found), maps.MapStyle(lang="en", tiles="none")
    )
    assert '<html lang="en">' in maps.save_map(english, tmp_path / "en.html").read_text("utf-8")
