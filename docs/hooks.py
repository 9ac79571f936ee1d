"""mkdocs hooks (``hooks:`` in mkdocs.yml): the parts of the docs written at build time.

Nothing generated is checked in, so nothing can drift:

- ``options.md`` holds the marker ``<!-- options -->``, replaced by the option reference
  of the configuration itself (``klastergeo.app.config.reference()``), with each section
  a heading of the page's table of contents;
- ``benchmarks.md`` holds the marker ``<!-- benchmarks -->``, replaced by
  ``benchmarks/README.md`` (whose own title the page already has).

A marker missing from its page is an error, so the page cannot silently lose its table.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OPTIONS_MARKER = "<!-- options -->"
BENCHMARKS_MARKER = "<!-- benchmarks -->"


def option_reference() -> str:
    """The option reference as the docs show it: ``reference()`` with each section's
    heading raised from ``####`` to ``##`` (one entry per section in the page's contents)
    and ``<`` outside code written as ``&lt;``.

    Returns
    -------
    str
        Markdown: per section a heading and a table of key, default, flag and meaning.
    """
    from klastergeo.app.config import reference

    text = re.sub(r"^#### ", "## ", reference(), flags=re.MULTILINE)
    return "\n".join(_escape_tags(line) for line in text.split("\n"))


def _escape_tags(line: str) -> str:
    """``<`` outside code spans as ``&lt;``: help texts such as ``periods/<period>/`` would
    otherwise be read as HTML tags and vanish from the page."""
    parts = line.split("`")
    return "`".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(parts))


def benchmarks() -> str:
    """``benchmarks/README.md`` without its title line.

    Returns
    -------
    str
        Markdown of the benchmarks' protocols and tables.
    """
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    return rest if first.startswith("# ") else text


def fill(markdown: str, source: str) -> str:
    """The page's markdown with its generated part filled in.

    Parameters
    ----------
    markdown : str
        The page as written in ``docs/``.
    source : str
        Its path inside ``docs/`` (``options.md``, ``benchmarks.md``, ...).

    Returns
    -------
    str
        The markdown mkdocs renders; other pages come back unchanged.
    """
    generated = {
        "options.md": (OPTIONS_MARKER, option_reference),
        "benchmarks.md": (BENCHMARKS_MARKER, benchmarks),
    }
    if source not in generated:
        return markdown
    marker, make = generated[source]
    if marker not in markdown:
        raise ValueError(f"docs/{source} has lost its marker {marker}")
    return markdown.replace(marker, make())


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """mkdocs' hook: fill in the generated part of a page.

    Parameters
    ----------
    markdown : str
        The page's markdown.
    page : mkdocs.structure.pages.Page
        The page (its ``file.src_uri`` says which).
    **kwargs : Any
        ``config`` and ``files``, unused.

    Returns
    -------
    str
        The markdown to render.
    """
    return fill(markdown, page.file.src_uri)
