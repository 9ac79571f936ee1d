"""Publishing: what people see of a run - the web map (:mod:`.maps`), the static figures
(:mod:`.figures`), the report (:mod:`.report`) and the static site a run folder becomes
(:mod:`.site`: :func:`publish`, the landing page, the embed snippet), with the vendored
web assets and the page templates.

Analysis modules never import this package (a test checks the direction).
"""

from __future__ import annotations

from klastergeo.publish.site import (
    DOWNLOADS,
    FIRM_DECIMALS,
    embed_snippet,
    index_page,
    public_summary,
    publish,
)

__all__ = [
    "DOWNLOADS",
    "FIRM_DECIMALS",
    "embed_snippet",
    "index_page",
    "public_summary",
    "publish",
]
