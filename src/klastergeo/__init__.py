"""klastergeo: from a registry of georeferenced enterprises to a published map of sentra.

The package is four layers, each a folder, above a few core modules (errors, options, area
codes, KBLI, column names); a layer imports only those below it:

- :mod:`klastergeo.analysis`: the statistics, pure functions of arrays and tables (spatial
  weights, Moran's I / Gi* / LISA, specialisation, sentra, concentration, co-location,
  dynamics, point patterns, regression, typology, diagnosis, scale).
- :mod:`klastergeo.io`: reading registries and boundaries, atomic output files.
- :mod:`klastergeo.publish`: the web map, figures, report, site, workbook and GIS layers.
- :mod:`klastergeo.app`: the pipeline of steps, configuration, command line and Python API
  (:func:`klastergeo.run`).
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING

from klastergeo import errors as _errors
from klastergeo.errors import *  # noqa: F403 - the error classes are public

if TYPE_CHECKING:
    from klastergeo.analysis.geometry import to_metric, utm_crs
    from klastergeo.app.api import run, run_counts

__all__ = [*_errors.__all__, "__version__", "run", "run_counts", "to_metric", "utm_crs"]

#: Public helpers imported on first use (``import klastergeo`` stays light).
_LAZY = {
    "run": "klastergeo.app.api",
    "run_counts": "klastergeo.app.api",
    "utm_crs": "klastergeo.analysis.geometry",
    "to_metric": "klastergeo.analysis.geometry",
}


def __getattr__(name: str) -> object:
    """``klastergeo.run`` (the whole pipeline, :func:`klastergeo.app.api.run`),
    ``klastergeo.utm_crs`` (the UTM zone of a frame) and ``klastergeo.to_metric``."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'klastergeo' has no attribute {name!r}")
