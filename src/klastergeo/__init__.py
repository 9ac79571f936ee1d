"""klastergeo: from a registry of georeferenced enterprises to a published map of sentra.

The pipeline's concepts each have a module: :mod:`~klastergeo.records` (read and validate
enterprise records), :mod:`~klastergeo.boundaries` (administrative areas),
:mod:`~klastergeo.aggregate` (firms per area, location quotients, H3 grids),
:mod:`~klastergeo.weights` (spatial weights), :mod:`~klastergeo.autocorrelation` (Moran's I,
LISA, Gi*), :mod:`~klastergeo.scale` (automatic distance band),
:mod:`~klastergeo.concentration` (LQ, Hoover, locational Gini, Ellison-Glaeser),
:mod:`~klastergeo.sentra` (delineation), :mod:`~klastergeo.typology` (Markusen types),
:mod:`~klastergeo.diagnosis` (Porter's diamond, stage), :mod:`~klastergeo.pointpattern`
(Ripley's K/L, Clark-Evans), :mod:`~klastergeo.models` (cluster probability),
:mod:`~klastergeo.maps` (web map) and :mod:`~klastergeo.pipeline` (the whole run).
"""

from __future__ import annotations

__version__ = "0.1.0"

from klastergeo._errors import (
    BoundaryError,
    ConfigError,
    DownloadError,
    KlastergeoError,
    ModelError,
    OutputError,
    StatisticsError,
    ValidationError,
)

__all__ = [
    "BoundaryError",
    "ConfigError",
    "DownloadError",
    "KlastergeoError",
    "ModelError",
    "OutputError",
    "StatisticsError",
    "ValidationError",
    "__version__",
]
