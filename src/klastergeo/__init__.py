"""klastergeo: from a registry of georeferenced enterprises to a published map of sentra.

The pipeline's concepts each have a module: :mod:`~klastergeo.records` (read and validate
enterprise records), :mod:`~klastergeo.boundaries` (administrative areas),
:mod:`~klastergeo.aggregate` (firms per area, H3 grids),
:mod:`~klastergeo.weights` (spatial weights), :mod:`~klastergeo.autocorrelation` (Moran's I,
LISA, Gi*), :mod:`~klastergeo.scale` (automatic distance band),
:mod:`~klastergeo.concentration` (LQ, Hoover, locational Gini, Ellison-Glaeser),
:mod:`~klastergeo.sentra` (delineation), :mod:`~klastergeo.typology` (Markusen types),
:mod:`~klastergeo.diagnosis` (Porter's diamond, stage), :mod:`~klastergeo.pointpattern`
(Ripley's K/L, Clark-Evans), :mod:`~klastergeo.models` (cluster probability),
:mod:`~klastergeo.publish` (web map, figures, report, site) and
:mod:`~klastergeo.pipeline` (the whole run; from Python: :func:`klastergeo.run`).
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING

from klastergeo import _errors
from klastergeo._errors import *  # noqa: F403 - the error classes are public

if TYPE_CHECKING:
    from klastergeo._spatial import to_metric, utm_crs
    from klastergeo.api import run, run_counts

__all__ = [*_errors.__all__, "__version__", "run", "run_counts", "to_metric", "utm_crs"]

#: Public helpers imported on first use (``import klastergeo`` stays light).
_LAZY = {
    "run": "klastergeo.api",
    "run_counts": "klastergeo.api",
    "utm_crs": "klastergeo._spatial",
    "to_metric": "klastergeo._spatial",
}


def __getattr__(name: str) -> object:
    """``klastergeo.run`` (the whole pipeline, :func:`klastergeo.api.run`),
    ``klastergeo.utm_crs`` (the UTM zone of a frame) and ``klastergeo.to_metric``."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'klastergeo' has no attribute {name!r}")
