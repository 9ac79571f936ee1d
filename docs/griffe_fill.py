"""A griffe extension (mkdocs.yml): the docstrings that ``klastergeo._docstrings.fill``
completes at import are read as Python holds them, with their shared pieces filled in.

griffe reads the source, where such a docstring has a line ``{name}`` in place of the
shared piece (a parameter written once for several functions); the API reference shows
the docstring as ``help()`` does.
"""

from __future__ import annotations

import inspect
from typing import Any

import griffe


class FilledDocstrings(griffe.Extension):
    """Replace a ``@fill(...)``-decorated function's docstring by its runtime one."""

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        """Take the runtime docstring of a function decorated with ``fill``.

        Parameters
        ----------
        func : griffe.Function
            The function griffe has just read from the source.
        **kwargs : Any
            The node and the agent, unused.
        """
        if func.docstring is None or not any(
            str(d.value).split("(")[0].split(".")[-1] == "fill" for d in func.decorators
        ):
            return
        runtime = griffe.dynamic_import(func.path)
        func.docstring.value = inspect.cleandoc(runtime.__doc__ or "")
