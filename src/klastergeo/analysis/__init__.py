"""The analysis layer: pure functions of arrays, tables and geometries.

Spatial weights, autocorrelation (Moran's I, Gi*, LISA), specialisation, sentra
delineation, concentration indices, co-location quotients, dynamics over surveys, point
patterns, cluster-probability regression and spatial regression, the Markusen typology,
the cluster diagnosis and scale; :mod:`klastergeo.analysis._engine` holds the compiled
kernels. Nothing here reads or writes files, speaks a language or draws: it imports only
the core modules at the top of the package.
"""

__all__ = ["compile_kernels"]


def compile_kernels() -> float:
    """Compile and cache every numba kernel by running it once on a tiny lattice
    (``klastergeo compile``; ``make`` runs it at install); returns the seconds it took."""
    from klastergeo.analysis._engine.compile import compile_kernels as compile_all

    return compile_all()
