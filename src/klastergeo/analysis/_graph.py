"""Spatial weights as the functions take them: a libpysal ``Graph``, or the older ``W``
(what PySAL users hold), converted on the way in."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from libpysal.graph import Graph

from klastergeo.errors import ConfigError

__all__ = ["accepts_w", "as_graph"]

P = ParamSpec("P")
T = TypeVar("T")


def as_graph(weights: Any) -> Graph:
    """``weights`` as a libpysal ``Graph``: a Graph as it is, a ``W`` converted with
    ``Graph.from_W`` (ids, neighbours, weights and transformation kept).

    Parameters
    ----------
    weights
        A ``libpysal.graph.Graph`` or a ``libpysal.weights.W``.

    Raises
    ------
    ConfigError
        For anything else, naming its type.
    """
    if isinstance(weights, Graph):
        return weights
    from libpysal.weights import W

    if isinstance(weights, W):
        return Graph.from_W(weights)
    raise ConfigError(
        f"spatial weights must be a libpysal Graph or W, not {type(weights).__name__}"
    )


def accepts_w(function: Callable[P, T]) -> Callable[P, T]:
    """Let ``function``'s ``graph`` argument be a ``W`` too (:func:`as_graph`)."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        bound = signature.bind(*args, **kwargs)
        if "graph" in bound.arguments:
            bound.arguments["graph"] = as_graph(bound.arguments["graph"])
        return function(*bound.args, **bound.kwargs)

    return wrapper
