"""A griffe extension (mkdocs.yml): the docstrings as the API reference shows them.

- The docstrings that ``klastergeo._docstrings.fill`` completes at import are read as
  Python holds them: griffe reads the source, where such a docstring has a line ``{name}``
  in place of the shared piece (a parameter written once for several functions).
- Sphinx roles (``:func:`x```, ``:data:`~a.b```), which the docstrings use for ``help()``
  and numpydoc, are shown as code (``x``, ``b``).
- Parameters documented together (``x, y``) each get their own type and default from the
  signature (griffe gives them all the first one's).
"""

from __future__ import annotations

import inspect
import itertools
import re
from typing import Any

import griffe

#: A Sphinx cross-reference role: ``:func:`name```, ``:class:`~pkg.Name```.
ROLE = re.compile(r":(?:py:)?[a-z]+:`(~?)([^`<]+?)(?:\s*<[^>]+>)?`")


def _role_as_code(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def _plain_roles(obj: griffe.Object) -> None:
    if obj.docstring is not None:
        obj.docstring.value = ROLE.sub(_role_as_code, obj.docstring.value)


class FilledDocstrings(griffe.Extension):
    """Filled docstrings, roles as code and grouped parameters (see the module)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Show the roles of a module's, class's or attribute's docstring as code.

        Parameters
        ----------
        obj : griffe.Object
            The object griffe has just read.
        **kwargs : Any
            The node and the agent, unused.
        """
        if not obj.is_function:
            _plain_roles(obj)

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        """Take a filled function's runtime docstring; roles as code; grouped parameters.

        Parameters
        ----------
        func : griffe.Function
            The function griffe has just read from the source.
        **kwargs : Any
            The node and the agent, unused.
        """
        if func.docstring is None:
            return
        if any(str(d.value).split("(")[0].split(".")[-1] == "fill" for d in func.decorators):
            runtime = griffe.dynamic_import(func.path)
            func.docstring.value = inspect.cleandoc(runtime.__doc__ or "")
        _plain_roles(func)
        for section in func.docstring.parsed:
            if section.kind is not griffe.DocstringSectionKind.parameters:
                continue
            for before, item in itertools.pairwise(section.value):
                grouped = item.description == before.description
                if grouped and item.name in func.parameters:
                    signature = func.parameters[item.name]
                    item.annotation = signature.annotation
                    item.value = signature.default
