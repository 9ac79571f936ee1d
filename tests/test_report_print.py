"""The printed report of an Indonesian run (Chromium with print media emulated): the static
map of the sentra is printed (the interactive map is not), the documentation is linked by
its address (pages that exist under docs/), and the date reads as Indonesian writes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.worlds import twin_villages as world
from tests.worlds.browser import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]

#: The documentation's address, as mkdocs.yml's site_url has it.
SITE = "https://klastergeo.github.io/klastergeo/"
DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The world's run in Indonesian, made on 6 December 2026 (``--timestamp``)."""
    from typer.testing import CliRunner

    from klastergeo.app.cli import app

    folder = tmp_path_factory.mktemp("report")
    villages = world.write_boundaries(folder / "boundaries")
    world.registry(villages).to_csv(folder / "firms.csv", index=False)
    target = folder / "out"
    args = ["run", "--records", str(folder / "firms.csv"), "--boundaries"]
    args += [str(folder / "boundaries"), "--area", "99.01", "--level", "desa"]
    args += ["--out", str(target), "--permutations", "0", "--tiles", "none", "--lang", "id"]
    args += ["--timestamp", "2026-12-06T23:10:00+00:00"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return target


def test_the_printed_report_has_the_sentra_map_docs_links_and_an_indonesian_date(
    browser, out: Path
) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.emulate_media(media="print")
        page.goto((out / "report.html").as_uri(), wait_until="load")
        image = page.locator('figure.sentra-map img[src="figures/sentra.png"]')
        shown = image.is_visible()
        width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
        interactive = page.locator("iframe").is_visible()
        links = page.locator("a.docs").evaluate_all("as => as.map(a => a.href)")
        meta = page.locator("p.meta").first.inner_text()
        heading = page.locator("h1").inner_text()
        text = page.locator("body").inner_text()
    finally:
        page.close()
    assert errors == []
    assert (out / "figures" / "sentra.png").stat().st_size > 10_000
    assert shown and width > 500  # printed, and loaded whole
    assert not interactive  # the interactive map stays on screen
    assert len(links) == 3 and all(link.startswith(SITE) for link in links)
    for link in links:  # each a page of docs/ (mkdocs: method/sentra.md -> method/sentra/)
        assert (DOCS / (link[len(SITE) :].rstrip("/") + ".md")).is_file(), link
    assert "README" not in text
    assert "6 Desember 2026" in meta
    assert heading.startswith(f"Laporan klaster industri {world.REGENCY}")  # the study area
    assert "2026-12-06" not in text


def test_the_report_tables_stay_inside_the_page_on_screen(browser, out: Path) -> None:
    """Long texts (reasons, notes) wrap on screen as in print: no table runs past the
    page's text column."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.goto((out / "report.html").as_uri(), wait_until="load")
        over = page.evaluate(
            """() => {
              const body = document.body.getBoundingClientRect();
              return [...document.querySelectorAll('table')]
                .filter(t => t.getBoundingClientRect().right > body.right + 1)
                .map(t => t.innerText.slice(0, 80));
            }"""
        )
        tables = page.locator("table").count()
    finally:
        page.close()
    assert tables >= 3
    assert over == []
