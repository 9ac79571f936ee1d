"""Publishing: what people see of a run - the web map (:mod:`.maps`), the static figures
(:mod:`.figures`), the report (:mod:`.report`) and the static site a run folder becomes
(:mod:`.site`: :func:`publish`, the landing page, the embed snippet), with the vendored
web assets and the page templates. They read a run through its record
(:class:`.record.RunRecord`, the typed ``summary.json``).

Analysis modules never import this package (a test checks the direction).
"""

from __future__ import annotations

from klastergeo.publish import site
from klastergeo.publish.site import *  # noqa: F403 - the site's public names

__all__ = list(site.__all__)
